/* mcr-notifier.h: desktop notifications about what happens while the window
 * is not looked at
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-session.h"

G_BEGIN_DECLS

/* Notification ids: each subject has one, so that a new state of the same
 * thing replaces the old notification instead of adding another. */
#define MCR_NOTIFICATION_BACKGROUND "background"
#define MCR_NOTIFICATION_SERVER     "server"
/* "device-" + node id; "map-" + a hash of the map's -map: argument. */

#define MCR_TYPE_NOTIFIER (mcr_notifier_get_type ())
G_DECLARE_FINAL_TYPE (McrNotifier, mcr_notifier, MCR, NOTIFIER, GObject)

/* Watches @session: a map that fails, a device that goes offline (and comes
 * back) while a map uses it, the server connection lost for good. Nothing
 * is sent while a window of ours has the focus: the window shows all of it
 * already. @application must outlive the notifier. */
McrNotifier *mcr_notifier_new                  (GApplication *application,
                                                McrSession   *session);
/* "MeshCentral Router is still running", with Show Window and Quit. */
void         mcr_notifier_show_background      (McrNotifier  *self,
                                                guint         n_active_maps);
void         mcr_notifier_withdraw_background  (McrNotifier  *self);
/* The id used for @map's notifications. */
char        *mcr_notifier_map_id               (McrPortMap   *map);
char        *mcr_notifier_device_id            (McrDevice    *device);

G_END_DECLS
