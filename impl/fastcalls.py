"""The cheapest calls served in C (`impl/fastcalls.c`, built into the package as `_fastcalls`).

A host call through ctypes costs ~1 µs before its handler does anything; wasmtime's own clock read
costs ~0.1 µs. For the calls a program makes most often and that need no sandbox state --
`clock_time_get`, `clock_res_get`, `sched_yield` -- the C entry answers the common case itself and
hands every other case (an unknown clock id, a pointer that traps) to the import's Python callback,
so every errno and trap is still the handler's (checked by the obligation `host.fastcalls`).

An entry is used only where nothing could tell the difference (`serving`): the host is PosixHost
(whose clocks are the ones C reads), audit mode is off (it must see every call), and the import's
handler is the one the entry replaces (`ENTRIES`: a stand-in handler is called as usual). Without the
library (a build without a C compiler) every call goes through Python.
"""
from __future__ import annotations

import ctypes
import importlib.machinery
import os

from wasmtime import _ffi as ffi

from .syscalls import clock_random, proc

# Each handler and the C function that serves its common case.
ENTRIES = {
    clock_random.clock_time_get: "vwasm_clock_time_get",
    clock_random.clock_res_get: "vwasm_clock_res_get",
    proc.sched_yield: "vwasm_sched_yield",
}
_NAMES = frozenset(handler.__name__ for handler in ENTRIES)  # the imports served (handlers bear their names)
_API = ("wasmtime_caller_export_get", "wasmtime_caller_context", "wasmtime_memory_data", "wasmtime_memory_data_size")


def library_path(directory: str = os.path.dirname(__file__)) -> str | None:
    """The built library in `directory` (the package's), or None."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(directory, "_fastcalls" + suffix)
        if os.path.exists(path):
            return path
    return None


class Library:
    """A loaded build of fastcalls.c: `entry(handler)` is the address of the C function serving that
    handler's import (or None), `served()` how many calls the C functions have answered themselves."""

    def __init__(self, path: str) -> None:
        self.dll = ctypes.CDLL(path)
        init = self.dll.vwasm_fast_init
        init.restype = ctypes.c_int
        init.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_size_t, ctypes.c_size_t, ctypes.c_uint, ctypes.c_size_t]
        addresses = [ctypes.cast(ffi.dll[name], ctypes.c_void_p).value for name in _API]
        if init(*addresses, ctypes.sizeof(ffi.wasmtime_extern_t), ffi.wasmtime_extern_t.of.offset,
                ffi.WASMTIME_EXTERN_MEMORY.value, ctypes.sizeof(ffi.wasmtime_val_raw_t)):
            raise OSError(f"{path}: wasmtime's layouts do not fit the library")
        self.dll.vwasm_fast_served.restype = ctypes.c_uint64
        self._entries = {handler: ctypes.cast(self.dll[name], ctypes.c_void_p).value
                         for handler, name in ENTRIES.items()}

    def entry(self, handler) -> int | None:
        return self._entries.get(handler)

    def served(self) -> int:
        return self.dll.vwasm_fast_served()


_loaded: list = []  # [Library or None], once loaded


def serving(host, audit, only: frozenset | None = None) -> Library | None:
    """The library whose entries `abi.link` may use for a store over `host` (audit: an Audit or
    None) defining the imports `only` (None: all): not loaded for a module that imports none of them."""
    from .posix_host import PosixHost
    if audit is not None or type(host) is not PosixHost or (only is not None and not only & _NAMES):
        return None
    return library()


def library() -> Library | None:
    """The package's library, loaded at the first call; None if it was not built or will not load."""
    if not _loaded:
        path = library_path()
        try:
            _loaded.append(Library(path) if path else None)
        except OSError:
            _loaded.append(None)
    return _loaded[0]
