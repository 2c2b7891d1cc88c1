/* relay-test-util.c: local programs for relay tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mcr-websocket-private.h"
#include "relay-test-util.h"

/* Byte @offset of pattern @seed: every 8-byte word differs, so lost,
 * repeated or reordered bytes show. */
static void
fill_pattern (guint8  *buf,
              guint64  offset,
              gsize    len,
              guint32  seed)
{
  for (gsize i = 0; i < len;)
    {
      guint64 pos = offset + i;
      guint64 word = (pos / 8 + seed) * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);

      for (guint b = (guint) (pos % 8); b < 8 && i < len; b++, i++)
        buf[i] = (guint8) (word >> (8 * b));
    }
}

static gboolean on_peer_writable (GObject *stream, gpointer user_data);
static gboolean on_peer_readable (GObject *stream, gpointer user_data);

static GPollableInputStream *
peer_in (TestPeer *peer)
{
  return G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (G_IO_STREAM (peer->conn)));
}

static GPollableOutputStream *
peer_out (TestPeer *peer)
{
  return G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (G_IO_STREAM (peer->conn)));
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
peer_watch (TestPeer *peer)
{
  if (peer->error != NULL)
    return;
  if (peer->out_source == NULL && peer->sent < peer->to_send)
    {
      peer->out_source = g_pollable_output_stream_create_source (peer_out (peer), NULL);
      g_source_set_callback (peer->out_source, G_SOURCE_FUNC (on_peer_writable), peer, NULL);
      g_source_attach (peer->out_source, NULL);
    }
  if (peer->in_source == NULL && peer->reading && !peer->eof &&
      (peer->expect == 0 || peer->received < peer->expect))
    {
      peer->in_source = g_pollable_input_stream_create_source (peer_in (peer), NULL);
      g_source_set_callback (peer->in_source, G_SOURCE_FUNC (on_peer_readable), peer, NULL);
      g_source_attach (peer->in_source, NULL);
    }
}

static gboolean
on_peer_writable (GObject  *stream,
                  gpointer  user_data)
{
  TestPeer *peer = user_data;
  guint8 chunk[65536];

  while (peer->sent < peer->to_send)
    {
      g_autoptr(GError) error = NULL;
      gsize len = (gsize) MIN (sizeof chunk, peer->to_send - peer->sent);
      gssize n;

      fill_pattern (chunk, peer->sent, len, peer->seed);
      n = g_pollable_output_stream_write_nonblocking (peer_out (peer), chunk, len, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (n < 0)
        {
          peer->error = g_steal_pointer (&error);
          break;
        }
      g_checksum_update (peer->sent_hash, chunk, (gsize) n);
      peer->sent += (guint64) n;
    }
  if (peer->sent == peer->to_send && peer->shutdown_after)
    g_socket_shutdown (g_socket_connection_get_socket (peer->conn), FALSE, TRUE, NULL);
  g_clear_pointer (&peer->out_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static gboolean
on_peer_readable (GObject  *stream,
                  gpointer  user_data)
{
  TestPeer *peer = user_data;

  for (guint i = 0; i < 16 && peer->reading; i++)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (peer_in (peer), peer->buf,
                                                           sizeof peer->buf, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (n <= 0)
        {
          if (n < 0)
            peer->error = g_steal_pointer (&error);
          peer->eof = TRUE;
          break;
        }
      g_checksum_update (peer->received_hash, peer->buf, (gsize) n);
      peer->received += (guint64) n;
      if (peer->expect > 0 && peer->received >= peer->expect)
        break;
    }
  if (!peer->eof && peer->reading && (peer->expect == 0 || peer->received < peer->expect))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&peer->in_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

TestPeer *
test_peer_new (GSocketConnection *conn,
               guint64            to_send,
               guint32            seed)
{
  TestPeer *peer = g_new0 (TestPeer, 1);

  peer->conn = g_object_ref (conn);
  peer->to_send = to_send;
  peer->seed = seed;
  peer->reading = TRUE;
  peer->sent_hash = g_checksum_new (G_CHECKSUM_SHA256);
  peer->received_hash = g_checksum_new (G_CHECKSUM_SHA256);
  peer_watch (peer);
  return peer;
}

TestPeer *
test_peer_connect (guint16  port,
                   guint64  to_send,
                   guint32  seed)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;

  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  return test_peer_new (conn, to_send, seed);
}

void
test_peer_set_reading (TestPeer *peer,
                       gboolean  reading)
{
  peer->reading = reading;
  if (!reading)
    clear_source (&peer->in_source);
  peer_watch (peer);
}

void
test_peer_send_more (TestPeer *peer,
                     guint64   more)
{
  peer->to_send += more;
  peer_watch (peer);
}

gboolean
test_peer_done (gpointer data)
{
  TestPeer *peer = data;

  if (peer->error != NULL)
    return TRUE;
  if (peer->sent < peer->to_send)
    return FALSE;
  return peer->expect > 0 ? peer->received >= peer->expect : peer->eof;
}

gboolean
test_peer_echoed (gpointer data)
{
  TestPeer *peer = data;

  return peer->error != NULL || (peer->sent == peer->to_send && peer->received >= peer->to_send);
}

gboolean
test_peer_echoed_or_closed (gpointer data)
{
  TestPeer *peer = data;

  return peer->eof || test_peer_echoed (peer);
}

void
test_peer_assert_echo (guint16 port,
                       guint64 bytes,
                       guint32 seed)
{
  g_autoptr(TestPeer) peer = test_peer_connect (port, bytes, seed);

  if (!mcr_test_wait_until (test_peer_echoed_or_closed, peer, 60000))
    g_error ("%" G_GUINT64_FORMAT " bytes sent, %" G_GUINT64_FORMAT " came back", peer->sent,
             peer->received);
  g_assert_no_error (peer->error);
  g_assert_true (test_peer_echo_matches (peer));
}

gboolean
test_map_no_connections (gpointer map)
{
  return mcr_port_map_get_n_connections (map) == 0;
}

typedef struct
{
  McrPortMap      *map;
  McrPortMapState  state;
} StateWait;

static gboolean
map_state_is (gpointer data)
{
  StateWait *w = data;

  return mcr_port_map_get_state (w->map) == w->state;
}

gboolean
test_map_wait_state (McrPortMap      *map,
                     McrPortMapState  state,
                     guint            timeout_ms)
{
  StateWait w = { map, state };

  return mcr_test_wait_until (map_state_is, &w, timeout_ms);
}

guint
test_map_echo_attempts (McrPortMap *map,
                        guint16     port,
                        guint       max_attempts,
                        guint32     seed)
{
  for (guint attempt = 1; attempt <= max_attempts; attempt++)
    {
      g_autoptr(TestPeer) peer = test_peer_connect (port, 256 * 1024, seed);

      g_assert_true (mcr_test_wait_until (test_peer_echoed_or_closed, peer, 60000));
      if (peer->error == NULL && test_peer_echo_matches (peer))
        return attempt;
      g_test_message ("attempt %u: %s", attempt, mcr_port_map_get_last_failure (map));
      mcr_test_iterate_for (1000);
    }
  g_assert_not_reached ();
}

gboolean
test_peer_echo_matches (TestPeer *peer)
{
  return peer->received == peer->sent &&
         g_str_equal (g_checksum_get_string (peer->sent_hash),
                      g_checksum_get_string (peer->received_hash));
}

gboolean
test_peer_received_is (TestPeer *peer,
                       guint32   seed,
                       guint64   len)
{
  g_autoptr(GChecksum) want = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 chunk[65536];

  for (guint64 off = 0; off < len; off += sizeof chunk)
    {
      gsize n = (gsize) MIN (sizeof chunk, len - off);

      fill_pattern (chunk, off, n, seed);
      g_checksum_update (want, chunk, n);
    }
  return peer->received == len &&
         g_str_equal (g_checksum_get_string (want), g_checksum_get_string (peer->received_hash));
}

void
test_peer_free (TestPeer *peer)
{
  clear_source (&peer->in_source);
  clear_source (&peer->out_source);
  g_io_stream_close (G_IO_STREAM (peer->conn), NULL, NULL);
  g_object_unref (peer->conn);
  g_checksum_free (peer->sent_hash);
  g_checksum_free (peer->received_hash);
  g_clear_error (&peer->error);
  g_free (peer);
}

/* ---- a service that sends and closes ---- */

typedef struct
{
  guint64 bytes;
  guint32 seed;
} SourceServer;

static gboolean
on_source_sent (gpointer user_data)
{
  TestPeer *peer = user_data;

  if (peer->sent < peer->to_send && peer->error == NULL)
    return G_SOURCE_CONTINUE;
  test_peer_free (peer);
  return G_SOURCE_REMOVE;
}

static gboolean
on_source_incoming (GSocketService    *service,
                    GSocketConnection *connection,
                    GObject           *source_object,
                    gpointer           user_data)
{
  SourceServer *s = user_data;
  TestPeer *peer = test_peer_new (connection, s->bytes, s->seed);

  test_peer_set_reading (peer, FALSE);
  /* Closed once everything is written (polled: only tests use this). */
  g_timeout_add (20, on_source_sent, peer);
  return TRUE;
}

guint16
test_source_server_start (const char *address,
                          guint64     bytes,
                          guint32     seed)
{
  SourceServer *s = g_new0 (SourceServer, 1);

  s->bytes = bytes;
  s->seed = seed;
  return mcr_test_service_start (address, G_CALLBACK (on_source_incoming), s);
}

/* ---- relay WebSockets without a McrServer ---- */

static gboolean
accept_testbed_cert (GTlsCertificate     *certificate,
                     GTlsCertificateFlags errors,
                     gpointer             user_data)
{
  const McrTestbed *tb = user_data;
  g_autoptr(GByteArray) der = NULL;
  g_autofree char *hash = NULL;

  g_object_get (certificate, "certificate", &der, NULL);
  hash = g_compute_checksum_for_data (G_CHECKSUM_SHA384, der->data, der->len);
  return g_ascii_strcasecmp (hash, tb->cert_hash) == 0;
}

McrWebSocket *
test_relay_websocket (const McrTestbed *tb,
                      McrProtocol       protocol,
                      guint16           remote_port,
                      const char       *remote_ip)
{
  g_autofree char *node = g_uri_escape_string (tb->node_id, NULL, FALSE);
  g_autofree char *user = g_base64_encode ((const guchar *) tb->user, strlen (tb->user));
  g_autofree char *pass = g_base64_encode ((const guchar *) tb->password, strlen (tb->password));
  g_autofree char *auth = g_strdup_printf ("%s,%s", user, pass);
  const char *kind = protocol == MCR_PROTOCOL_UDP ? "udp" : "tcp";
  g_autoptr(GString) s = g_string_new (NULL);
  g_autoptr(GUri) uri = NULL;
  McrWebSocket *ws;

  g_string_printf (s, "wss://%s:%u/meshrelay.ashx?nodeid=%s&%sport=%u", tb->host, tb->port, node,
                   kind, remote_port);
  if (remote_ip != NULL)
    g_string_append_printf (s, "&%saddr=%s", kind, remote_ip);
  uri = g_uri_parse (s->str, G_URI_FLAGS_ENCODED, NULL);
  g_assert_nonnull (uri);
  ws = mcr_websocket_new (uri);
  mcr_websocket_add_header (ws, "x-meshauth", auth);
  mcr_websocket_set_certificate_func (ws, accept_testbed_cert, (gpointer) tb, NULL);
  return ws;
}

static gpointer
eof_server_run (gpointer data)
{
  TestEofServer *server = data;
  char buf[4096];
  ssize_t n;
  int fd = accept (server->listen_fd, NULL, NULL);

  if (fd < 0)
    return NULL;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    if (server->first_byte_us == 0)
      {
        __atomic_store_n (&server->first_byte_us, g_get_monotonic_time (), __ATOMIC_SEQ_CST);
        if (server->reply != NULL)
          {
            /* Late enough that the local program has shut down its half. */
            g_usleep (300 * 1000);
            g_assert_cmpint (write (fd, server->reply, strlen (server->reply)), ==,
                             (ssize_t) strlen (server->reply));
            g_atomic_int_set (&server->replied, 1);
          }
      }
  __atomic_store_n (&server->eof_us, n == 0 ? g_get_monotonic_time () : -1, __ATOMIC_SEQ_CST);
  close (fd);
  return NULL;
}

TestEofServer *
test_eof_server_start (const char *reply)
{
  TestEofServer *server = g_new0 (TestEofServer, 1);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;

  server->reply = reply;
  server->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (server->listen_fd, >=, 0);
  g_assert_cmpint (bind (server->listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (server->listen_fd, 4), ==, 0);
  g_assert_cmpint (getsockname (server->listen_fd, (struct sockaddr *) &addr, &len), ==, 0);
  server->port = ntohs (addr.sin_port);
  server->thread = g_thread_new ("eof-server", eof_server_run, server);
  return server;
}

gboolean
test_eof_server_got_byte (gpointer data)
{
  TestEofServer *server = data;

  return __atomic_load_n (&server->first_byte_us, __ATOMIC_SEQ_CST) != 0;
}

gboolean
test_eof_server_got_eof (gpointer data)
{
  TestEofServer *server = data;

  return __atomic_load_n (&server->eof_us, __ATOMIC_SEQ_CST) != 0;
}

void
test_eof_server_free (TestEofServer *server)
{
  /* Wakes a thread still waiting in accept(). */
  shutdown (server->listen_fd, SHUT_RDWR);
  g_thread_join (server->thread);
  close (server->listen_fd);
  g_free (server);
}

int
test_client_connect (guint16 port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  return fd;
}
