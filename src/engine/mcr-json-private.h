/* mcr-json-private.h: reading JSON that came from the network, where any
 * member may be missing or of the wrong type (never a critical, never a
 * crash: a wrong type reads as missing)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* json-glib parses recursively with no depth limit: a few hundred thousand
 * '[' from a hostile peer would exhaust the stack. TRUE if @text nests no
 * deeper than @max_depth (strings are skipped, escapes honoured). */
static inline gboolean
mcr_json_nesting_ok (const char *text,
                     gsize       length,
                     guint       max_depth)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            return FALSE;
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

static inline JsonNode *
mcr_json_member (JsonObject *object,
                 const char *name)
{
  return object != NULL ? json_object_get_member (object, name) : NULL;
}

/* The string value of @name, or NULL. */
static inline const char *
mcr_json_get_string (JsonObject *object,
                     const char *name)
{
  JsonNode *node = mcr_json_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* A number (integer, or a double with an integral value) in *@out. */
static inline gboolean
mcr_json_get_int (JsonObject *object,
                  const char *name,
                  gint64     *out)
{
  JsonNode *node = mcr_json_member (object, name);
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      return TRUE;
    }
  if (type == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (node);

      if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double) (gint64) d)
        {
          *out = (gint64) d;
          return TRUE;
        }
    }
  return FALSE;
}

static inline gint64
mcr_json_get_int_or (JsonObject *object,
                     const char *name,
                     gint64      fallback)
{
  gint64 v;

  return mcr_json_get_int (object, name, &v) ? v : fallback;
}

/* TRUE for true, a non-zero number or a non-empty string: MeshCentral sends
 * flags in all of these forms. */
static inline gboolean
mcr_json_get_truthy (JsonObject *object,
                     const char *name)
{
  JsonNode *node = mcr_json_member (object, name);
  GType type;

  if (node == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_OBJECT (node) || JSON_NODE_HOLDS_ARRAY (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_BOOLEAN)
    return json_node_get_boolean (node);
  if (type == G_TYPE_INT64)
    return json_node_get_int (node) != 0;
  if (type == G_TYPE_DOUBLE)
    return json_node_get_double (node) != 0.0;
  if (type == G_TYPE_STRING)
    return json_node_get_string (node)[0] != '\0';
  return FALSE;
}

static inline JsonObject *
mcr_json_get_object (JsonObject *object,
                     const char *name)
{
  JsonNode *node = mcr_json_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static inline JsonArray *
mcr_json_get_array (JsonObject *object,
                    const char *name)
{
  JsonNode *node = mcr_json_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static inline JsonObject *
mcr_json_array_get_object (JsonArray *array,
                           guint      index)
{
  JsonNode *node = json_array_get_element (array, index);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

G_END_DECLS
