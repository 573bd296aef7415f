"""CrossHair on the model's contracts: `paths.resolve` (its icontract pre/postconditions) through a
total harness (`ch_paths.resolve_confined`). Bounded search, never a proof: the evidence is the number
of harness executions CrossHair made; fewer than the stated minimum fails."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from proofs.core import CROSSHAIR, Counterexample, Outcome, TooLittleEvidence, Unknown, obligation

PER_CONDITION = 10
MIN_RUNS = 20


@obligation("refinement.crosshair", family=CROSSHAIR, tool="crosshair",
            bound=f"1-3 components over a 5-name alphabet (155 paths), fixed tree; {PER_CONDITION} s per condition",
            budget=60, guarantee="2 filesystem isolation (model contracts)")
def crosshair_paths() -> Outcome:
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        count = os.path.join(tmp, "count")
        env = dict(os.environ, VWASM_CROSSHAIR_COUNT=count,
                   PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        # A mutant applied in this process must reach the crosshair process too.
        mut = os.environ.get("VWASM_PROOFS_MUTANT")
        code = ("import sys; from proofs.runner import apply_mutant_from_env; apply_mutant_from_env(); "
                "from crosshair.main import main; sys.argv = ['crosshair'] + sys.argv[1:]; main()")
        p = subprocess.run([sys.executable, "-c", code, "check", "--analysis_kind=icontract", "--report_all",
                            f"--per_condition_timeout={PER_CONDITION}", f"--unblock=open:{count}",
                            "proofs.refinement.ch_paths.resolve_confined"],
                           env=env, capture_output=True, text=True, timeout=55, cwd=root)
        runs = int(open(count).read()) if os.path.exists(count) else 0
    out = p.stdout + p.stderr
    if "error" in out.lower() and "I wasn't able" not in out or p.returncode not in (0, 1):
        raise Unknown(f"crosshair exit {p.returncode}: {out.strip()[-300:]}")
    if p.returncode == 1 and "I wasn't able" not in out:
        raise Counterexample(out.strip().splitlines()[0][:300])
    if runs < MIN_RUNS:
        raise TooLittleEvidence(f"crosshair: only {runs} harness executions{' (mutant ' + mut + ')' if mut else ''}")
    return Outcome(f"crosshair: {runs} harness executions, 0 counterexamples", status="checked")
