# The two commands the README promises: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: run test check lint types layers unit deps debs services bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

## run: start the service on the embedded SQLite default (state in ./var); it prints the
## three lines to type next (CLI on PATH, dashboard URL, first key)
run: $(VENV)/.installed
	$(BIN)/postillon serve

## debs: Debian packages the tests need (Postfix without its daemon, knot for test zones)
debs:
	bash scripts/install-debs.sh

## services: PostgreSQL for the store tests on both backends
services:
	bash scripts/start-services.sh

deps: $(STAMP)

lint: deps
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

types: deps
	$(BIN)/mypy

layers: deps
	$(BIN)/lint-imports

## test: everything CI checks: lint, types, layers, the whole suite
test: debs services deps lint types layers
	$(BIN)/pytest

check: test

bench: deps
	@echo "see bench/README.md"

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
