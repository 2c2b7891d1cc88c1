#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# check-xdg-registration.sh MESON BUILDDIR PREFIX
# Installs the build into a temporary DESTDIR, registers its desktop file and
# MIME type the way a distribution's triggers do (update-desktop-database,
# update-mime-database) in private XDG directories, and asks xdg-mime which
# application opens mcrouter:// links and what type .mcrouter files have.
set -eu
meson=$1 builddir=$2 prefix=$3
app_id=org.meshcentral.Router

for tool in xdg-mime update-desktop-database update-mime-database; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is missing (build-aux/install-deps.sh installs it): skipped"
    exit 77
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mcr-xdg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$meson" install -C "$builddir" --no-rebuild --quiet --destdir "$tmp/dest" >/dev/null
share=$tmp/dest/${prefix#/}/share

# Nothing of the user's or the system's own configuration takes part.
unset DISPLAY WAYLAND_DISPLAY XDG_CURRENT_DESKTOP XDG_SESSION_DESKTOP DESKTOP_SESSION \
      KDE_FULL_SESSION KDE_SESSION_VERSION GNOME_DESKTOP_SESSION_ID XDG_MENU_PREFIX
export HOME=$tmp/home
export XDG_CONFIG_HOME=$HOME/.config XDG_CONFIG_DIRS=$tmp/etc/xdg
export XDG_DATA_HOME=$HOME/.local/share
# /usr/share for the base types (application/json, text/plain).
export XDG_DATA_DIRS=$share:/usr/share
mkdir -p "$XDG_CONFIG_HOME" "$XDG_CONFIG_DIRS" "$XDG_DATA_HOME"

failures=0
expect () {
  # expect WHAT EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then
    echo "ok: $1: $3"
  else
    echo "FAILED: $1: expected '$2', got '$3'"
    failures=$((failures + 1))
  fi
}

update-desktop-database "$share/applications"
update-mime-database "$share/mime"
# Our type is a kind of JSON, so JSON editors are offered for it too.
expect "sub-class of application/json" "application/x-mcrouter application/json" \
  "$(grep '^application/x-mcrouter ' "$share/mime/subclasses" || true)"

expect "default handler of x-scheme-handler/mcrouter" "$app_id.desktop" \
  "$(xdg-mime query default x-scheme-handler/mcrouter)"
expect "default handler of application/x-mcrouter" "$app_id.desktop" \
  "$(xdg-mime query default application/x-mcrouter)"

# A file as the Windows router writes it (CRLF, keys in its order).
printf '{\r\n  "hostname": "server.example.com:443",\r\n  "username": "bob",\r\n  "certhash": "",\r\n  "mappings": [\r\n  ]\r\n}\r\n' \
  > "$tmp/some.mcrouter"
cp "$tmp/some.mcrouter" "$tmp/saved-mappings"
printf '{ "name": "not ours" }\n' > "$tmp/other.json"

# xdg-mime answers filetype queries through mimetype(1) (File::MimeInfo) on
# an unknown desktop and through gio on GNOME: check both.
if command -v mimetype >/dev/null 2>&1; then
  expect "filetype of some.mcrouter (generic)" application/x-mcrouter \
    "$(xdg-mime query filetype "$tmp/some.mcrouter")"
else
  echo "mimetype(1) is missing (libfile-mimeinfo-perl): generic query not checked"
fi
if command -v gio >/dev/null 2>&1; then
  expect "filetype of some.mcrouter (GNOME)" application/x-mcrouter \
    "$(XDG_CURRENT_DESKTOP=GNOME xdg-mime query filetype "$tmp/some.mcrouter")"
  expect "filetype of a .mcrouter file without the extension (magic)" application/x-mcrouter \
    "$(XDG_CURRENT_DESKTOP=GNOME xdg-mime query filetype "$tmp/saved-mappings")"
  expect "filetype of other JSON" application/json \
    "$(XDG_CURRENT_DESKTOP=GNOME xdg-mime query filetype "$tmp/other.json")"
fi

echo "$failures failed"
[ "$failures" -eq 0 ]
