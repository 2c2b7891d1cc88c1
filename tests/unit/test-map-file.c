/* SPDX-License-Identifier: Apache-2.0 */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcr-map-file.h"
#include "mcr-testbed.h"

#define HASH "6C2D6D9096C21F5633D46731950B2FFDE4086114BFB750606A9FA8C08098665BC595CD892C4A439A4B7C68D712A6F0EB"
#define MESH "mesh//Zx3b$Lr@kOq9WgZf1Yc2s8HmVnT0pRdE4uJiAaBbCcDdEeFfGgHhIiJjKk"
#define N1 "node//qW3rT5yU7iO9pA1sD3fG5hJ7kL9zX1cV3bN5mQ7wE9rT1yU3iO5pA7sD9fG1h"
#define N2 "node//Ab$cD@eF0gH1iJ2kL3mN4oP5qR6sT7uV8wX9yZ0aB1cD2eF3gH4iJ5kL6mN7o"
#define N3 "node//Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6Ll5Kk4Jj3Ii2Hh1Gg0Ff"

static GFile *
fixture (const char *name)
{
  return g_file_new_for_path (g_test_get_filename (G_TEST_DIST, "data", "mcrouter", name, NULL));
}

static McrMapFile *
load (const char *name)
{
  g_autoptr(GFile) file = fixture (name);
  g_autoptr(GError) error = NULL;
  McrMapFile *mf = mcr_map_file_new_from_file (file, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (mf);
  return mf;
}

static McrMapSpec *
mapping (McrMapFile *mf,
         guint       i)
{
  GPtrArray *maps = mcr_map_file_get_mappings (mf);

  g_assert_cmpuint (i, <, maps->len);
  return g_ptr_array_index (maps, i);
}

static void
assert_spec_equal (const McrMapSpec *a,
                   const McrMapSpec *b)
{
  g_assert_cmpint (a->protocol, ==, b->protocol);
  g_assert_cmpuint (a->local_port, ==, b->local_port);
  g_assert_cmpstr (a->node_id, ==, b->node_id);
  g_assert_cmpstr (a->node_name, ==, b->node_name);
  g_assert_cmpstr (a->mesh_id, ==, b->mesh_id);
  g_assert_cmpint (a->app_id, ==, b->app_id);
  g_assert_cmpstr (a->app_name, ==, b->app_name);
  g_assert_cmpstr (a->remote_ip, ==, b->remote_ip);
  g_assert_cmpuint (a->remote_port, ==, b->remote_port);
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpint (a->auto_exit, ==, b->auto_exit);
  g_assert_cmpint (a->launch, ==, b->launch);
  g_assert_cmpint (a->disabled, ==, b->disabled);
}

static void
assert_file_equal (McrMapFile *a,
                   McrMapFile *b)
{
  GPtrArray *ma = mcr_map_file_get_mappings (a);
  GPtrArray *mb = mcr_map_file_get_mappings (b);

  g_assert_cmpstr (mcr_map_file_get_hostname (a), ==, mcr_map_file_get_hostname (b));
  g_assert_cmpstr (mcr_map_file_get_username (a), ==, mcr_map_file_get_username (b));
  g_assert_cmpstr (mcr_map_file_get_password (a), ==, mcr_map_file_get_password (b));
  g_assert_cmpstr (mcr_map_file_get_certhash (a), ==, mcr_map_file_get_certhash (b));
  g_assert_cmpuint (ma->len, ==, mb->len);
  for (guint i = 0; i < ma->len; i++)
    assert_spec_equal (g_ptr_array_index (ma, i), g_ptr_array_index (mb, i));
}

static char *
bytes_to_string (GBytes *bytes)
{
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
test_windows_basic (void)
{
  g_autoptr(McrMapFile) mf = load ("windows-basic.mcrouter");
  McrMapSpec *a, *b;

  g_assert_cmpstr (mcr_map_file_get_hostname (mf), ==, "meshcentral.example.com");
  g_assert_cmpstr (mcr_map_file_get_username (mf), ==, "alice");
  g_assert_null (mcr_map_file_get_password (mf));
  g_assert_cmpstr (mcr_map_file_get_certhash (mf), ==, HASH);
  g_assert_cmpuint (mcr_map_file_get_mappings (mf)->len, ==, 2);
  g_assert_cmpstrv (mcr_map_file_get_warnings (mf), ((const char *[]) { NULL }));

  a = mapping (mf, 0);
  g_assert_cmpstr (a->node_name, ==, "OFFICE-PC");
  g_assert_cmpstr (a->mesh_id, ==, MESH);
  g_assert_cmpstr (a->node_id, ==, N1);
  g_assert_cmpint (a->app_id, ==, MCR_APP_RDP);
  g_assert_null (a->app_name);
  g_assert_cmpint (a->protocol, ==, MCR_PROTOCOL_TCP);
  g_assert_cmpuint (a->local_port, ==, 0);
  g_assert_null (a->remote_ip);
  g_assert_cmpuint (a->remote_port, ==, 3389);
  g_assert_null (a->name);
  g_assert_false (a->auto_exit);
  g_assert_false (a->launch);

  b = mapping (mf, 1);
  g_assert_cmpstr (b->node_name, ==, "web01");
  g_assert_cmpstr (b->name, ==, "Intranet");
  g_assert_cmpstr (b->node_id, ==, N2);
  g_assert_cmpint (b->app_id, ==, MCR_APP_HTTP);
  g_assert_cmpuint (b->local_port, ==, 8080);
  g_assert_cmpuint (b->remote_port, ==, 80);
}

static void
test_windows_empty (void)
{
  g_autoptr(McrMapFile) mf = load ("windows-empty.mcrouter");

  g_assert_cmpstr (mcr_map_file_get_hostname (mf), ==, "meshcentral.example.com");
  /* The Windows router writes "certhash": "" when it has none. */
  g_assert_null (mcr_map_file_get_certhash (mf));
  g_assert_cmpuint (mcr_map_file_get_mappings (mf)->len, ==, 0);
}

static void
test_windows_key_port (void)
{
  g_autoptr(McrMapFile) mf = load ("windows-key-port.mcrouter");
  McrMapSpec *vnc, *web, *udp;

  g_assert_cmpstr (mcr_map_file_get_hostname (mf), ==, "mesh.example.com:4443?key=Zk8sQ2");
  g_assert_cmpstr (mcr_map_file_get_username (mf), ==, "bob");
  /* Lowercase in the file, uppercase for the TLS policy. */
  g_assert_cmpstr (mcr_map_file_get_certhash (mf), ==, HASH);

  vnc = mapping (mf, 0);
  g_assert_cmpint (vnc->app_id, ==, MCR_APP_CUSTOM);
  g_assert_cmpstr (vnc->app_name, ==, "VNC");
  g_assert_cmpuint (vnc->local_port, ==, 5901);
  g_assert_cmpuint (vnc->remote_port, ==, 5900);

  web = mapping (mf, 1);
  g_assert_cmpstr (web->name, ==, "Printer web page");
  g_assert_cmpstr (web->remote_ip, ==, "192.168.1.50");
  g_assert_cmpint (web->app_id, ==, MCR_APP_HTTP);

  udp = mapping (mf, 2);
  g_assert_cmpint (udp->protocol, ==, MCR_PROTOCOL_UDP);
  g_assert_cmpstr (udp->remote_ip, ==, "10.0.0.53");
  g_assert_cmpuint (udp->local_port, ==, 5353);
  g_assert_cmpuint (udp->remote_port, ==, 53);
}

static void
test_windows_after_link (void)
{
  g_autoptr(McrMapFile) mf = load ("windows-after-link.mcrouter");
  McrMapSpec *a = mapping (mf, 0);

  g_assert_cmpstr (mcr_map_file_get_hostname (mf), ==, "192.0.2.10:8443/sales");
  g_assert_cmpstr (mcr_map_file_get_username (mf), ==, "carol@example.com");
  g_assert_cmpstr (a->node_name, ==, "Büro-Rechner");
  /* "appIdStr": "3" next to appId 3 is the link's appid, not a custom app. */
  g_assert_cmpint (a->app_id, ==, MCR_APP_RDP);
  g_assert_null (a->app_name);
}

static void
test_relay (void)
{
  g_autoptr(McrMapFile) mf = load ("relay.mcrouter");

  g_assert_cmpuint (mcr_map_file_get_mappings (mf)->len, ==, 3);
  g_assert_cmpstr (mapping (mf, 0)->remote_ip, ==, "192.168.10.1");
  g_assert_cmpint (mapping (mf, 0)->app_id, ==, MCR_APP_SSH);
  g_assert_cmpuint (mapping (mf, 0)->local_port, ==, 2222);
  g_assert_cmpstr (mapping (mf, 0)->name, ==, "Switch SSH");
  g_assert_cmpstr (mapping (mf, 1)->remote_ip, ==, "fe80::1");
  g_assert_cmpint (mapping (mf, 1)->app_id, ==, MCR_APP_HTTPS);
  g_assert_cmpstr (mapping (mf, 2)->remote_ip, ==, "fileserver.lan");
  g_assert_cmpint (mapping (mf, 2)->app_id, ==, MCR_APP_SFTP);
}

/* A map switched off is written "enabled": false (a key the Windows
 * router ignores) and read back off; a map on has no such key. */
static void
test_enabled (void)
{
  g_autoptr(McrMapFile) mf = mcr_map_file_new ();
  g_autoptr(McrMapFile) back = NULL;
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  mcr_map_file_set_hostname (mf, "mesh.example.com");
  mcr_map_file_set_username (mf, "admin");
  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup ("node//abc");
  spec->node_name = g_strdup ("PC");
  spec->local_port = 8080;
  spec->remote_port = 80;
  mcr_map_file_add_mapping (mf, spec);
  spec->disabled = TRUE;
  spec->local_port = 8081;
  mcr_map_file_add_mapping (mf, spec);
  bytes = mcr_map_file_to_bytes (mf, MCR_MAP_FILE_SAVE_DEFAULT);
  text = bytes_to_string (bytes);
  g_assert_nonnull (strstr (text, "\"enabled\": false"));
  g_assert_null (strstr (strstr (text, "\"enabled\": false") + 1, "\"enabled\""));
  back = mcr_map_file_new_from_bytes (bytes, "test.mcrouter", &error);
  g_assert_no_error (error);
  assert_file_equal (mf, back);
  g_assert_false (mapping (back, 0)->disabled);
  g_assert_true (mapping (back, 1)->disabled);
}

static void
test_udp (void)
{
  g_autoptr(McrMapFile) mf = load ("udp.mcrouter");
  McrMapSpec *a = mapping (mf, 0);

  g_assert_cmpint (a->protocol, ==, MCR_PROTOCOL_UDP);
  g_assert_cmpint (a->app_id, ==, MCR_APP_CUSTOM);
  g_assert_null (a->app_name);
  g_assert_cmpuint (a->local_port, ==, 10053);
  g_assert_cmpuint (a->remote_port, ==, 53);
  g_assert_null (a->remote_ip);
}

static void
test_hand_written (void)
{
  g_autoptr(McrMapFile) mf = load ("hand-written.mcrouter");
  McrMapSpec *a, *b;

  g_assert_cmpstr (mcr_map_file_get_hostname (mf), ==, "[2001:db8::10]:443");
  g_assert_cmpstr (mcr_map_file_get_username (mf), ==, "dave");
  g_assert_cmpstr (mcr_map_file_get_password (mf), ==, "s3cret \"quoted\" \\ pass");
  /* "6c:2d:…" in the file */
  g_assert_cmpstr (mcr_map_file_get_certhash (mf), ==, HASH);

  a = mapping (mf, 0);
  g_assert_cmpstr (a->node_id, ==, N1);
  g_assert_null (a->node_name);
  g_assert_null (a->mesh_id);
  g_assert_null (a->remote_ip);
  g_assert_null (a->app_name);
  g_assert_cmpstr (a->name, ==, "Build server");
  g_assert_cmpint (a->app_id, ==, MCR_APP_SSH);
  g_assert_cmpuint (a->local_port, ==, 2200);
  g_assert_cmpuint (a->remote_port, ==, 22);
  g_assert_true (a->auto_exit);
  g_assert_true (a->launch);

  b = mapping (mf, 1);
  g_assert_cmpstr (b->node_id, ==, N2);
  g_assert_cmpuint (b->local_port, ==, 0);
  g_assert_false (b->auto_exit);
  g_assert_false (b->launch);
}

/* A file written by hand may name the device only (the Windows router
 * always writes nodeId): such a mapping is matched by name. An empty nodeId
 * counts as absent. */
static void
test_name_only (void)
{
  static const char text[] =
    "{\"hostname\": \"h.example.com\", \"username\": \"u\", \"mappings\": ["
    "{\"nodeName\": \"lab pc\", \"protocol\": 1, \"localPort\": 0, \"remotePort\": 22},"
    "{\"nodeName\": \"nas\", \"nodeId\": \"\", \"protocol\": 1, \"remotePort\": 80}]}";
  g_autoptr(GBytes) bytes = g_bytes_new_static (text, sizeof text - 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) mf = mcr_map_file_new_from_bytes (bytes, "hand.mcrouter", &error);

  g_assert_no_error (error);
  g_assert_null (mapping (mf, 0)->node_id);
  g_assert_cmpstr (mapping (mf, 0)->node_name, ==, "lab pc");
  g_assert_cmpuint (mapping (mf, 0)->remote_port, ==, 22);
  g_assert_null (mapping (mf, 1)->node_id);
  g_assert_cmpstr (mapping (mf, 1)->node_name, ==, "nas");
}

/* A file for a device of a second domain: node/DOMAIN/ID and
 * mesh/DOMAIN/ID; a meshId that is no group id is refused. */
static void
test_other_domain (void)
{
  static const char text[] =
    "{\"hostname\": \"h.example.com/other\", \"username\": \"u\", \"mappings\": ["
    "{\"nodeId\": \"node/other/Ab$cD@eF0\", \"meshId\": \"mesh/other/Zx3b$Lr@k\", "
    "\"protocol\": 1, \"localPort\": 0, \"remotePort\": 22}]}";
  static const char bad_mesh[] =
    "{\"hostname\": \"h.example.com\", \"username\": \"u\", \"mappings\": ["
    "{\"nodeId\": \"node//abc\", \"meshId\": \"node//abc\", \"protocol\": 1, "
    "\"remotePort\": 22}]}";
  g_autoptr(GBytes) bytes = g_bytes_new_static (text, sizeof text - 1);
  g_autoptr(GBytes) bad_bytes = g_bytes_new_static (bad_mesh, sizeof bad_mesh - 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) mf = mcr_map_file_new_from_bytes (bytes, "other.mcrouter", &error);
  g_autoptr(McrMapFile) bad = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (mapping (mf, 0)->node_id, ==, "node/other/Ab$cD@eF0");
  g_assert_cmpstr (mapping (mf, 0)->mesh_id, ==, "mesh/other/Zx3b$Lr@k");
  bad = mcr_map_file_new_from_bytes (bad_bytes, "bad.mcrouter", &error);
  g_assert_null (bad);
  g_assert_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "'meshId' must be a device group id (mesh//ID, or "
                                            "mesh/DOMAIN/ID outside the default domain)"));
}

static void
test_unicode (void)
{
  g_autoptr(McrMapFile) mf = load ("unicode.mcrouter");
  McrMapSpec *a = mapping (mf, 0);

  g_assert_cmpstr (mcr_map_file_get_username (mf), ==, "ユーザー");
  g_assert_cmpstr (a->node_name, ==, "会議室のPC 🖥");
  g_assert_cmpstr (a->name, ==, "Ré\"union\\ Été");
  g_assert_cmpstr (a->app_name, ==, "Remmina é");
}

static void
test_utf16 (void)
{
  g_autoptr(McrMapFile) mf = load ("utf16.mcrouter");
  g_autoptr(McrMapFile) basic = load ("windows-basic.mcrouter");

  assert_file_equal (mf, basic);
}

/* The Windows router runs a string "launch" as a command. We never do. */
static void
test_launch_command (void)
{
  g_autoptr(McrMapFile) mf = load ("launch-command.mcrouter");
  const char *const *warnings = mcr_map_file_get_warnings (mf);

  g_assert_false (mapping (mf, 0)->launch);
  g_assert_cmpuint (g_strv_length ((char **) warnings), ==, 1);
  g_assert_cmpstr (warnings[0], ==,
                   "launch-command.mcrouter: mapping 1: 'launch' holds a command; commands in "
                   "files are never run");
}

static const struct
{
  const char     *file;
  McrMapFileError code;
  const char     *message; /* after "FILE: " */
} broken[] = {
  { "appid-desktop", MCR_MAP_FILE_ERROR_UNSUPPORTED, "mapping 1: appId 6 opens the Windows router's own remote desktop viewer" },
  { "appid-files", MCR_MAP_FILE_ERROR_UNSUPPORTED, "mapping 2: appId 7 opens the Windows router's own file viewer" },
  { "appid-string", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'appId' must be a number from 0 to 5" },
  { "appid-unknown", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'appId' must be a number from 0 to 5" },
  { "autoexit-string", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'autoExit' must be true or false" },
  { "certhash-bad", MCR_MAP_FILE_ERROR_INVALID, "'certhash' must be a SHA-384 hash" },
  { "comment", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 1: unexpected character" },
  { "deep-nesting", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 1: arrays and objects nest deeper than 8 levels" },
  { "empty", MCR_MAP_FILE_ERROR_SYNTAX, "the file is empty" },
  { "hostname-empty", MCR_MAP_FILE_ERROR_INVALID, "'hostname' is empty" },
  { "hostname-number", MCR_MAP_FILE_ERROR_INVALID, "'hostname' must be a string" },
  { "hostname-space", MCR_MAP_FILE_ERROR_INVALID, "'hostname' is not a server address" },
  { "latin1", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: the text is not UTF-8" },
  { "launch-object", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'launch' must be a number" },
  { "localport-float", MCR_MAP_FILE_ERROR_INVALID, "mapping 2: 'localPort' must be a number from 0 to 65535" },
  { "localport-negative", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'localPort' must be a number from 0 to 65535" },
  /* json-glib 1.6 would read this as 3389. */
  { "localport-wraps", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 12: a whole number is too large" },
  { "localport-range", MCR_MAP_FILE_ERROR_INVALID, "mapping 2: 'localPort' must be a number from 0 to 65535" },
  { "localport-string", MCR_MAP_FILE_ERROR_INVALID, "mapping 2: 'localPort' must be a number from 0 to 65535" },
  { "lone-surrogate", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 16: a '\\u' escape holds half a UTF-16 surrogate pair" },
  { "mapping-3-bad", MCR_MAP_FILE_ERROR_INVALID, "mapping 3: 'localPort' must be a number from 0 to 65535" },
  { "mapping-not-object", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: a mapping must be a JSON object" },
  { "mappings-object", MCR_MAP_FILE_ERROR_INVALID, "'mappings' must be a list" },
  { "no-hostname", MCR_MAP_FILE_ERROR_INVALID, "'hostname' is missing" },
  { "no-username", MCR_MAP_FILE_ERROR_INVALID, "'username' is missing" },
  { "nodeid-mesh", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'nodeId' must be a device id (node//ID, or node/DOMAIN/ID outside the default domain)" },
  { "nodeid-missing", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'nodeId' is missing" },
  { "not-json", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 1: unexpected character; expected a value" },
  { "nul-byte", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: the text is not UTF-8 or holds a NUL byte" },
  { "protocol-missing", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'protocol' is missing" },
  { "protocol-string", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'protocol' must be 1 (TCP) or 2 (UDP)" },
  { "protocol-unknown", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'protocol' must be 1 (TCP) or 2 (UDP)" },
  { "remoteip-bad", MCR_MAP_FILE_ERROR_INVALID, "mapping 2: 'remoteIP' is not an IP address or host name" },
  { "remoteport-missing", MCR_MAP_FILE_ERROR_INVALID, "mapping 2: 'remotePort' is missing" },
  { "remoteport-zero", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: 'remotePort' must be a number from 1 to 65535" },
  { "single-quotes", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 3: unexpected character" },
  { "top-level-array", MCR_MAP_FILE_ERROR_INVALID, "the file must hold one JSON object" },
  { "trailing-comma", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 24: expected a member name in double quotes" },
  { "trailing-garbage", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 27: more text follows the end of the JSON value" },
  { "truncated", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line " },
  { "udp-with-app", MCR_MAP_FILE_ERROR_INVALID, "mapping 1: a UDP mapping cannot open an app; 'appId' must be 0" },
  { "username-null", MCR_MAP_FILE_ERROR_INVALID, "'username' is missing" },
  { "utf16-odd", MCR_MAP_FILE_ERROR_SYNTAX, "the file is not valid UTF-16 text" },
  /* What the Windows router writes for a device named Bob's "main" PC, or a
   * user CORP\alice: it does not escape. */
  { "windows-unescaped-backslash", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 3: a string holds an unknown '\\' escape" },
  { "windows-unescaped-quote", MCR_MAP_FILE_ERROR_SYNTAX, "not valid JSON: line 7: expected ',' or '}'" },
};

static void
test_broken (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autofree char *name = g_strconcat (broken[i].file, ".mcrouter", NULL);
      g_autofree char *path = g_build_filename ("broken", name, NULL);
      g_autofree char *prefix = g_strconcat (name, ": ", broken[i].message, NULL);
      g_autoptr(GFile) file = fixture (path);
      g_autoptr(GError) error = NULL;
      g_autoptr(McrMapFile) mf = mcr_map_file_new_from_file (file, NULL, &error);

      g_test_message ("%s: %s", name, error != NULL ? error->message : "(loaded)");
      g_assert_null (mf);
      g_assert_error (error, MCR_MAP_FILE_ERROR, (int) broken[i].code);
      g_assert_true (g_str_has_prefix (error->message, prefix));
    }
}

/* Every file in broken/ is in the table above, and the other way round. */
static void
test_broken_all_listed (void)
{
  g_autoptr(GDir) dir = g_dir_open (g_test_get_filename (G_TEST_DIST, "data", "mcrouter", "broken",
                                                         NULL), 0, NULL);
  const char *entry;
  guint count = 0;

  g_assert_nonnull (dir);
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (broken); i++)
        {
          g_autofree char *name = g_strconcat (broken[i].file, ".mcrouter", NULL);

          found |= g_str_equal (name, entry);
        }
      if (!found)
        g_error ("broken/%s has no expected error in test-map-file.c", entry);
      count++;
    }
  g_assert_cmpuint (count, ==, G_N_ELEMENTS (broken));
}

static void
test_exact_message (void)
{
  g_autoptr(GFile) file = fixture ("broken/mapping-3-bad.mcrouter");
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) mf = mcr_map_file_new_from_file (file, NULL, &error);

  g_assert_null (mf);
  g_assert_cmpstr (error->message, ==,
                   "mapping-3-bad.mcrouter: mapping 3: 'localPort' must be a number from 0 to "
                   "65535");
}

static GString *
file_with_mappings (guint n)
{
  GString *s = g_string_new ("{\"hostname\": \"h.example.com\", \"username\": \"u\", "
                             "\"mappings\": [");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%s{\"nodeId\": \"node//n%u\", \"protocol\": 1, "
                               "\"remotePort\": %u}",
                            i > 0 ? "," : "", i, 1 + i);
  g_string_append (s, "]}");
  return s;
}

static void
test_limits (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) ok = file_with_mappings (MCR_MAP_FILE_MAX_MAPPINGS);
  g_autoptr(GString) many = file_with_mappings (MCR_MAP_FILE_MAX_MAPPINGS + 1);
  g_autoptr(GString) big = g_string_new ("{\"hostname\": \"h.example.com\", \"username\": \"u\", "
                                         "\"padding\": \"");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(McrMapFile) mf = NULL;

  bytes = g_string_free_to_bytes (g_steal_pointer (&ok));
  mf = mcr_map_file_new_from_bytes (bytes, "ok.mcrouter", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mcr_map_file_get_mappings (mf)->len, ==, MCR_MAP_FILE_MAX_MAPPINGS);
  g_clear_object (&mf);
  g_clear_pointer (&bytes, g_bytes_unref);

  bytes = g_string_free_to_bytes (g_steal_pointer (&many));
  mf = mcr_map_file_new_from_bytes (bytes, "many.mcrouter", &error);
  g_assert_null (mf);
  g_assert_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_TOO_BIG);
  g_assert_cmpstr (error->message, ==, "many.mcrouter: too many mappings (1001; at most 1000)");
  g_clear_error (&error);
  g_clear_pointer (&bytes, g_bytes_unref);

  while (big->len <= MCR_MAP_FILE_MAX_SIZE)
    g_string_append (big, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  g_string_append (big, "\"}");
  bytes = g_string_free_to_bytes (g_steal_pointer (&big));
  mf = mcr_map_file_new_from_bytes (bytes, "big.mcrouter", &error);
  g_assert_null (mf);
  g_assert_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_TOO_BIG);
  g_assert_cmpstr (error->message, ==, "big.mcrouter: the file is too big (more than 1024 KiB)");
}

/* The same, read from disk: the reader stops after 1 MiB + 1 byte. */
static void
test_too_big_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("mcr-map-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "huge.mcrouter", NULL);
  g_autofree char *data = g_malloc0 (4 * MCR_MAP_FILE_MAX_SIZE);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) mf = NULL;

  memset (data, ' ', 4 * MCR_MAP_FILE_MAX_SIZE);
  g_assert_true (g_file_set_contents (path, data, 4 * MCR_MAP_FILE_MAX_SIZE, NULL));
  mf = mcr_map_file_new_from_file (file, NULL, &error);
  g_assert_null (mf);
  g_assert_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_TOO_BIG);
  g_assert_true (g_str_has_prefix (error->message, "huge.mcrouter: "));
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_missing_file (void)
{
  g_autoptr(GFile) file = fixture ("no-such-file.mcrouter");
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) mf = mcr_map_file_new_from_file (file, NULL, &error);

  g_assert_null (mf);
  g_assert_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_READ);
  g_assert_true (g_str_has_prefix (error->message, "no-such-file.mcrouter: cannot be read: "));
}

/* Files the Windows router writes come out byte for byte the same. */
static void
test_write_windows_layout (void)
{
  const char *names[] = {
    "windows-basic.mcrouter", "windows-empty.mcrouter", "relay.mcrouter", "udp.mcrouter",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(McrMapFile) mf = load (names[i]);
      g_autoptr(GFile) file = fixture (names[i]);
      g_autoptr(GBytes) expected = g_file_load_bytes (file, NULL, NULL, NULL);
      g_autoptr(GBytes) written = mcr_map_file_to_bytes (mf, MCR_MAP_FILE_SAVE_DEFAULT);
      g_autofree char *e = bytes_to_string (expected);
      g_autofree char *w = bytes_to_string (written);

      g_test_message ("%s", names[i]);
      g_assert_cmpstr (w, ==, e);
    }
}

#define ALL (MCR_MAP_FILE_SAVE_PASSWORD | MCR_MAP_FILE_SAVE_ACTIONS)

static void
test_round_trip (void)
{
  const char *names[] = {
    "windows-basic.mcrouter", "windows-empty.mcrouter", "windows-key-port.mcrouter",
    "windows-after-link.mcrouter", "relay.mcrouter", "udp.mcrouter", "hand-written.mcrouter",
    "unicode.mcrouter", "utf16.mcrouter", "launch-command.mcrouter",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(McrMapFile) mf = load (names[i]);
      g_autoptr(GBytes) written = mcr_map_file_to_bytes (mf, ALL);
      g_autoptr(GError) error = NULL;
      g_autoptr(McrMapFile) again = mcr_map_file_new_from_bytes (written, names[i], &error);
      g_autoptr(GBytes) rewritten = NULL;

      g_test_message ("%s", names[i]);
      g_assert_no_error (error);
      assert_file_equal (mf, again);
      rewritten = mcr_map_file_to_bytes (again, ALL);
      g_assert_true (g_bytes_equal (written, rewritten));
    }
}

/* A map opened from a link or a device's app button asks to launch its app;
 * saved by default, the file would open that app every time it is opened. */
static void
test_actions_not_written (void)
{
  g_autoptr(McrMapFile) mf = load ("hand-written.mcrouter");
  g_autoptr(GBytes) plain = mcr_map_file_to_bytes (mf, MCR_MAP_FILE_SAVE_DEFAULT);
  g_autoptr(GBytes) with = mcr_map_file_to_bytes (mf, MCR_MAP_FILE_SAVE_ACTIONS);
  g_autofree char *p = bytes_to_string (plain);
  g_autofree char *w = bytes_to_string (with);
  g_autoptr(McrMapFile) again = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (mapping (mf, 0)->launch && mapping (mf, 0)->auto_exit);
  g_assert_null (strstr (p, "launch"));
  g_assert_null (strstr (p, "autoExit"));
  g_assert_nonnull (strstr (w, "      \"remotePort\": 22,\r\n      \"autoExit\": true,\r\n"
                               "      \"launch\": 1\r\n    }"));

  again = mcr_map_file_new_from_bytes (plain, "plain.mcrouter", &error);
  g_assert_no_error (error);
  g_assert_false (mapping (again, 0)->launch);
  g_assert_false (mapping (again, 0)->auto_exit);
  g_assert_cmpuint (mapping (again, 0)->local_port, ==, 2200);
}

static McrMapFile *
file_with_tricky_names (void)
{
  g_autoptr(McrMapFile) mf = mcr_map_file_new ();
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();

  mcr_map_file_set_hostname (mf, "meshcentral.example.com");
  mcr_map_file_set_username (mf, "CORP\\alice");
  mcr_map_file_set_password (mf, "pa\"ss\\word");
  spec->node_id = g_strdup (N1);
  spec->node_name = g_strdup ("Bob's \"main\" PC\\share\ttab\001ctl");
  spec->mesh_id = g_strdup (MESH);
  spec->name = g_strdup ("C:\\temp\\new \"file\"\r\n");
  spec->app_name = g_strdup ("my \"app\"");
  spec->remote_port = 5900;
  mcr_map_file_add_mapping (mf, spec);
  return g_steal_pointer (&mf);
}

static void
test_escaping (void)
{
  g_autoptr(McrMapFile) mf = file_with_tricky_names ();
  g_autoptr(GBytes) bytes = mcr_map_file_to_bytes (mf, MCR_MAP_FILE_SAVE_PASSWORD);
  g_autofree char *text = bytes_to_string (bytes);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) again = NULL;

  g_assert_nonnull (strstr (text, "\"username\": \"CORP\\\\alice\""));
  g_assert_nonnull (strstr (text, "\"nodeName\": \"Bob's \\\"main\\\" PC\\\\share\\ttab\\u0001ctl\""));
  g_assert_nonnull (strstr (text, "\"name\": \"C:\\\\temp\\\\new \\\"file\\\"\\r\\n\""));
  g_assert_nonnull (strstr (text, "\"appIdStr\": \"my \\\"app\\\"\""));
  g_assert_nonnull (strstr (text, "\"password\": \"pa\\\"ss\\\\word\""));
  /* Any JSON reader takes it. */
  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);

  again = mcr_map_file_new_from_bytes (bytes, "tricky.mcrouter", &error);
  g_assert_no_error (error);
  assert_file_equal (mf, again);
}

static void
test_password_not_written (void)
{
  g_autoptr(McrMapFile) mf = load ("hand-written.mcrouter");
  g_autoptr(GBytes) plain = mcr_map_file_to_bytes (mf, MCR_MAP_FILE_SAVE_DEFAULT);
  g_autoptr(GBytes) with = mcr_map_file_to_bytes (mf, MCR_MAP_FILE_SAVE_PASSWORD);
  g_autofree char *p = bytes_to_string (plain);
  g_autofree char *w = bytes_to_string (with);
  g_autoptr(McrMapFile) again = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_null (strstr (p, "password"));
  g_assert_null (strstr (p, "s3cret"));
  g_assert_nonnull (strstr (w, "\"password\": \"s3cret \\\"quoted\\\" \\\\ pass\",\r\n"));

  again = mcr_map_file_new_from_bytes (plain, "plain.mcrouter", &error);
  g_assert_no_error (error);
  g_assert_null (mcr_map_file_get_password (again));
}

static guint
file_mode (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
test_save_mode (void)
{
  g_autoptr(McrMapFile) mf = file_with_tricky_names ();
  g_autofree char *dir = g_dir_make_tmp ("mcr-map-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "saved.mcrouter", NULL);
  g_autofree char *old_path = g_build_filename (dir, "old.mcrouter", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) old_file = g_file_new_for_path (old_path);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  mode_t old_umask = umask (0);

  /* A new file, even with an umask that lets everyone read. */
  g_assert_true (mcr_map_file_save (mf, file, MCR_MAP_FILE_SAVE_DEFAULT, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (path), ==, 0600);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_null (strstr (text, "password"));

  /* An existing file readable by everyone. */
  g_assert_true (g_file_set_contents_full (old_path, "{}", -1, G_FILE_SET_CONTENTS_NONE, 0644,
                                           NULL));
  g_assert_cmpuint (file_mode (old_path), ==, 0644);
  g_assert_true (mcr_map_file_save (mf, old_file, MCR_MAP_FILE_SAVE_PASSWORD, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (old_path), ==, 0600);
  umask (old_umask);

  g_unlink (path);
  g_unlink (old_path);
  g_rmdir (dir);
}

static void
test_save_error (void)
{
  g_autoptr(McrMapFile) mf = load ("windows-basic.mcrouter");
  g_autoptr(GFile) file = g_file_new_for_path ("/nonexistent-dir/x/office.mcrouter");
  g_autoptr(GError) error = NULL;

  g_assert_false (mcr_map_file_save (mf, file, MCR_MAP_FILE_SAVE_DEFAULT, NULL, &error));
  g_assert_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_WRITE);
  g_assert_true (g_str_has_prefix (error->message, "office.mcrouter: cannot be written: "));
}

static void
on_result (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  /* A small local file. */
  mcr_test_assert_wait (*slot != NULL, 10000);
  return *slot;
}

static void
test_async (void)
{
  g_autoptr(McrMapFile) mf = load ("unicode.mcrouter");
  g_autofree char *dir = g_dir_make_tmp ("mcr-map-file-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "async.mcrouter", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) broken_file = fixture ("broken/appid-desktop.mcrouter");
  g_autoptr(GAsyncResult) saved = NULL, loaded = NULL, failed = NULL;
  g_autoptr(McrMapFile) again = NULL;
  g_autoptr(GError) error = NULL;

  mcr_map_file_save_async (mf, file, MCR_MAP_FILE_SAVE_DEFAULT, NULL, on_result, &saved);
  g_assert_true (mcr_map_file_save_finish (mf, wait_result (&saved), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (path), ==, 0600);

  mcr_map_file_load_async (file, NULL, on_result, &loaded);
  again = mcr_map_file_load_finish (wait_result (&loaded), &error);
  g_assert_no_error (error);
  assert_file_equal (mf, again);

  mcr_map_file_load_async (broken_file, NULL, on_result, &failed);
  g_assert_null (mcr_map_file_load_finish (wait_result (&failed), &error));
  g_assert_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (error->message, "appid-desktop.mcrouter: mapping 1: "));

  g_unlink (path);
  g_rmdir (dir);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_properties (void)
{
  g_autoptr(McrMapFile) mf = mcr_map_file_new ();
  g_autofree char *host = NULL;
  guint notified = 0;

  g_signal_connect (mf, "notify", G_CALLBACK (count_notify), &notified);
  g_object_set (mf, "hostname", "h.example.com", "username", "u", NULL);
  mcr_map_file_set_hostname (mf, "h.example.com");
  g_assert_cmpuint (notified, ==, 2);
  g_object_get (mf, "hostname", &host, NULL);
  g_assert_cmpstr (host, ==, "h.example.com");
}

static McrMapFile *
file_for (const char *hostname)
{
  McrMapFile *mf = mcr_map_file_new ();

  mcr_map_file_set_hostname (mf, hostname);
  return mf;
}

/* Files for one server: the same host (without case), port and domain; the
 * login key does not count. Unreadable files (NULL) are skipped. */
static void
test_one_server (void)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) with_holes = g_ptr_array_new ();

  g_assert_cmpint (mcr_map_file_find_other_server (files, 0, "mesh.example.com"), ==, -1);

  g_ptr_array_add (files, file_for ("mesh.example.com/sales?key=a"));
  g_ptr_array_add (files, file_for ("MESH.example.com:443/sales"));
  g_ptr_array_add (files, file_for ("mesh.example.com:4443/sales"));
  g_ptr_array_add (files, file_for ("wss://mesh.example.com/sales/control.ashx"));
  g_ptr_array_add (files, file_for ("not a server"));

  g_assert_cmpint (mcr_map_file_find_other_server (files, 0, "mesh.example.com/sales"), ==, 2);
  g_assert_cmpint (mcr_map_file_find_other_server (files, 3, "mesh.example.com/sales"), ==, 4);
  g_assert_cmpint (mcr_map_file_find_other_server (files, 5, "mesh.example.com/sales"), ==, -1);
  g_assert_cmpint (mcr_map_file_find_other_server (files, 9, "mesh.example.com/sales"), ==, -1);
  g_assert_cmpint (mcr_map_file_find_other_server (files, 0, "mesh.example.com"), ==, 0);
  g_assert_cmpint (mcr_map_file_find_other_server (files, 2, "mesh.example.com:4443/sales"),
                   ==, 3);
  /* An address that does not parse names no server. */
  g_assert_cmpint (mcr_map_file_find_other_server (files, 0, "not a server"), ==, 0);
  g_assert_cmpint (mcr_map_file_find_other_server (files, 0, NULL), ==, 0);

  g_ptr_array_add (with_holes, NULL);
  g_ptr_array_add (with_holes, g_ptr_array_index (files, 0));
  g_ptr_array_add (with_holes, NULL);
  g_ptr_array_add (with_holes, g_ptr_array_index (files, 1));
  g_assert_cmpint (mcr_map_file_find_other_server (with_holes, 0, "mesh.example.com/sales"),
                   ==, -1);
  g_ptr_array_add (with_holes, g_ptr_array_index (files, 2));
  g_assert_cmpint (mcr_map_file_find_other_server (with_holes, 0, "mesh.example.com/sales"),
                   ==, 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/map-file/windows/basic", test_windows_basic);
  g_test_add_func ("/map-file/windows/empty", test_windows_empty);
  g_test_add_func ("/map-file/windows/key-port", test_windows_key_port);
  g_test_add_func ("/map-file/windows/after-link", test_windows_after_link);
  g_test_add_func ("/map-file/relay", test_relay);
  g_test_add_func ("/map-file/udp", test_udp);
  g_test_add_func ("/map-file/hand-written", test_hand_written);
  g_test_add_func ("/map-file/name-only", test_name_only);
  g_test_add_func ("/map-file/other-domain", test_other_domain);
  g_test_add_func ("/map-file/unicode", test_unicode);
  g_test_add_func ("/map-file/utf16", test_utf16);
  g_test_add_func ("/map-file/launch-command", test_launch_command);
  g_test_add_func ("/map-file/broken", test_broken);
  g_test_add_func ("/map-file/broken-all-listed", test_broken_all_listed);
  g_test_add_func ("/map-file/exact-message", test_exact_message);
  g_test_add_func ("/map-file/limits", test_limits);
  g_test_add_func ("/map-file/too-big-file", test_too_big_file);
  g_test_add_func ("/map-file/missing-file", test_missing_file);
  g_test_add_func ("/map-file/write/windows-layout", test_write_windows_layout);
  g_test_add_func ("/map-file/write/round-trip", test_round_trip);
  g_test_add_func ("/map-file/write/enabled", test_enabled);
  g_test_add_func ("/map-file/write/escaping", test_escaping);
  g_test_add_func ("/map-file/write/password", test_password_not_written);
  g_test_add_func ("/map-file/write/actions", test_actions_not_written);
  g_test_add_func ("/map-file/write/mode-0600", test_save_mode);
  g_test_add_func ("/map-file/write/error", test_save_error);
  g_test_add_func ("/map-file/async", test_async);
  g_test_add_func ("/map-file/properties", test_properties);
  g_test_add_func ("/map-file/one-server", test_one_server);
  return g_test_run ();
}
