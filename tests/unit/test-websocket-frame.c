/* SPDX-License-Identifier: Apache-2.0
 *
 * The WebSocket frame codec (mcr-websocket-frame.h) alone, on bytes: header
 * forms and limits, partial headers, masks, in-place frames, close payloads,
 * and the fuzzer's findings. */
#include <string.h>

#include "mcr-websocket-frame.h"

static McrWebSocketFrameResult
parse (const guint8            *p,
       gsize                    len,
       McrWebSocketFrameHeader *h)
{
  memset (h, 0xaa, sizeof *h);
  return mcr_websocket_frame_parse_header (p, len, h);
}

/* Parses @p whole, and says SHORT on every shorter prefix. */
static McrWebSocketFrameResult
parse_all_prefixes (const guint8            *p,
                    gsize                    len,
                    McrWebSocketFrameHeader *h)
{
  for (gsize k = 0; k < len; k++)
    {
      McrWebSocketFrameHeader s;

      g_assert_cmpint (parse (p, k, &s), ==, MCR_WEBSOCKET_FRAME_SHORT);
    }
  return parse (p, len, h);
}

static void
test_lengths (void)
{
  static const guint8 len7[] = { 0x82, 125 };
  static const guint8 len16[] = { 0x82, 126, 0xff, 0xff };
  static const guint8 len64[] = { 0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0 };
  static const guint8 len64_max[] = { 0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  static const guint8 len64_top[] = { 0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0 };
  McrWebSocketFrameHeader h;

  g_assert_cmpint (parse_all_prefixes (len7, sizeof len7, &h), ==, MCR_WEBSOCKET_FRAME_OK);
  g_assert_cmpuint (h.hlen, ==, 2);
  g_assert_cmpuint (h.len, ==, 125);
  g_assert_cmpuint (h.opcode, ==, MCR_WEBSOCKET_OPCODE_BINARY);
  g_assert_true (h.fin);

  g_assert_cmpint (parse_all_prefixes (len16, sizeof len16, &h), ==, MCR_WEBSOCKET_FRAME_OK);
  g_assert_cmpuint (h.hlen, ==, 4);
  g_assert_cmpuint (h.len, ==, 0xffff);

  g_assert_cmpint (parse_all_prefixes (len64, sizeof len64, &h), ==, MCR_WEBSOCKET_FRAME_OK);
  g_assert_cmpuint (h.hlen, ==, 10);
  g_assert_cmpuint (h.len, ==, G_GUINT64_CONSTANT (1) << 32);

  g_assert_cmpint (parse_all_prefixes (len64_max, sizeof len64_max, &h), ==,
                   MCR_WEBSOCKET_FRAME_OK);
  g_assert_cmpuint (h.len, ==, (guint64) G_MAXINT64);

  /* 2^63 and more: refused, once all 10 bytes are there. */
  g_assert_cmpint (parse_all_prefixes (len64_top, sizeof len64_top, &h), ==,
                   MCR_WEBSOCKET_FRAME_BAD_LENGTH);
  g_assert_nonnull (mcr_websocket_frame_result_reason (MCR_WEBSOCKET_FRAME_BAD_LENGTH));
}

/* The connection does not insist on the shortest length form (RFC 6455,
 * 5.2 asks a sender for it): 5 bytes in the 16- and the 64-bit form parse
 * as 5. */
static void
test_non_minimal (void)
{
  static const guint8 len16[] = { 0x81, 126, 0, 5 };
  static const guint8 len64[] = { 0x81, 127, 0, 0, 0, 0, 0, 0, 0, 5 };
  McrWebSocketFrameHeader h;

  g_assert_cmpint (parse (len16, sizeof len16, &h), ==, MCR_WEBSOCKET_FRAME_OK);
  g_assert_cmpuint (h.hlen, ==, 4);
  g_assert_cmpuint (h.len, ==, 5);
  g_assert_cmpint (parse (len64, sizeof len64, &h), ==, MCR_WEBSOCKET_FRAME_OK);
  g_assert_cmpuint (h.hlen, ==, 10);
  g_assert_cmpuint (h.len, ==, 5);
}

static void
test_bits (void)
{
  McrWebSocketFrameHeader h;
  guint8 p[2];

  /* Every first byte, with an unmasked empty payload. */
  for (guint b = 0; b < 256; b++)
    {
      guint opcode = b & 0x0f;
      gboolean good_opcode = opcode <= 2 || (opcode >= 8 && opcode <= 10);
      gboolean fin = (b & 0x80) != 0;
      McrWebSocketFrameResult want;

      p[0] = (guint8) b;
      p[1] = 0;
      if ((b & 0x70) != 0 || !good_opcode)
        want = MCR_WEBSOCKET_FRAME_BAD_BITS;
      else if ((opcode & 0x8) && !fin)
        want = MCR_WEBSOCKET_FRAME_BAD_CONTROL;
      else
        want = MCR_WEBSOCKET_FRAME_OK;
      g_assert_cmpint (parse (p, 2, &h), ==, want);
      if (want == MCR_WEBSOCKET_FRAME_OK)
        {
          g_assert_cmpuint (h.opcode, ==, opcode);
          g_assert_cmpint (h.fin, ==, fin);
          g_assert_cmpuint (h.len, ==, 0);
        }
    }

  /* A server's frame is never masked: refused at its second byte, whatever
   * its length form. */
  for (guint len = 0; len < 128; len++)
    {
      p[0] = 0x82;
      p[1] = (guint8) (0x80 | len);
      g_assert_cmpint (parse (p, 2, &h), ==, MCR_WEBSOCKET_FRAME_BAD_BITS);
    }
}

static void
test_control (void)
{
  static const guint8 ping125[] = { 0x89, 125 };
  static const guint8 ping126[] = { 0x89, 126, 0, 126 };
  static const guint8 close_long[] = { 0x88, 127, 0, 0, 0, 0, 0, 0, 0, 125 };
  static const guint8 pong_frag[] = { 0x0a, 0 };
  McrWebSocketFrameHeader h;

  g_assert_cmpint (parse (ping125, sizeof ping125, &h), ==, MCR_WEBSOCKET_FRAME_OK);
  g_assert_cmpuint (h.len, ==, 125);
  /* Over 125 is refused, but only once the length is all there. */
  g_assert_cmpint (parse_all_prefixes (ping126, sizeof ping126, &h), ==,
                   MCR_WEBSOCKET_FRAME_BAD_CONTROL);
  /* 125 in a long form is a length the rule allows. */
  g_assert_cmpint (parse (close_long, sizeof close_long, &h), ==, MCR_WEBSOCKET_FRAME_OK);
  g_assert_cmpint (parse (pong_frag, sizeof pong_frag, &h), ==, MCR_WEBSOCKET_FRAME_BAD_CONTROL);
  g_assert_nonnull (mcr_websocket_frame_result_reason (MCR_WEBSOCKET_FRAME_BAD_CONTROL));
}

/* Written headers, unmasked as a server would send them, parse back. */
static void
test_write_header (void)
{
  static const guint64 lengths[] = { 0, 1, 125, 126, 0xffff, 0x10000, G_MAXINT64 };
  static const guint8 key[4] = { 0x12, 0x34, 0x56, 0x78 };

  for (gsize i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      guint8 buf[MCR_WEBSOCKET_FRAME_HEADER_MAX];
      McrWebSocketFrameHeader h;
      gsize n = mcr_websocket_frame_write_header (buf, MCR_WEBSOCKET_OPCODE_BINARY, lengths[i],
                                                  key);

      g_assert_cmpuint (n, ==, lengths[i] <= 125 ? 6 : lengths[i] <= 0xffff ? 8 : 14);
      g_assert_cmphex (buf[0], ==, 0x82);
      g_assert_cmphex (buf[1] & 0x80, ==, 0x80);
      g_assert_cmpmem (buf + n - 4, 4, key, 4);
      /* Masked: not a frame a server may send. */
      g_assert_cmpint (parse (buf, n, &h), ==, MCR_WEBSOCKET_FRAME_BAD_BITS);
      buf[1] &= 0x7f;
      g_assert_cmpint (parse_all_prefixes (buf, n - 4, &h), ==, MCR_WEBSOCKET_FRAME_OK);
      g_assert_cmpuint (h.hlen, ==, n - 4);
      g_assert_cmpuint (h.len, ==, lengths[i]);
    }
}

static void
test_mask (void)
{
  static const guint8 key[4] = { 0xde, 0xad, 0xbe, 0xef };
  guint8 data[100], copy[100];

  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i * 7);
  /* Every length and start, against the byte-wise definition. */
  for (gsize start = 0; start < 8; start++)
    for (gsize len = 0; start + len <= sizeof data; len++)
      {
        memcpy (copy, data, sizeof data);
        _mcr_websocket_mask (copy + start, len, key);
        for (gsize i = 0; i < sizeof data; i++)
          {
            guint8 want = (i >= start && i < start + len) ? data[i] ^ key[(i - start) & 3] : data[i];

            g_assert_cmphex (copy[i], ==, want);
          }
      }
}

static void
test_in_place (void)
{
  static const gsize lengths[] = { 0, 1, 125, 126, 4096, 0xffff };
  static const guint8 key[4] = { 1, 2, 3, 4 };

  for (gsize i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      gsize len = lengths[i];
      g_autofree guint8 *buf = g_malloc (8 + len);
      g_autofree guint8 *want = g_malloc (len + 1);
      gsize total, hlen;

      for (gsize j = 0; j < len; j++)
        want[j] = buf[8 + j] = (guint8) (j ^ (j >> 8));
      total = mcr_websocket_frame_in_place (buf, MCR_WEBSOCKET_OPCODE_TEXT, len, key);
      hlen = len <= 125 ? 6 : 8;
      g_assert_cmpuint (total, ==, hlen + len);
      g_assert_cmphex (buf[0], ==, 0x81);
      g_assert_cmpmem (buf + hlen - 4, 4, key, 4);
      _mcr_websocket_mask (buf + hlen, len, key);
      g_assert_cmpmem (buf + hlen, len, want, len);
    }
}

static void
test_close (void)
{
  static const guint8 normal[] = { 0x03, 0xe8, 'b', 'y', 'e' };
  static const guint8 bad_utf8[] = { 0x03, 0xe8, 0xc3, 0x28 };
  static const guint8 one[] = { 0x03 };
  guint8 payload[MCR_WEBSOCKET_CONTROL_MAX];
  g_autofree char *long_reason = NULL;
  const char *reason;
  gsize reason_len, len;
  gushort code;

  g_assert_true (mcr_websocket_frame_parse_close (normal, sizeof normal, &code, &reason,
                                                  &reason_len));
  g_assert_cmpuint (code, ==, 1000);
  g_assert_cmpmem (reason, reason_len, "bye", 3);
  g_assert_true (mcr_websocket_frame_parse_close (normal, 2, &code, &reason, &reason_len));
  g_assert_null (reason);
  g_assert_cmpuint (reason_len, ==, 0);
  g_assert_true (mcr_websocket_frame_parse_close (normal, 0, &code, &reason, &reason_len));
  g_assert_cmpuint (code, ==, 1005);
  g_assert_false (mcr_websocket_frame_parse_close (one, sizeof one, &code, &reason, &reason_len));
  g_assert_false (mcr_websocket_frame_parse_close (bad_utf8, sizeof bad_utf8, &code, &reason,
                                                   &reason_len));

  g_assert_cmpuint (mcr_websocket_frame_build_close (payload, 0, "x"), ==, 0);
  g_assert_cmpuint (mcr_websocket_frame_build_close (payload, 1005, "x"), ==, 0);
  len = mcr_websocket_frame_build_close (payload, 1001, NULL);
  g_assert_cmpuint (len, ==, 2);
  g_assert_cmphex (payload[0], ==, 0x03);
  g_assert_cmphex (payload[1], ==, 0xe9);
  /* 122 'a' and a two-byte character: cut before it, at 122 of 123. */
  long_reason = g_strconcat ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\xc3\xa9", "tail",
                             NULL);
  len = mcr_websocket_frame_build_close (payload, 1000, long_reason);
  g_assert_cmpuint (len, ==, 2 + 122);
  g_assert_true (mcr_websocket_frame_parse_close (payload, len, &code, &reason, &reason_len));
  g_assert_cmpuint (code, ==, 1000);
  g_assert_cmpuint (reason_len, ==, 122);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/websocket-frame/lengths", test_lengths);
  g_test_add_func ("/websocket-frame/non-minimal", test_non_minimal);
  g_test_add_func ("/websocket-frame/bits", test_bits);
  g_test_add_func ("/websocket-frame/control", test_control);
  g_test_add_func ("/websocket-frame/write-header", test_write_header);
  g_test_add_func ("/websocket-frame/mask", test_mask);
  g_test_add_func ("/websocket-frame/in-place", test_in_place);
  g_test_add_func ("/websocket-frame/close", test_close);
  return g_test_run ();
}
