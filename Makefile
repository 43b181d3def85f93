# The whole set-up is `make lab` or `make test`; both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: lab lab-reset test lint demo bench sandbox clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# JupyterLab refuses to run as root (containers, CI machines) unless told.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# Where `make lab` keeps its working copies, and what it runs there (tests use a stand-in).
LAB_DIR ?= build/lab
LAB_CMD ?= $(abspath $(BIN))/jupyter lab $(ALLOW_ROOT)

## JupyterLab on working copies of the demo notebooks in build/lab/ (made from notebooks/ when
## missing, never overwritten once edited), so notebooks/ stays clean; the notebooks use the
## offline sandbox unless LAMINA_API_KEY is set.
lab: $(STAMP)
	$(BIN)/python scripts/lab_notebooks.py --dir $(LAB_DIR)
	cd $(LAB_DIR) && $(LAB_CMD) 01-quickstart.ipynb

## Fresh copies in build/lab/ on purpose; each edited copy is moved to build/lab/previous/ first.
lab-reset: $(STAMP)
	$(BIN)/python scripts/lab_notebooks.py --dir $(LAB_DIR) --reset

## The whole suite: lint (ruff, format check, mypy), then every test (browser tests skip
## without Chromium unless LAMINA_REQUIRE_BROWSER=1, as CI sets). Two workers, a test file
## each at a time (module fixtures such as a JupyterLab server stay one per file): most tests
## wait on sandboxes, kernels and browsers, so two run in about 10 min what one runs in 17.
TEST_WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## ruff, ruff's format check and mypy (strict; settings in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check lamina_notebook tests benchmarks scripts
	$(BIN)/ruff format --check lamina_notebook tests benchmarks scripts
	$(BIN)/mypy

## Execute every notebook headlessly against the sandbox; executed copies and HTML go to build/.
demo: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py

## Benchmarks against the sandbox on loopback; prints a table and writes build/bench.json.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## A standalone sandbox server (Ctrl-C to stop).
sandbox: $(STAMP)
	$(BIN)/lamina-sandbox

clean:
	rm -rf build .pytest_cache .ruff_cache .mypy_cache
