/* mcr-application.c: the GtkApplication, one instance per user session
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Closing the window while maps are active does not stop them: the window
 * is hidden instead of destroyed (GtkApplication holds the application for
 * each of its windows, hidden or not), and a notification says so, with
 * Show Window and Quit. Launching the application again, or app.show-window,
 * shows it. With no active map, closing the window quits as usual.
 * Where the desktop shows a tray icon (mcr-tray.c, registered with a
 * StatusNotifierWatcher), closing the window always hides it into the icon,
 * with no notification; the icon's menu shows it again or quits.
 */
#define G_LOG_DOMAIN "mcr-application"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-application.h"
#include "mcr-autostart.h"
#include "mcr-custom-apps-dialog.h"
#include "mcr-debug-log-window.h"
#include "mcr-debug-log.h"
#include "mcr-settings-schema.h"
#include "mcr-notifier.h"
#include "mcr-secret-store.h"
#include "mcr-settings-dialog.h"
#include "mcr-tray.h"
#include "mcr-window.h"

struct _McrApplication
{
  GtkApplication parent_instance;

  McrOptions    *options;
  McrDebugLog   *debug_log;
  GtkWindow     *debug_log_window; /* hidden on close, destroyed at shutdown */
  GtkCssProvider *css;
  McrNotifier   *notifier;
  McrTray       *tray;          /* the icon, where the desktop has a tray */
  McrAutostart  *autostart;     /* follows the start-at-login setting */
  gboolean       options_applied;
  gboolean       held;          /* -tray: held until the window shows */
  gboolean       quitting;      /* app.quit: closing the window must not hide it */
};

G_DEFINE_FINAL_TYPE (McrApplication, mcr_application, GTK_TYPE_APPLICATION)

static McrWindow *
get_window (McrApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (MCR_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

/* Runs after the window's own handler (which saves its size). */
static gboolean
on_close_request (McrWindow      *window,
                  McrApplication *self)
{
  guint n = mcr_session_get_n_active_maps (mcr_window_get_session (window));

  if (self->quitting)
    return FALSE;
  /* With the icon in the tray, the window goes there; else the
   * notification says where the maps went. */
  if (self->tray != NULL && mcr_tray_get_registered (self->tray))
    {
      g_debug ("the window closed: running on in the tray");
      gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
      return TRUE;
    }
  if (n == 0)
    return FALSE;
  g_debug ("the window closed with %u active maps: running on in the background", n);
  gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
  mcr_notifier_show_background (self->notifier, n);
  return TRUE;
}

static void
on_window_visible (McrWindow      *window,
                   GParamSpec     *pspec,
                   McrApplication *self)
{
  if (!gtk_widget_get_visible (GTK_WIDGET (window)))
    return;
  /* Shown, whichever way (launched again, a notification, a login that
   * needs the user): the -tray hold and the background notice are over. */
  if (self->held)
    {
      g_application_release (G_APPLICATION (self));
      self->held = FALSE;
    }
  if (self->notifier != NULL)
    mcr_notifier_withdraw_background (self->notifier);
}

static void
on_window_destroy (McrWindow      *window,
                   McrApplication *self)
{
  g_clear_object (&self->notifier);
  g_clear_object (&self->tray);
}

static McrWindow *
ensure_window (McrApplication *self)
{
  McrWindow *window = get_window (self);
  McrSession *session;

  if (window == NULL)
    {
      window = mcr_window_new (self);
      session = mcr_window_get_session (window);
      g_signal_connect_swapped (session, "auto-exit", G_CALLBACK (g_application_quit), self);
      g_clear_object (&self->notifier);
      self->notifier = mcr_notifier_new (G_APPLICATION (self), session);
      g_clear_object (&self->tray);
      self->tray = mcr_tray_new (G_APPLICATION (self), session);
      g_signal_connect_after (window, "close-request", G_CALLBACK (on_close_request), self);
      g_signal_connect (window, "notify::visible", G_CALLBACK (on_window_visible), self);
      g_signal_connect (window, "destroy", G_CALLBACK (on_window_destroy), self);
    }
  return window;
}

static void
password_found (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(McrApplication) self = user_data;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(GError) error = NULL;
  char *password = mcr_secret_store_lookup_finish (MCR_SECRET_STORE (source), result, &error);
  McrWindow *window = get_window (self);

  if (window == NULL)
    {
      mcr_secret_wipe_free (password);
      return;
    }
  if (password != NULL)
    {
      g_debug ("-tray: logging in to the last server with the password from the keyring");
      self->options->host = g_settings_get_string (settings, "last-server");
      self->options->user = g_settings_get_string (settings, "last-user");
      self->options->password = g_strdup (password);
      mcr_secret_wipe_free (password);
    }
  else
    g_debug ("-tray: no password in the keyring (%s)", error ? error->message : "none stored");
  mcr_window_apply_options (window, self->options);
}

/* -tray with nothing to log into (as started at login): the last server
 * and user, with the password the keyring remembers for them. TRUE when
 * the options are applied once the keyring has answered. */
static gboolean
login_from_keyring (McrApplication *self)
{
  McrOptions *options = self->options;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(McrSecretStore) secrets = NULL;
  g_autofree char *server = NULL;
  g_autofree char *user = NULL;

  if (!options->tray || options->host != NULL || options->user != NULL
      || options->password != NULL || (options->files != NULL && options->files->len > 0)
      || (options->urls != NULL && options->urls->len > 0)
      || !g_settings_get_boolean (settings, "remember-password"))
    return FALSE;
  server = g_settings_get_string (settings, "last-server");
  user = g_settings_get_string (settings, "last-user");
  if (*server == '\0' || *user == '\0')
    return FALSE;
  secrets = mcr_secret_store_new ();
  mcr_secret_store_lookup_async (secrets, server, user, MCR_SECRET_KIND_PASSWORD, NULL,
                                 password_found, g_object_ref (self));
  return TRUE;
}

static void
mcr_application_activate (GApplication *app)
{
  McrApplication *self = MCR_APPLICATION (app);
  McrWindow *window = ensure_window (self);

  if (!self->options_applied && self->options != NULL)
    {
      self->options_applied = TRUE;
      if (self->options->tray)
        {
          /* -tray: run without showing the window; activating the
           * application again (launching it a second time) shows it. */
          g_application_hold (app);
          self->held = TRUE;
        }
      else
        gtk_window_present (GTK_WINDOW (window));
      if (!login_from_keyring (self))
        mcr_window_apply_options (window, self->options);
      return;
    }
  gtk_window_present (GTK_WINDOW (window));
}

static void
mcr_application_open (GApplication  *app,
                      GFile        **files,
                      int            n_files,
                      const char    *hint)
{
  McrApplication *self = MCR_APPLICATION (app);
  McrWindow *window;

  mcr_application_activate (app);
  window = ensure_window (self);
  for (int i = 0; i < n_files; i++)
    mcr_window_open (window, files[i]);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  McrApplication *self = user_data;
  McrWindow *window = get_window (self);

  self->quitting = TRUE;
  if (window != NULL)
    gtk_window_close (GTK_WINDOW (window));
  g_application_quit (G_APPLICATION (self));
}

static void
show_window_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  McrApplication *self = user_data;

  gtk_window_present (GTK_WINDOW (ensure_window (self)));
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  McrApplication *self = user_data;
  const char *authors[] = { "MeshCentral Router for Linux contributors", NULL };

  gtk_show_about_dialog (GTK_WINDOW (get_window (self)),
                         "program-name", _("MeshCentral Router"),
                         "logo-icon-name", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Reach services on remote computers through a MeshCentral server"),
                         "website", "https://meshcentral.com",
                         "license-type", GTK_LICENSE_APACHE_2_0,
                         "authors", authors,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
settings_action (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  McrApplication *self = user_data;

  gtk_window_present (GTK_WINDOW (mcr_settings_dialog_new (GTK_WINDOW (get_window (self)))));
}

static void
custom_apps_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  McrApplication *self = user_data;

  gtk_window_present (GTK_WINDOW (mcr_custom_apps_dialog_new (GTK_WINDOW (get_window (self)))));
}

static void
debug_log_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  McrApplication *self = user_data;

  if (self->debug_log_window == NULL)
    self->debug_log_window = GTK_WINDOW (mcr_debug_log_window_new (self->debug_log));
  gtk_window_set_transient_for (self->debug_log_window, GTK_WINDOW (get_window (self)));
  gtk_window_present (self->debug_log_window);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action },
  { "show-window", show_window_action },
  { "about", about_action },
  { "settings", settings_action },
  { "custom-apps", custom_apps_action },
  { "debug-log", debug_log_action },
};

static void
mcr_application_startup (GApplication *app)
{
  McrApplication *self = MCR_APPLICATION (app);
  static const struct
  {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Primary>q", NULL } },
    { "app.settings", { "<Primary>comma", NULL } },
    { "win.show-help-overlay", { "<Primary>question", NULL } },
    { "win.add-map", { "<Primary>n", NULL } },
    { "win.add-relay-map", { "<Primary><Shift>n", NULL } },
    { "win.open-mappings", { "<Primary>o", NULL } },
    { "win.save-mappings", { "<Primary>s", NULL } },
    { "win.show-devices", { "<Alt>1", NULL } },
    { "win.show-maps", { "<Alt>2", NULL } },
    { "win.search", { "<Primary>f", NULL } },
  };

  G_APPLICATION_CLASS (mcr_application_parent_class)->startup (app);

  /* GtkApplication does not pick up style.css by itself here (GTK 4.8 with
   * our resource registered by a constructor), so load it explicitly. */
  if (self->css == NULL)
    {
      self->css = gtk_css_provider_new ();
      gtk_css_provider_load_from_resource (self->css, "/org/meshcentral/Router/style.css");
      gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                  GTK_STYLE_PROVIDER (self->css),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    }
  gtk_window_set_default_icon_name (APP_ID);
  if (self->autostart == NULL)
    {
      g_autoptr(GSettings) settings = g_settings_new (APP_ID);

      self->autostart = mcr_autostart_new (settings);
    }
  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action,
                                           accels[i].accels);
}

static void
mcr_application_shutdown (GApplication *app)
{
  McrApplication *self = MCR_APPLICATION (app);
  McrWindow *window;

  /* Stop every map before the process goes. */
  if (self->notifier != NULL)
    mcr_notifier_withdraw_background (self->notifier);
  while ((window = get_window (self)) != NULL)
    gtk_window_destroy (GTK_WINDOW (window));
  if (self->debug_log_window != NULL)
    gtk_window_destroy (g_steal_pointer (&self->debug_log_window));
  G_APPLICATION_CLASS (mcr_application_parent_class)->shutdown (app);
}

static void
mcr_application_finalize (GObject *object)
{
  McrApplication *self = MCR_APPLICATION (object);

  g_clear_pointer (&self->options, mcr_options_free);
  g_clear_object (&self->notifier);
  g_clear_object (&self->tray);
  g_clear_object (&self->autostart);
  g_clear_object (&self->debug_log);
  g_clear_object (&self->css);
  G_OBJECT_CLASS (mcr_application_parent_class)->finalize (object);
}

static void
mcr_application_class_init (McrApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = mcr_application_finalize;
  app_class->activate = mcr_application_activate;
  app_class->open = mcr_application_open;
  app_class->startup = mcr_application_startup;
  app_class->shutdown = mcr_application_shutdown;
}

static void
mcr_application_init (McrApplication *self)
{
  self->debug_log = mcr_debug_log_get_default ();
}

McrApplication *
mcr_application_new (McrOptions *options)
{
  McrApplication *self;
  GApplicationFlags flags = G_APPLICATION_HANDLES_OPEN;

  /* A login asked for on the command line gets a process of its own, as
   * with the Windows router; plain launches and opened files go to the
   * running instance. A hidden (-tray) instance stays unique, so that
   * launching the application again shows it. */
  if (options != NULL && !options->tray
      && (options->host != NULL || options->user != NULL
          || (options->maps != NULL && options->maps->len > 0)))
    flags |= G_APPLICATION_NON_UNIQUE;

  self = g_object_new (MCR_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", flags,
                       NULL);
  self->options = options;
  if (options != NULL)
    mcr_debug_log_set_recording (self->debug_log, options->debug);
  return self;
}

int
mcr_application_run (McrOptions *options,
                     int         argc,
                     char      **argv)
{
  g_autoptr(McrApplication) app = NULL;
  g_autofree char *password = NULL;
  g_autoptr(GError) error = NULL;

  if (!mcr_settings_schema_ensure (&error))
    {
      g_printerr ("meshcentral-router: %s\n", error->message);
      mcr_options_free (options);
      return 1;
    }
  /* The password must not reach the programs we start for maps. */
  password = g_strdup (g_getenv ("MCROUTER_PASSWORD"));
  if (password != NULL && options->password == NULL)
    options->password = g_steal_pointer (&password);
  g_unsetenv ("MCROUTER_PASSWORD");

  app = mcr_application_new (options);

  /* Files and links go to the instance that runs already, if any. */
  if ((g_application_get_flags (G_APPLICATION (app)) & G_APPLICATION_NON_UNIQUE) == 0
      && ((options->files != NULL && options->files->len > 0)
          || (options->urls != NULL && options->urls->len > 0))
      && g_application_register (G_APPLICATION (app), NULL, NULL)
      && g_application_get_is_remote (G_APPLICATION (app)))
    {
      g_autoptr(GPtrArray) args = g_ptr_array_new ();

      /* GApplication sends them on (as "open") and returns. */
      g_ptr_array_add (args, argv[0]);
      for (guint i = 0; options->files != NULL && i < options->files->len; i++)
        g_ptr_array_add (args, g_ptr_array_index (options->files, i));
      for (guint i = 0; options->urls != NULL && i < options->urls->len; i++)
        g_ptr_array_add (args, g_ptr_array_index (options->urls, i));
      g_ptr_array_add (args, NULL);
      return g_application_run (G_APPLICATION (app), args->len - 1, (char **) args->pdata);
    }

  /* Our arguments were parsed already; GApplication must not see them. */
  return g_application_run (G_APPLICATION (app), 1, argv);
}
