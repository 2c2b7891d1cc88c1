/* SPDX-License-Identifier: Apache-2.0
 *
 * The launcher builds the right argv for each app without running anything:
 * which helper programs exist is faked per test. */
#include <glib.h>
#include <glib/gstdio.h>

#include "mcr-launcher.h"

static gboolean
fake_lookup (const char *program,
             gpointer    user_data)
{
  return g_strv_contains ((const char *const *) user_data, program);
}

static McrLauncher *
launcher_with (const char *const *installed,
               const char        *desktop)
{
  McrLauncher *launcher = mcr_launcher_new ();

  mcr_launcher_set_flatpak (launcher, FALSE);
  mcr_launcher_set_desktop (launcher, desktop);
  mcr_launcher_set_distro (launcher, "debian");
  mcr_launcher_set_lookup (launcher, fake_lookup, g_strdupv ((char **) installed),
                           (GDestroyNotify) g_strfreev);
  return launcher;
}

static char *
joined (McrLaunchPlan *plan)
{
  g_assert_nonnull (plan);
  g_assert_nonnull (plan->argv);
  return g_strjoinv ("|", plan->argv);
}

static void
test_http_uri (void)
{
  const char *installed[] = { NULL };
  g_autoptr(McrLauncher) launcher = launcher_with (installed, NULL);
  McrLaunchRequest req = { .app_id = MCR_APP_HTTP, .port = 8080 };
  g_autoptr(McrLaunchPlan) plan = NULL;
  g_autoptr(McrLaunchPlan) plan_s = NULL;
  g_autoptr(GError) error = NULL;

  plan = mcr_launcher_plan (launcher, &req, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (plan->uri, ==, "http://127.0.0.1:8080/");
  g_assert_null (plan->argv);

  req.app_id = MCR_APP_HTTPS;
  req.address = "::1";
  plan_s = mcr_launcher_plan (launcher, &req, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (plan_s->uri, ==, "https://[::1]:8080/");
}

static void
test_rdp (void)
{
  const char *freerdp2[] = { "xfreerdp", "remmina", NULL };
  const char *freerdp3[] = { "xfreerdp3", "xfreerdp", NULL };
  const char *wayland[] = { "wlfreerdp", NULL };
  const char *remmina[] = { "remmina", NULL };
  const char *none[] = { NULL };
  McrLaunchRequest req = { .app_id = MCR_APP_RDP, .port = 50123 };
  struct { const char *const *installed; const char *argv; } cases[] = {
    { freerdp2, "xfreerdp|/v:127.0.0.1:50123" },
    { freerdp3, "xfreerdp3|/v:127.0.0.1:50123" },
    { wayland, "wlfreerdp|/v:127.0.0.1:50123" },
    { remmina, "remmina|-c|rdp://127.0.0.1:50123" },
  };
  g_autoptr(McrLauncher) missing = launcher_with (none, NULL);
  g_autoptr(GError) error = NULL;
  McrLaunchPlan *plan;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(McrLauncher) launcher = launcher_with (cases[i].installed, NULL);
      g_autofree char *argv = NULL;

      plan = mcr_launcher_plan (launcher, &req, &error);
      g_assert_no_error (error);
      argv = joined (plan);
      g_assert_cmpstr (argv, ==, cases[i].argv);
      mcr_launch_plan_free (plan);
    }

  plan = mcr_launcher_plan (missing, &req, &error);
  g_assert_null (plan);
  g_assert_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NOT_INSTALLED);
  g_assert_cmpstr (error->message, ==, "xfreerdp is not installed: sudo apt install freerdp2-x11");
}

static void
test_ssh_terminal (void)
{
  const char *debian[] = { "ssh", "x-terminal-emulator", "gnome-terminal", NULL };
  const char *gnome[] = { "ssh", "kgx", "konsole", "xterm", NULL };
  const char *kde[] = { "ssh", "kgx", "konsole", "xterm", NULL };
  const char *bare[] = { "ssh", "xterm", NULL };
  const char *no_ssh[] = { "xterm", NULL };
  const char *no_term[] = { "ssh", NULL };
  McrLaunchRequest req = { .app_id = MCR_APP_SSH, .port = 2222, .user = "bob" };
  struct { const char *const *installed; const char *desktop; const char *argv; } cases[] = {
    { debian, "GNOME", "x-terminal-emulator|-e|ssh|-p|2222|bob@127.0.0.1" },
    { gnome, "ubuntu:GNOME", "kgx|--|ssh|-p|2222|bob@127.0.0.1" },
    { kde, "KDE", "konsole|-e|ssh|-p|2222|bob@127.0.0.1" },
    { bare, NULL, "xterm|-e|ssh|-p|2222|bob@127.0.0.1" },
  };
  g_autoptr(GError) error = NULL;
  McrLaunchPlan *plan;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(McrLauncher) launcher = launcher_with (cases[i].installed, cases[i].desktop);
      g_autofree char *argv = NULL;

      plan = mcr_launcher_plan (launcher, &req, &error);
      g_assert_no_error (error);
      argv = joined (plan);
      g_assert_cmpstr (argv, ==, cases[i].argv);
      mcr_launch_plan_free (plan);
    }

  {
    g_autoptr(McrLauncher) launcher = launcher_with (no_ssh, NULL);

    plan = mcr_launcher_plan (launcher, &req, &error);
    g_assert_null (plan);
    g_assert_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NOT_INSTALLED);
    g_assert_cmpstr (error->message, ==, "ssh is not installed: sudo apt install openssh-client");
    g_clear_error (&error);
  }
  {
    g_autoptr(McrLauncher) launcher = launcher_with (no_term, NULL);

    plan = mcr_launcher_plan (launcher, &req, &error);
    g_assert_null (plan);
    g_assert_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NOT_INSTALLED);
    g_assert_nonnull (strstr (error->message, "xterm"));
    g_clear_error (&error);
  }
}

static void
test_sftp (void)
{
  const char *installed[] = { "nautilus", "dolphin", NULL };
  g_autoptr(McrLauncher) gnome = launcher_with (installed, "GNOME");
  g_autoptr(McrLauncher) kde = launcher_with (installed, "KDE");
  McrLaunchRequest req = { .app_id = MCR_APP_SFTP, .port = 2200, .user = "a b" };
  g_autoptr(GError) error = NULL;
  g_autoptr(McrLaunchPlan) plan = NULL;
  g_autoptr(McrLaunchPlan) plan_kde = NULL;
  g_autofree char *argv = NULL;
  g_autofree char *argv_kde = NULL;

  plan = mcr_launcher_plan (gnome, &req, &error);
  g_assert_no_error (error);
  argv = joined (plan);
  g_assert_cmpstr (argv, ==, "nautilus|sftp://a%20b@127.0.0.1:2200/");
  plan_kde = mcr_launcher_plan (kde, &req, &error);
  g_assert_no_error (error);
  argv_kde = joined (plan_kde);
  g_assert_cmpstr (argv_kde, ==, "dolphin|sftp://a%20b@127.0.0.1:2200/");
}

static void
test_flatpak (void)
{
  const char *installed[] = { "xfreerdp", NULL };
  g_autoptr(McrLauncher) launcher = launcher_with (installed, NULL);
  McrLaunchRequest req = { .app_id = MCR_APP_RDP, .port = 3390 };
  g_autoptr(GError) error = NULL;
  g_autoptr(McrLaunchPlan) plan = NULL;
  g_autofree char *argv = NULL;

  mcr_launcher_set_flatpak (launcher, TRUE);
  plan = mcr_launcher_plan (launcher, &req, &error);
  g_assert_no_error (error);
  argv = joined (plan);
  g_assert_cmpstr (argv, ==, "flatpak-spawn|--host|xfreerdp|/v:127.0.0.1:3390");
}

static void
test_custom_placeholders (void)
{
  const char *installed[] = { "vncviewer", NULL };
  g_autoptr(McrLauncher) launcher = launcher_with (installed, NULL);
  McrLaunchRequest req = {
    .app_id = MCR_APP_CUSTOM,
    .custom_name = "VNC",
    .custom_program = "vncviewer",
    /* A device name with quotes, a semicolon and $(): it must arrive as one
     * word, unchanged, and nothing may be evaluated. */
    .custom_arguments = "%L::%P -title %N -x 100%% %Q",
    .port = 5901,
    .device_name = "Bob's PC; $(rm -rf ~) \"x\"",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(McrLaunchPlan) plan = NULL;

  plan = mcr_launcher_plan (launcher, &req, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plan->argv);
  g_assert_cmpuint (g_strv_length (plan->argv), ==, 7);
  g_assert_cmpstr (plan->argv[0], ==, "vncviewer");
  g_assert_cmpstr (plan->argv[1], ==, "127.0.0.1::5901");
  g_assert_cmpstr (plan->argv[2], ==, "-title");
  g_assert_cmpstr (plan->argv[3], ==, "Bob's PC; $(rm -rf ~) \"x\"");
  g_assert_cmpstr (plan->argv[4], ==, "-x");
  g_assert_cmpstr (plan->argv[5], ==, "100%");
  g_assert_cmpstr (plan->argv[6], ==, "%Q");
}

static void
test_custom_errors (void)
{
  const char *installed[] = { "tool", NULL };
  g_autoptr(McrLauncher) launcher = launcher_with (installed, NULL);
  McrLaunchRequest req = { .app_id = MCR_APP_CUSTOM, .custom_name = "Tool", .port = 1 };
  g_autoptr(GError) error = NULL;
  McrLaunchPlan *plan;

  req.custom_program = "missing-tool";
  plan = mcr_launcher_plan (launcher, &req, &error);
  g_assert_null (plan);
  g_assert_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NOT_INSTALLED);
  g_assert_nonnull (strstr (error->message, "missing-tool"));
  g_clear_error (&error);

  req.custom_program = "tool";
  req.custom_arguments = "'unterminated %P";
  plan = mcr_launcher_plan (launcher, &req, &error);
  g_assert_null (plan);
  g_assert_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_INVALID);
  g_clear_error (&error);

  req.custom_arguments = NULL;
  plan = mcr_launcher_plan (launcher, &req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (plan->argv), ==, 1);
  mcr_launch_plan_free (plan);

  req.app_id = MCR_APP_CUSTOM;
  req.custom_name = NULL;
  req.custom_program = NULL;
  plan = mcr_launcher_plan (launcher, &req, &error);
  g_assert_null (plan);
  g_assert_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NO_APP);
}

static void
test_spawn_real (void)
{
  g_autoptr(McrLauncher) launcher = mcr_launcher_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mcr-launcher-XXXXXX", &error);
  g_autofree char *marker = g_build_filename (dir, "ran", NULL);
  const char *argv[] = { "touch", marker, NULL };
  McrLaunchPlan plan = { .argv = (char **) argv };
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  mcr_launcher_set_flatpak (launcher, FALSE);
  g_assert_true (mcr_launcher_spawn (launcher, &plan, &error));
  g_assert_no_error (error);
  while (!g_file_test (marker, G_FILE_TEST_EXISTS) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_unlink (marker);
  g_rmdir (dir);

  argv[0] = "/nonexistent/program";
  g_assert_false (mcr_launcher_spawn (launcher, &plan, &error));
  g_assert_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_FAILED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/launcher/http", test_http_uri);
  g_test_add_func ("/launcher/rdp", test_rdp);
  g_test_add_func ("/launcher/ssh", test_ssh_terminal);
  g_test_add_func ("/launcher/sftp", test_sftp);
  g_test_add_func ("/launcher/flatpak", test_flatpak);
  g_test_add_func ("/launcher/custom-placeholders", test_custom_placeholders);
  g_test_add_func ("/launcher/custom-errors", test_custom_errors);
  g_test_add_func ("/launcher/spawn", test_spawn_real);
  return g_test_run ();
}
