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
    from vwasm.model import net
    from vwasm.model.wasi import Errno, WasiError

    def connect_rule(netlist, s, family, addr, port):
        if s.status == "connected":
            raise WasiError(Errno.ISCONN)
        if family != s.family:
            raise WasiError(Errno.AFNOSUPPORT)
        return s._replace(status="connected", peer=(addr, port))
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
    from vwasm.model import net
    from vwasm.model.wasi import Protocol
    orig = net.connect_rule
    patch(net, "connect_rule", lambda netlist, s, *a: orig(netlist, s._replace(proto=Protocol.TCP), *a)._replace(
        proto=s.proto))


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
    from vwasm.model import net
    orig = net.parse_rule

    def parse_rule(text):
        rule = orig(text)
        return rule if "-" in text.rsplit(":", 1)[1] else rule._replace(port_hi=0xFFFF)
    patch(net, "parse_rule", parse_rule)


@mutant("unmentioned_socket_kind_allowed", breaks="4 network isolation: a UDP socket where only tcp rules exist",
        killers=("net.netlist_forms",))
def unmentioned_socket_kind_allowed():
    """Bug when the netlist names a family for one protocol only: a socket of the other type is created."""
    from vwasm.model import net
    patch(net, "family_allowed", lambda netlist, family, proto: any(r.family == family for r in netlist))


@mutant("socket_netlist_before_protocol", breaks="the netlist answers ENOTCAPABLE for a malformed socket request "
        "(a protocol its type does not imply) instead of EPROTONOSUPPORT", killers=("net.netlist_forms",))
def socket_netlist_before_protocol():
    """Bug: socket's rule consults the netlist before it checks the protocol against the type."""
    from vwasm.model import net
    from vwasm.model.wasi import Errno, WasiError
    orig = net.socket_rule

    def socket_rule(netlist, family, type_, protocol):
        if family in net.ADDR_BITS and type_ in net.PROTO_OF_TYPE and not net.family_allowed(
                netlist, family, net.PROTO_OF_TYPE[type_]):
            raise WasiError(Errno.NOTCAPABLE)
        return orig(netlist, family, type_, protocol)
    patch(net, "socket_rule", socket_rule)


@mutant("mapped_unspecified_skips_loopback", breaks="4 network isolation: ::ffff:0.0.0.0 (which reaches 127.0.0.1) "
        "is judged without the loopback", killers=("net.netlist_forms",))
def mapped_unspecified_skips_loopback():
    """Bug: an IPv4-mapped unspecified address is judged as 0.0.0.0 only, not as the loopback it reaches."""
    from vwasm.model import net
    orig = net.connect_rule

    def connect_rule(netlist, s, family, addr, port):
        if family == 2 and addr == 0xFFFF << 32:
            extra = net.Rule(s.proto, 1, net.LOOPBACK4, 32, port, port)
            return orig(tuple(netlist) + (extra,), s, family, addr, port)
        return orig(netlist, s, family, addr, port)
    patch(net, "connect_rule", connect_rule)


# --- the socket machines (refinement.sockets, host.sockets) -----------------------------------------
@mutant("accepted_keeps_sock_accept", breaks="3 descriptor isolation: an accepted connection may accept",
        killers=("refinement.sockets",))
def accepted_keeps_sock_accept():
    """Bug when a connection is accepted: its descriptor keeps the listener's SOCK_ACCEPT right."""
    from vwasm.model.wasi import Rights
    from vwasm.syscalls import sock
    orig = sock.socket_descriptor

    def socket_descriptor(handle, s, base, inheriting, fdflags=0):
        if s.inbound:
            base |= Rights.SOCK_ACCEPT
        return orig(handle, s, base, inheriting, fdflags)
    patch(sock, "socket_descriptor", socket_descriptor)


@mutant("sockaddr_port_little_endian_in_machine", breaks="4 network isolation: the netlist judges another port",
        killers=("refinement.sockets",))
def sockaddr_port_little_endian_in_machine():
    """Bug when a port's bytes differ (always, for the machine's ports): as sockaddr_port_little_endian."""
    sockaddr_port_little_endian()


@mutant("fd_read_ignores_shut_rd", breaks="model refinement: a socket shut for reading still reads bytes",
        killers=("refinement.sockets",))
def fd_read_ignores_shut_rd():
    """Bug when a socket was shut down for reading and bytes arrive: fd_read hands them over (the
    bug the socket machine found)."""
    from vwasm.model import net
    from vwasm.model.wasi import Errno
    from vwasm.syscalls import fd
    from vwasm.fdtable import SOCKET

    def fd_read(cx, f, iovs, iovs_len, nread_ptr):
        desc = cx.fds.get_kind(f, fd._READABLE, fd.need("fd_read"))
        if desc.kind == SOCKET:
            net.io_rule(desc.extra["sock"], sending=False)
        bufs = cx.mem.iovecs(iovs, iovs_len)
        cx.mem.check(nread_ptr, 4, 4)
        cx.mem.put_u32(nread_ptr, cx.host.readv(desc.handle, bufs))
        return Errno.SUCCESS
    _replace_handler("fd_read", fd, fd_read)


@mutant("recv_truncation_unreported", breaks="model refinement: a cut datagram looks whole",
        killers=("refinement.sockets",))
def recv_truncation_unreported():
    """Bug when a datagram is longer than the buffers: sock_recv does not set RECV_DATA_TRUNCATED."""
    from vwasm.posix_host import PosixHost
    from vwasm.model_host import ModelHost
    for cls in (PosixHost, ModelHost):
        orig = cls.recv
        patch(cls, "recv", lambda self, h, bufs, peek, waitall, _o=orig: (_o(self, h, bufs, peek, waitall)[0], False))


@mutant("posix_shutdown_directions_swapped", breaks="4/5: shutdown(RD) closes the sending direction on the host",
        killers=("host.sockets", "refinement.sockets"))
def posix_shutdown_directions_swapped():
    """Bug when a guest shuts one direction: PosixHost passes the other one to the kernel."""
    import socket as s

    from vwasm import posix_host
    from vwasm.model.wasi import Sdflags
    patch(posix_host, "_SHUT", {Sdflags.RD: s.SHUT_WR, Sdflags.WR: s.SHUT_RD, Sdflags.RD | Sdflags.WR: s.SHUT_RDWR})


@mutant("posix_recv_ignores_peek", breaks="5: a peeked datagram or byte is consumed on the host",
        killers=("host.sockets",))
def posix_recv_ignores_peek():
    """Bug when the guest peeks (RECV_PEEK): PosixHost reads the bytes for good."""
    from vwasm.posix_host import PosixHost
    orig = PosixHost.recv
    patch(PosixHost, "recv", lambda self, h, bufs, peek, waitall: orig(self, h, bufs, False, waitall))


def _replace_handler(name: str, module, fn) -> None:
    """Install fn as handler `name` everywhere the runtime looks it up."""
    from vwasm import syscalls
    patch(module, name, fn)
    syscalls.HANDLERS[name] = fn


@mutant("send_gathers_backwards", breaks="model refinement: the peer receives the guest's bytes out of order",
        killers=("refinement.sockets",))
def send_gathers_backwards():
    """Bug when sock_send is given two or more buffers: they go out last first (both hosts agree
    with each other; only the bytes the other end must receive show it)."""
    from vwasm.model import net
    from vwasm.model.wasi import Errno, WasiError
    from vwasm.syscalls import sock

    def sock_send(cx, fd, si_data, si_data_len, si_flags, so_datalen):
        if si_flags != 0:
            raise WasiError(Errno.INVAL)
        desc = sock._socket(cx, fd, sock.need("sock_send"))
        net.io_rule(desc.extra["sock"], sending=True)
        bufs = cx.mem.iovecs(si_data, si_data_len)
        cx.mem.check(so_datalen, 4, 4)
        cx.mem.put_u32(so_datalen, cx.host.send(desc.handle, bufs[::-1]))
        return Errno.SUCCESS
    _replace_handler("sock_send", sock, sock_send)


@mutant("socket_wait_ignores_readiness", breaks="availability: under Config.timeout a socket call stops the guest "
        "instead of waiting for a socket that is ready", killers=("refinement.sockets",))
def socket_wait_ignores_readiness():
    """Bug: the socket handlers' wait before a call that may block never sees the socket ready."""
    from vwasm.limits import DeadlineReached
    from vwasm.syscalls import sock

    def wait_ready(cx, desc, write=False):
        raise DeadlineReached("timeout reached while waiting")
    patch(sock, "wait_ready", wait_ready)


@mutant("socket_filestat_not_zero", breaks="a socket's filestat reports an inode number it does not have "
        "(the model: zeros but the type)", killers=("refinement.sockets",))
def socket_filestat_not_zero():
    """Bug in fd_filestat_get's socket branch: ino 1 instead of 0."""
    from proofs.mutants.host_failures import rewrite
    from vwasm.syscalls import fd
    rewrite(fd, "fd_filestat_get", "if desc.kind == SOCKET:  # no inode either: zeros but the type, as the model "
            "(wasi-common)\n        cx.mem.store(FILESTAT, stat_ptr, 0, 0,",
            "if desc.kind == SOCKET:\n        cx.mem.store(FILESTAT, stat_ptr, 0, 1,")



@mutant("connect_again_wrong_errno", breaks="1 WASI semantics: connecting a connected socket answers "
        "EPROTOTYPE (the kernel, and POSIX: EISCONN) in the rule model and runtime share",
        killers=("host.socket_states",))
def connect_again_wrong_errno():
    """Bug in model/net.py's connect_rule: its first refusal names the wrong errno."""
    from proofs.mutants.host_failures import rewrite
    from vwasm.model import net
    rewrite(net, "connect_rule", "raise WasiError(Errno.ISCONN)", "raise WasiError(Errno.PROTOTYPE)", handler=False)
