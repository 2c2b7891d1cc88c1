/* test-secret-store.c: McrSecretStore against a real gnome-keyring
 *
 * Run through tests/ui/run-with-keyring.sh, which gives the program a private
 * session bus with its own unlocked keyring and a temporary home.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "test-secret-store"

#include "config.h"

#include <string.h>

#include "mcr-secret-store.h"
#include "mcr-testbed.h"

#define SERVER "mesh.example.com:4443/lab"
#define USER "bob"

/* Async to sync ------------------------------------------------------------ */

static void
keep_result_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  /* The keyring daemon over D-Bus (it may be starting still). */
  mcr_test_assert_wait (*slot != NULL, 30000);
  return *slot;
}

static gboolean
save (McrSecretStore *store,
      const char     *server,
      const char     *user,
      McrSecretKind   kind,
      const char     *secret,
      GCancellable   *cancellable,
      GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  mcr_secret_store_save_async (store, server, user, kind, secret, cancellable,
                               keep_result_cb, &result);
  return mcr_secret_store_save_finish (store, wait_for (&result), error);
}

static char *
lookup (McrSecretStore *store,
        const char     *server,
        const char     *user,
        McrSecretKind   kind,
        GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  mcr_secret_store_lookup_async (store, server, user, kind, NULL, keep_result_cb, &result);
  return mcr_secret_store_lookup_finish (store, wait_for (&result), error);
}

static gboolean
clear (McrSecretStore *store,
       const char     *server,
       const char     *user,
       McrSecretKind   kind,
       GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  mcr_secret_store_clear_async (store, server, user, kind, NULL, keep_result_cb, &result);
  return mcr_secret_store_clear_finish (store, wait_for (&result), error);
}

static void
assert_lookup (McrSecretStore *store,
               const char     *server,
               const char     *user,
               McrSecretKind   kind,
               const char     *expected)
{
  g_autoptr(GError) error = NULL;
  char *secret = lookup (store, server, user, kind, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, expected);
  mcr_secret_wipe_free (secret);
}

static void
save_ok (McrSecretStore *store,
         const char     *server,
         const char     *user,
         McrSecretKind   kind,
         const char     *secret)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (save (store, server, user, kind, secret, NULL, &error));
  g_assert_no_error (error);
}

static void
clear_ok (McrSecretStore *store,
          const char     *server,
          const char     *user,
          McrSecretKind   kind)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (clear (store, server, user, kind, &error));
  g_assert_no_error (error);
}

/* Tests -------------------------------------------------------------------- */

static void
test_round_trip (void)
{
  g_autoptr(McrSecretStore) store = mcr_secret_store_new ();

  assert_lookup (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, NULL);
  save_ok (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, "first password");
  assert_lookup (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, "first password");

  /* Saving again replaces, it does not add a second item. */
  save_ok (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, "second password");
  assert_lookup (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, "second password");

  clear_ok (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD);
  assert_lookup (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, NULL);
  /* Nothing left to clear is not an error. */
  clear_ok (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD);
}

static void
test_separate_items (void)
{
  g_autoptr(McrSecretStore) store = mcr_secret_store_new ();

  save_ok (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, "bob's password");
  save_ok (store, SERVER, USER, MCR_SECRET_KIND_TWOFA_COOKIE, "bob's cookie");
  save_ok (store, SERVER, "alice", MCR_SECRET_KIND_PASSWORD, "alice's password");
  save_ok (store, "other.example.com", USER, MCR_SECRET_KIND_PASSWORD, "bob elsewhere");

  assert_lookup (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, "bob's password");
  assert_lookup (store, SERVER, USER, MCR_SECRET_KIND_TWOFA_COOKIE, "bob's cookie");
  assert_lookup (store, SERVER, "alice", MCR_SECRET_KIND_PASSWORD, "alice's password");
  assert_lookup (store, SERVER, "alice", MCR_SECRET_KIND_TWOFA_COOKIE, NULL);
  assert_lookup (store, "other.example.com", USER, MCR_SECRET_KIND_PASSWORD, "bob elsewhere");
  assert_lookup (store, "third.example.com", USER, MCR_SECRET_KIND_PASSWORD, NULL);

  /* Forgetting the cookie keeps the password. */
  clear_ok (store, SERVER, USER, MCR_SECRET_KIND_TWOFA_COOKIE);
  assert_lookup (store, SERVER, USER, MCR_SECRET_KIND_TWOFA_COOKIE, NULL);
  assert_lookup (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, "bob's password");

  clear_ok (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD);
  clear_ok (store, SERVER, "alice", MCR_SECRET_KIND_PASSWORD);
  clear_ok (store, "other.example.com", USER, MCR_SECRET_KIND_PASSWORD);
}

static GVariant *
item_property (GDBusConnection *bus,
               const char      *path,
               const char      *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  GVariant *value;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.secrets", path,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", "org.freedesktop.Secret.Item", name),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return value;
}

/* What other tools (seahorse, secret-tool) see, asked of the Secret Service
 * directly: the schema, the attributes and a label that says what it is. */
static void
test_item_as_stored (void)
{
  g_autoptr(McrSecretStore) store = mcr_secret_store_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) attributes = NULL;
  g_autoptr(GVariant) label = NULL;
  g_autofree const char **unlocked = NULL;
  g_autofree const char **locked = NULL;
  GVariantBuilder query;
  const char *value;

  save_ok (store, "items.example.com", USER, MCR_SECRET_KIND_TWOFA_COOKIE, "cookie value");

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  g_variant_builder_init (&query, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&query, "{ss}", "xdg:schema", "org.meshcentral.Router.Password");
  g_variant_builder_add (&query, "{ss}", "server", "items.example.com");
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.secrets", "/org/freedesktop/secrets",
                                       "org.freedesktop.Secret.Service", "SearchItems",
                                       g_variant_new ("(a{ss})", &query),
                                       G_VARIANT_TYPE ("(aoao)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(^a&o^a&o)", &unlocked, &locked);
  g_assert_cmpuint (g_strv_length ((char **) unlocked), ==, 1);
  g_assert_cmpuint (g_strv_length ((char **) locked), ==, 0);

  attributes = item_property (bus, unlocked[0], "Attributes");
  g_assert_true (g_variant_lookup (attributes, "xdg:schema", "&s", &value));
  g_assert_cmpstr (value, ==, "org.meshcentral.Router.Password");
  g_assert_true (g_variant_lookup (attributes, "server", "&s", &value));
  g_assert_cmpstr (value, ==, "items.example.com");
  g_assert_true (g_variant_lookup (attributes, "user", "&s", &value));
  g_assert_cmpstr (value, ==, USER);
  g_assert_true (g_variant_lookup (attributes, "kind", "&s", &value));
  g_assert_cmpstr (value, ==, "twofa-cookie");
  g_assert_cmpuint (g_variant_n_children (attributes), ==, 4);
  label = item_property (bus, unlocked[0], "Label");
  g_assert_cmpstr (g_variant_get_string (label, NULL), ==,
                   "MeshCentral login cookie for bob on items.example.com");

  clear_ok (store, "items.example.com", USER, MCR_SECRET_KIND_TWOFA_COOKIE);
}

static void
test_unusual_values (void)
{
  g_autoptr(McrSecretStore) store = mcr_secret_store_new ();
  g_autoptr(GString) cookie = g_string_new (NULL);
  const char *password = "pässwörd with \"quotes\", \\ and spaces ✓";
  const char *server = "[::1]:4443/döm@in?key=K";

  for (int i = 0; i < 64; i++)
    g_string_append (cookie, "AbC9+/=");

  save_ok (store, server, "user@example.com", MCR_SECRET_KIND_PASSWORD, password);
  save_ok (store, server, "user@example.com", MCR_SECRET_KIND_TWOFA_COOKIE, cookie->str);
  assert_lookup (store, server, "user@example.com", MCR_SECRET_KIND_PASSWORD, password);
  assert_lookup (store, server, "user@example.com", MCR_SECRET_KIND_TWOFA_COOKIE, cookie->str);
  clear_ok (store, server, "user@example.com", MCR_SECRET_KIND_PASSWORD);
  clear_ok (store, server, "user@example.com", MCR_SECRET_KIND_TWOFA_COOKIE);
}

static void
test_cancelled (void)
{
  g_autoptr(McrSecretStore) store = mcr_secret_store_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_false (save (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, "never stored",
                        cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_lookup (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, NULL);
}

/* Collects every regular file under @dir. */
static void
list_files (const char *dir,
            GPtrArray  *files)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        list_files (path, files);
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (files, g_steal_pointer (&path));
    }
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length;
  gsize needle_length = strlen (needle);

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  for (gsize i = 0; i + needle_length <= length; i++)
    if (memcmp (contents + i, needle, needle_length) == 0)
      return TRUE;
  return FALSE;
}

/* The secret goes to the keyring daemon only: no file in the home directory
 * holds it in the clear, and the only files there are the daemon's own
 * (encrypted) keyrings. */
static void
test_no_plain_file (void)
{
  g_autoptr(McrSecretStore) store = mcr_secret_store_new ();
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  const char *home = g_getenv ("MCR_TEST_HOME");
  const char *secret = "Plain-Text-Canary-7f3a9c";
  g_autofree char *keyrings = NULL;

  save_ok (store, SERVER, "canary", MCR_SECRET_KIND_PASSWORD, secret);
  save_ok (store, SERVER, "canary", MCR_SECRET_KIND_TWOFA_COOKIE, secret);
  assert_lookup (store, SERVER, "canary", MCR_SECRET_KIND_PASSWORD, secret);

  keyrings = g_build_filename (g_get_user_data_dir (), "keyrings", NULL);
  list_files (home, files);
  g_assert_cmpuint (files->len, >, 0); /* the scan did see the keyring files */
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = files->pdata[i];

      g_test_message ("file: %s", path);
      g_assert_false (file_contains (path, secret));
      if (!g_str_has_prefix (path, keyrings))
        g_assert_true (g_str_has_suffix (path, "gnome-keyring.log"));
    }

  clear_ok (store, SERVER, "canary", MCR_SECRET_KIND_PASSWORD);
  clear_ok (store, SERVER, "canary", MCR_SECRET_KIND_TWOFA_COOKIE);
}

/* With no Secret Service to talk to, the error says so in our domain. */
static void
test_unavailable (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(McrSecretStore) store = NULL;
      g_autoptr(GError) error = NULL;

      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/mcr-test-bus", TRUE);
      store = mcr_secret_store_new ();
      g_assert_false (save (store, SERVER, USER, MCR_SECRET_KIND_PASSWORD, "nowhere",
                            NULL, &error));
      g_assert_error (error, MCR_SECRET_STORE_ERROR, MCR_SECRET_STORE_ERROR_UNAVAILABLE);
      g_assert_true (g_str_has_prefix (error->message,
                                       "Could not save the password in the keyring: "));
      g_clear_error (&error);

      g_assert_null (lookup (store, SERVER, USER, MCR_SECRET_KIND_TWOFA_COOKIE, &error));
      g_assert_error (error, MCR_SECRET_STORE_ERROR, MCR_SECRET_STORE_ERROR_UNAVAILABLE);
      g_assert_true (g_str_has_prefix (error->message,
                                       "Could not read the login cookie from the keyring: "));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_skipped (void)
{
  g_test_skip ("run through tests/ui/run-with-keyring.sh");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* Never touch the keyring of the person running the tests. */
  if (g_getenv ("MCR_TEST_HOME") == NULL)
    {
      g_test_add_func ("/secret-store/skipped", test_skipped);
      return g_test_run ();
    }
  /* English messages, whatever the environment says. */
  g_setenv ("LANGUAGE", "C", TRUE);

  g_test_add_func ("/secret-store/round-trip", test_round_trip);
  g_test_add_func ("/secret-store/separate-items", test_separate_items);
  g_test_add_func ("/secret-store/item-as-stored", test_item_as_stored);
  g_test_add_func ("/secret-store/unusual-values", test_unusual_values);
  g_test_add_func ("/secret-store/cancelled", test_cancelled);
  g_test_add_func ("/secret-store/no-plain-file", test_no_plain_file);
  g_test_add_func ("/secret-store/unavailable", test_unavailable);

  return g_test_run ();
}
