"""proc_exit, proc_raise, sched_yield."""
from vwasm.model.wasi import Errno

from ..errors import ProcExit


def proc_exit(cx, code: int) -> None:
    """preview1 proc_exit: ends the run with this status (DESIGN §5; wasmtime traps for >= 126)."""
    raise ProcExit(code)


def proc_raise(cx, signal: int) -> int:
    # Signals are not part of the sandbox: wasmtime answers NOTSUP for every signal.
    return Errno.NOTSUP


def sched_yield(cx) -> int:
    return Errno.SUCCESS
