"""How a host call ends other than by returning an errno.

`WasiError` (from the vocabulary) carries an errno back to the guest; `Trap` stops the guest because
it broke the ABI (a bad pointer, a misaligned record); `ProcExit` is the guest asking to stop.
"""
from vwasm.model.wasi import Errno, WasiError

__all__ = ["Errno", "WasiError", "Trap", "ProcExit", "AuditViolation"]


class Trap(Exception):
    """The guest broke the ABI: the call stops with a wasm trap and nothing more happens."""


class AuditViolation(Trap):
    """An effect the policy does not allow (audit mode, vwasm.audit): the guest stops with
    `audit: unsafe effect ...`. Here rather than in vwasm.audit so that the glue (vwasm.abi) can
    tell it apart without loading the effects model on every run."""

    def __init__(self, effect, call: str | None = None) -> None:
        super().__init__(effect, call)
        self.effect = effect
        self.call = call

    def __str__(self) -> str:
        return f"audit: unsafe effect {self.effect}" + (f" in {self.call}" if self.call else "")


class ProcExit(Exception):
    """`proc_exit(code)`: unwinds the guest; the runtime turns it into the exit status."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code
