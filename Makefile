# Two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt torch
	$(BIN)/pip install -q -c constraints.txt -e ".[plot,serve,export,tensorboard,forecast,rouge,speech,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/seq2seq demo

test: $(STAMP)
	$(BIN)/python -m pytest tests

lint: $(STAMP)
	$(BIN)/ruff check seq2seq tests bench examples
	$(BIN)/ruff format --check seq2seq tests bench examples

bench: $(STAMP)
	bench/peers/setup.sh
	$(BIN)/python bench/compare.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/flops.py

clean:
	rm -rf $(VENV) runs .pytest_cache
