"""A small path explorer that derives z3 formulas from the Python code itself.

A z3 lemma proves its own transcription (DESIGN §4), so the lemmas do not transcribe: they run the
real functions (`GuestMemory.check`, `FdTable.narrow`, `Rule.allows`, ...) on `Sym` values that wrap
z3 bit-vector terms. Every `if` on a symbolic value asks `Explorer.branch`, which checks which sides
are feasible under the path condition so far, takes one and remembers the other for a later replay.
Running the function once per decision sequence yields every feasible path: its condition, how it
ended (return value, `Trap`, `WasiError`) and what it recorded on the way (memory accesses).

Integers are 64-bit (or wider) two's-complement terms compared signed; every +, -, *, << also records
a no-overflow side condition, and `Explorer.explore` refuses a result if any path could overflow, so
the fixed width never hides a Python big-integer behaviour. Anything the explorer cannot follow (a
symbolic value used as an index, hashed, turned into a Python int) raises `Unsupported`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import z3


class Unsupported(Exception):
    """The code did something with a symbolic value the explorer cannot follow."""


# z3's work limit per query. Its `timeout` is wall-clock, so load could turn a proof into `unknown`
# (a failure); `rlimit` counts z3's own steps, the same on every machine. About 15x the hardest
# query's (net.netlist's: 13.6 M, 1.6 s here); the runner's budget caps the time.
RLIMIT = 200_000_000


def solver() -> z3.Solver:
    """A z3 solver bounded by work, not time: an `unknown` answer is the same on every run."""
    s = z3.Solver()
    s.set("rlimit", RLIMIT)
    return s


@dataclass
class Path:
    cond: list  # z3 BoolRefs whose conjunction selects this path
    kind: str  # "return" | "trap" | "errno" | "other"
    value: Any  # the return value, the errno, or the exception
    records: list = field(default_factory=list)  # whatever the harness recorded on the path

    def condition(self):
        return z3.And(*self.cond) if self.cond else z3.BoolVal(True)


_CURRENT: list["Explorer"] = []


def _ex() -> "Explorer":
    if not _CURRENT:
        raise Unsupported("symbolic value used outside Explorer.explore")
    return _CURRENT[-1]


class Explorer:
    def __init__(self, width: int = 64, max_paths: int = 2000) -> None:
        self.width = width
        self.max_paths = max_paths
        self.solver = solver()
        self.queries = 0
        # per run
        self._trail: list[bool] = []
        self._pos = 0
        self._cond: list = []
        self._pending: list[list[bool]] = []
        self.records: list = []
        self.overflow: list = []  # (path cond snapshot, no-overflow condition)

    # --- values ---------------------------------------------------------------------------------
    def var(self, name: str, lo: int | None = None, hi: int | None = None) -> "Sym":
        """A fresh symbolic integer; lo <= v <= hi are recorded as assumptions by the caller."""
        return Sym(z3.BitVec(name, self.width))

    def const(self, v: int) -> "Sym":
        return Sym(z3.BitVecVal(v, self.width))

    def feasible(self, conds) -> bool:
        self.queries += 1
        self.solver.push()
        self.solver.add(*conds)
        r = self.solver.check()
        self.solver.pop()
        if r == z3.unknown:
            raise Unsupported("z3 answered unknown during exploration")
        return r == z3.sat

    def branch(self, b) -> bool:
        b = z3.simplify(b)
        if z3.is_true(b):
            return True
        if z3.is_false(b):
            return False
        if self._pos < len(self._trail):
            d = self._trail[self._pos]
        else:
            t = self.feasible(self._cond + [b])
            f = self.feasible(self._cond + [z3.Not(b)])
            if t and f:
                self._pending.append(self._trail[:self._pos] + [False])
                d = True
            elif t or f:
                d = t
            else:
                raise Unsupported("infeasible path reached")
            self._trail.append(d)
        self._pos += 1
        self._cond.append(b if d else z3.Not(b))
        return d

    def note_overflow(self, ok) -> None:
        ok = z3.simplify(ok)
        if not z3.is_true(ok):
            self.overflow.append((list(self._cond), ok))

    def record(self, item) -> None:
        self.records.append(item)

    @property
    def path_condition(self) -> list:
        return list(self._cond)

    # --- exploration ----------------------------------------------------------------------------
    def explore(self, fn: Callable[[], Any], assume=(), catch=()) -> list[Path]:
        """All feasible paths of fn() under the assumptions."""
        from vwasm.model.wasi import WasiError
        try:
            from vwasm.errors import Trap
        except ImportError:  # the model alone
            Trap = ()
        assume = [z3.simplify(a) for a in assume]
        self._pending = [[]]
        paths: list[Path] = []
        _CURRENT.append(self)
        try:
            while self._pending:
                if len(paths) >= self.max_paths:
                    raise Unsupported(f"more than {self.max_paths} paths")
                self._trail = self._pending.pop()
                self._pos = 0
                self._cond = list(assume)
                self.records = []
                try:
                    value = fn()
                    kind = "return"
                except Unsupported:
                    raise
                except WasiError as e:
                    kind, value = "errno", e.errno
                except Exception as e:  # noqa: BLE001 - classified below
                    if Trap and isinstance(e, Trap):
                        kind, value = "trap", e
                    elif catch and isinstance(e, catch):
                        kind, value = "other", e
                    else:
                        raise
                paths.append(Path(self._cond[len(assume):], kind, value, self.records))
        finally:
            _CURRENT.pop()
        # No path may overflow the fixed width (that would differ from Python's integers).
        for cond, ok in self.overflow:
            if self.feasible(list(assume) + cond + [z3.Not(ok)]):
                raise Unsupported(f"{self.width}-bit overflow possible: {ok}")
        self.overflow = []
        return paths


def _term(x, width: int):
    if isinstance(x, Sym):
        return x.e
    if isinstance(x, bool):
        return z3.BitVecVal(int(x), width)
    if isinstance(x, int):
        return z3.BitVecVal(x, width)
    return None


class Sym:
    """A symbolic Python int."""

    __slots__ = ("e",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, e) -> None:
        self.e = e

    @property
    def w(self) -> int:
        return self.e.size()

    def _o(self, other):
        t = _term(other, self.w)
        if t is None:
            return NotImplemented
        return t

    def _arith(self, other, op, noov, swap=False):
        t = self._o(other)
        if t is NotImplemented:
            return NotImplemented
        a, b = (t, self.e) if swap else (self.e, t)
        if noov is not None:
            _ex().note_overflow(noov(a, b))
        return Sym(op(a, b))

    def __add__(self, o):
        return self._arith(o, lambda a, b: a + b,
                           lambda a, b: z3.And(z3.BVAddNoOverflow(a, b, True), z3.BVAddNoUnderflow(a, b)))

    def __radd__(self, o):
        return self._arith(o, lambda a, b: a + b,
                           lambda a, b: z3.And(z3.BVAddNoOverflow(a, b, True), z3.BVAddNoUnderflow(a, b)), True)

    def __sub__(self, o):
        return self._arith(o, lambda a, b: a - b,
                           lambda a, b: z3.And(z3.BVSubNoOverflow(a, b), z3.BVSubNoUnderflow(a, b, True)))

    def __rsub__(self, o):
        return self._arith(o, lambda a, b: a - b,
                           lambda a, b: z3.And(z3.BVSubNoOverflow(a, b), z3.BVSubNoUnderflow(a, b, True)), True)

    def __mul__(self, o):
        return self._arith(o, lambda a, b: a * b,
                           lambda a, b: z3.And(z3.BVMulNoOverflow(a, b, True), z3.BVMulNoUnderflow(a, b)))

    __rmul__ = __mul__

    def __and__(self, o):
        return self._arith(o, lambda a, b: a & b, None)

    __rand__ = __and__

    def __or__(self, o):
        return self._arith(o, lambda a, b: a | b, None)

    __ror__ = __or__

    def __xor__(self, o):
        return self._arith(o, lambda a, b: a ^ b, None)

    __rxor__ = __xor__

    def __invert__(self):
        return Sym(~self.e)

    def __neg__(self):
        _ex().note_overflow(z3.BVSNegNoOverflow(self.e))
        return Sym(-self.e)

    def __pos__(self):
        return self

    def __lshift__(self, o):
        def noov(a, b):
            return z3.And(b >= 0, b < self.w, (a << b) >> b == a)
        return self._arith(o, lambda a, b: a << b, noov)

    def __rlshift__(self, o):
        def noov(a, b):
            return z3.And(b >= 0, b < self.w, (a << b) >> b == a)
        return self._arith(o, lambda a, b: a << b, noov, True)

    def __rshift__(self, o):  # Python's >> is arithmetic (floor)
        return self._arith(o, lambda a, b: a >> b, lambda a, b: b >= 0)

    def __rrshift__(self, o):
        return self._arith(o, lambda a, b: a >> b, lambda a, b: b >= 0, True)

    def __mod__(self, o):  # Python's % takes the divisor's sign, as SMod
        return self._arith(o, lambda a, b: z3.SMod(a, b),
                           lambda a, b: b != 0)

    def __floordiv__(self, o):
        return self._arith(o, lambda a, b: (a - z3.SMod(a, b)) / b, lambda a, b: b != 0)

    # comparisons: signed
    def _cmp(self, o, op):
        t = self._o(o)
        if t is NotImplemented:
            return NotImplemented
        return SymBool(op(self.e, t))

    def __lt__(self, o):
        return self._cmp(o, lambda a, b: a < b)

    def __le__(self, o):
        return self._cmp(o, lambda a, b: a <= b)

    def __gt__(self, o):
        return self._cmp(o, lambda a, b: a > b)

    def __ge__(self, o):
        return self._cmp(o, lambda a, b: a >= b)

    def __eq__(self, o):  # type: ignore[override]
        t = _term(o, self.w)
        if t is None:
            return SymBool(z3.BoolVal(False))
        return SymBool(self.e == t)

    def __ne__(self, o):  # type: ignore[override]
        t = _term(o, self.w)
        if t is None:
            return SymBool(z3.BoolVal(True))
        return SymBool(self.e != t)

    def __bool__(self) -> bool:
        return _ex().branch(self.e != 0)

    def __index__(self):
        raise Unsupported("symbolic value used as an index / Python int")

    __int__ = __index__

    def __format__(self, spec: str) -> str:
        return "<sym>"

    def __repr__(self) -> str:
        return f"Sym({self.e})"


class SymBool:
    __slots__ = ("b",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, b) -> None:
        self.b = b

    def __bool__(self) -> bool:
        return _ex().branch(self.b)

    def __invert__(self):
        return SymBool(z3.Not(self.b))

    def __and__(self, o):
        return SymBool(z3.And(self.b, o.b if isinstance(o, SymBool) else z3.BoolVal(bool(o))))

    def __or__(self, o):
        return SymBool(z3.Or(self.b, o.b if isinstance(o, SymBool) else z3.BoolVal(bool(o))))


def term(x, width: int = 64):
    """The z3 term of a Sym or a Python int."""
    t = _term(x, width)
    if t is None:
        raise Unsupported(f"not an integer: {x!r}")
    return t


def prove(hyps, goal) -> tuple[str, Any]:
    """'unsat' if hyps => goal is valid; else ('sat', model) or ('unknown', reason)."""
    s = solver()
    s.add(*hyps)
    s.add(z3.Not(goal))
    r = s.check()
    if r == z3.unsat:
        return "unsat", None
    if r == z3.sat:
        return "sat", s.model()
    return "unknown", s.reason_unknown()


def int_identity(*modules):
    """Let `int(x)` on a Sym be x (as int() on a Python int is) inside the given modules, by
    shadowing the builtin in their globals; returns an undo function."""
    import builtins

    def _int(x=0, *a):
        return x if isinstance(x, Sym) and not a else builtins.int(x, *a)
    for m in modules:
        m.__dict__["int"] = _int

    def undo():
        for m in modules:
            m.__dict__.pop("int", None)
    return undo
