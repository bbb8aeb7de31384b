# Two commands on a fresh machine: `make build` (install + build the embedded sample), `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= build

.PHONY: install build test lint train bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	# torch is pinned to the CPU build (torch==2.13.0) in the train extra; a bare torch pulls CUDA wheels.
	$(BIN)/pip install -q -e '.[train,dev]'
	touch $(STAMP)

install: $(STAMP)

build: $(STAMP)
	$(BIN)/cmedins build pipelines/sample.yaml --out $(OUT)/sample

test: $(STAMP)
	$(BIN)/ruff check cmedins tests train bench
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check cmedins tests train bench

clean:
	rm -rf $(OUT) .pytest_cache
