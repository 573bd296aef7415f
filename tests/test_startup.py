"""Start-up: a plain `vwasm run` loads only what it runs. The audit machinery, the trace writer, the
effects model and the contract library load when --audit, --trace or --strace asks for them (each
of them costs every start that imports it; counted by module, never timed)."""
import subprocess
import sys

import pytest

# Never loaded by a plain run of a small module (hashlib: the cache hashes small modules without
# OpenSSL; json: only traces are JSON; socket: only a guest's sockets; shutil: argparse asks it the
# terminal's width unless told; dataclasses brings inspect, ast, dis...).
ON_REQUEST = ["vwasm.audit", "vwasm.trace", "vwasm.model.effects", "vwasm.model.fs", "vwasm.model.paths",
              "icontract", "hashlib", "json", "socket", "shutil", "dataclasses", "inspect"]

PROBE = """
import sys
from vwasm.cli import main
status = main(sys.argv[1:])
print("\\nMODULES", " ".join(sorted(sys.modules)))
sys.exit(status)
"""


def loaded(*args, tmp_path) -> set[str]:
    r = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return set(r.stdout.rsplit("MODULES", 1)[1].split())


def test_a_plain_run_loads_nothing_it_does_not_run(tmp_path, wasm):
    modules = loaded("run", wasm("hello"), tmp_path=tmp_path)
    assert "vwasm.cache" in modules and "vwasm.syscalls.fd" in modules  # the probe sees the run's modules
    assert not modules & set(ON_REQUEST)


@pytest.mark.parametrize("flags", [["--audit"], ["--strace"], ["--trace", "t.jsonl"]])
def test_audit_and_trace_load_them_when_asked(tmp_path, wasm, flags):
    modules = loaded("run", *flags, wasm("hello"), tmp_path=tmp_path)
    assert {"vwasm.audit", "vwasm.model.effects", "icontract"} <= modules
    if flags != ["--audit"]:
        assert "vwasm.trace" in modules
