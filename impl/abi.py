"""Registration of every WASI import with a wasmtime Linker, through the fast raw-value path.

The signatures are the vocabulary's (`SIGNATURES`, one table). Each import becomes one ctypes
callback of wasmtime's *unchecked* kind: arguments arrive as an array of raw 16-byte values, read as
plain ints (no `Val` boxing, DESIGN §7/§8). The callback turns the handler's outcome into the ABI:
an errno (or `WasiError`) is the i32 result; `Trap`, `ProcExit` and any unexpected exception stop the
guest with a trap whose message names the call. This module and PosixHost are the trusted glue.
"""
from __future__ import annotations

import ctypes

import wasmtime
from wasmtime import _ffi as ffi

from vwasm.model.wasi import PREVIEW1_MODULE, SIGNATURES, Errno, WasiError

from . import syscalls
from .errors import ProcExit, Trap

_M32 = 0xFFFF_FFFF
_RAW_STRIDE = ctypes.sizeof(ffi.wasmtime_val_raw_t) // 8  # u64 slots per raw value
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t)
_define_unchecked = ffi.dll["wasmtime_linker_define_func_unchecked"]
_define_unchecked.restype = ctypes.POINTER(ffi.wasmtime_error_t)
_define_unchecked.argtypes = [ctypes.POINTER(ffi.wasmtime_linker_t), ctypes.c_char_p, ctypes.c_size_t,
                              ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ffi.wasm_functype_t),
                              _CALLBACK, ctypes.c_void_p, ctypes.c_void_p]
_VALTYPE = {"i": wasmtime.ValType.i32(), "I": wasmtime.ValType.i64()}


def _trap_ptr(message: str) -> int:
    return ctypes.cast(wasmtime.Trap(message)._consume(), ctypes.c_void_p).value


def _source(name: str, params: str, results: str) -> str:
    """Python source of the callback for one import: argument decoding unrolled, no per-call lists."""
    args = ", ".join(
        f"a[{_RAW_STRIDE * i}]" + (" & M32" if kind == "i" else "") for i, kind in enumerate(params))
    call = f"handler(cx{', ' if args else ''}{args})"
    body = f"a[0] = {call}" if results else call
    return f"""
def callback(env, caller, a, n):
    try:
        cx.mem.sync()
        {body}
        return 0
    except WasiError as e:
        a[0] = e.errno
        return 0
    except BaseException as e:
        return fail(cx, {name!r}, e)
"""


def _fail(cx, name: str, exc: BaseException) -> int:
    """The guest stops: proc_exit records its status; anything else is a trap naming the call."""
    if isinstance(exc, ProcExit):
        cx.exit_code = exc.code
        return _trap_ptr(f"proc_exit({exc.code})")
    if isinstance(exc, Trap):
        return _trap_ptr(f"{name}: {exc}")
    return _trap_ptr(f"{name}: internal error: {type(exc).__name__}: {exc}")


def _enosys(cx, *args) -> int:
    return Errno.NOSYS


# Compiled once: each link only binds a fresh function to its context (exec of a code object that
# merely defines `callback`).
_CODE = {name: compile(_source(name, params, results), f"<vwasm.abi:{name}>", "exec")
         for name, (params, results) in SIGNATURES.items()}


class Registration:
    """Keeps every FuncType and ctypes callback alive for as long as the linker may call them."""

    def __init__(self) -> None:
        self.keep: list = []


def link(linker: wasmtime.Linker, cx) -> Registration:
    """Define all 48 imports in `linker`, each calling its handler with `cx`."""
    reg = Registration()
    # One FuncType per signature, per link: a FuncType shared across engines aborts the process.
    functypes = {sig: wasmtime.FuncType([_VALTYPE[k] for k in sig[0]], [_VALTYPE[k] for k in sig[1]])
                 for sig in set(SIGNATURES.values())}
    reg.keep.append(functypes)
    module = PREVIEW1_MODULE.encode()
    for name, signature in SIGNATURES.items():
        scope = {"handler": syscalls.HANDLERS.get(name, _enosys), "cx": cx, "M32": _M32,
                 "WasiError": WasiError, "fail": _fail}
        exec(_CODE[name], scope)
        callback = _CALLBACK(scope["callback"])
        field = name.encode()
        error = _define_unchecked(linker.ptr(), module, len(module), field, len(field),
                                  functypes[signature].ptr(), callback, None, None)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        reg.keep.append(callback)
    return reg
