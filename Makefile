# Two commands for a newcomer: `make run` (set up, then transcribe the bundled demo calls)
# and `make test` (set up, then run the test suite). Both create .venv on first use.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
OUT ?= out/demo

.PHONY: run test setup bench clean

$(BIN)/callscope: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/callscope

setup: $(BIN)/callscope

run: setup
	$(BIN)/callscope transcribe demo/calls --out $(OUT)
	@echo "Transcripts of the demo calls are in $(OUT)/"

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/asr.py

clean:
	rm -rf $(VENV) out
