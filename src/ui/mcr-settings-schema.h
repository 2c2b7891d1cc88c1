/* mcr-settings-schema.h: find the GSettings schema, also when run from the
 * build folder
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Makes g_settings_new (APP_ID) safe: when the binary runs from its build
 * folder and no installed schema is found, the build folder's compiled
 * schema is used. FALSE, with a message saying what to do, when there is
 * none anywhere. Call before anything uses GSettings. */
gboolean mcr_settings_schema_ensure (GError **error);

G_END_DECLS
