"""Abstract path resolution: confinement, symlinks, trailing slashes, budgets, encodings."""
import pytest

from vwasm.model import paths
from vwasm.model.paths import decode_path, resolve, resolve_entry
from vwasm.model.wasi import SYMLINK_BUDGET, Errno, WasiError


def errno_of(fs, start, path, follow=True):
    with pytest.raises(WasiError) as e:
        resolve(fs, start, path, follow)
    return e.value.errno


def test_plain_and_dot_components(fs_box):
    fs, box = fs_box
    r = resolve(fs, box, "./a/./f", True)
    a = fs.lookup(box, "a")
    assert (r.parent, r.name, r.node, r.relpath) == (a, "f", fs.lookup(a, "f"), "a/f")
    assert r.dirs == (box, a)


def test_dotdot_inside_is_fine(fs_box):
    fs, box = fs_box
    r = resolve(fs, box, "a/../file", True)
    assert r.node == fs.lookup(box, "file") and r.relpath == "file"


def test_wasmtime_interesting_path(fs_box):
    fs, box = fs_box
    r = resolve(fs, box, "a/.//../a/./f", True)
    assert r.relpath == "a/f"


@pytest.mark.parametrize("path", ["..", "../secret", "a/../../box/a", "a/../../box/file", "/secret", "/", "up/secret", "abs"])
def test_invalid_escape(fs_box, path):
    fs, box = fs_box
    assert errno_of(fs, box, path) == Errno.PERM


def test_invalid_escape_through_symlink_unfollowed_last_is_not_escape(fs_box):
    fs, box = fs_box
    # Not following the last component: the link itself is named, nothing escapes.
    r = resolve(fs, box, "abs", False)
    assert r.name == "abs" and r.relpath == "abs"
    assert errno_of(fs, box, "abs/", False) == Errno.PERM  # a trailing slash follows it


def test_escape_is_built_in_one_function(monkeypatch, fs_box):
    fs, box = fs_box
    calls = []
    real = paths.escape
    monkeypatch.setattr(paths, "escape", lambda: calls.append(1) or real())
    for p in ["..", "/x", "abs"]:
        with pytest.raises(WasiError):
            resolve(fs, box, p, True)
    assert len(calls) == 3


def test_relative_symlink_from_its_own_directory(fs_box):
    fs, box = fs_box
    a = fs.lookup(box, "a")
    fs, _ = fs.create_symlink(a, "back", "../file", 0)
    r = resolve(fs, box, "a/back", True)
    assert r.node == fs.lookup(box, "file") and r.relpath == "file" and r.expansions == 1


def test_nofollow_affects_last_component_only(fs_box):
    fs, box = fs_box
    fs, _ = fs.create_symlink(box, "adir", "a", 0)
    r = resolve(fs, box, "adir/f", False)
    assert r.node == fs.lookup(fs.lookup(box, "a"), "f")
    r = resolve(fs, box, "link", False)
    assert r.node == fs.lookup(box, "link")


def test_trailing_slash_requires_directory_and_follows(fs_box):
    fs, box = fs_box
    fs, _ = fs.create_symlink(box, "adir", "a", 0)
    r = resolve(fs, box, "adir/", False)
    assert r.node == fs.lookup(box, "a") and r.must_be_dir
    assert errno_of(fs, box, "file/") == Errno.NOTDIR
    assert errno_of(fs, box, "link/", False) == Errno.NOTDIR


def test_dangling_and_missing(fs_box):
    fs, box = fs_box
    r = resolve(fs, box, "dangling", True)
    assert r.node is None and r.name == "nowhere"
    assert errno_of(fs, box, "missing/x") == Errno.NOENT
    assert errno_of(fs, box, "file/x") == Errno.NOTDIR


def test_budget_then_loop(fs_box):
    fs, box = fs_box
    fs, _ = fs.create_symlink(box, "self", "self", 0)
    assert errno_of(fs, box, "self") == Errno.LOOP
    # A chain of exactly SYMLINK_BUDGET links resolves; one more is ELOOP.
    for i in range(SYMLINK_BUDGET + 1):
        fs, _ = fs.create_symlink(box, f"c{i}", f"c{i + 1}" if i < SYMLINK_BUDGET else "file", 0)
    assert resolve(fs, box, "c1", True).expansions == SYMLINK_BUDGET
    assert errno_of(fs, box, "c0") == Errno.LOOP


def test_invalid_empty_nul_long(fs_box):
    fs, box = fs_box
    assert errno_of(fs, box, "") == Errno.NOENT
    assert errno_of(fs, box, "file\0") == Errno.INVAL
    assert errno_of(fs, box, "x" * 256) == Errno.NAMETOOLONG
    assert errno_of(fs, box, "a/" * 2048) == Errno.NAMETOOLONG


def test_invalid_utf8():
    assert decode_path("é".encode()) == "é"
    with pytest.raises(WasiError) as e:
        decode_path(b"\xff")
    assert e.value.errno == Errno.ILSEQ


def test_path_ending_in_dot_names_directory(fs_box):
    fs, box = fs_box
    r = resolve(fs, box, "a/..", True)
    assert (r.parent, r.name, r.node, r.relpath) == (box, ".", box, "")


def test_resolve_entry_trailing_slash_is_dot(fs_box):
    fs, box = fs_box
    a = fs.lookup(box, "a")
    r = resolve_entry(fs, box, "a/")
    assert (r.parent, r.name, r.node) == (a, ".", a)
    with pytest.raises(WasiError) as e:
        resolve_entry(fs, box, "nope/")
    assert e.value.errno == Errno.NOENT
    assert resolve_entry(fs, box, "link").node == fs.lookup(box, "link")


def test_beneath():
    assert paths.beneath("a/b") and paths.beneath("")
    assert not paths.beneath("../a") and not paths.beneath("/a") and not paths.beneath("a//b")
