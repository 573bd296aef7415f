"""CrossHair obligations: the model's path resolution (`ch_paths`) and three sandbox transitions on
small fixed states (`ch_sandbox`, over model/scenarios.py). Bounded search, never a proof: the
evidence is the number of harness executions that reached a verdict and the outcome kinds they saw;
fewer than the stated minimum fails.

How crosshair is run, and why (each point was a way for a planted bug to survive):
- In a subprocess (crosshair's tracing would disturb the runner), which applies the parent's
  mutant first (`apply_mutant_from_env`).
- `--analysis_kind=asserts`, harnesses that state their property with `assert`. Under the
  icontract kind crosshair checks the contracts of *nested* calls itself, and when a nested
  postcondition fails it does not report a counterexample: it blames the callee and silently drops
  the path ("Ignoring based on internal failed post condition"). So a bug that breaks
  `paths.resolve`'s own postcondition only made the search smaller (`crosshair_dotdot_at_root`
  survived).
- Crosshair also switches icontract's runtime checks off when it loads (it wants to run them
  itself); the subprocess switches them back on, so a nested contract broken on a path raises an
  ordinary ViolationError there, which the asserts analysis reports. A canary checks that they are
  live before the analysis starts.
- The evidence is a count, the same on every machine and under any load. The search is capped by
  a number of iterations (`max_iterations`, set through ch_launch: crosshair 0.0.113 has no flag for
  it), never by time: no per-condition or per-path timeout (CPU time, which load changes where it
  cuts) and so no z3 timeout (crosshair derives z3's from the per-path one, in wall-clock time) --
  `--max_uninteresting_iterations=0` is what makes crosshair set none. Its path choices come from
  a fixed-seed Random (statespace.newrandom) and z3's seeds are fixed; PYTHONHASHSEED is fixed here.
  So N iterations explore the same paths in the same order on every run: the evidence shows the
  executions per outcome kind and a digest of their order (ch_evidence). The budget only caps.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from proofs.core import CROSSHAIR, Counterexample, Outcome, TooLittleEvidence, Unknown, obligation, time_left


def run_crosshair(target: str, iterations: int, min_runs: int, min_kinds: int, exhaust: bool = False) -> Outcome:
    """Run `iterations` crosshair iterations over harness `target`; at least `min_runs` of them must
    reach a verdict, with `min_kinds` outcome kinds among them (and, if `exhaust`, every path)."""
    root = Path(__file__).resolve().parents[2]
    mut = os.environ.get("VWASM_PROOFS_MUTANT")
    timeout = time_left() - 2  # end before the runner's kill, which would leave crosshair running
    with tempfile.TemporaryDirectory() as tmp:
        count = os.path.join(tmp, "count")
        env = dict(os.environ, VWASM_CROSSHAIR_COUNT=count, PYTHONHASHSEED="0",
                   PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        try:
            p = subprocess.run([sys.executable, "-m", "proofs.refinement.ch_launch", "check", "--analysis_kind=asserts",
                                "--report_all", f"--max_iterations={iterations}", "--max_uninteresting_iterations=0",
                                f"--unblock=open:{count}", target],
                               env=env, capture_output=True, text=True, timeout=min(timeout, 10**6), cwd=root)
        except subprocess.TimeoutExpired:
            raise Unknown(f"crosshair did not finish {iterations} iterations within the budget") from None
        ev = json.load(open(count)) if os.path.exists(count) else {"runs": 0, "kinds": {}, "trace": "-"}
    out = (p.stdout + p.stderr).strip()
    # A counterexample: "<file>:<line>: error: <message, maybe many lines> when calling <call>".
    cx = re.search(r": error: (.*?) when calling (\S.*)", out, re.S)
    if p.returncode == 1 and cx:
        raise Counterexample(f"{cx.group(1).splitlines()[0][:200]} ... when calling {cx.group(2).splitlines()[0][:200]}")
    if p.returncode != 0 or ": error: " in out:
        raise Unknown(f"crosshair exit {p.returncode}: {out[-300:]}")
    m = re.search(r": info: (Confirmed over all paths|Not confirmed)\.", out)
    if m is None:
        raise Unknown(f"crosshair reported nothing for {target}: {out[-300:]}")
    runs, kinds, exhausted = ev["runs"], ev["kinds"], m.group(1).startswith("Confirmed")
    if runs < min_runs or len(kinds) < min_kinds or (exhaust and not exhausted):
        raise TooLittleEvidence(f"crosshair: {runs} harness executions, {len(kinds)} outcome kinds"
                                f"{'' if exhausted else ', paths not exhausted'} (need {min_runs}, {min_kinds}"
                                f"{', all paths' if exhaust else ''}){' (mutant ' + mut + ')' if mut else ''}")
    per_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda kn: (-kn[1], kn[0])))
    return Outcome(f"crosshair: {runs} harness executions reached a verdict ({per_kind}; order digest "
                   f"{ev['trace']}), 0 counterexamples, "
                   f"{'all paths exhausted' if exhausted else f'{iterations} iterations'}", status="checked")


# Iterations per harness. The sandbox harnesses cost ~0.2 s of CPU an iteration, growing with the
# depth of the search tree; `resolve_confined` exhausts its paths well before its cap.
PATHS_ITERATIONS, SANDBOX_ITERATIONS = 1000, 40
# On this machine (2 cores) the sandbox harnesses take 7-10 s of CPU each, `resolve_confined` 2.5 s,
# a mutant's counterexample 1-3 s: the budget caps at ~9x that, so that `--slow 3` still leaves 3x.
BUDGET = 90


@obligation("refinement.crosshair", family=CROSSHAIR, tool="crosshair",
            bound=f"1-3 components over a 5-name alphabet (155 paths), fixed tree; every crosshair path "
                  f"(≤ {PATHS_ITERATIONS} iterations)",
            budget=BUDGET, guarantee="2 filesystem isolation (model contracts)")
def crosshair_paths() -> Outcome:
    return run_crosshair("proofs.refinement.ch_paths.resolve_confined", PATHS_ITERATIONS, min_runs=130, min_kinds=3,
                         exhaust=True)


_SCEN = "model/scenarios.py states (108 shapes: box entries a/b/l, 8 link texts, fd 4)"
_ITER = f"{SANDBOX_ITERATIONS} crosshair iterations (fixed seed)"


@obligation("refinement.crosshair.path_open", family=CROSSHAIR, tool="crosshair",
            bound=f"{_SCEN}; paths of 0-3 components over 6, 16 oflags, 5 rights sets, follow 0/1; {_ITER}",
            budget=BUDGET, guarantee="2 filesystem isolation, 3 rights (sandbox.path_open contracts)")
def crosshair_path_open() -> Outcome:
    return run_crosshair("proofs.refinement.ch_sandbox.path_open", SANDBOX_ITERATIONS, min_runs=32, min_kinds=5)


@obligation("refinement.crosshair.fd_renumber", family=CROSSHAIR, tool="crosshair",
            bound=f"{_SCEN}; any u32 descriptor numbers; {_ITER}",
            budget=BUDGET, guarantee="3 descriptors (sandbox.fd_renumber contracts)")
def crosshair_fd_renumber() -> Outcome:
    return run_crosshair("proofs.refinement.ch_sandbox.fd_renumber", SANDBOX_ITERATIONS, min_runs=32, min_kinds=2)


@obligation("refinement.crosshair.fd_allocate", family=CROSSHAIR, tool="crosshair",
            bound=f"{_SCEN}; fds 0-5, any u64 offset/length; {_ITER}",
            budget=BUDGET, guarantee="file integrity (sandbox.fd_allocate contracts)")
def crosshair_fd_allocate() -> Outcome:
    return run_crosshair("proofs.refinement.ch_sandbox.fd_allocate", SANDBOX_ITERATIONS, min_runs=32, min_kinds=3)
