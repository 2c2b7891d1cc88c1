/* SPDX-License-Identifier: Apache-2.0
 *
 * The launcher builds the right argv for each app without running anything:
 * which helper programs exist is faked per test. Inside Flatpak, a stand-in
 * flatpak-spawn on PATH plays the host: lookups and Open go through it. */
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

/* Every app, outside and inside Flatpak: the same programs, run on the host
 * through flatpak-spawn; http, https and (inside Flatpak) sftp are URIs for
 * the desktop's handler, which the OpenURI portal reaches from the sandbox. */
static void
test_flatpak (void)
{
  const char *installed[] = { "xfreerdp", "ssh", "x-terminal-emulator", "nautilus", "vncviewer",
                              NULL };
  struct
  {
    McrLaunchRequest request;
    const char      *host;    /* argv joined with |, or "uri:…" */
    const char      *flatpak;
  } cases[] = {
    { { .app_id = MCR_APP_HTTP, .port = 8080 }, "uri:http://127.0.0.1:8080/",
      "uri:http://127.0.0.1:8080/" },
    { { .app_id = MCR_APP_HTTPS, .port = 8443 }, "uri:https://127.0.0.1:8443/",
      "uri:https://127.0.0.1:8443/" },
    { { .app_id = MCR_APP_RDP, .port = 3390 }, "xfreerdp|/v:127.0.0.1:3390",
      "flatpak-spawn|--host|xfreerdp|/v:127.0.0.1:3390" },
    { { .app_id = MCR_APP_SSH, .port = 2222, .user = "bob" },
      "x-terminal-emulator|-e|ssh|-p|2222|bob@127.0.0.1",
      "flatpak-spawn|--host|x-terminal-emulator|-e|ssh|-p|2222|bob@127.0.0.1" },
    { { .app_id = MCR_APP_SFTP, .port = 2200, .user = "bob" },
      "nautilus|sftp://bob@127.0.0.1:2200/", "uri:sftp://bob@127.0.0.1:2200/" },
    { { .app_id = MCR_APP_CUSTOM, .custom_name = "VNC", .custom_program = "vncviewer",
        .custom_arguments = "%L::%P", .port = 5901 },
      "vncviewer|127.0.0.1::5901", "flatpak-spawn|--host|vncviewer|127.0.0.1::5901" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (guint flatpak = 0; flatpak < 2; flatpak++)
      {
        g_autoptr(McrLauncher) launcher = launcher_with (installed, "GNOME");
        g_autoptr(McrLaunchPlan) plan = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *got = NULL;

        mcr_launcher_set_flatpak (launcher, flatpak);
        plan = mcr_launcher_plan (launcher, &cases[i].request, &error);
        g_assert_no_error (error);
        g_assert_true ((plan->uri == NULL) != (plan->argv == NULL));
        got = plan->uri != NULL ? g_strconcat ("uri:", plan->uri, NULL) : joined (plan);
        g_assert_cmpstr (got, ==, flatpak ? cases[i].flatpak : cases[i].host);
      }
}

/* The sandbox is detected by /.flatpak-info. */
static void
test_flatpak_detection (void)
{
  g_autoptr(McrLauncher) launcher = mcr_launcher_new ();

  g_assert_cmpint (mcr_launcher_get_flatpak (launcher), ==,
                   g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS));
}

/* A stand-in for flatpak-spawn: logs its arguments, insists on --host, and
 * runs the command with a "host" PATH that holds only the programs a test
 * puts there. */
typedef struct
{
  char *dir;
  char *host_dir;
  char *log;
  char *old_path;
} FakeHost;

static void
write_script (const char *path,
              const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
}

/* Set up in main (), before any thread starts: setenv () is not thread-safe. */
static FakeHost fake;

static void
fake_host_init (const char *const *programs)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *spawn = NULL;
  g_autofree char *path = NULL;

  fake.dir = g_dir_make_tmp ("mcr-flatpak-XXXXXX", &error);
  g_assert_no_error (error);
  fake.host_dir = g_build_filename (fake.dir, "host", NULL);
  fake.log = g_build_filename (fake.dir, "flatpak-spawn.log", NULL);
  g_assert_cmpint (g_mkdir (fake.host_dir, 0755), ==, 0);
  spawn = g_build_filename (fake.dir, "flatpak-spawn", NULL);
  write_script (spawn,
                "#!/bin/sh\n"
                "printf '%s' \"$*\" | tr '\\n' ' ' >> \"$FAKE_FLATPAK_LOG\"\n"
                "echo >> \"$FAKE_FLATPAK_LOG\"\n"
                "[ \"$1\" = --host ] || exit 99\n"
                "shift\n"
                "if [ \"$1\" = sh ]; then shift; PATH=$FAKE_HOST_PATH exec /bin/sh \"$@\"; fi\n"
                "PATH=$FAKE_HOST_PATH exec \"$@\"\n");
  for (guint i = 0; programs[i] != NULL; i++)
    {
      g_autofree char *program = g_build_filename (fake.host_dir, programs[i], NULL);

      /* Each program writes its name and arguments next to the log. */
      write_script (program, "#!/bin/sh\necho \"${0##*/} $*\" >> \"$FAKE_FLATPAK_LOG.ran\"\n");
    }
  fake.old_path = g_strdup (g_getenv ("PATH"));
  path = g_strdup_printf ("%s:%s", fake.dir, fake.old_path);
  g_setenv ("PATH", path, TRUE);
  g_setenv ("FAKE_HOST_PATH", fake.host_dir, TRUE);
  g_setenv ("FAKE_FLATPAK_LOG", fake.log, TRUE);
}

static char **
fake_host_read (const char *suffix)
{
  g_autofree char *path = g_strconcat (fake.log, suffix, NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_new0 (char *, 1);
  g_strchomp (text);
  return g_strsplit (text, "\n", -1);
}

static void
fake_host_clear (void)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", fake.dir);

  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  g_free (fake.dir);
  g_free (fake.host_dir);
  g_free (fake.log);
  g_free (fake.old_path);
}

/* Inside Flatpak with no lookup faked: programs are found on the host, all
 * candidates of a kind in one round trip, and run there. */
static void
test_flatpak_host (void)
{
  g_autoptr(McrLauncher) launcher = mcr_launcher_new ();
  McrLaunchRequest ssh = { .app_id = MCR_APP_SSH, .port = 2222, .user = "bob" };
  McrLaunchRequest rdp = { .app_id = MCR_APP_RDP, .port = 3389 };
  McrLaunchRequest custom = { .app_id = MCR_APP_CUSTOM, .custom_name = "Rec",
                              .custom_program = "recorder", .custom_arguments = "%L %P %N",
                              .device_name = "PC 1", .port = 5901 };
  g_autoptr(GError) error = NULL;
  g_autoptr(McrLaunchPlan) plan = NULL;
  g_autoptr(McrLaunchPlan) plan_custom = NULL;
  g_autofree char *argv = NULL;
  g_auto(GStrv) log = NULL;
  g_auto(GStrv) ran = NULL;
  gint64 end;

  mcr_launcher_set_flatpak (launcher, TRUE);
  mcr_launcher_set_desktop (launcher, "GNOME");
  mcr_launcher_set_distro (launcher, "debian");

  plan = mcr_launcher_plan (launcher, &ssh, &error);
  g_assert_no_error (error);
  argv = joined (plan);
  g_assert_cmpstr (argv, ==, "flatpak-spawn|--host|kgx|--|ssh|-p|2222|bob@127.0.0.1");
  log = fake_host_read ("");
  /* One look for ssh, one for all the terminals. */
  g_assert_cmpuint (g_strv_length (log), ==, 2);
  g_assert_true (g_str_has_prefix (log[0], "--host sh -c "));
  g_assert_true (g_str_has_suffix (log[0], " sh ssh"));
  g_assert_nonnull (strstr (log[1], " x-terminal-emulator kgx gnome-terminal konsole "));

  g_assert_null (mcr_launcher_plan (launcher, &rdp, &error));
  g_assert_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NOT_INSTALLED);
  g_assert_cmpstr (error->message, ==,
                   "xfreerdp is not installed: install freerdp2-x11 on your system");
  g_clear_error (&error);

  /* Open runs the program on the host, with its arguments as they are. */
  plan_custom = mcr_launcher_plan (launcher, &custom, &error);
  g_assert_no_error (error);
  g_assert_true (mcr_launcher_spawn (launcher, plan_custom, &error));
  g_assert_no_error (error);
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_strv_length (ran = fake_host_read (".ran")) == 0
         && g_get_monotonic_time () < end)
    {
      g_strfreev (ran);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  g_assert_cmpuint (g_strv_length (ran), ==, 1);
  g_assert_cmpstr (ran[0], ==, "recorder 127.0.0.1 5901 PC 1");
  g_strfreev (log);
  log = fake_host_read ("");
  g_assert_cmpstr (log[g_strv_length (log) - 1], ==, "--host recorder 127.0.0.1 5901 PC 1");
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
  const char *host_programs[] = { "ssh", "xterm", "kgx", "recorder", NULL };
  int status;

  g_test_init (&argc, &argv, NULL);
  fake_host_init (host_programs);
  g_test_add_func ("/launcher/http", test_http_uri);
  g_test_add_func ("/launcher/rdp", test_rdp);
  g_test_add_func ("/launcher/ssh", test_ssh_terminal);
  g_test_add_func ("/launcher/sftp", test_sftp);
  g_test_add_func ("/launcher/flatpak", test_flatpak);
  g_test_add_func ("/launcher/flatpak-detection", test_flatpak_detection);
  g_test_add_func ("/launcher/flatpak-host", test_flatpak_host);
  g_test_add_func ("/launcher/custom-placeholders", test_custom_placeholders);
  g_test_add_func ("/launcher/custom-errors", test_custom_errors);
  g_test_add_func ("/launcher/spawn", test_spawn_real);
  status = g_test_run ();
  fake_host_clear ();
  return status;
}
