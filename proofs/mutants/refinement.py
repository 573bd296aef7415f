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
    from dataclasses import replace

    from vwasm.model import fdtable

    def renumber(self, frm, to):
        d = self.get(frm)
        self.get(to)  # both must be open (EBADF otherwise), as the real rule
        return replace(self, entries=fdtable.pput(self.entries, to, d))
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


# --- the stateful machine: host descriptors, the table, boundaries, outputs --------------------------
def _handler(area, name: str, fn) -> None:
    """Plant `fn` as handler `name` (the module attribute and the dispatch table)."""
    from vwasm import syscalls
    patch(area, name, fn)
    syscalls.HANDLERS[name] = fn


@mutant("fd_close_keeps_host_handle", breaks="6 bounded resources: fd_close forgets the number but never closes "
        "the host descriptor", killers=("refinement.stateful", "host.posix_vs_model"))
def fd_close_keeps_host_handle():
    """Bug when a descriptor is closed: the table entry goes, the OS fd stays open."""
    from vwasm.model.wasi import Errno
    from vwasm.syscalls import fd

    def fd_close(cx, n):
        cx.fds.remove(n)
        return Errno.SUCCESS
    _handler(fd, "fd_close", fd_close)


@mutant("resolve_dotdot_leaks_handle", breaks="6 bounded resources: each `..` step of a path leaks the host "
        "descriptor of the directory it leaves", killers=("refinement.stateful", "host.posix_vs_model"))
def resolve_dotdot_leaks_handle():
    """Bug in resolve.py: `..` pops the directory off the stack without closing it."""
    from vwasm import resolve

    def parent_dir(self):
        if not self.stack:
            raise resolve.escape()
        self.stack.pop()
    patch(resolve.Resolver, "parent_dir", parent_dir)


@mutant("renumber_self_closes", breaks="3 descriptor isolation: fd_renumber(x, x) closes x's host handle and "
        "keeps the dead number", killers=("refinement.stateful", "host.posix_vs_model"))
def renumber_self_closes():
    """Bug in the runtime's table: renumbering onto itself reports x as displaced (its handle is closed)."""
    from vwasm.fdtable import FdTable
    real = FdTable.renumber

    def renumber(self, src, dst):
        displaced = real(self, src, dst)
        return self._fds[dst] if src == dst else displaced
    patch(FdTable, "renumber", renumber)


@mutant("renumber_view_stale", breaks="3 descriptor isolation: after fd_renumber, the C entries still see the "
        "moved file under its old number (fd_seek moves a host fd the guest no longer names)",
        killers=("host.posix_vs_model",))
def renumber_view_stale():
    """Bug in the runtime's table: renumbering shows C the new number, not the freed one."""
    from vwasm.fdtable import WORDS, FdTable
    real = FdTable.renumber

    def renumber(self, src, dst):
        at = WORDS * src
        old = self._words[at:at + WORDS].tolist() if src < self.files.count else None
        displaced = real(self, src, dst)
        if old and src != dst:
            self._words[at], self._words[at + 1], self._words[at + 2] = old
        return displaced
    patch(FdTable, "renumber", renumber)


@mutant("set_rights_view_stale", breaks="3 rights only shrink: after fd_fdstat_set_rights, the C entries still "
        "see the rights dropped (fd_seek moves a file that may no longer seek)",
        killers=("host.posix_vs_model",))
def set_rights_view_stale():
    """Bug in the runtime's table: narrowing a descriptor's rights does not show C the new ones."""
    from vwasm.fdtable import FdTable
    patch(FdTable, "set_rights", lambda self, fd, base, inheriting: self.narrow(self.get(fd), base, inheriting))


@mutant("view_growth_loses_files", breaks="3 descriptor isolation: when a table's view grows (a file at number 16, "
        "32, ...), C reads every lower number as host fd 0 with no rights, whatever the guest holds there",
        killers=("host.files_view",))
def view_growth_loses_files():
    """Bug in growing the view: the new storage does not take the old numbers' words (left zero)."""
    from vwasm.fdtable import FdTable
    real = FdTable._grow

    def grow(self, count):
        kept = len(self._words)
        real(self, count)
        self._words[:kept] = memoryview(bytes(8 * kept)).cast("q")
    patch(FdTable, "_grow", grow)


@mutant("posix_read_position_kept", breaks="WASI semantics: a read of a file whose position PosixHost keeps does "
        "not move the position (the same bytes are read again)", killers=("host.posix_vs_model",))
def posix_read_position_kept():
    """Bug in PosixHost.readv: preadv at the position, and the position left as it was."""
    import os

    from vwasm import posix_host
    real = posix_host.PosixHost.readv

    def readv(self, h, bufs):
        at = posix_host._position(h) if type(h) is int else 0
        return os.preadv(h, bufs, ~at) if at < 0 else real(self, h, bufs)
    patch(posix_host.PosixHost, "readv", readv)


@mutant("posix_append_position_kept", breaks="WASI semantics: a file entering append mode keeps its position in "
        "PosixHost, so reads and tell then use the kernel's stale offset", killers=("host.posix_vs_model",))
def posix_append_position_kept():
    """Bug in PosixHost.set_status_flags: the position is not handed to the kernel on entering append mode."""
    import fcntl
    import os

    from vwasm import posix_host

    def set_status_flags(self, h, append, nonblock):
        if type(h) is not int:
            return
        flags = fcntl.fcntl(h, fcntl.F_GETFL) & ~(os.O_APPEND | os.O_NONBLOCK)
        fcntl.fcntl(h, fcntl.F_SETFL, flags | (os.O_APPEND if append else 0) | (os.O_NONBLOCK if nonblock else 0))
        at = posix_host._position(h)
        if at < 0 and append:
            posix_host.POSITIONS[h] = posix_host.APPENDING
        elif at == posix_host.APPENDING and not append:
            posix_host.POSITIONS[h] = ~os.lseek(h, 0, os.SEEK_CUR)
    patch(posix_host.PosixHost, "set_status_flags", set_status_flags)


@mutant("posix_close_keeps_position", breaks="WASI semantics: a closed file's position word outlives it, so a "
        "socket or stream later given the same host fd is read and written with preadv/pwritev (ESPIPE)", killers=("host.posix_vs_model",))
def posix_close_keeps_position():
    """Bug in PosixHost.close: the fd's position word is not cleared."""
    import os

    from vwasm import posix_host
    patch(posix_host.PosixHost, "close", lambda self, h: os.close(h) if type(h) is int else None)


@mutant("table_fills_hole_wrongly", breaks="3 descriptor isolation: a new descriptor goes after the highest "
        "number, not into the lowest hole", killers=("refinement.stateful", "host.posix_vs_model"))
def table_fills_hole_wrongly():
    """Bug in the runtime's table: `add` appends past the highest number in use."""
    from vwasm.fdtable import FdTable
    from vwasm.model.wasi import Errno, WasiError

    def add(self, desc):
        if self.full():
            raise WasiError(Errno.MFILE)
        fd = max(self._fds, default=-1) + 1
        self._fds[fd] = desc
        return fd
    patch(FdTable, "add", add)


@mutant("renumber_onto_unused", breaks="3 descriptor isolation: fd_renumber accepts a target number that names "
        "nothing (wasmtime: EBADF)", killers=("refinement.stateful",))
def renumber_onto_unused():
    """Bug in the runtime's table: `dst` need not be open."""
    from vwasm.fdtable import FdTable
    from vwasm.model.wasi import Errno, WasiError

    def renumber(self, src, dst):
        if src not in self._fds:
            raise WasiError(Errno.BADF)
        if src == dst:
            return None
        displaced = self._fds.get(dst)
        self._fds[dst] = self._fds.pop(src)
        return displaced
    patch(FdTable, "renumber", renumber)


@mutant("rename_new_path_in_old_dir", breaks="2 filesystem isolation: path_rename resolves its new path from the "
        "old path's directory", killers=("refinement.stateful",))
def rename_new_path_in_old_dir():
    """Bug in path_rename: the new name is looked up beneath `fd`, not `new_fd`."""
    from vwasm.syscalls import path
    real = path.path_rename

    def path_rename(cx, fd, op, ol, new_fd, np, nl):
        cx.fds.get(new_fd)
        return real(cx, fd, op, ol, fd, np, nl)
    _handler(path, "path_rename", path_rename)


@mutant("posix_component_255_refused", breaks="file names: PosixHost refuses a component of exactly NAME_MAX "
        "(255) bytes", killers=("host.posix_vs_model",))
def posix_component_255_refused():
    """Bug in the trusted layer: a component's limit checked with >= instead of >."""
    from vwasm import model_host, posix_host  # noqa: F401  (ModelHost keeps the real _component)
    from vwasm.model.wasi import Errno, WasiError
    real = posix_host._component

    def _component(name):
        if type(name) is str and len(name.encode()) >= 255:
            raise WasiError(Errno.NAMETOOLONG)
        return real(name)
    patch(posix_host, "_component", _component)


@mutant("path_max_accepted", breaks="2 filesystem isolation: the runtime accepts a path of PATH_MAX bytes (no "
        "room for the NUL)", killers=("refinement.stateful",))
def path_max_accepted():
    """Bug in resolve.check_path: `> PATH_MAX` instead of `>= PATH_MAX`."""
    from vwasm import resolve
    from vwasm.model.wasi import Errno, WasiError

    def check_path(path):
        if path == "":
            raise WasiError(Errno.NOENT)
        if "\0" in path:
            raise WasiError(Errno.INVAL)
        if len(path.encode("utf-8", "surrogateescape")) > resolve.PATH_MAX:
            raise WasiError(Errno.NAMETOOLONG)
    patch(resolve, "check_path", check_path)


@mutant("symlink_budget_plus_one", breaks="5 no hang: the runtime's resolver expands 41 symlinks, one past the "
        "budget", killers=("refinement.stateful",))
def symlink_budget_plus_one():
    """Bug in resolve.py: the budget compared with > instead of >=."""
    from vwasm import resolve
    from vwasm.model.wasi import Errno, WasiError

    def symlink(self, target):
        if self.expansions > resolve.SYMLINK_BUDGET:
            raise WasiError(Errno.LOOP)
        self.expansions += 1
        if target == "":
            raise WasiError(Errno.NOENT)
        parts, slash = resolve.split(target)
        if slash and not self.todo:
            self.dir_required = True
        self.todo.extend(reversed(parts))
    patch(resolve.Resolver, "symlink", symlink)


@mutant("prestat_name_overruns", breaks="1 memory isolation: fd_prestat_dir_name writes a NUL after the name, one "
        "byte past an exact buffer", killers=("refinement.stateful", "host.posix_vs_model"))
def prestat_name_overruns():
    """Bug in fd_prestat_dir_name: the name is written NUL-terminated."""
    from vwasm.model.wasi import Errno, WasiError
    from vwasm.syscalls import fd

    def fd_prestat_dir_name(cx, n, ptr, length):
        desc = cx.fds.get(n)
        if desc.preopen is None:
            raise WasiError(Errno.NOTDIR)
        name = desc.preopen.encode()
        if len(name) > length:
            raise WasiError(Errno.NAMETOOLONG)
        cx.mem.write(ptr, name + b"\0")
        return Errno.SUCCESS
    _handler(fd, "fd_prestat_dir_name", fd_prestat_dir_name)


@mutant("readlink_overruns", breaks="1 memory isolation: path_readlink writes the whole text even past buf_len",
        killers=("refinement.stateful", "host.posix_vs_model"))
def readlink_overruns():
    """Bug in path_readlink: the text is cut after it is written."""
    from vwasm.syscalls import path
    real = path.path_readlink

    def path_readlink(cx, fd, pp, pl, buf, buf_len, used):
        return real(cx, fd, pp, pl, buf, buf_len + 1, used)
    _handler(path, "path_readlink", path_readlink)


@mutant("pwrite_at_position", breaks="file integrity: fd_pwrite writes at the descriptor's position, ignoring its "
        "offset", killers=("refinement.stateful",))
def pwrite_at_position():
    """Bug in fd_pwrite: it becomes fd_write."""
    from vwasm.syscalls import fd

    def fd_pwrite(cx, n, iovs, iovs_len, offset, nwritten):
        return fd.fd_write(cx, n, iovs, iovs_len, nwritten)
    _handler(fd, "fd_pwrite", fd_pwrite)


@mutant("readonly_preopen_writable", breaks="2 filesystem isolation: a read-only preopen is granted the writable "
        "rights", killers=("refinement.stateful",))
def readonly_preopen_writable():
    """Bug in the runtime's start-up: the read-only flag of a preopen is ignored."""
    from vwasm import sandbox
    real = sandbox.Config.preopen_dir

    def preopen_dir(self, host_path, guest_path, *read_only, **how):
        return real(self, host_path, guest_path)  # writable, whatever was asked
    patch(sandbox.Config, "preopen_dir", preopen_dir)


@mutant("renumber_keeps_displaced_open", breaks="6 bounded resources: fd_renumber drops the displaced descriptor "
        "from the table without closing its host handle", killers=("refinement.stateful", "host.posix_vs_model"))
def renumber_keeps_displaced_open():
    """Bug in fd_renumber: the descriptor `to` named is forgotten, its OS fd left open."""
    from vwasm.model.wasi import Errno
    from vwasm.syscalls import fd

    def fd_renumber(cx, n, to):
        cx.fds.renumber(n, to)
        return Errno.SUCCESS
    _handler(fd, "fd_renumber", fd_renumber)


@mutant("seek_end_off_by_one", breaks="file integrity: fd_seek from the end lands one byte early",
        killers=("refinement.stateful",))
def seek_end_off_by_one():
    """Bug in fd_seek: whence END counts from size - 1."""
    from vwasm.syscalls import fd
    real = fd.fd_seek

    def fd_seek(cx, n, offset, whence, out):
        return real(cx, n, (offset - 1) % (1 << 64) if whence == 2 else offset, whence, out)
    _handler(fd, "fd_seek", fd_seek)


@mutant("open_trunc_ignored", breaks="file integrity: path_open with O_TRUNC leaves the file's bytes",
        killers=("refinement.stateful",))
def open_trunc_ignored():
    """Bug in path_open: the TRUNC bit of oflags is dropped."""
    from vwasm.syscalls import path
    real = path.path_open

    def path_open(cx, fd, dirflags, pp, pl, oflags, rb, ri, fdflags, fd_out):
        return real(cx, fd, dirflags, pp, pl, oflags & ~8, rb, ri, fdflags, fd_out)
    _handler(path, "path_open", path_open)


@mutant("poll_file_hangup_lost", breaks="poll_oneoff: a file read to its end is reported ready without the "
        "hang-up flag", killers=("refinement.stateful",))
def poll_file_hangup_lost():
    """Bug in poll_oneoff: the end-of-file check of a file subscription always says no."""
    from vwasm.syscalls import poll
    patch(poll, "_file_read_flags", lambda cx, desc: 0)


@mutant("set_flags_not_applied", breaks="file integrity: fd_fdstat_set_flags(APPEND) records the flag but never "
        "tells the host, so writes land at the position", killers=("refinement.stateful",))
def set_flags_not_applied():
    """Bug in fd_fdstat_set_flags: the host's status flags are left as they were."""
    from vwasm.model.wasi import Errno, Fdflags
    from vwasm.syscalls import fd
    real = fd.fd_fdstat_set_flags

    def fd_fdstat_set_flags(cx, n, flags):
        d = cx.fds.get(n)
        before = d.fdflags
        err = real(cx, n, flags)
        if err == Errno.SUCCESS:
            cx.host.set_status_flags(d.handle, bool(before & Fdflags.APPEND), bool(before & Fdflags.NONBLOCK))
        return err
    _handler(fd, "fd_fdstat_set_flags", fd_fdstat_set_flags)


@mutant("readdir_cookie_skips", breaks="fd_readdir: a non-zero cookie resumes one entry too far",
        killers=("refinement.stateful",))
def readdir_cookie_skips():
    """Bug in fd_readdir: the cookie is read as the index of the entry after the next."""
    from vwasm.syscalls import path
    real = path.fd_readdir

    def fd_readdir(cx, fd, buf, buf_len, cookie, used):
        return real(cx, fd, buf, buf_len, cookie + 1 if cookie else 0, used)
    _handler(path, "fd_readdir", fd_readdir)


@mutant("model_stdin_replayed", breaks="the specification: the model's fd_read of stdin hands out the same bytes "
        "again (stdin never consumed)", killers=("refinement.stateful",))
def model_stdin_replayed():
    """Bug in the model's fd_read: the state keeps all of stdin after a read."""
    import inspect
    from dataclasses import replace

    from vwasm.model import sandbox as sb
    from vwasm.model.effects import FdAccess
    body = inspect.unwrap(sb.fd_read)

    def fd_read(s, fd, iov_lens, incoming=b""):
        new, results = body(s, fd, iov_lens, incoming)
        return replace(new, stdin=s.stdin), results
    patch(sb, "fd_read", sb.spec(FdAccess)(fd_read))


@mutant("random_get_unfilled", breaks="1 WASI semantics: random_get returns success and leaves the buffer as it was",
        killers=("refinement.stateful",))
def random_get_unfilled():
    """Bug: the host's random bytes never reach the guest's buffer."""
    from vwasm import syscalls
    from vwasm.model.wasi import Errno
    from vwasm.syscalls import clock_random

    def random_get(cx, buf, length):
        cx.mem.slice(buf, length)
        return Errno.SUCCESS
    patch(clock_random, "random_get", random_get)
    syscalls.HANDLERS["random_get"] = random_get


@mutant("final_link_slash_ignored", breaks="1 WASI semantics: a final symlink whose text ends in `/` opens a "
        "file or creates through it", killers=("refinement.stateful",))
def final_link_slash_ignored():
    """Bug: the trailing slash of a link's text is dropped (`lfs -> f/` opens f)."""
    from vwasm import resolve
    from vwasm.model.wasi import SYMLINK_BUDGET, Errno, WasiError

    def symlink(self, target):
        if self.expansions >= SYMLINK_BUDGET:
            raise WasiError(Errno.LOOP)
        self.expansions += 1
        if target == "":
            raise WasiError(Errno.NOENT)
        parts, _slash = resolve.split(target)
        self.todo.extend(reversed(parts))
    patch(resolve.Resolver, "symlink", symlink)


@mutant("poll_deadline_misread", breaks="1 WASI semantics: poll_oneoff stops the guest at a deadline still "
        "far away", killers=("refinement.stateful",))
def poll_deadline_misread():
    """Bug: after its wait poll_oneoff reads the deadline in the wrong unit (µs for ns)."""
    from vwasm.limits import DeadlineReached
    from vwasm.syscalls import poll

    def check_deadline(cx, now):
        if now >= cx.deadline // 1000:
            raise DeadlineReached("timeout reached while waiting")
    patch(poll, "check_deadline", check_deadline)


@mutant("model_create_link_slash_looked_up", breaks="the specification: the model's path_open(O_CREAT) through a "
        "link whose text ends in `/` looks the last name up (ENOTDIR for a file; Linux: EISDIR)",
        killers=("refinement.stateful",))
def model_create_link_slash_looked_up():
    """Bug (the model's, found by the stateful machine): `create` not passed to the resolution."""
    from vwasm.model import sandbox as sb
    real = sb.resolve

    def resolve(fs, start, path, follow, check_last=True, create=False):
        return real(fs, start, path, follow, check_last)
    patch(sb, "resolve", resolve)


@mutant("model_rsync_settable", breaks="the specification: the model lets fd_fdstat_set_flags turn RSYNC on "
        "(only APPEND and NONBLOCK change after opening)", killers=("refinement.stateful",))
def model_rsync_settable():
    """Bug: the model's set of flags fixed at opening misses RSYNC."""
    from vwasm.model import sandbox as sb
    from vwasm.model.wasi import Fdflags
    patch(sb, "SYNC_FLAGS", Fdflags.DSYNC | Fdflags.SYNC)


@mutant("link_directory_exist", breaks="1 WASI semantics: a hard link to a directory is refused with EEXIST "
        "(Linux: EPERM) in the filesystem ModelHost and the model share", killers=("refinement.stateful",))
def link_directory_exist():
    """Bug: FileSystem.link's refusal of a directory names the wrong errno."""
    from vwasm.model import fs
    from vwasm.model.wasi import Errno, WasiError
    real = fs.FileSystem.link

    def link(self, dir_ino, name, ino, now):
        if self.is_dir(ino):
            raise WasiError(Errno.EXIST)
        return real(self, dir_ino, name, ino, now)
    patch(fs.FileSystem, "link", link)


@mutant("rename_onto_ancestor_exist", breaks="1 WASI semantics: path_rename onto a directory the source lies in "
        "answers EEXIST (Linux: ENOTEMPTY) in the filesystem ModelHost and the model share",
        killers=("refinement.stateful",))
def rename_onto_ancestor_exist():
    """Bug: FileSystem.rename's refusal of a target that holds the source names the wrong errno."""
    from vwasm.model import fs
    from vwasm.model.wasi import Errno, WasiError
    real = fs.FileSystem.rename

    def rename(self, odir, oname, ndir, nname, now):
        dst = self.lookup(ndir, nname)
        if dst is not None and self.is_dir(dst) and self.is_ancestor(dst, odir):
            raise WasiError(Errno.EXIST)
        return real(self, odir, oname, ndir, nname, now)
    patch(fs.FileSystem, "rename", rename)


@mutant("model_rename_long_name_accepted", breaks="boundaries: the model's path_rename accepts a new name of "
        "256 bytes (the runtime, like Linux, answers ENAMETOOLONG)", killers=("refinement.stateful",))
def model_rename_long_name_accepted():
    """Bug in the model: the new name's length is never judged."""
    from proofs.mutants.host_failures import rewrite
    from vwasm.model import sandbox
    rewrite(sandbox, "path_rename", "    check_name(dst.name)\n", "", handler=False)


@mutant("set_times_swapped", breaks="1 WASI semantics: fd_filestat_set_times and path_filestat_set_times store "
        "the access time as the modification time and the other way round", killers=("refinement.stateful",))
def set_times_swapped():
    """Bug in the runtime's fst_flags decoding: the two results come back in the wrong order."""
    from vwasm.syscalls import fd, path
    real = fd.new_times

    def new_times(atim, mtim, flags, now):
        a, m = real(atim, mtim, flags, now)
        return m, a
    patch(fd, "new_times", new_times)
    patch(path, "new_times", new_times)


@mutant("model_mtime_now_ignored", breaks="1 WASI semantics: the model's set_times treats MTIM_NOW as "
        "`unchanged` (the runtime sets the time to now)", killers=("refinement.stateful",))
def model_mtime_now_ignored():
    """Bug in the model's fst_flags decoding: only an explicit modification time is applied."""
    from proofs.mutants.host_failures import rewrite
    from vwasm.model import sandbox
    rewrite(sandbox, "_times", "s.realtime if fst & Fstflags.MTIM_NOW else None", "None", handler=False)
