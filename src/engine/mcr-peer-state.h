/* mcr-peer-state.h: has a local TCP peer closed its socket, or only shut
 * down its sending half?
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  MCR_PEER_STATE_UNKNOWN, /* not a peer on this host, or the kernel would not say */
  MCR_PEER_STATE_OPEN,    /* its program still holds the socket (a half-close) */
  MCR_PEER_STATE_CLOSED,  /* its program closed the socket or exited */
} McrPeerState;

McrPeerState mcr_peer_state_query (GSocket *socket);

G_END_DECLS
