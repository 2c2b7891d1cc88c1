/* SPDX-License-Identifier: Apache-2.0
 *
 * meshcentral-router --headless with -map: and -relaymap:, the built program
 * against the real testbed: it prints each map's real port, carries bytes
 * through it exactly, reports a device it cannot find by name while the
 * other maps run, and stops cleanly on SIGTERM. */
#include <signal.h>
#include <string.h>

#include "relay-test-util.h"

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *out;
  GDataInputStream *err;
  GPtrArray        *out_lines;
  GString          *err_text;
  gboolean          out_eof;
  gboolean          err_eof;
  gboolean          exited;
} Router;

static void read_next (Router *r, gboolean err);

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Router *r = user_data;
  gboolean err = G_DATA_INPUT_STREAM (source) == r->err;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, NULL);

  if (line == NULL)
    {
      if (err)
        r->err_eof = TRUE;
      else
        r->out_eof = TRUE;
      return;
    }
  g_test_message ("%s: %s", err ? "stderr" : "stdout", line);
  if (err)
    g_string_append_printf (r->err_text, "%s\n", line);
  else
    g_ptr_array_add (r->out_lines, g_steal_pointer (&line));
  read_next (r, err);
}

static void
read_next (Router   *r,
           gboolean  err)
{
  g_data_input_stream_read_line_async (err ? r->err : r->out, G_PRIORITY_DEFAULT, NULL, on_line,
                                       r);
}

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Router *r = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  r->exited = TRUE;
}

static Router *
router_start (const char **maps)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  Router *r = g_new0 (Router, 1);

  g_ptr_array_add (argv, g_build_filename (MCR_BUILD_ROOT, "src", "meshcentral-router", NULL));
  g_ptr_array_add (argv, g_strdup ("--headless"));
  g_ptr_array_add (argv, g_strconcat ("-host:", tb->address, NULL));
  g_ptr_array_add (argv, g_strconcat ("-user:", tb->user, NULL));
  g_ptr_array_add (argv, g_strconcat ("-certhash:", tb->cert_hash, NULL));
  for (guint i = 0; maps[i]; i++)
    g_ptr_array_add (argv, g_strdup (maps[i]));
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_setenv (launcher, "MCROUTER_PASSWORD", tb->password, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "DISPLAY");
  g_subprocess_launcher_unsetenv (launcher, "WAYLAND_DISPLAY");
  r->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  r->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (r->process));
  r->err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (r->process));
  r->out_lines = g_ptr_array_new_with_free_func (g_free);
  r->err_text = g_string_new (NULL);
  read_next (r, FALSE);
  read_next (r, TRUE);
  g_subprocess_wait_async (r->process, NULL, on_exited, r);
  return r;
}

static void
router_free (Router *r)
{
  if (!r->exited)
    {
      g_subprocess_force_exit (r->process);
      while (!r->exited)
        g_main_context_iteration (NULL, TRUE);
    }
  while (!r->out_eof || !r->err_eof)
    g_main_context_iteration (NULL, TRUE);
  g_object_unref (r->out);
  g_object_unref (r->err);
  g_object_unref (r->process);
  g_ptr_array_unref (r->out_lines);
  g_string_free (r->err_text, TRUE);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Router, router_free)

static gboolean
has_lines (gpointer data)
{
  Router *r = data;

  return r->out_lines->len >= 2 || r->exited;
}

/* The port of the stdout line that starts with @prefix and ends with
 * @suffix. */
static guint16
port_of (Router     *r,
         const char *prefix,
         const char *suffix)
{
  for (guint i = 0; i < r->out_lines->len; i++)
    {
      const char *line = g_ptr_array_index (r->out_lines, i);

      if (g_str_has_prefix (line, prefix) && g_str_has_suffix (line, suffix))
        return (guint16) g_ascii_strtoull (line + strlen (prefix), NULL, 10);
    }
  return 0;
}

static gboolean
echoed (gpointer data)
{
  TestPeer *peer = data;

  return peer->error != NULL || (peer->sent == peer->to_send && peer->received >= peer->to_send);
}

static gboolean
reported (gpointer data)
{
  Router *r = data;

  return strstr (r->err_text->str, "no-such-device") != NULL || r->exited;
}

static void
test_headless_maps (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_echo_server_start (NULL);
  guint16 echo2 = mcr_test_echo_server_start ("127.0.0.2");
  g_autofree char *upper = g_ascii_strup (tb->node_name, -1);
  g_autofree char *map = g_strdup_printf ("-map:TCP:0:%s::%u", upper, echo);
  g_autofree char *relay = g_strdup_printf ("-relaymap:TCP:0:%s:HTTP:127.0.0.2:%u", tb->node_id,
                                            echo2);
  g_autofree char *missing = g_strdup_printf ("-map:TCP:0:no-such-device::%u", echo);
  g_autofree char *want_map = g_strdup_printf (" -> %s:%u", tb->node_name, echo);
  g_autofree char *want_relay = g_strdup_printf (" -> %s -> 127.0.0.2:%u", tb->node_name, echo2);
  const char *maps[] = { map, missing, relay, NULL };
  g_autoptr(Router) r = router_start (maps);
  g_autoptr(TestPeer) peer = NULL;
  g_autoptr(TestPeer) peer2 = NULL;
  guint16 port, port2;

  g_assert_true (mcr_test_wait_until (has_lines, r, 60000));
  g_assert_false (r->exited);
  port = port_of (r, "TCP 127.0.0.1:", want_map);
  port2 = port_of (r, "TCP 127.0.0.1:", want_relay);
  g_assert_cmpuint (port, >, 0);
  g_assert_cmpuint (port2, >, 0);
  g_assert_true (mcr_test_wait_until (reported, r, 10000));
  g_assert_nonnull (strstr (r->err_text->str, "There is no device"));

  peer = test_peer_connect (port, 8 * 1024 * 1024, 21);
  peer2 = test_peer_connect (port2, 1024 * 1024, 22);
  g_assert_true (mcr_test_wait_until (echoed, peer, 60000));
  g_assert_true (mcr_test_wait_until (echoed, peer2, 60000));
  g_assert_no_error (peer->error);
  g_assert_true (test_peer_echo_matches (peer));
  g_assert_true (test_peer_echo_matches (peer2));

  g_subprocess_send_signal (r->process, SIGTERM);
  g_assert_true (mcr_test_wait_flag (&r->exited, 15000));
  g_assert_true (g_subprocess_get_if_exited (r->process));
  g_assert_cmpint (g_subprocess_get_exit_status (r->process), ==, 0);
}

/* A far port nothing listens on: one plain line on stderr. */
static void
test_headless_failure_line (void)
{
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                       G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) got = NULL;
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *refused = NULL;
  g_autofree char *ok = NULL;
  g_autofree char *text = NULL;
  g_autofree char *suffix = NULL;
  const char *maps[3];
  g_autoptr(Router) r = NULL;
  g_autoptr(TestPeer) peer = NULL;
  guint16 closed_port, port;

  g_assert_true (g_socket_bind (s, want, FALSE, NULL));
  got = g_socket_get_local_address (s, NULL);
  closed_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
  refused = g_strdup_printf ("-map:TCP:0:%s::%u", tb->node_name, closed_port);
  ok = g_strdup_printf ("-map:TCP:0:%s::%u", tb->node_name, echo);
  maps[0] = refused, maps[1] = ok, maps[2] = NULL;
  r = router_start (maps);
  g_assert_true (mcr_test_wait_until (has_lines, r, 60000));
  suffix = g_strdup_printf (":%u", closed_port);
  port = port_of (r, "TCP 127.0.0.1:", suffix);
  g_assert_cmpuint (port, >, 0);
  peer = test_peer_connect (port, 10, 23);
  text = g_strdup_printf ("is anything listening on port %u?", closed_port);
  while (strstr (r->err_text->str, text) == NULL && !r->exited)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (r->exited);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();

  g_test_add_func ("/headless/maps", test_headless_maps);
  g_test_add_func ("/headless/failure-line", test_headless_failure_line);
  return g_test_run ();
}
