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

/* Sets the certificate that @settings ("trusted-certificates") trusts for
 * @server to the one with SHA-384 @sha384, or forgets @server's when
 * @sha384 is NULL. */
void mcr_settings_dialog_set_trusted_certificate (GSettings  *settings,
                                                  const char *server,
                                                  const char *sha384);

G_END_DECLS
