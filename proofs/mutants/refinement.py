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

    from vwasm import host
    real_open = os.open

    def open_follow(path, flags, *a, **kw):
        return real_open(path, flags & ~os.O_NOFOLLOW, *a, **kw)

    class OsProxy:
        def __getattr__(self, name):
            return open_follow if name == "open" else getattr(os, name)
    patch(host, "os", OsProxy())
