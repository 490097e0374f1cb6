# The project's vocabulary: `make run` and `make test` are all a newcomer needs.

PYTHON_VERSION := $(shell cat .python-version)
PYTHON ?= $(shell command -v python$(PYTHON_VERSION) 2>/dev/null || pyenv which python$(PYTHON_VERSION) 2>/dev/null)
PORT ?= 8000
# The site reads PORT too, so that links in the emails it prints point at this server.
export PORT
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test test-fast lint format migrations-check bench install install-dev install-bench clean

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "Python $(PYTHON_VERSION) was not found: install it (e.g. pyenv install $(PYTHON_VERSION))."; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

$(VENV)/.installed-bench: requirements.txt requirements-bench.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-bench: $(VENV)/.installed-bench

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_seeds
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install-dev
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest $(PYTEST_ARGS)

# Leaves out the browser tests and those marked slow (the fault suites, the
# hostile-input sweeps, subprocess and wall-clock checks); `make test` and CI run them.
test-fast: install-dev
	$(BIN)/pytest -m "not browser and not slow" $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

# Each benchmark prints its figures and exits non-zero when it misses a goal
# (docs/performance.md). bench.load needs wrk (apt-get install -y wrk) and redis-server.
bench: install-dev install-bench
	$(BIN)/python -m bench.render
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.akismet
	$(BIN)/python -m bench.reanchor
	$(BIN)/python -m bench.grading
	$(BIN)/python -m bench.grading --database postgres

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
