/* login-helpers.h: logging into the testbed from the control-channel tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-server.h"
#include "mcr-testbed.h"

G_BEGIN_DECLS

/* A server object for the testbed, its certificate pinned by SHA-384. */
McrServer *test_server_new          (const McrTestbed      *tb);
/* A server object logged into the testbed as its admin (password login),
 * its devices loaded and the agent's device online (@online_timeout_ms at
 * most). */
McrServer *test_server_logged_in    (const McrTestbed      *tb,
                                     guint                  online_timeout_ms);
/* The SHA-384 (uppercase hex) of tests/data/test-server-cert.pem, a
 * certificate that is not the testbed's. */
char      *test_other_cert_hash     (void);
/* A fresh authcookie of the testbed's admin, URL-escaped, as the web UI
 * puts it in mcrouter:// links (the login it came from is logged out). */
char      *test_link_cookie         (const McrTestbed      *tb);
/* Logs in and iterates the main loop until done (60 s at most). */
gboolean   test_login               (McrServer             *server,
                                     const McrCredentials  *credentials,
                                     McrTokenRequest       *token_request,
                                     GError               **error);
gboolean   test_login_password      (McrServer             *server,
                                     const char            *user,
                                     const char            *password,
                                     GError               **error);
/* Waits for "devices-loaded" (or the property, if already TRUE). */
gboolean   test_wait_devices_loaded (McrServer             *server,
                                     guint                  timeout_ms);
/* Waits until the device's "online" is @online. */
gboolean   test_wait_online         (McrServer             *server,
                                     const char            *node_id,
                                     gboolean               online,
                                     guint                  timeout_ms);
/* Waits until the server's state is @state. */
gboolean   test_wait_state          (McrServer             *server,
                                     McrServerState         state,
                                     guint                  timeout_ms);
/* A unique name for a test account, e.g. "ctl-twofa-1234-5". */
char      *test_unique_name         (const char            *prefix);
/* A new account (meshctrl AddUser, plus @extra_flag such as "--notools");
 * returns its name and sets *@password. */
char      *test_add_user            (const char            *prefix,
                                     const char            *extra_flag,
                                     char                 **password);
void       test_remove_user         (const char            *user);
/* Sends @command on the control channel and waits for the reply with the
 * same action. */
JsonObject *test_request            (McrServer             *server,
                                     JsonObject            *command);
/* Sets TOTP up for the account through the control channel, as a user does
 * in the web UI; returns the base32 secret. */
char      *test_setup_totp          (const char            *user,
                                     const char            *password);

G_END_DECLS
