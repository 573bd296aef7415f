"""The public API: `Config` (spelled like `wasmtime.WasiConfig`), `Sandbox` and `run`.

Deny by default: a Config grants no directory, no environment, no network, and standard streams
that read end-of-file and discard output, until the embedder says otherwise.
"""
from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from typing import Callable, NamedTuple

import wasmtime

from vwasm.model import net
from vwasm.model.rights import preopen_rights
from vwasm.model.wasi import (
    FD_LIMIT, SOCKET_RIGHTS, STDIN_RIGHTS, STDOUT_RIGHTS, Filetype, SocketType,
)

from . import embed, limits
from .fdtable import DIR, STDERR, STDIN, STDOUT, Descriptor, FdTable
from .limits import DEFAULT_MAX_MEMORY
from .cache import compile_with
from .loader import ModuleError, cause, check_command, check_imports
from .streams import BytesInput, CallbackOutput
from .syscalls.sock import socket_descriptor

TRAP_STATUS = 134  # what a shell reports for SIGABRT; wasmtime's CLI exits so on a trap too


class Preopen(NamedTuple):
    host: str
    guest: str
    read_only: bool = False


class _Setting:
    """A setting wasmtime-py spells as an assignment (`cfg.stdout_file = path`) and vwasm as a call
    (`cfg.stdout_file(path)`): both work."""

    def __init__(self, setter: Callable) -> None:
        self.setter = setter
        self.__doc__ = setter.__doc__

    def __get__(self, config, owner=None):
        return self if config is None else functools.partial(self.setter, config)

    def __set__(self, config, value) -> None:
        self.setter(config, value)


class Config:
    """What the guest is granted; nothing until granted here. Every spelling of
    `wasmtime.WasiConfig` works (`cfg.argv = [...]`, `cfg.env = [(k, v)]`, `cfg.stdout_file = path`,
    `cfg.stdout_custom = fn`, `preopen_dir(path, guest_path, fs_mutable)`, the `inherit_*` methods),
    and so do vwasm's own calls (`cfg.stdout_file(path)`, `preopen_dir(..., read_only=True)`).
    Beyond WasiConfig: `allow_net`, `tcp_listen`, `stdin_bytes`, `enable_audit`, and the limits
    `fuel`, `timeout`, `max_memory`, `max_fds`. Setting any other attribute is an AttributeError."""

    __slots__ = {  # every setting, documented (help(vwasm.Config)); any other name is an AttributeError
        "_argv": None, "_env": None, "_stdio": None,
        "preopens": "The granted directories (`preopen_dir`), in the guest's order from fd 3.",
        "audit": "Audit mode (`enable_audit`): trace every effect, trap on an unsafe one (vwasm.audit).",
        "audit_keep_trace": "In audit mode, keep the whole trace (`Sandbox.trace`); False: check and drop.",
        "audit_recorder": "Writes every host call out (vwasm.trace: --trace, --strace), or None.",
        "netlist": "Endpoints the guest may connect to (`allow_net`; deny by default).",
        "listeners": "Listening TCP sockets granted for sock_accept (`tcp_listen`), after the preopens.",
        "max_fds": "Descriptors the guest may hold at once, streams and preopens included (EMFILE past it).",
        "fuel": "wasmtime fuel units, about one per wasm instruction (None: no limit).",
        "timeout": "Wall-clock seconds from the start, blocked host calls included (None: no limit).",
        "max_memory": "Bytes of linear memory (the store's limiter): memory.grow returns -1 past it.",
        "cache": "Compiled code kept between runs (vwasm.cache): True for $XDG_CACHE_HOME/vwasm, a directory "
                 "or a vwasm.cache.CompileCache for that one; False: compile every time.",
    }

    def __init__(self) -> None:
        self._argv: list[str] = []
        self._env: list[tuple[str, str]] = []
        self.preopens: list[Preopen] = []
        self.audit = False
        self.audit_keep_trace = True
        self.audit_recorder = None
        self.netlist: list[net.Rule] = []
        self.listeners: list[tuple[str, int]] = []
        self.max_fds = FD_LIMIT
        # Limits the engine enforces (vwasm.limits); None: no limit.
        self.fuel: int | None = None
        self.timeout: float | None = None
        self.max_memory: int = DEFAULT_MAX_MEMORY
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

    @property
    def argv(self) -> list[str]:
        """The guest's arguments, its program name first (set: a list or tuple of str)."""
        return self._argv

    @argv.setter
    def argv(self, argv) -> None:
        argv = list(argv)
        if not all(isinstance(a, str) for a in argv):
            raise TypeError("Config.argv: expected a list of str")
        self._argv = argv

    @property
    def env(self) -> list[tuple[str, str]]:
        """The guest's environment: (name, value) pairs of str (set: pairs, or a mapping)."""
        return self._env

    @env.setter
    def env(self, pairs) -> None:
        pairs = [tuple(p) for p in (pairs.items() if isinstance(pairs, Mapping) else pairs)]
        if not all(len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str) for p in pairs):
            raise TypeError("Config.env: expected (name, value) pairs of str")
        self._env = pairs

    def inherit_argv(self) -> None:
        """The guest's arguments are this process's (`sys.argv`)."""
        self.argv = list(sys.argv)

    def inherit_env(self) -> None:
        """The guest's environment is this process's whole environment."""
        self.env = list(os.environ.items())

    def preopen_dir(self, path, guest_path: str, fs_mutable: bool | None = None, *,
                    read_only: bool | None = None) -> None:
        """Grant the host directory `path` as `guest_path` in the guest, and what lies beneath it.
        Read-only (nothing beneath it can be created, changed or removed) with `read_only=True`, or
        wasmtime-py's spelling `fs_mutable=False`; writable by default."""
        if read_only is not None and fs_mutable is not None and read_only == fs_mutable:
            raise ValueError("preopen_dir: read_only and fs_mutable disagree")
        writable = not read_only if read_only is not None else fs_mutable is not False
        self.preopens.append(Preopen(os.fspath(path), guest_path, not writable))

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

    @_Setting
    def stdin_file(self, path) -> None:
        """The guest reads stdin from this host file (opened when the guest is set up)."""
        self._stdio[STDIN] = ("file", os.fspath(path))

    def stdin_bytes(self, data: bytes) -> None:
        """The guest reads these bytes on stdin, then end-of-file."""
        self._stdio[STDIN] = ("bytes", bytes(data))

    def inherit_stdin(self) -> None:
        """The guest reads this process's stdin."""
        self._stdio[STDIN] = ("inherit", 0)

    @_Setting
    def stdout_file(self, path) -> None:
        """The guest's stdout goes to this host file (created, or truncated)."""
        self._stdio[STDOUT] = ("file", os.fspath(path))

    @_Setting
    def stdout_custom(self, callback: Callable[[bytes], object]) -> None:
        """`callback(data: bytes)` receives everything the guest writes to stdout."""
        self._stdio[STDOUT] = ("custom", _callable(callback))

    def inherit_stdout(self) -> None:
        """The guest writes to this process's stdout."""
        self._stdio[STDOUT] = ("inherit", 1)

    @_Setting
    def stderr_file(self, path) -> None:
        """The guest's stderr goes to this host file (created, or truncated)."""
        self._stdio[STDERR] = ("file", os.fspath(path))

    @_Setting
    def stderr_custom(self, callback: Callable[[bytes], object]) -> None:
        """`callback(data: bytes)` receives everything the guest writes to stderr."""
        self._stdio[STDERR] = ("custom", _callable(callback))

    def inherit_stderr(self) -> None:
        """The guest writes to this process's stderr."""
        self._stdio[STDERR] = ("inherit", 2)


def _callable(callback):
    if not callable(callback):
        raise TypeError(f"expected a callable taking bytes, not {type(callback).__name__}")
    return callback


def _stdio_handle(host, kind: str, how: str, what: object):
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
        imports = check_imports(module)
        if command:
            check_command(module)
        self.module = module
        self.store = wasmtime.Store(self.engine)
        self.linker = wasmtime.Linker(self.engine)
        self.trap_message: str | None = None
        self.limit_message: str | None = None  # the limit that stopped the guest, if one did
        self._stopped: int | None = None  # the status, when the start function already ended the guest
        # The path an embedder takes (vwasm.define_wasi); the timeout counts from here, start function included.
        self.wasi = embed.define_wasi(self.linker, self.store, config, host=host, only=imports)
        self.cx, self.host, self.audit = self.wasi.cx, self.wasi.host, self.wasi.audit
        try:
            self.instance = self.linker.instantiate(self.store, module)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
            # The start function ran and trapped, exited or was stopped (a host call's trap comes
            # back as an error with a wasm backtrace); anything else refused the instance.
            if isinstance(e, (wasmtime.Trap, wasmtime.ExitTrap)) or "wasm backtrace" in str(e):
                self.instance = None
                self._stopped = self._outcome(e, "instantiation (segments or start function): ")
                return
            self.close()
            raise ModuleError(limits.refusal(cause(e), config)) from None

    @property
    def trace(self) -> list | None:
        """The effects recorded so far in audit mode (None otherwise)."""
        return self.cx.trace

    @property
    def exit_code(self) -> int | None:
        """The status the guest passed to `proc_exit` (None if it has not)."""
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
                code == wasmtime.TrapCode.INTERRUPT or self.wasi.deadline_passed()):
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
        self.wasi.close()


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
