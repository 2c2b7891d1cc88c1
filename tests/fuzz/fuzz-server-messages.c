/* fuzz-server-messages.c: the control-channel dispatcher, fed what a server
 * could send
 *
 * The input is a sequence of text messages separated by the byte 0x1e (ASCII
 * record separator, never valid in JSON text outside a string). If the first
 * byte is '+', a normal login (serverinfo, userinfo, meshes, nodes,
 * authcookie) comes first, so that the fuzzer spends its time on what a
 * logged-in session does with the messages that follow.
 *
 * Oracles: no crash, criticals or warnings (fuzz_init makes them fatal), no
 * leak (LeakSanitizer), no reference kept on the server object, a device
 * model that agrees with its lookups, and nothing sent back but the few
 * requests the dispatcher is allowed to make: whatever comes in, the server
 * cannot make it run anything or send anything else.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "fuzz-common.h"
#include "mcr-server-private.h"

#define SEPARATOR 0x1e

static const char *const login[] = {
  "{\"action\":\"serverinfo\",\"serverinfo\":{\"features\":1,\"features2\":0,"
  "\"tlshash\":\"ABCD\"}}",
  "{\"action\":\"userinfo\",\"userinfo\":{\"_id\":\"user//admin\",\"name\":\"admin\","
  "\"siteadmin\":4294967295,\"links\":{\"mesh//A\":{\"rights\":4294967295}}}}",
  "{\"action\":\"meshes\",\"meshes\":[{\"_id\":\"mesh//A\",\"name\":\"lab\",\"mtype\":2,"
  "\"links\":{\"user//admin\":{\"rights\":4294967295}}}]}",
  "{\"action\":\"nodes\",\"nodes\":{\"mesh//A\":[{\"_id\":\"node//N1\",\"name\":\"pc\","
  "\"conn\":1,\"icon\":1}]}}",
  "{\"action\":\"authcookie\",\"cookie\":\"COOKIE\",\"rcookie\":\"R\"}",
};

/* Everything the dispatcher may send by itself. */
static const char *const allowed_sends[] = {
  "{\"action\":\"ping\"}",
  "{\"action\":\"pong\"}",
  "{\"action\":\"usergroups\"}",
  "{\"action\":\"meshes\"}",
  "{\"action\":\"nodes\"}",
  "{\"action\":\"authcookie\"}",
  "{\"action\":\"logincookie\"}",
  "{\"action\":\"twoFactorCookie\"}",
};

static void
on_sent (const char *text,
         gpointer    user_data)
{
  guint *n_sent = user_data;

  (*n_sent)++;
  for (guint i = 0; i < G_N_ELEMENTS (allowed_sends); i++)
    if (strcmp (text, allowed_sends[i]) == 0)
      return;
  g_printerr ("the dispatcher sent something it should not: %s\n", text);
  abort ();
}

static void
on_message (McrServer  *server,
            const char *action,
            JsonObject *msg,
            gpointer    user_data)
{
  fuzz_check (action != NULL && msg != NULL);
}

static void
feed (McrServer  *server,
      const char *text,
      gsize       len)
{
  /* A copy of exactly @len bytes, so that ASan sees any read past it. */
  g_autofree char *copy = g_memdup2 (text, len);

  _mcr_server_handle_text (server, copy, len);
}

static void
check_devices (McrServer *server)
{
  GListModel *devices = mcr_server_get_devices (server);
  GListModel *groups = mcr_server_get_groups (server);
  guint n = g_list_model_get_n_items (devices);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrDevice) device = g_list_model_get_item (devices, i);
      const char *id;

      fuzz_check (device != NULL);
      id = mcr_device_get_id (device);
      fuzz_check (id != NULL);
      fuzz_check (mcr_server_lookup_device (server, id) == device);
      fuzz_check (mcr_device_get_name (device) != NULL);
    }
  n = g_list_model_get_n_items (groups);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(McrDeviceGroup) group = g_list_model_get_item (groups, i);

      fuzz_check (group != NULL);
      fuzz_check (mcr_server_lookup_group (server, mcr_device_group_get_id (group)) == group);
    }
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  /* The details "message" is emitted with must exist before the fuzzer
   * runs: the dispatcher never adds quarks, and a growing quark table would
   * look like a leak. */
  g_quark_from_static_string ("event");
  g_quark_from_static_string ("nodes");
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  McrServer *server = mcr_server_new ("fuzz.example:443", &error);
  const char *p = (const char *) data;
  const char *end = p + size;
  guint n_sent = 0;

  fuzz_check (server != NULL);
  g_object_add_weak_pointer (G_OBJECT (server), (gpointer *) &server);
  _mcr_server_set_send_hook (server, on_sent, &n_sent);
  g_signal_connect (server, "message::event", G_CALLBACK (on_message), NULL);
  g_signal_connect (server, "message::nodes", G_CALLBACK (on_message), NULL);
  _mcr_server_begin_test_session (server);

  if (size > 0 && p[0] == '+')
    {
      for (guint i = 0; i < G_N_ELEMENTS (login); i++)
        feed (server, login[i], strlen (login[i]));
      fuzz_check (mcr_server_get_devices_loaded (server));
      p++;
    }

  while (p < end)
    {
      const char *sep = memchr (p, SEPARATOR, (size_t) (end - p));
      const char *stop = sep != NULL ? sep : end;

      feed (server, p, (gsize) (stop - p));
      p = sep != NULL ? sep + 1 : end;
    }

  check_devices (server);
  fuzz_check (mcr_server_get_state (server) <= MCR_SERVER_STATE_FAILED);
  /* Timers the messages armed (refresh, ping) go with the object. */
  g_object_unref (server);
  fuzz_check (server == NULL);
  return 0;
}
