/* reach-cases.c: every way into a testbed, against any one of them
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The same five checks run against the default domain (the other tests),
 * a second domain (test-domains.c) and the server behind nginx in both of
 * its modes (test-reverse-proxy.c): logging in, a port map, a relay map,
 * a link as the web UI builds it, and a .mcrouter file as the Windows
 * router writes it. */
#include <glib/gstdio.h>
#include <string.h>

#include "login-helpers.h"
#include "mcr-port-map.h"
#include "mcr-test-router.h"
#include "reach-cases.h"
#include "relay-test-util.h"

void
reach_test_login (gconstpointer data)
{
  const McrTestbed *tb = data;
  g_autoptr(McrServer) server = test_server_logged_in (tb, 60000);
  McrDevice *device = mcr_server_lookup_device (server, tb->node_id);

  g_assert_cmpstr (mcr_server_get_domain_id (server), ==, tb->domain);
  g_assert_nonnull (device);
  g_assert_cmpstr (mcr_device_get_name (device), ==, tb->node_name);
  g_assert_true (mcr_device_get_online (device));
  mcr_server_logout (server);
}

static void
map_echo (const McrTestbed *tb,
          const char       *remote_ip,
          guint32           seed)
{
  g_autoptr(McrServer) server = test_server_logged_in (tb, 60000);
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(McrPortMap) map = NULL;
  g_autoptr(GError) error = NULL;

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_ip = g_strdup (remote_ip);
  spec->remote_port = mcr_test_echo_server_start (remote_ip);
  map = mcr_port_map_new (server, spec);
  g_assert_true (mcr_port_map_start (map, FALSE, &error));
  g_assert_no_error (error);
  test_peer_assert_echo (mcr_port_map_get_local_port (map), 1024 * 1024, seed);
  mcr_port_map_stop (map);
  mcr_server_logout (server);
}

void
reach_test_port_map (gconstpointer tb)
{
  map_echo (tb, NULL, 61);
}

void
reach_test_relay_map (gconstpointer tb)
{
  map_echo (tb, "127.0.0.2", 62);
}

/* The map's port from the line "TCP 127.0.0.1:PORT -> NAME:REMOTE". */
static void
headless_echo (McrTestRouter    *r,
               const McrTestbed *tb,
               guint16           remote_port,
               guint32           seed)
{
  g_autofree char *want = g_strdup_printf (" -> %s:%u", tb->node_name, remote_port);

  mcr_test_router_wait_lines (r, 1);
  test_peer_assert_echo (mcr_test_router_port_of (r, "TCP 127.0.0.1:", want), 256 * 1024, seed);
  g_assert_cmpint (mcr_test_router_stop (r, 15000), ==, 0);
}

void
reach_test_link (gconstpointer data)
{
  const McrTestbed *tb = data;
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autofree char *cookie = test_link_cookie (tb);
  g_autofree char *node = g_uri_escape_string (tb->node_id, NULL, FALSE);
  g_autofree char *link =
    g_strdup_printf ("mcrouter://%s/control.ashx?c=%s&t=%s&l=en&nodeid=%s&protocol=1"
                     "&remoteport=%u&appid=0", tb->address, cookie, tb->cert_hash, node, echo);
  const char *args[] = { "--headless", link, NULL };
  g_autoptr(McrTestRouter) r = mcr_test_router_start_piped (args, NULL);

  headless_echo (r, tb, echo, 63);
}

void
reach_test_file (gconstpointer data)
{
  const McrTestbed *tb = data;
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mcr-reach-XXXXXX", &error);
  g_autofree char *text =
    g_strdup_printf ("{\r\n  \"hostname\": \"%s\",\r\n  \"username\": \"%s\",\r\n"
                     "  \"certhash\": \"%s\",\r\n  \"mappings\":[\r\n    {\r\n"
                     "      \"nodeName\": \"%s\",\r\n      \"meshId\": \"%s\",\r\n"
                     "      \"nodeId\": \"%s\",\r\n      \"appId\": 0,\r\n"
                     "      \"protocol\": 1,\r\n      \"localPort\": 0,\r\n"
                     "      \"remotePort\": %u\r\n    }\r\n  ]\r\n}",
                     tb->address, tb->user, tb->cert_hash, tb->node_name, tb->mesh_id,
                     tb->node_id, echo);
  g_autofree char *path = NULL;
  g_autoptr(McrTestRouter) r = NULL;
  const char *args[] = { "--headless", NULL, NULL };

  g_assert_no_error (error);
  path = mcr_test_write_file (dir, "reach.mcrouter", text);
  args[1] = path;
  r = mcr_test_router_start_piped (args, tb->password);
  headless_echo (r, tb, echo, 64);
  g_unlink (path);
  g_rmdir (dir);
}

void
reach_add_tests (const char       *prefix,
                 const McrTestbed *tb)
{
  static const struct { const char *name; GTestDataFunc func; } cases[] = {
    { "login", reach_test_login },
    { "port-map", reach_test_port_map },
    { "relay-map", reach_test_relay_map },
    { "link", reach_test_link },
    { "file", reach_test_file },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s", prefix, cases[i].name);

      g_test_add_data_func (path, tb, cases[i].func);
    }
}
