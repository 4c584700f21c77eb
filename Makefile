# The README's two commands are `make run` and `make test`; CI runs `.ci/run`, which calls
# `make lint` and `make test`. Everything installs into .venv/ at the repo root.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MCI := $(VENV)/bin/mci
STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test
PYTEST_ARGS ?=

.PHONY: run demo test lint format bench bench-ingest bench-queries bench-dashboard bench-calibration bench-report bench-100m system-deps install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@ $(STAMP)

# An editable install leaves byte-compiling to the first import, and where
# PYTHONDONTWRITEBYTECODE is set Python never keeps the result: every mci command would compile
# the package again (0.04 s). compileall writes the bytecode a wheel install would have, and
# skips modules whose bytecode is current.
install: $(STAMP)
	@$(PY) -m compileall -q src

install-test: $(TEST_STAMP)
	@$(PY) -m compileall -q src

## make run: install, build the demo warehouse if missing, serve the dashboard on 127.0.0.1:8501.
run: install
	$(MCI) demo

demo: run

## make test: install with test extras, install system packages the tests need, run everything.
test: install-test system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# PostgreSQL for the integration tests, Chromium for the browser tests (Debian's packages;
# Playwright drives Debian's Chromium, it never downloads a browser of its own).
system-deps:
	bash scripts/install-system-deps.sh --browser

lint: install-test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: install-test
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

## make bench: the ingest, the semantic views, the dashboard and the report (reports).
bench: install-test
	$(PY) benchmarks/ingest/run.py $(BENCH_ARGS)
	$(PY) benchmarks/queries/run.py $(QUERIES_BENCH_ARGS)
	$(PY) benchmarks/dashboard/run.py $(DASHBOARD_BENCH_ARGS)
	$(PY) benchmarks/report/run.py $(REPORT_BENCH_ARGS)

bench-ingest: install-test
	$(PY) benchmarks/ingest/run.py $(BENCH_ARGS)

bench-queries: install-test
	$(PY) benchmarks/queries/run.py $(QUERIES_BENCH_ARGS)

bench-dashboard: install-test
	$(PY) benchmarks/dashboard/run.py $(DASHBOARD_BENCH_ARGS)

## make bench-100m: mci alone on a 100,000,000-row export (14 GB; on demand, several minutes).
bench-100m: install-test
	$(PY) benchmarks/ingest/run.py --sizes 100m --skip-baseline --repeat 1 $(BENCH_ARGS)

## make bench-calibration: false-winner rate and power of the channel diagnosis, per scenario.
bench-calibration: install-test
	$(PY) benchmarks/calibration/run.py $(CALIBRATION_ARGS)

## make bench-report: `mci report` on a 2,000,000-row warehouse, against the last version's.
bench-report: install-test
	$(PY) benchmarks/report/run.py $(REPORT_BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache benchmarks/out benchmarks/.venv-original
