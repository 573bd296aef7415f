"""Three worlds driven by the same call sequence: the runtime's handlers over ModelHost, the same
handlers over PosixHost on a real temporary directory, and the model's transitions
(`vwasm.model.sandbox`). Handlers are called directly with a `Context` whose memory is a plain
buffer (no wasm). After every call the worlds must agree on the errno and the results, and the
abstract states must be equal:

  - the tree below the preopen: model `s.fs.snapshot(preopen)`, `ModelHost.fs.snapshot(preopen)`
    and `FileSystem.from_host(<temp dir>).snapshot()` (the real tree read back);
  - the descriptor table (the abstraction function): fd -> (kind, rights_base, rights_inheriting,
    fdflags) for every descriptor, the standard streams included;
  - what was written to stdout/stderr;
  - the runtime's own representation invariant (no two numbers share a handle).

Results compared on success: new descriptor numbers, bytes read, link texts, offsets (fd_seek,
fd_tell), fdstat, filestat (filetype, nlink, and size for non-directories -- not ino, dev or times:
the model's are abstract, and a real directory's st_size is the file system's), fd_readdir (the set
of (name, type): the runtime lists in the host's order).

Every sequence starts from the same small tree, made by the calls themselves (so it is checked
too): a directory `d` holding a file `g`, a file `f` with bytes, and symlinks to a directory (`ld`),
to a file (`lf`), to a directory with a trailing slash (`ldd`), a dangling one (`dang`), and escapes
(`esc` -> `..`, `sec` -> `../secret`). Paths are drawn over those names, so a final symlink with and
without SYMLINK_FOLLOW, stat/utimes/readlink/link on links, and links to files, directories and
nothing all come up; `event()` records the call/outcome kinds and which of those situations occurred.

Used by `refinement.stateful` (model and both runtimes) and `host.posix_vs_model` (the runtime over
ModelHost vs over PosixHost only: the TCB check).
"""
from __future__ import annotations

import os
import shutil
import struct
import tempfile

from hypothesis import event, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from proofs.core import Counterexample

NAMES = ["f", "d", "g", "ld", "lf", "ldd", "dang", "esc", "sec", "new", "..", "."]
LINKS = {"ld": "d", "lf": "f", "ldd": "d/", "dang": "nothere", "esc": "..", "sec": "../secret"}
MEM = 1 << 15
OUT, STAT, IOV, PATH1, PATH2, BUF = 0, 256, 512, 4096, 6144, 8192
STDIN = b"input on stdin"


def _path_strategy():
    comp = st.sampled_from(NAMES)
    return (st.lists(comp, min_size=1, max_size=3).map("/".join)
            | st.sampled_from(["f", "d", "d/g", "ld", "lf", "ldd", "dang", "esc", "sec", "ld/g", "lf/", "ld/",
                               "dang/", "new", "d/new", "ld/new", "sec/x"]))


RIGHTS = st.sampled_from([(1 << 30) - 1, 0x0FFF_FFFF, 0x2 | 0x40 | 0x4 | 0x20, 0x2, 0x40, 0])
FD_INDEX = st.integers(0, 15)  # which descriptor: see Machine.fd_at
LINK_SITUATIONS = ("final symlink", "dangling symlink", "symlink to a directory", "symlink to a file",
                   "escaping symlink")


class World:
    """One runtime instance: a host, a descriptor table, a context over a plain buffer."""

    def __init__(self, host, box_path: str) -> None:
        from vwasm.context import Context
        from vwasm.memory import GuestMemory
        from vwasm.sandbox import Config, descriptor_table
        cfg = Config()
        cfg.preopen_dir(box_path, "/box")
        self.out = {"stdout": [], "stderr": []}
        cfg.stdin_bytes(STDIN)
        cfg.stdout_custom(self.out["stdout"].append)
        cfg.stderr_custom(self.out["stderr"].append)
        self.host = host
        self.cx = Context(host, descriptor_table(cfg, host), [], [])
        self.cx.mem = GuestMemory.over(bytearray(MEM))

    def call(self, name: str, *args):
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

    def put_path(self, at: int, text: str) -> tuple[int, int]:
        raw = text.encode()
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
        _dev, _ino, ft, nlink, size, *_ = struct.unpack_from("<QQB7xQQQQQ", self.get(at, 64))
        return _stat_view(ft, nlink, size)

    def fdstat(self, at: int) -> tuple:
        return struct.unpack_from("<BxH4xQQ", self.get(at, 24))

    def dirents(self, at: int, used: int) -> list:
        raw, out, i = self.get(at, used), [], 0
        while i + 24 <= len(raw):
            _next, _ino, namlen, typ = struct.unpack_from("<QQIB3x", raw, i)
            out.append((raw[i + 24:i + 24 + namlen].decode(), typ))
            i += 24 + namlen
        return sorted(out)

    def table(self) -> dict:
        from vwasm.fdtable import DIR, FILE
        return {fd: ("dir" if d.kind == DIR else "file" if d.kind == FILE else "stream",
                     int(d.rights_base), int(d.rights_inheriting), int(d.fdflags))
                for fd, d in self.cx.fds.items()}

    def written(self) -> tuple:
        return b"".join(self.out["stdout"]), b"".join(self.out["stderr"])

    def rep_ok(self) -> bool:
        handles = [id(d.handle) for _, d in self.cx.fds.items()]
        return len(handles) == len(set(handles))

    def close(self) -> None:
        for fd, d in self.cx.fds.items():
            try:
                self.host.close(d.handle)
            except Exception:  # noqa: BLE001
                pass


def _stat_view(filetype: int, nlink: int, size: int) -> tuple:
    from vwasm.model.wasi import Filetype
    return (int(filetype), int(nlink), None if filetype == Filetype.DIRECTORY else int(size))


def model_table(s) -> dict:
    return {fd: ("dir" if d.is_dir else "file" if d.is_file else "stream",
                 int(d.rights_base), int(d.rights_inheriting), int(d.flags)) for fd, d in s.fds.entries}


class Machine(RuleBasedStateMachine):
    CHECK_MODEL = True  # False: only the runtime over ModelHost vs over PosixHost (the TCB check)
    COUNT = {"steps": 0}

    def __init__(self) -> None:
        super().__init__()
        from vwasm.model_host import ModelHost
        from vwasm.posix_host import PosixHost
        from vwasm.model import sandbox as sb
        from vwasm.model.fs import ROOT, FileSystem
        self.sb = sb
        self.tmp = tempfile.mkdtemp(prefix="vwasm-machine-")
        self.box = os.path.join(self.tmp, "box")
        os.mkdir(self.box)
        with open(os.path.join(self.tmp, "secret"), "w") as fh:
            fh.write("outside")
        self.posix = World(PosixHost(), self.box)
        self.mhost = ModelHost(FileSystem(), {self.box: ROOT})
        self.mod = World(self.mhost, self.box)
        self.s = sb.initial_state(FileSystem(), (sb.Preopen("/box", ROOT),), stdin=STDIN)
        self.fds = [3]  # descriptors opened so far (>= 3), oldest first

    def teardown(self) -> None:
        self.posix.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- one call in the three worlds ---------------------------------------------------------------
    def both(self, name, *args):
        """Run handler `name` in both runtimes; args may contain ("path", text) placeholders."""
        outs = []
        for w in (self.mod, self.posix):
            real, at = [], [PATH1, PATH2]
            for a in args:
                if isinstance(a, tuple) and a[0] == "path":
                    real.extend(w.put_path(at.pop(0), a[1]))
                else:
                    real.append(a)
            outs.append(w.call(name, *real))
        return outs

    def agree(self, name, model_errno, impl_errnos, detail=""):
        e_m, e_p = impl_errnos
        self.COUNT["steps"] += 1
        if not self.CHECK_MODEL:
            event(f"{name} -> {self._ename(e_m)}")
            if e_m != e_p:
                raise Counterexample(f"{name}{detail}: runtime over ModelHost {self._ename(e_m)}, "
                                     f"over PosixHost {self._ename(e_p)}")
            return
        event(f"{name} -> {self._ename(model_errno)}")
        if not (int(model_errno) == e_m == e_p):
            raise Counterexample(f"{name}{detail}: model {self._ename(model_errno)}, runtime over ModelHost "
                                 f"{self._ename(e_m)}, over PosixHost {self._ename(e_p)}")

    def step(self, name, model_call, impl_args, detail="", result=None, model_result=None):
        """Run one call everywhere; on success compare `result(world)` across the runtimes and with
        `model_result(model results)`. Returns (errno, model results, runtime value or None)."""
        err = res = None
        if self.CHECK_MODEL:
            self.s, err, res = model_call()
        outs = self.both(name, *impl_args)
        self.agree(name, err, outs, detail)
        if outs[0] != 0 or result is None:
            return err, res, None
        vals = [result(w) for w in (self.mod, self.posix)]
        if vals[0] != vals[1]:
            raise Counterexample(f"{name}{detail}: over ModelHost {vals[0]!r}, over PosixHost {vals[1]!r}")
        if self.CHECK_MODEL and model_result is not None:
            m = model_result(res)
            if m != vals[0]:
                raise Counterexample(f"{name}{detail}: model {m!r}, runtime {vals[0]!r}")
        return err, res, vals[0]

    @staticmethod
    def _ename(e) -> str:
        from vwasm.model.wasi import Errno
        try:
            return Errno(int(e)).name
        except ValueError:
            return str(e)

    def fd_at(self, i: int) -> int:
        """Descriptor number i: mostly an open one (the newest first), sometimes a standard stream,
        the preopen, or a number never opened."""
        pool = self.fds[::-1] + [3, 0, 1, 2, 17]
        return pool[i % len(pool)]

    def dir_at(self, i: int) -> int:
        """A descriptor to resolve a path from: mostly an open directory (the newest first, the
        preopen among them), sometimes any descriptor (a file, a stream, a closed number)."""
        from vwasm.fdtable import DIR
        if i >= 12:
            return self.fd_at(i)
        dirs = [fd for fd in self.fds[::-1] if fd in self.mod.cx.fds and self.mod.cx.fds.get(fd).kind == DIR]
        return (dirs + [3])[i % (len(dirs) + 1)]

    def situation(self, path: str, follow: bool) -> None:
        """Record which link situation the path's final component is in (for coverage)."""
        from vwasm.model.fs import Dir, Symlink
        from vwasm.model.paths import resolve
        from vwasm.model.wasi import WasiError
        fs = self.mhost.fs
        try:
            r = resolve(fs, self.mhost_root, path, False)
        except WasiError:
            return
        if r.node is None or not isinstance(fs.node(r.node), Symlink):
            return
        event(f"final symlink ({'followed' if follow else 'not followed'})")
        try:
            t = resolve(fs, self.mhost_root, path, True)
        except WasiError as e:
            event(f"final symlink leads to {self._ename(e.errno)}")
            return
        kind = ("dangling" if t.node is None else "to a directory" if isinstance(fs.node(t.node), Dir)
                else "to a file")
        event(f"final symlink {kind}")

    @property
    def mhost_root(self) -> int:
        from vwasm.model.fs import ROOT
        return ROOT

    # --- the starting tree -----------------------------------------------------------------------
    @initialize()
    def tree(self):
        from vwasm.model.wasi import Oflags
        self.step("path_create_directory", lambda: self.sb.path_create_directory(self.s, 3, "d"), (3, ("path", "d")))
        for path, data in (("f", b"hello world"), ("d/g", b"g")):
            err, res, fd = self.step(
                "path_open", lambda: self.sb.path_open(self.s, 3, 0, path, Oflags.CREAT, (1 << 30) - 1, 0, 0),
                (3, 0, ("path", path), Oflags.CREAT, (1 << 30) - 1, 0, 0, OUT), result=lambda w: w.u32(OUT),
                model_result=lambda r: r[0])
            self._write(fd, data)
            self.step("fd_close", lambda: self.sb.fd_close(self.s, fd), (fd,))
        for name, text in LINKS.items():
            self.step("path_symlink", lambda: self.sb.path_symlink(self.s, text, 3, name),
                      (("path", text), 3, ("path", name)))

    # --- rules ----------------------------------------------------------------------------------
    @rule(path=_path_strategy(), oflags=st.sampled_from([0, 1, 2, 5, 8, 1 | 8, 3]), rb=RIGHTS, ri=RIGHTS,
          follow=st.booleans(), append=st.booleans(), at=FD_INDEX)
    def path_open(self, path, oflags, rb, ri, follow, append, at):
        dirfd = self.dir_at(at)
        fdflags = 1 if append else 0
        self.situation(path, follow)
        err, res, fd = self.step(
            "path_open", lambda: self.sb.path_open(self.s, dirfd, int(follow), path, oflags, rb, ri, fdflags),
            (dirfd, int(follow), ("path", path), oflags, rb, ri, fdflags, OUT),
            f"({dirfd}, {path!r}, follow={follow}, oflags={oflags}, rights={rb:#x}/{ri:#x})",
            result=lambda w: w.u32(OUT), model_result=lambda r: r[0])
        if fd is not None:
            self.fds.append(fd)

    @rule(path=_path_strategy())
    def mkdir(self, path):
        self.step("path_create_directory", lambda: self.sb.path_create_directory(self.s, 3, path),
                  (3, ("path", path)), f"({path!r})")

    @rule(path=_path_strategy())
    def unlink(self, path):
        self.situation(path, False)
        self.step("path_unlink_file", lambda: self.sb.path_unlink_file(self.s, 3, path), (3, ("path", path)),
                  f"({path!r})")

    @rule(path=_path_strategy())
    def rmdir(self, path):
        self.step("path_remove_directory", lambda: self.sb.path_remove_directory(self.s, 3, path),
                  (3, ("path", path)), f"({path!r})")

    @rule(text=st.sampled_from(["f", "d", "..", "../secret", "d/..", "ld", "nothere", "d/", "/etc"]),
          path=_path_strategy())
    def symlink(self, text, path):
        self.step("path_symlink", lambda: self.sb.path_symlink(self.s, text, 3, path),
                  (("path", text), 3, ("path", path)), f"({text!r}, {path!r})")

    @rule(old=_path_strategy(), new=_path_strategy())
    def rename(self, old, new):
        self.step("path_rename", lambda: self.sb.path_rename(self.s, 3, old, 3, new),
                  (3, ("path", old), 3, ("path", new)), f"({old!r}, {new!r})")

    @rule(old=_path_strategy(), new=_path_strategy(), follow=st.booleans())
    def link(self, old, new, follow):
        self.situation(old, follow)
        self.step("path_link", lambda: self.sb.path_link(self.s, 3, int(follow), old, 3, new),
                  (3, int(follow), ("path", old), 3, ("path", new)), f"({old!r}, {new!r}, follow={follow})")

    @rule(path=_path_strategy(), buf_len=st.sampled_from([0, 1, 3, 64]))
    def readlink(self, path, buf_len):
        self.situation(path, False)
        self.step("path_readlink", lambda: self.sb.path_readlink(self.s, 3, path, buf_len),
                  (3, ("path", path), BUF, buf_len, OUT), f"({path!r}, {buf_len})",
                  result=lambda w: w.get(BUF, w.u32(OUT)), model_result=lambda r: r[0])

    @rule(path=_path_strategy(), follow=st.booleans())
    def path_stat(self, path, follow):
        self.situation(path, follow)
        self.step("path_filestat_get", lambda: self.sb.path_filestat_get(self.s, 3, int(follow), path),
                  (3, int(follow), ("path", path), STAT), f"({path!r}, follow={follow})",
                  result=lambda w: w.filestat(STAT),
                  model_result=lambda r: _stat_view(r[0].filetype, r[0].nlink, r[0].size))

    @rule(path=_path_strategy(), follow=st.booleans(), fst=st.sampled_from([0, 1 | 4, 2 | 8, 1 | 2]))
    def path_utimes(self, path, follow, fst):
        self.situation(path, follow)
        self.step("path_filestat_set_times",
                  lambda: self.sb.path_filestat_set_times(self.s, 3, int(follow), path, 10**9, 2 * 10**9, fst),
                  (3, int(follow), ("path", path), 10**9, 2 * 10**9, fst), f"({path!r}, follow={follow}, {fst})")

    @rule(at=FD_INDEX)
    def fd_stat(self, at):
        fd = self.fd_at(at)
        self.step("fd_filestat_get", lambda: self.sb.fd_filestat_get(self.s, fd), (fd, STAT), f"({fd})",
                  result=lambda w: w.filestat(STAT),
                  model_result=lambda r: _stat_view(r[0].filetype, r[0].nlink, r[0].size))

    @rule(at=FD_INDEX)
    def fdstat(self, at):
        fd = self.fd_at(at)
        self.step("fd_fdstat_get", lambda: self.sb.fd_fdstat_get(self.s, fd), (fd, STAT), f"({fd})",
                  result=lambda w: w.fdstat(STAT),
                  model_result=lambda r: (int(r[0].filetype), int(r[0].flags), int(r[0].rights_base),
                                          int(r[0].rights_inheriting)))

    @rule(at=FD_INDEX, flags=st.sampled_from([0, 1, 4, 5, 2, 0x20]))
    def set_flags(self, at, flags):
        fd = self.fd_at(at)
        self.step("fd_fdstat_set_flags", lambda: self.sb.fd_fdstat_set_flags(self.s, fd, flags), (fd, flags),
                  f"({fd}, {flags:#x})")

    @rule(at=FD_INDEX)
    def readdir(self, at):
        fd = self.fd_at(at)
        self.step("fd_readdir", lambda: self.sb.fd_readdir(self.s, fd, 0), (fd, BUF, MEM - BUF, 0, OUT), f"({fd})",
                  result=lambda w: w.dirents(BUF, w.u32(OUT)),
                  model_result=lambda r: sorted((e.name.decode(), int(e.d_type)) for e in r[0]))

    @rule(at=FD_INDEX, offset=st.sampled_from([0, 1, 3, 20, -1, -30, 1 << 63]), whence=st.sampled_from([0, 1, 2, 3]))
    def seek(self, at, offset, whence):
        fd = self.fd_at(at)
        u = offset % (1 << 64)  # the guest passes an i64 as u64 bits
        self.step("fd_seek", lambda: self.sb.fd_seek(self.s, fd, offset if offset < 1 << 63 else offset - (1 << 64),
                                                     whence),
                  (fd, u, whence, OUT), f"({fd}, {offset}, {whence})",
                  result=lambda w: w.u64(OUT), model_result=lambda r: r[0])

    @rule(at=FD_INDEX)
    def tell(self, at):
        fd = self.fd_at(at)
        self.step("fd_tell", lambda: self.sb.fd_tell(self.s, fd), (fd, OUT), f"({fd})",
                  result=lambda w: w.u64(OUT), model_result=lambda r: r[0])

    @rule(at=FD_INDEX, size=st.sampled_from([0, 1, 5, 40, 1 << 63]))
    def set_size(self, at, size):
        fd = self.fd_at(at)
        self.step("fd_filestat_set_size", lambda: self.sb.fd_filestat_set_size(self.s, fd, size), (fd, size),
                  f"({fd}, {size})")

    @rule(at=FD_INDEX, offset=st.sampled_from([0, 2, 30]), length=st.sampled_from([0, 1, 8, (1 << 63) - 1]))
    def allocate(self, at, offset, length):
        fd = self.fd_at(at)
        self.step("fd_allocate", lambda: self.sb.fd_allocate(self.s, fd, offset, length), (fd, offset, length),
                  f"({fd}, {offset}, {length})")

    def _write(self, fd, data):
        for w in (self.mod, self.posix):
            w.put(BUF, data)
            w.put(IOV, BUF.to_bytes(4, "little") + len(data).to_bytes(4, "little"))
        return self.step("fd_write", lambda: self.sb.fd_write(self.s, fd, (data,)), (fd, IOV, 1, OUT),
                         f"({fd}, {data!r})", result=lambda w: w.u32(OUT), model_result=lambda r: r[0])

    @rule(data=st.binary(min_size=0, max_size=12), at=FD_INDEX)
    def write(self, data, at):
        self._write(self.fd_at(at), data)

    @rule(n=st.integers(0, 16), at=FD_INDEX)
    def read(self, n, at):
        fd = self.fd_at(at)
        for w in (self.mod, self.posix):
            w.put(IOV, BUF.to_bytes(4, "little") + n.to_bytes(4, "little"))
        self.step("fd_read", lambda: self.sb.fd_read(self.s, fd, (n,)), (fd, IOV, 1, OUT), f"({fd}, {n})",
                  result=lambda w: w.get(BUF, w.u32(OUT)), model_result=lambda r: r[0])

    @rule(base=RIGHTS, inh=RIGHTS, at=FD_INDEX)
    def set_rights(self, base, inh, at):
        fd = self.fd_at(at)
        self.step("fd_fdstat_set_rights", lambda: self.sb.fd_fdstat_set_rights(self.s, fd, base, inh),
                  (fd, base, inh), f"({fd}, {base:#x}, {inh:#x})")

    @rule(at=FD_INDEX)
    def close(self, at):
        fd = self.fd_at(at)
        if fd == 3 or fd < 3 and at % 5:  # the preopen stays; streams are closed only now and then
            return
        err, _, _ = self.step("fd_close", lambda: self.sb.fd_close(self.s, fd), (fd,), f"({fd})")
        if fd in self.fds and (not self.CHECK_MODEL or err == 0):
            self.fds.remove(fd)

    # --- the abstraction function ----------------------------------------------------------------
    @invariant()
    def same_abstract_state(self):
        from vwasm.model.fs import ROOT, FileSystem
        h = self.mhost.fs.snapshot(ROOT)
        m = self.s.fs.snapshot(ROOT) if self.CHECK_MODEL else h
        real = FileSystem.from_host(self.box).snapshot()
        if not (m == h == real):
            note(f"model {m}\nModelHost {h}\nreal {real}")
            raise Counterexample(f"trees differ: model {m}, runtime over ModelHost {h}, real tree {real}")
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
        if not os.path.exists(os.path.join(self.tmp, "secret")):
            raise Counterexample("the file outside the preopen was removed")
