"""Proof obligations for vwasm: `python -m proofs` (run by `make verify`).

- `lemmas/`      z3, unbounded: pointer arithmetic, rights lattice, path confinement, netlist.
                 The formulas are derived from the Python by `proofs.symbolic` (the code runs on
                 symbolic values), and cross-checked against the code on concrete inputs.
- `refinement/`  crosshair on the model's contracts; a hypothesis state machine comparing the
                 runtime's handlers (over ModelHost and PosixHost) with the model's transitions.
- `host/`        PosixHost against ModelHost on real temporary trees (the TCB check).
- `mutants/`     planted bugs; each must be killed by the obligations named for it.
"""
