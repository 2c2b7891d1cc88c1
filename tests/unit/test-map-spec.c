/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "mcr-map-spec.h"

static void
test_map_examples (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapSpec) a = mcr_map_spec_parse_argument ("-map:TCP:0:\"MyComputer\":HTTP:80", &error);
  g_autoptr(McrMapSpec) b = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (a->protocol, ==, MCR_PROTOCOL_TCP);
  g_assert_cmpuint (a->local_port, ==, 0);
  g_assert_cmpstr (a->node_name, ==, "MyComputer");
  g_assert_null (a->node_id);
  g_assert_cmpint (a->app_id, ==, MCR_APP_HTTP);
  g_assert_cmpuint (a->remote_port, ==, 80);
  g_assert_null (a->remote_ip);

  b = mcr_map_spec_parse_argument ("-map:udp:1235:MyComputer::1234", &error);
  g_assert_no_error (error);
  g_assert_cmpint (b->protocol, ==, MCR_PROTOCOL_UDP);
  g_assert_cmpuint (b->local_port, ==, 1235);
  g_assert_cmpint (b->app_id, ==, MCR_APP_CUSTOM);
  g_assert_null (b->app_name);
  g_assert_cmpuint (b->remote_port, ==, 1234);
}

static void
test_relaymap_examples (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapSpec) a = NULL, b = NULL, c = NULL, d = NULL;

  a = mcr_map_spec_parse_argument ("-relaymap:TCP:555:\"My Computer\":HTTP:192.168.1.1:80", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a->node_name, ==, "My Computer");
  g_assert_cmpstr (a->remote_ip, ==, "192.168.1.1");
  g_assert_cmpuint (a->remote_port, ==, 80);
  g_assert_cmpuint (a->local_port, ==, 555);

  b = mcr_map_spec_parse_argument ("-relaymap:TCP:0:PC:RDP:[fe80::1]:3389", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (b->remote_ip, ==, "fe80::1");
  g_assert_cmpint (b->app_id, ==, MCR_APP_RDP);

  c = mcr_map_spec_parse_argument ("-relaymap:TCP:0:PC::fe80::1:3389", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->node_name, ==, "PC");
  g_assert_cmpstr (c->remote_ip, ==, "fe80::1");
  g_assert_cmpuint (c->remote_port, ==, 3389);

  d = mcr_map_spec_parse_argument ("--relaymap:TCP:0:node//abc$@x:PuTTY:printer.lan:22", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (d->node_id, ==, "node//abc$@x");
  g_assert_cmpint (d->app_id, ==, MCR_APP_SSH);
  g_assert_cmpstr (d->remote_ip, ==, "printer.lan");
}

/* An id of another domain is an id, not a name to look up; one that only
 * looks like an id is refused. */
static void
test_other_domain (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapSpec) a = mcr_map_spec_parse_argument ("-map:TCP:0:node/other/abc$@x:SSH:22",
                                                         &error);
  g_autoptr(McrMapSpec) b = NULL;
  g_autoptr(McrMapSpec) c = NULL;
  g_autofree char *arg = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (a->node_id, ==, "node/other/abc$@x");
  g_assert_null (a->node_name);
  arg = mcr_map_spec_to_argument (a);
  g_assert_cmpstr (arg, ==, "-map:TCP:0:\"node/other/abc$@x\":SSH:22");

  b = mcr_map_spec_parse_argument ("-relaymap:TCP:0:\"node/other/abc\":HTTP:10.0.0.1:80", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (b->node_id, ==, "node/other/abc");

  c = mcr_map_spec_parse_argument ("-map:TCP:0:\"node/my domain/abc\":SSH:22", &error);
  g_assert_null (c);
  g_assert_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "-map:TCP:0:\"node/my domain/abc\":SSH:22: the device id must be node//ID, or "
                   "node/DOMAIN/ID outside the default domain");
}

static void
test_custom_app_and_colon_names (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapSpec) a = mcr_map_spec_parse_argument ("-map:TCP:8080:a:b:VNC:5900", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (a->node_name, ==, "a:b");
  g_assert_cmpint (a->app_id, ==, MCR_APP_CUSTOM);
  g_assert_cmpstr (a->app_name, ==, "VNC");
}

static void
test_bad_arguments (void)
{
  const char *bad[] = {
    "-map:",
    "-map:TCP:0:PC:HTTP",
    "-map:SCTP:0:PC:HTTP:80",
    "-map:TCP:65536:PC:HTTP:80",
    "-map:TCP:-1:PC:HTTP:80",
    "-map:TCP:0:PC:HTTP:0",
    "-map:TCP:0:PC:HTTP:99999",
    "-map:TCP:0:PC:HTTP:80x",
    "-map:TCP:0::HTTP:80",
    "-map:TCP:0:\"PC:HTTP:80",
    "-map:UDP:0:PC:HTTP:80",
    "-relaymap:TCP:0:PC:HTTP:80",
    "-relaymap:TCP:0:PC:HTTP:bad host!:80",
    "-relaymap:TCP:0:PC:HTTP::80",
    "-other:TCP:0:PC:HTTP:80",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(McrMapSpec) spec = mcr_map_spec_parse_argument (bad[i], &error);

      g_assert_null (spec);
      g_assert_error (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID);
      /* The message names the argument. */
      g_assert_true (g_str_has_prefix (error->message, bad[i]));
    }
}

static void
test_round_trip (void)
{
  const char *args[] = {
    "-map:TCP:0:\"My PC\":HTTP:80",
    "-map:UDP:53:\"dns\"::53",
    "-relaymap:TCP:555:\"PC\":RDP:10.0.0.2:3389",
    "-relaymap:TCP:555:\"PC\":SSH:[::1]:22",
  };

  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(McrMapSpec) spec = mcr_map_spec_parse_argument (args[i], &error);
      g_autofree char *back = NULL;

      g_assert_no_error (error);
      back = mcr_map_spec_to_argument (spec);
      g_assert_cmpstr (back, ==, args[i]);
    }
}

/* Found by fuzz-map-spec: what parses must survive being written back. */
static void
test_round_trip_odd (void)
{
  const char *args[] = {
    "-relaymap:TCP:0:PC:RDym--:TCP:0:PC:RH:[::1elaymap:TCP:556:\"PC\":]:2:TCP:0:PC:RH:3389",
    "-map:TCP:0:PC:\"a:b\":80",
    "-map:TCP:0:PC:\"[x\":80",
    "-map:TCP:0:\"[PC]:1\":x]y:80",
  };

  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(McrMapSpec) spec = mcr_map_spec_parse_argument (args[i], &error);
      g_autoptr(McrMapSpec) again = NULL;
      g_autofree char *back = NULL;

      g_test_message ("%s", args[i]);
      g_assert_no_error (error);
      g_assert_null (strchr (spec->node_name, '"'));
      back = mcr_map_spec_to_argument (spec);
      again = mcr_map_spec_parse_argument (back, &error);
      g_assert_no_error (error);
      g_assert_true (mcr_map_spec_equal_target (spec, again));
      g_assert_cmpstr (spec->node_name, ==, again->node_name);
      g_assert_cmpstr (spec->app_name, ==, again->app_name);
    }
}

static void
test_equal_target (void)
{
  g_autoptr(McrMapSpec) a = mcr_map_spec_parse_argument ("-map:TCP:0:node//x:HTTP:80", NULL);
  g_autoptr(McrMapSpec) b = mcr_map_spec_parse_argument ("-map:TCP:8080:node//x:HTTP:80", NULL);
  g_autoptr(McrMapSpec) c = mcr_map_spec_parse_argument ("-map:TCP:0:node//x:HTTPS:80", NULL);

  g_assert_true (mcr_map_spec_equal_target (a, b));
  g_assert_false (mcr_map_spec_equal_target (a, c));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/map-spec/map", test_map_examples);
  g_test_add_func ("/map-spec/relaymap", test_relaymap_examples);
  g_test_add_func ("/map-spec/other-domain", test_other_domain);
  g_test_add_func ("/map-spec/custom-app", test_custom_app_and_colon_names);
  g_test_add_func ("/map-spec/bad", test_bad_arguments);
  g_test_add_func ("/map-spec/round-trip", test_round_trip);
  g_test_add_func ("/map-spec/round-trip-odd", test_round_trip_odd);
  g_test_add_func ("/map-spec/equal-target", test_equal_target);
  return g_test_run ();
}
