"""`python -m proofs.mutate`: generated mutants as the measure of the obligations (`make mutate`).

Generates single-point mutants (proofs/mutate/operators.py) over the files of targets.py, runs each
against the obligations its file maps to (fastest first, the first counterexample stops), 2 at a
time, and reports the score: killed / (run - listed equivalent). Every survivor is printed with
its line; the JSON results go to build/. Exit status non-zero when the score is below --min-score
(a --sample run: when any non-equivalent mutant survives).
"""
from __future__ import annotations

import argparse
import atexit
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .child import KILLS
from .operators import ENUM_CLASSES, Mutant, apply, diff_lines, find_mutants
from .targets import TARGETS, obligations_for, unmapped

REPO = Path(__file__).resolve().parents[2]
EQUIVALENTS = Path(__file__).with_name("equivalent.toml")
# The obligation that first killed each mutant in the last full run (by key): tried first, so the
# CI sample spends its time on kills, not on obligations that were never going to see the bug.
KILLERS = Path(__file__).with_name("killers.json")
BASELINE = REPO / "build" / "mutate_baseline.json"
# Checks that the machinery is live: each mutant must be killed by the obligation, and the obligation
# must pass on an unmutated copy. The second is seen only inside crosshair's own subprocess.
SELFTEST = (
    ("impl/memory.py::GuestMemory.check::drop_check::removed `if ptr + length > self.size:`", "memory.check"),
    ("model/paths.py::_Walk.parent_dir::drop_check::removed `if not self.dirs:`", "refinement.crosshair"),
)


def enum_members() -> dict[str, list[str]]:
    from vwasm.model import wasi
    out = {}
    for name in ENUM_CLASSES:
        cls = getattr(wasi, name)
        out[name] = (list(cls.__members__) if hasattr(cls, "__members__")
                     else [k for k, v in vars(cls).items() if k.isupper() and type(v) is int])
    return out


# The tree every mutant is copied from: impl/, model/ and proofs/ as they were when the run started
# (others may edit the working tree during a long run; a mutant must differ from its baseline only
# by its one change).
SNAPSHOT: list[Path] = []


def snapshot() -> Path:
    if not SNAPSHOT:
        snap = Path(tempfile.mkdtemp(prefix="vwasm-mutate-snapshot-"))
        atexit.register(shutil.rmtree, snap, True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for d in ("impl", "model", "proofs"):
            shutil.copytree(REPO / d, snap / d, ignore=ignore)
        SNAPSHOT.append(snap)
    return SNAPSHOT[0]


def generate() -> tuple[list[Mutant], dict[str, str]]:
    """Every mutant of every target file, in a fixed order; and the files' texts."""
    members = enum_members()
    mutants, texts = [], {}
    snap = snapshot()
    for t in TARGETS:
        files = sorted(glob.glob(t.pattern, root_dir=snap))
        if not files:
            raise SystemExit(f"proofs/mutate/targets.py: {t.pattern} matches no file")
        for f in files:
            texts[f] = (snap / f).read_text()
            mutants += find_mutants(texts[f], f, members, t.region)
    return mutants, texts


def choose(mutants: list[Mutant], n: int | None, seed: int) -> list[Mutant]:
    """All of them in order, or n of them picked by the seed: the files in turn (so a large file
    does not crowd out the others), each file's mutants ordered by a hash of the seed and their key
    (so an edit that adds or removes mutants leaves the others' order, and the sample, as it was)."""
    by_file: dict[str, list[Mutant]] = defaultdict(list)
    for m in mutants:
        by_file[m.file].append(m)
    queues = [sorted(by_file[f], key=lambda m: hashlib.sha256(f"{seed}:{m.key}".encode()).digest())
              for f in sorted(by_file)]
    order = []
    while any(queues):
        for q in queues:
            if q:
                order.append(q.pop(0))
    return order if n is None else order[: n]


def load_equivalents(with_edits: bool = False) -> dict[str, str] | dict[str, tuple[str, str]]:
    """key -> reason of every listed equivalent; with `with_edits`, key -> (reason, edit)."""
    if not EQUIVALENTS.exists():
        return {}
    data = tomllib.loads(EQUIVALENTS.read_text())
    out = {}
    for e in data.get("equivalent", []):
        if not e.get("reason", "").strip():
            raise SystemExit(f"{EQUIVALENTS.name}: {e.get('key')} has no reason")
        out[e["key"]] = (e["reason"], e.get("edit", "")) if with_edits else e["reason"]
    return out


def edited_line(src: str, m: Mutant) -> str:
    """The first line `m` changes, as it reads mutated (stripped): what an equivalents entry's `edit`
    must say, since a key's `#n` only counts alike edits in one function and names another site once
    the function changes. A C edit is written as text, not compiled."""
    if m.change[0] == "text":
        _, start, end, new = m.change
        text = src[:start] + new + src[end:]
    else:
        text = apply(src, m)
    for old, new in zip(src.splitlines(), text.splitlines()):
        if old != new:
            return new.strip()
    return ""


def make_copy(tmp: Path, file: str | None = None, text: str | None = None) -> None:
    """From the snapshot: impl/ -> tmp/vwasm, model/ -> tmp/vwasm/model (the wheel's layout),
    proofs/ -> tmp/proofs; then the mutated file."""
    snap = snapshot()
    shutil.copytree(snap / "impl", tmp / "vwasm")
    shutil.copytree(snap / "model", tmp / "vwasm" / "model")
    shutil.copytree(snap / "proofs", tmp / "proofs")
    if file is not None:
        top, rest = file.split("/", 1)
        dest = tmp / "vwasm" / rest if top == "impl" else tmp / "vwasm" / "model" / rest
        dest.write_text(text)


def run_child(obligations: list[tuple[str, float]], file=None, text=None, *, baseline=False,
              known_import_errors=()) -> dict:
    with tempfile.TemporaryDirectory(prefix="vwasm-mutant-") as tmp:
        make_copy(Path(tmp), file, text)
        spec = {"root": tmp, "obligations": obligations, "baseline": baseline, "stop_at_kill": not baseline,
                "known_import_errors": list(known_import_errors)}
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([tmp, os.environ.get("PYTHONPATH", "")]),
                   PYTHONDONTWRITEBYTECODE="1", VWASM_PROJECT_ROOT=str(REPO))  # built guests, test tables
        env.pop("VWASM_PROOFS_MUTANT", None)
        limit = sum(d for _, d in obligations) + 120
        try:
            p = subprocess.run([sys.executable, "-m", "proofs.mutate.child", json.dumps(spec)], cwd=tmp, env=env,
                               capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            return {"results": [{"obligation": "(child)", "status": "timeout", "seconds": limit, "evidence": ""}]}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"fatal": f"child exit {p.returncode}: {(p.stdout + p.stderr)[-400:]}"}
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m proofs.mutate", description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, help="run a fixed sample of this many (fails on any survivor)")
    ap.add_argument("--max", type=int, default=300, help="at most this many mutants (seeded pick); 0 = all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--min-score", type=float, default=95.0, help="percent; fail below it")
    ap.add_argument("--strict", action="store_true", help="count only counterexamples as kills (not errors)")
    ap.add_argument("--file", action="append", default=[], help="only mutants of files matching this glob")
    ap.add_argument("--match", action="append", default=[],
                    help="only mutants whose id or key contains this text (given again: any of them)")
    ap.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=None,
                    help="first run every obligation on an unmutated copy (default: on unless --sample)")
    ap.add_argument("--list", action="store_true", help="list the chosen mutants, run nothing")
    ap.add_argument("--selftest", action="store_true", help="check the machinery on mutants that must die")
    ap.add_argument("--resume", action="store_true", help="keep the verdicts already in the results file")
    ap.add_argument("--report", action="store_true",
                    help="run nothing: report the results file again, with the equivalents list as it is now")
    ap.add_argument("--out", help="JSON results file (default build/mutate.json, build/mutate_sample.json)")
    args = ap.parse_args(argv)

    from fnmatch import fnmatch

    from proofs.core import OBLIGATIONS
    from proofs.runner import discover
    import_errors = discover()
    for e in import_errors:
        print(f"warning: obligation module does not import: {e}", file=sys.stderr)
    for n in unmapped(OBLIGATIONS):
        print(f"note: {n} is under no family of proofs/mutate/targets.py COVERS: run for every file",
              file=sys.stderr)

    if args.report:
        out = Path(args.out) if args.out else REPO / "build" / ("mutate_sample.json" if args.sample else "mutate.json")
        data = json.loads(out.read_text())
        equivalents = load_equivalents()
        for r in data["mutants"]:
            if r["key"] in equivalents:
                r.update(verdict="equivalent", reason=equivalents[r["key"]])
        if not args.strict:
            record_killers(data["mutants"])
        generated = data["summary"].get("generated") or len(generate()[0])
        return report(args, out, data["mutants"], generated,
                      data["summary"].get("wall_seconds", 0), data["summary"].get("baseline_failures", {}))

    everything, texts = generate()
    if args.selftest:
        return selftest(everything, texts, import_errors)
    pool = [m for m in everything if (not args.file or any(fnmatch(m.file, g) for g in args.file))
            and (not args.match or any(t in m.id or t in m.key for t in args.match))]
    want = args.sample if args.sample else (args.max or None)
    ordered = choose(pool, None, args.seed)
    equivalents = load_equivalents()

    # Write out the chosen mutants; one whose text cannot be written is replaced by the next in order.
    chosen: list[tuple[Mutant, str]] = []
    for m in ordered:
        if want is not None and len(chosen) >= want:
            break
        try:
            chosen.append((m, apply(texts[m.file], m)))
        except ValueError as e:
            print(f"skipped: {e}", file=sys.stderr)
    if args.list:
        for m, text in chosen:
            old, new = diff_lines(texts[m.file], text)
            print(f"{m.id}\n    key {m.key}\n    - {old}\n    + {new}")
        print(f"{len(everything)} mutants generated, {len(chosen)} chosen")
        return 0

    baseline_on = args.baseline if args.baseline is not None else not args.sample
    base_times: dict[str, float] = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    bad_baseline: dict[str, str] = {}
    needed = sorted({o for m, _ in chosen for o in obligations_for(m.file, OBLIGATIONS, m.scope)})
    t0 = time.perf_counter()
    if baseline_on:
        print(f"baseline: {len(needed)} obligations on an unmutated copy", file=sys.stderr, flush=True)
        half = (len(needed) + 1) // 2
        parts = [needed[:half], needed[half:]] if args.jobs > 1 else [needed]
        with ThreadPoolExecutor(args.jobs) as ex:
            answers = list(ex.map(lambda part: run_child([(n, OBLIGATIONS[n].budget) for n in part], baseline=True,
                                                         known_import_errors=import_errors), parts))
        for ans in answers:
            if "fatal" in ans:
                print(f"baseline: {ans['fatal']}", file=sys.stderr)
                return 2
            for r in ans["results"]:
                base_times[r["obligation"]] = r["seconds"]
                if r["status"] not in ("proved", "checked"):
                    bad_baseline[r["obligation"]] = f"{r['status']}: {r['evidence'][:150]}"
        for n, why in bad_baseline.items():
            print(f"baseline: {n} fails without a mutant ({why}); it cannot kill", file=sys.stderr)
        BASELINE.parent.mkdir(exist_ok=True)
        BASELINE.write_text(json.dumps(base_times, indent=1, sort_keys=True))

    killers: dict[str, str] = json.loads(KILLERS.read_text()) if KILLERS.exists() else {}

    def plan(m: Mutant) -> list[tuple[str, float]]:
        obls = [o for o in obligations_for(m.file, OBLIGATIONS, m.scope) if o not in bad_baseline]
        # The last known killer first, then the fastest first.
        obls.sort(key=lambda o: (o != killers.get(m.key), base_times.get(o, OBLIGATIONS[o].budget / 4), o))
        return [(o, deadline(o)) for o in obls]

    def deadline(o: str) -> float:
        # The budget, as `make verify` gives it; and since the evidence is a count, a run that has not
        # found a counterexample in 5x its unmutated time (+10 s) is not going to (5x: the load varies).
        budget = OBLIGATIONS[o].budget
        return min(budget, 5 * base_times[o] + 10) if o in base_times else budget

    kill_statuses = ("counterexample",) if args.strict else KILLS
    out = Path(args.out) if args.out else REPO / "build" / ("mutate_sample.json" if args.sample else "mutate.json")
    previous = {}
    if args.resume and out.exists():
        previous = {r["key"]: r for r in json.loads(out.read_text())["mutants"]
                    if r["verdict"] == "killed" or (r["verdict"] == "survived" and not r.get("undecided"))}
    records = [previous[m.key] for m, _ in chosen if m.key in previous and m.key not in equivalents]
    to_run = [(m, text) for m, text in chosen if m.key not in equivalents and m.key not in previous]
    done = [0]
    lock = threading.Lock()

    def one(item):
        m, text = item
        t = time.perf_counter()
        ans = run_child(plan(m), m.file, text, known_import_errors=import_errors)
        results = ans.get("results", [])
        killer = next((r for r in results if r["status"] in kill_statuses), None)
        old, new = diff_lines(texts[m.file], text)
        rec = {"id": m.id, "key": m.key, "file": m.file, "line": m.line, "op": m.op, "desc": m.desc,
               "old": old, "new": new, "verdict": "killed" if killer else "survived",
               "killer": killer and killer["obligation"], "kill_status": killer and killer["status"],
               "results": results, "seconds": round(time.perf_counter() - t, 1)}
        if not killer:
            # Not a kill, but not a clean pass either: an obligation ran out of time or evidence
            # (load-dependent), so a stronger machine might have killed it. Counted as a survivor.
            rec["undecided"] = sorted({r["status"] for r in results} - {"proved", "checked"})
        if "fatal" in ans:
            rec.update(verdict="broken", results=[{"obligation": "(child)", "status": "fatal", "evidence": ans["fatal"]}])
        done[0] += 1
        tail = f"by {rec['killer']} ({rec['kill_status']})" if killer else \
            ", ".join(f"{r['obligation']}: {r['status']}" for r in results)
        print(f"  [{done[0]:3}/{len(to_run)}] {rec['verdict'].upper():8} {m.id}  {tail} ({rec['seconds']} s)",
              file=sys.stderr, flush=True)
        with lock:  # the results so far, in case the run is stopped
            records.append(rec)
            out.parent.mkdir(exist_ok=True)
            out.write_text(json.dumps({"summary": {"partial": True, "generated": len(everything),
                                                   "wall_seconds": round(time.perf_counter() - t0)},
                                       "mutants": records}, indent=1))
        return rec

    print(f"{len(everything)} mutants generated over {len(texts)} files; running {len(to_run)} "
          f"({sum(m.key in equivalents for m, _ in chosen)} listed equivalent, {len(previous)} already decided), "
          f"{args.jobs} at a time", file=sys.stderr, flush=True)
    with ThreadPoolExecutor(args.jobs) as ex:
        list(ex.map(one, to_run))
    if not args.strict:
        record_killers(records)
    for m, text in chosen:
        if m.key in equivalents:
            old, new = diff_lines(texts[m.file], text)
            records.append({"id": m.id, "key": m.key, "file": m.file, "line": m.line, "op": m.op, "desc": m.desc,
                            "old": old, "new": new, "verdict": "equivalent", "reason": equivalents[m.key]})
    wall = time.perf_counter() - t0
    return report(args, out, records, len(everything), wall, bad_baseline)


def record_killers(records: list[dict]) -> None:
    """Remember each kill's first killer for the next runs (the CI sample tries it first); re-read
    first, another run may have recorded some meanwhile."""
    killers = json.loads(KILLERS.read_text()) if KILLERS.exists() else {}
    killers.update({r["key"]: r["killer"] for r in records if r["verdict"] == "killed"})
    KILLERS.write_text(json.dumps(dict(sorted(killers.items())), indent=0) + "\n")


def selftest(everything: list[Mutant], texts: dict[str, str], import_errors) -> int:
    """Each SELFTEST mutant is killed by its obligation, which passes without it."""
    by_key = {m.key: m for m in everything}
    ok = True
    for key, obl in SELFTEST:
        m = by_key.get(key)
        if m is None:
            print(f"selftest: no generated mutant {key} (update SELFTEST)")
            ok = False
            continue
        from proofs.core import OBLIGATIONS
        budget = OBLIGATIONS[obl].budget
        base = run_child([(obl, budget)], baseline=True, known_import_errors=import_errors)
        mut = run_child([(obl, budget / 2)], m.file, apply(texts[m.file], m), known_import_errors=import_errors)
        b = base.get("results", [{}])[-1].get("status", base.get("fatal"))
        r = mut.get("results", [{}])[-1].get("status", mut.get("fatal"))
        good = b in ("proved", "checked") and r == "counterexample"
        ok &= good
        print(f"selftest: {obl} on an unmutated copy: {b}; with {m.id}: {r} -> {'OK' if good else 'FAILED'}")
    return 0 if ok else 1


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}%" if n else "-"


def report(args, out: Path, records: list[dict], generated: int, wall: float, bad_baseline: dict) -> int:
    from proofs.runner import table
    killed = [r for r in records if r["verdict"] == "killed"]
    survived = [r for r in records if r["verdict"] in ("survived", "broken")]
    equivalent = [r for r in records if r["verdict"] == "equivalent"]
    scored = len(killed) + len(survived)
    score = 100 * len(killed) / scored if scored else 100.0

    rows = []
    for key, label in (("file", "file"), ("op", "operator")):
        groups: dict[str, Counter] = defaultdict(Counter)
        for r in records:
            groups[r[key]][r["verdict"]] += 1
        for g in sorted(groups):
            c = groups[g]
            n = c["killed"] + c["survived"] + c["broken"]
            rows.append([f"{label} {g}", str(sum(c.values())), str(c["killed"]), str(c["survived"] + c["broken"]),
                         str(c["equivalent"]), _pct(c["killed"], n)])
    print(table(rows, ["", "run", "killed", "survived", "equivalent", "score"]))
    by_killer = Counter(f"{r['killer']} ({r['kill_status']})" for r in killed)
    print()
    print(table([[k, str(v)] for k, v in by_killer.most_common()], ["first killer", "mutants"]))
    if survived:
        print("\nSURVIVORS (kill them with a stronger obligation, or list them in proofs/mutate/equivalent.toml "
              "with the reason):")
        for r in survived:
            undecided = f"  (undecided: {', '.join(r['undecided'])})" if r.get("undecided") else ""
            print(f"  {r['id']}{undecided}\n      key {r['key']}\n      - {r['old']}\n      + {r['new']}")
            for x in r["results"]:
                print(f"      {x['obligation']}: {x['status']} ({x.get('seconds', 0)} s)")
    for n, why in bad_baseline.items():
        print(f"PROBLEM: {n} fails without a mutant, so it killed nothing: {why}")
    undecided = sum(bool(r.get("undecided")) for r in survived)
    summary = {"generated": generated, "run": len(records), "killed": len(killed), "survived": len(survived),
               "survived_undecided": undecided,
               "equivalent": len(equivalent), "score": round(score, 2), "strict": args.strict, "seed": args.seed,
               "sample": args.sample, "wall_seconds": round(wall, 1), "baseline_failures": bad_baseline}
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "mutants": records}, indent=1))
    print(f"\n{generated} mutants generated, {len(records)} chosen: {len(killed)} killed, {len(survived)} survived "
          f"({undecided} of them undecided: a timeout or too little evidence), "
          f"{len(equivalent)} listed equivalent; score {len(killed)}/{scored} = {score:.1f}% "
          f"(wall {wall:.0f} s, {args.jobs} at a time); results in {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    if args.sample:
        ok = not survived
        print("mutate sample: OK" if ok else f"mutate sample: FAILED ({len(survived)} non-equivalent survivor(s))")
    else:
        ok = score >= args.min_score
        print(f"mutate: OK (score >= {args.min_score}%)" if ok else f"mutate: FAILED (score below {args.min_score}%)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
