"""Fuzzing every handler with hostile raw arguments: the only outcomes allowed are an errno or a
trap (DESIGN §1.5: no Python exception escapes, no hang, the table stays well formed), and nothing
outside the sandbox changes."""
import os
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guestcalls import MEM, Guest
from vwasm.errors import ProcExit, Trap
from vwasm.posix_host import PosixHost
from vwasm.model.wasi import DIR_RIGHTS, SIGNATURES, Errno, Oflags, WasiError
from vwasm.syscalls import HANDLERS

# Calls that may block by design are exercised with harmless arguments elsewhere.
BLOCKING = {"poll_oneoff"}  # a clock subscription may ask to sleep for centuries
CALLS = sorted(n for n in SIGNATURES if n in HANDLERS and n not in BLOCKING)

# Descriptors 0 (a file), 1 (a directory) and 3 (the preopen) exist; paths lie at PATHS.
PATHS = {300: b"f", 320: b"out/secret", 352: b"new", 368: b"../box/f", 384: b"d/"}
U32 = st.one_of(st.sampled_from([0, 1, 2, 3, 4, 5, 7, 8, 64, 256, *PATHS, MEM - 8, MEM - 1, MEM,
                                 MEM + 1, 0x7FFF_FFFF, 0xFFFF_FFF8, 0xFFFF_FFFF]),
                st.integers(0, 16), st.integers(0, 0xFFFF_FFFF))
U64 = st.one_of(st.sampled_from([0, 1, 4096, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]),
                st.integers(0, (1 << 64) - 1))


FD = st.one_of(st.sampled_from([0, 1, 3]), U32)  # mostly descriptors that exist


def args_for(name: str):
    params = SIGNATURES[name][0]
    kinds = [U32 if k == "i" else U64 for k in params]
    if name.startswith(("fd_", "path_", "sock_")):
        kinds[0] = FD
    return st.tuples(*kinds)


@st.composite
def calls(draw):
    name = draw(st.sampled_from(CALLS))
    return name, draw(args_for(name))


def canary_state(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st_ = os.lstat(p)
            out[p] = (st_.st_mode, st_.st_size, st_.st_mtime_ns,
                      open(p, "rb").read() if os.path.isfile(p) and not os.path.islink(p) else None)
    return out


@settings(max_examples=1500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(calls(), min_size=1, max_size=12), st.binary(min_size=0, max_size=256))
def test_hostile_arguments_give_an_errno_or_a_trap(tmp_path_factory, sequence, noise):
    root = tmp_path_factory.mktemp("fuzz")
    box, canary = root / "box", root / "canary"
    box.mkdir()
    canary.mkdir()
    (canary / "secret").write_bytes(b"secret")
    (box / "f").write_bytes(b"inside")
    os.symlink("../canary", box / "out")
    before = canary_state(canary)
    host = PosixHost()
    g = Guest(host, {"/box": host.open_preopen(str(box))})
    (box / "d").mkdir()
    # a file and a directory open beside the preopen (fds 0 and 1: no standard streams here)
    assert g.open(3, "f")[0] == Errno.SUCCESS
    assert g.open(3, "d", Oflags.DIRECTORY, base=DIR_RIGHTS)[0] == Errno.SUCCESS
    g.raw[0:len(noise)] = noise  # arbitrary bytes where pointers land
    struct.pack_into("<IIII", g.raw, 256, 512, 16, 600, 4)  # a valid iovec pair at 256
    for at, text in PATHS.items():
        g.raw[at:at + len(text)] = text
    try:
        for name, args in sequence:
            try:
                result = HANDLERS[name](g.cx, *args)
                assert result is None or isinstance(result, int), (name, args, result)
                if isinstance(result, int):
                    assert Errno(result) is not None
            except (WasiError, Trap, ProcExit):
                pass
            # the descriptor table stays well formed: every entry names a live handle
            for fd, desc in g.cx.fds.items():
                assert 0 <= fd and desc.handle is not None
    finally:
        for fd, desc in g.cx.fds.items():
            try:
                host.close(desc.handle)
            except WasiError:
                pass
    assert canary_state(canary) == before


# ------------------------------------------------------------------ the same through a real instance
# tests/fuzz_wasm.py (`make fuzz` runs it for as long as asked): every host function called from wasm
# through vwasm.Sandbox in audit mode with a trace recorder; here a fixed number of its programs, the
# programs saved in tests/fuzz_seeds/ replayed, and planted faults of each kind it looks for found.
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SEEDS = Path(__file__).parent / "fuzz_seeds"
PROGRAMS = 40  # fuzz_wasm programs 0..39: ~350 host calls


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    from fuzz_wasm import Fuzzer

    return Fuzzer(tmp_path_factory.mktemp("wasmfuzz"))


def test_real_instance_programs_find_nothing(fuzzer):
    from fuzz_wasm import program

    found = [(seed, what) for seed in range(PROGRAMS) if (what := fuzzer.run(program(seed))) is not None]
    assert found == []
    assert fuzzer.executions >= 250, fuzzer.executions
    assert len(fuzzer.called) == len(SIGNATURES), set(SIGNATURES) - set(fuzzer.called)  # every host function
    assert min(fuzzer.outcomes[k] for k in ("success", "errno", "trap")) >= 10, fuzzer.outcomes


def _planted(monkeypatch, fault: str) -> None:
    """One bug of each kind the fuzzer checks for, planted at the layer where it would live."""
    from vwasm import syscalls

    if fault == "exception":  # a handler bug: a Python exception instead of an errno
        def broken(cx, fd, stat_ptr):
            raise KeyError("planted")
        monkeypatch.setitem(syscalls.HANDLERS, "fd_fdstat_get", broken)
    elif fault == "leak":  # fd_close forgets the host handle
        monkeypatch.setitem(syscalls.HANDLERS, "fd_close", lambda cx, fd: (cx.fds.remove(fd), 0)[1])
    elif fault == "unsafe":  # the resolver hands `..` to the host
        monkeypatch.setattr(syscalls.path, "open_at",
                            lambda host, start, path, flags, follow, mode=0o666: host.open_file(start, "..", flags, mode))
    elif fault == "trace":  # the recorder loses where a walk's directories lie
        from vwasm.trace import Recorder
        monkeypatch.setattr(Recorder, "opened", lambda self, base_key, handle, name: None)
    elif fault == "outside":  # the trusted OS layer itself creates beside the directory (below the audit)
        monkeypatch.setattr(PosixHost, "mkdirat", lambda self, dirh, name, mode=0o777: os.mkdir(
            "../" + name.replace("/", "_"), mode, dir_fd=dirh))


FINDS = {"exception": "internal error: KeyError", "leak": "descriptors leaked",
         "unsafe": "audit: unsafe effect PathAccess", "outside": "outside the sandbox changed",
         "trace": "vwasm audit rejects the trace"}


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.json")), ids=lambda p: p.stem)
def test_saved_programs_replay_clean(fuzzer, monkeypatch, path):
    """Every saved program runs clean now; one saved from a planted fault finds it again when planted."""
    prog = json.loads(path.read_text())
    assert fuzzer.run(prog) is None
    fault = prog.get("planted")
    if fault is not None:
        _planted(monkeypatch, fault)
        found = fuzzer.run(prog)
        assert found is not None and FINDS[fault] in found, found


@pytest.mark.parametrize("fault", sorted(FINDS))
def test_fuzzer_finds_each_planted_fault(fuzzer, monkeypatch, fault):
    from fuzz_wasm import program

    _planted(monkeypatch, fault)
    found = next((what for seed in range(5 * PROGRAMS) if (what := fuzzer.run(program(seed))) is not None), None)
    assert found is not None and FINDS[fault] in found, found
