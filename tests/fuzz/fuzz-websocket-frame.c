/* fuzz-websocket-frame.c: the WebSocket frame codec (mcr-websocket-frame.h)
 * on what a server may send
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The input: one byte that picks where the stream is split, then the bytes
 * a server sends. They are parsed as the connection parses them (we are the
 * client: masked frames are refused), once whole and once as they would come
 * in pieces; both must see the same frames and the same end. Every header
 * the parser takes must lie within the bytes it was given and obey RFC 6455;
 * headers, in-place frames and close payloads we build must parse back to
 * what was put in.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "mcr-websocket-frame.h"

/* What parsing a stream saw: the headers, in order, and how it ended. */
typedef struct
{
  GArray                 *headers;   /* McrWebSocketFrameHeader */
  McrWebSocketFrameResult end;       /* SHORT: ran out of bytes */
  gboolean                bad_close; /* a malformed close payload */
  gboolean                bad_order; /* a continuation out of place */
} Seen;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

/* Each RFC 6455 rule the parser promises, for a header it took. */
static void
check_header (const guint8                  *p,
              gsize                          avail,
              const McrWebSocketFrameHeader *h)
{
  fuzz_check (h->hlen == 2 || h->hlen == 4 || h->hlen == 10);
  fuzz_check (h->hlen <= avail);
  fuzz_check ((p[0] & 0x70) == 0 && (p[1] & 0x80) == 0);
  fuzz_check (h->opcode == (p[0] & 0x0f));
  fuzz_check (h->fin == ((p[0] & 0x80) != 0));
  fuzz_check (h->opcode <= MCR_WEBSOCKET_OPCODE_BINARY ||
              (h->opcode >= MCR_WEBSOCKET_OPCODE_CLOSE && h->opcode <= MCR_WEBSOCKET_OPCODE_PONG));
  fuzz_check ((h->len >> 63) == 0);
  if (h->opcode & 0x8)
    fuzz_check (h->len <= MCR_WEBSOCKET_CONTROL_MAX && h->fin);
  if (h->hlen == 2)
    fuzz_check (h->len <= 125);
  else if (h->hlen == 4)
    fuzz_check (h->len <= 0xffff);
}

/* A header decided on @avail bytes is decided the same on every longer
 * prefix, and a shorter one than it needs says SHORT. */
static McrWebSocketFrameResult
parse_checked (const guint8            *p,
               gsize                    avail,
               McrWebSocketFrameHeader *h)
{
  McrWebSocketFrameResult r = mcr_websocket_frame_parse_header (p, avail, h);

  if (avail >= 2 && (p[1] & 0x80))
    fuzz_check (r == MCR_WEBSOCKET_FRAME_BAD_BITS);
  if (r == MCR_WEBSOCKET_FRAME_OK)
    {
      check_header (p, avail, h);
      for (gsize k = 0; k < h->hlen; k++)
        {
          McrWebSocketFrameHeader s;

          fuzz_check (mcr_websocket_frame_parse_header (p, k, &s) == MCR_WEBSOCKET_FRAME_SHORT);
        }
      if (h->hlen < avail)
        {
          McrWebSocketFrameHeader s;

          fuzz_check (mcr_websocket_frame_parse_header (p, h->hlen, &s) == MCR_WEBSOCKET_FRAME_OK);
          fuzz_check (s.hlen == h->hlen && s.len == h->len && s.opcode == h->opcode &&
                      s.fin == h->fin);
        }
    }
  else if (r != MCR_WEBSOCKET_FRAME_SHORT)
    {
      McrWebSocketFrameHeader s;

      fuzz_check (avail >= 2);
      fuzz_check (mcr_websocket_frame_result_reason (r) != NULL);
      /* Bad bits show in the first two bytes already. */
      if (r == MCR_WEBSOCKET_FRAME_BAD_BITS)
        fuzz_check (mcr_websocket_frame_parse_header (p, 2, &s) == r);
    }
  return r;
}

static void
check_close (const guint8 *payload,
             gsize         len,
             Seen         *seen)
{
  const char *reason = NULL;
  gsize reason_len = 0;
  gushort code = 0;
  gboolean ok = mcr_websocket_frame_parse_close (payload, len, &code, &reason, &reason_len);

  fuzz_check (ok == (len == 0 || len == 2 ||
                     (len > 2 && g_utf8_validate_len ((const char *) payload + 2, len - 2, NULL))));
  if (!ok)
    {
      seen->bad_close = TRUE;
      return;
    }
  if (len < 2)
    fuzz_check (code == 1005 && reason == NULL && reason_len == 0);
  else
    fuzz_check (code == ((payload[0] << 8) | payload[1]));
  if (len > 2)
    fuzz_check (reason == (const char *) payload + 2 && reason_len == len - 2);
}

/* The connection's receive loop on @data, handed over in pieces that end at
 * @cuts (sorted, the last at @size): a header is parsed only once the bytes
 * that came so far decide it; a control frame waits for its whole payload; a
 * data frame's payload is taken as it comes. */
static void
parse_stream (const guint8 *data,
              gsize         size,
              const gsize  *cuts,
              guint         n_cuts,
              Seen         *seen)
{
  gsize have = 0, pos = 0;
  guint64 remaining = 0;
  gboolean in_message = FALSE;

  seen->end = MCR_WEBSOCKET_FRAME_SHORT;
  for (guint c = 0; c < n_cuts; c++)
    {
      fuzz_check (cuts[c] >= have && cuts[c] <= size);
      have = cuts[c];
      for (;;)
        {
          McrWebSocketFrameHeader h;
          McrWebSocketFrameResult r;

          fuzz_check (pos <= have);
          if (remaining > 0)
            {
              gsize take = (gsize) MIN (remaining, (guint64) (have - pos));

              pos += take;
              remaining -= take;
              if (remaining > 0)
                break;
            }
          r = parse_checked (data + pos, have - pos, &h);
          if (r == MCR_WEBSOCKET_FRAME_SHORT)
            break;
          if (r != MCR_WEBSOCKET_FRAME_OK)
            {
              seen->end = r;
              return;
            }
          if (h.opcode & 0x8)
            {
              if (have - pos < h.hlen + h.len)
                break;
              g_array_append_val (seen->headers, h);
              if (h.opcode == MCR_WEBSOCKET_OPCODE_CLOSE)
                {
                  check_close (data + pos + h.hlen, (gsize) h.len, seen);
                  pos += h.hlen + (gsize) h.len;
                  /* Nothing is read after a close. */
                  seen->end = MCR_WEBSOCKET_FRAME_OK;
                  return;
                }
              pos += h.hlen + (gsize) h.len;
              continue;
            }
          g_array_append_val (seen->headers, h);
          if ((h.opcode == MCR_WEBSOCKET_OPCODE_CONTINUATION) != in_message)
            {
              seen->bad_order = TRUE;
              return;
            }
          in_message = !h.fin;
          pos += h.hlen;
          remaining = h.len;
        }
    }
}

static void
seen_clear (Seen *seen)
{
  g_clear_pointer (&seen->headers, g_array_unref);
}

static gboolean
seen_equal (const Seen *a,
            const Seen *b)
{
  if (a->end != b->end || a->bad_close != b->bad_close || a->bad_order != b->bad_order ||
      a->headers->len != b->headers->len)
    return FALSE;
  for (guint i = 0; i < a->headers->len; i++)
    {
      const McrWebSocketFrameHeader *x = &g_array_index (a->headers, McrWebSocketFrameHeader, i);
      const McrWebSocketFrameHeader *y = &g_array_index (b->headers, McrWebSocketFrameHeader, i);

      if (x->hlen != y->hlen || x->len != y->len || x->opcode != y->opcode || x->fin != y->fin)
        return FALSE;
    }
  return TRUE;
}

/* Headers we write, with the mask taken off as a server would send them,
 * parse back to what was written; in-place frames unmask to their payload. */
static void
check_round_trip (const guint8 *data,
                  gsize         size)
{
  static const guint8 opcodes[] = { 0x0, 0x1, 0x2, 0x8, 0x9, 0xA };
  guint8 frame[8 + 0x10000];
  guint8 server[MCR_WEBSOCKET_FRAME_HEADER_MAX];
  McrWebSocketFrameHeader h;
  guint8 key[4] = { 0 };
  guint8 opcode;
  guint64 len = 0;
  gsize hlen, plen;

  if (size < 13)
    return;
  opcode = opcodes[data[0] % G_N_ELEMENTS (opcodes)];
  for (int i = 0; i < 8; i++)
    len = (len << 8) | data[1 + i];
  /* Every length form: short, 16-bit, 64-bit, up to 2^63 - 1. */
  switch (data[0] >> 6)
    {
    case 0: len %= 126; break;
    case 1: len %= 0x10000; break;
    default: len &= G_MAXINT64; break;
    }
  memcpy (key, data + 9, 4);
  hlen = mcr_websocket_frame_write_header (frame, opcode, len, key);
  fuzz_check (hlen == (len <= 125 ? 6 : len <= 0xffff ? 8 : 14));
  fuzz_check (frame[0] == (0x80 | opcode) && (frame[1] & 0x80));
  fuzz_check (memcmp (frame + hlen - 4, key, 4) == 0);
  memcpy (server, frame, hlen - 4);
  server[1] &= 0x7f;
  /* The client's form is refused as a server's: it is masked. */
  fuzz_check (mcr_websocket_frame_parse_header (frame, hlen, &h) == MCR_WEBSOCKET_FRAME_BAD_BITS);
  switch (mcr_websocket_frame_parse_header (server, hlen - 4, &h))
    {
    case MCR_WEBSOCKET_FRAME_OK:
      fuzz_check (h.hlen == hlen - 4 && h.len == len && h.opcode == opcode && h.fin);
      break;
    case MCR_WEBSOCKET_FRAME_BAD_CONTROL:
      fuzz_check ((opcode & 0x8) && len > 125);
      break;
    default:
      fuzz_check (!"a header we wrote does not parse");
    }

  /* In place, as mcr_websocket_end_send() frames: the payload 8 bytes on. */
  data += 13;
  size -= 13;
  plen = MIN (size, (gsize) 0xffff);
  memcpy (frame + 8, data, plen);
  hlen = mcr_websocket_frame_in_place (frame, opcode, plen, key);
  fuzz_check (hlen >= plen && hlen - plen == (plen <= 125 ? 6 : 8));
  hlen -= plen;
  _mcr_websocket_mask (frame + hlen, plen, key);
  fuzz_check (memcmp (frame + hlen, data, plen) == 0);
  fuzz_check (mcr_websocket_frame_parse_header (frame, hlen, &h) == MCR_WEBSOCKET_FRAME_BAD_BITS);
}

/* A close payload we build parses back to its code and a reason that is
 * the longest valid start of what was given, within 123 bytes. */
static void
check_close_round_trip (const guint8 *data,
                        gsize         size)
{
  guint8 payload[MCR_WEBSOCKET_CONTROL_MAX];
  g_autofree char *reason = NULL;
  const char *got_reason = NULL;
  gsize len, got_len = 0;
  gushort code, got = 0;

  if (size < 2)
    return;
  code = (gushort) ((data[0] << 8) | data[1]);
  /* Reasons are our own strings: UTF-8. */
  reason = g_utf8_make_valid ((const char *) data + 2, (gssize) size - 2);
  len = mcr_websocket_frame_build_close (payload, code, size > 2 ? reason : NULL);
  fuzz_check (len <= MCR_WEBSOCKET_CONTROL_MAX);
  if (code == 0 || code == 1005)
    {
      fuzz_check (len == 0);
      return;
    }
  fuzz_check (mcr_websocket_frame_parse_close (payload, len, &got, &got_reason, &got_len));
  fuzz_check (got == code);
  if (size > 2)
    {
      fuzz_check (got_len <= 123 && got_len <= strlen (reason));
      fuzz_check (got_len == 0 || memcmp (got_reason, reason, got_len) == 0);
      /* Cut only where it had to be. */
      if (strlen (reason) <= 123)
        fuzz_check (got_len == strlen (reason));
      else
        fuzz_check (got_len > 123 - 4);
    }
  else
    fuzz_check (got_len == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Seen whole = { 0 }, split = { 0 };
  g_autofree gsize *cuts = NULL;
  guint n_cuts = 0;
  guint32 state;

  if (size < 1)
    return 0;
  state = data[0] * 2654435761u + 1;
  data++;
  size--;

  whole.headers = g_array_new (FALSE, FALSE, sizeof (McrWebSocketFrameHeader));
  split.headers = g_array_new (FALSE, FALSE, sizeof (McrWebSocketFrameHeader));
  parse_stream (data, size, &size, 1, &whole);

  /* Pieces of 1 to 16 bytes, or bigger ones, as the first byte decides. */
  cuts = g_new (gsize, size + 1);
  for (gsize at = 0; at < size;)
    {
      state = state * 1103515245u + 12345u;
      at += 1 + ((state >> 16) % ((state & 0x100) ? 16 : 300));
      cuts[n_cuts++] = MIN (at, size);
    }
  cuts[n_cuts++] = size;
  parse_stream (data, size, cuts, n_cuts, &split);
  fuzz_check (seen_equal (&whole, &split));
  seen_clear (&whole);
  seen_clear (&split);

  check_close (data, MIN (size, (gsize) MCR_WEBSOCKET_CONTROL_MAX), &whole);
  check_round_trip (data, size);
  check_close_round_trip (data, size);
  return 0;
}
