/* mcr-string-field.h: setting a string field of an object
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sets *@field to a copy of @value (NULL allowed) unless it holds an equal
 * string already; TRUE if it changed, so that callers notify only then. */
static inline gboolean
mcr_set_string (char      **field,
                const char *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

G_END_DECLS
