"""vwasm's WASI in a wasmtime-py program's own `Linker` and `Store`: `define_wasi`.

A wasmtime-py program switches with two lines: `linker.define_wasi()` + `store.set_wasi(wasi)` become
`handle = vwasm.define_wasi(linker, store, config)`; its own host functions stay on the same linker.
Each import is defined as a function of that one store (`abi.link`), so a linker holding them cannot
instantiate in another store, and every store has its own descriptors, streams and trace.

What `define_wasi` applies to the caller's store: the memory and table limits (`Config.max_memory`,
the store's limiter, replacing any the caller set), fuel (`Config.fuel`: the engine needs
`consume_fuel`), and the timeout (`Config.timeout`: the engine needs epoch interruption, so it must be
made by `vwasm.engine_for(config)`; its clock starts at `define_wasi`). It also gives the store an
empty wasmtime WASI context: nothing of it is linked; its `proc_exit` makes the exit error, so the
caller catches `wasmtime.ExitTrap` with `.code` just as with wasmtime's WASI.

One guest per store: the guest's memory is the `memory` export of the instance that first calls a
WASI function (found once, not per call: speed). A second WASI module instantiated in the same store
would be served over that first memory and the same descriptors, so give each guest its own store.
"""
from __future__ import annotations

import functools
import weakref

import wasmtime

from vwasm.model.wasi import Clockid, PREVIEW1_MODULE

from . import abi, fastcalls, limits
from . import sandbox as _sandbox  # Config and the start-up table (sandbox imports this module back)
from .context import Context
from .memory import GuestMemory
from .posix_host import PosixHost

# What each store's imports need for as long as the store may call them (not the handle's to drop).
_KEEP: "weakref.WeakKeyDictionary[wasmtime.Store, list]" = weakref.WeakKeyDictionary()


class Wasi:
    """vwasm's WASI in one store, as `define_wasi` returns it.

    `exit_code` is the status the guest gave `proc_exit` (None until it does); `trace` the effects
    recorded in audit mode; `close()` releases every host descriptor the guest holds (done anyway when
    the store is garbage-collected)."""

    def __init__(self, store: wasmtime.Store, config, cx: Context, host, audit) -> None:
        self.store = store
        self.config = config
        self.cx = cx
        self.host = host  # the host layer (a TracingHost in audit mode)
        self.audit = audit
        self._timers: list = []  # the timeout's limits.Timer (the finalizer must not hold the handle: it holds the store)
        self._release = weakref.finalize(store, _release, cx, host, self._timers)

    @property
    def exit_code(self) -> int | None:
        """The status the guest passed to `proc_exit`, or None if it has not called it."""
        return self.cx.exit_code

    @property
    def trace(self) -> list | None:
        """The effects recorded so far in audit mode (`Config.enable_audit`); None otherwise."""
        return self.cx.trace

    def deadline_passed(self) -> bool:
        """Whether `Config.timeout` has run out (False without one)."""
        return self.cx.deadline is not None and _deadline_check(self.cx, self.host)()

    def close(self) -> None:
        """Release every host descriptor the guest still holds and stop the timeout's timer. The
        guest's later calls then find no descriptors (EBADF). Idempotent."""
        self._release()


def _release(cx: Context, host, timers: list) -> None:
    for timer in timers:
        timer.cancel()
    for fd, desc in cx.fds.items():
        cx.fds.remove(fd)
        try:
            host.close(desc.handle)
        except Exception:
            pass


# A module whose one export calls wasmtime's WASI proc_exit, which wants a caller with a `memory`
# export: a host memory of no pages (never growable; the store's memory count limits only memories
# modules define). Made at a store's first proc_exit (compiling it was most of a cached start's
# set-up, and a guest that returns from `_start` never needs it); compiled once per engine.
_EXIT_ADAPTER = """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "vwasm" "memory" (memory 0 0))
  (export "memory" (memory 0))
  (func (export "exit") (param i32) local.get 0 call $proc_exit))"""
_ADAPTERS: "weakref.WeakKeyDictionary[wasmtime.Engine, wasmtime.Module]" = weakref.WeakKeyDictionary()


def _wasi_exit(store: wasmtime.Store) -> wasmtime.Func:
    """A function of `store` calling wasmtime's WASI `proc_exit` over an empty WASI context (which
    grants nothing: nothing else of it is linked)."""
    adapter = _ADAPTERS.get(store.engine)
    if adapter is None:
        adapter = _ADAPTERS[store.engine] = wasmtime.Module(store.engine, _EXIT_ADAPTER)
    builtin = wasmtime.Linker(store.engine)
    builtin.define_wasi()
    builtin.define(store, "vwasm", "memory", wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(0, 0))))
    store.set_wasi(wasmtime.WasiConfig())
    func = builtin.instantiate(store, adapter).exports(store)["exit"]
    assert isinstance(func, wasmtime.Func)
    return func


def define_wasi(linker: wasmtime.Linker, store: wasmtime.Store, config: _sandbox.Config | None = None, *,
                host=None, only: frozenset | None = None) -> Wasi:
    """Define every WASI preview1 import in `linker`, for `store` only, granting exactly `config`
    (a `vwasm.Config`; default: nothing). The caller's own definitions in `linker` stay; a name it
    already defined is an error unless the linker allows shadowing.

    Returns a `Wasi` handle (`exit_code`, `trace`, `close()`). When the guest calls `proc_exit`, the
    call into wasm raises `wasmtime.ExitTrap` with the status as `.code` (a status of 126 or more is
    a trap, as in wasmtime). ValueError if `config` asks for a limit the store's engine cannot enforce
    (fuel without `consume_fuel`; a timeout without an engine from `vwasm.engine_for`); OSError if a
    granted directory, file or listener cannot be opened. `only`: define just these imports (a sandbox
    knows its module's; linking costs per import)."""
    config = _sandbox.Config() if config is None else config
    if linker.engine is not store.engine:
        raise ValueError("the linker and the store must share one wasmtime.Engine")
    if config.timeout is not None:
        limits.check_engine(store.engine, config, fuel=False)
    try:
        limits.apply(store, config)
    except wasmtime.WasmtimeError as e:
        raise ValueError(f"Config.fuel needs an engine with consume_fuel (vwasm.engine_for(config)): {e}") from None
    host = host or PosixHost()
    fds = _sandbox.descriptor_table(config, host)
    audit = None
    if config.audit:  # the table is the embedder's grant; from here on every effect is traced
        from .audit import Audit, TracingGuestMemory, TracingHost  # the effects model loads only for audit mode
        audit = Audit(keep=config.audit_keep_trace, recorder=config.audit_recorder)
        host = TracingHost(host, audit)
    cx = Context(host, fds, [a.encode() for a in config.argv], [f"{k}={v}".encode() for k, v in config.env],
                 tuple(config.netlist))
    if audit is not None:
        audit.grant(fds, cx.netlist)
        cx.trace = audit.trace

    store_ref = weakref.ref(store)  # what the store keeps alive (_KEEP) must not keep the store alive

    def bind(memory: wasmtime.Memory | None) -> None:
        if memory is not None:
            own = store_ref()
            cx.mem = (GuestMemory(own, memory, fixed=limits.memory_fixed(own.engine)) if audit is None
                      else TracingGuestMemory(own, memory, audit))

    keep = _KEEP.setdefault(store, [])
    keep.append(registration := abi.Registration())  # before linking: a failed link may leave some defined
    try:
        abi.link(linker, store, cx, bind, functools.partial(_exit_of, store_ref, []), registration, audit, only,
                 native=fastcalls.serving(host, audit, only))
    except BaseException:
        _release(cx, host, [])
        raise
    handle = Wasi(store, config, cx, host, audit)
    if config.timeout is not None:
        cx.deadline = host.clock_time(Clockid.MONOTONIC) + int(config.timeout * 1e9)
        passed = _deadline_check(cx, host)
        keep.append(limits.own_deadline(store, passed))
        handle._timers.append(limits.Timer(store.engine, config.timeout, passed))
    return handle


def _exit_of(store_ref: "weakref.ref[wasmtime.Store]", made: list) -> wasmtime.Func:
    """The store's `_wasi_exit` function, made on the first call and kept in `made`."""
    if not made:
        made.append(_wasi_exit(store_ref()))
    return made[0]


def _deadline_check(cx: Context, host):
    return lambda: host.clock_time(Clockid.MONOTONIC) >= cx.deadline
