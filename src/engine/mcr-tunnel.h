/* mcr-tunnel.h: one relay WebSocket carrying one local TCP connection, or the
 * datagrams of one local UDP peer
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-websocket.h"

G_BEGIN_DECLS

typedef enum
{
  MCR_TUNNEL_STATE_CONNECTING, /* opening the relay WebSocket */
  MCR_TUNNEL_STATE_WAITING,    /* open, waiting for the server's "c" */
  MCR_TUNNEL_STATE_OPEN,       /* bytes flow */
  MCR_TUNNEL_STATE_CLOSING,
  MCR_TUNNEL_STATE_CLOSED,
} McrTunnelState;

/* Why a tunnel ended before any byte came back from the device. */
typedef enum
{
  MCR_TUNNEL_FAILURE_NONE,
  MCR_TUNNEL_FAILURE_CONNECT,       /* the relay could not be opened (see the error) */
  MCR_TUNNEL_FAILURE_REFUSED,       /* the server closed it before joining the device */
  MCR_TUNNEL_FAILURE_DEVICE_CLOSED, /* joined, then closed by the far side at once */
  MCR_TUNNEL_FAILURE_NO_ANSWER,     /* joined, data went out, nothing came back */
} McrTunnelFailure;

/* After the local program shuts down its sending side (TCP), or after the
 * last datagram either way (UDP), a tunnel closes when nothing has moved for
 * this long. */
#define MCR_TUNNEL_DEFAULT_HALF_CLOSE_TIMEOUT 5
#define MCR_TUNNEL_DEFAULT_UDP_IDLE_TIMEOUT   60

#define MCR_TYPE_TUNNEL (mcr_tunnel_get_type ())
G_DECLARE_FINAL_TYPE (McrTunnel, mcr_tunnel, MCR, TUNNEL, GObject)

/* @ws: not connected yet; the tunnel connects it. */
McrTunnel       *mcr_tunnel_new_tcp             (McrWebSocket      *ws,
                                                 GSocketConnection *local);
/* Datagrams from the map's @socket for @peer come in through
 * mcr_tunnel_send_datagram(); replies go out on @socket to @peer. */
McrTunnel       *mcr_tunnel_new_udp             (McrWebSocket      *ws,
                                                 GSocket           *socket,
                                                 GSocketAddress    *peer);
void             mcr_tunnel_set_idle_timeout    (McrTunnel         *self,
                                                 guint              seconds);
void             mcr_tunnel_start               (McrTunnel         *self);
/* Closes both sides; "closed" follows once the relay is closed. */
void             mcr_tunnel_close               (McrTunnel         *self);
/* UDP: one datagram from the peer. Held (a few) until the relay is joined;
 * dropped, as UDP may, when the relay is slower than the peer. */
void             mcr_tunnel_send_datagram       (McrTunnel         *self,
                                                 const guint8      *data,
                                                 gsize              len);

/* Properties: "state", "peer" ("127.0.0.1:50123"), "start-time" (real time in
 * microseconds), "bytes-sent" (to the device), "bytes-received"; the byte
 * counts notify only from mcr_tunnel_flush_stats(). Signals: "closed" (once),
 * "activity" (bytes moved after a flush_stats() that saw none). */
McrTunnelState   mcr_tunnel_get_state           (McrTunnel         *self);
const char      *mcr_tunnel_get_peer            (McrTunnel         *self);
GSocketAddress  *mcr_tunnel_get_peer_address    (McrTunnel         *self);
gint64           mcr_tunnel_get_start_time      (McrTunnel         *self);
guint64          mcr_tunnel_get_bytes_sent      (McrTunnel         *self);
guint64          mcr_tunnel_get_bytes_received  (McrTunnel         *self);
McrTunnelFailure mcr_tunnel_get_failure         (McrTunnel         *self);
const GError    *mcr_tunnel_get_error           (McrTunnel         *self);
/* Notifies the byte counts if they changed; TRUE if bytes moved since the
 * last call. Called by the port map's once-a-second tick. */
gboolean         mcr_tunnel_flush_stats         (McrTunnel         *self);

G_END_DECLS
