/* mcr-server-address.c: server addresses as users write them, and the
 * wss:// URIs built from them
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-server"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mcr-server-address.h"
#include "mcr-server.h"

static gboolean
valid_host (const char *host)
{
  if (host == NULL || *host == '\0')
    return FALSE;
  if (g_hostname_is_ip_address (host))
    return TRUE;
  for (const char *p = host; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '-' || *p == '.' || *p == '_'))
      return FALSE;
  return host[0] != '.' && host[0] != '-';
}

McrServerAddress *
mcr_server_address_parse (const char *address,
                          GError    **error)
{
  g_autoptr(McrServerAddress) self = g_new0 (McrServerAddress, 1);
  g_autofree char *text = g_strstrip (g_strdup (address ? address : ""));
  char *rest = text, *query, *path, *hostport, *host, *colon;
  const char *schemes[] = { "wss://", "https://", "mcrouter://" };
  guint64 port = 443;

  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (g_ascii_strncasecmp (rest, schemes[i], strlen (schemes[i])) == 0)
      {
        rest += strlen (schemes[i]);
        break;
      }

  query = strchr (rest, '?');
  if (query != NULL)
    {
      g_auto(GStrv) params = NULL;

      *query++ = '\0';
      params = g_strsplit (query, "&", -1);
      for (guint i = 0; params[i]; i++)
        if (g_str_has_prefix (params[i], "key="))
          {
            g_free (self->login_key);
            self->login_key = g_uri_unescape_string (params[i] + 4, NULL);
          }
    }

  path = strchr (rest, '/');
  if (path != NULL)
    *path++ = '\0';
  hostport = rest;

  if (hostport[0] == '[')
    {
      char *end = strchr (hostport, ']');

      if (end == NULL)
        goto invalid;
      *end = '\0';
      host = hostport + 1;
      colon = end[1] == ':' ? end + 1 : NULL;
      if (colon == NULL && end[1] != '\0')
        goto invalid;
    }
  else
    {
      host = hostport;
      colon = strchr (hostport, ':');
      if (colon != NULL && strchr (colon + 1, ':') != NULL)
        colon = NULL;  /* a bare IPv6 address */
    }
  if (colon != NULL)
    {
      *colon = '\0';
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
        goto invalid;
    }
  if (!valid_host (host))
    goto invalid;

  self->host = g_ascii_strdown (host, -1);
  self->port = (guint16) port;

  /* The domain is the path, without a trailing control.ashx or slashes. */
  if (path != NULL)
    {
      gsize len;

      if (g_str_has_suffix (path, "control.ashx"))
        path[strlen (path) - strlen ("control.ashx")] = '\0';
      len = strlen (path);
      while (len > 0 && path[len - 1] == '/')
        path[--len] = '\0';
      if (strpbrk (path, " \t?#") != NULL)
        goto invalid;
      self->domain = g_strdup (path);
    }
  else
    self->domain = g_strdup ("");

  {
    GString *name = g_string_new (NULL);

    if (strchr (self->host, ':') != NULL)
      g_string_append_printf (name, "[%s]", self->host);
    else
      g_string_append (name, self->host);
    if (self->port != 443)
      g_string_append_printf (name, ":%u", self->port);
    if (*self->domain)
      g_string_append_printf (name, "/%s", self->domain);
    self->display_name = g_string_free (name, FALSE);
  }
  return g_steal_pointer (&self);

invalid:
  g_set_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_INVALID_ADDRESS,
               _("“%s” is not a server address (write host, host:port or host:port/domain)"),
               address ? address : "");
  return NULL;
}

void
mcr_server_address_free (McrServerAddress *self)
{
  if (self == NULL)
    return;
  g_free (self->host);
  g_free (self->domain);
  g_free (self->login_key);
  g_free (self->display_name);
  g_free (self);
}

GUri *
mcr_server_address_build_uri (const McrServerAddress *self,
                              const char             *endpoint,
                              GString                *query)
{
  g_autofree char *path = NULL;
  g_autofree char *domain = g_uri_escape_string (self->domain, "/", FALSE);

  if (self->login_key != NULL)
    {
      g_autofree char *key = g_uri_escape_string (self->login_key, NULL, FALSE);

      g_string_append_printf (query, "%skey=%s", query->len ? "&" : "", key);
    }
  path = *domain ? g_strdup_printf ("/%s/%s", domain, endpoint) : g_strdup_printf ("/%s", endpoint);
  return g_uri_build (G_URI_FLAGS_ENCODED, "wss", NULL, self->host,
                      self->port == 443 ? -1 : self->port, path,
                      query->len ? query->str : NULL, NULL);
}

void
mcr_server_address_append_param (GString    *query,
                                 const char *name,
                                 const char *value)
{
  g_autofree char *escaped = g_uri_escape_string (value, NULL, FALSE);

  g_string_append_printf (query, "%s%s=%s", query->len ? "&" : "", name, escaped);
}

char *
mcr_server_address_display_name (const char *address)
{
  g_autoptr(McrServerAddress) parsed = mcr_server_address_parse (address, NULL);

  if (parsed == NULL)
    return g_strdup (address);
  return g_steal_pointer (&parsed->display_name);
}

gboolean
mcr_server_address_same_server (const char *a,
                                const char *b)
{
  g_autoptr(McrServerAddress) first = NULL;
  g_autoptr(McrServerAddress) second = NULL;

  if (a == NULL || b == NULL)
    return FALSE;
  first = mcr_server_address_parse (a, NULL);
  second = mcr_server_address_parse (b, NULL);
  return first != NULL && second != NULL && g_str_equal (first->host, second->host)
         && first->port == second->port && g_str_equal (first->domain, second->domain);
}
