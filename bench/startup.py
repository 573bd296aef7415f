"""`python -m bench.startup`: start-up, the whole process, under vwasm and under wasmtime's built-in WASI.

Each run is a new process that runs a module to its end (default: the hello-world guest), timed from
outside. wasmtime's own CLI is not installed here, so the built-in side is a Python process running
the module with wasmtime-py's WASI (`Linker.define_wasi`): the same interpreter, the same wasmtime.

- cold: nothing reused. vwasm `run --no-cache`; the built-in compiles the module, as it does by default.
- cached: vwasm's compile cache is warm (a private $XDG_CACHE_HOME); the built-in uses wasmtime's own
  code cache (`Config.cache`, what `wasmtime run` does), warm too, in a directory of its own.

The two alternate (vwasm, built-in, vwasm, ...) so a machine that slows down slows both; the median
of the runs is reported, and the ratio vwasm / built-in.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = ROOT / "build" / "wasm" / "hello.wasm"
VWASM = [sys.executable, "-c", "import sys; from vwasm.cli import main; sys.exit(main())"]

# The built-in side: what `wasmtime run FILE` does, with wasmtime-py (argv[2]: a cache config or "").
BUILTIN = """
import sys, wasmtime
settings = wasmtime.Config()
if sys.argv[2]:
    settings.cache = sys.argv[2]
engine = wasmtime.Engine(settings)
module = wasmtime.Module.from_file(engine, sys.argv[1])
wasi = wasmtime.WasiConfig()
wasi.argv = [sys.argv[1]]
wasi.inherit_stdout(); wasi.inherit_stderr()
store = wasmtime.Store(engine)
store.set_wasi(wasi)
linker = wasmtime.Linker(engine)
linker.define_wasi()
try:
    linker.instantiate(store, module).exports(store)["_start"](store)
except wasmtime.ExitTrap as e:
    sys.exit(e.code)
"""


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one whole process; cpu is its user + system time."""
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if child.returncode != 0:
        raise RuntimeError(f"{cmd[0]} ... {cmd[-2]} exited {child.returncode}: {stderr.decode()[-300:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def measure(module: Path = HELLO, runs: int = 10) -> list[dict]:
    """[{name, wasmtime, vwasm, ratio, wasmtime_cpu, vwasm_cpu, cpu_ratio}] for the cold and the
    cached start of `module` (seconds: medians of wall-clock and of CPU time)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "xdg"))
        wasmtime_cache = os.path.join(tmp, "wasmtime-cache.toml")
        with open(wasmtime_cache, "w") as f:
            f.write(f'[cache]\ndirectory = "{os.path.join(tmp, "wasmtime")}"\n')
        cases = [
            ("cold", [*VWASM, "run", "--no-cache", str(module)], ""),
            ("cached", [*VWASM, "run", str(module)], wasmtime_cache),
        ]
        for name, ours, builtin_cache in cases:
            theirs = [sys.executable, "-c", BUILTIN, str(module), builtin_cache]
            _time(ours, env), _time(theirs, env)  # warm-up: fills the caches (and the OS's file cache)
            base, mine = [], []
            for _ in range(runs):
                base.append(_time(theirs, env))
                mine.append(_time(ours, env))
            b, o = (statistics.median(t for t, _ in base), statistics.median(t for t, _ in mine))
            bc, oc = (statistics.median(c for _, c in base), statistics.median(c for _, c in mine))
            rows.append({"name": f"start-up {name}: {module.name}", "wasmtime": b, "vwasm": o, "ratio": o / b,
                         "wasmtime_cpu": bc, "vwasm_cpu": oc, "cpu_ratio": oc / bc})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.startup")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--module", type=Path, default=HELLO, help="default: the hello-world guest")
    ns = ap.parse_args(argv)
    if not ns.module.exists():
        sys.exit(f"bench: {ns.module} is missing (make build)")
    print(f"{'start-up (whole process)':<36} {'wasmtime ms':>12} {'vwasm ms':>9} {'ratio':>6}"
          f" {'wasmtime cpu':>13} {'vwasm cpu':>10} {'ratio':>6}")
    for r in measure(ns.module, ns.runs):
        print(f"{r['name']:<36} {r['wasmtime'] * 1e3:>12.1f} {r['vwasm'] * 1e3:>9.1f} {r['ratio']:>6.2f}"
              f" {r['wasmtime_cpu'] * 1e3:>13.1f} {r['vwasm_cpu'] * 1e3:>10.1f} {r['cpu_ratio']:>6.2f}", flush=True)
    print(f"median of {ns.runs} runs each, alternating; ratio = vwasm / wasmtime built-in WASI "
          "(wall clock, then CPU time: user + system)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
