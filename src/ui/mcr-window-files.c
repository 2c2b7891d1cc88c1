/* mcr-window-files.c: .mcrouter files and mcrouter:// links in the main
 * window: opening, dropping and saving them, and the question whether to
 * switch servers
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-window" /* the window's: G_MESSAGES_DEBUG=mcr-window shows it all */

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-server-address.h"
#include "mcr-window-private.h"

static void ask_switch_server (McrWindow    *self,
                               const char   *address,
                               const char   *what,
                               McrMapFile   *file,
                               McrRouterUrl *url);

/* ---- .mcrouter files and mcrouter:// links ------------------------------ */

/* Does @address name the server we are logged into? */
static gboolean
is_current_server (McrWindow  *self,
                   const char *address)
{
  McrServer *server = mcr_session_get_server (self->session);

  return server != NULL
         && mcr_server_address_same_server (mcr_server_get_display_name (server), address);
}

static void
queue_file_maps (McrWindow  *self,
                 McrMapFile *file)
{
  GPtrArray *mappings = mcr_map_file_get_mappings (file);
  const char *const *warnings = mcr_map_file_get_warnings (file);

  for (guint i = 0; i < mappings->len; i++)
    g_ptr_array_add (self->queued_maps, mcr_map_spec_copy (g_ptr_array_index (mappings, i)));
  if (warnings[0] != NULL)
    {
      g_autofree char *text = g_strjoinv ("\n", (char **) warnings);

      mcr_window_show_message (self, text, TRUE);
    }
  if (mcr_session_get_server (self->session) != NULL
      && mcr_server_get_devices_loaded (mcr_session_get_server (self->session)))
    _mcr_window_create_queued_maps (self);
}

/* Not logged in: the file says where to, as on the command line. */
static void
fill_login_from_file (McrWindow  *self,
                      McrMapFile *file)
{
  g_autofree char *address = _mcr_window_login_address (self);

  /* A password typed for another account must not go to this one. */
  if (g_strcmp0 (address, mcr_map_file_get_hostname (file)) != 0
      || g_strcmp0 (mcr_login_page_get_user (self->login_page),
                    mcr_map_file_get_username (file)) != 0)
    mcr_login_page_set_password (self->login_page, "");
  mcr_login_page_set_server (self->login_page, mcr_map_file_get_hostname (file));
  mcr_login_page_set_user (self->login_page, mcr_map_file_get_username (file));
  if (mcr_map_file_get_password (file) != NULL)
    mcr_login_page_set_password (self->login_page, mcr_map_file_get_password (file));
  g_free (self->file_certhash);
  self->file_certhash = g_strdup (mcr_map_file_get_certhash (file));
}

/* A file opened, dropped or handed over by a second launch. Logged into
 * its server: its maps are added. Not logged in: it fills the login form
 * and logs in if it holds the password. Logged into another server: ask. */
static void
open_map_file (McrWindow  *self,
               McrMapFile *file,
               const char *name)
{
  const char *hostname = mcr_map_file_get_hostname (file);

  if (mcr_session_get_server (self->session) == NULL)
    {
      fill_login_from_file (self, file);
      queue_file_maps (self, file);
      if (mcr_map_file_get_password (file) != NULL)
        _mcr_window_login_with_form (self);
      else
        {
          _mcr_window_lookup_password (self);
          _mcr_window_show_page (self, "login");
        }
      return;
    }
  if (is_current_server (self, hostname))
    {
      queue_file_maps (self, file);
      return;
    }
  ask_switch_server (self, hostname, name, file, NULL);
}

typedef struct
{
  McrWindow *window;
  char      *name;
} FileOpen;

static void
file_loaded (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  FileOpen *open = user_data;
  g_autoptr(McrWindow) self = open->window;
  g_autofree char *name = open->name;
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) file = mcr_map_file_load_finish (result, &error);

  g_free (open);
  if (file == NULL)
    {
      /* Refused as a whole: nothing running is touched. */
      mcr_window_show_message (self, error->message, TRUE);
      return;
    }
  open_map_file (self, file, name);
}

static void
mcr_window_open_file (McrWindow *self,
                      GFile     *file)
{
  FileOpen *open = g_new0 (FileOpen, 1);
  g_autofree char *base = g_file_get_basename (file);

  open->window = g_object_ref (self);
  open->name = base != NULL ? g_filename_display_name (base) : g_file_get_parse_name (file);
  mcr_map_file_load_async (file, NULL, file_loaded, open);
}

/* Not logged in: the link logs in with its cookie (no user name or
 * password) and trusts the certificate whose hash it carries. */
static void
login_with_router_url (McrWindow    *self,
                       McrRouterUrl *url)
{
  g_autofree char *address = mcr_router_url_get_server_address (url);

  mcr_login_page_set_server (self->login_page, address);
  if (url->cert_hash != NULL)
    {
      g_free (self->accepted_hash);
      self->accepted_hash = g_strdup (url->cert_hash);
    }
  if (url->map != NULL)
    g_ptr_array_add (self->queued_maps, mcr_map_spec_copy (url->map));
  mcr_clear_secret (&self->auth_cookie);
  self->auth_cookie = g_strdup (url->auth_cookie);
  _mcr_window_start_login (self);
}

/* An mcrouter:// link from the web UI. Logged into its server already: its
 * map is added to this login (the cookie is not used). Logged into another
 * server: ask. */
static void
open_router_url (McrWindow  *self,
                 const char *text)
{
  g_autoptr(McrRouterUrl) url = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;

  url = mcr_router_url_parse (text, &error);
  if (url == NULL)
    {
      if (mcr_session_get_server (self->session) != NULL)
        mcr_window_show_message (self, error->message, TRUE);
      else
        {
          mcr_login_page_set_message (self->login_page, error->message, TRUE);
          _mcr_window_show_page (self, "login");
        }
      return;
    }
  if (mcr_session_get_server (self->session) == NULL)
    {
      login_with_router_url (self, url);
      return;
    }
  address = mcr_router_url_get_server_address (url);
  if (!is_current_server (self, address))
    {
      ask_switch_server (self, address, _("The link"), NULL, url);
      return;
    }
  g_debug ("a link for this server: adding its map to this login");
  if (url->map != NULL)
    {
      g_autoptr(GPtrArray) specs = g_ptr_array_new ();

      g_ptr_array_add (specs, url->map);
      mcr_window_queue_maps (self, specs);
    }
  _mcr_window_show_page (self, url->map != NULL ? "maps" : "devices");
}

/* ---- a file or link for another server ----------------------------------- */

static void
clear_switch (McrWindow *self)
{
  g_clear_object (&self->switch_file);
  g_clear_pointer (&self->switch_name, g_free);
  g_clear_pointer (&self->switch_url, mcr_router_url_free);
  if (self->switch_dialog != NULL)
    {
      GtkWindow *dialog = g_steal_pointer (&self->switch_dialog);

      g_signal_handlers_disconnect_by_data (dialog, self);
      gtk_window_destroy (dialog);
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.switch-server", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.keep-server", FALSE);
}

/* win.switch-server: log out, then open what was asked for. */
static void
switch_server_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);
  g_autoptr(McrMapFile) file = g_steal_pointer (&self->switch_file);
  g_autoptr(McrRouterUrl) url = g_steal_pointer (&self->switch_url);
  g_autofree char *name = g_steal_pointer (&self->switch_name);

  clear_switch (self);
  if (file == NULL && url == NULL)
    return;
  _mcr_window_log_out (self);
  if (url != NULL)
    login_with_router_url (self, url);
  else
    open_map_file (self, file, name);
}

/* win.keep-server: stay logged in; the file or link is not opened. */
static void
keep_server_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);
  McrServer *server = mcr_session_get_server (self->session);
  g_autofree char *message = NULL;

  if (self->switch_name != NULL && server != NULL)
    message = g_strdup_printf (_("%s was not opened: you are still logged into %s."),
                               self->switch_name, mcr_server_get_display_name (server));
  clear_switch (self);
  if (message != NULL)
    mcr_window_show_message (self, message, FALSE);
}

#if GTK_CHECK_VERSION (4, 10, 0)

static void
switch_alert_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(McrWindow) self = user_data;
  int button = gtk_alert_dialog_choose_finish (GTK_ALERT_DIALOG (source), result, NULL);

  gtk_widget_activate_action (GTK_WIDGET (self), button == 1 ? "win.switch-server"
                                                             : "win.keep-server", NULL);
}

#else

static void
switch_dialog_response (GtkDialog *dialog,
                        int        response,
                        McrWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), response == GTK_RESPONSE_ACCEPT
                                                 ? "win.switch-server" : "win.keep-server",
                              NULL);
}

#endif

/* A file or link for another server than the one we are logged into: ask
 * whether to log out of this one (its maps stop) and connect there. The
 * answer runs win.switch-server or win.keep-server. */
static void
ask_switch_server (McrWindow    *self,
                   const char   *address,
                   const char   *what,
                   McrMapFile   *file,
                   McrRouterUrl *url)
{
  McrServer *server = mcr_session_get_server (self->session);
  guint n = g_list_model_get_n_items (mcr_session_get_maps (self->session));
  g_autofree char *other = mcr_server_address_display_name (address);
  g_autofree char *question = NULL;
  g_autofree char *detail = NULL;

  clear_switch (self);
  self->switch_file = file != NULL ? g_object_ref (file) : NULL;
  self->switch_url = url != NULL ? mcr_router_url_copy (url) : NULL;
  self->switch_name = g_strdup (what);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.switch-server", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.keep-server", TRUE);

  /* Translators: "Log out of mesh.example.com and connect to other.example.com?" */
  question = g_strdup_printf (_("Log out of %s and connect to %s?"),
                              mcr_server_get_display_name (server), other);
  /* Translators: the first %s is a file name or "The link" */
  detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "%s is for %s. Logging out stops your %u map.",
                                         "%s is for %s. Logging out stops your %u maps.", n),
                            what, other, n);
  _mcr_window_present_if_hidden (self);
#if GTK_CHECK_VERSION (4, 10, 0)
  {
    g_autoptr(GtkAlertDialog) alert = gtk_alert_dialog_new ("%s", question);
    const char *buttons[] = { _("_Cancel"), _("_Log Out and Connect"), NULL };

    gtk_alert_dialog_set_detail (alert, detail);
    gtk_alert_dialog_set_buttons (alert, buttons);
    gtk_alert_dialog_set_cancel_button (alert, 0);
    gtk_alert_dialog_set_default_button (alert, 1);
    gtk_alert_dialog_choose (alert, GTK_WINDOW (self), NULL, switch_alert_done,
                             g_object_ref (self));
  }
#else
  {
    GtkWidget *dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                                GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                                GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                                "%s", question);

    gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", detail);
    gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
                            _("_Log Out and Connect"), GTK_RESPONSE_ACCEPT, NULL);
    gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
    g_signal_connect (dialog, "response", G_CALLBACK (switch_dialog_response), self);
    self->switch_dialog = GTK_WINDOW (dialog);
    gtk_window_present (GTK_WINDOW (dialog));
  }
#endif
}

/* A map as a file holds it: files find devices by id, so a map started by
 * name (-map:, a file without nodeId) gets the id, name and group of the
 * device it found. NULL if it found none. */
static McrMapSpec *
mapping_to_save (McrPortMap *map,
                 gboolean    actual_port)
{
  McrMapSpec *spec = mcr_map_spec_copy (mcr_port_map_get_spec (map));
  McrDevice *device = mcr_port_map_get_device (map);

  if (device != NULL)
    {
      McrDeviceGroup *group = mcr_device_get_group (device);

      g_free (spec->node_id);
      spec->node_id = g_strdup (mcr_device_get_id (device));
      g_free (spec->node_name);
      spec->node_name = g_strdup (mcr_device_get_name (device));
      if (spec->mesh_id == NULL && group != NULL)
        spec->mesh_id = g_strdup (mcr_device_group_get_id (group));
    }
  if (actual_port && mcr_port_map_get_local_port (map) != 0)
    spec->local_port = mcr_port_map_get_local_port (map);
  spec->launch = FALSE;
  spec->auto_exit = FALSE;
  if (spec->node_id == NULL)
    g_clear_pointer (&spec, mcr_map_spec_free);
  return spec;
}

static void
save_mappings_to (McrWindow *self,
                  GFile     *file)
{
  g_autoptr(GError) error = NULL;

  if (!mcr_window_save_mappings (self, file, &error))
    mcr_window_show_message (self, error->message, TRUE);
}

McrMapFile *
_mcr_window_build_map_file (McrWindow *self,
                            gboolean   actual_ports,
                            GString   *unsaved)
{
  McrServer *server = mcr_session_get_server (self->session);
  GListModel *maps = mcr_session_get_maps (self->session);
  g_autoptr(McrMapFile) map_file = mcr_map_file_new ();
  g_autofree char *address = _mcr_window_login_address (self);
  const McrCertInfo *cert = server != NULL ? mcr_server_get_peer_cert_info (server) : NULL;

  mcr_map_file_set_hostname (map_file, address);
  /* After a link's login the form may name nobody: the server knows. */
  mcr_map_file_set_username (map_file, server != NULL && mcr_server_get_user_name (server) != NULL
                                       ? mcr_server_get_user_name (server)
                                       : mcr_login_page_get_user (self->login_page));
  if (cert != NULL && server != NULL
      && mcr_tls_policy_is_pinned (mcr_server_get_tls_policy (server), cert))
    mcr_map_file_set_certhash (map_file, cert->sha384);
  for (guint i = 0; i < g_list_model_get_n_items (maps); i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);
      g_autoptr(McrMapSpec) spec = mapping_to_save (map, actual_ports);

      if (spec != NULL)
        mcr_map_file_add_mapping (map_file, spec);
      else
        {
          g_autofree char *arg = mcr_map_spec_to_argument (mcr_port_map_get_spec (map));

          g_string_append_printf (unsaved, "%s%s", unsaved->len > 0 ? ", " : "", arg);
        }
    }
  return g_steal_pointer (&map_file);
}

gboolean
mcr_window_save_mappings (McrWindow *self,
                          GFile     *file,
                          GError   **error)
{
  g_autoptr(GString) unsaved = g_string_new (NULL);
  g_autoptr(McrMapFile) map_file = _mcr_window_build_map_file (self, FALSE, unsaved);

  if (!mcr_map_file_save (map_file, file, MCR_MAP_FILE_SAVE_DEFAULT, NULL, error))
    return FALSE;
  if (unsaved->len > 0)
    {
      g_autofree char *message =
        g_strdup_printf (_("Not saved, as their devices are not known: %s"), unsaved->str);

      mcr_window_show_message (self, message, TRUE);
    }
  return TRUE;
}

#if GTK_CHECK_VERSION (4, 10, 0)

static void
open_dialog_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(McrWindow) self = user_data;
  g_autoptr(GFile) file = gtk_file_dialog_open_finish (GTK_FILE_DIALOG (source), result, NULL);

  if (file != NULL)
    mcr_window_open_file (self, file);
}

static void
save_dialog_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(McrWindow) self = user_data;
  g_autoptr(GFile) file = gtk_file_dialog_save_finish (GTK_FILE_DIALOG (source), result, NULL);

  if (file != NULL)
    save_mappings_to (self, file);
}

#else

static void
native_response (GtkNativeDialog *native,
                 int              response,
                 McrWindow       *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

      if (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (native)) == GTK_FILE_CHOOSER_ACTION_SAVE)
        save_mappings_to (self, file);
      else
        mcr_window_open_file (self, file);
    }
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

#endif

static GtkFileFilter *
mcrouter_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("MeshCentral Router mappings"));
  gtk_file_filter_add_pattern (filter, "*.mcrouter");
  gtk_file_filter_add_mime_type (filter, "application/x-mcrouter");
  return filter;
}

static void
open_mappings_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);
  gboolean save = g_str_equal (action_name, "win.save-mappings");
  g_autoptr(GtkFileFilter) filter = mcrouter_filter ();

#if GTK_CHECK_VERSION (4, 10, 0)
  g_autoptr(GtkFileDialog) dialog = gtk_file_dialog_new ();
  g_autoptr(GListStore) filters = g_list_store_new (GTK_TYPE_FILE_FILTER);

  g_list_store_append (filters, filter);
  gtk_file_dialog_set_filters (dialog, G_LIST_MODEL (filters));
  gtk_file_dialog_set_default_filter (dialog, filter);
  if (save)
    {
      gtk_file_dialog_set_title (dialog, _("Save Mappings"));
      gtk_file_dialog_set_initial_name (dialog, "mappings.mcrouter");
      gtk_file_dialog_save (dialog, GTK_WINDOW (self), NULL, save_dialog_done, g_object_ref (self));
    }
  else
    {
      gtk_file_dialog_set_title (dialog, _("Open Mappings"));
      gtk_file_dialog_open (dialog, GTK_WINDOW (self), NULL, open_dialog_done, g_object_ref (self));
    }
#else
  GtkFileChooserNative *native;

  native = gtk_file_chooser_native_new (save ? _("Save Mappings") : _("Open Mappings"),
                                        GTK_WINDOW (self),
                                        save ? GTK_FILE_CHOOSER_ACTION_SAVE
                                             : GTK_FILE_CHOOSER_ACTION_OPEN,
                                        save ? _("_Save") : _("_Open"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  if (save)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), "mappings.mcrouter");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_signal_connect (native, "response", G_CALLBACK (native_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
#endif
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         McrWindow     *self)
{
  GSList *files;
  gboolean any = FALSE;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = g_value_get_boxed (value);
  for (GSList *l = files; l != NULL; l = l->next)
    {
      g_autofree char *name = g_file_get_basename (l->data);

      if (name == NULL || !g_str_has_suffix (name, ".mcrouter"))
        continue;
      mcr_window_open_file (self, l->data);
      any = TRUE;
    }
  if (!any)
    mcr_window_show_message (self, _("Only .mcrouter files can be dropped here."), TRUE);
  return any;
}

void
mcr_window_open (McrWindow *self,
                 GFile     *file)
{
  g_return_if_fail (MCR_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  if (g_file_has_uri_scheme (file, "mcrouter"))
    {
      g_autofree char *uri = g_file_get_uri (file);

      open_router_url (self, uri);
      return;
    }
  mcr_window_open_file (self, file);
}

static void
unref_if_set (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

/* The .mcrouter files of the command line, read at once (as the Windows
 * router does): the first good one fills the login form, like the options
 * after it may; files for another server than the first are refused, and a
 * broken file is refused as a whole. */
static McrMapFile *
read_command_line_files (McrWindow        *self,
                         const McrOptions *options)
{
  McrMapFile *filled = NULL;   /* the file that filled the login form */
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (unref_if_set); /* NULL: broken */
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  g_autofree gboolean *refused = NULL;
  const char *first = NULL;    /* the server of the first good file */
  int first_index = -1;
  int other;

  for (guint i = 0; options->files != NULL && i < options->files->len; i++)
    {
      g_autoptr(GFile) gfile = g_file_new_for_commandline_arg (g_ptr_array_index (options->files, i));
      g_autofree char *base = g_file_get_basename (gfile);
      g_autoptr(GError) error = NULL;
      McrMapFile *file = mcr_map_file_new_from_file (gfile, NULL, &error);

      g_ptr_array_add (files, file);
      g_ptr_array_add (names, g_filename_display_name (base != NULL ? base : ""));
      g_ptr_array_add (errors, error != NULL ? g_strdup (error->message) : NULL);
      if (first == NULL && file != NULL)
        {
          g_autoptr(McrServerAddress) parsed =
            mcr_server_address_parse (mcr_map_file_get_hostname (file), NULL);

          if (parsed != NULL)
            {
              first = mcr_map_file_get_hostname (file);
              first_index = (int) i;
            }
        }
    }

  /* Not logged in: the files after the first for another server are left out. */
  refused = g_new0 (gboolean, files->len + 1);
  other = first_index;
  if (first != NULL && mcr_session_get_server (self->session) == NULL)
    while ((other = mcr_map_file_find_other_server (files, other + 1, first)) >= 0)
      refused[other] = TRUE;

  for (guint i = 0; i < files->len; i++)
    {
      McrMapFile *file = g_ptr_array_index (files, i);
      const char *name = g_ptr_array_index (names, i);

      if (file == NULL)
        {
          g_string_append_printf (problems, "%s\n", (char *) g_ptr_array_index (errors, i));
          continue;
        }
      if (mcr_session_get_server (self->session) != NULL)
        {
          open_map_file (self, file, name);
          continue;
        }
      if (refused[i])
        {
          g_autofree char *shown = mcr_server_address_display_name (mcr_map_file_get_hostname (file));
          g_autofree char *named = mcr_server_address_display_name (first);

          g_string_append_printf (problems, _("%s is for the server %s, not %s: its maps "
                                              "were not added.\n"),
                                  name, shown, named);
          continue;
        }
      if (first_index < 0 || (int) i <= first_index)
        {
          fill_login_from_file (self, file);
          g_set_object (&filled, file);
        }
      queue_file_maps (self, file);
    }
  if (problems->len > 0)
    {
      g_strchomp (problems->str);
      mcr_login_page_set_message (self->login_page, problems->str, TRUE);
      mcr_window_show_message (self, problems->str, TRUE);
    }
  return filled;
}

void
mcr_window_apply_options (McrWindow        *self,
                          const McrOptions *options)
{
  g_autoptr(McrMapFile) file = NULL;
  const char *password;

  g_return_if_fail (MCR_IS_WINDOW (self));
  g_return_if_fail (options != NULL);

  g_clear_pointer (&self->certhashes, g_strfreev);
  self->certhashes = g_strdupv (options->certhashes);
  self->ignore_cert = options->ignore_cert;
  g_free (self->proxy);
  self->proxy = g_strdup (options->proxy);
  mcr_session_set_force_all_interfaces (self->session, options->all_interfaces);

  file = read_command_line_files (self, options);
  /* The options complete or override what the files say. */
  if (options->host != NULL)
    mcr_login_page_set_server (self->login_page, options->host);
  if (options->user != NULL)
    mcr_login_page_set_user (self->login_page, options->user);
  password = options->password != NULL ? options->password : g_getenv ("MCROUTER_PASSWORD");
  if (password != NULL)
    mcr_login_page_set_password (self->login_page, password);
  mcr_window_queue_maps (self, options->maps);

  if (mcr_session_get_server (self->session) != NULL)
    return;
  if (options->urls != NULL && options->urls->len > 0)
    {
      open_router_url (self, g_ptr_array_index (options->urls, 0));
      return;
    }
  /* Server, user and password all given: log in, as the Windows router
   * does. Else the form waits, filled as far as it can be. */
  if (password == NULL && file != NULL)
    password = mcr_map_file_get_password (file);
  if ((options->host != NULL || file != NULL) && (options->user != NULL || file != NULL))
    {
      if (password != NULL)
        _mcr_window_login_with_form (self);
      else
        _mcr_window_lookup_password (self);
    }
}


/* ---- wiring -------------------------------------------------------------- */

void
_mcr_window_files_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.open-mappings", NULL, open_mappings_action);
  gtk_widget_class_install_action (widget_class, "win.save-mappings", NULL, open_mappings_action);
  gtk_widget_class_install_action (widget_class, "win.switch-server", NULL, switch_server_action);
  gtk_widget_class_install_action (widget_class, "win.keep-server", NULL, keep_server_action);
}

void
_mcr_window_files_init (McrWindow *self)
{
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.switch-server", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.keep-server", FALSE);
}

void
_mcr_window_files_dispose (McrWindow *self)
{
  g_clear_object (&self->switch_file);
  g_clear_pointer (&self->switch_url, mcr_router_url_free);
  if (self->switch_dialog != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->switch_dialog, self);
      gtk_window_destroy (g_steal_pointer (&self->switch_dialog));
    }
}
