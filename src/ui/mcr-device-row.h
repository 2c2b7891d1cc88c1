/* mcr-device-row.h: one device (or a group header) in a device list
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MCR_TYPE_DEVICE_ROW (mcr_device_row_get_type ())
G_DECLARE_FINAL_TYPE (McrDeviceRow, mcr_device_row, MCR, DEVICE_ROW, GtkBox)

GtkWidget  *mcr_device_row_new            (void);
/* An McrDevice (its name, group, icon and online state follow the device),
 * a GtkStringObject (a group header), or NULL. */
void        mcr_device_row_set_item       (McrDeviceRow *self,
                                           GObject      *item);
GObject    *mcr_device_row_get_item       (McrDeviceRow *self);
/* Leaves the group out (for lists under a group header). */
void        mcr_device_row_set_show_group (McrDeviceRow *self,
                                           gboolean      show_group);
/* The symbolic icon for a MeshCentral device icon number (1-8). */
const char *mcr_device_icon_name          (guint         icon);

G_END_DECLS
