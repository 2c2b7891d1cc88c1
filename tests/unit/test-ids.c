/* SPDX-License-Identifier: Apache-2.0
 *
 * Device, device group and user ids in every domain: node//ID in the
 * default one, node/DOMAIN/ID in another. */
#include "mcr-ids.h"

static void
test_valid (void)
{
  static const struct { const char *id; McrIdKind kind; const char *domain; } good[] = {
    { "node//qW3rT5yU7iO9$@", MCR_ID_NODE, "" },
    { "node/other/qW3rT5yU7iO9$@", MCR_ID_NODE, "other" },
    { "mesh//Zx3b$Lr@kOq9", MCR_ID_MESH, "" },
    { "mesh/site-2/Zx3b$Lr@kOq9", MCR_ID_MESH, "site-2" },
    { "user//admin", MCR_ID_USER, "" },
    { "user/other/bob", MCR_ID_USER, "other" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *domain = mcr_id_dup_domain (good[i].id);

      g_test_message ("%s", good[i].id);
      g_assert_true (mcr_id_is_valid (good[i].id, good[i].kind));
      g_assert_true (mcr_id_has_prefix (good[i].id, good[i].kind));
      g_assert_cmpstr (domain, ==, good[i].domain);
    }
}

static void
test_invalid (void)
{
  static const char *const bad[] = {
    "", "node", "node/", "node//", "node/other/", "node/other", "nodeX//abc", "NODE//abc",
    "mesh//abc", "node//a b", "node//a\tb", "node/a b/c", "node/é/c", "node//\x7f",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("“%s”", bad[i]);
      g_assert_false (mcr_id_is_valid (bad[i], MCR_ID_NODE));
    }
  g_assert_null (mcr_id_dup_domain ("node/other"));
  g_assert_null (mcr_id_dup_domain (NULL));
  g_assert_false (mcr_id_is_valid (NULL, MCR_ID_NODE));
  /* Meant as an id (a -map: device field): the prefix and a second '/'. */
  g_assert_true (mcr_id_has_prefix ("node/a b/c", MCR_ID_NODE));
  g_assert_false (mcr_id_has_prefix ("node-pc", MCR_ID_NODE));
  g_assert_false (mcr_id_has_prefix ("node/pc", MCR_ID_NODE));
}

static void
test_domain_mismatch (void)
{
  g_autofree char *other = mcr_id_domain_mismatch ("node/other/abc", "");
  g_autofree char *default_ = mcr_id_domain_mismatch ("node//abc", "other");
  g_autofree char *third = mcr_id_domain_mismatch ("node/a/abc", "b");

  g_assert_null (mcr_id_domain_mismatch ("node//abc", ""));
  g_assert_null (mcr_id_domain_mismatch ("node//abc", NULL));
  g_assert_null (mcr_id_domain_mismatch ("node/other/abc", "other"));
  g_assert_null (mcr_id_domain_mismatch ("not an id", "other"));
  g_assert_cmpstr (other, ==, "The device node/other/abc belongs to the domain “other”, but the "
                              "router is logged into the default domain");
  g_assert_cmpstr (default_, ==, "The device node//abc belongs to the default domain, but the "
                                 "router is logged into the domain “other”");
  g_assert_cmpstr (third, ==, "The device node/a/abc belongs to the domain “a”, but the router "
                              "is logged into the domain “b”");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ids/valid", test_valid);
  g_test_add_func ("/ids/invalid", test_invalid);
  g_test_add_func ("/ids/domain-mismatch", test_domain_mismatch);
  return g_test_run ();
}
