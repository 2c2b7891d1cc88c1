/* mcr-device-directory.c: the devices and device groups one user sees on a
 * server, with the user's effective rights on each
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-device-directory"

#include "config.h"

#include <string.h>

#include "mcr-device-directory.h"
#include "mcr-device-private.h"
#include "mcr-json-private.h"

#define FULL_RIGHTS 0xFFFFFFFFu

/* Up to this many devices changed or gone at once are told to the model's
 * watchers one by one; more, and the whole list is replaced in one
 * "items-changed" (sorting it again costs less than that many signals). */
#define ONE_BY_ONE_MAX 32

struct _McrDeviceDirectory
{
  GObject     parent_instance;

  GListStore *devices;
  GListStore *groups;
  GHashTable *device_table;   /* node id -> McrDevice (the store holds the ref) */
  GHashTable *group_table;    /* mesh id -> McrDeviceGroup */
  GHashTable *listed_groups;  /* mesh ids in the last "meshes" reply */
  GHashTable *conn_table;     /* node id -> GINT_TO_POINTER (conn) */
  GHashTable *retired;        /* node id -> McrDevice (ref) that left the model */

  char       *user_id;
  McrLinks   *user_links;     /* the user's own links */
};

G_DEFINE_FINAL_TYPE (McrDeviceDirectory, mcr_device_directory, G_TYPE_OBJECT)

static void
mcr_device_directory_finalize (GObject *object)
{
  McrDeviceDirectory *self = MCR_DEVICE_DIRECTORY (object);

  g_clear_pointer (&self->device_table, g_hash_table_unref);
  g_clear_pointer (&self->group_table, g_hash_table_unref);
  g_clear_pointer (&self->listed_groups, g_hash_table_unref);
  g_clear_pointer (&self->conn_table, g_hash_table_unref);
  g_clear_pointer (&self->retired, g_hash_table_unref);
  g_clear_object (&self->devices);
  g_clear_object (&self->groups);
  g_free (self->user_id);
  g_clear_pointer (&self->user_links, g_hash_table_unref);
  G_OBJECT_CLASS (mcr_device_directory_parent_class)->finalize (object);
}

static void
mcr_device_directory_class_init (McrDeviceDirectoryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mcr_device_directory_finalize;
}

static void
mcr_device_directory_init (McrDeviceDirectory *self)
{
  self->devices = g_list_store_new (MCR_TYPE_DEVICE);
  self->groups = g_list_store_new (MCR_TYPE_DEVICE_GROUP);
  self->device_table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->group_table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->listed_groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->conn_table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->retired = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

McrDeviceDirectory *
mcr_device_directory_new (void)
{
  return g_object_new (MCR_TYPE_DEVICE_DIRECTORY, NULL);
}

GListModel *
mcr_device_directory_get_devices (McrDeviceDirectory *self)
{
  return G_LIST_MODEL (self->devices);
}

GListModel *
mcr_device_directory_get_groups (McrDeviceDirectory *self)
{
  return G_LIST_MODEL (self->groups);
}

McrDevice *
mcr_device_directory_lookup_device (McrDeviceDirectory *self,
                                    const char         *node_id)
{
  return node_id ? g_hash_table_lookup (self->device_table, node_id) : NULL;
}

McrDeviceGroup *
mcr_device_directory_lookup_group (McrDeviceDirectory *self,
                                   const char         *mesh_id)
{
  return mesh_id ? g_hash_table_lookup (self->group_table, mesh_id) : NULL;
}

McrDevice *
mcr_device_directory_find_device (McrDeviceDirectory *self,
                                  const char         *id_or_name)
{
  g_autofree char *wanted = NULL;
  McrDevice *offline_match = NULL;
  guint n;

  if (id_or_name == NULL)
    return NULL;
  if (g_hash_table_contains (self->device_table, id_or_name))
    return g_hash_table_lookup (self->device_table, id_or_name);

  wanted = g_utf8_casefold (id_or_name, -1);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->devices));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrDevice) device = g_list_model_get_item (G_LIST_MODEL (self->devices), i);
      const char *name = mcr_device_get_name (device);
      g_autofree char *folded = NULL;

      if (name == NULL)
        continue;
      folded = g_utf8_casefold (name, -1);
      if (!g_str_equal (folded, wanted))
        continue;
      if (mcr_device_get_online (device))
        return device;
      if (offline_match == NULL)
        offline_match = device;
    }
  return offline_match;
}

/* ---- rights ---- */

static McrLinks *
links_from_json (JsonObject *links)
{
  McrLinks *table;
  g_autoptr(GList) members = NULL;

  if (links == NULL)
    return NULL;
  table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  members = json_object_get_members (links);
  for (GList *l = members; l; l = l->next)
    {
      JsonObject *link = mcr_json_get_object (links, l->data);
      gint64 rights = 0;

      /* A link with no rights still makes the thing visible. */
      mcr_json_get_int (link, "rights", &rights);
      g_hash_table_insert (table, g_strdup (l->data), GUINT_TO_POINTER ((guint32) rights));
    }
  return table;
}

static guint32
links_lookup (McrLinks   *links,
              const char *id)
{
  return links && id ? GPOINTER_TO_UINT (g_hash_table_lookup (links, id)) : 0;
}

/* What @links (of a group or a device) give the user, directly or through
 * the user groups the user belongs to. */
static guint32
rights_from_links (McrDeviceDirectory *self,
                   McrLinks           *links)
{
  GHashTableIter iter;
  gpointer key;
  guint32 rights;

  if (links == NULL || self->user_id == NULL)
    return 0;
  rights = links_lookup (links, self->user_id);
  if (self->user_links == NULL)
    return rights;
  g_hash_table_iter_init (&iter, self->user_links);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_str_has_prefix (key, "ugrp/"))
      rights |= links_lookup (links, key);
  return rights;
}

static guint32
group_rights (McrDeviceDirectory *self,
              McrDeviceGroup     *group)
{
  return links_lookup (self->user_links, mcr_device_group_get_id (group)) |
         rights_from_links (self, _mcr_device_group_get_links (group));
}

static guint32
device_own_rights (McrDeviceDirectory *self,
                   McrDevice          *device)
{
  return links_lookup (self->user_links, mcr_device_get_id (device)) |
         rights_from_links (self, _mcr_device_get_links (device));
}

static void
update_device_state (McrDeviceDirectory *self,
                     McrDevice          *device)
{
  McrDeviceGroup *group = mcr_device_get_group (device);
  guint32 rights = device_own_rights (self, device);
  gint conn = GPOINTER_TO_INT (g_hash_table_lookup (self->conn_table, mcr_device_get_id (device)));
  gboolean agentless = group && mcr_device_group_get_group_type (group) == MCR_GROUP_TYPE_AGENTLESS;

  if (group != NULL)
    rights |= mcr_device_group_get_rights (group);
  _mcr_device_set_rights (device, rights);
  /* An agentless device has no agent to be connected: the server (or the
   * group's relay device) reaches it, so it counts as online. */
  _mcr_device_set_online (device, (conn & 1) != 0 || agentless);
}

static void touch_devices (McrDeviceDirectory *self,
                           GPtrArray          *changed);

static void
update_all_rights (McrDeviceDirectory *self)
{
  g_autoptr(GPtrArray) changed = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->group_table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    _mcr_device_group_set_rights (value, group_rights (self, value));
  g_hash_table_iter_init (&iter, self->device_table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      gboolean online = mcr_device_get_online (value);

      update_device_state (self, value);
      if (mcr_device_get_online (value) != online)
        g_ptr_array_add (changed, value);
    }
  touch_devices (self, changed);
}

void
mcr_device_directory_set_user (McrDeviceDirectory *self,
                               JsonObject         *userinfo)
{
  const char *id = mcr_json_get_string (userinfo, "_id");

  if (id != NULL)
    {
      g_free (self->user_id);
      self->user_id = g_strdup (id);
    }
  g_clear_pointer (&self->user_links, g_hash_table_unref);
  self->user_links = links_from_json (mcr_json_get_object (userinfo, "links"));
  update_all_rights (self);
}

/* ---- groups ---- */

static void
remove_from_store (GListStore *store,
                   gpointer    item)
{
  guint position;

  if (g_list_store_find (store, item, &position))
    g_list_store_remove (store, position);
}

/* The devices' list replaced by @items (McrDevice), in one "items-changed". */
static void
replace_devices (McrDeviceDirectory *self,
                 GPtrArray          *items)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->devices));

  g_list_store_splice (self->devices, 0, n, items->pdata, items->len);
}

static GPtrArray *
all_devices (McrDeviceDirectory *self)
{
  GListModel *model = G_LIST_MODEL (self->devices);
  guint n = g_list_model_get_n_items (model);
  GPtrArray *items = g_ptr_array_new_full (n, g_object_unref);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (items, g_list_model_get_item (model, i));
  return items;
}

/* GListStore does not watch its items: a device whose name, group or
 * online state changed is put back in its place, so that the sorters and
 * filters of whoever shows the list look at that one item again. */
static void
touch_device (McrDeviceDirectory *self,
              McrDevice          *device)
{
  g_autoptr(McrDevice) hold = g_object_ref (device);
  guint position;

  if (g_list_store_find (self->devices, hold, &position))
    g_list_store_splice (self->devices, position, 1, (gpointer *) &hold, 1);
}

static void
touch_devices (McrDeviceDirectory *self,
               GPtrArray          *changed)
{
  if (changed->len > ONE_BY_ONE_MAX)
    {
      g_autoptr(GPtrArray) items = all_devices (self);

      replace_devices (self, items);
      return;
    }
  for (guint i = 0; i < changed->len; i++)
    touch_device (self, g_ptr_array_index (changed, i));
}

static McrDeviceGroup *
ensure_group (McrDeviceDirectory *self,
              const char         *mesh_id)
{
  McrDeviceGroup *group = g_hash_table_lookup (self->group_table, mesh_id);

  if (group == NULL)
    {
      g_autoptr(McrDeviceGroup) created = _mcr_device_group_new (mesh_id);

      group = created;
      g_hash_table_insert (self->group_table, g_strdup (mesh_id), group);
      g_list_store_append (self->groups, group);
    }
  return group;
}

/* TRUE if the group was known and its name changed. */
static gboolean
update_group (McrDeviceDirectory *self,
              JsonObject         *mesh)
{
  const char *id = mcr_json_get_string (mesh, "_id");
  McrDeviceGroup *group;
  g_autofree char *old_name = NULL;
  gint64 mtype = MCR_GROUP_TYPE_AGENT;

  if (id == NULL)
    return FALSE;
  group = g_hash_table_lookup (self->group_table, id);
  if (group != NULL)
    old_name = g_strdup (mcr_device_group_get_name (group));
  else
    group = ensure_group (self, id);
  g_hash_table_add (self->listed_groups, g_strdup (id));
  g_object_freeze_notify (G_OBJECT (group));
  _mcr_device_group_set_name (group, mcr_json_get_string (mesh, "name"));
  _mcr_device_group_set_description (group, mcr_json_get_string (mesh, "desc"));
  if (mcr_json_get_int (mesh, "mtype", &mtype) && mtype >= 1 && mtype <= 4)
    _mcr_device_group_set_group_type (group, (McrGroupType) mtype);
  _mcr_device_group_set_relay_id (group, mcr_json_get_string (mesh, "relayid"));
  _mcr_device_group_set_links (group, links_from_json (mcr_json_get_object (mesh, "links")));
  g_object_thaw_notify (G_OBJECT (group));
  return old_name != NULL && g_strcmp0 (old_name, mcr_device_group_get_name (group)) != 0;
}

static gboolean
group_has_devices (McrDeviceDirectory *self,
                   McrDeviceGroup     *group)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->device_table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (mcr_device_get_group (value) == group)
      return TRUE;
  return FALSE;
}

/* Drops the groups that the server no longer lists and no device is in. */
static void
prune_groups (McrDeviceDirectory *self)
{
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->group_table);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (self->listed_groups, key) && !group_has_devices (self, value))
      {
        g_ptr_array_add (gone, g_object_ref (value));
        g_hash_table_iter_remove (&iter);
      }
  for (guint i = 0; i < gone->len; i++)
    remove_from_store (self->groups, g_ptr_array_index (gone, i));
}

void
mcr_device_directory_update_groups (McrDeviceDirectory *self,
                                    JsonArray          *meshes)
{
  guint n = meshes ? json_array_get_length (meshes) : 0;
  gboolean renamed = FALSE;

  g_hash_table_remove_all (self->listed_groups);
  for (guint i = 0; i < n; i++)
    renamed |= update_group (self, mcr_json_array_get_object (meshes, i));
  prune_groups (self);
  update_all_rights (self);
  /* The group name of each of their devices changed. */
  if (renamed)
    {
      g_autoptr(GPtrArray) items = all_devices (self);

      replace_devices (self, items);
    }
}

/* ---- devices ---- */

/* A device that leaves the model goes offline and is kept aside: when the
 * same node comes back (a temporary agent reconnecting is deleted and added
 * again by the server), it is the same object, so that whoever holds it (a
 * port map) sees it come back online. */
static void
retire_device (McrDeviceDirectory *self,
               McrDevice          *device)
{
  g_hash_table_remove (self->device_table, mcr_device_get_id (device));
  g_hash_table_remove (self->conn_table, mcr_device_get_id (device));
  g_hash_table_replace (self->retired, g_strdup (mcr_device_get_id (device)),
                        g_object_ref (device));
}

static void
remove_device (McrDeviceDirectory *self,
               McrDevice          *device)
{
  g_autoptr(McrDevice) hold G_GNUC_UNUSED = g_object_ref (device);

  retire_device (self, device);
  remove_from_store (self->devices, device);
  _mcr_device_set_online (device, FALSE);
}

/* Removes the devices in @gone (McrDevice, borrowed) from the model. */
static void
remove_devices (McrDeviceDirectory *self,
                GPtrArray          *gone)
{
  g_autoptr(GHashTable) set = NULL;
  g_autoptr(GPtrArray) kept = NULL;
  g_autoptr(GPtrArray) all = NULL;

  if (gone->len <= ONE_BY_ONE_MAX)
    {
      for (guint i = 0; i < gone->len; i++)
        remove_device (self, g_ptr_array_index (gone, i));
      return;
    }
  set = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint i = 0; i < gone->len; i++)
    {
      g_hash_table_add (set, g_ptr_array_index (gone, i));
      retire_device (self, g_ptr_array_index (gone, i));
    }
  all = all_devices (self);
  kept = g_ptr_array_new_full (all->len, g_object_unref);
  for (guint i = 0; i < all->len; i++)
    if (!g_hash_table_contains (set, g_ptr_array_index (all, i)))
      g_ptr_array_add (kept, g_object_ref (g_ptr_array_index (all, i)));
  replace_devices (self, kept);
  for (guint i = 0; i < gone->len; i++)
    _mcr_device_set_online (g_ptr_array_index (gone, i), FALSE);
}

/* Updates (or adds) the device described by @node in group @mesh_id.
 * @full: @node comes from a "nodes" reply, where a missing "conn" means
 * offline; in events it means "unchanged". A new device goes to @added
 * (a reference) for the caller to put in the model; a known one whose
 * name, group or online state changed goes to @changed (borrowed). */
static McrDevice *
update_device (McrDeviceDirectory *self,
               JsonObject         *node,
               const char         *mesh_id,
               gboolean            full,
               GPtrArray          *added,
               GPtrArray          *changed)
{
  const char *id = mcr_json_get_string (node, "_id");
  const char *name;
  g_autofree char *old_name = NULL;
  McrDeviceGroup *old_group = NULL;
  gboolean old_online = FALSE;
  gboolean is_new = FALSE;
  McrDevice *device;
  gint64 v;

  if (id == NULL || mesh_id == NULL)
    return NULL;

  device = g_hash_table_lookup (self->device_table, id);
  if (device == NULL)
    {
      g_autofree char *retired_key = NULL;
      g_autoptr(McrDevice) created = NULL;

      if (!g_hash_table_steal_extended (self->retired, id, (gpointer *) &retired_key,
                                        (gpointer *) &created))
        created = _mcr_device_new (id);
      device = created;
      g_hash_table_insert (self->device_table, g_strdup (id), device);
      g_ptr_array_add (added, g_steal_pointer (&created));
      is_new = TRUE;
    }
  else
    {
      old_name = g_strdup (mcr_device_get_name (device));
      old_group = mcr_device_get_group (device);
      old_online = mcr_device_get_online (device);
    }

  g_object_freeze_notify (G_OBJECT (device));
  name = mcr_json_get_string (node, "name");
  if (name == NULL || *name == '\0')
    name = mcr_json_get_string (node, "rname");
  _mcr_device_set_name (device, name && *name ? name : id);
  _mcr_device_set_group (device, ensure_group (self, mesh_id));
  _mcr_device_set_icon (device, (guint) CLAMP (mcr_json_get_int_or (node, "icon", 1), 1, 8));
  if (full || mcr_json_member (node, "host") != NULL)
    _mcr_device_set_host (device, mcr_json_get_string (node, "host"));
  if (mcr_json_get_int (node, "rdpport", &v) && v > 0 && v <= 65535)
    _mcr_device_set_rdp_port (device, (guint16) v);
  else if (full)
    _mcr_device_set_rdp_port (device, 3389);
  if (mcr_json_get_int (node, "conn", &v))
    g_hash_table_insert (self->conn_table, g_strdup (id), GINT_TO_POINTER ((gint) v));
  else if (full)
    g_hash_table_remove (self->conn_table, id);
  _mcr_device_set_links (device, links_from_json (mcr_json_get_object (node, "links")));
  update_device_state (self, device);
  g_object_thaw_notify (G_OBJECT (device));
  if (!is_new && (g_strcmp0 (old_name, mcr_device_get_name (device)) != 0
                  || old_group != mcr_device_get_group (device)
                  || old_online != mcr_device_get_online (device)))
    g_ptr_array_add (changed, device);
  return device;
}

/* The new devices in @added join the end of the model in one go. */
static void
add_devices (McrDeviceDirectory *self,
             GPtrArray          *added)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->devices));

  if (added->len > 0)
    g_list_store_splice (self->devices, n, 0, added->pdata, added->len);
}

void
mcr_device_directory_update_devices (McrDeviceDirectory *self,
                                     JsonObject         *nodes)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr(GPtrArray) gone = g_ptr_array_new ();
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) changed = g_ptr_array_new ();
  g_autoptr(GList) mesh_ids = nodes ? json_object_get_members (nodes) : NULL;
  GHashTableIter iter;
  gpointer value;

  /* A list that is not a list of devices per group is not trusted to say
   * which devices are gone. */
  for (GList *l = mesh_ids; l; l = l->next)
    if (mcr_json_get_array (nodes, l->data) == NULL)
      {
        g_debug ("ignored a device list with a malformed group entry");
        return;
      }

  for (GList *l = mesh_ids; l; l = l->next)
    {
      JsonArray *list = mcr_json_get_array (nodes, l->data);
      guint n = list ? json_array_get_length (list) : 0;

      for (guint i = 0; i < n; i++)
        {
          McrDevice *device = update_device (self, mcr_json_array_get_object (list, i),
                                             l->data, TRUE, added, changed);

          if (device != NULL)
            g_hash_table_add (seen, device);
        }
    }

  g_hash_table_iter_init (&iter, self->device_table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!g_hash_table_contains (seen, value))
      g_ptr_array_add (gone, value);
  /* One "items-changed" for each kind of change, however long the list. */
  remove_devices (self, gone);
  touch_devices (self, changed);
  add_devices (self, added);
  prune_groups (self);
}

gboolean
mcr_device_directory_change_device (McrDeviceDirectory *self,
                                    JsonObject         *node)
{
  const char *mesh_id = mcr_json_get_string (node, "meshid");
  const char *id = mcr_json_get_string (node, "_id");
  McrDevice *device;

  if (id == NULL || mesh_id == NULL)
    return TRUE;     /* nothing to place: ignore it */
  if (!g_hash_table_contains (self->listed_groups, mesh_id) &&
      !g_hash_table_contains (self->device_table, id))
    return FALSE;    /* a device we have not seen, in a group we do not know */

  {
    g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
    g_autoptr(GPtrArray) changed = g_ptr_array_new ();

    device = update_device (self, node, mesh_id, FALSE, added, changed);
    add_devices (self, added);
    touch_devices (self, changed);
  }
  /* Seen only through a device link (its group is not listed): the device
   * stays only as long as that link gives the user some rights. */
  if (device != NULL && !g_hash_table_contains (self->listed_groups, mesh_id) &&
      device_own_rights (self, device) == 0)
    {
      remove_device (self, device);
      prune_groups (self);
    }
  return TRUE;
}

void
mcr_device_directory_set_connectivity (McrDeviceDirectory *self,
                                       const char         *node_id,
                                       gint64              conn)
{
  McrDevice *device = mcr_device_directory_lookup_device (self, node_id);
  gboolean online;

  if (device == NULL)
    return;
  online = mcr_device_get_online (device);
  g_hash_table_insert (self->conn_table, g_strdup (node_id), GINT_TO_POINTER ((gint) conn));
  update_device_state (self, device);
  if (mcr_device_get_online (device) != online)
    touch_device (self, device);
}

void
mcr_device_directory_remove_device (McrDeviceDirectory *self,
                                    const char         *node_id)
{
  McrDevice *device = mcr_device_directory_lookup_device (self, node_id);

  if (device == NULL)
    return;
  remove_device (self, device);
  prune_groups (self);
}

void
mcr_device_directory_clear (McrDeviceDirectory *self)
{
  g_hash_table_remove_all (self->device_table);
  g_hash_table_remove_all (self->conn_table);
  g_hash_table_remove_all (self->group_table);
  g_hash_table_remove_all (self->listed_groups);
  g_hash_table_remove_all (self->retired);
  g_list_store_remove_all (self->devices);
  g_list_store_remove_all (self->groups);
  g_clear_pointer (&self->user_id, g_free);
  g_clear_pointer (&self->user_links, g_hash_table_unref);
}
