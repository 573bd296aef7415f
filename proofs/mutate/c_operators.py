"""Mutation operators for the C of the trusted base (`impl/fastcalls.c`): operators.py's bug families,
applied to C tokens.

  cmp        `<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=`
  arith      binary `+` <-> `-`, `&` <-> `|`, `*` -> `/`
  bool       `&&` <-> `||`
  drop_not   `!x` -> `x`
  const      an integer literal +1 / -1
  swap_name  one POSIX clock for another (the clock table, a clock confused)
  drop_stmt  an expression statement, `return` or `if` test removed (a check, a store, a count)

Sites are code tokens outside comments, strings and preprocessor lines. A mutant is written as a
plain text edit; one that the package's compiler and flags refuse (a warning is an error there) is
not a mutant of the program and is skipped, as operators.py skips an edit that does not parse.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from .operators import Mutant, _pick

_TOKEN = re.compile(r"""
    (?P<skip>/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|^[ \t]*\#[^\n]*)
  | (?P<number>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
  | (?P<name>[A-Za-z_]\w*)
  | (?P<op>&&|\|\||<=|>=|==|!=|<<|>>|->|\+\+|--|[-+*/%&|^!<>=(){}\[\];,.?:~])
  | (?P<space>\s+)
""", re.X | re.S | re.M)

_CMP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
_ARITH = {"+": "-", "-": "+", "&": "|", "|": "&", "*": "/"}
_BOOL = {"&&": "||", "||": "&&"}
_CLOCKS = ("CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID")
# Statements whose removal is a bug of the families above (a declaration's removal does not compile).
_STATEMENT_STARTS = ("return", "if", "raw", "memcpy", "__atomic_add_fetch", "api")


def _tokens(src: str) -> list[tuple[str, str, int, int]]:
    """(kind, text, start, end) of every code token."""
    out, pos = [], 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None:
            raise ValueError(f"fastcalls.c: cannot read C at offset {pos}: {src[pos:pos + 20]!r}")
        if m.lastgroup not in ("skip", "space"):
            out.append((m.lastgroup, m.group(), m.start(), m.end()))
        pos = m.end()
    return out


def _scopes(tokens) -> list[str]:
    """The enclosing function of each token (`<file>` outside function bodies)."""
    scopes, depth, current, name = [], 0, "<file>", None
    for i, (kind, text, _, _) in enumerate(tokens):
        if kind == "name" and depth == 0 and i + 1 < len(tokens) and tokens[i + 1][1] == "(":
            name = text
        if text == "{":
            if depth == 0 and i and tokens[i - 1][1] == ")":
                current = name or "<file>"
            depth += 1
        scopes.append(current)
        if text == "}":
            depth -= 1
            if depth == 0:
                current = "<file>"
    return scopes


def _binary(tokens, i: int) -> bool:
    """Whether the operator at i has a left operand (not unary, not a declarator's `*`)."""
    kind, text = tokens[i - 1][0], tokens[i - 1][1]
    return kind == "number" or text in (")", "]") or (kind == "name" and text not in (
        "return", "const", "void", "char", "int", "size_t", "uint8_t", "uint32_t", "uint64_t", "unsigned",
        "struct", "timespec", "clockid_t", "callback_t", "bool"))


def _statement_end(tokens, i: int) -> int:
    """The index of the token ending the statement that starts at i (`;`, or an `if`'s body)."""
    depth = 0
    for j in range(i, len(tokens)):
        t = tokens[j][1]
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
            if t == "}" and depth == 0:  # an `if` whose body is a block ends with it
                return j
        elif t == ";" and depth == 0:
            return j
    raise ValueError("unterminated statement")


def find_mutants(src: str, file: str) -> list[Mutant]:
    """Every mutation site of one C file, in source order (operators.find_mutants numbers them)."""
    tokens = _tokens(src)
    scopes = _scopes(tokens)
    line = lambda offset: src.count("\n", 0, offset) + 1  # noqa: E731
    out: list[Mutant] = []

    def add(i: int, op: str, desc: str, start: int, end: int, new: str) -> None:
        out.append(Mutant(file, line(start), op, desc, scopes[i], change=("text", start, end, new)))

    for i, (kind, text, start, end) in enumerate(tokens):
        if scopes[i] == "<file>" and text not in _CLOCKS:
            continue  # declarations and layouts: only the clock table is behaviour at file scope
        if kind == "op" and text in _CMP:
            add(i, "cmp", f"{text} -> {_CMP[text]}", start, end, _CMP[text])
        elif kind == "op" and text in _ARITH and _binary(tokens, i):
            add(i, "arith", f"{text} -> {_ARITH[text]}", start, end, _ARITH[text])
        elif kind == "op" and text in _BOOL:
            add(i, "bool", f"{text} -> {_BOOL[text]}", start, end, _BOOL[text])
        elif kind == "op" and text == "!":
            add(i, "drop_not", "removed `!`", start, end, "")
        elif kind == "number":
            digits = re.match(r"(0[xX][0-9a-fA-F]+|\d+)(\w*)", text)
            value, suffix = int(digits.group(1), 0), digits.group(2)
            for new in (value + 1, value - 1):
                if new >= 0:
                    add(i, "const", f"{text} -> {new}{suffix}", start, end, f"{new}{suffix}")
        elif kind == "name" and text in _CLOCKS:
            other = _pick([c for c in _CLOCKS if c != text], f"{file}:{start}")
            add(i, "swap_name", f"{text} -> {other}", start, end, other)
        before = tokens[i - 1][1]
        if kind == "name" and text in _STATEMENT_STARTS and (before in (";", "{", "}") or
                                                             (before == ")" and text == "return")):
            j = _statement_end(tokens, i)  # an `if`: the test and the statement it guards
            removed = src[start:tokens[j][3]]
            add(i, "drop_stmt", f"removed `{' '.join(removed.split())[:60]}`", start, tokens[j][3], ";")
    return out


def apply(src: str, m: Mutant) -> str:
    """The mutated text; ValueError if it is no change or the package's build refuses it."""
    _, start, end, new = m.change
    result = src[:start] + new + src[end:]
    if result == src:
        raise ValueError(f"mutant {m.id}: no change")
    from proofs.core import Counterexample
    from proofs.host.fastcalls import build
    with tempfile.TemporaryDirectory(prefix="vwasm-c-mutant-") as tmp:
        try:
            build(result, Path(tmp))
        except Counterexample:
            raise ValueError(f"mutant {m.id}: does not compile") from None
    return result
