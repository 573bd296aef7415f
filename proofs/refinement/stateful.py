"""Refinement by a hypothesis state machine (derandomised): see `machine.py`.

Coverage is part of the evidence: `run_machine` counts the (call, outcome) pairs the sequences
reached and the (call, missing right) pairs (an ENOTCAPABLE whose cause was one right), and fails
with "too little evidence" below the thresholds. With derandomize=True the sequences, and so the
counts, are the same on every run; the thresholds sit below them with a margin for changes to the
rules, not for chance.
"""
from __future__ import annotations

import sys
import time

from proofs.core import STATEFUL, Counterexample, Outcome, TooLittleEvidence, obligation

N_EXAMPLES = 300
STEPS = 30


def run_machine(cls, examples: int, steps: int, min_kinds: int = 0, budget_s: float = 0, *,
                min_pairs: int = 0, min_missing: int = 0) -> Outcome:
    """Run machine `cls` over `examples` derandomised sequences of at most `steps` calls. Evidence:
    calls compared, (call, outcome) pairs (`X -> ERRNO` events), (call, missing right) pairs
    (`X without RIGHT` events) and all event kinds, each against its minimum."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.stateful import run_state_machine_as_test

    events: set = set()
    import hypothesis.control as hc
    real_event = hc.event

    def counting_event(value, payload=""):
        events.add(str(value))
        return real_event(value, payload)
    # Every module the machine's rules live in calls `event` by its own name (machine.py's is
    # shared): count them all.
    import proofs.refinement.machine as mm
    modules = {mm} | {sys.modules[k.__module__] for k in cls.__mro__ if k.__module__ in sys.modules}
    modules = [m for m in modules if getattr(m, "event", None) is real_event]
    for m in modules:
        m.event = counting_event
    cls.COUNT["steps"] = 0
    t0 = time.perf_counter()
    try:
        run_state_machine_as_test(cls, settings=settings(
            max_examples=examples, stateful_step_count=steps, derandomize=True, database=None,
            deadline=None, suppress_health_check=list(HealthCheck), print_blob=False,
            report_multiple_bugs=False, phases=[Phase.explicit, Phase.generate]))
    except Counterexample as e:
        # Not shrunk: shrinking a sequence of these calls can take minutes (past the budget), and the
        # message already names the failing call and its arguments.
        raise Counterexample(f"{e} (first failing sequence, not shrunk)") from None
    finally:
        for m in modules:
            m.event = real_event
    n = cls.COUNT["steps"]
    pairs = {e for e in events if " -> " in e}
    missing = {e for e in events if " without " in e}
    got = f"{n:,} calls, {len(pairs)} (call, outcome) pairs, {len(missing)} (call, missing right) pairs, " \
          f"{len(events)} event kinds"
    if n < examples * 3 or len(events) < min_kinds or len(pairs) < min_pairs or len(missing) < min_missing:
        raise TooLittleEvidence(f"{got}; need {examples * 3} calls, {min_pairs} pairs, {min_missing} "
                                f"missing-right pairs, {min_kinds} kinds")
    return Outcome(f"hypothesis: {examples} sequences, {got} ({time.perf_counter() - t0:.1f} s)", status="checked")


@obligation("refinement.stateful", family=STATEFUL, tool="hypothesis", guarantee="1, 2, 3, 5, 6 (impl refines model)",
            bound=f"{N_EXAMPLES} derandomised sequences of ≤ {STEPS} calls, every non-socket call, 3 preopens",
            budget=300)
def stateful() -> Outcome:
    """The runtime's handlers over ModelHost and over PosixHost (a real tree) refine the model's
    transitions along whole call sequences: every non-socket call, three preopens (one read-only),
    a descriptor limit of 8, rights as arbitrary subsets, generated boundaries (PATH_MAX, NAME_MAX,
    non-UTF-8, the symlink budget, exact-size buffers). After every call: the same errno and results (a
    stat's type, links, size, and the access and modification times set_times gave or a change moved),
    the same tree, table and output, no guest byte written outside the declared outputs, no host
    descriptor leaked or lost; (call, outcome) and (call, missing right) coverage is enforced."""
    from .machine import Machine

    class Refinement(Machine):
        COUNT = {"steps": 0}
    return run_machine(Refinement, N_EXAMPLES, STEPS, min_pairs=160, min_missing=22)
