/* login-helpers.c: logging into the testbed from the control-channel tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <unistd.h>

#include "login-helpers.h"

McrServer *
test_server_new (const McrTestbed *tb)
{
  g_autoptr(GError) error = NULL;
  McrServer *server = mcr_server_new (tb->address, &error);

  g_assert_no_error (error);
  g_assert_true (mcr_tls_policy_add_pinned_hash (mcr_server_get_tls_policy (server),
                                                 tb->cert_hash));
  return server;
}

char *
test_other_cert_hash (void)
{
  g_autofree char *path = g_build_filename (MCR_SOURCE_ROOT, "tests", "data",
                                            "test-server-cert.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_file (path, &error);
  g_autoptr(McrCertInfo) info = NULL;

  g_assert_no_error (error);
  info = mcr_cert_info_new (cert, &error);
  g_assert_no_error (error);
  return g_strdup (info->sha384);
}

typedef struct
{
  gboolean         done;
  gboolean         ok;
  GError          *error;
  McrTokenRequest  request;
} LoginWait;

static void
on_login_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  LoginWait *w = user_data;

  w->ok = mcr_server_login_finish (MCR_SERVER (source), result, &w->request, &w->error);
  w->done = TRUE;
}

gboolean
test_login (McrServer            *server,
            const McrCredentials *credentials,
            McrTokenRequest      *token_request,
            GError              **error)
{
  LoginWait w = { 0 };

  mcr_server_login_async (server, credentials, NULL, on_login_done, &w);
  g_assert_true (mcr_test_wait_flag (&w.done, 60000));
  if (token_request != NULL)
    *token_request = w.request;
  if (!w.ok)
    {
      g_assert_nonnull (w.error);
      g_propagate_error (error, w.error);
    }
  else
    g_assert_null (w.error);
  return w.ok;
}

gboolean
test_login_password (McrServer  *server,
                     const char *user,
                     const char *password,
                     GError    **error)
{
  McrCredentials c = { .user = user, .password = password };

  return test_login (server, &c, NULL, error);
}

McrServer *
test_server_logged_in (const McrTestbed *tb,
                       guint             online_timeout_ms)
{
  McrServer *server = test_server_new (tb);
  g_autoptr(GError) error = NULL;

  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  g_assert_true (test_wait_devices_loaded (server, 30000));
  g_assert_true (test_wait_online (server, tb->node_id, TRUE, online_timeout_ms));
  return server;
}

static gboolean
has_auth_cookie (gpointer server)
{
  return mcr_server_get_auth_cookie (server) != NULL;
}

char *
test_link_cookie (const McrTestbed *tb)
{
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(GError) error = NULL;
  char *cookie;

  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  g_assert_true (mcr_test_wait_until (has_auth_cookie, server, 30000));
  cookie = g_uri_escape_string (mcr_server_get_auth_cookie (server), NULL, FALSE);
  mcr_server_logout (server);
  return cookie;
}

static gboolean
devices_loaded (gpointer data)
{
  return mcr_server_get_devices_loaded (MCR_SERVER (data));
}

gboolean
test_wait_devices_loaded (McrServer *server,
                          guint      timeout_ms)
{
  return mcr_test_wait_until (devices_loaded, server, timeout_ms);
}

typedef struct
{
  McrServer  *server;
  const char *node_id;
  gboolean    online;
} OnlineWait;

static gboolean
online_is (gpointer data)
{
  OnlineWait *w = data;
  McrDevice *device = mcr_server_lookup_device (w->server, w->node_id);

  return device != NULL && mcr_device_get_online (device) == w->online;
}

gboolean
test_wait_online (McrServer  *server,
                  const char *node_id,
                  gboolean    online,
                  guint       timeout_ms)
{
  OnlineWait w = { server, node_id, online };

  return mcr_test_wait_until (online_is, &w, timeout_ms);
}

typedef struct
{
  McrServer     *server;
  McrServerState state;
} StateWait;

static gboolean
state_is (gpointer data)
{
  StateWait *w = data;

  return mcr_server_get_state (w->server) == w->state;
}

gboolean
test_wait_state (McrServer     *server,
                 McrServerState state,
                 guint          timeout_ms)
{
  StateWait w = { server, state };

  return mcr_test_wait_until (state_is, &w, timeout_ms);
}

char *
test_unique_name (const char *prefix)
{
  return g_strdup_printf ("%s-%d-%u", prefix, (int) getpid (), g_random_int_range (1000, 9999));
}

char *
test_add_user (const char  *prefix,
               const char  *extra_flag,
               char       **password)
{
  g_autofree char *out = NULL;
  char *user = test_unique_name (prefix);

  *password = g_strdup_printf ("Pw-%08x-%08x", g_random_int (), g_random_int ());
  g_assert_true (mcr_testbed_meshctrl (&out, "AddUser", "--user", user, "--pass", *password,
                                       extra_flag, NULL));
  g_assert_true (g_str_has_prefix (out, "ok"));
  return user;
}

void
test_remove_user (const char *user)
{
  g_autofree char *out = NULL;

  mcr_testbed_meshctrl (&out, "RemoveUser", "--userid", user, NULL);
}

typedef struct
{
  JsonObject *reply;
} Reply;

static void
on_reply (McrServer  *server,
          const char *action,
          JsonObject *message,
          Reply      *r)
{
  if (r->reply == NULL)
    r->reply = json_object_ref (message);
}

static gboolean
has_reply (gpointer data)
{
  return ((Reply *) data)->reply != NULL;
}

JsonObject *
test_request (McrServer  *server,
              JsonObject *command)
{
  Reply r = { NULL };
  g_autofree char *signal = g_strconcat ("message::",
                                         json_object_get_string_member (command, "action"), NULL);
  gulong id = g_signal_connect (server, signal, G_CALLBACK (on_reply), &r);

  mcr_server_send_command (server, command);
  g_assert_true (mcr_test_wait_until (has_reply, &r, 20000));
  g_signal_handler_disconnect (server, id);
  return r.reply;
}

char *
test_setup_totp (const char *user,
                 const char *password)
{
  g_autoptr(McrServer) server = test_server_new (mcr_testbed_get ());
  g_autoptr(JsonObject) ask = json_object_new ();
  g_autoptr(JsonObject) setup = json_object_new ();
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) done = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  char *secret;

  g_assert_true (test_login_password (server, user, password, &error));
  g_assert_no_error (error);

  json_object_set_string_member (ask, "action", "otpauth-request");
  reply = test_request (server, ask);
  g_assert_true (json_object_has_member (reply, "secret"));
  secret = g_strdup (json_object_get_string_member (reply, "secret"));

  code = mcr_test_totp (secret, g_get_real_time () / G_USEC_PER_SEC);
  json_object_set_string_member (setup, "action", "otpauth-setup");
  json_object_set_string_member (setup, "secret", secret);
  json_object_set_string_member (setup, "token", code);
  done = test_request (server, setup);
  g_assert_true (json_object_get_boolean_member_with_default (done, "success", FALSE));
  mcr_server_logout (server);
  return secret;
}
