#!/usr/bin/env bash
# check.sh — every test: unit tests under ASan+UBSan, gcc and clang builds,
# the public header alone in C and C++, interop with Debian's Python,
# the wild corpus, fuzz corpus replay and a timed libFuzzer run.  After the
# builds, the tests run nproc at a time; each prints its output when it ends.
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
fuzz_build() { make -s -j"$JOBS" -f fuzz/Makefile all >/dev/null; }
fuzz_replay() { make -s -f fuzz/Makefile replay; }
# fuzz_run SECONDS TARGET...: libFuzzer on each target for SECONDS; its log is
# summarised, and shown whole when it fails.
fuzz_run() {
  local seconds=$1; shift
  local log; log=build-fuzz/run-$(echo "$@" | tr ' ' '-').log
  make -s -f fuzz/Makefile run FUZZ_TARGETS="$*" FUZZ_SECONDS="$seconds" >"$log" 2>&1
  local rc=$?
  grep -E "^(Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" "$log" || true
  [ $rc -eq 0 ] || tail -n 40 "$log"
  return $rc
}

# The tests after the builds are independent of each other (each works in its
# own temporary directory), so they run $JOBS at a time.  Each one's output is
# kept in a file and printed whole, with its outcome, when it finishes.
POOL=$(mktemp -d); trap 'rm -rf "$POOL"' EXIT
pool_names=(); pool_shown=()
pool_show_finished() {
  local i rc secs
  for i in "${!pool_names[@]}"; do
    [ -n "${pool_shown[$i]:-}" ] || [ ! -f "$POOL/$i.rc" ] && continue
    pool_shown[$i]=1
    read -r rc secs < "$POOL/$i.rc"
    echo "== ${pool_names[$i]}"
    cat "$POOL/$i.log"
    if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); echo "-- ${pool_names[$i]}: ok ($secs s)"
    else failed=$((failed + 1)); failures+=("${pool_names[$i]}"); echo "-- ${pool_names[$i]}: FAILED ($secs s)"; fi
  done
}
pool_step() { # pool_step NAME COMMAND... : like step, on one of $JOBS slots
  local name=$1; shift
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; pool_show_finished; done
  local i=${#pool_names[@]}
  pool_names+=("$name")
  ( t0=$SECONDS; "$@" >"$POOL/$i.log" 2>&1; echo "$? $((SECONDS - t0))" >"$POOL/$i.rc" ) &
}
pool_wait() { while [ -n "$(jobs -rp)" ]; do wait -n; pool_show_finished; done; wait; pool_show_finished; }

step "release build (gcc)" build_release
step "sanitizer build" build_asan
step "clang build" build_clang
step "public header alone (C, C++, clang -Weverything)" header_alone
step "install + pkg-config" pkgconfig_install
step "bench driver builds (make bench runs the cases)" make -s -C bench driver
step "fuzz targets build" fuzz_build
# The security tests spread their own work over every core and time their
# bombs, so they run alone.
for t in tests/security/test_*.py; do step "security $(basename "$t")" $PY "$t" --brine build-asan/brine; done
# The rest share the cores, the longest first so the slots finish together.
pool_step "libFuzzer run: reader (fuzz_load) ${FUZZ_SECONDS} s" fuzz_run "$FUZZ_SECONDS" load
pool_step "libFuzzer run: scanner (fuzz_scan) ${FUZZ_SECONDS} s" fuzz_run "$FUZZ_SECONDS" scan
pool_step "unit tests (ASan+UBSan)" unit
# The longest interop scripts (about two minutes or more each) go first.
slow=(test_convert.py test_tree_save.py test_linear.py test_trees.py)
for t in "${slow[@]}" $(cd tests/interop && ls test_*.py | grep -vxF "$(printf '%s\n' "${slow[@]}")"); do
  [ -f "tests/interop/$t" ] && pool_step "interop $t" interop "$t"
done
pool_step "fuzz corpus replay" fuzz_replay
pool_step "libFuzzer run: npy, literal, decompress $((FUZZ_SECONDS / 4)) s each" fuzz_run $((FUZZ_SECONDS / 4)) npy literal decompress
pool_wait

echo
if [ "$failed" -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
