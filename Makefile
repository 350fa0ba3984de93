# SecureStreams — build, test, demo and benchmarks.
#
#   make demo    two hosts on loopback: files with a progress bar, echoed records, statistics (scripts/demo.sh)
#   make test    the whole test suite (installs libsodium/libuv when missing)
#   make test-asan  the test suite built and run with AddressSanitizer (scratch path .build-asan)
#   make test-tsan  the same with ThreadSanitizer (.build-tsan); SANITIZER_FILTER=REGEX runs only matching tests
#   make bench   benchmarks (crypto, handshakes, the core), as ratios against ceilings measured in the same run
#   make sim     every scenario in Simulations/Scenarios over seeds 1..20 (SIM_SEEDS), the interop
#                classes over 21..100 too (SIM_INTEROP_SEEDS), in the simulator
#   make sim-bench  the simulator's speed benchmark (100 MB, 100 Mbit/s, 50 ms, 1 % loss), release build
#   make fuzz    builds the libFuzzer targets in Fuzz/ and runs each FUZZ_SECONDS (60) seconds
#   make fuzz-smoke  the same, 5 seconds each (CI)
#   make flood   a 600 MB transfer on loopback with and without 100,000 junk/handshake datagrams (FLOOD_MB, FLOOD_COUNT)
#
# Every target first makes sure the system libraries are there: when
# `pkg-config --exists libsodium libuv` fails it installs libsodium-dev and
# libuv1-dev with apt-get (as root, else through sudo).

SWIFT       ?= swift
SWIFT_FLAGS ?=
APT_PACKAGES = libsodium-dev libuv1-dev pkg-config
VECTORS     ?= $(wildcard ../shared/vectors/noise/*.json)

.PHONY: all build demo test test-asan test-tsan bench sim sim-bench fuzz fuzz-smoke flood deps clean

all: build

deps:
	@if pkg-config --exists libsodium libuv 2>/dev/null; then \
		exit 0; \
	fi; \
	echo "SecureStreams needs libsodium and libuv; installing $(APT_PACKAGES) with apt-get"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; \
	else echo "error: libsodium-dev and libuv1-dev are missing, and this user is not root and has no sudo."; \
	     echo "       Install them with your package manager (Debian: apt-get install $(APT_PACKAGES))."; exit 1; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "error: no apt-get here; install libsodium (>= 1.0.18) and libuv (>= 1.44) development files with your package manager."; exit 1; \
	fi; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PACKAGES) || { \
		echo "error: apt-get could not install $(APT_PACKAGES)."; exit 1; }; \
	pkg-config --exists libsodium libuv || { echo "error: libsodium/libuv still not found by pkg-config after installing."; exit 1; }

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

demo: deps
	SWIFT="$(SWIFT)" SWIFT_FLAGS="$(SWIFT_FLAGS)" ./scripts/demo.sh

test: deps
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_FLAGS)

# The sanitizer builds keep their own scratch paths, so they never invalidate
# the normal .build. SANITIZER_FILTER (a `swift test --filter` regex) narrows
# the run when the whole suite is too slow under a sanitizer.
SANITIZER_FILTER ?=
SANITIZER_TEST_FLAGS = $(if $(SANITIZER_FILTER),--filter '$(SANITIZER_FILTER)')

# Tests/lsan-suppressions.txt lists the toolchain's own leaks (XCTest's runner,
# Foundation.Process), which would otherwise fail every run at exit.
test-asan: deps
	$(SWIFT) build --build-tests --scratch-path .build-asan -Xswiftc -sanitize=address $(SWIFT_FLAGS)
	LSAN_OPTIONS="suppressions=$(CURDIR)/Tests/lsan-suppressions.txt$(if $(LSAN_OPTIONS),:$(LSAN_OPTIONS))" \
	$(SWIFT) test --skip-build --scratch-path .build-asan -Xswiftc -sanitize=address $(SWIFT_FLAGS) $(SANITIZER_TEST_FLAGS)

test-tsan: deps
	$(SWIFT) build --build-tests --scratch-path .build-tsan -Xswiftc -sanitize=thread $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build --scratch-path .build-tsan -Xswiftc -sanitize=thread $(SWIFT_FLAGS) $(SANITIZER_TEST_FLAGS)

BENCH_FLAGS ?=

bench: deps
	cd Benchmarks && $(SWIFT) run -c release $(SWIFT_FLAGS) SecureStreamsBenchmarks $(BENCH_FLAGS)

SIM_SEEDS ?= 1..20
# The interop runner's classes (handshakes under loss and corruption, stream limits,
# sequential requests) also run over the seeds after those, to 100 in all.
SIM_INTEROP = $(addprefix Simulations/Scenarios/,many-clients-loss-30.json handshake-corruption-30.json \
              streams-2000-limit-100.json sequential-requests.json)
SIM_INTEROP_SEEDS ?= 21..100
SIM_FLAGS ?=

sim: deps
	$(SWIFT) run $(SWIFT_FLAGS) sss sim run Simulations/Scenarios/*.json --seeds $(SIM_SEEDS) $(SIM_FLAGS)
	$(SWIFT) run $(SWIFT_FLAGS) sss sim run $(SIM_INTEROP) --seeds $(SIM_INTEROP_SEEDS) $(SIM_FLAGS)

sim-bench: deps
	$(SWIFT) run -c release $(SWIFT_FLAGS) sss sim run Simulations/Benchmarks/*.json $(SIM_FLAGS)

FUZZ_SECONDS ?= 60

# Fails when any target crashes; see Fuzz/README.md. Needs a swift.org
# toolchain (libFuzzer and AddressSanitizer runtimes).
fuzz: deps
	cd Fuzz && SWIFT="$(SWIFT)" FUZZ_SECONDS=$(FUZZ_SECONDS) ./run-fuzzers.sh

fuzz-smoke: deps
	cd Fuzz && SWIFT="$(SWIFT)" FUZZ_SECONDS=5 ./run-fuzzers.sh

flood: deps
	SWIFT="$(SWIFT)" scripts/flood.sh

clean:
	rm -rf .build .build-asan .build-tsan Benchmarks/.build Fuzz/.build
