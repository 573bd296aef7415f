"""Differential harness: run one guest program under vwasm and under wasmtime's built-in WASI.

    from difftest import run_both, assert_same, run_vwasm, run_wasmtime, Symlink, snapshot

`run_both(wasm, args=..., env=..., stdin=..., tree=..., preopens=...)` builds the fixture `tree` in
two fresh temporary directories, runs the program once under each runtime (same argv, environment,
stdin file, preopens), and returns `(vwasm_result, wasmtime_result)`. Each `Result` carries stdout,
stderr, the exit status (134 on a trap), and a snapshot of the whole temporary directory afterwards:
the preopened directories *and* everything around them (e.g. a canary tree outside the sandbox).

A fixture tree is either a directory to copy (symlinks kept as symlinks), a callable `build(root)`,
or a dict mapping relative paths to contents:
    {"sandbox/a.txt": b"hi", "sandbox/d": DIR, "sandbox/l": Symlink("../canary"), "canary/x": "text"}
Parent directories are created as needed. Preopens are `(host_dir_relative_to_root, guest_path)`
pairs, or triples with a third element `read_only`.
"""
from __future__ import annotations

import difflib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence, Union

import wasmtime

ROOT = Path(__file__).resolve().parent.parent
WASM_DIR = ROOT / "build" / "wasm"
TRAP_STATUS = 134
DEFAULT_TIMEOUT = 60.0
# Where run_both puts its temporary trees when no `tmp` is given (conftest points it at pytest's tmp_path).
TMP_BASE: Path | None = None


class _Dir:
    def __repr__(self) -> str:
        return "DIR"


DIR = _Dir()


@dataclass(frozen=True)
class Symlink:
    target: str


TreeSpec = Union[None, str, os.PathLike, Callable[[Path], None], Mapping[str, object]]
Snapshot = dict  # relpath -> ("dir",) | ("file", bytes) | ("symlink", target) | ("other", mode)


@dataclass
class Result:
    runtime: str
    status: int
    stdout: bytes
    stderr: bytes
    tree: Snapshot
    root: Path
    trap: str | None = None  # the trap message, when the runtime reported one to us
    extra: dict = field(default_factory=dict)

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def lines(self) -> list[str]:
        return self.out.splitlines()

    def under(self, prefix: str) -> Snapshot:
        """The part of the snapshot under `prefix` (relative to the root), keys made relative to it."""
        prefix = prefix.strip("/")
        return {k[len(prefix) + 1:]: v for k, v in self.tree.items() if k.startswith(prefix + "/")}

    def __str__(self) -> str:
        return (f"[{self.runtime}] status={self.status}{' trap=' + self.trap if self.trap else ''}\n"
                f"--- stdout ---\n{self.out}--- stderr ---\n{self.err}")


# ------------------------------------------------------------------ fixture trees and snapshots

def build_tree(root: Path, tree: TreeSpec) -> None:
    root.mkdir(parents=True, exist_ok=True)
    if tree is None:
        return
    if callable(tree) and not isinstance(tree, Mapping):
        tree(root)
        return
    if isinstance(tree, (str, os.PathLike)):
        shutil.copytree(tree, root, symlinks=True, dirs_exist_ok=True)
        return
    for rel, content in tree.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if content is DIR:
            p.mkdir(parents=True, exist_ok=True)
        elif isinstance(content, Symlink):
            os.symlink(content.target, p)
        elif isinstance(content, str):
            p.write_bytes(content.encode())
        elif isinstance(content, (bytes, bytearray)):
            p.write_bytes(bytes(content))
        else:
            raise TypeError(f"fixture entry {rel!r}: unsupported content {content!r}")


def snapshot(root: Path | str) -> Snapshot:
    """Names, types, file contents and symlink targets of everything beneath root (no following)."""
    root = Path(root)
    snap: Snapshot = {}

    def walk(d: Path, rel: str) -> None:
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except PermissionError:
            snap[rel or "."] = ("unreadable-dir",)
            return
        for e in entries:
            r = f"{rel}/{e.name}" if rel else e.name
            if e.is_symlink():
                snap[r] = ("symlink", os.readlink(e.path))
            elif e.is_dir(follow_symlinks=False):
                snap[r] = ("dir",)
                walk(Path(e.path), r)
            elif e.is_file(follow_symlinks=False):
                try:
                    snap[r] = ("file", Path(e.path).read_bytes())
                except PermissionError:
                    snap[r] = ("unreadable-file",)
            else:
                snap[r] = ("other", e.stat(follow_symlinks=False).st_mode)
    walk(root, "")
    return snap


def diff_snapshots(a: Snapshot, b: Snapshot, a_name: str = "a", b_name: str = "b") -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if va != vb:
            out.append(f"  {k}: {a_name}={_short(va)}  {b_name}={_short(vb)}")
    return out


def _short(v: object) -> str:
    if v is None:
        return "(absent)"
    if isinstance(v, tuple) and v and v[0] == "file":
        data = v[1]
        return f"file({len(data)} bytes: {data[:60]!r}{'...' if len(data) > 60 else ''})"
    return repr(v)


def _make_writable(root: Path) -> None:
    for dirpath, dirnames, _ in os.walk(root, followlinks=False):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                try:
                    os.chmod(p, 0o755)
                except OSError:
                    pass


# ------------------------------------------------------------------ the two runtimes

_engine: wasmtime.Engine | None = None
_modules: dict[tuple[str, float], wasmtime.Module] = {}


def _wasmtime_engine() -> wasmtime.Engine:
    global _engine
    if _engine is None:
        cfg = wasmtime.Config()
        cfg.epoch_interruption = True
        _engine = wasmtime.Engine(cfg)
    return _engine


def _module(path: Path) -> wasmtime.Module:
    key = (str(path), path.stat().st_mtime)
    mod = _modules.get(key)
    if mod is None:
        mod = wasmtime.Module.from_file(_wasmtime_engine(), str(path))
        _modules[key] = mod
    return mod


def _norm_preopens(preopens: Iterable[Sequence]) -> list[tuple[str, str, bool]]:
    out = []
    for p in preopens:
        host, guest = p[0], p[1]
        ro = bool(p[2]) if len(p) > 2 else False
        out.append((str(host), str(guest), ro))
    return out


def _prepare(root: Path, tree: TreeSpec, preopens, stdin: bytes) -> tuple[Path, list]:
    """Build the tree under root/fs and the stdin file next to it; returns (fs_root, preopens)."""
    fs = root / "fs"
    build_tree(fs, tree)
    for host, _, _ in preopens:
        (fs / host).mkdir(parents=True, exist_ok=True)
    (root / "stdin").write_bytes(stdin)
    return fs, [(str(fs / host), guest, ro) for host, guest, ro in preopens]


def run_wasmtime(wasm: Path | str, args: Sequence[str] = (), env: Sequence[tuple[str, str]] = (),
                 stdin: bytes = b"", tree: TreeSpec = None, preopens=(("sandbox", "/sandbox"),),
                 root: Path | None = None, timeout: float = DEFAULT_TIMEOUT, argv0: str | None = None) -> Result:
    """Run under wasmtime's built-in WASI (the reference)."""
    wasm = Path(wasm)
    pre = _norm_preopens(preopens)
    root = Path(root) if root else Path(tempfile.mkdtemp(prefix="difftest-wasmtime-"))
    fs, host_pre = _prepare(root, tree, pre, stdin)
    engine = _wasmtime_engine()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [argv0 or wasm.stem, *args]
    wasi.env = [list(kv) for kv in env]
    wasi.stdin_file = str(root / "stdin")
    wasi.stdout_file = str(root / "stdout")
    wasi.stderr_file = str(root / "stderr")
    for host, guest, ro in host_pre:
        wasi.preopen_dir(host, guest, not ro)
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store.set_epoch_deadline(1)
    timer = threading.Timer(timeout, engine.increment_epoch)
    trap = None
    timer.start()
    try:
        inst = linker.instantiate(store, _module(wasm))
        start = inst.exports(store)["_start"]
        start(store)
        status = 0
    except wasmtime.ExitTrap as e:
        status = e.code
    except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
        status = TRAP_STATUS
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        trap = lines[-1] if lines else type(e).__name__  # the "Caused by" line, when there is one
    finally:
        timer.cancel()
    del store, linker, wasi
    _make_writable(fs)
    return Result("wasmtime", status, (root / "stdout").read_bytes(), (root / "stderr").read_bytes(),
                  snapshot(fs), fs, trap)


def run_vwasm(wasm: Path | str, args: Sequence[str] = (), env: Sequence[tuple[str, str]] = (),
              stdin: bytes = b"", tree: TreeSpec = None, preopens=(("sandbox", "/sandbox"),),
              root: Path | None = None, timeout: float = DEFAULT_TIMEOUT, argv0: str | None = None) -> Result:
    """Run under vwasm (the runtime under test)."""
    import vwasm  # imported late: the wasmtime side must work without it

    wasm = Path(wasm)
    pre = _norm_preopens(preopens)
    root = Path(root) if root else Path(tempfile.mkdtemp(prefix="difftest-vwasm-"))
    fs, host_pre = _prepare(root, tree, pre, stdin)
    cfg = vwasm.Config()
    cfg.argv = [argv0 or wasm.stem, *args]
    cfg.env = [tuple(kv) for kv in env]
    cfg.stdin_file(str(root / "stdin"))
    cfg.stdout_file(str(root / "stdout"))
    cfg.stderr_file(str(root / "stderr"))
    for host, guest, ro in host_pre:
        cfg.preopen_dir(host, guest, read_only=ro)
    status = vwasm.run(str(wasm), cfg)
    assert isinstance(status, int), f"vwasm.run returned {status!r}, not an int"
    _make_writable(fs)
    return Result("vwasm", status, (root / "stdout").read_bytes(), (root / "stderr").read_bytes(),
                  snapshot(fs), fs)


def run_both(wasm: Path | str, args: Sequence[str] = (), env: Sequence[tuple[str, str]] = (),
             stdin: bytes = b"", tree: TreeSpec = None, preopens=(("sandbox", "/sandbox"),),
             timeout: float = DEFAULT_TIMEOUT, argv0: str | None = None,
             tmp: Path | None = None) -> tuple[Result, Result]:
    """Run under wasmtime first (so a reference exists even if vwasm fails), then under vwasm."""
    if tmp is None and TMP_BASE is not None:
        Path(TMP_BASE).mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="run-", dir=TMP_BASE)
    base = Path(tmp) if tmp else Path(tempfile.mkdtemp(prefix="difftest-"))
    kw = dict(args=args, env=env, stdin=stdin, tree=tree, preopens=preopens, timeout=timeout, argv0=argv0)
    w = run_wasmtime(wasm, root=base / "wasmtime", **kw)
    try:
        v = run_vwasm(wasm, root=base / "vwasm", **kw)
    except Exception as exc:  # make the reference visible next to the failure
        raise AssertionError(f"vwasm failed to run {Path(wasm).name}: {type(exc).__name__}: {exc}\n"
                             f"reference run:\n{w}") from exc
    return v, w


def _strip_trap_line(a: bytes, b: bytes) -> tuple[bytes, bytes]:
    """On a trap each runtime may add its own one-line message to stderr: drop a last line only one has."""
    def drop_last(x: bytes) -> bytes:
        body = x[:-1] if x.endswith(b"\n") else x
        i = body.rfind(b"\n")
        return body[:i + 1] if i >= 0 else b""
    if a == b:
        return a, b
    if drop_last(a) == b:
        return b, b
    if drop_last(b) == a:
        return a, a
    return a, b


def assert_same(v: Result, w: Result, *, stdout: bool = True, stderr: bool = True, status: bool = True,
                tree: bool = True, ignore_paths: Callable[[str], bool] | None = None) -> None:
    """Assert two runs agree; the message shows a unified diff of what differs."""
    problems: list[str] = []
    if status and v.status != w.status:
        problems.append(f"exit status: {v.runtime}={v.status} {w.runtime}={w.status}"
                        + (f" (wasmtime trap: {w.trap})" if w.trap else ""))
    if stdout and v.stdout != w.stdout:
        problems.append("stdout differs:\n" + _udiff(w.out, v.out, w.runtime, v.runtime))
    if stderr:
        se_v, se_w = v.stderr, w.stderr
        if v.status == TRAP_STATUS and w.status == TRAP_STATUS:
            se_v, se_w = _strip_trap_line(se_v, se_w)
        if se_v != se_w:
            problems.append("stderr differs:\n" + _udiff(se_w.decode("utf-8", "replace"),
                                                         se_v.decode("utf-8", "replace"), w.runtime, v.runtime))
    if tree:
        tv, tw = v.tree, w.tree
        if ignore_paths:
            tv = {k: x for k, x in tv.items() if not ignore_paths(k)}
            tw = {k: x for k, x in tw.items() if not ignore_paths(k)}
        d = diff_snapshots(tv, tw, v.runtime, w.runtime)
        if d:
            problems.append("resulting trees differ:\n" + "\n".join(d))
    if problems:
        raise AssertionError("vwasm and wasmtime disagree:\n" + "\n".join(problems))


def _udiff(a: str, b: str, an: str, bn: str) -> str:
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), an, bn)) or "(whitespace only)"


def wasm_path(name: str) -> Path:
    """build/wasm/<name>.wasm; fails (never skips) when it has not been built."""
    p = WASM_DIR / (name if name.endswith(".wasm") else name + ".wasm")
    if not p.exists():
        raise AssertionError(f"{p} is missing: build the guests first "
                             f"(`make guests` or `python scripts/build_guests.py --out build/wasm examples tests/programs`)")
    return p
