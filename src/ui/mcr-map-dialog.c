/* mcr-map-dialog.c: Add map and Add relay map
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The form is checked on every change: a field that is wrong is marked and
 * the reason is shown under the form, and Add stays off until all is well.
 */
#define G_LOG_DOMAIN "mcr-map-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-device-row.h"
#include "mcr-map-dialog.h"
#include "mcr-map-range.h"

/* Fixed entries of the App drop-down; custom apps follow. */
enum
{
  APP_ROW_NONE,
  APP_ROW_HTTP,
  APP_ROW_HTTPS,
  APP_ROW_RDP,
  APP_ROW_SSH,
  APP_ROW_SFTP,
  N_APP_ROWS
};

static const McrAppId app_rows[N_APP_ROWS] = {
  MCR_APP_CUSTOM, MCR_APP_HTTP, MCR_APP_HTTPS, MCR_APP_RDP, MCR_APP_SSH, MCR_APP_SFTP,
};

struct _McrMapDialog
{
  GtkWindow           parent_instance;

  GtkLabel           *intro_label;
  GtkSearchEntry     *device_search;
  GtkListView        *device_list;
  GtkDropDown        *protocol_dropdown;
  GtkSpinButton      *local_port_spin;
  GtkSpinButton      *port_count_spin;
  GtkWidget          *remote_ip_label;
  GtkEntry           *remote_ip_entry;
  GtkSpinButton      *remote_port_spin;
  GtkDropDown        *app_dropdown;
  GtkEntry           *name_entry;
  GtkLabel           *error_label;
  GtkWidget          *add_button;

  GSettings          *settings;
  GtkStringList      *app_names;
  GVariant           *custom_apps;    /* a(ssss) */
  GtkCustomFilter    *filter;
  GtkSingleSelection *selection;
  GListModel         *maps;
  char               *search;
  char               *server_error;
  gboolean            relay;
  gboolean            remote_port_edited;
  gboolean            setting_port;
};

G_DEFINE_FINAL_TYPE (McrMapDialog, mcr_map_dialog, GTK_TYPE_WINDOW)

enum
{
  SIGNAL_ADD,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
filter_device (gpointer item,
               gpointer user_data)
{
  McrMapDialog *self = user_data;
  g_autofree char *name = NULL;
  g_autofree char *group = NULL;
  g_autofree char *folded_name = NULL;
  g_autofree char *folded_group = NULL;

  if (self->search == NULL)
    return TRUE;
  g_object_get (item, "name", &name, "group-name", &group, NULL);
  folded_name = g_utf8_casefold (name != NULL ? name : "", -1);
  folded_group = g_utf8_casefold (group != NULL ? group : "", -1);
  return strstr (folded_name, self->search) != NULL || strstr (folded_group, self->search) != NULL;
}

static int
sort_device (gconstpointer a,
             gconstpointer b,
             gpointer      user_data)
{
  g_autofree char *na = NULL;
  g_autofree char *nb = NULL;
  gboolean oa = FALSE, ob = FALSE;
  int result;

  g_object_get ((gpointer) a, "name", &na, "online", &oa, NULL);
  g_object_get ((gpointer) b, "name", &nb, "online", &ob, NULL);
  /* Online devices first: those are the ones a map works with now. */
  if (oa != ob)
    return oa ? GTK_ORDERING_SMALLER : GTK_ORDERING_LARGER;
  result = g_utf8_collate (na != NULL ? na : "", nb != NULL ? nb : "");
  return result < 0 ? GTK_ORDERING_SMALLER : result > 0 ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

static gboolean
valid_host (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);
  gsize len = strlen (host);

  if (address != NULL)
    return TRUE;
  if (len == 0 || len > 253 || host[0] == '-' || host[0] == '.' || host[len - 1] == '-')
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != '_')
        return FALSE;
      if (*p == '.' && p[1] == '.')
        return FALSE;
    }
  return TRUE;
}

static void
mark (GtkWidget *widget,
      gboolean   bad)
{
  if (bad)
    gtk_widget_add_css_class (widget, "error");
  else
    gtk_widget_remove_css_class (widget, "error");
}

static McrProtocol
selected_protocol (McrMapDialog *self)
{
  return gtk_drop_down_get_selected (self->protocol_dropdown) == 1 ? MCR_PROTOCOL_UDP
                                                                   : MCR_PROTOCOL_TCP;
}

/* The custom app at drop-down row @row: name, program, arguments, protocol. */
static gboolean
custom_app_at (McrMapDialog *self,
               guint         row,
               const char  **name,
               const char  **protocol)
{
  const char *program, *arguments;

  if (row < N_APP_ROWS || self->custom_apps == NULL
      || row - N_APP_ROWS >= g_variant_n_children (self->custom_apps))
    return FALSE;
  g_variant_get_child (self->custom_apps, row - N_APP_ROWS, "(&s&s&s&s)", name, &program,
                       &arguments, protocol);
  return TRUE;
}

static gboolean
local_port_in_use_by_map (McrMapDialog *self,
                          guint         port,
                          McrProtocol   protocol)
{
  guint n = self->maps != NULL ? g_list_model_get_n_items (self->maps) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) map = g_list_model_get_item (self->maps, i);
      McrMapSpec *spec = NULL;
      guint local_port = 0;
      gboolean same;

      g_object_get (map, "local-port", &local_port, "spec", &spec, NULL);
      same = local_port == port && (spec == NULL || spec->protocol == protocol);
      g_clear_pointer (&spec, mcr_map_spec_free);
      if (same)
        return TRUE;
    }
  return FALSE;
}

/* Whether another program holds the port: try to bind it for a moment. */
static gboolean
local_port_free (guint       port,
                 McrProtocol protocol,
                 gboolean    all_interfaces)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
                         protocol == MCR_PROTOCOL_UDP ? G_SOCKET_TYPE_DATAGRAM : G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_DEFAULT, NULL);
  if (socket == NULL)
    return TRUE;
  inet = all_interfaces ? g_inet_address_new_any (G_SOCKET_FAMILY_IPV4)
                        : g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (inet, port);
  return g_socket_bind (socket, address, TRUE, NULL);
}

static GObject *
selected_device (McrMapDialog *self)
{
  return gtk_single_selection_get_selected_item (self->selection);
}

McrMapSpec *
mcr_map_dialog_get_spec (McrMapDialog *self,
                         GError      **error)
{
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  GObject *device = selected_device (self);
  guint app_row = gtk_drop_down_get_selected (self->app_dropdown);
  const char *custom_name = NULL;
  const char *custom_protocol = NULL;
  g_autofree char *remote_ip = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->remote_ip_entry))));
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry))));
  const char *local_text = gtk_editable_get_text (GTK_EDITABLE (self->local_port_spin));
  const char *remote_text = gtk_editable_get_text (GTK_EDITABLE (self->remote_port_spin));
  const char *count_text = gtk_editable_get_text (GTK_EDITABLE (self->port_count_spin));
  guint64 local_port = 0, remote_port = 0, count = 1;
  gboolean bad_local = FALSE, bad_remote = FALSE, bad_ip = FALSE, bad_app = FALSE;
  gboolean bad_count = FALSE;
  g_autofree char *message = NULL;

  g_return_val_if_fail (MCR_IS_MAP_DIALOG (self), NULL);

  spec->protocol = selected_protocol (self);

  /* The spin buttons' text is what the user sees: check it, not the value
   * they last accepted. */
  if (!g_ascii_string_to_unsigned (local_text, 10, 0, 65535, &local_port, NULL))
    {
      bad_local = TRUE;
      message = g_strdup (_("The local port must be a number from 0 to 65535."));
    }
  else if (local_port != 0 && local_port_in_use_by_map (self, local_port, spec->protocol))
    {
      bad_local = TRUE;
      message = g_strdup_printf (_("Local port %u is used by another map."), (guint) local_port);
    }
  else if (local_port != 0
           && !local_port_free (local_port, spec->protocol,
                                g_settings_get_boolean (self->settings, "bind-all-interfaces")))
    {
      bad_local = TRUE;
      message = g_strdup_printf (local_port < 1024
                                 ? _("Local port %u needs administrator rights, or is in use: choose a port above 1024, or 0.")
                                 : _("Local port %u is in use by another program."),
                                 (guint) local_port);
    }

  if (!g_ascii_string_to_unsigned (remote_text, 10, 1, 65535, &remote_port, NULL))
    {
      bad_remote = TRUE;
      if (message == NULL)
        message = g_strdup (_("The remote port must be a number from 1 to 65535."));
    }

  if (!g_ascii_string_to_unsigned (count_text, 10, 1, MCR_MAP_RANGE_MAX_PORTS, &count, NULL))
    {
      bad_count = TRUE;
      if (message == NULL)
        message = g_strdup_printf (_("A range may hold from 1 to %u ports."),
                                   MCR_MAP_RANGE_MAX_PORTS);
    }
  else if (!bad_remote && (remote_port + count - 1 > 65535
                           || (local_port != 0 && local_port + count - 1 > 65535)))
    {
      bad_count = TRUE;
      if (message == NULL)
        message = g_strdup (_("A port range cannot go past port 65535."));
    }

  if (self->relay && !valid_host (remote_ip))
    {
      bad_ip = TRUE;
      if (message == NULL)
        message = g_strdup (*remote_ip == '\0'
                            ? _("Enter the remote IP address the device relays to.")
                            : _("The remote IP must be an IP address or a host name."));
    }

  if (app_row >= N_APP_ROWS && custom_app_at (self, app_row, &custom_name, &custom_protocol))
    {
      McrProtocol wanted = MCR_PROTOCOL_TCP;

      mcr_protocol_from_string (custom_protocol, &wanted);
      if (wanted != spec->protocol)
        {
          bad_app = TRUE;
          if (message == NULL)
            message = g_strdup_printf (_("The app “%s” uses %s: choose %s as protocol."),
                                       custom_name, mcr_protocol_to_string (wanted),
                                       mcr_protocol_to_string (wanted));
        }
      spec->app_id = MCR_APP_CUSTOM;
      spec->app_name = g_strdup (custom_name);
    }
  else if (app_row < N_APP_ROWS)
    {
      spec->app_id = app_rows[app_row];
      if (app_row != APP_ROW_NONE && spec->protocol == MCR_PROTOCOL_UDP)
        {
          bad_app = TRUE;
          if (message == NULL)
            message = g_strdup_printf (_("%s runs over TCP: choose TCP, or no app."),
                                       mcr_app_id_to_string (spec->app_id));
        }
    }

  mark (GTK_WIDGET (self->local_port_spin), bad_local);
  mark (GTK_WIDGET (self->remote_port_spin), bad_remote);
  mark (GTK_WIDGET (self->port_count_spin), bad_count);
  mark (GTK_WIDGET (self->remote_ip_entry), bad_ip && *remote_ip != '\0');
  mark (GTK_WIDGET (self->app_dropdown), bad_app);

  if (message == NULL && device == NULL)
    {
      g_set_error_literal (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID,
                           _("Choose a device."));
      return NULL;
    }
  if (message == NULL && device != NULL)
    {
      gboolean can_relay = TRUE;

      g_object_get (device, "can-relay", &can_relay, NULL);
      if (!can_relay)
        message = g_strdup (_("Your account may not relay traffic to this device."));
    }
  if (message != NULL)
    {
      g_set_error_literal (error, MCR_MAP_SPEC_ERROR, MCR_MAP_SPEC_ERROR_INVALID, message);
      return NULL;
    }

  {
    g_autoptr(GObject) group = NULL;

    g_object_get (device, "id", &spec->node_id, "name", &spec->node_name, "group", &group, NULL);
    if (group != NULL)
      g_object_get (group, "id", &spec->mesh_id, NULL);
  }
  spec->local_port = local_port;
  spec->remote_port = remote_port;
  if (self->relay)
    spec->remote_ip = g_steal_pointer (&remote_ip);
  if (*name != '\0')
    spec->name = g_steal_pointer (&name);
  return g_steal_pointer (&spec);
}

static void
validate (McrMapDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapSpec) spec = mcr_map_dialog_get_spec (self, &error);
  const char *message = NULL;

  if (spec == NULL && !g_str_equal (error->message, _("Choose a device.")))
    message = error->message;
  else if (spec != NULL)
    message = self->server_error;

  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "map-dialog.add", spec != NULL);
}

static void
on_changed (McrMapDialog *self)
{
  g_clear_pointer (&self->server_error, g_free);
  validate (self);
}

static void
on_app_changed (McrMapDialog *self)
{
  guint row = gtk_drop_down_get_selected (self->app_dropdown);
  const char *name, *protocol;

  if (row > APP_ROW_NONE && row < N_APP_ROWS)
    {
      if (!self->remote_port_edited)
        {
          self->setting_port = TRUE;
          gtk_spin_button_set_value (self->remote_port_spin,
                                     mcr_app_id_default_port (app_rows[row]));
          self->setting_port = FALSE;
        }
      gtk_drop_down_set_selected (self->protocol_dropdown, 0);
    }
  else if (custom_app_at (self, row, &name, &protocol))
    {
      McrProtocol wanted = MCR_PROTOCOL_TCP;

      mcr_protocol_from_string (protocol, &wanted);
      gtk_drop_down_set_selected (self->protocol_dropdown, wanted == MCR_PROTOCOL_UDP ? 1 : 0);
    }
  on_changed (self);
}

static void
on_remote_port_changed (McrMapDialog *self)
{
  if (!self->setting_port)
    self->remote_port_edited = TRUE;
  on_changed (self);
}

static void
on_device_search_changed (McrMapDialog *self)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->device_search))));

  g_clear_pointer (&self->search, g_free);
  if (*text != '\0')
    self->search = g_utf8_casefold (text, -1);
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  if (selected_device (self) == NULL
      && g_list_model_get_n_items (G_LIST_MODEL (self->selection)) > 0)
    gtk_single_selection_set_selected (self->selection, 0);
  validate (self);
}

/* Enter in the search field takes the first match and moves on. */
static void
on_device_search_activate (McrMapDialog *self)
{
  if (g_list_model_get_n_items (G_LIST_MODEL (self->selection)) > 0)
    {
      if (selected_device (self) == NULL)
        gtk_single_selection_set_selected (self->selection, 0);
      gtk_widget_grab_focus (GTK_WIDGET (self->protocol_dropdown));
    }
}

static void
add_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  McrMapDialog *self = MCR_MAP_DIALOG (widget);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapSpec) spec = NULL;

  gtk_spin_button_update (self->local_port_spin);
  gtk_spin_button_update (self->remote_port_spin);
  gtk_spin_button_update (self->port_count_spin);
  spec = mcr_map_dialog_get_spec (self, &error);
  if (spec == NULL)
    {
      mcr_map_dialog_set_error (self, error->message);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_ADD], 0, spec);
}

static void
setup_device_row (GtkListItemFactory *factory,
                  GtkListItem        *item,
                  gpointer            user_data)
{
  gtk_list_item_set_child (item, mcr_device_row_new ());
}

static void
bind_device_row (GtkListItemFactory *factory,
                 GtkListItem        *item,
                 gpointer            user_data)
{
  mcr_device_row_set_item (MCR_DEVICE_ROW (gtk_list_item_get_child (item)),
                           gtk_list_item_get_item (item));
}

static void
unbind_device_row (GtkListItemFactory *factory,
                   GtkListItem        *item,
                   gpointer            user_data)
{
  mcr_device_row_set_item (MCR_DEVICE_ROW (gtk_list_item_get_child (item)), NULL);
}

static void
load_apps (McrMapDialog *self)
{
  const char *fixed[] = { C_("app", "None"), "HTTP", "HTTPS", "RDP", "SSH", "SFTP", NULL };
  GVariantIter iter;
  const char *name, *program, *arguments, *protocol;

  self->app_names = gtk_string_list_new (fixed);
  self->custom_apps = g_settings_get_value (self->settings, "custom-apps");
  g_variant_iter_init (&iter, self->custom_apps);
  while (g_variant_iter_next (&iter, "(&s&s&s&s)", &name, &program, &arguments, &protocol))
    gtk_string_list_append (self->app_names, name);
  gtk_drop_down_set_model (self->app_dropdown, G_LIST_MODEL (self->app_names));
  gtk_drop_down_set_selected (self->app_dropdown, APP_ROW_HTTP);
}

static void
mcr_map_dialog_dispose (GObject *object)
{
  McrMapDialog *self = MCR_MAP_DIALOG (object);
  gpointer sources[] = { self->selection, self->protocol_dropdown, self->app_dropdown,
                         self->local_port_spin, self->remote_port_spin, self->remote_ip_entry,
                         self->name_entry, self->device_search };

  /* Widgets going away are no edits to check. */
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    if (sources[i] != NULL)
      g_signal_handlers_disconnect_by_data (sources[i], self);
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_MAP_DIALOG);
  g_clear_object (&self->selection);
  g_clear_object (&self->app_names);
  g_clear_object (&self->maps);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mcr_map_dialog_parent_class)->dispose (object);
}

static void
mcr_map_dialog_finalize (GObject *object)
{
  McrMapDialog *self = MCR_MAP_DIALOG (object);

  g_clear_pointer (&self->custom_apps, g_variant_unref);
  g_clear_pointer (&self->search, g_free);
  g_clear_pointer (&self->server_error, g_free);
  G_OBJECT_CLASS (mcr_map_dialog_parent_class)->finalize (object);
}

static void
mcr_map_dialog_class_init (McrMapDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_map_dialog_dispose;
  object_class->finalize = mcr_map_dialog_finalize;

  signals[SIGNAL_ADD] = g_signal_new ("add", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                      NULL, NULL, NULL, G_TYPE_NONE, 1,
                                      MCR_TYPE_MAP_SPEC | G_SIGNAL_TYPE_STATIC_SCOPE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-map-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, intro_label);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, device_search);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, device_list);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, protocol_dropdown);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, local_port_spin);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, port_count_spin);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, remote_ip_label);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, remote_ip_entry);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, remote_port_spin);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, app_dropdown);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, name_entry);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, McrMapDialog, add_button);

  gtk_widget_class_install_action (widget_class, "map-dialog.add", NULL, add_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
mcr_map_dialog_init (McrMapDialog *self)
{
  GtkListItemFactory *factory;
  GtkSortListModel *sorted;
  GtkFilterListModel *filtered;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->device_search, "search-changed",
                            G_CALLBACK (on_device_search_changed), self);
  g_signal_connect_swapped (self->device_search, "activate",
                            G_CALLBACK (on_device_search_activate), self);
  self->settings = g_settings_new (APP_ID);
  load_apps (self);

  self->filter = gtk_custom_filter_new (filter_device, self, NULL);
  filtered = gtk_filter_list_model_new (NULL, GTK_FILTER (self->filter));
  sorted = gtk_sort_list_model_new (G_LIST_MODEL (filtered),
                                    GTK_SORTER (gtk_custom_sorter_new (sort_device, NULL, NULL)));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (sorted));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_list_view_set_model (self->device_list, GTK_SELECTION_MODEL (self->selection));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_device_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_device_row), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_device_row), NULL);
  gtk_list_view_set_factory (self->device_list, factory);
  g_object_unref (factory);

  g_signal_connect_swapped (self->selection, "notify::selected", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->protocol_dropdown, "notify::selected", G_CALLBACK (on_changed),
                            self);
  g_signal_connect_swapped (self->app_dropdown, "notify::selected", G_CALLBACK (on_app_changed),
                            self);
  g_signal_connect_swapped (self->local_port_spin, "changed", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->port_count_spin, "changed", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->remote_port_spin, "changed", G_CALLBACK (on_remote_port_changed),
                            self);
  g_signal_connect_swapped (self->remote_ip_entry, "changed", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->name_entry, "changed", G_CALLBACK (on_changed), self);
  gtk_window_set_default_widget (GTK_WINDOW (self), self->add_button);
}

static GListModel *
filter_model_of (McrMapDialog *self)
{
  GListModel *sorted = gtk_single_selection_get_model (self->selection);

  return gtk_sort_list_model_get_model (GTK_SORT_LIST_MODEL (sorted));
}

McrMapDialog *
mcr_map_dialog_new (GtkWindow  *parent,
                    GListModel *devices,
                    gboolean    relay)
{
  McrMapDialog *self = g_object_new (MCR_TYPE_MAP_DIALOG, "transient-for", parent, NULL);

  self->relay = !!relay;
  gtk_filter_list_model_set_model (GTK_FILTER_LIST_MODEL (filter_model_of (self)), devices);
  gtk_widget_set_visible (self->remote_ip_label, relay);
  gtk_widget_set_visible (GTK_WIDGET (self->remote_ip_entry), relay);
  if (relay)
    {
      gtk_window_set_title (GTK_WINDOW (self), _("Add Relay Map"));
      gtk_label_set_text (self->intro_label,
                          _("Carry a local port through a device to another computer on the "
                            "device’s network."));
    }
  else
    gtk_label_set_text (self->intro_label,
                        _("Carry a local port to a port on a device."));
  gtk_widget_grab_focus (GTK_WIDGET (self->device_search));
  validate (self);
  return self;
}

void
mcr_map_dialog_set_device (McrMapDialog *self,
                           GObject      *device)
{
  GListModel *model;
  guint n;

  g_return_if_fail (MCR_IS_MAP_DIALOG (self));

  model = G_LIST_MODEL (self->selection);
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (model, i);

      if (item == device)
        {
          gtk_single_selection_set_selected (self->selection, i);
          gtk_widget_activate_action (GTK_WIDGET (self->device_list), "list.scroll-to-item", "u", i);
          gtk_widget_grab_focus (GTK_WIDGET (self->protocol_dropdown));
          break;
        }
    }
  validate (self);
}

void
mcr_map_dialog_set_maps (McrMapDialog *self,
                         GListModel   *maps)
{
  g_return_if_fail (MCR_IS_MAP_DIALOG (self));
  g_set_object (&self->maps, maps);
  validate (self);
}

void
mcr_map_dialog_set_error (McrMapDialog *self,
                          const char   *message)
{
  g_return_if_fail (MCR_IS_MAP_DIALOG (self));
  g_free (self->server_error);
  self->server_error = g_strdup (message);
  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

gboolean
mcr_map_dialog_get_relay (McrMapDialog *self)
{
  g_return_val_if_fail (MCR_IS_MAP_DIALOG (self), FALSE);
  return self->relay;
}

guint
mcr_map_dialog_get_port_count (McrMapDialog *self)
{
  g_return_val_if_fail (MCR_IS_MAP_DIALOG (self), 1);
  return MAX (1, gtk_spin_button_get_value_as_int (self->port_count_spin));
}
