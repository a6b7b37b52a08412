# Two commands for a newcomer: `make run` (set up, then serve with the bundled demo calls)
# and `make test` (set up, then run the test suite). Both create .venv on first use.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
OUT ?= out/demo

CORPUS ?= ../shared/corpus/calls
# our own transcripts of the corpus recordings (the model also learns from them)
HEARD ?= out/corpus-transcripts
# labelled calls by other writers that the bundled model also learns from (eval/extra/README.md)
EXTRA := $(sort $(wildcard eval/extra/dev*))

.PHONY: run demo-batch test setup bench bench-nlp bench-reports model eval eval-heldout clean

$(BIN)/callscope: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/callscope

# the homophone tables are built into the cache once (about 10 s) so the first transcription does
# not pay for it; afterwards this only checks the cache file (well under a second)
setup: $(BIN)/callscope
	$(BIN)/python -m speech.homophones

# the service on SQLite (out/service/callscope.db) with the demo calls queued; Ctrl-C stops it
run: setup
	$(BIN)/callscope serve --demo --data out/service

# the batch path without the service: transcribe, analyse and report on the demo calls
demo-batch: setup
	$(BIN)/callscope transcribe demo/calls --out $(OUT)
	$(BIN)/callscope analyze $(OUT) --out $(OUT)
	$(BIN)/callscope report all --calls $(OUT) --out out/reports
	@echo "Transcripts (<call_id>.json) and analyses (<call_id>.analysis.json) of the demo calls are in $(OUT)/,"
	@echo "reports (CSV, JSON, XLSX, HTML charts: open out/reports/*.html in a browser) in out/reports/ (beside, not inside, the folder analyze reads)"

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/asr.py

bench-nlp: setup
	$(BIN)/python benchmarks/nlp_speed.py

bench-reports: setup
	$(BIN)/python benchmarks/reports.py

# retrain the bundled default model on the labelled corpus and on our own transcripts of its
# recordings (transcribed with --warp, the better customer text), printing cross-validated figures;
# transcribing takes about 30 minutes the first time
# (calls already in $(HEARD) are skipped)
model: setup
	$(BIN)/callscope transcribe $(CORPUS) --out $(HEARD) --warp
	$(BIN)/callscope train --corpus $(CORPUS) --transcripts $(HEARD) $(addprefix --extra ,$(EXTRA)) --out models/default

# accuracy on calls written for evaluation only, by someone who never saw the cue lists (eval/heldout/README.md)
eval-heldout: setup
	$(BIN)/callscope analyze eval/heldout/test --out out/eval/heldout-test
	$(BIN)/callscope eval --corpus eval/heldout/test --pred out/eval/heldout-test
	$(BIN)/callscope analyze eval/heldout/dev5 --out out/eval/heldout-dev5
	$(BIN)/callscope eval --corpus eval/heldout/dev5 --pred out/eval/heldout-dev5
	$(BIN)/callscope analyze eval/heldout/dev16 --out out/eval/heldout-dev16
	$(BIN)/callscope eval --corpus eval/heldout/dev16 --pred out/eval/heldout-dev16

# accuracy of the bundled model and of the untrained cues on the labelled transcripts
eval: setup
	$(BIN)/callscope analyze $(CORPUS) --out out/eval/default
	$(BIN)/callscope eval --corpus $(CORPUS) --pred out/eval/default
	$(BIN)/callscope analyze $(CORPUS) --untrained --out out/eval/untrained
	$(BIN)/callscope eval --corpus $(CORPUS) --pred out/eval/untrained

clean:
	rm -rf $(VENV) out
