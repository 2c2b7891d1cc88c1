/* mcr-websocket-receive.c: the frames read, made into messages and handed
 * on as far as the receiver takes them; control frames answered
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The connection (mcr-websocket.c) reads into in_buf and calls
 * _mcr_websocket_process_input(); headers are parsed by the frame codec
 * (mcr-websocket-frame.h, inline).
 */
#define G_LOG_DOMAIN "mcr-websocket"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mcr-websocket-frame.h"
#include "mcr-websocket-private.h"

#define OPCODE_CONTINUATION MCR_WEBSOCKET_OPCODE_CONTINUATION
#define OPCODE_TEXT         MCR_WEBSOCKET_OPCODE_TEXT
#define OPCODE_BINARY       MCR_WEBSOCKET_OPCODE_BINARY
#define OPCODE_CLOSE        MCR_WEBSOCKET_OPCODE_CLOSE
#define OPCODE_PING         MCR_WEBSOCKET_OPCODE_PING
#define OPCODE_PONG         MCR_WEBSOCKET_OPCODE_PONG

/* A broken frame: say why in a close frame (best effort), then drop. */
static void
fail_protocol (McrWebSocket *self,
               gushort       code,
               GError       *error)
{
  if (!self->close_sent && self->output != NULL)
    {
      _mcr_websocket_send_close_frame (self, code, NULL);
      _mcr_websocket_flush_output (self);
    }
  _mcr_websocket_finish (self, error);
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
  const char *reason;
  gsize reason_len;
  gushort code;

  switch (opcode)
    {
    case OPCODE_PING:
      if (!self->close_sent)
        {
          _mcr_websocket_queue_frame (self, OPCODE_PONG, payload, len);
          _mcr_websocket_flush_output (self);
        }
      break;
    case OPCODE_PONG:
      break;
    case OPCODE_CLOSE:
      if (!mcr_websocket_frame_parse_close (payload, len, &code, &reason, &reason_len))
        {
          fail_protocol (self, MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR,
                         g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_PROTOCOL,
                                      _("The server sent a malformed close frame")));
          return;
        }
      self->close_received = TRUE;
      self->close_code = code;
      g_free (self->close_reason);
      self->close_reason = reason != NULL ? g_strndup (reason, reason_len) : NULL;
      g_debug ("%s closed by the server (%u)", g_uri_get_path (self->uri), self->close_code);
      _mcr_websocket_update_events (self, 0, G_IO_IN);
      if (!self->close_sent)
        _mcr_websocket_send_close_frame (self, self->close_code, NULL);
      _mcr_websocket_set_state (self, MCR_WEBSOCKET_STATE_CLOSING);
      _mcr_websocket_flush_output (self);
      _mcr_websocket_maybe_finish_close (self);
      break;
    default:
      g_assert_not_reached ();
    }
}

typedef McrWebSocketFrameHeader FrameHeader;

/* The frame header at in_pos. FALSE if more bytes are needed (or the
 * connection failed). */
static gboolean
parse_header (McrWebSocket *self,
              FrameHeader  *h)
{
  const guint8 *p = self->in_buf + self->in_pos;
  McrWebSocketFrameResult result;

  result = mcr_websocket_frame_parse_header (p, self->in_len - self->in_pos, h);

  if (result == MCR_WEBSOCKET_FRAME_OK)
    return TRUE;
  if (result == MCR_WEBSOCKET_FRAME_SHORT)
    return FALSE;
  fail_protocol (self, MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR,
                 g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_PROTOCOL,
                              "%s (%02x %02x)", mcr_websocket_frame_result_reason (result),
                              p[0], p[1]));
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

      if (mcr_websocket_frame_parse_header (self->in_buf + r, self->in_len - r, &h) !=
          MCR_WEBSOCKET_FRAME_OK ||
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
void
_mcr_websocket_process_input (McrWebSocket *self)
{
  while (!self->paused && self->in_buf != NULL && _mcr_websocket_can_read (self))
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
