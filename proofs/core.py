"""What an obligation and a mutant are, and the one registry of both.

An obligation is a named check with a tool, a stated bound and a time budget. Its `check()` either
returns an `Outcome` (what it established, as evidence text, plus the counters it needs to have
reached) or raises `Counterexample`. Anything else -- an exception, z3 `unknown`, too few
paths/examples, running past the budget -- is a failure of the obligation; the runner never turns
those into a success.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

# Families, for the rule "every family has mutants".
Z3, CROSSHAIR, STATEFUL, HOST = "z3 lemma", "crosshair", "stateful", "host"


# When the runner will kill the check running in this process (time.monotonic(); set by the runner in
# each child). A subprocess an obligation starts must end before then, or it would outlive the kill.
_DEADLINE = [float("inf")]


def time_left() -> float:
    """Seconds until the runner kills this check (infinite outside the runner)."""
    return _DEADLINE[0] - time.monotonic()


class Counterexample(Exception):
    """The property is false: the message says for what input."""


class Unknown(Exception):
    """The tool could not decide (z3 unknown, crosshair unable to analyse)."""


class TooLittleEvidence(Exception):
    """The check ran but established less than its stated minimum."""


@dataclass
class Outcome:
    evidence: str  # e.g. "z3: 6 lemmas unsat in 40 ms; 5,000 concrete inputs agree"
    status: str = "proved"  # "proved" (unbounded) or "checked" (bounded)


@dataclass
class Obligation:
    name: str
    family: str  # Z3 | CROSSHAIR | STATEFUL | HOST
    tool: str  # what the table shows in its tool column
    bound: str  # the bound or search budget, in words
    budget: float  # seconds; running longer is a timeout (a cap only: the evidence is a count)
    check: Callable[[], Outcome]
    guarantee: str = ""  # which DESIGN §1 guarantee it supports


@dataclass
class Mutant:
    """A planted bug: `apply()` monkeypatches it into this process (a throw-away child)."""

    name: str
    breaks: str  # the guarantee it breaks, in words
    killers: tuple[str, ...]  # obligations that must each report a counterexample
    apply: Callable[[], None]
    doc: str = ""


OBLIGATIONS: dict[str, Obligation] = {}
MUTANTS: dict[str, Mutant] = {}


def obligation(name: str, *, family: str, tool: str, bound: str, budget: float, guarantee: str = ""):
    def register(fn: Callable[[], Outcome]) -> Callable[[], Outcome]:
        assert name not in OBLIGATIONS, f"duplicate obligation {name}"
        OBLIGATIONS[name] = Obligation(name, family, tool, bound, budget, fn, guarantee)
        return fn
    return register


def mutant(name: str, *, breaks: str, killers: tuple[str, ...]):
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        assert name not in MUTANTS, f"duplicate mutant {name}"
        MUTANTS[name] = Mutant(name, breaks, tuple(killers), fn, (fn.__doc__ or "").strip())
        return fn
    return register


def patch(obj, attr: str, value) -> None:
    """Monkeypatch for mutants (children only: the patched process is thrown away)."""
    if not hasattr(obj, attr):
        raise AttributeError(f"mutant target {obj!r}.{attr} does not exist")
    setattr(obj, attr, value)
