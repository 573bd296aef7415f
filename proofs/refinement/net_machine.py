"""Sockets in the refinement: the model's socket transitions, the runtime over ModelHost's abstract
loopback network and the runtime over PosixHost on the real loopback, driven by the same calls.

The guest holds two granted listeners (127.0.0.1:P at fd 3, [::1]:P6 at fd 4) and a netlist drawn
from a few shapes (single ports and ranges, a prefix, IPv4-mapped IPv6 rules with and without the
IPv4 rule, datagram rules, kinds no rule mentions). It creates sockets, connects them to its own
listeners (and to a closed port, addresses outside the netlist, a datagram peer the environment
runs), accepts, sends and receives in both directions, shuts directions down, closes ends with and
without unread data, narrows rights, and polls. The environment's only moves are the datagram
peer echoing what it got.

Where the model leaves a choice to the world (a connect refused, a connection pending, the bytes a
recv gets, a reset), the choice is ModelHost's answer before the call; the runtime over PosixHost
then shows that the answer is the kernel's. After every call: the same errno and results in all
three, the same descriptor table, the same abstract socket per descriptor (the model's, and the
runtime's own `net.Socket`), and every real socket as ModelHost's network says it is: TCP state
(TCP_INFO), bytes queued (FIONREAD) and poll readiness. Each sequence starts with one of a few
scenes from the bugs that once escaped (SCENES), then goes on at random.

Nothing on the PosixHost side may block: a call that would wait for ever in ModelHost's network
(a blocking recv of an empty socket, an accept with nothing pending: the guest would deadlock
itself) is not made, and every real socket has a 2 s receive/send timeout, so a runtime bug that
blocks shows as a disagreement (or an error), not a hang.
"""
from __future__ import annotations

import fcntl
import inspect
import ipaddress
import select
import socket as _s
import struct
import termios
import time

from hypothesis import event, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from proofs.core import HOST, STATEFUL, Counterexample, obligation
from proofs.lemmas.net import encode_sockaddr
from proofs.refinement import machine as mm
from proofs.refinement.machine import BUF, IOV, MEM, OUT, STAT, World, model_table
from proofs.refinement.stateful import run_machine

SUBS, EVENTS = 12288, 16384  # where poll_oneoff's subscriptions and events go in guest memory
GUARD_S = 2  # receive/send timeout on every real socket: a blocking bug is an error, not a hang
NETLISTS = (
    # everything reachable: single ports, the mapped address with its IPv4 rule, datagrams, a /8
    ("tcp:127.0.0.1:{P}", "tcp:[::1]:{P6}", "tcp:127.0.0.0/8:{C}", "udp:127.0.0.1:{Q}", "udp:[::1]:{Q}",
     "tcp:[::ffff:127.0.0.1]:{P}", "udp:[::ffff:127.0.0.1]:{Q}", "tcp:0.0.0.0:{P}", "tcp:[::1]:{C}"),
    # ranges; the mapped address without its IPv4 rule; no datagram rule at all
    ("tcp:127.0.0.1:{C}-{C1}", "tcp:[::ffff:127.0.0.1]:{P}", "tcp:[::1]:{P6}-{P61}", "tcp:[::]:{P6}"),
    # datagrams only, and a stream rule where only datagrams are served
    ("udp:127.0.0.1:{Q}", "udp:[::1]:{Q}", "tcp:[::ffff:0:0/96]:{Q}"),
)
# (family, address, port name): the listeners, the closed port, the datagram peer, strangers
ENDPOINTS = (
    (1, "127.0.0.1", "P"), (1, "0.0.0.0", "P"), (1, "127.0.0.1", "C"), (1, "127.0.0.2", "C"), (1, "127.0.0.1", "Q"),
    (1, "127.0.0.1", "P1"), (1, "10.1.2.3", "P"), (1, "127.0.0.1", "P6"), (2, "::1", "P6"), (2, "::", "P6"),
    (2, "::ffff:127.0.0.1", "P"), (2, "::ffff:127.0.0.1", "Q"), (2, "::1", "Q"), (2, "::1", "C"), (2, "::1", "P"),
)
FD_INDEX = st.integers(0, 12)
MAX_FDS = 12  # stdio, two listeners and seven more: EMFILE comes up in socket and accept
# all rights; read+write+shutdown+poll; read+write; write; read; none (FD_READ 0x2, FD_WRITE 0x40,
# POLL_FD_READWRITE 0x800_0000, SOCK_SHUTDOWN 0x1000_0000)
SOCK_RIGHTS_CHOICES = st.sampled_from([(1 << 30) - 1, 0x2 | 0x40 | 0x800_0000 | 0x1000_0000, 0x2 | 0x40, 0x40, 0x2, 0])


def _event(value: str) -> None:
    """Record a coverage event where `run_machine` counts them (this module's `event`, or the
    machine module's in older versions of it)."""
    event(value)
    if getattr(mm, "event", event) is not event:
        mm.event(value)


def _free_port(family, kind) -> int:
    with _s.socket(family, kind) as t:
        t.bind(("::1" if family == _s.AF_INET6 else "127.0.0.1", 0))
        return t.getsockname()[1]


_TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
               7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}


def _kernel_view(fd: int) -> tuple:
    """(TCP state or "" for a datagram socket, FIONREAD, readable, writable) of a real socket."""
    s = _s.socket(fileno=fd)
    try:
        stream = s.type == _s.SOCK_STREAM
        state = _TCP_STATES.get(s.getsockopt(_s.IPPROTO_TCP, _s.TCP_INFO, 8)[0], "?") if stream else ""
    finally:
        s.detach()
    queued = 0 if state == "LISTEN" else struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
    p = select.poll()
    p.register(fd, select.POLLIN | select.POLLOUT)
    ev = dict(p.poll(0)).get(fd, 0)
    return (state, queued, bool(ev & (select.POLLIN | select.POLLHUP | select.POLLERR)),
            bool(ev & (select.POLLOUT | select.POLLHUP | select.POLLERR)))


def _guarded_posix_host():
    """PosixHost, with a receive/send timeout on every socket it makes (the machine's safety net)."""
    from vwasm.posix_host import PosixHost

    def guard(fd: int) -> int:
        s = _s.socket(fileno=fd)
        tv = struct.pack("ll", GUARD_S, 0)
        s.setsockopt(_s.SOL_SOCKET, _s.SO_RCVTIMEO, tv)
        s.setsockopt(_s.SOL_SOCKET, _s.SO_SNDTIMEO, tv)
        s.detach()
        return fd

    class Guarded(PosixHost):
        def socket(self, family, type_):
            return guard(super().socket(family, type_))

        def accept(self, h, nonblock):
            fd, addr, port = super().accept(h, nonblock)
            return guard(fd), addr, port

        def listen_tcp(self, address, port):
            fd, family = super().listen_tcp(address, port)
            return guard(fd), family

        def ready(self, reads, writes, timeout_ns):
            # The machine makes no call that must wait (poll's clocks end it at once): a wait is
            # cut at the guard, and the deadline's check then stops the guest (a counterexample).
            cap = GUARD_S * 10**9
            return super().ready(reads, writes, cap if timeout_ns is None else min(timeout_ns, cap))
    return Guarded()


class NetWorld(World):
    """A runtime instance granted a netlist and listeners (no preopen)."""

    def __init__(self, host, rules, listeners) -> None:  # noqa: D107 - World's fields, another Config
        from vwasm.context import Context
        from vwasm.memory import GuestMemory
        from vwasm.sandbox import Config, descriptor_table
        cfg = Config()
        for r in rules:
            cfg.allow_net(r)
        for address, port in listeners:
            cfg.tcp_listen(address, port)
        cfg.max_fds = MAX_FDS
        self.out = {"stdout": [], "stderr": []}
        cfg.stdin_bytes(b"in")
        cfg.stdout_custom(self.out["stdout"].append)
        cfg.stderr_custom(self.out["stderr"].append)
        self.host = host
        self.cx = Context(host, descriptor_table(cfg, host), [], [], tuple(cfg.netlist))
        self.cx.mem = GuestMemory.over(bytearray([getattr(mm, "CANARY", 0xA5)]) * MEM)

    def sockets(self) -> dict:
        from vwasm.fdtable import SOCKET
        return {fd: d for fd, d in self.cx.fds.items() if d.kind == SOCKET}


def _sock_view(sock, with_port: bool = True) -> tuple:
    """What is compared of an abstract socket (an accepted connection's peer port is the kernel's)."""
    peer = sock.peer
    if peer is not None and sock.inbound and not with_port:
        peer = peer[0]
    return (int(sock.family), int(sock.type), int(sock.proto), sock.status, sock.shut_rd, sock.shut_wr,
            sock.inbound, peer)


# Situations the sequences must reach, each played at the start of some sequences on the first
# connection (a, b: client and accepted end) and datagram socket. From the bugs that once escaped.
def _scene_shut_rd_then_read(m, a, b, u):
    # bytes arrive, the reader shuts reading: a peek and a read both see end of stream
    m._send("sock_send", a, (b"hello",), 0)
    m._shutdown(b, 1)
    m._recv(b, (16,), 1)
    m._read(b, (16,))


def _scene_reset_on_unread(m, a, b, u):
    # closing with bytes unread resets the connection: ECONNRESET once, then end of stream, EPIPE
    m._send("sock_send", a, (b"abc",), 0)
    m._read(b, (1,))
    m.close_fd(b)
    m._send("fd_write", a, (b"x",), 0)
    m._recv(a, (4,), 0)
    m._send("sock_send", a, (b"y",), 0)


def _scene_fin_both_ways(m, a, b, u):
    # FINs both ways: each end reads end of stream, and the connection is over (ENOTCONN)
    m._shutdown(a, 2)
    m._read(b, (4,))
    m._shutdown(b, 2)
    m._recv(a, (4,), 0)
    m._shutdown(a, 1)


def _scene_send_to_closed(m, a, b, u):
    # the peer closed cleanly: the first send succeeds, the reset it draws makes the next EPIPE
    m.close_fd(b)
    m._send("sock_send", a, (b"z",), 0)
    m._send("sock_send", a, (b"z",), 0)
    m._read(a, (4,))


def _scene_peek_waitall(m, a, b, u):
    # a peek leaves the bytes; WAITALL with enough bytes returns at once
    m._send("sock_send", a, (b"ab", b"cd"), 0)
    m._recv(b, (16,), 1)
    m._recv(b, (2,), 2)
    m._recv(b, (1, 1), 0)


def _scene_datagram_truncated(m, a, b, u):
    # a datagram longer than the buffers is cut and reported; a read takes the next one whole
    if u is None:
        n = len(m.fds)
        m.datagram_socket(1, False)
        u = m.fds[-1] if len(m.fds) > n else None
    if u is not None:
        m._send("sock_send", u, (b"abcdef",), 0)
        m._send("fd_write", u, (b"gh",), 0)
        m.datagram_peer_echoes()
        m._recv(u, (3,), 0)
        m._read(u, (16,))


def _scene_listener_closed(m, a, b, u):
    # a connection never accepted is reset when the listener goes
    n = len(m.fds)
    m.socket(1, 6, 0)
    if len(m.fds) > n:
        c = m.fds[-1]
        m._connect(c, 1, "127.0.0.1", "P")
        m.close_fd(3)
        m._recv(c, (4,), 0)
        m._send("sock_send", c, (b"q",), 0)


def _on_first(scene):
    def play(m):
        pairs, dgrams = m.pairs, [fd for fd in m.fds if m.mod.sockets()[fd].extra["sock"].type == 5]
        if pairs or scene is _scene_datagram_truncated:
            scene(m, *(pairs[0] if pairs else (None, None)), dgrams[0] if dgrams else None)
    return play


SCENES = (lambda m: None,) + tuple(_on_first(f) for f in (
    _scene_shut_rd_then_read, _scene_reset_on_unread, _scene_fin_both_ways, _scene_send_to_closed,
    _scene_peek_waitall, _scene_datagram_truncated, _scene_listener_closed))


class NetMachine(RuleBasedStateMachine):
    CHECK_MODEL = True  # False: only the runtime over ModelHost vs over PosixHost (the TCB check)
    COUNT = {"steps": 0}

    def __init__(self) -> None:
        super().__init__()
        self.started = False
        self.posix = self.mod = None
        self.peer_real = None

    # --- the worlds --------------------------------------------------------------------------------
    @initialize(shape=st.sampled_from(range(len(NETLISTS))), first=st.sampled_from([0, 1, 2, 3, 4]),
                flags=st.sampled_from([0, 4]), dgram=st.sampled_from([None, (1, False), (2, False), (2, True)]),
                scene=st.sampled_from(range(len(SCENES))))
    def start(self, shape, first, flags, dgram, scene):
        """The worlds, then (as the guest's first calls) a TCP connection to one of its listeners,
        accepted, a datagram socket connected to the peer -- where the netlist allows them -- and
        one of the SCENES on them (the rules go on from there)."""
        from vwasm.model import net, sandbox as sb
        from vwasm.model.fs import FileSystem
        from vwasm.model.wasi import AddressFamily, SocketType
        from vwasm.model_host import ModelHost
        # the environment's datagram peer, on every loopback address (IPv4 and IPv6)
        self.peer_real = _s.socket(_s.AF_INET6, _s.SOCK_DGRAM)
        self.peer_real.setsockopt(_s.IPPROTO_IPV6, _s.IPV6_V6ONLY, 0)
        self.peer_real.bind(("::", 0))
        self.peer_real.settimeout(GUARD_S)
        q = self.peer_real.getsockname()[1]
        p, p6 = _free_port(_s.AF_INET, _s.SOCK_STREAM), _free_port(_s.AF_INET6, _s.SOCK_STREAM)
        c = _free_port(_s.AF_INET, _s.SOCK_STREAM)
        self.ports = {"P": p, "P1": (p + 1) % 65536, "P6": p6, "P61": (p6 + 1) % 65536, "Q": q, "C": c,
                      "C1": (c + 1) % 65536}
        rules = [r.format(**self.ports) for r in NETLISTS[shape]]
        note(f"netlist {rules}")
        listeners = [("127.0.0.1", p), ("::1", p6)]
        self.mhost = ModelHost()
        self.mod = NetWorld(self.mhost, rules, listeners)
        self.peer_model = self.mhost.bind_datagram_peer(q)
        self.posix = NetWorld(_guarded_posix_host(), rules, listeners)
        # Config.timeout's deadline over PosixHost, never reached (1000 s away): every call that may
        # block first waits for readiness there, which must change nothing. Only where the model
        # says which calls would wait (they are not made); without it, reads may meet the guard.
        if self.CHECK_MODEL:
            from vwasm.model.wasi import Clockid
            self.posix.cx.deadline = self.posix.host.clock_time(Clockid.MONOTONIC) + 10**12
        self.s = sb.initial_state(FileSystem(), netlist=tuple(net.parse_rule(r) for r in rules), stdin=b"in",
                                  max_fds=MAX_FDS,
                                  listeners=((AddressFamily.INET, SocketType.STREAM),
                                             (AddressFamily.INET6, SocketType.STREAM)))
        self.sb = sb
        self.fds = []  # sockets made or accepted so far, oldest first
        self.pairs = []  # (client, accepted) connections the guest holds both ends of
        self.inbox, self.outbox = {}, {}  # fd -> bytes sent to it (or datagrams), datagrams not yet echoed
        self.started = True
        for which in (first, 0, 1):  # the drawn kind of connection, else one the netlist allows
            if not self.pairs:
                self.connection((which, flags))
        if dgram is not None:
            self.datagram_socket(*dgram)
        SCENES[scene](self)

    def teardown(self) -> None:
        for w in (self.posix,):
            if w is not None:
                w.close()
        if self.peer_real is not None:
            self.peer_real.close()

    # --- one call in the three worlds ------------------------------------------------------------
    def fd_at(self, i: int) -> int:
        """Mostly a socket the guest made or accepted (newest first), sometimes a listener, a
        stream, or a number never opened."""
        connected = [fd for fd in self.fds[::-1] if self.mod.sockets()[fd].extra["sock"].status == "connected"]
        if i < 6 and connected:
            return connected[i % len(connected)]
        if i < 9 and self.fds:
            return self.fds[::-1][i % len(self.fds)]
        return (3, 4, 0, 1, 17)[i % 5]

    def handle(self, fd: int):
        """ModelHost's handle of the socket fd names in the runtime over ModelHost (None if none)."""
        d = self.mod.sockets().get(fd)
        return None if d is None else d.handle

    def step(self, name, model_call, args, detail="", result=None, model_result=None, outs=()):
        """One call in the three worlds; `outs`: the (ptr, len) regions it may write."""
        err = res = None
        if self.CHECK_MODEL:
            try:
                self.s, err, res = model_call()
            except Exception as e:  # noqa: BLE001 - a broken contract or transition of the model
                raise Counterexample(f"{name}{detail}: the model raised {type(e).__name__}: {e}") from None
        kw = {"outs": outs} if "outs" in inspect.signature(World.call).parameters else {}
        outs = [w.call(name, *args, **kw) for w in (self.mod, self.posix)]
        self.COUNT["steps"] += 1
        e_m, e_p = outs
        label = self._ename(err if self.CHECK_MODEL else e_m)
        _event(f"{name} -> {label}")
        if self.CHECK_MODEL and int(err) != e_m or e_m != e_p:
            raise Counterexample(f"{name}{detail}: model {self._ename(err)}, runtime over ModelHost "
                                 f"{self._ename(e_m)}, over PosixHost {self._ename(e_p)}")
        self.settle()
        if not self.CHECK_MODEL:
            err = e_m  # the errno both runtimes answered
        if e_m != 0 or result is None:
            return err, res, None
        vals = [result(w) for w in (self.mod, self.posix)]
        if vals[0] != vals[1]:
            raise Counterexample(f"{name}{detail}: over ModelHost {vals[0]!r}, over PosixHost {vals[1]!r}")
        if self.CHECK_MODEL and model_result is not None and model_result(res) != vals[0]:
            raise Counterexample(f"{name}{detail}: model {model_result(res)!r}, runtime {vals[0]!r}")
        return err, res, vals[0]

    @staticmethod
    def _ename(e) -> str:
        from vwasm.model.wasi import Errno
        try:
            return Errno(int(e)).name
        except (TypeError, ValueError):
            return str(e)

    def reaches_network(self, fd: int, model_call) -> bool:
        """Whether a read of socket fd gets as far as the network: the model says it succeeds and
        the socket is not shut for reading (without the model: the runtime's socket says so)."""
        from vwasm.model.wasi import Errno, Rights
        if self.CHECK_MODEL:
            _, e, _ = model_call()
            return e == Errno.SUCCESS and not dict(self.s.sockets)[self.s.fds.get(fd).socket].shut_rd
        d = self.mod.sockets()[fd]
        sock = d.extra["sock"]
        return bool(d.rights_base & Rights.FD_READ) and sock.status == "connected" and not sock.shut_rd

    def accept_waits(self, fd: int, flags: int) -> bool:
        """Whether an accept on fd, with nothing pending, gets as far as the network: the model
        answers EAGAIN (without the model: the runtime's descriptor says so)."""
        from vwasm.model.wasi import Errno, Fdflags, Rights
        if self.CHECK_MODEL:
            return self.sb.sock_accept(self.s, fd, flags, None)[1] == Errno.AGAIN
        d = self.mod.sockets()[fd]
        return (d.extra["sock"].status == "listening" and bool(d.rights_base & Rights.SOCK_ACCEPT)
                and not flags & ~Fdflags.NONBLOCK)

    def runtime_waits(self, name: str, args) -> None:
        """The model says the call would wait for the network: so must the runtime over ModelHost
        (whose network says so without waiting), having changed nothing -- not refuse it, nor
        complete it."""
        from vwasm import syscalls
        from vwasm.model.wasi import WasiError
        from vwasm.model_host import WouldBlock
        before = (self.mod.table(), bytes(self.mod.cx.mem.view))
        try:
            answer = syscalls.HANDLERS[name](self.mod.cx, *args)
        except WouldBlock:
            answer = None
        except WasiError as e:
            answer = self._ename(e.errno)
        if answer is not None or before != (self.mod.table(), bytes(self.mod.cx.mem.view)):
            raise Counterexample(f"{name}{args}: the model would wait; the runtime over ModelHost answers {answer}"
                                 f"{'' if answer is not None else ', having changed its table or memory'}")

    def before_read(self, fd: int):
        """(unread, shut for reading) of socket fd in ModelHost's network, before a read."""
        h = self.handle(fd)
        return None if h is None else (self.mhost.unread(h), self.mod.sockets()[fd].extra["sock"].shut_rd)

    def consumed(self, fd: int, before, data: bytes, peek: bool, readv: bool, cap: int) -> None:
        """A read took from the network exactly what it returned -- nothing when peeking, when
        shut for reading (the network is not asked) or (readv) for no room; a datagram read
        takes the whole datagram. So the runtime asked the host with the guest's flags."""
        if before is None:
            return
        unread, shut = before
        h = self.handle(fd)
        stream = self.mod.sockets()[fd].extra["sock"].type == 6
        if peek or shut or readv and cap == 0:
            want = unread
        else:
            want = unread - len(data) if stream else max(0, unread - 1)
        if self.mhost.unread(h) != want:
            raise Counterexample(f"a read of socket {fd} ({'peek' if peek else 'take'}, {len(data)} bytes) left "
                                 f"{self.mhost.unread(h)} {'bytes' if stream else 'datagrams'} unread, not {want}")
        self.received(fd, data, taken=want != unread)

    def put_all(self, at: int, raw: bytes) -> None:
        for w in (self.mod, self.posix):
            w.put(at, raw)

    def iovecs(self, lens) -> None:
        """iovecs at IOV naming buffers 64 bytes apart from BUF."""
        raw = b"".join(struct.pack("<II", BUF + 64 * i, n) for i, n in enumerate(lens))
        self.put_all(IOV, raw)

    @staticmethod
    def buffers(lens) -> tuple:
        return tuple((BUF + 64 * i, n) for i, n in enumerate(lens))

    @staticmethod
    def gathered(w, lens, n: int) -> bytes:
        out = b""
        for i, ln in enumerate(lens):
            take = min(ln, n - len(out))
            out += w.get(BUF + 64 * i, take)
        return out

    # --- rules ---------------------------------------------------------------------------------------
    @precondition(lambda self: self.started)
    @rule(family=st.sampled_from([1, 1, 2, 2, 3]), type_=st.sampled_from([6, 6, 5, 5, 1]),
          protocol=st.sampled_from([0, 0, 0, 0, 6, 17]))
    def socket(self, family, type_, protocol):
        _, _, fd = self.step("socket", lambda: self.sb.socket(self.s, family, type_, protocol),
                             (family, type_, protocol, OUT), f"({family}, {type_}, {protocol})",
                             result=lambda w: w.u32(OUT), model_result=lambda r: r[0], outs=((OUT, 4),))
        if fd is not None:
            self.fds.append(fd)

    @precondition(lambda self: self.started)
    @rule(at=FD_INDEX, which=st.integers(0, len(ENDPOINTS) - 1))
    def connect(self, at, which):
        self._connect(self.fd_at(at), *ENDPOINTS[which])

    @precondition(lambda self: self.started)
    @rule(plan=st.tuples(st.sampled_from([0, 0, 1, 2, 3, 4]), st.sampled_from([0, 4])))
    def connection(self, plan):
        """A socket, connected to one of the guest's own listeners, and the connection accepted:
        both ends of a TCP connection in the guest's hands."""
        which, flags = plan
        family, text, port_name = [(1, "127.0.0.1", "P"), (2, "::1", "P6"), (2, "::ffff:127.0.0.1", "P"),
                                   (1, "0.0.0.0", "P"), (2, "::", "P6")][which]
        n = len(self.fds)
        self.socket(family, 6, 0)
        if len(self.fds) == n:
            return
        if self._connect(self.fds[-1], family, text, port_name) == 0:
            client = self.fds[-1]
            self.accept(10 + (port_name == "P6"), flags)
            if self.fds[-1] != client:
                self.pairs.append((client, self.fds[-1]))

    @precondition(lambda self: self.started)
    # (Hypothesis tries rules with fewer arguments first and more often: the compound rules take
    # theirs as one tuple.)
    @rule(plan=st.tuples(st.integers(0, 3), st.booleans(),
                         st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=2).map(tuple),
                         st.sampled_from([1, None, 2, 3, None]), st.booleans(), st.booleans(),
                         st.sampled_from([(3,), (1,), (16,), (2, 5)]), st.sampled_from([0, 1, 2, 3]), st.booleans()))
    def traffic(self, plan):
        from vwasm.model.wasi import Riflags
        pair, reverse, chunks, how, shut_sender, use_recv, lens, flags, hang_up = plan
        """Bytes from one end of a connection the guest holds both ends of to the other, perhaps a
        shutdown of either end, then a peek and a read or recv at the receiving end; with `hang_up`, the
        receiver closes (a reset if bytes are left unread) and the sender sends and reads again."""
        pairs = [p for p in self.pairs if p[0] in self.fds and p[1] in self.fds]
        if not pairs:
            return
        a, b = pairs[pair % len(pairs)][::-1 if reverse else 1]
        self._send("sock_send", a, chunks, 0)
        if how is not None:
            self._shutdown(a if shut_sender else b, how)
        self._recv(b, lens[::-1], Riflags.RECV_PEEK)  # a look first: nothing may be taken
        if use_recv:
            self._recv(b, lens, flags)
        else:
            self._read(b, lens)
        if hang_up:
            self.close_fd(b)
            self._send("fd_write", a, chunks, 0)
            self._recv(a, lens, flags)
            self._send("sock_send", a, chunks, 0)

    @precondition(lambda self: self.started)
    @rule(plan=st.tuples(st.integers(0, 3), st.lists(st.binary(min_size=0, max_size=8), min_size=1, max_size=2).map(tuple),
                         st.sampled_from([True, True, False]), st.booleans(), st.sampled_from([(1,), (3,), (16,), (2, 5)]),
                         st.sampled_from([0, 0, 1, 2])))
    def datagrams(self, plan):
        """A datagram to the peer, echoed back (or not yet), and a read or recv of it."""
        which, chunks, echo, read, lens, flags = plan
        mine = [fd for fd in self.fds if self.mod.sockets()[fd].extra["sock"].type == 5]
        if not mine:
            return
        fd = mine[which % len(mine)]
        self._send("sock_send" if len(chunks) == 1 else "fd_write", fd, chunks, 0)
        if echo:
            self.datagram_peer_echoes()
        if read:
            self._read(fd, lens)
        else:
            self._recv(fd, lens, flags)

    @precondition(lambda self: self.started)
    @rule(family=st.sampled_from([1, 2]), mapped=st.booleans())
    def datagram_socket(self, family, mapped):
        """A datagram socket connected to the environment's peer."""
        n = len(self.fds)
        self.socket(family, 5, 0)
        if len(self.fds) > n:
            self._connect(self.fds[-1], family, "::ffff:127.0.0.1" if mapped and family == 2 else
                          "::1" if family == 2 else "127.0.0.1", "Q")

    def _connect(self, fd, family, text, port_name):
        from vwasm.model.wasi import Errno
        ip, port = ipaddress.ip_address(text), self.ports[port_name]
        addr = ip.packed
        h = self.handle(fd)
        outcome = Errno.SUCCESS
        if h is not None and (ip.is_loopback or ip.is_unspecified or getattr(ip, "ipv4_mapped", None)):
            outcome = self.mhost.connect_answer(h, family, addr, port)
            if outcome not in self.sb.CONNECT_OUTCOMES:
                outcome = Errno.SUCCESS  # refused before the network (the model says why)
        raw = encode_sockaddr(family, ip, port)
        self.put_all(BUF, raw)
        err, _, _ = self.step("sock_connect", lambda: self.sb.sock_connect(self.s, fd, family, int(ip), port, outcome),
                              (fd, BUF, len(raw)), f"({fd}, {text} port {port_name})")
        return err

    @precondition(lambda self: self.started)
    @rule(at=st.integers(0, 14), flags=st.sampled_from([0, 0, 4, 1]))
    def accept(self, at, flags):
        fd = (3, 4)[at % 2] if at >= 10 else self.fd_at(at)
        h = self.handle(fd)
        peer = self.mhost.pending_peer(h) if h is not None else None
        # A granted listener blocks: with nothing pending the guest would wait for ever (the model
        # says EAGAIN, as for wasmtime's non-blocking listeners), so the call is made only when it
        # fails before the network or a connection is pending.
        if peer is None and h is not None and self.accept_waits(fd, flags):
            _event("sock_accept: would block (not made)")
            self.runtime_waits("sock_accept", (fd, flags, OUT))
            return
        _, _, new = self.step("sock_accept", lambda: self.sb.sock_accept(self.s, fd, flags, peer), (fd, flags, OUT),
                              f"({fd}, {flags})", result=lambda w: w.u32(OUT), model_result=lambda r: r[0],
                              outs=((OUT, 4),))
        if new is not None:
            self.fds.append(new)

    @precondition(lambda self: self.started)
    @rule(at=FD_INDEX, lens=st.sampled_from([(1,), (3,), (16,), (2, 5), (0, 4)]),
          flags=st.sampled_from([0, 0, 0, 1, 2, 3, 4]))
    def recv(self, at, lens, flags):
        self._recv(self.fd_at(at), lens, flags)

    def _recv(self, fd, lens, flags):
        from vwasm.model.wasi import Errno
        from vwasm.model_host import WouldBlock
        h = self.handle(fd)
        incoming, truncated, outcome = b"", False, Errno.SUCCESS
        if h is not None and not flags & ~3:
            try:
                ans = self.mhost.recv_answer(h, sum(lens), bool(flags & 1), bool(flags & 2))
            except WouldBlock:
                if self.reaches_network(fd, lambda: self.sb.sock_recv(self.s, fd, lens, flags, b"")):
                    _event("sock_recv: would block (not made)")
                    return
                ans = (b"", False)
            if isinstance(ans, tuple):
                incoming, truncated = ans
            else:
                outcome = ans
        self.iovecs(lens)
        before = self.before_read(fd)
        _, _, got = self.step(
            "sock_recv", lambda: self.sb.sock_recv(self.s, fd, lens, flags, incoming, truncated, outcome),
            (fd, IOV, len(lens), flags, OUT, OUT + 4), f"({fd}, {lens}, flags {flags})",
            result=lambda w: (self.gathered(w, lens, w.u32(OUT)), w.get(OUT + 4, 2)),
            model_result=lambda r: (r[0], r[1].to_bytes(2, "little")), outs=self.buffers(lens) + ((OUT, 4), (OUT + 4, 2)))
        if got is not None:
            self.consumed(fd, before, got[0], bool(flags & 1), readv=False, cap=sum(lens))

    @precondition(lambda self: self.started)
    @rule(at=FD_INDEX, lens=st.sampled_from([(1,), (4,), (16,), (0,), (2, 3)]))
    def read(self, at, lens):
        self._read(self.fd_at(at), lens)

    def _read(self, fd, lens):
        from vwasm.model.wasi import Errno
        from vwasm.model_host import WouldBlock
        h = self.handle(fd)
        incoming, outcome = b"", Errno.SUCCESS
        if h is not None:
            try:
                ans = self.mhost.recv_answer(h, sum(lens), readv=True)
            except WouldBlock:
                if self.reaches_network(fd, lambda: self.sb.fd_read(self.s, fd, lens)):
                    _event("fd_read: would block (not made)")
                    return
                ans = (b"", False)
            if isinstance(ans, tuple):
                incoming = ans[0]
            else:
                outcome = ans
        self.iovecs(lens)
        before = self.before_read(fd)
        _, _, got = self.step(
            "fd_read", lambda: self.sb.fd_read(self.s, fd, lens, incoming, outcome), (fd, IOV, len(lens), OUT),
            f"({fd}, {lens})", result=lambda w: self.gathered(w, lens, w.u32(OUT)), model_result=lambda r: r[0],
            outs=self.buffers(lens) + ((OUT, 4),))
        if got is not None:
            self.consumed(fd, before, got, False, readv=True, cap=sum(lens))

    def _send(self, name, fd, chunks, flags):
        from vwasm.model.wasi import Errno
        h = self.handle(fd)
        n = sum(len(c) for c in chunks)
        outcome = self.mhost.send_answer(h, n, writev=name == "fd_write") if h is not None else Errno.SUCCESS
        if outcome not in self.sb.IO_OUTCOMES:
            outcome = Errno.SUCCESS  # refused before the network (the model says why)
        at, iov = BUF, b""
        for c in chunks:
            self.put_all(at, c)
            iov += struct.pack("<II", at, len(c))
            at += 64
        self.put_all(IOV, iov)
        if name == "sock_send":
            model, args = (lambda: self.sb.sock_send(self.s, fd, chunks, flags, outcome)), (fd, IOV, len(chunks), flags, OUT)
        else:
            model, args = (lambda: self.sb.fd_write(self.s, fd, chunks, outcome)), (fd, IOV, len(chunks), OUT)
        _, _, n = self.step(name, model, args, f"({fd}, {chunks!r})", result=lambda w: w.u32(OUT),
                            model_result=lambda r: r[0], outs=((OUT, 4),))
        if n is not None:
            self.sent(fd, b"".join(chunks)[:n], datagram_sent=name == "sock_send" or n > 0)

    # --- what the guest sent, as the other end must receive it -----------------------------------
    def sent(self, fd: int, data: bytes, datagram_sent: bool) -> None:
        """Bytes a send put on the wire: for the other end of a connection the guest holds both
        ends of, or (a datagram) for the peer to echo back."""
        sock = self.mod.sockets()[fd].extra["sock"]
        if sock.type == 5:
            if datagram_sent:  # a write of nothing sends no datagram; sock_send sends an empty one
                self.outbox.setdefault(fd, []).append(data)
            return
        for a, b in self.pairs:
            if fd in (a, b) and a in self.fds and b in self.fds:
                self.inbox.setdefault(b if fd == a else a, bytearray()).extend(data)

    def received(self, fd: int, data: bytes, taken: bool) -> None:
        """What a read returned is what was sent to fd, in order (`taken`: the read consumed it)."""
        box = self.inbox.get(fd)
        if box is None:
            return
        if isinstance(box, list):  # datagrams
            head = box[0] if box else None
            if data and (head is None or not head.startswith(data)):
                raise Counterexample(f"socket {fd} received {data!r}; the datagram sent was {head!r}")
            if taken and box:
                box.pop(0)
            return
        if not bytes(box).startswith(data):
            raise Counterexample(f"socket {fd} received {data!r}; what was sent to it starts {bytes(box[:16])!r}")
        if taken:
            del box[:len(data)]

    @precondition(lambda self: self.started)
    @rule(at=FD_INDEX, chunks=st.lists(st.binary(min_size=0, max_size=8), min_size=1, max_size=2).map(tuple),
          flags=st.sampled_from([0, 0, 0, 1]))
    def send(self, at, chunks, flags):
        self._send("sock_send", self.fd_at(at), chunks, flags)

    @precondition(lambda self: self.started)
    @rule(at=FD_INDEX, chunks=st.lists(st.binary(min_size=0, max_size=8), min_size=1, max_size=2).map(tuple))
    def write(self, at, chunks):
        self._send("fd_write", self.fd_at(at), chunks, 0)

    @precondition(lambda self: self.started)
    @rule(at=FD_INDEX, how=st.sampled_from([1, 2, 3, 1, 2, 3, 0, 4]))
    def shutdown(self, at, how):
        self._shutdown(self.fd_at(at), how)

    def _shutdown(self, fd, how):
        from vwasm.model.wasi import Errno, Rights
        h = self.handle(fd)
        outcome = Errno.SUCCESS
        if h is not None and how in (1, 2, 3):
            outcome = self.mhost.shutdown_answer(h)
        d = self.mod.sockets().get(fd)
        err, _, _ = self.step("sock_shutdown", lambda: self.sb.sock_shutdown(self.s, fd, how, outcome), (fd, how),
                              f"({fd}, {how})")
        # The witx's sdflags: RD, WR and both are what a guest may ask of a connected socket it
        # holds SOCK_SHUTDOWN on (stated here, apart from the rule model and runtime share).
        if (how in (1, 2, 3) and d is not None and d.extra["sock"].status == "connected"
                and d.rights_base & Rights.SOCK_SHUTDOWN and err == Errno.INVAL):
            raise Counterexample(f"sock_shutdown({fd}, {how}) of a connected socket refused as EINVAL")

    @precondition(lambda self: self.started)
    @rule(at=st.integers(0, 14))
    def close(self, at):
        fd = (3, 4)[at % 2] if at >= 13 else self.fd_at(at)
        if fd < 3 and at % 3:
            return
        self.close_fd(fd)

    def close_fd(self, fd):
        err, _, _ = self.step("fd_close", lambda: self.sb.fd_close(self.s, fd), (fd,), f"({fd})")
        if fd in self.fds and (not self.CHECK_MODEL or err == 0):
            self.fds.remove(fd)
            self.inbox.pop(fd, None)
            self.outbox.pop(fd, None)

    @precondition(lambda self: self.started)
    @rule(at=FD_INDEX, base=SOCK_RIGHTS_CHOICES, inh=SOCK_RIGHTS_CHOICES)
    def set_rights(self, at, base, inh):
        fd = self.fd_at(at)
        self.step("fd_fdstat_set_rights", lambda: self.sb.fd_fdstat_set_rights(self.s, fd, base, inh),
                  (fd, base, inh), f"({fd}, {base:#x}, {inh:#x})")

    @precondition(lambda self: self.started)
    @rule(at=FD_INDEX)
    def fdstat(self, at):
        fd = self.fd_at(at)
        self.step("fd_fdstat_get", lambda: self.sb.fd_fdstat_get(self.s, fd), (fd, STAT), f"({fd})",
                  result=lambda w: w.fdstat(STAT),
                  model_result=lambda r: (int(r[0].filetype), int(r[0].flags), int(r[0].rights_base),
                                          int(r[0].rights_inheriting)), outs=((STAT, 24),))

    @precondition(lambda self: self.started)
    @rule(at=FD_INDEX)
    def filestat(self, at):
        """A socket's filestat is all zeros but its type (no inode behind it): compared whole."""
        fd = self.fd_at(at)
        self.step("fd_filestat_get", lambda: self.sb.fd_filestat_get(self.s, fd), (fd, STAT), f"({fd})",
                  result=lambda w: w.filestat_fields(STAT),
                  model_result=lambda r: (r[0].dev, r[0].ino, int(r[0].filetype), r[0].nlink, r[0].size,
                                          r[0].atim, r[0].mtim, r[0].ctim), outs=((STAT, 64),))

    @precondition(lambda self: self.started)
    @rule(picks=st.lists(st.tuples(FD_INDEX, st.booleans()), min_size=1, max_size=3),
          clock=st.sampled_from([None, 0, 0, 10**12]))
    def poll(self, picks, clock):
        """poll_oneoff on sockets (read or write interest), with a clock that ends the wait at once
        when nothing may be ready."""
        from vwasm.model.sandbox import Subscription
        from vwasm.model.wasi import Eventtype
        subs, ready = [], []
        for i, (at, write) in enumerate(picks):
            fd = self.fd_at(at)
            h = self.handle(fd)
            tag = Eventtype.FD_WRITE if write else Eventtype.FD_READ
            subs.append(Subscription(i, tag, fd=fd))
            if h is None or self.mhost.readiness(h)[int(write)]:
                ready.append(i)
        if clock is not None or not ready:
            for timeout in ((clock, 0) if clock else (0,)):  # a far clock comes with a near one
                if timeout == 0:
                    ready.append(len(subs))
                subs.append(Subscription(len(subs), Eventtype.CLOCK, clock_id=1, timeout=timeout))
        raw = b""
        for sub in subs:
            if sub.tag == Eventtype.CLOCK:
                raw += struct.pack("<QB7xI4xQQH6x", sub.userdata, sub.tag, sub.clock_id, sub.timeout, 0, 0)
            else:
                raw += struct.pack("<QB7xI28x", sub.userdata, sub.tag, sub.fd)
        self.put_all(SUBS, raw)
        detail = f"({[(s.tag, s.fd if s.tag else s.timeout) for s in subs]})"
        self.step("poll_oneoff", lambda: self.sb.poll_oneoff(self.s, tuple(subs), tuple(ready)),
                  (SUBS, EVENTS, len(subs), OUT), detail,
                  result=lambda w: [struct.unpack_from("<QHB5xQH6x", w.get(EVENTS + 32 * i, 32))
                                    for i in range(w.u32(OUT))],
                  model_result=lambda r: [(e.userdata, int(e.error), int(e.type), e.nbytes, e.flags) for e in r[0]],
                  outs=((EVENTS, 32 * len(subs)), (OUT, 4)))

    @precondition(lambda self: self.started)
    @rule()
    def datagram_peer_echoes(self):
        """The environment: the datagram peer sends back everything it received."""
        want = len(self.peer_model.rx)
        n = self.mhost.echo_datagrams(self.peer_model)
        for fd, out in self.outbox.items():
            self.inbox.setdefault(fd, []).extend(out)
        self.outbox.clear()
        got = 0
        for _ in range(n):
            try:
                data, src = self.peer_real.recvfrom(4096)
            except OSError as e:
                raise Counterexample(f"the datagram peer got {got} of {want} datagrams on the real loopback ({e})")
            self.peer_real.sendto(data, src)
            got += 1
        self.peer_real.setblocking(False)
        try:
            extra = self.peer_real.recvfrom(4096)
        except BlockingIOError:
            extra = None
        finally:
            self.peer_real.settimeout(GUARD_S)
        if extra is not None:
            raise Counterexample(f"the datagram peer got more on the real loopback than ModelHost says: {extra}")
        _event(f"datagram peer echoes {min(n, 2)}{'+' if n > 2 else ''}")

    # --- the abstraction function ----------------------------------------------------------------
    @invariant()
    def same_sockets(self):
        if not self.started:
            return
        t1, t2 = self.mod.table(), self.posix.table()
        tm = model_table(self.s) if self.CHECK_MODEL else t1
        if not (tm == t1 == t2):
            raise Counterexample(f"descriptor tables differ: model {tm}, over ModelHost {t1}, over PosixHost {t2}")
        s1, s2 = self.mod.sockets(), self.posix.sockets()
        model_socks = dict(self.s.sockets)
        for fd, d in s1.items():
            v1, v2 = _sock_view(d.extra["sock"]), _sock_view(s2[fd].extra["sock"])
            if self.CHECK_MODEL:
                vm = _sock_view(model_socks[self.s.fds.get(fd).socket])
                if vm != v1:
                    raise Counterexample(f"socket {fd}: model {vm}, runtime over ModelHost {v1}")
            if _sock_view(d.extra["sock"], False) != _sock_view(s2[fd].extra["sock"], False):
                raise Counterexample(f"socket {fd}: over ModelHost {v1}, over PosixHost {v2}")
            # the runtime's idea of the socket is what it did to the host's socket
            sock, host = d.extra["sock"], self.mhost.status(d.handle)
            if (sock.status, sock.shut_rd, sock.shut_wr) != host:
                raise Counterexample(f"socket {fd}: the runtime holds it as {sock.status}, shut rd/wr "
                                     f"{sock.shut_rd}/{sock.shut_wr}; the host's socket is {host}")
        self.settle()
        # every socket the host gave the runtime and that is still open is one the table holds
        held = {id(d.handle) for d in s1.values()}
        leaked = [h for h in self.mhost.open_sockets() if id(h) not in held]
        if leaked:
            raise Counterexample(f"{len(leaked)} host socket(s) open that no descriptor holds")

    def settle(self) -> None:
        """Every socket of the PosixHost world is as ModelHost's network says -- TCP state
        (TCP_INFO), bytes queued (FIONREAD), poll readiness -- once the real loopback has delivered
        what is in flight (on a loaded machine the kernel may do that after the call returned)."""
        pairs = [(fd, d.handle, self.posix.sockets()[fd].handle) for fd, d in self.mod.sockets().items()]
        want = {fd: self.model_view(mh) for fd, mh, _ in pairs}
        for i in range(110):
            got = {fd: _kernel_view(ph) for fd, _, ph in pairs}
            if got == want:
                return
            time.sleep(0.0005 * i)  # up to ~3 s in all
        bad = {fd: (want[fd], got[fd]) for fd in want if want[fd] != got[fd]}
        raise Counterexample(f"sockets as (TCP state, bytes queued, readable, writable): ModelHost vs the kernel {bad}")

    def model_view(self, h) -> tuple:
        return (self.mhost.tcp_state(h), self.mhost.queued(h), *self.mhost.readiness(h))


N_EXAMPLES = 150
STEPS = 25


@obligation("refinement.sockets", family=STATEFUL, tool="hypothesis", guarantee="4, 5 (impl refines model: sockets)",
            bound=f"{N_EXAMPLES} derandomised sequences of ≤ {STEPS} socket calls, 3 netlist shapes, real loopback",
            budget=240)
def sockets() -> object:
    """The runtime's socket handlers refine the model's socket transitions: over ModelHost's
    abstract loopback network and over PosixHost on the real loopback, every socket, connect,
    accept, send/recv (and fd_read/fd_write on sockets), shutdown, close, rights change and
    poll_oneoff on sockets answers as the model does, the descriptor tables and each descriptor's
    abstract socket are equal, and every socket's poll readiness is the kernel's."""
    class Refinement(NetMachine):
        COUNT = {"steps": 0}
    return run_machine(Refinement, N_EXAMPLES, STEPS, min_kinds=45, budget_s=120)


@obligation("host.sockets", family=HOST, tool="hypothesis", guarantee="4, 5 (PosixHost = ModelHost: sockets)",
            bound=f"{N_EXAMPLES} derandomised sequences of ≤ {STEPS} socket calls on the real loopback", budget=240)
def host_sockets() -> object:
    """PosixHost's sockets behave as ModelHost's abstract loopback network: the same socket call
    sequences through the runtime answer alike over both (errnos, bytes, truncation, new
    descriptors, poll events) and every socket is equally ready for reading and writing."""
    class HostCheck(NetMachine):
        CHECK_MODEL = False
        COUNT = {"steps": 0}
    return run_machine(HostCheck, N_EXAMPLES, STEPS, min_kinds=40, budget_s=120)
