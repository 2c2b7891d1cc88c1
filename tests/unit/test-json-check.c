/* SPDX-License-Identifier: Apache-2.0 */
#include <json-glib/json-glib.h>

#include "mcr-json-check.h"
#include "mcr-json-private.h"

static const char *const good[] = {
  "{}",
  "[]",
  "0",
  "-0.5e+10",
  "\"\"",
  "true",
  "null",
  " \r\n\t{ \"a\" : [ 1 , -2 , 3.25 , 1E5 , true , false , null , { } , [ ] ] } \r\n",
  "\xEF\xBB\xBF{\"bom\": 1}",
  "{\"esc\": \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\"}",
  "{\"utf8\": \"会議室 🖥 é\"}",
  "[[[[[[[[]]]]]]]]",  /* 8 deep */
  "[9223372036854775807, -9223372036854775808, 99999999999999999999.0, 1e400]",
};

static const struct
{
  const char  *text;
  McrJsonError code;
  const char  *message;
} bad[] = {
  { "", MCR_JSON_ERROR_SYNTAX, "line 1: the text ends too early" },
  { "   ", MCR_JSON_ERROR_SYNTAX, "line 1: the text ends too early" },
  { "{", MCR_JSON_ERROR_SYNTAX, "line 1: the text ends too early" },
  { "{\"a\"}", MCR_JSON_ERROR_SYNTAX, "line 1: expected ':' after a member name" },
  { "{\"a\":1,}", MCR_JSON_ERROR_SYNTAX, "line 1: expected a member name in double quotes" },
  { "[1,]", MCR_JSON_ERROR_SYNTAX, "line 1: unexpected character; expected a value" },
  { "[1 2]", MCR_JSON_ERROR_SYNTAX, "line 1: expected ',' or ']'" },
  { "{\"a\":1\n\"b\":2}", MCR_JSON_ERROR_SYNTAX, "line 2: expected ',' or '}'" },
  { "{} {}", MCR_JSON_ERROR_SYNTAX, "line 1: more text follows the end of the JSON value" },
  { "{'a':1}", MCR_JSON_ERROR_SYNTAX, "line 1: expected a member name in double quotes" },
  { "/* c */ {}", MCR_JSON_ERROR_SYNTAX, "line 1: unexpected character; expected a value" },
  { "[01]", MCR_JSON_ERROR_SYNTAX, "line 1: expected ',' or ']'" },
  { "[1.]", MCR_JSON_ERROR_SYNTAX, "line 1: a number is malformed" },
  { "[-]", MCR_JSON_ERROR_SYNTAX, "line 1: a number is malformed" },
  { "[1e]", MCR_JSON_ERROR_SYNTAX, "line 1: a number is malformed" },
  { "[0x10]", MCR_JSON_ERROR_SYNTAX, "line 1: expected ',' or ']'" },
  { "[tru]", MCR_JSON_ERROR_SYNTAX, "line 1: unexpected character; expected a value" },
  { "[truex]", MCR_JSON_ERROR_SYNTAX, "line 1: expected ',' or ']'" },
  { "[\"abc]", MCR_JSON_ERROR_SYNTAX, "line 1: a string is not closed" },
  { "[\"a\tb\"]", MCR_JSON_ERROR_SYNTAX, "line 1: a string holds a control character" },
  { "[\"\\x41\"]", MCR_JSON_ERROR_SYNTAX, "line 1: a string holds an unknown '\\' escape" },
  { "[\"\\101\"]", MCR_JSON_ERROR_SYNTAX, "line 1: a string holds an unknown '\\' escape" },
  { "[\"\\u12\"]", MCR_JSON_ERROR_SYNTAX, "line 1: '\\u' must be followed by four hexadecimal digits" },
  { "[\"\\uD800\"]", MCR_JSON_ERROR_SYNTAX, "line 1: a '\\u' escape holds half a UTF-16 surrogate pair" },
  { "[\"\\uDC00\"]", MCR_JSON_ERROR_SYNTAX, "line 1: a '\\u' escape holds half a UTF-16 surrogate pair" },
  { "[\"\\uD800\\u0041\"]", MCR_JSON_ERROR_SYNTAX, "line 1: a '\\u' escape holds half a UTF-16 surrogate pair" },
  { "[\"\\uD800\", \"[[[[\"]", MCR_JSON_ERROR_SYNTAX, "line 1: a '\\u' escape holds half" },
  { "[[[[[[[[[]]]]]]]]]", MCR_JSON_ERROR_TOO_DEEP, "line 1: arrays and objects nest deeper than 8 levels" },
  { "\n\n{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":1}}}}}}}}}", MCR_JSON_ERROR_TOO_DEEP, "line 3: arrays and objects nest deeper than 8 levels" },
  { "[9223372036854775808]", MCR_JSON_ERROR_SYNTAX, "line 1: a whole number is too large" },
  { "[-9223372036854775809]", MCR_JSON_ERROR_SYNTAX, "line 1: a whole number is too large" },
  { "[-18446744073709548227]", MCR_JSON_ERROR_SYNTAX, "line 1: a whole number is too large" },
  { "[99999999999999999999999999999999]", MCR_JSON_ERROR_SYNTAX, "line 1: a whole number is too large" },
  { "[\"\xC3\x28\"]", MCR_JSON_ERROR_SYNTAX, "the text is not UTF-8 or holds a NUL byte" },
};

static void
test_good (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();

      g_test_message ("%s", good[i]);
      g_assert_true (mcr_json_check (good[i], strlen (good[i]), 8, &error));
      g_assert_no_error (error);
      /* What passes, json-glib reads. */
      g_assert_true (json_parser_load_from_data (parser, good[i], -1, &error));
      g_assert_no_error (error);
    }
}

static void
test_bad (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      /* TAP output must stay UTF-8: some cases are not. */
      g_autofree char *shown = g_strescape (bad[i].text, NULL);

      g_test_message ("%s", shown);
      g_assert_false (mcr_json_check (bad[i].text, strlen (bad[i].text), 8, &error));
      g_assert_error (error, MCR_JSON_ERROR, (int) bad[i].code);
      g_assert_true (g_str_has_prefix (error->message, bad[i].message));
    }
}

static void
test_null_empty (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (mcr_json_check (NULL, 0, 8, &error));
  g_assert_error (error, MCR_JSON_ERROR, MCR_JSON_ERROR_SYNTAX);
  g_clear_error (&error);
  g_assert_false (mcr_json_check_and_repair (NULL, 0, 8, &error));
  g_assert_error (error, MCR_JSON_ERROR, MCR_JSON_ERROR_SYNTAX);
}

static void
test_embedded_nul (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (mcr_json_check ("[1]\0[2]", 8, 8, &error));
  g_assert_error (error, MCR_JSON_ERROR, MCR_JSON_ERROR_SYNTAX);
}

/* json-glib 1.6 crashes on this (stack overflow); we refuse it early. */
static void
test_very_deep (void)
{
  gsize n = 1000000;
  g_autofree char *text = g_malloc (2 * n);
  g_autoptr(GError) error = NULL;

  memset (text, '[', n);
  memset (text + n, ']', n);
  g_assert_false (mcr_json_check (text, 2 * n, MCR_JSON_DEFAULT_MAX_DEPTH, &error));
  g_assert_error (error, MCR_JSON_ERROR, MCR_JSON_ERROR_TOO_DEEP);
}

static const struct
{
  const char *text;
  const char *repaired;
  const char *value;  /* of the first element, as json-glib reads it */
} repairs[] = {
  { "[\"a\\uD800b\"]", "[\"a\\uFFFDb\"]", "a\xEF\xBF\xBD" "b" },
  { "[\"\\uDC00\"]", "[\"\\uFFFD\"]", "\xEF\xBF\xBD" },
  { "[\"\\uD800\\u0041\"]", "[\"\\uFFFD\\u0041\"]", "\xEF\xBF\xBD" "A" },
  { "[\"\\uDBFF\\uDBFF\\uDFFF\"]", "[\"\\uFFFD\\uDBFF\\uDFFF\"]", "\xEF\xBF\xBD\xF4\x8F\xBF\xBF" },
  { "[\"\\uD83D\\uDE00\"]", "[\"\\uD83D\\uDE00\"]", "\xF0\x9F\x98\x80" },
  /* Without the repair, json-glib would take ",[[[[" as structure. */
  { "[\"\\uD800\", \",[[[[\"]", "[\"\\uFFFD\", \",[[[[\"]", "\xEF\xBF\xBD" },
};

static void
test_repair (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (repairs); i++)
    {
      g_autofree char *text = g_strdup (repairs[i].text);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonArray *array;

      g_test_message ("%s", repairs[i].text);
      g_assert_true (mcr_json_check_and_repair (text, strlen (text), 8, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (text, ==, repairs[i].repaired);
      g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
      array = json_node_get_array (json_parser_get_root (parser));
      g_assert_cmpuint (json_array_get_length (array), >=, 1);
      g_assert_cmpstr (json_array_get_string_element (array, 0), ==, repairs[i].value);
    }
}

static void
test_repair_still_refuses (void)
{
  g_autofree char *bad_hex = g_strdup ("[\"\\uD800\\u12\"]");
  g_autofree char *quote = g_strdup ("['a']");
  g_autoptr(GError) error = NULL;

  g_assert_false (mcr_json_check_and_repair (bad_hex, strlen (bad_hex), 8, &error));
  g_assert_error (error, MCR_JSON_ERROR, MCR_JSON_ERROR_SYNTAX);
  g_clear_error (&error);
  g_assert_false (mcr_json_check_and_repair (quote, strlen (quote), 8, &error));
  g_assert_error (error, MCR_JSON_ERROR, MCR_JSON_ERROR_SYNTAX);
}

/* What the control channel runs before json-glib: these two got past a
 * bracket counter that skips double-quoted strings, and crashed json-glib
 * (stack overflow) in McrServer. */
static void
test_nesting_bypasses (void)
{
  const char *heads[] = {
    "{\"action\":\"x\",\"a\":[\"\\uD800\", \",",
    "{\"action\":\"x\",\"a\":['\"', ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (heads); i++)
    {
      g_autoptr(GString) s = g_string_new (heads[i]);

      for (guint n = 0; n < 300000; n++)
        g_string_append_c (s, '[');
      g_string_append (s, "\"]}");
      g_assert_false (mcr_json_nesting_ok (s->str, s->len, 256));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-check/good", test_good);
  g_test_add_func ("/json-check/bad", test_bad);
  g_test_add_func ("/json-check/null-empty", test_null_empty);
  g_test_add_func ("/json-check/embedded-nul", test_embedded_nul);
  g_test_add_func ("/json-check/very-deep", test_very_deep);
  g_test_add_func ("/json-check/nesting-bypasses", test_nesting_bypasses);
  g_test_add_func ("/json-check/repair", test_repair);
  g_test_add_func ("/json-check/repair-still-refuses", test_repair_still_refuses);
  return g_test_run ();
}
