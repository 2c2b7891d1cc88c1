/* mcr-websocket-handshake.c: the opening handshake of the WebSocket client:
 * connect (through a proxy), TLS and its certificate decision, the upgrade
 * request and the check of its answer (RFC 6455, 4)
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Once the server switched protocols the connection (mcr-websocket.c)
 * takes over; frames are in mcr-websocket-frame.c.
 */
#define G_LOG_DOMAIN "mcr-websocket"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "mcr-io-source.h"
#include "mcr-tls-stream.h"
#include "mcr-websocket-private.h"

#define WS_GUID                 "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_RESPONSE_HEADERS    (16 * 1024)
#define CONNECT_TIMEOUT_S       30

char *
_mcr_websocket_accept_for_key (const char *key)
{
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_len = sizeof digest;

  g_checksum_update (sha1, (const guchar *) key, -1);
  g_checksum_update (sha1, (const guchar *) WS_GUID, -1);
  g_checksum_get_digest (sha1, digest, &digest_len);
  return g_base64_encode (digest, digest_len);
}

static void
connect_done (McrWebSocket *self,
              GError       *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->connect_task);

  mcr_source_clear (&self->connect_timeout);
  if (self->user_cancellable != NULL)
    {
      g_cancellable_disconnect (self->user_cancellable, self->user_cancel_id);
      self->user_cancel_id = 0;
      g_clear_object (&self->user_cancellable);
    }
  g_clear_pointer (&self->request, g_free);
  g_clear_pointer (&self->resp_buf, g_free);
  self->resp_len = self->resp_cap = 0;

  if (error != NULL)
    {
      if (self->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&error);
          error = g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_TIMEOUT,
                               _("The server did not answer within %d seconds"),
                               CONNECT_TIMEOUT_S);
        }
      _mcr_websocket_drop_stream (self);
      _mcr_websocket_set_state (self, MCR_WEBSOCKET_STATE_CLOSED);
      g_task_return_error (task, error);
      return;
    }

  g_debug ("connected to %s", g_uri_get_path (self->uri));
  _mcr_websocket_set_state (self, MCR_WEBSOCKET_STATE_OPEN);
  /* Bytes that came with the upgrade answer, and then the socket, are read
   * from the main loop: the caller sets its receive function first. */
  _mcr_websocket_start_io (self);
  g_task_return_boolean (task, TRUE);
}

static GError *
check_response (McrWebSocket *self,
                const char   *text,
                gsize         len)
{
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_autofree char *reason = NULL;
  g_autofree char *expected = NULL;
  const char *value;
  SoupHTTPVersion version;
  guint status = 0;

  if (!soup_headers_parse_response (text, (int) len, headers, &version, &status, &reason))
    return g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                _("The server's answer is not HTTP"));
  if (status != 101)
    return g_error_new (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                        _("The server refused the connection (HTTP %u %s)"), status,
                        reason ? reason : "");
  value = soup_message_headers_get_one (headers, "Upgrade");
  if (value == NULL || g_ascii_strcasecmp (value, "websocket") != 0 ||
      !soup_message_headers_header_contains (headers, "Connection", "upgrade"))
    return g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                _("The server did not switch to WebSocket"));
  expected = _mcr_websocket_accept_for_key (self->key);
  value = soup_message_headers_get_one (headers, "Sec-WebSocket-Accept");
  if (g_strcmp0 (value, expected) != 0)
    return g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                _("The server's WebSocket accept key is wrong"));
  if (soup_message_headers_get_one (headers, "Sec-WebSocket-Extensions") != NULL)
    return g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                _("The server chose a WebSocket extension that was not offered"));
  return NULL;
}

static void read_response (McrWebSocket *self);

static void
on_response_read (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  McrWebSocket *self = user_data;
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  const char *end;
  gsize header_len;

  if (n < 0)
    {
      connect_done (self, error);
      return;
    }
  if (n == 0)
    {
      connect_done (self, g_error_new_literal (MCR_WEBSOCKET_ERROR, MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                               _("The server closed the connection before "
                                                 "answering")));
      return;
    }
  self->resp_len += (gsize) n;
  end = g_strstr_len ((const char *) self->resp_buf, (gssize) self->resp_len, "\r\n\r\n");
  if (end == NULL)
    {
      if (self->resp_len >= MAX_RESPONSE_HEADERS)
        connect_done (self, g_error_new_literal (MCR_WEBSOCKET_ERROR,
                                                 MCR_WEBSOCKET_ERROR_HANDSHAKE,
                                                 _("The server's answer is too long")));
      else
        read_response (self);
      return;
    }
  header_len = (gsize) (end + 4 - (const char *) self->resp_buf);
  error = check_response (self, (const char *) self->resp_buf, header_len);
  /* Frames that came with the answer (the server may say "c" at once). */
  if (error == NULL && self->resp_len > header_len)
    {
      self->in_buf = g_malloc (MCR_WEBSOCKET_RECEIVE_BUFFER);
      self->in_pos = 0;
      self->in_len = self->resp_len - header_len;
      memcpy (self->in_buf, self->resp_buf + header_len, self->in_len);
    }
  g_clear_pointer (&self->resp_buf, g_free);
  self->resp_len = self->resp_cap = 0;
  connect_done (self, error);
}

static void
read_response (McrWebSocket *self)
{
  /* A small buffer while waiting: a thousand tunnels may wait at once. */
  if (self->resp_len == self->resp_cap)
    {
      self->resp_cap = self->resp_cap ? MIN (2 * self->resp_cap, MAX_RESPONSE_HEADERS) : 1024;
      self->resp_buf = g_realloc (self->resp_buf, self->resp_cap);
    }
  g_input_stream_read_async (g_io_stream_get_input_stream (self->stream),
                             self->resp_buf + self->resp_len, self->resp_cap - self->resp_len,
                             G_PRIORITY_DEFAULT, self->cancellable, on_response_read, self);
}

static void
on_request_written (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  McrWebSocket *self = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      connect_done (self, error);
      return;
    }
  read_response (self);
}

static char *
build_request (McrWebSocket *self)
{
  g_autofree char *uri_str = g_uri_to_string (self->uri);
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  g_autoptr(GString) req = g_string_new (NULL);
  const char *host = g_uri_get_host (self->uri);
  int port = g_uri_get_port (self->uri);
  gboolean ipv6 = strchr (host, ':') != NULL;
  guint8 nonce[16];

  /* The target exactly as encoded in the URI. */
  g_uri_split (uri_str, G_URI_FLAGS_ENCODED, NULL, NULL, NULL, NULL, &path, &query, NULL, NULL);
  mcr_tls_random (nonce, sizeof nonce);
  g_free (self->key);
  self->key = g_base64_encode (nonce, sizeof nonce);

  g_string_append_printf (req, "GET %s%s%s HTTP/1.1\r\n", (path && *path) ? path : "/",
                          query ? "?" : "", query ? query : "");
  g_string_append_printf (req, "Host: %s%s%s", ipv6 ? "[" : "", host, ipv6 ? "]" : "");
  if (port > 0 && port != (self->tls ? 443 : 80))
    g_string_append_printf (req, ":%d", port);
  g_string_append (req, "\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Version: 13\r\n");
  g_string_append_printf (req, "Sec-WebSocket-Key: %s\r\n", self->key);
  g_string_append_printf (req, "User-Agent: meshcentral-router/%s\r\n", PACKAGE_VERSION);
  for (guint i = 0; i < self->headers->len; i++)
    g_string_append_printf (req, "%s\r\n", (const char *) g_ptr_array_index (self->headers, i));
  g_string_append (req, "\r\n");
  return g_string_free (g_steal_pointer (&req), FALSE);
}

static void
send_request (McrWebSocket *self)
{
  self->request = build_request (self);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (self->stream), self->request,
                                   strlen (self->request), G_PRIORITY_DEFAULT, self->cancellable,
                                   on_request_written, self);
}

static void
on_handshake_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  McrWebSocket *self = user_data;
  GError *error = NULL;

  if (!mcr_tls_stream_handshake_finish (MCR_TLS_STREAM (source), result, &error) ||
      !mcr_tls_policy_check_peer (self->tls_policy, MCR_TLS_STREAM (source),
                                  g_uri_get_host (self->uri), g_uri_get_port (self->uri),
                                  self->cert_func, self->cert_data, &error))
    {
      connect_done (self, error);
      return;
    }
  send_request (self);
}

static void
set_nodelay (GSocketConnection *connection)
{
  GSocket *socket = g_socket_connection_get_socket (connection);

  if (socket != NULL && g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

static void
use_stream (McrWebSocket *self,
            GIOStream    *stream)
{
  g_set_object (&self->stream, stream);
  self->input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (stream));
  self->output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (stream));
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  McrWebSocket *self = user_data;
  GError *error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(McrTlsStream) tls = NULL;

  connection = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (source), result, &error);
  if (connection == NULL)
    {
      connect_done (self, error);
      return;
    }
  set_nodelay (connection);
  if (!self->tls)
    {
      use_stream (self, G_IO_STREAM (connection));
      send_request (self);
      return;
    }

  tls = mcr_tls_stream_new (connection, g_uri_get_host (self->uri), &error);
  if (tls == NULL)
    {
      connect_done (self, error);
      return;
    }
  self->connection = G_IO_STREAM (g_object_ref (connection));
  use_stream (self, G_IO_STREAM (tls));
  mcr_tls_stream_handshake_async (tls, self->cancellable, on_handshake_done, self);
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  McrWebSocket *self = user_data;

  self->timed_out = TRUE;
  g_cancellable_cancel (self->cancellable);
  return G_SOURCE_CONTINUE; /* removed by connect_done() */
}

static void
on_user_cancelled (GCancellable *cancellable,
                   gpointer      user_data)
{
  McrWebSocket *self = user_data;

  g_cancellable_cancel (self->cancellable);
}

void
mcr_websocket_connect_async (McrWebSocket        *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GSocketClient) client = NULL;
  g_autofree char *target = NULL;
  const char *host;

  g_return_if_fail (MCR_IS_WEBSOCKET (self));
  g_return_if_fail (self->state == MCR_WEBSOCKET_STATE_NEW);

  self->connect_task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->connect_task, mcr_websocket_connect_async);
  self->context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      self->user_cancellable = g_object_ref (cancellable);
      self->user_cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_user_cancelled),
                                                    self, NULL);
    }
  _mcr_websocket_set_state (self, MCR_WEBSOCKET_STATE_CONNECTING);
  mcr_source_attach (&self->connect_timeout, g_timeout_source_new_seconds (CONNECT_TIMEOUT_S),
                     self->context, on_connect_timeout, self);

  client = g_socket_client_new ();
  if (self->proxy_resolver != NULL)
    g_socket_client_set_proxy_resolver (client, self->proxy_resolver);
  /* Proxies are chosen by the http(s) address, as for the control channel. */
  host = g_uri_get_host (self->uri);
  target = g_uri_join (G_URI_FLAGS_NONE, self->tls ? "https" : "http", NULL, host,
                       g_uri_get_port (self->uri), "", NULL, NULL);
  g_socket_client_connect_to_uri_async (client, target, self->tls ? 443 : 80, self->cancellable,
                                        on_connected, self);
}

gboolean
mcr_websocket_connect_finish (McrWebSocket  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- what the handshake uses ---- */

void
mcr_websocket_set_proxy_resolver (McrWebSocket   *self,
                                  GProxyResolver *resolver)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  g_set_object (&self->proxy_resolver, resolver);
}

void
mcr_websocket_set_certificate_func (McrWebSocket               *self,
                                    McrWebSocketCertificateFunc func,
                                    gpointer                    user_data,
                                    GDestroyNotify              destroy)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));

  if (self->cert_destroy != NULL)
    self->cert_destroy (self->cert_data);
  self->cert_func = func;
  self->cert_data = user_data;
  self->cert_destroy = destroy;
}

void
mcr_websocket_set_tls_policy (McrWebSocket *self,
                              McrTlsPolicy *policy)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));
  g_return_if_fail (policy == NULL || MCR_IS_TLS_POLICY (policy));

  g_set_object (&self->tls_policy, policy);
}

void
mcr_websocket_add_header (McrWebSocket *self,
                          const char   *name,
                          const char   *value)
{
  g_return_if_fail (MCR_IS_WEBSOCKET (self));
  g_return_if_fail (name != NULL && value != NULL);
  g_return_if_fail (strpbrk (name, "\r\n:") == NULL && strpbrk (value, "\r\n") == NULL);

  g_ptr_array_add (self->headers, g_strdup_printf ("%s: %s", name, value));
}
