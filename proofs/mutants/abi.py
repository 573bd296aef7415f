"""Planted bugs in the trusted host-call glue (host.abi)."""
from __future__ import annotations

from proofs.core import mutant, patch

ABI = ("host.abi",)


@mutant("abi_i32_unmasked", breaks="5 no host crash / 1 memory isolation: i32 arguments read as the whole raw "
        "64-bit slot (whatever its upper half holds)", killers=ABI)
def abi_i32_unmasked():
    """Bug when the raw value's upper half is not zero: a pointer arrives as a huge number."""
    from vwasm import abi
    patch(abi, "_M32", (1 << 64) - 1)


@mutant("abi_exit_is_trap", breaks="proc_exit stops the guest with a trap, not the exit status", killers=ABI)
def abi_exit_is_trap():
    """Bug in the glue's ending: ProcExit is handled like any other exception."""
    from vwasm import abi
    from vwasm.errors import ProcExit
    real = abi._fail

    def fail(cx, name, exc, caller, wasi_exit):
        if isinstance(exc, ProcExit):
            return abi._trap_ptr(f"{name}: exit {exc.code}")
        return real(cx, name, exc, caller, wasi_exit)
    patch(abi, "_fail", fail)


@mutant("abi_crash_swallowed", breaks="5 no host crash: an unexpected exception in a handler lets the guest go "
        "on as if the call had returned", killers=ABI)
def abi_crash_swallowed():
    """Bug when a handler raises something unexpected: the callback reports success."""
    from vwasm import abi
    from vwasm.errors import ProcExit, Trap
    real = abi._fail

    def fail(cx, name, exc, caller, wasi_exit):
        if not isinstance(exc, (ProcExit, Trap)):
            return 0
        return real(cx, name, exc, caller, wasi_exit)
    patch(abi, "_fail", fail)


@mutant("abi_memory_never_bound", breaks="1 memory isolation: the handlers never see the guest's memory (every "
        "pointer traps or, worse, another memory is used)", killers=ABI)
def abi_memory_never_bound():
    """Bug in finding the caller's memory: the `memory` export is never found."""
    from vwasm import abi
    patch(abi, "caller_memory", lambda caller: None)
