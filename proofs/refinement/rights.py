"""Rights, derived from the one table (`vwasm.model.rights.REQUIRES`).

For every call × every right it needs × every descriptor argument, in one or more scenarios (kinds of
descriptor: file, directory, preopen, stream, socket; for path calls the preopen and a directory
opened beneath it; for two-directory calls both ways round), a world is set up where the call
succeeds, then:

  - *missing*: exactly that right is dropped from that descriptor (`fd_fdstat_set_rights`, from the
    base or the inheriting rights, as the table says); the runtime over ModelHost, the runtime over
    PosixHost (a real temporary tree) and the model must all answer ENOTCAPABLE, with no effect:
    the tree (PosixHost: contents, mtime, ctime, nlink of every entry), the descriptor table (rights,
    flags, file offsets), guest memory, stdout/stderr and the network (ModelHost's sockets; on the
    real loopback the bytes waiting and pending connections) unchanged;
  - *present*: every descriptor argument holds exactly the rights the table says the call needs
    there, nothing more; all three must succeed (so a handler checking a right the table does not
    name, or the right on the wrong argument, fails here).

Read-only preopen (`Config.preopen_dir(..., read_only=True)`, the model's `Preopen(readonly=True)`):
every call that can change the tree is tried on it directly, through a directory and a file opened
beneath it (asking for every right), and, for renames and links, with a writable preopen on the
other side in both directions; all three worlds must refuse with ENOTCAPABLE and leave the tree
unchanged. And what it still allows (reading, listing, stat, readlink, offsets, flushing, from it
and from a directory beneath it) must succeed, the tree unchanged. Sockets: a granted listener and
a connection to it, on the real loopback (PosixHost) and ModelHost's abstract one.

Every table row must be reached by at least one scenario (a new row without one fails the
obligation). The table itself is checked against the witx, transcribed apart from it: the rights
named after a call ("the right to invoke `fd_advise`" is FD_ADVISE; `path_rename`'s source/target
rights on its old/new directory) and the other sentences (`WITX_SENTENCES`: FD_READ covers
`sock_recv`, O_CREAT needs PATH_CREATE_FILE, ...) -- so a wrong row, on which model and runtime
would agree, fails too. And the rights each kind of descriptor may carry (DIR_RIGHTS, FILE_RIGHTS,
SOCKET_RIGHTS: the most path_open, socket and accept grant; STDIN_RIGHTS, STDOUT_RIGHTS) must be exactly the rights the
succeeding cases used on that kind -- no right a descriptor could hold that no call honours there.
"""
from __future__ import annotations

import os
import select
import shutil
import socket as pysocket
import struct
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

from proofs.core import STATEFUL, Counterexample, Outcome, TooLittleEvidence, obligation

MEM = 1 << 15
OUT, STAT, IOV, SUB, EVT, ADDR, PATH1, PATH2, BUF = 0, 256, 512, 1024, 2048, 3072, 4096, 6144, 8192
STDIN = b"input on stdin"
BOX, RO, LISTENER = 3, 4, 5  # descriptor numbers: the writable preopen, the read-only one, a listener
ATIM, MTIM, FST = 4 * 10**9, 5 * 10**9, 1 | 4  # times to set, and fst_flags ATIM | MTIM
TREE = {"f": b"hello world", "e": None, "l": "f"}  # file, empty directory, symlink; `d` holds the same


def _make_tree(root: str) -> None:
    for top in ("box", "ro"):
        for base in (os.path.join(root, top), os.path.join(root, top, "d")):
            os.makedirs(base)
            for name, what in TREE.items():
                p = os.path.join(base, name)
                if what is None:
                    os.mkdir(p)
                elif isinstance(what, bytes):
                    with open(p, "wb") as fh:
                        fh.write(what)
                else:
                    os.symlink(what, p)
    with open(os.path.join(root, "secret"), "wb") as fh:
        fh.write(b"outside")


def _real_tree(root: str) -> dict:
    """Every entry below root: type, contents, mtime, ctime, nlink (ctime catches any metadata change)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if os.path.islink(p):
                what = ("symlink", os.readlink(p))
            elif os.path.isdir(p):
                what = ("dir",)
            else:
                with open(p, "rb") as fh:
                    what = ("file", fh.read())
            out[os.path.relpath(p, root)] = (what, st.st_mtime_ns, st.st_ctime_ns, st.st_nlink)
    return out


class _World:
    """One runtime: handlers called directly over a host, with a plain buffer as guest memory."""

    def __init__(self, host, root: str, listen: int | None) -> None:
        from vwasm.context import Context
        from vwasm.memory import GuestMemory
        from vwasm.sandbox import Config, descriptor_table
        cfg = Config()
        cfg.preopen_dir(os.path.join(root, "box"), "/box")
        cfg.preopen_dir(os.path.join(root, "ro"), "/ro", read_only=True)
        if listen is not None:  # a granted listener on 127.0.0.1:listen (0: any free port)
            cfg.tcp_listen("127.0.0.1", listen)
        self.out = {"stdout": [], "stderr": []}
        cfg.stdin_bytes(STDIN)
        cfg.stdout_custom(self.out["stdout"].append)
        cfg.stderr_custom(self.out["stderr"].append)
        self.host = host
        self.cx = Context(host, descriptor_table(cfg, host), [], [])
        self.cx.mem = GuestMemory.over(bytearray(MEM))

    def call(self, name: str, *args) -> int:
        from vwasm import syscalls
        from vwasm.model.wasi import WasiError
        try:
            return int(syscalls.HANDLERS[name](self.cx, *args))
        except WasiError as e:
            return int(e.errno)
        except Exception as e:  # noqa: BLE001 - any other exception is a bug (§1.5)
            raise Counterexample(f"{name}{args} raised {type(e).__name__}: {e}") from None

    def put(self, at: int, raw: bytes) -> None:
        self.cx.mem.view[at:at + len(raw)] = raw

    def u32(self, at: int) -> int:
        return int.from_bytes(self.cx.mem.view[at:at + 4], "little")

    def table(self) -> dict:
        """fd -> (kind, rights, flags, file offset)."""
        from vwasm.fdtable import FILE
        out = {}
        for fd, d in self.cx.fds.items():
            offset = self.host.seek(d.handle, 0, 1) if d.kind == FILE else None
            out[fd] = (d.kind, int(d.rights_base), int(d.rights_inheriting), int(d.fdflags), offset)
        return out

    def sockets(self) -> dict:
        """fd -> what the network holds for each socket: ModelHost's state of the socket and its
        peer; on the real loopback, the bytes waiting (peeked) and whether a connection is pending."""
        from vwasm.fdtable import SOCKET
        out = {}
        for fd, d in self.cx.fds.items():
            if d.kind != SOCKET:
                continue
            h = d.handle
            if hasattr(h, "rx"):  # ModelHost's _Sock
                peer = h.peer
                out[fd] = (h.state, h.shut_rd, h.shut_wr, h.fin, h.reset, repr(h.rx), len(h.pending),
                           None if peer is None else (repr(peer.rx), peer.fin, peer.shut_wr, peer.reset))
            else:
                s = pysocket.socket(fileno=h)
                try:
                    try:
                        waiting = s.recv(4096, pysocket.MSG_PEEK | pysocket.MSG_DONTWAIT)
                    except OSError as e:
                        waiting = e.errno
                    out[fd] = (waiting, bool(select.select([s], [], [], 0)[0]))
                finally:
                    s.detach()
        return out

    def snapshot(self) -> tuple:
        written = (b"".join(self.out["stdout"]), b"".join(self.out["stderr"]))
        return self.table(), bytes(self.cx.mem.view), written, self.sockets()

    def close(self) -> None:
        for _fd, d in self.cx.fds.items():
            try:
                self.host.close(d.handle)
            except Exception:  # noqa: BLE001
                pass


class Trio:
    """The model and the runtime over ModelHost and over PosixHost, on the same tree: preopens /box
    (fd 3) and /ro (fd 4, read-only). With `net`: a granted loopback listener (fd 5) on the same
    port in both hosts (the real loopback, ModelHost's abstract one), and a netlist allowing it."""

    def __init__(self, net: bool = False) -> None:
        from vwasm.model import net as mnet
        from vwasm.model import sandbox as sb
        from vwasm.model.fs import FileSystem
        from vwasm.model.wasi import AddressFamily, SocketType
        from vwasm.model_host import ModelHost
        from vwasm.posix_host import PosixHost
        self.sb = sb
        self.armed, self.before = False, None
        self.root = tempfile.mkdtemp(prefix="vwasm-rights-")
        _make_tree(self.root)
        fs = FileSystem.from_host(self.root)
        from vwasm.model.fs import ROOT
        box, ro = fs.lookup(ROOT, "box"), fs.lookup(ROOT, "ro")
        self.worlds = [_World(PosixHost(), self.root, 0 if net else None)]
        self.port = _port(self.worlds[0].cx.fds.get(LISTENER).handle) if net else None
        self.mhost = ModelHost(fs, {os.path.join(self.root, "box"): box, os.path.join(self.root, "ro"): ro})
        self.worlds.insert(0, _World(self.mhost, self.root, self.port))
        netlist, listeners = (), ()
        if net:
            rule = mnet.parse_rule(f"tcp:127.0.0.1:{self.port}")
            netlist, listeners = (rule,), ((AddressFamily.INET, SocketType.STREAM),)
            for w in self.worlds:
                w.cx.netlist = netlist
        self.s = sb.initial_state(fs, (sb.Preopen("/box", box), sb.Preopen("/ro", ro, readonly=True)),
                                  netlist=netlist, stdin=STDIN, listeners=listeners)

    # --- one call in every world ----------------------------------------------------------------
    def step(self, name: str, model: Callable, *args) -> int:
        """Run `name` in the runtimes (("path", text) arguments are written to guest memory) and
        `model(state)` in the model; all must give the same errno, which is returned."""
        from vwasm.model.wasi import Errno
        calls = []
        for w in self.worlds:
            real, at = [], [PATH1, PATH2]
            for a in args:
                if isinstance(a, tuple) and a[0] == "path":
                    raw = a[1].encode()
                    p = at.pop(0)
                    w.put(p, raw)
                    real += [p, len(raw)]
                else:
                    real.append(a)
            calls.append((w, real))
        if self.armed:  # the call under test: what it must not change is taken now
            self.armed, self.before = False, self.snapshot()
        errs = [w.call(name, *real) for w, real in calls]
        self.s, err, _ = model(self.s)
        errs.insert(0, int(err))
        if len(set(errs)) != 1:
            who = ["model", "ModelHost", "PosixHost"]
            raise Counterexample(f"{name}{args}: " + ", ".join(
                f"{w} {Errno(e).name}" for w, e in zip(who, errs)))
        return errs[0]

    def ok(self, name: str, model: Callable, *args) -> None:
        """A set-up step: it must succeed everywhere."""
        from vwasm.model.wasi import Errno
        err = self.step(name, model, *args)
        if err != 0:
            raise Counterexample(f"set-up step {name}{args} failed everywhere: {Errno(err).name}")

    def new_fd(self) -> int:
        """The descriptor number the last successful open wrote at OUT (the same in every world)."""
        fds = {w.u32(OUT) for w in self.worlds}
        if len(fds) != 1:
            raise Counterexample(f"new descriptor numbers differ: {fds}")
        return fds.pop()

    def put(self, at: int, raw: bytes) -> None:
        for w in self.worlds:
            w.put(at, raw)

    def iov(self, data: bytes) -> None:
        """One iovec at IOV over `data` at BUF."""
        self.put(BUF, data)
        self.put(IOV, struct.pack("<II", BUF, len(data)))

    # --- set-up helpers ---------------------------------------------------------------------------
    def open(self, dirfd: int, path: str, oflags: int = 0, base: int = (1 << 30) - 1) -> int:
        """Open `path` asking for every right (they are cut to what dirfd passes on)."""
        from vwasm.model.wasi import ALL_RIGHTS
        self.ok("path_open", lambda s: self.sb.path_open(s, dirfd, 0, path, oflags, base, ALL_RIGHTS, 0),
                dirfd, 0, ("path", path), oflags, base, ALL_RIGHTS, 0, OUT)
        return self.new_fd()

    def opendir(self, dirfd: int, path: str) -> int:
        """A directory: every right but FD_WRITE (a directory opened for writing is EISDIR)."""
        from vwasm.model.wasi import ALL_RIGHTS, Oflags, Rights
        return self.open(dirfd, path, Oflags.DIRECTORY, ALL_RIGHTS & ~Rights.FD_WRITE)

    def rights(self, fd: int) -> tuple[int, int]:
        d = self.s.fds.get(fd)
        return d.rights_base, d.rights_inheriting

    def set_rights(self, fd: int, base: int, inheriting: int) -> None:
        self.ok("fd_fdstat_set_rights", lambda s: self.sb.fd_fdstat_set_rights(s, fd, base, inheriting),
                fd, base, inheriting)

    # --- sockets (net worlds only) ----------------------------------------------------------------
    def connect(self) -> int:
        """A client socket connected to the listener (not yet accepted)."""
        from vwasm.model.wasi import AddressFamily, SocketType
        self.ok("socket", lambda s: self.sb.socket(s, AddressFamily.INET, SocketType.STREAM, 0),
                AddressFamily.INET, SocketType.STREAM, 0, OUT)
        fd = self.new_fd()
        self.put(ADDR, struct.pack("<H", AddressFamily.INET) + self.port.to_bytes(2, "big") + bytes([127, 0, 0, 1])
                 + bytes(8))
        self.ok("sock_connect", lambda s: self.sb.sock_connect(s, fd, AddressFamily.INET, 0x7F00_0001, self.port),
                fd, ADDR, 16)
        return fd

    def accept(self) -> int:
        self.ok("sock_accept", lambda s: self.sb.sock_accept(s, LISTENER, 0, (0x7F00_0001, 1)), LISTENER, 0, OUT)
        return self.new_fd()

    # --- observing --------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Everything a refused call must leave as it was, in every world."""
        out = {"the real tree": _real_tree(self.root), "ModelHost's tree": self.mhost.fs,
               "the model's state": (self.s.fs, self.s.fds, self.s.sockets, self.s.stdout, self.s.stderr,
                                     self.s.stdin)}
        for host, w in zip(("ModelHost", "PosixHost"), self.worlds):
            for part, value in zip(("descriptor table", "guest memory", "output", "network"), w.snapshot()):
                out[f"the runtime's {part} over {host}"] = value
        return out

    def trees_agree(self, what: str) -> None:
        """The three worlds hold the same tree, and the same descriptors (kind, rights, flags, offset)."""
        from vwasm.model.fs import ROOT, FileSystem
        real = FileSystem.from_host(self.root).snapshot()
        host = self.mhost.fs.snapshot(ROOT)
        if not (self.s.fs.snapshot(ROOT) == host == real):
            raise Counterexample(f"{what}: trees differ: model {self.s.fs.snapshot(ROOT)}, ModelHost {host}, "
                                 f"real {real}")
        model = {fd: ("dir" if d.is_dir else "file" if d.is_file else "socket" if d.is_socket else d.stream,
                      d.rights_base, d.rights_inheriting, d.flags, d.offset if d.is_file else None)
                 for fd, d in self.s.fds.entries}
        tables = [w.table() for w in self.worlds]
        if not all(tb == model for tb in tables):
            raise Counterexample(f"{what}: descriptor tables differ: model {model}, runtime over ModelHost "
                                 f"{tables[0]}, over PosixHost {tables[1]}")

    def close(self) -> None:
        for w in self.worlds:
            w.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _port(handle) -> int:
    s = pysocket.socket(fileno=os.dup(handle))
    try:
        return s.getsockname()[1]
    finally:
        s.close()


# --- scenarios: a call that succeeds, with its descriptor arguments -------------------------------
@dataclass(frozen=True)
class Scenario:
    call: str
    kind: str  # what the descriptor arguments are, for the report
    setup: Callable  # Trio -> {descriptor argument: fd}
    run: Callable  # (Trio, fds) -> errno
    conditions: tuple[str, ...] = ()
    net: bool = False
    # The same call with an argument it would fail on only after the rights are checked (a missing
    # path, an offset past i64, ...): without the right it must still be ENOTCAPABLE.
    late: tuple[Callable, ...] = ()
    # ... and with one that does not even decode (a flag bit the witx does not define, an enum value
    # out of range): refused before the rights are looked at, the same way in every world.
    early: tuple[Callable, ...] = ()


def _scenarios() -> list[Scenario]:
    from vwasm.model.rights import FD, NEW_FD, OLD_FD, SUBSCRIBED
    from vwasm.model.sandbox import Subscription
    from vwasm.model.wasi import Eventtype, Fdflags, Oflags
    out: list[Scenario] = []

    def add(call, kind, setup, run, conditions=(), net=False, late=(), early=()):
        def many(x):
            return x if isinstance(x, tuple) else (x,)
        out.append(Scenario(call, kind, setup, run, tuple(conditions), net, many(late), many(early)))

    def file(t):
        return {FD: t.open(BOX, "f")}

    def subdir(t):
        return {FD: t.opendir(BOX, "d")}

    dirs = (("preopen", lambda t: {FD: BOX}), ("subdirectory", subdir))

    # --- descriptors -----------------------------------------------------------------------------
    def advise(t, f, advice=1):
        return t.step("fd_advise", lambda s: t.sb.fd_advise(s, f[FD], 0, 4, advice), f[FD], 0, 4, advice)
    add("fd_advise", "file", file, advise, early=lambda t, f: advise(t, f, 9))
    def allocate(t, f, length=40):
        return t.step("fd_allocate", lambda s: t.sb.fd_allocate(s, f[FD], 0, length), f[FD], 0, length)
    add("fd_allocate", "file", file, allocate, late=lambda t, f: allocate(t, f, 0))  # an empty range: EINVAL
    for call in ("fd_datasync", "fd_sync"):
        add(call, "file", file, lambda t, f, call=call: t.step(
            call, lambda s: getattr(t.sb, call)(s, f[FD]), f[FD]))
    def set_flags(t, f, flags=Fdflags.APPEND):
        return t.step("fd_fdstat_set_flags", lambda s: t.sb.fd_fdstat_set_flags(s, f[FD], flags), f[FD], flags)
    add("fd_fdstat_set_flags", "file", file, set_flags,
        late=lambda t, f: set_flags(t, f, Fdflags.SYNC))  # SYNC cannot be set after opening: EINVAL
    for kind, setup in (("file", file), ("directory", subdir)):
        add("fd_filestat_get", kind, setup, lambda t, f: t.step(
            "fd_filestat_get", lambda s: t.sb.fd_filestat_get(s, f[FD]), f[FD], STAT))
        def futimes(t, f, fst=FST):
            return t.step("fd_filestat_set_times", lambda s: t.sb.fd_filestat_set_times(s, f[FD], ATIM, MTIM, fst),
                          f[FD], ATIM, MTIM, fst)
        add("fd_filestat_set_times", kind, setup, futimes,
            early=(lambda t, f: futimes(t, f, 0x10), lambda t, f: futimes(t, f, 1 | 2)))  # ATIM with ATIM_NOW
    def set_size(t, f, size=3):
        return t.step("fd_filestat_set_size", lambda s: t.sb.fd_filestat_set_size(s, f[FD], size), f[FD], size)
    add("fd_filestat_set_size", "file", file, set_size, late=lambda t, f: set_size(t, f, 1 << 63))  # past i64

    def pread(t, f, at=2):
        t.iov(bytes(4))
        return t.step("fd_pread", lambda s: t.sb.fd_pread(s, f[FD], (4,), at), f[FD], IOV, 1, at, OUT)

    def pwrite(t, f, at=2):
        t.iov(b"XY")
        return t.step("fd_pwrite", lambda s: t.sb.fd_pwrite(s, f[FD], (b"XY",), at), f[FD], IOV, 1, at, OUT)
    add("fd_pread", "file", file, pread, late=lambda t, f: pread(t, f, 1 << 63))
    add("fd_pwrite", "file", file, pwrite, late=lambda t, f: pwrite(t, f, 1 << 63))

    def read(t, f, incoming=b""):
        t.iov(bytes(4))
        return t.step("fd_read", lambda s: t.sb.fd_read(s, f[FD], (4,), incoming), f[FD], IOV, 1, OUT)

    def write(t, f):
        t.iov(b"XY")
        return t.step("fd_write", lambda s: t.sb.fd_write(s, f[FD], (b"XY",)), f[FD], IOV, 1, OUT)
    add("fd_read", "file", file, read)
    add("fd_read", "stdin", lambda t: {FD: 0}, read)
    add("fd_write", "file", file, write)
    add("fd_write", "stdout", lambda t: {FD: 1}, write)
    add("fd_write", "stderr", lambda t: {FD: 2}, write)
    add("fd_readdir", "directory", subdir, lambda t, f: t.step(
        "fd_readdir", lambda s: t.sb.fd_readdir(s, f[FD], 0), f[FD], BUF, 1024, 0, OUT))
    # Every seek but (0, CUR) moves: by an offset, or to a place given by whence alone.
    def seek(t, f, offset, whence):
        raw = offset % (1 << 64)  # the guest passes an i64 as its u64 bits
        return t.step("fd_seek", lambda s: t.sb.fd_seek(s, f[FD], offset, whence), f[FD], raw, whence, OUT)
    for offset, whence in ((5, 0), (0, 0), (3, 1), (0, 2)):
        add("fd_seek", "file", file, lambda t, f, offset=offset, whence=whence: seek(t, f, offset, whence),
            conditions=("moves",), late=lambda t, f: seek(t, f, -100, 0),  # before the start: EINVAL
            early=lambda t, f: seek(t, f, 5, 3))  # no such whence
    add("fd_seek", "file", file, lambda t, f: t.step(
        "fd_seek", lambda s: t.sb.fd_seek(s, f[FD], 0, 1), f[FD], 0, 1, OUT), conditions=("query",))
    add("fd_tell", "file", file, lambda t, f: t.step("fd_tell", lambda s: t.sb.fd_tell(s, f[FD]), f[FD], OUT))

    # --- paths, from the preopen and from a directory opened beneath it ---------------------------
    # Each call as (call, run(t, fds, path)), tried on a path that works and, late, on one beneath a
    # directory that does not exist (ENOENT once the rights allow the walk).
    def mkdir(t, f, p="n"):
        return t.step("path_create_directory", lambda s: t.sb.path_create_directory(s, f[FD], p), f[FD], ("path", p))

    def stat(t, f, p="l", lookup=1):
        return t.step("path_filestat_get", lambda s: t.sb.path_filestat_get(s, f[FD], lookup, p), f[FD], lookup,
                      ("path", p), STAT)

    def utimes(t, f, p="f", fst=FST):
        return t.step("path_filestat_set_times",
                      lambda s: t.sb.path_filestat_set_times(s, f[FD], 0, p, ATIM, MTIM, fst),
                      f[FD], 0, ("path", p), ATIM, MTIM, fst)

    def readlink(t, f, p="l"):
        return t.step("path_readlink", lambda s: t.sb.path_readlink(s, f[FD], p, 64), f[FD], ("path", p), BUF, 64, OUT)

    def rmdir(t, f, p="e"):
        return t.step("path_remove_directory", lambda s: t.sb.path_remove_directory(s, f[FD], p), f[FD], ("path", p))

    def symlink(t, f, p="n"):
        return t.step("path_symlink", lambda s: t.sb.path_symlink(s, "f", f[FD], p), ("path", "f"), f[FD],
                      ("path", p))

    def unlink(t, f, p="f"):
        return t.step("path_unlink_file", lambda s: t.sb.path_unlink_file(s, f[FD], p), f[FD], ("path", p))

    def missing(run):
        return lambda t, f: run(t, f, "nothere/x")
    for kind, setup in dirs:
        for call, run in (("path_create_directory", mkdir), ("path_filestat_get", stat),
                          ("path_filestat_set_times", utimes), ("path_readlink", readlink),
                          ("path_remove_directory", rmdir), ("path_symlink", symlink), ("path_unlink_file", unlink)):
            early = {"path_filestat_get": lambda t, f: stat(t, f, lookup=2),
                     "path_filestat_set_times": lambda t, f: utimes(t, f, fst=4 | 8)}.get(call, ())
            add(call, kind, setup, run, late=missing(run), early=early)
        for cond, oflags, fdflags in (((), 0, 0), (("creat",), Oflags.CREAT, 0), (("trunc",), Oflags.TRUNC, 0),
                                      (("creat", "trunc"), Oflags.CREAT | Oflags.TRUNC, 0),
                                      (("dsync",), 0, Fdflags.DSYNC), (("sync",), 0, Fdflags.SYNC),
                                      (("sync",), 0, Fdflags.RSYNC)):
            def open_(t, f, p="n" if oflags == Oflags.CREAT else "f", oflags=oflags, fdflags=fdflags):
                return t.step("path_open", lambda s: t.sb.path_open(s, f[FD], 0, p, oflags, 0, 0, fdflags),
                              f[FD], 0, ("path", p), oflags, 0, 0, fdflags, OUT)
            # Later: a missing directory on the way; a directory cannot be created or truncated (EINVAL).
            late = (missing(open_), lambda t, f, o=open_, oflags=oflags: o(t, f, oflags=oflags | Oflags.DIRECTORY)) \
                if oflags else (missing(open_),)
            add("path_open", kind, setup, open_, conditions=cond, late=late,
                early=lambda t, f, o=open_: o(t, f, oflags=0x10))

    # Two directory arguments: the preopen and a directory beneath it, either way round.
    def rename(t, f, p="f"):
        return t.step("path_rename", lambda s: t.sb.path_rename(s, f[FD], p, f[NEW_FD], "n"),
                      f[FD], ("path", p), f[NEW_FD], ("path", "n"))

    def link(t, f, p="f", lookup=0):
        return t.step("path_link", lambda s: t.sb.path_link(s, f[OLD_FD], lookup, p, f[NEW_FD], "n"),
                      f[OLD_FD], lookup, ("path", p), f[NEW_FD], ("path", "n"))
    for kind, old, new in (("preopen -> subdirectory", BOX, None), ("subdirectory -> preopen", None, BOX)):
        def two(t, old=old, new=new):
            d = t.opendir(BOX, "d")
            return {FD: old or d, OLD_FD: old or d, NEW_FD: new or d}
        add("path_rename", kind, two, rename, late=missing(rename))
        add("path_link", kind, two, link, late=(missing(link), lambda t, f: link(t, f, lookup=1)),  # follow: EINVAL
            early=lambda t, f: link(t, f, lookup=2))

    # --- poll -------------------------------------------------------------------------------------
    def poll(t, f, tag, ready=()):
        """Subscriptions on f["first"] (if any, holding every right) then on the descriptor under test:
        every subscription is checked, not only the first."""
        fds = [fd for fd in (f.get("first"), f[SUBSCRIBED]) if fd is not None]
        raw = b"".join(struct.pack("<QB7x", 7 + i, tag) + struct.pack("<I", fd) + bytes(28) for i, fd in enumerate(fds))
        t.put(SUB, raw)
        subs = tuple(Subscription(7 + i, tag, fd=fd) for i, fd in enumerate(fds))
        return t.step("poll_oneoff", lambda s: t.sb.poll_oneoff(s, subs, ready), SUB, EVT, len(subs), OUT)

    # The standard streams: stdin waits for reading, stdout for writing.
    add("poll_oneoff", "stdin", lambda t: {SUBSCRIBED: 0}, lambda t, f: poll(t, f, Eventtype.FD_READ, (0,)),
        conditions=("read",))
    add("poll_oneoff", "stdout", lambda t: {SUBSCRIBED: 1}, lambda t, f: poll(t, f, Eventtype.FD_WRITE, (0,)),
        conditions=("write",))

    def two_files(t):
        first = t.open(BOX, "d/f")
        return {SUBSCRIBED: t.open(BOX, "f"), "first": first}
    for tag, cond in ((Eventtype.FD_READ, "read"), (Eventtype.FD_WRITE, "write")):
        add("poll_oneoff", "file", lambda t: {SUBSCRIBED: t.open(BOX, "f")},
            lambda t, f, tag=tag: poll(t, f, tag), conditions=(cond,))
        add("poll_oneoff", "second of two files", two_files, lambda t, f, tag=tag: poll(t, f, tag), conditions=(cond,))

    # --- sockets (runtime over PosixHost and the model) -------------------------------------------
    def connected(t):
        """(client, accepted): the client has sent b"ping", waiting on the accepted side."""
        c = t.connect()
        a = t.accept()
        t.iov(b"ping")
        t.ok("sock_send", lambda s: t.sb.sock_send(s, c, (b"ping",), 0), c, IOV, 1, 0, OUT)
        return c, a

    def client(t):
        return {FD: connected(t)[0]}

    def accepted(t):
        return {FD: connected(t)[1]}

    def pending(t):
        t.connect()
        return {FD: LISTENER}

    def accept(t, f, flags=0):
        return t.step("sock_accept", lambda s: t.sb.sock_accept(s, f[FD], flags, (0x7F00_0001, 1)), f[FD], flags, OUT)
    add("sock_accept", "listener", pending, accept, net=True,
        late=lambda t, f: accept(t, f, Fdflags.APPEND),  # only NONBLOCK may be asked for: EINVAL
        early=lambda t, f: accept(t, f, 0x20))  # not an fdflags bit

    def recv(t, f, ri=0):
        t.iov(bytes(4))
        return t.step("sock_recv", lambda s: t.sb.sock_recv(s, f[FD], (4,), ri, b"ping"), f[FD], IOV, 1, ri, OUT, STAT)

    def send(t, f, si=0):
        t.iov(b"XY")
        return t.step("sock_send", lambda s: t.sb.sock_send(s, f[FD], (b"XY",), si), f[FD], IOV, 1, si, OUT)

    def shutdown(t, f, how=2):
        return t.step("sock_shutdown", lambda s: t.sb.sock_shutdown(s, f[FD], how), f[FD], how)
    # Early: riflags, siflags (no bits at all) and sdflags bits the witx does not define.
    add("sock_recv", "connected socket", accepted, recv, net=True, early=lambda t, f: recv(t, f, 4))
    add("sock_send", "connected socket", client, send, net=True, early=lambda t, f: send(t, f, 1))
    add("sock_shutdown", "connected socket", client, shutdown, net=True, early=lambda t, f: shutdown(t, f, 4))
    add("fd_read", "connected socket", accepted, lambda t, f: read(t, f, b"ping"), net=True)
    add("fd_write", "connected socket", client, write, net=True)
    add("fd_filestat_get", "socket", client, lambda t, f: t.step(
        "fd_filestat_get", lambda s: t.sb.fd_filestat_get(s, f[FD]), f[FD], STAT), net=True)
    add("poll_oneoff", "connected socket", lambda t: {SUBSCRIBED: connected(t)[1]},
        lambda t, f: poll(t, f, Eventtype.FD_READ, (0,)), conditions=("read",), net=True)
    add("poll_oneoff", "connected socket", lambda t: {SUBSCRIBED: connected(t)[0]},
        lambda t, f: poll(t, f, Eventtype.FD_WRITE, (0,)), conditions=("write",), net=True)
    return out


def _needs(sc: Scenario):
    from vwasm.model.rights import REQUIRES
    return [n for n in REQUIRES[sc.call] if n.when is None or n.when in sc.conditions]


def _wrong_kinds(sc: Scenario, arg: str) -> int:
    """The call with descriptor argument `arg` replaced by descriptors of other kinds holding no
    rights at all: the kind is checked before the rights, so the answer is the kind's error (or,
    for a kind the call takes, ENOTCAPABLE) -- whatever it is, model and runtimes must agree."""
    t = Trio(net=sc.net)
    try:
        fds = sc.setup(t)
        others = [t.open(BOX, "d/f"), t.opendir(BOX, "e"), 0, 1] + ([LISTENER] if sc.net else [])
        n = 0
        for other in others:
            if other == fds[arg]:
                continue
            t.set_rights(other, 0, 0)
            sc.run(t, {**fds, arg: other})  # Trio.step raises on any disagreement
            n += 1
        t.trees_agree(f"{sc.call} on other kinds of descriptor")
        return n
    finally:
        t.close()


def _exactly_needed(t: Trio, sc: Scenario, fds: dict) -> None:
    """Narrow every descriptor argument to exactly the rights the table says the call needs there."""
    from vwasm.model.rights import BASE, INHERITING, need
    for arg, fd in fds.items():
        if arg == "first":  # another subscription, not the argument under test: it keeps its rights
            continue
        base = need(sc.call, arg, *sc.conditions, rights=BASE)
        inheriting = need(sc.call, arg, *sc.conditions, rights=INHERITING)
        # One descriptor may stand for two arguments (fd and old_fd): it keeps what both need.
        for other, ofd in fds.items():
            if ofd == fd:
                base |= need(sc.call, other, *sc.conditions, rights=BASE)
                inheriting |= need(sc.call, other, *sc.conditions, rights=INHERITING)
        t.set_rights(fd, base, inheriting)


def _record_use(t: Trio, sc: Scenario, fds: dict, used: dict) -> None:
    """Into `used` (descriptor kind -> rights): the base rights this succeeding case used on each kind."""
    from vwasm.model.rights import BASE, need
    table = t.worlds[0].table()
    for arg, fd in fds.items():
        if arg != "first" and fd in table:
            used[table[fd][0]] = used.get(table[fd][0], 0) | need(sc.call, arg, *sc.conditions, rights=BASE)


def _kinds_carry_what_they_use(used: dict) -> str:
    """Each kind's rights (DIR_RIGHTS, FILE_RIGHTS, SOCKET_RIGHTS: what path_open, socket and accept
    grant at most) are exactly the rights the calls use on that kind: no right a descriptor could
    hold without any call honouring it, none a call needs that the kind could never hold."""
    from vwasm.fdtable import DIR, FILE, SOCKET, STDERR, STDIN, STDOUT
    from vwasm.model.wasi import DIR_RIGHTS, FILE_RIGHTS, SOCKET_RIGHTS, STDIN_RIGHTS, STDOUT_RIGHTS
    used[STDOUT] = used.get(STDOUT, 0) | used.pop(STDERR, 0)  # one set of rights for both
    for kind, name, rights in ((DIR, "DIR_RIGHTS", DIR_RIGHTS), (FILE, "FILE_RIGHTS", FILE_RIGHTS),
                               (SOCKET, "SOCKET_RIGHTS", SOCKET_RIGHTS), (STDIN, "STDIN_RIGHTS", STDIN_RIGHTS),
                               (STDOUT, "STDOUT_RIGHTS", STDOUT_RIGHTS)):
        uses = used.get(kind, 0)
        if rights != uses:
            raise Counterexample(f"{name}: holds {_names(rights & ~uses) or 'nothing'} that no call uses on a {kind}; "
                                 f"lacks {_names(uses & ~rights) or 'nothing'} that a call needs there")
    return "DIR_RIGHTS, FILE_RIGHTS, SOCKET_RIGHTS and the streams' rights are exactly what the calls use on each kind"


def _names(bits: int) -> str:
    return ", ".join(_right_name(1 << b) for b in range(64) if bits >> b & 1)


def _case(sc: Scenario, n, present: bool, used: dict) -> int:
    """One (scenario, needed right) case; returns how many calls were checked without the right."""
    from vwasm.model.rights import BASE
    from vwasm.model.wasi import Errno
    t = Trio(net=sc.net)
    what = (f"{sc.call} on {sc.kind}{' ' + '+'.join(sc.conditions) if sc.conditions else ''}: "
            f"{_right_name(n.right)} ({n.rights}) of {n.arg}")
    try:
        fds = sc.setup(t)
        if present:
            _exactly_needed(t, sc, fds)
            err = sc.run(t, fds)
            if err != Errno.SUCCESS:
                raise Counterexample(f"{what}, holding exactly the rights the table names: "
                                     f"{Errno(err).name} everywhere, not SUCCESS")
            _record_use(t, sc, fds, used)
        else:
            base, inheriting = t.rights(fds[n.arg])
            if n.rights == BASE:
                base &= ~n.right
            else:
                inheriting &= ~n.right
            t.set_rights(fds[n.arg], base, inheriting)
            tries = ([("", sc.run, Errno.NOTCAPABLE)]
                     + [(", with an argument it fails on later", r, Errno.NOTCAPABLE) for r in sc.late]
                     + [(", with an argument that does not decode", r, None) for r in sc.early])
            for label, run, expected in tries:
                t.armed = True
                err = run(t, fds)  # the worlds agree, or Trio.step raised
                if expected is not None and err != expected:
                    raise Counterexample(f"{what} dropped{label}: {Errno(err).name} everywhere, not {expected.name}")
                after = t.snapshot()
                changed = [k for k in after if after[k] != t.before[k]]
                if err != Errno.SUCCESS and changed:
                    raise Counterexample(f"{what} dropped{label}: {Errno(err).name}, but {', '.join(changed)} changed")
        t.trees_agree(what)
    finally:
        t.close()
    return 0 if present else 1 + len(sc.late) + len(sc.early)


def _right_name(right: int) -> str:
    from vwasm.model.wasi import Rights
    return next(k for k, v in vars(Rights).items() if v == right)


# --- the read-only preopen ---------------------------------------------------------------------
def _readonly_cases() -> list[tuple[str, Callable]]:
    """(description, run(Trio) -> errno) for every call that can change the tree, aimed at /ro."""
    from vwasm.model.wasi import ALL_RIGHTS, Fstflags, Oflags
    cases = []
    T = Fstflags.ATIM | Fstflags.MTIM

    def path_calls(where, dirfd):
        """Each path call that changes the tree, from directory descriptor dirfd(t) beneath /ro."""
        def c(name, run):
            cases.append((f"{name} {where}", lambda t: run(t, dirfd(t))))
        c("path_create_directory", lambda t, d: t.step(
            "path_create_directory", lambda s: t.sb.path_create_directory(s, d, "n"), d, ("path", "n")))
        c("path_remove_directory", lambda t, d: t.step(
            "path_remove_directory", lambda s: t.sb.path_remove_directory(s, d, "e"), d, ("path", "e")))
        c("path_unlink_file", lambda t, d: t.step(
            "path_unlink_file", lambda s: t.sb.path_unlink_file(s, d, "f"), d, ("path", "f")))
        c("path_symlink", lambda t, d: t.step(
            "path_symlink", lambda s: t.sb.path_symlink(s, "f", d, "n"), ("path", "f"), d, ("path", "n")))
        c("path_filestat_set_times", lambda t, d: t.step(
            "path_filestat_set_times", lambda s: t.sb.path_filestat_set_times(s, d, 0, "f", 1, 2, T),
            d, 0, ("path", "f"), 1, 2, T))
        for oflags, path in ((Oflags.CREAT, "n"), (Oflags.TRUNC, "f"), (Oflags.CREAT | Oflags.TRUNC, "f")):
            c(f"path_open(oflags={oflags})", lambda t, d, oflags=oflags, path=path: t.step(
                "path_open", lambda s: t.sb.path_open(s, d, 0, path, oflags, ALL_RIGHTS, ALL_RIGHTS, 0),
                d, 0, ("path", path), oflags, ALL_RIGHTS, ALL_RIGHTS, 0, OUT))
        for name, other_first in (("path_rename", False), ("path_rename", True), ("path_link", False),
                                  ("path_link", True)):
            for other in ("the same directory", "the writable preopen"):
                if other_first and other == "the same directory":
                    continue
                def run(t, d, name=name, other_first=other_first, other=other):
                    o = d if other == "the same directory" else BOX
                    src, dst = (o, d) if other_first else (d, o)
                    if name == "path_rename":
                        return t.step(name, lambda s: t.sb.path_rename(s, src, "f", dst, "n"),
                                      src, ("path", "f"), dst, ("path", "n"))
                    return t.step(name, lambda s: t.sb.path_link(s, src, 0, "f", dst, "n"),
                                  src, 0, ("path", "f"), dst, ("path", "n"))
                cases.append((f"{name} {'from ' + other + ' into' if other_first else 'out of'} {where}"
                              f"{'' if other_first else ' into ' + other}", lambda t, run=run: run(t, dirfd(t))))

    path_calls("the read-only preopen", lambda t: RO)
    path_calls("a directory opened beneath it", lambda t: t.opendir(RO, "d"))

    # A file opened beneath it asking for every right gets none that writes.
    def fcase(name, run, path="f"):
        cases.append((f"{name} on a file opened beneath the read-only preopen",
                      lambda t: run(t, t.open(RO, path))))
        cases.append((f"{name} on a file opened beneath a directory opened beneath it",
                      lambda t: run(t, t.open(t.opendir(RO, "d"), path))))

    def write(t, f):
        t.iov(b"XY")
        return t.step("fd_write", lambda s: t.sb.fd_write(s, f, (b"XY",)), f, IOV, 1, OUT)

    def pwrite(t, f):
        t.iov(b"XY")
        return t.step("fd_pwrite", lambda s: t.sb.fd_pwrite(s, f, (b"XY",), 1), f, IOV, 1, 1, OUT)
    fcase("fd_write", write)
    fcase("fd_pwrite", pwrite)
    fcase("fd_filestat_set_size", lambda t, f: t.step(
        "fd_filestat_set_size", lambda s: t.sb.fd_filestat_set_size(s, f, 2), f, 2))
    fcase("fd_allocate", lambda t, f: t.step("fd_allocate", lambda s: t.sb.fd_allocate(s, f, 0, 64), f, 0, 64))
    fcase("fd_filestat_set_times", lambda t, f: t.step(
        "fd_filestat_set_times", lambda s: t.sb.fd_filestat_set_times(s, f, 1, 2, T), f, 1, 2, T))
    cases.append(("fd_filestat_set_times on the read-only preopen itself", lambda t: t.step(
        "fd_filestat_set_times", lambda s: t.sb.fd_filestat_set_times(s, RO, 1, 2, T), RO, 1, 2, T)))
    cases.append(("fd_filestat_set_times on a directory opened beneath it", lambda t: (lambda d: t.step(
        "fd_filestat_set_times", lambda s: t.sb.fd_filestat_set_times(s, d, 1, 2, T), d, 1, 2, T))(
            t.opendir(RO, "d"))))
    return cases


# Calls that can change the tree (by the witx's descriptions): each must have a read-only case.
MUTATING = ("fd_allocate", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pwrite", "fd_write",
            "path_create_directory", "path_filestat_set_times", "path_link", "path_open",
            "path_remove_directory", "path_rename", "path_symlink", "path_unlink_file")


def _readonly_allowed() -> list[tuple[str, Callable]]:
    """What a read-only preopen still lets the guest do (reading, listing, stat, links, offsets,
    flushing): each must succeed, changing nothing."""
    from vwasm.model.wasi import Fdflags, Oflags
    cases = []

    def read(t, f):
        t.iov(bytes(4))
        return t.step("fd_read", lambda s: t.sb.fd_read(s, f, (4,)), f, IOV, 1, OUT)
    for where, dirfd in (("the read-only preopen", lambda t: RO),
                         ("a directory opened beneath it", lambda t: t.opendir(RO, "d"))):
        def c(name, run, dirfd=dirfd):
            cases.append((f"{name} beneath {where}", lambda t: run(t, dirfd(t))))
        c("fd_read of a file", lambda t, d: read(t, t.open(d, "f")))
        c("fd_pread of a file", lambda t, d: (lambda f: (t.iov(bytes(4)), t.step(
            "fd_pread", lambda s: t.sb.fd_pread(s, f, (4,), 1), f, IOV, 1, 1, OUT))[1])(t.open(d, "f")))
        c("fd_seek of a file", lambda t, d: (lambda f: t.step(
            "fd_seek", lambda s: t.sb.fd_seek(s, f, 3, 0), f, 3, 0, OUT))(t.open(d, "f")))
        c("fd_tell of a file", lambda t, d: (lambda f: t.step(
            "fd_tell", lambda s: t.sb.fd_tell(s, f), f, OUT))(t.open(d, "f")))
        c("fd_sync of a file", lambda t, d: (lambda f: t.step(
            "fd_sync", lambda s: t.sb.fd_sync(s, f), f))(t.open(d, "f")))
        c("fd_filestat_get of a file", lambda t, d: (lambda f: t.step(
            "fd_filestat_get", lambda s: t.sb.fd_filestat_get(s, f), f, STAT))(t.open(d, "f")))
        c("path_open(O_DSYNC) of a file", lambda t, d: t.step(
            "path_open", lambda s: t.sb.path_open(s, d, 0, "f", 0, (1 << 30) - 1, 0, Fdflags.DSYNC),
            d, 0, ("path", "f"), 0, (1 << 30) - 1, 0, Fdflags.DSYNC, OUT))
        c("path_open(O_DIRECTORY)", lambda t, d: t.step(
            "path_open", lambda s: t.sb.path_open(s, d, 0, "e", Oflags.DIRECTORY, 0, 0, 0),
            d, 0, ("path", "e"), Oflags.DIRECTORY, 0, 0, 0, OUT))
        c("fd_readdir", lambda t, d: t.step(
            "fd_readdir", lambda s: t.sb.fd_readdir(s, d, 0), d, BUF, 1024, 0, OUT))
        c("path_filestat_get", lambda t, d: t.step(
            "path_filestat_get", lambda s: t.sb.path_filestat_get(s, d, 1, "l"), d, 1, ("path", "l"), STAT))
        c("path_readlink", lambda t, d: t.step(
            "path_readlink", lambda s: t.sb.path_readlink(s, d, "l", 64), d, ("path", "l"), BUF, 64, OUT))
    return cases


def _readonly_case(what: str, run: Callable, allowed: bool = False) -> None:
    """A refused call (ENOTCAPABLE), or with `allowed` one that succeeds; either way the tree is unchanged."""
    from vwasm.model.wasi import Errno
    t = Trio()
    try:
        before = _real_tree(t.root)
        err = run(t)
        expected = Errno.SUCCESS if allowed else Errno.NOTCAPABLE
        if err != expected:
            raise Counterexample(f"read-only preopen: {what}: {Errno(err).name} everywhere, not {expected.name}")
        if _real_tree(t.root) != before:
            raise Counterexample(f"read-only preopen: {what}: {expected.name}, but the tree changed")
        t.trees_agree(f"read-only preopen: {what}")
    finally:
        t.close()


def _witx_naming() -> int:
    """The rights named after a call ("the right to invoke `fd_advise`" is FD_ADVISE; PATH_RENAME_SOURCE
    is path_rename's on its source directory) appear in that call's row, on that argument."""
    from vwasm.model.rights import FD, NEW_FD, OLD_FD, REQUIRES
    from vwasm.model.wasi import SIGNATURES, Rights
    checked = 0
    for name, right in vars(Rights).items():
        if not name.isupper():
            continue
        call, args = name.lower(), (FD,)
        for suffix, side in (("_source", (FD, OLD_FD)), ("_target", (NEW_FD,))):
            if call.endswith(suffix):
                call, args = call[: -len(suffix)], side
        if call not in SIGNATURES:
            continue
        checked += 1
        if not any(n.right == right and n.arg in args for n in REQUIRES[call]):
            raise Counterexample(f"the table does not give {call} the right {name} on {'/'.join(args)}")
    # The witx's `rights` has 30 flags (fd_datasync ... sock_accept), each its own bit; ALL_RIGHTS,
    # which decides which rights arguments decode, is exactly their union.
    from vwasm.model.wasi import ALL_RIGHTS
    flags = [v for n, v in vars(Rights).items() if n.isupper() and type(v) is int]
    union = 0
    for v in flags:
        union |= v
    if len(flags) != WITX_RIGHTS or len({v for v in flags if v & (v - 1) == 0}) != WITX_RIGHTS or ALL_RIGHTS != union:
        raise Counterexample(f"rights: {len(flags)} flags (the witx has {WITX_RIGHTS}, one bit each), "
                             f"ALL_RIGHTS {ALL_RIGHTS:#x}, their union {union:#x}")
    return checked + 1


WITX_RIGHTS = 30  # typenames.witx, `(typename $rights (flags (@witx repr u64) ...))`: 30 flags


# The witx's other sentences about rights (typenames.witx, `rights`), written out a second time, apart
# from the table: (right, call, descriptor argument, conditions under which the call needs it, which
# set). Each must hold of the table, and must not hold without its condition.
WITX_SENTENCES = (
    # fd_read: "The right to invoke `fd_read` and `sock_recv`. If `rights::fd_seek` is set, includes the
    # right to invoke `fd_pread`."
    ("FD_READ", "sock_recv", "fd", (), "base"),
    ("FD_READ", "fd_pread", "fd", (), "base"),
    ("FD_SEEK", "fd_pread", "fd", (), "base"),
    # fd_write: the same for `sock_send` and `fd_pwrite`.
    ("FD_WRITE", "sock_send", "fd", (), "base"),
    ("FD_WRITE", "fd_pwrite", "fd", (), "base"),
    ("FD_SEEK", "fd_pwrite", "fd", (), "base"),
    # fd_tell: "The right to invoke `fd_seek` in such a way that the file offset remains unaltered
    # (i.e., `whence::cur` with offset zero), or to invoke `fd_tell`."
    ("FD_TELL", "fd_seek", "fd", ("query",), "base"),
    # path_create_file: "If `path_open` is set, the right to invoke `path_open` with `oflags::creat`."
    ("PATH_CREATE_FILE", "path_open", "fd", ("creat",), "base"),
    # path_filestat_set_size: "If `path_open` is set, includes the right to invoke `path_open` with
    # `oflags::trunc`."
    ("PATH_FILESTAT_SET_SIZE", "path_open", "fd", ("trunc",), "base"),
    # fd_datasync / fd_sync: "If `path_open` is set, includes the right to invoke `path_open` with
    # `fdflags::dsync`" / "with `fdflags::rsync` and `fdflags::dsync`" -- rights the new descriptor
    # gets, hence the directory's inheriting rights (wasi-common: DSYNC -> FD_DATASYNC, RSYNC/SYNC -> FD_SYNC).
    ("FD_DATASYNC", "path_open", "fd", ("dsync",), "inheriting"),
    ("FD_SYNC", "path_open", "fd", ("sync",), "inheriting"),
    # poll_fd_readwrite: "If `rights::fd_read` is set, includes the right to invoke `poll_oneoff` to
    # subscribe to `eventtype::fd_read`" (and fd_write likewise).
    ("POLL_FD_READWRITE", "poll_oneoff", "subscription.fd", (), "base"),
    ("FD_READ", "poll_oneoff", "subscription.fd", ("read",), "base"),
    ("FD_WRITE", "poll_oneoff", "subscription.fd", ("write",), "base"),
)


def _witx_sentences() -> int:
    from vwasm.model.rights import need
    from vwasm.model.wasi import Rights
    for name, call, arg, conditions, which in WITX_SENTENCES:
        right = getattr(Rights, name)
        if not need(call, arg, *conditions, rights=which) & right:
            raise Counterexample(f"the table does not make {call} need {name} ({which}) on {arg} "
                                 f"when {'+'.join(conditions) or 'always'}")
        if conditions and need(call, arg, rights=which) & right:
            raise Counterexample(f"the table makes {call} need {name} on {arg} even without {'+'.join(conditions)}")
    return len(WITX_SENTENCES)


N_MIN_CASES = 85  # (scenario, right, argument) pairs, each tried with the right missing and present
N_MIN_READONLY = 40
N_MIN_READONLY_ALLOWED = 20


@obligation("refinement.rights", family=STATEFUL, tool="enumeration", guarantee="3 (every operation checks its rights)",
            bound="every (call, right, descriptor argument, descriptor kind) of the rights table, missing and "
                  "present; every tree-changing call against a read-only preopen", budget=240)
def rights() -> Outcome:
    from vwasm.model.rights import REQUIRES
    t0 = time.perf_counter()
    named = _witx_naming() + _witx_sentences()
    scenarios = _scenarios()
    covered, cases, net_cases, triples, refusals, kinds = set(), 0, 0, set(), 0, 0
    used: dict = {}  # descriptor kind -> the base rights the succeeding cases used on it
    for sc in scenarios:
        for arg in sorted({n.arg for n in _needs(sc)}):
            kinds += _wrong_kinds(sc, arg)
        for n in _needs(sc):
            for present in (False, True):
                refusals += _case(sc, n, present, used)
            covered.add((sc.call, n))
            triples.add((sc.call, n.right, n.arg))
            cases += 1
            net_cases += sc.net
    missing = [f"{call}: {_right_name(n.right)} on {n.arg}" + (f" when {n.when}" if n.when else "")
               for call, needs in REQUIRES.items() for n in needs if (call, n) not in covered]
    if missing:
        raise TooLittleEvidence(f"table rows no scenario reaches: {', '.join(missing)}")
    kinds_exact = _kinds_carry_what_they_use(used)
    ro = _readonly_cases()
    reached = {what.split()[0].split("(")[0] for what, _ in ro}
    if set(MUTATING) - reached:
        raise TooLittleEvidence(f"tree-changing calls with no read-only case: {sorted(set(MUTATING) - reached)}")
    for what, run in ro:
        _readonly_case(what, run)
    ok = _readonly_allowed()
    for what, run in ok:
        _readonly_case(what, run, allowed=True)
    if cases < N_MIN_CASES or len(ro) < N_MIN_READONLY or len(ok) < N_MIN_READONLY_ALLOWED:
        raise TooLittleEvidence(f"{cases} rights cases, {len(ro)} read-only refusals, {len(ok)} read-only reads")
    return Outcome(
        f"{len(triples)} (call, right, argument) table entries over {len(scenarios)} scenarios: {cases} cases, "
        f"each with the right missing (ENOTCAPABLE, nothing changed: {refusals} refused calls, with arguments "
        f"that fail later or do not decode included) and exactly the needed rights (SUCCESS) in the model and "
        f"the runtime over ModelHost and PosixHost ({net_cases} of them on sockets); {kinds} calls on a descriptor of "
        f"another kind without rights agree; "
        f"{len(ro)} tree-changing calls against a read-only preopen refused and {len(ok)} reads through it "
        f"allowed, tree unchanged; {named} witx facts about rights "
        f"(names and sentences) hold of the table; {kinds_exact} ({time.perf_counter() - t0:.1f} s)", status="checked")
