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
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from proofs.core import HOST, Counterexample, Outcome, TooLittleEvidence, obligation

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
N_CASES = len(PAGES) * (len(CLOCK_IDS) * len(POINTERS) * (len(PRECISIONS) + 1) + 1)
# Guests whose `memory` export is missing or not a memory: the handler traps (it has no memory).
MEMORYLESS = {
    "no memory export": '(memory 1)',
    "a global named memory": '(memory 1) (global (export "memory") i32 (i32.const 0))',
}
# (extern size, raw value size) that vwasm_fast_init must refuse (its room is 64 bytes; a raw value
# is whole u64s), and one it must accept.
LAYOUTS_REFUSED = ((65, 16), (32, 12), (32, 0))
LAYOUT_ACCEPTED = (64, 16)

GUEST_TEMPLATE = """(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $time (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $res (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  MEMORY
  (func (export "time") (param i32 i64 i32) (result i32) local.get 0 local.get 1 local.get 2 call $time)
  (func (export "res") (param i32 i32) (result i32) local.get 0 local.get 1 call $res)
  (func (export "yield") (result i32) call $yield)
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

    def __init__(self, engine, module, config=None, host=None, memory=True) -> None:
        import wasmtime

        import vwasm
        self.store = wasmtime.Store(engine)
        linker = wasmtime.Linker(engine)
        self.wasi = vwasm.define_wasi(linker, self.store, config, host=host)
        self.exports = linker.instantiate(self.store, module).exports(self.store)
        self.memory = self.exports["memory"] if memory else None

    def grow_to(self, pages: int) -> None:
        self.exports["grow"](self.store, pages - self.memory.size(self.store))

    def call(self, name: str, *args) -> tuple[str, object, bytes]:
        """Run one export over memory filled with FILL: (how it ended, its result or trap message, memory after)."""
        import wasmtime
        size = self.memory.data_len(self.store) if self.memory else 0
        if size:
            self.memory.write(self.store, bytes([FILL]) * size, 0)
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


def run_cases_apart(path: Path) -> tuple[int, int]:
    """`run_cases` over the library at `path` in a process of its own: a C entry that writes where it
    must not may crash the process, and that is a counterexample too, not the end of the run."""
    done = subprocess.run([sys.executable, "-m", "proofs.host.fastcalls", str(path)], cwd=HERE,
                          capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        last = lines[-1]["case"] if lines else "before the first case"
        raise Counterexample(f"the cases' process ended with status {done.returncode} (after {last}): "
                             f"{done.stderr.strip()[-600:]}")
    if "counterexample" in lines[-1]:
        raise Counterexample(lines[-1]["counterexample"])
    return lines[-1]["cases"], lines[-1]["successes"]


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
                        print(json.dumps({"case": f"{call}{args} over {pages} page(s)"}), flush=True)
                        served = library.served()
                        ok = clock_case((fast, slow), call, clock, _signed(args, WIDTHS[call]), ptr)
                        if library.served() - served != ok:
                            raise Counterexample(f"{call}{args} over {pages} page(s): the C entry answered "
                                                 f"{library.served() - served} time(s), the call "
                                                 f"{'succeeded' if ok else 'failed'}")
                        cases += 1
                        successes += ok
            served = library.served()
            if (fast.call("yield")[:2], slow.call("yield")[:2]) != (("errno", 0), ("errno", 0)) or \
                    library.served() - served != 1:
                raise Counterexample("sched_yield: not SUCCESS from the C entry and the handler alike")
            cases += 1
            successes += 1
    finally:
        fast.wasi.close()
        slow.wasi.close()
    return cases + memoryless_cases(engine, library), successes


def memoryless_cases(engine, library) -> int:
    """Guests without a `memory` memory: every clock call traps alike with and without the C entries,
    none answered by them."""
    import wasmtime
    cases = 0
    for what, memory in MEMORYLESS.items():
        module = wasmtime.Module(engine, GUEST_TEMPLATE.replace("MEMORY", memory))
        guests = []
        for lib in (library, None):
            with linked(lib):
                guests.append(Guest(engine, module, memory=False))
        try:
            for call, args in (("time", (0, 0, 8)), ("time", (1, 0, 0)), ("res", (0, 8))):
                served = library.served()
                endings = [g.call(call, *args)[:2] for g in guests]
                if endings[0] != endings[1] or endings[0][0] != "trap" or library.served() != served:
                    raise Counterexample(f"{call}{args} in a guest with {what}: with the C entries {endings[0]}, "
                                         f"with the handlers {endings[1]} (a trap expected, from the handler)")
                cases += 1
        finally:
            for g in guests:
                g.wasi.close()
    return cases


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


WIDTHS = {"time": (32, 64, 32), "res": (32, 32)}  # the exports' parameters: i32 or i64


def _signed(args: tuple[int, ...], widths: tuple[int, ...]) -> tuple[int, ...]:
    """Unsigned arguments as wasmtime-py takes them for i32/i64 parameters."""
    return tuple(v - (1 << w) if v >> (w - 1) else v for v, w in zip(args, widths))


def check_selection(engine, module, library) -> int:
    """Where the C entries must not be used: in audit mode (every call must be seen) and over a
    host other than PosixHost (whose clocks C reads). Each is run and must leave the count alone."""
    import vwasm
    from vwasm.model_host import ModelHost
    audited = vwasm.Config()
    audited.enable_audit()
    cases = 0
    with linked(library):
        for what, config, host in (("audit mode", audited, None), ("ModelHost", None, ModelHost())):
            guest = Guest(engine, module, config, host)
            served = library.served()
            try:
                endings = [guest.call("time", 1, 0, 64)[:2], guest.call("res", 1, 64)[:2], guest.call("yield")[:2]]
            finally:
                guest.wasi.close()
            if endings != [("errno", 0)] * 3:
                raise Counterexample(f"{what}: the calls ended {endings}")
            if library.served() != served:
                raise Counterexample(f"{what}: the C entries answered calls they must leave to the handlers")
            cases += 1
    return cases


@obligation("host.fastcalls", family=HOST, tool="enumeration", guarantee="1 memory isolation, 5 no host crash",
            bound=f"{N_CASES} (call, clock id, precision, pointer, memory size) cases from real wasm, "
                  "with the C entries and with the handlers alone; guests without a memory; audit mode and "
                  "ModelHost; the init's layouts", budget=60)
def fast_calls() -> Outcome:
    """The C entries of `clock_time_get`, `clock_res_get` and `sched_yield` (`impl/fastcalls.c`),
    built from the tree's source as the package is, against the Python handlers they stand in for,
    from real wasm: every preview1 clock id and others (the top bit set), precisions, and pointers
    at every misalignment, flush with the end of memory, straddling it, past it, wrapping, over memory
    as declared and after a grow, and guests whose `memory` export is missing or not a memory. Each call ends alike both ways (the same errno, or the same trap) with
    memory alike but for the 8 bytes of a success, which hold a reading of that clock taken between
    the host's own readings just before and after (a resolution: the handler's); the C entries answer
    exactly the successes, so every error and trap is the handler's. In audit mode and over a host
    other than PosixHost, they answer nothing; their init refuses a wasmtime layout it cannot serve."""
    import wasmtime

    from vwasm import fastcalls
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vwasm-fastcalls-") as tmp:
        path = build(c_source(), Path(tmp))
        layouts = check_layouts(path)
        cases, successes = run_cases_apart(path)
        engine = wasmtime.Engine()
        selection = check_selection(engine, wasmtime.Module(engine, GUEST), fastcalls.Library(str(path)))
    if cases < N_CASES + 3 * len(MEMORYLESS) or not 0 < successes < cases:
        raise TooLittleEvidence(f"{cases} cases, {successes} successes")
    return Outcome(f"{cases} cases from wasm ({successes} answered by the C entries, {cases - successes} passed "
                   f"to the handlers) end alike with and without them; {selection} configurations use none; "
                   f"{layouts} layouts refused or accepted as they must be "
                   f"({time.perf_counter() - t0:.1f} s)", status="checked")


def main(path: str) -> None:
    """The cases' process: one JSON line per case begun, then the totals or the counterexample."""
    import wasmtime

    from vwasm import fastcalls
    engine = wasmtime.Engine()
    try:
        cases, successes = run_cases(engine, wasmtime.Module(engine, GUEST), fastcalls.Library(path))
    except Counterexample as e:
        print(json.dumps({"counterexample": str(e)}))
    else:
        print(json.dumps({"cases": cases, "successes": successes}))


if __name__ == "__main__":
    main(sys.argv[1])
