"""What `make mutate` mutates, and which obligations each mutated file is run against.

TARGETS: the security-relevant files of impl/ and model/ (PosixHost and abi.py are the trusted
base: no obligation can check them, so they are not mutated), each with the part of it that is
mutated. COVERS: for each file, the obligations that exercise its code, as name patterns -- by
family, so obligations added later under a known prefix are picked up without editing this table.
An obligation under a prefix this table does not know is run for every file (and reported), until
someone maps it.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch


@dataclass(frozen=True)
class Target:
    pattern: str  # repository-relative file glob
    only: tuple[str, ...] = ()  # top-level names to mutate (default: the whole file)
    skip: tuple[str, ...] = ()  # top-level names not to mutate

    def region(self, name: str | None) -> bool:
        if self.only:
            return name in self.only
        return name not in self.skip


TARGETS = (
    Target("impl/memory.py"),
    Target("impl/resolve.py"),
    Target("impl/fdtable.py"),
    Target("impl/syscalls/[!_]*.py"),
    # The start-up grant: the rights of the standard streams and of (read-only) preopens.
    Target("impl/sandbox.py", only=("_STDIO_RIGHTS", "descriptor_table")),
    # The C entries of the cheapest calls: trusted, yet checked against the handlers (host.fastcalls).
    Target("impl/fastcalls.c"),
    # ... and what the runtime tells them: the rights and kinds each entry serves, where they are used.
    Target("impl/fastcalls.py", only=("ENTRIES", "TABLE_NEEDS", "Need", "Library", "serving")),
    # The tables (rights sets, rights per call, limits); the witx enumerations and record layouts
    # are facts checked against the witx text, not code a bug hides in.
    Target("model/wasi.py", only=(
        "ALL_RIGHTS", "FILE_RIGHTS", "DIR_RIGHTS", "DIR_RIGHTS_READONLY", "FILE_RIGHTS_READONLY",
        "STDIN_RIGHTS", "STDOUT_RIGHTS", "STDIO_RIGHTS", "SOCKET_RIGHTS",
        "SYMLINK_BUDGET", "FD_LIMIT", "U32_MAX", "U64_MAX", "I64_MAX")),
    # The rights each call needs (the table, its conditions) and the preopens' grant.
    Target("model/rights.py"),
    Target("model/paths.py"),
    Target("model/fdtable.py"),
    Target("model/net.py"),
    Target("model/fs.py"),
    # The transitions; not the contract machinery (`spec`, `wf`, the policy), which checks the model.
    Target("model/sandbox.py", skip=("spec", "wf", "policy", "rights_only_shrink", "new_effects", "TRANSITIONS")),
)

# Obligation families by name prefix. The crosshair obligations run the model only.
MEMORY, PATHS, RIGHTS, NET = "memory.*", "paths.*", "rights.*", "net.*"
MODEL_REFINEMENT = "refinement.*"  # crosshair on the model, and the stateful machines
RUNTIME_REFINEMENT = ("refinement.*", "!refinement.crosshair*")  # what runs the runtime's handlers
HOST = "host.*"
KNOWN_PREFIXES = ("memory.", "paths.", "rights.", "net.", "refinement.", "host.")

COVERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("impl/memory.py", (MEMORY, *RUNTIME_REFINEMENT, HOST)),
    ("impl/resolve.py", (PATHS, *RUNTIME_REFINEMENT, HOST)),
    ("impl/fdtable.py", (RIGHTS, *RUNTIME_REFINEMENT, HOST)),
    ("impl/syscalls/sock.py", (NET, MEMORY, RIGHTS, *RUNTIME_REFINEMENT, HOST)),
    ("impl/syscalls/*.py", (MEMORY, RIGHTS, *RUNTIME_REFINEMENT, HOST)),
    ("impl/sandbox.py", (RIGHTS, *RUNTIME_REFINEMENT, HOST)),
    ("impl/fastcalls.c", ("host.fastcalls",)),
    ("impl/fastcalls.py", ("host.fastcalls", "host.posix_vs_model")),
    ("model/wasi.py", ("*",)),  # the shared tables: everything may depend on them
    ("model/rights.py", (RIGHTS, MODEL_REFINEMENT, HOST)),  # used by the model and every handler
    ("model/paths.py", (PATHS, MODEL_REFINEMENT, HOST)),
    ("model/fdtable.py", (RIGHTS, MODEL_REFINEMENT)),
    ("model/net.py", (NET, *RUNTIME_REFINEMENT, HOST)),  # no crosshair harness reaches the socket rules
    ("model/fs.py", (PATHS, MODEL_REFINEMENT, HOST)),  # ModelHost is built on model.fs
    ("model/sandbox.py", (MODEL_REFINEMENT, "!refinement.crosshair")),  # that one runs model/paths.py alone
)
# A crosshair harness of one transition (refinement.crosshair.<call>) runs that call's body and the
# helpers it shares (private `_` functions, constants): not another call's body.
ONE_TRANSITION = ("model/sandbox.py", "refinement.crosshair.")


def _reaches(obligation: str, file: str, scope: str) -> bool:
    if file != ONE_TRANSITION[0] or not obligation.startswith(ONE_TRANSITION[1]):
        return True
    from vwasm.model.sandbox import TRANSITIONS
    top = scope.split(".")[0]
    return top not in TRANSITIONS or top == obligation.removeprefix(ONE_TRANSITION[1])


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    ok = any(fnmatch(name, p) for p in patterns if not p.startswith("!"))
    return ok and not any(fnmatch(name, p[1:]) for p in patterns if p.startswith("!"))


def obligations_for(file: str, names, scope: str = "<module>") -> list[str]:
    """The obligations (of `names`) a mutant of `file` (in function `scope`) is run against: the first
    COVERS row whose pattern matches the file, plus every obligation under a prefix the table does
    not know."""
    for pattern, patterns in COVERS:
        if fnmatch(file, pattern):
            break
    else:
        raise KeyError(f"{file} has no row in proofs/mutate/targets.py COVERS")
    return [n for n in names if (_matches(n, patterns) and _reaches(n, file, scope))
            or not n.startswith(KNOWN_PREFIXES)]


def unmapped(names) -> list[str]:
    return [n for n in names if not n.startswith(KNOWN_PREFIXES)]
