"""The pointer parameters of every call: where each points, to what, and how much it declares.

From the parameter types of WebAssembly/WASI `legacy/preview1/witx/wasi_snapshot_preview1.witx`
(`pointer<T>`, `string`, `iovec_array`, `ciovec_array`, lowered to an i32 address plus, for lists
and strings, an i32 length) and WaVe's socket extension. witx-docs (`legacy/tools/witx-docs.md`,
"Pointers") says what a call owes such a parameter: a misaligned pointer traps; an out-of-bounds
one traps when the call needs it. DESIGN §1.1 makes that "before any side effect": every region
below is validated whole (its declared length, not only the bytes the call ends up using) before
the call changes anything.

A region is `count` elements of `layout` starting at the pointer, aligned as `layout` is: `count`
is the value of parameter `length` (lists, strings, byte buffers), one element (a pointer to a
record or an integer), or the count a `*_sizes_get` call reports (`args_get`, `environ_get`: the
witx says the buffers must be as large as those sizes). `access` says whether the call reads or
writes the region; a (c)iovec array is read, and `through` says whether the buffers its entries
name are read (ciovec: fd_write, fd_pwrite, sock_send) or written (iovec: fd_read, fd_pread,
sock_recv).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .wasi import EVENT, FDSTAT, FILESTAT, IOVEC, PRESTAT, SIGNATURES, SUBSCRIPTION, U8, U16, U32, U64, Layout

IN, OUT = "in", "out"


@dataclass(frozen=True)
class Pointer:
    arg: int  # position of the pointer among the call's parameters
    layout: Layout  # what it points to (U8: bytes)
    access: str  # IN: the call reads the region; OUT: it writes it
    length: Optional[int] = None  # position of the parameter counting the elements (None: one element)
    sized_by: Optional[tuple[str, int]] = None  # (call, result index) that reports the element count
    through: Optional[str] = None  # (c)iovec arrays: IN/OUT, what the call does to the buffers named


def _string(arg: int) -> Pointer:
    """A path or other text: bytes at parameter `arg`, their count at parameter `arg + 1`."""
    return Pointer(arg, U8, IN, length=arg + 1)


P = Pointer
POINTERS: dict[str, tuple[Pointer, ...]] = {
    "args_get": (P(0, U32, OUT, sized_by=("args_sizes_get", 0)), P(1, U8, OUT, sized_by=("args_sizes_get", 1))),
    "args_sizes_get": (P(0, U32, OUT), P(1, U32, OUT)),
    "environ_get": (P(0, U32, OUT, sized_by=("environ_sizes_get", 0)),
                    P(1, U8, OUT, sized_by=("environ_sizes_get", 1))),
    "environ_sizes_get": (P(0, U32, OUT), P(1, U32, OUT)),
    "clock_res_get": (P(1, U64, OUT),),
    "clock_time_get": (P(2, U64, OUT),),
    "fd_advise": (),
    "fd_allocate": (),
    "fd_close": (),
    "fd_datasync": (),
    "fd_fdstat_get": (P(1, FDSTAT, OUT),),
    "fd_fdstat_set_flags": (),
    "fd_fdstat_set_rights": (),
    "fd_filestat_get": (P(1, FILESTAT, OUT),),
    "fd_filestat_set_size": (),
    "fd_filestat_set_times": (),
    "fd_pread": (P(1, IOVEC, IN, length=2, through=OUT), P(4, U32, OUT)),
    "fd_prestat_get": (P(1, PRESTAT, OUT),),
    "fd_prestat_dir_name": (P(1, U8, OUT, length=2),),
    "fd_pwrite": (P(1, IOVEC, IN, length=2, through=IN), P(4, U32, OUT)),
    "fd_read": (P(1, IOVEC, IN, length=2, through=OUT), P(3, U32, OUT)),
    "fd_readdir": (P(1, U8, OUT, length=2), P(4, U32, OUT)),
    "fd_renumber": (),
    "fd_seek": (P(3, U64, OUT),),
    "fd_sync": (),
    "fd_tell": (P(1, U64, OUT),),
    "fd_write": (P(1, IOVEC, IN, length=2, through=IN), P(3, U32, OUT)),
    "path_create_directory": (_string(1),),
    "path_filestat_get": (_string(2), P(4, FILESTAT, OUT)),
    "path_filestat_set_times": (_string(2),),
    "path_link": (_string(2), _string(5)),
    "path_open": (_string(2), P(8, U32, OUT)),
    "path_readlink": (_string(1), P(3, U8, OUT, length=4), P(5, U32, OUT)),
    "path_remove_directory": (_string(1),),
    "path_rename": (_string(1), _string(4)),
    "path_symlink": (_string(0), _string(3)),
    "path_unlink_file": (_string(1),),
    # nsubscriptions counts both the subscriptions read and the events the call may write.
    "poll_oneoff": (P(0, SUBSCRIPTION, IN, length=2), P(1, EVENT, OUT, length=2), P(3, U32, OUT)),
    "proc_exit": (),
    "proc_raise": (),
    "sched_yield": (),
    "random_get": (P(0, U8, OUT, length=1),),
    "sock_accept": (P(2, U32, OUT),),
    "sock_recv": (P(1, IOVEC, IN, length=2, through=OUT), P(4, U32, OUT), P(5, U16, OUT)),
    "sock_send": (P(1, IOVEC, IN, length=2, through=IN), P(4, U32, OUT)),
    "sock_shutdown": (),
    "socket": (P(3, U32, OUT),),
    # A sockaddr_in or sockaddr_in6 (WaVe's layout, `wasi.SOCKADDR_IN*`) of addr_len bytes.
    "sock_connect": (P(1, U8, IN, length=2),),
}

# Every call is classified, and every pointer and length names an i32 parameter of it.
assert POINTERS.keys() == SIGNATURES.keys(), sorted(POINTERS.keys() ^ SIGNATURES.keys())
assert all(SIGNATURES[call][0][i] == "i" for call, ps in POINTERS.items() for p in ps
           for i in (p.arg, p.length) if i is not None)
assert all((p.through is not None) == (p.layout == IOVEC) for ps in POINTERS.values() for p in ps)
