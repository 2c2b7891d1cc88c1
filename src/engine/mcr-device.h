/* mcr-device.h: a device (node) and a device group (mesh) as the server
 * describes them, kept current from its events
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Device group types (mtype). */
typedef enum
{
  MCR_GROUP_TYPE_AMT       = 1,
  MCR_GROUP_TYPE_AGENT     = 2,
  MCR_GROUP_TYPE_AGENTLESS = 3,
  MCR_GROUP_TYPE_IPKVM     = 4,
} McrGroupType;

#define MCR_RIGHT_REMOTE_CONTROL 0x00000008
#define MCR_RIGHT_RELAY          0x00200000

#define MCR_TYPE_DEVICE_GROUP (mcr_device_group_get_type ())
G_DECLARE_FINAL_TYPE (McrDeviceGroup, mcr_device_group, MCR, DEVICE_GROUP, GObject)

/* Properties: "id", "name", "description", "group-type", "relay-id", "rights" */
const char  *mcr_device_group_get_id          (McrDeviceGroup *self);
const char  *mcr_device_group_get_name        (McrDeviceGroup *self);
const char  *mcr_device_group_get_description (McrDeviceGroup *self);
McrGroupType mcr_device_group_get_group_type  (McrDeviceGroup *self);
const char  *mcr_device_group_get_relay_id    (McrDeviceGroup *self);
guint32      mcr_device_group_get_rights      (McrDeviceGroup *self);

#define MCR_TYPE_DEVICE (mcr_device_get_type ())
G_DECLARE_FINAL_TYPE (McrDevice, mcr_device, MCR, DEVICE, GObject)

/* Properties: "id", "name", "group" (McrDeviceGroup), "group-name", "online",
 * "icon" (1-8), "host", "rdp-port", "rights" (effective: device + group +
 * user groups), "can-relay" */
const char     *mcr_device_get_id         (McrDevice *self);
const char     *mcr_device_get_name       (McrDevice *self);
McrDeviceGroup *mcr_device_get_group      (McrDevice *self);
const char     *mcr_device_get_group_name (McrDevice *self);
gboolean        mcr_device_get_online     (McrDevice *self);
guint           mcr_device_get_icon       (McrDevice *self);
const char     *mcr_device_get_host       (McrDevice *self);
guint16         mcr_device_get_rdp_port   (McrDevice *self);
guint32         mcr_device_get_rights     (McrDevice *self);
gboolean        mcr_device_get_can_relay  (McrDevice *self);

G_END_DECLS
