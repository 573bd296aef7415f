"""Path confinement (DESIGN §1.2): resolution never leaves the directory it starts from.

The resolution state is (d, e, t): d directories held below the start (the stack), e symlinks
expanded, t components left; the filesystem is uninterpreted (`child(dir, name)`, `isdir`,
`islink`, and a symlink's components are arbitrary). One step per component kind:

  `/`            escape (EPERM), always
  `.`            nothing changes
  `..`           d = 0: escape; else pop (d-1)
  name, middle   a directory: push child(S[d], name) (d+1); a symlink: expand; else ENOENT/ENOTDIR
  name, last     the result: the entry `name` of S[d] (or expand a followed symlink)
  expansion      e >= 40: ELOOP; else e+1, its components pushed on the worklist

z3 proves, for an unbounded depth and an arbitrary filesystem, that the invariant
"d >= 0, S[0] = start, and each S[k+1] = child(S[k], N[k]) is a directory" (the resolved prefix is
a chain of real names below the start) holds initially and is preserved by every step, that every
result lies in S[d] (so beneath the start), that an escape happens only at `/` or `..` with d = 0,
and that (40 - e, t) decreases lexicographically (termination within the 40-expansion budget).

The steps are tied to the code by tracing: `paths.model` wraps the model's `_Walk` methods and
`paths.impl` the runtime's `Resolver` (over PosixHost, on a real temporary tree) and resolves
thousands of paths (`..` chains, absolute and relative symlinks, loops, 41-link chains, trailing
slashes), checking every recorded step against the same relation (evaluated by z3), that each
result's parent is reached from the start by names alone, and (impl) that the runtime escapes,
loops and succeeds exactly where the model does.
"""
from __future__ import annotations

import os
import random
import sys
import shutil
import tempfile
import time

import z3

from proofs.core import Z3, Counterexample, Outcome, TooLittleEvidence, Unknown, obligation
from proofs.symbolic import solver

BUDGET = 40


# --- the step relation, one definition used both for the proofs and to check traces -----------------
def step_ok(kind, d, e, t, d2, e2, outcome, budget=BUDGET):
    """A z3 formula: the step of `kind` from (d, e, t) to (d2, e2) with `outcome` is allowed.

    outcome: 0 continue, 1 escape, 2 loop, 3 result, 4 other error (ENOENT, ENOTDIR, ...);
    traces use 5 for an expansion that pushed anything but the link's components (never allowed).
    kind: 0 '/', 1 '.', 2 '..', 3 name (descend), 4 expansion, 5 name (last / result)."""
    Or, And = z3.Or, z3.And
    return Or(
        And(kind == 0, outcome == 1),
        And(kind == 1, outcome == 0, d2 == d, e2 == e),
        And(kind == 2, d == 0, outcome == 1),
        And(kind == 2, d > 0, outcome == 0, d2 == d - 1, e2 == e),
        And(kind == 3, outcome == 0, d2 == d + 1, e2 == e),
        And(kind == 3, outcome == 4),
        And(kind == 4, e >= budget, outcome == 2),
        And(kind == 4, e < budget, outcome == 0, d2 == d, e2 == e + 1),
        And(kind == 4, e < budget, outcome == 4, e2 == e + 1),  # an empty link text: ENOENT
        And(kind == 5, outcome == 3, d2 == d, e2 == e),
        And(kind == 5, outcome == 4),
    )


def prove_induction() -> tuple[int, float]:
    """The invariant and the ranking, over an arbitrary filesystem and unbounded depth."""
    t0 = time.perf_counter()
    Node = z3.IntSort()
    child = z3.Function("child", Node, z3.IntSort(), Node)
    isdir = z3.Function("isdir", Node, z3.BoolSort())
    S, S2 = z3.Array("S", z3.IntSort(), Node), z3.Array("S2", z3.IntSort(), Node)
    N, N2 = z3.Array("N", z3.IntSort(), z3.IntSort()), z3.Array("N2", z3.IntSort(), z3.IntSort())
    start, name = z3.Ints("start name")
    d, e, t, d2, e2, t2, kind, out, k = z3.Ints("d e t d2 e2 t2 kind out k")

    def inv(S, N, d, e):
        return z3.And(d >= 0, e >= 0, e <= BUDGET, S[0] == start, z3.ForAll([k], z3.Implies(
            z3.And(0 <= k, k < d), z3.And(S[k + 1] == child(S[k], N[k]), isdir(S[k + 1])))))

    n = 0

    def valid(hyps, goal, what):
        nonlocal n
        s = solver()
        s.add(*hyps)
        s.add(z3.Not(goal))
        r = s.check()
        n += 1
        if r == z3.sat:
            raise Counterexample(f"path confinement: {what} fails: {s.model()}")
        if r == z3.unknown:
            raise Unknown(f"path confinement: {what}: {s.reason_unknown()}")

    # initially: nothing held, nothing expanded
    valid([], inv(z3.Store(S, 0, start), N, z3.IntVal(0), z3.IntVal(0)), "initial state")
    # what each continuing step does to the stack (the relation fixes d2, e2; the stack follows)
    c = child(S[d], name)
    stack_after = z3.And(
        z3.Implies(z3.And(kind == 3, out == 0), z3.And(isdir(c), S2 == z3.Store(S, d + 1, c),
                                                        N2 == z3.Store(N, d, name))),
        z3.Implies(z3.Not(z3.And(kind == 3, out == 0)), z3.And(S2 == S, N2 == N)))
    rel = step_ok(kind, d, e, t, d2, e2, out)
    valid([inv(S, N, d, e), rel, stack_after, out == 0], inv(S2, N2, d2, e2), "invariant preservation")
    # escapes only at '/' or at '..' with nothing held
    valid([inv(S, N, d, e), rel], z3.Implies(out == 1, z3.Or(kind == 0, z3.And(kind == 2, d == 0))),
          "escape only at '/' or top-level '..'")
    # a result names an entry of S[d], a directory reached from the start by names
    k0 = z3.Int("k0")  # any level of the held chain (skolemised goal)
    valid([inv(S, N, d, e), rel, out == 3], z3.And(d2 == d, d >= 0, z3.Implies(
        z3.And(0 <= k0, k0 < d), z3.And(S[k0 + 1] == child(S[k0], N[k0]), isdir(S[k0 + 1])))),
        "results lie beneath the start")
    # termination: (BUDGET - e, t) decreases; an expansion may push any number of components
    grows = z3.And(z3.Implies(kind == 4, t2 >= 0), z3.Implies(kind != 4, t2 == t - 1))
    valid([inv(S, N, d, e), rel, out == 0, t >= 1, grows],
          z3.And(BUDGET - e2 >= 0, z3.Or(BUDGET - e2 < BUDGET - e, z3.And(e2 == e, t2 < t))),
          "ranking (40 - e, t) decreases")
    return n, time.perf_counter() - t0


def pushed(text: str) -> list[str]:
    """What expanding a link with this text pushes on the worklist (next component last): its
    components in order, `/` first when absolute, empty ones dropped -- so an absolute text meets
    the `/` step, an escape. (Outcome 5 in a trace: the code pushed something else.)"""
    comps = [c for c in text.split("/") if c]
    if text.startswith("/"):
        comps.insert(0, "/")
    return comps[::-1]


_STEP_MEMO: dict = {}


def check_step(kind, d, e, t, d2, e2, outcome) -> bool:
    """Evaluate the relation (by z3) on a concrete step; t does not constrain a step, so it is not a key."""
    key = (kind, d, e, d2, e2, outcome)
    if key not in _STEP_MEMO:
        _STEP_MEMO[key] = _check_step(kind, d, e, t, d2, e2, outcome)
    return _STEP_MEMO[key]


def _check_step(kind, d, e, t, d2, e2, outcome) -> bool:
    f = step_ok(z3.IntVal(kind), z3.IntVal(d), z3.IntVal(e), z3.IntVal(t),
                z3.IntVal(d2), z3.IntVal(e2), z3.IntVal(outcome))
    return z3.is_true(z3.simplify(f))


# --- the test tree ----------------------------------------------------------------------------------
LINKS = {
    "up": "..", "loop": "loop", "abs": "/etc", "absdir": "/", "esc": "../..", "ok": "a/b", "dang": "missing",
    "slash": "a/", "fslash": "f/", "inner": "a/../a/b/c", "deep": "a/b/../../up", "self": ".",
    "a/b/back": "../../a", "a/b/out": "../../..", "a/b/rel": "../f2", "a/hop": "b/back/b",
}


def build_tree(root: str, chain: int = 41) -> None:
    os.makedirs(os.path.join(root, "a", "b", "c"))
    for f in ("f", "a/f2", "a/b/c/g"):
        with open(os.path.join(root, f), "w") as fh:
            fh.write(f)
    for name, target in LINKS.items():
        os.symlink(target, os.path.join(root, name))
    # chain0 -> chain1 -> ... -> chain{chain-1} -> a: chain0 needs `chain` expansions
    for i in range(chain):
        os.symlink(f"chain{i + 1}" if i + 1 < chain else "a", os.path.join(root, f"chain{i}"))


COMPONENTS = ["a", "b", "c", "f", "f2", "g", ".", "..", "x", "up", "loop", "abs", "absdir", "esc", "ok",
              "dang", "slash", "fslash", "inner", "deep", "self", "back", "out", "rel", "hop",
              "chain0", "chain1", "chain2", "chain5"]


def random_paths(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = ["..", "/", "/etc", "a/../..", "a/../../box/a", "chain0", "chain1", "chain0/", "chain1/b",
           "loop", "loop/", "abs", "abs/", "a/b/out", "a/b/out/x", "a/hop/c/g", "up/x", "a/b/../../..", ".",
           # plain names through symlinks out of the preopen, to a file there; and through one inside
           "up/secret", "a/b/out/secret", "up/box/f", "ok/c/g", "a/b/c/g", "slash/f2", "a/f2", "a/b", "a/b/c"]
    while len(out) < n:
        k = rng.randint(1, 5)
        p = "/".join(rng.choice(COMPONENTS) for _ in range(k))
        r = rng.random()
        if r < 0.08:
            p = "/" + p
        elif r < 0.25:
            p += "/"
        elif r < 0.3:
            p = p.replace("/", "//")
        out.append(p)
    return out


# --- tracing the model -------------------------------------------------------------------------------
class Trace(list):
    pass


def _errno(exc):
    from vwasm.model.wasi import Errno
    return {Errno.PERM: 1, Errno.LOOP: 2}.get(getattr(exc, "errno", None), 4)


def trace_model(fs, start, path, follow, steps: list):
    """Resolve with the model, appending (kind, d, e, t, d2, e2, outcome, detail) per step."""
    from vwasm.model import paths as mp
    from vwasm.model.wasi import WasiError

    orig = {n: getattr(mp._Walk, n) for n in ("cur_dir", "parent_dir", "normal", "symlink")}
    orig_escape = mp.escape
    state = {"walk": None}

    def wrap(name, kind_of):
        fn = orig[name]

        def w(self, *a):
            state["walk"] = self
            d, e, t = len(self.dirs), self.expansions, len(self.todo)
            kind = kind_of(self, *a)
            before = len(steps)
            try:
                r = fn(self, *a)
            except WasiError as ex:
                if len(steps) == before:  # (an expansion inside normal() recorded itself)
                    steps.append((kind, d, e, t, len(self.dirs), self.expansions, _errno(ex), (name, a)))
                raise
            if len(steps) > before:
                return r
            if name == "symlink" and self.todo[t:] != pushed(a[0].target):
                steps.append((4, d, e, t, len(self.dirs), self.expansions, 5, (name, a)))
                return r
            if name == "normal":
                if r is not None:
                    steps.append((5, d, e, t, len(self.dirs), self.expansions, 3, (name, a)))
                else:
                    steps.append((3, d, e, t, len(self.dirs), self.expansions, 0, (name, a)))
            else:
                steps.append((kind, d, e, t, len(self.dirs), self.expansions, 0, (name, a)))
            return r
        return w

    def kind_normal(self, name):
        return 5 if not self.todo else 3

    patched = {
        "cur_dir": wrap("cur_dir", lambda s: 1),
        "parent_dir": wrap("parent_dir", lambda s: 2),
        "normal": wrap("normal", kind_normal),
        "symlink": wrap("symlink", lambda s, link: 4),
    }

    def escape_traced():
        w = state["walk"]
        # `/` is dispatched by resolve() itself; the `..` escape is recorded by parent_dir's wrapper
        if sys._getframe(1).f_code.co_name == "resolve":
            steps.append((0, len(w.dirs) if w else 0, w.expansions if w else 0, 0, 0, 0, 1, ("/",)))
        return orig_escape()

    for n, f in patched.items():
        setattr(mp._Walk, n, f)
    mp.escape = escape_traced
    try:
        return mp.resolve(fs, start, path, follow)
    finally:
        for n, f in orig.items():
            setattr(mp._Walk, n, f)
        mp.escape = orig_escape


def _model_run(fs, path, follow):
    from vwasm.model.fs import ROOT
    from vwasm.model.wasi import WasiError
    steps: list = []
    try:
        r = trace_model(fs, ROOT, path, follow, steps)
        return ("ok", r), steps
    except WasiError as e:
        return ("err", e.errno), steps


def _check_model_result(fs, path, r) -> None:
    from vwasm.model.fs import ROOT, Dir
    from vwasm.model.paths import beneath
    cur = ROOT
    for name in r.names:
        nxt = fs.lookup(cur, name)
        if nxt is None or not isinstance(fs.node(nxt), Dir):
            raise Counterexample(f"model resolve({path!r}): held prefix {r.names} is not a chain of directories")
        cur = nxt
    if cur != r.parent or not beneath(r.relpath):
        raise Counterexample(f"model resolve({path!r}): parent {r.parent} / relpath {r.relpath!r} not beneath the start")


@obligation("paths.model", family=Z3, tool="z3", guarantee="2 filesystem isolation",
            bound="induction: any fs, any depth, budget 40; trace: 3,000 resolutions", budget=60)
def paths_model() -> Outcome:
    from vwasm.model.fs import FileSystem
    nproofs, tproof = prove_induction()
    tmp = tempfile.mkdtemp(prefix="vwasm-proofs-")
    try:
        build_tree(os.path.join(tmp, "box"))
        fs = FileSystem.from_host(os.path.join(tmp, "box"))
    finally:
        shutil.rmtree(tmp)
    nsteps = 0
    outcomes: dict = {}
    paths = random_paths(1500, seed=3)
    for path in paths:
        for follow in (True, False):
            (kind, val), steps = _model_run(fs, path, follow)
            for st in steps:
                nsteps += 1
                if not check_step(*st[:7]):
                    raise Counterexample(f"model resolve({path!r}, follow={follow}): step {st[7]} from "
                                         f"(depth {st[1]}, expansions {st[2]}) to (depth {st[4]}, expansions "
                                         f"{st[5]}) with outcome {st[6]} is not an allowed step")
            if kind == "ok":
                _check_model_result(fs, path, val)
            outcomes[(kind, val if kind == "err" else "ok")] = outcomes.get((kind, val if kind == "err" else "ok"), 0) + 1
    if nsteps < 5000 or len(outcomes) < 5:
        raise TooLittleEvidence(f"only {nsteps} steps / {len(outcomes)} outcome kinds")
    return Outcome(f"z3: {nproofs} induction lemmas unsat (negated) in {tproof * 1000:.0f} ms; "
                   f"{2 * len(paths):,} model resolutions, {nsteps:,} steps on the relation, "
                   f"{len(outcomes)} outcome kinds")


# --- tracing the runtime's resolver ----------------------------------------------------------------
def trace_impl(host, start_fd, path, follow, steps: list, final: bool = True):
    """Resolve (locate) with the runtime's Resolver, recording steps; returns (base ino, name)."""
    from vwasm import resolve as rv
    from vwasm.model.wasi import WasiError

    orig = {n: getattr(rv.Resolver, n) for n in ("root", "cur_dir", "parent_dir", "normal", "symlink")}

    def wrap(name, kind):
        fn = orig[name]

        def w(self, *a):
            d, e, t = len(self.stack), self.expansions, len(self.todo)
            before = len(steps)
            try:
                r = fn(self, *a)
            except WasiError as ex:
                if len(steps) == before:  # (an expansion inside normal() recorded itself)
                    steps.append((kind, d, e, t, len(self.stack), self.expansions, _errno(ex), (name, a)))
                raise
            if name == "symlink" and self.todo[t:] != pushed(a[0]):
                steps.append((4, d, e, t, len(self.stack), self.expansions, 5, (name, a)))
            elif len(steps) == before:
                steps.append((kind, d, e, t, len(self.stack), self.expansions, 0, (name, a)))
            return r
        return w

    for n, k in (("root", 0), ("cur_dir", 1), ("parent_dir", 2), ("normal", 3), ("symlink", 4)):
        setattr(rv.Resolver, n, wrap(n, k))
    try:
        with rv.Resolver(host, start_fd, path, follow) as r:
            base, name = r.locate()
            st = os.fstat(base)
            return (st.st_dev, st.st_ino), name
    finally:
        for n, f in orig.items():
            setattr(rv.Resolver, n, f)


class WalkOnly:
    """A host that resolves no path whole: the walk alone, component by component."""

    dir_beneath = None

    def __init__(self, host) -> None:
        self.host = host

    def __getattr__(self, name):
        return getattr(self.host, name)


def entry_impl(host, start, path: str, follow: bool, whole: bool) -> tuple[str, object, list[str]]:
    """`Resolver.locate_entry`, as the entry calls (unlink, rename, mkdir, set_times, ...) use it: with
    the directories before the final name entered whole when they can be (`whole`), or walked: ("ok",
    ((dev, ino) of the directory, the name)) or ("err", errno), and the host calls."""
    from vwasm import resolve as rv
    from vwasm.model.wasi import WasiError
    calls = Calls(host if whole else WalkOnly(host))
    try:
        with rv.Resolver(calls, start, path, follow=follow) as r:
            base, name = r.locate_entry()
            st = os.fstat(base)
    except WasiError as e:
        return "err", e.errno, calls.names
    return "ok", ((st.st_dev, st.st_ino), name), calls.names


class Calls:
    """A host that records the name of every call made of it."""

    def __init__(self, host) -> None:
        self.host, self.names = host, []

    def __getattr__(self, name):
        method = getattr(self.host, name)
        if method is None:  # a lookup the host does not offer (WalkOnly, audit's TracingHost)
            return None

        def call(*args, **kw):
            self.names.append(name)
            return method(*args, **kw)
        return call


def open_impl(host, start, path: str, follow: bool) -> tuple[str, object, list[str]]:
    """`resolve.open_at` for reading, as path_open calls it (a plain path of several names resolved
    whole by the kernel first, refusing symlinks and escapes): ("ok", the (dev, ino) opened) or
    ("err", errno), and the host calls it made."""
    from vwasm import resolve as rv
    from vwasm.model.wasi import WasiError
    calls = Calls(host)
    try:
        handle, _ = rv.open_at(calls, start, path, rv.Open.READ, follow)
    except WasiError as e:
        return "err", e.errno, calls.names
    try:
        st = os.fstat(handle)
        return "ok", (st.st_dev, st.st_ino), calls.names
    finally:
        host.close(handle)


def whole_path_rules_problem() -> str | None:
    """The rules on a whole path, before any lookup (empty, NUL, too long, and each two at once), as
    the model and the runtime apply them: the same errno, in the same order, or both pass; or None."""
    from vwasm import resolve
    from vwasm.model import paths as model_paths
    from vwasm.model.wasi import WasiError
    limit = model_paths.PATH_MAX
    for path in ("", "\0", "a\0b", "x" * (limit - 1), "x" * limit, "\0" + "x" * limit, "x" * limit + "\0",
                 "\u00e9" * (limit // 2), "\u00e9" * (limit // 2 - 1) + "x", "a/b"):
        outcomes = []
        for rules in (model_paths.check_path, resolve.check_path):
            try:
                rules(path)
                outcomes.append(None)
            except WasiError as e:
                outcomes.append(e.errno)
        if outcomes[0] != outcomes[1]:
            return f"a path of {len(path)} characters ({path[:8]!r}...): the model {outcomes[0]}, the runtime {outcomes[1]}"
    return None


def stat_impl(host, start, path: str, whole: bool) -> tuple[str, object, list[str]]:
    """`resolve.lstat_at`, as path_filestat_get calls it (whole: a plain path of several names
    resolved whole by the kernel first), or the walk alone (not whole): ("ok", (dev, ino, filetype))
    or ("err", errno), and the host calls it made."""
    from vwasm import resolve as rv
    from vwasm.model.wasi import WasiError
    calls = Calls(host)
    try:
        if whole:
            st = rv.lstat_at(calls, start, path)
        else:
            with rv.Resolver(calls, start, path, follow=False) as r:
                st = calls.fstatat(*r.locate_entry())
    except WasiError as e:
        return "err", e.errno, calls.names
    return "ok", (st.dev, st.ino, st.filetype), calls.names


@obligation("paths.impl", family=Z3, tool="z3", guarantee="2 filesystem isolation",
            bound="relation of paths.model; 3,000 resolutions, 3,000 opens, 1,500 lstats and 3,000 entries located by the "
                  "runtime over PosixHost", budget=60)
def paths_impl() -> Outcome:
    from vwasm.posix_host import PosixHost
    from vwasm.model.fs import FileSystem
    from vwasm.model.wasi import WasiError

    host = PosixHost()
    tmp = tempfile.mkdtemp(prefix="vwasm-proofs-")
    nsteps = whole = missing = stats = entered = 0
    agree = 0
    outcomes: dict = {}
    try:
        box = os.path.join(tmp, "box")
        build_tree(box)
        with open(os.path.join(tmp, "secret"), "w") as fh:
            fh.write("outside")
        fs = FileSystem.from_host(box)
        inside, inside_files = set(), set()
        for dirpath, dirnames, filenames in os.walk(box):  # os.walk does not follow symlinks
            st = os.stat(dirpath)
            inside.add((st.st_dev, st.st_ino))
            for name in filenames:
                st = os.lstat(os.path.join(dirpath, name))
                inside_files.add((st.st_dev, st.st_ino))
        start = host.open_preopen(box)
        paths = random_paths(1500, seed=4)
        try:
            for path in paths:
                for follow in (True, False):
                    steps: list = []
                    try:
                        base, name = trace_impl(WalkOnly(host), start, path, follow, steps)
                        impl = ("ok", name)
                    except WasiError as e:
                        base, impl = None, ("err", e.errno)
                    for st in steps:
                        nsteps += 1
                        if not check_step(*st[:7]):
                            raise Counterexample(
                                f"runtime resolve({path!r}, follow={follow}): step {st[7][0]} from (depth {st[1]}, "
                                f"expansions {st[2]}) to (depth {st[4]}, expansions {st[5]}) with outcome "
                                f"{st[6]} is not an allowed step")
                    if base is not None and base not in inside:
                        raise Counterexample(f"runtime resolve({path!r}, follow={follow}) ended in a directory "
                                             f"outside the preopen")
                    (mk, mv), model_steps = _model_run(fs, path, follow)
                    model = ("ok", mv.name) if mk == "ok" else ("err", mv)
                    # The runtime's locate() leaves the final entry unchecked (the *at() call decides), so
                    # compare on the outcomes both decide: escapes, loops, and where both succeed.
                    from vwasm.model.wasi import Errno
                    m_cls = model[1] if model[0] == "err" and model[1] in (Errno.PERM, Errno.LOOP) else "other"
                    i_cls = impl[1] if impl[0] == "err" and impl[1] in (Errno.PERM, Errno.LOOP) else "other"
                    if m_cls != i_cls and not (m_cls == "other" and model[0] == "err"):
                        raise Counterexample(f"resolve({path!r}, follow={follow}): runtime {impl}, model {model}")
                    opened = open_impl(host, start, path, follow)
                    # Only plain names are offered whole; through directories alone (the model
                    # expanded no symlink) they are opened -- or found missing -- by that one call,
                    # never walked; and so is one plain name, by one openat from the start.
                    plain = not {"", ".", ".."} & set(path.split("/"))
                    several = plain and "/" in path
                    if not several and "open_beneath" in opened[2]:
                        raise Counterexample(f"open_at({path!r}): not plain names, yet offered whole ({opened[2]})")
                    decided = (opened[0] == "ok" or opened[1] == Errno.NOENT) and plain and \
                        not any(step[0] == 4 for step in model_steps)
                    if decided and not several and opened[2] != ["open_file"]:
                        raise Counterexample(f"open_at({path!r}, follow={follow}): a plain name, {opened[0]} "
                                             f"{opened[1]} by {opened[2]}, not by one openat")
                    if decided and several:
                        whole += 1
                        missing += opened[0] == "err"
                        if opened[2] != ["open_beneath"]:
                            raise Counterexample(f"open_at({path!r}, follow={follow}): plain names through "
                                                 f"directories alone, {opened[0]} {opened[1]} by {opened[2]}, not "
                                                 "by one whole-path open")
                    if opened[0] == "ok" and opened[1] not in inside | inside_files:
                        raise Counterexample(f"runtime open_at({path!r}, follow={follow}) opened something outside "
                                             "the preopen")
                    if (opened[1] == Errno.PERM) != (model[1] == Errno.PERM):
                        raise Counterexample(f"open_at({path!r}, follow={follow}): runtime {opened}, model {model} "
                                             "(an escape for one only)")
                    # The directories entered whole hold what the walk reaches, the same way.
                    entry = entry_impl(host, start, path, follow, True)
                    walked = entry_impl(host, start, path, follow, False)
                    if entry[:2] != walked[:2]:
                        raise Counterexample(f"locate_entry({path!r}, follow={follow}): {entry[:2]}, where the "
                                             f"walk reaches {walked[:2]}")
                    if entry[0] == "ok" and entry[1][0] not in inside:
                        raise Counterexample(f"locate_entry({path!r}) ended in a directory outside the preopen")
                    if not follow:
                        # (components as the walk sees them: empty ones dropped; a trailing slash asks
                        # for a directory, which the last name is then looked up as)
                        parts = [c for c in path.split("/") if c]
                        dirs = (len(parts) >= 3 and not {".", ".."} & set(parts) and not path.startswith("/")
                                and not path.endswith("/"))
                        if (dirs and (entry[0] == "ok" or entry[1] == Errno.NOENT)
                                and not any(step[0] == 4 for step in model_steps)):
                            entered += 1
                            if [n for n in entry[2] if n != "close"] != ["dir_beneath"]:  # (and its close)
                                raise Counterexample(f"locate_entry({path!r}): plain names through directories "
                                                     f"alone, {entry[0]} {entry[1]} by {entry[2]}, not by one "
                                                     "whole-path lookup")
                        if not dirs and "dir_beneath" in entry[2]:
                            raise Counterexample(f"locate_entry({path!r}): not two directories of plain names "
                                                 "before the last, yet entered whole")
                    if not follow:  # lstat: the whole-path lookup finds what the walk finds, the same way
                        stat, walked = stat_impl(host, start, path, True), stat_impl(host, start, path, False)
                        if stat[:2] != walked[:2]:
                            raise Counterexample(f"lstat_at({path!r}): {stat[:2]}, where the walk finds "
                                                 f"{walked[:2]}")
                        decided = (stat[0] == "ok" or stat[1] == Errno.NOENT) and plain and \
                            not any(step[0] == 4 for step in model_steps)
                        if decided:
                            stats += several
                            if stat[2] != ["stat_beneath" if several else "fstatat"]:
                                raise Counterexample(f"lstat_at({path!r}): plain names through directories "
                                                     f"alone, {stat[0]} {stat[1]} by {stat[2]}, not by one "
                                                     "lookup")
                        if not several and "stat_beneath" in stat[2]:
                            raise Counterexample(f"lstat_at({path!r}): not plain names, yet offered whole")
                    agree += 1
                    outcomes[str(impl[1] if impl[0] == "err" else "ok")] = 1
        finally:
            host.close(start)
    finally:
        shutil.rmtree(tmp)
    problem = whole_path_rules_problem()
    if problem:
        raise Counterexample(f"the rules on a whole path: {problem}")
    if nsteps < 5000 or len(outcomes) < 4 or not whole - missing or not missing or not stats or not entered:
        raise TooLittleEvidence(f"only {nsteps} steps / {len(outcomes)} outcome kinds / {whole} whole-path opens "
                                f"({missing} of a missing name)")
    return Outcome(f"{nsteps:,} runtime steps on the proved relation (z3-evaluated); {agree:,} resolutions "
                   f"and as many opens ({whole} of several plain names, resolved whole: {missing} found missing) stay "
                   f"inside the preopen and agree with the model on escape/loop; {len(outcomes)} outcome kinds; "
                   f"1,500 lstats find what the walk finds ({stats} resolved whole), and 3,000 entries "
                   f"located reach what the walk reaches ({entered} through directories entered whole)")
