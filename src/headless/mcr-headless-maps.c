/* mcr-headless-maps.c: the -map: and -relaymap: maps of a headless run, and
 * the lines they print
 *
 * Standard output gets one line per map once it listens, for scripts to read
 * the port from:
 *   TCP 127.0.0.1:40123 -> vm:3389
 *   TCP 127.0.0.1:40124 -> vm -> 192.168.1.10:80
 * Standard error gets one line per problem, naming the map by its argument.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-headless"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "mcr-headless-maps.h"
#include "mcr-port-map.h"

struct _McrHeadlessMaps
{
  McrServer *server;
  gboolean   all_interfaces;
  GPtrArray *maps;   /* McrPortMap */
  McrHeadlessAutoExitFunc auto_exit_func;
  gpointer   auto_exit_data;
  McrPortMap *auto_exit_map;    /* the map whose grace timer runs */
  guint      auto_exit_id;
  gboolean   auto_exit_done;
};

static char *
map_argument (McrPortMap *map)
{
  return mcr_port_map_dup_argument (map);
}

static void
print_listening (McrPortMap *map)
{
  const McrMapSpec *spec = mcr_port_map_get_spec (map);
  McrDevice *device = mcr_port_map_get_device (map);
  const char *name = device ? mcr_device_get_name (device)
                            : (spec->node_name ? spec->node_name : spec->node_id);
  const char *bound = mcr_port_map_get_all_interfaces (map) ? "0.0.0.0" : "127.0.0.1";

  if (spec->remote_ip != NULL)
    g_print ("%s %s:%u -> %s -> %s:%u\n", mcr_protocol_to_string (spec->protocol), bound,
             mcr_port_map_get_local_port (map), name, spec->remote_ip, spec->remote_port);
  else
    g_print ("%s %s:%u -> %s:%u\n", mcr_protocol_to_string (spec->protocol), bound,
             mcr_port_map_get_local_port (map), name, spec->remote_port);
}

static void
on_state (McrPortMap      *map,
          GParamSpec      *pspec,
          McrHeadlessMaps *self)
{
  g_autofree char *arg = map_argument (map);
  McrDevice *device = mcr_port_map_get_device (map);
  const char *name = device ? mcr_device_get_name (device) : "";

  switch (mcr_port_map_get_state (map))
    {
    case MCR_PORT_MAP_STATE_WAITING:
      g_printerr (_("meshcentral-router: %s: %s is offline; waiting for it\n"), arg, name);
      break;
    case MCR_PORT_MAP_STATE_LISTENING:
      g_printerr (_("meshcentral-router: %s: %s is online again\n"), arg, name);
      break;
    case MCR_PORT_MAP_STATE_ERROR:
      g_printerr ("meshcentral-router: %s: %s\n", arg, mcr_port_map_get_error_message (map));
      break;
    case MCR_PORT_MAP_STATE_STARTING:
    case MCR_PORT_MAP_STATE_STOPPED:
    default:
      break;
    }
}

static void
on_failed_connection (McrPortMap      *map,
                      GParamSpec      *pspec,
                      McrHeadlessMaps *self)
{
  g_autofree char *arg = map_argument (map);

  g_printerr ("meshcentral-router: %s: %s\n", arg, mcr_port_map_get_last_failure (map));
}

static gboolean
on_auto_exit_timeout (gpointer user_data)
{
  McrHeadlessMaps *self = user_data;

  self->auto_exit_id = 0;
  self->auto_exit_done = TRUE;
  if (self->auto_exit_func != NULL)
    self->auto_exit_func (self->auto_exit_map, self->auto_exit_data);
  return G_SOURCE_REMOVE;
}

/* Maps with auto_exit: once one had a connection and has none left, a
 * grace timer runs; any new connection stops it. */
static void
on_n_connections (McrPortMap      *map,
                  GParamSpec      *pspec,
                  McrHeadlessMaps *self)
{
  if (self->auto_exit_done)
    return;
  if (mcr_port_map_get_n_connections (map) > 0)
    {
      g_object_set_data (G_OBJECT (map), "mcr-had-connection", GINT_TO_POINTER (TRUE));
      if (self->auto_exit_map == map)
        g_clear_handle_id (&self->auto_exit_id, g_source_remove);
      return;
    }
  if (!g_object_get_data (G_OBJECT (map), "mcr-had-connection") || self->auto_exit_id != 0)
    return;
  g_debug ("the last connection of an autoexit map closed; quitting in %u s unless another "
           "comes", MCR_AUTO_EXIT_GRACE_S);
  self->auto_exit_map = map;
  self->auto_exit_id = g_timeout_add_seconds (MCR_AUTO_EXIT_GRACE_S, on_auto_exit_timeout, self);
}

void
mcr_headless_maps_set_auto_exit_func (McrHeadlessMaps        *self,
                                      McrHeadlessAutoExitFunc func,
                                      gpointer                user_data)
{
  self->auto_exit_func = func;
  self->auto_exit_data = user_data;
}

McrHeadlessMaps *
mcr_headless_maps_new (McrServer *server,
                       gboolean   all_interfaces)
{
  McrHeadlessMaps *self = g_new0 (McrHeadlessMaps, 1);

  self->server = g_object_ref (server);
  self->all_interfaces = all_interfaces;
  self->maps = g_ptr_array_new_with_free_func (g_object_unref);
  return self;
}

guint
mcr_headless_maps_start (McrHeadlessMaps *self,
                         GPtrArray       *specs)
{
  guint started = 0;

  for (guint i = 0; specs != NULL && i < specs->len; i++)
    {
      const McrMapSpec *spec = g_ptr_array_index (specs, i);
      g_autoptr(McrPortMap) map = mcr_port_map_new (self->server, spec);
      g_autoptr(GError) error = NULL;

      if (!mcr_port_map_start (map, self->all_interfaces, &error))
        {
          g_autofree char *arg = map_argument (map);

          g_printerr ("meshcentral-router: %s: %s\n", arg, error->message);
          continue;
        }
      print_listening (map);
      if (mcr_port_map_get_state (map) == MCR_PORT_MAP_STATE_WAITING)
        on_state (map, NULL, self);
      g_signal_connect (map, "notify::state", G_CALLBACK (on_state), self);
      g_signal_connect (map, "notify::failed-connections", G_CALLBACK (on_failed_connection), self);
      if (spec->auto_exit)
        g_signal_connect (map, "notify::n-connections", G_CALLBACK (on_n_connections), self);
      g_ptr_array_add (self->maps, g_steal_pointer (&map));
      started++;
    }
  /* The lines are for scripts waiting on them: do not sit in a buffer. */
  fflush (stdout);
  return started;
}

void
mcr_headless_maps_free (McrHeadlessMaps *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->auto_exit_id, g_source_remove);
  for (guint i = 0; i < self->maps->len; i++)
    {
      McrPortMap *map = g_ptr_array_index (self->maps, i);

      g_signal_handlers_disconnect_by_data (map, self);
      mcr_port_map_stop (map);
    }
  g_ptr_array_unref (self->maps);
  g_object_unref (self->server);
  g_free (self);
}
