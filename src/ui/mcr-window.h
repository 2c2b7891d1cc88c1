/* mcr-window.h
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-application.h"

G_BEGIN_DECLS

#define MCR_TYPE_WINDOW (mcr_window_get_type ())
G_DECLARE_FINAL_TYPE (McrWindow, mcr_window, MCR, WINDOW, GtkApplicationWindow)

McrWindow *mcr_window_new (McrApplication *app);

G_END_DECLS
