# Set-up installs torch==2.13.0 first (the CPU build on this disk): an unpinned torch
# would pull a CUDA build of several GB. Then the project, editable, with dev extras.
# pip would compile every installed file to bytecode, one at a time (about 55 s of set-up);
# compileall does it on every core instead, skipping the test suites that packages ship and
# never import (benchmarks/RESULTS.md, "Seventh pass"). The bytecode must be there: where
# PYTHONDONTWRITEBYTECODE is set (CI, this machine), a process cannot cache what it compiles.
# A file this Python cannot compile (torch ships a 3.12-only test helper) is skipped, as pip
# skips it: its status is ignored.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STORE ?= store

.PHONY: setup demo test fast lint unit completions bench bench-msssim bench-contention bench-gpu bench-study clean-store

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile torch==2.13.0
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev]'
	$(BIN)/python -m compileall -qq -j 0 -x '/tests?/' $(VENV)/lib || true
	touch $@

setup: $(VENV)/.installed

## The main job on the embedded synthetic dataset, end to end, ending with the study's table.
demo: setup
	$(BIN)/percmusic --store $(STORE) demo

## Lint, types, import contracts, then the whole test suite.
test: setup lint
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check percmusic_cli tests benchmarks
	$(BIN)/ruff format --check percmusic_cli tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest -q tests/unit

## The inner loop: every test not marked slow (CI and `make test` run them all).
fast: setup
	$(BIN)/pytest -q -m "not slow"

completions: setup
	$(BIN)/python -m percmusic_cli.cli.completions completions

bench: setup
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/pairwise.py
	$(BIN)/python benchmarks/train.py

# 1 - MS-SSIM 930 x 930 (ends with one MSSSIM-930 line: wall, GFLOP/s, load).
bench-msssim: setup
	$(BIN)/python benchmarks/pairwise.py --msssim-930

bench-contention: setup
	$(BIN)/python benchmarks/contention.py

# Says "no CUDA device" (exit 0) where torch sees no GPU.
bench-gpu: setup
	$(BIN)/python benchmarks/gpu.py

bench-study: setup
	$(BIN)/python benchmarks/study.py

clean-store:
	rm -rf $(STORE)/percmusic.duckdb $(STORE)/arrays $(STORE)/checkpoints $(STORE)/sources
