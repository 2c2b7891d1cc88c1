/* mcr-bench-devices.c: the window with a big device list — login to list
 * shown, main-loop stalls, memory, idle wake-ups, search, renames
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * bench/run fills its testbed (build-aux/testbed-fill.js) and runs this once
 * per size, a fresh process each time (peak RSS cannot be reset). The real
 * window is driven in-process, as the UI tests do; the figures come out as
 * one Markdown table row (--header prints the header).
 */
#define G_LOG_DOMAIN "mcr-bench-devices"

#include "config.h"

#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcr-application.h"
#include "mcr-devices-page.h"
#include "mcr-options.h"
#include "mcr-window.h"

#define STALL_TICK_MS 10

typedef struct
{
  /* options */
  char           *testbed_env;
  char           *fill_script;
  guint           expect;
  guint           idle_seconds;

  GHashTable     *env;
  McrApplication *app;
  McrWindow      *window;
  McrServer      *server;
  GListModel     *devices;

  /* the stall monitor: a high-priority timeout that records its lateness */
  guint           stall_id;
  gint64          stall_last;
  gint64          stall_max;

  gint64          t_login;
  gint64          t_arrived;
  gint64          t_shown;
  guint           devices_emissions;

  gint64          t_search;     /* search-changed emitted */
  gint64          t_filtered;   /* the first frame after the filtered list */
  gint64          t_model;      /* the shown list holds the matches */
  guint           search_expect;
  gboolean        searching;

  guint           renamed;
  gint64          t_rename_first;
  gint64          t_rename_last;
  gulong          paints;
} Bench;

static Bench bench;

static void G_GNUC_NORETURN G_GNUC_PRINTF (1, 2)
die (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("mcr-bench-devices: %s\n", message);
  exit (1);
}

static GHashTable *
read_env (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &text, NULL, &error))
    die ("%s", error->message);
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      char *eq = strchr (*l, '=');
      g_autofree char *value = NULL;

      if (eq == NULL)
        continue;
      value = g_shell_unquote (eq + 1, NULL);
      g_hash_table_insert (env, g_strndup (*l, eq - *l), g_steal_pointer (&value));
    }
  return env;
}

static const char *
env_get (const char *key)
{
  const char *value = g_hash_table_lookup (bench.env, key);

  if (value == NULL)
    die ("%s has no %s", bench.testbed_env, key);
  return value;
}

static void
iterate_until (gboolean (*done) (void),
               guint      timeout_ms,
               const char *what)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (!done ())
    {
      if (g_get_monotonic_time () > end)
        die ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, TRUE);
    }
}

static gboolean
on_wait_over (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms, sleeping whenever it has nothing to do: one
 * wake-up of its own at the end. */
static void
iterate_for (guint ms)
{
  gboolean over = FALSE;

  g_timeout_add (ms, on_wait_over, &over);
  while (!over)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- the stall monitor ---- */

static gboolean
on_stall_tick (gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  gint64 late = now - bench.stall_last - STALL_TICK_MS * G_TIME_SPAN_MILLISECOND;

  bench.stall_max = MAX (bench.stall_max, late);
  if (late > 50 * G_TIME_SPAN_MILLISECOND && g_getenv ("MCR_BENCH_STALLS") != NULL)
    g_printerr ("stall of %.0f ms ending at %.0f ms after the login (list in at %.0f ms)\n",
                late / 1000.0, (now - bench.t_login) / 1000.0,
                bench.t_arrived ? (bench.t_arrived - bench.t_login) / 1000.0 : -1.0);
  bench.stall_last = now;
  return G_SOURCE_CONTINUE;
}

static void
stall_monitor (gboolean on)
{
  if (on && bench.stall_id == 0)
    {
      bench.stall_last = g_get_monotonic_time ();
      bench.stall_id = g_timeout_add_full (G_PRIORITY_HIGH, STALL_TICK_MS, on_stall_tick,
                                           NULL, NULL);
    }
  else if (!on)
    g_clear_handle_id (&bench.stall_id, g_source_remove);
}

/* ---- process figures ---- */

static gint64
status_field (const char *path,
              const char *field)
{
  g_autofree char *text = NULL;
  const char *at;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  at = strstr (text, field);
  return at != NULL ? g_ascii_strtoll (at + strlen (field), NULL, 10) : 0;
}

/* Context switches of every thread of this process: each is a wake-up. */
static gint64
wakeups (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *name;
  gint64 total = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/status", name);

      total += status_field (path, "\nvoluntary_ctxt_switches:");
      total += status_field (path, "\nnonvoluntary_ctxt_switches:");
    }
  return total;
}

static double
cpu_seconds (void)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents ("/proc/self/stat", &text, NULL, NULL))
    return 0;
  after = strrchr (text, ')');
  fields = g_strsplit (after + 2, " ", -1);
  /* fields[0] is field 3 (state): utime is field 14, stime 15. */
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL))
         / sysconf (_SC_CLK_TCK);
}

/* ---- the window ---- */

static McrDevicesPage *
devices_page (void)
{
  GObject *views = gtk_widget_get_template_child (GTK_WIDGET (bench.window), MCR_TYPE_WINDOW,
                                                  "view_stack");

  return MCR_DEVICES_PAGE (gtk_stack_get_child_by_name (GTK_STACK (views), "devices"));
}

static void
on_after_paint (GdkFrameClock *clock,
                gpointer       data)
{
  McrDevicesPage *page;
  GtkStack *stack;

  bench.paints++;
  if (bench.window == NULL || bench.server == NULL)
    return;
  if (bench.t_arrived != 0 && bench.t_shown == 0
      && g_strcmp0 (mcr_window_get_page (bench.window), "devices") == 0
      && g_list_model_get_n_items (bench.devices) >= bench.expect)
    {
      page = devices_page ();
      stack = GTK_STACK (gtk_widget_get_template_child (GTK_WIDGET (page), MCR_TYPE_DEVICES_PAGE,
                                                        "content_stack"));
      if (g_strcmp0 (gtk_stack_get_visible_child_name (stack), "list") == 0)
        bench.t_shown = g_get_monotonic_time ();
    }
  if (bench.searching && bench.t_search != 0 && bench.t_filtered == 0)
    {
      page = devices_page ();
      if (g_list_model_get_n_items (mcr_devices_page_get_shown_model (page)) <= bench.search_expect)
        bench.t_filtered = g_get_monotonic_time ();
    }
}

static void
on_devices_changed (GListModel *model,
                    guint       position,
                    guint       removed,
                    guint       added,
                    gpointer    data)
{
  bench.devices_emissions++;
  if (bench.t_arrived == 0 && added > 0)
    bench.t_arrived = g_get_monotonic_time ();
}

static void
on_server (McrSession *session,
           GParamSpec *pspec,
           gpointer    data)
{
  McrServer *server = mcr_session_get_server (session);

  if (server == NULL || server == bench.server)
    return;
  bench.server = server;
  bench.devices = mcr_server_get_devices (server);
  g_signal_connect (bench.devices, "items-changed", G_CALLBACK (on_devices_changed), NULL);
}

static gboolean
server_known (void)
{
  return bench.server != NULL;
}

static gboolean
list_shown (void)
{
  return bench.t_shown != 0;
}

static gboolean
filtered (void)
{
  return bench.t_filtered != 0;
}

static gboolean
renames_done (void)
{
  return bench.renamed >= 200;
}

static void
on_shown_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    data)
{
  if (bench.searching && bench.t_search != 0 && bench.t_model == 0
      && g_list_model_get_n_items (model) <= bench.search_expect)
    bench.t_model = g_get_monotonic_time ();
}

static gboolean
on_search_changed_hook (GSignalInvocationHint *hint,
                        guint                  n_params,
                        const GValue          *params,
                        gpointer               data)
{
  if (bench.searching && bench.t_search == 0)
    bench.t_search = g_get_monotonic_time ();
  return TRUE;
}

static void
on_name_changed (GObject    *device,
                 GParamSpec *pspec,
                 gpointer    data)
{
  g_autofree char *name = NULL;

  g_object_get (device, "name", &name, NULL);
  if (name == NULL || !g_str_has_prefix (name, "ren-"))
    return;
  if (bench.renamed++ == 0)
    bench.t_rename_first = g_get_monotonic_time ();
  bench.t_rename_last = g_get_monotonic_time ();
}

static GSubprocess *
run_fill (const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (bench.testbed_env);
  GSubprocess *process;

  g_ptr_array_add (argv, (char *) "node");
  g_ptr_array_add (argv, bench.fill_script);
  g_ptr_array_add (argv, dir);
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  if (process == NULL)
    die ("%s", error->message);
  return process;
}

static double
ms (gint64 us)
{
  return us / 1000.0;
}

int
main (int    argc,
      char **argv)
{
  gboolean header = FALSE;
  GOptionEntry entries[] = {
    { "testbed", 0, 0, G_OPTION_ARG_FILENAME, &bench.testbed_env, "The testbed's testbed.env", "FILE" },
    { "fill-script", 0, 0, G_OPTION_ARG_FILENAME, &bench.fill_script, "build-aux/testbed-fill.js", "FILE" },
    { "expect", 0, 0, G_OPTION_ARG_INT, &bench.expect, "Devices the account has", "N" },
    { "idle-seconds", 0, 0, G_OPTION_ARG_INT, &bench.idle_seconds, "Idle measured for (10)", "S" },
    { "header", 0, 0, G_OPTION_ARG_NONE, &header, "Print the table header and exit", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- the window with many devices");
  g_autoptr(GError) error = NULL;
  g_autoptr(McrOptions) options = g_new0 (McrOptions, 1);
  g_autoptr(GSubprocess) renamer = NULL;
  char *hashes[2] = { NULL, NULL };
  gint64 stall_load, stall_search, stall_clear, stall_rename;
  double cpu_load, cpu_search, cpu_rename;
  guint emissions_load;
  g_autofree char *renames = NULL;
  gint64 t_clear, t_cleared;
  gint64 w0, w1;
  gulong p0, p1;
  double c0, c1;
  guint shown_after_search;
  double search_ms, search_model_ms;
  McrDevicesPage *page;
  GtkWidget *search;

  bench.idle_seconds = 10;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die ("%s", error->message);
  /* printf, not g_print: the table is UTF-8 whatever the locale says. */
  if (header)
    {
      printf ("| devices | login → list shown | device list → list shown | items-changed (load) | "
               "longest stall (load) | CPU (load) | search → filtered list / its frame (after the delay) | "
               "clear search | "
               "longest stall (search) | CPU (search+clear) | 200 renames applied | "
               "longest stall (renames) | CPU (renames) | peak RSS | idle CPU | idle wake-ups/s | "
               "idle frames/s |\n"
               "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
               "---: | ---: | ---: | ---: | ---: | ---: |\n");
      return 0;
    }
  if (bench.testbed_env == NULL || bench.fill_script == NULL || bench.expect == 0)
    die ("--testbed, --fill-script and --expect are needed (bench/run gives them)");
  bench.env = read_env (bench.testbed_env);

  gtk_init ();
  /* As a user has it, animations on; only the cursor does not blink (it
   * would keep the frame clock going while the search entry has focus). */
  g_object_set (gtk_settings_get_default (), "gtk-cursor-blink", FALSE, NULL);
  bench.app = mcr_application_new (NULL);
  g_application_set_flags (G_APPLICATION (bench.app),
                           g_application_get_flags (G_APPLICATION (bench.app))
                           | G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (bench.app), NULL, &error))
    die ("%s", error->message);
  bench.window = mcr_window_new (bench.app);
  gtk_window_present (GTK_WINDOW (bench.window));
  iterate_for (500);
  g_signal_connect (gtk_widget_get_frame_clock (GTK_WIDGET (bench.window)), "after-paint",
                    G_CALLBACK (on_after_paint), NULL);

  hashes[0] = (char *) env_get ("MCR_TEST_CERTHASH");
  options->certhashes = hashes;
  mcr_window_apply_options (bench.window, options);
  options->certhashes = NULL;

  /* Login to list shown. */
  g_signal_connect (mcr_window_get_session (bench.window), "notify::server",
                    G_CALLBACK (on_server), NULL);
  stall_monitor (TRUE);
  cpu_load = cpu_seconds ();
  bench.t_login = g_get_monotonic_time ();
  {
    g_autofree char *address = g_strdup_printf ("%s:%s", env_get ("MCR_TEST_HOST"),
                                                env_get ("MCR_TEST_PORT"));

    mcr_window_login (bench.window, address, env_get ("MCR_TEST_USER"), env_get ("MCR_TEST_PASS"));
  }
  iterate_until (server_known, 30000, "the login to start");
  iterate_until (list_shown, 600000, "the device list");
  stall_load = bench.stall_max;
  cpu_load = cpu_seconds () - cpu_load;
  emissions_load = bench.devices_emissions;

  /* Idle: nothing happens; the process should sleep. */
  stall_monitor (FALSE);
  iterate_for (3000);
  w0 = wakeups ();
  c0 = cpu_seconds ();
  p0 = bench.paints;
  iterate_for (bench.idle_seconds * 1000);
  w1 = wakeups ();
  c1 = cpu_seconds ();
  p1 = bench.paints;
  /* Search. */
  page = devices_page ();
  search = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (page), MCR_TYPE_DEVICES_PAGE,
                                                     "search_entry"));
  g_signal_add_emission_hook (g_signal_lookup ("search-changed", GTK_TYPE_SEARCH_ENTRY), 0,
                              on_search_changed_hook, NULL, NULL);
  bench.stall_max = 0;
  stall_monitor (TRUE);
  bench.search_expect = bench.expect >= 20 ? 10 + 1 : 0; /* matches and their header */
  g_signal_connect (mcr_devices_page_get_shown_model (page), "items-changed",
                    G_CALLBACK (on_shown_changed), NULL);
  bench.searching = TRUE;
  cpu_search = cpu_seconds ();
  gtk_editable_set_text (GTK_EDITABLE (search), "dev-0001");
  iterate_until (filtered, 120000, "the search");
  stall_search = bench.stall_max;
  search_ms = ms (bench.t_filtered - bench.t_search);
  search_model_ms = ms (bench.t_model - bench.t_search);
  shown_after_search = g_list_model_get_n_items (mcr_devices_page_get_shown_model (page));
  iterate_for (300);

  /* Clearing it. */
  bench.t_search = bench.t_filtered = 0;
  bench.search_expect = G_MAXUINT;
  gtk_editable_set_text (GTK_EDITABLE (search), "");
  {
    gint64 end = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

    while (g_list_model_get_n_items (mcr_devices_page_get_shown_model (page)) < bench.expect
           && g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, TRUE);
    t_clear = bench.t_search;
    bench.t_filtered = 0;
    while (bench.t_filtered == 0 && g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, TRUE);
    t_cleared = bench.t_filtered;
  }
  bench.searching = FALSE;
  stall_clear = bench.stall_max;
  cpu_search = cpu_seconds () - cpu_search;

  /* 200 renames from the server. */
  for (guint i = 0; i < g_list_model_get_n_items (bench.devices); i++)
    {
      g_autoptr(GObject) device = g_list_model_get_item (bench.devices, i);

      g_signal_connect (device, "notify::name", G_CALLBACK (on_name_changed), NULL);
    }
  iterate_for (300);
  bench.stall_max = 0;
  cpu_rename = cpu_seconds ();
  if (bench.expect >= 200)
    {
      renamer = run_fill ((const char *[]) { "--rename", "200", "dev-", "ren-", NULL });
      iterate_until (renames_done, 120000, "200 renames");
    }
  stall_rename = bench.stall_max;
  cpu_rename = cpu_seconds () - cpu_rename;
  iterate_for (500);
  if (renamer != NULL)
    {
      g_autoptr(GSubprocess) back = NULL;

      g_subprocess_wait (renamer, NULL, NULL);
      back = run_fill ((const char *[]) { "--rename", "200", "ren-", "dev-", NULL });
      g_subprocess_wait (back, NULL, NULL);
    }
  stall_monitor (FALSE);

  renames = renamer != NULL
              ? g_strdup_printf ("%.0f ms", ms (bench.t_rename_last - bench.t_rename_first))
              : g_strdup ("–");
  printf ("| %u | %.0f ms | %.0f ms | %u | %.0f ms | %.2f s | %.1f ms / %.0f ms (%u shown) | %.0f ms | "
           "%.0f ms | %.2f s | %s | %.0f ms | %.2f s | %.0f MB | %.2f s / %u s | %.1f | %.1f |\n",
           bench.expect,
           ms (bench.t_shown - bench.t_login),
           ms (bench.t_shown - bench.t_arrived),
           emissions_load,
           ms (stall_load),
           cpu_load,
           search_model_ms, search_ms, shown_after_search,
           ms (t_cleared - t_clear),
           ms (MAX (stall_search, stall_clear)),
           cpu_search,
           renames,
           ms (stall_rename),
           cpu_rename,
           status_field ("/proc/self/status", "\nVmHWM:") / 1024.0,
           c1 - c0, bench.idle_seconds,
           (double) MAX (w1 - w0, 0) / bench.idle_seconds,
           (double) (p1 - p0) / bench.idle_seconds);
  fflush (stdout);
  gtk_window_destroy (GTK_WINDOW (bench.window));
  iterate_for (100);
  return 0;
}
