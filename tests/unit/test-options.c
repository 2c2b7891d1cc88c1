/* SPDX-License-Identifier: Apache-2.0 */
#include "mcr-options.h"

static McrOptions *
parse (GError **error, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  McrOptions *options;
  const char *a;
  va_list ap;

  g_ptr_array_add (argv, g_strdup ("meshcentral-router"));
  va_start (ap, error);
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  options = mcr_options_parse (argv->len, (char **) argv->pdata, error);
  return options;
}

static void
test_windows_style (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrOptions) o = parse (&error, "-host:example.com:444?key=abc", "-user:bob",
                                   "-pass:secret", "-ignorecert", "-map:TCP:0:\"PC\":RDP:3389",
                                   "-relaymap:UDP:53:PC::10.0.0.1:53", "-all", "-tray", "-debug",
                                   NULL);

  g_assert_no_error (error);
  g_assert_cmpstr (o->host, ==, "example.com:444?key=abc");
  g_assert_cmpstr (o->user, ==, "bob");
  g_assert_cmpstr (o->password, ==, "secret");
  g_assert_true (o->ignore_cert && o->all_interfaces && o->tray && o->debug);
  g_assert_cmpuint (o->maps->len, ==, 2);
  g_assert_false (o->headless);
}

static void
test_ours (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrOptions) o = parse (&error, "--headless", "--list-devices", "--password-stdin",
                                   "--host", "h", "--user=u", "-token:123456", "-certhash:AA",
                                   "--certhash=BB", "--proxy", "http://proxy:3128",
                                   "file.mcrouter", "mcrouter://h/control.ashx?c=x", NULL);

  g_assert_no_error (error);
  g_assert_true (o->headless && o->list_devices && o->password_stdin);
  g_assert_cmpstr (o->host, ==, "h");
  g_assert_cmpstr (o->user, ==, "u");
  g_assert_cmpstr (o->token, ==, "123456");
  g_assert_cmpuint (g_strv_length (o->certhashes), ==, 2);
  g_assert_cmpstr (o->proxy, ==, "http://proxy:3128");
  g_assert_cmpuint (o->files->len, ==, 1);
  g_assert_cmpuint (o->urls->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (o->urls, 0), ==, "mcrouter://h/control.ashx?c=x");
}

static void
test_password_scrubbed (void)
{
  char a0[] = "meshcentral-router", a1[] = "-pass:hunter2", a2[] = "--pass", a3[] = "swordfish";
  char *argv[] = { a0, a1, a2, a3, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(McrOptions) o = mcr_options_parse (4, argv, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (o->password, ==, "swordfish");
  g_assert_null (strstr (a1, "hunter2"));
  g_assert_null (strstr (a3, "swordfish"));
}

static void
test_token_scrubbed (void)
{
  char a0[] = "meshcentral-router", a1[] = "-token:123456", a2[] = "--token", a3[] = "654321";
  char *argv[] = { a0, a1, NULL };
  char *argv2[] = { a0, a2, a3, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(McrOptions) o = mcr_options_parse (2, argv, &error);
  g_autoptr(McrOptions) o2 = mcr_options_parse (3, argv2, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (o->token, ==, "123456");
  g_assert_cmpstr (o2->token, ==, "654321");
  g_assert_cmpstr (a1, ==, "-token:xxxxxx");
  g_assert_cmpstr (a3, ==, "xxxxxx");
}

static void
test_errors (void)
{
  struct { const char *arg; const char *in_message; } cases[] = {
    { "-bogus", "-bogus" },
    { "-host", "-host" },
    { "-ignorecert:yes", "-ignorecert" },
    { "-map:TCP:x:PC:HTTP:80", "-map:TCP:x:PC:HTTP:80" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(McrOptions) o = parse (&error, cases[i].arg, NULL);

      g_assert_null (o);
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, cases[i].in_message));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/options/windows-style", test_windows_style);
  g_test_add_func ("/options/ours", test_ours);
  g_test_add_func ("/options/password-scrubbed", test_password_scrubbed);
  g_test_add_func ("/options/token-scrubbed", test_token_scrubbed);
  g_test_add_func ("/options/errors", test_errors);
  return g_test_run ();
}
