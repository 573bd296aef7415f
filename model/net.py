"""The netlist (what the guest may reach) and abstract sockets.

A netlist rule allows one protocol (TCP or UDP) to one IPv4 or IPv6 address or CIDR prefix, on one
port or a port range. Addresses are plain ints (with their family) so the rules are easy to solve
over. Deny by default: an empty netlist allows nothing.

Socket calls (WaVe's extension plus preview1's sock_*):
- socket: the family/type/protocol must be one the netlist mentions;
- sock_connect: the endpoint must be in the netlist -- and so must what it really reaches: the IPv4
  address inside an IPv4-mapped IPv6 one, the loopback for an unspecified address;
- sock_send/sock_recv: the socket must be connected;
- sock_accept: only on a listening socket; the new descriptor inherits the listener's rights;
- sock_shutdown: on a connected socket, closing one or both directions.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from .wasi import AddressFamily, Errno, Protocol, SocketType, WasiError

ADDR_BITS = {AddressFamily.INET: 32, AddressFamily.INET6: 128}
LOOPBACK4 = 0x7F00_0001  # 127.0.0.1, where Linux sends a connect to 0.0.0.0 (and ::ffff:0.0.0.0)
PROTO_OF_TYPE = {SocketType.STREAM: Protocol.TCP, SocketType.DGRAM: Protocol.UDP}


class Rule(NamedTuple):
    proto: Protocol
    family: AddressFamily
    prefix: int  # the network address, as an int
    prefix_len: int  # CIDR length; the full width for one address
    port_lo: int
    port_hi: int

    def wf(self) -> bool:
        bits = ADDR_BITS.get(self.family)
        return (
            bits is not None
            and self.proto in (Protocol.TCP, Protocol.UDP)
            and 0 <= self.prefix_len <= bits
            and 0 <= self.prefix < (1 << bits)
            and self.prefix & ((1 << (bits - self.prefix_len)) - 1) == 0
            and 0 <= self.port_lo <= self.port_hi <= 0xFFFF
        )

    def allows(self, proto: int, family: int, addr: int, port: int) -> bool:
        """One rule: same protocol and family, address inside the prefix, port inside the range."""
        bits = ADDR_BITS.get(family)
        if bits is None or proto != self.proto or family != self.family:
            return False
        shift = bits - self.prefix_len
        return addr >> shift == self.prefix >> shift and self.port_lo <= port <= self.port_hi


Netlist = tuple[Rule, ...]


def parse_rule(text: str) -> Rule:
    """`tcp:10.0.0.0/8:80-90`, `udp:[::1]:53`, `tcp:127.0.0.1:8080` -> Rule (ValueError if bad)."""
    import ipaddress  # only a netlist given as text needs it (~2 ms of every start otherwise)

    proto_s, rest = text.split(":", 1)
    proto = {"tcp": Protocol.TCP, "udp": Protocol.UDP}[proto_s.lower()]
    if rest.startswith("["):
        addr_s, port_s = rest[1:].split("]:", 1)
    else:
        addr_s, port_s = rest.rsplit(":", 1)
    net = ipaddress.ip_network(addr_s, strict=True)
    family = AddressFamily.INET if net.version == 4 else AddressFamily.INET6
    lo_s, _, hi_s = port_s.partition("-")
    lo, hi = int(lo_s), int(hi_s or lo_s)
    rule = Rule(proto, family, int(net.network_address), net.prefixlen, lo, hi)
    if not rule.wf():
        raise ValueError(f"bad netlist rule {text!r}")
    return rule


def allowed(netlist: Netlist, proto: int, family: int, addr: int, port: int) -> bool:
    """The endpoint is in the netlist: some rule allows it."""
    return any(r.allows(proto, family, addr, port) for r in netlist)


def family_allowed(netlist: Netlist, family: int, proto: int) -> bool:
    """Some rule mentions this family and protocol (so a socket of that kind may be created)."""
    return any(r.family == family and r.proto == proto for r in netlist)


class Socket(NamedTuple):
    family: AddressFamily
    type: SocketType
    proto: Protocol
    status: str = "created"  # "created" | "connected" | "listening"
    peer: Optional[tuple[int, int]] = None  # (addr, port) once connected
    shut_rd: bool = False
    shut_wr: bool = False
    inbound: bool = False  # accepted from a listener (the peer came to us)

    def wf(self) -> bool:
        return (
            self.status in ("created", "connected", "listening")
            and PROTO_OF_TYPE.get(self.type) == self.proto
            and (self.peer is not None) == (self.status == "connected")
            and (not (self.shut_rd or self.shut_wr) or self.status == "connected")
            and (not self.inbound or self.status == "connected")
        )


def socket_rule(netlist: Netlist, family: int, type_: int, protocol: int) -> Socket:
    """socket(domain, type, protocol): only a kind the netlist mentions."""
    # Only IPv4 and IPv6.
    if family not in ADDR_BITS:
        raise WasiError(Errno.AFNOSUPPORT)
    # Only stream and datagram sockets.
    if type_ not in PROTO_OF_TYPE:
        raise WasiError(Errno.PROTOTYPE)
    proto = PROTO_OF_TYPE[SocketType(type_)]
    # The protocol is implied by the type (0) or must match it.
    if protocol not in (0, proto):
        raise WasiError(Errno.PROTONOSUPPORT)
    # Deny by default: the netlist must mention this family and protocol.
    if not family_allowed(netlist, family, proto):
        raise WasiError(Errno.NOTCAPABLE)
    return Socket(AddressFamily(family), SocketType(type_), proto)


def connect_rule(netlist: Netlist, s: Socket, family: int, addr: int, port: int) -> Socket:
    """sock_connect: an unconnected socket to an endpoint in the netlist."""
    # A socket connects once.
    if s.status == "connected":
        raise WasiError(Errno.ISCONN)
    # A listening socket only accepts.
    if s.status == "listening":
        raise WasiError(Errno.INVAL)
    # The address must be of the socket's family.
    if family != s.family:
        raise WasiError(Errno.AFNOSUPPORT)
    # Addresses and ports must be representable.
    if not (0 <= addr < (1 << ADDR_BITS[s.family]) and 0 <= port <= 0xFFFF):
        raise WasiError(Errno.INVAL)
    # Only endpoints in the netlist.
    if not allowed(netlist, s.proto, family, addr, port):
        raise WasiError(Errno.NOTCAPABLE)
    # What the kernel actually reaches must be in the netlist too: an IPv4-mapped IPv6 address
    # (::ffff:a.b.c.d) is the IPv4 endpoint a.b.c.d (a broad IPv6 rule must not open IPv4) ...
    if family == AddressFamily.INET6 and addr >> 32 == 0xFFFF:
        if not allowed(netlist, s.proto, AddressFamily.INET, addr & 0xFFFF_FFFF, port):
            raise WasiError(Errno.NOTCAPABLE)
        if addr & 0xFFFF_FFFF == 0 and not allowed(netlist, s.proto, AddressFamily.INET, LOOPBACK4, port):
            raise WasiError(Errno.NOTCAPABLE)
    # ... and the unspecified address (0.0.0.0, ::) is the loopback (Linux connects there).
    if addr == 0 and not allowed(netlist, s.proto, family, LOOPBACK4 if family == AddressFamily.INET else 1, port):
        raise WasiError(Errno.NOTCAPABLE)
    return s._replace(status="connected", peer=(addr, port))


def io_rule(s: Socket, sending: bool) -> None:
    """sock_send / sock_recv: on a connected socket (send: not shut down for writing)."""
    # Data flows only on a connected socket.
    if s.status != "connected":
        raise WasiError(Errno.NOTCONN)
    # After shutdown(WR) nothing more is sent.
    if sending and s.shut_wr:
        raise WasiError(Errno.PIPE)


def accept_rule(s: Socket, peer: tuple[int, int]) -> Socket:
    """sock_accept: a listening socket yields a connected one to `peer`."""
    # Only a listening socket has connections to accept.
    if s.status != "listening":
        raise WasiError(Errno.INVAL)
    return Socket(s.family, s.type, s.proto, "connected", peer, inbound=True)


def shutdown_rule(s: Socket, how: int) -> Socket:
    """sock_shutdown: close reading (RD), writing (WR) or both, on a connected socket."""
    # `how` is a non-empty subset of RD|WR.
    if how not in (1, 2, 3):
        raise WasiError(Errno.INVAL)
    # Only a connected socket has directions to close.
    if s.status != "connected":
        raise WasiError(Errno.NOTCONN)
    return s._replace(shut_rd=s.shut_rd or bool(how & 1), shut_wr=s.shut_wr or bool(how & 2))
