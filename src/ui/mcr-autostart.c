/* mcr-autostart.c: starting the router at desktop login, hidden (-tray)
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Outside Flatpak: an XDG autostart entry (Desktop Application Autostart
 * Specification) in $XDG_CONFIG_HOME/autostart, marked as ours so that
 * turning the setting off removes only what we wrote. Inside Flatpak the
 * sandbox cannot write there: the Background portal does it
 * (org.freedesktop.portal.Background.RequestBackground with autostart and
 * the command line), and removes it again when asked with autostart false.
 * The started router (-tray) shows no window, logs in from the keyring
 * (mcr-application.c) and runs the maps it is given.
 */
#define G_LOG_DOMAIN "mcr-autostart"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "mcr-autostart.h"

#define PORTAL_NAME       "org.freedesktop.portal.Desktop"
#define PORTAL_PATH       "/org/freedesktop/portal/desktop"
#define BACKGROUND_IFACE  "org.freedesktop.portal.Background"
#define REQUEST_IFACE     "org.freedesktop.portal.Request"
#define ENTRY_MARK        "X-MeshCentral-Router-Autostart"

struct _McrAutostart
{
  GObject    parent_instance;

  GSettings *settings;
  char      *flatpak_info;
};

G_DEFINE_FINAL_TYPE (McrAutostart, mcr_autostart, G_TYPE_OBJECT)

static const char *const commandline[] = { "meshcentral-router", "-tray", NULL };

const char *const *
mcr_autostart_get_commandline (void)
{
  return commandline;
}

char *
mcr_autostart_get_entry_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart", APP_ID ".desktop", NULL);
}

gboolean
mcr_autostart_get_flatpak (McrAutostart *self)
{
  g_return_val_if_fail (MCR_IS_AUTOSTART (self), FALSE);
  return g_file_test (self->flatpak_info, G_FILE_TEST_EXISTS);
}

void
mcr_autostart_set_flatpak_info (McrAutostart *self,
                                const char   *path)
{
  g_return_if_fail (MCR_IS_AUTOSTART (self));
  g_free (self->flatpak_info);
  self->flatpak_info = g_strdup (path);
}

/* ---- outside Flatpak: the autostart entry ------------------------------- */

static gboolean
write_entry (GError **error)
{
  g_autofree char *path = mcr_autostart_get_entry_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GKeyFile) entry = g_key_file_new ();
  g_autofree char *exec = g_strjoinv (" ", (char **) commandline);
  g_autofree char *text = NULL;
  const char *group = G_KEY_FILE_DESKTOP_GROUP;

  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_TYPE, "Application");
  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_NAME, _("MeshCentral Router"));
  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_COMMENT,
                         _("Start hidden at login, logged in, with its maps"));
  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_EXEC, exec);
  g_key_file_set_string (entry, group, G_KEY_FILE_DESKTOP_KEY_ICON, APP_ID);
  g_key_file_set_boolean (entry, group, G_KEY_FILE_DESKTOP_KEY_TERMINAL, FALSE);
  g_key_file_set_boolean (entry, group, G_KEY_FILE_DESKTOP_KEY_NO_DISPLAY, TRUE);
  g_key_file_set_boolean (entry, group, "X-GNOME-Autostart-enabled", TRUE);
  g_key_file_set_boolean (entry, group, ENTRY_MARK, TRUE);
  text = g_key_file_to_data (entry, NULL, NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create the folder %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  g_debug ("writing %s", path);
  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

/* Removes the entry if we wrote it; one the user made is left alone. */
static gboolean
remove_entry (GError **error)
{
  g_autofree char *path = mcr_autostart_get_entry_path ();
  g_autoptr(GKeyFile) entry = g_key_file_new ();

  if (!g_key_file_load_from_file (entry, path, G_KEY_FILE_NONE, NULL))
    return TRUE;
  if (!g_key_file_get_boolean (entry, G_KEY_FILE_DESKTOP_GROUP, ENTRY_MARK, NULL))
    {
      g_debug ("%s is not ours: left alone", path);
      return TRUE;
    }
  g_debug ("removing %s", path);
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not remove %s: %s"), path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* ---- inside Flatpak: the Background portal -------------------------------- */

typedef struct
{
  GDBusConnection *connection;
  char            *request_path;
  guint            response_id;
  gboolean         enabled;
  gboolean         done;        /* the task has its result */
} PortalCall;

static void
portal_call_free (PortalCall *call)
{
  if (call->response_id != 0)
    g_dbus_connection_signal_unsubscribe (call->connection, call->response_id);
  g_clear_object (&call->connection);
  g_free (call->request_path);
  g_free (call);
}

static void
on_response (GDBusConnection *connection,
             const char      *sender,
             const char      *path,
             const char      *interface,
             const char      *signal,
             GVariant        *parameters,
             gpointer         user_data)
{
  GTask *task = user_data;   /* held by the subscription */
  PortalCall *call = g_task_get_task_data (task);
  g_autoptr(GVariant) results = NULL;
  gboolean autostart = FALSE;
  guint response;

  if (call->done)
    return;
  call->done = TRUE;
  g_variant_get (parameters, "(u@a{sv})", &response, &results);
  g_variant_lookup (results, "autostart", "b", &autostart);
  g_debug ("the Background portal answered %u, autostart %s", response,
           autostart ? "on" : "off");
  if (response != 0 || autostart != call->enabled)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                             _("The desktop did not allow MeshCentral Router to start at login"));
  else
    g_task_return_boolean (task, TRUE);
  /* Drops the subscription's reference, later, from the main loop. */
  g_dbus_connection_signal_unsubscribe (connection, call->response_id);
  call->response_id = 0;
}

static void
on_requested (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PortalCall *call = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply != NULL || call->done)
    return;   /* the Response signal brings the answer */
  call->done = TRUE;
  g_task_return_error (task, g_steal_pointer (&error));
  g_dbus_connection_signal_unsubscribe (call->connection, call->response_id);
  call->response_id = 0;
}

static void
request_background (GTask   *task,
                    gboolean enabled)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = g_strdup_printf ("mcr%u", g_random_int ());
  g_autofree char *sender = NULL;
  GVariantBuilder options;
  PortalCall *call = g_new0 (PortalCall, 1);

  g_task_set_task_data (task, call, (GDestroyNotify) portal_call_free);
  call->enabled = enabled;
  call->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, g_task_get_cancellable (task), &error);
  if (call->connection == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  /* The request object's path is known before the call (the portal's
   * documented scheme): subscribed first, no answer is missed. */
  sender = g_strdup (g_dbus_connection_get_unique_name (call->connection) + 1);
  g_strdelimit (sender, ".", '_');
  call->request_path = g_strdup_printf (PORTAL_PATH "/request/%s/%s", sender, token);
  call->response_id =
    g_dbus_connection_signal_subscribe (call->connection, PORTAL_NAME, REQUEST_IFACE, "Response",
                                        call->request_path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        on_response, g_object_ref (task), g_object_unref);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (&options, "{sv}", "reason",
                         g_variant_new_string (_("Start hidden at login, logged in, with its maps")));
  g_variant_builder_add (&options, "{sv}", "autostart", g_variant_new_boolean (enabled));
  g_variant_builder_add (&options, "{sv}", "commandline",
                         g_variant_new_strv (commandline, -1));
  g_variant_builder_add (&options, "{sv}", "dbus-activatable", g_variant_new_boolean (FALSE));
  g_debug ("asking the Background portal for autostart %s", enabled ? "on" : "off");
  g_dbus_connection_call (call->connection, PORTAL_NAME, PORTAL_PATH, BACKGROUND_IFACE,
                          "RequestBackground", g_variant_new ("(sa{sv})", "", &options),
                          G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          g_task_get_cancellable (task), on_requested, task);
}

/* ---- applying ------------------------------------------------------------ */

void
mcr_autostart_apply_async (McrAutostart        *self,
                           gboolean             enabled,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (MCR_IS_AUTOSTART (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mcr_autostart_apply_async);
  if (mcr_autostart_get_flatpak (self))
    {
      request_background (task, enabled);
      return;
    }
  if (enabled ? write_entry (&error) : remove_entry (&error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_steal_pointer (&error));
  g_object_unref (task);
}

gboolean
mcr_autostart_apply_finish (McrAutostart  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_applied (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  McrAutostart *self = MCR_AUTOSTART (source);
  g_autoptr(GError) error = NULL;

  if (mcr_autostart_apply_finish (self, result, &error))
    return;
  g_debug ("start at login: %s", error->message);
  /* The switch shows what really happens. */
  if (g_settings_get_boolean (self->settings, "start-at-login"))
    g_settings_set_boolean (self->settings, "start-at-login", FALSE);
}

static void
on_setting_changed (GSettings    *settings,
                    const char   *key,
                    McrAutostart *self)
{
  mcr_autostart_apply_async (self, g_settings_get_boolean (settings, key), NULL, on_applied,
                             NULL);
}

/* ---- object ---------------------------------------------------------------- */

static void
mcr_autostart_dispose (GObject *object)
{
  McrAutostart *self = MCR_AUTOSTART (object);

  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mcr_autostart_parent_class)->dispose (object);
}

static void
mcr_autostart_finalize (GObject *object)
{
  McrAutostart *self = MCR_AUTOSTART (object);

  g_free (self->flatpak_info);
  G_OBJECT_CLASS (mcr_autostart_parent_class)->finalize (object);
}

static void
mcr_autostart_class_init (McrAutostartClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mcr_autostart_dispose;
  G_OBJECT_CLASS (klass)->finalize = mcr_autostart_finalize;
}

static void
mcr_autostart_init (McrAutostart *self)
{
  self->flatpak_info = g_strdup ("/.flatpak-info");
}

McrAutostart *
mcr_autostart_new (GSettings *settings)
{
  McrAutostart *self = g_object_new (MCR_TYPE_AUTOSTART, NULL);

  self->settings = g_object_ref (settings);
  g_signal_connect (settings, "changed::start-at-login", G_CALLBACK (on_setting_changed), self);
  /* GSettings emits "changed" only for keys that were read. */
  g_settings_get_boolean (settings, "start-at-login");
  return self;
}
