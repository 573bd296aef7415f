"""The command line where it overlaps `wasmtime run`: `--invoke NAME ARGS`, `--` ending options,
`-S tcplisten=ADDR`, and `python -m vwasm`."""
from __future__ import annotations

import subprocess
import sys

import pytest

from vwasm import cli

VWASM = [sys.executable, "-m", "vwasm"]


def vwasm(*args):
    return subprocess.run([*VWASM, *map(str, args)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name, args, printed", [
    ("add", ["2", "3"], ["5"]),
    ("add", ["-7", "3"], ["-4"]),
    ("add", ["4294967295", "1"], ["0"]),  # an unsigned spelling of -1
    ("scale", ["2.5", "4"], ["10"]),  # f64 result 10.0, printed as Rust prints it
    ("scale", ["0.1", "3"], ["0.30000000000000004"]),
    ("half", ["0.3"], ["0.15"]),  # the f32 0.15, in its shortest digits
    ("half", ["inf"], ["inf"]),
    ("wide", ["3000000000000000000"], ["9000000000000000000"]),
    ("nothing", [], []),
    ("hello", [], ["hello from an export"]),  # WASI works in an invoked export; _start never ran
])
def test_invoke_prints_results_one_per_line(wasm, name, args, printed):
    done = vwasm("run", "--invoke", name, wasm("invoke_exports"), *args)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == printed


@pytest.mark.parametrize("name, args, status, message", [
    ("add", ["1"], 1, "--invoke add takes 2 argument(s) (i32, i32), not 1"),
    ("add", ["x", "2"], 1, "'x' is not an i32"),
    ("add", ["4294967296", "0"], 1, "'4294967296' is not an i32"),
    ("half", ["many"], 1, "'many' is not an f32"),
    ("absent", [], 1, "the module exports no function 'absent'"),
    ("crash", [], 134, "vwasm: trap: "),
])
def test_invoke_failures_are_one_line(wasm, name, args, status, message):
    done = vwasm("run", "--invoke", name, wasm("invoke_exports"), *args)
    assert done.returncode == status
    assert len(done.stderr.splitlines()) == 1 and message in done.stderr
    assert done.stdout == ""


def test_invoke_of_an_export_that_exits(wasm):
    done = vwasm("run", "--invoke", "leave", wasm("invoke_exports"), "7")
    assert (done.returncode, done.stdout, done.stderr) == (7, "", "")


def test_double_dash_ends_options(wasm, tmp_path):
    done = vwasm("run", "--dir", tmp_path, "--", wasm("p1_args_env"), "--dir", "--help")
    assert done.returncode == 0, done.stderr
    assert "arg[1]=<--dir>" in done.stdout and "arg[2]=<--help>" in done.stdout
    assert "argc=3" in done.stdout


def _listeners(*options):
    return cli.config_from(cli._parser().parse_args(["run", *options, "m.wasm"])).listeners


def test_dash_s_tcplisten_is_tcplisten():
    assert _listeners("-S", "tcplisten=127.0.0.1:0") == _listeners("--tcplisten", "127.0.0.1:0") == [("127.0.0.1", 0)]
    assert _listeners("-S", "tcplisten=127.0.0.1:0,tcplisten=[::1]:0") == [("127.0.0.1", 0), ("::1", 0)]


@pytest.mark.parametrize("option", ["inherit-network", "tcplisten", "cli=y"])
def test_dash_s_other_keys_are_a_usage_error(wasm, option):
    done = vwasm("run", "-S", option, wasm("p1_args_env"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"vwasm: error: -S {option}: not a WASI option vwasm has "
                                        "(-S tcplisten=ADDR:PORT)"]


def test_python_dash_m_vwasm_is_the_cli(wasm):
    done = vwasm("--version")
    assert done.returncode == 0 and done.stdout.startswith("vwasm ")
    done = vwasm("run", wasm("invoke_exports"))
    assert (done.returncode, done.stdout) == (0, "main ran\n")
