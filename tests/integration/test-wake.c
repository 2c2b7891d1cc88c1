/* SPDX-License-Identifier: Apache-2.0
 *
 * Wake-on-LAN through the real server: the wakedevices request goes out on
 * the control channel and the server's answer to it comes back, for a
 * device it knows no network card of (an agentless device) and for one it
 * does not know. (The testbed's agent device is not woken: its agent would
 * send magic packets on the machine's real network.) */
#include <json-glib/json-glib.h>
#include <string.h>

#include "login-helpers.h"
#include "mcr-wake.h"

typedef struct
{
  char    *answer;
  GError  *error;
  gboolean done;
} Woken;

static void
woken (GObject      *source,
       GAsyncResult *result,
       gpointer      data)
{
  Woken *w = data;

  w->answer = mcr_wake_devices_finish (MCR_SERVER (source), result, &w->error);
  w->done = TRUE;
}

static void
on_event (McrServer  *server,
          const char *action,
          JsonObject *message,
          guint      *n_events)
{
  if (!json_object_has_member (message, "responseid"))
    (*n_events)++;
}

static Woken
wake (McrServer  *server,
      const char *node_id)
{
  const char *ids[] = { node_id, NULL };
  Woken w = { NULL };

  mcr_wake_devices_async (server, ids, NULL, woken, &w);
  g_assert_true (mcr_test_wait_flag (&w.done, (MCR_WAKE_TIMEOUT_S + 5) * 1000));
  return w;
}

static void
test_wake (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_logged_in (tb, 30000);
  g_autoptr(JsonObject) create = json_object_new ();
  g_autoptr(JsonObject) created = NULL;
  g_autoptr(JsonObject) add = json_object_new ();
  g_autoptr(JsonObject) added = NULL;
  g_autoptr(JsonObject) del = json_object_new ();
  g_autofree char *group = test_unique_name ("wake");
  g_autofree char *device_name = test_unique_name ("sleeper");
  g_autofree char *unknown = NULL;
  const char *mesh_id;
  McrDevice *device = NULL;
  guint n_events = 0;
  gulong id;
  Woken w;

  id = g_signal_connect (server, "message::wakedevices", G_CALLBACK (on_event), &n_events);

  /* A device the server has no network information for. */
  json_object_set_string_member (create, "action", "createmesh");
  json_object_set_string_member (create, "meshname", group);
  json_object_set_int_member (create, "meshtype", MCR_GROUP_TYPE_AGENTLESS);
  json_object_set_string_member (create, "responseid", "wake-test");
  created = test_request (server, create);
  mesh_id = json_object_get_string_member_with_default (created, "meshid", NULL);
  g_assert_nonnull (mesh_id);
  json_object_set_string_member (add, "action", "addlocaldevice");
  json_object_set_string_member (add, "meshid", mesh_id);
  json_object_set_string_member (add, "devicename", device_name);
  json_object_set_string_member (add, "hostname", "127.0.0.1");
  json_object_set_int_member (add, "type", 4);
  json_object_set_string_member (add, "responseid", "wake-test");
  mcr_server_send_command (server, add);
  mcr_test_assert_wait ((device = mcr_server_find_device (server, device_name)) != NULL, 30000);
  g_assert_false (mcr_wake_can_wake (device));

  w = wake (server, mcr_device_get_id (device));
  g_assert_null (w.answer);
  g_assert_error (w.error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_REFUSED);
  g_test_message ("agentless device: %s", w.error->message);
  g_assert_true (strstr (w.error->message, "No network information") != NULL
                 || strstr (w.error->message, "No known MAC") != NULL);
  g_clear_error (&w.error);

  /* A device of this domain the server does not know. */
  unknown = g_strconcat (mcr_device_get_id (device), "x", NULL);
  w = wake (server, unknown);
  g_assert_error (w.error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_REFUSED);
  g_test_message ("unknown device: %s", w.error->message);
  g_assert_nonnull (strstr (w.error->message, "Invalid nodeid"));
  g_clear_error (&w.error);

  /* The server may also announce a request as an event (no responseid):
   * such an event is never taken for an answer. */
  g_test_message ("%u wakedevices events without responseid", n_events);

  g_signal_handler_disconnect (server, id);
  json_object_set_string_member (del, "action", "deletemesh");
  json_object_set_string_member (del, "meshid", mesh_id);
  json_object_set_string_member (del, "responseid", "wake-test");
  mcr_server_send_command (server, del);
}

/* Cancelled before the answer: the call returns cancelled, once. */
static void
test_cancel (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_logged_in (tb, 30000);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *unknown = g_strconcat (tb->node_id, "x", NULL);
  const char *ids[] = { unknown, NULL };
  Woken w = { NULL };

  mcr_wake_devices_async (server, ids, cancellable, woken, &w);
  g_cancellable_cancel (cancellable);
  g_assert_true (mcr_test_wait_flag (&w.done, 5000));
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&w.error);
  /* The answer that still comes is dropped. */
  mcr_test_iterate_for (500);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();
  g_test_add_func ("/wake/no-network-information", test_wake);
  g_test_add_func ("/wake/cancel", test_cancel);
  return g_test_run ();
}
