"""Registration of every WASI import with a wasmtime Linker, through the fast raw-value path.

The signatures are the vocabulary's (`SIGNATURES`, one table). Each import becomes one ctypes
callback of wasmtime's *unchecked* kind: arguments arrive as an array of raw 16-byte values, read as
plain ints (no `Val` boxing, DESIGN §7/§8). The callback turns the handler's outcome into the ABI:
an errno (or `WasiError`) is the i32 result; `Trap` and any unexpected exception stop the guest with
a trap whose message names the call; `ProcExit` stops it with wasmtime's own exit error (so the
embedder catches `wasmtime.ExitTrap`). Each import is a function of one store: a linker holding them
cannot instantiate in another store (wasmtime refuses), so guests never share a context. The guest's
memory is its instance's `memory` export, found on the first call. This module and PosixHost are the
trusted glue.
"""
from __future__ import annotations

import ctypes
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
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t)
_new_unchecked = ffi.dll["wasmtime_func_new_unchecked"]
_new_unchecked.restype = None
_new_unchecked.argtypes = [ctypes.POINTER(ffi.wasmtime_context_t), ctypes.POINTER(ffi.wasm_functype_t), _CALLBACK,
                           ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ffi.wasmtime_func_t)]
_VALTYPE = {"i": wasmtime.ValType.i32(), "I": wasmtime.ValType.i64()}
_FUNCTYPES: "weakref.WeakKeyDictionary[wasmtime.Engine, dict]" = weakref.WeakKeyDictionary()


def _trap_ptr(message: str) -> int:
    return ctypes.cast(wasmtime.Trap(message)._consume(), ctypes.c_void_p).value


def _args(params: str) -> str:
    """The arguments decoded from the raw array (unrolled)."""
    return ", ".join(f"a[{_RAW_STRIDE * i}]" + (" & M32" if kind == "i" else "") for i, kind in enumerate(params))


def _body(params: str, results: str) -> str:
    """The handler call with its arguments decoded from the raw array (unrolled), result stored."""
    args = _args(params)
    call = f"handler(cx{', ' if args else ''}{args})"
    return f"a[0] = {call}" if results else call


def _source(params: str, results: str) -> str:
    """Python source of the callback for one signature (the import's name is `NAME` in its scope):
    argument decoding unrolled, no per-call lists."""
    body = _body(params, results)
    return f"""
def callback(env, caller, a, n):
    try:
        if cx.mem is unbound:
            bind(caller_memory(caller))
        cx.mem.sync()
        {body}
        return 0
    except WasiError as e:
        a[0] = e.errno
        return 0
    except BaseException as e:
        return fail(cx, NAME, e, caller, wasi_exit)
"""


def _audit_source(name: str, params: str, results: str) -> str:
    """The audit-mode callback (`Config.audit`): the same call, bracketed by `Audit.begin` (given the
    decoded arguments) and `end` (given the errno, or what stopped the call; a trace records both);
    an unsafe effect -- found while the call ran or by `trace_safe` after it -- is the trap."""
    body = _body(params, results)
    args = _args(params)
    return f"""
def callback(env, caller, a, n):
    mark = begin({name!r}, ({args}{"," if args else ""}))
    try:
        if cx.mem is unbound:
            bind(caller_memory(caller))
        cx.mem.sync()
        {body}
    except WasiError as e:
        a[0] = e.errno
    except BaseException as e:
        return fail(cx, {name!r}, end(mark, None, e) or e, caller, wasi_exit)
    bad = end(mark, {"a[0]" if results else "None"})
    if bad is not None:
        return fail(cx, {name!r}, bad, caller, wasi_exit)
    return 0
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


# Compiled once per signature, at its first link (17 signatures for 48 imports; a small guest uses a
# few: start-up); each link only binds a fresh function to its context (exec of a code object that
# merely defines `callback`).
_CODE: dict = {}


def _code(signature: tuple[str, str]):
    code = _CODE.get(signature)
    if code is None:
        code = _CODE[signature] = compile(_source(*signature), f"<vwasm.abi:{signature[0]}->{signature[1]}>", "exec")
    return code


_AUDIT_CODE: dict = {}  # compiled on the first audited link only


def _audit_code(name: str):
    code = _AUDIT_CODE.get(name)
    if code is None:
        code = _AUDIT_CODE[name] = compile(_audit_source(name, *SIGNATURES[name]), f"<vwasm.abi:audit:{name}>",
                                           "exec")
    return code


class Registration:
    """Keeps every FuncType and ctypes callback alive for as long as the store may call them."""

    def __init__(self) -> None:
        self.keep: list = []


def link(linker: wasmtime.Linker, store: wasmtime.Store, cx, bind, wasi_exit: Callable[[], wasmtime.Func],
         reg: Registration, audit=None, only=None) -> None:
    """Define all 48 imports (or those named in `only`) in `linker` as functions of `store`, each calling
    its handler with `cx`; with an `Audit` (vwasm.audit), through the audit callbacks instead. Until a call finds the
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
    context, module = store._context(), PREVIEW1_MODULE.encode()
    func = ffi.wasmtime_extern_t()
    func.kind = ffi.WASMTIME_EXTERN_FUNC
    for name, signature in SIGNATURES.items():
        if only is not None and name not in only:  # the caller's module imports only `only`
            continue
        scope = {"handler": syscalls.HANDLERS[name], "cx": cx, "M32": _M32, "WasiError": WasiError,
                 "fail": _fail, "unbound": cx.mem, "bind": bind, "caller_memory": caller_memory,
                 "wasi_exit": wasi_exit, "NAME": name}
        if audit is None:
            exec(_code(signature), scope)
        else:
            scope.update(fail=_audit_fail, begin=audit.begin, end=audit.end)
            exec(_audit_code(name), scope)
        callback = _CALLBACK(scope["callback"])
        reg.keep.append(callback)
        _new_unchecked(context, functypes[signature].ptr(), callback, None, None, ctypes.byref(func.of.func))
        field = name.encode()
        error = ffi.wasmtime_linker_define(linker.ptr(), context, module, len(module), field, len(field),
                                           ctypes.byref(func))
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
