"""`python -m proofs.host.cli_launch ARGS`: `vwasm ARGS`, with the parent obligation's mutant applied."""
from __future__ import annotations

import sys

if __name__ == "__main__":
    from proofs.runner import apply_mutant_from_env
    apply_mutant_from_env()
    from vwasm.cli import main
    sys.exit(main(sys.argv[1:]))
