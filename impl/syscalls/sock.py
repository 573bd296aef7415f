"""Sockets: WaVe's `socket` and `sock_connect`, and preview1's `sock_*`.

Deny by default: a socket is created only of a family and protocol the netlist mentions, connects
only to an endpoint in the netlist, and a listening socket exists only if the embedder granted one
(`--tcplisten`). The netlist rules are the policy's own (`vwasm.model.net`), applied here as written
there: the runtime does not restate them. Each socket descriptor carries its abstract state
(`net.Socket`: created / connected / listening, peer, shut directions) next to its host handle.
"""
from vwasm.model import net
from vwasm.model.wasi import (
    SUCCESS, SOCKADDR_IN, SOCKADDR_IN6, SOCKET_RIGHTS, U16, AddressFamily, Errno, Fdflags, Filetype, Riflags,
    Rights, Roflags, Sdflags, SocketType, WasiError,
)

from vwasm.model.rights import need

from ..fdtable import SOCKET, Descriptor
from ..limits import wait_ready

_FILETYPE = {SocketType.STREAM: Filetype.SOCKET_STREAM, SocketType.DGRAM: Filetype.SOCKET_DGRAM}
_SOCKADDR = {AddressFamily.INET: SOCKADDR_IN, AddressFamily.INET6: SOCKADDR_IN6}


def _flags(value: int, all_bits: int) -> None:
    # Bits outside the flag type do not decode.
    if value & ~all_bits:
        raise WasiError(Errno.INVAL)


def _socket(cx, fd: int, rights: int = 0) -> Descriptor:
    """The socket fd names (EBADF if none is open, ENOTSOCK if it is not a socket), holding
    `rights` (ENOTCAPABLE otherwise)."""
    desc = cx.fds.get(fd)
    if desc.kind != SOCKET:
        raise WasiError(Errno.NOTSOCK)
    if rights & ~desc.rights_base:
        raise WasiError(Errno.NOTCAPABLE)
    return desc


def socket_descriptor(handle, sock: net.Socket, base: int, inheriting: int, fdflags: int = 0) -> Descriptor:
    return Descriptor(SOCKET, handle, _FILETYPE[sock.type], base, inheriting, fdflags, extra={"sock": sock})


def socket(cx, domain: int, type_: int, protocol: int, fd_out: int) -> int:
    """WaVe socket(domain, type, protocol). modifies: the table. Allowed kinds: the netlist's."""
    cx.mem.check(fd_out, 4, 4)
    sock = net.socket_rule(cx.netlist, domain, type_, protocol)
    handle = cx.host.socket(sock.family, sock.type)
    # A socket of our own making accepts nothing: SOCK_ACCEPT is for granted listeners only.
    rights = SOCKET_RIGHTS & ~Rights.SOCK_ACCEPT
    try:
        fd = cx.fds.add(socket_descriptor(handle, sock, rights, rights))
    except WasiError:
        cx.host.close(handle)
        raise
    cx.mem.put_u32(fd_out, fd)
    return SUCCESS


def _endpoint(cx, addr_ptr: int, addr_len: int) -> tuple[int, bytes, int]:
    """(family, address bytes, port) from a guest sockaddr (WaVe's layout)."""
    # The whole address the guest declares, before any field of it is looked at: an address that
    # straddles the end of memory traps, whatever its first bytes say (§1.1). A sockaddr is bytes
    # (alignment 1): its family is read from them.
    raw = cx.mem.read(addr_ptr, addr_len)
    # Too short to hold even a family.
    if addr_len < U16.size:
        raise WasiError(Errno.INVAL)
    (family,) = U16.codec.unpack_from(raw)
    layout = _SOCKADDR.get(family)
    # An address of a family we do not speak.
    if layout is None:
        raise WasiError(Errno.AFNOSUPPORT)
    # The length must be exactly that family's sockaddr.
    if addr_len != layout.size:
        raise WasiError(Errno.INVAL)
    fields = layout.codec.unpack(raw)
    port = int.from_bytes(fields[1], "big")
    addr = fields[2] if family == AddressFamily.INET else fields[3]
    return family, addr, port


def sock_connect(cx, fd: int, addr_ptr: int, addr_len: int) -> int:
    """WaVe sock_connect(fd, sockaddr, len). modifies: the socket (connected). Only netlist endpoints."""
    desc = _socket(cx, fd)
    family, addr, port = _endpoint(cx, addr_ptr, addr_len)
    connected = net.connect_rule(cx.netlist, desc.extra["sock"], family, int.from_bytes(addr, "big"), port)
    cx.host.connect(desc.handle, family, addr, port)
    desc.extra["sock"] = connected
    return SUCCESS


def sock_accept(cx, fd: int, flags: int, fd_out: int) -> int:
    """preview1 sock_accept. modifies: the table (the connection). right: SOCK_ACCEPT."""
    _flags(flags, 0x1F)
    desc = _socket(cx, fd, need("sock_accept"))
    # Only NONBLOCK may be set on the new descriptor.
    if flags & ~Fdflags.NONBLOCK:
        raise WasiError(Errno.INVAL)
    listener = desc.extra["sock"]
    net.accept_rule(listener, (0, 0))  # only a listening socket accepts (EINVAL otherwise)
    cx.mem.check(fd_out, 4, 4)
    if cx.deadline is not None:  # Config.timeout: accept may block
        wait_ready(cx, desc)
    handle, addr, port = cx.host.accept(desc.handle, bool(flags & Fdflags.NONBLOCK))
    sock = net.accept_rule(listener, (int.from_bytes(addr, "big"), port))
    # The connection inherits the listener's inheriting rights, never the right to accept.
    base = desc.rights_inheriting & SOCKET_RIGHTS & ~Rights.SOCK_ACCEPT
    try:
        new = cx.fds.add(socket_descriptor(handle, sock, base, desc.rights_inheriting & ~Rights.SOCK_ACCEPT, flags))
    except WasiError:
        cx.host.close(handle)
        raise
    cx.mem.put_u32(fd_out, new)
    return SUCCESS


def sock_recv(cx, fd: int, ri_data: int, ri_data_len: int, ri_flags: int, ro_datalen: int, ro_flags: int) -> int:
    """preview1 sock_recv. modifies: the buffers. right: FD_READ."""
    _flags(ri_flags, Riflags.RECV_PEEK | Riflags.RECV_WAITALL)
    desc = _socket(cx, fd, need("sock_recv"))
    sock = desc.extra["sock"]
    net.io_rule(sock, sending=False)
    bufs = cx.mem.iovecs(ri_data, ri_data_len)
    cx.mem.check(ro_datalen, 4, 4)
    cx.mem.check(ro_flags, 2, 2)
    if cx.deadline is not None and not sock.shut_rd:  # Config.timeout: recv may block
        wait_ready(cx, desc)
    # After shutdown(RD) reads see end of stream.
    n, truncated = (0, False) if sock.shut_rd else cx.host.recv(
        desc.handle, bufs, bool(ri_flags & Riflags.RECV_PEEK), bool(ri_flags & Riflags.RECV_WAITALL))
    cx.mem.put_u32(ro_datalen, n)
    cx.mem.store(U16, ro_flags, Roflags.RECV_DATA_TRUNCATED if truncated else 0)
    return SUCCESS


def sock_send(cx, fd: int, si_data: int, si_data_len: int, si_flags: int, so_datalen: int) -> int:
    """preview1 sock_send. modifies: the connection. right: FD_WRITE."""
    # siflags has no bits in preview1.
    if si_flags != 0:
        raise WasiError(Errno.INVAL)
    desc = _socket(cx, fd, need("sock_send"))
    net.io_rule(desc.extra["sock"], sending=True)
    bufs = cx.mem.iovecs(si_data, si_data_len)
    cx.mem.check(so_datalen, 4, 4)
    if cx.deadline is not None:  # Config.timeout: send may block
        wait_ready(cx, desc, write=True)
    cx.mem.put_u32(so_datalen, cx.host.send(desc.handle, bufs))
    return SUCCESS


def sock_shutdown(cx, fd: int, how: int) -> int:
    """preview1 sock_shutdown. modifies: the connection's open directions. right: SOCK_SHUTDOWN."""
    _flags(how, Sdflags.RD | Sdflags.WR)
    desc = _socket(cx, fd, need("sock_shutdown"))
    shut = net.shutdown_rule(desc.extra["sock"], how)
    cx.host.shutdown(desc.handle, how)
    desc.extra["sock"] = shut
    return SUCCESS
