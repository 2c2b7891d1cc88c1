/* mcr-map-range.c: port ranges in -map: and -relaymap: arguments
 *
 * The grammar of one map stays in mcr-map-spec.c: a range is turned into
 * its first port, the argument parsed as one map, and the map repeated.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-map-range"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mcr-map-range.h"

/* "A-B" (1 ≤ A ≤ B ≤ 65535): TRUE, *@is_range = TRUE. Anything without '-'
 * is left to the parser of one map: TRUE, *@is_range = FALSE. */
static gboolean
parse_range (const char *arg,
             const char *field,
             gsize       len,
             gboolean   *is_range,
             guint      *from,
             guint      *to,
             GError    **error)
{
  g_autofree char *text = g_strndup (field, len);
  char *dash = strchr (text, '-');
  guint64 a, b;

  *is_range = dash != NULL;
  if (dash == NULL)
    return TRUE;
  *dash = '\0';
  if (!g_ascii_string_to_unsigned (g_strstrip (text), 10, 1, 65535, &a, NULL)
      || !g_ascii_string_to_unsigned (g_strstrip (dash + 1), 10, 1, 65535, &b, NULL))
    {
      g_set_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                   /* Translators: "-map:…: 5900-59x0 is not a port range FROM-TO of ports
                      from 1 to 65535" */
                   _("%s: %.*s is not a port range FROM-TO of ports from 1 to 65535"),
                   arg, (int) len, field);
      return FALSE;
    }
  if (b < a)
    {
      g_set_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                   _("%s: the port range %.*s ends before it starts"), arg, (int) len, field);
      return FALSE;
    }
  if (b - a + 1 > MCR_MAP_RANGE_MAX_PORTS)
    {
      g_set_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                   /* Translators: "-map:…: the port range 5000-6000 holds 1001 ports; a range
                      may hold at most 256" */
                   _("%s: the port range %.*s holds %u ports; a range may hold at most %u"),
                   arg, (int) len, field, (guint) (b - a + 1), MCR_MAP_RANGE_MAX_PORTS);
      return FALSE;
    }
  *from = a;
  *to = b;
  return TRUE;
}

GPtrArray *
mcr_map_range_expand (const McrMapSpec *spec,
                      guint             count,
                      GError          **error)
{
  g_autoptr(GPtrArray) specs = NULL;

  g_return_val_if_fail (spec != NULL, NULL);

  if (count == 0 || count > MCR_MAP_RANGE_MAX_PORTS)
    {
      g_set_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                   _("A port range may hold at most %u ports, not %u."),
                   MCR_MAP_RANGE_MAX_PORTS, count);
      return NULL;
    }
  if ((guint) spec->remote_port + count - 1 > 65535
      || (spec->local_port != 0 && (guint) spec->local_port + count - 1 > 65535))
    {
      g_set_error_literal (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                           _("A port range cannot go past port 65535."));
      return NULL;
    }
  specs = g_ptr_array_new_full (count, (GDestroyNotify) mcr_map_spec_free);
  for (guint i = 0; i < count; i++)
    {
      McrMapSpec *copy = mcr_map_spec_copy (spec);

      copy->remote_port = spec->remote_port + i;
      if (spec->local_port != 0)
        copy->local_port = spec->local_port + i;
      g_ptr_array_add (specs, copy);
    }
  return g_steal_pointer (&specs);
}

GPtrArray *
mcr_map_range_parse_argument (const char *arg,
                              GError    **error)
{
  g_autoptr(McrMapSpec) spec = NULL;
  g_autoptr(GString) single = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *body = arg, *local, *local_end, *remote;
  gboolean local_range = FALSE, remote_range = FALSE;
  guint local_from = 0, local_to = 0, remote_from = 0, remote_to = 0;

  g_return_val_if_fail (arg != NULL, NULL);

  /* The local port is the second field (after the protocol), the remote
   * port the last: neither is ever quoted. */
  while (*body == '-')
    body++;
  local = strchr (body, ':') != NULL ? strchr (strchr (body, ':') + 1, ':') : NULL;
  local_end = local != NULL ? strchr (local + 1, ':') : NULL;
  remote = strrchr (body, ':');
  if (local == NULL || local_end == NULL || remote == NULL || remote < local_end)
    {
      /* Not the shape of a map: the parser of one map says what is wrong. */
      spec = mcr_map_spec_parse_argument (arg, error);
      if (spec == NULL)
        return NULL;
      return mcr_map_range_expand (spec, 1, error);
    }
  local++;
  remote++;
  if (!parse_range (arg, local, local_end - local, &local_range, &local_from, &local_to, error)
      || !parse_range (arg, remote, strlen (remote), &remote_range, &remote_from, &remote_to,
                       error))
    return NULL;

  single = g_string_new_len (arg, local - arg);
  if (local_range)
    g_string_append_printf (single, "%u", local_from);
  else
    g_string_append_len (single, local, local_end - local);
  g_string_append_len (single, local_end, remote - local_end);
  if (remote_range)
    g_string_append_printf (single, "%u", remote_from);
  else
    g_string_append (single, remote);

  spec = mcr_map_spec_parse_argument (single->str, &local_error);
  if (spec == NULL)
    {
      /* It names the argument as the user wrote it, ranges and all. */
      if (g_str_has_prefix (local_error->message, single->str))
        g_set_error (error, local_error->domain, local_error->code, "%s%s", arg,
                     local_error->message + single->len);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (local_range && !remote_range)
    {
      g_set_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                   _("%s: a local port range needs a remote port range of the same length"),
                   arg);
      return NULL;
    }
  if (remote_range && !local_range && spec->local_port != 0)
    {
      g_set_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                   _("%s: a remote port range needs a local port range of the same length, "
                     "or local port 0"),
                   arg);
      return NULL;
    }
  if (local_range && local_to - local_from != remote_to - remote_from)
    {
      g_set_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                   _("%s: the local range holds %u ports, the remote range %u"),
                   arg, local_to - local_from + 1, remote_to - remote_from + 1);
      return NULL;
    }
  return mcr_map_range_expand (spec, remote_range ? remote_to - remote_from + 1 : 1, error);
}
