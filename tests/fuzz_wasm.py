"""`make fuzz` (FUZZ_SECONDS=N): every host function driven through a real wasmtime instance.

test_fuzz_handlers.py calls the handlers directly; this goes the whole way: a module that imports all
48 functions and exports a wasm wrapper for each (`f_<name>`, same signature) is instantiated by
`vwasm.Sandbox` in audit mode, with a trace Recorder writing every call (so the audit and the trace
code are fuzzed too), over a sandbox directory with a symlink out to a canary tree. Program `seed` is
a deterministic function of the seed (`program(seed)`): arbitrary bytes in memory, then a structured
layout (paths, iovecs, a socket address), then up to 16 calls with arguments drawn from interesting
values (existing descriptors, the paths, aligned scratch, the ends of memory, extremes) or random.

Each program must end with nothing found (`run_program`):
- every call returns an errno that exists, or traps: never a Python exception out of the runtime
  (`internal error` in a trap message), never an escape of the call into this driver;
- audit mode refuses no effect (`audit: unsafe effect` would mean the handlers tried something the
  policy forbids: stopped, but a bug);
- the process holds the same descriptors after the sandbox is closed as before (/proc/self/fd);
- nothing outside the sandbox directory changed (the canary tree and the directory holding it);
- the trace the recorder wrote reads back, and `vwasm audit` (vwasm.trace.audit_trace) finds it
  safe, as the live audit did.
A program that finds something is shrunk (calls removed one by one while it still does) and saved
as JSON under tests/fuzz_seeds/ (the explicit calls, so a saved program outlives changes to
`program`); test_fuzz_handlers.py replays every saved program. The `planted-*` ones were found with
a bug of each kind planted (test_fuzz_handlers._planted): they must replay clean, and find it again.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import struct
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import wasmtime

from test_fuzz_handlers import PATHS, canary_state
from vwasm import limits
from vwasm.model.pointers import IN, POINTERS
from vwasm.model.wasi import ALL_RIGHTS, IOVEC, PREVIEW1_MODULE, SIGNATURES, U8, AddressFamily, Errno
from vwasm.sandbox import Config, Sandbox, trap_reason
from vwasm.trace import PARAMS, Recorder, TraceError, audit_trace

SEEDS_DIR = Path(__file__).parent / "fuzz_seeds"
PAGE = 65536
IOVECS = 256  # two valid iovecs: (512, 16), (600, 4)
SOCKADDR = 448  # a sockaddr_in: 127.0.0.1, the netlist's port (nothing listens there)
PORT = 9  # discard: refused on loopback
SCRATCH = 1024  # aligned out-pointers
TIMEOUT = 1.0  # seconds per program: poll_oneoff and sleeps may ask for centuries
FDS = ("fd", "old_fd", "new_fd", "to")
DESCRIPTORS = (0, 1, 2, 3, 3, 3, 3, 4, 4, 5, 6, 7, 8)  # 3: /box, 4: /ro (read-only), 5-8: opened by the calls
# Calls real programs make most, drawn more often (the others stay in the draw once each).
OFTEN = ("path_open",) * 4 + ("fd_close", "fd_read", "fd_write", "fd_readdir", "path_create_directory")
SMALL = ("whence", "advice", "clock", "how", "signal", "domain", "type_", "protocol")

_T = {"i": "i32", "I": "i64"}


def module_text() -> str:
    """Imports of every host function, each re-exported through a wasm function as `f_<name>`."""
    parts = ["(module"]
    for name, (params, results) in SIGNATURES.items():
        sig = "".join(f" (param {_T[k]})" for k in params) + "".join(f" (result {_T[k]})" for k in results)
        parts.append(f'  (import "{PREVIEW1_MODULE}" "{name}" (func ${name}{sig}))')
    parts.append('  (memory (export "memory") 1)')
    for name, (params, results) in SIGNATURES.items():
        sig = "".join(f" (param {_T[k]})" for k in params) + "".join(f" (result {_T[k]})" for k in results)
        body = " ".join(f"local.get {i}" for i in range(len(params)))
        parts.append(f'  (func (export "f_{name}"){sig} {body} call ${name})')
    parts.append(")")
    return "\n".join(parts)


# test_fuzz_handlers' paths, and two that walk through a directory.
TEXTS = {**PATHS, 400: b"d/../f", 416: b"d/e"}
INTERESTING32 = [0, 1, 2, 3, 4, 5, 7, 8, 16, 64, IOVECS, SOCKADDR, SCRATCH, *TEXTS, PAGE - 8, PAGE - 4, PAGE - 1,
                 PAGE, PAGE + 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFF8, 0xFFFF_FFFF]
INTERESTING64 = [0, 1, 4096, (1 << 31), (1 << 63) - 1, 1 << 63, (1 << 64) - 1]


def _value(rng: random.Random, kind: str) -> int:
    """An i32 ('i') or i64 ('I') argument: interesting, small, or anything."""
    r = rng.random()
    if r < 0.5:
        return rng.choice(INTERESTING32 if kind == "i" else INTERESTING64)
    return rng.randint(0, 16) if r < 0.75 else rng.getrandbits(32 if kind == "i" else 64)


def program(seed: int) -> dict:
    """The program of `seed`: the noise at the start of memory and the calls (name, args)."""
    rng = random.Random(seed)
    noise = rng.randbytes(rng.choice([0, 16, 200, 2048]))
    names = [*sorted(SIGNATURES), *OFTEN]
    calls = []
    for _ in range(rng.randint(1, 16)):
        name = rng.choice(names)
        kinds = SIGNATURES[name][0]
        args = [_value(rng, k) for k in kinds]
        for i, param in enumerate(PARAMS[name]):  # mostly meaningful where meaning is cheap
            if rng.random() < 0.2:
                continue
            if param in FDS:
                args[i] = rng.choice(DESCRIPTORS)
            elif "flags" in param or param in SMALL:  # bit sets and enums: the defined bits, mostly
                args[i] = rng.choice([0, 0, 1, rng.randint(0, 15)])
            elif "rights" in param or param in ("base", "inheriting"):
                args[i] = rng.choice([ALL_RIGHTS, rng.getrandbits(30) & ALL_RIGHTS, 0])
        for p in POINTERS[name]:
            if rng.random() < 0.2:
                continue
            if p.layout is IOVEC:
                args[p.arg], args[p.length] = IOVECS, rng.choice([0, 1, 2])
            elif p.layout is U8 and p.access == IN and name.startswith("path_"):
                at = rng.choice(list(TEXTS))
                args[p.arg], args[p.length] = at, len(TEXTS[at])
            elif name == "sock_connect":
                args[p.arg], args[p.length] = SOCKADDR, 16
            elif p.length is None:
                args[p.arg] = SCRATCH + 64 * rng.randint(0, 7)
        calls.append([name, args])
    return {"seed": seed, "noise": noise.hex(), "calls": calls}


class World:
    """The host side of one program: a sandbox directory and, beside it, a canary tree."""

    def __init__(self, base: Path) -> None:
        self.root = Path(tempfile.mkdtemp(dir=base))
        box, canary = self.root / "box", self.root / "canary"
        (box / "d").mkdir(parents=True)
        canary.mkdir()
        (canary / "secret").write_bytes(b"secret")
        (box / "f").write_bytes(b"inside")
        (box / "d" / "e").write_bytes(b"deeper")
        os.symlink("../canary", box / "out")
        self.box, self.canary = box, canary
        self.before = (canary_state(canary), sorted(os.listdir(self.root)))

    def changed(self) -> bool:
        return (canary_state(self.canary), sorted(os.listdir(self.root))) != self.before

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


class Fuzzer:
    def __init__(self, base: Path) -> None:
        self.base = base
        probe = Config()
        probe.timeout = TIMEOUT
        self.engine = limits.engine_for(probe)
        self.module = wasmtime.Module(self.engine, module_text())
        self.outcomes: Counter = Counter()
        self.executions = 0
        self.called: Counter = Counter()  # host calls made, by name

    def config(self, box: Path, trace) -> Config:
        cfg = Config()
        cfg.argv = ["fuzz"]
        cfg.preopen_dir(str(box), "/box")
        cfg.preopen_dir(str(box / "d"), "/ro", read_only=True)
        cfg.allow_net(f"tcp:127.0.0.1:{PORT}")
        cfg.stdin_bytes(b"input\n")
        cfg.timeout = TIMEOUT
        cfg.enable_audit(keep_trace=False, recorder=Recorder(cfg, trace))
        return cfg

    def run(self, prog: dict) -> str | None:
        """Run one program; what it found (one line), or None."""
        world = World(self.base)
        fds = _open_fds()
        try:
            found = self._calls(prog, world)
            if found is None and _open_fds() != fds:
                found = f"descriptors leaked: {sorted(_open_fds() - fds)}"
            if found is None and world.changed():
                found = "something outside the sandbox changed"
            return found
        finally:
            world.remove()

    def _calls(self, prog: dict, world: World) -> str | None:
        trace = io.StringIO()
        box = Sandbox(self.module, self.config(world.box, trace), engine=self.engine)
        try:
            found = self._drive(box, prog)
        finally:
            box.close()
        if found is None and box.config.audit_recorder.error is not None:
            return f"the recorder failed: {box.config.audit_recorder.error!r}"
        if found is None:  # the written trace, judged offline, must agree with the live audit
            try:
                verdict = audit_trace(trace.getvalue().splitlines())
            except TraceError as e:
                return f"the trace is unreadable: {e}"
            if verdict.unsafe is not None:
                return f"vwasm audit rejects the trace: {verdict.unsafe}"
        return found

    def _drive(self, box: Sandbox, prog: dict) -> str | None:
        exports = box.instance.exports(box.store)
        layout = bytearray(PAGE)
        noise = bytes.fromhex(prog["noise"])
        layout[:len(noise)] = noise
        struct.pack_into("<IIII", layout, IOVECS, 512, 16, 600, 4)
        struct.pack_into("<H2s4s", layout, SOCKADDR, AddressFamily.INET, PORT.to_bytes(2, "big"), bytes([127, 0, 0, 1]))
        for at, text in TEXTS.items():
            layout[at:at + len(text)] = text
        exports["memory"].write(box.store, bytes(layout), 0)
        for name, args in prog["calls"]:
            self.executions += 1
            self.called[name] += 1
            try:
                result = exports[f"f_{name}"](box.store, *args)
            except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
                text = str(e)
                if "internal error" in text or "audit: unsafe effect" in text:
                    return f"{name}{tuple(args)}: {trap_reason(text)}"
                if box.cx.deadline is not None and box.host.clock_time(1) >= box.cx.deadline:
                    self.outcomes["limit"] += 1
                    return None  # the program's time is up: the rest would only trap
                self.outcomes["trap"] += 1
                continue
            except Exception as e:  # anything else escaped the runtime
                return f"{name}{tuple(args)}: {type(e).__name__}: {e}"
            if result is not None and result not in Errno._value2member_map_:
                return f"{name}{tuple(args)}: returned {result}, not an errno"
            self.outcomes["errno" if result else "success"] += 1
        return None


def shrink(fuzzer: Fuzzer, prog: dict) -> dict:
    """Drop calls one at a time while the program still finds something."""
    calls = list(prog["calls"])
    i = 0
    while i < len(calls) and len(calls) > 1:
        trial = dict(prog, calls=calls[:i] + calls[i + 1:])
        if fuzzer.run(trial) is not None:
            calls = trial["calls"]
        else:
            i += 1
    return dict(prog, calls=calls)


def dump(prog: dict) -> str:
    """A saved program: one field, and one call, a line."""
    calls = ",\n".join(f"  {json.dumps(c)}" for c in prog["calls"])
    head = "".join(f" {json.dumps(k)}: {json.dumps(v)},\n" for k, v in prog.items() if k != "calls")
    return f"{{\n{head} \"calls\": [\n{calls}\n ]\n}}\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="stop starting programs after this long")
    ap.add_argument("--start", type=int, default=None, help="first seed (default: from the clock, printed)")
    ap.add_argument("--save", type=Path, default=SEEDS_DIR, help="where programs that found something go")
    ns = ap.parse_args(argv)
    start = ns.start if ns.start is not None else int(time.time()) % 1_000_000 * 1000
    with tempfile.TemporaryDirectory(prefix="vwasm-fuzz-") as base:
        fuzzer = Fuzzer(Path(base))
        began, seed, found = time.monotonic(), start, 0
        while time.monotonic() - began < ns.seconds:
            prog = program(seed)
            what = fuzzer.run(prog)
            if what is not None:
                found += 1
                prog = shrink(fuzzer, prog)
                prog["found"] = what
                ns.save.mkdir(parents=True, exist_ok=True)
                path = ns.save / f"seed-{seed}.json"
                path.write_text(dump(prog))
                print(f"FOUND seed {seed}: {what} -> {path}", flush=True)
            seed += 1
        elapsed = time.monotonic() - began
    print(f"fuzz: seeds {start}..{seed - 1} ({seed - start} programs), {fuzzer.executions} host calls in "
          f"{elapsed:.1f} s ({fuzzer.executions / elapsed:.0f}/s), {len(fuzzer.called)}/{len(SIGNATURES)} host "
          f"functions; outcomes {dict(fuzzer.outcomes)}; "
          f"{found} found something")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
