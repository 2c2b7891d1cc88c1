/* SPDX-License-Identifier: Apache-2.0
 *
 * What the built program shows of its secrets, against the real testbed:
 * the password and the second-factor code are gone from its command line
 * (/proc/PID/cmdline) while it runs; the -debug log of a whole session (a
 * password + TOTP login, a map, bytes through it, a login with an
 * mcrouter:// link) is mode 0600 and holds the expected lines but never the
 * password, the code, a cookie or a URL with auth=; a command in the link
 * is not run. Maps listen on loopback only, unless all interfaces are asked
 * for. */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "login-helpers.h"
#include "mcr-port-map.h"
#include "mcr-test-router.h"
#include "relay-test-util.h"

/* The program with @args, its cache in @cache, no display. Its output is
 * not logged: it is what is checked for secrets. */
static McrTestRouter *
router_start (const char  *cache,
              const char **args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    mcr_test_router_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                  NULL);

  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  return mcr_test_router_start (launcher, args, FALSE);
}

static gboolean
map_line_or_exit (gpointer data)
{
  McrTestRouter *r = data;

  return strstr (r->out_text->str, "TCP 127.0.0.1:") != NULL || r->exited;
}

/* The port of the first "TCP 127.0.0.1:PORT -> …" line. */
static guint16
map_port (McrTestRouter *r)
{
  return mcr_test_router_port_of (r, "TCP 127.0.0.1:", "");
}

/* /proc/PID/cmdline, the NULs between arguments made spaces. */
static char *
read_cmdline (McrTestRouter *r)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/cmdline",
                                           g_subprocess_get_identifier (r->process));
  char *text = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  for (gsize i = 0; i < len; i++)
    if (text[i] == '\0')
      text[i] = ' ';
  return text;
}

static void
assert_absent (const char *text,
               const char *what,
               const char *secret)
{
  if (secret != NULL && *secret != '\0' && strstr (text, secret) != NULL)
    g_error ("the %s is in the text under test", what);  /* (not printed: it is a secret) */
}

/* No "auth=" but the redacted one, and no run of cookie characters as long
 * as a MeshCentral cookie (node ids are 70, cookies 100 and more). */
static void
assert_no_cookie_shapes (const char *text)
{
  g_autoptr(GRegex) auth = g_regex_new ("auth(=|%3D)(?!\\(hidden\\))", G_REGEX_CASELESS, 0, NULL);
  g_autoptr(GRegex) cookie = g_regex_new ("[A-Za-z0-9@$+/=_-]{100,}", 0, 0, NULL);

  g_assert_false (g_regex_match (auth, text, 0, NULL));
  g_assert_false (g_regex_match (cookie, text, 0, NULL));
}

static char *
read_debug_log (const char *cache)
{
  g_autofree char *path = g_build_filename (cache, "meshcentral-router", "debug.log", NULL);
  char *text = NULL;
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* rm -r @path (the program's cache also gets dconf's). */
static void
remove_cache (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_cache (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
test_debug_log (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *cache = g_dir_make_tmp ("mcr-secrets-XXXXXX", NULL);
  g_autofree char *password = NULL;
  g_autofree char *user = test_add_user ("rel-secrets", NULL, &password);
  g_autofree char *secret = test_setup_totp (user, password);
  g_autofree char *code = NULL;
  g_autofree char *b64_password = g_base64_encode ((const guchar *) password, strlen (password));
  g_autofree char *mesh = g_strdup (tb->mesh_id + strlen ("mesh//"));
  g_autofree char *out = NULL;
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autofree char *host = g_strconcat ("-host:", tb->address, NULL);
  g_autofree char *user_arg = g_strconcat ("-user:", user, NULL);
  g_autofree char *pass_arg = g_strconcat ("-pass:", password, NULL);
  g_autofree char *token_arg = NULL;
  g_autofree char *hash = g_strconcat ("-certhash:", tb->cert_hash, NULL);
  g_autofree char *map = g_strdup_printf ("-map:TCP:0:%s::%u", tb->node_id, echo);
  g_autofree char *cmdline = NULL;
  g_autofree char *log = NULL;
  g_autoptr(McrTestRouter) r = NULL;

  g_assert_true (mcr_testbed_meshctrl (&out, "AddUserToDeviceGroup", "--id", mesh, "--userid",
                                       user, "--fullrights", NULL));
  /* A fresh code, not the one the setup used (the server takes it again
   * anyway, but a real user would type a new one). */
  code = mcr_test_totp (secret, g_get_real_time () / G_USEC_PER_SEC);
  token_arg = g_strconcat ("-token:", code, NULL);
  {
    const char *args[] = { "--headless", host, user_arg, pass_arg, token_arg, hash, map,
                           "-debug", NULL };

    r = router_start (cache, args);
  }
  g_assert_true (mcr_test_wait_until (map_line_or_exit, r, 60000));
  g_assert_false (r->exited);

  /* While it runs, ps shows neither the password nor the code. */
  cmdline = read_cmdline (r);
  g_test_message ("command line: %s", cmdline);  /* what anybody can see */
  g_assert_nonnull (strstr (cmdline, "-user:"));
  g_assert_nonnull (strstr (cmdline, "-pass:xxx"));
  g_assert_nonnull (strstr (cmdline, "-token:xxxxxx"));
  assert_absent (cmdline, "password", password);
  assert_absent (cmdline, "second-factor code", code);

  test_peer_assert_echo (map_port (r), 64 * 1024, 31);
  g_assert_cmpint (mcr_test_router_stop (r, 20000), ==, 0);

  log = read_debug_log (cache);
  {
    guint lines = 0;

    for (const char *p = log; *p; p++)
      lines += *p == '\n';
    g_test_message ("debug log: %u lines, %zu bytes", lines, strlen (log));
  }
  /* What a debug log is for... */
  g_assert_nonnull (strstr (log, "debug log started"));
  g_assert_nonnull (strstr (log, "connecting (password login)"));
  g_assert_nonnull (strstr (log, "logged in as"));
  g_assert_nonnull (strstr (log, "received authcookie"));
  g_assert_nonnull (strstr (log, "received twoFactorCookie"));
  g_assert_nonnull (strstr (log, "joined"));
  g_assert_nonnull (strstr (log, "new connection from"));
  /* ...and what it must never hold. */
  assert_absent (log, "password", password);
  assert_absent (log, "password in base64", b64_password);
  assert_absent (log, "second-factor code", code);
  assert_absent (log, "TOTP secret", secret);
  assert_absent (log, "testbed's admin password", tb->password);
  assert_no_cookie_shapes (log);
  /* Nor its stderr. */
  assert_absent (r->err_text->str, "password", password);
  assert_absent (r->err_text->str, "second-factor code", code);
  assert_no_cookie_shapes (r->err_text->str);

  test_remove_user (user);
  remove_cache (cache);
}

/* A login with an mcrouter:// link: its cookie stays out of ps and out of
 * the debug log. */
static void
test_debug_log_link (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *cache = g_dir_make_tmp ("mcr-secrets-XXXXXX", NULL);
  g_autofree char *escaped = test_link_cookie (tb);
  g_autofree char *cookie = g_uri_unescape_string (escaped, NULL);
  g_autofree char *link = NULL;
  g_autofree char *cmdline = NULL;
  g_autofree char *log = NULL;
  g_autofree char *script = NULL;
  g_autofree char *script_text = NULL;
  g_autofree char *escaped_script = NULL;
  g_autofree char *marker = NULL;
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(McrTestRouter) r = NULL;

  /* With a command in launch= and name=: --headless opens no apps, and
   * nothing from a link is ever run. */
  script = g_build_filename (cache, "run-me.sh", NULL);
  marker = g_build_filename (cache, "ran", NULL);
  script_text = g_strdup_printf ("#!/bin/sh\ntouch '%s'\n", marker);
  g_assert_true (g_file_set_contents (script, script_text, -1, NULL));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  escaped_script = g_uri_escape_string (script, NULL, FALSE);
  link = g_strdup_printf ("mcrouter://%s/control.ashx?c=%s&t=%s&l=en&nodeid=%s&remoteport=%u"
                          "&protocol=1&appid=0&localport=0&launch=%s&name=%s", tb->address,
                          escaped, tb->cert_hash, tb->node_id, echo, escaped_script,
                          escaped_script);
  {
    const char *args[] = { "--headless", link, "-debug", NULL };

    r = router_start (cache, args);
  }
  g_assert_true (mcr_test_wait_until (map_line_or_exit, r, 60000));
  g_assert_false (r->exited);
  cmdline = read_cmdline (r);
  assert_absent (cmdline, "link's cookie", cookie);
  assert_absent (cmdline, "link's cookie (escaped)", escaped);
  test_peer_assert_echo (map_port (r), 64 * 1024, 31);
  g_assert_cmpint (mcr_test_router_stop (r, 20000), ==, 0);

  log = read_debug_log (cache);
  g_assert_nonnull (strstr (log, "connecting (cookie login)"));
  g_assert_nonnull (strstr (log, "joined"));
  assert_absent (log, "link's cookie", cookie);
  assert_absent (log, "link's cookie (escaped)", escaped);
  assert_no_cookie_shapes (log);
  assert_absent (r->err_text->str, "link's cookie", cookie);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  remove_cache (cache);
}

/* ---- loopback ---- */

/* Whether something accepts a TCP connection on @address:@port. */
static gboolean
accepts (const char *address,
         guint16     port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  g_socket_client_set_timeout (client, 5);
  connection = g_socket_client_connect_to_host (client, address, port, NULL, &error);
  if (connection == NULL)
    g_test_message ("%s:%u: %s", address, port, error->message);
  return connection != NULL;
}

/* The local address of the listening TCP socket on @port, as
 * /proc/net/tcp has it ("0100007F" is 127.0.0.1). */
static char *
listening_address (guint16 port)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *want = g_strdup_printf (":%04X", port);

  g_assert_true (g_file_get_contents ("/proc/net/tcp", &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++)
    {
      g_auto(GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
      g_autoptr(GPtrArray) fields = g_ptr_array_new ();

      for (guint j = 0; f[j]; j++)
        if (*f[j] != '\0')
          g_ptr_array_add (fields, f[j]);
      /* sl local_address rem_address st …; st 0A = LISTEN */
      if (fields->len > 3 && g_str_has_suffix (g_ptr_array_index (fields, 1), want) &&
          g_str_equal (g_ptr_array_index (fields, 3), "0A"))
        return g_strndup (g_ptr_array_index (fields, 1), 8);
    }
  return NULL;
}

static void
test_loopback (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(McrPortMap) map = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *addr = NULL;
  guint16 port;

  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_true (test_wait_devices_loaded (server, 30000));
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = 9;
  map = mcr_port_map_new (server, spec);

  /* By default: 127.0.0.1 only (127.0.0.2 is loopback too, but not bound). */
  g_assert_true (mcr_port_map_start (map, FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (mcr_port_map_get_all_interfaces (map));
  port = mcr_port_map_get_local_port (map);
  addr = listening_address (port);
  g_assert_cmpstr (addr, ==, "0100007F");
  g_assert_true (accepts ("127.0.0.1", port));
  g_assert_false (accepts ("127.0.0.2", port));
  mcr_port_map_stop (map);
  g_clear_pointer (&addr, g_free);

  /* Asked for: every interface, and the map says so (the UI shows it). Only
   * for a moment, and only connected to over loopback. */
  g_assert_true (mcr_port_map_start (map, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (mcr_port_map_get_all_interfaces (map));
  port = mcr_port_map_get_local_port (map);
  addr = listening_address (port);
  g_assert_cmpstr (addr, ==, "00000000");
  g_assert_true (accepts ("127.0.0.2", port));
  mcr_port_map_stop (map);
  mcr_server_logout (server);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();

  g_test_add_func ("/secrets/debug-log-and-cmdline", test_debug_log);
  g_test_add_func ("/secrets/debug-log-link", test_debug_log_link);
  g_test_add_func ("/secrets/loopback", test_loopback);
  return g_test_run ();
}
