/* mcr-websocket-private.h: WebSocket internals shared with the tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-websocket.h"

G_BEGIN_DECLS

/* The send queue bound: mcr_websocket_can_send() is FALSE at or above it. */
#define MCR_WEBSOCKET_SEND_QUEUE_MAX  (64 * 1024)
/* The largest frame mcr_websocket_begin_send() offers room for. */
#define MCR_WEBSOCKET_SEND_CHUNK      (32 * 1024)
/* The receive buffer: the most read from the network and not yet handed on. */
#define MCR_WEBSOCKET_RECEIVE_BUFFER  (64 * 1024)

/* XORs @data with the 4-byte @key, the key starting at data[0]. */
void  _mcr_websocket_mask          (guint8       *data,
                                    gsize         len,
                                    const guint8  key[4]);
/* The Sec-WebSocket-Accept value for @key (RFC 6455, 4.2.2). */
char *_mcr_websocket_accept_for_key (const char  *key);

G_END_DECLS
