#!/usr/bin/env bash
# Runs every unit-test binary of a build directory from the repository root and
# prints one total line.  Usage: tools/run-unit.sh BUILD_DIR
set -u
build=${1:-build}
pass=0; fail=0; bad=()
for t in $(find "$build/tests" -type f -perm -u+x | sort); do
  out=$("$t" 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n1)
  p=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p'); p=${p:-0}
  f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p'); f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + p)); fail=$((fail + f))
  if [ "$rc" -ne 0 ]; then bad+=("$t"); printf '%s\n' "$out" | tail -n 30; fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
