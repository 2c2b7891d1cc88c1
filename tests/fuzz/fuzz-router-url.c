/* fuzz-router-url.c: mcrouter:// links
 *
 * Oracles: a refused link gets an MCR_ROUTER_URL_ERROR; an accepted one has
 * sane fields, and the link rebuilt from them parses to the same thing (or,
 * when escaping made it longer than the limit, is refused for its length).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "fuzz-common.h"
#include "mcr-ids.h"
#include "mcr-router-url.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

static void
append_param (GString    *s,
              const char *name,
              const char *value)
{
  g_autofree char *escaped = NULL;

  if (value == NULL)
    return;
  escaped = g_uri_escape_string (value, NULL, FALSE);
  g_string_append_printf (s, "&%s=%s", name, escaped);
}

static char *
rebuild (const McrRouterUrl *url)
{
  GString *s = g_string_new ("mcrouter://");
  g_autofree char *address = mcr_router_url_get_server_address (url);
  char *query;

  /* "host[:port][/domain][?key=K]" */
  query = strchr (address, '?');
  if (query != NULL)
    *query = '\0';
  g_string_append_printf (s, "%s/control.ashx?c=", address);
  g_string_append_uri_escaped (s, url->auth_cookie, NULL, FALSE);
  append_param (s, "t", url->cert_hash);
  append_param (s, "l", url->language);
  append_param (s, "key", url->login_key);
  if (url->map != NULL)
    {
      g_string_append_printf (s, "&protocol=%d&remoteport=%u&localport=%u&appid=%d&autoexit=%d",
                              url->map->protocol, url->map->remote_port, url->map->local_port,
                              url->map->app_id, url->map->auto_exit);
      append_param (s, "nodeid", url->map->node_id);
      append_param (s, "remoteip", url->map->remote_ip);
      append_param (s, "name", url->map->name);
    }
  return g_string_free (s, FALSE);
}

static void
check_same (const McrRouterUrl *a,
            const McrRouterUrl *b)
{
  fuzz_check (g_strcmp0 (a->host, b->host) == 0);
  fuzz_check (a->port == b->port);
  fuzz_check (g_strcmp0 (a->domain, b->domain) == 0);
  fuzz_check (g_strcmp0 (a->auth_cookie, b->auth_cookie) == 0);
  fuzz_check (g_strcmp0 (a->cert_hash, b->cert_hash) == 0);
  fuzz_check (g_strcmp0 (a->language, b->language) == 0);
  fuzz_check (g_strcmp0 (a->login_key, b->login_key) == 0);
  fuzz_check ((a->map == NULL) == (b->map == NULL));
  if (a->map != NULL)
    {
      fuzz_check (mcr_map_spec_equal_target (a->map, b->map));
      fuzz_check (a->map->local_port == b->map->local_port);
      fuzz_check (g_strcmp0 (a->map->name, b->map->name) == 0);
      fuzz_check (a->map->auto_exit == b->map->auto_exit && a->map->launch && b->map->launch);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrRouterUrl) url = mcr_router_url_parse (text, &error);
  g_autoptr(McrRouterUrl) again = NULL;
  g_autofree char *link = NULL;

  if (url == NULL)
    {
      fuzz_check (error != NULL && error->domain == MCR_ROUTER_URL_ERROR);
      fuzz_check (g_str_has_prefix (error->message, "Invalid mcrouter:// link: "));
      return 0;
    }
  fuzz_check (url->host != NULL && *url->host != '\0' && url->port != 0);
  fuzz_check (url->auth_cookie != NULL && *url->auth_cookie != '\0');
  fuzz_check (url->cert_hash == NULL || strlen (url->cert_hash) == 96);
  if (url->map != NULL)
    fuzz_check (mcr_id_is_valid (url->map->node_id, MCR_ID_NODE) && url->map->remote_port != 0);

  link = rebuild (url);
  /* Escaping can make the rebuilt link longer than the input; past the limit
   * the parser must refuse it with the length message, nothing else. */
  if (strlen (link) > MCR_ROUTER_URL_MAX_LENGTH)
    {
      again = mcr_router_url_parse (link, &error);
      fuzz_check (again == NULL && error != NULL && strstr (error->message, "longer than") != NULL);
      return 0;
    }
  again = mcr_router_url_parse (link, &error);
  if (again == NULL)
    {
      g_printerr ("the rebuilt link does not parse: %s\n", error->message);
      abort ();
    }
  check_same (url, again);
  return 0;
}
