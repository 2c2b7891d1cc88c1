/* mcr-secret-store.c: passwords and second-factor cookies in the system keyring
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-secret-store"

#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "mcr-secret-store.h"

G_DEFINE_QUARK (mcr-secret-store-error-quark, mcr_secret_store_error)

struct _McrSecretStore
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (McrSecretStore, mcr_secret_store, G_TYPE_OBJECT)

typedef enum
{
  OP_SAVE,
  OP_LOOKUP,
  OP_CLEAR,
} Op;

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "org.meshcentral.Router.Password", SECRET_SCHEMA_NONE,
    {
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

static const char *
kind_to_string (McrSecretKind kind)
{
  return kind == MCR_SECRET_KIND_TWOFA_COOKIE ? "twofa-cookie" : "password";
}

static GHashTable *
build_attributes (const char    *server,
                  const char    *user,
                  McrSecretKind  kind)
{
  return secret_attributes_build (get_schema (),
                                  "server", server,
                                  "user", user,
                                  "kind", kind_to_string (kind),
                                  NULL);
}

static char *
op_message (Op            op,
            McrSecretKind kind,
            const char   *detail)
{
  gboolean cookie = kind == MCR_SECRET_KIND_TWOFA_COOKIE;

  switch (op)
    {
    case OP_SAVE:
      if (cookie)
        return g_strdup_printf (_("Could not save the login cookie in the keyring: %s"), detail);
      return g_strdup_printf (_("Could not save the password in the keyring: %s"), detail);
    case OP_LOOKUP:
      if (cookie)
        return g_strdup_printf (_("Could not read the login cookie from the keyring: %s"), detail);
      return g_strdup_printf (_("Could not read the password from the keyring: %s"), detail);
    case OP_CLEAR:
    default:
      if (cookie)
        return g_strdup_printf (_("Could not remove the login cookie from the keyring: %s"),
                                detail);
      return g_strdup_printf (_("Could not remove the password from the keyring: %s"), detail);
    }
}

/* Hands @error (taken) to @task: a cancellation as it is, anything else in our
 * domain. Errors from the bus or I/O mean that no keyring service could be
 * reached; errors from the service itself mean that it refused. */
static void
task_return_error (GTask  *task,
                   Op      op,
                   GError *error)
{
  McrSecretKind kind = GPOINTER_TO_UINT (g_task_get_task_data (task));
  g_autofree char *message = NULL;
  int code;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }

  code = error->domain == G_DBUS_ERROR || error->domain == G_IO_ERROR
         ? MCR_SECRET_STORE_ERROR_UNAVAILABLE
         : MCR_SECRET_STORE_ERROR_FAILED;
  g_debug ("%s %s: %s", op == OP_SAVE ? "save" : op == OP_LOOKUP ? "lookup" : "clear",
           kind_to_string (kind), error->message);
  message = op_message (op, kind, error->message);
  g_task_return_new_error (task, MCR_SECRET_STORE_ERROR, code, "%s", message);
  g_error_free (error);
}

static GTask *
new_task (McrSecretStore      *self,
          McrSecretKind        kind,
          gpointer             source_tag,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, GUINT_TO_POINTER (kind), NULL);
  return task;
}

/* Whether @result is @self's task, started by @source_tag. */
static gboolean
is_task_of (McrSecretStore *self,
            GAsyncResult   *result,
            gpointer        source_tag)
{
  return g_task_is_valid (result, self) && g_task_get_source_tag (G_TASK (result)) == source_tag;
}

static void
mcr_secret_store_class_init (McrSecretStoreClass *klass)
{
}

static void
mcr_secret_store_init (McrSecretStore *self)
{
}

McrSecretStore *
mcr_secret_store_new (void)
{
  return g_object_new (MCR_TYPE_SECRET_STORE, NULL);
}

static void
save_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (secret_password_store_finish (result, &error))
    g_task_return_boolean (task, TRUE);
  else
    task_return_error (task, OP_SAVE, error);
}

void
mcr_secret_store_save_async (McrSecretStore      *self,
                             const char          *server,
                             const char          *user,
                             McrSecretKind        kind,
                             const char          *secret,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GHashTable) attributes = NULL;
  g_autofree char *label = NULL;
  GTask *task;

  g_return_if_fail (MCR_IS_SECRET_STORE (self));
  g_return_if_fail (server != NULL && user != NULL && secret != NULL);

  task = new_task (self, kind, mcr_secret_store_save_async, cancellable, callback, user_data);
  attributes = build_attributes (server, user, kind);
  if (kind == MCR_SECRET_KIND_TWOFA_COOKIE)
    /* TRANSLATORS: the name of a keyring item, as password managers show it;
     * the first %s is a user name, the second a server address. */
    label = g_strdup_printf (_("MeshCentral login cookie for %s on %s"), user, server);
  else
    /* TRANSLATORS: the name of a keyring item, as password managers show it;
     * the first %s is a user name, the second a server address. */
    label = g_strdup_printf (_("MeshCentral password for %s on %s"), user, server);
  g_debug ("saving the %s for a user on %s", kind_to_string (kind), server);
  secret_password_storev (get_schema (), attributes, SECRET_COLLECTION_DEFAULT,
                          label, secret, cancellable, save_cb, task);
}

gboolean
mcr_secret_store_save_finish (McrSecretStore  *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (is_task_of (self, result, mcr_secret_store_save_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
lookup_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *found = secret_password_lookup_finish (result, &error);

  if (error != NULL)
    {
      task_return_error (task, OP_LOOKUP, error);
      return;
    }
  /* libsecret's copy lives in non-pageable memory: hand on an ordinary one
   * and wipe the original. */
  g_task_return_pointer (task, g_strdup (found), (GDestroyNotify) mcr_secret_wipe_free);
  secret_password_free (found);
}

void
mcr_secret_store_lookup_async (McrSecretStore      *self,
                               const char          *server,
                               const char          *user,
                               McrSecretKind        kind,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GHashTable) attributes = NULL;
  GTask *task;

  g_return_if_fail (MCR_IS_SECRET_STORE (self));
  g_return_if_fail (server != NULL && user != NULL);

  task = new_task (self, kind, mcr_secret_store_lookup_async, cancellable, callback, user_data);
  attributes = build_attributes (server, user, kind);
  secret_password_lookupv (get_schema (), attributes, cancellable, lookup_cb, task);
}

char *
mcr_secret_store_lookup_finish (McrSecretStore  *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  g_return_val_if_fail (is_task_of (self, result, mcr_secret_store_lookup_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
clear_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  /* FALSE without an error: there was nothing to remove. */
  secret_password_clear_finish (result, &error);
  if (error != NULL)
    task_return_error (task, OP_CLEAR, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
mcr_secret_store_clear_async (McrSecretStore      *self,
                              const char          *server,
                              const char          *user,
                              McrSecretKind        kind,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GHashTable) attributes = NULL;
  GTask *task;

  g_return_if_fail (MCR_IS_SECRET_STORE (self));
  g_return_if_fail (server != NULL && user != NULL);

  task = new_task (self, kind, mcr_secret_store_clear_async, cancellable, callback, user_data);
  attributes = build_attributes (server, user, kind);
  secret_password_clearv (get_schema (), attributes, cancellable, clear_cb, task);
}

gboolean
mcr_secret_store_clear_finish (McrSecretStore  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (is_task_of (self, result, mcr_secret_store_clear_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
