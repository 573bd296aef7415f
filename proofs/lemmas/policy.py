"""The safety policy itself (`model/effects.py`): what audit mode, `vwasm audit` and the model's
contracts judge effects by. Every other obligation assumes it says what SECURITY.md says; this one
checks that it does, against definitions written here independently, over every effect of a bounded
alphabet (a weaker policy would let every other check pass)."""
from __future__ import annotations

import itertools
import posixpath
import time

from proofs.core import Z3, Counterexample, Outcome, TooLittleEvidence, obligation

SIZES = (0, 1, 2, 7, 1 << 16)
POINTS = (0, 1, 2, 6, 7, 8, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, (1 << 32) - 1, -1)
ALPHABET = ("a", ".", "/", "\0")  # path strings of up to 5 of these: every shape of component
OWNED, OTHER = 3, 9
N_CASES = 9_000


def mem_oracle(addr: int, length: int, size: int) -> bool:
    """In bounds: every byte the access touches is a byte of memory, and it starts no further than
    the end (an empty access past the end is out of bounds too, as in wasm's bulk memory)."""
    if addr < 0 or length < 0:
        return False
    if size < 16 and addr + length < 64:  # small: literally, byte by byte
        return set(range(addr, addr + length)) <= set(range(size)) and addr <= size
    return addr + length <= size


def path_oracle(relpath: str) -> bool:
    """Beneath its directory at every step: relative, canonical (normalising changes nothing), never
    `..` or `.`, no NUL."""
    if relpath == "":
        return True
    return ("\0" not in relpath and not relpath.startswith("/") and posixpath.normpath(relpath) == relpath
            and relpath not in (".", "..") and not relpath.startswith("../"))


def paths() -> list[str]:
    return ["".join(p) for n in range(6) for p in itertools.product(ALPHABET, repeat=n)]


def check_policy() -> int:
    from vwasm.model import net
    from vwasm.model.effects import (
        FdAccess, MemRead, MemWrite, NetAccess, PathAccess, Policy, Shutdown, SockCreate, effect_safe, trace_safe,
    )
    cases = 0

    def expect(effect, policy, want: bool) -> None:
        nonlocal cases
        got = effect_safe(effect, policy)
        if got != want:
            raise Counterexample(f"effect_safe({effect}, mem_size={policy.mem_size}, fds={policy.fds}, "
                                 f"dir_fds={policy.dir_fds}) = {got}, the policy says {want}")
        cases += 1

    for size, addr, length in itertools.product(SIZES, POINTS, POINTS):
        for kind in (MemRead, MemWrite):
            expect(kind(addr, length), Policy(mem_size=size), mem_oracle(addr, length, size))
    owned = Policy(fds=frozenset({0, 1, 2, OWNED}), dir_fds=frozenset({OWNED}))
    for rel, base, follow in itertools.product(paths(), (OWNED, OTHER, 1), (False, True)):
        expect(PathAccess(base, rel, follow), owned, base == OWNED and path_oracle(rel))
    for fd in (0, 2, OWNED, OTHER, -1, 1 << 31):
        expect(FdAccess(fd), owned, fd in (0, 1, 2, OWNED))
        expect(Shutdown(fd, 1), owned, fd in (0, 1, 2, OWNED))
    # The network rules have lemmas of their own (net.*): here, that the policy asks them.
    rules = (net.parse_rule("tcp:127.0.0.1:80"), net.parse_rule("udp:[::1]:53-54"))
    for netlist in ((), rules[:1], rules):
        p = Policy(netlist=netlist)
        for proto, family, addr, port in itertools.product((6, 17), (1, 2), (0x7F000001, 1, 0), (53, 80, 81)):
            expect(NetAccess(proto, family, addr, port), p, net.allowed(netlist, proto, family, addr, port))
            expect(SockCreate(family, 1 if proto == 6 else 2, proto), p, net.family_allowed(netlist, family, proto))
    expect(object(), owned, False)  # an effect the policy does not know is not safe
    # A trace is safe iff every effect is: one unsafe effect anywhere makes it unsafe.
    safe, unsafe = FdAccess(OWNED), FdAccess(OTHER)
    for n in range(4):
        if not trace_safe((safe,) * n, owned):
            raise Counterexample(f"trace_safe of {n} safe effects is False")
        for i in range(n):
            trace = tuple(unsafe if j == i else safe for j in range(n))
            if trace_safe(trace, owned):
                raise Counterexample(f"trace_safe accepts {n} effects with an unsafe one at {i}")
            cases += 1
    return cases


@obligation("paths.policy", family=Z3, tool="enumeration", guarantee="2 filesystem isolation",
            bound="memory accesses over 11 boundary addresses and lengths x 5 sizes; every path of up to 5 "
                  "characters over {a . / NUL} x owned/other bases; descriptors; 36 endpoints x 3 netlists; "
                  "traces of 0-3 effects", budget=30)
def policy() -> Outcome:
    """The safety policy (`model/effects.py`: `effect_safe`, `trace_safe`, which audit mode and
    `vwasm audit` apply and the model's contracts assert) says what the guarantees say, checked
    against definitions written independently: a memory access is safe iff every byte it touches is
    in memory and it starts no further than the end; a path access iff its base is a directory the guest owns and the path is relative,
    canonical (normalising it changes nothing), not `.` or `..`, without NUL; a descriptor access iff
    the guest owns it; endpoints and socket kinds as the netlist rules say; a trace iff every effect
    is, whatever position an unsafe one has; an unknown effect is unsafe."""
    t0 = time.perf_counter()
    cases = check_policy()
    if cases < N_CASES:
        raise TooLittleEvidence(f"{cases} cases")
    return Outcome(f"{cases:,} effects and traces judged as the independent definitions say "
                   f"({time.perf_counter() - t0:.1f} s)", status="checked")
