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

# Regenerate the English catalogue after changing marked strings (needs GNU gettext), then
# translate what it lists as untranslated or fuzzy. One catalogue serves every app and template:
# src/civicgrid/locale (LOCALE_PATHS); no app keeps its own locale/, since makemessages would
# then split the strings between catalogues by path prefix (web/ also claims webhooks/).
# Locations name the file, not the line, so moving code does not touch the catalogue; when
# nothing but xgettext's POT-Creation-Date changed, the committed file is kept as it was.
# makemessages sees only literal strings: texts passed through gettext as variables (the rental
# grading rules, the API's validation messages) are marked where they are defined with
# gettext_noop (rental/texts.py, rental/grading.py, core/api.py).
# tests/core/test_messages.py runs the same command on a copy and fails on any difference.
PO := src/civicgrid/locale/en/LC_MESSAGES/django.po
messages: install
	cp $(PO) $(PO).orig
	cd src/civicgrid && CIVICGRID_DATA_DIR=../../var \
	  ../../$(BIN)/civicgrid makemessages -l en --no-obsolete --add-location=file
	if diff -q -I '^"POT-Creation-Date: ' $(PO).orig $(PO) >/dev/null; \
	  then mv $(PO).orig $(PO); else rm $(PO).orig; fi
	@msgfmt --statistics -o /dev/null $(PO)  # any fuzzy or untranslated ones still to do?
	cd src/civicgrid && CIVICGRID_DATA_DIR=../../var ../../$(BIN)/civicgrid compilemessages -l en

clean:
	rm -rf $(VENV) node_modules var test-artifacts
