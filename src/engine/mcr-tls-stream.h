/* mcr-tls-stream.h: the TLS client of a tunnel, straight on GnuTLS
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>
#include <gnutls/gnutls.h>

G_BEGIN_DECLS

/* A TLS client connection over a connected socket, for one thread's main
 * loop. Its input and output streams are pollable. It checks no
 * certificate: after the handshake the owner looks at the peer's chain
 * (mcr_tls_stream_get_peer_der(), mcr_tls_stream_get_peer_certificate())
 * and decides, before it sends anything. */
#define MCR_TYPE_TLS_STREAM (mcr_tls_stream_get_type ())
G_DECLARE_FINAL_TYPE (McrTlsStream, mcr_tls_stream, MCR, TLS_STREAM, GIOStream)

/* @server_name: sent as SNI unless it is an IP address */
McrTlsStream    *mcr_tls_stream_new                   (GSocketConnection   *connection,
                                                       const char          *server_name,
                                                       GError             **error);
void             mcr_tls_stream_handshake_async       (McrTlsStream        *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean         mcr_tls_stream_handshake_finish      (McrTlsStream        *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);
/* The peer's certificates as sent (DER, the server's own first), valid
 * while @self lives; NULL if none. */
const gnutls_datum_t *mcr_tls_stream_get_peer_der     (McrTlsStream        *self,
                                                       guint               *n_certs);
/* The peer's chain as a GTlsCertificate of the default backend, issuers
 * linked as glib-networking links them. (transfer full) */
GTlsCertificate *mcr_tls_stream_get_peer_certificate  (McrTlsStream        *self,
                                                       GError             **error);

/* Fills @buf with unpredictable bytes (GnuTLS's nonce generator; GLib's
 * if that fails), e.g. for WebSocket mask keys (RFC 6455, 10.3). */
void             mcr_tls_random                       (guint8              *buf,
                                                       gsize                len);

G_END_DECLS
