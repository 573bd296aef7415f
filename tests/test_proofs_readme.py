"""The documents that state the guarantees stay true to the code they describe."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_proofs_readme_is_generated_from_the_registry():
    # A subprocess: discovering the obligations imports every proofs module.
    p = subprocess.run([sys.executable, "-m", "proofs.readme", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_every_guarantee_has_an_obligation_and_every_obligation_a_statement():
    p = subprocess.run([sys.executable, "-c", (
        "from proofs import readme, core; readme.discover(); g = readme.guarantees();"
        "missing = [n for n in g if not any(n in readme.guarantee_numbers(o) for o in core.OBLIGATIONS.values())];"
        "mute = [o.name for o in core.OBLIGATIONS.values() if len(readme.statement(o)) < 40];"
        "print(missing, mute)")], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[] []", f"guarantees without obligations, obligations without a statement: {p.stdout}"


def test_security_md_states_the_trusted_line_counts():
    text = (ROOT / "SECURITY.md").read_text()
    counts = {}
    for name in ("impl/posix_host.py", "impl/abi.py", "impl/fastcalls.c"):
        counts[name] = len((ROOT / name).read_text().splitlines())
        stated = re.search(rf"`{re.escape(name)}` \((\d+) lines", text)
        assert stated and int(stated.group(1)) == counts[name], f"SECURITY.md: {name} has {counts[name]} lines"
    total = re.search(r"three files of ours, (\d+) lines in all", text)
    assert total and int(total.group(1)) == sum(counts.values())


def test_trusted_module_imports_only_the_vocabulary():
    src = (ROOT / "impl/posix_host.py").read_text()
    ours = re.findall(r"^\s*(?:from|import)\s+((?:vwasm|\.)[\w.]*)", src, re.M)
    assert ours and set(ours) == {"vwasm.model.wasi"}, ours


# The team's working notes live in a sibling directory users never get; built from its parts so
# that this file does not name it itself.
OUTSIDE = "/".join(("..", "sha" + "red"))


def test_nothing_in_the_repository_points_outside_it():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    bad = [f for f in files if (ROOT / f).is_file() and OUTSIDE in (ROOT / f).read_text(errors="replace")]
    assert not bad, bad
