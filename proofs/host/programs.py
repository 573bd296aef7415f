"""The runtime as shipped, end to end: `vwasm run` on the conformance guests and the escape corpus.

Every other obligation calls the handlers (or the glue) directly; this one goes through everything a
user's run goes through -- the command line, `Config`, `define_wasi`, the glue, the handlers,
PosixHost -- in a process of its own, on the guest programs of `tests/programs` (built by `make
build`). The cases and fixtures are the tests' own tables (tests/test_conformance.py,
tests/test_escapes.py): one place for each.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from proofs.core import HOST, Counterexample, Outcome, TooLittleEvidence, obligation

ROOT = Path(__file__).resolve().parents[2]  # the code to run (a mutant's copy, under proofs.mutate)
# The tests' tables and the built guests: the project's own, also when the code is a copy.
PROJECT = Path(os.environ.get("VWASM_PROJECT_ROOT") or ROOT)
WASM = PROJECT / "build" / "wasm"
N_CHECKS = 400  # at least this many "ok" checks passed by the conformance guests


def _tables():
    sys.path.insert(0, str(PROJECT / "tests"))
    try:
        import test_conformance
        import test_escapes
    finally:
        sys.path.remove(str(PROJECT / "tests"))
    return test_conformance, test_escapes


def vwasm_run(fs: Path, preopens, wasm: Path, args, cache: Path) -> subprocess.CompletedProcess:
    """`vwasm run` in a process of its own (the parent's mutant applied there too: cli_launch)."""
    dirs = [f"--dir{'-ro' if len(p) > 2 and p[2] else ''}={fs / p[0]}::{p[1]}" for p in preopens]
    env = dict(os.environ, XDG_CACHE_HOME=str(cache),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "proofs.host.cli_launch", "run", *dirs, str(wasm), *args],
                          stdin=subprocess.DEVNULL, capture_output=True, env=env, cwd=ROOT, timeout=60)


def _say(name: str, p: subprocess.CompletedProcess) -> str:
    return (f"{name}: status {p.returncode}\n--- stdout\n{p.stdout.decode(errors='replace')[-1500:]}"
            f"\n--- stderr\n{p.stderr.decode(errors='replace')[-800:]}")


def conformance(tmp: Path, cache: Path) -> int:
    """Each conformance guest passes its own checks; returns how many checks passed."""
    conf, _ = _tables()
    from difftest import build_tree
    passed = 0
    for case, (prog, args, preopens, tree) in sorted(conf.CASES.items()):
        fs = tmp / f"conf-{case}"
        build_tree(fs, tree)
        for p in preopens:
            (fs / p[0]).mkdir(parents=True, exist_ok=True)
        p = vwasm_run(fs, preopens, WASM / f"{prog}.wasm", args, cache)
        lines = p.stdout.decode(errors="replace").splitlines()
        if p.returncode != 0 or not lines or lines[-1] != "PASS" or any(ln.startswith("FAIL") for ln in lines):
            raise Counterexample(f"conformance case {case}: " + _say(prog, p))
        passed += sum(ln.startswith("ok ") for ln in lines)
    return passed


def escapes(tmp: Path, cache: Path, read_only: bool) -> int:
    """Each escape guest: every attempt refused, nothing outside the sandbox read or changed (granted
    read-only: nothing inside either); returns how many attempts were made."""
    _, esc = _tables()
    from difftest import build_tree, snapshot
    attempts = 0
    for name, args in esc.PROGRAMS:
        root = tmp / f"esc-{name}{'-ro' if read_only else ''}"
        build_tree(root, esc.make_tree)
        kept = (lambda k: True) if read_only else (lambda k: not k.startswith("sandbox"))
        before = {k: v for k, v in snapshot(root).items() if kept(k)}
        if name == "escape_absolute":
            args = [str(root / "canary")]
        p = vwasm_run(root, (("sandbox", "/sandbox", read_only),), WASM / f"{name}.wasm", args, cache)
        out = p.stdout.decode(errors="replace")
        after = {k: v for k, v in snapshot(root).items() if kept(k)}
        where = f"{name}{' (read-only grant)' if read_only else ''}"
        if after != before:
            changed = sorted({k for k in before.keys() | after.keys() if before.get(k) != after.get(k)})[:5]
            raise Counterexample(f"{where} changed {changed}\n" + _say(name, p))
        if "LEAKED" in out or "SANDBOX ESCAPED" in out or b"internal error" in p.stderr:
            raise Counterexample(f"{where}: read outside, or crashed\n" + _say(name, p))
        # Read-only, a guest may stop where its own setup (bait files) is refused: what counts is above.
        if not read_only and (p.returncode != 0 or "successes=0" not in out):
            raise Counterexample(f"{where}: an attempt succeeded\n" + _say(name, p))
        attempts += len(esc.attempts(type("R", (), {"lines": lambda self: out.splitlines()})()))
    return attempts


@obligation("host.programs", family=HOST, tool="enumeration", guarantee="2 filesystem isolation",
            bound="every conformance guest (34 cases) and escape guest (7; granted writable and read-only) "
                  "through `vwasm run`", budget=240)
def programs() -> Outcome:
    """The runtime as shipped -- `vwasm run` in a process of its own: command line, Config, the glue,
    the handlers, PosixHost -- passes every conformance guest (re-created from the WASI preview1 test
    suite: each checks its calls' answers and prints PASS) and every guest of the escape corpus
    (absolute paths, `..`, symlinks planted by the guest and by the host, dangling links with
    O_CREAT, trailing slashes, renumbering onto a preopen): every attempt refused, nothing outside
    the granted directory read, created or changed -- and, granted with `--dir-ro`, nothing inside
    it changed either."""
    t0 = time.perf_counter()
    missing = [p for p in ("conf_c_suite", "escape_dotdot") if not (WASM / f"{p}.wasm").exists()]
    if missing:
        raise TooLittleEvidence(f"guest programs not built ({', '.join(missing)}): run `make build`")
    with tempfile.TemporaryDirectory(prefix="vwasm-programs-") as tmp:
        cache = Path(tmp) / "cache"
        # Shortest first: a planted bug shows soonest.
        tries = escapes(Path(tmp), cache, True) + escapes(Path(tmp), cache, False)
        checks = conformance(Path(tmp), cache)
    if checks < N_CHECKS:
        raise TooLittleEvidence(f"{checks} conformance checks")
    return Outcome(f"{checks} conformance checks passed through `vwasm run`; {tries} escape attempts refused "
                   f"with nothing outside the sandbox touched ({time.perf_counter() - t0:.1f} s)", status="checked")
