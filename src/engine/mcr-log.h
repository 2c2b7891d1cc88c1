/* mcr-log.h: the program's one GLib log writer: secrets taken out of every
 * message, and the -debug log file
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Where else messages go (the Debug Log window): each message, already
 * redacted. Debug messages come only while they are enabled
 * (g_log_set_debug_enabled()) or the debug file is open. Any thread. */
typedef void (*McrLogSinkFunc) (GLogLevelFlags  level,
                                const char     *domain,
                                const char     *message,
                                gpointer        user_data);

/* A copy of @message with the values of anything secret replaced by
 * "(hidden)": URL parameters and fields such as auth=, key=, cookie,
 * password, pass, token, secret (as name=value, name: value or JSON
 * "name":"value"), the x-meshauth, Authorization and Cookie headers, and the
 * query of mcrouter:// links. */
char       *mcr_log_redact                (const char     *message);

/* One line as the debug file and the Debug Log window show it: "TIME
 * LEVEL domain: message\n", the time now (local, to the millisecond, with
 * the date if @with_date), the message without its trailing newlines. */
char       *mcr_log_format_line           (GLogLevelFlags  level,
                                           const char     *domain,
                                           const char     *message,
                                           gboolean        with_date);

/* Installs the writer: every message is redacted, then printed as GLib
 * would (stderr, the journal), written to the debug file if it is open, and
 * handed to the sink. Only programs call this (main(), the UI tests); once
 * is enough, more calls do nothing. */
void        mcr_log_init                  (void);
void        mcr_log_set_sink              (McrLogSinkFunc  func,
                                           gpointer        user_data);

/* For -debug: enables debug messages and writes every message, redacted,
 * to $XDG_CACHE_HOME/meshcentral-router/debug.log (created with mode 0600,
 * emptied first; the folder with mode 0700). */
gboolean    mcr_log_open_debug_file       (GError        **error);
/* The debug file's path while it is open, else NULL. */
const char *mcr_log_get_debug_file_path   (void);
void        mcr_log_close_debug_file      (void);

/* The name logs give @value of the enum @type (its value nick, e.g.
 * "connected" for MCR_SERVER_STATE_CONNECTED; see mcr-enums.h), or
 * "unknown". Not for users: they see translated labels. */
const char *mcr_enum_nick                 (GType           type,
                                           int             value);

G_END_DECLS
