# verified-wasm-runtime: every target sets up what it needs; `make demo` and `make check` are enough.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build
export ZIG_GLOBAL_CACHE_DIR := $(CURDIR)/$(BUILD)/zig-cache
export ZIG_LOCAL_CACHE_DIR := $(CURDIR)/$(BUILD)/zig-cache
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: bootstrap build native guests wheel demo test verify check bench clean

bootstrap: $(VENV)/.bootstrapped
$(VENV)/.bootstrapped: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==25.3
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Guest programs: examples/*.c and tests/programs/*.c -> build/wasm/*.wasm, cached by source hash.
guests: bootstrap
	$(PY) scripts/build_guests.py --out $(BUILD)/wasm examples tests/programs bench/programs

wheel: bootstrap
	rm -f dist/verified_wasm_runtime-*.whl  # one wheel: its tag names the platform the C entries were built for
	$(PY) -m build --wheel --no-isolation --outdir dist . > $(BUILD)/wheel.log 2>&1 || { cat $(BUILD)/wheel.log; exit 1; }
	$(PY) scripts/check_wheel.py dist

# The C entries of the cheapest calls (impl/fastcalls.c -> impl/_fastcalls*.so; rebuilt when changed).
native: bootstrap
	$(PY) -c 'from setuptools import setup; setup()' -q build_ext --inplace

build: bootstrap guests native
	@mkdir -p $(BUILD)
	$(MAKE) --no-print-directory wheel
	@# Bytecode for vwasm's own sources, validated against each source's hash at import (never stale,
	@# even under PYTHONDONTWRITEBYTECODE, which would otherwise recompile them at every start).
	$(PY) -m compileall -q --invalidation-mode checked-hash impl model

demo: build
	$(PY) scripts/demo.py

test: build
	$(PY) -m pytest tests

# `make verify SLOW=3` divides every budget by 3: the obligations must still pass (the margin).
verify: build
	$(PY) -m proofs $(if $(SLOW),--slow $(SLOW))

check: verify test

# Generated mutants as the measure (proofs/mutate/): the full run, and the fixed sample CI runs.
.PHONY: mutate mutate-sample
mutate: build
	$(PY) -m proofs.mutate
mutate-sample: build
	$(PY) -m proofs.mutate --sample 20 --seed 1
check: mutate-sample

bench: build
	$(PY) -m bench

# Every host function driven through a real instance (tests/fuzz_wasm.py) for FUZZ_SECONDS; programs
# that find something are saved in tests/fuzz_seeds/ (replayed by tests/test_fuzz_handlers.py).
FUZZ_SECONDS ?= 30
.PHONY: fuzz
fuzz: bootstrap
	$(PY) tests/fuzz_wasm.py --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) dist *.egg-info
