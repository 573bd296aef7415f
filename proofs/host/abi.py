"""The host-call glue (`impl/abi.py`, trusted) checked by running it from real wasm.

Every import of the signature table is called by a generated wasm module through `vwasm.define_wasi`,
with stand-in handlers (so that what arrives, and what goes back, is the glue's doing alone).
"""
from __future__ import annotations

import time

from proofs.core import HOST, Counterexample, Outcome, TooLittleEvidence, obligation
from vwasm.model.wasi import PREVIEW1_MODULE, SIGNATURES, Errno, WasiError

PAGE = 1 << 16
EXIT_CODE = 7
ENDINGS = ("return", "errno", "trap", "exit", "crash")
N_CALLS = 2 * len(SIGNATURES) * len(ENDINGS)  # every import x ending, plain and audited


def argument(name_index: int, position: int, kind: str) -> int:
    """A distinct unsigned value per (import, position), top bit set: a sign or width slip shows."""
    if kind == "i":
        return 0x8000_0000 | (name_index << 16) | (0x101 * (position + 1))
    return 0x8000_0000_0000_0000 | (name_index << 40) | (0x1_0000_0101 * (position + 1))


def expected_args() -> dict[str, tuple[int, ...]]:
    return {name: tuple(argument(i, p, k) for p, k in enumerate(params))
            for i, (name, (params, _)) in enumerate(SIGNATURES.items())}


def errno_of(name_index: int) -> int:
    """The errno a stand-in answers: distinct per import, never success."""
    return 1 + name_index % (max(Errno) - 1)


def module_text() -> str:
    """A module importing every preview1 function with its table signature, exporting `t_<name>`:
    a call with that import's arguments, returning its result (0 for an import without one)."""
    wat = {"i": "i32", "I": "i64"}
    imports, funcs = [], []
    args = expected_args()
    for name, (params, results) in SIGNATURES.items():
        sig = "".join(f" (param {wat[k]})" for k in params) + "".join(f" (result {wat[k]})" for k in results)
        imports.append(f'  (import "{PREVIEW1_MODULE}" "{name}" (func ${name}{sig}))')
        consts = " ".join(f"({wat[k]}.const {v})" for k, v in zip(params, args[name]))
        body = f"(call ${name} {consts})" + ("" if results else " (i32.const 0)")
        funcs.append(f'  (func (export "t_{name}") (result i32) {body})')
    return "(module\n" + "\n".join(imports) + '\n  (memory (export "memory") 1)\n' + "\n".join(funcs) + "\n)"


class StandIn:
    """Handlers that record what arrives and end as told."""

    def __init__(self) -> None:
        self.ending = "return"
        self.seen: dict[str, tuple] = {}

    def handler(self, name: str, index: int):
        from vwasm.errors import ProcExit, Trap

        def handle(cx, *args):
            self.seen[name] = (args, cx.mem.size)
            if self.ending == "errno":
                raise WasiError(Errno(errno_of(index)))
            if self.ending == "trap":
                raise Trap("stand-in trap")
            if self.ending == "exit":
                raise ProcExit(EXIT_CODE)
            if self.ending == "crash":
                raise RuntimeError("stand-in crash")
            return errno_of(index)
        return handle


def check_store(audit: bool) -> int:
    import wasmtime

    import vwasm
    from vwasm import syscalls
    stand_in = StandIn()
    real = dict(syscalls.HANDLERS)
    try:
        for i, name in enumerate(SIGNATURES):
            syscalls.HANDLERS[name] = stand_in.handler(name, i)
        engine = wasmtime.Engine()
        store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
        config = vwasm.Config()
        if audit:
            config.enable_audit()
        wasi = vwasm.define_wasi(linker, store, config)
        instance = linker.instantiate(store, wasmtime.Module(engine, module_text()))
    finally:
        syscalls.HANDLERS.clear()
        syscalls.HANDLERS.update(real)
    exports = instance.exports(store)
    args = expected_args()
    calls = 0
    try:
        for i, (name, (_, results)) in enumerate(SIGNATURES.items()):
            for ending in ENDINGS:
                where = f"{name} ({'audited' if audit else 'plain'}), handler ends by {ending}"
                stand_in.ending = ending
                stand_in.seen.pop(name, None)
                try:
                    got = ("return", exports[f"t_{name}"](store))
                except wasmtime.ExitTrap as e:
                    got = ("exit", e.code)
                except (wasmtime.Trap, wasmtime.WasmtimeError) as e:  # a host's trap comes back as the error
                    got = ("trap", str(e))
                if name not in stand_in.seen:
                    raise Counterexample(f"{where}: the handler was not called")
                seen, size = stand_in.seen[name]
                if seen != args[name]:
                    raise Counterexample(f"{where}: the handler got {seen}, the guest passed {args[name]}")
                if size != PAGE:
                    raise Counterexample(f"{where}: the handler's memory has {size} bytes, the guest's {PAGE}")
                value = errno_of(i) if results else 0
                want = {"return": ("return", value), "errno": ("return", value), "exit": ("exit", EXIT_CODE)}
                if ending in want and got != want[ending]:
                    raise Counterexample(f"{where}: the guest saw {got}, expected {want[ending]}")
                if ending in ("trap", "crash") and (got[0] != "trap" or name not in got[1]):
                    raise Counterexample(f"{where}: the guest saw {got}, expected a trap naming {name}")
                if ending == "exit" and wasi.exit_code != EXIT_CODE:
                    raise Counterexample(f"{where}: the handle's exit_code is {wasi.exit_code}, not {EXIT_CODE}")
                calls += 1
    finally:
        wasi.close()
    return calls


@obligation("host.abi", family=HOST, tool="enumeration", guarantee="5 no host crash",
            bound="every import of the signature table x 5 ways a handler ends, plain and audited, from real wasm",
            budget=60)
def abi_glue() -> Outcome:
    """The trusted glue (`impl/abi.py`), run from a real wasm module through `vwasm.define_wasi`:
    every import, declared with its witx signature, delivers exactly the guest's arguments to its
    handler (i32 as unsigned 32-bit, i64 as unsigned 64-bit, in order) with the guest's memory bound;
    an errno returned or raised comes back as the i32 result; Trap and any other exception stop the
    guest with a trap naming the call; ProcExit raises wasmtime.ExitTrap with the status, which the
    handle reports too -- in plain and in audit mode."""
    t0 = time.perf_counter()
    calls = check_store(False) + check_store(True)
    if calls < N_CALLS:
        raise TooLittleEvidence(f"{calls} calls")
    return Outcome(f"{len(SIGNATURES)} imports x {len(ENDINGS)} endings, plain and audited: {calls} calls from "
                   f"wasm arrive with the guest's arguments and end as the handler said "
                   f"({time.perf_counter() - t0:.1f} s)", status="checked")
