"""CrossHair harness for `paths.resolve` (total: an int picks one of a fixed set of paths over a
small alphabet of components, a fixed tree). Run by `refinement.crosshair` in a subprocess.

The harness calls `resolve` *unwrapped* (`__wrapped__`, its body without the icontract checks) and
states its postconditions itself (see crosshair_obl.py on why crosshair must never be the one to
check a nested contract)."""
from __future__ import annotations

import itertools

from proofs.refinement.ch_evidence import seen
from vwasm.model.fs import ROOT, FileSystem
from vwasm.model.paths import beneath, resolve
from vwasm.model.scenarios import pick
from vwasm.model.wasi import WasiError

_fs = FileSystem()
_fs, _a = _fs.create_dir(ROOT, "a", 0)
_fs, _ = _fs.create_symlink(ROOT, "up", "..", 0)
_fs, _ = _fs.create_symlink(_a, "back", "../a", 0)
_fs, _ = _fs.create_symlink(ROOT, "abs", "/a", 0)
FS = _fs
assert FS.wf() and FS.is_dir(ROOT)  # resolve's precondition, once: the tree is fixed
_resolve = resolve.__wrapped__
ALPHA = ("..", "a", "up", "back", "abs")
# Every path of 1-3 components over the alphabet, precomputed: CrossHair branches on the index
# instead of on string splitting, which it cannot see through. The index is made concrete by
# `pick`'s bisection (8 branches): indexing the tuple with a symbolic int instead compares it with
# all 155 entries on every execution (4x the CPU time for the same 161 paths).
PATHS = tuple("/".join(p) for n in (1, 2, 3) for p in itertools.product(ALPHA, repeat=n))


def resolve_confined(c: int, follow: bool) -> None:
    """Any path of 1-3 components over the alphabet resolves beneath the start, or is refused."""
    assert isinstance(c, int)  # (crosshair's "asserts" kind: leading asserts are preconditions)
    path = PATHS[pick(c, len(PATHS))]
    try:
        r = _resolve(FS, ROOT, path, follow)
    except WasiError as e:
        seen(f"errno {e.errno.name}")
        return
    seen("resolved")
    # resolve's postconditions (walked from the start, never above it), plus: the canonical names
    # hold no `.`/`..`.
    assert r.dirs[0] == ROOT, f"{path!r}: not walked from the start"
    assert beneath(r.relpath), f"{path!r} resolves above the start: {r.relpath!r}"
    assert all(n not in ("..", ".") for n in r.names), f"{path!r}: names {r.names!r}"
