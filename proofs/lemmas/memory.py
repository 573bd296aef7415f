"""Pointer arithmetic (DESIGN §1.1): guest memory is only touched inside [0, size), aligned.

`memory.check`: GuestMemory.check(ptr, len, align) returns iff [ptr, ptr+len) ⊆ [0, size) and
ptr % align == 0, for every 32-bit ptr and len and every memory size up to 4 GiB (no wrap-around).
The accepting condition is derived by running the real method on symbolic values; z3 proves it
equal to the specification; 3,000 concrete inputs (boundaries and random) then check code, derived
formula and specification agree.

`memory.accessors`: every accessor (slice, read, write, path, load, store, u32, put_u32, put_u64,
iovecs, strings) is run on symbolic pointers over a symbolic view that records each byte range the
code touches; z3 proves, path by path, that every touched range lies in memory and every record is
aligned, and that no path which traps wrote anything first. A syntax scan checks the handlers reach
memory only through `cx.mem`'s methods.
"""
from __future__ import annotations

import ast
import random
import time
from pathlib import Path as FsPath

import z3

from proofs.core import Z3, Counterexample, Outcome, TooLittleEvidence, Unknown, obligation
from proofs.symbolic import Explorer, Sym, Unsupported, prove, term

U32 = 1 << 32
ALIGNS = (1, 2, 4, 8)


def _guard(x: Sym, lo: int, hi: int):
    return z3.And(x.e >= lo, x.e <= hi)


def _spec(ptr, length, align, size):
    """[ptr, ptr+len) inside [0, size) and aligned -- the specification, on z3 terms."""
    return z3.And(ptr >= 0, length >= 0, ptr + length <= size, z3.SRem(ptr, align) == 0)


def _mem(size):
    from vwasm.memory import GuestMemory
    mem = GuestMemory.over(bytearray())
    mem.size = size
    return mem


@obligation("memory.check", family=Z3, tool="z3", guarantee="1 memory isolation",
            bound="all u32 ptr/len, size ≤ 2^32, align 1/2/4/8 (unbounded)", budget=30)
def check_lemma() -> Outcome:
    from vwasm.errors import Trap
    from vwasm.memory import GuestMemory

    ex = Explorer(width=64)
    ptr, length, size = ex.var("ptr"), ex.var("len"), ex.var("size")
    assume = [_guard(ptr, 0, U32 - 1), _guard(length, 0, U32 - 1), _guard(size, 0, U32)]
    t0 = time.perf_counter()
    accepts = {}
    npaths = 0
    for align in ALIGNS:
        try:
            paths = ex.explore(lambda: GuestMemory.check(_mem(size), ptr, length, align), assume)
        except Unsupported as e:
            raise Unknown(f"cannot derive check(): {e}")
        npaths += len(paths)
        odd = [p for p in paths if p.kind not in ("return", "trap")]
        if odd:
            raise Counterexample(f"check(align={align}) ends with {odd[0].kind} {odd[0].value!r}, not return/trap")
        acc = z3.Or(*[p.condition() for p in paths if p.kind == "return"]) if any(
            p.kind == "return" for p in paths) else z3.BoolVal(False)
        accepts[align] = acc
        r, model = prove(assume, acc == _spec(ptr.e, length.e, align, size.e))
        if r == "sat":
            p, n, s = (model.eval(v.e, model_completion=True).as_signed_long() for v in (ptr, length, size))
            got = "accepts" if z3.is_true(model.eval(acc, model_completion=True)) else "traps"
            raise Counterexample(f"check(ptr={p:#x}, len={n}, align={align}) with memory size {s} {got}")
        if r == "unknown":
            raise Unknown(f"z3 unknown for align {align}: {model}")
    t_proof = time.perf_counter() - t0

    # Tie formula and code: concrete inputs through the real method, the derived formula and the spec.
    rng = random.Random(1)
    edges = [0, 1, 2, 3, 4, 7, 8, 15, 16, 0xFFFF, 0x10000, 0x10001, U32 - 8, U32 - 4, U32 - 1]
    sizes = [0, 1, 8, 16, 0x10000, 0x20000, U32 - 0x10000, U32]
    inputs = []
    for _ in range(3000):
        s = rng.choice(sizes)
        pick = lambda: rng.choice([rng.choice(edges), rng.randrange(U32), max(0, s - rng.randrange(17)),  # noqa: E731
                                   min(U32 - 1, s + rng.randrange(3))])
        inputs.append((pick(), pick(), rng.choice(ALIGNS), s))
    for p, n, a, s in inputs:
        try:
            GuestMemory.check(_mem(s), p, n, a)
            code = True
        except Trap:
            code = False
        spec = p + n <= s and p % a == 0
        f = z3.simplify(z3.substitute(accepts[a], (ptr.e, z3.BitVecVal(p, 64)), (length.e, z3.BitVecVal(n, 64)),
                                      (size.e, z3.BitVecVal(s, 64))))
        if code != spec:
            raise Counterexample(f"check(ptr={p:#x}, len={n}, align={a}) with memory size {s}: "
                                 f"{'accepts' if code else 'traps'}, spec says {'accept' if spec else 'trap'}")
        if z3.is_true(f) != code:
            raise Unknown(f"derived formula and code disagree at ptr={p:#x} len={n} align={a} size={s}")
    return Outcome(f"z3: check ≡ spec, negation unsat for 4 alignments ({npaths} paths derived) in "
                   f"{t_proof * 1000:.0f} ms; {len(inputs):,} concrete inputs: code = formula = spec")


# --- accessors ---------------------------------------------------------------------------------------
class SymBytes:
    def __bytes__(self) -> bytes:
        return b""

    def __len__(self) -> int:
        raise Unsupported("length of a symbolic slice")


class SymView:
    """Stands for the memoryview: records every range the code reads or writes."""

    def __init__(self, ex: Explorer, size: Sym) -> None:
        self.ex, self.size = ex, size

    def _range(self, k):
        if isinstance(k, slice):
            if k.step is not None:
                raise Unsupported("strided slice")
            lo = 0 if k.start is None else k.start
            hi = self.size if k.stop is None else k.stop
            return lo, hi
        return k, k + 1

    def __getitem__(self, k):
        lo, hi = self._range(k)
        self.ex.record(("read", lo, hi, 1))
        return SymBytes() if isinstance(k, slice) else self.ex.var("byte")

    def __setitem__(self, k, v) -> None:
        lo, hi = self._range(k)
        self.ex.record(("write", lo, hi, 1))


class FakeCodec:
    """Stands for a struct.Struct: records the bytes and alignment each record access needs."""

    def __init__(self, size: int, align: int, nvals: int) -> None:
        self.size, self.align, self.nvals = size, align, nvals

    def unpack_from(self, view, offset=0):
        ex = view.ex
        ex.record(("read", offset, offset + self.size, self.align))
        vals = []
        for _ in range(self.nvals):
            v = ex.var(f"field{len(ex.records)}_{len(vals)}")
            # A field read from memory is a u32 (iovec) -- constrain it on this path.
            ex._cond.append(_guard(v, 0, U32 - 1))
            vals.append(v)
        return tuple(vals)

    def pack_into(self, view, offset, *values) -> None:
        view.ex.record(("write", offset, offset + self.size, self.align))


class FakeLayout:
    def __init__(self, name, size, align, nvals=1) -> None:
        self.name, self.size, self.align = name, size, align
        self.codec = FakeCodec(size, align, nvals)


def _accessor_cases():
    from vwasm.model.wasi import EVENT, FDSTAT, FILESTAT, PRESTAT
    layouts = [FakeLayout(lay.name, lay.size, lay.align) for lay in (FDSTAT, FILESTAT, PRESTAT, EVENT)]
    cases = [
        ("slice", lambda m, P, L, B: m.slice(P, L)),
        ("read", lambda m, P, L, B: m.read(P, L)),
        ("path", lambda m, P, L, B: m.path(P, L)),
        ("u32", lambda m, P, L, B: m.u32(P)),
        ("put_u32", lambda m, P, L, B: m.put_u32(P, 7)),
        ("put_u64", lambda m, P, L, B: m.put_u64(P, 7)),
    ]
    for n in (0, 1, 5):
        cases.append((f"write[{n}]", lambda m, P, L, B, n=n: m.write(P, b"x" * n)))
    for lay in layouts:
        cases.append((f"load[{lay.name}]", lambda m, P, L, B, lay=lay: m.load(lay, P)))
        cases.append((f"store[{lay.name}]", lambda m, P, L, B, lay=lay: m.store(lay, P, 1)))
        cases.append((f"check_record[{lay.name}]", lambda m, P, L, B, lay=lay: m.check_record(lay, P)))
    for count in (0, 1, 2, 3):
        cases.append((f"iovecs[{count}]", lambda m, P, L, B, c=count: m.iovecs(P, c)))
    for items in ([], [b""], [b"ab", b"c"], [b"xyz"] * 3):
        cases.append((f"strings[{len(items)}]", lambda m, P, L, B, it=items: m.strings(it, P, B)))
    return cases


def _scan_handlers() -> tuple[int, int, list[str]]:
    """Handlers use guest memory only through `cx.mem.<method>` (never .view / struct / ctypes)."""
    import vwasm.syscalls as sc
    root = FsPath(sc.__file__).parent
    calls, bad, files = 0, [], 0
    for f in sorted(root.glob("*.py")):
        files += 1
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("view", "_mem", "_ctx"):
                bad.append(f"{f.name}:{node.lineno} uses .{node.attr}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in ("struct", "ctypes", "os", "wasmtime") for n in names):
                    bad.append(f"{f.name}:{node.lineno} imports {names}")
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "mem"):
                calls += 1
    return files, calls, bad


@obligation("memory.accessors", family=Z3, tool="z3", guarantee="1 memory isolation",
            bound="every accessor, all u32 pointers/lengths/iovec fields, size ≤ 2^32", budget=60)
def accessors_lemma() -> Outcome:
    import vwasm.memory as vm

    files, calls, bad = _scan_handlers()
    if bad:
        raise Counterexample("handler bypasses GuestMemory: " + "; ".join(bad[:3]))
    saved = (vm._U32, vm._U64, vm._IOVEC)
    vm._U32, vm._U64, vm._IOVEC = FakeCodec(4, 4, 1), FakeCodec(8, 8, 1), FakeCodec(8, 4, 2)
    t0 = time.perf_counter()
    npaths = nobl = 0
    try:
        for name, call in _accessor_cases():
            ex = Explorer(width=64)
            P, L, B, size = ex.var("ptr"), ex.var("len"), ex.var("buf"), ex.var("size")
            assume = [_guard(P, 0, U32 - 1), _guard(L, 0, U32 - 1), _guard(B, 0, U32 - 1), _guard(size, 0, U32)]

            def run():
                m = vm.GuestMemory.over(bytearray())
                m.size = size
                m.view = SymView(ex, size)
                return call(m, P, L, B)
            try:
                paths = ex.explore(run, assume)
            except Unsupported as e:
                raise Unknown(f"{name}: cannot explore: {e}")
            npaths += len(paths)
            for p in paths:
                if p.kind not in ("return", "trap", "errno"):
                    raise Counterexample(f"{name}: a path ends with {p.kind} {p.value!r}")
                for kind, lo, hi, align in p.records:
                    lo_t, hi_t = term(lo), term(hi)
                    goal = z3.And(lo_t >= 0, lo_t <= hi_t, hi_t <= size.e,
                                  z3.SRem(lo_t, align) == 0)
                    nobl += 1
                    r, model = prove(assume + p.cond, goal)
                    if r == "sat":
                        vp, vl, vb, vs = (model.eval(v.e, model_completion=True).as_signed_long()
                                          for v in (P, L, B, size))
                        raise Counterexample(
                            f"{name}: {kind} of [{model.eval(lo_t, model_completion=True).as_signed_long():#x}, "
                            f"{model.eval(hi_t, model_completion=True).as_signed_long():#x}) align {align} outside memory/alignment "
                            f"(ptr={vp:#x} len={vl} buf={vb:#x} size={vs})")
                    if r == "unknown":
                        raise Unknown(f"{name}: z3 unknown ({model})")
                if p.kind == "trap" and any(k == "write" for k, *_ in p.records):
                    raise Counterexample(f"{name}: writes guest memory and then traps")
    finally:
        vm._U32, vm._U64, vm._IOVEC = saved
    if npaths < 40 or calls < 10:
        raise TooLittleEvidence(f"only {npaths} paths / {calls} cx.mem uses")
    return Outcome(f"z3: {nobl} in-bounds/aligned obligations unsat (negated) over {npaths} paths of "
                   f"{len(_accessor_cases())} accessor cases in {(time.perf_counter() - t0) * 1000:.0f} ms; "
                   f"{files} handler modules, {calls} cx.mem uses, 0 direct")
