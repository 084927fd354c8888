# `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch for the gp extra: the CPU build (a bare range would fetch a CUDA build of several GB)
TORCH ?= torch==2.13.0

.PHONY: demo test lint bench mutate services browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q '$(TORCH)' -e '.[dev,gp]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	rm -rf examples/quickstart/hypermax_results/quickstart
	cd examples/quickstart && ../../$(BIN)/hypermax search.json --no-ui

services:
	./scripts/start-services.sh

browser:
	./scripts/install-browser.sh

test: $(VENV)/.dev-installed services browser
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q '$(TORCH)' -e '.[dev,gp,bench]'
	touch $(VENV)/.installed $(VENV)/.dev-installed $@

bench: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/kills.py
	$(BIN)/python benchmarks/parallel.py
	$(BIN)/python benchmarks/streaming.py
	$(BIN)/python benchmarks/soak.py
	$(BIN)/python benchmarks/quality.py --quick  # the full run (RESULTS.md) takes about an hour

# Mutation testing (not in CI; an hour or more per module on 2 cores), one module at a time
# against its own tests: make mutate MODULES='loss auto'. See benchmarks/README.md.
MODULES ?=
mutate: $(VENV)/.dev-installed
	$(BIN)/pip install -q -e '.[dev,gp,mutate]'
	$(BIN)/python benchmarks/mutate.py $(MODULES)

clean:
	rm -rf $(VENV) examples/*/hypermax_results .pytest_cache mutants .mutmut
