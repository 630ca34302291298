# Clone-to-run: every target installs what it needs first (uv, then the locked environment).
SHELL := /bin/bash
VENV := .venv
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench browser clean

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $(STAMP)

install: $(STAMP)

# Debian's Chromium drives the dashboard test; installed once, skipped when present.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the dashboard browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "WARNING: could not install chromium; the browser test will fail"; }

run: install
	$(VENV)/bin/kinerja demo

test: install browser
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

bench: install
	$(PY) -m kinerja.bench

clean:
	rm -rf demo-output .pytest_cache
