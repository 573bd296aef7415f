"""The abstract filesystem's operations and rules."""
import os

import pytest

from vwasm.model.fs import FILE_SIZE_LIMIT, ROOT, Dir, FileSystem
from vwasm.model.wasi import Errno, WasiError


def errno_of(fn, *args):
    with pytest.raises(WasiError) as e:
        fn(*args)
    return e.value.errno


def test_create_lookup_listing(fs_box):
    fs, box = fs_box
    fs, d = fs.create_dir(box, "new", 5)
    assert fs.lookup(box, "new") == d and fs.is_dir(d) and fs.wf()
    assert [n for n, _ in fs.listing(box)] == sorted(n for n, _ in fs.listing(box))
    assert fs.node(box).mtim == 5


def test_invalid_create_existing(fs_box):
    fs, box = fs_box
    assert errno_of(fs.create_file, box, "file", 1) == Errno.EXIST


def test_invalid_create_in_removed_directory(fs_box):
    fs, box = fs_box
    fs, d = fs.create_dir(box, "gone", 1)
    fs = fs.rmdir(box, "gone", 2)
    assert errno_of(fs.create_file, d, "x", 3) == Errno.NOENT


def test_invalid_empty_symlink_text(fs_box):
    fs, box = fs_box
    assert errno_of(fs.create_symlink, box, "s", "", 1) == Errno.NOENT


def test_hard_link_shares_node_and_counts(fs_box):
    fs, box = fs_box
    f = fs.lookup(box, "file")
    assert fs.nlink(f) == 1
    fs = fs.link(box, "again", f, 1)
    assert fs.lookup(box, "again") == f and fs.nlink(f) == 2
    fs = fs.unlink(box, "file", 2)
    assert fs.nlink(f) == 1 and fs.read(f, 0, 4) == b"0123"


def test_invalid_link_directory(fs_box):
    fs, box = fs_box
    assert errno_of(fs.link, box, "a2", fs.lookup(box, "a"), 1) == Errno.PERM


def test_directory_nlink(fs_box):
    fs, box = fs_box
    a = fs.lookup(box, "a")
    assert fs.nlink(a) == 2
    fs, _ = fs.create_dir(a, "sub", 1)
    assert fs.nlink(a) == 3


def test_invalid_unlink_directory(fs_box):
    fs, box = fs_box
    assert errno_of(fs.unlink, box, "a", 1) == Errno.ISDIR
    assert errno_of(fs.unlink, box, "missing", 1) == Errno.NOENT


def test_rmdir_rules(fs_box):
    fs, box = fs_box
    assert errno_of(fs.rmdir, box, "a", 1) == Errno.NOTEMPTY
    assert errno_of(fs.rmdir, box, "file", 1) == Errno.NOTDIR
    assert errno_of(fs.rmdir, box, "nope", 1) == Errno.NOENT
    fs, e = fs.create_dir(box, "empty", 1)
    fs = fs.rmdir(box, "empty", 2)
    assert fs.lookup(box, "empty") is None and not fs.alive(e) and fs.wf()


def test_rename_file_over_file(fs_box):
    fs, box = fs_box
    fs, g = fs.create_file(box, "g", 1)
    f = fs.lookup(box, "file")
    fs = fs.rename(box, "file", box, "g", 2)
    assert fs.lookup(box, "g") == f and fs.lookup(box, "file") is None and fs.wf()


def test_rename_dir_over_empty_dir(fs_box):
    fs, box = fs_box
    fs, e = fs.create_dir(box, "e", 1)
    a = fs.lookup(box, "a")
    fs = fs.rename(box, "a", box, "e", 2)
    assert fs.lookup(box, "e") == a and fs.node(a).parent == box and fs.wf()


def test_invalid_rename_posix_rules(fs_box):
    fs, box = fs_box
    fs, e = fs.create_dir(box, "e", 1)
    a = fs.lookup(box, "a")
    # dir over non-empty dir, file over dir, dir over file, dir into own subtree
    fs2, _ = fs.create_dir(e, "x", 1)
    assert errno_of(fs2.rename, box, "e", box, "a", 2) == Errno.NOTEMPTY
    assert errno_of(fs.rename, box, "file", box, "e", 2) == Errno.ISDIR
    assert errno_of(fs.rename, box, "e", box, "file", 2) == Errno.NOTDIR
    assert errno_of(fs.rename, box, "a", a, "inside", 2) == Errno.INVAL
    assert errno_of(fs.rename, box, "missing", box, "z", 2) == Errno.NOENT


def test_rename_same_node_is_noop(fs_box):
    fs, box = fs_box
    f = fs.lookup(box, "file")
    fs = fs.link(box, "twin", f, 1)
    assert fs.rename(box, "file", box, "twin", 2) == fs


def test_truncate_and_write(fs_box):
    fs, box = fs_box
    f = fs.lookup(box, "file")
    fs = fs.truncate(f, 3, 1)
    assert fs.node(f).data == b"012"
    fs = fs.truncate(f, 5, 1)
    assert fs.node(f).data == b"012\0\0"
    fs = fs.write(f, 7, b"xy", 2)
    assert fs.node(f).data == b"012\0\0\0\0xy" and fs.node(f).mtim == 2
    assert fs.read(f, 8, 10) == b"y" and fs.read(f, 100, 1) == b""


def test_invalid_write_past_quota(fs_box):
    fs, box = fs_box
    f = fs.lookup(box, "file")
    assert errno_of(fs.write, f, FILE_SIZE_LIMIT, b"x", 1) == Errno.FBIG
    assert errno_of(fs.truncate, f, FILE_SIZE_LIMIT + 1, 1) == Errno.FBIG


def test_set_times(fs_box):
    fs, box = fs_box
    f = fs.lookup(box, "file")
    fs = fs.set_times(f, 7, None, 9)
    n = fs.node(f)
    assert (n.atim, n.mtim, n.ctim) == (7, 0, 9)


def test_gc_keeps_open_unlinked_nodes(fs_box):
    fs, box = fs_box
    f = fs.lookup(box, "file")
    fs = fs.unlink(box, "file", 1)
    assert fs.gc(frozenset({f})).has(f)
    assert not fs.gc(frozenset()).has(f)


def test_wf_detects_dangling_entry(fs_box):
    fs, box = fs_box
    bad = fs._set(box, Dir((("ghost", 999),), fs.node(box).parent))
    assert fs.wf() and not bad.wf()


def test_snapshot_and_from_host_agree(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"data")
    os.link(tmp_path / "d" / "f", tmp_path / "hard")
    os.symlink("d/f", tmp_path / "s")
    fs = FileSystem.from_host(tmp_path)
    assert fs.wf()
    assert fs.snapshot() == {
        "d": ("dir", {"f": ("file", b"data")}),
        "hard": ("file", b"data"),
        "s": ("symlink", "d/f"),
    }
    d = fs.lookup(ROOT, "d")
    assert fs.lookup(d, "f") == fs.lookup(ROOT, "hard") and fs.nlink(fs.lookup(ROOT, "hard")) == 2


def test_invalid_from_host_fifo(tmp_path):
    os.mkfifo(tmp_path / "p")
    with pytest.raises(ValueError):
        FileSystem.from_host(tmp_path)
