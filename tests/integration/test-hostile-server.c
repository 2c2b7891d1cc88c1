/* SPDX-License-Identifier: Apache-2.0
 *
 * A hostile server on 127.0.0.1, over a real TLS socket: it lets the login
 * through, then speaks the control-channel protocol badly (members of the
 * wrong type, an enormous frame, an endless flood of events and pings). The
 * router must not crash, must keep its memory bounded and its main loop
 * responsive, and must come back once the server talks sense again.
 *
 * The server runs in a thread of its own with blocking I/O: it writes raw
 * WebSocket frames (so it can write any frame header it likes), as fast as
 * the socket takes them, and never reads what the router sends back. It is
 * a stand-in for a malicious server, never for MeshCentral. */
#include <string.h>

#include "login-helpers.h"
#include "mcr-server-private.h"
#include "mcr-tls-policy.h"
#include "mcr-websocket-private.h"

#define NODE "node//hostile"
#define MESH "mesh//hostile"

/* ---- the hostile server ---- */

typedef enum
{
  CMD_LOGIN,        /* serverinfo, userinfo, meshes, nodes, authcookie */
  CMD_WRONG_TYPES,  /* every message with members of the wrong type */
  CMD_FLOOD,        /* events and pings, as fast as the socket takes them, for arg ms */
  CMD_RENAME,       /* a well-formed changenode event: the device is called arg */
  CMD_SAY,          /* one text message, arg */
  CMD_HUGE,         /* a text frame that says it is 1 TiB long, then bytes */
  CMD_CLOSE,        /* close the connection (TCP) */
} CmdKind;

typedef struct
{
  CmdKind  kind;
  char    *text;
  guint    ms;
} Cmd;

typedef struct
{
  GThread          *thread;
  GSocketListener  *listener;
  GCancellable     *cancellable;
  GTlsCertificate  *cert;
  GAsyncQueue      *commands;   /* Cmd*, for the current connection */
  guint16           port;
  gint              connections; /* atomic */
  gint64            flood_messages; /* what the last flood wrote */
  gint64            flood_bytes;
} Hostile;

static void
cmd_free (Cmd *cmd)
{
  g_free (cmd->text);
  g_free (cmd);
}

static void
hostile_push (Hostile    *h,
              CmdKind     kind,
              const char *text,
              guint       ms)
{
  Cmd *cmd = g_new0 (Cmd, 1);

  cmd->kind = kind;
  cmd->text = g_strdup (text);
  cmd->ms = ms;
  g_async_queue_push (h->commands, cmd);
}

/* A server frame (unmasked) header for @len payload bytes. */
static gsize
frame_header (guint8  *h,
              guint8   opcode,
              guint64  len)
{
  h[0] = 0x80 | opcode;
  if (len <= 125)
    {
      h[1] = (guint8) len;
      return 2;
    }
  if (len <= 0xffff)
    {
      h[1] = 126, h[2] = (guint8) (len >> 8), h[3] = (guint8) len;
      return 4;
    }
  h[1] = 127;
  for (int i = 0; i < 8; i++)
    h[2 + i] = (guint8) (len >> (56 - 8 * i));
  return 10;
}

static gboolean
write_all (GOutputStream *out,
           const void    *data,
           gsize          len)
{
  g_autoptr(GError) error = NULL;

  return g_output_stream_write_all (out, data, len, NULL, NULL, &error);
}

static gboolean
send_text (GOutputStream *out,
           const char    *text)
{
  guint8 h[10];
  gsize n = frame_header (h, 0x1, strlen (text));

  return write_all (out, h, n) && write_all (out, text, strlen (text));
}

static const char *const login_messages[] = {
  "{\"action\":\"serverinfo\",\"serverinfo\":{\"features\":0,\"tlshash\":\"00\"}}",
  "{\"action\":\"userinfo\",\"userinfo\":{\"_id\":\"user//hostile\",\"name\":\"hostile\","
  "\"links\":{\"" MESH "\":{\"rights\":4294967295}}}}",
  "{\"action\":\"meshes\",\"meshes\":[{\"_id\":\"" MESH "\",\"name\":\"lab\",\"mtype\":2,"
  "\"links\":{\"user//hostile\":{\"rights\":4294967295}}}]}",
  "{\"action\":\"nodes\",\"nodes\":{\"" MESH "\":[{\"_id\":\"" NODE "\",\"name\":\"pc\","
  "\"conn\":1}]}}",
  "{\"action\":\"authcookie\",\"cookie\":\"hostile-cookie\"}",
};

/* Valid JSON, wrong in every other way. */
static const char *const wrong_types[] = {
  "{\"action\":\"serverinfo\",\"serverinfo\":\"yes\"}",
  "{\"action\":\"serverinfo\",\"serverinfo\":{\"features\":\"all\",\"tlshash\":[1,2]}}",
  "{\"action\":\"userinfo\",\"userinfo\":[]}",
  "{\"action\":\"userinfo\",\"userinfo\":{\"_id\":5,\"name\":{\"a\":1}}}",
  "{\"action\":\"meshes\",\"meshes\":{\"_id\":\"" MESH "\"}}",
  "{\"action\":\"meshes\",\"meshes\":[null,1,\"x\",[],{\"_id\":null},{\"_id\":\"" MESH "\","
  "\"mtype\":\"two\",\"links\":[]}]}",
  "{\"action\":\"nodes\",\"nodes\":[1,2,3]}",
  "{\"action\":\"nodes\",\"nodes\":{\"" MESH "\":{\"_id\":\"" NODE "\"}}}",
  "{\"action\":\"nodes\",\"nodes\":{\"" MESH "\":[{\"_id\":\"" NODE "\",\"name\":7,\"conn\":\"on\","
  "\"icon\":-1,\"rdpport\":99999999999,\"host\":[]}]}}",
  "{\"action\":\"authcookie\",\"cookie\":42}",
  "{\"action\":\"logincookie\",\"cookie\":{}}",
  "{\"action\":\"twoFactorCookie\",\"cookie\":[\"a\"]}",
  "{\"action\":\"event\",\"event\":\"changenode\"}",
  "{\"action\":\"event\",\"event\":{\"action\":\"changenode\",\"node\":\"" NODE "\"}}",
  "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\",\"nodeid\":1,\"conn\":\"x\"}}",
  "{\"action\":\"event\",\"event\":{\"action\":\"removenode\",\"nodeid\":null}}",
  "{\"action\":\"event\",\"event\":{\"action\":\"accountchange\",\"account\":[]}}",
  "{\"action\":[\"ping\"]}",
  "{\"action\":null}",
  "{\"action\":\"\\u0000\"}",
  "[\"action\",\"ping\"]",
  "\"ping\"",
  "12345678901234567890123456789",
  "{\"action\":\"launch\",\"command\":\"/bin/sh -c 'touch /tmp/owned'\",\"exec\":\"sh\"}",
  "{\"action\":\"event\",\"event\":{\"action\":\"openurl\",\"url\":\"file:///bin/sh\"}}",
};

/* FALSE once a write failed (the router closed the connection). */
static gboolean
flood (Hostile       *h,
       GOutputStream *out,
       guint          ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  gint64 messages = 0, bytes = 0;
  GString *s = g_string_new (NULL);
  gboolean ok = TRUE;

  for (guint i = 0; g_get_monotonic_time () < end; i++)
    {
      switch (i % 8)
        {
        case 0:
          g_string_printf (s, "{\"action\":\"ping\"}");
          break;
        case 1:
          g_string_printf (s, "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\","
                              "\"nodeid\":\"" NODE "\",\"conn\":%u}}", i & 1);
          break;
        case 2:
          g_string_printf (s, "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\","
                              "\"nodeid\":\"node//unknown%u\",\"conn\":1}}", i);
          break;
        case 3:
          g_string_printf (s, "{\"action\":\"event\",\"event\":{\"action\":\"changenode\","
                              "\"node\":{\"_id\":\"" NODE "\",\"meshid\":\"" MESH "\","
                              "\"name\":\"name %u\",\"conn\":1}}}", i);
          break;
        case 4:
          g_string_printf (s, "{\"action\":\"event\",\"event\":{\"action\":\"meshchange\","
                              "\"meshid\":\"" MESH "\"}}");
          break;
        case 5:
          g_string_printf (s, "{\"action\":\"unknown-action-%u\",\"x\":[1,2,3]}", i);
          break;
        case 6:
          g_string_printf (s, "{\"action\":\"event\",\"event\":{\"action\":\"addnode\","
                              "\"node\":{\"_id\":\"node//new%u\",\"meshid\":\"mesh//none\","
                              "\"name\":\"%0512u\"}}}", i, i);
          break;
        default:
          g_string_printf (s, "{\"action\":\"event\",\"event\":{\"action\":\"servertimelinestats\","
                              "\"data\":\"%01024u\"}}", i);
          break;
        }
      if (!(ok = send_text (out, s->str)))
        break;
      messages++;
      bytes += s->len;
    }
  g_string_free (s, TRUE);
  /* Read by the test once the message after the flood is in. */
  h->flood_messages = messages;
  h->flood_bytes = bytes;
  return ok;
}

static void
serve (Hostile           *h,
       GSocketConnection *connection)
{
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) request = g_string_new (NULL);
  g_autofree char *accept = NULL;
  g_autofree char *response = NULL;
  GInputStream *in;
  GOutputStream *out;
  const char *key, *key_end;
  char buf[4096];
  gboolean broken = FALSE;

  tls = g_tls_server_connection_new (G_IO_STREAM (connection), h->cert, &error);
  g_assert_no_error (error);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), h->cancellable, NULL))
    return;
  in = g_io_stream_get_input_stream (tls);
  out = g_io_stream_get_output_stream (tls);
  while (strstr (request->str, "\r\n\r\n") == NULL && request->len < 16384)
    {
      gssize n = g_input_stream_read (in, buf, sizeof buf, h->cancellable, NULL);

      if (n <= 0)
        return;
      g_string_append_len (request, buf, n);
    }
  key = strstr (request->str, "Sec-WebSocket-Key: ");
  if (key == NULL)
    return;
  key += strlen ("Sec-WebSocket-Key: ");
  key_end = strstr (key, "\r\n");
  {
    g_autofree char *k = g_strndup (key, key_end - key);

    accept = _mcr_websocket_accept_for_key (k);
  }
  response = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
  if (!g_output_stream_write_all (out, response, strlen (response), NULL, NULL, NULL))
    return;

  for (;;)
    {
      Cmd *cmd = g_async_queue_pop (h->commands);
      gboolean done = FALSE;

      switch (cmd->kind)
        {
        case CMD_LOGIN:
          for (guint i = 0; i < G_N_ELEMENTS (login_messages); i++)
            send_text (out, login_messages[i]);
          break;
        case CMD_WRONG_TYPES:
          for (guint i = 0; i < G_N_ELEMENTS (wrong_types); i++)
            send_text (out, wrong_types[i]);
          break;
        case CMD_FLOOD:
          broken |= !flood (h, out, cmd->ms);
          break;
        case CMD_RENAME:
          {
            g_autofree char *text =
              g_strdup_printf ("{\"action\":\"event\",\"event\":{\"action\":\"changenode\","
                               "\"node\":{\"_id\":\"" NODE "\",\"meshid\":\"" MESH "\","
                               "\"name\":\"%s\",\"conn\":1}}}", cmd->text);

            send_text (out, text);
          }
          break;
        case CMD_SAY:
          send_text (out, cmd->text);
          break;
        case CMD_HUGE:
          {
            guint8 header[10];
            gsize n = frame_header (header, 0x1, G_GUINT64_CONSTANT (1) << 40);
            g_autofree char *junk = g_malloc0 (65536);

            memset (junk, 'a', 65536);
            broken = !write_all (out, header, n);
            /* 64 MiB of it at most, while the router reads. */
            for (guint i = 0; i < 1024 && !broken; i++)
              broken = !write_all (out, junk, 65536);
            done = TRUE;
          }
          break;
        case CMD_CLOSE:
        default:
          done = TRUE;
          break;
        }
      cmd_free (cmd);
      if (done)
        break;
    }
  /* After a failed write, no TLS goodbye: only the socket is closed
   * (glib-networking 2.74 loses the GError of a second failed write). */
  if (broken)
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  else
    g_io_stream_close (tls, NULL, NULL);
}

static gpointer
hostile_thread (gpointer data)
{
  Hostile *h = data;

  for (;;)
    {
      g_autoptr(GSocketConnection) connection =
        g_socket_listener_accept (h->listener, NULL, h->cancellable, NULL);

      if (connection == NULL)
        break;
      g_atomic_int_inc (&h->connections);
      serve (h, connection);
    }
  return NULL;
}

static Hostile *
hostile_start (void)
{
  g_autofree char *cert_path = g_build_filename (MCR_SOURCE_ROOT, "tests", "data",
                                                 "test-server-cert.pem", NULL);
  g_autofree char *key_path = g_build_filename (MCR_SOURCE_ROOT, "tests", "data",
                                                "test-server-key.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) got = NULL;
  Hostile *h = g_new0 (Hostile, 1);

  h->cert = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  h->commands = g_async_queue_new_full ((GDestroyNotify) cmd_free);
  h->cancellable = g_cancellable_new ();
  h->listener = g_socket_listener_new ();
  g_socket_listener_add_address (h->listener, want, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &got, &error);
  g_assert_no_error (error);
  h->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
  h->thread = g_thread_new ("hostile-server", hostile_thread, h);
  return h;
}

static void
hostile_stop (Hostile *h)
{
  g_cancellable_cancel (h->cancellable);
  hostile_push (h, CMD_CLOSE, NULL, 0);
  g_thread_join (h->thread);
  g_socket_listener_close (h->listener);
  g_object_unref (h->listener);
  g_object_unref (h->cancellable);
  g_object_unref (h->cert);
  g_async_queue_unref (h->commands);
  g_free (h);
}

/* ---- the router's side ---- */

typedef struct
{
  gint64 last;
  gint64 max_gap;
  gsize  heap_max;
  guint  ticks;
} Watch;

/* Every 5 ms: how late the main loop is, and the heap. */
static gboolean
on_tick (gpointer data)
{
  Watch *w = data;
  gint64 now = g_get_monotonic_time ();

  w->ticks++;
  if (w->last != 0)
    w->max_gap = MAX (w->max_gap, now - w->last);
  w->last = now;
  w->heap_max = MAX (w->heap_max, mcr_test_heap_bytes ());
  return G_SOURCE_CONTINUE;
}

static void
on_message (McrServer  *server,
            const char *action,
            JsonObject *msg,
            guint64    *count)
{
  (*count)++;
}

typedef struct
{
  McrServer  *server;
  const char *name;
} NameWait;

static gboolean
device_named (gpointer data)
{
  NameWait *w = data;
  McrDevice *device = mcr_server_lookup_device (w->server, NODE);

  return device != NULL && g_strcmp0 (mcr_device_get_name (device), w->name) == 0;
}

static void
test_hostile (void)
{
  Hostile *h = hostile_start ();
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", h->port);
  g_autofree char *hash = test_other_cert_hash ();
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = mcr_server_new (address, &error);
  guint64 handled = 0;
  Watch watch = { 0 };
  NameWait named = { server, NULL };
  g_autofree char *error_seen = NULL;
  gsize heap0;
  guint tick;
  gint64 t0;

  g_assert_no_error (error);
  g_assert_true (mcr_tls_policy_add_pinned_hash (mcr_server_get_tls_policy (server), hash));
  g_signal_connect (server, "message", G_CALLBACK (on_message), &handled);

  /* A login it lets through. */
  hostile_push (h, CMD_LOGIN, NULL, 0);
  g_assert_true (test_login_password (server, "someone", "secret", &error));
  g_assert_no_error (error);
  g_assert_true (test_wait_devices_loaded (server, 10000));

  /* Members of the wrong type: dropped one by one, nothing else changes. */
  hostile_push (h, CMD_WRONG_TYPES, NULL, 0);
  hostile_push (h, CMD_RENAME, "after the wrong types", 0);
  named.name = "after the wrong types";
  g_assert_true (mcr_test_wait_until (device_named, &named, 10000));
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_CONNECTED);
  g_assert_cmpstr (mcr_server_get_auth_cookie (server), ==, "hostile-cookie");
  g_assert_cmpstr (mcr_server_get_user_id (server), ==, "user//hostile");

  /* A flood: events, renames, pings it never reads the answers to, as
   * fast as the socket takes them, for up to 5 s. The router takes in what
   * it can for half a second, then closes the connection and opens a new
   * one: the main loop keeps turning, the heap stays bounded. */
  mcr_test_iterate_for (300);
  heap0 = mcr_test_heap_bytes ();
  watch.heap_max = heap0;
  watch.last = g_get_monotonic_time ();
  tick = g_timeout_add (5, on_tick, &watch);
  hostile_push (h, CMD_FLOOD, NULL, 5000);
  hostile_push (h, CMD_CLOSE, NULL, 0);
  t0 = g_get_monotonic_time ();
  g_assert_true (test_wait_state (server, MCR_SERVER_STATE_RECONNECTING, 20000));
  error_seen = g_strdup (mcr_server_get_error (server)->message);
  mcr_test_iterate_for (200);
  g_source_remove (tick);
  g_test_message ("flood: %" G_GUINT64_FORMAT " messages handled, connection closed after "
                  "%.1f s (%s); %u ticks of 5 ms, the longest gap %.1f ms; heap %.2f MiB "
                  "before, %.2f MiB at most",
                  handled, (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC, error_seen,
                  watch.ticks, (double) watch.max_gap / 1000, (double) heap0 / (1024 * 1024),
                  (double) watch.heap_max / (1024 * 1024));
  g_assert_nonnull (strstr (error_seen, "more messages than the router can take in"));
  /* The main loop turns during the flood. A loop that took the flood in
   * without turning would show a gap of the whole flood (5 s); shorter
   * gaps are the machine's (tens of ms here, more under the sanitizers on
   * a busy machine): reported above, bounded only loosely. */
  g_assert_cmpint (watch.max_gap, <, 4 * G_USEC_PER_SEC);
  g_assert_cmpuint (watch.heap_max, <, heap0 + 32 * 1024 * 1024);
  /* The server talks sense again: the router is back by itself. */
  hostile_push (h, CMD_LOGIN, NULL, 0);
  g_assert_true (test_wait_state (server, MCR_SERVER_STATE_CONNECTED, 30000));
  g_assert_cmpint (g_atomic_int_get (&h->connections), ==, 2);
  hostile_push (h, CMD_RENAME, "after the flood", 0);
  named.name = "after the flood";
  g_assert_true (mcr_test_wait_until (device_named, &named, 10000));

  /* A frame that says it is 1 TiB: the connection is dropped at its
   * header, and the router, still logged in, connects again. */
  hostile_push (h, CMD_HUGE, NULL, 0);
  g_assert_true (test_wait_state (server, MCR_SERVER_STATE_RECONNECTING, 10000));
  g_test_message ("after the huge frame: %s", mcr_server_get_error (server)->message);
  hostile_push (h, CMD_LOGIN, NULL, 0);
  g_assert_true (test_wait_state (server, MCR_SERVER_STATE_CONNECTED, 30000));
  g_assert_cmpint (g_atomic_int_get (&h->connections), ==, 3);

  /* A "close" (of the wrong types, even) ends the session for good. */
  hostile_push (h, CMD_SAY, "{\"action\":\"close\",\"msg\":5,\"cause\":[]}", 0);
  g_assert_true (test_wait_state (server, MCR_SERVER_STATE_FAILED, 10000));
  g_test_message ("after a close: %s", mcr_server_get_error (server)->message);
  hostile_push (h, CMD_CLOSE, NULL, 0);
  mcr_test_iterate_for (1500);
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_FAILED);
  g_assert_cmpint (g_atomic_int_get (&h->connections), ==, 3);

  mcr_server_logout (server);
  hostile_stop (h);
}

/* ---- what the real server sends back ---- */

static gboolean
devices_loaded (gpointer data)
{
  return mcr_server_get_devices_loaded (data);
}

/* A device description with a lone surrogate, set by any user who may edit
 * the device: the real server stores it and, with Node's JSON.stringify,
 * sends it as the escape "\ud800" in every device list and event. A
 * strict parser would drop each of those messages whole, and every router
 * in the group would stop seeing its devices; the router repairs the escape
 * to U+FFFD and reads the rest. */
static void
test_lone_surrogate_description (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) editor = test_server_new (tb);
  g_autoptr(McrServer) viewer = test_server_new (tb);
  g_autoptr(GError) error = NULL;
  g_autofree char *set = g_strdup_printf ("{\"action\":\"changedevice\",\"nodeid\":\"%s\","
                                          "\"desc\":\"lone \\ud800 surrogate %u\"}", tb->node_id,
                                          g_random_int ());
  g_autofree char *unset = g_strdup_printf ("{\"action\":\"changedevice\",\"nodeid\":\"%s\","
                                            "\"desc\":\"\"}", tb->node_id);
  guint64 events = 0;

  g_assert_true (test_login_password (editor, tb->user, tb->password, &error));
  g_assert_true (test_wait_devices_loaded (editor, 30000));
  g_signal_connect (editor, "message::event", G_CALLBACK (on_message), &events);
  _mcr_server_send_text (editor, set);
  mcr_test_iterate_for (1500);
  g_test_message ("%" G_GUINT64_FORMAT " events taken in after the change", events);
  g_assert_cmpuint (events, >, 0);

  /* A router that logs in now gets a device list with the escape in it. */
  g_assert_true (test_login_password (viewer, tb->user, tb->password, &error));
  g_assert_no_error (error);
  g_assert_true (mcr_test_wait_until (devices_loaded, viewer, 30000));
  g_assert_nonnull (mcr_server_lookup_device (viewer, tb->node_id));

  _mcr_server_send_text (editor, unset);
  mcr_test_iterate_for (500);
  mcr_server_logout (viewer);
  mcr_server_logout (editor);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hostile-server/wrong-types-flood-huge-frame", test_hostile);
  g_test_add_func ("/hostile-server/lone-surrogate-description", test_lone_surrogate_description);
  return g_test_run ();
}
