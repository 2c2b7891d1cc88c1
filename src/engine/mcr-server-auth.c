/* mcr-server-auth.c: McrServer's secrets and how they go to the server
 *
 * Everything that holds a password, a second-factor code or a cookie is
 * here: the credentials of a login, the x-meshauth header of a password
 * login (base64 of user, password and an optional third part: a code, a
 * request to send one, or "cookie=" and a remembered-2FA cookie), the auth=
 * parameter of a cookie login, and the remembered-2FA cookie the server
 * hands out. Secrets are wiped (mcr-secret.h) when they are dropped, and
 * never logged.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-server"

#include "config.h"

#include <string.h>

#include "mcr-secret.h"
#include "mcr-server-private.h"
#include "mcr-string-field.h"

/* ---- credentials ---- */

static char *
dup_nonempty (const char *s)
{
  return s != NULL && *s != '\0' ? g_strdup (s) : NULL;
}

void
_mcr_server_credentials_clear (McrServerCredentials *c)
{
  g_clear_pointer (&c->user, g_free);
  mcr_clear_secret (&c->password);
  mcr_clear_secret (&c->token);
  mcr_clear_secret (&c->twofa_cookie);
  mcr_clear_secret (&c->auth_cookie);
  c->remember_device = FALSE;
}

void
_mcr_server_credentials_set (McrServerCredentials *c,
                             const McrCredentials *from)
{
  _mcr_server_credentials_clear (c);
  c->user = dup_nonempty (from->user);
  c->password = g_strdup (from->password);
  c->token = dup_nonempty (from->token);
  c->twofa_cookie = dup_nonempty (from->twofa_cookie);
  c->auth_cookie = dup_nonempty (from->auth_cookie);
  c->remember_device = from->remember_device;
}

/* ---- x-meshauth ---- */

static char *
encode_meshauth (const char *user,
                 const char *password,
                 const char *third)
{
  g_autoptr(McrSecret) u = g_base64_encode ((const guchar *) user, strlen (user));
  g_autoptr(McrSecret) p = g_base64_encode ((const guchar *) password, strlen (password));
  g_autoptr(McrSecret) t = NULL;

  if (third == NULL)
    return g_strdup_printf ("%s,%s", u, p);
  t = g_base64_encode ((const guchar *) third, strlen (third));
  return g_strdup_printf ("%s,%s,%s", u, p, t);
}

static gboolean
is_send_request (const char *token)
{
  return g_strcmp0 (token, "**email**") == 0 || g_strcmp0 (token, "**sms**") == 0 ||
         g_strcmp0 (token, "**msg**") == 0;
}

/* The x-meshauth header for a password login, and what its third part is. */
static char *
password_auth_header (McrServer *self)
{
  g_autoptr(McrSecret) cookie = NULL;
  const char *third = NULL;

  self->third = THIRD_NONE;
  if (self->login_task != NULL && self->creds.token != NULL)
    {
      third = self->creds.token;
      self->third = is_send_request (third) ? THIRD_SEND_REQUEST : THIRD_CODE;
    }
  else if (self->session_twofa_cookie != NULL || self->creds.twofa_cookie != NULL)
    {
      cookie = g_strconcat ("cookie=", self->session_twofa_cookie ? self->session_twofa_cookie
                                                                  : self->creds.twofa_cookie,
                            NULL);
      third = cookie;
      self->third = THIRD_COOKIE;
    }
  else if (self->creds.token != NULL && !is_send_request (self->creds.token))
    {
      third = self->creds.token;
      self->third = THIRD_CODE;
    }

  return encode_meshauth (self->creds.user ? self->creds.user : "",
                          self->creds.password ? self->creds.password : "", third);
}

void
_mcr_server_set_password_auth (McrServer   *self,
                               SoupMessage *msg)
{
  g_autoptr(McrSecret) header = password_auth_header (self);

  soup_message_headers_replace (soup_message_get_request_headers (msg), "x-meshauth", header);
}

/* ---- cookie login ---- */

void
_mcr_server_append_cookie_auth (McrServer *self,
                                GString   *query)
{
  /* Reconnect with the latest cookie from the server: the one of the
   * mcrouter:// link is valid for an hour only. */
  const char *cookie = self->logged_in && self->auth_cookie ? self->auth_cookie
                                                            : self->creds.auth_cookie;

  mcr_server_address_append_param (query, "auth", cookie);
  self->third = THIRD_NONE;
}

/* ---- the remembered-2FA cookie ---- */

void
_mcr_server_take_twofa_cookie (McrServer  *self,
                               const char *cookie)
{
  mcr_set_string (&self->session_twofa_cookie, cookie);
  if (self->creds.remember_device && mcr_set_string (&self->twofa_cookie, cookie))
    _mcr_server_notify (self, PROP_TWOFA_COOKIE);
}

void
_mcr_server_forget_twofa_cookie (McrServer *self)
{
  if (self->twofa_cookie == NULL)
    return;
  mcr_clear_secret (&self->twofa_cookie);
  _mcr_server_notify (self, PROP_TWOFA_COOKIE);
}

/* ---- the end of a session ---- */

void
_mcr_server_clear_session_cookies (McrServer *self)
{
  mcr_clear_secret (&self->session_twofa_cookie);
  mcr_clear_secret (&self->auth_cookie);
  mcr_clear_secret (&self->login_cookie);
}
