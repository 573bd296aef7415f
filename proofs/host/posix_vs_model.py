"""The TCB check: the runtime over PosixHost (a real temporary tree) behaves like the runtime over
ModelHost -- same errnos, same new descriptors and bytes, the real tree read back equal to
ModelHost's after every call, and no host descriptor leaked or lost (see refinement/machine.py:
every non-socket call, three preopens, boundaries)."""
from __future__ import annotations

from proofs.core import HOST, Outcome, obligation
from proofs.refinement.stateful import run_machine

N_EXAMPLES = 300
STEPS = 30


@obligation("host.posix_vs_model", family=HOST, tool="hypothesis", guarantee="2, 3, 6 (PosixHost = ModelHost)",
            bound=f"{N_EXAMPLES} derandomised sequences of ≤ {STEPS} calls on a real temp dir", budget=240)
def posix_vs_model() -> Outcome:
    from proofs.refinement.machine import Machine

    class HostCheck(Machine):
        CHECK_MODEL = False
        COUNT = {"steps": 0}
    return run_machine(HostCheck, N_EXAMPLES, STEPS, min_pairs=145)
