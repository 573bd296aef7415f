"""`python -m proofs.mutate.child SPEC`: run one mutant's obligations, in a process whose `vwasm` is
the mutated copy.

The parent copies, from a snapshot taken when the run started, impl/ to ROOT/vwasm, model/ to
ROOT/vwasm/model (the wheel's layout) and proofs/ to ROOT/proofs, writes the mutated file there, and
starts this process in ROOT with ROOT first on PYTHONPATH: the editable install's finder comes after
the path finder, so `import vwasm` here -- and in every subprocess an obligation starts, since they
inherit the environment -- loads the copy. This process checks that it did before it runs anything. Each obligation then runs as the runner runs it (a forked child, a deadline); the first
counterexample stops the list. One JSON line on stdout is the answer.
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

# Statuses that turn `make verify` red on every run (a timeout or too little evidence depends on
# the machine's load, so it is not counted as a kill).
KILLS = ("counterexample", "error", "import error")


def main() -> None:
    spec = json.loads(sys.argv[1])
    root = Path(spec["root"]).resolve()
    try:
        import vwasm
        import vwasm.model
    except Exception as e:  # noqa: BLE001 - the mutant broke the package's own import
        print(json.dumps({"results": [{"obligation": "(import)", "status": "import error", "seconds": 0.0,
                                       "evidence": f"{type(e).__name__}: {e}"[:300]}], "import_errors": []}))
        return
    import proofs
    for mod in (vwasm, vwasm.model, proofs):
        if not Path(mod.__file__).resolve().is_relative_to(root):
            print(json.dumps({"fatal": f"{mod.__name__} was imported from {mod.__file__}, not from {root}"}))
            return
    from proofs.core import OBLIGATIONS
    from proofs.runner import discover, run_tasks
    import_errors = [e for e in discover() if e not in spec.get("known_import_errors", ())]
    for mod in ("z3", "hypothesis", "crosshair"):
        try:
            importlib.import_module(mod)
        except ImportError:
            pass
    results = []
    if import_errors and not spec.get("baseline"):
        results.append({"obligation": "(import)", "status": "import error", "seconds": 0.0,
                        "evidence": "; ".join(import_errors)[:300]})
    for name, deadline in spec["obligations"]:
        if results and results[-1]["status"] in KILLS and spec.get("stop_at_kill", True):
            break
        if name not in OBLIGATIONS:
            results.append({"obligation": name, "status": "missing", "seconds": 0.0, "evidence": ""})
            continue
        r = run_tasks([(name, None, deadline)], 1)[(name, None)]
        results.append({"obligation": name, "status": r.status, "seconds": round(r.seconds, 2),
                        "evidence": r.evidence[:300]})
    print(json.dumps({"results": results, "import_errors": import_errors}))


if __name__ == "__main__":
    main()
