"""Planted bugs in path resolution (model and runtime), for the path-confinement obligations."""
from __future__ import annotations

from proofs.core import mutant, patch


@mutant("model_dotdot_at_root", breaks="2 filesystem isolation: `..` at the start is ignored, not an escape",
        killers=("paths.model",))
def model_dotdot_at_root():
    """Bug when `..` is met with nothing held: the walk stays at the start instead of escaping."""
    from vwasm.model import paths

    def parent_dir(self):
        if not self.dirs:
            return
        self.base = self.dirs.pop()
        self.names.pop()
    patch(paths._Walk, "parent_dir", parent_dir)


@mutant("model_budget_off_by_one", breaks="bounded work: 41 symlink expansions allowed",
        killers=("paths.model",))
def model_budget_off_by_one():
    """Bug when a resolution needs exactly 41 expansions: `>` instead of `>=`."""
    from vwasm.model import paths
    from vwasm.model.wasi import Errno, WasiError

    def symlink(self, link):
        if self.expansions > paths.SYMLINK_BUDGET:
            raise WasiError(Errno.LOOP)
        self.expansions += 1
        if link.target == "":
            raise WasiError(Errno.NOENT)
        parts, slash = paths.split(link.target)
        self.must_be_dir = self.must_be_dir or slash
        self.todo.extend(reversed(parts))
    patch(paths._Walk, "symlink", symlink)


@mutant("model_absolute_symlink_followed", breaks="2 filesystem isolation: an absolute link text is walked "
        "from the start (as if relative) instead of refused", killers=("paths.model",))
def model_absolute_symlink_followed():
    """Bug when a symlink's text is absolute: its leading `/` is dropped."""
    from vwasm.model import paths
    real_split = paths.split

    def symlink(self, link):
        from vwasm.model.wasi import Errno, WasiError
        if self.expansions >= paths.SYMLINK_BUDGET:
            raise WasiError(Errno.LOOP)
        self.expansions += 1
        parts, slash = real_split(link.target.lstrip("/") or ".")
        self.must_be_dir = self.must_be_dir or slash
        self.todo.extend(reversed(parts))
    patch(paths._Walk, "symlink", symlink)


@mutant("impl_dotdot_at_root", breaks="2 filesystem isolation: the runtime ignores `..` at the preopen",
        killers=("paths.impl",))
def impl_dotdot_at_root():
    """Bug when the stack is empty at `..`: the resolver stays put."""
    from vwasm import resolve

    def parent_dir(self):
        if self.stack:
            self.host.close(self.stack.pop())
    patch(resolve.Resolver, "parent_dir", parent_dir)


@mutant("impl_budget_off_by_one", breaks="bounded work: the runtime allows 41 expansions",
        killers=("paths.impl",))
def impl_budget_off_by_one():
    """Bug when a resolution needs exactly 41 expansions (chain0): `>` instead of `>=`."""
    from vwasm import resolve
    patch(resolve, "SYMLINK_BUDGET", resolve.SYMLINK_BUDGET + 1)


@mutant("impl_dotdot_asks_os", breaks="2 filesystem isolation: `..` is looked up by the kernel, so the walk "
        "can climb out of the preopen", killers=("paths.impl",))
def impl_dotdot_asks_os():
    """Bug when `..` is resolved with openat(base, "..") instead of popping the held stack."""
    from vwasm import resolve

    def parent_dir(self):
        self.stack.append(self.host.openat(self.base, "..", resolve.Open.PATH | resolve.Open.DIRECTORY))
    patch(resolve.Resolver, "parent_dir", parent_dir)


@mutant("impl_absolute_symlink_followed", breaks="2 filesystem isolation: the runtime walks an absolute "
        "link text from the current directory", killers=("paths.impl",))
def impl_absolute_symlink_followed():
    """Bug when a symlink's text is absolute: the resolver drops the leading `/`."""
    from vwasm import resolve
    real = resolve.Resolver.symlink

    def symlink(self, target):
        return real(self, target.lstrip("/") or ".")
    patch(resolve.Resolver, "symlink", symlink)


@mutant("openat2_unrestricted", breaks="2 filesystem isolation: a path of plain names is resolved by the kernel "
        "with nothing refused, so a symlink on the way leads out of the preopen",
        killers=("paths.impl",))
def openat2_unrestricted():
    """Bug in PosixHost's openat2: no RESOLVE_* flag (the open_how structs made afresh without them)."""
    from vwasm import posix_host
    patch(posix_host, "_RESOLVE", 0)
    posix_host._HOWS.clear()


@mutant("openat2_refusal_final", breaks="WASI semantics: a path of plain names through a symlink to a directory "
        "fails (ELOOP) where the walk would follow the link", killers=("refinement.stateful",))
def openat2_refusal_final():
    """Bug in the whole-path open: its refusal is answered instead of handing the path to the walk."""
    from vwasm import resolve
    from vwasm.syscalls import path as path_calls
    real = resolve.open_at

    def open_at(host, start, path, flags, follow, mode=0o666):
        if not resolve.plain_name(path) and resolve.plain_path(path) and hasattr(host, "open_beneath"):
            return host.open_beneath(start, path, flags, mode)
        return real(host, start, path, flags, follow, mode)
    patch(path_calls, "open_at", open_at)


@mutant("whole_path_open_unused", breaks="speed, as documented: a path of plain names through directories is walked "
        "a directory at a time (two system calls each) instead of opened whole", killers=("paths.impl",))
def whole_path_open_unused():
    """Bug in telling plain paths: a slash taken as something else than a separator."""
    from vwasm import resolve
    patch(resolve, "plain_path", lambda path: False)


@mutant("openat2_missing_walked", breaks="speed, as documented: a path of plain names whose last name is missing is "
        "walked a directory at a time after the whole-path open found it missing", killers=("paths.impl",))
def openat2_missing_walked():
    """Bug in the whole-path open's fall-back: a missing name handed to the walk like a refusal."""
    from vwasm import resolve
    real = resolve.open_at

    def open_at(host, start, path, flags, follow, mode=0o666):
        beneath = getattr(host, "open_beneath", None)
        if not resolve.plain_name(path) and resolve.plain_path(path) and beneath is not None:
            try:
                return beneath(start, path, flags, mode)
            except resolve.WasiError:
                with resolve.Resolver(host, start, path, follow) as r:
                    return r.open(flags, mode)
        return real(host, start, path, flags, follow, mode)
    patch(resolve, "open_at", open_at)


@mutant("stat_beneath_unrestricted", breaks="2 filesystem isolation: path_filestat_get of plain names follows "
        "symlinks on the way out of the preopen and reports what lies outside", killers=("paths.impl",))
def stat_beneath_unrestricted():
    """Bug in PosixHost's whole-path stat: fstatat(2) of the whole path, which the kernel resolves with
    nothing refused."""
    import os

    from vwasm import posix_host
    patch(posix_host.PosixHost, "stat_beneath",
          lambda self, dirh, path: posix_host.stat_of(self._at(os.stat, path, dir_fd=dirh, follow_symlinks=False)))


@mutant("stat_beneath_refusal_final", breaks="WASI semantics: path_filestat_get of plain names through a symlink to "
        "a directory fails (ELOOP) where the walk would follow the link", killers=("paths.impl",))
def stat_beneath_refusal_final():
    """Bug in the whole-path stat: its refusal is answered instead of handing the path to the walk."""
    from vwasm import resolve
    real = resolve.lstat_at

    def lstat_at(host, start, path):
        beneath = getattr(host, "stat_beneath", None)
        if not resolve.plain_name(path) and resolve.plain_path(path) and beneath is not None:
            return beneath(start, path)
        return real(host, start, path)
    patch(resolve, "lstat_at", lstat_at)


@mutant("stat_beneath_missing_walked", breaks="speed, as documented: path_filestat_get of plain names whose last "
        "name is missing walks a directory at a time after the whole-path lookup found it missing",
        killers=("paths.impl",))
def stat_beneath_missing_walked():
    """Bug in the whole-path stat's fall-back: a missing name handed to the walk like a refusal."""
    from vwasm import resolve
    real = resolve.lstat_at

    def lstat_at(host, start, path):
        beneath = getattr(host, "stat_beneath", None)
        if not resolve.plain_name(path) and resolve.plain_path(path) and beneath is not None:
            try:
                return beneath(start, path)
            except resolve.WasiError:
                pass
            with resolve.Resolver(host, start, path, follow=False) as r:
                return host.fstatat(*r.locate_entry())
        return real(host, start, path)
    patch(resolve, "lstat_at", lstat_at)


@mutant("dir_beneath_unrestricted", breaks="2 filesystem isolation: the directories before a final name are entered "
        "by the kernel with nothing refused, so a symlink among them leads out of the preopen (unlink, rename, "
        "mkdir ... act outside)", killers=("paths.impl",))
def dir_beneath_unrestricted():
    """Bug in PosixHost's whole-path directory lookup: openat(2) of the path, not openat2."""
    import os

    from vwasm import posix_host
    patch(posix_host.PosixHost, "dir_beneath", lambda self, dirh, path: self._at(
        os.open, path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dirh))


@mutant("enter_whole_refusal_final", breaks="WASI semantics: unlink, rename, mkdir ... of plain names through a "
        "symlink to a directory fail (ELOOP) where the walk would follow the link", killers=("paths.impl",))
def enter_whole_refusal_final():
    """Bug in entering the directories whole: a refusal is answered instead of handing them to the walk."""
    from vwasm import resolve

    def enter_whole(self):
        beneath = getattr(self.host, "dir_beneath", None)
        if beneath is None or not resolve._NOT_PLAIN.isdisjoint(self.todo):
            return
        self.stack.append(beneath(self.start, "/".join(self.todo[:0:-1])))  # what it refuses is raised
        del self.todo[1:]
    patch(resolve.Resolver, "enter_whole", enter_whole)


@mutant("enter_whole_before_expansion", breaks="WASI semantics: a final symlink followed after the directories "
        "were entered whole climbs `..` from the wrong directory (a/b/link -> ../x reaches x, not a/x)",
        killers=("paths.impl",))
def enter_whole_before_expansion():
    """Bug in choosing when to enter the directories whole: also when the final name may be expanded."""
    from vwasm import resolve
    real = resolve.Resolver.walk

    def walk(self):
        if len(self.todo) > 2 and not (self.stack or self.expansions):
            self.enter_whole()
        return real(self)
    patch(resolve.Resolver, "walk", walk)


@mutant("enter_whole_missing_walked", breaks="speed, as documented: after the directories before a final name "
        "were found missing in one lookup, they are walked one by one all the same", killers=("paths.impl",))
def enter_whole_missing_walked():
    """Bug in entering the directories whole: a missing one handed to the walk like a refusal."""
    from vwasm import resolve
    from vwasm.model.wasi import WasiError
    real = resolve.Resolver.enter_whole

    def enter_whole(self):
        try:
            real(self)
        except WasiError:
            pass
    patch(resolve.Resolver, "enter_whole", enter_whole)
