/* SPDX-License-Identifier: Apache-2.0
 *
 * When "Wake Up" is offered: an offline device of an agent or Intel AMT
 * group, with the wake right. */
#include "mcr-device-private.h"
#include "mcr-wake.h"

static McrDevice *
device_new (McrGroupType type,
            gboolean     online,
            guint32      rights)
{
  g_autoptr(McrDeviceGroup) group = _mcr_device_group_new ("mesh//test");
  McrDevice *device = _mcr_device_new ("node//test");

  _mcr_device_group_set_group_type (group, type);
  _mcr_device_set_group (device, group);
  _mcr_device_set_online (device, online);
  _mcr_device_set_rights (device, rights);
  return device;
}

static void
test_rule (void)
{
  struct
  {
    McrGroupType type;
    gboolean     online;
    guint32      rights;
    gboolean     can_wake;
  } cases[] = {
    { MCR_GROUP_TYPE_AGENT, FALSE, 0xFFFFFFFF, TRUE },
    { MCR_GROUP_TYPE_AGENT, FALSE, MCR_RIGHT_WAKE_DEVICE, TRUE },
    { MCR_GROUP_TYPE_AMT, FALSE, MCR_RIGHT_WAKE_DEVICE | MCR_RIGHT_RELAY, TRUE },
    /* Online: nothing to wake. */
    { MCR_GROUP_TYPE_AGENT, TRUE, 0xFFFFFFFF, FALSE },
    /* No wake right. */
    { MCR_GROUP_TYPE_AGENT, FALSE, MCR_RIGHT_RELAY | MCR_RIGHT_REMOTE_CONTROL, FALSE },
    { MCR_GROUP_TYPE_AGENT, FALSE, 0, FALSE },
    /* The server knows no network card of these. */
    { MCR_GROUP_TYPE_AGENTLESS, FALSE, 0xFFFFFFFF, FALSE },
    { MCR_GROUP_TYPE_IPKVM, FALSE, 0xFFFFFFFF, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(McrDevice) device = device_new (cases[i].type, cases[i].online, cases[i].rights);

      g_test_message ("case %u", i);
      g_assert_cmpint (mcr_wake_can_wake (device), ==, cases[i].can_wake);
    }
}

/* A device whose group is not known (yet) follows its own rights. */
static void
test_no_group (void)
{
  g_autoptr(McrDevice) device = _mcr_device_new ("node//lonely");

  _mcr_device_set_rights (device, MCR_RIGHT_WAKE_DEVICE);
  g_assert_true (mcr_wake_can_wake (device));
  _mcr_device_set_online (device, TRUE);
  g_assert_false (mcr_wake_can_wake (device));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wake/rule", test_rule);
  g_test_add_func ("/wake/no-group", test_no_group);
  return g_test_run ();
}
