/* mcr-port-map.c: one local port carried through the relay to a device
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * A TCP map opens one tunnel per accepted connection. A UDP map keeps one
 * tunnel per local peer address, made on that peer's first datagram and
 * closed when idle: the agent answers each tunnel from its own socket, so
 * this is what keeps the replies of several local programs apart.
 *
 * Statistics cost nothing while idle: tunnels count bytes in plain fields,
 * and the once-a-second tick that turns them into properties and rates runs
 * only while bytes move (a tunnel's "activity" starts it again).
 */
#define G_LOG_DOMAIN "mcr-port-map"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mcr-enums.h"
#include "mcr-ids.h"
#include "mcr-log.h"
#include "mcr-port-map-private.h"
#include "mcr-proxy-cache.h"
#include "mcr-string-field.h"
#include "mcr-tls-policy.h"

/* How long a proxy answer for the server's address is reused. */
#define PROXY_MEMORY_S 30

enum
{
  PROP_0,
  PROP_SPEC,
  PROP_DEVICE,
  PROP_STATE,
  PROP_ERROR_MESSAGE,
  PROP_LAST_FAILURE,
  PROP_LOCAL_PORT,
  PROP_ALL_INTERFACES,
  PROP_N_CONNECTIONS,
  PROP_TOTAL_CONNECTIONS,
  PROP_FAILED_CONNECTIONS,
  PROP_BYTES_SENT,
  PROP_BYTES_RECEIVED,
  PROP_RATE_SENT,
  PROP_RATE_RECEIVED,
  PROP_CONNECTIONS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_QUARK (mcr-port-map-error-quark, mcr_port_map_error)
G_DEFINE_FINAL_TYPE (McrPortMap, mcr_port_map, G_TYPE_OBJECT)

static void resolve_device (McrPortMap *self);

static void
notify (McrPortMap *self,
        guint       prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_state (McrPortMap      *self,
           McrPortMapState  state)
{
  if (self->state == state)
    return;
  g_debug ("map on port %u: %s", self->local_port, mcr_enum_nick (MCR_TYPE_PORT_MAP_STATE, state));
  self->state = state;
  notify (self, PROP_STATE);
}

static void
set_string (McrPortMap  *self,
            char       **field,
            const char  *value,
            guint        prop)
{
  if (mcr_set_string (field, value))
    notify (self, prop);
}

static const char *
device_label (McrPortMap *self)
{
  if (self->device != NULL)
    return mcr_device_get_name (self->device);
  if (self->device_name != NULL)
    return self->device_name;
  if (self->spec->node_name != NULL)
    return self->spec->node_name;
  return self->spec->node_id ? self->spec->node_id : "?";
}

/* ---- statistics ---- */


static gboolean
on_tick (gpointer user_data)
{
  McrPortMap *self = user_data;
  guint64 sent = self->closed_sent, received = self->closed_received;
  gint64 now = g_get_monotonic_time ();
  double secs = (double) MAX (now - self->tick_time, 1) / G_USEC_PER_SEC;
  gboolean moved = FALSE;
  double rs, rr;

  for (guint i = 0; i < _mcr_port_map_n_tunnels (self); i++)
    {
      g_autoptr(McrTunnel) t = g_list_model_get_item (G_LIST_MODEL (self->connections), i);

      sent += mcr_tunnel_get_bytes_sent (t);
      received += mcr_tunnel_get_bytes_received (t);
      moved |= mcr_tunnel_flush_stats (t);
    }
  rs = (double) (sent - self->bytes_sent) / secs;
  rr = (double) (received - self->bytes_received) / secs;
  self->tick_time = now;
  if (sent != self->bytes_sent)
    {
      self->bytes_sent = sent;
      notify (self, PROP_BYTES_SENT);
    }
  if (received != self->bytes_received)
    {
      self->bytes_received = received;
      notify (self, PROP_BYTES_RECEIVED);
    }
  if (rs != self->rate_sent)
    {
      self->rate_sent = rs;
      notify (self, PROP_RATE_SENT);
    }
  if (rr != self->rate_received)
    {
      self->rate_received = rr;
      notify (self, PROP_RATE_RECEIVED);
    }
  if (moved || rs > 0 || rr > 0)
    return G_SOURCE_CONTINUE;
  /* Quiet: stop until a tunnel reports activity again. */
  self->tick_id = 0;
  return G_SOURCE_REMOVE;
}

static void
on_tunnel_activity (McrTunnel  *tunnel,
                    McrPortMap *self)
{
  if (self->tick_id != 0)
    return;
  self->tick_time = g_get_monotonic_time ();
  self->tick_id = g_timeout_add (1000, on_tick, self);
}

/* ---- tunnels ---- */

guint
_mcr_port_map_n_tunnels (McrPortMap *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->connections));
}

char *
_mcr_port_map_peer_key (GSocketAddress *address)
{
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
  g_autofree char *ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));

  return g_strdup_printf ("%s|%u", ip, g_inet_socket_address_get_port (inet));
}

static char *
target_description (McrPortMap *self)
{
  if (self->spec->remote_ip != NULL)
    return g_strdup_printf (_("%s port %u"), self->spec->remote_ip, self->spec->remote_port);
  return g_strdup_printf (_("port %u"), self->spec->remote_port);
}

static char *
describe_failure (McrPortMap *self,
                  McrTunnel  *tunnel)
{
  g_autofree char *target = target_description (self);
  const GError *error = mcr_tunnel_get_error (tunnel);

  switch (mcr_tunnel_get_failure (tunnel))
    {
    case MCR_TUNNEL_FAILURE_CONNECT:
      return g_strdup_printf (_("Could not open a tunnel to %s: %s"), device_label (self),
                              error ? error->message : "");
    case MCR_TUNNEL_FAILURE_REFUSED:
      return g_strdup_printf (_("The server closed the tunnel before %s answered: is it online, "
                                "and may you relay to it?"), device_label (self));
    case MCR_TUNNEL_FAILURE_DEVICE_CLOSED:
      if (self->spec->remote_ip != NULL)
        return g_strdup_printf (_("The device closed the connection at once: can %s reach %s?"),
                                device_label (self), target);
      return g_strdup_printf (_("The device closed the connection at once: is anything listening "
                                "on %s?"), target);
    case MCR_TUNNEL_FAILURE_NO_ANSWER:
      if (self->spec->remote_ip != NULL)
        return g_strdup_printf (_("Nothing came back from %s: can %s resolve and reach it?"),
                                target, device_label (self));
      return g_strdup_printf (_("Nothing came back from %s on %s"), target, device_label (self));
    case MCR_TUNNEL_FAILURE_NONE:
    default:
      return NULL;
    }
}

static void
record_failure (McrPortMap *self,
                const char *message)
{
  /* The message first: who follows the count reads it. */
  set_string (self, &self->last_failure, message, PROP_LAST_FAILURE);
  self->failed_connections++;
  notify (self, PROP_FAILED_CONNECTIONS);
  g_debug ("map on port %u: %s", self->local_port, message);
}

static void
on_tunnel_closed (McrTunnel  *tunnel,
                  McrPortMap *self)
{
  g_autoptr(McrTunnel) hold G_GNUC_UNUSED = g_object_ref (tunnel);
  g_autofree char *failure = describe_failure (self, tunnel);
  guint position;

  g_signal_handlers_disconnect_by_data (tunnel, self);
  self->closed_sent += mcr_tunnel_get_bytes_sent (tunnel);
  self->closed_received += mcr_tunnel_get_bytes_received (tunnel);
  if (self->udp_peers != NULL)
    {
      g_autofree char *key = _mcr_port_map_peer_key (mcr_tunnel_get_peer_address (tunnel));

      g_hash_table_remove (self->udp_peers, key);
    }
  if (g_list_store_find (self->connections, tunnel, &position))
    g_list_store_remove (self->connections, position);
  notify (self, PROP_N_CONNECTIONS);
  if (failure != NULL)
    record_failure (self, failure);
  /* Bring the totals up to date now rather than at the next tick. */
  if (self->tick_id == 0)
    on_tunnel_activity (tunnel, self);
}

/* A relay WebSocket to the device, or NULL with the reason recorded. */
McrWebSocket *
_mcr_port_map_new_websocket (McrPortMap *self)
{
  g_autoptr(GUri) uri = NULL;
  GProxyResolver *resolver;
  McrWebSocket *ws;

  if (self->state != MCR_PORT_MAP_STATE_LISTENING || self->device == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("A connection was turned away: %s is offline"),
                                              device_label (self));
      self->total_connections++;
      notify (self, PROP_TOTAL_CONNECTIONS);
      record_failure (self, msg);
      return NULL;
    }
  if (mcr_server_get_state (self->server) != MCR_SERVER_STATE_CONNECTED)
    {
      /* A relay now would wait on a server that is restarting or not
       * answering: say so at once instead. */
      g_autofree char *msg =
        g_strdup_printf (_("A connection was turned away: the connection to %s is being "
                           "restored"), mcr_server_get_display_name (self->server));
      self->total_connections++;
      notify (self, PROP_TOTAL_CONNECTIONS);
      record_failure (self, msg);
      return NULL;
    }
  uri = mcr_server_build_relay_uri (self->server, self->device, self->spec->protocol,
                                    self->spec->remote_port, self->spec->remote_ip);
  if (uri == NULL)
    {
      self->total_connections++;
      notify (self, PROP_TOTAL_CONNECTIONS);
      record_failure (self, _("A connection was turned away: not logged in to the server"));
      return NULL;
    }
  ws = mcr_websocket_new (uri);
  resolver = mcr_server_get_proxy_resolver (self->server);
  if (self->proxy_cache == NULL || mcr_proxy_cache_get_resolver (self->proxy_cache) != resolver)
    {
      g_clear_object (&self->proxy_cache);
      self->proxy_cache = mcr_proxy_cache_new (resolver, PROXY_MEMORY_S);
    }
  mcr_websocket_set_proxy_resolver (ws, G_PROXY_RESOLVER (self->proxy_cache));
  /* The policy remembers the chains it accepted: a tunnel to a server
   * whose certificates have not changed skips the second check. */
  mcr_websocket_set_tls_policy (ws, mcr_server_get_tls_policy (self->server));
  return ws;
}

void
_mcr_port_map_add_tunnel (McrPortMap *self,
            McrTunnel  *tunnel)
{
  g_signal_connect (tunnel, "closed", G_CALLBACK (on_tunnel_closed), self);
  g_signal_connect (tunnel, "activity", G_CALLBACK (on_tunnel_activity), self);
  g_list_store_append (self->connections, tunnel);
  self->total_connections++;
  notify (self, PROP_TOTAL_CONNECTIONS);
  notify (self, PROP_N_CONNECTIONS);
  g_debug ("map on port %u: new connection from %s", self->local_port,
           mcr_tunnel_get_peer (tunnel));
  mcr_tunnel_start (tunnel);
}

void
_mcr_port_map_take_connection (McrPortMap        *self,
                 GSocketConnection *connection)
{
  g_autoptr(McrWebSocket) ws = _mcr_port_map_new_websocket (self);
  g_autoptr(McrTunnel) tunnel = NULL;

  if (ws == NULL)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return;
    }
  tunnel = mcr_tunnel_new_tcp (ws, connection);
  mcr_tunnel_set_idle_timeout (tunnel, self->half_close_timeout);
  _mcr_port_map_add_tunnel (self, tunnel);
}

/* ---- the device ---- */

static void
update_state (McrPortMap *self)
{
  if (self->state != MCR_PORT_MAP_STATE_LISTENING && self->state != MCR_PORT_MAP_STATE_WAITING)
    return;
  if (self->device != NULL && mcr_device_get_online (self->device))
    set_state (self, MCR_PORT_MAP_STATE_LISTENING);
  else
    set_state (self, MCR_PORT_MAP_STATE_WAITING);
}

static void
on_device_online (McrDevice  *device,
                  GParamSpec *pspec,
                  McrPortMap *self)
{
  g_debug ("map on port %u: %s is %s", self->local_port, mcr_device_get_name (device),
           mcr_device_get_online (device) ? "online" : "offline");
  update_state (self);
}

static void
set_device (McrPortMap *self,
            McrDevice  *device)
{
  if (self->device == device)
    return;
  g_debug ("map on port %u: device %s", self->local_port,
           device ? mcr_device_get_name (device) : "unknown");
  if (self->device != NULL)
    g_clear_signal_handler (&self->device_online_id, self->device);
  g_set_object (&self->device, device);
  if (device != NULL)
    {
      self->device_online_id = g_signal_connect (device, "notify::online",
                                                 G_CALLBACK (on_device_online), self);
      if (self->node_id == NULL)
        self->node_id = g_strdup (mcr_device_get_id (device));
      g_free (self->device_name);
      self->device_name = g_strdup (mcr_device_get_name (device));
    }
  notify (self, PROP_DEVICE);
}

static void
resolve_device (McrPortMap *self)
{
  McrDevice *device;

  if (self->node_id != NULL)
    device = mcr_server_lookup_device (self->server, self->node_id);
  else
    device = mcr_server_find_device (self->server, self->spec->node_id ? self->spec->node_id
                                                                       : self->spec->node_name);
  set_device (self, device);
  update_state (self);
}

/* A server that stopped answering its control channel does not answer
 * relays either (it is one process): end the tunnels now rather than leave
 * their programs waiting on it. */
static void
on_server_state (McrServer  *server,
                 GParamSpec *pspec,
                 McrPortMap *self)
{
  if (mcr_server_get_state (server) != MCR_SERVER_STATE_RECONNECTING ||
      !g_error_matches (mcr_server_get_error (server), MCR_SERVER_ERROR, MCR_SERVER_ERROR_TIMEOUT))
    return;
  g_debug ("map on port %u: the server stopped answering: closing %u connections",
           self->local_port, _mcr_port_map_n_tunnels (self));
  for (guint i = _mcr_port_map_n_tunnels (self); i > 0; i--)
    {
      g_autoptr(McrTunnel) t = g_list_model_get_item (G_LIST_MODEL (self->connections), i - 1);

      mcr_tunnel_close (t);
    }
}

static void
on_devices_changed (GListModel *model,
                    guint       position,
                    guint       removed,
                    guint       added,
                    McrPortMap *self)
{
  /* Devices come and go with logins and rights, and a temporary agent
   * ("meshagent connect") is removed when it disconnects and added again
   * when it is back: follow ours by id. */
  if (self->device == NULL || removed > 0)
    resolve_device (self);
}

/* FALSE with @error when the device list is in and the map cannot work. */
static gboolean
check_device (McrPortMap  *self,
              GError     **error)
{
  g_autofree char *mismatch = NULL;

  if (!mcr_server_get_devices_loaded (self->server))
    return TRUE;
  if (self->device == NULL && self->spec->node_id != NULL &&
      (mismatch = mcr_id_domain_mismatch (self->spec->node_id,
                                          mcr_server_get_domain_id (self->server))) != NULL)
    {
      g_set_error_literal (error, MCR_PORT_MAP_ERROR, MCR_PORT_MAP_ERROR_NO_DEVICE, mismatch);
      return FALSE;
    }
  if (self->device == NULL)
    {
      g_set_error (error, MCR_PORT_MAP_ERROR, MCR_PORT_MAP_ERROR_NO_DEVICE,
                   _("There is no device “%s” on this server"), device_label (self));
      return FALSE;
    }
  if (!mcr_device_get_can_relay (self->device))
    {
      g_set_error (error, MCR_PORT_MAP_ERROR, MCR_PORT_MAP_ERROR_NO_RIGHTS,
                   _("You may not relay connections to %s"), device_label (self));
      return FALSE;
    }
  return TRUE;
}

static void fail (McrPortMap *self, const GError *error);

static void
on_devices_loaded (McrServer  *server,
                   McrPortMap *self)
{
  g_autoptr(GError) error = NULL;

  resolve_device (self);
  if (self->state == MCR_PORT_MAP_STATE_WAITING && !check_device (self, &error))
    fail (self, error);
}

/* ---- listening ---- */

static void
fail (McrPortMap   *self,
      const GError *error)
{
  _mcr_port_map_close_listeners (self);
  set_string (self, &self->error_message, error->message, PROP_ERROR_MESSAGE);
  set_state (self, MCR_PORT_MAP_STATE_ERROR);
}

gboolean
mcr_port_map_start (McrPortMap  *self,
                    gboolean     all_interfaces,
                    GError     **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (MCR_IS_PORT_MAP (self), FALSE);

  if (self->state != MCR_PORT_MAP_STATE_STOPPED && self->state != MCR_PORT_MAP_STATE_ERROR)
    return TRUE;
  set_string (self, &self->error_message, NULL, PROP_ERROR_MESSAGE);
  set_state (self, MCR_PORT_MAP_STATE_STARTING);
  if (self->all_interfaces != all_interfaces)
    {
      self->all_interfaces = all_interfaces;
      notify (self, PROP_ALL_INTERFACES);
    }

  inet = all_interfaces ? g_inet_address_new_any (G_SOCKET_FAMILY_IPV4)
                        : g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (inet, self->spec->local_port);
  if (self->spec->protocol == MCR_PROTOCOL_UDP)
    ok = _mcr_port_map_listen_udp (self, address, &effective, &local_error);
  else
    ok = _mcr_port_map_listen_tcp (self, address, &effective, &local_error);
  if (ok)
    {
      resolve_device (self);
      ok = check_device (self, &local_error);
    }
  if (!ok)
    {
      fail (self, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  self->local_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  notify (self, PROP_LOCAL_PORT);
  g_debug ("map %s:%u → %s %s:%u", all_interfaces ? "0.0.0.0" : "127.0.0.1", self->local_port,
           device_label (self), self->spec->remote_ip ? self->spec->remote_ip : "",
           self->spec->remote_port);
  set_state (self, MCR_PORT_MAP_STATE_WAITING);
  update_state (self);
  return TRUE;
}

void
mcr_port_map_stop (McrPortMap *self)
{
  g_return_if_fail (MCR_IS_PORT_MAP (self));

  _mcr_port_map_close_listeners (self);
  for (guint i = _mcr_port_map_n_tunnels (self); i > 0; i--)
    {
      g_autoptr(McrTunnel) t = g_list_model_get_item (G_LIST_MODEL (self->connections), i - 1);

      mcr_tunnel_close (t);
    }
  set_state (self, MCR_PORT_MAP_STATE_STOPPED);
}

void
mcr_port_map_set_udp_idle_timeout (McrPortMap *self,
                                   guint       seconds)
{
  g_return_if_fail (MCR_IS_PORT_MAP (self));
  self->udp_idle_timeout = seconds;
}

void
mcr_port_map_set_half_close_timeout (McrPortMap *self,
                                     guint       seconds)
{
  g_return_if_fail (MCR_IS_PORT_MAP (self));
  self->half_close_timeout = seconds;
}

/* ---- object ---- */

McrPortMap *
mcr_port_map_new (McrServer        *server,
                  const McrMapSpec *spec)
{
  McrPortMap *self;

  g_return_val_if_fail (MCR_IS_SERVER (server), NULL);
  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (spec->node_id != NULL || spec->node_name != NULL, NULL);

  self = g_object_new (MCR_TYPE_PORT_MAP, NULL);
  self->server = g_object_ref (server);
  self->spec = mcr_map_spec_copy (spec);
  if (spec->protocol == MCR_PROTOCOL_UDP)
    self->udp_peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->devices_loaded_id = g_signal_connect (server, "devices-loaded",
                                              G_CALLBACK (on_devices_loaded), self);
  self->devices_changed_id = g_signal_connect (mcr_server_get_devices (server), "items-changed",
                                               G_CALLBACK (on_devices_changed), self);
  self->server_state_id = g_signal_connect (server, "notify::state",
                                            G_CALLBACK (on_server_state), self);
  return self;
}

const McrMapSpec *
mcr_port_map_get_spec (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), NULL);
  return self->spec;
}

McrDevice *
mcr_port_map_get_device (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), NULL);
  return self->device;
}

char *
mcr_port_map_dup_argument (McrPortMap *self)
{
  McrDevice *device;

  g_return_val_if_fail (MCR_IS_PORT_MAP (self), NULL);
  device = self->device;
  if (device == NULL && self->spec->node_id != NULL)
    device = mcr_server_lookup_device (self->server, self->spec->node_id);
  return mcr_map_spec_to_named_argument (self->spec,
                                         device != NULL ? mcr_device_get_name (device) : NULL);
}

McrPortMapState
mcr_port_map_get_state (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), MCR_PORT_MAP_STATE_STOPPED);
  return self->state;
}

const char *
mcr_port_map_get_error_message (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), NULL);
  return self->error_message;
}

const char *
mcr_port_map_get_last_failure (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), NULL);
  return self->last_failure;
}

guint16
mcr_port_map_get_local_port (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), 0);
  return self->local_port;
}

gboolean
mcr_port_map_get_all_interfaces (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), FALSE);
  return self->all_interfaces;
}

guint
mcr_port_map_get_n_connections (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), 0);
  return _mcr_port_map_n_tunnels (self);
}

guint64
mcr_port_map_get_total_connections (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), 0);
  return self->total_connections;
}

guint64
mcr_port_map_get_failed_connections (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), 0);
  return self->failed_connections;
}

guint64
mcr_port_map_get_bytes_sent (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), 0);
  return self->bytes_sent;
}

guint64
mcr_port_map_get_bytes_received (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), 0);
  return self->bytes_received;
}

double
mcr_port_map_get_rate_sent (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), 0);
  return self->rate_sent;
}

double
mcr_port_map_get_rate_received (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), 0);
  return self->rate_received;
}

GListModel *
mcr_port_map_get_connections (McrPortMap *self)
{
  g_return_val_if_fail (MCR_IS_PORT_MAP (self), NULL);
  return G_LIST_MODEL (self->connections);
}

static void
mcr_port_map_dispose (GObject *object)
{
  McrPortMap *self = MCR_PORT_MAP (object);

  _mcr_port_map_close_listeners (self);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (self->connections != NULL)
    {
      for (guint i = 0; i < _mcr_port_map_n_tunnels (self); i++)
        {
          g_autoptr(McrTunnel) t = g_list_model_get_item (G_LIST_MODEL (self->connections), i);

          g_signal_handlers_disconnect_by_data (t, self);
        }
      g_list_store_remove_all (self->connections);
    }
  g_clear_pointer (&self->udp_peers, g_hash_table_unref);
  g_clear_object (&self->proxy_cache);
  set_device (self, NULL);
  if (self->server != NULL)
    {
      g_clear_signal_handler (&self->devices_loaded_id, self->server);
      g_clear_signal_handler (&self->server_state_id, self->server);
      g_clear_signal_handler (&self->devices_changed_id, mcr_server_get_devices (self->server));
      g_clear_object (&self->server);
    }

  G_OBJECT_CLASS (mcr_port_map_parent_class)->dispose (object);
}

static void
mcr_port_map_finalize (GObject *object)
{
  McrPortMap *self = MCR_PORT_MAP (object);

  g_clear_object (&self->connections);
  g_clear_pointer (&self->spec, mcr_map_spec_free);
  g_clear_pointer (&self->node_id, g_free);
  g_clear_pointer (&self->device_name, g_free);
  g_clear_pointer (&self->error_message, g_free);
  g_clear_pointer (&self->last_failure, g_free);

  G_OBJECT_CLASS (mcr_port_map_parent_class)->finalize (object);
}

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
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, self->error_message);
      break;
    case PROP_LAST_FAILURE:
      g_value_set_string (value, self->last_failure);
      break;
    case PROP_LOCAL_PORT:
      g_value_set_uint (value, self->local_port);
      break;
    case PROP_ALL_INTERFACES:
      g_value_set_boolean (value, self->all_interfaces);
      break;
    case PROP_N_CONNECTIONS:
      g_value_set_uint (value, _mcr_port_map_n_tunnels (self));
      break;
    case PROP_TOTAL_CONNECTIONS:
      g_value_set_uint64 (value, self->total_connections);
      break;
    case PROP_FAILED_CONNECTIONS:
      g_value_set_uint64 (value, self->failed_connections);
      break;
    case PROP_BYTES_SENT:
      g_value_set_uint64 (value, self->bytes_sent);
      break;
    case PROP_BYTES_RECEIVED:
      g_value_set_uint64 (value, self->bytes_received);
      break;
    case PROP_RATE_SENT:
      g_value_set_double (value, self->rate_sent);
      break;
    case PROP_RATE_RECEIVED:
      g_value_set_double (value, self->rate_received);
      break;
    case PROP_CONNECTIONS:
      g_value_set_object (value, self->connections);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_port_map_class_init (McrPortMapClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = mcr_port_map_dispose;
  object_class->finalize = mcr_port_map_finalize;
  object_class->get_property = mcr_port_map_get_property;

  properties[PROP_SPEC] = g_param_spec_boxed ("spec", NULL, NULL, MCR_TYPE_MAP_SPEC, flags);
  properties[PROP_DEVICE] = g_param_spec_object ("device", NULL, NULL, MCR_TYPE_DEVICE, flags);
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, MCR_TYPE_PORT_MAP_STATE,
                                              MCR_PORT_MAP_STATE_STOPPED, flags);
  properties[PROP_ERROR_MESSAGE] = g_param_spec_string ("error-message", NULL, NULL, NULL, flags);
  properties[PROP_LAST_FAILURE] = g_param_spec_string ("last-failure", NULL, NULL, NULL, flags);
  properties[PROP_LOCAL_PORT] = g_param_spec_uint ("local-port", NULL, NULL, 0, 65535, 0, flags);
  properties[PROP_ALL_INTERFACES] = g_param_spec_boolean ("all-interfaces", NULL, NULL, FALSE,
                                                          flags);
  properties[PROP_N_CONNECTIONS] = g_param_spec_uint ("n-connections", NULL, NULL, 0, G_MAXUINT,
                                                      0, flags);
  properties[PROP_TOTAL_CONNECTIONS] = g_param_spec_uint64 ("total-connections", NULL, NULL, 0,
                                                            G_MAXUINT64, 0, flags);
  properties[PROP_FAILED_CONNECTIONS] = g_param_spec_uint64 ("failed-connections", NULL, NULL, 0,
                                                             G_MAXUINT64, 0, flags);
  properties[PROP_BYTES_SENT] = g_param_spec_uint64 ("bytes-sent", NULL, NULL, 0, G_MAXUINT64, 0,
                                                     flags);
  properties[PROP_BYTES_RECEIVED] = g_param_spec_uint64 ("bytes-received", NULL, NULL, 0,
                                                         G_MAXUINT64, 0, flags);
  properties[PROP_RATE_SENT] = g_param_spec_double ("rate-sent", NULL, NULL, 0, G_MAXDOUBLE, 0,
                                                    flags);
  properties[PROP_RATE_RECEIVED] = g_param_spec_double ("rate-received", NULL, NULL, 0,
                                                        G_MAXDOUBLE, 0, flags);
  properties[PROP_CONNECTIONS] = g_param_spec_object ("connections", NULL, NULL, G_TYPE_LIST_MODEL,
                                                      flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mcr_port_map_init (McrPortMap *self)
{
  self->state = MCR_PORT_MAP_STATE_STOPPED;
  self->connections = g_list_store_new (MCR_TYPE_TUNNEL);
  self->udp_idle_timeout = MCR_TUNNEL_DEFAULT_UDP_IDLE_TIMEOUT;
  self->half_close_timeout = MCR_TUNNEL_DEFAULT_HALF_CLOSE_TIMEOUT;
}
