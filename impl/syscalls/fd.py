"""fd_* calls on any descriptor: streams, files, directories (fd_readdir lives with the paths).

Each handler: spec section, what it may modify, the right it needs. Every guest location it will
write is validated before the side effect, so a bad pointer traps with nothing done.
"""
from vwasm.model.wasi import (
    SUCCESS, ALL_RIGHTS, FDSTAT, FILESTAT, I64_MAX, PRESTAT, Advice, Clockid, Errno, Fdflags, Fstflags, Preopentype,
    WasiError, Whence,
)

from vwasm.model import net
from vwasm.model.rights import need, seek_condition

from ..fdtable import DIR, FILE, SOCKET, STDERR, STDIN, STDIO, STDOUT
from ..limits import wait_ready

_READABLE = (STDIN, FILE, SOCKET)
_WRITABLE = (STDOUT, STDERR, FILE, SOCKET)
_FILES = (FILE,)
_NODES = (FILE, DIR)  # descriptors backed by a filesystem object
_OFFSETLESS = (*STDIO, SOCKET)  # streams and sockets: no offset to seek or tell (ESPIPE)
# Whence as plain ints: testing an int against enum members costs ~0.1 µs a member (Python 3.11).
_WHENCES = frozenset(map(int, Whence))  # SET, CUR, END
_CUR = int(Whence.CUR)


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


# --- reading and writing ------------------------------------------------------------------------
def fd_read(cx, fd: int, iovs: int, iovs_len: int, nread_ptr: int) -> int:
    """preview1 fd_read. modifies: the iovec buffers, the file offset. right: FD_READ."""
    desc = cx.fds.get_kind(fd, _READABLE, need("fd_read"))
    if desc.kind == SOCKET:  # reading a socket is sock_recv: it must be connected
        net.io_rule(desc.extra["sock"], sending=False)
    bufs = cx.mem.iovecs(iovs, iovs_len)
    cx.mem.check(nread_ptr, 4, 4)
    # After shutdown(RD) a socket reads end of stream, as through sock_recv (the kernel would still
    # hand over what was buffered, and a datagram socket what arrives later).
    if desc.kind == SOCKET and desc.extra["sock"].shut_rd:
        cx.mem.put_u32(nread_ptr, 0)
        return SUCCESS
    if cx.deadline is not None:  # Config.timeout: a stream may block
        wait_ready(cx, desc)
    cx.mem.put_u32(nread_ptr, cx.host.readv(desc.handle, bufs))
    return SUCCESS


def fd_write(cx, fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
    """preview1 fd_write. modifies: the file or stream, its offset. right: FD_WRITE."""
    desc = cx.fds.get_kind(fd, _WRITABLE, need("fd_write"))
    if desc.kind == SOCKET:  # writing a socket is sock_send: connected, not shut for writing
        net.io_rule(desc.extra["sock"], sending=True)
    bufs = cx.mem.iovecs(iovs, iovs_len)
    cx.mem.check(nwritten_ptr, 4, 4)
    if cx.deadline is not None:  # Config.timeout: a stream may block
        wait_ready(cx, desc, write=True)
    cx.mem.put_u32(nwritten_ptr, cx.host.writev(desc.handle, bufs))
    return SUCCESS


def fd_pread(cx, fd: int, iovs: int, iovs_len: int, offset: int, nread_ptr: int) -> int:
    """preview1 fd_pread. modifies: the iovec buffers. rights: FD_READ | FD_SEEK."""
    # stdin has no offsets to read at (other streams: EBADF, as wasmtime).
    if cx.fds.get(fd).kind == STDIN:
        raise WasiError(Errno.SPIPE)
    desc = cx.fds.get_kind(fd, _FILES, need("fd_pread"))
    # Offsets are non-negative 63-bit (an off_t).
    if offset > I64_MAX:
        raise WasiError(Errno.INVAL)
    bufs = cx.mem.iovecs(iovs, iovs_len)
    cx.mem.check(nread_ptr, 4, 4)
    cx.mem.put_u32(nread_ptr, cx.host.preadv(desc.handle, bufs, offset))
    return SUCCESS


def fd_pwrite(cx, fd: int, iovs: int, iovs_len: int, offset: int, nwritten_ptr: int) -> int:
    """preview1 fd_pwrite. modifies: the file (at offset; at the end in append mode, as Linux)."""
    # Output streams have no offsets to write at (stdin: EBADF, as wasmtime).
    if cx.fds.get(fd).kind in (STDOUT, STDERR):
        raise WasiError(Errno.SPIPE)
    desc = cx.fds.get_kind(fd, _FILES, need("fd_pwrite"))
    # Offsets are non-negative 63-bit (an off_t).
    if offset > I64_MAX:
        raise WasiError(Errno.INVAL)
    bufs = cx.mem.iovecs(iovs, iovs_len)
    cx.mem.check(nwritten_ptr, 4, 4)
    cx.mem.put_u32(nwritten_ptr, cx.host.pwritev(desc.handle, bufs, offset))
    return SUCCESS


def _positioned(cx, fd: int, right: int):
    """A file, whose offset fd_seek/fd_tell move or report (streams and sockets have none: ESPIPE)."""
    if cx.fds.get(fd).kind in _OFFSETLESS:
        raise WasiError(Errno.SPIPE)
    return cx.fds.get_kind(fd, _FILES, right)


def fd_seek(cx, fd: int, offset: int, whence: int, newoffset_ptr: int) -> int:
    """preview1 fd_seek. modifies: the offset. right: FD_SEEK (FD_TELL for a pure query)."""
    # Only SET, CUR and END decode.
    if whence not in _WHENCES:
        raise WasiError(Errno.INVAL)
    desc = _positioned(cx, fd, need("fd_seek", "fd", seek_condition(offset, whence)))
    cx.mem.check(newoffset_ptr, 8, 8)
    # The offset is an s64 (_signed64, inline).
    cx.mem.put_u64(newoffset_ptr, cx.host.seek(desc.handle, offset - (1 << 64) if offset >> 63 else offset, whence))
    return SUCCESS


def fd_tell(cx, fd: int, offset_ptr: int) -> int:
    """preview1 fd_tell. modifies: nothing. right: FD_TELL."""
    desc = _positioned(cx, fd, need("fd_tell"))
    cx.mem.check(offset_ptr, 8, 8)
    cx.mem.put_u64(offset_ptr, cx.host.seek(desc.handle, 0, _CUR))
    return SUCCESS


# --- the table ----------------------------------------------------------------------------------
def fd_close(cx, fd: int) -> int:
    """preview1 fd_close. modifies: the table (preopens may be closed too)."""
    cx.host.close(cx.fds.remove(fd).handle)
    return SUCCESS


def fd_renumber(cx, fd: int, to: int) -> int:
    """preview1 fd_renumber. modifies: the table; `to`'s old descriptor is closed."""
    displaced = cx.fds.renumber(fd, to)
    if displaced is not None:
        cx.host.close(displaced.handle)
    return SUCCESS


# --- status -------------------------------------------------------------------------------------
def fd_fdstat_get(cx, fd: int, stat_ptr: int) -> int:
    """preview1 fd_fdstat_get. modifies: nothing. right: none (any open descriptor)."""
    desc = cx.fds.get(fd)
    cx.mem.store(FDSTAT, stat_ptr, desc.filetype, desc.fdflags, desc.rights_base, desc.rights_inheriting)
    return SUCCESS


def fd_fdstat_set_flags(cx, fd: int, flags: int) -> int:
    """preview1 fd_fdstat_set_flags. modifies: APPEND / NONBLOCK of a file. right: FD_FDSTAT_SET_FLAGS."""
    desc = cx.fds.get_kind(fd, _FILES, need("fd_fdstat_set_flags"))
    # Only APPEND and NONBLOCK can change after opening, as in wasmtime.
    if flags & (Fdflags.DSYNC | Fdflags.RSYNC | Fdflags.SYNC) or flags & ~0x1F:
        raise WasiError(Errno.INVAL)
    cx.host.set_status_flags(desc.handle, bool(flags & Fdflags.APPEND), bool(flags & Fdflags.NONBLOCK))
    desc.fdflags = (desc.fdflags & ~(Fdflags.APPEND | Fdflags.NONBLOCK)) | flags
    return SUCCESS


def fd_fdstat_set_rights(cx, fd: int, base: int, inheriting: int) -> int:
    """preview1 fd_fdstat_set_rights. modifies: the descriptor's rights, only ever downwards."""
    # Bits the witx does not define do not decode (before the descriptor is looked up, as wasmtime).
    if base & ~ALL_RIGHTS or inheriting & ~ALL_RIGHTS:
        raise WasiError(Errno.INVAL)
    cx.fds.set_rights(fd, base, inheriting)
    return SUCCESS


def fd_filestat_get(cx, fd: int, stat_ptr: int) -> int:
    """preview1 fd_filestat_get. modifies: nothing. right: FD_FILESTAT_GET (streams: none, zeros;
    sockets: zeros but the type)."""
    desc = cx.fds.get(fd)
    cx.mem.check_record(FILESTAT, stat_ptr)
    if desc.kind in STDIO:  # a stream has no file behind it: only its type, as wasmtime
        cx.mem.store(FILESTAT, stat_ptr, 0, 0, desc.filetype, 0, 0, 0, 0, 0)
        return SUCCESS
    desc = cx.fds.get_kind(fd, (*_NODES, SOCKET), need("fd_filestat_get"))
    if desc.kind == SOCKET:  # no inode either: zeros but the type, as the model (wasi-common)
        cx.mem.store(FILESTAT, stat_ptr, 0, 0, desc.filetype, 0, 0, 0, 0, 0)
        return SUCCESS
    st = cx.host.fstat(desc.handle)
    cx.mem.store(FILESTAT, stat_ptr, st.dev, st.ino, st.filetype, st.nlink, st.size, st.atim, st.mtim, st.ctim)
    return SUCCESS


def new_times(atim: int, mtim: int, flags: int, now: int) -> tuple[int | None, int | None]:
    """The (atime, mtime) a set_times call asks for; None keeps the old value."""
    if flags & ~0xF:
        raise WasiError(Errno.INVAL)
    # A time cannot be both given and "now".
    if flags & Fstflags.ATIM and flags & Fstflags.ATIM_NOW or flags & Fstflags.MTIM and flags & Fstflags.MTIM_NOW:
        raise WasiError(Errno.INVAL)
    a = atim if flags & Fstflags.ATIM else now if flags & Fstflags.ATIM_NOW else None
    m = mtim if flags & Fstflags.MTIM else now if flags & Fstflags.MTIM_NOW else None
    return a, m


def fd_filestat_set_times(cx, fd: int, atim: int, mtim: int, flags: int) -> int:
    """preview1 fd_filestat_set_times. modifies: the times of the file or directory."""
    times = new_times(atim, mtim, flags, cx.host.clock_time(Clockid.REALTIME))
    desc = cx.fds.get_kind(fd, _NODES, need("fd_filestat_set_times"))
    if times != (None, None):
        cx.host.futimens(desc.handle, *times)
    return SUCCESS


def fd_filestat_set_size(cx, fd: int, size: int) -> int:
    """preview1 fd_filestat_set_size. modifies: the file's size. right: FD_FILESTAT_SET_SIZE."""
    desc = cx.fds.get_kind(fd, _FILES, need("fd_filestat_set_size"))
    # Sizes are non-negative 63-bit (ftruncate takes an off_t).
    if size > I64_MAX:
        raise WasiError(Errno.INVAL)
    cx.host.ftruncate(desc.handle, size)
    return SUCCESS


def fd_allocate(cx, fd: int, offset: int, length: int) -> int:
    """preview1 fd_allocate. modifies: the file's size (grows only). right: FD_ALLOCATE."""
    desc = cx.fds.get_kind(fd, _FILES, need("fd_allocate"))
    if offset + length > I64_MAX:
        raise WasiError(Errno.FBIG)
    cx.host.fallocate(desc.handle, offset, length)
    return SUCCESS


def fd_advise(cx, fd: int, offset: int, length: int, advice: int) -> int:
    """preview1 fd_advise. modifies: nothing observable. right: FD_ADVISE."""
    if advice not in Advice.__members__.values():
        raise WasiError(Errno.INVAL)
    desc = cx.fds.get_kind(fd, _FILES, need("fd_advise"))
    cx.host.fadvise(desc.handle, _signed64(offset), _signed64(length), advice)
    return SUCCESS


def fd_sync(cx, fd: int) -> int:
    """preview1 fd_sync. right: FD_SYNC."""
    cx.host.fsync(cx.fds.get_kind(fd, _FILES, need("fd_sync")).handle)
    return SUCCESS


def fd_datasync(cx, fd: int) -> int:
    """preview1 fd_datasync. right: FD_DATASYNC."""
    cx.host.fdatasync(cx.fds.get_kind(fd, _FILES, need("fd_datasync")).handle)
    return SUCCESS


# --- preopens -----------------------------------------------------------------------------------
def fd_prestat_get(cx, fd: int, prestat_ptr: int) -> int:
    """preview1 fd_prestat_get. modifies: nothing. Non-preopens: EBADF, as wasmtime."""
    desc = cx.fds.get(fd)
    if desc.preopen is None:
        raise WasiError(Errno.BADF)
    cx.mem.store(PRESTAT, prestat_ptr, Preopentype.DIR, len(desc.preopen.encode()))
    return SUCCESS


def fd_prestat_dir_name(cx, fd: int, path_ptr: int, path_len: int) -> int:
    """preview1 fd_prestat_dir_name. Non-preopens: ENOTDIR; short buffer: ENAMETOOLONG (wasmtime)."""
    desc = cx.fds.get(fd)
    if desc.preopen is None:
        raise WasiError(Errno.NOTDIR)
    # The whole buffer the guest declares lies in memory, the part the name leaves unused too (§1.1).
    cx.mem.check(path_ptr, path_len)
    name = desc.preopen.encode()
    if len(name) > path_len:
        raise WasiError(Errno.NAMETOOLONG)
    cx.mem.write(path_ptr, name)
    return SUCCESS
