# civicgrid — two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/civicgrid
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-sqlite test-postgres lint bench-locate messages clean

install: $(STAMP)

$(STAMP): pyproject.toml package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

demo: install
	$(BIN)/civicgrid demo --host 127.0.0.1 --port 8000

# The suite runs twice: on the embedded SQLite default, then on the local PostgreSQL.
test: install test-sqlite test-postgres

test-sqlite: install
	env -u CIVICGRID_DATABASE_URL $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	CIVICGRID_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

bench-locate: install
	$(BIN)/civicgrid bench locate --json

# Regenerate the English catalogue after changing Chinese strings (needs GNU gettext).
messages: install
	cd src/civicgrid && ../../$(BIN)/civicgrid makemessages -l en --no-obsolete \
	  && ../../$(BIN)/civicgrid compilemessages -l en

clean:
	rm -rf $(VENV) node_modules var test-artifacts
