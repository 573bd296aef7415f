"""Planted bugs for the bounded families: crosshair, the stateful machine, the host check."""
from __future__ import annotations

from proofs.core import mutant, patch


@mutant("crosshair_dotdot_at_root", breaks="2 filesystem isolation: model `..` at the start climbs to the "
        "parent of the start's first held name", killers=("refinement.crosshair",))
def crosshair_dotdot_at_root():
    """Bug when `..` is met with nothing held: the model records a `..` name instead of escaping."""
    from vwasm.model import paths

    def parent_dir(self):
        if not self.dirs:
            self.names.append("..")
            return
        self.base = self.dirs.pop()
        self.names.pop()
    patch(paths._Walk, "parent_dir", parent_dir)


@mutant("impl_open_rights_grow", breaks="3 rights only shrink: path_open ignores the parent's inheriting rights",
        killers=("refinement.stateful",))
def impl_open_rights_grow():
    """Bug when the parent's inheriting rights were narrowed: the runtime grants what was asked."""
    from vwasm.syscalls import path
    real = path.path_open

    def path_open(cx, fd, dirflags, pp, pl, oflags, rb, ri, fdflags, fd_out):
        parent = cx.fds.get(fd)
        saved = parent.rights_inheriting
        parent.rights_inheriting = (1 << 30) - 1
        try:
            return real(cx, fd, dirflags, pp, pl, oflags, rb, ri, fdflags, fd_out)
        finally:
            parent.rights_inheriting = saved
    patch(path, "path_open", path_open)
    from vwasm import syscalls
    syscalls.HANDLERS["path_open"] = path_open


@mutant("posix_openat_follows", breaks="2 filesystem isolation: PosixHost.openat without O_NOFOLLOW lets the "
        "kernel follow a final symlink", killers=("host.posix_vs_model",))
def posix_openat_follows():
    """Bug when the final component is a symlink: openat follows it in the kernel."""
    import os

    from vwasm import posix_host as host
    real_open = os.open

    def open_follow(path, flags, *a, **kw):
        return real_open(path, flags & ~os.O_NOFOLLOW, *a, **kw)

    class OsProxy:
        def __getattr__(self, name):
            return open_follow if name == "open" else getattr(os, name)
    patch(host, "os", OsProxy())


# --- crosshair over the sandbox transitions (model/scenarios.py harnesses) --------------------------
@mutant("model_open_follows_final_link", breaks="2 filesystem isolation: model path_open follows a final symlink "
        "without SYMLINK_FOLLOW (O_NOFOLLOW ignored)", killers=("refinement.crosshair.path_open",))
def model_open_follows_final_link():
    """Bug in the model's path_open: the lookup flags are read as if SYMLINK_FOLLOW were always set."""
    from vwasm.model import sandbox as sb
    from vwasm.model.effects import FdAccess, PathAccess
    from vwasm.model.wasi import Lookupflags
    body = sb.path_open.__wrapped__.__wrapped__  # the rule body under spec's call and icontract

    def path_open(s, fd, dirflags, path, oflags, rb, ri, fdflags):
        return body(s, fd, dirflags | Lookupflags.SYMLINK_FOLLOW, path, oflags, rb, ri, fdflags)
    patch(sb, "path_open", sb.spec(FdAccess, PathAccess)(path_open))


@mutant("model_renumber_keeps_source", breaks="descriptor table: model fd_renumber copies the descriptor and "
        "leaves `from` open (dup2 without close)", killers=("refinement.crosshair.fd_renumber",))
def model_renumber_keeps_source():
    """Bug in the model's descriptor table: renumber puts `from`'s descriptor at `to` but keeps `from`."""
    from vwasm.model import fdtable

    def renumber(self, frm, to):
        d = self.get(frm)
        self.get(to)  # both must be open (EBADF otherwise), as the real rule
        return fdtable.FdTable(fdtable.pput(self.entries, to, d))
    patch(fdtable.FdTable, "renumber", renumber)


@mutant("model_allocate_shrinks", breaks="file integrity: model fd_allocate cuts a longer file to offset + length",
        killers=("refinement.crosshair.fd_allocate",))
def model_allocate_shrinks():
    """Bug in the model's fd_allocate: the file is set to offset + length even when it is longer."""
    from vwasm.model import sandbox as sb
    from vwasm.model.effects import FdAccess
    from vwasm.model.fdtable import require_rights
    from vwasm.model.wasi import I64_MAX, Errno, Rights, WasiError

    def fd_allocate(s, fd, offset, length):
        d = sb._file(s, fd)
        require_rights(d, Rights.FD_ALLOCATE)
        if offset + length > I64_MAX:
            raise WasiError(Errno.FBIG)
        if length == 0:
            raise WasiError(Errno.INVAL)
        if not d.writable:
            raise WasiError(Errno.BADF)
        return sb._emit(sb._with_fs(s, s.fs.truncate(d.node, offset + length, s.realtime)), FdAccess(fd)), ()
    patch(sb, "fd_allocate", sb.spec(FdAccess)(fd_allocate))
