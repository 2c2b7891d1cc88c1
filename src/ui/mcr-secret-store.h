/* mcr-secret-store.h: passwords and second-factor cookies in the system keyring
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-secret.h"

G_BEGIN_DECLS

#define MCR_SECRET_STORE_ERROR (mcr_secret_store_error_quark ())

typedef enum
{
  /* No keyring service answered (no Secret Service on the session bus,
   * no portal in a sandbox). */
  MCR_SECRET_STORE_ERROR_UNAVAILABLE,
  /* The keyring answered but refused: locked and not unlocked, and the like. */
  MCR_SECRET_STORE_ERROR_FAILED,
} McrSecretStoreError;

GQuark mcr_secret_store_error_quark (void);

/* What a secret is; stored as the "kind" attribute. */
typedef enum
{
  MCR_SECRET_KIND_PASSWORD,      /* "password" */
  MCR_SECRET_KIND_TWOFA_COOKIE,  /* "twofa-cookie": the server's remembered-2FA cookie */
} McrSecretKind;

#define MCR_TYPE_SECRET_STORE (mcr_secret_store_get_type ())
G_DECLARE_FINAL_TYPE (McrSecretStore, mcr_secret_store, MCR, SECRET_STORE, GObject)

/* Secrets live in the default collection of the Secret Service (in a Flatpak
 * sandbox, libsecret's portal-backed file instead), one item per server, user
 * and kind, in the schema "org.meshcentral.Router.Password" with the string
 * attributes "server", "user" and "kind". @server is the address as the user
 * typed it (host[:port][/domain]); callers must pass it the same way each time.
 * Nothing is ever written to a file or a log by this class. Cancelling gives
 * G_IO_ERROR_CANCELLED; other failures are MCR_SECRET_STORE_ERROR. */
McrSecretStore *mcr_secret_store_new           (void);

/* Stores @secret, replacing what was stored for the same server, user, kind. */
void            mcr_secret_store_save_async    (McrSecretStore      *self,
                                                const char          *server,
                                                const char          *user,
                                                McrSecretKind        kind,
                                                const char          *secret,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean        mcr_secret_store_save_finish   (McrSecretStore      *self,
                                                GAsyncResult        *result,
                                                GError             **error);

/* Finish: (transfer full) (nullable) the secret, or NULL without an error when
 * none is stored; free it with mcr_secret_wipe_free()
 * (mcr-secret.h). */
void            mcr_secret_store_lookup_async  (McrSecretStore      *self,
                                                const char          *server,
                                                const char          *user,
                                                McrSecretKind        kind,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
char           *mcr_secret_store_lookup_finish (McrSecretStore      *self,
                                                GAsyncResult        *result,
                                                GError             **error);

/* Removes the secret; succeeds also when none was stored. */
void            mcr_secret_store_clear_async   (McrSecretStore      *self,
                                                const char          *server,
                                                const char          *user,
                                                McrSecretKind        kind,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean        mcr_secret_store_clear_finish  (McrSecretStore      *self,
                                                GAsyncResult        *result,
                                                GError             **error);

G_END_DECLS
