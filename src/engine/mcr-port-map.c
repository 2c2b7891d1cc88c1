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

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mcr-enums.h"
#include "mcr-log.h"
#include "mcr-port-map.h"
#include "mcr-proxy-cache.h"
#include "mcr-string-field.h"
#include "mcr-tls-policy.h"

#define UDP_BATCH 64   /* datagrams read per wakeup */
#define ACCEPT_BATCH 32            /* connections accepted per wakeup */
#define ACCEPT_PAUSE_MS 250        /* out of descriptors: try again after this */
#define ACCEPT_LOG_INTERVAL_US (60 * G_USEC_PER_SEC)  /* and say so at most this often */
/* Descriptors left for what a new connection needs next (its relay socket,
 * the proxy lookup's files): a connection accepted closer to the limit
 * waits for them rather than fail. */
#define ACCEPT_RESERVE 16
/* How long a proxy answer for the server's address is reused. */
#define PROXY_MEMORY_S 30

struct _McrPortMap
{
  GObject          parent_instance;

  McrServer       *server;
  McrMapSpec      *spec;
  char            *node_id;          /* once the device is known */
  char            *device_name;      /* the last name it had */
  McrDevice       *device;
  gulong           device_online_id;
  gulong           devices_loaded_id;
  gulong           devices_changed_id;
  gulong           server_state_id;

  McrPortMapState  state;
  char            *error_message;
  char            *last_failure;
  guint16          local_port;
  gboolean         all_interfaces;
  guint            udp_idle_timeout;
  guint            half_close_timeout;

  GSocket         *listener;         /* TCP */
  GSource         *accept_source;
  guint            accept_retry_id;  /* accepting paused (out of descriptors) */
  gint64           accept_logged;    /* when the pause was last reported */
  GSocketConnection *parked;         /* accepted, waiting for descriptors */
  McrProxyCache   *proxy_cache;      /* over the server's proxy resolver */
  GSocket         *udp_socket;       /* UDP */
  GSource         *udp_source;
  GHashTable      *udp_peers;        /* "ip|port" → McrTunnel */
  gboolean         udp_turned_away;  /* datagrams were dropped while waiting */
  GListStore      *connections;      /* McrTunnel */

  guint64          total_connections;
  guint64          failed_connections;
  guint64          closed_sent;      /* bytes of tunnels already closed */
  guint64          closed_received;
  guint64          bytes_sent;       /* as last notified */
  guint64          bytes_received;
  double           rate_sent;
  double           rate_received;
  guint            tick_id;
  gint64           tick_time;
};

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

static guint n_tunnels (McrPortMap *self);

static gboolean
on_tick (gpointer user_data)
{
  McrPortMap *self = user_data;
  guint64 sent = self->closed_sent, received = self->closed_received;
  gint64 now = g_get_monotonic_time ();
  double secs = (double) MAX (now - self->tick_time, 1) / G_USEC_PER_SEC;
  gboolean moved = FALSE;
  double rs, rr;

  for (guint i = 0; i < n_tunnels (self); i++)
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

static guint
n_tunnels (McrPortMap *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->connections));
}

static char *
peer_key (GSocketAddress *address)
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
      g_autofree char *key = peer_key (mcr_tunnel_get_peer_address (tunnel));

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
static McrWebSocket *
new_websocket (McrPortMap *self)
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

static void
add_tunnel (McrPortMap *self,
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

static void
take_connection (McrPortMap        *self,
                 GSocketConnection *connection)
{
  g_autoptr(McrWebSocket) ws = new_websocket (self);
  g_autoptr(McrTunnel) tunnel = NULL;

  if (ws == NULL)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return;
    }
  tunnel = mcr_tunnel_new_tcp (ws, connection);
  mcr_tunnel_set_idle_timeout (tunnel, self->half_close_timeout);
  add_tunnel (self, tunnel);
}

/* ---- accepting ---- */

static void watch_listener (McrPortMap *self);
static void pause_accepting (McrPortMap *self, const char *reason, gboolean say);

/* The soft RLIMIT_NOFILE, as the router set it at its start. */
static int
fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
      rl.rlim_cur > G_MAXINT)
    return G_MAXINT;
  return (int) rl.rlim_cur;
}

/* The descriptors this process has open. */
static int
count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  int n = -1;  /* the directory's own */

  if (dir == NULL)
    return -1;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Whether a new connection, whose descriptor is @fd (the lowest free one
 * when it was made), would leave too few for its relay and those of the
 * connections still setting up theirs. Cheap until half the descriptors are
 * taken (every one below @fd is); then they are counted. */
static gboolean
near_fd_limit (McrPortMap *self,
               int         fd)
{
  int limit = fd_limit ();
  int open, connecting = 0;

  if (fd < limit / 2)
    return FALSE;
  open = count_open_fds ();
  if (open < 0)
    return fd >= limit - ACCEPT_RESERVE;
  for (guint i = 0; i < n_tunnels (self); i++)
    {
      g_autoptr(McrTunnel) t = g_list_model_get_item (G_LIST_MODEL (self->connections), i);

      if (mcr_tunnel_get_state (t) == MCR_TUNNEL_STATE_CONNECTING)
        connecting++;
    }
  return open + connecting >= limit - ACCEPT_RESERVE;
}

static gboolean
on_accept_retry (gpointer user_data)
{
  McrPortMap *self = user_data;

  self->accept_retry_id = 0;
  if (self->parked != NULL)
    {
      /* The lowest free descriptor now. */
      int probe = fcntl (g_socket_get_fd (self->listener), F_DUPFD_CLOEXEC, 0);
      gboolean room = probe >= 0 && !near_fd_limit (self, probe + 1);

      if (probe >= 0)
        close (probe);
      if (!room)
        {
          pause_accepting (self, g_strerror (EMFILE), FALSE);
          return G_SOURCE_REMOVE;
        }
      take_connection (self, self->parked);
      g_clear_object (&self->parked);
    }
  watch_listener (self);
  return G_SOURCE_REMOVE;
}

/* Out of file descriptors (or memory), every accept() would fail at once
 * and the listener stay readable: a busy loop. Stop watching it for a
 * while instead; the connections wait in the listen queue, and those
 * already open go on. */
static void
pause_accepting (McrPortMap *self,
                 const char *reason,
                 gboolean    say)
{
  gint64 now = g_get_monotonic_time ();

  if (self->accept_source != NULL)
    {
      g_source_destroy (self->accept_source);
      g_clear_pointer (&self->accept_source, g_source_unref);
    }
  if (say && (self->accept_logged == 0 || now - self->accept_logged >= ACCEPT_LOG_INTERVAL_US))
    {
      self->accept_logged = now;
      g_message (_("Local port %u: cannot take new connections for now (%s); the %u open ones "
                   "go on, and new ones wait"), self->local_port, reason, n_tunnels (self));
    }
  else
    g_debug ("map on port %u: accepting paused: %s", self->local_port, reason);
  if (self->accept_retry_id == 0)
    self->accept_retry_id = g_timeout_add (ACCEPT_PAUSE_MS, on_accept_retry, self);
}

static gboolean
on_accept_ready (GSocket      *listener,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  McrPortMap *self = user_data;
  guint failures = 0;

  for (guint i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) socket = g_socket_accept (listener, NULL, &error);
      g_autoptr(GSocketConnection) connection = NULL;

      if (socket == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return G_SOURCE_CONTINUE;
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
              g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
            {
              pause_accepting (self, error->message, TRUE);
              return G_SOURCE_REMOVE;
            }
          /* A connection reset before it was taken, and the like: the next
           * one may be fine. Not forever, though. */
          g_debug ("map on port %u: accept failed: %s", self->local_port, error->message);
          if (++failures >= 8)
            {
              pause_accepting (self, error->message, FALSE);
              return G_SOURCE_REMOVE;
            }
          continue;
        }
      connection = g_socket_connection_factory_create_connection (socket);
      if (near_fd_limit (self, g_socket_get_fd (socket)))
        {
          /* Its relay would fail: it waits, and so do the next ones. */
          self->parked = g_steal_pointer (&connection);
          pause_accepting (self, g_strerror (EMFILE), TRUE);
          return G_SOURCE_REMOVE;
        }
      take_connection (self, connection);
      /* The map may have been stopped from a handler. */
      if (self->listener == NULL)
        return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
watch_listener (McrPortMap *self)
{
  if (self->listener == NULL || self->accept_source != NULL)
    return;
  self->accept_source = g_socket_create_source (self->listener, G_IO_IN, NULL);
  g_source_set_callback (self->accept_source, G_SOURCE_FUNC (on_accept_ready), self, NULL);
  g_source_attach (self->accept_source, NULL);
}

static McrTunnel *
udp_tunnel_for (McrPortMap     *self,
                GSocketAddress *peer)
{
  g_autofree char *key = peer_key (peer);
  McrTunnel *tunnel = g_hash_table_lookup (self->udp_peers, key);
  g_autoptr(McrWebSocket) ws = NULL;

  if (tunnel != NULL)
    return tunnel;
  /* While the device is away, say so once, not once per datagram. */
  if (self->state != MCR_PORT_MAP_STATE_LISTENING && self->udp_turned_away)
    return NULL;
  self->udp_turned_away = self->state != MCR_PORT_MAP_STATE_LISTENING;
  ws = new_websocket (self);
  if (ws == NULL)
    return NULL;
  tunnel = mcr_tunnel_new_udp (ws, self->udp_socket, peer);
  mcr_tunnel_set_idle_timeout (tunnel, self->udp_idle_timeout);
  /* The hash table owns the tunnel; the list store holds another reference. */
  g_hash_table_insert (self->udp_peers, g_steal_pointer (&key), tunnel);
  add_tunnel (self, tunnel);
  return tunnel;
}

static gboolean
on_udp_readable (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  McrPortMap *self = user_data;
  guint8 buf[65536];

  for (guint i = 0; i < UDP_BATCH; i++)
    {
      g_autoptr(GSocketAddress) peer = NULL;
      g_autoptr(GError) error = NULL;
      McrTunnel *tunnel;
      gssize n;

      n = g_socket_receive_from (socket, &peer, (char *) buf, sizeof buf, NULL, &error);
      if (n < 0)
        break;
      if (!G_IS_INET_SOCKET_ADDRESS (peer))
        continue;
      tunnel = udp_tunnel_for (self, peer);
      if (tunnel != NULL)
        mcr_tunnel_send_datagram (tunnel, buf, (gsize) n);
    }
  return G_SOURCE_CONTINUE;
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
           self->local_port, n_tunnels (self));
  for (guint i = n_tunnels (self); i > 0; i--)
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
  if (!mcr_server_get_devices_loaded (self->server))
    return TRUE;
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
close_listeners (McrPortMap *self)
{
  if (self->accept_source != NULL)
    {
      g_source_destroy (self->accept_source);
      g_clear_pointer (&self->accept_source, g_source_unref);
    }
  g_clear_handle_id (&self->accept_retry_id, g_source_remove);
  if (self->parked != NULL)
    g_io_stream_close (G_IO_STREAM (self->parked), NULL, NULL);
  g_clear_object (&self->parked);
  if (self->listener != NULL)
    g_socket_close (self->listener, NULL);
  g_clear_object (&self->listener);
  if (self->udp_source != NULL)
    {
      g_source_destroy (self->udp_source);
      g_clear_pointer (&self->udp_source, g_source_unref);
    }
  if (self->udp_socket != NULL)
    g_socket_close (self->udp_socket, NULL);
  g_clear_object (&self->udp_socket);
}

static void
fail (McrPortMap   *self,
      const GError *error)
{
  close_listeners (self);
  set_string (self, &self->error_message, error->message, PROP_ERROR_MESSAGE);
  set_state (self, MCR_PORT_MAP_STATE_ERROR);
}

static gboolean
bind_error (McrPortMap  *self,
            GError      *bind_error,
            GError     **error)
{
  if (g_error_matches (bind_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    g_set_error (error, MCR_PORT_MAP_ERROR, MCR_PORT_MAP_ERROR_PORT_IN_USE,
                 _("Local port %u is already in use"), self->spec->local_port);
  else
    g_set_error (error, MCR_PORT_MAP_ERROR, MCR_PORT_MAP_ERROR_BIND,
                 _("Cannot listen on local port %u: %s"), self->spec->local_port,
                 bind_error->message);
  g_error_free (bind_error);
  return FALSE;
}

static gboolean
listen_tcp (McrPortMap      *self,
            GSocketAddress  *address,
            GSocketAddress **effective,
            GError         **error)
{
  GError *local_error = NULL;

  /* A socket of our own rather than a GSocketService, which accepts again
   * at once after any failure: out of descriptors, that is a busy loop. */
  self->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, &local_error);
  if (self->listener == NULL)
    return bind_error (self, local_error, error);
  g_socket_set_blocking (self->listener, FALSE);
  /* Many programs may connect at once (a browser opens a dozen). */
  g_socket_set_listen_backlog (self->listener, 128);
  if (!g_socket_bind (self->listener, address, TRUE, &local_error) ||
      !g_socket_listen (self->listener, &local_error) ||
      (*effective = g_socket_get_local_address (self->listener, &local_error)) == NULL)
    return bind_error (self, local_error, error);
  watch_listener (self);
  return TRUE;
}

static gboolean
listen_udp (McrPortMap      *self,
            GSocketAddress  *address,
            GSocketAddress **effective,
            GError         **error)
{
  GError *local_error = NULL;

  self->udp_socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                   G_SOCKET_PROTOCOL_UDP, &local_error);
  if (self->udp_socket == NULL)
    return bind_error (self, local_error, error);
  g_socket_set_blocking (self->udp_socket, FALSE);
  /* No address reuse: a busy UDP port must be an error, not shared. */
  if (!g_socket_bind (self->udp_socket, address, FALSE, &local_error) ||
      (*effective = g_socket_get_local_address (self->udp_socket, &local_error)) == NULL)
    return bind_error (self, local_error, error);
  self->udp_source = g_socket_create_source (self->udp_socket, G_IO_IN, NULL);
  g_source_set_callback (self->udp_source, G_SOURCE_FUNC (on_udp_readable), self, NULL);
  g_source_attach (self->udp_source, NULL);
  return TRUE;
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
    ok = listen_udp (self, address, &effective, &local_error);
  else
    ok = listen_tcp (self, address, &effective, &local_error);
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

  close_listeners (self);
  for (guint i = n_tunnels (self); i > 0; i--)
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
  return n_tunnels (self);
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

  close_listeners (self);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (self->connections != NULL)
    {
      for (guint i = 0; i < n_tunnels (self); i++)
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
      g_value_set_uint (value, n_tunnels (self));
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
