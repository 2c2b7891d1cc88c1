/* mcr-bench-data.c: deterministic pseudo-random bytes and XXH64
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-bench"

#include <string.h>

#include "mcr-bench.h"

#define GOLDEN 0x9E3779B97F4A7C15ULL

static inline guint64
splitmix64 (guint64 z)
{
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static inline guint64
word_at (guint64 seed,
         guint64 index)
{
  return GUINT64_TO_LE (splitmix64 (seed + (index + 1) * GOLDEN));
}

void
mcr_bench_fill (guint8  *buf,
                guint64  seed,
                guint64  offset,
                gsize    len)
{
  guint64 index = offset / 8;
  gsize skip = offset % 8;
  guint64 w;

  if (skip != 0)
    {
      gsize n = MIN (len, 8 - skip);

      w = word_at (seed, index++);
      memcpy (buf, (guint8 *) &w + skip, n);
      buf += n;
      len -= n;
    }
  for (; len >= 8; len -= 8, buf += 8)
    {
      w = word_at (seed, index++);
      memcpy (buf, &w, 8);
    }
  if (len > 0)
    {
      w = word_at (seed, index);
      memcpy (buf, &w, len);
    }
}

/* ---- XXH64, from the published specification ---- */

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline guint64
rotl (guint64 x,
      int     r)
{
  return (x << r) | (x >> (64 - r));
}

static inline guint64
read64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

static inline guint32
read32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static inline guint64
xxh_round (guint64 acc,
           guint64 input)
{
  acc += input * P2;
  acc = rotl (acc, 31);
  return acc * P1;
}

static inline guint64
xxh_merge (guint64 acc,
           guint64 val)
{
  acc ^= xxh_round (0, val);
  return acc * P1 + P4;
}

void
mcr_bench_hash_init (McrBenchHash *h)
{
  memset (h, 0, sizeof *h);
  h->v[0] = P1 + P2;
  h->v[1] = P2;
  h->v[2] = 0;
  h->v[3] = -P1;
}

static inline void
stripe (guint64       v[4],
        const guint8 *p)
{
  v[0] = xxh_round (v[0], read64 (p));
  v[1] = xxh_round (v[1], read64 (p + 8));
  v[2] = xxh_round (v[2], read64 (p + 16));
  v[3] = xxh_round (v[3], read64 (p + 24));
}

void
mcr_bench_hash_update (McrBenchHash *h,
                       const guint8 *data,
                       gsize         len)
{
  guint64 v[4];

  h->total += len;
  if (h->tail_len + len < 32)
    {
      memcpy (h->tail + h->tail_len, data, len);
      h->tail_len += len;
      return;
    }
  memcpy (v, h->v, sizeof v);
  if (h->tail_len > 0)
    {
      gsize n = 32 - h->tail_len;

      memcpy (h->tail + h->tail_len, data, n);
      stripe (v, h->tail);
      data += n;
      len -= n;
      h->tail_len = 0;
    }
  for (; len >= 32; len -= 32, data += 32)
    stripe (v, data);
  memcpy (h->v, v, sizeof v);
  memcpy (h->tail, data, len);
  h->tail_len = len;
}

guint64
mcr_bench_hash_final (const McrBenchHash *h)
{
  const guint8 *p = h->tail;
  gsize len = h->tail_len;
  guint64 acc;

  if (h->total >= 32)
    {
      acc = rotl (h->v[0], 1) + rotl (h->v[1], 7) + rotl (h->v[2], 12) + rotl (h->v[3], 18);
      for (int i = 0; i < 4; i++)
        acc = xxh_merge (acc, h->v[i]);
    }
  else
    acc = P5;
  acc += h->total;
  for (; len >= 8; len -= 8, p += 8)
    {
      acc ^= xxh_round (0, read64 (p));
      acc = rotl (acc, 27) * P1 + P4;
    }
  if (len >= 4)
    {
      acc ^= (guint64) read32 (p) * P1;
      acc = rotl (acc, 23) * P2 + P3;
      p += 4;
      len -= 4;
    }
  for (; len > 0; len--, p++)
    {
      acc ^= *p * P5;
      acc = rotl (acc, 11) * P1;
    }
  acc ^= acc >> 33;
  acc *= P2;
  acc ^= acc >> 29;
  acc *= P3;
  acc ^= acc >> 32;
  return acc;
}

guint64
mcr_bench_hash_buffer (const guint8 *data,
                       gsize         len)
{
  McrBenchHash h;

  mcr_bench_hash_init (&h);
  mcr_bench_hash_update (&h, data, len);
  return mcr_bench_hash_final (&h);
}

gboolean
mcr_bench_hash_self_test (void)
{
  static const struct { const char *text; guint64 hash; } known[] = {
    { "", 0xEF46DB3751D8E999ULL },
    { "a", 0xD24EC4F1A98C6E5BULL },
    { "abc", 0x44BC2CF5AD770999ULL },
  };
  g_autofree guint8 *buf = g_malloc (102403);
  McrBenchHash h;
  guint64 whole;

  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    if (mcr_bench_hash_buffer ((const guint8 *) known[i].text, strlen (known[i].text))
        != known[i].hash)
      return FALSE;

  /* A long input, checked against libxxhash 0.8.1: bytes 0..255 400 times, then "xyz". */
  for (gsize i = 0; i < 102400; i++)
    buf[i] = (guint8) i;
  memcpy (buf + 102400, "xyz", 3);
  if (mcr_bench_hash_buffer (buf, 102403) != 0x0C924E55F11E1E6EULL)
    return FALSE;

  /* Pieces of any size hash like the whole. */
  mcr_bench_fill (buf, 42, 0, 100003);
  whole = mcr_bench_hash_buffer (buf, 100003);
  mcr_bench_hash_init (&h);
  for (gsize off = 0, step = 1; off < 100003; off += step, step = step * 3 % 997 + 1)
    mcr_bench_hash_update (&h, buf + off, MIN (step, 100003 - off));
  if (mcr_bench_hash_final (&h) != whole)
    return FALSE;

  /* So do bytes made from any offset. */
  {
    guint8 part[29];

    mcr_bench_fill (part, 42, 12345, sizeof part);
    if (memcmp (part, buf + 12345, sizeof part) != 0)
      return FALSE;
  }
  return TRUE;
}

void
mcr_bench_header_write (guint8  *buf,
                        guint64  length,
                        guint64  seed)
{
  guint64 le;

  memcpy (buf, "MCRB\0\0\0\0", 8);
  le = GUINT64_TO_LE (length);
  memcpy (buf + 8, &le, 8);
  le = GUINT64_TO_LE (seed);
  memcpy (buf + 16, &le, 8);
}

gboolean
mcr_bench_header_read (const guint8 *buf,
                       guint64      *length,
                       guint64      *seed)
{
  if (memcmp (buf, "MCRB\0\0\0\0", 8) != 0)
    return FALSE;
  *length = read64 (buf + 8);
  *seed = read64 (buf + 16);
  return TRUE;
}
