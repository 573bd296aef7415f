"""The sandbox state machine: one pure transition per WASI preview1 call (plus WaVe's `socket`,
`sock_connect`), each `call(state, *args) -> (state', errno, results)` exactly as the runtime must
answer.

Guest memory is abstracted away: transitions take decoded arguments (paths as `str`, iovec
contents as `bytes`, buffer lengths) and return decoded results (bytes, records as dataclasses);
what the runtime's memory layer does is specified by the memory effects. Where the world is
nondeterministic (random bytes, data arriving on a socket, which poll subscriptions are ready,
whether a peer accepts a connection) the environment's choice is an explicit argument.

Every transition carries the same contracts (see `spec`): the state is well formed before and
after; an error leaves the state unchanged; the configuration (preopens, netlist, args, env)
never changes; the trace only grows, by effects of the kinds the call declares, each safe for the
descriptors the guest held; rights only shrink.

Order of checks, for every call: argument decoding (enum values, flag bits -> EINVAL, as wiggle
does before the call), the descriptor (EBADF), its kind, its rights (ENOTCAPABLE), the arguments,
then path resolution and the operation itself.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Optional

import icontract

from . import net
from .effects import (
    FdAccess, NetAccess, PathAccess, Policy, Shutdown, SockCreate, ctx_safe, trace_safe,
)
from .fdtable import Descriptor, FdTable, narrow, require_rights, within
from .fs import Dir, File, FileSystem, Symlink, node_size
from .paths import Resolution, check_name, escape, resolve, resolve_entry, split, strip_trailing_slashes
from .rights import (
    INHERITING, NEW_FD, OLD_FD, SUBSCRIBED, need, open_conditions, preopen_rights, seek_condition,
    subscription_condition,
)
from .wasi import (
    ALL_RIGHTS, DIR_RIGHTS, FD_LIMIT, FILE_RIGHTS, I64_MAX,
    SOCKET_RIGHTS, STDIN_RIGHTS, STDOUT_RIGHTS, Advice, Clockid, Errno, Eventrwflags, Eventtype, Fdflags,
    Filetype, Fstflags, Lookupflags, Oflags, Preopentype, Rights, Riflags, Roflags, Sdflags, Signal,
    SocketType, WasiError, Whence,
)

DEV = 1  # st_dev the model reports (wasmtime reports 1)
FDFLAGS_ALL = 0x1F
FSTFLAGS_ALL = 0xF
OFLAGS_ALL = 0xF
SYNC_FLAGS = Fdflags.DSYNC | Fdflags.RSYNC | Fdflags.SYNC
CONNECT_OUTCOMES = (Errno.SUCCESS, Errno.CONNREFUSED, Errno.TIMEDOUT, Errno.HOSTUNREACH, Errno.NETUNREACH)
# What the network may answer a send, recv or shutdown on a connected socket: the peer reset the
# connection (EPIPE once it had closed), it is over (ENOTCONN), or nothing is there yet (EAGAIN).
IO_OUTCOMES = (Errno.SUCCESS, Errno.CONNRESET, Errno.PIPE, Errno.NOTCONN, Errno.AGAIN)


# --- state -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preopen:
    name: str  # what the guest sees (fd_prestat_dir_name)
    node: int  # the directory, in the model filesystem
    readonly: bool = False


@dataclass(frozen=True)
class State:
    fs: FileSystem
    fds: FdTable
    preopens: tuple[Preopen, ...] = ()
    netlist: net.Netlist = ()
    sockets: tuple[tuple[int, net.Socket], ...] = ()  # (socket id, socket), sorted
    next_socket: int = 0
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    stdin: bytes = b""  # what is left to read on stdin
    stdout: bytes = b""  # everything written to stdout
    stderr: bytes = b""
    realtime: int = 0  # the clocks' current values (ns); the environment advances them (`tick`)
    monotonic: int = 0
    process_cputime: int = 0
    thread_cputime: int = 0
    resolution: int = 1  # clock resolution (ns), the same for all four clocks
    trace: tuple = ()  # effects so far
    exit_code: Optional[int] = None  # set by proc_exit; no call follows


@dataclass(frozen=True)
class Fdstat:
    filetype: int
    flags: int
    rights_base: int
    rights_inheriting: int


@dataclass(frozen=True)
class Filestat:
    dev: int
    ino: int
    filetype: int
    nlink: int
    size: int
    atim: int
    mtim: int
    ctim: int


@dataclass(frozen=True)
class Dirent:
    d_next: int
    d_ino: int
    d_namlen: int
    d_type: int
    name: bytes


@dataclass(frozen=True)
class Subscription:
    userdata: int
    tag: int  # Eventtype
    clock_id: int = 0
    timeout: int = 0
    precision: int = 0
    flags: int = 0
    fd: int = 0


@dataclass(frozen=True)
class Event:
    userdata: int
    error: int
    type: int
    nbytes: int
    flags: int


def initial_state(
    fs: FileSystem,
    preopens: tuple[Preopen, ...] = (),
    netlist: net.Netlist = (),
    args: tuple[str, ...] = (),
    env: tuple[tuple[str, str], ...] = (),
    stdin: bytes = b"",
    listeners: tuple[tuple[int, int], ...] = (),  # (family, socket type) of preopened listeners
    stdio_filetype: Filetype = Filetype.UNKNOWN,
    max_fds: int = FD_LIMIT,
) -> State:
    """Descriptors 0-2 are stdio, then the preopens in order (all directory rights unless read-only),
    then preopened listening sockets. `stdio_filetype`: CHARACTER_DEVICE when the streams are a
    tty, else UNKNOWN (the runtime asks its host). `max_fds`: the most descriptors held at once."""
    entries = []
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        # A stream's rights: reading for stdin, writing for the others; base = inheriting.
        rights = STDIN_RIGHTS if name == "stdin" else STDOUT_RIGHTS
        entries.append((fd, Descriptor(stdio_filetype, rights, rights, rights, stream=name)))
    for p in preopens:
        base, inh = preopen_rights(p.readonly)
        entries.append((len(entries), Descriptor(
            Filetype.DIRECTORY, base, inh, base | inh, node=p.node, preopen=p.name)))
    sockets = []
    for i, (family, type_) in enumerate(listeners):
        s = net.Socket(family, type_, net.PROTO_OF_TYPE[type_], "listening")
        sockets.append((i, s))
        ft = Filetype.SOCKET_STREAM if type_ == SocketType.STREAM else Filetype.SOCKET_DGRAM
        entries.append((len(entries), Descriptor(ft, SOCKET_RIGHTS, SOCKET_RIGHTS, SOCKET_RIGHTS, socket=i)))
    return State(
        fs, FdTable(tuple(entries), max_fds), tuple(preopens), tuple(netlist), tuple(sockets), len(sockets),
        tuple(args), tuple(env), stdin,
    )


def policy(s: State, held: bool = False) -> Policy:
    """The policy effects are judged by: the netlist; with `held`, also the descriptors held in `s`."""
    if not held:
        return Policy(s.netlist)
    return Policy(
        s.netlist,
        fds=frozenset(s.fds.fds()),
        dir_fds=frozenset(fd for fd, d in s.fds.entries if d.is_dir),
    )


def wf(s: State) -> bool:
    """Well formed: a sound context (ctx_safe), unique preopen names, a safe trace, sockets all used
    by descriptors, the right to accept only on listeners, an exit code only in range."""
    names = [p.name for p in s.preopens]
    socket_ids = [i for i, _ in s.sockets]
    used = {d.socket for _, d in s.fds.entries if d.socket is not None}
    sockets = dict(s.sockets)
    accepting = {d.socket for _, d in s.fds.entries if d.socket is not None and d.rights_base & Rights.SOCK_ACCEPT}
    return (
        ctx_safe(s)
        and len(names) == len(set(names))
        and socket_ids == sorted(set(socket_ids))
        and used <= set(socket_ids)
        # Only a listener may hold SOCK_ACCEPT: `socket` withholds it, accepted connections lose it,
        # rights never grow.
        and all(sockets[i].status == "listening" for i in accepting & sockets.keys())
        and all(i < s.next_socket for i in socket_ids)
        and trace_safe(s.trace, policy(s))
        and (s.exit_code is None or 0 <= s.exit_code <= 0xFFFF_FFFF)
    )


# --- the contracts every transition carries ---------------------------------------------------------
def _referent(d: Descriptor):
    return (d.node, d.socket, d.stream)


def rights_only_shrink(pre: State, post: State) -> bool:
    """Each descriptor after the call is an old one with no more rights, or a new one within the
    inheriting rights of a descriptor held before."""
    old = [d for _, d in pre.fds.entries]
    old_sockets = {i for i, _ in pre.sockets}
    fresh_socket = SOCKET_RIGHTS & ~Rights.SOCK_ACCEPT  # what `socket` grants (the netlist allowed it)
    for fd, d in post.fds.entries:
        if d.socket is not None and d.socket not in old_sockets and within(
                d.rights_base | d.rights_inheriting, fresh_socket):
            continue
        if not any(
            (_referent(p) == _referent(d)
             and within(d.rights_base, p.rights_base) and within(d.rights_inheriting, p.rights_inheriting))
            or (within(d.rights_base, p.rights_inheriting) and within(d.rights_inheriting, p.rights_inheriting))
            for p in old
        ):
            return False
    return True


def new_effects(pre: State, post: State) -> tuple:
    return post.trace[len(pre.trace):]


def spec(*kinds):
    """Make a rule body -- `body(state, *args) -> (state', results)`, raising WasiError to refuse --
    into a transition `call(state, *args) -> (state', errno, results)` with the common contracts.
    `kinds` are the effect types the call may produce."""
    allowed = tuple(kinds)

    def deco(body):
        @functools.wraps(body)
        def call(s: State, *args):
            try:
                new, results = body(s, *args)
            except WasiError as e:
                return s, e.errno, ()
            return new, Errno.SUCCESS, results

        def error_changes_nothing(s, result) -> bool:
            return result[1] == Errno.SUCCESS or result[0] == s

        def config_unchanged(s, result) -> bool:
            post = result[0]
            return (post.preopens, post.netlist, post.args, post.env) == (
                s.preopens, s.netlist, s.args, s.env)

        def trace_grows_safely(s, result) -> bool:
            post = result[0]
            added = new_effects(s, post)
            return (
                post.trace[:len(s.trace)] == s.trace
                and all(isinstance(e, allowed) for e in added)
                and trace_safe(added, policy(s, held=True))
            )

        def rights_shrink(s, result) -> bool:
            return rights_only_shrink(s, result[0])

        def wf_after(s, result) -> bool:
            return wf(result[0])

        call = icontract.ensure(rights_shrink, "rights only shrink")(call)
        call = icontract.ensure(trace_grows_safely, "trace grows by allowed, safe effects")(call)
        call = icontract.ensure(config_unchanged, "preopens, netlist, args, env unchanged")(call)
        call = icontract.ensure(error_changes_nothing, "an error leaves the state unchanged")(call)
        call = icontract.ensure(wf_after, "wf preserved")(call)
        def running(s) -> bool:
            return s.exit_code is None

        def wf_before(s) -> bool:
            return wf(s)

        call = icontract.require(running, "the guest has not exited")(call)
        call = icontract.require(wf_before, "wf")(call)
        call.effects = allowed
        return call

    return deco


# --- helpers -------------------------------------------------------------------------------------
def _emit(s: State, *effects) -> State:
    return replace(s, trace=s.trace + tuple(effects))


def _with_fs(s: State, fs: FileSystem) -> State:
    """A new filesystem, keeping only nodes still linked or still open."""
    keep = frozenset(d.node for _, d in s.fds.entries if d.node is not None)
    return replace(s, fs=fs.gc(keep))


def _check_flags(value: int, all_bits: int) -> None:
    # Bits outside the flag type do not decode (wiggle: EINVAL).
    if int(value) & ~int(all_bits) or value < 0:
        raise WasiError(Errno.INVAL)


def _dir(s: State, fd: int) -> Descriptor:
    """A directory descriptor (path calls; wasmtime: EBADF for anything else)."""
    d = s.fds.get(fd)
    if not d.is_dir:
        raise WasiError(Errno.BADF)
    return d


def _file(s: State, fd: int) -> Descriptor:
    """A regular-file descriptor (wasmtime: EBADF for anything else)."""
    d = s.fds.get(fd)
    if not d.is_file:
        raise WasiError(Errno.BADF)
    return d


def _socket(s: State, fd: int) -> tuple[Descriptor, net.Socket]:
    d = s.fds.get(fd)
    # Socket calls need a socket.
    if not d.is_socket:
        raise WasiError(Errno.NOTSOCK)
    return d, dict(s.sockets)[d.socket]


def _set_socket(s: State, sid: int, sock: net.Socket) -> State:
    socks = dict(s.sockets)
    socks[sid] = sock
    return replace(s, sockets=tuple(sorted(socks.items())))


def _stat(s: State, ino: int) -> Filestat:
    n = s.fs.node(ino)
    return Filestat(DEV, ino, n.filetype, s.fs.nlink(ino), node_size(n), n.atim, n.mtim, n.ctim)


def _times(s: State, atim: int, mtim: int, fst: int) -> tuple[Optional[int], Optional[int]]:
    """fst_flags -> the new (atim, mtim), None for unchanged; a time and NOW together is EINVAL."""
    _check_flags(fst, FSTFLAGS_ALL)
    # A time cannot be both given and "now".
    if fst & Fstflags.ATIM and fst & Fstflags.ATIM_NOW:
        raise WasiError(Errno.INVAL)
    if fst & Fstflags.MTIM and fst & Fstflags.MTIM_NOW:
        raise WasiError(Errno.INVAL)
    a = atim if fst & Fstflags.ATIM else s.realtime if fst & Fstflags.ATIM_NOW else None
    m = mtim if fst & Fstflags.MTIM else s.realtime if fst & Fstflags.MTIM_NOW else None
    return a, m


def _path(fd: int, r: Resolution, follow: bool) -> PathAccess:
    return PathAccess(fd, r.relpath, follow)


def _trailing_slash(path: str) -> bool:
    return split(path)[1]


# --- args, environment, clocks, random, scheduling, process ------------------------------------------
@spec()
def args_sizes_get(s: State):
    """(argc, bytes for all arguments with their NULs)."""
    return s, (len(s.args), sum(len(a.encode()) + 1 for a in s.args))


@spec()
def args_get(s: State):
    """The arguments, each NUL-terminated."""
    return s, (tuple(a.encode() + b"\0" for a in s.args),)


@spec()
def environ_sizes_get(s: State):
    return s, (len(s.env), sum(len(k.encode()) + len(v.encode()) + 2 for k, v in s.env))


@spec()
def environ_get(s: State):
    """The environment, as `key=value` NUL-terminated strings."""
    return s, (tuple(k.encode() + b"=" + v.encode() + b"\0" for k, v in s.env),)


def _clock(clock_id: int) -> None:
    # Only the four preview1 clocks decode; all four are offered, CPU-time clocks included
    # (wasmtime answers EBADF for those: a gap the runtime closes).
    if clock_id not in (Clockid.REALTIME, Clockid.MONOTONIC, Clockid.PROCESS_CPUTIME_ID,
                        Clockid.THREAD_CPUTIME_ID):
        raise WasiError(Errno.INVAL)


@spec()
def clock_res_get(s: State, clock_id: int):
    _clock(clock_id)
    return s, (s.resolution,)


@spec()
def clock_time_get(s: State, clock_id: int, precision: int):
    """The clock's current value; `precision` is a hint the runtime ignores."""
    _clock(clock_id)
    value = (s.realtime, s.monotonic, s.process_cputime, s.thread_cputime)[clock_id]
    return s, (value,)


def tick(s: State, realtime: int, monotonic: int, process_cputime: Optional[int] = None,
         thread_cputime: Optional[int] = None) -> State:
    """The environment: time passes (monotonic and CPU-time clocks never go back; the CPU-time
    clocks stay put unless given)."""
    process_cputime = s.process_cputime if process_cputime is None else process_cputime
    thread_cputime = s.thread_cputime if thread_cputime is None else thread_cputime
    assert monotonic >= s.monotonic
    assert process_cputime >= s.process_cputime and thread_cputime >= s.thread_cputime
    return replace(s, realtime=realtime, monotonic=monotonic, process_cputime=process_cputime,
                   thread_cputime=thread_cputime)


@spec()
def random_get(s: State, buf_len: int, entropy: bytes):
    """`entropy` is the environment's choice of `buf_len` random bytes."""
    assert len(entropy) == buf_len
    return s, (entropy,)


@spec()
def sched_yield(s: State):
    return s, ()


@spec()
def proc_exit(s: State, code: int):
    """The run ends with exit status `code`, whatever it is (DESIGN §5: no trap at 126 or above,
    unlike wasmtime); no further call happens."""
    return replace(s, exit_code=code), ()


@spec()
def proc_raise(s: State, sig: int):
    # Only preview1 signal numbers decode.
    if sig not in tuple(Signal):
        raise WasiError(Errno.INVAL)
    # Raising signals is not supported (wasmtime: ENOTSUP).
    raise WasiError(Errno.NOTSUP)


# --- descriptors ---------------------------------------------------------------------------------
@spec(FdAccess)
def fd_advise(s: State, fd: int, offset: int, length: int, advice: int):
    # Only the six advice values decode.
    if advice not in tuple(Advice):
        raise WasiError(Errno.INVAL)
    d = _file(s, fd)
    require_rights(d, need("fd_advise"))
    return _emit(s, FdAccess(fd)), ()


@spec(FdAccess)
def fd_allocate(s: State, fd: int, offset: int, length: int):
    """posix_fallocate: the file covers at least [offset, offset + length); it only ever grows."""
    d = _file(s, fd)
    require_rights(d, need("fd_allocate"))
    # The end of the range must be a 63-bit file size.
    if offset + length > I64_MAX:
        raise WasiError(Errno.FBIG)
    # An empty range is refused (posix_fallocate / fallocate(2): len <= 0 is EINVAL).
    if length == 0:
        raise WasiError(Errno.INVAL)
    # Only a file opened for writing can be extended (posix_fallocate: EBADF).
    if not d.writable:
        raise WasiError(Errno.BADF)
    # A file already long enough is left as it is; a shorter one grows, zero-filled.
    if offset + length <= s.fs.node(d.node).size:
        return _emit(s, FdAccess(fd)), ()
    return _emit(_with_fs(s, s.fs.truncate(d.node, offset + length, s.realtime)), FdAccess(fd)), ()


@spec(FdAccess)
def fd_close(s: State, fd: int):
    d = s.fds.get(fd)
    s = replace(s, fds=s.fds.close(fd))
    if d.socket is not None and not any(e.socket == d.socket for _, e in s.fds.entries):
        s = replace(s, sockets=tuple(p for p in s.sockets if p[0] != d.socket))
    return _emit(_with_fs(s, s.fs), FdAccess(fd)), ()


@spec(FdAccess)
def fd_datasync(s: State, fd: int):
    require_rights(_file(s, fd), need("fd_datasync"))
    return _emit(s, FdAccess(fd)), ()


@spec(FdAccess)
def fd_sync(s: State, fd: int):
    require_rights(_file(s, fd), need("fd_sync"))
    return _emit(s, FdAccess(fd)), ()


@spec(FdAccess)
def fd_fdstat_get(s: State, fd: int):
    d = s.fds.get(fd)
    return _emit(s, FdAccess(fd)), (Fdstat(d.filetype, d.flags, d.rights_base, d.rights_inheriting),)


@spec(FdAccess)
def fd_fdstat_set_flags(s: State, fd: int, flags: int):
    """Set APPEND and NONBLOCK of a file. The runtime's order: descriptor, kind, right, then the
    flags (unknown bits are checked here, after the descriptor, not when decoding)."""
    d = s.fds.get(fd)
    # Only files have changeable flags (streams, directories and sockets: EBADF).
    if not d.is_file:
        raise WasiError(Errno.BADF)
    require_rights(d, need("fd_fdstat_set_flags"))
    # Bits outside fdflags are invalid.
    _check_flags(flags, FDFLAGS_ALL)
    # Only APPEND and NONBLOCK can change after opening (DSYNC, RSYNC, SYNC: EINVAL).
    if flags & SYNC_FLAGS:
        raise WasiError(Errno.INVAL)
    new = replace(d, flags=(d.flags & SYNC_FLAGS) | flags)
    return _emit(replace(s, fds=s.fds.put(fd, new)), FdAccess(fd)), ()


@spec(FdAccess)
def fd_fdstat_set_rights(s: State, fd: int, base: int, inheriting: int):
    _check_flags(base, ALL_RIGHTS)
    _check_flags(inheriting, ALL_RIGHTS)
    return _emit(replace(s, fds=s.fds.set_rights(fd, base, inheriting)), FdAccess(fd)), ()


@spec(FdAccess)
def fd_filestat_get(s: State, fd: int):
    d = s.fds.get(fd)
    # A standard stream has no file behind it: zeros but its type, and no right is needed.
    if d.is_stream:
        return _emit(s, FdAccess(fd)), (Filestat(0, 0, d.filetype, 0, 0, 0, 0, 0),)
    require_rights(d, need("fd_filestat_get"))
    if d.node is None:
        # Sockets have no inode either (wasmtime: zeros but the type).
        st = Filestat(0, 0, d.filetype, 0, 0, 0, 0, 0)
    else:
        st = _stat(s, d.node)
    return _emit(s, FdAccess(fd)), (st,)


@spec(FdAccess)
def fd_filestat_set_size(s: State, fd: int, size: int):
    d = _file(s, fd)
    require_rights(d, need("fd_filestat_set_size"))
    # Sizes are non-negative 63-bit (ftruncate takes an off_t).
    if size > I64_MAX:
        raise WasiError(Errno.INVAL)
    # ftruncate needs a descriptor opened for writing (the OS: EINVAL).
    if not d.writable:
        raise WasiError(Errno.INVAL)
    return _emit(_with_fs(s, s.fs.truncate(d.node, size, s.realtime)), FdAccess(fd)), ()


@spec(FdAccess)
def fd_filestat_set_times(s: State, fd: int, atim: int, mtim: int, fst_flags: int):
    a, m = _times(s, atim, mtim, fst_flags)
    d = s.fds.get(fd)
    # Only files and directories have times to set.
    if d.node is None:
        raise WasiError(Errno.BADF)
    require_rights(d, need("fd_filestat_set_times"))
    return _emit(_with_fs(s, s.fs.set_times(d.node, a, m, s.realtime)), FdAccess(fd)), ()


@spec(FdAccess)
def fd_pread(s: State, fd: int, iov_lens: tuple, offset: int):
    d = s.fds.get(fd)
    # stdin cannot be read at an offset.
    if d.stream == "stdin":
        raise WasiError(Errno.SPIPE)
    if not d.is_file:
        raise WasiError(Errno.BADF)
    require_rights(d, need("fd_pread"))
    # Offsets are non-negative 63-bit (an off_t).
    if offset > I64_MAX:
        raise WasiError(Errno.INVAL)
    # preadv: the buffers are filled in order, up to their total.
    data = s.fs.read(d.node, offset, sum(iov_lens))
    return _emit(s, FdAccess(fd)), (data,)


@spec(FdAccess)
def fd_pwrite(s: State, fd: int, iovs: tuple, offset: int):
    d = s.fds.get(fd)
    # Output streams cannot be written at an offset.
    if d.stream in ("stdout", "stderr"):
        raise WasiError(Errno.SPIPE)
    if not d.is_file:
        raise WasiError(Errno.BADF)
    require_rights(d, need("fd_pwrite"))
    # Offsets are non-negative 63-bit (an off_t).
    if offset > I64_MAX:
        raise WasiError(Errno.INVAL)
    # pwritev: all the buffers, in order.
    data = b"".join(iovs)
    # In append mode the offset is ignored (Linux pwrite, as wasmtime does).
    at = s.fs.node(d.node).size if d.flags & Fdflags.APPEND else offset
    return _emit(_with_fs(s, s.fs.write(d.node, at, data, s.realtime)), FdAccess(fd)), (len(data),)


@spec(FdAccess)
def fd_prestat_get(s: State, fd: int):
    d = s.fds.get(fd)
    # Only preopened directories have a prestat.
    if d.preopen is None:
        raise WasiError(Errno.BADF)
    return _emit(s, FdAccess(fd)), (Preopentype.DIR, len(d.preopen.encode()))


@spec(FdAccess)
def fd_prestat_dir_name(s: State, fd: int, path_len: int):
    d = s.fds.get(fd)
    # Only preopened directories have a name (wasmtime: ENOTDIR).
    if d.preopen is None:
        raise WasiError(Errno.NOTDIR)
    name = d.preopen.encode()
    # The guest's buffer must hold the name (no NUL is written).
    if len(name) > path_len:
        raise WasiError(Errno.NAMETOOLONG)
    return _emit(s, FdAccess(fd)), (name,)


@spec(FdAccess)
def fd_read(s: State, fd: int, iov_lens: tuple, incoming: bytes = b"", outcome: Errno = Errno.SUCCESS):
    """readv: fill the buffers in order, up to their total. `incoming`, `outcome`: what the network
    delivers or answers (sockets)."""
    d = s.fds.get(fd)
    if d.is_socket:
        data, _ = _recv(s, "fd_read", fd, sum(iov_lens), incoming, outcome)
        return _emit(s, FdAccess(fd)), (data,)
    # Only files and stdin can be read.
    if not (d.is_file or d.stream == "stdin"):
        raise WasiError(Errno.BADF)
    require_rights(d, need("fd_read"))
    n = sum(iov_lens)
    if d.stream == "stdin":
        data = s.stdin[:n]
        return _emit(replace(s, stdin=s.stdin[len(data):]), FdAccess(fd)), (data,)
    data = s.fs.read(d.node, d.offset, n)
    s = replace(s, fds=s.fds.put(fd, replace(d, offset=d.offset + len(data))))
    return _emit(s, FdAccess(fd)), (data,)


@spec(FdAccess, NetAccess)
def fd_write(s: State, fd: int, iovs: tuple, outcome: Errno = Errno.SUCCESS):
    """writev: all the buffers, in order. `outcome`: the network's answer (sockets)."""
    d = s.fds.get(fd)
    if d.is_socket:
        return _send(s, "fd_write", fd, iovs, outcome)
    # Only files and output streams can be written.
    if not (d.is_file or d.stream in ("stdout", "stderr")):
        raise WasiError(Errno.BADF)
    require_rights(d, need("fd_write"))
    data = b"".join(iovs)
    if d.stream == "stdout":
        return _emit(replace(s, stdout=s.stdout + data), FdAccess(fd)), (len(data),)
    if d.stream == "stderr":
        return _emit(replace(s, stderr=s.stderr + data), FdAccess(fd)), (len(data),)
    # Append mode writes at the end; the position follows the write. Writing nothing moves nothing
    # (Linux returns before O_APPEND sets the position).
    at = s.fs.node(d.node).size if d.flags & Fdflags.APPEND else d.offset
    s = _with_fs(s, s.fs.write(d.node, at, data, s.realtime))
    if data:
        s = replace(s, fds=s.fds.put(fd, replace(d, offset=at + len(data))))
    return _emit(s, FdAccess(fd)), (len(data),)


@spec(FdAccess)
def fd_readdir(s: State, fd: int, cookie: int):
    """Entries from position `cookie`: `.`, `..`, then the names in order (`d_next` is the next
    cookie; `..` reports the directory's own inode, as wasmtime does)."""
    d = _dir(s, fd)
    require_rights(d, need("fd_readdir"))
    rows = [(".", d.node), ("..", d.node)] + list(s.fs.listing(d.node))
    out = tuple(
        Dirent(i + 1, ino, len(name.encode()), s.fs.node(ino).filetype, name.encode())
        for i, (name, ino) in enumerate(rows)
    )[cookie:]
    return _emit(s, FdAccess(fd)), (out,)


def encode_dirents(entries: tuple[Dirent, ...], buf_len: int) -> bytes:
    """The bytes fd_readdir puts in a buffer of `buf_len`: each header then name, cut off at the
    end of the buffer (the guest sees a full buffer and asks again)."""
    out = b""
    for e in entries:
        out += (e.d_next.to_bytes(8, "little") + e.d_ino.to_bytes(8, "little")
                + e.d_namlen.to_bytes(4, "little") + bytes([e.d_type]) + b"\0" * 3 + e.name)
        if len(out) >= buf_len:
            return out[:buf_len]
    return out


@spec(FdAccess)
def fd_renumber(s: State, frm: int, to: int):
    """Move descriptor `frm` to number `to`, closing the descriptor `to` named. Both must be open
    (as wasmtime); `renumber(x, x)` of an open x changes nothing."""
    fds = s.fds.renumber(frm, to)
    # The displaced descriptor is closed (a socket goes when no descriptor uses it any more).
    dropped = s.fds.lookup(to) if frm != to else None
    s = replace(s, fds=fds)
    if dropped is not None and dropped.socket is not None and not any(
            e.socket == dropped.socket for _, e in fds.entries):
        s = replace(s, sockets=tuple(p for p in s.sockets if p[0] != dropped.socket))
    return _emit(_with_fs(s, s.fs), FdAccess(frm)), ()


@spec(FdAccess)
def fd_seek(s: State, fd: int, offset: int, whence: int):
    # Only SET, CUR and END decode.
    if whence not in tuple(Whence):
        raise WasiError(Errno.INVAL)
    d = s.fds.get(fd)
    # Streams and sockets have no position.
    if d.is_stream or d.is_socket:
        raise WasiError(Errno.SPIPE)
    if not d.is_file:
        raise WasiError(Errno.BADF)
    # Asking where we are needs FD_TELL; moving needs FD_SEEK.
    require_rights(d, need("fd_seek", "fd", seek_condition(offset, whence)))
    base = {Whence.SET: 0, Whence.CUR: d.offset, Whence.END: s.fs.node(d.node).size}[Whence(whence)]
    pos = base + offset
    # The new position is a non-negative 63-bit offset.
    if not 0 <= pos <= I64_MAX:
        raise WasiError(Errno.INVAL)
    return _emit(replace(s, fds=s.fds.put(fd, replace(d, offset=pos))), FdAccess(fd)), (pos,)


@spec(FdAccess)
def fd_tell(s: State, fd: int):
    d = s.fds.get(fd)
    if d.is_stream or d.is_socket:
        raise WasiError(Errno.SPIPE)
    if not d.is_file:
        raise WasiError(Errno.BADF)
    require_rights(d, need("fd_tell"))
    return _emit(s, FdAccess(fd)), (d.offset,)


# --- paths ---------------------------------------------------------------------------------------
@spec(PathAccess)
def path_create_directory(s: State, fd: int, path: str):
    d = _dir(s, fd)
    require_rights(d, need("path_create_directory"))
    # mkdir ignores trailing slashes.
    r = resolve_entry(s.fs, d.node, strip_trailing_slashes(path))
    # `.`/`..` and existing names are taken.
    if r.name == "." or r.node is not None:
        raise WasiError(Errno.EXIST)
    fs, _ = s.fs.create_dir(r.parent, r.name, s.realtime)
    return _emit(_with_fs(s, fs), _path(fd, r, False)), ()


@spec(PathAccess)
def path_filestat_get(s: State, fd: int, flags: int, path: str):
    _check_flags(flags, Lookupflags.SYMLINK_FOLLOW)
    d = _dir(s, fd)
    require_rights(d, need("path_filestat_get"))
    follow = bool(flags & Lookupflags.SYMLINK_FOLLOW)
    r = resolve(s.fs, d.node, path, follow)
    if r.node is None:
        raise WasiError(Errno.NOENT)
    return _emit(s, _path(fd, r, follow)), (_stat(s, r.node),)


@spec(PathAccess)
def path_filestat_set_times(s: State, fd: int, flags: int, path: str, atim: int, mtim: int, fst_flags: int):
    a, m = _times(s, atim, mtim, fst_flags)
    _check_flags(flags, Lookupflags.SYMLINK_FOLLOW)
    d = _dir(s, fd)
    require_rights(d, need("path_filestat_set_times"))
    follow = bool(flags & Lookupflags.SYMLINK_FOLLOW)
    r = resolve(s.fs, d.node, path, follow)
    if r.node is None:
        raise WasiError(Errno.NOENT)
    return _emit(_with_fs(s, s.fs.set_times(r.node, a, m, s.realtime)), _path(fd, r, follow)), ()


@spec(PathAccess)
def path_link(s: State, old_fd: int, old_flags: int, old_path: str, new_fd: int, new_path: str):
    _check_flags(old_flags, Lookupflags.SYMLINK_FOLLOW)
    od = _dir(s, old_fd)
    nd = _dir(s, new_fd)
    require_rights(od, need("path_link", OLD_FD))
    require_rights(nd, need("path_link", NEW_FD))
    # Linking what a symlink points to is not offered (wasmtime: EINVAL after the descriptors'
    # rights, "symlink following on path_link is not supported").
    if old_flags & Lookupflags.SYMLINK_FOLLOW:
        raise WasiError(Errno.INVAL)
    # Both paths are walked to their last component first (wasmtime: cap-std's hard_link opens
    # both parents), then linkat(2) decides, in the kernel's order: the source must exist, the new
    # name be free, and the source not be a directory.
    src = resolve_entry(s.fs, od.node, old_path)
    dst = resolve_entry(s.fs, nd.node, new_path, check_last=False)
    if src.node is None:
        raise WasiError(Errno.NOENT)
    # The new name is judged once the old one was found (linkat looks them up in that order).
    check_name(dst.name)
    if dst.name == "." or dst.node is not None:
        raise WasiError(Errno.EXIST)
    # Directories cannot be hard-linked.
    if s.fs.is_dir(src.node):
        raise WasiError(Errno.PERM)
    fs = s.fs.link(dst.parent, dst.name, src.node, s.realtime)
    return _emit(_with_fs(s, fs), _path(old_fd, src, False), _path(new_fd, dst, False)), ()


@spec(FdAccess, PathAccess)
def path_open(s: State, fd: int, dirflags: int, path: str, oflags: int,
              rights_base: int, rights_inheriting: int, fdflags: int):
    _check_flags(dirflags, Lookupflags.SYMLINK_FOLLOW)
    _check_flags(oflags, OFLAGS_ALL)
    _check_flags(rights_base, ALL_RIGHTS)
    _check_flags(rights_inheriting, ALL_RIGHTS)
    _check_flags(fdflags, FDFLAGS_ALL)
    d = s.fds.get(fd)
    # Paths are resolved from directories (wasmtime: a file is ENOTDIR, anything else EBADF).
    if d.is_file:
        raise WasiError(Errno.NOTDIR)
    if not d.is_dir:
        raise WasiError(Errno.BADF)
    # Creating needs PATH_CREATE_FILE, truncating PATH_FILESTAT_SET_SIZE; synchronous writes need the
    # sync rights among those the directory passes on.
    conditions = open_conditions(oflags, fdflags)
    require_rights(d, need("path_open", "fd", *conditions))
    if not within(need("path_open", "fd", *conditions, rights=INHERITING), d.rights_inheriting):
        raise WasiError(Errno.NOTCAPABLE)
    # A directory cannot be created, made exclusively or truncated by path_open (wasmtime: EINVAL).
    if oflags & Oflags.DIRECTORY and oflags & (Oflags.CREAT | Oflags.EXCL | Oflags.TRUNC):
        raise WasiError(Errno.INVAL)
    # The table is bounded; refuse before touching anything.
    if s.fds.full():
        raise WasiError(Errno.MFILE)
    # O_CREAT|O_EXCL never follows a final symlink (POSIX: EEXIST whatever the link names).
    follow = bool(dirflags & Lookupflags.SYMLINK_FOLLOW) and not (oflags & Oflags.CREAT and oflags & Oflags.EXCL)
    if oflags & Oflags.CREAT and _trailing_slash(path):
        # Linux: O_CREAT with a trailing slash is EISDIR once the directories before the last
        # component are walked; the last one is not looked up (an existing file, or a link to
        # one, is EISDIR too, not ENOTDIR).
        resolve(s.fs, d.node, strip_trailing_slashes(path), False)
        raise WasiError(Errno.ISDIR)
    r = resolve(s.fs, d.node, path, follow, create=bool(oflags & Oflags.CREAT))
    fs = s.fs
    if r.node is None:
        # A missing file is created only with O_CREAT.
        if not oflags & Oflags.CREAT:
            raise WasiError(Errno.NOENT)
        # `name/` asks for a directory, which O_CREAT does not make (Linux: EISDIR).
        if r.must_be_dir:
            raise WasiError(Errno.ISDIR)
        fs, ino = fs.create_file(r.parent, r.name, s.realtime)
    else:
        ino = r.node
        node = fs.node(ino)
        # O_CREAT|O_EXCL requires that nothing exists.
        if oflags & Oflags.CREAT and oflags & Oflags.EXCL:
            raise WasiError(Errno.EXIST)
        # O_DIRECTORY requires a directory (an unfollowed symlink too: Linux says ENOTDIR first).
        if oflags & Oflags.DIRECTORY and not isinstance(node, Dir):
            raise WasiError(Errno.NOTDIR)
        # A final symlink that is not followed cannot be opened (O_NOFOLLOW: ELOOP).
        if isinstance(node, Symlink):
            raise WasiError(Errno.LOOP)
        # A directory is not created over, truncated, or opened for writing (Linux: EISDIR); the
        # access mode follows the rights the descriptor will get, i.e. after narrowing.
        writing = rights_base & d.rights_inheriting & Rights.FD_WRITE
        if isinstance(node, Dir) and (oflags & (Oflags.CREAT | Oflags.TRUNC) or writing):
            raise WasiError(Errno.ISDIR)
        if isinstance(node, File) and oflags & Oflags.TRUNC:
            fs = fs.truncate(ino, 0, s.realtime)
    kind = Filetype.DIRECTORY if fs.is_dir(ino) else Filetype.REGULAR_FILE
    mask = DIR_RIGHTS if kind == Filetype.DIRECTORY else FILE_RIGHTS
    base = narrow(rights_base, d.rights_inheriting, mask)
    new = Descriptor(
        kind,
        base,
        narrow(rights_inheriting, d.rights_inheriting, ALL_RIGHTS),
        d.rights_inheriting,
        node=ino,
        # A directory keeps no fdflags (wasmtime's fdstat of a directory: flags empty).
        flags=fdflags if kind == Filetype.REGULAR_FILE else 0,
        # A file is opened for writing exactly when it gets FD_WRITE (as wasmtime).
        writable=kind == Filetype.REGULAR_FILE and bool(base & Rights.FD_WRITE),
    )
    fds, newfd = s.fds.insert(new)
    s = _with_fs(replace(s, fds=fds), fs)
    return _emit(s, FdAccess(fd), _path(fd, r, follow)), (newfd,)


@spec(PathAccess)
def path_readlink(s: State, fd: int, path: str, buf_len: int):
    """The link's text, cut to `buf_len` bytes (as wasmtime does)."""
    d = _dir(s, fd)
    require_rights(d, need("path_readlink"))
    r = resolve_entry(s.fs, d.node, path)
    if r.node is None:
        raise WasiError(Errno.NOENT)
    node = s.fs.node(r.node)
    # Only symlinks have a text.
    if not isinstance(node, Symlink):
        raise WasiError(Errno.INVAL)
    return _emit(s, _path(fd, r, False)), (node.target.encode()[:buf_len],)


@spec(PathAccess)
def path_remove_directory(s: State, fd: int, path: str):
    d = _dir(s, fd)
    require_rights(d, need("path_remove_directory"))
    # Trailing slashes are ignored (Linux rmdir("d/"); wasi-testsuite remove_directory_trailing_slashes).
    r = resolve_entry(s.fs, d.node, strip_trailing_slashes(path))
    # A directory cannot remove itself by `.` (rmdirat(fd, "."): EINVAL).
    if r.name == ".":
        raise WasiError(Errno.INVAL)
    if r.node is None:
        raise WasiError(Errno.NOENT)
    fs = s.fs.rmdir(r.parent, r.name, s.realtime)
    return _emit(_with_fs(s, fs), _path(fd, r, False)), ()


@spec(PathAccess)
def path_rename(s: State, old_fd: int, old_path: str, new_fd: int, new_path: str):
    od = _dir(s, old_fd)
    nd = _dir(s, new_fd)
    require_rights(od, need("path_rename"))
    require_rights(nd, need("path_rename", NEW_FD))
    slash = _trailing_slash(old_path) or _trailing_slash(new_path)
    # rename ignores trailing slashes, except that they require a directory.
    src = resolve_entry(s.fs, od.node, strip_trailing_slashes(old_path))
    dst = resolve_entry(s.fs, nd.node, strip_trailing_slashes(new_path), check_last=False)
    # `.`/`..` cannot be renamed or replaced (Linux: EBUSY).
    if src.name == "." or dst.name == ".":
        raise WasiError(Errno.BUSY)
    if src.node is None:
        raise WasiError(Errno.NOENT)
    # The new name is judged once the old one was found (renameat looks them up in that order).
    check_name(dst.name)
    if slash and not s.fs.is_dir(src.node):
        raise WasiError(Errno.NOTDIR)
    fs = s.fs.rename(src.parent, src.name, dst.parent, dst.name, s.realtime)
    return _emit(_with_fs(s, fs), _path(old_fd, src, False), _path(new_fd, dst, False)), ()


@spec(PathAccess)
def path_symlink(s: State, target: str, fd: int, path: str):
    d = _dir(s, fd)
    require_rights(d, need("path_symlink"))
    # The text cannot contain NUL, nor be empty.
    if "\0" in target:
        raise WasiError(Errno.INVAL)
    if target == "":
        raise WasiError(Errno.NOENT)
    # An absolute text would point outside the sandbox: refused when made.
    if target.startswith("/"):
        raise escape()
    r = resolve_entry(s.fs, d.node, path)
    if r.name == "." or r.node is not None:
        raise WasiError(Errno.EXIST)
    fs, _ = s.fs.create_symlink(r.parent, r.name, target, s.realtime)
    return _emit(_with_fs(s, fs), _path(fd, r, False)), ()


@spec(PathAccess)
def path_unlink_file(s: State, fd: int, path: str):
    d = _dir(s, fd)
    require_rights(d, need("path_unlink_file"))
    r = resolve_entry(s.fs, d.node, path)
    # `dir/` names a directory, which unlink does not remove.
    if r.name == ".":
        raise WasiError(Errno.ISDIR)
    if r.node is None:
        raise WasiError(Errno.NOENT)
    fs = s.fs.unlink(r.parent, r.name, s.realtime)
    return _emit(_with_fs(s, fs), _path(fd, r, False)), ()


# --- poll ----------------------------------------------------------------------------------------
@spec(FdAccess)
def poll_oneoff(s: State, subs: tuple, ready: tuple):
    """Wait for the subscriptions; the events are those ready when the wait ends, in subscription
    order. `ready`: the indices of the clock and stream subscriptions the host reports ready (the
    environment's choice); regular files are always ready, whatever `ready` says. Events follow
    wasmtime: fd events report nbytes 1, and HANGUP for a file read at its end."""
    # Waiting for nothing would block forever (wasmtime: EINVAL).
    if not subs:
        raise WasiError(Errno.INVAL)
    effects = []
    for sub in subs:
        # Only the three event types decode (an error fails the whole call).
        if sub.tag not in tuple(Eventtype):
            raise WasiError(Errno.INVAL)
        if sub.tag == Eventtype.CLOCK:
            # Only the realtime and monotonic clocks can be waited on (the whole call: EINVAL).
            if sub.clock_id not in (Clockid.REALTIME, Clockid.MONOTONIC):
                raise WasiError(Errno.INVAL)
            _check_flags(sub.flags, 1)
            continue
        # A bad descriptor fails the whole call (EBADF), not just its event.
        d = s.fds.get(sub.fd)
        readable = d.is_file or d.stream == "stdin" or d.is_socket
        writable = d.is_file or d.stream in ("stdout", "stderr") or d.is_socket
        # Directories, and streams the wrong way round, cannot be waited on.
        if not (readable if sub.tag == Eventtype.FD_READ else writable):
            raise WasiError(Errno.BADF)
        # Waiting on a descriptor needs POLL_FD_READWRITE, and the right to read or write it.
        require_rights(d, need("poll_oneoff", SUBSCRIBED, subscription_condition(sub.tag)))
        effects.append(FdAccess(sub.fd))
    # Regular files never block: they are always ready.
    files = {i for i, sub in enumerate(subs) if sub.tag != Eventtype.CLOCK and s.fds.get(sub.fd).is_file}
    fired = sorted(set(ready) | files)
    assert fired and all(0 <= i < len(subs) for i in fired), "the wait ends with something ready"
    events = []
    for i in fired:
        sub = subs[i]
        if sub.tag == Eventtype.CLOCK:
            events.append(Event(sub.userdata, Errno.SUCCESS, Eventtype.CLOCK, 0, 0))
            continue
        d = s.fds.get(sub.fd)
        hangup = 0
        # A file read at (or past) its end reports a hang-up.
        if sub.tag == Eventtype.FD_READ and d.is_file and s.fs.node(d.node).size <= d.offset:
            hangup = Eventrwflags.FD_READWRITE_HANGUP
        events.append(Event(sub.userdata, Errno.SUCCESS, sub.tag, 1, hangup))
    return _emit(s, *effects), (tuple(events),)


# --- sockets -------------------------------------------------------------------------------------
def _recv(s: State, call: str, fd: int, capacity: int, incoming: bytes, outcome: Errno) -> tuple[bytes, bool]:
    """(data, whether the network said it came from a longer datagram)."""
    d, sock = _socket(s, fd)
    require_rights(d, need(call))
    net.io_rule(sock, sending=False)
    # After shutdown(RD) reads see end of stream (the network is not asked).
    if sock.shut_rd:
        return b"", False
    assert outcome in IO_OUTCOMES and len(incoming) <= capacity
    # The network may report an error instead (a reset connection, nothing there yet).
    if outcome != Errno.SUCCESS:
        raise WasiError(outcome)
    return incoming, True


def _send(s: State, call: str, fd: int, iovs: tuple, outcome: Errno):
    d, sock = _socket(s, fd)
    require_rights(d, need(call))
    net.io_rule(sock, sending=True)
    assert outcome in IO_OUTCOMES
    # The network may refuse the bytes (the peer reset the connection).
    if outcome != Errno.SUCCESS:
        raise WasiError(outcome)
    n = sum(len(b) for b in iovs)
    effects = [FdAccess(fd)]
    if not sock.inbound:
        effects.append(NetAccess(sock.proto, sock.family, *sock.peer))
    return _emit(s, *effects), (n,)


@spec(FdAccess)
def sock_accept(s: State, fd: int, flags: int, peer: Optional[tuple[int, int]]):
    """`peer`: the connection the environment has pending (None: none yet)."""
    _check_flags(flags, FDFLAGS_ALL)
    d, sock = _socket(s, fd)
    require_rights(d, need("sock_accept"))
    # Only NONBLOCK may be set on the new descriptor.
    if int(flags) & ~int(Fdflags.NONBLOCK):
        raise WasiError(Errno.INVAL)
    new_sock = net.accept_rule(sock, peer if peer is not None else (0, 0))
    # Nothing pending: try again later.
    if peer is None:
        raise WasiError(Errno.AGAIN)
    if s.fds.full():
        raise WasiError(Errno.MFILE)
    sid = s.next_socket
    new = Descriptor(
        d.filetype, d.rights_inheriting & SOCKET_RIGHTS & ~Rights.SOCK_ACCEPT,
        d.rights_inheriting & ~Rights.SOCK_ACCEPT, d.rights_inheriting, socket=sid, flags=flags,
    )
    fds, newfd = s.fds.insert(new)
    s = _set_socket(replace(s, fds=fds, next_socket=sid + 1), sid, new_sock)
    return _emit(s, FdAccess(fd)), (newfd,)


@spec(FdAccess)
def sock_recv(s: State, fd: int, iov_lens: tuple, ri_flags: int, incoming: bytes, truncated: bool = False,
              outcome: Errno = Errno.SUCCESS):
    """`incoming`: what the network delivers (at most the buffers' total); `truncated`: it is the
    start of a longer datagram (the rest is lost); `outcome`: the network's error instead."""
    _check_flags(ri_flags, Riflags.RECV_PEEK | Riflags.RECV_WAITALL)
    data, asked = _recv(s, "sock_recv", fd, sum(iov_lens), incoming, outcome)
    # A datagram longer than the buffers is reported as truncated.
    return _emit(s, FdAccess(fd)), (data, Roflags.RECV_DATA_TRUNCATED if asked and truncated else 0)


@spec(FdAccess, NetAccess)
def sock_send(s: State, fd: int, iovs: tuple, si_flags: int, outcome: Errno = Errno.SUCCESS):
    # siflags has no bits in preview1.
    if si_flags != 0:
        raise WasiError(Errno.INVAL)
    return _send(s, "sock_send", fd, iovs, outcome)


@spec(Shutdown)
def sock_shutdown(s: State, fd: int, how: int, outcome: Errno = Errno.SUCCESS):
    """`outcome`: the network's answer (ENOTCONN once the connection is over: reset, or both
    directions closed)."""
    _check_flags(how, Sdflags.RD | Sdflags.WR)
    d, sock = _socket(s, fd)
    require_rights(d, need("sock_shutdown"))
    new = net.shutdown_rule(sock, how)
    assert outcome in IO_OUTCOMES
    if outcome != Errno.SUCCESS:
        raise WasiError(outcome)
    s = _set_socket(s, d.socket, new)
    return _emit(s, Shutdown(fd, how)), ()


@spec(SockCreate)
def socket(s: State, family: int, type_: int, protocol: int):
    """WaVe's socket(): a socket of a kind the netlist mentions."""
    sock = net.socket_rule(s.netlist, family, type_, protocol)
    if s.fds.full():
        raise WasiError(Errno.MFILE)
    sid = s.next_socket
    ft = Filetype.SOCKET_STREAM if sock.type == SocketType.STREAM else Filetype.SOCKET_DGRAM
    rights = SOCKET_RIGHTS & ~Rights.SOCK_ACCEPT
    fds, newfd = s.fds.insert(Descriptor(ft, rights, rights, rights, socket=sid))
    s = _set_socket(replace(s, fds=fds, next_socket=sid + 1), sid, sock)
    return _emit(s, SockCreate(sock.family, sock.type, sock.proto)), (newfd,)


@spec(NetAccess)
def sock_connect(s: State, fd: int, family: int, addr: int, port: int, outcome: Errno = Errno.SUCCESS):
    """WaVe's sock_connect: only to an endpoint in the netlist. `outcome`: the network's answer."""
    d, sock = _socket(s, fd)
    new = net.connect_rule(s.netlist, sock, family, addr, port)
    assert outcome in CONNECT_OUTCOMES
    # The peer may refuse or be unreachable.
    if outcome != Errno.SUCCESS:
        raise WasiError(outcome)
    s = _set_socket(s, d.socket, new)
    return _emit(s, NetAccess(sock.proto, family, addr, port)), ()


TRANSITIONS = {
    name: globals()[name]
    for name in (
        "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get",
        "clock_time_get", "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get",
        "fd_fdstat_set_flags", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
        "fd_filestat_set_times", "fd_pread", "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite",
        "fd_read", "fd_readdir", "fd_renumber", "fd_seek", "fd_sync", "fd_tell", "fd_write",
        "path_create_directory", "path_filestat_get", "path_filestat_set_times", "path_link",
        "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
        "path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get",
        "sock_accept", "sock_recv", "sock_send", "sock_shutdown", "socket", "sock_connect",
    )
}
