/* mcr-websocket.h: a small RFC 6455 WebSocket client with real backpressure,
 * for tunnels
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-tls-policy.h"

G_BEGIN_DECLS

#define MCR_WEBSOCKET_ERROR (mcr_websocket_error_quark ())

typedef enum /*< underscore_name=mcr_websocket_error_code >*/
{
  MCR_WEBSOCKET_ERROR_HANDSHAKE, /* the server did not accept the upgrade */
  MCR_WEBSOCKET_ERROR_PROTOCOL,  /* the peer broke RFC 6455 */
  MCR_WEBSOCKET_ERROR_TOO_BIG,   /* a message over the size limit */
  MCR_WEBSOCKET_ERROR_CLOSED,    /* the connection ended without a close frame */
  MCR_WEBSOCKET_ERROR_TIMEOUT,   /* no upgrade, or no close reply, in time */
} McrWebSocketErrorCode;

typedef enum /*< underscore_name=mcr_websocket_state >*/
{
  MCR_WEBSOCKET_STATE_NEW,
  MCR_WEBSOCKET_STATE_CONNECTING,
  MCR_WEBSOCKET_STATE_OPEN,
  MCR_WEBSOCKET_STATE_CLOSING,   /* a close frame went out or came in */
  MCR_WEBSOCKET_STATE_CLOSED,
} McrWebSocketState;

/* Opcodes of data messages. */
typedef enum /*< underscore_name=mcr_websocket_data_type >*/
{
  MCR_WEBSOCKET_TEXT   = 1,
  MCR_WEBSOCKET_BINARY = 2,
} McrWebSocketDataType;

/* Close codes we send or look at (RFC 6455, 7.4.1). */
#define MCR_WEBSOCKET_CLOSE_NORMAL         1000
#define MCR_WEBSOCKET_CLOSE_GOING_AWAY     1001
#define MCR_WEBSOCKET_CLOSE_PROTOCOL_ERROR 1002
#define MCR_WEBSOCKET_CLOSE_NO_STATUS      1005
#define MCR_WEBSOCKET_CLOSE_ABNORMAL       1006
#define MCR_WEBSOCKET_CLOSE_BAD_DATA       1007
#define MCR_WEBSOCKET_CLOSE_TOO_BIG        1009

/* All WebSockets live on one thread, the main loop's: they share scratch
 * blocks for reading and framing. */
#define MCR_TYPE_WEBSOCKET (mcr_websocket_get_type ())
G_DECLARE_FINAL_TYPE (McrWebSocket, mcr_websocket, MCR, WEBSOCKET, GObject)

/* Hands received data on. Text messages, and binary messages in message mode,
 * come whole (@end is TRUE). In stream mode binary messages form one byte
 * stream that comes in pieces as it arrives; a piece may span several
 * messages, and @end is TRUE when it ends where a message ends. Returns how many bytes were
 * taken: fewer than @len pauses receiving (nothing more is read from the
 * network) until mcr_websocket_resume_receive(), which offers the rest again.
 * Whole messages are taken all (@len) or not at all (0). */
typedef gsize (*McrWebSocketReceiveFunc) (McrWebSocket        *self,
                                          McrWebSocketDataType type,
                                          const guint8        *data,
                                          gsize                len,
                                          gboolean             end,
                                          gpointer             user_data);

GQuark             mcr_websocket_error_quark            (void);

/* @uri: ws:// or wss://. It may carry secrets in its query: it is never
 * logged. */
McrWebSocket      *mcr_websocket_new                    (GUri                       *uri);
void               mcr_websocket_set_proxy_resolver     (McrWebSocket               *self,
                                                         GProxyResolver             *resolver);
/* Certificates that do not validate against the system trust are taken
 * or refused by @policy. A chain
 * @policy accepted for this host before is accepted again from its bytes,
 * without a second check. */
void               mcr_websocket_set_tls_policy         (McrWebSocket               *self,
                                                         McrTlsPolicy               *policy);
/* An extra header on the upgrade request. */
void               mcr_websocket_add_header             (McrWebSocket               *self,
                                                         const char                 *name,
                                                         const char                 *value);
/* Binary data in stream mode (the default) or as whole messages. */
void               mcr_websocket_set_binary_stream      (McrWebSocket               *self,
                                                         gboolean                    stream);
/* Largest whole message accepted (default 256 KiB); larger ones close the
 * connection with 1009. */
void               mcr_websocket_set_max_message_size   (McrWebSocket               *self,
                                                         gsize                       size);
void               mcr_websocket_set_receive_func       (McrWebSocket               *self,
                                                         McrWebSocketReceiveFunc     func,
                                                         gpointer                    user_data,
                                                         GDestroyNotify              destroy);

void               mcr_websocket_connect_async          (McrWebSocket               *self,
                                                         GCancellable               *cancellable,
                                                         GAsyncReadyCallback         callback,
                                                         gpointer                    user_data);
gboolean           mcr_websocket_connect_finish         (McrWebSocket               *self,
                                                         GAsyncResult               *result,
                                                         GError                    **error);

void               mcr_websocket_resume_receive         (McrWebSocket               *self);

/* Sending. Every frame is queued and written as fast as the connection
 * takes it. Callers keep memory bounded by sending only while
 * mcr_websocket_can_send() is TRUE; when it was FALSE, "writable" is emitted
 * once the queue has drained below half its bound. */
gboolean           mcr_websocket_can_send               (McrWebSocket               *self);
gsize              mcr_websocket_get_send_queue_size    (McrWebSocket               *self);
void               mcr_websocket_send                   (McrWebSocket               *self,
                                                         McrWebSocketDataType        type,
                                                         const void                 *data,
                                                         gsize                       len);
/* The copy-free way to send: read straight into the returned space (up to
 * *@max_len bytes), then mcr_websocket_end_send() with the count, which frames
 * and masks it in place; with 0 when nothing was read, so that an empty
 * queue gives its memory back. Only while mcr_websocket_can_send() is TRUE. */
guint8            *mcr_websocket_begin_send             (McrWebSocket               *self,
                                                         gsize                      *max_len);
void               mcr_websocket_end_send               (McrWebSocket               *self,
                                                         McrWebSocketDataType        type,
                                                         gsize                       len);

/* Sends a close frame after what is queued, and closes the connection once
 * the server replies (or after a few seconds). Before the upgrade is done it
 * cancels the connection attempt. */
void               mcr_websocket_close                  (McrWebSocket               *self,
                                                         gushort                     code,
                                                         const char                 *reason);

/* Drops the connection at once, with whatever is queued: for when the other
 * end of a tunnel is gone and nothing queued matters any more. "closed"
 * follows. */
void               mcr_websocket_abort                  (McrWebSocket               *self);

/* Properties: "state" (notifies). Signals: "writable", "closed" (once, when
 * an open connection ends; a failed connect_async() reports its error
 * instead). */
McrWebSocketState  mcr_websocket_get_state              (McrWebSocket               *self);
/* The peer's close code, MCR_WEBSOCKET_CLOSE_NO_STATUS when its close frame had
 * none, MCR_WEBSOCKET_CLOSE_ABNORMAL when there was no close frame; 0 before. */
gushort            mcr_websocket_get_close_code         (McrWebSocket               *self);
const char        *mcr_websocket_get_close_reason       (McrWebSocket               *self);
/* Why it closed, when it was not a clean close handshake. */
const GError      *mcr_websocket_get_error              (McrWebSocket               *self);
/* Payload bytes moved, without framing. */
guint64            mcr_websocket_get_bytes_sent         (McrWebSocket               *self);
guint64            mcr_websocket_get_bytes_received     (McrWebSocket               *self);

G_END_DECLS
