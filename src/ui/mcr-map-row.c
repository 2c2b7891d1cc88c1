/* mcr-map-row.c: one port map, live
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-map-row"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-map-row.h"
#include "mcr-rate-graph.h"
#include "mcr-wake.h"

struct _McrMapRow
{
  GtkBox      parent_instance;

  GtkImage   *state_image;
  GtkLabel   *title_label;
  GtkWidget  *all_interfaces_label;
  GtkLabel   *route_label;
  GtkLabel   *status_label;
  GtkWidget  *graph_box;
  GtkWidget  *open_button;
  GtkSwitch  *enabled_switch;
  GtkWidget  *wake_button;
  GtkLabel   *stat_connections;
  GtkLabel   *stat_total;
  GtkLabel   *stat_failed;
  GtkLabel   *stat_sent;
  GtkLabel   *stat_received;
  GtkLabel   *stat_listen;
  GtkLabel   *stat_last_failure;
  McrRateGraph *graph;

  McrPortMap *map;
  gulong      notify_id;
  guint       set_enabled_id;
};

G_DEFINE_FINAL_TYPE (McrMapRow, mcr_map_row, GTK_TYPE_BOX)

enum
{
  SIGNAL_OPEN,
  SIGNAL_REMOVE,
  SIGNAL_SET_ENABLED,
  SIGNAL_WAKE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

char *
mcr_map_describe_app (const McrMapSpec *spec)
{
  if (spec->app_id == MCR_APP_CUSTOM)
    {
      if (spec->app_name != NULL && *spec->app_name != '\0')
        return g_strdup (spec->app_name);
      return g_strdup (mcr_protocol_to_string (spec->protocol));
    }
  return g_strdup (mcr_app_id_to_string (spec->app_id));
}

static const char *
map_device_name (McrPortMap *map)
{
  McrDevice *device = mcr_port_map_get_device (map);
  const McrMapSpec *spec = mcr_port_map_get_spec (map);

  if (device != NULL)
    return mcr_device_get_name (device);
  if (spec->node_name != NULL)
    return spec->node_name;
  return _("Unknown device");
}

char *
mcr_map_describe_title (McrPortMap *map)
{
  const McrMapSpec *spec = mcr_port_map_get_spec (map);
  g_autofree char *app = mcr_map_describe_app (spec);

  if (spec->name != NULL && *spec->name != '\0')
    /* Translators: map title: "PC1 — Web admin (HTTP)" */
    return g_strdup_printf (_("%s — %s (%s)"), map_device_name (map), spec->name, app);
  return g_strdup_printf (_("%s (%s)"), map_device_name (map), app);
}

char *
mcr_map_describe_route (McrPortMap *map)
{
  const McrMapSpec *spec = mcr_port_map_get_spec (map);
  const char *local = mcr_port_map_get_all_interfaces (map) ? "0.0.0.0" : "127.0.0.1";
  /* A map switched off listens nowhere: the port it will ask for. */
  guint16 port = mcr_port_map_get_local_port (map) != 0 ? mcr_port_map_get_local_port (map)
                                                        : spec->local_port;
  g_autofree char *local_port = port != 0 ? g_strdup_printf ("%u", port) : g_strdup ("…");

  if (spec->remote_ip != NULL && *spec->remote_ip != '\0')
    {
      gboolean v6 = strchr (spec->remote_ip, ':') != NULL;

      /* Translators: a relay map: "127.0.0.1:8080 → 192.168.1.1:80 via PC1" */
      return g_strdup_printf (_("%s:%s → %s%s%s:%u via %s"), local, local_port,
                              v6 ? "[" : "", spec->remote_ip, v6 ? "]" : "",
                              spec->remote_port, map_device_name (map));
    }
  return g_strdup_printf ("%s:%s → %s:%u", local, local_port, map_device_name (map),
                          spec->remote_port);
}

const char *
mcr_map_describe_state (McrPortMap *map)
{
  switch (mcr_port_map_get_state (map))
    {
    case MCR_PORT_MAP_STATE_STARTING:
      return _("Starting…");
    case MCR_PORT_MAP_STATE_LISTENING:
      return _("Ready");
    case MCR_PORT_MAP_STATE_WAITING:
      return _("Waiting for the device to come online");
    case MCR_PORT_MAP_STATE_ERROR:
      return mcr_port_map_get_error_message (map) != NULL ? mcr_port_map_get_error_message (map)
                                                         : _("Failed");
    case MCR_PORT_MAP_STATE_STOPPED:
    default:
      return mcr_port_map_get_spec (map)->disabled ? _("Off: switch it on to use it")
                                                   : _("Stopped");
    }
}

static const char *
state_icon (McrPortMap *map)
{
  switch (mcr_port_map_get_state (map))
    {
    case MCR_PORT_MAP_STATE_LISTENING:
      return mcr_port_map_get_n_connections (map) > 0 ? "network-transmit-receive-symbolic"
                                                      : "network-idle-symbolic";
    case MCR_PORT_MAP_STATE_WAITING:
      return "network-offline-symbolic";
    case MCR_PORT_MAP_STATE_ERROR:
      return "dialog-error-symbolic";
    case MCR_PORT_MAP_STATE_STARTING:
    case MCR_PORT_MAP_STATE_STOPPED:
    default:
      return "network-no-route-symbolic";
    }
}

static void
mcr_map_row_update (McrMapRow *self)
{
  McrPortMap *map = self->map;
  const McrMapSpec *spec = mcr_port_map_get_spec (map);
  McrPortMapState state = mcr_port_map_get_state (map);
  guint n = mcr_port_map_get_n_connections (map);
  g_autofree char *title = mcr_map_describe_title (map);
  g_autofree char *route = NULL;
  g_autofree char *sent = g_format_size (mcr_port_map_get_bytes_sent (map));
  g_autofree char *received = g_format_size (mcr_port_map_get_bytes_received (map));
  g_autofree char *connections = NULL;
  g_autofree char *status = NULL;
  g_autofree char *number = NULL;
  g_autofree char *accessible = NULL;
  const char *last_failure = mcr_port_map_get_last_failure (map);

  gtk_label_set_text (self->title_label, title);
  g_signal_handlers_block_matched (self->enabled_switch, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL,
                                   self);
  gtk_switch_set_active (self->enabled_switch, !spec->disabled);
  g_signal_handlers_unblock_matched (self->enabled_switch, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL,
                                     self);

  route = mcr_map_describe_route (map);
  gtk_label_set_text (self->route_label, route);
  gtk_widget_set_visible (self->all_interfaces_label, mcr_port_map_get_all_interfaces (map));

  connections = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u connection", "%u connections",
                                              n), n);
  if (state == MCR_PORT_MAP_STATE_LISTENING || state == MCR_PORT_MAP_STATE_WAITING)
    /* Translators: "Ready · 1 connection · ↑ 1.2 kB ↓ 3.4 kB" */
    status = g_strdup_printf (_("%s · %s · ↑ %s ↓ %s"), mcr_map_describe_state (map), connections, sent,
                              received);
  else
    status = g_strdup (mcr_map_describe_state (map));
  gtk_label_set_text (self->status_label, status);
  if (state == MCR_PORT_MAP_STATE_ERROR)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
  gtk_image_set_from_icon_name (self->state_image, state_icon (map));
  /* Waiting for an offline device: offer to wake it. */
  gtk_widget_set_visible (self->wake_button,
                          state == MCR_PORT_MAP_STATE_WAITING
                          && mcr_port_map_get_device (map) != NULL
                          && mcr_wake_can_wake (mcr_port_map_get_device (map)));

  gtk_widget_set_sensitive (self->open_button,
                            (spec->app_id != MCR_APP_CUSTOM || spec->app_name != NULL)
                            && mcr_port_map_get_local_port (map) != 0
                            && state != MCR_PORT_MAP_STATE_ERROR
                            && state != MCR_PORT_MAP_STATE_STOPPED);
  gtk_widget_set_tooltip_text (self->open_button,
                               spec->app_id == MCR_APP_CUSTOM && spec->app_name == NULL
                               ? _("This map has no app: connect your own program to its port")
                               : NULL);

  gtk_label_set_text (self->stat_connections, (number = g_strdup_printf ("%u", n)));
  g_free (number);
  gtk_label_set_text (self->stat_total,
                      (number = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                 mcr_port_map_get_total_connections (map))));
  g_free (number);
  gtk_label_set_text (self->stat_failed,
                      (number = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                 mcr_port_map_get_failed_connections (map))));
  gtk_label_set_text (self->stat_sent, sent);
  gtk_label_set_text (self->stat_received, received);
  gtk_label_set_text (self->stat_listen,
                      mcr_port_map_get_all_interfaces (map) ? _("All network interfaces")
                                                            : _("This computer only (loopback)"));
  gtk_label_set_text (self->stat_last_failure,
                      last_failure != NULL && *last_failure != '\0' ? last_failure : _("None"));

  mcr_rate_graph_set_rates (self->graph, mcr_port_map_get_rate_sent (map),
                            mcr_port_map_get_rate_received (map));

  accessible = g_strdup_printf ("%s, %s, %s", title, route, status);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
}

static void
on_map_notify (GObject    *map,
               GParamSpec *pspec,
               McrMapRow  *self)
{
  mcr_map_row_update (self);
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_OPEN], 0);
}

static void
remove_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_REMOVE], 0);
}

static gboolean
emit_set_enabled (gpointer user_data)
{
  McrMapRow *self = user_data;

  self->set_enabled_id = 0;
  if (self->map != NULL)
    g_signal_emit (self, signals[SIGNAL_SET_ENABLED], 0,
                   gtk_switch_get_active (self->enabled_switch));
  return G_SOURCE_REMOVE;
}

/* From an idle: the map is replaced in its list, which may destroy this
 * row and its switch, which must not happen inside the switch's own
 * notification. */
static void
on_enabled_switch (GtkSwitch  *enabled_switch,
                   GParamSpec *pspec,
                   McrMapRow  *self)
{
  if (self->set_enabled_id == 0)
    self->set_enabled_id = g_idle_add (emit_set_enabled, self);
}

static void
wake_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_WAKE], 0);
}

static void
mcr_map_row_dispose (GObject *object)
{
  McrMapRow *self = MCR_MAP_ROW (object);

  g_clear_handle_id (&self->set_enabled_id, g_source_remove);
  mcr_map_row_set_map (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_MAP_ROW);
  G_OBJECT_CLASS (mcr_map_row_parent_class)->dispose (object);
}

static void
mcr_map_row_class_init (McrMapRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_map_row_dispose;

  signals[SIGNAL_OPEN] = g_signal_new ("open", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_REMOVE] = g_signal_new ("remove", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_SET_ENABLED] = g_signal_new ("set-enabled", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  signals[SIGNAL_WAKE] = g_signal_new ("wake", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-map-row.ui");
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, state_image);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, all_interfaces_label);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, route_label);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, graph_box);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, open_button);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, enabled_switch);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, wake_button);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, stat_connections);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, stat_total);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, stat_failed);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, stat_sent);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, stat_received);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, stat_listen);
  gtk_widget_class_bind_template_child (widget_class, McrMapRow, stat_last_failure);

  gtk_widget_class_install_action (widget_class, "map.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "map.remove", NULL, remove_action);
  gtk_widget_class_install_action (widget_class, "map.wake", NULL, wake_action);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
mcr_map_row_init (McrMapRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->enabled_switch, "notify::active", G_CALLBACK (on_enabled_switch), self);
  self->graph = MCR_RATE_GRAPH (mcr_rate_graph_new ());
  gtk_box_append (GTK_BOX (self->graph_box), GTK_WIDGET (self->graph));
}

GtkWidget *
mcr_map_row_new (void)
{
  return g_object_new (MCR_TYPE_MAP_ROW, NULL);
}

void
mcr_map_row_set_map (McrMapRow  *self,
                     McrPortMap *map)
{
  g_return_if_fail (MCR_IS_MAP_ROW (self));

  if (self->map == map)
    return;
  /* A flip of the switch was for the map the row showed. */
  g_clear_handle_id (&self->set_enabled_id, g_source_remove);
  if (self->map != NULL)
    g_clear_signal_handler (&self->notify_id, self->map);
  g_set_object (&self->map, map);
  if (self->graph != NULL)
    mcr_rate_graph_clear (self->graph);
  if (map == NULL)
    return;
  self->notify_id = g_signal_connect (map, "notify", G_CALLBACK (on_map_notify), self);
  mcr_map_row_update (self);
}

McrPortMap *
mcr_map_row_get_map (McrMapRow *self)
{
  g_return_val_if_fail (MCR_IS_MAP_ROW (self), NULL);
  return self->map;
}
