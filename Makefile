# Tawasul: `make run` serves the portal with demo data, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT    := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.PHONY: run test lint bench install translations assets system-packages chromium promtool postgresql-client nginx stack stack-down stack-test clean

# Upgrades the schema (migrations) and loads the demo data once, then serves (web) and sends the
# SMS outbox (worker), both from the Procfile, in demo mode: the SMS are read at /dev/outbox. Ctrl-C stops it.
run: install instance/secret_key
	FLASK_PUBLIC_URL=http://127.0.0.1:$(PORT) $(BIN)/flask --app app init-db --demo
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) FLASK_DEMO=1 FLASK_PUBLIC_URL=http://127.0.0.1:$(PORT) \
	  $(BIN)/honcho start

# The date-sensitive modules run again as if started at other moments: Thursday 31 December
# at 23:30 UTC (already Friday 1 January in Riyadh) and 29 February 2028.
CLOCKS := 2026-12-31T23:30:00Z 2028-02-29T12:00:00Z
DATE_SENSITIVE := tests/test_formatting.py tests/test_fastpoll.py tests/test_after_decision.py tests/test_notices.py tests/test_sessions.py tests/test_signin.py tests/test_clock.py tests/test_models.py tests/test_staff.py tests/test_figures.py tests/test_cli.py \
                  tests/test_requests.py tests/test_auth.py tests/test_migrations.py tests/test_deadlines.py tests/test_watcher.py \
                  tests/test_assignment.py tests/test_objections.py tests/test_performance.py tests/test_metrics.py

# Each run spreads its tests over one process per core (pytest-xdist; a worker that runs out
# takes tests from the other): each has its own PostgreSQL schema and SQLite files, migrated once
# (tests/databases.py). Then the tests marked `alone` (pytest.ini) run in one process by themselves
# (only their files are collected again).
# `make test TEST_WORKERS=0` runs everything in one process.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest
ALONE := $(shell grep -l "pytest.mark.alone" tests/test_*.py)

test: install $(VENV)/.dev chromium promtool postgresql-client
	for clock in "" $(CLOCKS); do \
	  files=$${clock:+$(DATE_SENSITIVE)}; \
	  [ -z "$$clock" ] || echo "== the clock at $$clock"; \
	  TAWASUL_TEST_CLOCK=$$clock $(PYTEST) -n $(TEST_WORKERS) --dist worksteal -m "not alone" $$files || exit 1; \
	  alone="$(ALONE)"; [ -z "$$clock" ] || alone="$(filter $(ALONE),$(DATE_SENSITIVE))"; \
	  [ -z "$$alone" ] || TAWASUL_TEST_CLOCK=$$clock $(PYTEST) -m alone $$alone || [ $$? = 5 ] || exit 1; \
	done
	$(MAKE) --no-print-directory stack-test

# The deployment of deploy/ on this machine, from its own files (deploy/stack.py): nginx
# with TLS on https://127.0.0.1:8443 in front of two gunicorn app servers, two SMS
# workers and the watcher, on PostgreSQL (database tawasul_stack) and Redis (dbs 11, 12).
# `make stack-test` brings it up, runs tests/stack/test_stack.py through it, brings it down.
stack: install nginx
	$(BIN)/python deploy/stack.py up

stack-down:
	$(BIN)/python deploy/stack.py down

stack-test: install $(VENV)/.dev nginx
	$(BIN)/python deploy/stack.py test

# Debian's nginx for the stack, run as a private instance (never the system's configuration),
# and openssl for its self-signed certificate.
nginx:
	@[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || { $(APT) update && $(APT) install -y nginx; }
	@command -v openssl >/dev/null || { $(APT) update && $(APT) install -y openssl; }

# The speed over HTTP against a bare Flask app on the same server (bench/speed.py), as 200
# residents and 4 officers signed in meet it (bench/crowd.py), written to README.md; then a
# resident's first and repeat visits on emulated slow links in Chromium (bench/slow_link.py).
# Never part of `make test`: machines here are shared and noisy.
bench: install $(VENV)/.dev chromium
	@command -v wrk >/dev/null || { $(APT) update && $(APT) install -y wrk; }
	$(BIN)/python bench/speed.py --readme
	$(BIN)/python bench/slow_link.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .

install: $(VENV)/.app assets translations

# The key that signs CSRF tokens and keys the code hashes: made once, never committed
# (instance/ is ignored); the server refuses to start without a real one.
instance/secret_key:
	mkdir -p instance
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $@

system-packages:
	@command -v npm >/dev/null || { $(APT) update && $(APT) install -y npm; }
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { $(APT) update && $(APT) install -y python3-venv; }

$(VENV)/.app: requirements.txt | system-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.app
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# htmx comes from the pinned npm package (package-lock.json), never pasted by hand.
assets: static/vendor/htmx.min.js

static/vendor/htmx.min.js: package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

translations: $(VENV)/.app
	$(BIN)/pybabel -q compile -d translations

# Debian's chromium for the end-to-end tests, driven by the playwright package.
chromium:
	@command -v chromium >/dev/null || { $(APT) update && $(APT) install -y chromium; }

# Debian's promtool (in the prometheus package) checks the example alert rules and /metrics' output.
promtool:
	@command -v promtool >/dev/null || { $(APT) update && $(APT) install -y --no-install-recommends prometheus; }

# pg_dump, pg_restore and psql for `flask db backup | restore` (tests/test_backup.py): Debian's
# postgresql-client, whose major version is the server's (15 on bookworm).
postgresql-client:
	@command -v pg_dump >/dev/null || { $(APT) update && $(APT) install -y postgresql-client; }

clean:
	rm -rf $(VENV) node_modules static/vendor instance
