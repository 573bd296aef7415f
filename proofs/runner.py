"""Discover obligations and mutants, run them in forked children (2 at a time), print the table.

Each obligation runs in its own forked process with a hard deadline (its budget); each mutant is
applied in a fresh child and every obligation named as its killer is re-run there, with half that
obligation's budget as the deadline: a mutant counts as killed only if each killer reports a
counterexample in time (an error or a timeout is not a kill).
Budgets only cap: evidence is a count, the same on any machine. `--slow F` (or VWASM_PROOFS_SLOW=F)
divides every budget, and so every mutant deadline, by F, to show that they hold with that margin.
The exit status is non-zero on any failed obligation, surviving mutant, family without mutants, or
obligation that did not run.
"""
from __future__ import annotations

import argparse
import importlib
import multiprocessing as mp
import os
import pkgutil
import signal
import sys
import time
import traceback
from dataclasses import dataclass

from . import core
from .core import MUTANTS, OBLIGATIONS, Counterexample, TooLittleEvidence, Unknown

PACKAGES = ("proofs.lemmas", "proofs.refinement", "proofs.host", "proofs.mutants")


def discover() -> list[str]:
    """Import every module of the obligation packages; return import failures (as text)."""
    errors = []
    for pkg_name in PACKAGES:
        pkg = importlib.import_module(pkg_name)
        for info in pkgutil.iter_modules(pkg.__path__):
            name = f"{pkg_name}.{info.name}"
            try:
                importlib.import_module(name)
            except Exception as e:  # noqa: BLE001 - reported as a failure row
                errors.append(f"{name}: {type(e).__name__}: {e}")
    return errors


def apply_mutant_from_env() -> None:
    """In a subprocess started by an obligation: apply the mutant the parent runs under, if any."""
    name = os.environ.get("VWASM_PROOFS_MUTANT")
    if name:
        discover()
        MUTANTS[name].apply()


@dataclass
class Result:
    name: str  # obligation, or "mutant:obligation"
    status: str  # proved | checked | counterexample | unknown | error | timeout | too little evidence
    evidence: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status in ("proved", "checked")


def _child(conn, obligation: str, mutant: str | None, deadline: float) -> None:
    os.setpgid(0, 0)  # a group of its own, so that what the check starts dies with it (_kill_group)
    t0 = time.perf_counter()
    core._DEADLINE[0] = time.monotonic() + deadline
    try:
        if mutant is not None:
            os.environ["VWASM_PROOFS_MUTANT"] = mutant  # for obligations that run a subprocess
            MUTANTS[mutant].apply()
        out = OBLIGATIONS[obligation].check()
        res = (out.status, out.evidence)
    except Counterexample as e:
        res = ("counterexample", str(e))
    except Unknown as e:
        res = ("unknown", str(e))
    except TooLittleEvidence as e:
        res = ("too little evidence", str(e))
    except BaseException as e:  # noqa: BLE001 - every other ending is an error
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
        res = ("error", f"{type(e).__name__}: {e}{where}")
    conn.send((res[0], res[1], time.perf_counter() - t0))
    conn.close()


def _kill_group(p) -> None:
    """Kill a child and everything it started: a timed-out check's subprocesses (crosshair, guests)
    must not go on loading the machine under the checks that follow. Called before the child is
    reaped, so its group number cannot have been reused."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_tasks(tasks: list[tuple[str, str | None, float]], jobs: int, on_done=None) -> dict:
    """tasks: (obligation, mutant or None, deadline in s). Returns {(obl, mutant): Result}."""
    ctx = mp.get_context("fork")
    pending = list(tasks)
    running: dict = {}
    results: dict = {}
    try:
        _run(ctx, pending, running, results, jobs, on_done)
    finally:
        for p, *_ in running.values():
            _kill_group(p)
            p.kill()
    return results


def _run(ctx, pending, running, results, jobs, on_done) -> None:
    while pending or running:
        while pending and len(running) < jobs:
            obl, mut, deadline = pending.pop(0)
            rd, wr = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_child, args=(wr, obl, mut, deadline), daemon=True)
            p.start()
            wr.close()
            running[(obl, mut)] = (p, rd, time.perf_counter(), deadline)
        time.sleep(0.01)
        for key, (p, rd, t0, deadline) in list(running.items()):
            elapsed = time.perf_counter() - t0
            res = None
            if rd.poll():
                try:
                    status, evidence, secs = rd.recv()
                    res = Result(key[0], status, evidence, secs)
                except EOFError:
                    res = Result(key[0], "error", f"child died (exit code {p.exitcode})", elapsed)
            elif not p.is_alive():
                p.join()
                res = Result(key[0], "error", f"child died (exit code {p.exitcode})", elapsed)
            elif elapsed > deadline:
                p.kill()
                res = Result(key[0], "timeout", f"no answer within {deadline:.0f} s", elapsed)
            if res is not None:
                _kill_group(p)
                p.join(timeout=5)
                rd.close()
                del running[key]
                results[key] = res
                if on_done:
                    on_done(key, res)


def _fmt_time(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s"


def table(rows: list[list[str]], headers: list[str], wrap: int = 0) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    if wrap:
        widths = [min(w, wrap) for w in widths]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m proofs", description="Run the proof obligations.")
    ap.add_argument("names", nargs="*", help="obligations (or mutants) to run; default: all")
    ap.add_argument("--list", action="store_true", help="list obligations and mutants, run nothing")
    ap.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--no-mutants", action="store_true", help="skip the mutant runs")
    ap.add_argument("--slow", type=float, default=float(os.environ.get("VWASM_PROOFS_SLOW") or 1),
                    metavar="F", help="divide every budget (and mutant deadline) by F, to show the margin "
                    "(default: $VWASM_PROOFS_SLOW or 1)")
    args = ap.parse_args(argv)
    if args.slow < 1:
        ap.error("--slow must be at least 1")
    slow = args.slow

    def budget(o) -> float:
        return o.budget / slow

    def budget_text(o) -> str:
        return f"budget {o.budget:.0f} s" + (f" / {slow:g} = {budget(o):.0f} s" if slow != 1 else "")

    import_errors = discover()
    if args.list:
        for o in OBLIGATIONS.values():
            print(f"{o.name:32} {o.family:11} {o.tool:11} budget {o.budget:.0f} s  bound: {o.bound}")
        for m in MUTANTS.values():
            print(f"mutant {m.name:30} killed by {', '.join(m.killers)}  -- breaks: {m.breaks}")
        for e in import_errors:
            print(f"IMPORT ERROR {e}")
        return 1 if import_errors else 0

    unknown_names = [n for n in args.names if n not in OBLIGATIONS and n not in MUTANTS]
    if unknown_names:
        print(f"no such obligation or mutant: {', '.join(unknown_names)}", file=sys.stderr)
        return 2
    if args.names:
        obls = [n for n in args.names if n in OBLIGATIONS]
        muts = [n for n in args.names if n in MUTANTS]
        # Naming obligations runs the mutants they must kill, too.
        muts += [m.name for m in MUTANTS.values() if m.name not in muts and set(m.killers) & set(obls)]
    else:
        obls, muts = list(OBLIGATIONS), list(MUTANTS)
    if args.no_mutants:
        muts = []

    # Preload the heavy modules once, so forked children start warm.
    for mod in ("z3", "hypothesis", "crosshair", "vwasm.model.wasi"):
        try:
            importlib.import_module(mod)
        except ImportError:
            pass

    t_start = time.perf_counter()
    tasks = [(n, None, budget(OBLIGATIONS[n])) for n in obls]
    bad_mutants = []
    for m in muts:
        for k in MUTANTS[m].killers:
            if k not in OBLIGATIONS:
                bad_mutants.append(f"mutant {m}: killer {k} is not an obligation")
            else:
                tasks.append((k, m, budget(OBLIGATIONS[k]) / 2))
    # Longest first keeps both cores busy to the end.
    tasks.sort(key=lambda t: -t[2])
    total = len(tasks)
    done = [0]

    def progress(key, res):
        done[0] += 1
        label = key[0] if key[1] is None else f"{key[1]} -> {key[0]}"
        print(f"  [{done[0]:3}/{total}] {label}: {res.status} ({_fmt_time(res.seconds)})", file=sys.stderr, flush=True)

    print(f"running {len(obls)} of {len(OBLIGATIONS)} obligations and {len(muts)} of {len(MUTANTS)} mutants "
          f"({total} runs, {args.jobs} at a time; slowdown factor {slow:g})", file=sys.stderr, flush=True)
    results = run_tasks(tasks, args.jobs, progress)
    wall = time.perf_counter() - t_start

    # --- obligations ---------------------------------------------------------------------------
    rows = []
    failed = 0
    for n in obls:
        o, r = OBLIGATIONS[n], results[(n, None)]
        failed += not r.ok
        result = "PROVED" if r.status == "proved" else "CHECKED" if r.status == "checked" else f"FAIL: {r.status}"
        rows.append([n, o.tool, f"{o.bound}; {budget_text(o)}", r.evidence, result, _fmt_time(r.seconds)])
    print()
    print(table(rows, ["obligation", "tool", "bound / budget", "evidence", "result", "time"]))

    # --- mutants -------------------------------------------------------------------------------
    survived = 0
    if muts:
        mrows = []
        for m in muts:
            mu = MUTANTS[m]
            verdicts = []
            killed = True
            for k in mu.killers:
                if k not in OBLIGATIONS:
                    killed = False
                    verdicts.append(f"{k}: no such obligation")
                    continue
                r = results[(k, m)]
                base = results.get((k, None))
                ok = r.status == "counterexample" and (base is None or base.ok)
                if base is not None and not base.ok:
                    verdicts.append(f"{k}: not meaningful, the obligation already fails without the mutant")
                    killed = False
                    continue
                killed &= ok
                verdicts.append(f"{k}: {'killed' if ok else r.status} in {_fmt_time(r.seconds)}"
                                f" (limit {_fmt_time(budget(OBLIGATIONS[k]) / 2)})"
                                + ("" if ok else f" [{r.evidence[:160]}]"))
            survived += not killed
            mrows.append([m, mu.breaks, "; ".join(verdicts), "KILLED" if killed else "SURVIVED"])
        print()
        print(table(mrows, ["mutant", "breaks", "killers (counterexample within half the budget)", "result"]))

    # --- coverage of families by mutants --------------------------------------------------------
    problems = list(import_errors) + bad_mutants
    if not args.names:
        families = {o.family for o in OBLIGATIONS.values()}
        for fam in sorted(set(families) | {core.Z3, core.CROSSHAIR, core.STATEFUL, core.HOST}):
            if fam not in families:
                problems.append(f"family '{fam}': no obligation registered")
                continue
            if not any(OBLIGATIONS[k].family == fam for m in MUTANTS.values() for k in m.killers if k in OBLIGATIONS):
                problems.append(f"family '{fam}': no mutant targets it")
    print()
    for p in problems:
        print(f"PROBLEM: {p}")
    n_ok = len(obls) - failed
    print(f"{len(OBLIGATIONS)} obligations registered, {len(obls)} ran: {n_ok} passed, {failed} failed; "
          f"{len(MUTANTS)} mutants registered, {len(muts)} ran: {len(muts) - survived} killed, {survived} survived; "
          f"wall time {wall:.1f} s on {args.jobs} worker(s); slowdown factor {slow:g} (every budget divided by it)")
    ok = failed == 0 and survived == 0 and not problems
    print("verify: OK" if ok else "verify: FAILED")
    return 0 if ok else 1
