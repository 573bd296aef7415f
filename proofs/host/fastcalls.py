"""The C entries of the cheapest calls (`impl/fastcalls.c`) checked against the handlers they stand in for.

The C source of the tree under check is built here, as the package build builds it (pyproject's
extension entry, through setuptools' build_ext), and every case is run from real wasm twice: once
with the C entries linked, once with the Python handlers alone. The two runs must be the same guest
experience, byte for byte, except for the clock value itself, which must lie between host readings
of that clock taken just before and after the call.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

from proofs.core import HOST, Counterexample, Outcome, TooLittleEvidence, obligation
from proofs.host.poll_streams import N_CASES as N_STREAM_CASES
from vwasm.model.wasi import ALL_RIGHTS, Errno, Fdflags, Rights

# pyproject.toml, for the extension's flags (a mutant's copy under proofs.mutate has none: the project's)
HERE = Path(__file__).resolve().parents[2]  # the tree under check (a mutant's copy, under proofs.mutate)
PROJECT = Path(os.environ.get("VWASM_PROJECT_ROOT") or HERE)
PAGE = 1 << 16
FILL = 0xA5  # every byte of memory before each call: a write anywhere shows

CLOCK_IDS = (0, 1, 2, 3, 4, 5, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF)
PRECISIONS = (0, 1, (1 << 64) - 1)
# Pointers relative to the memory's size `s` (aligned and not; flush with the end, straddling it,
# past it; wrapping at 2^32); the top bit set in the raw value's upper half must not matter.
POINTERS = (lambda s: 0, lambda s: 8, *(lambda s, r=r: 8 + r for r in range(1, 8)), lambda s: s - 16,
            lambda s: s - 8, lambda s: s - 7, lambda s: s - 4, lambda s: s - 1, lambda s: s, lambda s: s + 8,
            lambda s: 0xFFFF_FFF8, lambda s: 0xFFFF_FFFF)  # 8 + r: every misalignment, in bounds
PAGES = (1, 2)  # the second after a memory.grow: the bound must follow it
POSIX_CLOCKS = (time.CLOCK_REALTIME, time.CLOCK_MONOTONIC, time.CLOCK_PROCESS_CPUTIME_ID, time.CLOCK_THREAD_CPUTIME_ID)
N_CLOCK_CASES = len(PAGES) * (len(CLOCK_IDS) * len(POINTERS) * (len(PRECISIONS) + 1) + 1)
# Guests whose `memory` export is missing or not a memory: the handler traps (it has no memory).
MEMORYLESS = {
    "no memory export": '(memory 1)',
    "a global named memory": '(memory 1) (global (export "memory") i32 (i32.const 0))',
}
# (extern size, raw value size) that vwasm_fast_init must refuse (its room is 64 bytes; a raw value
# is whole u64s), and one it must accept.
LAYOUTS_REFUSED = ((65, 16), (32, 12), (32, 0))
LAYOUT_ACCEPTED = (64, 16)

# random_get: lengths (getrandom(2) may return short past 256 bytes) and pointers relative to the
# memory's size `s` for a length `n` (flush with the end, one past it, past the end, wrapping).
RANDOM_LENGTHS = (0, 1, 7, 16, 255, 256, 257, 4096, 1 << 16)
RANDOM_POINTERS = (lambda s, n: 0, lambda s, n: 3, lambda s, n: s - n, lambda s, n: s - n + 1, lambda s, n: s,
                   lambda s, n: s + 1, lambda s, n: 0xFFFF_FFFF)
# fd_seek / fd_tell, over a descriptor table built by the guest itself (`TABLE_PHASES`): every kind
# of descriptor and right, numbers never opened, offsets before the start, past the end and at the
# s64 limits, every whence and undefined ones, result pointers as the clocks' (but fewer).
# stdio, the preopen, files 4-6, a freed 7, VIEW (the first number past C's view of the table), never opened
VIEW = 16  # the numbers C's view of a table holds (FdTable.files.count) while only numbers below 16 are used
SEEK_FDS = (0, 1, 2, 3, 4, 5, 6, 7, VIEW, 100, 0xFFFF_FFFF)
SEEK_OFFSETS = (0, 1, 7, 100, 150, -1, -100, (1 << 63) - 1, -(1 << 63))
WHENCES = (0, 1, 2, 3, 0xFFFF_FFFF)
SEEK_POINTERS = (lambda s: 0, lambda s: 8, lambda s: 13, lambda s: s - 24, lambda s: s - 16, lambda s: s - 8,
                 lambda s: s - 4, lambda s: s, lambda s: 0xFFFF_FFF8)  # s - 24: an fdstat flush with the end
MISALIGNED = tuple(lambda s, r=r: 8 + r for r in range(1, 8))  # tell and fdstat: every residue mod 8
FILE_SIZE = 100
PATH_AT, FD_AT = 1024, 2048  # where the set-up calls keep the path "f" and the opened number
# What the guest does to its table before each phase of cases (exports and arguments; `open` opens
# "f" in the preopen with every right, `rights` keeps only those given). 5 may only ask where it is,
# 6 only move (and appends, non-blocking: the kernel keeps its position); 7 is opened and closed.
# Then a file that moved to 33, appended a while (its position the kernel's) and stopped (its position
# PosixHost's again), moved onto 4 by renumbering; then 4 closed and a file opened at the edge of
# PosixHost's position words (`open_at_edge`) in its place, and a FIFO opened as 7 (a descriptor of
# kind file that is no regular file: no position, ESPIPE).
TABLE_PHASES = (
    (("open",), ("open",), ("rights", 5, Rights.FD_TELL | Rights.FD_READ, 0), ("open",),
     ("flags", 6, Fdflags.APPEND | Fdflags.NONBLOCK), ("rights", 6, Rights.FD_SEEK | Rights.FD_READ, 0),
     ("open",), ("close", 7)),
    (("open",), ("seek", 7, 33, 0, 0), ("flags", 7, Fdflags.APPEND), ("seek", 7, 5, 1, 0), ("flags", 7, 0),
     ("renumber", 7, 4)),
    (("close", 4), ("open_at_edge",), ("open_fifo",)),
)
# In the cases' process PosixHost keeps the positions of host fds below EDGE only (its TRACKED_FDS),
# and the word just past them reads as a kept position, POISON: an entry reading the positions one
# host fd too far answers POISON for the file at host fd EDGE, whose position is the kernel's.
EDGE, POISON = 64, 1000
N_SEEK_CASES = len(TABLE_PHASES) * len(SEEK_FDS) * (len(SEEK_POINTERS) * len(SEEK_OFFSETS) * len(WHENCES)
                                                 + 2 * (len(SEEK_POINTERS) + len(MISALIGNED)))
N_RANDOM_CASES = len(PAGES) * len(RANDOM_LENGTHS) * len(RANDOM_POINTERS)
# poll_oneoff: the first subscription's tag and its clock id or fd (fds 0-2 are the guest's streams,
# kept in Python: always ready; the rest are never open), a clock's timing and flags; a second
# subscription or none; where the three buffers lie; how many subscriptions are asked for. C answers
# clocks already due and the streams' reads (stdin) and writes (stdout, stderr).
POLL_TAGS = (0, 1, 2, 7)  # clock, fd_read, fd_write, no such tag
POLL_IDS = (0, 1, 2, 3, 100, 0x0100_0001, 0xFFFF_FFFF)  # 0x0100_0001: monotonic in the low bytes alone
WAIT_NS = 100_000_000  # a clock due this long after it is read: the two runs of a case, both before it
POLL_TIMINGS = {  # name: (subclockflags, the timeout given the clock's reading just before the call)
    "relative 0": (0, lambda now: 0),
    "relative 1 ns": (0, lambda now: 1),
    "relative wait": (0, lambda now: WAIT_NS),
    "absolute 0": (1, lambda now: 0),
    "absolute passed": (1, lambda now: now - 1),
    "absolute now": (1, lambda now: now),
    "absolute wait": (1, lambda now: now + WAIT_NS),
    "flags 2": (2, lambda now: 0),
    "flags 3": (3, lambda now: 0),
    "flags 0xFFFF": (0xFFFF, lambda now: 0),
    "flags 0x100": (0x100, lambda now: 0),  # undefined bits in the high byte alone: flags are a u16
    "flags 0x8001": (0x8001, lambda now: 0),
}
DUE = ("relative 0", "absolute 0", "absolute passed", "absolute now")
IN_PROCESS_STREAMS = ((1, 0), (2, 1), (2, 2))  # (tag, fd): reading stdin, writing stdout or stderr
POLL_SECONDS = ("none", "due clock", "clock never due", "fd never open")
POLL_IN = (lambda s: 64, lambda s: 65, lambda s: 68, lambda s: s - 48, lambda s: s - 40, lambda s: 0xFFFF_FFF8)
POLL_OUT = (lambda s, i: 512, lambda s, i: 513, lambda s, i: 516, lambda s, i: s - 32, lambda s, i: s - 24,
            lambda s, i: i)
POLL_NEVENTS = (lambda s, i, o: 1024, lambda s, i, o: 1025, lambda s, i, o: 1026, lambda s, i, o: s - 4,
                lambda s, i, o: s - 2, lambda s, i, o: o, lambda s, i, o: i)
POLL_COUNTS = (0, 1, 2, 3, 0xFFFF_FFFF)  # over two subscriptions: none, fewer, both, more, past memory
N_POLL_CASES = (len(POLL_IDS) * len(POLL_SECONDS) * (len(POLL_TIMINGS) + len(POLL_TAGS) - 1)
                + len(PAGES) * len(POLL_IN) * len(POLL_OUT) * len(POLL_NEVENTS) + len(POLL_COUNTS))
POOL_DRAWS = 1024  # 16-byte draws straight from the library: 16 KiB, four refills of the one-page pool
POOL_SIZES = range(0, 300)  # through the pool's limit (256) and past it
POOL_PAGE_BYTES = 4096 - 16  # the pool's bytes: a page less its lock and count
THREAD_DRAWS = 50_000  # 16-byte draws by each of two threads at once
N_POOL_CASES = POOL_DRAWS + len(POOL_SIZES) + 2 * THREAD_DRAWS + 1  # pool_cases: draws, sizes, threads, the fork
N_CASES = N_CLOCK_CASES + N_RANDOM_CASES + N_POLL_CASES + N_STREAM_CASES + N_SEEK_CASES + N_POOL_CASES

GUEST_TEMPLATE = """(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $time (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $res (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_tell" (func $tell (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_rights" (func $rights (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  MEMORY
  (func (export "time") (param i32 i64 i32) (result i32) local.get 0 local.get 1 local.get 2 call $time)
  (func (export "res") (param i32 i32) (result i32) local.get 0 local.get 1 call $res)
  (func (export "yield") (result i32) call $yield)
  (func (export "random") (param i32 i32) (result i32) local.get 0 local.get 1 call $random)
  (func (export "seek") (param i32 i64 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $seek)
  (func (export "tell") (param i32 i32) (result i32) local.get 0 local.get 1 call $tell)
  (func (export "open") (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 local.get 6 local.get 7 local.get 8
    call $open)
  (func (export "close") (param i32) (result i32) local.get 0 call $close)
  (func (export "renumber") (param i32 i32) (result i32) local.get 0 local.get 1 call $renumber)
  (func (export "rights") (param i32 i64 i64) (result i32) local.get 0 local.get 1 local.get 2 call $rights)
  (func (export "flags") (param i32 i32) (result i32) local.get 0 local.get 1 call $flags)
  (func (export "fdstat") (param i32 i32) (result i32) local.get 0 local.get 1 call $fdstat)
  (func (export "poll") (param i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $poll)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"""
GUEST = GUEST_TEMPLATE.replace("MEMORY", '(memory (export "memory") 1)')


def c_source() -> str:
    """The C source under check: the tree's own `fastcalls.c`."""
    from vwasm import fastcalls
    return Path(fastcalls.__file__).with_name("fastcalls.c").read_text()


def build(source: str, out: Path) -> Path:
    """Compile `source` with the package build's compiler and flags (pyproject's ext-modules entry,
    built by setuptools' build_ext) into `out`; the library's path."""
    from setuptools import Distribution, Extension
    (entry,) = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]["ext-modules"]
    src = out / "fastcalls.c"
    src.write_text(source)
    ext = Extension("_fastcalls", [str(src)], extra_compile_args=entry.get("extra-compile-args", []))
    cmd = Distribution({"ext_modules": [ext], "script_name": "setup.py"}).get_command_obj("build_ext")
    cmd.build_lib, cmd.build_temp = str(out / "lib"), str(out / "tmp")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            cmd.ensure_finalized()
            cmd.run()
        except Exception as e:
            raise Counterexample(f"fastcalls.c does not build: {e}\n{err.getvalue()[-2000:]}") from None
    (path,) = Path(cmd.build_lib).glob("_fastcalls*")
    return path


@contextlib.contextmanager
def linked(library):
    """`vwasm.fastcalls.library()` answers `library` (a Library, or None: the handlers alone)."""
    from vwasm import fastcalls
    saved = list(fastcalls._loaded)
    fastcalls._loaded[:] = [library]
    try:
        yield
    finally:
        fastcalls._loaded[:] = saved


class Guest:
    """The guest above in a store of its own, WASI from `vwasm.define_wasi(config, host)`."""

    def __init__(self, engine, module, config=None, host=None, memory=True, box: str | None = None) -> None:
        import wasmtime

        import vwasm
        if box is not None:  # a preopen (fd 3) holding one file, "f", and a FIFO, "p"
            Path(box, "f").write_bytes(bytes(range(FILE_SIZE)))
            os.mkfifo(Path(box, "p"))
            config = config or vwasm.Config()
            config.preopen_dir(box, "/box")
        self.store = wasmtime.Store(engine)
        linker = wasmtime.Linker(engine)
        self.wasi = vwasm.define_wasi(linker, self.store, config, host=host)
        self.exports = linker.instantiate(self.store, module).exports(self.store)
        self.memory = self.exports["memory"] if memory else None

    def offsets(self) -> dict[int, tuple[int, int]]:
        """Where every file the guest holds stands, by guest number: its PosixHost position word
        (`POSITIONS`: a position kept in user space, or the kernel keeps it) and the kernel's offset
        (lseek(2) beside the guest; None for a FIFO)."""
        from vwasm.fdtable import FILE
        from vwasm.posix_host import _position

        def kernel(h: int) -> int | None:  # None: no offset (a FIFO)
            with contextlib.suppress(OSError):
                return os.lseek(h, 0, os.SEEK_CUR)
            return None
        return {fd: (_position(d.handle), kernel(d.handle)) for fd, d in self.wasi.cx.fds.items() if d.kind == FILE}

    def grow_to(self, pages: int) -> None:
        self.exports["grow"](self.store, pages - self.memory.size(self.store))

    def setup(self, name: str, *args) -> None:
        """One step building the descriptor table (`TABLE_PHASES`); it must succeed."""
        fillers = []
        if name == "open_at_edge":  # "f" opened while every host fd below EDGE is taken
            while (filler := os.open(os.devnull, os.O_RDONLY)) < EDGE:
                fillers.append(filler)
            os.close(filler)
            name = "open"
        if name in ("open", "open_fifo"):  # a FIFO opens without waiting for a writer (O_NONBLOCK first)
            self.memory.write(self.store, b"f" if name == "open" else b"p", PATH_AT)
            name = "open"
            args = (3, 0, PATH_AT, 1, 0, ALL_RIGHTS, ALL_RIGHTS, 0, FD_AT)
        result = self.exports[name](self.store, *args)
        for filler in fillers:
            os.close(filler)
        if result != 0:
            raise Counterexample(f"setting up the descriptor table: {name}{args} answered {result}")

    def call(self, name: str, *args, data: tuple[tuple[int, bytes], ...] = ()) -> tuple[str, object, bytes]:
        """Run one export over memory filled with FILL but for `data` ((address, bytes), written in
        order): (how it ended, its result or trap message, memory after)."""
        import wasmtime
        size = self.memory.data_len(self.store) if self.memory else 0
        if size:
            self.memory.write(self.store, bytes([FILL]) * size, 0)
        for address, chunk in data:
            self.memory.write(self.store, chunk, address)
        try:
            ending = ("errno", self.exports[name](self.store, *args))
        except (wasmtime.Trap, wasmtime.WasmtimeError) as e:  # a host's trap comes back as the error
            ending = ("trap", str(e))  # the same module both ways: the same backtrace
        return (*ending, bytes(self.memory.read(self.store, 0, size)) if size else b"")


def clock_case(guests, call: str, clock: int, args: tuple, ptr: int) -> bool:
    """Run one call in both guests (C entries, handlers alone) and compare; whether it succeeded."""
    fast, slow = guests
    posix = POSIX_CLOCKS[clock] if clock < len(POSIX_CLOCKS) else None
    runs = []
    for guest in (fast, slow):
        before = time.clock_gettime_ns(posix) if posix is not None else None
        kind, result, memory = guest.call(call, *args)
        after = time.clock_gettime_ns(posix) if posix is not None else None
        runs.append((kind, result, memory, before, after))
    where = f"{call}{args} over {len(runs[0][2]) // PAGE} page(s)"
    (kind, result, memory, before, after), (skind, sresult, smemory, _, _) = runs
    if (kind, result) != (skind, sresult):
        raise Counterexample(f"{where}: with the C entries {kind} {result!r}, with the handlers {skind} {sresult!r}")
    if kind != "errno" or result != 0:
        if memory != smemory:
            raise Counterexample(f"{where}: failed ({kind} {result!r}) but changed memory with the C entries")
        return False
    outside = memory[:ptr] + memory[ptr + 8:], smemory[:ptr] + smemory[ptr + 8:]
    if outside[0] != outside[1] or outside[0] != bytes([FILL]) * len(outside[0]):
        raise Counterexample(f"{where}: the C entries wrote outside the 8 bytes at {ptr:#x}")
    value, svalue = (int.from_bytes(m[ptr:ptr + 8], "little") for m in (memory, smemory))
    if call == "time" and not before <= value <= after:
        raise Counterexample(f"{where}: the C entry stored {value}, not a reading of clock {clock} "
                             f"(between {before} and {after})")
    if call == "res" and value != svalue:
        raise Counterexample(f"{where}: the C entry's resolution {value}, the handler's {svalue}")
    return True


CASE_LIMIT = 10  # seconds between two lines of the cases' process (a case takes ~1 ms, a line under 1 s): a hang


def run_cases_apart(path: Path) -> tuple[int, int, int]:
    """`run_cases` and `pool_cases` over the library at `path` in a process of its own: a C entry that
    writes where it must not may crash the process, or one that never returns hang it, and that is a
    counterexample too, not the end of the run. (cases from wasm, successes among them, draws of the
    random pool checked)"""
    errors = tempfile.TemporaryFile("w+")  # not a pipe: a full one would stall the child
    child = subprocess.Popen([sys.executable, "-m", "proofs.host.fastcalls", str(path)], cwd=HERE,
                             stdout=subprocess.PIPE, stderr=errors, text=True)
    lines: list[dict] = []
    try:
        while True:
            if not select.select([child.stdout], [], [], CASE_LIMIT)[0]:
                last = lines[-1]["case"] if lines else "before the first case"
                raise Counterexample(f"the cases' process hung: nothing for {CASE_LIMIT} s after {last}")
            line = child.stdout.readline()
            if not line:
                break
            if line.startswith("{"):
                lines.append(json.loads(line))
        child.wait(timeout=CASE_LIMIT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        errors.seek(0)
        stderr = errors.read()
        errors.close()
    if child.returncode != 0 or not lines:
        last = lines[-1]["case"] if lines else "before the first case"
        raise Counterexample(f"the cases' process ended with status {child.returncode} (after {last}): "
                             f"{stderr.strip()[-600:]}")
    if "counterexample" in lines[-1]:
        raise Counterexample(lines[-1]["counterexample"])
    return lines[-1]["cases"], lines[-1]["successes"], lines[-1]["pool"]


def run_cases(engine, module, library) -> tuple[int, int]:
    """Every case in both guests; (cases, successes). The C entries must answer every success and
    nothing else (the handlers decide every error and trap)."""
    with linked(library):
        fast = Guest(engine, module)
    with linked(None):
        slow = Guest(engine, module)
    cases = successes = 0
    try:
        for pages in PAGES:
            for guest in (fast, slow):
                guest.grow_to(pages)
            size = pages * PAGE
            for clock in CLOCK_IDS:
                for pointer in POINTERS:
                    ptr = pointer(size) & 0xFFFF_FFFF
                    calls = [("time", (clock, p, ptr)) for p in PRECISIONS] + [("res", (clock, ptr))]
                    for call, args in calls:
                        where = begin(f"{call}{args} over {pages} page(s)")
                        served = library.served()
                        ok = clock_case((fast, slow), call, clock, _signed(args, WIDTHS[call]), ptr)
                        answered(library, where, ok, served)
                        cases += 1
                        successes += ok
            for done in (random_cases((fast, slow), library, size),
                         poll_cases((fast, slow), library, size, everything=pages == PAGES[0])):
                cases, successes = cases + done[0], successes + done[1]
            served = library.served()
            if (fast.call("yield")[:2], slow.call("yield")[:2]) != (("errno", 0), ("errno", 0)) or \
                    library.served() - served != 1:
                raise Counterexample("sched_yield: not SUCCESS from the C entry and the handler alike")
            cases += 1
            successes += 1
    finally:
        fast.wasi.close()
        slow.wasi.close()
    from proofs.host.poll_streams import stream_cases
    for done in (table_cases(engine, module, library), stream_cases(engine, module, library)):
        cases, successes = cases + done[0], successes + done[1]
    return cases + memoryless_cases(engine, library), successes


def begin(case: str) -> str:
    """Say which case the cases' process begins (its last words if it crashes or hangs); the case."""
    print(json.dumps({"case": case}), flush=True)
    return case


def answered(library, where: str, ok: bool, served: int) -> None:
    """The C entries answered exactly this call if it succeeded, and nothing otherwise."""
    if library.served() - served != ok:
        raise Counterexample(f"{where}: the C entry answered {library.served() - served} time(s), the call "
                             f"{'succeeded' if ok else 'failed'}")


def random_cases(guests, library, size: int) -> tuple[int, int]:
    """random_get at every length and pointer: the same ending both ways; nothing written but the buffer
    (and by a failure nothing at all); a buffer of 16 bytes or more filled (not left as it was)."""
    cases = successes = 0
    for n in RANDOM_LENGTHS:
        for pointer in RANDOM_POINTERS:
            ptr = pointer(size, n) & 0xFFFF_FFFF
            where = begin(f"random_get({ptr:#x}, {n}) over {size // PAGE} page(s)")
            served = library.served()
            (kind, result, memory), (skind, sresult, smemory) = (g.call("random", *_signed((ptr, n), (32, 32)))
                                                                 for g in guests)
            if (kind, result) != (skind, sresult):
                raise Counterexample(f"{where}: with the C entries {kind} {result!r}, with the handlers {skind} {sresult!r}")
            ok = kind == "errno" and result == 0
            answered(library, where, ok, served)
            untouched = bytes([FILL]) * size
            for m, who in ((memory, "the C entries"), (smemory, "the handlers")):
                if not ok and m != untouched:
                    raise Counterexample(f"{where}: failed ({kind} {result!r}) but {who} changed memory")
                if ok and m[:ptr] + m[ptr + n:] != untouched[:size - n]:
                    raise Counterexample(f"{where}: {who} wrote outside the buffer")
                if ok and n >= 16 and m[ptr:ptr + n] == untouched[:n]:
                    raise Counterexample(f"{where}: {who} left the buffer as it was")
            if ok and 0 < n < 16:  # a short buffer may keep its bytes once; 32 times: 2^-256
                for g, who in ((guests[0], "the C entries"), (guests[1], "the handlers")):
                    if all(g.call("random", *_signed((ptr, n), (32, 32)))[2][ptr:ptr + n] == untouched[:n]
                           for _ in range(32)):
                        raise Counterexample(f"{where}: {who} never filled the buffer in 32 calls")
            cases += 1
            successes += ok
    return cases, successes


USERDATA = 0x0123_4567_89AB_CDEF


def subscription(userdata: int, tag: int, ident: int, flags: int = 0, timeout: int = 0) -> bytes:
    """A preview1 subscription, laid out by model/wasi.py: a clock's id, timeout and flags, or an fd."""
    from vwasm.model.wasi import SUBSCRIPTION, SUBSCRIPTION_CLOCK, SUBSCRIPTION_FD, SUBSCRIPTION_UNION_OFFSET
    head = SUBSCRIPTION.codec.pack(userdata, tag)[:SUBSCRIPTION_UNION_OFFSET]
    body = (SUBSCRIPTION_CLOCK.codec.pack(ident, timeout & (1 << 64) - 1, 0, flags) if tag == 0
            else SUBSCRIPTION_FD.codec.pack(ident))
    return (head + body).ljust(SUBSCRIPTION.size, bytes(1))


def clock_now(ident: int) -> int:
    """The host's reading of preview1 clock `ident` (0 for an id that is no clock)."""
    return time.clock_gettime_ns(POSIX_CLOCKS[ident]) if ident < len(POSIX_CLOCKS) else 0


def poll_case(guests, library, where: str, args: tuple, data: tuple, clock: tuple | None,
              by_c: bool | None) -> bool:
    """One poll_oneoff both ways: the same ending and memory; answered by the C entry exactly when it
    succeeds and `by_c` (None: it may be, a clock that may come due before the call); and the event of
    the first subscription, a clock (`clock`: its id, flags and timeout), never before its time.
    Whether it succeeded."""
    served = library.served()
    runs = []
    for g in guests:
        before = clock_now(clock[0]) if clock else 0
        kind, result, memory = g.call("poll", *_signed(args, WIDTHS["poll"]), data=data)
        runs.append((kind, result, memory, before, clock_now(clock[0]) if clock else 0))
    (kind, result, memory, _, _), (skind, sresult, smemory, _, _) = runs
    if (kind, result) != (skind, sresult) or memory != smemory:
        raise Counterexample(f"{where}: with the C entries {kind} {result!r}, with the handlers {skind} "
                             f"{sresult!r}{'' if memory == smemory else ', and memory differs'}")
    ok = (kind, result) == ("errno", 0)
    if by_c is not None and library.served() - served != (ok and by_c):
        raise Counterexample(f"{where}: the C entry answered {library.served() - served} time(s); it answers "
                             "exactly the successful polls that need not wait")
    _, out, _, nevents = args
    reported = memory[nevents:nevents + 4] != bytes(4) and memory[out:out + 8] == USERDATA.to_bytes(8, "little")
    if ok and clock and reported:
        _, flags, timeout = clock
        for _, _, _, before, after in runs:
            if (after if flags else after - before) < timeout:
                raise Counterexample(f"{where}: the clock's event came before its time ({after - before} ns "
                                     f"after the call began)")
    return ok


def poll_cases(guests, library, size: int, everything: bool) -> tuple[int, int]:
    """poll_oneoff from wasm over `size` bytes of memory: a due clock with its buffers at misalignments,
    flush with the end of memory, straddling it, past it and overlapping each other; with `everything`
    also every tag, clock id or fd, timing and flags of a first subscription, alone or with a second,
    and each count of subscriptions. (cases, successes answered by C)"""
    cases = successes = 0
    seconds = {"none": b"", "due clock": subscription(USERDATA + 1, 0, 1),
               "clock never due": subscription(USERDATA + 1, 0, 1, 1, (1 << 64) - 1),
               "fd never open": subscription(USERDATA + 1, 1, 100)}
    firsts = [(0, ident, timing) for ident in POLL_IDS for timing in POLL_TIMINGS]
    firsts += [(tag, ident, None) for tag in POLL_TAGS[1:] for ident in POLL_IDS]
    for tag, ident, timing in firsts if everything else ():
        flags, timeout_of = POLL_TIMINGS.get(timing, (0, None))
        for second, more in seconds.items():
            timeout = timeout_of(clock_now(ident)) if timing else 0
            subs = subscription(USERDATA, tag, ident, flags, timeout) + more
            clock = (ident, flags, timeout) if tag == 0 and ident < 2 and flags < 2 else None
            first_by_c = clock is not None and timing in DUE or (tag, ident) in IN_PROCESS_STREAMS
            by_c = first_by_c and second in ("none", "due clock")
            if clock is not None and timing == "absolute wait" and second in ("none", "due clock"):
                by_c = None  # due WAIT_NS after it was read: a process held up that long may find it due
            where = begin(f"poll_oneoff: tag {tag}, id {ident}, {timing}, then {second}")
            count = len(subs) // len(seconds["due clock"])
            ok = poll_case(guests, library, where, (64, 512, count, 1024), ((64, subs),), clock, by_c)
            cases, successes = cases + 1, successes + bool(ok and by_c)
    due = subscription(USERDATA, 0, 1)
    for place_in in POLL_IN:
        at_in = place_in(size) & 0xFFFF_FFFF
        for place_out in POLL_OUT:
            out = place_out(size, at_in) & 0xFFFF_FFFF
            for place_nevents in POLL_NEVENTS:
                nevents = place_nevents(size, at_in, out) & 0xFFFF_FFFF
                where = begin(f"poll_oneoff({at_in:#x}, {out:#x}, 1, {nevents:#x}) over {size // PAGE} page(s)")
                # what of the subscription lies in memory is written: an entry reading past its end shows
                ok = poll_case(guests, library, where, (at_in, out, 1, nevents),
                               ((at_in, due[:size - at_in]),) if at_in < size else (), (1, 0, 0), True)
                cases, successes = cases + 1, successes + ok
    for count in POLL_COUNTS if everything else ():
        where = begin(f"poll_oneoff of {count} subscriptions")
        by_c = count in (1, 2)  # one or two clocks due; a third is FILL, no subscription
        ok = poll_case(guests, library, where, (64, 512, count, 1024), ((64, due + seconds["due clock"]),),
                       (1, 0, 0), by_c)
        cases, successes = cases + 1, successes + (ok and by_c)
    return cases, successes


def tables_problem(guests) -> str | None:
    """What C reads of a guest's table, or PosixHost's position words, that the guests' tables do not
    say (refinement/machine.py's checks), or None."""
    from proofs.refinement.machine import files_view_problem, positions_problem
    tables = [g.wasi.cx.fds for g in guests]
    return next(filter(None, map(files_view_problem, tables)), None) or positions_problem(*tables)


def seek_cases(guests, library, size: int, phase: int) -> tuple[int, int]:
    """fd_seek, fd_tell and fd_fdstat_get on every descriptor of the table as `TABLE_PHASES[phase]`
    left it: the same ending, memory and host offset of every file both ways."""
    cases = successes = 0
    calls = [("seek", (fd, off & (1 << 64) - 1, whence, p(size) & 0xFFFF_FFFF)) for fd in SEEK_FDS for off in SEEK_OFFSETS
             for whence in WHENCES for p in SEEK_POINTERS]
    calls += [(call, (fd, p(size) & 0xFFFF_FFFF)) for call in ("tell", "fdstat") for fd in SEEK_FDS
              for p in SEEK_POINTERS + MISALIGNED]
    for call, args in calls:
        where = begin(f"fd_{call}{args} in table phase {phase}")
        served = library.served()
        endings = [g.call(call, *_signed(args, WIDTHS[call])) for g in guests]
        offsets = [g.offsets() for g in guests]
        if endings[0] != endings[1]:
            (kind, result, _), (skind, sresult, _) = endings
            raise Counterexample(f"{where}: with the C entries {kind} {result!r}, with the handlers {skind} "
                                 f"{sresult!r} (or memory differs)")
        if offsets[0] != offsets[1]:
            raise Counterexample(f"{where}: positions (word, kernel offset) {offsets[0]} with the C entries, "
                                 f"{offsets[1]} with the handlers")
        problem = tables_problem(guests)
        if problem:
            raise Counterexample(f"{where}: {problem}")
        ok = endings[0][:2] == ("errno", 0)
        answered(library, where, ok, served)
        cases += 1
        successes += ok
    return cases, successes


def pool_cases(path: Path) -> int:
    """`vwasm_fast_random`, random_get's source, called directly: every draw succeeds; 16-byte draws
    across several refills are all different and none is zero (each byte handed out once), also
    when two threads draw at once; a draw of 16 bytes or more is never zero; and after a fork the
    child's bytes are not the parent's (the pool is wiped in the child). The number of draws checked."""
    import ctypes
    draw = ctypes.CDLL(str(path)).vwasm_fast_random
    draw.restype, draw.argtypes = ctypes.c_bool, [ctypes.c_char_p, ctypes.c_uint32]

    begin("draws of random_get's pool")

    def take(n: int) -> bytes:
        buf = ctypes.create_string_buffer(n)
        if not draw(buf, n):
            raise Counterexample(f"vwasm_fast_random({n}) failed")
        return buf.raw

    refills = ctypes.CDLL(str(path)).vwasm_fast_refills
    refills.restype = ctypes.c_uint64
    before = refills()
    seen = {take(16) for _ in range(POOL_DRAWS)}
    if len(seen) != POOL_DRAWS or bytes(16) in seen:
        raise Counterexample(f"{POOL_DRAWS} draws of 16 bytes: {POOL_DRAWS - len(seen)} repeated, or one zero")
    # The pool serves them (Linux 4.14+ has MADV_WIPEONFORK): a page refilled only when it runs short.
    if not 0 < refills() - before <= POOL_DRAWS * 16 // POOL_PAGE_BYTES + 1:
        raise Counterexample(f"{POOL_DRAWS} draws of 16 bytes refilled the pool {refills() - before} times "
                             f"(it holds {POOL_PAGE_BYTES} bytes)")
    for n in POOL_SIZES:
        if take(n) == bytes(n) and n >= 16:
            raise Counterexample(f"a draw of {n} bytes was all zero")
    begin("two threads drawing from random_get's pool")
    # Two threads drawing at once (ctypes lets go of the GIL): no byte string drawn twice.
    drawn: list[list[bytes]] = [[], []]
    threads = [threading.Thread(target=lambda out=out: out.extend(take(16) for _ in range(THREAD_DRAWS)))
               for out in drawn]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(set(drawn[0] + drawn[1])) != 2 * THREAD_DRAWS:
        raise Counterexample(f"two threads' {THREAD_DRAWS} draws of 16 bytes each: some drawn twice")
    begin("a fork between draws from random_get's pool")
    take(16)  # the pool holds bytes now: a child that kept them would hand them out next
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next bytes, then out
        try:
            os.write(w, take(16) + take(16))
        finally:
            os._exit(0)
    os.close(w)
    ours = take(16) + take(16)
    theirs = b""
    deadline = time.monotonic() + 30
    while len(theirs) < 32 and time.monotonic() < deadline:
        if select.select([r], [], [], 1)[0]:
            chunk = os.read(r, 32)
            if not chunk:
                break
            theirs += chunk
    os.close(r)
    os.waitpid(pid, 0)
    if len(theirs) != 32:
        raise Counterexample("a forked child could not draw random bytes (a lock held across the fork?)")
    if theirs == ours:
        raise Counterexample("after a fork, the child drew the parent's random bytes")
    return N_POOL_CASES


def first_call(guest, library) -> None:
    """The library's first offset call on a file is answered by C (nothing is left to set up on it)
    and the file is host fd 0."""
    served = library.served()
    if guest.call("tell", 4, 8)[:2] != ("errno", 0) or library.served() - served != 1:
        raise Counterexample("the first fd_tell of a file was not answered by the C entry")
    if guest.wasi.cx.fds.get(4).handle != 0:
        raise Counterexample("set-up: the first file is not host fd 0 (fd 0 was not free)")


def narrow_positions() -> None:
    """In the cases' process, before the library is loaded: PosixHost keeps positions for host fds
    below EDGE only, in a buffer whose next word reads as the kept position POISON."""
    import ctypes

    from vwasm import posix_host
    words = (ctypes.c_int64 * (EDGE + 1))()
    words[EDGE] = ~POISON
    posix_host.POSITIONS = memoryview(words).cast("B").cast("q")[:EDGE]
    posix_host.TRACKED_FDS = EDGE


def fence(table, host_fd: int) -> None:
    """Move C's view of `table` (`FdTable.files`) into storage with one more number, VIEW, naming
    `host_fd` with every right, as every kind: an entry reading the view one number too far serves VIEW, which the
    table does not hold."""
    import ctypes

    from vwasm.fdtable import WORDS
    count = table.files.count
    if count != VIEW:
        raise Counterexample(f"set-up: C's view of the table holds {count} numbers, not {VIEW}")
    words = (ctypes.c_int64 * (WORDS * (count + 1)))()
    ctypes.memmove(words, table.files.words, 8 * WORDS * count)
    words[WORDS * count:] = [host_fd, -1, -1]  # every right, every kind
    table._storage, table._words = words, memoryview(words).cast("B").cast("q")[:WORDS * count]
    table.files.words = ctypes.addressof(words)


def table_cases(engine, module, library) -> tuple[int, int]:
    """`seek_cases` in each phase of `TABLE_PHASES`, guests over a preopen of their own each."""
    cases = successes = 0
    with (tempfile.TemporaryDirectory() as fast_box, tempfile.TemporaryDirectory() as slow_box,
          contextlib.ExitStack() as stack):
        guests = []
        for lib, box in ((library, fast_box), (None, slow_box)):
            with linked(lib):
                guests.append(Guest(engine, module, box=box))
        try:
            # The C entries' first file is the host's fd 0 (a process may run without a stdin):
            # a test of a host fd that refuses 0 shows.
            beyond = os.open(Path(fast_box, "f"), os.O_RDONLY)  # the file past the view's end (`fence`)
            stack.callback(os.close, beyond)
            with contextlib.suppress(OSError):
                os.close(0)
            for phase, steps in enumerate(TABLE_PHASES):
                for step in steps:
                    for g in guests:
                        g.setup(*step)
                    problem = tables_problem(guests)
                    if problem:
                        raise Counterexample(f"after {step} in table phase {phase}: {problem}")
                fence(guests[0].wasi.cx.fds, beyond)
                if phase == 0:
                    first_call(guests[0], library)
                done = seek_cases(guests, library, PAGE, phase)
                cases, successes = cases + done[0], successes + done[1]
        finally:
            for g in guests:
                g.wasi.close()
    return cases, successes


def memoryless_cases(engine, library) -> int:
    """Guests without a `memory` memory: every call ends alike with and without the C entries, none
    answered by them (a call that would write traps; seek and tell on stdin fail first, ESPIPE)."""
    import wasmtime
    cases = 0
    calls = (("time", (0, 0, 8), "trap"), ("time", (1, 0, 0), "trap"), ("res", (0, 8), "trap"),
             ("random", (8, 8), "trap"), ("fdstat", (0, 8), "trap"), ("seek", (0, 0, 1, 8), "errno"),
             ("tell", (0, 8), "errno"), ("poll", (64, 512, 1, 1024), "trap"))
    for what, memory in MEMORYLESS.items():
        module = wasmtime.Module(engine, GUEST_TEMPLATE.replace("MEMORY", memory))
        guests = []
        for lib in (library, None):
            with linked(lib):
                guests.append(Guest(engine, module, memory=False))
        try:
            for call, args, expected in calls:
                served = library.served()
                endings = [g.call(call, *args)[:2] for g in guests]
                if endings[0] != endings[1] or endings[0][0] != expected or library.served() != served:
                    raise Counterexample(f"{call}{args} in a guest with {what}: with the C entries {endings[0]}, "
                                         f"with the handlers {endings[1]} (a {expected} expected, from the handler)")
                cases += 1
        finally:
            for g in guests:
                g.wasi.close()
    return cases


N_MEMORYLESS = 8 * len(MEMORYLESS)


def check_layouts(path: Path) -> int:
    """vwasm_fast_init refuses what it cannot serve: an extern larger than its room, a raw value that
    is not whole u64s; it accepts a layout that fits."""
    import ctypes
    dll = ctypes.CDLL(str(path))  # before any Library loads it (whose init sets the real layout again)
    init = dll.vwasm_fast_init
    init.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_size_t, ctypes.c_size_t, ctypes.c_uint, ctypes.c_size_t]
    for extern_size, raw_size in LAYOUTS_REFUSED:
        if init(None, None, None, None, extern_size, 8, 3, raw_size) == 0:
            raise Counterexample(f"vwasm_fast_init accepted an extern of {extern_size} bytes, raw values of "
                                 f"{raw_size}")
    extern_size, raw_size = LAYOUT_ACCEPTED
    if init(None, None, None, None, extern_size, 8, 3, raw_size) != 0:
        raise Counterexample(f"vwasm_fast_init refused an extern of {extern_size} bytes, raw values of {raw_size}")
    return len(LAYOUTS_REFUSED) + 1


WIDTHS = {"time": (32, 64, 32), "res": (32, 32), "seek": (32, 64, 32, 32), "tell": (32, 32), "fdstat": (32, 32),
          "poll": (32, 32, 32, 32)}  # the exports' parameters: i32 or i64


def _signed(args: tuple[int, ...], widths: tuple[int, ...]) -> tuple[int, ...]:
    """Unsigned arguments as wasmtime-py takes them for i32/i64 parameters."""
    return tuple(v - (1 << w) if v >> (w - 1) else v for v, w in zip(args, widths))


def check_selection(engine, module, library) -> int:
    """Where the C entries must not be used: in audit mode (every call must be seen) and over a
    host other than PosixHost (whose clocks C reads). Each is run and must leave the count alone.
    And where they are: a module importing any served call links them, one importing none does not."""
    import vwasm
    from vwasm import fastcalls
    from vwasm.model_host import ModelHost
    audited = vwasm.Config()
    audited.enable_audit()
    cases = 0
    with linked(library):
        for what, config, host in (("audit mode", audited, None), ("ModelHost", None, ModelHost())):
            guest = Guest(engine, module, config, host)
            served = library.served()
            try:
                endings = [guest.call(*call)[:2] for call in
                           (("time", 1, 0, 64), ("res", 1, 64), ("yield",), ("random", 64, 16), ("fdstat", 1, 64),
                            ("tell", 1, 64))]
                endings.append(guest.call("poll", 64, 512, 1, 1024, data=((64, subscription(USERDATA, 0, 1)),))[:2])
            finally:
                guest.wasi.close()
            if endings != [("errno", 0)] * 5 + [("errno", Errno.SPIPE), ("errno", 0)]:
                raise Counterexample(f"{what}: the calls ended {endings}")
            if library.served() != served:
                raise Counterexample(f"{what}: the C entries answered calls they must leave to the handlers")
            cases += 1
        # A module's own imports decide (`only`): any served import links the library, none does not.
        from vwasm.posix_host import PosixHost
        for only, used in ((frozenset({"fd_write", "sched_yield"}), True), (frozenset({"fd_write"}), False),
                           (None, True)):
            if (fastcalls.serving(PosixHost(), None, only) is library) != used:
                raise Counterexample(f"a module importing {sorted(only or ['everything'])}: the C entries "
                                     f"{'not ' if used else ''}linked")
            cases += 1
    return cases


@obligation("host.fastcalls", family=HOST, tool="enumeration", guarantee="1 memory isolation, 5 no host crash",
            bound=f"{N_CASES - N_POOL_CASES} cases from real wasm, with the C entries and with the handlers alone: "
                  f"{N_CLOCK_CASES} clock (call, id, precision, pointer, memory size), {N_RANDOM_CASES} random_get "
                  f"(length, pointer, memory size), {N_POLL_CASES} poll_oneoff (subscriptions, timing, pointers, "
                  f"count), {N_STREAM_CASES} poll_oneoff of streams and a socket (subscriptions, state, rights), "
                  f"{N_SEEK_CASES} fd_seek/fd_tell (table state, descriptor, "
                  f"offset, whence, pointer); {N_POOL_CASES} draws of random_get's pool, a fork among them; "
                  "guests without a memory; audit mode, ModelHost and modules importing none of them; the init's layouts",
            budget=90)
def fast_calls() -> Outcome:
    """The C entries (`impl/fastcalls.c`), built from the tree's source as the package is, against the
    Python handlers they stand in for, from real wasm. Each call ends alike both ways (the same errno,
    or the same trap), with memory alike, and the C entries answer exactly the successes, so every
    error and trap is the handler's:
    - `clock_time_get`, `clock_res_get`, `sched_yield`: every preview1 clock id and others (the top bit
      set), precisions, pointers at every misalignment, flush with the end of memory, straddling it,
      past it, wrapping, over memory as declared and after a grow; a time lies between the host's own
      readings of that clock just before and after the call, a resolution is the handler's;
    - `random_get`: lengths up to a page (past 256 bytes getrandom may return short), buffers flush with
      the end, one byte past it, wrapping; nothing is written outside the buffer, and a buffer of 16
      bytes or more is filled; its pool of kernel bytes, drawn from directly, hands out each byte once
      (16-byte draws across several refills all differ, none is zero, two threads drawing at once
      included) and none to a forked child that its parent holds;
    - `poll_oneoff`: a first subscription of every tag, clock ids and fds, relative and absolute
      timeouts already due, due within 1 ns or 100 ms, undefined flags, alone or with a second (a due
      clock, a clock never due, an fd never open); its buffers misaligned, flush with the end of
      memory, straddling it, past it, overlapping; every count up to past memory; and of streams and
      a socket with host fds (`poll_streams`): every subscription alone and every pair, in three
      states of readiness, with the rights and without. C answers exactly the successful polls that
      need not wait, of clocks already due and streams holding the rights, and no clock's event comes
      before its time;
    - `fd_seek`, `fd_tell` and `fd_fdstat_get`, over a descriptor table the guest builds and changes:
      the standard streams, the preopened directory, files holding every right, only the right to ask
      where they are, only the right to move (and append, non-blocking flags), a number freed by
      fd_close, a file moved by fd_renumber onto an open number, then closed, numbers never opened;
      every whence and undefined ones, offsets before the start, past the end and at the s64 limits:
      the host offset of every file stays alike too;
    - guests whose `memory` export is missing or not a memory.
    In audit mode and over a host other than PosixHost, they answer nothing; their init refuses a
    wasmtime layout it cannot serve."""
    import wasmtime

    from vwasm import fastcalls
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vwasm-fastcalls-") as tmp:
        path = build(c_source(), Path(tmp))
        layouts = check_layouts(path)
        cases, successes, pool = run_cases_apart(path)
        engine = wasmtime.Engine()
        selection = check_selection(engine, wasmtime.Module(engine, GUEST), fastcalls.Library(str(path)))
    if cases + pool < N_CASES + N_MEMORYLESS or not 0 < successes < cases:
        raise TooLittleEvidence(f"{cases} cases, {successes} successes, {pool} draws")
    return Outcome(f"{cases} cases from wasm ({successes} answered by the C entries, {cases - successes} passed "
                   f"to the handlers) end alike with and without them; {pool} draws of random_get's pool "
                   f"(distinct, never zero, not shared with a forked child); {selection} configurations (audit mode, ModelHost, which imports a module has) link them or not as they must; "
                   f"{layouts} layouts refused or accepted as they must be "
                   f"({time.perf_counter() - t0:.1f} s)", status="checked")


def main(path: str) -> None:
    """The cases' process: one JSON line per case begun, then the totals or the counterexample."""
    import wasmtime

    from vwasm import fastcalls
    begin("compiling the guest")
    engine = wasmtime.Engine()
    narrow_positions()
    try:
        cases, successes = run_cases(engine, wasmtime.Module(engine, GUEST), fastcalls.Library(path))
        pool = pool_cases(Path(path))
    except Counterexample as e:
        print(json.dumps({"counterexample": str(e)}))
    else:
        print(json.dumps({"cases": cases, "successes": successes, "pool": pool}))


if __name__ == "__main__":
    sys.modules["proofs.host.fastcalls"] = sys.modules[__name__]  # poll_streams' helpers are this module's: run once
    main(sys.argv[1])
