# muster: build, test, demo, bench. `make deps` installs what is missing; the
# other targets run it first (a quick dpkg-query when nothing is missing).

CC      ?= cc
PKGS    := libmicrohttpd sqlite3 libpq libcurl libsodium nettle jansson libcrypto gmime-3.0
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -Werror=unused-result -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

SRC      := $(sort $(wildcard src/*/*.c))
# muster's own words in other languages: po/*.po compiled into a C table
# (scripts/po2c.sh, docs/TRANSLATING.md), part of the library like src/.
PO_FILES := $(sort $(wildcard po/*.po))
GEN_SRC  := build/gen/i18n_catalogs.c
LIB_SRC  := $(filter-out src/cli/%,$(SRC)) $(GEN_SRC)
CLI_SRC  := $(filter src/cli/%,$(SRC)) src/main.c
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))

# Normal build
OBJ_DIR  := build/obj
LIB_OBJ  := $(LIB_SRC:%.c=$(OBJ_DIR)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(OBJ_DIR)/%.o)
# Sanitizer build (address + undefined), same sources
ASAN_DIR   := build/asan
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_LIB   := $(LIB_SRC:%.c=$(ASAN_DIR)/%.o)
ASAN_CLI   := $(CLI_SRC:%.c=$(ASAN_DIR)/%.o)

.PHONY: all deps deps-test deps-bench test unit e2e soak browser fuzz asan demo bench clean format

all: deps build/muster

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test
deps-bench:
	@scripts/deps.sh bench

$(GEN_SRC): scripts/po2c.sh $(PO_FILES)
	@echo "  GEN     $@"
	@scripts/po2c.sh $@ $(PO_FILES)

build/muster: $(LIB_OBJ) $(CLI_OBJ)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(OBJ_DIR)/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(ASAN_DIR)/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	@$(CC) $(CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

build/asan/muster: $(ASAN_LIB) $(ASAN_CLI)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

# Unit tests share only tests/unit/*.h (header-only helpers): a prerequisite,
# so a change rebuilds them, and not an input of the compiler.
UNIT_HDR := $(wildcard tests/unit/*.h)

build/unit/%: tests/unit/%.c $(LIB_OBJ) $(UNIT_HDR)
	@mkdir -p build/unit
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS) -lcmocka

build/asan/unit/%: tests/unit/%.c $(ASAN_LIB) $(UNIT_HDR)
	@mkdir -p build/asan/unit
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS) -lcmocka

UNIT_BIN      := $(UNIT_SRC:tests/unit/%.c=build/unit/%)
ASAN_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/unit/%)

# store-inspect: the end-to-end tests' one look into the store (tests/README.md),
# linked against the same library objects as the unit tests, next to the muster
# binary it goes with.
build/store-inspect: tests/tools/store_inspect.c $(LIB_OBJ)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/asan/store-inspect: tests/tools/store_inspect.c $(ASAN_LIB)
	@mkdir -p build/asan
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

asan: deps build/asan/muster $(ASAN_UNIT_BIN) build/asan/store-inspect

# The whole suite: unit tests (normal and sanitized), end-to-end tests against the
# sanitized binary and real SMTP servers, fuzzers for a bounded time, browser tests.
test: deps-test all asan build/store-inspect
	tests/run.sh

# The end-to-end family alone, against build/asan/muster and build/asan/store-inspect.
e2e: deps-test asan build/store-inspect
	MUSTER_TEST_ONLY=e2e tests/run.sh

# Slow, long runs (tests/soak/, not part of `make test`): every test_*.py
# there, against the optimized binary unless MUSTER_BIN says otherwise.
# MUSTER_SOAK_SECONDS (default 3600) and MUSTER_SOAK_KILLS (default 35).
soak: deps-test all build/store-inspect
	MUSTER_BIN=$${MUSTER_BIN:-build/muster} /usr/bin/python3 -m pytest -s -v -p no:cacheprovider tests/soak

unit: deps-test $(UNIT_BIN)
	@for t in $(UNIT_BIN); do $$t || exit 1; done

# libFuzzer targets (clang), each linked against the library sources.
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Isrc \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
build/fuzz/%: fuzz/%.c $(LIB_SRC)
	@mkdir -p build/fuzz
	clang $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS)

fuzz: deps-test $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)

demo: all
	build/muster demo

bench: deps-bench all
	bench/run.sh

format:
	clang-format -i src/*.c src/*/*.c src/*/*.h tests/unit/*.c fuzz/*.c

clean:
	rm -rf build
