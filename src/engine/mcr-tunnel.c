/* mcr-tunnel.c: one relay WebSocket carrying one local TCP connection, or the
 * datagrams of one local UDP peer
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Flow control, both ways, without queues of our own: the local socket is
 * read only while the WebSocket's send queue is below its bound, straight
 * into that queue; relay data is written to the local socket straight from
 * the WebSocket's receive buffer, and when the local program is slow the
 * WebSocket stops reading until the local socket is writable again. Per
 * connection that bounds our memory to the two WebSocket buffers.
 *
 * Half-close: the relay has no signal for "the local program will send no
 * more", and closing the relay would cut off the answer the device may still
 * be sending (think `printf 'GET /\r\n\r\n' | nc -N`). So when the local
 * program shuts down its sending side we stop reading it, keep delivering
 * what the device sends, and close the tunnel when the device closes or
 * after MCR_TUNNEL_DEFAULT_HALF_CLOSE_TIMEOUT seconds in which nothing came
 * back. A local program that went away altogether (close(), or it exited)
 * must not wait for that: its FIN looks the same, but for a peer on this
 * host the kernel says whether a program still owns the socket
 * (mcr-peer-state.c), so a full close ends the tunnel at once, and a
 * half-closed peer that closes later is noticed within HALF_CLOSE_CHECK_MS.
 * For a peer on another host the next write to it fails and the tunnel
 * closes then, or the timeout ends it.
 */
#define G_LOG_DOMAIN "mcr-tunnel"

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "mcr-enums.h"
#include "mcr-io-source.h"
#include "mcr-map-spec.h"
#include "mcr-peer-state.h"
#include "mcr-tunnel.h"

/* Datagrams held per UDP peer until the relay is joined. */
#define MAX_HELD_DATAGRAMS 32
#define MAX_HELD_BYTES     (64 * 1024)
/* Local bytes read per wakeup, for fairness among tunnels. */
#define READ_BUDGET        (256 * 1024)
/* Unread local input thrown away before closing, so that close() sends FIN
 * (after what is still queued for the local program) rather than RST. */
#define DRAIN_LIMIT        (256 * 1024)
/* How often a half-closed local peer on this host is asked whether it has
 * closed its socket altogether. */
#define HALF_CLOSE_CHECK_MS 100

struct _McrTunnel
{
  GObject                parent_instance;

  McrProtocol            protocol;
  McrWebSocket          *ws;
  McrTunnelState         state;
  GMainContext          *context;

  /* TCP */
  GSocketConnection     *local;
  GPollableInputStream  *local_in;
  GPollableOutputStream *local_out;
  GSource               *local_source;  /* reading (G_IO_IN), a write pending (G_IO_OUT) */
  gboolean               local_eof;
  gboolean               peer_checkable;  /* half-closed, and the kernel can say when it closes */

  /* UDP */
  GSocket               *udp_socket;
  GQueue                 held;        /* GBytes */
  gsize                  held_bytes;

  GSocketAddress        *peer_address;
  char                  *peer;
  gint64                 start_time;
  gboolean               joined;      /* the server said "c" */
  gboolean               closing_ourselves;
  guint                  idle_timeout;
  GSource               *idle_source;
  gint64                 last_activity;

  guint64                bytes_sent;
  guint64                bytes_received;
  guint64                notified_sent;
  guint64                notified_received;
  gboolean               quiet;

  McrTunnelFailure       failure;
  GError                *error;
};

enum
{
  PROP_0,
  PROP_STATE,
  PROP_PEER,
  PROP_START_TIME,
  PROP_BYTES_SENT,
  PROP_BYTES_RECEIVED,
  N_PROPS
};

enum
{
  SIGNAL_CLOSED,
  SIGNAL_ACTIVITY,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint       signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (McrTunnel, mcr_tunnel, G_TYPE_OBJECT)

static void watch_local_input (McrTunnel *self);

/* What the local socket is waited for: no system call, no source made. */
static void
local_events (McrTunnel    *self,
              GIOCondition  add,
              GIOCondition  remove)
{
  if (self->local_source != NULL)
    mcr_io_source_set_events (self->local_source,
                              (mcr_io_source_get_events (self->local_source) | add) & ~remove);
}

static gboolean
local_waits_for (McrTunnel    *self,
                 GIOCondition  condition)
{
  return self->local_source != NULL &&
         (mcr_io_source_get_events (self->local_source) & condition) != 0;
}

static void
set_state (McrTunnel      *self,
           McrTunnelState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
moved (McrTunnel *self)
{
  if (self->quiet)
    {
      self->quiet = FALSE;
      g_signal_emit (self, signals[SIGNAL_ACTIVITY], 0);
    }
}

/* ---- the end ---- */

static void
close_local (McrTunnel *self)
{
  GSocket *socket;

  mcr_source_clear (&self->local_source);
  if (self->local == NULL)
    return;
  socket = g_socket_connection_get_socket (self->local);
  if (!self->local_eof)
    {
      guint8 buf[16384];
      gsize drained = 0;
      gssize n;

      while (drained < DRAIN_LIMIT &&
             (n = g_pollable_input_stream_read_nonblocking (self->local_in, buf, sizeof buf, NULL,
                                                            NULL)) > 0)
        drained += (gsize) n;
    }
  g_socket_shutdown (socket, FALSE, TRUE, NULL);
  g_io_stream_close (G_IO_STREAM (self->local), NULL, NULL);
  g_clear_object (&self->local);
  self->local_in = NULL;
  self->local_out = NULL;
}

static void
finish (McrTunnel *self)
{
  g_autoptr(McrTunnel) hold G_GNUC_UNUSED = g_object_ref (self);

  if (self->state == MCR_TUNNEL_STATE_CLOSED)
    return;
  close_local (self);
  mcr_source_clear (&self->idle_source);
  g_queue_clear_full (&self->held, (GDestroyNotify) g_bytes_unref);
  self->held_bytes = 0;

  if (self->failure == MCR_TUNNEL_FAILURE_NONE && self->bytes_received == 0)
    {
      if (!self->joined && !self->closing_ourselves)
        self->failure = MCR_TUNNEL_FAILURE_REFUSED;
      else if (self->joined && !self->closing_ourselves)
        self->failure = MCR_TUNNEL_FAILURE_DEVICE_CLOSED;
      else if (self->joined && self->bytes_sent > 0)
        self->failure = MCR_TUNNEL_FAILURE_NO_ANSWER;
    }
  g_debug ("tunnel from %s closed: %" G_GUINT64_FORMAT " bytes out, %" G_GUINT64_FORMAT
           " bytes back, failure %d", self->peer, self->bytes_sent, self->bytes_received,
           self->failure);
  mcr_tunnel_flush_stats (self);
  set_state (self, MCR_TUNNEL_STATE_CLOSED);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
}

/* Ends the tunnel from our side: the relay gets a close frame after what is
 * queued for it, and "closed" follows when the server answers. */
static void
close_from_local (McrTunnel *self)
{
  if (self->state >= MCR_TUNNEL_STATE_CLOSING)
    return;
  self->closing_ourselves = TRUE;
  local_events (self, 0, G_IO_IN);
  mcr_source_clear (&self->idle_source);
  set_state (self, MCR_TUNNEL_STATE_CLOSING);
  mcr_websocket_close (self->ws, MCR_WEBSOCKET_CLOSE_NORMAL, NULL);
}

/* The local program failed (reset, or gone): what is still queued for the
 * relay no longer matters, so drop the relay at once; the server closes the
 * device's side when it sees ours go. */
static void
abort_from_local (McrTunnel *self)
{
  close_local (self);
  if (self->state >= MCR_TUNNEL_STATE_CLOSING)
    return;
  self->closing_ourselves = TRUE;
  mcr_source_clear (&self->idle_source);
  set_state (self, MCR_TUNNEL_STATE_CLOSING);
  mcr_websocket_abort (self->ws);
}

static void
on_ws_closed (McrWebSocket *ws,
              McrTunnel    *self)
{
  /* Everything the relay sent before its close is with the local program
   * by now: the WebSocket hands frames on in order. */
  finish (self);
}

/* ---- idle ---- */

static gboolean on_idle_check (gpointer user_data);

static void
arm_idle (McrTunnel *self,
          gint64     delay_us)
{
  guint ms = (guint) MAX (delay_us / 1000, 1);

  if (self->peer_checkable)
    ms = MIN (ms, HALF_CLOSE_CHECK_MS);

  mcr_source_attach (&self->idle_source, g_timeout_source_new (ms), self->context, on_idle_check,
                     self);
}

static gboolean
on_idle_check (gpointer user_data)
{
  McrTunnel *self = user_data;
  gint64 idle_us = (gint64) self->idle_timeout * G_USEC_PER_SEC;
  gint64 quiet_for = g_get_monotonic_time () - self->last_activity;

  g_clear_pointer (&self->idle_source, g_source_unref);
  if (self->peer_checkable && self->local != NULL &&
      mcr_peer_state_query (g_socket_connection_get_socket (self->local)) == MCR_PEER_STATE_CLOSED)
    {
      g_debug ("tunnel from %s: the local program closed its socket: closing", self->peer);
      close_from_local (self);
      return G_SOURCE_REMOVE;
    }
  /* One timer per tunnel, moved only when it fires: traffic just stamps
   * last_activity. */
  if (quiet_for < idle_us)
    arm_idle (self, idle_us - quiet_for);
  else
    {
      g_debug ("tunnel from %s idle for %u s: closing", self->peer, self->idle_timeout);
      close_from_local (self);
    }
  return G_SOURCE_REMOVE;
}

static void
start_idle (McrTunnel *self)
{
  if (self->idle_timeout == 0 || self->idle_source != NULL)
    return;
  self->last_activity = g_get_monotonic_time ();
  arm_idle (self, (gint64) self->idle_timeout * G_USEC_PER_SEC);
}

/* ---- device → local ---- */

static void
on_local_writable (McrTunnel *self)
{
  local_events (self, 0, G_IO_OUT);
  mcr_websocket_resume_receive (self->ws);
}

static gsize
deliver_tcp (McrTunnel    *self,
             const guint8 *data,
             gsize         len)
{
  g_autoptr(GError) error = NULL;
  gssize n;

  if (self->local_out == NULL || len == 0)
    return len;
  n = g_pollable_output_stream_write_nonblocking (self->local_out, data, len, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    n = 0;
  else if (n < 0)
    {
      /* The local program is gone: nobody takes the rest. */
      g_debug ("tunnel from %s: local write failed: %s", self->peer, error->message);
      abort_from_local (self);
      return len;
    }
  self->bytes_received += (gsize) n;
  if (n > 0)
    {
      self->last_activity = g_get_monotonic_time ();
      moved (self);
    }
  if ((gsize) n < len)
    local_events (self, G_IO_OUT, 0);
  return (gsize) n;
}

static gsize
deliver_udp (McrTunnel    *self,
             const guint8 *data,
             gsize         len)
{
  g_autoptr(GError) error = NULL;

  /* UDP may drop: a full socket buffer loses this datagram, as the network
   * would, rather than holding up the relay. */
  if (g_socket_send_to (self->udp_socket, self->peer_address, (const char *) data, len, NULL,
                        &error) < 0)
    g_debug ("tunnel to %s: datagram dropped: %s", self->peer, error->message);
  self->bytes_received += len;
  self->last_activity = g_get_monotonic_time ();
  moved (self);
  return len;
}

static void
flush_held (McrTunnel *self)
{
  GBytes *b;

  while ((b = g_queue_pop_head (&self->held)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (b, &len);

      mcr_websocket_send (self->ws, MCR_WEBSOCKET_BINARY, data, len);
      self->bytes_sent += len;
      g_bytes_unref (b);
    }
  self->held_bytes = 0;
}

static void
joined (McrTunnel *self)
{
  g_debug ("tunnel from %s joined", self->peer);
  self->joined = TRUE;
  set_state (self, MCR_TUNNEL_STATE_OPEN);
  if (self->protocol == MCR_PROTOCOL_TCP)
    watch_local_input (self); /* what the local program sent meanwhile waited in the kernel */
  else
    {
      if (!g_queue_is_empty (&self->held))
        moved (self);
      flush_held (self);
    }
}

static gsize
on_ws_receive (McrWebSocket        *ws,
               McrWebSocketDataType type,
               const guint8        *data,
               gsize                len,
               gboolean             end,
               gpointer             user_data)
{
  McrTunnel *self = user_data;

  if (type == MCR_WEBSOCKET_TEXT)
    {
      /* Control messages, never payload: "c"/"cr" once joined, later JSON
       * pings of the server ({"ctrlChannel":"102938",…}) that need no answer. */
      if (!self->joined && ((len == 1 && data[0] == 'c') ||
                            (len == 2 && data[0] == 'c' && data[1] == 'r')))
        joined (self);
      else
        g_debug ("tunnel from %s: control message of %" G_GSIZE_FORMAT " bytes ignored",
                 self->peer, len);
      return len;
    }
  if (!self->joined)
    {
      g_debug ("tunnel from %s: %" G_GSIZE_FORMAT " bytes before \"c\" dropped", self->peer, len);
      return len;
    }
  if (self->protocol == MCR_PROTOCOL_TCP)
    return deliver_tcp (self, data, len);
  return deliver_udp (self, data, len);
}

/* ---- local → device ---- */

static void
local_eof (McrTunnel *self)
{
  McrPeerState peer = mcr_peer_state_query (g_socket_connection_get_socket (self->local));

  g_debug ("tunnel from %s: the local side finished sending (%s)", self->peer,
           peer == MCR_PEER_STATE_CLOSED ? "closed" :
           peer == MCR_PEER_STATE_OPEN ? "half-closed" : "closed or half-closed");
  self->local_eof = TRUE;
  local_events (self, 0, G_IO_IN);
  if (self->idle_timeout == 0 || peer == MCR_PEER_STATE_CLOSED)
    close_from_local (self);
  else
    {
      self->peer_checkable = peer == MCR_PEER_STATE_OPEN;
      mcr_source_clear (&self->idle_source);
      start_idle (self);
    }
}

static void
on_local_readable (McrTunnel *self)
{
  gsize budget = READ_BUDGET;

  while (budget > 0)
    {
      g_autoptr(GError) error = NULL;
      gsize max = 0;
      guint8 *buf;
      gssize n;

      if (!mcr_websocket_can_send (self->ws))
        {
          /* The relay is slower: stop reading until "writable". */
          local_events (self, 0, G_IO_IN);
          return;
        }
      buf = mcr_websocket_begin_send (self->ws, &max);
      n = g_pollable_input_stream_read_nonblocking (self->local_in, buf, max, NULL, &error);
      mcr_websocket_end_send (self->ws, MCR_WEBSOCKET_BINARY, (gsize) MAX (n, 0));
      if (n > 0)
        {
          self->bytes_sent += (gsize) n;
          budget -= MIN (budget, (gsize) n);
          moved (self);
          continue;
        }
      if (n == 0)
        {
          local_eof (self);
          return;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return;
      g_debug ("tunnel from %s: local read failed: %s", self->peer, error->message);
      abort_from_local (self);
      return;
    }
}

static gboolean
on_local_io (GIOCondition revents,
             gpointer     user_data)
{
  McrTunnel *self = user_data;
  /* A failed write to the relay ends the tunnel from inside the loop, and
   * its map lets go of it then. */
  g_autoptr(McrTunnel) hold G_GNUC_UNUSED = g_object_ref (self);

  if ((revents & (G_IO_OUT | G_IO_HUP | G_IO_ERR)) && local_waits_for (self, G_IO_OUT))
    on_local_writable (self);
  if ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && local_waits_for (self, G_IO_IN))
    on_local_readable (self);
  return self->local_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
watch_local_input (McrTunnel *self)
{
  if (self->local_in == NULL || self->local_eof || self->state != MCR_TUNNEL_STATE_OPEN)
    return;
  local_events (self, G_IO_IN, 0);
}

static void
on_ws_writable (McrWebSocket *ws,
                McrTunnel    *self)
{
  watch_local_input (self);
}

void
mcr_tunnel_send_datagram (McrTunnel    *self,
                          const guint8 *data,
                          gsize         len)
{
  g_autoptr(McrTunnel) hold = NULL;

  g_return_if_fail (MCR_IS_TUNNEL (self));
  g_return_if_fail (self->protocol == MCR_PROTOCOL_UDP);

  if (self->state >= MCR_TUNNEL_STATE_CLOSING)
    return;
  /* A failed send ends the tunnel, and its map lets go of it then. */
  hold = g_object_ref (self);
  self->last_activity = g_get_monotonic_time ();
  if (!self->joined)
    {
      if (g_queue_get_length (&self->held) < MAX_HELD_DATAGRAMS &&
          self->held_bytes + len <= MAX_HELD_BYTES)
        {
          g_queue_push_tail (&self->held, g_bytes_new (data, len));
          self->held_bytes += len;
        }
      return;
    }
  if (!mcr_websocket_can_send (self->ws))
    {
      g_debug ("tunnel from %s: relay busy, datagram dropped", self->peer);
      return;
    }
  mcr_websocket_send (self->ws, MCR_WEBSOCKET_BINARY, data, len);
  self->bytes_sent += len;
  moved (self);
}

/* ---- setup ---- */

static void
on_ws_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(McrTunnel) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!mcr_websocket_connect_finish (MCR_WEBSOCKET (source), result, &error))
    {
      if (!self->closing_ourselves)
        {
          g_debug ("tunnel from %s: relay failed: %s", self->peer, error->message);
          self->failure = MCR_TUNNEL_FAILURE_CONNECT;
          self->error = g_steal_pointer (&error);
        }
      finish (self);
      return;
    }
  if (self->state == MCR_TUNNEL_STATE_CONNECTING)
    set_state (self, MCR_TUNNEL_STATE_WAITING);
}

void
mcr_tunnel_start (McrTunnel *self)
{
  g_return_if_fail (MCR_IS_TUNNEL (self));
  g_return_if_fail (self->state == MCR_TUNNEL_STATE_CONNECTING && self->context == NULL);

  self->context = g_main_context_ref_thread_default ();
  if (self->local != NULL)
    {
      /* One source for the life of the local connection. */
      self->local_source = mcr_io_source_new (g_socket_connection_get_socket (self->local),
                                              NULL, NULL);
      mcr_io_source_set_callback (self->local_source, on_local_io, self);
      g_source_attach (self->local_source, self->context);
    }
  mcr_websocket_set_binary_stream (self->ws, self->protocol == MCR_PROTOCOL_TCP);
  mcr_websocket_set_receive_func (self->ws, on_ws_receive, self, NULL);
  g_signal_connect (self->ws, "writable", G_CALLBACK (on_ws_writable), self);
  g_signal_connect (self->ws, "closed", G_CALLBACK (on_ws_closed), self);
  if (self->protocol == MCR_PROTOCOL_UDP)
    start_idle (self);
  mcr_websocket_connect_async (self->ws, NULL, on_ws_connected, g_object_ref (self));
}

void
mcr_tunnel_close (McrTunnel *self)
{
  g_return_if_fail (MCR_IS_TUNNEL (self));

  if (self->state >= MCR_TUNNEL_STATE_CLOSING)
    return;
  close_local (self);
  close_from_local (self);
}

void
mcr_tunnel_set_idle_timeout (McrTunnel *self,
                             guint      seconds)
{
  g_return_if_fail (MCR_IS_TUNNEL (self));

  self->idle_timeout = seconds;
}

gboolean
mcr_tunnel_flush_stats (McrTunnel *self)
{
  gboolean changed = FALSE;

  g_return_val_if_fail (MCR_IS_TUNNEL (self), FALSE);

  if (self->bytes_sent != self->notified_sent)
    {
      self->notified_sent = self->bytes_sent;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_SENT]);
      changed = TRUE;
    }
  if (self->bytes_received != self->notified_received)
    {
      self->notified_received = self->bytes_received;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BYTES_RECEIVED]);
      changed = TRUE;
    }
  if (!changed)
    self->quiet = TRUE;
  return changed;
}

static char *
address_to_string (GSocketAddress *address)
{
  if (G_IS_INET_SOCKET_ADDRESS (address))
    {
      GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
      g_autofree char *ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
      gboolean v6 = strchr (ip, ':') != NULL;

      return g_strdup_printf ("%s%s%s:%u", v6 ? "[" : "", ip, v6 ? "]" : "",
                              g_inet_socket_address_get_port (inet));
    }
  return g_strdup ("?");
}

static McrTunnel *
tunnel_new (McrWebSocket   *ws,
            McrProtocol     protocol,
            GSocketAddress *peer)
{
  McrTunnel *self = g_object_new (MCR_TYPE_TUNNEL, NULL);

  self->ws = g_object_ref (ws);
  self->protocol = protocol;
  self->peer_address = peer ? g_object_ref (peer) : NULL;
  self->peer = peer ? address_to_string (peer) : g_strdup ("?");
  self->start_time = g_get_real_time ();
  return self;
}

McrTunnel *
mcr_tunnel_new_tcp (McrWebSocket      *ws,
                    GSocketConnection *local)
{
  g_autoptr(GSocketAddress) peer = NULL;
  McrTunnel *self;
  GSocket *socket;

  g_return_val_if_fail (MCR_IS_WEBSOCKET (ws), NULL);
  g_return_val_if_fail (G_IS_SOCKET_CONNECTION (local), NULL);

  peer = g_socket_connection_get_remote_address (local, NULL);
  self = tunnel_new (ws, MCR_PROTOCOL_TCP, peer);
  self->local = g_object_ref (local);
  self->local_in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (G_IO_STREAM (local)));
  self->local_out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (G_IO_STREAM (local)));
  self->idle_timeout = MCR_TUNNEL_DEFAULT_HALF_CLOSE_TIMEOUT;
  socket = g_socket_connection_get_socket (local);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  return self;
}

McrTunnel *
mcr_tunnel_new_udp (McrWebSocket   *ws,
                    GSocket        *socket,
                    GSocketAddress *peer)
{
  McrTunnel *self;

  g_return_val_if_fail (MCR_IS_WEBSOCKET (ws), NULL);
  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (peer), NULL);

  self = tunnel_new (ws, MCR_PROTOCOL_UDP, peer);
  self->udp_socket = g_object_ref (socket);
  self->idle_timeout = MCR_TUNNEL_DEFAULT_UDP_IDLE_TIMEOUT;
  return self;
}

McrTunnelState
mcr_tunnel_get_state (McrTunnel *self)
{
  g_return_val_if_fail (MCR_IS_TUNNEL (self), MCR_TUNNEL_STATE_CLOSED);
  return self->state;
}

const char *
mcr_tunnel_get_peer (McrTunnel *self)
{
  g_return_val_if_fail (MCR_IS_TUNNEL (self), NULL);
  return self->peer;
}

GSocketAddress *
mcr_tunnel_get_peer_address (McrTunnel *self)
{
  g_return_val_if_fail (MCR_IS_TUNNEL (self), NULL);
  return self->peer_address;
}

gint64
mcr_tunnel_get_start_time (McrTunnel *self)
{
  g_return_val_if_fail (MCR_IS_TUNNEL (self), 0);
  return self->start_time;
}

guint64
mcr_tunnel_get_bytes_sent (McrTunnel *self)
{
  g_return_val_if_fail (MCR_IS_TUNNEL (self), 0);
  return self->bytes_sent;
}

guint64
mcr_tunnel_get_bytes_received (McrTunnel *self)
{
  g_return_val_if_fail (MCR_IS_TUNNEL (self), 0);
  return self->bytes_received;
}

McrTunnelFailure
mcr_tunnel_get_failure (McrTunnel *self)
{
  g_return_val_if_fail (MCR_IS_TUNNEL (self), MCR_TUNNEL_FAILURE_NONE);
  return self->failure;
}

const GError *
mcr_tunnel_get_error (McrTunnel *self)
{
  g_return_val_if_fail (MCR_IS_TUNNEL (self), NULL);
  return self->error;
}

static void
mcr_tunnel_dispose (GObject *object)
{
  McrTunnel *self = MCR_TUNNEL (object);

  close_local (self);
  mcr_source_clear (&self->idle_source);
  g_queue_clear_full (&self->held, (GDestroyNotify) g_bytes_unref);
  if (self->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->ws, self);
      mcr_websocket_set_receive_func (self->ws, NULL, NULL, NULL);
      mcr_websocket_close (self->ws, MCR_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      g_clear_object (&self->ws);
    }
  g_clear_object (&self->udp_socket);

  G_OBJECT_CLASS (mcr_tunnel_parent_class)->dispose (object);
}

static void
mcr_tunnel_finalize (GObject *object)
{
  McrTunnel *self = MCR_TUNNEL (object);

  g_clear_object (&self->peer_address);
  g_clear_pointer (&self->peer, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (mcr_tunnel_parent_class)->finalize (object);
}

static void
mcr_tunnel_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  McrTunnel *self = MCR_TUNNEL (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_PEER:
      g_value_set_string (value, self->peer);
      break;
    case PROP_START_TIME:
      g_value_set_int64 (value, self->start_time);
      break;
    case PROP_BYTES_SENT:
      g_value_set_uint64 (value, self->notified_sent);
      break;
    case PROP_BYTES_RECEIVED:
      g_value_set_uint64 (value, self->notified_received);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_tunnel_class_init (McrTunnelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = mcr_tunnel_dispose;
  object_class->finalize = mcr_tunnel_finalize;
  object_class->get_property = mcr_tunnel_get_property;

  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, MCR_TYPE_TUNNEL_STATE,
                                              MCR_TUNNEL_STATE_CONNECTING, flags);
  properties[PROP_PEER] = g_param_spec_string ("peer", NULL, NULL, NULL, flags);
  properties[PROP_START_TIME] = g_param_spec_int64 ("start-time", NULL, NULL, 0, G_MAXINT64, 0,
                                                    flags);
  properties[PROP_BYTES_SENT] = g_param_spec_uint64 ("bytes-sent", NULL, NULL, 0, G_MAXUINT64, 0,
                                                     flags);
  properties[PROP_BYTES_RECEIVED] = g_param_spec_uint64 ("bytes-received", NULL, NULL, 0,
                                                         G_MAXUINT64, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_ACTIVITY] = g_signal_new ("activity", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mcr_tunnel_init (McrTunnel *self)
{
  self->state = MCR_TUNNEL_STATE_CONNECTING;
  self->quiet = TRUE;
  g_queue_init (&self->held);
}
