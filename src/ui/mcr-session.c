/* mcr-session.c: what one login has: the server, its maps, opening their apps
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-session"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-map-row.h"
#include "mcr-session.h"

struct _McrSession
{
  GObject      parent_instance;

  GSettings   *settings;
  McrServer   *server;
  GListStore  *maps;
  McrLauncher *launcher;
  gboolean     force_all_interfaces;
  guint        auto_exit_id;
};

G_DEFINE_FINAL_TYPE (McrSession, mcr_session, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_SERVER,
  PROP_MAPS,
  N_PROPS
};

enum
{
  SIGNAL_LAUNCH_FAILED,
  SIGNAL_AUTO_EXIT,
  SIGNAL_MAP_FAILED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static gboolean
on_auto_exit_timeout (gpointer user_data)
{
  McrSession *self = user_data;

  self->auto_exit_id = 0;
  g_debug ("no connection came back: auto-exit");
  g_signal_emit (self, signals[SIGNAL_AUTO_EXIT], 0);
  return G_SOURCE_REMOVE;
}

/* Maps created with auto_exit: once one of their connections has come and
 * gone, the application may quit (the Windows router's autoexit, which
 * watches the app it launched: we watch the app's connections, as the app
 * may be a browser tab or run in a process of its own). A connection that
 * comes within MCR_AUTO_EXIT_GRACE_S seconds (a client that reconnects, a
 * browser between two requests) keeps it running. */
static void
on_connections_changed (McrPortMap *map,
                        GParamSpec *pspec,
                        McrSession *self)
{
  gboolean had = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (map), "mcr-had-connection"));

  if (mcr_port_map_get_n_connections (map) > 0)
    {
      g_object_set_data (G_OBJECT (map), "mcr-had-connection", GINT_TO_POINTER (TRUE));
      g_clear_handle_id (&self->auto_exit_id, g_source_remove);
    }
  else if (had && self->auto_exit_id == 0)
    {
      g_debug ("the last connection of an auto-exit map closed");
      self->auto_exit_id = g_timeout_add_seconds (MCR_AUTO_EXIT_GRACE_S, on_auto_exit_timeout,
                                                  self);
    }
}

static void
on_map_state (McrPortMap *map,
              GParamSpec *pspec,
              McrSession *self)
{
  if (mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_ERROR)
    g_signal_emit (self, signals[SIGNAL_MAP_FAILED], 0, map);
}

static void
stop_map (McrSession *self,
          McrPortMap *map)
{
  g_signal_handlers_disconnect_by_func (map, on_connections_changed, self);
  g_signal_handlers_disconnect_by_func (map, on_map_state, self);
  mcr_port_map_stop (map);
}

void
mcr_session_remove_all_maps (McrSession *self)
{
  guint n;

  g_return_if_fail (MCR_IS_SESSION (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->maps));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (G_LIST_MODEL (self->maps), i);

      stop_map (self, map);
    }
  g_list_store_remove_all (self->maps);
}

static void
mcr_session_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  McrSession *self = MCR_SESSION (object);

  switch (prop_id)
    {
    case PROP_SERVER:
      g_value_set_object (value, self->server);
      break;
    case PROP_MAPS:
      g_value_set_object (value, self->maps);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_session_dispose (GObject *object)
{
  McrSession *self = MCR_SESSION (object);

  if (self->maps != NULL)
    mcr_session_remove_all_maps (self);
  g_clear_handle_id (&self->auto_exit_id, g_source_remove);
  g_clear_object (&self->server);
  g_clear_object (&self->maps);
  g_clear_object (&self->launcher);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mcr_session_parent_class)->dispose (object);
}

static void
mcr_session_class_init (McrSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = mcr_session_get_property;
  object_class->dispose = mcr_session_dispose;

  properties[PROP_SERVER] =
    g_param_spec_object ("server", NULL, NULL, MCR_TYPE_SERVER,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAPS] =
    g_param_spec_object ("maps", NULL, NULL, G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_LAUNCH_FAILED] =
    g_signal_new ("launch-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_AUTO_EXIT] =
    g_signal_new ("auto-exit", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_MAP_FAILED] =
    g_signal_new ("map-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, MCR_TYPE_PORT_MAP);
}

static void
mcr_session_init (McrSession *self)
{
  self->maps = g_list_store_new (MCR_TYPE_PORT_MAP);
  self->launcher = mcr_launcher_new ();
}

McrSession *
mcr_session_new (GSettings *settings)
{
  McrSession *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (MCR_TYPE_SESSION, NULL);
  self->settings = g_object_ref (settings);
  return self;
}

McrServer *
mcr_session_get_server (McrSession *self)
{
  g_return_val_if_fail (MCR_IS_SESSION (self), NULL);
  return self->server;
}

void
mcr_session_set_server (McrSession *self,
                        McrServer  *server)
{
  g_return_if_fail (MCR_IS_SESSION (self));

  if (self->server == server)
    return;
  mcr_session_remove_all_maps (self);
  g_set_object (&self->server, server);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER]);
}

GListModel *
mcr_session_get_maps (McrSession *self)
{
  g_return_val_if_fail (MCR_IS_SESSION (self), NULL);
  return G_LIST_MODEL (self->maps);
}

guint
mcr_session_get_n_active_maps (McrSession *self)
{
  guint n, active = 0;

  g_return_val_if_fail (MCR_IS_SESSION (self), 0);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->maps));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (G_LIST_MODEL (self->maps), i);
      McrPortMapState state = mcr_port_map_get_state (map);

      if (state != MCR_PORT_MAP_STATE_ERROR && state != MCR_PORT_MAP_STATE_STOPPED)
        active++;
    }
  return active;
}

McrLauncher *
mcr_session_get_launcher (McrSession *self)
{
  g_return_val_if_fail (MCR_IS_SESSION (self), NULL);
  return self->launcher;
}

void
mcr_session_set_force_all_interfaces (McrSession *self,
                                      gboolean    force)
{
  g_return_if_fail (MCR_IS_SESSION (self));
  self->force_all_interfaces = !!force;
}

gboolean
mcr_session_get_all_interfaces (McrSession *self)
{
  g_return_val_if_fail (MCR_IS_SESSION (self), FALSE);
  return self->force_all_interfaces
         || g_settings_get_boolean (self->settings, "bind-all-interfaces");
}

McrPortMap *
mcr_session_find_map (McrSession       *self,
                      const McrMapSpec *spec)
{
  guint n;

  g_return_val_if_fail (MCR_IS_SESSION (self), NULL);
  g_return_val_if_fail (spec != NULL, NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->maps));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (G_LIST_MODEL (self->maps), i);
      const McrMapSpec *other = mcr_port_map_get_spec (map);

      /* A map asked for on a given local port is only the same map if it
       * listens there. */
      if (!other->disabled && mcr_map_spec_equal_target (other, spec)
          && (spec->local_port == 0 || spec->local_port == mcr_port_map_get_local_port (map))
          && mcr_port_map_get_state (map) != MCR_PORT_MAP_STATE_ERROR)
        return map;
    }
  return NULL;
}

/* @quiet: no "map-failed" when it cannot start (a first try). */
static McrPortMap *
add_map (McrSession       *self,
         const McrMapSpec *spec,
         gboolean          quiet,
         gboolean         *reused,
         GError          **error)
{
  g_autoptr(McrPortMap) map = NULL;
  McrPortMap *existing;

  g_return_val_if_fail (MCR_IS_SESSION (self), NULL);
  g_return_val_if_fail (spec != NULL, NULL);

  if (reused != NULL)
    *reused = FALSE;
  if (self->server == NULL)
    {
      g_set_error_literal (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_CLOSED,
                           _("Log in to a server before adding maps."));
      return NULL;
    }

  if (spec->disabled)
    {
      g_autoptr(McrMapSpec) off = mcr_map_spec_copy (spec);
      McrDevice *device = off->node_id != NULL
                          ? mcr_server_lookup_device (self->server, off->node_id) : NULL;

      /* Switched off: listed (under its device's name), not started. */
      if (device != NULL)
        {
          g_free (off->node_name);
          off->node_name = g_strdup (mcr_device_get_name (device));
        }
      map = mcr_port_map_new (self->server, off);
      g_list_store_append (self->maps, map);
      return map;
    }

  existing = mcr_session_find_map (self, spec);
  if (existing != NULL)
    {
      g_debug ("reusing the identical map on port %u", mcr_port_map_get_local_port (existing));
      if (reused != NULL)
        *reused = TRUE;
      if (spec->launch)
        {
          g_autoptr(GError) launch_error = NULL;

          if (!mcr_session_open_map (self, existing, NULL, &launch_error))
            g_signal_emit (self, signals[SIGNAL_LAUNCH_FAILED], 0, launch_error->message);
        }
      return existing;
    }

  map = mcr_port_map_new (self->server, spec);
  if (!mcr_port_map_start (map, mcr_session_get_all_interfaces (self), error))
    {
      if (!quiet)
        g_signal_emit (self, signals[SIGNAL_MAP_FAILED], 0, map);
      return NULL;
    }
  if (spec->auto_exit)
    g_signal_connect (map, "notify::n-connections", G_CALLBACK (on_connections_changed), self);
  g_signal_connect (map, "notify::state", G_CALLBACK (on_map_state), self);
  g_list_store_append (self->maps, map);

  if (spec->launch)
    {
      g_autoptr(GError) launch_error = NULL;

      if (!mcr_session_open_map (self, map, NULL, &launch_error))
        g_signal_emit (self, signals[SIGNAL_LAUNCH_FAILED], 0, launch_error->message);
    }
  return map;
}

McrPortMap *
mcr_session_add_map (McrSession       *self,
                     const McrMapSpec *spec,
                     gboolean         *reused,
                     GError          **error)
{
  return add_map (self, spec, FALSE, reused, error);
}

McrPortMap *
mcr_session_restore_map (McrSession       *self,
                         const McrMapSpec *spec,
                         char            **note,
                         GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(McrMapSpec) any_port = NULL;
  McrPortMap *map;

  g_return_val_if_fail (MCR_IS_SESSION (self), NULL);
  g_return_val_if_fail (spec != NULL, NULL);

  if (note != NULL)
    *note = NULL;
  map = add_map (self, spec, spec->local_port != 0, NULL, &local_error);
  if (map != NULL || spec->local_port == 0
      || !g_error_matches (local_error, MCR_PORT_MAP_ERROR, MCR_PORT_MAP_ERROR_PORT_IN_USE))
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      return map;
    }

  any_port = mcr_map_spec_copy (spec);
  any_port->local_port = 0;
  map = mcr_session_add_map (self, any_port, NULL, error);
  if (map != NULL && note != NULL)
    {
      g_autofree char *title = mcr_map_describe_title (map);

      /* Translators: "Port 8080 is in use now: PC1 (HTTP) listens on port 40123." */
      *note = g_strdup_printf (_("Port %u is in use now: %s listens on port %u."),
                               spec->local_port, title, mcr_port_map_get_local_port (map));
    }
  return map;
}

McrPortMap *
mcr_session_set_map_enabled (McrSession *self,
                             McrPortMap *map,
                             gboolean    enabled,
                             GError    **error)
{
  g_autoptr(McrMapSpec) spec = NULL;
  g_autoptr(McrPortMap) replacement = NULL;
  guint position;

  g_return_val_if_fail (MCR_IS_SESSION (self), NULL);
  g_return_val_if_fail (MCR_IS_PORT_MAP (map), NULL);

  if (!g_list_store_find (self->maps, map, &position))
    return NULL;
  if (!mcr_port_map_get_spec (map)->disabled == !!enabled)
    return map;

  spec = mcr_map_spec_copy (mcr_port_map_get_spec (map));
  spec->disabled = !enabled;
  if (mcr_port_map_get_device (map) != NULL)
    {
      g_free (spec->node_name);
      spec->node_name = g_strdup (mcr_device_get_name (mcr_port_map_get_device (map)));
    }
  spec->launch = FALSE;
  /* It keeps its port, the one it had or will ask for again. */
  if (mcr_port_map_get_local_port (map) != 0)
    spec->local_port = mcr_port_map_get_local_port (map);
  replacement = mcr_port_map_new (self->server, spec);
  if (enabled)
    {
      if (!mcr_port_map_start (replacement, mcr_session_get_all_interfaces (self), error))
        return NULL;
      if (spec->auto_exit)
        g_signal_connect (replacement, "notify::n-connections",
                          G_CALLBACK (on_connections_changed), self);
      g_signal_connect (replacement, "notify::state", G_CALLBACK (on_map_state), self);
    }
  stop_map (self, map);
  g_list_store_splice (self->maps, position, 1, (gpointer *) &replacement, 1);
  return replacement;
}

McrPortMap *
mcr_session_quick_map (McrSession *self,
                       McrDevice  *device,
                       McrAppId    app,
                       GError    **error)
{
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  McrDeviceGroup *group;

  g_return_val_if_fail (MCR_IS_SESSION (self), NULL);
  g_return_val_if_fail (MCR_IS_DEVICE (device), NULL);

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->local_port = 0;
  spec->node_id = g_strdup (mcr_device_get_id (device));
  spec->node_name = g_strdup (mcr_device_get_name (device));
  group = mcr_device_get_group (device);
  if (group != NULL)
    spec->mesh_id = g_strdup (mcr_device_group_get_id (group));
  spec->app_id = app;
  spec->remote_port = mcr_app_id_default_port (app);
  if (app == MCR_APP_RDP && mcr_device_get_rdp_port (device) != 0)
    spec->remote_port = mcr_device_get_rdp_port (device);
  spec->launch = TRUE;
  return mcr_session_add_map (self, spec, NULL, error);
}

void
mcr_session_remove_map (McrSession *self,
                        McrPortMap *map)
{
  guint position;

  g_return_if_fail (MCR_IS_SESSION (self));
  g_return_if_fail (MCR_IS_PORT_MAP (map));

  if (!g_list_store_find (self->maps, map, &position))
    return;
  stop_map (self, map);
  g_list_store_remove (self->maps, position);
}

gboolean
mcr_session_lookup_custom_app (McrSession  *self,
                               const char  *name,
                               char       **program,
                               char       **arguments,
                               McrProtocol *protocol)
{
  g_autoptr(GVariant) apps = NULL;
  GVariantIter iter;
  const char *n, *p, *a, *proto;

  g_return_val_if_fail (MCR_IS_SESSION (self), FALSE);

  if (name == NULL)
    return FALSE;
  apps = g_settings_get_value (self->settings, "custom-apps");
  g_variant_iter_init (&iter, apps);
  while (g_variant_iter_next (&iter, "(&s&s&s&s)", &n, &p, &a, &proto))
    {
      if (g_strcmp0 (n, name) != 0)
        continue;
      if (program != NULL)
        *program = g_strdup (p);
      if (arguments != NULL)
        *arguments = g_strdup (a);
      if (protocol != NULL && !mcr_protocol_from_string (proto, protocol))
        *protocol = MCR_PROTOCOL_TCP;
      return TRUE;
    }
  return FALSE;
}

static void
report_uri_error (McrSession *self,
                  const char *uri,
                  GError     *error)
{
  g_autofree char *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
#if GTK_CHECK_VERSION (4, 10, 0)
      || g_error_matches (error, GTK_DIALOG_ERROR, GTK_DIALOG_ERROR_DISMISSED)
      || g_error_matches (error, GTK_DIALOG_ERROR, GTK_DIALOG_ERROR_CANCELLED)
#endif
     )
    return;
  message = g_strdup_printf (_("%s could not be opened: %s"), uri, error->message);
  g_signal_emit (self, signals[SIGNAL_LAUNCH_FAILED], 0, message);
}

#if GTK_CHECK_VERSION (4, 10, 0)
static void
uri_launched (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(McrSession) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!gtk_uri_launcher_launch_finish (GTK_URI_LAUNCHER (source), result, &error))
    report_uri_error (self, gtk_uri_launcher_get_uri (GTK_URI_LAUNCHER (source)), error);
}
#else
typedef struct
{
  McrSession *session;
  char       *uri;
} UriLaunch;

static void
uri_launched (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  UriLaunch *launch = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    report_uri_error (launch->session, launch->uri, error);
  g_object_unref (launch->session);
  g_free (launch->uri);
  g_free (launch);
}
#endif

static void
launch_uri (McrSession *self,
            const char *uri,
            GtkWindow  *parent)
{
  g_debug ("opening %s", uri);
#if GTK_CHECK_VERSION (4, 10, 0)
  {
    g_autoptr(GtkUriLauncher) launcher = gtk_uri_launcher_new (uri);

    gtk_uri_launcher_launch (launcher, parent, NULL, uri_launched, g_object_ref (self));
  }
#else
  {
    g_autoptr(GdkAppLaunchContext) context = NULL;
    UriLaunch *launch = g_new0 (UriLaunch, 1);

    if (parent != NULL)
      context = gdk_display_get_app_launch_context (gtk_widget_get_display (GTK_WIDGET (parent)));
    else if (gdk_display_get_default () != NULL)
      context = gdk_display_get_app_launch_context (gdk_display_get_default ());
    launch->session = g_object_ref (self);
    launch->uri = g_strdup (uri);
    g_app_info_launch_default_for_uri_async (uri, G_APP_LAUNCH_CONTEXT (context), NULL,
                                             uri_launched, launch);
  }
#endif
}

gboolean
mcr_session_open_map (McrSession *self,
                      McrPortMap *map,
                      GtkWindow  *parent,
                      GError    **error)
{
  const McrMapSpec *spec;
  McrDevice *device;
  McrLaunchRequest request = { 0 };
  g_autofree char *program = NULL;
  g_autofree char *arguments = NULL;
  g_autoptr(McrLaunchPlan) plan = NULL;

  g_return_val_if_fail (MCR_IS_SESSION (self), FALSE);
  g_return_val_if_fail (MCR_IS_PORT_MAP (map), FALSE);

  spec = mcr_port_map_get_spec (map);
  device = mcr_port_map_get_device (map);
  request.app_id = spec->app_id;
  request.port = mcr_port_map_get_local_port (map);
  request.address = "127.0.0.1";
  request.device_name = device != NULL ? mcr_device_get_name (device) : spec->node_name;

  if (spec->app_id == MCR_APP_CUSTOM && spec->app_name != NULL)
    {
      /* Only the user's own apps are run: a name from a file or a link must
       * match one of them. */
      if (!mcr_session_lookup_custom_app (self, spec->app_name, &program, &arguments, NULL))
        {
          g_set_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NO_APP,
                       _("There is no custom app called “%s”: add it in Custom Apps"),
                       spec->app_name);
          return FALSE;
        }
      request.custom_name = spec->app_name;
      request.custom_program = program;
      request.custom_arguments = arguments;
    }

  plan = mcr_launcher_plan (self->launcher, &request, error);
  if (plan == NULL)
    return FALSE;
  if (plan->uri != NULL)
    {
      launch_uri (self, plan->uri, parent);
      return TRUE;
    }
  return mcr_launcher_spawn (self->launcher, plan, error);
}
