/* mcr-map-dialog.h: Add map and Add relay map
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-map-spec.h"

G_BEGIN_DECLS

#define MCR_TYPE_MAP_DIALOG (mcr_map_dialog_get_type ())
G_DECLARE_FINAL_TYPE (McrMapDialog, mcr_map_dialog, MCR, MAP_DIALOG, GtkWindow)

/* Signal "add" (McrMapSpec *spec): the handler either closes the dialog or
 * calls mcr_map_dialog_set_error(). */
McrMapDialog *mcr_map_dialog_new        (GtkWindow    *parent,
                                         GListModel   *devices,
                                         gboolean      relay);
void          mcr_map_dialog_set_device (McrMapDialog *self,
                                         GObject      *device);
/* Local ports that other maps use already (a list of McrPortMap). */
void          mcr_map_dialog_set_maps   (McrMapDialog *self,
                                         GListModel   *maps);
void          mcr_map_dialog_set_error  (McrMapDialog *self,
                                         const char   *message);
/* What the form says now, or NULL (and the reason in @error) when it is not
 * valid. */
McrMapSpec   *mcr_map_dialog_get_spec   (McrMapDialog *self,
                                         GError      **error);
gboolean      mcr_map_dialog_get_relay  (McrMapDialog *self);
/* The "Ports" field: 1, or how many maps the spec of "add" starts, the
 * local port (unless 0) and the remote port counting up together. */
guint         mcr_map_dialog_get_port_count (McrMapDialog *self);

G_END_DECLS
