# Entry points: `make run` (baseline scenario), `make test` (lint + whole test suite),
# `make explore` (the interactive explorer) and `make notebooks` (re-execute and store the
# notebooks). Each creates .venv with a Python 3.12+ interpreter when it is missing; `make test`
# also installs Debian's headless Chromium for the explorer's test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench explore notebooks browser clean

# Find a Python 3.12 or 3.13: plain names first, then pyenv's installed versions (whose shims refuse
# to run unless PYENV_VERSION names them).
define find_python
for cand in python3.13 python3.12 python3; do \
  if command -v $$cand >/dev/null 2>&1 && $$cand -c 'import sys; sys.exit(not ((3,12) <= sys.version_info[:2] < (3,14)))' 2>/dev/null; then \
    command -v $$cand; exit 0; fi; \
done; \
root=$${PYENV_ROOT:-$$HOME/.pyenv}; \
for v in $$(ls -1 $$root/versions 2>/dev/null | grep -E '^3\.1[23]\.[0-9]+$$' | sort -rV); do \
  cand=$$root/versions/$$v/bin/python3; \
  if [ -x $$cand ] && $$cand -c 'import sys; sys.exit(not ((3,12) <= sys.version_info[:2] < (3,14)))'; then \
    echo $$cand; exit 0; fi; \
done; \
exit 1
endef

$(STAMP): pyproject.toml
	@py=$$( $(find_python) ) || { echo "error: aiplus-sim needs Python 3.12 or 3.13; none found. Install one (e.g. 'apt-get install python3.12 python3.12-venv', or 'pyenv install 3.12') and rerun." >&2; exit 1; }; \
	echo "using $$py ($$($$py --version))"; \
	[ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,ui]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m sim $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Tests run on TEST_JOBS worker processes (pytest-xdist; default one per core; 0: in pytest's own).
TEST_JOBS ?= auto
test: lint browser
	$(VENV)/bin/pytest -n $(TEST_JOBS) $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run.py $(ARGS)

# The explorer on http://localhost:8765 (solara's own flags may follow in ARGS; RUN=FOLDER: a
# calibrated run whose posterior the sliders and the band start from).
explore: $(STAMP)
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=False AIPLUS_EXPLORE_RUN=$(RUN) $(VENV)/bin/solara run sim/ui/explorer.py --port 8765 \
	  --no-check-version $(ARGS)

# Re-execute the analyst notebooks on this venv and store them with their outputs and the hash of
# their code cells (notebooks/nbstore.py); tests/test_notebooks.py fails when a notebook's code
# changed since. ARGS may name some notebooks: make notebooks ARGS=notebooks/05_calibration.ipynb
notebooks: $(STAMP)
	$(PY) notebooks/nbstore.py $(ARGS)

# Debian's chromium and chromium-driver, installed when missing (needs root and apt-get).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] || { \
	    echo "error: the explorer's test needs Chromium: apt-get install chromium chromium-driver" >&2; \
	    exit 1; }; \
	  echo "installing chromium and chromium-driver (Debian packages)"; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; \
	fi

clean:
	rm -rf $(VENV)
