/* SPDX-License-Identifier: Apache-2.0
 *
 * mcr_peer_state_query(): a local peer that close()d is told apart from
 * one that only shut down its sending half, over IPv4 and over a
 * dual-stack IPv6 listener that an IPv4 client reached. */
#include <gio/gio.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mcr-peer-state.h"

/* A connected pair: @client (a plain fd) and our accepted GSocket. */
static GSocket *
accepted_pair (GSocketFamily family,
               int          *client)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) listener = g_socket_new (family, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) any = NULL;
  g_autoptr(GSocketAddress) want = NULL;
  g_autoptr(GSocketAddress) got = NULL;
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  GSocket *accepted;

  if (listener == NULL)
    return NULL;
  any = family == G_SOCKET_FAMILY_IPV6 ? g_inet_address_new_any (family)
                                        : g_inet_address_new_loopback (family);
  want = g_inet_socket_address_new (any, 0);
  if (!g_socket_bind (listener, want, TRUE, NULL) || !g_socket_listen (listener, NULL))
    return NULL;
  got = g_socket_get_local_address (listener, &error);
  g_assert_no_error (error);
  to.sin_port = htons (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got)));
  *client = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (connect (*client, (struct sockaddr *) &to, sizeof to), ==, 0);
  accepted = g_socket_accept (listener, NULL, &error);
  g_assert_no_error (error);
  return accepted;
}

static void
check_family (GSocketFamily family)
{
  int a, b;
  g_autoptr(GSocket) ours_a = accepted_pair (family, &a);
  g_autoptr(GSocket) ours_b = NULL;

  if (ours_a == NULL)
    {
      g_test_skip ("no such socket family here");
      return;
    }
  ours_b = accepted_pair (family, &b);
  g_assert_cmpint (mcr_peer_state_query (ours_a), ==, MCR_PEER_STATE_OPEN);
  close (a);
  if (mcr_peer_state_query (ours_a) == MCR_PEER_STATE_UNKNOWN)
    {
      close (b);
      g_test_skip ("no socket diagnostics (NETLINK_SOCK_DIAG) here");
      return;
    }
  g_assert_cmpint (mcr_peer_state_query (ours_a), ==, MCR_PEER_STATE_CLOSED);

  g_assert_cmpint (shutdown (b, SHUT_WR), ==, 0);
  g_assert_cmpint (mcr_peer_state_query (ours_b), ==, MCR_PEER_STATE_OPEN);
  close (b);
  g_assert_cmpint (mcr_peer_state_query (ours_b), ==, MCR_PEER_STATE_CLOSED);
}

static void
test_ipv4 (void)
{
  check_family (G_SOCKET_FAMILY_IPV4);
}

static void
test_dual_stack (void)
{
  check_family (G_SOCKET_FAMILY_IPV6);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/peer-state/ipv4", test_ipv4);
  g_test_add_func ("/peer-state/dual-stack", test_dual_stack);
  return g_test_run ();
}
