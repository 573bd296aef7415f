"""A read-only preopen (`--dir-ro`, Config.preopen_dir(read_only=True)): nothing beneath it can be
created, modified, truncated or deleted -- by any path call, through any descriptor opened from it,
however the rights are asked for. Each refusal is ERRNO_NOTCAPABLE (DESIGN §5: missing rights), and
the tree (contents, names, link texts and times) is exactly as before.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from vwasm.posix_host import PosixHost
from vwasm.model.wasi import (
    ALL_RIGHTS, DIR_RIGHTS_READONLY, FILE_RIGHTS_READONLY, Errno, Oflags, Rights,
)

from difftest import run_vwasm, snapshot
from guestcalls import Guest, parse_dirents

D = 3
NO_WRITE = ALL_RIGHTS & ~Rights.FD_WRITE


def times(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames + ["."]:
            st = os.lstat(os.path.join(dirpath, n))
            out[os.path.join(dirpath, n)] = (st.st_mtime_ns, st.st_size, st.st_nlink)
    return out


@pytest.fixture
def ro(tmp_path):
    box = tmp_path / "box"
    (box / "d").mkdir(parents=True)
    (box / "f").write_bytes(b"read only")
    (box / "d" / "g").write_bytes(b"g")
    os.symlink("f", box / "lf")
    host = PosixHost()
    g = Guest(host, {"/ro": host.open_preopen(str(box))}, read_only=True)
    g.box = box
    g.before = (snapshot(box), times(box))
    yield g
    assert (snapshot(box), times(box)) == g.before, "the read-only tree changed"


def test_preopen_rights_are_read_only(ro):
    ft, _, base, inh = ro.fdstat(D)
    assert base == DIR_RIGHTS_READONLY and inh == DIR_RIGHTS_READONLY | FILE_RIGHTS_READONLY


@pytest.mark.parametrize("oflags", [Oflags.CREAT, Oflags.CREAT | Oflags.EXCL, Oflags.TRUNC,
                                    Oflags.CREAT | Oflags.TRUNC])
def test_invalid_create_or_truncate(ro, oflags):
    for path in ("f", "new", "d/g", "d/new", "lf"):
        assert ro.open(D, path, oflags)[0] == Errno.NOTCAPABLE


def test_invalid_opened_files_cannot_be_changed(ro):
    e, fd = ro.open(D, "f", base=ALL_RIGHTS, inheriting=ALL_RIGHTS)  # asks for everything...
    assert e == Errno.SUCCESS
    _, _, base, inh = ro.fdstat(fd)
    assert base == FILE_RIGHTS_READONLY  # ... gets only what the preopen may hand down
    assert ro.write(fd, b"x") == Errno.NOTCAPABLE
    assert ro.call("fd_pwrite", fd, 0, 0, 0, ro.out) == Errno.NOTCAPABLE
    assert ro.call("fd_filestat_set_size", fd, 0) == Errno.NOTCAPABLE
    assert ro.call("fd_filestat_set_times", fd, 1, 2, 0b0101) == Errno.NOTCAPABLE
    assert ro.call("fd_allocate", fd, 0, 100) == Errno.NOTCAPABLE
    # The rights cannot be regained.
    assert ro.call("fd_fdstat_set_rights", fd, ALL_RIGHTS, 0) == Errno.NOTCAPABLE
    # Reading works.
    assert ro.call("fd_fdstat_set_flags", fd, 1) in (Errno.SUCCESS, Errno.NOTCAPABLE)
    ptr, _ = ro.s(b"\0" * 16)
    iov = ro.heap
    struct.pack_into("<II", ro.raw, iov, ptr, 16)
    ro.heap += 8
    assert ro.call("fd_pread", fd, iov, 1, 0, ro.out) == Errno.SUCCESS
    assert bytes(ro.raw[ptr:ptr + ro.u32()]) == b"read only"


def test_invalid_entry_calls(ro):
    c, s = ro.call, ro.s
    assert c("path_create_directory", D, *s("n")) == Errno.NOTCAPABLE
    assert c("path_remove_directory", D, *s("d")) == Errno.NOTCAPABLE
    assert c("path_unlink_file", D, *s("f")) == Errno.NOTCAPABLE
    assert c("path_unlink_file", D, *s("lf")) == Errno.NOTCAPABLE
    assert c("path_rename", D, *s("f"), D, *s("f2")) == Errno.NOTCAPABLE
    assert c("path_link", D, 0, *s("f"), D, *s("f3")) == Errno.NOTCAPABLE
    assert c("path_symlink", *s("f"), D, *s("l2")) == Errno.NOTCAPABLE
    assert c("path_filestat_set_times", D, 0, *s("f"), 1, 2, 0b0101) == Errno.NOTCAPABLE
    assert c("fd_filestat_set_times", D, 1, 2, 0b0101) == Errno.NOTCAPABLE


def test_invalid_subdirectory_inherits_read_only(ro):
    e, sub = ro.open(D, "d", Oflags.DIRECTORY, base=NO_WRITE, inheriting=ALL_RIGHTS)
    assert e == Errno.SUCCESS
    _, _, base, inh = ro.fdstat(sub)
    assert base & ~(DIR_RIGHTS_READONLY | FILE_RIGHTS_READONLY) == 0
    assert inh & ~(DIR_RIGHTS_READONLY | FILE_RIGHTS_READONLY) == 0
    assert ro.open(sub, "new", Oflags.CREAT)[0] == Errno.NOTCAPABLE
    assert ro.call("path_unlink_file", sub, *ro.s("g")) == Errno.NOTCAPABLE
    e, fd = ro.open(sub, "g", base=ALL_RIGHTS)
    assert e == Errno.SUCCESS and ro.write(fd, b"x") == Errno.NOTCAPABLE


def test_reading_still_works(ro):
    e, data = ro.readdir(D, 4096, 0)
    assert e == Errno.SUCCESS
    assert {n for *_, n in parse_dirents(data)} == {b".", b"..", b"d", b"f", b"lf"}
    used = ro.out + 8
    assert ro.call("path_readlink", D, *ro.s("lf"), ro.buf, 64, used) == Errno.SUCCESS
    assert ro.filestat(D, "lf", follow=True)[1][4] == len(b"read only")


def test_guest_program_on_a_read_only_preopen(wasm, tmp_path):
    """End to end: p1_multi_preopen's writes into its read-only preopen all fail, the tree stays."""
    tree = {"ro/seed.txt": "seed", "a/.keep": "", "b/.keep": ""}
    r = run_vwasm(wasm("p1_multi_preopen"), tree=tree, root=tmp_path / "run",
                  preopens=(("a", "/a"), ("b", "/b"), ("ro", "/ro", True)))
    assert r.status == 0, str(r)
    assert "read ro/seed.txt: SUCCESS <seed>" in r.lines()
    for line in ("write ro/new.txt", "mkdir ro/d", "unlink ro/seed.txt"):
        assert f"{line}: ENOTCAPABLE" in r.lines(), str(r)
    assert r.under("ro") == {"seed.txt": ("file", b"seed")}
