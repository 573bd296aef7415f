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
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from proofs.core import CROSSHAIR, Counterexample, Outcome, TooLittleEvidence, Unknown, obligation

PER_CONDITION = 10  # crosshair's CPU seconds per harness



def run_crosshair(target: str, min_runs: int, min_kinds: int, timeout: float) -> Outcome:
    root = Path(__file__).resolve().parents[2]
    mut = os.environ.get("VWASM_PROOFS_MUTANT")
    with tempfile.TemporaryDirectory() as tmp:
        count = os.path.join(tmp, "count")
        env = dict(os.environ, VWASM_CROSSHAIR_COUNT=count,
                   PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        p = subprocess.run([sys.executable, "-m", "proofs.refinement.ch_launch", "check", "--analysis_kind=asserts", "--report_all",
                            f"--per_condition_timeout={PER_CONDITION}", f"--unblock=open:{count}", target],
                           env=env, capture_output=True, text=True, timeout=timeout, cwd=root)
        ev = json.load(open(count)) if os.path.exists(count) else {"runs": 0, "kinds": []}
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
    runs, kinds = ev["runs"], ev["kinds"]
    if runs < min_runs or len(kinds) < min_kinds:
        raise TooLittleEvidence(f"crosshair: {runs} harness executions, {len(kinds)} outcome kinds "
                                f"(need {min_runs}, {min_kinds}){' (mutant ' + mut + ')' if mut else ''}")
    exhausted = "all paths exhausted" if m.group(1).startswith("Confirmed") else "search not exhausted"
    return Outcome(f"crosshair: {runs} harness executions reached a verdict, {len(kinds)} outcome kinds, "
                   f"0 counterexamples ({exhausted})", status="checked")


@obligation("refinement.crosshair", family=CROSSHAIR, tool="crosshair",
            bound=f"1-3 components over a 5-name alphabet (155 paths), fixed tree; {PER_CONDITION} s per condition",
            budget=60, guarantee="2 filesystem isolation (model contracts)")
def crosshair_paths() -> Outcome:
    return run_crosshair("proofs.refinement.ch_paths.resolve_confined", min_runs=100, min_kinds=3, timeout=55)


_SCEN = "model/scenarios.py states (108 shapes: box entries a/b/l, 8 link texts, fd 4)"


@obligation("refinement.crosshair.path_open", family=CROSSHAIR, tool="crosshair",
            bound=f"{_SCEN}; paths of 0-3 components over 6, 16 oflags, 5 rights sets, follow 0/1; "
                  f"{PER_CONDITION} s per condition",
            budget=60, guarantee="2 filesystem isolation, 3 rights (sandbox.path_open contracts)")
def crosshair_path_open() -> Outcome:
    return run_crosshair("proofs.refinement.ch_sandbox.path_open", min_runs=30, min_kinds=4, timeout=55)


@obligation("refinement.crosshair.fd_renumber", family=CROSSHAIR, tool="crosshair",
            bound=f"{_SCEN}; any u32 descriptor numbers; {PER_CONDITION} s per condition",
            budget=60, guarantee="3 descriptors (sandbox.fd_renumber contracts)")
def crosshair_fd_renumber() -> Outcome:
    return run_crosshair("proofs.refinement.ch_sandbox.fd_renumber", min_runs=20, min_kinds=2, timeout=55)


@obligation("refinement.crosshair.fd_allocate", family=CROSSHAIR, tool="crosshair",
            bound=f"{_SCEN}; fds 0-5, any u64 offset/length; {PER_CONDITION} s per condition",
            budget=60, guarantee="file integrity (sandbox.fd_allocate contracts)")
def crosshair_fd_allocate() -> Outcome:
    return run_crosshair("proofs.refinement.ch_sandbox.fd_allocate", min_runs=20, min_kinds=3, timeout=55)
