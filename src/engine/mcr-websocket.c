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
 *
 * This file is the live connection: buffers, the send queue and its flow
 * control, closing, the I/O source and read moderation. The opening
 * handshake is in mcr-websocket-handshake.c, the frames read are made into
 * messages in mcr-websocket-receive.c, and the frame codec is
 * mcr-websocket-frame.c; the instance struct is in mcr-websocket-private.h.
 */
#define G_LOG_DOMAIN "mcr-websocket"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/socket.h>

#include "mcr-enums.h"
#include "mcr-io-source.h"
#include "mcr-tls-stream.h"
#include "mcr-websocket-frame.h"
#include "mcr-websocket-private.h"

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

/* ---- small helpers ---- */

void
_mcr_websocket_set_state (McrWebSocket      *self,
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
void
_mcr_websocket_drop_stream (McrWebSocket *self)
{
  mcr_source_clear (&self->io_source);
  self->poll_socket = NULL;
  mcr_source_clear (&self->close_timeout);
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
  _mcr_websocket_drop_stream (self);
  _mcr_websocket_set_state (self, MCR_WEBSOCKET_STATE_CLOSED);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
}

void
_mcr_websocket_finish (McrWebSocket *self,
                       GError       *error)
{
  finish (self, error);
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

void
_mcr_websocket_queue_frame (McrWebSocket *self,
                            guint8        opcode,
                            const void   *data,
                            gsize         len)
{
  guint8 key[4];
  guint8 *h;
  gsize hlen;

  ensure_out_space (self, MCR_WEBSOCKET_FRAME_HEADER_MAX + len);
  h = self->out_buf + self->out_len;
  mcr_tls_random (key, sizeof key);
  hlen = mcr_websocket_frame_write_header (h, opcode, len, key);
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
  _mcr_websocket_flush_output (self);
  if (self->want_writable && self->state == MCR_WEBSOCKET_STATE_OPEN && !self->close_sent &&
      queue_size (self) < MCR_WEBSOCKET_SEND_QUEUE_MAX / 2)
    {
      self->want_writable = FALSE;
      g_signal_emit (self, signals[SIGNAL_WRITABLE], 0);
    }
}

void
_mcr_websocket_maybe_finish_close (McrWebSocket *self)
{
  if (self->close_sent && self->close_received && queue_size (self) == 0)
    finish (self, NULL);
}

void
_mcr_websocket_flush_output (McrWebSocket *self)
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
          _mcr_websocket_update_events (self, G_IO_OUT, 0);
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
  _mcr_websocket_update_events (self, 0, G_IO_OUT);
  _mcr_websocket_maybe_finish_close (self);
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
  _mcr_websocket_queue_frame (self, (guint8) type, data, len);
  self->bytes_sent += len;
  _mcr_websocket_flush_output (self);
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
  guint8 key[4];

  /* Mask keys must be unpredictable (RFC 6455, 10.3). */
  mcr_tls_random (key, sizeof key);
  return mcr_websocket_frame_in_place (h, (guint8) type, len, key);
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
      _mcr_websocket_flush_output (self);
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
  _mcr_websocket_flush_output (self);
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

void
_mcr_websocket_send_close_frame (McrWebSocket *self,
                                 gushort       code,
                                 const char   *reason)
{
  guint8 payload[MCR_WEBSOCKET_CONTROL_MAX];
  gsize len = mcr_websocket_frame_build_close (payload, code, reason);

  _mcr_websocket_queue_frame (self, MCR_WEBSOCKET_OPCODE_CLOSE, payload, len);
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
      _mcr_websocket_set_state (self, MCR_WEBSOCKET_STATE_CLOSED);
      break;
    case MCR_WEBSOCKET_STATE_CONNECTING:
      g_cancellable_cancel (self->cancellable);
      break;
    case MCR_WEBSOCKET_STATE_OPEN:
      g_debug ("closing %s (%u)", g_uri_get_path (self->uri), code);
      _mcr_websocket_send_close_frame (self, code, reason);
      _mcr_websocket_set_state (self, MCR_WEBSOCKET_STATE_CLOSING);
      mcr_source_attach (&self->close_timeout, g_timeout_source_new_seconds (CLOSE_TIMEOUT_S),
                         self->context, on_close_timeout, self);
      _mcr_websocket_flush_output (self);
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

/* ---- receiving ---- */

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

void
_mcr_websocket_update_events (McrWebSocket *self,
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
      _mcr_websocket_process_input (self);
      if (self->paused || !_mcr_websocket_can_read (self))
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
  if (!self->paused && _mcr_websocket_can_read (self) && more && budget == 0)
    schedule_process (self);
  else if (!self->paused && _mcr_websocket_can_read (self))
    {
      /* Read until WOULD_BLOCK: the socket tells. */
      _mcr_websocket_update_events (self, G_IO_IN, 0);
      moderate_reads (self, READ_BUDGET - budget);
    }
  else
    {
      _mcr_websocket_update_events (self, 0, G_IO_IN);
      if (self->io_source != NULL)
        mcr_io_source_set_deadline (self->io_source, -1);
    }
}

/* A turn from the main loop soon, without waiting for the socket. */
static void
schedule_process (McrWebSocket *self)
{
  if (self->io_source != NULL && _mcr_websocket_can_read (self))
    {
      _mcr_websocket_update_events (self, G_IO_IN, 0);
      mcr_io_source_set_ready (self->io_source);
    }
}

/* Open: one source for the life of the connection. The socket itself is
 * polled when nothing but TLS and our read buffer sits between it and
 * self->input (both read until WOULD_BLOCK before we wait); through a
 * wrapped connection (an https proxy) the streams' own sources are. */
void
_mcr_websocket_start_io (McrWebSocket *self)
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

  _mcr_websocket_drop_stream (self);
  mcr_source_clear (&self->connect_timeout);
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
      g_value_set_enum (value, self->state);
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
    g_param_spec_enum ("state", NULL, NULL, MCR_TYPE_WEBSOCKET_STATE, MCR_WEBSOCKET_STATE_NEW,
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
