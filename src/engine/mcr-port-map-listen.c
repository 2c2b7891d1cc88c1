/* mcr-port-map-listen.c: a port map's listening sockets
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * TCP: a listener of our own, accepted from in batches; out of file
 * descriptors, accepting pauses instead of spinning. UDP: one socket,
 * one tunnel per local peer address.
 */
#define G_LOG_DOMAIN "mcr-port-map"

#include "config.h"

#include <glib/gi18n-lib.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mcr-port-map-private.h"

#define UDP_BATCH 64   /* datagrams read per wakeup */
#define ACCEPT_BATCH 32            /* connections accepted per wakeup */
#define ACCEPT_PAUSE_MS 250        /* out of descriptors: try again after this */
#define ACCEPT_LOG_INTERVAL_US (60 * G_USEC_PER_SEC)  /* and say so at most this often */
/* Descriptors left for what a new connection needs next (its relay socket,
 * the proxy lookup's files): a connection accepted closer to the limit
 * waits for them rather than fail. */
#define ACCEPT_RESERVE 16

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
  for (guint i = 0; i < _mcr_port_map_n_tunnels (self); i++)
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
      _mcr_port_map_take_connection (self, self->parked);
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
                   "go on, and new ones wait"), self->local_port, reason, _mcr_port_map_n_tunnels (self));
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
      _mcr_port_map_take_connection (self, connection);
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
  g_autofree char *key = _mcr_port_map_peer_key (peer);
  McrTunnel *tunnel = g_hash_table_lookup (self->udp_peers, key);
  g_autoptr(McrWebSocket) ws = NULL;

  if (tunnel != NULL)
    return tunnel;
  /* While the device is away, say so once, not once per datagram. */
  if (self->state != MCR_PORT_MAP_STATE_LISTENING && self->udp_turned_away)
    return NULL;
  self->udp_turned_away = self->state != MCR_PORT_MAP_STATE_LISTENING;
  ws = _mcr_port_map_new_websocket (self);
  if (ws == NULL)
    return NULL;
  tunnel = mcr_tunnel_new_udp (ws, self->udp_socket, peer);
  mcr_tunnel_set_idle_timeout (tunnel, self->udp_idle_timeout);
  /* The hash table owns the tunnel; the list store holds another reference. */
  g_hash_table_insert (self->udp_peers, g_steal_pointer (&key), tunnel);
  _mcr_port_map_add_tunnel (self, tunnel);
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

/* ---- listening ---- */

void
_mcr_port_map_close_listeners (McrPortMap *self)
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

gboolean
_mcr_port_map_listen_tcp (McrPortMap      *self,
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

gboolean
_mcr_port_map_listen_udp (McrPortMap      *self,
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
