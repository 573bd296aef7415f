"""proc_exit, proc_raise, sched_yield."""
from vwasm.model.wasi import Errno

from ..errors import ProcExit, Trap


EXIT_STATUS_LIMIT = 126  # 126 and up mean "could not run" to a shell; wasmtime refuses them too


def proc_exit(cx, code: int) -> None:
    """preview1 proc_exit: ends the run with this status (a trap for statuses >= 126, as wasmtime)."""
    if code >= EXIT_STATUS_LIMIT:
        raise Trap(f"exit with invalid exit status {code}, outside of [0..126)")
    raise ProcExit(code)


def proc_raise(cx, signal: int) -> int:
    # Signals are not part of the sandbox: wasmtime answers NOTSUP for every signal.
    return Errno.NOTSUP


def sched_yield(cx) -> int:
    return Errno.SUCCESS
