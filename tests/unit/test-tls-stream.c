/* SPDX-License-Identifier: Apache-2.0
 *
 * The tunnels' TLS (McrTlsStream under McrWebSocket) and the policy's
 * memory of accepted certificate chains, against two in-process TLS
 * WebSocket servers on 127.0.0.1 with different self-signed certificates:
 * a remembered chain lets the same bytes in again, and nothing else. A
 * different certificate is checked in full, a pin stays a pin, and what
 * -ignorecert let in is forgotten when it is turned off. */
#include <gnutls/gnutls.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mcr-testbed.h"
#include "mcr-tls-policy.h"
#include "mcr-websocket.h"

typedef struct
{
  SoupServer      *server;
  guint16          port;
  GTlsCertificate *certificate;
  char            *sha384;
} Server;

typedef struct
{
  Server a;   /* tests/data/test-server-cert.pem */
  Server b;   /* tests/data/test-other-cert.pem */
} Fixture;

static void
on_message (SoupWebsocketConnection *conn,
            int                      type,
            GBytes                  *message,
            gpointer                 user_data)
{
  soup_websocket_connection_send_message (conn, type, message);
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *conn,
              gpointer                 user_data)
{
  /* The server keeps no reference of its own. */
  g_object_ref (conn);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), NULL);
  g_signal_connect (conn, "closed", G_CALLBACK (g_object_unref), NULL);
}

static void
server_start (Server     *s,
              const char *name)
{
  g_autofree char *cert = g_strdup_printf ("test-%s-cert.pem", name);
  g_autofree char *key = g_strdup_printf ("test-%s-key.pem", name);
  g_autofree char *cert_path = g_test_build_filename (G_TEST_DIST, "data", cert, NULL);
  g_autofree char *key_path = g_test_build_filename (G_TEST_DIST, "data", key, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  g_autoptr(McrCertInfo) info = NULL;

  s->certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  info = mcr_cert_info_new (s->certificate, &error);
  g_assert_no_error (error);
  s->sha384 = g_strdup (info->sha384);
  s->server = soup_server_new ("tls-certificate", s->certificate, NULL);
  soup_server_add_websocket_handler (s->server, "/echo", NULL, NULL, on_websocket, NULL, NULL);
  soup_server_listen_local (s->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY | SOUP_SERVER_LISTEN_HTTPS,
                            &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (s->server);
  s->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
}

static void
server_stop (Server *s)
{
  soup_server_disconnect (s->server);
  g_clear_object (&s->server);
  g_clear_object (&s->certificate);
  g_clear_pointer (&s->sha384, g_free);
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  server_start (&fx->a, "server");
  server_start (&fx->b, "other");
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  server_stop (&fx->a);
  server_stop (&fx->b);
}

/* What McrWebSocket remembers for a server that sends @certificate alone:
 * its DER after a 4-byte length. */
static GBytes *
chain_of (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;
  GByteArray *bytes = g_byte_array_new ();
  guint8 len[4];

  g_object_get (certificate, "certificate", &der, NULL);
  len[0] = (guint8) (der->len >> 24);
  len[1] = (guint8) (der->len >> 16);
  len[2] = (guint8) (der->len >> 8);
  len[3] = (guint8) der->len;
  g_byte_array_append (bytes, len, sizeof len);
  g_byte_array_append (bytes, der->data, der->len);
  return g_byte_array_free_to_bytes (bytes);
}

typedef struct
{
  gboolean  done;
  GError   *error;
  GString  *echo;
} Result;

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Result *r = user_data;

  mcr_websocket_connect_finish (MCR_WEBSOCKET (source), result, &r->error);
  r->done = TRUE;
}

static gsize
on_receive (McrWebSocket        *ws,
            McrWebSocketDataType type,
            const guint8        *data,
            gsize                len,
            gboolean             end,
            gpointer             user_data)
{
  Result *r = user_data;

  g_string_append_len (r->echo, (const char *) data, (gssize) len);
  return len;
}

/* Connects to @s with @policy; on success sends a text and waits for its
 * echo. Returns the error (NULL: connected and echoed). */
static GError *
try_server (Server       *s,
            McrTlsPolicy *policy)
{
  g_autofree char *text = g_strdup_printf ("wss://127.0.0.1:%u/echo", s->port);
  g_autoptr(GUri) uri = g_uri_parse (text, G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(McrWebSocket) ws = mcr_websocket_new (uri);
  Result r = { .echo = g_string_new (NULL) };

  mcr_websocket_set_tls_policy (ws, policy);
  mcr_websocket_set_receive_func (ws, on_receive, &r, NULL);
  mcr_websocket_connect_async (ws, NULL, on_connected, &r);
  g_assert_true (mcr_test_wait_flag (&r.done, 10000));
  if (r.error == NULL)
    {
      mcr_websocket_send (ws, MCR_WEBSOCKET_TEXT, "ping", 4);
      mcr_test_assert_wait (r.echo->len >= 4, 10000);
      g_assert_cmpstr (r.echo->str, ==, "ping");
      mcr_websocket_abort (ws);
    }
  else
    {
      g_test_message ("127.0.0.1:%u refused: %s", s->port, r.error->message);
      g_assert_cmpint (mcr_websocket_get_state (ws), ==, MCR_WEBSOCKET_STATE_CLOSED);
    }
  g_string_free (r.echo, TRUE);
  return r.error;
}

static void
assert_refused (GError *error)
{
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_error_free (error);
}

/* The memory itself: same host and same bytes, within time. */
static void
test_memory (void)
{
  g_autoptr(McrTlsPolicy) policy = mcr_tls_policy_new ();
  g_autoptr(GBytes) one = g_bytes_new_static ("\0\0\0\3abc", 7);
  g_autoptr(GBytes) same = g_bytes_new ("\0\0\0\3abc", 7);
  g_autoptr(GBytes) other = g_bytes_new_static ("\0\0\0\3abd", 7);
  gint64 later = g_get_real_time () + 60 * G_USEC_PER_SEC;

  g_assert_false (mcr_tls_policy_accepted_before (policy, "h", one));
  mcr_tls_policy_remember (policy, "h", one, later);
  g_assert_true (mcr_tls_policy_accepted_before (policy, "h", same));
  g_assert_false (mcr_tls_policy_accepted_before (policy, "h", other));
  g_assert_false (mcr_tls_policy_accepted_before (policy, "H2", same));

  /* Past its time: not reused. */
  mcr_tls_policy_remember (policy, "h", other, g_get_real_time () - 1);
  g_assert_false (mcr_tls_policy_accepted_before (policy, "h", other));

  /* A pin added leaves it; ignore-cert turned either way forgets it. */
  g_assert_true (mcr_tls_policy_add_pinned_hash (policy, "00112233445566778899aabbccddeeff00112233"));
  g_assert_true (mcr_tls_policy_accepted_before (policy, "h", one));
  mcr_tls_policy_set_ignore_cert (policy, TRUE);
  g_assert_false (mcr_tls_policy_accepted_before (policy, "h", one));

  /* Bounded: the oldest go. */
  mcr_tls_policy_set_ignore_cert (policy, FALSE);
  mcr_tls_policy_remember (policy, "h", one, later);
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *host = g_strdup_printf ("host%u", i);

      mcr_tls_policy_remember (policy, host, one, later);
    }
  g_assert_false (mcr_tls_policy_accepted_before (policy, "h", one));
  g_assert_true (mcr_tls_policy_accepted_before (policy, "host19", one));
}

/* No pin, no trust: refused, and nothing remembered. */
static void
test_refused (Fixture       *fx,
              gconstpointer  data)
{
  g_autoptr(McrTlsPolicy) policy = mcr_tls_policy_new ();
  g_autoptr(GBytes) chain_a = chain_of (fx->a.certificate);

  assert_refused (try_server (&fx->a, policy));
  g_assert_false (mcr_tls_policy_accepted_before (policy, "127.0.0.1", chain_a));
  assert_refused (try_server (&fx->a, policy));
}

/* A pin on A: A's chain is remembered after the first tunnel; B, on the
 * same host, is still checked in full and refused; B pinned too, it is
 * let in and remembered beside A. */
static void
test_remembered (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(McrTlsPolicy) policy = mcr_tls_policy_new ();
  g_autoptr(GBytes) chain_a = chain_of (fx->a.certificate);
  g_autoptr(GBytes) chain_b = chain_of (fx->b.certificate);

  g_assert_true (mcr_tls_policy_add_pinned_hash (policy, fx->a.sha384));
  g_assert_null (try_server (&fx->a, policy));
  g_assert_true (mcr_tls_policy_accepted_before (policy, "127.0.0.1", chain_a));
  g_assert_null (try_server (&fx->a, policy));

  /* Another certificate for the same host: checked, and refused. */
  assert_refused (try_server (&fx->b, policy));
  g_assert_false (mcr_tls_policy_accepted_before (policy, "127.0.0.1", chain_b));

  /* Pinned as well: in, and both are remembered. */
  g_assert_true (mcr_tls_policy_add_pinned_hash (policy, fx->b.sha384));
  g_assert_null (try_server (&fx->b, policy));
  g_assert_true (mcr_tls_policy_accepted_before (policy, "127.0.0.1", chain_b));
  g_assert_true (mcr_tls_policy_accepted_before (policy, "127.0.0.1", chain_a));
  g_assert_null (try_server (&fx->a, policy));
}

/* What -ignorecert let in is not let in from memory once it is off. */
static void
test_ignore_cert_forgotten (Fixture       *fx,
                            gconstpointer  data)
{
  g_autoptr(McrTlsPolicy) policy = mcr_tls_policy_new ();
  g_autoptr(GBytes) chain_b = chain_of (fx->b.certificate);

  g_assert_true (mcr_tls_policy_add_pinned_hash (policy, fx->a.sha384));
  mcr_tls_policy_set_ignore_cert (policy, TRUE);
  g_assert_null (try_server (&fx->b, policy));
  g_assert_true (mcr_tls_policy_accepted_before (policy, "127.0.0.1", chain_b));
  mcr_tls_policy_set_ignore_cert (policy, FALSE);
  assert_refused (try_server (&fx->b, policy));
  g_assert_null (try_server (&fx->a, policy));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tls-stream/memory", test_memory);
  g_test_add ("/tls-stream/refused", Fixture, NULL, fixture_setup, test_refused,
              fixture_teardown);
  g_test_add ("/tls-stream/remembered", Fixture, NULL, fixture_setup, test_remembered,
              fixture_teardown);
  g_test_add ("/tls-stream/ignore-cert-forgotten", Fixture, NULL, fixture_setup,
              test_ignore_cert_forgotten, fixture_teardown);
  return g_test_run ();
}
