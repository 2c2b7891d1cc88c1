/* SPDX-License-Identifier: Apache-2.0
 *
 * The log writer's redaction, and the -debug file: what must never reach a
 * log, in the shapes it could take there. */
#define G_LOG_DOMAIN "mcr-log-test"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcr-device.h"
#include "mcr-enums.h"
#include "mcr-log.h"
#include "mcr-port-map.h"
#include "mcr-server.h"
#include "mcr-tunnel.h"
#include "mcr-websocket.h"

typedef struct
{
  const char *in;
  const char *out;
} Case;

static const Case cases[] = {
  /* Relay URLs and other queries. */
  { "connecting to wss://h:443/meshrelay.ashx?nodeid=node//x&tcpport=22&auth=AbC$@xyz=&x=1",
    "connecting to wss://h:443/meshrelay.ashx?nodeid=node//x&tcpport=22&auth=(hidden)&x=1" },
  { "GET /control.ashx?auth=COOKIE HTTP/1.1", "GET /control.ashx?auth=(hidden) HTTP/1.1" },
  { "GET /control.ashx?key=LOGINKEY&auth=C", "GET /control.ashx?key=(hidden)&auth=(hidden)" },
  { "escaped: next=%2Fcontrol.ashx%3Fauth%3DCOOKIE%26x", "escaped: next=%2Fcontrol.ashx%3Fauth%3D(hidden)" },
  { "AUTH=Upper", "AUTH=(hidden)" },
  /* Headers. */
  { "x-meshauth: YWRtaW4=,cGFzcw==,dG9rZW4=", "x-meshauth: (hidden)" },
  { "> X-MeshAuth: YWRtaW4=,cGFzcw==\r\n> Host: h", "> X-MeshAuth: (hidden)\r\n> Host: h" },
  { "Authorization: Basic dXNlcjpwYXNz", "Authorization: (hidden)" },
  { "Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: (hidden)" },
  { "Cookie: a=1; b=2", "Cookie: (hidden)" },
  { "Set-Cookie: xid=1; path=/", "Set-Cookie: (hidden)" },
  /* JSON members. */
  { "{\"action\":\"authcookie\",\"cookie\":\"C1\",\"rcookie\":\"R1\"}",
    "{\"action\":\"authcookie\",\"cookie\":(hidden),\"rcookie\":(hidden)}" },
  { "{\"password\": \"p \\\" w\", \"user\":\"bob\"}", "{\"password\": (hidden), \"user\":\"bob\"}" },
  { "{\"otpsecret\":\"JBSWY3DP\"}", "{\"otpsecret\":(hidden)}" },
  { "{\"action\":\"twoFactorCookie\",\"cookie\":\"T\"}", "{\"action\":\"twoFactorCookie\",\"cookie\":(hidden)}" },
  /* Arguments and assignments. */
  { "-pass:hunter2 -user:bob", "-pass:(hidden) -user:bob" },
  { "-token:123456", "-token:(hidden)" },
  { "password=a&b", "password=(hidden)&b" },
  { "MCROUTER_PASSWORD=secret", "MCROUTER_PASSWORD=(hidden)" },
  { "token='x y'", "token=(hidden)" },
  /* Links. */
  { "open mcrouter://h:443/control.ashx?c=COOKIE&t=HASH&l=en now",
    "open mcrouter://h:443/control.ashx?(hidden) now" },
  /* What stays: ordinary messages, names that only contain the words. */
  { "127.0.0.1:4443: connecting (password login)", "127.0.0.1:4443: connecting (password login)" },
  { "received authcookie", "received authcookie" },
  { "tunnel from 127.0.0.1:5000 joined", "tunnel from 127.0.0.1:5000 joined" },
  { "author: Ylian", "author: Ylian" },
  { "twoFactorCookieDays: 30", "twoFactorCookieDays: 30" },
  { "", "" },
};

static void
test_redact (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = mcr_log_redact (cases[i].in);
      g_autofree char *again = mcr_log_redact (out);

      g_assert_cmpstr (out, ==, cases[i].out);
      /* Twice is once. */
      g_assert_cmpstr (again, ==, out);
    }
}

static void
test_redact_not_utf8 (void)
{
  g_autofree char *out = mcr_log_redact ("auth=\xff\xfeX&y=1");

  g_assert_true (g_utf8_validate (out, -1, NULL));
  g_assert_null (strstr (out, "X&"));
  g_assert_nonnull (strstr (out, "y=1"));
}

/* The file: 0600 in a 0700 folder, every message redacted, debug ones
 * included; never through a symbolic link. */
static void
test_debug_file (void)
{
  g_autofree char *cache = g_dir_make_tmp ("mcr-log-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename (cache, "meshcentral-router", NULL);
  g_autofree char *path = g_build_filename (dir, "debug.log", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_assert_true (mcr_log_open_debug_file (&error));
  g_assert_no_error (error);
  g_assert_cmpstr (mcr_log_get_debug_file_path (), ==, path);
  g_debug ("relay wss://h/meshrelay.ashx?auth=SECRET1&tcpport=1");
  g_message ("x-meshauth: SECRET2");
  g_log ("other-library", G_LOG_LEVEL_DEBUG, "{\"cookie\":\"SECRET3\"}");
  mcr_log_close_debug_file ();
  g_assert_null (mcr_log_get_debug_file_path ());

  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "debug log started"));
  g_assert_nonnull (strstr (text, "DEBUG mcr-log-test: relay wss://h/meshrelay.ashx?auth=(hidden)&tcpport=1"));
  g_assert_nonnull (strstr (text, "MESSAGE mcr-log-test: x-meshauth: (hidden)"));
  g_assert_nonnull (strstr (text, "DEBUG other-library: {\"cookie\":(hidden)}"));
  g_assert_null (strstr (text, "SECRET"));

  /* A file that was there with another mode is emptied and made 0600. */
  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
  g_assert_true (mcr_log_open_debug_file (&error));
  mcr_log_close_debug_file ();
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_null (strstr (text, "SECRET"));

  /* A symbolic link in its place is not followed. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  {
    g_autofree char *target = g_build_filename (cache, "elsewhere", NULL);

    g_assert_cmpint (symlink (target, path), ==, 0);
    g_assert_false (mcr_log_open_debug_file (&error));
    g_assert_nonnull (error);
    g_test_message ("%s", error->message);
    g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
    g_unlink (path);
  }
  g_rmdir (dir);
  g_rmdir (cache);
}

/* Logs name states by their enum value nicks; a value outside the enum is
 * "unknown". */
static void
test_enum_nick (void)
{
  g_assert_cmpstr (mcr_enum_nick (MCR_TYPE_SERVER_STATE, MCR_SERVER_STATE_RECONNECTING), ==,
                   "reconnecting");
  g_assert_cmpstr (mcr_enum_nick (MCR_TYPE_PORT_MAP_STATE, MCR_PORT_MAP_STATE_WAITING), ==,
                   "waiting");
  g_assert_cmpstr (mcr_enum_nick (MCR_TYPE_WEBSOCKET_STATE, MCR_WEBSOCKET_STATE_CLOSING), ==,
                   "closing");
  g_assert_cmpstr (mcr_enum_nick (MCR_TYPE_GROUP_TYPE, MCR_GROUP_TYPE_AGENTLESS), ==, "agentless");
  g_assert_cmpstr (mcr_enum_nick (MCR_TYPE_TUNNEL_STATE, 99), ==, "unknown");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Debug messages go to stdout by default, where TAP expects only TAP. */
  g_log_writer_default_set_use_stderr (TRUE);
  mcr_log_init ();

  g_test_add_func ("/log/redact", test_redact);
  g_test_add_func ("/log/redact-not-utf8", test_redact_not_utf8);
  g_test_add_func ("/log/debug-file", test_debug_file);
  g_test_add_func ("/log/enum-nick", test_enum_nick);
  return g_test_run ();
}
