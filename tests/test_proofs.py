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


def test_every_c_hand_mutant_compiles():
    """A C hand mutant the package's compiler refuses would be "killed" by the failed build, not by
    an obligation: each must compile, with the package's flags (warnings are errors)."""
    import sysconfig
    import tomllib

    from proofs.core import MUTANTS
    from proofs.host import fastcalls
    from proofs.mutants import fastcalls as c_mutants
    (entry,) = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["ext-modules"]
    flags = [f for f in entry["extra-compile-args"] if f.startswith(("-W", "-std"))]
    real = fastcalls.c_source
    edits = [name for name, m in MUTANTS.items() if m.apply.__module__ == c_mutants.__name__ and "_edit(" in
             __import__("inspect").getsource(m.apply)]
    assert len(edits) >= 20
    for name in edits:
        try:
            MUTANTS[name].apply()
            source = fastcalls.c_source()
        finally:
            fastcalls.c_source = real
        assert source != real()
        done = subprocess.run(["cc", "-fsyntax-only", *flags, f"-I{sysconfig.get_paths()['include']}", "-x", "c", "-"],
                              input=source, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{name}: {done.stderr[-800:]}"
