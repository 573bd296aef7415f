"""The rights each call needs, on each descriptor argument: the one table model and runtime share.

From the `rights` flags of WebAssembly/WASI `legacy/preview1/witx/typenames.witx`, whose doc
comments say which call each right lets a descriptor make ("The right to invoke `fd_read` and
`sock_recv`", "If `path_open` is set, the right to invoke `path_open` with `oflags::creat`", ...).
Where the witx leaves room we follow wasi-common, wasmtime's rights-checking implementation of
preview1 (today's wasmtime no longer checks rights; DESIGN §5: we do, answering ENOTCAPABLE):

- `fd_seek(fd, 0, CUR)` only asks where the offset is: FD_TELL, not FD_SEEK; and FD_SEEK alone
  does not let a descriptor ask (the witx says FD_SEEK "implies" FD_TELL; wasi-common checks each
  right on its own, and so do we: a guest that may seek is granted FD_TELL with it);
- `fd_pread`/`fd_pwrite` need FD_SEEK as well as FD_READ/FD_WRITE;
- `path_open` needs PATH_CREATE_FILE for O_CREAT and PATH_FILESTAT_SET_SIZE for O_TRUNC on the
  directory; opening with DSYNC needs FD_DATASYNC, with RSYNC or SYNC FD_SYNC, among the rights the
  directory passes on (its inheriting rights: the new descriptor would hold them);
- `poll_oneoff`: a subscription's descriptor needs POLL_FD_READWRITE, and FD_READ to wait for
  reading or FD_WRITE to wait for writing;
- `path_link`/`path_rename`: the *_SOURCE right on the old directory, *_TARGET on the new one.

A call that names no descriptor, or needs no right on it (`fd_close`, `fd_fdstat_get`,
`fd_renumber`, `fd_prestat_*`, `fd_fdstat_set_rights`, which may only drop rights, and WaVe's
`socket`/`sock_connect`, which the netlist governs), has an empty row. A standard stream answers
`fd_filestat_get` with zeros and its type without consulting its rights (as wasmtime).

Order, in model and runtime alike: the arguments are decoded first (a flag bit or enum value the
witx does not define is EINVAL, as wiggle decodes them), then the descriptor (EBADF) and its kind;
its rights come next, before anything else about the arguments is looked at -- so without the right
a call that would fail later (a missing path, an offset past i64) is still ENOTCAPABLE.
"""
from __future__ import annotations

import functools
from typing import NamedTuple, Optional

from .wasi import (
    DIR_RIGHTS, DIR_RIGHTS_READONLY, FILE_RIGHTS, FILE_RIGHTS_READONLY, SIGNATURES, Eventtype, Fdflags, Oflags,
    Rights, Whence,
)

# Descriptor arguments, named as in the witx (`poll_oneoff`'s is inside each subscription).
FD, OLD_FD, NEW_FD, SUBSCRIBED = "fd", "old_fd", "new_fd", "subscription.fd"
BASE, INHERITING = "base", "inheriting"


class Need(NamedTuple):
    """`right` must be in the `rights` (base or inheriting) of descriptor argument `arg`, when the
    named condition on the call's other arguments holds (always, if `when` is None)."""

    right: int
    arg: str = FD
    when: Optional[str] = None
    rights: str = BASE


R = Rights
REQUIRES: dict[str, tuple[Need, ...]] = {
    "args_get": (), "args_sizes_get": (), "environ_get": (), "environ_sizes_get": (),
    "clock_res_get": (), "clock_time_get": (),
    "fd_advise": (Need(R.FD_ADVISE),),
    "fd_allocate": (Need(R.FD_ALLOCATE),),
    "fd_close": (),
    "fd_datasync": (Need(R.FD_DATASYNC),),
    "fd_fdstat_get": (),
    "fd_fdstat_set_flags": (Need(R.FD_FDSTAT_SET_FLAGS),),
    "fd_fdstat_set_rights": (),
    "fd_filestat_get": (Need(R.FD_FILESTAT_GET),),
    "fd_filestat_set_size": (Need(R.FD_FILESTAT_SET_SIZE),),
    "fd_filestat_set_times": (Need(R.FD_FILESTAT_SET_TIMES),),
    "fd_pread": (Need(R.FD_READ), Need(R.FD_SEEK)),
    "fd_prestat_get": (), "fd_prestat_dir_name": (),
    "fd_pwrite": (Need(R.FD_WRITE), Need(R.FD_SEEK)),
    "fd_read": (Need(R.FD_READ),),
    "fd_readdir": (Need(R.FD_READDIR),),
    "fd_renumber": (),
    "fd_seek": (Need(R.FD_SEEK, when="moves"), Need(R.FD_TELL, when="query")),
    "fd_sync": (Need(R.FD_SYNC),),
    "fd_tell": (Need(R.FD_TELL),),
    "fd_write": (Need(R.FD_WRITE),),
    "path_create_directory": (Need(R.PATH_CREATE_DIRECTORY),),
    "path_filestat_get": (Need(R.PATH_FILESTAT_GET),),
    "path_filestat_set_times": (Need(R.PATH_FILESTAT_SET_TIMES),),
    "path_link": (Need(R.PATH_LINK_SOURCE, OLD_FD), Need(R.PATH_LINK_TARGET, NEW_FD)),
    "path_open": (
        Need(R.PATH_OPEN),
        Need(R.PATH_CREATE_FILE, when="creat"),
        Need(R.PATH_FILESTAT_SET_SIZE, when="trunc"),
        Need(R.FD_DATASYNC, when="dsync", rights=INHERITING),
        Need(R.FD_SYNC, when="sync", rights=INHERITING),
    ),
    "path_readlink": (Need(R.PATH_READLINK),),
    "path_remove_directory": (Need(R.PATH_REMOVE_DIRECTORY),),
    "path_rename": (Need(R.PATH_RENAME_SOURCE, FD), Need(R.PATH_RENAME_TARGET, NEW_FD)),
    "path_symlink": (Need(R.PATH_SYMLINK),),
    "path_unlink_file": (Need(R.PATH_UNLINK_FILE),),
    "poll_oneoff": (
        Need(R.POLL_FD_READWRITE, SUBSCRIBED),
        Need(R.FD_READ, SUBSCRIBED, when="read"),
        Need(R.FD_WRITE, SUBSCRIBED, when="write"),
    ),
    "proc_exit": (), "proc_raise": (), "sched_yield": (), "random_get": (),
    "sock_accept": (Need(R.SOCK_ACCEPT),),
    "sock_recv": (Need(R.FD_READ),),
    "sock_send": (Need(R.FD_WRITE),),
    "sock_shutdown": (Need(R.SOCK_SHUTDOWN),),
    "socket": (), "sock_connect": (),
}
assert REQUIRES.keys() == SIGNATURES.keys(), "every call has a row"


@functools.lru_cache(maxsize=None)
def need(call: str, arg: str = FD, *conditions: str, rights: str = BASE) -> int:
    """The rights `call` needs in the `rights` set of descriptor argument `arg`, given the
    conditions that hold (cached: handlers ask on every call)."""
    out = 0
    for n in REQUIRES[call]:
        if n.arg == arg and n.rights == rights and (n.when is None or n.when in conditions):
            out |= n.right
    return out


def preopen_rights(read_only: bool) -> tuple[int, int]:
    """(base, inheriting) a preopened directory is granted: every directory right, and every
    directory and file right to pass on; read-only, only the rights that change nothing."""
    if read_only:
        return DIR_RIGHTS_READONLY, DIR_RIGHTS_READONLY | FILE_RIGHTS_READONLY
    return DIR_RIGHTS, DIR_RIGHTS | FILE_RIGHTS


def open_conditions(oflags: int, fdflags: int) -> tuple[str, ...]:
    """Which of path_open's conditional rights apply to these flags."""
    return tuple(name for name, holds in (
        ("creat", oflags & Oflags.CREAT),
        ("trunc", oflags & Oflags.TRUNC),
        ("dsync", fdflags & Fdflags.DSYNC),
        ("sync", fdflags & (Fdflags.RSYNC | Fdflags.SYNC)),
    ) if holds)


def seek_condition(offset: int, whence: int) -> str:
    """fd_seek by nothing from the current position only asks where it is."""
    return "query" if offset == 0 and whence == Whence.CUR else "moves"


def subscription_condition(tag: int) -> str:
    """A poll subscription waits for reading or for writing."""
    return "read" if tag == Eventtype.FD_READ else "write"
