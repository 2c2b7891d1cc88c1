/* mcr-autostart.h: starting the router at desktop login, hidden (-tray)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MCR_TYPE_AUTOSTART (mcr_autostart_get_type ())
G_DECLARE_FINAL_TYPE (McrAutostart, mcr_autostart, MCR, AUTOSTART, GObject)

/* Follows the "start-at-login" key of @settings: when it changes, asks for
 * what it says (mcr_autostart_apply_async()). When the desktop refuses,
 * the key is set back to false. */
McrAutostart *mcr_autostart_new              (GSettings           *settings);
/* Inside Flatpak: @path exists (by default /.flatpak-info); for tests. */
void          mcr_autostart_set_flatpak_info (McrAutostart        *self,
                                              const char          *path);
gboolean      mcr_autostart_get_flatpak      (McrAutostart        *self);
/* ~/.config/autostart/org.meshcentral.Router.desktop (XDG_CONFIG_HOME). */
char         *mcr_autostart_get_entry_path   (void);
/* The command line that login runs: meshcentral-router -tray. */
const char *const *mcr_autostart_get_commandline (void);
/* Starts at login (@enabled) or no more. Inside Flatpak it asks the
 * Background portal (RequestBackground, autostart); outside it writes or
 * removes the XDG autostart entry (only one this program wrote). */
void          mcr_autostart_apply_async      (McrAutostart        *self,
                                              gboolean             enabled,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean      mcr_autostart_apply_finish     (McrAutostart        *self,
                                              GAsyncResult        *result,
                                              GError             **error);

G_END_DECLS
