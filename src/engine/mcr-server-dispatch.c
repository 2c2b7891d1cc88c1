/* mcr-server-dispatch.c: what McrServer does with each message from the server
 *
 * Every text frame is parsed (strictly, with a depth limit), dispatched by
 * its "action" and emitted as "message::ACTION". serverinfo and userinfo
 * finish a login; meshes, nodes and events keep the device directory up to
 * date (events that say "something changed" are coalesced into one
 * refresh). Messages are counted in bursts: a server that never lets the
 * main loop run is cut off.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mcr-json-private.h"
#include "mcr-server-private.h"
#include "mcr-string-field.h"

#define REFRESH_COALESCE_MS     250
#define MAX_JSON_DEPTH          256

/* libsoup reads a WebSocket for as long as data keeps coming, handing on
 * every message before it returns to the main loop: a server that sends
 * faster than we can take in would hold the main loop (the window, every
 * tunnel) for as long as it liked. So many messages, for so long, without a
 * break is a flood: the connection is closed (libsoup stops reading at
 * once) and opened again, as after any drop. */
#define FLOOD_MESSAGES          50
#define FLOOD_MS                500
/* Frames waiting for a parse in flight before it counts as a flood. */
#define RX_QUEUE_MAX            4096
/* MeshCentral pings every 30 s or so; more answers than one a second would
 * only fill the send queue of a server that never reads them. */
#define PONG_MIN_INTERVAL_MS    1000

enum
{
  REFRESH_USERGROUPS = 1 << 0,
  REFRESH_MESHES     = 1 << 1,
  REFRESH_NODES      = 1 << 2,
};

/* ---- refreshing the lists ---- */

static gboolean
on_refresh_timer (gpointer user_data)
{
  McrServer *self = user_data;
  guint flags = self->refresh_flags;

  self->refresh_id = 0;
  self->refresh_flags = 0;
  if (flags & REFRESH_USERGROUPS)
    _mcr_server_send_action (self, "usergroups");
  if (flags & REFRESH_MESHES)
    _mcr_server_send_action (self, "meshes");
  if (flags & REFRESH_NODES)
    _mcr_server_send_action (self, "nodes");
  return G_SOURCE_REMOVE;
}

/* Events often come in bursts: ask once for all of them. */
static void
schedule_refresh (McrServer *self,
                  guint      flags)
{
  self->refresh_flags |= flags;
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_COALESCE_MS, on_refresh_timer, self);
}

/* ---- logging in ---- */

static gboolean
user_has_second_factor (JsonObject *userinfo)
{
  static const char *const fields[] = {
    "otpsecret", "otpkeys", "otphkeys", "otpdev", "otpduo", "otpekey", "phone", "msghandle",
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (mcr_json_get_truthy (userinfo, fields[i]))
      return TRUE;
  return FALSE;
}

static void
handle_serverinfo (McrServer  *self,
                   JsonObject *msg)
{
  JsonObject *info = mcr_json_get_object (msg, "serverinfo");
  const char *hash = mcr_json_get_string (info, "tlshash");

  self->features = (guint32) mcr_json_get_int_or (info, "features", 0);
  self->features2 = (guint32) mcr_json_get_int_or (info, "features2", 0);
  mcr_set_string (&self->server_tls_hash, hash);
  mcr_set_string (&self->domain_id, mcr_json_get_string (info, "domain"));

  if (!self->got_serverinfo)
    {
      self->got_serverinfo = TRUE;
      _mcr_server_send_action (self, "usergroups");
      _mcr_server_send_action (self, "meshes");
      _mcr_server_send_action (self, "nodes");
      _mcr_server_send_action (self, "authcookie");
      _mcr_server_send_action (self, "logincookie");
    }
  _mcr_server_maybe_login_done (self);
}

static void
handle_userinfo (McrServer  *self,
                 JsonObject *msg)
{
  JsonObject *info = mcr_json_get_object (msg, "userinfo");
  const char *id = mcr_json_get_string (info, "_id");
  const char *name = mcr_json_get_string (info, "name");

  if (id == NULL)
    return;
  if (self->user_id != NULL && !g_str_equal (self->user_id, id))
    return;  /* someone else's account changed */
  g_object_freeze_notify (G_OBJECT (self));
  if (mcr_set_string (&self->user_id, id))
    _mcr_server_notify (self, PROP_USER_ID);
  if (name != NULL && mcr_set_string (&self->user_name, name))
    _mcr_server_notify (self, PROP_USER_NAME);
  g_object_thaw_notify (G_OBJECT (self));
  self->user_has_2fa = user_has_second_factor (info);
  mcr_device_directory_set_user (self->directory, info);
  self->got_userinfo = TRUE;
  _mcr_server_maybe_login_done (self);
}

/* ---- events ---- */

static void
handle_event (McrServer  *self,
              JsonObject *msg)
{
  JsonObject *event = mcr_json_get_object (msg, "event");
  const char *action = mcr_json_get_string (event, "action");

  if (action == NULL || self->phase != PHASE_READY)
    return;

  if (g_str_equal (action, "changenode") || g_str_equal (action, "addnode"))
    {
      JsonObject *node = mcr_json_get_object (event, "node");

      if (node != NULL && !mcr_device_directory_change_device (self->directory, node))
        schedule_refresh (self, REFRESH_MESHES | REFRESH_NODES);
    }
  else if (g_str_equal (action, "nodeconnect"))
    {
      const char *node_id = mcr_json_get_string (event, "nodeid");
      gint64 conn;

      if (node_id != NULL && mcr_json_get_int (event, "conn", &conn))
        mcr_device_directory_set_connectivity (self->directory, node_id, conn);
    }
  else if (g_str_equal (action, "removenode"))
    mcr_device_directory_remove_device (self->directory, mcr_json_get_string (event, "nodeid"));
  else if (g_str_equal (action, "meshchange") || g_str_equal (action, "createmesh") ||
           g_str_equal (action, "deletemesh"))
    schedule_refresh (self, REFRESH_MESHES | REFRESH_NODES);
  else if (g_str_equal (action, "usergroupchange") || g_str_equal (action, "createusergroup") ||
           g_str_equal (action, "deleteusergroup"))
    schedule_refresh (self, REFRESH_USERGROUPS | REFRESH_MESHES | REFRESH_NODES);
  else if (g_str_equal (action, "accountchange"))
    {
      JsonObject *account = mcr_json_get_object (event, "account");
      const char *id = mcr_json_get_string (account, "_id");

      if (id != NULL && g_strcmp0 (id, self->user_id) == 0)
        {
          mcr_device_directory_set_user (self->directory, account);
          schedule_refresh (self, REFRESH_MESHES | REFRESH_NODES);
        }
    }
}

/* ---- dispatching ---- */

static void
handle_message (McrServer  *self,
                const char *action,
                JsonObject *msg)
{
  if (g_str_equal (action, "close"))
    {
      GError *error = _mcr_server_error_from_close (self, msg);

      /* MeshCentral closes the connection right after saying why: end the
       * session now, with its reason. (Keeping the reason for a close that
       * might never come would let it decide about some later, unrelated
       * drop.) */
      if (self->phase == PHASE_READY)
        _mcr_server_connection_lost (self, error);
      else
        _mcr_server_attempt_failed (self, error);
      return;
    }

  if (self->phase != PHASE_AUTHENTICATING && self->phase != PHASE_READY)
    return;

  if (g_str_equal (action, "ping"))
    {
      gint64 now = g_get_monotonic_time ();

      if (self->last_pong == 0 || now - self->last_pong >= PONG_MIN_INTERVAL_MS * 1000)
        {
          self->last_pong = now;
          _mcr_server_send_action (self, "pong");
        }
    }
  else if (g_str_equal (action, "serverinfo"))
    handle_serverinfo (self, msg);
  else if (g_str_equal (action, "userinfo"))
    handle_userinfo (self, msg);
  else if (self->phase != PHASE_READY)
    return;
  else if (g_str_equal (action, "meshes"))
    {
      JsonArray *meshes = mcr_json_get_array (msg, "meshes");

      if (meshes == NULL)
        return;
      mcr_device_directory_update_groups (self->directory, meshes);
      self->got_meshes = TRUE;
      _mcr_server_maybe_devices_loaded (self);
    }
  else if (g_str_equal (action, "nodes"))
    {
      JsonObject *nodes = mcr_json_get_object (msg, "nodes");

      if (nodes == NULL)
        return;
      mcr_device_directory_update_devices (self->directory, nodes);
      self->got_nodes = TRUE;
      _mcr_server_maybe_devices_loaded (self);
    }
  else if (g_str_equal (action, "authcookie"))
    {
      const char *cookie = mcr_json_get_string (msg, "cookie");

      if (cookie != NULL && *cookie != '\0')
        {
          mcr_set_string (&self->auth_cookie, cookie);
          _mcr_server_maybe_devices_loaded (self);
        }
    }
  else if (g_str_equal (action, "logincookie"))
    mcr_set_string (&self->login_cookie, mcr_json_get_string (msg, "cookie"));
  else if (g_str_equal (action, "twoFactorCookie"))
    {
      const char *cookie = mcr_json_get_string (msg, "cookie");

      if (cookie == NULL || *cookie == '\0')
        return;
      _mcr_server_take_twofa_cookie (self, cookie);
    }
  else if (g_str_equal (action, "usergroups"))
    ; /* names only; rights come through the links of groups and devices */
  else if (g_str_equal (action, "event"))
    handle_event (self, msg);
}

/* Copies, repairs and parses @length bytes of @text: the root object (a
 * new reference), or NULL when the frame is malformed. Pure CPU work, no
 * state: large frames are parsed in a worker thread. */
static JsonNode *
parse_text (const char *text,
            gsize       length)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autofree char *copy = NULL;
  JsonNode *root;

  /* Node's JSON.stringify() writes a lone surrogate (a device name or
   * description anyone who may edit the device can set) as an escape that
   * the strict check refuses: repaired to U+FFFD in a copy, the rest of
   * such a message (a whole device list) still counts. */
  if (length <= G_MAXSSIZE)
    copy = g_memdup2 (text, length);
  if (copy == NULL || !mcr_json_check_and_repair (copy, length, MAX_JSON_DEPTH, NULL) ||
      !json_parser_load_from_data (parser, copy, (gssize) length, NULL))
    return NULL;
  root = json_parser_steal_root (parser);
  if (root != NULL && !JSON_NODE_HOLDS_OBJECT (root))
    g_clear_pointer (&root, json_node_unref);
  return root;
}

/* Dispatches the parsed frame @root (NULL: it was malformed, @length bytes
 * long). Anything malformed is dropped, except during login, where it
 * means the peer is not a MeshCentral server. */
static void
dispatch_root (McrServer *self,
               JsonNode  *root,
               gsize      length)
{
  g_autoptr(GObject) hold G_GNUC_UNUSED = g_object_ref (G_OBJECT (self));
  JsonObject *msg;
  const char *action;
  GQuark detail;

  if (root == NULL ||
      (action = mcr_json_get_string ((msg = json_node_get_object (root)), "action")) == NULL)
    {
      g_debug ("%s: dropped a malformed message (%" G_GSIZE_FORMAT " bytes)",
               self->name, length);
      if (self->phase == PHASE_AUTHENTICATING)
        _mcr_server_attempt_failed (self,
                                    g_error_new (MCR_SERVER_ERROR,
                                                 MCR_SERVER_ERROR_NOT_MESHCENTRAL,
                                                 _("%s answered, but not as a MeshCentral "
                                                   "server"), self->name));
      return;
    }

  g_debug ("%s: received %s%s%s", self->name, action,
           g_str_equal (action, "event") ? " " : "",
           g_str_equal (action, "event")
             ? (mcr_json_get_string (mcr_json_get_object (msg, "event"), "action") ?: "?")
             : "");
  handle_message (self, action, msg);

  /* Only details somebody listens for exist as quarks: the server must not
   * be able to grow the quark table. */
  detail = g_quark_try_string (action);
  _mcr_server_emit_message (self, detail, action, msg);
}

/* Parses one text frame and dispatches it, here and now. */
void
_mcr_server_dispatch_text (McrServer  *self,
                           const char *text,
                           gsize       length)
{
  JsonNode *root;

  self->last_rx = g_get_monotonic_time ();
  root = parse_text (text, length);
  dispatch_root (self, root, length);
  g_clear_pointer (&root, json_node_unref);
}

/* ---- large frames: parsed in a worker thread, in order ---- */

typedef struct
{
  GWeakRef  server;
  GBytes   *bytes;
  guint     generation;
} ParseJob;

/* Jobs not freed yet (a test waits for them). */
static gint parse_jobs_alive;

static void
parse_job_free (gpointer data)
{
  ParseJob *job = data;

  g_atomic_int_dec_and_test (&parse_jobs_alive);

  g_weak_ref_clear (&job->server);
  g_bytes_unref (job->bytes);
  g_free (job);
}

static void
parse_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  ParseJob *job = task_data;
  gsize length;
  const char *text = g_bytes_get_data (job->bytes, &length);
  JsonNode *root = parse_text (text != NULL ? text : "", length);

  g_task_return_pointer (task, root, root != NULL ? (GDestroyNotify) json_node_unref : NULL);
}

static void rx_drain (McrServer *self);

static void
on_parsed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  ParseJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(McrServer) self = g_weak_ref_get (&job->server);
  g_autoptr(GError) error = NULL;
  JsonNode *root = g_task_propagate_pointer (G_TASK (result), &error);

  /* Torn down (or gone) while the worker parsed: the frame belonged to a
   * connection that is no more. */
  if (self == NULL || error != NULL || job->generation != self->rx_generation)
    {
      g_clear_pointer (&root, json_node_unref);
      return;
    }
  self->rx_parsing = FALSE;
  g_clear_object (&self->rx_cancel);
  dispatch_root (self, root, g_bytes_get_size (job->bytes));
  g_clear_pointer (&root, json_node_unref);
  rx_drain (self);
}

/* Dispatches @message now, or starts parsing it in a worker thread. */
static void
rx_take (McrServer *self,
         GBytes    *message)
{
  gsize length;
  const char *text = g_bytes_get_data (message, &length);
  g_autoptr(GTask) task = NULL;
  ParseJob *job;

  if (length < self->rx_thread_threshold)
    {
      _mcr_server_dispatch_text (self, text != NULL ? text : "", length);
      return;
    }
  job = g_new0 (ParseJob, 1);
  g_atomic_int_inc (&parse_jobs_alive);
  g_weak_ref_init (&job->server, self);
  job->bytes = g_bytes_ref (message);
  job->generation = self->rx_generation;
  self->rx_parsing = TRUE;
  self->rx_cancel = g_cancellable_new ();
  task = g_task_new (NULL, self->rx_cancel, on_parsed, NULL);
  g_task_set_source_tag (task, rx_take);
  g_task_set_task_data (task, job, parse_job_free);
  g_task_run_in_thread (task, parse_in_thread);
}

/* The frames that waited for a parse, in order, until the next large one
 * (or a teardown). */
static void
rx_drain (McrServer *self)
{
  g_autoptr(GObject) hold G_GNUC_UNUSED = g_object_ref (G_OBJECT (self));
  guint generation = self->rx_generation;
  GBytes *message;

  while (!self->rx_parsing && generation == self->rx_generation &&
         (message = g_queue_pop_head (&self->rx_queue)) != NULL)
    {
      rx_take (self, message);
      g_bytes_unref (message);
    }
}

/* One text frame from the server: dispatched in order, large ones parsed
 * in a worker thread while later ones wait. */
void
_mcr_server_receive_text (McrServer *self,
                          GBytes    *message)
{
  self->last_rx = g_get_monotonic_time ();
  if (!self->rx_parsing && g_queue_is_empty (&self->rx_queue))
    {
      rx_take (self, message);
      return;
    }
  if (g_queue_get_length (&self->rx_queue) >= RX_QUEUE_MAX)
    {
      g_debug ("%s: %u messages waiting for a parse: closing", self->name,
               g_queue_get_length (&self->rx_queue));
      _mcr_server_rx_reset (self);
      self->flooded = TRUE;
      if (self->ws != NULL)
        soup_websocket_connection_close (self->ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
      return;
    }
  g_queue_push_tail (&self->rx_queue, g_bytes_ref (message));
}

/* Drops the frames of the connection: a parse in flight is dropped when
 * it ends, the waiting ones now. */
void
_mcr_server_rx_reset (McrServer *self)
{
  self->rx_generation++;
  if (self->rx_cancel != NULL)
    {
      g_cancellable_cancel (self->rx_cancel);
      g_clear_object (&self->rx_cancel);
    }
  self->rx_parsing = FALSE;
  g_queue_clear_full (&self->rx_queue, (GDestroyNotify) g_bytes_unref);
}

guint
_mcr_server_parse_jobs_alive (void)
{
  return (guint) g_atomic_int_get (&parse_jobs_alive);
}

gboolean
_mcr_server_rx_busy (McrServer *self)
{
  return self->rx_parsing || !g_queue_is_empty (&self->rx_queue);
}

void
_mcr_server_set_rx_thread_threshold (McrServer *self,
                                     gsize      bytes)
{
  self->rx_thread_threshold = bytes;
}

/* ---- floods ---- */

/* The main loop is back: the burst of messages is over. */
static gboolean
on_burst_end (gpointer user_data)
{
  McrServer *self = user_data;

  self->burst_id = 0;
  if (self->flooded)
    {
      GError *error = g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CLOSED,
                                   _("%s sent more messages than the router can take in"),
                                   self->name);

      if (self->phase == PHASE_READY)
        _mcr_server_connection_lost (self, error);
      else
        _mcr_server_attempt_failed (self, error);
    }
  return G_SOURCE_REMOVE;
}

/* FALSE (and the connection closing) when this message is one too many of
 * a flood. */
gboolean
_mcr_server_count_burst (McrServer               *self,
                         SoupWebsocketConnection *ws)
{
  gint64 now = g_get_monotonic_time ();

  if (self->flooded)
    return FALSE;
  if (self->burst_id == 0)
    {
      self->burst_start = now;
      self->burst_messages = 0;
      /* Before libsoup's source can run again. */
      self->burst_id = g_idle_add_full (G_PRIORITY_HIGH, on_burst_end, self, NULL);
    }
  if (++self->burst_messages < FLOOD_MESSAGES || now - self->burst_start < FLOOD_MS * 1000)
    return TRUE;
  g_debug ("%s: %u messages in %" G_GINT64_FORMAT " ms without a break: closing", self->name,
           self->burst_messages, (now - self->burst_start) / 1000);
  self->flooded = TRUE;
  soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
  return FALSE;
}
