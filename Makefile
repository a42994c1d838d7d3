# HER2db. `make run` sets up and serves; `make test` runs the whole suite
# (ARGS="..." passes arguments to pytest).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup install test lint format check data clean bench-import bench loadtest bench-check bench-search

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

# gunicorn (WORKERS) on PostgreSQL and Redis, driven by Locust headless on
# loopback for SECONDS with USERS clients: lists, details, filters, searches,
# formats and the change feed, anonymous and with a token, about 5% writes
# with If-Match (tests/bench/loadtest.py: which database, which cache).
# LOADTEST_MIX=anon: anonymous reads only; LOADTEST_MIX="only:list agents":
# that one read alone; API_CACHE=False: nothing kept.
SECONDS ?= 60
USERS ?= 20
WORKERS ?= 2
loadtest: install
	$(PY) -m tests.bench.loadtest --seconds $(SECONDS) --users $(USERS) --workers $(WORKERS)

# check_data on CITATIONS synthetic citations (and the authors, trials and
# evidence of tests/bench/dataset.py in proportion), in a database of its own
# chosen as make bench chooses; times every rule. Goal: at most 10 s.
CITATIONS ?= 100000
bench-check: install
	$(PY) -m tests.bench.checks --citations $(CITATIONS) $(BENCH_ARGS)

# ?search= on 100,000 citations and 200,000 evidence items, in the same kind
# of database of its own (<name>_bench_search_<text>, or a temporary SQLite
# file): p50 and p95 of 50 fixed queries per resource. BENCH_ARGS="--keep"
# reuses the data set; "--text uniform" draws every word into nine rows of
# ten (the worst case) instead of as real text has them.
bench-search: install
	$(PY) -m tests.bench.search $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
