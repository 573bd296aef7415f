"""The public API: `Config` (shaped like `wasmtime.WasiConfig`), `Sandbox` and `run`.

Deny by default: a Config grants no directory, no environment, no network, and standard streams
that read end-of-file and discard output, until the embedder says otherwise.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable

import wasmtime

from vwasm.model import net
from vwasm.model.rights import preopen_rights
from vwasm.model.wasi import (
    FD_LIMIT, SOCKET_RIGHTS, STDIN_RIGHTS, STDOUT_RIGHTS, Clockid, Filetype, SocketType,
)

from . import abi, limits
from .context import Context
from .fdtable import DIR, STDERR, STDIN, STDOUT, Descriptor, FdTable
from .limits import DEFAULT_MAX_MEMORY
from .cache import compile_with
from .loader import ModuleError, cause, check_command, check_imports
from .posix_host import PosixHost
from .memory import GuestMemory
from .streams import BytesInput, CallbackOutput
from .syscalls.sock import socket_descriptor

TRAP_STATUS = 134  # what a shell reports for SIGABRT; wasmtime's CLI exits so on a trap too


@dataclass(frozen=True)
class Preopen:
    host: str
    guest: str
    read_only: bool = False


class Config:
    """What the guest is granted. Attribute and method names follow `wasmtime.WasiConfig`."""

    def __init__(self) -> None:
        self.argv: list[str] = []
        self.env: list[tuple[str, str]] = []
        self.preopens: list[Preopen] = []
        self.audit = False  # audit mode: trace every effect, trap on an unsafe one (vwasm.audit)
        self.audit_keep_trace = True  # keep the whole trace (Sandbox.trace); False: check and drop
        self.audit_recorder = None  # writes every host call out (vwasm.trace: --trace, --strace)
        self.netlist: list[net.Rule] = []  # endpoints the guest may connect to (deny by default)
        self.listeners: list[tuple[str, int]] = []  # TCP sockets the guest may accept on
        self.max_fds = FD_LIMIT  # descriptors the guest may hold at once, streams and preopens included
        # Limits the engine enforces (vwasm.limits); None: no limit.
        self.fuel: int | None = None  # wasmtime fuel units (about one per wasm instruction)
        self.timeout: float | None = None  # wall-clock seconds from instantiation, blocked host calls included
        self.max_memory: int = DEFAULT_MAX_MEMORY  # bytes of linear memory; memory.grow returns -1 past it
        # Compiled code kept between runs (vwasm.cache): True for $XDG_CACHE_HOME/vwasm, a directory or a
        # vwasm.cache.CompileCache for that one; False: compile every time.
        self.cache = False
        self._stdio: dict[str, tuple[str, object]] = {
            STDIN: ("bytes", b""), STDOUT: ("discard", None), STDERR: ("discard", None)}

    def enable_audit(self, keep_trace: bool = True, recorder=None) -> None:
        """Audit mode: every host call's effects are checked with `model.effects.trace_safe`; an
        unsafe one stops the guest with the trap `audit: unsafe effect ...`. `keep_trace=False`
        drops each call's effects once checked (long runs). `recorder` (a `vwasm.trace.Recorder`)
        writes every call out with its arguments, errno and effects."""
        self.audit = True
        self.audit_keep_trace = keep_trace
        self.audit_recorder = recorder

    def inherit_argv(self) -> None:
        self.argv = list(sys.argv)

    def inherit_env(self) -> None:
        self.env = list(os.environ.items())

    def preopen_dir(self, host_path: str, guest_path: str, read_only: bool = False) -> None:
        self.preopens.append(Preopen(os.fspath(host_path), guest_path, read_only))

    def allow_net(self, rule: str) -> None:
        """Let the guest create sockets and connect to `rule`'s endpoints: `tcp:10.0.0.0/8:80-90`,
        `udp:[::1]:53`, `tcp:127.0.0.1:8080` (ValueError if malformed)."""
        try:
            self.netlist.append(net.parse_rule(rule))
        except (ValueError, KeyError) as e:
            raise ValueError(f"bad netlist rule {rule!r}: expected PROTO:ADDR[/PREFIX]:PORT[-PORT]") from e

    def tcp_listen(self, address: str, port: int) -> None:
        """Grant a TCP socket listening on address:port (after the preopens in the guest's table)."""
        self.listeners.append((address, int(port)))

    def stdin_file(self, path: str) -> None:
        self._stdio[STDIN] = ("file", os.fspath(path))

    def stdin_bytes(self, data: bytes) -> None:
        self._stdio[STDIN] = ("bytes", bytes(data))

    def inherit_stdin(self) -> None:
        self._stdio[STDIN] = ("inherit", 0)

    def stdout_file(self, path: str) -> None:
        self._stdio[STDOUT] = ("file", os.fspath(path))

    def stdout_custom(self, callback: Callable[[bytes], object]) -> None:
        self._stdio[STDOUT] = ("custom", callback)

    def inherit_stdout(self) -> None:
        self._stdio[STDOUT] = ("inherit", 1)

    def stderr_file(self, path: str) -> None:
        self._stdio[STDERR] = ("file", os.fspath(path))

    def stderr_custom(self, callback: Callable[[bytes], object]) -> None:
        self._stdio[STDERR] = ("custom", callback)

    def inherit_stderr(self) -> None:
        self._stdio[STDERR] = ("inherit", 2)


def _stdio_handle(host: PosixHost, kind: str, how: str, what: object):
    if how == "file":
        return host.open_stdio(what, write=kind != STDIN)
    if how == "inherit":
        return host.inherited(what)
    if how == "custom":
        return CallbackOutput(what)
    if how == "bytes":
        return BytesInput(what)
    return CallbackOutput(lambda data: None)  # discard


_STDIO_RIGHTS = {STDIN: STDIN_RIGHTS, STDOUT: STDOUT_RIGHTS, STDERR: STDOUT_RIGHTS}


def descriptor_table(config: Config, host) -> FdTable:
    """fds 0-2 the standard streams, then the preopens in order from fd 3."""
    fds = FdTable(config.max_fds)
    for fd, kind in enumerate((STDIN, STDOUT, STDERR)):
        handle = _stdio_handle(host, kind, *config._stdio[kind])
        filetype = Filetype.CHARACTER_DEVICE if host.is_tty(handle) else Filetype.UNKNOWN
        fds.place(fd, Descriptor(kind, handle, filetype, _STDIO_RIGHTS[kind], _STDIO_RIGHTS[kind]))
    for fd, pre in enumerate(config.preopens, start=3):
        handle = host.open_preopen(pre.host)
        base, inheriting = preopen_rights(pre.read_only)
        fds.place(fd, Descriptor(DIR, handle, Filetype.DIRECTORY, base, inheriting, preopen=pre.guest))
    for fd, (address, port) in enumerate(config.listeners, start=3 + len(config.preopens)):
        handle, family = host.listen_tcp(address, port)
        listening = net.Socket(family, SocketType.STREAM, net.PROTO_OF_TYPE[SocketType.STREAM], "listening")
        fds.place(fd, socket_descriptor(handle, listening, SOCKET_RIGHTS, SOCKET_RIGHTS))
    return fds


class Sandbox:
    """One instance of a module, linked to vwasm's WASI and nothing else."""

    def __init__(self, module, config: Config, *, engine: wasmtime.Engine | None = None, host=None,
                 command: bool = False) -> None:
        """Compile (bytes, WAT text or a path; or a `wasmtime.Module` made with `engine`), link and
        instantiate `module`. Anything wrong with the module is a `ModuleError` (one line); with
        `command`, so is a missing or mistyped `_start`, checked before anything runs. A start
        function that traps or exits does not raise: `run()` then reports it."""
        if engine is not None:
            limits.check_engine(engine, config)
        self.engine = engine or limits.engine_for(config)  # fuel and epoch checks only when asked for
        self.config = config
        if not isinstance(module, wasmtime.Module):
            if not isinstance(module, (bytes, bytearray)):
                with open(os.fspath(module), "rb") as f:
                    module = f.read()
            module = compile_with(self.engine, module, config.cache)
        check_imports(module)
        if command:
            check_command(module)
        self.module = module
        self.host = host or PosixHost()
        self.store = wasmtime.Store(self.engine)
        limits.apply(self.store, config)
        self.trap_message: str | None = None
        self.limit_message: str | None = None  # the limit that stopped the guest, if one did
        self._timer = None
        self._stopped: int | None = None  # the status, when the start function already ended the guest
        fds = descriptor_table(config, self.host)
        self.audit = None
        if config.audit:  # the table is the embedder's grant; from here on every effect is traced
            from .audit import Audit, TracingHost  # the effects model loads only for audit mode: start-up
            self.audit = Audit(keep=config.audit_keep_trace, recorder=config.audit_recorder)
            self.host = TracingHost(self.host, self.audit)
        self.cx = Context(self.host, fds, [a.encode() for a in config.argv],
                          [f"{k}={v}".encode() for k, v in config.env], tuple(config.netlist))
        if self.audit is not None:
            self.audit.grant(fds, self.cx.netlist)
            self.cx.trace = self.audit.trace
        self.linker = wasmtime.Linker(self.engine)
        self._registration = abi.link(self.linker, self.cx, self.audit)
        if config.timeout is not None:  # from here on: the start function counts too
            self.cx.deadline = self.host.clock_time(Clockid.MONOTONIC) + int(config.timeout * 1e9)
            self._timer = limits.Timer(self.engine, config.timeout)
        try:
            self.instance = self.linker.instantiate(self.store, module)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
            # The start function ran and trapped, exited or was stopped (a host call's trap comes
            # back as an error with a wasm backtrace); anything else refused the instance.
            if isinstance(e, wasmtime.Trap) or "wasm backtrace" in str(e):
                self.instance = None
                self._stopped = self._outcome(e, "instantiation (segments or start function): ")
                return
            self.close()
            raise ModuleError(limits.refusal(cause(e), config)) from None
        memory = self.instance.exports(self.store).get("memory")
        if isinstance(memory, wasmtime.Memory) and self.audit is None:
            self.cx.mem = GuestMemory(self.store, memory)
        elif isinstance(memory, wasmtime.Memory):
            from .audit import TracingGuestMemory
            self.cx.mem = TracingGuestMemory(self.store, memory, self.audit)

    @property
    def trace(self) -> list | None:
        """The effects recorded so far in audit mode (None otherwise)."""
        return self.cx.trace

    @property
    def exit_code(self) -> int | None:
        return self.cx.exit_code

    def call(self, name: str, *args):
        """Call an export; a trap or proc_exit propagates as wasmtime's exception."""
        func = None if self.instance is None else self.instance.exports(self.store).get(name)
        if not isinstance(func, wasmtime.Func):
            raise ValueError(f"the module exports no function {name!r}")
        return func(self.store, *args)

    def run(self, entry: str = "_start") -> int:
        """Run the command: its exit status (0 when `_start` returns; 134 on a trap or a limit:
        `trap_message` / `limit_message` say which, `stop_line` is the line to print)."""
        try:
            if self._stopped is not None:
                return self._stopped
            check_command(self.module, entry)
            self.call(entry)
            return 0
        except (wasmtime.Trap, wasmtime.WasmtimeError) as trap:
            return self._outcome(trap)
        finally:
            self.close()

    def _outcome(self, trap: Exception, where: str = "") -> int:
        """The status of a guest stopped by `trap`: its proc_exit code, else a trap (message kept)."""
        if self.cx.exit_code is not None:
            return self.cx.exit_code
        code = trap.trap_code if isinstance(trap, wasmtime.Trap) else None
        if code == wasmtime.TrapCode.OUT_OF_FUEL:
            self.limit_message = limits.fuel_message(self.config)
        elif self.cx.deadline is not None and (  # the epoch passed, or a host call waited until the deadline
                code == wasmtime.TrapCode.INTERRUPT or self.host.clock_time(Clockid.MONOTONIC) >= self.cx.deadline):
            self.limit_message = limits.timeout_message(self.config)
        else:
            self.trap_message = where + trap_reason(str(trap))
        return TRAP_STATUS

    @property
    def stop_line(self) -> str | None:
        """The one line for stderr when the guest was stopped by a trap or a limit (else None)."""
        if self.limit_message is not None:
            return f"vwasm: limit: {self.limit_message}"
        if self.trap_message is not None:
            return f"vwasm: trap: {self.trap_message}"
        return None

    def close(self) -> None:
        """Release every host handle the guest still holds (and stop the limit timer)."""
        if self._timer is not None:
            self._timer.cancel()
        for fd, desc in self.cx.fds.items():
            self.cx.fds.remove(fd)
            try:
                self.host.close(desc.handle)
            except Exception:
                pass


def trap_reason(text: str) -> str:
    """The one line that says why a trap happened (wasmtime puts it after the backtrace)."""
    _, _, cause = text.rpartition("Caused by:")
    lines = [line.strip() for line in cause.splitlines() if line.strip()]
    return lines[0] if lines else "trap"


def run(module, config: Config) -> int:
    """Run a WASI command in a sandbox granting exactly `config`; returns its exit status."""
    box = Sandbox(module, config, command=True)
    status = box.run()
    if box.stop_line is not None:
        print(box.stop_line, file=sys.stderr)
    return status
