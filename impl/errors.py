"""How a host call ends other than by returning an errno.

`WasiError` (from the vocabulary) carries an errno back to the guest; `Trap` stops the guest because
it broke the ABI (a bad pointer, a misaligned record); `ProcExit` is the guest asking to stop.
"""
from vwasm.model.wasi import Errno, WasiError

__all__ = ["Errno", "WasiError", "Trap", "ProcExit"]


class Trap(Exception):
    """The guest broke the ABI: the call stops with a wasm trap and nothing more happens."""


class ProcExit(Exception):
    """`proc_exit(code)`: unwinds the guest; the runtime turns it into the exit status."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code
