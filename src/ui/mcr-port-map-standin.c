/* mcr-port-map-standin.c: a placeholder McrPortMap for building the UI before
 * the relay branch's real one is merged. It binds the local port and refuses
 * every connection. Compiled only when src/engine/mcr-port-map.c is absent;
 * delete it once the real one is in.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-port-map-standin"

#include "config.h"

#include "mcr-port-map.h"

struct _McrPortMap
{
  GObject            parent_instance;

  McrServer         *server;
  McrMapSpec        *spec;
  McrDevice         *device;
  GSocketListener   *listener;
  McrPortMapState    state;
  guint16            local_port;
  gboolean           all_interfaces;
  guint64            failed;
};

G_DEFINE_FINAL_TYPE (McrPortMap, mcr_port_map, G_TYPE_OBJECT)
G_DEFINE_QUARK (mcr-port-map-error-quark, mcr_port_map_error)

enum
{
  PROP_0,
  PROP_SPEC,
  PROP_DEVICE,
  PROP_STATE,
  PROP_LOCAL_PORT,
  PROP_ALL_INTERFACES,
  PROP_N_CONNECTIONS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mcr_port_map_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  McrPortMap *self = MCR_PORT_MAP (object);

  switch (prop_id)
    {
    case PROP_SPEC:
      g_value_set_boxed (value, self->spec);
      break;
    case PROP_DEVICE:
      g_value_set_object (value, self->device);
      break;
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_LOCAL_PORT:
      g_value_set_uint (value, self->local_port);
      break;
    case PROP_ALL_INTERFACES:
      g_value_set_boolean (value, self->all_interfaces);
      break;
    case PROP_N_CONNECTIONS:
      g_value_set_uint (value, 0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_port_map_dispose (GObject *object)
{
  McrPortMap *self = MCR_PORT_MAP (object);

  mcr_port_map_stop (self);
  g_clear_object (&self->server);
  g_clear_object (&self->device);
  G_OBJECT_CLASS (mcr_port_map_parent_class)->dispose (object);
}

static void
mcr_port_map_finalize (GObject *object)
{
  g_clear_pointer (&MCR_PORT_MAP (object)->spec, mcr_map_spec_free);
  G_OBJECT_CLASS (mcr_port_map_parent_class)->finalize (object);
}

static void
mcr_port_map_class_init (McrPortMapClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = mcr_port_map_get_property;
  object_class->dispose = mcr_port_map_dispose;
  object_class->finalize = mcr_port_map_finalize;

  properties[PROP_SPEC] = g_param_spec_boxed ("spec", NULL, NULL, MCR_TYPE_MAP_SPEC, flags);
  properties[PROP_DEVICE] = g_param_spec_object ("device", NULL, NULL, MCR_TYPE_DEVICE, flags);
  properties[PROP_STATE] = g_param_spec_int ("state", NULL, NULL, 0, G_MAXINT, 0, flags);
  properties[PROP_LOCAL_PORT] = g_param_spec_uint ("local-port", NULL, NULL, 0, 65535, 0, flags);
  properties[PROP_ALL_INTERFACES] = g_param_spec_boolean ("all-interfaces", NULL, NULL, FALSE,
                                                          flags);
  properties[PROP_N_CONNECTIONS] = g_param_spec_uint ("n-connections", NULL, NULL, 0, G_MAXUINT,
                                                      0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mcr_port_map_init (McrPortMap *self)
{
}

McrPortMap *
mcr_port_map_new (McrServer        *server,
                  const McrMapSpec *spec)
{
  McrPortMap *self = g_object_new (MCR_TYPE_PORT_MAP, NULL);

  self->server = g_object_ref (server);
  self->spec = mcr_map_spec_copy (spec);
  if (spec->node_id != NULL)
    self->device = mcr_server_lookup_device (server, spec->node_id);
  if (self->device != NULL)
    g_object_ref (self->device);
  return self;
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             McrPortMap        *self)
{
  self->failed++;
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

gboolean
mcr_port_map_start (McrPortMap *self,
                    gboolean    all_interfaces,
                    GError    **error)
{
  g_autoptr(GInetAddress) inet = all_interfaces ? g_inet_address_new_any (G_SOCKET_FAMILY_IPV4)
                                                : g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (inet, self->spec->local_port);
  g_autoptr(GSocketAddress) effective = NULL;

  self->listener = G_SOCKET_LISTENER (g_socket_service_new ());
  if (!g_socket_listener_add_address (self->listener, address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, error))
    return FALSE;
  g_signal_connect (self->listener, "incoming", G_CALLBACK (on_incoming), self);
  self->local_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  self->all_interfaces = all_interfaces;
  self->state = MCR_PORT_MAP_STATE_LISTENING;
  return TRUE;
}

void
mcr_port_map_stop (McrPortMap *self)
{
  if (self->listener != NULL)
    {
      g_socket_service_stop (G_SOCKET_SERVICE (self->listener));
      g_socket_listener_close (self->listener);
      g_clear_object (&self->listener);
    }
  if (self->state != MCR_PORT_MAP_STATE_STOPPED)
    {
      self->state = MCR_PORT_MAP_STATE_STOPPED;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

const McrMapSpec *mcr_port_map_get_spec (McrPortMap *self) { return self->spec; }
McrDevice *mcr_port_map_get_device (McrPortMap *self) { return self->device; }
McrPortMapState mcr_port_map_get_state (McrPortMap *self) { return self->state; }
const char *mcr_port_map_get_error_message (McrPortMap *self) { return NULL; }
const char *mcr_port_map_get_last_failure (McrPortMap *self) { return self->failed ? "relay not built" : NULL; }
guint16 mcr_port_map_get_local_port (McrPortMap *self) { return self->local_port; }
gboolean mcr_port_map_get_all_interfaces (McrPortMap *self) { return self->all_interfaces; }
guint mcr_port_map_get_n_connections (McrPortMap *self) { return 0; }
guint64 mcr_port_map_get_total_connections (McrPortMap *self) { return self->failed; }
guint64 mcr_port_map_get_failed_connections (McrPortMap *self) { return self->failed; }
guint64 mcr_port_map_get_bytes_sent (McrPortMap *self) { return 0; }
guint64 mcr_port_map_get_bytes_received (McrPortMap *self) { return 0; }
double mcr_port_map_get_rate_sent (McrPortMap *self) { return 0; }
double mcr_port_map_get_rate_received (McrPortMap *self) { return 0; }
