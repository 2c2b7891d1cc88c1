/* mcr-router-url.c: mcrouter:// links, as the MeshCentral web UI makes them
 *
 * The web UI (MeshCentral 1.1.55, "getcookie" with tag MCRouter) builds:
 *   mcrouter://HOST[:PORT]/[DOMAIN/]control.ashx?c=COOKIE&t=TLSHASH&l=LANG[&key=K]
 * and for a device adds &nodeid=node//…[&protocol=1&remoteport=N][&local=1]
 * [&localport=N][&name=ENCODED][&remoteip=IP]&appid=N&autoexit=1.
 * The Windows router always opens the app of such an automatic map.
 *
 * The cookie is a login secret: no message here ever includes it, nor the
 * link it came in.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-router-url"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gio/gio.h>
#include <string.h>

#include "mcr-ids.h"
#include "mcr-router-url.h"
#include "mcr-secret.h"

#define MAX_VALUE_LENGTH 4096

G_DEFINE_QUARK (mcr-router-url-error-quark, mcr_router_url_error)
G_DEFINE_BOXED_TYPE (McrRouterUrl, mcr_router_url, mcr_router_url_copy, mcr_router_url_free)

McrRouterUrl *
mcr_router_url_copy (const McrRouterUrl *url)
{
  McrRouterUrl *copy;

  g_return_val_if_fail (url != NULL, NULL);

  copy = g_new0 (McrRouterUrl, 1);
  copy->host = g_strdup (url->host);
  copy->port = url->port;
  copy->domain = g_strdup (url->domain);
  copy->auth_cookie = g_strdup (url->auth_cookie);
  copy->cert_hash = g_strdup (url->cert_hash);
  copy->language = g_strdup (url->language);
  copy->login_key = g_strdup (url->login_key);
  copy->map = url->map != NULL ? mcr_map_spec_copy (url->map) : NULL;
  return copy;
}

void
mcr_router_url_free (McrRouterUrl *url)
{
  if (url == NULL)
    return;
  g_free (url->host);
  g_free (url->domain);
  mcr_secret_wipe_free (url->auth_cookie);
  g_free (url->cert_hash);
  g_free (url->language);
  g_free (url->login_key);
  mcr_map_spec_free (url->map);
  g_free (url);
}

static gboolean
fail (GError    **error,
      int         code,
      const char *problem)
{
  g_set_error (error, MCR_ROUTER_URL_ERROR, code,
               /* Translators: %s says what is wrong with the link */
               _("Invalid mcrouter:// link: %s"), problem);
  return FALSE;
}

static gboolean
invalid (GError    **error,
         const char *problem)
{
  return fail (error, MCR_ROUTER_URL_ERROR_INVALID, problem);
}

G_GNUC_PRINTF (2, 3)
static gboolean
invalidf (GError    **error,
          const char *format,
          ...)
{
  g_autofree char *problem = NULL;
  va_list ap;

  va_start (ap, format);
  problem = g_strdup_vprintf (format, ap);
  va_end (ap);
  return invalid (error, problem);
}

static gboolean
is_host_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_';
}

static gboolean
is_segment_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static gboolean
parse_port (const char *s,
            gsize       len,
            guint64     min,
            guint16    *port)
{
  g_autofree char *text = g_strndup (s, len);
  guint64 v;

  if (!g_ascii_string_to_unsigned (text, 10, min, 65535, &v, NULL))
    return FALSE;
  *port = (guint16) v;
  return TRUE;
}

/* HOST[:PORT], HOST being a name, an IPv4 address or [IPv6]. */
static gboolean
parse_authority (McrRouterUrl *url,
                 const char   *start,
                 const char   *end,
                 GError      **error)
{
  const char *host_end, *p;

  if (memchr (start, '@', end - start) != NULL)
    return invalid (error, _("a user name before the server name is not allowed"));
  if (start == end)
    return invalid (error, _("the server name is missing"));

  if (*start == '[')
    {
      g_autoptr(GInetAddress) addr = NULL;

      host_end = memchr (start, ']', end - start);
      if (host_end == NULL)
        return invalid (error, _("an IPv6 address is missing its closing ']'"));
      url->host = g_strndup (start + 1, host_end - start - 1);
      addr = g_inet_address_new_from_string (url->host);
      if (addr == NULL || g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV6)
        return invalid (error, _("the address in '[…]' is not an IPv6 address"));
      p = host_end + 1;
    }
  else
    {
      for (p = start; p < end && *p != ':'; p++)
        if (!is_host_char (*p))
          return invalid (error, _("the server name holds a character that is not allowed"));
      if (p == start)
        return invalid (error, _("the server name is missing"));
      if (p - start > 253)
        return invalid (error, _("the server name is too long"));
      url->host = g_strndup (start, p - start);
    }

  url->port = 443;
  if (p == end)
    return TRUE;
  if (*p != ':' || !parse_port (p + 1, end - p - 1, 1, &url->port))
    return invalid (error, _("the port must be a number from 1 to 65535"));
  return TRUE;
}

/* /[DOMAIN/]control.ashx */
static gboolean
parse_path (McrRouterUrl *url,
            const char   *start,
            const char   *end,
            GError      **error)
{
  static const char control[] = "/control.ashx";
  gsize len = end - start;
  const char *domain_end;

  if (len < strlen (control) ||
      g_ascii_strncasecmp (end - strlen (control), control, strlen (control)) != 0)
    return invalid (error, _("the path must end in /control.ashx"));

  domain_end = end - strlen (control);
  if (domain_end == start)
    return TRUE;

  /* One or more segments, each of plain characters, no "." or "..". */
  for (const char *seg = start; seg < domain_end;)
    {
      const char *p = seg + 1;

      while (p < domain_end && *p != '/')
        {
          if (!is_segment_char (*p))
            return invalid (error, _("the domain in the path holds a character that is not allowed"));
          p++;
        }
      if (p == seg + 1 || (p - seg == 2 && seg[1] == '.') ||
          (p - seg == 3 && seg[1] == '.' && seg[2] == '.'))
        return invalid (error, _("the domain in the path is malformed"));
      seg = p;
    }
  url->domain = g_strndup (start + 1, domain_end - start - 1);
  return TRUE;
}

typedef enum
{
  P_COOKIE,
  P_TLSHASH,
  P_LANG,
  P_KEY,
  P_NODEID,
  P_PROTOCOL,
  P_REMOTEPORT,
  P_REMOTEIP,
  P_LOCALPORT,
  P_APPID,
  P_NAME,
  P_AUTOEXIT,
  P_LAUNCH,
  P_LOCAL,
  N_PARAMS
} Param;

static const char *const param_names[N_PARAMS] = {
  "c", "t", "l", "key", "nodeid", "protocol", "remoteport", "remoteip", "localport", "appid",
  "name", "autoexit", "launch", "local",
};

typedef struct
{
  char *values[N_PARAMS];
} Query;

static void
query_clear (Query *q)
{
  for (guint i = 0; i < N_PARAMS; i++)
    {
      if (i == P_COOKIE)
        mcr_clear_secret (&q->values[i]);
      else
        g_clear_pointer (&q->values[i], g_free);
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Query, query_clear)

static gboolean
parse_query (Query      *q,
             const char *start,
             const char *end,
             GError    **error)
{
  const char *p = start;

  while (p < end)
    {
      const char *amp = memchr (p, '&', end - p);
      const char *field_end = amp != NULL ? amp : end;
      const char *eq = memchr (p, '=', field_end - p);
      const char *name_end = eq != NULL ? eq : field_end;
      g_autofree char *raw = NULL;
      char *value;
      guint i;

      for (i = 0; i < N_PARAMS; i++)
        if ((gsize) (name_end - p) == strlen (param_names[i]) &&
            memcmp (p, param_names[i], name_end - p) == 0)
          break;

      if (i < N_PARAMS)
        {
          if (q->values[i] != NULL)
            return invalidf (error, _("'%s' appears twice"), param_names[i]);
          raw = eq != NULL ? g_strndup (eq + 1, field_end - eq - 1) : g_strdup ("");
          value = g_uri_unescape_string (raw, NULL);
          if (value == NULL || !g_utf8_validate (value, -1, NULL))
            {
              g_free (value);
              return invalidf (error, _("the value of '%s' has a malformed %%-escape"),
                               param_names[i]);
            }
          if (strlen (value) > MAX_VALUE_LENGTH)
            {
              g_free (value);
              return invalidf (error, _("the value of '%s' is too long"), param_names[i]);
            }
          q->values[i] = value;
        }
      p = amp != NULL ? amp + 1 : end;
    }
  return TRUE;
}

static gboolean
has_control_chars (const char *s)
{
  for (; *s; s++)
    if ((guchar) *s < 0x20 || *s == 0x7f)
      return TRUE;
  return FALSE;
}

/* Printable ASCII, no spaces. */
static gboolean
is_token (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if ((guchar) *s <= 0x20 || (guchar) *s >= 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
read_login (McrRouterUrl *url,
            Query        *q,
            GError      **error)
{
  const char *hash = q->values[P_TLSHASH];
  const char *lang = q->values[P_LANG];

  if (q->values[P_COOKIE] == NULL || *q->values[P_COOKIE] == '\0')
    return invalid (error, _("the login cookie ('c') is missing"));
  if (!is_token (q->values[P_COOKIE]))
    return invalid (error, _("the login cookie ('c') is malformed"));
  url->auth_cookie = g_steal_pointer (&q->values[P_COOKIE]);

  if (hash != NULL)
    {
      gsize len = strlen (hash);

      for (gsize i = 0; i < len; i++)
        if (!g_ascii_isxdigit (hash[i]))
          len = 0;
      if (len != 96)
        return invalid (error, _("the certificate hash ('t') must be 96 hexadecimal digits"));
      url->cert_hash = g_ascii_strup (hash, -1);
    }

  if (lang != NULL)
    {
      gsize len = strlen (lang);

      for (gsize i = 0; i < len; i++)
        if (!g_ascii_isalnum (lang[i]) && lang[i] != '-' && lang[i] != '_')
          len = 0;
      if (len == 0 || len > 35)
        return invalid (error, _("the language ('l') is not a language code"));
      url->language = g_strdup (lang);
    }

  if (q->values[P_KEY] != NULL)
    {
      if (*q->values[P_KEY] == '\0' || has_control_chars (q->values[P_KEY]))
        return invalid (error, _("the login key ('key') is malformed"));
      url->login_key = g_steal_pointer (&q->values[P_KEY]);
    }
  return TRUE;
}

static gboolean
read_number (Query      *q,
             Param       param,
             guint64     min,
             guint64     max,
             gboolean    required,
             guint      *value,
             GError    **error)
{
  guint64 v;

  if (q->values[param] == NULL)
    {
      if (required)
        return invalidf (error, _("'%s' is missing"), param_names[param]);
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (q->values[param], 10, min, max, &v, NULL))
    return invalidf (error, _("'%s' must be a number from %u to %u"), param_names[param],
                     (guint) min, (guint) max);
  *value = (guint) v;
  return TRUE;
}

static gboolean
read_map_target (McrMapSpec *spec,
                 Query      *q,
                 GError    **error)
{
  guint app_id = 0, protocol = 0, remote_port = 0, local_port = 0;

  if (!read_number (q, P_APPID, 0, G_MAXUINT32, FALSE, &app_id, error))
    return FALSE;
  if (app_id == 6 || app_id == 7)
    return fail (error, MCR_ROUTER_URL_ERROR_UNSUPPORTED,
                    app_id == 6 ? _("it asks for the Windows router's own remote desktop "
                                    "viewer, which is not supported; only port maps are")
                                : _("it asks for the Windows router's own file viewer, "
                                    "which is not supported; only port maps are"));
  if (app_id > MCR_APP_LAST)
    return invalidf (error, _("'%s' must be a number from %u to %u"), "appid", 0,
                     (guint) MCR_APP_LAST);
  spec->app_id = app_id;

  if (q->values[P_PROTOCOL] == NULL)
    return invalidf (error, _("'%s' is missing"), "protocol");
  if (!read_number (q, P_PROTOCOL, 1, 2, TRUE, &protocol, NULL))
    return invalid (error, _("'protocol' must be 1 (TCP) or 2 (UDP)"));
  spec->protocol = protocol;

  if (!read_number (q, P_REMOTEPORT, 1, 65535, TRUE, &remote_port, error) ||
      !read_number (q, P_LOCALPORT, 0, 65535, FALSE, &local_port, error))
    return FALSE;
  spec->remote_port = remote_port;
  spec->local_port = local_port;

  if (q->values[P_REMOTEIP] != NULL)
    {
      if (!mcr_map_spec_is_valid_remote_host (q->values[P_REMOTEIP]))
        return invalid (error, _("'remoteip' is not an IP address or host name"));
      spec->remote_ip = g_steal_pointer (&q->values[P_REMOTEIP]);
    }

  if (spec->protocol == MCR_PROTOCOL_UDP && spec->app_id != MCR_APP_CUSTOM)
    return invalid (error, _("a UDP map cannot open an app; 'appid' must be 0"));
  return TRUE;
}

/* The automatic map: asked for by any of its parameters, and then needs at
 * least nodeid, protocol and remoteport. */
static gboolean
read_map (McrRouterUrl *url,
          Query        *q,
          GError      **error)
{
  g_autoptr(McrMapSpec) spec = NULL;
  const char *node_id = q->values[P_NODEID];
  gboolean wanted = FALSE;

  for (guint i = P_NODEID; i < N_PARAMS; i++)
    wanted |= q->values[i] != NULL;
  if (!wanted)
    return TRUE;

  if (node_id == NULL)
    return invalidf (error, _("'%s' is missing"), "nodeid");
  if (!mcr_id_is_valid (node_id, MCR_ID_NODE))
    return invalid (error, _("'nodeid' must be a device id (node//ID, or node/DOMAIN/ID outside "
                             "the default domain)"));

  spec = mcr_map_spec_new ();
  spec->node_id = g_strdup (node_id);
  if (!read_map_target (spec, q, error))
    return FALSE;

  if (q->values[P_NAME] != NULL && *q->values[P_NAME] != '\0')
    spec->name = g_steal_pointer (&q->values[P_NAME]);

  if (q->values[P_AUTOEXIT] != NULL)
    {
      if (g_strcmp0 (q->values[P_AUTOEXIT], "1") != 0 && g_strcmp0 (q->values[P_AUTOEXIT], "0") != 0)
        return invalid (error, _("'autoexit' must be 0 or 1"));
      spec->auto_exit = q->values[P_AUTOEXIT][0] == '1';
    }

  /* As the Windows router does: a link's map always opens its app. Its
   * 'launch' value is never used (and never run). */
  spec->launch = TRUE;
  url->map = g_steal_pointer (&spec);
  return TRUE;
}

/**
 * mcr_router_url_parse:
 * @url: an mcrouter:// link
 *
 * Returns: (transfer full): the parsed link, or %NULL with @error in
 *   %MCR_ROUTER_URL_ERROR saying what is wrong (never the cookie).
 */
McrRouterUrl *
mcr_router_url_parse (const char *url,
                      GError    **error)
{
  static const char scheme[] = "mcrouter://";
  g_autoptr(McrRouterUrl) self = NULL;
  g_auto(Query) query = { { NULL } };
  const char *p, *end, *authority_end, *path_end;
  gsize len;

  g_return_val_if_fail (url != NULL, NULL);

  len = strnlen (url, MCR_ROUTER_URL_MAX_LENGTH + 1);
  if (len > MCR_ROUTER_URL_MAX_LENGTH)
    {
      invalidf (error, _("it is longer than %u characters"), MCR_ROUTER_URL_MAX_LENGTH);
      return NULL;
    }
  p = url;
  end = url + len;
  /* Pasted links may carry surrounding white space. */
  while (p < end && g_ascii_isspace (*p))
    p++;
  while (end > p && g_ascii_isspace (end[-1]))
    end--;

  if ((gsize) (end - p) < strlen (scheme) || g_ascii_strncasecmp (p, scheme, strlen (scheme)) != 0)
    {
      invalid (error, _("it does not start with mcrouter://"));
      return NULL;
    }
  p += strlen (scheme);

  /* The fragment, if any, means nothing here. */
  for (const char *c = p; c < end; c++)
    {
      if (*c == '#')
        {
          end = c;
          break;
        }
      if ((guchar) *c <= 0x20 || (guchar) *c >= 0x7f)
        {
          /* xgettext:no-c-format */
          invalid (error, _("it holds spaces or characters that must be %-encoded"));
          return NULL;
        }
    }

  self = g_new0 (McrRouterUrl, 1);
  authority_end = p;
  while (authority_end < end && *authority_end != '/' && *authority_end != '?')
    authority_end++;
  if (!parse_authority (self, p, authority_end, error))
    return NULL;

  path_end = authority_end;
  while (path_end < end && *path_end != '?')
    path_end++;
  if (!parse_path (self, authority_end, path_end, error))
    return NULL;

  if (path_end == end)
    {
      invalid (error, _("the login cookie ('c') is missing"));
      return NULL;
    }
  if (!parse_query (&query, path_end + 1, end, error) ||
      !read_login (self, &query, error) ||
      !read_map (self, &query, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * mcr_router_url_get_server_address:
 *
 * Returns: (transfer full): "host[:port][/domain][?key=K]", as
 *   mcr_server_new() takes it; K is percent-encoded.
 */
char *
mcr_router_url_get_server_address (const McrRouterUrl *url)
{
  GString *out;

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (url->host != NULL, NULL);

  out = g_string_new (NULL);
  if (strchr (url->host, ':') != NULL)
    g_string_append_printf (out, "[%s]", url->host);
  else
    g_string_append (out, url->host);
  if (url->port != 443)
    g_string_append_printf (out, ":%u", url->port);
  if (url->domain != NULL)
    g_string_append_printf (out, "/%s", url->domain);
  if (url->login_key != NULL)
    {
      g_autofree char *key = g_uri_escape_string (url->login_key, NULL, FALSE);

      g_string_append_printf (out, "?key=%s", key);
    }
  return g_string_free (out, FALSE);
}
