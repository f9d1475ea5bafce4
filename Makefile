# The two commands of the README: `make demo` (the nightly job on the demo system, SQLite store)
# and `make test` (the whole offline suite, SQLite and a real PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench

$(BIN)/sapbridge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/sapbridge

setup: $(BIN)/sapbridge

demo: setup
	$(BIN)/sapbridge sync all --system demo

test: setup
	SAPBRIDGE_TEST_PG_URL=$${SAPBRIDGE_TEST_PG_URL:-$$(bash scripts/ensure-postgres.sh)} \
		$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
