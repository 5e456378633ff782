# make run    install what is missing, migrate, seed demo data when empty, serve web + scheduler on :5000
# make test   the whole suite on SQLite, and again on PostgreSQL when PORTAL_TEST_DATABASE_URL is set
#             (the first pass clears that variable, so it really runs on SQLite)
# make screenshots  the README's screenshots (docs/screenshots), taken by tests/browser/test_screenshots.py
# make bench  the PRODUCT §4 figures (see bench/README.md): search, disclosures (PDF, deadline spike), complaint
#             intake, mixed load, credit re-evaluation, monitoring ingest
# make cluster-test  several hosts on one machine (primary + replica, Redis, two of every process), parts killed
#             under load; prints a table of checks (not part of make test; CI does not run it)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQ_STAMP := $(VENV)/.req-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
export FLASK_APP := wsgi
# The compiled HJ 212 fast path (portal/monitoring/_hj212c.c) for the interpreter the venv is made from
EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("include"))')
HJ212_EXT := portal/monitoring/_hj212c$(EXT_SUFFIX)

.PHONY: cluster-test run screenshots test test-sqlite test-postgres bench venv native system-run system-test system-bench translations db seed clean

$(REQ_STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.req-* && touch $@

venv: $(REQ_STAMP)

$(HJ212_EXT): portal/monitoring/_hj212c.c
	$(CC) -O2 -shared -fPIC -Wall -Wextra -I$(PY_INCLUDE) -o $@ $<

native: $(HJ212_EXT)

system-run:
	@scripts/system-deps.sh run
system-test:
	@scripts/system-deps.sh test
system-bench:
	@scripts/system-deps.sh bench

translations: venv
	@$(PY) scripts/i18n.py compile

db: venv translations
	@scripts/ensure-instance.sh
	$(PY) -m flask --app wsgi db upgrade

run: system-run venv native translations
	@scripts/run.sh

test: system-test venv native translations
	PORTAL_TEST_DATABASE_URL= $(PY) -m pytest
	@if [ -n "$$PORTAL_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL: $$PORTAL_TEST_DATABASE_URL"; \
	  $(PY) -m pytest -m "not browser"; \
	fi

# The README's screenshots, taken by the browser test on the small demo, written to docs/screenshots
screenshots: system-test venv native translations
	PORTAL_TEST_DATABASE_URL= PORTAL_SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -q tests/browser/test_screenshots.py

# Several hosts on one machine, parts killed under load (tests/cluster/run_cluster.py); not part of `make test`.
cluster-test: system-test venv native translations
	@scripts/ensure-instance.sh
	$(PY) tests/cluster/run_cluster.py $(CLUSTER_ARGS)

bench: system-bench venv native translations
	@scripts/ensure-instance.sh
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/disclosures.py $(DISCLOSURES_BENCH_ARGS)
	$(PY) bench/complaints.py $(COMPLAINTS_BENCH_ARGS)
	$(PY) bench/load.py $(LOAD_BENCH_ARGS)
	$(PY) bench/credit.py $(CREDIT_BENCH_ARGS)
	$(PY) bench/monitoring.py $(MONITORING_BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/*.sqlite3* instance/mail $(HJ212_EXT)
