/* mcr-websocket-frame.h: the RFC 6455 frame codec, with no I/O and no
 * GObject (internal)
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * What the connection (mcr-websocket.c) reads and writes, as plain
 * functions on bytes, so that they can be tested and fuzzed alone. We are
 * always the client: frames we parse come from a server and must not be
 * masked; frames we write are masked with a key the caller draws.
 *
 * Limits, as the connection enforces them: a payload length is at most
 * 2^63 - 1; the 16- and 64-bit length forms are taken even for lengths a
 * shorter form could carry (no minimal-encoding rule); control frames
 * (close, ping, pong) carry at most 125 bytes and are never fragmented; no
 * extensions are negotiated, so the reserved bits must be 0; opcodes 3-7
 * and 11-15 are refused.
 *
 * The header functions are static inline: the receive path peeks at a
 * header per 4 KiB frame of the agent's.
 */
#pragma once

#include <glib.h>
#include <string.h>

G_BEGIN_DECLS

#define MCR_WEBSOCKET_OPCODE_CONTINUATION 0x0
#define MCR_WEBSOCKET_OPCODE_TEXT         0x1
#define MCR_WEBSOCKET_OPCODE_BINARY       0x2
#define MCR_WEBSOCKET_OPCODE_CLOSE        0x8
#define MCR_WEBSOCKET_OPCODE_PING         0x9
#define MCR_WEBSOCKET_OPCODE_PONG         0xA

/* The longest client (masked) header: 2 + 8 length bytes + 4 key bytes. */
#define MCR_WEBSOCKET_FRAME_HEADER_MAX    14
/* The longest control frame payload, and so close payload. */
#define MCR_WEBSOCKET_CONTROL_MAX         125

typedef struct
{
  gsize    hlen;    /* header bytes: 2, 4 or 10 (a server's, unmasked) */
  guint8   opcode;
  gboolean fin;
  guint64  len;     /* payload bytes after the header; < 2^63 */
} McrWebSocketFrameHeader;

typedef enum
{
  MCR_WEBSOCKET_FRAME_OK,          /* a frame header (the payload may not be here yet) */
  MCR_WEBSOCKET_FRAME_SHORT,       /* more bytes needed to tell */
  MCR_WEBSOCKET_FRAME_BAD_BITS,    /* reserved bits, a mask, an unknown opcode */
  MCR_WEBSOCKET_FRAME_BAD_LENGTH,  /* a 64-bit length with its top bit set */
  MCR_WEBSOCKET_FRAME_BAD_CONTROL, /* a long or fragmented control frame */
} McrWebSocketFrameResult;

/* Parses the server frame header at @p, of which @avail bytes are there.
 * On MCR_WEBSOCKET_FRAME_OK, @h->hlen <= @avail; @h->len may reach past
 * @avail (the payload comes later). Otherwise @h holds what was read so far. */
static inline McrWebSocketFrameResult
mcr_websocket_frame_parse_header (const guint8            *p,
                                  gsize                    avail,
                                  McrWebSocketFrameHeader *h)
{
  if (avail < 2)
    return MCR_WEBSOCKET_FRAME_SHORT;
  h->opcode = p[0] & 0x0f;
  h->fin = (p[0] & 0x80) != 0;
  /* A server never masks (RFC 6455, 5.1). */
  if ((p[0] & 0x70) != 0 || (p[1] & 0x80) != 0 ||
      (h->opcode > MCR_WEBSOCKET_OPCODE_BINARY && h->opcode < MCR_WEBSOCKET_OPCODE_CLOSE) ||
      h->opcode > MCR_WEBSOCKET_OPCODE_PONG)
    return MCR_WEBSOCKET_FRAME_BAD_BITS;
  h->len = p[1] & 0x7f;
  h->hlen = 2;
  if (h->len == 126)
    {
      if (avail < 4)
        return MCR_WEBSOCKET_FRAME_SHORT;
      h->len = ((guint64) p[2] << 8) | p[3];
      h->hlen = 4;
    }
  else if (h->len == 127)
    {
      if (avail < 10)
        return MCR_WEBSOCKET_FRAME_SHORT;
      h->len = 0;
      for (int i = 0; i < 8; i++)
        h->len = (h->len << 8) | p[2 + i];
      h->hlen = 10;
      if (h->len >> 63)
        return MCR_WEBSOCKET_FRAME_BAD_LENGTH;
    }
  if ((h->opcode & 0x8) && (h->len > MCR_WEBSOCKET_CONTROL_MAX || !h->fin))
    return MCR_WEBSOCKET_FRAME_BAD_CONTROL;
  return MCR_WEBSOCKET_FRAME_OK;
}

/* Writes a final client frame header (masked with @key) for @len payload
 * bytes at @h, which has room for MCR_WEBSOCKET_FRAME_HEADER_MAX bytes;
 * returns its length (6, 8 or 14), the shortest form for @len. */
static inline gsize
mcr_websocket_frame_write_header (guint8       *h,
                                  guint8        opcode,
                                  guint64       len,
                                  const guint8  key[4])
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
  memcpy (h + n, key, 4);
  return n + 4;
}

/* Why a header was refused, for an error message (translated). */
const char *mcr_websocket_frame_result_reason (McrWebSocketFrameResult result);

/* XORs @data with the 4-byte @key, the key starting at data[0]. */
void        _mcr_websocket_mask              (guint8       *data,
                                              gsize         len,
                                              const guint8  key[4]);

/* Frames and masks with @key the @len payload bytes that sit 8 bytes after
 * @h (len <= 0xffff: the header is then 6 or 8 bytes); a payload of up to
 * 125 bytes is moved up against its shorter header. Returns the frame's
 * length, starting at @h. */
gsize       mcr_websocket_frame_in_place     (guint8       *h,
                                              guint8        opcode,
                                              gsize         len,
                                              const guint8  key[4]);

/* The payload of a close frame for @code and @reason (NULL: none) in
 * @payload; returns its length. No code (0 or 1005) makes an empty payload;
 * a reason is cut to 123 bytes on a UTF-8 character boundary. */
gsize       mcr_websocket_frame_build_close  (guint8        payload[MCR_WEBSOCKET_CONTROL_MAX],
                                              gushort       code,
                                              const char   *reason);

/* Parses a close payload: FALSE when it is malformed (a lone byte, or a
 * reason that is not UTF-8). Else @code is its code (1005 when it has
 * none) and @reason/@reason_len point at its reason inside @payload
 * (NULL/0 when it has none). */
gboolean    mcr_websocket_frame_parse_close  (const guint8  *payload,
                                              gsize          len,
                                              gushort       *code,
                                              const char   **reason,
                                              gsize         *reason_len);

G_END_DECLS
