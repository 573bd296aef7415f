"""Sandboxes in threads of one process, run at the same time (wasm runs without the GIL, host calls
take it): each guest's memory, descriptors, files and output stay its own. Behaviour only; how much
faster two threads are is `make bench`'s business."""
from __future__ import annotations

import threading

import wasmtime

import vwasm

ROUNDS = (300, 701, 1200, 55)  # KiB each guest allocates: memory grows differently in each


def expected(name: str, rounds: int) -> str:
    """What parallel_worker.c prints: its FNV-style checksum over the blocks it fills."""
    total = 0
    for r in range(rounds):
        for i in range(1024):
            total = (total * 1099511628211 + ((r * 31 + i) & 0xFF)) % 2**64
    return f"{name} {total}\n"


def test_two_threads_of_sandboxes_keep_their_own_results(wasm, tmp_path):
    engine = vwasm.engine_for(vwasm.Config())  # fixed memory: each GuestMemory keeps its own bound
    module = wasmtime.Module.from_file(engine, str(wasm("parallel_worker")))
    results: dict[str, tuple[int, str, str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(thread: int) -> None:
        try:
            start.wait()
            for k, rounds in enumerate(ROUNDS):
                name = f"t{thread}g{k}"
                box = tmp_path / name
                box.mkdir()
                out: list[bytes] = []
                config = vwasm.Config()
                config.argv = ["worker", name, str(rounds + thread)]
                config.preopen_dir(box, "/data")
                config.stdout_custom(out.append)
                status = vwasm.Sandbox(module, config, engine=engine).run()
                results[name] = (status, b"".join(out).decode(), (box / f"{name}.txt").read_text())
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(results) == 2 * len(ROUNDS)
    for thread in range(2):
        for k, rounds in enumerate(ROUNDS):
            name = f"t{thread}g{k}"
            line = expected(name, rounds + thread)
            assert results[name] == (0, line, line.rstrip("\n"))
