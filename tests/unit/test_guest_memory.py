"""GuestMemory: every boundary of the bounds and alignment checks, and nothing written on a trap."""
import pytest

from vwasm.errors import Trap
from vwasm.memory import GuestMemory
from vwasm.model.wasi import FDSTAT, FILESTAT, IOVEC, Errno, WasiError

SIZE = 65536


@pytest.fixture
def mem():
    return GuestMemory.over(bytearray(SIZE))


def test_access_ending_exactly_at_the_end_works(mem):
    mem.write(SIZE - 4, b"abcd")
    assert mem.read(SIZE - 4, 4) == b"abcd"


def test_access_one_past_the_end_traps(mem):
    with pytest.raises(Trap):
        mem.read(SIZE - 3, 4)
    with pytest.raises(Trap):
        mem.write(SIZE, b"x")


def test_empty_access_at_the_end_is_in_bounds(mem):
    assert mem.read(SIZE, 0) == b""


def test_wrapping_pointer_plus_length_traps(mem):
    # ptr + len wraps 2^32 to a small number in 32-bit arithmetic: must still trap
    with pytest.raises(Trap):
        mem.read(0xFFFF_FFF0, 0x20)
    with pytest.raises(Trap):
        mem.slice(1, 0xFFFF_FFFF)


def test_misaligned_record_pointer_traps(mem):
    with pytest.raises(Trap, match="misaligned"):
        mem.store(FDSTAT, 4, 0, 0, 0, 0)
    with pytest.raises(Trap, match="misaligned"):
        mem.put_u32(2, 1)


def test_nothing_written_when_a_record_is_out_of_bounds(mem):
    mem.view[:] = b"\xAA" * SIZE
    with pytest.raises(Trap):
        mem.store(FILESTAT, SIZE - 56, *[1] * 8)  # 64-byte record, 56 bytes left
    assert bytes(mem.view) == b"\xAA" * SIZE


def test_iovecs_validate_every_buffer_before_returning_any(mem):
    IOVEC.codec.pack_into(mem.view, 0, 100, 10)
    IOVEC.codec.pack_into(mem.view, 8, SIZE - 5, 10)  # second buffer runs off the end
    with pytest.raises(Trap, match="iovec 1"):
        mem.iovecs(0, 2)


def test_iovec_array_itself_out_of_bounds_traps(mem):
    with pytest.raises(Trap):
        mem.iovecs(SIZE - 8, 2)


def test_iovecs_are_zero_copy_views(mem):
    IOVEC.codec.pack_into(mem.view, 0, 100, 3)
    (buf,) = mem.iovecs(0, 1)
    buf[:] = b"xyz"
    assert mem.read(100, 3) == b"xyz"


def test_strings_write_nothing_if_the_buffer_does_not_fit(mem):
    with pytest.raises(Trap):
        mem.strings([b"hello", b"world"], 0, SIZE - 5)
    assert bytes(mem.view[0:8]) == bytes(8)


def test_strings_layout_matches_argv(mem):
    mem.strings([b"ab", b"c"], 0, 100)
    assert mem.u32(0) == 100 and mem.u32(4) == 103
    assert mem.read(100, 5) == b"ab\0c\0"


def test_invalid_utf8_path_is_eilseq(mem):
    mem.write(0, b"\xff\xfe")
    with pytest.raises(WasiError) as e:
        mem.path(0, 2)
    assert e.value.errno == Errno.ILSEQ
