# Two commands set everything up on a fresh machine with Python 3.11+:
#   make run    creates .venv, installs, migrates the SQLite database, serves http://127.0.0.1:5000
#               with the mail worker beside it
#   make test   the same set-up with the test dependencies, then the suite without the browser tests
#               (make test-all runs those too, as CI does)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Links in the emails the worker prints point here: `make run PORT=5822` gives links to port 5822.
SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test test-all bench lint lock install install-dev migrate translations clean

TRANSLATIONS := petition/translations
CATALOGUES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever a requirements file changes. The files pin every package with its hashes
# (make lock writes them from requirements.in and requirements-dev.in), so pip checks each download.
$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt
	touch $@

# Compiled catalogues are built, never committed: part of every install.
%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed $(COMPILED)
install-dev: $(VENV)/.installed-dev $(COMPILED)

# Find new or changed strings in the code and templates and merge them into every catalogue.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --width 100 \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update --width 100 --ignore-obsolete -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

migrate: install
	$(FLASK) db upgrade

# The mail worker runs beside the web server and stops with it. Without MAIL_SERVER it prints each
# email (with its confirmation link) to this console.
run: migrate
	SITE_URL=$(SITE_URL) $(FLASK) mail deliver --watch & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	SITE_URL=$(SITE_URL) $(FLASK) run --host $(HOST) --port $(PORT) --debug

# axe-core for the accessibility tests, pinned in tests/axe/package-lock.json. Without npm they are
# skipped here (CI fails on a skipped test, so it always runs them).
AXE := tests/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/axe --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the accessibility tests will be skipped (apt-get install npm)"; fi

# The quick loop (about two minutes here): every test but those that drive Chromium.
test: install-dev
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

# Everything, browser and deployment tests included (what CI runs, on both databases).
test-all: install-dev $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Seeds 1,000,000 signatures, serves with gunicorn, loads with wrk; prints a table (several minutes).
bench: install-dev
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) \
		|| (echo "wrk is needed: apt-get install wrk" && exit 1)
	$(BIN)/python bench/run.py

# The checks CI runs besides the tests: ruff's lint rules and its formatting, and mypy's type check
# of the package (configured in pyproject.toml: every function annotated, every body checked).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Pin every dependency, with hashes, from the top-level names in requirements.in / requirements-dev.in.
lock: install-dev
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) .pytest_cache tests/axe/node_modules
