/* mcr-device-directory.h: the devices and device groups one user sees on a
 * server, built from the control channel's replies and events, with the
 * user's effective rights on each (engine-internal: the UI uses McrServer)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <json-glib/json-glib.h>

#include "mcr-device.h"

G_BEGIN_DECLS

#define MCR_TYPE_DEVICE_DIRECTORY (mcr_device_directory_get_type ())
G_DECLARE_FINAL_TYPE (McrDeviceDirectory, mcr_device_directory, MCR, DEVICE_DIRECTORY, GObject)

McrDeviceDirectory *mcr_device_directory_new               (void);
GListModel         *mcr_device_directory_get_devices       (McrDeviceDirectory *self);
GListModel         *mcr_device_directory_get_groups        (McrDeviceDirectory *self);
McrDevice          *mcr_device_directory_lookup_device     (McrDeviceDirectory *self,
                                                            const char         *node_id);
McrDeviceGroup     *mcr_device_directory_lookup_group      (McrDeviceDirectory *self,
                                                            const char         *mesh_id);
McrDevice          *mcr_device_directory_find_device       (McrDeviceDirectory *self,
                                                            const char         *id_or_name);

/* "userinfo": the user's id and links (device groups, devices, user groups). */
void                mcr_device_directory_set_user          (McrDeviceDirectory *self,
                                                            JsonObject         *userinfo);
/* The "meshes" reply: the whole list of groups. */
void                mcr_device_directory_update_groups     (McrDeviceDirectory *self,
                                                            JsonArray          *meshes);
/* The "nodes" reply: { meshid: [ node, … ] }, the whole list of devices. */
void                mcr_device_directory_update_devices    (McrDeviceDirectory *self,
                                                            JsonObject         *nodes);
/* A "changenode"/"addnode" event. FALSE if the directory cannot place the
 * device by itself (a group it does not know): ask for meshes and nodes. */
gboolean            mcr_device_directory_change_device     (McrDeviceDirectory *self,
                                                            JsonObject         *node);
void                mcr_device_directory_set_connectivity  (McrDeviceDirectory *self,
                                                            const char         *node_id,
                                                            gint64              conn);
void                mcr_device_directory_remove_device     (McrDeviceDirectory *self,
                                                            const char         *node_id);
void                mcr_device_directory_clear             (McrDeviceDirectory *self);

G_END_DECLS
