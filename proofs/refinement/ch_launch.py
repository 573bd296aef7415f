"""`python -m proofs.refinement.ch_launch check ...`: crosshair's command line, in the subprocess the
crosshair obligations start -- with the parent's mutant applied and icontract's runtime checks live
(crosshair switches them off when it loads; see crosshair_obl.py)."""
from __future__ import annotations

import sys

import icontract


@icontract.ensure(lambda result: result > 0)
def _canary() -> int:
    return 0


def main() -> None:
    from proofs.runner import apply_mutant_from_env
    apply_mutant_from_env()
    import icontract._checkers as k
    live = (k._assert_preconditions, k._assert_postconditions, k._assert_invariant)
    import crosshair.core_and_libs  # noqa: F401  (switches icontract's checks off)
    k._assert_preconditions, k._assert_postconditions, k._assert_invariant = live
    # A violation's message names the contract only: icontract would print every argument's value,
    # and printing a symbolic int makes crosshair find it digit by digit (seconds per number);
    # crosshair's report names the failing call anyway.
    import icontract._represent as rep
    rep.generate_message = lambda contract, resolved_kwargs: (
        f"{contract.location or ''}: {contract.description or 'contract'} (crosshair harness)")
    try:
        _canary()
    except icontract.ViolationError:
        pass
    else:
        sys.exit("ch_launch: icontract checks are not live under crosshair")
    # crosshair 0.0.113 has an iteration cap (`max_iterations`) but no flag for it: set its default.
    from crosshair.options import DEFAULT_OPTIONS
    args = [a for a in sys.argv[1:] if not a.startswith("--max_iterations=")]
    for a in sys.argv[1:]:
        if a.startswith("--max_iterations="):
            DEFAULT_OPTIONS.max_iterations = int(a.split("=", 1)[1])
    from crosshair.main import main as crosshair_main
    sys.argv = ["crosshair"] + args
    crosshair_main()


if __name__ == "__main__":
    main()
