"""The socket rules' errnos (model/net.py, shared by model and runtime) against Linux's answers.

The runtime asks `net.connect_rule`, `io_rule`, `accept_rule` and `shutdown_rule` before the host,
so a wrong errno there is wrong in model and runtime alike and no refinement check can see it. The
oracle here is the kernel: real TCP and UDP sockets on the loopback, put in each state the rules
know (created, listening, connected, connected and shut for writing), asked the same question with
Python's socket module. Where POSIX and Linux part ways the model keeps POSIX's answer, and the case
says so (`POSIX`, with the kernel's answer it differs from, which must still be what is recorded:
if Linux changes, the case is looked at again).
"""
from __future__ import annotations

import errno as host_errno
import socket as pysocket

from proofs.core import HOST, Counterexample, Outcome, obligation

# (question, state, socket type): the kernel's errno name that the rule must answer, or
# ("POSIX", rule's errno, kernel's errno) where the model follows POSIX instead.
CASES = {
    ("connect", "connected", "tcp"): "EISCONN",
    ("connect", "listening", "tcp"): ("POSIX", "EINVAL", "EISCONN"),  # a listener only accepts
    ("recv", "created", "tcp"): "ENOTCONN",
    ("recv", "listening", "tcp"): "ENOTCONN",
    ("send", "created", "tcp"): ("POSIX", "ENOTCONN", "EPIPE"),  # POSIX send: ENOTCONN
    ("send", "listening", "tcp"): ("POSIX", "ENOTCONN", "EPIPE"),
    ("send", "shut_wr", "tcp"): "EPIPE",
    ("accept", "created", "tcp"): "EINVAL",
    ("accept", "connected", "tcp"): "EINVAL",
    ("shutdown", "created", "tcp"): "ENOTCONN",
    ("shutdown", "listening", "tcp"): ("POSIX", "ENOTCONN", None),  # Linux accepts it
    ("shutdown_how_0", "connected", "tcp"): "EINVAL",
    ("shutdown_how_4", "connected", "tcp"): "EINVAL",
    ("recv", "created", "udp"): ("POSIX", "ENOTCONN", "EAGAIN"),  # WaVe: datagrams after connect only
    ("shutdown", "created", "udp"): "ENOTCONN",
}


def _kernel(question: str, state: str, kind: str) -> str | None:
    """The kernel's errno name for `question` on a real socket in `state` (None: it succeeds)."""
    stype = pysocket.SOCK_STREAM if kind == "tcp" else pysocket.SOCK_DGRAM
    held = []
    try:
        listener = pysocket.socket()
        held.append(listener)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        s = pysocket.socket(pysocket.AF_INET, stype)
        held.append(s)
        if state == "listening":
            s.bind(("127.0.0.1", 0))
            s.listen()
        elif state in ("connected", "shut_wr"):
            s.connect(("127.0.0.1", port))
            held.append(listener.accept()[0])
            if state == "shut_wr":
                s.shutdown(pysocket.SHUT_WR)
        s.setblocking(False)
        ask = {
            "connect": lambda: s.connect(("127.0.0.1", port)),
            "recv": lambda: s.recv(1),
            "send": lambda: s.send(b"x", pysocket.MSG_NOSIGNAL),
            "accept": lambda: s.accept(),
            "shutdown": lambda: s.shutdown(pysocket.SHUT_RDWR),
            "shutdown_how_0": lambda: s.shutdown(-1),
            "shutdown_how_4": lambda: s.shutdown(3),
        }[question]
        try:
            ask()
        except OSError as e:
            return host_errno.errorcode[e.errno]
        return None
    finally:
        for h in held:
            h.close()


def _rule(question: str, state: str, kind: str) -> str | None:
    """The shared rule's errno name for the same question (None: it allows it)."""
    from vwasm.model import net
    from vwasm.model.wasi import AddressFamily, Errno, SocketType, WasiError
    stype = SocketType.STREAM if kind == "tcp" else SocketType.DGRAM
    sock = net.Socket(AddressFamily.INET, stype, net.PROTO_OF_TYPE[stype])
    if state == "listening":
        sock = sock._replace(status="listening")
    elif state in ("connected", "shut_wr"):
        sock = sock._replace(status="connected", peer=(0x7F00_0001, 1), shut_wr=state == "shut_wr")
    ask = {
        "connect": lambda: net.connect_rule((), sock, AddressFamily.INET, 0x7F00_0001, 1),
        "recv": lambda: net.io_rule(sock, sending=False),
        "send": lambda: net.io_rule(sock, sending=True),
        "accept": lambda: net.accept_rule(sock, (0x7F00_0001, 1)),
        "shutdown": lambda: net.shutdown_rule(sock, 3),
        "shutdown_how_0": lambda: net.shutdown_rule(sock, 0),
        "shutdown_how_4": lambda: net.shutdown_rule(sock, 4),
    }[question]
    try:
        ask()
    except WasiError as e:
        return "E" + Errno(e.errno).name
    return None


@obligation("host.socket_states", family=HOST, tool="enumeration", guarantee="1 WASI semantics (sockets), 4",
            bound=f"{len(CASES)} (question, socket state, type) cases on real loopback sockets", budget=30)
def socket_states() -> Outcome:
    """The errnos of the socket rules model and runtime share (connect on a connected or listening
    socket, I/O before connecting or after shutting writing, accept on what does not listen,
    shutdown before connecting or with a bad `how`) are the kernel's, asked the same question on a
    real socket in the same state; where the model keeps POSIX's answer instead, the kernel's own
    answer is recorded next to it and checked too."""
    agree = posix = 0
    for (question, state, kind), want in CASES.items():
        rule, kernel = _rule(question, state, kind), _kernel(question, state, kind)
        expected, kernel_says = (want, want) if isinstance(want, str) else (want[1], want[2])
        what = f"{question} on a {state} {kind} socket"
        if kernel != kernel_says:
            raise Counterexample(f"{what}: the kernel answers {kernel}, the table says {kernel_says}")
        if rule != expected:
            raise Counterexample(f"{what}: the rules answer {rule}, "
                                 f"{'the kernel' if isinstance(want, str) else 'POSIX'} says {expected}")
        agree += isinstance(want, str)
        posix += not isinstance(want, str)
    return Outcome(f"{agree} cases answered as the kernel answers on real sockets, {posix} as POSIX says "
                   f"(the kernel's differing answer confirmed)", status="checked")
