/* SPDX-License-Identifier: Apache-2.0
 *
 * Port ranges in -map: and -relaymap: arguments: one spec per port, the
 * rules about lengths, and the limit, refused by name. */
#include <string.h>

#include "mcr-map-range.h"

static GPtrArray *
parse_ok (const char *arg)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *specs = mcr_map_range_parse_argument (arg, &error);

  g_assert_no_error (error);
  g_assert_nonnull (specs);
  return specs;
}

static void
parse_fails (const char *arg,
             const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) specs = mcr_map_range_parse_argument (arg, &error);

  g_assert_null (specs);
  g_assert_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, expected));
  g_assert_true (g_str_has_prefix (error->message, arg));
}

static void
test_single (void)
{
  g_autoptr(GPtrArray) specs = parse_ok ("-map:TCP:8080:\"My PC\":HTTP:80");
  McrMapSpec *spec = g_ptr_array_index (specs, 0);

  g_assert_cmpuint (specs->len, ==, 1);
  g_assert_cmpuint (spec->local_port, ==, 8080);
  g_assert_cmpuint (spec->remote_port, ==, 80);
  g_assert_cmpstr (spec->node_name, ==, "My PC");
}

static void
test_same_ports (void)
{
  g_autoptr(GPtrArray) specs = parse_ok ("-map:TCP:5900-5910:\"PC\"::5900-5910");

  g_assert_cmpuint (specs->len, ==, 11);
  for (guint i = 0; i < specs->len; i++)
    {
      McrMapSpec *spec = g_ptr_array_index (specs, i);

      g_assert_cmpuint (spec->local_port, ==, 5900 + i);
      g_assert_cmpuint (spec->remote_port, ==, 5900 + i);
      g_assert_cmpstr (spec->node_name, ==, "PC");
      g_assert_cmpint (spec->protocol, ==, MCR_PROTOCOL_TCP);
    }
}

static void
test_shifted_and_relay (void)
{
  g_autoptr(GPtrArray) shifted = parse_ok ("--map:UDP:15000-15002:node//abc::5000-5002");
  g_autoptr(GPtrArray) relay = parse_ok ("-relaymap:TCP:9000-9001:PC::fe80::1:80-81");
  g_autoptr(GPtrArray) any = parse_ok ("-map:TCP:0:PC:SSH:2200-2203");

  g_assert_cmpuint (shifted->len, ==, 3);
  g_assert_cmpuint (((McrMapSpec *) g_ptr_array_index (shifted, 2))->local_port, ==, 15002);
  g_assert_cmpuint (((McrMapSpec *) g_ptr_array_index (shifted, 2))->remote_port, ==, 5002);
  g_assert_cmpstr (((McrMapSpec *) g_ptr_array_index (shifted, 0))->node_id, ==, "node//abc");
  g_assert_cmpuint (relay->len, ==, 2);
  g_assert_cmpstr (((McrMapSpec *) g_ptr_array_index (relay, 1))->remote_ip, ==, "fe80::1");
  g_assert_cmpuint (((McrMapSpec *) g_ptr_array_index (relay, 1))->remote_port, ==, 81);
  g_assert_cmpuint (((McrMapSpec *) g_ptr_array_index (relay, 1))->local_port, ==, 9001);
  g_assert_cmpuint (any->len, ==, 4);
  for (guint i = 0; i < any->len; i++)
    {
      g_assert_cmpuint (((McrMapSpec *) g_ptr_array_index (any, i))->local_port, ==, 0);
      g_assert_cmpuint (((McrMapSpec *) g_ptr_array_index (any, i))->remote_port, ==, 2200 + i);
    }
}

static void
test_refused (void)
{
  parse_fails ("-map:TCP:1000-1300:PC::1000-1300", "at most 256");
  parse_fails ("-map:TCP:1000-1300:PC::1000-1300", "1000-1300 holds 301 ports");
  parse_fails ("-map:TCP:5910-5900:PC::5900-5910", "ends before it starts");
  parse_fails ("-map:TCP:5900-5910:PC::5900", "needs a remote port range");
  parse_fails ("-map:TCP:5900:PC::5900-5910", "or local port 0");
  parse_fails ("-map:TCP:5900-5910:PC::5900-5905", "11 ports, the remote range 6");
  parse_fails ("-map:TCP:0-10:PC::5900-5910", "from 1 to 65535");
  parse_fails ("-map:TCP:5900-x:PC::5900-5910", "not a port range");
  /* What one map's parser says stays as it was. */
  parse_fails ("-map:XYZ:5900-5910:PC::5900-5910", "TCP or UDP");
}

static void
test_expand_limits (void)
{
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) specs = NULL;

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup ("node//abc");
  spec->remote_port = 65530;
  spec->local_port = 1000;
  specs = mcr_map_range_expand (spec, 7, &error);
  g_assert_null (specs);
  g_assert_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID);
  g_clear_error (&error);
  specs = mcr_map_range_expand (spec, MCR_MAP_RANGE_MAX_PORTS + 1, &error);
  g_assert_null (specs);
  g_assert_nonnull (strstr (error->message, "256"));
  g_clear_error (&error);
  specs = mcr_map_range_expand (spec, 6, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (specs->len, ==, 6);
  g_assert_cmpuint (((McrMapSpec *) g_ptr_array_index (specs, 5))->remote_port, ==, 65535);
  g_assert_cmpuint (((McrMapSpec *) g_ptr_array_index (specs, 5))->local_port, ==, 1005);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/map-range/single", test_single);
  g_test_add_func ("/map-range/same-ports", test_same_ports);
  g_test_add_func ("/map-range/shifted-and-relay", test_shifted_and_relay);
  g_test_add_func ("/map-range/refused", test_refused);
  g_test_add_func ("/map-range/expand-limits", test_expand_limits);
  return g_test_run ();
}
