/* mcr-debug-log-window.h: shows the debug log
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-debug-log.h"

G_BEGIN_DECLS

#define MCR_TYPE_DEBUG_LOG_WINDOW (mcr_debug_log_window_get_type ())
G_DECLARE_FINAL_TYPE (McrDebugLogWindow, mcr_debug_log_window, MCR, DEBUG_LOG_WINDOW, GtkWindow)

GtkWidget *mcr_debug_log_window_new (McrDebugLog *log);

G_END_DECLS
