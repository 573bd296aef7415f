"""`make bench`: vwasm against wasmtime's built-in WASI (wasmtime-py's `Linker.define_wasi`), measured
in the same run, as ratios vwasm / built-in (below 1.00: vwasm is faster).

- Host-call workloads: one guest (bench/programs/bench_calls.c) times its own loop with the monotonic
  clock, so start-up is excluded and both runtimes are measured by the same code; the two alternate,
  best of --rounds.
- A real program built from source (bench/real.py: UnQLite, a database engine with its Jx9
  interpreter, from its source distribution on PyPI), running a file-heavy script: whole run, in process.
- Many sandboxes: instantiate-and-run of a small guest, sandboxes per second.
- Parallel sandboxes: the compute workload in 1 and in 2 threads of this process (speed-up).
- Start-up of a whole process, cold and cached (bench/startup.py).

Writes build/bench.json and build/bench.png (the ratios); `--readme` rewrites README.md's Speed table
from build/bench.json. Benchmarks print ratios; the tests never time anything.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import wasmtime

import vwasm

ROOT = Path(__file__).resolve().parent.parent
GUEST = ROOT / "build" / "wasm" / "bench_calls.wasm"
RESULT = ROOT / "build" / "bench.json"
CHART = ROOT / "build" / "bench.png"
README = ROOT / "README.md"
MARKERS = ("<!-- bench:begin (python -m bench --readme) -->", "<!-- bench:end -->")

WORKLOADS = [  # (key, guest mode, iterations, what one iteration is)
    ("clock", "clock", 20_000, "`clock_time_get`"),
    ("seek", "seek", 20_000, "`fd_seek` on a file"),
    ("tell", "tell", 20_000, "`fd_tell` on a file"),
    ("random", "random", 20_000, "`random_get` of 16 bytes"),
    ("sleep0", "sleep0", 20_000, "`nanosleep` of 0 (`poll_oneoff`)"),
    ("poll0", "poll0", 20_000, "`poll()` of stdin, timeout 0 (`poll_oneoff`)"),
    ("stdout16", "stdout16", 20_000, "16-byte write to stdout"),
    ("write4k", "write4k", 25_600, "100 MiB in 4 KiB writes to a file"),
    ("write16", "write16", 100_000, "100k 16-byte writes to a file"),
    ("read64k", "read64k", 1_600, "100 MiB in 64 KiB reads"),
    ("openclose", "openclose", 20_000, "20k `open` + `close` of a file in the preopen"),
    ("files", "files", 2_000, "2k files created, stat'ed, unlinked"),
    ("stat", "stat", 3_000, "`stat` of `a/b/c`"),
    ("missing", "missing", 3_000, "`stat` of a missing `p/q/nope.py`"),
    ("opendeep", "opendeep", 3_000, "`open` + `close` of `p/q/r/f`"),
    ("compute", "compute", 30_000_000, "compute only (no host calls)"),
    ("readdir", "readdir", 1, "readdir of 5,000 entries"),  # slow under the built-in: only when named
]
DEFAULT = [w[0] for w in WORKLOADS if w[0] != "readdir"]
EXTRA = ("real", "sandboxes", "parallel", "startup")  # the rows after the host calls (each may be named alone)
CLOCK_READS = {"clock"}  # exempt from the 1.2 ceiling (issue 9)


def _parse(out: bytes) -> float:
    for line in out.decode().splitlines():
        if line.startswith("ns_per_op "):
            return float(line.split()[1])
    raise RuntimeError(f"benchmark guest printed no result: {out!r}")


def builtin_run(engine, module, argv: list[str], box: str | None, stdout=None) -> int:
    """Run a command under wasmtime's built-in WASI; its exit status."""
    cfg = wasmtime.WasiConfig()
    cfg.argv = argv
    if box is not None:
        cfg.preopen_dir(box, "/box")
    if stdout is not None:
        cfg.stdout_custom = lambda data: stdout(bytes(data))
    store = wasmtime.Store(engine)
    store.set_wasi(cfg)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    try:
        linker.instantiate(store, module).exports(store)["_start"](store)
    except wasmtime.ExitTrap as e:
        return e.code
    return 0


def vwasm_run(engine, module, argv: list[str], box: str | None, stdout=None) -> int:
    """Run a command under vwasm; its exit status."""
    cfg = vwasm.Config()
    cfg.argv = argv
    if box is not None:
        cfg.preopen_dir(box, "/box")
    if stdout is not None:
        cfg.stdout_custom(stdout)
    return vwasm.Sandbox(module, cfg, engine=engine).run()


class Runtimes:
    """Each runtime with its engine and the benchmark guest compiled for it. vwasm's engine is its own
    (`vwasm.engine_for`: memory that cannot move); the built-in gets wasmtime's default."""

    def __init__(self, guest: Path = GUEST) -> None:
        self.builtin_engine = wasmtime.Engine()
        self.vwasm_engine = vwasm.engine_for(vwasm.Config())
        self.sides = {
            "wasmtime": (builtin_run, self.builtin_engine, wasmtime.Module.from_file(self.builtin_engine, str(guest))),
            "vwasm": (vwasm_run, self.vwasm_engine, wasmtime.Module.from_file(self.vwasm_engine, str(guest))),
        }

    def guest_ns(self, side: str, mode: str, n: int, tmp: str) -> float:
        run, engine, module = self.sides[side]
        collected: list[bytes] = []
        with tempfile.TemporaryDirectory(dir=tmp) as box:
            status = run(engine, module, ["bench", mode, str(n), "/box"], box,
                         lambda data: collected.append(data) if b"ns_per_op" in data else None)
        if status:
            raise RuntimeError(f"{side} run of {mode} exited {status}")
        return _parse(b"".join(collected))


def best_of(rounds: int, measure) -> dict:
    """{wasmtime, vwasm}: the best of `rounds` alternating measurements `measure(side)`."""
    seen: dict[str, list[float]] = {"wasmtime": [], "vwasm": []}
    for _ in range(rounds):
        for side in seen:
            seen[side].append(measure(side))
    return {side: min(values) for side, values in seen.items()}


def host_call_rows(rt: Runtimes, keys: list[str], rounds: int, tmp: str) -> list[dict]:
    rows = []
    for key, mode, n, label in WORKLOADS:
        if key not in keys:
            continue
        t = best_of(rounds, lambda side: rt.guest_ns(side, mode, n, tmp))
        rows.append(_row(key, label, "ns", t))
    return rows


def _row(key: str, label: str, unit: str, t: dict) -> dict:
    row = {"key": key, "workload": label, "unit": unit, "wasmtime": t["wasmtime"], "vwasm": t["vwasm"],
           "ratio": t["vwasm"] / t["wasmtime"]}
    _print(row)
    return row


def many_sandboxes(rt: Runtimes, rounds: int, tmp: str, count: int = 50) -> dict:
    """Seconds per sandbox: `count` instances of the small guest, each created, run and dropped."""
    def measure(side: str) -> float:
        run, engine, module = rt.sides[side]
        t0 = time.perf_counter()
        for _ in range(count):
            if run(engine, module, ["bench", "clock", "1", "/box"], tmp, lambda data: None):
                raise RuntimeError(f"{side}: a sandbox failed")
        return (time.perf_counter() - t0) / count * 1e9
    return _row("sandboxes", f"many sandboxes: {count} created, run, dropped (per sandbox)", "ns",
                best_of(rounds, measure))


def parallel(rt: Runtimes, rounds: int, tmp: str, n: int = 60_000_000) -> dict:
    """The compute workload alone and in 2 threads at once, for each runtime: the speed-up (2 x single
    time / pair time; 2.0 is perfect on 2 free cores) and the cores this process kept busy meanwhile
    (its CPU time / wall time: near 2 when both guests really run at once, whatever else the machine does)."""
    def one(side: str) -> None:
        rt.guest_ns(side, "compute", n, tmp)

    def measure(side: str) -> tuple[float, float]:
        t0 = time.perf_counter()
        one(side)
        single = time.perf_counter() - t0
        threads = [threading.Thread(target=one, args=(side,)) for _ in range(2)]
        t0, c0 = time.perf_counter(), time.process_time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        return 2 * single / wall, (time.process_time() - c0) / wall
    best = {side: max(measure(side) for _ in range(rounds)) for side in ("wasmtime", "vwasm")}
    print(f"{'2 compute guests in 2 threads':<48} speed-up: wasmtime {best['wasmtime'][0]:.2f}x "
          f"({best['wasmtime'][1]:.2f} cores busy), vwasm {best['vwasm'][0]:.2f}x ({best['vwasm'][1]:.2f} cores busy)",
          flush=True)
    return {"key": "parallel", "workload": "2 compute guests in 2 threads of one process: speed-up (cores busy)",
            "wasmtime_speedup": best["wasmtime"][0], "vwasm_speedup": best["vwasm"][0],
            "wasmtime_cores": best["wasmtime"][1], "vwasm_cores": best["vwasm"][1]}


def _print(row: dict) -> None:
    scale, unit = (1e-6, "ms") if row["wasmtime"] > 1e7 else (1.0, "ns")
    print(f"{row['workload']:<48} {row['wasmtime'] * scale:>12,.1f} {row['vwasm'] * scale:>12,.1f} {unit:<2}"
          f" {row['ratio']:>6.2f}", flush=True)


def summary(rows: list[dict]) -> dict:
    ratios = [r["ratio"] for r in rows if "ratio" in r]
    over = [r["key"] for r in rows if r.get("ratio", 0) > 1.2 and r["key"] not in CLOCK_READS]
    return {"geomean": math.exp(sum(math.log(x) for x in ratios) / len(ratios)) if ratios else None,
            "above_1.2": over}


def _colour(row: dict) -> str:
    """Grey: clock reads (no ceiling); red: above the 1.2 ceiling; blue otherwise."""
    return "#999" if row["key"] in CLOCK_READS else "#c44" if row["ratio"] > 1.2 else "#48c"


def chart(result: dict, path: Path = CHART) -> None:
    """A bar per workload: its ratio, with the 1.0 line (same speed) and the 1.2 ceiling."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [r for r in result["rows"] if "ratio" in r]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    names = [r["workload"].replace("`", "") for r in rows]
    bars = ax.barh(names, [r["ratio"] for r in rows], color=[_colour(r) for r in rows])
    ax.bar_label(bars, fmt="%.2f", padding=3, fontsize=8)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.axvline(1.2, color="#c44", linewidth=1, linestyle="--")
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("vwasm / wasmtime built-in WASI (log scale; below 1: vwasm faster)")
    ax.set_title(f"vwasm vs wasmtime's built-in WASI, same run\ngeometric mean {result['summary']['geomean']:.2f}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def readme_table(result: dict) -> str:
    def fmt(row: dict, side: str) -> str:
        v = row[side]  # ns
        return (f"{v / 1e6:,.1f} ms" if v >= 1e6 else f"{v / 1e3:,.1f} µs" if v >= 1e3
                else f"{v:,.0f} ns" if v >= 100 else f"{v:.1f} ns")
    lines = ["| workload | wasmtime | vwasm | ratio |", "|---|---|---|---|"]
    for r in result["rows"]:
        if "ratio" in r:
            lines.append(f"| {r['workload']} | {fmt(r, 'wasmtime')} | {fmt(r, 'vwasm')} | {r['ratio']:.2f} |")
        elif r["key"] == "parallel":
            lines.append(f"| {r['workload']} | {r['wasmtime_speedup']:.2f}x ({r['wasmtime_cores']:.2f}) "
                         f"| {r['vwasm_speedup']:.2f}x ({r['vwasm_cores']:.2f}) | |")
    s = result["summary"]
    lines.append("")
    lines.append(f"Geometric mean of the ratios: **{s['geomean']:.2f}**; above 1.2 (clock reads aside): "
                 f"{', '.join(s['above_1.2']) or 'none'}. {result['machine']}")
    return "\n".join(lines)


def rewrite_readme(result: dict, path: Path = README) -> None:
    """Replace the table between the markers in README.md with one made from `result`."""
    text = path.read_text()
    begin, end = MARKERS
    head, sep, rest = text.partition(begin)
    _, sep2, tail = rest.partition(end)
    if not sep or not sep2:
        raise SystemExit(f"bench: README.md has no {begin} ... {end} markers")
    path.write_text(head + begin + "\n" + readme_table(result) + "\n" + end + tail)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--readme", action="store_true", help="only rewrite README.md's table from build/bench.json")
    ap.add_argument("--quick", action="store_true", help="host-call workloads only")
    ap.add_argument("workloads", nargs="*", help="subset of: " + ", ".join([w[0] for w in WORKLOADS] + list(EXTRA)))
    ns = ap.parse_args(argv)
    if ns.readme:
        rewrite_readme(json.loads(RESULT.read_text()))
        print(f"bench: README.md's Speed table rewritten from {RESULT.relative_to(ROOT)}")
        return 0
    if not GUEST.exists():
        sys.exit(f"bench: {GUEST} is missing (make build)")
    rt = Runtimes()
    print(f"{'workload':<48} {'wasmtime':>12} {'vwasm':>12} {'':<2} {'ratio':>6}")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += host_call_rows(rt, ns.workloads or DEFAULT, ns.rounds, tmp)
        extra = [] if ns.quick else [key for key in EXTRA if not ns.workloads or key in ns.workloads]
        if "real" in extra:
            from . import real
            rows.append(real.measure(ns.rounds, tmp, _row))
        if "sandboxes" in extra:
            rows.append(many_sandboxes(rt, ns.rounds, tmp))
        if "parallel" in extra:
            rows.append(parallel(rt, ns.rounds, tmp))
        if "startup" in extra:
            from . import startup
            for r in startup.measure(runs=5):
                rows.append(_row("startup_" + r["name"].split()[1].rstrip(":"), r["name"] + " (whole process)",
                                 "ns", {"wasmtime": r["wasmtime"] * 1e9, "vwasm": r["vwasm"] * 1e9}))
    result = {"rows": rows, "summary": summary(rows), "rounds": ns.rounds,
              "machine": f"Best of {ns.rounds} alternating rounds on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}."}
    print(f"geometric mean of the ratios {result['summary']['geomean']:.2f}; above 1.2 (clock reads aside): "
          f"{', '.join(result['summary']['above_1.2']) or 'none'}")
    print("ratio = vwasm / wasmtime built-in WASI (below 1.00: vwasm is faster)")
    if not ns.workloads and not ns.quick:
        RESULT.parent.mkdir(exist_ok=True)
        RESULT.write_text(json.dumps(result, indent=1) + "\n")
        chart(result)
        print(f"bench: wrote {RESULT.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
