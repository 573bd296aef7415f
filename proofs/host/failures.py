"""Failures of the host contained, handler by handler (guarantees 5 and 6).

The OS may refuse anything: an `openat` that worked a moment ago, the `fstat` of a handle just opened,
a `close`. Every call of `guest_memory.SETUPS` (one valid setup per call, over PosixHost on a real
tree and over ModelHost on the same tree) is run once per host call it makes, with exactly that host
call failing (`EIO`; a failing `close` still releases the handle, as close(2) does on Linux). The
error paths this reaches are the ones no other obligation takes: a handle opened, then a later step
fails, and nobody closes it.
"""
from __future__ import annotations

import os
import time

from proofs.core import HOST, Counterexample, Outcome, TooLittleEvidence, obligation
from proofs.refinement.guest_memory import EXIT, SETUPS, TRAP, Guest
from vwasm.model.wasi import ALL_RIGHTS, DIR_RIGHTS, FILE_RIGHTS, FILESTAT, U32, Errno, Lookupflags, Oflags, WasiError

# Host calls that hand out a handle the caller then owns (accept: the first of its results).
OPENERS = frozenset({"openat", "open_file", "open_beneath", "dir_beneath", "socket", "accept"})
N_CASES = 500  # at least this many (call, failing host call, errno) cases over the two hosts
# EIO, and the two answers resolution reads as "maybe a symlink" (so the failure takes that path too).
FAILURES = (Errno.IO, Errno.LOOP, Errno.NOTDIR)


FOLLOW = Lookupflags.SYMLINK_FOLLOW


def _open(g, path: str, dirflags: int = 0, oflags: int = 0):
    rights = DIR_RIGHTS if oflags & Oflags.DIRECTORY else FILE_RIGHTS
    return (3, dirflags, *g.text(path), oflags, rights, ALL_RIGHTS, 0, g.out(U32))


# Beyond the setups' one-component paths: walks that open directories on the way (the handles most
# likely to be dropped on an error path), symlinks followed mid-path and last, creation.
WALKS = {
    "path_open dir/entry": ("path_open", lambda g: _open(g, "dir/entry")),
    "path_open ./dir/../dir/entry": ("path_open", lambda g: _open(g, "./dir/../dir/entry")),
    "path_open link (followed)": ("path_open", lambda g: _open(g, "link", FOLLOW)),
    "path_open dir/new (O_CREAT)": ("path_open", lambda g: _open(g, "dir/new", 0, Oflags.CREAT)),
    "path_open dir/ (O_DIRECTORY)": ("path_open", lambda g: _open(g, "dir/", 0, Oflags.DIRECTORY)),
    "path_filestat_get link (followed)": ("path_filestat_get", lambda g: (3, FOLLOW, *g.text("link"), g.out(FILESTAT))),
    "path_filestat_get dir/entry": ("path_filestat_get", lambda g: (3, 0, *g.text("dir/entry"), g.out(FILESTAT))),
    "path_readlink dir/../link": ("path_readlink", lambda g: (3, *g.text("dir/../link"), g.alloc(64), 64, g.out(U32))),
    "path_create_directory dir/sub": ("path_create_directory", lambda g: (3, *g.text("dir/sub"))),
    "path_remove_directory ./empty": ("path_remove_directory", lambda g: (3, *g.text("./empty"))),
    "path_unlink_file dir/entry": ("path_unlink_file", lambda g: (3, *g.text("dir/entry"))),
    "path_rename dir/entry -> empty/moved": ("path_rename", lambda g: (3, *g.text("dir/entry"), 3, *g.text("empty/moved"))),
    "path_link dir/entry -> empty/hard": ("path_link", lambda g: (3, 0, *g.text("dir/entry"), 3, *g.text("empty/hard"))),
    "path_symlink -> dir/sym": ("path_symlink", lambda g: (*g.text("entry"), 3, *g.text("dir/sym"))),
    "path_filestat_set_times dir/entry": ("path_filestat_set_times", lambda g: (3, 0, *g.text("dir/entry"), 10**9, 2 * 10**9, 5)),
}


class Failing:
    """A host whose `fail_at`-th call (from 0) raises WasiError(errno); records every handle handed out."""

    def __init__(self, host, fail_at: int | None, errno: Errno = Errno.IO) -> None:
        self._host, self.fail_at, self.errno = host, fail_at, errno
        self.calls: list[str] = []
        self.opened: list = []

    def __getattr__(self, name):
        attr = getattr(self._host, name)
        if not callable(attr):
            return attr

        def call(*args, **kw):
            n = len(self.calls)
            self.calls.append(name)
            if n == self.fail_at:
                if name == "close":  # close(2) releases the descriptor even when it reports an error
                    attr(*args, **kw)
                raise WasiError(self.errno)
            out = attr(*args, **kw)
            if name in OPENERS:
                self.opened.append(out[0] if name in ("accept", "open_file", "open_beneath") else out)
            return out
        return call


def _open_fds() -> set[int]:
    """The process's open descriptors (not the one the listing itself used: closed again by now)."""
    out = set()
    for n in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(n))
            out.add(int(n))
        except OSError:
            pass
    return out


def _held(g: Guest) -> list:
    return [d.handle for _, d in g.cx.fds.items()]


def _is_open(g: Guest, h) -> bool:
    if type(h) is int:
        return h in _open_fds()
    return not getattr(h, "closed", False)  # ModelHost's nodes and sockets


def _run(label: str, name: str, make, host: str, net: bool, fail_at: int | None,
         errno: Errno = Errno.IO) -> tuple[int, list[str]]:
    """One run of call `name` (arguments from `make(guest)`) with host call `fail_at` failing;
    returns its outcome and the host calls it made."""
    g = Guest(host, net=net)
    try:
        args = make(g)
        table_before = sorted(fd for fd, _ in g.cx.fds.items())
        fds_before = _open_fds()
        failing = Failing(g.real, fail_at, errno)
        g.cx.host = failing
        got = g.call(name, *args)
        where = f"{label} over {host} with host call {fail_at} ({failing.calls[fail_at] if fail_at is not None else '-'}) failing with {errno.name}"
        if got == TRAP:
            raise Counterexample(f"{where}: trapped (a host failure is an errno)")
        held = _held(g)
        for h in failing.opened:
            if _is_open(g, h) and not any(h is x or (type(h) is int and h == x) for x in held):
                raise Counterexample(f"{where}: leaked host handle {h!r} (open, held by no descriptor)")
        stray = sorted(_open_fds() - fds_before - {x for x in held if type(x) is int})
        if stray:
            raise Counterexample(f"{where}: host descriptors {stray} open and held by no descriptor")
        for fd, d in g.cx.fds.items():
            if not _is_open(g, d.handle):
                raise Counterexample(f"{where}: descriptor {fd} holds a closed host handle")
        if fail_at is not None and got != 0:
            added = sorted(fd for fd, _ in g.cx.fds.items() if fd not in table_before)
            if added and failing.calls[fail_at] != "close":
                raise Counterexample(f"{where}: answered {got} but left new descriptors {added}")
        return got, failing.calls
    finally:
        g.close()


@obligation("host.failure_contained", family=HOST, tool="enumeration", guarantee="5 no host crash",
            bound=f"every call (and {len(WALKS)} deeper walks) x each host call it makes failing (EIO, ELOOP, ENOTDIR), "
                  "over PosixHost and ModelHost",
            budget=60)
def failure_contained() -> Outcome:
    """Every call (and walks through several directories and symlinks), with each host call it
    makes failing in turn (EIO, and ELOOP and ENOTDIR, which resolution reads as a possible symlink;
    a failing close still releases the handle), answers an errno -- never a trap, never an escaping
    exception --, leaks no host handle (every handle opened during the call that is still open is
    held by a descriptor; no host descriptor appears that no descriptor holds), leaves no descriptor
    holding a closed handle, and, when it fails, adds no descriptor."""
    t0 = time.perf_counter()
    runs = [(name, name, lambda g, s=s: s.make(g, 0)[0], s.hosts, s.net, s.expect) for name, s in SETUPS.items()]
    runs += [(label, name, make, ("posix", "model"), False, 0) for label, (name, make) in WALKS.items()]
    cases = {"posix": 0, "model": 0}
    for label, name, make, hosts, net, expect in runs:
        for host in hosts:
            got, calls = _run(label, name, make, host, net, None)
            if got != expect:
                raise Counterexample(f"setup of {label} over {host} is not valid: {got}, expected {expect}")
            for k in range(len(calls)):
                for errno in FAILURES:
                    _run(label, name, make, host, net, k, errno)
                    cases[host] += 1
    total = sum(cases.values())
    if total < N_CASES:
        raise TooLittleEvidence(f"{total} cases")
    return Outcome(f"{len(SETUPS)} calls and {len(WALKS)} walks: {total} (call, failing host call) cases ({cases['posix']} over "
                   f"PosixHost, {cases['model']} over ModelHost) answer an errno with no handle leaked or "
                   f"left dangling ({time.perf_counter() - t0:.1f} s)", status="checked")
