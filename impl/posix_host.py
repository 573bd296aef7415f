"""The trusted OS layer: `PosixHost`, every operation on the world a handler may perform.

Handlers never touch `os`: they call a Host. This module is part of the TCB (with `abi.py`): no
obligation can check it against the kernel except by running it (`host.posix_vs_model`), so it
stays small, obviously correct, and imports nothing of ours but the vocabulary (`vwasm.model.wasi`).
`vwasm.model_host.ModelHost` implements the same protocol over the abstract filesystem, so handlers
can be checked against the model.
Handles are whatever the Host uses to name an open object: an OS fd for PosixHost, or an in-process
stream (`vwasm.streams`) for the standard streams.
OS failures come back as `WasiError` carrying the WASI errno (`errno_of`, the one translation table).
"""
from __future__ import annotations

import ctypes
import errno as E
import fcntl
import functools
import mmap
import os
import select
import _socket  # socket.py's C core: the constants and address conversions (socket.py: first socket)
import stat as S
import time
from typing import NamedTuple

from vwasm.model.wasi import I64_MAX, AddressFamily, Clockid, Errno, Filetype, Sdflags, SocketType, WasiError



class Open:
    """What `Host.openat` is asked for (a host-neutral open(2) flag set; O_NOFOLLOW is implied)."""

    READ = 1 << 0
    WRITE = 1 << 1
    CREATE = 1 << 2
    EXCL = 1 << 3
    TRUNC = 1 << 4
    DIRECTORY = 1 << 5
    APPEND = 1 << 6
    NONBLOCK = 1 << 7
    DSYNC = 1 << 8
    SYNC = 1 << 9
    RSYNC = 1 << 10
    PATH = 1 << 11  # a handle only to walk from (O_PATH): no reading, no writing



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


_FILETYPES = {  # by the S_IFMT bits of a mode; anything else, FIFOs included, is UNKNOWN (as wasmtime)
    S.S_IFDIR: Filetype.DIRECTORY, S.S_IFREG: Filetype.REGULAR_FILE, S.S_IFLNK: Filetype.SYMBOLIC_LINK,
    S.S_IFCHR: Filetype.CHARACTER_DEVICE, S.S_IFBLK: Filetype.BLOCK_DEVICE, S.S_IFSOCK: Filetype.SOCKET_STREAM,
}
_UNKNOWN = Filetype.UNKNOWN
_IFMT = 0o170000  # S.S_IFMT(mode) is mode & _IFMT, without the call


def filetype_of(mode: int) -> Filetype:
    return _FILETYPES.get(mode & _IFMT, _UNKNOWN)


def stat_of(st: os.stat_result) -> Stat:
    return Stat(st.st_dev, st.st_ino, filetype_of(st.st_mode), st.st_nlink, st.st_size,
                st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)


_OPEN_FLAGS = (
    (Open.CREATE, os.O_CREAT), (Open.EXCL, os.O_EXCL), (Open.TRUNC, os.O_TRUNC),
    (Open.DIRECTORY, os.O_DIRECTORY), (Open.APPEND, os.O_APPEND), (Open.NONBLOCK, os.O_NONBLOCK),
    (Open.DSYNC, os.O_DSYNC), (Open.SYNC, os.O_SYNC), (Open.RSYNC, os.O_RSYNC),
)


@functools.lru_cache(maxsize=None)
def _os_flags(flags: int) -> int:
    """O_NOFOLLOW | O_CLOEXEC and the open(2) flags of an `Open` flag set (worked out once per set)."""
    osflags = os.O_NOFOLLOW | os.O_CLOEXEC
    for bit, osbit in _OPEN_FLAGS:
        if flags & bit:
            osflags |= osbit
    return osflags


@functools.lru_cache(maxsize=None)
def _open_plan(flags: int) -> tuple[int, int | None]:
    """How a guest's new descriptor is opened for an `Open` flag set (worked out once per set): the
    open(2) flags, and the F_SETFL flags that make it blocking again after the open -- None if the
    open is made as asked.

    Opening must never block: a FIFO (or a device) put in the tree by someone else would otherwise
    hang open(2) until a peer appears. So it opens non-blocking, never as a controlling terminal, and
    O_NONBLOCK is dropped afterwards unless asked for (of these flags, F_SETFL sets only O_APPEND and
    O_NONBLOCK). An open that can only make a new file (O_CREAT | O_EXCL) or only open a directory
    never waits: the kernel refuses anything else first (EEXIST, ENOTDIR), so those open blocking as
    asked. A regular file or a directory keeps O_NONBLOCK (one syscall less on the most common open):
    Linux's reads and writes of those never consult it (only pipes, sockets and devices do), and a
    FUSE daemon was told of it at the open anyway (`_open_new`)."""
    osflags = _os_flags(flags) | os.O_NOCTTY
    if flags & Open.WRITE:
        osflags |= os.O_RDWR if flags & Open.READ else os.O_WRONLY
    if flags & Open.DIRECTORY or flags & Open.CREATE and flags & Open.EXCL:
        return osflags, None
    return osflags | os.O_NONBLOCK, None if flags & Open.NONBLOCK else osflags


def _component(name: str) -> str:
    """A single path component, as resolve.py hands them over; anything else never reaches the OS."""
    if type(name) is not str or name in ("", "..") or "/" in name:
        raise WasiError(Errno.PERM)
    if "\0" in name:
        raise WasiError(Errno.INVAL)
    return name


_NOT_PLAIN = frozenset(("", ".", ".."))  # path components that are no name


def _beneath(path: str) -> str:
    """A relative path of plain names, as resolve.py hands them to `open_beneath` (no empty, `.` or
    `..` component: no leading, trailing or double slash); anything else never reaches the OS."""
    if type(path) is not str or not _NOT_PLAIN.isdisjoint(path.split("/")):
        raise WasiError(Errno.PERM)
    if "\0" in path:
        raise WasiError(Errno.INVAL)
    return path


# openat2(2) (Linux 5.6), which `os` lacks, resolving a whole relative path in the kernel. With
# RESOLVE_NO_SYMLINKS the kernel refuses any symlink on the way (ELOOP), with RESOLVE_NO_MAGICLINKS
# any /proc link, with RESOLVE_BENEATH any escape (EXDEV): over plain names it opens what
# resolve.py's walk would, in one system call instead of two per directory. cap-std does the same.
_SYS_OPENAT2 = 437  # asm-generic numbering: the same on every Linux architecture
_RESOLVE = 0x02 | 0x04 | 0x08  # RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


# syscall(2) without argtypes: converting through them cost as much as the system call. So every
# argument is made a ctypes object of its C type here (a bytes is a char *), once where it can be.
_syscall = ctypes.CDLL(None, use_errno=True).syscall
_syscall.restype = ctypes.c_long
_NR_OPENAT2 = ctypes.c_long(_SYS_OPENAT2)
_HOW_SIZE = ctypes.c_size_t(ctypes.sizeof(_OpenHow))  # 24: open_how as Linux 5.6 defined it
# (flags, mode) -> (open_how, its address): never changed once made, so the threads' calls share them.
_HOWS: dict[tuple[int, int], tuple[_OpenHow, ctypes.c_void_p]] = {}
_OPENAT2 = [True]  # False once the kernel answered ENOSYS


def _openat2(path: str, osflags: int, mode: int, *, dir_fd: int) -> int:
    """openat2(dir_fd, path, {osflags, mode, _RESOLVE}): a new fd, or OSError."""
    key = (osflags, mode if osflags & os.O_CREAT else 0)  # a mode without O_CREAT is EINVAL
    how = _HOWS.get(key)
    if how is None:
        made = _OpenHow(*key, _RESOLVE)
        how = _HOWS.setdefault(key, (made, ctypes.c_void_p(ctypes.addressof(made))))
    fd = _syscall(_NR_OPENAT2, ctypes.c_long(dir_fd), os.fsencode(path), how[1], _HOW_SIZE)
    if fd < 0:
        err = ctypes.get_errno()
        if err == E.ENOSYS:
            _OPENAT2[0] = False
        raise OSError(err, os.strerror(err))
    return fd


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
# Reading each clock, by plain int ids (an enum key costs ~60 ns a read): time_ns and monotonic_ns are
# clock_gettime(CLOCK_REALTIME / MONOTONIC) on Linux, several times cheaper than clock_gettime_ns.
_NOW = {int(clock): functools.partial(time.clock_gettime_ns, osclock) for clock, osclock in _CLOCKS.items()}
_NOW.update({int(Clockid.REALTIME): time.time_ns, int(Clockid.MONOTONIC): time.monotonic_ns})


_POLL_MAX_MS = 2**31 - 1  # poll(2)'s timeout is a C int of milliseconds
_SLEEP_MAX_NS = 86_400 * 10**9  # one day per time.sleep

_FAMILIES = {AddressFamily.INET: _socket.AF_INET, AddressFamily.INET6: _socket.AF_INET6}
_TYPES = {SocketType.STREAM: _socket.SOCK_STREAM, SocketType.DGRAM: _socket.SOCK_DGRAM}
_SHUT = {Sdflags.RD: _socket.SHUT_RD, Sdflags.WR: _socket.SHUT_WR, Sdflags.RD | Sdflags.WR: _socket.SHUT_RDWR}


def _socket_object(*args, **kwargs):
    """A `socket.socket`. socket.py loads here, at the first socket: importing it builds an enum of
    every constant, ~5 ms that every start would pay otherwise, sockets or not."""
    import socket
    return socket.socket(*args, **kwargs)


def _sockaddr(family: int, addr: bytes, port: int) -> tuple:
    text = _socket.inet_ntop(_FAMILIES[family], addr)
    return (text, port) if family == AddressFamily.INET else (text, port, 0, 0)


# --- file positions kept in user space ----------------------------------------------------------
# A regular file a guest opens is its own: no other descriptor shares its open file description (WASI
# has no dup; the standard streams are dups and are never kept here). So its position is kept here, and
# its reads and writes are preadv/pwritev at it: fd_tell and most fd_seeks need no system call (~0.65
# µs each here), as in wasmtime, which keeps positions the same way. While the file is in append mode
# the kernel keeps the position instead, since every write must land at the end, atomically.
# POSITIONS[fd] for an OS fd: 0 for an fd not kept here (anything not opened by `open_file`, or not a
# regular file), APPENDING for a file of ours in append mode, ~position (< 0) otherwise -- so the zeroed
# pages of a fresh mapping mean "not kept". fds from TRACKED_FDS up are never kept (their positions
# stay the kernel's). fastcalls.c reads and moves the same words (`vwasm_fast_init` gets their address).
TRACKED_FDS = 1 << 16
APPENDING = 1
# Private: a forked child moves its own copies. Pages are touched only when used.
POSITIONS = memoryview(mmap.mmap(-1, TRACKED_FDS * 8, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)).cast("q")


def _position(h: int) -> int:
    """POSITIONS[h], 0 for an fd beyond the table."""
    return POSITIONS[h] if h < TRACKED_FDS else 0


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
        s = _socket_object(family, _socket.SOCK_STREAM)
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
            at = POSITIONS[h] if h < TRACKED_FDS else 0  # _position, inline: the hottest path
            if at >= 0:
                return os.readv(h, bufs)
            n = os.preadv(h, bufs, ~at)
            POSITIONS[h] = at - n  # ~(position + n)
            return n
        except OSError as e:
            raise WasiError(errno_of(e)) from None

    def writev(self, h, bufs) -> int:
        if type(h) is not int:
            return h.writev(bufs)
        try:
            at = POSITIONS[h] if h < TRACKED_FDS else 0  # _position, inline
            if at >= 0:
                return os.writev(h, bufs)
            n = os.pwritev(h, bufs, ~at)
            POSITIONS[h] = at - n  # ~(position + n)
            return n
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
        """lseek; whence is WASI's (SET, CUR, END), which equal POSIX's 0, 1, 2. A position kept here
        moves as lseek would move it on a file system without a size limit: to any new position in
        [0, 2**63) (EINVAL outside), after the end too."""
        if type(h) is not int:
            raise WasiError(Errno.SPIPE)
        try:
            at = _position(h)
            if at >= 0 or whence not in (0, 1, 2):
                return os.lseek(h, offset, whence)
            new = offset + (0 if whence == 0 else ~at if whence == 1 else os.fstat(h).st_size)
        except OSError as e:
            raise WasiError(errno_of(e)) from None
        if not 0 <= new <= I64_MAX:
            raise WasiError(Errno.INVAL)
        POSITIONS[h] = ~new
        return new

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
            if h < TRACKED_FDS:
                POSITIONS[h] = 0  # the number is free after close(2), even one that fails
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
        """O_APPEND and O_NONBLOCK; a file of ours hands its position to the kernel on entering append
        mode and takes it back on leaving it."""
        if type(h) is not int:
            return
        flags = self._os(fcntl.fcntl, h, fcntl.F_GETFL) & ~(os.O_APPEND | os.O_NONBLOCK)
        flags |= (os.O_APPEND if append else 0) | (os.O_NONBLOCK if nonblock else 0)
        self._os(fcntl.fcntl, h, fcntl.F_SETFL, flags)
        at = _position(h)
        if at < 0 and append:
            self._os(os.lseek, h, ~at, os.SEEK_SET)
            POSITIONS[h] = APPENDING
        elif at == APPENDING and not append:
            POSITIONS[h] = ~self._os(os.lseek, h, 0, os.SEEK_CUR)

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
        if flags & Open.PATH:
            return self._at(os.open, _component(name), _os_flags(flags) | os.O_PATH, mode, dir_fd=_fd(dirh))
        return self.open_file(dirh, name, flags, mode)[0]

    def open_file(self, dirh, name: str, flags: int = Open.READ, mode: int = 0o666) -> tuple[int, Filetype]:
        """openat as above for a guest's new descriptor (not Open.PATH), and the new fd's file type."""
        return self._open_new(os.open, _component(name), _fd(dirh), flags, mode)

    def open_beneath(self, dirh, path: str, flags: int = Open.READ, mode: int = 0o666) -> tuple[int, Filetype]:
        """`open_file` of a relative path of plain names, resolved whole by the kernel (openat2,
        refusing symlinks and escapes: the one place a path reaches the OS whole); ENOSYS on a kernel
        without openat2."""
        if not _OPENAT2[0]:
            raise WasiError(Errno.NOSYS)
        return self._open_new(_openat2, _beneath(path), _fd(dirh), flags, mode)

    def dir_beneath(self, dirh, path: str) -> int:
        """A path handle (O_PATH) of the directory a relative path of plain names names, resolved whole
        by the kernel as `open_beneath` resolves it (a symlink anywhere on it refused, the last name
        too); ENOSYS on a kernel without openat2."""
        if not _OPENAT2[0]:
            raise WasiError(Errno.NOSYS)
        return self._at(_openat2, _beneath(path), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, 0, dir_fd=_fd(dirh))

    def stat_beneath(self, dirh, path: str) -> Stat:
        """`fstatat` of a relative path of plain names, resolved whole by the kernel as `open_beneath`
        resolves it: O_PATH | O_NOFOLLOW opens a final symlink as itself, so it is reported as itself
        (RESOLVE_NO_SYMLINKS refuses only the ones on the way); ENOSYS on a kernel without openat2."""
        if not _OPENAT2[0]:
            raise WasiError(Errno.NOSYS)
        fd = self._at(_openat2, _beneath(path), os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, 0, dir_fd=_fd(dirh))
        try:
            return stat_of(self._at(os.fstat, fd))
        finally:
            os.close(fd)

    @staticmethod
    def _open_new(opener, path: str, dir_fd: int, flags: int, mode: int) -> tuple[int, Filetype]:
        """A guest's new descriptor: `opener(path, osflags, mode, dir_fd=...)` (os.open or _openat2)
        of path beneath dir_fd, and the new fd's file type."""
        osflags, blocking = _open_plan(flags)
        try:
            fd = opener(path, osflags, mode, dir_fd=dir_fd)
        except OSError as e:
            raise WasiError(errno_of(e)) from None
        try:
            fmt = os.fstat(fd).st_mode & _IFMT
            # (I/O on a regular file or a directory never consults O_NONBLOCK: it may stay.)
            if blocking is not None and fmt != S.S_IFREG and fmt != S.S_IFDIR:
                fcntl.fcntl(fd, fcntl.F_SETFL, blocking)
        except OSError as e:
            os.close(fd)
            raise WasiError(errno_of(e)) from None
        if fd < TRACKED_FDS:  # set for every new fd: a number is reused after close
            POSITIONS[fd] = 0 if fmt != S.S_IFREG else APPENDING if flags & Open.APPEND else ~0
        return fd, filetype_of(fmt)

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
            return _socket_object(_FAMILIES[family], _TYPES[type_]).detach()
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
        s = _socket_object(fileno=h)
        try:
            return getattr(s, method)(*args)
        except OSError as e:
            raise WasiError(errno_of(e)) from None
        finally:
            s.detach()

    # --- clocks, sleep, randomness ------------------------------------------------------------------
    def clock_time(self, clock: Clockid) -> int:
        return _NOW[clock]()

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
