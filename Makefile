# HER2db. `make run` sets up and serves; `make test` runs the whole suite
# (ARGS="..." passes arguments to pytest).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup install test lint format check data clean bench-import bench bench-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Migrate, load the curated data set, make sure an admin login exists.
setup: install
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py load_curated
	$(PY) manage.py ensure_admin

run: setup
	@echo ""
	@echo "HER2db is starting at http://$(HOST):$(PORT)/"
	@echo "  Admin (curators): http://$(HOST):$(PORT)/admin/"
	@echo "  API (programs):   http://$(HOST):$(PORT)/api/v1/"
	@echo "Stop it with Ctrl-C."
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

# Arguments for pytest in ARGS: make test ARGS="-k release -x"
test: install
	$(PY) -m pytest $(ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

# Import RECORDS generated PubMed records into a database of its own, chosen
# as make bench chooses (tests/bench/scratch.py): BENCH_DATABASE_URL, or
# <name>_bench_import made anew beside the PostgreSQL database of
# DATABASE_URL, or a temporary SQLite file; report records per second and
# peak memory.
RECORDS ?= 10000
bench-import: install
	$(PY) -m tests.bench.imports --records $(RECORDS)

# The API against its floor (the same bytes from SQL and orjson), on a
# synthetic data set (10,000 citations, 20,000 evidence items...) in a
# database of its own: BENCH_DATABASE_URL, or <name>_bench beside the
# PostgreSQL database of DATABASE_URL, or a temporary SQLite file (see
# tests/bench/scratch.py). BENCH_ARGS="--keep" reuses the data set,
# "--scale 0.1 --repeat 5" makes a quick run.
bench: install
	$(PY) -m tests.bench.api $(BENCH_ARGS)

# check_data on CITATIONS synthetic citations (and the authors, trials and
# evidence of tests/bench/dataset.py in proportion), in a database of its own
# chosen as make bench chooses; times every rule. Goal: at most 10 s.
CITATIONS ?= 100000
bench-check: install
	$(PY) -m tests.bench.checks --citations $(CITATIONS) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
