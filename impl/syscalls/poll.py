"""poll_oneoff: wait for clocks and stream readiness.

As wasmtime: zero subscriptions is EINVAL (it would sleep forever); clocks other than realtime and
monotonic are EINVAL for the whole call, and so is a bad descriptor EBADF; regular files are always
ready; the events written are those ready when the wait ends, in subscription order.
"""
from vwasm.model.wasi import (
    SUCCESS, EVENT, SUBSCRIPTION, SUBSCRIPTION_CLOCK, SUBSCRIPTION_FD, SUBSCRIPTION_UNION_OFFSET, Clockid,
    Errno, Eventrwflags, Eventtype, Subclockflags, WasiError, Whence,
)

from vwasm.model.rights import SUBSCRIBED, need, subscription_condition

from ..fdtable import FILE, SOCKET, STDERR, STDIN, STDOUT
from ..limits import check_deadline, wait_until

_READS = (STDIN, FILE, SOCKET)
_WRITES = (STDOUT, STDERR, FILE, SOCKET)


def _deadline(cx, clock: int, timeout: int, flags: int, now: int) -> int:
    """A clock subscription's deadline on the monotonic clock."""
    if clock not in (Clockid.REALTIME, Clockid.MONOTONIC):
        raise WasiError(Errno.INVAL)
    if not flags & Subclockflags.SUBSCRIPTION_CLOCK_ABSTIME:
        return now + timeout
    if clock == Clockid.MONOTONIC:
        return timeout
    return now + max(0, timeout - cx.host.clock_time(Clockid.REALTIME))


def poll_oneoff(cx, in_ptr: int, out_ptr: int, nsubscriptions: int, nevents_ptr: int) -> int:
    """preview1 poll_oneoff. modifies: the events array. rights: on each fd, POLL_FD_READWRITE and
    FD_READ or FD_WRITE (what it waits for)."""
    if nsubscriptions == 0:
        raise WasiError(Errno.INVAL)
    mem = cx.mem
    mem.check(in_ptr, nsubscriptions * SUBSCRIPTION.size, SUBSCRIPTION.align)
    mem.check(out_ptr, nsubscriptions * EVENT.size, EVENT.align)
    mem.check(nevents_ptr, 4, 4)
    now = cx.host.clock_time(Clockid.MONOTONIC)
    clocks, reads, writes = [], [], []  # (index, userdata, deadline | descriptor)
    for i in range(nsubscriptions):
        sub = in_ptr + i * SUBSCRIPTION.size
        userdata, tag = mem.load(SUBSCRIPTION, sub)
        body = sub + SUBSCRIPTION_UNION_OFFSET
        if tag == Eventtype.CLOCK:
            clock, timeout, _precision, flags = mem.load(SUBSCRIPTION_CLOCK, body)
            # subclockflags has one bit.
            if flags & ~Subclockflags.SUBSCRIPTION_CLOCK_ABSTIME:
                raise WasiError(Errno.INVAL)
            clocks.append((i, userdata, _deadline(cx, clock, timeout, flags, now)))
        elif tag in (Eventtype.FD_READ, Eventtype.FD_WRITE):
            (fd,) = mem.load(SUBSCRIPTION_FD, body)
            kinds = _READS if tag == Eventtype.FD_READ else _WRITES
            desc = cx.fds.get_kind(fd, kinds, need("poll_oneoff", SUBSCRIBED, subscription_condition(tag)))
            (reads if tag == Eventtype.FD_READ else writes).append((i, userdata, desc))
        else:
            raise WasiError(Errno.INVAL)

    # Files never block; streams are asked of the host; clocks bound the wait.
    def stream_handles(subs):
        return [d.handle for _, _, d in subs if d.kind != FILE]

    files_ready = any(d.kind == FILE for _, _, d in reads + writes)
    wait = None if not clocks else max(0, min(d for _, _, d in clocks) - now)
    if files_ready:
        wait = 0
    if cx.deadline is not None:  # Config.timeout: never wait past the guest's deadline
        wait = wait_until(cx, wait, now)
    rh, wh = stream_handles(reads), stream_handles(writes)
    if rh or wh:
        ready_r, ready_w = cx.host.ready(rh, wh, wait)
    else:
        cx.host.sleep(wait)
        ready_r, ready_w = [], []
    after = cx.host.clock_time(Clockid.MONOTONIC)
    if cx.deadline is not None:
        check_deadline(cx, after)

    events = []
    for i, userdata, deadline in clocks:
        if deadline <= after:
            events.append((i, userdata, Errno.SUCCESS, Eventtype.CLOCK, 0, 0))
    for subs, ready, kind in ((reads, ready_r, Eventtype.FD_READ), (writes, ready_w, Eventtype.FD_WRITE)):
        for i, userdata, desc in subs:
            if desc.kind == FILE:
                flags = _file_read_flags(cx, desc) if kind == Eventtype.FD_READ else 0
                events.append((i, userdata, Errno.SUCCESS, kind, 1, flags))
            elif desc.handle in ready:
                events.append((i, userdata, Errno.SUCCESS, kind, 1, 0))
    events.sort()
    for n, (_, userdata, error, kind, nbytes, flags) in enumerate(events):
        mem.store(EVENT, out_ptr + n * EVENT.size, userdata, error, kind, nbytes, flags)
    mem.put_u32(nevents_ptr, len(events))
    return SUCCESS


def _file_read_flags(cx, desc) -> int:
    """HANGUP when a file read would be at end-of-file, as wasmtime reports it."""
    try:
        at = cx.host.seek(desc.handle, 0, Whence.CUR)
    except WasiError:  # not seekable (a FIFO the host left in the tree): no end-of-file to report
        return 0
    return Eventrwflags.FD_READWRITE_HANGUP if cx.host.fstat(desc.handle).size <= at else 0
