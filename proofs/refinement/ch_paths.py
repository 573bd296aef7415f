"""CrossHair harnesses (total: scalars normalised with %, a small alphabet of path components, a
fixed tree). Run by `refinement.crosshair` in a subprocess; each harness counts its executions."""
from __future__ import annotations

import atexit
import os

import icontract

from vwasm.model.fs import ROOT, FileSystem
from vwasm.model.paths import beneath, resolve
from vwasm.model.wasi import WasiError

_fs = FileSystem()
_fs, _a = _fs.create_dir(ROOT, "a", 0)
_fs, _ = _fs.create_symlink(ROOT, "up", "..", 0)
_fs, _ = _fs.create_symlink(_a, "back", "../a", 0)
_fs, _ = _fs.create_symlink(ROOT, "abs", "/a", 0)
FS = _fs
ALPHA = ("..", "a", "up", "back", "abs")
# Every path of 1-3 components over the alphabet, precomputed: CrossHair branches on the index
# (c % len(PATHS)) instead of on string splitting, which it cannot see through.
PATHS = tuple("/".join(p) for n in (1, 2, 3) for p in __import__("itertools").product(ALPHA, repeat=n))
RUNS = [0]
_OUT = os.environ.get("VWASM_CROSSHAIR_COUNT")
if _OUT:
    atexit.register(lambda: open(_OUT, "w").write(str(RUNS[0])))


@icontract.ensure(lambda result: result)
def resolve_confined(c: int, follow: bool) -> bool:
    """Any path of 1-3 components over the alphabet resolves beneath the start, or is refused."""
    RUNS[0] += 1
    path = PATHS[c % len(PATHS)]
    try:
        r = resolve(FS, ROOT, path, follow)
    except WasiError:
        return True
    except icontract.ViolationError:
        # resolve's own postcondition failed: report it here (CrossHair would read a nested
        # contract violation as an unmet precondition and skip the path).
        return False
    return beneath(r.relpath) and r.dirs[0] == ROOT and r.names == tuple(n for n in r.names if n not in ("..", "."))
