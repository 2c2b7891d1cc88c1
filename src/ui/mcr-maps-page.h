/* mcr-maps-page.h: the port maps of this session
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-port-map.h"

G_BEGIN_DECLS

#define MCR_TYPE_MAPS_PAGE (mcr_maps_page_get_type ())
G_DECLARE_FINAL_TYPE (McrMapsPage, mcr_maps_page, MCR, MAPS_PAGE, GtkBox)

/* Signals "open-map" and "remove-map" (McrPortMap *map), "set-map-enabled"
 * (McrPortMap *map, gboolean enabled) from a row's on/off switch, "wake-map"
 * (McrPortMap *map) from the Wake Up button of a map that waits for its
 * offline device. */
GtkWidget  *mcr_maps_page_new              (void);
/* A list of McrPortMap, or NULL. */
void        mcr_maps_page_set_maps         (McrMapsPage *self,
                                            GListModel  *maps);
McrPortMap *mcr_maps_page_get_selected_map (McrMapsPage *self);
void        mcr_maps_page_select_map       (McrMapsPage *self,
                                            McrPortMap  *map);

G_END_DECLS
