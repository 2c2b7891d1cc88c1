/* mcr-port-map.h: one local port carried through the relay to a device
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-map-spec.h"
#include "mcr-server.h"

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
/* Binds the local port (loopback, or all interfaces) and starts accepting. */
gboolean          mcr_port_map_start                (McrPortMap       *self,
                                                     gboolean          all_interfaces,
                                                     GError          **error);
void              mcr_port_map_stop                 (McrPortMap       *self);

/* Properties (all notify): "spec", "device", "state", "error-message",
 * "last-failure" (why the last tunnel closed before any byte came back, in
 * plain words), "local-port", "all-interfaces", "n-connections",
 * "total-connections", "failed-connections", "bytes-sent" (to the device),
 * "bytes-received", "rate-sent", "rate-received" (bytes/s, updated once a second
 * while there is traffic). */
const McrMapSpec *mcr_port_map_get_spec             (McrPortMap       *self);
McrDevice        *mcr_port_map_get_device           (McrPortMap       *self);
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
