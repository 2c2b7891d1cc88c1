/* SPDX-License-Identifier: Apache-2.0
 *
 * Faults under a live map, against the real testbed: the agent killed in the
 * middle of a transfer, the server restarted, the server frozen (SIGSTOP).
 * Each time the local connections end cleanly and in bounded time, the map
 * keeps its port, works again by itself once the fault is gone, and the
 * process holds no more file descriptors than before.
 * Kills the agent and stops the server: runs alone (integration_exclusive). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "login-helpers.h"
#include "mcr-port-map.h"
#include "mcr-server-private.h"
#include "relay-test-util.h"

#define BIG (G_GUINT64_CONSTANT (1) << 30)

/* What a failed test must undo for the tests that run after it. */
static gboolean agent_down;
static gboolean server_frozen;

static void
restore_testbed (void)
{
  if (server_frozen)
    mcr_testbed_run ("server-cont", NULL, NULL);
  if (agent_down)
    mcr_testbed_run ("agent-start", NULL, NULL);
  server_frozen = agent_down = FALSE;
}

static void
on_abort (int sig)
{
  restore_testbed ();
  signal (sig, SIG_DFL);
  raise (sig);
}

typedef struct
{
  McrServer  *server;
  McrPortMap *map;
  guint16     port;
  guint16     echo;
} Setup;

static double
seconds_since (gint64 t0)
{
  return (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
}

static void
setup (Setup   *s,
       gboolean frozen_test)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;

  s->server = test_server_new (tb);
  if (frozen_test)
    {
      /* Ping every 0.5 s, give up after 3 s of silence, 3 s per attempt. */
      _mcr_server_set_intervals (s->server, 500, 3000, 5 * 60 * 1000);
      mcr_server_set_timeout (s->server, 3);
    }
  g_assert_true (test_login_password (s->server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  g_assert_true (test_wait_devices_loaded (s->server, 30000));
  g_assert_true (test_wait_online (s->server, tb->node_id, TRUE, 60000));
  s->echo = mcr_test_echo_server_start (NULL);
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = s->echo;
  s->map = mcr_port_map_new (s->server, spec);
  mcr_port_map_set_half_close_timeout (s->map, 1);
  g_assert_true (mcr_port_map_start (s->map, FALSE, &error));
  g_assert_no_error (error);
  s->port = mcr_port_map_get_local_port (s->map);
}

static void
teardown (Setup *s)
{
  mcr_port_map_stop (s->map);
  g_assert_finalize_object (s->map);
  mcr_server_logout (s->server);
  g_assert_finalize_object (s->server);
}

/* Echo through the map, as a user would (see test_map_echo_attempts()).
 * Returns the number of attempts. */
static guint
check_echo (Setup  *s,
            guint32 seed)
{
  return test_map_echo_attempts (s->map, s->port, 15, seed);
}

static gboolean
received_some (gpointer data)
{
  TestPeer *peer = data;

  return peer->error != NULL || peer->received >= 8 * 1024 * 1024;
}

/* The local program sees its connection end: EOF, or a reset when it still
 * had bytes on their way (both are a clean end for a TCP program; what must
 * not happen is a connection that stays open with nobody behind it). */
static void
describe_end (const char *what,
              TestPeer   *peer)
{
  g_test_message ("%s: ended by %s after %" G_GUINT64_FORMAT " bytes out, %" G_GUINT64_FORMAT
                  " back", what, peer->error ? peer->error->message : "EOF", peer->sent,
                  peer->received);
}

/* A started transfer (1 GiB each way) and an idle connection that has
 * echoed and stays open: the two kinds of tunnels a fault finds. */
static void
start_traffic (Setup     *s,
               TestPeer **busy,
               TestPeer **idle)
{
  *idle = test_peer_connect (s->port, 1000, 7);
  g_assert_true (mcr_test_wait_until (test_peer_echoed_or_closed, *idle, 30000));
  g_assert_true (test_peer_echo_matches (*idle));
  *busy = test_peer_connect (s->port, BIG, 8);
  g_assert_true (mcr_test_wait_until (received_some, *busy, 60000));
  g_assert_no_error ((*busy)->error);
  g_assert_cmpuint (mcr_port_map_get_n_connections (s->map), ==, 2);
}

static void
test_agent_killed (void)
{
  Setup s = { 0 };
  g_autoptr(TestPeer) busy = NULL;
  g_autoptr(TestPeer) idle = NULL;
  guint fd_limit;
  gint64 t0;

  setup (&s, FALSE);
  g_assert_cmpuint (check_echo (&s, 1), ==, 1);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, s.map, 10000));
  fd_limit = mcr_test_count_fds ();
  start_traffic (&s, &busy, &idle);

  t0 = g_get_monotonic_time ();
  agent_down = TRUE;
  g_assert_true (mcr_testbed_run_iterating ("agent-kill"));
  g_assert_true (mcr_test_wait_until (test_peer_done, busy, 30000));
  g_assert_true (mcr_test_wait_until (test_peer_done, idle, 30000));
  describe_end ("busy connection", busy);
  describe_end ("idle connection", idle);
  g_test_message ("both local connections ended %.1f s after the kill began", seconds_since (t0));
  g_assert_cmpuint (busy->received, <, BIG);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, s.map, 30000));

  /* The map stays, on its port, waiting for the device. */
  g_assert_true (test_map_wait_state (s.map, MCR_PORT_MAP_STATE_WAITING, 30000));
  g_assert_cmpuint (mcr_port_map_get_local_port (s.map), ==, s.port);
  g_clear_pointer (&busy, test_peer_free);
  g_clear_pointer (&idle, test_peer_free);
  g_assert_true (mcr_test_wait_fds_at_most (fd_limit, 15000));

  g_assert_true (mcr_testbed_run_iterating ("agent-start"));
  agent_down = FALSE;
  g_assert_true (test_map_wait_state (s.map, MCR_PORT_MAP_STATE_LISTENING, 60000));
  g_assert_cmpuint (mcr_port_map_get_local_port (s.map), ==, s.port);
  check_echo (&s, 2);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, s.map, 10000));
  g_assert_true (mcr_test_wait_fds_at_most (fd_limit, 15000));
  g_test_message ("file descriptors: %u before, %u after", fd_limit, mcr_test_count_fds ());
  teardown (&s);
}

typedef struct
{
  McrServer *server;
  char      *old;
} CookieWait;

static gboolean
cookie_changed (gpointer data)
{
  CookieWait *w = data;
  const char *now = mcr_server_get_auth_cookie (w->server);

  return now != NULL && g_strcmp0 (now, w->old) != 0;
}

static void
test_server_restart (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  Setup s = { 0 };
  g_autoptr(TestPeer) busy = NULL;
  g_autoptr(TestPeer) idle = NULL;
  CookieWait cw = { 0 };
  guint fd_limit;
  gint64 t0;

  setup (&s, FALSE);
  cw.server = s.server;
  g_assert_cmpuint (check_echo (&s, 3), ==, 1);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, s.map, 10000));
  fd_limit = mcr_test_count_fds ();
  cw.old = g_strdup (mcr_server_get_auth_cookie (s.server));
  g_assert_nonnull (cw.old);
  start_traffic (&s, &busy, &idle);

  t0 = g_get_monotonic_time ();
  g_assert_true (mcr_testbed_run_iterating ("server-restart"));
  g_assert_true (mcr_test_wait_until (test_peer_done, busy, 30000));
  g_assert_true (mcr_test_wait_until (test_peer_done, idle, 30000));
  describe_end ("busy connection", busy);
  describe_end ("idle connection", idle);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, s.map, 30000));

  /* The control channel comes back by itself, with a fresh relay cookie. */
  g_assert_true (test_wait_state (s.server, MCR_SERVER_STATE_CONNECTED, 120000));
  g_test_message ("connected again %.1f s after the restart began", seconds_since (t0));
  g_assert_true (test_wait_online (s.server, tb->node_id, TRUE, 120000));
  /* (Compared, never printed: it is a credential.) */
  g_assert_true (mcr_test_wait_until (cookie_changed, &cw, 15000));
  g_assert_true (test_map_wait_state (s.map, MCR_PORT_MAP_STATE_LISTENING, 60000));
  g_assert_cmpuint (mcr_port_map_get_local_port (s.map), ==, s.port);
  check_echo (&s, 4);
  g_free (cw.old);

  g_clear_pointer (&busy, test_peer_free);
  g_clear_pointer (&idle, test_peer_free);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, s.map, 10000));
  g_assert_true (mcr_test_wait_fds_at_most (fd_limit, 15000));
  teardown (&s);
}

static gboolean
not_connected (gpointer data)
{
  return mcr_server_get_state (data) != MCR_SERVER_STATE_CONNECTED;
}

static void
test_server_frozen (void)
{
  Setup s = { 0 };
  g_autoptr(TestPeer) busy = NULL;
  g_autoptr(TestPeer) idle = NULL;
  g_autoptr(TestPeer) during = NULL;
  const GError *error;
  guint fd_limit;
  gint64 t0;
  double detected;

  setup (&s, TRUE);
  g_assert_cmpuint (check_echo (&s, 5), ==, 1);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, s.map, 10000));
  fd_limit = mcr_test_count_fds ();
  start_traffic (&s, &busy, &idle);

  server_frozen = TRUE;
  g_assert_true (mcr_testbed_run ("server-stop", NULL, NULL));
  t0 = g_get_monotonic_time ();

  /* Found dead: 3 s of silence, checked every 0.5 s (a frozen server
   * keeps its TCP connection: without the check it is never noticed; how
   * soon within the 10 s, under the sanitizers on a busy machine, is
   * reported, not asserted). */
  g_assert_true (mcr_test_wait_until (not_connected, s.server, 10000));
  detected = seconds_since (t0);
  error = mcr_server_get_error (s.server);
  g_test_message ("frozen server noticed after %.1f s: %s", detected,
                  error ? error->message : "(no error)");
  g_assert_cmpint (mcr_server_get_state (s.server), ==, MCR_SERVER_STATE_RECONNECTING);
  g_assert_error ((GError *) error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_TIMEOUT);

  /* No local connection hangs on the dead server: those open end... */
  g_assert_true (mcr_test_wait_until (test_peer_done, busy, 10000));
  g_assert_true (mcr_test_wait_until (test_peer_done, idle, 10000));
  describe_end ("busy connection", busy);
  describe_end ("idle connection", idle);
  g_test_message ("local connections ended %.1f s after the freeze", seconds_since (t0));
  /* ...and a new one is turned away at once. */
  during = test_peer_connect (s.port, 1000, 9);
  g_assert_true (mcr_test_wait_until (test_peer_done, during, 5000));
  g_assert_cmpuint (during->received, ==, 0);
  g_test_message ("during the freeze: %s", mcr_port_map_get_last_failure (s.map));
  g_assert_cmpuint (mcr_port_map_get_local_port (s.map), ==, s.port);

  /* Frozen a while longer: attempts time out, nothing else happens. */
  mcr_test_iterate_for (4000);
  g_assert_cmpint (mcr_server_get_state (s.server), ==, MCR_SERVER_STATE_RECONNECTING);

  g_assert_true (mcr_testbed_run ("server-cont", NULL, NULL));
  server_frozen = FALSE;
  t0 = g_get_monotonic_time ();
  g_assert_true (test_wait_state (s.server, MCR_SERVER_STATE_CONNECTED, 60000));
  g_test_message ("connected again %.1f s after SIGCONT", seconds_since (t0));
  g_assert_true (test_map_wait_state (s.map, MCR_PORT_MAP_STATE_LISTENING, 60000));
  check_echo (&s, 6);

  g_clear_pointer (&busy, test_peer_free);
  g_clear_pointer (&idle, test_peer_free);
  g_clear_pointer (&during, test_peer_free);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, s.map, 20000));
  g_assert_true (mcr_test_wait_fds_at_most (fd_limit, 20000));
  teardown (&s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();
  atexit (restore_testbed);
  signal (SIGABRT, on_abort);

  g_test_add_func ("/faults/agent-killed-mid-transfer", test_agent_killed);
  g_test_add_func ("/faults/server-restart-mid-transfer", test_server_restart);
  g_test_add_func ("/faults/server-frozen", test_server_frozen);
  return g_test_run ();
}
