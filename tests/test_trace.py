"""`vwasm run --trace/--strace` and `vwasm audit`: a real program's trace passes the audit; the same
trace doctored in one place (a path leaving its preopen, a descriptor never granted, an endpoint off
the netlist, memory out of bounds, a change beneath a read-only preopen, a descriptor from nowhere)
is rejected, naming that effect; an unreadable trace is a clear error (status 2)."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from difftest import build_tree, wasm_path
from vwasm.sandbox import Sandbox
from vwasm.trace import Recorder, audit_trace

CLI = [sys.executable, "-m", "vwasm.cli"]
TREE = {"in.txt": "line one\nline two\n", "d/x": "x\n"}


def cli(*args, **kw):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def cp_trace(tmp_path_factory):
    """A trace of `cp` (opens beneath the preopen, a walk through d/, reads, writes, closes)."""
    root = tmp_path_factory.mktemp("cp")
    build_tree(root / "sandbox", TREE)
    trace = root / "cp.jsonl"
    r = cli("run", "--dir", f"{root / 'sandbox'}::/sandbox", "--trace", trace, wasm_path("p1_cp_cat_ls"),
            "cp", "/sandbox/in.txt", "/sandbox/d/out.txt")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert (root / "sandbox" / "d" / "out.txt").read_text() == TREE["in.txt"]
    return [json.loads(line) for line in trace.read_text().splitlines()]


def audit(tmp_path, lines) -> subprocess.CompletedProcess:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return cli("audit", path)


def doctored(lines, kind, change, where=lambda e: True):
    """A copy of the trace with the first effect of `kind` for which `where` holds changed; (copy, index)."""
    lines = json.loads(json.dumps(lines))
    for n, line in enumerate(lines[1:], start=2):
        for e in line["effects"]:
            if e["effect"] == kind and where(e):
                change(e)
                return lines, n
    raise AssertionError(f"no {kind} effect to doctor")


def test_real_trace_passes_audit(cp_trace, tmp_path):
    header, calls = cp_trace[0], cp_trace[1:]
    assert header["policy"]["preopens"] == [{"fd": 3, "guest": "/sandbox", "read_only": False}]
    assert header["policy"]["limits"]["max_fds"] > 3
    paths = {e["path"] for line in calls for e in line["effects"] if e["effect"] == "path"}
    assert {"in.txt", "d", "d/out.txt"} <= paths  # relative to the preopen, the walk followed back
    opens = [line for line in calls if line["call"] == "path_open"]
    assert [line["args"]["path"] for line in opens] == ["in.txt", "d/out.txt"]
    assert all(line["errno"] == "SUCCESS" and line["opened"] == [line["results"]["fd_out"]] for line in opens)
    writes = [line for line in calls if line["call"] == "fd_write" and line["args"]["fd"] != 1]
    assert sum(line["results"]["nwritten"] for line in writes) == len(TREE["in.txt"])
    r = audit(tmp_path, cp_trace)
    assert r.returncode == 0 and r.stdout.startswith(f"vwasm: audit: safe: {len(calls)} calls"), r


@pytest.mark.parametrize("bad", ["../secret", "/etc/passwd", "d/../../secret", "./in.txt"])
def test_path_leaving_its_preopen_is_rejected(cp_trace, tmp_path, bad):
    lines, n = doctored(cp_trace, "path", lambda e: e.update(path=bad), lambda e: e["path"] == "d/out.txt")
    r = audit(tmp_path, lines)
    assert r.returncode == 1, r
    assert r.stdout.startswith(f"vwasm: audit: UNSAFE: line {n} (path_open): effect ") and json.dumps(bad) in r.stdout


def test_path_from_an_ungranted_directory_is_rejected(cp_trace, tmp_path):
    lines, n = doctored(cp_trace, "path", lambda e: e.update(preopen=7))
    r = audit(tmp_path, lines)
    assert r.returncode == 1 and f"line {n} " in r.stdout and '"preopen":7' in r.stdout, r


@pytest.mark.parametrize("fd", [42, 4])  # never granted; closed before the last line (cp's "copied" to fd 1)
def test_descriptor_not_owned_is_rejected(cp_trace, tmp_path, fd):
    lines, n = doctored(cp_trace, "fd", lambda e: e.update(fd=fd), lambda e: e["fd"] == 1)
    assert n == len(lines)
    r = audit(tmp_path, lines)
    assert r.returncode == 1 and f"line {n} " in r.stdout and f'"fd":{fd}' in r.stdout, r


def test_memory_out_of_bounds_is_rejected(cp_trace, tmp_path):
    lines, n = doctored(cp_trace, "mem_write", lambda e: e.update(addr=lines_mem(cp_trace) - 2))
    r = audit(tmp_path, lines)
    assert r.returncode == 1 and f"line {n} " in r.stdout and "mem_write" in r.stdout, r


def lines_mem(lines) -> int:
    return min(line["mem_size"] for line in lines[1:])


def test_memory_past_the_limit_is_rejected(cp_trace, tmp_path):
    lines = json.loads(json.dumps(cp_trace))
    lines[-1]["mem_size"] = lines[0]["policy"]["limits"]["max_memory"] + 65536
    r = audit(tmp_path, lines)
    assert r.returncode == 1 and "past --max-memory" in r.stdout, r


def test_descriptor_from_a_call_that_creates_none_is_rejected(cp_trace, tmp_path):
    lines = json.loads(json.dumps(cp_trace))
    line = next(line for line in lines[1:] if line["call"] == "fd_read")
    line["opened"] = [9]
    r = audit(tmp_path, lines)
    assert r.returncode == 1 and "descriptors [9] appear, but fd_read creates none" in r.stdout, r


def test_change_beneath_a_read_only_preopen_is_rejected(tmp_path):
    root = tmp_path / "ro"
    build_tree(root / "sandbox", TREE)
    trace = tmp_path / "ro.jsonl"
    r = cli("run", "--dir-ro", f"{root / 'sandbox'}::/sandbox", "--trace", trace, wasm_path("p1_cp_cat_ls"),
            "cat", "/sandbox/d/x")
    assert r.returncode == 0 and r.stdout == "x\n", r
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert lines[0]["policy"]["preopens"][0]["read_only"] is True
    assert audit(tmp_path, lines).returncode == 0
    lines, n = doctored(lines, "path", lambda e: e.update(op="unlinkat"))
    r = audit(tmp_path, lines)
    assert r.returncode == 1 and f"line {n} " in r.stdout and "unlinkat" in r.stdout, r


def test_endpoint_off_the_netlist_is_rejected(tmp_path):
    from test_sockets import echo_server, free_port, sockets_config

    port, server = echo_server()
    out, trace = [], io.StringIO()
    cfg = sockets_config(["client", port, free_port()], out, allow=[f"tcp:127.0.0.1:{port}"])
    cfg.enable_audit(keep_trace=False, recorder=Recorder(cfg, trace))
    status = Sandbox(str(wasm_path("p1_sockets")), cfg).run()
    server.join(10)
    assert status == 0
    lines = [json.loads(line) for line in trace.getvalue().splitlines()]
    assert lines[0]["policy"]["netlist"] == [f"tcp:127.0.0.1/32:{port}-{port}"]
    connects = [e for line in lines[1:] for e in line["effects"] if e["effect"] == "connect"]
    assert [(e["addr"], e["port"]) for e in connects] == [("127.0.0.1", port)]
    assert audit(tmp_path, lines).returncode == 0
    for change in ({"port": port + 1}, {"addr": "10.0.0.1"}, {"proto": 17}):
        bad, n = doctored(lines, "connect", lambda e: e.update(change))
        r = audit(tmp_path, bad)
        assert r.returncode == 1 and f"line {n} (sock_connect)" in r.stdout and '"effect":"connect"' in r.stdout, r
    bad, n = doctored(lines, "shutdown", lambda e: e.update(fd=50))
    assert audit(tmp_path, bad).returncode == 1


@pytest.mark.parametrize("content, says", [
    ("", "empty: no header line"),
    ("not json\n", "line 1: not JSON"),
    ('{"call": "fd_read"}\n', "line 1: not a vwasm trace header"),
    ('{"vwasm_trace": 1, "policy": {}}\n', "line 1: bad policy in the header"),
    (None, "line 2: not JSON"),  # the real header, then garbage
    ("header+effect", "line 2: not a trace record"),
])
def test_unreadable_trace_is_a_clear_error(cp_trace, tmp_path, content, says):
    path = tmp_path / "bad.jsonl"
    if content is None:
        content = json.dumps(cp_trace[0]) + "\n{oops\n"
    elif content == "header+effect":
        content = json.dumps(cp_trace[0]) + "\n" + json.dumps({"call": "x", "mem_size": 0, "effects": [
            {"effect": "teleport"}]}) + "\n"
    path.write_text(content)
    r = cli("audit", path)
    assert r.returncode == 2 and r.stdout == "", r
    assert r.stderr == f"vwasm: error: unreadable trace {path}: {r.stderr.split(': ', 3)[-1]}"
    assert says in r.stderr and r.stderr.count("\n") == 1, r.stderr
    missing = cli("audit", tmp_path / "nothing.jsonl")
    assert missing.returncode == 2 and missing.stderr.startswith("vwasm: error: cannot read trace"), missing


def test_strace_prints_one_line_per_call(tmp_path):
    root = tmp_path / "s"
    build_tree(root / "sandbox", TREE)
    trace = tmp_path / "s.jsonl"
    r = cli("run", "--dir", f"{root / 'sandbox'}::/sandbox", "--strace", "--trace", trace,
            wasm_path("p1_cp_cat_ls"), "cat", "/sandbox/d/x", "/sandbox/nope")
    assert r.returncode == 1 and r.stdout == "x\ncat: /sandbox/nope: ENOENT\n", r
    calls = trace.read_text().splitlines()[1:]
    printed = r.stderr.splitlines()
    assert len(printed) == len(calls) and all(line.startswith("[vwasm] ") for line in printed)
    assert any('path_open(fd=3' in p and 'path="d/x"' in p and "= SUCCESS {fd_out=4}" in p
               and "[openat /sandbox/d, openat /sandbox/d/x]" in p for p in printed), printed
    assert any('path="nope"' in p and "= NOENT" in p for p in printed)
    assert printed[-1] == "[vwasm] proc_exit(code=1) = exit 1" and json.loads(calls[-1])["exit"] == 1


def test_audit_trap_is_in_the_trace(tmp_path, monkeypatch):
    """A resolver bug handing `..` to the host: audit mode refuses the step live, the trace holds that
    call with its trap and the unsafe effect, and `vwasm audit` rejects the trace there too."""
    import vwasm
    from vwasm import syscalls

    build_tree(tmp_path / "sandbox", TREE)
    monkeypatch.setattr(syscalls.path, "open_at",
                        lambda host, start, path, flags, follow, mode=0o666: host.open_file(start, "..", flags, mode))
    out, trace = [], io.StringIO()
    cfg = vwasm.Config()
    cfg.argv = ["p1_cp_cat_ls", "cat", "/sandbox/in.txt"]
    cfg.preopen_dir(str(tmp_path / "sandbox"), "/sandbox")
    cfg.stdout_custom(out.append)
    cfg.enable_audit(keep_trace=False, recorder=Recorder(cfg, trace))
    box = Sandbox(str(wasm_path("p1_cp_cat_ls")), cfg)
    assert box.run() == 134 and box.trap_message.startswith("audit: unsafe effect PathAccess(")
    lines = [json.loads(line) for line in trace.getvalue().splitlines()]
    last = lines[-1]
    assert last["call"] == "path_open" and last["trap"].startswith("audit: unsafe effect PathAccess(")
    assert {"effect": "path", "preopen": 3, "path": "..", "op": "openat"} in last["effects"]
    verdict = audit_trace(json.dumps(line) for line in lines)
    assert verdict.unsafe is not None and f"line {len(lines)} (path_open)" in verdict.unsafe


def test_trace_that_cannot_be_written_is_an_error(tmp_path):
    build_tree(tmp_path / "sandbox", TREE)
    args = ["--dir", f"{tmp_path / 'sandbox'}::/sandbox"]
    r = cli("run", *args, "--trace", tmp_path / "no" / "t.jsonl", wasm_path("p1_cp_cat_ls"), "cat", "/sandbox/d/x")
    assert r.returncode == 1 and r.stdout == "" and r.stderr.startswith("vwasm: error: cannot write trace"), r
    full = cli("run", *args, "--trace", "/dev/full", wasm_path("p1_cp_cat_ls"), "cat", "/sandbox/d/x")
    assert full.returncode == 1 and full.stdout == "x\n", full  # the guest ran; its trace is lost
    assert full.stderr == "vwasm: error: the trace is incomplete: [Errno 28] No space left on device\n"


def test_demo_trace_shows_the_refused_escapes_and_passes_audit(tmp_path):
    (tmp_path / "sandbox").mkdir()
    trace = tmp_path / "demo.jsonl"
    r = cli("run", "--dir", f"{tmp_path / 'sandbox'}::/sandbox", "--trace", trace, wasm_path("demo"))
    assert r.returncode == 0 and "all escape attempts refused" in r.stdout, r
    calls = [json.loads(line) for line in trace.read_text().splitlines()[1:]]
    refused = [c for c in calls if c["call"] == "path_open" and c["args"]["path"] == "../outside.txt"]
    assert refused and all(c["errno"] != "SUCCESS" for c in refused)
    assert all(e["effect"] == "mem_read" for c in refused for e in c["effects"])  # the host never saw it
    assert cli("audit", trace).returncode == 0


@pytest.mark.parametrize("text", ["tcp:127.0.0.1:8080", "udp:[::1]:53", "tcp:10.0.0.0/8:80-90",
                                  "udp:[2001:db8::/32]:1-65535", "tcp:0.0.0.0/0:0-65535"])
def test_header_netlist_means_the_same_rules(text):
    from vwasm.model import net
    from vwasm.trace import rule_text

    rule = net.parse_rule(text)
    assert net.parse_rule(rule_text(rule)) == rule
