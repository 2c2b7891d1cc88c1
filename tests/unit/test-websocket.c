/* SPDX-License-Identifier: Apache-2.0
 *
 * McrWebSocket against an in-process RFC 6455 peer: libsoup's SoupServer,
 * either its own WebSocket connection or, for frames libsoup never sends
 * (fragments, broken frames, a peer that stops reading), the raw connection
 * taken over after libsoup did the handshake. */
#include <libsoup/soup.h>
#include <string.h>

#include "mcr-testbed.h"
#include "mcr-websocket-private.h"

typedef struct
{
  SoupServer              *server;
  guint16                  port;
  gboolean                 tls;
  SoupWebsocketConnection *peer;          /* the libsoup side of /echo and /peer */
  GIOStream               *raw;           /* the taken-over side of /raw */
  GByteArray              *raw_in;
  gushort                  peer_close_code;
  gboolean                 peer_closed;
  guint                    peer_pongs;
} Fixture;

typedef struct
{
  McrWebSocket *ws;
  GByteArray   *text;
  GByteArray   *binary;
  guint         n_messages;
  gboolean      done;
  GError       *error;
  gboolean      closed;
  gboolean      pause;
  gsize         take_limit;   /* take at most this much per call, then resume later */
  guint         n_pieces;
  guint         writable;
} Client;

/* ---- the server side ---- */

static void
on_peer_message (SoupWebsocketConnection *conn,
                 int                      type,
                 GBytes                  *message,
                 gpointer                 user_data)
{
  soup_websocket_connection_send_message (conn, type, message);
}

static void
on_peer_closed (SoupWebsocketConnection *conn,
                Fixture                 *fx)
{
  fx->peer_closed = TRUE;
  fx->peer_close_code = soup_websocket_connection_get_close_code (conn);
}

static void
on_peer_pong (SoupWebsocketConnection *conn,
              GBytes                  *message,
              Fixture                 *fx)
{
  fx->peer_pongs++;
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *conn,
              gpointer                 user_data)
{
  Fixture *fx = user_data;

  g_set_object (&fx->peer, conn);
  soup_websocket_connection_set_max_incoming_payload_size (conn, 0);
  g_signal_connect (conn, "closed", G_CALLBACK (on_peer_closed), fx);
  g_signal_connect (conn, "pong", G_CALLBACK (on_peer_pong), fx);
  if (g_str_equal (path, "/echo"))
    g_signal_connect (conn, "message", G_CALLBACK (on_peer_message), NULL);
}

static void
on_raw_upgraded (SoupServerMessage *msg,
                 Fixture           *fx)
{
  g_set_object (&fx->raw, soup_server_message_steal_connection (msg));
  g_object_unref (fx->raw); /* steal gave us one reference; g_set_object took another */
}

static void
on_raw (SoupServer        *server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  Fixture *fx = user_data;

  if (g_str_equal (path, "/refuse"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
      return;
    }
  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    return;
  if (g_str_equal (path, "/badaccept"))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Sec-WebSocket-Accept", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (on_raw_upgraded), fx);
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;

  fx->tls = GPOINTER_TO_INT (data);
  if (fx->tls)
    {
      g_autofree char *cert = g_test_build_filename (G_TEST_DIST, "data",
                                                     "test-server-cert.pem", NULL);
      g_autofree char *key = g_test_build_filename (G_TEST_DIST, "data",
                                                    "test-server-key.pem", NULL);
      g_autoptr(GTlsCertificate) c = g_tls_certificate_new_from_files (cert, key, &error);

      g_assert_no_error (error);
      fx->server = soup_server_new ("tls-certificate", c, NULL);
    }
  else
    fx->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (fx->server, "/echo", NULL, NULL, on_websocket, fx, NULL);
  soup_server_add_websocket_handler (fx->server, "/peer", NULL, NULL, on_websocket, fx, NULL);
  soup_server_add_handler (fx->server, "/raw", on_raw, fx, NULL);
  soup_server_add_handler (fx->server, "/badaccept", on_raw, fx, NULL);
  soup_server_add_handler (fx->server, "/refuse", on_raw, fx, NULL);
  soup_server_listen_local (fx->server, 0,
                            SOUP_SERVER_LISTEN_IPV4_ONLY | (fx->tls ? SOUP_SERVER_LISTEN_HTTPS : 0),
                            &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (fx->server);
  fx->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  fx->raw_in = g_byte_array_new ();
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  if (fx->raw != NULL)
    g_io_stream_close (fx->raw, NULL, NULL);
  g_clear_object (&fx->raw);
  g_clear_object (&fx->peer);
  soup_server_disconnect (fx->server);
  g_clear_object (&fx->server);
  g_byte_array_unref (fx->raw_in);
  /* Let closes in flight finish: what is pending now (bounded, should a
   * source never rest). */
  for (guint i = 0; i < 10000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

/* ---- the client side ---- */

static void
resume_later (gpointer data)
{
  mcr_websocket_resume_receive (data);
}

static gsize
on_receive (McrWebSocket        *ws,
            McrWebSocketDataType type,
            const guint8        *data,
            gsize                len,
            gboolean             end,
            gpointer             user_data)
{
  Client *c = user_data;

  if (c->pause)
    return 0;
  c->n_pieces++;
  if (c->take_limit > 0 && len > c->take_limit && type == MCR_WEBSOCKET_BINARY)
    {
      g_byte_array_append (c->binary, data, (guint) c->take_limit);
      g_idle_add_once (resume_later, c->ws);
      return c->take_limit;
    }
  g_byte_array_append (type == MCR_WEBSOCKET_TEXT ? c->text : c->binary, data, (guint) len);
  if (end)
    c->n_messages++;
  return len;
}

static void
on_client_closed (McrWebSocket *ws,
                  Client       *c)
{
  c->closed = TRUE;
}

static void
on_client_writable (McrWebSocket *ws,
                    Client       *c)
{
  c->writable++;
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Client *c = user_data;

  mcr_websocket_connect_finish (MCR_WEBSOCKET (source), result, &c->error);
  c->done = TRUE;
}

static gboolean
accept_any (GTlsCertificate     *certificate,
            GTlsCertificateFlags errors,
            gpointer             user_data)
{
  *(GTlsCertificateFlags *) user_data = errors;
  return TRUE;
}

static gboolean
accept_none (GTlsCertificate     *certificate,
             GTlsCertificateFlags errors,
             gpointer             user_data)
{
  return FALSE;
}

static Client *
client_new (Fixture    *fx,
            const char *path,
            gboolean    stream)
{
  Client *c = g_new0 (Client, 1);
  g_autofree char *s = g_strdup_printf ("%s://127.0.0.1:%u%s", fx->tls ? "wss" : "ws", fx->port,
                                        path);
  g_autoptr(GUri) uri = g_uri_parse (s, G_URI_FLAGS_ENCODED, NULL);

  c->ws = mcr_websocket_new (uri);
  c->text = g_byte_array_new ();
  c->binary = g_byte_array_new ();
  mcr_websocket_set_binary_stream (c->ws, stream);
  mcr_websocket_set_receive_func (c->ws, on_receive, c, NULL);
  g_signal_connect (c->ws, "closed", G_CALLBACK (on_client_closed), c);
  g_signal_connect (c->ws, "writable", G_CALLBACK (on_client_writable), c);
  return c;
}

static gboolean
client_connect (Client *c)
{
  mcr_websocket_connect_async (c->ws, NULL, on_connected, c);
  g_assert_true (mcr_test_wait_flag (&c->done, 10000));
  return c->error == NULL;
}

static void
client_free (Client *c)
{
  g_object_unref (c->ws);
  g_byte_array_unref (c->text);
  g_byte_array_unref (c->binary);
  g_clear_error (&c->error);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

/* ---- raw peer helpers ---- */

static void
raw_write (Fixture      *fx,
           const guint8 *data,
           gsize         len)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (fx->raw), data, len, NULL, NULL,
                             &error);
  g_assert_no_error (error);
}

/* An unmasked server frame. */
static void
raw_send_frame (Fixture      *fx,
                guint8        first_byte,
                const void   *payload,
                gsize         len)
{
  guint8 h[10];
  gsize hlen = 2;

  h[0] = first_byte;
  if (len <= 125)
    h[1] = (guint8) len;
  else
    {
      g_assert_cmpuint (len, <=, 0xffff);
      h[1] = 126, h[2] = (guint8) (len >> 8), h[3] = (guint8) len, hlen = 4;
    }
  raw_write (fx, h, hlen);
  if (len > 0)
    raw_write (fx, payload, len);
}

static gboolean
raw_has_frame (gpointer data)
{
  Fixture *fx = data;
  GPollableInputStream *in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (fx->raw));
  guint8 buf[4096];
  gssize n;
  guint64 len;
  gsize hlen;

  while ((n = g_pollable_input_stream_read_nonblocking (in, buf, sizeof buf, NULL, NULL)) > 0)
    g_byte_array_append (fx->raw_in, buf, (guint) n);
  if (fx->raw_in->len < 2)
    return FALSE;
  len = fx->raw_in->data[1] & 0x7f;
  hlen = 2 + 4;
  if (len == 126)
    {
      if (fx->raw_in->len < 4)
        return FALSE;
      len = ((guint64) fx->raw_in->data[2] << 8) | fx->raw_in->data[3];
      hlen += 2;
    }
  g_assert_cmpuint (len, !=, 127);
  return fx->raw_in->len >= hlen + len;
}

/* The next client frame, unmasked; checks that the client masked it. */
static GBytes *
raw_read_frame (Fixture *fx,
                guint8  *first_byte)
{
  guint8 *p;
  guint64 len;
  gsize hlen = 2;
  GBytes *payload;

  g_assert_true (mcr_test_wait_until (raw_has_frame, fx, 5000));
  p = fx->raw_in->data;
  g_assert_true (p[1] & 0x80);
  len = p[1] & 0x7f;
  if (len == 126)
    len = ((guint64) p[2] << 8) | p[3], hlen = 4;
  _mcr_websocket_mask (p + hlen + 4, (gsize) len, p + hlen);
  *first_byte = p[0];
  payload = g_bytes_new (p + hlen + 4, (gsize) len);
  g_byte_array_remove_range (fx->raw_in, 0, (guint) (hlen + 4 + len));
  return payload;
}

static Client *
raw_client (Fixture *fx,
            gboolean stream)
{
  Client *c = client_new (fx, "/raw", stream);

  g_assert_true (client_connect (c));
  mcr_test_assert_wait (fx->raw != NULL, 10000);
  return c;
}

/* ---- tests ---- */

static void
test_mask (void)
{
  guint8 key[4] = { 0x12, 0x34, 0x56, 0x78 };

  for (gsize len = 0; len < 80; len++)
    for (gsize off = 0; off < 8; off++)
      {
        guint8 buf[100], want[100];

        for (gsize i = 0; i < len; i++)
          buf[off + i] = want[off + i] = (guint8) (i * 7 + off);
        for (gsize i = 0; i < len; i++)
          want[off + i] ^= key[i % 4];
        _mcr_websocket_mask (buf + off, len, key);
        g_assert_cmpmem (buf + off, len, want + off, len);
      }
}

static void
test_accept_key (void)
{
  g_autofree char *accept = _mcr_websocket_accept_for_key ("dGhlIHNhbXBsZSBub25jZQ==");

  /* The example of RFC 6455, 1.3. */
  g_assert_cmpstr (accept, ==, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static guint8 *
pattern (gsize len,
         guint seed)
{
  guint8 *p = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    p[i] = (guint8) ((i * 31 + seed) ^ (i >> 8));
  return p;
}

static void
test_echo_messages (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr(Client) c = client_new (fx, "/echo", FALSE);
  const gsize sizes[] = { 0, 1, 125, 126, 65535, 65536, 200000 };
  GTlsCertificateFlags seen = 0;

  mcr_websocket_set_certificate_func (c->ws, accept_any, &seen, NULL);
  g_assert_true (client_connect (c));
  g_assert_cmpint (mcr_websocket_get_state (c->ws), ==, MCR_WEBSOCKET_STATE_OPEN);
  if (fx->tls)
    g_assert_true (seen & G_TLS_CERTIFICATE_UNKNOWN_CA);

  mcr_websocket_send (c->ws, MCR_WEBSOCKET_TEXT, "héllo", strlen ("héllo"));
  mcr_test_assert_wait (c->n_messages >= 1, 10000);
  g_assert_cmpmem (c->text->data, c->text->len, "héllo", strlen ("héllo"));

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree guint8 *p = pattern (sizes[i], i);
      guint before = c->n_messages;

      g_byte_array_set_size (c->binary, 0);
      mcr_websocket_send (c->ws, MCR_WEBSOCKET_BINARY, p, sizes[i]);
      mcr_test_assert_wait (c->n_messages != before, 10000);
      g_assert_cmpmem (c->binary->data, c->binary->len, p, sizes[i]);
    }
  mcr_websocket_close (c->ws, MCR_WEBSOCKET_CLOSE_NORMAL, "done");
  g_assert_true (mcr_test_wait_flag (&c->closed, 5000));
  g_assert_null (mcr_websocket_get_error (c->ws));
  g_assert_true (mcr_test_wait_flag (&fx->peer_closed, 5000));
  g_assert_cmpuint (fx->peer_close_code, ==, MCR_WEBSOCKET_CLOSE_NORMAL);
}

typedef struct
{
  Client       *c;
  const guint8 *p;
  gsize         total;
  gsize         sent;
  gsize         max_queue;
} EchoStream;

/* A wait predicate: sends what the queue takes; TRUE once all came back. */
static gboolean
echo_stream_step (gpointer data)
{
  EchoStream *e = data;

  while (e->sent < e->total && mcr_websocket_can_send (e->c->ws))
    {
      gsize max = 0;
      guint8 *buf = mcr_websocket_begin_send (e->c->ws, &max);
      gsize n = MIN (max, e->total - e->sent);

      g_assert_nonnull (buf);
      g_assert_cmpuint (max, >, 0);
      memcpy (buf, e->p + e->sent, n);
      mcr_websocket_end_send (e->c->ws, MCR_WEBSOCKET_BINARY, n);
      e->sent += n;
      e->max_queue = MAX (e->max_queue, mcr_websocket_get_send_queue_size (e->c->ws));
    }
  return e->c->binary->len >= e->total;
}

/* Streams 8 MiB through the echo peer with the copy-free send path, only
 * while the send queue has room, and compares what comes back. */
static void
test_echo_stream (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(Client) c = client_new (fx, "/echo", TRUE);
  const gsize total = 8 * 1024 * 1024;
  g_autofree guint8 *p = pattern (total, 3);
  EchoStream e = { c, p, total, 0, 0 };
  gsize max_queue;
  GTlsCertificateFlags seen = 0;

  mcr_websocket_set_certificate_func (c->ws, accept_any, &seen, NULL);
  g_assert_true (client_connect (c));
  /* 8 MiB over loopback: a second, some more under the sanitizers. */
  g_assert_true (mcr_test_wait_until (echo_stream_step, &e, 60000));
  max_queue = e.max_queue;
  g_assert_cmpmem (c->binary->data, c->binary->len, p, total);
  g_assert_cmpuint (max_queue, <, MCR_WEBSOCKET_SEND_QUEUE_MAX + MCR_WEBSOCKET_SEND_CHUNK + 16);
  g_assert_cmpuint (mcr_websocket_get_bytes_sent (c->ws), ==, total);
  g_assert_cmpuint (mcr_websocket_get_bytes_received (c->ws), ==, total);
}

static void
test_server_close (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(Client) c = client_new (fx, "/peer", TRUE);

  g_assert_true (client_connect (c));
  mcr_test_assert_wait (fx->peer != NULL, 10000);
  soup_websocket_connection_send_text (fx->peer, "before close");
  soup_websocket_connection_close (fx->peer, 4001, "bye now");
  g_assert_true (mcr_test_wait_flag (&c->closed, 5000));
  /* What came before the close frame was handed on first. */
  g_assert_cmpmem (c->text->data, c->text->len, "before close", 12);
  g_assert_cmpuint (mcr_websocket_get_close_code (c->ws), ==, 4001);
  g_assert_cmpstr (mcr_websocket_get_close_reason (c->ws), ==, "bye now");
  g_assert_null (mcr_websocket_get_error (c->ws));
  g_assert_cmpint (mcr_websocket_get_state (c->ws), ==, MCR_WEBSOCKET_STATE_CLOSED);
  g_assert_true (mcr_test_wait_flag (&fx->peer_closed, 5000));
}

/* libsoup's keepalive pings are answered with pongs. */
static void
test_ping_pong (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(Client) c = client_new (fx, "/peer", TRUE);

  g_assert_true (client_connect (c));
  mcr_test_assert_wait (fx->peer != NULL, 10000);
  soup_websocket_connection_set_keepalive_interval (fx->peer, 1);
  mcr_test_assert_wait (fx->peer_pongs >= 2, 10000);
  g_assert_cmpint (mcr_websocket_get_state (c->ws), ==, MCR_WEBSOCKET_STATE_OPEN);
}

/* A fragmented text message with a ping between its fragments, then a
 * fragmented binary message in stream mode. */
static void
test_fragments (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(Client) c = raw_client (fx, TRUE);
  g_autoptr(GBytes) pong = NULL;
  guint8 first = 0;

  raw_send_frame (fx, 0x01, "Hel", 3);             /* text, not final */
  raw_send_frame (fx, 0x89, "ping-data", 9);       /* ping */
  raw_send_frame (fx, 0x00, "lo, ", 4);            /* continuation */
  raw_send_frame (fx, 0x80, "world", 5);           /* final continuation */
  raw_send_frame (fx, 0x02, "ab", 2);              /* binary, not final */
  raw_send_frame (fx, 0x00, "", 0);                /* empty continuation */
  raw_send_frame (fx, 0x80, "cd", 2);              /* final */

  pong = raw_read_frame (fx, &first);
  g_assert_cmphex (first, ==, 0x8a);
  g_assert_cmpmem (g_bytes_get_data (pong, NULL), g_bytes_get_size (pong), "ping-data", 9);
  mcr_test_assert_wait (c->n_messages >= 2, 10000);
  g_assert_cmpmem (c->text->data, c->text->len, "Hello, world", 12);
  g_assert_cmpmem (c->binary->data, c->binary->len, "abcd", 4);
}

/* Many small frames (the agent sends 4 KiB ones) reach the receiver in a
 * few pieces, with a ping among them answered, also when the receiver takes
 * only part of each piece. */
static void
check_stream_merge (Fixture *fx,
                    gsize    take_limit)
{
  g_autoptr(Client) c = raw_client (fx, TRUE);
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  g_autoptr(GByteArray) want = g_byte_array_new ();
  g_autoptr(GBytes) pong = NULL;
  guint8 first = 0;

  c->take_limit = take_limit;
  for (guint i = 0; i < 40; i++)
    {
      guint8 payload[300];
      guint8 h[4] = { i % 3 == 1 ? 0x00 : 0x02, 126, 0, 0 };
      gsize len = 100 + i * 5;

      /* Messages of three frames: binary, continuation, final continuation. */
      if (i % 3 == 2)
        h[0] = 0x80;
      if (i == 39)
        h[0] = i % 3 == 0 ? 0x82 : 0x80;
      h[2] = (guint8) (len >> 8), h[3] = (guint8) len;
      for (gsize k = 0; k < len; k++)
        payload[k] = (guint8) (i * 7 + k);
      g_byte_array_append (wire, h, 4);
      g_byte_array_append (wire, payload, (guint) len);
      g_byte_array_append (want, payload, (guint) len);
      if (i == 20)
        g_byte_array_append (wire, (const guint8 *) "\x89\x02hi", 4);
    }
  raw_write (fx, wire->data, wire->len);
  mcr_test_assert_wait (c->binary->len >= want->len, 10000);
  g_assert_cmpmem (c->binary->data, c->binary->len, want->data, want->len);
  pong = raw_read_frame (fx, &first);
  g_assert_cmphex (first, ==, 0x8a);
  g_assert_cmpmem (g_bytes_get_data (pong, NULL), g_bytes_get_size (pong), "hi", 2);
  g_test_message ("40 frames in %u pieces", c->n_pieces);
  if (take_limit == 0)
    g_assert_cmpuint (c->n_pieces, <, 10);
}

static void
test_stream_merge (Fixture       *fx,
                   gconstpointer  data)
{
  check_stream_merge (fx, 0);
}

static void
test_stream_merge_slow (Fixture       *fx,
                        gconstpointer  data)
{
  check_stream_merge (fx, 77);
}

typedef struct
{
  Client *c;
  guint   want;
} Want;

static gboolean
client_has (gpointer data)
{
  Want *w = data;

  return w->c->binary->len >= w->want;
}

/* A fast stream is read in larger bites (the socket wakes the reader only
 * once 32 KiB wait): a tail too small to wake it must still come within a
 * few milliseconds, and the bulk before it byte-exact. */
static void
test_bulk_tail (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(Client) c = client_new (fx, "/raw", TRUE);
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  GTlsCertificateFlags seen = 0;
  guint8 frame[4096];
  Want w = { c, 0 };

  mcr_websocket_set_certificate_func (c->ws, accept_any, &seen, NULL);
  g_assert_true (client_connect (c));
  mcr_test_assert_wait (fx->raw != NULL, 10000);

  for (guint round = 0; round < 3; round++)
    {
      gint64 t0, elapsed;

      /* 96 KiB in 4 KiB frames, as the agent sends them. */
      for (guint i = 0; i < 24; i++)
        {
          for (gsize k = 0; k < sizeof frame; k++)
            frame[k] = (guint8) (k * 7 + i + round * 31);
          raw_send_frame (fx, 0x82, frame, sizeof frame);
          g_byte_array_append (expected, frame, sizeof frame);
        }
      w.want = expected->len;
      g_assert_true (mcr_test_wait_until (client_has, &w, 5000));
      /* Right after the bulk: a tail that cannot wake the socket alone. */
      raw_send_frame (fx, 0x82, "tail", 4);
      g_byte_array_append (expected, (const guint8 *) "tail", 4);
      w.want = expected->len;
      t0 = g_get_monotonic_time ();
      /* Without the tail deadline it would never come (nothing else wakes
       * the reader); how soon it comes is the machine's business (a few ms
       * here, more under the sanitizers on a busy machine), so it is
       * reported, not asserted. */
      g_assert_true (mcr_test_wait_until (client_has, &w, 5000));
      elapsed = g_get_monotonic_time () - t0;
      g_test_message ("round %u: tail after %" G_GINT64_FORMAT " us", round, elapsed);
    }
  g_assert_cmpmem (c->binary->data, c->binary->len, expected->data, expected->len);
}

static void
test_fragments_message_mode (Fixture       *fx,
                             gconstpointer  data)
{
  g_autoptr(Client) c = raw_client (fx, FALSE);

  raw_send_frame (fx, 0x02, "12", 2);
  raw_send_frame (fx, 0x00, "34", 2);
  raw_send_frame (fx, 0x80, "56", 2);
  raw_send_frame (fx, 0x82, "whole", 5);
  mcr_test_assert_wait (c->n_messages >= 2, 10000);
  g_assert_cmpmem (c->binary->data, c->binary->len, "123456whole", 11);
}

static void
test_client_close_handshake (Fixture       *fx,
                             gconstpointer  data)
{
  g_autoptr(Client) c = raw_client (fx, TRUE);
  g_autoptr(GBytes) close_frame = NULL;
  guint8 first = 0;
  const guint8 *p;
  gsize len;

  mcr_websocket_send (c->ws, MCR_WEBSOCKET_BINARY, "last", 4);
  mcr_websocket_close (c->ws, 4321, "my reason");
  g_assert_cmpint (mcr_websocket_get_state (c->ws), ==, MCR_WEBSOCKET_STATE_CLOSING);
  g_assert_false (mcr_websocket_can_send (c->ws));
  /* Queued data goes out before the close frame. */
  g_bytes_unref (raw_read_frame (fx, &first));
  g_assert_cmphex (first, ==, 0x82);
  close_frame = raw_read_frame (fx, &first);
  g_assert_cmphex (first, ==, 0x88);
  p = g_bytes_get_data (close_frame, &len);
  g_assert_cmpuint (len, ==, 2 + 9);
  g_assert_cmpuint ((p[0] << 8) | p[1], ==, 4321);
  g_assert_cmpmem (p + 2, len - 2, "my reason", 9);
  /* Data the server still sends is handed on until its close frame. */
  raw_send_frame (fx, 0x82, "late", 4);
  raw_send_frame (fx, 0x88, "\x10\xe1", 2);
  g_assert_true (mcr_test_wait_flag (&c->closed, 5000));
  g_assert_cmpmem (c->binary->data, c->binary->len, "late", 4);
  g_assert_cmpuint (mcr_websocket_get_close_code (c->ws), ==, 4321);
  g_assert_null (mcr_websocket_get_error (c->ws));
}

static void
test_close_without_frame (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(Client) c = raw_client (fx, TRUE);
  const GError *error;

  raw_send_frame (fx, 0x82, "xyz", 3);
  g_io_stream_close (fx->raw, NULL, NULL);
  g_assert_true (mcr_test_wait_flag (&c->closed, 5000));
  g_assert_cmpmem (c->binary->data, c->binary->len, "xyz", 3);
  error = mcr_websocket_get_error (c->ws);
  g_assert_error (error, MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_CLOSED);
  g_assert_cmpuint (mcr_websocket_get_close_code (c->ws), ==, MCR_WEBSOCKET_CLOSE_ABNORMAL);
}

static void
check_protocol_error (Fixture      *fx,
                      const guint8 *frame,
                      gsize         len,
                      gint          code,
                      gushort       close_code)
{
  g_autoptr(Client) c = raw_client (fx, FALSE);
  g_autoptr(GBytes) close_frame = NULL;
  guint8 first = 0;
  const guint8 *p;

  mcr_websocket_set_max_message_size (c->ws, 1000);
  raw_write (fx, frame, len);
  g_assert_true (mcr_test_wait_flag (&c->closed, 5000));
  g_assert_error (mcr_websocket_get_error (c->ws), MCR_WEBSOCKET_ERROR, code);
  close_frame = raw_read_frame (fx, &first);
  g_assert_cmphex (first, ==, 0x88);
  p = g_bytes_get_data (close_frame, NULL);
  g_assert_cmpuint ((p[0] << 8) | p[1], ==, close_code);
  g_clear_object (&fx->raw);
  g_byte_array_set_size (fx->raw_in, 0);
}

static void
test_protocol_errors (Fixture       *fx,
                      gconstpointer  data)
{
  static const guint8 masked[] = { 0x82, 0x81, 1, 2, 3, 4, 'x' };
  static const guint8 reserved[] = { 0xc2, 0x01, 'x' };
  static const guint8 opcode[] = { 0x83, 0x00 };
  static const guint8 long_ping[] = { 0x89, 126, 0, 200 };
  static const guint8 stray_continuation[] = { 0x80, 0x01, 'x' };
  static const guint8 bad_utf8[] = { 0x81, 0x02, 0xc3, 0x28 };
  static const guint8 too_big[] = { 0x82, 126, 0x07, 0xd0 };

  check_protocol_error (fx, masked, sizeof masked, MCR_WEBSOCKET_ERROR_PROTOCOL,
                        MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
  check_protocol_error (fx, reserved, sizeof reserved, MCR_WEBSOCKET_ERROR_PROTOCOL,
                        MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
  check_protocol_error (fx, opcode, sizeof opcode, MCR_WEBSOCKET_ERROR_PROTOCOL,
                        MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
  check_protocol_error (fx, long_ping, sizeof long_ping, MCR_WEBSOCKET_ERROR_PROTOCOL,
                        MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
  check_protocol_error (fx, stray_continuation, sizeof stray_continuation,
                        MCR_WEBSOCKET_ERROR_PROTOCOL, MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
  check_protocol_error (fx, bad_utf8, sizeof bad_utf8, MCR_WEBSOCKET_ERROR_PROTOCOL,
                        MCR_WEBSOCKET_CLOSE_BAD_DATA);
  check_protocol_error (fx, too_big, sizeof too_big, MCR_WEBSOCKET_ERROR_TOO_BIG,
                        MCR_WEBSOCKET_CLOSE_TOO_BIG);
}

static void
test_handshake_refused (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr(Client) c = client_new (fx, "/refuse", TRUE);
  g_autoptr(Client) c2 = client_new (fx, "/badaccept", TRUE);

  g_assert_false (client_connect (c));
  g_assert_error (c->error, MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE);
  g_assert_nonnull (strstr (c->error->message, "403"));
  g_assert_cmpint (mcr_websocket_get_state (c->ws), ==, MCR_WEBSOCKET_STATE_CLOSED);
  g_assert_false (c->closed);

  g_assert_false (client_connect (c2));
  g_assert_error (c2->error, MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE);
}

static void
test_connect_refused (void)
{
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                       G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) got = NULL;
  g_autofree char *s_uri = NULL;
  g_autoptr(GUri) uri = NULL;
  Client c = { 0 };

  /* A port that is bound but not listening refuses connections. */
  g_assert_true (g_socket_bind (s, want, FALSE, NULL));
  got = g_socket_get_local_address (s, NULL);
  s_uri = g_strdup_printf ("wss://127.0.0.1:%u/x",
                           g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got)));
  uri = g_uri_parse (s_uri, G_URI_FLAGS_NONE, NULL);
  c.ws = mcr_websocket_new (uri);
  mcr_websocket_connect_async (c.ws, NULL, on_connected, &c);
  g_assert_true (mcr_test_wait_flag (&c.done, 5000));
  g_assert_error (c.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&c.error);
  g_object_unref (c.ws);
}

static void
test_cancel_connect (Fixture       *fx,
                     gconstpointer  data)
{
  g_autoptr(Client) c = client_new (fx, "/echo", TRUE);

  mcr_websocket_connect_async (c->ws, NULL, on_connected, c);
  mcr_websocket_close (c->ws, MCR_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_assert_true (mcr_test_wait_flag (&c->done, 5000));
  g_assert_error (c->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (mcr_websocket_get_state (c->ws), ==, MCR_WEBSOCKET_STATE_CLOSED);
}

static void
test_tls_refused (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(Client) c = client_new (fx, "/echo", TRUE);

  mcr_websocket_set_certificate_func (c->ws, accept_none, NULL, NULL);
  g_assert_false (client_connect (c));
  g_assert_error (c->error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
}

/* The receiver stops taking data: the client stops reading, holding no more
 * than its receive buffer, so the peer's writes block; when it resumes,
 * everything arrives. */
typedef struct
{
  GPollableOutputStream *out;
  GByteArray            *frames;
  gsize                  written;
  Client                *c;
  gsize                  want;
} WriteRest;

/* A wait predicate: writes what the socket takes; TRUE once the client has
 * received it all. */
static gboolean
write_rest_step (gpointer data)
{
  WriteRest *w = data;

  if (w->written < w->frames->len)
    {
      gssize n = g_pollable_output_stream_write_nonblocking (w->out, w->frames->data + w->written,
                                                             w->frames->len - w->written, NULL,
                                                             NULL);
      if (n > 0)
        w->written += (gsize) n;
    }
  return w->c->binary->len >= w->want;
}

static void
test_receive_backpressure (Fixture       *fx,
                           gconstpointer  data)
{
  g_autoptr(Client) c = raw_client (fx, TRUE);
  GPollableOutputStream *out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (fx->raw));
  const gsize frame_len = 4 + 60000, n_frames = 400;
  g_autoptr(GByteArray) frames = g_byte_array_sized_new ((guint) (frame_len * n_frames));
  g_autofree guint8 *chunk = pattern (60000, 9);
  gsize written = 0;
  guint idle_rounds = 0;
  WriteRest rest;

  for (gsize i = 0; i < n_frames; i++)
    {
      const guint8 h[4] = { 0x82, 126, (guint8) (60000 >> 8), (guint8) (60000 & 0xff) };

      g_byte_array_append (frames, h, 4);
      g_byte_array_append (frames, chunk, 60000);
    }

  c->pause = TRUE;
  while (idle_rounds < 100 && written < frames->len)
    {
      gssize n = g_pollable_output_stream_write_nonblocking (out, frames->data + written,
                                                             frames->len - written, NULL, NULL);

      if (n > 0)
        written += (gsize) n, idle_rounds = 0;
      else
        idle_rounds++;
      g_main_context_iteration (NULL, FALSE);
    }
  /* The peer is stuck: the client took nothing and read little. */
  g_assert_cmpuint (written, <, frames->len);
  g_assert_cmpuint (c->binary->len, ==, 0);
  g_assert_cmpuint (mcr_websocket_get_bytes_received (c->ws), ==, 0);

  c->pause = FALSE;
  mcr_websocket_resume_receive (c->ws);
  rest.out = out;
  rest.frames = frames;
  rest.written = written;
  rest.c = c;
  rest.want = n_frames * 60000;
  /* 24 MiB over loopback. */
  g_assert_true (mcr_test_wait_until (write_rest_step, &rest, 60000));
  g_assert_cmpuint (c->binary->len, ==, n_frames * 60000);
  for (gsize off = 0; off < c->binary->len; off += 60000)
    g_assert_cmpmem (c->binary->data + off, 60000, chunk, 60000);
}

/* The peer stops reading: can_send() turns FALSE with the queue bounded;
 * when it reads again, "writable" comes and everything arrives. */
static void
test_send_backpressure (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr(Client) c = raw_client (fx, TRUE);
  gsize sent = 0, received = 0;
  guint8 block[MCR_WEBSOCKET_SEND_CHUNK];

  memset (block, 'q', sizeof block);
  for (guint rounds = 0; rounds < 200 && mcr_websocket_can_send (c->ws); rounds++)
    {
      while (mcr_websocket_can_send (c->ws))
        {
          gsize max = 0;
          guint8 *buf = mcr_websocket_begin_send (c->ws, &max);

          memcpy (buf, block, max);
          mcr_websocket_end_send (c->ws, MCR_WEBSOCKET_BINARY, max);
          sent += max;
        }
      g_main_context_iteration (NULL, FALSE);
    }
  g_assert_false (mcr_websocket_can_send (c->ws));
  g_assert_cmpuint (mcr_websocket_get_send_queue_size (c->ws), <,
                    MCR_WEBSOCKET_SEND_QUEUE_MAX + MCR_WEBSOCKET_SEND_CHUNK + 16);
  g_assert_cmpuint (c->writable, ==, 0);

  /* Now read everything on the server side. */
  while (received < sent)
    {
      guint8 first = 0;
      g_autoptr(GBytes) frame = raw_read_frame (fx, &first);

      g_assert_cmphex (first, ==, 0x82);
      received += g_bytes_get_size (frame);
    }
  g_assert_cmpuint (received, ==, sent);
  g_assert_cmpuint (c->writable, >=, 1);
  g_assert_true (mcr_websocket_can_send (c->ws));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/websocket/mask", test_mask);
  g_test_add_func ("/websocket/accept-key", test_accept_key);
  g_test_add_func ("/websocket/connect-refused", test_connect_refused);
#define ADD(path, func, tls) \
  g_test_add ("/websocket/" path, Fixture, GINT_TO_POINTER (tls), fixture_setup, func, \
              fixture_teardown)
  ADD ("echo-messages", test_echo_messages, FALSE);
  ADD ("echo-messages-tls", test_echo_messages, TRUE);
  ADD ("echo-stream", test_echo_stream, FALSE);
  ADD ("echo-stream-tls", test_echo_stream, TRUE);
  ADD ("server-close", test_server_close, FALSE);
  ADD ("ping-pong", test_ping_pong, FALSE);
  ADD ("fragments", test_fragments, FALSE);
  ADD ("fragments-message-mode", test_fragments_message_mode, FALSE);
  ADD ("stream-merge", test_stream_merge, FALSE);
  ADD ("stream-merge-slow", test_stream_merge_slow, FALSE);
  ADD ("bulk-tail", test_bulk_tail, FALSE);
  ADD ("bulk-tail-tls", test_bulk_tail, TRUE);
  ADD ("client-close", test_client_close_handshake, FALSE);
  ADD ("close-without-frame", test_close_without_frame, FALSE);
  ADD ("protocol-errors", test_protocol_errors, FALSE);
  ADD ("handshake-refused", test_handshake_refused, FALSE);
  ADD ("cancel-connect", test_cancel_connect, FALSE);
  ADD ("tls-refused", test_tls_refused, TRUE);
  ADD ("receive-backpressure", test_receive_backpressure, FALSE);
  ADD ("send-backpressure", test_send_backpressure, FALSE);
#undef ADD
  return g_test_run ();
}
