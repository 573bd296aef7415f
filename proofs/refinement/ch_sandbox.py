"""CrossHair harnesses over the sandbox transitions, on model/scenarios.py's small fixed states and
int-only arguments: path_open, fd_renumber, fd_allocate. Run by `refinement.crosshair.*` in a
subprocess, under crosshair's "asserts" analysis with icontract's own runtime checks switched back
on (see crosshair_obl.py): the scenario harness's postcondition and every contract of the
transition it calls (`sandbox.spec`: wf kept, an error changes nothing, config unchanged, a safe
trace, rights only shrink) raise an ordinary exception when broken, which crosshair reports."""
from __future__ import annotations

from proofs.refinement.ch_evidence import seen
from vwasm.model import scenarios as sc
from vwasm.model.fs import Symlink
from vwasm.model.paths import resolve
from vwasm.model.wasi import Errno, Oflags, WasiError

_resolve = resolve.__wrapped__
# Every scenario state built once, now, before the analysis: built on first use under crosshair's
# tracing, each cost ~0.3 s of the search (30 ms for all of them here).
for _shape in range(sc.SHAPES):
    sc.small_state(_shape)
_NOFOLLOW = (Errno.LOOP, Errno.EXIST, Errno.NOTDIR, Errno.INVAL, Errno.NOTCAPABLE, Errno.MFILE)


def _final_link(s, path: str) -> bool:
    """Does `path`, resolved from the box without following a final symlink, name a symlink?"""
    try:
        r = _resolve(s.fs, s.fds.get(sc.BOX_FD).node, path, False)
    except WasiError:
        return False
    return r.node is not None and isinstance(s.fs.node(r.node), Symlink)


def path_open(shape: int, pcode: int, plen: int, oflags: int, rights: int, mode: int) -> None:
    """path_open from the box: an error changes nothing, a success opens something inside the box
    (scenarios.check_path_open), and without SYMLINK_FOLLOW a final symlink is not followed: the
    answer is O_NOFOLLOW's ELOOP, or what comes first on Linux (EEXIST for O_CREAT|O_EXCL, ENOTDIR
    for O_DIRECTORY; flag decoding EINVAL, rights ENOTCAPABLE, a full table EMFILE) -- never a
    success, an escape (EPERM) or ENOENT/EISDIR from wherever the link points.

    `mode` 0/1: scenarios' arguments as they are (`follow` = mode). Mode 2 is the corner the last
    property is about, which a search over the whole space seldom reaches (crosshair's picks favour
    the high indices, i.e. `l` linking to itself or to `a/`, and oflags with O_DIRECTORY|O_CREAT,
    EINVAL): no SYMLINK_FOLLOW, the path `l` or `./l`, `l` holding one of the texts other than
    itself, oflags one of none/CREAT/CREAT|EXCL/DIRECTORY/TRUNC. The shape and path numbers are
    built for scenarios' own decoding, so the same harness and states are used."""
    assert isinstance(shape, int)  # (leading asserts are crosshair's preconditions)
    mode = sc.pick(mode, 3)
    follow = mode
    if mode == 2:
        texts = [i for i, t in enumerate(sc.LINK_TEXTS) if t != "l"]
        link = texts[sc.pick(shape, len(texts))] + 1
        shape = sc.pick(shape // 8, 2) + 2 * sc.pick(shape // 16, 3) + 6 * link
        pcode, plen = (2, 1) if sc.pick(pcode, 2) == 0 else (3 + 6 * 2, 2)  # "l", "./l"
        oflags = (0, Oflags.CREAT, Oflags.CREAT | Oflags.EXCL, Oflags.DIRECTORY, Oflags.TRUNC)[sc.pick(oflags, 5)]
        follow = 0
    s, (post, errno, res) = sc.check_path_open(shape, pcode, plen, oflags, rights, follow)
    seen(f"path_open {Errno(errno).name}")
    path = sc.path_of(pcode, plen)
    if follow == 0 and _final_link(s, path):
        assert errno in _NOFOLLOW, f"{path!r} names a symlink, opened without SYMLINK_FOLLOW: {Errno(errno).name}"


def fd_renumber(shape: int, frm: int, to: int) -> None:
    """Both open or EBADF; renumber(x, x) changes nothing; the displaced descriptor is closed."""
    assert isinstance(shape, int)
    *_, (post, errno, _) = sc.check_fd_renumber(shape, frm, to)
    seen(f"fd_renumber {Errno(errno).name}")


def fd_allocate(shape: int, fd: int, offset: int, length: int) -> None:
    """A success leaves the file max(size, offset + length) long; an error changes nothing.
    Half the executions as scenarios has them (any shape, fds 0-5, any u64 offset and length: the
    i64 limit and the size quota); half on fd 4 of a shape that has it open (the file `a`, 2
    bytes) with offset and length below 8, where the file's own size matters -- a search over all
    shapes, fds and u64s reaches that seldom (and pays for 16 MiB files on the way)."""
    assert isinstance(shape, int)
    if sc.pick(fd, 2) == 0:
        shape, fd = 54 + (sc.pick(shape, 54) | 1), sc.FILE_FD  # `a` present, fd-4 bit set
        offset, length = offset % 8, length % 8
        assert sc.small_state(shape).fds.lookup(sc.FILE_FD) is not None
    else:
        fd = fd // 2
    *_, (post, errno, _) = sc.check_fd_allocate(shape, fd, offset, length)
    seen(f"fd_allocate {Errno(errno).name}")
