#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run-with-keyring.sh PROGRAM [ARGS…]
# Runs PROGRAM on a private session bus with its own gnome-keyring-daemon
# (Secret Service only, a fresh "login" keyring unlocked with a throwaway
# password) and a temporary HOME and XDG directories, then stops the daemon
# and removes everything. MCR_TEST_HOME names the temporary directory, so the
# test can check what was written there.
set -eu

if [ -z "${MCR_KEYRING_INNER:-}" ]; then
  for tool in dbus-run-session gnome-keyring-daemon gdbus; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "1..0 # SKIP $tool is missing (build-aux/install-deps.sh installs it)"
      exit 0
    fi
  done
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/mcr-keyring.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/home/.local/share" "$tmp/home/.config" "$tmp/home/.cache"
  mkdir -m 700 "$tmp/run"
  export MCR_TEST_HOME=$tmp HOME=$tmp/home XDG_RUNTIME_DIR=$tmp/run \
         XDG_DATA_HOME=$tmp/home/.local/share XDG_CONFIG_HOME=$tmp/home/.config \
         XDG_CACHE_HOME=$tmp/home/.cache MCR_KEYRING_INNER=1
  status=0
  dbus-run-session -- "$0" "$@" || status=$?
  exit $status
fi

# On the private bus now.
printf '%s' "keyring-test-unlock" |
  gnome-keyring-daemon --foreground --unlock --components=secrets \
    >"$XDG_RUNTIME_DIR/gnome-keyring.log" 2>&1 &
daemon=$!
stop_daemon () { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; }
trap stop_daemon EXIT

tries=0
until gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null |
      grep -q true; do
  tries=$((tries + 1))
  if [ "$tries" -ge 100 ]; then
    echo "Bail out! gnome-keyring-daemon did not come up"
    cat "$XDG_RUNTIME_DIR/gnome-keyring.log" >&2
    exit 1
  fi
  sleep 0.1
done

status=0
"$@" || status=$?
exit $status
