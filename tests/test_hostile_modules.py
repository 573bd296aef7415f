"""Modules that cannot load, link or start: one line on stderr, a documented status, no traceback.

Statuses (README, "Command line"): 1 for a module vwasm refuses (nothing of it ran), 134 for a trap
(the start function's included), the guest's own code for proc_exit.
Each case is a small binary module (made with wasmtime.wat2wasm, so the binary path is what is
tested) or raw bytes, run through the real CLI in a subprocess.
"""
import subprocess
import sys

import pytest
import wasmtime

VWASM = [sys.executable, "-m", "vwasm.cli", "run"]
REFUSED, TRAP = 1, 134


def wasm(text: str) -> bytes:
    return wasmtime.wat2wasm(text)


WASI = '(import "wasi_snapshot_preview1" "{name}" (func {sig}))'
START = '(func (export "_start"))'

# (case, module bytes, status, words the one line must contain)
CASES = [
    # Bytes that are not a WebAssembly module; only real text is read as WAT.
    ("random_bytes", bytes(range(256)) * 16, REFUSED, "not a WebAssembly module (bad magic)"),
    ("elf_header", b"\x7fELF\x02\x01\x01" + bytes(200), REFUSED, "not a WebAssembly module (bad magic)"),
    ("empty_file", b"", REFUSED, "not a WebAssembly module (empty file)"),
    ("magic_cut_short", b"\0as", REFUSED, "not a WebAssembly module (truncated header)"),
    ("version_cut_short", b"\0asm\x01\0", REFUSED, "not a WebAssembly module (truncated header)"),
    ("version_2", b"\0asm\x02\0\0\0", REFUSED, "not a WebAssembly module (unsupported version 2)"),
    ("component", b"\0asm\x0d\0\x01\0", REFUSED, "a WebAssembly component, not a core module"),
    ("truncated_section", wasm(f"(module {START})")[:-3], REFUSED, "invalid WebAssembly module: unexpected end"),
    ("bad_section_id", b"\0asm\x01\0\0\0\xff\x00", REFUSED, "invalid WebAssembly module: malformed section id"),
    ("invalid_code", wasm('(module (func (export "_start") (i32.add) (drop)))'), REFUSED,
     "invalid WebAssembly module: "),
    ("text_not_wat", b"hello world\n", REFUSED, "invalid WebAssembly text: expected `(` (line 1, column 1)"),
    ("wat_with_error", b"(module\n  (func (foo)))", REFUSED, "invalid WebAssembly text: "),
    # Imports vwasm does not provide, or provides with another type: named, module and field.
    ("foreign_module", wasm(f'(module (import "env" "f" (func)) {START})'), REFUSED, "unknown import env::f"),
    ("unknown_wasi_function", wasm(f'(module {WASI.format(name="fd_frobnicate", sig="")} {START})'), REFUSED,
     "unknown import wasi_snapshot_preview1::fd_frobnicate"),
    ("imported_memory", wasm(f'(module (import "env" "memory" (memory 1)) {START})'), REFUSED,
     "unknown import env::memory"),
    ("wrong_params", wasm(f'(module {WASI.format(name="fd_write", sig="(param i32)")} {START})'), REFUSED,
     "import wasi_snapshot_preview1::fd_write has the wrong type"),
    ("wrong_result", wasm(f'(module {WASI.format(name="proc_exit", sig="(param i32) (result i32)")} {START})'),
     REFUSED, "import wasi_snapshot_preview1::proc_exit has the wrong type"),
    ("i64_for_i32", wasm(f'(module {WASI.format(name="proc_exit", sig="(param i64)")} {START})'), REFUSED,
     "provides (i32) -> (), the module expects (i64) -> ()"),
    ("wasi_global", wasm(f'(module (import "wasi_snapshot_preview1" "sched_yield" (global i32)) {START})'),
     REFUSED, "sched_yield has the wrong type"),
    # The entry point.
    ("no_start", wasm('(module (func (export "main")))'), REFUSED, "exports no _start function"),
    ("start_is_memory", wasm('(module (memory (export "_start") 1))'), REFUSED, "_start is a memory, not a function"),
    ("start_is_global", wasm('(module (global (export "_start") i32 (i32.const 0)))'), REFUSED,
     "_start is a global, not a function"),
    ("start_takes_params", wasm('(module (func (export "_start") (param i32 i32)))'), REFUSED,
     "_start must take and return nothing; it is (i32, i32) -> ()"),
    ("start_returns", wasm('(module (func (export "_start") (result i32) (i32.const 0)))'), REFUSED,
     "_start must take and return nothing; it is () -> (i32)"),
    ("start_is_wasi_import", wasm(f'(module (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))'
                                  '(export "_start" (func $e)))'), REFUSED, "_start must take and return nothing"),
    # The start function (the module's own `start`, run at instantiation) and running out of stack.
    ("start_function_traps", wasm(f'(module (func $s unreachable) (start $s) {START})'), TRAP,
     "vwasm: trap: instantiation (segments or start function): wasm trap: wasm `unreachable` instruction executed"),
    ("start_function_divides_by_zero", wasm(
        f'(module (func $s (drop (i32.div_u (i32.const 1) (i32.const 0)))) (start $s) {START})'), TRAP,
     "integer divide by zero"),
    ("start_function_host_call", wasm(
        f'(module {WASI.format(name="fd_write", sig="$w (param i32 i32 i32 i32) (result i32)")}'
        # the start function's host call sees the instance's memory (bound on the first call); the
        # iovec array lies past its end
        '(memory (export "memory") 1) (func $s (drop (call $w (i32.const 1) (i32.const 65536) (i32.const 1) '
        f'(i32.const 8)))) (start $s) {START})'), TRAP,
     "vwasm: trap: instantiation (segments or start function): fd_write: out-of-bounds"),
    ("data_segment_out_of_bounds", wasm(f'(module (memory 1) (data (i32.const 70000) "x") {START})'), TRAP,
     "vwasm: trap: instantiation (segments or start function): wasm trap: out of bounds memory access"),
    ("element_segment_out_of_bounds", wasm(f"(module (table 1 funcref) (func $f) (elem (i32.const 5) $f) {START})"),
     TRAP, "out of bounds table access"),
    ("start_function_recursion", wasm(f'(module (func $s (call $s)) (start $s) {START})'), TRAP,
     "call stack exhausted"),
    ("stack_exhaustion", wasm('(module (func $f (call $f)) (func (export "_start") (call $f)))'), TRAP,
     "call stack exhausted"),
    ("deep_stack_frames", wasm('(module (func $f (param i64 i64 i64 i64) (call $f (local.get 0) (local.get 1) '
                               '(local.get 2) (local.get 3))) (func (export "_start") (call $f (i64.const 1) '
                               '(i64.const 2) (i64.const 3) (i64.const 4))))'), TRAP, "call stack exhausted"),
    # Huge declarations: refused when instantiated, before anything runs.
    ("table_of_4g_elements", wasm(f"(module (table 4294967295 funcref) {START})"), REFUSED,
     "the module's table of 4294967295 elements exceeds the table limit"),
    ("memory_of_4g", wasm(f"(module (memory 65536) {START})"), REFUSED,
     "the module's initial memory, 4294967296 bytes, exceeds the memory limit"),
    ("memory64_of_1t", wasm(f"(module (memory i64 16777216) {START})"), REFUSED,
     "the module's initial memory, 1099511627776 bytes, exceeds the memory limit"),
    ("many_memories", wasm(f"(module (memory 1) (memory 1) (memory 1) {START})"), REFUSED,
     "the module declares 3 memories"),
]


def run(tmp_path, data: bytes, *flags, name="m.wasm"):
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run([*VWASM, *flags, path], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("case, data, status, words", CASES, ids=[c[0] for c in CASES])
def test_hostile_module_is_one_line_and_a_status(tmp_path, case, data, status, words):
    r = run(tmp_path, data)
    line = one_line(r.stderr)
    assert r.returncode == status, line
    assert words in line
    assert line.startswith("vwasm: trap: " if status == TRAP else "vwasm: error: ")


def test_refused_module_line_names_the_file(tmp_path):
    line = one_line(run(tmp_path, b"\x7fELF", name="prog.wasm").stderr)
    assert "prog.wasm" in line


def test_start_function_proc_exit_is_the_status(tmp_path):
    data = wasm(f'(module {WASI.format(name="proc_exit", sig="$e (param i32)")} '
                f'(func $s (call $e (i32.const 7))) (start $s) {START})')
    r = run(tmp_path, data)
    assert (r.returncode, r.stderr) == (7, "")


def test_refused_command_runs_nothing(tmp_path):
    """A module without a usable _start is refused before instantiation: its start function never runs
    (this one would print)."""
    data = wasm(f'(module {WASI.format(name="fd_write", sig="$w (param i32 i32 i32 i32) (result i32)")}'
                '(memory (export "memory") 1) (data (i32.const 16) "ran\\n")'
                '(func $s (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 4))'
                '  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))) (start $s)'
                '(func (export "_start") (param i32)))')
    r = run(tmp_path, data)
    assert r.returncode == REFUSED and r.stdout == ""
    assert "_start" in one_line(r.stderr)


def test_wat_text_still_runs(tmp_path):
    r = run(tmp_path, f"(module {START})".encode(), name="m.wat")
    assert (r.returncode, r.stderr) == (0, "")


def test_library_raises_module_error(tmp_path):
    """The same checks for embedders: vwasm.Sandbox raises ModuleError (a ValueError) with the line."""
    import vwasm
    from vwasm.loader import ModuleError

    with pytest.raises(ModuleError, match="bad magic"):
        vwasm.Sandbox(bytes(range(128, 256)), vwasm.Config())
    with pytest.raises(ModuleError, match="unknown import env::f"):
        vwasm.Sandbox(wasm(f'(module (import "env" "f" (func)) {START})'), vwasm.Config())
