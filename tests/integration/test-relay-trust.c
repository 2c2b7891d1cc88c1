/* SPDX-License-Identifier: Apache-2.0
 *
 * Relay WebSockets take the same certificate decision as the control
 * channel, against the real testbed (its certificate is self-signed, so the
 * system never trusts it and the policy decides): with the testbed's hash
 * pinned, tunnels work; when the policy refuses the certificate, a tunnel
 * refuses it too, whatever the control channel accepted before, and the
 * local program gets nothing. */
#include <string.h>

#include "login-helpers.h"
#include "mcr-port-map.h"
#include "mcr-tls-policy.h"
#include "mcr-websocket-private.h"
#include "relay-test-util.h"

/* Logs @server (its TLS policy set) in as the testbed's admin, and starts a
 * map through the agent to a new echo service. */
static McrPortMap *
logged_in_echo_map (McrServer *server)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  McrPortMap *map;

  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  g_assert_true (test_wait_devices_loaded (server, 30000));
  g_assert_true (test_wait_online (server, tb->node_id, TRUE, 30000));
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = mcr_test_echo_server_start (NULL);
  map = mcr_port_map_new (server, spec);
  mcr_port_map_set_half_close_timeout (map, 1);
  g_assert_true (mcr_port_map_start (map, FALSE, &error));
  g_assert_no_error (error);
  return map;
}

/* Echo through @map; TRUE if it came back whole. */
static gboolean
echo_works (McrPortMap *map,
            guint32     seed)
{
  g_autoptr(TestPeer) peer = test_peer_connect (mcr_port_map_get_local_port (map), 4096, seed);
  gboolean ok;

  g_assert_true (mcr_test_wait_until (test_peer_echoed_or_closed, peer, 30000));
  ok = peer->error == NULL && !peer->eof && test_peer_echo_matches (peer);
  g_clear_pointer (&peer, test_peer_free);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, map, 30000));
  return ok;
}

static void
test_pinned (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = mcr_server_new (tb->address, &error);
  McrTlsPolicy *policy = mcr_server_get_tls_policy (server);
  g_autoptr(McrPortMap) map = NULL;
  g_autofree char *wrong = test_other_cert_hash ();

  /* A wrong pin and the right one: the right one is what lets both in. */
  g_assert_true (mcr_tls_policy_add_pinned_hash (policy, wrong));
  g_assert_true (mcr_tls_policy_add_pinned_hash (policy, tb->cert_hash));
  map = logged_in_echo_map (server);
  g_assert_true (echo_works (map, 1));
  g_assert_cmpuint (mcr_port_map_get_failed_connections (map), ==, 0);
  mcr_port_map_stop (map);
  mcr_server_logout (server);
}

/* Logged in while the policy took any certificate (-ignorecert); then the
 * policy refuses it: the control channel would not connect now, and no
 * tunnel does either. Pinned again, tunnels work again: the relay asks the
 * policy at each connection. */
static void
test_refused (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = mcr_server_new (tb->address, &error);
  g_autoptr(McrServer) second = mcr_server_new (tb->address, &error);
  McrTlsPolicy *policy = mcr_server_get_tls_policy (server);
  g_autoptr(McrPortMap) map = NULL;
  g_autoptr(TestPeer) peer = NULL;
  g_autofree char *wrong = test_other_cert_hash ();
  const char *failure;

  mcr_tls_policy_set_ignore_cert (policy, TRUE);
  map = logged_in_echo_map (server);
  g_assert_true (echo_works (map, 2));

  /* Now only another certificate would do. */
  mcr_tls_policy_set_ignore_cert (policy, FALSE);
  g_assert_true (mcr_tls_policy_add_pinned_hash (policy, wrong));

  /* The control channel's decision, on a second login with the same
   * policy... */
  mcr_tls_policy_add_pinned_hash (mcr_server_get_tls_policy (second), wrong);
  g_assert_false (test_login_password (second, tb->user, tb->password, &error));
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT);
  g_clear_error (&error);

  /* ...is the relay's. */
  peer = test_peer_connect (mcr_port_map_get_local_port (map), 4096, 3);
  g_assert_true (mcr_test_wait_until (test_peer_echoed_or_closed, peer, 30000));
  g_assert_cmpuint (peer->received, ==, 0);
  g_assert_true (mcr_test_wait_until (test_map_no_connections, map, 30000));
  failure = mcr_port_map_get_last_failure (map);
  g_test_message ("refused tunnel: %s", failure);
  g_assert_nonnull (failure);
  g_assert_nonnull (strstr (failure, "Could not open a tunnel"));
  g_assert_cmpuint (mcr_port_map_get_failed_connections (map), ==, 1);

  /* The right pin: accepted again. */
  g_assert_true (mcr_tls_policy_add_pinned_hash (policy, tb->cert_hash));
  g_assert_true (echo_works (map, 4));
  mcr_port_map_stop (map);
  mcr_server_logout (server);
}

/* The relay WebSocket alone, with the policy as its certificate check. */
static gboolean
policy_accepts (GTlsCertificate     *certificate,
                GTlsCertificateFlags errors,
                gpointer             user_data)
{
  return mcr_tls_policy_accepts (user_data, certificate, errors);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GError **error = user_data;

  if (!mcr_websocket_connect_finish (MCR_WEBSOCKET (source), result, error) && *error == NULL)
    g_assert_not_reached ();
  if (*error == NULL)
    *error = g_error_new_literal (G_IO_ERROR, 0, "connected");  /* marks "done, fine" */
}

static gboolean
has_error (gpointer data)
{
  return *(GError **) data != NULL;
}

static void
test_websocket_policy (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *wrong = test_other_cert_hash ();

  for (guint pass = 0; pass < 2; pass++)
    {
      g_autoptr(McrWebSocket) ws = test_relay_websocket (tb, MCR_PROTOCOL_TCP, 9, NULL);
      g_autoptr(McrTlsPolicy) policy = mcr_tls_policy_new ();
      g_autoptr(GError) error = NULL;

      mcr_tls_policy_add_pinned_hash (policy, pass == 0 ? wrong : tb->cert_hash);
      mcr_websocket_set_certificate_func (ws, policy_accepts, g_object_ref (policy),
                                          g_object_unref);
      mcr_websocket_connect_async (ws, NULL, on_connected, &error);
      g_assert_true (mcr_test_wait_until (has_error, &error, 30000));
      g_test_message ("pinned to the %s certificate: %s", pass == 0 ? "wrong" : "right",
                      error->message);
      if (pass == 0)
        {
          g_assert_true (error->domain == G_TLS_ERROR);
          g_assert_cmpint (mcr_websocket_get_state (ws), ==, MCR_WEBSOCKET_STATE_CLOSED);
        }
      else
        {
          g_assert_true (g_error_matches (error, G_IO_ERROR, 0));
          g_assert_cmpint (mcr_websocket_get_state (ws), ==, MCR_WEBSOCKET_STATE_OPEN);
          mcr_websocket_abort (ws);
        }
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();

  g_test_add_func ("/relay-trust/pinned", test_pinned);
  g_test_add_func ("/relay-trust/refused", test_refused);
  g_test_add_func ("/relay-trust/websocket-policy", test_websocket_policy);
  return g_test_run ();
}
