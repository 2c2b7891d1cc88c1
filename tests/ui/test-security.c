/* SPDX-License-Identifier: Apache-2.0
 *
 * What the window does with what it cannot trust, in-process against the
 * real testbed.
 *
 * Nothing from a file or a link is ever run as a command. The real window,
 * in-process against the real testbed, opens a .mcrouter file whose
 * mapping has a "launch" command, an app name and a map name that all point
 * at a script, and an mcrouter:// link with launch=, name= and appid= the
 * same: both log in and make their maps (so they were read through), and the
 * script, which would leave a marker file, never runs, not even when the
 * user opens the map.
 *
 * A map that listens on every interface (the setting) is marked as such in
 * its row; one on loopback (the default) is not. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>
#include <unistd.h>

#include "login-helpers.h"
#include "mcr-application.h"
#include "mcr-launcher.h"
#include "mcr-map-row.h"
#include "mcr-options.h"
#include "mcr-session.h"
#include "mcr-testbed.h"
#include "mcr-window.h"
#include "window-driver.h"

static char *dir;
static char *script;
static char *marker;

static gboolean
has_map_listening (gpointer data)
{
  GListModel *maps = mcr_session_get_maps (mcr_window_get_session (ui_window));

  for (guint i = 0; i < g_list_model_get_n_items (maps); i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);

      if (mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_LISTENING)
        return TRUE;
    }
  return FALSE;
}

static McrPortMap *
first_map (void)
{
  GListModel *maps = mcr_session_get_maps (mcr_window_get_session (ui_window));

  g_assert_cmpuint (g_list_model_get_n_items (maps), ==, 1);
  return g_list_model_get_item (maps, 0);
}

static void
on_launch_failed (McrSession *session,
                  const char *message,
                  GPtrArray  *messages)
{
  g_ptr_array_add (messages, g_strdup (message));
}

static gboolean
logged_out (gpointer data)
{
  return mcr_session_get_server (mcr_window_get_session (ui_window)) == NULL;
}

static void
log_out (void)
{
  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.logout", NULL);
  g_assert_true (mcr_test_wait_until (logged_out, NULL, 5000));
}

/* The script is there and would work: run by hand, it leaves the marker. */
static void
test_script_works (void)
{
  g_autofree char *out = NULL;
  const char *argv[] = { script, NULL };
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               NULL, &status, NULL));
  g_assert_true (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_unlink (marker);
}

static void
test_file (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrSession *session = mcr_window_get_session (ui_window);
  g_autofree char *path = g_build_filename (dir, "launch.mcrouter", NULL);
  g_autofree char *json = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(McrPortMap) map = NULL;
  g_autoptr(GError) error = NULL;
  gulong id;

  json = g_strdup_printf ("{\"hostname\":\"%s\",\"username\":\"%s\",\"password\":\"%s\","
                          "\"certhash\":\"%s\",\"mappings\":[{\"name\":\"%s\",\"nodeName\":\"%s\","
                          "\"nodeId\":\"%s\",\"appId\":0,\"appIdStr\":\"%s\",\"protocol\":1,"
                          "\"localPort\":0,\"remotePort\":7,\"launch\":\"%s\"}]}",
                          tb->address, tb->user, tb->password, tb->cert_hash, script,
                          tb->node_name, tb->node_id, script, script);
  g_assert_true (g_file_set_contents (path, json, -1, &error));
  id = g_signal_connect (session, "launch-failed", G_CALLBACK (on_launch_failed), failures);

  mcr_window_open (ui_window, file);
  g_assert_true (mcr_test_wait_until (has_map_listening, NULL, 60000));
  map = first_map ();
  g_assert_false (mcr_port_map_get_spec (map)->launch);
  g_assert_cmpstr (mcr_port_map_get_spec (map)->app_name, ==, script);
  ui_settle (1500);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));

  /* The user opens the map: its app is looked up among the user's own, and
   * there is none called that. */
  g_assert_false (mcr_session_open_map (session, map, NULL, &error));
  g_test_message ("opening the map: %s", error->message);
  g_assert_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NO_APP);
  ui_settle (1000);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));

  g_signal_handler_disconnect (session, id);
  log_out ();
  g_unlink (path);
}

static void
test_link (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrSession *session = mcr_window_get_session (ui_window);
  g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(McrPortMap) map = NULL;
  g_autofree char *cookie = NULL;
  g_autofree char *escaped_script = g_uri_escape_string (script, NULL, FALSE);
  g_autofree char *link = NULL;
  g_autoptr(GFile) file = NULL;
  gulong id;

  /* A fresh login cookie, as the web UI puts in its links. */
  cookie = test_link_cookie (tb);

  link = g_strdup_printf ("mcrouter://%s/control.ashx?c=%s&t=%s&l=en&nodeid=%s&remoteport=7"
                          "&protocol=1&appid=0&localport=0&name=%s&launch=%s",
                          tb->address, cookie, tb->cert_hash, tb->node_id, escaped_script,
                          escaped_script);
  file = g_file_new_for_uri (link);
  id = g_signal_connect (session, "launch-failed", G_CALLBACK (on_launch_failed), failures);

  mcr_window_open (ui_window, file);
  g_assert_true (mcr_test_wait_until (has_map_listening, NULL, 60000));
  map = first_map ();
  /* A link's map opens its app: a custom one without a program, here. */
  g_assert_true (mcr_port_map_get_spec (map)->launch);
  ui_settle (1500);
  for (guint i = 0; i < failures->len; i++)
    g_test_message ("launch failed: %s", (char *) g_ptr_array_index (failures, i));
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));

  g_signal_handler_disconnect (session, id);
  log_out ();
}

static gboolean
logged_in (gpointer data)
{
  McrServer *server = mcr_session_get_server (mcr_window_get_session (ui_window));

  return server != NULL && mcr_server_get_devices_loaded (server);
}

static gboolean
badge_visible (McrPortMap *map)
{
  GtkWidget *row = mcr_map_row_new ();
  GtkWidget *badge;
  gboolean visible;

  g_object_ref_sink (row);
  mcr_map_row_set_map (MCR_MAP_ROW (row), map);
  badge = GTK_WIDGET (gtk_widget_get_template_child (row, MCR_TYPE_MAP_ROW,
                                                     "all_interfaces_label"));
  visible = gtk_widget_get_visible (badge);
  mcr_map_row_set_map (MCR_MAP_ROW (row), NULL);
  g_object_unref (row);
  return visible;
}

static void
test_all_interfaces_marked (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrSession *session = mcr_window_get_session (ui_window);
  g_autoptr(GSettings) settings = g_settings_new ("org.meshcentral.Router");
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  McrPortMap *loopback, *everywhere;

  {
    g_autofree char *host = g_strdup_printf ("-host:%s", tb->address);
    g_autofree char *user = g_strdup_printf ("-user:%s", tb->user);
    g_autofree char *pass = g_strdup_printf ("-pass:%s", tb->password);
    g_autofree char *hash = g_strdup_printf ("-certhash:%s", tb->cert_hash);
    char *args[] = { "meshcentral-router", host, user, pass, hash, NULL };
    g_autoptr(McrOptions) options = mcr_options_parse (G_N_ELEMENTS (args) - 1, args, &error);

    g_assert_no_error (error);
    mcr_window_apply_options (ui_window, options);
  }
  g_assert_true (mcr_test_wait_until (logged_in, NULL, 60000));
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = 7;
  loopback = mcr_session_add_map (session, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mcr_port_map_get_all_interfaces (loopback));
  g_assert_false (badge_visible (loopback));

  /* Only for a moment, and only ever connected to over loopback. */
  g_settings_set_boolean (settings, "bind-all-interfaces", TRUE);
  spec->remote_port = 9;
  everywhere = mcr_session_add_map (session, spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mcr_port_map_get_all_interfaces (everywhere));
  g_assert_true (badge_visible (everywhere));
  g_settings_reset (settings, "bind-all-interfaces");

  mcr_session_remove_map (session, everywhere);
  mcr_session_remove_map (session, loopback);
  log_out ();
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  ui_init (&argc, &argv);

  dir = g_dir_make_tmp ("mcr-ui-security-XXXXXX", &error);
  g_assert_no_error (error);
  script = g_build_filename (dir, "run-me.sh", NULL);
  marker = g_build_filename (dir, "ran", NULL);
  {
    g_autofree char *text = g_strdup_printf ("#!/bin/sh\ntouch '%s'\n", marker);

    g_assert_true (g_file_set_contents (script, text, -1, &error));
    g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  }

  ui_open_window ();

  g_test_add_func ("/ui/security/script-works", test_script_works);
  g_test_add_func ("/ui/security/file-launch", test_file);
  g_test_add_func ("/ui/security/link-launch", test_link);
  g_test_add_func ("/ui/security/all-interfaces-marked", test_all_interfaces_marked);
  status = g_test_run ();

  ui_close_window ();
  g_unlink (marker);
  g_unlink (script);
  g_rmdir (dir);
  g_free (marker);
  g_free (script);
  g_free (dir);
  return status;
}
