/* mcr-window-remember.c: the maps of each login, remembered and brought
 * back at the next login (the files of McrMapStore, written by the same
 * code as Save Mappings)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-window" /* the window's: G_MESSAGES_DEBUG=mcr-window shows it all */

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-window-private.h"

static void
remember_now (McrWindow *self)
{
  g_autoptr(GString) unsaved = g_string_new (NULL);
  g_autoptr(McrMapFile) file = NULL;
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&self->remember_save_id, g_source_remove);
  file = _mcr_window_build_map_file (self, TRUE, unsaved);
  /* The name it was loaded under, whatever the form says now. */
  mcr_map_file_set_hostname (file, self->remember_address);
  mcr_map_file_set_username (file, self->remember_user);
  for (guint i = 0; i < self->remember_kept->len; i++)
    mcr_map_file_add_mapping (file, g_ptr_array_index (self->remember_kept, i));
  if (unsaved->len > 0)
    g_debug ("not remembered, as their devices are not known: %s", unsaved->str);
  if (!mcr_map_store_save (self->map_store, file, &error))
    mcr_window_show_message (self, error->message, TRUE);
}

static gboolean
remember_idle (gpointer user_data)
{
  McrWindow *self = user_data;

  self->remember_save_id = 0;
  remember_now (self);
  return G_SOURCE_REMOVE;
}

static void
on_maps_changed (GListModel *maps,
                 guint       position,
                 guint       removed,
                 guint       added,
                 McrWindow  *self)
{
  /* Once the new maps have their ports. */
  if (self->remember_save_id == 0)
    self->remember_save_id = g_idle_add (remember_idle, self);
}

void
_mcr_window_remember_begin (McrWindow  *self,
                            const char *address,
                            const char *user)
{
  g_autoptr(McrMapFile) file = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *mappings;

  _mcr_window_remember_end (self);
  if (!g_settings_get_boolean (self->settings, "remember-maps") || address == NULL
      || *address == '\0' || user == NULL || *user == '\0')
    return;
  if (self->map_store == NULL)
    self->map_store = mcr_map_store_new (NULL);
  self->remember_address = g_strdup (address);
  self->remember_user = g_strdup (user);
  self->remember_pending = g_ptr_array_new_with_free_func ((GDestroyNotify) mcr_map_spec_free);
  self->remember_kept = g_ptr_array_new_with_free_func ((GDestroyNotify) mcr_map_spec_free);

  file = mcr_map_store_load (self->map_store, address, user, &error);
  /* Shown with the other problems of this login's maps, once the devices
   * are in (the banner is cleared at login). */
  if (error != NULL)
    self->remember_problem = g_strdup (error->message);
  if (file == NULL)
    return;
  mappings = mcr_map_file_get_mappings (file);
  for (guint i = 0; i < mappings->len; i++)
    g_ptr_array_add (self->remember_pending, mcr_map_spec_copy (g_ptr_array_index (mappings, i)));
  g_debug ("%u remembered maps", mappings->len);
}

void
_mcr_window_restore_maps (McrWindow *self,
                          GString   *problems)
{
  McrServer *server = mcr_session_get_server (self->session);
  g_autoptr(GPtrArray) specs = NULL;

  if (self->remember_pending == NULL || server == NULL)
    return;
  if (self->remember_problem != NULL)
    g_string_append_printf (problems, "%s\n", self->remember_problem);
  g_clear_pointer (&self->remember_problem, g_free);
  specs = g_steal_pointer (&self->remember_pending);
  for (guint i = 0; i < specs->len; i++)
    {
      McrMapSpec *spec = g_ptr_array_index (specs, i);
      McrDevice *device = mcr_server_lookup_device (server, spec->node_id);
      g_autoptr(GError) error = NULL;
      g_autofree char *note = NULL;
      g_autofree char *arg = NULL;

      if (device == NULL)
        {
          arg = mcr_map_spec_to_argument (spec);
          g_string_append_printf (problems, _("%s: no such device (it stays remembered)\n"), arg);
          g_ptr_array_add (self->remember_kept, mcr_map_spec_copy (spec));
          continue;
        }
      if (mcr_session_restore_map (self->session, spec, &note, &error) == NULL)
        {
          arg = mcr_map_spec_to_argument (spec);
          g_string_append_printf (problems, "%s: %s\n", arg, error->message);
          g_ptr_array_add (self->remember_kept, mcr_map_spec_copy (spec));
        }
      else if (note != NULL)
        g_string_append_printf (problems, "%s\n", note);
    }
  self->remembering = TRUE;
  g_signal_connect (mcr_session_get_maps (self->session), "items-changed",
                    G_CALLBACK (on_maps_changed), self);
  if (specs->len > 0)
    on_maps_changed (NULL, 0, 0, 0, self);
}

void
_mcr_window_remember_end (McrWindow *self)
{
  if (self->remembering)
    {
      g_signal_handlers_disconnect_by_func (mcr_session_get_maps (self->session),
                                            on_maps_changed, self);
      if (self->remember_save_id != 0)
        remember_now (self);
      self->remembering = FALSE;
    }
  g_clear_handle_id (&self->remember_save_id, g_source_remove);
  g_clear_pointer (&self->remember_pending, g_ptr_array_unref);
  g_clear_pointer (&self->remember_kept, g_ptr_array_unref);
  g_clear_pointer (&self->remember_address, g_free);
  g_clear_pointer (&self->remember_user, g_free);
  g_clear_pointer (&self->remember_problem, g_free);
}

void
_mcr_window_remember_dispose (McrWindow *self)
{
  _mcr_window_remember_end (self);
  g_clear_object (&self->map_store);
}

void
mcr_window_set_map_store (McrWindow   *self,
                          McrMapStore *store)
{
  g_return_if_fail (MCR_IS_WINDOW (self));
  g_set_object (&self->map_store, store);
}
