"""What a handler works on: guest memory, the descriptor table, the host, and the start-up facts."""
from __future__ import annotations

from .fdtable import FdTable
from .memory import GuestMemory


class Context:
    __slots__ = ("mem", "fds", "host", "args", "env", "netlist", "exit_code", "trace", "deadline")

    def __init__(self, host, fds: FdTable, args: list[bytes], env: list[bytes], netlist=()) -> None:
        self.host = host
        self.fds = fds
        self.args = args  # each without its NUL
        self.env = env  # b"KEY=VALUE", each without its NUL
        self.netlist = netlist
        self.mem = GuestMemory.over(bytearray())  # until the instance's memory is bound
        self.exit_code: int | None = None
        self.trace: list | None = None  # Effects, when auditing
        self.deadline: int | None = None  # host monotonic ns at which the guest stops (Config.timeout)
