"""Three worlds driven by the same call sequence: the runtime's handlers over ModelHost, the same
handlers over PosixHost on a real temporary directory, and the model's transitions
(`vwasm.model.sandbox`). Handlers are called directly with a `Context` whose memory is a plain
buffer (no wasm). Every non-socket call of preview1 is a rule (sockets: `net_machine.py`).
After every call the worlds must agree on the errno and the results, and then:

  - the whole tree (the three preopens and the file beside them) is the same in the model
    (`s.fs.snapshot()`), in ModelHost and on disk (`disk_snapshot`); the read-only preopen and the
    file outside are as they were at the start (SEED, written on disk and read into the model and
    ModelHost with `FileSystem.from_host`);
  - the descriptor tables are equal (the abstraction function: fd -> kind, rights, fdflags), and so
    is every file's position (ModelHost's offset; PosixHost's kept in user space or the kernel's);
  - what fastcalls.c reads of each table (`FdTable.files`) is what the table holds, and PosixHost's
    position words say "kept here" exactly for its regular files not in append mode;
  - stdout/stderr received the same bytes;
  - the runtime shares no handle between two numbers, and the process's open host descriptors
    (/proc/self/fd) are exactly those it held before the world was made plus the handles in the
    PosixHost world's table: no call leaks or loses a host descriptor;
  - no byte of guest memory outside the outputs the call declares changed (memory starts filled
    with a canary; outputs are sized from the answer: exactly, one short, one long).

The configuration: stdio, then three preopens -- `/box` and `/two` writable, `/ro` read-only --
and a descriptor limit of MAX_FDS (so holes, reuse of the lowest free number and EMFILE come up in
short sequences; every new descriptor's number is checked against the lowest-free rule directly).
Rights are drawn as arbitrary subsets, all-but-one, or narrowed one bit at a time. Path calls
resolve from any directory descriptor (renames and links go across directories and preopens).
Boundaries are generated on purpose: paths of PATH_MAX-2..PATH_MAX+1 bytes, components of 255/256
bytes (ASCII and two-byte UTF-8), NUL and non-UTF-8 bytes (the latter from a directory holding every
right: where EILSEQ falls against EBADF/ENOTCAPABLE is not checked here), a symlink chain walked with
39, 40 and 41 expansions (the budget is 40), buffers of exactly the answer's size and one byte off.

`event()` records each (call, outcome) pair and, for every ENOTCAPABLE, which single right was
missing (the right whose addition to the descriptor would change the model's answer): `run_machine`
(stateful.py) counts both and enforces thresholds.

Used by `refinement.stateful` (model and both runtimes) and `host.posix_vs_model` (the runtime over
ModelHost vs over PosixHost only: the TCB check). `World` and `run_machine` are reused by the socket
machine.
"""
from __future__ import annotations

import fcntl
import inspect
import os
import shutil
import struct
import tempfile

from hypothesis import event, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from proofs.core import Counterexample
from vwasm.model.wasi import DIR_RIGHTS, FILE_RIGHTS, Rights

# --- the configuration and the starting tree -------------------------------------------------------
PREOPENS = (("box", "/box", False), ("two", "/two", False), ("ro", "/ro", True))  # fds 3, 4, 5
MAX_FDS = 8  # stdio + 3 preopens leave two free numbers before EMFILE
ARGS = ("prog", "a b", "\u00e9t\u00e9")
ENV = (("HOME", "/box"), ("EMPTY", ""))
STDIN = b"input on stdin"


class Link(str):
    """A symlink's text in SEED."""


SEED = {
    # Link texts ending in a slash name a directory (ldd), a file (lfs) and nothing (dangs).
    "box": {"d": {"g": b"g"}, "f": b"hello world", "ld": Link("d"), "lf": Link("f"), "ldd": Link("d/"),
            "lfs": Link("f/"), "dang": Link("nothere"), "dangs": Link("nothere/"), "esc": Link(".."),
            "sec": Link("../secret"), "tw": Link("../two/t")},
    "two": {"t": b"two", "e": {}},
    "ro": {"r": b"read only", "rd": {"x": b"x"}, "rl": Link("r")},
    "secret": b"outside",
}
CHAIN = 41  # c0 -> c1 -> ... -> c40 -> e in /two: following c_j takes 41 - j expansions
LONG = ("n" * 255, "n" * 256, "\u00e9" * 127 + "n", "\u00e9" * 128)  # 255, 256, 255, 256 bytes
NAMES = ["f", "d", "g", "ld", "lf", "ldd", "lfs", "dang", "dangs", "esc", "sec", "tw", "t", "e", "r", "rd", "rl", "x", "new",
         "..", "."]
PATH_MAX = 4096  # Linux's, NUL included: a path of 4095 bytes is the longest

# --- guest memory layout (plain buffer) -------------------------------------------------------------
MEM = 1 << 15
# Times: the rules set only these (and a stream's filestat is zeros); every clock the worlds read
# starts at NOW, far from them. A time compares as itself if it is one of these, else as "clock".
SET_TIMES = (0, 5, 6, 10**9, 2 * 10**9)
NOW = 10**17
OUT, OUT2, STAT, IOV, ARGV, SUBS, EVENTS, PATH1, PATH2, BUF = 0, 8, 64, 256, 384, 512, 768, 1024, 5376, 9728
CANARY = 0xA5


def _seed(root: str, tree: dict) -> None:
    for name, what in tree.items():
        p = os.path.join(root, name)
        if isinstance(what, dict):
            os.mkdir(p)
            _seed(p, what)
        elif isinstance(what, Link):
            os.symlink(str(what), p)
        else:
            with open(p, "wb") as fh:
                fh.write(what)


def _path_strategy():
    comp = st.sampled_from(NAMES)
    return (st.lists(comp, min_size=1, max_size=3).map("/".join)
            | st.sampled_from(["f", "d", "d/g", "ld", "lf", "ldd", "dang", "esc", "sec", "tw", "ld/g", "lf/", "ld/",
                               "dang/", "ldd/g", "ldd/new", "lfs", "lfs/", "lfs/.", "dangs", "new", "d/new",
                               "ld/new", "sec/x", "e/new", "rd/x", "rl", "../box/f", "d/../f", "d/../../box",
                               "esc/secret", "esc/box/f", "ld/g/x"]))


def _named(names):
    """Mostly one of `names` (entries that exist somewhere), sometimes any path."""
    return st.sampled_from(names) | _path_strategy()


EXISTING = ["f", "d", "g", "t", "e", "r", "x", "lf", "ld", "d/g", "rd/x", "dang", "esc"]
FRESH = ["new", "n2", "d/new", "e/new", "rd/new", "f", "d", "t/", "e"]
LINKS = ["ld", "lf", "ldd", "lfs", "dang", "dangs", "esc", "sec", "tw", "rl", "d/../lf", "f", "nothere"]
ALL = (1 << 30) - 1
RIGHT_BITS = st.integers(0, 29)
FILE_BITS = [1 << b for b in range(30) if FILE_RIGHTS >> b & 1]
DIR_BITS = [1 << b for b in range(30) if DIR_RIGHTS >> b & 1]
# All rights; all but one a file or a directory can use (one call then misses exactly it); any subset.
RIGHTS = st.one_of(st.just(ALL), st.sampled_from(FILE_BITS).map(lambda r: ALL & ~r),
                   st.sampled_from(DIR_BITS).map(lambda r: ALL & ~r), st.integers(0, ALL),
                   st.sampled_from([0, 0x2 | 0x40 | 0x4 | 0x20, 0x2, 0x40]),
                   st.sampled_from([ALL | 1 << 30, 1 << 63]))  # bits past the witx's rights: EINVAL
RIGHT_NAMES = [(n, v) for n, v in vars(Rights).items() if n.isupper() and type(v) is int and v and v & (v - 1) == 0]
FD_INDEX = st.integers(0, 15)  # which descriptor: see Machine.fd_at
NARROWED = {"read": "fd_read", "pread": "fd_pread", "write": "fd_write", "pwrite": "fd_pwrite", "seek": "fd_seek",
            "tell": "fd_tell", "sync": "fd_sync", "datasync": "fd_datasync", "advise": "fd_advise",
            "allocate": "fd_allocate", "set_size": "fd_filestat_set_size", "set_flags": "fd_fdstat_set_flags",
            "filestat": "fd_filestat_get", "set_times": "fd_filestat_set_times", "readdir": "fd_readdir",
            "open": "path_open"}  # Machine.narrowed: its calls and their handlers
# Every combination of the four oflags (CREAT 1, DIRECTORY 2, EXCL 4, TRUNC 8), and a bit past them.
OFLAGS = st.sampled_from([*range(16), 0x10])
OPEN_FAULTS = ["oflags bit", "directory+trunc", "directory+excl", "fdflags bit", "rights bit", "lookupflags bit"]
# Every fdflags bit (APPEND, DSYNC, NONBLOCK, RSYNC, SYNC) alone, two together, and a bit past them.
FDFLAGS = st.sampled_from([0, 1, 2, 4, 8, 0x10, 1 | 4, 2 | 8, 0x20])
# fst_flags (ATIM 1, ATIM_NOW 2, MTIM 4, MTIM_NOW 8): none, each alone, each time given and the other
# "now", both given, both now, a time given with its own "now" (EINVAL), and a bit past them.
FSTFLAGS = st.sampled_from([0, 1, 2, 4, 8, 1 | 8, 2 | 4, 1 | 4, 2 | 8, 1 | 2, 4 | 8, 0x10])
FIT = st.sampled_from(["exact", "short", "long", "zero", "big"])  # an output buffer against its answer


def fit_len(fit: str, need: int) -> int:
    return {"exact": need, "short": max(0, need - 1), "long": need + 1, "zero": 0, "big": 4096}[fit]


class World:
    """One runtime instance: a host, a descriptor table, a context over a plain buffer filled with
    a canary. `preopens`: a host path (one preopen, `/box`) or (host path, guest name, read_only)s."""

    def __init__(self, host, preopens, *, max_fds: int | None = None, args=(), env=(), stdin: bytes = STDIN,
                 mem: int = MEM) -> None:
        from vwasm.context import Context
        from vwasm.memory import GuestMemory
        from vwasm.sandbox import Config, descriptor_table
        cfg = Config()
        if isinstance(preopens, str):
            preopens = ((preopens, "/box", False),)
        for path, guest, ro in preopens:
            cfg.preopen_dir(path, guest, read_only=ro)
        if max_fds is not None:
            cfg.max_fds = max_fds
        self.out = {"stdout": [], "stderr": []}
        cfg.stdin_bytes(stdin)
        cfg.stdout_custom(self.out["stdout"].append)
        cfg.stderr_custom(self.out["stderr"].append)
        self.host = host
        self.cx = Context(host, descriptor_table(cfg, host), [a.encode() for a in args],
                          [f"{k}={v}".encode() for k, v in env])
        self.cx.mem = GuestMemory.over(bytearray([CANARY]) * mem)

    def call(self, name: str, *args, outs=()):
        """Run handler `name`; the errno (or ("exit", code) for proc_exit). Raises Counterexample
        for an escaping exception or a write outside the regions `outs` = ((ptr, len), ...)."""
        from vwasm import syscalls
        from vwasm.errors import ProcExit
        from vwasm.model.wasi import WasiError
        before = bytes(self.cx.mem.view)
        try:
            res = int(syscalls.HANDLERS[name](self.cx, *args))
        except WasiError as e:
            res = int(e.errno)
        except ProcExit as e:
            res = ("exit", e.code)
        except Exception as e:  # noqa: BLE001 - any other exception is a bug (§1.5)
            raise Counterexample(f"{name}{args} raised {type(e).__name__}: {e}") from None
        self._only_wrote(name, args, before, outs)
        self.call_errno = res
        return res

    def _only_wrote(self, name, args, before: bytes, outs) -> None:
        after, at = bytes(self.cx.mem.view), 0
        if after == before:
            return
        for ptr, n in sorted(outs) + [(len(before), 0)]:
            if after[at:ptr] != before[at:ptr]:
                off = next(i for i in range(at, ptr) if after[i] != before[i])
                raise Counterexample(f"{name}{args} wrote guest memory at {off} outside its outputs {sorted(outs)}")
            at = max(at, ptr + n)

    def put(self, at: int, raw: bytes) -> None:
        self.cx.mem.view[at:at + len(raw)] = raw

    def put_path(self, at: int, text) -> tuple[int, int]:
        raw = text if isinstance(text, bytes) else text.encode()
        self.put(at, raw)
        return at, len(raw)

    def get(self, at: int, n: int) -> bytes:
        return bytes(self.cx.mem.view[at:at + n])

    def u32(self, at: int) -> int:
        return int.from_bytes(self.get(at, 4), "little")

    def u64(self, at: int) -> int:
        return int.from_bytes(self.get(at, 8), "little")

    def filestat(self, at: int) -> tuple:
        """(filetype, nlink, size or None for a directory): what is compared of a filestat."""
        _dev, _ino, ft, nlink, size, *_ = self.filestat_fields(at)
        return _stat_view(ft, nlink, size)

    def times(self, at: int) -> tuple:
        """(ino, atim, mtim) of the filestat at `at`."""
        _dev, ino, _ft, _nlink, _size, atim, mtim, _ctim = self.filestat_fields(at)
        return ino, atim, mtim

    def filestat_fields(self, at: int) -> tuple:
        return struct.unpack_from("<QQB7xQQQQQ", self.get(at, 64))

    def fdstat(self, at: int) -> tuple:
        return struct.unpack_from("<BxH4xQQ", self.get(at, 24))

    def dirents(self, at: int, used: int) -> list:
        raw, out, i = self.get(at, used), [], 0
        while i + 24 <= len(raw):
            _next, _ino, namlen, typ = struct.unpack_from("<QQIB3x", raw, i)
            out.append((raw[i + 24:i + 24 + namlen].decode("utf-8", "surrogateescape"), typ))
            i += 24 + namlen
        return sorted(out)

    def table(self) -> dict:
        from vwasm.fdtable import DIR, FILE, SOCKET
        return {fd: ("dir" if d.kind == DIR else "file" if d.kind == FILE else "socket" if d.kind == SOCKET
                     else "stream", int(d.rights_base), int(d.rights_inheriting), int(d.fdflags))
                for fd, d in self.cx.fds.items()}

    def written(self) -> tuple:
        return b"".join(self.out["stdout"]), b"".join(self.out["stderr"])

    def rep_ok(self) -> bool:
        handles = [id(d.handle) for _, d in self.cx.fds.items()]
        return len(handles) == len(set(handles))

    def positions(self) -> dict:
        """The position of every file in the table, wherever its Host keeps it: a ModelHost handle's
        offset; PosixHost's user-space position (`POSITIONS`), else the kernel's."""
        from vwasm.fdtable import FILE
        from vwasm.posix_host import _position
        out = {}
        for fd, d in self.cx.fds.items():
            if d.kind == FILE:
                h = d.handle
                out[fd] = (h.offset if type(h) is not int else ~_position(h) if _position(h) < 0
                           else os.lseek(h, 0, os.SEEK_CUR))
        return out

    def host_fds(self) -> set:
        """The OS descriptors the table holds."""
        return {d.handle for _, d in self.cx.fds.items() if type(d.handle) is int}

    def close(self) -> None:
        for fd, d in self.cx.fds.items():
            try:
                self.host.close(d.handle)
            except Exception:  # noqa: BLE001
                pass


def files_view_problem(fds) -> str | None:
    """What fastcalls.c reads of a descriptor table (`FdTable.files`, at the address it holds, as C
    reads it) that the table does not say, or None. For every number below its count: the host fd (or
    IN_PROCESS for a handle that is no OS fd), base rights and kind bit of a file, stream or socket,
    (NOTHING, 0, 0) for any other number; and no such descriptor at or past count."""
    import ctypes

    from vwasm.fdtable import IN_PROCESS, NOTHING, SHOWN_KINDS, WORDS
    count = fds.files.count
    words = (ctypes.c_int64 * (WORDS * count)).from_address(fds.files.words)[:] if count else []
    shown = {n: d for n, d in fds.items() if d.kind in SHOWN_KINDS}
    for n in range(count):
        d = shown.get(n)
        host_fd = d and (d.handle if type(d.handle) is int else IN_PROCESS)
        expected = [host_fd, d.rights_base, SHOWN_KINDS[d.kind]] if d else [NOTHING, 0, 0]
        if words[WORDS * n:WORDS * (n + 1)] != expected:
            return f"C's view of number {n} is {words[WORDS * n:WORDS * (n + 1)]}; the table holds {d!r}"
    if any(n >= count for n in shown):
        return f"a descriptor numbered past C's view ({count} numbers): {sorted(shown)}"
    return None


POSITIONS_CHECKED = 1024  # host fds whose PosixHost position word is checked (the machine's are far below)


def positions_problem(*tables) -> str | None:
    """PosixHost's position words (`POSITIONS`) against the tables over PosixHost of every store in the
    process, or None: a regular file's position is kept there (< 0) unless the file appends
    (APPENDING, the kernel keeps it); every other host fd's word is 0."""
    import stat

    from vwasm.fdtable import FILE
    from vwasm.model.wasi import Fdflags
    from vwasm.posix_host import APPENDING, POSITIONS
    files = {d.handle: d for fds in tables for _, d in fds.items() if d.kind == FILE and type(d.handle) is int}
    for h, word in enumerate(POSITIONS[:POSITIONS_CHECKED].tolist()):
        d = files.get(h)
        if d is None or not stat.S_ISREG(os.fstat(h).st_mode):
            want = "0"
            ok = word == 0
        elif d.fdflags & Fdflags.APPEND:
            want, ok = "APPENDING", word == APPENDING
        else:
            want, ok = "a position (< 0)", word < 0
        if not ok:
            return f"host fd {h}'s position word is {word}, not {want} (the table holds {d!r})"
    return None


def open_host_fds() -> set:
    """The descriptors open in this process now (the listing's own descriptor, closed by the time
    we look, is left out)."""
    import fcntl
    out = set()
    for n in os.listdir("/proc/self/fd"):
        try:
            fcntl.fcntl(int(n), fcntl.F_GETFD)
            out.add(int(n))
        except OSError:
            pass
    return out


def disk_snapshot(path: str) -> dict:
    """The real tree below `path` in the form of `FileSystem.snapshot` (read with scandir: cheaper
    than building a FileSystem with `from_host`, and it is read after every call)."""
    out: dict = {}
    with os.scandir(path) as it:
        for e in it:
            if e.is_symlink():
                out[e.name] = ("symlink", os.readlink(e.path))
            elif e.is_dir(follow_symlinks=False):
                out[e.name] = ("dir", disk_snapshot(e.path))
            elif e.is_file(follow_symlinks=False):
                with open(e.path, "rb") as fh:
                    out[e.name] = ("file", fh.read())
            else:
                raise Counterexample(f"{e.path}: neither file, directory nor symlink")
    return out


def _without_inos(raw: bytes) -> bytes:
    """fd_readdir's bytes with each whole header's d_ino zeroed (the model's are abstract)."""
    out, i = bytearray(raw), 0
    while i + 24 <= len(out):
        out[i + 8:i + 16] = bytes(8)
        i += 24 + int.from_bytes(out[i + 16:i + 20], "little")
    return bytes(out)


def _stat_view(filetype: int, nlink: int, size: int) -> tuple:
    from vwasm.model.wasi import Filetype
    return (int(filetype), int(nlink), None if filetype == Filetype.DIRECTORY else int(size))


def _time_view(t: int):
    return t if t in SET_TIMES else "clock"


def model_table(s) -> dict:
    return {fd: ("dir" if d.is_dir else "file" if d.is_file else "socket" if d.is_socket else "stream",
                 int(d.rights_base), int(d.rights_inheriting), int(d.flags)) for fd, d in s.fds.entries}


def ename(e) -> str:
    from vwasm.model.wasi import Errno
    if isinstance(e, tuple):
        return f"exit {e[1]}"
    try:
        return Errno(int(e)).name
    except ValueError:
        return str(e)


class Machine(RuleBasedStateMachine):
    CHECK_MODEL = True  # False: only the runtime over ModelHost vs over PosixHost (the TCB check)
    COUNT = {"steps": 0}

    def __init__(self) -> None:
        super().__init__()
        from vwasm.model import sandbox as sb
        from vwasm.model.fs import ROOT, FileSystem
        from vwasm.model_host import ModelHost
        from vwasm.posix_host import PosixHost
        self.sb = sb
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None  # tmpfs: fsync costs nothing
        self.tmp = tempfile.mkdtemp(prefix="vwasm-machine-", dir=shm)
        _seed(self.tmp, SEED)
        fs = FileSystem.from_host(self.tmp)
        self.roots = {name: fs.lookup(ROOT, name) for name, _, _ in PREOPENS}
        paths = [(os.path.join(self.tmp, name), guest, ro) for name, guest, ro in PREOPENS]
        self.baseline = open_host_fds()  # before PosixHost opens anything
        self.posix = World(PosixHost(), paths, max_fds=MAX_FDS, args=ARGS, env=ENV)
        # Config.timeout's deadline, set over PosixHost only and never reached (1000 s away): every
        # wait there goes through the deadline's code, and a deadline not reached changes nothing.
        from vwasm.model.wasi import Clockid
        self.posix.cx.deadline = self.posix.host.clock_time(Clockid.MONOTONIC) + 10**12
        self.mhost = ModelHost(fs, {p: self.roots[name] for (p, _, _), (name, _, _) in zip(paths, PREOPENS)},
                               now=NOW)
        self.mod = World(self.mhost, paths, max_fds=MAX_FDS, args=ARGS, env=ENV)
        self.s = sb.initial_state(
            fs, tuple(sb.Preopen(guest, self.roots[name], ro) for name, guest, ro in PREOPENS),
            args=ARGS, env=ENV, stdin=STDIN, max_fds=MAX_FDS)
        self.s = sb.tick(self.s, NOW, NOW)
        # ModelHost inodes whose mtime the kernel may have moved where the model does not: fallocate
        # within the file's size (Linux 6.x marks the file modified; older kernels did not).
        self.loose_mtime: set = set()
        self.ro_start = fs.snapshot(self.roots["ro"])

    def teardown(self) -> None:
        self.posix.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- one call in the three worlds ---------------------------------------------------------------
    def both(self, name, args, outs=()):
        """Run handler `name` in both runtimes; args may contain ("path", text) placeholders."""
        res = []
        for w in (self.mod, self.posix):
            real, at = [], [PATH1, PATH2]
            for a in args:
                if isinstance(a, tuple) and a[0] == "path":
                    real.extend(w.put_path(at.pop(0), a[1]))
                else:
                    real.append(a)
            res.append(w.call(name, *real, outs=outs))
        return res

    def agree(self, name, model_errno, impl_errnos, detail=""):
        e_m, e_p = impl_errnos
        self.COUNT["steps"] += 1
        if not self.CHECK_MODEL:
            event(f"{name} -> {ename(e_m)}")
            if e_m != e_p:
                raise Counterexample(f"{name}{detail}: runtime over ModelHost {ename(e_m)}, "
                                     f"over PosixHost {ename(e_p)}")
            return
        event(f"{name} -> {ename(model_errno)}")
        if not (model_errno == e_m == e_p):
            raise Counterexample(f"{name}{detail}: model {ename(model_errno)}, runtime over ModelHost "
                                 f"{ename(e_m)}, over PosixHost {ename(e_p)}")

    def step(self, name, model_call, impl_args, detail="", result=None, model_result=None, outs=(), fds=()):
        """Run one call everywhere; on success compare `result(world)` across the runtimes and with
        `model_result(model results)`. `fds`: the descriptor arguments (to name a missing right).
        Returns (errno, model results, runtime value or None)."""
        from vwasm.model.wasi import Errno
        err = res = None
        if self.CHECK_MODEL:
            pre = self.s
            self.s, err, res = model_call()
            err = int(err)
            if err == Errno.NOTCAPABLE:
                self.missing_right(name, pre, model_call, fds)
        outs_ = self.both(name, impl_args, outs)
        self.agree(name, err, outs_, detail)
        if outs_[0] != 0 or result is None:
            return err, res, None
        vals = [result(w) for w in (self.mod, self.posix)]
        if vals[0] != vals[1]:
            raise Counterexample(f"{name}{detail}: over ModelHost {vals[0]!r}, over PosixHost {vals[1]!r}")
        if self.CHECK_MODEL and model_result is not None:
            m = model_result(res)
            if m != vals[0]:
                raise Counterexample(f"{name}{detail}: model {m!r}, runtime {vals[0]!r}")
        return err, res, vals[0]

    def missing_right(self, name, pre, model_call, fds) -> None:
        """Coverage: for each descriptor argument, the single right whose addition would change the
        model's ENOTCAPABLE (the rule bodies are re-run without their contracts, on copies)."""
        from dataclasses import replace

        from vwasm.model.wasi import Errno
        body = inspect.unwrap(getattr(self.sb, name))
        saved = self.s
        for fd in fds:
            d = pre.fds.lookup(fd)
            if d is None:
                continue
            for rname, r in RIGHT_NAMES:
                if d.rights_base & r:
                    continue
                self.s = replace(pre, fds=pre.fds.put(fd, replace(d, rights_base=d.rights_base | r)))
                try:
                    _, err, _ = self._unchecked(body, model_call)
                except AssertionError:
                    continue
                if err != Errno.NOTCAPABLE:
                    event(f"{name} without {rname}")
        self.s = saved

    def _unchecked(self, body, model_call):
        """Run `model_call` with the transition replaced by its bare body (no contracts)."""
        from vwasm.model.wasi import Errno, WasiError
        name = body.__name__
        real = getattr(self.sb, name)

        def bare(s, *args):
            try:
                new, results = body(s, *args)
            except WasiError as e:
                return s, e.errno, ()
            return new, Errno.SUCCESS, results
        setattr(self.sb, name, bare)
        try:
            return model_call()
        finally:
            setattr(self.sb, name, real)

    # --- choosing descriptors ---------------------------------------------------------------------
    def live(self) -> list:
        return [fd for fd, _ in self.mod.cx.fds.items()]

    def lowest_free(self) -> int:
        fds, n = set(self.live()), 0
        while n in fds:
            n += 1
        return n

    def fd_at(self, i: int) -> int:
        """Descriptor number i: mostly an open one (the newest first), sometimes a standard stream,
        a preopen, the lowest free number or a number never opened."""
        opened = [fd for fd in self.live()[::-1] if fd > 5]
        pool = opened * 2 + [3, 4, 5, 0, 1, 2, self.lowest_free(), 17]
        return pool[i % len(pool)]

    def file_at(self, i: int) -> int:
        """A descriptor for a file call: mostly an open file (the newest first; one is opened first
        when there is none), sometimes any descriptor."""
        if i >= 12:
            return self.fd_at(i)
        files = [fd for fd, t in sorted(self.mod.table().items(), reverse=True) if t[0] == "file"]
        if not files:
            dirs = [fd for fd, t in self.mod.table().items() if t[0] == "dir"]
            if not dirs:
                return self.fd_at(i)
            self._open(dirs[i % len(dirs)], ("f", "t", "d/g")[i % 3], 0, ALL, ALL, False, i % 2)
            files = [fd for fd, t in sorted(self.mod.table().items(), reverse=True) if t[0] == "file"]
        return (files + [self.fd_at(i)])[i % (len(files) + 1)]

    def dir_at(self, i: int) -> int:
        """A descriptor to resolve a path from: mostly an open directory (the newest first, the
        preopens among them), sometimes any descriptor (a file, a stream, a closed number)."""
        from vwasm.fdtable import DIR
        if i >= 13:
            return self.fd_at(i)
        dirs = [fd for fd, d in self.mod.cx.fds.items()[::-1] if d.kind == DIR]
        return (dirs + [3, 4])[i % (len(dirs) + 2)]

    def mnode(self, fd: int):
        """The ModelHost inode behind descriptor fd of the runtime over ModelHost (None: not a node)."""
        if fd not in self.mod.cx.fds:
            return None
        h = self.mod.cx.fds.get(fd).handle
        return getattr(h, "ino", None)

    def situation(self, dirfd: int, path: str, follow: bool) -> None:
        """Record which link situation the path's final component is in (for coverage)."""
        from vwasm.model.fs import Dir, Symlink
        from vwasm.model.paths import resolve
        from vwasm.model.wasi import WasiError
        fs, start = self.mhost.fs, self.mnode(dirfd)
        if start is None or not fs.has(start) or not fs.is_dir(start):
            return
        try:
            r = resolve(fs, start, path, False)
        except WasiError:
            return
        if r.node is None or not isinstance(fs.node(r.node), Symlink):
            return
        event(f"final symlink ({'followed' if follow else 'not followed'})")
        try:
            t = resolve(fs, start, path, True)
        except WasiError as e:
            event(f"final symlink leads to {ename(e.errno)}")
            return
        kind = ("dangling" if t.node is None else "to a directory" if isinstance(fs.node(t.node), Dir)
                else "to a file")
        event(f"final symlink {kind}")

    # --- opening and the descriptor table ---------------------------------------------------------
    def fill_table(self) -> None:
        """Open directories (`.` of one held) until the table is full: each open a compared step; a
        few attempts only (every directory may be gone)."""
        for _ in range(8):
            if self.mod.cx.fds.full():
                return
            self._open(self.dir_at(0), ".", 2, ALL, ALL, False, 0)

    def _open(self, dirfd, path, oflags, rb, ri, follow, fdflags):
        free = self.lowest_free()
        self.situation(dirfd, path, follow)
        err, res, fd = self.step(
            "path_open", lambda: self.sb.path_open(self.s, dirfd, int(follow), path, oflags, rb, ri, fdflags),
            (dirfd, int(follow), ("path", path), oflags, rb, ri, fdflags, OUT),
            f"({dirfd}, {path!r}, follow={follow}, oflags={oflags}, rights={rb:#x}/{ri:#x}, fdflags={fdflags})",
            result=lambda w: w.u32(OUT), model_result=lambda r: r[0], outs=((OUT, 4),), fds=(dirfd,))
        if fd is not None and fd != free:
            raise Counterexample(f"path_open gave descriptor {fd}, not the lowest free number {free}")
        if fd is not None:
            event("new descriptor in a hole" if free < max(self.live()) else "new descriptor at the end")
            self.host_open_flags(fd, fdflags)

    def host_open_flags(self, fd: int, fdflags: int) -> None:
        """A file opened over PosixHost carries the O_ flags its fdflags ask for (no guest call reads
        them back: fd_fdstat_get reports the descriptor's own record)."""
        from vwasm.fdtable import FILE
        d = self.posix.cx.fds.get(fd)
        if d.kind != FILE:
            return
        want = ((os.O_APPEND if fdflags & 1 else 0) | (os.O_DSYNC if fdflags & 2 else 0)
                | (os.O_SYNC if fdflags & (8 | 16) else 0))  # RSYNC is O_SYNC on Linux
        got = fcntl.fcntl(d.handle, fcntl.F_GETFL) & (os.O_APPEND | os.O_DSYNC | os.O_SYNC)
        if got != want:
            raise Counterexample(f"path_open with fdflags {fdflags:#x}: the host file has O_ flags {got:#o}, "
                                 f"not {want:#o}")

    @rule(path=_path_strategy(), oflags=OFLAGS, rb=RIGHTS, ri=RIGHTS, follow=st.booleans(), fdflags=FDFLAGS,
          at=FD_INDEX)
    def path_open(self, path, oflags, rb, ri, follow, fdflags, at):
        self._open(self.dir_at(at), path, oflags, rb, ri, follow, fdflags)

    @rule(path=st.sampled_from(["f", "d", "new"]), fault=st.sampled_from(OPEN_FAULTS),
          where=st.sampled_from(["closed", "file", "stream", "full"]), at=FD_INDEX)
    def path_open_two_faults(self, path, fault, where, at):
        """path_open wrong twice at once -- an argument that does not decode, or flags it refuses, and
        a descriptor that is no directory (closed, a file, a stream) or a full table: the model's order
        of checks decides which errno the guest sees."""
        oflags, fdflags, rb, follow = {"oflags bit": (0x10, 0, ALL, 1), "directory+trunc": (2 | 8, 0, ALL, 1),
                                       "directory+excl": (2 | 4, 0, ALL, 1), "fdflags bit": (0, 0x20, ALL, 1),
                                       "rights bit": (0, 0, ALL | 1 << 30, 1), "lookupflags bit": (0, 0, ALL, 2)}[fault]
        if where == "full":
            self.fill_table()
            dirfd = self.dir_at(at % 8)
        elif where == "closed":
            dirfd = self.lowest_free()
        elif where == "stream":
            dirfd = at % 3
        else:
            dirfd = self.file_at(at % 12)
        self._open(dirfd, path, oflags, rb, rb, follow, fdflags)

    @rule(path=st.sampled_from(["f", "d/g", "t", "r", "rd/x", "lf", "new", "e/new", "rl"]), rb=RIGHTS,
          oflags=st.sampled_from([0, 1, 8, 9]), at=FD_INDEX)
    def open_file(self, path, rb, oflags, at):
        """Opening a file that mostly exists, with arbitrary rights, maybe creating or truncating it
        (fills the table)."""
        self._open(self.dir_at(at % 8), path, oflags, rb, rb, True, 0)

    @rule(path=st.sampled_from([".", "d", "e", "rd", "ld", "ldd", "..", "d/.."]), ri=RIGHTS, at=FD_INDEX)
    def open_dir(self, path, ri, at):
        self._open(self.dir_at(at % 8), path, 2, ALL, ri, False, 0)

    @rule(at=FD_INDEX)
    def hole(self, at):
        """Open two descriptors, close the first, open again: the new one must fill the hole; then
        renumber it onto itself (nothing changes, its host handle stays open)."""
        dirs = [fd for fd, t in self.mod.table().items() if t[0] == "dir"]
        if not dirs:
            return
        d = dirs[at % len(dirs)]
        for _ in range(2):
            self._open(d, ".", 2, ALL, ALL, False, 0)
        mine = [fd for fd in self.live() if fd > 5]
        if mine:
            lowest = mine[0] if at % 2 else mine[-1]
            self.step("fd_close", lambda: self.sb.fd_close(self.s, lowest), (lowest,), f"({lowest})", fds=(lowest,))
        self._open(d, ".", 2, ALL, ALL, False, 0)
        new = self.live()[-1]
        self.step("fd_renumber", lambda: self.sb.fd_renumber(self.s, new, new), (new, new), f"({new}, {new})")

    @rule(at=FD_INDEX)
    def close(self, at):
        fd = self.fd_at(at)
        if fd < 6 and at % 5:  # streams and preopens are closed only now and then
            return
        self.step("fd_close", lambda: self.sb.fd_close(self.s, fd), (fd,), f"({fd})", fds=(fd,))

    @rule(at=FD_INDEX, to=st.sampled_from(["self", "live", "free", "unused", "preopen", "stream"]), j=FD_INDEX)
    def renumber(self, at, to, j):
        frm = self.fd_at(at)
        live = self.live()
        dst = {"self": frm, "live": live[j % len(live)], "free": self.lowest_free(), "unused": 17,
               "preopen": 3 + j % 3, "stream": j % 3}[to]
        event(f"fd_renumber onto {to}")
        self.step("fd_renumber", lambda: self.sb.fd_renumber(self.s, frm, dst), (frm, dst), f"({frm}, {dst})",
                  fds=(frm, dst))

    @rule(at=FD_INDEX, how=st.sampled_from(["drop one", "subset", "grow", "same"]), bit=RIGHT_BITS, mask=RIGHTS)
    def set_rights(self, at, how, bit, mask):
        fd = self.fd_at(at)
        t = self.mod.table().get(fd, ("none", 0, 0, 0))
        base, inh = t[1], t[2]
        held = [b for b in range(30) if base >> b & 1] or [bit]
        drop = 1 << held[bit % len(held)]  # one right the descriptor holds
        base, inh = {"drop one": (base & ~drop, inh & ~drop), "subset": (base & mask, inh & mask),
                     "grow": (base | 1 << bit, inh), "same": (base, inh)}[how]
        self.step("fd_fdstat_set_rights", lambda: self.sb.fd_fdstat_set_rights(self.s, fd, base, inh),
                  (fd, base, inh), f"({fd}, {base:#x}, {inh:#x})", fds=(fd,))

    @rule(at=st.integers(0, 3), bit=RIGHT_BITS, call=st.sampled_from(sorted(NARROWED)))
    def narrowed(self, at, bit, call):
        """A descriptor (one of the newest, or a preopen) loses one right it holds, then a call that may
        need exactly that right is made on it."""
        kind = "dir" if call in ("readdir", "open") else "file"
        fds = [fd for fd, t in sorted(self.mod.table().items(), reverse=True) if t[0] == kind]
        if not fds and kind == "file":  # open one first (a file beside every preopen)
            dirs = [fd for fd, t in self.mod.table().items() if t[0] == "dir"]
            if dirs:
                self._open(dirs[at % len(dirs)], "f" if at % 2 else "t", 0, ALL, ALL, False, 0)
            fds = [fd for fd, t in sorted(self.mod.table().items(), reverse=True) if t[0] == kind]
        if fds:
            self._narrowed_call(fds[at % len(fds)], bit, call)

    def _narrowed_call(self, fd, bit, call):
        base, inh = self.mod.table()[fd][1:3]
        # Mostly a right the call needs (the rights table only steers the choice: the model and the
        # runtime are still what is compared), else any right the descriptor holds.
        from vwasm.model.rights import REQUIRES
        wanted = 0
        for n in REQUIRES.get(NARROWED[call], ()):
            wanted |= n.right
        held = [b for b in range(30) if base >> b & 1 and (bit & 1 or wanted >> b & 1)]
        if not held:
            return
        drop = 1 << held[bit % len(held)]
        self.step("fd_fdstat_set_rights", lambda: self.sb.fd_fdstat_set_rights(self.s, fd, base & ~drop, inh),
                  (fd, base & ~drop, inh), f"({fd}, {base & ~drop:#x}, {inh:#x})", fds=(fd,))
        simple = {"sync": "fd_sync", "datasync": "fd_datasync"}
        if call in ("read", "pread"):
            return self._read(fd, 4, 0 if call == "pread" else None)
        if call in ("write", "pwrite"):
            return self._write(fd, b"ab", 1 if call == "pwrite" else None)
        if call in simple:
            name = simple[call]
            return self.step(name, lambda: getattr(self.sb, name)(self.s, fd), (fd,), f"({fd})", fds=(fd,))
        if call == "seek":
            return self.step("fd_seek", lambda: self.sb.fd_seek(self.s, fd, 1, 0), (fd, 1, 0, OUT), f"({fd})",
                             result=lambda w: w.u64(OUT), model_result=lambda r: r[0], outs=((OUT, 8),), fds=(fd,))
        if call == "tell":
            return self.step("fd_tell", lambda: self.sb.fd_tell(self.s, fd), (fd, OUT), f"({fd})",
                             result=lambda w: w.u64(OUT), model_result=lambda r: r[0], outs=((OUT, 8),), fds=(fd,))
        if call == "advise":
            return self.step("fd_advise", lambda: self.sb.fd_advise(self.s, fd, 0, 1, 0), (fd, 0, 1, 0), f"({fd})",
                             fds=(fd,))
        if call == "allocate":
            return self.step("fd_allocate", lambda: self.sb.fd_allocate(self.s, fd, 0, 1), (fd, 0, 1), f"({fd})",
                             fds=(fd,))
        if call == "set_size":
            return self.step("fd_filestat_set_size", lambda: self.sb.fd_filestat_set_size(self.s, fd, 3), (fd, 3),
                             f"({fd})", fds=(fd,))
        if call == "set_flags":
            return self.step("fd_fdstat_set_flags", lambda: self.sb.fd_fdstat_set_flags(self.s, fd, 1), (fd, 1),
                             f"({fd})", fds=(fd,))
        if call == "filestat":
            return self.step("fd_filestat_get", lambda: self.sb.fd_filestat_get(self.s, fd), (fd, STAT), f"({fd})",
                             result=lambda w: w.filestat(STAT),
                             model_result=lambda r: _stat_view(r[0].filetype, r[0].nlink, r[0].size),
                             outs=((STAT, 64),), fds=(fd,))
        if call == "set_times":
            return self.step("fd_filestat_set_times", lambda: self.sb.fd_filestat_set_times(self.s, fd, 5, 6, 1 | 4),
                             (fd, 5, 6, 1 | 4), f"({fd})", fds=(fd,))
        if call == "readdir":
            return self.step("fd_readdir", lambda: self.sb.fd_readdir(self.s, fd, 0), (fd, BUF, 0, 0, OUT), f"({fd})",
                             outs=((OUT, 4),), fds=(fd,))
        return self._open(fd, "f", 1 | 8 * (bit & 1), FILE_RIGHTS, 0, False, 0)

    @rule(at=FD_INDEX)
    def fdstat(self, at):
        fd = self.fd_at(at)
        self.step("fd_fdstat_get", lambda: self.sb.fd_fdstat_get(self.s, fd), (fd, STAT), f"({fd})",
                  result=lambda w: w.fdstat(STAT),
                  model_result=lambda r: (int(r[0].filetype), int(r[0].flags), int(r[0].rights_base),
                                          int(r[0].rights_inheriting)), outs=((STAT, 24),), fds=(fd,))

    @rule(at=FD_INDEX, flags=st.sampled_from([0, 1, 4, 5]))
    def set_flags(self, at, flags):
        fd = self.file_at(at)
        # Each bit fixed at opening (DSYNC, RSYNC, SYNC) and one past fdflags, every time; then the
        # drawn changeable ones (APPEND, NONBLOCK).
        for f in (2, 8, 0x10, 0x20, flags):
            self.step("fd_fdstat_set_flags", lambda f=f: self.sb.fd_fdstat_set_flags(self.s, fd, f), (fd, f),
                      f"({fd}, {f:#x})", fds=(fd,))
        # Where the file stands as the mode changes (PosixHost hands a position it keeps to the kernel
        # on entering append mode and takes it back on leaving), then where a write lands.
        self.tell(at)
        self._write(fd, b"+")

    @rule(at=FD_INDEX)
    def prestat(self, at):
        fd = self.fd_at(at)
        self.step("fd_prestat_get", lambda: self.sb.fd_prestat_get(self.s, fd), (fd, STAT), f"({fd})",
                  result=lambda w: (w.get(STAT, 1)[0], w.u32(STAT + 4)), model_result=lambda r: (int(r[0]), r[1]),
                  outs=((STAT, 8),), fds=(fd,))
        d = self.mod.cx.fds.get(fd) if fd in self.mod.cx.fds else None
        for fit in ("exact", "short", "long"):  # cheap: every fit, every time
            self._dir_name(fd, fit_len(fit, len(d.preopen.encode()) if d is not None and d.preopen else 4))

    def _dir_name(self, fd, n):
        self.step("fd_prestat_dir_name", lambda: self.sb.fd_prestat_dir_name(self.s, fd, n), (fd, BUF, n),
                  f"({fd}, {n})", result=lambda w: w.get(BUF, len(w.cx.fds.get(fd).preopen.encode())),
                  model_result=lambda r: r[0], outs=((BUF, n),), fds=(fd,))

    # --- files ------------------------------------------------------------------------------------
    def _write(self, fd, data, offset=None):
        for w in (self.mod, self.posix):
            w.put(BUF, data)
            w.put(IOV, BUF.to_bytes(4, "little") + len(data).to_bytes(4, "little"))
        if offset is None:
            return self.step("fd_write", lambda: self.sb.fd_write(self.s, fd, (data,)), (fd, IOV, 1, OUT),
                             f"({fd}, {data!r})", result=lambda w: w.u32(OUT), model_result=lambda r: r[0],
                             outs=((OUT, 4),), fds=(fd,))
        return self.step("fd_pwrite", lambda: self.sb.fd_pwrite(self.s, fd, (data,), offset), (fd, IOV, 1, offset, OUT),
                         f"({fd}, {data!r}, {offset})", result=lambda w: w.u32(OUT), model_result=lambda r: r[0],
                         outs=((OUT, 4),), fds=(fd,))

    @rule(data=st.binary(min_size=0, max_size=12), at=FD_INDEX)
    def write(self, data, at):
        self._write(self.file_at(at), data)

    @rule(data=st.binary(min_size=0, max_size=12), at=FD_INDEX, offset=st.sampled_from([0, 3, 40, 1 << 63]))
    def pwrite(self, data, at, offset):
        self._write(self.file_at(at), data, offset)

    def remaining(self, fd: int, offset=None) -> int:
        """Bytes a read would return (ModelHost's view): the answer an exact buffer is sized from."""
        if fd not in self.mod.cx.fds:
            return 4
        h = self.mod.cx.fds.get(fd).handle
        ino = getattr(h, "ino", None)
        if ino is None:  # stdin (what is left of it), or a stream that cannot be read
            return len(STDIN) - getattr(h, "_at", len(STDIN))
        node = self.mhost.fs.node(ino) if self.mhost.fs.has(ino) else None
        size = getattr(node, "size", 0) if node is not None else 0
        return max(0, size - (h.offset if offset is None else offset))

    def _read(self, fd, n, offset=None):
        for w in (self.mod, self.posix):
            half = n // 2  # two buffers: the split must not matter
            w.put(IOV, BUF.to_bytes(4, "little") + half.to_bytes(4, "little")
                  + (BUF + half).to_bytes(4, "little") + (n - half).to_bytes(4, "little"))
        lens = (n // 2, n - n // 2)
        if offset is None:
            self.step("fd_read", lambda: self.sb.fd_read(self.s, fd, lens), (fd, IOV, 2, OUT), f"({fd}, {n})",
                      result=lambda w: w.get(BUF, w.u32(OUT)), model_result=lambda r: r[0],
                      outs=((BUF, n), (OUT, 4)), fds=(fd,))
        else:
            self.step("fd_pread", lambda: self.sb.fd_pread(self.s, fd, lens, offset), (fd, IOV, 2, offset, OUT),
                      f"({fd}, {n}, {offset})", result=lambda w: w.get(BUF, w.u32(OUT)),
                      model_result=lambda r: r[0], outs=((BUF, n), (OUT, 4)), fds=(fd,))

    @rule(fit=FIT, at=FD_INDEX)
    def read(self, fit, at):
        fd = 0 if at in (12, 13) else self.file_at(at)  # stdin now and then, read twice: it is consumed
        self._read(fd, fit_len(fit, self.remaining(fd)))
        if fd == 0:
            self._read(fd, 4)

    @rule(fit=FIT, at=FD_INDEX, offset=st.sampled_from([0, 2, 11, 40, 1 << 63]))
    def pread(self, fit, at, offset):
        fd = self.file_at(at)
        self._read(fd, fit_len(fit, self.remaining(fd, min(offset, 1 << 40))), offset)

    @rule(at=FD_INDEX, offset=st.sampled_from([0, 1, 3, 20, -1, -30, 1 << 63]), whence=st.sampled_from([0, 1, 2, 3]))
    def seek(self, at, offset, whence):
        fd = self.file_at(at)
        u = offset % (1 << 64)  # the guest passes an i64 as u64 bits
        signed = offset if offset < 1 << 63 else offset - (1 << 64)
        self.step("fd_seek", lambda: self.sb.fd_seek(self.s, fd, signed, whence), (fd, u, whence, OUT),
                  f"({fd}, {offset}, {whence})", result=lambda w: w.u64(OUT), model_result=lambda r: r[0],
                  outs=((OUT, 8),), fds=(fd,))

    @rule(at=FD_INDEX)
    def tell(self, at):
        fd = self.file_at(at)
        self.step("fd_tell", lambda: self.sb.fd_tell(self.s, fd), (fd, OUT), f"({fd})",
                  result=lambda w: w.u64(OUT), model_result=lambda r: r[0], outs=((OUT, 8),), fds=(fd,))

    @rule(at=FD_INDEX)
    def fd_stat(self, at):
        fd = self.file_at(at)
        self.fd_stat_of(fd)

    def fd_stat_of(self, fd: int) -> None:
        self.stat_step("fd_filestat_get", lambda: self.sb.fd_filestat_get(self.s, fd), (fd, STAT), f"({fd})", (fd,))

    @rule(at=FD_INDEX, size=st.sampled_from([0, 1, 5, 40, 1 << 63]))
    def set_size(self, at, size):
        fd = self.file_at(at)
        self.step("fd_filestat_set_size", lambda: self.sb.fd_filestat_set_size(self.s, fd, size), (fd, size),
                  f"({fd}, {size})", fds=(fd,))

    @rule(at=FD_INDEX, fst=FSTFLAGS)
    def fd_utimes(self, at, fst):
        fd = self.file_at(at)
        # Known times first (5, 6), so that "now", "unchanged" and a given time all differ after.
        for a, m, f in ((5, 6, 1 | 4), (10**9, 2 * 10**9, fst)):
            self.step("fd_filestat_set_times", lambda: self.sb.fd_filestat_set_times(self.s, fd, a, m, f),
                      (fd, a, m, f), f"({fd}, {a}, {m}, {f})", fds=(fd,))
        if self.mod.call_errno == 0:  # the times as a stat now reports them
            self.fd_stat_of(fd)

    @rule(at=FD_INDEX, offset=st.sampled_from([0, 2, 30]), length=st.sampled_from([0, 1, 8, (1 << 63) - 1]))
    def allocate(self, at, offset, length):
        fd = self.file_at(at)
        if length > 8:  # past I64_MAX (FBIG, the runtime's rule); at it, the answer is the file system's
            offset = max(offset, 2)
        self.step("fd_allocate", lambda: self.sb.fd_allocate(self.s, fd, offset, length), (fd, offset, length),
                  f"({fd}, {offset}, {length})", fds=(fd,))
        if self.mod.call_errno == 0:
            self.loose_mtime.add(self.mnode(fd))

    @rule(at=FD_INDEX, advice=st.integers(0, 6), length=st.sampled_from([0, 5]))
    def advise(self, at, advice, length):
        fd = self.file_at(at)
        self.step("fd_advise", lambda: self.sb.fd_advise(self.s, fd, 0, length, advice), (fd, 0, length, advice),
                  f"({fd}, {advice})", fds=(fd,))

    @rule(at=FD_INDEX, data=st.booleans())
    def sync(self, at, data):
        fd = self.file_at(at)
        name = "fd_datasync" if data else "fd_sync"
        self.step(name, lambda: getattr(self.sb, name)(self.s, fd), (fd,), f"({fd})", fds=(fd,))

    @rule(at=FD_INDEX, fit=FIT, cookie=st.sampled_from([0, 0, 1, 2, 3, 50]))
    def readdir(self, at, fit, cookie):
        fd = self.fd_at(at)
        ino, fs = self.mnode(fd), self.mhost.fs
        sizes = [24 + 1, 24 + 2]  # `.` and `..`, then the entries (in ModelHost's order, the model's)
        if ino is not None and fs.has(ino) and fs.is_dir(ino):
            sizes += [24 + len(name.encode()) for name, _ in fs.listing(ino)]
        n = min(fit_len(fit, sum(sizes[cookie:])), MEM - BUF)
        # Up to one byte short, the bytes used do not depend on the order the host lists in.
        whole = fit in ("exact", "long", "big") and cookie == 0
        # The runtime pages through the listing it read at cookie 0; if the directory changed since,
        # what a later cookie shows is left open (POSIX readdir), so only a current listing is compared.
        from vwasm.syscalls.path import _listing
        d = self.mod.cx.fds.get(fd) if fd in self.mod.cx.fds else None
        current = d is None or d.dir_state is None or cookie == 0 or d.dir_state == _listing(self.mod.cx, d)
        err, res, _ = self.step(
            "fd_readdir", lambda: self.sb.fd_readdir(self.s, fd, cookie), (fd, BUF, n, cookie, OUT),
            f"({fd}, {n}, cookie={cookie})",
            result=lambda w: w.dirents(BUF, w.u32(OUT)) if whole else w.u32(OUT) if cookie == 0 else None,
            model_result=lambda r: (sorted((e.name.decode(), int(e.d_type)) for e in r[0]) if whole
                                    else len(self.sb.encode_dirents(r[0], n)) if cookie == 0 else None),
            outs=((BUF, n), (OUT, 4)), fds=(fd,))
        if err == 0 and self.CHECK_MODEL and current:
            # ModelHost lists in the model's order: there the bytes are the model's, inode numbers aside.
            got = _without_inos(self.mod.get(BUF, self.mod.u32(OUT)))
            want = _without_inos(self.sb.encode_dirents(res[0], n))
            if got != want:
                raise Counterexample(f"fd_readdir({fd}, {n}, cookie={cookie}): model {want!r}, runtime {got!r}")

    # --- paths ------------------------------------------------------------------------------------
    @rule(path=_path_strategy(), at=FD_INDEX)
    def mkdir(self, path, at):
        fd = self.dir_at(at)
        self.step("path_create_directory", lambda: self.sb.path_create_directory(self.s, fd, path),
                  (fd, ("path", path)), f"({fd}, {path!r})", fds=(fd,))

    @rule(path=_path_strategy(), at=FD_INDEX)
    def unlink(self, path, at):
        fd = self.dir_at(at)
        self.situation(fd, path, False)
        self.step("path_unlink_file", lambda: self.sb.path_unlink_file(self.s, fd, path), (fd, ("path", path)),
                  f"({fd}, {path!r})", fds=(fd,))

    @rule(path=_path_strategy(), at=FD_INDEX)
    def rmdir(self, path, at):
        fd = self.dir_at(at)
        self.step("path_remove_directory", lambda: self.sb.path_remove_directory(self.s, fd, path),
                  (fd, ("path", path)), f"({fd}, {path!r})", fds=(fd,))

    @rule(text=st.sampled_from(["f", "d", "..", "../secret", "d/..", "ld", "nothere", "d/", "/etc", "../two/t",
                                "", "a\0b"]), path=_path_strategy(), at=FD_INDEX)
    def symlink(self, text, path, at):
        fd = self.dir_at(at)
        self.step("path_symlink", lambda: self.sb.path_symlink(self.s, text, fd, path),
                  (("path", text), fd, ("path", path)), f"({text!r}, {fd}, {path!r})", fds=(fd,))

    @rule(old=_named(EXISTING), new=_named(FRESH), at=FD_INDEX, at2=FD_INDEX)
    def rename(self, old, new, at, at2):
        fd, fd2 = self.dir_at(at), self.dir_at(at2)
        if fd != fd2:
            event("path_rename across directories")
        self.step("path_rename", lambda: self.sb.path_rename(self.s, fd, old, fd2, new),
                  (fd, ("path", old), fd2, ("path", new)), f"({fd}, {old!r}, {fd2}, {new!r})", fds=(fd, fd2))

    @rule(old=_named(EXISTING), new=_named(FRESH), follow=st.booleans(), at=FD_INDEX, at2=FD_INDEX)
    def link(self, old, new, follow, at, at2):
        fd, fd2 = self.dir_at(at), self.dir_at(at2)
        self.situation(fd, old, follow)
        if fd != fd2:
            event("path_link across directories")
        self.step("path_link", lambda: self.sb.path_link(self.s, fd, int(follow), old, fd2, new),
                  (fd, int(follow), ("path", old), fd2, ("path", new)),
                  f"({fd}, {old!r}, {fd2}, {new!r}, follow={follow})", fds=(fd, fd2))

    @initialize()
    def seeded_cases(self):
        """Every sequence starts with cases no drawing may miss, leaving the table as it found it:
        seeded link texts read from /box into buffers of their size and one byte less (an output cut
        to its buffer), and a descriptor renumbered onto another open one (the displaced one must
        be closed on the host), then closed."""
        first, second = self.lowest_free(), self.lowest_free() + 1
        self._open(3, "f", 0, ALL, ALL, True, 0)
        self._open(3, "f", 0, ALL, ALL, True, 0)
        self.step("fd_renumber", lambda: self.sb.fd_renumber(self.s, second, first), (second, first),
                  f"({second}, {first})", fds=(second, first))
        self.step("fd_close", lambda: self.sb.fd_close(self.s, first), (first,), f"({first})", fds=(first,))
        for path in ("lf", "tw"):
            need = len(SEED["box"][path])
            for n in (need, need - 1):
                self.readlink_into(3, path, n)

    @rule(path=_named(LINKS), fit=FIT, at=FD_INDEX)
    def readlink(self, path, fit, at):
        from vwasm.model.fs import Symlink
        from vwasm.model.paths import resolve_entry
        fd = self.dir_at(at)
        self.situation(fd, path, False)
        text, start = "", self.mnode(fd)
        try:
            r = resolve_entry(self.mhost.fs, start, path)
            if r.node is not None and isinstance(self.mhost.fs.node(r.node), Symlink):
                text = self.mhost.fs.node(r.node).target
        except Exception:  # noqa: BLE001 - this only sizes the buffer
            pass
        for f in dict.fromkeys((fit, "exact", "short")):  # the buffer the answer needs, and one byte less
            n = fit_len(f, len(text.encode()))
            self.readlink_into(fd, path, n)

    def readlink_into(self, fd: int, path: str, n: int) -> None:
        """path_readlink of `path` from `fd` into a buffer of `n` bytes (the text cut to it)."""
        self.step("path_readlink", lambda: self.sb.path_readlink(self.s, fd, path, n),
                  (fd, ("path", path), BUF, n, OUT), f"({fd}, {path!r}, {n})",
                  result=lambda w: w.get(BUF, w.u32(OUT)), model_result=lambda r: r[0],
                  outs=((BUF, n), (OUT, 4)), fds=(fd,))

    @rule(path=_path_strategy(), follow=st.booleans(), at=FD_INDEX)
    def path_stat(self, path, follow, at):
        fd = self.dir_at(at)
        self.situation(fd, path, follow)
        self.path_stat_of(fd, path, follow)

    def path_stat_of(self, fd: int, path, follow: bool) -> None:
        self.stat_step("path_filestat_get", lambda: self.sb.path_filestat_get(self.s, fd, int(follow), path),
                       (fd, int(follow), ("path", path), STAT), f"({fd}, {path!r}, follow={follow})", (fd,))

    def stat_step(self, name, model_call, impl_args, detail, fds) -> None:
        """A stat call: type, links and size compared in every world, then the times. Over ModelHost
        the access and modification times are the model's (set by set_times or by a change, or
        zeros for a stream); over PosixHost the modification time is the same (the access time is
        the kernel's: reads move it, relatime)."""
        err, res, _ = self.step(name, model_call, impl_args, detail, result=lambda w: w.filestat(STAT),
                                model_result=lambda r: _stat_view(r[0].filetype, r[0].nlink, r[0].size),
                                outs=((STAT, 64),), fds=fds)
        if self.mod.call_errno != 0:
            return
        ino, atim, mtim = self.mod.times(STAT)
        mod = (_time_view(atim), _time_view(mtim))
        if self.CHECK_MODEL and mod != (_time_view(res[0].atim), _time_view(res[0].mtim)):
            raise Counterexample(f"{name}{detail}: (atim, mtim) in the model {res[0].atim, res[0].mtim}, "
                                 f"over ModelHost {atim, mtim}")
        posix_mtim = self.posix.times(STAT)[2]
        if ino not in self.loose_mtime and _time_view(posix_mtim) != mod[1]:
            raise Counterexample(f"{name}{detail}: mtim over ModelHost {mtim}, over PosixHost {posix_mtim}")

    @rule(path=_path_strategy(), follow=st.booleans(), fst=FSTFLAGS, at=FD_INDEX)
    def path_utimes(self, path, follow, fst, at):
        fd = self.dir_at(at)
        self.situation(fd, path, follow)
        for a, m, f in ((5, 6, 1 | 4), (10**9, 2 * 10**9, fst)):  # known times first, as in fd_utimes
            self.step("path_filestat_set_times",
                      lambda: self.sb.path_filestat_set_times(self.s, fd, int(follow), path, a, m, f),
                      (fd, int(follow), ("path", path), a, m, f), f"({fd}, {path!r}, follow={follow}, {a}, {m}, {f})",
                      fds=(fd,))
        if self.mod.call_errno == 0:  # the times as a stat now reports them
            self.path_stat_of(fd, path, follow)

    # --- boundaries -------------------------------------------------------------------------------
    @rule(tail=st.sampled_from(["f", "d/g", "new", "ld/g", "d/new"]),
          call=st.sampled_from(["stat", "open", "mkdir", "unlink"]), at=FD_INDEX)
    def long_path(self, tail, call, at):
        """Paths of PATH_MAX-2 .. PATH_MAX+1 bytes (`./` repeated, then `tail`), every length each time:
        PATH_MAX counts the NUL, so PATH_MAX-1 bytes is the longest path."""
        for length in (PATH_MAX - 2, PATH_MAX - 1, PATH_MAX, PATH_MAX + 1):
            k, pad = divmod(length - len(tail), 2)
            path = "./" * k + "/" * pad + tail
            assert len(path) == length
            event(f"path of PATH_MAX{length - PATH_MAX:+d} bytes")
            self._path_call(call, self.dir_at(at % 8), path)

    @rule(call=st.sampled_from(["open", "create", "stat", "mkdir", "rename", "unlink", "readlink"]),
          tail=st.sampled_from(["", "/", "/g"]))
    def slash_links(self, call, tail):
        """Every link text ending in `/` (to a directory, a file, nothing), each time, from /box (fd 3
        while it is open), final, with a slash after it or in the middle of a path (drawn): a trailing
        slash in a final link's text asks for a directory, as one in the path does."""
        for path in ("ldd" + tail, "lfs" + tail, "dangs" + tail):
            if call == "readlink":  # the seeded text, into a buffer of its size and one byte less
                need = len(SEED["box"][path.split("/")[0]])
                for n in (need, need - 1):
                    self.readlink_into(3, path, n)
            elif call == "create":
                self._open(3, path, 1, ALL, ALL, True, 0)
            else:
                self._path_call(call, 3, path)

    @rule(new=st.sampled_from(["new", "n2", "f", "d", "dang", "d/new", "ldd", "new/"]))
    def link_kinds(self, new):
        """path_link from every kind of source -- the directory itself, a directory, a symlink to
        one, a file, a symlink to one, a dangling symlink -- to the drawn name, in /box (fd 3 while
        it is open): directories first, so they meet a name that may still be free."""
        for old in (".", "d", "ld", "f", "lf", "dang"):
            self.step("path_link", lambda old=old: self.sb.path_link(self.s, 3, 0, old, 3, new),
                      (3, 0, ("path", old), 3, ("path", new)), f"(3, {old!r}, 3, {new!r})", fds=(3, 3))

    @rule()
    def rename_refusals(self):
        """path_rename's refusals, each time, in /box (fd 3 while it is open): onto a directory the
        source lies in, into its own subtree, a directory onto a file and back, onto `.`, a symlink
        to a directory into that directory (Linux decides each before any change)."""
        for old, new in (("d/g", "d"), ("d/g", "."), ("d", "d/new"), ("ld", "d/new"), ("d", "f"), ("f", "d"),
                         ("d", "."), ("f", "d/")):
            self.step("path_rename", lambda old=old, new=new: self.sb.path_rename(self.s, 3, old, 3, new),
                      (3, ("path", old), 3, ("path", new)), f"(3, {old!r}, 3, {new!r})", fds=(3, 3))

    @rule(where=st.sampled_from(["", "d/", "e/"]),
          call=st.sampled_from(["open", "mkdir", "stat", "symlink", "rename", "link", "unlink"]), at=FD_INDEX)
    def long_name(self, where, call, at):
        """Components of 255 bytes (the most) and 256 (one too many), ASCII and two-byte UTF-8, all
        four each time."""
        fd = self.dir_at(at % 8)
        for name in LONG:
            event(f"component of {len(name.encode())} bytes")
            if call == "rename":  # from a source that exists, so that the new name's length decides
                self._path_call("mkdir", fd, "lsrc")
                self._path_call(call, fd, where + name, src="lsrc")
            else:
                self._path_call(call, fd, where + name)

    @rule(path=st.sampled_from(["f\0", "\0", "d/\0/g", "new\0x", "ld\0"]),
          call=st.sampled_from(["open", "mkdir", "stat", "symlink", "rename", "link", "unlink"]), at=FD_INDEX)
    def nul_path(self, path, call, at):
        """A NUL byte anywhere in a path (it cannot reach the OS: EINVAL, nothing done)."""
        event("path with a NUL byte")
        self._path_call(call, self.dir_at(at % 8), path)

    @rule(raw=st.sampled_from([b"\xff", b"d/\xc0\xae", b"f\xed\xa0\x80", b"\xe9t\xe9", b"new\x80"]),
          call=st.sampled_from(["open", "mkdir", "stat", "symlink", "rename", "link", "unlink", "readlink"]),
          at=FD_INDEX)
    def bad_bytes(self, raw, call, at):
        """Paths that are not UTF-8 (EILSEQ, nothing done), from a directory holding every right (the
        order against descriptor and rights errors is left to the handlers)."""
        from vwasm.model.paths import decode_path
        from vwasm.model.wasi import DIR_RIGHTS, WasiError
        full = [fd for fd, t in self.mod.table().items() if t[0] == "dir" and t[1] & DIR_RIGHTS == DIR_RIGHTS]
        if not full:
            return
        fd = full[at % len(full)]
        try:
            decode_path(raw)
        except WasiError as e:
            return self._raw_path_call(call, fd, raw, int(e.errno))
        raise AssertionError(f"{raw!r} decodes")

    def _raw_path_call(self, call, fd, raw, model_errno):
        """The model's answer to an undecodable path is the decoding error, the state unchanged."""
        name, args, outs = {
            "open": ("path_open", (fd, 0, ("path", raw), 1, ALL, ALL, 0, OUT), ((OUT, 4),)),
            "mkdir": ("path_create_directory", (fd, ("path", raw)), ()),
            "stat": ("path_filestat_get", (fd, 0, ("path", raw), STAT), ((STAT, 64),)),
            "symlink": ("path_symlink", (("path", raw), fd, ("path", "new")), ()),
            "rename": ("path_rename", (fd, ("path", "f"), fd, ("path", raw)), ()),
            "link": ("path_link", (fd, 0, ("path", raw), fd, ("path", "new")), ()),
            "unlink": ("path_unlink_file", (fd, ("path", raw)), ()),
            "readlink": ("path_readlink", (fd, ("path", raw), BUF, 16, OUT), ((BUF, 16), (OUT, 4))),
        }[call]
        self.step(name, lambda: (self.s, model_errno, ()), args, f"({raw!r})", outs=outs)

    def _path_call(self, call, fd, path, src="f"):
        if call == "open":
            return self._open(fd, path, 1, ALL, ALL, True, 0)
        if call == "mkdir":
            return self.step(
                "path_create_directory", lambda: self.sb.path_create_directory(self.s, fd, path),
                (fd, ("path", path)), f"({fd}, {path[:20]!r}..)", fds=(fd,))
        if call == "stat":
            return self.step("path_filestat_get", lambda: self.sb.path_filestat_get(self.s, fd, 1, path),
                             (fd, 1, ("path", path), STAT), f"({fd}, {path[:20]!r}..)",
                             result=lambda w: w.filestat(STAT),
                             model_result=lambda r: _stat_view(r[0].filetype, r[0].nlink, r[0].size),
                             outs=((STAT, 64),), fds=(fd,))
        if call == "unlink":
            return self.step("path_unlink_file", lambda: self.sb.path_unlink_file(self.s, fd, path),
                             (fd, ("path", path)), f"({fd}, {path[:20]!r}..)", fds=(fd,))
        if call == "symlink":
            return self.step("path_symlink", lambda: self.sb.path_symlink(self.s, "f", fd, path),
                             (("path", "f"), fd, ("path", path)), f"({fd}, {path[:20]!r}..)", fds=(fd,))
        if call == "rename":
            return self.step("path_rename", lambda: self.sb.path_rename(self.s, fd, src, fd, path),
                             (fd, ("path", src), fd, ("path", path)), f"({fd}, {src}, {path[:20]!r}..)", fds=(fd, fd))
        if call == "link":
            return self.step("path_link", lambda: self.sb.path_link(self.s, fd, 0, "f", fd, path),
                             (fd, 0, ("path", "f"), fd, ("path", path)), f"({fd}, f, {path[:20]!r}..)",
                             fds=(fd, fd))
        raise AssertionError(call)

    @rule(tail=st.sampled_from(["", "/", "/new", "/.."]), call=st.sampled_from(["stat", "open", "mkdir"]))
    def walk_chain(self, tail, call):
        """The environment (not the guest) puts a chain of CHAIN symlinks into /two -- c0 -> c1 ->
        ... -> c40 -> e -- in the model, in ModelHost and on disk alike; following c_start takes
        41 - start expansions: one past the budget (c0), at it (c1), one below (c2), all three each
        time. Then the chain goes again (it would slow every later comparison)."""
        from dataclasses import replace
        two, root = os.path.join(self.tmp, "two"), self.roots["two"]
        links = [(f"c{i}", f"c{i + 1}" if i + 1 < CHAIN else "e") for i in range(CHAIN)]
        for name, text in links:
            os.symlink(text, os.path.join(two, name))
            self.mhost.fs, _ = self.mhost.fs.create_symlink(root, name, text, NOW)
            if self.CHECK_MODEL:
                self.s = replace(self.s, fs=self.s.fs.create_symlink(root, name, text, NOW)[0])
        for start in (0, 1, 2):
            event(f"symlink chain of budget{CHAIN - start - 40:+d}")
            self._path_call(call, 4, f"c{start}{tail}")
        for name, _ in links:
            os.unlink(os.path.join(two, name))
            self.mhost.fs = self.mhost.fs.unlink(root, name, NOW)
            if self.CHECK_MODEL:
                self.s = replace(self.s, fs=self.s.fs.unlink(root, name, NOW))

    # --- the rest of the calls --------------------------------------------------------------------
    @rule(exact=st.booleans())
    def args_environ(self, exact):
        for sizes, get in (("args_sizes_get", "args_get"), ("environ_sizes_get", "environ_get")):
            _, res, val = self.step(sizes, lambda: getattr(self.sb, sizes)(self.s), (OUT, OUT2), "",
                                    result=lambda w: (w.u32(OUT), w.u32(OUT2)), model_result=lambda r: tuple(r),
                                    outs=((OUT, 4), (OUT2, 4)))
            count, size = val if val is not None else (0, 0)
            # Both results at one address: written in the witx's order, the size stays (as wasmtime).
            self.step(sizes, lambda: getattr(self.sb, sizes)(self.s), (OUT, OUT), " (both results at one address)",
                      result=lambda w: w.u32(OUT), model_result=lambda r: r[1], outs=((OUT, 4),))
            self.step(get, lambda: getattr(self.sb, get)(self.s), (ARGV, BUF), "",
                      result=lambda w: tuple(w.get(w.u32(ARGV + 4 * i), 64).split(b"\0")[0] + b"\0"
                                             for i in range(count)) + (w.get(BUF, size),),
                      model_result=lambda r: tuple(r[0]) + (b"".join(r[0]),),
                      outs=((ARGV, 4 * count), (BUF, size)))

    @rule(clock=st.integers(0, 4), precision=st.sampled_from([0, 1, 1 << 63]))
    def clock(self, clock, precision):
        self.step("clock_res_get", lambda: self.sb.clock_res_get(self.s, clock), (clock, OUT), f"({clock})",
                  outs=((OUT, 8),))
        self.step("clock_time_get", lambda: self.sb.clock_time_get(self.s, clock, precision),
                  (clock, precision, OUT), f"({clock})", outs=((OUT, 8),))

    @rule(n=st.sampled_from([0, 1, 16, 100]))
    def random(self, n):
        # The bytes are the environment's choice: over ModelHost they are ModelHost's, and the model
        # is given the same, so the buffer must hold exactly them; over PosixHost they are the OS's,
        # so a buffer of 16 or more that still holds its canary (chance 2**-128) was never filled.
        for w in (self.mod, self.posix):
            w.put(BUF, bytes([CANARY]) * n)
        err, res, _ = self.step("random_get", lambda: self.sb.random_get(self.s, n, self.mhost.random(n)), (BUF, n),
                                f"({n})", result=lambda w: None, model_result=lambda r: None, outs=((BUF, n),))
        want = res[0] if self.CHECK_MODEL else self.mhost.random(n)  # (the call cannot fail: BUF + n fits)
        if self.mod.get(BUF, n) != want:
            raise Counterexample(f"random_get({n}): model {want!r}, runtime over ModelHost {self.mod.get(BUF, n)!r}")
        if n >= 16 and self.posix.get(BUF, n) == bytes([CANARY]) * n:
            raise Counterexample(f"random_get({n}) over PosixHost left the buffer as it was")

    @rule()
    def sched_yield(self):
        self.step("sched_yield", lambda: self.sb.sched_yield(self.s), ())

    @rule(sig=st.sampled_from([0, 1, 9, 30, 31, 100]))
    def proc_raise(self, sig):
        self.step("proc_raise", lambda: self.sb.proc_raise(self.s, sig), (sig,), f"({sig})")

    @rule(code=st.sampled_from([0, 1, 126, 255, 0xFFFF_FFFF]))
    def proc_exit(self, code):
        """The guest's last call: every world ends with this status (the sequence then goes on over
        the state before, as if the exit had not happened)."""
        self.COUNT["steps"] += 1
        got = self.both("proc_exit", (code,))
        want = ("exit", code)
        if self.CHECK_MODEL:
            s, _, _ = self.sb.proc_exit(self.s, code)
            want = ("exit", s.exit_code)
        event(f"proc_exit -> exit {'0' if code == 0 else 'nonzero'}")
        if not (got[0] == got[1] == want):
            raise Counterexample(f"proc_exit({code}): model {want}, runtimes {got}")

    @rule(subs=st.lists(st.tuples(st.sampled_from(["clock", "absclock", "badclock", "badflags", "read", "write",
                                                   "badtag", "read at end"]), FD_INDEX), min_size=0, max_size=3))
    def poll(self, subs):
        """The subscriptions drawn, then the same without the ones that fail the whole call."""
        self._poll(subs)
        valid = [(k, at) for k, at in subs if not k.startswith("bad")]
        if valid and valid != subs:
            self._poll(valid)

    def _poll(self, subs):
        from vwasm.model.wasi import (
            EVENT, SUBSCRIPTION, SUBSCRIPTION_CLOCK, SUBSCRIPTION_FD, SUBSCRIPTION_UNION_OFFSET,
        )
        fd_subs = any(k in ("read", "write", "read at end") for k, _ in subs)
        rows, model_subs = [], []
        for i, (kind, at) in enumerate(subs):
            fd = self.file_at(at) if kind in ("read", "write", "read at end") else self.fd_at(at)
            if kind == "read at end":  # a file read to its end reports a hang-up
                self.step(
                    "fd_seek", lambda: self.sb.fd_seek(self.s, fd, 0, 2), (fd, 0, 2, OUT), f"({fd}, 0, END)",
                    result=lambda w: w.u64(OUT), model_result=lambda r: r[0], outs=((OUT, 8),), fds=(fd,))
                kind = "read"
            # A clock wait is 0 unless a descriptor subscription ends the wait at once (files and the
            # in-process streams are always ready).
            timeout = 10**9 if fd_subs and at % 2 else 0
            if kind in ("read", "write"):
                tag = 1 if kind == "read" else 2
                rows.append((i, tag, None, fd))
                model_subs.append(self.sb.Subscription(i, tag, fd=fd))
                continue
            tag = 3 if kind == "badtag" else 0
            clock = 2 if kind == "badclock" else at % 2
            flags = 2 if kind == "badflags" else 1 if kind == "absclock" else 0
            if kind == "absclock":
                timeout = 0
            rows.append((i, tag, (clock, timeout, 0, flags), None))
            model_subs.append(self.sb.Subscription(i, tag, clock_id=clock, timeout=timeout, flags=flags))
        for w in (self.mod, self.posix):
            for i, tag, clock, fd in rows:
                at = SUBS + i * SUBSCRIPTION.size
                w.put(at, bytes(SUBSCRIPTION.size))
                SUBSCRIPTION.codec.pack_into(w.cx.mem.view, at, i, tag)
                if clock is not None:
                    SUBSCRIPTION_CLOCK.codec.pack_into(w.cx.mem.view, at + SUBSCRIPTION_UNION_OFFSET, *clock)
                else:
                    SUBSCRIPTION_FD.codec.pack_into(w.cx.mem.view, at + SUBSCRIPTION_UNION_OFFSET, fd)

        def events(w):
            return tuple(EVENT.codec.unpack_from(w.cx.mem.view, EVENTS + j * EVENT.size) for j in range(w.u32(OUT)))
        files = {i for i, _, _, fd in rows if fd is not None and fd in self.mod.cx.fds
                 and self.mod.cx.fds.get(fd).kind == "file"}
        ready = []

        def model():
            try:
                return self.sb.poll_oneoff(self.s, tuple(model_subs), tuple(ready))
            except AssertionError:
                raise Counterexample(f"poll_oneoff({subs}): the runtime's wait ended with nothing ready") from None
        if self.CHECK_MODEL:
            # Which clocks and streams are ready is the environment's choice: the one ModelHost made.
            saved = self.s
            outs = self.mod.call("poll_oneoff", SUBS, EVENTS, len(rows), OUT, outs=((EVENTS, 32 * len(rows)), (OUT, 4)))
            if outs == 0:
                ready.extend(sorted({e[0] for e in events(self.mod)} - files))
            self.s = saved
        self.step("poll_oneoff", model, (SUBS, EVENTS, len(rows), OUT), f"({subs})", result=events,
                  model_result=lambda r: tuple((e.userdata, int(e.error), int(e.type), e.nbytes, int(e.flags))
                                               for e in r[0]),
                  outs=((EVENTS, 32 * len(rows)), (OUT, 4)), fds=tuple(fd for _, _, _, fd in rows if fd is not None))

    # --- the abstraction function ----------------------------------------------------------------
    @invariant()
    def same_abstract_state(self):
        from vwasm.model.fs import ROOT
        h = self.mhost.fs.snapshot(ROOT)
        m = self.s.fs.snapshot(ROOT) if self.CHECK_MODEL else h
        real = disk_snapshot(self.tmp)
        if not (m == h == real):
            note(f"model {m}\nModelHost {h}\nreal {real}")
            raise Counterexample(f"trees differ: model {m}, runtime over ModelHost {h}, real tree {real}")
        if h["ro"] != ("dir", self.ro_start) or h["secret"] != ("file", SEED["secret"]):
            raise Counterexample(f"the read-only preopen or the file outside changed: {h['ro']}, {h['secret']}")
        t1, t2 = self.mod.table(), self.posix.table()
        tm = model_table(self.s) if self.CHECK_MODEL else t1
        if not (tm == t1 == t2):
            raise Counterexample(f"descriptor tables differ: model {tm}, over ModelHost {t1}, over PosixHost {t2}")
        o1, o2 = self.mod.written(), self.posix.written()
        om = (self.s.stdout, self.s.stderr) if self.CHECK_MODEL else o1
        if not (om == o1 == o2):
            raise Counterexample(f"stdout/stderr differ: model {om}, over ModelHost {o1}, over PosixHost {o2}")
        if not (self.mod.rep_ok() and self.posix.rep_ok()):
            raise Counterexample("runtime descriptor table shares a handle between two numbers")
        p1, p2 = self.mod.positions(), self.posix.positions()
        if p1 != p2:
            raise Counterexample(f"file positions differ: over ModelHost {p1}, over PosixHost {p2}")
        problem = (files_view_problem(self.mod.cx.fds) or files_view_problem(self.posix.cx.fds)
                   or positions_problem(self.posix.cx.fds))
        if problem:
            raise Counterexample(problem)

    @invariant()
    def no_host_leak(self):
        """The process holds exactly the host descriptors it held before plus the table's."""
        now, held = open_host_fds(), self.posix.host_fds()
        want = self.baseline | held
        if now != want:
            raise Counterexample(f"host descriptors: open {sorted(now - want)} beyond the table's, "
                                 f"{sorted(want - now)} of the table's closed")
