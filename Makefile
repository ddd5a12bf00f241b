# brine — build rules.  `make` builds the optimised library and command in
# build/; sanitizer and fuzzing builds live in build-asan/ and build-fuzz/.
#   make            build/brine, build/libbrine.a, build/libbrine.so, build/brine.pc
#   make check      unit tests (ASan+UBSan), interop tests, wild files, fuzz replay
#   make demo       ./demo.sh
#   make fuzz       libFuzzer targets in build-fuzz/ (clang), each run FUZZ_SECONDS
#   make install    PREFIX=/usr/local

CC ?= cc
PREFIX ?= /usr/local
BUILD ?= build
OPT ?= -O2
SAN ?=
CSTD := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
INC := -Iinclude -Isrc
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -g -fPIC -fvisibility=hidden $(SAN) $(INC) $(CFLAGS)
include libs.mk
LIBS := $(BRINE_LIBS)
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

LIB_SRC := $(sort $(wildcard src/io/*.c src/pickle/*.c src/numpy/*.c src/joblib/*.c src/estimators/*.c src/train/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(sort $(wildcard tests/*/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all check demo bench fuzz install clean unit test-bins
all: $(BUILD)/brine $(BUILD)/libbrine.a $(BUILD)/libbrine.so $(BUILD)/brine.pc

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libbrine.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libbrine.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libbrine.so.0 $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/brine: $(CLI_OBJ) $(BUILD)/libbrine.a
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(BUILD)/libbrine.a $(BRINE_CLI_LIBS)

$(BUILD)/brine.pc: brine.pc.in libs.mk
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBS_PRIVATE@|$(BRINE_LIBS)|g' -e 's|@VERSION@|$(shell sed -n 's/^#define BRINE_VERSION_STRING "\(.*\)"/\1/p' include/brine.h)|g' $< > $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libbrine.a tests/harness.h tests/asm.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(BUILD)/libbrine.a $(LDFLAGS_ALL) $(LIBS)

test-bins: $(TEST_BIN) $(BUILD)/brine

# Unit tests of one build directory (used by check.sh for the sanitizer build).
unit: test-bins
	@tools/run-unit.sh $(BUILD)

check:
	./check.sh

demo:
	./demo.sh

bench:
	$(MAKE) -C bench

# Builds the libFuzzer targets and runs each FUZZ_SECONDS (default 60).
fuzz:
	$(MAKE) -f fuzz/Makefile all run

install: all
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/brine.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/libbrine.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libbrine.so $(DESTDIR)$(PREFIX)/lib/libbrine.so.0
	ln -sf libbrine.so.0 $(DESTDIR)$(PREFIX)/lib/libbrine.so
	sed -e 's|^prefix=.*|prefix=$(PREFIX)|' $(BUILD)/brine.pc > $(DESTDIR)$(PREFIX)/lib/pkgconfig/brine.pc
	install -m 755 $(BUILD)/brine $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/brine/data
	install -m 644 data/*.csv $(DESTDIR)$(PREFIX)/share/brine/data/

clean:
	rm -rf build build-asan build-clang build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
