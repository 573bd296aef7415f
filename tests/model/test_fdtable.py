"""Descriptor table: numbering, renumber, rights that only shrink."""
import pytest

from vwasm.model import fdtable
from vwasm.model.fdtable import Descriptor, FdTable, descriptor_wf, kind_rights, narrow, require_rights
from vwasm.model.wasi import (
    FD_LIMIT, FILE_RIGHTS, STDIN_RIGHTS, STDOUT_RIGHTS, Errno, Filetype, Rights, WasiError,
)


def fdesc(node=1, base=FILE_RIGHTS):
    return Descriptor(Filetype.REGULAR_FILE, base, 0, FILE_RIGHTS, node=node)


def errno_of(fn, *args):
    with pytest.raises(WasiError) as e:
        fn(*args)
    return e.value.errno


def test_lowest_free_number():
    t = FdTable()
    t, a = t.insert(fdesc(1))
    t, b = t.insert(fdesc(2))
    t, c = t.insert(fdesc(3))
    assert (a, b, c) == (0, 1, 2)
    t = t.close(1)
    t, d = t.insert(fdesc(4))
    assert d == 1 and t.wf()


def test_invalid_close_unknown():
    assert errno_of(FdTable().close, 0) == Errno.BADF


def test_invalid_table_full():
    assert FD_LIMIT == 1024 and fdtable.FD_LIMIT is FD_LIMIT  # one constant, in model/wasi.py
    t = FdTable(tuple((i, fdesc(i + 1)) for i in range(FD_LIMIT - 1)))
    t, fd = t.insert(fdesc())
    assert fd == FD_LIMIT - 1 and t.wf()
    assert errno_of(t.insert, fdesc()) == Errno.MFILE


def test_renumber_moves_and_replaces():
    t = FdTable(((0, fdesc(1)), (1, fdesc(2))))
    t2 = t.renumber(0, 1)
    assert t2.fds() == (1,) and t2.get(1).node == 1
    t3 = t.renumber(1, 0)
    assert t3.fds() == (0,) and t3.get(0).node == 2


def test_renumber_to_itself_is_noop():
    t = FdTable(((0, fdesc(1)),))
    assert t.renumber(0, 0) == t


def test_invalid_renumber_from_closed():
    t = FdTable(((0, fdesc(1)),))
    assert errno_of(t.renumber, 5, 0) == Errno.BADF
    assert errno_of(t.renumber, 5, 5) == Errno.BADF


def test_invalid_renumber_to_closed():
    """As wasmtime's p1.rs: the target must be open too."""
    t = FdTable(((0, fdesc(1)),))
    assert errno_of(t.renumber, 0, 7) == Errno.BADF
    assert errno_of(t.renumber, 0, 1 << 40) == Errno.BADF


def test_stream_rights_by_direction():
    stdin = Descriptor(Filetype.UNKNOWN, STDIN_RIGHTS, STDIN_RIGHTS, STDIN_RIGHTS, stream="stdin")
    stdout = Descriptor(Filetype.CHARACTER_DEVICE, STDOUT_RIGHTS, STDOUT_RIGHTS, STDOUT_RIGHTS, stream="stdout")
    assert kind_rights(stdin) == STDIN_RIGHTS and kind_rights(stdout) == STDOUT_RIGHTS
    assert descriptor_wf(stdin) and descriptor_wf(stdout)
    # A stdin that could write, or a stream with FD_FDSTAT_SET_FLAGS, is not well formed.
    assert not descriptor_wf(Descriptor(Filetype.UNKNOWN, STDIN_RIGHTS | Rights.FD_WRITE, 0,
                                        STDIN_RIGHTS | Rights.FD_WRITE, stream="stdin"))
    flags = STDOUT_RIGHTS | Rights.FD_FDSTAT_SET_FLAGS
    assert not descriptor_wf(Descriptor(Filetype.UNKNOWN, flags, 0, flags, stream="stderr"))


def test_only_files_are_writable():
    d = Descriptor(Filetype.DIRECTORY, 0, 0, 0, node=1, writable=True)
    assert not descriptor_wf(d) and descriptor_wf(fdesc()) and descriptor_wf(
        Descriptor(Filetype.REGULAR_FILE, 0, 0, 0, node=1, writable=True))


def test_set_rights_only_drops():
    t = FdTable(((0, fdesc(base=Rights.FD_READ | Rights.FD_WRITE)),))
    t2 = t.set_rights(0, Rights.FD_READ, 0)
    assert t2.get(0).rights_base == Rights.FD_READ
    assert errno_of(t2.set_rights, 0, Rights.FD_READ | Rights.FD_WRITE, 0) == Errno.NOTCAPABLE


def test_invalid_missing_right():
    d = fdesc(base=Rights.FD_READ)
    require_rights(d, Rights.FD_READ)
    assert errno_of(require_rights, d, Rights.FD_WRITE) == Errno.NOTCAPABLE


def test_narrow_and_wf():
    assert narrow(Rights.FD_READ | Rights.PATH_OPEN, Rights.FD_READ, FILE_RIGHTS) == Rights.FD_READ
    grown = Descriptor(Filetype.REGULAR_FILE, Rights.FD_READ | Rights.FD_WRITE, 0, Rights.FD_READ, node=1)
    assert not FdTable(((0, grown),)).wf()


def test_the_limit_is_the_tables_own():
    t = FdTable((), limit=2)
    t, a = t.insert(fdesc(1))
    t, b = t.insert(fdesc(2))
    assert (a, b) == (0, 1) and t.full() and t.wf()
    assert errno_of(t.insert, fdesc(3)) == Errno.MFILE
    assert t.close(0).limit == 2 and t.renumber(0, 1).limit == 2
