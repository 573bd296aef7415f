"""Effect tracing and audit mode: every world access recorded as a `vwasm.model.effects` Effect and
judged by the model's own predicates (`effect_safe`, `trace_safe`), at the layer that touches the world.

What is recorded, and where:
- `TracingHost` wraps any Host (PosixHost, ModelHost). Each *at() call records
  `PathAccess(base, relpath, follow=False)`, one per (directory handle, name) it is given (two for
  renameat/linkat); each operation on an open handle (read, write, seek, fstat, close, listdir, ...)
  records `FdAccess(handle)`. Start-up calls (open_preopen, open_stdio, inherited) are the embedder's
  grants, not the guest's, and clocks, sleep and randomness touch no capability: none records anything.
- `TracingGuestMemory` records `MemRead(addr, length)` / `MemWrite(addr, length)` for every access a
  handler makes through it (records, integers, byte ranges, iovec arrays and the buffers they name).
Each effect is recorded *before* the access it describes (for memory: after the ordinary bounds
check, so an access refused by it is no effect; one a broken check lets through is in the trace).

The mapping from the model's numbers to the host layer's (the model speaks of guest-visible
descriptor numbers and canonical relative paths; the host layer of host handles and single names):
- `PathAccess.base`, `FdAccess.fd`: the *host handle's identity*, `ident(handle)`: the OS fd number
  for PosixHost (a non-negative int), and `-id(obj)` for an in-process handle (a stream, a ModelHost
  node: always negative, so never confused with an fd). A handle is kept referenced while it counts
  as owned, so its identity cannot be reused meanwhile; a closed handle's identity leaves the owned
  sets at once, so a later reuse of the fd number is not mistaken for it.
- `PathAccess.relpath`: the one name handed to the host; `.` (the directory itself) is the model's
  empty relpath. The model's `beneath` then refuses `..`, `.` inside a path, empty components, a
  leading `/` and NUL; the host layer adds that a name is one component (no `/`: the kernel would walk
  it, following symlinks on the way). `follow` is always False: PosixHost opens with O_NOFOLLOW.
- `Policy.dir_fds` is the *derived* set: the preopened directory handles, plus every handle returned by
  `openat(base, name, ...)` whose base is itself derived. `Policy.fds` is that set plus the handles of
  the guest's descriptor table (the standard streams, and anything placed there later).
  `Policy.mem_size` is the guest memory's current size.

So the property a safe trace certifies is: every filesystem access happens through a handle derived
from a preopen by single-component, non-`..`, no-follow steps (or is an operation on a handle the guest
owns), and every guest memory access lies in bounds -- DESIGN §1.1-1.3, checked at run time
rather than proved.

Two checks, both with the model's predicates. With `strict` (audit mode) each effect is judged with
`effect_safe` against the live policy as it is recorded, so an unsafe access is refused *before* it
reaches the OS (`AuditViolation`, a `Trap`). After every host call, `Audit.end` asserts `trace_safe`
over the call's new effects, against the policy at the end of the call extended by the handles the
call released (a walk opens, uses and closes its directory handles within one call). The glue in
`vwasm.abi` turns either failure into the trap `audit: unsafe effect <effect> in <call>` (exit 134).

Sockets: `socket` records SockCreate (judged against the netlist), `connect` NetAccess (the endpoint,
address as an integer, protocol from the socket's type), `shutdown` Shutdown; sockets created or
accepted join the owned set (as `granted`), never the derived one. Methods a Host gains later pass
through `TracingHost` unrecorded until they get a wrapper here.

A `recorder` (vwasm.trace.Recorder: `--trace`, `--strace`) is told of every call, effect, open and
close, and writes each call out in guest terms; without one, nothing here costs more than a test.
"""
from __future__ import annotations

from vwasm.model.effects import (
    FdAccess, MemRead, MemWrite, NetAccess, PathAccess, Policy, Shutdown, SockCreate, effect_safe,
    trace_safe,
)
from vwasm.model.net import PROTO_OF_TYPE
from vwasm.model.wasi import IOVEC, Layout

from .errors import AuditViolation  # noqa: F401  (re-exported; defined there for the glue)
from .memory import _U32, _U64, GuestMemory

# Imports that fill the buffers their iovecs name (the others read from them).
FILLING = frozenset({"fd_read", "fd_pread", "sock_recv"})


def ident(handle) -> int:
    """A host handle's identity in effects: an OS fd is itself, an in-process object `-id(obj)`."""
    return handle if type(handle) is int else -id(handle)


def single_step(e) -> bool:
    """What the host layer adds to the model's `beneath`: a path step names one component."""
    return not isinstance(e, PathAccess) or "/" not in e.relpath


class _Owned:
    """The live `Policy.fds`: derived handles, plus those of the descriptor table."""

    __slots__ = ("audit",)

    def __init__(self, audit: Audit) -> None:
        self.audit = audit

    def __contains__(self, key) -> bool:
        a = self.audit
        return key in a.derived or key in a.granted or key in a.table_idents()


class _Derived:
    """The live `Policy.dir_fds`: the derived set."""

    __slots__ = ("audit",)

    def __init__(self, audit: Audit) -> None:
        self.audit = audit

    def __contains__(self, key) -> bool:
        return key in self.audit.derived


class Audit:
    """The trace, the capability derivation it is judged against, and the checks.

    `derived` and `granted` map identities to handles (keeping object handles alive, so identities
    are not reused while they count): `derived` the preopens and what was opened from them,
    `granted` the other descriptors the embedder placed in the table at start-up (the streams).
    With `keep=False` the trace is emptied at the start of every call (it is checked call by call;
    `count` still says how many effects were checked)."""

    def __init__(self, *, strict: bool = True, keep: bool = True, netlist=(), recorder=None) -> None:
        self.trace: list = []
        self.recorder = recorder  # a vwasm.trace.Recorder writing each call out (--trace, --strace), or None
        self.mem = None  # the TracingGuestMemory, once bound (the recorder decodes path arguments from it)
        self.derived: dict[int, object] = {}
        self.granted: dict[int, object] = {}
        self.released: set[int] = set()  # identities closed during the current call
        self.released_dirs: set[int] = set()
        self.table = None  # the guest's FdTable, once bound
        self.protocols: dict[int, int] = {}  # socket identity -> Protocol (for NetAccess)
        self.netlist = netlist
        self.strict = strict
        self.keep = keep
        self.count = 0  # effects checked by `end`
        self.call: str | None = None  # the import being run
        self.policy = Policy(netlist, None, _Owned(self), _Derived(self))
        self.version = 0  # bumped whenever the owned or derived sets change
        self._checked: tuple = (None, None)  # ((version, mem_size), the post-call policy)

    # --- start-up -----------------------------------------------------------------------------
    def grant(self, fds, netlist=None) -> None:
        """The roots: the preopened directories of the start-up table derive; the rest is granted.
        `netlist`: the sandbox's, when it has one (sockets are judged by it)."""
        self.table = fds
        if netlist is not None:
            self.netlist = tuple(netlist)
            self.policy = Policy(self.netlist, self.policy.mem_size, self.policy.fds, self.policy.dir_fds)
        for _, desc in fds.items():
            key = ident(desc.handle)
            (self.derived if desc.preopen is not None else self.granted)[key] = desc.handle
            sock = desc.extra.get("sock")  # a listening socket the embedder granted
            if sock is not None:
                self.protocols[key] = getattr(sock, "proto", None)
        self.version += 1
        if self.recorder is not None:
            self.recorder.start(self)

    def set_mem_size(self, size: int) -> None:
        self.policy = Policy(self.netlist, size, self.policy.fds, self.policy.dir_fds)

    def table_idents(self) -> set[int]:
        return set() if self.table is None else {ident(d.handle) for _, d in self.table.items()}

    # --- recording ------------------------------------------------------------------------------
    def note(self, effect, op: str | None = None) -> None:
        """Record one effect; in strict mode refuse it at once if the live policy does not allow it."""
        self.trace.append(effect)
        if self.recorder is not None:  # before the refusal: the unsafe effect is in the written trace too
            self.recorder.effect(effect, op)
        if self.strict and not (effect_safe(effect, self.policy) and single_step(effect)):
            raise AuditViolation(effect, self.call)

    def opened(self, base_key: int, handle, name: str = ".") -> None:
        """`handle` came from openat(`base_key`, `name`): derived if the base is."""
        if self.recorder is not None:
            self.recorder.opened(base_key, handle, name)
        if base_key in self.derived:
            key = ident(handle)
            self.derived[key] = handle
            self.released.discard(key)
            self.released_dirs.discard(key)
            self.version += 1

    def owned(self, handle, proto) -> None:
        """A socket the guest created or accepted: owned (never a directory), of protocol `proto`."""
        key = ident(handle)
        if self.recorder is not None:
            self.recorder.created(key)
        self.granted[key] = handle
        self.protocols[key] = proto
        self.released.discard(key)
        self.version += 1

    def closed(self, key: int) -> None:
        if self.recorder is not None:
            self.recorder.closed(key)
        self.version += 1
        self.protocols.pop(key, None)
        if self.derived.pop(key, None) is not None:
            self.released_dirs.add(key)
            self.released.add(key)
        elif self.granted.pop(key, None) is not None:
            self.released.add(key)

    # --- per host call (vwasm.abi's audit callbacks) --------------------------------------------
    def begin(self, call: str, args: tuple = ()) -> int:
        """A host call starts (with its decoded arguments): the trace position its effects begin at."""
        self.call = call
        if self.recorder is not None:
            self.recorder.begin(call, args)
        if self.released:
            self.released.clear()
            self.released_dirs.clear()
            self.version += 1
        if not self.keep:
            self.trace.clear()
        return len(self.trace)

    def end(self, mark: int, errno: int | None = None, exc: BaseException | None = None) -> AuditViolation | None:
        """A host call ended (with `errno`, or stopped by `exc`): `trace_safe` over its effects (None
        when safe, else the violation); the recorder, if any, writes the call out."""
        bad = self._judge(mark)
        if self.recorder is not None:
            self.recorder.end(errno, bad or exc)
        return bad

    def _judge(self, mark: int) -> AuditViolation | None:
        new = tuple(self.trace[mark:])
        if not new:
            return None
        self.count += len(new)
        policy = self.checked_policy()
        if trace_safe(new, policy) and all(map(single_step, new)):
            return None
        # Policy.fds includes the descriptor table's handles (normally all derived or granted already)
        policy = Policy(policy.netlist, policy.mem_size, policy.fds | self.table_idents(), policy.dir_fds)
        bad = next((e for e in new if not (effect_safe(e, policy) and single_step(e))), None)
        return None if bad is None else AuditViolation(bad, self.call)

    def checked_policy(self) -> Policy:
        """The policy `end` judges a call's effects by, as frozensets: derived (and released in this
        call) directories; those, the granted handles and the released ones as descriptors."""
        key = (self.version, self.policy.mem_size)
        if self._checked[0] != key:
            derived = frozenset(self.derived) | self.released_dirs
            self._checked = (key, Policy(self.netlist, self.policy.mem_size,
                                         fds=derived | frozenset(self.granted) | self.released,
                                         dir_fds=derived))
        return self._checked[1]


class TracingHost:
    """A Host that records the effect of every call touching the world, then delegates."""

    def __init__(self, host, audit: Audit) -> None:
        self.inner = host
        self.audit = audit

    def __getattr__(self, name):  # anything not wrapped below (clocks, randomness; see module doc)
        return getattr(self.inner, name)

    open_beneath = stat_beneath = dir_beneath = None  # no whole-path lookups: the audit sees every component

    # --- helpers ----------------------------------------------------------------------------------
    def _fd(self, h, op: str | None = None) -> None:
        self.audit.note(FdAccess(ident(h)), op)

    def _path(self, dirh, name, op: str | None = None) -> int:
        key = ident(dirh)
        self.audit.note(PathAccess(key, "" if name == "." else name, False), op)
        return key

    # --- operations on open handles -----------------------------------------------------------------
    def readv(self, h, bufs):
        self._fd(h, "readv")
        return self.inner.readv(h, bufs)

    def writev(self, h, bufs):
        self._fd(h, "writev")
        return self.inner.writev(h, bufs)

    def preadv(self, h, bufs, offset):
        self._fd(h, "preadv")
        return self.inner.preadv(h, bufs, offset)

    def pwritev(self, h, bufs, offset):
        self._fd(h, "pwritev")
        return self.inner.pwritev(h, bufs, offset)

    def seek(self, h, offset, whence):
        self._fd(h, "seek")
        return self.inner.seek(h, offset, whence)

    def fstat(self, h):
        self._fd(h, "fstat")
        return self.inner.fstat(h)

    def is_tty(self, h):
        self._fd(h, "is_tty")
        return self.inner.is_tty(h)

    def close(self, h):
        key = ident(h)
        self.audit.note(FdAccess(key), "close")
        try:
            return self.inner.close(h)
        finally:
            self.audit.closed(key)

    def ready(self, reads, writes, timeout_ns):
        for h in (*reads, *writes):
            self._fd(h, "ready")
        return self.inner.ready(reads, writes, timeout_ns)

    def ftruncate(self, h, size):
        self._fd(h, "ftruncate")
        return self.inner.ftruncate(h, size)

    def fallocate(self, h, offset, length):
        self._fd(h, "fallocate")
        return self.inner.fallocate(h, offset, length)

    def fadvise(self, h, offset, length, advice):
        self._fd(h, "fadvise")
        return self.inner.fadvise(h, offset, length, advice)

    def fsync(self, h):
        self._fd(h, "fsync")
        return self.inner.fsync(h)

    def fdatasync(self, h):
        self._fd(h, "fdatasync")
        return self.inner.fdatasync(h)

    def futimens(self, h, atim, mtim):
        self._fd(h, "futimens")
        return self.inner.futimens(h, atim, mtim)

    def get_append(self, h):
        self._fd(h, "get_append")
        return self.inner.get_append(h)

    def set_status_flags(self, h, append, nonblock):
        self._fd(h, "set_status_flags")
        return self.inner.set_status_flags(h, append, nonblock)

    def listdir(self, h):
        self._fd(h, "listdir")
        return self.inner.listdir(h)

    # --- one step beneath a directory handle ------------------------------------------------------------
    def openat(self, dirh, name, *args, **kw):
        key = self._path(dirh, name, "openat")
        handle = self.inner.openat(dirh, name, *args, **kw)
        self.audit.opened(key, handle, name)
        return handle

    def open_file(self, dirh, name, *args, **kw):
        key = self._path(dirh, name, "openat")
        handle, filetype = self.inner.open_file(dirh, name, *args, **kw)
        self.audit.opened(key, handle, name)
        return handle, filetype

    def readlinkat(self, dirh, name):
        self._path(dirh, name, "readlinkat")
        return self.inner.readlinkat(dirh, name)

    def fstatat(self, dirh, name):
        self._path(dirh, name, "fstatat")
        return self.inner.fstatat(dirh, name)

    def mkdirat(self, dirh, name, *args, **kw):
        self._path(dirh, name, "mkdirat")
        return self.inner.mkdirat(dirh, name, *args, **kw)

    def unlinkat(self, dirh, name, *args, **kw):
        self._path(dirh, name, "unlinkat")
        return self.inner.unlinkat(dirh, name, *args, **kw)

    def renameat(self, odirh, oname, ndirh, nname):
        self._path(odirh, oname, "renameat")
        self._path(ndirh, nname, "renameat")
        return self.inner.renameat(odirh, oname, ndirh, nname)

    def linkat(self, odirh, oname, ndirh, nname):
        self._path(odirh, oname, "linkat")
        self._path(ndirh, nname, "linkat")
        return self.inner.linkat(odirh, oname, ndirh, nname)

    def symlinkat(self, target, dirh, name):
        self._path(dirh, name, "symlinkat")  # the text is stored, never interpreted here: no access through it
        return self.inner.symlinkat(target, dirh, name)

    def utimensat(self, dirh, name, atim, mtim):
        self._path(dirh, name, "utimensat")
        return self.inner.utimensat(dirh, name, atim, mtim)


    # --- sockets (the handlers have checked the netlist; this checks it again, at the OS's door) -----
    def socket(self, family, type_, *args, **kw):
        proto = PROTO_OF_TYPE.get(type_)
        self.audit.note(SockCreate(family, type_, proto), "socket")
        handle = self.inner.socket(family, type_, *args, **kw)
        self.audit.owned(handle, proto)
        return handle

    def connect(self, h, family, addr, port, *args, **kw):
        self._fd(h, "connect")
        self.audit.note(NetAccess(self.audit.protocols.get(ident(h)), family,
                                  int.from_bytes(bytes(addr), "big"), port), "connect")
        return self.inner.connect(h, family, addr, port, *args, **kw)

    def accept(self, h, *args, **kw):
        self._fd(h, "accept")
        result = self.inner.accept(h, *args, **kw)
        self.audit.owned(result[0], self.audit.protocols.get(ident(h)))
        return result

    def recv(self, h, *args, **kw):
        self._fd(h, "recv")
        return self.inner.recv(h, *args, **kw)

    def send(self, h, *args, **kw):
        self._fd(h, "send")
        return self.inner.send(h, *args, **kw)

    def shutdown(self, h, how, *args, **kw):
        self.audit.note(Shutdown(ident(h), how), "shutdown")
        return self.inner.shutdown(h, how, *args, **kw)


class TracingGuestMemory(GuestMemory):
    """GuestMemory recording MemRead/MemWrite for every access.

    Each access is validated first (`check`: a bad pointer is the ordinary trap, and no effect, since
    nothing was accessed), then recorded, then made. So the effect is in the trace -- and, in strict
    mode, refused -- before the bytes move, even if the validation itself were wrong."""

    __slots__ = ("audit",)

    def __init__(self, store, memory, audit: Audit) -> None:
        self.audit = audit
        super().__init__(store, memory)
        audit.mem = self

    @classmethod
    def over(cls, buffer: bytearray, audit: Audit | None = None) -> "TracingGuestMemory":
        self = super().over(buffer)
        self.audit = audit if audit is not None else Audit()
        self.audit.set_mem_size(self.size)
        return self

    def sync(self) -> None:
        super().sync()
        if self.size != self.audit.policy.mem_size:
            self.audit.set_mem_size(self.size)

    def _r(self, ptr: int, length: int, align: int = 1) -> None:
        self.check(ptr, length, align)
        self.audit.note(MemRead(ptr, length))

    def _w(self, ptr: int, length: int, align: int = 1) -> None:
        self.check(ptr, length, align)
        self.audit.note(MemWrite(ptr, length))

    # --- bytes ------------------------------------------------------------------------------------
    def slice(self, ptr: int, length: int) -> memoryview:
        """A zero-copy view is handed out to be filled (random_get): a write."""
        self._w(ptr, length)
        return self.view[ptr:ptr + length]

    def read(self, ptr: int, length: int) -> bytes:
        self._r(ptr, length)
        return bytes(self.view[ptr:ptr + length])

    def write(self, ptr: int, data: bytes) -> None:
        self._w(ptr, len(data))
        self.view[ptr:ptr + len(data)] = data

    def path(self, ptr: int, length: int) -> str:
        self._r(ptr, length)
        return GuestMemory.path(self, ptr, length)

    # --- records ----------------------------------------------------------------------------------
    def load(self, layout: Layout, ptr: int) -> tuple:
        self._r(ptr, layout.size, layout.align)
        return layout.codec.unpack_from(self.view, ptr)

    def store(self, layout: Layout, ptr: int, *values) -> None:
        self._w(ptr, layout.size, layout.align)
        layout.codec.pack_into(self.view, ptr, *values)

    def u32(self, ptr: int) -> int:
        self._r(ptr, 4, 4)
        return _U32.unpack_from(self.view, ptr)[0]

    def put_u32(self, ptr: int, value: int) -> None:
        self._w(ptr, 4, 4)
        _U32.pack_into(self.view, ptr, value)

    def put_u64(self, ptr: int, value: int) -> None:
        self._w(ptr, 8, 8)
        _U64.pack_into(self.view, ptr, value)

    def iovecs(self, ptr: int, count: int) -> list:
        """The array is read here; the buffers are written by the calls that fill them (FILLING),
        else read -- by the host, after this returns: recorded once all are validated."""
        self._r(ptr, count * IOVEC.size, IOVEC.align)
        bufs = GuestMemory.iovecs(self, ptr, count)
        kind = MemWrite if self.audit.call in FILLING else MemRead
        note, view, unpack = self.audit.note, self.view, IOVEC.codec.unpack_from
        for i in range(count):
            note(kind(*unpack(view, ptr + IOVEC.size * i)))
        return bufs

    def strings(self, items: list, ptrs: int, buf: int) -> None:
        self._w(ptrs, 4 * len(items), 4)
        self._w(buf, sum(len(s) + 1 for s in items))
        GuestMemory.strings(self, items, ptrs, buf)
