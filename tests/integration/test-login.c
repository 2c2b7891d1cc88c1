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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/login/password-ok", test_password_ok);
  g_test_add_func ("/login/wrong-password", test_wrong_password);
  g_test_add_func ("/login/unknown-user", test_unknown_user);
  return g_test_run ();
}
