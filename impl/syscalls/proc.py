"""proc_exit, proc_raise, sched_yield."""
from vwasm.model.wasi import SUCCESS, Errno, Signal, WasiError

from ..errors import ProcExit


def proc_exit(cx, code: int) -> None:
    """preview1 proc_exit: ends the run with this status (DESIGN §5; wasmtime traps for >= 126)."""
    raise ProcExit(code)


def proc_raise(cx, signal: int) -> int:
    """preview1 proc_raise: signals are not part of the sandbox (wasmtime: NOTSUP)."""
    # Only preview1 signal numbers decode.
    if signal > max(Signal):
        raise WasiError(Errno.INVAL)
    return Errno.NOTSUP


def sched_yield(cx) -> int:
    return SUCCESS
