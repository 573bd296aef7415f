"""`vwasm.define_wasi` in a wasmtime-py program: the switch from wasmtime's WASI is the import line and
the define_wasi line; the program's own host function stays; output and exit status are the same.
Also: WasiConfig's spellings on `vwasm.Config`, the handle (`exit_code`, `trace`, `close()`, garbage
collection) and the limits define_wasi can and cannot apply to a caller's store."""
from __future__ import annotations

import ast
import difflib
import gc
import os
import subprocess
import sys

import pytest
import wasmtime

import vwasm

# A typical wasmtime-py WASI embedding with its own host function (as its README would show it).
WASMTIME_PROGRAM = '''
import wasmtime

engine = wasmtime.Engine()
store = wasmtime.Store(engine)
linker = wasmtime.Linker(engine)
linker.define_func("env", "host_add", wasmtime.FuncType([wasmtime.ValType.i32()] * 2, [wasmtime.ValType.i32()]),
                   lambda a, b: a + b)
wasi = wasmtime.WasiConfig()
wasi.argv = ("embed", "20", "22", ARGV_EXIT)
wasi.env = [("GREETING", "hello")]
wasi.stdin_file = STDIN
wasi.stdout_file = STDOUT
wasi.stderr_custom = ERRORS.append
wasi.preopen_dir(DIR, "/data", False)
linker.define_wasi()
store.set_wasi(wasi)
module = wasmtime.Module.from_file(engine, WASM)
instance = linker.instantiate(store, module)
try:
    instance.exports(store)["_start"](store)
    status = 0
except wasmtime.ExitTrap as e:
    status = e.code
'''

VWASM_PROGRAM = (WASMTIME_PROGRAM
                 .replace("import wasmtime\n", "import wasmtime\nimport vwasm\n", 1)
                 .replace("wasi = wasmtime.WasiConfig()", "wasi = vwasm.Config()")
                 .replace("linker.define_wasi()\nstore.set_wasi(wasi)\n", "handle = vwasm.define_wasi(linker, store, wasi)\n"))


def _run(program: str, wasm, tmp_path, tag: str, exit_arg: str) -> dict:
    """Run the program as a script of its own (as its user would), with its inputs as constants."""
    (tmp_path / "stdin").write_bytes(b"from a file")
    (tmp_path / f"dir_{tag}").mkdir()
    out = tmp_path / f"{tag}.out"
    constants = {"WASM": str(wasm("embed_host_add")), "STDIN": str(tmp_path / "stdin"), "STDOUT": str(out),
                 "DIR": str(tmp_path / f"dir_{tag}"), "ARGV_EXIT": exit_arg}
    script = tmp_path / f"embedding_{tag}.py"
    script.write_text("".join(f"{k} = {v!r}\n" for k, v in constants.items()) + "ERRORS = []\n" + program
                      + "print(repr((status, b''.join(ERRORS), globals().get('handle') and handle.exit_code)))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    status, errors, handle_code = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return {"status": status, "errors": errors, "handle_exit_code": handle_code, "stdout": out.read_bytes()}


def test_the_switch_is_two_lines():
    diff = [line for line in difflib.unified_diff(WASMTIME_PROGRAM.splitlines(), VWASM_PROGRAM.splitlines(), n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    # the vwasm import added; WasiConfig() -> Config(); two wasmtime lines -> one define_wasi
    assert len([d for d in diff if d.startswith("+")]) == 3, diff
    assert len([d for d in diff if d.startswith("-")]) == 3, diff


@pytest.mark.parametrize("exit_arg", ["0", "7"])
def test_same_output_and_status_as_wasmtime_wasi(wasm, tmp_path, exit_arg):
    theirs = _run(WASMTIME_PROGRAM, wasm, tmp_path, "wasmtime", exit_arg)
    ours = _run(VWASM_PROGRAM, wasm, tmp_path, "vwasm", exit_arg)
    assert b"host_add(20, 22) = 42" in ours["stdout"] and b"GREETING=hello" in ours["stdout"]
    assert b"stdin: from a file" in ours["stdout"]
    assert ours["stdout"] == theirs["stdout"]
    assert ours["errors"] == theirs["errors"] == b"to stderr\n"
    assert ours["status"] == theirs["status"] == int(exit_arg)
    # from the handle too: proc_exit's status, or None when _start returned
    assert ours["handle_exit_code"] == (None if exit_arg == "0" else int(exit_arg))


def _setup(wasm, config, engine=None):
    engine = engine or wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    calls = []

    def host_add(a, b):
        calls.append((a, b))
        return a + b
    linker.define_func("env", "host_add", wasmtime.FuncType([wasmtime.ValType.i32()] * 2, [wasmtime.ValType.i32()]),
                       host_add)
    handle = vwasm.define_wasi(linker, store, config)
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(wasm("embed_host_add"))))
    return store, instance, handle, calls


def _start(store, instance):
    try:
        instance.exports(store)["_start"](store)
        return None
    except wasmtime.ExitTrap as e:
        return e


def test_exit_trap_is_wasmtimes_with_the_code(wasm):
    config = vwasm.Config()
    config.argv = ["embed", "1", "2", "9"]
    store, instance, handle, calls = _setup(wasm, config)
    stopped = _start(store, instance)
    assert isinstance(stopped, wasmtime.ExitTrap) and isinstance(stopped, wasmtime.WasmtimeError)
    assert stopped.code == 9 == handle.exit_code
    assert calls == [(1, 2), (9, 0)]  # the embedder's own host function ran beside ours


def test_exit_status_126_and_above_is_a_trap_as_in_wasmtime(wasm):
    config = vwasm.Config()
    config.argv = ["embed", "1", "2", "200"]
    store, instance, handle, _ = _setup(wasm, config)
    with pytest.raises(wasmtime.WasmtimeError) as info:
        instance.exports(store)["_start"](store)
    assert not isinstance(info.value, wasmtime.ExitTrap)
    assert handle.exit_code == 200


def test_config_takes_wasiconfig_spellings(tmp_path):
    config = vwasm.Config()
    config.argv = ("a", "b")
    assert config.argv == ["a", "b"]
    config.env = {"K": "V"}
    assert config.env == [("K", "V")]
    got = []
    config.stdout_custom = got.append  # wasmtime-py: a property
    config.stdout_custom(got.append)  # vwasm: a call
    config.stdin_file = tmp_path
    config.stdin_file(tmp_path)
    config.preopen_dir(tmp_path, "/rw")
    config.preopen_dir(tmp_path, "/ro", False)  # wasmtime-py's positional fs_mutable
    config.preopen_dir(tmp_path, "/ro2", fs_mutable=False)
    config.preopen_dir(tmp_path, "/ro3", read_only=True)
    assert [p.read_only for p in config.preopens] == [False, True, True, True]
    with pytest.raises(ValueError):
        config.preopen_dir(tmp_path, "/x", fs_mutable=True, read_only=True)
    with pytest.raises(TypeError):
        config.argv = ["ok", 3]
    with pytest.raises(TypeError):
        config.env = [("K",)]
    with pytest.raises(TypeError):
        config.stdout_custom = "not callable"
    with pytest.raises(AttributeError):
        config.stdin_bytez = b"typo"


def test_read_only_grant_from_fs_mutable_false(wasm, tmp_path):
    """A guest given `preopen_dir(path, guest, fs_mutable=False)` cannot create a file there."""
    config = vwasm.Config()
    config.preopen_dir(tmp_path, "/data", fs_mutable=False)
    engine = wasmtime.Engine()
    store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
    handle = vwasm.define_wasi(linker, store, config)
    # path_open(fd 3, "new", O_CREAT) -> the errno, stored at 0
    wat = """(module (import "wasi_snapshot_preview1" "path_open"
        (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (memory (export "memory") 1) (data (i32.const 16) "new")
      (func (export "go") (result i32) (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 3)
        (i32.const 1) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 32))))"""
    instance = linker.instantiate(store, wasmtime.Module(engine, wat))
    errno = instance.exports(store)["go"](store)
    assert errno != 0 and not (tmp_path / "new").exists()
    handle.close()


def test_a_linker_with_vwasm_wasi_serves_its_store_only(wasm):
    engine = wasmtime.Engine()
    store, other = wasmtime.Store(engine), wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    vwasm.define_wasi(linker, store, vwasm.Config())
    module = wasmtime.Module(engine, '(module (import "wasi_snapshot_preview1" "sched_yield" (func (result i32))))')
    linker.instantiate(store, module)
    with pytest.raises(wasmtime.WasmtimeError):
        linker.instantiate(other, module)
    with pytest.raises(wasmtime.WasmtimeError):  # defined once; the linker does not shadow
        vwasm.define_wasi(linker, store, vwasm.Config())


def _held(path) -> int:
    """How many of this process's descriptors are open on `path`."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == str(path)
        except OSError:
            pass
    return count


def test_close_and_garbage_collection_release_descriptors(wasm, tmp_path):
    config = vwasm.Config()
    config.preopen_dir(tmp_path, "/data")
    store, instance, handle, _ = _setup(wasm, config)
    assert _held(tmp_path) == 1  # the preopen's host descriptor
    handle.close()
    handle.close()
    assert _held(tmp_path) == 0
    store, instance, handle, _ = _setup(wasm, config)
    assert _held(tmp_path) == 1
    del store, instance, handle
    gc.collect()
    assert _held(tmp_path) == 0


def test_the_guest_keeps_working_when_the_handle_is_dropped(wasm):
    """Like `linker.define_wasi()`, define_wasi's result need not be kept: the store keeps what it calls."""
    engine = wasmtime.Engine()
    store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
    out = []
    config = vwasm.Config()
    config.stdout_custom = out.append
    linker.define_func("env", "host_add", wasmtime.FuncType([wasmtime.ValType.i32()] * 2, [wasmtime.ValType.i32()]),
                       lambda a, b: a + b)
    vwasm.define_wasi(linker, store, config)
    gc.collect()
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(wasm("embed_host_add"))))
    assert _start(store, instance) is None
    assert b"host_add(1, 2) = 3" in b"".join(out)


def test_audit_trace_on_the_handle(wasm):
    config = vwasm.Config()
    config.enable_audit()
    store, instance, handle, _ = _setup(wasm, config)
    assert _start(store, instance) is None
    assert handle.trace  # the effects of the guest's calls
    assert vwasm.define_wasi(wasmtime.Linker(store.engine), wasmtime.Store(store.engine), vwasm.Config()).trace is None


def test_limits_on_the_callers_store(wasm):
    config = vwasm.Config()
    config.fuel = 50
    with pytest.raises(ValueError, match="consume_fuel"):
        _setup(wasm, config)
    config.timeout = 5.0
    with pytest.raises(ValueError, match="engine_for"):
        _setup(wasm, config)
    config.timeout = None
    store, instance, handle, _ = _setup(wasm, config, engine=vwasm.engine_for(config))
    with pytest.raises(wasmtime.Trap) as info:
        _start(store, instance)
    assert info.value.trap_code == wasmtime.TrapCode.OUT_OF_FUEL


def test_memory_limit_on_the_callers_store():
    config = vwasm.Config()
    config.max_memory = 2 * 65536
    engine = wasmtime.Engine()
    store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
    vwasm.define_wasi(linker, store, config)
    grow = wasmtime.Module(engine, '(module (memory (export "memory") 1) '
                                   '(func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))')
    instance = linker.instantiate(store, grow)
    assert instance.exports(store)["grow"](store, 1) == 1
    assert instance.exports(store)["grow"](store, 1) == -1


def test_the_public_api_is_documented():
    """`help(vwasm)` shows a docstring for every public name and every Config setting."""
    import inspect
    import pydoc

    public = [getattr(vwasm, name) for name in vwasm.__all__ if name != "__version__"]
    assert all((obj.__doc__ or "").strip() for obj in public)
    for cls in (vwasm.Config, vwasm.Sandbox, vwasm.Wasi):
        members = [m for n, m in vars(cls).items() if not n.startswith("_") and callable(getattr(m, "__get__", None))]
        assert members and all((inspect.getdoc(m) or "").strip() for m in members), cls
    text = pydoc.render_doc(vwasm, renderer=pydoc.plaintext)
    assert "define_wasi" in text and "wasmtime.ExitTrap" in text


def test_a_failed_define_leaves_nothing_that_can_crash():
    """The caller already defined fd_write: define_wasi fails there, after defining the imports before
    it; a guest linked to those still runs them (its descriptors released: EBADF), never a dangling callback."""
    engine = wasmtime.Engine()
    store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
    linker.define_func("wasi_snapshot_preview1", "fd_write",
                       wasmtime.FuncType([wasmtime.ValType.i32()] * 4, [wasmtime.ValType.i32()]), lambda *a: 0)
    config = vwasm.Config()
    config.argv = ["a", "bc"]
    with pytest.raises(wasmtime.WasmtimeError):
        vwasm.define_wasi(linker, store, config)
    gc.collect()
    wat = """(module (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "sizes") (result i32) (drop (call $sizes (i32.const 0) (i32.const 4))) (i32.load (i32.const 0)))
      (func (export "close") (result i32) (call $close (i32.const 1))))"""
    instance = linker.instantiate(store, wasmtime.Module(engine, wat))
    assert instance.exports(store)["sizes"](store) == 2  # argc
    assert instance.exports(store)["close"](store) == 8  # EBADF: stdout was released
