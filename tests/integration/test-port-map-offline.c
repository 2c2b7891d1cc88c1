/* SPDX-License-Identifier: Apache-2.0
 *
 * A map while its device goes offline and comes back, and while the control
 * channel reconnects after a server restart: it works again by itself.
 * Stops the agent and restarts the server: runs alone. */
#include <string.h>

#include "login-helpers.h"
#include "mcr-port-map.h"
#include "relay-test-util.h"

/* Echo through the map, as a user would (see test_map_echo_attempts()):
 * a program that connects while the server is still telling us what
 * changed may be turned away once. Returns the number of attempts. */
static guint
check_echo (McrPortMap *map,
            guint32     seed)
{
  return test_map_echo_attempts (map, mcr_port_map_get_local_port (map), 10, seed);
}

static void
test_offline_online (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_logged_in (tb, 60000);
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(McrPortMap) map = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestPeer) turned_away = NULL;
  guint16 echo = mcr_test_echo_server_start (NULL);
  guint16 port;

  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = echo;
  map = mcr_port_map_new (server, spec);
  g_assert_true (mcr_port_map_start (map, FALSE, &error));
  g_assert_no_error (error);
  port = mcr_port_map_get_local_port (map);
  g_assert_cmpuint (check_echo (map, 1), ==, 1);

  /* The device goes away: the map waits, and says why it turns programs away. */
  g_assert_true (mcr_testbed_run ("agent-stop", NULL, NULL));
  g_assert_true (test_map_wait_state (map, MCR_PORT_MAP_STATE_WAITING, 60000));
  g_assert_cmpuint (mcr_port_map_get_local_port (map), ==, port);
  turned_away = test_peer_connect (port, 10, 2);
  g_assert_true (mcr_test_wait_until (test_peer_done, turned_away, 10000));
  g_assert_cmpuint (turned_away->received, ==, 0);
  g_assert_nonnull (strstr (mcr_port_map_get_last_failure (map), "offline"));

  /* It comes back: the same port works again, with nothing done. */
  g_assert_true (mcr_testbed_run ("agent-start", NULL, NULL));
  g_assert_true (test_map_wait_state (map, MCR_PORT_MAP_STATE_LISTENING, 60000));
  g_assert_cmpuint (mcr_port_map_get_local_port (map), ==, port);
  g_assert_cmpuint (check_echo (map, 3), ==, 1);

  /* The server restarts: the control channel reconnects, the map stays. */
  g_assert_true (mcr_testbed_run ("server-restart", NULL, NULL));
  /* The restart ran while the main loop stood still: let the control
   * channel notice first. */
  g_assert_true (test_wait_state (server, MCR_SERVER_STATE_RECONNECTING, 30000));
  g_assert_true (test_wait_state (server, MCR_SERVER_STATE_CONNECTED, 120000));
  g_assert_true (test_wait_online (server, tb->node_id, TRUE, 120000));
  g_assert_true (test_map_wait_state (map, MCR_PORT_MAP_STATE_LISTENING, 60000));
  check_echo (map, 4);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();

  g_test_add_func ("/port-map/offline-online", test_offline_online);
  return g_test_run ();
}
