/* mcr-websocket.c: a small RFC 6455 WebSocket client with real backpressure,
 * for tunnels
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Why not SoupWebsocketConnection: libsoup 3 reads its connection whenever
 * data arrives and hands every message on at once, and queues every message
 * sent without saying when it was written. A tunnel must stop reading the
 * relay while the local program is slow, and stop reading the local program
 * while the relay is slow; with libsoup both would need unbounded queues
 * (measured: see the relay engine's report). So tunnels speak RFC 6455 here,
 * over a TLS stream of our own (mcr-tls-stream.c), reading only when the
 * receiver takes more and telling the sender when its bounded queue has room
 * again. libsoup still does HTTP and the control channel.
 */
#define G_LOG_DOMAIN "mcr-websocket"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gnutls/crypto.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "mcr-io-source.h"
#include "mcr-tls-stream.h"
#include "mcr-websocket-private.h"

#define OPCODE_CONTINUATION 0x0
#define OPCODE_TEXT         0x1
#define OPCODE_BINARY       0x2
#define OPCODE_CLOSE        0x8
#define OPCODE_PING         0x9
#define OPCODE_PONG         0xA

#define WS_GUID                 "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_RESPONSE_HEADERS    (16 * 1024)
#define CONNECT_TIMEOUT_S       30
#define CLOSE_TIMEOUT_S         5
/* Read at most this much per wakeup so that one busy tunnel does not starve
 * the others sharing the main loop. */
#define READ_BUDGET             (256 * 1024)
#define OUT_BUFFER_SIZE         (MCR_WEBSOCKET_SEND_QUEUE_MAX + MCR_WEBSOCKET_SEND_CHUNK + 16)
/* What begin_send() offers: with its 8-byte header a frame is then exactly
 * two full TLS records (16 KiB each), where 32 KiB of payload made three,
 * the last of 8 bytes: a record and a send() more per frame. */
#define SEND_PAYLOAD            (MCR_WEBSOCKET_SEND_CHUNK - 8)
#define DEFAULT_MAX_MESSAGE     (256 * 1024)
/* A certificate check is reused for at most this long (microseconds). */
#define CERT_MEMORY_US          (10 * G_TIME_SPAN_MINUTE)
/* Read moderation: a stream that brings BULK_ENTER bytes within
 * BULK_WINDOW_US is woken only once BULK_LOWAT bytes wait (SO_RCVLOWAT),
 * or BULK_DELAY_US after its last read for a tail; BULK_QUIET_TURNS turns
 * in a row that find less than BULK_EXIT (the relay paused, or the stream
 * is interactive) go back to a wakeup per arrival. */
#define BULK_ENTER              (32 * 1024)
#define BULK_WINDOW_US          2000
#define BULK_LOWAT              (128 * 1024)
#define BULK_DELAY_US           2000
#define BULK_EXIT               (4 * 1024)
#define BULK_QUIET_TURNS        4

struct _McrWebSocket
{
  GObject                     parent_instance;

  GUri                       *uri;
  gboolean                    tls;
  GProxyResolver             *proxy_resolver;
  McrWebSocketCertificateFunc cert_func;
  gpointer                    cert_data;
  GDestroyNotify              cert_destroy;
  McrTlsPolicy               *tls_policy;
  GPtrArray                  *headers;      /* "Name: value" lines */
  gboolean                    binary_stream;
  gsize                       max_message_size;
  McrWebSocketReceiveFunc     receive_func;
  gpointer                    receive_data;
  GDestroyNotify              receive_destroy;

  McrWebSocketState           state;
  GMainContext               *context;

  /* Connecting */
  GTask                      *connect_task;
  GCancellable               *cancellable;
  GCancellable               *user_cancellable;
  gulong                      user_cancel_id;
  GSource                    *connect_timeout;
  gboolean                    timed_out;
  char                       *key;
  char                       *request;
  guint8                     *resp_buf;       /* the upgrade answer */
  gsize                       resp_len;
  gsize                       resp_cap;

  GIOStream                  *stream;
  GIOStream                  *connection;     /* the socket under TLS */
  GPollableInputStream       *input;
  GPollableOutputStream      *output;
  GSource                    *io_source;      /* reading and writing, once open */
  GSocket                    *poll_socket;    /* what io_source polls, if a socket */
  gboolean                    bulk;           /* read moderation on */
  guint                       quiet_turns;
  gint64                      window_start;
  gsize                       window_bytes;
  GSource                    *close_timeout;

  /* Receiving: in_buf[in_pos..in_len) is read but not handed on yet. */
  guint8                     *in_buf;
  gboolean                    in_shared;      /* in_buf is the shared scratch block */
  gsize                       in_pos;
  gsize                       in_len;
  gboolean                    paused;
  gboolean                    input_ended;    /* EOF or an error after in_buf's bytes */
  GError                     *input_error;
  gboolean                    in_payload;     /* inside a data frame's payload */
  guint64                     frame_remaining;
  gboolean                    frame_fin;
  guint8                      message_opcode; /* of the data message in progress, or 0 */
  GByteArray                 *message;        /* a whole message being put together */
  gboolean                    message_ready;

  /* Sending: out_buf[out_pos..out_len) is framed and not written yet. */
  guint8                     *out_buf;
  gboolean                    out_shared;     /* begin_send() lent the shared block */
  gsize                       out_cap;
  gsize                       out_pos;
  gsize                       out_len;
  gboolean                    want_writable;

  gboolean                    close_sent;
  gboolean                    close_received;
  gushort                     close_code;
  char                       *close_reason;
  GError                     *error;
  guint64                     bytes_sent;
  guint64                     bytes_received;
};

enum
{
  PROP_0,
  PROP_STATE,
  N_PROPS
};

enum
{
  SIGNAL_WRITABLE,
  SIGNAL_CLOSED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint       signals[N_SIGNALS];

/* Scratch blocks shared by every WebSocket of the (one, main-loop) thread.
 * A connection reads and frames in them, and copies into memory of its own
 * only what it cannot hand on at once: a thousand idle or keeping-up
 * tunnels hold no buffers at all. */
static guint8  *shared_in;
static gboolean shared_in_busy;
static guint8  *shared_out;
static gboolean shared_out_busy;

G_DEFINE_QUARK (mcr-websocket-error-quark, mcr_websocket_error)
G_DEFINE_FINAL_TYPE (McrWebSocket, mcr_websocket, G_TYPE_OBJECT)

static void read_and_process (McrWebSocket *self);
static void flush_output     (McrWebSocket *self);
static void update_events    (McrWebSocket *self,
                              GIOCondition  add,
                              GIOCondition  remove);

/* ---- small helpers ---- */

void
_mcr_websocket_mask (guint8       *data,
                     gsize         len,
                     const guint8  key[4])
{
  guint8 key8[8] = { key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3] };
  guint64 mask;
  gsize i = 0;

  /* Word-wide: this runs over every byte sent. */
  memcpy (&mask, key8, sizeof mask);
  for (; i + 32 <= len; i += 32)
    {
      guint64 w[4];

      memcpy (w, data + i, sizeof w);
      w[0] ^= mask, w[1] ^= mask, w[2] ^= mask, w[3] ^= mask;
      memcpy (data + i, w, sizeof w);
    }
  for (; i + 8 <= len; i += 8)
    {
      guint64 w;

      memcpy (&w, data + i, sizeof w);
      w ^= mask;
      memcpy (data + i, &w, sizeof w);
    }
  for (; i < len; i++)
    data[i] ^= key[i & 3];
}

char *
_mcr_websocket_accept_for_key (const char *key)
{
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_len = sizeof digest;

  g_checksum_update (sha1, (const guchar *) key, -1);
  g_checksum_update (sha1, (const guchar *) WS_GUID, -1);
  g_checksum_get_digest (sha1, digest, &digest_len);
  return g_base64_encode (digest, digest_len);
}

static void
random_bytes (guint8 *buf,
              gsize   len)
{
  /* Mask keys must be unpredictable (RFC 6455, 10.3). */
  if (gnutls_rnd (GNUTLS_RND_NONCE, buf, len) < 0)
    for (gsize i = 0; i < len; i++)
      buf[i] = (guint8) g_random_int ();
}

static GSource *
attach_source (McrWebSocket *self,
               GSource      *source,
               GSourceFunc   func)
{
  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, self->context);
  return source;
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
set_state (McrWebSocket      *self,
           McrWebSocketState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
acquire_input (McrWebSocket *self)
{
  if (self->in_buf != NULL)
    return;
  if (!shared_in_busy)
    {
      if (shared_in == NULL)
        shared_in = g_malloc (MCR_WEBSOCKET_RECEIVE_BUFFER);
      shared_in_busy = TRUE;
      self->in_shared = TRUE;
      self->in_buf = shared_in;
    }
  else
    self->in_buf = g_malloc (MCR_WEBSOCKET_RECEIVE_BUFFER);
  self->in_pos = self->in_len = 0;
}

/* Gives the shared block back, keeping what is left in it (a partial
 * frame, or what a paused receiver has not taken) in a block of our own. */
static void
release_input (McrWebSocket *self,
               gboolean      drop)
{
  gsize left;

  if (self->in_buf == NULL)
    return;
  left = self->in_len - self->in_pos;
  if (drop || left == 0)
    {
      if (self->in_shared)
        shared_in_busy = FALSE;
      else
        g_free (self->in_buf);
      self->in_buf = NULL;
      self->in_shared = FALSE;
      self->in_pos = self->in_len = 0;
      return;
    }
  if (self->in_shared)
    {
      guint8 *own = g_malloc (MCR_WEBSOCKET_RECEIVE_BUFFER);

      memcpy (own, self->in_buf + self->in_pos, left);
      shared_in_busy = FALSE;
      self->in_shared = FALSE;
      self->in_buf = own;
    }
  else if (self->in_pos > 0)
    memmove (self->in_buf, self->in_buf + self->in_pos, left);
  self->in_pos = 0;
  self->in_len = left;
}

/* Drops the connection now. The socket is closed at once, also under TLS:
 * the WebSocket close handshake (when there was one) already said
 * goodbye, and a TLS close_notify would wait on a thread that may still be
 * in a handshake. */
static void
drop_stream (McrWebSocket *self)
{
  clear_source (&self->io_source);
  self->poll_socket = NULL;
  clear_source (&self->close_timeout);
  if (self->connection != NULL)
    g_io_stream_close (self->connection, NULL, NULL);
  else if (self->stream != NULL)
    g_io_stream_close (self->stream, NULL, NULL);
  g_clear_object (&self->stream);
  g_clear_object (&self->connection);
  self->input = NULL;
  self->output = NULL;
  release_input (self, TRUE);
  g_clear_pointer (&self->out_buf, g_free);
  self->out_pos = self->out_len = self->out_cap = 0;
  g_clear_pointer (&self->message, g_byte_array_unref);
}

/* The end, once: after a close handshake (@error NULL) or a failure. */
static void
finish (McrWebSocket *self,
        GError       *error)
{
  g_autoptr(McrWebSocket) hold G_GNUC_UNUSED = g_object_ref (self);

  if (self->state == MCR_WEBSOCKET_STATE_CLOSED)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      g_debug ("connection to %s ends: %s", g_uri_get_path (self->uri), error->message);
      if (self->error == NULL)
        self->error = error;
      else
        g_error_free (error);
    }
  if (self->close_code == 0)
    self->close_code = MCR_WEBSOCKET_CLOSE_ABNORMAL;
  drop_stream (self);
  set_state (self, MCR_WEBSOCKET_STATE_CLOSED);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
}

/* ---- sending ---- */

static void
ensure_out_space (McrWebSocket *self,
                  gsize         need)
{
  if (self->out_buf == NULL)
    {
      self->out_cap = MAX (OUT_BUFFER_SIZE, need);
      self->out_buf = g_malloc (self->out_cap);
      self->out_pos = self->out_len = 0;
      return;
    }
  if (self->out_cap - self->out_len >= need)
    return;
  if (self->out_pos > 0)
    {
      memmove (self->out_buf, self->out_buf + self->out_pos, self->out_len - self->out_pos);
      self->out_len -= self->out_pos;
      self->out_pos = 0;
    }
  if (self->out_cap - self->out_len < need)
    {
      self->out_cap = self->out_len + need;
      self->out_buf = g_realloc (self->out_buf, self->out_cap);
    }
}

/* Writes a client frame header (masked) for @len payload bytes; returns its
 * length (6, 8 or 14) and the mask key in @key. */
static gsize
write_header (guint8  *h,
              guint8   opcode,
              guint64  len,
              guint8   key[4])
{
  gsize n;

  h[0] = 0x80 | opcode;
  if (len <= 125)
    {
      h[1] = 0x80 | (guint8) len;
      n = 2;
    }
  else if (len <= 0xffff)
    {
      h[1] = 0x80 | 126;
      h[2] = (guint8) (len >> 8);
      h[3] = (guint8) len;
      n = 4;
    }
  else
    {
      h[1] = 0x80 | 127;
      for (int i = 0; i < 8; i++)
        h[2 + i] = (guint8) (len >> (56 - 8 * i));
      n = 10;
    }
  random_bytes (key, 4);
  memcpy (h + n, key, 4);
  return n + 4;
}

static void
queue_frame (McrWebSocket *self,
             guint8        opcode,
             const void   *data,
             gsize         len)
{
  guint8 key[4];
  guint8 *h;
  gsize hlen;

  ensure_out_space (self, 14 + len);
  h = self->out_buf + self->out_len;
  hlen = write_header (h, opcode, len, key);
  if (len > 0)
    memcpy (h + hlen, data, len);
  _mcr_websocket_mask (h + hlen, len, key);
  self->out_len += hlen + len;
}

static gsize
queue_size (McrWebSocket *self)
{
  return self->out_len - self->out_pos;
}

static void
output_ready (McrWebSocket *self)
{
  flush_output (self);
  if (self->want_writable && self->state == MCR_WEBSOCKET_STATE_OPEN && !self->close_sent &&
      queue_size (self) < MCR_WEBSOCKET_SEND_QUEUE_MAX / 2)
    {
      self->want_writable = FALSE;
      g_signal_emit (self, signals[SIGNAL_WRITABLE], 0);
    }
}

static void
maybe_finish_close (McrWebSocket *self)
{
  if (self->close_sent && self->close_received && queue_size (self) == 0)
    finish (self, NULL);
}

static void
flush_output (McrWebSocket *self)
{
  while (self->output != NULL && self->out_pos < self->out_len)
    {
      GOutputVector v = { self->out_buf + self->out_pos, self->out_len - self->out_pos };
      g_autoptr(GError) error = NULL;
      gsize written = 0;
      GPollableReturn r;

      r = g_pollable_output_stream_writev_nonblocking (self->output, &v, 1, &written, NULL,
                                                        &error);
      if (r == G_POLLABLE_RETURN_WOULD_BLOCK)
        {
          update_events (self, G_IO_OUT, 0);
          return;
        }
      if (r == G_POLLABLE_RETURN_FAILED)
        {
          finish (self, g_steal_pointer (&error));
          return;
        }
      self->out_pos += written;
    }
  if (self->output == NULL)
    return;
  /* Drained: give the memory back (a thousand idle tunnels must stay small). */
  g_clear_pointer (&self->out_buf, g_free);
  self->out_pos = self->out_len = self->out_cap = 0;
  update_events (self, 0, G_IO_OUT);
  maybe_finish_close (self);
}

gboolean
mcr_websocket_can_send (McrWebSocket *self)
{
  g_return_val_if_fail (MCR_IS_WEBSOCKET (self), FALSE);

  if (self->state != MCR_WEBSOCKET_STATE_OPEN || self->close_sent)
    return FALSE;
  if (queue_size (self) >= MCR_WEBSOCKET_SEND_QUEUE_MAX)
    {
      self->want_writable = TRUE;
      return FALSE;
    }
  return TRUE;
}

gsize
mcr_websocket_get_send_queue_size (McrWebSocket *self)
{
  g_return_val_if_fail (MCR_IS_WEBSOCKET (self), 0);

  return queue_size (self);
}

void
mcr_websocket_send (McrWebSocket         *self,
                    McrWebSocketDataType  type,
                    const void           *data,
                    gsize                 len)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));
  g_return_if_fail (type == MCR_WEBSOCKET_TEXT || type == MCR_WEBSOCKET_BINARY);

  if (self->state != MCR_WEBSOCKET_STATE_OPEN || self->close_sent)
    return;
  queue_frame (self, (guint8) type, data, len);
  self->bytes_sent += len;
  flush_output (self);
}

guint8 *
mcr_websocket_begin_send (McrWebSocket *self,
                          gsize        *max_len)
{
  g_return_val_if_fail (MCR_IS_WEBSOCKET (self), NULL);
  g_return_val_if_fail (max_len != NULL, NULL);

  *max_len = 0;
  if (self->state != MCR_WEBSOCKET_STATE_OPEN || self->close_sent)
    return NULL;
  /* Room for the longest header this frame can need (8 bytes for up to
   * 64 KiB); end_send() moves a short payload up if the header is shorter. */
  if (queue_size (self) == 0 && !shared_out_busy)
    {
      /* Nothing waits: frame in the shared block and write from there. */
      if (shared_out == NULL)
        shared_out = g_malloc (8 + MCR_WEBSOCKET_SEND_CHUNK);
      shared_out_busy = TRUE;
      self->out_shared = TRUE;
      *max_len = SEND_PAYLOAD;
      return shared_out + 8;
    }
  ensure_out_space (self, 8 + MCR_WEBSOCKET_SEND_CHUNK);
  *max_len = MIN (SEND_PAYLOAD, self->out_cap - self->out_len - 8);
  return self->out_buf + self->out_len + 8;
}

/* Frames and masks @len payload bytes that sit 8 bytes after @h; returns the
 * frame's length, starting at @h. */
static gsize
frame_in_place (guint8               *h,
                McrWebSocketDataType  type,
                gsize                 len)
{
  guint8 *payload = h + 8, key[4];
  gsize hlen;

  if (len <= 125)
    {
      memmove (h + 6, payload, len);
      payload = h + 6;
    }
  hlen = write_header (h, (guint8) type, len, key);
  g_assert (h + hlen == payload);
  _mcr_websocket_mask (payload, len, key);
  return hlen + len;
}

/* The shared block's frame: written at once as far as the connection takes
 * it; only the rest is copied into our queue. */
static void
send_shared (McrWebSocket         *self,
             McrWebSocketDataType  type,
             gsize                 len)
{
  gsize total = frame_in_place (shared_out, type, len);
  GOutputVector v = { shared_out, total };
  g_autoptr(GError) error = NULL;
  gsize written = 0;
  GPollableReturn r;

  self->bytes_sent += len;
  r = g_pollable_output_stream_writev_nonblocking (self->output, &v, 1, &written, NULL, &error);
  if (r == G_POLLABLE_RETURN_FAILED)
    {
      finish (self, g_steal_pointer (&error));
      return;
    }
  if (r == G_POLLABLE_RETURN_WOULD_BLOCK)
    written = 0;
  if (written < total)
    {
      ensure_out_space (self, total - written);
      memcpy (self->out_buf + self->out_len, shared_out + written, total - written);
      self->out_len += total - written;
      flush_output (self);
    }
}

void
mcr_websocket_end_send (McrWebSocket         *self,
                        McrWebSocketDataType  type,
                        gsize                 len)
{
  gboolean open;

  g_return_if_fail (MCR_IS_WEBSOCKET (self));
  g_return_if_fail (len <= MCR_WEBSOCKET_SEND_CHUNK);

  open = self->state == MCR_WEBSOCKET_STATE_OPEN && !self->close_sent && self->output != NULL;
  if (self->out_shared)
    {
      self->out_shared = FALSE;
      shared_out_busy = FALSE;
      if (len > 0 && open)
        send_shared (self, type, len);
      return;
    }
  if (len == 0 || self->out_buf == NULL || !open)
    {
      /* Nothing read: do not keep the space of an empty queue. */
      if (self->out_buf != NULL && queue_size (self) == 0)
        {
          g_clear_pointer (&self->out_buf, g_free);
          self->out_pos = self->out_len = self->out_cap = 0;
        }
      return;
    }
  g_return_if_fail (self->out_cap - self->out_len >= 8 + len);

  self->out_len += frame_in_place (self->out_buf + self->out_len, type, len);
  self->bytes_sent += len;
  flush_output (self);
}

static gboolean
on_close_timeout (gpointer user_data)
{
  McrWebSocket *self = user_data;

  g_clear_pointer (&self->close_timeout, g_source_unref);
  finish (self, g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_TIMEOUT,
                             _("The server did not answer the close of the connection")));
  return G_SOURCE_REMOVE;
}

static void
send_close_frame (McrWebSocket *self,
                  gushort       code,
                  const char   *reason)
{
  guint8 payload[125];
  gsize len = 0;

  if (code != 0 && code != MCR_WEBSOCKET_CLOSE_NO_STATUS)
    {
      payload[0] = (guint8) (code >> 8);
      payload[1] = (guint8) code;
      len = 2;
      if (reason != NULL)
        {
          gsize rlen = strlen (reason);
          const char *end;

          /* At most 123 bytes, cut on a character boundary. */
          if (rlen > sizeof payload - 2)
            {
              g_utf8_validate_len (reason, sizeof payload - 2, &end);
              rlen = (gsize) (end - reason);
            }
          memcpy (payload + 2, reason, rlen);
          len += rlen;
        }
    }
  queue_frame (self, OPCODE_CLOSE, payload, len);
  self->close_sent = TRUE;
}

void
mcr_websocket_close (McrWebSocket *self,
                     gushort       code,
                     const char   *reason)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  switch (self->state)
    {
    case MCR_WEBSOCKET_STATE_NEW:
      set_state (self, MCR_WEBSOCKET_STATE_CLOSED);
      break;
    case MCR_WEBSOCKET_STATE_CONNECTING:
      g_cancellable_cancel (self->cancellable);
      break;
    case MCR_WEBSOCKET_STATE_OPEN:
      g_debug ("closing %s (%u)", g_uri_get_path (self->uri), code);
      send_close_frame (self, code, reason);
      set_state (self, MCR_WEBSOCKET_STATE_CLOSING);
      self->close_timeout = attach_source (self, g_timeout_source_new_seconds (CLOSE_TIMEOUT_S),
                                           on_close_timeout);
      flush_output (self);
      break;
    case MCR_WEBSOCKET_STATE_CLOSING:
    case MCR_WEBSOCKET_STATE_CLOSED:
    default:
      break;
    }
}

void
mcr_websocket_abort (McrWebSocket *self)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  if (self->state == MCR_WEBSOCKET_STATE_OPEN || self->state == MCR_WEBSOCKET_STATE_CLOSING)
    {
      g_debug ("aborting %s", g_uri_get_path (self->uri));
      finish (self, NULL);
    }
  else
    mcr_websocket_close (self, MCR_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
}

/* A broken frame: say why in a close frame (best effort), then drop. */
static void
fail_protocol (McrWebSocket *self,
               gushort       code,
               GError       *error)
{
  if (!self->close_sent && self->output != NULL)
    {
      send_close_frame (self, code, NULL);
      flush_output (self);
    }
  finish (self, error);
}

/* ---- receiving ---- */

static gboolean
can_read (McrWebSocket *self)
{
  return self->input != NULL && !self->close_received &&
         (self->state == MCR_WEBSOCKET_STATE_OPEN || self->state == MCR_WEBSOCKET_STATE_CLOSING);
}

static gsize
deliver (McrWebSocket *self,
         guint8        opcode,
         const guint8 *data,
         gsize         len,
         gboolean      end)
{
  if (self->receive_func == NULL)
    return len;
  return self->receive_func (self, (McrWebSocketDataType) opcode, data, len, end,
                             self->receive_data);
}

static gboolean
text_is_valid (McrWebSocket *self,
               guint8        opcode,
               const guint8 *data,
               gsize         len)
{
  if (opcode != OPCODE_TEXT || g_utf8_validate_len ((const char *) data, len, NULL))
    return TRUE;
  fail_protocol (self, MCR_WEBSOCKET_CLOSE_BAD_DATA,
                 g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_PROTOCOL,
                              _("The server sent text that is not UTF-8")));
  return FALSE;
}

/* A whole message: hand it on, or pause. TRUE when it was taken. */
static gboolean
deliver_message (McrWebSocket *self,
                 guint8        opcode,
                 const guint8 *data,
                 gsize         len)
{
  gsize taken = deliver (self, opcode, data, len, TRUE);

  if (taken < len)
    {
      self->paused = TRUE;
      return FALSE;
    }
  self->bytes_received += len;
  return TRUE;
}

static void
handle_control (McrWebSocket *self,
                guint8        opcode,
                const guint8 *payload,
                gsize         len)
{
  switch (opcode)
    {
    case OPCODE_PING:
      if (!self->close_sent)
        {
          queue_frame (self, OPCODE_PONG, payload, len);
          flush_output (self);
        }
      break;
    case OPCODE_PONG:
      break;
    case OPCODE_CLOSE:
      if (len == 1 || (len > 2 && !g_utf8_validate_len ((const char *) payload + 2, len - 2, NULL)))
        {
          fail_protocol (self, MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR,
                         g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_PROTOCOL,
                                      _("The server sent a malformed close frame")));
          return;
        }
      self->close_received = TRUE;
      self->close_code = len >= 2 ? (gushort) ((payload[0] << 8) | payload[1])
                                  : MCR_WEBSOCKET_CLOSE_NO_STATUS;
      g_free (self->close_reason);
      self->close_reason = len > 2 ? g_strndup ((const char *) payload + 2, len - 2) : NULL;
      g_debug ("%s closed by the server (%u)", g_uri_get_path (self->uri), self->close_code);
      update_events (self, 0, G_IO_IN);
      if (!self->close_sent)
        send_close_frame (self, self->close_code, NULL);
      set_state (self, MCR_WEBSOCKET_STATE_CLOSING);
      flush_output (self);
      maybe_finish_close (self);
      break;
    default:
      g_assert_not_reached ();
    }
}

typedef struct
{
  gsize    hlen;
  guint8   opcode;
  gboolean fin;
  guint64  len;
} FrameHeader;

typedef enum
{
  HEADER_OK,
  HEADER_SHORT,        /* more bytes needed */
  HEADER_BAD_BITS,     /* reserved bits, a mask, an unknown opcode */
  HEADER_BAD_LENGTH,
  HEADER_BAD_CONTROL,  /* a long or fragmented control frame */
} HeaderResult;

static HeaderResult
peek_header (const guint8 *p,
             gsize         avail,
             FrameHeader  *h)
{
  if (avail < 2)
    return HEADER_SHORT;
  h->opcode = p[0] & 0x0f;
  h->fin = (p[0] & 0x80) != 0;
  /* A server never masks (RFC 6455, 5.1). */
  if ((p[0] & 0x70) != 0 || (p[1] & 0x80) != 0 ||
      (h->opcode > OPCODE_BINARY && h->opcode < OPCODE_CLOSE) || h->opcode > OPCODE_PONG)
    return HEADER_BAD_BITS;
  h->len = p[1] & 0x7f;
  h->hlen = 2;
  if (h->len == 126)
    {
      if (avail < 4)
        return HEADER_SHORT;
      h->len = ((guint64) p[2] << 8) | p[3];
      h->hlen = 4;
    }
  else if (h->len == 127)
    {
      if (avail < 10)
        return HEADER_SHORT;
      h->len = 0;
      for (int i = 0; i < 8; i++)
        h->len = (h->len << 8) | p[2 + i];
      h->hlen = 10;
      if (h->len >> 63)
        return HEADER_BAD_LENGTH;
    }
  if ((h->opcode & 0x8) && (h->len > 125 || !h->fin))
    return HEADER_BAD_CONTROL;
  return HEADER_OK;
}

/* The frame header at in_pos. FALSE if more bytes are needed (or the
 * connection failed). */
static gboolean
parse_header (McrWebSocket *self,
              FrameHeader  *h)
{
  const guint8 *p = self->in_buf + self->in_pos;
  const char *why;

  switch (peek_header (p, self->in_len - self->in_pos, h))
    {
    case HEADER_OK:
      return TRUE;
    case HEADER_SHORT:
      return FALSE;
    case HEADER_BAD_LENGTH:
      why = _("The server sent an invalid frame length");
      break;
    case HEADER_BAD_CONTROL:
      why = _("The server sent a long or fragmented control frame");
      break;
    case HEADER_BAD_BITS:
    default:
      why = _("The server sent an invalid frame");
      break;
    }
  fail_protocol (self, MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR,
                 g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_PROTOCOL,
                              "%s (%02x %02x)", why, p[0], p[1]));
  return FALSE;
}

static gboolean
message_fits (McrWebSocket *self,
              guint64       more)
{
  guint64 have = self->message ? self->message->len : 0;

  if (have + more <= self->max_message_size)
    return TRUE;
  /* %lu, not G_GSIZE_FORMAT: xgettext cannot see through the macro. */
  fail_protocol (self, MCR_WEBSOCKET_CLOSE_TOO_BIG,
                 g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_TOO_BIG,
                              _("The server sent a message larger than %lu bytes"),
                              (unsigned long) self->max_message_size));
  return FALSE;
}

static gboolean
streaming (McrWebSocket *self)
{
  return self->binary_stream && self->message_opcode == OPCODE_BINARY;
}

/* Stream mode: once the current frame's payload is all in the buffer, pull
 * the payloads of the stream frames behind it up against it, over their
 * headers. The receiver then gets one piece, and the local program one
 * write, instead of one per frame: the agent sends 4 KiB frames, and a
 * write per frame cost a system call per 4 KiB (measured: 16,000 writes for
 * 64 MiB). Each byte moves at most once. */
static void
merge_stream_frames (McrWebSocket *self)
{
  gsize w, r;

  if (self->frame_remaining > self->in_len - self->in_pos)
    return;
  w = r = self->in_pos + (gsize) self->frame_remaining;
  for (;;)
    {
      FrameHeader h;
      gsize avail;

      if (peek_header (self->in_buf + r, self->in_len - r, &h) != HEADER_OK ||
          h.opcode != (self->frame_fin ? OPCODE_BINARY : OPCODE_CONTINUATION))
        break;
      avail = (gsize) MIN (h.len, (guint64) (self->in_len - r - h.hlen));
      memmove (self->in_buf + w, self->in_buf + r + h.hlen, avail);
      w += avail;
      r += h.hlen + avail;
      self->frame_remaining += h.len;
      self->frame_fin = h.fin;
      if (avail < h.len)
        break;
    }
  if (r != w)
    {
      memmove (self->in_buf + w, self->in_buf + r, self->in_len - r);
      self->in_len -= r - w;
    }
}

/* Payload bytes of the current data frame. FALSE when it must stop. */
static gboolean
process_payload (McrWebSocket *self)
{
  const guint8 *data;
  gboolean last;
  gsize avail;

  if (streaming (self))
    merge_stream_frames (self);
  avail = (gsize) MIN ((guint64) (self->in_len - self->in_pos), self->frame_remaining);
  data = self->in_buf + self->in_pos;

  if (avail == 0 && self->frame_remaining > 0)
    return FALSE;
  last = self->frame_fin && avail == self->frame_remaining;
  if (streaming (self))
    {
      gsize taken = deliver (self, OPCODE_BINARY, data, avail, last);

      taken = MIN (taken, avail);
      self->in_pos += taken;
      self->frame_remaining -= taken;
      self->bytes_received += taken;
      if (taken < avail)
        {
          self->paused = TRUE;
          return FALSE;
        }
    }
  else
    {
      if (!message_fits (self, avail))
        return FALSE;
      if (self->message == NULL)
        self->message = g_byte_array_new ();
      g_byte_array_append (self->message, data, (guint) avail);
      self->in_pos += avail;
      self->frame_remaining -= avail;
    }
  if (self->frame_remaining == 0)
    {
      self->in_payload = FALSE;
      if (self->frame_fin)
        {
          if (streaming (self))
            self->message_opcode = 0;
          else
            self->message_ready = TRUE;
        }
    }
  return TRUE;
}

/* Hands on what is buffered, as far as the receiver takes it. */
static void
process_input (McrWebSocket *self)
{
  while (!self->paused && self->in_buf != NULL && can_read (self))
    {
      FrameHeader h;
      gboolean whole;

      if (self->message_ready)
        {
          GByteArray *m = self->message;
          const guint8 *data = m ? m->data : (const guint8 *) "";
          gsize mlen = m ? m->len : 0;

          if (!text_is_valid (self, self->message_opcode, data, mlen) ||
              !deliver_message (self, self->message_opcode, data, mlen))
            return;
          self->message_ready = FALSE;
          self->message_opcode = 0;
          g_clear_pointer (&self->message, g_byte_array_unref);
          continue;
        }
      if (self->in_payload)
        {
          if (!process_payload (self))
            return;
          continue;
        }

      if (!parse_header (self, &h))
        return;
      if (h.opcode & 0x8)
        {
          if (self->in_len - self->in_pos < h.hlen + h.len)
            return;
          self->in_pos += h.hlen + h.len;
          handle_control (self, h.opcode, self->in_buf + self->in_pos - h.len, (gsize) h.len);
          continue;
        }
      if ((h.opcode == OPCODE_CONTINUATION) != (self->message_opcode != 0))
        {
          fail_protocol (self, MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR,
                         g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_PROTOCOL,
                                              h.opcode == OPCODE_CONTINUATION
                                              ? _("The server continued a message it never began")
                                              : _("The server began a message inside another")));
          return;
        }
      whole = !(self->binary_stream &&
                (h.opcode == OPCODE_BINARY || self->message_opcode == OPCODE_BINARY));
      if (whole && !message_fits (self, h.len))
        return;
      /* A whole unfragmented message already in the buffer goes out from
       * there, without a copy. */
      if (whole && h.opcode != OPCODE_CONTINUATION && h.fin && self->in_len - self->in_pos >= h.hlen + h.len)
        {
          const guint8 *data = self->in_buf + self->in_pos + h.hlen;

          if (!text_is_valid (self, h.opcode, data, (gsize) h.len) ||
              !deliver_message (self, h.opcode, data, (gsize) h.len))
            return;
          self->in_pos += h.hlen + h.len;
          continue;
        }
      self->in_pos += h.hlen;
      if (h.opcode != OPCODE_CONTINUATION)
        self->message_opcode = h.opcode;
      self->in_payload = TRUE;
      self->frame_fin = h.fin;
      self->frame_remaining = h.len;
      if (h.len == 0)
        {
          self->in_payload = FALSE;
          if (h.fin && streaming (self))
            {
              deliver (self, OPCODE_BINARY, self->in_buf + self->in_pos, 0, TRUE);
              self->message_opcode = 0;
            }
          else if (h.fin)
            self->message_ready = TRUE;
        }
    }
}

static void
compact_input (McrWebSocket *self)
{
  if (self->in_buf == NULL)
    return;
  if (self->in_pos == self->in_len)
    self->in_pos = self->in_len = 0;
  else if (self->in_pos > 0)
    {
      memmove (self->in_buf, self->in_buf + self->in_pos, self->in_len - self->in_pos);
      self->in_len -= self->in_pos;
      self->in_pos = 0;
    }
}

static void
update_events (McrWebSocket *self,
               GIOCondition  add,
               GIOCondition  remove)
{
  if (self->io_source != NULL)
    mcr_io_source_set_events (self->io_source,
                              (mcr_io_source_get_events (self->io_source) | add) & ~remove);
}

static gboolean
on_io (GIOCondition revents,
       gpointer     user_data)
{
  McrWebSocket *self = user_data;
  /* The close this read brings may take the owner's last reference with
   * it: still needed for the lines after. */
  g_autoptr(McrWebSocket) hold G_GNUC_UNUSED = g_object_ref (self);

  if (revents & (G_IO_OUT | G_IO_HUP | G_IO_ERR))
    output_ready (self);
  if (self->io_source != NULL && (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
    read_and_process (self);
  return self->io_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
handle_eof (McrWebSocket *self)
{
  if (self->close_sent)
    {
      /* We asked to close and the server hung up without answering:
       * nothing is lost. */
      finish (self, NULL);
      return;
    }
  self->close_code = MCR_WEBSOCKET_CLOSE_ABNORMAL;
  finish (self, g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_CLOSED,
                                     _("The server ended the connection without closing it")));
}

/* Reads what the socket has, up to a full buffer (TLS hands over one record
 * per read: reading several before handing on lets stream frames merge). */
static gboolean
fill_input (McrWebSocket *self,
            gsize        *budget)
{
  gsize got = 0;

  acquire_input (self);
  while (self->in_len < MCR_WEBSOCKET_RECEIVE_BUFFER && *budget > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (self->input,
                                                           self->in_buf + self->in_len,
                                                           MCR_WEBSOCKET_RECEIVE_BUFFER -
                                                           self->in_len, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return FALSE;
      if (n <= 0)
        {
          /* Handed on after what came before it. */
          self->input_ended = TRUE;
          self->input_error = g_steal_pointer (&error);
          return FALSE;
        }
      self->in_len += (gsize) n;
      got += (gsize) n;
      *budget -= MIN (*budget, (gsize) n);
    }
  return got > 0;
}

static void schedule_process (McrWebSocket *self);

static void
set_bulk (McrWebSocket *self,
          gboolean      bulk)
{
  self->bulk = bulk;
  self->window_bytes = 0;
  self->quiet_turns = 0;
  g_socket_set_option (self->poll_socket, SOL_SOCKET, SO_RCVLOWAT, bulk ? BULK_LOWAT : 1, NULL);
}

/* The agent sends 4 KiB frames and the relay a TLS record each: read as
 * they come, a download costs a main loop wakeup (poll, a context switch,
 * TLS, a write to the local program) per 4 KiB, and these dominated the
 * router's CPU. A fast stream is read in larger bites instead; slow and
 * interactive ones keep their latency. @got: what this turn read, before
 * the socket ran dry. */
static void
moderate_reads (McrWebSocket *self,
                gsize         got)
{
  gint64 now;

  if (self->poll_socket == NULL)
    return;
  now = g_get_monotonic_time ();
  if (self->bulk)
    {
      /* Woken by the deadline for little, again and again: slow now. A
       * relay that stalls for a moment (it does, under load) keeps bulk. */
      self->quiet_turns = got < BULK_EXIT ? self->quiet_turns + 1 : 0;
      if (self->quiet_turns >= BULK_QUIET_TURNS)
        set_bulk (self, FALSE);
    }
  else
    {
      if (now - self->window_start > BULK_WINDOW_US)
        {
          self->window_start = now;
          self->window_bytes = 0;
        }
      self->window_bytes += got;
      if (self->window_bytes >= BULK_ENTER)
        set_bulk (self, TRUE);
    }
  mcr_io_source_set_deadline (self->io_source, self->bulk ? now + BULK_DELAY_US : -1);
}

static void
read_and_process (McrWebSocket *self)
{
  g_autoptr(McrWebSocket) hold G_GNUC_UNUSED = g_object_ref (self);
  gsize budget = READ_BUDGET;
  gboolean more = TRUE;

  for (;;)
    {
      process_input (self);
      if (self->paused || !can_read (self))
        break;
      if (self->input_ended)
        {
          if (self->input_error != NULL)
            finish (self, g_steal_pointer (&self->input_error));
          else
            handle_eof (self);
          return;
        }
      /* Nothing more now, or others' turn: back to the main loop. */
      if (!more || budget == 0)
        break;
      compact_input (self);
      more = fill_input (self, &budget);
    }

  release_input (self, FALSE);
  /* Stopped by the budget, not by the socket: TLS may hold what is left of
   * the stream already (decrypted, or read ahead), and then the socket
   * never turns readable again for it. Come back from the main loop. */
  if (!self->paused && can_read (self) && more && budget == 0)
    schedule_process (self);
  else if (!self->paused && can_read (self))
    {
      /* Read until WOULD_BLOCK: the socket tells. */
      update_events (self, G_IO_IN, 0);
      moderate_reads (self, READ_BUDGET - budget);
    }
  else
    {
      update_events (self, 0, G_IO_IN);
      if (self->io_source != NULL)
        mcr_io_source_set_deadline (self->io_source, -1);
    }
}

/* A turn from the main loop soon, without waiting for the socket. */
static void
schedule_process (McrWebSocket *self)
{
  if (self->io_source != NULL && can_read (self))
    {
      update_events (self, G_IO_IN, 0);
      mcr_io_source_set_ready (self->io_source);
    }
}

/* Open: one source for the life of the connection. The socket itself is
 * polled when nothing but TLS and our read buffer sits between it and
 * self->input (both read until WOULD_BLOCK before we wait); through a
 * wrapped connection (an https proxy) the streams' own sources are. */
static void
start_io (McrWebSocket *self)
{
  GIOStream *base = self->connection != NULL ? self->connection : self->stream;
  GSocket *socket = NULL;

  if (G_IS_SOCKET_CONNECTION (base) && !G_IS_TCP_WRAPPER_CONNECTION (base))
    socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (base));
  self->poll_socket = socket;
  self->io_source = mcr_io_source_new (socket, self->input, self->output);
  mcr_io_source_set_callback (self->io_source, on_io, self);
  g_source_attach (self->io_source, self->context);
  schedule_process (self);
}

void
mcr_websocket_resume_receive (McrWebSocket *self)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  if (!self->paused)
    return;
  self->paused = FALSE;
  schedule_process (self);
}

/* ---- connecting ---- */

static void
connect_done (McrWebSocket *self,
              GError       *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->connect_task);

  clear_source (&self->connect_timeout);
  if (self->user_cancellable != NULL)
    {
      g_cancellable_disconnect (self->user_cancellable, self->user_cancel_id);
      self->user_cancel_id = 0;
      g_clear_object (&self->user_cancellable);
    }
  g_clear_pointer (&self->request, g_free);
  g_clear_pointer (&self->resp_buf, g_free);
  self->resp_len = self->resp_cap = 0;

  if (error != NULL)
    {
      if (self->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&error);
          error = g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_TIMEOUT,
                               _("The server did not answer within %d seconds"),
                               CONNECT_TIMEOUT_S);
        }
      drop_stream (self);
      self->state = MCR_WEBSOCKET_STATE_CLOSED;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
      g_task_return_error (task, error);
      return;
    }

  g_debug ("connected to %s", g_uri_get_path (self->uri));
  set_state (self, MCR_WEBSOCKET_STATE_OPEN);
  /* Bytes that came with the upgrade answer, and then the socket, are read
   * from the main loop: the caller sets its receive function first. */
  start_io (self);
  g_task_return_boolean (task, TRUE);
}

static GError *
check_response (McrWebSocket *self,
                const char   *text,
                gsize         len)
{
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_autofree char *reason = NULL;
  g_autofree char *expected = NULL;
  const char *value;
  SoupHTTPVersion version;
  guint status = 0;

  if (!soup_headers_parse_response (text, (int) len, headers, &version, &status, &reason))
    return g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                _("The server's answer is not HTTP"));
  if (status != 101)
    return g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                        _("The server refused the connection (HTTP %u %s)"), status,
                        reason ? reason : "");
  value = soup_message_headers_get_one (headers, "Upgrade");
  if (value == NULL || g_ascii_strcasecmp (value, "websocket") != 0 ||
      !soup_message_headers_header_contains (headers, "Connection", "upgrade"))
    return g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                _("The server did not switch to WebSocket"));
  expected = _mcr_websocket_accept_for_key (self->key);
  value = soup_message_headers_get_one (headers, "Sec-WebSocket-Accept");
  if (g_strcmp0 (value, expected) != 0)
    return g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                _("The server's WebSocket accept key is wrong"));
  if (soup_message_headers_get_one (headers, "Sec-WebSocket-Extensions") != NULL)
    return g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                _("The server chose a WebSocket extension that was not offered"));
  return NULL;
}

static void read_response (McrWebSocket *self);

static void
on_response_read (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  McrWebSocket *self = user_data;
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  const char *end;
  gsize header_len;

  if (n < 0)
    {
      connect_done (self, error);
      return;
    }
  if (n == 0)
    {
      connect_done (self, g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                               _("The server closed the connection before "
                                                 "answering")));
      return;
    }
  self->resp_len += (gsize) n;
  end = g_strstr_len ((const char *) self->resp_buf, (gssize) self->resp_len, "\r\n\r\n");
  if (end == NULL)
    {
      if (self->resp_len >= MAX_RESPONSE_HEADERS)
        connect_done (self, g_error_new_literal (MCR_WEBSOCKET_ERROR,
                                                 MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                                 _("The server's answer is too long")));
      else
        read_response (self);
      return;
    }
  header_len = (gsize) (end + 4 - (const char *) self->resp_buf);
  error = check_response (self, (const char *) self->resp_buf, header_len);
  /* Frames that came with the answer (the server may say "c" at once). */
  if (error == NULL && self->resp_len > header_len)
    {
      self->in_buf = g_malloc (MCR_WEBSOCKET_RECEIVE_BUFFER);
      self->in_pos = 0;
      self->in_len = self->resp_len - header_len;
      memcpy (self->in_buf, self->resp_buf + header_len, self->in_len);
    }
  g_clear_pointer (&self->resp_buf, g_free);
  self->resp_len = self->resp_cap = 0;
  connect_done (self, error);
}

static void
read_response (McrWebSocket *self)
{
  /* A small buffer while waiting: a thousand tunnels may wait at once. */
  if (self->resp_len == self->resp_cap)
    {
      self->resp_cap = self->resp_cap ? MIN (2 * self->resp_cap, MAX_RESPONSE_HEADERS) : 1024;
      self->resp_buf = g_realloc (self->resp_buf, self->resp_cap);
    }
  g_input_stream_read_async (g_io_stream_get_input_stream (self->stream),
                             self->resp_buf + self->resp_len, self->resp_cap - self->resp_len,
                             G_PRIORITY_DEFAULT, self->cancellable, on_response_read, self);
}

static void
on_request_written (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  McrWebSocket *self = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      connect_done (self, error);
      return;
    }
  read_response (self);
}

static char *
build_request (McrWebSocket *self)
{
  g_autofree char *uri_str = g_uri_to_string (self->uri);
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  g_autoptr(GString) req = g_string_new (NULL);
  const char *host = g_uri_get_host (self->uri);
  int port = g_uri_get_port (self->uri);
  gboolean ipv6 = strchr (host, ':') != NULL;
  guint8 nonce[16];

  /* The target exactly as encoded in the URI. */
  g_uri_split (uri_str, G_URI_FLAGS_ENCODED, NULL, NULL, NULL, NULL, &path, &query, NULL, NULL);
  random_bytes (nonce, sizeof nonce);
  g_free (self->key);
  self->key = g_base64_encode (nonce, sizeof nonce);

  g_string_append_printf (req, "GET %s%s%s HTTP/1.1\r\n", (path && *path) ? path : "/",
                          query ? "?" : "", query ? query : "");
  g_string_append_printf (req, "Host: %s%s%s", ipv6 ? "[" : "", host, ipv6 ? "]" : "");
  if (port > 0 && port != (self->tls ? 443 : 80))
    g_string_append_printf (req, ":%d", port);
  g_string_append (req, "\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Version: 13\r\n");
  g_string_append_printf (req, "Sec-WebSocket-Key: %s\r\n", self->key);
  g_string_append_printf (req, "User-Agent: meshcentral-router/%s\r\n", PACKAGE_VERSION);
  for (guint i = 0; i < self->headers->len; i++)
    g_string_append_printf (req, "%s\r\n", (const char *) g_ptr_array_index (self->headers, i));
  g_string_append (req, "\r\n");
  return g_string_free (g_steal_pointer (&req), FALSE);
}

static void
send_request (McrWebSocket *self)
{
  self->request = build_request (self);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (self->stream), self->request,
                                   strlen (self->request), G_PRIORITY_DEFAULT, self->cancellable,
                                   on_request_written, self);
}

/* The certificates as the server sent them, for comparing with what was
 * accepted before: each DER certificate after its length. */
static GBytes *
chain_bytes (const gnutls_datum_t *der,
             guint                 n)
{
  GByteArray *bytes = g_byte_array_new ();

  for (guint i = 0; i < n; i++)
    {
      guint8 len[4] = { der[i].size >> 24, der[i].size >> 16, der[i].size >> 8, der[i].size };

      g_byte_array_append (bytes, len, sizeof len);
      g_byte_array_append (bytes, der[i].data, der[i].size);
    }
  return g_byte_array_free_to_bytes (bytes);
}

/* Until when a decision about @certificate may be reused: not past the
 * end of any certificate of the chain, and not long in any case. */
static gint64
decision_valid_until (GTlsCertificate *certificate)
{
  gint64 until = g_get_real_time () + CERT_MEMORY_US;

  for (GTlsCertificate *c = certificate; c != NULL; c = g_tls_certificate_get_issuer (c))
    {
      g_autoptr(GDateTime) not_after = g_tls_certificate_get_not_valid_after (c);

      if (not_after == NULL)
        return 0;
      until = MIN (until, g_date_time_to_unix (not_after) * G_USEC_PER_SEC);
    }
  return until;
}

/* The server's certificate: accepted if it validates against the system
 * trust for the host, or the policy (or certificate function) takes it.
 * Before anything is sent on the connection. */
static gboolean
check_certificate (McrWebSocket  *self,
                   McrTlsStream  *tls,
                   GError       **error)
{
  const char *host = g_uri_get_host (self->uri);
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GBytes) chain = NULL;
  const gnutls_datum_t *der;
  GTlsCertificateFlags errors;
  gboolean accepted;
  guint n = 0;

  der = mcr_tls_stream_get_peer_der (tls, &n);
  if (der != NULL && self->tls_policy != NULL)
    {
      chain = chain_bytes (der, n);
      if (mcr_tls_policy_accepted_before (self->tls_policy, host, chain))
        return TRUE;
    }
  certificate = mcr_tls_stream_get_peer_certificate (tls, error);
  if (certificate == NULL)
    return FALSE;
  identity = g_network_address_new (host, (guint16) MAX (g_uri_get_port (self->uri), 0));
  /* The one shared default database: no connection gets its own copy of
   * the system trust list. */
  database = g_tls_backend_get_default_database (g_tls_backend_get_default ());
  if (database != NULL)
    errors = g_tls_database_verify_chain (database, certificate,
                                          G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity,
                                          NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
  else
    errors = g_tls_certificate_verify (certificate, identity, NULL);
  if (errors == 0)
    accepted = TRUE;
  else if (self->tls_policy != NULL)
    accepted = mcr_tls_policy_accepts (self->tls_policy, certificate, errors);
  else if (self->cert_func != NULL)
    accepted = self->cert_func (certificate, errors, self->cert_data);
  else
    accepted = FALSE;
  if (!accepted)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                   _("The certificate of %s is not trusted"), host);
      return FALSE;
    }
  if (chain != NULL)
    mcr_tls_policy_remember (self->tls_policy, host, chain, decision_valid_until (certificate));
  return TRUE;
}

static void
on_handshake_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  McrWebSocket *self = user_data;
  GError *error = NULL;

  if (!mcr_tls_stream_handshake_finish (MCR_TLS_STREAM (source), result, &error) ||
      !check_certificate (self, MCR_TLS_STREAM (source), &error))
    {
      connect_done (self, error);
      return;
    }
  send_request (self);
}

static void
set_nodelay (GSocketConnection *connection)
{
  GSocket *socket = g_socket_connection_get_socket (connection);

  if (socket != NULL && g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

static void
use_stream (McrWebSocket *self,
            GIOStream    *stream)
{
  g_set_object (&self->stream, stream);
  self->input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream));
  self->output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream));
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  McrWebSocket *self = user_data;
  GError *error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(McrTlsStream) tls = NULL;

  connection = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source), result, &error);
  if (connection == NULL)
    {
      connect_done (self, error);
      return;
    }
  set_nodelay (connection);
  if (!self->tls)
    {
      use_stream (self, G_IO_STREAM (connection));
      send_request (self);
      return;
    }

  tls = mcr_tls_stream_new (connection, g_uri_get_host (self->uri), &error);
  if (tls == NULL)
    {
      connect_done (self, error);
      return;
    }
  self->connection = G_IO_STREAM (g_object_ref (connection));
  use_stream (self, G_IO_STREAM (tls));
  mcr_tls_stream_handshake_async (tls, self->cancellable, on_handshake_done, self);
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  McrWebSocket *self = user_data;

  self->timed_out = TRUE;
  g_cancellable_cancel (self->cancellable);
  return G_SOURCE_CONTINUE; /* removed by connect_done() */
}

static void
on_user_cancelled (GCancellable *cancellable,
                   gpointer      user_data)
{
  McrWebSocket *self = user_data;

  g_cancellable_cancel (self->cancellable);
}

void
mcr_websocket_connect_async (McrWebSocket        *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GSocketClient) client = NULL;
  g_autofree char *target = NULL;
  const char *host;

  g_return_if_fail (MCR_IS_WEBSOCKET (self));
  g_return_if_fail (self->state == MCR_WEBSOCKET_STATE_NEW);

  self->connect_task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->connect_task, mcr_websocket_connect_async);
  self->context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      self->user_cancellable = g_object_ref (cancellable);
      self->user_cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_user_cancelled),
                                                    self, NULL);
    }
  set_state (self, MCR_WEBSOCKET_STATE_CONNECTING);
  self->connect_timeout = attach_source (self, g_timeout_source_new_seconds (CONNECT_TIMEOUT_S),
                                         on_connect_timeout);

  client = g_socket_client_new ();
  if (self->proxy_resolver != NULL)
    g_socket_client_set_proxy_resolver (client, self->proxy_resolver);
  /* Proxies are chosen by the http(s) address, as for the control channel. */
  host = g_uri_get_host (self->uri);
  target = g_uri_join (G_URI_FLAGS_NONE, self->tls ? "https" : "http", NULL, host,
                       g_uri_get_port (self->uri), "", NULL, NULL);
  g_socket_client_connect_to_uri_async (client, target, self->tls ? 443 : 80, self->cancellable,
                                        on_connected, self);
}

gboolean
mcr_websocket_connect_finish (McrWebSocket  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- object ---- */

McrWebSocket *
mcr_websocket_new (GUri *uri)
{
  McrWebSocket *self;
  const char *scheme;

  g_return_val_if_fail (uri != NULL, NULL);
  scheme = g_uri_get_scheme (uri);
  g_return_val_if_fail (g_ascii_strcasecmp (scheme, "wss") == 0 ||
                        g_ascii_strcasecmp (scheme, "ws") == 0, NULL);
  g_return_val_if_fail (g_uri_get_host (uri) != NULL, NULL);

  self = g_object_new (MCR_TYPE_WEBSOCKET, NULL);
  self->uri = g_uri_ref (uri);
  self->tls = g_ascii_strcasecmp (scheme, "wss") == 0;
  return self;
}

void
mcr_websocket_set_proxy_resolver (McrWebSocket   *self,
                                  GProxyResolver *resolver)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  g_set_object (&self->proxy_resolver, resolver);
}

void
mcr_websocket_set_certificate_func (McrWebSocket               *self,
                                    McrWebSocketCertificateFunc func,
                                    gpointer                    user_data,
                                    GDestroyNotify              destroy)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  if (self->cert_destroy != NULL)
    self->cert_destroy (self->cert_data);
  self->cert_func = func;
  self->cert_data = user_data;
  self->cert_destroy = destroy;
}

void
mcr_websocket_set_tls_policy (McrWebSocket *self,
                              McrTlsPolicy *policy)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));
  g_return_if_fail (policy == NULL || MCR_IS_TLS_POLICY (policy));

  g_set_object (&self->tls_policy, policy);
}

void
mcr_websocket_add_header (McrWebSocket *self,
                          const char   *name,
                          const char   *value)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));
  g_return_if_fail (name != NULL && value != NULL);
  g_return_if_fail (strpbrk (name, "\r\n:") == NULL && strpbrk (value, "\r\n") == NULL);

  g_ptr_array_add (self->headers, g_strdup_printf ("%s: %s", name, value));
}

void
mcr_websocket_set_binary_stream (McrWebSocket *self,
                                 gboolean      stream)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  self->binary_stream = stream;
}

void
mcr_websocket_set_max_message_size (McrWebSocket *self,
                                    gsize         size)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  self->max_message_size = size;
}

void
mcr_websocket_set_receive_func (McrWebSocket           *self,
                                McrWebSocketReceiveFunc func,
                                gpointer                user_data,
                                GDestroyNotify          destroy)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  if (self->receive_destroy != NULL)
    self->receive_destroy (self->receive_data);
  self->receive_func = func;
  self->receive_data = user_data;
  self->receive_destroy = destroy;
}

McrWebSocketState
mcr_websocket_get_state (McrWebSocket *self)
{
  g_return_val_if_fail (MCR_IS_WEBSOCKET (self), MCR_WEBSOCKET_STATE_CLOSED);

  return self->state;
}

gushort
mcr_websocket_get_close_code (McrWebSocket *self)
{
  g_return_val_if_fail (MCR_IS_WEBSOCKET (self), 0);

  return self->close_code;
}

const char *
mcr_websocket_get_close_reason (McrWebSocket *self)
{
  g_return_val_if_fail (MCR_IS_WEBSOCKET (self), NULL);

  return self->close_reason;
}

const GError *
mcr_websocket_get_error (McrWebSocket *self)
{
  g_return_val_if_fail (MCR_IS_WEBSOCKET (self), NULL);

  return self->error;
}

guint64
mcr_websocket_get_bytes_sent (McrWebSocket *self)
{
  g_return_val_if_fail (MCR_IS_WEBSOCKET (self), 0);

  return self->bytes_sent;
}

guint64
mcr_websocket_get_bytes_received (McrWebSocket *self)
{
  g_return_val_if_fail (MCR_IS_WEBSOCKET (self), 0);

  return self->bytes_received;
}

static void
mcr_websocket_dispose (GObject *object)
{
  McrWebSocket *self = MCR_WEBSOCKET (object);

  drop_stream (self);
  clear_source (&self->connect_timeout);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  mcr_websocket_set_receive_func (self, NULL, NULL, NULL);
  mcr_websocket_set_certificate_func (self, NULL, NULL, NULL);
  g_clear_object (&self->tls_policy);
  g_clear_object (&self->proxy_resolver);

  G_OBJECT_CLASS (mcr_websocket_parent_class)->dispose (object);
}

static void
mcr_websocket_finalize (GObject *object)
{
  McrWebSocket *self = MCR_WEBSOCKET (object);

  g_clear_pointer (&self->uri, g_uri_unref);
  g_clear_pointer (&self->headers, g_ptr_array_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->key, g_free);
  g_clear_pointer (&self->request, g_free);
  g_clear_pointer (&self->resp_buf, g_free);
  g_clear_pointer (&self->close_reason, g_free);
  g_clear_error (&self->error);
  g_clear_error (&self->input_error);

  G_OBJECT_CLASS (mcr_websocket_parent_class)->finalize (object);
}

static void
mcr_websocket_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  McrWebSocket *self = MCR_WEBSOCKET (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_websocket_class_init (McrWebSocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mcr_websocket_dispose;
  object_class->finalize = mcr_websocket_finalize;
  object_class->get_property = mcr_websocket_get_property;

  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, MCR_WEBSOCKET_STATE_NEW, MCR_WEBSOCKET_STATE_CLOSED,
                      MCR_WEBSOCKET_STATE_NEW,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_WRITABLE] = g_signal_new ("writable", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mcr_websocket_init (McrWebSocket *self)
{
  self->headers = g_ptr_array_new_with_free_func (g_free);
  self->binary_stream = TRUE;
  self->max_message_size = DEFAULT_MAX_MESSAGE;
}
