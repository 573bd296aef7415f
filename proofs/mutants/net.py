"""Planted bugs in the netlist rule, for net.netlist."""
from __future__ import annotations

from proofs.core import mutant, patch


@mutant("rule_ignores_port_hi", breaks="4 network isolation: any port above port_lo is allowed",
        killers=("net.netlist",))
def rule_ignores_port_hi():
    """Bug when port > port_hi: the upper end of the range is not compared."""
    from vwasm.model import net

    def allows(self, proto, family, addr, port):
        bits = net.ADDR_BITS.get(family)
        if bits is None or proto != self.proto or family != self.family:
            return False
        shift = bits - self.prefix_len
        return addr >> shift == self.prefix >> shift and self.port_lo <= port
    patch(net.Rule, "allows", allows)


@mutant("rule_prefix_one_bit_short", breaks="4 network isolation: a /n rule matches a /(n-1) network",
        killers=("net.netlist",))
def rule_prefix_one_bit_short():
    """Bug when the address differs from the prefix in its last network bit: one bit too few compared."""
    from vwasm.model import net

    def allows(self, proto, family, addr, port):
        bits = net.ADDR_BITS.get(family)
        if bits is None or proto != self.proto or family != self.family:
            return False
        shift = min(bits, bits - self.prefix_len + 1)
        return addr >> shift == self.prefix >> shift and self.port_lo <= port <= self.port_hi
    patch(net.Rule, "allows", allows)


@mutant("allowed_uses_first_rule_only", breaks="4 network isolation / availability: only the first rule counts",
        killers=("net.netlist",))
def allowed_uses_first_rule_only():
    """Bug when the endpoint is allowed by a later rule: `allowed` looks at the first rule only."""
    from vwasm.model import net
    patch(net, "allowed", lambda netlist, proto, family, addr, port:
          bool(netlist) and netlist[0].allows(proto, family, addr, port))


@mutant("connect_skips_netlist", breaks="4 network isolation: sock_connect to any endpoint",
        killers=("net.netlist",))
def connect_skips_netlist():
    """Bug when the endpoint is not in the netlist: connect_rule does not ask."""
    from dataclasses import replace

    from vwasm.model import net
    from vwasm.model.wasi import Errno, WasiError

    def connect_rule(netlist, s, family, addr, port):
        if s.status == "connected":
            raise WasiError(Errno.ISCONN)
        if family != s.family:
            raise WasiError(Errno.AFNOSUPPORT)
        return replace(s, status="connected", peer=(addr, port))
    patch(net, "connect_rule", connect_rule)


# --- the policy as the guest meets it (net.netlist_forms, net.sockaddr, the socket machines) -------
@mutant("sockaddr_port_little_endian", breaks="4 network isolation: the netlist judges a port the guest never named",
        killers=("net.sockaddr",))
def sockaddr_port_little_endian():
    """Bug when a port's two bytes differ: the sockaddr's port is read in host (little-endian) order."""
    from vwasm.model.wasi import U16, AddressFamily, Errno, WasiError
    from vwasm.syscalls import sock

    def _endpoint(cx, addr_ptr, addr_len):
        (family,) = cx.mem.load(U16, addr_ptr)
        layout = sock._SOCKADDR.get(family)
        if layout is None:
            raise WasiError(Errno.AFNOSUPPORT)
        if addr_len != layout.size:
            raise WasiError(Errno.INVAL)
        fields = cx.mem.load(layout, addr_ptr)
        return family, fields[2] if family == AddressFamily.INET else fields[3], int.from_bytes(fields[1], "little")
    patch(sock, "_endpoint", _endpoint)


@mutant("datagrams_judged_by_stream_rules", breaks="4 network isolation: a UDP connect allowed by a TCP rule",
        killers=("net.netlist_forms",))
def datagrams_judged_by_stream_rules():
    """Bug when a datagram socket connects to an endpoint only a tcp rule names: the rule's protocol
    is taken to be the stream one."""
    from dataclasses import replace

    from vwasm.model import net
    from vwasm.model.wasi import Protocol
    orig = net.connect_rule
    patch(net, "connect_rule", lambda netlist, s, *a: replace(
        orig(netlist, replace(s, proto=Protocol.TCP), *a), proto=s.proto))


@mutant("ipv4_mapped_bypass", breaks="4 network isolation: ::ffff:a.b.c.d reaches an IPv4 endpoint no rule allows",
        killers=("net.netlist_forms",))
def ipv4_mapped_bypass():
    """Bug when an IPv6 rule covers ::ffff:a.b.c.d but no IPv4 rule covers a.b.c.d: the mapped
    address is judged only as written."""
    from vwasm.model import net
    orig = net.connect_rule

    def connect_rule(netlist, s, family, addr, port):
        if family == 2 and addr >> 32 == 0xFFFF and addr & 0xFFFF_FFFF:
            # judge it against a netlist where the IPv4 endpoint is always allowed
            extra = net.Rule(s.proto, 1, addr & 0xFFFF_FFFF, 32, port, port)
            return orig(tuple(netlist) + (extra,), s, family, addr, port)
        return orig(netlist, s, family, addr, port)
    patch(net, "connect_rule", connect_rule)


@mutant("single_port_read_as_range", breaks="4 network isolation: `tcp:a:80` allows every port from 80 up",
        killers=("net.netlist_forms",))
def single_port_read_as_range():
    """Bug when a rule names one port: the parser reads it as the range from that port to 65535."""
    from dataclasses import replace

    from vwasm.model import net
    orig = net.parse_rule

    def parse_rule(text):
        rule = orig(text)
        return rule if "-" in text.rsplit(":", 1)[1] else replace(rule, port_hi=0xFFFF)
    patch(net, "parse_rule", parse_rule)


@mutant("unmentioned_socket_kind_allowed", breaks="4 network isolation: a UDP socket where only tcp rules exist",
        killers=("net.netlist_forms",))
def unmentioned_socket_kind_allowed():
    """Bug when the netlist names a family for one protocol only: a socket of the other type is created."""
    from vwasm.model import net
    patch(net, "family_allowed", lambda netlist, family, proto: any(r.family == family for r in netlist))
