/* SPDX-License-Identifier: Apache-2.0
 *
 * A port range (-map:TCP:A-B:DEVICE::C-D) through the real relay and the
 * real agent: 11 maps, one listener each, and on the far side 11 echo
 * listeners on consecutive ports of 127.0.0.1; bytes pass on every port. A
 * range over the limit is refused by name. */
#include <string.h>

#include "login-helpers.h"
#include "mcr-map-range.h"
#include "mcr-options.h"
#include "mcr-port-map.h"
#include "relay-test-util.h"

#define N_PORTS 11

static void
spliced (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GSocketConnection) connection = user_data;

  g_output_stream_splice_finish (G_OUTPUT_STREAM (source), result, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
}

/* Echo: what comes in goes back out, until EOF. */
static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           data)
{
  g_output_stream_splice_async (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                G_OUTPUT_STREAM_SPLICE_NONE, G_PRIORITY_DEFAULT, NULL,
                                spliced, g_object_ref (connection));
  return TRUE;
}

/* @n consecutive ports on 127.0.0.1 that @listener (if not NULL) now
 * listens on, or that were free a moment ago; the first of them. */
static guint16
consecutive_ports (GSocketListener *listener,
                   guint            n)
{
  for (guint attempt = 0; attempt < 200; attempt++)
    {
      guint16 base = g_random_int_range (20000, 60000 - n);
      g_autoptr(GSocketListener) probe = g_socket_listener_new ();
      GSocketListener *target = listener != NULL ? listener : probe;
      gboolean ok = TRUE;

      for (guint i = 0; i < n && ok; i++)
        {
          g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
          g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, base + i);

          ok = g_socket_listener_add_address (target, address, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, NULL, NULL, NULL);
        }
      if (ok)
        {
          g_socket_listener_close (probe);
          return base;
        }
      g_socket_listener_close (target);
    }
  g_error ("found no %u consecutive free ports", n);
  return 0;
}

static void
test_range_echoes (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = test_server_logged_in (tb, 30000);
  g_autoptr(GSocketService) echo = g_socket_service_new ();
  guint16 remote = consecutive_ports (G_SOCKET_LISTENER (echo), N_PORTS);
  guint16 local = consecutive_ports (NULL, N_PORTS);
  g_autofree char *map = g_strdup_printf ("-map:TCP:%u-%u:%s::%u-%u", local,
                                          local + N_PORTS - 1, tb->node_id, remote,
                                          remote + N_PORTS - 1);
  char *argv[] = { "meshcentral-router", map, NULL };
  g_autoptr(McrOptions) options = NULL;
  g_autoptr(GPtrArray) maps = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  g_signal_connect (echo, "incoming", G_CALLBACK (on_incoming), NULL);
  g_socket_service_start (echo);
  g_test_message ("%s", map);

  /* As the command line reads it: one map per port. */
  options = mcr_options_parse (G_N_ELEMENTS (argv) - 1, argv, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (options->maps->len, ==, N_PORTS);
  for (guint i = 0; i < N_PORTS; i++)
    {
      McrPortMap *port_map = mcr_port_map_new (server, g_ptr_array_index (options->maps, i));

      g_ptr_array_add (maps, port_map);
      g_assert_true (mcr_port_map_start (port_map, FALSE, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (mcr_port_map_get_local_port (port_map), ==, local + i);
      g_assert_cmpuint (mcr_port_map_get_spec (port_map)->remote_port, ==, remote + i);
    }
  for (guint i = 0; i < N_PORTS; i++)
    {
      McrPortMap *port_map = g_ptr_array_index (maps, i);

      g_assert_true (test_map_wait_state (port_map, MCR_PORT_MAP_STATE_LISTENING, 30000));
      test_peer_assert_echo (local + i, 64 * 1024, i + 1);
    }
  for (guint i = 0; i < N_PORTS; i++)
    mcr_port_map_stop (g_ptr_array_index (maps, i));
  g_socket_service_stop (echo);
  g_socket_listener_close (G_SOCKET_LISTENER (echo));
}

static void
test_over_limit (void)
{
  char *argv[] = { "meshcentral-router", "-map:TCP:20000-20300:PC::20000-20300", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(McrOptions) options = mcr_options_parse (G_N_ELEMENTS (argv) - 1, argv, &error);

  g_assert_null (options);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "-map:TCP:20000-20300:PC::20000-20300"));
  g_assert_nonnull (strstr (error->message, "at most 256"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();
  g_test_add_func ("/port-range/over-limit", test_over_limit);
  g_test_add_func ("/port-range/eleven-ports-echo", test_range_echoes);
  return g_test_run ();
}
