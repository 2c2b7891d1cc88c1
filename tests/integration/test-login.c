/* SPDX-License-Identifier: Apache-2.0
 *
 * Password login against the real testbed: the model fills with the agent's
 * device, online; refusals come back as typed errors. */
#include <string.h>

#include "login-helpers.h"

static void
test_password_ok (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrDevice) first = NULL;
  g_autofree char *upper = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *uri_text = NULL;
  g_autofree char *node_escaped = NULL;
  McrDevice *device;
  McrDeviceGroup *group;
  const McrCertInfo *cert;

  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_CONNECTED);
  g_assert_null (mcr_server_get_error (server));
  g_assert_cmpstr (mcr_server_get_user_name (server), ==, tb->user);
  g_assert_cmpstr (mcr_server_get_user_id (server), ==, "user//admin");

  /* What serverinfo told. */
  g_assert_cmpstr (mcr_server_get_server_tls_hash (server), ==, tb->cert_hash);
  g_assert_cmpuint (mcr_server_get_features (server), !=, 0);

  /* The certificate we saw is the testbed's, self-signed for router.test. */
  cert = mcr_server_get_peer_cert_info (server);
  g_assert_nonnull (cert);
  g_assert_cmpstr (cert->sha384, ==, tb->cert_hash);
  g_assert_nonnull (strstr (cert->subject, "router.test"));
  g_assert_cmpuint (strlen (cert->key_sha384), ==, 96);
  g_assert_cmpuint (strlen (cert->sha1), ==, 40);

  g_assert_true (test_wait_devices_loaded (server, 30000));
  g_assert_true (test_wait_online (server, tb->node_id, TRUE, 30000));
  device = mcr_server_lookup_device (server, tb->node_id);
  g_assert_nonnull (device);
  g_assert_cmpstr (mcr_device_get_name (device), ==, tb->node_name);
  g_assert_true (mcr_device_get_online (device));
  g_assert_true (mcr_device_get_can_relay (device));
  group = mcr_device_get_group (device);
  g_assert_nonnull (group);
  g_assert_cmpstr (mcr_device_group_get_id (group), ==, tb->mesh_id);
  g_assert_cmpstr (mcr_device_group_get_name (group), ==, "lab");
  g_assert_cmpstr (mcr_device_get_group_name (device), ==, "lab");
  g_assert_cmpint (mcr_device_group_get_group_type (group), ==, MCR_GROUP_TYPE_AGENT);
  g_assert_true (mcr_server_lookup_group (server, tb->mesh_id) == group);

  /* The models hold exactly these objects. */
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (server)), >=, 1);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_groups (server)), >=, 1);
  first = g_list_model_get_item (mcr_server_get_devices (server), 0);
  g_assert_true (MCR_IS_DEVICE (first));

  /* By id, and by name in another case. */
  g_assert_true (mcr_server_find_device (server, tb->node_id) == device);
  upper = g_utf8_strup (tb->node_name, -1);
  g_assert_true (mcr_server_find_device (server, upper) == device);
  g_assert_null (mcr_server_find_device (server, "no such device"));

  /* A tunnel URI for it. */
  g_assert_nonnull (mcr_server_get_auth_cookie (server));
  uri = mcr_server_build_relay_uri (server, device, MCR_PROTOCOL_TCP, 22, NULL);
  g_assert_nonnull (uri);
  uri_text = g_uri_to_string (uri);
  node_escaped = g_uri_escape_string (tb->node_id, NULL, FALSE);
  g_assert_true (g_str_has_prefix (uri_text, "wss://127.0.0.1:"));
  g_assert_nonnull (strstr (uri_text, "/meshrelay.ashx?nodeid="));
  g_assert_nonnull (strstr (uri_text, node_escaped));
  g_assert_nonnull (strstr (uri_text, "&tcpport=22&auth="));
  g_assert_null (strstr (uri_text, "tcpaddr"));

  mcr_server_logout (server);
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_DISCONNECTED);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (server)), ==, 0);
}

static void
check_refused (const char *user,
               const char *password)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(GError) error = NULL;

  g_assert_false (test_login_password (server, user, password, &error));
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_CREDENTIALS);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "password"));
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_FAILED);
  g_assert_error ((GError *) mcr_server_get_error (server), MCR_SERVER_ERROR,
                  MCR_SERVER_ERROR_BAD_CREDENTIALS);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (server)), ==, 0);
}

static void
test_wrong_password (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *wrong = g_strconcat (tb->password, "x", NULL);

  check_refused (tb->user, wrong);
}

static void
test_unknown_user (void)
{
  check_refused ("nobody-here", "whatever");
}


/* ---- other accounts ---- */

/* meshctrl.js as admin; TRUE if it ran. Its output (which differs from
 * command to command) goes to the test log, never to our stdout (TAP); the
 * tests check the effect instead. */
#define meshctrl_ok(...) meshctrl_check (mcr_testbed_meshctrl (&meshctrl_out, __VA_ARGS__))

static char *meshctrl_out;

static gboolean
meshctrl_check (gboolean ran)
{
  g_test_message ("meshctrl: %s", meshctrl_out ? g_strstrip (meshctrl_out) : "(failed)");
  g_clear_pointer (&meshctrl_out, g_free);
  return ran;
}

static void
test_notools (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *password = NULL;
  g_autofree char *user = test_add_user ("ctl-notools", "--notools", &password);
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(GError) error = NULL;

  g_assert_false (test_login_password (server, user, password, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_NO_TOOLS);
  test_remove_user (user);
}

/* The id meshctrl gives a user group, found by its name. */
static char *
user_group_id (const char *name)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GList) ids = NULL;
  JsonObject *groups;

  g_assert_true (mcr_testbed_meshctrl (&out, "ListUserGroups", "--json", NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  groups = json_node_get_object (json_parser_get_root (parser));
  ids = json_object_get_members (groups);
  for (GList *l = ids; l; l = l->next)
    {
      JsonObject *g = json_object_get_object_member (groups, l->data);

      if (g_strcmp0 (json_object_get_string_member (g, "name"), name) == 0)
        return g_strdup (l->data);
    }
  g_assert_not_reached ();
}

typedef struct
{
  McrServer  *server;
  const char *node_id;
  guint32     rights;
} RightsWait;

static gboolean
rights_are (gpointer data)
{
  RightsWait *w = data;
  McrDevice *d = mcr_server_lookup_device (w->server, w->node_id);

  if (d != NULL && mcr_device_get_rights (d) != w->rights)
    g_test_message ("rights now 0x%x, waiting for 0x%x", mcr_device_get_rights (d), w->rights);
  return d != NULL && mcr_device_get_rights (d) == w->rights;
}

/* A user without rights sees nothing; rights given through a user group
 * (and then a direct device link) arrive live, and add up. */
static void
test_rights (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *password = NULL;
  g_autofree char *user = test_add_user ("ctl-rights", NULL, &password);
  g_autofree char *user_id = g_strconcat ("user//", user, NULL);
  g_autofree char *group_name = test_unique_name ("ctl-ugrp");
  g_autofree char *group_id = NULL;
  g_autofree char *out = NULL;
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(GError) error = NULL;
  RightsWait w = { server, tb->node_id, MCR_RIGHT_REMOTE_CONTROL };
  McrDevice *device;

  g_assert_true (test_login_password (server, user, password, &error));
  g_assert_true (test_wait_devices_loaded (server, 30000));
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_devices (server)), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (mcr_server_get_groups (server)), ==, 0);
  g_assert_null (mcr_server_lookup_device (server, tb->node_id));

  /* Into a user group that has remote control on the group "lab". */
  g_assert_true (mcr_testbed_meshctrl (&out, "AddUserGroup", "--name", group_name, NULL));
  group_id = user_group_id (group_name);
  g_assert_true (meshctrl_ok ("AddToUserGroup", "--groupid", group_id, "--id", user_id, NULL));
  g_assert_true (meshctrl_ok ("AddToUserGroup", "--groupid", group_id, "--id", tb->mesh_id,
                              "--rights", "8", NULL));
  g_assert_true (mcr_test_wait_until (rights_are, &w, 30000));
  device = mcr_server_lookup_device (server, tb->node_id);
  g_assert_true (mcr_device_get_can_relay (device));
  g_assert_cmpstr (mcr_device_get_group_name (device), ==, "lab");
  g_assert_cmpuint (mcr_device_group_get_rights (mcr_device_get_group (device)), ==, 8);

  /* A direct link to the device (agent console, 16) adds its rights. */
  g_assert_true (meshctrl_ok ("AddUserToDevice", "--userid", user, "--id", tb->node_id,
                              "--agentconsole", NULL));
  w.rights = 8 | 16;
  g_assert_true (mcr_test_wait_until (rights_are, &w, 30000));

  /* A fresh login computes the same. */
  mcr_server_logout (server);
  g_assert_true (test_login_password (server, user, password, &error));
  g_assert_true (test_wait_devices_loaded (server, 30000));
  g_assert_true (rights_are (&w));

  mcr_server_logout (server);
  meshctrl_ok ("RemoveUserGroup", "--groupid", group_id, NULL);
  test_remove_user (user);
}

static gboolean
has_auth_cookie (gpointer data)
{
  return mcr_server_get_auth_cookie (MCR_SERVER (data)) != NULL;
}

/* The c= of an mcrouter:// link is the web UI's "authcookie": log in with
 * one that our own password login received. */
static void
test_auth_cookie (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) first = test_server_new (tb);
  g_autoptr(McrServer) second = test_server_new (tb);
  g_autoptr(McrServer) third = test_server_new (tb);
  g_autoptr(GError) error = NULL;
  g_autofree char *cookie = NULL;
  McrCredentials c = { 0 };

  g_assert_true (test_login_password (first, tb->user, tb->password, &error));
  g_assert_true (mcr_test_wait_until (has_auth_cookie, first, 20000));
  cookie = g_strdup (mcr_server_get_auth_cookie (first));
  mcr_server_logout (first);

  c.auth_cookie = cookie;
  g_assert_true (test_login (second, &c, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mcr_server_get_user_id (second), ==, "user//admin");
  g_assert_true (test_wait_devices_loaded (second, 30000));
  g_assert_nonnull (mcr_server_lookup_device (second, tb->node_id));

  c.auth_cookie = "bm90IGEgY29va2ll";
  g_assert_false (test_login (third, &c, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_CREDENTIALS);
  g_assert_nonnull (strstr (error->message, "link"));
}

typedef struct
{
  gboolean done;
  GError  *error;
} CancelWait;

static void
on_cancelled_login (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  CancelWait *w = user_data;

  g_assert_false (mcr_server_login_finish (MCR_SERVER (source), result, NULL, &w->error));
  w->done = TRUE;
}

/* A login in progress can be cancelled, and a logout during it cancels. */
static void
test_cancel (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(GError) error = NULL;
  McrCredentials c = { .user = tb->user, .password = tb->password };

  mcr_server_login_async (server, &c, NULL, NULL, NULL);
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_CONNECTING);
  mcr_server_logout (server);
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_DISCONNECTED);
  /* And it can log in right after. */
  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  mcr_server_logout (server);

  /* Through the GCancellable: the call ends with CANCELLED. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    CancelWait w = { FALSE, NULL };

    mcr_server_login_async (server, &c, cancellable, on_cancelled_login, &w);
    g_cancellable_cancel (cancellable);
    g_assert_true (mcr_test_wait_flag (&w.done, 10000));
    g_assert_error (w.error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED);
    g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_DISCONNECTED);
    g_clear_error (&w.error);
  }
}

static void
on_state_change (McrServer  *server,
                 GParamSpec *pspec,
                 guint      *changes)
{
  (*changes)++;
}

/* The login's timeout is for the attempt only: once logged in, the session
 * stays connected past it (it used to reconnect each time it ran out). */
static void
test_timeout_after_login (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(GError) error = NULL;
  guint changes = 0;
  gboolean never = FALSE;

  mcr_server_set_timeout (server, 2);
  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  g_signal_connect (server, "notify::state", G_CALLBACK (on_state_change), &changes);
  mcr_test_wait_flag (&never, 3500);
  g_assert_cmpuint (changes, ==, 0);
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_CONNECTED);
  g_signal_handlers_disconnect_by_data (server, &changes);
  mcr_server_logout (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/login/password-ok", test_password_ok);
  g_test_add_func ("/login/wrong-password", test_wrong_password);
  g_test_add_func ("/login/unknown-user", test_unknown_user);
  g_test_add_func ("/login/notools", test_notools);
  g_test_add_func ("/login/rights", test_rights);
  g_test_add_func ("/login/auth-cookie", test_auth_cookie);
  g_test_add_func ("/login/cancel", test_cancel);
  g_test_add_func ("/login/timeout-after-login", test_timeout_after_login);
  return g_test_run ();
}
