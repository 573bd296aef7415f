"""The netlist rule (DESIGN §1.4): a connect is allowed only to an endpoint some rule matches.

Derived from the code (`proofs.symbolic`) for both families: `Rule.allows` and `Rule.wf` on a
symbolic rule and endpoint, `allowed` on symbolic netlists of 0-3 rules, and `connect_rule` on a
symbolic endpoint. z3 proves: for a well-formed rule, `allows` holds iff the protocol and family
are the rule's, the address agrees with the prefix on its first prefix_len bits (CIDR) and the port
lies in [port_lo, port_hi]; `allowed` is the disjunction over the list; a connect that succeeds is
to an allowed endpoint. 2,000 concrete (rule, endpoint) pairs built with `ipaddress` then check
code and specification agree.
"""
from __future__ import annotations

import ipaddress
import random
import time

import z3

from proofs.core import Z3, Counterexample, Outcome, Unknown, obligation
from proofs.symbolic import Explorer, Sym, SymBool, Unsupported, prove

W = 192


def _range(v: Sym, lo: int, hi: int):
    return z3.And(v.e >= lo, v.e <= hi)


def _sym_rule(ex: Explorer, tag: str, family):
    from vwasm.model import net
    bits = net.ADDR_BITS[family]
    proto, prefix, plen, lo, hi = (ex.var(f"{tag}_{n}") for n in ("proto", "prefix", "plen", "lo", "hi"))
    r = net.Rule(proto, family, prefix, plen, lo, hi)
    rng = [_range(proto, 0, 255), _range(prefix, 0, (1 << bits) - 1), _range(plen, 0, bits),
           _range(lo, 0, 0xFFFF), _range(hi, 0, 0xFFFF)]
    return r, rng, (proto, prefix, plen, lo, hi)


def _spec(fields, family, bits, proto, fam, addr, port):
    rp, prefix, plen, lo, hi = (f.e for f in fields)
    ones = z3.BitVecVal((1 << bits) - 1, W)
    host_mask = (z3.BitVecVal(1, W) << (bits - plen)) - 1
    net_mask = ones ^ host_mask
    return z3.And(proto == rp, fam == int(family), (addr ^ prefix) & net_mask == 0, lo <= port, port <= hi)


def _accepts(paths, what):
    for p in paths:
        if p.kind != "return":
            raise Counterexample(f"{what}: a path ends with {p.kind} {p.value!r}")
    conds = []
    for p in paths:
        v = p.value
        if isinstance(v, SymBool):
            conds.append(z3.And(p.condition(), v.b))
        elif isinstance(v, Sym):
            conds.append(z3.And(p.condition(), v.e != 0))
        elif v:
            conds.append(p.condition())
    return z3.Or(*conds) if conds else z3.BoolVal(False)


class _OpaqueRule:
    """A rule whose verdict is an uninterpreted boolean (for the composition over the list)."""

    def __init__(self, i: int) -> None:
        self.verdict = z3.Bool(f"rule{i}_allows")

    def allows(self, proto, family, addr, port):
        return SymBool(self.verdict)


@obligation("net.netlist", family=Z3, tool="z3", guarantee="4 network isolation",
            bound="IPv4/IPv6, all prefixes/ports, netlists of 0-3 rules", budget=60)
def netlist_lemma() -> Outcome:
    from vwasm.model import net
    from vwasm.model.wasi import AddressFamily, Errno, Protocol

    t0 = time.perf_counter()
    nlem = npaths = 0
    for family in (AddressFamily.INET, AddressFamily.INET6):
        bits = net.ADDR_BITS[family]
        ex = Explorer(W)
        rule, rng, fields = _sym_rule(ex, "r", family)
        proto, fam, addr, port = (ex.var(n) for n in ("proto", "fam", "addr", "port"))
        env = [_range(proto, 0, 255), _range(fam, 0, 255), _range(addr, 0, (1 << bits) - 1), _range(port, 0, 0xFFFF)]
        try:
            wf_paths = ex.explore(lambda: rule.wf(), rng)
            # `fam` must be concrete for the dict lookup in allows(): the rule's family, or another one
            allow_same = ex.explore(lambda: rule.allows(proto, family, addr, port), rng + env)
            other = AddressFamily.INET6 if family == AddressFamily.INET else AddressFamily.INET
            allow_other = ex.explore(lambda: rule.allows(proto, other, addr, port), rng + env)
            allow_bad = ex.explore(lambda: rule.allows(proto, 99, addr, port), rng + env)
        except Unsupported as e:
            raise Unknown(f"cannot derive the netlist rule: {e}")
        npaths += len(wf_paths) + len(allow_same) + len(allow_other) + len(allow_bad)
        wf = _accepts(wf_paths, "Rule.wf")
        for label, paths_, famv in (("same family", allow_same, int(family)), ("other family", allow_other, int(other)),
                                    ("unknown family", allow_bad, 99)):
            acc = _accepts(paths_, f"Rule.allows ({label})")
            spec = _spec(fields, family, bits, proto.e, z3.BitVecVal(famv, W), addr.e, port.e)
            r, m = prove(20_000, rng + env + [wf], acc == spec)
            nlem += 1
            if r == "sat":
                ev = lambda x: m.eval(x.e, model_completion=True)  # noqa: E731
                raise Counterexample(
                    f"{family.name} rule proto={ev(fields[0])} prefix={ev(fields[1])}/{ev(fields[2])} ports "
                    f"{ev(fields[3])}-{ev(fields[4])}: endpoint proto={ev(proto)} addr={ev(addr)} port={ev(port)} "
                    f"({label}) is {'allowed' if z3.is_true(m.eval(acc, model_completion=True)) else 'refused'}, "
                    f"the CIDR/port rule says otherwise")
            if r == "unknown":
                raise Unknown(f"z3: {m}")

        # allowed() over a list is the disjunction of its rules (each rule's verdict uninterpreted: the
        # composition holds whatever the rules say); a connect succeeds only if allowed.
        for n in range(5):
            ex2 = Explorer(W)
            rules = [_OpaqueRule(i) for i in range(n)]
            p2, a2, port2 = ex2.var("proto"), ex2.var("addr"), ex2.var("port")
            try:
                lst = ex2.explore(lambda: net.allowed(tuple(rules), p2, family, a2, port2))
                sock = net.Socket(family, 1, Protocol.TCP)
                con = ex2.explore(lambda: net.connect_rule(tuple(rules), sock, family, a2, port2))
            except Unsupported as e:
                raise Unknown(f"cannot derive allowed()/connect_rule: {e}")
            npaths += len(lst) + len(con)
            spec = z3.Or(*[r.verdict for r in rules]) if rules else z3.BoolVal(False)
            r, m = prove(20_000, [], _accepts(lst, f"allowed (n={n})") == spec)
            nlem += 1
            if r != "unsat":
                raise Counterexample(f"allowed() over {n} rules is not the disjunction of the rules ({r})")
            ok = [p.condition() for p in con if p.kind == "return"]
            r, m = prove(20_000, [], z3.Implies(z3.Or(*ok) if ok else z3.BoolVal(False), spec))
            nlem += 1
            if r != "unsat":
                raise Counterexample(f"sock_connect ({family.name}, {n} rules) succeeds to an endpoint no rule allows")
            if any(p.kind == "errno" and p.value not in (Errno.NOTCAPABLE, Errno.INVAL, Errno.AFNOSUPPORT)
                   for p in con):
                raise Counterexample("connect_rule refuses with an unexpected errno")
    t_proof = time.perf_counter() - t0

    # Tie: concrete rules (parsed from text) and endpoints against ipaddress' own membership test.
    rng_ = random.Random(5)
    n_conc = 0
    for _ in range(2000):
        v6 = rng_.random() < 0.4
        bits = 128 if v6 else 32
        plen = rng_.choice([0, 1, bits // 2, bits - 1, bits, rng_.randint(0, bits)])
        base = rng_.getrandbits(bits)
        cls = ipaddress.IPv6Network if v6 else ipaddress.IPv4Network
        netw = cls((base >> (bits - plen) << (bits - plen), plen))
        lo = rng_.randint(0, 0xFFFF)
        hi = rng_.randint(lo, 0xFFFF)
        proto = rng_.choice(["tcp", "udp"])
        text = f"{proto}:[{netw}]:{lo}-{hi}" if v6 else f"{proto}:{netw}:{lo}-{hi}"
        rule = net.parse_rule(text)
        addr = rng_.choice([int(netw.network_address), int(netw.broadcast_address), rng_.getrandbits(bits),
                            (int(netw.network_address) + rng_.getrandbits(max(0, bits - plen))) if plen < bits else base])
        addr = min(addr, (1 << bits) - 1)
        port = rng_.choice([lo, hi, max(0, lo - 1), min(0xFFFF, hi + 1), rng_.randint(0, 0xFFFF)])
        p = rng_.choice([Protocol.TCP, Protocol.UDP])
        fam = AddressFamily.INET6 if v6 else AddressFamily.INET
        member = (ipaddress.IPv6Address if v6 else ipaddress.IPv4Address)(addr) in netw
        want = (p == Protocol.TCP) == (proto == "tcp") and member and lo <= port <= hi
        if rule.allows(p, fam, addr, port) != want:
            raise Counterexample(f"rule {text!r}: endpoint {p.name} {addr:#x} port {port}: "
                                 f"{'allowed' if not want else 'refused'}, ipaddress says otherwise")
        n_conc += 1
    return Outcome(f"z3: {nlem} lemmas unsat (negated) over {npaths} derived paths in {t_proof * 1000:.0f} ms; "
                   f"{n_conc:,} parsed rules/endpoints agree with ipaddress")
