/* mcr-port-map.h: one local port carried through the relay to a device
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-map-spec.h"
#include "mcr-server.h"
#include "mcr-tunnel.h"

G_BEGIN_DECLS

#define MCR_PORT_MAP_ERROR (mcr_port_map_error_quark ())

typedef enum
{
  MCR_PORT_MAP_ERROR_PORT_IN_USE,
  MCR_PORT_MAP_ERROR_BIND,
  MCR_PORT_MAP_ERROR_NO_DEVICE,
  MCR_PORT_MAP_ERROR_NO_RIGHTS,
} McrPortMapErrorCode;

typedef enum
{
  MCR_PORT_MAP_STATE_STARTING,
  MCR_PORT_MAP_STATE_LISTENING,
  MCR_PORT_MAP_STATE_WAITING,   /* listening, but the device is offline */
  MCR_PORT_MAP_STATE_ERROR,
  MCR_PORT_MAP_STATE_STOPPED,
} McrPortMapState;

#define MCR_TYPE_PORT_MAP (mcr_port_map_get_type ())
G_DECLARE_FINAL_TYPE (McrPortMap, mcr_port_map, MCR, PORT_MAP, GObject)

GQuark            mcr_port_map_error_quark          (void);
McrPortMap       *mcr_port_map_new                  (McrServer        *server,
                                                     const McrMapSpec *spec);
/* Binds the local port (127.0.0.1, or 0.0.0.0 with @all_interfaces) and
 * starts accepting. Fails (state ERROR, "error-message" set) when the port
 * cannot be bound, or when the server's device list is in and has no such
 * device, or the user may not relay to it. Before the device list is in, and
 * while the device is offline, the map is WAITING: it listens, turns local
 * connections away, and works again by itself when the device is back. */
gboolean          mcr_port_map_start                (McrPortMap       *self,
                                                     gboolean          all_interfaces,
                                                     GError          **error);
/* Closes the port and every tunnel of the map. */
void              mcr_port_map_stop                 (McrPortMap       *self);
/* Seconds a UDP peer's tunnel lives without traffic (default 60), and a TCP
 * tunnel after the local program shut down its sending side (default 5). */
void              mcr_port_map_set_udp_idle_timeout (McrPortMap       *self,
                                                     guint             seconds);
void              mcr_port_map_set_half_close_timeout (McrPortMap     *self,
                                                     guint             seconds);
/* The open connections (McrTunnel: peer, start time, bytes each way). */
GListModel       *mcr_port_map_get_connections      (McrPortMap       *self);

/* Properties (all notify): "spec", "device", "state", "error-message",
 * "last-failure" (why the last tunnel closed before any byte came back, in
 * plain words), "local-port", "all-interfaces", "n-connections",
 * "total-connections", "failed-connections", "bytes-sent" (to the device),
 * "bytes-received", "rate-sent", "rate-received" (bytes/s, updated once a second
 * while there is traffic). */
const McrMapSpec *mcr_port_map_get_spec             (McrPortMap       *self);
McrDevice        *mcr_port_map_get_device           (McrPortMap       *self);
/* The map as a -map:/-relaymap: argument for messages: the device named by
 * its name once it is known. */
char             *mcr_port_map_dup_argument         (McrPortMap       *self);
McrPortMapState   mcr_port_map_get_state            (McrPortMap       *self);
const char       *mcr_port_map_get_error_message    (McrPortMap       *self);
const char       *mcr_port_map_get_last_failure     (McrPortMap       *self);
guint16           mcr_port_map_get_local_port       (McrPortMap       *self);
gboolean          mcr_port_map_get_all_interfaces   (McrPortMap       *self);
guint             mcr_port_map_get_n_connections    (McrPortMap       *self);
guint64           mcr_port_map_get_total_connections (McrPortMap      *self);
guint64           mcr_port_map_get_failed_connections (McrPortMap     *self);
guint64           mcr_port_map_get_bytes_sent       (McrPortMap       *self);
guint64           mcr_port_map_get_bytes_received   (McrPortMap       *self);
double            mcr_port_map_get_rate_sent        (McrPortMap       *self);
double            mcr_port_map_get_rate_received    (McrPortMap       *self);

G_END_DECLS
