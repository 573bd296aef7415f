"""`python -m vwasm ...`: the `vwasm` command line (vwasm.cli)."""
import sys

from vwasm.cli import main

sys.exit(main())
