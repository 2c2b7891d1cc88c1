/* mcr-map-spec.c: what a port map is asked to do, and the -map:/-relaymap: syntax
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-map-spec"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gio/gio.h>
#include <string.h>

#include "mcr-ids.h"
#include "mcr-map-spec.h"

G_DEFINE_QUARK (mcr-map-spec-error-quark, mcr_map_spec_error)
G_DEFINE_BOXED_TYPE (McrMapSpec, mcr_map_spec, mcr_map_spec_copy, mcr_map_spec_free)

McrMapSpec *
mcr_map_spec_new (void)
{
  McrMapSpec *spec = g_new0 (McrMapSpec, 1);

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->app_id = MCR_APP_CUSTOM;
  return spec;
}

McrMapSpec *
mcr_map_spec_copy (const McrMapSpec *spec)
{
  McrMapSpec *copy;

  g_return_val_if_fail (spec != NULL, NULL);

  copy = g_memdup2 (spec, sizeof *spec);
  copy->node_id = g_strdup (spec->node_id);
  copy->node_name = g_strdup (spec->node_name);
  copy->mesh_id = g_strdup (spec->mesh_id);
  copy->app_name = g_strdup (spec->app_name);
  copy->remote_ip = g_strdup (spec->remote_ip);
  copy->name = g_strdup (spec->name);
  return copy;
}

void
mcr_map_spec_free (McrMapSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->node_id);
  g_free (spec->node_name);
  g_free (spec->mesh_id);
  g_free (spec->app_name);
  g_free (spec->remote_ip);
  g_free (spec->name);
  g_free (spec);
}

/* Two specs reach the same service the same way: the official router reuses
 * such a map instead of adding a twin. */
gboolean
mcr_map_spec_equal_target (const McrMapSpec *a,
                           const McrMapSpec *b)
{
  return a->protocol == b->protocol &&
         a->remote_port == b->remote_port &&
         a->app_id == b->app_id &&
         g_strcmp0 (a->node_id, b->node_id) == 0 &&
         g_strcmp0 (a->remote_ip, b->remote_ip) == 0 &&
         (a->app_id != MCR_APP_CUSTOM || g_strcmp0 (a->app_name, b->app_name) == 0);
}

const char *
mcr_protocol_to_string (McrProtocol protocol)
{
  return protocol == MCR_PROTOCOL_UDP ? "UDP" : "TCP";
}

gboolean
mcr_protocol_from_string (const char  *str,
                          McrProtocol *protocol)
{
  if (g_ascii_strcasecmp (str, "TCP") == 0 || g_strcmp0 (str, "1") == 0)
    *protocol = MCR_PROTOCOL_TCP;
  else if (g_ascii_strcasecmp (str, "UDP") == 0 || g_strcmp0 (str, "2") == 0)
    *protocol = MCR_PROTOCOL_UDP;
  else
    return FALSE;
  return TRUE;
}

static const struct
{
  const char *name;
  McrAppId    id;
  guint16     port;
} apps[] = {
  { "HTTP", MCR_APP_HTTP, 80 },
  { "HTTPS", MCR_APP_HTTPS, 443 },
  { "RDP", MCR_APP_RDP, 3389 },
  { "SSH", MCR_APP_SSH, 22 },
  { "PuTTY", MCR_APP_SSH, 22 },
  { "SFTP", MCR_APP_SFTP, 22 },
  { "SCP", MCR_APP_SFTP, 22 },
  { "WinSCP", MCR_APP_SFTP, 22 },
};

const char *
mcr_app_id_to_string (McrAppId app_id)
{
  for (guint i = 0; i < G_N_ELEMENTS (apps); i++)
    if (apps[i].id == app_id)
      return apps[i].name;
  return "";
}

guint16
mcr_app_id_default_port (McrAppId app_id)
{
  for (guint i = 0; i < G_N_ELEMENTS (apps); i++)
    if (apps[i].id == app_id)
      return apps[i].port;
  return 0;
}

/* An empty string is a custom app with no name; anything not known is a
 * custom app of that name. */
gboolean
mcr_app_id_from_string (const char  *str,
                        McrAppId    *app_id,
                        char       **custom_name)
{
  *custom_name = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (apps); i++)
    {
      if (g_ascii_strcasecmp (str, apps[i].name) == 0)
        {
          *app_id = apps[i].id;
          return TRUE;
        }
    }
  *app_id = MCR_APP_CUSTOM;
  if (*str != '\0')
    *custom_name = g_strdup (str);
  return TRUE;
}

/* Split on ':' outside double quotes and square brackets; quotes are removed
 * (everywhere, so that no field holds one), brackets kept (for IPv6
 * addresses). */
static GPtrArray *
split_fields (const char *s,
              GError    **error)
{
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) cur = g_string_new (NULL);
  gboolean quoted = FALSE, bracket = FALSE;

  for (; *s; s++)
    {
      if (*s == '"')
        quoted = !quoted;
      else if (*s == '[' && !quoted)
        bracket = TRUE, g_string_append_c (cur, *s);
      else if (*s == ']' && !quoted)
        bracket = FALSE, g_string_append_c (cur, *s);
      else if (*s == ':' && !quoted && !bracket)
        {
          g_ptr_array_add (fields, g_strdup (cur->str));
          g_string_truncate (cur, 0);
        }
      else
        g_string_append_c (cur, *s);
    }
  if (quoted)
    {
      g_set_error_literal (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                           _("a quote is not closed"));
      return NULL;
    }
  g_ptr_array_add (fields, g_strdup (cur->str));
  return g_steal_pointer (&fields);
}

static gboolean
parse_port (const char *str,
            gboolean    zero_ok,
            guint16    *port)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (str, 10, zero_ok ? 0 : 1, 65535, &v, NULL))
    return FALSE;
  *port = (guint16) v;
  return TRUE;
}

/**
 * mcr_map_spec_is_valid_remote_host:
 * @host: the far address of a relay map
 *
 * Returns: %TRUE if @host is an IP address (without brackets) or a plain
 *   host name (letters, digits, '-', '.', '_'; at most 253 characters) that
 *   the agent can resolve on its side.
 */
gboolean
mcr_map_spec_is_valid_remote_host (const char *host)
{
  g_autoptr(GInetAddress) addr = NULL;

  if (*host == '\0' || strlen (host) > 253)
    return FALSE;
  addr = g_inet_address_new_from_string (host);
  if (addr != NULL)
    return TRUE;
  /* A host name the agent resolves on its side. */
  for (const char *p = host; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != '_')
      return FALSE;
  return TRUE;
}

/* -relaymap:TCP:0:PC:HTTP:fe80::1:80 — the remote IP is an IPv6 address
 * without brackets: rejoin it if the device name has no ':'. */
static gboolean
try_split_ipv6 (GPtrArray *fields)
{
  g_autoptr(GString) tail = g_string_new (NULL);
  g_autoptr(GInetAddress) addr = NULL;
  char *port;

  for (guint i = 4; i + 1 < fields->len; i++)
    {
      if (i > 4)
        g_string_append_c (tail, ':');
      g_string_append (tail, g_ptr_array_index (fields, i));
    }
  addr = g_inet_address_new_from_string (tail->str);
  if (addr == NULL)
    return FALSE;
  port = g_strdup (g_ptr_array_index (fields, fields->len - 1));
  g_ptr_array_remove_range (fields, 4, fields->len - 4);
  g_ptr_array_add (fields, g_string_free (g_steal_pointer (&tail), FALSE));
  g_ptr_array_add (fields, port);
  return TRUE;
}

static McrMapSpec *
invalid (GError    **error,
         const char *arg,
         const char *why)
{
  g_set_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
               "%s: %s", arg, why);
  return NULL;
}

/**
 * mcr_map_spec_parse_argument:
 * @arg: `-map:PROTOCOL:LOCALPORT:NODE:APP:REMOTEPORT` or
 *   `-relaymap:PROTOCOL:LOCALPORT:NODE:APP:REMOTEIP:REMOTEPORT` (one or two
 *   leading dashes)
 *
 * Returns: (transfer full): the spec, or %NULL with @error naming the argument
 *   and what is wrong with it.
 */
McrMapSpec *
mcr_map_spec_parse_argument (const char *arg,
                             GError    **error)
{
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GPtrArray) fields = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *body = arg;
  gboolean relay;
  guint want, node_end;

  while (*body == '-')
    body++;
  if (g_ascii_strncasecmp (body, "map:", 4) == 0)
    relay = FALSE, body += 4;
  else if (g_ascii_strncasecmp (body, "relaymap:", 9) == 0)
    relay = TRUE, body += 9;
  else
    return invalid (error, arg, _("not a -map: or -relaymap: argument"));

  fields = split_fields (body, &local_error);
  if (fields == NULL)
    return invalid (error, arg, local_error->message);

  want = relay ? 6 : 5;
  if (fields->len < want)
    return invalid (error, arg,
                    relay ? _("expected PROTOCOL:LOCALPORT:DEVICE:APP:REMOTEIP:REMOTEPORT")
                          : _("expected PROTOCOL:LOCALPORT:DEVICE:APP:REMOTEPORT"));

  /* An unquoted device name may hold ':'; the fields after it are fixed. */
  node_end = fields->len - (want - 3);
  if (relay && fields->len > want && try_split_ipv6 (fields))
    node_end = 3;

  if (!mcr_protocol_from_string (g_ptr_array_index (fields, 0), &spec->protocol))
    return invalid (error, arg, _("the protocol must be TCP or UDP"));
  if (!parse_port (g_ptr_array_index (fields, 1), TRUE, &spec->local_port))
    return invalid (error, arg, _("the local port must be a number from 0 to 65535"));

  {
    g_autoptr(GString) joined = g_string_new (NULL);
    char *node;

    for (guint i = 2; i < node_end; i++)
      {
        if (i > 2)
          g_string_append_c (joined, ':');
        g_string_append (joined, g_ptr_array_index (fields, i));
      }
    node = g_strstrip (joined->str);
    if (*node == '\0')
      return invalid (error, arg, _("the device name is empty"));
    /* node//ID or node/DOMAIN/ID is an id, never a name to look up. */
    if (mcr_id_is_valid (node, MCR_ID_NODE))
      spec->node_id = g_strdup (node);
    else if (mcr_id_has_prefix (node, MCR_ID_NODE))
      return invalid (error, arg,
                      _("the device id must be node//ID, or node/DOMAIN/ID outside the default "
                        "domain"));
    else
      spec->node_name = g_strdup (node);
  }

  mcr_app_id_from_string (g_ptr_array_index (fields, node_end), &spec->app_id, &spec->app_name);

  if (relay)
    {
      char *ip = g_ptr_array_index (fields, node_end + 1);
      gsize len = strlen (ip);

      if (len > 2 && ip[0] == '[' && ip[len - 1] == ']')
        spec->remote_ip = g_strndup (ip + 1, len - 2);
      else
        spec->remote_ip = g_strdup (ip);
      if (!mcr_map_spec_is_valid_remote_host (spec->remote_ip))
        return invalid (error, arg, _("the remote address is not an IP address or host name"));
    }

  if (!parse_port (g_ptr_array_index (fields, fields->len - 1), FALSE, &spec->remote_port))
    return invalid (error, arg, _("the remote port must be a number from 1 to 65535"));

  if (spec->protocol == MCR_PROTOCOL_UDP && spec->app_id != MCR_APP_CUSTOM)
    return invalid (error, arg, _("UDP maps cannot have an app; leave APP empty"));

  return g_steal_pointer (&spec);
}

/**
 * mcr_map_spec_to_argument:
 *
 * Returns: (transfer full): the spec as a `-map:` or `-relaymap:` argument.
 */
char *
mcr_map_spec_to_argument (const McrMapSpec *spec)
{
  return mcr_map_spec_to_named_argument (spec, NULL);
}

/**
 * mcr_map_spec_to_named_argument:
 * @device_name: (nullable): the device's name, once the device list is in
 *
 * For messages: a 64-character node id says nothing to a user, so the
 * device is named by @device_name when there is one.
 *
 * Returns: (transfer full): the spec as a `-map:` or `-relaymap:` argument.
 */
char *
mcr_map_spec_to_named_argument (const McrMapSpec *spec,
                                const char       *device_name)
{
  const char *name = spec->app_id == MCR_APP_CUSTOM ? (spec->app_name ? spec->app_name : "")
                                                    : mcr_app_id_to_string (spec->app_id);
  /* A custom app name may hold what the parser splits on. */
  gboolean quote = strpbrk (name, ":[]") != NULL;
  g_autofree char *app = g_strdup_printf ("%s%s%s", quote ? "\"" : "", name, quote ? "\"" : "");
  const char *node = device_name != NULL && *device_name != '\0' ? device_name
                     : spec->node_id ? spec->node_id : spec->node_name;
  gboolean v6 = spec->remote_ip && strchr (spec->remote_ip, ':');

  if (spec->remote_ip)
    return g_strdup_printf ("-relaymap:%s:%u:\"%s\":%s:%s%s%s:%u",
                            mcr_protocol_to_string (spec->protocol), spec->local_port, node, app,
                            v6 ? "[" : "", spec->remote_ip, v6 ? "]" : "", spec->remote_port);
  return g_strdup_printf ("-map:%s:%u:\"%s\":%s:%u", mcr_protocol_to_string (spec->protocol),
                          spec->local_port, node, app, spec->remote_port);
}
