"""Refinement by a hypothesis state machine (derandomised): see `machine.py`."""
from __future__ import annotations

import time

from proofs.core import HOST, STATEFUL, Counterexample, Outcome, TooLittleEvidence, obligation

N_EXAMPLES = 400
STEPS = 25


def run_machine(cls, examples: int, steps: int, min_kinds: int, budget_s: float) -> Outcome:
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.stateful import run_state_machine_as_test
    from hypothesis.statistics import collector  # noqa: F401  (ensures events are recorded)

    events: set = set()
    import hypothesis.control as hc
    real_event = hc.event

    def counting_event(value, payload=""):
        events.add(str(value))
        return real_event(value, payload)
    import proofs.refinement.machine as mm
    mm.event = counting_event
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
        mm.event = real_event
    n = cls.COUNT["steps"]
    if n < examples * 3 or len(events) < min_kinds:
        raise TooLittleEvidence(f"{n} calls, {len(events)} outcome kinds")
    return Outcome(f"hypothesis: {examples} sequences, {n:,} calls compared, {len(events)} call/outcome kinds "
                   f"(of which {sum(e.startswith('final symlink') for e in events)} final-symlink situations) "
                   f"({time.perf_counter() - t0:.1f} s)", status="checked")


@obligation("refinement.stateful", family=STATEFUL, tool="hypothesis", guarantee="2, 3, 5 (impl refines model)",
            bound=f"{N_EXAMPLES} derandomised sequences of ≤ {STEPS} calls", budget=120)
def stateful() -> Outcome:
    from .machine import Machine

    class Refinement(Machine):
        COUNT = {"steps": 0}
    return run_machine(Refinement, N_EXAMPLES, STEPS, min_kinds=60, budget_s=120)
