/* mcr-ids.c: MeshCentral's ids of devices, device groups and users
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The server names everything KIND/DOMAIN/ID (webserver.js, meshuser.js):
 * node//ID, mesh//ID, user//NAME in the default domain, node/DOMAIN/ID in
 * another one. Links, files and -map: all take ids through here.
 */
#define G_LOG_DOMAIN "mcr-ids"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mcr-ids.h"

static const char *const prefixes[] = {
  [MCR_ID_NODE] = "node/",
  [MCR_ID_MESH] = "mesh/",
  [MCR_ID_USER] = "user/",
};

/* A domain id is a key of the server's "domains" (no '/', no spaces). */
static gboolean
is_domain_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* Where the domain of @id ends (its second '/'), or NULL. */
static const char *
domain_end (const char *id,
            McrIdKind   kind)
{
  const char *p;

  if (id == NULL || !g_str_has_prefix (id, prefixes[kind]))
    return NULL;
  for (p = id + strlen (prefixes[kind]); *p != '\0' && *p != '/'; p++)
    ;
  return *p == '/' ? p : NULL;
}

gboolean
mcr_id_has_prefix (const char *id,
                   McrIdKind   kind)
{
  return domain_end (id, kind) != NULL;
}

gboolean
mcr_id_is_valid (const char *id,
                 McrIdKind   kind)
{
  const char *end = domain_end (id, kind);

  if (end == NULL || end[1] == '\0')
    return FALSE;
  for (const char *p = id + strlen (prefixes[kind]); p < end; p++)
    if (!is_domain_char (*p))
      return FALSE;
  /* The id proper: base64 with '@' and '$' for a device or a group, a
   * login name for a user; printable, no spaces. */
  for (const char *p = end + 1; *p != '\0'; p++)
    if ((guchar) *p <= 0x20 || (guchar) *p >= 0x7f)
      return FALSE;
  return TRUE;
}

char *
mcr_id_dup_domain (const char *id)
{
  for (guint kind = 0; kind < G_N_ELEMENTS (prefixes); kind++)
    if (mcr_id_is_valid (id, kind))
      {
        const char *start = id + strlen (prefixes[kind]);

        return g_strndup (start, (gsize) (domain_end (id, kind) - start));
      }
  return NULL;
}

char *
mcr_id_describe_domain (const char *domain)
{
  if (domain == NULL || *domain == '\0')
    return g_strdup (_("the default domain"));
  return g_strdup_printf (_("the domain “%s”"), domain);
}

char *
mcr_id_domain_mismatch (const char *id,
                        const char *domain)
{
  g_autofree char *id_domain = mcr_id_dup_domain (id);
  g_autofree char *theirs = NULL;
  g_autofree char *ours = NULL;

  if (domain == NULL)
    domain = "";
  if (id_domain == NULL || g_str_equal (id_domain, domain))
    return NULL;
  theirs = mcr_id_describe_domain (id_domain);
  ours = mcr_id_describe_domain (domain);
  return g_strdup_printf (_("The device %s belongs to %s, but the router is logged into %s"), id,
                          theirs, ours);
}
