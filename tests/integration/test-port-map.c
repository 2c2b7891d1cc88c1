/* SPDX-License-Identifier: Apache-2.0
 *
 * McrPortMap through a logged-in McrServer, the real relay and the real
 * agent. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "login-helpers.h"
#include "mcr-port-map.h"
#include "relay-test-util.h"

static McrServer *server;

static McrServer *
logged_in_server (void)
{
  if (server == NULL)
    server = test_server_logged_in (mcr_testbed_get (), 30000);
  return server;
}

static McrPortMap *
map_new (McrProtocol protocol,
         guint16     local_port,
         const char *node,
         const char *remote_ip,
         guint16     remote_port)
{
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();

  spec->protocol = protocol;
  spec->local_port = local_port;
  if (g_str_has_prefix (node, "node//"))
    spec->node_id = g_strdup (node);
  else
    spec->node_name = g_strdup (node);
  spec->remote_ip = g_strdup (remote_ip);
  spec->remote_port = remote_port;
  return mcr_port_map_new (logged_in_server (), spec);
}

static McrPortMap *
started_map (McrProtocol protocol,
             const char *remote_ip,
             guint16     remote_port)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrPortMap *map = map_new (protocol, 0, tb->node_id, remote_ip, remote_port);
  g_autoptr(GError) error = NULL;

  g_assert_true (mcr_port_map_start (map, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mcr_port_map_get_state (map), ==, MCR_PORT_MAP_STATE_LISTENING);
  g_assert_cmpuint (mcr_port_map_get_local_port (map), >, 0);
  return map;
}

static gboolean
peers_done (gpointer data)
{
  GPtrArray *peers = data;

  for (guint i = 0; i < peers->len; i++)
    if (!test_peer_done (g_ptr_array_index (peers, i)))
      return FALSE;
  return TRUE;
}

static void
on_rate (McrPortMap *map,
         GParamSpec *pspec,
         double     *max_rate)
{
  *max_rate = MAX (*max_rate, mcr_port_map_get_rate_received (map));
}

static gboolean
rate_is_zero (gpointer data)
{
  return mcr_port_map_get_rate_received (data) == 0 && mcr_port_map_get_rate_sent (data) == 0;
}

/* 64 MiB each way through a map on a port it picked, byte-exact. */
static void
test_tcp_echo (void)
{
  const guint64 total = 64 * 1024 * 1024;
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_TCP, NULL, echo);
  g_autoptr(TestPeer) peer = NULL;
  gint64 t0 = g_get_monotonic_time ();
  double secs, max_rate = 0;

  g_signal_connect (map, "notify::rate-received", G_CALLBACK (on_rate), &max_rate);
  peer = test_peer_connect (mcr_port_map_get_local_port (map), total, 11);
  g_assert_true (mcr_test_wait_until (test_peer_echoed, peer, 120000));
  secs = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  g_test_message ("64 MiB each way in %.2f s (%.1f MB/s each way)", secs,
                  (double) total / secs / 1e6);
  g_assert_no_error (peer->error);
  g_assert_true (test_peer_echo_matches (peer));
  g_assert_cmpuint (mcr_port_map_get_n_connections (map), ==, 1);
  g_assert_cmpuint (mcr_port_map_get_total_connections (map), ==, 1);

  mcr_port_map_set_half_close_timeout (map, 1);
  g_clear_pointer (&peer, test_peer_free);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, map, 15000));
  /* The totals reach the properties once the tunnel is gone. */
  mcr_test_assert_wait (mcr_port_map_get_bytes_received (map) >= total, 10000);
  g_assert_cmpuint (mcr_port_map_get_bytes_sent (map), ==, total);
  g_assert_cmpuint (mcr_port_map_get_bytes_received (map), ==, total);
  g_assert_cmpuint (mcr_port_map_get_failed_connections (map), ==, 0);
  /* The rate was shown while bytes moved, and drops to 0 when they stop
   * (the once-a-second tick then stops too). */
  g_test_message ("highest rate shown: %.1f MB/s", max_rate / 1e6);
  g_assert_cmpfloat (max_rate, >, 0);
  g_assert_true (mcr_test_wait_until (rate_is_zero, map, 5000));
  g_signal_handlers_disconnect_by_data (map, &max_rate);
  mcr_port_map_stop (map);
  g_assert_cmpint (mcr_port_map_get_state (map), ==, MCR_PORT_MAP_STATE_STOPPED);
}

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  guint      *max_open)
{
  *max_open = MAX (*max_open, g_list_model_get_n_items (model));
}

/* 50 local programs at once, each with its own tunnel, all byte-exact. */
static void
test_concurrent (void)
{
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_TCP, NULL, echo);
  g_autoptr(GPtrArray) peers = g_ptr_array_new_with_free_func ((GDestroyNotify) test_peer_free);
  guint max_open = 0;

  g_signal_connect (mcr_port_map_get_connections (map), "items-changed",
                    G_CALLBACK (on_items_changed), &max_open);
  for (guint i = 0; i < 50; i++)
    {
      TestPeer *peer = test_peer_connect (mcr_port_map_get_local_port (map), 1024 * 1024, 100 + i);

      peer->expect = peer->to_send;
      g_ptr_array_add (peers, peer);
      /* What is pending now (bounded, should a source never rest). */
      for (guint k = 0; k < 10000 && g_main_context_iteration (NULL, FALSE); k++)
        ;
    }
  g_assert_true (mcr_test_wait_until (peers_done, peers, 120000));
  for (guint i = 0; i < peers->len; i++)
    {
      TestPeer *peer = g_ptr_array_index (peers, i);

      g_assert_no_error (peer->error);
      g_assert_true (test_peer_echo_matches (peer));
    }
  g_assert_cmpuint (max_open, ==, 50);
  g_assert_cmpuint (mcr_port_map_get_total_connections (map), ==, 50);
  mcr_port_map_set_half_close_timeout (map, 1);
  g_ptr_array_set_size (peers, 0);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, map, 20000));
  g_signal_handlers_disconnect_by_data (mcr_port_map_get_connections (map), &max_open);
}

/* What a local program sends before the relay is joined is held, not lost. */
static void
test_send_before_join (void)
{
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_TCP, NULL, echo);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(McrTunnel) tunnel = NULL;
  g_autoptr(TestPeer) peer = NULL;
  char hello[1000];
  gsize received = 0;

  memset (hello, 'h', sizeof hello);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", mcr_port_map_get_local_port (map),
                                          NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), hello,
                             sizeof hello, NULL, NULL, &error);
  g_assert_no_error (error);
  /* The map sees the connection only now; its relay cannot be joined yet. */
  mcr_test_assert_wait (mcr_port_map_get_n_connections (map) > 0, 10000);
  tunnel = g_list_model_get_item (mcr_port_map_get_connections (map), 0);
  g_assert_cmpint (mcr_tunnel_get_state (tunnel), <, MCR_TUNNEL_STATE_OPEN);

  peer = test_peer_new (conn, 0, 0);
  peer->expect = sizeof hello;
  g_assert_true (mcr_test_wait_until (test_peer_done, peer, 30000));
  received = peer->received;
  g_assert_cmpuint (received, ==, sizeof hello);
  g_assert_cmpint (mcr_tunnel_get_state (tunnel), ==, MCR_TUNNEL_STATE_OPEN);
  g_assert_cmpstr (mcr_tunnel_get_peer (tunnel), !=, NULL);
  g_assert_true (g_str_has_prefix (mcr_tunnel_get_peer (tunnel), "127.0.0.1:"));
  g_assert_cmpint (mcr_tunnel_get_start_time (tunnel), >, 0);
}

static gboolean
received_some (gpointer data)
{
  TestPeer *peer = data;

  return peer->error != NULL || peer->received >= 8 * 1024 * 1024;
}

/* A local program killed mid-transfer: its tunnel is freed at once. */
static void
test_local_killed (void)
{
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_TCP, NULL, echo);
  TestPeer *peer = test_peer_connect (mcr_port_map_get_local_port (map), 512 * 1024 * 1024, 12);
  struct linger l = { 1, 0 };

  g_assert_true (mcr_test_wait_until (received_some, peer, 60000));
  g_assert_cmpuint (mcr_port_map_get_n_connections (map), ==, 1);
  /* Like a killed process with unread data: a reset. */
  setsockopt (g_socket_get_fd (g_socket_connection_get_socket (peer->conn)), SOL_SOCKET,
              SO_LINGER, &l, sizeof l);
  test_peer_free (peer);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, map, 5000));
  g_assert_cmpuint (mcr_port_map_get_failed_connections (map), ==, 0);
}

/* A relay map to a service on 127.0.0.2 only: tcpaddr is honoured. */
static void
test_relay_map (void)
{
  guint16 echo = mcr_test_echo_server_start ("127.0.0.2");
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_TCP, "127.0.0.2", echo);
  g_autoptr(TestPeer) peer = test_peer_connect (mcr_port_map_get_local_port (map), 2 << 20, 13);

  g_assert_true (mcr_test_wait_until (test_peer_echoed, peer, 60000));
  g_assert_no_error (peer->error);
  g_assert_true (test_peer_echo_matches (peer));
}

static gboolean
has_failure (gpointer data)
{
  return mcr_port_map_get_failed_connections (data) > 0;
}

/* Nothing listens on the far port: the map says so in plain words. */
static void
test_far_port_refused (void)
{
  guint16 port = mcr_test_unused_port (NULL);
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_TCP, NULL, port);
  g_autoptr(TestPeer) peer = test_peer_connect (mcr_port_map_get_local_port (map), 10, 14);
  g_autofree char *want = g_strdup_printf ("is anything listening on port %u?", port);

  g_assert_true (mcr_test_wait_until (has_failure, map, 20000));
  g_test_message ("last failure: %s", mcr_port_map_get_last_failure (map));
  g_assert_nonnull (strstr (mcr_port_map_get_last_failure (map), want));
  g_assert_cmpuint (mcr_port_map_get_failed_connections (map), ==, 1);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, map, 5000));
}

typedef struct
{
  GSocket        *socket;
  GSocketAddress *address;
  guint           id;
  guint           replies;
} UdpPeer;

#define UDP_PER_PEER 20

/* A wait predicate on 3 UdpPeers: reads their replies; TRUE once each has
 * all of its own. */
static gboolean
udp_peers_replied (gpointer data)
{
  UdpPeer *peers = data;
  guint done = 0;

  for (guint p = 0; p < 3; p++)
    {
      char buf[100];
      gssize n;

      while ((n = g_socket_receive (peers[p].socket, buf, sizeof buf - 1, NULL, NULL)) > 0)
        {
          g_autofree char *prefix = g_strdup_printf ("peer %u ", p);

          buf[n] = '\0';
          g_assert_true (g_str_has_prefix (buf, prefix));
          peers[p].replies++;
        }
      g_assert_cmpuint (peers[p].replies, <=, UDP_PER_PEER);
      if (peers[p].replies == UDP_PER_PEER)
        done++;
    }
  return done == 3;
}

/* Three local programs share one UDP map at once; each gets exactly its own
 * replies. */
static void
test_udp_peers (void)
{
  guint16 echo = mcr_test_udp_echo_server_start (NULL);
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_UDP, NULL, echo);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) target = g_inet_socket_address_new (lo,
                                                                mcr_port_map_get_local_port (map));
  UdpPeer peers[3];

  for (guint p = 0; p < 3; p++)
    {
      g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);

      peers[p].socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                      G_SOCKET_PROTOCOL_UDP, NULL);
      g_socket_set_blocking (peers[p].socket, FALSE);
      g_assert_true (g_socket_bind (peers[p].socket, any, FALSE, NULL));
      peers[p].id = p;
      peers[p].replies = 0;
    }
  /* All at once, interleaved. */
  for (guint i = 0; i < UDP_PER_PEER; i++)
    for (guint p = 0; p < 3; p++)
      {
        g_autofree char *msg = g_strdup_printf ("peer %u datagram %u", p, i);

        g_assert_cmpint (g_socket_send_to (peers[p].socket, target, msg, strlen (msg), NULL, NULL),
                         ==, (gssize) strlen (msg));
      }
  g_assert_true (mcr_test_wait_until (udp_peers_replied, peers, 30000));
  g_assert_cmpuint (mcr_port_map_get_n_connections (map), ==, 3);
  g_assert_cmpuint (mcr_port_map_get_total_connections (map), ==, 3);
  for (guint p = 0; p < 3; p++)
    g_object_unref (peers[p].socket);
  /* Idle tunnels go by themselves. */
  mcr_port_map_stop (map);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, map, 10000));
}

static gboolean
connects (const char *ip,
          guint16     port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;

  conn = g_socket_client_connect_to_host (client, ip, port, NULL, NULL);
  return conn != NULL;
}

/* Port 0 picks a free port; a busy port is an error for that map only;
 * the default binds 127.0.0.1 and --all binds every interface. */
static void
test_ports (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(McrPortMap) first = started_map (MCR_PROTOCOL_TCP, NULL, echo);
  guint16 busy = mcr_port_map_get_local_port (first);
  g_autoptr(McrPortMap) second = map_new (MCR_PROTOCOL_TCP, busy, tb->node_id, NULL, echo);
  g_autoptr(McrPortMap) all = map_new (MCR_PROTOCOL_TCP, 0, tb->node_id, NULL, echo);
  g_autoptr(McrPortMap) udp_busy = NULL;
  g_autoptr(GSocket) udp = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                         G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) udp_address = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *want = g_strdup_printf ("Local port %u is already in use", busy);
  g_autoptr(TestPeer) peer = NULL;

  g_assert_false (mcr_port_map_start (second, FALSE, &error));
  g_assert_error (error, MCR_PORT_MAP_ERROR, MCR_PORT_MAP_ERROR_PORT_IN_USE);
  g_assert_cmpstr (error->message, ==, want);
  g_assert_cmpint (mcr_port_map_get_state (second), ==, MCR_PORT_MAP_STATE_ERROR);
  g_assert_cmpstr (mcr_port_map_get_error_message (second), ==, want);
  g_clear_error (&error);

  /* The first map still works. */
  peer = test_peer_connect (busy, 1000, 15);
  g_assert_true (mcr_test_wait_until (test_peer_echoed, peer, 30000));
  g_assert_true (test_peer_echo_matches (peer));

  /* 127.0.0.1 only by default: another loopback address is refused... */
  g_assert_false (connects ("127.0.0.5", busy));
  /* ...and reached when bound to all interfaces. */
  g_assert_true (mcr_port_map_start (all, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (mcr_port_map_get_all_interfaces (all));
  g_assert_true (connects ("127.0.0.5", mcr_port_map_get_local_port (all)));

  /* UDP too. */
  g_assert_true (g_socket_bind (udp, any, FALSE, NULL));
  udp_address = g_socket_get_local_address (udp, NULL);
  udp_busy = map_new (MCR_PROTOCOL_UDP,
                      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (udp_address)),
                      tb->node_id, NULL, 7);
  g_assert_false (mcr_port_map_start (udp_busy, FALSE, &error));
  g_assert_error (error, MCR_PORT_MAP_ERROR, MCR_PORT_MAP_ERROR_PORT_IN_USE);
}

static void
test_no_device (void)
{
  g_autoptr(McrPortMap) map = map_new (MCR_PROTOCOL_TCP, 0, "No Such Device", NULL, 22);
  g_autoptr(GError) error = NULL;

  g_assert_false (mcr_port_map_start (map, FALSE, &error));
  g_assert_error (error, MCR_PORT_MAP_ERROR, MCR_PORT_MAP_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (error->message, "No Such Device"));
  g_assert_cmpint (mcr_port_map_get_state (map), ==, MCR_PORT_MAP_STATE_ERROR);
}

/* By name, without case. */
static void
test_device_by_name (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *upper = g_ascii_strup (tb->node_name, -1);
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(McrPortMap) map = map_new (MCR_PROTOCOL_TCP, 0, upper, NULL, echo);
  g_autoptr(GError) error = NULL;
  g_autoptr(TestPeer) peer = NULL;

  g_assert_true (mcr_port_map_start (map, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mcr_device_get_id (mcr_port_map_get_device (map)), ==, tb->node_id);
  peer = test_peer_connect (mcr_port_map_get_local_port (map), 1000, 16);
  g_assert_true (mcr_test_wait_until (test_peer_echoed, peer, 30000));
  g_assert_true (test_peer_echo_matches (peer));
}

/* The device streams 128 MiB to a local program that stops reading: the
 * map's memory stays bounded; then every byte arrives. */
static void
test_slow_reader (void)
{
  const guint64 total = 128 * 1024 * 1024;
  guint16 source = test_source_server_start (NULL, total, 17);
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_TCP, NULL, source);
  g_autoptr(TestPeer) peer = test_peer_connect (mcr_port_map_get_local_port (map), 0, 0);
  g_autoptr(McrTunnel) tunnel = NULL;
  gsize rss0, rss_max = 0;

  test_peer_set_reading (peer, FALSE);
  mcr_test_assert_wait (mcr_port_map_get_n_connections (map) > 0, 10000);
  rss0 = mcr_test_rss_kib ();
  for (gint64 end = g_get_monotonic_time () + 4 * G_USEC_PER_SEC; g_get_monotonic_time () < end;)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
      rss_max = MAX (rss_max, mcr_test_rss_kib ());
    }
  tunnel = g_list_model_get_item (mcr_port_map_get_connections (map), 0);
  g_test_message ("stalled local reader: %" G_GUINT64_FORMAT " KiB handed on, RSS %" G_GSIZE_FORMAT
                  " -> max %" G_GSIZE_FORMAT " KiB",
                  mcr_tunnel_get_bytes_received (tunnel) / 1024, rss0, rss_max);
  /* What the local socket took is all the kernel buffers hold. */
  g_assert_cmpuint (mcr_tunnel_get_bytes_received (tunnel), <, total / 8);
  if (TEST_RSS_MEANINGFUL)
    g_assert_cmpuint (rss_max, <, rss0 + 4 * 1024);

  test_peer_set_reading (peer, TRUE);
  g_assert_true (mcr_test_wait_until (test_peer_done, peer, 120000));
  g_assert_no_error (peer->error);
  g_assert_true (test_peer_received_is (peer, 17, total));
}

/* A local program that sends a byte and close()s: the far service sees EOF
 * at once, not after the half-close timeout (what the local side's FIN
 * cannot tell, the kernel can: mcr-peer-state.c). */
static void
test_full_close (void)
{
  g_autoptr(TestEofServer) far = test_eof_server_start (NULL);
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_TCP, NULL, far->port);
  int fd = test_client_connect (mcr_port_map_get_local_port (map));
  gint64 closed_at;
  double ms;

  g_assert_cmpint (write (fd, "x", 1), ==, 1);
  g_assert_true (mcr_test_wait_until (test_eof_server_got_byte, far, 30000));
  closed_at = g_get_monotonic_time ();
  close (fd);
  g_assert_true (mcr_test_wait_until (test_eof_server_got_eof, far, 15000));
  g_assert_cmpint (far->eof_us, >, 0);
  ms = (double) (far->eof_us - closed_at) / 1000;
  g_test_message ("full close: the far side saw EOF %.1f ms after the local close()", ms);
  /* Loose: the half-close timeout (5 s) would fail it, a busy machine not. */
  g_assert_cmpfloat (ms, <, MCR_TUNNEL_DEFAULT_HALF_CLOSE_TIMEOUT * 1000 / 2);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, map, 5000));
}

typedef struct
{
  int     fd;
  GString *got;
  gboolean eof;
} Reader;

static gboolean
read_to_eof (gpointer data)
{
  Reader *r = data;
  char buf[256];
  ssize_t n;

  while ((n = read (r->fd, buf, sizeof buf)) > 0)
    g_string_append_len (r->got, buf, n);
  if (n == 0)
    r->eof = TRUE;
  return r->eof || (n < 0 && errno != EAGAIN);
}

/* A local program that shuts down its sending half still gets the answer
 * the far service sends after that; the tunnel ends once the far side is
 * quiet for the half-close timeout. */
static void
test_half_close_answer (void)
{
  static const char answer[] = "answer after EOF";
  g_autoptr(TestEofServer) far = test_eof_server_start (answer);
  g_autoptr(McrPortMap) map = started_map (MCR_PROTOCOL_TCP, NULL, far->port);
  g_autoptr(GString) got = g_string_new (NULL);
  Reader r = { test_client_connect (mcr_port_map_get_local_port (map)), got, FALSE };

  mcr_port_map_set_half_close_timeout (map, 1);
  g_assert_cmpint (write (r.fd, "question", 8), ==, 8);
  g_assert_cmpint (shutdown (r.fd, SHUT_WR), ==, 0);
  fcntl (r.fd, F_SETFL, fcntl (r.fd, F_GETFL) | O_NONBLOCK);
  g_assert_true (mcr_test_wait_until (read_to_eof, &r, 15000));
  g_assert_true (r.eof);
  g_assert_cmpstr (got->str, ==, answer);
  g_assert_true (mcr_test_wait_until (test_eof_server_got_eof, far, 10000));
  close (r.fd);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, map, 10000));
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();

  g_test_add_func ("/port-map/tcp-echo-64mib", test_tcp_echo);
  g_test_add_func ("/port-map/concurrent-50", test_concurrent);
  g_test_add_func ("/port-map/send-before-join", test_send_before_join);
  g_test_add_func ("/port-map/local-killed", test_local_killed);
  g_test_add_func ("/port-map/relay-map", test_relay_map);
  g_test_add_func ("/port-map/far-port-refused", test_far_port_refused);
  g_test_add_func ("/port-map/udp-peers", test_udp_peers);
  g_test_add_func ("/port-map/ports", test_ports);
  g_test_add_func ("/port-map/no-device", test_no_device);
  g_test_add_func ("/port-map/device-by-name", test_device_by_name);
  g_test_add_func ("/port-map/slow-reader", test_slow_reader);
  g_test_add_func ("/port-map/full-close", test_full_close);
  g_test_add_func ("/port-map/half-close-answer", test_half_close_answer);
  status = g_test_run ();
  g_clear_object (&server);
  return status;
}
