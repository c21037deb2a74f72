# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench install install-dev static lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the requirements change.
$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed node_modules/.package-lock.json
install-dev: $(VENV)/.installed-dev node_modules/.package-lock.json

# Try it now: SQLite, local-memory cache, eager tasks; demo data; http://127.0.0.1:8000
# The survey links of the e-mails it sends point at this server (PORT=8150 make run: port 8150).
run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	DEBUG=true $(BIN)/python manage.py migrate --no-input
	DEBUG=true $(BIN)/python manage.py seed_demo --size small
	DEBUG=true $(BIN)/python manage.py refresh_kpis --all
	DEBUG=true $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite. PostgreSQL and Redis are used when DATABASE_URL / REDIS_URL are set;
# otherwise it runs on SQLite and lists what it skipped for want of a service.
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The performance benchmark (not part of `make test`): PostgreSQL and Redis up; seeds `large` data the first
# time (minutes), then writes bench/RESULTS.md and bench/results.json. BENCH_ARGS="--runs 1 --only refresh" etc.
bench: install-dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache
