/* mcr-window.c: the main window: login, second factor, certificate, devices
 * and maps
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Each login attempt uses a new McrServer. A login that the server answers
 * with "second factor needed" or "untrusted certificate" shows the page for
 * it, and the next attempt adds what the user gave there.
 */
#define G_LOG_DOMAIN "mcr-window"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-cert-page.h"
#include "mcr-devices-page.h"
#include "mcr-login-page.h"
#include "mcr-map-dialog.h"
#include "mcr-map-file.h"
#include "mcr-maps-page.h"
#include "mcr-router-url.h"
#include "mcr-secret-store.h"
#include "mcr-settings-dialog.h"
#include "mcr-token-page.h"
#include "mcr-window.h"

#define MAX_RECENT_SERVERS 10

struct _McrWindow
{
  GtkApplicationWindow parent_instance;

  /* template */
  GtkStack        *title_stack;
  GtkWidget       *add_map_button;
  GtkRevealer     *banner_revealer;
  GtkWidget       *banner;
  GtkLabel        *banner_label;
  GtkStack        *stack;
  GtkStack        *view_stack;

  McrLoginPage    *login_page;
  McrTokenPage    *token_page;
  McrCertPage     *cert_page;
  McrDevicesPage  *devices_page;
  McrMapsPage     *maps_page;

  GSettings       *settings;
  McrSession      *session;
  McrSecretStore  *secrets;

  /* the login under way */
  McrServer       *pending;
  GCancellable    *cancellable;
  char            *token;           /* the code of the last attempt */
  char            *accepted_hash;   /* a certificate the user accepted for this login */
  char            *twofa_cookie;    /* from the keyring */
  char            *auth_cookie;     /* from an mcrouter:// link; a secret */
  gboolean         remember_device;

  /* from the command line and files */
  GPtrArray       *queued_maps;     /* McrMapSpec */
  char           **certhashes;
  char            *file_certhash;   /* of the file that filled the login form */

  /* a file or link for another server, until the user answers */
  McrMapFile      *switch_file;
  McrRouterUrl    *switch_url;
  char            *switch_name;
  GtkWindow       *switch_dialog;
  gboolean         ignore_cert;
  char            *proxy;

  gulong           state_id;
  gulong           loaded_id;
  gulong           cookie_id;
};

G_DEFINE_FINAL_TYPE (McrWindow, mcr_window, GTK_TYPE_APPLICATION_WINDOW)

static void mcr_window_start_login (McrWindow *self);
static void mcr_window_end_session (McrWindow  *self,
                                    const char *reason,
                                    gboolean    is_error);

/* ---- pages and messages ------------------------------------------------ */

static void
show_page (McrWindow  *self,
           const char *name)
{
  gboolean main = g_str_equal (name, "devices") || g_str_equal (name, "maps");

  if (main)
    {
      gtk_stack_set_visible_child_name (self->stack, "main");
      gtk_stack_set_visible_child_name (self->view_stack, name);
      gtk_window_set_default_widget (GTK_WINDOW (self), NULL);
    }
  else
    gtk_stack_set_visible_child_name (self->stack, name);
  gtk_stack_set_visible_child_name (self->title_stack, main ? "switcher" : "title");
  gtk_widget_set_visible (self->add_map_button, main);

  if (g_str_equal (name, "login"))
    {
      gtk_window_set_default_widget (GTK_WINDOW (self),
                                     mcr_login_page_get_default_widget (self->login_page));
      mcr_login_page_focus (self->login_page);
    }
  else if (g_str_equal (name, "token"))
    {
      gtk_window_set_default_widget (GTK_WINDOW (self),
                                     mcr_token_page_get_default_widget (self->token_page));
      mcr_token_page_focus (self->token_page);
    }
  else if (g_str_equal (name, "certificate"))
    {
      gtk_window_set_default_widget (GTK_WINDOW (self),
                                     mcr_cert_page_get_default_widget (self->cert_page));
      mcr_cert_page_focus (self->cert_page);
    }
}

const char *
mcr_window_get_page (McrWindow *self)
{
  const char *name;

  g_return_val_if_fail (MCR_IS_WINDOW (self), NULL);

  name = gtk_stack_get_visible_child_name (self->stack);
  if (g_strcmp0 (name, "main") == 0)
    return gtk_stack_get_visible_child_name (self->view_stack);
  return name;
}

void
mcr_window_show_message (McrWindow  *self,
                         const char *message,
                         gboolean    is_error)
{
  g_return_if_fail (MCR_IS_WINDOW (self));

  if (message == NULL)
    {
      gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
      return;
    }
  gtk_label_set_text (self->banner_label, message);
  if (is_error)
    gtk_widget_add_css_class (self->banner, "error");
  else
    gtk_widget_remove_css_class (self->banner, "error");
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
}

static void
update_title (McrWindow *self)
{
  McrServer *server = mcr_session_get_server (self->session);
  g_autofree char *title = NULL;

  if (server != NULL && mcr_server_get_user_name (server) != NULL)
    /* Translators: the window title once logged in, with the user name */
    title = g_strdup_printf (_("MeshCentral Router – %s"), mcr_server_get_user_name (server));
  gtk_window_set_title (GTK_WINDOW (self), title != NULL ? title : _("MeshCentral Router"));
}

static void
update_actions (McrWindow *self)
{
  McrServer *server = mcr_session_get_server (self->session);
  gboolean logged_in = server != NULL;
  gboolean has_device = mcr_devices_page_get_selected_device (self->devices_page) != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-map", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-relay-map", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.quick-map", logged_in && has_device);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.logout", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-mappings", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.save-mappings", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-devices", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-maps", logged_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.search", logged_in);
}

/* A hidden window (-tray, or running on in the background) that needs the
 * user shows itself. */
static void
present_if_hidden (McrWindow *self)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (self)))
    gtk_window_present (GTK_WINDOW (self));
}

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

/* The login form's address as the secret store and the settings key it:
 * what the user typed, trimmed. */
static char *
login_address (McrWindow *self)
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
  g_autofree char *address = login_address (self);

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

  g_clear_pointer (&self->twofa_cookie, mcr_secret_free);
  self->twofa_cookie = cookie;
  if (lookup->login_after)
    mcr_window_start_login (self);
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
  g_autofree char *address = login_address (self);

  /* Fill the field only if the form still names the same account. */
  if (password != NULL && g_strcmp0 (address, lookup->address) == 0
      && g_strcmp0 (mcr_login_page_get_user (self->login_page), lookup->user) == 0
      && *mcr_login_page_get_password (self->login_page) == '\0')
    {
      mcr_login_page_set_password (self->login_page, password);
      mcr_login_page_set_remember (self->login_page, TRUE);
    }
  mcr_secret_free (password);
  secret_lookup_free (lookup);
}

static void
lookup_password (McrWindow *self)
{
  SecretLookup *lookup;

  if (!g_settings_get_boolean (self->settings, "remember-password"))
    return;
  lookup = g_new0 (SecretLookup, 1);
  lookup->window = g_object_ref (self);
  lookup->address = login_address (self);
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
create_queued_maps (McrWindow *self)
{
  McrServer *server = mcr_session_get_server (self->session);
  g_autoptr(GPtrArray) specs = g_steal_pointer (&self->queued_maps);
  g_autoptr(GString) problems = g_string_new (NULL);

  self->queued_maps = g_ptr_array_new_with_free_func ((GDestroyNotify) mcr_map_spec_free);
  if (specs == NULL || server == NULL)
    return;

  for (guint i = 0; i < specs->len; i++)
    {
      g_autoptr(McrMapSpec) spec = mcr_map_spec_copy (g_ptr_array_index (specs, i));
      g_autoptr(GError) error = NULL;
      McrDevice *device = NULL;
      g_autofree char *arg = NULL;

      if (spec->node_id != NULL)
        device = mcr_server_lookup_device (server, spec->node_id);
      if (device == NULL && spec->node_name != NULL)
        device = mcr_server_find_device (server, spec->node_name);
      if (device == NULL)
        {
          arg = mcr_map_spec_to_argument (spec);
          g_string_append_printf (problems, _("%s: no such device\n"), arg);
          continue;
        }
      g_free (spec->node_id);
      spec->node_id = g_strdup (mcr_device_get_id (device));
      if (mcr_session_add_map (self->session, spec, NULL, &error) == NULL)
        {
          arg = mcr_map_spec_to_named_argument (spec, mcr_device_get_name (device));
          g_string_append_printf (problems, "%s: %s\n", arg, error->message);
        }
    }
  if (problems->len > 0)
    {
      g_strchomp (problems->str);
      mcr_window_show_message (self, problems->str, TRUE);
    }
  if (specs->len > 0 && g_list_model_get_n_items (mcr_session_get_maps (self->session)) > 0)
    show_page (self, "maps");
}

static void
on_devices_loaded (McrServer *server,
                   McrWindow *self)
{
  mcr_devices_page_set_loading (self->devices_page, FALSE);
  create_queued_maps (self);
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
      present_if_hidden (self);
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
  g_autofree char *address = login_address (self);
  const char *user = mcr_login_page_get_user (self->login_page);

  g_debug ("logged in");
  mcr_session_set_server (self->session, server);
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
  update_title (self);
  update_actions (self);
  show_page (self, "devices");
  if (mcr_server_get_devices_loaded (server))
    create_queued_maps (self);
}

static void
login_failed (McrWindow    *self,
              McrServer    *server,
              const McrTokenRequest *request,
              const GError *error)
{
  g_autofree char *address = login_address (self);

  if (g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  present_if_hidden (self);

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
          g_clear_pointer (&self->twofa_cookie, mcr_secret_free);
        }
      show_page (self, "token");
      return;
    }

  if (g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT)
      && mcr_server_get_peer_cert_info (server) != NULL)
    {
      mcr_cert_page_set_certificate (self->cert_page, mcr_server_get_display_name (server),
                                     mcr_server_get_peer_cert_info (server));
      show_page (self, "certificate");
      return;
    }

  g_clear_pointer (&self->token, g_free);
  mcr_login_page_set_message (self->login_page, error->message, TRUE);
  show_page (self, "login");
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

static void
mcr_window_start_login (McrWindow *self)
{
  g_autofree char *address = login_address (self);
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
      show_page (self, "login");
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

/* From the login page: look up a remembered second-factor cookie first. */
static void
on_login (McrLoginPage *page,
          McrWindow    *self)
{
  SecretLookup *lookup = g_new0 (SecretLookup, 1);

  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->accepted_hash, g_free);
  g_clear_pointer (&self->auth_cookie, mcr_secret_free);
  self->remember_device = FALSE;
  mcr_login_page_set_busy (self->login_page, TRUE);

  /* The keyring holds a second-factor cookie only for users who let us
   * remember their password; leave it alone otherwise. */
  if (!mcr_login_page_get_remember (page))
    {
      g_free (lookup);
      g_clear_pointer (&self->twofa_cookie, mcr_secret_free);
      mcr_window_start_login (self);
      return;
    }
  lookup->window = g_object_ref (self);
  lookup->address = login_address (self);
  lookup->user = g_strdup (mcr_login_page_get_user (page));
  lookup->login_after = TRUE;
  mcr_secret_store_lookup_async (self->secrets, lookup->address, lookup->user,
                                 MCR_SECRET_KIND_TWOFA_COOKIE, NULL, twofa_cookie_found, lookup);
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
  show_page (self, "login");
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
  mcr_window_start_login (self);
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
  mcr_window_start_login (self);
}

static void
on_cert_accept (McrCertPage *page,
                McrWindow   *self)
{
  const char *hash = mcr_cert_page_get_sha384 (page);
  g_autofree char *address = login_address (self);

  if (hash == NULL)
    return;
  g_free (self->accepted_hash);
  self->accepted_hash = g_strdup (hash);
  if (mcr_cert_page_get_remember (page))
    mcr_settings_dialog_set_trusted_certificate (self->settings, address, hash);
  show_page (self, "login");
  mcr_window_start_login (self);
}

/* ---- the session --------------------------------------------------------- */

static void
mcr_window_end_session (McrWindow  *self,
                        const char *reason,
                        gboolean    is_error)
{
  McrServer *server = mcr_session_get_server (self->session);
  g_auto(GStrv) recent = g_settings_get_strv (self->settings, "recent-servers");

  disconnect_server (self, server);
  mcr_devices_page_set_devices (self->devices_page, NULL);
  mcr_maps_page_set_maps (self->maps_page, NULL);
  mcr_session_set_server (self->session, NULL);
  mcr_maps_page_set_maps (self->maps_page, mcr_session_get_maps (self->session));
  mcr_window_show_message (self, NULL, FALSE);
  mcr_login_page_set_recent (self->login_page, (const char *const *) recent);
  mcr_login_page_set_message (self->login_page, reason, is_error);
  update_title (self);
  update_actions (self);
  show_page (self, "login");
}

static void log_out (McrWindow *self);

static void
logout_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  log_out (MCR_WINDOW (widget));
}

static void
on_launch_failed (McrSession *session,
                  const char *message,
                  McrWindow  *self)
{
  mcr_window_show_message (self, message, TRUE);
}

/* ---- maps ---------------------------------------------------------------- */

static void
open_map (McrWindow  *self,
          McrPortMap *map)
{
  g_autoptr(GError) error = NULL;

  if (!mcr_session_open_map (self->session, map, GTK_WINDOW (self), &error))
    mcr_window_show_message (self, error->message, TRUE);
}

static void
on_open_map (McrMapsPage *page,
             McrPortMap  *map,
             McrWindow   *self)
{
  open_map (self, map);
}

static void
on_remove_map (McrMapsPage *page,
               McrPortMap  *map,
               McrWindow   *self)
{
  mcr_session_remove_map (self->session, map);
}

static void
on_dialog_add (McrMapDialog *dialog,
               McrMapSpec   *spec,
               McrWindow    *self)
{
  g_autoptr(GError) error = NULL;
  gboolean reused = FALSE;
  McrPortMap *map = mcr_session_add_map (self->session, spec, &reused, &error);

  if (map == NULL)
    {
      mcr_map_dialog_set_error (dialog, error->message);
      return;
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
  show_page (self, "maps");
  if (reused)
    mcr_window_show_message (self, _("An identical map exists already: it was kept."), FALSE);
}

static McrMapDialog *
open_map_dialog (McrWindow *self,
                 gboolean   relay)
{
  McrServer *server = mcr_session_get_server (self->session);
  GObject *device = mcr_devices_page_get_selected_device (self->devices_page);
  McrMapDialog *dialog;

  if (server == NULL)
    return NULL;
  dialog = mcr_map_dialog_new (GTK_WINDOW (self), mcr_server_get_devices (server), relay);
  mcr_map_dialog_set_maps (dialog, mcr_session_get_maps (self->session));
  if (device != NULL)
    mcr_map_dialog_set_device (dialog, device);
  g_signal_connect_object (dialog, "add", G_CALLBACK (on_dialog_add), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
add_map_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  open_map_dialog (MCR_WINDOW (widget), g_str_equal (action_name, "win.add-relay-map"));
}

static void
quick_map (McrWindow  *self,
           McrDevice  *device,
           const char *app)
{
  g_autoptr(GError) error = NULL;
  McrAppId app_id = MCR_APP_HTTP;
  McrPortMap *map;

  if (g_str_equal (app, "https"))
    app_id = MCR_APP_HTTPS;
  else if (g_str_equal (app, "rdp"))
    app_id = MCR_APP_RDP;
  else if (g_str_equal (app, "ssh"))
    app_id = MCR_APP_SSH;
  else if (g_str_equal (app, "sftp"))
    app_id = MCR_APP_SFTP;

  map = mcr_session_quick_map (self->session, device, app_id, &error);
  if (map == NULL)
    {
      mcr_window_show_message (self, error->message, TRUE);
      return;
    }
  mcr_maps_page_select_map (self->maps_page, map);
}

static void
quick_map_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);
  GObject *device = mcr_devices_page_get_selected_device (self->devices_page);

  if (device != NULL)
    quick_map (self, MCR_DEVICE (device), g_variant_get_string (parameter, NULL));
}

static void
on_device_activated (McrDevicesPage *page,
                     GObject        *device,
                     McrWindow      *self)
{
  g_autofree char *action = g_settings_get_string (self->settings, "double-click-action");

  if (g_str_has_prefix (action, "quick-"))
    quick_map (self, MCR_DEVICE (device), action + strlen ("quick-"));
  else
    open_map_dialog (self, FALSE);
}

static void
on_selection_changed (McrWindow *self)
{
  update_actions (self);
}

/* ---- .mcrouter files and mcrouter:// links ------------------------------ */

/* Does @address name the server we are logged into? */
static gboolean
is_current_server (McrWindow  *self,
                   const char *address)
{
  McrServer *server = mcr_session_get_server (self->session);

  return server != NULL && mcr_server_has_address (server, address);
}

/* "host[:port][/domain]" of @address, without a login key: for messages. */
static char *
display_address (const char *address)
{
  g_autoptr(McrServer) server = mcr_server_new (address, NULL);

  return g_strdup (server != NULL ? mcr_server_get_display_name (server) : address);
}

static void
queue_file_maps (McrWindow  *self,
                 McrMapFile *file)
{
  GPtrArray *mappings = mcr_map_file_get_mappings (file);
  const char *const *warnings = mcr_map_file_get_warnings (file);

  for (guint i = 0; i < mappings->len; i++)
    g_ptr_array_add (self->queued_maps, mcr_map_spec_copy (g_ptr_array_index (mappings, i)));
  if (warnings[0] != NULL)
    {
      g_autofree char *text = g_strjoinv ("\n", (char **) warnings);

      mcr_window_show_message (self, text, TRUE);
    }
  if (mcr_session_get_server (self->session) != NULL
      && mcr_server_get_devices_loaded (mcr_session_get_server (self->session)))
    create_queued_maps (self);
}

/* Not logged in: the file says where to, as on the command line. */
static void
fill_login_from_file (McrWindow  *self,
                      McrMapFile *file)
{
  g_autofree char *address = login_address (self);

  /* A password typed for another account must not go to this one. */
  if (g_strcmp0 (address, mcr_map_file_get_hostname (file)) != 0
      || g_strcmp0 (mcr_login_page_get_user (self->login_page),
                    mcr_map_file_get_username (file)) != 0)
    mcr_login_page_set_password (self->login_page, "");
  mcr_login_page_set_server (self->login_page, mcr_map_file_get_hostname (file));
  mcr_login_page_set_user (self->login_page, mcr_map_file_get_username (file));
  if (mcr_map_file_get_password (file) != NULL)
    mcr_login_page_set_password (self->login_page, mcr_map_file_get_password (file));
  g_free (self->file_certhash);
  self->file_certhash = g_strdup (mcr_map_file_get_certhash (file));
}

static void ask_switch_server (McrWindow    *self,
                               const char   *address,
                               const char   *what,
                               McrMapFile   *file,
                               McrRouterUrl *url);

/* A file opened, dropped or handed over by a second launch. Logged into
 * its server: its maps are added. Not logged in: it fills the login form
 * and logs in if it holds the password. Logged into another server: ask. */
static void
open_map_file (McrWindow  *self,
               McrMapFile *file,
               const char *name)
{
  const char *hostname = mcr_map_file_get_hostname (file);

  if (mcr_session_get_server (self->session) == NULL)
    {
      fill_login_from_file (self, file);
      queue_file_maps (self, file);
      if (mcr_map_file_get_password (file) != NULL)
        on_login (self->login_page, self);
      else
        {
          lookup_password (self);
          show_page (self, "login");
        }
      return;
    }
  if (is_current_server (self, hostname))
    {
      queue_file_maps (self, file);
      return;
    }
  ask_switch_server (self, hostname, name, file, NULL);
}

typedef struct
{
  McrWindow *window;
  char      *name;
} FileOpen;

static void
file_loaded (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  FileOpen *open = user_data;
  g_autoptr(McrWindow) self = open->window;
  g_autofree char *name = open->name;
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) file = mcr_map_file_load_finish (result, &error);

  g_free (open);
  if (file == NULL)
    {
      /* Refused as a whole: nothing running is touched. */
      mcr_window_show_message (self, error->message, TRUE);
      return;
    }
  open_map_file (self, file, name);
}

static void
mcr_window_open_file (McrWindow *self,
                      GFile     *file)
{
  FileOpen *open = g_new0 (FileOpen, 1);
  g_autofree char *base = g_file_get_basename (file);

  open->window = g_object_ref (self);
  open->name = base != NULL ? g_filename_display_name (base) : g_file_get_parse_name (file);
  mcr_map_file_load_async (file, NULL, file_loaded, open);
}

/* Not logged in: the link logs in with its cookie (no user name or
 * password) and trusts the certificate whose hash it carries. */
static void
login_with_router_url (McrWindow    *self,
                       McrRouterUrl *url)
{
  g_autofree char *address = mcr_router_url_get_server_address (url);

  mcr_login_page_set_server (self->login_page, address);
  if (url->cert_hash != NULL)
    {
      g_free (self->accepted_hash);
      self->accepted_hash = g_strdup (url->cert_hash);
    }
  if (url->map != NULL)
    g_ptr_array_add (self->queued_maps, mcr_map_spec_copy (url->map));
  g_clear_pointer (&self->auth_cookie, mcr_secret_free);
  self->auth_cookie = g_strdup (url->auth_cookie);
  mcr_window_start_login (self);
}

/* An mcrouter:// link from the web UI. Logged into its server already: its
 * map is added to this login (the cookie is not used). Logged into another
 * server: ask. */
static void
open_router_url (McrWindow  *self,
                 const char *text)
{
  g_autoptr(McrRouterUrl) url = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;

  url = mcr_router_url_parse (text, &error);
  if (url == NULL)
    {
      if (mcr_session_get_server (self->session) != NULL)
        mcr_window_show_message (self, error->message, TRUE);
      else
        {
          mcr_login_page_set_message (self->login_page, error->message, TRUE);
          show_page (self, "login");
        }
      return;
    }
  if (mcr_session_get_server (self->session) == NULL)
    {
      login_with_router_url (self, url);
      return;
    }
  address = mcr_router_url_get_server_address (url);
  if (!is_current_server (self, address))
    {
      ask_switch_server (self, address, _("The link"), NULL, url);
      return;
    }
  g_debug ("a link for this server: adding its map to this login");
  if (url->map != NULL)
    {
      g_autoptr(GPtrArray) specs = g_ptr_array_new ();

      g_ptr_array_add (specs, url->map);
      mcr_window_queue_maps (self, specs);
    }
  show_page (self, url->map != NULL ? "maps" : "devices");
}

/* ---- a file or link for another server ----------------------------------- */

static void
clear_switch (McrWindow *self)
{
  g_clear_object (&self->switch_file);
  g_clear_pointer (&self->switch_name, g_free);
  g_clear_pointer (&self->switch_url, mcr_router_url_free);
  if (self->switch_dialog != NULL)
    {
      GtkWindow *dialog = g_steal_pointer (&self->switch_dialog);

      g_signal_handlers_disconnect_by_data (dialog, self);
      gtk_window_destroy (dialog);
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.switch-server", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.keep-server", FALSE);
}

static void
log_out (McrWindow *self)
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

/* win.switch-server: log out, then open what was asked for. */
static void
switch_server_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);
  g_autoptr(McrMapFile) file = g_steal_pointer (&self->switch_file);
  g_autoptr(McrRouterUrl) url = g_steal_pointer (&self->switch_url);
  g_autofree char *name = g_steal_pointer (&self->switch_name);

  clear_switch (self);
  if (file == NULL && url == NULL)
    return;
  log_out (self);
  if (url != NULL)
    login_with_router_url (self, url);
  else
    open_map_file (self, file, name);
}

/* win.keep-server: stay logged in; the file or link is not opened. */
static void
keep_server_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);
  McrServer *server = mcr_session_get_server (self->session);
  g_autofree char *message = NULL;

  if (self->switch_name != NULL && server != NULL)
    message = g_strdup_printf (_("%s was not opened: you are still logged into %s."),
                               self->switch_name, mcr_server_get_display_name (server));
  clear_switch (self);
  if (message != NULL)
    mcr_window_show_message (self, message, FALSE);
}

#if GTK_CHECK_VERSION (4, 10, 0)
static void
switch_alert_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(McrWindow) self = user_data;
  int button = gtk_alert_dialog_choose_finish (GTK_ALERT_DIALOG (source), result, NULL);

  gtk_widget_activate_action (GTK_WIDGET (self), button == 1 ? "win.switch-server"
                                                             : "win.keep-server", NULL);
}
#else
static void
switch_dialog_response (GtkDialog *dialog,
                        int        response,
                        McrWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), response == GTK_RESPONSE_ACCEPT
                                                 ? "win.switch-server" : "win.keep-server",
                              NULL);
}
#endif

/* A file or link for another server than the one we are logged into: ask
 * whether to log out of this one (its maps stop) and connect there. The
 * answer runs win.switch-server or win.keep-server. */
static void
ask_switch_server (McrWindow    *self,
                   const char   *address,
                   const char   *what,
                   McrMapFile   *file,
                   McrRouterUrl *url)
{
  McrServer *server = mcr_session_get_server (self->session);
  guint n = g_list_model_get_n_items (mcr_session_get_maps (self->session));
  g_autofree char *other = display_address (address);
  g_autofree char *question = NULL;
  g_autofree char *detail = NULL;

  clear_switch (self);
  self->switch_file = file != NULL ? g_object_ref (file) : NULL;
  self->switch_url = url != NULL ? mcr_router_url_copy (url) : NULL;
  self->switch_name = g_strdup (what);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.switch-server", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.keep-server", TRUE);

  /* Translators: "Log out of mesh.example.com and connect to other.example.com?" */
  question = g_strdup_printf (_("Log out of %s and connect to %s?"),
                              mcr_server_get_display_name (server), other);
  /* Translators: the first %s is a file name or "The link" */
  detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "%s is for %s. Logging out stops your %u map.",
                                         "%s is for %s. Logging out stops your %u maps.", n),
                            what, other, n);
  present_if_hidden (self);
#if GTK_CHECK_VERSION (4, 10, 0)
  {
    g_autoptr(GtkAlertDialog) alert = gtk_alert_dialog_new ("%s", question);
    const char *buttons[] = { _("_Cancel"), _("_Log Out and Connect"), NULL };

    gtk_alert_dialog_set_detail (alert, detail);
    gtk_alert_dialog_set_buttons (alert, buttons);
    gtk_alert_dialog_set_cancel_button (alert, 0);
    gtk_alert_dialog_set_default_button (alert, 1);
    gtk_alert_dialog_choose (alert, GTK_WINDOW (self), NULL, switch_alert_done,
                             g_object_ref (self));
  }
#else
  {
    GtkWidget *dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                                GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                                GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                                "%s", question);

    gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", detail);
    gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
                            _("_Log Out and Connect"), GTK_RESPONSE_ACCEPT, NULL);
    gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
    g_signal_connect (dialog, "response", G_CALLBACK (switch_dialog_response), self);
    self->switch_dialog = GTK_WINDOW (dialog);
    gtk_window_present (GTK_WINDOW (dialog));
  }
#endif
}

/* A map as a file holds it: files find devices by id, so a map started by
 * name (-map:, a file without nodeId) gets the id, name and group of the
 * device it found. NULL if it found none. */
static McrMapSpec *
mapping_to_save (McrPortMap *map)
{
  McrMapSpec *spec = mcr_map_spec_copy (mcr_port_map_get_spec (map));
  McrDevice *device = mcr_port_map_get_device (map);

  if (device != NULL)
    {
      McrDeviceGroup *group = mcr_device_get_group (device);

      g_free (spec->node_id);
      spec->node_id = g_strdup (mcr_device_get_id (device));
      g_free (spec->node_name);
      spec->node_name = g_strdup (mcr_device_get_name (device));
      if (spec->mesh_id == NULL && group != NULL)
        spec->mesh_id = g_strdup (mcr_device_group_get_id (group));
    }
  if (spec->node_id == NULL)
    g_clear_pointer (&spec, mcr_map_spec_free);
  return spec;
}

static void
save_mappings_to (McrWindow *self,
                  GFile     *file)
{
  g_autoptr(GError) error = NULL;

  if (!mcr_window_save_mappings (self, file, &error))
    mcr_window_show_message (self, error->message, TRUE);
}

gboolean
mcr_window_save_mappings (McrWindow *self,
                          GFile     *file,
                          GError   **error)
{
  McrServer *server = mcr_session_get_server (self->session);
  GListModel *maps = mcr_session_get_maps (self->session);
  g_autoptr(McrMapFile) map_file = mcr_map_file_new ();
  g_autofree char *address = login_address (self);
  const McrCertInfo *cert = server != NULL ? mcr_server_get_peer_cert_info (server) : NULL;

  g_autoptr(GString) unsaved = g_string_new (NULL);

  mcr_map_file_set_hostname (map_file, address);
  /* After a link's login the form may name nobody: the server knows. */
  mcr_map_file_set_username (map_file, server != NULL && mcr_server_get_user_name (server) != NULL
                                       ? mcr_server_get_user_name (server)
                                       : mcr_login_page_get_user (self->login_page));
  if (cert != NULL && server != NULL
      && mcr_tls_policy_is_pinned (mcr_server_get_tls_policy (server), cert))
    mcr_map_file_set_certhash (map_file, cert->sha384);
  for (guint i = 0; i < g_list_model_get_n_items (maps); i++)
    {
      g_autoptr(McrPortMap) map = g_list_model_get_item (maps, i);
      g_autoptr(McrMapSpec) spec = mapping_to_save (map);

      if (spec != NULL)
        mcr_map_file_add_mapping (map_file, spec);
      else
        {
          g_autofree char *arg = mcr_map_spec_to_argument (mcr_port_map_get_spec (map));

          g_string_append_printf (unsaved, "%s%s", unsaved->len > 0 ? ", " : "", arg);
        }
    }
  if (!mcr_map_file_save (map_file, file, MCR_MAP_FILE_SAVE_DEFAULT, NULL, error))
    return FALSE;
  if (unsaved->len > 0)
    {
      g_autofree char *message =
        g_strdup_printf (_("Not saved, as their devices are not known: %s"), unsaved->str);

      mcr_window_show_message (self, message, TRUE);
    }
  return TRUE;
}

#if GTK_CHECK_VERSION (4, 10, 0)
static void
open_dialog_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(McrWindow) self = user_data;
  g_autoptr(GFile) file = gtk_file_dialog_open_finish (GTK_FILE_DIALOG (source), result, NULL);

  if (file != NULL)
    mcr_window_open_file (self, file);
}

static void
save_dialog_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(McrWindow) self = user_data;
  g_autoptr(GFile) file = gtk_file_dialog_save_finish (GTK_FILE_DIALOG (source), result, NULL);

  if (file != NULL)
    save_mappings_to (self, file);
}
#else
static void
native_response (GtkNativeDialog *native,
                 int              response,
                 McrWindow       *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

      if (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (native)) == GTK_FILE_CHOOSER_ACTION_SAVE)
        save_mappings_to (self, file);
      else
        mcr_window_open_file (self, file);
    }
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}
#endif

static GtkFileFilter *
mcrouter_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("MeshCentral Router mappings"));
  gtk_file_filter_add_pattern (filter, "*.mcrouter");
  gtk_file_filter_add_mime_type (filter, "application/x-mcrouter");
  return filter;
}

static void
open_mappings_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);
  gboolean save = g_str_equal (action_name, "win.save-mappings");
  g_autoptr(GtkFileFilter) filter = mcrouter_filter ();

#if GTK_CHECK_VERSION (4, 10, 0)
  g_autoptr(GtkFileDialog) dialog = gtk_file_dialog_new ();
  g_autoptr(GListStore) filters = g_list_store_new (GTK_TYPE_FILE_FILTER);

  g_list_store_append (filters, filter);
  gtk_file_dialog_set_filters (dialog, G_LIST_MODEL (filters));
  gtk_file_dialog_set_default_filter (dialog, filter);
  if (save)
    {
      gtk_file_dialog_set_title (dialog, _("Save Mappings"));
      gtk_file_dialog_set_initial_name (dialog, "mappings.mcrouter");
      gtk_file_dialog_save (dialog, GTK_WINDOW (self), NULL, save_dialog_done, g_object_ref (self));
    }
  else
    {
      gtk_file_dialog_set_title (dialog, _("Open Mappings"));
      gtk_file_dialog_open (dialog, GTK_WINDOW (self), NULL, open_dialog_done, g_object_ref (self));
    }
#else
  GtkFileChooserNative *native;

  native = gtk_file_chooser_native_new (save ? _("Save Mappings") : _("Open Mappings"),
                                        GTK_WINDOW (self),
                                        save ? GTK_FILE_CHOOSER_ACTION_SAVE
                                             : GTK_FILE_CHOOSER_ACTION_OPEN,
                                        save ? _("_Save") : _("_Open"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  if (save)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), "mappings.mcrouter");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_signal_connect (native, "response", G_CALLBACK (native_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
#endif
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         McrWindow     *self)
{
  GSList *files;
  gboolean any = FALSE;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = g_value_get_boxed (value);
  for (GSList *l = files; l != NULL; l = l->next)
    {
      g_autofree char *name = g_file_get_basename (l->data);

      if (name == NULL || !g_str_has_suffix (name, ".mcrouter"))
        continue;
      mcr_window_open_file (self, l->data);
      any = TRUE;
    }
  if (!any)
    mcr_window_show_message (self, _("Only .mcrouter files can be dropped here."), TRUE);
  return any;
}

/* ---- small actions ------------------------------------------------------- */

static void
dismiss_banner_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  mcr_window_show_message (MCR_WINDOW (widget), NULL, FALSE);
}

static void
show_view_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);

  if (mcr_session_get_server (self->session) == NULL)
    return;
  show_page (self, g_str_equal (action_name, "win.show-maps") ? "maps" : "devices");
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  McrWindow *self = MCR_WINDOW (widget);

  if (mcr_session_get_server (self->session) == NULL)
    return;
  show_page (self, "devices");
  mcr_devices_page_focus_search (self->devices_page);
}

/* ---- the window ---------------------------------------------------------- */

static gboolean
mcr_window_close_request (GtkWindow *window)
{
  McrWindow *self = MCR_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  return GTK_WINDOW_CLASS (mcr_window_parent_class)->close_request (window);
}

static void
mcr_window_dispose (GObject *object)
{
  McrWindow *self = MCR_WINDOW (object);

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
      g_signal_handlers_disconnect_by_data (self->session, self);
      mcr_session_set_server (self->session, NULL);
    }
  g_clear_object (&self->switch_file);
  g_clear_pointer (&self->switch_url, mcr_router_url_free);
  if (self->switch_dialog != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->switch_dialog, self);
      gtk_window_destroy (g_steal_pointer (&self->switch_dialog));
    }
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_WINDOW);
  g_clear_object (&self->session);
  g_clear_object (&self->secrets);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->queued_maps, g_ptr_array_unref);
  G_OBJECT_CLASS (mcr_window_parent_class)->dispose (object);
}

static void
mcr_window_finalize (GObject *object)
{
  McrWindow *self = MCR_WINDOW (object);

  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->accepted_hash, g_free);
  g_clear_pointer (&self->twofa_cookie, mcr_secret_free);
  g_clear_pointer (&self->auth_cookie, mcr_secret_free);
  g_clear_pointer (&self->certhashes, g_strfreev);
  g_clear_pointer (&self->file_certhash, g_free);
  g_clear_pointer (&self->switch_name, g_free);
  g_clear_pointer (&self->proxy, g_free);
  G_OBJECT_CLASS (mcr_window_parent_class)->finalize (object);
}

static void
mcr_window_class_init (McrWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = mcr_window_dispose;
  object_class->finalize = mcr_window_finalize;
  window_class->close_request = mcr_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-window.ui");
  gtk_widget_class_bind_template_child (widget_class, McrWindow, title_stack);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, add_map_button);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, banner);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, McrWindow, view_stack);

  gtk_widget_class_install_action (widget_class, "win.add-map", NULL, add_map_action);
  gtk_widget_class_install_action (widget_class, "win.add-relay-map", NULL, add_map_action);
  gtk_widget_class_install_action (widget_class, "win.quick-map", "s", quick_map_action);
  gtk_widget_class_install_action (widget_class, "win.logout", NULL, logout_action);
  gtk_widget_class_install_action (widget_class, "win.open-mappings", NULL, open_mappings_action);
  gtk_widget_class_install_action (widget_class, "win.save-mappings", NULL, open_mappings_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-banner", NULL,
                                   dismiss_banner_action);
  gtk_widget_class_install_action (widget_class, "win.show-devices", NULL, show_view_action);
  gtk_widget_class_install_action (widget_class, "win.show-maps", NULL, show_view_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.switch-server", NULL, switch_server_action);
  gtk_widget_class_install_action (widget_class, "win.keep-server", NULL, keep_server_action);
}

static void
add_pages (McrWindow *self)
{
  GtkStackPage *page;

  self->login_page = MCR_LOGIN_PAGE (mcr_login_page_new ());
  self->token_page = MCR_TOKEN_PAGE (mcr_token_page_new ());
  self->cert_page = MCR_CERT_PAGE (mcr_cert_page_new ());
  self->devices_page = MCR_DEVICES_PAGE (mcr_devices_page_new ());
  self->maps_page = MCR_MAPS_PAGE (mcr_maps_page_new ());

  gtk_stack_add_named (self->stack, GTK_WIDGET (self->login_page), "login");
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->token_page), "token");
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->cert_page), "certificate");

  page = gtk_stack_add_titled (self->view_stack, GTK_WIDGET (self->devices_page), "devices",
                               _("_Devices"));
  gtk_stack_page_set_use_underline (page, TRUE);
  page = gtk_stack_add_titled (self->view_stack, GTK_WIDGET (self->maps_page), "maps", _("_Maps"));
  gtk_stack_page_set_use_underline (page, TRUE);

  g_signal_connect (self->login_page, "login", G_CALLBACK (on_login), self);
  g_signal_connect (self->login_page, "cancel", G_CALLBACK (on_login_cancel), self);
  g_signal_connect (self->token_page, "submit", G_CALLBACK (on_token_submit), self);
  g_signal_connect (self->token_page, "send-code", G_CALLBACK (on_token_send), self);
  g_signal_connect_swapped (self->token_page, "cancel", G_CALLBACK (cancel_login), self);
  g_signal_connect (self->cert_page, "accept", G_CALLBACK (on_cert_accept), self);
  g_signal_connect_swapped (self->cert_page, "cancel", G_CALLBACK (cancel_login), self);
  g_signal_connect (self->devices_page, "device-activated", G_CALLBACK (on_device_activated),
                    self);
  g_signal_connect (self->maps_page, "open-map", G_CALLBACK (on_open_map), self);
  g_signal_connect (self->maps_page, "remove-map", G_CALLBACK (on_remove_map), self);
}

static void
mcr_window_init (McrWindow *self)
{
  g_auto(GStrv) recent = NULL;
  g_autofree char *last_server = NULL;
  g_autofree char *last_user = NULL;
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));
  {
    g_autoptr(GtkBuilder) builder =
      gtk_builder_new_from_resource ("/org/meshcentral/Router/gtk/help-overlay.ui");

    gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (self),
                                             GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay")));
  }
  self->settings = g_settings_new (APP_ID);
  self->session = mcr_session_new (self->settings);
  self->secrets = mcr_secret_store_new ();
  self->queued_maps = g_ptr_array_new_with_free_func ((GDestroyNotify) mcr_map_spec_free);
  add_pages (self);

  g_signal_connect (self->session, "launch-failed", G_CALLBACK (on_launch_failed), self);
  mcr_maps_page_set_maps (self->maps_page, mcr_session_get_maps (self->session));

  recent = g_settings_get_strv (self->settings, "recent-servers");
  last_server = g_settings_get_string (self->settings, "last-server");
  last_user = g_settings_get_string (self->settings, "last-user");
  mcr_login_page_set_recent (self->login_page, (const char *const *) recent);
  mcr_login_page_set_server (self->login_page, last_server);
  mcr_login_page_set_user (self->login_page, last_user);
  mcr_login_page_set_remember (self->login_page,
                               g_settings_get_boolean (self->settings, "remember-password"));
  lookup_password (self);
  g_signal_connect_swapped (self->devices_page, "notify::selected-device",
                            G_CALLBACK (on_selection_changed), self);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  update_actions (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.switch-server", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.keep-server", FALSE);
  show_page (self, "login");
}

McrWindow *
mcr_window_new (McrApplication *app)
{
  return g_object_new (MCR_TYPE_WINDOW, "application", app, NULL);
}

McrSession *
mcr_window_get_session (McrWindow *self)
{
  g_return_val_if_fail (MCR_IS_WINDOW (self), NULL);
  return self->session;
}

void
mcr_window_queue_maps (McrWindow *self,
                       GPtrArray *specs)
{
  McrServer *server;

  g_return_if_fail (MCR_IS_WINDOW (self));

  for (guint i = 0; specs != NULL && i < specs->len; i++)
    g_ptr_array_add (self->queued_maps, mcr_map_spec_copy (g_ptr_array_index (specs, i)));
  server = mcr_session_get_server (self->session);
  if (server != NULL && mcr_server_get_devices_loaded (server))
    create_queued_maps (self);
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
  on_login (self->login_page, self);
}

void
mcr_window_open (McrWindow *self,
                 GFile     *file)
{
  g_return_if_fail (MCR_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  if (g_file_has_uri_scheme (file, "mcrouter"))
    {
      g_autofree char *uri = g_file_get_uri (file);

      open_router_url (self, uri);
      return;
    }
  mcr_window_open_file (self, file);
}

/* The .mcrouter files of the command line, read at once (as the Windows
 * router does): the first good one fills the login form, like the options
 * after it may; files for another server than the first are refused, and a
 * broken file is refused as a whole. */
static McrMapFile *
read_command_line_files (McrWindow        *self,
                         const McrOptions *options)
{
  McrMapFile *filled = NULL;   /* the file that filled the login form */
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autoptr(McrServer) first = NULL;

  for (guint i = 0; options->files != NULL && i < options->files->len; i++)
    {
      g_autoptr(GFile) gfile = g_file_new_for_commandline_arg (g_ptr_array_index (options->files, i));
      g_autofree char *base = g_file_get_basename (gfile);
      g_autofree char *name = g_filename_display_name (base != NULL ? base : "");
      g_autoptr(GError) error = NULL;
      g_autoptr(McrMapFile) file = mcr_map_file_new_from_file (gfile, NULL, &error);

      if (file == NULL)
        {
          g_string_append_printf (problems, "%s\n", error->message);
          continue;
        }
      if (mcr_session_get_server (self->session) != NULL)
        {
          open_map_file (self, file, name);
          continue;
        }
      if (first != NULL && !mcr_server_has_address (first, mcr_map_file_get_hostname (file)))
        {
          g_autofree char *other = display_address (mcr_map_file_get_hostname (file));

          g_string_append_printf (problems, _("%s is for the server %s, not %s: its maps "
                                              "were not added.\n"),
                                  name, other, mcr_server_get_display_name (first));
          continue;
        }
      if (first == NULL)
        {
          first = mcr_server_new (mcr_map_file_get_hostname (file), NULL);
          fill_login_from_file (self, file);
          filled = g_object_ref (file);
        }
      queue_file_maps (self, file);
    }
  if (problems->len > 0)
    {
      g_strchomp (problems->str);
      mcr_login_page_set_message (self->login_page, problems->str, TRUE);
      mcr_window_show_message (self, problems->str, TRUE);
    }
  return filled;
}

void
mcr_window_apply_options (McrWindow        *self,
                          const McrOptions *options)
{
  g_autoptr(McrMapFile) file = NULL;
  const char *password;

  g_return_if_fail (MCR_IS_WINDOW (self));
  g_return_if_fail (options != NULL);

  g_clear_pointer (&self->certhashes, g_strfreev);
  self->certhashes = g_strdupv (options->certhashes);
  self->ignore_cert = options->ignore_cert;
  g_free (self->proxy);
  self->proxy = g_strdup (options->proxy);
  mcr_session_set_force_all_interfaces (self->session, options->all_interfaces);

  file = read_command_line_files (self, options);
  /* The options complete or override what the files say. */
  if (options->host != NULL)
    mcr_login_page_set_server (self->login_page, options->host);
  if (options->user != NULL)
    mcr_login_page_set_user (self->login_page, options->user);
  password = options->password != NULL ? options->password : g_getenv ("MCROUTER_PASSWORD");
  if (password != NULL)
    mcr_login_page_set_password (self->login_page, password);
  mcr_window_queue_maps (self, options->maps);

  if (mcr_session_get_server (self->session) != NULL)
    return;
  if (options->urls != NULL && options->urls->len > 0)
    {
      open_router_url (self, g_ptr_array_index (options->urls, 0));
      return;
    }
  /* Server, user and password all given: log in, as the Windows router
   * does. Else the form waits, filled as far as it can be. */
  if (password == NULL && file != NULL)
    password = mcr_map_file_get_password (file);
  if ((options->host != NULL || file != NULL) && (options->user != NULL || file != NULL))
    {
      if (password != NULL)
        on_login (self->login_page, self);
      else
        lookup_password (self);
    }
}
