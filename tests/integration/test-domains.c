/* SPDX-License-Identifier: Apache-2.0
 *
 * A second domain of the real server ("other": its own admin, group and
 * agent, ids node/other/…): login, a port map, a relay map, a link and a
 * file all work there; a device of that domain asked for while logged into
 * the default one is refused, naming both domains. */
#include <string.h>

#include "mcr-test-router.h"
#include "reach-cases.h"

/* -map: with a node/other/… id, logged into the default domain. */
static void
test_wrong_domain (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  const McrTestbed *other = mcr_testbed_get_other_domain ();
  g_autofree char *host = g_strconcat ("-host:", tb->address, NULL);
  g_autofree char *user = g_strconcat ("-user:", tb->user, NULL);
  g_autofree char *hash = g_strconcat ("-certhash:", tb->cert_hash, NULL);
  g_autofree char *map = g_strdup_printf ("-map:TCP:0:%s::22", other->node_id);
  g_autofree char *want =
    g_strdup_printf ("The device %s belongs to the domain “other”, but the router is logged "
                     "into the default domain", other->node_id);
  const char *args[] = { "--headless", host, user, hash, map, NULL };
  g_autoptr(McrTestRouter) r = mcr_test_router_start_piped (args, tb->password);

  /* Its only map cannot start: the run ends, saying why. */
  g_assert_cmpint (mcr_test_router_wait (r, 60000), !=, 0);
  g_assert_nonnull (strstr (r->err_text->str, want));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  reach_add_tests ("/domains/other", mcr_testbed_get_other_domain ());
  g_test_add_func ("/domains/wrong-domain", test_wrong_domain);
  return g_test_run ();
}
