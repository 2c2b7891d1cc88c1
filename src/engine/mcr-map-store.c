/* mcr-map-store.c: the remembered maps of each server and user
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-map-store"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <glib/gstdio.h>

#include "mcr-map-store.h"
#include "mcr-server-address.h"

struct _McrMapStore
{
  GObject  parent_instance;

  GFile   *folder;
};

G_DEFINE_FINAL_TYPE (McrMapStore, mcr_map_store, G_TYPE_OBJECT)

static void
mcr_map_store_dispose (GObject *object)
{
  McrMapStore *self = MCR_MAP_STORE (object);

  g_clear_object (&self->folder);
  G_OBJECT_CLASS (mcr_map_store_parent_class)->dispose (object);
}

static void
mcr_map_store_class_init (McrMapStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mcr_map_store_dispose;
}

static void
mcr_map_store_init (McrMapStore *self)
{
}

McrMapStore *
mcr_map_store_new (GFile *folder)
{
  McrMapStore *self = g_object_new (MCR_TYPE_MAP_STORE, NULL);

  if (folder != NULL)
    self->folder = g_object_ref (folder);
  else
    {
      g_autofree char *path = g_build_filename (g_get_user_config_dir (), "meshcentral-router",
                                                "maps", NULL);

      self->folder = g_file_new_for_path (path);
    }
  return self;
}

GFile *
mcr_map_store_get_folder (McrMapStore *self)
{
  g_return_val_if_fail (MCR_IS_MAP_STORE (self), NULL);
  return self->folder;
}

static void
append_sanitized (GString    *out,
                  const char *text)
{
  for (const char *p = text; p != NULL && *p != '\0'; p++)
    g_string_append_c (out, g_ascii_isalnum (*p) || *p == '.' || *p == '-' ? *p : '_');
}

char *
mcr_map_store_file_name (const char *address,
                         const char *user)
{
  g_autoptr(McrServerAddress) parsed = NULL;
  g_autoptr(GString) name = g_string_new (NULL);
  g_autofree char *port = NULL;

  if (address == NULL || (parsed = mcr_server_address_parse (address, NULL)) == NULL)
    return NULL;
  port = g_strdup_printf ("%u", parsed->port);
  append_sanitized (name, parsed->host);
  g_string_append_c (name, '_');
  g_string_append (name, port);
  g_string_append_c (name, '_');
  append_sanitized (name, parsed->domain);
  g_string_append_c (name, '-');
  append_sanitized (name, user);
  g_string_append (name, ".mcrouter");
  return g_string_free (g_steal_pointer (&name), FALSE);
}

GFile *
mcr_map_store_get_file (McrMapStore *self,
                        const char  *address,
                        const char  *user)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (MCR_IS_MAP_STORE (self), NULL);

  name = mcr_map_store_file_name (address, user);
  return name != NULL ? g_file_get_child (self->folder, name) : NULL;
}

/* Renames @file out of the way; the error says what was wrong and where the
 * file went. */
static void
set_aside (GFile      *file,
           const char *problem,
           GError    **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *aside = g_strdup_printf ("%s.broken-%s", path, stamp);
  g_autofree char *shown = g_filename_display_name (path);
  g_autofree char *shown_aside = g_filename_display_name (aside);

  if (g_rename (path, aside) != 0)
    {
      int saved = errno;

      g_set_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_READ,
                   /* Translators: the first %s is a file, the second what is wrong with it */
                   _("The remembered maps in %s were not used (%s), and the file could not be "
                     "set aside: %s"),
                   shown, problem, g_strerror (saved));
      return;
    }
  g_set_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_INVALID,
               /* Translators: "The remembered maps in F were not used (PROBLEM); the file
                  was kept as F.broken-…" */
               _("The remembered maps in %s were not used (%s); the file was kept as %s."),
               shown, problem, shown_aside);
}

McrMapFile *
mcr_map_store_load (McrMapStore *self,
                    const char  *address,
                    const char  *user,
                    GError     **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(McrMapFile) map_file = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (MCR_IS_MAP_STORE (self), NULL);

  file = mcr_map_store_get_file (self, address, user);
  if (file == NULL || !g_file_query_exists (file, NULL))
    return NULL;
  map_file = mcr_map_file_new_from_file (file, NULL, &local_error);
  if (map_file == NULL)
    {
      set_aside (file, local_error->message, error);
      return NULL;
    }
  if (!mcr_server_address_same_server (mcr_map_file_get_hostname (map_file), address)
      || g_strcmp0 (mcr_map_file_get_username (map_file), user) != 0)
    {
      set_aside (file, _("it is for another server or user"), error);
      return NULL;
    }
  return g_steal_pointer (&map_file);
}

gboolean
mcr_map_store_save (McrMapStore *self,
                    McrMapFile  *file,
                    GError     **error)
{
  g_autoptr(GFile) target = NULL;
  g_autofree char *folder = NULL;

  g_return_val_if_fail (MCR_IS_MAP_STORE (self), FALSE);
  g_return_val_if_fail (MCR_IS_MAP_FILE (file), FALSE);

  target = mcr_map_store_get_file (self, mcr_map_file_get_hostname (file),
                                   mcr_map_file_get_username (file));
  if (target == NULL)
    {
      g_set_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_WRITE,
                   _("The maps of %s cannot be remembered: not a server address"),
                   mcr_map_file_get_hostname (file));
      return FALSE;
    }
  folder = g_file_get_path (self->folder);
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved = errno;
      g_autofree char *shown = g_filename_display_name (folder);

      g_set_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_WRITE,
                   _("%s: cannot be created: %s"), shown, g_strerror (saved));
      return FALSE;
    }
  return mcr_map_file_save (file, target, MCR_MAP_FILE_SAVE_DEFAULT, NULL, error);
}
