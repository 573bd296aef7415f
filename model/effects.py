"""Effects and the safety policy -- WaVe's trace safety, made explicit.

Every action on the world is an `Effect`. The model's transitions append the effects a call has;
the runtime records the same ones at the layer that touches the world. A trace is safe when:
- every memory access lies inside guest memory;
- every path access is a canonical relative path beneath a directory descriptor the guest owns
  (no leading slash, no `.`/`..`/empty component: it never leaves the directory, not even briefly);
- every network endpoint is in the netlist, and sockets are only of kinds the netlist mentions;
- every descriptor used is one the guest owns.
`ctx_safe(state)` is the other half: the sandbox's context (descriptor table, filesystem) is sound.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from . import net
from .fdtable import FdTable
from .fs import FileSystem
from .paths import beneath


@dataclass(frozen=True)
class MemRead:
    addr: int
    length: int


@dataclass(frozen=True)
class MemWrite:
    addr: int
    length: int


@dataclass(frozen=True)
class PathAccess:
    base: int  # the directory descriptor the path is resolved from
    relpath: str  # the canonical path reached, relative to that directory
    follow: bool  # whether a final symlink was followed


@dataclass(frozen=True)
class FdAccess:
    fd: int


@dataclass(frozen=True)
class NetAccess:
    proto: int
    family: int
    addr: int
    port: int


@dataclass(frozen=True)
class SockCreate:
    family: int
    type: int
    proto: int


@dataclass(frozen=True)
class Shutdown:
    fd: int
    how: int


Effect = Union[MemRead, MemWrite, PathAccess, FdAccess, NetAccess, SockCreate, Shutdown]


@dataclass(frozen=True)
class Policy:
    netlist: net.Netlist = ()
    mem_size: Optional[int] = None  # guest memory size; None: memory effects not judged here
    fds: Optional[frozenset[int]] = None  # descriptors owned; None: not judged here
    dir_fds: Optional[frozenset[int]] = None  # of those, directories


def mem_safe(addr: int, length: int, size: int) -> bool:
    """The access [addr, addr+length) lies inside memory of `size` bytes (no wrap-around)."""
    return 0 <= addr and 0 <= length and addr + length <= size


def effect_safe(e: Effect, p: Policy) -> bool:
    """One effect under the policy."""
    if isinstance(e, (MemRead, MemWrite)):
        return p.mem_size is None or mem_safe(e.addr, e.length, p.mem_size)
    if isinstance(e, PathAccess):
        owned = p.dir_fds is None or e.base in p.dir_fds
        return owned and beneath(e.relpath)
    if isinstance(e, (FdAccess, Shutdown)):
        return p.fds is None or e.fd in p.fds
    if isinstance(e, NetAccess):
        return net.allowed(p.netlist, e.proto, e.family, e.addr, e.port)
    if isinstance(e, SockCreate):
        return net.family_allowed(p.netlist, e.family, e.proto)
    return False


def trace_safe(trace: tuple, policy: Policy) -> bool:
    """Every effect of the trace is allowed by the policy."""
    return all(effect_safe(e, policy) for e in trace)


def ctx_safe(state) -> bool:
    """The sandbox context is sound: a well-formed filesystem and descriptor table, every file or
    directory descriptor on an existing node of its kind that lies beneath a preopened directory
    (or is no longer linked anywhere), every socket descriptor on a well-formed socket."""
    fs: FileSystem = state.fs
    fds: FdTable = state.fds
    if not (fs.wf() and fds.wf()):
        return False
    inside: frozenset[int] = frozenset()
    for p in state.preopens:
        if not fs.is_dir(p.node):
            return False
        inside |= fs.reachable(p.node)
    linked = fs.reachable(1)
    sockets = dict(state.sockets)
    for _, d in fds.entries:
        if d.node is not None:
            if not fs.has(d.node) or fs.node(d.node).filetype != d.filetype:
                return False
            if d.node in linked and d.node not in inside:
                return False
        if d.socket is not None:
            s = sockets.get(d.socket)
            if s is None or not s.wf():
                return False
    return all(r.wf() for r in state.netlist)
