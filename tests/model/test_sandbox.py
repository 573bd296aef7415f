"""Every transition on concrete states, its error paths, its contracts, and broken models caught."""
import icontract
import pytest
from dataclasses import replace

from vwasm.model import fdtable, paths, sandbox as sb
from vwasm.model.effects import FdAccess, PathAccess
from vwasm.model.wasi import (
    ALL_RIGHTS, FD_LIMIT, I64_MAX, PREVIEW1_CALLS, SIGNATURES, STDIN_RIGHTS, STDOUT_RIGHTS, Errno,
    Eventtype, Fdflags, Filetype, Fstflags, Oflags, Rights, Whence,
)
from vwasm.model.wasi import AddressFamily, SocketType

INET, INET6 = AddressFamily.INET, AddressFamily.INET6
STREAM, DGRAM = SocketType.STREAM, SocketType.DGRAM

BOX_FD, RO_FD = 3, 4  # as in conftest.world

LISTEN_FD = 5
FOLLOW = 1


def ok(result):
    s, e, r = result
    assert e == Errno.SUCCESS, e
    return s, r


def err(result, state):
    s, e, r = result
    assert s == state and r == ()
    return e


def open_(s, path, oflags=0, base=ALL_RIGHTS, inh=ALL_RIGHTS, fdflags=0, fd=BOX_FD, dirflags=FOLLOW):
    return sb.path_open(s, fd, dirflags, path, oflags, base, inh, fdflags)


def test_every_call_has_a_transition():
    assert set(SIGNATURES) == set(sb.TRANSITIONS)
    assert len(PREVIEW1_CALLS) == 46


# --- args, env, clocks, random, process -------------------------------------------------------------
def test_args_and_environ(state):
    assert ok(sb.args_sizes_get(state))[1] == (2, 7)
    assert ok(sb.args_get(state))[1] == ((b"prog\0", b"x\0"),)
    assert ok(sb.environ_sizes_get(state))[1] == (1, 10)
    assert ok(sb.environ_get(state))[1] == ((b"HOME=/box\0",),)


def test_clocks(state):
    s = sb.tick(state, 1000, 50, 7, 3)
    assert ok(sb.clock_time_get(s, 0, 0))[1] == (1000,)
    assert ok(sb.clock_time_get(s, 1, 0))[1] == (50,)
    # The CPU-time clocks are offered too (wasmtime: EBADF, a gap the runtime closes).
    assert ok(sb.clock_time_get(s, 2, 0))[1] == (7,)
    assert ok(sb.clock_time_get(s, 3, 0))[1] == (3,)
    assert [ok(sb.clock_res_get(s, c))[1] for c in range(4)] == [(1,)] * 4
    assert sb.tick(s, 0, 60).process_cputime == 7  # CPU time stays put unless given


def test_invalid_clocks(state):
    for clock in (4, 9, 1 << 31, -1):
        assert err(sb.clock_time_get(state, clock, 0), state) == Errno.INVAL
        assert err(sb.clock_res_get(state, clock), state) == Errno.INVAL


def test_random_yield_raise_exit(state):
    assert ok(sb.random_get(state, 3, b"abc"))[1] == (b"abc",)
    assert ok(sb.sched_yield(state))[0] == state
    assert err(sb.proc_raise(state, 2), state) == Errno.NOTSUP
    assert err(sb.proc_raise(state, 99), state) == Errno.INVAL
    s, _ = ok(sb.proc_exit(state, 3))
    assert s.exit_code == 3
    with pytest.raises(icontract.ViolationError):
        sb.sched_yield(s)


def test_proc_exit_any_status(state):
    """DESIGN §5: any status ends the run with that status; no trap at 126 or above."""
    for code in (0, 125, 126, 134, 255, 256, 0xFFFF_FFFF):
        s, e, r = sb.proc_exit(state, code)
        assert (e, r, s.exit_code) == (Errno.SUCCESS, (), code)


# --- descriptors -----------------------------------------------------------------------------------
def test_read_write_seek_tell(state):
    s, (fd,) = ok(open_(state, "file"))
    s, (data,) = ok(sb.fd_read(s, fd, (1, 3)))
    assert data == b"0123"
    assert ok(sb.fd_tell(s, fd))[1] == (4,)
    s, (n,) = ok(sb.fd_write(s, fd, (b"A", b"B")))
    assert n == 2 and ok(sb.fd_read(s, fd, (100,)))[1] == (b"6789",)
    s, (pos,) = ok(sb.fd_seek(s, fd, -3, Whence.END))
    assert pos == 7
    s, (pos,) = ok(sb.fd_seek(s, fd, 1, Whence.CUR))
    assert pos == 8
    assert ok(sb.fd_pread(s, fd, (3,), 0))[1] == (b"012",)
    s, _ = ok(sb.fd_pwrite(s, fd, (b"zz",), 0))
    assert ok(sb.fd_tell(s, fd))[1] == (8,)
    assert ok(sb.fd_pread(s, fd, (100,), 0))[1] == (b"zz23AB6789",)


def test_vectored_io_uses_every_buffer(state):
    """readv/writev/preadv/pwritev: all the iovecs, in order -- not only the first non-empty one."""
    s, (fd,) = ok(open_(state, "file"))
    s, (data,) = ok(sb.fd_read(s, fd, (0, 2, 0, 3)))
    assert data == b"01234" and s.fds.get(fd).offset == 5
    assert ok(sb.fd_read(s, fd, (4, 4)))[1] == (b"56789",)  # short at the end of the file
    assert ok(sb.fd_pread(s, fd, (0, 3, 4), 1))[1] == (b"1234567",)
    s, (n,) = ok(sb.fd_write(s, fd, (b"", b"ab", b"cd")))
    assert n == 4 and s.fds.get(fd).offset == 9
    s, (n,) = ok(sb.fd_pwrite(s, fd, (b"X", b"", b"YZ"), 0))
    assert n == 3 and s.fds.get(fd).offset == 9
    assert ok(sb.fd_pread(s, fd, (100,), 0))[1] == (b"XYZ34abcd9",)
    s, (n,) = ok(sb.fd_write(s, 1, (b"o", b"ut")))
    s, _ = ok(sb.fd_write(s, 2, (b"e", b"", b"rr")))
    assert n == 3 and (s.stdout, s.stderr) == (b"out", b"err")
    s, (data,) = ok(sb.fd_read(s, 0, (2, 1, 9)))
    assert data == b"input" and s.stdin == b""
    assert ok(sb.fd_read(s, fd, ()))[1] == (b"",) and ok(sb.fd_write(s, fd, ()))[1] == (0,)


def test_append_mode(state):
    s, (fd,) = ok(open_(state, "file", fdflags=Fdflags.APPEND))
    s, _ = ok(sb.fd_write(s, fd, (b"!",)))
    s, _ = ok(sb.fd_pwrite(s, fd, (b"?",), 0))
    assert ok(sb.fd_pread(s, fd, (100,), 0))[1] == (b"0123456789!?",)


def test_invalid_seek(state):
    s, (fd,) = ok(open_(state, "file"))
    assert err(sb.fd_seek(s, fd, -1, Whence.SET), s) == Errno.INVAL
    assert err(sb.fd_seek(s, fd, 0, 7), s) == Errno.INVAL
    assert err(sb.fd_seek(s, 0, 0, Whence.CUR), s) == Errno.SPIPE
    assert err(sb.fd_seek(s, BOX_FD, 0, Whence.SET), s) == Errno.BADF
    assert err(sb.fd_tell(s, 1), s) == Errno.SPIPE
    assert err(sb.fd_tell(s, BOX_FD), s) == Errno.BADF
    s2, (fd2,) = ok(open_(s, "file", base=Rights.FD_TELL))
    assert ok(sb.fd_seek(s2, fd2, 0, Whence.CUR))[1] == (0,)
    assert err(sb.fd_seek(s2, fd2, 1, Whence.SET), s2) == Errno.NOTCAPABLE


def test_invalid_read_write_kinds(state):
    assert err(sb.fd_read(state, BOX_FD, (4,)), state) == Errno.BADF
    assert err(sb.fd_read(state, 1, (4,)), state) == Errno.BADF
    assert err(sb.fd_write(state, 0, (b"x",)), state) == Errno.BADF
    assert err(sb.fd_write(state, BOX_FD, (b"x",)), state) == Errno.BADF
    assert err(sb.fd_read(state, 99, (4,)), state) == Errno.BADF
    assert err(sb.fd_pread(state, 0, (4,), 0), state) == Errno.SPIPE
    assert err(sb.fd_pwrite(state, 1, (b"x",), 0), state) == Errno.SPIPE
    assert err(sb.fd_pread(state, BOX_FD, (4,), 0), state) == Errno.BADF
    assert err(sb.fd_pwrite(state, BOX_FD, (b"x",), 0), state) == Errno.BADF


def test_invalid_missing_read_write_rights(state):
    s, (fd,) = ok(open_(state, "file", base=Rights.FD_READ))
    assert err(sb.fd_write(s, fd, (b"x",)), s) == Errno.NOTCAPABLE
    assert err(sb.fd_pread(s, fd, (1,), 0), s) == Errno.NOTCAPABLE
    s, (fd,) = ok(open_(state, "file", base=Rights.FD_WRITE))
    assert err(sb.fd_read(s, fd, (1,)), s) == Errno.NOTCAPABLE
    assert err(sb.fd_pwrite(s, fd, (b"x",), 0), s) == Errno.NOTCAPABLE


def test_stdio(state):
    s, (data,) = ok(sb.fd_read(state, 0, (3,)))
    assert data == b"inp" and s.stdin == b"ut"
    s, _ = ok(sb.fd_write(s, 1, (b"out",)))
    s, _ = ok(sb.fd_write(s, 2, (b"err",)))
    assert (s.stdout, s.stderr) == (b"out", b"err")
    st = ok(sb.fd_filestat_get(s, 1))[1][0]
    assert st == sb.Filestat(0, 0, Filetype.UNKNOWN, 0, 0, 0, 0, 0)


def test_stdio_rights_and_types(state):
    """stdin: READ|POLL, stdout/stderr: WRITE|POLL (their filestat consults no right); base = inheriting."""
    stats = [ok(sb.fd_fdstat_get(state, fd))[1][0] for fd in (0, 1, 2)]
    assert [(st.rights_base, st.rights_inheriting) for st in stats] == [
        (STDIN_RIGHTS, STDIN_RIGHTS), (STDOUT_RIGHTS, STDOUT_RIGHTS), (STDOUT_RIGHTS, STDOUT_RIGHTS)]
    assert STDIN_RIGHTS == Rights.FD_READ | Rights.POLL_FD_READWRITE
    assert STDOUT_RIGHTS == Rights.FD_WRITE | Rights.POLL_FD_READWRITE
    assert all(st.filetype == Filetype.UNKNOWN and st.flags == 0 for st in stats)
    tty = sb.initial_state(state.fs, stdio_filetype=Filetype.CHARACTER_DEVICE)
    assert ok(sb.fd_fdstat_get(tty, 2))[1][0].filetype == Filetype.CHARACTER_DEVICE
    assert ok(sb.fd_filestat_get(tty, 0))[1][0] == sb.Filestat(0, 0, Filetype.CHARACTER_DEVICE, 0, 0, 0, 0, 0)


def test_stdio_filestat_needs_no_right(state):
    s, _ = ok(sb.fd_fdstat_set_rights(state, 1, Rights.FD_WRITE, 0))
    assert ok(sb.fd_filestat_get(s, 1))[1][0].filetype == Filetype.UNKNOWN
    s, (fd,) = ok(open_(s, "file", base=Rights.FD_READ))
    assert err(sb.fd_filestat_get(s, fd), s) == Errno.NOTCAPABLE  # files still need it


def test_invalid_stdio_set_flags(state):
    """Streams' flags cannot be set: EBADF (files only), whatever the flags."""
    for fd in (0, 1, 2):
        for flags in (0, Fdflags.APPEND, Fdflags.NONBLOCK, Fdflags.SYNC, 1 << 9):
            assert err(sb.fd_fdstat_set_flags(state, fd, flags), state) == Errno.BADF


def test_fdstat_get_and_set_flags(state):
    s, (fd,) = ok(open_(state, "file", fdflags=Fdflags.DSYNC))
    st = ok(sb.fd_fdstat_get(s, fd))[1][0]
    assert st.filetype == Filetype.REGULAR_FILE and st.flags == Fdflags.DSYNC
    s, _ = ok(sb.fd_fdstat_set_flags(s, fd, Fdflags.APPEND | Fdflags.NONBLOCK))
    assert s.fds.get(fd).flags == Fdflags.DSYNC | Fdflags.APPEND | Fdflags.NONBLOCK
    assert err(sb.fd_fdstat_set_flags(s, fd, Fdflags.SYNC), s) == Errno.INVAL
    assert err(sb.fd_fdstat_set_flags(s, fd, 1 << 7), s) == Errno.INVAL
    assert err(sb.fd_fdstat_set_flags(s, BOX_FD, 0), s) == Errno.BADF
    assert err(sb.fd_fdstat_get(s, 77), s) == Errno.BADF


def test_set_flags_files_only_and_order(state):
    """Files only (directories, streams, sockets: EBADF); the runtime checks the descriptor, its
    kind and right before the flags; DSYNC/RSYNC/SYNC or unknown bits: EINVAL."""
    s, (fd,) = ok(open_(state, "file"))
    for bad in (Fdflags.DSYNC, Fdflags.RSYNC, Fdflags.SYNC, Fdflags.APPEND | Fdflags.SYNC, 1 << 5, 1 << 15):
        assert err(sb.fd_fdstat_set_flags(s, fd, bad), s) == Errno.INVAL
    s2, _ = ok(sb.fd_fdstat_set_flags(s, fd, Fdflags.APPEND))
    assert s2.fds.get(fd).flags == Fdflags.APPEND
    s2, _ = ok(sb.fd_fdstat_set_flags(s2, fd, Fdflags.NONBLOCK))
    assert s2.fds.get(fd).flags == Fdflags.NONBLOCK  # APPEND cleared: the flags are set, not added
    assert err(sb.fd_fdstat_set_flags(s, 99, 1 << 9), s) == Errno.BADF
    assert err(sb.fd_fdstat_set_flags(s, BOX_FD, 1 << 9), s) == Errno.BADF
    assert err(sb.fd_fdstat_set_flags(s, LISTEN_FD, Fdflags.NONBLOCK), s) == Errno.BADF
    s3, (ro,) = ok(open_(s, "file", base=Rights.FD_READ))
    assert err(sb.fd_fdstat_set_flags(s3, ro, 1 << 9), s3) == Errno.NOTCAPABLE


def test_fdstat_set_rights_only_drops(state):
    s, _ = ok(sb.fd_fdstat_set_rights(state, BOX_FD, Rights.PATH_OPEN, Rights.FD_READ))
    d = s.fds.get(BOX_FD)
    assert (d.rights_base, d.rights_inheriting) == (Rights.PATH_OPEN, Rights.FD_READ)
    assert err(sb.fd_fdstat_set_rights(s, BOX_FD, Rights.PATH_OPEN | Rights.FD_READDIR, 0), s) == Errno.NOTCAPABLE
    assert err(sb.fd_readdir(s, BOX_FD, 0), s) == Errno.NOTCAPABLE
    s, (fd,) = ok(open_(s, "file"))
    assert s.fds.get(fd).rights_base == Rights.FD_READ  # narrowed by the parent's inheriting
    assert err(sb.fd_fdstat_set_rights(state, BOX_FD, 1 << 40, 0), state) == Errno.INVAL


def test_filestat_get_and_set(state):
    s, (fd,) = ok(open_(state, "file"))
    st = ok(sb.fd_filestat_get(s, fd))[1][0]
    assert (st.size, st.nlink, st.filetype) == (10, 1, Filetype.REGULAR_FILE)
    s, _ = ok(sb.fd_filestat_set_size(s, fd, 4))
    assert ok(sb.fd_filestat_get(s, fd))[1][0].size == 4
    s = sb.tick(s, 500, 0)
    s, _ = ok(sb.fd_filestat_set_times(s, fd, 11, 0, Fstflags.ATIM | Fstflags.MTIM_NOW))
    st = ok(sb.fd_filestat_get(s, fd))[1][0]
    assert (st.atim, st.mtim, st.ctim) == (11, 500, 500)
    s, _ = ok(sb.fd_filestat_set_times(s, BOX_FD, 1, 2, Fstflags.ATIM | Fstflags.MTIM))
    assert ok(sb.fd_filestat_get(s, BOX_FD))[1][0].mtim == 2


def test_invalid_filestat_set(state):
    s, (fd,) = ok(open_(state, "file"))
    assert err(sb.fd_filestat_set_times(s, fd, 0, 0, Fstflags.MTIM | Fstflags.MTIM_NOW), s) == Errno.INVAL
    assert err(sb.fd_filestat_set_times(s, fd, 0, 0, Fstflags.ATIM | Fstflags.ATIM_NOW), s) == Errno.INVAL
    assert err(sb.fd_filestat_set_times(s, 99, 0, 0, Fstflags.MTIM | Fstflags.MTIM_NOW), s) == Errno.INVAL
    assert err(sb.fd_filestat_set_times(s, 1, 0, 0, 0), s) == Errno.BADF
    assert err(sb.fd_filestat_set_size(s, BOX_FD, 0), s) == Errno.BADF
    assert err(sb.fd_filestat_set_size(s, fd, 1 << 63), s) == Errno.INVAL
    assert err(sb.fd_filestat_set_size(s, fd, 1 << 40), s) == Errno.FBIG
    s2, (ro,) = ok(open_(s, "file", base=Rights.FD_READ))
    assert err(sb.fd_filestat_set_size(s2, ro, 0), s2) == Errno.NOTCAPABLE
    assert err(sb.fd_filestat_set_times(s2, ro, 0, 0, 0), s2) == Errno.NOTCAPABLE


def test_advise_allocate_sync(state):
    s, (fd,) = ok(open_(state, "file"))
    assert ok(sb.fd_advise(s, fd, 0, 10, 1))[0].trace[-1] == FdAccess(fd)
    assert err(sb.fd_advise(s, fd, 0, 10, 9), s) == Errno.INVAL
    assert err(sb.fd_advise(s, BOX_FD, 0, 10, 0), s) == Errno.BADF
    assert err(sb.fd_allocate(s, BOX_FD, 0, 10), s) == Errno.BADF
    ok(sb.fd_sync(s, fd))
    ok(sb.fd_datasync(s, fd))
    assert err(sb.fd_sync(s, BOX_FD), s) == Errno.BADF
    assert err(sb.fd_datasync(s, 1), s) == Errno.BADF
    s2, (ro,) = ok(open_(s, "file", base=Rights.FD_READ))
    assert err(sb.fd_sync(s2, ro), s2) == Errno.NOTCAPABLE
    assert err(sb.fd_advise(s2, ro, 0, 1, 0), s2) == Errno.NOTCAPABLE
    assert err(sb.fd_allocate(s2, ro, 0, 1), s2) == Errno.NOTCAPABLE


def test_allocate_grows_like_posix_fallocate(state):
    s, (fd,) = ok(open_(state, "file"))
    s = sb.tick(s, 77, 0)
    s2, _ = ok(sb.fd_allocate(s, fd, 0, 4))
    assert s2.fs == s.fs  # already long enough: unchanged, never shrunk
    s2, _ = ok(sb.fd_allocate(s, fd, 8, 8))
    st = ok(sb.fd_filestat_get(s2, fd))[1][0]
    assert (st.size, st.mtim) == (16, 77)
    assert ok(sb.fd_pread(s2, fd, (100,), 0))[1] == (b"0123456789" + b"\0" * 6,)
    assert s2.fds.get(fd).offset == 0  # the position does not move
    s3, (app,) = ok(open_(s, "file", fdflags=Fdflags.APPEND))
    assert ok(sb.fd_filestat_get(ok(sb.fd_allocate(s3, app, 20, 1))[0], app))[1][0].size == 21


def test_invalid_allocate(state):
    s, (fd,) = ok(open_(state, "file"))
    # The end of the range past the largest file size: EFBIG (also when offset alone is huge).
    assert err(sb.fd_allocate(s, fd, I64_MAX, 1), s) == Errno.FBIG
    assert err(sb.fd_allocate(s, fd, 1 << 63, 0), s) == Errno.FBIG
    assert err(sb.fd_allocate(s, fd, 0, (1 << 64) - 1), s) == Errno.FBIG
    # An empty range: EINVAL (posix_fallocate).
    assert err(sb.fd_allocate(s, fd, 100, 0), s) == Errno.INVAL
    # Beyond the sandbox's file-size quota: EFBIG.
    assert err(sb.fd_allocate(s, fd, 0, (1 << 24) + 1), s) == Errno.FBIG
    # Files only.
    for other in (0, 1, BOX_FD, LISTEN_FD):
        assert err(sb.fd_allocate(s, other, 0, 1), s) == Errno.BADF
    # A file opened without FD_WRITE cannot grow (posix_fallocate on a read-only fd: EBADF) ...
    s2, (ro,) = ok(open_(s, "file", base=Rights.FD_ALLOCATE | Rights.FD_READ))
    assert not s2.fds.get(ro).writable
    assert err(sb.fd_allocate(s2, ro, 0, 100), s2) == Errno.BADF
    # ... while one that dropped FD_WRITE after opening still can (the access mode is fixed).
    s3, (rw,) = ok(open_(s, "file", base=Rights.FD_ALLOCATE | Rights.FD_WRITE))
    s3, _ = ok(sb.fd_fdstat_set_rights(s3, rw, Rights.FD_ALLOCATE, 0))
    assert ok(sb.fd_allocate(s3, rw, 0, 100))[0].fs.node(s3.fds.get(rw).node).size == 100


def test_prestat(state):
    assert ok(sb.fd_prestat_get(state, BOX_FD))[1] == (0, 4)
    assert ok(sb.fd_prestat_dir_name(state, BOX_FD, 4))[1] == (b"/box",)
    assert err(sb.fd_prestat_dir_name(state, BOX_FD, 3), state) == Errno.NAMETOOLONG
    assert err(sb.fd_prestat_get(state, 1), state) == Errno.BADF
    assert err(sb.fd_prestat_dir_name(state, 1, 10), state) == Errno.NOTDIR
    assert err(sb.fd_prestat_get(state, 99), state) == Errno.BADF


def test_readdir_includes_dot_and_dotdot(state):
    ents = ok(sb.fd_readdir(state, BOX_FD, 0))[1][0]
    names = [e.name for e in ents]
    assert names[:2] == [b".", b".."] and names[2:] == sorted(names[2:])
    assert [e.d_next for e in ents] == list(range(1, len(ents) + 1))
    assert ok(sb.fd_readdir(state, BOX_FD, 2))[1][0] == ents[2:]
    assert ok(sb.fd_readdir(state, BOX_FD, 1000))[1][0] == ()
    link = next(e for e in ents if e.name == b"link")
    assert link.d_type == Filetype.SYMBOLIC_LINK
    raw = sb.encode_dirents(ents, 30)
    assert len(raw) == 30 and raw[24:25] == b"."
    assert err(sb.fd_readdir(state, 1, 0), state) == Errno.BADF


def test_close_and_renumber(state):
    s, (fd,) = ok(open_(state, "file"))
    s2, _ = ok(sb.fd_renumber(s, fd, 1))
    assert s2.fds.get(1).node == s.fds.get(fd).node and s2.fds.lookup(fd) is None
    assert ok(sb.fd_renumber(s, fd, fd))[0].fds == s.fds
    assert err(sb.fd_renumber(s, 99, 1), s) == Errno.BADF
    assert err(sb.fd_renumber(s, 99, 99), s) == Errno.BADF
    s3, _ = ok(sb.fd_close(s, fd))
    assert s3.fds.lookup(fd) is None
    assert err(sb.fd_close(s3, fd), s3) == Errno.BADF
    s4, _ = ok(sb.fd_close(s3, BOX_FD))  # preopens can be closed
    assert err(open_(s4, "file"), s4) == Errno.BADF


def test_invalid_renumber_to_closed(state):
    """Both numbers must be open (wasmtime p1.rs: `to` not in the table is EBADF)."""
    s, (fd,) = ok(open_(state, "file"))
    for to in (fd + 1, 99, 0xFFFF_FFFF):
        assert err(sb.fd_renumber(s, fd, to), s) == Errno.BADF


def test_renumber_closes_the_displaced(state):
    s, (a,) = ok(open_(state, "file"))
    s, (b,) = ok(open_(s, "a/f"))
    node_b = s.fds.get(b).node
    s, _ = ok(sb.path_unlink_file(s, BOX_FD, "a/f"))
    s2, _ = ok(sb.fd_renumber(s, a, b))
    assert s2.fds.fds() == tuple(sorted(set(s.fds.fds()) - {a}))
    assert s2.fds.get(b) == s.fds.get(a)
    assert not s2.fs.has(node_b)  # the displaced descriptor was the last user of an unlinked file
    s3, (c,) = ok(sb.socket(s, INET, STREAM, 0))
    s3, _ = ok(sb.fd_renumber(s3, a, c))  # a displaced socket is closed too
    assert s3.sockets == s.sockets


def test_unlinked_open_file_survives_until_close(state):
    s, (fd,) = ok(open_(state, "file"))
    node = s.fds.get(fd).node
    s, _ = ok(sb.path_unlink_file(s, BOX_FD, "file"))
    assert ok(sb.fd_read(s, fd, (3,)))[1] == (b"012",)
    assert ok(sb.fd_filestat_get(s, fd))[1][0].nlink == 0
    s, _ = ok(sb.fd_close(s, fd))
    assert not s.fs.has(node)


# --- paths -----------------------------------------------------------------------------------------
def test_path_open_create_exclusive_truncate(state):
    s, (fd,) = ok(open_(state, "new", Oflags.CREAT | Oflags.EXCL))
    assert s.fs.lookup(s.fds.get(BOX_FD).node, "new") == s.fds.get(fd).node
    # O_CREAT|O_EXCL never follows a final symlink, whatever the lookup flags say.
    assert s.trace[-1] == PathAccess(BOX_FD, "new", False)
    assert err(open_(s, "new", Oflags.CREAT | Oflags.EXCL), s) == Errno.EXIST
    s, (fd2,) = ok(open_(s, "file", Oflags.TRUNC))
    assert ok(sb.fd_filestat_get(s, fd2))[1][0].size == 0


def test_path_open_lowest_free_number(state):
    s, (a,) = ok(open_(state, "file"))
    s, (b,) = ok(open_(s, "a/f"))
    s, _ = ok(sb.fd_close(s, a))
    assert ok(open_(s, "link"))[1] == (a,)


def test_invalid_path_open(state):
    s = state
    assert err(open_(s, "missing"), s) == Errno.NOENT
    assert err(open_(s, "file", Oflags.DIRECTORY), s) == Errno.NOTDIR
    assert err(open_(s, "file/"), s) == Errno.NOTDIR
    assert err(open_(s, "a", Oflags.TRUNC), s) == Errno.ISDIR
    assert err(open_(s, "a", base=Rights.FD_WRITE), s) == Errno.ISDIR
    assert err(open_(s, "a", Oflags.DIRECTORY | Oflags.CREAT), s) == Errno.INVAL
    assert err(open_(s, "link", dirflags=0), s) == Errno.LOOP
    assert err(open_(s, "new/", Oflags.CREAT), s) == Errno.ISDIR
    assert err(open_(s, "../secret"), s) == Errno.PERM
    assert err(open_(s, "a/../../box/file"), s) == Errno.PERM
    assert err(open_(s, "/secret"), s) == Errno.PERM
    assert err(open_(s, "abs"), s) == Errno.PERM
    assert err(open_(s, "file\0"), s) == Errno.INVAL
    assert err(open_(s, ""), s) == Errno.NOENT
    assert err(open_(s, "file", 1 << 5), s) == Errno.INVAL
    assert err(open_(s, "file", fd=1), s) == Errno.BADF
    assert err(open_(s, "file", fd=99), s) == Errno.BADF
    s2, (f,) = ok(open_(s, "file"))
    assert err(open_(s2, "x", fd=f), s2) == Errno.NOTDIR


def test_path_open_directory_and_dotdot_inside(state):
    s, (d,) = ok(open_(state, "a/..", Oflags.DIRECTORY, base=Rights.FD_READDIR | Rights.PATH_OPEN))
    assert s.fds.get(d).node == s.fds.get(BOX_FD).node and s.fds.get(d).filetype == Filetype.DIRECTORY
    s, (d2,) = ok(open_(s, "a", base=Rights.PATH_OPEN))
    # A descriptor opened below the preopen is itself a root: `..` from it escapes.
    assert err(open_(s, "../file", fd=d2), s) == Errno.PERM
    assert ok(open_(s, "f", fd=d2))[1]


def test_invalid_readonly_preopen(state):
    s = state
    assert err(open_(s, "new", Oflags.CREAT, fd=RO_FD), s) == Errno.NOTCAPABLE
    assert err(open_(s, "r", Oflags.TRUNC, fd=RO_FD), s) == Errno.NOTCAPABLE
    s, (fd,) = ok(open_(s, "r", fd=RO_FD))
    assert s.fds.get(fd).rights_base & Rights.FD_WRITE == 0
    assert err(sb.fd_write(s, fd, (b"x",)), s) == Errno.NOTCAPABLE
    assert err(sb.path_create_directory(s, RO_FD, "d"), s) == Errno.NOTCAPABLE
    assert err(sb.path_unlink_file(s, RO_FD, "r"), s) == Errno.NOTCAPABLE


def test_path_filestat(state):
    st = ok(sb.path_filestat_get(state, BOX_FD, FOLLOW, "link"))[1][0]
    assert st.filetype == Filetype.REGULAR_FILE and st.size == 4
    st = ok(sb.path_filestat_get(state, BOX_FD, 0, "link"))[1][0]
    assert st.filetype == Filetype.SYMBOLIC_LINK and st.size == 3
    assert err(sb.path_filestat_get(state, BOX_FD, FOLLOW, "dangling"), state) == Errno.NOENT
    assert err(sb.path_filestat_get(state, BOX_FD, 2, "file"), state) == Errno.INVAL
    s, _ = ok(sb.path_filestat_set_times(state, BOX_FD, FOLLOW, "link", 5, 6, Fstflags.ATIM | Fstflags.MTIM))
    assert ok(sb.path_filestat_get(s, BOX_FD, FOLLOW, "a/f"))[1][0].mtim == 6
    assert err(sb.path_filestat_set_times(state, BOX_FD, 0, "nope", 0, 0, 0), state) == Errno.NOENT
    assert err(sb.path_filestat_set_times(state, BOX_FD, 0, "file", 0, 0, 3), state) == Errno.INVAL
    assert err(sb.path_filestat_get(state, 1, 0, "file"), state) == Errno.BADF


def test_create_and_remove_directory(state):
    s, _ = ok(sb.path_create_directory(state, BOX_FD, "d/"))
    assert err(sb.path_create_directory(s, BOX_FD, "d"), s) == Errno.EXIST
    assert err(sb.path_create_directory(s, BOX_FD, "."), s) == Errno.EXIST
    assert err(sb.path_create_directory(s, BOX_FD, "../d"), s) == Errno.PERM
    assert err(sb.path_remove_directory(s, BOX_FD, "a"), s) == Errno.NOTEMPTY
    assert err(sb.path_remove_directory(s, BOX_FD, "file"), s) == Errno.NOTDIR
    assert err(sb.path_remove_directory(s, BOX_FD, "file/"), s) == Errno.NOTDIR
    assert err(sb.path_remove_directory(s, BOX_FD, "./"), s) == Errno.INVAL
    assert err(sb.path_remove_directory(s, BOX_FD, "zz"), s) == Errno.NOENT
    assert err(sb.path_remove_directory(s, BOX_FD, "zz/"), s) == Errno.NOENT
    # trailing slashes are ignored (wasi-testsuite remove_directory_trailing_slashes)
    s, _ = ok(sb.path_remove_directory(s, BOX_FD, "d/"))
    assert s.fs.lookup(s.fds.get(BOX_FD).node, "d") is None


def test_unlink(state):
    assert err(sb.path_unlink_file(state, BOX_FD, "a"), state) == Errno.ISDIR
    assert err(sb.path_unlink_file(state, BOX_FD, "a/"), state) == Errno.ISDIR
    assert err(sb.path_unlink_file(state, BOX_FD, "file/"), state) == Errno.NOTDIR
    assert err(sb.path_unlink_file(state, BOX_FD, "none"), state) == Errno.NOENT
    s, _ = ok(sb.path_unlink_file(state, BOX_FD, "link"))  # removes the link, not its target
    box = s.fds.get(BOX_FD).node
    assert s.fs.lookup(box, "link") is None and s.fs.lookup(s.fs.lookup(box, "a"), "f") is not None


def test_symlink_and_readlink(state):
    s, _ = ok(sb.path_symlink(state, "a/f", BOX_FD, "l2"))
    assert ok(sb.path_readlink(s, BOX_FD, "l2", 100))[1] == (b"a/f",)
    assert ok(sb.path_readlink(s, BOX_FD, "l2", 2))[1] == (b"a/",)
    assert err(sb.path_symlink(s, "/etc/passwd", BOX_FD, "l3"), s) == Errno.PERM
    assert err(sb.path_symlink(s, "", BOX_FD, "l3"), s) == Errno.NOENT
    assert err(sb.path_symlink(s, "a\0", BOX_FD, "l3"), s) == Errno.INVAL
    assert err(sb.path_symlink(s, "x", BOX_FD, "l2"), s) == Errno.EXIST
    assert err(sb.path_readlink(s, BOX_FD, "file", 10), s) == Errno.INVAL
    assert err(sb.path_readlink(s, BOX_FD, "nope", 10), s) == Errno.NOENT
    # A link whose text climbs out may be made, but never resolves.
    s, _ = ok(sb.path_symlink(s, "../secret", BOX_FD, "out"))
    assert err(open_(s, "out"), s) == Errno.PERM


def test_link(state):
    s, _ = ok(sb.path_link(state, BOX_FD, 0, "file", BOX_FD, "hard"))
    box = s.fds.get(BOX_FD).node
    assert s.fs.lookup(box, "hard") == s.fs.lookup(box, "file")
    # Following a symlink is not offered (wasmtime: EINVAL), whatever the link names.
    assert err(sb.path_link(state, BOX_FD, FOLLOW, "link", BOX_FD, "tof"), state) == Errno.INVAL
    assert err(sb.path_link(state, BOX_FD, FOLLOW, "file", BOX_FD, "tof"), state) == Errno.INVAL
    # The new name is looked up before a directory is refused (Linux linkat: EEXIST first).
    assert err(sb.path_link(state, BOX_FD, 0, "a", BOX_FD, "file"), state) == Errno.EXIST
    assert err(sb.path_link(state, BOX_FD, 0, "a", BOX_FD, "x"), state) == Errno.PERM
    assert err(sb.path_link(state, BOX_FD, 0, "file", BOX_FD, "link"), state) == Errno.EXIST
    assert err(sb.path_link(state, BOX_FD, 0, "nope", BOX_FD, "x"), state) == Errno.NOENT
    assert err(sb.path_link(state, BOX_FD, 0, "../secret", BOX_FD, "x"), state) == Errno.PERM
    assert err(sb.path_link(state, RO_FD, 0, "r", BOX_FD, "x"), state) == Errno.NOTCAPABLE


def test_rename(state):
    s, _ = ok(sb.path_rename(state, BOX_FD, "file", BOX_FD, "a/moved"))
    box = s.fds.get(BOX_FD).node
    assert s.fs.lookup(box, "file") is None and s.fs.lookup(s.fs.lookup(box, "a"), "moved")
    s, _ = ok(sb.path_rename(s, BOX_FD, "a/", BOX_FD, "b/"))
    assert s.fs.lookup(box, "b") is not None
    assert err(sb.path_rename(s, BOX_FD, "b", BOX_FD, "b/inner"), s) == Errno.INVAL
    assert err(sb.path_rename(s, BOX_FD, "link/", BOX_FD, "x"), s) == Errno.NOTDIR
    assert err(sb.path_rename(s, BOX_FD, "nope", BOX_FD, "x"), s) == Errno.NOENT
    assert err(sb.path_rename(s, BOX_FD, ".", BOX_FD, "x"), s) == Errno.BUSY
    assert err(sb.path_rename(s, BOX_FD, "link", BOX_FD, "../x"), s) == Errno.PERM
    assert err(sb.path_rename(s, BOX_FD, "link", RO_FD, "x"), s) == Errno.NOTCAPABLE
    s2, _ = ok(sb.path_create_directory(s, BOX_FD, "full"))
    s2, _ = ok(sb.path_create_directory(s2, BOX_FD, "full/x"))
    s2, _ = ok(sb.path_create_directory(s2, BOX_FD, "empty"))
    assert err(sb.path_rename(s2, BOX_FD, "empty", BOX_FD, "full"), s2) == Errno.NOTEMPTY
    assert err(sb.path_rename(s2, BOX_FD, "link", BOX_FD, "empty"), s2) == Errno.ISDIR
    assert err(sb.path_rename(s2, BOX_FD, "empty", BOX_FD, "link"), s2) == Errno.NOTDIR


def test_invalid_path_calls_on_files(state):
    s, (f,) = ok(open_(state, "file"))
    for call, args in [
        (sb.path_create_directory, (f, "x")), (sb.path_filestat_get, (f, 0, "x")),
        (sb.path_filestat_set_times, (f, 0, "x", 0, 0, 0)), (sb.path_link, (f, 0, "x", BOX_FD, "y")),
        (sb.path_readlink, (f, "x", 1)), (sb.path_remove_directory, (f, "x")),
        (sb.path_rename, (f, "x", BOX_FD, "y")), (sb.path_symlink, ("t", f, "x")),
        (sb.path_unlink_file, (f, "x")),
    ]:
        assert err(call(s, *args), s) == Errno.BADF, call.__name__


def test_invalid_missing_path_rights(state):
    s, _ = ok(sb.fd_fdstat_set_rights(state, BOX_FD, 0, state.fds.get(BOX_FD).rights_inheriting))
    for call, args in [
        (sb.path_create_directory, (BOX_FD, "x")), (sb.path_filestat_get, (BOX_FD, 0, "file")),
        (sb.path_filestat_set_times, (BOX_FD, 0, "file", 0, 0, 0)), (sb.path_readlink, (BOX_FD, "link", 1)),
        (sb.path_remove_directory, (BOX_FD, "a")), (sb.path_rename, (BOX_FD, "file", BOX_FD, "y")),
        (sb.path_symlink, ("t", BOX_FD, "x")), (sb.path_unlink_file, (BOX_FD, "file")),
        (sb.path_open, (BOX_FD, 0, "file", 0, 0, 0, 0)), (sb.fd_readdir, (BOX_FD, 0)),
    ]:
        assert err(call(s, *args), s) == Errno.NOTCAPABLE, call.__name__


# --- poll ------------------------------------------------------------------------------------------
def test_poll_oneoff(state):
    s, (fd,) = ok(open_(state, "file"))
    subs = (sb.Subscription(7, Eventtype.CLOCK, clock_id=1, timeout=10),
            sb.Subscription(8, Eventtype.FD_READ, fd=fd), sb.Subscription(9, Eventtype.FD_WRITE, fd=1))
    s2, (events,) = ok(sb.poll_oneoff(s, subs, (0, 1, 2)))
    assert [e.userdata for e in events] == [7, 8, 9] and events[1].nbytes == 1 and events[1].flags == 0
    s3, _ = ok(sb.fd_seek(s, fd, 0, Whence.END))
    assert ok(sb.poll_oneoff(s3, subs, (1,)))[1][0][0].flags == 1  # hang-up at end of file
    assert err(sb.poll_oneoff(s, (), (0,)), s) == Errno.INVAL
    assert err(sb.poll_oneoff(s, (sb.Subscription(1, 5),), (0,)), s) == Errno.INVAL
    assert err(sb.poll_oneoff(s, (sb.Subscription(1, 0, clock_id=2),), (0,)), s) == Errno.INVAL
    assert err(sb.poll_oneoff(s, (sb.Subscription(1, 1, fd=99),), (0,)), s) == Errno.BADF
    assert err(sb.poll_oneoff(s, (sb.Subscription(1, 1, fd=1),), (0,)), s) == Errno.BADF
    assert err(sb.poll_oneoff(s, (sb.Subscription(1, 2, fd=BOX_FD),), (0,)), s) == Errno.BADF
    s4, (ro,) = ok(open_(s, "file", base=Rights.FD_READ))
    assert err(sb.poll_oneoff(s4, (sb.Subscription(1, 1, fd=ro),), (0,)), s4) == Errno.NOTCAPABLE


def test_poll_files_always_ready_in_subscription_order(state):
    s, (fd,) = ok(open_(state, "file"))
    subs = (sb.Subscription(1, Eventtype.FD_READ, fd=0), sb.Subscription(2, Eventtype.FD_WRITE, fd=fd),
            sb.Subscription(3, Eventtype.CLOCK, clock_id=0, timeout=5),
            sb.Subscription(4, Eventtype.FD_READ, fd=fd))
    # The environment reports nothing but the files: they are ready anyway.
    _, (events,) = ok(sb.poll_oneoff(s, subs, ()))
    assert [(e.userdata, e.type, e.nbytes, e.flags) for e in events] == [
        (2, Eventtype.FD_WRITE, 1, 0), (4, Eventtype.FD_READ, 1, 0)]
    _, (events,) = ok(sb.poll_oneoff(s, subs, (2, 0)))
    assert [e.userdata for e in events] == [1, 2, 3, 4]
    assert events[2] == sb.Event(3, Errno.SUCCESS, Eventtype.CLOCK, 0, 0)
    # Streams fire only when the host says so; without files something must be ready.
    with pytest.raises(AssertionError):
        sb.poll_oneoff(s, subs[:1], ())


def test_invalid_poll_fails_the_whole_call(state):
    s, (fd,) = ok(open_(state, "file"))
    good = (sb.Subscription(1, Eventtype.FD_READ, fd=fd), sb.Subscription(2, Eventtype.CLOCK, clock_id=1))
    for clock in (2, 3, 4):  # only realtime and monotonic can be waited on
        bad = good + (sb.Subscription(3, Eventtype.CLOCK, clock_id=clock),)
        assert err(sb.poll_oneoff(s, bad, (0,)), s) == Errno.INVAL
    assert err(sb.poll_oneoff(s, good + (sb.Subscription(3, Eventtype.FD_WRITE, fd=55),), (0,)), s) == Errno.BADF
    assert err(sb.poll_oneoff(s, good + (sb.Subscription(3, Eventtype.FD_READ, fd=BOX_FD),), (0,)), s) == Errno.BADF
    # Errors are found in subscription order.
    both = (sb.Subscription(3, Eventtype.FD_READ, fd=55), sb.Subscription(4, Eventtype.CLOCK, clock_id=3))
    assert err(sb.poll_oneoff(s, both, (0,)), s) == Errno.BADF
    assert err(sb.poll_oneoff(s, both[::-1], (0,)), s) == Errno.INVAL
    # Streams need POLL_FD_READWRITE too.
    s2, _ = ok(sb.fd_fdstat_set_rights(s, 0, Rights.FD_READ, 0))
    assert err(sb.poll_oneoff(s2, (sb.Subscription(1, Eventtype.FD_READ, fd=0),), (0,)), s2) == Errno.NOTCAPABLE


def test_descriptor_limit(state):
    """FD_LIMIT (model/wasi.py, 1024) descriptors in all: the next open is EMFILE, nothing changed."""
    s = state
    while len(s.fds.entries) < FD_LIMIT:
        s, _ = ok(open_(s, "file"))
    assert s.fds.fds()[-1] == FD_LIMIT - 1
    assert err(open_(s, "file"), s) == Errno.MFILE
    assert err(open_(s, "new", Oflags.CREAT), s) == Errno.MFILE
    assert err(sb.socket(s, INET, STREAM, 0), s) == Errno.MFILE


# --- sockets ---------------------------------------------------------------------------------------
def test_socket_connect_send_recv_shutdown(state):
    s, (fd,) = ok(sb.socket(state, INET, STREAM, 0))
    assert s.fds.get(fd).filetype == Filetype.SOCKET_STREAM
    assert err(sb.sock_send(s, fd, (b"x",), 0), s) == Errno.NOTCONN
    assert err(sb.sock_connect(s, fd, INET, 0x0B000001, 80), s) == Errno.NOTCAPABLE
    assert err(sb.sock_connect(s, fd, INET, 0x0A000001, 80, Errno.CONNREFUSED), s) == Errno.CONNREFUSED
    s, _ = ok(sb.sock_connect(s, fd, INET, 0x0A000001, 80))
    assert err(sb.sock_connect(s, fd, INET, 0x0A000001, 80), s) == Errno.ISCONN
    s, (n,) = ok(sb.sock_send(s, fd, (b"ab", b"c"), 0))
    assert n == 3 and s.trace[-1].addr == 0x0A000001
    assert ok(sb.sock_recv(s, fd, (4,), 0, b"hi"))[1] == (b"hi", 0)
    assert ok(sb.fd_read(s, fd, (4,), b"yo"))[1] == (b"yo",)
    assert ok(sb.fd_write(s, fd, (b"yo",)))[1] == (2,)
    assert err(sb.sock_send(s, fd, (b"x",), 1), s) == Errno.INVAL
    assert err(sb.sock_recv(s, fd, (4,), 8, b""), s) == Errno.INVAL
    s, _ = ok(sb.sock_shutdown(s, fd, 3))
    assert err(sb.sock_send(s, fd, (b"x",), 0), s) == Errno.PIPE
    assert ok(sb.sock_recv(s, fd, (4,), 0, b"late"))[1] == (b"", 0)
    assert err(sb.sock_shutdown(s, fd, 4), s) == Errno.INVAL
    s, _ = ok(sb.fd_close(s, fd))
    assert s.sockets == state.sockets


def test_invalid_socket_creation(state):
    assert err(sb.socket(state, INET, DGRAM, 0), state) == Errno.NOTCAPABLE  # no UDP/IPv4 rule
    assert err(sb.socket(state, 7, STREAM, 0), state) == Errno.AFNOSUPPORT
    assert err(sb.socket(state, INET, STREAM, 17), state) == Errno.PROTONOSUPPORT
    assert ok(sb.socket(state, INET6, DGRAM, 17))[1]


def test_invalid_socket_calls_on_non_sockets(state):
    for call, args in [(sb.sock_send, (BOX_FD, (b"x",), 0)), (sb.sock_recv, (BOX_FD, (1,), 0, b"")),
                       (sb.sock_shutdown, (1, 1)), (sb.sock_accept, (BOX_FD, 0, None)),
                       (sb.sock_connect, (1, INET, 0x0A000001, 80))]:
        assert err(call(state, *args), state) == Errno.NOTSOCK, call.__name__
    assert err(sb.sock_send(state, 99, (b"x",), 0), state) == Errno.BADF


def test_sock_accept(state):
    assert err(sb.sock_accept(state, LISTEN_FD, 0, None), state) == Errno.AGAIN
    assert err(sb.sock_accept(state, LISTEN_FD, Fdflags.APPEND, (1, 2)), state) == Errno.INVAL
    s, (fd,) = ok(sb.sock_accept(state, LISTEN_FD, Fdflags.NONBLOCK, (0x7F000001, 4000)))
    d = s.fds.get(fd)
    assert d.rights_base & ~s.fds.get(LISTEN_FD).rights_inheriting == 0
    assert err(sb.sock_accept(s, fd, 0, (1, 2)), s) == Errno.NOTCAPABLE
    s, _ = ok(sb.sock_send(s, fd, (b"hello",), 0))  # inbound peers need no netlist entry
    assert ok(sb.sock_recv(s, fd, (9,), 0, b"x"))[1] == (b"x", 0)
    s, (c,) = ok(sb.socket(s, INET, STREAM, 0))
    assert err(sb.sock_accept(s, c, 0, (1, 2)), s) == Errno.NOTCAPABLE


# --- contracts and broken models ------------------------------------------------------------------
def test_contracts_are_on(state):
    assert all(hasattr(f, "__preconditions__") for f in sb.TRANSITIONS.values())
    bad = replace(state, netlist=state.netlist + (state.netlist[0].__class__(6, INET, 1, 8, 0, 0),))
    with pytest.raises(icontract.ViolationError):
        sb.sched_yield(bad)


def test_invalid_state_rejected_by_wf(state):
    outside = state.fs.lookup(1, "secret")
    leaked = fdtable.Descriptor(Filetype.REGULAR_FILE, Rights.FD_READ, 0, Rights.FD_READ, node=outside)
    fds, _ = state.fds.insert(leaked)
    assert sb.wf(state) and not sb.wf(replace(state, fds=fds))


def test_broken_dotdot_at_root_is_caught(monkeypatch, state):
    """Mutant: `..` at the start goes to the real parent (as the kernel would)."""
    def parent_dir(self):
        if not self.dirs:
            self.base = self.fs.node(self.base).parent
            return
        self.base = self.dirs.pop()
        self.names.pop()
    monkeypatch.setattr(paths._Walk, "parent_dir", parent_dir)
    # Caught by the resolver's own contract, and failing that by wf (a descriptor outside the preopen).
    with pytest.raises(icontract.ViolationError, match="walked from the start|wf preserved"):
        open_(state, "../secret")


def test_broken_rights_that_grow_are_caught(monkeypatch, state):
    """Mutant: fd_fdstat_set_rights lets rights grow."""
    monkeypatch.setattr(fdtable.FdTable, "set_rights", lambda self, fd, b, i: self.put(
        fd, replace(self.get(fd), rights_base=b, rights_inheriting=i)))
    s, _ = ok(sb.fd_fdstat_set_rights(state, BOX_FD, Rights.PATH_OPEN, 0))
    with pytest.raises(icontract.ViolationError, match="rights only shrink"):
        sb.fd_fdstat_set_rights(s, BOX_FD, Rights.PATH_OPEN | Rights.PATH_CREATE_FILE, 0)


def test_broken_narrowing_is_caught(monkeypatch, state):
    """Mutant: path_open gives what was asked, ignoring the parent's inheriting rights."""
    monkeypatch.setattr(sb, "narrow", lambda req, inh, mask: req & mask)
    s, _ = ok(sb.fd_fdstat_set_rights(state, BOX_FD, Rights.PATH_OPEN, Rights.FD_READ))
    with pytest.raises(icontract.ViolationError):
        open_(s, "file")


def test_broken_error_that_changes_state_is_caught(monkeypatch, state):
    """Mutant: the filesystem unlinks, then reports an error: the call still leaves the state unchanged."""
    orig_unlink = sb.FileSystem.unlink
    def unlink_then_fail(self, d, name, now):
        orig_unlink(self, d, name, now)
        raise sb.WasiError(Errno.IO)
    monkeypatch.setattr(sb.FileSystem, "unlink", unlink_then_fail)
    s, e, _ = sb.path_unlink_file(state, BOX_FD, "file")
    assert e == Errno.IO and s == state  # the model's own rule keeps errors pure


def test_broken_netlist_is_caught(monkeypatch, state):
    """Mutant: sock_connect forgets the netlist."""
    from vwasm.model import net
    monkeypatch.setattr(net, "allowed", lambda *a: True)
    s, (fd,) = ok(sb.socket(state, INET, STREAM, 0))
    monkeypatch.undo()
    from vwasm.model import net as net2
    monkeypatch.setattr(net2, "connect_rule", lambda nl, sock, fam, addr, port: sock._replace(
        status="connected", peer=(addr, port)))
    with pytest.raises(icontract.ViolationError, match="trace grows"):
        sb.sock_connect(s, fd, INET, 0x0B000001, 80)


def test_broken_absolute_symlink_creation_is_caught(monkeypatch, state):
    """Mutant: path_symlink accepts absolute texts; resolution still refuses them (one escape)."""
    s, _ = ok(sb.path_symlink(state, "secret2", BOX_FD, "abs2"))
    box = s.fs.lookup(1, "box")
    fs, _ = s.fs.create_symlink(box, "abs3", "/secret", 0)
    s = replace(s, fs=fs)
    assert err(open_(s, "abs3"), s) == Errno.PERM
