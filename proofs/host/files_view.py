"""C's view of a descriptor table (`FdTable.files`) says what the table holds, at any number.

fastcalls.c reads a guest's files through this view, without the GIL: a stale or short view would
let fd_seek move a file the guest no longer holds, or with rights it no longer has. The machines
that compare the view with the table after every call (refinement.stateful, host.posix_vs_model,
host.fastcalls) keep to a handful of low numbers; the view's growth (at 16, 32, 64, ... numbers)
and numbers far past its end are reached here, on the table alone (no host: handles are numbers).

Every operation the runtime makes on a table -- `add` (lowest free number), `place` (start-up),
`remove`, `renumber` (onto an open number, near or far), `set_rights` (narrowing) -- on files with
an OS fd, files without one (ModelHost's handles), directories, sockets and streams, in fixed
scenarios (the view growing one number at a time past 64; a file renumbered onto directories at
every number around each growth; sparse numbers placed far out) and sequences drawn from fixed
seeds. After every operation the view must be `files_view_problem`-free, and no operation may fail
but as the table's rules say (EBADF for a number not open; NOTCAPABLE for a right not held).
"""
from __future__ import annotations

import random

from proofs.core import HOST, Counterexample, Outcome, TooLittleEvidence, obligation

SEEDS = range(300)
STEPS = 60
HIGHEST = 80  # numbers drawn up to here: past the view's growth to 32 and 64
GROWN = 70  # descriptors in a scenario's table: its view grows to 16, 32, 64, then 128 numbers
AROUND_GROWTH = (15, 16, 17, 31, 32, 33, 63, 64, 65)
FAR_RENUMBERS = tuple((files, dst) for files in (1, 17) for dst in AROUND_GROWTH if dst >= files)
N_SCENARIO_STEPS = GROWN + (GROWN + 1) * len(FAR_RENUMBERS) + 6
N_STEPS = len(SEEDS) * STEPS + N_SCENARIO_STEPS


class Table:
    """An FdTable and the operations on it, each followed by a check of its view."""

    def __init__(self, where: str) -> None:
        from vwasm.fdtable import FdTable
        self.fds, self.where, self.steps, self.next_handle = FdTable(), where, 0, 100

    def descriptor(self, kind: str, rights: int = (1 << 29) - 1):
        from vwasm.fdtable import Descriptor
        from vwasm.model.wasi import Filetype
        self.next_handle += 1
        handle = object() if kind == "file without fd" else self.next_handle
        return Descriptor("file" if kind.startswith("file") else kind, handle, Filetype.REGULAR_FILE, rights, rights)

    def do(self, what: str, op, *args):
        """Run `op(*args)` on the table: its result, or the WasiError it raised; then check the view."""
        from vwasm.model.wasi import WasiError
        self.steps += 1
        try:
            result = op(*args)
        except WasiError as e:
            result = e
        except Exception as e:  # noqa: BLE001 -- any other failure is the table's own
            raise Counterexample(f"{self.where}, step {self.steps}: {what} raised {type(e).__name__}: {e}") from None
        from proofs.refinement.machine import files_view_problem
        problem = files_view_problem(self.fds)
        if problem:
            raise Counterexample(f"{self.where}, step {self.steps}, after {what}: {problem}")
        return result

    def add(self, kind: str) -> int:
        return self.do(f"add({kind})", self.fds.add, self.descriptor(kind))

    def place(self, fd: int, kind: str) -> None:
        if fd not in self.fds:
            self.do(f"place({fd}, {kind})", self.fds.place, fd, self.descriptor(kind))

    def renumber(self, src: int, dst: int) -> None:
        self.do(f"renumber({src}, {dst})", self.fds.renumber, src, dst)


def scenarios() -> int:
    """The view growing a number at a time; a low file renumbered onto directories at numbers around
    each growth, while the view holds 16 or 32 numbers; sparse numbers. The steps run."""
    grown = Table("files added one by one")
    for _ in range(GROWN):
        grown.add("file")
    steps = grown.steps
    for files, dst in FAR_RENUMBERS:
        far = Table(f"{files} file(s), then directories, file 0 renumbered onto {dst}")
        for _ in range(files):
            far.add("file")
        while len(far.fds) < GROWN:
            far.add("dir")
        far.renumber(0, dst)
        steps += far.steps
    sparse = Table("sparse numbers placed far out")
    for fd in (3, 200, 40, 1000):
        sparse.place(fd, "file")
    sparse.renumber(1000, 40)
    sparse.do("remove(200)", sparse.fds.remove, 200)
    return steps + sparse.steps


KINDS = ("file", "file", "file", "file without fd", "dir", "socket", "stdin")


def sequence(seed: int) -> int:
    """STEPS operations drawn from `seed`; the steps run."""
    rng = random.Random(seed)
    table = Table(f"seed {seed}")
    number = lambda: rng.choice((rng.randrange(8), rng.randrange(HIGHEST)))  # noqa: E731
    for _ in range(STEPS):
        op = rng.randrange(6)
        if op == 0:
            table.add(rng.choice(KINDS))
        elif op == 1:
            fd = number()
            if fd in table.fds:
                table.do(f"noop({fd})", lambda: None)
            else:
                table.place(fd, rng.choice(KINDS))
        elif op == 2:
            fd = number()
            table.do(f"remove({fd})", table.fds.remove, fd)
        elif op in (3, 4):
            table.renumber(number(), number())
        else:
            fd = number()
            held = table.fds._fds[fd].rights_base if fd in table.fds else (1 << 29) - 1
            base = held & rng.getrandbits(29) if rng.randrange(4) else held | 1 << rng.randrange(29)
            table.do(f"set_rights({fd}, {base:#x})", table.fds.set_rights, fd, base, 0)
    return table.steps


@obligation("host.files_view", family=HOST, tool="enumeration", guarantee="fd isolation, rights (C's view of a table)",
            bound=f"{N_STEPS} table operations: fixed scenarios through the view's growth, {len(SEEDS)} seeded "
                  f"sequences of {STEPS} over numbers below {HIGHEST}",
            budget=60)
def files_view() -> Outcome:
    """After every operation on a descriptor table, C's view of it (`FdTable.files`, read at the
    address C reads) names exactly the table's files with an OS fd and their base rights, at every
    number, through every growth of the view; and no operation fails but by the table's rules."""
    steps = scenarios() + sum(sequence(seed) for seed in SEEDS)
    if steps < N_STEPS:
        raise TooLittleEvidence(f"{steps} steps of {N_STEPS}")
    return Outcome(f"{steps} table operations, the view checked after each", status="checked")
