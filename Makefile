# Loa: `make run` (setup + stack + services) and `make test` (lint + types + every test).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV      ?= .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.loa-setup.stamp
STACK     := deploy/local/stack.sh
PYTHON    ?= python3
LOA_CACHE_DIR ?= $(CURDIR)/.loa
X_ORACLE  := $(LOA_CACHE_DIR)/npm/twitter-text-3.1.0
X_LOCK    := tests/channels/x/oracle/package-lock.json
export PYTHONPATH := shared:.
# What `make run`, the benchmarks and the drills start talks to the sandbox; the code's default is
# production (real platforms only), so they say development (LOA_MODE=production make run refuses).
LOA_MODE  ?= development

.PHONY: help setup stack-up stack-down stack-status run stop test lint typecheck helm-check pytest test-s3-alt audit bench drill chaos docs clean-venv

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@command -v uv >/dev/null || $(PYTHON) -m pip install --quiet 'uv==0.13.9'
	@[[ -x $(PY) ]] || uv venv --quiet --python "$$(command -v $(PYTHON))" $(VENV)
	uv pip install --quiet --python $(PY) --require-hashes -r requirements.lock
	uv pip install --quiet --python $(PY) --no-deps -e .
	@# Bytecode once, here: where PYTHONDONTWRITEBYTECODE is set (as on this project's CI machines)
	@# every process would otherwise compile ~1,000 modules at each start (2-3 s of CPU, ~6 MB RSS).
	$(PY) -m compileall -q -j0 $(VENV)/lib/python3.11/site-packages
	@touch $@

ASYNCAPI_PARSER := tests/unit/events/asyncapi/node_modules/.package-lock.json
# axe-core, injected into headless Chromium by the accessibility tests (tests/e2e/axe.py).
AXE_CORE := tests/e2e/axe/node_modules/.package-lock.json

$(ASYNCAPI_PARSER): tests/unit/events/asyncapi/package-lock.json
	npm ci --prefix tests/unit/events/asyncapi --no-audit --no-fund --loglevel=error

$(AXE_CORE): tests/e2e/axe/package-lock.json
	npm ci --prefix tests/e2e/axe --no-audit --no-fund --ignore-scripts --loglevel=error

setup: $(STAMP) ## Debian packages (as root), venv with the pinned packages + the stack's binaries
	@bash deploy/local/system_packages.sh run
	@$(MAKE) --no-print-directory $(X_ORACLE)/node_modules/.package-lock.json
	@$(PY) -m compileall -q -j0 shared services
	@bash $(STACK) install

# twitter-text 3.1.0 from npm: the oracle the X counting tests compare Loa's port with, and the
# X emulator's counter (services/sandbox/x_counting.py).
$(X_ORACLE)/node_modules/.package-lock.json: $(X_LOCK) tests/channels/x/oracle/package.json
	@if command -v npm >/dev/null; then \
	  mkdir -p $(X_ORACLE) && cp tests/channels/x/oracle/package.json $(X_LOCK) $(X_ORACLE)/ && \
	  npm ci --prefix $(X_ORACLE) --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else echo "npm is missing: the X counting oracle tests will be skipped, the X emulator will not count"; fi

stack-up: ## start Kafka, MinIO, PostgreSQL (idempotent)
	@bash $(STACK) up

stack-down: ## stop everything the stack started
	@bash $(STACK) down

stack-status: ## one line per component: port, pid, health
	@bash $(STACK) status

run: setup stack-up ## setup if needed, start the stack and every service in deploy/local/services.Procfile
	@LOA_MODE=$(LOA_MODE) $(PY) deploy/local/supervise.py deploy/local/services.Procfile --then "bash deploy/local/demo.sh"

stop: ## stop the services started by `make run`, then the stack
	@[[ ! -x $(PY) ]] || $(PY) deploy/local/supervise.py --stop
	@bash $(STACK) down

test: lint typecheck helm-check pytest test-s3-alt ## lint + type checks + the Helm chart offline + unit, integration and e2e tests + storage tests on SeaweedFS

lint: $(STAMP) ## ruff (rules and formatting)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy's cache lives in the cache folder, so a fresh clone that keeps LOA_CACHE_DIR (as CI keeps the
# Kafka jars and MinIO) checks only what changed: ~40 s of CPU cold, ~1 s warm. Mypy compares each
# file's hash when its mtime differs, so a clone's new mtimes reuse it safely; one folder per checkout
# path, because mypy's SQLite cache is not meant for two runs writing at once (worktrees in parallel).
MYPY_CACHE := $(LOA_CACHE_DIR)/mypy/$(subst /,_,$(CURDIR))

typecheck: $(STAMP) ## mypy (strict for shared/)
	$(VENV)/bin/mypy --cache-dir "$(MYPY_CACHE)" shared services deploy tests

helm-check: $(STAMP) ## the Helm chart: helm lint + template per values file, objects vs the API schemas (offline)
	@bash deploy/helm/check.sh check

pytest: $(STAMP) ## unit, integration and e2e tests (installs what they need as root; starts the stack)
	@bash deploy/local/system_packages.sh test
	@$(MAKE) --no-print-directory $(X_ORACLE)/node_modules/.package-lock.json $(ASYNCAPI_PARSER) $(AXE_CORE)
	$(PY) -m pytest tests -q --durations=30

S3_ALT_TESTS = tests/integration/media tests/integration/ingest/test_ingest_api.py \
  tests/integration/ingest/test_ingest_size_limits.py tests/integration/ingest/test_ingest_bad_input.py \
  tests/channels/website/test_static_site.py tests/channels/website/test_served_site.py \
  tests/integration/archive

test-s3-alt: $(STAMP) ## the media-store, ingest-upload, website and archive tests against SeaweedFS (docs/storage.md)
	@bash deploy/local/seaweedfs.sh up
	LOA_S3_BACKEND=seaweedfs $(PY) -m pytest $(S3_ALT_TESTS) -q

audit: $(STAMP) ## pinned packages vs published advisories (exit 2 = no advisory source reachable: NOT audited)
	$(PY) deploy/local/audit.py

bench: $(STAMP) ## run every bench/*.py (figures last, JSON in bench/results/)
	@shopt -s nullglob; scripts=(bench/*.py); scripts=($${scripts[@]/bench\/drill.py}); scripts=($${scripts[@]/bench\/chaos.py}); \
	if (( $${#scripts[@]} == 0 )); then echo "no benchmarks yet in bench/"; fi; \
	for s in "$${scripts[@]}"; do echo "== $$s"; LOA_MODE=$(LOA_MODE) $(PY) "$$s"; done

drill: $(STAMP) ## whole-stack fault drills on a private stack (a few minutes; exits 1 on any fault found)
	LOA_MODE=$(LOA_MODE) $(PY) bench/drill.py

chaos: $(STAMP) ## 3 replicas of every publisher, 2 trackers, a replica SIGKILLed every 3-6 s for 2 min (exits 1 on a duplicate or loss)
	LOA_MODE=$(LOA_MODE) $(PY) bench/chaos.py

docs: $(STAMP) ## regenerate the AsyncAPI document and JSON Schemas, check every relative link
	$(PY) -m loa.events.export
	$(PY) deploy/local/check_links.py README.md docs

clean-venv: ## remove the venv (the cache .loa/ stays)
	rm -rf $(VENV)
