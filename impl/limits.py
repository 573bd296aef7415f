"""Limits on what a guest may consume: `Config.fuel`, `.timeout`, `.max_memory` (and `.max_fds`,
which the descriptor table enforces itself).

Each is enforced by the engine: fuel by wasmtime's fuel counter; wall-clock time by epoch
interruption (a timer thread bumps the engine's epoch at the deadline); linear memory and tables by
the store's limiter, so `memory.grow` and `table.grow` return -1 past it and a module that declares
more than the limit from the start is refused at instantiation. Wasm code cannot outrun the epoch,
but a host call can block, so the calls that may wait (`poll_oneoff`, `fd_read`/`fd_write` on a
stream, `sock_accept`, `sock_recv`, `sock_send`) wait only until the deadline (`wait_ready`,
`wait_until`) and then stop the guest too.
Fuel and epoch checks cost speed in compiled code, so an engine gets them only when asked.
"""
from __future__ import annotations

import ctypes
import re
import threading
import weakref

import wasmtime
from wasmtime import _ffi as ffi

from vwasm.model.wasi import Clockid, Fdflags

from .errors import Trap

DEFAULT_MAX_MEMORY = 1 << 30  # bytes per linear memory (wasm32 could reach 4 GiB)
MAX_TABLE_ELEMENTS = 1 << 20  # per table; C programs use a few thousand
MAX_MEMORIES = 1  # a WASI command has one memory: the byte limit is then the guest's whole memory

# Whether an engine we made can count fuel / be interrupted (wasmtime cannot be asked afterwards).
_ENGINE_FEATURES: "weakref.WeakKeyDictionary[wasmtime.Engine, tuple[bool, bool]]" = weakref.WeakKeyDictionary()


class DeadlineReached(Trap):
    """A host call reached the guest's deadline (Config.timeout) while waiting: the guest stops."""


def engine_for(config) -> wasmtime.Engine:
    """A new engine able to enforce `config`'s fuel and timeout (`vwasm.engine_for`). Its stores may
    each have their own timeout: a store stops only at its own deadline (`own_deadline`)."""
    settings = wasmtime.Config()
    fuel, epochs = config.fuel is not None, config.timeout is not None
    settings.consume_fuel = fuel
    settings.epoch_interruption = epochs
    # Linear memory never moves (growth stays in its reservation, 4 GiB for wasm32 on 64-bit hosts):
    # GuestMemory then keeps its view across calls and re-reads the size only when an access lies
    # past it (`memory_fixed`).
    settings.memory_may_move = False
    engine = wasmtime.Engine(settings)
    _ENGINE_FEATURES[engine] = (fuel, epochs)  # every setting made here: the compile cache keys on them
    return engine


def memory_fixed(engine: wasmtime.Engine) -> bool:
    """Whether `engine` was made by `engine_for`, so its memories cannot move (else: unknown)."""
    return engine in _ENGINE_FEATURES


def engine_settings(engine: wasmtime.Engine) -> tuple[bool, bool] | None:
    """(fuel, epochs) of an engine made by `engine_for`; None for any other engine."""
    return _ENGINE_FEATURES.get(engine)


def check_engine(engine: wasmtime.Engine, config, fuel: bool = True) -> None:
    """An embedder's engine must have been made by `engine_for` for a time limit (and, unless
    `fuel` is False, for a fuel limit)."""
    has_fuel, epochs = _ENGINE_FEATURES.get(engine, (False, False))
    if (fuel and config.fuel is not None and not has_fuel) or (config.timeout is not None and not epochs):
        raise ValueError("Config.fuel and Config.timeout need an engine made by vwasm.engine_for(config)")


def apply(store: wasmtime.Store, config) -> None:
    """Set the store's limiter and fuel (before instantiation: the start function counts too)."""
    memory = -1 if config.max_memory is None else config.max_memory  # None: as much as wasm allows
    store.set_limits(memory_size=memory, table_elements=MAX_TABLE_ELEMENTS, memories=MAX_MEMORIES)
    if config.fuel is not None:
        store.set_fuel(config.fuel)
    if config.timeout is not None:
        store.set_epoch_deadline(1)


class Timer:
    """Bumps the engine's epoch once `seconds` have passed and `passed()` says so: the store's code then
    stops (`own_deadline`)."""

    def __init__(self, engine: wasmtime.Engine, seconds: float, passed) -> None:
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(engine, seconds, passed), daemon=True)
        self._thread.start()

    def _run(self, engine: wasmtime.Engine, seconds: float, passed) -> None:
        if self._cancelled.wait(seconds):
            return
        while not passed():  # a wait may end a hair early; the deadline itself decides
            if self._cancelled.wait(0.001):
                return
        engine.increment_epoch()

    def cancel(self) -> None:
        self._cancelled.set()


# Every store of an engine sees its epoch: at each bump (any store's Timer), a store stops only if
# its own deadline has passed, and otherwise waits for the next bump.
_DEADLINE_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint8))
_set_deadline_callback = ffi.dll["wasmtime_store_epoch_deadline_callback"]
_set_deadline_callback.restype = None
_set_deadline_callback.argtypes = [ctypes.POINTER(ffi.wasmtime_store_t), _DEADLINE_CALLBACK, ctypes.c_void_p,
                                   ctypes.c_void_p]
_CONTINUE = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE


def own_deadline(store: wasmtime.Store, passed):
    """Make `store`'s code stop at an epoch bump only once `passed()`; returns the callback, which
    must be kept alive as long as the store."""
    def reached(context, env, delta, kind) -> int:
        if passed():
            return ctypes.cast(wasmtime.WasmtimeError("timeout reached")._consume(), ctypes.c_void_p).value
        delta[0], kind[0] = 1, _CONTINUE
        return 0

    callback = _DEADLINE_CALLBACK(reached)
    _set_deadline_callback(store.ptr(), callback, None, None)
    return callback


# --- host calls that may block wait only until the deadline -------------------------------------
def wait_ready(cx, desc, write: bool = False) -> None:
    """Before a call that may block on `desc`: wait until it is ready, or stop the guest at the
    deadline. Only when a deadline is set (callers test `cx.deadline`) and `desc` blocks."""
    if desc.fdflags & Fdflags.NONBLOCK:
        return
    remaining = max(0, cx.deadline - cx.host.clock_time(Clockid.MONOTONIC))
    ready_r, ready_w = cx.host.ready([] if write else [desc.handle], [desc.handle] if write else [], remaining)
    if not (ready_r or ready_w):
        raise DeadlineReached("timeout reached while waiting")


def wait_until(cx, wait: int | None, now: int) -> int:
    """A wait of `wait` ns (None: forever) starting at `now`, cut at the deadline."""
    remaining = max(0, cx.deadline - now)
    return remaining if wait is None else min(wait, remaining)


def check_deadline(cx, now: int) -> None:
    """After a wait cut by `wait_until`: stop the guest if the deadline has come."""
    if now >= cx.deadline:
        raise DeadlineReached("timeout reached while waiting")


# --- the one line that names the limit a guest hit --------------------------------------------------
_PAGE = 65536


def refusal(reason: str, config) -> str:
    """Why instantiation failed (wasmtime's `reason`), naming the limit a declaration exceeds."""
    if m := re.search(r"memory minimum size of (\d+) pages exceeds memory limits", reason):
        return (f"the module's initial memory, {int(m[1]) * _PAGE} bytes, exceeds the memory limit "
                f"{config.max_memory} bytes (--max-memory)")
    if m := re.search(r"table minimum size of (\d+) elements exceeds table limits", reason):
        return f"the module's table of {m[1]} elements exceeds the table limit {MAX_TABLE_ELEMENTS} elements"
    if m := re.search(r"memory count too high at (\d+)", reason):
        return f"the module declares {m[1]} memories; at most {MAX_MEMORIES} is allowed"
    return f"cannot instantiate the module: {reason}"


def fuel_message(config) -> str:
    return f"fuel {config.fuel} exhausted (--fuel)"


def timeout_message(config) -> str:
    return f"timeout {config.timeout:g} s reached (--timeout)"
