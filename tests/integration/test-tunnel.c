/* SPDX-License-Identifier: Apache-2.0
 *
 * McrTunnel through the real MeshCentral relay to the real agent: the relay
 * WebSocket is opened straight with x-meshauth, so these tests need no
 * McrServer; the port map tests cover the way through it. */
#include <string.h>
#include <sys/socket.h>

#include "mcr-tunnel.h"
#include "relay-test-util.h"

typedef struct
{
  McrTunnel *tunnel;
  TestPeer  *peer;
  gboolean   closed;
} Pair;

static void
on_tunnel_closed (McrTunnel *tunnel,
                  Pair      *pair)
{
  pair->closed = TRUE;
}

/* A local program connected to a tunnel to @remote_ip:@remote_port; it
 * starts sending at once, before the relay is joined. */
static Pair *
pair_new (guint16     remote_port,
          const char *remote_ip,
          guint64     to_send,
          guint32     seed)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) got = NULL;
  g_autoptr(GSocketConnection) accepted = NULL;
  g_autoptr(McrWebSocket) ws = NULL;
  g_autoptr(GError) error = NULL;
  Pair *pair = g_new0 (Pair, 1);

  g_socket_listener_add_address (listener, want, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &got, &error);
  g_assert_no_error (error);
  pair->peer = test_peer_connect (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got)),
                                  to_send, seed);
  accepted = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);

  ws = test_relay_websocket (tb, MCR_PROTOCOL_TCP, remote_port, remote_ip);
  pair->tunnel = mcr_tunnel_new_tcp (ws, accepted);
  g_signal_connect (pair->tunnel, "closed", G_CALLBACK (on_tunnel_closed), pair);
  mcr_tunnel_start (pair->tunnel);
  return pair;
}

static void
pair_free (Pair *pair)
{
  g_signal_handlers_disconnect_by_data (pair->tunnel, pair);
  g_object_unref (pair->tunnel);
  if (pair->peer != NULL)
    test_peer_free (pair->peer);
  g_free (pair);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pair, pair_free)

static gboolean
echo_done (gpointer data)
{
  TestPeer *peer = data;

  return peer->error != NULL || (peer->sent == peer->to_send && peer->received >= peer->to_send);
}

static void
test_tcp_echo (void)
{
  const guint64 total = 16 * 1024 * 1024;
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(Pair) pair = pair_new (echo, NULL, total, 1);
  gint64 t0 = g_get_monotonic_time ();
  double secs;

  g_assert_true (mcr_test_wait_until (echo_done, pair->peer, 60000));
  secs = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  g_test_message ("16 MiB each way through the relay in %.2f s (%.1f MB/s each way)", secs,
                  (double) total / secs / 1e6);
  g_assert_no_error (pair->peer->error);
  g_assert_true (test_peer_echo_matches (pair->peer));
  g_assert_cmpuint (mcr_tunnel_get_bytes_sent (pair->tunnel), ==, total);
  g_assert_cmpuint (mcr_tunnel_get_bytes_received (pair->tunnel), ==, total);
  g_assert_cmpint (mcr_tunnel_get_state (pair->tunnel), ==, MCR_TUNNEL_STATE_OPEN);

  /* The local program closes its socket: the tunnel follows at once (within
   * the half-close timeout at the latest). */
  g_clear_pointer (&pair->peer, test_peer_free);
  g_assert_true (mcr_test_wait_flag (&pair->closed,
                                     (MCR_TUNNEL_DEFAULT_HALF_CLOSE_TIMEOUT + 5) * 1000));
  g_assert_cmpint (mcr_tunnel_get_failure (pair->tunnel), ==, MCR_TUNNEL_FAILURE_NONE);
}

static void
test_refused_port (void)
{
  g_autoptr(Pair) pair = pair_new (mcr_test_unused_port ("127.0.0.1"), NULL, 100, 2);

  g_assert_true (mcr_test_wait_flag (&pair->closed, 20000));
  g_assert_cmpint (mcr_tunnel_get_failure (pair->tunnel), ==, MCR_TUNNEL_FAILURE_DEVICE_CLOSED);
  g_assert_cmpuint (mcr_tunnel_get_bytes_received (pair->tunnel), ==, 0);
  /* The local program sees its connection end. */
  pair->peer->expect = 0;
  g_assert_true (mcr_test_wait_until (test_peer_done, pair->peer, 5000));
  g_assert_cmpuint (pair->peer->received, ==, 0);
}

/* An echo service on 127.0.0.2 only: 127.0.0.1 on that port refuses, so an
 * answer proves the agent went where tcpaddr said. */
static void
test_relay_address (void)
{
  guint16 echo = mcr_test_echo_server_start ("127.0.0.2");
  g_autoptr(Pair) pair = pair_new (echo, "127.0.0.2", 1024 * 1024, 3);

  g_assert_true (mcr_test_wait_until (echo_done, pair->peer, 30000));
  g_assert_no_error (pair->peer->error);
  g_assert_true (test_peer_echo_matches (pair->peer));
}

/* The local program sends, shuts down its sending side, and still gets the
 * answer; the tunnel closes once the device side is idle. */
static void
test_half_close (void)
{
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(Pair) pair = NULL;

  pair = pair_new (echo, NULL, 5000, 4);
  pair->peer->shutdown_after = TRUE;
  mcr_tunnel_set_idle_timeout (pair->tunnel, 1);
  g_assert_true (mcr_test_wait_until (test_peer_done, pair->peer, 20000));
  g_assert_no_error (pair->peer->error);
  g_assert_true (pair->peer->eof);
  g_assert_true (test_peer_echo_matches (pair->peer));
  g_assert_true (mcr_test_wait_flag (&pair->closed, 5000));
  g_assert_cmpint (mcr_tunnel_get_failure (pair->tunnel), ==, MCR_TUNNEL_FAILURE_NONE);
}

static gboolean
tunnel_received_some (gpointer data)
{
  return mcr_tunnel_get_bytes_received (data) > 0;
}

/* The device sends 64 MiB while the local program does not read: memory
 * stays flat; when it reads again, every byte arrives. */
static void
test_slow_reader (void)
{
  const guint64 total = 64 * 1024 * 1024;
  guint16 source = test_source_server_start (NULL, total, 5);
  g_autoptr(Pair) pair = pair_new (source, NULL, 0, 0);
  gsize rss0, rss1;
  guint64 held_at;

  test_peer_set_reading (pair->peer, FALSE);
  g_assert_true (mcr_test_wait_until (tunnel_received_some, pair->tunnel, 20000));
  rss0 = mcr_test_rss_kib ();
  /* Let the relay push as much as it can. */
  mcr_test_iterate_for (3000);
  rss1 = mcr_test_rss_kib ();
  held_at = mcr_tunnel_get_bytes_received (pair->tunnel);
  g_test_message ("local reader stalled: %" G_GUINT64_FORMAT " KiB handed to the local socket, "
                  "RSS %" G_GSIZE_FORMAT " -> %" G_GSIZE_FORMAT " KiB", held_at / 1024, rss0, rss1);
  g_assert_cmpuint (held_at, <, total / 8);
  if (TEST_RSS_MEANINGFUL)
    g_assert_cmpuint (rss1, <, rss0 + 4 * 1024);

  test_peer_set_reading (pair->peer, TRUE);
  g_assert_true (mcr_test_wait_until (test_peer_done, pair->peer, 60000));
  g_assert_no_error (pair->peer->error);
  g_assert_true (test_peer_received_is (pair->peer, 5, total));
  g_assert_true (mcr_test_wait_flag (&pair->closed, 10000));
}

static gboolean
received_some (gpointer data)
{
  Pair *pair = data;

  return pair->peer->received >= 4 * 1024 * 1024;
}

/* The local program dies mid-transfer: the tunnel goes at once. */
static void
test_local_dies (void)
{
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(Pair) pair = pair_new (echo, NULL, 256 * 1024 * 1024, 6);
  GSocket *socket;

  g_assert_true (mcr_test_wait_until (received_some, pair, 30000));
  socket = g_socket_connection_get_socket (pair->peer->conn);
  /* Like a killed process with unread data: a reset. */
  {
    struct linger l = { 1, 0 };

    setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  g_clear_pointer (&pair->peer, test_peer_free);
  g_assert_true (mcr_test_wait_flag (&pair->closed, 5000));
  g_assert_cmpint (mcr_tunnel_get_state (pair->tunnel), ==, MCR_TUNNEL_STATE_CLOSED);
}

static gboolean
tunnel_open (gpointer data)
{
  return mcr_tunnel_get_state (data) >= MCR_TUNNEL_STATE_OPEN;
}

/* "c", then silence: the agent could not resolve the name. The local program
 * gives up; the tunnel reports that nothing came back. */
static void
test_unresolvable_host (void)
{
  g_autoptr(Pair) pair = pair_new (80, "no-such-host.invalid", 10, 7);

  g_assert_true (mcr_test_wait_until (tunnel_open, pair->tunnel, 30000));
  mcr_test_iterate_for (3000);
  g_assert_false (pair->closed);
  g_assert_cmpint (mcr_tunnel_get_state (pair->tunnel), ==, MCR_TUNNEL_STATE_OPEN);
  g_clear_pointer (&pair->peer, test_peer_free);
  g_assert_true (mcr_test_wait_flag (&pair->closed, 20000));
  g_assert_cmpint (mcr_tunnel_get_failure (pair->tunnel), ==, MCR_TUNNEL_FAILURE_NO_ANSWER);
}

typedef struct
{
  gboolean  joined;
  GString  *control;
} TextLog;

static gsize
on_text (McrWebSocket        *ws,
         McrWebSocketDataType type,
         const guint8        *data,
         gsize                len,
         gboolean             end,
         gpointer             user_data)
{
  TextLog *log = user_data;

  if (type != MCR_WEBSOCKET_TEXT)
    return len;
  if (!log->joined && len <= 2 && data[0] == 'c')
    log->joined = TRUE;
  else
    g_string_append_len (log->control, (const char *) data, (gssize) len);
  return len;
}

static gboolean
control_seen (gpointer data)
{
  return ((TextLog *) data)->control->len > 0;
}

static void
on_ws_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_assert_true (mcr_websocket_connect_finish (MCR_WEBSOCKET (source), result, NULL));
}

/* The relay's own control messages ({"ctrlChannel":"102938",...} every
 * agentPong seconds: 60 on the testbed) come as text frames after "c": a
 * WebSocket of our own sees them, the local program of a tunnel never does. */
static void
test_control_messages (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(Pair) pair = pair_new (echo, NULL, 0, 8);
  g_autoptr(McrWebSocket) ws = test_relay_websocket (tb, MCR_PROTOCOL_TCP, echo, NULL);
  TextLog log = { FALSE, g_string_new (NULL) };

  mcr_websocket_set_receive_func (ws, on_text, &log, NULL);
  mcr_websocket_connect_async (ws, NULL, on_ws_connected, NULL);
  g_assert_true (mcr_test_wait_until (control_seen, &log, 90000));
  g_test_message ("control message: %s", log.control->str);
  g_assert_nonnull (strstr (log.control->str, "\"ctrlChannel\":\"102938\""));
  /* Let the tunnel's copy arrive too: it must not reach the local program. */
  mcr_test_iterate_for (2000);
  g_assert_cmpint (mcr_tunnel_get_state (pair->tunnel), ==, MCR_TUNNEL_STATE_OPEN);
  g_assert_cmpuint (pair->peer->received, ==, 0);
  g_assert_cmpuint (mcr_tunnel_get_bytes_received (pair->tunnel), ==, 0);

  test_peer_send_more (pair->peer, 4096);
  g_assert_true (mcr_test_wait_until (echo_done, pair->peer, 30000));
  g_assert_true (test_peer_echo_matches (pair->peer));
  mcr_websocket_close (ws, MCR_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_string_free (log.control, TRUE);
}

typedef struct
{
  GSocket   *map_socket;
  McrTunnel *tunnel;
} UdpMap;

static gboolean
on_map_datagram (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  UdpMap *map = user_data;
  guint8 buf[65536];
  gssize n = g_socket_receive_from (socket, NULL, (char *) buf, sizeof buf, NULL, NULL);

  if (n >= 0)
    mcr_tunnel_send_datagram (map->tunnel, buf, (gsize) n);
  return G_SOURCE_CONTINUE;
}

static GSocket *
udp_socket_new (GSocketAddress **address)
{
  g_autoptr(GError) error = NULL;
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                             &error);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new (lo, 0);

  g_assert_no_error (error);
  g_socket_set_blocking (s, FALSE);
  g_assert_true (g_socket_bind (s, want, FALSE, NULL));
  *address = g_socket_get_local_address (s, NULL);
  return s;
}

typedef struct
{
  GSocket *peer;
  guint    got;
} Datagrams;

/* A wait predicate: reads what came back to the program's socket, each
 * "datagram N" in order; TRUE once the 5 sent are back. */
static gboolean
datagrams_in_order (gpointer data)
{
  Datagrams *d = data;
  char buf[100];
  gssize n;

  while ((n = g_socket_receive (d->peer, buf, sizeof buf - 1, NULL, NULL)) > 0)
    {
      g_autofree char *want = g_strdup_printf ("datagram %u", d->got);

      buf[n] = '\0';
      g_assert_cmpstr (buf, ==, want);
      d->got++;
    }
  return d->got >= 5;
}

static void
test_udp (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_udp_echo_server_start (NULL);
  g_autoptr(GSocketAddress) map_address = NULL;
  g_autoptr(GSocketAddress) peer_address = NULL;
  g_autoptr(GSocket) map_socket = udp_socket_new (&map_address);
  g_autoptr(GSocket) peer = udp_socket_new (&peer_address);
  g_autoptr(McrWebSocket) ws = test_relay_websocket (tb, MCR_PROTOCOL_UDP, echo, NULL);
  g_autoptr(McrTunnel) tunnel = mcr_tunnel_new_udp (ws, map_socket, peer_address);
  UdpMap map = { map_socket, tunnel };
  GSource *source = g_socket_create_source (map_socket, G_IO_IN, NULL);
  Pair closed = { 0 };
  Datagrams got = { peer, 0 };

  g_source_set_callback (source, G_SOURCE_FUNC (on_map_datagram), &map, NULL);
  g_source_attach (source, NULL);
  g_signal_connect (tunnel, "closed", G_CALLBACK (on_tunnel_closed), &closed);
  mcr_tunnel_set_idle_timeout (tunnel, 2);
  mcr_tunnel_start (tunnel);

  /* The first datagrams go out before the relay is joined: they are held. */
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *msg = g_strdup_printf ("datagram %u", i);

      g_socket_send_to (peer, map_address, msg, strlen (msg), NULL, NULL);
    }
  g_assert_true (mcr_test_wait_until (datagrams_in_order, &got, 30000));
  g_assert_cmpuint (mcr_tunnel_get_bytes_received (tunnel), ==, mcr_tunnel_get_bytes_sent (tunnel));
  /* Idle: it closes by itself. */
  g_assert_true (mcr_test_wait_flag (&closed.closed, 10000));
  g_assert_cmpint (mcr_tunnel_get_failure (tunnel), ==, MCR_TUNNEL_FAILURE_NONE);
  g_source_destroy (source);
  g_source_unref (source);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();

  g_test_add_func ("/tunnel/tcp-echo", test_tcp_echo);
  g_test_add_func ("/tunnel/refused-port", test_refused_port);
  g_test_add_func ("/tunnel/relay-address", test_relay_address);
  g_test_add_func ("/tunnel/half-close", test_half_close);
  g_test_add_func ("/tunnel/slow-reader", test_slow_reader);
  g_test_add_func ("/tunnel/local-dies", test_local_dies);
  g_test_add_func ("/tunnel/unresolvable-host", test_unresolvable_host);
  g_test_add_func ("/tunnel/udp", test_udp);
  g_test_add_func ("/tunnel/control-messages", test_control_messages);
  return g_test_run ();
}
