"""Small fixed-size sandbox states and call harnesses for bounded checkers (crosshair, hypothesis).

Every argument is a plain `int`, normalised with `%`, so that any integer names a valid scenario:
crosshair explores scalars well and builds states of its own badly (DESIGN §4: "total" harnesses).
The world is tiny and fixed in shape: `/secret` outside the sandbox, one preopen `/box` (fd 3)
holding at most three entries named from a small alphabet, and optionally one open file (fd 4).

A harness builds a scenario, runs one transition and states what the call must do; the
transition's own contracts (`sandbox.spec`: wf kept, errors change nothing, rights only shrink,
a safe trace) are checked on the way, so a broken model shows up as a ViolationError.
"""
from __future__ import annotations

import icontract

from . import sandbox as sb
from .fs import ROOT, FileSystem
from .wasi import ALL_RIGHTS, FILE_RIGHTS, I64_MAX, Errno, Rights

BOX_FD = 3  # the preopen
FILE_FD = 4  # the open file, when the scenario has one
NAMES = ("a", "b", "l")  # the entries a box may hold: a file, a directory, a symlink
COMPONENTS = ("a", "b", "l", ".", "..", "")  # path components ("" makes a double slash)
LINK_TEXTS = ("a", "b", "..", "../secret", "/secret", "b/..", "l", "a/")  # what `l` may say
RIGHTS_CHOICES = (ALL_RIGHTS, Rights.FD_READ, Rights.FD_READ | Rights.FD_WRITE, Rights.PATH_OPEN,
                  FILE_RIGHTS & ~Rights.FD_WRITE)
FDS = 6  # descriptor numbers a harness names: 0-2 streams, 3 the box, 4 maybe a file, 5 never open
SHAPES = 2 * 3 * (len(LINK_TEXTS) + 1) * 2  # scenario numbers (3/4 of them distinct: no `a`, no fd 4)


def pick(x: int, n: int) -> int:
    """`x % n` as a concrete int, found by bisection: a symbolic checker branches here about
    log2(n) times and runs everything after it on plain values."""
    r = x % n
    lo, hi = 0, n  # lo <= r < hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if r < mid:
            hi = mid
        else:
            lo = mid
    return lo


_BUILT: dict[int, sb.State] = {}


def small_state(shape: int) -> sb.State:
    """Scenario number `shape` (any int; mod SHAPES):
    - `a`: absent, or a file holding b"xy";
    - `b`: absent, an empty directory, or a directory holding a file `a`;
    - `l`: absent, or a symlink with one of LINK_TEXTS;
    - fd 4: a file descriptor on `a` (all file rights), when `a` exists and the bit says so.
    States are immutable, so each is built once (a symbolic checker pays for it once, not per path);
    every one is well formed (tests/model/test_scenarios.py checks all SHAPES)."""
    shape = pick(shape, SHAPES)
    if shape not in _BUILT:
        _BUILT[shape] = _build(shape)
    return _BUILT[shape]


def _build(shape: int) -> sb.State:
    fs = FileSystem()
    fs, secret = fs.create_file(ROOT, "secret", 0)
    fs = fs.write(secret, 0, b"s", 0)
    fs, box = fs.create_dir(ROOT, "box", 0)
    has_a = shape % 2 == 1
    if has_a:
        fs, a = fs.create_file(box, "a", 0)
        fs = fs.write(a, 0, b"xy", 0)
    b_kind = (shape // 2) % 3
    if b_kind > 0:
        fs, b = fs.create_dir(box, "b", 0)
        if b_kind == 2:
            fs, _ = fs.create_file(b, "a", 0)
    link = (shape // 6) % (len(LINK_TEXTS) + 1)
    if link > 0:
        fs, _ = fs.create_symlink(box, "l", LINK_TEXTS[link - 1], 0)
    s = sb.initial_state(fs, (sb.Preopen("/box", box),), stdin=b"in")
    if has_a and (shape // (6 * (len(LINK_TEXTS) + 1))) % 2 == 1:
        s, _, _ = sb.path_open(s, BOX_FD, 0, "a", 0, FILE_RIGHTS, 0, 0)
    return s


def path_of(code: int, length: int) -> str:
    """A relative path of `length % 4` components from COMPONENTS, chosen by the base-6 digits of
    `code` (length 0 is the empty path)."""
    parts = []
    for _ in range(pick(length, 4)):
        parts.append(COMPONENTS[pick(code, len(COMPONENTS))])
        code //= len(COMPONENTS)
    return "/".join(parts)


# --- harnesses: each returns (the state before, the transition's (state', errno, results)) ----------
def _opened_inside(s: sb.State, result) -> bool:
    post, errno, res = result
    if errno != Errno.SUCCESS:
        return post == s
    d = post.fds.get(res[0])
    return d.node in post.fs.reachable(post.fds.get(BOX_FD).node)


@icontract.ensure(lambda result: _opened_inside(result[0], result[1]),
                  "an error changes nothing; a success opens something inside the box")
def check_path_open(shape: int, pcode: int, plen: int, oflags: int, rights: int, follow: int):
    """path_open from the box on a small path, any oflags, one of a few rights sets."""
    s = small_state(shape)
    return s, sb.path_open(s, BOX_FD, pick(follow, 2), path_of(pcode, plen), pick(oflags, 16),
                           RIGHTS_CHOICES[pick(rights, len(RIGHTS_CHOICES))], ALL_RIGHTS, 0)


def _renumbered(s: sb.State, frm: int, to: int, result) -> bool:
    post, errno, _ = result
    both_open = s.fds.lookup(frm) is not None and s.fds.lookup(to) is not None
    if not both_open:
        return errno == Errno.BADF and post == s
    if frm == to:
        return errno == Errno.SUCCESS and post.fds == s.fds
    return (errno == Errno.SUCCESS and post.fds.get(to) == s.fds.get(frm)
            and set(post.fds.fds()) == set(s.fds.fds()) - {frm})


@icontract.ensure(lambda result: _renumbered(result[0], result[1], result[2], result[3]),
                  "both open or EBADF; renumber(x, x) changes nothing; the displaced descriptor is closed")
def check_fd_renumber(shape: int, frm: int, to: int):
    """Any two u32 descriptor numbers (left symbolic: the checker chooses which are open)."""
    s, frm, to = small_state(shape), frm % (1 << 32), to % (1 << 32)
    return s, frm, to, sb.fd_renumber(s, frm, to)


def _allocated(s: sb.State, fd: int, offset: int, length: int, result) -> bool:
    post, errno, _ = result
    if errno != Errno.SUCCESS:
        return post == s
    node = s.fds.get(fd).node
    old, new = s.fs.node(node).size, post.fs.node(node).size
    return new == max(old, offset + length) and 0 < length and offset + length <= I64_MAX


@icontract.ensure(lambda result: _allocated(result[0], result[1], result[2], result[3], result[4]),
                  "a success leaves the file max(size, offset + length) long; an error changes nothing")
def check_fd_allocate(shape: int, fd: int, offset: int, length: int):
    """fd_allocate on any small descriptor, any u64 offset and length (left symbolic: the checker
    finds the boundaries -- the empty range, the i64 limit, the size quota -- itself)."""
    s, fd = small_state(shape), pick(fd, FDS)
    offset, length = offset % (1 << 64), length % (1 << 64)
    return s, fd, offset, length, sb.fd_allocate(s, fd, offset, length)
