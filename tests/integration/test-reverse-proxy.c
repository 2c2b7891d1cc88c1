/* SPDX-License-Identifier: Apache-2.0
 *
 * The real server behind nginx on loopback, both ways it is deployed:
 * passing TLS through to the server's https port (the stream module), and
 * ending TLS itself in front of a server run with tlsOffload (and certUrl
 * naming nginx, so that the server knows the certificate agents and
 * routers see). Login, a port map, a relay map, a link and a file work
 * through each. */
#include "reach-cases.h"

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  reach_add_tests ("/reverse-proxy/passthrough", mcr_testbed_get_passthrough ());
  reach_add_tests ("/reverse-proxy/tls-offload", mcr_testbed_get_offload ());
  return g_test_run ();
}
