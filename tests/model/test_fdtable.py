"""Descriptor table: numbering, renumber, rights that only shrink."""
import pytest

from vwasm.model.fdtable import FD_LIMIT, Descriptor, FdTable, narrow, require_rights
from vwasm.model.wasi import FILE_RIGHTS, Errno, Filetype, Rights, WasiError


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
    t = FdTable(tuple((i, fdesc(i + 1)) for i in range(FD_LIMIT)))
    assert errno_of(t.insert, fdesc()) == Errno.MFILE


def test_renumber_moves_and_replaces():
    t = FdTable(((0, fdesc(1)), (1, fdesc(2))))
    t2 = t.renumber(0, 1)
    assert t2.fds() == (1,) and t2.get(1).node == 1
    t3 = t.renumber(0, 7)  # wasmtime: the target need not be open
    assert t3.fds() == (1, 7)


def test_renumber_to_itself_is_noop():
    t = FdTable(((0, fdesc(1)),))
    assert t.renumber(0, 0) == t


def test_invalid_renumber_from_closed():
    t = FdTable(((0, fdesc(1)),))
    assert errno_of(t.renumber, 5, 0) == Errno.BADF
    assert errno_of(t.renumber, 5, 5) == Errno.BADF


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
