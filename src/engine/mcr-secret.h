/* mcr-secret.h: wiping secrets (passwords, cookies, codes) from memory
 *
 * A secret is a NUL-terminated string in memory that is ours to overwrite.
 * Its bytes are zeroed with explicit_bzero(), which the compiler may not
 * leave out as it may a memset() before free().
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A char * that holds a secret: g_autoptr(McrSecret) wipes and frees it. */
typedef char McrSecret;

/* Zeroes the characters of @secret (NULL is fine); the buffer stays. */
void mcr_secret_wipe      (char  *secret);
/* Zeroes and frees @secret (NULL is fine). */
void mcr_secret_wipe_free (char  *secret);
/* Zeroes and frees *@secret, and sets it to NULL. */
void mcr_clear_secret     (char **secret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McrSecret, mcr_secret_wipe_free)

G_END_DECLS
