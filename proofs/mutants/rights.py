"""Planted rights bugs: a handler (runtime) or a transition (model) checking the wrong right, the
right on the wrong descriptor, or none; and a read-only preopen that passes on a writing right.
`refinement.rights` must catch each.

Handlers and transitions ask the table through the name `need` (and `open_conditions`,
`seek_condition`) of their own module; each mutant rebinds that name in one module so that one
call gets a wrong answer, as a slip in that handler would.
"""
from __future__ import annotations

from proofs.core import mutant, patch

KILLERS = ("refinement.rights",)


def _misread(module, call: str, wrong) -> None:
    """In `module`, `need(call, ...)` answers `wrong(real_need, arg, conditions, kw)` instead."""
    real = module.need

    def need(c, arg="fd", *conditions, **kw):
        if c == call:
            return wrong(real, arg, conditions, kw)
        return real(c, arg, *conditions, **kw)
    patch(module, "need", need)


def _source_on_both(real, arg, conditions, kw):
    return real("path_rename", "fd", *conditions, **kw)


@mutant("impl_rename_target_right", breaks="3 rights: path_rename checks the source right on the target "
        "directory", killers=KILLERS)
def impl_rename_target_right():
    """Bug in the runtime's path_rename: new_fd is checked for PATH_RENAME_SOURCE."""
    from vwasm.syscalls import path
    _misread(path, "path_rename", _source_on_both)


@mutant("model_rename_target_right", breaks="3 rights: the model's path_rename checks the source right on "
        "the target directory", killers=KILLERS)
def model_rename_target_right():
    """Bug in the model's path_rename: new_fd is checked for PATH_RENAME_SOURCE."""
    from vwasm.model import sandbox
    _misread(sandbox, "path_rename", _source_on_both)


@mutant("impl_link_source_on_target", breaks="3 rights: path_link checks PATH_LINK_SOURCE on both directories",
        killers=KILLERS)
def impl_link_source_on_target():
    """Bug in the runtime's path_link: the new directory is checked for the source right."""
    from vwasm.syscalls import path
    _misread(path, "path_link", lambda real, arg, cond, kw: real("path_link", "old_fd", *cond, **kw))


@mutant("impl_path_set_times_wrong_right", breaks="3 rights / read-only preopen: path_filestat_set_times "
        "checks PATH_FILESTAT_GET", killers=KILLERS)
def impl_path_set_times_wrong_right():
    """Bug in the runtime's path_filestat_set_times: it asks for the right to stat, not to set times."""
    from vwasm.syscalls import path
    _misread(path, "path_filestat_set_times", lambda real, arg, cond, kw: real("path_filestat_get", arg, **kw))


@mutant("model_path_set_times_wrong_right", breaks="3 rights: the model's path_filestat_set_times checks "
        "PATH_FILESTAT_GET", killers=KILLERS)
def model_path_set_times_wrong_right():
    """Bug in the model's path_filestat_set_times: it asks for the right to stat, not to set times."""
    from vwasm.model import sandbox
    _misread(sandbox, "path_filestat_set_times", lambda real, arg, cond, kw: real("path_filestat_get", arg, **kw))


@mutant("impl_fd_set_times_no_right", breaks="3 rights / read-only preopen: fd_filestat_set_times checks no "
        "right", killers=KILLERS)
def impl_fd_set_times_no_right():
    """Bug in the runtime's fd_filestat_set_times: any descriptor may set times."""
    from vwasm.syscalls import fd
    _misread(fd, "fd_filestat_set_times", lambda real, arg, cond, kw: 0)


@mutant("model_fd_set_times_no_right", breaks="3 rights: the model's fd_filestat_set_times checks no right",
        killers=KILLERS)
def model_fd_set_times_no_right():
    """Bug in the model's fd_filestat_set_times: any descriptor may set times."""
    from vwasm.model import sandbox
    _misread(sandbox, "fd_filestat_set_times", lambda real, arg, cond, kw: 0)


@mutant("impl_symlink_wrong_right", breaks="3 rights / read-only preopen: path_symlink checks PATH_READLINK",
        killers=KILLERS)
def impl_symlink_wrong_right():
    """Bug in the runtime's path_symlink: it asks for the right to read links, not to make them."""
    from vwasm.syscalls import path
    _misread(path, "path_symlink", lambda real, arg, cond, kw: real("path_readlink", arg, **kw))


@mutant("impl_open_trunc_unchecked", breaks="3 rights / read-only preopen: path_open with O_TRUNC does not "
        "need PATH_FILESTAT_SET_SIZE", killers=KILLERS)
def impl_open_trunc_unchecked():
    """Bug in the runtime's path_open: the conditions forget O_TRUNC."""
    from vwasm.syscalls import path
    real = path.open_conditions
    patch(path, "open_conditions", lambda oflags, fdflags: tuple(c for c in real(oflags, fdflags) if c != "trunc"))


@mutant("model_open_trunc_unchecked", breaks="3 rights: the model's path_open with O_TRUNC does not need "
        "PATH_FILESTAT_SET_SIZE", killers=KILLERS)
def model_open_trunc_unchecked():
    """Bug in the model's path_open: the conditions forget O_TRUNC."""
    from vwasm.model import sandbox
    real = sandbox.open_conditions
    patch(sandbox, "open_conditions", lambda oflags, fdflags: tuple(c for c in real(oflags, fdflags) if c != "trunc"))


@mutant("impl_seek_needs_only_tell", breaks="3 rights: fd_seek moves the offset with FD_TELL alone",
        killers=KILLERS)
def impl_seek_needs_only_tell():
    """Bug in the runtime's fd_seek: every seek is taken for a query of the offset."""
    from vwasm.syscalls import fd
    patch(fd, "seek_condition", lambda offset, whence: "query")


@mutant("model_seek_needs_only_tell", breaks="3 rights: the model's fd_seek moves the offset with FD_TELL alone",
        killers=KILLERS)
def model_seek_needs_only_tell():
    """Bug in the model's fd_seek: every seek is taken for a query of the offset."""
    from vwasm.model import sandbox
    patch(sandbox, "seek_condition", lambda offset, whence: "query")


@mutant("impl_poll_no_right", breaks="3 rights: poll_oneoff waits on a descriptor without checking its rights",
        killers=KILLERS)
def impl_poll_no_right():
    """Bug in the runtime's poll_oneoff: subscriptions are not checked."""
    from vwasm.syscalls import poll
    _misread(poll, "poll_oneoff", lambda real, arg, cond, kw: 0)


@mutant("impl_sock_send_no_right", breaks="3 rights: sock_send sends without FD_WRITE", killers=KILLERS)
def impl_sock_send_no_right():
    """Bug in the runtime's sock_send: no right is asked."""
    from vwasm.syscalls import sock
    _misread(sock, "sock_send", lambda real, arg, cond, kw: 0)


@mutant("impl_readonly_files_writable", breaks="3 rights / read-only preopen: files opened beneath a read-only "
        "preopen may be written", killers=KILLERS)
def impl_readonly_files_writable():
    """Bug in the runtime's grant: a read-only preopen passes FD_WRITE on to the files opened beneath it."""
    from vwasm import sandbox
    from vwasm.model.wasi import Rights
    real = sandbox.preopen_rights

    def preopen_rights(read_only):
        base, inheriting = real(read_only)
        return base, inheriting | (Rights.FD_WRITE if read_only else 0)
    patch(sandbox, "preopen_rights", preopen_rights)


@mutant("impl_open_sync_unchecked", breaks="3 rights: path_open with DSYNC/RSYNC/SYNC does not need the sync "
        "rights among the directory's inheriting rights", killers=KILLERS)
def impl_open_sync_unchecked():
    """Bug in the runtime's path_open: the conditions forget the sync fdflags."""
    from vwasm.syscalls import path
    real = path.open_conditions
    patch(path, "open_conditions",
          lambda oflags, fdflags: tuple(c for c in real(oflags, fdflags) if c not in ("dsync", "sync")))


@mutant("model_poll_ignores_direction", breaks="3 rights: the model's poll_oneoff waits on a descriptor without "
        "the right to read or write it (POLL_FD_READWRITE alone)", killers=KILLERS)
def model_poll_ignores_direction():
    """Bug in the model's poll_oneoff: a subscription's direction is not looked at."""
    from vwasm.model import sandbox
    patch(sandbox, "subscription_condition", lambda tag: "neither")


# --- the table itself: model and runtime agree on a wrong row; the witx facts catch it --------------
def _rewrite_row(call: str, rewrite) -> None:
    from vwasm.model import rights
    rights.REQUIRES[call] = tuple(rewrite(n) for n in rights.REQUIRES[call] if rewrite(n) is not None)
    rights.need.cache_clear()


@mutant("table_creat_needs_nothing", breaks="3 rights: the table forgets that O_CREAT needs PATH_CREATE_FILE "
        "(model and runtime alike)", killers=KILLERS)
def table_creat_needs_nothing():
    """Bug in the rights table: path_open's PATH_CREATE_FILE row is lost."""
    from vwasm.model.wasi import Rights
    _rewrite_row("path_open", lambda n: None if n.right == Rights.PATH_CREATE_FILE else n)


@mutant("table_rename_target_on_source", breaks="3 rights: the table puts PATH_RENAME_TARGET on the source "
        "directory (model and runtime alike)", killers=KILLERS)
def table_rename_target_on_source():
    """Bug in the rights table: path_rename's target right is asked of `fd`, not `new_fd`."""
    from vwasm.model.wasi import Rights
    _rewrite_row("path_rename", lambda n: n._replace(arg="fd") if n.right == Rights.PATH_RENAME_TARGET else n)


# --- checked too late: the effect happens, then ENOTCAPABLE ----------------------------------------
def _check_after_effect(call: str) -> None:
    """The runtime's handler for `call` does its work with the rights it lacks, then refuses."""
    from vwasm import syscalls
    from vwasm.model.rights import need
    from vwasm.model.wasi import Errno, WasiError
    real = syscalls.HANDLERS[call]

    def handler(cx, fd, *args):
        d = cx.fds.get(fd)
        saved, lacking = d.rights_base, need(call) & ~d.rights_base
        d.rights_base |= need(call)
        try:
            real(cx, fd, *args)
        finally:
            d.rights_base = saved
        if lacking:
            raise WasiError(Errno.NOTCAPABLE)
        return Errno.SUCCESS
    syscalls.HANDLERS[call] = handler


@mutant("impl_unlink_checks_after_effect", breaks="3 rights: path_unlink_file removes the entry, then answers "
        "ENOTCAPABLE", killers=KILLERS)
def impl_unlink_checks_after_effect():
    """Bug in the runtime's path_unlink_file: the right is checked after the unlink."""
    _check_after_effect("path_unlink_file")


@mutant("impl_send_checks_after_effect", breaks="3 rights: sock_send sends, then answers ENOTCAPABLE",
        killers=KILLERS)
def impl_send_checks_after_effect():
    """Bug in the runtime's sock_send: the right is checked after the bytes went out."""
    _check_after_effect("sock_send")


@mutant("dir_rights_useless_sync", breaks="3 rights: directories are granted FD_SYNC, which no call honours on a "
        "directory (fd_fdstat_get then promises what fd_sync refuses)", killers=("refinement.rights",))
def dir_rights_useless_sync():
    """Bug in the vocabulary: DIR_RIGHTS holds a right of the data calls, everywhere it is used."""
    import sys

    from vwasm.model.wasi import DIR_RIGHTS, Rights
    for module in [m for name, m in sys.modules.items() if name.startswith("vwasm") and m is not None]:
        if getattr(module, "DIR_RIGHTS", None) == DIR_RIGHTS:
            patch(module, "DIR_RIGHTS", DIR_RIGHTS | Rights.FD_SYNC)
