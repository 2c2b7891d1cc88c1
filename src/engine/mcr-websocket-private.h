/* mcr-websocket-private.h: WebSocket internals, shared by the connection
 * (mcr-websocket.c), the opening handshake (mcr-websocket-handshake.c) and
 * the tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-websocket-frame.h"
#include "mcr-websocket.h"

G_BEGIN_DECLS

/* The send queue bound: mcr_websocket_can_send() is FALSE at or above it. */
#define MCR_WEBSOCKET_SEND_QUEUE_MAX  (64 * 1024)
/* The largest frame mcr_websocket_begin_send() offers room for. */
#define MCR_WEBSOCKET_SEND_CHUNK      (32 * 1024)
/* The receive buffer: the most read from the network and not yet handed on. */
#define MCR_WEBSOCKET_RECEIVE_BUFFER  (64 * 1024)

struct _McrWebSocket
{
  GObject                     parent_instance;

  GUri                       *uri;
  gboolean                    tls;
  GProxyResolver             *proxy_resolver;
  McrTlsCertificateFunc       cert_func;
  gpointer                    cert_data;
  GDestroyNotify              cert_destroy;
  McrTlsPolicy               *tls_policy;
  GPtrArray                  *headers;      /* "Name: value" lines */
  gboolean                    binary_stream;
  gsize                       max_message_size;
  McrWebSocketReceiveFunc     receive_func;
  gpointer                    receive_data;
  GDestroyNotify              receive_destroy;

  McrWebSocketState           state;
  GMainContext               *context;

  /* Connecting */
  GTask                      *connect_task;
  GCancellable               *cancellable;
  GCancellable               *user_cancellable;
  gulong                      user_cancel_id;
  GSource                    *connect_timeout;
  gboolean                    timed_out;
  char                       *key;
  char                       *request;
  guint8                     *resp_buf;       /* the upgrade answer */
  gsize                       resp_len;
  gsize                       resp_cap;

  GIOStream                  *stream;
  GIOStream                  *connection;     /* the socket under TLS */
  GPollableInputStream       *input;
  GPollableOutputStream      *output;
  GSource                    *io_source;      /* reading and writing, once open */
  GSocket                    *poll_socket;    /* what io_source polls, if a socket */
  gboolean                    bulk;           /* read moderation on */
  guint                       quiet_turns;
  gint64                      window_start;
  gsize                       window_bytes;
  GSource                    *close_timeout;

  /* Receiving: in_buf[in_pos..in_len) is read but not handed on yet. */
  guint8                     *in_buf;
  gboolean                    in_shared;      /* in_buf is the shared scratch block */
  gsize                       in_pos;
  gsize                       in_len;
  gboolean                    paused;
  gboolean                    input_ended;    /* EOF or an error after in_buf's bytes */
  GError                     *input_error;
  gboolean                    in_payload;     /* inside a data frame's payload */
  guint64                     frame_remaining;
  gboolean                    frame_fin;
  guint8                      message_opcode; /* of the data message in progress, or 0 */
  GByteArray                 *message;        /* a whole message being put together */
  gboolean                    message_ready;

  /* Sending: out_buf[out_pos..out_len) is framed and not written yet. */
  guint8                     *out_buf;
  gboolean                    out_shared;     /* begin_send() lent the shared block */
  gsize                       out_cap;
  gsize                       out_pos;
  gsize                       out_len;
  gboolean                    want_writable;

  gboolean                    close_sent;
  gboolean                    close_received;
  gushort                     close_code;
  char                       *close_reason;
  GError                     *error;
  guint64                     bytes_sent;
  guint64                     bytes_received;
};

/* For tests: whether to trust a certificate that does not validate against
 * the system trust (@errors is not 0), when no McrTlsPolicy is set (a
 * policy wins over it). */
typedef McrTlsCertificateFunc McrWebSocketCertificateFunc;

void  mcr_websocket_set_certificate_func (McrWebSocket               *self,
                                          McrWebSocketCertificateFunc func,
                                          gpointer                    user_data,
                                          GDestroyNotify              destroy);

/* The Sec-WebSocket-Accept value for @key (RFC 6455, 4.2.2). */
char *_mcr_websocket_accept_for_key      (const char                 *key);

/* The connection's side, for the handshake. */
void  _mcr_websocket_set_state           (McrWebSocket               *self,
                                          McrWebSocketState           state);
/* Drops the stream and every buffer. */
void  _mcr_websocket_drop_stream         (McrWebSocket               *self);
/* The upgrade is done: one I/O source for the life of the connection. */
void  _mcr_websocket_start_io            (McrWebSocket               *self);

/* The connection's side, for the receive path (mcr-websocket-receive.c). */
void  _mcr_websocket_queue_frame         (McrWebSocket               *self,
                                          guint8                      opcode,
                                          const void                 *data,
                                          gsize                       len);
void  _mcr_websocket_flush_output        (McrWebSocket               *self);
void  _mcr_websocket_send_close_frame    (McrWebSocket               *self,
                                          gushort                     code,
                                          const char                 *reason);
/* The end, once: after a close handshake (@error NULL) or a failure. */
void  _mcr_websocket_finish              (McrWebSocket               *self,
                                          GError                     *error);
void  _mcr_websocket_maybe_finish_close  (McrWebSocket               *self);
void  _mcr_websocket_update_events       (McrWebSocket               *self,
                                          GIOCondition                add,
                                          GIOCondition                remove);
/* Hands on what in_buf holds, as far as the receiver takes it. */
void  _mcr_websocket_process_input       (McrWebSocket               *self);

static inline gboolean
_mcr_websocket_can_read (McrWebSocket *self)
{
  return self->input != NULL && !self->close_received &&
         (self->state == MCR_WEBSOCKET_STATE_OPEN || self->state == MCR_WEBSOCKET_STATE_CLOSING);
}

G_END_DECLS
