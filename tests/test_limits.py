"""Limits (--fuel, --timeout, --max-memory, --max-fds): enforced by the engine, one line naming the
limit and its value, status 134 for a guest stopped by fuel or time (README, "Command line").

The guests are real programs (tests/programs/limit_*.c): a loop with no host call, an hour's sleep,
a read of a stdin nobody writes, an accept nobody connects to, a malloc loop.
"""
import socket
import subprocess
import sys
import time

import pytest
import wasmtime

import vwasm
from vwasm.model.wasi import Errno

VWASM = [sys.executable, "-m", "vwasm.cli", "run"]
STOPPED = 134
SLACK = 15  # seconds a stopped guest may take beyond its timeout on this loaded machine (start-up included)


def vwasm_run(*args, stdin=subprocess.DEVNULL, timeout=60, **kw):
    return subprocess.run([*VWASM, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=stdin, **kw)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def timed(*args, **kw):
    t0 = time.monotonic()
    r = vwasm_run(*args, **kw)
    return r, time.monotonic() - t0


# --- fuel ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fuel", [100, 5_000_000])
def test_fuel_stops_a_loop_without_host_calls(wasm, fuel):
    r = vwasm_run("--fuel", fuel, wasm("limit_spin"))
    assert r.returncode == STOPPED
    assert one_line(r.stderr) == f"vwasm: limit: fuel {fuel} exhausted (--fuel)"
    assert r.stdout == ("spinning\n" if fuel > 100_000 else "")  # 100: too little to reach the printf


def test_enough_fuel_changes_nothing(wasm):
    r = vwasm_run("--fuel", 10**12, wasm("p1_args_env"), "a", "b")
    plain = vwasm_run(wasm("p1_args_env"), "a", "b")
    assert (r.returncode, r.stdout, r.stderr) == (plain.returncode, plain.stdout, plain.stderr) == (0, plain.stdout, "")


def test_fuel_counts_the_start_function(tmp_path):
    path = tmp_path / "m.wat"
    path.write_text('(module (func $s (loop (br 0))) (start $s) (func (export "_start")))')
    r = vwasm_run("--fuel", 1000, path)
    assert r.returncode == STOPPED
    assert one_line(r.stderr) == "vwasm: limit: fuel 1000 exhausted (--fuel)"


# --- timeout: compiled code and every host call that may block --------------------------------------
@pytest.mark.parametrize("guest", ["limit_spin", "limit_sleep", "limit_read_stdin"])
def test_timeout_stops_a_guest_running_or_blocked(wasm, guest):
    # stdin is a pipe nobody writes to (kept open for the whole run): fd_read blocks on it.
    with subprocess.Popen(["sleep", "120"], stdout=subprocess.PIPE) as writer:
        r, elapsed = timed("--timeout", 0.5, wasm(guest), stdin=writer.stdout)
        writer.kill()
    assert r.returncode == STOPPED
    assert one_line(r.stderr) == "vwasm: limit: timeout 0.5 s reached (--timeout)"
    assert r.stdout in ("spinning\n", "sleeping\n", "reading\n")
    assert 0.5 <= elapsed < 0.5 + SLACK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_timeout_stops_a_guest_blocked_in_sock_accept(wasm):
    r, elapsed = timed("--timeout", 0.5, "--tcplisten", f"127.0.0.1:{free_port()}", wasm("limit_accept"), 3)
    assert r.returncode == STOPPED
    assert one_line(r.stderr) == "vwasm: limit: timeout 0.5 s reached (--timeout)"
    assert r.stdout == "accepting\n"
    assert elapsed < 0.5 + SLACK


POLL_STDIN = """(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store8 (i32.const 8) (i32.const 1))  ;; one subscription: FD_READ on fd 0 (userdata 0), no clock
    (i32.store (i32.const 16) (i32.const 0))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 200)))))"""

WRITE_FOREVER = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 1024))  ;; one iovec: 64 KiB at 1024
    (i32.store (i32.const 4) (i32.const 65536))
    (loop (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))) (br 0))))"""


def test_timeout_stops_poll_oneoff_waiting_on_stdin_alone(tmp_path):
    path = tmp_path / "poll.wat"
    path.write_text(POLL_STDIN)
    with subprocess.Popen(["sleep", "120"], stdout=subprocess.PIPE) as writer:
        r, elapsed = timed("--timeout", 0.5, path, stdin=writer.stdout)
        writer.kill()
    assert r.returncode == STOPPED
    assert one_line(r.stderr) == "vwasm: limit: timeout 0.5 s reached (--timeout)"
    assert elapsed < 0.5 + SLACK


def test_timeout_stops_a_guest_blocked_writing_to_a_full_pipe(tmp_path):
    """Nobody reads the guest's stdout: once the pipe is full, fd_write would block for ever."""
    path = tmp_path / "write.wat"
    path.write_text(WRITE_FOREVER)
    with subprocess.Popen([*VWASM, "--timeout", "0.5", str(path)], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as guest:
        status = guest.wait(timeout=60)  # the pipe is read only after the guest has stopped
        stderr = guest.stderr.read()
    assert status == STOPPED
    assert one_line(stderr) == "vwasm: limit: timeout 0.5 s reached (--timeout)"


def test_timeout_lets_blocking_calls_finish_in_time(wasm):
    """Waiting for the deadline must not change what a blocking call does when its data comes."""
    r = vwasm_run("--timeout", 30, wasm("limit_read_stdin"), stdin=None, input="hello\n")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == "reading\nread 6: hello\n\n"
    port = free_port()
    with subprocess.Popen([*VWASM, "--timeout", "30", "--tcplisten", f"127.0.0.1:{port}", str(wasm("limit_accept")),
                           "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as guest:
        assert guest.stdout.readline() == "accepting\n"
        socket.create_connection(("127.0.0.1", port), timeout=30).close()
        out, err = guest.communicate(timeout=60)
    assert (guest.returncode, out, err) == (0, "accept: SUCCESS\n", "")


def test_timeout_counts_the_start_function(tmp_path):
    path = tmp_path / "m.wat"
    path.write_text('(module (func $s (loop (br 0))) (start $s) (func (export "_start")))')
    r, elapsed = timed("--timeout", 0.25, path)
    assert r.returncode == STOPPED
    assert one_line(r.stderr) == "vwasm: limit: timeout 0.25 s reached (--timeout)"


def test_sleep_shorter_than_the_timeout_is_untouched(wasm):
    r = vwasm_run("--timeout", 60, wasm("p1_poll_oneoff_sleep"))
    plain = vwasm_run(wasm("p1_poll_oneoff_sleep"))
    assert (r.returncode, r.stdout, r.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert "elapsed>=requested=no" not in r.stdout


# --- memory --------------------------------------------------------------------------------------------
def hog(wasm, limit: str) -> int:
    r = vwasm_run("--max-memory", limit, wasm("limit_memory_hog"))
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    return int(r.stdout.split()[1])


def test_memory_grow_fails_past_the_limit_and_the_guest_carries_on(wasm):
    small, large = hog(wasm, "32M"), hog(wasm, "96M")
    assert 1 <= small and small << 20 < 32 << 20
    assert small < large and large << 20 < 96 << 20


def test_initial_memory_above_the_limit_is_refused(wasm):
    r = vwasm_run("--max-memory", "8M", wasm("limit_memory_hog"))
    assert r.returncode == 1 and r.stdout == ""
    line = one_line(r.stderr)
    assert "exceeds the memory limit 8388608 bytes (--max-memory)" in line


GROW_ALL = """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 0)
  (func (export "_start") (local $pages i32)
    (block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 256)) (i32.const -1)))
      (local.set $pages (i32.add (local.get $pages) (i32.const 256)))
      (br $more)))
    ;; report the pages reached, in units of 256 pages (16 MiB)
    (call $exit (i32.div_u (local.get $pages) (i32.const 256)))))"""


def test_default_memory_limit_is_the_one_help_shows(tmp_path):
    """Without --max-memory, memory.grow fails at the default --help documents (1G = 64 x 16 MiB)."""
    assert "default: 1G" in " ".join(vwasm_run("--help").stdout.split())
    path = tmp_path / "grow.wat"
    path.write_text(GROW_ALL)
    assert vwasm_run(path).returncode == 64
    assert vwasm_run("--max-memory", "256M", path).returncode == 16


def test_table_and_memory_declarations_are_capped(tmp_path):
    path = tmp_path / "m.wat"
    path.write_text('(module (table 100000000 funcref) (func (export "_start")))')
    assert "table limit" in one_line(vwasm_run(path).stderr)
    path.write_text('(module (memory 1) (memory 1) (func (export "_start")))')
    assert "declares 2 memories" in one_line(vwasm_run(path).stderr)


# --- descriptors ---------------------------------------------------------------------------------------
OPEN_ONE = """(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "f")
  (func (export "_start")
    (call $exit (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 1)
                            (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 64)))))"""


def test_max_fds_makes_the_next_open_emfile(tmp_path):
    path = tmp_path / "open.wat"
    path.write_text(OPEN_ONE)
    box = tmp_path / "box"
    box.mkdir()
    assert vwasm_run("--dir", f"{box}::/", path).returncode == Errno.SUCCESS
    assert vwasm_run("--max-fds", 4, "--dir", f"{box}::/", path).returncode == Errno.MFILE
    assert vwasm_run("--max-fds", 5, "--dir", f"{box}::/", path).returncode == Errno.SUCCESS


# --- bad values are usage errors ----------------------------------------------------------------------
@pytest.mark.parametrize("flags", [["--fuel", "0"], ["--fuel", "-3"], ["--fuel", "x"], ["--timeout", "0"],
                                   ["--timeout", "nan"], ["--timeout", "inf"], ["--max-memory", "10X"],
                                   ["--max-memory", "0"], ["--max-fds", "2"], ["--max-fds", "0"]])
def test_bad_limit_is_a_usage_error(wasm, flags):
    r = vwasm_run(*flags, wasm("p1_args_env"))
    assert r.returncode == 2
    assert flags[0] in one_line(r.stderr)


# --- the library ----------------------------------------------------------------------------------------
def test_config_limits_stop_a_sandbox(wasm):
    config = vwasm.Config()
    config.fuel = 20_000
    box = vwasm.Sandbox(str(wasm("limit_spin")), config)
    assert box.run() == STOPPED
    assert box.limit_message == "fuel 20000 exhausted (--fuel)" and box.trap_message is None
    config = vwasm.Config()
    config.timeout = 0.2
    box = vwasm.Sandbox(str(wasm("limit_sleep")), config)
    assert box.run() == STOPPED and box.limit_message.startswith("timeout 0.2 s")


def test_an_engine_that_cannot_enforce_the_limit_is_refused(wasm):
    config = vwasm.Config()
    config.timeout = 1
    with pytest.raises(ValueError, match="engine_for"):
        vwasm.Sandbox(str(wasm("limit_spin")), config, engine=wasmtime.Engine())
