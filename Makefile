# One-line targets; CI runs the same ones (.ci/run -> make test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install checkov browser azurite lint typecheck test run bench clean docs

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q -e '.[dev]' && touch $@

checkov: $(CHECKOV_VENV)/.installed
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV) && $(CHECKOV_VENV)/bin/pip install -q -r requirements-checkov.txt && touch $@

browser:
	bash scripts/install-browser.sh

azurite: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch $@

lint: install
	$(BIN)/ruff check src tests bench loadtest scripts

typecheck: install
	$(BIN)/mypy

test: install checkov browser azurite lint typecheck
	$(BIN)/pytest -q

run: install
	$(BIN)/chatref ingest docs README.md && $(BIN)/chatref serve --host $(HOST) --port $(PORT)

docs: install
	$(BIN)/python scripts/tfdocs.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) data .mypy_cache .ruff_cache .pytest_cache
