# Two commands for a new user: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
DEMO := $(BIN)/flask --app reconnect_clinic.demo

.PHONY: demo test lint system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

# Reinstalled whenever the package metadata changes.
$(VENV)/.installed-demo: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-demo

system-deps:
	@sh scripts/system-deps.sh

demo: system-deps $(VENV)/.installed-demo
	$(DEMO) clinic db-upgrade
	$(DEMO) clinic seed-demo
	@echo "Serving the demo on http://127.0.0.1:$(PORT)/ (Ctrl+C stops it)"
	$(DEMO) run --host 127.0.0.1 --port $(PORT)

test: system-deps $(VENV)/.installed-test lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --exclude migrations/versions .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache instance
