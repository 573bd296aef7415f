"""The compile cache (vwasm.cache) and precompiled modules (`vwasm compile`, `run --allow-precompiled`).

A hit is observed by the cache's counters (in-process) or by the entry left untouched (CLI), never by
time. An entry that does not check out -- corrupt, truncated, made for another module or engine, a
symlink -- must be compiled again and rewritten, and the guest's output must be its own.
"""
import os
import stat
import subprocess
import sys
from types import SimpleNamespace

import pytest
import wasmtime

import vwasm
from vwasm import cache as compile_cache
from vwasm.cache import CompileCache
from vwasm.limits import engine_for
from vwasm.loader import ModuleError

VWASM = [sys.executable, "-m", "vwasm.cli"]


def run_api(module, cache, argv=("prog",)) -> tuple[int, bytes]:
    config = vwasm.Config()
    config.argv = list(argv)
    config.cache = cache
    out = []
    config.stdout_custom(out.append)
    return vwasm.run(module, config), b"".join(out)


def entries(directory) -> list:
    return sorted(p for p in os.listdir(directory) if p.endswith(".entry")) if os.path.isdir(directory) else []


@pytest.fixture
def hello(wasm):
    return wasm("hello")


@pytest.fixture
def reference(hello):
    """hello's output compiled without any cache."""
    return run_api(hello, False)


def test_second_run_hits_the_cache(tmp_path, hello, reference):
    first = CompileCache(tmp_path / "c")
    assert run_api(hello, first) == reference
    assert (first.misses, first.writes, first.hits) == (1, 1, 0)
    [entry] = entries(tmp_path / "c")
    second = CompileCache(tmp_path / "c")  # another run: nothing shared but the directory
    assert run_api(hello, second) == reference
    assert (second.hits, second.misses, second.writes, second.rejected) == (1, 0, 0, 0)
    assert entries(tmp_path / "c") == [entry]


def test_directory_is_private_and_entries_0600(tmp_path, hello):
    directory = tmp_path / "new" / "vwasm"
    run_api(hello, CompileCache(directory))
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    [entry] = entries(directory)
    assert stat.S_IMODE(os.stat(directory / entry).st_mode) == 0o600
    assert not [p for p in os.listdir(directory) if not p.endswith(".entry")]  # no temporary file left


def _damage(path, how):
    data = path.read_bytes()
    if how == "flipped":  # one byte of the compiled code
        path.write_bytes(data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:])
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "header only":
        path.write_bytes(data[:40])  # the magic, and part of the header
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "raw serialized":  # what Module.serialize() gives, without our header
        path.write_bytes(data[data.index(b"\x7fELF"):])


@pytest.mark.parametrize("how", ["flipped", "truncated", "header only", "empty", "raw serialized"])
def test_a_bad_entry_is_recompiled_and_rewritten(tmp_path, hello, reference, how):
    run_api(hello, CompileCache(tmp_path))
    [entry] = entries(tmp_path)
    _damage(tmp_path / entry, how)
    again = CompileCache(tmp_path)
    assert run_api(hello, again) == reference
    assert (again.rejected, again.misses, again.writes, again.hits) == (1, 1, 1, 0)
    fixed = CompileCache(tmp_path)
    assert run_api(hello, fixed) == reference and fixed.hits == 1


def test_an_entry_for_another_module_is_not_used(tmp_path, wasm, hello, reference):
    """A whole, valid entry of another module put at this module's key is refused: the output stays hello's."""
    other = wasm("p1_args_env")
    run_api(hello, CompileCache(tmp_path / "a"))
    run_api(other, CompileCache(tmp_path / "b"))
    [hello_entry], [other_entry] = entries(tmp_path / "a"), entries(tmp_path / "b")
    os.replace(tmp_path / "b" / other_entry, tmp_path / "a" / hello_entry)
    again = CompileCache(tmp_path / "a")
    assert run_api(hello, again) == reference
    assert (again.rejected, again.misses, again.writes) == (1, 1, 1)


def test_an_entry_for_another_engine_is_not_used(tmp_path, hello, reference):
    """An entry compiled with fuel checks, at the key of the plain engine, is refused."""
    plain = CompileCache(tmp_path)
    run_api(hello, plain)
    [entry] = entries(tmp_path)
    fuel_engine = engine_for(SimpleNamespace(fuel=1, timeout=None))
    (tmp_path / entry).write_bytes(compile_cache.precompile(fuel_engine, hello.read_bytes()))
    again = CompileCache(tmp_path)
    assert run_api(hello, again) == reference
    assert (again.rejected, again.writes) == (1, 1)


def test_fuel_and_plain_engines_have_their_own_entries(tmp_path, hello):
    source = hello.read_bytes()
    cache = CompileCache(tmp_path)
    cache.compile(engine_for(SimpleNamespace(fuel=None, timeout=None)), source)
    cache.compile(engine_for(SimpleNamespace(fuel=1, timeout=None)), source)
    cache.compile(engine_for(SimpleNamespace(fuel=None, timeout=1.0)), source)
    assert (cache.misses, cache.writes, len(entries(tmp_path))) == (3, 3, 3)


def test_a_symlinked_entry_is_not_followed(tmp_path, hello, reference):
    run_api(hello, CompileCache(tmp_path / "c"))
    [entry] = entries(tmp_path / "c")
    target = tmp_path / "elsewhere"
    os.replace(tmp_path / "c" / entry, target)
    os.symlink(target, tmp_path / "c" / entry)
    again = CompileCache(tmp_path / "c")
    assert run_api(hello, again) == reference
    assert (again.rejected, again.hits, again.writes) == (1, 0, 1)
    assert not os.path.islink(tmp_path / "c" / entry)


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o722])
def test_a_directory_others_may_write_is_not_used(tmp_path, hello, reference, mode):
    directory = tmp_path / "shared"
    directory.mkdir()
    os.chmod(directory, mode)
    cache = CompileCache(directory)
    assert run_api(hello, cache) == reference
    assert cache.refused and (cache.hits, cache.misses, cache.writes) == (0, 0, 0)
    assert os.listdir(directory) == []


def test_an_engine_vwasm_did_not_make_is_not_cached(tmp_path, hello):
    """Its settings are unknown, so no key could name them."""
    config = vwasm.Config()
    config.cache = CompileCache(tmp_path)
    vwasm.Sandbox(hello, config, engine=wasmtime.Engine()).run()
    assert config.cache.writes == 0 and entries(tmp_path) == []


def test_a_module_that_does_not_compile_leaves_nothing(tmp_path):
    cache = CompileCache(tmp_path)
    with pytest.raises(ModuleError):
        run_api(b"\0asm\x01\0\0\0\x99", cache)
    assert entries(tmp_path) == []


def test_default_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert CompileCache().directory == str(tmp_path / "vwasm")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # the XDG specification: ignored
    assert CompileCache().directory == str(tmp_path / "home" / ".cache" / "vwasm")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert CompileCache().directory == str(tmp_path / "home" / ".cache" / "vwasm")


# --- the command line -------------------------------------------------------------------------------
def cli(*args, xdg, **kw):
    env = dict(os.environ, XDG_CACHE_HOME=str(xdg))
    return subprocess.run([*VWASM, *map(str, args)], capture_output=True, text=True, timeout=60, env=env, **kw)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_cli_caches_by_default_and_hits_the_second_time(tmp_path, hello):
    first = cli("run", hello, xdg=tmp_path)
    assert (first.returncode, first.stdout, first.stderr) == (0, "hello, world\n", "")
    [entry] = entries(tmp_path / "vwasm")
    before = os.stat(tmp_path / "vwasm" / entry)
    second = cli("run", hello, xdg=tmp_path)
    assert (second.returncode, second.stdout) == (0, first.stdout)
    after = os.stat(tmp_path / "vwasm" / entry)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # used, not rewritten


def test_cli_no_cache_writes_nothing(tmp_path, hello):
    r = cli("run", "--no-cache", hello, xdg=tmp_path)
    assert (r.returncode, r.stdout) == (0, "hello, world\n")
    assert not (tmp_path / "vwasm").exists()


def test_cli_cache_clear(tmp_path, wasm, hello):
    cli("run", hello, xdg=tmp_path)
    cli("run", wasm("p1_args_env"), xdg=tmp_path)
    names = entries(tmp_path / "vwasm")
    r = cli("cache", "clear", xdg=tmp_path)
    assert r.returncode == 0
    removed = [line.split(" ", 1)[1] for line in r.stdout.splitlines() if line.startswith("removed ")]
    assert sorted(removed) == [str(tmp_path / "vwasm" / n) for n in names] and len(names) == 2
    assert "2 entries" in r.stdout.splitlines()[-1]
    assert entries(tmp_path / "vwasm") == []
    assert cli("cache", "clear", xdg=tmp_path).stdout.startswith("vwasm: cache cleared: 0 entries")


def test_compile_then_run_precompiled(tmp_path, wasm):
    (tmp_path / "xx.wasm").write_bytes(wasm("p1_args_env").read_bytes())  # names of one length: argv[0]
    r = cli("compile", "xx.wasm", "-o", "x.cwasm", xdg=tmp_path, cwd=tmp_path)
    assert (r.returncode, r.stderr) == (0, "") and (tmp_path / "x.cwasm").exists()
    plain = cli("run", "--no-cache", "xx.wasm", "a", "b", xdg=tmp_path, cwd=tmp_path)
    pre = cli("run", "--allow-precompiled", "x.cwasm", "a", "b", xdg=tmp_path, cwd=tmp_path)
    assert pre.returncode == plain.returncode == 0
    assert pre.stdout.replace("x.cwasm", "PROG") == plain.stdout.replace("xx.wasm", "PROG")
    assert "arg[2]=<b>" in pre.stdout


def test_compile_default_output_name(tmp_path, hello):
    copy = tmp_path / "h.wasm"
    copy.write_bytes(hello.read_bytes())
    assert cli("compile", copy, xdg=tmp_path).returncode == 0
    r = cli("run", "--allow-precompiled", tmp_path / "h.cwasm", xdg=tmp_path)
    assert (r.returncode, r.stdout) == (0, "hello, world\n")


@pytest.fixture
def cwasm(tmp_path, hello):
    out = tmp_path / "hello.cwasm"
    assert cli("compile", hello, "-o", out, xdg=tmp_path).returncode == 0
    return out


def test_precompiled_needs_allow_precompiled(tmp_path, cwasm):
    r = cli("run", cwasm, xdg=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert "--allow-precompiled" in one_line(r.stderr)


@pytest.mark.parametrize("how, says", [("flipped", "corrupt"), ("truncated", "corrupt"),
                                       ("header only", "truncated")])
def test_bad_precompiled_is_one_line_error(tmp_path, cwasm, how, says):
    _damage(cwasm, how)
    r = cli("run", "--allow-precompiled", cwasm, xdg=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    line = one_line(r.stderr)
    assert line.startswith(f"vwasm: error: {cwasm}: bad precompiled module") and says in line


def test_precompiled_for_other_settings_is_refused(tmp_path, cwasm):
    r = cli("run", "--allow-precompiled", "--fuel", 10**9, cwasm, xdg=tmp_path)
    assert r.returncode == 1
    assert "consume_fuel=0 (this run needs consume_fuel=1)" in one_line(r.stderr)


def test_a_foreign_cwasm_is_not_deserialized(tmp_path, hello):
    """wasmtime's own serialized format (no vwasm header) is just not WebAssembly to vwasm."""
    raw = tmp_path / "raw.cwasm"
    raw.write_bytes(bytes(wasmtime.Module(wasmtime.Engine(), hello.read_bytes()).serialize()))
    r = cli("run", "--allow-precompiled", raw, xdg=tmp_path)
    assert r.returncode == 1 and "not a WebAssembly module" in one_line(r.stderr)
