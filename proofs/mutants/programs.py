"""Planted bugs on the path a user's run takes, outside the handlers (host.programs)."""
from __future__ import annotations

from proofs.core import mutant
from proofs.mutants.host_failures import rewrite

PROGRAMS = ("host.programs",)


@mutant("cli_dir_ro_writable", breaks="read-only grants: `vwasm run --dir-ro` grants the directory writable",
        killers=PROGRAMS)
def cli_dir_ro_writable():
    """Bug in the command line: --dir-ro is read as --dir."""
    from vwasm import cli
    rewrite(cli, "config_from", "read_only=True", "read_only=False", handler=False)


@mutant("cli_guest_name_is_host_path", breaks="2 filesystem isolation / usability: `--dir HOST::GUEST` shows the "
        "guest the host's path instead of GUEST", killers=PROGRAMS)
def cli_guest_name_is_host_path():
    """Bug in the command line: the guest name of a preopen is the host path."""
    from vwasm import cli
    rewrite(cli, "_preopen", "return host, guest if sep else host", "return host, host", handler=False)


@mutant("stdout_unflushed", breaks="the guest's output is lost: the command line's stdout is never flushed "
        "before the process exits", killers=PROGRAMS)
def stdout_unflushed():
    """Bug in the stdio adapters: writes to an inherited stdout are buffered and dropped."""
    from vwasm import sandbox
    real = sandbox._stdio_handle

    def _stdio_handle(host, kind, how, what):
        if how == "inherit" and kind == sandbox.STDOUT:
            return host.open_stdio("/dev/null", True)
        return real(host, kind, how, what)
    sandbox._stdio_handle = _stdio_handle
