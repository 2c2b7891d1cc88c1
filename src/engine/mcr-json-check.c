/* mcr-json-check.c: a strict JSON syntax check for text from outside
 *
 * json-glib 1.6 parses recursively with no depth limit (a few hundred
 * thousand '[' overflow the stack) and accepts more than JSON (comments,
 * single-quoted strings, octal escapes), and its \u handling swallows the
 * character after a lone surrogate, which can end a string early and turn
 * what RFC 8259 reads as string content into structure. Text that passes
 * this check is plain RFC 8259 JSON with no lone surrogates and bounded
 * nesting, which json-glib reads the way any JSON reader would.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-json-check"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mcr-json-check.h"

G_DEFINE_QUARK (mcr-json-error-quark, mcr_json_error)

typedef struct
{
  const char *p;
  const char *end;
  guint       line;
  GError    **error;
} Scan;

static gboolean
fail (Scan       *s,
      const char *problem)
{
  g_set_error (s->error, MCR_JSON_ERROR, MCR_JSON_ERROR_SYNTAX,
               /* Translators: %u is a line number, %s says what is wrong */
               _("line %u: %s"), s->line, problem);
  return FALSE;
}

static void
skip_space (Scan *s)
{
  while (s->p < s->end &&
         (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
    {
      if (*s->p == '\n')
        s->line++;
      s->p++;
    }
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* After "\u": four hex digits. */
static gboolean
scan_hex4 (Scan    *s,
           guint32 *value)
{
  *value = 0;
  if (s->end - s->p < 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    {
      int v = hex_value (s->p[i]);

      if (v < 0)
        return FALSE;
      *value = (*value << 4) | (guint32) v;
    }
  s->p += 4;
  return TRUE;
}

static gboolean
scan_unicode_escape (Scan *s)
{
  guint32 hi, lo;

  if (!scan_hex4 (s, &hi))
    return fail (s, _("'\\u' must be followed by four hexadecimal digits"));
  if (hi >= 0xDC00 && hi <= 0xDFFF)
    return fail (s, _("a '\\u' escape holds half a UTF-16 surrogate pair"));
  if (hi < 0xD800 || hi > 0xDBFF)
    return TRUE;
  if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
    return fail (s, _("a '\\u' escape holds half a UTF-16 surrogate pair"));
  s->p += 2;
  if (!scan_hex4 (s, &lo))
    return fail (s, _("'\\u' must be followed by four hexadecimal digits"));
  if (lo < 0xDC00 || lo > 0xDFFF)
    return fail (s, _("a '\\u' escape holds half a UTF-16 surrogate pair"));
  return TRUE;
}

/* At the opening quote. */
static gboolean
scan_string (Scan *s)
{
  s->p++;
  while (s->p < s->end)
    {
      guchar c = (guchar) *s->p;

      if (c == '"')
        {
          s->p++;
          return TRUE;
        }
      if (c < 0x20)
        return fail (s, _("a string holds a control character; it must be escaped"));
      s->p++;
      if (c != '\\')
        continue;
      if (s->p >= s->end)
        break;
      c = (guchar) *s->p++;
      switch (c)
        {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          break;
        case 'u':
          if (!scan_unicode_escape (s))
            return FALSE;
          break;
        default:
          return fail (s, _("a string holds an unknown '\\' escape"));
        }
    }
  return fail (s, _("a string is not closed"));
}

static gboolean
scan_digits (Scan *s)
{
  const char *start = s->p;

  while (s->p < s->end && g_ascii_isdigit (*s->p))
    s->p++;
  return s->p > start;
}

static gboolean
scan_exponent (Scan *s)
{
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
    {
      s->p++;
      if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
        s->p++;
      if (!scan_digits (s))
        return fail (s, _("a number is malformed"));
    }
  return TRUE;
}

/* json-glib 1.6 reads integers with g_ascii_strtoull() and casts: past
 * 64 bits they wrap (99999999999999999999 reads as -1, and
 * -18446744073709548227 as 3389), so refuse integers that do not fit. */
static gboolean
scan_number (Scan *s)
{
  gboolean negative = *s->p == '-';
  const char *digits;
  guint64 value = 0, limit;

  if (negative)
    s->p++;
  digits = s->p;
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (!scan_digits (s))
    return fail (s, _("a number is malformed"));
  limit = negative ? (guint64) G_MAXINT64 + 1 : (guint64) G_MAXINT64;
  for (const char *d = digits; d < s->p; d++)
    {
      guint v = (guint) (*d - '0');

      if (value > (limit - v) / 10)
        {
          value = G_MAXUINT64;
          break;
        }
      value = value * 10 + v;
    }

  if (s->p < s->end && *s->p == '.')
    {
      s->p++;
      if (!scan_digits (s))
        return fail (s, _("a number is malformed"));
      return scan_exponent (s);
    }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
    return scan_exponent (s);
  if (value == G_MAXUINT64)
    return fail (s, _("a whole number is too large"));
  return TRUE;
}

static gboolean
scan_literal (Scan *s)
{
  static const char *const words[] = { "true", "false", "null" };

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    {
      gsize len = strlen (words[i]);

      if ((gsize) (s->end - s->p) >= len && memcmp (s->p, words[i], len) == 0)
        {
          s->p += len;
          return TRUE;
        }
    }
  return fail (s, _("unexpected character; expected a value"));
}

typedef enum
{
  WANT_VALUE,
  WANT_KEY,
  AFTER_VALUE,
} State;

/**
 * mcr_json_check:
 * @data: the text, not necessarily nul-terminated
 * @length: its length in bytes
 * @max_depth: how many arrays/objects may nest (at least 1)
 *
 * Checks that @data is one JSON value as RFC 8259 defines it (a UTF-8 byte
 * order mark may come first), with no '\u' escape holding half a surrogate
 * pair and no deeper nesting than @max_depth. Iterative: any input is safe.
 *
 * Returns: %TRUE if json-glib may be given @data; otherwise %FALSE with
 *   @error in %MCR_JSON_ERROR saying where and what ("line 3: …").
 */
gboolean
mcr_json_check (const char *data,
                gsize       length,
                guint       max_depth,
                GError    **error)
{
  g_autofree char *stack = g_malloc (MAX (max_depth, 1));
  Scan s = { data, data + length, 1, error };
  State state = WANT_VALUE;
  guint depth = 0;

  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error_literal (error, MCR_JSON_ERROR, MCR_JSON_ERROR_SYNTAX,
                           _("the text is not UTF-8 or holds a NUL byte"));
      return FALSE;
    }
  if (length >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    s.p += 3;

  for (;;)
    {
      skip_space (&s);
      if (state == AFTER_VALUE && depth == 0)
        {
          if (s.p != s.end)
            return fail (&s, _("more text follows the end of the JSON value"));
          return TRUE;
        }
      if (s.p >= s.end)
        return fail (&s, _("the text ends too early"));

      if (state == AFTER_VALUE)
        {
          char open = stack[depth - 1];
          char close = open == '{' ? '}' : ']';

          if (*s.p == ',')
            state = open == '{' ? WANT_KEY : WANT_VALUE;
          else if (*s.p == close)
            depth--;
          else
            return fail (&s, open == '{' ? _("expected ',' or '}'") : _("expected ',' or ']'"));
          s.p++;
          continue;
        }

      if (state == WANT_KEY)
        {
          if (*s.p != '"')
            return fail (&s, _("expected a member name in double quotes"));
          if (!scan_string (&s))
            return FALSE;
          skip_space (&s);
          if (s.p >= s.end || *s.p != ':')
            return fail (&s, _("expected ':' after a member name"));
          s.p++;
          state = WANT_VALUE;
          continue;
        }

      /* WANT_VALUE */
      switch (*s.p)
        {
        case '{':
        case '[':
          if (depth >= max_depth)
            {
              g_set_error (error, MCR_JSON_ERROR, MCR_JSON_ERROR_TOO_DEEP,
                           _("line %u: arrays and objects nest deeper than %u levels"),
                           s.line, max_depth);
              return FALSE;
            }
          stack[depth++] = *s.p;
          s.p++;
          skip_space (&s);
          if (s.p < s.end && *s.p == (stack[depth - 1] == '{' ? '}' : ']'))
            {
              s.p++;
              depth--;
              state = AFTER_VALUE;
            }
          else
            state = stack[depth - 1] == '{' ? WANT_KEY : WANT_VALUE;
          continue;
        case '"':
          if (!scan_string (&s))
            return FALSE;
          break;
        case '-':
        case '0' ... '9':
          if (!scan_number (&s))
            return FALSE;
          break;
        default:
          if (!scan_literal (&s))
            return FALSE;
          break;
        }
      state = AFTER_VALUE;
    }
}
