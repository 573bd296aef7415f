"""The cheapest calls served in C (`impl/fastcalls.c`, built into the package as `_fastcalls`).

A host call through ctypes costs 1-2 µs before its handler does anything; wasmtime's own clock read,
`fd_tell` or `random_get` costs ~0.2 µs. For the calls a program may make in a tight loop and that
do little -- `clock_time_get`, `clock_res_get`, `sched_yield`, `random_get`, `fd_fdstat_get`
(wasi-libc's every `open`), `fd_seek` / `fd_tell` on a file, and `poll_oneoff` that need not wait
(`nanosleep` of 0, POSIX `poll()` of streams and sockets with a zero timeout) -- the C entry answers the common case itself and hands every other case (an
unknown clock id, a descriptor that is not open, no file or lacks the right, a pointer that traps) to
the import's Python callback, so every errno and trap
is still the handler's (checked by the obligation `host.fastcalls`). fd_seek and fd_tell read the
store's files as its FdTable shows them to C (`FdTable.files`) and move the positions PosixHost keeps
in user space (`posix_host.POSITIONS`), without the GIL, as poll_oneoff finds the host fds of the
streams and sockets it watches; fd_fdstat_get reads the FdTable's entry under the GIL.

An entry is used only where nothing could tell the difference (`serving`): the host is PosixHost
(whose clocks, randomness and fds are the ones C uses), audit mode is off (it must see every call),
and the import's handler is the one the entry replaces (`ENTRIES`: a stand-in handler is called as
usual). Without the library (a build without a C compiler) every call goes through Python.
"""
from __future__ import annotations

import ctypes
import importlib.machinery
import os

from wasmtime import _ffi as ffi

from vwasm.model.rights import SUBSCRIBED, need

from . import posix_host
from .fdtable import FILE, SHOWN_KINDS, SOCKET, STDERR, STDIN, STDOUT
from .syscalls import clock_random, fd, poll, proc

# Each handler and the C function that serves its common case.
ENTRIES = {
    clock_random.clock_time_get: "vwasm_clock_time_get",
    clock_random.clock_res_get: "vwasm_clock_res_get",
    proc.sched_yield: "vwasm_sched_yield",
    clock_random.random_get: "vwasm_random_get",
    fd.fd_seek: "vwasm_fd_seek",
    fd.fd_tell: "vwasm_fd_tell",
    fd.fd_fdstat_get: "vwasm_fd_fdstat_get",
    poll.poll_oneoff: "vwasm_poll_oneoff",
}
# The entries that read the descriptor table, with what they serve in each of their two cases (fd_seek:
# a query of the offset, a move of it; poll_oneoff: a read subscription, a write one): the rights
# the handler asks for, and the kinds of descriptor C answers for (the others go to the handler).
# Their `env` is a TableEnv; the others' is the handler's callback.
_FILES, _ALL = (FILE,), tuple(SHOWN_KINDS)
TABLE_NEEDS = {
    fd.fd_seek: ((need("fd_seek", "fd", "query"), _FILES), (need("fd_seek", "fd", "moves"), _FILES)),
    fd.fd_tell: ((need("fd_tell"), _FILES), (need("fd_tell"), _FILES)),
    fd.fd_fdstat_get: ((need("fd_fdstat_get"), _ALL), (need("fd_fdstat_get"), _ALL)),  # reads the table itself
    # Streams and sockets: a regular file's read event reports end-of-file, which only the handler finds.
    poll.poll_oneoff: ((need("poll_oneoff", SUBSCRIBED, "read"), (STDIN, SOCKET)),
                       (need("poll_oneoff", SUBSCRIBED, "write"), (STDOUT, STDERR, SOCKET))),
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


class Need(ctypes.Structure):
    """fastcalls.c's `struct need`: rights a descriptor must hold, and a mask of the kinds it may be."""

    _fields_ = [("rights", ctypes.c_uint64), ("kinds", ctypes.c_uint64)]

    @classmethod
    def of(cls, rights: int, kinds: tuple[str, ...]) -> Need:
        return cls(rights, sum(SHOWN_KINDS[kind] for kind in kinds))


class TableEnv(ctypes.Structure):
    """fastcalls.c's `struct table_env`: a descriptor entry's fallback, Context, needs and table view."""

    _fields_ = [("fallback", ctypes.c_void_p), ("context", ctypes.py_object), ("need", Need * 2),
                ("files", ctypes.c_void_p)]


class Library:
    """A loaded build of fastcalls.c: `serve(handler, callback, cx)` is the C function serving that
    handler's import and its `env` (or None), `served()` how many calls the C functions have
    answered themselves."""

    def __init__(self, path: str) -> None:
        self.dll = ctypes.CDLL(path)
        init = self.dll.vwasm_fast_init
        init.restype = ctypes.c_int
        init.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_size_t, ctypes.c_size_t, ctypes.c_uint, ctypes.c_size_t,
                                                 ctypes.c_void_p, ctypes.c_uint64]
        addresses = [ctypes.cast(ffi.dll[name], ctypes.c_void_p).value for name in _API]
        positions = ctypes.addressof(ctypes.c_int64.from_buffer(posix_host.POSITIONS))
        if init(*addresses, ctypes.sizeof(ffi.wasmtime_extern_t), ffi.wasmtime_extern_t.of.offset,
                ffi.WASMTIME_EXTERN_MEMORY.value, ctypes.sizeof(ffi.wasmtime_val_raw_t),
                positions, posix_host.TRACKED_FDS):
            raise OSError(f"{path}: wasmtime's layouts do not fit the library")
        self.dll.vwasm_fast_served.restype = ctypes.c_uint64
        self._entries = {handler: ctypes.cast(self.dll[name], ctypes.c_void_p).value
                         for handler, name in ENTRIES.items()}
        # Made once: a TableEnv copies them in (a store makes several, and ctypes structures are slow to build).
        self._needs = {handler: (Need * 2)(*(Need.of(*n) for n in needs)) for handler, needs in TABLE_NEEDS.items()}

    def serve(self, handler, callback, cx) -> tuple[int, object] | None:
        """(the entry's address, its `env`: a ctypes object to pass as a pointer and keep as long as
        the store) for the import of `handler` whose Python callback is `callback`, in Context `cx`;
        None if no entry serves it."""
        entry = self._entries.get(handler)
        if entry is None:
            return None
        needs = self._needs.get(handler)
        if needs is None:
            return entry, callback
        return entry, ctypes.pointer(TableEnv(ctypes.cast(callback, ctypes.c_void_p).value, cx, needs,
                                              ctypes.addressof(cx.fds.files)))

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
