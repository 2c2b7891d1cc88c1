/* mcr-test-bus.h: stand-ins for desktop services (a panel's watcher, a
 * portal, a notification server) on the private session bus of a test
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A connection of its own to the session bus (the one dbus-run-session
 * gives the test): the service it plays is not the program under test. */
GDBusConnection *mcr_test_bus_connect  (void);
/* Exports the first interface of @xml at @path on @connection. */
void             mcr_test_bus_export   (GDBusConnection            *connection,
                                        const char                 *path,
                                        const char                 *xml,
                                        const GDBusInterfaceVTable *vtable,
                                        gpointer                    data);
/* Owns @name on @connection; returns once it is owned (10 s at most) with
 * the id for g_bus_unown_name(). */
guint            mcr_test_bus_own_name (GDBusConnection            *connection,
                                        const char                 *name);

/* rm -rf @dir: a test's temporary folder, at its end. */
void             mcr_test_remove_tree  (const char                 *dir);

G_END_DECLS
