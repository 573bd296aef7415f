"""Memory isolation handler by handler (DESIGN §1.1), every case derived from `model/pointers.py`.

Every one of the 48 calls has a valid setup here: a fresh temporary box (a file, a directory
holding one entry, a symlink, an empty directory) granted as preopen 3, stdin bytes, arguments
and environment, and for the socket calls a loopback listener granted as fd 4 (`Config.tcp_listen`),
a netlist rule (`Config.allow_net`) for a second loopback listener to connect to, and a connection.
Each call's setup runs over PosixHost on the real tree and over ModelHost on the same tree read
into the model (socket calls: PosixHost only, ModelHost has no network).

- `memory.check_before_effect`: for every call, every region its pointer table declares (and every
  buffer its (c)iovec arrays name), each fault -- past the end of memory, wrapping past 2^32,
  straddling the end (with the valid prefix kept, and for inputs with garbage in place of it),
  misaligned where the layout needs alignment, a length whose product overflows 32 bits -- must
  trap, with no host call other than a pure query, no byte of guest memory changed, the descriptor
  table, the tree (contents and times), the process's open descriptors and stdout as they were.
  Then the unfaulted call must succeed: the faults are faults of a call that would work.
- `memory.writes_in_declared_output`: every call runs over memory filled with a canary byte (two
  canaries, so no written byte can equal both); every byte that changed must lie inside a region the
  table says the call writes (result records, `buf..buf+buf_len`, the buffers of an iovec array).
  Calls with a length-bounded output run with a buffer of exactly the output's size, one byte
  short and one byte long, and what they write is checked against what the setup put there (the
  file's bytes, the link's text, the preopen's name, the directory's entries).
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

MEM = 1 << 16  # one wasm page
GAP = 64  # between the setup's regions: a region moved by a byte never meets the next one
U32_MAX = (1 << 32) - 1
PREOPEN = "/box"
FILE_DATA = b"hello world"
ENTRY = "entry"  # the one entry of dir/
LINK_TEXT = "dir/entry"
STDIN = b"bytes on stdin"
SOCK_DATA = b"over the wire"
ARGS = [b"prog", b"--flag", b""]
ENV = [b"A=1", b"HOME=/nowhere"]
CANARIES = (0xA5, 0x5A)
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
    """The real tree under top: every entry's kind, size, mtime and contents or link text."""
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
    """One runtime over a fresh temporary box: a host (recorded), a descriptor table, plain memory."""

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
        at = -(-self._next // max(align, 8)) * max(align, 8)
        self._next = at + size + GAP
        assert self._next < MEM // 2, "setup regions must stay far from the end of memory"
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

    def iovecs(self, bufs: list) -> tuple[int, int]:
        """An iovec array naming a fresh buffer per item: bytes to hold, or a size to leave free."""
        from vwasm.model.wasi import IOVEC
        entries = [self.data(b) if isinstance(b, bytes) else (self.alloc(b), b) for b in bufs]
        at = self.out(IOVEC, len(entries))
        for i, (buf, n) in enumerate(entries):
            self.put(at + 8 * i, IOVEC.codec.pack(buf, n))
        return at, len(entries)

    # --- calls ----------------------------------------------------------------------------------
    def call(self, name: str, *args):
        """The handler's outcome: an errno, TRAP or EXIT (anything else escaping is a bug, §1.5)."""
        from vwasm import syscalls
        from vwasm.errors import ProcExit, Trap
        from vwasm.model.wasi import WasiError
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

    def must(self, name: str, *args) -> None:
        got = self.call(name, *args)
        if got != 0:
            raise Counterexample(f"setup: {name}{args} answered {got}, not success")

    def open(self, path: str, oflags: int = 0) -> int:
        """A new descriptor on path with every right its kind may carry."""
        from vwasm.model.wasi import ALL_RIGHTS, DIR_RIGHTS, FILE_RIGHTS, U32, Oflags
        at = self.out(U32)
        rights = DIR_RIGHTS if oflags & Oflags.DIRECTORY else FILE_RIGHTS
        self.must("path_open", 3, 0, *self.data(path.encode()), oflags, rights, ALL_RIGHTS, 0, at)
        return self.u32(at)

    def connection(self) -> tuple[int, pysocket.socket]:
        """An accepted loopback connection (its fd) and the client end."""
        from vwasm.model.wasi import U32
        lport = pysocket.socket(fileno=self.cx.fds.get(4).handle)
        try:
            port = lport.getsockname()[1]
        finally:
            lport.detach()
        client = pysocket.create_connection(("127.0.0.1", port))
        self.sockets.append(client)
        at = self.out(U32)
        self.must("sock_accept", 4, 0, at)
        return self.u32(at), client

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
# A setup returns the call's arguments and, where the output's size is the setup's to choose, a
# check of what was written; `delta` makes such an output buffer one byte short (-1) or long (+1).
@dataclass(frozen=True)
class Setup:
    make: Callable  # (guest, delta) -> (args, check or None); check(guest, outcome) raises Counterexample
    net: bool
    expect: object  # the outcome of the valid call
    varies: bool  # the call has a length-bounded output: run it exact, short and long


SETUPS: dict[str, Setup] = {}


def setup(name: str, net: bool = False, expect: object = 0, varies: bool = False):
    def register(fn):
        SETUPS[name] = Setup(fn, net, expect, varies)
        return fn
    return register


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise Counterexample(what)


def _read_check(name: str, data: bytes, iov: int, n: int, count_at: int):
    """A read into an iovec array: it got min(capacity, available) bytes, the ones expected."""
    def check(g: Guest, outcome) -> None:
        bufs = [(g.u32(iov + 8 * i), g.u32(iov + 8 * i + 4)) for i in range(n)]
        got = b"".join(g.get(b, k) for b, k in bufs)[:g.u32(count_at)]
        want = data[:sum(k for _, k in bufs)]
        _expect(outcome == 0 and got == want, f"{name} into {[k for _, k in bufs]} bytes: {outcome}, read {got!r}, "
                                              f"expected {want!r}")
    return check


def _strings_setup(name: str, items: list[bytes]):
    def make(g: Guest, delta: int):
        from vwasm.model.wasi import U8, U32
        ptrs, buf = g.out(U32, len(items)), g.out(U8, sum(len(s) + 1 for s in items))

        def check(g: Guest, outcome) -> None:
            got = [g.get(g.u32(ptrs + 4 * i), len(s) + 1) for i, s in enumerate(items)]
            _expect(outcome == 0 and got == [s + b"\0" for s in items], f"{name}: {outcome}, strings {got!r}")
        return (ptrs, buf), check
    return make


def _sizes_setup(g: Guest, delta: int):
    from vwasm.model.wasi import U32
    return (g.out(U32), g.out(U32)), None


setup("args_get")(_strings_setup("args_get", ARGS))
setup("environ_get")(_strings_setup("environ_get", ENV))
setup("args_sizes_get")(_sizes_setup)
setup("environ_sizes_get")(_sizes_setup)


@setup("clock_res_get")
def _clock_res_get(g, delta):
    from vwasm.model.wasi import U64, Clockid
    return (Clockid.MONOTONIC, g.out(U64)), None


@setup("clock_time_get")
def _clock_time_get(g, delta):
    from vwasm.model.wasi import U64, Clockid
    return (Clockid.MONOTONIC, 0, g.out(U64)), None


@setup("fd_advise")
def _fd_advise(g, delta):
    return (g.open("file"), 0, 4, 0), None


@setup("fd_allocate")
def _fd_allocate(g, delta):
    return (g.open("file"), 0, 32), None


@setup("fd_close")
def _fd_close(g, delta):
    return (g.open("file"),), None


@setup("fd_datasync")
def _fd_datasync(g, delta):
    return (g.open("file"),), None


@setup("fd_sync")
def _fd_sync(g, delta):
    return (g.open("file"),), None


@setup("fd_fdstat_get")
def _fd_fdstat_get(g, delta):
    from vwasm.model.wasi import FDSTAT
    return (3, g.out(FDSTAT)), None


@setup("fd_fdstat_set_flags")
def _fd_fdstat_set_flags(g, delta):
    from vwasm.model.wasi import Fdflags
    return (g.open("file"), Fdflags.APPEND), None


@setup("fd_fdstat_set_rights")
def _fd_fdstat_set_rights(g, delta):
    from vwasm.model.wasi import Rights
    return (g.open("file"), Rights.FD_READ, 0), None


@setup("fd_filestat_get")
def _fd_filestat_get(g, delta):
    from vwasm.model.wasi import FILESTAT
    return (g.open("file"), g.out(FILESTAT)), None


@setup("fd_filestat_set_size")
def _fd_filestat_set_size(g, delta):
    return (g.open("file"), 4), None


@setup("fd_filestat_set_times")
def _fd_filestat_set_times(g, delta):
    from vwasm.model.wasi import Fstflags
    return (g.open("file"), 10**9, 2 * 10**9, Fstflags.ATIM | Fstflags.MTIM), None


@setup("fd_pread", varies=True)
def _fd_pread(g, delta):
    from vwasm.model.wasi import U32
    iov, n = g.iovecs([4, len(FILE_DATA) - 4 + delta])
    count = g.out(U32)
    return (g.open("file"), iov, n, 0, count), _read_check("fd_pread", FILE_DATA, iov, n, count)


@setup("fd_read", varies=True)
def _fd_read(g, delta):
    from vwasm.model.wasi import U32
    iov, n = g.iovecs([5, len(STDIN) - 5 + delta])
    count = g.out(U32)
    return (0, iov, n, count), _read_check("fd_read (stdin)", STDIN, iov, n, count)


@setup("fd_prestat_get")
def _fd_prestat_get(g, delta):
    from vwasm.model.wasi import PRESTAT
    return (3, g.out(PRESTAT)), None


@setup("fd_prestat_dir_name", varies=True)
def _fd_prestat_dir_name(g, delta):
    from vwasm.model.wasi import Errno
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


@setup("fd_pwrite")
def _fd_pwrite(g, delta):
    from vwasm.model.wasi import U32
    iov, n = g.iovecs([b"ab", b"cdef"])
    return (g.open("file"), iov, n, 3, g.out(U32)), None


@setup("fd_write")
def _fd_write(g, delta):
    from vwasm.model.wasi import U32
    iov, n = g.iovecs([b"to ", b"stdout"])
    return (1, iov, n, g.out(U32)), None


@setup("fd_readdir", varies=True)
def _fd_readdir(g, delta):
    from vwasm.model.wasi import DIRENT, U32, Oflags
    names = [b".", b"..", ENTRY.encode()]
    full = sum(DIRENT.size + len(n) for n in names)
    buf_len = full + delta
    buf, used = g.alloc(buf_len), g.out(U32)

    def check(g: Guest, outcome) -> None:
        n = g.u32(used)
        raw, got, i = g.get(buf, n), [], 0
        while i + DIRENT.size <= len(raw):
            namlen = DIRENT.codec.unpack_from(raw, i)[2]
            if i + DIRENT.size + namlen <= len(raw):
                got.append(raw[i + DIRENT.size:i + DIRENT.size + namlen])
            i += DIRENT.size + namlen
        whole = [x for x in names if x in got]
        _expect(outcome == 0 and n == min(buf_len, full) and sorted(got) == sorted(whole)
                and len(got) == (3 if buf_len >= full else 2),
                f"fd_readdir into {buf_len} bytes (listing is {full}): {outcome}, bufused {n}, entries {got}")
    return (g.open("dir", Oflags.DIRECTORY), buf, buf_len, 0, used), check


@setup("fd_renumber")
def _fd_renumber(g, delta):
    from vwasm.model.wasi import Oflags
    return (g.open("file"), g.open("dir", Oflags.DIRECTORY)), None


@setup("fd_seek")
def _fd_seek(g, delta):
    from vwasm.model.wasi import U64, Whence
    return (g.open("file"), 3, Whence.SET, g.out(U64)), None


@setup("fd_tell")
def _fd_tell(g, delta):
    from vwasm.model.wasi import U64
    return (g.open("file"), g.out(U64)), None


def _path(g: Guest, text: str) -> tuple[int, int]:
    return g.data(text.encode())


@setup("path_create_directory")
def _path_create_directory(g, delta):
    return (3, *_path(g, "newdir")), None


@setup("path_filestat_get")
def _path_filestat_get(g, delta):
    from vwasm.model.wasi import FILESTAT
    return (3, 0, *_path(g, "file"), g.out(FILESTAT)), None


@setup("path_filestat_set_times")
def _path_filestat_set_times(g, delta):
    from vwasm.model.wasi import Fstflags
    return (3, 0, *_path(g, "file"), 10**9, 2 * 10**9, Fstflags.ATIM | Fstflags.MTIM), None


@setup("path_link")
def _path_link(g, delta):
    return (3, 0, *_path(g, "file"), 3, *_path(g, "file2")), None


@setup("path_open")
def _path_open(g, delta):
    from vwasm.model.wasi import ALL_RIGHTS, U32
    return (3, 0, *_path(g, "file"), 0, ALL_RIGHTS, ALL_RIGHTS, 0, g.out(U32)), None


@setup("path_readlink", varies=True)
def _path_readlink(g, delta):
    from vwasm.model.wasi import U32
    text = LINK_TEXT.encode()
    buf_len = len(text) + delta
    buf, used = g.alloc(buf_len), g.out(U32)

    def check(g: Guest, outcome) -> None:
        # The text, cut to the buffer (wasmtime).
        n = g.u32(used)
        got = g.get(buf, n)
        _expect(outcome == 0 and got == text[:buf_len],
                f"path_readlink into {buf_len} bytes: {outcome}, {got!r} (the text is {text!r})")
    return (3, *_path(g, "link"), buf, buf_len, used), check


@setup("path_remove_directory")
def _path_remove_directory(g, delta):
    return (3, *_path(g, "empty")), None


@setup("path_rename")
def _path_rename(g, delta):
    return (3, *_path(g, "file"), 3, *_path(g, "moved")), None


@setup("path_symlink")
def _path_symlink(g, delta):
    return (*_path(g, "file"), 3, *_path(g, "link2")), None


@setup("path_unlink_file")
def _path_unlink_file(g, delta):
    return (3, *_path(g, "file")), None


@setup("poll_oneoff")
def _poll_oneoff(g, delta):
    from vwasm.model.wasi import (
        EVENT, SUBSCRIPTION, SUBSCRIPTION_CLOCK, SUBSCRIPTION_FD, SUBSCRIPTION_UNION_OFFSET, U32, Clockid,
        Eventtype,
    )
    fd = g.open("file")
    subs, events, count = g.out(SUBSCRIPTION, 2), g.out(EVENT, 2), g.out(U32)
    g.put(subs, SUBSCRIPTION.codec.pack(7, Eventtype.CLOCK))
    g.put(subs + SUBSCRIPTION_UNION_OFFSET, SUBSCRIPTION_CLOCK.codec.pack(Clockid.MONOTONIC, 0, 0, 0))
    g.put(subs + SUBSCRIPTION.size, SUBSCRIPTION.codec.pack(8, Eventtype.FD_READ))
    g.put(subs + SUBSCRIPTION.size + SUBSCRIPTION_UNION_OFFSET, SUBSCRIPTION_FD.codec.pack(fd))

    def check(g: Guest, outcome) -> None:
        _expect(outcome == 0 and g.u32(count) == 2, f"poll_oneoff on a due clock and a file: {outcome}, "
                                                    f"{g.u32(count)} events")
    return (subs, events, 2, count), check


@setup("proc_exit", expect=EXIT)
def _proc_exit(g, delta):
    return (0,), None


@setup("proc_raise", expect=58)  # ENOTSUP: signals are not part of the sandbox
def _proc_raise(g, delta):
    return (0,), None


@setup("sched_yield")
def _sched_yield(g, delta):
    return (), None


@setup("random_get", varies=True)
def _random_get(g, delta):
    n = 16 + delta
    return (g.alloc(n), n), None


@setup("socket", net=True)
def _socket(g, delta):
    from vwasm.model.wasi import U32, AddressFamily, SocketType
    return (AddressFamily.INET, SocketType.STREAM, 0, g.out(U32)), None


@setup("sock_connect", net=True)
def _sock_connect(g, delta):
    from vwasm.model.wasi import SOCKADDR_IN, U32, AddressFamily, SocketType
    at = g.out(U32)
    g.must("socket", AddressFamily.INET, SocketType.STREAM, 0, at)
    addr = SOCKADDR_IN.codec.pack(AddressFamily.INET, g.server_port.to_bytes(2, "big"), bytes([127, 0, 0, 1]))
    return (g.u32(at), *g.data(addr)), None


@setup("sock_accept", net=True)
def _sock_accept(g, delta):
    from vwasm.model.wasi import U32
    port = pysocket.socket(fileno=g.cx.fds.get(4).handle)
    try:
        g.sockets.append(pysocket.create_connection(("127.0.0.1", port.getsockname()[1])))
    finally:
        port.detach()
    return (4, 0, g.out(U32)), None


@setup("sock_recv", net=True, varies=True)
def _sock_recv(g, delta):
    from vwasm.model.wasi import U16, U32
    fd, client = g.connection()
    client.sendall(SOCK_DATA)
    handle = g.cx.fds.get(fd).handle
    deadline = time.monotonic() + 5
    while not select.select([handle], [], [], 0.05)[0] and time.monotonic() < deadline:
        pass
    iov, n = g.iovecs([4, len(SOCK_DATA) - 4 + delta])
    count = g.out(U32)
    return (fd, iov, n, 0, count, g.out(U16)), _read_check("sock_recv", SOCK_DATA, iov, n, count)


@setup("sock_send", net=True)
def _sock_send(g, delta):
    from vwasm.model.wasi import U32
    fd, _ = g.connection()
    iov, n = g.iovecs([b"he", b"llo"])
    return (fd, iov, n, 0, g.out(U32)), None


@setup("sock_shutdown", net=True)
def _sock_shutdown(g, delta):
    from vwasm.model.wasi import Sdflags
    return (g.connection()[0], Sdflags.WR), None


def _hosts(s: Setup) -> tuple[str, ...]:
    return ("posix",) if s.net else ("posix", "model")


def _check_tables() -> None:
    from vwasm.model.pointers import POINTERS
    from vwasm.model.wasi import SIGNATURES
    if SETUPS.keys() != SIGNATURES.keys():
        raise Counterexample(f"calls without a setup: {sorted(SIGNATURES.keys() - SETUPS.keys())}")
    assert POINTERS.keys() == SIGNATURES.keys()


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
    from vwasm.model.pointers import POINTERS
    from vwasm.model.wasi import IOVEC
    out = []
    for p in POINTERS[name]:
        n = _count(g, p, args)
        ptr = args[p.arg]
        out.append(Region(ptr, n * p.layout.size, p.layout.align, p.access, f"arg {p.arg} ({p.layout.name} x {n})",
                          p.arg, p.length, p.layout.size))
        if p.through is not None:
            for i in range(n):
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


# --- obligation 1: check before effect -------------------------------------------------------------
def _faults(r: Region) -> list[tuple[str, Optional[int], Optional[int], Optional[str]]]:
    """(fault, new pointer, new length, content) for one region; content "keep" moves the valid bytes
    along (a call that read them would succeed), "garbage" puts other bytes in their place."""
    from vwasm.model.pointers import IN
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


def _apply(g: Guest, args: list, r: Region, ptr, length, content, valid: bytes) -> list:
    from vwasm.model.wasi import IOVEC
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


def check_before_effect_of(name: str, host: str) -> int:
    """All fault cases of one call over one host; returns how many ran."""
    s = SETUPS[name]
    g = Guest(host, net=s.net)
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
                after = g.state()
                for what, x, y in zip(("descriptor table", "tree", "host descriptors", "stdout"), before, after):
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
    probe = Guest("posix" if s.net else "model", net=s.net)
    try:
        n = len(regions(probe, name, s.make(probe, 0)[0]))
    finally:
        probe.close()
    runs = 0
    for k in range(n):
        for i in range(2):
            g = Guest(host, net=s.net)
            try:
                args, _ = s.make(g, 0)
                r = regions(g, name, args)[k]
                placed = _placements(r)
                if i >= len(placed):
                    break
                where, ptr = placed[i]
                moved = _apply(g, args, r, ptr, None, "keep", bytes(g.mem))
                got = g.call(name, *moved)
                if got != s.expect:
                    raise Counterexample(f"{name} over {host}, {r.label} {where} ({ptr:#x}): answered {got}, "
                                         f"expected {s.expect}")
                runs += 1
            finally:
                g.close()
    return runs


N_FAULT_CASES = 700  # at least this many (call, region, fault) cases over the two hosts
N_MOVED = 100  # and this many valid calls with a region at another legal place


@obligation("memory.check_before_effect", family=HOST, tool="enumeration", guarantee="1 memory isolation",
            bound="every call x every pointer and iovec buffer (model/pointers.py) x {past the end, wrapping, "
                  "straddling (2 contents), overhanging by one unit, one element more, misaligned, length overflow} traps, over PosixHost and ModelHost; each "
                  "region flush with the end and least aligned works",
            budget=45)
def check_before_effect() -> Outcome:
    """Every pointer argument of every call (the table `model/pointers.py`, tied to the signature
    table) and every buffer its iovec arrays name, placed past the end of memory, wrapping past 2^32,
    straddling the end (its valid bytes kept, or other bytes in their place), misaligned, or with a
    length whose 32-bit product overflows, makes the call trap with nothing done: no host call but a
    pure query, no byte of guest memory changed, the descriptor table, the tree (contents and
    times), the process's open descriptors and stdout as they were; the same call unfaulted
    succeeds, as it does with each region flush with the end of memory or aligned only as its
    layout asks."""
    from vwasm.model.pointers import POINTERS
    t0 = time.perf_counter()
    _check_tables()
    cases = {host: 0 for host in ("posix", "model")}
    moved = 0
    for name, s in SETUPS.items():
        for host in _hosts(s):
            cases[host] += check_before_effect_of(name, host)
    # Where a region lies is the handler's business, not the host's: the model's host suffices.
    for name, s in SETUPS.items():
        moved += moved_regions_of(name, _hosts(s)[-1])
    total = sum(cases.values())
    if total < N_FAULT_CASES or moved < N_MOVED:
        raise TooLittleEvidence(f"{total} fault cases, {moved} legal placements")
    pointers = sum(len(ps) for ps in POINTERS.values())
    return Outcome(f"{len(SETUPS)} calls, {pointers} pointer arguments: {total} (call, region, fault) cases trap "
                   f"with no effect ({cases['posix']} over PosixHost, {cases['model']} over ModelHost); every "
                   f"unfaulted call succeeds, and so do {moved} with one region flush with the end of memory or "
                   f"aligned only as its layout asks ({time.perf_counter() - t0:.1f} s)", status="checked")


# --- obligation 2: writes stay in the declared output ----------------------------------------------
def writes_of(name: str, host: str, canary: int, delta: int) -> None:
    from vwasm.model.pointers import OUT
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
            budget=30)
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
    for name, s in SETUPS.items():
        for host in _hosts(s):
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
