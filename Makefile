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

# llama.cpp is compiled from source, for any x86-64 CPU with AVX2 (x86-64-v3) rather than for
# the CPU that builds it. A native build turns on llama.cpp's AMX kernels on CPUs that report
# AMX, and they segfault (llama.cpp #20824); an AVX-512 build stops with SIGILL on CPUs without
# AVX-512. No multimodal (llava/mtmd) library: nothing here uses it, and it adds build time.
# The wheel is kept in a folder named by version and flags, so a wheel cached by pip from a
# native build (or any other flags) is never picked up.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS  ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
                     -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
                     -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF
LLAMA_WHEELS      := $(HOME)/.cache/news-assistant/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell \
                     echo '$(LLAMA_CMAKE_ARGS)' | sha1sum | cut -c1-10)

.PHONY: setup run ui test lint eval bench bench-llm bench-realtimeqa bench-chunking bench-scale train clean

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
$(STAMP): $(BASE) $(LLAMA_WHEELS)/.built
	$(BIN)/pip install -q -c constraints.txt --find-links $(LLAMA_WHEELS) \
	    --only-binary llama-cpp-python -e ".[dev,llm,train,scale]"
	touch $(STAMP)

# llama-cpp-python compiles from source once per machine (~6-9 min on 2 cores), with the flags above.
$(LLAMA_WHEELS)/.built: | $(BASE)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel -q --no-deps --no-cache-dir \
	    --no-binary llama-cpp-python -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

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

bench-llm: $(STAMP)   ## the local LLM answerer: first question and warm latency, answers kept (bench/out/llm.*)
	$(BIN)/python -m bench.llm --out bench/out

bench-realtimeqa: $(STAMP)
	$(BIN)/assistant bench realtimeqa --data ../shared/benchmarks/realtimeqa/dev --out bench/out

bench-chunking: $(STAMP)   ## chunk size / max_seq / backend: throughput vs quality (~30 min fresh, ~4 min reused)
	$(BIN)/python -m bench.chunking_table --data ../shared/benchmarks/realtimeqa/dev --out bench/out --work ../bench-store/chunking

bench-scale: $(STAMP)   ## the archive: every training week in one store (built once in ../bench-store/scale), Ray vs in-process
	$(BIN)/python -m bench.scale --data ../shared/benchmarks/realtimeqa/train --out bench/out --work ../bench-store/scale

train: $(STAMP)   ## rebuild the learned parts from the RealTime QA training weeks (~3.5 h on 2 cores; a rerun resumes)
	$(BIN)/python -m train.punkt --data ../shared/benchmarks/realtimeqa/train
	# the judge needs ~90 minutes, more than one run's 55-minute limit: the second run resumes
	$(BIN)/python -m train.fit judge --data ../shared/benchmarks/realtimeqa/train
	$(BIN)/python -m train.fit judge --data ../shared/benchmarks/realtimeqa/train
	$(BIN)/python -m train.calibrate --rgb ../shared/benchmarks/rgb/en_fact.json
	# the reranker needs ~50 minutes more than one run's 55-minute limit: the second run resumes
	$(BIN)/python -m train.fit reranker --data ../shared/benchmarks/realtimeqa/train
	$(BIN)/python -m train.fit reranker --data ../shared/benchmarks/realtimeqa/train

clean:
	rm -rf store bench/out eval/out test-artifacts
