/* mcr-settings-schema.c: find the GSettings schema, also when run from the
 * build folder
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * g_settings_new() aborts the program when its schema is not installed,
 * which is what a newcomer meets on `_build/src/meshcentral-router`. GLib
 * reads GSETTINGS_SCHEMA_DIR once, when the default schema source is first
 * made, so the build folder is added to it before that: only for the binary
 * of this build folder, and only when the installed schemas lack ours.
 */
#define G_LOG_DOMAIN "mcr-settings-schema"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "mcr-settings-schema.h"

/* Is the running program the one built in BUILD_ROOT_DIR? */
static gboolean
running_uninstalled (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *root = g_canonicalize_filename (BUILD_ROOT_DIR, NULL);

  return exe != NULL && g_str_has_prefix (exe, root) && exe[strlen (root)] == '/';
}

/* Whether the installed schemas (XDG_DATA_DIRS, or GSETTINGS_SCHEMA_DIR as
 * set by the caller) hold ours, looked at without making the default
 * source (that would fix GSETTINGS_SCHEMA_DIR for the whole run). */
static gboolean
installed_schema_found (void)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("GSETTINGS_SCHEMA_DIR");
  const char * const *data_dirs = g_get_system_data_dirs ();

  if (env != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; parts[i] != NULL; i++)
        g_ptr_array_add (dirs, g_strdup (parts[i]));
    }
  g_ptr_array_add (dirs, g_build_filename (g_get_user_data_dir (), "glib-2.0", "schemas", NULL));
  for (guint i = 0; data_dirs[i] != NULL; i++)
    g_ptr_array_add (dirs, g_build_filename (data_dirs[i], "glib-2.0", "schemas", NULL));

  for (guint i = 0; i < dirs->len; i++)
    {
      g_autoptr(GSettingsSchemaSource) source = NULL;
      g_autoptr(GSettingsSchema) schema = NULL;
      const char *dir = g_ptr_array_index (dirs, i);

      if (*dir == '\0')
        continue;
      source = g_settings_schema_source_new_from_directory (dir, NULL, FALSE, NULL);
      if (source != NULL && (schema = g_settings_schema_source_lookup (source, APP_ID, FALSE)))
        return TRUE;
    }
  return FALSE;
}

gboolean
mcr_settings_schema_ensure (GError **error)
{
  g_autofree char *compiled = g_build_filename (BUILD_SCHEMA_DIR, "gschemas.compiled", NULL);
  GSettingsSchemaSource *source;
  g_autoptr(GSettingsSchema) schema = NULL;

  if (!installed_schema_found () && running_uninstalled () &&
      g_file_test (compiled, G_FILE_TEST_EXISTS))
    {
      const char *env = g_getenv ("GSETTINGS_SCHEMA_DIR");
      g_autofree char *value = env != NULL && *env != '\0'
                                 ? g_strconcat (BUILD_SCHEMA_DIR, G_SEARCHPATH_SEPARATOR_S,
                                                env, NULL)
                                 : g_strdup (BUILD_SCHEMA_DIR);

      g_debug ("running from the build folder: settings schema from %s", BUILD_SCHEMA_DIR);
      g_setenv ("GSETTINGS_SCHEMA_DIR", value, TRUE);
    }

  source = g_settings_schema_source_get_default ();
  if (source != NULL && (schema = g_settings_schema_source_lookup (source, APP_ID, TRUE)))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               _("The settings schema %s is not installed. Install the router "
                 "(meson install -C _build), or run it from its build folder "
                 "(_build/src/meshcentral-router, or in meson devenv -C _build) after "
                 "meson compile -C _build, or set GSETTINGS_SCHEMA_DIR to a folder holding "
                 "a compiled %s.gschema.xml."),
               APP_ID, APP_ID);
  return FALSE;
}
