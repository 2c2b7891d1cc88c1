/* SPDX-License-Identifier: Apache-2.0
 *
 * A real TOTP second factor. A fresh account (so that the admin stays
 * 2FA-free for the other tests) sets TOTP up through the server's own
 * control channel (otpauth-request / otpauth-setup); then: no code -> token
 * required (with the remember-days offer), a wrong code -> refused, the
 * right code -> in (and a remembered-2FA cookie arrives), the cookie -> in
 * with no code. */
#include <string.h>

#include "login-helpers.h"

static char *user;
static char *password;
static char *secret;

static McrServer *
login_with (const McrCredentials *c,
            McrTokenRequest      *request,
            GError              **error)
{
  McrServer *server = test_server_new (mcr_testbed_get ());

  test_login (server, c, request, error);
  return server;
}

/* Once: the account, with TOTP set up. */
static void
ensure_twofa_user (void)
{
  if (secret != NULL)
    return;
  user = test_add_user ("ctl-twofa", NULL, &password);
  secret = test_setup_totp (user, password);
}

/* The account's user name and password, with @token and @twofa_cookie
 * (either may be NULL). */
static McrServer *
login_twofa_user (const char       *token,
                  const char       *twofa_cookie,
                  McrTokenRequest  *request,
                  GError          **error)
{
  McrCredentials c = { 0 };

  ensure_twofa_user ();
  c.user = user;
  c.password = password;
  c.token = token;
  c.twofa_cookie = twofa_cookie;
  return login_with (&c, request, error);
}

static void
test_token_required (void)
{
  McrTokenRequest request;
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = login_twofa_user (NULL, NULL, &request, &error);

  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED);
  g_test_message ("%s", error->message);
  /* The testbed has no mail, SMS or messenger: no "send me a code". */
  g_assert_false (request.email);
  g_assert_false (request.sms);
  g_assert_false (request.messenger);
  g_assert_false (request.email_sent);
  g_assert_cmpuint (request.cookie_days, ==, 30);
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_FAILED);
}

static void
test_email_code_unavailable (void)
{
  McrTokenRequest request;
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = login_twofa_user ("**email**", NULL, &request, &error);

  /* Asking for an email code where none can be sent is not a wrong code. */
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED);
  g_assert_false (request.email_sent);
}

static void
test_wrong_code (void)
{
  McrTokenRequest request;
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = NULL;
  g_autofree char *code = NULL;

  ensure_twofa_user ();
  /* The code of an hour from now: outside the server's ±1 minute window. */
  code = mcr_test_totp (secret, g_get_real_time () / G_USEC_PER_SEC + 3600);
  server = login_twofa_user (code, NULL, &request, &error);
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_TOKEN);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (request.cookie_days, ==, 30);
}

static gboolean
has_twofa_cookie (gpointer data)
{
  return mcr_server_get_twofa_cookie (MCR_SERVER (data)) != NULL;
}

static void
test_right_code_then_cookie (void)
{
  McrCredentials c = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = NULL;
  g_autoptr(McrServer) again = NULL;
  g_autoptr(McrServer) forgetful = NULL;
  g_autofree char *code = NULL;
  g_autofree char *cookie = NULL;

  ensure_twofa_user ();
  code = mcr_test_totp (secret, g_get_real_time () / G_USEC_PER_SEC);
  c.user = user;
  c.password = password;
  c.token = code;
  c.remember_device = TRUE;
  server = login_with (&c, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_CONNECTED);
  g_assert_cmpstr (mcr_server_get_user_name (server), ==, user);

  /* The remembered-2FA cookie comes after the login. */
  g_assert_true (mcr_test_wait_until (has_twofa_cookie, server, 20000));
  cookie = g_strdup (mcr_server_get_twofa_cookie (server));
  mcr_server_logout (server);

  /* Next time: the cookie instead of a code. */
  memset (&c, 0, sizeof c);
  c.user = user;
  c.password = password;
  c.twofa_cookie = cookie;
  again = login_with (&c, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mcr_server_get_state (again), ==, MCR_SERVER_STATE_CONNECTED);

  /* A wrong password with a good cookie is still refused. */
  c.password = "not the password";
  forgetful = login_with (&c, NULL, &error);
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_CREDENTIALS);
}

static void
test_bad_cookie (void)
{
  McrTokenRequest request;
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = login_twofa_user (NULL, "not-a-cookie", &request, &error);

  /* An expired or foreign cookie just means: a code is needed again. */
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/twofa/token-required", test_token_required);
  g_test_add_func ("/twofa/email-code-unavailable", test_email_code_unavailable);
  g_test_add_func ("/twofa/wrong-code", test_wrong_code);
  g_test_add_func ("/twofa/right-code-then-cookie", test_right_code_then_cookie);
  g_test_add_func ("/twofa/bad-cookie", test_bad_cookie);
  status = g_test_run ();
  if (user != NULL)
    test_remove_user (user);
  g_free (user);
  g_free (password);
  g_free (secret);
  return status;
}
