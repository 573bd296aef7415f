"""Planted bugs on the error paths of host failures (host.failure_contained)."""
from __future__ import annotations

import inspect
import textwrap

from proofs.core import mutant, patch

FAILURES = "host.failure_contained"


def rewrite(module, name: str, old: str, new: str, handler: bool = True) -> None:
    """Replace `module.name` by its own source with `old` replaced by `new` (exactly once)."""
    src = textwrap.dedent(inspect.getsource(getattr(module, name)))
    if src.count(old) != 1:
        raise AssertionError(f"mutant: {old!r} is not once in {module.__name__}.{name}")
    scope = dict(vars(module))
    exec(compile(src.replace(old, new), inspect.getsourcefile(module), "exec"), scope)  # noqa: S102
    patch(module, name, scope[name])
    if handler:
        from vwasm import syscalls
        syscalls.HANDLERS[name] = scope[name]


@mutant("resolver_close_stops_at_error", breaks="6 bounded resources: a failing close of a directory walked "
        "through loses the handle just opened and the directories still held", killers=(FAILURES,))
def resolver_close_stops_at_error():
    """Bug when close(2) reports an error: the rest of the walk's handles are never closed."""
    from vwasm.resolve import Resolver

    def close(self):
        while self.stack:
            self.host.close(self.stack.pop())
    patch(Resolver, "close", close)


@mutant("accept_keeps_connection_on_failure", breaks="6 bounded resources: sock_accept leaks the accepted "
        "connection when the table is full", killers=("refinement.sockets",))
def accept_keeps_connection_on_failure():
    """Bug when the table is full (EMFILE after the accept): the accepted host socket stays open."""
    from vwasm.syscalls import sock
    rewrite(sock, "sock_accept", "        cx.host.close(handle)\n", "        pass\n")


@mutant("renumber_closes_first", breaks="3 descriptor isolation: fd_renumber closes the displaced handle "
        "before the table lets go of it, so a failing close leaves a descriptor on a closed handle",
        killers=(FAILURES,))
def renumber_closes_first():
    """Bug when closing the displaced descriptor fails: the table still holds it, closed."""
    from vwasm.syscalls import fd

    def fd_renumber(cx, fd_, to):
        old = cx.fds.get(to)
        cx.fds.get(fd_)
        if fd_ != to:
            cx.host.close(old.handle)
        cx.fds.renumber(fd_, to)
        return 0
    patch(fd, "fd_renumber", fd_renumber)
    from vwasm import syscalls
    syscalls.HANDLERS["fd_renumber"] = fd_renumber
