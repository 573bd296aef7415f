"""`vwasm run --trace FILE` / `--strace`, and `vwasm audit FILE`: every host call written out, and re-checked.

A trace is JSON Lines. The first line is the header, the policy the guest ran under:
  {"vwasm_trace": 1, "version": ..., "module": ..., "policy": {"preopens": [{"fd", "guest", "read_only"}],
   "netlist": ["tcp:127.0.0.1/32:8080-8080", ...], "listeners": [{"fd", "address", "port"}],
   "limits": {"fuel", "timeout", "max_memory", "max_fds"}}}
then one line per host call, written when it ends:
  {"call": "path_open", "args": {"fd": 3, ..., "path": "a/b"}, "errno": "SUCCESS", "results": {"fd_out": 4},
   "mem_size": N, "effects": [...], "opened": [4], "closed": [...]}
("errno" is "exit": N for proc_exit, "trap": "..." for a call that stopped the guest; "results" are
what a successful call wrote through its integer out-pointers: counts, new descriptors, offsets.)
`args` are the call's parameters by name (as the handlers name them), a path argument also decoded
(`path_ptr` -> `path`). `opened` / `closed` are the guest descriptors the call added to or removed from
the table. Each effect is a `vwasm.model.effects` Effect recorded by audit mode (vwasm.audit), in
guest terms instead of host handles:
  {"effect": "mem_read" | "mem_write", "addr", "len"}
  {"effect": "path", "preopen": P, "path": REL, "op"}   REL: where the step lands, relative to the
        preopen granted at descriptor P (the directory handles of a walk are followed back to it)
  {"effect": "fd", "fd": N, "op"}                       a descriptor of the guest's table, or, for a
        handle not in it (a walk's directory, a file not yet placed), "fd": null with its "preopen"
        and "path", or "new": the call's own new socket
  {"effect": "socket", "family", "type", "proto"} / {"effect": "connect", "proto", "family", "addr",
   "port"} / {"effect": "shutdown", "fd", "how"}

`audit_trace` re-judges every effect with `model.effects.effect_safe` (so `trace_safe` over the
trace) against the header's policy: paths beneath a preopen (`PathAccess(P, REL)` with the preopens
as `dir_fds`), descriptors among those granted at start plus those the calls opened (only calls that
create descriptors may), memory inside `mem_size` (itself at most the --max-memory recorded),
sockets and endpoints in the netlist; and, beyond the model's predicate, that nothing beneath a
read-only preopen was asked to change (`MUTATING` host operations).
"""
from __future__ import annotations

import inspect
import ipaddress
import json
import sys
from dataclasses import dataclass

from vwasm.model import net
from vwasm.model.effects import (
    FdAccess, MemRead, MemWrite, NetAccess, PathAccess, Policy, Shutdown, SockCreate, effect_safe,
)
from vwasm.model.pointers import IN, POINTERS
from vwasm.model.wasi import SIGNATURES, U8, U16, U32, U64, AddressFamily, Errno

from . import __version__, syscalls
from .audit import ident
from .errors import ProcExit

FORMAT = 1

# Parameter names, as the handlers name them (one place: their signatures).
PARAMS = {name: tuple(inspect.signature(syscalls.HANDLERS[name]).parameters)[1:] for name in SIGNATURES}
assert all(len(PARAMS[n]) == len(SIGNATURES[n][0]) for n in SIGNATURES)

# Path arguments decoded as text: the (pointer, length) strings of the path_* calls (sock_connect's
# address is bytes of the same shape, not text).
STRINGS = {name: tuple((p.arg, p.length) for p in POINTERS[name] if p.layout is U8 and p.access == IN)
           for name in SIGNATURES if name.startswith("path_")}

# What a call reports through its integer out-pointers (counts, new descriptors, offsets, times),
# read back once it succeeded.
RESULTS = {name: tuple(p for p in POINTERS[name] if p.access != IN and p.layout in (U16, U32, U64)
                       and p.length is None and p.sized_by is None) for name in SIGNATURES}

# Host operations that change what lies beneath their directory (vwasm.audit.TracingHost's names).
MUTATING = frozenset({"mkdirat", "unlinkat", "renameat", "linkat", "symlinkat", "utimensat"})

# Calls that may add descriptors to the guest's table.
CREATING = frozenset({"path_open", "sock_accept", "socket", "fd_renumber"})


def rule_text(rule: net.Rule) -> str:
    """A netlist rule in `net.parse_rule`'s syntax."""
    address = ipaddress.ip_address(rule.prefix) if rule.family == AddressFamily.INET else \
        ipaddress.IPv6Address(rule.prefix)
    where = f"{address}/{rule.prefix_len}"
    if rule.family == AddressFamily.INET6:
        where = f"[{where}]"
    return f"{'tcp' if rule.proto == net.Protocol.TCP else 'udp'}:{where}:{rule.port_lo}-{rule.port_hi}"


def _address(family: int, addr: int) -> str:
    return str(ipaddress.IPv6Address(addr) if family == AddressFamily.INET6 else ipaddress.IPv4Address(addr & 0xFFFF_FFFF))


def _errno(value) -> str:
    try:
        return Errno(value).name
    except ValueError:
        return str(value)


class Recorder:
    """Audit mode's hooks (vwasm.audit.Audit calls them) turned into trace lines: JSON to `out`,
    one strace-like line to `strace`, either may be None. `config`: the sandbox's, for the header."""

    def __init__(self, config, out=None, strace=None, module: str = "") -> None:
        self.config, self.out, self.strace, self.module = config, out, strace, module
        self.audit = None
        self.where: dict[int, tuple[int, str]] = {}  # handle identity -> (preopen fd, path beneath it)
        self.fd_of: dict[int, int] = {}  # handle identity -> guest fd, as the call began
        self.before: dict[int, int] = {}  # guest fd -> handle identity, as the call began
        self.new: set[int] = set()  # sockets created or accepted by the current call
        self.call, self.args, self.effects = None, (), []
        self.preopen_names: dict[int, str] = {}
        self.calls = 0
        self.error: Exception | None = None  # why the trace stopped being written, if it did

    # --- Audit's hooks ----------------------------------------------------------------------------
    def start(self, audit) -> None:
        """The table is granted: name the preopens, write the header."""
        self.audit = audit
        cfg = self.config
        ro = {p.guest: p.read_only for p in cfg.preopens}
        preopens, listeners = [], []
        for fd, desc in audit.table.items():
            if desc.preopen is not None:
                self.where[ident(desc.handle)] = (fd, "")
                self.preopen_names[fd] = desc.preopen
                preopens.append({"fd": fd, "guest": desc.preopen, "read_only": ro.get(desc.preopen, False)})
        first = 3 + len(preopens)
        for fd, (address, port) in enumerate(cfg.listeners, start=first):
            listeners.append({"fd": fd, "address": address, "port": port})
        header = {"vwasm_trace": FORMAT, "version": __version__, "module": self.module, "policy": {
            "preopens": preopens, "netlist": [rule_text(r) for r in cfg.netlist], "listeners": listeners,
            "limits": {"fuel": cfg.fuel, "timeout": cfg.timeout, "max_memory": cfg.max_memory,
                       "max_fds": cfg.max_fds}}}
        self._write(header)

    def begin(self, call: str, args: tuple) -> None:
        self.call, self.args, self.effects = call, args, []
        self.new.clear()
        self.before = {fd: ident(d.handle) for fd, d in self.audit.table.items()}
        self.fd_of = {key: fd for fd, key in self.before.items()}

    def opened(self, base_key: int, handle, name: str) -> None:
        at = self.where.get(base_key)
        if at is not None:
            preopen, path = at
            step = "" if name == "." else name
            self.where[ident(handle)] = (preopen, f"{path}/{step}" if path and step else path or step)

    def created(self, key: int) -> None:
        self.new.add(key)

    def closed(self, key: int) -> None:
        self.where.pop(key, None)
        self.fd_of.pop(key, None)
        self.new.discard(key)

    def effect(self, e, op) -> None:
        self.effects.append(self._guest(e, op))

    def end(self, errno, exc) -> None:
        """Write the call out. Never raises (it runs inside wasmtime's callback): the first failure
        is kept in `error` and the trace stops there (the CLI reports it)."""
        if self.error is None:
            try:
                self._end(errno, exc)
            except Exception as e:
                self.error = e

    def _end(self, errno, exc) -> None:
        self.calls += 1
        table = {fd: ident(d.handle) for fd, d in self.audit.table.items()}
        line = {"call": self.call, "args": self._args()}
        if isinstance(exc, ProcExit):
            line["exit"] = exc.code
        elif exc is not None:
            line["trap"] = str(exc)
        elif errno is not None:
            line["errno"] = _errno(errno)
            if errno == 0 and RESULTS[self.call]:
                line["results"] = self._results()
        line["mem_size"] = self.audit.policy.mem_size
        line["effects"] = self.effects
        opened = sorted(fd for fd, key in table.items() if self.before.get(fd) != key)
        closed = sorted(fd for fd, key in self.before.items() if table.get(fd) != key)
        if opened:
            line["opened"] = opened
        if closed:
            line["closed"] = closed
        self._write(line)
        if self.strace is not None:
            print(strace_line(line, self.preopen_names), file=self.strace, flush=True)

    # --- translation ------------------------------------------------------------------------------
    def _args(self) -> dict:
        args = dict(zip(PARAMS[self.call], self.args))
        mem = self.audit.mem
        for ptr, length in STRINGS.get(self.call, ()):
            p, n = self.args[ptr], self.args[length]
            if mem is not None and n <= 4096 and p + n <= len(mem.view):  # the tracer's own read
                name = PARAMS[self.call][ptr]
                args[name[:-4] if name.endswith("_ptr") else name + "_text"] = \
                    bytes(mem.view[p:p + n]).decode("utf-8", "backslashreplace")
        return args

    def _results(self) -> dict:
        out, mem = {}, self.audit.mem
        for p in RESULTS[self.call]:
            at, name = self.args[p.arg], PARAMS[self.call][p.arg]
            if mem is not None and at + p.layout.size <= len(mem.view):  # the tracer's own read
                out[name[:-4] if name.endswith("_ptr") else name] = p.layout.codec.unpack_from(mem.view, at)[0]
        return out

    def _handle(self, key: int) -> dict:
        fd = self.fd_of.get(key)
        if fd is not None:
            return {"fd": fd}
        if key in self.new:
            return {"fd": None, "new": self.call}
        at = self.where.get(key)
        return {"fd": None} if at is None else {"fd": None, "preopen": at[0], "path": at[1]}

    def _guest(self, e, op) -> dict:
        if isinstance(e, (MemRead, MemWrite)):
            return {"effect": "mem_read" if isinstance(e, MemRead) else "mem_write", "addr": e.addr, "len": e.length}
        if isinstance(e, PathAccess):
            at = self.where.get(e.base)
            if at is None:  # not derived from a preopen: kept as the host saw it, so audit refuses it
                return {"effect": "path", "preopen": None, "path": e.relpath, "op": op}
            preopen, path = at
            return {"effect": "path", "preopen": preopen,
                    "path": f"{path}/{e.relpath}" if path and e.relpath else path or e.relpath, "op": op}
        if isinstance(e, FdAccess):
            return {"effect": "fd", **self._handle(e.fd), "op": op}
        if isinstance(e, SockCreate):
            return {"effect": "socket", "family": int(e.family), "type": int(e.type), "proto": _int(e.proto)}
        if isinstance(e, NetAccess):
            return {"effect": "connect", "proto": _int(e.proto), "family": int(e.family),
                    "addr": _address(e.family, e.addr), "port": e.port}
        if isinstance(e, Shutdown):
            return {"effect": "shutdown", **self._handle(e.fd), "how": e.how}
        return {"effect": type(e).__name__}

    def _write(self, obj) -> None:
        if self.out is not None:
            self.out.write(json.dumps(obj, separators=(",", ":")) + "\n")


def _int(value):
    return None if value is None else int(value)


def strace_line(line: dict, preopens: dict[int, str]) -> str:
    """One call as strace prints it: `fd_write(fd=1, iovs=1024, ...) = SUCCESS` and what it touched."""
    args = ", ".join(f"{k}={json.dumps(v) if isinstance(v, str) else v}" for k, v in line["args"].items())
    outcome = (f"trap: {line['trap']}" if "trap" in line else f"exit {line['exit']}" if "exit" in line
               else line.get("errno", "-"))
    touched = []
    for e in line["effects"]:
        if e["effect"] == "path":
            root = preopens.get(e["preopen"], "?").rstrip("/")
            touched.append(f"{e['op']} {root}/{e['path']}" if e["path"] else f"{e['op']} {root}")
        elif e["effect"] == "fd" and e.get("fd") is not None and e["op"] not in ("readv", "writev"):
            touched.append(f"{e['op']} fd {e['fd']}")
        elif e["effect"] == "connect":
            touched.append(f"connect {e['addr']}:{e['port']}")
        elif e["effect"] in ("socket", "shutdown"):
            touched.append(e["effect"])
    results = ", ".join(f"{k}={v}" for k, v in line.get("results", {}).items())
    extra = (f" {{{results}}}" if results else "") + (f" [{', '.join(touched)}]" if touched else "")
    return f"[vwasm] {line['call']}({args}) = {outcome}{extra}"


# --- vwasm audit ------------------------------------------------------------------------------------
class TraceError(ValueError):
    """The trace cannot be read: not JSON Lines, no header, a field missing or of the wrong kind."""


@dataclass
class Verdict:
    calls: int  # call lines read
    effects: int  # effects judged
    unsafe: str | None = None  # the first unsafe effect, named; None: the trace is safe


def audit_trace(lines) -> Verdict:
    """Judge a trace (an iterable of its text lines) against the policy in its header."""
    it = iter(enumerate(lines, start=1))
    try:
        number, text = next(it)
    except StopIteration:
        raise TraceError("empty: no header line") from None
    header = _json(number, text)
    if not isinstance(header, dict) or header.get("vwasm_trace") != FORMAT:
        raise TraceError(f"line {number}: not a vwasm trace header (format {FORMAT})")
    try:
        policy = header["policy"]
        preopens = {int(p["fd"]): bool(p["read_only"]) for p in policy["preopens"]}
        netlist = tuple(net.parse_rule(r) for r in policy["netlist"])
        owned = {0, 1, 2} | set(preopens) | {int(l["fd"]) for l in policy["listeners"]}
        max_memory = policy["limits"]["max_memory"]
    except (KeyError, TypeError, ValueError) as e:
        raise TraceError(f"line {number}: bad policy in the header: {e!r}") from None
    verdict = Verdict(0, 0)
    dirs = frozenset(preopens)
    for number, text in it:
        if not text.strip():
            continue
        line = _json(number, text)
        try:
            call, effects = line["call"], line["effects"]
            mem_size = line["mem_size"]
            opened, closed = set(line.get("opened", ())), set(line.get("closed", ()))
            verdict.calls += 1
            where = f"line {number} ({call})"
            if opened and call not in CREATING:
                verdict.unsafe = f"{where}: descriptors {sorted(opened)} appear, but {call} creates none"
                return verdict
            if mem_size is not None and max_memory is not None and mem_size > max_memory:
                verdict.unsafe = f"{where}: memory of {mem_size} bytes, past --max-memory {max_memory}"
                return verdict
            p = Policy(netlist, mem_size, frozenset(owned | opened), dirs)
            for i, e in enumerate(effects, start=1):
                verdict.effects += 1
                if not _safe(e, p, preopens, call):
                    verdict.unsafe = f"{where}: effect {i}: unsafe {json.dumps(e, separators=(',', ':'))}"
                    return verdict
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise TraceError(f"line {number}: not a trace record: {e!r}") from None
        owned = (owned - closed) | opened
    return verdict


def _json(number: int, text: str):
    try:
        return json.loads(text)
    except ValueError as e:
        raise TraceError(f"line {number}: not JSON ({e})") from None


def _safe(e: dict, p: Policy, preopens: dict[int, bool], call: str) -> bool:
    """One effect of the trace, as the model judges it (plus the read-only preopens)."""
    kind = e["effect"]
    if kind in ("mem_read", "mem_write"):
        return effect_safe((MemRead if kind == "mem_read" else MemWrite)(int(e["addr"]), int(e["len"])), p)
    if kind == "path" or kind in ("fd", "shutdown") and e.get("fd") is None and "preopen" in e:
        base, path = e["preopen"], e["path"]
        if base is None or not isinstance(path, str):
            return False
        if kind == "path" and e.get("op") in MUTATING and preopens.get(base, False):
            return False  # something beneath a read-only preopen asked to change
        return effect_safe(PathAccess(int(base), path, False), p)
    if kind in ("fd", "shutdown"):
        if e.get("fd") is None:  # the call's own new socket
            return e.get("new") == call and call in ("socket", "sock_accept")
        effect = FdAccess(int(e["fd"])) if kind == "fd" else Shutdown(int(e["fd"]), int(e["how"]))
        return effect_safe(effect, p)
    if kind == "socket":
        return effect_safe(SockCreate(int(e["family"]), int(e["type"]), _int(e["proto"])), p)
    if kind == "connect":
        addr = int(ipaddress.ip_address(e["addr"]))
        return e["proto"] is not None and effect_safe(NetAccess(int(e["proto"]), int(e["family"]), addr, int(e["port"])), p)
    raise ValueError(f"unknown effect {kind!r}")


def audit_main(path: str, out=sys.stdout) -> int:
    """`vwasm audit FILE`: 0 safe, 1 unsafe (the first unsafe effect named), 2 unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            verdict = audit_trace(f)
    except OSError as e:
        print(f"vwasm: error: cannot read trace {path}: {e.strerror}", file=sys.stderr)
        return 2
    except (TraceError, UnicodeDecodeError) as e:
        print(f"vwasm: error: unreadable trace {path}: {e}", file=sys.stderr)
        return 2
    if verdict.unsafe is not None:
        print(f"vwasm: audit: UNSAFE: {verdict.unsafe}", file=out)
        return 1
    print(f"vwasm: audit: safe: {verdict.calls} calls, {verdict.effects} effects", file=out)
    return 0
