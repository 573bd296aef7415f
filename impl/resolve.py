"""Manual path resolution, one component at a time, holding directories open, to enforce sandboxing.

After cap-std's `manually/open.rs`. A path given by the guest is not handed to the OS whole (but see
`open_at`): each component is looked up with `Host.openat(parent, name, DIRECTORY | PATH)` relative
to the directory handle reached so far (the host always adds O_NOFOLLOW and O_CLOEXEC), and the
handles of the directories entered are kept on a stack. `..` pops that stack -- it never asks the OS for `..` -- so
the walk can only go back to a directory it came through, and at the start directory `..` is the
escape. A symlink met on the way (the kernel refuses it under O_NOFOLLOW with ELOOP or ENOTDIR) is
read with `readlinkat` and its text walked here, from the directory holding the link. Because every
step is relative to an open handle and nothing is checked before it is used, a concurrent rename or
symlink swap can change *which* entry inside the sandbox a path names, never make it leave.

Rules (DESIGN §1.2 and §5; the abstract version is `vwasm.model.paths`):
- an absolute path, an absolute symlink text, and `..` above the start at any point are escapes:
  `escape()`, the one place that builds that error (ERRNO_PERM, as wasmtime);
- at most SYMLINK_BUDGET (40) symlink expansions per resolution, then ELOOP;
- a trailing slash requires a directory and always follows a final symlink; otherwise a final
  symlink is followed only when asked, and the final step is done with O_NOFOLLOW all the same;
- the empty path is ENOENT, a NUL byte EINVAL, PATH_MAX bytes or more ENAMETOOLONG.

One shortcut, three places: plain names (no `.`, `..`, empty component or leading slash) are
offered whole to a host that can resolve them beneath `start` refusing every symlink and escape
(PosixHost's openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) -- the whole path to open
(`open_at`: `open_beneath`) or stat (`lstat_at`: `stat_beneath`), or the directories before the
final name (`Resolver.enter_whole`: `dir_beneath`), which then reach exactly what this walk would.
A name found missing is final (the walk would miss it too); anything else refused is walked here
from the start.

Everything goes through the Host protocol (openat / readlinkat / close): this module does no I/O of
its own, so it runs unchanged over PosixHost and ModelHost.
"""
from __future__ import annotations

from vwasm.model.wasi import SYMLINK_BUDGET, Errno, WasiError

from .posix_host import Open  # noqa: F401  (the Host protocol's open flags; re-exported)

PATH_MAX = 4096  # bytes in a whole path, terminating NUL included (Linux's)


def escape() -> WasiError:
    """The one escape outcome: the path would leave the directory it is resolved from."""
    return WasiError(Errno.PERM)


def check_path(path: str) -> None:
    """Rules on the whole path, before any lookup."""
    # POSIX: the empty path names nothing.
    if path == "":
        raise WasiError(Errno.NOENT)
    # A NUL byte cannot reach the OS (wasmtime on Unix: EINVAL).
    if "\0" in path:
        raise WasiError(Errno.INVAL)
    # The OS limits a whole path to PATH_MAX bytes.
    if len(path.encode("utf-8", "surrogateescape")) >= PATH_MAX:
        raise WasiError(Errno.NAMETOOLONG)


def split(path: str) -> tuple[list[str], bool]:
    """The components of `path` in order ("/" first when absolute; empty ones dropped) and whether
    it ends in a slash."""
    parts = [c for c in path.split("/") if c]
    if path.startswith("/"):
        parts.insert(0, "/")
    return parts, path.endswith("/") and bool(path.strip("/"))


_SYMLINK_SIGNS = (Errno.LOOP, Errno.NOTDIR)  # what openat(..., O_NOFOLLOW) answers for a symlink
_NOT_PLAIN = frozenset(("", ".", "..", "/"))  # components that are no plain name


class Resolver:
    """The state of one resolution. Use as a context manager: the directories it holds are closed
    on exit (the start directory is the caller's and is never closed)."""

    __slots__ = ("host", "start", "stack", "todo", "follow", "dir_required", "trailing_slash",
                 "expansions")

    def __init__(self, host, start, path: str, follow: bool) -> None:
        check_path(path)
        parts, slash = split(path)
        self.host = host
        self.start = start  # the directory the path is relative to (borrowed)
        self.stack: list = []  # handles of the directories entered below `start`, innermost last
        self.todo = parts[::-1]  # the worklist of components still to walk, next one LAST
        self.follow = follow  # expand a symlink in the final position?
        self.dir_required = slash  # the final component must be a directory
        self.trailing_slash = slash  # the path as given ended in a slash
        self.expansions = 0  # symlinks expanded so far (budget: SYMLINK_BUDGET)

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        while self.stack:
            try:
                self.host.close(self.stack.pop())
            except WasiError:
                pass  # close(2) releases the descriptor even when it reports an error: nothing is held

    @property
    def base(self):
        """The directory the next component is looked up in."""
        return self.stack[-1] if self.stack else self.start

    # --- one method per component kind ------------------------------------------------------------
    def root(self) -> None:
        """`/` (an absolute path or symlink text): it would leave the start directory."""
        raise escape()

    def cur_dir(self) -> None:
        """`.`: stay where we are."""

    def parent_dir(self) -> None:
        """`..`: back to the directory we came from -- never above the start, whatever follows.

        Holding the parents open is what makes this right under concurrent moves: we return to the
        handle we came through, not to whatever `..` names now."""
        # With nothing held below the start, `..` would leave it.
        if not self.stack:
            raise escape()
        self.host.close(self.stack.pop())

    def normal(self, name: str) -> None:
        """A name in the middle of the path: enter it if it is a directory, expand it if a symlink."""
        try:
            handle = self.host.openat(self.base, name, Open.PATH | Open.DIRECTORY)
        except WasiError as e:
            if e.errno not in _SYMLINK_SIGNS or not self.expand_if_symlink(name):
                raise
            return
        self.stack.append(handle)

    def symlink(self, target: str) -> None:
        """Expand a symlink's text: its components are walked next, from the directory holding it."""
        # Bounded work: at most SYMLINK_BUDGET expansions per resolution.
        if self.expansions >= SYMLINK_BUDGET:
            raise WasiError(Errno.LOOP)
        self.expansions += 1
        # An empty link text names nothing.
        if target == "":
            raise WasiError(Errno.NOENT)
        parts, slash = split(target)
        # A trailing slash in the text of a *final* link asks for a directory, like one in the path.
        if slash and not self.todo:
            self.dir_required = True
        self.todo.extend(reversed(parts))

    def expand_if_symlink(self, name: str) -> bool:
        """If `name` in the current directory is a symlink, expand it (True); otherwise False."""
        try:
            target = self.host.readlinkat(self.base, name)
        except WasiError:
            return False
        self.symlink(target)
        return True

    # --- the walk ---------------------------------------------------------------------------------
    def enter_whole(self) -> None:
        """Enter the directories before the final name in one step, if every component is a plain
        name: a host that resolves plain names
        whole beneath the start, refusing any symlink or escape (PosixHost's openat2), enters what the
        walk would. A missing one is missing for the walk too (every symlink on the way was refused);
        any other refusal leaves them to the walk."""
        beneath = getattr(self.host, "dir_beneath", None)
        if beneath is None or not _NOT_PLAIN.isdisjoint(self.todo):
            return
        dirs = self.todo[:0:-1]
        try:
            handle = beneath(self.start, "/".join(dirs))
        except WasiError as e:
            if e.errno == Errno.NOENT:
                raise
            return
        self.stack.append(handle)
        del self.todo[1:]

    def walk(self) -> str:
        """Walk every component but the final one; return the final name (`.` when the path ends in
        `.` or `..`: it then names the current directory itself)."""
        # Two directories or more before a final name that will not be expanded (whose `..` would
        # need the directories one by one), not walked yet: in one step if they can be (one openat2
        # instead of two system calls each).
        if len(self.todo) > 2 and not (self.stack or self.expansions or self.follow or self.dir_required):
            self.enter_whole()
        while self.todo:
            c = self.todo.pop()
            if c == "/":
                self.root()
            elif c == ".":
                self.cur_dir()
            elif c == "..":
                self.parent_dir()
            elif not self.todo:
                return c
            else:
                self.normal(c)
        return "."

    def locate(self) -> tuple[object, str]:
        """(directory handle, final name): the final entry, a final symlink followed when asked (or
        when a slash requires a directory). The entry itself is not touched: the caller acts on it
        with an *at() call that never follows it. (Both are returned together because the walk moves
        `base`: read it only after the walk.)"""
        while True:
            name = self.walk()
            if name == "." or not (self.follow or self.dir_required) or not self.expand_if_symlink(name):
                return self.base, name

    def locate_entry(self) -> tuple[object, str]:
        """Like `locate`, for calls that act on a directory entry (unlink, rmdir, link, symlink,
        readlink, stat): as in cap-std, a path ending in a slash names the directory itself, as if it
        ended in `/.` -- so `d/` is the entry `.` of `d`, and `f/` for a non-directory is ENOTDIR."""
        base, name = self.locate()
        if name != "." and self.dir_required:
            self.stack.append(self.host.openat(base, name, Open.PATH | Open.DIRECTORY))
            return self.base, "."
        return base, name

    def open(self, flags: int, mode: int = 0o666):
        """Open the final component with `flags` (never following it in the kernel): (the new
        handle, its file type); a final symlink is expanded here when following was asked or a slash
        requires a directory."""
        while True:
            name = self.walk()
            # Creating with a trailing slash is refused before any lookup (Linux, and wasmtime).
            if self.dir_required and flags & Open.CREATE:
                raise WasiError(Errno.ISDIR)
            want = flags | Open.DIRECTORY if self.dir_required else flags
            try:
                return self.host.open_file(self.base, name, want, mode)
            except WasiError as e:
                if (name == "." or e.errno not in _SYMLINK_SIGNS or not (self.follow or self.dir_required)
                        or not self.expand_if_symlink(name)):
                    raise


def strip_trailing_slashes(path: str) -> tuple[str, bool]:
    """`a/b//` -> (`a/b`, True): mkdir and rename act on the entry itself, ignoring the slashes."""
    stripped = path.rstrip("/")
    if not stripped or stripped == path:
        return path, False
    return stripped, True


def plain_name(path: str) -> bool:
    """`path` is one plain component (no slash, not `.` or `..`, no NUL, well under PATH_MAX): the
    walk would be a single lookup from the start directory, with nothing to check before it."""
    return (0 < len(path) < PATH_MAX // 4 and "/" not in path and path != "." and path != ".."
            and "\0" not in path)


def plain_path(path: str) -> bool:
    """`path` is plain names joined by single slashes: no `.`, `..` or empty component (so no leading,
    trailing or double slash). (A NUL or a name too long is the host's to refuse, then the walk's.)"""
    return _NOT_PLAIN.isdisjoint(path.split("/"))


def lstat_at(host, start, path: str):
    """The Stat of the entry `path` names beneath directory `start`, a final symlink not followed."""
    # A plain name: the walk would hand this very name to fstatat.
    if plain_name(path):
        return host.fstatat(start, path)
    # Plain names through directories: resolved whole as in open_at (PosixHost's openat2), its
    # refusals and failures the walk's -- but a missing name, which the walk would miss too.
    if plain_path(path) and (beneath := getattr(host, "stat_beneath", None)) is not None:
        try:
            return beneath(start, path)
        except WasiError as e:
            if e.errno == Errno.NOENT:
                raise
    with Resolver(host, start, path, follow=False) as r:
        return host.fstatat(*r.locate_entry())


def open_at(host, start, path: str, flags: int, follow: bool, mode: int = 0o666):
    """A new handle for `path` beneath directory `start`, and its file type (see `Resolver.open`)."""
    # The common case, a plain name: `Resolver.open` would make exactly this one openat. Only a
    # symlink met there (to be followed) needs the walk, which then starts afresh.
    if plain_name(path):
        try:
            return host.open_file(start, path, flags, mode)
        except WasiError as e:
            if not follow or e.errno not in _SYMLINK_SIGNS:
                raise
    # Plain names through directories: a host that can resolve them whole beneath `start`, refusing
    # any symlink or escape (PosixHost's openat2), opens what the walk would. Every refusal and
    # failure is the walk's to decide, from the start -- but a missing name: with every symlink on
    # the way refused, the names before it are real directories, and the walk would miss it too.
    elif plain_path(path) and (beneath := getattr(host, "open_beneath", None)) is not None:
        try:
            return beneath(start, path, flags, mode)
        except WasiError as e:
            if e.errno == Errno.NOENT:
                raise
    with Resolver(host, start, path, follow) as r:
        return r.open(flags, mode)
