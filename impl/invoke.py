"""`vwasm run --invoke NAME ARGS...`: call one export as `wasmtime run --invoke` does. Each ARG is read
as the export's parameter type (i32, i64: whole numbers; f32, f64: numbers, inf, nan); the results
are printed one per line as wasmtime prints them (Rust's notation: `3`, `2.5`, `0.1`, `NaN`)."""
from __future__ import annotations

import math
import struct
from decimal import Decimal

import wasmtime

_INT_BITS = {"i32": 32, "i64": 64}


def invoke(box, name: str, texts: list[str]) -> int:
    """Call export `name` of `box` (a Sandbox) with `texts` as its arguments and print its results;
    the status as `Sandbox.run` gives it. ValueError (one line) for a missing export or a bad argument."""
    try:
        if box._stopped is not None:  # the start function already ended the guest
            return box._stopped
        func = box.instance.exports(box.store).get(name)
        if not isinstance(func, wasmtime.Func):
            raise ValueError(f"the module exports no function {name!r}")
        kinds = [str(t) for t in func.type(box.store).params]
        if len(texts) != len(kinds):
            raise ValueError(f"--invoke {name} takes {len(kinds)} argument(s) ({', '.join(kinds) or 'none'}), "
                             f"not {len(texts)}")
        args = [_parse(text, kind) for text, kind in zip(texts, kinds)]
        try:
            results = func(box.store, *args)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as trap:
            return box._outcome(trap)
        kinds = [str(t) for t in func.type(box.store).results]
        results = [] if results is None else results if isinstance(results, list) else [results]
        for value, kind in zip(results, kinds):
            print(_show(value, kind))
        return 0
    finally:
        box.close()


def _parse(text: str, kind: str):
    if kind in _INT_BITS:
        bits = _INT_BITS[kind]
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not -(1 << (bits - 1)) <= value < (1 << bits):
            raise ValueError(f"--invoke: {text!r} is not an {kind}")
        return value - (1 << bits) if value >= 1 << (bits - 1) else value  # unsigned spellings wrap, as in wasm
    if kind in ("f32", "f64"):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"--invoke: {text!r} is not an {kind}") from None
    raise ValueError(f"--invoke: parameters of type {kind} cannot be given on the command line")


def _show(value, kind: str) -> str:
    if kind in ("f32", "f64"):
        return _rust_float(value, kind == "f32")
    return str(value)


def _rust_float(x: float, single: bool) -> str:
    """Rust's `Display` of an f32/f64: the shortest digits that read back to the same value, never an
    exponent, no trailing `.0`."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    digits = repr(x)
    if single:  # the shortest decimal that rounds to the same f32
        bits = struct.pack("<f", x)
        digits = next(d for d in (f"{x:.{p}g}" for p in range(1, 10)) if struct.pack("<f", float(d)) == bits)
    text = format(Decimal(digits), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
