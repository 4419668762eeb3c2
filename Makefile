# Two commands for a new user: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
DEMO := $(BIN)/flask --app reconnect_clinic.demo
# pip prints errors and warnings only (PIP_QUIET=-qq: errors only; PIP_QUIET= : everything).
PIP_QUIET ?= --quiet

.PHONY: demo test lint system-deps browser-assets clean

$(BIN)/python:
	@echo "Creating the virtual environment $(VENV) (first run only)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install $(PIP_QUIET) --disable-pip-version-check --upgrade pip setuptools wheel

# Reinstalled whenever the package metadata changes. setuptools' note that every editable
# install prints ("Editable installation... be careful with folders in your working
# directory", about a dozen lines) is left out of the demo's log.
$(VENV)/.installed-demo: setup.cfg pyproject.toml | $(BIN)/python
	@echo "Installing reconnect-clinic and its dependencies into $(VENV) (a minute or two the first time)"
	@PYTHONWARNINGS="ignore:Editable installation" \
		$(BIN)/python -m pip install $(PIP_QUIET) --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-demo

system-deps:
	@sh scripts/system-deps.sh

# The demo's own steps print what they did: the database's revision, what is seeded and
# the demo login, then where it is served.
demo: system-deps $(VENV)/.installed-demo
	@$(DEMO) clinic db-upgrade
	@$(DEMO) clinic seed-demo
	@echo "Serving the demo on http://127.0.0.1:$(PORT)/ (Ctrl+C stops it): sign in with the demo login above."
	@$(DEMO) run --host 127.0.0.1 --port $(PORT)

# axe-core for tests/test_accessibility.py, at the version and hash the lock file pins
# (npm ci). Without npm that test skips and says why.
BROWSER_ASSETS := tests/browser_assets
$(BROWSER_ASSETS)/node_modules/.package-lock.json: $(BROWSER_ASSETS)/package.json $(BROWSER_ASSETS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(BROWSER_ASSETS) --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: tests/test_accessibility.py will be skipped (install Node.js and npm)"; \
	fi

browser-assets: $(BROWSER_ASSETS)/node_modules/.package-lock.json

test: system-deps $(VENV)/.installed-test browser-assets lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --exclude migrations/versions .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache instance $(BROWSER_ASSETS)/node_modules
