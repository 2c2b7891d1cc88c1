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
