"""vwasm.resolve, rule by rule, over PosixHost on real temporary trees and over ModelHost on the
same trees read into the model (`FileSystem.from_host`): both hosts must give the same answers.

Layout of every test tree (`box` is the start directory, `canary` lies outside it):
    box/f                 "file f"
    box/a/                 a/b/ (dir), a/g "file g"
    box/la -> a            box/a/up -> ../f            box/ld -> a/   (trailing slash in the text)
    box/out -> ../canary   box/abs -> /etc             box/dang -> ../canary/new
    box/dang_in -> made    box/lf -> f/                box/loop1 -> loop2, box/loop2 -> loop1
    box/evil -> ../..      box/l -> evil/              box/c0 -> c1 -> ... -> c40 -> f (41 links)
    canary/secret "do not touch", canary/sub/x "x"
Escapes must be refused with ERRNO_PERM and leave the canary byte-for-byte unchanged.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from vwasm.model_host import ModelHost
from vwasm.posix_host import PosixHost
from vwasm.model.fs import ROOT, FileSystem
from vwasm.model.wasi import SYMLINK_BUDGET, Errno, Filetype, WasiError
from vwasm.resolve import Open, Resolver, open_at, strip_trailing_slashes

from difftest import snapshot

CHAIN = SYMLINK_BUDGET + 1  # c0 .. c40: 41 links to reach f


def build(root: Path) -> None:
    box, canary = root / "box", root / "canary"
    (box / "a" / "b").mkdir(parents=True)
    (canary / "sub").mkdir(parents=True)
    (box / "f").write_bytes(b"file f")
    (box / "a" / "g").write_bytes(b"file g")
    (canary / "secret").write_bytes(b"do not touch")
    (canary / "sub" / "x").write_bytes(b"x")
    links = {
        "la": "a", "a/up": "../f", "ld": "a/", "out": "../canary", "abs": "/etc",
        "dang": "../canary/new", "dang_in": "made", "lf": "f/", "loop1": "loop2", "loop2": "loop1",
        "evil": "../..", "l": "evil/", "outfile": "../canary/secret", "midout": "a/../../canary",
    }
    for i in range(CHAIN):
        links[f"c{i}"] = f"c{i + 1}" if i + 1 < CHAIN else "f"
    for name, target in links.items():
        os.symlink(target, box / name)


class World:
    """One host over the tree, with a way to name what a handle refers to."""

    def __init__(self, kind: str, root: Path) -> None:
        self.kind, self.root = kind, root
        build(root)
        self.canary_before = snapshot(root / "canary")
        if kind == "posix":
            self.host = PosixHost()
            self.start = self.host.open_preopen(str(root / "box"))
        else:
            self.host = ModelHost(FileSystem.from_host(root / "box"))
            self.start = self.host.open_preopen("box")

    def ident(self, handle) -> tuple:
        st = self.host.fstat(handle)
        return (st.dev, st.ino)

    def expected(self, rel: str) -> tuple:
        """The identity of box/<rel> (rel already free of symlinks)."""
        if self.kind == "posix":
            st = os.lstat(self.root / "box" / rel)
            return (st.st_dev, st.st_ino)
        ino = ROOT
        for part in [p for p in rel.split("/") if p]:
            ino = self.host.fs.lookup(ino, part)
        return (0, ino)

    def open(self, path: str, flags: int = Open.READ, follow: bool = True):
        """The handle `open_at` gives `path` (checked to come with the handle's own file type)."""
        handle, filetype = open_at(self.host, self.start, path, flags, follow)
        assert filetype == self.host.fstat(handle).filetype
        return handle

    def refused(self, path: str, errno: Errno, flags: int = Open.READ, follow: bool = True) -> None:
        with pytest.raises(WasiError) as e:
            h = self.open(path, flags, follow)
            self.host.close(h)
        assert e.value.errno == errno, f"{path!r}: {e.value.errno!r} != {errno!r}"
        self.canary_intact()

    def canary_intact(self) -> None:
        assert snapshot(self.root / "canary") == self.canary_before
        assert not (self.root / "canary" / "new").exists()

    def close(self) -> None:
        self.host.close(self.start)


@pytest.fixture(params=["posix", "model"])
def world(request, tmp_path):
    w = World(request.param, tmp_path)
    yield w
    w.close()


def opens_to(world: World, path: str, rel: str, **kw) -> None:
    h = world.open(path, **kw)
    try:
        assert world.ident(h) == world.expected(rel), f"{path!r} should open box/{rel}"
    finally:
        world.host.close(h)


# --- ordinary resolution ------------------------------------------------------------------------
@pytest.mark.parametrize("path,rel", [
    ("f", "f"), ("a/g", "a/g"), ("./f", "f"), ("a/./g", "a/g"), ("a/../f", "f"), ("a//g", "a/g"),
    ("a/b/../../f", "f"), (".", ""), ("a/..", ""), ("a/b/..", "a"), ("a/", "a"), ("a/b/", "a/b"),
    ("la/g", "a/g"), ("la", "a"), ("la/", "a"), ("a/up", "f"), ("ld/g", "a/g"), ("ld", "a"),
    (f"c{CHAIN - SYMLINK_BUDGET}", "f"),
])
def test_resolves_inside(world, path, rel):
    opens_to(world, path, rel)


def test_relative_symlink_is_walked_from_its_own_directory(world):
    # a/up -> ../f: ".." is relative to a (the link's directory), not to the start.
    opens_to(world, "a/up", "f")
    opens_to(world, "la/up", "f")


def test_dotdot_after_a_symlink_returns_through_the_link_target(world):
    # la -> a, so la/b/.. is a (physical, as the kernel), and la/.. is the start.
    opens_to(world, "la/b/..", "a")
    opens_to(world, "la/..", "")


def test_invalid_empty_path(world):
    world.refused("", Errno.NOENT)


def test_invalid_nul_byte(world):
    world.refused("f\0x", Errno.INVAL)


def test_invalid_path_too_long(world):
    world.refused("a/" * 2048 + "g", Errno.NAMETOOLONG)


def test_invalid_missing(world):
    world.refused("nope", Errno.NOENT)
    world.refused("nope/x", Errno.NOENT)


def test_invalid_through_a_file(world):
    world.refused("f/x", Errno.NOTDIR)


def test_trailing_slash_requires_a_directory(world):
    world.refused("f/", Errno.NOTDIR)
    world.refused("lf", Errno.NOTDIR)  # lf -> f/: the slash in the text asks for a directory too


def test_trailing_slash_in_a_middle_link_does_not_require_a_directory_at_the_end(world):
    # ld -> a/ in the middle of a path: the final g is a file and that is fine.
    opens_to(world, "ld/g", "a/g")


def test_final_symlink_not_followed_is_eloop(world):
    world.refused("la", Errno.LOOP, follow=False)
    world.refused("dang_in", Errno.LOOP, follow=False)


def test_trailing_slash_always_follows(world):
    opens_to(world, "la/", "a", follow=False)


def test_symlink_loops_end_in_eloop(world):
    world.refused("loop1", Errno.LOOP)
    world.refused("loop1/x", Errno.LOOP)


def test_budget_of_forty_expansions(world):
    opens_to(world, "c1", "f")  # 40 expansions: allowed
    world.refused("c0", Errno.LOOP)  # 41: refused


# --- escapes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/", "/etc/passwd", "//f", "..", "../canary/secret", "a/../..", "a/b/../../..",
    "a/../../box/f",  # leave and re-enter: refused although it names a file inside
    "./../box", "a/./../../box/a",
])
def test_invalid_escape_by_path(world, path):
    world.refused(path, Errno.PERM)
    world.refused(path, Errno.PERM, flags=Open.WRITE | Open.CREATE)


@pytest.mark.parametrize("path,follow", [
    ("out/secret", True), ("out/secret", False),  # host symlink to outside, in the middle
    ("out", True),  # ... at the end, followed
    ("outfile", True),
    ("abs", True), ("abs/passwd", False),  # absolute symlink text
    ("midout/secret", False),  # a/../../canary: .. above the start inside a symlink's text
    ("l/", False), ("l", True), ("l/secret", False),  # l -> evil/, evil -> ../..
    ("evil/canary/secret", False),
])
def test_invalid_escape_by_symlink(world, path, follow):
    world.refused(path, Errno.PERM, follow=follow)
    world.refused(path, Errno.PERM, flags=Open.READ | Open.WRITE | Open.TRUNC, follow=follow)


def test_invalid_dangling_symlink_to_outside_with_creat(world):
    world.refused("dang", Errno.PERM, flags=Open.WRITE | Open.CREATE)
    assert not (world.root / "canary" / "new").exists()


def test_dangling_symlink_inside_with_creat_creates_the_target(world):
    h = world.open("dang_in", Open.WRITE | Open.CREATE)
    world.host.close(h)
    opens_to(world, "made", "made")
    # Not following: the link itself is met, and O_NOFOLLOW refuses it.
    world.refused("dang_in", Errno.LOOP, flags=Open.WRITE | Open.CREATE, follow=False)
    # O_EXCL never follows: the link exists.
    world.refused("dang", Errno.EXIST, flags=Open.WRITE | Open.CREATE | Open.EXCL)


def test_creat_with_trailing_slash_is_eisdir(world):
    world.refused("newfile/", Errno.ISDIR, flags=Open.WRITE | Open.CREATE)


# --- locate / locate_entry: what the entry calls act on -----------------------------------------
def test_locate_returns_directory_and_final_name(world):
    with Resolver(world.host, world.start, "la/b/../g", follow=False) as r:
        base, name = r.locate()
        assert name == "g" and world.ident(base) == world.expected("a")
    with Resolver(world.host, world.start, "la", follow=False) as r:
        assert r.locate()[1] == "la"  # not followed: the link itself
    with Resolver(world.host, world.start, "la", follow=True) as r:
        assert r.locate()[1] == "a"


def test_locate_entry_trailing_slash_names_the_directory_itself(world):
    with Resolver(world.host, world.start, "a/b/", follow=False) as r:
        base, name = r.locate_entry()
        assert name == "." and world.ident(base) == world.expected("a/b")
    with Resolver(world.host, world.start, "f/", follow=False) as r, pytest.raises(WasiError) as e:
        r.locate_entry()
    assert e.value.errno == Errno.NOTDIR


@pytest.mark.parametrize("path", ["out/x", "../x", "/x", "l/", "evil/x", "a/../../box/f"])
def test_invalid_locate_escapes(world, path):
    with Resolver(world.host, world.start, path, follow=True) as r, pytest.raises(WasiError) as e:
        r.locate_entry()
    assert e.value.errno == Errno.PERM
    world.canary_intact()


def test_strip_trailing_slashes():
    assert strip_trailing_slashes("a/b//") == ("a/b", True)
    assert strip_trailing_slashes("a") == ("a", False)
    assert strip_trailing_slashes("/") == ("/", False)


# --- hygiene -----------------------------------------------------------------------------------
def test_no_descriptor_leaks(tmp_path):
    w = World("posix", tmp_path)
    before = len(os.listdir("/proc/self/fd"))
    paths = ["a/b/../g", "la/up", "out/secret", "l/", "loop1", "nope/x", "a/../../box/f", "c0", "ld/g"]
    for _ in range(50):
        for p in paths:
            try:
                w.host.close(w.open(p))
            except WasiError:
                pass
            with Resolver(w.host, w.start, p, follow=True) as r:
                try:
                    r.locate_entry()
                except WasiError:
                    pass
    assert len(os.listdir("/proc/self/fd")) == before
    w.close()


def test_host_refuses_anything_but_one_component(tmp_path):
    """Defence in depth: PosixHost never lets the kernel walk a path or `..`."""
    w = World("posix", tmp_path)
    for bad in ("..", "a/g", "../canary", "", "/etc"):
        with pytest.raises(WasiError) as e:
            w.host.openat(w.start, bad)
        assert e.value.errno in (Errno.PERM,)
        with pytest.raises(WasiError):
            w.host.fstatat(w.start, bad)
    w.close()


def test_intermediate_handles_are_path_only_and_final_open_never_follows(tmp_path):
    w = World("posix", tmp_path)
    h = w.host.openat(w.start, "a", Open.PATH | Open.DIRECTORY)
    with pytest.raises(OSError):
        os.read(h, 1)  # O_PATH: no reading through it
    w.host.close(h)
    with pytest.raises(WasiError) as e:
        w.host.openat(w.start, "la", Open.READ)
    assert e.value.errno == Errno.LOOP
    with pytest.raises(WasiError) as e:
        w.host.openat(w.start, "la", Open.PATH | Open.DIRECTORY)
    assert e.value.errno == Errno.NOTDIR
    w.close()


def test_model_and_posix_agree_on_stat_of_entries(tmp_path):
    p, m = World("posix", tmp_path / "p"), World("model", tmp_path / "m")
    for name in ("f", "a", "la", "a/g"):
        for w in (p, m):
            with Resolver(w.host, w.start, name, follow=False) as r:
                st = w.host.fstatat(*r.locate())
                w.seen = getattr(w, "seen", []) + [(st.filetype, st.nlink if st.filetype != Filetype.DIRECTORY else 0,
                                                    st.size if st.filetype != Filetype.DIRECTORY else 0)]
    assert p.seen == m.seen
    p.close()
    m.close()


def test_open_beneath_takes_plain_names_only_and_refuses_every_symlink(tmp_path):
    """PosixHost's whole-path open (openat2): plain names through real directories open; a symlink
    anywhere on the way, inside or out, is the kernel's ELOOP; anything but plain names never
    reaches it."""
    w = World("posix", tmp_path)
    h, _ = w.host.open_beneath(w.start, "a/g")
    assert w.ident(h) == w.expected("a/g")
    w.host.close(h)
    for through_link in ("la/g", "out/secret", "evil/canary/secret", "a/up"):
        with pytest.raises(WasiError) as e:
            w.host.open_beneath(w.start, through_link)
        assert e.value.errno == Errno.LOOP, through_link
    for not_plain in ("a/../f", "./f", "a//g", "a/g/", "/etc", "..", ""):
        with pytest.raises(WasiError) as e:
            w.host.open_beneath(w.start, not_plain)
        assert e.value.errno == Errno.PERM, not_plain
    w.canary_intact()
    w.close()


@pytest.mark.parametrize("openat2", [True, False], ids=["openat2", "no openat2"])
def test_plain_names_open_in_one_call_and_anything_else_is_walked(tmp_path, monkeypatch, openat2):
    """open_at hands a path of several plain names to the host whole; a symlink met there (refused
    by the host) sends it to the walk, which follows it. A kernel without openat2 walks everything."""
    from proofs.lemmas.paths import Calls
    from vwasm import posix_host
    monkeypatch.setattr(posix_host, "_OPENAT2", [openat2])
    w = World("posix", tmp_path)
    host = Calls(w.host)
    for path, rel, whole in (("a/g", "a/g", True), ("la/g", "a/g", False), ("a/b/../g", "a/g", False)):
        host.names.clear()
        h, _ = open_at(host, w.start, path, Open.READ, True)
        assert w.ident(h) == w.expected(rel)
        w.host.close(h)
        assert ("open_beneath" in host.names) == ("/" in path and ".." not in path)
        assert (host.names == ["open_beneath"]) == (whole and openat2), (path, host.names)
    with pytest.raises(WasiError) as e:
        open_at(host, w.start, "out/secret", Open.READ, True)
    assert e.value.errno == Errno.PERM
    w.canary_intact()
    w.close()


def test_stat_beneath_reports_a_final_symlink_as_itself_and_refuses_every_other(tmp_path):
    """PosixHost's whole-path stat (openat2 of O_PATH | O_NOFOLLOW, then fstat): a final symlink is
    the entry itself, even one that points out; a symlink before it is the kernel's ELOOP; a missing
    name ENOENT; anything but plain names never reaches it."""
    w = World("posix", tmp_path)
    for path in ("a/g", "a/b", "a/up"):
        st = w.host.stat_beneath(w.start, path)
        assert (st.dev, st.ino) == w.expected(path)
    assert w.host.stat_beneath(w.start, "a/up").filetype == Filetype.SYMBOLIC_LINK
    for through_link in ("la/g", "out/secret", "evil/canary/secret", "l/x"):
        with pytest.raises(WasiError) as e:
            w.host.stat_beneath(w.start, through_link)
        assert e.value.errno == Errno.LOOP, through_link
    with pytest.raises(WasiError) as e:
        w.host.stat_beneath(w.start, "a/b/nope")
    assert e.value.errno == Errno.NOENT
    for not_plain in ("a/../f", "./f", "a//g", "a/g/", "/etc", "..", ""):
        with pytest.raises(WasiError) as e:
            w.host.stat_beneath(w.start, not_plain)
        assert e.value.errno == Errno.PERM, not_plain
    w.close()


@pytest.mark.parametrize("openat2", [True, False], ids=["openat2", "no openat2"])
def test_plain_names_stat_in_one_call_and_anything_else_is_walked(tmp_path, monkeypatch, openat2):
    """lstat_at hands a path of several plain names to the host whole; found or missing, that one
    call decides; a symlink on the way (refused by the host) sends it to the walk."""
    from proofs.lemmas.paths import Calls
    from vwasm import posix_host
    from vwasm.resolve import lstat_at
    monkeypatch.setattr(posix_host, "_OPENAT2", [openat2])
    w = World("posix", tmp_path)
    host = Calls(w.host)
    for path, rel, whole in (("a/g", "a/g", True), ("a/up", "a/up", True), ("la/g", "a/g", False),
                             ("a/b/../g", "a/g", False), ("a/b/nope", None, True)):
        host.names.clear()
        try:
            st = lstat_at(host, w.start, path)
            assert (st.dev, st.ino) == w.expected(rel)
        except WasiError as e:
            assert rel is None and e.errno == Errno.NOENT
        assert ("stat_beneath" in host.names) == ("/" in path and ".." not in path)
        assert (host.names == ["stat_beneath"]) == (whole and openat2), (path, host.names)
    with pytest.raises(WasiError) as e:
        lstat_at(host, w.start, "out/secret")
    assert e.value.errno == Errno.PERM
    w.canary_intact()
    w.close()


@pytest.mark.parametrize("openat2", [True, False], ids=["openat2", "no openat2"])
def test_directories_before_a_last_name_are_entered_in_one_call(tmp_path, monkeypatch, openat2):
    """The directories before a last name that is not to be followed are entered whole (two or more
    plain names); a symlink among them, or a final one to follow, goes to the walk."""
    from proofs.lemmas.paths import Calls
    from vwasm import posix_host
    monkeypatch.setattr(posix_host, "_OPENAT2", [openat2])
    w = World("posix", tmp_path)
    (tmp_path / "box" / "a" / "b" / "c").mkdir()
    host = Calls(w.host)
    for path, rel, follow, whole in (("a/b/c/x", "a/b/c", False, True), ("la/b/c/x", "a/b/c", False, False),
                                     ("a/b/c/x", "a/b/c", True, False), ("a/x", "a", False, False)):
        host.names.clear()
        with Resolver(host, w.start, path, follow) as r:
            base, name = r.locate_entry()
            assert (w.ident(base), name) == (w.expected(rel), "x")
        lookups = [n for n in host.names if n != "close"]
        assert (lookups == ["dir_beneath"]) == (whole and openat2), (path, follow, host.names)
    with pytest.raises(WasiError) as e:
        with Resolver(host, w.start, "a/b/nope/x", False) as r:
            r.locate_entry()
    assert e.value.errno == Errno.NOENT
    for escape in ("out/sub/x", "evil/canary/sub/x"):
        with pytest.raises(WasiError) as e:
            with Resolver(host, w.start, escape, False) as r:
                r.locate_entry()
        assert e.value.errno == Errno.PERM, escape
    w.canary_intact()
    w.close()


def test_audit_sees_every_component():
    """In audit mode the host is a TracingHost, which records each component's lookup: it offers no
    whole-path open or stat, so open_at and lstat_at walk."""
    from vwasm.audit import TracingHost
    assert TracingHost(PosixHost(), None).open_beneath is None
    assert TracingHost(PosixHost(), None).stat_beneath is None
    assert TracingHost(PosixHost(), None).dir_beneath is None
