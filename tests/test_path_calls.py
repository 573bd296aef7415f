"""The path_* handlers and fd_readdir, called directly (as abi.py calls them) over PosixHost on a
temporary tree, and -- for the behaviours that do not depend on the kernel's numbers -- over
ModelHost on the same tree read into the model. Errnos are wasmtime's where the spec leaves room.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from vwasm.errors import Trap
from vwasm.model_host import ModelHost
from vwasm.posix_host import PosixHost
from vwasm.model.fs import FileSystem
from vwasm.model.wasi import (
    ALL_RIGHTS, DIR_RIGHTS, FILE_RIGHTS, Errno, Fdflags, Filetype, Oflags, Rights,
)

from difftest import snapshot
from guestcalls import Guest, parse_dirents

D = 3  # the preopen
NO_WRITE = ALL_RIGHTS & ~Rights.FD_WRITE


def make_tree(root: Path) -> None:
    box = root / "box"
    (box / "d" / "e").mkdir(parents=True)
    (box / "f").write_bytes(b"0123456789")
    (box / "d" / "g").write_bytes(b"g")
    os.symlink("f", box / "lf")
    os.symlink("../canary/secret", box / "out")
    (root / "canary").mkdir()
    (root / "canary" / "secret").write_bytes(b"secret")


@pytest.fixture(params=["posix", "model"])
def g(request, tmp_path):
    make_tree(tmp_path)
    if request.param == "posix":
        host = PosixHost()
        guest = Guest(host, {"/sandbox": host.open_preopen(str(tmp_path / "box"))})
    else:
        host = ModelHost(FileSystem.from_host(tmp_path / "box"))
        guest = Guest(host, {"/sandbox": host.open_preopen("box")})
    guest.root = tmp_path
    guest.kind = request.param
    guest.canary = snapshot(tmp_path / "canary")
    yield guest
    assert snapshot(tmp_path / "canary") == guest.canary


@pytest.fixture
def p(tmp_path):
    """PosixHost only (for checks against the real tree)."""
    make_tree(tmp_path)
    host = PosixHost()
    guest = Guest(host, {"/sandbox": host.open_preopen(str(tmp_path / "box"))})
    guest.root = tmp_path
    return guest


def names(g, fd, buf_len=4096):
    e, data = g.readdir(fd, buf_len, 0)
    assert e == Errno.SUCCESS
    return [n.decode() for _, _, _, n in parse_dirents(data)]


# --- path_open -----------------------------------------------------------------------------------
def test_path_open_rights_are_cut_to_the_parents_inheriting_rights(g):
    e, fd = g.open(D, "f", base=ALL_RIGHTS, inheriting=ALL_RIGHTS)
    assert e == Errno.SUCCESS
    ft, _, base, inh = g.fdstat(fd)
    # base: what a file can use; inheriting: whatever the parent passes on (meaningless for a file)
    assert ft == Filetype.REGULAR_FILE and base == FILE_RIGHTS and inh == DIR_RIGHTS | FILE_RIGHTS
    # A directory cannot be opened for writing (wasmtime too: EISDIR, even with O_DIRECTORY).
    assert g.open(D, "d", Oflags.DIRECTORY, base=ALL_RIGHTS)[0] == Errno.ISDIR
    e, sub = g.open(D, "d", Oflags.DIRECTORY, base=NO_WRITE, inheriting=ALL_RIGHTS)
    ft, _, base, inh = g.fdstat(sub)
    assert ft == Filetype.DIRECTORY and base == DIR_RIGHTS & NO_WRITE
    assert inh == DIR_RIGHTS | FILE_RIGHTS
    # A child of a narrowed directory never regains what the directory lost.
    assert g.call("fd_fdstat_set_rights", sub, DIR_RIGHTS, Rights.FD_READ | Rights.PATH_OPEN) == Errno.SUCCESS
    e, f2 = g.open(sub, "g", base=ALL_RIGHTS, inheriting=ALL_RIGHTS)
    assert e == Errno.SUCCESS and g.fdstat(f2)[2] == Rights.FD_READ
    assert g.write(f2, b"x") == Errno.NOTCAPABLE


def test_path_open_asked_rights_only(g):
    e, fd = g.open(D, "f", base=Rights.FD_READ)
    assert g.fdstat(fd)[2] == Rights.FD_READ
    assert g.write(fd, b"x") == Errno.NOTCAPABLE


def test_invalid_path_open_creat_needs_path_create_file(g):
    assert g.call("fd_fdstat_set_rights", D, DIR_RIGHTS & ~Rights.PATH_CREATE_FILE, ALL_RIGHTS) == Errno.NOTCAPABLE
    assert g.call("fd_fdstat_set_rights", D, DIR_RIGHTS & ~Rights.PATH_CREATE_FILE, DIR_RIGHTS | FILE_RIGHTS) == 0
    assert g.open(D, "new", Oflags.CREAT)[0] == Errno.NOTCAPABLE
    assert g.filestat(D, "new")[0] == Errno.NOENT


def test_invalid_path_open_trunc_needs_path_filestat_set_size(g):
    assert g.call("fd_fdstat_set_rights", D, DIR_RIGHTS & ~Rights.PATH_FILESTAT_SET_SIZE, DIR_RIGHTS | FILE_RIGHTS) == 0
    assert g.open(D, "f", Oflags.TRUNC)[0] == Errno.NOTCAPABLE
    assert g.filestat(D, "f")[1][4] == 10


@pytest.mark.parametrize("oflags,errno", [
    (Oflags.DIRECTORY | Oflags.CREAT, Errno.INVAL), (Oflags.DIRECTORY | Oflags.TRUNC, Errno.INVAL),
    (Oflags.DIRECTORY | Oflags.EXCL, Errno.INVAL), (1 << 4, Errno.INVAL),
])
def test_invalid_path_open_flags(g, oflags, errno):
    assert g.open(D, "d", oflags)[0] == errno


def test_path_open_kinds_and_flags(g):
    e, fd = g.open(D, "f", base=Rights.FD_WRITE | Rights.FD_READ, fdflags=Fdflags.APPEND)
    assert e == 0 and g.fdstat(fd)[1] == Fdflags.APPEND
    assert g.write(fd, b"AB") == 0
    e, fd2 = g.open(D, "f", Oflags.CREAT | Oflags.EXCL)
    assert e == Errno.EEXIST if hasattr(Errno, "EEXIST") else e == Errno.EXIST
    assert g.open(D, "d", base=Rights.FD_WRITE)[0] == Errno.ISDIR
    assert g.open(D, "f/")[0] == Errno.NOTDIR
    assert g.open(D, "lf", follow=False)[0] == Errno.LOOP
    e, fd3 = g.open(D, "lf", follow=True)
    assert e == 0 and g.fdstat(fd3)[0] == Filetype.REGULAR_FILE
    assert g.filestat(D, "f")[1][4] == 12  # appended


def test_path_open_on_a_file_descriptor_is_enotdir_and_other_calls_ebadf(g):
    e, fd = g.open(D, "f")
    assert g.open(fd, "x")[0] == Errno.NOTDIR
    assert g.call("path_create_directory", fd, *g.s("x")) == Errno.BADF
    assert g.call("path_unlink_file", fd, *g.s("x")) == Errno.BADF
    assert g.call("fd_readdir", fd, g.buf, 100, 0, g.out) == Errno.BADF
    assert g.call("path_create_directory", 77, *g.s("x")) == Errno.BADF


def test_invalid_path_open_bad_result_pointer_traps_before_creating(g):
    with pytest.raises(Trap):
        g.call("path_open", D, 0, *g.s("created"), Oflags.CREAT, ALL_RIGHTS, ALL_RIGHTS, 0, len(g.raw) - 2)
    assert g.filestat(D, "created")[0] == Errno.NOENT
    assert len(g.cx.fds) == 1


def test_invalid_path_escapes_are_eperm(g):
    for path in ("/etc/passwd", "..", "d/../../box/f", "out"):
        assert g.open(D, path, Oflags.CREAT, follow=True)[0] == Errno.PERM, path
    assert g.call("path_create_directory", D, *g.s("../x")) == Errno.PERM
    assert g.call("path_rename", D, *g.s("f"), D, *g.s("../stolen")) == Errno.PERM
    assert g.call("path_link", D, 0, *g.s("out"), D, *g.s("x")) == Errno.SUCCESS  # links the link itself
    assert g.filestat(D, "x", follow=True)[0] == Errno.PERM


# --- guest-made symlinks -------------------------------------------------------------------------
def test_invalid_path_symlink_absolute_target(g):
    assert g.call("path_symlink", *g.s("/etc/passwd"), D, *g.s("abs")) == Errno.PERM
    assert g.filestat(D, "abs")[0] == Errno.NOENT


def test_guest_symlink_to_outside_is_never_followed(g):
    assert g.call("path_symlink", *g.s("../canary"), D, *g.s("gl")) == Errno.SUCCESS
    assert g.open(D, "gl/secret")[0] == Errno.PERM
    assert g.open(D, "gl/new", Oflags.CREAT)[0] == Errno.PERM
    assert g.call("path_symlink", *g.s("d/../../canary/secret"), D, *g.s("gl2")) == Errno.SUCCESS
    assert g.open(D, "gl2", Oflags.TRUNC, follow=True)[0] == Errno.PERM
    assert g.filestat(D, "gl", follow=False)[1][2] == Filetype.SYMBOLIC_LINK


def test_path_readlink_truncates_to_the_buffer(g):
    used = g.out + 8
    assert g.call("path_readlink", D, *g.s("out"), g.buf, 5, used) == 0
    assert g.u32(used) == 5 and bytes(g.raw[g.buf:g.buf + 5]) == b"../ca"
    assert g.call("path_readlink", D, *g.s("out"), g.buf, 100, used) == 0
    assert bytes(g.raw[g.buf:g.buf + g.u32(used)]) == b"../canary/secret"
    assert g.call("path_readlink", D, *g.s("f"), g.buf, 100, used) == Errno.INVAL


# --- entries -------------------------------------------------------------------------------------
def test_create_remove_rename_link_unlink(g):
    assert g.call("path_create_directory", D, *g.s("n/")) == 0
    assert g.call("path_create_directory", D, *g.s("n")) == Errno.EXIST
    assert g.call("path_remove_directory", D, *g.s("d")) == Errno.NOTEMPTY
    assert g.call("path_remove_directory", D, *g.s("f")) == Errno.NOTDIR
    assert g.call("path_unlink_file", D, *g.s("d")) == Errno.ISDIR
    assert g.call("path_rename", D, *g.s("f"), D, *g.s("n/f2")) == 0
    assert g.call("path_link", D, 0, *g.s("n/f2"), D, *g.s("hard")) == 0
    assert g.call("path_link", D, 1, *g.s("lf"), D, *g.s("hard2")) == Errno.INVAL
    assert g.filestat(D, "hard")[1][3] == 2  # nlink
    assert g.call("path_unlink_file", D, *g.s("n/f2")) == 0
    assert g.call("path_remove_directory", D, *g.s("n")) == 0
    assert g.call("path_unlink_file", D, *g.s("lf")) == 0  # the link, not its target
    assert g.filestat(D, "hard")[1][3] == 1


def test_path_filestat_follow_and_set_times(g):
    assert g.filestat(D, "lf", follow=False)[1][2] == Filetype.SYMBOLIC_LINK
    assert g.filestat(D, "lf", follow=True)[1][2] == Filetype.REGULAR_FILE
    e = g.call("path_filestat_set_times", D, 0, *g.s("f"), 111_000_000_000, 222_000_000_000, 0b0101)
    assert e == 0
    st = g.filestat(D, "f")[1]
    assert (st[5], st[6]) == (111_000_000_000, 222_000_000_000)
    # Not following: the link's own times change, the target's stay.
    assert g.call("path_filestat_set_times", D, 0, *g.s("lf"), 5, 7, 0b0101) == 0
    assert g.filestat(D, "f")[1][6] == 222_000_000_000
    assert g.call("path_filestat_set_times", D, 0, *g.s("f"), 1, 2, 0b0011) == Errno.INVAL


# --- fd_readdir ----------------------------------------------------------------------------------
def test_readdir_cookies_and_types(g):
    e, data = g.readdir(D, 4096, 0)
    ents = parse_dirents(data)
    assert [(n, c) for c, _, _, n in ents[:2]] == [(b".", 1), (b"..", 2)]
    assert [c for c, *_ in ents] == list(range(1, len(ents) + 1))
    types = {n.decode(): t for _, _, t, n in ents}
    assert types == {".": 3, "..": 3, "d": Filetype.DIRECTORY, "f": Filetype.REGULAR_FILE,
                     "lf": Filetype.SYMBOLIC_LINK, "out": Filetype.SYMBOLIC_LINK}
    # d_ino is the entry's own inode (lstat), as the host sees it.
    for c, ino, t, n in ents[2:]:
        assert ino == g.filestat(D, n.decode())[1][1]
    # Resuming from a cookie gives the rest.
    e, rest = g.readdir(D, 4096, 4)
    assert parse_dirents(rest) == ents[4:]
    assert g.readdir(D, 4096, 100) == (Errno.SUCCESS, b"")


def test_readdir_truncates_the_last_entry_as_wasmtime(g):
    full = g.readdir(D, 4096, 0)[1]
    for n in (0, 1, 10, 24, 25, 26, 30, 51, 52):
        e, data = g.readdir(D, n, 0)
        assert e == 0 and data == full[:n], n  # exactly the first n bytes; bufused == n (full)


def test_readdir_rewind_rereads(g):
    before = names(g, D)
    assert g.call("path_create_directory", D, *g.s("later")) == 0
    e, tail = g.readdir(D, 4096, 2)  # the cached listing: no "later" yet
    assert "later" not in [n.decode() for *_, n in parse_dirents(tail)]
    assert sorted(names(g, D)) == sorted(before + ["later"])  # cookie 0 re-reads


def test_readdir_5000_entries_pages_in_linear_time(p):
    big = p.root / "box" / "big"
    big.mkdir()
    for i in range(5000):
        (big / f"entry-{i:05d}-{'x' * (i % 17)}").write_bytes(b"")
    e, fd = p.open(D, "big", Oflags.DIRECTORY, base=NO_WRITE)
    assert e == Errno.SUCCESS
    calls = []
    real = p.host.listdir
    p.host.listdir = lambda h: calls.append(h) or real(h)
    t0 = time.perf_counter()
    seen, cookie = [], 0
    while True:
        e, data = p.readdir(fd, 4096, cookie)
        ents = parse_dirents(data)
        seen += [n.decode() for *_, n in ents]
        if len(data) < 4096:
            break
        cookie = ents[-1][0]
    elapsed = time.perf_counter() - t0
    assert len(calls) == 1  # one listing per pass
    assert len(seen) == 5002 and len(set(seen)) == 5002
    assert set(seen) == {".", ".."} | set(os.listdir(big))
    print(f"readdir of 5000 entries, 4 KiB buffer: {elapsed * 1e3:.1f} ms")
    assert elapsed < 1.0
