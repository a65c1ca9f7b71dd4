# Linli — the two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_WORKERS ?= 2

.PHONY: run test test-fast lint bench package install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check "pip>=24,<26.3"
	@$(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	  print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > $(VENV)/requirements.txt
	@$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP) ## Start the embedded stack with demo data (Ctrl-C stops it)
	@$(PY) -m devstack

test: $(STAMP) ## The whole suite: unit, service (fakes), contract, integration (moto), e2e, security, infra
	@$(PY) -m pytest -n $(PYTEST_WORKERS) chalicelib tests

test-fast: $(STAMP) ## The quick loop: doctests, unit and service tests on in-memory fakes (no emulator), seconds
	@$(PY) -m pytest chalicelib tests/unit tests/service tests/contract -k "not dynamodb"

lint: $(STAMP)
	@$(VENV)/bin/ruff check .

bench: $(STAMP) ## AWS round trips per route and cold-start import time
	@$(PY) -m bench

package: $(STAMP) ## One CloudFormation/SAM template in out/ (chalice package + infra/resources.json)
	@$(PY) -m infra.package out

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
