/* mcr-window.h: the main window: login, second factor, certificate, devices
 * and maps
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-application.h"
#include "mcr-session.h"

#include "mcr-map-store.h"

G_BEGIN_DECLS

#define MCR_TYPE_WINDOW (mcr_window_get_type ())
G_DECLARE_FINAL_TYPE (McrWindow, mcr_window, MCR, WINDOW, GtkApplicationWindow)

McrWindow  *mcr_window_new                (McrApplication *app);
McrSession *mcr_window_get_session        (McrWindow      *self);
/* Takes what the command line says: server, account, certificates, maps to
 * create once the device list is in. Logs in when server, user and
 * password are all known. */
void        mcr_window_apply_options      (McrWindow      *self,
                                           const McrOptions *options);
/* A .mcrouter file or an mcrouter:// link. Logged into its server: its maps
 * are added. Not logged in: a file fills the login page (and logs in when it
 * holds the password), a link logs in with its cookie. Logged into another
 * server: a dialog asks whether to log out and connect there (it answers
 * with the actions win.switch-server or win.keep-server). */
void        mcr_window_open               (McrWindow      *self,
                                           GFile          *file);
/* Writes the maps of this login to @file, as Save Mappings… does: server,
 * user and pinned certificate, each map with the id of its device. */
/* Where the maps of each login are remembered (default: the XDG config
 * folder's); for tests. Takes effect at the next login. */
void        mcr_window_set_map_store      (McrWindow      *self,
                                           McrMapStore    *store);
gboolean    mcr_window_save_mappings      (McrWindow      *self,
                                           GFile          *file,
                                           GError        **error);
/* Fills the login page and logs in. */
void        mcr_window_login              (McrWindow      *self,
                                           const char     *server,
                                           const char     *user,
                                           const char     *password);
/* Maps to create as soon as the device list of the current (or next) login
 * is in. Copies @specs' items (McrMapSpec). */
void        mcr_window_queue_maps         (McrWindow      *self,
                                           GPtrArray      *specs);
/* The name of the visible page: "login", "token", "certificate", "devices"
 * or "maps". */
const char *mcr_window_get_page           (McrWindow      *self);
void        mcr_window_show_message       (McrWindow      *self,
                                           const char     *message,
                                           gboolean        is_error);

G_END_DECLS
