/* mcr-window.c: the main window: its pages, the devices and maps, and
 * their actions
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Logging in lives in mcr-window-login.c, files and links in
 * mcr-window-files.c; mcr-window-private.h holds what they share.
 */
#define G_LOG_DOMAIN "mcr-window"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-ids.h"
#include "mcr-map-dialog.h"
#include "mcr-map-range.h"
#include "mcr-wake.h"
#include "mcr-window-private.h"

G_DEFINE_FINAL_TYPE (McrWindow, mcr_window, GTK_TYPE_APPLICATION_WINDOW)

/* ---- pages and messages ------------------------------------------------ */

void
_mcr_window_show_page (McrWindow  *self,
                       const char *name)
{
  gboolean main = g_str_equal (name, "devices") || g_str_equal (name, "maps");

  if (main)
    {
      gtk_stack_set_visible_child_name (self->stack, "main");
      gtk_stack_set_visible_child_name (self->view_stack, name);
      gtk_window_set_default_widget (GTK_WINDOW (self), NULL);
    }
  else
    gtk_stack_set_visible_child_name (self->stack, name);
  gtk_stack_set_visible_child_name (self->title_stack, main ? "switcher" : "title");
  gtk_widget_set_visible (self->add_map_button, main);

  if (g_str_equal (name, "login"))
    {
      gtk_window_set_default_widget (GTK_WINDOW (self),
                                     mcr_login_page_get_default_widget (self->login_page));
      mcr_login_page_focus (self->login_page);
    }
  else if (g_str_equal (name, "token"))
    {
      gtk_window_set_default_widget (GTK_WINDOW (self),
                                     mcr_token_page_get_default_widget (self->token_page));
      mcr_token_page_focus (self->token_page);
    }
  else if (g_str_equal (name, "certificate"))
    {
      gtk_window_set_default_widget (GTK_WINDOW (self),
                                     mcr_cert_page_get_default_widget (self->cert_page));
      mcr_cert_page_focus (self->cert_page);
    }
}

const char *
mcr_window_get_page (McrWindow *self)
{
  const char *name;

  g_return_val_if_fail (MCR_IS_WINDOW (self), NULL);

  name = gtk_stack_get_visible_child_name (self->stack);
  if (g_strcmp0 (name, "main") == 0)
    return gtk_stack_get_visible_child_name (self->view_stack);
  return name;
}

void
mcr_window_show_message (McrWindow  *self,
                         const char *message,
                         gboolean    is_error)
{
  g_return_if_fail (MCR_IS_WINDOW (self));

  if (message == NULL)
    {
      gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
      return;
    }
  gtk_label_set_text (self->banner_label, message);
  if (is_error)
    gtk_widget_add_css_class (self->banner, "error");
  else
    gtk_widget_remove_css_class (self->banner, "error");
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
}

void
_mcr_window_update_title (McrWindow *self)
{
  McrServer *server = mcr_session_get_server (self->session);
  g_autofree char *title = NULL;

  if (server != NULL && mcr_server_get_user_name (server) != NULL)
    /* Translators: the window title once logged in, with the user name */
    title = g_strdup_printf (_("MeshCentral Router – %s"), mcr_server_get_user_name (server));
  gtk_window_set_title (GTK_WINDOW (self), title != NULL ? title : _("MeshCentral Router"));
}

void
_mcr_window_update_actions (McrWindow *self)
{
  McrServer *server = mcr_session_get_server (self->session);
  gboolean logged_in = server != NULL;
  GObject *device = mcr_devices_page_get_selected_device (self->devices_page);
  gboolean has_device = device != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-map", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-relay-map", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.quick-map", logged_in && has_device);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.wake-device",
                                 logged_in && has_device
                                 && mcr_wake_can_wake (MCR_DEVICE (device)));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.logout", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-mappings", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.save-mappings", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-devices", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-maps", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.search", logged_in);
}

void
_mcr_window_present_if_hidden (McrWindow *self)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (self)))
    gtk_window_present (GTK_WINDOW (self));
}

void
_mcr_window_create_queued_maps (McrWindow *self)
{
  McrServer *server = mcr_session_get_server (self->session);
  g_autoptr(GPtrArray) specs = g_steal_pointer (&self->queued_maps);
  g_autoptr(GString) problems = g_string_new (NULL);

  self->queued_maps = g_ptr_array_new_with_free_func ((GDestroyNotify) mcr_map_spec_free);
  if (server == NULL)
    return;

  for (guint i = 0; specs != NULL && i < specs->len; i++)
    {
      g_autoptr(McrMapSpec) spec = mcr_map_spec_copy (g_ptr_array_index (specs, i));
      g_autoptr(GError) error = NULL;
      McrDevice *device = NULL;
      g_autofree char *arg = NULL;

      if (spec->node_id != NULL)
        device = mcr_server_lookup_device (server, spec->node_id);
      if (device == NULL && spec->node_name != NULL)
        device = mcr_server_find_device (server, spec->node_name);
      if (device == NULL)
        {
          /* A device of another domain than the login: say so. */
          g_autofree char *mismatch =
            mcr_id_domain_mismatch (spec->node_id, mcr_server_get_domain_id (server));

          arg = mcr_map_spec_to_argument (spec);
          if (mismatch != NULL)
            g_string_append_printf (problems, "%s: %s\n", arg, mismatch);
          else
            g_string_append_printf (problems, _("%s: no such device\n"), arg);
          continue;
        }
      g_free (spec->node_id);
      spec->node_id = g_strdup (mcr_device_get_id (device));
      if (mcr_session_add_map (self->session, spec, NULL, &error) == NULL)
        {
          arg = mcr_map_spec_to_named_argument (spec, mcr_device_get_name (device));
          g_string_append_printf (problems, "%s: %s\n", arg, error->message);
        }
    }
  /* After the file's and the command line's maps: an identical remembered
   * map is the one they started. */
  _mcr_window_restore_maps (self, problems);
  if (problems->len > 0)
    {
      g_strchomp (problems->str);
      mcr_window_show_message (self, problems->str, TRUE);
    }
  if (specs != NULL && specs->len > 0
      && g_list_model_get_n_items (mcr_session_get_maps (self->session)) > 0)
    _mcr_window_show_page (self, "maps");
}

static void
on_launch_failed (McrSession *session,
                  const char *message,
                  McrWindow  *self)
{
  mcr_window_show_message (self, message, TRUE);
}

/* ---- maps ---------------------------------------------------------------- */

static void
open_map (McrWindow  *self,
          McrPortMap *map)
{
  g_autoptr(GError) error = NULL;

  if (!mcr_session_open_map (self->session, map, GTK_WINDOW (self), &error))
    mcr_window_show_message (self, error->message, TRUE);
}

static void
on_open_map (McrMapsPage *page,
             McrPortMap  *map,
             McrWindow   *self)
{
  open_map (self, map);
}

static void
on_remove_map (McrMapsPage *page,
               McrPortMap  *map,
               McrWindow   *self)
{
  mcr_session_remove_map (self->session, map);
}

static void
on_set_map_enabled (McrMapsPage *page,
                    McrPortMap  *map,
                    gboolean     enabled,
                    McrWindow   *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrPortMap) kept = g_object_ref (map);

  if (mcr_session_set_map_enabled (self->session, map, enabled, &error) == NULL && error != NULL)
    {
      mcr_window_show_message (self, error->message, TRUE);
      /* The row shows the map as it is: still off. */
      g_object_notify (G_OBJECT (kept), "state");
    }
}

/* A range from the dialog: all its maps, or none. */
static gboolean
add_range (McrWindow        *self,
           const McrMapSpec *spec,
           guint             count,
           GError          **error)
{
  g_autoptr(GPtrArray) specs = mcr_map_range_expand (spec, count, error);
  g_autoptr(GPtrArray) added = g_ptr_array_new ();

  if (specs == NULL)
    return FALSE;
  for (guint i = 0; i < specs->len; i++)
    {
      const McrMapSpec *one = g_ptr_array_index (specs, i);
      g_autoptr(GError) local_error = NULL;
      gboolean reused = FALSE;
      McrPortMap *map = mcr_session_add_map (self->session, one, &reused, &local_error);

      if (map == NULL)
        {
          for (guint j = 0; j < added->len; j++)
            mcr_session_remove_map (self->session, g_ptr_array_index (added, j));
          /* Translators: "Remote port 5903: Local port 5903 is in use…" */
          g_set_error (error, local_error->domain, local_error->code, _("Remote port %u: %s"),
                       one->remote_port, local_error->message);
          return FALSE;
        }
      if (!reused)
        g_ptr_array_add (added, map);
    }
  return TRUE;
}

static void
on_dialog_add (McrMapDialog *dialog,
               McrMapSpec   *spec,
               McrWindow    *self)
{
  g_autoptr(GError) error = NULL;
  gboolean reused = FALSE;
  guint count = mcr_map_dialog_get_port_count (dialog);
  McrPortMap *map;

  if (count > 1)
    {
      if (!add_range (self, spec, count, &error))
        {
          mcr_map_dialog_set_error (dialog, error->message);
          return;
        }
      gtk_window_destroy (GTK_WINDOW (dialog));
      _mcr_window_show_page (self, "maps");
      return;
    }
  map = mcr_session_add_map (self->session, spec, &reused, &error);
  if (map == NULL)
    {
      mcr_map_dialog_set_error (dialog, error->message);
      return;
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
  _mcr_window_show_page (self, "maps");
  if (reused)
    mcr_window_show_message (self, _("An identical map exists already: it was kept."), FALSE);
}

static McrMapDialog *
open_map_dialog (McrWindow *self,
                 gboolean   relay)
{
  McrServer *server = mcr_session_get_server (self->session);
  GObject *device = mcr_devices_page_get_selected_device (self->devices_page);
  McrMapDialog *dialog;

  if (server == NULL)
    return NULL;
  dialog = mcr_map_dialog_new (GTK_WINDOW (self), mcr_server_get_devices (server), relay);
  mcr_map_dialog_set_maps (dialog, mcr_session_get_maps (self->session));
  if (device != NULL)
    mcr_map_dialog_set_device (dialog, device);
  g_signal_connect_object (dialog, "add", G_CALLBACK (on_dialog_add), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
add_map_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  open_map_dialog (MCR_WINDOW (widget), g_str_equal (action_name, "win.add-relay-map"));
}

static void
quick_map (McrWindow  *self,
           McrDevice  *device,
           const char *app)
{
  g_autoptr(GError) error = NULL;
  McrAppId app_id = MCR_APP_HTTP;
  McrPortMap *map;

  if (g_str_equal (app, "https"))
    app_id = MCR_APP_HTTPS;
  else if (g_str_equal (app, "rdp"))
    app_id = MCR_APP_RDP;
  else if (g_str_equal (app, "ssh"))
    app_id = MCR_APP_SSH;
  else if (g_str_equal (app, "sftp"))
    app_id = MCR_APP_SFTP;

  map = mcr_session_quick_map (self->session, device, app_id, &error);
  if (map == NULL)
    {
      mcr_window_show_message (self, error->message, TRUE);
      return;
    }
  mcr_maps_page_select_map (self->maps_page, map);
}

static void
quick_map_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);
  GObject *device = mcr_devices_page_get_selected_device (self->devices_page);

  if (device != NULL)
    quick_map (self, MCR_DEVICE (device), g_variant_get_string (parameter, NULL));
}

typedef struct
{
  McrWindow *window;
  char      *name;
} WakeUp;

static void
woken (GObject      *source,
       GAsyncResult *result,
       gpointer      user_data)
{
  WakeUp *wake = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = mcr_wake_devices_finish (MCR_SERVER (source), result, &error);
  g_autofree char *message = NULL;

  if (answer != NULL)
    /* Translators: "Wake-up packets were sent to PC1 (the server: Used 1 device(s) to send
       wake packets)." */
    message = g_strdup_printf (_("Wake-up packets were sent to %s (the server: %s)."),
                               wake->name, answer);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    /* Translators: "PC1 could not be woken: No known MAC addresses for this device" */
    message = g_strdup_printf (_("%s could not be woken: %s"), wake->name, error->message);
  if (message != NULL && wake->window != NULL)
    mcr_window_show_message (wake->window, message, answer == NULL);
  g_clear_weak_pointer (&wake->window);
  g_free (wake->name);
  g_free (wake);
}

/* Asks the server to wake @device; the answer goes to the banner. */
void
_mcr_window_wake_device (McrWindow *self,
                         McrDevice *device)
{
  McrServer *server = mcr_session_get_server (self->session);
  const char *ids[] = { mcr_device_get_id (device), NULL };
  WakeUp *wake;

  if (server == NULL)
    return;
  wake = g_new0 (WakeUp, 1);
  g_set_weak_pointer (&wake->window, self);
  wake->name = g_strdup (mcr_device_get_name (device));
  mcr_wake_devices_async (server, ids, NULL, woken, wake);
}

static void
wake_device_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);
  GObject *device = mcr_devices_page_get_selected_device (self->devices_page);

  if (device != NULL && mcr_wake_can_wake (MCR_DEVICE (device)))
    _mcr_window_wake_device (self, MCR_DEVICE (device));
}

static void
on_wake_map (McrMapsPage *page,
             McrPortMap  *map,
             McrWindow   *self)
{
  McrDevice *device = mcr_port_map_get_device (map);

  if (device != NULL && mcr_wake_can_wake (device))
    _mcr_window_wake_device (self, device);
}

static void
on_device_activated (McrDevicesPage *page,
                     GObject        *device,
                     McrWindow      *self)
{
  g_autofree char *action = g_settings_get_string (self->settings, "double-click-action");

  if (g_str_has_prefix (action, "quick-"))
    quick_map (self, MCR_DEVICE (device), action + strlen ("quick-"));
  else
    open_map_dialog (self, FALSE);
}

static void
on_selection_changed (McrWindow *self)
{
  _mcr_window_update_actions (self);
}

/* ---- small actions ------------------------------------------------------- */

static void
dismiss_banner_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  mcr_window_show_message (MCR_WINDOW (widget), NULL, FALSE);
}

static void
show_view_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);

  if (mcr_session_get_server (self->session) == NULL)
    return;
  _mcr_window_show_page (self, g_str_equal (action_name, "win.show-maps") ? "maps" : "devices");
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);

  if (mcr_session_get_server (self->session) == NULL)
    return;
  _mcr_window_show_page (self, "devices");
  mcr_devices_page_focus_search (self->devices_page);
}

/* ---- the window ---------------------------------------------------------- */

static gboolean
mcr_window_close_request (GtkWindow *window)
{
  McrWindow *self = MCR_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  return GTK_WINDOW_CLASS (mcr_window_parent_class)->close_request (window);
}

static void
mcr_window_dispose (GObject *object)
{
  McrWindow *self = MCR_WINDOW (object);

  _mcr_window_remember_dispose (self);
  _mcr_window_login_dispose (self);
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      mcr_session_set_server (self->session, NULL);
    }
  _mcr_window_files_dispose (self);
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_WINDOW);
  g_clear_object (&self->session);
  g_clear_object (&self->secrets);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->queued_maps, g_ptr_array_unref);
  G_OBJECT_CLASS (mcr_window_parent_class)->dispose (object);
}

static void
mcr_window_finalize (GObject *object)
{
  McrWindow *self = MCR_WINDOW (object);

  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->accepted_hash, g_free);
  mcr_clear_secret (&self->twofa_cookie);
  mcr_clear_secret (&self->auth_cookie);
  g_clear_pointer (&self->certhashes, g_strfreev);
  g_clear_pointer (&self->file_certhash, g_free);
  g_clear_pointer (&self->switch_name, g_free);
  g_clear_pointer (&self->proxy, g_free);
  G_OBJECT_CLASS (mcr_window_parent_class)->finalize (object);
}

static void
mcr_window_class_init (McrWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = mcr_window_dispose;
  object_class->finalize = mcr_window_finalize;
  window_class->close_request = mcr_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-window.ui");
  gtk_widget_class_bind_template_child (widget_class, McrWindow, title_stack);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, add_map_button);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, banner);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, view_stack);

  gtk_widget_class_install_action (widget_class, "win.add-map", NULL, add_map_action);
  gtk_widget_class_install_action (widget_class, "win.add-relay-map", NULL, add_map_action);
  gtk_widget_class_install_action (widget_class, "win.quick-map", "s", quick_map_action);
  gtk_widget_class_install_action (widget_class, "win.wake-device", NULL, wake_device_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-banner", NULL,
                                   dismiss_banner_action);
  gtk_widget_class_install_action (widget_class, "win.show-devices", NULL, show_view_action);
  gtk_widget_class_install_action (widget_class, "win.show-maps", NULL, show_view_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  _mcr_window_login_class_init (widget_class);
  _mcr_window_files_class_init (widget_class);
}

static void
add_pages (McrWindow *self)
{
  GtkStackPage *page;

  self->login_page = MCR_LOGIN_PAGE (mcr_login_page_new ());
  self->token_page = MCR_TOKEN_PAGE (mcr_token_page_new ());
  self->cert_page = MCR_CERT_PAGE (mcr_cert_page_new ());
  self->devices_page = MCR_DEVICES_PAGE (mcr_devices_page_new ());
  self->maps_page = MCR_MAPS_PAGE (mcr_maps_page_new ());

  gtk_stack_add_named (self->stack, GTK_WIDGET (self->login_page), "login");
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->token_page), "token");
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->cert_page), "certificate");

  page = gtk_stack_add_titled (self->view_stack, GTK_WIDGET (self->devices_page), "devices",
                               _("_Devices"));
  gtk_stack_page_set_use_underline (page, TRUE);
  page = gtk_stack_add_titled (self->view_stack, GTK_WIDGET (self->maps_page), "maps", _("_Maps"));
  gtk_stack_page_set_use_underline (page, TRUE);

  g_signal_connect (self->devices_page, "device-activated", G_CALLBACK (on_device_activated),
                    self);
  g_signal_connect (self->maps_page, "open-map", G_CALLBACK (on_open_map), self);
  g_signal_connect (self->maps_page, "remove-map", G_CALLBACK (on_remove_map), self);
  g_signal_connect (self->maps_page, "set-map-enabled", G_CALLBACK (on_set_map_enabled), self);
  g_signal_connect (self->maps_page, "wake-map", G_CALLBACK (on_wake_map), self);
}

static void
mcr_window_init (McrWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  {
    g_autoptr(GtkBuilder) builder =
      gtk_builder_new_from_resource ("/org/meshcentral/Router/gtk/help-overlay.ui");

    gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (self),
                                             GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay")));
  }
  self->settings = g_settings_new (APP_ID);
  self->session = mcr_session_new (self->settings);
  self->secrets = mcr_secret_store_new ();
  self->queued_maps = g_ptr_array_new_with_free_func ((GDestroyNotify) mcr_map_spec_free);
  add_pages (self);

  g_signal_connect (self->session, "launch-failed", G_CALLBACK (on_launch_failed), self);
  mcr_maps_page_set_maps (self->maps_page, mcr_session_get_maps (self->session));

  _mcr_window_login_init (self);
  g_signal_connect_swapped (self->devices_page, "notify::selected-device",
                            G_CALLBACK (on_selection_changed), self);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  _mcr_window_files_init (self);
  _mcr_window_update_actions (self);
  _mcr_window_show_page (self, "login");
}

McrWindow *
mcr_window_new (McrApplication *app)
{
  return g_object_new (MCR_TYPE_WINDOW, "application", app, NULL);
}

McrSession *
mcr_window_get_session (McrWindow *self)
{
  g_return_val_if_fail (MCR_IS_WINDOW (self), NULL);
  return self->session;
}

void
mcr_window_queue_maps (McrWindow *self,
                       GPtrArray *specs)
{
  McrServer *server;

  g_return_if_fail (MCR_IS_WINDOW (self));

  for (guint i = 0; specs != NULL && i < specs->len; i++)
    g_ptr_array_add (self->queued_maps, mcr_map_spec_copy (g_ptr_array_index (specs, i)));
  server = mcr_session_get_server (self->session);
  if (server != NULL && mcr_server_get_devices_loaded (server))
    _mcr_window_create_queued_maps (self);
}
