# Kessai — the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is what those two call.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
# The demo runs against the sandbox gateway, so it takes the sandbox's fresh rates too; the
# server's own default (production) is the ECB rates shipped offline (docs/fx.md).
KESSAI_FX_SOURCE ?= gateway

.PHONY: run test install install-test assets catalogs migrate browsers bench lint e2e unit clean

## run: install, build assets, compile catalogs, migrate, create the demo merchant, serve on :$(PORT)
run: install assets catalogs migrate
	$(VENV)/bin/kessai merchants ensure-demo
	@echo "Kessai on http://localhost:$(PORT)  (demo shop: http://localhost:$(PORT)/demo)"
	KESSAI_FX_SOURCE=$(KESSAI_FX_SOURCE) $(VENV)/bin/kessai serve --with-worker --port $(PORT)

## test: install test dependencies (Chromium + CJK fonts when missing) and run the whole suite
test: install-test assets catalogs browsers
	$(PY) -m pytest -p no:cacheprovider --tracing retain-on-failure --screenshot only-on-failure --output test-results; \
	status=$$?; if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$status

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

## assets: front-end packages from the npm registry, copied into static/vendor (not committed)
assets: node_modules/.installed
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js

catalogs: install
	$(PY) scripts/i18n.py compile

migrate: install
	$(VENV)/bin/kessai db upgrade

## browsers: Debian's Chromium and CJK fonts (Playwright cannot download browsers here), and
## Java for the Nu HTML Checker (vnu-jar)
browsers:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || ! command -v java >/dev/null; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk default-jre-headless >/dev/null; \
	  elif command -v apt-get >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk default-jre-headless; \
	  else \
	    $(PY) -m playwright install chromium; \
	  fi; \
	fi

## unit / e2e: parts of the suite
unit: install-test assets catalogs
	$(PY) -m pytest -m "not e2e"
e2e: install-test assets catalogs browsers
	$(PY) -m pytest -m e2e

## bench: CPU per page, page weight, latency, Lighthouse, two nodes, webhooks, passkey payment (bench/README.md)
## Every part runs even when one misses its budget; the target fails if any did.
bench: install-test assets catalogs browsers
	@status=0; \
	$(PY) bench/cpu.py || status=1; \
	$(PY) bench/run.py || status=1; \
	$(PY) bench/lighthouse.py || status=1; \
	$(PY) bench/nodes.py || status=1; \
	$(PY) bench/gateway.py || status=1; \
	$(PY) bench/webhooks.py || status=1; \
	$(PY) bench/passkeys.py || status=1; \
	exit $$status

## lint: ruff, mypy, the import contracts (layers, pyproject.toml) and no import circle
lint: install-test
	$(VENV)/bin/ruff check checkout tests scripts bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(PY) scripts/import_cycles.py

clean:
	rm -rf $(VENV) node_modules static/vendor test-results
