/* mcr-websocket-frame.c: the RFC 6455 frame codec, with no I/O and no
 * GObject
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-websocket"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mcr-websocket-frame.h"

/* RFC 6455, 7.4.1: "no status code was actually present". */
#define CLOSE_NO_STATUS 1005

const char *
mcr_websocket_frame_result_reason (McrWebSocketFrameResult result)
{
  switch (result)
    {
    case MCR_WEBSOCKET_FRAME_BAD_LENGTH:
      return _("The server sent an invalid frame length");
    case MCR_WEBSOCKET_FRAME_BAD_CONTROL:
      return _("The server sent a long or fragmented control frame");
    case MCR_WEBSOCKET_FRAME_OK:
    case MCR_WEBSOCKET_FRAME_SHORT:
    case MCR_WEBSOCKET_FRAME_BAD_BITS:
    default:
      return _("The server sent an invalid frame");
    }
}

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

gsize
mcr_websocket_frame_in_place (guint8       *h,
                              guint8        opcode,
                              gsize         len,
                              const guint8  key[4])
{
  guint8 *payload = h + 8;
  gsize hlen;

  g_assert (len <= 0xffff);
  if (len <= 125)
    {
      memmove (h + 6, payload, len);
      payload = h + 6;
    }
  hlen = mcr_websocket_frame_write_header (h, opcode, len, key);
  g_assert (h + hlen == payload);
  _mcr_websocket_mask (payload, len, key);
  return hlen + len;
}

gsize
mcr_websocket_frame_build_close (guint8      payload[MCR_WEBSOCKET_CONTROL_MAX],
                                 gushort     code,
                                 const char *reason)
{
  gsize len = 0;

  if (code != 0 && code != CLOSE_NO_STATUS)
    {
      payload[0] = (guint8) (code >> 8);
      payload[1] = (guint8) code;
      len = 2;
      if (reason != NULL)
        {
          gsize rlen = strlen (reason);
          const char *end;

          /* At most 123 bytes, cut on a character boundary. */
          if (rlen > MCR_WEBSOCKET_CONTROL_MAX - 2)
            {
              g_utf8_validate_len (reason, MCR_WEBSOCKET_CONTROL_MAX - 2, &end);
              rlen = (gsize) (end - reason);
            }
          memcpy (payload + 2, reason, rlen);
          len += rlen;
        }
    }
  return len;
}

gboolean
mcr_websocket_frame_parse_close (const guint8  *payload,
                                 gsize          len,
                                 gushort       *code,
                                 const char   **reason,
                                 gsize         *reason_len)
{
  if (len == 1 || (len > 2 && !g_utf8_validate_len ((const char *) payload + 2, len - 2, NULL)))
    return FALSE;
  *code = len >= 2 ? (gushort) ((payload[0] << 8) | payload[1]) : CLOSE_NO_STATUS;
  *reason = len > 2 ? (const char *) payload + 2 : NULL;
  *reason_len = len > 2 ? len - 2 : 0;
  return TRUE;
}
