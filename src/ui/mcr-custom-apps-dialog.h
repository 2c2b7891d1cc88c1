/* mcr-custom-apps-dialog.h: edits the user's custom apps
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MCR_TYPE_CUSTOM_APPS_DIALOG (mcr_custom_apps_dialog_get_type ())
G_DECLARE_FINAL_TYPE (McrCustomAppsDialog, mcr_custom_apps_dialog, MCR, CUSTOM_APPS_DIALOG, GtkWindow)

/* Valid changes are stored at once (GSettings "custom-apps"). */
McrCustomAppsDialog *mcr_custom_apps_dialog_new (GtkWindow *parent);

G_END_DECLS
