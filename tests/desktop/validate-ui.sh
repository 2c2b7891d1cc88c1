#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# validate-ui.sh FILE.ui…: gtk4-builder-tool validate on each file. Templates
# need a display (GTK builds the parent widget), so without one this runs
# itself again under xvfb-run, or skips when that is missing.
set -u

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  if command -v xvfb-run >/dev/null 2>&1; then
    exec xvfb-run -a "$0" "$@"
  fi
  echo "no display and no xvfb-run: skipped"
  exit 77
fi

status=0
for ui in "$@"; do
  if gtk4-builder-tool validate "$ui"; then
    echo "ok: $ui"
  else
    echo "FAILED: $ui"
    status=1
  fi
done
exit $status
