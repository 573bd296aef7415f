"""Adversarial guests (tests/programs/escape_*.c): every attempt to reach outside the preopened
directory is refused, and the canary tree next to the sandbox is byte-for-byte unchanged.

The fixture root holds `sandbox/` (preopened as /sandbox) and `canary/` beside it, plus symlinks the
host planted inside the sandbox that point outside (absolute and relative, dangling, trailing slash).
vwasm is the runtime under test; wasmtime's run is a reference that must also not escape.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from difftest import DIR, build_tree, run_both, snapshot

REFUSAL_READ = {"EPERM", "ENOTCAPABLE"}  # DESIGN §5: escapes are EPERM (missing rights: ENOTCAPABLE)
HOST_LINKS = ["habs", "hrel", "hup", "hdangle", "hdangle_abs", "hslash"]


def make_tree(root: Path) -> None:
    build_tree(root, {"sandbox": DIR, "canary/secret.txt": "TOP SECRET", "canary/sub": DIR,
                      "canary/sub/deep.txt": "deeper secret"})
    s = root / "sandbox"
    os.symlink(str(root / "canary"), s / "habs")
    os.symlink("../canary", s / "hrel")
    os.symlink("..", s / "hup")
    os.symlink("../canary/new-by-host-link", s / "hdangle")
    os.symlink(str(root / "canary/new-abs"), s / "hdangle_abs")
    os.symlink("../..", s / "hevil")
    os.symlink("hevil/", s / "hslash")


def outside(r):
    return {k: v for k, v in r.tree.items() if not (k == "sandbox" or k.startswith("sandbox/"))}


def expected_outside(tmp_path: Path):
    ref = tmp_path / "pristine"
    make_tree(ref)
    snap = snapshot(ref)
    return {k: v for k, v in snap.items() if not (k == "sandbox" or k.startswith("sandbox/"))}


def attempts(r):
    """(op, path, errno) for every attempt line "<op> <path>: <ERRNO>" the guest printed."""
    out = []
    for ln in r.lines():
        if ": " not in ln or ln.startswith(("symlink ", "attempts=", "  ", "libc ", "prestat", "fd_close")):
            continue
        head, errno = ln.rsplit(": ", 1)
        op, _, path = head.partition(" ")
        out.append((op, path, errno))
    return out


def check_no_escape(r, canary):
    assert "LEAKED" not in r.out, f"[{r.runtime}] read data from outside:\n{r}"
    assert outside(r) == canary, f"[{r.runtime}] the tree outside the sandbox changed"
    assert "SANDBOX ESCAPED" not in r.out


PROGRAMS = [
    ("escape_absolute", []),
    ("escape_dotdot", []),
    ("escape_reenter", []),
    ("escape_symlink_guest", []),
    ("escape_symlink_host", HOST_LINKS),
    ("escape_dangling_creat", ["hdangle", "hdangle_abs"]),
    ("escape_trailing_slash", ["hslash"]),
]


@pytest.mark.parametrize("name,args", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_escape_refused(wasm, tmp_path, name, args):
    canary = expected_outside(tmp_path)
    if name == "escape_absolute":
        args = [str(tmp_path / "run" / "vwasm" / "fs" / "canary")]  # the canary's real host path
    v, w = run_both(wasm(name), args=args, tree=make_tree, tmp=tmp_path / "run")
    # the reference must not escape either (if it did, the test's idea of "outside" is wrong)
    check_no_escape(w, canary)
    check_no_escape(v, canary)
    assert v.status == 0, f"vwasm run failed:\n{v}"
    tries = attempts(v)
    assert len(tries) >= 5 and f"successes=0" in v.out, f"some attempt succeeded:\n{v}"
    bad = [t for t in tries if t[0] != "readlink" and t[2] == "SUCCESS"]
    assert not bad, f"attempts that succeeded under vwasm: {bad}"
    # reads and stats through an escaping path: the refusal errno DESIGN chose
    reads = [t for t in tries if t[0] in ("open-read", "open-dir", "stat-follow")]
    wrong = [t for t in reads if t[2] not in REFUSAL_READ]
    assert not wrong, f"escaping reads not refused with EPERM/ENOTCAPABLE: {wrong[:10]}"
    # the same attempts were made in both runs
    assert [t[:2] for t in tries] == [t[:2] for t in attempts(w)]


def test_absolute_symlink_target_refused(wasm, tmp_path):
    v, w = run_both(wasm("escape_symlink_guest"), tree=make_tree, tmp=tmp_path / "run")
    assert "symlink /etc -> abs: EPERM" in v.lines()
    assert "abs" not in v.under("sandbox")


def test_reenter_refused_even_though_inside(wasm, tmp_path):
    v, w = run_both(wasm("escape_reenter"), tree=make_tree, tmp=tmp_path / "run")
    assert "open-read a/../../sandbox/a/file.txt: EPERM" in v.lines()
    assert v.under("sandbox")["a/file.txt"] == ("file", b"inside")
    assert set(v.under("sandbox")) == set(w.under("sandbox"))


def test_renumber_onto_preopen(wasm, tmp_path):
    canary = expected_outside(tmp_path)
    v, w = run_both(wasm("escape_renumber"), tree=make_tree, tmp=tmp_path / "run")
    check_no_escape(w, canary)
    check_no_escape(v, canary)
    lines = v.lines()
    assert "renumber sub->preopen sub: SUCCESS" in lines
    assert "read ../../canary/secret.txt: EPERM" in lines
    assert "mkdir ../../canary/x: EPERM" in lines
    assert "read via inner ../../../canary/secret.txt: EPERM" in lines
    assert "path_open via a file fd x: ENOTDIR" in lines or "path_open via a file fd x: ENOTCAPABLE" in lines
    assert "use closed preopen x: EBADF" in lines
    assert "renumber onto huge fd 0x7fffffff: EBADF" in lines


def test_demo(wasm, tmp_path):
    tree = {"outside.txt": "do not read me", "sandbox": DIR}
    v, w = run_both(wasm("demo"), args=["/sandbox"], env=[("GREETING", "hi")], tree=tree, tmp=tmp_path / "run")
    assert v.status == 0, str(v)
    assert v.out == w.out
    assert "all escape attempts refused" in v.lines()
    assert v.tree["sandbox/hello.txt"] == ("file", b"hello from inside the sandbox\n")
    assert v.tree["outside.txt"] == ("file", b"do not read me")
