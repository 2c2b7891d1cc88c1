/* mcr-io-source.h: one long-lived readiness source per connection
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Called with what the socket is ready for (within what was asked, plus
 * G_IO_HUP/G_IO_ERR), or 0 when mcr_io_source_set_ready() asked for a turn.
 * Returns G_SOURCE_CONTINUE, or G_SOURCE_REMOVE to destroy the source. */
typedef gboolean (*McrIoSourceFunc) (GIOCondition revents,
                                     gpointer     user_data);

/* A source that stays attached for the life of a connection and changes
 * what it waits for without system calls: GLib's own pollable sources are
 * created per wait, nest three deep under TLS, and every add, remove or
 * dispatch of them writes the main context's wakeup eventfd, which costs a
 * second loop iteration (measured: ~4 eventfd writes per relay read).
 *
 * @socket is polled directly when the streams read and write it with no
 * buffer of their own between (a plain socket, or TLS over it: then the
 * caller reads until G_IO_ERROR_WOULD_BLOCK before it waits). Otherwise
 * (@socket NULL, e.g. a connection through an https proxy) it waits on
 * pollable sources of @input and @output. May recurse: it is never blocked
 * while its callback runs. */
GSource *mcr_io_source_new        (GSocket               *socket,
                                   GPollableInputStream  *input,
                                   GPollableOutputStream *output);
void     mcr_io_source_set_callback (GSource             *source,
                                     McrIoSourceFunc      func,
                                     gpointer             user_data);
/* What to wait for: G_IO_IN, G_IO_OUT, both, or 0. */
void     mcr_io_source_set_events (GSource               *source,
                                   GIOCondition           events);
GIOCondition mcr_io_source_get_events (GSource           *source);
/* Dispatches once on the next main loop iteration, without waiting (what
 * an idle source would do, without creating one). */
void     mcr_io_source_set_ready  (GSource               *source);
/* A turn as from mcr_io_source_set_ready() at @time (g_get_monotonic_time()),
 * unless the socket comes first; -1: none. Cleared when a turn (this or
 * mcr_io_source_set_ready()'s) is taken. */
void     mcr_io_source_set_deadline (GSource             *source,
                                     gint64               time);

/* Any GSource kept in a slot of its owner (a timeout, an idle check):
 * mcr_source_attach() gives @source the callback @func(@user_data), attaches
 * it to @context and keeps it (and its reference) in *@slot, after
 * destroying what *@slot held; mcr_source_clear() destroys *@slot and sets
 * it to NULL (nothing if it was NULL). */
void     mcr_source_attach        (GSource              **slot,
                                   GSource               *source,
                                   GMainContext          *context,
                                   GSourceFunc            func,
                                   gpointer               user_data);
void     mcr_source_clear         (GSource              **slot);

G_END_DECLS
