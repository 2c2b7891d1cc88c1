#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check-install-tree.py MESON BUILDDIR PREFIX MANIFEST LINGUAS

Installs the build into a temporary DESTDIR with `meson install` and checks
that the tree under the prefix is exactly what the Flatpak manifest and the
desktop expect (the same relative layout as /app in the sandbox): the command
the manifest runs, the desktop file, metainfo, schema, icons, MIME type and one
catalogue per language, nothing missing and nothing else. Then checks that
these files agree with each other and with the manifest (ids, Exec, Icon,
launchable)."""

import configparser
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

failures = []


def check(ok, what):
    print(("ok: " if ok else "FAILED: ") + what)
    if not ok:
        failures.append(what)


def main():
    meson, builddir, prefix, manifest_path, linguas_path = sys.argv[1:6]
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    app_id = manifest["id"]
    command = manifest["command"]
    with open(linguas_path, encoding="utf-8") as f:
        languages = [w for line in f for w in line.split("#")[0].split()]

    expected = {
        "bin/" + command,
        f"share/applications/{app_id}.desktop",
        f"share/metainfo/{app_id}.metainfo.xml",
        f"share/glib-2.0/schemas/{app_id}.gschema.xml",
        f"share/icons/hicolor/scalable/apps/{app_id}.svg",
        f"share/icons/hicolor/symbolic/apps/{app_id}-symbolic.svg",
        f"share/mime/packages/{app_id}.xml",
        "lib/systemd/user/meshcentral-router.service",
        "lib/systemd/user/meshcentral-router@.service",
    }
    expected |= {f"share/locale/{lang}/LC_MESSAGES/meshcentral-router.mo"
                 for lang in languages}

    with tempfile.TemporaryDirectory(prefix="mcr-install-") as destdir:
        subprocess.run([meson, "install", "-C", builddir, "--no-rebuild",
                        "--quiet", "--destdir", destdir], check=True,
                       stdout=subprocess.DEVNULL)
        root = os.path.join(destdir, prefix.lstrip("/"))
        installed = set()
        for dirpath, _dirs, files in os.walk(destdir):
            for name in files:
                path = os.path.join(dirpath, name)
                installed.add(os.path.relpath(path, root))

        for path in sorted(expected - installed):
            check(False, f"installed: {path}")
        for path in sorted(installed - expected):
            check(False, f"nothing unexpected installed, but found {path}")
        check(expected <= installed, f"all {len(expected)} expected files installed")
        check(installed <= expected, "no other file installed")
        if not expected <= installed:
            return

        binary = os.path.join(root, "bin", command)
        check(os.access(binary, os.X_OK), f"bin/{command} is executable")
        check_desktop(root, app_id, command)
        check_metainfo(root, app_id)
        check_finish_args(manifest)


def check_desktop(root, app_id, command):
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str
    desktop.read(os.path.join(root, "share/applications", app_id + ".desktop"),
                 encoding="utf-8")
    entry = desktop["Desktop Entry"]
    check(entry.get("Exec", "").split()[0] == command,
          f"the desktop file runs the manifest's command ({entry.get('Exec')})")
    check("%U" in entry.get("Exec", "").split(), "Exec passes URLs and files (%U)")
    check(entry.get("Icon") == app_id, "the desktop file's icon is the app id")
    mimetypes = entry.get("MimeType", "").split(";")
    check("x-scheme-handler/mcrouter" in mimetypes and "application/x-mcrouter" in mimetypes,
          "the desktop file handles mcrouter:// and .mcrouter")
    check(any(k.startswith("Name[") for k in entry), "the desktop file is translated")


def check_metainfo(root, app_id):
    tree = ET.parse(os.path.join(root, "share/metainfo", app_id + ".metainfo.xml"))
    component = tree.getroot()
    check(component.findtext("id") == app_id, "the metainfo id is the app id")
    check(component.findtext("launchable") == app_id + ".desktop",
          "the metainfo launches the installed desktop file")
    check(component.findtext("translation") == "meshcentral-router",
          "the metainfo names the gettext domain")
    lang_key = "{http://www.w3.org/XML/1998/namespace}lang"
    check(any(e.get(lang_key) for e in component.iter("summary")),
          "the metainfo is translated")


def check_finish_args(manifest):
    args = set(manifest.get("finish-args", []))
    for arg in ("--share=network", "--socket=wayland", "--socket=fallback-x11",
                "--share=ipc", "--device=dri"):
        check(arg in args, f"finish-args has {arg}")
    module = manifest["modules"][-1]
    check(module.get("buildsystem") == "meson", "the last module builds with meson")
    check(any(s.get("type") == "dir" and s.get("path") == "../.." for s in module["sources"]),
          "the last module builds this checkout")


if __name__ == "__main__":
    main()
    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)
