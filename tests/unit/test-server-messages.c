/* SPDX-License-Identifier: Apache-2.0
 *
 * The control-channel dispatcher, fed messages directly: what each message
 * does to the models, what goes back to the server, and that malformed input
 * never crashes or corrupts anything. */
#include <string.h>

#include "mcr-server-private.h"
#include "mcr-testbed.h"

#define MESH_A   "mesh//AAAA"
#define MESH_B   "mesh//BBBB"
#define MESH_L   "mesh//LLLL"
#define NODE_1   "node//one$1@x"
#define NODE_2   "node//two"
#define NODE_3   "node//three"

typedef struct
{
  McrServer *server;
  GPtrArray *sent;
  guint      devices_loaded;
} Fixture;

static void
on_sent (const char *text,
         gpointer    user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->sent, g_strdup (text));
}

static void
on_devices_loaded (McrServer *server,
                   Fixture   *f)
{
  f->devices_loaded++;
}

static void
feed (Fixture    *f,
      const char *text)
{
  _mcr_server_handle_text (f->server, text, strlen (text));
}

static gboolean
was_sent (Fixture    *f,
          const char *text)
{
  for (guint i = 0; i < f->sent->len; i++)
    if (g_str_equal (g_ptr_array_index (f->sent, i), text))
      return TRUE;
  return FALSE;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->server = mcr_server_new ((const char *) data ? (const char *) data : "example.com:4443",
                              &error);
  g_assert_no_error (error);
  f->sent = g_ptr_array_new_with_free_func (g_free);
  _mcr_server_set_send_hook (f->server, on_sent, f);
  g_signal_connect (f->server, "devices-loaded", G_CALLBACK (on_devices_loaded), f);
  _mcr_server_begin_test_session (f->server);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_assert_finalize_object (f->server);
  g_ptr_array_unref (f->sent);
}

static const char serverinfo[] =
  "{\"action\":\"serverinfo\",\"serverinfo\":{\"features\":1,\"features2\":2,"
  "\"tlshash\":\"ABCD\"}}";
static const char userinfo[] =
  "{\"action\":\"userinfo\",\"userinfo\":{\"_id\":\"user//bob\",\"name\":\"bob\","
  "\"links\":{\"" MESH_A "\":{\"rights\":8},\"ugrp//team\":{}}}}";
static const char meshes[] =
  "{\"action\":\"meshes\",\"meshes\":["
  "{\"_id\":\"" MESH_A "\",\"name\":\"Lab\",\"desc\":\"d\",\"mtype\":2,"
  " \"links\":{\"user//bob\":{\"rights\":8}}},"
  "{\"_id\":\"" MESH_B "\",\"name\":\"Team\",\"mtype\":2,"
  " \"links\":{\"ugrp//team\":{\"rights\":2097152}}},"
  "{\"_id\":\"" MESH_L "\",\"name\":\"Local\",\"mtype\":3,"
  " \"links\":{\"user//bob\":{\"rights\":4294967295}}}]}";
static const char nodes[] =
  "{\"action\":\"nodes\",\"nodes\":{"
  "\"" MESH_A "\":[{\"_id\":\"" NODE_1 "\",\"name\":\"PC One\",\"icon\":3,\"conn\":1,"
  "  \"rdpport\":3390}],"
  "\"" MESH_B "\":[{\"_id\":\"" NODE_2 "\",\"name\":\"PC Two\",\"conn\":0,"
  "  \"links\":{\"user//bob\":{\"rights\":16}}}],"
  "\"" MESH_L "\":[{\"_id\":\"" NODE_3 "\",\"name\":\"Printer\",\"host\":\"192.168.1.9\"}]}}";
static const char authcookie[] = "{\"action\":\"authcookie\",\"cookie\":\"C/+=\",\"rcookie\":\"R\"}";

static void
login (Fixture *f)
{
  feed (f, serverinfo);
  feed (f, userinfo);
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_CONNECTED);
}

static void
load_all (Fixture *f)
{
  login (f);
  feed (f, meshes);
  feed (f, nodes);
  feed (f, authcookie);
  g_assert_true (mcr_server_get_devices_loaded (f->server));
}

static void
test_login_sequence (Fixture       *f,
                     gconstpointer  data)
{
  feed (f, serverinfo);
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_CONNECTING);
  g_assert_true (was_sent (f, "{\"action\":\"usergroups\"}"));
  g_assert_true (was_sent (f, "{\"action\":\"meshes\"}"));
  g_assert_true (was_sent (f, "{\"action\":\"nodes\"}"));
  g_assert_true (was_sent (f, "{\"action\":\"authcookie\"}"));
  g_assert_true (was_sent (f, "{\"action\":\"logincookie\"}"));
  g_assert_cmpuint (mcr_server_get_features (f->server), ==, 1);
  g_assert_cmpuint (mcr_server_get_features2 (f->server), ==, 2);
  g_assert_cmpstr (mcr_server_get_server_tls_hash (f->server), ==, "ABCD");

  feed (f, userinfo);
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_CONNECTED);
  g_assert_cmpstr (mcr_server_get_user_id (f->server), ==, "user//bob");
  g_assert_cmpstr (mcr_server_get_user_name (f->server), ==, "bob");

  /* devices-loaded waits for meshes, nodes and the relay cookie. */
  feed (f, nodes);
  feed (f, meshes);
  g_assert_false (mcr_server_get_devices_loaded (f->server));
  g_assert_cmpuint (f->devices_loaded, ==, 0);
  feed (f, authcookie);
  g_assert_true (mcr_server_get_devices_loaded (f->server));
  g_assert_cmpuint (f->devices_loaded, ==, 1);
  g_assert_cmpstr (mcr_server_get_auth_cookie (f->server), ==, "C/+=");

  /* A second list does not announce again. */
  feed (f, nodes);
  g_assert_cmpuint (f->devices_loaded, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (f->server)), ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_groups (f->server)), ==, 3);
}

static void
test_ping_pong (Fixture       *f,
                gconstpointer  data)
{
  login (f);
  g_ptr_array_set_size (f->sent, 0);
  feed (f, "{\"action\":\"ping\"}");
  g_assert_cmpuint (f->sent->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->sent, 0), ==, "{\"action\":\"pong\"}");
}

static void
test_devices_and_rights (Fixture       *f,
                         gconstpointer  data)
{
  McrDevice *one, *two, *three;

  load_all (f);
  one = mcr_server_lookup_device (f->server, NODE_1);
  two = mcr_server_lookup_device (f->server, NODE_2);
  three = mcr_server_lookup_device (f->server, NODE_3);
  g_assert_nonnull (one);
  g_assert_nonnull (two);
  g_assert_nonnull (three);

  g_assert_cmpstr (mcr_device_get_name (one), ==, "PC One");
  g_assert_cmpstr (mcr_device_get_group_name (one), ==, "Lab");
  g_assert_cmpuint (mcr_device_get_icon (one), ==, 3);
  g_assert_cmpuint (mcr_device_get_rdp_port (one), ==, 3390);
  g_assert_true (mcr_device_get_online (one));
  g_assert_cmpuint (mcr_device_get_rights (one), ==, 8);
  g_assert_true (mcr_device_get_can_relay (one));

  /* Group rights through a user group, plus a direct device link. */
  g_assert_false (mcr_device_get_online (two));
  g_assert_cmpuint (mcr_device_get_rdp_port (two), ==, 3389);
  g_assert_cmpuint (mcr_device_get_rights (two), ==, MCR_RIGHT_RELAY | 16);
  g_assert_true (mcr_device_get_can_relay (two));
  g_assert_cmpuint (mcr_device_group_get_rights (mcr_device_get_group (two)), ==, MCR_RIGHT_RELAY);

  /* Agentless: counts as online, full rights. */
  g_assert_true (mcr_device_get_online (three));
  g_assert_cmpuint (mcr_device_get_rights (three), ==, 0xFFFFFFFF);
  g_assert_cmpstr (mcr_device_get_host (three), ==, "192.168.1.9");
  g_assert_cmpint (mcr_device_group_get_group_type (mcr_device_get_group (three)), ==,
                   MCR_GROUP_TYPE_AGENTLESS);

  /* find: by name, without case, online first */
  g_assert_true (mcr_server_find_device (f->server, "pc ONE") == one);
  g_assert_true (mcr_server_find_device (f->server, NODE_2) == two);
  g_assert_null (mcr_server_find_device (f->server, "PC"));
}

static void
test_find_prefers_online (Fixture       *f,
                          gconstpointer  data)
{
  login (f);
  feed (f, meshes);
  feed (f, "{\"action\":\"nodes\",\"nodes\":{\"" MESH_A "\":["
           "{\"_id\":\"node//off\",\"name\":\"Twin\"},"
           "{\"_id\":\"node//on\",\"name\":\"twin\",\"conn\":1}]}}");
  g_assert_cmpstr (mcr_device_get_id (mcr_server_find_device (f->server, "TWIN")), ==, "node//on");
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\",\"nodeid\":\"node//on\","
           "\"conn\":0}}");
  g_assert_cmpstr (mcr_device_get_id (mcr_server_find_device (f->server, "TWIN")), ==, "node//off");
}

typedef struct
{
  guint name;
  guint online;
  guint group_name;
} Notified;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           Notified   *n)
{
  if (g_str_equal (pspec->name, "name"))
    n->name++;
  else if (g_str_equal (pspec->name, "online"))
    n->online++;
  else if (g_str_equal (pspec->name, "group-name"))
    n->group_name++;
}

static void
test_events (Fixture       *f,
             gconstpointer  data)
{
  McrDevice *one;
  Notified n = { 0 };

  load_all (f);
  one = mcr_server_lookup_device (f->server, NODE_1);
  g_signal_connect (one, "notify", G_CALLBACK (on_notify), &n);

  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\",\"nodeid\":\"" NODE_1 "\","
           "\"conn\":0,\"pwr\":0}}");
  g_assert_false (mcr_device_get_online (one));
  g_assert_cmpuint (n.online, ==, 1);
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\",\"nodeid\":\"" NODE_1 "\","
           "\"conn\":1}}");
  g_assert_true (mcr_device_get_online (one));
  g_assert_cmpuint (n.online, ==, 2);

  /* A rename, as EditDevice sends it: no "conn" in the node, so online stays. */
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"changenode\",\"nodeid\":\"" NODE_1 "\","
           "\"node\":{\"_id\":\"" NODE_1 "\",\"meshid\":\"" MESH_A "\",\"name\":\"Renamed\","
           "\"icon\":2}}}");
  g_assert_cmpstr (mcr_device_get_name (one), ==, "Renamed");
  g_assert_cmpuint (n.name, ==, 1);
  g_assert_true (mcr_device_get_online (one));
  g_assert_cmpuint (mcr_device_get_icon (one), ==, 2);
  /* The same again changes nothing. */
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"changenode\",\"nodeid\":\"" NODE_1 "\","
           "\"node\":{\"_id\":\"" NODE_1 "\",\"meshid\":\"" MESH_A "\",\"name\":\"Renamed\","
           "\"icon\":2}}}");
  g_assert_cmpuint (n.name, ==, 1);

  /* A group rename reaches the device's "group-name". */
  feed (f, "{\"action\":\"meshes\",\"meshes\":["
           "{\"_id\":\"" MESH_A "\",\"name\":\"Lab 2\",\"mtype\":2,"
           " \"links\":{\"user//bob\":{\"rights\":8}}},"
           "{\"_id\":\"" MESH_B "\",\"name\":\"Team\",\"mtype\":2,"
           " \"links\":{\"ugrp//team\":{\"rights\":2097152}}},"
           "{\"_id\":\"" MESH_L "\",\"name\":\"Local\",\"mtype\":3}]}");
  g_assert_cmpstr (mcr_device_get_group_name (one), ==, "Lab 2");
  g_assert_cmpuint (n.group_name, ==, 1);

  /* removenode */
  g_assert_nonnull (mcr_server_lookup_device (f->server, NODE_2));
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"removenode\",\"nodeid\":\"" NODE_2 "\"}}");
  g_assert_null (mcr_server_lookup_device (f->server, NODE_2));
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (f->server)), ==, 2);

  /* A removed device went offline; when it comes back it is the same object. */
  {
    g_autoptr(McrDevice) held = g_object_ref (mcr_server_lookup_device (f->server, NODE_1));

    feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"removenode\",\"nodeid\":\"" NODE_1 "\"}}");
    g_assert_null (mcr_server_lookup_device (f->server, NODE_1));
    g_assert_false (mcr_device_get_online (held));
    feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"addnode\",\"node\":{\"_id\":\"" NODE_1 "\","
             "\"meshid\":\"" MESH_A "\",\"name\":\"Renamed\"}}}");
    feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\",\"nodeid\":\"" NODE_1 "\","
             "\"conn\":1}}");
    g_assert_true (mcr_server_lookup_device (f->server, NODE_1) == held);
    g_assert_true (mcr_device_get_online (held));
  }

  /* A new device in a known group arrives with addnode. */
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"addnode\",\"node\":{\"_id\":\"node//new\","
           "\"meshid\":\"" MESH_A "\",\"name\":\"New\"}}}");
  g_assert_nonnull (mcr_server_lookup_device (f->server, "node//new"));
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (f->server)), ==, 3);

  /* A full list without a device drops it; a list without a group drops
   * the group. */
  feed (f, "{\"action\":\"nodes\",\"nodes\":{\"" MESH_A "\":[{\"_id\":\"" NODE_1 "\","
           "\"name\":\"Renamed\",\"conn\":1}]}}");
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (f->server)), ==, 1);
  feed (f, "{\"action\":\"meshes\",\"meshes\":[{\"_id\":\"" MESH_A "\",\"name\":\"Lab 2\"}]}");
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_groups (f->server)), ==, 1);
}

static gboolean
sent_within (Fixture    *f,
             const char *text,
             guint       ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (!was_sent (f, text) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  return was_sent (f, text);
}

static void
test_events_that_refresh (Fixture       *f,
                          gconstpointer  data)
{
  load_all (f);

  g_ptr_array_set_size (f->sent, 0);
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"meshchange\",\"meshid\":\"" MESH_A "\"}}");
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"meshchange\",\"meshid\":\"" MESH_B "\"}}");
  g_assert_true (sent_within (f, "{\"action\":\"nodes\"}", 2000));
  g_assert_true (was_sent (f, "{\"action\":\"meshes\"}"));
  /* Coalesced: one request each. */
  g_assert_cmpuint (f->sent->len, ==, 2);

  g_ptr_array_set_size (f->sent, 0);
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"usergroupchange\"}}");
  g_assert_true (sent_within (f, "{\"action\":\"usergroups\"}", 2000));
  g_assert_true (was_sent (f, "{\"action\":\"nodes\"}"));

  /* A device in a group we do not know: ask for everything again. */
  g_ptr_array_set_size (f->sent, 0);
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"changenode\",\"node\":{"
           "\"_id\":\"node//elsewhere\",\"meshid\":\"mesh//unknown\",\"name\":\"X\"}}}");
  g_assert_null (mcr_server_lookup_device (f->server, "node//elsewhere"));
  g_assert_true (sent_within (f, "{\"action\":\"nodes\"}", 2000));
}

static void
test_device_link_only (Fixture       *f,
                       gconstpointer  data)
{
  McrDevice *d;

  login (f);
  feed (f, "{\"action\":\"meshes\",\"meshes\":[]}");
  /* Visible through a device link only: its group is not listed. */
  feed (f, "{\"action\":\"nodes\",\"nodes\":{\"mesh//hidden\":[{\"_id\":\"node//shared\","
           "\"name\":\"Shared\",\"conn\":1,\"links\":{\"user//bob\":{\"rights\":8}}}]}}");
  d = mcr_server_lookup_device (f->server, "node//shared");
  g_assert_nonnull (d);
  g_assert_cmpuint (mcr_device_get_rights (d), ==, 8);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_groups (f->server)), ==, 1);
  /* The link goes away: so does the device, and its unnamed group. */
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"changenode\",\"node\":{"
           "\"_id\":\"node//shared\",\"meshid\":\"mesh//hidden\",\"name\":\"Shared\","
           "\"links\":{}}}}");
  g_assert_null (mcr_server_lookup_device (f->server, "node//shared"));
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_groups (f->server)), ==, 0);
}

static void
test_twofa_cookie_kept (Fixture       *f,
                        gconstpointer  data)
{
  login (f);
  /* Not asked to remember the device: not exposed. */
  feed (f, "{\"action\":\"twoFactorCookie\",\"cookie\":\"TFC\"}");
  g_assert_null (mcr_server_get_twofa_cookie (f->server));
}

static void
check_close (Fixture    *f,
             const char *message,
             int         code)
{
  const GError *error;

  feed (f, message);
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_FAILED);
  error = mcr_server_get_error (f->server);
  g_assert_nonnull (error);
  g_test_message ("%s -> %s", message, error->message);
  g_assert_error ((GError *) error, MCR_SERVER_ERROR, code);
  g_assert_nonnull (strstr (error->message, "example.com:4443"));
  _mcr_server_begin_test_session (f->server);
}

static void
test_close_reasons (Fixture       *f,
                    gconstpointer  data)
{
  check_close (f, "{\"action\":\"close\",\"cause\":\"noauth\",\"msg\":\"noauth-2d\"}",
               MCR_SERVER_ERROR_BAD_CREDENTIALS);
  check_close (f, "{\"action\":\"close\",\"cause\":\"noauth\",\"msg\":\"tokenrequired\","
                  "\"email2fa\":true,\"twoFactorCookieDays\":30}",
               MCR_SERVER_ERROR_TOKEN_REQUIRED);
  g_assert_true (mcr_server_get_token_request (f->server)->email);
  g_assert_false (mcr_server_get_token_request (f->server)->sms);
  g_assert_cmpuint (mcr_server_get_token_request (f->server)->cookie_days, ==, 30);
  check_close (f, "{\"action\":\"close\",\"cause\":\"noauth\",\"msg\":\"tokenrequired\","
                  "\"sms2fa\":true,\"sms2fasent\":true,\"twoFactorCookieDays\":0}",
               MCR_SERVER_ERROR_TOKEN_REQUIRED);
  g_assert_true (mcr_server_get_token_request (f->server)->sms_sent);
  g_assert_false (mcr_server_get_token_request (f->server)->email);
  g_assert_cmpuint (mcr_server_get_token_request (f->server)->cookie_days, ==, 0);
  check_close (f, "{\"action\":\"close\",\"cause\":\"notools\",\"msg\":\"notools\"}",
               MCR_SERVER_ERROR_NO_TOOLS);
  check_close (f, "{\"action\":\"close\",\"cause\":\"emailvalidation\","
                  "\"msg\":\"emailvalidationrequired\"}",
               MCR_SERVER_ERROR_EMAIL_NOT_VERIFIED);
  check_close (f, "{\"action\":\"close\",\"cause\":\"banned\",\"msg\":\"banned-1\"}",
               MCR_SERVER_ERROR_REFUSED);
  check_close (f, "{\"action\":\"close\",\"msg\":\"something-new\"}", MCR_SERVER_ERROR_REFUSED);
  check_close (f, "{\"action\":\"close\"}", MCR_SERVER_ERROR_REFUSED);
  check_close (f, "{\"action\":\"close\",\"cause\":5,\"msg\":[1]}", MCR_SERVER_ERROR_REFUSED);
  /* During login, anything that is not MeshCentral JSON ends it. */
  check_close (f, "<html>", MCR_SERVER_ERROR_NOT_MESHCENTRAL);
}

/* Node writes a lone surrogate as "\\uD800": the rest of the message still
 * counts, the surrogate reads as U+FFFD. */
static void
test_lone_surrogate (Fixture       *f,
                     gconstpointer  data)
{
  load_all (f);
  feed (f, "{\"action\":\"nodes\",\"nodes\":{\"" MESH_A "\":[{\"_id\":\"" NODE_1 "\","
           "\"name\":\"a\\ud800b\",\"conn\":1},{\"_id\":\"node//x\",\"name\":\"x\"}]}}");
  g_assert_cmpstr (mcr_device_get_name (mcr_server_lookup_device (f->server, NODE_1)), ==,
                   "a\xef\xbf\xbd" "b");
  g_assert_nonnull (mcr_server_lookup_device (f->server, "node//x"));
}

/* Logged in, a "close" ends the session at once, with its reason; nothing
 * that comes after it counts. */
static void
test_close_when_logged_in (Fixture       *f,
                           gconstpointer  data)
{
  load_all (f);
  feed (f, "{\"action\":\"close\",\"cause\":\"noauth\",\"msg\":\"noauth-2c\"}");
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_FAILED);
  g_assert_error ((GError *) mcr_server_get_error (f->server), MCR_SERVER_ERROR,
                  MCR_SERVER_ERROR_BAD_CREDENTIALS);
  feed (f, "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\","
           "\"nodeid\":\"" NODE_1 "\",\"conn\":0}}");
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_FAILED);
}

static void
test_2fa_setup_required (Fixture       *f,
                         gconstpointer  data)
{
  feed (f, "{\"action\":\"serverinfo\",\"serverinfo\":{\"features\":262144}}");
  feed (f, userinfo);
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_FAILED);
  g_assert_error ((GError *) mcr_server_get_error (f->server), MCR_SERVER_ERROR,
                  MCR_SERVER_ERROR_2FA_SETUP_REQUIRED);

  /* With a second factor set up, the same server lets the user in. */
  _mcr_server_begin_test_session (f->server);
  feed (f, "{\"action\":\"serverinfo\",\"serverinfo\":{\"features\":262144}}");
  feed (f, "{\"action\":\"userinfo\",\"userinfo\":{\"_id\":\"user//bob\",\"otpsecret\":1}}");
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_CONNECTED);
}

/* Malformed input: nothing crashes, nothing criticals (the tests run with
 * fatal criticals), and the model stays as it was. */
static void
test_malformed (Fixture       *f,
                gconstpointer  data)
{
  static const char *const bad[] = {
    "",
    "{",
    "null",
    "[]",
    "42",
    "\"action\"",
    "{\"action\":null}",
    "{\"action\":5}",
    "{\"action\":{\"x\":1}}",
    "{\"action\":\"meshes\"}",
    "{\"action\":\"meshes\",\"meshes\":{}}",
    "{\"action\":\"meshes\",\"meshes\":[1,null,\"x\",[],{\"_id\":5},{\"name\":\"no id\"}]}",
    "{\"action\":\"nodes\",\"nodes\":[]}",
    "{\"action\":\"nodes\",\"nodes\":{\"" MESH_A "\":5}}",
    "{\"action\":\"nodes\",\"nodes\":{\"" MESH_A "\":[5,null,{\"_id\":[]},"
    "{\"_id\":\"" NODE_1 "\",\"name\":\"PC One\",\"conn\":1},{\"_id\":\"n\","
    "\"name\":7,\"icon\":\"x\",\"conn\":\"1\",\"rdpport\":-5,\"links\":[]}]}}",
    "{\"action\":\"nodes\",\"nodes\":{\"" MESH_A "\":[{\"_id\":\"" NODE_1 "\"},"
    "{\"_id\":\"n2\",\"icon\":1e300,"
    "\"rdpport\":1e300,\"conn\":1.5,\"links\":{\"user//bob\":5,\"x\":{\"rights\":\"all\"}}}]}}",
    "{\"action\":\"event\"}",
    "{\"action\":\"event\",\"event\":5}",
    "{\"action\":\"event\",\"event\":{\"action\":7}}",
    "{\"action\":\"event\",\"event\":{\"action\":\"changenode\",\"node\":\"x\"}}",
    "{\"action\":\"event\",\"event\":{\"action\":\"changenode\",\"node\":{\"_id\":1}}}",
    "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\",\"nodeid\":5,\"conn\":\"x\"}}",
    "{\"action\":\"event\",\"event\":{\"action\":\"nodeconnect\",\"nodeid\":\"node//none\","
    "\"conn\":1}}",
    "{\"action\":\"event\",\"event\":{\"action\":\"removenode\"}}",
    "{\"action\":\"event\",\"event\":{\"action\":\"accountchange\",\"account\":[]}}",
    "{\"action\":\"authcookie\",\"cookie\":5}",
    "{\"action\":\"authcookie\"}",
    "{\"action\":\"logincookie\",\"cookie\":{}}",
    "{\"action\":\"twoFactorCookie\",\"cookie\":null}",
    "{\"action\":\"userinfo\",\"userinfo\":5}",
    "{\"action\":\"userinfo\",\"userinfo\":{\"_id\":\"user//mallory\",\"links\":5}}",
    "{\"action\":\"serverinfo\",\"serverinfo\":[]}",
    "{\"action\":\"usergroups\",\"ugroups\":null}",
    "{\"action\":\"ping\",\"extra\":[[[[[]]]]]}",
    "{\"action\":\"\\u0000\"}",
    "\xff\xfe{}",
  };
  McrDevice *one;

  load_all (f);
  one = mcr_server_lookup_device (f->server, NODE_1);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    feed (f, bad[i]);
  /* Bytes after a NUL, and no NUL terminator at all. */
  _mcr_server_handle_text (f->server, "{\"action\":\"ping\"}\0garbage", 25);
  _mcr_server_handle_text (f->server, "{\"action\":\"pi", 12);

  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_CONNECTED);
  g_assert_true (mcr_server_lookup_device (f->server, NODE_1) == one);
  g_assert_cmpstr (mcr_server_get_user_id (f->server), ==, "user//bob");
  g_assert_cmpstr (mcr_server_get_auth_cookie (f->server), ==, "C/+=");
}

static void
test_huge_and_deep (Fixture       *f,
                    gconstpointer  data)
{
  GString *s;
  guint n;

  load_all (f);

  /* 16 MB of name. */
  s = g_string_new ("{\"action\":\"nodes\",\"nodes\":{\"" MESH_A "\":[{\"_id\":\"" NODE_1 "\","
                    "\"conn\":1,\"name\":\"");
  for (guint i = 0; i < 16 * 1024 * 1024; i++)
    g_string_append_c (s, 'a' + i % 26);
  g_string_append (s, "\"}]}}");
  _mcr_server_handle_text (f->server, s->str, s->len);
  g_assert_cmpuint (strlen (mcr_device_get_name (mcr_server_lookup_device (f->server, NODE_1))),
                    ==, 16 * 1024 * 1024);
  g_string_free (s, TRUE);

  /* 20000 devices in one message. */
  s = g_string_new ("{\"action\":\"nodes\",\"nodes\":{\"" MESH_A "\":[");
  for (guint i = 0; i < 20000; i++)
    g_string_append_printf (s, "%s{\"_id\":\"node//n%u\",\"name\":\"n%u\",\"conn\":1}",
                            i ? "," : "", i, i);
  g_string_append (s, "]}}");
  _mcr_server_handle_text (f->server, s->str, s->len);
  g_string_free (s, TRUE);
  n = g_list_model_get_n_items (mcr_server_get_devices (f->server));
  g_assert_cmpuint (n, ==, 20000);

  /* Deep nesting must not exhaust the stack. */
  s = g_string_new ("{\"action\":\"event\",\"event\":");
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');
  _mcr_server_handle_text (f->server, s->str, s->len);
  g_string_free (s, TRUE);
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_CONNECTED);
}

static guint
count_sent (Fixture    *f,
            const char *text)
{
  guint n = 0;

  for (guint i = 0; i < f->sent->len; i++)
    if (g_str_equal (g_ptr_array_index (f->sent, i), text))
      n++;
  return n;
}

/* While connected: pings go out, the relay cookie is asked for again, and a
 * server that stays silent counts as gone (reconnecting). */
static void
test_timers (Fixture       *f,
             gconstpointer  data)
{
  _mcr_server_set_intervals (f->server, 50, 400, 120);
  load_all (f);
  g_ptr_array_set_size (f->sent, 0);

  /* Answered pings keep it alive. */
  for (guint i = 0; i < 10; i++)
    {
      mcr_test_iterate_for (60);
      feed (f, "{\"action\":\"pong\"}");
    }
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_CONNECTED);
  g_assert_cmpuint (count_sent (f, "{\"action\":\"ping\"}"), >=, 3);
  g_assert_cmpuint (count_sent (f, "{\"action\":\"authcookie\"}"), >=, 2);
  g_assert_cmpuint (count_sent (f, "{\"action\":\"logincookie\"}"), >=, 2);

  /* Silence: gone once 400 ms pass without an answer (when exactly is the
   * machine's business under the sanitizers; 10 s is "not at all"). */
  mcr_test_assert_wait (mcr_server_get_state (f->server) == MCR_SERVER_STATE_RECONNECTING, 10000);
  g_assert_error ((GError *) mcr_server_get_error (f->server), MCR_SERVER_ERROR,
                  MCR_SERVER_ERROR_TIMEOUT);
  /* The model stays while reconnecting. */
  g_assert_nonnull (mcr_server_lookup_device (f->server, NODE_1));
  mcr_server_logout (f->server);
}

/* ---- relay URIs ---- */

static char *
relay_uri (McrServer  *server,
           const char *node_id,
           McrProtocol protocol,
           guint16     port,
           const char *remote_ip)
{
  McrDevice *device = mcr_server_lookup_device (server, node_id);
  g_autoptr(GUri) uri = NULL;

  g_assert_nonnull (device);
  uri = mcr_server_build_relay_uri (server, device, protocol, port, remote_ip);
  g_assert_nonnull (uri);
  return g_uri_to_string (uri);
}

static void
test_relay_uri (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

  login (f);
  feed (f, meshes);
  feed (f, nodes);
  /* No cookie yet: no URI. */
  g_assert_null (mcr_server_build_relay_uri (f->server,
                                             mcr_server_lookup_device (f->server, NODE_1),
                                             MCR_PROTOCOL_TCP, 22, NULL));
  feed (f, authcookie);

  a = relay_uri (f->server, NODE_1, MCR_PROTOCOL_TCP, 3389, NULL);
  g_assert_cmpstr (a, ==, "wss://example.com:4443/meshrelay.ashx?nodeid=node%2F%2Fone%241%40x"
                          "&tcpport=3389&auth=C%2F%2B%3D");
  b = relay_uri (f->server, NODE_1, MCR_PROTOCOL_UDP, 53, "10.0.0.7");
  g_assert_cmpstr (b, ==, "wss://example.com:4443/meshrelay.ashx?nodeid=node%2F%2Fone%241%40x"
                          "&udpport=53&udpaddr=10.0.0.7&auth=C%2F%2B%3D");
  /* Agentless group: the server connects to the device. */
  c = relay_uri (f->server, NODE_3, MCR_PROTOCOL_TCP, 80, NULL);
  g_assert_cmpstr (c, ==, "wss://example.com:4443/localrelay.ashx?nodeid=node%2F%2Fthree"
                          "&tcpport=80&auth=C%2F%2B%3D");

  /* An agentless group with a relay device: through it, to the host. */
  feed (f, "{\"action\":\"meshes\",\"meshes\":[{\"_id\":\"" MESH_L "\",\"name\":\"Local\","
           "\"mtype\":3,\"relayid\":\"" NODE_1 "\"},{\"_id\":\"" MESH_A "\",\"name\":\"Lab\"}]}");
  d = relay_uri (f->server, NODE_3, MCR_PROTOCOL_TCP, 80, NULL);
  g_assert_cmpstr (d, ==, "wss://example.com:4443/meshrelay.ashx?nodeid=node%2F%2Fone%241%40x"
                          "&tcpport=80&tcpaddr=192.168.1.9&auth=C%2F%2B%3D");
}

static void
test_relay_uri_key_domain (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *a = NULL;

  load_all (f);
  a = relay_uri (f->server, NODE_1, MCR_PROTOCOL_TCP, 22, NULL);
  g_assert_cmpstr (a, ==, "wss://mc.example.org/dom/meshrelay.ashx?nodeid=node%2F%2Fone%241%40x"
                          "&tcpport=22&auth=C%2F%2B%3D&key=k%26y%20z");
}

/* ---- addresses ---- */

static void
check_address (const char *address,
               const char *host,
               guint16     port,
               const char *domain,
               const char *key,
               const char *display)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = mcr_server_new (address, &error);

  g_assert_no_error (error);
  g_assert_nonnull (server);
  g_assert_cmpstr (mcr_server_get_host (server), ==, host);
  g_assert_cmpuint (mcr_server_get_port (server), ==, port);
  g_assert_cmpstr (mcr_server_get_domain (server), ==, domain);
  g_assert_cmpstr (mcr_server_get_login_key (server), ==, key);
  g_assert_cmpstr (mcr_server_get_display_name (server), ==, display);
}

static void
test_addresses (void)
{
  static const char *const invalid[] = {
    "", "   ", ":443", "host:0", "host:65536", "host:abc", "ho st", "[::1", "[::1]x",
    "wss://", "host:443:1", "-host",
  };

  check_address ("mc.example.com", "mc.example.com", 443, "", NULL, "mc.example.com");
  check_address (" MC.Example.com:4443 ", "mc.example.com", 4443, "", NULL, "mc.example.com:4443");
  check_address ("mc.example.com/dom", "mc.example.com", 443, "dom", NULL, "mc.example.com/dom");
  check_address ("mc.example.com:444/dom/?key=abc", "mc.example.com", 444, "dom", "abc",
                 "mc.example.com:444/dom");
  check_address ("wss://127.0.0.1:4443/control.ashx", "127.0.0.1", 4443, "", NULL,
                 "127.0.0.1:4443");
  check_address ("https://mc.example.com/dom/control.ashx?key=a%20b", "mc.example.com", 443,
                 "dom", "a b", "mc.example.com/dom");
  check_address ("[::1]:4443", "::1", 4443, "", NULL, "[::1]:4443");
  check_address ("::1", "::1", 443, "", NULL, "[::1]");
  check_address ("host?key=K", "host", 443, "", "K", "host");

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(McrServer) server = mcr_server_new (invalid[i], &error);

      g_assert_null (server);
      g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_INVALID_ADDRESS);
    }
}

static void
test_reconnect_delay (void)
{
  for (guint round = 0; round < 50; round++)
    {
      guint d0 = _mcr_server_reconnect_delay_ms (0);
      guint d3 = _mcr_server_reconnect_delay_ms (3);
      guint d20 = _mcr_server_reconnect_delay_ms (20);

      g_assert_cmpuint (d0, >=, 1000);
      g_assert_cmpuint (d0, <=, 1200);
      g_assert_cmpuint (d3, >=, 6400);
      g_assert_cmpuint (d3, <=, 9600);
      g_assert_cmpuint (d20, >=, 48000);
      g_assert_cmpuint (d20, <=, 60000);
    }
}

static void
test_logout_clears (Fixture       *f,
                    gconstpointer  data)
{
  load_all (f);
  mcr_server_logout (f->server);
  g_assert_cmpint (mcr_server_get_state (f->server), ==, MCR_SERVER_STATE_DISCONNECTED);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (f->server)), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_groups (f->server)), ==, 0);
  g_assert_null (mcr_server_get_auth_cookie (f->server));
  g_assert_false (mcr_server_get_devices_loaded (f->server));
}

static void
on_any_message (McrServer  *server,
                const char *action,
                JsonObject *msg,
                GPtrArray  *order)
{
  g_ptr_array_add (order, g_strdup (action));
}

/* A device list of @n devices. */
static GBytes *
big_nodes (guint n)
{
  GString *s = g_string_new ("{\"action\":\"nodes\",\"nodes\":{\"" MESH_A "\":[");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%s{\"_id\":\"node//n%u\",\"name\":\"n%u\",\"conn\":1}",
                            i ? "," : "", i, i);
  g_string_append (s, "]}}");
  return g_string_free_to_bytes (s);
}

static GBytes *
bytes_of (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* Bounded: the worker threads wind up. */
static void
wait_for_parses (McrServer *server)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while ((server != NULL && _mcr_server_rx_busy (server)) || _mcr_server_parse_jobs_alive () > 0)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("a worker parse did not end within 60 s");
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
test_large_in_order (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GBytes) big = big_nodes (20000);
  g_autoptr(GBytes) event = bytes_of ("{\"action\":\"event\",\"event\":{\"action\":"
                                      "\"nodeconnect\",\"nodeid\":\"node//n7\",\"conn\":0}}");
  g_autoptr(GBytes) small = bytes_of ("{\"action\":\"serverinfo\",\"serverinfo\":{}}");
  g_autoptr(GBytes) big2 = big_nodes (3);

  load_all (f);
  g_assert_cmpuint (g_bytes_get_size (big), >=, 256 * 1024);
  g_signal_connect (f->server, "message", G_CALLBACK (on_any_message), order);
  _mcr_server_receive_text (f->server, big);
  _mcr_server_receive_text (f->server, event);
  _mcr_server_receive_text (f->server, small);
  /* A second large one after a small one, then a small one: with a low
   * threshold, the small list goes through a worker too. */
  _mcr_server_set_rx_thread_threshold (f->server, g_bytes_get_size (big2));
  _mcr_server_receive_text (f->server, big2);
  _mcr_server_receive_text (f->server, small);
  /* Nothing dispatched before the main loop runs the parse's end. */
  g_assert_true (_mcr_server_rx_busy (f->server));
  g_assert_cmpuint (order->len, ==, 0);
  wait_for_parses (f->server);

  g_assert_cmpuint (order->len, ==, 5);
  g_assert_cmpstr (g_ptr_array_index (order, 0), ==, "nodes");
  g_assert_cmpstr (g_ptr_array_index (order, 1), ==, "event");
  g_assert_cmpstr (g_ptr_array_index (order, 2), ==, "serverinfo");
  g_assert_cmpstr (g_ptr_array_index (order, 3), ==, "nodes");
  g_assert_cmpstr (g_ptr_array_index (order, 4), ==, "serverinfo");
  /* The second list (3 devices) replaced the first. */
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (f->server)), ==, 3);
  g_assert_nonnull (mcr_server_lookup_device (f->server, "node//n2"));
  g_signal_handlers_disconnect_by_data (f->server, order);
}

static void
test_logout_during_parse (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GBytes) big = big_nodes (20000);
  g_autoptr(GBytes) small = bytes_of ("{\"action\":\"serverinfo\",\"serverinfo\":{}}");

  load_all (f);
  g_signal_connect (f->server, "message", G_CALLBACK (on_any_message), order);
  _mcr_server_receive_text (f->server, big);
  _mcr_server_receive_text (f->server, small);
  mcr_server_logout (f->server);
  g_assert_false (_mcr_server_rx_busy (f->server));
  wait_for_parses (f->server);
  g_assert_cmpuint (order->len, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (f->server)), ==, 0);
  g_signal_handlers_disconnect_by_data (f->server, order);
}

/* The last reference goes while a worker parses: nothing is left to
 * dispatch to, and nothing is touched. */
static void
test_finalize_during_parse (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) big = big_nodes (20000);
  McrServer *server = mcr_server_new ("example.com:4443", &error);

  g_assert_no_error (error);
  _mcr_server_begin_test_session (server);
  _mcr_server_receive_text (server, big);
  g_assert_finalize_object (server);
  wait_for_parses (NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add ("/server-messages/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("login-sequence", test_login_sequence);
  ADD ("ping-pong", test_ping_pong);
  ADD ("devices-and-rights", test_devices_and_rights);
  ADD ("find-prefers-online", test_find_prefers_online);
  ADD ("events", test_events);
  ADD ("events-that-refresh", test_events_that_refresh);
  ADD ("device-link-only", test_device_link_only);
  ADD ("twofa-cookie-kept", test_twofa_cookie_kept);
  ADD ("close-reasons", test_close_reasons);
  ADD ("close-when-logged-in", test_close_when_logged_in);
  ADD ("lone-surrogate", test_lone_surrogate);
  ADD ("2fa-setup-required", test_2fa_setup_required);
  ADD ("malformed", test_malformed);
  ADD ("huge-and-deep", test_huge_and_deep);
  ADD ("relay-uri", test_relay_uri);
  ADD ("logout-clears", test_logout_clears);
  ADD ("timers", test_timers);
  ADD ("large-in-order", test_large_in_order);
  ADD ("logout-during-parse", test_logout_during_parse);
#undef ADD
  g_test_add ("/server-messages/relay-uri-key-domain", Fixture,
              "wss://mc.example.org/dom/?key=k%26y%20z", fixture_setup,
              test_relay_uri_key_domain, fixture_teardown);
  g_test_add_func ("/server-messages/addresses", test_addresses);
  g_test_add_func ("/server-messages/reconnect-delay", test_reconnect_delay);
  g_test_add_func ("/server-messages/finalize-during-parse", test_finalize_during_parse);
  return g_test_run ();
}
