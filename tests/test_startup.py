"""Start-up: a plain `vwasm run` loads only what it runs. The audit machinery, the trace writer, the
effects model and the contract library load when --audit, --trace or --strace asks for them (each
of them costs every start that imports it; counted by module, never timed)."""
import subprocess
import sys

import pytest

# Never loaded by a plain run of a small module (hashlib: the cache hashes small modules without
# OpenSSL; json: only traces are JSON; socket: only a guest's sockets; shutil: argparse asks it the
# terminal's width unless told; dataclasses brings inspect, ast, dis...; argparse and gettext: a
# plain `vwasm run` command line is read without them, anything else by argparse).
ON_REQUEST = ["vwasm.audit", "vwasm.trace", "vwasm.model.effects", "vwasm.model.fs", "vwasm.model.paths",
              "icontract", "hashlib", "json", "socket", "shutil", "dataclasses", "inspect", "argparse", "gettext"]

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


# `vwasm run` read without argparse (cli._fast_run) must read every command line as argparse does, or
# leave it to argparse (None).
SAME = [
    ["run", "m.wasm"],
    ["run", "m.wasm", "a", "--dir", "x", "--help", "-S", "--", "-"],
    ["run", "--no-cache", "--dir", "a::b", "--dir", "c", "--dir-ro", "d::/e", "m.wasm", "x y", ""],
    ["run", "--env", "K=V", "--env", "K", "--inherit-env", "--allow-net", "tcp:127.0.0.1:80", "--tcplisten",
     "127.0.0.1:0", "-S", "tcplisten=[::1]:0", "m.wasm"],
    ["run", "--audit", "--strace", "--trace", "t.jsonl", "--allow-precompiled", "--invoke", "add", "m.wasm", "-1"],
    ["run", "--fuel", "10", "--fuel", "20", "--timeout", "1.5", "--max-memory", "64K", "--max-fds", "9", "m.wasm"],
    ["run", "--max-memory", "2g", "", "--x"],
]
TO_ARGPARSE = [
    [], ["run"], ["--version"], ["-h"], ["run", "--help", "m.wasm"], ["run", "-h"], ["audit", "t"],
    ["compile", "m.wasm"], ["cache", "clear"], ["run", "--no-c", "m.wasm"], ["run", "--dir=x", "m.wasm"],
    ["run", "--", "m.wasm"], ["run", "--dir", "-x", "m.wasm"], ["run", "--dir"], ["run", "--fuel", "0", "m.wasm"],
    ["run", "--fuel", "-1", "m.wasm"], ["run", "--timeout", "nan", "m.wasm"], ["run", "--max-memory", "3T", "m.wasm"],
    ["run", "--bogus", "m.wasm"], ["run", "-", "m.wasm"], ["run", "--no-cache"], ["run", "--env", "-X Y", "m.wasm"],
]


@pytest.mark.parametrize("argv", SAME)
def test_a_plain_run_is_read_as_argparse_reads_it(argv):
    from vwasm import cli
    fast = cli._fast_run(argv)
    assert fast is not None
    assert vars(fast) == vars(cli._parser().parse_args(argv))


@pytest.mark.parametrize("argv", TO_ARGPARSE)
def test_any_other_command_line_is_left_to_argparse(argv):
    from vwasm import cli
    assert cli._fast_run(argv) is None


def test_every_run_option_is_read_or_left_to_argparse():
    """A run option the fast reader does not know is left to argparse: never misread."""
    from vwasm import cli
    run = next(a for a in cli._parser()._subparsers._group_actions[0].choices.values() if a.prog.endswith(" run"))
    options = {s for action in run._actions for s in action.option_strings}
    known = set(cli._RUN_FLAGS) | set(cli._RUN_LISTS) | set(cli._RUN_VALUES)
    assert known <= options and options - known == {"-h", "--help"}
