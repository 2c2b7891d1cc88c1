/* mcr-devices-page.h: the user's devices, searchable, with a context menu
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MCR_TYPE_DEVICES_PAGE (mcr_devices_page_get_type ())
G_DECLARE_FINAL_TYPE (McrDevicesPage, mcr_devices_page, MCR, DEVICES_PAGE, GtkBox)

/* Signal "device-activated" (GObject *device): double-click or Enter. The
 * context menu's items are the window's actions (win.add-map,
 * win.add-relay-map, win.quick-map), which act on the selected device. */
GtkWidget  *mcr_devices_page_new                 (void);
/* A list of McrDevice, or NULL. */
void        mcr_devices_page_set_devices         (McrDevicesPage *self,
                                                  GListModel     *devices);
void        mcr_devices_page_set_loading         (McrDevicesPage *self,
                                                  gboolean        loading);
/* The McrDevice selected, or NULL (transfer none). */
GObject    *mcr_devices_page_get_selected_device (McrDevicesPage *self);
gboolean    mcr_devices_page_select_device       (McrDevicesPage *self,
                                                  GObject        *device);
/* What the list shows after filtering and sorting (devices and group
 * headers). */
GListModel *mcr_devices_page_get_shown_model     (McrDevicesPage *self);
void        mcr_devices_page_focus_search        (McrDevicesPage *self);

G_END_DECLS
