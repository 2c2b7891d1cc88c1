#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds MeshCentral Router, starts the local demo testbed (a real MeshCentral
# server and agent on loopback) and launches the router logged into it.
# Ctrl+C (or closing the app) stops the testbed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/_build

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build"

tb=$root/.testbed
stop () { bash "$root/build-aux/testbed.sh" stop "$tb" || true; }
trap stop EXIT
trap 'exit 130' INT TERM
bash build-aux/testbed.sh start "$tb" $$
# shellcheck disable=SC1091
. "$tb/testbed.env"

echo "demo: server https://$MCR_TEST_HOST:$MCR_TEST_PORT  user $MCR_TEST_USER  password $MCR_TEST_PASS"
# Run from the build tree: the schema compiled there, not an installed one.
export GSETTINGS_SCHEMA_DIR=$build/data
# The password goes through the environment, not the command line.
export MCROUTER_PASSWORD=$MCR_TEST_PASS
args=(-host:"$MCR_TEST_HOST:$MCR_TEST_PORT" -user:"$MCR_TEST_USER" -certhash:"$MCR_TEST_CERTHASH")
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  "$build/src/meshcentral-router" "${args[@]}" "$@"
else
  echo "demo: no display: running headless (Ctrl+C to stop)"
  "$build/src/meshcentral-router" --headless --list-devices "${args[@]}" "$@"
fi
