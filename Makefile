# `make run` and `make test` are the two commands of the README: each sets up everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INDEX_DIR ?= instance/index
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/archive --index-dir $(INDEX_DIR) index archive/data/sample
	$(BIN)/archive --index-dir $(INDEX_DIR) search "flood defences" --limit 3
	$(BIN)/archive --index-dir $(INDEX_DIR) serve --host $(HOST) --port $(PORT)

# The browser tests drive Debian's chromium; Playwright's own browser download is never used.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(VENV)/.installed-test chromium lint
	$(BIN)/pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/index_throughput.py
	$(BIN)/python bench/summary_quality.py --limit 400
	$(BIN)/python bench/summary_speed.py --limit 200
	$(BIN)/python bench/web_latency.py
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) instance test-artifacts
