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
ALPHA = ("a", "..", ".", "up", "back", "abs", "x")
RUNS = [0]
_OUT = os.environ.get("VWASM_CROSSHAIR_COUNT")
if _OUT:
    atexit.register(lambda: open(_OUT, "w").write(str(RUNS[0])))


@icontract.ensure(lambda result: result)
def resolve_confined(c1: int, c2: int, c3: int, follow: bool) -> bool:
    """Any 3-component path over the alphabet resolves beneath the start, or is refused."""
    RUNS[0] += 1
    path = "/".join(ALPHA[c % len(ALPHA)] for c in (c1, c2, c3))
    try:
        r = resolve(FS, ROOT, path, follow)
    except WasiError:
        return True
    return beneath(r.relpath) and r.dirs[0] == ROOT and r.names == tuple(n for n in r.names if n not in ("..", "."))
