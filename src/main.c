/* main.c: picks the GUI or the --headless path
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <sys/resource.h>

#include "mcr-headless.h"
#include "mcr-log.h"
#include "mcr-options.h"
#include "mcr-application.h"

/* Every connection through a map holds two descriptors (local socket and
 * relay); the usual soft limit of 1024 would stop a busy router at ~500
 * connections. GLib polls with poll(), so no FD_SETSIZE limit applies. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : MIN (rl.rlim_max, 65536);
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(McrOptions) options = NULL;
  g_autoptr(GError) error = NULL;
  /* For running uninstalled (the tests): where the .mo files are instead. */
  const char *localedir = g_getenv ("MCR_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* Before anything logs: no message leaves the program with a secret in it. */
  mcr_log_init ();

  raise_fd_limit ();
  options = mcr_options_parse (argc, argv, &error);
  if (options == NULL)
    {
      g_printerr ("meshcentral-router: %s\n", error->message);
      return 2;
    }
  if (options->show_help)
    {
      g_print ("%s", mcr_options_help_text ());
      return 0;
    }
  if (options->show_version)
    {
      g_print ("meshcentral-router %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (options->debug && !mcr_log_open_debug_file (&error))
    {
      /* Not worth stopping for: say so and run without the file. */
      g_printerr ("meshcentral-router: %s\n", error->message);
      g_clear_error (&error);
    }
  if (options->headless || options->list_devices)
    return mcr_headless_run (options);

  return mcr_application_run (g_steal_pointer (&options), argc, argv);
}
