# Two commands for a new user: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
DEMO := $(BIN)/flask --app reconnect_clinic.demo
# pip prints errors and warnings only (PIP_QUIET=-qq: errors only; PIP_QUIET= : everything).
PIP_QUIET ?= --quiet

.PHONY: demo test lint system-deps browser-deps browser-assets clean i18n test-lower-bounds

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

# Chromium for the browser tests (installed as root on Debian; else they skip, saying so).
browser-deps:
	@sh scripts/browser-deps.sh

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

test: system-deps browser-deps $(VENV)/.installed-test browser-assets lint
	$(BIN)/python -m pytest

# mypy checks what setup.cfg's [mypy] names (the package, strictly, and the test helpers).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --exclude migrations/versions .
	$(BIN)/mypy

# The clinic's catalogue (babel.cfg; reconnect_clinic/i18n.py): gather every partner-facing
# text into the .pot, merge it into each language's .po (new texts come in untranslated,
# never fuzzy-guessed), and compile the .mo the wheel ships. tests/test_i18n.py fails on a
# .pot out of date with the sources, an untranslated or fuzzy text, or a stale .mo.
I18N := reconnect_clinic/translations
i18n: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext --no-location --sort-output \
		--project=reconnect-clinic --copyright-holder=reconnect-clinic -o $(I18N)/reconnect_clinic.pot .
	$(BIN)/pybabel update -D reconnect_clinic -i $(I18N)/reconnect_clinic.pot -d $(I18N) \
		--no-fuzzy-matching --width=100
	$(BIN)/pybabel compile -D reconnect_clinic -d $(I18N) --statistics

# CI: the same package with every dependency at the lowest version setup.cfg admits
# (.ci/lower-bounds.txt; tests/test_dependency_bounds.py keeps the two agreeing), in a
# venv of its own, over the tests that exercise each dependency.
LOWER_VENV ?= .venv-lower
LOWER_BOUND_TESTS := tests/test_migrations.py tests/test_pdf_compat.py tests/test_pdf_engine.py \
	tests/test_charts.py tests/test_reports.py tests/test_auth.py tests/test_two_factor.py \
	tests/test_links.py tests/test_login_limits.py tests/test_encryption.py \
	tests/test_homework_schedule.py tests/test_intake_flow.py tests/test_host_example.py \
	tests/test_extension.py tests/test_form_macros.py tests/test_i18n.py
$(LOWER_VENV)/.installed: setup.cfg pyproject.toml .ci/lower-bounds.txt
	$(PYTHON) -m venv $(LOWER_VENV)
	$(LOWER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
	$(LOWER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c .ci/lower-bounds.txt -e '.[test]'
	touch $@

test-lower-bounds: system-deps browser-deps browser-assets $(LOWER_VENV)/.installed
	$(LOWER_VENV)/bin/python -m pytest -q $(LOWER_BOUND_TESTS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache instance $(BROWSER_ASSETS)/node_modules $(LOWER_VENV)
