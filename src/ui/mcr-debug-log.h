/* mcr-debug-log.h: keeps the program's log messages for the Debug Log window
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MCR_TYPE_DEBUG_LOG (mcr_debug_log_get_type ())
G_DECLARE_FINAL_TYPE (McrDebugLog, mcr_debug_log, MCR, DEBUG_LOG, GObject)

/* The process's log (installs the GLib log writer the first time).
 * (transfer full) */
McrDebugLog   *mcr_debug_log_get_default    (void);
/* Property "recording": also keep (and print) debug messages. */
void           mcr_debug_log_set_recording  (McrDebugLog *self,
                                             gboolean     recording);
gboolean       mcr_debug_log_get_recording  (McrDebugLog *self);
/* The messages so far, one a line. */
GtkTextBuffer *mcr_debug_log_get_buffer     (McrDebugLog *self);
void           mcr_debug_log_clear          (McrDebugLog *self);

G_END_DECLS
