# HER2db. `make run` sets up and serves; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup install test lint format check data clean

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

test: install
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
