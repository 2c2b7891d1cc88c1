/* mcr-window.h: the main window: login, second factor, certificate, devices
 * and maps
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-application.h"
#include "mcr-session.h"

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
/* A .mcrouter file (its maps are added; when not logged in, it also says
 * where to log in) or an mcrouter:// link (logs in with its cookie). */
void        mcr_window_open               (McrWindow      *self,
                                           GFile          *file);
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
