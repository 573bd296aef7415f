"""The command line: statuses, one-line errors, traps with nothing written."""
import subprocess
import sys

import pytest

VWASM = [sys.executable, "-m", "vwasm.cli"]

# A guest that writes "hi\n" to stdout with a valid iovec but an out-of-bounds nwritten pointer:
# the call must trap before writing anything.
OOB_RESULT = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hi\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 65534)))))"""

OOB_IOVEC = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hi\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 3))
    (i32.store (i32.const 8) (i32.const 65530))
    (i32.store (i32.const 12) (i32.const 100))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16)))))"""

EXIT = """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $e (i32.const {code}))))"""


def vwasm(*args, **kw):
    return subprocess.run([*VWASM, *map(str, args)], capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture
def wat(tmp_path):
    def make(text, name="m.wat"):
        path = tmp_path / name
        path.write_text(text)
        return path
    return make


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_version():
    r = vwasm("--version")
    assert r.returncode == 0 and r.stdout.startswith("vwasm ")


def test_unknown_flag_is_a_usage_error(wat):
    r = vwasm("run", "--bogus", wat(EXIT.format(code=0)))
    assert r.returncode == 2
    assert "--bogus" in one_line(r.stderr)


def test_missing_command_is_a_usage_error():
    r = vwasm()
    assert r.returncode == 2
    one_line(r.stderr)


def test_bad_env_is_a_usage_error(wat):
    r = vwasm("run", "--env", "=x", wat(EXIT.format(code=0)))
    assert r.returncode == 2
    assert "--env" in one_line(r.stderr)


def test_missing_module_file(tmp_path):
    r = vwasm("run", tmp_path / "nope.wasm")
    assert r.returncode == 1
    assert "nope.wasm" in one_line(r.stderr)


def test_missing_host_directory(wat, tmp_path):
    r = vwasm("run", "--dir", f"{tmp_path}/absent::/x", wat(EXIT.format(code=0)))
    assert r.returncode == 1
    assert "absent" in one_line(r.stderr)


def test_invalid_module(tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\xff\xff")
    r = vwasm("run", bad)
    assert r.returncode == 1
    assert "invalid WebAssembly module" in one_line(r.stderr)


def test_module_without_start(wat):
    r = vwasm("run", wat('(module (memory (export "memory") 1) (func (export "main")))'))
    assert r.returncode == 1
    assert "_start" in one_line(r.stderr)


def test_module_importing_something_else(wat):
    r = vwasm("run", wat('(module (import "env" "f" (func)) (func (export "_start")))'))
    assert r.returncode == 1
    assert "env::f" in one_line(r.stderr)


def test_stack_exhaustion_is_a_trap(wat):
    r = vwasm("run", wat('(module (func $f (call $f)) (func (export "_start") (call $f)))'))
    assert r.returncode == 134
    assert "call stack exhausted" in one_line(r.stderr)


@pytest.mark.parametrize("code", [0, 1, 42, 125, 126])
def test_exit_status_is_the_guests(wat, code):
    r = vwasm("run", wat(EXIT.format(code=code)))
    assert r.returncode == code
    assert r.stderr == ""


@pytest.mark.parametrize("code, status", [(200, 200), (255, 255), (256, 255), (70000, 255)])
def test_large_exit_statuses_never_wrap_to_success(wat, code, status):
    r = vwasm("run", wat(EXIT.format(code=code)))
    assert r.returncode == status
    assert r.stderr == ""


def test_out_of_bounds_result_pointer_traps_before_writing(wat):
    r = vwasm("run", wat(OOB_RESULT))
    assert r.returncode == 134
    assert "out-of-bounds" in one_line(r.stderr)
    assert r.stdout == ""


def test_out_of_bounds_iovec_traps_before_writing(wat):
    r = vwasm("run", wat(OOB_IOVEC))
    assert r.returncode == 134
    assert "iovec 1" in one_line(r.stderr)
    assert r.stdout == ""
