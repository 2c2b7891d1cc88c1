/* mcr-json-check.h: a strict JSON syntax check for text from outside, run
 * before json-glib sees it
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MCR_JSON_ERROR (mcr_json_error_quark ())

typedef enum
{
  MCR_JSON_ERROR_SYNTAX,    /* not RFC 8259 JSON, not UTF-8, or not one value */
  MCR_JSON_ERROR_TOO_DEEP,  /* arrays/objects nested deeper than allowed */
} McrJsonError;

/* Enough for anything MeshCentral or a .mcrouter file holds. */
#define MCR_JSON_DEFAULT_MAX_DEPTH 32

GQuark   mcr_json_error_quark (void);
gboolean mcr_json_check       (const char *data,
                               gsize       length,
                               guint       max_depth,
                               GError    **error);

G_END_DECLS
