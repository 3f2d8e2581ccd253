# Two commands on a fresh machine: `make run` serves the demo, `make test` checks everything.
PYTHON ?= python3
PORT ?= 8000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The real RxDB client that tests/e2e/test_rxdb.py drives (a Node project with its lock file).
RXDB := tests/e2e/rxdb
RXDB_STAMP := $(RXDB)/node_modules/.package-lock.json

.PHONY: run test install rxdb lint typecheck pytest bench schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Reinstalled only when the lock file is newer than the install. graphql and z-schema declare
# Node 22, but the client RxDB runs never loads them; --loglevel=error keeps that warning quiet.
$(RXDB_STAMP): $(RXDB)/package-lock.json
	cd $(RXDB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

rxdb: $(RXDB_STAMP)

run: install
	$(BIN)/meijing db upgrade
	$(BIN)/meijing seed --demo --if-empty
	$(BIN)/meijing serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy .

# One worker per core, each with its own databases (tests/conftest.py), and branch coverage of
# the service's packages; the floor is the figure measured when it was set, rounded down.
PYTEST_WORKERS ?= auto
COVERAGE_FLOOR ?= 92
COVERAGE := $(foreach p,app core access models resolvers sync schema exports demo migrations,--cov=$(p))

pytest: install rxdb
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(COVERAGE) --cov-branch --cov-report=term:skip-covered \
		--cov-fail-under=$(COVERAGE_FLOOR)

test: lint typecheck pytest

schema: install
	$(BIN)/python -c "import schema, sys; sys.stdout.write(schema.sdl())" > schema.graphql

bench: install
	$(BIN)/python bench/graphql.py

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache $(RXDB)/node_modules
