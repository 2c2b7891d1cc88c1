/* SPDX-License-Identifier: Apache-2.0
 *
 * .mcrouter files and mcrouter:// links in the real window, in-process,
 * against the real testbed: a file on the command line logs in (its server,
 * user and certificate, the password from -pass:) and its maps carry bytes
 * exactly; Save Mappings writes every map with its device id, also maps
 * started by device name, and the file opens again to the same maps; a
 * link for the server we are logged into adds its map without a second
 * login, and with autoexit=1 ends the application once the connection
 * through it has ended; a file for another server asks first; a broken file
 * is refused and nothing running is touched.
 *
 * The tests run in order and share one window. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "mcr-application.h"
#include "mcr-login-page.h"
#include "mcr-map-file.h"
#include "mcr-testbed.h"
#include "mcr-window.h"
#include "window-driver.h"
#include "../integration/relay-test-util.h"

static char *work_dir;
static guint16 echo_port;

/* ---- helpers -------------------------------------------------------------- */

static McrSession *
session (void)
{
  return mcr_window_get_session (ui_window);
}

static McrServer *
server (void)
{
  return mcr_session_get_server (session ());
}

static guint
n_maps (void)
{
  return g_list_model_get_n_items (mcr_session_get_maps (session ()));
}

static McrPortMap *
map_at (guint i)
{
  g_autoptr(McrPortMap) map = g_list_model_get_item (mcr_session_get_maps (session ()), i);

  return map; /* the session keeps it */
}

static McrLoginPage *
login_page (void)
{
  return MCR_LOGIN_PAGE (ui_page ("login"));
}

static gboolean
map_listening (gpointer map)
{
  return mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_LISTENING;
}

/* @bytes through @map come back exactly. */
static void
assert_echoes (McrPortMap *map,
               guint64     bytes,
               guint32     seed)
{
  g_autoptr(TestPeer) peer = NULL;

  g_assert_true (mcr_test_wait_until (map_listening, map, 30000));
  peer = test_peer_connect (mcr_port_map_get_local_port (map), bytes, seed);
  if (!mcr_test_wait_until (test_peer_echoed, peer, 60000))
    g_error ("%" G_GUINT64_FORMAT " bytes sent, %" G_GUINT64_FORMAT " came back; the map "
             "sent %" G_GUINT64_FORMAT ", received %" G_GUINT64_FORMAT ", %u connections",
             peer->sent, peer->received, mcr_port_map_get_bytes_sent (map),
             mcr_port_map_get_bytes_received (map), mcr_port_map_get_n_connections (map));
  g_assert_no_error (peer->error);
  g_assert_true (test_peer_echo_matches (peer));
}

/* A file for @hostname (with @password, if not NULL) with one map by node
 * id to the echo service. */
static char *
echo_file (const char *name,
           const char *hostname,
           const char *password)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *pass = password != NULL ? g_strdup_printf ("\"password\": \"%s\", ", password)
                                           : g_strdup ("");
  g_autofree char *text =
    g_strdup_printf ("{\"hostname\": \"%s\", \"username\": \"%s\", %s\"certhash\": \"%s\", "
                     "\"mappings\": [{\"nodeName\": \"%s\", \"nodeId\": \"%s\", \"appId\": 0, "
                     "\"protocol\": 1, \"localPort\": 0, \"remotePort\": %u}]}",
                     hostname, tb->user, pass, tb->cert_hash, tb->node_name, tb->node_id,
                     echo_port);

  return mcr_test_write_file (work_dir, name, text);
}

static McrOptions *
parse (const char **args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  McrOptions *options;

  g_ptr_array_add (argv, "meshcentral-router");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  options = mcr_options_parse (argv->len - 1, (char **) argv->pdata, &error);
  g_assert_no_error (error);
  return options;
}

/* ---- tests ---------------------------------------------------------------- */

/* meshcentral-router office.mcrouter -pass:… -map:…: the file says where
 * and as whom (no -certhash: the file pins the certificate), the password
 * comes from the command line; the file's map and the -map: by device
 * name both start, and carry bytes exactly. */
static void
test_command_line_file (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *path = echo_file ("office.mcrouter", tb->address, NULL);
  g_autofree char *pass = g_strconcat ("-pass:", tb->password, NULL);
  g_autofree char *map = g_strdup_printf ("-map:TCP:0:%s:SSH:%u", tb->node_name, echo_port);
  char *writable_pass = g_strdup (pass);
  const char *args[] = { path, writable_pass, map, NULL };
  g_autoptr(McrOptions) options = parse (args);

  mcr_window_apply_options (ui_window, options);
  g_assert_cmpstr (mcr_login_page_get_server (login_page ()), ==, tb->address);
  g_assert_cmpstr (mcr_login_page_get_user (login_page ()), ==, tb->user);
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (2), 60000));
  ui_wait_page ("maps", 5000);
  assert_echoes (map_at (0), 1024 * 1024, 41);
  assert_echoes (map_at (1), 1024 * 1024, 42);
  g_free (writable_pass);
  g_unlink (path);
}

/* Save Mappings with a map that was started by device name only (as a
 * hand-written file or a -map: can): the file gets the device's id, name
 * and group, the server, the user and the pinned certificate; opened again
 * after the maps were removed, it brings the same maps back. */
static void
test_save_and_load (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrMapSpec) by_name = mcr_map_spec_new ();
  g_autofree char *path = g_build_filename (work_dir, "saved.mcrouter", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) saved = NULL;
  McrPortMap *map;
  GPtrArray *mappings;

  by_name->protocol = MCR_PROTOCOL_TCP;
  by_name->node_name = g_strdup (tb->node_name);
  by_name->app_id = MCR_APP_HTTP;
  by_name->remote_port = echo_port;
  map = mcr_session_add_map (session (), by_name, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (mcr_port_map_get_spec (map)->node_id);
  g_assert_cmpuint (n_maps (), ==, 3);

  g_assert_true (mcr_window_save_mappings (ui_window, file, &error));
  g_assert_no_error (error);
  saved = mcr_map_file_new_from_file (file, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mcr_map_file_get_hostname (saved), ==, tb->address);
  g_assert_cmpstr (mcr_map_file_get_username (saved), ==, tb->user);
  g_assert_cmpstr (mcr_map_file_get_certhash (saved), ==, tb->cert_hash);
  g_assert_null (mcr_map_file_get_password (saved));
  mappings = mcr_map_file_get_mappings (saved);
  g_assert_cmpuint (mappings->len, ==, 3);
  for (guint i = 0; i < mappings->len; i++)
    {
      McrMapSpec *spec = g_ptr_array_index (mappings, i);

      g_assert_cmpstr (spec->node_id, ==, tb->node_id);
      g_assert_cmpstr (spec->node_name, ==, tb->node_name);
      g_assert_cmpstr (spec->mesh_id, ==, tb->mesh_id);
      g_assert_cmpuint (spec->remote_port, ==, echo_port);
    }
  g_assert_cmpint (((McrMapSpec *) g_ptr_array_index (mappings, 2))->app_id, ==, MCR_APP_HTTP);

  /* Opened again (as a file dropped or opened from the menu): identical
   * maps are kept as they are, so remove them first. */
  mcr_session_remove_all_maps (session ());
  mcr_window_open (ui_window, file);
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (3), 20000));
  g_assert_cmpint (mcr_port_map_get_spec (map_at (2))->app_id, ==, MCR_APP_HTTP);
  assert_echoes (map_at (2), 256 * 1024, 43);
  g_unlink (path);
}

static gboolean
has_auth_cookie (gpointer data)
{
  return mcr_server_get_auth_cookie (server ()) != NULL;
}

static void
on_auto_exit (McrSession *s,
              gint64     *when)
{
  *when = g_get_monotonic_time ();
}

static gboolean
flag_set (gpointer data)
{
  return *(gint64 *) data != 0;
}

/* The web UI's link for the server we are logged into, with an automatic
 * map and autoexit=1: the map is added to this login (the same server
 * object: no second login), carries bytes, and once the connection through
 * it has ended (and none came for a while) the application is told to
 * quit. */
static void
test_link_same_server (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrServer *before = server ();
  g_autofree char *cookie = NULL;
  g_autofree char *link = NULL;
  g_autoptr(GFile) file = NULL;
  guint n = n_maps ();
  gint64 closed, exit_at = 0;
  McrPortMap *map;
  gulong id;

  g_assert_true (mcr_test_wait_until (has_auth_cookie, NULL, 20000));
  cookie = g_uri_escape_string (mcr_server_get_auth_cookie (before), NULL, FALSE);
  link = g_strdup_printf ("mcrouter://%s/control.ashx?c=%s&t=%s&l=en&nodeid=%s&protocol=1"
                          "&remoteport=%u&remoteip=127.0.0.1&appid=0&autoexit=1&name=Echo",
                          tb->address, cookie, tb->cert_hash, tb->node_id, echo_port);
  /* As GApplication hands it over from a second launch. */
  file = g_file_new_for_uri (link);
  id = g_signal_connect (session (), "auto-exit", G_CALLBACK (on_auto_exit), &exit_at);
  mcr_window_open (ui_window, file);
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (n + 1), 20000));
  g_assert_true (server () == before);
  g_assert_cmpint (mcr_server_get_state (before), ==, MCR_SERVER_STATE_CONNECTED);
  map = map_at (n);
  g_assert_true (mcr_port_map_get_spec (map)->auto_exit);
  g_assert_cmpstr (mcr_port_map_get_spec (map)->name, ==, "Echo");

  assert_echoes (map, 128 * 1024, 44);
  closed = g_get_monotonic_time ();
  g_assert_true (mcr_test_wait_until (flag_set, &exit_at, 20000));
  g_assert_cmpint (exit_at - closed, >=, (MCR_AUTO_EXIT_GRACE_S - 1) * G_USEC_PER_SEC);
  g_signal_handler_disconnect (session (), id);
  mcr_session_remove_map (session (), map);
}

/* A broken file while logged in: refused with its name and the problem;
 * the login and its maps stay as they were. */
static void
test_broken_file (void)
{
  McrServer *before = server ();
  g_autofree char *path = mcr_test_write_file (work_dir, "broken.mcrouter",
                                               "{\"hostname\": \"x\", \"mappings\": 3");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  guint n = n_maps ();

  mcr_window_open (ui_window, file);
  g_assert_true (mcr_test_wait_until (ui_banner_has, "broken.mcrouter: not valid JSON", 10000));
  g_assert_true (server () == before);
  g_assert_cmpuint (n_maps (), ==, n);
  g_unlink (path);
}

static GtkWindow *
switch_dialog (void)
{
#if GTK_CHECK_VERSION (4, 10, 0)
  return NULL;
#else
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      if (GTK_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return GTK_WINDOW (w);
      G_GNUC_END_IGNORE_DEPRECATIONS
    }
  return NULL;
#endif
}

static gboolean
switch_asked (gpointer data)
{
#if GTK_CHECK_VERSION (4, 10, 0)
  GActionGroup *actions = gtk_widget_get_action_group (GTK_WIDGET (ui_window), "win");

  return g_action_group_get_action_enabled (actions, "switch-server");
#else
  return switch_dialog () != NULL;
#endif
}

/* Answers the dialog as the user would: its buttons on GTK 4.8, the
 * actions they run on newer GTK (whose GtkAlertDialog is not a widget). */
static void
answer_switch (gboolean accept)
{
#if GTK_CHECK_VERSION (4, 10, 0)
  gtk_widget_activate_action (GTK_WIDGET (ui_window), accept ? "win.switch-server"
                                                          : "win.keep-server", NULL);
#else
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_dialog_response (GTK_DIALOG (switch_dialog ()), accept ? GTK_RESPONSE_ACCEPT
                                                             : GTK_RESPONSE_CANCEL);
  G_GNUC_END_IGNORE_DEPRECATIONS
#endif
}

static gboolean
logged_into (gpointer display_name)
{
  return server () != NULL && mcr_server_get_state (server ()) == MCR_SERVER_STATE_CONNECTED
         && g_strcmp0 (mcr_server_get_display_name (server ()), display_name) == 0;
}

/* A file for another server (here the same testbed under the name
 * localhost) while logged in: a dialog asks. Cancel keeps the login and its
 * maps; Log Out and Connect stops them and logs into the file's server with
 * the password it holds, and starts its map. */
static void
test_other_server (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *other = g_strdup_printf ("localhost:%u", tb->port);
  g_autofree char *path = echo_file ("elsewhere.mcrouter", other, tb->password);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  McrServer *before = server ();
  guint n = n_maps ();
  g_autofree char *question = NULL;

  g_assert_cmpuint (n, >, 0);
  mcr_window_open (ui_window, file);
  g_assert_true (mcr_test_wait_until (switch_asked, NULL, 10000));
#if !GTK_CHECK_VERSION (4, 10, 0)
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  g_object_get (switch_dialog (), "text", &question, NULL);
  G_GNUC_END_IGNORE_DEPRECATIONS
  {
    g_autofree char *want = g_strdup_printf ("Log out of %s and connect to %s?", tb->address,
                                             other);

    g_assert_cmpstr (question, ==, want);
  }
#endif
  answer_switch (FALSE);
  g_assert_true (ui_banner_has ("elsewhere.mcrouter was not opened"));
  g_assert_true (server () == before);
  g_assert_cmpuint (n_maps (), ==, n);
  g_assert_null (switch_dialog ());

  mcr_window_open (ui_window, file);
  g_assert_true (mcr_test_wait_until (switch_asked, NULL, 10000));
  answer_switch (TRUE);
  g_assert_true (mcr_test_wait_until (logged_into, other, 60000));
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (1), 30000));
  assert_echoes (map_at (0), 256 * 1024, 45);
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  ui_init (&argc, &argv);
  echo_port = mcr_test_echo_server_start (NULL);
  work_dir = g_dir_make_tmp ("mcr-ui-files-XXXXXX", &error);
  g_assert_no_error (error);
  ui_open_window ();

  g_test_add_func ("/ui/files/command-line-file", test_command_line_file);
  g_test_add_func ("/ui/files/save-and-load", test_save_and_load);
  g_test_add_func ("/ui/files/link-same-server", test_link_same_server);
  g_test_add_func ("/ui/files/broken-file", test_broken_file);
  g_test_add_func ("/ui/files/other-server", test_other_server);
  status = g_test_run ();

  ui_close_window ();
  g_rmdir (work_dir);
  g_free (work_dir);
  return status;
}
