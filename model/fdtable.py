"""The abstract descriptor table and the rights lattice.

A descriptor names a directory or file node, a stdio stream or a socket, with two rights sets:
`rights_base` (what this descriptor may do) and `rights_inheriting` (the most a descriptor opened
through it may get). Rights only ever shrink: a descriptor's rights lie within its `ceiling`, the
inheriting rights of the descriptor it was opened through (for preopens and stdio: what the
configuration granted), and `fd_fdstat_set_rights` may only drop bits.
Numbers: a new descriptor gets the lowest free number; a table holds at most `limit` descriptors
(the embedder's `max_fds`, FD_LIMIT by default), streams and preopens included.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from .fs import pdrop, pget, pput
from .wasi import (
    ALL_RIGHTS, DIR_RIGHTS, FD_LIMIT, FILE_RIGHTS, SOCKET_RIGHTS, STDIN_RIGHTS, STDOUT_RIGHTS, Errno,
    Filetype, WasiError,
)

STREAMS = ("stdin", "stdout", "stderr")


@dataclass(frozen=True)
class Descriptor:
    filetype: Filetype  # DIRECTORY, REGULAR_FILE, SOCKET_*; stdio: CHARACTER_DEVICE or UNKNOWN
    rights_base: int
    rights_inheriting: int
    ceiling: int  # rights never exceed this (the parent's inheriting rights when opened)
    node: Optional[int] = None  # inode, for files and directories
    socket: Optional[int] = None  # socket id, for sockets
    stream: Optional[str] = None  # "stdin" | "stdout" | "stderr", for stdio
    flags: int = 0  # fdflags
    offset: int = 0  # files: the current position
    preopen: Optional[str] = None  # preopened directories: the name the guest sees
    writable: bool = False  # files: opened for writing (the OS access mode, fixed when opened)

    @property
    def is_dir(self) -> bool:
        return self.filetype == Filetype.DIRECTORY and self.node is not None

    @property
    def is_file(self) -> bool:
        return self.filetype == Filetype.REGULAR_FILE and self.node is not None

    @property
    def is_socket(self) -> bool:
        return self.socket is not None

    @property
    def is_stream(self) -> bool:
        return self.stream is not None


def kind_rights(d: Descriptor) -> int:
    """The rights that mean something for this kind of descriptor."""
    if d.is_dir:
        return DIR_RIGHTS
    if d.is_file:
        return FILE_RIGHTS
    if d.is_socket:
        return SOCKET_RIGHTS
    return STDIN_RIGHTS if d.stream == "stdin" else STDOUT_RIGHTS


def narrow(requested: int, parent_inheriting: int, mask: int) -> int:
    """Rights a new descriptor gets: what was asked, within what the parent passes on and what
    its kind can use (path_open narrows silently, as wasmtime does)."""
    return requested & parent_inheriting & mask


def within(rights: int, bound: int) -> bool:
    """`rights` is a subset of `bound` (as plain ints: IntFlag's `~` is bounded to known bits)."""
    return int(rights) & ~int(bound) == 0


def has_rights(d: Descriptor, rights: int) -> bool:
    return within(rights, d.rights_base)


def require_rights(d: Descriptor, rights: int) -> None:
    """Every operation checks its right on the descriptor it uses."""
    # A descriptor without the right cannot do the operation.
    if not has_rights(d, rights):
        raise WasiError(Errno.NOTCAPABLE)


def descriptor_wf(d: Descriptor) -> bool:
    """Exactly one referent; rights within the ceiling and the kind; a sane offset."""
    referents = (d.node is not None) + (d.socket is not None) + (d.stream is not None)
    return (
        referents == 1
        and 0 <= d.ceiling <= ALL_RIGHTS
        and within(d.rights_base, d.ceiling)
        and within(d.rights_inheriting, d.ceiling)
        and within(d.rights_base, kind_rights(d))
        and 0 <= d.offset
        and (d.stream is None or d.stream in STREAMS)
        and (d.preopen is None or d.is_dir)
        and (not d.writable or d.is_file)
        and (d.node is None or d.filetype in (Filetype.DIRECTORY, Filetype.REGULAR_FILE))
        and (d.socket is None or d.filetype in (Filetype.SOCKET_STREAM, Filetype.SOCKET_DGRAM))
    )


@dataclass(frozen=True)
class FdTable:
    entries: tuple[tuple[int, Descriptor], ...] = ()  # (fd, descriptor), sorted by fd
    limit: int = FD_LIMIT  # descriptors held at once (the sandbox's max_fds)

    def lookup(self, fd: int) -> Optional[Descriptor]:
        return pget(self.entries, fd)

    def get(self, fd: int) -> Descriptor:
        """The descriptor `fd` names."""
        d = pget(self.entries, fd)
        # A number the guest does not hold names nothing.
        if d is None:
            raise WasiError(Errno.BADF)
        return d

    def fds(self) -> tuple[int, ...]:
        return tuple(fd for fd, _ in self.entries)

    def lowest_free(self) -> int:
        """The lowest number not in use."""
        n = 0
        for fd, _ in self.entries:
            if fd != n:
                break
            n += 1
        return n

    def full(self) -> bool:
        """No room for another descriptor."""
        return len(self.entries) >= self.limit

    def insert(self, d: Descriptor) -> tuple[FdTable, int]:
        """Add `d` under the lowest free number."""
        # The table is bounded.
        if self.full():
            raise WasiError(Errno.MFILE)
        fd = self.lowest_free()
        return replace(self, entries=pput(self.entries, fd, d)), fd

    def put(self, fd: int, d: Descriptor) -> FdTable:
        """Replace descriptor `fd` (which is open) by `d`."""
        assert self.lookup(fd) is not None
        return replace(self, entries=pput(self.entries, fd, d))

    def close(self, fd: int) -> FdTable:
        """Forget `fd`."""
        self.get(fd)
        return replace(self, entries=pdrop(self.entries, fd))

    def renumber(self, frm: int, to: int) -> FdTable:
        """Move `frm` to number `to`, closing whatever `to` named (wasmtime's fd_renumber: both
        must be open; renumbering a descriptor to itself changes nothing)."""
        d = self.get(frm)
        # The number replaced must name a descriptor too (wasmtime: `to` not in use is EBADF).
        self.get(to)
        if frm == to:
            return self
        return replace(self, entries=pput(pdrop(self.entries, frm), to, d))

    def set_rights(self, fd: int, base: int, inheriting: int) -> FdTable:
        """fd_fdstat_set_rights: rights may only be dropped."""
        d = self.get(fd)
        # Asking for a right the descriptor does not hold would grow it.
        if not (within(base, d.rights_base) and within(inheriting, d.rights_inheriting)):
            raise WasiError(Errno.NOTCAPABLE)
        return self.put(fd, replace(d, rights_base=base, rights_inheriting=inheriting))

    def wf(self) -> bool:
        fds = [fd for fd, _ in self.entries]
        return (
            fds == sorted(set(fds))
            and all(0 <= fd <= 0xFFFF_FFFF for fd in fds)
            and len(fds) <= self.limit
            and all(descriptor_wf(d) for _, d in self.entries)
        )
