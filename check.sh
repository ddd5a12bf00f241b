#!/usr/bin/env bash
# check.sh — every test: unit tests under ASan+UBSan, gcc and clang builds,
# the public header alone in C and C++, interop with Debian's Python,
# the wild corpus, fuzz corpus replay and a timed libFuzzer run.
set -u
cd "$(dirname "$0")"
. tools/deps.sh
brine_need $BRINE_BUILD_PKGS $BRINE_PY_PKGS || exit 2

JOBS=$(nproc 2>/dev/null || echo 2)
PY=/usr/bin/python3
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
passed=0; failed=0; failures=()

step() { # step NAME COMMAND... : runs, records the outcome
  local name=$1; shift
  local t0=$SECONDS
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); echo "-- $name: ok ($((SECONDS - t0)) s)"
  else failed=$((failed + 1)); failures+=("$name"); echo "-- $name: FAILED ($((SECONDS - t0)) s)"; fi
}

build_release() { make -s -j"$JOBS" >/dev/null; }
build_asan() { make -s -j"$JOBS" BUILD=build-asan OPT=-O1 SAN="$SAN" test-bins >/dev/null; }
build_clang() { make -s -j"$JOBS" BUILD=build-clang CC=clang all >/dev/null; }
header_alone() {
  local t; t=$(mktemp -d)
  printf '#include "brine.h"\nint main(void) { return brine_version_number() > 0 ? 0 : 1; }\n' > "$t/h.c"
  cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -c "$t/h.c" -o "$t/c.o" &&
  cp "$t/h.c" "$t/h.cpp" && c++ -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude -c "$t/h.cpp" -o "$t/cpp.o" &&
  clang -std=c11 -Weverything -Wno-declaration-after-statement -Wno-padded -Werror -Iinclude -c "$t/h.c" -o "$t/clang.o"
  local rc=$?; rm -rf "$t"; return $rc
}
pkgconfig_install() {
  local t; t=$(mktemp -d)
  make -s PREFIX="$t/usr" install >/dev/null &&
  printf '#include <brine.h>\n#include <stdio.h>\nint main(void){puts(brine_version());return 0;}\n' > "$t/u.c" &&
  export PKG_CONFIG_PATH="$t/usr/lib/pkgconfig" &&
  cc "$t/u.c" $(pkg-config --cflags --libs brine) -Wl,-rpath,"$t/usr/lib" -o "$t/shared" && "$t/shared" >/dev/null &&
  cc "$t/u.c" $(pkg-config --cflags brine) "$t/usr/lib/libbrine.a" $(pkg-config --libs --static brine | sed 's/-lbrine//') -o "$t/static" &&
  "$t/static" >/dev/null
  local rc=$?; rm -rf "$t"; return $rc
}
unit() { tools/run-unit.sh build-asan; }
interop() { $PY "tests/interop/$1" --brine build-asan/brine; }
fuzz_replay() { make -s -f fuzz/Makefile replay; }
# The reader (with the joblib container) and the scanner (with the estimator
# loaders) get the full minute each; the smaller parsers a quarter of it.
fuzz_run() {
  local log=build-fuzz/run.log
  mkdir -p build-fuzz
  { make -s -f fuzz/Makefile run FUZZ_TARGETS="load scan" FUZZ_SECONDS="$FUZZ_SECONDS" &&
    make -s -f fuzz/Makefile run FUZZ_TARGETS="npy literal decompress" FUZZ_SECONDS=$((FUZZ_SECONDS / 4)); } >"$log" 2>&1
  local rc=$?
  grep -E "^(Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" "$log" || true
  [ $rc -eq 0 ] || tail -n 40 "$log"
  return $rc
}

step "release build (gcc)" build_release
step "sanitizer build" build_asan
step "clang build" build_clang
step "public header alone (C, C++, clang -Weverything)" header_alone
step "install + pkg-config" pkgconfig_install
step "unit tests (ASan+UBSan)" unit
for t in tests/interop/test_*.py; do
  step "interop $(basename "$t")" interop "$(basename "$t")"
done
for t in tests/security/test_*.py; do step "security $(basename "$t")" $PY "$t" --brine build-asan/brine; done
step "bench driver builds (make bench runs the cases)" make -s -C bench driver
if [ -f fuzz/Makefile ]; then
  step "fuzz corpus replay" fuzz_replay
  step "libFuzzer run (reader and scanner ${FUZZ_SECONDS} s each)" fuzz_run
fi

echo
if [ "$failed" -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
