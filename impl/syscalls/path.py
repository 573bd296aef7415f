"""path_* calls and fd_readdir: everything that names an entry beneath a directory descriptor.

Each handler: spec section, what it may modify, the right(s) it needs. Paths are resolved by
`vwasm.resolve` (one component at a time over the Host, never leaving the directory: ERRNO_PERM),
and the final step is an *at() call on (directory handle, one name) that never follows a symlink.
Every guest location a handler writes is validated before the side effect.

Descriptor kinds as wasmtime: a path call on anything but a directory is EBADF (path_open on a
file: ENOTDIR); the kind is checked before the rights.
"""
import functools

from vwasm.model.wasi import (
    SUCCESS, ALL_RIGHTS, DIR_RIGHTS, DIRENT, FILE_RIGHTS, FILESTAT, Clockid, Errno, Fdflags, Filetype,
    Lookupflags, Oflags, Rights, WasiError,
)

from vwasm.model.rights import INHERITING, NEW_FD, OLD_FD, need, open_conditions

from ..fdtable import DIR, FILE, Descriptor
from ..resolve import Open, Resolver, lstat_at, open_at, plain_name, strip_trailing_slashes
from .fd import new_times

_DIRS = (DIR,)
_DIRECTORY, _SYMLINK = Filetype.DIRECTORY, Filetype.SYMBOLIC_LINK  # (reading enum members off the class costs)
_OFLAGS_ALL = 0xF  # CREAT | DIRECTORY | EXCL | TRUNC (plain ints: ~ on an IntFlag stays inside its bits)
_FDFLAGS_ALL = 0x1F  # APPEND | DSYNC | NONBLOCK | RSYNC | SYNC
_READ_WRITE = Rights.FD_READ | Rights.FD_WRITE
_DIRENT = DIRENT.codec


def _dir(cx, fd: int, rights: int) -> Descriptor:
    """The directory a path call works in (EBADF for any other kind, as wasmtime), with `rights`."""
    return cx.fds.get_kind(fd, _DIRS, rights)


def _follow(lookupflags: int) -> bool:
    """Whether a final symlink is followed. Bits lookupflags does not define do not decode (EINVAL,
    before the descriptor is looked at, as wiggle decodes the arguments first)."""
    if lookupflags & ~Lookupflags.SYMLINK_FOLLOW:
        raise WasiError(Errno.INVAL)
    return bool(lookupflags & Lookupflags.SYMLINK_FOLLOW)


# --- opening ------------------------------------------------------------------------------------
def path_open(cx, fd: int, dirflags: int, path_ptr: int, path_len: int, oflags: int,
              rights_base: int, rights_inheriting: int, fdflags: int, fd_out: int) -> int:
    """preview1 path_open. modifies: the table (a new descriptor); with CREAT a new file, with
    TRUNC the file's contents. rights: PATH_OPEN on fd, plus PATH_CREATE_FILE for CREAT and
    PATH_FILESTAT_SET_SIZE for TRUNC, and FD_DATASYNC / FD_SYNC among fd's inheriting rights for
    the sync fdflags (model/rights.py). The new descriptor's rights are those asked, cut to fd's
    inheriting rights and to what its kind can use (they never grow)."""
    path = cx.mem.path(path_ptr, path_len)
    needs_base, needs_inheriting, follow = _open_args(dirflags, oflags, fdflags, rights_base, rights_inheriting)
    parent = cx.fds.get(fd)
    # Only a directory has entries to open (a file: ENOTDIR, a stream or socket: EBADF, as wasmtime).
    if parent.kind != DIR:
        raise WasiError(Errno.NOTDIR if parent.kind == FILE else Errno.BADF)
    if needs_base & ~parent.rights_base or needs_inheriting & ~parent.rights_inheriting:
        raise WasiError(Errno.NOTCAPABLE)
    # A directory can be neither created, exclusively created nor truncated by path_open (wasmtime).
    if oflags & Oflags.DIRECTORY and oflags & (Oflags.CREAT | Oflags.EXCL | Oflags.TRUNC):
        raise WasiError(Errno.INVAL)
    # The table is bounded: refuse before creating or truncating anything.
    if cx.fds.full():
        raise WasiError(Errno.MFILE)
    base = rights_base & parent.rights_inheriting
    inheriting = rights_inheriting & parent.rights_inheriting
    flags = _open_flags(base & _READ_WRITE, oflags, fdflags)
    cx.mem.check(fd_out, 4, 4)
    # Nothing after the open can fail: the table has room and fd_out was checked (the handle's file
    # type comes with it), so the new handle is never left behind.
    handle, filetype = open_at(cx.host, parent.handle, path, flags, follow)
    if filetype == _DIRECTORY:
        desc = Descriptor(DIR, handle, _DIRECTORY, base & DIR_RIGHTS, inheriting)
    else:
        desc = Descriptor(FILE, handle, filetype, base & FILE_RIGHTS, inheriting, fdflags)  # all defined (above)
    cx.mem.put_u32(fd_out, cx.fds.add(desc))
    return SUCCESS


@functools.lru_cache(maxsize=256)
def _open_args(dirflags: int, oflags: int, fdflags: int, rights_base: int,
               rights_inheriting: int) -> tuple[int, int, bool]:
    """path_open's flags, decoded before the descriptor is looked at: the rights needed in fd's base
    and inheriting rights for them (model/rights.py), and whether a final symlink is followed."""
    # Flags and rights the witx does not define do not decode.
    if (dirflags & ~Lookupflags.SYMLINK_FOLLOW or oflags & ~_OFLAGS_ALL or fdflags & ~_FDFLAGS_ALL
            or rights_base & ~ALL_RIGHTS or rights_inheriting & ~ALL_RIGHTS):
        raise WasiError(Errno.INVAL)
    conditions = open_conditions(oflags, fdflags)
    return (need("path_open", "fd", *conditions), need("path_open", "fd", *conditions, rights=INHERITING),
            _follow(dirflags))


@functools.lru_cache(maxsize=256)
def _open_flags(access: int, oflags: int, fdflags: int) -> int:
    """The Host open flags for a descriptor with rights `access` (its FD_READ | FD_WRITE bits) and these
    flags. The OS access mode follows the rights, as wasmtime: write only with FD_WRITE, read otherwise."""
    write = bool(access & Rights.FD_WRITE)
    flags = Open.WRITE if write else 0
    if access & Rights.FD_READ or not write:
        flags |= Open.READ
    for bit, open_bit in _OPEN_BITS:
        if oflags & bit:
            flags |= open_bit
    for bit, open_bit in _FDFLAG_BITS:
        if fdflags & bit:
            flags |= open_bit
    return flags


_OPEN_BITS = ((Oflags.CREAT, Open.CREATE), (Oflags.EXCL, Open.EXCL), (Oflags.TRUNC, Open.TRUNC),
              (Oflags.DIRECTORY, Open.DIRECTORY))
_FDFLAG_BITS = ((Fdflags.APPEND, Open.APPEND), (Fdflags.NONBLOCK, Open.NONBLOCK),
                (Fdflags.DSYNC, Open.DSYNC), (Fdflags.SYNC, Open.SYNC), (Fdflags.RSYNC, Open.RSYNC))


# --- listing ------------------------------------------------------------------------------------
def _listing(cx, desc: Descriptor) -> list[bytes]:
    """The directory's entries as encoded dirents (header + name), cookies as wasmtime: `.` has
    d_next 1, `..` 2, then the entries in the OS's order from 3."""
    ino = cx.host.fstat(desc.handle).ino
    out = [_DIRENT.pack(1, ino, 1, Filetype.DIRECTORY) + b".",
           _DIRENT.pack(2, ino, 2, Filetype.DIRECTORY) + b".."]
    for d_next, (name, filetype, d_ino) in enumerate(cx.host.listdir(desc.handle), start=3):
        raw = name.encode("utf-8", "surrogateescape")
        out.append(_DIRENT.pack(d_next, d_ino, len(raw), filetype) + raw)
    return out


def fd_readdir(cx, fd: int, buf: int, buf_len: int, cookie: int, bufused_ptr: int) -> int:
    """preview1 fd_readdir. modifies: the buffer; the descriptor's cached listing. right: FD_READDIR.

    Entries from `cookie` on are packed into the buffer; the last one is cut short when it does
    not fit and the buffer is then reported full (wasmtime's algorithm), so the guest reads again
    from that entry's cookie. The listing is read once per pass (cookie 0 reads it afresh) and
    kept on the descriptor, so paging through a large directory is linear."""
    desc = _dir(cx, fd, need("fd_readdir"))
    cx.mem.check(buf, buf_len)
    cx.mem.check(bufused_ptr, 4, 4)
    if cookie == 0 or desc.dir_state is None:
        desc.dir_state = _listing(cx, desc)
    entries = desc.dir_state
    parts = []
    room = buf_len
    i = cookie
    while room and i < len(entries):
        entry = entries[i]
        if len(entry) > room:
            entry = entry[:room]
        parts.append(entry)
        room -= len(entry)
        i += 1
    cx.mem.write(buf, b"".join(parts))
    cx.mem.put_u32(bufused_ptr, buf_len - room)
    return SUCCESS


# --- directories, files, links ------------------------------------------------------------------
def path_create_directory(cx, fd: int, path_ptr: int, path_len: int) -> int:
    """preview1 path_create_directory. modifies: a new directory. right: PATH_CREATE_DIRECTORY."""
    desc = _dir(cx, fd, need("path_create_directory"))
    path, _ = strip_trailing_slashes(cx.mem.path(path_ptr, path_len))
    with Resolver(cx.host, desc.handle, path, follow=False) as r:
        cx.host.mkdirat(*r.locate())
    return SUCCESS


def path_remove_directory(cx, fd: int, path_ptr: int, path_len: int) -> int:
    """preview1 path_remove_directory. modifies: removes an empty directory. right: PATH_REMOVE_DIRECTORY."""
    desc = _dir(cx, fd, need("path_remove_directory"))
    # Trailing slashes are ignored (Linux rmdir("d/"), and what wasi-testsuite's
    # remove_directory_trailing_slashes expects); a non-directory is still ENOTDIR from rmdir itself.
    path, _ = strip_trailing_slashes(cx.mem.path(path_ptr, path_len))
    with Resolver(cx.host, desc.handle, path, follow=False) as r:
        cx.host.unlinkat(*r.locate_entry(), rmdir=True)
    return SUCCESS


def path_unlink_file(cx, fd: int, path_ptr: int, path_len: int) -> int:
    """preview1 path_unlink_file. modifies: removes a non-directory entry. right: PATH_UNLINK_FILE."""
    desc = _dir(cx, fd, need("path_unlink_file"))
    path = cx.mem.path(path_ptr, path_len)
    if plain_name(path):  # the walk would hand this very name to unlinkat
        cx.host.unlinkat(desc.handle, path)
        return SUCCESS
    with Resolver(cx.host, desc.handle, path, follow=False) as r:
        cx.host.unlinkat(*r.locate_entry())
    return SUCCESS


def path_rename(cx, fd: int, old_ptr: int, old_len: int, new_fd: int, new_ptr: int, new_len: int) -> int:
    """preview1 path_rename. modifies: moves an entry (replacing a compatible target).
    rights: PATH_RENAME_SOURCE on fd, PATH_RENAME_TARGET on new_fd."""
    _dir(cx, fd, 0), _dir(cx, new_fd, 0)  # both must be directories before a right is looked at (wasmtime)
    src = _dir(cx, fd, need("path_rename"))
    dst = _dir(cx, new_fd, need("path_rename", NEW_FD))
    old, old_slash = strip_trailing_slashes(cx.mem.path(old_ptr, old_len))
    new, new_slash = strip_trailing_slashes(cx.mem.path(new_ptr, new_len))
    with Resolver(cx.host, src.handle, old, follow=False) as a, \
            Resolver(cx.host, dst.handle, new, follow=False) as b:
        (old_dir, old_name), (new_dir, new_name) = a.locate(), b.locate()
        # Trailing slashes are ignored, but only a directory may carry them (POSIX, wasmtime). A
        # `.`/`..` on either side is the kernel's EBUSY first (renameat2 checks it before it looks
        # at the entries), so that case is left to renameat.
        if ((old_slash or new_slash) and "." not in (old_name, new_name)
                and cx.host.fstatat(old_dir, old_name).filetype != Filetype.DIRECTORY):
            raise WasiError(Errno.NOTDIR)
        cx.host.renameat(old_dir, old_name, new_dir, new_name)
    return SUCCESS


def path_link(cx, old_fd: int, old_flags: int, old_ptr: int, old_len: int,
              new_fd: int, new_ptr: int, new_len: int) -> int:
    """preview1 path_link. modifies: a new name for an existing file.
    rights: PATH_LINK_SOURCE on old_fd, PATH_LINK_TARGET on new_fd."""
    follow = _follow(old_flags)
    _dir(cx, old_fd, 0), _dir(cx, new_fd, 0)  # both must be directories before a right is looked at (wasmtime)
    src = _dir(cx, old_fd, need("path_link", OLD_FD))
    dst = _dir(cx, new_fd, need("path_link", NEW_FD))
    old = cx.mem.path(old_ptr, old_len)
    new = cx.mem.path(new_ptr, new_len)
    # Linking what a symlink points to is not offered (wasmtime: EINVAL).
    if follow:
        raise WasiError(Errno.INVAL)
    with Resolver(cx.host, src.handle, old, follow=False) as a, \
            Resolver(cx.host, dst.handle, new, follow=False) as b:
        cx.host.linkat(*a.locate_entry(), *b.locate_entry())
    return SUCCESS


def path_symlink(cx, old_ptr: int, old_len: int, fd: int, new_ptr: int, new_len: int) -> int:
    """preview1 path_symlink. modifies: a new symlink whose text is `old`. right: PATH_SYMLINK.
    An absolute text is refused (ERRNO_PERM): it could only ever be an escape."""
    desc = _dir(cx, fd, need("path_symlink"))
    target = cx.mem.path(old_ptr, old_len)
    new = cx.mem.path(new_ptr, new_len)
    # The text is judged before the new name is looked up (Linux symlinkat reads it first): a NUL
    # cannot reach the OS (EINVAL), an empty text names nothing (ENOENT), an absolute one escapes.
    if "\0" in target:
        raise WasiError(Errno.INVAL)
    if target == "":
        raise WasiError(Errno.NOENT)
    if target.startswith("/"):
        raise WasiError(Errno.PERM)
    with Resolver(cx.host, desc.handle, new, follow=False) as r:
        cx.host.symlinkat(target, *r.locate_entry())
    return SUCCESS


def path_readlink(cx, fd: int, path_ptr: int, path_len: int, buf: int, buf_len: int, bufused_ptr: int) -> int:
    """preview1 path_readlink. modifies: the buffer (the text, cut to buf_len as wasmtime).
    right: PATH_READLINK."""
    desc = _dir(cx, fd, need("path_readlink"))
    path = cx.mem.path(path_ptr, path_len)
    cx.mem.check(buf, buf_len)
    cx.mem.check(bufused_ptr, 4, 4)
    with Resolver(cx.host, desc.handle, path, follow=False) as r:
        text = cx.host.readlinkat(*r.locate_entry())
    raw = text.encode("utf-8", "surrogateescape")[:buf_len]
    cx.mem.write(buf, raw)
    cx.mem.put_u32(bufused_ptr, len(raw))
    return SUCCESS


# --- status -------------------------------------------------------------------------------------
def path_filestat_get(cx, fd: int, flags: int, path_ptr: int, path_len: int, stat_ptr: int) -> int:
    """preview1 path_filestat_get. modifies: nothing. right: PATH_FILESTAT_GET."""
    follow = _follow(flags)
    desc = _dir(cx, fd, need("path_filestat_get"))
    path = cx.mem.path(path_ptr, path_len)
    cx.mem.check_record(FILESTAT, stat_ptr)
    # The entry itself first: unless it is a symlink to follow (then the walk expands it), that is the
    # answer, without the readlinkat that asking whether to expand it would take.
    st = lstat_at(cx.host, desc.handle, path)
    if follow and st.filetype == _SYMLINK:
        with Resolver(cx.host, desc.handle, path, follow=True) as r:
            st = cx.host.fstatat(*r.locate_entry())
    cx.mem.store(FILESTAT, stat_ptr, st.dev, st.ino, st.filetype, st.nlink, st.size, st.atim, st.mtim, st.ctim)
    return SUCCESS


def path_filestat_set_times(cx, fd: int, flags: int, path_ptr: int, path_len: int,
                            atim: int, mtim: int, fst_flags: int) -> int:
    """preview1 path_filestat_set_times. modifies: the entry's access/modification times.
    right: PATH_FILESTAT_SET_TIMES."""
    times = new_times(atim, mtim, fst_flags, cx.host.clock_time(Clockid.REALTIME))
    follow = _follow(flags)
    desc = _dir(cx, fd, need("path_filestat_set_times"))
    path = cx.mem.path(path_ptr, path_len)
    with Resolver(cx.host, desc.handle, path, follow=follow) as r:
        cx.host.utimensat(*r.locate_entry(), *times)
    return SUCCESS
