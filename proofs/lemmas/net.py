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
import struct
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
            r, m = prove(rng + env + [wf], acc == spec)
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
            r, m = prove([], _accepts(lst, f"allowed (n={n})") == spec)
            nlem += 1
            if r != "unsat":
                raise Counterexample(f"allowed() over {n} rules is not the disjunction of the rules ({r})")
            ok = [p.condition() for p in con if p.kind == "return"]
            r, m = prove([], z3.Implies(z3.Or(*ok) if ok else z3.BoolVal(False), spec))
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


# --- the policy as the guest meets it: rule texts, socket kinds, sockaddrs --------------------------
# An independent statement of the netlist, written from the rule syntax and WaVe's socket calls with
# `ipaddress` (never from model/net.py): a rule is (protocol, network, first port, last port); a
# socket of family F and type T may exist iff some rule names F and T's protocol (stream: tcp,
# datagram: udp); a connect is allowed iff every endpoint it reaches is in some rule of the socket's
# protocol -- the address as written, the IPv4 address inside an IPv4-mapped IPv6 one, and the
# loopback for an unspecified address (where Linux connects).
PROTO_OF = {6: "tcp", 5: "udp"}  # WaVe's socket types (stream, datagram) and the protocol each implies
FAMILY_OF = {4: 1, 6: 2}  # ip version -> WaVe's address family


def encode_sockaddr(family: int, ip, port: int) -> bytes:
    """WaVe's sockaddr from its layout (model/wasi.py comment, C's sockaddr_in/_in6): family as a
    little-endian u16, then the port in network byte order, then the address bytes (IPv6: a zero
    flowinfo before, a zero scope id after; IPv4: 8 bytes of zero padding)."""
    head = struct.pack("<H", family) + struct.pack("!H", port)
    if ip.version == 4:
        return head + ip.packed + bytes(8)
    return head + bytes(4) + ip.packed + bytes(4)


def _reached(ip) -> list:
    """The addresses a connect to `ip` touches, as written and as the kernel really reaches them."""
    out = [ip]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        out.append(ip.ipv4_mapped)
    if out[-1].is_unspecified:
        out.append(ipaddress.ip_address("127.0.0.1" if out[-1].version == 4 else "::1"))
    return out


def _spec_allows(rules, proto: str, ip, port: int) -> bool:
    return any(p == proto and ip.version == n.version and ip in n and lo <= port <= hi for p, n, lo, hi in rules)


def _spec_connect(rules, proto: str, ip, port: int) -> bool:
    return all(_spec_allows(rules, proto, a, port) for a in _reached(ip))


def _spec_socket(rules, version: int, proto: str) -> bool:
    return any(p == proto and n.version == version for p, n, _, _ in rules)


def _rule_text(rng, proto: str, netw, lo: int, hi: int) -> str:
    """One of the parser's forms: one port or a range (one port also written `p-p`), one address or
    a CIDR prefix, IPv6 in brackets, the protocol in either case."""
    addr = str(netw.network_address) if netw.prefixlen == netw.max_prefixlen and rng.random() < 0.7 else str(netw)
    addr = f"[{addr}]" if netw.version == 6 else addr
    ports = str(lo) if lo == hi and rng.random() < 0.8 else f"{lo}-{hi}"
    return f"{proto.upper() if rng.random() < 0.2 else proto}:{addr}:{ports}"


def _random_rule(rng):
    proto = rng.choice(["tcp", "udp"])
    kind = rng.choice(["v4", "v4", "v6", "mapped", "loop"])
    if kind == "loop":
        netw = ipaddress.ip_network(rng.choice(["127.0.0.1/32", "127.0.0.0/8", "0.0.0.0/32", "::1/128", "::/128"]))
    elif kind == "mapped":
        netw = ipaddress.ip_network(rng.choice(["::ffff:127.0.0.1/128", "::ffff:0:0/96", "::ffff:10.0.0.0/104",
                                                "::ffff:0.0.0.0/128"]))
    else:
        bits = 32 if kind == "v4" else 128
        plen = rng.choice([bits, bits, bits - 1, bits // 2, 8, 0])
        cls = ipaddress.IPv4Network if kind == "v4" else ipaddress.IPv6Network
        netw = cls((rng.getrandbits(bits) >> (bits - plen) << (bits - plen), plen))
    # ports whose two bytes differ, so a byte-order slip lands elsewhere
    lo = rng.choice([80, 0x1F90, 0x3039, rng.randint(0x101, 0xFEFF), 0, 0xFFFF])
    hi = lo if rng.random() < 0.6 else rng.randint(lo, min(0xFFFF, lo + rng.choice([1, 10, 1000])))
    return proto, netw, lo, hi


def _endpoints(rng, rules) -> list:
    """Endpoints near every rule's edges, the mapped and unspecified forms, and a few strangers."""
    ips, ports = set(), {0, 0xFFFF}
    for _, n, lo, hi in rules:
        for a in (n.network_address, n.broadcast_address):
            ips.add(a)
            for d in (-1, 1):
                if 0 <= int(a) + d < (1 << n.max_prefixlen):
                    ips.add(type(a)(int(a) + d))
            if a.version == 4:
                ips.add(ipaddress.IPv6Address((0xFFFF << 32) | int(a)))
            elif a.ipv4_mapped is not None:
                ips.add(a.ipv4_mapped)
        ports.update({lo, hi, max(0, lo - 1), min(0xFFFF, hi + 1), int.from_bytes(lo.to_bytes(2, "little"), "big")})
    ips.update(ipaddress.ip_address(t) for t in ("0.0.0.0", "::", "::ffff:0.0.0.0", "127.0.0.1", "::1",
                                                 "::ffff:127.0.0.1"))
    ips.add(ipaddress.IPv4Address(rng.getrandbits(32)))
    ports, inside = sorted(ports), sorted({p for _, _, lo, hi in rules for p in (lo, hi)})
    # Each address twice: with any edge port, and with a port some rule allows (where the extra
    # checks on mapped and unspecified addresses decide; by chance alone that pair is rare).
    return [(ip, rng.choice(pool)) for ip in sorted(ips, key=lambda a: (a.version, int(a))) for pool in (ports, inside)]


class _NetRecorder:
    """A host that only records what the socket handlers ask of the network (no I/O)."""

    def __init__(self) -> None:
        self.connects: list = []

    def socket(self, family, type_):
        return object()

    def connect(self, h, family, addr: bytes, port: int) -> None:
        self.connects.append((int(family), bytes(addr), port))

    def close(self, h) -> None:
        pass


def _runtime(netlist):
    from vwasm.context import Context
    from vwasm.fdtable import FdTable
    from vwasm.memory import GuestMemory
    cx = Context(_NetRecorder(), FdTable(), [], [], tuple(netlist))
    cx.mem = GuestMemory.over(bytearray(256))
    return cx


def _handler(cx, name: str, *args) -> int:
    """The handler's errno; a trap is raised as such; any other exception is a bug (§1.5)."""
    from vwasm import syscalls
    from vwasm.errors import Trap
    from vwasm.model.wasi import WasiError
    try:
        return int(syscalls.HANDLERS[name](cx, *args))
    except WasiError as e:
        return int(e.errno)
    except Trap:
        raise
    except Exception as e:  # noqa: BLE001
        raise Counterexample(f"{name}{args} raised {type(e).__name__}: {e}") from None


N_NETLISTS = 600
# Netlists random ones rarely make: every endpoint an unspecified or IPv4-mapped address reaches is
# allowed (or all but one), with one port and with a range.
_P = ipaddress.ip_network
FIXED_NETLISTS = (
    [("tcp", _P("::ffff:0.0.0.0/128"), 80, 80), ("tcp", _P("0.0.0.0/32"), 80, 80), ("tcp", _P("127.0.0.1/32"), 80, 80)],
    [("tcp", _P("::ffff:0.0.0.0/128"), 80, 80), ("tcp", _P("0.0.0.0/32"), 80, 80)],
    [("udp", _P("::ffff:0:0/96"), 53, 60), ("udp", _P("0.0.0.0/32"), 50, 53), ("udp", _P("127.0.0.0/8"), 53, 53)],
    [("tcp", _P("::/128"), 443, 443), ("tcp", _P("::1/128"), 443, 443)],
    [("tcp", _P("::/128"), 443, 443), ("udp", _P("::1/128"), 443, 443)],
    [("udp", _P("::ffff:127.0.0.1/128"), 8080, 8080), ("tcp", _P("127.0.0.1/32"), 8080, 8080)],
    [("tcp", _P("::ffff:10.0.0.0/104"), 1, 1024), ("tcp", _P("10.0.0.0/8"), 80, 80)],
)


def _config(texts):
    """The runtime's configuration for these rule texts (each well formed: the parser must take it)."""
    from vwasm.sandbox import Config
    cfg = Config()
    for t in texts:
        try:
            cfg.allow_net(t)
        except ValueError as e:
            raise Counterexample(f"the parser refused the well-formed rule {t!r}: {e}") from None
    return cfg



@obligation("net.netlist_forms", family=Z3, tool="enumeration", guarantee="4 network isolation",
            bound=f"{N_NETLISTS} netlists of 1-3 rules in every parser form, x socket kinds x endpoints",
            budget=60)
def netlist_forms() -> Outcome:
    """The netlist as the guest meets it, in the model (`sandbox.socket`/`sock_connect`) and in the
    runtime (the handlers, rules parsed by `Config.allow_net`), against the independent statement
    above: rule texts in every form (one port, a range, `p-p`, one address, CIDR, IPv6, IPv4-mapped
    IPv6, upper-case protocol); socket kinds valid and invalid; endpoints at every rule's edges,
    byte-swapped ports, IPv4-mapped and unspecified addresses, over sockets of both types and both
    families (an address of the other family: EAFNOSUPPORT)."""
    from vwasm.model import net, sandbox as sb
    from vwasm.model.fs import FileSystem
    from vwasm.model.wasi import Errno

    t0 = time.perf_counter()
    rng = random.Random(11)
    n_kinds = n_conn = n_allowed = 0
    for i in range(N_NETLISTS):
        rules = FIXED_NETLISTS[i] if i < len(FIXED_NETLISTS) else [
            _random_rule(rng) for _ in range(rng.choice([1, 1, 2, 3]))]
        texts = [_rule_text(rng, *r) for r in rules]
        cfg = _config(texts)
        state = sb.initial_state(FileSystem(), netlist=tuple(net.parse_rule(t) for t in texts))
        where = f"netlist {texts}"
        # socket kinds: every combination on the first netlists, then the valid ones
        grid = ((1, 2, 0, 3), (5, 6, 0, 1), (0, 6, 17, 1)) if i < 40 else ((1, 2), (5, 6), (0,))
        for fam in grid[0]:
            for typ in grid[1]:
                for proto in grid[2]:
                    version = {1: 4, 2: 6}.get(fam)
                    want = (version is not None and typ in PROTO_OF and proto in (0, {6: 6, 5: 17}[typ])
                            and _spec_socket(rules, version, PROTO_OF[typ]))
                    _, e_m, _ = sb.socket(state, fam, typ, proto)
                    e_r = _handler(_runtime(cfg.netlist), "socket", fam, typ, proto, 0)
                    for who, e in (("model", e_m), ("runtime", e_r)):
                        if (e == Errno.SUCCESS) != want:
                            raise Counterexample(f"{where}: socket({fam}, {typ}, {proto}) in the {who}: "
                                                 f"{Errno(e).name}, the netlist {'allows' if want else 'refuses'} it")
                        if not want and version is not None and typ in PROTO_OF and proto == 0 and e != Errno.NOTCAPABLE:
                            raise Counterexample(f"{where}: socket({fam}, {typ}) refused with {Errno(e).name}, "
                                                 f"not NOTCAPABLE")
                        # POSIX: a family the implementation does not support is EAFNOSUPPORT, a
                        # protocol the type does not imply EPROTONOSUPPORT -- whatever the netlist
                        # says (it judges only well-formed requests)
                        if version is None and e != Errno.AFNOSUPPORT:
                            raise Counterexample(f"{where}: socket({fam}, {typ}, {proto}) in the {who}: "
                                                 f"{Errno(e).name}, not AFNOSUPPORT")
                        if (version is not None and typ in PROTO_OF and proto not in (0, {6: 6, 5: 17}[typ])
                                and e != Errno.PROTONOSUPPORT):
                            raise Counterexample(f"{where}: socket({fam}, {typ}, {proto}) in the {who}: "
                                                 f"{Errno(e).name}, not PROTONOSUPPORT")
                    n_kinds += 1
        # connects, over a socket of each type the netlist lets exist
        for typ in (6, 5):
            for fam, version in ((1, 4), (2, 6)):
                if not _spec_socket(rules, version, PROTO_OF[typ]):
                    continue
                s1, e, (sfd,) = sb.socket(state, fam, typ, 0)
                for ip, port in _endpoints(rng, rules):
                    want = ip.version == version and _spec_connect(rules, PROTO_OF[typ], ip, port)
                    _, e_m, _ = sb.sock_connect(s1, sfd, FAMILY_OF[ip.version], int(ip), port)
                    cx = _runtime(cfg.netlist)
                    _handler(cx, "socket", fam, typ, 0, 0)
                    raw = encode_sockaddr(FAMILY_OF[ip.version], ip, port)
                    cx.mem.view[16:16 + len(raw)] = raw
                    e_r = _handler(cx, "sock_connect", 0, 16, len(raw))
                    what = f"{where}: {PROTO_OF[typ]} socket (family {fam}) connect to {ip} port {port}"
                    for who, e in (("model", e_m), ("runtime", e_r)):
                        if (e == Errno.SUCCESS) != want:
                            raise Counterexample(f"{what}: {Errno(e).name} in the {who}, the netlist "
                                                 f"{'allows' if want else 'refuses'} it")
                        if not want and ip.version == version and e != Errno.NOTCAPABLE:
                            raise Counterexample(f"{what}: refused with {Errno(e).name} in the {who}, not NOTCAPABLE")
                        # POSIX connect: an address the socket's family cannot use is EAFNOSUPPORT
                        # (whatever the address: IPv4-mapped and wide IPv6 ones alike)
                        if ip.version != version and e != Errno.AFNOSUPPORT:
                            raise Counterexample(f"{what}: refused with {Errno(e).name} in the {who}, not AFNOSUPPORT")
                    sent = cx.host.connects
                    if sent != ([(FAMILY_OF[ip.version], ip.packed, port)] if want else []):
                        raise Counterexample(f"{what}: the host was asked to connect to {sent}")
                    n_conn += 1
                    n_allowed += want
    return Outcome(f"{N_NETLISTS} netlists: {n_kinds:,} socket kinds and {n_conn:,} connects ({n_allowed:,} allowed) "
                   f"agree with the independent statement in model and runtime "
                   f"({time.perf_counter() - t0:.1f} s)", status="checked")


N_SOCKADDRS = 400


@obligation("net.sockaddr", family=Z3, tool="enumeration", guarantee="4 network isolation",
            bound=f"{N_SOCKADDRS} endpoints (IPv4/IPv6/mapped, edge ports) x lengths, families, placements",
            budget=30)
def sockaddr_decoding() -> Outcome:
    """sock_connect decodes WaVe's sockaddr as the independent encoder above writes it: the host
    is asked for exactly the encoded family, address and port (in network byte order), and the
    netlist is asked about the same endpoint (a rule for exactly it allows the connect; the same
    rule one port off, or for the byte-swapped port, refuses it). A length other than the family's
    sockaddr size is EINVAL, an unknown family AFNOSUPPORT, a sockaddr past the end of memory a trap;
    none reaches the host."""
    from vwasm.errors import Trap
    from vwasm.model.wasi import Errno

    t0 = time.perf_counter()
    rng = random.Random(3)
    n = 0
    sizes = {1: 16, 2: 28}
    fixed = ["127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1.2.3", "::1", "::", "::ffff:127.0.0.1", "2001:db8::1",
             "fe80::1"]
    for i in range(N_SOCKADDRS):
        ip = ipaddress.ip_address(fixed[i] if i < len(fixed) else (
            ipaddress.IPv4Address(rng.getrandbits(32)) if rng.random() < 0.5 else ipaddress.IPv6Address(rng.getrandbits(128))))
        port = rng.choice([0, 1, 0xFF, 0x100, 0xFFFF, 0x1234, 0xFF00, 80, 8080, rng.randint(0, 0xFFFF)])
        fam = FAMILY_OF[ip.version]
        text = f"tcp:{'[' + str(ip) + ']' if ip.version == 6 else ip}:{port}"
        cfg = _config([text])
        # the right endpoint, one port off, and the byte-swapped port (refused unless it is the same)
        swapped = int.from_bytes(port.to_bytes(2, "big"), "little")
        spec = [("tcp", ipaddress.ip_network(ip), port, port)]
        for p in (port, (port + 1) % 0x10000, swapped):
            want = _spec_connect(spec, "tcp", ip, p)  # unspecified addresses also need the loopback
            raw = encode_sockaddr(fam, ip, p)
            for at in (16, 18, 256 - len(raw)):  # 2-aligned (the family is a u16); ending at the end of memory
                cx = _runtime(cfg.netlist)
                _handler(cx, "socket", fam, 6, 0, 0)
                cx.mem.view[at:at + len(raw)] = raw
                e = _handler(cx, "sock_connect", 0, at, len(raw))
                exp = Errno.SUCCESS if want else Errno.NOTCAPABLE
                if e != exp or cx.host.connects != ([(fam, ip.packed, p)] if want else []):
                    raise Counterexample(f"sock_connect to {ip} port {p:#06x} (rule {text!r}, sockaddr {raw.hex()} at "
                                         f"{at}): {Errno(e).name}, host asked {cx.host.connects}; expected {exp.name}")
                n += 1
        raw = encode_sockaddr(fam, ip, port)
        # wrong lengths, other families, and a sockaddr straddling the end of memory
        for length in (0, 2, sizes[fam] - 1, sizes[fam] + 1, sizes[3 - fam]):
            cx = _runtime(cfg.netlist)
            _handler(cx, "socket", fam, 6, 0, 0)
            cx.mem.view[16:16 + len(raw)] = raw
            e = _handler(cx, "sock_connect", 0, 16, length)
            # shorter than the family field: any refusal (Linux: EINVAL); else the size is wrong: EINVAL
            if (e == Errno.SUCCESS if length < 2 else e != Errno.INVAL) or cx.host.connects:
                raise Counterexample(f"sock_connect with a {length}-byte IPv{ip.version} "
                                     f"sockaddr: {Errno(e).name}, host asked {cx.host.connects}; expected INVAL")
            n += 1
        for bad in (0, 3, 0x100, 0x0201):
            cx = _runtime(cfg.netlist)
            _handler(cx, "socket", fam, 6, 0, 0)
            cx.mem.view[16:16 + len(raw)] = struct.pack("<H", bad) + raw[2:]
            e = _handler(cx, "sock_connect", 0, 16, len(raw))
            if e != Errno.AFNOSUPPORT or cx.host.connects:
                raise Counterexample(f"sock_connect with family {bad:#x}: {Errno(e).name}; expected AFNOSUPPORT")
            n += 1
        cx = _runtime(cfg.netlist)
        _handler(cx, "socket", fam, 6, 0, 0)
        try:
            e = _handler(cx, "sock_connect", 0, 256 - len(raw) + 1, len(raw))
        except Trap:
            e = None
        if e is not None or cx.host.connects:
            raise Counterexample(f"a sockaddr one byte past the end of memory: {e}, not a trap")
        n += 1
    return Outcome(f"{n:,} sockaddrs decoded as the independent encoder wrote them "
                   f"({time.perf_counter() - t0:.1f} s)", status="checked")
