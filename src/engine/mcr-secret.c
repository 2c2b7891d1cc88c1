/* mcr-secret.c: wiping secrets from memory
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-secret"

#include "config.h"

#include <string.h>

#include "mcr-secret.h"

void
mcr_secret_wipe (char *secret)
{
  if (secret != NULL)
    explicit_bzero (secret, strlen (secret));
}

void
mcr_secret_wipe_free (char *secret)
{
  mcr_secret_wipe (secret);
  g_free (secret);
}

void
mcr_clear_secret (char **secret)
{
  g_return_if_fail (secret != NULL);

  mcr_secret_wipe_free (g_steal_pointer (secret));
}
