/* SPDX-License-Identifier: Apache-2.0
 *
 * Start at login, from the "start-at-login" setting. Outside Flatpak: the
 * XDG autostart entry appears in $XDG_CONFIG_HOME/autostart (a temporary
 * folder here), passes desktop-file-validate, runs "meshcentral-router
 * -tray", and goes again when the setting is turned off (an entry the user
 * wrote is left alone). Inside Flatpak (a stand-in /.flatpak-info): this
 * program plays the Background portal on a private session bus
 * (tests/meson.build runs it under dbus-run-session); the request carries
 * autostart and the command line, no entry is written, and a refusal sets
 * the setting back to false.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mcr-autostart.h"
#include "mcr-test-bus.h"
#include "mcr-testbed.h"

static char *work_dir;

/* ---- the portal ------------------------------------------------------------ */

static GDBusConnection *portal;
static GPtrArray *requests;      /* a{sv} options of each RequestBackground */
static guint answer = 0;         /* the Response code the portal gives */

typedef struct
{
  char     *sender;
  char     *path;
  gboolean  autostart;
} Response;

static gboolean
send_response (gpointer data)
{
  Response *r = data;
  GVariantBuilder results;
  g_autoptr(GError) error = NULL;

  g_variant_builder_init (&results, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&results, "{sv}", "background", g_variant_new_boolean (answer == 0));
  g_variant_builder_add (&results, "{sv}", "autostart",
                         g_variant_new_boolean (answer == 0 && r->autostart));
  g_dbus_connection_emit_signal (portal, r->sender, r->path, "org.freedesktop.portal.Request",
                                 "Response", g_variant_new ("(ua{sv})", answer, &results),
                                 &error);
  g_assert_no_error (error);
  g_free (r->sender);
  g_free (r->path);
  g_free (r);
  return G_SOURCE_REMOVE;
}

static void
portal_method (GDBusConnection       *connection,
               const char            *sender,
               const char            *path,
               const char            *interface,
               const char            *method,
               GVariant              *parameters,
               GDBusMethodInvocation *invocation,
               gpointer               data)
{
  g_autoptr(GVariant) options = NULL;
  g_autofree char *name = g_strdup (sender + 1);
  g_autofree char *text = NULL;
  const char *parent = NULL;
  const char *token = "none";
  Response *r = g_new0 (Response, 1);

  g_variant_get (parameters, "(&s@a{sv})", &parent, &options);
  text = g_variant_print (options, TRUE);
  g_test_message ("portal: RequestBackground (%s, %s)", parent, text);
  g_ptr_array_add (requests, g_variant_ref (options));
  g_variant_lookup (options, "handle_token", "&s", &token);
  g_variant_lookup (options, "autostart", "b", &r->autostart);
  g_strdelimit (name, ".", '_');
  r->sender = g_strdup (sender);
  r->path = g_strdup_printf ("/org/freedesktop/portal/desktop/request/%s/%s", name, token);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", r->path));
  g_idle_add (send_response, r);
}

static void
portal_start (void)
{
  static const char xml[] =
    "<node><interface name='org.freedesktop.portal.Background'>"
    "<method name='RequestBackground'><arg type='s' direction='in'/>"
    "<arg type='a{sv}' direction='in'/><arg type='o' direction='out'/></method>"
    "</interface></node>";
  static const GDBusInterfaceVTable vtable = { portal_method, NULL, NULL, { 0 } };

  requests = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  portal = mcr_test_bus_connect ();
  mcr_test_bus_export (portal, "/org/freedesktop/portal/desktop", xml, &vtable, NULL);
  mcr_test_bus_own_name (portal, "org.freedesktop.portal.Desktop");
}

/* ---- helpers ------------------------------------------------------------------ */

static gboolean
entry_exists (gpointer data)
{
  g_autofree char *path = mcr_autostart_get_entry_path ();

  return g_file_test (path, G_FILE_TEST_EXISTS) == GPOINTER_TO_INT (data);
}

static gboolean
n_requests_is (gpointer n)
{
  return requests->len == GPOINTER_TO_UINT (n);
}

static gboolean
setting_is (gpointer data)
{
  GSettings *settings = data;

  return !g_settings_get_boolean (settings, "start-at-login");
}

static void
applied (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mcr_autostart_apply_finish (MCR_AUTOSTART (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) data = TRUE;
}

static GSettings *
new_settings (void)
{
  GSettings *settings = g_settings_new ("org.meshcentral.Router");

  g_settings_set_boolean (settings, "start-at-login", FALSE);
  return settings;
}

/* ---- tests ------------------------------------------------------------------- */

static void
test_entry (void)
{
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(McrAutostart) autostart = mcr_autostart_new (settings);
  g_autofree char *no_flatpak = g_build_filename (work_dir, "no-flatpak-info", NULL);
  g_autofree char *path = mcr_autostart_get_entry_path ();
  g_autofree char *want_dir = g_build_filename (work_dir, "config", "autostart", NULL);
  g_autofree char *validate = g_find_program_in_path ("desktop-file-validate");
  g_autoptr(GKeyFile) entry = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *exec = NULL;
  gboolean done = FALSE;

  mcr_autostart_set_flatpak_info (autostart, no_flatpak);
  g_assert_false (mcr_autostart_get_flatpak (autostart));
  g_assert_true (g_str_has_prefix (path, want_dir));
  g_assert_true (g_str_has_suffix (path, "/org.meshcentral.Router.desktop"));

  g_settings_set_boolean (settings, "start-at-login", TRUE);
  g_assert_true (mcr_test_wait_until (entry_exists, GINT_TO_POINTER (TRUE), 5000));
  g_key_file_load_from_file (entry, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  exec = g_key_file_get_string (entry, "Desktop Entry", "Exec", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (exec, ==, "meshcentral-router -tray");
  if (validate != NULL)
    {
      const char *argv[] = { validate, path, NULL };
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status;

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                    &error);
      g_assert_no_error (error);
      g_test_message ("desktop-file-validate: %s%s", out, err);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_cmpstr (out, ==, "");
    }
  else
    g_test_message ("desktop-file-validate is missing: the entry is not validated");
  g_assert_true (g_settings_get_boolean (settings, "start-at-login"));

  g_settings_set_boolean (settings, "start-at-login", FALSE);
  g_assert_true (mcr_test_wait_until (entry_exists, GINT_TO_POINTER (FALSE), 5000));

  /* An entry the user wrote under that name is not ours to remove. */
  g_file_set_contents (path, "[Desktop Entry]\nType=Application\nName=Mine\nExec=true\n", -1,
                       &error);
  g_assert_no_error (error);
  mcr_autostart_apply_async (autostart, FALSE, NULL, applied, &done);
  g_assert_true (mcr_test_wait_flag (&done, 5000));
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_unlink (path);
}

static void
test_portal (void)
{
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(McrAutostart) autostart = mcr_autostart_new (settings);
  g_autofree char *flatpak_info = mcr_test_write_file (work_dir, "flatpak-info",
                                                       "[Application]\nname=org.meshcentral.Router\n");
  g_autofree const char **commandline = NULL;
  GVariant *options;
  gboolean autostart_on = FALSE;
  gboolean activatable = TRUE;
  const char *token = NULL;
  const char *reason = NULL;

  mcr_autostart_set_flatpak_info (autostart, flatpak_info);
  g_assert_true (mcr_autostart_get_flatpak (autostart));

  g_settings_set_boolean (settings, "start-at-login", TRUE);
  g_assert_true (mcr_test_wait_until (n_requests_is, GUINT_TO_POINTER (1), 10000));
  options = g_ptr_array_index (requests, 0);
  g_assert_true (g_variant_lookup (options, "autostart", "b", &autostart_on));
  g_assert_true (autostart_on);
  g_assert_true (g_variant_lookup (options, "commandline", "^a&s", &commandline));
  g_assert_cmpuint (g_strv_length ((char **) commandline), ==, 2);
  g_assert_cmpstr (commandline[0], ==, "meshcentral-router");
  g_assert_cmpstr (commandline[1], ==, "-tray");
  g_assert_true (g_variant_lookup (options, "dbus-activatable", "b", &activatable));
  g_assert_false (activatable);
  g_assert_true (g_variant_lookup (options, "handle_token", "&s", &token));
  g_assert_true (g_variant_lookup (options, "reason", "&s", &reason));
  /* The portal's answer came, and agreed: the setting stays on. */
  mcr_test_iterate_for (300);
  g_assert_true (g_settings_get_boolean (settings, "start-at-login"));
  /* The sandbox writes no entry of its own. */
  g_assert_true (entry_exists (GINT_TO_POINTER (FALSE)));

  g_settings_set_boolean (settings, "start-at-login", FALSE);
  g_assert_true (mcr_test_wait_until (n_requests_is, GUINT_TO_POINTER (2), 10000));
  g_assert_true (g_variant_lookup (g_ptr_array_index (requests, 1), "autostart", "b",
                                   &autostart_on));
  g_assert_false (autostart_on);

  /* The user says no in the portal's dialog: the switch goes back off. */
  answer = 1;
  g_settings_set_boolean (settings, "start-at-login", TRUE);
  g_assert_true (mcr_test_wait_until (setting_is, settings, 10000));
  /* (turning it back off asks the portal once more, with autostart off) */
  g_assert_true (mcr_test_wait_until (n_requests_is, GUINT_TO_POINTER (4), 10000));
  answer = 0;
  mcr_test_iterate_for (200);
}

int
main (int argc, char **argv)
{
  g_autofree char *config = NULL;
  int status;

  work_dir = g_dir_make_tmp ("mcr-autostart-XXXXXX", NULL);
  config = g_build_filename (work_dir, "config", NULL);
  /* Before GLib reads it. */
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_test_init (&argc, &argv, NULL);
  portal_start ();

  g_test_add_func ("/autostart/entry", test_entry);
  g_test_add_func ("/autostart/portal", test_portal);
  status = g_test_run ();

  mcr_test_remove_tree (work_dir);
  g_free (work_dir);
  g_clear_pointer (&requests, g_ptr_array_unref);
  g_clear_object (&portal);
  return status;
}
