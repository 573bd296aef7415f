"""Netlist rules, socket rules, and the effect policy."""
import pytest

from vwasm.model import net
from vwasm.model.effects import (
    FdAccess, MemRead, MemWrite, NetAccess, PathAccess, Policy, SockCreate, trace_safe,
)
from vwasm.model.wasi import AddressFamily, Errno, Protocol, SocketType, WasiError

NL = (net.parse_rule("tcp:10.0.0.0/8:80-90"), net.parse_rule("udp:[::1]:53"))


def errno_of(fn, *args):
    with pytest.raises(WasiError) as e:
        fn(*args)
    return e.value.errno


def test_rules_allow_prefix_and_ports():
    assert net.allowed(NL, Protocol.TCP, AddressFamily.INET, 0x0A010203, 85)
    assert not net.allowed(NL, Protocol.TCP, AddressFamily.INET, 0x0B000001, 85)
    assert not net.allowed(NL, Protocol.TCP, AddressFamily.INET, 0x0A000001, 91)
    assert not net.allowed(NL, Protocol.UDP, AddressFamily.INET, 0x0A000001, 85)
    assert net.allowed(NL, Protocol.UDP, AddressFamily.INET6, 1, 53)


def test_invalid_rule_text():
    with pytest.raises(ValueError):
        net.parse_rule("tcp:10.0.0.1/8:80")
    with pytest.raises(ValueError):
        net.parse_rule("tcp:10.0.0.0/8:90-80")


def test_socket_rule():
    s = net.socket_rule(NL, AddressFamily.INET, SocketType.STREAM, 0)
    assert s.proto == Protocol.TCP and s.wf()
    assert errno_of(net.socket_rule, NL, 3, SocketType.STREAM, 0) == Errno.AFNOSUPPORT
    assert errno_of(net.socket_rule, NL, AddressFamily.INET, 1, 0) == Errno.PROTOTYPE
    assert errno_of(net.socket_rule, NL, AddressFamily.INET, SocketType.STREAM, 17) == Errno.PROTONOSUPPORT
    assert errno_of(net.socket_rule, NL, AddressFamily.INET, SocketType.DGRAM, 0) == Errno.NOTCAPABLE


def test_connect_io_shutdown_rules():
    s = net.socket_rule(NL, AddressFamily.INET, SocketType.STREAM, 0)
    assert errno_of(net.io_rule, s, True) == Errno.NOTCONN
    assert errno_of(net.connect_rule, NL, s, AddressFamily.INET, 0x0B000001, 80) == Errno.NOTCAPABLE
    assert errno_of(net.connect_rule, NL, s, AddressFamily.INET6, 1, 80) == Errno.AFNOSUPPORT
    c = net.connect_rule(NL, s, AddressFamily.INET, 0x0A000001, 80)
    assert c.peer == (0x0A000001, 80) and c.wf()
    assert errno_of(net.connect_rule, NL, c, AddressFamily.INET, 0x0A000001, 80) == Errno.ISCONN
    d = net.shutdown_rule(c, 2)
    assert errno_of(net.io_rule, d, True) == Errno.PIPE
    net.io_rule(d, False)
    assert errno_of(net.shutdown_rule, c, 0) == Errno.INVAL
    assert errno_of(net.shutdown_rule, s, 1) == Errno.NOTCONN


def test_accept_rule():
    listener = net.Socket(AddressFamily.INET, SocketType.STREAM, Protocol.TCP, "listening")
    c = net.accept_rule(listener, (5, 6))
    assert c.status == "connected" and c.inbound and c.wf()
    assert errno_of(net.accept_rule, c, (5, 6)) == Errno.INVAL


def test_trace_safe_policy():
    p = Policy(NL, mem_size=100, fds=frozenset({3}), dir_fds=frozenset({3}))
    assert trace_safe((MemRead(0, 100), MemWrite(99, 1), PathAccess(3, "a/b", True), FdAccess(3),
                       NetAccess(Protocol.TCP, AddressFamily.INET, 0x0A000001, 80),
                       SockCreate(AddressFamily.INET, SocketType.STREAM, Protocol.TCP)), p)
    for bad in (MemRead(99, 2), MemWrite(-1, 1), PathAccess(3, "../x", True), PathAccess(3, "/x", False),
                PathAccess(4, "a", False), FdAccess(9),
                NetAccess(Protocol.TCP, AddressFamily.INET, 0x0B000001, 80),
                SockCreate(AddressFamily.INET, SocketType.DGRAM, Protocol.UDP)):
        assert not trace_safe((bad,), p), bad
