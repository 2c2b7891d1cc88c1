/* mcr-window-login.c: logging in from the main window: the keyring, the
 * second factor and certificate pages, the end of a session
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Each login attempt uses a new McrServer. A login that the server answers
 * with "second factor needed" or "untrusted certificate" shows the page for
 * it, and the next attempt adds what the user gave there.
 */
#define G_LOG_DOMAIN "mcr-window" /* the window's: G_MESSAGES_DEBUG=mcr-window shows it all */

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-settings-dialog.h"
#include "mcr-window-private.h"

#define MAX_RECENT_SERVERS 10

static void mcr_window_end_session (McrWindow  *self,
                                    const char *reason,
                                    gboolean    is_error);

/* ---- settings helpers ---------------------------------------------------- */

static void
remember_server (McrWindow  *self,
                 const char *address,
                 const char *user)
{
  g_auto(GStrv) old = g_settings_get_strv (self->settings, "recent-servers");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) recent = NULL;
  guint n = 1;

  g_strv_builder_add (builder, address);
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT_SERVERS; i++)
    if (g_strcmp0 (old[i], address) != 0)
      {
        g_strv_builder_add (builder, old[i]);
        n++;
      }
  recent = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-servers", (const char *const *) recent);
  g_settings_set_string (self->settings, "last-server", address);
  g_settings_set_string (self->settings, "last-user", user);
}

static char *
trusted_hash_for (McrWindow  *self,
                  const char *server)
{
  g_autoptr(GVariant) trusted = g_settings_get_value (self->settings, "trusted-certificates");
  const char *hash = NULL;

  if (g_variant_lookup (trusted, server, "&s", &hash))
    return g_strdup (hash);
  return NULL;
}

char *
_mcr_window_login_address (McrWindow *self)
{
  return g_strstrip (g_strdup (mcr_login_page_get_server (self->login_page)));
}

/* ---- the keyring ------------------------------------------------------- */

static void
secret_saved (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!mcr_secret_store_save_finish (MCR_SECRET_STORE (source), result, &error))
    g_debug ("the keyring did not take the secret: %s", error->message);
}

static void
secret_cleared (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!mcr_secret_store_clear_finish (MCR_SECRET_STORE (source), result, &error))
    g_debug ("the keyring did not clear the secret: %s", error->message);
}

static void
store_secrets (McrWindow  *self,
               const char *address,
               const char *user)
{
  const char *password = mcr_login_page_get_password (self->login_page);

  if (mcr_login_page_get_remember (self->login_page) && password != NULL && *password != '\0')
    mcr_secret_store_save_async (self->secrets, address, user, MCR_SECRET_KIND_PASSWORD, password,
                                 NULL, secret_saved, NULL);
  else if (!mcr_login_page_get_remember (self->login_page)
           && g_settings_get_boolean (self->settings, "remember-password"))
    mcr_secret_store_clear_async (self->secrets, address, user, MCR_SECRET_KIND_PASSWORD, NULL,
                                  secret_cleared, NULL);
}

static void
on_twofa_cookie (McrServer  *server,
                 GParamSpec *pspec,
                 McrWindow  *self)
{
  const char *cookie = mcr_server_get_twofa_cookie (server);
  g_autofree char *address = _mcr_window_login_address (self);

  if (cookie == NULL || *cookie == '\0' || !mcr_login_page_get_remember (self->login_page))
    return;
  g_debug ("storing the remembered second-factor cookie in the keyring");
  mcr_secret_store_save_async (self->secrets, address, mcr_login_page_get_user (self->login_page),
                               MCR_SECRET_KIND_TWOFA_COOKIE, cookie, NULL, secret_saved, NULL);
}

typedef struct
{
  McrWindow *window;
  char      *address;
  char      *user;
  gboolean   login_after;
} SecretLookup;

static void
secret_lookup_free (SecretLookup *lookup)
{
  g_object_unref (lookup->window);
  g_free (lookup->address);
  g_free (lookup->user);
  g_free (lookup);
}

static void
twofa_cookie_found (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  SecretLookup *lookup = user_data;
  McrWindow *self = lookup->window;
  g_autoptr(GError) error = NULL;
  char *cookie = mcr_secret_store_lookup_finish (MCR_SECRET_STORE (source), result, &error);

  mcr_clear_secret (&self->twofa_cookie);
  self->twofa_cookie = cookie;
  if (lookup->login_after)
    _mcr_window_start_login (self);
  secret_lookup_free (lookup);
}

static void
password_found (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  SecretLookup *lookup = user_data;
  McrWindow *self = lookup->window;
  g_autoptr(GError) error = NULL;
  char *password = mcr_secret_store_lookup_finish (MCR_SECRET_STORE (source), result, &error);
  g_autofree char *address = _mcr_window_login_address (self);

  /* Fill the field only if the form still names the same account. */
  if (password != NULL && g_strcmp0 (address, lookup->address) == 0
      && g_strcmp0 (mcr_login_page_get_user (self->login_page), lookup->user) == 0
      && *mcr_login_page_get_password (self->login_page) == '\0')
    {
      mcr_login_page_set_password (self->login_page, password);
      mcr_login_page_set_remember (self->login_page, TRUE);
    }
  mcr_secret_wipe_free (password);
  secret_lookup_free (lookup);
}

void
_mcr_window_lookup_password (McrWindow *self)
{
  SecretLookup *lookup;

  if (!g_settings_get_boolean (self->settings, "remember-password"))
    return;
  lookup = g_new0 (SecretLookup, 1);
  lookup->window = g_object_ref (self);
  lookup->address = _mcr_window_login_address (self);
  lookup->user = g_strdup (mcr_login_page_get_user (self->login_page));
  if (*lookup->address == '\0' || *lookup->user == '\0')
    {
      secret_lookup_free (lookup);
      return;
    }
  mcr_secret_store_lookup_async (self->secrets, lookup->address, lookup->user,
                                 MCR_SECRET_KIND_PASSWORD, NULL, password_found, lookup);
}

/* ---- logging in ---------------------------------------------------------- */

static void
disconnect_server (McrWindow *self,
                   McrServer *server)
{
  if (server == NULL)
    return;
  g_clear_signal_handler (&self->state_id, server);
  g_clear_signal_handler (&self->loaded_id, server);
  g_clear_signal_handler (&self->cookie_id, server);
}

static void
on_devices_loaded (McrServer *server,
                   McrWindow *self)
{
  mcr_devices_page_set_loading (self->devices_page, FALSE);
  _mcr_window_create_queued_maps (self);
}

static void
on_server_state (McrServer  *server,
                 GParamSpec *pspec,
                 McrWindow  *self)
{
  const GError *error = mcr_server_get_error (server);
  g_autofree char *reason = NULL;

  switch (mcr_server_get_state (server))
    {
    case MCR_SERVER_STATE_CONNECTED:
      mcr_window_show_message (self, NULL, FALSE);
      break;
    case MCR_SERVER_STATE_RECONNECTING:
      reason = g_strdup_printf (_("The connection to the server was lost (%s). Reconnecting…"),
                                error != NULL ? error->message : _("no reason given"));
      mcr_window_show_message (self, reason, FALSE);
      break;
    case MCR_SERVER_STATE_FAILED:
    case MCR_SERVER_STATE_DISCONNECTED:
      _mcr_window_present_if_hidden (self);
      reason = g_strdup_printf (_("The connection to the server was lost: %s. Your maps were "
                                  "stopped."),
                                error != NULL ? error->message : _("the server closed it"));
      mcr_window_end_session (self, reason, TRUE);
      break;
    case MCR_SERVER_STATE_CONNECTING:
    default:
      break;
    }
}

static void
logged_in (McrWindow *self,
           McrServer *server)
{
  g_autofree char *address = _mcr_window_login_address (self);
  const char *user = mcr_login_page_get_user (self->login_page);

  g_debug ("logged in");
  mcr_session_set_server (self->session, server);
  _mcr_window_remember_begin (self, address,
                              mcr_server_get_user_name (server) != NULL
                              ? mcr_server_get_user_name (server) : user);
  if (*address != '\0')
    {
      remember_server (self, address, user);
      store_secrets (self, address, user);
      g_settings_set_boolean (self->settings, "remember-password",
                              mcr_login_page_get_remember (self->login_page));
    }
  mcr_login_page_set_message (self->login_page, NULL, FALSE);
  mcr_window_show_message (self, NULL, FALSE);

  self->state_id = g_signal_connect (server, "notify::state", G_CALLBACK (on_server_state), self);
  self->loaded_id = g_signal_connect (server, "devices-loaded", G_CALLBACK (on_devices_loaded),
                                      self);
  self->cookie_id = g_signal_connect (server, "notify::twofa-cookie", G_CALLBACK (on_twofa_cookie),
                                      self);
  mcr_devices_page_set_devices (self->devices_page, mcr_server_get_devices (server));
  mcr_devices_page_set_loading (self->devices_page, !mcr_server_get_devices_loaded (server));
  mcr_maps_page_set_maps (self->maps_page, mcr_session_get_maps (self->session));
  _mcr_window_update_title (self);
  _mcr_window_update_actions (self);
  _mcr_window_show_page (self, "devices");
  if (mcr_server_get_devices_loaded (server))
    _mcr_window_create_queued_maps (self);
}

static void
login_failed (McrWindow    *self,
              McrServer    *server,
              const McrTokenRequest *request,
              const GError *error)
{
  g_autofree char *address = _mcr_window_login_address (self);

  if (g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  _mcr_window_present_if_hidden (self);

  if (g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED)
      || g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_TOKEN))
    {
      gboolean refused = self->token != NULL && *self->token != '\0'
                         && !g_str_has_prefix (self->token, "**");

      mcr_token_page_set_request (self->token_page, request);
      if (refused || g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_TOKEN))
        mcr_token_page_set_message (self->token_page,
                                    _("That code was not accepted. Check it and try again."),
                                    TRUE);
      /* A remembered-device cookie that no longer works is of no use. */
      if (self->twofa_cookie != NULL)
        {
          mcr_secret_store_clear_async (self->secrets, address,
                                        mcr_login_page_get_user (self->login_page),
                                        MCR_SECRET_KIND_TWOFA_COOKIE, NULL, secret_cleared, NULL);
          mcr_clear_secret (&self->twofa_cookie);
        }
      _mcr_window_show_page (self, "token");
      return;
    }

  if (g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT)
      && mcr_server_get_peer_cert_info (server) != NULL)
    {
      mcr_cert_page_set_certificate (self->cert_page, mcr_server_get_display_name (server),
                                     mcr_server_get_peer_cert_info (server));
      _mcr_window_show_page (self, "certificate");
      return;
    }

  g_clear_pointer (&self->token, g_free);
  mcr_login_page_set_message (self->login_page, error->message, TRUE);
  _mcr_window_show_page (self, "login");
}

static void
login_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(McrWindow) self = user_data;
  McrServer *server = MCR_SERVER (source);
  McrTokenRequest request = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean ok = mcr_server_login_finish (server, result, &request, &error);

  if (server != self->pending)
    return; /* a login the user gave up on */

  mcr_login_page_set_busy (self->login_page, FALSE);
  mcr_token_page_set_busy (self->token_page, FALSE);
  g_clear_object (&self->cancellable);

  if (ok)
    {
      g_autoptr(McrServer) done = g_steal_pointer (&self->pending);

      g_clear_pointer (&self->token, g_free);
      g_clear_pointer (&self->accepted_hash, g_free);
      logged_in (self, done);
      return;
    }
  login_failed (self, server, &request, error);
}

void
_mcr_window_start_login (McrWindow *self)
{
  g_autofree char *address = _mcr_window_login_address (self);
  g_autofree char *trusted = NULL;
  g_autoptr(McrServer) server = NULL;
  g_autoptr(GError) error = NULL;
  McrCredentials credentials = { 0 };
  McrTlsPolicy *policy;
  g_autofree char *proxy = NULL;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->pending);

  server = mcr_server_new (address, &error);
  if (server == NULL)
    {
      mcr_login_page_set_message (self->login_page, error->message, TRUE);
      _mcr_window_show_page (self, "login");
      return;
    }

  policy = mcr_server_get_tls_policy (server);
  trusted = trusted_hash_for (self, address);
  if (trusted == NULL)
    trusted = trusted_hash_for (self, mcr_server_get_display_name (server));
  if (trusted != NULL)
    mcr_tls_policy_add_pinned_hash (policy, trusted);
  if (self->accepted_hash != NULL)
    mcr_tls_policy_add_pinned_hash (policy, self->accepted_hash);
  if (self->file_certhash != NULL)
    mcr_tls_policy_add_pinned_hash (policy, self->file_certhash);
  for (guint i = 0; self->certhashes != NULL && self->certhashes[i] != NULL; i++)
    mcr_tls_policy_add_pinned_hash (policy, self->certhashes[i]);
  mcr_tls_policy_set_ignore_cert (policy, self->ignore_cert);

  proxy = self->proxy != NULL ? g_strdup (self->proxy) : g_settings_get_string (self->settings, "proxy");
  if (proxy != NULL && *proxy != '\0')
    mcr_server_set_proxy_uri (server, proxy);

  credentials.user = mcr_login_page_get_user (self->login_page);
  credentials.password = mcr_login_page_get_password (self->login_page);
  credentials.token = self->token;
  credentials.twofa_cookie = self->token == NULL ? self->twofa_cookie : NULL;
  credentials.auth_cookie = self->auth_cookie;
  credentials.remember_device = self->remember_device;

  self->pending = g_object_ref (server);
  self->cancellable = g_cancellable_new ();
  mcr_login_page_set_message (self->login_page, NULL, FALSE);
  mcr_login_page_set_busy (self->login_page, TRUE);
  mcr_token_page_set_busy (self->token_page, TRUE);
  g_debug ("logging in to %s", mcr_server_get_display_name (server));
  mcr_server_login_async (server, &credentials, self->cancellable, login_done,
                          g_object_ref (self));
}

/* Look up a remembered second-factor cookie first. */
void
_mcr_window_login_with_form (McrWindow *self)
{
  McrLoginPage *page = self->login_page;
  SecretLookup *lookup = g_new0 (SecretLookup, 1);

  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->accepted_hash, g_free);
  mcr_clear_secret (&self->auth_cookie);
  self->remember_device = FALSE;
  mcr_login_page_set_busy (self->login_page, TRUE);

  /* The keyring holds a second-factor cookie only for users who let us
   * remember their password; leave it alone otherwise. */
  if (!mcr_login_page_get_remember (page))
    {
      g_free (lookup);
      mcr_clear_secret (&self->twofa_cookie);
      _mcr_window_start_login (self);
      return;
    }
  lookup->window = g_object_ref (self);
  lookup->address = _mcr_window_login_address (self);
  lookup->user = g_strdup (mcr_login_page_get_user (page));
  lookup->login_after = TRUE;
  mcr_secret_store_lookup_async (self->secrets, lookup->address, lookup->user,
                                 MCR_SECRET_KIND_TWOFA_COOKIE, NULL, twofa_cookie_found, lookup);
}

static void
on_login (McrLoginPage *page,
          McrWindow    *self)
{
  _mcr_window_login_with_form (self);
}

static void
cancel_login (McrWindow *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->pending);
  g_clear_pointer (&self->token, g_free);
  mcr_login_page_set_busy (self->login_page, FALSE);
  mcr_token_page_set_busy (self->token_page, FALSE);
  _mcr_window_show_page (self, "login");
}

static void
on_login_cancel (McrLoginPage *page,
                 McrWindow    *self)
{
  cancel_login (self);
}

static void
on_token_submit (McrTokenPage *page,
                 McrWindow    *self)
{
  g_free (self->token);
  self->token = g_strstrip (g_strdup (mcr_token_page_get_code (page)));
  self->remember_device = mcr_token_page_get_remember_device (page);
  mcr_token_page_set_message (page, NULL, FALSE);
  _mcr_window_start_login (self);
}

static void
on_token_send (McrTokenPage *page,
               const char   *how,
               McrWindow    *self)
{
  g_free (self->token);
  if (g_str_equal (how, "email"))
    self->token = g_strdup ("**email**");
  else if (g_str_equal (how, "sms"))
    self->token = g_strdup ("**sms**");
  else
    self->token = g_strdup ("**msg**");
  _mcr_window_start_login (self);
}

static void
on_cert_accept (McrCertPage *page,
                McrWindow   *self)
{
  const char *hash = mcr_cert_page_get_sha384 (page);
  g_autofree char *address = _mcr_window_login_address (self);

  if (hash == NULL)
    return;
  g_free (self->accepted_hash);
  self->accepted_hash = g_strdup (hash);
  if (mcr_cert_page_get_remember (page))
    mcr_settings_dialog_set_trusted_certificate (self->settings, address, hash);
  _mcr_window_show_page (self, "login");
  _mcr_window_start_login (self);
}

/* ---- the session --------------------------------------------------------- */

static void
mcr_window_end_session (McrWindow  *self,
                        const char *reason,
                        gboolean    is_error)
{
  McrServer *server = mcr_session_get_server (self->session);
  g_auto(GStrv) recent = g_settings_get_strv (self->settings, "recent-servers");

  _mcr_window_remember_end (self);
  disconnect_server (self, server);
  mcr_devices_page_set_devices (self->devices_page, NULL);
  mcr_maps_page_set_maps (self->maps_page, NULL);
  mcr_session_set_server (self->session, NULL);
  mcr_maps_page_set_maps (self->maps_page, mcr_session_get_maps (self->session));
  mcr_window_show_message (self, NULL, FALSE);
  mcr_login_page_set_recent (self->login_page, (const char *const *) recent);
  mcr_login_page_set_message (self->login_page, reason, is_error);
  _mcr_window_update_title (self);
  _mcr_window_update_actions (self);
  _mcr_window_show_page (self, "login");
}

static void
logout_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  _mcr_window_log_out (MCR_WINDOW (widget));
}

void
_mcr_window_log_out (McrWindow *self)
{
  McrServer *server = mcr_session_get_server (self->session);
  guint n = g_list_model_get_n_items (mcr_session_get_maps (self->session));
  g_autofree char *reason = NULL;

  if (server == NULL)
    return;
  disconnect_server (self, server);
  mcr_server_logout (server);
  if (n > 0)
    reason = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "You logged out; %u map was stopped.",
                                           "You logged out; %u maps were stopped.", n),
                              n);
  else
    reason = g_strdup (_("You logged out."));
  mcr_window_end_session (self, reason, FALSE);
}

void
mcr_window_login (McrWindow  *self,
                  const char *server,
                  const char *user,
                  const char *password)
{
  g_return_if_fail (MCR_IS_WINDOW (self));

  mcr_login_page_set_server (self->login_page, server);
  mcr_login_page_set_user (self->login_page, user);
  mcr_login_page_set_password (self->login_page, password);
  _mcr_window_login_with_form (self);
}


/* ---- wiring -------------------------------------------------------------- */

void
_mcr_window_login_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.logout", NULL, logout_action);
}

void
_mcr_window_login_init (McrWindow *self)
{
  g_auto(GStrv) recent = g_settings_get_strv (self->settings, "recent-servers");
  g_autofree char *last_server = g_settings_get_string (self->settings, "last-server");
  g_autofree char *last_user = g_settings_get_string (self->settings, "last-user");

  g_signal_connect (self->login_page, "login", G_CALLBACK (on_login), self);
  g_signal_connect (self->login_page, "cancel", G_CALLBACK (on_login_cancel), self);
  g_signal_connect (self->token_page, "submit", G_CALLBACK (on_token_submit), self);
  g_signal_connect (self->token_page, "send-code", G_CALLBACK (on_token_send), self);
  g_signal_connect_swapped (self->token_page, "cancel", G_CALLBACK (cancel_login), self);
  g_signal_connect (self->cert_page, "accept", G_CALLBACK (on_cert_accept), self);
  g_signal_connect_swapped (self->cert_page, "cancel", G_CALLBACK (cancel_login), self);

  mcr_login_page_set_recent (self->login_page, (const char *const *) recent);
  mcr_login_page_set_server (self->login_page, last_server);
  mcr_login_page_set_user (self->login_page, last_user);
  mcr_login_page_set_remember (self->login_page,
                               g_settings_get_boolean (self->settings, "remember-password"));
  _mcr_window_lookup_password (self);
}

void
_mcr_window_login_dispose (McrWindow *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->pending);
  if (self->session != NULL)
    {
      McrServer *server = mcr_session_get_server (self->session);

      disconnect_server (self, server);
      if (server != NULL)
        mcr_server_logout (server);
    }
}
