"""Evidence the crosshair harnesses collect in the crosshair process: how many executions reached a
verdict, how many saw each outcome kind, and a digest of the kinds in the order they came (two runs
with the same digest explored the same outcomes in the same order). Written as JSON at exit to
$VWASM_CROSSHAIR_COUNT."""
from __future__ import annotations

import atexit
import hashlib
import json
import os
from collections import Counter

KINDS: Counter = Counter()
_TRACE = hashlib.sha256()
_OUT = os.environ.get("VWASM_CROSSHAIR_COUNT")
if _OUT:
    atexit.register(lambda: open(_OUT, "w").write(json.dumps(
        {"runs": sum(KINDS.values()), "kinds": dict(sorted(KINDS.items())), "trace": _TRACE.hexdigest()[:8]})))


def seen(kind: str) -> None:
    """One execution reached its verdict with outcome `kind` (concrete text)."""
    KINDS[kind] += 1
    _TRACE.update(kind.encode() + b"\n")
