/* SPDX-License-Identifier: Apache-2.0
 *
 * The model follows the real server: the agent stops -> its device goes
 * offline; it starts -> online; EditDevice renames it -> the name changes.
 * Stops the agent: runs alone (integration_exclusive). */
#include <string.h>

#include "login-helpers.h"

typedef struct
{
  guint online;
  guint name;
} Notified;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           Notified   *n)
{
  if (g_str_equal (pspec->name, "online"))
    n->online++;
  else if (g_str_equal (pspec->name, "name"))
    n->name++;
}

static gboolean
device_offline (gpointer data)
{
  return !mcr_device_get_online (MCR_DEVICE (data));
}

static McrServer *
logged_in (McrDevice **device)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrServer *server = test_server_logged_in (tb, 60000);

  *device = mcr_server_lookup_device (server, tb->node_id);
  return server;
}

static void
test_agent_stop_start (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrDevice *device = NULL;
  g_autoptr(McrServer) server = logged_in (&device);
  Notified n = { 0 };

  g_signal_connect (device, "notify", G_CALLBACK (on_notify), &n);

  g_assert_true (mcr_testbed_run ("agent-stop", NULL, NULL));
  g_assert_true (mcr_test_wait_until (device_offline, device, 30000));
  g_assert_cmpuint (n.online, ==, 1);
  /* The testbed's agent runs as "meshagent connect", a temporary agent: the
   * server deletes its device when it disconnects (nodeconnect conn=0, then
   * removenode). */
  g_test_message ("after agent-stop the device is %s the model",
                  mcr_server_lookup_device (server, tb->node_id) ? "still in" : "gone from");

  g_assert_true (mcr_testbed_run ("agent-start", NULL, NULL));
  g_assert_true (test_wait_online (server, tb->node_id, TRUE, 60000));
  g_assert_cmpuint (n.online, >=, 2);
  /* Back as the same object, so whoever held it sees it online again. */
  g_assert_true (mcr_server_lookup_device (server, tb->node_id) == device);
  g_signal_handlers_disconnect_by_data (device, &n);
}

typedef struct
{
  McrDevice  *device;
  const char *name;
} NameWait;

static gboolean
name_is (gpointer data)
{
  NameWait *w = data;

  return g_strcmp0 (mcr_device_get_name (w->device), w->name) == 0;
}

static void
test_rename (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrDevice *device = NULL;
  g_autoptr(McrServer) server = logged_in (&device);
  g_autofree char *new_name = test_unique_name ("ctl-renamed");
  g_autofree char *out = NULL;
  NameWait w = { device, new_name };
  Notified n = { 0 };

  g_signal_connect (device, "notify", G_CALLBACK (on_notify), &n);
  g_assert_true (mcr_testbed_meshctrl (&out, "EditDevice", "--id", tb->node_id,
                                       "--name", new_name, NULL));
  g_assert_true (mcr_test_wait_until (name_is, &w, 30000));
  g_assert_cmpuint (n.name, ==, 1);
  g_assert_true (mcr_device_get_online (device));
  g_assert_true (mcr_server_find_device (server, new_name) == device);

  /* Back to what the other tests expect. */
  g_clear_pointer (&out, g_free);
  g_assert_true (mcr_testbed_meshctrl (&out, "EditDevice", "--id", tb->node_id,
                                       "--name", tb->node_name, NULL));
  w.name = tb->node_name;
  g_assert_true (mcr_test_wait_until (name_is, &w, 30000));
  g_signal_handlers_disconnect_by_data (device, &n);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/live-updates/agent-stop-start", test_agent_stop_start);
  g_test_add_func ("/live-updates/rename", test_rename);
  return g_test_run ();
}
