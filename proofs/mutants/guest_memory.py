"""Planted bugs for the guest-memory obligations: a check moved after the effect, a buffer bound off by one."""
from __future__ import annotations

from proofs.core import mutant, patch

BEFORE, WRITES = "memory.check_before_effect", "memory.writes_in_declared_output"


def _install(name: str, handler) -> None:
    """Replace handler `name` where the runtime looks it up (the area module and the table)."""
    from vwasm import syscalls
    area = next(a for a in syscalls._AREAS if hasattr(a, name))
    patch(area, name, handler)
    syscalls.HANDLERS[name] = handler


def _late_output(name: str, arg: int, size) -> None:
    """Handler `name` works on a scratch copy of output `arg` (size(args) bytes at address 0) and copies
    the result out afterwards: the output is validated only after the call's side effect."""
    from vwasm import syscalls
    real = syscalls.HANDLERS[name]

    def late(cx, *args):
        n = size(args)
        saved = cx.mem.read(0, n)
        out, args = args[arg], list(args)
        args[arg] = 0
        try:
            errno = real(cx, *args)
            result = cx.mem.read(0, n)
        finally:
            cx.mem.write(0, saved)
        cx.mem.write(out, result)
        return errno
    _install(name, late)


# --- check before effect ----------------------------------------------------------------------------
@mutant("pwrite_count_after_write", breaks="1 memory isolation: fd_pwrite writes the file, then finds its "
        "nwritten pointer out of bounds", killers=(BEFORE,))
def pwrite_count_after_write():
    """Bug when nwritten_ptr is bad: the bytes are already in the file when the call traps."""
    _late_output("fd_pwrite", 4, lambda args: 4)


@mutant("open_fd_after_open", breaks="1 memory isolation: path_open opens (and installs) the file, then finds "
        "its fd_out pointer out of bounds", killers=(BEFORE,))
def open_fd_after_open():
    """Bug when fd_out is bad: the trap leaves a new descriptor and an open host handle behind."""
    _late_output("path_open", 8, lambda args: 4)


@mutant("send_waits_before_check", breaks="1 memory isolation: under Config.timeout, sock_send waits for its "
        "socket, then finds its so_datalen pointer out of bounds", killers=(BEFORE,))
def send_waits_before_check():
    """Bug under a deadline: the call has waited on the host (poll) before it traps."""
    from vwasm import syscalls
    from vwasm.limits import wait_ready
    real = syscalls.HANDLERS["sock_send"]

    def waits_first(cx, fd, *args):
        if cx.deadline is not None and fd in cx.fds:
            wait_ready(cx, cx.fds.get(fd), write=True)
        return real(cx, fd, *args)
    _install("sock_send", waits_first)


@mutant("poll_events_after_wait", breaks="1 memory isolation: poll_oneoff waits, then finds its events array "
        "out of bounds", killers=(BEFORE,))
def poll_events_after_wait():
    """Bug when the events pointer is bad: the call has already waited on the host."""
    from vwasm.model.wasi import EVENT
    _late_output("poll_oneoff", 1, lambda args: args[2] * EVENT.size)


@mutant("connect_reads_family_first", breaks="1 memory isolation: sock_connect reads the family of an address "
        "that straddles the end of memory and answers an errno instead of trapping", killers=(BEFORE,))
def connect_reads_family_first():
    """Bug when the sockaddr straddles the end: its first two bytes decide the outcome."""
    from vwasm.model.wasi import SOCKADDR_IN, SOCKADDR_IN6, U16, AddressFamily, Errno, WasiError
    from vwasm.syscalls import sock

    def _endpoint(cx, addr_ptr, addr_len):
        (family,) = cx.mem.load(U16, addr_ptr)
        layout = {AddressFamily.INET: SOCKADDR_IN, AddressFamily.INET6: SOCKADDR_IN6}.get(family)
        if layout is None:
            raise WasiError(Errno.AFNOSUPPORT)
        if addr_len != layout.size:
            raise WasiError(Errno.INVAL)
        fields = cx.mem.load(layout, addr_ptr)
        return family, fields[2] if family == AddressFamily.INET else fields[3], int.from_bytes(fields[1], "big")
    patch(sock, "_endpoint", _endpoint)


@mutant("iovec_buffers_unchecked", breaks="1 memory isolation: the buffers an iovec array names are sliced "
        "without a bounds check (a memoryview slice silently stops at the end)", killers=(BEFORE,))
def iovec_buffers_unchecked():
    """Bug when an iovec names a buffer past the end: the call goes on with a shorter buffer."""
    from vwasm.memory import GuestMemory
    from vwasm.model.wasi import IOVEC

    def iovecs(self, ptr, count):
        self.check(ptr, count * IOVEC.size, IOVEC.align)
        return [self.view[b:b + n] for b, n in (IOVEC.codec.unpack_from(self.view, ptr + 8 * i) for i in range(count))]
    patch(GuestMemory, "iovecs", iovecs)


@mutant("iovec_bound_one_loose", breaks="1 memory isolation: an iovec buffer may end one byte past memory (the "
        "slice silently stops short and the call goes on)", killers=(BEFORE,))
def iovec_bound_one_loose():
    """Bug when an iovec buffer overhangs the end by one byte: `buf + len - 1 > size` where `buf + len > size`."""
    from vwasm.errors import Trap
    from vwasm.memory import GuestMemory
    from vwasm.model.wasi import IOVEC

    def iovecs(self, ptr, count):
        self.check(ptr, count * IOVEC.size, IOVEC.align)
        bufs = []
        for i in range(count):
            b, n = IOVEC.codec.unpack_from(self.view, ptr + 8 * i)
            if b + n - 1 > self.size:
                raise Trap("out-of-bounds iovec")
            bufs.append(self.view[b:b + n])
        return bufs
    patch(GuestMemory, "iovecs", iovecs)


@mutant("strings_buffer_one_short", breaks="1 memory isolation: args_get/environ_get check the string buffer "
        "without its last NUL", killers=(BEFORE,))
def strings_buffer_one_short():
    """Bug when the strings buffer overhangs the end by one byte: the pointers are written, then the last NUL fails."""
    from vwasm.memory import GuestMemory

    def strings(self, items, ptrs, buf):
        self.check(ptrs, 4 * len(items), 4)
        self.check(buf, sum(len(s) + 1 for s in items) - 1)
        at = buf
        for i, s in enumerate(items):
            self.put_u32(ptrs + 4 * i, at)
            self.write(at, s + b"\0")
            at += len(s) + 1
    patch(GuestMemory, "strings", strings)


@mutant("check_refuses_flush_end", breaks="a region ending exactly at the end of memory traps: the bound is "
        "off by one the strict way (a valid call fails)", killers=(BEFORE,))
def check_refuses_flush_end():
    """Bug when a region ends exactly at the end of memory: `>=` where `>` belongs."""
    from vwasm.errors import Trap
    from vwasm.memory import GuestMemory
    real = GuestMemory.check

    def check(self, ptr, length, align=1):
        if ptr + length >= self.size:
            raise Trap("out-of-bounds memory access")
        real(self, ptr, length, align)
    patch(GuestMemory, "check", check)


# --- writes stay in the declared output ------------------------------------------------------------
@mutant("readdir_cut_one_past", breaks="1 memory isolation: fd_readdir cuts the last entry one byte past the "
        "guest's buffer (still inside linear memory)", killers=(WRITES,))
def readdir_cut_one_past():
    """Bug when the last entry does not fit: one byte more of it is written than the buffer holds."""
    from vwasm.fdtable import DIR
    from vwasm.model.wasi import Rights
    from vwasm.syscalls import path

    def fd_readdir(cx, fd, buf, buf_len, cookie, bufused_ptr):
        desc = cx.fds.get_kind(fd, (DIR,), Rights.FD_READDIR)
        cx.mem.check(buf, buf_len)
        cx.mem.check(bufused_ptr, 4, 4)
        if cookie == 0 or desc.dir_state is None:
            desc.dir_state = path._listing(cx, desc)
        parts, room = [], buf_len
        for entry in desc.dir_state[cookie:]:
            if room <= 0:
                break
            if len(entry) > room:
                entry = entry[:room + 1]
            parts.append(entry)
            room -= len(entry)
        data = b"".join(parts)
        cx.mem.write(buf, data)
        cx.mem.put_u32(bufused_ptr, min(len(data), buf_len))
        return 0
    _install("fd_readdir", fd_readdir)


def _prestat_dir_name(terminator: bytes, refuse_exact: bool):
    from vwasm.model.wasi import Errno, WasiError

    def fd_prestat_dir_name(cx, fd, path_ptr, path_len):
        desc = cx.fds.get(fd)
        if desc.preopen is None:
            raise WasiError(Errno.NOTDIR)
        cx.mem.check(path_ptr, path_len)
        name = desc.preopen.encode()
        if len(name) > path_len or refuse_exact and len(name) == path_len:
            raise WasiError(Errno.NAMETOOLONG)
        cx.mem.write(path_ptr, name + terminator)
        return 0
    return fd_prestat_dir_name


@mutant("prestat_name_nul_terminated", breaks="1 memory isolation: fd_prestat_dir_name writes a NUL after the "
        "name, one byte past a buffer of exactly the name's length", killers=(WRITES,))
def prestat_name_nul_terminated():
    """Bug when the buffer is exactly the name's length: the C-style terminator lands past it."""
    _install("fd_prestat_dir_name", _prestat_dir_name(b"\0", refuse_exact=False))


@mutant("prestat_exact_fit_refused", breaks="a buffer exactly the preopen name's length is refused "
        "(ENAMETOOLONG): the bound is off by one the other way", killers=(WRITES,))
def prestat_exact_fit_refused():
    """Bug when the buffer is exactly the name's length: the call refuses it."""
    _install("fd_prestat_dir_name", _prestat_dir_name(b"", refuse_exact=True))


@mutant("readlink_one_past", breaks="1 memory isolation: path_readlink cuts the text at buf_len + 1",
        killers=(WRITES,))
def readlink_one_past():
    """Bug when the link text is longer than the buffer: one byte too many is written."""
    from vwasm import syscalls
    real = syscalls.HANDLERS["path_readlink"]

    def path_readlink(cx, fd, path_ptr, path_len, buf, buf_len, bufused_ptr):
        # The real call, with a buffer one byte longer than the guest declared.
        return real(cx, fd, path_ptr, path_len, buf, buf_len + 1 if buf + buf_len < cx.mem.size else buf_len,
                    bufused_ptr)
    _install("path_readlink", path_readlink)


@mutant("iovec_views_one_long", breaks="1 memory isolation: each buffer an iovec names is taken one byte "
        "longer than its buf_len", killers=(WRITES,))
def iovec_views_one_long():
    """Bug in every read into iovecs: the host may fill one byte past each buffer."""
    from vwasm.memory import GuestMemory
    from vwasm.model.wasi import IOVEC
    from vwasm.errors import Trap

    def iovecs(self, ptr, count):
        self.check(ptr, count * IOVEC.size, IOVEC.align)
        bufs = []
        for i in range(count):
            b, n = IOVEC.codec.unpack_from(self.view, ptr + 8 * i)
            if b + n > self.size:
                raise Trap("out-of-bounds iovec")
            bufs.append(self.view[b:b + n + 1])
        return bufs
    patch(GuestMemory, "iovecs", iovecs)


@mutant("guest_memory_struct_dropped", breaks="1 memory isolation: GuestMemory keeps a raw pointer into a "
        "wasmtime_memory_t it lets be freed (the next sync reads freed memory)", killers=(BEFORE,))
def guest_memory_struct_dropped():
    """Bug: the reference that keeps the wasmtime memory object alive is not kept."""
    from vwasm.memory import GuestMemory
    real = GuestMemory.__init__

    def __init__(self, store, memory, *args, **kw):
        real(self, store, memory, *args, **kw)
        self._memory = None
    patch(GuestMemory, "__init__", __init__)


@mutant("fixed_bound_goes_stale", breaks="1 memory isolation: a memory that cannot move keeps the bound it had, "
        "so after a grow the guest's new memory is refused", killers=(BEFORE,))
def fixed_bound_goes_stale():
    """Bug: the bound of a fixed memory is never caught up with a grow (an access past it just traps)."""
    from vwasm.memory import GuestMemory
    patch(GuestMemory, "_reaches", lambda self, end: False)


@mutant("fixed_bound_trusted", breaks="1 memory isolation: past the kept bound of a fixed memory, an access is "
        "taken without re-reading the memory's size (one byte past the end gets through)", killers=(BEFORE,))
def fixed_bound_trusted():
    """Bug: an access past the kept bound is let through, as if the memory had surely grown that far."""
    from vwasm.memory import GuestMemory

    def _reaches(self, end):
        self._refresh()
        return True
    patch(GuestMemory, "_reaches", _reaches)


@mutant("any_engine_fixed", breaks="1 memory isolation: any engine is taken to have memory that cannot move, so "
        "an embedder's engine whose memory moves on a grow leaves GuestMemory with a dangling view",
        killers=(BEFORE,))
def any_engine_fixed():
    """Bug: `memory_fixed` answers yes for every engine."""
    from vwasm import limits
    patch(limits, "memory_fixed", lambda engine: True)


@mutant("movable_memory_not_synced", breaks="1 memory isolation: a memory that may move is not re-read before "
        "a call, so after a grow that moved it the view names freed memory (in-bounds accesses use it)",
        killers=(BEFORE,))
def movable_memory_not_synced():
    """Bug: `sync` skips every memory, fixed or not."""
    from vwasm.memory import GuestMemory
    patch(GuestMemory, "sync", lambda self: None)
