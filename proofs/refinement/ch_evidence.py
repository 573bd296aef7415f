"""Evidence the crosshair harnesses collect in the crosshair process: how many executions reached a
verdict, and which outcome kinds they saw. Written as JSON at exit to $VWASM_CROSSHAIR_COUNT."""
from __future__ import annotations

import atexit
import json
import os

RUNS = [0]
KINDS: set = set()
_OUT = os.environ.get("VWASM_CROSSHAIR_COUNT")
if _OUT:
    atexit.register(lambda: open(_OUT, "w").write(json.dumps({"runs": RUNS[0], "kinds": sorted(KINDS)})))


def seen(kind: str) -> None:
    """One execution reached its verdict with outcome `kind` (concrete text)."""
    RUNS[0] += 1
    KINDS.add(kind)
