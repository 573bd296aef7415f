"""Resolution under concurrent change: another process keeps swapping a directory inside the sandbox
for a symlink to outside (atomically, with renameat2(RENAME_EXCHANGE), or by rename when the file
system cannot exchange), or keeps moving a directory out of the sandbox and back, while vwasm.resolve
walks through it thousands of times. No handle it ever returns may refer to anything outside:
every opened fd's (st_dev, st_ino) is compared with the canary's, and the canary tree must be
byte-for-byte unchanged. The attacker runs in its own process (true parallelism, no GIL).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vwasm.posix_host import PosixHost
from vwasm.model.wasi import Errno, WasiError
from vwasm.resolve import Open, Resolver, open_at

from difftest import snapshot

ITERATIONS = 20000

# The attacker: swaps `box/d` (a directory) with `box/s` (a symlink to outside) until killed.
SWAPPER = r"""
import ctypes, os, sys
box, target = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
d, s = os.path.join(box, "d"), os.path.join(box, "s")
os.symlink(target, s)
exchange = hasattr(libc, "renameat2") and libc.renameat2(-100, d.encode(), -100, s.encode(), 2) == 0
if exchange:
    libc.renameat2(-100, d.encode(), -100, s.encode(), 2)
print("exchange" if exchange else "rename", flush=True)
saved = os.path.join(box, "saved")
while True:
    if exchange:
        libc.renameat2(-100, d.encode(), -100, s.encode(), 2)
    else:
        os.rename(d, saved)          # d is gone...
        os.rename(s, d)              # ... d is a symlink to outside ...
        os.rename(d, s)
        os.rename(saved, d)          # ... d is the directory again
"""

# The attacker: moves box/a/b out of the sandbox (to elsewhere/b, next to the decoy f) and back.
MOVER = r"""
import os, sys
inside, outside = sys.argv[1], sys.argv[2]
print("move", flush=True)
while True:
    os.rename(inside, outside)
    os.rename(outside, inside)
"""


def canary_ids(root: Path) -> set[tuple[int, int]]:
    """(st_dev, st_ino) of everything outside the box (the canary tree, the decoy, the root).

    `elsewhere/` is not outside: it is where the mover parks the box's own directory, and what it
    holds comes and goes while this walks, so it is left out."""
    ids = set()
    inside = (root / "box", root / "elsewhere")
    for dirpath, dirnames, filenames in os.walk(root):
        if any(Path(dirpath).is_relative_to(p) for p in inside):
            continue
        for p in [Path(dirpath)] + [Path(dirpath) / n for n in filenames + dirnames]:
            if any(p.is_relative_to(q) for q in inside):
                continue
            st = os.lstat(p)
            ids.add((st.st_dev, st.st_ino))
    return ids


def spawn(script: str, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True)
    mode = proc.stdout.readline().strip()
    assert mode in ("exchange", "rename", "move"), f"attacker did not start: {mode!r}"
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    proc.stdout.close()


@pytest.fixture
def tree(tmp_path):
    root = tmp_path
    (root / "box" / "d" / "sub").mkdir(parents=True)
    (root / "box" / "d" / "secret").write_bytes(b"inside")
    (root / "box" / "d" / "sub" / "x").write_bytes(b"inside x")
    (root / "box" / "f").write_bytes(b"box f")
    (root / "box" / "a" / "b").mkdir(parents=True)
    (root / "canary" / "sub").mkdir(parents=True)
    (root / "canary" / "secret").write_bytes(b"outside: must never be opened")
    (root / "canary" / "sub" / "x").write_bytes(b"outside x")
    (root / "f").write_bytes(b"decoy f outside the box")
    return root


def fds_into(root: Path) -> list[str]:
    """This process's open descriptors on anything under root (other tests' threads may open and
    close descriptors of their own meanwhile: only ours count)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(root)):
            found.append(target)
    return sorted(found)


def hammer(root: Path, cases, iterations: int) -> dict:
    """Resolve each case again and again; count outcomes; fail on any handle outside the box."""
    outside = canary_ids(root)
    canary_before = snapshot(root / "canary")
    fds_before = fds_into(root)
    host = PosixHost()
    start = host.open_preopen(str(root / "box"))
    counts = {"opened": 0, "refused_perm": 0, "other_errno": 0}
    try:
        for i in range(iterations):
            path, flags, follow = cases[i % len(cases)]
            try:
                h, _ = open_at(host, start, path, flags, follow)
            except WasiError as e:
                counts["refused_perm" if e.errno == Errno.PERM else "other_errno"] += 1
                continue
            try:
                st = os.fstat(h)
                assert (st.st_dev, st.st_ino) not in outside, f"ESCAPE: {path!r} opened something outside"
                counts["opened"] += 1
            finally:
                host.close(h)
            # The entry calls' walk (locate) must stay inside too.
            with Resolver(host, start, path, follow=follow) as r:
                try:
                    base, _ = r.locate_entry()
                except WasiError:
                    continue
                st = os.fstat(base)
                assert (st.st_dev, st.st_ino) not in outside, f"ESCAPE: {path!r} walked outside"
    finally:
        host.close(start)
    assert snapshot(root / "canary") == canary_before
    assert not (root / "canary" / "new").exists() and not (root / "canary" / "sub" / "new").exists()
    assert fds_into(root) == fds_before, "descriptors leaked"
    return counts


@pytest.mark.parametrize("target", ["../canary", "ABSOLUTE"])
def test_directory_swapped_for_symlink_to_outside(tree, target):
    link = str(tree / "canary") if target == "ABSOLUTE" else target
    cases = [
        ("d/secret", Open.READ, True), ("d/secret", Open.READ, False), ("d/sub/x", Open.READ, False),
        ("d/../d/sub/x", Open.READ, True), ("d/sub/../secret", Open.READ, True),
        ("d/new", Open.WRITE | Open.CREATE, True), ("d/sub/new", Open.WRITE | Open.CREATE, False),
        ("d", Open.READ | Open.DIRECTORY, True), ("d/", Open.READ, False),
    ]
    attacker = spawn(SWAPPER, str(tree / "box"), link)
    t0 = time.perf_counter()
    try:
        counts = hammer(tree, cases, ITERATIONS)
    finally:
        stop(attacker)
    elapsed = time.perf_counter() - t0
    print(f"swap({target}): {ITERATIONS} resolutions in {elapsed:.2f}s: {counts}")
    # The race really happened: both outcomes were seen many times.
    assert counts["opened"] > 50 and counts["refused_perm"] > 50, counts


def test_directory_moved_out_of_the_sandbox_mid_walk(tree):
    """`..` is never asked of the kernel: while box/a/b sits outside, a/b/../../f still means box/f
    (or fails), never the decoy f next to the canary."""
    cases = [("a/b/../../f", Open.READ, True), ("a/b/../../f", Open.READ, False),
             ("a/./b/.././../f", Open.READ, True)]
    (tree / "elsewhere").mkdir()
    attacker = spawn(MOVER, str(tree / "box" / "a" / "b"), str(tree / "elsewhere" / "b"))
    try:
        counts = hammer(tree, cases, ITERATIONS)
    finally:
        stop(attacker)
    print(f"move: {ITERATIONS} resolutions: {counts}")
    assert counts["opened"] > 50, counts
    assert counts["refused_perm"] == 0, counts  # nothing here is an escape: only ENOENT mid-move


def test_only_the_inside_file_is_ever_opened(tree):
    """Without an attacker, the same cases open exactly the inside files (the baseline)."""
    host = PosixHost()
    start = host.open_preopen(str(tree / "box"))
    try:
        h, _ = open_at(host, start, "d/secret", Open.READ, True)
        assert os.read(h, 100) == b"inside"
        host.close(h)
        h, _ = open_at(host, start, "a/b/../../f", Open.READ, True)
        assert os.read(h, 100) == b"box f"
        host.close(h)
    finally:
        host.close(start)
