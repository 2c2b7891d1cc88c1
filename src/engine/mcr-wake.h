/* mcr-wake.h: Wake-on-LAN for offline devices, asked of the server
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-device.h"
#include "mcr-server.h"

G_BEGIN_DECLS

/* MESHRIGHT_WAKEDEVICE: the user may wake the devices of a group. */
#define MCR_RIGHT_WAKE_DEVICE 0x00000040

/* How long the server has to answer a wakedevices request. */
#define MCR_WAKE_TIMEOUT_S 30

/* The "Wake Up" rule: @device is offline, the user has the wake right on
 * it, and it is in a group of agents or Intel AMT devices (the server
 * knows the network cards of those: agentless devices have none). */
gboolean  mcr_wake_can_wake         (McrDevice            *device);

/* Sends {"action":"wakedevices","nodeids":[…],"responseid":…} and waits for
 * the server's answer to it (MCR_WAKE_TIMEOUT_S seconds at most). */
void      mcr_wake_devices_async    (McrServer            *server,
                                     const char * const   *node_ids,
                                     GCancellable         *cancellable,
                                     GAsyncReadyCallback   callback,
                                     gpointer              user_data);
/* Returns: (transfer full): the server's answer when it sent wake packets
 * ("Used 1 device(s) to send wake packets", or "ok" for several devices);
 * NULL with @error otherwise: MCR_SERVER_ERROR_REFUSED with the server's
 * reason ("No known MAC addresses for this device", "Invalid nodeid"…),
 * MCR_SERVER_ERROR_TIMEOUT, or G_IO_ERROR_CANCELLED. */
char     *mcr_wake_devices_finish   (McrServer            *server,
                                     GAsyncResult         *result,
                                     GError              **error);

G_END_DECLS
