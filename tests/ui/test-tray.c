/* SPDX-License-Identifier: Apache-2.0
 *
 * The tray icon, for real: this program plays the desktop's panel, an
 * org.kde.StatusNotifierWatcher on a private session bus (tests/meson.build
 * runs it under dbus-run-session), on a connection of its own. The item
 * registers with it; its properties and its menu are read over D-Bus as a
 * panel reads them (GetLayout); the menu lists the maps, made against the
 * real testbed, with their states; clicking (Event "clicked") a map's Open
 * runs its app, Show Window shows the window that closing hid into the
 * icon, and Quit ends g_application_run(). A watcher that leaves the bus
 * and comes back (the panel restarted) gets the item again. Last, -tray as
 * started at login: no window, the icon, and logged in to the last server
 * with the password from the keyring (tests/meson.build runs this program
 * with a keyring of its own, run-with-keyring.sh).
 *
 * The tests run in order and share one application. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <stdlib.h>
#include <string.h>

#include "login-helpers.h"
#include "mcr-application.h"
#include "mcr-secret-store.h"
#include "mcr-test-bus.h"
#include "mcr-test-router.h"
#include "mcr-testbed.h"
#include "mcr-tray.h"
#include "mcr-window.h"
#include "window-driver.h"

static GDBusConnection *panel;   /* the watcher's own connection */
static guint watcher_owner_id;
static char *item_service;       /* the unique name that registered */
static char *item_path;          /* what it registered */
static char *work_dir;
static guint16 echo_port;

/* ---- the watcher ------------------------------------------------------------ */

static void
watcher_method (GDBusConnection       *connection,
                const char            *sender,
                const char            *path,
                const char            *interface,
                const char            *method,
                GVariant              *parameters,
                GDBusMethodInvocation *invocation,
                gpointer               data)
{
  if (g_str_equal (method, "RegisterStatusNotifierItem"))
    {
      g_free (item_path);
      g_variant_get (parameters, "(s)", &item_path);
      g_free (item_service);
      item_service = g_strdup (sender);
      g_test_message ("watcher: %s registered %s", sender, item_path);
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static GVariant *
watcher_property (GDBusConnection *connection,
                  const char      *sender,
                  const char      *path,
                  const char      *interface,
                  const char      *name,
                  GError         **error,
                  gpointer         data)
{
  if (g_str_equal (name, "IsStatusNotifierHostRegistered"))
    return g_variant_new_boolean (TRUE);
  if (g_str_equal (name, "ProtocolVersion"))
    return g_variant_new_int32 (0);
  return g_variant_new_strv (NULL, 0);
}

static void
watcher_own_name (void)
{
  watcher_owner_id = mcr_test_bus_own_name (panel, "org.kde.StatusNotifierWatcher");
}

static void
watcher_start (void)
{
  static const char xml[] =
    "<node><interface name='org.kde.StatusNotifierWatcher'>"
    "<method name='RegisterStatusNotifierItem'><arg type='s' direction='in'/></method>"
    "<method name='RegisterStatusNotifierHost'><arg type='s' direction='in'/></method>"
    "<property name='RegisteredStatusNotifierItems' type='as' access='read'/>"
    "<property name='IsStatusNotifierHostRegistered' type='b' access='read'/>"
    "<property name='ProtocolVersion' type='i' access='read'/>"
    "</interface></node>";
  static const GDBusInterfaceVTable vtable = { watcher_method, watcher_property, NULL, { 0 } };

  panel = mcr_test_bus_connect ();
  mcr_test_bus_export (panel, "/StatusNotifierWatcher", xml, &vtable, NULL);
  watcher_own_name ();
}

/* ---- talking to the item, as a panel does -------------------------------- */

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* @method of @interface on the item's connection at @path: asynchronously,
 * as the application answers from this very main loop. */
static GVariant *
panel_call (const char *path,
            const char *interface,
            const char *method,
            GVariant   *parameters,
            const char *reply_type)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  g_dbus_connection_call (panel, item_service, path, interface, method, parameters,
                          reply_type ? G_VARIANT_TYPE (reply_type) : NULL,
                          G_DBUS_CALL_FLAGS_NONE, 10000, NULL, got_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  reply = g_dbus_connection_call_finish (panel, result, &error);
  g_assert_no_error (error);
  return reply;
}

static GVariant *
item_property (const char *name)
{
  g_autoptr(GVariant) reply =
    panel_call (item_path, "org.freedesktop.DBus.Properties", "Get",
                g_variant_new ("(ss)", "org.kde.StatusNotifierItem", name), "(v)");
  GVariant *value;

  g_variant_get (reply, "(v)", &value);
  return value;
}

/* The menu as text, one item a line, indented by level:
 * "<id> <label> [submenu] [disabled]". */
static void
print_layout (GString  *out,
              GVariant *item,
              guint     level)
{
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) children = NULL;
  const char *label = NULL;
  const char *type = NULL;
  const char *display = NULL;
  gboolean enabled = TRUE;
  int id;

  g_variant_get (item, "(i@a{sv}@av)", &id, &props, &children);
  g_variant_lookup (props, "label", "&s", &label);
  g_variant_lookup (props, "type", "&s", &type);
  g_variant_lookup (props, "children-display", "&s", &display);
  g_variant_lookup (props, "enabled", "b", &enabled);
  for (guint i = 0; i < level; i++)
    g_string_append (out, "  ");
  g_string_append_printf (out, "%d %s%s%s\n", id,
                          label ? label : (type ? type : ""),
                          display ? " [submenu]" : "", enabled ? "" : " [disabled]");
  for (gsize i = 0; i < g_variant_n_children (children); i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (children, i);
      g_autoptr(GVariant) child = g_variant_get_variant (boxed);

      print_layout (out, child, level + 1);
    }
}

static char *
menu_text (void)
{
  g_autoptr(GVariant) menu_path = item_property ("Menu");
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) layout = NULL;
  GString *out = g_string_new (NULL);
  guint revision;

  reply = panel_call (g_variant_get_string (menu_path, NULL), "com.canonical.dbusmenu",
                      "GetLayout", g_variant_new ("(ii@as)", 0, -1, g_variant_new_strv (NULL, 0)),
                      "(u(ia{sv}av))");
  g_variant_get (reply, "(u@(ia{sv}av))", &revision, &layout);
  print_layout (out, layout, 0);
  g_test_message ("menu, revision %u:\n%s", revision, out->str);
  return g_string_free (out, FALSE);
}

/* The id of the item whose line has @text (after the id), or g_error(). */
static int
menu_id_of (const char *text)
{
  g_autofree char *menu = menu_text ();
  g_auto(GStrv) lines = g_strsplit (menu, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], text) != NULL)
      return atoi (g_strchug (lines[i]));
  g_error ("no menu item with “%s” in:\n%s", text, menu);
  return -1;
}

static void
click (int id)
{
  g_autoptr(GVariant) menu_path = item_property ("Menu");
  g_autoptr(GVariant) reply =
    panel_call (g_variant_get_string (menu_path, NULL), "com.canonical.dbusmenu", "Event",
                g_variant_new ("(isvu)", id, "clicked", g_variant_new_int32 (0), 0), NULL);
}

/* ---- the application ------------------------------------------------------ */

static gboolean
have_item (gpointer data)
{
  return item_path != NULL;
}

static gboolean
window_visible (gpointer data)
{
  return ui_window != NULL
         && gtk_widget_get_visible (GTK_WIDGET (ui_window)) == GPOINTER_TO_INT (data);
}

static gboolean
file_exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static gboolean
map_is_listening (gpointer map)
{
  return mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_LISTENING;
}

static gboolean
map_is_stopped (gpointer map)
{
  return mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_STOPPED;
}

static gboolean
device_online (gpointer node_id)
{
  GListModel *devices = mcr_server_get_devices (mcr_session_get_server (mcr_window_get_session (ui_window)));

  for (guint i = 0; i < g_list_model_get_n_items (devices); i++)
    {
      g_autoptr(McrDevice) d = g_list_model_get_item (devices, i);

      if (g_str_equal (mcr_device_get_id (d), node_id) && mcr_device_get_online (d))
        return TRUE;
    }
  return FALSE;
}

/* Activated as the desktop starts it: the window and the icon. */
static void
test_registers (void)
{
  g_autoptr(GVariant) id = NULL;
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GVariant) icon = NULL;
  g_autofree char *menu = NULL;

  ui_app = mcr_application_new (NULL);
  g_application_set_flags (G_APPLICATION (ui_app),
                           g_application_get_flags (G_APPLICATION (ui_app))
                           | G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (ui_app), NULL, NULL));
  g_application_activate (G_APPLICATION (ui_app));
  ui_window = MCR_WINDOW (gtk_application_get_windows (GTK_APPLICATION (ui_app))->data);

  g_assert_true (mcr_test_wait_until (have_item, NULL, 10000));
  g_assert_cmpstr (item_path, ==, MCR_TRAY_ITEM_PATH);
  g_assert_cmpstr (item_service, ==,
                   g_dbus_connection_get_unique_name (
                     g_application_get_dbus_connection (G_APPLICATION (ui_app))));
  id = item_property ("Id");
  g_assert_cmpstr (g_variant_get_string (id, NULL), ==, "org.meshcentral.Router");
  status = item_property ("Status");
  g_assert_cmpstr (g_variant_get_string (status, NULL), ==, "Active");
  icon = item_property ("IconName");
  g_assert_true (g_str_has_prefix (g_variant_get_string (icon, NULL), "org.meshcentral.Router"));

  /* Logged out: Show Window and Quit, no maps and no Pause. */
  menu = menu_text ();
  g_assert_nonnull (strstr (menu, "_Show Window"));
  g_assert_nonnull (strstr (menu, "_Quit"));
  g_assert_null (strstr (menu, "Pause"));
}

/* Logged in with a map to a custom app (touch, writing a file named after
 * the port): the menu lists it with its state, and its Open runs the app. */
static void
test_maps_and_open (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GSettings) settings = g_settings_new ("org.meshcentral.Router");
  g_autoptr(McrOptions) options = g_new0 (McrOptions, 1);
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *arguments = g_build_filename (work_dir, "opened-%P", NULL);
  g_autofree char *opened = NULL;
  g_autofree char *ready = NULL;
  g_autofree char *menu = NULL;
  char *hashes[] = { tb->cert_hash, NULL };
  McrPortMap *map;
  int open_id;

  g_settings_set_value (settings, "custom-apps",
                        g_variant_new_parsed ("[('Touch', 'touch', %s, 'TCP')]", arguments));
  options->certhashes = hashes;
  mcr_window_apply_options (ui_window, options);
  options->certhashes = NULL;
  mcr_window_login (ui_window, tb->address, tb->user, tb->password);
  g_assert_true (mcr_test_wait_until (ui_page_is, "devices", 30000));
  g_assert_true (mcr_test_wait_until (device_online, tb->node_id, 30000));

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup (tb->node_id);
  spec->node_name = g_strdup (tb->node_name);
  spec->remote_port = echo_port;
  spec->app_id = MCR_APP_CUSTOM;
  spec->app_name = g_strdup ("Touch");
  map = mcr_session_add_map (mcr_window_get_session (ui_window), spec, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mcr_test_wait_until (map_is_listening, map, 30000));

  ready = g_strdup_printf ("%s (Touch): Ready [submenu]", tb->node_name);
  menu = menu_text ();
  g_assert_nonnull (strstr (menu, ready));
  g_assert_nonnull (strstr (menu, "_Pause All Maps"));
  open_id = menu_id_of ("_Open");
  g_assert_cmpint (open_id, ==, menu_id_of (ready) + 1);

  opened = g_strdup_printf ("%s/opened-%u", work_dir, mcr_port_map_get_local_port (map));
  click (open_id);
  g_assert_true (mcr_test_wait_until (file_exists, opened, 20000));
}

/* Pause stops every map (listed as stopped), Resume starts them again. */
static void
test_pause (void)
{
  g_autoptr(McrPortMap) map = g_list_model_get_item (mcr_session_get_maps (mcr_window_get_session (ui_window)), 0);
  g_autofree char *paused = NULL;
  g_autofree char *resumed = NULL;

  click (menu_id_of ("_Pause All Maps"));
  g_assert_true (mcr_test_wait_until (map_is_stopped, map, 10000));
  paused = menu_text ();
  g_assert_nonnull (strstr (paused, ": Stopped [submenu]"));
  g_assert_nonnull (strstr (paused, "_Resume All Maps"));
  g_assert_cmpuint (mcr_session_get_n_active_maps (mcr_window_get_session (ui_window)), ==, 0);

  click (menu_id_of ("_Resume All Maps"));
  g_assert_true (mcr_test_wait_until (map_is_listening, map, 10000));
  resumed = menu_text ();
  g_assert_nonnull (strstr (resumed, "_Pause All Maps"));
}

/* With the icon there, closing the window hides it into the icon (no
 * notification); Show Window brings it back. */
static void
test_close_and_show (void)
{
  gtk_window_close (GTK_WINDOW (ui_window));
  g_assert_true (mcr_test_wait_until (window_visible, GINT_TO_POINTER (FALSE), 5000));
  g_assert_nonnull (gtk_application_get_windows (GTK_APPLICATION (ui_app)));

  click (menu_id_of ("_Show Window"));
  g_assert_true (mcr_test_wait_until (window_visible, GINT_TO_POINTER (TRUE), 5000));
}

/* The panel restarts: its new watcher gets the item again. */
static void
test_watcher_restart (void)
{
  g_bus_unown_name (watcher_owner_id);
  g_clear_pointer (&item_path, g_free);
  ui_settle (300);
  g_assert_null (item_path);
  watcher_own_name ();
  g_assert_true (mcr_test_wait_until (have_item, NULL, 10000));
  g_assert_cmpstr (item_path, ==, MCR_TRAY_ITEM_PATH);
}

static gboolean
click_quit_idle (gpointer data)
{
  click (menu_id_of ("_Quit"));
  return G_SOURCE_REMOVE;
}

static gboolean
watchdog (gpointer data)
{
  *(gboolean *) data = TRUE;
  g_application_quit (G_APPLICATION (ui_app));
  return G_SOURCE_REMOVE;
}

/* Quit in the menu ends the running application, maps and all. */
static void
test_quit (void)
{
  gboolean timed_out = FALSE;
  guint timer;
  int status;

  g_idle_add (click_quit_idle, NULL);
  timer = g_timeout_add_seconds (60, watchdog, &timed_out);
  status = g_application_run (G_APPLICATION (ui_app), 0, NULL);
  g_assert_false (timed_out);
  g_source_remove (timer);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (ui_app)));
  ui_window = NULL;
  g_clear_object (&ui_app);
}

static void
saved (GObject      *source,
       GAsyncResult *result,
       gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mcr_secret_store_save_finish (MCR_SECRET_STORE (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) data = TRUE;
}

/* -tray with nothing else, as the autostart entry runs it: the last server
 * and user, the password from the keyring; no window shown, the icon. */
static void
test_tray_login_from_keyring (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GSettings) settings = g_settings_new ("org.meshcentral.Router");
  g_autoptr(McrSecretStore) secrets = mcr_secret_store_new ();
  McrOptions *options = g_new0 (McrOptions, 1);
  gboolean done = FALSE;

  mcr_secret_store_save_async (secrets, tb->address, tb->user, MCR_SECRET_KIND_PASSWORD,
                               tb->password, NULL, saved, &done);
  g_assert_true (mcr_test_wait_flag (&done, 10000));
  g_settings_set_string (settings, "last-server", tb->address);
  g_settings_set_string (settings, "last-user", tb->user);
  g_settings_set_boolean (settings, "remember-password", TRUE);
  g_settings_set_value (settings, "trusted-certificates",
                        g_variant_new_parsed ("{%s: %s}", tb->address, tb->cert_hash));

  options->tray = TRUE;
  g_clear_pointer (&item_path, g_free);
  ui_app = mcr_application_new (options);
  g_application_set_flags (G_APPLICATION (ui_app),
                           g_application_get_flags (G_APPLICATION (ui_app))
                           | G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (ui_app), NULL, NULL));
  g_application_activate (G_APPLICATION (ui_app));
  ui_window = MCR_WINDOW (gtk_application_get_windows (GTK_APPLICATION (ui_app))->data);

  g_assert_true (mcr_test_wait_until (have_item, NULL, 10000));
  g_assert_true (mcr_test_wait_until (ui_page_is, "devices", 30000));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (ui_window)));

  g_application_release (G_APPLICATION (ui_app));   /* the -tray hold */
  ui_close_window ();
}

int
main (int argc, char **argv)
{
  int status;

  g_setenv ("GTK_A11Y", "none", TRUE);
  ui_init (&argc, &argv);
  work_dir = g_dir_make_tmp ("mcr-tray-XXXXXX", NULL);
  watcher_start ();
  echo_port = mcr_test_echo_server_start (NULL);

  g_test_add_func ("/ui/tray/registers", test_registers);
  g_test_add_func ("/ui/tray/maps-and-open", test_maps_and_open);
  g_test_add_func ("/ui/tray/pause", test_pause);
  g_test_add_func ("/ui/tray/close-and-show", test_close_and_show);
  g_test_add_func ("/ui/tray/watcher-restart", test_watcher_restart);
  g_test_add_func ("/ui/tray/quit", test_quit);
  g_test_add_func ("/ui/tray/login-from-keyring", test_tray_login_from_keyring);
  status = g_test_run ();

  mcr_test_remove_tree (work_dir);
  g_free (work_dir);
  g_free (item_path);
  g_free (item_service);
  g_clear_object (&panel);
  return status;
}
