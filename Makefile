# Targets quoted by the README. `make run` and `make test` set everything up on a fresh machine.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
BASE    := $(VENV)/.installed-base
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run ui test lint eval bench bench-realtimeqa bench-chunking bench-scale train clean

# The base package: everything `make run` (the extractive UI on the seeds) needs.
$(BASE): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=25"
	# torch first: 2.13.0 is the CPU build on local disk; anything else pulls a CUDA build.
	$(BIN)/pip install -q torch==2.13.0 -c constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $(BASE)

# Everything else: test and lint tools, the LLM answerers (their tests), the training extra, Ray
# (the scale-out tests start their own local cluster).
$(STAMP): $(BASE)
	# llama-cpp-python compiles from source (~5-9 min on 2 cores) once; pip's wheel cache keeps it.
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,llm,train,scale]"
	touch $(STAMP)

setup: $(STAMP)

run: ui

ui: $(BASE)   ## the main job: the chat UI on the seeds (indexes seeds/ on first run)
	$(BIN)/assistant ui

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check index assistant eval tests bench train
	$(BIN)/mypy

eval: $(STAMP)
	$(BIN)/assistant eval --out eval/out --gate eval/thresholds.json

bench: $(STAMP)   ## performance harness: bench/out/perf.json + perf.md
	$(BIN)/python -m bench.perf --data ../shared/benchmarks/realtimeqa/dev --out bench/out

bench-realtimeqa: $(STAMP)
	$(BIN)/assistant bench realtimeqa --data ../shared/benchmarks/realtimeqa/dev --out bench/out

bench-chunking: $(STAMP)   ## chunk size / max_seq / backend: throughput vs quality (~30 min fresh, ~4 min reused)
	$(BIN)/python -m bench.chunking_table --data ../shared/benchmarks/realtimeqa/dev --out bench/out --work ../bench-store/chunking

bench-scale: $(STAMP)   ## the archive: every training week in one store (built once in ../bench-store/scale), Ray vs in-process
	$(BIN)/python -m bench.scale --data ../shared/benchmarks/realtimeqa/train --out bench/out --work ../bench-store/scale

train: $(STAMP)   ## rebuild the learned judges from the RealTime QA training weeks (~2.5 h on 2 cores; a rerun resumes)
	$(BIN)/python -m train.fit verifier --data ../shared/benchmarks/realtimeqa/train
	$(BIN)/python -m train.calibrate --rgb ../shared/benchmarks/rgb/en_fact.json
	# the reranker needs ~50 minutes more than one run's 55-minute limit: the second run resumes
	$(BIN)/python -m train.fit reranker --data ../shared/benchmarks/realtimeqa/train
	$(BIN)/python -m train.fit reranker --data ../shared/benchmarks/realtimeqa/train

clean:
	rm -rf store bench/out eval/out test-artifacts
