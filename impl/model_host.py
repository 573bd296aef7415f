"""`ModelHost`: the Host protocol over the abstract filesystem `vwasm.model.fs` (no I/O at all).

A test double, not part of the TCB: it lets the runtime's handlers and `resolve.py` run against the
model, and `host.posix_vs_model` checks that `PosixHost` answers as it does.
"""
from __future__ import annotations

from vwasm.model.wasi import Clockid, Errno, Filetype, WasiError

from .posix_host import Open, Stat, _component

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
        # As the kernel: the old name is looked up (ENAMETOOLONG, ENOENT) before the new one.
        if self._lookup(od, oname) is None:
            raise WasiError(Errno.NOENT)
        self._lookup(nd, nname)
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
