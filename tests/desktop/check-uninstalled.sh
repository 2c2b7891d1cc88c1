#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The window version run as a newcomer runs it, with no schema installed
# anywhere (XDG_DATA_DIRS pointing nowhere, GSETTINGS_SCHEMA_DIR unset):
#  1. from the build folder it finds the build folder's compiled schema and
#     opens (still running after a few seconds, no complaint);
#  2. copied out of the build folder it says what to do and exits non-zero,
#     without a core dump.
#   check-uninstalled.sh BUILT-BINARY   (needs a display: run under xvfb-run)
set -u
bin=$1
if [ -z "${DISPLAY:-}" ]; then echo "no display: skipped"; exit 77; fi
tmp=$(mktemp -d)
pid=
cleanup () { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export XDG_DATA_DIRS=$tmp/nowhere XDG_DATA_HOME=$tmp/nowhere-home
unset GSETTINGS_SCHEMA_DIR
export GSETTINGS_BACKEND=memory
fail () { echo "FAIL: $*"; echo "--- its output:"; cat "$tmp/out"; exit 1; }

# 1. From the build folder.
G_MESSAGES_DEBUG=mcr-settings-schema "$bin" >"$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 1 8); do
  sleep 0.5
  kill -0 "$pid" 2>/dev/null || break
done
if ! kill -0 "$pid" 2>/dev/null; then
  wait "$pid"; fail "from the build folder it exited (status $?) instead of opening"
fi
grep -q "running from the build folder" "$tmp/out" || fail "it did not use the build folder's schema"
grep -q "not installed" "$tmp/out" && fail "it complained about the schema"
kill "$pid"; wait "$pid" 2>/dev/null; pid=
echo "ok 1: from the build folder it opens with the build folder's schema"

# 2. Out of the build folder: no schema anywhere.
cp "$bin" "$tmp/meshcentral-router"
timeout 60 "$tmp/meshcentral-router" >"$tmp/out" 2>&1
status=$?
[ "$status" -ne 0 ] || fail "with no schema anywhere it exited 0"
[ "$status" -lt 124 ] || fail "with no schema anywhere it ended with status $status (a signal or a hang)"
grep -q "settings schema org.meshcentral.Router is not installed" "$tmp/out" ||
  fail "with no schema anywhere it did not say what is wrong"
grep -q "meson install" "$tmp/out" || fail "with no schema anywhere it did not say what to do"
echo "ok 2: with no schema anywhere it says so and exits with status $status"
