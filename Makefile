# strait - the two README commands (make demo, make test) and their parts.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz

.PHONY: all deps build asan test test-long unit demo demo-secure bench fuzz clean

all: build

deps:
	@deploy/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSTRAIT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

unit: build
	@cd $(BUILD) && ctest --output-on-failure

test: build asan
	@tests/run-tests.sh

# the long region nemesis (docs/nemesis.md): NEMESIS_TOPOLOGIES, NEMESIS_SEEDS, NEMESIS_OPS
test-long: build
	@tests/nemesis/run-long.sh

demo: build
	@deploy/demo.sh

# the same scenario with TLS + SASL + ACLs, set up from zero (deploy/demo_secure.py)
demo-secure: build
	@deploy/demo.sh --secure

bench: build
	@tests/bench/run-bench.sh

fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSTRAIT_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@tests/fuzz/run-fuzz.sh $(FUZZ_BUILD) $${FUZZ_SECONDS:-60}

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
