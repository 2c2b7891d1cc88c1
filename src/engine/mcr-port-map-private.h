/* mcr-port-map-private.h: what mcr-port-map.c and mcr-port-map-listen.c share
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-port-map.h"
#include "mcr-proxy-cache.h"

G_BEGIN_DECLS

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

/* mcr-port-map.c */
guint         _mcr_port_map_n_tunnels       (McrPortMap        *self);
char         *_mcr_port_map_peer_key        (GSocketAddress    *address);
McrWebSocket *_mcr_port_map_new_websocket   (McrPortMap        *self);
void          _mcr_port_map_add_tunnel      (McrPortMap        *self,
                                             McrTunnel         *tunnel);
void          _mcr_port_map_take_connection (McrPortMap        *self,
                                             GSocketConnection *connection);

/* mcr-port-map-listen.c: the listening sockets, accepting (and pausing when
 * out of descriptors), UDP peers */
gboolean      _mcr_port_map_listen_tcp      (McrPortMap        *self,
                                             GSocketAddress    *address,
                                             GSocketAddress   **effective,
                                             GError           **error);
gboolean      _mcr_port_map_listen_udp      (McrPortMap        *self,
                                             GSocketAddress    *address,
                                             GSocketAddress   **effective,
                                             GError           **error);
void          _mcr_port_map_close_listeners (McrPortMap        *self);

G_END_DECLS
