#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# check-translations.sh MESON BUILDDIR PREFIX PODIR
# Every catalogue in PODIR/LINGUAS compiles with msgfmt --check and translates
# every message the sources have now (no untranslated or fuzzy one against a
# fresh extraction from POTFILES); then, from a
# temporary install, the program speaks German and French when asked to
# (LANGUAGE) and English otherwise. MCR_LOCALEDIR points the installed program
# at its catalogues under the DESTDIR.
set -eu
meson=$1 builddir=$2 prefix=$3 podir=$4

failures=0
ok () { echo "ok: $1"; }
fail () { echo "FAILED: $1"; failures=$((failures + 1)); }

for lang in $(sed 's/#.*//' "$podir/LINGUAS"); do
  if stats=$(msgfmt --check --statistics -o /dev/null "$podir/$lang.po" 2>&1); then
    ok "$lang.po compiles ($stats)"
  else
    fail "$lang.po does not compile: $stats"
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mcr-i18n.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The messages of the sources as they are now (the keywords of meson's glib
# preset), each catalogue merged with them without guessing.
(cd "$podir/.." && xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
   --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 --files-from=po/POTFILES --output="$tmp/now.pot")
for lang in $(sed 's/#.*//' "$podir/LINGUAS"); do
  msgmerge --quiet --no-fuzzy-matching "$podir/$lang.po" "$tmp/now.pot" -o "$tmp/$lang.po"
  stats=$(msgfmt --statistics -o /dev/null "$tmp/$lang.po" 2>&1)
  case $stats in
    *untranslated*|*fuzzy*) fail "$lang.po is behind the sources ($stats): ninja -C BUILDDIR meshcentral-router-update-po, then translate" ;;
    *) ok "$lang.po translates every message of the sources ($stats)" ;;
  esac
done
"$meson" install -C "$builddir" --no-rebuild --quiet --destdir "$tmp/dest" >/dev/null
root=$tmp/dest/${prefix#/}
program=$root/bin/meshcentral-router
export MCR_LOCALEDIR=$root/share/locale
unset LC_ALL LC_MESSAGES DISPLAY WAYLAND_DISPLAY

# expect_output WHAT LANGUAGE TEXT ARGS…: the output (and errors) contain TEXT.
expect_output () {
  what=$1 language=$2 text=$3
  shift 3
  out=$(LANG=C.UTF-8 LANGUAGE=$language "$program" "$@" 2>&1 || true)
  case $out in
    *"$text"*) ok "$what" ;;
    *) fail "$what: no '$text' in: $(printf '%s' "$out" | head -n 3)" ;;
  esac
}

expect_output "English help without LANGUAGE" "" "Usage:" --help
expect_output "German help with LANGUAGE=de" de "Aufruf:" --help
expect_output "German help has the login section" de "Anmeldung:" --help
expect_output "French help with LANGUAGE=fr" fr "Utilisation" --help
expect_output "French help has the maps section" fr "Redirections" --help
expect_output "German error message" de "Unbekannte Option" --no-such-option
expect_output "French error message" fr "inconnue (voir --help)" --no-such-option
expect_output "English error message with LANGUAGE=xx" xx "Unknown option" --no-such-option

echo "$failures failed"
[ "$failures" -eq 0 ]
