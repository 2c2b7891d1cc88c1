/* mcr-settings-dialog.h: the settings window
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MCR_TYPE_SETTINGS_DIALOG (mcr_settings_dialog_get_type ())
G_DECLARE_FINAL_TYPE (McrSettingsDialog, mcr_settings_dialog, MCR, SETTINGS_DIALOG, GtkWindow)

/* Changes apply at once (GSettings). */
McrSettingsDialog *mcr_settings_dialog_new (GtkWindow *parent);

G_END_DECLS
