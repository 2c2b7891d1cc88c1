/* SPDX-License-Identifier: Apache-2.0
 *
 * meshcentral-router --headless with .mcrouter files and mcrouter:// links,
 * the built program against the real testbed: a file names the server, the
 * account and the certificate, its maps carry bytes exactly (matched by
 * nodeId, or by nodeName in a file without it); the command line completes
 * or overrides it; a broken file or files for two servers stop the run
 * before any login. A link logs in with a real cookie (the server's
 * authcookie) and its t= hash, without a password or -ignorecert, and its
 * automatic map works; with autoexit=1 the run ends once the connection
 * through that map has ended (and the grace period is over). */
#include <glib/gstdio.h>
#include <string.h>

#include "login-helpers.h"
#include "mcr-test-router.h"
#include "relay-test-util.h"

static char *work_dir;

/* ---- the program ----------------------------------------------------------- */

/* meshcentral-router ARGS…, MCROUTER_PASSWORD unset. */
static McrTestRouter *
router_start (const char **args)
{
  return mcr_test_router_start_piped (args, NULL);
}

/* The local port of the stdout line that ends with @suffix. */
static guint16
port_of (McrTestRouter *r,
         const char    *suffix)
{
  return mcr_test_router_port_of (r, "TCP 127.0.0.1:", suffix);
}

/* ---- files and links -------------------------------------------------------- */

/* A file as the Windows router writes it (CRLF, its key order), plus
 * @extra_top at the top level and @extra_mapping as more mappings. */
static char *
lab_file (const char *name,
          const char *hostname,
          const char *username,
          const char *extra_top,
          guint16     remote_port,
          const char *extra_mapping)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *text =
    g_strdup_printf ("{\r\n  \"hostname\": \"%s\",\r\n  \"username\": \"%s\",\r\n%s"
                     "  \"certhash\": \"%s\",\r\n  \"mappings\":[\r\n    {\r\n"
                     "      \"nodeName\": \"%s\",\r\n      \"meshId\": \"%s\",\r\n"
                     "      \"nodeId\": \"%s\",\r\n      \"appId\": 0,\r\n"
                     "      \"protocol\": 1,\r\n      \"localPort\": 0,\r\n"
                     "      \"remotePort\": %u\r\n    }%s\r\n  ]\r\n}",
                     hostname, username, extra_top ? extra_top : "", tb->cert_hash,
                     tb->node_name, tb->mesh_id, tb->node_id, remote_port,
                     extra_mapping ? extra_mapping : "");

  return mcr_test_write_file (work_dir, name, text);
}

/* ---- tests -------------------------------------------------------------------- */

/* The file names server, user and certificate; -pass: gives the password.
 * Its maps (by nodeId, and by nodeName where a hand-written file has no
 * nodeId, here a relay map) carry bytes exactly; a mapping whose device is
 * not there is reported by name while the others run. */
static void
test_file_maps (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_echo_server_start (NULL);
  guint16 echo2 = mcr_test_echo_server_start ("127.0.0.2");
  g_autofree char *more =
    g_strdup_printf (",\r\n    {\r\n      \"nodeName\": \"%s\",\r\n      \"appId\": 1,\r\n"
                     "      \"protocol\": 1,\r\n      \"localPort\": 0,\r\n"
                     "      \"remoteIP\": \"127.0.0.2\",\r\n      \"remotePort\": %u\r\n    },\r\n"
                     "    {\r\n      \"nodeName\": \"gone-pc\",\r\n"
                     "      \"nodeId\": \"node//no-such-device\",\r\n      \"appId\": 3,\r\n"
                     "      \"protocol\": 1,\r\n      \"localPort\": 0,\r\n"
                     "      \"remotePort\": 3389\r\n    }",
                     tb->node_name, echo2);
  g_autofree char *path = lab_file ("office.mcrouter", tb->address, tb->user, NULL, echo, more);
  g_autofree char *pass = g_strconcat ("-pass:", tb->password, NULL);
  const char *args[] = { "--headless", path, pass, NULL };
  g_autoptr(McrTestRouter) r = router_start (args);
  g_autofree char *want = g_strdup_printf (" -> %s:%u", tb->node_name, echo);
  g_autofree char *want2 = g_strdup_printf (" -> %s -> 127.0.0.2:%u", tb->node_name, echo2);

  mcr_test_router_wait_lines (r, 2);
  test_peer_assert_echo (port_of (r, want), 4 * 1024 * 1024, 31);
  test_peer_assert_echo (port_of (r, want2), 1024 * 1024, 32);
  g_assert_nonnull (strstr (r->err_text->str, "There is no device “gone-pc”"));
  g_assert_cmpint (mcr_test_router_stop (r, 15000), ==, 0);
  g_unlink (path);
}

/* A password saved in the file logs in; -user: overrides the file's user
 * name, and -host: its server (here the same server by another name). */
static void
test_file_password_and_override (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autofree char *top = g_strdup_printf ("  \"password\": \"%s\",\r\n", tb->password);
  g_autofree char *other = g_strdup_printf ("elsewhere.invalid:%u", tb->port);
  g_autofree char *path = lab_file ("saved.mcrouter", other, "nobody", top, echo, NULL);
  g_autofree char *host = g_strdup_printf ("-host:localhost:%u", tb->port);
  g_autofree char *user = g_strconcat ("-user:", tb->user, NULL);
  const char *args[] = { "--headless", host, user, path, NULL };
  g_autoptr(McrTestRouter) r = router_start (args);
  g_autofree char *want = g_strdup_printf (" -> %s:%u", tb->node_name, echo);

  mcr_test_router_wait_lines (r, 1);
  test_peer_assert_echo (port_of (r, want), 64 * 1024, 33);
  g_assert_cmpint (mcr_test_router_stop (r, 15000), ==, 0);
  g_unlink (path);
}

/* A broken file is refused with its name and the problem, before any login
 * (the server given would not even answer), whatever else is given. */
static void
test_broken_file (void)
{
  g_autofree char *good = lab_file ("good.mcrouter", "127.0.0.1:1", "u", NULL, 22, NULL);
  g_autofree char *bad =
    mcr_test_write_file (work_dir, "bad.mcrouter",
                         "{\"hostname\": \"h.example.com\", \"username\": \"u\", "
                         "\"mappings\": [{\"nodeId\": \"node//x\", \"protocol\": 1, "
                         "\"localPort\": 99999, \"remotePort\": 22}]}");
  g_autofree char *missing = g_build_filename (work_dir, "missing.mcrouter", NULL);
  const char *args[] = { "--headless", good, bad, "-pass:x", NULL };
  const char *args2[] = { "--headless", missing, "-pass:x", NULL };
  g_autoptr(McrTestRouter) r = router_start (args);
  g_autoptr(McrTestRouter) r2 = NULL;

  g_assert_cmpint (mcr_test_router_wait (r, 10000), ==, 2);
  g_assert_cmpuint (r->out_lines->len, ==, 0);
  g_assert_cmpstr (r->err_text->str, ==,
                   "meshcentral-router: bad.mcrouter: mapping 1: 'localPort' must be a number "
                   "from 0 to 65535\n");

  r2 = router_start (args2);
  g_assert_cmpint (mcr_test_router_wait (r2, 10000), ==, 2);
  g_assert_nonnull (strstr (r2->err_text->str, "missing.mcrouter: cannot be read"));
  g_unlink (good);
  g_unlink (bad);
}

/* Files for two servers: refused, naming both; nothing is logged into. */
static void
test_two_servers (void)
{
  g_autofree char *a = lab_file ("a.mcrouter", "mesh-a.example.com", "u", NULL, 22, NULL);
  g_autofree char *b = lab_file ("b.mcrouter", "mesh-b.example.com:4443", "u", NULL, 22, NULL);
  const char *args[] = { "--headless", a, b, "-pass:x", NULL };
  g_autoptr(McrTestRouter) r = router_start (args);

  g_assert_cmpint (mcr_test_router_wait (r, 10000), ==, 2);
  g_assert_nonnull (strstr (r->err_text->str,
                            "b.mcrouter is for the server mesh-b.example.com:4443, but "
                            "a.mcrouter names mesh-a.example.com: give files for one server "
                            "only"));
  g_unlink (a);
  g_unlink (b);
}

/* The web UI's link with an automatic relay map: a real cookie and the
 * server's hash, no password, no -ignorecert, no -certhash. The map listens
 * on the link's local port and carries bytes exactly; a -map: beside it
 * whose device is not there is reported by name. */
static void
test_link_map (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo2 = mcr_test_echo_server_start ("127.0.0.2");
  guint16 local = mcr_test_unused_port (NULL);
  g_autofree char *cookie = test_link_cookie (tb);
  g_autofree char *node = g_uri_escape_string (tb->node_id, NULL, FALSE);
  g_autofree char *link =
    g_strdup_printf ("mcrouter://%s/control.ashx?c=%s&t=%s&l=en&nodeid=%s&protocol=1"
                     "&remoteport=%u&remoteip=127.0.0.2&localport=%u&name=Echo%%20box&appid=0",
                     tb->address, cookie, tb->cert_hash, node, echo2, local);
  guint16 echo = mcr_test_echo_server_start (NULL);
  /* A file for the same server beside it: its maps start too, and its user
   * (who has no password here) does not matter, the link logs in. */
  g_autofree char *path = lab_file ("beside.mcrouter", tb->address, "nobody", NULL, echo, NULL);
  const char *args[] = { "--headless", link, "-map:TCP:0:no-such-pc::22", path, NULL };
  g_autoptr(McrTestRouter) r = router_start (args);
  g_autofree char *want = g_strdup_printf ("TCP 127.0.0.1:%u -> %s -> 127.0.0.2:%u", local,
                                           tb->node_name, echo2);
  g_autofree char *want_file = g_strdup_printf (" -> %s:%u", tb->node_name, echo);

  mcr_test_router_wait_lines (r, 2);
  g_assert_cmpstr (g_ptr_array_index (r->out_lines, 1), ==, want);
  test_peer_assert_echo (local, 2 * 1024 * 1024, 34);
  test_peer_assert_echo (port_of (r, want_file), 64 * 1024, 36);
  g_unlink (path);
  g_assert_nonnull (strstr (r->err_text->str, "There is no device “no-such-pc”"));
  /* Not an autoexit link: it runs on after the connection. */
  g_assert_false (r->exited);
  g_assert_cmpint (mcr_test_router_stop (r, 15000), ==, 0);
}

static gboolean
router_exited (gpointer data)
{
  return ((McrTestRouter *) data)->exited;
}

/* autoexit=1: it waits for the first connection however long it takes, and
 * quits with status 0 once that connection has ended. */
static void
test_link_autoexit (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autofree char *cookie = test_link_cookie (tb);
  g_autofree char *link =
    g_strdup_printf ("mcrouter://%s/control.ashx?c=%s&t=%s&nodeid=%s&protocol=1"
                     "&remoteport=%u&appid=0&autoexit=1",
                     tb->address, cookie, tb->cert_hash, tb->node_id, echo);
  const char *args[] = { "--headless", link, NULL };
  g_autoptr(McrTestRouter) r = router_start (args);
  g_autofree char *want = g_strdup_printf (" -> %s:%u", tb->node_name, echo);
  g_autofree char *named = g_strdup_printf ("-map:TCP:0:\"%s\"::%u: its connection ended",
                                            tb->node_name, echo);
  guint16 port;
  gint64 closed, took;

  mcr_test_router_wait_lines (r, 1);
  port = port_of (r, want);
  g_assert_false (mcr_test_wait_until (router_exited, r, 2000));

  test_peer_assert_echo (port, 256 * 1024, 35);   /* the connection is closed after it */
  closed = g_get_monotonic_time ();
  g_assert_cmpint (mcr_test_router_wait (r, 30000), ==, 0);
  took = g_get_monotonic_time () - closed;
  g_test_message ("autoexit: the run ended %.2f s after the connection closed",
                  (double) took / G_USEC_PER_SEC);
  /* The grace period (3 s) and no more: a full close ends the tunnel at
   * once (before, the half-close timeout added 5 s). Loose for a busy
   * machine. */
  g_assert_cmpint (took, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (took, <, 5 * G_USEC_PER_SEC);
  g_assert_nonnull (strstr (r->err_text->str, "quitting (autoexit)"));
  /* The message names the device by its name, not by its node id. */
  g_assert_nonnull (strstr (r->err_text->str, named));
  g_assert_null (strstr (r->err_text->str, tb->node_id));
}

/* A malformed link is refused, saying what is wrong, and never shows the
 * cookie. */
static void
test_bad_link (void)
{
  const char *args[] = { "--headless",
                         "mcrouter://h.example.com/control.ashx?c=SECRETCOOKIE&protocol=1", NULL };
  g_autoptr(McrTestRouter) r = router_start (args);

  g_assert_cmpint (mcr_test_router_wait (r, 10000), ==, 2);
  g_assert_nonnull (strstr (r->err_text->str, "Invalid mcrouter:// link: 'nodeid' is missing"));
  g_assert_null (strstr (r->err_text->str, "SECRETCOOKIE"));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();
  work_dir = g_dir_make_tmp ("mcr-headless-files-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/headless-files/file-maps", test_file_maps);
  g_test_add_func ("/headless-files/password-and-override", test_file_password_and_override);
  g_test_add_func ("/headless-files/broken-file", test_broken_file);
  g_test_add_func ("/headless-files/two-servers", test_two_servers);
  g_test_add_func ("/headless-files/link-map", test_link_map);
  g_test_add_func ("/headless-files/link-autoexit", test_link_autoexit);
  g_test_add_func ("/headless-files/bad-link", test_bad_link);
  status = g_test_run ();

  g_rmdir (work_dir);
  g_free (work_dir);
  return status;
}
