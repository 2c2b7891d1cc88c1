/* mcr-notifier.c: desktop notifications about what happens while the window
 * is not looked at
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Everything notified here is also shown in the window (the map row's state,
 * the device list, the login page). A notification is only for when nobody
 * looks at the window: hidden, minimised, or another application focused.
 * Each subject has a stable id, so a device that goes offline and comes
 * back leaves one notification, not two.
 */
#define G_LOG_DOMAIN "mcr-notifier"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-map-row.h"
#include "mcr-notifier.h"

struct _McrNotifier
{
  GObject       parent_instance;

  GApplication *application; /* not owned: it owns us */
  McrSession   *session;
  McrServer    *server;
  GHashTable   *devices;     /* node id → DeviceWatch */
  gboolean      background_shown;
  gboolean      server_shown;
};

G_DEFINE_FINAL_TYPE (McrNotifier, mcr_notifier, G_TYPE_OBJECT)

/* One per device that active maps use, by node id: the McrDevice of a node
 * can change (a device removed from the server and added again, as a
 * temporary agent is when it disconnects). */
typedef struct
{
  McrNotifier *notifier;
  char        *node_id;
  char        *name;
  McrDevice   *device;      /* or NULL while the server has no such device */
  gulong       online_id;
  gboolean     online;
  gboolean     told_offline;
} DeviceWatch;

/* ---- sending ----------------------------------------------------------- */

/* A window of ours has the focus: what we would say is on screen. */
static gboolean
is_seen (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  guint n = g_list_model_get_n_items (toplevels);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (gtk_widget_get_visible (GTK_WIDGET (window)) && gtk_window_is_active (window))
        return TRUE;
    }
  return FALSE;
}

static GNotification *
new_notification (const char *title,
                  const char *body)
{
  GNotification *notification = g_notification_new (title);
  g_autoptr(GIcon) icon = g_themed_icon_new (APP_ID);

  g_notification_set_body (notification, body);
  g_notification_set_icon (notification, icon);
  g_notification_set_default_action (notification, "app.show-window");
  return notification;
}

static void
send (McrNotifier   *self,
      const char    *id,
      GNotification *notification)
{
  if (self->application == NULL || !g_application_get_is_registered (self->application))
    return;
  g_debug ("notification %s", id);
  g_application_send_notification (self->application, id, notification);
}

static void
withdraw (McrNotifier *self,
          const char  *id)
{
  if (self->application == NULL || !g_application_get_is_registered (self->application))
    return;
  g_application_withdraw_notification (self->application, id);
}

char *
mcr_notifier_map_id (McrPortMap *map)
{
  g_autofree char *argument = mcr_map_spec_to_argument (mcr_port_map_get_spec (map));

  return g_strdup_printf ("map-%08x", g_str_hash (argument));
}

/* ---- the background ----------------------------------------------------- */

void
mcr_notifier_show_background (McrNotifier *self,
                              guint        n_active_maps)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;

  g_return_if_fail (MCR_IS_NOTIFIER (self));

  body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u map is active",
                                       "%u maps are active", n_active_maps),
                          n_active_maps);
  notification = new_notification (_("MeshCentral Router is still running"), body);
  g_notification_add_button (notification, _("Show Window"), "app.show-window");
  g_notification_add_button (notification, _("Quit"), "app.quit");
  send (self, MCR_NOTIFICATION_BACKGROUND, notification);
  self->background_shown = TRUE;
}

void
mcr_notifier_withdraw_background (McrNotifier *self)
{
  g_return_if_fail (MCR_IS_NOTIFIER (self));
  if (!self->background_shown)
    return;
  self->background_shown = FALSE;
  withdraw (self, MCR_NOTIFICATION_BACKGROUND);
}

/* ---- maps ------------------------------------------------------------------ */

static void
on_map_failed (McrSession  *session,
               McrPortMap  *map,
               McrNotifier *self)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *id = mcr_notifier_map_id (map);
  g_autofree char *name = mcr_map_describe_title (map);
  g_autofree char *title = NULL;
  const char *message = mcr_port_map_get_error_message (map);

  if (is_seen ())
    return;
  /* Translators: a notification title; %s is a map such as "PC1 (HTTP)" */
  title = g_strdup_printf (_("The map %s failed"), name);
  notification = new_notification (title, message != NULL ? message : _("It stopped."));
  send (self, id, notification);
}

/* ---- devices --------------------------------------------------------------- */

static gboolean
map_is_active (McrPortMap *map)
{
  McrPortMapState state = mcr_port_map_get_state (map);

  return state != MCR_PORT_MAP_STATE_ERROR && state != MCR_PORT_MAP_STATE_STOPPED;
}

static const char *
map_node_id (McrPortMap *map)
{
  McrDevice *device = mcr_port_map_get_device (map);

  if (device != NULL)
    return mcr_device_get_id (device);
  return mcr_port_map_get_spec (map)->node_id;
}

static guint
count_maps_to (McrNotifier *self,
               const char  *node_id)
{
  GListModel *maps = mcr_session_get_maps (self->session);
  guint n = g_list_model_get_n_items (maps), count = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);

      if (map_is_active (map) && g_strcmp0 (map_node_id (map), node_id) == 0)
        count++;
    }
  return count;
}

static char *
device_notification_id (const char *node_id)
{
  return g_strconcat ("device-", node_id, NULL);
}

char *
mcr_notifier_device_id (McrDevice *device)
{
  return device_notification_id (mcr_device_get_id (device));
}

static void
tell_offline (DeviceWatch *watch)
{
  McrNotifier *self = watch->notifier;
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *id = device_notification_id (watch->node_id);
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  guint n = count_maps_to (self, watch->node_id);

  /* Translators: a notification title; %s is a device name */
  title = g_strdup_printf (_("%s went offline"), watch->name);
  body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "Its map waits until it is back.",
                                       "Its %u maps wait until it is back.", n),
                          n);
  notification = new_notification (title, body);
  send (self, id, notification);
  watch->told_offline = TRUE;
}

static void
tell_back_online (DeviceWatch *watch)
{
  McrNotifier *self = watch->notifier;
  g_autofree char *id = device_notification_id (watch->node_id);
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;

  watch->told_offline = FALSE;
  /* Looking at the window: the offline notice is out of date, and the
   * window shows the device online. */
  if (is_seen ())
    {
      withdraw (self, id);
      return;
    }
  /* Translators: a notification title; %s is a device name */
  title = g_strdup_printf (_("%s is back online"), watch->name);
  notification = new_notification (title, _("Its maps work again."));
  send (self, id, notification);
}

/* One notification per change between online and offline. A device that
 * is gone from the list (removed from the server, or the list cleared at
 * logout) says nothing either way; when it is back, its state counts. */
static void
device_watch_update (DeviceWatch *watch)
{
  gboolean online;

  if (watch->device == NULL)
    return;
  online = mcr_device_get_online (watch->device);
  if (online == watch->online)
    return;
  watch->online = online;
  if (!online && !is_seen ())
    tell_offline (watch);
  else if (online && watch->told_offline)
    tell_back_online (watch);
}

static void
device_watch_set_device (DeviceWatch *watch,
                         McrDevice   *device)
{
  if (watch->device == device)
    return;
  if (watch->device != NULL)
    g_clear_signal_handler (&watch->online_id, watch->device);
  g_set_object (&watch->device, device);
  if (device == NULL)
    return;
  g_free (watch->name);
  watch->name = g_strdup (mcr_device_get_name (device));
  watch->online_id = g_signal_connect_swapped (device, "notify::online",
                                               G_CALLBACK (device_watch_update), watch);
}

static void
device_watch_free (DeviceWatch *watch)
{
  device_watch_set_device (watch, NULL);
  g_free (watch->node_id);
  g_free (watch->name);
  g_free (watch);
}

static DeviceWatch *
device_watch_new (McrNotifier *self,
                  McrPortMap  *map)
{
  DeviceWatch *watch = g_new0 (DeviceWatch, 1);
  const McrMapSpec *spec = mcr_port_map_get_spec (map);

  watch->notifier = self;
  watch->node_id = g_strdup (map_node_id (map));
  watch->name = g_strdup (spec->node_name != NULL ? spec->node_name : watch->node_id);
  device_watch_set_device (watch, mcr_port_map_get_device (map));
  watch->online = watch->device != NULL && mcr_device_get_online (watch->device);
  return watch;
}

/* Watches the devices that active maps use, and only those. */
static void
update_devices (McrNotifier *self)
{
  GListModel *maps = mcr_session_get_maps (self->session);
  guint n = g_list_model_get_n_items (maps);
  g_autoptr(GHashTable) used = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);
      const char *node_id = map_node_id (map);
      DeviceWatch *watch;

      if (node_id == NULL || !map_is_active (map))
        continue;
      g_hash_table_add (used, (gpointer) node_id);
      watch = g_hash_table_lookup (self->devices, node_id);
      if (watch == NULL)
        {
          watch = device_watch_new (self, map);
          g_hash_table_insert (self->devices, watch->node_id, watch);
        }
      else if (watch->device != mcr_port_map_get_device (map))
        {
          device_watch_set_device (watch, mcr_port_map_get_device (map));
          device_watch_update (watch);
        }
    }

  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (used, key))
      g_hash_table_iter_remove (&iter);
}

static void
on_maps_changed (GListModel  *maps,
                 guint        position,
                 guint        removed,
                 guint        added,
                 McrNotifier *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);

      g_signal_connect_object (map, "notify::device", G_CALLBACK (update_devices), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (map, "notify::state", G_CALLBACK (update_devices), self,
                               G_CONNECT_SWAPPED);
    }
  update_devices (self);
}

/* ---- the server ------------------------------------------------------------ */

/* Connected when the session gets its server, before the window's own
 * handler: the maps are still there to be counted. */
static void
on_server_state (McrServer   *server,
                 GParamSpec  *pspec,
                 McrNotifier *self)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  const GError *error = mcr_server_get_error (server);
  const char *reason = error != NULL ? error->message : _("The server closed the connection.");
  guint n = mcr_session_get_n_active_maps (self->session);

  /* DISCONNECTED is a logout; FAILED is a loss the server did not recover. */
  if (mcr_server_get_state (server) != MCR_SERVER_STATE_FAILED || is_seen ())
    return;
  /* Translators: a notification title; %s is a server address */
  title = g_strdup_printf (_("Disconnected from %s"), mcr_server_get_display_name (server));
  if (n > 0)
    /* Translators: a notification body: the reason, then how many maps stopped */
    body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s\n%u map was stopped.",
                                         "%s\n%u maps were stopped.", n),
                            reason, n);
  else
    body = g_strdup (reason);
  notification = new_notification (title, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
  send (self, MCR_NOTIFICATION_SERVER, notification);
  self->server_shown = TRUE;
}

static void
set_server (McrNotifier *self,
            McrServer   *server)
{
  if (self->server == server)
    return;
  if (self->server != NULL)
    g_signal_handlers_disconnect_by_func (self->server, on_server_state, self);
  g_set_object (&self->server, server);
  if (server != NULL)
    {
      g_signal_connect (server, "notify::state", G_CALLBACK (on_server_state), self);
      /* A new login: an old "disconnected" notice is out of date. */
      if (self->server_shown)
        withdraw (self, MCR_NOTIFICATION_SERVER);
      self->server_shown = FALSE;
    }
}

static void
on_session_server (McrSession  *session,
                   GParamSpec  *pspec,
                   McrNotifier *self)
{
  set_server (self, mcr_session_get_server (session));
}

/* ---- the object ------------------------------------------------------------ */

static void
mcr_notifier_dispose (GObject *object)
{
  McrNotifier *self = MCR_NOTIFIER (object);

  set_server (self, NULL);
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      g_signal_handlers_disconnect_by_data (mcr_session_get_maps (self->session), self);
    }
  g_clear_object (&self->session);
  g_clear_pointer (&self->devices, g_hash_table_unref);
  g_clear_weak_pointer (&self->application);
  G_OBJECT_CLASS (mcr_notifier_parent_class)->dispose (object);
}

static void
mcr_notifier_class_init (McrNotifierClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mcr_notifier_dispose;
}

static void
mcr_notifier_init (McrNotifier *self)
{
  self->devices = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) device_watch_free);
}

McrNotifier *
mcr_notifier_new (GApplication *application,
                  McrSession   *session)
{
  McrNotifier *self;
  GListModel *maps;

  g_return_val_if_fail (G_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (MCR_IS_SESSION (session), NULL);

  self = g_object_new (MCR_TYPE_NOTIFIER, NULL);
  g_set_weak_pointer (&self->application, application);
  self->session = g_object_ref (session);
  maps = mcr_session_get_maps (session);
  g_signal_connect (session, "map-failed", G_CALLBACK (on_map_failed), self);
  g_signal_connect (session, "notify::server", G_CALLBACK (on_session_server), self);
  g_signal_connect (maps, "items-changed", G_CALLBACK (on_maps_changed), self);
  on_maps_changed (maps, 0, 0, g_list_model_get_n_items (maps), self);
  set_server (self, mcr_session_get_server (session));
  return self;
}
