/* mcr-device-private.h: setters the server uses to keep devices and groups
 * current; not for the UI
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-device.h"

G_BEGIN_DECLS

/* Rights links as the server sends them ("links": { id: { "rights": N } }):
 * id (user//…, ugrp//…) -> rights, stored as GUINT_TO_POINTER. */
typedef GHashTable McrLinks;

McrDeviceGroup *_mcr_device_group_new             (const char     *id);
void            _mcr_device_group_set_name        (McrDeviceGroup *self,
                                                   const char     *name);
void            _mcr_device_group_set_description (McrDeviceGroup *self,
                                                   const char     *description);
void            _mcr_device_group_set_group_type  (McrDeviceGroup *self,
                                                   McrGroupType    group_type);
void            _mcr_device_group_set_relay_id    (McrDeviceGroup *self,
                                                   const char     *relay_id);
void            _mcr_device_group_set_rights      (McrDeviceGroup *self,
                                                   guint32         rights);
/* Takes ownership of @links (may be NULL). */
void            _mcr_device_group_set_links       (McrDeviceGroup *self,
                                                   McrLinks       *links);
McrLinks       *_mcr_device_group_get_links       (McrDeviceGroup *self);

McrDevice      *_mcr_device_new                   (const char     *id);
void            _mcr_device_set_name              (McrDevice      *self,
                                                   const char     *name);
void            _mcr_device_set_group             (McrDevice      *self,
                                                   McrDeviceGroup *group);
void            _mcr_device_set_online            (McrDevice      *self,
                                                   gboolean        online);
void            _mcr_device_set_icon              (McrDevice      *self,
                                                   guint           icon);
void            _mcr_device_set_host              (McrDevice      *self,
                                                   const char     *host);
void            _mcr_device_set_rdp_port          (McrDevice      *self,
                                                   guint16         rdp_port);
void            _mcr_device_set_rights            (McrDevice      *self,
                                                   guint32         rights);
void            _mcr_device_set_links             (McrDevice      *self,
                                                   McrLinks       *links);
McrLinks       *_mcr_device_get_links             (McrDevice      *self);

G_END_DECLS
