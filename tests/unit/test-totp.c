/* SPDX-License-Identifier: Apache-2.0 */
#include "mcr-testbed.h"

/* RFC 6238 appendix B, SHA-1, truncated to 6 digits. */
static void
test_rfc6238_vectors (void)
{
  const char *secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; /* "12345678901234567890" */
  g_autofree char *a = mcr_test_totp (secret, 59);
  g_autofree char *b = mcr_test_totp (secret, 1111111109);
  g_autofree char *c = mcr_test_totp (secret, 20000000000);

  g_assert_cmpstr (a, ==, "287082");
  g_assert_cmpstr (b, ==, "081804");
  g_assert_cmpstr (c, ==, "353130");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/totp/rfc6238", test_rfc6238_vectors);
  return g_test_run ();
}
