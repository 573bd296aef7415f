"""FdTable: lowest-free allocation, close, renumber as wasmtime, rights that only shrink."""
import pytest

from vwasm.fdtable import DIR, FILE, STDOUT, Descriptor, FdTable
from vwasm.model.wasi import Errno, Filetype, Rights, WasiError


def desc(kind=FILE, base=Rights.FD_READ | Rights.FD_WRITE, inheriting=0):
    return Descriptor(kind, object(), Filetype.REGULAR_FILE, int(base), int(inheriting))


def errno_of(fn, *args, **kw):
    with pytest.raises(WasiError) as e:
        fn(*args, **kw)
    return e.value.errno


def test_allocation_takes_the_lowest_free_number():
    t = FdTable()
    assert [t.add(desc()) for _ in range(3)] == [0, 1, 2]
    t.remove(1)
    assert t.add(desc()) == 1
    assert t.add(desc()) == 3


def test_get_unknown_fd_is_ebadf():
    assert errno_of(FdTable().get, 7) == Errno.BADF


def test_get_without_the_right_is_enotcapable():
    t = FdTable()
    fd = t.add(desc(base=Rights.FD_READ))
    assert t.get(fd, Rights.FD_READ)
    assert errno_of(t.get, fd, Rights.FD_WRITE) == Errno.NOTCAPABLE


def test_get_kind_checks_the_kind_before_the_rights():
    t = FdTable()
    fd = t.add(desc(kind=DIR, base=0))
    assert errno_of(t.get_kind, fd, (FILE,), Rights.FD_READ) == Errno.BADF
    out = t.add(desc(kind=STDOUT, base=Rights.FD_WRITE))
    assert errno_of(t.get_kind, out, (FILE,), Rights.FD_SEEK) == Errno.BADF


def test_renumber_moves_and_returns_the_displaced_descriptor():
    t = FdTable()
    a, b = desc(), desc()
    fa, fb = t.add(a), t.add(b)
    assert t.renumber(fa, fb) is b
    assert t.get(fb) is a and fa not in t


def test_renumber_onto_itself_changes_nothing():
    t = FdTable()
    a = desc()
    fa = t.add(a)
    assert t.renumber(fa, fa) is None
    assert t.get(fa) is a


def test_renumber_needs_both_ends_open():
    t = FdTable()
    fa = t.add(desc())
    assert errno_of(t.renumber, fa, 9) == Errno.BADF
    assert errno_of(t.renumber, 9, fa) == Errno.BADF
    assert t.get(fa)


def test_rights_only_shrink():
    t = FdTable()
    d = desc(base=Rights.FD_READ | Rights.FD_WRITE, inheriting=Rights.FD_READ)
    t.add(d)
    t.narrow(d, Rights.FD_READ, 0)
    assert (d.rights_base, d.rights_inheriting) == (Rights.FD_READ, 0)
    assert errno_of(t.narrow, d, Rights.FD_READ | Rights.FD_WRITE, 0) == Errno.NOTCAPABLE
    assert errno_of(t.narrow, d, Rights.FD_READ, Rights.FD_READ) == Errno.NOTCAPABLE
    assert (d.rights_base, d.rights_inheriting) == (Rights.FD_READ, 0)


def test_the_limit_counts_every_descriptor_and_a_freed_number_makes_room():
    t = FdTable(limit=3)
    assert [t.add(desc()) for _ in range(3)] == [0, 1, 2] and t.full()
    assert errno_of(t.add, desc()) == Errno.MFILE
    t.remove(0)
    assert t.add(desc()) == 0


def test_config_max_fds_bounds_the_guests_table():
    from vwasm.model_host import ModelHost
    from vwasm.model.wasi import FD_LIMIT
    from vwasm.sandbox import Config, descriptor_table
    cfg = Config()
    assert cfg.max_fds == FD_LIMIT and descriptor_table(cfg, ModelHost()).limit == FD_LIMIT
    cfg.preopen_dir("/box", "/box")
    cfg.max_fds = 5
    t = descriptor_table(cfg, ModelHost())
    assert len(t) == 4 and t.limit == 5
    t.add(desc())
    assert errno_of(t.add, desc()) == Errno.MFILE
