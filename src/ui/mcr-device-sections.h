/* mcr-device-sections.h: a sorted device list with a header item before each
 * group (GTK 4.8 list views have no sections of their own)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MCR_TYPE_DEVICE_SECTIONS (mcr_device_sections_get_type ())
G_DECLARE_FINAL_TYPE (McrDeviceSections, mcr_device_sections, MCR, DEVICE_SECTIONS, GObject)

/* Items are the devices of @model and, when headers are on, a GtkStringObject
 * holding the group name before the first device of each group. @model must
 * be sorted by group. Property "headers". */
McrDeviceSections *mcr_device_sections_new         (GListModel        *model);
void               mcr_device_sections_set_headers (McrDeviceSections *self,
                                                    gboolean           headers);
gboolean           mcr_device_sections_get_headers (McrDeviceSections *self);

G_END_DECLS
