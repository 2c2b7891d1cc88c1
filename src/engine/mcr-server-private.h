/* mcr-server-private.h: McrServer internals for unit tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-server.h"

G_BEGIN_DECLS

/* The default limit for one incoming WebSocket message. */
#define MCR_SERVER_MAX_PAYLOAD (64 * 1024 * 1024)

typedef void (*McrServerSendHook) (const char *text,
                                   gpointer    user_data);

/* Every text the server object sends is handed to @hook first (the
 * connection, if any, still gets it). */
void     _mcr_server_set_send_hook      (McrServer         *self,
                                         McrServerSendHook  hook,
                                         gpointer           user_data);
/* Puts the object in the "logged in, waiting for serverinfo" phase with no
 * connection, as a password login would, so that messages fed with
 * _mcr_server_handle_text() run through the real dispatcher. */
void     _mcr_server_begin_test_session (McrServer         *self);
/* One text frame to the server, as it is (for tests that need to send what
 * json-glib cannot write, such as a lone-surrogate escape). */
void     _mcr_server_send_text          (McrServer         *self,
                                         const char        *text);
/* One text frame, as if it came from the server. */
void     _mcr_server_handle_text        (McrServer         *self,
                                         const char        *text,
                                         gsize              length);
void     _mcr_server_set_max_payload    (McrServer         *self,
                                         guint64            bytes);
/* Trust these CAs instead of the system's. */
void     _mcr_server_set_tls_database   (McrServer         *self,
                                         GTlsDatabase      *database);
/* Ping every @ping_ms, give up on a silent server after @dead_after_ms,
 * ask for a fresh relay cookie every @cookie_refresh_ms (set before the
 * login). */
void     _mcr_server_set_intervals      (McrServer         *self,
                                         guint              ping_ms,
                                         guint              dead_after_ms,
                                         guint              cookie_refresh_ms);
/* The reconnect delay after @attempt failed attempts (0 = the first retry),
 * jitter included. */
guint    _mcr_server_reconnect_delay_ms (guint              attempt);

G_END_DECLS
