/* mcr-headless.c: the router with no window and no display
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-headless"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-headless.h"

int
mcr_headless_run (McrOptions *options)
{
  if (options->host == NULL)
    {
      g_printerr (_("meshcentral-router: --headless needs -host:HOST\n"));
      return 2;
    }
  g_printerr ("meshcentral-router: headless mode is not implemented yet\n");
  return 1;
}
