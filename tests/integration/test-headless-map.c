/* SPDX-License-Identifier: Apache-2.0
 *
 * meshcentral-router --headless with -map: and -relaymap:, the built program
 * against the real testbed: it prints each map's real port, carries bytes
 * through it exactly, reports a device it cannot find by name while the
 * other maps run, and stops cleanly on SIGTERM. */
#include <string.h>

#include "mcr-test-router.h"
#include "relay-test-util.h"

/* meshcentral-router --headless, logged into the testbed, with @maps. */
static McrTestRouter *
router_start (const char **maps)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GSubprocessLauncher) launcher =
    mcr_test_router_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                  tb->password);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup ("--headless"));
  g_ptr_array_add (argv, g_strconcat ("-host:", tb->address, NULL));
  g_ptr_array_add (argv, g_strconcat ("-user:", tb->user, NULL));
  g_ptr_array_add (argv, g_strconcat ("-certhash:", tb->cert_hash, NULL));
  for (guint i = 0; maps[i]; i++)
    g_ptr_array_add (argv, g_strdup (maps[i]));
  g_ptr_array_add (argv, NULL);
  return mcr_test_router_start (launcher, (const char *const *) argv->pdata, TRUE);
}

static gboolean
reported (gpointer data)
{
  McrTestRouter *r = data;

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
  g_autoptr(McrTestRouter) r = router_start (maps);
  g_autoptr(TestPeer) peer = NULL;
  g_autoptr(TestPeer) peer2 = NULL;
  guint16 port, port2;

  mcr_test_router_wait_lines (r, 2);
  port = mcr_test_router_port_of (r, "TCP 127.0.0.1:", want_map);
  port2 = mcr_test_router_port_of (r, "TCP 127.0.0.1:", want_relay);
  g_assert_cmpuint (port, >, 0);
  g_assert_cmpuint (port2, >, 0);
  g_assert_true (mcr_test_wait_until (reported, r, 10000));
  g_assert_nonnull (strstr (r->err_text->str, "There is no device"));

  peer = test_peer_connect (port, 8 * 1024 * 1024, 21);
  peer2 = test_peer_connect (port2, 1024 * 1024, 22);
  g_assert_true (mcr_test_wait_until (test_peer_echoed, peer, 60000));
  g_assert_true (mcr_test_wait_until (test_peer_echoed, peer2, 60000));
  g_assert_no_error (peer->error);
  g_assert_true (test_peer_echo_matches (peer));
  g_assert_true (test_peer_echo_matches (peer2));

  g_assert_cmpint (mcr_test_router_stop (r, 15000), ==, 0);
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
  g_autoptr(McrTestRouter) r = NULL;
  g_autoptr(TestPeer) peer = NULL;
  guint16 closed_port, port;

  g_assert_true (g_socket_bind (s, want, FALSE, NULL));
  got = g_socket_get_local_address (s, NULL);
  closed_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
  refused = g_strdup_printf ("-map:TCP:0:%s::%u", tb->node_name, closed_port);
  ok = g_strdup_printf ("-map:TCP:0:%s::%u", tb->node_name, echo);
  maps[0] = refused, maps[1] = ok, maps[2] = NULL;
  r = router_start (maps);
  mcr_test_router_wait_lines (r, 2);
  suffix = g_strdup_printf (":%u", closed_port);
  port = mcr_test_router_port_of (r, "TCP 127.0.0.1:", suffix);
  g_assert_cmpuint (port, >, 0);
  peer = test_peer_connect (port, 10, 23);
  text = g_strdup_printf ("is anything listening on port %u?", closed_port);
  /* The agent tries the port and reports back: network, 30 s. */
  mcr_test_assert_wait (strstr (r->err_text->str, text) != NULL || r->exited, 30000);
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
