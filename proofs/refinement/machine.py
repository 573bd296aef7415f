"""Three worlds driven by the same call sequence: the runtime's handlers over ModelHost, the same
handlers over PosixHost on a real temporary directory, and the model's transitions
(`vwasm.model.sandbox`). Handlers are called directly with a `Context` whose memory is a plain
buffer (no wasm). After every call the three must agree on the errno and the results, and the
abstract states must be equal:

  - the tree below the preopen: model `s.fs.snapshot(preopen)`, `ModelHost.fs.snapshot(preopen)`
    and `FileSystem.from_host(<temp dir>).snapshot()` (the real tree read back);
  - the descriptor table (the abstraction function): fd -> (is directory, rights_base,
    rights_inheriting) for every descriptor above the standard streams;
  - the runtime's own representation invariant (no two numbers share a handle).

Used by `refinement.stateful` (sequences of all calls) and `host.posix_vs_model` (file-tree calls
only, more of them): the first is the refinement check, the second the TCB check.
"""
from __future__ import annotations

import os
import shutil
import tempfile

from hypothesis import event, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from proofs.core import Counterexample

NAMES = ["a", "b", "d", "link", "..", "."]
MEM = 1 << 14
PATH1, PATH2, OUT, IOV, BUF = 4096, 6144, 0, 64, 8192


def _path_strategy():
    comp = st.sampled_from(NAMES)
    return st.lists(comp, min_size=1, max_size=3).map("/".join) | st.sampled_from(["a", "d/a", "d", "link/a"])


RIGHTS = st.sampled_from([(1 << 30) - 1, 0x0FFF_FFFF, 0x2 | 0x40 | 0x4 | 0x20, 0x2, 0x40, 0])


class World:
    """One runtime instance: a host, a descriptor table, a context over a plain buffer."""

    def __init__(self, host, box_path: str) -> None:
        from vwasm.context import Context
        from vwasm.memory import GuestMemory
        from vwasm.sandbox import Config, descriptor_table
        cfg = Config()
        cfg.preopen_dir(box_path, "/box")
        self.host = host
        self.cx = Context(host, descriptor_table(cfg, host), [], [])
        self.cx.mem = GuestMemory.over(bytearray(MEM))

    def call(self, name: str, *args):
        from vwasm import syscalls
        from vwasm.model.wasi import Errno, WasiError
        try:
            return int(syscalls.HANDLERS[name](self.cx, *args))
        except WasiError as e:
            return int(e.errno)
        except Exception as e:  # noqa: BLE001 - any other exception is a bug (§1.5)
            raise Counterexample(f"{name}{args} raised {type(e).__name__}: {e}") from None

    def put_path(self, at: int, text: str) -> tuple[int, int]:
        raw = text.encode()
        self.cx.mem.view[at:at + len(raw)] = raw
        return at, len(raw)

    def table(self) -> dict:
        from vwasm.fdtable import DIR
        return {fd: (d.kind == DIR, int(d.rights_base), int(d.rights_inheriting))
                for fd, d in self.cx.fds.items() if fd >= 3}

    def rep_ok(self) -> bool:
        handles = [id(d.handle) for _, d in self.cx.fds.items()]
        return len(handles) == len(set(handles))

    def close(self) -> None:
        for fd, d in self.cx.fds.items():
            try:
                self.host.close(d.handle)
            except Exception:  # noqa: BLE001
                pass


def model_table(s) -> dict:
    return {fd: (d.is_dir, int(d.rights_base), int(d.rights_inheriting)) for fd, d in s.fds.entries if fd >= 3}


class Machine(RuleBasedStateMachine):
    """Subclasses choose which calls run (`FS_ONLY`)."""

    CHECK_MODEL = True  # False: only the runtime over ModelHost vs over PosixHost (the TCB check)
    COUNT = {"steps": 0}

    def __init__(self) -> None:
        super().__init__()
        from vwasm.host import ModelHost, PosixHost
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
        self.s = sb.initial_state(FileSystem(), (sb.Preopen("/box", ROOT),))
        self.fds = [3]

    def teardown(self) -> None:
        self.posix.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- one call in the three worlds ---------------------------------------------------------------
    def both(self, name, *args, paths=()):
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
        if self.CHECK_MODEL:
            event(f"{name} -> {self._ename(model_errno)}")
        self.COUNT["steps"] += 1
        if not self.CHECK_MODEL:
            event(f"{name} -> {self._ename(e_m)}")
            if e_m != e_p:
                raise Counterexample(f"{name}{detail}: runtime over ModelHost {self._ename(e_m)}, "
                                     f"over PosixHost {self._ename(e_p)}")
            return
        if not (int(model_errno) == e_m == e_p):
            raise Counterexample(f"{name}{detail}: model {self._ename(model_errno)}, runtime over ModelHost "
                                 f"{self._ename(e_m)}, over PosixHost {self._ename(e_p)}")

    @staticmethod
    def _ename(e) -> str:
        from vwasm.model.wasi import Errno
        try:
            return Errno(int(e)).name
        except ValueError:
            return str(e)

    def u32(self, w, at) -> int:
        return int.from_bytes(w.cx.mem.view[at:at + 4], "little")

    # --- rules ----------------------------------------------------------------------------------
    @rule(path=_path_strategy(), creat=st.booleans(), directory=st.booleans(), rb=RIGHTS, ri=RIGHTS,
          follow=st.booleans())
    def path_open(self, path, creat, directory, rb, ri, follow):
        oflags = (1 if creat else 0) | (2 if directory else 0)
        dirfd = self.fds[-1] if self.fds[-1] in self.mod.cx.fds else 3
        self.s, err, res = self.sb.path_open(self.s, dirfd, int(follow), path, oflags, rb, ri, 0)
        outs = self.both("path_open", dirfd, int(follow), ("path", path), oflags, rb, ri, 0, OUT)
        self.agree("path_open", err, outs, f"({dirfd}, {path!r}, oflags={oflags}, rights={rb:#x}/{ri:#x})")
        if outs[0] == 0 and not self.CHECK_MODEL:
            if self.u32(self.mod, OUT) != self.u32(self.posix, OUT):
                raise Counterexample(f"path_open({path!r}): new fd differs between ModelHost and PosixHost")
            self.fds.append(self.u32(self.mod, OUT))
        elif err == 0 and self.CHECK_MODEL:
            fds = {self.u32(w, OUT) for w in (self.mod, self.posix)}
            if fds != {res[0]}:
                raise Counterexample(f"path_open({path!r}): new fd model {res[0]}, runtime {fds}")
            self.fds.append(res[0])

    @rule(path=_path_strategy())
    def mkdir(self, path):
        self.s, err, _ = self.sb.path_create_directory(self.s, 3, path)
        self.agree("path_create_directory", err, self.both("path_create_directory", 3, ("path", path)), f"({path!r})")

    @rule(path=_path_strategy())
    def unlink(self, path):
        self.s, err, _ = self.sb.path_unlink_file(self.s, 3, path)
        self.agree("path_unlink_file", err, self.both("path_unlink_file", 3, ("path", path)), f"({path!r})")

    @rule(path=_path_strategy())
    def rmdir(self, path):
        self.s, err, _ = self.sb.path_remove_directory(self.s, 3, path)
        self.agree("path_remove_directory", err, self.both("path_remove_directory", 3, ("path", path)), f"({path!r})")

    @rule(text=st.sampled_from(["a", "d", "..", "../secret", "d/..", "link", "/etc"]), path=_path_strategy())
    def symlink(self, text, path):
        target = text
        self.s, err, _ = self.sb.path_symlink(self.s, target, 3, path)
        self.agree("path_symlink", err, self.both("path_symlink", ("path", target), 3, ("path", path)),
                   f"({target!r}, {path!r})")

    @rule(old=_path_strategy(), new=_path_strategy())
    def rename(self, old, new):
        self.s, err, _ = self.sb.path_rename(self.s, 3, old, 3, new)
        self.agree("path_rename", err, self.both("path_rename", 3, ("path", old), 3, ("path", new)),
                   f"({old!r}, {new!r})")

    @rule(data=st.binary(min_size=0, max_size=12))
    def write(self, data):
        fd = self.fds[-1] if len(self.fds) > 1 else 3
        self.s, err, res = self.sb.fd_write(self.s, fd, (data,))
        for w in (self.mod, self.posix):
            w.cx.mem.view[BUF:BUF + len(data)] = data
            w.cx.mem.view[IOV:IOV + 8] = BUF.to_bytes(4, "little") + len(data).to_bytes(4, "little")
        outs = self.both("fd_write", fd, IOV, 1, OUT)
        self.agree("fd_write", err, outs, f"({fd}, {data!r})")

    @rule(n=st.integers(0, 16))
    def read(self, n):
        fd = self.fds[-1] if len(self.fds) > 1 else 3
        self.s, err, res = self.sb.fd_read(self.s, fd, (n,))
        for w in (self.mod, self.posix):
            w.cx.mem.view[IOV:IOV + 8] = BUF.to_bytes(4, "little") + n.to_bytes(4, "little")
        outs = self.both("fd_read", fd, IOV, 1, OUT)
        self.agree("fd_read", err, outs, f"({fd}, {n})")
        if (err == 0 if self.CHECK_MODEL else outs[0] == 0):
            if not self.CHECK_MODEL:
                res = (bytes(self.mod.cx.mem.view[BUF:BUF + self.u32(self.mod, OUT)]),)
            got = {bytes(w.cx.mem.view[BUF:BUF + self.u32(w, OUT)]) for w in (self.mod, self.posix)}
            if got != {res[0]}:
                raise Counterexample(f"fd_read({fd}, {n}): model {res[0]!r}, runtime {got}")

    @rule(base=RIGHTS, inh=RIGHTS)
    def set_rights(self, base, inh):
        fd = self.fds[-1] if len(self.fds) > 1 else 3
        self.s, err, _ = self.sb.fd_fdstat_set_rights(self.s, fd, base, inh)
        self.agree("fd_fdstat_set_rights", err, self.both("fd_fdstat_set_rights", fd, base, inh), f"({fd})")

    @precondition(lambda self: len(self.fds) > 1)
    @rule()
    def close(self):
        fd = self.fds.pop()
        self.s, err, _ = self.sb.fd_close(self.s, fd)
        self.agree("fd_close", err, self.both("fd_close", fd), f"({fd})")

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
        if not (self.mod.rep_ok() and self.posix.rep_ok()):
            raise Counterexample("runtime descriptor table shares a handle between two numbers")
        if not os.path.exists(os.path.join(self.tmp, "secret")):
            raise Counterexample("the file outside the preopen was removed")
