PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format install migrate seed worker beat clean

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
