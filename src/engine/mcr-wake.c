/* mcr-wake.c: Wake-on-LAN for offline devices, asked of the server
 *
 * The server (meshuser.js, "wakedevices") looks up the MAC addresses it
 * knows for each device and has every online agent of the user's groups
 * with the wake right send magic packets; for one device it answers with
 * what it did, for several with "ok".
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-wake"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "mcr-wake.h"

gboolean
mcr_wake_can_wake (McrDevice *device)
{
  McrDeviceGroup *group;

  g_return_val_if_fail (MCR_IS_DEVICE (device), FALSE);

  group = mcr_device_get_group (device);
  if (mcr_device_get_online (device)
      || (mcr_device_get_rights (device) & MCR_RIGHT_WAKE_DEVICE) == 0)
    return FALSE;
  return group == NULL || mcr_device_group_get_group_type (group) == MCR_GROUP_TYPE_AGENT
         || mcr_device_group_get_group_type (group) == MCR_GROUP_TYPE_AMT;
}

typedef struct
{
  McrServer *server;
  char      *response_id;
  gulong     message_id;
  guint      timeout_id;
  gulong     cancel_id;
  gboolean   done;
} WakeRequest;

/* Drops the handlers; FALSE if the task has returned already. */
static gboolean
wake_request_finish (GTask *task)
{
  WakeRequest *request = g_task_get_task_data (task);

  if (request->done)
    return FALSE;
  request->done = TRUE;
  g_clear_signal_handler (&request->message_id, request->server);
  g_clear_handle_id (&request->timeout_id, g_source_remove);
  if (request->cancel_id != 0)
    {
      g_cancellable_disconnect (g_task_get_cancellable (task), request->cancel_id);
      request->cancel_id = 0;
    }
  return TRUE;
}

static void
wake_request_free (WakeRequest *request)
{
  g_clear_object (&request->server);
  g_free (request->response_id);
  g_free (request);
}

static void
on_wakedevices (McrServer  *server,
                const char *action,
                JsonObject *message,
                GTask      *task)
{
  WakeRequest *request = g_task_get_task_data (task);
  const char *response_id = json_object_get_string_member_with_default (message, "responseid",
                                                                        NULL);
  const char *result;

  /* The server also sends a wakedevices event (no responseid) to the
   * user's sessions. */
  if (g_strcmp0 (response_id, request->response_id) != 0)
    return;
  result = json_object_get_string_member_with_default (message, "result", "");
  g_debug ("wakedevices: %s", result);
  g_object_ref (task);
  if (!wake_request_finish (task))
    {
      g_object_unref (task);
      return;
    }
  if (g_str_equal (result, "ok") || g_str_has_prefix (result, "Used "))
    g_task_return_pointer (task, g_strdup (result), g_free);
  else
    g_task_return_new_error (task, MCR_SERVER_ERROR, MCR_SERVER_ERROR_REFUSED, "%s",
                             *result != '\0' ? result : _("the server gave no reason"));
  g_object_unref (task);
}

static gboolean
on_timeout (gpointer user_data)
{
  GTask *task = user_data;
  WakeRequest *request = g_task_get_task_data (task);

  request->timeout_id = 0;
  g_object_ref (task);
  if (!wake_request_finish (task))
    {
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  g_task_return_new_error (task, MCR_SERVER_ERROR, MCR_SERVER_ERROR_TIMEOUT,
                           _("The server did not answer the wake-up request."));
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static gboolean
return_cancelled (gpointer user_data)
{
  GTask *task = user_data;

  if (!wake_request_finish (task))
    return G_SOURCE_REMOVE;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                           _("The wake-up request was cancelled."));
  return G_SOURCE_REMOVE;
}

static void
on_cancelled (GCancellable *cancellable,
              GTask        *task)
{
  /* Not from within the cancellable's handler: g_cancellable_disconnect()
   * would wait for it. */
  g_idle_add_full (G_PRIORITY_DEFAULT, return_cancelled, g_object_ref (task), g_object_unref);
}

void
mcr_wake_devices_async (McrServer          *server,
                        const char * const *node_ids,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  static guint serial;
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonObject) command = json_object_new ();
  JsonArray *ids = json_array_new ();
  WakeRequest *request;

  g_return_if_fail (MCR_IS_SERVER (server));
  g_return_if_fail (node_ids != NULL && node_ids[0] != NULL);

  task = g_task_new (server, cancellable, callback, user_data);
  g_task_set_source_tag (task, mcr_wake_devices_async);
  request = g_new0 (WakeRequest, 1);
  request->server = g_object_ref (server);
  request->response_id = g_strdup_printf ("mcr-wake-%u", ++serial);
  g_task_set_task_data (task, request, (GDestroyNotify) wake_request_free);

  if (g_task_return_error_if_cancelled (task))
    return;
  /* The handlers hold the task until it returns. */
  request->message_id = g_signal_connect_data (server, "message::wakedevices",
                                               G_CALLBACK (on_wakedevices), g_object_ref (task),
                                               (GClosureNotify) (void (*) (void)) g_object_unref,
                                               0);
  request->timeout_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, MCR_WAKE_TIMEOUT_S,
                                                    on_timeout, g_object_ref (task),
                                                    g_object_unref);
  if (cancellable != NULL)
    request->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), task,
                                                NULL);

  for (guint i = 0; node_ids[i] != NULL; i++)
    json_array_add_string_element (ids, node_ids[i]);
  json_object_set_string_member (command, "action", "wakedevices");
  json_object_set_array_member (command, "nodeids", ids);
  json_object_set_string_member (command, "responseid", request->response_id);
  mcr_server_send_command (server, command);
}

char *
mcr_wake_devices_finish (McrServer    *server,
                         GAsyncResult *result,
                         GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, server), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
