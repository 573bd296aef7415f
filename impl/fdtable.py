"""The guest's descriptor table: guest numbers -> host handles, with rights.

The guest only ever sees the numbers of this table, never a host fd. Rights only shrink: a new
descriptor's rights are cut to its parent's inheriting rights, and `narrow` refuses to add bits.
"""
from __future__ import annotations

import ctypes

from vwasm.model.wasi import Errno, Filetype, WasiError

from vwasm.model.wasi import FD_LIMIT  # the default descriptor limit (EMFILE), defined once in the model


# What a descriptor is, as far as the calls care (wasmtime distinguishes exactly these).
STDIN, STDOUT, STDERR, FILE, DIR, SOCKET = "stdin", "stdout", "stderr", "file", "dir", "socket"
STDIO = (STDIN, STDOUT, STDERR)


class Descriptor:
    """One open descriptor (a plain class with slots: `dataclasses` imports `inspect`, ~10 ms of
    every start)."""

    __slots__ = ("kind", "handle", "filetype", "rights_base", "rights_inheriting", "fdflags", "preopen",
                 "dir_state", "extra")

    def __init__(self, kind: str, handle: object, filetype: Filetype, rights_base: int, rights_inheriting: int,
                 fdflags: int = 0, preopen: str | None = None, dir_state: object = None,
                 extra: dict | None = None) -> None:
        self.kind = kind
        self.handle = handle  # what the Host knows it by (an OS fd for PosixHost)
        self.filetype = filetype
        self.rights_base = rights_base
        self.rights_inheriting = rights_inheriting
        self.fdflags = fdflags
        self.preopen = preopen  # the guest name of a preopened directory
        self.dir_state = dir_state  # fd_readdir's listing, owned by the directory handlers
        self.extra = {} if extra is None else extra  # per-kind state (sockets)

    def __repr__(self) -> str:
        return (f"Descriptor({self.kind!r}, {self.handle!r}, {self.filetype!r}, {self.rights_base:#x}, "
                f"{self.rights_inheriting:#x}, fdflags={self.fdflags}, preopen={self.preopen!r})")


# The kinds of descriptor C is shown (`Files`), each as one bit, so an entry can ask for a set of
# kinds with one mask. Directories are not shown: no C entry serves them.
SHOWN_KINDS = {FILE: 1, STDIN: 2, STDOUT: 4, STDERR: 8, SOCKET: 16}
WORDS = 3  # per number in `Files`: host fd, base rights, kind bit
NOTHING, IN_PROCESS = -1, -2  # host fd words: nothing shown; a descriptor with no OS fd (a stream kept in Python)


class Files(ctypes.Structure):
    """The table's files, in the Unix sense -- regular files, streams and sockets -- as fastcalls.c
    reads them, without the GIL (its `struct files`): for each number n below `count`, words[3 n] is
    the host fd of the descriptor numbered n (IN_PROCESS if its handle is no OS fd: a stream of bytes
    or a callback), words[3 n + 1] its base rights and words[3 n + 2] its kind's bit in SHOWN_KINDS;
    (NOTHING, 0, 0) if n is not open or is not of a shown kind. `FdTable` rewrites a number's words at every change to that number, so the two
    never differ (checked after every call by host.posix_vs_model and host.fastcalls)."""

    _fields_ = [("words", ctypes.c_void_p), ("count", ctypes.c_uint64)]


class FdTable:
    """Lowest-free-number allocation; entries are `Descriptor`s; at most `limit` of them (the
    embedder's `Config.max_fds`), streams and preopens included. `files` shows its files to C."""

    __slots__ = ("_fds", "limit", "files", "_words", "_storage")

    def __init__(self, limit: int = FD_LIMIT) -> None:
        self._fds: dict[int, Descriptor] = {}
        self.limit = limit
        self.files = Files(None, 0)
        self._storage = None  # the ctypes array behind files.words
        self._words = memoryview(b"").cast("q")

    def _show(self, fd: int, desc: Descriptor | None) -> None:
        """Make `files` tell that number fd holds desc (None: nothing)."""
        bit = SHOWN_KINDS.get(desc.kind, 0) if desc is not None else 0
        at = WORDS * fd
        if at >= len(self._words):  # fd >= files.count (a ctypes field, slower to read)
            if not bit:
                return  # beyond `count` reads as nothing shown already
            self._grow(fd + 1)
        words = self._words
        if bit:
            handle = desc.handle
            words[at], words[at + 1], words[at + 2] = (
                handle if type(handle) is int else IN_PROCESS, desc.rights_base, bit)
        else:
            words[at], words[at + 1], words[at + 2] = NOTHING, 0, 0

    def _grow(self, count: int) -> None:
        """Room for numbers below `count` (at least), the new ones no file. The old storage is
        replaced, not resized: C reads `files` only within a call on this same thread."""
        count = max(count, 2 * self.files.count, 16)
        storage = (ctypes.c_int64 * (WORDS * count))()
        words = memoryview(storage).cast("B").cast("q")
        words[:len(self._words)] = self._words
        words[len(self._words)::WORDS] = memoryview(b"\xff" * 8 * (count - self.files.count)).cast("q")
        self._storage, self._words = storage, words
        self.files.words, self.files.count = ctypes.addressof(storage), count

    def get(self, fd: int, rights: int = 0) -> Descriptor:
        """The descriptor fd names, if it is open (EBADF) and holds every right asked (ENOTCAPABLE)."""
        desc = self._fds.get(fd)
        if desc is None:
            raise WasiError(Errno.BADF)
        if rights & ~desc.rights_base:
            raise WasiError(Errno.NOTCAPABLE)
        return desc

    def get_kind(self, fd: int, kinds: tuple[str, ...], rights: int = 0) -> Descriptor:
        """Like `get`, for calls that only apply to some kinds of descriptor.

        The wrong kind answers EBADF as wasmtime does; the kind is checked before the rights, again
        as wasmtime.
        """
        desc = self._fds.get(fd)
        if desc is None or desc.kind not in kinds:
            raise WasiError(Errno.BADF)
        if rights & ~desc.rights_base:
            raise WasiError(Errno.NOTCAPABLE)
        return desc

    def __contains__(self, fd: int) -> bool:
        return fd in self._fds

    def __len__(self) -> int:
        return len(self._fds)

    def items(self):
        return sorted(self._fds.items())

    def full(self) -> bool:
        """No room for another descriptor (the next open is EMFILE)."""
        return len(self._fds) >= self.limit

    def add(self, desc: Descriptor) -> int:
        """Install desc at the lowest free number."""
        if self.full():
            raise WasiError(Errno.MFILE)
        fd = 0
        while fd in self._fds:
            fd += 1
        self._fds[fd] = desc
        self._show(fd, desc)
        return fd

    def place(self, fd: int, desc: Descriptor) -> None:
        """Install desc at a given number (the standard streams and preopens, at start-up)."""
        assert fd not in self._fds
        self._fds[fd] = desc
        self._show(fd, desc)

    def remove(self, fd: int) -> Descriptor:
        desc = self._fds.pop(fd, None)
        if desc is None:
            raise WasiError(Errno.BADF)
        self._show(fd, None)
        return desc

    def renumber(self, src: int, dst: int) -> Descriptor | None:
        """Move src onto dst, returning the descriptor dst held (for the caller to close).

        As wasmtime: both must be open (EBADF); renumbering a number onto itself changes nothing.
        """
        if src not in self._fds or dst not in self._fds:
            raise WasiError(Errno.BADF)
        if src == dst:
            return None
        displaced = self._fds[dst]
        self._fds[dst] = self._fds.pop(src)
        self._show(src, None)
        self._show(dst, self._fds[dst])
        return displaced

    def set_rights(self, fd: int, base: int, inheriting: int) -> None:
        """fd_fdstat_set_rights on number fd (`narrow`)."""
        desc = self.get(fd)
        self.narrow(desc, base, inheriting)
        self._show(fd, desc)

    @staticmethod
    def narrow(desc: Descriptor, base: int, inheriting: int) -> None:
        """fd_fdstat_set_rights: rights may only be dropped, never gained."""
        if base & ~desc.rights_base or inheriting & ~desc.rights_inheriting:
            raise WasiError(Errno.NOTCAPABLE)
        desc.rights_base = base
        desc.rights_inheriting = inheriting
