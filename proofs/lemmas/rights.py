"""The rights lattice (DESIGN §1.3): a descriptor's rights only ever shrink.

The steps are derived from the code by running it on symbolic rights (`proofs.symbolic`):
  - impl `FdTable.narrow` and model `FdTable.set_rights` (fd_fdstat_set_rights),
  - model `fdtable.narrow` (the rights a descriptor opened through a directory gets),
  - impl `FdTable.get` / `get_kind` and model `require_rights` (every operation checks its right).
Then, over an unbounded table (z3 arrays indexed by any integer fd), an inductive invariant --
every open descriptor's base and inheriting rights lie within what its preopen was granted -- holds
initially and is preserved by set_rights, opening through a directory, close and renumber. The
universally quantified hypothesis is instantiated by hand at the descriptors a step touches, so the
proof is quantifier-free and cannot answer `unknown` for quantifier reasons.
"""
from __future__ import annotations

import random
import time

import z3

from proofs.core import Z3, Counterexample, Outcome, Unknown, obligation
from proofs.symbolic import Explorer, Sym, Unsupported, int_identity, prove, term

W = 64
RMAX = (1 << 30) - 1  # ALL_RIGHTS


def _rights(ex: Explorer, name: str):
    v = ex.var(name)
    return v, z3.And(v.e >= 0, v.e <= RMAX)


def _sub(a, b):
    """a ⊆ b as bit sets."""
    return a & ~b == 0


def _one_return(paths, what):
    rets = [p for p in paths if p.kind == "return"]
    if not rets:
        raise Counterexample(f"{what} never succeeds")
    for p in paths:
        if p.kind not in ("return", "errno"):
            raise Counterexample(f"{what}: a path ends with {p.kind} {p.value!r}")
    return rets


def derive_set_rights_impl():
    """Paths of impl FdTable.narrow(desc, b, i): [(cond, new_base, new_inh)] over (B0, I0, b, i)."""
    from vwasm.fdtable import FILE, Descriptor, FdTable
    from vwasm.model.wasi import Filetype
    ex = Explorer(W)
    (B0, g1), (I0, g2), (b, g3), (i, g4) = (_rights(ex, n) for n in ("B0", "I0", "b", "i"))

    def run():
        d = Descriptor(FILE, None, Filetype.REGULAR_FILE, B0, I0)
        FdTable.narrow(d, b, i)
        return d.rights_base, d.rights_inheriting
    paths = ex.explore(run, [g1, g2, g3, g4])
    steps = [(p.condition(), term(p.value[0]), term(p.value[1])) for p in _one_return(paths, "impl narrow")]
    return (B0, I0, b, i), [g1, g2, g3, g4], steps, len(paths)


def derive_set_rights_model():
    from vwasm.model.fdtable import Descriptor, FdTable
    from vwasm.model.wasi import Filetype
    ex = Explorer(W)
    (B0, g1), (I0, g2), (b, g3), (i, g4) = (_rights(ex, n) for n in ("B0", "I0", "b", "i"))

    def run():
        d = Descriptor(Filetype.REGULAR_FILE, B0, I0, RMAX, node=2)
        t = FdTable(((3, d),)).set_rights(3, b, i)
        n = t.get(3)
        return n.rights_base, n.rights_inheriting
    paths = ex.explore(run, [g1, g2, g3, g4])
    steps = [(p.condition(), term(p.value[0]), term(p.value[1])) for p in _one_return(paths, "model set_rights")]
    return (B0, I0, b, i), [g1, g2, g3, g4], steps, len(paths)


def derive_open_model():
    """model fdtable.narrow(requested, parent_inheriting, mask) -> the new descriptor's rights."""
    from vwasm.model import fdtable as mf
    ex = Explorer(W)
    (R, g1), (P, g2), (M, g3) = (_rights(ex, n) for n in ("R", "P", "M"))
    paths = ex.explore(lambda: mf.narrow(R, P, M), [g1, g2, g3])
    rets = _one_return(paths, "model narrow")
    return (R, P, M), [g1, g2, g3], [(p.condition(), term(p.value)) for p in rets], len(paths)


def check_gates() -> int:
    """get/get_kind/require_rights succeed only when the asked rights are held."""
    from vwasm.fdtable import DIR, Descriptor, FdTable
    from vwasm.model import fdtable as mf
    from vwasm.model.wasi import Filetype
    n = 0
    gates = {
        "impl FdTable.get": lambda t, d, r: t.get(5, r),
        "impl FdTable.get_kind": lambda t, d, r: t.get_kind(5, (DIR,), r),
        "model require_rights": lambda t, d, r: mf.require_rights(
            mf.Descriptor(Filetype.REGULAR_FILE, d.rights_base, 0, RMAX, node=2), r),
    }
    for what, gate in gates.items():
        ex = Explorer(W)
        (B, g1), (R, g2) = _rights(ex, "B"), _rights(ex, "R")

        def run():  # a directory: the table's view for C (which would store the symbolic rights) skips it
            d = Descriptor(DIR, None, Filetype.DIRECTORY, B, 0)
            t = FdTable()
            t.place(5, d)
            gate(t, d, R)
        paths = ex.explore(run, [g1, g2])
        n += len(paths)
        for p in paths:
            if p.kind not in ("return", "errno"):
                raise Counterexample(f"{what}: a path ends with {p.kind} {p.value!r}")
        rets = [p for p in paths if p.kind == "return"]
        ok = z3.Or(*[p.condition() for p in rets]) if rets else z3.BoolVal(False)
        r, m = prove([g1, g2], ok == _sub(R.e, B.e))
        if r == "sat":
            raise Counterexample(f"{what}: rights {m.eval(R.e)} asked of a descriptor holding {m.eval(B.e)}: "
                                 f"{'allowed' if z3.is_true(m.eval(ok)) else 'refused'}")
        if r == "unknown":
            raise Unknown(f"{what}: {m}")
    return n


@obligation("rights.lattice", family=Z3, tool="z3", guarantee="3 descriptor isolation",
            bound="unbounded table (arrays over all fds), all 30-bit rights sets", budget=30)
def rights_lemma() -> Outcome:
    t0 = time.perf_counter()
    import vwasm.fdtable as impl_fdtable
    import vwasm.model.fdtable as model_fdtable
    undo = int_identity(impl_fdtable, model_fdtable)
    try:
        impl = derive_set_rights_impl()
        model = derive_set_rights_model()
        opn = derive_open_model()
        gate_paths = check_gates()
    except Unsupported as e:
        raise Unknown(f"cannot derive: {e}")
    finally:
        undo()
    nproved = 0

    # 1. set_rights never adds a bit (impl and model), and both agree exactly.
    for label, (vars_, guards, steps, _) in (("impl FdTable.narrow", impl), ("model FdTable.set_rights", model)):
        B0, I0, b, i = (v.e for v in vars_)
        for cond, nb, ni in steps:
            r, m = prove(guards + [cond], z3.And(_sub(nb, B0), _sub(ni, I0)))
            nproved += 1
            if r == "sat":
                raise Counterexample(f"{label} grows rights: base {m.eval(B0)} -> {m.eval(nb)}, "
                                     f"inheriting {m.eval(I0)} -> {m.eval(ni)}")
            if r == "unknown":
                raise Unknown(str(m))
    (iv, ig, isteps, _), (mv, mg, msteps, _) = impl, model
    sub = list(zip([v.e for v in mv], [v.e for v in iv]))
    impl_ok = z3.Or(*[c for c, _, _ in isteps])
    model_ok = z3.substitute(z3.Or(*[c for c, _, _ in msteps]), *sub)
    r, m = prove(ig, impl_ok == model_ok)
    nproved += 1
    if r != "unsat":
        raise Counterexample(f"impl and model fd_fdstat_set_rights disagree on acceptance: {m}")

    # 2. opening through a directory: the new rights lie within the parent's inheriting rights.
    (R, P, M), og, osteps, _ = opn
    for cond, res in osteps:
        r, m = prove(og + [cond], _sub(res, P.e))
        nproved += 1
        if r == "sat":
            raise Counterexample(f"narrow(requested={m.eval(R.e)}, parent_inheriting={m.eval(P.e)}, "
                                 f"mask={m.eval(M.e)}) = {m.eval(res)} exceeds the parent's inheriting rights")

    # 3. Induction over an unbounded table.
    BV = z3.BitVecSort(W)
    I = z3.IntSort()
    opn_a, base, inh, root = (z3.Array(n, I, s) for n, s in
                              (("open", z3.BoolSort()), ("base", BV), ("inh", BV), ("root", I)))
    grant = z3.Array("grant", I, BV)
    x = z3.Int("x")

    def inv_at(o, b, h, rt, y):
        return z3.Implies(o[y], z3.And(_sub(b[y], grant[rt[y]]), _sub(h[y], grant[rt[y]])))

    def step_proof(label, hyps, post, touched):
        nonlocal nproved
        o2, b2, h2, r2 = post
        inst = [inv_at(opn_a, base, inh, root, y) for y in touched + [x]]
        r, m = prove(hyps + inst, inv_at(o2, b2, h2, r2, x))
        nproved += 1
        if r == "sat":
            raise Counterexample(f"rights invariant not preserved by {label}")
        if r == "unknown":
            raise Unknown(f"{label}: {m}")

    # initially: every open descriptor is its own root, holding at most what was granted
    init = [z3.ForAll([x], z3.Implies(opn_a[x], z3.And(root[x] == x, _sub(base[x], grant[x]),
                                                          _sub(inh[x], grant[x]))))]
    r, m = prove(init, z3.ForAll([x], inv_at(opn_a, base, inh, root, x)))
    nproved += 1
    if r != "unsat":
        raise Unknown(f"initial state: {r}")
    f, t, n = z3.Ints("f t n")
    B0, I0, b, i = (v.e for v in iv)
    for k, (cond, nb, ni) in enumerate(isteps):
        c = z3.substitute(z3.And(cond, nb == nb), (B0, base[f]), (I0, inh[f]))
        nb2 = z3.substitute(nb, (B0, base[f]), (I0, inh[f]))
        ni2 = z3.substitute(ni, (B0, base[f]), (I0, inh[f]))
        step_proof(f"fd_fdstat_set_rights (path {k})", [opn_a[f], c] + ig[2:],
                   (opn_a, z3.Store(base, f, nb2), z3.Store(inh, f, ni2), root), [f])
    rq_b, rq_i, mask_b, mask_i = (z3.BitVec(s, W) for s in ("rq_b", "rq_i", "mask_b", "mask_i"))
    for k, (cond, res) in enumerate(osteps):
        nb = z3.substitute(res, (R.e, rq_b), (P.e, inh[f]), (M.e, mask_b))
        ni = z3.substitute(res, (R.e, rq_i), (P.e, inh[f]), (M.e, mask_i))
        cb = z3.substitute(cond, (R.e, rq_b), (P.e, inh[f]), (M.e, mask_b))
        ci = z3.substitute(cond, (R.e, rq_i), (P.e, inh[f]), (M.e, mask_i))
        step_proof(f"path_open through a directory (path {k})", [opn_a[f], z3.Not(opn_a[n]), cb, ci],
                   (z3.Store(opn_a, n, True), z3.Store(base, n, nb), z3.Store(inh, n, ni),
                    z3.Store(root, n, root[f])), [f, n])
    step_proof("fd_close", [opn_a[f]], (z3.Store(opn_a, f, False), base, inh, root), [f])
    step_proof("fd_renumber", [opn_a[f], f != t],
               (z3.Store(z3.Store(opn_a, f, False), t, True), z3.Store(base, t, base[f]),
                z3.Store(inh, t, inh[f]), z3.Store(root, t, root[f])), [f, t])

    # Tie: concrete inputs through the real code and the derived formulas.
    from vwasm.fdtable import FILE, Descriptor, FdTable
    from vwasm.model.wasi import Filetype, WasiError
    rng = random.Random(2)
    for _ in range(1000):
        vals = [rng.choice([0, RMAX, rng.getrandbits(30)]) for _ in range(4)]
        if rng.random() < 0.5:
            vals[2] &= vals[0]
            vals[3] &= vals[1]
        d = Descriptor(FILE, None, Filetype.REGULAR_FILE, vals[0], vals[1])
        try:
            FdTable.narrow(d, vals[2], vals[3])
            got = (d.rights_base, d.rights_inheriting)
        except WasiError:
            got = None
        env = [(v.e, z3.BitVecVal(c, W)) for v, c in zip(iv, vals)]
        want = None
        for cond, nb, ni in isteps:
            if z3.is_true(z3.simplify(z3.substitute(cond, *env))):
                want = (z3.simplify(z3.substitute(nb, *env)).as_long(), z3.simplify(z3.substitute(ni, *env)).as_long())
        if got != want:
            raise Unknown(f"derived narrow formula and code disagree on {vals}")
    return Outcome(f"z3: {nproved} lemmas unsat (negated) in {(time.perf_counter() - t0) * 1000:.0f} ms "
                   f"(set_rights, open, close, renumber preserve the invariant; {gate_paths} right-check "
                   f"paths exact); 1,000 concrete inputs: code = formula")
