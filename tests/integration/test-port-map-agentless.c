/* SPDX-License-Identifier: Apache-2.0
 *
 * Maps to devices without an agent, on the real server: in an agentless
 * group the server itself connects to the device's host (localrelay.ashx);
 * in an agentless group with a relay device the agent of that device does
 * (meshrelay.ashx through the relay node, to the device's host). */
#include <json-glib/json-glib.h>
#include <string.h>

#include "login-helpers.h"
#include "mcr-port-map.h"
#include "relay-test-util.h"

static McrServer *server;

typedef struct
{
  char *mesh_id;
} Created;

static void
on_createmesh (McrServer  *srv,
               const char *action,
               JsonObject *message,
               Created    *created)
{
  if (g_strcmp0 (json_object_get_string_member_with_default (message, "result", ""), "ok") == 0)
    created->mesh_id = g_strdup (json_object_get_string_member_with_default (message, "meshid",
                                                                               NULL));
}

static gboolean
mesh_created (gpointer data)
{
  return ((Created *) data)->mesh_id != NULL;
}

typedef struct
{
  const char *name;
  const char *group_id;
} Wanted;

static gboolean
device_known (gpointer data)
{
  Wanted *w = data;
  McrDevice *d = mcr_server_find_device (server, w->name);

  return d != NULL && mcr_device_get_group (d) != NULL &&
         g_strcmp0 (mcr_device_group_get_id (mcr_device_get_group (d)), w->group_id) == 0;
}

/* A new agentless group (through @relay_id if not NULL) holding one device
 * at @host; returns the device's name, and the group's id in @mesh_id. */
static char *
add_agentless_device (const char  *relay_id,
                      const char  *host,
                      char       **mesh_id)
{
  g_autofree char *group = test_unique_name ("relay-agentless");
  char *device = test_unique_name ("nobody-home");
  g_autoptr(JsonObject) create = json_object_new ();
  g_autoptr(JsonObject) add = json_object_new ();
  Created created = { NULL };
  Wanted wanted = { device, NULL };
  gulong id;

  json_object_set_string_member (create, "action", "createmesh");
  json_object_set_string_member (create, "meshname", group);
  json_object_set_int_member (create, "meshtype", MCR_GROUP_TYPE_AGENTLESS);
  json_object_set_string_member (create, "responseid", "relay-test");
  if (relay_id != NULL)
    json_object_set_string_member (create, "relayid", relay_id);
  id = g_signal_connect (server, "message::createmesh", G_CALLBACK (on_createmesh), &created);
  mcr_server_send_command (server, create);
  g_assert_true (mcr_test_wait_until (mesh_created, &created, 20000));
  g_signal_handler_disconnect (server, id);

  json_object_set_string_member (add, "action", "addlocaldevice");
  json_object_set_string_member (add, "meshid", created.mesh_id);
  json_object_set_string_member (add, "devicename", device);
  json_object_set_string_member (add, "hostname", host);
  json_object_set_int_member (add, "type", 4);
  json_object_set_string_member (add, "responseid", "relay-test");
  mcr_server_send_command (server, add);
  wanted.group_id = created.mesh_id;
  g_assert_true (mcr_test_wait_until (device_known, &wanted, 30000));
  *mesh_id = created.mesh_id;
  return device;
}

/* Leaves the shared testbed as it was: the group goes with its device. */
static void
delete_group (const char *mesh_id)
{
  g_autoptr(JsonObject) del = json_object_new ();

  json_object_set_string_member (del, "action", "deletemesh");
  json_object_set_string_member (del, "meshid", mesh_id);
  json_object_set_string_member (del, "responseid", "relay-test");
  mcr_server_send_command (server, del);
}

static void
check_map_echo (const char *device,
                guint16     port,
                guint32     seed)
{
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(McrPortMap) map = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestPeer) peer = NULL;

  spec->node_name = g_strdup (device);
  spec->remote_port = port;
  map = mcr_port_map_new (server, spec);
  g_assert_true (mcr_port_map_start (map, FALSE, &error));
  g_assert_no_error (error);
  peer = test_peer_connect (mcr_port_map_get_local_port (map), 1024 * 1024, seed);
  g_assert_true (mcr_test_wait_until (test_peer_echoed, peer, 60000));
  g_assert_no_error (peer->error);
  g_assert_true (test_peer_echo_matches (peer));
}

/* The server connects to the device's host itself. */
static void
test_local_relay (void)
{
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autofree char *mesh_id = NULL;
  g_autofree char *device = add_agentless_device (NULL, "127.0.0.1", &mesh_id);

  check_map_echo (device, echo, 31);
  delete_group (mesh_id);
}

/* The testbed's agent relays to the device's host: a service on 127.0.0.2
 * only, so that an answer proves the host was used. */
static void
test_relay_device (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_echo_server_start ("127.0.0.2");
  g_autofree char *mesh_id = NULL;
  g_autofree char *device = add_agentless_device (tb->node_id, "127.0.0.2", &mesh_id);

  check_map_echo (device, echo, 32);
  delete_group (mesh_id);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  server = test_server_logged_in (mcr_testbed_get (), 60000);

  g_test_add_func ("/port-map/agentless/local-relay", test_local_relay);
  g_test_add_func ("/port-map/agentless/relay-device", test_relay_device);
  status = g_test_run ();
  /* Let the deletions go out before logging out. */
  mcr_test_iterate_for (500);
  g_clear_object (&server);
  return status;
}
