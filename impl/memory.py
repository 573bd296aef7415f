"""Guest linear memory: bounds-checked, zero-copy access for host calls.

Every access names a guest address and a length; anything not wholly inside the memory, and any
record pointer not aligned for its record, raises `Trap` before a byte is read or written. Handlers
validate every output location before the side effect of the call (DESIGN §1.1), so a trap never
leaves a half-done call behind. The view is a memoryview over wasmtime's buffer, re-derived whenever
the memory's size changes (growth may move the base), never `Memory.read/write` (slow, and it
silently truncates at the end of memory).

Before each host call `sync` re-reads the size (a foreign call). A memory that cannot move (its
engine made by `vwasm.limits.engine_for`, `fixed`) skips that: its base stays put and wasm memory
only grows, so the bound kept may lag behind the memory but never exceeds it; an access past the
bound re-reads the size before it is refused (`_reaches`).
"""
from __future__ import annotations

import ctypes
import struct

from wasmtime import _ffi as ffi

from vwasm.model.wasi import IOVEC, Errno, Layout, WasiError

from .errors import Trap

# wasmtime_memory_data_size / _data, bound once with plain pointer arguments: sync() runs on every
# host call, and the wrappers in wasmtime._ffi cost twice as much per call.
_data_size = ffi.dll["wasmtime_memory_data_size"]
_data_size.restype, _data_size.argtypes = ctypes.c_size_t, None
_data = ffi.dll["wasmtime_memory_data"]
_data.restype, _data.argtypes = ctypes.c_void_p, None

_IOVEC = IOVEC.codec
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class GuestMemory:
    """The guest's memory as the host sees it during one call."""

    __slots__ = ("_ctx", "_mem", "_memory", "size", "view", "fixed")

    def __init__(self, store, memory, fixed: bool = False) -> None:
        self._ctx = ctypes.c_void_p(ctypes.cast(store._context(), ctypes.c_void_p).value)
        self._mem = ctypes.c_void_p(ctypes.addressof(memory._memory))
        self._memory = memory  # keeps the wasmtime_memory_t that _mem points into alive
        self.fixed = fixed  # the memory cannot move: no re-reading before each call
        self.size = -1
        self.view = memoryview(b"")
        self._refresh()

    @classmethod
    def over(cls, buffer: bytearray) -> "GuestMemory":
        """A memory over a plain buffer (for unit checks that need no wasm instance)."""
        self = cls.__new__(cls)
        self._ctx = None
        self._mem = None
        self.fixed = True
        self.size = len(buffer)
        self.view = memoryview(buffer)
        return self

    def sync(self) -> None:
        """Before a host call: re-derive the view if the guest grew its memory (a memory that may move)."""
        if not self.fixed:
            self._refresh()

    def _reaches(self, end: int) -> bool:
        """Whether the memory as it is now reaches `end` (a bound lagging behind a grow is caught up)."""
        if self._ctx is None:
            return False
        self._refresh()
        return end <= self.size

    def _refresh(self) -> None:
        """Re-read the memory's size, and re-derive the view if it changed."""
        size = _data_size(self._ctx, self._mem)
        if size != self.size:
            raw = (ctypes.c_ubyte * size).from_address(_data(self._ctx, self._mem)) if size else bytearray()
            self.view = memoryview(raw).cast("B")
            self.size = size

    # --- validation: the one place bounds and alignment are decided ----------------------------
    def check(self, ptr: int, length: int, align: int = 1) -> None:
        """Trap unless [ptr, ptr+length) lies in memory and ptr is aligned.

        ptr and length are unsigned 32-bit values, so ptr+length never wraps here; a sum past 2^32 is
        simply past the end of a memory that is at most 2^32 bytes.
        """
        if ptr + length > self.size and not self._reaches(ptr + length):
            raise Trap(f"out-of-bounds memory access: {length} bytes at {ptr:#x} (memory is {self.size} bytes)")
        if ptr & (align - 1):
            raise Trap(f"misaligned pointer {ptr:#x} (needs {align}-byte alignment)")

    def check_record(self, layout: Layout, ptr: int) -> None:
        self.check(ptr, layout.size, layout.align)

    # --- bytes ------------------------------------------------------------------------------------
    def slice(self, ptr: int, length: int) -> memoryview:
        """Zero-copy view of guest bytes [ptr, ptr+length)."""
        self.check(ptr, length)
        return self.view[ptr:ptr + length]

    def read(self, ptr: int, length: int) -> bytes:
        return bytes(self.slice(ptr, length))

    def write(self, ptr: int, data: bytes) -> None:
        self.check(ptr, len(data))
        self.view[ptr:ptr + len(data)] = data

    def path(self, ptr: int, length: int) -> str:
        """A path argument: UTF-8 text (EILSEQ otherwise, as wasmtime)."""
        if ptr + length > self.size:  # check's condition inline, as the records' accessors below
            self.check(ptr, length)
        try:
            return bytes(self.view[ptr:ptr + length]).decode("utf-8")
        except UnicodeDecodeError:
            raise WasiError(Errno.ILSEQ) from None

    # --- records ----------------------------------------------------------------------------------
    # Records and scalars, the cheapest calls' whole memory traffic: each accessor tests `check`'s
    # condition inline (a method call less per access) and hands anything out of bounds or misaligned
    # to `check` itself, which catches up with a grow or raises the trap.
    def load(self, layout: Layout, ptr: int) -> tuple:
        if ptr + layout.size > self.size or ptr & (layout.align - 1):
            self.check(ptr, layout.size, layout.align)
        return layout.codec.unpack_from(self.view, ptr)

    def store(self, layout: Layout, ptr: int, *values) -> None:
        if ptr + layout.size > self.size or ptr & (layout.align - 1):
            self.check(ptr, layout.size, layout.align)
        layout.codec.pack_into(self.view, ptr, *values)

    def u32(self, ptr: int) -> int:
        if ptr + 4 > self.size or ptr & 3:
            self.check(ptr, 4, 4)
        return _U32.unpack_from(self.view, ptr)[0]

    def put_u32(self, ptr: int, value: int) -> None:
        if ptr + 4 > self.size or ptr & 3:
            self.check(ptr, 4, 4)
        _U32.pack_into(self.view, ptr, value)

    def put_u64(self, ptr: int, value: int) -> None:
        if ptr + 8 > self.size or ptr & 7:
            self.check(ptr, 8, 8)
        _U64.pack_into(self.view, ptr, value)

    def iovecs(self, ptr: int, count: int) -> list[memoryview]:
        """The buffers an (c)iovec array names, every one validated before any is used."""
        if ptr + 8 * count > self.size or ptr & 3:  # check's condition inline, as the records' accessors
            self.check(ptr, count * IOVEC.size, IOVEC.align)
        view, size = self.view, self.size
        bufs = []
        i = 0
        while i < count:  # (a range object costs more than the loop over one or two iovecs)
            buf, length = _IOVEC.unpack_from(view, ptr + 8 * i)
            if buf + length > size:
                if not self._reaches(buf + length):
                    raise Trap(f"out-of-bounds iovec {i}: {length} bytes at {buf:#x} (memory is {size} bytes)")
                view, size = self.view, self.size  # caught up with a grow (the base has not moved)
            bufs.append(view[buf:buf + length])
            i += 1
        return bufs

    def strings(self, items: list[bytes], ptrs: int, buf: int) -> None:
        """args_get/environ_get: NUL-terminated strings packed at buf, their addresses at ptrs."""
        total = sum(len(s) + 1 for s in items)
        self.check(ptrs, 4 * len(items), 4)
        self.check(buf, total)
        at = buf
        for i, s in enumerate(items):
            _U32.pack_into(self.view, ptrs + 4 * i, at)
            self.view[at:at + len(s)] = s
            self.view[at + len(s)] = 0
            at += len(s) + 1
