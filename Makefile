# One-line targets; CI runs the same ones (.ci/run -> make test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
HOST ?= 127.0.0.1
PORT ?= 8000
IMAGE ?= localhost/chatref:dev

.PHONY: install checkov browser azurite podman image loadtest lint typecheck test doctest run bench clean docs lock

# Installs come from lock files with hashes (requirements/*.txt), so a fresh machine gets exactly
# what CI tested: app.txt (the app, for the image), dev.txt (app + dev tools), checkov.txt.
# After adding or changing a dependency in pyproject.toml or requirements/checkov.in, run
# `make lock` (uv resolves against the package index) and commit requirements/ with the change.
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q --require-hashes -r requirements/dev.txt && $(BIN)/pip install -q --no-deps --no-build-isolation -e . && touch $@

checkov: $(CHECKOV_VENV)/.installed
$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV) && $(CHECKOV_VENV)/bin/pip install -q --require-hashes -r requirements/checkov.txt && touch $@

LOCK_VENV := .venv-lock
UV_COMPILE := $(LOCK_VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 --python-platform linux
lock:
	$(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install -q uv==0.13.8
	$(UV_COMPILE) pyproject.toml requirements/build.in -o requirements/app.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev -o requirements/dev.txt
	$(UV_COMPILE) requirements/checkov.in -o requirements/checkov.txt

browser:
	bash scripts/install-browser.sh

azurite: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch $@

podman:
	bash scripts/install-podman.sh

image: install podman
	bash scripts/image.sh $(IMAGE)

lint: install
	$(BIN)/ruff check src tests bench loadtest scripts
	@# terraform is not installed by this project (no provider downloads here); where a machine
	@# has the binary, its formatter checks infra/ offline.
	@if command -v terraform >/dev/null 2>&1; then TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive infra; fi

typecheck: install
	$(BIN)/mypy

test: install checkov browser azurite podman lint typecheck doctest
	$(BIN)/pytest -q

# Locust, headless and bounded (RUN_TIME s), with a verdict against loadtest/slo.toml in
# loadtest/out/slo.json. Local server and fake model unless HOST=https://... names a deployment
# (TOKEN_ENV=NAME: a variable holding a bearer token for it).
RUN_TIME ?= 60
USERS ?= 20
loadtest: install
	$(BIN)/python loadtest/run.py --run-time $(RUN_TIME) --users $(USERS) $(if $(filter command line environment,$(origin HOST)),--host $(HOST)) $(if $(TOKEN_ENV),--token-env $(TOKEN_ENV))

# Every `>>>` example in src/ and tests/fakes runs. An example that needs a live index, store or
# model is a plain literal block (`For example::`), not a prompt. policy/rules/ is loaded by
# checkov in its own environment and cannot be imported here (tests/test_doctests.py keeps it
# free of examples).
doctest: install
	$(BIN)/pytest -q --doctest-modules src/chatref tests/fakes --ignore=src/chatref/policy/rules

run: install
	$(BIN)/chatref ingest docs README.md && $(BIN)/chatref serve --host $(HOST) --port $(PORT)

docs: install
	$(BIN)/python scripts/tfdocs.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(LOCK_VENV) data .mypy_cache .ruff_cache .pytest_cache
