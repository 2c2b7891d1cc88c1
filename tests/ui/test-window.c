/* SPDX-License-Identifier: Apache-2.0
 *
 * The real window, driven in-process against the real testbed: wrong
 * password, untrusted certificate, second factor, the device list and its
 * search, a map added through the Add map dialog carrying bytes to an echo
 * server through the agent, and its removal. Each page is saved as a PNG
 * under the build folder (screenshots/). */
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "login-helpers.h"
#include "mcr-application.h"
#include "mcr-cert-page.h"
#include "mcr-custom-apps-dialog.h"
#include "mcr-debug-log-window.h"
#include "mcr-settings-dialog.h"
#include "mcr-devices-page.h"
#include "mcr-login-page.h"
#include "mcr-map-dialog.h"
#include "mcr-map-row.h"
#include "mcr-maps-page.h"
#include "mcr-testbed.h"
#include "mcr-token-page.h"
#include "mcr-window.h"
#include "window-driver.h"

/* ---- driving the window -------------------------------------------------- */

static void
click_login (void)
{
  GtkWidget *button = ui_template_child (ui_page ("login"), MCR_TYPE_LOGIN_PAGE, "login_button");

  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

static gboolean
login_idle (gpointer data)
{
  return !mcr_login_page_get_busy (MCR_LOGIN_PAGE (ui_page ("login")));
}

/* ---- tests --------------------------------------------------------------- */

static void
test_wrong_password (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrLoginPage *login = MCR_LOGIN_PAGE (ui_page ("login"));
  const char *message;

  ui_wait_page ("login", 1000);
  ui_fill_login (tb->address, tb->user, "");
  ui_screenshot (GTK_WIDGET (ui_window), "login");

  /* The certificate is pinned for this test: the password is what fails. */
  {
    g_autoptr(McrOptions) options = g_new0 (McrOptions, 1);
    char *hashes[] = { tb->cert_hash, NULL };

    options->certhashes = hashes;
    mcr_window_apply_options (ui_window, options);
    options->certhashes = NULL;
  }
  ui_fill_login (tb->address, tb->user, "not-the-password");
  click_login ();
  g_assert_true (mcr_test_wait_until (login_idle, NULL, 30000));

  ui_wait_page ("login", 1000);
  message = mcr_login_page_get_message (login);
  g_assert_nonnull (message);
  g_test_message ("shown: %s", message);
  g_assert_nonnull (strstr (message, "password"));
  /* The fields stay filled. */
  g_assert_cmpstr (mcr_login_page_get_server (login), ==, tb->address);
  g_assert_cmpstr (mcr_login_page_get_user (login), ==, tb->user);
  g_assert_cmpstr (mcr_login_page_get_password (login), ==, "not-the-password");
  ui_screenshot (GTK_WIDGET (ui_window), "login-error");

  {
    g_autoptr(McrOptions) options = g_new0 (McrOptions, 1);

    mcr_window_apply_options (ui_window, options); /* unpins */
  }
}

static void
test_untrusted_certificate (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrCertPage *cert;
  const char *hash;

  ui_fill_login (tb->address, tb->user, tb->password);
  click_login ();
  ui_wait_page ("certificate", 30000);

  cert = MCR_CERT_PAGE (ui_page ("certificate"));
  hash = mcr_cert_page_get_sha384 (cert);
  g_assert_nonnull (hash);
  g_assert_cmpstr (hash, ==, tb->cert_hash);
  {
    GtkLabel *label = GTK_LABEL (ui_template_child (cert, MCR_TYPE_CERT_PAGE, "sha384_label"));

    /* Shown in pairs for people to compare. */
    g_assert_true (g_str_has_prefix (gtk_label_get_text (label), "07") ||
                   strchr (gtk_label_get_text (label), ':') != NULL);
  }
  ui_screenshot (GTK_WIDGET (ui_window), "certificate");

  gtk_widget_activate_action (GTK_WIDGET (cert), "cert.cancel", NULL);
  ui_wait_page ("login", 1000);
}

/* A fresh account with TOTP, set up through the control channel. */
static char *twofa_user;
static char *twofa_password;
static char *twofa_secret;

static void
make_twofa_user (void)
{
  twofa_user = test_add_user ("ui-twofa", NULL, &twofa_password);
  twofa_secret = test_setup_totp (twofa_user, twofa_password);
}

static gboolean
token_message_shown (gpointer data)
{
  return mcr_token_page_get_message (MCR_TOKEN_PAGE (ui_page ("token"))) != NULL;
}

static void
test_second_factor (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrTokenPage *token = MCR_TOKEN_PAGE (ui_page ("token"));
  g_autofree char *code = NULL;
  g_autoptr(McrOptions) options = g_new0 (McrOptions, 1);
  char *hashes[] = { tb->cert_hash, NULL };

  make_twofa_user ();
  options->certhashes = hashes;
  mcr_window_apply_options (ui_window, options);
  options->certhashes = NULL;

  ui_fill_login (tb->address, twofa_user, twofa_password);
  click_login ();
  ui_wait_page ("token", 30000);
  /* No mail or SMS on the testbed: no "send me a code" buttons. */
  g_assert_false (gtk_widget_get_visible (ui_template_child (token, MCR_TYPE_TOKEN_PAGE,
                                                          "email_button")));
  g_assert_true (gtk_widget_get_visible (ui_template_child (token, MCR_TYPE_TOKEN_PAGE,
                                                         "remember_check")));
  ui_screenshot (GTK_WIDGET (ui_window), "token");

  /* A wrong code: told so, still on the page. */
  mcr_token_page_set_code (token, "000000");
  gtk_widget_activate_action (GTK_WIDGET (token), "token.submit", NULL);
  g_assert_true (mcr_test_wait_until (token_message_shown, NULL, 30000));
  ui_wait_page ("token", 1000);
  g_test_message ("shown: %s", mcr_token_page_get_message (token));

  code = mcr_test_totp (twofa_secret, g_get_real_time () / G_USEC_PER_SEC);
  mcr_token_page_set_code (token, code);
  gtk_widget_activate_action (GTK_WIDGET (token), "token.submit", NULL);
  ui_wait_page ("devices", 30000);
  g_assert_nonnull (strstr (gtk_window_get_title (GTK_WINDOW (ui_window)), twofa_user));

  /* Logging out says so on the login page. */
  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.logout", NULL);
  ui_wait_page ("login", 5000);
  g_assert_nonnull (mcr_login_page_get_message (MCR_LOGIN_PAGE (ui_page ("login"))));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (ui_window)), ==, "MeshCentral Router");

  {
    g_autoptr(McrOptions) none = g_new0 (McrOptions, 1);

    mcr_window_apply_options (ui_window, none);
  }
}

static GObject *
find_shown_device (const char *node_id)
{
  GListModel *shown = mcr_devices_page_get_shown_model (MCR_DEVICES_PAGE (ui_page ("devices")));

  for (guint i = 0; i < g_list_model_get_n_items (shown); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (shown, i);

      if (MCR_IS_DEVICE (item) && g_strcmp0 (mcr_device_get_id (MCR_DEVICE (item)), node_id) == 0)
        return item;
    }
  return NULL;
}

static gboolean
device_shown_online (gpointer data)
{
  GObject *device = find_shown_device (data);

  return device != NULL && mcr_device_get_online (MCR_DEVICE (device));
}

static gboolean
device_not_shown (gpointer data)
{
  return find_shown_device (data) == NULL;
}

static void
test_login_and_devices (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrDevicesPage *devices = MCR_DEVICES_PAGE (ui_page ("devices"));
  GtkWidget *search = ui_template_child (devices, MCR_TYPE_DEVICES_PAGE, "search_entry");
  g_autofree char *title = NULL;
  g_autofree char *partial = NULL;

  /* Untrusted at first; "Remember" and "Connect anyway" log in. */
  ui_fill_login (tb->address, tb->user, tb->password);
  click_login ();
  ui_wait_page ("certificate", 30000);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (ui_template_child (ui_page ("certificate"),
                                                                    MCR_TYPE_CERT_PAGE,
                                                                    "remember_check")),
                               TRUE);
  gtk_widget_activate_action (ui_page ("certificate"), "cert.accept", NULL);
  ui_wait_page ("devices", 30000);
  /* Remembered: the server's certificate is trusted from now on. */
  {
    g_autoptr(GSettings) settings = g_settings_new ("org.meshcentral.Router");
    g_autoptr(GVariant) trusted = g_settings_get_value (settings, "trusted-certificates");
    const char *remembered = NULL;

    g_assert_true (g_variant_lookup (trusted, tb->address, "&s", &remembered));
    g_assert_cmpstr (remembered, ==, tb->cert_hash);
  }

  title = g_strdup_printf ("MeshCentral Router – %s", tb->user);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (ui_window)), ==, title);
  g_assert_true (mcr_test_wait_until (device_shown_online, tb->node_id, 30000));
  ui_screenshot (GTK_WIDGET (ui_window), "devices");

  /* Search by part of the name, any case. */
  partial = g_utf8_strup (tb->node_name, -1);
  gtk_editable_set_text (GTK_EDITABLE (search), partial);
  g_assert_true (mcr_test_wait_until (device_shown_online, tb->node_id, 5000));
  gtk_editable_set_text (GTK_EDITABLE (search), "no-such-device-zzz");
  g_assert_true (mcr_test_wait_until (device_not_shown, tb->node_id, 5000));
  ui_settle (300);
  ui_screenshot (GTK_WIDGET (ui_window), "devices-no-match");
  gtk_editable_set_text (GTK_EDITABLE (search), "");
  g_assert_true (mcr_test_wait_until (device_shown_online, tb->node_id, 5000));

  g_assert_true (mcr_devices_page_select_device (devices, find_shown_device (tb->node_id)));
}

static McrMapDialog *
find_map_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (MCR_IS_MAP_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return MCR_MAP_DIALOG (w);
    }
  return NULL;
}

static gboolean
have_map_dialog (gpointer data)
{
  return find_map_dialog () != NULL;
}

static gboolean
no_map_dialog (gpointer data)
{
  return find_map_dialog () == NULL;
}

typedef struct
{
  GSocketConnection *connection;
  GError            *error;
  char               buffer[64];
  gssize             got;
  gboolean           done;
} Echo;

static void
echo_read (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Echo *echo = data;

  echo->got = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &echo->error);
  echo->done = TRUE;
}

static gboolean
echo_done (gpointer data)
{
  return ((Echo *) data)->done;
}

static void
test_add_map_and_echo (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo_port = mcr_test_echo_server_start (NULL);
  McrMapDialog *dialog;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(McrPortMap) map = NULL;
  GListModel *maps = mcr_session_get_maps (mcr_window_get_session (ui_window));
  Echo echo = { 0 };
  const char *hello = "hello through the relay";

  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.add-map", NULL);
  g_assert_true (mcr_test_wait_until (have_map_dialog, NULL, 5000));
  dialog = find_map_dialog ();

  /* The selected device is preselected; choose no app and the echo port. */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                             "app_dropdown")),
                              0);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                              "remote_port_spin")),
                             echo_port);
  ui_set_text (dialog, MCR_TYPE_MAP_DIALOG, "name_entry", "Echo");

  /* A bad local port is flagged and Add stays off. */
  ui_set_text (dialog, MCR_TYPE_MAP_DIALOG, "local_port_spin", "70000");
  ui_settle (100);
  g_assert_false (gtk_widget_is_sensitive (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                           "add_button")));
  g_assert_true (gtk_widget_has_css_class (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                           "local_port_spin"),
                                           "error"));
  ui_set_text (dialog, MCR_TYPE_MAP_DIALOG, "local_port_spin", "0");
  ui_settle (100);
  g_assert_true (gtk_widget_is_sensitive (ui_template_child (dialog, MCR_TYPE_MAP_DIALOG,
                                                          "add_button")));
  ui_screenshot (GTK_WIDGET (dialog), "add-map");

  gtk_widget_activate_action (GTK_WIDGET (dialog), "map-dialog.add", NULL);
  g_assert_true (mcr_test_wait_until (no_map_dialog, NULL, 5000));
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (1), 5000));
  ui_wait_page ("maps", 1000);
  map = g_list_model_get_item (maps, 0);
  g_assert_cmpstr (mcr_port_map_get_spec (map)->node_id, ==, tb->node_id);
  g_assert_cmpuint (mcr_port_map_get_local_port (map), >, 0);

  /* Bytes go to the agent's echo server and come back. */
  echo.connection = g_socket_client_connect_to_host (client, "127.0.0.1",
                                                     mcr_port_map_get_local_port (map), NULL,
                                                     &error);
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (echo.connection)),
                                            hello, strlen (hello), NULL, NULL, &error));
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (echo.connection)),
                             echo.buffer, sizeof echo.buffer, G_PRIORITY_DEFAULT, NULL,
                             echo_read, &echo);
  g_assert_true (mcr_test_wait_until (echo_done, &echo, 30000));
  g_assert_no_error (echo.error);
  g_assert_cmpint (echo.got, ==, (gssize) strlen (hello));
  g_assert_cmpmem (echo.buffer, echo.got, hello, strlen (hello));
  g_clear_error (&echo.error);

  /* Some traffic for the counters and the rate graph of the screenshot. */
  {
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (echo.connection));
    GPollableInputStream *in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (G_IO_STREAM (echo.connection)));
    static char block[16384];
    char sink[65536];
    guint64 back = 0;

    memset (block, 'x', sizeof block);
    for (guint i = 0; i < 25; i++)
      {
        g_assert_true (g_output_stream_write_all (out, block, (i % 5 + 1) * 3000, NULL, NULL,
                                                  &error));
        ui_settle (200);
        for (;;)
          {
            gssize got = g_pollable_input_stream_read_nonblocking (in, sink, sizeof sink, NULL, NULL);

            if (got <= 0)
              break;
            back += got;
          }
      }
    g_assert_cmpuint (back, >, 0);
    g_assert_cmpuint (mcr_port_map_get_bytes_sent (map), >, 0);
  }
  ui_screenshot (GTK_WIDGET (ui_window), "maps");
  g_io_stream_close (G_IO_STREAM (echo.connection), NULL, NULL);
  g_clear_object (&echo.connection);

  /* Adding the same map again keeps the one there is. */
  {
    gboolean reused = FALSE;
    McrMapSpec *spec = mcr_map_spec_copy (mcr_port_map_get_spec (map));

    spec->local_port = 0;
    g_assert_true (mcr_session_add_map (mcr_window_get_session (ui_window), spec, &reused, &error)
                   == map);
    g_assert_true (reused);
    mcr_map_spec_free (spec);
  }

  /* Remove, as the row's button does. */
  {
    McrMapsPage *maps_page = MCR_MAPS_PAGE (ui_page ("maps"));

    g_signal_emit_by_name (maps_page, "remove-map", map);
  }
  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (0), 5000));
  g_assert_cmpint (mcr_port_map_get_state (map), ==, MCR_PORT_MAP_STATE_STOPPED);
}

/* Dropping a .mcrouter file on the window adds its maps. */
static void
test_drop_file (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrSession *session = mcr_window_get_session (ui_window);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("mcr-ui-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "lab.mcrouter", NULL);
  g_autofree char *json = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GtkDropTarget *target = NULL;
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (ui_window));
  GValue value = G_VALUE_INIT;
  GSList *files;
  gboolean accepted = FALSE;
  g_autoptr(McrPortMap) map = NULL;

  json = g_strdup_printf ("{\"hostname\":\"%s\",\"username\":\"%s\",\"mappings\":["
                          "{\"nodeName\":\"%s\",\"nodeId\":\"%s\",\"appId\":0,"
                          "\"protocol\":1,\"localPort\":0,\"remotePort\":13}]}",
                          tb->address, tb->user, tb->node_name, tb->node_id);
  g_assert_true (g_file_set_contents (path, json, -1, &error));

  for (guint i = 0; i < g_list_model_get_n_items (controllers) && target == NULL; i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_DROP_TARGET (controller))
        target = GTK_DROP_TARGET (controller);
    }
  g_assert_nonnull (target);

  files = g_slist_append (NULL, file);
  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_set_boxed (&value, files);
  g_signal_emit_by_name (target, "drop", &value, 10.0, 10.0, &accepted);
  g_value_unset (&value);
  g_slist_free (files);
  g_assert_true (accepted);

  g_assert_true (mcr_test_wait_until (ui_n_maps_is, GUINT_TO_POINTER (1), 10000));
  map = g_list_model_get_item (mcr_session_get_maps (session), 0);
  g_assert_cmpstr (mcr_port_map_get_spec (map)->node_id, ==, tb->node_id);
  g_assert_cmpuint (mcr_port_map_get_spec (map)->remote_port, ==, 13);
  mcr_session_remove_map (session, map);
  g_assert_true (ui_n_maps_is (GUINT_TO_POINTER (0)));
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_logout_stops_maps (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrSession *session = mcr_window_get_session (ui_window);
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  McrPortMap *map;
  g_autoptr(McrPortMap) kept = NULL;

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = 9;
  map = mcr_session_add_map (session, spec, NULL, &error);
  g_assert_no_error (error);
  kept = g_object_ref (map);
  g_assert_true (ui_n_maps_is (GUINT_TO_POINTER (1)));

  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.logout", NULL);
  ui_wait_page ("login", 5000);
  g_assert_true (ui_n_maps_is (GUINT_TO_POINTER (0)));
  g_assert_cmpint (mcr_port_map_get_state (kept), ==, MCR_PORT_MAP_STATE_STOPPED);
  g_assert_nonnull (strstr (mcr_login_page_get_message (MCR_LOGIN_PAGE (ui_page ("login"))),
                            "1 map"));
}

static gboolean
has_maps (gpointer data)
{
  return !ui_n_maps_is (GUINT_TO_POINTER (0));
}

/* What the command line does: -host: -user: -pass: -certhash: -map: log in
 * at once and create the map once the device list is in. */
static void
test_command_line_login (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrOptions) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host = g_strdup_printf ("-host:%s", tb->address);
  g_autofree char *user = g_strdup_printf ("-user:%s", tb->user);
  g_autofree char *pass = g_strdup_printf ("-pass:%s", tb->password);
  g_autofree char *hash = g_strdup_printf ("-certhash:%s", tb->cert_hash);
  g_autofree char *map = g_strdup_printf ("-map:TCP:0:%s::7", tb->node_name);
  char *argv[] = { "meshcentral-router", host, user, pass, hash, map, NULL };
  g_autoptr(McrPortMap) created = NULL;
  GListModel *maps = mcr_session_get_maps (mcr_window_get_session (ui_window));

  options = mcr_options_parse (G_N_ELEMENTS (argv) - 1, argv, &error);
  g_assert_no_error (error);
  mcr_window_apply_options (ui_window, options);
  g_assert_true (mcr_test_wait_until (has_maps, NULL, 30000));
  created = g_list_model_get_item (maps, 0);
  g_assert_cmpstr (mcr_port_map_get_spec (created)->node_id, ==, tb->node_id);
  g_assert_cmpuint (mcr_port_map_get_spec (created)->remote_port, ==, 7);
  ui_wait_page ("maps", 5000);

  /* Grouped by device group, with a header per group. */
  {
    g_autoptr(GSettings) settings = g_settings_new ("org.meshcentral.Router");
    GListModel *shown = mcr_devices_page_get_shown_model (MCR_DEVICES_PAGE (ui_page ("devices")));
    g_autoptr(GObject) first = NULL;

    g_settings_set_string (settings, "sort-by", "group");
    ui_settle (200);
    first = g_list_model_get_item (shown, 0);
    g_assert_true (GTK_IS_STRING_OBJECT (first));
    g_assert_cmpstr (gtk_string_object_get_string (GTK_STRING_OBJECT (first)), ==, "lab");
    gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.show-devices", NULL);
    ui_wait_page ("devices", 1000);
    ui_screenshot (GTK_WIDGET (ui_window), "devices-by-group");
    g_settings_set_string (settings, "sort-by", "name");
  }

  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.logout", NULL);
  ui_wait_page ("login", 5000);
}

static gboolean
debug_log_shows (gpointer buffer)
{
  g_autofree char *text = NULL;
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  return strstr (text, "a message for the debug log") != NULL;
}

/* The custom apps editor stores what it edits; the Add map dialog offers it. */
static void
test_custom_apps (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.meshcentral.Router");
  g_autoptr(GVariant) apps = NULL;
  GtkWindow *dialog;
  const char *name, *program, *arguments, *protocol;

  g_action_group_activate_action (G_ACTION_GROUP (ui_app), "custom-apps", NULL);
  g_assert_true (mcr_test_wait_until (ui_have_toplevel,
                                      GSIZE_TO_POINTER (MCR_TYPE_CUSTOM_APPS_DIALOG), 5000));
  dialog = ui_find_toplevel (MCR_TYPE_CUSTOM_APPS_DIALOG);
  gtk_widget_activate_action (GTK_WIDGET (dialog), "apps.add", NULL);
  ui_set_text (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG, "name_entry", "VNC");
  ui_set_text (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG, "program_entry", "vncviewer");
  ui_set_text (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG, "arguments_entry", "%L::%P");
  ui_screenshot (GTK_WIDGET (dialog), "custom-apps");

  apps = g_settings_get_value (settings, "custom-apps");
  g_assert_cmpuint (g_variant_n_children (apps), ==, 1);
  g_variant_get_child (apps, 0, "(&s&s&s&s)", &name, &program, &arguments, &protocol);
  g_assert_cmpstr (name, ==, "VNC");
  g_assert_cmpstr (program, ==, "vncviewer");
  g_assert_cmpstr (arguments, ==, "%L::%P");
  g_assert_cmpstr (protocol, ==, "TCP");

  /* Unbalanced quotes are flagged and not stored. */
  {
    int position = 0;

    gtk_editable_insert_text (GTK_EDITABLE (ui_template_child (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG,
                                                            "arguments_entry")),
                              "'", -1, &position);
  }
  g_assert_true (gtk_widget_has_css_class (ui_template_child (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG,
                                                           "arguments_entry"),
                                           "error"));
  g_clear_pointer (&apps, g_variant_unref);
  apps = g_settings_get_value (settings, "custom-apps");
  g_variant_get_child (apps, 0, "(&s&s&s&s)", &name, &program, &arguments, &protocol);
  g_assert_cmpstr (arguments, ==, "%L::%P");
  gtk_window_destroy (dialog);

  g_action_group_activate_action (G_ACTION_GROUP (ui_app), "settings", NULL);
  g_assert_true (mcr_test_wait_until (ui_have_toplevel,
                                      GSIZE_TO_POINTER (MCR_TYPE_SETTINGS_DIALOG), 5000));
  dialog = ui_find_toplevel (MCR_TYPE_SETTINGS_DIALOG);
  ui_screenshot (GTK_WIDGET (dialog), "settings");
  /* The switch is bound to the setting. */
  gtk_switch_set_active (GTK_SWITCH (ui_template_child (dialog, MCR_TYPE_SETTINGS_DIALOG,
                                                     "all_interfaces_switch")),
                         TRUE);
  g_assert_true (g_settings_get_boolean (settings, "bind-all-interfaces"));
  g_settings_reset (settings, "bind-all-interfaces");
  /* The certificate remembered at login can be forgotten here. */
  {
    const McrTestbed *tb = mcr_testbed_get ();
    g_autoptr(GVariant) trusted = NULL;

    gtk_widget_activate_action (GTK_WIDGET (dialog), "settings.forget-certificate", "s",
                                tb->address);
    trusted = g_settings_get_value (settings, "trusted-certificates");
    g_assert_false (g_variant_lookup (trusted, tb->address, "&s", NULL));
  }
  gtk_window_destroy (dialog);

  /* The debug log shows what was logged. */
  g_action_group_activate_action (G_ACTION_GROUP (ui_app), "debug-log", NULL);
  g_assert_true (mcr_test_wait_until (ui_have_toplevel,
                                      GSIZE_TO_POINTER (MCR_TYPE_DEBUG_LOG_WINDOW), 5000));
  dialog = ui_find_toplevel (MCR_TYPE_DEBUG_LOG_WINDOW);
  g_message ("a message for the debug log");
  /* The line comes in from an idle, which a busy text view can keep
   * waiting: a bounded wait, not a fixed pause. */
  g_assert_true (mcr_test_wait_until (debug_log_shows,
                                      gtk_text_view_get_buffer (GTK_TEXT_VIEW (
                                        ui_template_child (dialog, MCR_TYPE_DEBUG_LOG_WINDOW,
                                                           "text_view"))),
                                      5000));
  ui_screenshot (GTK_WIDGET (dialog), "debug-log");
  gtk_window_close (dialog);
}

int
main (int argc, char **argv)
{
  int status;

  ui_init (&argc, &argv);
  ui_open_window ();

  g_test_add_func ("/ui/window/wrong-password", test_wrong_password);
  g_test_add_func ("/ui/window/untrusted-certificate", test_untrusted_certificate);
  g_test_add_func ("/ui/window/second-factor", test_second_factor);
  g_test_add_func ("/ui/window/login-and-devices", test_login_and_devices);
  g_test_add_func ("/ui/window/add-map-and-echo", test_add_map_and_echo);
  g_test_add_func ("/ui/window/drop-file", test_drop_file);
  g_test_add_func ("/ui/window/logout-stops-maps", test_logout_stops_maps);
  g_test_add_func ("/ui/window/command-line-login", test_command_line_login);
  g_test_add_func ("/ui/window/custom-apps-and-settings", test_custom_apps);
  status = g_test_run ();

  ui_close_window ();
  return status;
}
