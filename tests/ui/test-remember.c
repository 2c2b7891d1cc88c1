/* SPDX-License-Identifier: Apache-2.0
 *
 * Remembered maps, with the real window in-process against the real
 * testbed: maps made in the window (one through the Add Map dialog) come
 * back when the window is made again and logs in again, on the same local
 * ports, and carry bytes through the agent; a port taken meanwhile moves
 * its map to a free port with a note in the banner, the others keep
 * theirs; a map switched off stays listed, is remembered as off and is not
 * started; a broken file is reported and set aside, not lost. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>
#include <sys/stat.h>

#include "mcr-map-dialog.h"
#include "mcr-map-row.h"
#include "mcr-map-store.h"
#include "mcr-maps-page.h"
#include "mcr-options.h"
#include "mcr-session.h"
#include "mcr-testbed.h"
#include "mcr-window.h"
#include "relay-test-util.h"
#include "window-driver.h"

static char *store_dir;

static McrSession *
session (void)
{
  return mcr_window_get_session (ui_window);
}

static gboolean
devices_in (gpointer data)
{
  McrServer *server = mcr_session_get_server (session ());

  return server != NULL && mcr_server_get_devices_loaded (server);
}

static gboolean
logged_out (gpointer data)
{
  return mcr_session_get_server (session ()) == NULL;
}

/* A new window, on the test's store, logged in as on the command line. */
static void
open_and_log_in (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GFile) folder = g_file_new_for_path (store_dir);
  g_autoptr(McrMapStore) store = mcr_map_store_new (folder);
  g_autofree char *host = g_strdup_printf ("-host:%s", tb->address);
  g_autofree char *user = g_strdup_printf ("-user:%s", tb->user);
  g_autofree char *pass = g_strdup_printf ("-pass:%s", tb->password);
  g_autofree char *hash = g_strdup_printf ("-certhash:%s", tb->cert_hash);
  char *argv[] = { "meshcentral-router", host, user, pass, hash, NULL };
  g_autoptr(McrOptions) options = NULL;
  g_autoptr(GError) error = NULL;

  /* The application stays (a second one could not register on the bus);
   * the window and its session are new. */
  if (ui_app == NULL)
    ui_open_window ();
  else
    {
      ui_window = mcr_window_new (ui_app);
      gtk_window_present (GTK_WINDOW (ui_window));
    }
  mcr_window_set_map_store (ui_window, store);
  options = mcr_options_parse (G_N_ELEMENTS (argv) - 1, argv, &error);
  g_assert_no_error (error);
  mcr_window_apply_options (ui_window, options);
  g_assert_true (mcr_test_wait_until (devices_in, NULL, 60000));
}

/* As quitting does: the window goes, its maps stop. */
static void
close_window (void)
{
  gtk_window_destroy (GTK_WINDOW (ui_window));
  ui_window = NULL;
  ui_settle (100);
}

static char *
store_path (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *name = mcr_map_store_file_name (tb->address, tb->user);

  return g_build_filename (store_dir, name, NULL);
}

static McrPortMap *
map_at (guint i)
{
  return g_list_model_get_item (mcr_session_get_maps (session ()), i);
}

static McrMapDialog *
find_map_dialog (void)
{
  return MCR_MAP_DIALOG (ui_find_toplevel (MCR_TYPE_MAP_DIALOG));
}

static gboolean
third_map_on (gpointer data)
{
  g_autoptr(McrPortMap) map = g_list_model_get_item (mcr_session_get_maps (session ()), 2);

  return map != NULL && !mcr_port_map_get_spec (map)->disabled;
}

static GtkWidget *
find_row (GtkWidget  *widget,
          McrPortMap *map)
{
  if (MCR_IS_MAP_ROW (widget) && mcr_map_row_get_map (MCR_MAP_ROW (widget)) == map)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = find_row (child, map);

      if (row != NULL)
        return row;
    }
  return NULL;
}

/* Selects the testbed agent's device in the dialog's list. */
static void
choose_device (McrMapDialog *dialog)
{
  GtkListView *list = GTK_LIST_VIEW (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                        "device_list"));
  GtkSelectionModel *model = gtk_list_view_get_model (list);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (model)); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (model), i);

      if (MCR_IS_DEVICE (item)
          && g_strcmp0 (mcr_device_get_id (MCR_DEVICE (item)), mcr_testbed_get ()->node_id) == 0)
        {
          gtk_selection_model_select_item (model, i, TRUE);
          return;
        }
    }
  g_error ("the Add Map dialog does not list the testbed's device");
}

static gboolean
remembered_has (gpointer text)
{
  g_autofree char *path = store_path ();
  g_autofree char *contents = NULL;

  return g_file_get_contents (path, &contents, NULL, NULL) && strstr (contents, text) != NULL;
}

static gboolean
map_is_listening (gpointer map)
{
  return mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_LISTENING;
}

static void
test_remember (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo_port = mcr_test_echo_server_start (NULL);
  guint16 echo_b = mcr_test_echo_server_start (NULL);
  guint16 echo_c = mcr_test_echo_server_start (NULL);
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = store_path ();
  g_autofree char *contents = NULL;
  g_autofree char *port_text = NULL;
  g_autoptr(GSocketListener) squatter = NULL;
  g_autoptr(McrPortMap) off = NULL;
  McrMapDialog *dialog;
  guint16 ports[3];
  GStatBuf st;

  open_and_log_in ();
  g_assert_cmpuint (g_list_model_get_n_items (mcr_session_get_maps (session ())), ==, 0);

  /* One map through the Add Map dialog, on any free port. */
  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.add-map", NULL);
  g_assert_true (mcr_test_wait_until (ui_have_toplevel, GSIZE_TO_POINTER (MCR_TYPE_MAP_DIALOG),
                                      5000));
  dialog = find_map_dialog ();
  gtk_drop_down_set_selected (GTK_DROP_DOWN (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                             "app_dropdown")),
                              0);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                              "remote_port_spin")),
                             echo_port);
  ui_set_text (dialog, MCR_TYPE_MAP_DIALOG, "local_port_spin", "0");
  ui_set_text (dialog, MCR_TYPE_MAP_DIALOG, "name_entry", "Echo A");
  choose_device (dialog);
  ui_settle (100);
  gtk_widget_activate_action (GTK_WIDGET (dialog), "map-dialog.add", NULL);
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (1), 10000));

  /* Two more, as the window's other ways of making maps do. */
  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = echo_b;
  spec->name = g_strdup ("Echo B");
  g_assert_nonnull (mcr_session_add_map (session (), spec, NULL, &error));
  g_assert_no_error (error);
  g_free (spec->name);
  spec->name = g_strdup ("Echo C");
  spec->remote_port = echo_c;
  g_assert_nonnull (mcr_session_add_map (session (), spec, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(McrPortMap) map = map_at (i);

      g_assert_cmpstr (mcr_port_map_get_spec (map)->node_id, ==, tb->node_id);
      ports[i] = mcr_port_map_get_local_port (map);
      g_assert_cmpuint (ports[i], >, 0);
    }

  /* C switched off (as its row's switch does) and on again: it keeps its
   * row and its port, and carries bytes again; then off for good. */
  {
    g_autoptr(McrPortMap) c = map_at (2);
    McrPortMap *again;

    g_signal_emit_by_name (ui_page ("maps"), "set-map-enabled", c, FALSE);
    off = map_at (2);
    g_assert_true (mcr_port_map_get_spec (off)->disabled);
    g_assert_cmpint (mcr_port_map_get_state (off), ==, MCR_PORT_MAP_STATE_STOPPED);
    g_assert_cmpint (mcr_port_map_get_state (c), ==, MCR_PORT_MAP_STATE_STOPPED);
    g_assert_cmpuint (g_list_model_get_n_items (mcr_session_get_maps (session ())), ==, 3);
    g_assert_cmpuint (mcr_session_get_n_active_maps (session ()), ==, 2);

    again = mcr_session_set_map_enabled (session (), off, TRUE, &error);
    g_assert_no_error (error);
    g_assert_nonnull (again);
    g_assert_cmpuint (mcr_port_map_get_local_port (again), ==, ports[2]);
    g_assert_true (mcr_test_wait_until (map_is_listening, again, 30000));
    test_peer_assert_echo (ports[2], 64 * 1024, 3);
    g_clear_object (&off);
    g_signal_emit_by_name (ui_page ("maps"), "set-map-enabled", again, FALSE);
    off = map_at (2);
    g_assert_true (mcr_port_map_get_spec (off)->disabled);
  }

  /* Remembered: the ports the maps listen on, C as off, no password,
   * readable by the owner only. */
  port_text = g_strdup_printf ("\"localPort\": %u", ports[1]);
  g_assert_true (mcr_test_wait_until (remembered_has, "\"enabled\": false", 10000));
  g_assert_true (remembered_has (port_text));
  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_null (strstr (contents, tb->password));
  g_assert_null (strstr (contents, "\"password\""));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_clear_object (&off);

  /* The window goes; meanwhile another program takes B's port. */
  close_window ();
  squatter = g_socket_listener_new ();
  g_assert_true (g_socket_listener_add_inet_port (squatter, ports[1], NULL, &error));
  g_assert_no_error (error);

  /* Back: A on its port, B on another with a note, C listed, off. */
  open_and_log_in ();
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (3), 30000));
  {
    g_autoptr(McrPortMap) a = map_at (0);
    g_autoptr(McrPortMap) b = map_at (1);
    g_autoptr(McrPortMap) c = map_at (2);
    g_autofree char *note = g_strdup_printf ("Port %u is in use", ports[1]);

    g_assert_cmpstr (mcr_port_map_get_spec (a)->name, ==, "Echo A");
    g_assert_cmpuint (mcr_port_map_get_local_port (a), ==, ports[0]);
    g_assert_cmpstr (mcr_port_map_get_spec (b)->name, ==, "Echo B");
    g_assert_cmpuint (mcr_port_map_get_local_port (b), !=, ports[1]);
    g_assert_cmpuint (mcr_port_map_get_local_port (b), >, 0);
    g_assert_true (mcr_test_wait_until (ui_banner_has, note, 5000));
    g_test_message ("banner: %s", ui_banner_text ());
    g_assert_cmpstr (mcr_port_map_get_spec (c)->name, ==, "Echo C");
    g_assert_true (mcr_port_map_get_spec (c)->disabled);
    g_assert_cmpint (mcr_port_map_get_state (c), ==, MCR_PORT_MAP_STATE_STOPPED);

    test_peer_assert_echo (ports[0], 256 * 1024, 1);
    test_peer_assert_echo (mcr_port_map_get_local_port (b), 256 * 1024, 2);

    /* The switch in C's row turns it on, on its port. */
    {
      GtkWidget *row;
      g_autoptr(McrPortMap) on = NULL;

      gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.show-maps", NULL);
      ui_wait_page ("maps", 5000);
      ui_settle (200);
      row = find_row (ui_page ("maps"), c);
      g_assert_nonnull (row);
      g_assert_false (gtk_switch_get_active (GTK_SWITCH (ui_template_child (row, MCR_TYPE_MAP_ROW,
                                                                         "enabled_switch"))));
      ui_screenshot (GTK_WIDGET (ui_window), "maps-remembered");
      gtk_switch_set_active (GTK_SWITCH (ui_template_child (row, MCR_TYPE_MAP_ROW,
                                                          "enabled_switch")),
                             TRUE);
      g_assert_true (mcr_test_wait_until (third_map_on, NULL, 5000));
      on = map_at (2);
      g_assert_false (mcr_port_map_get_spec (on)->disabled);
      g_assert_cmpuint (mcr_port_map_get_local_port (on), ==, ports[2]);
      test_peer_assert_echo (ports[2], 64 * 1024, 4);
    }
  }
  g_socket_listener_close (squatter);

  /* A broken file: reported by name, set aside, never lost. */
  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.logout", NULL);
  g_assert_true (mcr_test_wait_until (logged_out, NULL, 10000));
  close_window ();
  g_assert_true (g_file_set_contents (path, "{\"hostname\": \"x\", \"mappings\": [", -1,
                                      &error));
  open_and_log_in ();
  {
    g_autofree char *name = g_path_get_basename (path);
    g_autoptr(GDir) dir = g_dir_open (store_dir, 0, &error);
    const char *entry;
    gboolean found = FALSE;

    g_assert_true (mcr_test_wait_until (ui_banner_has, name, 5000));
    g_assert_true (ui_banner_has (".broken-"));
    g_test_message ("banner: %s", ui_banner_text ());
    g_assert_cmpuint (g_list_model_get_n_items (mcr_session_get_maps (session ())), ==, 0);
    while ((entry = g_dir_read_name (dir)) != NULL)
      if (g_str_has_prefix (entry, name) && strstr (entry, ".broken-") != NULL)
        {
          g_autofree char *aside = g_build_filename (store_dir, entry, NULL);
          g_autofree char *kept = NULL;

          g_assert_true (g_file_get_contents (aside, &kept, NULL, NULL));
          g_assert_cmpstr (kept, ==, "{\"hostname\": \"x\", \"mappings\": [");
          g_unlink (aside);
          found = TRUE;
        }
    g_assert_true (found);
  }
  close_window ();
  g_unlink (path);
}


/* A range from the Add Map dialog ("Ports" 3): three maps, remembered as
 * three mappings, one per port. */
static void
test_range_from_dialog (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrMapDialog *dialog;
  g_autofree char *path = store_path ();

  open_and_log_in ();
  g_assert_true (ui_n_maps_is (GUINT_TO_POINTER (0)));
  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.add-map", NULL);
  g_assert_true (mcr_test_wait_until (ui_have_toplevel, GSIZE_TO_POINTER (MCR_TYPE_MAP_DIALOG),
                                      5000));
  dialog = find_map_dialog ();
  gtk_drop_down_set_selected (GTK_DROP_DOWN (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                             "app_dropdown")),
                              0);
  ui_set_text (dialog, MCR_TYPE_MAP_DIALOG, "remote_port_spin", "5900");
  ui_set_text (dialog, MCR_TYPE_MAP_DIALOG, "local_port_spin", "0");
  choose_device (dialog);
  /* Over the limit: flagged, and Add stays off. */
  ui_set_text (dialog, MCR_TYPE_MAP_DIALOG, "port_count_spin", "300");
  ui_settle (100);
  g_assert_true (gtk_widget_has_css_class (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                           "port_count_spin"),
                                           "error"));
  ui_set_text (dialog, MCR_TYPE_MAP_DIALOG, "port_count_spin", "3");
  ui_settle (100);
  g_assert_true (gtk_widget_is_sensitive (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                          "add_button")));
  ui_screenshot (GTK_WIDGET (dialog), "add-map-range");
  gtk_widget_activate_action (GTK_WIDGET (dialog), "map-dialog.add", NULL);
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (3), 10000));
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(McrPortMap) map = map_at (i);

      g_assert_cmpstr (mcr_port_map_get_spec (map)->node_id, ==, tb->node_id);
      g_assert_cmpuint (mcr_port_map_get_spec (map)->remote_port, ==, 5900 + i);
    }
  g_assert_true (mcr_test_wait_until (remembered_has, "\"remotePort\": 5902", 10000));
  g_assert_true (remembered_has ("\"remotePort\": 5901"));
  close_window ();
  g_unlink (path);
}

/* File names: one per server, port, domain and user, nothing outside the
 * folder. */
static void
test_file_names (void)
{
  g_autofree char *plain = mcr_map_store_file_name ("mesh.example.com", "admin");
  g_autofree char *full = mcr_map_store_file_name ("Mesh.Example.com:8443/lab", "a/../b c");

  g_assert_cmpstr (plain, ==, "mesh.example.com_443_-admin.mcrouter");
  g_assert_cmpstr (full, ==, "mesh.example.com_8443_lab-a_.._b_c.mcrouter");
  g_assert_null (strchr (full, '/'));
}

int
main (int argc, char **argv)
{
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  ui_init (&argc, &argv);
  settings = g_settings_new ("org.meshcentral.Router");
  g_settings_set_boolean (settings, "remember-maps", TRUE);
  store_dir = g_dir_make_tmp ("mcr-remember-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/ui/remember/file-names", test_file_names);
  g_test_add_func ("/ui/remember/maps-come-back", test_remember);
  g_test_add_func ("/ui/remember/range-from-dialog", test_range_from_dialog);
  status = g_test_run ();

  if (ui_app != NULL)
    {
      if (ui_window == NULL)
        ui_window = mcr_window_new (ui_app);
      ui_close_window ();
    }
  g_rmdir (store_dir);
  g_free (store_dir);
  return status;
}
