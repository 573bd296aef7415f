"""pytest setup: tests/ on sys.path (for `from difftest import ...`) and the `wasm` fixture."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from difftest import wasm_path  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _private_compile_cache(tmp_path_factory):
    """`vwasm run` caches compiled modules in $XDG_CACHE_HOME/vwasm: tests (and the CLI processes they
    start, which inherit the environment) use one of their own, never the real home cache."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield


@pytest.fixture
def wasm():
    """`wasm("p1_args_env")` -> Path to build/wasm/p1_args_env.wasm; fails clearly if it was not built."""
    return wasm_path


@pytest.fixture(autouse=True)
def _difftest_tmp(tmp_path):
    """run_both() builds its trees under the test's tmp_path (pytest keeps the last few runs)."""
    import difftest

    difftest.TMP_BASE = tmp_path
    yield
    difftest.TMP_BASE = None
