"""A real program built from source: UnQLite (an embedded database engine with the Jx9 script
interpreter, one C file) from its source distribution on PyPI, compiled to wasm32-wasi with zig, and
run on a file-heavy workload (bench/unqlite/kvbench.c) under both runtimes.

`python -m bench.real` builds it (if needed) and runs it once under each runtime.
The sdist is fetched with pip into build/src; the module is rebuilt only when the sources change.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import wasmtime

ROOT = Path(__file__).resolve().parent.parent
SDIST = ("unqlite", "1.2.0")  # carries src/unqlite.c, the amalgamation
SRC = ROOT / "build" / "src"
HERE = ROOT / "bench" / "unqlite"
OUT = ROOT / "build" / "wasm" / "unqlite_kvbench.wasm"
RECORDS = 20_000
# WASI has no users, locks or mmap: wasi_compat.h/.c stand in for what UnQLite's Unix layer asks for.
FLAGS = ["--target=wasm32-wasi", "-O2", "-s", "-w", "-D_WASI_EMULATED_MMAN", "-D_WASI_EMULATED_GETPID",
         "-include", str(HERE / "wasi_compat.h"), "-lwasi-emulated-mman", "-lwasi-emulated-getpid"]


def _sources() -> Path:
    """The unpacked sdist's src/ directory (pip downloads it once)."""
    name, version = SDIST
    src = SRC / f"{name}-{version}" / "src"
    if not (src / "unqlite.c").exists():
        SRC.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps",
                        "--no-build-isolation", f"{name}=={version}", "-d", str(SRC)], check=True)
        with tarfile.open(SRC / f"{name}-{version}.tar.gz") as tar:
            tar.extractall(SRC, filter="data")
    return src


def build() -> Path:
    """build/wasm/unqlite_kvbench.wasm, compiled with zig unless its sources and flags are unchanged."""
    src = _sources()
    inputs = [HERE / "kvbench.c", HERE / "wasi_compat.c", HERE / "wasi_compat.h", src / "unqlite.c", src / "unqlite.h"]
    digest = hashlib.sha256(" ".join(FLAGS).encode() + b"".join(p.read_bytes() for p in inputs)).hexdigest()
    stamp = OUT.with_suffix(".wasm.hash")
    if OUT.exists() and stamp.exists() and stamp.read_text() == digest:
        return OUT
    cache = str(ROOT / "build" / "zig-cache")
    env = dict(os.environ, ZIG_GLOBAL_CACHE_DIR=cache, ZIG_LOCAL_CACHE_DIR=cache)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    print(f"bench: building {OUT.name} from {SDIST[0]} {SDIST[1]} with zig ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "ziglang", "cc", *FLAGS, f"-I{src}", "-o", str(OUT),
                    str(HERE / "kvbench.c"), str(HERE / "wasi_compat.c"), str(src / "unqlite.c")], env=env, check=True)
    stamp.write_text(digest)
    return OUT


def measure(rounds: int, tmp: str, row) -> dict:
    """The whole run of kvbench (instantiation included, compilation not), best of `rounds`,
    alternating; `row(key, label, unit, times)` formats the result."""
    from . import __main__ as bench  # the runners
    import vwasm
    wasm = build()
    engines = {"wasmtime": wasmtime.Engine(), "vwasm": vwasm.engine_for(vwasm.Config())}
    modules = {side: wasmtime.Module.from_file(e, str(wasm)) for side, e in engines.items()}
    runners = {"wasmtime": bench.builtin_run, "vwasm": bench.vwasm_run}

    def one(side: str) -> float:
        out: list[bytes] = []
        with tempfile.TemporaryDirectory(dir=tmp) as box:
            t0 = time.perf_counter()
            status = runners[side](engines[side], modules[side], ["kvbench", "/box/test.db", str(RECORDS)], box,
                                   out.append)
            elapsed = time.perf_counter() - t0
        if status or not b"".join(out).startswith(b"ok "):
            raise RuntimeError(f"{side}: kvbench exited {status}: {b''.join(out)[-200:]!r}")
        return elapsed * 1e9
    return row("unqlite", f"real program: UnQLite {SDIST[1]} (zig-built), {RECORDS // 1000}k records + Jx9",
               "ns", bench.best_of(rounds, one))


if __name__ == "__main__":
    from .__main__ import _row
    with tempfile.TemporaryDirectory() as tmp:
        measure(1, tmp, _row)
