"""`make bench`: each workload runs under wasmtime's built-in WASI and under vwasm, in this process,
alternating, best of several rounds; prints ns/op for both and the ratio (vwasm / wasmtime).

The guest times its own loop with the monotonic clock, so start-up is excluded and both runtimes
are measured by the same code.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import wasmtime

import vwasm

ROOT = Path(__file__).resolve().parent.parent
GUEST = ROOT / "build" / "wasm" / "bench_calls.wasm"
WORKLOADS = [  # (mode, iterations)
    ("clock", 20000),
    ("stdout16", 20000),
    ("write16", 20000),
    ("write4k", 10000),
    ("read4k", 10000),
    ("openclose", 3000),
    ("stat", 3000),
    ("readdir", 3),
]


def _parse(out: bytes) -> float:
    for line in out.decode().splitlines():
        if line.startswith("ns_per_op "):
            return float(line.split()[1])
    raise RuntimeError(f"benchmark guest printed no result: {out!r}")


def run_wasmtime(engine, module, mode: str, n: int, tmp: str) -> float:
    with tempfile.TemporaryDirectory(dir=tmp) as box:
        collected = []
        cfg = wasmtime.WasiConfig()
        cfg.argv = ["bench", mode, str(n), "/box"]
        cfg.preopen_dir(box, "/box")
        cfg.stdout_custom = lambda data: collected.append(bytes(data)) if b"ns_per_op" in bytes(data) else None
        store = wasmtime.Store(engine)
        store.set_wasi(cfg)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        try:
            linker.instantiate(store, module).exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            if e.code:
                raise RuntimeError(f"wasmtime run of {mode} exited {e.code}") from None
        return _parse(b"".join(collected))


def run_vwasm(engine, module, mode: str, n: int, tmp: str) -> float:
    with tempfile.TemporaryDirectory(dir=tmp) as box:
        collected = []
        cfg = vwasm.Config()
        cfg.argv = ["bench", mode, str(n), "/box"]
        cfg.preopen_dir(box, "/box")
        cfg.stdout_custom(lambda data: collected.append(data) if b"ns_per_op" in data else None)
        status = vwasm.Sandbox(module, cfg, engine=engine).run()
        if status:
            raise RuntimeError(f"vwasm run of {mode} exited {status}")
        return _parse(b"".join(collected))


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("workloads", nargs="*", help="subset of: " + ", ".join(m for m, _ in WORKLOADS))
    ns = ap.parse_args()
    if not GUEST.exists():
        sys.exit(f"bench: {GUEST} is missing (make build)")
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(GUEST))
    chosen = [(m, n) for m, n in WORKLOADS if not ns.workloads or m in ns.workloads]
    print(f"{'workload':<10} {'iters':>7} {'wasmtime ns/op':>15} {'vwasm ns/op':>12} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for mode, n in chosen:
            base, ours = [], []
            for _ in range(ns.rounds):
                base.append(run_wasmtime(engine, module, mode, n, tmp))
                ours.append(run_vwasm(engine, module, mode, n, tmp))
            b, o = min(base), min(ours)
            print(f"{mode:<10} {n:>7} {b:>15.1f} {o:>12.1f} {o / b:>7.2f}", flush=True)
    print("ratio = vwasm / wasmtime built-in WASI (below 1.00: vwasm is faster); best of", ns.rounds, "rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
