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

.PHONY: run serve test lint typecheck schema schema-check pytest fuzz migrate seed bench clean example example-serve

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

lint: .venv/.synced ## ruff, and the layering contracts in pyproject.toml (docs/architecture.md#layering)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports --no-logo

typecheck: .venv/.synced
	$(RUN) mypy

schema: .venv/.synced ## re-export schema.graphql from the code
	$(RUN) account-center export-schema

schema-check: .venv/.synced
	$(RUN) account-center export-schema --check

# pytest-xdist workers, each with its own database (tests/conftest.py). auto: one per CPU, so 2 on the
# project's machines and CI. PYTEST_WORKERS=0 runs serially, for pdb or output in order.
PYTEST_WORKERS ?= auto

pytest: .venv/.synced
	$(RUN) pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

fuzz: .venv/.synced ## schemathesis against /graphql, signed out and signed in (FUZZ_SECONDS each)
	$(RUN) python scripts/fuzz.py $(FUZZ_ARGS)

bench: .venv/.synced ## load the served app with wrk on SQLite and PostgreSQL; prints figures
	$(RUN) python -m bench.run $(BENCH_ARGS)
	$(RUN) python -m bench.queue $(QUEUE_BENCH_ARGS)

# The example console (examples/web/README.md): Node.js 20+ and npm. Its npm packages come from the committed
# lockfile (npm ci, again whenever the lockfile changes); its client is generated from schema.graphql on
# every run, so an operation the schema no longer allows, or a type it changed, fails here.
EXAMPLE := examples/web
EXAMPLE_PORT ?= 5173

$(EXAMPLE)/node_modules/.installed: $(EXAMPLE)/package.json $(EXAMPLE)/package-lock.json
	@command -v npm >/dev/null || { echo "The example needs Node.js 20+ and npm (Debian: apt-get install nodejs npm)." >&2; exit 1; }
	cd $(EXAMPLE) && npm ci --prefer-offline --no-audit --no-fund
	touch $@

example: $(EXAMPLE)/node_modules/.installed ## regenerate the example's client from schema.graphql, tsc --strict, bundle into examples/web/dist
	rm -rf $(EXAMPLE)/dist  # a failed build leaves none behind, so the browser test cannot pass on an old one
	cd $(EXAMPLE) && npm run --silent codegen && npm run --silent typecheck && npm run --silent build

example-serve: example ## build the example and serve it on 127.0.0.1:EXAMPLE_PORT (the API: CORS_ALLOWED_ORIGINS=http://127.0.0.1:5173 make run)
	@echo "Open http://127.0.0.1:$(EXAMPLE_PORT)/?api=http://127.0.0.1:8000"
	$(PYTHON) -m http.server $(EXAMPLE_PORT) --bind 127.0.0.1 --directory $(EXAMPLE)/dist

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .import_linter_cache fuzz-report account-center.db*
	rm -rf $(EXAMPLE)/node_modules $(EXAMPLE)/dist $(EXAMPLE)/src/gql
