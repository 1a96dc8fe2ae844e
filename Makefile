PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve-prod test lint format install migrate seed worker beat clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## make run: venv, install, migrate, seed demo data (once), serve on 127.0.0.1:8000
run: seed
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## make serve-prod: production mode (DEBUG=0): migrate, collectstatic, gunicorn on $(BIND)
## needs SECRET_KEY (and ALLOWED_HOSTS, DATABASE_URL, ...): see README, Production
BIND ?= 127.0.0.1:8000
WORKERS ?= 3
serve-prod: install
	@test -n "$$SECRET_KEY" || { echo "serve-prod: set SECRET_KEY first (README: Production)" >&2; exit 1; }
	DEBUG=0 $(BIN)/python manage.py migrate --noinput
	DEBUG=0 $(BIN)/python manage.py collectstatic --noinput
	DEBUG=0 $(BIN)/gunicorn erp.wsgi -b $(BIND) -w $(WORKERS)

## make test: venv, install, whole suite (PostgreSQL/Redis tests need DATABASE_URL / CELERY_BROKER_URL)
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/python bin/check_repository_boundary.py
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	$(BIN)/celery -A erp worker --loglevel=info

beat: install
	$(BIN)/celery -A erp beat --loglevel=info

clean:
	rm -rf $(VENV) var
