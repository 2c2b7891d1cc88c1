/* mcr-server-errors.c: why a connection or a login to a server failed
 *
 * The GErrors of McrServer: what the server said when it refused a login
 * (its "close" message), what a failed TCP/TLS/WebSocket connect means to a
 * user, and which of them end a session for good instead of being retried.
 * The certificate the server showed is recorded here too, since the
 * "untrusted certificate" error names it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mcr-json-private.h"
#include "mcr-server-private.h"

G_DEFINE_QUARK (mcr-server-error-quark, mcr_server_error)

/* ---- which errors end a session ---- */

gboolean
_mcr_server_error_is_definitive (const GError *error)
{
  if (error == NULL || error->domain != MCR_SERVER_ERROR)
    return FALSE;
  switch (error->code)
    {
    case MCR_SERVER_ERROR_BAD_CREDENTIALS:
    case MCR_SERVER_ERROR_TOKEN_REQUIRED:
    case MCR_SERVER_ERROR_BAD_TOKEN:
    case MCR_SERVER_ERROR_NO_TOOLS:
    case MCR_SERVER_ERROR_EMAIL_NOT_VERIFIED:
    case MCR_SERVER_ERROR_2FA_SETUP_REQUIRED:
    case MCR_SERVER_ERROR_UNTRUSTED_CERT:
    case MCR_SERVER_ERROR_REFUSED:
    case MCR_SERVER_ERROR_CANCELLED:
      return TRUE;
    default:
      return FALSE;
    }
}

/* ---- the server refused the login ---- */

static void
fill_token_request (McrServer  *self,
                    JsonObject *msg)
{
  gint64 days = 0;

  self->token_request.email = mcr_json_get_truthy (msg, "email2fa");
  self->token_request.sms = mcr_json_get_truthy (msg, "sms2fa");
  self->token_request.messenger = mcr_json_get_truthy (msg, "msg2fa");
  self->token_request.email_sent = mcr_json_get_truthy (msg, "email2fasent");
  self->token_request.sms_sent = mcr_json_get_truthy (msg, "sms2fasent");
  self->token_request.messenger_sent = mcr_json_get_truthy (msg, "msg2fasent");
  if (mcr_json_get_int (msg, "twoFactorCookieDays", &days) && days > 0)
    self->token_request.cookie_days = (guint) MIN (days, 3650);
  else
    self->token_request.cookie_days = 0;
}

GError *
_mcr_server_error_from_close (McrServer  *self,
                              JsonObject *msg)
{
  const char *m = mcr_json_get_string (msg, "msg");
  const char *cause = mcr_json_get_string (msg, "cause");

  if (m == NULL)
    m = "";
  if (cause == NULL)
    cause = "";

  if (g_str_equal (m, "tokenrequired"))
    {
      fill_token_request (self, msg);
      if (self->third == THIRD_CODE)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_TOKEN,
                            _("%s did not accept the second-factor code"), self->name);
      if (self->token_request.email_sent)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED,
                            _("%s sent a code by email: enter it to log in"), self->name);
      if (self->token_request.sms_sent)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED,
                            _("%s sent a code by SMS: enter it to log in"), self->name);
      if (self->token_request.messenger_sent)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED,
                            _("%s sent a code by messenger: enter it to log in"),
                            self->name);
      return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED,
                          _("%s requires a second-factor code for this account"),
                          self->name);
    }
  if (g_str_equal (m, "notools") || g_str_equal (cause, "notools"))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_NO_TOOLS,
                        _("This account may not use tools such as MeshCentral Router on %s"),
                        self->name);
  if (g_str_has_prefix (m, "emailvalidation") || g_str_equal (cause, "emailvalidation"))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_EMAIL_NOT_VERIFIED,
                        _("The email address of this account is not verified yet: verify it "
                          "in the web interface of %s first"), self->name);
  if (g_str_has_prefix (m, "2fasetuprequired"))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_2FA_SETUP_REQUIRED,
                        _("%s requires two-factor authentication, and this account has none "
                          "set up: set it up in the web interface first"), self->name);
  if (g_str_has_prefix (m, "noauth") || g_str_equal (cause, "noauth"))
    {
      if (self->creds.auth_cookie != NULL)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_CREDENTIALS,
                            _("The login link for %s has expired or is not valid: open a new "
                              "one from the web interface"), self->name);
      return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_CREDENTIALS,
                          _("Invalid user name or password for %s"), self->name);
    }
  if (g_str_has_prefix (m, "banned") || g_str_equal (cause, "banned"))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_REFUSED,
                        _("%s does not accept connections from this address"),
                        self->name);
  return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_REFUSED,
                      _("%s refused the login (%s)"), self->name,
                      *m ? m : (*cause ? cause : _("no reason given")));
}

/* ---- certificates ---- */

void
_mcr_server_record_peer_certificate (McrServer       *self,
                                     GTlsCertificate *certificate)
{
  g_autoptr(GError) error = NULL;
  McrCertInfo *info;

  if (certificate == NULL)
    return;
  info = mcr_cert_info_new (certificate, &error);
  if (info == NULL)
    {
      g_debug ("%s: %s", self->name, error->message);
      return;
    }
  if (self->peer_cert_info != NULL && g_strcmp0 (self->peer_cert_info->sha384, info->sha384) == 0)
    {
      mcr_cert_info_free (info);
      return;
    }
  g_clear_pointer (&self->peer_cert_info, mcr_cert_info_free);
  self->peer_cert_info = info;
  _mcr_server_notify (self, PROP_PEER_CERT_INFO);
}

/* Only called when the system does not trust the certificate. */
gboolean
_mcr_server_accept_certificate (SoupMessage         *msg,
                                GTlsCertificate     *certificate,
                                GTlsCertificateFlags errors,
                                gpointer             user_data)
{
  McrServer *self = user_data;
  gboolean accepted;

  _mcr_server_record_peer_certificate (self, certificate);
  accepted = mcr_tls_policy_accepts (self->tls_policy, certificate, errors);
  g_debug ("%s: certificate not trusted by the system (flags 0x%x): %s", self->name,
           errors, accepted ? "accepted by policy" : "refused");
  if (!accepted)
    self->cert_refused = TRUE;
  return accepted;
}

static GError *
untrusted_certificate_error (McrServer *self)
{
  const McrCertInfo *info = self->peer_cert_info;

  if (info == NULL)
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT,
                        _("The certificate of %s is not trusted"), self->name);
  return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT,
                      _("The certificate of %s is not trusted (issued to “%s” by “%s”). Its "
                        "SHA-384 fingerprint is %s: accept it only if it is the one of your "
                        "server."),
                      self->name, info->subject, info->issuer, info->sha384);
}

/* ---- the connection failed ---- */

GError *
_mcr_server_error_from_connect (McrServer    *self,
                                const GError *error,
                                SoupMessage  *msg)
{
  if (self->cert_refused)
    return untrusted_certificate_error (self);

  if (error->domain == G_RESOLVER_ERROR ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                        _("The server name “%s” cannot be found"), self->address->host);
  if (self->proxy_resolver != NULL &&
      (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
       g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
       g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE)))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                        _("The proxy for %s cannot be reached: %s"), self->name,
                        error->message);
  if (error->domain == G_IO_ERROR)
    switch (error->code)
      {
      case G_IO_ERROR_CANCELLED:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED,
                            _("The connection to %s was cancelled"), self->name);
      case G_IO_ERROR_CONNECTION_REFUSED:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                            _("%s refused the connection: is the server running on port %u?"),
                            self->name, self->address->port);
      case G_IO_ERROR_TIMED_OUT:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TIMEOUT,
                            _("%s did not answer in time"), self->name);
      case G_IO_ERROR_HOST_UNREACHABLE:
      case G_IO_ERROR_NETWORK_UNREACHABLE:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                            _("%s cannot be reached: %s"), self->name, error->message);
      case G_IO_ERROR_PROXY_FAILED:
      case G_IO_ERROR_PROXY_AUTH_FAILED:
      case G_IO_ERROR_PROXY_NEED_AUTH:
      case G_IO_ERROR_PROXY_NOT_ALLOWED:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                            _("The proxy did not connect to %s: %s"), self->name,
                            error->message);
      default:
        break;
      }
  if (error->domain == G_TLS_ERROR)
    {
      if (error->code == G_TLS_ERROR_BAD_CERTIFICATE)
        return untrusted_certificate_error (self);
      /* Whatever answered does not speak TLS as a MeshCentral server does
       * (an HTTP server on that port answers "unexpected TLS packet"). */
      return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_NOT_MESHCENTRAL,
                          _("No secure connection to %s (%s): is it a MeshCentral server, "
                            "and is the port right?"), self->name, error->message);
    }
  if (error->domain == SOUP_WEBSOCKET_ERROR)
    {
      guint status = msg ? soup_message_get_status (msg) : 0;

      if (status == SOUP_STATUS_PROXY_AUTHENTICATION_REQUIRED)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                            _("The proxy asks for a password to reach %s"), self->name);
      if (status != 0)
        {
          const char *reason = soup_message_get_reason_phrase (msg);

          return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_NOT_MESHCENTRAL,
                              _("%s answered, but not as a MeshCentral server (HTTP %u %s): "
                                "check the address and the domain"),
                              self->name, status, reason ? reason : "");
        }
      return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_NOT_MESHCENTRAL,
                          _("%s answered, but not as a MeshCentral server: %s"),
                          self->name, error->message);
    }
  return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                      _("No connection to %s: %s"), self->name, error->message);
}
