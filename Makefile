# The README's commands. A fresh machine needs only python3 and make: uv is bootstrapped into
# .tools/ when it is not on PATH, and it builds .venv from uv.lock.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
# Trust the platform certificate store too (machines behind a TLS-inspecting proxy).
export UV_SYSTEM_CERTS := 1

.PHONY: run serve test lint typecheck schema schema-check pytest fuzz migrate seed bench clean

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

run: .venv/.synced ## migrate the SQLite file database, seed demo data, serve on 127.0.0.1:8000
	$(RUN) account-center migrate
	$(RUN) account-center seed-demo
	$(RUN) account-center serve

serve: .venv/.synced
	$(RUN) account-center serve

migrate: .venv/.synced
	$(RUN) account-center migrate

seed: .venv/.synced
	$(RUN) account-center seed-demo

test: lint typecheck schema-check pytest fuzz ## everything CI checks

lint: .venv/.synced
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: .venv/.synced
	$(RUN) mypy

schema: .venv/.synced ## re-export schema.graphql from the code
	$(RUN) account-center export-schema

schema-check: .venv/.synced
	$(RUN) account-center export-schema --check

pytest: .venv/.synced
	$(RUN) pytest $(PYTEST_ARGS)

fuzz: .venv/.synced ## schemathesis against /graphql, signed out and signed in (FUZZ_SECONDS each)
	$(RUN) python scripts/fuzz.py $(FUZZ_ARGS)

bench: .venv/.synced ## load the served app with wrk on SQLite and PostgreSQL; prints figures
	$(RUN) python -m bench.run $(BENCH_ARGS)
	$(RUN) python -m bench.queue $(QUEUE_BENCH_ARGS)

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache fuzz-report account-center.db*
