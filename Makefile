# Linli — the two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
# The one Python the project runs on, here and in Lambda (pyproject's requires-python, infra/package.py's runtime;
# tests/infra/test_python_version.py keeps the three equal). Anything else is refused below, in one line.
PYTHON_VERSION := 3.11
PYTHON ?= $(shell command -v python$(PYTHON_VERSION) || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_WORKERS ?= 2

# Refuse a wrong interpreter before doing anything: the venv's once it exists, else the one that would make it.
ifneq ($(filter-out clean help reset,$(or $(MAKECMDGOALS),install)),)
CHECKED_PYTHON := $(if $(wildcard $(PY)),$(PY),$(PYTHON))
FOUND_VERSION := $(shell "$(CHECKED_PYTHON)" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifneq ($(FOUND_VERSION),$(PYTHON_VERSION))
ifneq ($(wildcard $(PY)),)
$(error Linli needs Python $(PYTHON_VERSION) ($(VENV)/ was made with Python $(or $(FOUND_VERSION),that no longer runs)): run make clean, then make again with python$(PYTHON_VERSION) on PATH)
else
$(error Linli needs Python $(PYTHON_VERSION) (found $(if $(CHECKED_PYTHON),$(or $(FOUND_VERSION),nothing that runs) at $(CHECKED_PYTHON),no python3 on PATH)): install python$(PYTHON_VERSION) (apt install python$(PYTHON_VERSION)-venv, brew install python@$(PYTHON_VERSION) or pyenv install $(PYTHON_VERSION)) or name it: make PYTHON=/path/to/python$(PYTHON_VERSION))
endif
endif
endif

.PHONY: help run reset test test-fast test-web lint bench package install clean replay-events rebuild-reports web web-deps browser-deps api-types

install: $(STAMP)

# One line of progress while pip works quietly (its output is shown only if it fails).
$(STAMP): pyproject.toml
	@log=$$(mktemp); started=$$SECONDS; \
	printf 'Installing Python dependencies into $(VENV)/ (first run takes about 2 minutes)… '; \
	( set -e; test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	  $(PY) -m pip install --quiet --disable-pip-version-check --progress-bar off "pip>=24,<26.3"; \
	  $(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	    print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > $(VENV)/requirements.txt; \
	  $(PY) -m pip install --quiet --disable-pip-version-check --progress-bar off -r $(VENV)/requirements.txt \
	) >"$$log" 2>&1 & pid=$$!; \
	while kill -0 $$pid 2>/dev/null; do \
	  if [ -t 1 ]; then printf '%4ss\b\b\b\b\b' $$((SECONDS - started)); fi; sleep 0.5; done; \
	if wait $$pid; then printf 'done in %s s.\n' $$((SECONDS - started)); rm -f "$$log"; \
	else echo "failed:"; cat "$$log" >&2; rm -f "$$log"; exit 1; fi
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

help: ## What each target does
	@awk -F ':.*## ' '/^[a-z-]+:.*## /{printf "make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: $(STAMP) web ## Start the embedded stack with demo data and the console (Ctrl-C stops it); its data persists in .linli/
	@$(PY) -m devstack

web: $(STAMP) ## Install the web apps' npm packages and build them, each only when its lockfile or sources changed
	@$(PY) -m devstack.webbuild

web-deps: $(STAMP)
	@$(PY) -m devstack.webbuild --deps

browser-deps: ## Debian's Chromium and CJK fonts for the browser tests (apt-get when missing)
	@bash devstack/browser_deps.sh

api-types: $(STAMP) web-deps ## Regenerate web/api/openapi.json and the TypeScript types from the app's routes
	@$(PY) -m devstack.apidoc

# Needs no installed dependency (and no particular Python): it only deletes the stack's files.
reset: ## Delete the embedded stack's data (.linli/, or LINLI_DATA_DIR): the next make run starts fresh
	@$(if $(wildcard $(PY)),$(PY),$(or $(PYTHON),python3)) -m devstack reset

replay-events: $(STAMP) ## Replay the event dispatcher's dead letters on the running stack (idempotent)
	@$(PY) -m devstack.replay

rebuild-reports: $(STAMP) ## Recompute a tenant's KPI rollups from its event log on the running stack: make rebuild-reports SLUG=demo
	@$(PY) -m devstack.rebuild_reports $(or $(SLUG),demo)

test: $(STAMP) web browser-deps ## The whole suite: unit, service (fakes), contract, integration (moto), e2e, security, infra, web (vitest), browser
	@cd web/console && npx --no-install vitest run --reporter=dot
	@cd web/resident && npx --no-install vitest run --reporter=dot
	@LINLI_MP_APPID=wx0000000000000000 LINLI_MP_TENANT=demo LINLI_MP_API=https://linli.example.test \
		$(PY) -m infra.miniprogram .artifacts
	@$(PY) -m pytest -n $(PYTEST_WORKERS) --durations=12 chalicelib tests

test-web: web-deps ## The web apps' unit tests (vitest), seconds
	@cd web/console && npx --no-install vitest run
	@cd web/resident && npx --no-install vitest run

test-fast: $(STAMP) ## The quick loop: doctests, unit and service tests on in-memory fakes (no emulator), seconds
	@$(PY) -m pytest chalicelib tests/unit tests/service tests/contract -k "not dynamodb"

lint: $(STAMP)
	@$(VENV)/bin/ruff check .

bench: $(STAMP) web browser-deps ## AWS round trips per route, cold start, SLA sweep scaling, fair share under a flood, console and resident page weight and speed
	@$(PY) -m bench

package: $(STAMP) ## One CloudFormation/SAM template in out/ (chalice package + infra/resources.json); out/web/: the built web apps; out/mp-weixin/: a tenant's mini-program (LINLI_MP_APPID, LINLI_MP_TENANT, LINLI_MP_API)
	@$(PY) -m infra.package out

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis web/console/node_modules web/console/dist web/resident/node_modules web/resident/dist
