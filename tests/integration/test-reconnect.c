/* SPDX-License-Identifier: Apache-2.0
 *
 * The server restarts under three live sessions (password, password + TOTP,
 * auth cookie): each reconnects by itself, reports reconnecting then
 * connected, and its model is whole again with the same device objects.
 * Restarts the server: runs alone (integration_exclusive). */
#include <string.h>

#include "login-helpers.h"

typedef struct
{
  GArray *states;
  guint   devices_loaded;
  guint   errors_while_reconnecting;
} Watch;

static void
on_state (McrServer  *server,
          GParamSpec *pspec,
          Watch      *w)
{
  McrServerState state = mcr_server_get_state (server);

  g_array_append_val (w->states, state);
  if (state == MCR_SERVER_STATE_RECONNECTING && mcr_server_get_error (server) != NULL)
    w->errors_while_reconnecting++;
}

static void
on_devices_loaded (McrServer *server,
                   Watch     *w)
{
  w->devices_loaded++;
}

static void
watch (McrServer *server,
       Watch     *w)
{
  w->states = g_array_new (FALSE, FALSE, sizeof (McrServerState));
  g_signal_connect (server, "notify::state", G_CALLBACK (on_state), w);
  g_signal_connect (server, "devices-loaded", G_CALLBACK (on_devices_loaded), w);
}

static gboolean
saw_state (Watch         *w,
           McrServerState state)
{
  for (guint i = 0; i < w->states->len; i++)
    if (g_array_index (w->states, McrServerState, i) == state)
      return TRUE;
  return FALSE;
}

typedef struct
{
  McrServer **servers;
  Watch      *watches;
  guint       n;
} All;

/* Each noticed the drop and is connected again. (Right after the restart,
 * before the main loop has run, they still say "connected".) */
static gboolean
all_back (gpointer data)
{
  All *a = data;

  for (guint i = 0; i < a->n; i++)
    if (!saw_state (&a->watches[i], MCR_SERVER_STATE_RECONNECTING) ||
        mcr_server_get_state (a->servers[i]) != MCR_SERVER_STATE_CONNECTED)
      return FALSE;
  return TRUE;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

static void
test_server_restart (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GError) error = NULL;
  g_autofree char *twofa_password = NULL;
  g_autofree char *twofa_user = test_add_user ("ctl-reconnect", NULL, &twofa_password);
  g_autofree char *secret = test_setup_totp (twofa_user, twofa_password);
  g_autofree char *code = mcr_test_totp (secret, g_get_real_time () / G_USEC_PER_SEC);
  g_autoptr(McrServer) plain = test_server_new (tb);
  g_autoptr(McrServer) twofa = test_server_new (tb);
  g_autoptr(McrServer) cookie = test_server_new (tb);
  McrServer *servers[] = { plain, twofa, cookie };
  Watch w[3] = { 0 };
  All all = { servers, w, G_N_ELEMENTS (servers) };
  McrCredentials c = { 0 };
  McrDevice *device;
  gint64 start;

  g_assert_true (test_login_password (plain, tb->user, tb->password, &error));
  g_assert_true (test_wait_devices_loaded (plain, 30000));
  c.user = twofa_user;
  c.password = twofa_password;
  c.token = code;
  g_assert_true (test_login (twofa, &c, NULL, &error));
  g_assert_no_error (error);
  memset (&c, 0, sizeof c);
  c.auth_cookie = mcr_server_get_auth_cookie (plain);
  g_assert_true (test_login (cookie, &c, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (test_wait_devices_loaded (cookie, 30000));
  g_assert_true (test_wait_online (plain, tb->node_id, TRUE, 30000));
  device = mcr_server_lookup_device (plain, tb->node_id);
  /* Let the remembered-2FA cookie of the TOTP session arrive. */
  mcr_test_wait_until (never, NULL, 2000);

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    watch (servers[i], &w[i]);

  start = g_get_monotonic_time ();
  g_assert_true (mcr_testbed_run ("server-restart", NULL, NULL));
  g_assert_true (mcr_test_wait_until (all_back, &all, 120000));
  g_test_message ("all reconnected %" G_GINT64_FORMAT " ms after the restart began",
                  (g_get_monotonic_time () - start) / 1000);

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      g_assert_true (saw_state (&w[i], MCR_SERVER_STATE_RECONNECTING));
      g_assert_false (saw_state (&w[i], MCR_SERVER_STATE_FAILED));
      g_assert_cmpuint (w[i].errors_while_reconnecting, >=, 1);
      g_assert_null (mcr_server_get_error (servers[i]));
      /* "devices-loaded" is for the login, not for every reconnect. */
      g_assert_cmpuint (w[i].devices_loaded, ==, 0);
    }

  /* The model is whole again, with the same objects. */
  g_assert_true (test_wait_online (plain, tb->node_id, TRUE, 60000));
  g_assert_true (mcr_server_lookup_device (plain, tb->node_id) == device);
  g_assert_true (test_wait_online (cookie, tb->node_id, TRUE, 60000));
  g_assert_cmpstr (mcr_server_get_user_name (twofa), ==, twofa_user);
  g_assert_nonnull (mcr_server_get_auth_cookie (plain));

  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      g_signal_handlers_disconnect_by_data (servers[i], &w[i]);
      g_array_unref (w[i].states);
      mcr_server_logout (servers[i]);
    }
  test_remove_user (twofa_user);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reconnect/server-restart", test_server_restart);
  return g_test_run ();
}
