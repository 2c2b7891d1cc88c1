/* mcr-ids.h: MeshCentral's ids of devices, device groups and users
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An id is KIND/DOMAIN/ID: "node//ID" in the default domain (""),
 * "node/DOMAIN/ID" in another one; the same for "mesh" and "user". */
typedef enum
{
  MCR_ID_NODE,
  MCR_ID_MESH,
  MCR_ID_USER,
} McrIdKind;

gboolean    mcr_id_is_valid     (const char  *id,
                                 McrIdKind    kind);
/* Looks like an id of @kind ("node/" and a second '/'), valid or not: what
 * a -map: device field that is meant as an id, not a name, starts with. */
gboolean    mcr_id_has_prefix   (const char  *id,
                                 McrIdKind    kind);
/* The domain of a valid id ("" for the default one), or NULL. */
char       *mcr_id_dup_domain   (const char  *id);
/* "the default domain" or "domain “D”", for messages. */
char       *mcr_id_describe_domain (const char *domain);
/* NULL when the device @id is of the domain @domain ("" or NULL: the
 * default one), or is no id; else a message naming @id and both domains. */
char       *mcr_id_domain_mismatch (const char *id,
                                    const char *domain);

G_END_DECLS
