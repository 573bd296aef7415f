"""Issue 2 guest programs (args, environ, stdio, exit, clocks, sleep, random, stdio descriptors,
preopen listing, proc_raise, sched_yield, out-of-bounds pointers), each run under vwasm and under
wasmtime's built-in WASI. Every test asserts the actual expected output, not only agreement.

Where wasmtime (the reference) deviates from what DESIGN.md chose, the test asserts vwasm's chosen
behaviour and pins wasmtime's, so a change on either side is noticed:
  * exit status >= 126: wasmtime traps ("exit with invalid exit status outside of [0..126)");
    vwasm exits with the status (DESIGN §5: proc_exit(n) ends the run with status n).
  * an invalid clock id / whence: wasmtime traps ("Invalid enum value"); vwasm returns EINVAL.
  * an out-of-bounds nwritten pointer: wasmtime writes the data *then* traps; vwasm traps first.
  * an iovec count whose array cannot fit in memory: wasmtime returns ENOMEM; vwasm traps.
"""
from __future__ import annotations

import os

import pytest

from difftest import TRAP_STATUS, assert_same, run_both


def both(wasm, name, **kw):
    return run_both(wasm(name), **kw)


# ----------------------------------------------------------------------------- args & environ

def test_args_env_exact(wasm):
    args = ["x", "hello world", "", "ünïcödé", "a=b"]
    env = [("VWASM_TEST", "1"), ("A", "b=c"), ("EMPTY", "")]
    v, w = both(wasm, "p1_args_env", args=args, env=env)
    assert_same(v, w)
    argv = ["p1_args_env", *args]
    envs = [f"{k}={val}" for k, val in env]
    expected = [f"argc={len(argv)} argv_buf_size={sum(len(a.encode()) + 1 for a in argv)}"]
    expected += [f"arg[{i}]=<{a}>" for i, a in enumerate(argv)]
    expected += ["argv sizes consistent: yes",
                 f"envc={len(envs)} environ_buf_size={sum(len(e.encode()) + 1 for e in envs)}"]
    expected += [f"env[{i}]=<{e}>" for i, e in enumerate(envs)]
    expected += ["environ sizes consistent: yes", "getenv(VWASM_TEST)=1"]
    assert v.lines() == expected
    assert v.status == 0 and v.stderr == b""


def test_no_environment_by_default(wasm):
    v, w = both(wasm, "p1_args_env")
    assert_same(v, w)
    assert "envc=0 environ_buf_size=0" in v.lines()
    assert "getenv(VWASM_TEST)=(unset)" in v.lines()


def test_many_args(wasm):
    args = [f"arg{i}" * (i % 7) for i in range(300)]
    v, w = both(wasm, "p1_args_env", args=args)
    assert_same(v, w)
    assert f"argc={len(args) + 1} " in v.out
    assert f"arg[300]=<{args[299]}>" in v.lines()


# ----------------------------------------------------------------------------- stdio

@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 200_000])
def test_stdin_copied_to_stdout(wasm, size):
    data = os.urandom(size)
    v, w = both(wasm, "p1_stdin_to_stdout", stdin=data)
    assert_same(v, w)
    assert v.stdout == data
    assert v.err == f"copied {size} bytes\n"
    assert v.status == 0


def test_stderr_write(wasm):
    v, w = both(wasm, "p1_stderr_write")
    assert_same(v, w)
    assert v.err == "raw stderr line\nstdio stderr line 2\n"
    assert v.lines() == ["fd_write(2, 2 iovecs): SUCCESS wrote_prefix=yes", "stdout line",
                         "fd_write(2, empty): SUCCESS n=0", "fd_write(2, no iovecs): SUCCESS n=0"]


# ----------------------------------------------------------------------------- exit codes

@pytest.mark.parametrize("code", [0, 1, 42, 125])
def test_exit_by_return(wasm, code):
    v, w = both(wasm, "p1_exit_return", args=[str(code)])
    assert_same(v, w)
    assert v.status == code
    assert v.out == f"returning {code}\n"


@pytest.mark.parametrize("how", ["exit", "_exit", "proc_exit"])
@pytest.mark.parametrize("code", [0, 1, 42])
def test_exit_call(wasm, how, code):
    v, w = both(wasm, "p1_exit_call", args=[how, str(code)])
    assert_same(v, w)
    assert v.status == code
    assert v.out == f"{how}({code})\n"  # nothing after the exit call runs


@pytest.mark.parametrize("how", ["return", "exit", "proc_exit"])
@pytest.mark.parametrize("code", [126, 255])
def test_exit_status_above_125(wasm, how, code):
    name, args = ("p1_exit_return", [str(code)]) if how == "return" else ("p1_exit_call", [how, str(code)])
    v, w = both(wasm, name, args=args)
    # reference: wasmtime refuses statuses outside [0, 126) with a trap
    assert w.status == TRAP_STATUS and "invalid exit status" in (w.trap or "")
    # vwasm: DESIGN §5, proc_exit(n) ends the run with exit status n
    assert v.status == code
    assert v.stdout == w.stdout


# ----------------------------------------------------------------------------- clocks, sleep, random

def _cputime_neutral(r):
    """wasmtime answers EBADF for the process/thread cputime clocks (it has none); a runtime that
    supports them answers SUCCESS. Both are acceptable: map them to one token for the comparison."""
    import re
    out = re.sub(rb"(cputime\)?): (EBADF|SUCCESS positive=yes le_1s=yes|SUCCESS)\n", rb"\1: <EBADF-or-SUCCESS>\n",
                 r.stdout)
    return out


def test_clock_res_get(wasm):
    v, w = both(wasm, "p1_clock_res_get")
    assert_same(v, w, stdout=False)
    assert _cputime_neutral(v) == _cputime_neutral(w)
    assert v.lines()[:2] == ["clock_res_get(realtime): SUCCESS positive=yes le_1s=yes",
                             "clock_res_get(monotonic): SUCCESS positive=yes le_1s=yes"]
    assert len(v.lines()) == 4 and v.status == 0


def test_clock_time_get(wasm):
    v, w = both(wasm, "p1_clock_time_get")
    assert_same(v, w, stdout=False)
    assert _cputime_neutral(v) == _cputime_neutral(w)
    lines = v.lines()
    assert lines[:3] == ["realtime: SUCCESS after_2020=yes", "monotonic: SUCCESS", "monotonic went back: 0 times"]
    assert lines[-2:] == ["clock_gettime(CLOCK_MONOTONIC): 0", "time(NULL) after 2020: yes"]
    assert v.status == 0


@pytest.mark.parametrize("prog", ["p1_clock_res_get", "p1_clock_time_get"])
@pytest.mark.parametrize("clock_id", [4, 5, 0xFFFFFFFF])
def test_invalid_clock_id(wasm, prog, clock_id):
    v, w = both(wasm, prog, args=[str(clock_id)])
    assert w.status == TRAP_STATUS  # wasmtime traps ("Invalid enum value" / "number too small to fit")
    call = prog[3:]
    assert v.lines() == [f"{call}({clock_id}): EINVAL"]
    assert v.status == 0


def test_sleep(wasm):
    v, w = both(wasm, "p1_poll_oneoff_sleep")
    assert_same(v, w)
    lines = v.lines()
    for what in ["nanosleep", "usleep", "relative", "absolute"]:
        assert f"{what}: elapsed>=requested=yes" in lines
    assert "nanosleep(20ms) = 0" in lines and "usleep(15ms) = 0" in lines
    assert "poll_oneoff(relative 10ms): SUCCESS nevents=1 userdata=0x1234 error=SUCCESS type=0" in lines
    assert "poll_oneoff(absolute +12ms): SUCCESS nevents=1 userdata=0xabcd error=SUCCESS type=0" in lines
    assert "poll_oneoff(absolute past): SUCCESS nevents=1" in lines
    assert "poll_oneoff(2s, 5ms): SUCCESS nevents=1 first=101" in lines
    assert "poll_oneoff(2s, 5ms) returned before 1s: yes" in lines
    assert lines[-1] == "poll_oneoff(0 subscriptions): EINVAL"


def test_random_get(wasm):
    v, w = both(wasm, "p1_random_get")
    assert_same(v, w)
    assert v.lines() == ["random_get(64K): SUCCESS", "random_get(64K) again: SUCCESS", "buffer filled: yes",
                         "two calls differ: yes", "random_get(0): SUCCESS", "random_get(5): SUCCESS",
                         "bytes past the buffer untouched: yes", "arc4random_buf works: yes"]


# ----------------------------------------------------------------------------- stdio descriptors

def test_fd_stat_stdio(wasm):
    v, w = both(wasm, "p1_fd_stat_stdio")
    assert_same(v, w)
    lines = v.lines()
    assert [ln for ln in lines if ln.startswith("fd_fdstat_get(") and "SUCCESS" in ln] == [
        f"fd_fdstat_get({fd}): SUCCESS filetype=UNKNOWN flags=0x0 read={int(fd == 0)} write={int(fd != 0)}"
        for fd in range(3)]
    assert lines[-3:] == ["fd_fdstat_get(99): EBADF", "fd_filestat_get(99): EBADF", "fd_fdstat_get(-1): EBADF"]


def test_fd_seek_tell_stdio(wasm):
    v, w = both(wasm, "p1_fd_seek_tell_stdio")
    assert_same(v, w)
    lines = v.lines()
    for fd in range(3):
        assert f"fd_seek({fd}, 0, CUR): ESPIPE" in lines
        assert f"fd_seek({fd}, 5, SET): ESPIPE" in lines
        assert f"fd_tell({fd}): ESPIPE" in lines
    assert lines[-2:] == ["fd_seek(99, 0, SET): EBADF", "fd_tell(99): EBADF"]


@pytest.mark.parametrize("whence", [3, 7, 255])
def test_fd_seek_invalid_whence(wasm, whence):
    v, w = both(wasm, "p1_fd_seek_tell_stdio", args=[str(whence)])
    assert w.status == TRAP_STATUS and "Invalid enum value" in (w.trap or "")  # wasmtime traps
    assert v.status == 0
    # a stream cannot seek at all, so ESPIPE is as right as EINVAL (lseek on a pipe says ESPIPE first)
    assert v.lines() in ([f"fd_seek(1, 0, whence={whence}): EINVAL"], [f"fd_seek(1, 0, whence={whence}): ESPIPE"])


def test_fd_renumber_stdio(wasm):
    v, w = both(wasm, "p1_fd_renumber_stdio")
    assert_same(v, w)
    assert v.lines() == ["to stdout before renumber", "fd_renumber(99, 1): EBADF", "fd_renumber(1, 99): EBADF",
                         "fd_renumber(1, 1): SUCCESS"]
    assert v.err.splitlines() == ["to fd 1 after renumber(2, 1): goes to stderr", "renumber(2, 1): SUCCESS",
                                  "fd_fdstat_get(2) after: EBADF", "write to 2 after: EBADF"]


def test_fd_close_stdio(wasm):
    v, w = both(wasm, "p1_fd_close_stdio")
    assert_same(v, w)
    assert v.lines() == ["fd_close(0): SUCCESS", "fd_read(0) after close: EBADF", "fd_close(0) again: EBADF",
                         "fd_fdstat_get(0): EBADF", "fd_close(2): SUCCESS", "fd_write(2) after close: EBADF",
                         "fd_close(1234): EBADF"]


def test_prestat_single(wasm):
    v, w = both(wasm, "p1_prestat_list")
    assert_same(v, w)
    lines = v.lines()
    assert lines[0] == "preopen fd=3 tag=0 name_len=8 name=</sandbox> SUCCESS"
    assert lines[2] == "  filetype=DIRECTORY"
    assert "fd_prestat_get(4): EBADF" in lines
    assert lines[-3:-1] == ["fd_prestat_get(0): EBADF", "fd_prestat_get(1): EBADF"]


def test_prestat_several(wasm):
    pre = (("sandbox", "/sandbox"), ("data", "/data", True), ("x", "."), ("deep/er", "/a/b/c"))
    v, w = both(wasm, "p1_prestat_list", preopens=pre)
    assert_same(v, w)
    names = [ln for ln in v.lines() if ln.startswith("preopen fd=")]
    assert names == [f"preopen fd={3 + i} tag=0 name_len={len(g)} name=<{g}> SUCCESS"
                     for i, (_, g, *_) in enumerate(pre)]
    assert f"fd_prestat_get({3 + len(pre)}): EBADF" in v.lines()


def test_no_preopens(wasm):
    v, w = both(wasm, "p1_prestat_list", preopens=())
    assert_same(v, w)
    assert v.lines()[0] == "fd_prestat_get(3): EBADF"


# ----------------------------------------------------------------------------- proc_raise, sched_yield

@pytest.mark.parametrize("sig", [0, 6, 9])
def test_proc_raise(wasm, sig):
    v, w = both(wasm, "p1_proc_raise", args=[str(sig)])
    assert_same(v, w)
    assert v.lines() == [f"proc_raise({sig})...", f"proc_raise({sig}): ENOTSUP"]
    assert v.status == 0


def test_sched_yield(wasm):
    v, w = both(wasm, "p1_sched_yield")
    assert_same(v, w)
    assert v.lines() == ["sched_yield: SUCCESS", "100 yields ok: 100", "libc sched_yield(): 0"]


# ----------------------------------------------------------------------------- out-of-bounds pointers

def test_valid_raw_fd_write(wasm):
    v, w = both(wasm, "p1_oob_iovec", args=["ok"])
    assert_same(v, w)
    assert v.lines() == ["mode=ok", "hello", "returned SUCCESS (no trap)"]


@pytest.mark.parametrize("mode", ["iovs", "buf", "wrap"])
def test_oob_iovec_traps(wasm, mode):
    v, w = both(wasm, "p1_oob_iovec", args=[mode])
    assert w.status == TRAP_STATUS and "out of bounds" in (w.trap or "")
    assert v.status == TRAP_STATUS
    assert v.out == f"mode={mode}\n"  # nothing written, no return to the guest


@pytest.mark.parametrize("mode", ["nwritten", "count"])
def test_oob_traps_before_side_effects(wasm, mode):
    v, w = both(wasm, "p1_oob_iovec", args=[mode])
    # reference only: wasmtime writes "hello" then traps on nwritten, and answers ENOMEM to the huge count
    assert (w.status, w.out) == {"nwritten": (TRAP_STATUS, "mode=nwritten\nhello\n"),
                                 "count": (0, "mode=count\nreturned ENOMEM (no trap)\n")}[mode]
    # vwasm (DESIGN §1.1): the call traps before any side effect
    assert v.status == TRAP_STATUS
    assert v.out == f"mode={mode}\n"
