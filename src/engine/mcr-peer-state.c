/* mcr-peer-state.c: has a local TCP peer closed its socket, or only shut
 * down its sending half?
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Both send the same FIN, and poll() reports the same POLLIN|POLLRDHUP for
 * both; TCP itself only tells them apart once we send (a closed socket
 * answers with RST). But a peer that connected over loopback is a socket of
 * this very kernel, and the kernel's socket diagnostics (NETLINK_SOCK_DIAG,
 * what `ss` reads) show whether a program still owns it: a closed socket is
 * an orphan, with inode 0, until it is gone altogether.
 */
#define G_LOG_DOMAIN "mcr-peer-state"

#include "config.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mcr-peer-state.h"

/* Only a peer on a loopback address is surely ours to find: any other one
 * that is not found may simply live on another host. */
static gboolean
fill_id (struct inet_diag_sockid *id,
         int                     *family,
         const struct sockaddr   *peer,
         const struct sockaddr   *local,
         gboolean                *loopback)
{
  if (peer->sa_family == AF_INET && local->sa_family == AF_INET)
    {
      const struct sockaddr_in *p = (const struct sockaddr_in *) peer;
      const struct sockaddr_in *l = (const struct sockaddr_in *) local;

      *family = AF_INET;
      id->idiag_sport = p->sin_port;
      id->idiag_dport = l->sin_port;
      memcpy (id->idiag_src, &p->sin_addr, 4);
      memcpy (id->idiag_dst, &l->sin_addr, 4);
      *loopback = (ntohl (p->sin_addr.s_addr) >> 24) == 127;
      return TRUE;
    }
  if (peer->sa_family == AF_INET6 && local->sa_family == AF_INET6)
    {
      const struct sockaddr_in6 *p = (const struct sockaddr_in6 *) peer;
      const struct sockaddr_in6 *l = (const struct sockaddr_in6 *) local;

      /* An IPv4 peer of a dual-stack listener: its socket is an IPv4 one. */
      if (IN6_IS_ADDR_V4MAPPED (&p->sin6_addr) && IN6_IS_ADDR_V4MAPPED (&l->sin6_addr))
        {
          struct sockaddr_in p4 = { .sin_family = AF_INET, .sin_port = p->sin6_port };
          struct sockaddr_in l4 = { .sin_family = AF_INET, .sin_port = l->sin6_port };

          memcpy (&p4.sin_addr, &p->sin6_addr.s6_addr[12], 4);
          memcpy (&l4.sin_addr, &l->sin6_addr.s6_addr[12], 4);
          return fill_id (id, family, (struct sockaddr *) &p4, (struct sockaddr *) &l4, loopback);
        }
      *family = AF_INET6;
      id->idiag_sport = p->sin6_port;
      id->idiag_dport = l->sin6_port;
      memcpy (id->idiag_src, &p->sin6_addr, 16);
      memcpy (id->idiag_dst, &l->sin6_addr, 16);
      *loopback = IN6_IS_ADDR_LOOPBACK (&p->sin6_addr);
      return TRUE;
    }
  return FALSE;
}

/* One exact lookup (no dump): the peer's socket has the peer's address as
 * its source and ours as its destination. */
static McrPeerState
ask_kernel (int                            family,
            const struct inet_diag_sockid *id,
            gboolean                       loopback)
{
  struct
  {
    struct nlmsghdr         nlh;
    struct inet_diag_req_v2 req;
  } request = { 0 };
  union
  {
    struct nlmsghdr nlh;
    char            buf[8192];
  } reply;
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  McrPeerState state = MCR_PEER_STATE_UNKNOWN;
  ssize_t n;
  int fd;

  fd = socket (AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0)
    return MCR_PEER_STATE_UNKNOWN;
  request.nlh.nlmsg_len = sizeof request;
  request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.nlh.nlmsg_flags = NLM_F_REQUEST;
  request.req.sdiag_family = (guint8) family;
  request.req.sdiag_protocol = IPPROTO_TCP;
  request.req.idiag_states = ~0u;
  request.req.id = *id;
  request.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  request.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  if (sendto (fd, &request, sizeof request, 0, (struct sockaddr *) &kernel, sizeof kernel) < 0)
    goto out;
  do
    n = recv (fd, &reply, sizeof reply, 0);
  while (n < 0 && errno == EINTR);
  if (n < (ssize_t) sizeof (struct nlmsghdr) || !NLMSG_OK (&reply.nlh, (size_t) n))
    goto out;
  if (reply.nlh.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
      reply.nlh.nlmsg_len >= NLMSG_LENGTH (sizeof (struct inet_diag_msg)))
    {
      const struct inet_diag_msg *msg = NLMSG_DATA (&reply.nlh);

      state = msg->idiag_inode != 0 ? MCR_PEER_STATE_OPEN : MCR_PEER_STATE_CLOSED;
    }
  else if (reply.nlh.nlmsg_type == NLMSG_ERROR &&
           reply.nlh.nlmsg_len >= NLMSG_LENGTH (sizeof (struct nlmsgerr)))
    {
      const struct nlmsgerr *err = NLMSG_DATA (&reply.nlh);

      /* Not found: a loopback peer that is gone altogether (time-wait
       * sockets are still found, with inode 0). */
      if (err->error == -ENOENT && loopback)
        state = MCR_PEER_STATE_CLOSED;
    }
out:
  close (fd);
  return state;
}

/**
 * mcr_peer_state_query:
 * @socket: our end of an accepted TCP connection
 *
 * Returns: whether the program at the other end still holds its socket;
 * %MCR_PEER_STATE_UNKNOWN when the peer is not on this host or the kernel
 * has no socket diagnostics.
 */
McrPeerState
mcr_peer_state_query (GSocket *socket)
{
  struct sockaddr_storage peer, local;
  socklen_t peer_len = sizeof peer, local_len = sizeof local;
  struct inet_diag_sockid id = { 0 };
  gboolean loopback = FALSE;
  int family = 0;
  int fd;

  g_return_val_if_fail (G_IS_SOCKET (socket), MCR_PEER_STATE_UNKNOWN);

  fd = g_socket_get_fd (socket);
  if (getpeername (fd, (struct sockaddr *) &peer, &peer_len) < 0 ||
      getsockname (fd, (struct sockaddr *) &local, &local_len) < 0)
    return MCR_PEER_STATE_UNKNOWN;
  if (!fill_id (&id, &family, (struct sockaddr *) &peer, (struct sockaddr *) &local, &loopback))
    return MCR_PEER_STATE_UNKNOWN;
  return ask_kernel (family, &id, loopback);
}
