"""Memory isolation handler by handler (DESIGN §1.1), every case derived from one table.

`model/pointers.py` says, for each of the 48 calls, which arguments are pointers, to what, how many
elements (which length argument) and with what alignment. Every call has a valid setup here: a box
(a file, a directory holding one entry, a symlink, an empty directory) granted as preopen 3, stdin
bytes, arguments and environment; the socket calls also get a loopback listener granted as fd 4
(`Config.tcp_listen`), a netlist rule (`Config.allow_net`) for a second listener to connect to, and
an accepted connection. Each setup runs over PosixHost on a real temporary tree and over ModelHost on
the same tree read into the model (the socket calls over PosixHost only). Handlers are called
directly (`HANDLERS[name](cx, *raw_args)`) with a plain buffer as guest memory and the host wrapped in
a recorder of every host call.
"""
from __future__ import annotations

import os
import select
import shutil
import socket as pysocket
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Optional

from proofs.core import HOST, Counterexample, Outcome, TooLittleEvidence, obligation
from vwasm.model.pointers import IN, OUT, POINTERS
from vwasm.model.wasi import (
    ALL_RIGHTS, DIR_RIGHTS, DIRENT, EVENT, FDSTAT, FILE_RIGHTS, FILESTAT, IOVEC, PRESTAT, SIGNATURES,
    SOCKADDR_IN, SUBSCRIPTION, SUBSCRIPTION_CLOCK, SUBSCRIPTION_FD, SUBSCRIPTION_UNION_OFFSET, U8, U16, U32,
    U64, Advice, AddressFamily, Clockid, Errno, Eventtype, Fdflags, Fstflags, Oflags, Rights, Sdflags,
    SocketType, WasiError, Whence,
)

MEM = 1 << 16  # one wasm page
GAP = 64  # between the setup's regions: a region moved by a few bytes never meets the next one
U32_MAX = (1 << 32) - 1
PREOPEN = "/box"
FILE_DATA = b"hello world"
ENTRY = "entry"  # the one entry of dir/
LINK_TEXT = "dir/entry"
STDIN = b"bytes on stdin"
SOCK_DATA = b"over the wire"
ARGS = [b"prog", b"--flag", b""]
ENV = [b"A=1", b"HOME=/nowhere"]
CANARIES = (0xA5, 0x5A)  # two, so no byte a call writes can equal the canary both times
GARBAGE = 0xEE
TRAP, EXIT = "trap", "exit"
# Host calls that change nothing the guest or the world can observe; a trapping call makes no other.
QUERIES = frozenset({"fstat", "fstatat", "readlinkat", "listdir", "is_tty", "get_append", "clock_time",
                     "clock_res"})


class Recorder:
    """A host that records the name of every call made through it."""

    def __init__(self, host) -> None:
        self._host = host
        self.calls: list[str] = []

    def __getattr__(self, name):
        attr = getattr(self._host, name)
        if not callable(attr):
            return attr

        def recorded(*args, **kw):
            self.calls.append(name)
            return attr(*args, **kw)
        return recorded


def _make_tree(box: str) -> None:
    os.mkdir(box)
    with open(os.path.join(box, "file"), "wb") as fh:
        fh.write(FILE_DATA)
    os.mkdir(os.path.join(box, "dir"))
    with open(os.path.join(box, "dir", ENTRY), "wb") as fh:
        fh.write(b"e")
    os.symlink(LINK_TEXT, os.path.join(box, "link"))
    os.mkdir(os.path.join(box, "empty"))


def _tree(top: str) -> list:
    """The real tree under top: every entry's mode, size, mtime, and contents or link text."""
    out = []
    for base, dirs, files in sorted(os.walk(top)):
        for name in sorted(dirs + files):
            p = os.path.join(base, name)
            st = os.lstat(p)
            body = (os.readlink(p) if os.path.islink(p) else
                    open(p, "rb").read() if os.path.isfile(p) else None)
            out.append((os.path.relpath(p, top), st.st_mode, st.st_size, st.st_mtime_ns, body))
    return out


_MODEL_TREE: list = []


def _model_tree():
    """The setup tree as a model value (read once from a real one; values are immutable, so shared)."""
    from vwasm.model.fs import FileSystem
    if not _MODEL_TREE:
        tmp = tempfile.mkdtemp(prefix="vwasm-mem-")
        try:
            _make_tree(os.path.join(tmp, "box"))
            _MODEL_TREE.append(FileSystem.from_host(os.path.join(tmp, "box")))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _MODEL_TREE[0]


class Guest:
    """One runtime over a fresh box: a host (recorded), a descriptor table, plain memory."""

    def __init__(self, host_kind: str, net: bool = False, canary: int = 0) -> None:
        from vwasm.context import Context
        from vwasm.memory import GuestMemory
        from vwasm.model.fs import ROOT
        from vwasm.model_host import ModelHost
        from vwasm.posix_host import PosixHost
        from vwasm.sandbox import Config, descriptor_table
        self.posix = host_kind == "posix"
        # Over ModelHost the tree is the model's value of the same tree, and no directory is made.
        self.tmp = tempfile.mkdtemp(prefix="vwasm-mem-") if self.posix else None
        self.box = os.path.join(self.tmp, "box") if self.posix else "/model/box"
        if self.posix:
            _make_tree(self.box)
        self.sockets: list = []
        self.stdout: list[bytes] = []
        cfg = Config()
        cfg.preopen_dir(self.box, PREOPEN)
        cfg.stdin_bytes(STDIN)
        cfg.stdout_custom(self.stdout.append)
        if net:
            server = pysocket.create_server(("127.0.0.1", 0))
            self.sockets.append(server)
            self.server_port = server.getsockname()[1]
            cfg.allow_net(f"tcp:127.0.0.1:{self.server_port}")
            cfg.tcp_listen("127.0.0.1", 0)
        self.real = PosixHost() if self.posix else ModelHost(_model_tree(), {self.box: ROOT})
        self.host = Recorder(self.real)
        self.cx = Context(self.host, descriptor_table(cfg, self.real), list(ARGS), list(ENV), tuple(cfg.netlist))
        self.mem = bytearray([canary]) * MEM
        self.cx.mem = GuestMemory.over(self.mem)
        self._next = GAP

    # --- memory ---------------------------------------------------------------------------------
    def alloc(self, size: int, align: int = 1) -> int:
        step = max(align, 8)
        at = -(-self._next // step) * step
        self._next = at + size + GAP
        assert self._next < MEM // 2, "setup regions stay far from the end of memory"
        return at

    def put(self, at: int, data: bytes) -> None:
        self.mem[at:at + len(data)] = data

    def get(self, at: int, n: int) -> bytes:
        return bytes(self.mem[at:at + n])

    def u32(self, at: int) -> int:
        return int.from_bytes(self.get(at, 4), "little")

    def out(self, layout, count: int = 1) -> int:
        return self.alloc(layout.size * count, layout.align)

    def data(self, raw: bytes) -> tuple[int, int]:
        at = self.alloc(len(raw))
        self.put(at, raw)
        return at, len(raw)

    def text(self, path: str) -> tuple[int, int]:
        return self.data(path.encode())

    def iovecs(self, bufs: list) -> tuple[int, int]:
        """An iovec array naming a fresh buffer per item: bytes to hold, or a size to leave free."""
        entries = [self.data(b) if isinstance(b, bytes) else (self.alloc(b), b) for b in bufs]
        at = self.out(IOVEC, len(entries))
        for i, entry in enumerate(entries):
            self.put(at + IOVEC.size * i, IOVEC.codec.pack(*entry))
        return at, len(entries)

    # --- calls ----------------------------------------------------------------------------------
    def call(self, name: str, *args):
        """The handler's outcome: an errno, TRAP or EXIT (anything else escaping is a bug, §1.5)."""
        from vwasm import syscalls
        from vwasm.errors import ProcExit, Trap
        try:
            return int(syscalls.HANDLERS[name](self.cx, *args))
        except WasiError as e:
            return int(e.errno)
        except Trap:
            return TRAP
        except ProcExit:
            return EXIT
        except Exception as e:  # noqa: BLE001
            raise Counterexample(f"{name}{tuple(args)} raised {type(e).__name__}: {e}") from None

    def result(self, name: str, *args, layout=U32) -> int:
        """Run a setup call whose last argument is a result pointer; its value."""
        at = self.out(layout)
        got = self.call(name, *args, at)
        if got != 0:
            raise Counterexample(f"setup: {name}{args} answered {got}, not success")
        return int.from_bytes(self.get(at, layout.size), "little")

    def open(self, path: str, oflags: int = 0) -> int:
        """A new descriptor on path with every right its kind may carry."""
        rights = DIR_RIGHTS if oflags & Oflags.DIRECTORY else FILE_RIGHTS
        return self.result("path_open", 3, 0, *self.text(path), oflags, rights, ALL_RIGHTS, 0)

    def pending(self) -> int:
        """The granted listener (fd 4), with a client connection waiting on it."""
        lsock = pysocket.socket(fileno=self.cx.fds.get(4).handle)
        try:
            port = lsock.getsockname()[1]
        finally:
            lsock.detach()
        self.sockets.append(pysocket.create_connection(("127.0.0.1", port)))
        return 4

    def connection(self) -> tuple[int, pysocket.socket]:
        """An accepted loopback connection (its fd) and the client end."""
        listener = self.pending()
        return self.result("sock_accept", listener, 0), self.sockets[-1]

    # --- what a trapping call must leave alone ---------------------------------------------------
    def state(self) -> tuple:
        table = [(fd, d.kind, id(d.handle), d.filetype, d.rights_base, d.rights_inheriting, d.fdflags,
                  d.preopen, repr(d.extra)) for fd, d in self.cx.fds.items()]
        tree = _tree(self.tmp) if self.posix else self.real.fs
        return table, tree, sorted(os.listdir("/proc/self/fd")), b"".join(self.stdout)

    def close(self) -> None:
        for _, d in self.cx.fds.items():
            try:
                self.real.close(d.handle)
            except Exception:  # noqa: BLE001
                pass
        for s in self.sockets:
            s.close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


# --- one valid setup per call -----------------------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    """`make(guest, delta)` -> (args, check or None): the call's arguments, and where the setup
    chose an output's size, a check of what was written (`check(guest, outcome)` raises
    Counterexample); `delta` makes that output buffer one byte short (-1) or long (+1)."""

    make: Callable
    net: bool = False
    expect: object = 0  # the valid call's outcome
    varies: bool = False  # a length-bounded output: run exact, short and long

    @property
    def hosts(self) -> tuple[str, ...]:
        return ("posix",) if self.net else ("posix", "model")


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise Counterexample(what)


_SET_TIMES = (10**9, 2 * 10**9, Fstflags.ATIM | Fstflags.MTIM)

# Calls whose outputs are fixed records: the arguments are all there is to set up.
_PLAIN: dict[str, Callable] = {
    "args_sizes_get": lambda g: (g.out(U32), g.out(U32)),
    "environ_sizes_get": lambda g: (g.out(U32), g.out(U32)),
    "clock_res_get": lambda g: (Clockid.MONOTONIC, g.out(U64)),
    "clock_time_get": lambda g: (Clockid.MONOTONIC, 0, g.out(U64)),
    "fd_advise": lambda g: (g.open("file"), 0, 4, Advice.NORMAL),
    "fd_allocate": lambda g: (g.open("file"), 0, 32),
    "fd_close": lambda g: (g.open("file"),),
    "fd_datasync": lambda g: (g.open("file"),),
    "fd_sync": lambda g: (g.open("file"),),
    "fd_fdstat_get": lambda g: (3, g.out(FDSTAT)),
    "fd_fdstat_set_flags": lambda g: (g.open("file"), Fdflags.APPEND),
    "fd_fdstat_set_rights": lambda g: (g.open("file"), Rights.FD_READ, 0),
    "fd_filestat_get": lambda g: (g.open("file"), g.out(FILESTAT)),
    "fd_filestat_set_size": lambda g: (g.open("file"), 4),
    "fd_filestat_set_times": lambda g: (g.open("file"), *_SET_TIMES),
    "fd_prestat_get": lambda g: (3, g.out(PRESTAT)),
    "fd_renumber": lambda g: (g.open("file"), g.open("dir", Oflags.DIRECTORY)),
    "fd_seek": lambda g: (g.open("file"), 3, Whence.SET, g.out(U64)),
    "fd_tell": lambda g: (g.open("file"), g.out(U64)),
    "path_create_directory": lambda g: (3, *g.text("newdir")),
    "path_filestat_get": lambda g: (3, 0, *g.text("file"), g.out(FILESTAT)),
    "path_filestat_set_times": lambda g: (3, 0, *g.text("file"), *_SET_TIMES),
    "path_link": lambda g: (3, 0, *g.text("file"), 3, *g.text("file2")),
    "path_open": lambda g: (3, 0, *g.text("file"), 0, FILE_RIGHTS, ALL_RIGHTS, 0, g.out(U32)),
    "path_remove_directory": lambda g: (3, *g.text("empty")),
    "path_rename": lambda g: (3, *g.text("file"), 3, *g.text("moved")),
    "path_symlink": lambda g: (*g.text("file"), 3, *g.text("link2")),
    "path_unlink_file": lambda g: (3, *g.text("file")),
    "proc_exit": lambda g: (0,),
    "proc_raise": lambda g: (0,),
    "sched_yield": lambda g: (),
    "socket": lambda g: (AddressFamily.INET, SocketType.STREAM, 0, g.out(U32)),
    "sock_connect": lambda g: (g.result("socket", AddressFamily.INET, SocketType.STREAM, 0), *g.data(
        SOCKADDR_IN.codec.pack(AddressFamily.INET, g.server_port.to_bytes(2, "big"), bytes([127, 0, 0, 1])))),
    "sock_accept": lambda g: (g.pending(), 0, g.out(U32)),
    "sock_shutdown": lambda g: (g.connection()[0], Sdflags.WR),
}
_NET = {"socket", "sock_connect", "sock_accept", "sock_recv", "sock_send", "sock_shutdown"}
_OUTCOME = {"proc_exit": EXIT, "proc_raise": Errno.NOTSUP}  # signals are not part of the sandbox

SETUPS: dict[str, Setup] = {
    name: Setup(lambda g, delta, make=make: (make(g), None), name in _NET, _OUTCOME.get(name, 0))
    for name, make in _PLAIN.items()}


def setup(name: str, varies: bool = False):
    def register(make):
        SETUPS[name] = Setup(make, name in _NET, _OUTCOME.get(name, 0), varies)
        return make
    return register


def _strings(name: str, items: list[bytes]):
    def make(g: Guest, delta: int):
        ptrs, buf = g.out(U32, len(items)), g.out(U8, sum(len(s) + 1 for s in items))

        def check(g: Guest, outcome) -> None:
            got = [g.get(g.u32(ptrs + 4 * i), len(s) + 1) for i, s in enumerate(items)]
            _expect(outcome == 0 and got == [s + b"\0" for s in items], f"{name}: {outcome}, strings {got!r}")
        return (ptrs, buf), check
    return make


setup("args_get")(_strings("args_get", ARGS))
setup("environ_get")(_strings("environ_get", ENV))


def _reading(name: str, data: bytes, iov: int, n: int, count_at: int):
    """A read into an iovec array: it got min(capacity, available) bytes, the ones expected."""
    def check(g: Guest, outcome) -> None:
        bufs = [IOVEC.codec.unpack_from(g.mem, iov + IOVEC.size * i) for i in range(n)]
        got = b"".join(g.get(b, k) for b, k in bufs)[:g.u32(count_at)]
        want = data[:sum(k for _, k in bufs)]
        _expect(outcome == 0 and got == want,
                f"{name} into {[k for _, k in bufs]} bytes: {outcome}, read {got!r}, expected {want!r}")
    return check


@setup("fd_pread", varies=True)
def _fd_pread(g, delta):
    fd = g.open("file")
    (iov, n), count = g.iovecs([4, len(FILE_DATA) - 4 + delta]), g.out(U32)
    return (fd, iov, n, 0, count), _reading("fd_pread", FILE_DATA, iov, n, count)


@setup("fd_read", varies=True)
def _fd_read(g, delta):
    (iov, n), count = g.iovecs([5, len(STDIN) - 5 + delta]), g.out(U32)
    return (0, iov, n, count), _reading("fd_read (stdin)", STDIN, iov, n, count)


@setup("sock_recv", varies=True)
def _sock_recv(g, delta):
    fd, client = g.connection()
    client.sendall(SOCK_DATA)
    deadline = time.monotonic() + 5  # loopback delivers at once; wait for it rather than assume it
    while not select.select([g.cx.fds.get(fd).handle], [], [], 0.05)[0] and time.monotonic() < deadline:
        pass
    (iov, n), count = g.iovecs([4, len(SOCK_DATA) - 4 + delta]), g.out(U32)
    return (fd, iov, n, 0, count, g.out(U16)), _reading("sock_recv", SOCK_DATA, iov, n, count)


def _writing(name: str, data: list[bytes], count_at: int, sink: Callable):
    """A write from a ciovec array: every byte counted, and all of them arrived, in order."""
    def check(g: Guest, outcome) -> None:
        arrived = sink(g)
        _expect(outcome == 0 and g.u32(count_at) == len(b"".join(data)) and arrived == b"".join(data),
                f"{name} of {data}: {outcome}, {g.u32(count_at)} bytes counted, {arrived!r} arrived")
    return check


@setup("fd_write")
def _fd_write(g, delta):
    data = [b"to ", b"stdout"]
    (iov, n), count = g.iovecs(data), g.out(U32)
    return (1, iov, n, count), _writing("fd_write (stdout)", data, count, lambda g: b"".join(g.stdout))


@setup("fd_pwrite")
def _fd_pwrite(g, delta):
    data = [b"ab", b"cdef"]
    fd = g.open("file")
    (iov, n), count = g.iovecs(data), g.out(U32)

    def written(g: Guest) -> bytes:
        # What the file holds at the offset, read back through the host (the runtime's own view).
        bufs = [bytearray(6)]
        g.real.preadv(g.cx.fds.get(fd).handle, [memoryview(b) for b in bufs], 3)
        return bytes(bufs[0])
    return (fd, iov, n, 3, count), _writing("fd_pwrite at 3", data, count, written)


@setup("sock_send")
def _sock_send(g, delta):
    data = [b"he", b"llo"]
    fd, client = g.connection()
    (iov, n), count = g.iovecs(data), g.out(U32)

    def arrived(g: Guest) -> bytes:
        client.settimeout(2)
        got = b""
        try:
            while len(got) < 5:
                chunk = client.recv(5 - len(got))
                if not chunk:
                    break
                got += chunk
        except TimeoutError:
            pass
        return got
    return (fd, iov, n, 0, count), _writing("sock_send", data, count, arrived)


@setup("fd_prestat_dir_name", varies=True)
def _fd_prestat_dir_name(g, delta):
    name = PREOPEN.encode()
    buf_len = len(name) + delta
    buf = g.alloc(buf_len)

    def check(g: Guest, outcome) -> None:
        # A buffer shorter than the name: ENAMETOOLONG (wasmtime); otherwise the name, no NUL.
        if buf_len < len(name):
            _expect(outcome == Errno.NAMETOOLONG, f"fd_prestat_dir_name into {buf_len} bytes: {outcome}")
        else:
            got = g.get(buf, len(name))
            _expect(outcome == 0 and got == name, f"fd_prestat_dir_name into {buf_len} bytes: {outcome}, {got!r}")
    return (3, buf, buf_len), check


@setup("fd_readdir", varies=True)
def _fd_readdir(g, delta):
    names = [b".", b"..", ENTRY.encode()]
    full = sum(DIRENT.size + len(n) for n in names)
    buf_len = full + delta
    fd = g.open("dir", Oflags.DIRECTORY)
    buf, used = g.alloc(buf_len), g.out(U32)

    def check(g: Guest, outcome) -> None:
        # The entries, the last one cut short when the buffer is short, which is then reported full.
        n = g.u32(used)
        raw, got, i = g.get(buf, n), [], 0
        while i + DIRENT.size <= len(raw):
            namlen = DIRENT.codec.unpack_from(raw, i)[2]
            if i + DIRENT.size + namlen <= len(raw):
                got.append(raw[i + DIRENT.size:i + DIRENT.size + namlen])
            i += DIRENT.size + namlen
        _expect(outcome == 0 and n == min(buf_len, full) and set(got) <= set(names)
                and len(set(got)) == len(got) == (3 if buf_len >= full else 2),
                f"fd_readdir into {buf_len} bytes (the listing is {full}): {outcome}, bufused {n}, entries {got}")
    return (fd, buf, buf_len, 0, used), check


@setup("path_readlink", varies=True)
def _path_readlink(g, delta):
    text = LINK_TEXT.encode()
    buf_len = len(text) + delta
    path = g.text("link")
    buf, used = g.alloc(buf_len), g.out(U32)

    def check(g: Guest, outcome) -> None:
        # The text, cut to the buffer (wasmtime).
        got = g.get(buf, g.u32(used))
        _expect(outcome == 0 and got == text[:buf_len],
                f"path_readlink into {buf_len} bytes: {outcome}, {got!r} (the text is {text!r})")
    return (3, *path, buf, buf_len, used), check


@setup("random_get", varies=True)
def _random_get(g, delta):
    return (g.alloc(16 + delta), 16 + delta), None


@setup("poll_oneoff")
def _poll_oneoff(g, delta):
    fd = g.open("file")
    subs, events, count = g.out(SUBSCRIPTION, 2), g.out(EVENT, 2), g.out(U32)
    # A clock already due and a file (always ready): two events.
    g.put(subs, SUBSCRIPTION.codec.pack(7, Eventtype.CLOCK))
    g.put(subs + SUBSCRIPTION_UNION_OFFSET, SUBSCRIPTION_CLOCK.codec.pack(Clockid.MONOTONIC, 0, 0, 0))
    g.put(subs + SUBSCRIPTION.size, SUBSCRIPTION.codec.pack(8, Eventtype.FD_READ))
    g.put(subs + SUBSCRIPTION.size + SUBSCRIPTION_UNION_OFFSET, SUBSCRIPTION_FD.codec.pack(fd))

    def check(g: Guest, outcome) -> None:
        _expect(outcome == 0 and g.u32(count) == 2, f"poll_oneoff: {outcome}, {g.u32(count)} events (2 due)")
    return (subs, events, 2, count), check


def _check_tables() -> None:
    """Every call of the signature table has a setup (the pointer table asserts its own coverage)."""
    if SETUPS.keys() != SIGNATURES.keys():
        raise Counterexample(f"calls without a setup: {sorted(SIGNATURES.keys() ^ SETUPS.keys())}")


# --- the regions a call declares --------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    start: int
    size: int
    align: int
    access: str  # pointers.IN / OUT
    label: str
    arg: Optional[int]  # the argument holding the pointer (None: an iovec entry holds it)
    length_arg: Optional[int]  # the argument counting its elements, if any
    elem: int  # element size
    iovec_at: Optional[int] = None  # the iovec entry naming this buffer


def _count(g: Guest, p, args) -> int:
    if p.length is not None:
        return args[p.length]
    if p.sized_by is not None:
        # What the *_sizes_get call reports: the number of strings, and their bytes with the NULs.
        items = g.cx.args if p.sized_by[0] == "args_sizes_get" else g.cx.env
        return (len(items), sum(len(s) + 1 for s in items))[p.sized_by[1]]
    return 1


def regions(g: Guest, name: str, args) -> list[Region]:
    """Every region the pointer table declares for this call, iovec buffers included."""
    out = []
    for p in POINTERS[name]:
        n, ptr = _count(g, p, args), args[p.arg]
        out.append(Region(ptr, n * p.layout.size, p.layout.align, p.access, f"arg {p.arg} ({p.layout.name} x {n})",
                          p.arg, p.length, p.layout.size))
        for i in range(n if p.through is not None else 0):
            buf, length = IOVEC.codec.unpack_from(g.mem, ptr + IOVEC.size * i)
            out.append(Region(buf, length, 1, p.through, f"buffer of iovec {i} (arg {p.arg})", None, None, 1,
                              ptr + IOVEC.size * i))
    return out


def _changed(a: bytes, b: bytes) -> list[int]:
    """The addresses where two memory images differ."""
    out = []
    for at in range(0, len(a), 256):
        if a[at:at + 256] != b[at:at + 256]:
            out.extend(i for i in range(at, at + 256) if a[i] != b[i])
    return out


def _apply(g: Guest, args, r: Region, ptr, length, content, valid: bytes) -> list:
    """The call's arguments (and memory) with region r moved to ptr and/or counted by length;
    content "keep" moves the valid bytes along, "garbage" puts other bytes in their place."""
    args = list(args)
    if ptr is not None and content is not None:
        room = max(0, min(r.size, MEM - ptr))
        g.put(ptr, valid[r.start:r.start + room] if content == "keep" else bytes([GARBAGE]) * room)
    ptr = r.start if ptr is None else ptr
    if r.iovec_at is not None:
        g.put(r.iovec_at, IOVEC.codec.pack(ptr, r.size if length is None else length))
        return args
    args[r.arg] = ptr
    if length is not None:
        args[r.length_arg] = length
    return args


# --- obligation 1: check before effect -------------------------------------------------------------
def _faults(r: Region) -> list[tuple[str, Optional[int], Optional[int], Optional[str]]]:
    """(fault, new pointer, new length, content) for one region."""
    out = [("past the end", MEM, None, None)]
    wrap = (1 << 32) - max(r.align, r.size // 2)
    out.append(("wrapping past 2^32", wrap & ~(r.align - 1), None, None))
    if r.size >= 2:
        p = MEM - (r.size + 1) // 2
        q = p & ~(r.align - 1)
        at = q if q + r.size > MEM else p
        out.append(("straddling the end", at, None, "keep"))
        if r.access == IN and r.iovec_at is None:
            out.append(("straddling the end, other bytes", at, None, "garbage"))
    # One step past a legal placement: a bound checked one byte (or element) too loosely lets these by.
    out.append((f"overhanging the end by {r.align}", MEM - r.size + r.align, None, "keep"))
    counted = r.length_arg is not None or r.iovec_at is not None
    if counted:
        out.append(("flush with the end, one element more", MEM - r.size, r.size // r.elem + 1, "keep"))
    if r.align > 1:
        out.append(("misaligned", r.start + 1, None, "keep"))
    if counted:
        # A count whose byte size is the valid one modulo 2^32 (a 32-bit product wraps to it).
        lowbit = r.elem & -r.elem
        count = r.size // r.elem + (1 << 32) // lowbit
        out.append(("length overflow", None, count if count <= U32_MAX else U32_MAX, None))
    return out


def check_before_effect_of(name: str, host: str) -> int:
    """All fault cases of one call over one host; returns how many ran."""
    s = SETUPS[name]
    g = Guest(host, net=s.net)
    if host == "posix":
        # Config.timeout's deadline, never reached (1000 s away): a call that may block waits for
        # its descriptor (host.ready, no query) -- after its pointers are checked, never before.
        g.cx.deadline = g.real.clock_time(Clockid.MONOTONIC) + 10**12
    try:
        args, check = s.make(g, 0)
        valid = bytes(g.mem)
        cases = 0
        for r in regions(g, name, args):
            for fault, ptr, length, content in _faults(r):
                faulted = _apply(g, args, r, ptr, length, content, valid)
                mem_before, before = bytes(g.mem), g.state()
                g.host.calls.clear()
                where = f"{name} over {host}, {r.label}: {fault}"
                got = g.call(name, *faulted)
                if got != TRAP:
                    raise Counterexample(f"{where}: answered {got}, not a trap (args {faulted})")
                effects = [c for c in g.host.calls if c not in QUERIES]
                if effects:
                    raise Counterexample(f"{where}: trapped after host calls {effects}")
                if bytes(g.mem) != mem_before:
                    changed = _changed(mem_before, bytes(g.mem))
                    raise Counterexample(f"{where}: trapped after writing guest memory at {changed[:8]}")
                for what, x, y in zip(("descriptor table", "tree", "host descriptors", "stdout"), before, g.state()):
                    if x != y:
                        raise Counterexample(f"{where}: trapped after changing the {what}")
                g.mem[:] = valid
                cases += 1
        # The faults were faults of a call that works.
        got = g.call(name, *args)
        if got != s.expect:
            raise Counterexample(f"setup of {name} over {host} is not valid: {got}, expected {s.expect}")
        if check is not None:
            check(g, got)
        return cases
    finally:
        g.close()


def _placements(r: Region) -> list[tuple[str, int]]:
    """Where a region may legally lie other than where the setup put it: flush against the end of
    memory, and at an address aligned only as its layout asks (odd for bytes)."""
    out = [("flush with the end of memory", MEM - r.size)]
    if r.align < 8:
        out.append((f"aligned to {r.align} only", r.start + r.align))
    return out


def moved_regions_of(name: str, host: str) -> int:
    """The valid call with each region moved to each legal placement still succeeds (a bound or an
    alignment checked one step too strictly traps it); returns how many ran."""
    s = SETUPS[name]
    probe = Guest(host, net=s.net)
    try:
        wanted = [(k, i) for k, r in enumerate(regions(probe, name, s.make(probe, 0)[0]))
                  for i in range(len(_placements(r)))]
    finally:
        probe.close()
    for k, i in wanted:
        g = Guest(host, net=s.net)
        try:
            args, _ = s.make(g, 0)
            r = regions(g, name, args)[k]
            where, ptr = _placements(r)[i]
            got = g.call(name, *_apply(g, args, r, ptr, None, "keep", bytes(g.mem)))
            if got != s.expect:
                raise Counterexample(f"{name} over {host}, {r.label} {where} ({ptr:#x}): answered {got}, "
                                     f"expected {s.expect}")
        finally:
            g.close()
    return len(wanted)


def check_real_memory() -> None:
    """GuestMemory over a real wasmtime memory: `sync` follows a grow, bytes written through the view
    are the memory's, and the wasmtime_memory_t its pointer names lives as long as it does, with
    every other reference gone (else the next sync reads freed memory: a use after free)."""
    import gc
    import weakref

    import wasmtime

    from vwasm.errors import Trap
    from vwasm.memory import GuestMemory
    store = wasmtime.Store(wasmtime.Engine())
    mem = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(1, 3)))
    gm = GuestMemory(store, mem)
    mem.grow(store, 1)
    gm.sync()
    try:
        gm.write(2 * 65536 - 3, b"end")
    except Trap as e:  # a region flush with the end is in bounds: trapping on it is the bug
        raise Counterexample(f"GuestMemory traps on a write flush with the end of a grown memory: {e}") from e
    if gm.size != mem.data_len(store) or mem.read(store, 2 * 65536 - 3, 2 * 65536) != b"end":
        raise Counterexample(f"GuestMemory over a grown memory: size {gm.size}, memory {mem.data_len(store)}")
    struct_alive = weakref.ref(mem._memory)
    del mem
    gc.collect()
    if struct_alive() is None:
        raise Counterexample("GuestMemory does not keep alive the wasmtime_memory_t its pointer points into")
    gm.sync()
    check_moving_memory()
    check_fixed_memory()


def check_moving_memory() -> None:
    """Over an engine whose memory moves on every grow (no reservation), `sync` before a call follows
    the move: bytes written after the grow land in the memory where it is now, never at the old base."""
    import ctypes

    import wasmtime

    from vwasm.memory import GuestMemory
    settings = wasmtime.Config()
    settings.memory_reservation = settings.memory_reservation_for_growth = settings.memory_guard_size = 0
    store = wasmtime.Store(wasmtime.Engine(settings))
    mem = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(1, 8)))
    gm = GuestMemory(store, mem)
    for round_ in range(4):
        base = ctypes.addressof(mem.data_ptr(store).contents)
        mem.grow(store, 1)
        if ctypes.addressof(mem.data_ptr(store).contents) == base:
            continue  # did not move this time: nothing to follow
        gm.sync()  # the next host call
        # Where the view points, looked at before it is used (a stale one names freed memory).
        if ctypes.addressof(gm.view.obj) != ctypes.addressof(mem.data_ptr(store).contents):
            raise Counterexample("after the memory moved on a grow, GuestMemory's view still names the old base")
        data = b"moved%d" % round_
        if _refused(lambda: gm.write(16, data)) or mem.read(store, 16, 16 + len(data)) != data:
            raise Counterexample("after the memory moved on a grow, a write through GuestMemory did not land "
                                 "in it (the view still names the old base)")
        return
    raise TooLittleEvidence("the memory never moved on a grow: the moving case was not exercised")


def _refused(action) -> bool:
    """Whether `action` traps (anything else it does, success or another error, is not a refusal)."""
    from vwasm.errors import Trap
    try:
        action()
    except Trap:
        return True
    except Exception:
        return False
    return False


def check_fixed_memory() -> None:
    """A memory that cannot move (engine from `limits.engine_for`) keeps its bound across calls, no
    `sync`: the bound may lag behind a grow but never passes the memory's end. After grows between
    calls, a write and an iovec flush with the new end are taken whole, and one byte further traps;
    the base never moves; an engine vwasm did not make is never taken for one whose memory is fixed."""
    import ctypes

    import wasmtime

    from vwasm import limits
    from vwasm.memory import GuestMemory
    from vwasm.sandbox import Config
    if limits.memory_fixed(wasmtime.Engine()):
        raise Counterexample("an embedder's engine (its memory may move) is taken for one whose memory is fixed")
    engine = limits.engine_for(Config())
    if not limits.memory_fixed(engine):
        raise Counterexample("an engine made by limits.engine_for is not known to have fixed memory")
    store = wasmtime.Store(engine)
    mem = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(1, 300)))
    gm = GuestMemory(store, mem, fixed=True)
    base = ctypes.addressof(mem.data_ptr(store).contents)
    for pages in (1, 2, 250):  # grown between calls: sync, then accesses near the new end
        mem.grow(store, pages)
        gm.sync()
        end = mem.data_len(store)
        if _refused(lambda: gm.write(end - 3, b"end")) or mem.read(store, end - 3, end) != b"end":
            raise Counterexample(f"a write flush with the end of a fixed memory grown to {end} bytes is refused "
                                 f"(the bound stays at {gm.size})")
        if not _refused(lambda: gm.write(end - 2, b"end")):
            raise Counterexample(f"a write one byte past the end of a fixed memory of {end} bytes is not refused "
                                 f"(the bound is {gm.size})")
        mem.grow(store, 1)
        gm.sync()
        end = mem.data_len(store)
        mem.write(store, (end - 8).to_bytes(4, "little") + (8).to_bytes(4, "little"), 0)  # iovec: the last 8 bytes
        bufs = []
        if _refused(lambda: bufs.extend(gm.iovecs(0, 1))) or [len(b) for b in bufs] != [8]:
            raise Counterexample(f"an iovec flush with the end of a fixed memory grown to {end} bytes is refused "
                                 f"or cut ({[len(b) for b in bufs]} bytes; the bound is {gm.size})")
        mem.write(store, (end - 7).to_bytes(4, "little"), 0)
        if not _refused(lambda: gm.iovecs(0, 1)):
            raise Counterexample(f"an iovec one byte past the end of a fixed memory of {end} bytes is not refused")
    if ctypes.addressof(mem.data_ptr(store).contents) != base:
        raise Counterexample("a memory of an engine from limits.engine_for moved when it grew")


N_FAULT_CASES = 700  # at least this many (call, region, fault) cases over the two hosts
N_MOVED = 100  # and this many valid calls with a region at another legal place


@obligation("memory.check_before_effect", family=HOST, tool="enumeration", guarantee="1 memory isolation",
            bound="every call x every pointer and iovec buffer (model/pointers.py) x {past the end, wrapping, "
                  "straddling (2 contents), overhanging by one unit, one element more, misaligned, length "
                  "overflow}, over PosixHost (with Config.timeout's deadline: calls that may block wait) and "
                  "ModelHost; each region flush with the end and least aligned",
            budget=45)
def check_before_effect() -> Outcome:
    """Every pointer argument of every call (the table `model/pointers.py`, tied to the signature
    table) and every buffer its iovec arrays name, placed past the end of memory, wrapping past 2^32,
    straddling the end (its valid bytes kept, or other bytes in their place), overhanging the end by
    one alignment unit, flush with the end but counted one element more, misaligned, or with a length
    whose 32-bit product overflows, makes the call trap with nothing done: no host call but a pure
    query, no byte of guest memory changed, the descriptor table, the tree (contents and times), the
    process's open descriptors and stdout as they were. The same call unfaulted succeeds, as it does
    with each region flush with the end of memory or aligned only as its layout asks. Over a real
    wasmtime memory, the view follows a grow (one that moves the memory too) and keeps what its pointer
    points into alive; over one that cannot move (no size check per call), the kept bound catches up
    with a grow and never passes the end."""
    t0 = time.perf_counter()
    _check_tables()
    check_real_memory()
    cases = {host: 0 for host in ("posix", "model")}
    for name, s in SETUPS.items():
        for host in s.hosts:
            cases[host] += check_before_effect_of(name, host)
    # Where a region lies is the handler's business, not the host's: one host suffices.
    moved = sum(moved_regions_of(name, s.hosts[-1]) for name, s in SETUPS.items())
    total = sum(cases.values())
    if total < N_FAULT_CASES or moved < N_MOVED:
        raise TooLittleEvidence(f"{total} fault cases, {moved} legal placements")
    pointers = sum(len(ps) for ps in POINTERS.values())
    return Outcome(f"{len(SETUPS)} calls, {pointers} pointer arguments: {total} (call, region, fault) cases trap "
                   f"with no effect ({cases['posix']} over PosixHost, {cases['model']} over ModelHost); every "
                   f"unfaulted call succeeds, and so do {moved} with one region flush with the end of memory or "
                   f"aligned only as its layout asks; over a real wasmtime memory the view follows a grow and "
                   f"keeps the memory it points into alive, and a fixed memory's kept bound catches up with "
                   f"grows, never past the end ({time.perf_counter() - t0:.1f} s)", status="checked")


# --- obligation 2: writes stay in the declared output ----------------------------------------------
def writes_of(name: str, host: str, canary: int, delta: int) -> None:
    s = SETUPS[name]
    g = Guest(host, net=s.net, canary=canary)
    try:
        args, check = s.make(g, delta)
        declared = [r for r in regions(g, name, args) if r.access == OUT]
        before = bytes(g.mem)
        got = g.call(name, *args)
        where = f"{name} over {host}" + (f", output {'exact' if not delta else f'{delta:+d} byte'}" if s.varies else "")
        if check is not None:
            check(g, got)
        elif got != s.expect:
            raise Counterexample(f"{where}: {got}, expected {s.expect}")
        stray = [i for i in _changed(before, bytes(g.mem)) if not any(r.start <= i < r.start + r.size for r in declared)]
        if stray:
            spans = ", ".join(f"{r.label} [{r.start:#x}, {r.start + r.size:#x})" for r in declared) or "none"
            raise Counterexample(f"{where}: wrote guest memory at {[hex(i) for i in stray[:8]]}, outside what it "
                                 f"declares ({spans})")
    finally:
        g.close()


@obligation("memory.writes_in_declared_output", family=HOST, tool="enumeration", guarantee="1 memory isolation",
            bound="every call over canary-filled memory (2 canaries), length-bounded outputs exact / 1 short / "
                  "1 long, over PosixHost and ModelHost",
            budget=45)
def writes_in_declared_output() -> Outcome:
    """Every call, run over memory filled with a canary byte (two canaries), changes only bytes
    inside the regions its arguments declare it writes (result records, `buf..buf+buf_len`, the
    buffers of an iovec array); calls with a length-bounded output (fd_read, fd_pread, sock_recv,
    fd_readdir, path_readlink, fd_prestat_dir_name, random_get) run with a buffer of exactly the
    output's size, one byte short and one byte long, and write what the setup put there, cut to the
    buffer (a preopen name that does not fit is ENAMETOOLONG, as wasmtime)."""
    t0 = time.perf_counter()
    _check_tables()
    runs = 0
    # Length-bounded outputs first: where an off-by-one shows soonest.
    for name, s in sorted(SETUPS.items(), key=lambda item: not item[1].varies):
        for host in s.hosts:
            for canary in CANARIES:
                for delta in ((0, -1, 1) if s.varies else (0,)):
                    writes_of(name, host, canary, delta)
                    runs += 1
    varying = sorted(n for n, s in SETUPS.items() if s.varies)
    if runs < 2 * len(SETUPS) + 8 * len(varying):
        raise TooLittleEvidence(f"{runs} runs")
    return Outcome(f"{runs} runs of {len(SETUPS)} calls write only inside their declared outputs; "
                   f"exact / short / long buffers for {', '.join(varying)} ({time.perf_counter() - t0:.1f} s)",
                   status="checked")
