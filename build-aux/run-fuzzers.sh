#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets in _fuzz/ (clang, -Dfuzzing=true) if needed,
# then runs each one for SECONDS, one after another, starting from its
# checked-in seeds (tests/fuzz/corpus/TARGET) and what earlier runs found
# (_fuzz/corpus/TARGET). Fails on a crash, leak, timeout or failed check;
# the input that did it is kept in _fuzz/artifacts/.
#   build-aux/run-fuzzers.sh [SECONDS [TARGET…]]     (SECONDS defaults to 60)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${MCR_FUZZ_BUILDDIR:-$root/_fuzz}
seconds=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))

if [ ! -f "$build/build.ninja" ]; then
  CC=${FUZZ_CC:-clang} meson setup "$build" -Dfuzzing=true -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" fuzzers >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for exe in "$build"/tests/fuzz/fuzz-*; do
    [ -f "$exe" ] && [ -x "$exe" ] && targets+=("$(basename "$exe")")
  done
fi

# Every block through malloc(), where ASan and LSan see it (run-tests.sh).
export G_SLICE=always-malloc
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}
export G_DEBUG=${G_DEBUG:-fatal-criticals}
mkdir -p "$build/artifacts" "$build/logs"

failed=()
for t in "${targets[@]}"; do
  seeds=$root/tests/fuzz/corpus/$t
  work=$build/corpus/$t
  log=$build/logs/$t.log
  mkdir -p "$work" "$seeds"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$build/artifacts/$t-")
  [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
  [ -f "tests/fuzz/$t.options" ] && mapfile -t -O ${#args[@]} args < <(grep -v '^#' "tests/fuzz/$t.options")

  echo "== $t: ${seconds}s (log: $log)"
  if "$build/tests/fuzz/$t" "${args[@]}" "$work" "$seeds" >"$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb|#[0-9]+[[:space:]]+DONE)' "$log" || true
    echo "   corpus: $(find "$work" -type f | wc -l) inputs"
  else
    echo "!! $t FAILED; the end of its log:"
    tail -n 60 "$log"
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "Failed: ${failed[*]}; inputs in $build/artifacts/"
  exit 1
fi
echo "All fuzzers ran ${seconds}s each without a finding."
