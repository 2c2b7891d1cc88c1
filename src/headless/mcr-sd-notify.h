/* mcr-sd-notify.h: tells systemd how a Type=notify service is doing
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sends @state ("READY=1", "STATUS=…", "STOPPING=1", several separated by
 * newlines) as one datagram to the socket named by $NOTIFY_SOCKET: a path,
 * or an abstract socket when it starts with '@'. Without $NOTIFY_SOCKET
 * (not started by systemd) it does nothing and returns FALSE; a failure to
 * send is a g_debug() and FALSE. */
gboolean mcr_sd_notify        (const char *state);
/* mcr_sd_notify() of "STATUS=" and the formatted text. */
gboolean mcr_sd_notify_status (const char *format,
                               ...) G_GNUC_PRINTF (1, 2);

G_END_DECLS
