"""Abstract path resolution: one component at a time from a directory, symlinks expanded by hand.

This is the rule the runtime's resolver must refine (cap-std's manual resolver, in the abstract):
a small walk state -- the stack of directories held below the start, the worklist of components
still to walk, whether symlinks in the last position are followed, whether a directory is
required -- and one function per component kind (`.`, `..`, a name, a symlink's text).

- `..` never goes above the starting directory, at any point: `a/../../box/a` fails even when
  it would name something inside. Absolute paths and absolute symlink texts are refused too.
  All three are *escapes*, and `escape()` is the one function that builds that outcome (EPERM).
- A relative symlink's text is walked from the directory that holds the link.
- At most SYMLINK_BUDGET (40) expansions per resolution, then ELOOP.
- A trailing slash requires a directory and always follows a final symlink; not following
  (no SYMLINK_FOLLOW, O_NOFOLLOW) concerns the last component only.
- The empty path is ENOENT, a NUL byte EINVAL (as wasmtime on Unix), invalid UTF-8 EILSEQ.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import icontract

from .fs import NAME_MAX, Dir, FileSystem, Symlink
from .wasi import SYMLINK_BUDGET, Errno, WasiError

PATH_MAX = 4096  # bytes in a whole path, terminating NUL included (Linux's PATH_MAX)


def escape() -> WasiError:
    """The escape outcome: the path would leave the directory it is resolved from. The only place."""
    return WasiError(Errno.PERM)


def decode_path(raw: bytes) -> str:
    """Guest path bytes to the model's `str`; a path must be UTF-8 (wasmtime: EILSEQ otherwise)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WasiError(Errno.ILSEQ) from None


def check_path(path: str) -> None:
    """Rules on the whole path, before any lookup."""
    # POSIX: the empty path names nothing.
    if path == "":
        raise WasiError(Errno.NOENT)
    # A NUL byte cannot reach the OS (wasmtime on Unix: EINVAL).
    if "\0" in path:
        raise WasiError(Errno.INVAL)
    # The OS limits a whole path to PATH_MAX bytes.
    if len(path.encode("utf-8", "surrogatepass")) >= PATH_MAX:
        raise WasiError(Errno.NAMETOOLONG)


def split(path: str) -> tuple[list[str], bool]:
    """Components of `path` in order ("/" first if absolute; empty components dropped) and
    whether it ends in a slash."""
    parts = [c for c in path.split("/") if c != ""]
    if path.startswith("/"):
        parts.insert(0, "/")
    return parts, path.endswith("/") and path.strip("/") != ""


def strip_trailing_slashes(path: str) -> str:
    """`a/b//` -> `a/b` (path_create_directory and path_rename ignore trailing slashes)."""
    stripped = path.rstrip("/")
    return stripped if stripped else path


def check_name(name: str) -> None:
    """Rules on one component."""
    # One component is at most NAME_MAX bytes.
    if len(name.encode("utf-8", "surrogatepass")) > NAME_MAX:
        raise WasiError(Errno.NAMETOOLONG)


def beneath(relpath: str) -> bool:
    """A canonical relative path: no leading slash, no empty, `.` or `..` component, no NUL."""
    if relpath == "":
        return True
    return (
        not relpath.startswith("/")
        and "\0" not in relpath
        and all(c not in ("", ".", "..") for c in relpath.split("/"))
    )


@dataclass(frozen=True)
class Resolution:
    """Where a path leads: the entry `name` in directory `parent`, denoting `node` (None: no such
    entry yet). When the path ends in `.`, `..` (or, for `resolve_entry`, a slash) it names a
    directory itself: then `name` is "." and `node` is `parent`."""

    parent: int
    name: str
    node: Optional[int]
    dirs: tuple[int, ...]  # the directories held, start first, `parent` last
    names: tuple[str, ...]  # the canonical names from the start to `parent`
    must_be_dir: bool  # a trailing slash (in the path or a symlink text) asked for a directory
    expansions: int  # symlinks expanded

    @property
    def relpath(self) -> str:
        """The canonical path from the start: names only, never `.`, `..` or a leading slash."""
        return "/".join(self.names + (() if self.name == "." else (self.name,)))


@dataclass
class _Walk:
    """The resolution state. Mutable, but private to one `resolve` call."""

    fs: FileSystem
    base: int  # the directory the next component is looked up in
    follow: bool  # expand a symlink in the last position?
    todo: list[str]  # worklist, next component LAST
    must_be_dir: bool
    check_last: bool = True  # judge the final name's length here (False: the caller does, later)
    create: bool = False  # O_CREAT: a final name that must be a directory is not looked up
    dirs: list[int] = field(default_factory=list)  # held directories below `base` (its ancestors)
    names: list[str] = field(default_factory=list)  # names from the start to `base`
    expansions: int = 0

    def result(self, name: str, node: Optional[int]) -> Resolution:
        return Resolution(
            self.base, name, node, tuple(self.dirs) + (self.base,), tuple(self.names),
            self.must_be_dir, self.expansions,
        )

    def cur_dir(self) -> None:
        """`.`: stay where we are."""

    def parent_dir(self) -> None:
        """`..`: back to the directory we came from -- never above the start, whatever follows."""
        # With nothing held below us, `..` would leave the start directory.
        if not self.dirs:
            raise escape()
        self.base = self.dirs.pop()
        self.names.pop()

    def symlink(self, link: Symlink) -> None:
        """Expand a symlink: its components are walked next, from the directory holding it."""
        # Bounded work: at most SYMLINK_BUDGET expansions per resolution.
        if self.expansions >= SYMLINK_BUDGET:
            raise WasiError(Errno.LOOP)
        self.expansions += 1
        # An empty link text names nothing (cannot be created; refused if met).
        if link.target == "":
            raise WasiError(Errno.NOENT)
        parts, slash = split(link.target)
        # A trailing slash in the text of a *final* link asks for a directory, like one in the path
        # (in the middle of a path the components after the link follow it anyway: `l -> a/`, `l/g`).
        self.must_be_dir = self.must_be_dir or (slash and not self.todo)
        self.todo.extend(reversed(parts))

    def normal(self, name: str) -> Optional[Resolution]:
        """A name: descend, expand a symlink, or -- in the last position -- stop here."""
        last = not self.todo
        if not last or self.check_last:
            check_name(name)
        # Linux: creating with a trailing slash (in the path or in a final link's text) never looks
        # the last name up; the caller refuses it (EISDIR), whatever the name is.
        if last and self.must_be_dir and self.create:
            return self.result(name, None)
        child = self.fs.lookup(self.base, name)
        if child is None:
            # A missing last component is reported to the caller (it may create it).
            if last:
                return self.result(name, None)
            raise WasiError(Errno.NOENT)
        node = self.fs.node(child)
        # A symlink is expanded unless it is last, unfollowed, and no slash follows it.
        if isinstance(node, Symlink) and (not last or self.follow or self.must_be_dir):
            self.symlink(node)
            return None
        if last:
            # A trailing slash requires a directory.
            if self.must_be_dir and not isinstance(node, Dir):
                raise WasiError(Errno.NOTDIR)
            return self.result(name, child)
        # Only directories have components below them.
        if not isinstance(node, Dir):
            raise WasiError(Errno.NOTDIR)
        self.dirs.append(self.base)
        self.names.append(name)
        self.base = child
        return None


@icontract.require(lambda fs, start: fs.wf() and fs.is_dir(start), "a well-formed tree, from a directory")
@icontract.ensure(lambda start, result: result.dirs[0] == start, "walked from the start")
@icontract.ensure(lambda result: beneath(result.relpath), "never above the start")
def resolve(fs: FileSystem, start: int, path: str, follow: bool, check_last: bool = True,
            create: bool = False) -> Resolution:
    """Resolve `path` from directory `start`. Refusals raise WasiError (EPERM exactly for an escape).
    `check_last=False` leaves the final name's length to the caller (a name too long to exist is
    then reported missing): rename and link judge it only after the source was found, as the
    kernel looks the two final names up in that order. `create` (path_open's O_CREAT): a final
    name that must be a directory is reported missing, not looked up.

    :raises WasiError: the path cannot be resolved
    """
    check_path(path)
    parts, slash = split(path)
    walk = _Walk(fs, start, follow, list(reversed(parts)), slash, check_last, create)
    while walk.todo:
        c = walk.todo.pop()
        if c == "/":
            # Absolute paths (and absolute symlink texts) would leave the start directory.
            raise escape()
        if c == ".":
            walk.cur_dir()
        elif c == "..":
            walk.parent_dir()
        else:
            r = walk.normal(c)
            if r is not None:
                return r
    # The path ended in `.` or `..`: it names the directory we are in.
    return walk.result(".", walk.base)


def resolve_entry(fs: FileSystem, start: int, path: str, check_last: bool = True) -> Resolution:
    """Resolve `path` to a directory entry without following a final symlink (unlink, rmdir,
    rename, link/symlink targets, readlink, mkdir). As in cap-std, a path with a trailing slash
    names the directory itself, as if it ended in `/.` (so `dir/` is the entry "." of `dir`)."""
    r = resolve(fs, start, path, False, check_last)
    if r.name != "." and r.must_be_dir:
        # `x/` with no x: nothing to name.
        if r.node is None:
            raise WasiError(Errno.NOENT)
        return Resolution(
            r.node, ".", r.node, r.dirs + (r.node,), r.names + (r.name,), True, r.expansions,
        )
    return r
