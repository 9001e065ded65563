# salvo — one plain, non-recursive Makefile.
#
#   make            release build: build/release/salvo, build/release/linkem
#   make test       installs what is missing, builds, runs every test layer
#   make demo       installs what is missing, builds, runs a loopback transfer
#   make sim SEED=N [SCENARIO=NAME]  replays one simulated transfer
#   make sim-list   names every simulator scenario
#   make fuzz       long fuzz runs (libFuzzer, clang): 10 M executions a target
#   make bench      benchmarks against peers (perf/), results into docs/
#   make check-core proves the protocol cores call no OS function
#   make deps       installs every package the targets above need
#   make check-deps lists each external command with its package; fails
#                   on one that make deps does not install
#
# Sources are found by folder: a new .c file in a layer's folder is built
# without touching this file.  Tests: tests/unit/test_*.c each become a
# cmocka binary; tests/sim/*.c one simulation binary; tests/integ/*.sh run
# against the release binary; tests/fuzz/fuzz_*.c libFuzzer targets.

CC      ?= gcc
CLANG   ?= clang
BUILD   ?= build
V       ?= 0
PKGS    := liblz4 yaml-0.1 libsodium
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wpointer-arith \
           -Wundef -Wno-missing-field-initializers -Werror
CSTD    := -std=gnu11 -D_GNU_SOURCE
INCS    := -I.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
SAN     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDLIBS  := -lpthread -lm

ifeq ($(V),0)
Q  := @
say = @printf '  %-6s %s\n' $(1) $(2)
else
Q  :=
say =
endif

CORE_SRC   := $(wildcard common/core/*.c sender/core/*.c receiver/core/*.c)
# common/crypto: libsodium primitives.  Its files are pure (no system call,
# randomness passed in) and checked like the cores, except the two that
# read and write key files.
CRYPTO_IO_SRC   := common/crypto/keys.c common/crypto/keyfile.c
CRYPTO_CORE_SRC := $(filter-out $(CRYPTO_IO_SRC),$(wildcard common/crypto/*.c))
LIB_SRC    := $(CORE_SRC) $(wildcard common/crypto/*.c common/io/*.c \
              sender/engine/*.c receiver/engine/*.c conf/*.c hotfolder/*.c)
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
SIM_SRC    := $(wildcard tests/sim/*.c)
HELPER_SRC := $(wildcard tests/helpers/*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
LINKEM_SRC := $(wildcard perf/linkem/*.c)

REL := $(BUILD)/release
ASN := $(BUILD)/asan
FZ  := $(BUILD)/fuzz

obj = $(patsubst %.c,$(1)/%.o,$(2))

.PHONY: all deps bench-deps check-deps test test-unit test-sim test-integ test-fuzz test-replay test-long demo \
        bench fuzz fuzz-merge sim sim-list clean check-core format format-check asan
all: $(REL)/salvo $(if $(LINKEM_SRC),$(REL)/linkem)

# ---------------------------------------------------------------- install
# make deps installs every command make test, make demo and make bench call
# (and the libraries the build links); make check-deps proves it: it scans
# tests/, perf/ and this file for external commands, maps each to its
# Debian package (tests/helpers/deps.txt) and fails on a command no list
# below covers or that is not installed.
DEB_PKGS := gcc binutils make pkg-config python3 liblz4-dev libyaml-dev \
            libsodium-dev libcmocka-dev clang libclang-rt-14-dev clang-format \
            git iproute2 iputils-ping procps mawk iperf3 time
BENCH_PKGS := uftp rsync gnuplot-nox linux-perf openssh-server openssh-client
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing \
	    >/dev/null || { echo "apt-get install failed:$$missing" >&2; exit 1; }; \
	fi
endef
deps:
	$(call install_missing,$(DEB_PKGS) $(BENCH_PKGS))
bench-deps: deps

check-deps:
	@command -v python3 >/dev/null || { echo "check-deps: python3 missing (make deps)" >&2; exit 1; }
	@DEB_PKGS="$(DEB_PKGS)" BENCH_PKGS="$(BENCH_PKGS)" tests/helpers/check-deps

# ---------------------------------------------------------------- objects
$(REL)/%.o: %.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(CFLAGS) $(WARN) $(INCS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(ASN)/%.o: %.c
	$(call say,CC-SAN,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(SAN) $(WARN) $(INCS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(REL)/libsalvo.a: $(call obj,$(REL),$(LIB_SRC))
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(ASN)/libsalvo.a: $(call obj,$(ASN),$(LIB_SRC))
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(REL)/salvo: $(call obj,$(REL),$(CLI_SRC)) $(REL)/libsalvo.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)
$(ASN)/salvo: $(call obj,$(ASN),$(CLI_SRC)) $(ASN)/libsalvo.a
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(REL)/linkem: $(call obj,$(REL),$(LINKEM_SRC)) $(REL)/libsalvo.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# ---------------------------------------------------------------- tests
UNIT_BIN := $(patsubst tests/unit/%.c,$(ASN)/tests/unit/%,$(UNIT_SRC))
$(ASN)/tests/unit/%: $(ASN)/tests/unit/%.o $(call obj,$(ASN),$(HELPER_SRC)) $(ASN)/libsalvo.a
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) -o $@ $^ -lcmocka $(PKG_LIBS) $(LDLIBS)
# the CLI's signal flag (the CLI is not in libsalvo, so it links first)
$(ASN)/tests/unit/test_progress: $(ASN)/tests/unit/test_progress.o $(ASN)/cli/progress.o $(call obj,$(ASN),$(HELPER_SRC)) $(ASN)/libsalvo.a
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) -o $@ $^ -lcmocka $(PKG_LIBS) $(LDLIBS)

$(ASN)/sim: $(call obj,$(ASN),$(SIM_SRC) $(HELPER_SRC)) $(ASN)/libsalvo.a
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) -o $@ $^ -lcmocka $(PKG_LIBS) $(LDLIBS)
$(REL)/sim: $(call obj,$(REL),$(SIM_SRC) $(HELPER_SRC)) $(REL)/libsalvo.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(PKG_LIBS) $(LDLIBS)

# Fuzz targets: libFuzzer with clang.
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(FZ)/%,$(FUZZ_SRC))
FUZZ_LIB_SRC := $(LIB_SRC)
$(FZ)/%.o: %.c
	$(call say,CC-FZ,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(CSTD) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -DSALVO_NULL_CIPHER \
	  $(WARN) -Wno-unused-command-line-argument $(INCS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@
$(FZ)/fuzz_%: $(FZ)/tests/fuzz/fuzz_%.o $(call obj,$(FZ),$(FUZZ_LIB_SRC))
	$(call say,LD,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# The same targets under gcc with ASan/UBSan, each linked with the replay
# main (tests/fuzz/replay.c) that runs it once over every corpus file: a
# regression test of the corpus and of kept crash inputs.  Library files
# that behave differently in fuzzing builds (FUZZING_BUILD_MODE_...) are
# compiled again in that mode and linked ahead of the library.  Both fuzz
# builds define SALVO_NULL_CIPHER: packet protection becomes a checksum
# (common/crypto/aead.c), so fuzzers reach the protocol below the crypto.
RPL := $(BUILD)/replay
REPLAY_BIN := $(patsubst tests/fuzz/%.c,$(RPL)/%,$(FUZZ_SRC))
FUZZ_MODE_SRC := $(shell grep -l FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
                   $(LIB_SRC) 2>/dev/null)
$(RPL)/%.o: %.c
	$(call say,CC-RPL,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(SAN) -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	  -DSALVO_NULL_CIPHER $(WARN) $(INCS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@
$(RPL)/fuzz_%: $(RPL)/tests/fuzz/fuzz_%.o $(RPL)/tests/fuzz/replay.o \
               $(call obj,$(RPL),$(FUZZ_MODE_SRC)) $(ASN)/libsalvo.a
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

FUZZ_SECONDS ?= 20
# make fuzz: each target in turn until LONG_FUZZ_RUNS executions (issue
# 12's goal) or LONG_FUZZ_SECONDS (0: no limit); make fuzz-merge then
# keeps the grown inputs that add coverage (docs/TESTING.md).
LONG_FUZZ_RUNS ?= 10000000
LONG_FUZZ_SECONDS ?= 0

test: deps
	$(Q)$(MAKE) --no-print-directory check-deps >/dev/null
	$(Q)$(MAKE) --no-print-directory all asan-build
	$(Q)$(MAKE) --no-print-directory check-core
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(MAKE) --no-print-directory test-unit
	$(Q)$(MAKE) --no-print-directory test-sim
	$(Q)$(MAKE) --no-print-directory test-replay
	$(Q)$(MAKE) --no-print-directory test-fuzz
	$(Q)$(MAKE) --no-print-directory test-integ
	@echo "make test: all layers passed"

asan-build: $(UNIT_BIN) $(ASN)/sim $(REL)/sim $(ASN)/salvo $(REPLAY_BIN)

test-unit: $(UNIT_BIN)
	@tests/run-unit $(UNIT_BIN)

SIM_ARGS ?=
# The full grid (1,200 seeds over twelve named families, then the named
# regressions) runs optimised (about 40 s); the first 200 grid seeds and
# the regressions run again under ASan/UBSan.
SIM_ASAN_COUNT ?= 200
test-sim: $(REL)/sim $(ASN)/sim
	$(Q)$(REL)/sim --grid $(SIM_ARGS)
	$(Q)$(ASN)/sim --grid --count $(SIM_ASAN_COUNT)

# make sim SEED=N [SCENARIO=NAME]: one run with a trace (without SCENARIO,
# the grid's family for N); make sim-list names every scenario.
sim: $(ASN)/sim
	@[ -n "$(SEED)" ] || { echo "usage: make sim SEED=N [SCENARIO=NAME] (make sim-list)" >&2; exit 2; }
	$(Q)$(ASN)/sim $(if $(SCENARIO),--scenario $(SCENARIO)) --seed $(SEED) --verbose

sim-list: $(ASN)/sim
	$(Q)$(ASN)/sim --list

test-replay: $(REPLAY_BIN)
	@tests/run-fuzz --replay $(REPLAY_BIN)

test-fuzz: $(FUZZ_BIN)
	@tests/run-fuzz $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz: deps $(FUZZ_BIN)
	@tests/run-fuzz --long $(LONG_FUZZ_RUNS) $(LONG_FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-merge: $(FUZZ_BIN)
	@tests/run-fuzz --merge $(FUZZ_BIN)

test-integ: all $(ASN)/salvo
	@SALVO=$(abspath $(REL)/salvo) SALVO_ASAN=$(abspath $(ASN)/salvo) \
	  LINKEM=$(abspath $(REL)/linkem) tests/run-integ

test-long: test
	@SALVO_LONG=1 SALVO=$(abspath $(REL)/salvo) \
	  LINKEM=$(abspath $(REL)/linkem) tests/run-integ

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	@SALVO=$(abspath $(REL)/salvo) perf/demo

bench: bench-deps
	$(Q)$(MAKE) --no-print-directory all
	@SALVO=$(abspath $(REL)/salvo) LINKEM=$(abspath $(REL)/linkem) perf/bench

# The cores are sans-I/O: their objects may reference only mem* functions,
# and the sanitizer/compiler runtime.  Anything else (a socket, a clock, a
# printf) is a layering bug.  Their sources may include only core headers
# and a few system headers (tests/helpers/check-core-includes names each
# file and header that breaks this; its self-test proves it would).  The
# pure crypto files (CRYPTO_CORE_SRC) may call libsodium's computing
# functions too, never its random generator (randombytes_*, *_keygen,
# *_keypair without a seed) nor sodium_init.
SODIUM_PURE := crypto_aead_[a-z0-9_]+_(en|de)crypt(_detached)?(_afternm)?|\
  crypto_aead_aes256gcm_(is_available|beforenm)|\
  crypto_generichash(_init|_update|_final)?|crypto_scalarmult(_base)?|\
  crypto_kdf_derive_from_key|crypto_verify_(16|32|64)|\
  sodium_(memzero|memcmp|is_zero)
# common/core/lz4piece.c: liblz4's block functions, state on the stack or
# the caller's
LZ4_PURE := LZ4_compress_destSize|LZ4_sizeofStateHC|LZ4_initStreamHC|\
  LZ4_resetStreamHC_fast|LZ4_compress_HC_continue_destSize|LZ4_decompress_safe
check-core: $(call obj,$(REL),$(CORE_SRC) $(CRYPTO_CORE_SRC))
	@tests/helpers/check-core-includes --self-test
	@tests/helpers/check-core-includes .
	@defined=$$(nm --defined-only $^ | awk 'NF==3 {print $$3}' | sort -u); \
	bad=$$(nm -u $^ | awk 'NF==2 {print $$2}' | sort -u | \
	  grep -v -x -F "$$defined" | \
	  grep -v -E '^(memcpy|memmove|memset|memcmp|memchr|__udivti3|__divti3|__umodti3|__stack_chk_fail|__cpu_model|__cpu_indicator_init|_GLOBAL_OFFSET_TABLE_)$$' | \
	  grep -v -E '^($(subst $(eval) ,,$(SODIUM_PURE)))$$' | \
	  grep -v -E '^($(subst $(eval) ,,$(LZ4_PURE)))$$'); \
	if [ -n "$$bad" ]; then echo "check-core: cores call: $$bad" >&2; exit 1; fi; \
	echo "check-core: cores call only mem* and libsodium's and liblz4's pure functions ($(words $^) objects)"

FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRC)
	@echo "format-check: $(words $(FORMAT_SRC)) files as .clang-format lays them out"

clean:
	rm -rf $(BUILD)

# keep objects that only pattern rules mention (fuzz objects)
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
