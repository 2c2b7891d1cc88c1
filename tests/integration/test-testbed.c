/* SPDX-License-Identifier: Apache-2.0
 *
 * The fixture itself: a real server answers TLS on its port with the
 * certificate whose hash the fixture reports, and the agent is online. */
#include "mcr-testbed.h"

static void
test_server_answers (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *out = NULL;

  g_assert_cmpuint (tb->port, >, 0);
  g_assert_cmpuint (strlen (tb->cert_hash), ==, 96);
  g_assert_true (g_str_has_prefix (tb->node_id, "node//"));
  g_assert_true (mcr_testbed_meshctrl (&out, "ListDevices", "--json", NULL));
  g_assert_nonnull (strstr (out, tb->node_id));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/testbed/server-answers", test_server_answers);
  return g_test_run ();
}
