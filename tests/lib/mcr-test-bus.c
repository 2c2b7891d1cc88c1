/* mcr-test-bus.c: stand-ins for desktop services on the private session
 * bus of a test
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-test-bus"

#include "mcr-test-bus.h"
#include "mcr-testbed.h"

GDBusConnection *
mcr_test_bus_connect (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  GDBusConnection *connection;

  g_assert_no_error (error);
  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                       | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

void
mcr_test_bus_export (GDBusConnection            *connection,
                     const char                 *path,
                     const char                 *xml,
                     const GDBusInterfaceVTable *vtable,
                     gpointer                    data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (xml, &error);

  g_assert_no_error (error);
  g_dbus_connection_register_object (connection, path, info->interfaces[0], vtable, data, NULL,
                                     &error);
  g_assert_no_error (error);
}

static void
name_acquired (GDBusConnection *connection,
               const char      *name,
               gpointer         data)
{
  *(gboolean *) data = TRUE;
}

guint
mcr_test_bus_own_name (GDBusConnection *connection,
                       const char      *name)
{
  /* Lives as long as the ownership: the name may be acquired again. */
  gboolean *acquired = g_new0 (gboolean, 1);
  guint id = g_bus_own_name_on_connection (connection, name, G_BUS_NAME_OWNER_FLAGS_NONE,
                                           name_acquired, NULL, acquired, g_free);

  if (!mcr_test_wait_flag (acquired, 10000))
    g_error ("%s was not owned on the session bus in time", name);
  return id;
}

void
mcr_test_remove_tree (const char *dir)
{
  const char *argv[] = { "rm", "-rf", dir, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
}
