"""Smoke test of `python -m proofs`: it lists its obligations, and a planted bug is caught."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "proofs", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_lists_obligations_and_mutants():
    r = _run("--list")
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("memory.check", "memory.accessors", "rights.lattice"):
        assert name in r.stdout
    assert "mutant check_wraps_32bit" in r.stdout


def test_a_mutant_is_killed():
    r = _run("check_wraps_32bit")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "KILLED" in r.stdout and "SURVIVED" not in r.stdout


def test_unknown_name_is_refused():
    r = _run("no.such.obligation")
    assert r.returncode == 2
