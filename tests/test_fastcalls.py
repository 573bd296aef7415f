"""The C entries of the cheapest calls (impl/fastcalls.c): built, used where they may stand in for the
handlers, and never where something must see every call. Their answers are checked against the
handlers' by the obligation host.fastcalls; here, that the runtime as shipped takes them."""
import subprocess
import sys

import wasmtime

import vwasm
from vwasm import fastcalls
from vwasm.model.wasi import Clockid, Errno
from vwasm.context import Context
from vwasm.fdtable import FdTable
from vwasm.model_host import ModelHost
from vwasm.posix_host import PosixHost
from vwasm.syscalls import args_env, clock_random

GUEST = """(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $time (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "now") (param i32) (result i64)
    (drop (call $time (local.get 0) (i64.const 0) (i32.const 16)))
    (i64.load (i32.const 16))))"""


def _now(config=None, host=None, clock=Clockid.MONOTONIC) -> tuple[int, int]:
    """A clock read from wasm through define_wasi: (the value, how many calls C answered meanwhile)."""
    engine = wasmtime.Engine()
    store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
    wasi = vwasm.define_wasi(linker, store, config, host=host)
    instance = linker.instantiate(store, wasmtime.Module(engine, GUEST))
    served = fastcalls.library().served()
    value = instance.exports(store)["now"](store, clock)
    wasi.close()
    return value, fastcalls.library().served() - served


def test_the_library_is_built_and_loads():
    assert fastcalls.library_path() is not None, "impl/fastcalls.c is not built: run `make build`"
    assert fastcalls.library() is not None
    cx = Context(PosixHost(), FdTable(), [], [])
    assert all(fastcalls.library().serve(handler, None, cx) for handler in fastcalls.ENTRIES)
    assert fastcalls.library().serve(args_env.args_get, None, cx) is None


def test_a_plain_store_reads_the_clock_in_c():
    value, served = _now()
    assert served == 1
    assert 0 < value <= __import__("time").monotonic_ns()


SEEKER = """(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_tell" (func $tell (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "f")
  (func (export "open") (result i32)
    (drop (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)
                      (i64.const 0x3fffffff) (i64.const 0x3fffffff) (i32.const 0) (i32.const 8)))  ;; every right
    (i32.load (i32.const 8)))
  (func (export "seek") (param i32 i64 i32) (result i32) (call $seek (local.get 0) (local.get 1) (local.get 2) (i32.const 16)))
  (func (export "tell") (param i32) (result i32) (call $tell (local.get 0) (i32.const 16)))
  (func (export "at") (result i64) (i64.load (i32.const 16)))
  (func (export "close") (param i32) (result i32) (call $close (local.get 0))))"""


def test_seek_and_tell_on_a_file_are_answered_in_c_from_the_live_table(tmp_path):
    (tmp_path / "f").write_bytes(b"0123456789")
    config = vwasm.Config()
    config.preopen_dir(str(tmp_path), "/box")
    engine = wasmtime.Engine()
    store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
    wasi = vwasm.define_wasi(linker, store, config)
    exports = linker.instantiate(store, wasmtime.Module(engine, SEEKER)).exports(store)
    lib = fastcalls.library()
    fd = exports["open"](store)
    served = lib.served()
    assert exports["seek"](store, fd, 4, 0) == 0 and exports["at"](store) == 4
    assert exports["seek"](store, fd, -1, 2) == 0 and exports["at"](store) == 9  # from the end
    assert exports["tell"](store, fd) == 0 and exports["at"](store) == 9
    assert lib.served() - served == 3
    host_fd = wasi.cx.fds.get(fd).handle
    assert exports["close"](store, fd) == 0
    served = lib.served()
    assert exports["tell"](store, fd) == Errno.BADF  # the closed number: the handler's answer
    assert exports["seek"](store, 0, 0, 0) == Errno.SPIPE  # stdin has no offset
    assert exports["seek"](store, 3, 0, 0) == Errno.BADF  # nor has the preopened directory
    assert lib.served() == served
    wasi.close()
    with __import__("pytest").raises(OSError):
        __import__("os").fstat(host_fd)  # closed on the host too: C held nothing of it


def test_audit_mode_and_other_hosts_see_every_call():
    audited = vwasm.Config()
    audited.enable_audit()
    value, served = _now(audited)
    assert served == 0 and value > 0
    value, served = _now(host=ModelHost(now=123_456))
    assert served == 0
    assert value > 0  # the model host's own monotonic clock, not the machine's


def test_vwasm_run_uses_them_and_strace_does_not(wasm, tmp_path):
    probe = ("import sys; from vwasm import cli, fastcalls; code = cli.main(sys.argv[1:]); "
             "print(fastcalls.library().served(), file=sys.stderr)")
    for flags, used in (([], True), (["--strace"], False)):
        done = subprocess.run([sys.executable, "-c", probe, "run", *flags, wasm("p1_clock_time_get")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "realtime: SUCCESS after_2020=yes" in done.stdout
        served = int(done.stderr.strip().splitlines()[-1])
        assert (served > 0) == used, (flags, served)
        if not used:
            assert "clock_time_get(" in done.stderr  # strace saw the calls


def test_a_module_importing_none_of_them_does_not_load_the_library():
    from vwasm.posix_host import PosixHost
    host = PosixHost()
    assert fastcalls.serving(host, None, frozenset({"fd_write", "proc_exit"})) is None
    assert fastcalls.serving(host, None, frozenset({"fd_write", "sched_yield"})) is fastcalls.library()
    assert fastcalls.serving(host, None) is fastcalls.library()


POLLER = r"""(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\01\00\00\00\00\00\00\00\01")  ;; userdata 1: fd_read of fd 0 (stdin)
  (data (i32.const 48) "\02\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01")  ;; userdata 2: monotonic, relative 0
  (func (export "poll") (result i32) (call $poll (i32.const 0) (i32.const 256) (i32.const 2) (i32.const 512))))"""


def _poll_stdin(config) -> tuple[list, int]:
    """poll() of stdin with a zero timeout, as wasi-libc sends it: ([(userdata, error, type, nbytes)
    of each event], how many calls C answered)."""
    import struct
    engine = wasmtime.Engine()
    store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
    wasi = vwasm.define_wasi(linker, store, config)
    exports = linker.instantiate(store, wasmtime.Module(engine, POLLER)).exports(store)
    served = fastcalls.library().served()
    assert exports["poll"](store) == 0
    served = fastcalls.library().served() - served
    memory = exports["memory"].read(store, 0, 1024)
    (count,) = struct.unpack_from("<I", memory, 512)
    events = [struct.unpack_from("<QHB5xQ", memory, 256 + 32 * i) for i in range(count)]
    wasi.close()
    return events, served


def test_a_poll_of_stdin_that_need_not_wait_is_answered_in_c(tmp_path):
    import os
    os.mkfifo(tmp_path / "in")
    writer = os.open(tmp_path / "in", os.O_RDWR | os.O_NONBLOCK)  # so the guest's open does not wait
    try:
        config = vwasm.Config()
        config.stdin_file(tmp_path / "in")
        clock = (2, 0, 0, 0)  # the clock's event: SUCCESS, type CLOCK, nbytes 0
        assert _poll_stdin(config) == ([clock], 1)  # nothing to read yet
        os.write(writer, b"x")
        assert _poll_stdin(config) == ([(1, 0, 1, 1), clock], 1)  # stdin ready: type FD_READ, nbytes 1
    finally:
        os.close(writer)
    config = vwasm.Config()
    config.stdin_bytes(b"")  # kept in Python: always ready, never waits
    assert _poll_stdin(config) == ([(1, 0, 1, 1), clock], 1)
    audited = vwasm.Config()
    audited.enable_audit()
    assert _poll_stdin(audited) == ([(1, 0, 1, 1), clock], 0)  # the handler's answer alike
