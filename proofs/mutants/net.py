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
