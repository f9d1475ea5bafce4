# The two commands of the README: `make demo` (the nightly job on the demo system, SQLite store)
# and `make test` (the whole offline suite, SQLite and a real PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench screenshots

$(BIN)/sapbridge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/sapbridge

setup: $(BIN)/sapbridge

# Exit code 3 means the job finished with payments and claims for a person to review: in the
# demo that is the expected outcome, so it counts as success here.
demo: setup
	$(BIN)/sapbridge job run nightly || [ $$? -eq 3 ]
	@echo "reports: out/$$(date -u +%F)/ (cash, recoveries, kpis); history: $(BIN)/sapbridge job history"

test: setup
	SAPBRIDGE_TEST_PG_URL=$${SAPBRIDGE_TEST_PG_URL:-$$(bash scripts/ensure-postgres.sh)} \
		$(BIN)/python -m pytest -n auto

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# Screenshots of the KPI page (Chromium) and of each workbook (LibreOffice) for a reviewer, in
# out/screenshots; needs: apt-get install -y chromium libreoffice-calc-nogui poppler-utils
screenshots: setup
	$(BIN)/python scripts/screenshots.py out/screenshots
