/* SPDX-License-Identifier: Apache-2.0
 *
 * Desktop integration, for real: the application registers as
 * org.meshcentral.Router on a private session bus (tests/meson.build runs
 * this program under dbus-run-session), where this program also plays the
 * desktop's notification server (org.gtk.Notifications, which GNOME Shell
 * and the notification portal offer) on a connection of its own. Second
 * instances are the built meshcentral-router, started as a user or the
 * desktop would. Maps run against the real testbed.
 *
 * The tests run in order and share one application. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <unistd.h>

#include "login-helpers.h"
#include "mcr-application.h"
#include "mcr-notifier.h"
#include "mcr-test-router.h"
#include "mcr-testbed.h"
#include "mcr-window.h"
#include "window-driver.h"

static guint16 echo_port;

/* ---- the notification server ---------------------------------------------- */

typedef struct
{
  char     *method;        /* "AddNotification" or "RemoveNotification" */
  char     *app_id;
  char     *id;
  GVariant *notification;  /* a{sv}, for AddNotification */
} Call;

static GDBusConnection *shell;    /* the notification server's own connection */
static GPtrArray *calls;          /* Call */

static void
call_free (Call *call)
{
  g_free (call->method);
  g_free (call->app_id);
  g_free (call->id);
  g_clear_pointer (&call->notification, g_variant_unref);
  g_free (call);
}

static void
notifications_method (GDBusConnection       *connection,
                      const char            *sender,
                      const char            *path,
                      const char            *interface,
                      const char            *method,
                      GVariant              *parameters,
                      GDBusMethodInvocation *invocation,
                      gpointer               data)
{
  Call *call = g_new0 (Call, 1);
  g_autofree char *text = NULL;

  call->method = g_strdup (method);
  if (g_str_equal (method, "AddNotification"))
    g_variant_get (parameters, "(ss@a{sv})", &call->app_id, &call->id, &call->notification);
  else
    g_variant_get (parameters, "(ss)", &call->app_id, &call->id);
  if (call->notification != NULL)
    text = g_variant_print (call->notification, FALSE);
  g_test_message ("notification server: %s %s %s %s", method, call->app_id, call->id,
                  text != NULL ? text : "");
  g_ptr_array_add (calls, call);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
name_acquired (GDBusConnection *connection,
               const char      *name,
               gpointer         data)
{
  *(gboolean *) data = TRUE;
}

static void
notification_server_start (void)
{
  static const char xml[] =
    "<node><interface name='org.gtk.Notifications'>"
    "<method name='AddNotification'><arg type='s'/><arg type='s'/><arg type='a{sv}'/></method>"
    "<method name='RemoveNotification'><arg type='s'/><arg type='s'/></method>"
    "</interface></node>";
  static const GDBusInterfaceVTable vtable = { notifications_method };
  static gboolean acquired;
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (xml, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);

  g_assert_no_error (error);
  shell = g_dbus_connection_new_for_address_sync (address,
                                                  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                  | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                  NULL, NULL, &error);
  g_assert_no_error (error);
  calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
  g_dbus_connection_register_object (shell, "/org/gtk/Notifications", info->interfaces[0],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  g_bus_own_name_on_connection (shell, "org.gtk.Notifications", G_BUS_NAME_OWNER_FLAGS_NONE,
                                name_acquired, NULL, &acquired, NULL);
  g_assert_true (mcr_test_wait_flag (&acquired, 10000));
}

typedef struct
{
  const char *method;
  const char *id;       /* the notification id, or its start with @prefix */
  gboolean    prefix;
  guint       from;
} CallQuery;

static Call *
find_call (const CallQuery *query)
{
  for (guint i = query->from; i < calls->len; i++)
    {
      Call *call = g_ptr_array_index (calls, i);

      if (g_str_equal (call->method, query->method)
          && (query->prefix ? g_str_has_prefix (call->id, query->id)
                            : g_str_equal (call->id, query->id)))
        return call;
    }
  return NULL;
}

static gboolean
have_call (gpointer data)
{
  return find_call (data) != NULL;
}

/* The next @method for notification @id after call number @from. */
static Call *
wait_call (const char *method,
           const char *id,
           guint       from,
           guint       timeout_ms)
{
  CallQuery query = { method, id, FALSE, from };

  if (!mcr_test_wait_until (have_call, &query, timeout_ms))
    g_error ("no %s for notification %s", method, id);
  return find_call (&query);
}

static Call *
wait_call_prefix (const char *method,
                  const char *prefix,
                  guint       from,
                  guint       timeout_ms)
{
  CallQuery query = { method, prefix, TRUE, from };

  if (!mcr_test_wait_until (have_call, &query, timeout_ms))
    g_error ("no %s for a notification %s…", method, prefix);
  return find_call (&query);
}

static const char *
note_string (Call       *call,
             const char *key)
{
  const char *value = NULL;

  g_assert_nonnull (call->notification);
  g_variant_lookup (call->notification, key, "&s", &value);
  return value;
}

/* The actions of the notification's buttons, joined with |. */
static char *
note_buttons (Call *call)
{
  g_autoptr(GVariant) buttons = g_variant_lookup_value (call->notification, "buttons",
                                                        G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr(GString) out = g_string_new (NULL);
  GVariantIter iter;
  GVariant *button;

  g_assert_nonnull (buttons);
  g_variant_iter_init (&iter, buttons);
  while ((button = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *action = NULL;

      g_variant_lookup (button, "action", "&s", &action);
      g_string_append_printf (out, "%s%s", out->len > 0 ? "|" : "", action);
      g_variant_unref (button);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* What GNOME Shell does when a notification or one of its buttons is
 * clicked: org.freedesktop.Application.ActivateAction on the application. */
static void
shell_activate_action (const char *action)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder parameter;
  GVariantBuilder platform;
  g_autoptr(GAsyncResult) result = NULL;

  g_variant_builder_init (&parameter, G_VARIANT_TYPE ("av"));
  g_variant_builder_init (&platform, G_VARIANT_TYPE_VARDICT);
  /* Asynchronously: the application answers from this very main loop. */
  g_dbus_connection_call (shell, "org.meshcentral.Router", "/org/meshcentral/Router",
                          "org.freedesktop.Application", "ActivateAction",
                          g_variant_new ("(sava{sv})", action, &parameter, &platform),
                          NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, got_result, &result);
  /* The call's own timeout is 10 s: it comes, as a reply or an error. */
  mcr_test_assert_wait (result != NULL, 30000);
  reply = g_dbus_connection_call_finish (shell, result, &error);
  g_assert_no_error (error);
}

/* ---- processes ----------------------------------------------------------- */

typedef struct
{
  GSubprocess *process;
  gboolean     exited;
  int          status;
} Router;

static void
router_exited (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  Router *router = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  router->status = g_subprocess_get_exit_status (G_SUBPROCESS (source));
  router->exited = TRUE;
}

/* meshcentral-router ARGS…, its output to our stderr (not into TAP). */
static void
router_start (Router      *router,
              const char  *password,
              const char **args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);

  if (password != NULL)
    g_subprocess_launcher_setenv (launcher, "MCROUTER_PASSWORD", password, TRUE);
  router->exited = FALSE;
  router->process = mcr_test_router_spawn (launcher, args);
  g_subprocess_wait_async (router->process, NULL, router_exited, router);
}

static int
router_wait (Router *router,
             guint   timeout_ms)
{
  if (!mcr_test_wait_flag (&router->exited, timeout_ms))
    g_error ("meshcentral-router did not exit");
  g_clear_object (&router->process);
  return router->status;
}

/* A second `meshcentral-router ARGS…`: it hands over and exits. */
static void
second_instance (const char **args)
{
  Router router = { 0 };

  router_start (&router, NULL, args);
  g_assert_cmpint (router_wait (&router, 60000), ==, 0);
}

/* xdotool: does process @pid show a window? -1 when xdotool is missing. */
static int
pid_has_visible_window (GPid pid)
{
  g_autofree char *path = g_find_program_in_path ("xdotool");
  g_autofree char *pid_arg = g_strdup_printf ("%d", (int) pid);
  const char *argv[] = { "xdotool", "search", "--onlyvisible", "--pid", pid_arg, NULL };
  int status = 0;

  if (path == NULL)
    return -1;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                               | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, NULL));
  return g_spawn_check_wait_status (status, NULL) ? 1 : 0;
}

static gboolean
visible_window_of (gpointer data)
{
  return pid_has_visible_window (GPOINTER_TO_INT (data)) == 1;
}

static gboolean
bus_has_router (void)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean has = FALSE;

  reply = g_dbus_connection_call_sync (shell, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", "org.meshcentral.Router"),
                                       G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       NULL);
  g_assert_nonnull (reply);
  g_variant_get (reply, "(b)", &has);
  return has;
}

/* ---- maps ---------------------------------------------------------------- */

typedef struct
{
  char     buffer[64];
  gssize   got;
  gboolean done;
} Read;

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Read *read = data;

  read->got = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  read->done = TRUE;
}

/* Bytes sent to 127.0.0.1:@port come back through the agent. */
static gboolean
echoes (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  const char *hello = "hello from the background";
  Read read = { .got = -1 };

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (connection == NULL
      || !g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                     hello, strlen (hello), NULL, NULL, NULL))
    return FALSE;
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                             read.buffer, sizeof read.buffer, G_PRIORITY_DEFAULT, cancellable,
                             read_done, &read);
  if (!mcr_test_wait_flag (&read.done, 15000))
    {
      g_cancellable_cancel (cancellable);
      mcr_test_wait_flag (&read.done, 5000);
      return FALSE;
    }
  return read.got == (gssize) strlen (hello) && memcmp (read.buffer, hello, read.got) == 0;
}

static gboolean
echoes_soon (gpointer data)
{
  return echoes (GPOINTER_TO_UINT (data));
}

static McrSession *
session (void)
{
  return mcr_window_get_session (ui_window);
}

static guint
n_maps (void)
{
  return g_list_model_get_n_items (mcr_session_get_maps (session ()));
}

static McrPortMap *
add_echo_map (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  McrPortMap *map;

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup (tb->node_id);
  spec->node_name = g_strdup (tb->node_name);
  spec->remote_port = echo_port;
  map = mcr_session_add_map (session (), spec, NULL, &error);
  g_assert_no_error (error);
  return map;
}

static gboolean
map_is_listening (gpointer map)
{
  return mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_LISTENING;
}

static gboolean
window_visible (gpointer data)
{
  return gtk_widget_get_visible (GTK_WIDGET (ui_window)) == GPOINTER_TO_INT (data);
}

/* ---- -tray, in a process of its own ---------------------------------------- */

/* -tray logs in and runs its maps with no window shown; launching the
 * application again shows it; app.quit ends it. */
static void
test_tray (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 port = mcr_test_unused_port (NULL);
  g_autofree char *host = g_strdup_printf ("-host:%s", tb->address);
  g_autofree char *user = g_strdup_printf ("-user:%s", tb->user);
  g_autofree char *hash = g_strdup_printf ("-certhash:%s", tb->cert_hash);
  g_autofree char *map = g_strdup_printf ("-map:TCP:%u:%s::%u", port, tb->node_name, echo_port);
  const char *args[] = { "-tray", host, user, hash, map, NULL };
  Router tray = { 0 };
  GPid pid;

  router_start (&tray, tb->password, args);
  pid = atoi (g_subprocess_get_identifier (tray.process));

  /* Logged in and mapping, in the background. */
  g_assert_true (mcr_test_wait_until (echoes_soon, GUINT_TO_POINTER (port), 90000));
  g_assert_false (tray.exited);
  g_assert_true (bus_has_router ());
  if (pid_has_visible_window (pid) < 0)
    g_test_message ("xdotool is missing: the window is not checked");
  else
    g_assert_cmpint (pid_has_visible_window (pid), ==, 0);

  /* Launched again, from the menu: it shows its window. */
  second_instance (NULL);
  if (pid_has_visible_window (pid) >= 0)
    g_assert_true (mcr_test_wait_until (visible_window_of, GINT_TO_POINTER (pid), 20000));
  g_assert_true (echoes (port));

  shell_activate_action ("quit");
  g_assert_cmpint (router_wait (&tray, 30000), ==, 0);
  g_assert_false (bus_has_router ());
}

/* A -tray login that needs the user shows the window rather than sitting
 * hidden for ever. */
static void
test_tray_login_fails (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *host = g_strdup_printf ("-host:%s", tb->address);
  g_autofree char *user = g_strdup_printf ("-user:%s", tb->user);
  g_autofree char *hash = g_strdup_printf ("-certhash:%s", tb->cert_hash);
  const char *args[] = { "-tray", host, user, hash, NULL };
  Router tray = { 0 };
  GPid pid;

  if (pid_has_visible_window (1) < 0)
    {
      g_test_skip ("xdotool is missing");
      return;
    }
  router_start (&tray, "not-the-password", args);
  pid = atoi (g_subprocess_get_identifier (tray.process));
  g_assert_true (mcr_test_wait_until (visible_window_of, GINT_TO_POINTER (pid), 60000));
  shell_activate_action ("quit");
  g_assert_cmpint (router_wait (&tray, 30000), ==, 0);
}

/* ---- links between two processes ------------------------------------------ */

/* The router logging into @path has logged in. */
static gboolean
file_has (gpointer path)
{
  g_autofree char *text = NULL;

  return g_file_get_contents (path, &text, NULL, NULL) && strstr (text, "logged in\n") != NULL;
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* mcr_test_wait_until () for a predicate that no event of ours changes. */
static gboolean
wait_polling (gboolean (*predicate) (gpointer data),
              gpointer   data,
              guint      timeout_ms)
{
  guint id = g_timeout_add (100, wake, NULL);
  gboolean ok = mcr_test_wait_until (predicate, data, timeout_ms);

  g_source_remove (id);
  return ok;
}

static char *
echo_link (const char *cookie,
           guint16     local_port,
           const char *extra)
{
  const McrTestbed *tb = mcr_testbed_get ();

  return g_strdup_printf ("mcrouter://%s/control.ashx?c=%s&t=%s&l=en&nodeid=%s&protocol=1"
                          "&remoteport=%u&localport=%u&appid=0%s",
                          tb->address, cookie, tb->cert_hash, tb->node_id, echo_port, local_port,
                          extra);
}

/* Two launches of the built program, as a browser starts it for two
 * links: the first logs in with its link's cookie (no password, the
 * certificate trusted by the link's hash) and maps; the second hands its
 * link over and exits 0; the first adds that map without a second login.
 * The first link has autoexit=1: once the connection through its map has
 * ended, the first router quits with status 0. */
static void
test_two_links (void)
{
  g_autofree char *cookie = test_link_cookie (mcr_testbed_get ());
  guint16 first_port = mcr_test_unused_port (NULL);
  guint16 second_port = mcr_test_unused_port (NULL);
  g_autofree char *first = echo_link (cookie, first_port, "&autoexit=1");
  g_autofree char *second = echo_link (cookie, second_port, "&remoteip=127.0.0.1");
  g_autofree char *log_path = g_build_filename (g_get_tmp_dir (), "mcr-two-links-XXXXXX", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;
  const char *first_args[] = { first, NULL };
  const char *second_args[] = { second, NULL };
  Router router = { 0 };
  gint64 closed;
  int fd;

  g_assert_false (bus_has_router ());
  fd = g_mkstemp (log_path);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  /* Debug messages go to standard output. */
  g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "mcr-window mcr-session", TRUE);
  g_subprocess_launcher_set_child_setup (launcher, mcr_test_router_child_setup, NULL, NULL);
  router.process = mcr_test_router_spawn (launcher, first_args);
  g_subprocess_wait_async (router.process, NULL, router_exited, &router);

  /* Up and logged in by its link (its map is not connected to: that would
   * start the auto-exit). */
  g_assert_true (wait_polling (file_has, (gpointer) log_path, 60000));
  g_assert_true (bus_has_router ());
  second_instance (second_args);
  g_assert_true (mcr_test_wait_until (echoes_soon, GUINT_TO_POINTER (second_port), 90000));
  g_assert_false (router.exited);

  g_assert_true (echoes (first_port));
  closed = g_get_monotonic_time ();
  g_assert_cmpint (router_wait (&router, 30000), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - closed, >=, 2 * G_USEC_PER_SEC);

  g_assert_true (g_file_get_contents (log_path, &log, NULL, &error));
  g_test_message ("first router: %s", log);
  g_assert_nonnull (strstr (log, "a link for this server: adding its map to this login"));
  g_assert_nonnull (strstr (log, "logging in to"));
  g_assert_null (strstr (strstr (log, "logging in to") + 1, "logging in to"));
  g_assert_nonnull (strstr (log, "auto-exit"));
  g_assert_null (strstr (log, cookie));
  g_unlink (log_path);
}

/* ---- the application in this process ------------------------------------- */

static gboolean
device_online (gpointer data)
{
  McrServer *server = mcr_session_get_server (session ());
  McrDevice *device = server != NULL ? mcr_server_lookup_device (server, data) : NULL;

  return device != NULL && mcr_device_get_online (device);
}

static void
test_register (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GError) error = NULL;
  g_autoptr(McrOptions) options = g_new0 (McrOptions, 1);
  char *hashes[] = { tb->cert_hash, NULL };

  ui_app = mcr_application_new (NULL);
  g_assert_true (g_application_register (G_APPLICATION (ui_app), NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (ui_app)));

  g_application_activate (G_APPLICATION (ui_app));
  ui_window = MCR_WINDOW (gtk_application_get_windows (GTK_APPLICATION (ui_app))->data);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (ui_window)));

  options->certhashes = hashes;
  mcr_window_apply_options (ui_window, options);
  options->certhashes = NULL;
  mcr_window_login (ui_window, tb->address, tb->user, tb->password);
  g_assert_true (mcr_test_wait_until (ui_page_is, "devices", 30000));
  g_assert_true (mcr_test_wait_until (device_online, tb->node_id, 30000));
}

/* Closing the window with a map running hides it; the map goes on, and a
 * notification says so, with Show Window and Quit. */
static void
test_close_keeps_maps (void)
{
  McrPortMap *map = add_echo_map ();
  guint from = calls->len;
  Call *note;
  g_autofree char *buttons = NULL;

  g_assert_true (mcr_test_wait_until (map_is_listening, map, 30000));
  gtk_window_close (GTK_WINDOW (ui_window));

  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (ui_window)));
  g_assert_true (gtk_application_get_windows (GTK_APPLICATION (ui_app))->data == ui_window);
  note = wait_call ("AddNotification", MCR_NOTIFICATION_BACKGROUND, from, 10000);
  g_assert_cmpstr (note->app_id, ==, "org.meshcentral.Router");
  g_assert_cmpstr (note_string (note, "title"), ==, "MeshCentral Router is still running");
  g_assert_cmpstr (note_string (note, "body"), ==, "1 map is active");
  g_assert_cmpstr (note_string (note, "default-action"), ==, "app.show-window");
  buttons = note_buttons (note);
  g_assert_cmpstr (buttons, ==, "app.show-window|app.quit");

  g_assert_true (echoes (mcr_port_map_get_local_port (map)));
  g_assert_cmpint (mcr_port_map_get_state (map), ==, MCR_PORT_MAP_STATE_LISTENING);
}

/* The notification's Show Window button, as the desktop clicks it. */
static void
test_show_window_action (void)
{
  guint from = calls->len;

  shell_activate_action ("show-window");
  g_assert_true (mcr_test_wait_until (window_visible, GINT_TO_POINTER (TRUE), 5000));

  /* What it said is no longer true. */
  wait_call ("RemoveNotification", MCR_NOTIFICATION_BACKGROUND, from, 5000);
}

static gboolean
window_active (gpointer data)
{
  return gtk_window_is_active (GTK_WINDOW (ui_window));
}

static const char *
banner_text (void)
{
  GObject *revealer = gtk_widget_get_template_child (GTK_WIDGET (ui_window), MCR_TYPE_WINDOW,
                                                     "banner_revealer");
  GObject *label = gtk_widget_get_template_child (GTK_WIDGET (ui_window), MCR_TYPE_WINDOW,
                                                  "banner_label");

  if (!gtk_revealer_get_reveal_child (GTK_REVEALER (revealer)))
    return NULL;
  return gtk_label_get_text (GTK_LABEL (label));
}

/* A map that cannot start (here: its local port is taken). While the window
 * has the focus, the window says so and no notification is sent. While
 * nobody looks, a notification names the map and the problem; the same
 * failure again replaces it. */
static void
test_map_failure (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GSocketListener) squatter = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) mcr_map_spec_free);
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  McrMapSpec *spec = mcr_map_spec_new ();
  guint before = n_maps ();
  guint from;
  Call *first, *second;
  g_autofree char *first_id = NULL;

  g_assert_true (g_socket_listener_add_address (squatter, address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error));
  g_assert_no_error (error);
  spec->protocol = MCR_PROTOCOL_TCP;
  spec->local_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  spec->node_name = g_strdup (tb->node_name);
  spec->app_id = MCR_APP_HTTP;
  spec->remote_port = 80;
  g_ptr_array_add (specs, spec);
  title = g_strdup_printf ("The map %s (HTTP) failed", tb->node_name);
  body = g_strdup_printf ("Local port %u is already in use", spec->local_port);

  /* Xvfb has no window manager; GTK focuses a presented window itself. */
  if (mcr_test_wait_until (window_active, NULL, 5000))
    {
      CallQuery query = { "AddNotification", "map-", TRUE, calls->len };

      mcr_window_queue_maps (ui_window, specs);
      g_assert_nonnull (banner_text ());
      g_assert_nonnull (strstr (banner_text (), body));
      ui_settle (1000);
      g_assert_null (find_call (&query));
      mcr_window_show_message (ui_window, NULL, FALSE);
    }
  else
    g_test_message ("the window did not get the focus: the focused case is not checked");

  gtk_window_close (GTK_WINDOW (ui_window));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (ui_window)));

  from = calls->len;
  /* As a -map: option, a file or a link would: queued, then started. */
  mcr_window_queue_maps (ui_window, specs);
  g_assert_cmpuint (n_maps (), ==, before);
  first = wait_call_prefix ("AddNotification", "map-", from, 10000);
  first_id = g_strdup (first->id);
  g_assert_cmpstr (note_string (first, "title"), ==, title);
  g_assert_cmpstr (note_string (first, "body"), ==, body);

  from = calls->len;
  mcr_window_queue_maps (ui_window, specs);
  second = wait_call ("AddNotification", first_id, from, 10000);
  g_assert_cmpstr (note_string (second, "body"), ==, body);
  g_assert_cmpuint (n_maps (), ==, before);
  g_socket_listener_close (squatter);
}

static gboolean
any_listening (gpointer data)
{
  GListModel *maps = mcr_session_get_maps (session ());

  for (guint i = 0; i < g_list_model_get_n_items (maps); i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);

      if (map_is_listening (map))
        return TRUE;
    }
  return FALSE;
}

/* The device of a running map goes offline and comes back, while the window
 * is hidden: one notification, replaced. */
static void
test_device_offline (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *id = g_strconcat ("device-", tb->node_id, NULL);
  g_autofree char *offline = g_strdup_printf ("%s went offline", tb->node_name);
  g_autofree char *online = g_strdup_printf ("%s is back online", tb->node_name);
  guint from = calls->len;
  Call *note;

  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (ui_window)));
  g_assert_true (mcr_testbed_run ("agent-stop", NULL, NULL));
  note = wait_call ("AddNotification", id, from, 60000);
  g_assert_cmpstr (note_string (note, "title"), ==, offline);
  g_assert_cmpstr (note_string (note, "body"), ==, "Its map waits until it is back.");

  from = calls->len;
  g_assert_true (mcr_testbed_run ("agent-start", NULL, NULL));
  note = wait_call ("AddNotification", id, from, 60000);
  g_assert_cmpstr (note_string (note, "title"), ==, online);
  g_assert_true (mcr_test_wait_until (any_listening, NULL, 30000));
}

/* Launched again from the menu (no arguments): the hidden window shows.
 * Launched with a .mcrouter file or an mcrouter:// link: the running
 * instance gets its map. */
static void
test_second_instance (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mcr-desktop-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "lab.mcrouter", NULL);
  g_autofree char *json = NULL;
  g_autofree char *cookie = NULL;
  g_autofree char *link = NULL;
  const char *file_args[] = { path, NULL };
  const char *link_args[] = { NULL, NULL };
  McrServer *server = mcr_session_get_server (session ());
  guint before;

  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (ui_window)));
  second_instance (NULL);
  g_assert_true (mcr_test_wait_until (window_visible, GINT_TO_POINTER (TRUE), 10000));

  before = n_maps ();
  json = g_strdup_printf ("{\"hostname\":\"%s\",\"username\":\"%s\",\"mappings\":["
                          "{\"nodeName\":\"%s\",\"nodeId\":\"%s\",\"appId\":0,"
                          "\"protocol\":1,\"localPort\":0,\"remotePort\":13}]}",
                          tb->address, tb->user, tb->node_name, tb->node_id);
  g_assert_true (g_file_set_contents (path, json, -1, &error));
  second_instance (file_args);
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (before + 1), 20000));
  {
    g_autoptr(McrPortMap) map = g_list_model_get_item (mcr_session_get_maps (session ()), before);

    g_assert_cmpuint (mcr_port_map_get_spec (map)->remote_port, ==, 13);
  }

  /* The web UI's link, with a map in it (a relay map, to differ from the
   * echo map there is); its cookie is this login's. Same server: the map is
   * added to this login, with no second login (the same server object, still
   * connected), and carries bytes through the agent. */
  cookie = g_uri_escape_string (mcr_server_get_auth_cookie (server), NULL, FALSE);
  g_assert_nonnull (cookie);
  link = g_strdup_printf ("mcrouter://%s/control.ashx?c=%s&t=%s&l=en&nodeid=%s&protocol=1"
                          "&remoteport=%u&remoteip=127.0.0.1&appid=0",
                          tb->address, cookie, tb->cert_hash, tb->node_id, echo_port);
  link_args[0] = link;
  second_instance (link_args);
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (before + 2), 20000));
  g_assert_true (mcr_session_get_server (session ()) == server);
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_CONNECTED);
  {
    g_autoptr(McrPortMap) map = g_list_model_get_item (mcr_session_get_maps (session ()),
                                                       before + 1);

    g_assert_cmpuint (mcr_port_map_get_spec (map)->remote_port, ==, echo_port);
    g_assert_cmpstr (mcr_port_map_get_spec (map)->remote_ip, ==, "127.0.0.1");
    g_assert_cmpstr (mcr_port_map_get_spec (map)->node_id, ==, tb->node_id);
    g_assert_true (mcr_test_wait_until (echoes_soon,
                                        GUINT_TO_POINTER (mcr_port_map_get_local_port (map)),
                                        30000));
  }
  g_unlink (path);
  g_rmdir (dir);
}

/* ---- the main loop of the application itself ------------------------------ */

typedef struct
{
  gboolean kept_running;
  gboolean closed_empty;
  gboolean timed_out;
} RunCheck;

static gboolean
close_window_idle (gpointer data)
{
  gtk_window_close (GTK_WINDOW (ui_window));
  return G_SOURCE_REMOVE;
}

/* Runs inside g_application_run (), after the window was closed with maps. */
static gboolean
still_running (gpointer data)
{
  RunCheck *check = data;
  g_autoptr(McrPortMap) map = g_list_model_get_item (mcr_session_get_maps (session ()), 0);

  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (ui_window)));
  g_assert_true (echoes (mcr_port_map_get_local_port (map)));
  check->kept_running = TRUE;

  /* Shown by a second launch, logged out (the maps stop), closed: the
   * application ends, and g_application_run () returns. */
  second_instance (NULL);
  g_assert_true (mcr_test_wait_until (window_visible, GINT_TO_POINTER (TRUE), 10000));
  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.logout", NULL);
  g_assert_true (mcr_test_wait_until (ui_page_is, "login", 5000));
  g_assert_cmpuint (mcr_session_get_n_active_maps (session ()), ==, 0);
  gtk_window_close (GTK_WINDOW (ui_window));
  check->closed_empty = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
watchdog (gpointer data)
{
  RunCheck *check = data;

  check->timed_out = TRUE;
  g_application_quit (G_APPLICATION (ui_app));
  return G_SOURCE_REMOVE;
}

/* The real main loop: closed with maps, the application goes on running;
 * closed with none, it quits. */
static void
test_run_until_closed (void)
{
  RunCheck check = { FALSE };
  guint timer;
  int status;

  g_assert_cmpuint (mcr_session_get_n_active_maps (session ()), >, 0);
  g_idle_add (close_window_idle, NULL);
  g_timeout_add (1500, still_running, &check);
  timer = g_timeout_add_seconds (120, watchdog, &check);
  status = g_application_run (G_APPLICATION (ui_app), 0, NULL);
  g_assert_false (check.timed_out);
  g_source_remove (timer);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (check.kept_running);
  g_assert_true (check.closed_empty);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (ui_app)));
  ui_window = NULL;
}

int
main (int argc, char **argv)
{
  int status;

  /* The accessibility bus would be started on our bus, its daemons writing
   * to our stdout, which is TAP; the routers we start inherit this. */
  g_setenv ("GTK_A11Y", "none", TRUE);
  ui_init (&argc, &argv);
  notification_server_start ();
  echo_port = mcr_test_echo_server_start (NULL);

  g_test_add_func ("/ui/desktop/tray", test_tray);
  g_test_add_func ("/ui/desktop/tray-login-fails", test_tray_login_fails);
  g_test_add_func ("/ui/desktop/two-links", test_two_links);
  g_test_add_func ("/ui/desktop/register", test_register);
  g_test_add_func ("/ui/desktop/close-keeps-maps", test_close_keeps_maps);
  g_test_add_func ("/ui/desktop/show-window-action", test_show_window_action);
  g_test_add_func ("/ui/desktop/map-failure", test_map_failure);
  g_test_add_func ("/ui/desktop/device-offline", test_device_offline);
  g_test_add_func ("/ui/desktop/second-instance", test_second_instance);
  g_test_add_func ("/ui/desktop/run-until-closed", test_run_until_closed);
  status = g_test_run ();

  g_clear_object (&ui_app);
  g_clear_pointer (&calls, g_ptr_array_unref);
  g_clear_object (&shell);
  return status;
}
