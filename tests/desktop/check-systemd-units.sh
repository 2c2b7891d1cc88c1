#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# check-systemd-units.sh BUILT_PROGRAM INSTALLED_PROGRAM UNIT…
# Each built user unit passes `systemd-analyze --user verify`, with its
# ExecStart pointed at the built program (verify checks that the program
# exists; the installed one does not, before meson install). Any message of
# verify fails the test: unknown keys and bad specifiers are only warnings
# to it. verify needs no running systemd, only an XDG_RUNTIME_DIR, given a
# temporary one here.
set -eu
built=$1 installed=$2
shift 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mcr-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -m 700 "$tmp/run"
failures=0
for unit in "$@"; do
  name=$(basename "$unit")
  grep -q "^ExecStart=$installed " "$unit" || { echo "FAILED: $name: ExecStart is not $installed"; failures=$((failures + 1)); continue; }
  sed "s|^ExecStart=$installed |ExecStart=$built |" "$unit" > "$tmp/$name"
  # A template is verified as an instance of it.
  case $name in
    *@.service) target=$tmp/${name%@.service}@office.service; ln -s "$tmp/$name" "$target" ;;
    *) target=$tmp/$name ;;
  esac
  if out=$(XDG_RUNTIME_DIR=$tmp/run systemd-analyze --user --man=no verify "$target" 2>&1) && [ -z "$out" ]; then
    echo "ok: $name passes systemd-analyze --user verify"
  else
    echo "FAILED: $name: $out"
    failures=$((failures + 1))
  fi
done
exit $failures
