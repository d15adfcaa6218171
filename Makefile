# Qinglian: the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export QL_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: demo test test-run setup setup-dev browser i18n lint bench clean

## demo: set up, migrate, seed demo data, run the app on 127.0.0.1:$(PORT) with a worker
demo: setup
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo seed --size small
	$(BIN)/flask --app wsgi serve --port $(PORT)

## test: set up everything the suite needs (incl. Chromium for browser tests) and run it
test: setup-dev browser test-run

test-run:
	$(BIN)/python -m pytest -n 2 --dist loadfile -p no:cacheprovider $(PYTEST_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install -q -e .

setup-dev: $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"

browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
	  echo "installing Debian's chromium and fonts-noto-cjk for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

## i18n: extract messages, update every component's catalogues (core + each plugin), compile
i18n:
	$(BIN)/python -m core.i18n_tools update all

lint:
	$(BIN)/ruff check core plugins tests bench examples

bench:
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/alerts.py

clean:
	rm -rf $(VENV) instance test-artifacts
