"""The Host: every operation on the world that a handler may perform.

Handlers never touch `os`: they call a Host. `PosixHost` is the trusted layer over the kernel (part
of the TCB: keep it small and obviously correct); `ModelHost` implements the same protocol over the
abstract filesystem of `vwasm.model.fs`, so handlers can be checked against the model.
Handles are whatever the Host uses to name an open object: an OS fd for PosixHost, or an in-process
stream (`vwasm.streams`) for the standard streams.
OS failures come back as `WasiError` carrying the WASI errno (`errno_of`, the one translation table).
"""
from __future__ import annotations

import errno as E
import fcntl
import os
import select
import socket as _socket
import stat as S
import time
from typing import NamedTuple

from vwasm.model.wasi import AddressFamily, Clockid, Errno, Filetype, Sdflags, SocketType, WasiError

from .resolve import Open


class Stat(NamedTuple):
    """filestat as the handlers need it (times in ns)."""

    dev: int
    ino: int
    filetype: Filetype
    nlink: int
    size: int
    atim: int
    mtim: int
    ctim: int


_ERRNO = {
    E.E2BIG: Errno.TOOBIG, E.EACCES: Errno.ACCES, E.EADDRINUSE: Errno.ADDRINUSE,
    E.EADDRNOTAVAIL: Errno.ADDRNOTAVAIL, E.EAFNOSUPPORT: Errno.AFNOSUPPORT, E.EAGAIN: Errno.AGAIN,
    E.EALREADY: Errno.ALREADY, E.EBADF: Errno.BADF, E.EBADMSG: Errno.BADMSG, E.EBUSY: Errno.BUSY,
    E.ECANCELED: Errno.CANCELED, E.ECHILD: Errno.CHILD, E.ECONNABORTED: Errno.CONNABORTED,
    E.ECONNREFUSED: Errno.CONNREFUSED, E.ECONNRESET: Errno.CONNRESET, E.EDEADLK: Errno.DEADLK,
    E.EDESTADDRREQ: Errno.DESTADDRREQ, E.EDOM: Errno.DOM, E.EDQUOT: Errno.DQUOT, E.EEXIST: Errno.EXIST,
    E.EFAULT: Errno.FAULT, E.EFBIG: Errno.FBIG, E.EHOSTUNREACH: Errno.HOSTUNREACH, E.EIDRM: Errno.IDRM,
    E.EILSEQ: Errno.ILSEQ, E.EINPROGRESS: Errno.INPROGRESS, E.EINTR: Errno.INTR, E.EINVAL: Errno.INVAL,
    E.EIO: Errno.IO, E.EISCONN: Errno.ISCONN, E.EISDIR: Errno.ISDIR, E.ELOOP: Errno.LOOP,
    E.EMFILE: Errno.MFILE, E.EMLINK: Errno.MLINK, E.EMSGSIZE: Errno.MSGSIZE, E.EMULTIHOP: Errno.MULTIHOP,
    E.ENAMETOOLONG: Errno.NAMETOOLONG, E.ENETDOWN: Errno.NETDOWN, E.ENETRESET: Errno.NETRESET,
    E.ENETUNREACH: Errno.NETUNREACH, E.ENFILE: Errno.NFILE, E.ENOBUFS: Errno.NOBUFS, E.ENODEV: Errno.NODEV,
    E.ENOENT: Errno.NOENT, E.ENOEXEC: Errno.NOEXEC, E.ENOLCK: Errno.NOLCK, E.ENOLINK: Errno.NOLINK,
    E.ENOMEM: Errno.NOMEM, E.ENOMSG: Errno.NOMSG, E.ENOPROTOOPT: Errno.NOPROTOOPT, E.ENOSPC: Errno.NOSPC,
    E.ENOSYS: Errno.NOSYS, E.ENOTCONN: Errno.NOTCONN, E.ENOTDIR: Errno.NOTDIR, E.ENOTEMPTY: Errno.NOTEMPTY,
    E.ENOTRECOVERABLE: Errno.NOTRECOVERABLE, E.ENOTSOCK: Errno.NOTSOCK, E.ENOTSUP: Errno.NOTSUP,
    E.ENOTTY: Errno.NOTTY, E.ENXIO: Errno.NXIO, E.EOVERFLOW: Errno.OVERFLOW, E.EOWNERDEAD: Errno.OWNERDEAD,
    E.EPERM: Errno.PERM, E.EPIPE: Errno.PIPE, E.EPROTO: Errno.PROTO, E.EPROTONOSUPPORT: Errno.PROTONOSUPPORT,
    E.EPROTOTYPE: Errno.PROTOTYPE, E.ERANGE: Errno.RANGE, E.EROFS: Errno.ROFS, E.ESPIPE: Errno.SPIPE,
    E.ESRCH: Errno.SRCH, E.ESTALE: Errno.STALE, E.ETIMEDOUT: Errno.TIMEDOUT, E.ETXTBSY: Errno.TXTBSY,
    E.EXDEV: Errno.XDEV,
}


def errno_of(exc: OSError) -> Errno:
    """The WASI errno for an OS error (EIO for anything preview1 has no name for)."""
    return _ERRNO.get(exc.errno, Errno.IO)


def filetype_of(mode: int) -> Filetype:
    return (
        Filetype.DIRECTORY if S.S_ISDIR(mode) else
        Filetype.REGULAR_FILE if S.S_ISREG(mode) else
        Filetype.SYMBOLIC_LINK if S.S_ISLNK(mode) else
        Filetype.CHARACTER_DEVICE if S.S_ISCHR(mode) else
        Filetype.BLOCK_DEVICE if S.S_ISBLK(mode) else
        Filetype.SOCKET_STREAM if S.S_ISSOCK(mode) else
        Filetype.UNKNOWN  # FIFOs included, as wasmtime
    )


def stat_of(st: os.stat_result) -> Stat:
    return Stat(st.st_dev, st.st_ino, filetype_of(st.st_mode), st.st_nlink, st.st_size,
                st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)


_OPEN_FLAGS = (
    (Open.CREATE, os.O_CREAT), (Open.EXCL, os.O_EXCL), (Open.TRUNC, os.O_TRUNC),
    (Open.DIRECTORY, os.O_DIRECTORY), (Open.APPEND, os.O_APPEND), (Open.NONBLOCK, os.O_NONBLOCK),
    (Open.DSYNC, os.O_DSYNC), (Open.SYNC, os.O_SYNC), (Open.RSYNC, os.O_RSYNC),
)


def _component(name: str) -> str:
    """A single path component, as resolve.py hands them over; anything else never reaches the OS."""
    if type(name) is not str or name in ("", "..") or "/" in name:
        raise WasiError(Errno.PERM)
    if "\0" in name:
        raise WasiError(Errno.INVAL)
    return name


def _fd(h) -> int:
    """The OS fd of a directory handle (a stream is no directory)."""
    if type(h) is not int:
        raise WasiError(Errno.NOTDIR)
    return h


def _dirent_type(e: os.DirEntry) -> Filetype:
    """A directory entry's type from d_type (one lstat only for the rare kinds d_type leaves open)."""
    try:
        if e.is_symlink():
            return Filetype.SYMBOLIC_LINK
        if e.is_dir(follow_symlinks=False):
            return Filetype.DIRECTORY
        if e.is_file(follow_symlinks=False):
            return Filetype.REGULAR_FILE
        return filetype_of(e.stat(follow_symlinks=False).st_mode)
    except OSError:  # vanished meanwhile
        return Filetype.UNKNOWN


_CLOCKS = {
    Clockid.REALTIME: time.CLOCK_REALTIME,
    Clockid.MONOTONIC: time.CLOCK_MONOTONIC,
    Clockid.PROCESS_CPUTIME_ID: time.CLOCK_PROCESS_CPUTIME_ID,
    Clockid.THREAD_CPUTIME_ID: time.CLOCK_THREAD_CPUTIME_ID,
}


_POLL_MAX_MS = 2**31 - 1  # poll(2)'s timeout is a C int of milliseconds
_SLEEP_MAX_NS = 86_400 * 10**9  # one day per time.sleep

_FAMILIES = {AddressFamily.INET: _socket.AF_INET, AddressFamily.INET6: _socket.AF_INET6}
_TYPES = {SocketType.STREAM: _socket.SOCK_STREAM, SocketType.DGRAM: _socket.SOCK_DGRAM}
_SHUT = {Sdflags.RD: _socket.SHUT_RD, Sdflags.WR: _socket.SHUT_WR, Sdflags.RD | Sdflags.WR: _socket.SHUT_RDWR}


def _sockaddr(family: int, addr: bytes, port: int) -> tuple:
    text = _socket.inet_ntop(_FAMILIES[family], addr)
    return (text, port) if family == AddressFamily.INET else (text, port, 0, 0)


class PosixHost:
    """The trusted layer over the kernel. Every method is one OS call, errors translated."""

    # --- what the embedder grants at start-up (never reachable by the guest) -------------------
    def open_preopen(self, path: str) -> int:
        """A directory the embedder grants, opened once; the guest reaches only what lies beneath."""
        try:
            return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise OSError(e.errno, f"cannot open directory {path!r}: {e.strerror}") from None

    def open_stdio(self, path: str, write: bool) -> int:
        """A host file standing in for a standard stream."""
        flags = (os.O_WRONLY | os.O_CREAT | os.O_TRUNC) if write else os.O_RDONLY
        return os.open(path, flags | os.O_CLOEXEC, 0o644)

    def inherited(self, fd: int) -> int:
        """A duplicate of one of this process's standard streams (so closing it is the guest's own)."""
        return os.dup(fd)

    def listen_tcp(self, address: str, port: int) -> tuple[int, AddressFamily]:
        """A listening TCP socket the embedder grants (`--tcplisten`): the guest may only accept on it."""
        family = _socket.AF_INET6 if ":" in address else _socket.AF_INET
        s = _socket.socket(family, _socket.SOCK_STREAM)
        s.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
            s.listen(128)
        except OSError:
            s.close()
            raise
        return s.detach(), (AddressFamily.INET6 if family == _socket.AF_INET6 else AddressFamily.INET)

    # --- streams and files ------------------------------------------------------------------------
    def readv(self, h, bufs) -> int:
        if type(h) is not int:
            return h.readv(bufs)
        try:
            return os.readv(h, bufs)
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    def writev(self, h, bufs) -> int:
        if type(h) is not int:
            return h.writev(bufs)
        try:
            return os.writev(h, bufs)
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    def preadv(self, h, bufs, offset: int) -> int:
        if type(h) is not int:
            raise WasiError(Errno.SPIPE)
        try:
            return os.preadv(h, bufs, offset)
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    def pwritev(self, h, bufs, offset: int) -> int:
        if type(h) is not int:
            raise WasiError(Errno.SPIPE)
        try:
            return os.pwritev(h, bufs, offset)
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    def seek(self, h, offset: int, whence: int) -> int:
        """lseek; whence is WASI's (SET, CUR, END), which equal POSIX's 0, 1, 2."""
        if type(h) is not int:
            raise WasiError(Errno.SPIPE)
        try:
            return os.lseek(h, offset, whence)
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    def fstat(self, h) -> Stat:
        if type(h) is not int:
            return Stat(0, 0, Filetype.UNKNOWN, 1, 0, 0, 0, 0)
        try:
            return stat_of(os.fstat(h))
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    def is_tty(self, h) -> bool:
        return type(h) is int and os.isatty(h)

    def close(self, h) -> None:
        if type(h) is int:
            try:
                os.close(h)
            except OSError as e:
                raise WasiError(errno_of(e)) from None

    def ready(self, reads: list, writes: list, timeout_ns: int | None) -> tuple[list, list]:
        """Which of the handles can be read / written without blocking, waiting up to timeout_ns.

        A guest may ask for any u64 timeout; poll(2) takes at most INT_MAX ms, so a longer wait is
        made of several polls (asking more of `select.poll` would be an OverflowError, not a wait)."""
        poller = select.poll()
        events: dict[int, int] = {}
        now_r = [h for h in reads if type(h) is not int]
        now_w = [h for h in writes if type(h) is not int]
        for h in reads:
            if type(h) is int:
                events[h] = events.get(h, 0) | select.POLLIN
        for h in writes:
            if type(h) is int:
                events[h] = events.get(h, 0) | select.POLLOUT
        for fd, ev in events.items():
            poller.register(fd, ev)
        if now_r or now_w:
            timeout_ns = 0
        deadline = None if timeout_ns is None else time.monotonic_ns() + timeout_ns
        while True:
            if deadline is None:
                ms = None
            else:
                ms = min(_POLL_MAX_MS, -(-max(0, deadline - time.monotonic_ns()) // 1_000_000))
            fired = dict(poller.poll(ms))  # with nothing registered this just waits
            if fired or ms is None or time.monotonic_ns() >= deadline:
                break
        ok = select.POLLIN | select.POLLOUT | select.POLLHUP | select.POLLERR
        rd = now_r + [h for h in reads if type(h) is int and fired.get(h, 0) & (ok & ~select.POLLOUT)]
        wr = now_w + [h for h in writes if type(h) is int and fired.get(h, 0) & (ok & ~select.POLLIN)]
        return rd, wr

    def ftruncate(self, h, size: int) -> None:
        self._os(os.ftruncate, h, size)

    def fallocate(self, h, offset: int, length: int) -> None:
        self._os(os.posix_fallocate, h, offset, length)

    def fadvise(self, h, offset: int, length: int, advice: int) -> None:
        # WASI's advice numbering equals POSIX_FADV_* on Linux (NORMAL..NOREUSE = 0..5)
        self._os(os.posix_fadvise, h, offset, length, advice)

    def fsync(self, h) -> None:
        self._os(os.fsync, h)

    def fdatasync(self, h) -> None:
        self._os(os.fdatasync, h)

    def futimens(self, h, atim: int | None, mtim: int | None) -> None:
        """Set times in ns; None keeps the current value."""
        if atim is None or mtim is None:
            st = self.fstat(h)
            atim = st.atim if atim is None else atim
            mtim = st.mtim if mtim is None else mtim
        self._os(os.utime, h, ns=(atim, mtim))

    def get_append(self, h) -> bool:
        return type(h) is int and bool(self._os(fcntl.fcntl, h, fcntl.F_GETFL) & os.O_APPEND)

    def set_status_flags(self, h, append: bool, nonblock: bool) -> None:
        if type(h) is not int:
            return
        flags = self._os(fcntl.fcntl, h, fcntl.F_GETFL) & ~(os.O_APPEND | os.O_NONBLOCK)
        flags |= (os.O_APPEND if append else 0) | (os.O_NONBLOCK if nonblock else 0)
        self._os(fcntl.fcntl, h, fcntl.F_SETFL, flags)

    @staticmethod
    def _os(fn, h, *args, **kw):
        if type(h) is not int:
            raise WasiError(Errno.BADF)
        try:
            return fn(h, *args, **kw)
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    # --- paths: one component relative to an open directory, never following a final symlink -------
    # Every name here is ONE component produced by `vwasm.resolve` (never empty, never `..`, no `/`);
    # `_component` re-checks that, so even a buggy caller cannot make the kernel walk a path.
    # O_NOFOLLOW is always on: the kernel never expands a symlink for us; resolve.py does, by hand.
    def openat(self, dirh, name: str, flags: int = Open.READ, mode: int = 0o666) -> int:
        """openat(dirh, name, O_NOFOLLOW | O_CLOEXEC | flags): a new OS fd."""
        osflags = os.O_NOFOLLOW | os.O_CLOEXEC
        for bit, osbit in _OPEN_FLAGS:
            if flags & bit:
                osflags |= osbit
        if flags & Open.PATH:
            return self._at(os.open, _component(name), osflags | os.O_PATH, mode, dir_fd=_fd(dirh))
        if flags & Open.WRITE:
            osflags |= os.O_RDWR if flags & Open.READ else os.O_WRONLY
        # Opening must never block: a FIFO (or a device) put in the tree by someone else would
        # otherwise hang open(2) until a peer appears. So open non-blocking, never as a controlling
        # terminal, and drop O_NONBLOCK afterwards unless the guest asked for it.
        fd = self._at(os.open, _component(name), osflags | os.O_NONBLOCK | os.O_NOCTTY, mode, dir_fd=_fd(dirh))
        if not flags & Open.NONBLOCK:
            try:
                fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            except OSError as e:
                os.close(fd)
                raise WasiError(errno_of(e)) from None
        return fd

    def readlinkat(self, dirh, name: str) -> str:
        """The text of the symlink `name` (EINVAL if it is not a symlink)."""
        return self._at(os.readlink, _component(name), dir_fd=_fd(dirh))

    def fstatat(self, dirh, name: str) -> Stat:
        """lstat of `name` in dirh (a symlink is reported as itself)."""
        return stat_of(self._at(os.stat, _component(name), dir_fd=_fd(dirh), follow_symlinks=False))

    def mkdirat(self, dirh, name: str, mode: int = 0o777) -> None:
        self._at(os.mkdir, _component(name), mode, dir_fd=_fd(dirh))

    def unlinkat(self, dirh, name: str, rmdir: bool = False) -> None:
        """unlinkat(dirh, name, AT_REMOVEDIR if rmdir)."""
        self._at(os.rmdir if rmdir else os.unlink, _component(name), dir_fd=_fd(dirh))

    def renameat(self, odirh, oname: str, ndirh, nname: str) -> None:
        self._at(os.rename, _component(oname), _component(nname), src_dir_fd=_fd(odirh), dst_dir_fd=_fd(ndirh))

    def linkat(self, odirh, oname: str, ndirh, nname: str) -> None:
        """A hard link to `oname` itself (a symlink is linked, not followed)."""
        self._at(os.link, _component(oname), _component(nname), src_dir_fd=_fd(odirh), dst_dir_fd=_fd(ndirh),
                 follow_symlinks=False)

    def symlinkat(self, target: str, dirh, name: str) -> None:
        """A new symlink `name` in dirh with text `target` (the text is never interpreted here)."""
        self._at(os.symlink, target, _component(name), dir_fd=_fd(dirh))

    def utimensat(self, dirh, name: str, atim: int | None, mtim: int | None) -> None:
        """Set times in ns of `name` itself (never following it); None keeps the current value."""
        name = _component(name)
        if atim is None or mtim is None:
            st = self.fstatat(dirh, name)
            atim = st.atim if atim is None else atim
            mtim = st.mtim if mtim is None else mtim
        self._at(os.utime, name, ns=(atim, mtim), dir_fd=_fd(dirh), follow_symlinks=False)

    def listdir(self, h) -> list[tuple[str, Filetype, int]]:
        """Every entry of the open directory h (not `.`/`..`): (name, filetype, inode number).

        os.scandir works on a duplicate of the fd and rewinds it, so each call lists afresh.
        """
        out = []
        try:
            with os.scandir(_fd(h)) as it:
                for e in it:
                    out.append((e.name, _dirent_type(e), e.inode()))
        except OSError as e:
            raise WasiError(errno_of(e)) from None
        return out

    @staticmethod
    def _at(fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    # --- sockets (the handlers have already checked the netlist) --------------------------------
    def socket(self, family: AddressFamily, type_: SocketType) -> int:
        try:
            return _socket.socket(_FAMILIES[family], _TYPES[type_]).detach()
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    def connect(self, h, family: AddressFamily, addr: bytes, port: int) -> None:
        self._sock(h, "connect", _sockaddr(family, addr, port))

    def accept(self, h, nonblock: bool) -> tuple[int, bytes, int]:
        """A connection waiting on listener h: (handle, peer address bytes, peer port)."""
        conn, peer = self._sock(h, "accept")
        try:
            conn.setblocking(not nonblock)
            family = _socket.AF_INET6 if conn.family == _socket.AF_INET6 else _socket.AF_INET
            # a link-local IPv6 peer comes back as "fe80::1%eth0": the scope is no part of the address
            addr = _socket.inet_pton(family, peer[0].partition("%")[0])
        except OSError as e:
            conn.close()
            raise WasiError(errno_of(e)) from None
        return conn.detach(), addr, peer[1]

    def recv(self, h, bufs, peek: bool, waitall: bool) -> tuple[int, bool]:
        """Receive into bufs: (bytes received, whether a datagram was truncated)."""
        flags = (_socket.MSG_PEEK if peek else 0) | (_socket.MSG_WAITALL if waitall else 0)
        n, _, msg_flags, _ = self._sock(h, "recvmsg_into", bufs, 0, flags)
        return n, bool(msg_flags & _socket.MSG_TRUNC)

    def send(self, h, bufs) -> int:
        return self._sock(h, "sendmsg", bufs)

    def shutdown(self, h, how: int) -> None:
        self._sock(h, "shutdown", _SHUT[how])

    @staticmethod
    def _sock(h, method: str, *args):
        """One socket call on a borrowed fd (the socket object is detached again, never closed)."""
        if type(h) is not int:
            raise WasiError(Errno.NOTSOCK)
        s = _socket.socket(fileno=h)
        try:
            return getattr(s, method)(*args)
        except OSError as e:
            raise WasiError(errno_of(e)) from None
        finally:
            s.detach()

    # --- clocks, sleep, randomness ------------------------------------------------------------------
    def clock_time(self, clock: Clockid) -> int:
        return time.clock_gettime_ns(_CLOCKS[clock])

    def clock_res(self, clock: Clockid) -> int:
        return max(1, round(time.clock_getres(_CLOCKS[clock]) * 1e9))

    def sleep(self, ns: int) -> None:
        """Sleep ns nanoseconds (any u64: time.sleep refuses more than a time_t's worth, so a long
        sleep is made of day-long ones)."""
        deadline = time.monotonic_ns() + ns
        while ns > 0:
            time.sleep(min(ns, _SLEEP_MAX_NS) / 1e9)
            ns = deadline - time.monotonic_ns()

    def random(self, n: int) -> bytes:
        return os.urandom(n)


# ==================================================================================================
class _Node:
    """A ModelHost handle: an open model node (kept by inode number, so it survives renames)."""

    __slots__ = ("ino", "read", "write", "append", "path_only", "offset", "closed")

    def __init__(self, ino: int, read: bool, write: bool, append: bool, path_only: bool) -> None:
        self.ino, self.read, self.write, self.append, self.path_only = ino, read, write, append, path_only
        self.offset = 0
        self.closed = False


class ModelHost:
    """The Host protocol over the abstract filesystem `vwasm.model.fs` (no I/O at all).

    It answers as Linux does for the *at() calls PosixHost makes (same errnos for the same tree), so
    handlers and resolve.py can be run and checked against the model. `fs` is the current
    `FileSystem` value (replaced on every change); `preopens` maps a host path to a directory inode.
    Clocks are a counter the caller may set; randomness is deterministic.
    """

    def __init__(self, fs=None, preopens: dict | None = None, now: int = 1_000_000_000) -> None:
        from vwasm.model import fs as mfs

        self._m = mfs
        self.fs = fs if fs is not None else mfs.FileSystem()
        self.preopens = preopens or {}
        self.now = now

    # --- helpers ----------------------------------------------------------------------------------
    def _tick(self) -> int:
        self.now += 1
        return self.now

    def _h(self, h) -> _Node:
        if type(h) is not _Node or h.closed:
            raise WasiError(Errno.BADF)
        return h

    def _dir(self, h) -> int:
        """The inode of an open directory handle (ENOTDIR for anything else, as the kernel)."""
        if type(h) is not _Node:
            raise WasiError(Errno.NOTDIR)
        h = self._h(h)
        if not self.fs.is_dir(h.ino):
            raise WasiError(Errno.NOTDIR)
        return h.ino

    def _lookup(self, d: int, name: str):
        if len(name.encode("utf-8", "surrogateescape")) > self._m.NAME_MAX:
            raise WasiError(Errno.NAMETOOLONG)
        return d if name == "." else self.fs.lookup(d, name)

    def _file(self, h) -> _Node:
        h = self._h(h)
        if not isinstance(self.fs.node(h.ino), self._m.File) or h.path_only:
            raise WasiError(Errno.BADF if h.path_only else Errno.ISDIR)
        return h

    def _stat(self, ino: int) -> Stat:
        n = self.fs.node(ino)
        return Stat(0, ino, n.filetype, self.fs.nlink(ino), self._m.node_size(n), n.atim, n.mtim, n.ctim)

    # --- start-up ---------------------------------------------------------------------------------
    def open_preopen(self, path: str) -> _Node:
        return _Node(self.preopens.get(path, self._m.ROOT), True, False, False, False)

    def open_stdio(self, path: str, write: bool):
        from .streams import BytesInput, CallbackOutput
        return CallbackOutput(lambda data: None) if write else BytesInput(b"")

    def inherited(self, fd: int):
        return self.open_stdio("", fd != 0)

    # --- paths --------------------------------------------------------------------------------------
    def openat(self, dirh, name: str, flags: int = Open.READ, mode: int = 0o666) -> _Node:
        d, name = self._dir(dirh), _component(name)
        ino = self._lookup(d, name)
        write = bool(flags & Open.WRITE) and not flags & Open.PATH
        read = bool(flags & Open.READ) and not flags & Open.PATH
        append = bool(flags & Open.APPEND)
        if ino is None:
            if not flags & Open.CREATE or flags & Open.PATH:
                raise WasiError(Errno.NOENT)
            # Linux: O_CREAT | O_DIRECTORY is EINVAL.
            if flags & Open.DIRECTORY:
                raise WasiError(Errno.INVAL)
            self.fs, ino = self.fs.create_file(d, name, self._tick())
            return _Node(ino, read, write, append, False)
        if flags & Open.CREATE and flags & Open.EXCL:
            raise WasiError(Errno.EXIST)
        node = self.fs.node(ino)
        if isinstance(node, self._m.Symlink):
            # O_NOFOLLOW is implied: a final symlink is refused (ENOTDIR when a directory was asked).
            raise WasiError(Errno.NOTDIR if flags & Open.DIRECTORY else Errno.LOOP)
        is_dir = isinstance(node, self._m.Dir)
        if flags & Open.DIRECTORY and not is_dir:
            raise WasiError(Errno.NOTDIR)
        if is_dir and not flags & Open.PATH and (write or flags & (Open.CREATE | Open.TRUNC)):
            raise WasiError(Errno.ISDIR)
        if flags & Open.TRUNC and not flags & Open.PATH and node.size:
            self.fs = self.fs.truncate(ino, 0, self._tick())
        return _Node(ino, read, write, append, bool(flags & Open.PATH))

    def readlinkat(self, dirh, name: str) -> str:
        d, name = self._dir(dirh), _component(name)
        ino = self._lookup(d, name)
        if ino is None:
            raise WasiError(Errno.NOENT)
        node = self.fs.node(ino)
        if not isinstance(node, self._m.Symlink):
            raise WasiError(Errno.INVAL)
        return node.target

    def fstatat(self, dirh, name: str) -> Stat:
        d, name = self._dir(dirh), _component(name)
        ino = self._lookup(d, name)
        if ino is None:
            raise WasiError(Errno.NOENT)
        return self._stat(ino)

    def mkdirat(self, dirh, name: str, mode: int = 0o777) -> None:
        d, name = self._dir(dirh), _component(name)
        if self._lookup(d, name) is not None:
            raise WasiError(Errno.EXIST)
        self.fs, _ = self.fs.create_dir(d, name, self._tick())

    def unlinkat(self, dirh, name: str, rmdir: bool = False) -> None:
        d, name = self._dir(dirh), _component(name)
        if name == ".":  # Linux: unlink(".") is EISDIR, rmdir(".") EINVAL
            raise WasiError(Errno.INVAL if rmdir else Errno.ISDIR)
        self._lookup(d, name)
        self.fs = (self.fs.rmdir if rmdir else self.fs.unlink)(d, name, self._tick())

    def renameat(self, odirh, oname: str, ndirh, nname: str) -> None:
        od, oname = self._dir(odirh), _component(oname)
        nd, nname = self._dir(ndirh), _component(nname)
        if oname == "." or nname == ".":
            raise WasiError(Errno.BUSY)
        self.fs = self.fs.rename(od, oname, nd, nname, self._tick())

    def linkat(self, odirh, oname: str, ndirh, nname: str) -> None:
        od, oname = self._dir(odirh), _component(oname)
        nd, nname = self._dir(ndirh), _component(nname)
        ino = self._lookup(od, oname)
        if ino is None:
            raise WasiError(Errno.NOENT)
        if self._lookup(nd, nname) is not None:
            raise WasiError(Errno.EXIST)
        self.fs = self.fs.link(nd, nname, ino, self._tick())

    def symlinkat(self, target: str, dirh, name: str) -> None:
        d, name = self._dir(dirh), _component(name)
        if self._lookup(d, name) is not None:
            raise WasiError(Errno.EXIST)
        self.fs, _ = self.fs.create_symlink(d, name, target, self._tick())

    def utimensat(self, dirh, name: str, atim: int | None, mtim: int | None) -> None:
        d, name = self._dir(dirh), _component(name)
        ino = self._lookup(d, name)
        if ino is None:
            raise WasiError(Errno.NOENT)
        self.fs = self.fs.set_times(ino, atim, mtim, self._tick())

    def listdir(self, h) -> list[tuple[str, Filetype, int]]:
        d = self._h(h).ino
        if not self.fs.is_dir(d):
            raise WasiError(Errno.NOTDIR)
        return [(name, self.fs.node(ino).filetype, ino) for name, ino in self.fs.listing(d)]

    # --- open objects -------------------------------------------------------------------------------
    def close(self, h) -> None:
        if type(h) is _Node:
            self._h(h).closed = True

    def fstat(self, h) -> Stat:
        if type(h) is not _Node:
            return Stat(0, 0, Filetype.UNKNOWN, 1, 0, 0, 0, 0)
        return self._stat(self._h(h).ino)

    def is_tty(self, h) -> bool:
        return False

    def readv(self, h, bufs) -> int:
        if type(h) is not _Node:
            return h.readv(bufs)
        h = self._file(h)
        n = self.preadv(h, bufs, h.offset)
        h.offset += n
        return n

    def preadv(self, h, bufs, offset: int) -> int:
        if type(h) is not _Node:
            raise WasiError(Errno.SPIPE)
        h = self._file(h)
        if not h.read:
            raise WasiError(Errno.BADF)
        data = self.fs.read(h.ino, offset, sum(len(b) for b in bufs))
        at = 0
        for b in bufs:
            chunk = data[at:at + len(b)]
            b[:len(chunk)] = chunk
            at += len(chunk)
        return len(data)

    def writev(self, h, bufs) -> int:
        if type(h) is not _Node:
            return h.writev(bufs)
        h = self._file(h)
        if h.append:
            h.offset = self.fs.node(h.ino).size
        n = self.pwritev(h, bufs, h.offset)
        h.offset += n
        return n

    def pwritev(self, h, bufs, offset: int) -> int:
        if type(h) is not _Node:
            raise WasiError(Errno.SPIPE)
        h = self._file(h)
        if not h.write:
            raise WasiError(Errno.BADF)
        data = b"".join(bytes(b) for b in bufs)
        if h.append:  # Linux: pwrite on an O_APPEND file appends
            offset = self.fs.node(h.ino).size
        self.fs = self.fs.write(h.ino, offset, data, self._tick())
        return len(data)

    def seek(self, h, offset: int, whence: int) -> int:
        if type(h) is not _Node:
            raise WasiError(Errno.SPIPE)
        h = self._file(h)
        new = offset + (0, h.offset, self.fs.node(h.ino).size)[whence]
        if new < 0:
            raise WasiError(Errno.INVAL)
        h.offset = new
        return new

    def ftruncate(self, h, size: int) -> None:
        h = self._file(h)
        if not h.write:
            raise WasiError(Errno.INVAL)
        self.fs = self.fs.truncate(h.ino, size, self._tick())

    def fallocate(self, h, offset: int, length: int) -> None:
        h = self._file(h)
        if not h.write:
            raise WasiError(Errno.BADF)
        if length == 0:  # posix_fallocate: an empty range is EINVAL
            raise WasiError(Errno.INVAL)
        if offset + length > self.fs.node(h.ino).size:
            self.fs = self.fs.truncate(h.ino, offset + length, self._tick())

    def fadvise(self, h, offset: int, length: int, advice: int) -> None:
        self._file(h)

    def fsync(self, h) -> None:
        self._h(h)

    def fdatasync(self, h) -> None:
        self._h(h)

    def futimens(self, h, atim: int | None, mtim: int | None) -> None:
        self.fs = self.fs.set_times(self._h(h).ino, atim, mtim, self._tick())

    def get_append(self, h) -> bool:
        return type(h) is _Node and self._h(h).append

    def set_status_flags(self, h, append: bool, nonblock: bool) -> None:
        if type(h) is _Node:
            self._h(h).append = append

    def ready(self, reads: list, writes: list, timeout_ns: int | None) -> tuple[list, list]:
        return list(reads), list(writes)  # model objects never block

    # --- clocks, sleep, randomness ------------------------------------------------------------------
    def clock_time(self, clock: Clockid) -> int:
        return self.now

    def clock_res(self, clock: Clockid) -> int:
        return 1

    def sleep(self, ns: int) -> None:
        self.now += max(0, ns)

    def random(self, n: int) -> bytes:
        return bytes(i & 0xFF for i in range(n))
