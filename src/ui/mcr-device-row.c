/* mcr-device-row.c: one device (or a group header) in a device list
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-device-row"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-device-row.h"

struct _McrDeviceRow
{
  GtkBox     parent_instance;

  GtkLabel  *header_label;
  GtkWidget *device_box;
  GtkImage  *icon_image;
  GtkLabel  *name_label;
  GtkLabel  *group_label;
  GtkWidget *status_dot;
  GtkLabel  *status_label;

  GObject   *item;
  gulong     notify_id;
  gboolean   show_group;
};

G_DEFINE_FINAL_TYPE (McrDeviceRow, mcr_device_row, GTK_TYPE_BOX)

const char *
mcr_device_icon_name (guint icon)
{
  /* MeshCentral's icons: desktop, laptop, phone, server, storage, network
   * device, virtual machine, tablet. */
  static const char *const names[] = {
    "computer-symbolic",
    "computer-symbolic",
    "phone-symbolic",
    "network-server-symbolic",
    "drive-multidisk-symbolic",
    "network-wired-symbolic",
    "video-display-symbolic",
    "tablet-symbolic",
  };

  if (icon < 1 || icon > G_N_ELEMENTS (names))
    icon = 1;
  return names[icon - 1];
}

static void
mcr_device_row_update (McrDeviceRow *self)
{
  g_autofree char *name = NULL;
  g_autofree char *group = NULL;
  g_autofree char *description = NULL;
  gboolean online = FALSE;
  guint icon = 1;

  g_object_get (self->item, "name", &name, "group-name", &group, "online", &online,
                "icon", &icon, NULL);
  gtk_label_set_text (self->name_label, name != NULL ? name : "");
  gtk_label_set_text (self->group_label, group != NULL ? group : "");
  gtk_widget_set_visible (GTK_WIDGET (self->group_label), self->show_group);
  gtk_image_set_from_icon_name (self->icon_image, mcr_device_icon_name (icon));
  gtk_label_set_text (self->status_label, online ? _("Online") : _("Offline"));

  if (online)
    {
      gtk_widget_add_css_class (self->status_dot, "online");
      gtk_widget_remove_css_class (self->device_box, "mcr-offline");
    }
  else
    {
      gtk_widget_remove_css_class (self->status_dot, "online");
      gtk_widget_add_css_class (self->device_box, "mcr-offline");
    }

  /* Translators: a device in a list, for screen readers: "PC1, group Lab, online" */
  description = g_strdup_printf (_("%s, group %s, %s"), name != NULL ? name : "",
                                 group != NULL ? group : "",
                                 online ? _("online") : _("offline"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  description, -1);
}

static void
on_item_notify (GObject      *item,
                GParamSpec   *pspec,
                McrDeviceRow *self)
{
  mcr_device_row_update (self);
}

static void
mcr_device_row_clear (McrDeviceRow *self)
{
  if (self->item != NULL && self->notify_id != 0)
    g_signal_handler_disconnect (self->item, self->notify_id);
  self->notify_id = 0;
  g_clear_object (&self->item);
}

static void
mcr_device_row_dispose (GObject *object)
{
  McrDeviceRow *self = MCR_DEVICE_ROW (object);

  mcr_device_row_clear (self);
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_DEVICE_ROW);
  G_OBJECT_CLASS (mcr_device_row_parent_class)->dispose (object);
}

static void
mcr_device_row_class_init (McrDeviceRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_device_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-device-row.ui");
  gtk_widget_class_bind_template_child (widget_class, McrDeviceRow, header_label);
  gtk_widget_class_bind_template_child (widget_class, McrDeviceRow, device_box);
  gtk_widget_class_bind_template_child (widget_class, McrDeviceRow, icon_image);
  gtk_widget_class_bind_template_child (widget_class, McrDeviceRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, McrDeviceRow, group_label);
  gtk_widget_class_bind_template_child (widget_class, McrDeviceRow, status_dot);
  gtk_widget_class_bind_template_child (widget_class, McrDeviceRow, status_label);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
mcr_device_row_init (McrDeviceRow *self)
{
  self->show_group = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
mcr_device_row_new (void)
{
  return g_object_new (MCR_TYPE_DEVICE_ROW, NULL);
}

void
mcr_device_row_set_item (McrDeviceRow *self,
                         GObject      *item)
{
  g_return_if_fail (MCR_IS_DEVICE_ROW (self));

  if (self->item == item)
    return;
  mcr_device_row_clear (self);
  if (item == NULL)
    return;
  self->item = g_object_ref (item);

  if (GTK_IS_STRING_OBJECT (item))
    {
      const char *group = gtk_string_object_get_string (GTK_STRING_OBJECT (item));

      gtk_label_set_text (self->header_label, *group != '\0' ? group : _("No Group"));
      gtk_widget_set_visible (GTK_WIDGET (self->header_label), TRUE);
      gtk_widget_set_visible (self->device_box, FALSE);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      group, -1);
      return;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->header_label), FALSE);
  gtk_widget_set_visible (self->device_box, TRUE);
  self->notify_id = g_signal_connect (item, "notify", G_CALLBACK (on_item_notify), self);
  mcr_device_row_update (self);
}

GObject *
mcr_device_row_get_item (McrDeviceRow *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE_ROW (self), NULL);
  return self->item;
}

void
mcr_device_row_set_show_group (McrDeviceRow *self,
                               gboolean      show_group)
{
  g_return_if_fail (MCR_IS_DEVICE_ROW (self));
  self->show_group = !!show_group;
  if (self->item != NULL && !GTK_IS_STRING_OBJECT (self->item))
    mcr_device_row_update (self);
}
