"""The abstract filesystem: directories, regular files, symlinks and hard links, as immutable values.

A `FileSystem` is a table of nodes keyed by inode number. A directory lists (name, inode) entries;
a file may be listed under several names (hard links); a directory has exactly one parent (its
`parent` inode, `None` for the root and for removed directories). Every operation is a pure
function returning a new `FileSystem` or raising `WasiError` -- no I/O happens here, except in
`FileSystem.from_host` at the bottom of this module, which builds a model from a real tree.

Timestamps are opaque integers supplied by the caller (`now`). Nodes no longer listed anywhere stay
in the table while something (an open descriptor) may still use them; `gc` drops the rest.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from typing import NoReturn, Optional, Union

from .wasi import Errno, Filetype, WasiError

NAME_MAX = 255  # bytes in one path component (Linux's NAME_MAX)
FILE_SIZE_LIMIT = 1 << 24  # the sandbox's per-file size quota: larger writes/truncations are EFBIG
ROOT = 1  # inode number of the root directory of every model filesystem


def fail(errno: Errno) -> NoReturn:
    """Refuse the operation with `errno`."""
    raise WasiError(errno)


# --- sorted (key, value) tuples: immutable maps with canonical equality ----------------------------
def pget(pairs: tuple, key):
    """The value for `key` in a sorted pair tuple, or None."""
    i = bisect.bisect_left(pairs, key, key=lambda p: p[0])
    if i < len(pairs) and pairs[i][0] == key:
        return pairs[i][1]
    return None


def pput(pairs: tuple, key, value) -> tuple:
    """`pairs` with `key` bound to `value` (replacing any old binding), still sorted."""
    i = bisect.bisect_left(pairs, key, key=lambda p: p[0])
    if i < len(pairs) and pairs[i][0] == key:
        return pairs[:i] + ((key, value),) + pairs[i + 1:]
    return pairs[:i] + ((key, value),) + pairs[i:]


def pdrop(pairs: tuple, key) -> tuple:
    """`pairs` without `key`."""
    i = bisect.bisect_left(pairs, key, key=lambda p: p[0])
    if i < len(pairs) and pairs[i][0] == key:
        return pairs[:i] + pairs[i + 1:]
    return pairs


# --- nodes -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dir:
    entries: tuple[tuple[str, int], ...] = ()  # (name, inode), sorted by name; never "." or ".."
    parent: Optional[int] = None  # the directory listing this one; None for the root or once removed
    atim: int = 0
    mtim: int = 0
    ctim: int = 0

    filetype = Filetype.DIRECTORY


@dataclass(frozen=True)
class File:
    data: bytes = b""  # the whole contents; size is len(data)
    atim: int = 0
    mtim: int = 0
    ctim: int = 0

    filetype = Filetype.REGULAR_FILE

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Symlink:
    target: str  # the link's text, never empty
    atim: int = 0
    mtim: int = 0
    ctim: int = 0

    filetype = Filetype.SYMBOLIC_LINK

    @property
    def size(self) -> int:
        return len(self.target.encode("utf-8", "surrogatepass"))


Node = Union[Dir, File, Symlink]


def node_size(node: Node) -> int:
    """st_size: bytes of a file, bytes of a link's text, 0 for a directory (ours are abstract)."""
    return 0 if isinstance(node, Dir) else node.size


def valid_name(name: str) -> bool:
    """A directory entry name: one component, not `.`/`..`, no `/` or NUL, at most NAME_MAX bytes."""
    return (
        name not in ("", ".", "..")
        and "/" not in name
        and "\0" not in name
        and len(name.encode("utf-8", "surrogatepass")) <= NAME_MAX
    )


@dataclass(frozen=True)
class FileSystem:
    nodes: tuple[tuple[int, Node], ...] = ((ROOT, Dir()),)  # sorted by inode number
    next_ino: int = ROOT + 1  # the inode number the next created node gets

    # --- reading ------------------------------------------------------------------------------------
    def node(self, ino: int) -> Node:
        """The node with inode number `ino` (which must exist)."""
        n = pget(self.nodes, ino)
        assert n is not None, f"no node {ino}"
        return n

    def has(self, ino: int) -> bool:
        return pget(self.nodes, ino) is not None

    def is_dir(self, ino: int) -> bool:
        return isinstance(pget(self.nodes, ino), Dir)

    def lookup(self, dir_ino: int, name: str) -> Optional[int]:
        """The inode `name` denotes in directory `dir_ino`, or None."""
        d = self.node(dir_ino)
        assert isinstance(d, Dir)
        return pget(d.entries, name)

    def listing(self, dir_ino: int) -> tuple[tuple[str, int], ...]:
        """The entries of a directory, sorted by name (`.` and `..` are not entries)."""
        d = self.node(dir_ino)
        assert isinstance(d, Dir)
        return d.entries

    def nlink(self, ino: int) -> int:
        """Link count: a directory counts its entry in its parent, its `.`, and each subdirectory's `..`."""
        n = self.node(ino)
        if isinstance(n, Dir):
            own = 2 if (n.parent is not None or ino == ROOT) else 0
            return own + sum(1 for _, c in n.entries if self.is_dir(c))
        return sum(1 for _, d in self.nodes if isinstance(d, Dir) for _, c in d.entries if c == ino)

    def alive(self, ino: int) -> bool:
        """A directory still in the tree: its parent chain reaches the root (not removed)."""
        seen = 0
        while ino != ROOT:
            n = pget(self.nodes, ino)
            if not isinstance(n, Dir) or n.parent is None or seen > len(self.nodes):
                return False
            ino, seen = n.parent, seen + 1
        return True

    def is_ancestor(self, anc: int, ino: int) -> bool:
        """Directory `anc` is `ino` or lies on `ino`'s parent chain."""
        seen = 0
        cur: Optional[int] = ino
        while cur is not None and seen <= len(self.nodes):
            if cur == anc:
                return True
            n = pget(self.nodes, cur)
            cur = n.parent if isinstance(n, Dir) else None
            seen += 1
        return False

    def reachable(self, start: int) -> frozenset[int]:
        """Inodes reachable from `start` by directory entries (symlinks are not followed)."""
        seen = {start}
        todo = [start]
        while todo:
            n = pget(self.nodes, todo.pop())
            if isinstance(n, Dir):
                for _, c in n.entries:
                    if c not in seen:
                        seen.add(c)
                        todo.append(c)
        return frozenset(seen)

    def read(self, ino: int, offset: int, n: int) -> bytes:
        """Up to `n` bytes of file `ino` from `offset` (empty at or past the end)."""
        f = self.node(ino)
        assert isinstance(f, File)
        return f.data[offset:offset + n] if offset < len(f.data) else b""

    # --- changing nodes -----------------------------------------------------------------------------
    def _set(self, ino: int, node: Node) -> FileSystem:
        return replace(self, nodes=pput(self.nodes, ino, node))

    def _touch_dir(self, dir_ino: int, entries: tuple, now: int) -> FileSystem:
        d = self.node(dir_ino)
        assert isinstance(d, Dir)
        return self._set(dir_ino, replace(d, entries=entries, mtim=now, ctim=now))

    def _new_entry(self, dir_ino: int, name: str, node: Node, now: int) -> tuple[FileSystem, int]:
        """Add a fresh node under `dir_ino` as `name`; the entry must not exist yet."""
        # A name is one component, as the resolver produced it.
        if not valid_name(name):
            fail(Errno.INVAL)
        # Nothing can be created in a directory that has been removed.
        if not self.alive(dir_ino):
            fail(Errno.NOENT)
        # An existing name is never replaced by a creation.
        if self.lookup(dir_ino, name) is not None:
            fail(Errno.EXIST)
        ino = self.next_ino
        fs = replace(self, next_ino=ino + 1, nodes=pput(self.nodes, ino, node))
        return fs._touch_dir(dir_ino, pput(fs.listing(dir_ino), name, ino), now), ino

    def create_file(self, dir_ino: int, name: str, now: int) -> tuple[FileSystem, int]:
        return self._new_entry(dir_ino, name, File(b"", now, now, now), now)

    def create_dir(self, dir_ino: int, name: str, now: int) -> tuple[FileSystem, int]:
        return self._new_entry(dir_ino, name, Dir((), dir_ino, now, now, now), now)

    def create_symlink(self, dir_ino: int, name: str, target: str, now: int) -> tuple[FileSystem, int]:
        # A link's text is never empty (POSIX symlink() refuses it).
        if target == "":
            fail(Errno.NOENT)
        return self._new_entry(dir_ino, name, Symlink(target, now, now, now), now)

    def link(self, dir_ino: int, name: str, ino: int, now: int) -> FileSystem:
        """A new name for an existing non-directory node (a hard link)."""
        # Directories have exactly one name.
        if self.is_dir(ino):
            fail(Errno.PERM)
        if not valid_name(name):
            fail(Errno.INVAL)
        if not self.alive(dir_ino):
            fail(Errno.NOENT)
        if self.lookup(dir_ino, name) is not None:
            fail(Errno.EXIST)
        fs = self._set(ino, replace(self.node(ino), ctim=now))
        return fs._touch_dir(dir_ino, pput(fs.listing(dir_ino), name, ino), now)

    def unlink(self, dir_ino: int, name: str, now: int) -> FileSystem:
        """Remove a non-directory entry; the node survives while other names or users remain."""
        ino = self.lookup(dir_ino, name)
        if ino is None:
            fail(Errno.NOENT)
        # Directories are removed with rmdir.
        if self.is_dir(ino):
            fail(Errno.ISDIR)
        fs = self._set(ino, replace(self.node(ino), ctim=now))
        return fs._touch_dir(dir_ino, pdrop(fs.listing(dir_ino), name), now)

    def rmdir(self, dir_ino: int, name: str, now: int) -> FileSystem:
        """Remove an empty directory entry."""
        ino = self.lookup(dir_ino, name)
        if ino is None:
            fail(Errno.NOENT)
        d = self.node(ino)
        # Only directories are removed by rmdir.
        if not isinstance(d, Dir):
            fail(Errno.NOTDIR)
        # A directory with entries would orphan them.
        if d.entries:
            fail(Errno.NOTEMPTY)
        fs = self._set(ino, replace(d, parent=None, ctim=now))
        return fs._touch_dir(dir_ino, pdrop(fs.listing(dir_ino), name), now)

    def rename(self, odir: int, oname: str, ndir: int, nname: str, now: int) -> FileSystem:
        """POSIX rename: move entry `odir/oname` to `ndir/nname`, replacing a compatible target."""
        src = self.lookup(odir, oname)
        if src is None:
            fail(Errno.NOENT)
        if not valid_name(nname):
            fail(Errno.INVAL)
        if not self.alive(ndir):
            fail(Errno.NOENT)
        dst = self.lookup(ndir, nname)
        # Two names of the same node: nothing to do (POSIX).
        if dst == src:
            return self
        src_is_dir = self.is_dir(src)
        # A directory cannot move into its own subtree.
        if src_is_dir and self.is_ancestor(src, ndir):
            fail(Errno.INVAL)
        # The target cannot be a directory the source lies in (Linux renameat2: "target should not
        # be an ancestor of source", ENOTEMPTY, before the type checks below).
        if dst is not None and self.is_dir(dst) and self.is_ancestor(dst, odir):
            fail(Errno.NOTEMPTY)
        if dst is not None:
            dst_is_dir = self.is_dir(dst)
            # A directory only replaces a directory.
            if src_is_dir and not dst_is_dir:
                fail(Errno.NOTDIR)
            # A non-directory never replaces a directory.
            if not src_is_dir and dst_is_dir:
                fail(Errno.ISDIR)
            # A directory replaces only an empty one.
            if dst_is_dir and self.listing(dst):
                fail(Errno.NOTEMPTY)
        fs = self
        if dst is not None:
            dn = fs.node(dst)
            fs = fs._set(dst, replace(dn, parent=None, ctim=now) if isinstance(dn, Dir) else replace(dn, ctim=now))
        fs = fs._touch_dir(odir, pdrop(fs.listing(odir), oname), now)
        fs = fs._touch_dir(ndir, pput(fs.listing(ndir), nname, src), now)
        sn = fs.node(src)
        return fs._set(src, replace(sn, parent=ndir, ctim=now) if isinstance(sn, Dir) else replace(sn, ctim=now))

    def truncate(self, ino: int, size: int, now: int) -> FileSystem:
        """Set a file's size, cutting or zero-filling."""
        f = self.node(ino)
        assert isinstance(f, File)
        # Sizes are bounded by the sandbox's quota.
        if size > FILE_SIZE_LIMIT:
            fail(Errno.FBIG)
        data = f.data[:size] + b"\0" * (size - len(f.data))
        return self._set(ino, replace(f, data=data, mtim=now, ctim=now))

    def write(self, ino: int, offset: int, data: bytes, now: int) -> FileSystem:
        """Write `data` at `offset`, zero-filling any hole."""
        f = self.node(ino)
        assert isinstance(f, File)
        if not data:
            return self
        # Files never grow past the sandbox's quota.
        if offset + len(data) > FILE_SIZE_LIMIT:
            fail(Errno.FBIG)
        old = f.data + b"\0" * max(0, offset - len(f.data))
        new = old[:offset] + data + old[offset + len(data):]
        return self._set(ino, replace(f, data=new, mtim=now, ctim=now))

    def set_times(self, ino: int, atim: Optional[int], mtim: Optional[int], now: int) -> FileSystem:
        """Set access/modification times (None: unchanged); the status-change time becomes `now`."""
        n = self.node(ino)
        return self._set(ino, replace(
            n,
            atim=n.atim if atim is None else atim,
            mtim=n.mtim if mtim is None else mtim,
            ctim=now,
        ))

    def gc(self, keep: frozenset[int]) -> FileSystem:
        """Drop nodes that are neither reachable from the root nor reachable from a kept node."""
        live: set[int] = set(self.reachable(ROOT))
        for k in keep:
            if self.has(k):
                live |= self.reachable(k)
        return replace(self, nodes=tuple(p for p in self.nodes if p[0] in live))

    # --- comparing with a real tree ------------------------------------------------------------------
    def snapshot(self, ino: int = ROOT) -> dict:
        """Canonical contents below directory `ino`: name -> ('dir', {...}) | ('file', bytes) | ('symlink', text)."""
        out: dict = {}
        for name, c in self.listing(ino):
            n = self.node(c)
            if isinstance(n, Dir):
                out[name] = ("dir", self.snapshot(c))
            elif isinstance(n, File):
                out[name] = ("file", n.data)
            else:
                out[name] = ("symlink", n.target)
        return out

    def wf(self) -> bool:
        """Well-formed: the root is a live directory; entries name existing nodes with valid names;
        every directory except the root is listed exactly once, by its parent; inode numbers are
        below `next_ino`."""
        root = pget(self.nodes, ROOT)
        if not isinstance(root, Dir) or root.parent is not None:
            return False
        listed_dirs: dict[int, int] = {}
        for ino, n in self.nodes:
            if ino >= self.next_ino or ino < ROOT:
                return False
            if isinstance(n, Symlink) and n.target == "":
                return False
            if not isinstance(n, Dir):
                continue
            names = [e[0] for e in n.entries]
            if names != sorted(set(names)):
                return False
            for name, c in n.entries:
                if not valid_name(name) or not self.has(c) or c == ROOT:
                    return False
                if self.is_dir(c):
                    if c in listed_dirs:
                        return False
                    listed_dirs[c] = ino
        for ino, n in self.nodes:
            if isinstance(n, Dir) and ino != ROOT and listed_dirs.get(ino) != n.parent:
                return False
        return True

    # --- building from a real tree (the ONLY I/O in the model) --------------------------------------
    @staticmethod
    def from_host(path) -> FileSystem:
        """Read the real tree at `path` into a model whose root is `path`.

        Hard links to one host inode become one model node; timestamps are nanoseconds.
        Anything but directories, regular files and symlinks is refused with ValueError.
        This is the one function in the model that performs I/O.
        """
        import os
        import stat as st

        nodes: dict[int, Node] = {}
        by_host: dict[tuple[int, int], int] = {}
        counter = [ROOT]

        def times(s) -> dict:
            return {"atim": s.st_atime_ns, "mtim": s.st_mtime_ns, "ctim": s.st_ctime_ns}

        def visit(p: str, parent: Optional[int]) -> int:
            s = os.lstat(p)
            key = (s.st_dev, s.st_ino)
            if not st.S_ISDIR(s.st_mode) and key in by_host:
                return by_host[key]
            ino = counter[0]
            counter[0] += 1
            by_host[key] = ino
            if st.S_ISDIR(s.st_mode):
                nodes[ino] = Dir((), parent, **times(s))
                entries = tuple(sorted(
                    (e.name, visit(os.path.join(p, e.name), ino)) for e in os.scandir(p)
                ))
                nodes[ino] = replace(nodes[ino], entries=entries)
            elif st.S_ISREG(s.st_mode):
                with open(p, "rb") as fh:
                    nodes[ino] = File(fh.read(), **times(s))
            elif st.S_ISLNK(s.st_mode):
                nodes[ino] = Symlink(os.readlink(p), **times(s))
            else:
                raise ValueError(f"unsupported file type at {p!r}")
            return ino

        root = visit(os.fspath(path), None)
        assert root == ROOT
        return FileSystem(tuple(sorted(nodes.items())), counter[0])
