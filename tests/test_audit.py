"""Audit mode (vwasm.audit): real guests run the same with it on, with a non-empty, safe trace; and
planted faults -- a handler working through a handle no preopen derives, a `..` or multi-component
name handed to the host, a foreign descriptor, a memory access past a disabled bounds check -- stop
the guest with the trap `audit: unsafe effect ...` before the access reaches the world.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

import vwasm
from vwasm import abi, syscalls
from vwasm.audit import Audit, AuditViolation, TracingGuestMemory, TracingHost, ident
from vwasm.model_host import ModelHost
from vwasm.posix_host import PosixHost
from vwasm.memory import GuestMemory
from vwasm.model.effects import FdAccess, MemRead, MemWrite, PathAccess, Policy, trace_safe
from vwasm.resolve import Open
from vwasm.sandbox import TRAP_STATUS, Sandbox

from difftest import DIR, build_tree, snapshot, wasm_path
from test_escapes import HOST_LINKS, make_tree as escape_tree

KINDS_FS = {"PathAccess", "FdAccess", "MemRead", "MemWrite"}


@dataclass
class Run:
    status: int
    stdout: bytes
    stderr: bytes
    trap: str | None
    trace: list | None
    tree: dict
    box: Sandbox

    @property
    def kinds(self) -> set[str]:
        return {type(e).__name__ for e in self.trace}


def run_box(name, root: Path, args=(), tree=None, audit=False, stdin=b"", host=None,
            preopens=(("sandbox", "/sandbox"),), before=None) -> Run:
    build_tree(root, tree)
    cfg = vwasm.Config()
    cfg.argv = [name, *args]
    out, err = [], []
    cfg.stdout_custom(out.append)
    cfg.stderr_custom(err.append)
    cfg.stdin_bytes(stdin)
    for h, guest in preopens:
        (root / h).mkdir(parents=True, exist_ok=True)
        cfg.preopen_dir(str(root / h), guest)
    if audit:
        cfg.enable_audit()
    box = Sandbox(str(wasm_path(name)), cfg, host=host)
    if before is not None:
        before(box)
    status = box.run()
    return Run(status, b"".join(out), b"".join(err), box.trap_message, box.trace, snapshot(root), box)


def assert_memory_safe(r: Run) -> None:
    """The whole trace: every memory access in bounds, every path step canonical (the descriptor
    part was judged call by call, against the handles held at the time)."""
    size = r.box.cx.mem.size
    assert trace_safe(tuple(r.trace), Policy(mem_size=size))
    assert all("/" not in e.relpath for e in r.trace if isinstance(e, PathAccess))


def same_with_and_without(tmp_path, name, args=(), tree=None, **kw) -> Run:
    """Run `name` plain and audited in twin trees: same status, output and resulting tree."""
    plain = run_box(name, tmp_path / "plain", args, tree, **kw)
    audited = run_box(name, tmp_path / "audit", [a.replace("/plain/", "/audit/") for a in args], tree,
                      audit=True, **kw)
    norm = lambda b: b.replace(str(tmp_path / "audit").encode(), str(tmp_path / "plain").encode())
    assert plain.trace is None and audited.trace is not None
    assert audited.trap is None, audited.trap
    assert (audited.status, norm(audited.stdout), norm(audited.stderr)) == (plain.status, plain.stdout, plain.stderr)
    a, p = str(tmp_path / "audit"), str(tmp_path / "plain")  # absolute symlink texts name their own tree
    tree = {k: tuple(x.replace(a, p) if isinstance(x, str) else x for x in v) for k, v in audited.tree.items()}
    assert tree == plain.tree
    assert audited.trace and audited.box.audit.count > 0
    assert_memory_safe(audited)
    return audited


# ------------------------------------------------------------------ real guests, audit on


@pytest.mark.parametrize("name", ["p1_file_read_write", "p1_path_open", "p1_file_append", "p1_rename",
                                  "p1_link", "p1_symlink_readlink", "p1_fd_readdir", "p1_dir_create_remove",
                                  "p1_path_filestat", "p1_fd_filestat_set", "p1_file_pread_pwrite"])
def test_fs_programs_same_under_audit(tmp_path, name):
    r = same_with_and_without(tmp_path, name)
    assert KINDS_FS <= r.kinds, r.kinds


CP_TREE = {"sandbox/in.txt": "line one\nline two\n", "sandbox/d/x": "x", "sandbox/d/y": DIR}


@pytest.mark.parametrize("argv", [["cat", "/sandbox/in.txt"], ["cp", "/sandbox/in.txt", "/sandbox/out.txt"],
                                  ["ls", "/sandbox/d"], ["rm", "/sandbox/d/x"], ["cat", "/sandbox/missing"]])
def test_cp_cat_ls_same_under_audit(tmp_path, argv):
    r = same_with_and_without(tmp_path, "p1_cp_cat_ls", argv, CP_TREE)
    assert {"PathAccess", "FdAccess", "MemRead", "MemWrite"} <= r.kinds
    if argv[0] == "cat" and "in.txt" in argv[1]:
        assert r.stdout == b"line one\nline two\n"


@pytest.mark.parametrize("name,args", [
    ("escape_dotdot", []), ("escape_reenter", []), ("escape_symlink_guest", []),
    ("escape_symlink_host", HOST_LINKS), ("escape_dangling_creat", ["hdangle", "hdangle_abs"]),
    ("escape_trailing_slash", ["hslash"]), ("escape_renumber", []), ("escape_absolute", None),
])
def test_escape_programs_same_under_audit(tmp_path, name, args):
    if args is None:  # the canary's real host path
        args = [str(tmp_path / "plain" / "canary")]
    r = same_with_and_without(tmp_path, name, args, escape_tree)
    assert b"successes=0" in r.stdout or name in ("escape_renumber", "escape_reenter", "escape_symlink_guest")
    assert "PathAccess" in r.kinds
    # every path step the walks took named one canonical component
    steps = [e.relpath for e in r.trace if isinstance(e, PathAccess)]
    assert steps and ".." not in steps


def test_stdio_and_args_programs_same_under_audit(tmp_path):
    r = same_with_and_without(tmp_path, "p1_stdin_to_stdout", stdin=b"abc\n" * 100)
    assert {"FdAccess", "MemRead", "MemWrite"} <= r.kinds
    r = same_with_and_without(tmp_path / "args", "p1_args_env", ["x", "yy"])
    assert "MemWrite" in r.kinds
    r = same_with_and_without(tmp_path / "rand", "p1_random_get")
    assert "MemWrite" in r.kinds


def test_derivation_starts_at_the_preopen(tmp_path):
    """The walk's first step is from the preopen's handle; `cat /sandbox/d/x` enters `d` through a
    handle openat returned, and every step names one canonical component."""
    seen = {}
    r = run_box("p1_cp_cat_ls", tmp_path, ["cat", "/sandbox/d/x"], CP_TREE, audit=True,
                before=lambda box: seen.update(
                    preopen=next(d.handle for _, d in box.cx.fds.items() if d.preopen == "/sandbox")))
    assert r.status == 0 and r.stdout == b"x"
    steps = [(e.base, e.relpath) for e in r.trace if isinstance(e, PathAccess)]
    assert steps[0] == (ident(seen["preopen"]), "d")
    assert (steps[1][1], steps[1][0] != steps[0][0]) == ("x", True)
    assert r.box.audit.derived == {}  # everything the guest opened was closed (Sandbox.close included)


def test_oob_guest_pointer_is_the_ordinary_trap_not_an_effect(tmp_path):
    """A bad pointer refused by the bounds check was never accessed: same trap as without audit."""
    plain = run_box("p1_oob_iovec", tmp_path / "p", ["nwritten"])
    audited = run_box("p1_oob_iovec", tmp_path / "a", ["nwritten"], audit=True)
    assert plain.status == audited.status == TRAP_STATUS
    assert audited.trap == plain.trap and "out-of-bounds" in audited.trap
    assert_memory_safe(audited)


def test_model_host_under_audit(tmp_path):
    """TracingHost wraps ModelHost too: its handles are objects, identities negative."""
    from vwasm.model import fs as mfs

    host = ModelHost(mfs.FileSystem())
    r = run_box("p1_file_read_write", tmp_path, audit=True, host=host)
    assert r.trap is None and r.status == 0
    assert b"final contents: <ALPHA beta gamma" in r.stdout
    assert KINDS_FS <= r.kinds
    assert all(e.base < 0 for e in r.trace if isinstance(e, PathAccess))
    assert_memory_safe(r)


def test_production_path_untouched(tmp_path):
    r = run_box("p1_cp_cat_ls", tmp_path, ["cat", "/sandbox/in.txt"], CP_TREE)
    assert type(r.box.host) is PosixHost and type(r.box.cx.mem) is GuestMemory
    assert r.box.trace is None and r.box.audit is None
    assert abi._audit_source("fd_write", "iiii", "i") != abi._source("iiii", "i")
    assert "begin" not in abi._source("iiii", "i")


# ------------------------------------------------------------------ planted faults


@pytest.fixture
def outside(tmp_path):
    """A host directory beside the sandbox with a secret in it; the guest never was granted it."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "in.txt").write_text("TOP SECRET\n")
    return d


def plant_open_at(monkeypatch, fault):
    """path_open's resolution replaced by a faulty one: fault(host, start, path) -> (dirh, name)."""
    def evil_open_at(host, start, path, flags, follow, mode=0o666):
        dirh, name = fault(host, start, path)
        return host.open_file(dirh, name, flags, mode)
    monkeypatch.setattr(syscalls.path, "open_at", evil_open_at)


def cat(tmp_path, audit, path="/sandbox/in.txt"):
    return run_box("p1_cp_cat_ls", tmp_path / ("a" if audit else "p"), ["cat", path],
                   {"sandbox/in.txt": "inside\n", "sandbox/d/x": "x"}, audit=audit)


def test_fault_foreign_directory_handle(tmp_path, monkeypatch, outside):
    foreign = os.open(outside, os.O_RDONLY | os.O_DIRECTORY)
    try:
        plant_open_at(monkeypatch, lambda host, start, path: (foreign, path.rsplit("/", 1)[-1]))
        plain = cat(tmp_path, audit=False)
        assert plain.stdout == b"TOP SECRET\n"  # the fault is real: without audit it leaks
        audited = cat(tmp_path, audit=True)
        assert audited.status == TRAP_STATUS and b"SECRET" not in audited.stdout
        assert audited.trap.startswith("audit: unsafe effect PathAccess(base=%d" % foreign), audited.trap
        assert "path_open" in audited.trap
    finally:
        os.close(foreign)


@pytest.mark.parametrize("name", ["..", "d/x", "../outside/in.txt"])
def test_fault_bad_name_to_host(tmp_path, monkeypatch, name):
    """A resolver handing `..` or a whole path to the host: PosixHost would refuse it, but the audit
    stops it first, at the host wrapper (it never reaches PosixHost)."""
    reached = []
    real = PosixHost.open_file
    monkeypatch.setattr(PosixHost, "open_file", lambda self, d, n, *a, **k: (reached.append(n), real(self, d, n, *a, **k))[1])
    plant_open_at(monkeypatch, lambda host, start, path: (start, name))
    r = cat(tmp_path, audit=True)
    assert r.status == TRAP_STATUS and r.trap.startswith("audit: unsafe effect PathAccess("), r.trap
    assert f"relpath={name!r}" in r.trap
    assert name not in reached


def test_fault_foreign_descriptor_write(tmp_path, monkeypatch, outside):
    """An fd_write handler that writes through a host fd the guest does not own: caught before the
    write happens."""
    victim = outside / "victim.txt"
    foreign = os.open(victim, os.O_WRONLY | os.O_CREAT, 0o644)

    def evil_fd_write(cx, fd, iovs, iovs_len, nwritten_ptr):
        cx.fds.get(fd)
        n = cx.host.writev(foreign, cx.mem.iovecs(iovs, iovs_len))
        cx.mem.put_u32(nwritten_ptr, n)
        return 0

    monkeypatch.setitem(syscalls.HANDLERS, "fd_write", evil_fd_write)
    try:
        plain = cat(tmp_path, audit=False)
        assert victim.read_bytes() == b"inside\n"  # the fault is real
        victim.write_bytes(b"")
        r = cat(tmp_path, audit=True)
        assert r.status == TRAP_STATUS
        assert r.trap == f"audit: unsafe effect FdAccess(fd={foreign}) in fd_write", r.trap
        assert victim.read_bytes() == b""
    finally:
        os.close(foreign)


@pytest.mark.parametrize("mode,effect", [("iovs", "MemRead"), ("nwritten", "MemWrite")])
def test_fault_bounds_check_disabled(tmp_path, monkeypatch, mode, effect):
    """GuestMemory.check planted to accept anything: the access is recorded and refused by the audit
    (without audit the same fault ends in an internal error, or worse, after the side effect)."""
    monkeypatch.setattr(GuestMemory, "check", lambda self, ptr, length, align=1: None)
    r = run_box("p1_oob_iovec", tmp_path, [mode], audit=True)
    assert r.status == TRAP_STATUS
    assert r.trap.startswith(f"audit: unsafe effect {effect}("), r.trap
    if mode == "iovs":  # caught before the write: nothing after the guest's own first line
        assert r.stdout == b"mode=iovs\n"


def test_cli_audit_flag(tmp_path):
    root = tmp_path / "t"
    build_tree(root, CP_TREE)
    cmd = [sys.executable, "-m", "vwasm.cli", "run"]
    args = ["--dir", f"{root / 'sandbox'}::/sandbox", str(wasm_path("p1_cp_cat_ls")), "cat", "/sandbox/in.txt"]
    plain = subprocess.run([*cmd, *args], capture_output=True, timeout=60)
    audited = subprocess.run([*cmd, "--audit", *args], capture_output=True, timeout=60)
    assert plain.returncode == audited.returncode == 0
    assert plain.stdout == audited.stdout == b"line one\nline two\n"
    assert audited.stderr == b""
    assert "--audit" in subprocess.run([*cmd, "--help"], capture_output=True, text=True).stdout


# ------------------------------------------------------------------ the derivation, unit by unit


def test_closed_handle_leaves_the_derived_set(tmp_path):
    (tmp_path / "d").mkdir()
    inner = PosixHost()
    root = inner.open_preopen(str(tmp_path))
    audit = Audit()
    host = TracingHost(inner, audit)
    audit.derived[ident(root)] = root
    try:
        h = host.openat(root, "d", Open.PATH | Open.DIRECTORY)
        assert ident(h) in audit.derived
        host.fstatat(h, ".")
        host.close(h)
        assert ident(h) not in audit.derived
        # the same fd number, now opened outside the derivation, is not the walk handle any more
        again = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with pytest.raises(AuditViolation):
                host.fstatat(again, "d")
        finally:
            os.close(again)
        assert audit.trace[-1] == PathAccess(ident(again), "d", False)
        assert FdAccess(ident(h)) in audit.trace
    finally:
        inner.close(root)


def test_tracing_memory_records_each_access():
    audit = Audit()
    mem = TracingGuestMemory.over(bytearray(64), audit)
    mem.put_u32(8, 7)
    assert mem.u32(8) == 7
    mem.write(16, b"abc")
    assert mem.read(16, 3) == b"abc"
    assert audit.trace == [MemWrite(8, 4), MemRead(8, 4), MemWrite(16, 3), MemRead(16, 3)]
    with pytest.raises(Exception, match="out-of-bounds"):
        mem.read(62, 4)  # refused by the check: no effect
    assert len(audit.trace) == 4
    mem.write(32, "é/x".encode())
    assert mem.path(32, 4) == "é/x" and audit.trace[-1] == MemRead(32, 4)


def test_tracing_memory_overrides_every_access():
    """An accessor GuestMemory gains must be traced too: each one that reaches guest bytes is overridden
    (a path read once bypassed `read`, and its MemRead went missing)."""
    from vwasm.memory import GuestMemory
    untouched = {"check", "check_record", "sync", "over", "_reaches", "_refresh"}  # no guest byte moves
    accessors = {name for name, v in vars(GuestMemory).items() if callable(v) and not name.startswith("__")}
    assert accessors - untouched - set(vars(TracingGuestMemory)) == set()


# ------------------------------------------------------------------ sockets under audit


def run_sockets(args, *, allow=(), listen=(), audit=True):
    from test_sockets import sockets_config

    out = []
    cfg = sockets_config(args, out, allow=allow, listen=listen)
    if audit:
        cfg.enable_audit()
    box = Sandbox(str(wasm_path("p1_sockets")), cfg)
    status = box.run()
    return status, b"".join(out).decode().splitlines(), box


def test_socket_client_under_audit():
    from test_sockets import echo_server, free_port

    port, server = echo_server()
    status, lines, box = run_sockets(["client", port, free_port()], allow=[f"tcp:127.0.0.1:{port}"])
    server.join(10)
    assert status == 0 and box.trap_message is None, box.trap_message
    assert "connect 127.0.0.1:port: SUCCESS" in lines and "recv: SUCCESS <pong" in lines
    kinds = Counter(type(e).__name__ for e in box.trace)
    assert kinds["SockCreate"] >= 1 and kinds["NetAccess"] == 1 and kinds["Shutdown"] == 1, kinds
    # the refused connects never reached the host: the one NetAccess is the allowed endpoint
    (access,) = [e for e in box.trace if type(e).__name__ == "NetAccess"]
    assert (access.addr, access.port) == (0x7F000001, port)


def test_fault_netlist_bypassed_is_caught():
    """A connect handler whose netlist check was planted to allow everything: the audit judges the
    endpoint against the netlist again, at the host, and stops the connect before it is made."""
    from vwasm.model import net
    from test_sockets import free_port

    port, bad = free_port(), free_port()  # no server: the guest is stopped before any connect
    real, anywhere = net.connect_rule, (net.parse_rule("tcp:0.0.0.0/0:0-65535"),)
    with pytest.MonkeyPatch.context() as mp:  # the handler's decision, broken: every endpoint allowed
        mp.setattr(net, "connect_rule", lambda netlist, *a: real(anywhere, *a))
        status, lines, box = run_sockets(["client", port, bad], allow=[f"tcp:127.0.0.1:{port}"])
    assert status == TRAP_STATUS
    assert lines[-1] == "send before connect: ENOTCONN"  # stopped at the first connect, 10.1.2.3
    assert box.trap_message.startswith("audit: unsafe effect NetAccess("), box.trap_message
    assert f"addr={0x0A010203}" in box.trap_message


def test_socket_listener_under_audit():
    from test_sockets import free_port, hello_client

    port = free_port()
    t, result = hello_client(port)
    status, lines, box = run_sockets(["server", 3], listen=[("127.0.0.1", port)])
    t.join(10)
    assert status == 0 and box.trap_message is None, box.trap_message
    assert "accept: SUCCESS" in lines and result["reply"] == b"pong\n"
    assert {"FdAccess", "MemRead", "MemWrite"} <= {type(e).__name__ for e in box.trace}
