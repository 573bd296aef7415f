"""Several guests at once: many stores in one engine, each with its own `vwasm.define_wasi`, one after
another and in threads. Each guest's arguments, environment, stdin, stdout, descriptors and trace are
its own: every output names only its own inputs, every file lands in its own directory."""
from __future__ import annotations

import os
import threading

import wasmtime

import vwasm

GUESTS = 12
THREADS = 4


def _guest(engine: wasmtime.Engine, module: wasmtime.Module, i: int, root, audit: bool) -> dict:
    """Set up guest i: argv (i, 100 * i, exit status i % 5), env GREETING=guest-i, stdin, a directory."""
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_func("env", "host_add", wasmtime.FuncType([wasmtime.ValType.i32()] * 2, [wasmtime.ValType.i32()]),
                       lambda a, b: a + b)
    out, err = [], []
    config = vwasm.Config()
    config.argv = ["guest", str(i), str(100 * i), str(i % 5)]
    config.env = [("GREETING", f"guest-{i}")]
    config.stdin_bytes(f"stdin of {i}".encode())
    config.stdout_custom = out.append
    config.stderr_custom = err.append
    (root / f"g{i}").mkdir()
    config.preopen_dir(root / f"g{i}", "/data")
    if audit:
        config.enable_audit()
    handle = vwasm.define_wasi(linker, store, config)
    instance = linker.instantiate(store, module)
    return {"i": i, "store": store, "instance": instance, "handle": handle, "out": out, "err": err}


def _run(guest: dict) -> None:
    store, instance = guest["store"], guest["instance"]
    try:
        instance.exports(store)["_start"](store)
        guest["status"] = 0
    except wasmtime.ExitTrap as e:
        guest["status"] = e.code
    preopen = guest["handle"].cx.fds.get(3).handle  # the host descriptor behind the guest's fd 3
    guest["dir"] = os.readlink(f"/proc/self/fd/{preopen}")
    guest["handle"].close()


def _check(guest: dict) -> None:
    i = guest["i"]
    text = b"".join(guest["out"]).decode()
    assert text == f"host_add({i}, {100 * i}) = {101 * i}\nGREETING=guest-{i}\nstdin: stdin of {i}\n"
    assert b"".join(guest["err"]) == b"to stderr\n"
    assert guest["status"] == i % 5
    assert guest["handle"].exit_code == (i % 5 or None)
    assert guest["dir"].endswith(f"/g{i}")


def test_many_stores_one_engine_sequentially(wasm, tmp_path):
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(wasm("embed_host_add")))
    guests = [_guest(engine, module, i, tmp_path, audit=False) for i in range(GUESTS)]  # all set up first
    for guest in reversed(guests):  # and run in another order
        _run(guest)
    for guest in guests:
        _check(guest)


def test_many_stores_one_engine_in_threads(wasm, tmp_path):
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(wasm("embed_host_add")))
    guests: list[dict] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(first: int) -> None:
        try:
            start.wait()
            for i in range(first, GUESTS, THREADS):
                guest = _guest(engine, module, i, tmp_path, audit=i % 2 == 0)
                _run(guest)
                guests.append(guest)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(g["i"] for g in guests) == list(range(GUESTS))
    for guest in guests:
        _check(guest)
    # audited guests have traces of their own: no effect of one guest in another's list
    traces = [g["handle"].trace for g in guests if g["i"] % 2 == 0]
    assert all(traces) and len({id(t) for t in traces}) == len(traces)
    assert all(g["handle"].trace is None for g in guests if g["i"] % 2)


def test_one_guests_timeout_does_not_stop_another_in_the_same_engine():
    """Each timeout bumps the engine's epoch, which every store of the engine sees: only the store whose
    own deadline passed stops. Guest B spins (in a thread) until guest A has been stopped by its timeout."""
    config_a, config_b = vwasm.Config(), vwasm.Config()
    config_a.timeout, config_b.timeout = 0.3, 120.0
    engine = vwasm.engine_for(config_a)
    a_stopped = threading.Event()
    spin = """(module (import "env" "done" (func $done (result i32)))
      (func (export "spin") (loop $again (br_if $again (i32.eqz (call $done))))))"""
    module = wasmtime.Module(engine, spin)

    def setup(config, done):
        store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
        linker.define_func("env", "done", wasmtime.FuncType([], [wasmtime.ValType.i32()]), done)
        handle = vwasm.define_wasi(linker, store, config)
        return store, linker.instantiate(store, module), handle

    store_b, instance_b, handle_b = setup(config_b, lambda: int(a_stopped.is_set()))
    outcome_b: list = []

    def run_b() -> None:
        try:
            instance_b.exports(store_b)["spin"](store_b)
            outcome_b.append("returned")
        except Exception as e:
            outcome_b.append(e)

    thread = threading.Thread(target=run_b)
    thread.start()
    store_a, instance_a, handle_a = setup(config_a, lambda: 0)
    try:
        instance_a.exports(store_a)["spin"](store_a)
        outcome_a = "returned"
    except wasmtime.WasmtimeError as e:
        outcome_a = e
    finally:
        a_stopped.set()
    thread.join(timeout=60)
    assert isinstance(outcome_a, wasmtime.WasmtimeError) and handle_a.deadline_passed()
    assert outcome_b == ["returned"] and not handle_b.deadline_passed()
    handle_a.close()
    handle_b.close()
