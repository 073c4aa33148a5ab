# The README's two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app
export MPLCONFIGDIR := $(CURDIR)/instance/mplconfig

.PHONY: run test install migration chromium redis bench axe screenshots

# Browser tests drive Debian's Chromium (browsers cannot be downloaded here).
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# The every-page browser test injects axe-core (the accessibility rules engine, from npm) into each page.
AXE_VERSION := 4.14.1
AXE := .cache/axe-$(AXE_VERSION)/node_modules/axe-core/axe.min.js
export AXE_JS := $(CURDIR)/$(AXE)
$(AXE):
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	rm -rf .cache/axe-*
	npm install --silent --no-audit --no-fund --no-save --prefix .cache/axe-$(AXE_VERSION) axe-core@$(AXE_VERSION)
axe: $(AXE)

# The report cache's scale-out test talks to a real Redis on 127.0.0.1:6379 (started when it is not running).
redis:
	@command -v redis-server >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null)
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || (redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null && for i in 1 2 3 4 5 6 7 8 9 10; do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## make run: set up, upgrade the database, seed demo data when empty, serve on http://127.0.0.1:5000
run: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask esd seed-demo --if-empty
	$(BIN)/flask esd run-dev

## make test: set up and run the whole suite (TEST_DATABASE_URL=postgresql://… for PostgreSQL too)
test: $(STAMP) chromium redis axe
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make screenshots: run the browser tests, saving the README's screenshots into docs/screenshots/
screenshots: $(STAMP) chromium redis axe
	ESD_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

## make migration: regenerate the single initial migration from the models (before the first release only)
migration: $(STAMP)
	rm -f migrations/versions/*.py instance/_migration.sqlite3
	DATABASE_URL=sqlite:///_migration.sqlite3 $(BIN)/flask db upgrade
	DATABASE_URL=sqlite:///_migration.sqlite3 $(BIN)/flask db migrate -m "initial schema" --rev-id 0001
	rm -f instance/_migration.sqlite3*

## make bench: benchmarks/run.py at HIDES hides (5,000 by default; CI runs it so it never rots; figures are printed)
HIDES ?= 5000
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --hides $(HIDES) $(BENCH_ARGS)
