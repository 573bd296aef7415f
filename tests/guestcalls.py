"""Calling WASI handlers directly, the way abi.py does, over a plain bytearray memory.

    g = Guest(host, {"/sandbox": start_handle}); e = g.call("path_open", 3, 0, *g.s("f"), 0, R, R, 0, g.out)
Paths are placed in memory with `s(text)` (returns ptr, len); `out` is an 8-aligned scratch slot.
A handler's WasiError becomes its errno; a Trap propagates.
"""
from __future__ import annotations

import struct

from vwasm.context import Context
from vwasm.fdtable import DIR, Descriptor, FdTable
from vwasm.memory import GuestMemory
from vwasm.model.rights import preopen_rights
from vwasm.model.wasi import Errno, Filetype, WasiError
from vwasm.syscalls import HANDLERS

MEM = 1 << 20
OUT = 64  # scratch for results (8-aligned)
BUF = 4096  # a 64 KiB buffer area for readdir / readlink
HEAP = BUF + 65536


class Guest:
    def __init__(self, host, preopens: dict, read_only: bool = False) -> None:
        self.host = host
        fds = FdTable()
        for fd, (name, handle) in enumerate(preopens.items(), start=3):
            base, inh = preopen_rights(read_only)
            fds.place(fd, Descriptor(DIR, handle, Filetype.DIRECTORY, base, inh, preopen=name))
        self.cx = Context(host, fds, [], [])
        self.raw = bytearray(MEM)
        self.cx.mem = GuestMemory.over(self.raw)
        self.heap = HEAP
        self.out = OUT
        self.buf = BUF

    def s(self, text: str | bytes) -> tuple[int, int]:
        data = text.encode() if isinstance(text, str) else text
        ptr = self.heap
        self.raw[ptr:ptr + len(data)] = data
        self.heap += (len(data) + 8) & ~7
        return ptr, len(data)

    def call(self, name: str, *args) -> Errno:
        try:
            return Errno(HANDLERS[name](self.cx, *args))
        except WasiError as e:
            return Errno(e.errno)

    def u32(self, ptr: int | None = None) -> int:
        return struct.unpack_from("<I", self.raw, self.out if ptr is None else ptr)[0]

    def u64(self, ptr: int) -> int:
        return struct.unpack_from("<Q", self.raw, ptr)[0]

    def open(self, dirfd: int, path: str, oflags: int = 0, base: int = (1 << 30) - 1,
             inheriting: int = (1 << 30) - 1, fdflags: int = 0, follow: bool = True) -> tuple[Errno, int]:
        e = self.call("path_open", dirfd, int(follow), *self.s(path), oflags, base, inheriting, fdflags, self.out)
        return e, (self.u32() if e == Errno.SUCCESS else -1)

    def fdstat(self, fd: int) -> tuple[int, int, int, int]:
        assert self.call("fd_fdstat_get", fd, self.out) == Errno.SUCCESS
        ft, flags, base, inh = struct.unpack_from("<BxH4xQQ", self.raw, self.out)
        return ft, flags, base, inh

    def filestat(self, dirfd: int, path: str, follow: bool = False) -> tuple[Errno, tuple]:
        e = self.call("path_filestat_get", dirfd, int(follow), *self.s(path), self.out)
        return e, (struct.unpack_from("<QQB7xQQQQQ", self.raw, self.out) if e == Errno.SUCCESS else ())

    def readdir(self, fd: int, buf_len: int, cookie: int) -> tuple[Errno, bytes]:
        used_ptr = self.out + 8
        e = self.call("fd_readdir", fd, self.buf, buf_len, cookie, used_ptr)
        n = self.u32(used_ptr)
        return e, bytes(self.raw[self.buf:self.buf + n])

    def write(self, fd: int, data: bytes) -> Errno:
        ptr, n = self.s(data)
        iov = self.heap
        struct.pack_into("<II", self.raw, iov, ptr, n)
        self.heap += 8
        return self.call("fd_write", fd, iov, 1, self.out)


def parse_dirents(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """(d_next, d_ino, d_type, name) for every complete entry in a readdir buffer."""
    out, at = [], 0
    while at + 24 <= len(data):
        d_next, d_ino, namlen, d_type = struct.unpack_from("<QQIB3x", data, at)
        if at + 24 + namlen > len(data):
            break
        out.append((d_next, d_ino, d_type, data[at + 24:at + 24 + namlen]))
        at += 24 + namlen
    return out
