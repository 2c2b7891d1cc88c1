/* SPDX-License-Identifier: Apache-2.0
 *
 * --proxy: the control channel goes through an HTTP CONNECT proxy (a small
 * one in-process) to the real testbed, and the proxy saw it; a dead proxy
 * is a clear failure; without --proxy the desktop's resolver is used. */
#include <string.h>

#include "login-helpers.h"

typedef struct
{
  GSocketService *service;
  guint16         port;
  GPtrArray      *targets;   /* "host:port" of every CONNECT */
} Proxy;

typedef struct
{
  Proxy             *proxy;
  GSocketConnection *client;
  GSocketConnection *upstream;
  GString           *header;
  char               buf[1024];
} Tunnel;

static void
tunnel_free (Tunnel *t)
{
  g_clear_object (&t->client);
  g_clear_object (&t->upstream);
  g_string_free (t->header, TRUE);
  g_free (t);
}

static void
on_splice_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_output_stream_splice_finish (G_OUTPUT_STREAM (source), result, NULL);
  g_object_unref (user_data);   /* the GIOStream that was kept alive */
}

static void
splice (GIOStream *from,
        GIOStream *to)
{
  g_output_stream_splice_async (g_io_stream_get_output_stream (to),
                                g_io_stream_get_input_stream (from),
                                G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE |
                                G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                G_PRIORITY_DEFAULT, NULL, on_splice_done, g_object_ref (to));
}

static void
on_upstream (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Tunnel *t = user_data;
  static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  static const char bad[] = "HTTP/1.1 502 Bad Gateway\r\n\r\n";
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (t->client));

  t->upstream = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), result, NULL);
  if (t->upstream == NULL)
    {
      g_output_stream_write_all (out, bad, strlen (bad), NULL, NULL, NULL);
      tunnel_free (t);
      return;
    }
  g_output_stream_write_all (out, ok, strlen (ok), NULL, NULL, NULL);
  splice (G_IO_STREAM (t->client), G_IO_STREAM (t->upstream));
  splice (G_IO_STREAM (t->upstream), G_IO_STREAM (t->client));
  tunnel_free (t);
}

static void
on_header_read (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Tunnel *t = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  g_auto(GStrv) words = NULL;
  g_autoptr(GSocketClient) client = NULL;

  if (n <= 0)
    {
      tunnel_free (t);
      return;
    }
  g_string_append_len (t->header, t->buf, n);
  if (strstr (t->header->str, "\r\n\r\n") == NULL)
    {
      g_input_stream_read_async (G_INPUT_STREAM (source), t->buf, sizeof t->buf,
                                 G_PRIORITY_DEFAULT, NULL, on_header_read, t);
      return;
    }
  words = g_strsplit (t->header->str, " ", 3);
  if (g_strv_length (words) < 3 || !g_str_equal (words[0], "CONNECT"))
    {
      tunnel_free (t);
      return;
    }
  g_ptr_array_add (t->proxy->targets, g_strdup (words[1]));
  client = g_socket_client_new ();
  g_socket_client_connect_to_host_async (client, words[1], 0, NULL, on_upstream, t);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           user_data)
{
  Tunnel *t = g_new0 (Tunnel, 1);

  t->proxy = user_data;
  t->client = g_object_ref (connection);
  t->header = g_string_new (NULL);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (connection)), t->buf,
                             sizeof t->buf, G_PRIORITY_DEFAULT, NULL, on_header_read, t);
  return TRUE;
}

static Proxy *
proxy_start (void)
{
  Proxy *p = g_new0 (Proxy, 1);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) got = NULL;
  g_autoptr(GError) error = NULL;

  p->targets = g_ptr_array_new_with_free_func (g_free);
  p->service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (p->service), want, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &got, &error);
  g_assert_no_error (error);
  p->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
  g_signal_connect (p->service, "incoming", G_CALLBACK (on_incoming), p);
  g_socket_service_start (p->service);
  return p;
}

static void
proxy_stop (Proxy *p)
{
  g_socket_service_stop (p->service);
  g_socket_listener_close (G_SOCKET_LISTENER (p->service));
  g_object_unref (p->service);
  g_ptr_array_unref (p->targets);
  g_free (p);
}

static void
test_explicit_proxy (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(GError) error = NULL;
  g_autofree char *proxy_uri = NULL;
  g_autofree char *target = g_strdup_printf ("127.0.0.1:%u", tb->port);
  g_auto(GStrv) lookup = NULL;
  Proxy *p = proxy_start ();

  proxy_uri = g_strdup_printf ("http://127.0.0.1:%u", p->port);
  mcr_server_set_proxy_uri (server, proxy_uri);

  /* The resolver the relay helper will use says the same. */
  lookup = g_proxy_resolver_lookup (mcr_server_get_proxy_resolver (server),
                                    "https://127.0.0.1/", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lookup[0], ==, proxy_uri);

  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  g_assert_true (test_wait_devices_loaded (server, 30000));
  g_assert_nonnull (mcr_server_lookup_device (server, tb->node_id));
  g_assert_cmpuint (p->targets->len, >=, 1);
  g_assert_cmpstr (g_ptr_array_index (p->targets, 0), ==, target);

  mcr_server_logout (server);
  proxy_stop (p);
}

static void
test_dead_proxy (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_new (tb);
  g_autoptr(GError) error = NULL;
  Proxy *p = proxy_start ();
  g_autofree char *proxy_uri = g_strdup_printf ("http://127.0.0.1:%u", p->port);

  proxy_stop (p);   /* nothing listens there any more */
  mcr_server_set_proxy_uri (server, proxy_uri);
  mcr_server_set_timeout (server, 10);
  g_assert_false (test_login_password (server, tb->user, tb->password, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "proxy"));
}

static void
test_default_resolver (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_new (tb);

  g_assert_true (mcr_server_get_proxy_resolver (server) == g_proxy_resolver_get_default ());
  mcr_server_set_proxy_uri (server, "socks5://127.0.0.1:1080");
  g_assert_false (mcr_server_get_proxy_resolver (server) == g_proxy_resolver_get_default ());
  mcr_server_set_proxy_uri (server, NULL);
  g_assert_true (mcr_server_get_proxy_resolver (server) == g_proxy_resolver_get_default ());
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/proxy/explicit", test_explicit_proxy);
  g_test_add_func ("/proxy/dead", test_dead_proxy);
  g_test_add_func ("/proxy/default-resolver", test_default_resolver);
  return g_test_run ();
}
