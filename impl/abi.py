"""Registration of every WASI import with a wasmtime Linker, through the fast raw-value path.

The signatures are the vocabulary's (`SIGNATURES`, one table). Each import becomes one ctypes
callback of wasmtime's *unchecked* kind: arguments arrive as an array of raw 16-byte values, read as
plain ints (no `Val` boxing, DESIGN §7/§8) through `_RAW`. The callback turns the handler's outcome into the ABI:
an errno (or `WasiError`) is the i32 result; `Trap` and any unexpected exception stop the guest with
a trap whose message names the call; `ProcExit` stops it with wasmtime's own exit error (so the
embedder catches `wasmtime.ExitTrap`). Each import is a function of one store: a linker holding them
cannot instantiate in another store (wasmtime refuses), so guests never share a context. The guest's
memory is its instance's `memory` export, found on the first call. This module and PosixHost are the
trusted glue.
"""
from __future__ import annotations

import ctypes
import struct
import sys
import weakref
from typing import Callable

import wasmtime
from wasmtime import _ffi as ffi

from vwasm.model.wasi import PREVIEW1_MODULE, SIGNATURES, WasiError

from . import syscalls
from .errors import AuditViolation  # audit mode's trap (vwasm.audit loads only for audit mode)
from .errors import ProcExit, Trap

_M32 = 0xFFFF_FFFF
_RAW_STRIDE = ctypes.sizeof(ffi.wasmtime_val_raw_t) // 8  # u64 slots per raw value
# The callback's arguments: env, caller, the address of the raw values (an int: ctypes makes a new
# pointer object for a pointer argument at every call, a good part of a cheap call), their count.
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
# The raw values are reached through views of the whole address space (nothing is touched until
# indexed): a callback whose values start at address `a` reads them all at once with its signature's
# struct (`_decoder`: value j's low u64 at a + 8 * stride * j, as `wasmtime_val_raw_t *a`'s a[j] holds
# it) and writes the result, a u64, at _RAW[a >> 3], which is a[0] (wasmtime_val_raw_t has 64-bit
# members, so the array is 8-aligned and a >> 3 loses nothing). wasmtime gives `a` room for
# max(params, results) values; nothing else is read or written.
_BYTES = memoryview((ctypes.c_char * (sys.maxsize & ~7)).from_address(0))
_RAW = _BYTES.cast("B").cast("Q")
_DECODERS = {params: struct.Struct("<" + f"Q{8 * (_RAW_STRIDE - 1)}x" * (len(params) - 1) + "Q").unpack_from
             for params, _ in set(SIGNATURES.values()) if params}  # unpack_from(_BYTES, a): the raw u64s
# wasmtime_func_new_unchecked and wasmtime_linker_define, called with ctypes objects of the right C
# types and no argtypes to check them against (checking cost as much as the call, at every link).
_new_unchecked = ffi.dll["wasmtime_func_new_unchecked"]
_new_unchecked.restype, _new_unchecked.argtypes = None, None
_define = ffi.dll["wasmtime_linker_define"]
_define.restype, _define.argtypes = ctypes.c_void_p, None
_MODULE = PREVIEW1_MODULE.encode()
_FIELDS = {name: (name.encode(), ctypes.c_size_t(len(name.encode()))) for name in SIGNATURES}
_VALTYPE = {"i": wasmtime.ValType.i32(), "I": wasmtime.ValType.i64()}
_FUNCTYPES: "weakref.WeakKeyDictionary[wasmtime.Engine, dict]" = weakref.WeakKeyDictionary()


def _trap_ptr(message: str) -> int:
    return ctypes.cast(wasmtime.Trap(message)._consume(), ctypes.c_void_p).value


def _args(params: str) -> str:
    """The arguments as the handler gets them: the decoded raw values (`x0, x1, ...`), i32s masked."""
    return ", ".join(f"x{j}" + (" & M32" if kind == "i" else "") for j, kind in enumerate(params))


def _decode(params: str) -> str:
    """The statement decoding the raw values (none without parameters)."""
    names = ", ".join(f"x{j}" for j in range(len(params)))
    return f"{names}{',' if len(params) == 1 else ''} = DECODE(BYTES, a)" if params else "pass"


def _body(params: str, results: str) -> str:
    """The handler call with its arguments, result stored."""
    args = _args(params)
    call = f"handler(cx{', ' if args else ''}{args})"
    return f"RAW[a >> 3] = {call}" if results else call


# What a callback's code sees, bound at each link (the factory's parameters: closure cells).
_SCOPE = "handler, cx, M32, DECODE, BYTES, RAW, WasiError, fail, unbound, bind, caller_memory, wasi_exit, NAME"


def _source(params: str, results: str) -> str:
    """Python source of the callback factory for one signature (`make(...)` binds one import's handler
    and context, `NAME` its name): arguments decoded in one call, no per-call lists."""
    return f"""
def make({_SCOPE}):
    def callback(env, caller, a, n):
        try:
            {_decode(params)}
            mem = cx.mem
            if mem is unbound:
                bind(caller_memory(caller))
                mem = cx.mem
            if not mem.fixed:  # GuestMemory.sync, whose only work this is, without its call
                mem.sync()
            {_body(params, results)}
            return 0
        except WasiError as e:
            RAW[a >> 3] = e.errno
            return 0
        except BaseException as e:
            return fail(cx, NAME, e, caller, wasi_exit)
    return callback
"""


def _audit_source(name: str, params: str, results: str) -> str:
    """The audit-mode callback (`Config.audit`): the same call, bracketed by `Audit.begin` (given the
    decoded arguments) and `end` (given the errno, or what stopped the call; a trace records both);
    an unsafe effect -- found while the call ran or by `trace_safe` after it -- is the trap."""
    args = _args(params)
    return f"""
def make({_SCOPE}, begin, end):
    def callback(env, caller, a, n):
        {_decode(params)}
        mark = begin({name!r}, ({args}{"," if args else ""}))
        try:
            if cx.mem is unbound:
                bind(caller_memory(caller))
            cx.mem.sync()
            {_body(params, results)}
        except WasiError as e:
            RAW[a >> 3] = e.errno
        except BaseException as e:
            return fail(cx, {name!r}, end(mark, None, e) or e, caller, wasi_exit)
        bad = end(mark, {"RAW[a >> 3]" if results else "None"})
        if bad is not None:
            return fail(cx, {name!r}, bad, caller, wasi_exit)
        return 0
    return callback
"""


def _audit_fail(cx, name: str, exc: BaseException, caller, wasi_exit) -> int:
    """As `_fail`, but an audit violation is its own trap message (`audit: unsafe effect ...`)."""
    if isinstance(exc, AuditViolation):
        return _trap_ptr(str(exc))
    return _fail(cx, name, exc, caller, wasi_exit)


def _fail(cx, name: str, exc: BaseException, caller, wasi_exit) -> int:
    """The guest stops: proc_exit records its status; anything else is a trap naming the call."""
    if isinstance(exc, ProcExit):
        cx.exit_code = exc.code
        return _exit_ptr(caller, wasi_exit, exc.code)
    if isinstance(exc, Trap):
        return _trap_ptr(f"{name}: {exc}")
    return _trap_ptr(f"{name}: internal error: {type(exc).__name__}: {exc}")


def _exit_ptr(caller: int, wasi_exit, code: int) -> int:
    """wasmtime's own exit error for `code` (wasmtime-py raises it as `ExitTrap` with `.code`), made by
    calling wasmtime's WASI `proc_exit` (`wasi_exit()`: bound to this store, which grants it nothing
    else). Like wasmtime, a status of 126 or more is a trap instead."""
    try:
        func = wasi_exit()
    except Exception as e:  # it could not be made: the guest stops all the same
        return _trap_ptr(f"proc_exit({code}): {e}")
    arg = ffi.wasmtime_val_t()
    arg.kind = ffi.WASMTIME_I32
    arg.of.i32 = code - (1 << 32) if code >> 31 else code  # the u32 status, as wasm's i32
    trap = ctypes.POINTER(ffi.wasm_trap_t)()
    context = ffi.wasmtime_caller_context(ctypes.cast(caller, ctypes.POINTER(ffi.wasmtime_caller_t)))
    error = ffi.wasmtime_func_call(context, ctypes.byref(func._func), ctypes.byref(arg), 1, None, 0,
                                   ctypes.byref(trap))
    # wasmtime_error_t and wasm_trap_t each box one anyhow::Error: the exit error passes back as the trap.
    pointer = ctypes.cast(error or trap, ctypes.c_void_p).value
    return pointer or _trap_ptr(f"proc_exit({code})")


def caller_memory(caller: int) -> wasmtime.Memory | None:
    """The calling instance's exported `memory`, if it has one."""
    item = ffi.wasmtime_extern_t()
    found = ffi.wasmtime_caller_export_get(ctypes.cast(caller, ctypes.POINTER(ffi.wasmtime_caller_t)),
                                           b"memory", 6, ctypes.byref(item))
    if found and item.kind == ffi.WASMTIME_EXTERN_MEMORY.value:
        return wasmtime.Memory._from_raw(item.of.memory)
    return None


# The factories, each compiled at the first link that needs it: one per signature (17 for 48 imports; a
# small guest uses a few: start-up), one per import audited. A link only calls them (a closure each).
_MAKERS: dict = {}


def _maker(signature: tuple[str, str], audited: str | None = None):
    make = _MAKERS.get(audited or signature)
    if make is None:
        text = _source(*signature) if audited is None else _audit_source(audited, *signature)
        scope: dict = {}
        exec(compile(text, f"<vwasm.abi:{audited or '->'.join(signature)}>", "exec"), scope)
        make = _MAKERS[audited or signature] = scope["make"]
    return make


class Registration:
    """Keeps every FuncType and ctypes callback alive for as long as the store may call them."""

    def __init__(self) -> None:
        self.keep: list = []


def link(linker: wasmtime.Linker, store: wasmtime.Store, cx, bind, wasi_exit: Callable[[], wasmtime.Func],
         reg: Registration, audit=None, only=None, native=None) -> None:
    """Define all 48 imports (or those named in `only`) in `linker` as functions of `store`, each calling
    its handler with `cx`; with an `Audit` (vwasm.audit), through the audit callbacks instead; with a
    `fastcalls.Library` (`native`), an import whose handler it has an entry for is that C entry, which
    answers the common case and passes every other to the handler's callback. Until a call finds the
    guest's memory (`bind` is given it), `cx.mem` is the empty memory Context starts with. `reg`,
    which the caller keeps as long as the store, holds every callback made (those defined before a
    failing definition too)."""
    # One FuncType per signature per engine, made on its first link: one shared across engines aborts.
    functypes = _FUNCTYPES.get(store.engine)
    if functypes is None:
        functypes = _FUNCTYPES[store.engine] = {
            sig: wasmtime.FuncType([_VALTYPE[k] for k in sig[0]], [_VALTYPE[k] for k in sig[1]])
            for sig in set(SIGNATURES.values())}
    reg.keep.append(functypes)
    context, linker_ptr, module = store._context(), linker.ptr(), _MODULE
    module_len = ctypes.c_size_t(len(module))
    func = ffi.wasmtime_extern_t()
    func.kind = ffi.WASMTIME_EXTERN_FUNC
    func_out, extern = ctypes.byref(func.of.func), ctypes.byref(func)
    unbound, handlers = cx.mem, syscalls.HANDLERS
    for name, signature in SIGNATURES.items():
        if only is not None and name not in only:  # the caller's module imports only `only`
            continue
        scope = (handlers[name], cx, _M32, _DECODERS.get(signature[0]), _BYTES, _RAW, WasiError)
        if audit is None:
            function = _maker(signature)(*scope, _fail, unbound, bind, caller_memory, wasi_exit, name)
        else:
            function = _maker(signature, name)(*scope, _audit_fail, unbound, bind, caller_memory, wasi_exit, name,
                                               audit.begin, audit.end)
        callback = _CALLBACK(function)
        reg.keep.append(callback)
        served = native.serve(handlers[name], callback, cx) if native is not None else None
        if served is None:
            _new_unchecked(context, functypes[signature].ptr(), callback, None, None, func_out)
        else:  # the entry's `env` leads to the callback: what it does not answer goes there
            entry, env = served
            reg.keep.append(env)
            _new_unchecked(context, functypes[signature].ptr(), ctypes.c_void_p(entry), env, None, func_out)
        field, field_len = _FIELDS[name]
        error = _define(linker_ptr, context, module, module_len, field, field_len, extern)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t)))
