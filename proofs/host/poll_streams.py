"""poll_oneoff of streams and sockets, for host.fastcalls: the C entry against the handler.

Each guest of a pair (C entries, handlers alone) gets streams of its own with real host fds -- stdin
and stdout FIFOs whose other ends the cases hold, stderr a regular file -- a preopened directory with
a file opened twice (at its start, and at its end: a read there reports end-of-file), and a listening
TCP socket. The streams are put in three states, the same for both guests and checked with poll(2)
before any case runs:
- "nothing ready": stdin empty, the stdout FIFO full, no connection waiting;
- "all ready": a byte waiting on stdin, room in stdout, a connection waiting;
- "peers gone": stdin's writer closed (a hang-up), stdout's reader closed (an error).
In each, every subscription of `ATOMS` alone, every ordered pair of them, POLL_MAX subscriptions and
one more. A poll that would wait forever (nothing ready, no clock, no error) gets a clock due in 1 ms
instead, so the handler ends it. Once with every right, once with the rights of stdin, stdout and the
socket narrowed to lack what a poll needs. C must answer exactly the polls that need not wait and
whose every subscription is a clock already due or a stream or socket holding the rights; and one
poll that must wait (stdin empty, a byte written 20 ms later) C must leave to the handler.
"""
from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import select
import socket
import tempfile
import threading
import time
from pathlib import Path

from vwasm.model.wasi import SOCKET_RIGHTS, Rights

POLL_MAX = 16  # the most subscriptions fastcalls.c answers
# Subscriptions: (tag, clock id or fd, subclockflags, timeout). Guest fds: 0 stdin, 1 stdout, 2 stderr,
# 3 the preopen, 4 the listening socket, 5 the file at its start, 6 at its end, 99 never open.
DUE, SOON = (0, 1, 0, 0), (0, 1, 0, 1_000_000)  # a monotonic clock due now, and in 1 ms
ATOMS = {
    "due clock": DUE,
    "due absolute realtime": (0, 0, 1, 0),
    "read stdin": (1, 0), "write stdout": (2, 1), "write stderr": (2, 2),
    "read socket": (1, 4), "write socket": (2, 4),  # a listening socket is never writable
    "read file": (1, 5), "read file at end": (1, 6),
    "write stdin": (2, 0), "read stdout": (1, 1), "read directory": (1, 3), "read fd 99": (1, 99),
    "tag 7": (7, 0),
}
# What the handler answers at once with an error, whatever the state (the first two: in the narrowed phase).
ERRORS = {"write stdin", "read stdout", "read directory", "read fd 99", "tag 7"}
NARROWED_ERRORS = {"read stdin", "write stdout", "read socket", "write socket"}
CLOCKS = {"due clock", "due absolute realtime"}
ALWAYS_READY = {"write stderr", "read file", "read file at end"}
STATES = ("nothing ready", "all ready", "peers gone")
READY_IN = {"nothing ready": set(), "all ready": {"read stdin", "write stdout", "read socket"},
            "peers gone": {"read stdin", "write stdout", "read socket"}}
PHASES = ("every right", "rights narrowed")
# The narrowed phase: (guest fd, base rights) -- each lacks a right its poll needs.
NARROWINGS = ((0, Rights.FD_READ), (1, Rights.POLL_FD_READWRITE), (4, SOCKET_RIGHTS & ~Rights.POLL_FD_READWRITE))
LISTS = [[name] for name in ATOMS] + [list(pair) for pair in itertools.product(ATOMS, repeat=2)] \
    + [["read stdin"] * POLL_MAX, ["write stderr"] * POLL_MAX, ["read stdin"] * (POLL_MAX + 1)]
N_CASES = len(PHASES) * (len(STATES) * len(LISTS) + 1)
IN, OUT = 64, 2048  # where the subscriptions and events lie
NEVENTS = 4096
WRITER_DELAY = 0.02


def servable(name: str, phase: str) -> bool:
    """A subscription C may answer: a clock due now, or a stream or socket holding the rights."""
    if name in CLOCKS:
        return True
    if name in ERRORS or phase != PHASES[0] and name in NARROWED_ERRORS:
        return False
    return name in ("read stdin", "write stdout", "write stderr", "read socket", "write socket")


def failing(name: str, phase: str) -> bool:
    return name in ERRORS or phase != PHASES[0] and name in NARROWED_ERRORS


def ready(name: str, state: str) -> bool:
    return name in CLOCKS or name in ALWAYS_READY or name in READY_IN[state]


class Streams:
    """One guest's streams, socket and preopen, and the cases' ends of them."""

    def __init__(self, engine, module, library, stack: contextlib.ExitStack) -> None:
        import vwasm
        from proofs.host.fastcalls import Guest, linked
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vwasm-poll-")))
        (root / "box").mkdir()
        os.mkfifo(root / "in")
        os.mkfifo(root / "out")
        # A writer, so the guest's open does not wait; kept above the standard numbers, so the guest's
        # stdin takes the lowest free host fd: 0 for the first guest (`host_fd_zero`).
        self.stdin_end = above_stdio(os.open(root / "in", os.O_RDWR | os.O_NONBLOCK))
        self.stdout_end = above_stdio(os.open(root / "out", os.O_RDONLY | os.O_NONBLOCK))  # a reader, likewise
        self.out_path = root / "out"
        config = vwasm.Config()
        config.stdin_file(root / "in")
        config.stdout_file(root / "out")
        config.stderr_file(root / "err")
        config.tcp_listen("127.0.0.1", 0)
        with linked(library):
            self.guest = Guest(engine, module, config, box=str(root / "box"))
        stack.callback(self.guest.wasi.close)
        stack.callback(self.close_ends)
        self.clients: list[socket.socket] = []
        listener = self.guest.wasi.cx.fds.get(4).handle
        with socket.socket(fileno=os.dup(listener)) as view:
            self.port = view.getsockname()[1]
        for step in (("open",), ("open",), ("seek", 6, 0, 2, 8)):  # 5 and 6: "f" at its start and its end
            self.guest.setup(*step)

    def close_ends(self) -> None:
        for end in (self.stdin_end, self.stdout_end):
            if end is not None:
                os.close(end)
        self.stdin_end = self.stdout_end = None
        for client in self.clients:
            client.close()

    def enter(self, state: str) -> None:
        """Put the streams in `state` (STATES, in order)."""
        if state == "nothing ready":
            writer = os.open(self.out_path, os.O_WRONLY | os.O_NONBLOCK)
            for chunk in (4096, 1):  # pages, then bytes into the last page's room: the FIFO full
                with contextlib.suppress(BlockingIOError):
                    while True:
                        os.write(writer, bytes(chunk))
            os.close(writer)
        elif state == "all ready":
            os.write(self.stdin_end, b"x")
            drain(self.stdout_end)
            client = socket.socket()
            client.connect(("127.0.0.1", self.port))  # waits in the listener's queue: never accepted
            self.clients.append(client)
        else:
            drain(self.stdin_end)
            os.close(self.stdin_end)
            os.close(self.stdout_end)
            self.stdin_end = self.stdout_end = None

    def environment_problem(self, state: str) -> str | None:
        """What poll(2) says of the guest's streams and socket that `state` does not, or None."""
        fds = self.guest.wasi.cx.fds
        poller = select.poll()
        watched = {"read stdin": (0, select.POLLIN), "write stdout": (1, select.POLLOUT),
                   "read socket": (4, select.POLLIN), "write socket": (4, select.POLLOUT)}
        for fd, event in watched.values():
            poller.register(fds.get(fd).handle, select.POLLIN | select.POLLOUT)
        fired = dict(poller.poll(0))
        for name, (fd, event) in watched.items():
            got = bool(fired.get(fds.get(fd).handle, 0) & (event | select.POLLHUP | select.POLLERR))
            if got != ready(name, state):
                return f"set-up: in state {state!r}, {name} is {'' if got else 'not '}ready"
        return None


def above_stdio(fd: int) -> int:
    """fd moved to a number above 2."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return moved


def host_fd_zero(streams: Streams) -> None:
    """Set-up: the first guest's stdin is host fd 0 (the cases' process closed its own), so an entry
    that takes fd 0 for no fd shows."""
    from proofs.core import Counterexample
    if streams.guest.wasi.cx.fds.get(0).handle != 0:
        raise Counterexample("set-up: the first guest's stdin is not host fd 0 (fd 0 was not free)")


def drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 1 << 16):
            pass


def subscriptions(names: list[str], phase: str, state: str) -> bytes:
    """The subscriptions named, userdata 1, 2, ...; with a clock due in 1 ms after them if the poll
    would otherwise wait forever."""
    from proofs.host.fastcalls import subscription
    atoms = [ATOMS[name] for name in names]
    if not any(failing(n, phase) or ready(n, state) for n in names):
        atoms.append(SOON)
    return b"".join(subscription(i + 1, *atom) for i, atom in enumerate(atoms))


def case(pair, library, where: str, data: bytes, by_c: bool) -> bool:
    """One poll both ways: the same ending and memory; answered by C exactly when `by_c`. Whether it
    succeeded."""
    from proofs.core import Counterexample
    from proofs.host.fastcalls import begin
    from vwasm.model.wasi import SUBSCRIPTION
    begin(where)
    served = library.served()
    n = len(data) // SUBSCRIPTION.size
    (kind, result, memory), (skind, sresult, smemory) = (s.guest.call("poll", IN, OUT, n, NEVENTS, data=((IN, data),))
                                                         for s in pair)
    if (kind, result) != (skind, sresult) or memory != smemory:
        raise Counterexample(f"{where}: with the C entries {kind} {result!r}, with the handlers {skind} {sresult!r}"
                             f"{'' if memory == smemory else ', and memory differs'}")
    ok = (kind, result) == ("errno", 0)
    if library.served() - served != (ok and by_c):
        raise Counterexample(f"{where}: the C entry answered {library.served() - served} time(s); it answers "
                             "exactly the polls that need not wait, of clocks due and streams holding the rights")
    return ok


def must_wait(pair, library, phase: str) -> bool:
    """A read of empty stdin, a byte written 20 ms into the wait: C leaves it to the handler, which
    reports it once the byte is there."""
    from proofs.host.fastcalls import subscription
    data = subscription(1, *ATOMS["read stdin"])
    writers = [threading.Timer(WRITER_DELAY, os.write, (s.stdin_end, b"y")) for s in pair]
    for w in writers:
        w.start()
    try:
        ok = case(pair, library, f"poll_oneoff that must wait ({phase})", data, False)
    finally:
        for w in writers:
            w.join()
        for s in pair:
            drain(s.stdin_end)
    return ok


def stream_cases(engine, module, library) -> tuple[int, int]:
    """Every list of subscriptions in every state and phase; (cases, successes answered by C)."""
    from proofs.core import Counterexample
    cases = successes = 0
    for phase in PHASES:
        with contextlib.ExitStack() as stack:
            with contextlib.suppress(OSError):
                os.close(0)
            pair = [Streams(engine, module, lib, stack) for lib in (library, None)]
            host_fd_zero(pair[0])
            if phase != PHASES[0]:
                for fd, base in NARROWINGS:
                    for s in pair:
                        s.guest.setup("rights", fd, base, 0)
            for state in STATES:
                for s in pair:
                    s.enter(state)
                    problem = s.environment_problem(state)
                    if problem:
                        raise Counterexample(problem)
                for names in LISTS:
                    data = subscriptions(names, phase, state)
                    by_c = (len(names) <= POLL_MAX and all(servable(n, phase) for n in names)
                            and any(ready(n, state) for n in names))
                    where = f"poll_oneoff of {', '.join(names)} ({phase}, {state})"
                    ok = case(pair, library, where, data, by_c)
                    cases, successes = cases + 1, successes + (ok and by_c)
                if state == "nothing ready":  # stdin still empty
                    must_wait(pair, library, phase)
                    cases += 1
    return cases, successes
