"""The small fixed-size scenarios for bounded checkers: every shape well formed, the harnesses'
postconditions hold over a sweep, and a broken model is caught by a harness."""
import icontract
import pytest

from vwasm.model import sandbox as sb, scenarios as sc
from vwasm.model.wasi import I64_MAX, Errno


def test_pick_and_path_of():
    assert all(sc.pick(x, n) == x % n for x in range(-40, 200) for n in range(1, 13))
    assert sc.path_of(0, 0) == "" and sc.path_of(0, 1) == "a"
    assert sc.path_of(4 + 6 * 4 + 36 * 1, 3) == "../../b"
    assert {sc.path_of(c, 3) for c in range(216)} >= {"a/b/l", "./../a", "a//b"}


def test_every_shape_is_well_formed_and_distinct():
    states = [sc.small_state(i) for i in range(sc.SHAPES)]
    assert all(sb.wf(s) for s in states)
    assert len({(s.fs, s.fds) for s in states}) == sc.SHAPES * 3 // 4  # the fd-4 bit needs `a`
    assert sc.small_state(sc.SHAPES + 5) is sc.small_state(5)
    assert any(s.fds.lookup(sc.FILE_FD) for s in states) and not any(s.fds.lookup(5) for s in states)


def test_harnesses_hold_over_a_sweep():
    outcomes = set()
    for shape in range(sc.SHAPES):
        for frm in range(sc.FDS):
            for to in (0, 3, 4, 5, 1 << 31):
                s, *_, (_, e, _) = sc.check_fd_renumber(shape, frm, to)
                outcomes.add(("renumber", e))
        for fd in (1, 3, 4):
            for off in (0, 1, 5, I64_MAX):
                for ln in (0, 1, 3, 1 << 24):
                    outcomes.add(("allocate", sc.check_fd_allocate(shape, fd, off, ln)[-1][1]))
        for pcode in range(0, 216, 23):
            for plen in range(4):
                for oflags in (0, 1, 5, 8):
                    outcomes.add(("open", sc.check_path_open(shape, pcode, plen, oflags, shape, pcode)[1][1]))
    assert {("renumber", Errno.SUCCESS), ("renumber", Errno.BADF)} <= outcomes
    assert {("allocate", e) for e in (Errno.SUCCESS, Errno.INVAL, Errno.BADF, Errno.FBIG)} <= outcomes
    assert {("open", e) for e in (Errno.SUCCESS, Errno.PERM, Errno.NOENT, Errno.LOOP, Errno.EXIST)} <= outcomes


def test_broken_renumber_is_caught_by_its_harness(monkeypatch):
    """Mutant: the target need not be open (the old model's rule)."""
    from vwasm.model import fdtable
    def renumber(self, frm, to):
        d = self.get(frm)
        return self if frm == to else fdtable.FdTable(fdtable.pput(fdtable.pdrop(self.entries, frm), to, d))
    monkeypatch.setattr(fdtable.FdTable, "renumber", renumber)
    with pytest.raises(icontract.ViolationError, match="both open or EBADF"):
        sc.check_fd_renumber(1, 3, 7)


def test_broken_allocate_is_caught_by_its_harness(monkeypatch):
    """Mutant: fd_allocate that shrinks the file to the range's end."""
    shape = next(i for i in range(sc.SHAPES) if sc.small_state(i).fds.lookup(sc.FILE_FD))
    orig = sb.FileSystem.truncate
    monkeypatch.setattr(sb.FileSystem, "truncate", lambda self, ino, size, now: orig(self, ino, 1, now))
    with pytest.raises(icontract.ViolationError, match="max\\(size, offset \\+ length\\)"):
        sc.check_fd_allocate(shape, sc.FILE_FD, 3, 4)
