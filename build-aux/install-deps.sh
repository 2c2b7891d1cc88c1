#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what building, running and testing MeshCentral Router needs on
# Debian 12 (run as root), and the MeshCentral testbed from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential clang meson ninja-build pkg-config gettext
  libglib2.0-dev libglib2.0-bin libgtk-4-dev libsoup-3.0-dev libjson-glib-dev
  libgnutls28-dev libsecret-1-dev gnutls-bin
  desktop-file-utils appstream gtk-4-examples libgtk-4-bin shared-mime-info xdg-utils
  libfile-mimeinfo-perl libxml2-utils flatpak-builder
  xvfb xauth xdotool imagemagick dbus dbus-x11 gnome-keyring
  valgrind libclang-rt-14-dev ca-certificates python3
  nginx libnginx-mod-stream
  systemd  # systemd-analyze verify of the user units (no running systemd needed)
)
# Node.js runs the MeshCentral testbed; any install that provides node and npm
# will do (Debian's, or a vendor build that bundles npm and conflicts with ours).
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash build-aux/testbed.sh install
echo "install-deps: ok"
