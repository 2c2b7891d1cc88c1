#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds with AddressSanitizer and UndefinedBehaviorSanitizer, brings up one
# real MeshCentral testbed for the whole run, runs every test suite (unit,
# integration, ui under Xvfb) and stops the testbed, also on failure.
#   build-aux/run-tests.sh [MESON TEST ARGS…]   e.g. --suite unit
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${MCR_TEST_BUILDDIR:-$root/_build-test}

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug >/dev/null
fi
ninja -C "$build"

# GLib 2.74 hands GObjects and other small blocks out of its own slab
# allocator, which ASan and LSan cannot see into: a freed object read
# again, or one never freed, would go unnoticed. always-malloc gives every
# block to malloc() and free().
export G_SLICE=always-malloc
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}

tb=$build/testbed
stop () { bash "$root/build-aux/testbed.sh" stop "$tb" || true; }
trap stop EXIT
trap 'exit 130' INT TERM
bash build-aux/testbed.sh start "$tb" $$
export MCR_TESTBED_ENV=$tb/testbed.env

# A private X server and session bus for the ui suite.
status=0
xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- \
  meson test -C "$build" --print-errorlogs --num-processes 2 --no-suite quarantine "$@" | tee "$build/test-output.txt" \
  || status=$?
count () { sed -n "s/^$1: *\([0-9]*\).*/\1/p" "$build/test-output.txt" | tail -1 | grep . || echo 0; }
ok=$(count Ok) failed=$(( $(count Fail) + $(count Timeout) + $(count 'Unexpected Pass') ))
echo "meson: ${ok:-0} passed, ${failed:-0} failed, $(count Skipped) skipped"  # pipefail: meson's status
exit "$status"
