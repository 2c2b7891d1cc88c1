/* mcr-tray.h: the tray icon, a StatusNotifierItem with its menu
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-session.h"

G_BEGIN_DECLS

/* Where the item and its menu are, on the application's connection. */
#define MCR_TRAY_ITEM_PATH "/StatusNotifierItem"
#define MCR_TRAY_MENU_PATH "/org/meshcentral/Router/TrayMenu"

/* The dbusmenu ids of the fixed items; each map has two of its own after
 * MCR_TRAY_ID_FIRST_MAP (its submenu, then its Open item). */
typedef enum
{
  MCR_TRAY_ID_ROOT = 0,
  MCR_TRAY_ID_SHOW_WINDOW,
  MCR_TRAY_ID_PAUSE,
  MCR_TRAY_ID_QUIT,
  MCR_TRAY_ID_FIRST_MAP = 100,
} McrTrayId;

#define MCR_TYPE_TRAY (mcr_tray_get_type ())
G_DECLARE_FINAL_TYPE (McrTray, mcr_tray, MCR, TRAY, GObject)

/* Exports the item (org.kde.StatusNotifierItem) and its menu
 * (com.canonical.dbusmenu) on @application's D-Bus connection, and
 * registers the item with org.kde.StatusNotifierWatcher whenever that name
 * is on the bus. The menu: Show Window, each map of @session with its state
 * and Open, Pause All Maps (Resume All Maps once paused), Quit; the
 * application's actions app.show-window and app.quit do the work.
 * @application must outlive the tray. Property "registered": a watcher has
 * the item now (the desktop shows the icon). */
McrTray  *mcr_tray_new            (GApplication *application,
                                   McrSession   *session);
gboolean  mcr_tray_get_registered (McrTray      *self);

G_END_DECLS
