/* SPDX-License-Identifier: Apache-2.0
 *
 * The real window with a big server: 5,000 agentless devices in 20 groups
 * (build-aux/testbed-fill.js) next to the agent's device. The list comes in
 * as one change, opens at its top, a search shows its first matches with
 * "N of M" in the footer, a rename on the server touches one item, and a
 * window with nothing to do sleeps: its main loop does not wake up and no
 * frame is drawn.
 *
 * It fills a private testbed of its own (the devices would change what the
 * other tests see on the shared one: a device list of thousands, and
 * thousands of "addnode" events to every router logged in while it fills).
 */
#include <gtk/gtk.h>
#include <string.h>

#include "mcr-devices-page.h"
#include "mcr-port-map.h"
#include "mcr-device.h"
#include "mcr-device-row.h"
#include "mcr-session.h"
#include "mcr-testbed.h"
#include "mcr-window.h"
#include "window-driver.h"

#define N_FILLED 5000

static McrServer *server;
static guint      emissions;        /* items-changed of the server's device list */
static guint      emissions_added;  /* of which added devices */
static gboolean   one_item_only = TRUE;
static guint      polls;
static gulong     frames;
static GPollFunc  default_poll;

static void
on_devices_changed (GListModel *model,
                    guint       position,
                    guint       removed,
                    guint       added,
                    gpointer    data)
{
  emissions++;
  if (added > removed)
    emissions_added++;
  if (removed != 1 || added != 1)
    {
      if (one_item_only)
        g_test_message ("items-changed (%u, %u, %u) of %u", position, removed, added,
                        g_list_model_get_n_items (model));
      one_item_only = FALSE;
    }
}

static void
on_server (McrSession *session,
           GParamSpec *pspec,
           gpointer    data)
{
  McrServer *now = mcr_session_get_server (session);

  if (now == NULL || now == server)
    return;
  server = now;
  g_signal_connect (mcr_server_get_devices (server), "items-changed",
                    G_CALLBACK (on_devices_changed), NULL);
}

/* Each return from poll() is one wake-up of the main loop. */
static gint
counting_poll (GPollFD *fds,
               guint    nfds,
               gint     timeout)
{
  polls++;
  return default_poll (fds, nfds, timeout);
}

static void
report_spinners (GtkWidget *widget)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      if (GTK_IS_SPINNER (c) && gtk_spinner_get_spinning (GTK_SPINNER (c)))
        g_test_message ("spinning: %s in %s", gtk_widget_get_name (c),
                        G_OBJECT_TYPE_NAME (gtk_widget_get_parent (gtk_widget_get_parent (c))));
      report_spinners (c);
    }
}

static void
on_after_paint (GdkFrameClock *clock,
                gpointer       data)
{
  if (frames++ == 0)
    report_spinners (GTK_WIDGET (ui_window));
}

static McrDevicesPage *
page (void)
{
  return MCR_DEVICES_PAGE (ui_page ("devices"));
}

static GtkWidget *
page_child (const char *name)
{
  return ui_template_child (page (), MCR_TYPE_DEVICES_PAGE, name);
}

static GListModel *
shown (void)
{
  return mcr_devices_page_get_shown_model (page ());
}

static gboolean
all_loaded (gpointer data)
{
  return server != NULL && mcr_server_get_devices_loaded (server)
         && g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (page_child ("content_stack"))),
                       "list") == 0;
}

static gboolean
shown_is (gpointer n)
{
  return g_list_model_get_n_items (shown ()) == GPOINTER_TO_UINT (n);
}

static gboolean
renamed (gpointer n)
{
  GListModel *devices = mcr_server_get_devices (server);
  guint count = 0;

  for (guint i = 0; i < g_list_model_get_n_items (devices); i++)
    {
      g_autoptr(McrDevice) device = g_list_model_get_item (devices, i);

      count += g_str_has_prefix (mcr_device_get_name (device), "ren-");
    }
  return count == GPOINTER_TO_UINT (n);
}

/* The item of the topmost row the list view shows. */
static GObject *
first_visible_item (void)
{
  GtkWidget *list = page_child ("list_view");
  GObject *top = NULL;
  float top_y = G_MAXFLOAT;

  for (GtkWidget *child = gtk_widget_get_first_child (list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = gtk_widget_get_first_child (child);
      graphene_rect_t bounds;

      if (!MCR_IS_DEVICE_ROW (row) || !gtk_widget_get_mapped (child)
          || !gtk_widget_compute_bounds (child, list, &bounds))
        continue;
      /* Shown (at least partly), and the highest of those. */
      if (bounds.origin.y + bounds.size.height > 0 && bounds.origin.y < top_y)
        {
          top_y = bounds.origin.y;
          top = mcr_device_row_get_item (MCR_DEVICE_ROW (row));
        }
    }
  g_assert_nonnull (top);
  return top;
}

static const char *
item_name (GObject *item)
{
  return MCR_IS_DEVICE (item) ? mcr_device_get_name (MCR_DEVICE (item))
                              : gtk_string_object_get_string (GTK_STRING_OBJECT (item));
}

static void
fill (const char *const *args)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *script = g_build_filename (MCR_SOURCE_ROOT, "build-aux", "testbed-fill.js", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  int status = 0;

  g_ptr_array_add (argv, (char *) "node");
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, tb->dir);
  for (; *args != NULL; args++)
    g_ptr_array_add (argv, (char *) *args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_test_message ("testbed-fill: %s", g_strstrip (out));
}

static void count_idle (guint seconds);

static void
test_big_list (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrSession *session = mcr_window_get_session (ui_window);
  g_autoptr(McrOptions) options = g_new0 (McrOptions, 1);
  char *hashes[] = { tb->cert_hash, NULL };
  GtkWidget *search = page_child ("search_entry");
  GtkLabel *footer = GTK_LABEL (page_child ("count_label"));
  g_autofree char *count = g_strdup_printf ("%u", N_FILLED);
  g_autofree char *expected = NULL;
  GListModel *devices;
  guint total;
  GObject *first;

  fill ((const char *[]) { count, "20", NULL });

  g_signal_connect (session, "notify::server", G_CALLBACK (on_server), NULL);
  options->certhashes = hashes;
  mcr_window_apply_options (ui_window, options);
  options->certhashes = NULL;
  mcr_window_login (ui_window, tb->address, tb->user, tb->password);
  on_server (session, NULL, NULL);
  g_assert_true (mcr_test_wait_until (all_loaded, NULL, 120000));
  ui_wait_page ("devices", 1000);

  /* All of them, in one change. */
  devices = mcr_server_get_devices (server);
  total = g_list_model_get_n_items (devices);
  g_assert_cmpuint (total, >=, N_FILLED + 1);
  g_test_message ("%u devices, %u items-changed while loading", total, emissions);
  g_assert_cmpuint (emissions_added, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (shown ()), ==, total);

  /* Opens at its top, in name order: dev-00001 first. */
  ui_settle (500);
  first = first_visible_item ();
  {
    g_autoptr(GObject) top = g_list_model_get_item (shown (), 0);

    g_assert_true (first == top);
  }
  g_assert_cmpstr (item_name (first), ==, "dev-00001");
  expected = g_strdup_printf ("%'u devices, %'u online", total, total);
  g_assert_cmpstr (gtk_label_get_text (footer), ==, expected);
  ui_settle (1000);
  count_idle (2);
  ui_screenshot (GTK_WIDGET (ui_window), "devices-big");
  count_idle (2);

  /* A search: its first matches, at the top, and how many of all. */
  gtk_editable_set_text (GTK_EDITABLE (search), "dev-0001");
  g_assert_true (mcr_test_wait_until (shown_is, GUINT_TO_POINTER (10), 10000));
  ui_settle (300);
  g_assert_cmpstr (item_name (first_visible_item ()), ==, "dev-00010");
  g_free (expected);
  expected = g_strdup_printf ("%'u of %'u devices", 10, total);
  g_assert_cmpstr (gtk_label_get_text (footer), ==, expected);
  count_idle (2);
  ui_screenshot (GTK_WIDGET (ui_window), "devices-big-search");
  gtk_editable_set_text (GTK_EDITABLE (search), "");
  g_assert_true (mcr_test_wait_until (shown_is, GUINT_TO_POINTER (total), 10000));
  ui_settle (300);
  g_assert_cmpstr (item_name (first_visible_item ()), ==, "dev-00001");

  count_idle (2);
  /* Renames on the server: each touches the one device. */
  emissions = 0;
  one_item_only = TRUE;
  fill ((const char *[]) { "--rename", "5", "dev-", "ren-", NULL });
  g_assert_true (mcr_test_wait_until (renamed, GUINT_TO_POINTER (5), 30000));
  g_test_message ("%u items-changed for 5 renames", emissions);
  g_assert_cmpuint (emissions, >=, 5);
  g_assert_true (one_item_only);
  g_assert_cmpuint (g_list_model_get_n_items (devices), ==, total);
  gtk_editable_set_text (GTK_EDITABLE (search), "ren-");
  g_assert_true (mcr_test_wait_until (shown_is, GUINT_TO_POINTER (5), 10000));
  gtk_editable_set_text (GTK_EDITABLE (search), "");
  g_assert_true (mcr_test_wait_until (shown_is, GUINT_TO_POINTER (total), 10000));
}

static gboolean
on_idle_over (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @seconds of nothing to do, counting its wake-ups
 * and the frames drawn. */
static void
count_idle (guint seconds)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (ui_window));
  gboolean over = FALSE;

  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);
  default_poll = g_main_context_get_poll_func (NULL);
  g_main_context_set_poll_func (NULL, counting_poll);
  polls = 0;
  frames = 0;
  g_timeout_add_seconds (seconds, on_idle_over, &over);
  while (!over)
    g_main_context_iteration (NULL, TRUE);
  g_main_context_set_poll_func (NULL, default_poll);
  g_signal_handlers_disconnect_by_func (clock, on_after_paint, NULL);
  g_test_message ("idle %u s: %u main-loop wake-ups, %lu frames", seconds, polls, frames);
}

/* Frames and wake-ups that follow the last thing done (a long list laid
 * out again under AddressSanitizer) end: at most 20 s. */
static void
wait_quiet (void)
{
  for (guint i = 0; i < 20; i++)
    {
      count_idle (1);
      if (frames == 0)
        return;
    }
}

static gboolean
map_listening (gpointer map)
{
  return mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_LISTENING;
}

/* Nothing to do: the main loop sleeps and nothing is drawn, on the device
 * list and on the maps page with a map listening (its rate graph is flat).
 * Counted, not timed: wake-ups of this process's main loop over 5 s. */
static void
test_idle (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrSession *session = mcr_window_get_session (ui_window);
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  McrPortMap *map;

  wait_quiet ();
  count_idle (5);
  /* The end of the wait itself, and a server ping (every 30 s) at most. */
  g_assert_cmpuint (frames, ==, 0);
  g_assert_cmpuint (polls, <=, 4);

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = mcr_test_echo_server_start (NULL);
  map = mcr_session_add_map (session, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mcr_test_wait_until (map_listening, map, 30000));
  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.show-maps", NULL);
  ui_wait_page ("maps", 1000);
  wait_quiet ();
  count_idle (5);
  g_assert_cmpuint (frames, ==, 0);
  g_assert_cmpuint (polls, <=, 4);
  mcr_session_remove_all_maps (session);
}

int
main (int argc, char **argv)
{
  int status;

  /* A private testbed: see the top of this file. */
  g_unsetenv ("MCR_TESTBED_ENV");
  ui_init (&argc, &argv);
  ui_open_window ();

  g_test_add_func ("/ui/devices-big/list", test_big_list);
  g_test_add_func ("/ui/devices-big/idle", test_idle);
  status = g_test_run ();

  ui_close_window ();
  return status;
}
