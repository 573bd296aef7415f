"""What vwasm accepts as a module, checked before anything of it runs.

Every way a module can fail to load, link or start is a `ModuleError` (a ValueError) with one line
saying why: bytes that are not WebAssembly (bad magic, another version, a truncated header), WAT text
that does not parse, an invalid binary, an import vwasm does not provide or provides with another
type, and -- for a command -- an entry point that is missing or not a `() -> ()` function.
Only a file that really is text is parsed as WAT, so random bytes are "not a WebAssembly module".
"""
from __future__ import annotations

import re
import weakref

import wasmtime

from vwasm.model.wasi import PREVIEW1_MODULE, SIGNATURES

WASM_MAGIC = b"\0asm"
CORE_VERSION = b"\x01\0\0\0"  # version 1, layer 0: a core module (a component has layer 1)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # in no WAT text (tab, newlines, form feed are)
_KIND = {"i": "i32", "I": "i64"}
# The import names of modules that passed `check_imports` (a Module never changes; a sandbox per run asks again).
_IMPORTS_CHECKED: "weakref.WeakKeyDictionary[wasmtime.Module, frozenset]" = weakref.WeakKeyDictionary()


class ModuleError(ValueError):
    """The module cannot be loaded, linked or started: the message is the one line to show."""


def cause(error: Exception) -> str:
    """The innermost reason of a wasmtime error: its last `Caused by` line, without numbering."""
    text = str(error).strip()
    head, _, chain = text.partition("Caused by:")
    lines = [line.strip() for line in (chain or head).splitlines() if line.strip()]
    return re.sub(r"^\d+: ", "", lines[-1]) if lines else type(error).__name__


def compile_module(engine: wasmtime.Engine, data: bytes) -> wasmtime.Module:
    """A wasm binary or WAT text compiled for `engine`; anything else is a ModuleError."""
    data = bytes(data)
    if not data:
        raise ModuleError("not a WebAssembly module (empty file)")
    if data[:4] == WASM_MAGIC[:len(data)]:
        if len(data) < 8:
            raise ModuleError("not a WebAssembly module (truncated header)")
        if data[4:8] != CORE_VERSION:
            if data[6:8] == b"\x01\0":
                raise ModuleError("a WebAssembly component, not a core module (vwasm runs WASI preview1 modules)")
            raise ModuleError(f"not a WebAssembly module (unsupported version {int.from_bytes(data[4:8], 'little')})")
        try:
            return wasmtime.Module(engine, data)
        except wasmtime.WasmtimeError as e:
            raise ModuleError(f"invalid WebAssembly module: {cause(e)}") from None
    text = _text(data)
    if text is None:
        raise ModuleError("not a WebAssembly module (bad magic)")
    try:
        binary = wasmtime.wat2wasm(text)
    except wasmtime.WasmtimeError as e:
        raise ModuleError(f"invalid WebAssembly text: {_wat_error(str(e))}") from None
    try:
        return wasmtime.Module(engine, binary)
    except wasmtime.WasmtimeError as e:
        raise ModuleError(f"invalid WebAssembly module: {cause(e)}") from None


def _text(data: bytes) -> str | None:
    """data as text if it is UTF-8 without control characters (a byte-order mark allowed), else None."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


def _wat_error(message: str) -> str:
    """wat's error (`expected X` then ` --> <anon>:LINE:COL` and a picture) as one line."""
    lines = message.strip().splitlines()
    where = re.search(r"-->\s*\S*?:(\d+):(\d+)", message)
    return lines[0] + (f" (line {where[1]}, column {where[2]})" if where else "")


def _signature(functype: wasmtime.FuncType) -> tuple[str, str]:
    code = {"i32": "i", "i64": "I"}
    return ("".join(code.get(str(t), "?") for t in functype.params),
            "".join(code.get(str(t), "?") for t in functype.results))


def _show(params: str, results: str) -> str:
    return f"({', '.join(_KIND.get(k, '?') for k in params)}) -> ({', '.join(_KIND.get(k, '?') for k in results)})"


def _show_type(t) -> str:
    if isinstance(t, wasmtime.FuncType):
        return (f"({', '.join(map(str, t.params))}) -> ({', '.join(map(str, t.results))})")
    return {wasmtime.MemoryType: "a memory", wasmtime.TableType: "a table",
            wasmtime.GlobalType: "a global"}.get(type(t), "not a function")


def check_imports(module: wasmtime.Module) -> frozenset:
    """Every import must be a function vwasm provides (SIGNATURES), with exactly its type; their names."""
    names = _IMPORTS_CHECKED.get(module)
    if names is not None:
        return names
    imports = module.imports
    for imp in imports:
        where = f"{imp.module}::{imp.name}"
        if imp.module != PREVIEW1_MODULE:
            raise ModuleError(f"unknown import {where}: vwasm provides only {PREVIEW1_MODULE} functions")
        if imp.name not in SIGNATURES:
            raise ModuleError(f"unknown import {where}: no such {PREVIEW1_MODULE} function")
        want = SIGNATURES[imp.name]
        if not isinstance(imp.type, wasmtime.FuncType) or _signature(imp.type) != want:
            raise ModuleError(f"import {where} has the wrong type: vwasm provides {_show(*want)}, "
                              f"the module expects {_show_type(imp.type)}")
    names = _IMPORTS_CHECKED[module] = frozenset(imp.name for imp in imports)
    return names


_COMMANDS_CHECKED: "weakref.WeakKeyDictionary[wasmtime.Module, set]" = weakref.WeakKeyDictionary()  # entries passed


def check_command(module: wasmtime.Module, entry: str = "_start") -> None:
    """A WASI command exports `entry` as a function taking and returning nothing."""
    if entry in _COMMANDS_CHECKED.get(module, ()):
        return
    exports = {e.name: e.type for e in module.exports}
    if entry not in exports:
        raise ModuleError(f"the module exports no {entry} function: it is not a WASI command")
    t = exports[entry]
    if not isinstance(t, wasmtime.FuncType):
        raise ModuleError(f"the module's {entry} is {_show_type(t)}, not a function")
    if t.params or t.results:
        raise ModuleError(f"the module's {entry} must take and return nothing; it is {_show_type(t)}")
    _COMMANDS_CHECKED.setdefault(module, set()).add(entry)
