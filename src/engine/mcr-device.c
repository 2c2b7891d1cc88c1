/* mcr-device.c: a device (node) and a device group (mesh) as the server
 * describes them, kept current from its events
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-device"

#include "config.h"

#include "mcr-device-private.h"
#include "mcr-enums.h"
#include "mcr-string-field.h"

#define FULL_RIGHTS 0xFFFFFFFFu

/* ---- McrDeviceGroup ---- */

struct _McrDeviceGroup
{
  GObject      parent_instance;

  char        *id;
  char        *name;
  char        *description;
  McrGroupType group_type;
  char        *relay_id;
  guint32      rights;
  McrLinks    *links;
};

enum
{
  GROUP_PROP_0,
  GROUP_PROP_ID,
  GROUP_PROP_NAME,
  GROUP_PROP_DESCRIPTION,
  GROUP_PROP_GROUP_TYPE,
  GROUP_PROP_RELAY_ID,
  GROUP_PROP_RIGHTS,
  GROUP_N_PROPS
};

static GParamSpec *group_properties[GROUP_N_PROPS];

G_DEFINE_FINAL_TYPE (McrDeviceGroup, mcr_device_group, G_TYPE_OBJECT)

static void
mcr_device_group_finalize (GObject *object)
{
  McrDeviceGroup *self = MCR_DEVICE_GROUP (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->description);
  g_free (self->relay_id);
  g_clear_pointer (&self->links, g_hash_table_unref);
  G_OBJECT_CLASS (mcr_device_group_parent_class)->finalize (object);
}

static void
mcr_device_group_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  McrDeviceGroup *self = MCR_DEVICE_GROUP (object);

  switch (prop_id)
    {
    case GROUP_PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case GROUP_PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case GROUP_PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    case GROUP_PROP_GROUP_TYPE:
      g_value_set_enum (value, self->group_type);
      break;
    case GROUP_PROP_RELAY_ID:
      g_value_set_string (value, self->relay_id);
      break;
    case GROUP_PROP_RIGHTS:
      g_value_set_uint (value, self->rights);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_device_group_class_init (McrDeviceGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mcr_device_group_finalize;
  object_class->get_property = mcr_device_group_get_property;

  group_properties[GROUP_PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  group_properties[GROUP_PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  group_properties[GROUP_PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL, flags);
  group_properties[GROUP_PROP_GROUP_TYPE] =
    g_param_spec_enum ("group-type", NULL, NULL, MCR_TYPE_GROUP_TYPE, MCR_GROUP_TYPE_AGENT, flags);
  group_properties[GROUP_PROP_RELAY_ID] = g_param_spec_string ("relay-id", NULL, NULL, NULL, flags);
  group_properties[GROUP_PROP_RIGHTS] =
    g_param_spec_uint ("rights", NULL, NULL, 0, G_MAXUINT32, 0, flags);
  g_object_class_install_properties (object_class, GROUP_N_PROPS, group_properties);
}

static void
mcr_device_group_init (McrDeviceGroup *self)
{
  self->group_type = MCR_GROUP_TYPE_AGENT;
}

McrDeviceGroup *
_mcr_device_group_new (const char *id)
{
  McrDeviceGroup *self = g_object_new (MCR_TYPE_DEVICE_GROUP, NULL);

  self->id = g_strdup (id);
  return self;
}

const char *
mcr_device_group_get_id (McrDeviceGroup *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE_GROUP (self), NULL);
  return self->id;
}

const char *
mcr_device_group_get_name (McrDeviceGroup *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE_GROUP (self), NULL);
  return self->name;
}

const char *
mcr_device_group_get_description (McrDeviceGroup *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE_GROUP (self), NULL);
  return self->description;
}

McrGroupType
mcr_device_group_get_group_type (McrDeviceGroup *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE_GROUP (self), MCR_GROUP_TYPE_AGENT);
  return self->group_type;
}

const char *
mcr_device_group_get_relay_id (McrDeviceGroup *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE_GROUP (self), NULL);
  return self->relay_id;
}

guint32
mcr_device_group_get_rights (McrDeviceGroup *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE_GROUP (self), 0);
  return self->rights;
}

void
_mcr_device_group_set_name (McrDeviceGroup *self,
                            const char     *name)
{
  if (mcr_set_string (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), group_properties[GROUP_PROP_NAME]);
}

void
_mcr_device_group_set_description (McrDeviceGroup *self,
                                   const char     *description)
{
  if (mcr_set_string (&self->description, description))
    g_object_notify_by_pspec (G_OBJECT (self), group_properties[GROUP_PROP_DESCRIPTION]);
}

void
_mcr_device_group_set_group_type (McrDeviceGroup *self,
                                  McrGroupType    group_type)
{
  if (self->group_type == group_type)
    return;
  self->group_type = group_type;
  g_object_notify_by_pspec (G_OBJECT (self), group_properties[GROUP_PROP_GROUP_TYPE]);
}

void
_mcr_device_group_set_relay_id (McrDeviceGroup *self,
                                const char     *relay_id)
{
  if (mcr_set_string (&self->relay_id, relay_id))
    g_object_notify_by_pspec (G_OBJECT (self), group_properties[GROUP_PROP_RELAY_ID]);
}

void
_mcr_device_group_set_rights (McrDeviceGroup *self,
                              guint32         rights)
{
  if (self->rights == rights)
    return;
  self->rights = rights;
  g_object_notify_by_pspec (G_OBJECT (self), group_properties[GROUP_PROP_RIGHTS]);
}

void
_mcr_device_group_set_links (McrDeviceGroup *self,
                             McrLinks       *links)
{
  g_clear_pointer (&self->links, g_hash_table_unref);
  self->links = links;
}

McrLinks *
_mcr_device_group_get_links (McrDeviceGroup *self)
{
  return self->links;
}

/* ---- McrDevice ---- */

struct _McrDevice
{
  GObject         parent_instance;

  char           *id;
  char           *name;
  McrDeviceGroup *group;
  gulong          group_name_handler;
  gboolean        online;
  guint           icon;
  char           *host;
  guint16         rdp_port;
  guint32         rights;
  McrLinks       *links;
};

enum
{
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_GROUP,
  PROP_GROUP_NAME,
  PROP_ONLINE,
  PROP_ICON,
  PROP_HOST,
  PROP_RDP_PORT,
  PROP_RIGHTS,
  PROP_CAN_RELAY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (McrDevice, mcr_device, G_TYPE_OBJECT)

static void
mcr_device_dispose (GObject *object)
{
  McrDevice *self = MCR_DEVICE (object);

  if (self->group != NULL)
    g_clear_signal_handler (&self->group_name_handler, self->group);
  g_clear_object (&self->group);
  G_OBJECT_CLASS (mcr_device_parent_class)->dispose (object);
}

static void
mcr_device_finalize (GObject *object)
{
  McrDevice *self = MCR_DEVICE (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->host);
  g_clear_pointer (&self->links, g_hash_table_unref);
  G_OBJECT_CLASS (mcr_device_parent_class)->finalize (object);
}

static void
mcr_device_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  McrDevice *self = MCR_DEVICE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_GROUP:
      g_value_set_object (value, self->group);
      break;
    case PROP_GROUP_NAME:
      g_value_set_string (value, mcr_device_get_group_name (self));
      break;
    case PROP_ONLINE:
      g_value_set_boolean (value, self->online);
      break;
    case PROP_ICON:
      g_value_set_uint (value, self->icon);
      break;
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_RDP_PORT:
      g_value_set_uint (value, self->rdp_port);
      break;
    case PROP_RIGHTS:
      g_value_set_uint (value, self->rights);
      break;
    case PROP_CAN_RELAY:
      g_value_set_boolean (value, mcr_device_get_can_relay (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_device_class_init (McrDeviceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = mcr_device_dispose;
  object_class->finalize = mcr_device_finalize;
  object_class->get_property = mcr_device_get_property;

  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_GROUP] =
    g_param_spec_object ("group", NULL, NULL, MCR_TYPE_DEVICE_GROUP, flags);
  properties[PROP_GROUP_NAME] = g_param_spec_string ("group-name", NULL, NULL, NULL, flags);
  properties[PROP_ONLINE] = g_param_spec_boolean ("online", NULL, NULL, FALSE, flags);
  properties[PROP_ICON] = g_param_spec_uint ("icon", NULL, NULL, 1, 8, 1, flags);
  properties[PROP_HOST] = g_param_spec_string ("host", NULL, NULL, NULL, flags);
  properties[PROP_RDP_PORT] = g_param_spec_uint ("rdp-port", NULL, NULL, 1, 65535, 3389, flags);
  properties[PROP_RIGHTS] = g_param_spec_uint ("rights", NULL, NULL, 0, G_MAXUINT32, 0, flags);
  properties[PROP_CAN_RELAY] = g_param_spec_boolean ("can-relay", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mcr_device_init (McrDevice *self)
{
  self->icon = 1;
  self->rdp_port = 3389;
}

McrDevice *
_mcr_device_new (const char *id)
{
  McrDevice *self = g_object_new (MCR_TYPE_DEVICE, NULL);

  self->id = g_strdup (id);
  return self;
}

const char *
mcr_device_get_id (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), NULL);
  return self->id;
}

const char *
mcr_device_get_name (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), NULL);
  return self->name;
}

McrDeviceGroup *
mcr_device_get_group (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), NULL);
  return self->group;
}

const char *
mcr_device_get_group_name (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), NULL);
  return self->group ? self->group->name : NULL;
}

gboolean
mcr_device_get_online (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), FALSE);
  return self->online;
}

guint
mcr_device_get_icon (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), 1);
  return self->icon;
}

const char *
mcr_device_get_host (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), NULL);
  return self->host;
}

guint16
mcr_device_get_rdp_port (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), 3389);
  return self->rdp_port;
}

guint32
mcr_device_get_rights (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), 0);
  return self->rights;
}

gboolean
mcr_device_get_can_relay (McrDevice *self)
{
  g_return_val_if_fail (MCR_IS_DEVICE (self), FALSE);
  return self->rights == FULL_RIGHTS ||
         (self->rights & (MCR_RIGHT_REMOTE_CONTROL | MCR_RIGHT_RELAY)) != 0;
}

void
_mcr_device_set_name (McrDevice  *self,
                      const char *name)
{
  if (mcr_set_string (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

static void
on_group_name_changed (McrDeviceGroup *group,
                       GParamSpec     *pspec,
                       McrDevice      *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GROUP_NAME]);
}

void
_mcr_device_set_group (McrDevice      *self,
                       McrDeviceGroup *group)
{
  const char *old_name;

  if (self->group == group)
    return;
  old_name = mcr_device_get_group_name (self);
  g_object_freeze_notify (G_OBJECT (self));
  if (g_strcmp0 (old_name, group ? group->name : NULL) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GROUP_NAME]);
  if (self->group != NULL)
    g_clear_signal_handler (&self->group_name_handler, self->group);
  g_set_object (&self->group, group);
  if (group != NULL)
    self->group_name_handler = g_signal_connect (group, "notify::name",
                                                 G_CALLBACK (on_group_name_changed), self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GROUP]);
  g_object_thaw_notify (G_OBJECT (self));
}

void
_mcr_device_set_online (McrDevice *self,
                        gboolean   online)
{
  online = !!online;
  if (self->online == online)
    return;
  self->online = online;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ONLINE]);
}

void
_mcr_device_set_icon (McrDevice *self,
                      guint      icon)
{
  if (icon < 1 || icon > 8)
    icon = 1;
  if (self->icon == icon)
    return;
  self->icon = icon;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ICON]);
}

void
_mcr_device_set_host (McrDevice  *self,
                      const char *host)
{
  if (mcr_set_string (&self->host, host))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOST]);
}

void
_mcr_device_set_rdp_port (McrDevice *self,
                          guint16    rdp_port)
{
  if (rdp_port == 0)
    rdp_port = 3389;
  if (self->rdp_port == rdp_port)
    return;
  self->rdp_port = rdp_port;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RDP_PORT]);
}

void
_mcr_device_set_rights (McrDevice *self,
                        guint32    rights)
{
  gboolean could_relay;

  if (self->rights == rights)
    return;
  could_relay = mcr_device_get_can_relay (self);
  self->rights = rights;
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RIGHTS]);
  if (could_relay != mcr_device_get_can_relay (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_RELAY]);
  g_object_thaw_notify (G_OBJECT (self));
}

void
_mcr_device_set_links (McrDevice *self,
                       McrLinks  *links)
{
  g_clear_pointer (&self->links, g_hash_table_unref);
  self->links = links;
}

McrLinks *
_mcr_device_get_links (McrDevice *self)
{
  return self->links;
}
