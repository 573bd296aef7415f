"""The wheel stands alone: installed with pip into a fresh virtual environment (no system site-packages)
it pulls only the runtime's dependencies, and `vwasm run`, `python -m vwasm` and an embedding with
`vwasm.define_wasi` work there, from a directory outside the repository.

The wheel is dist/'s (`make wheel`, which `make test` runs first): without one this fails, never skips.
The environment is kept in build/wheel-venv and made again only when the wheel changes (pip's own
cache makes the dependencies' download a one-time cost)."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "build" / "wheel-venv"
RUNTIME = {"verified-wasm-runtime", "wasmtime", "icontract"}
DEV_ONLY = {"z3-solver", "crosshair-tool", "hypothesis", "pytest", "ziglang", "build"}


def _wheel() -> Path:
    wheels = sorted((ROOT / "dist").glob("verified_wasm_runtime-*.whl"))
    if not wheels:
        pytest.fail("no wheel in dist/: run `make wheel` first")
    return wheels[-1]


@pytest.fixture(scope="module")
def installed() -> Path:
    """build/wheel-venv with only the wheel installed (and what pip pulled for it); its bin/."""
    wheel = _wheel()
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    stamp = VENV / "wheel.sha256"
    if not (stamp.exists() and stamp.read_text() == digest):
        shutil.rmtree(VENV, ignore_errors=True)
        venv.EnvBuilder(system_site_packages=False, with_pip=True).create(VENV)
        done = subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", str(wheel)], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        stamp.write_text(digest)
    return VENV / "bin"


def _in_venv(bin_dir: Path, *cmd, cwd) -> subprocess.CompletedProcess:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd), "XDG_CACHE_HOME": str(cwd / "cache")}
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_the_wheel_ships_type_hints_and_the_package_only():
    names = zipfile.ZipFile(_wheel()).namelist()
    assert "vwasm/py.typed" in names and "vwasm/embed.py" in names and "vwasm/__main__.py" in names
    assert {n.split("/")[0] for n in names if ".dist-info" not in n} == {"vwasm"}


def test_only_the_runtime_dependencies_are_installed(installed, tmp_path):
    done = _in_venv(installed, installed / "python", "-m", "pip", "list", "--format=json",
                    "--disable-pip-version-check", cwd=tmp_path)
    packages = {p["name"].lower() for p in json.loads(done.stdout)}
    assert RUNTIME <= packages
    assert not packages & DEV_ONLY, packages & DEV_ONLY
    # the interpreter sees nothing of this repository's environment
    done = _in_venv(installed, installed / "python", "-c", "import sys; print(sys.prefix)", cwd=tmp_path)
    assert Path(done.stdout.strip()) == VENV and str(ROOT / ".venv") not in done.stdout


def test_the_wheel_serves_the_cheapest_calls_in_c(installed, tmp_path, wasm):
    """The wheel carries the C entries built, and a run from it uses them."""
    probe = ("import vwasm, sys; from vwasm import fastcalls; lib = fastcalls.library(); "
             "code = vwasm.run(sys.argv[1], vwasm.Config()); print(code, lib is not None and lib.served() > 0)")
    done = _in_venv(installed, installed / "python", "-c", probe, wasm("p1_clock_time_get"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True"], done.stdout


def test_vwasm_run_works_from_the_wheel(installed, tmp_path, wasm):
    (tmp_path / "box").mkdir()
    done = _in_venv(installed, installed / "vwasm", "run", "--dir", f"{tmp_path / 'box'}::/sandbox",
                    "--env", "GREETING=from the wheel", wasm("demo"), "/sandbox", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "GREETING=from the wheel" in done.stdout and "all escape attempts refused" in done.stdout
    assert (tmp_path / "box" / "hello.txt").read_text() == "hello from inside the sandbox\n"
    done = _in_venv(installed, installed / "python", "-m", "vwasm", "run", "--invoke", "add",
                    wasm("invoke_exports"), "40", "2", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "42\n"), done.stderr


def test_embedding_works_from_the_wheel(installed, tmp_path, wasm):
    program = f"""
import wasmtime, vwasm
engine = wasmtime.Engine()
store, linker = wasmtime.Store(engine), wasmtime.Linker(engine)
linker.define_func("env", "host_add", wasmtime.FuncType([wasmtime.ValType.i32()] * 2, [wasmtime.ValType.i32()]),
                   lambda a, b: a + b)
out = []
config = vwasm.Config()
config.argv = ["embed", "5", "6", "3"]
config.stdout_custom = out.append
handle = vwasm.define_wasi(linker, store, config)
instance = linker.instantiate(store, wasmtime.Module.from_file(engine, {str(wasm("embed_host_add"))!r}))
try:
    instance.exports(store)["_start"](store)
except wasmtime.ExitTrap as e:
    print(e.code, handle.exit_code, b"".join(out).decode().splitlines()[0])
print(vwasm.__file__)
"""
    done = _in_venv(installed, installed / "python", "-c", program, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first, where = done.stdout.splitlines()
    assert first == "3 3 host_add(5, 6) = 11"
    assert where.startswith(str(VENV))
