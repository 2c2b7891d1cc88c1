/* mcr-map-row.h: one port map, live
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-port-map.h"

G_BEGIN_DECLS

#define MCR_TYPE_MAP_ROW (mcr_map_row_get_type ())
G_DECLARE_FINAL_TYPE (McrMapRow, mcr_map_row, MCR, MAP_ROW, GtkBox)

/* Signals "open" and "remove" (its actions map.open and map.remove),
 * "set-enabled" (gboolean) when the user flips its on/off switch, "wake"
 * (action map.wake) from the Wake Up button of a map waiting for its
 * offline device. */
GtkWidget  *mcr_map_row_new     (void);
void        mcr_map_row_set_map (McrMapRow  *self,
                                 McrPortMap *map);
McrPortMap *mcr_map_row_get_map (McrMapRow  *self);
/* "HTTP", "RDP", a custom app's name, or "TCP"/"UDP" when there is no app. */
char       *mcr_map_describe_app (const McrMapSpec *spec);
/* "PC1 (HTTP)", or "PC1 — Web admin (HTTP)" when the map has a name. */
char       *mcr_map_describe_title (McrPortMap *map);
/* "127.0.0.1:8080 → PC1:80" or "… → 192.168.1.1:80 via PC1". */
char       *mcr_map_describe_route (McrPortMap *map);
/* "Ready", "Waiting for the device to come online", the error… */
const char *mcr_map_describe_state (McrPortMap *map);

G_END_DECLS
