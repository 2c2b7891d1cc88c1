/* mcr-map-store.h: the remembered maps of each server and user
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-map-file.h"

G_BEGIN_DECLS

#define MCR_TYPE_MAP_STORE (mcr_map_store_get_type ())
G_DECLARE_FINAL_TYPE (McrMapStore, mcr_map_store, MCR, MAP_STORE, GObject)

/* One .mcrouter file per server and user in @folder (NULL: the XDG config
 * folder's meshcentral-router/maps), written by mcr_map_file_save(): mode
 * 0600, atomically, never the password. */
McrMapStore *mcr_map_store_new       (GFile        *folder);
GFile       *mcr_map_store_get_folder (McrMapStore *self);
/* "HOST_PORT_DOMAIN-USER.mcrouter", every character but letters, digits,
 * '.' and '-' turned into '_'. NULL if @address does not parse. */
char        *mcr_map_store_file_name (const char   *address,
                                      const char   *user);
/* (transfer full) the file for @address and @user, or NULL. */
GFile       *mcr_map_store_get_file  (McrMapStore  *self,
                                      const char   *address,
                                      const char   *user);
/* The remembered maps of @address and @user: NULL without an error when
 * there are none yet. A file that cannot be read, or that is for another
 * server or user, is renamed to NAME.broken-TIMESTAMP (never deleted) and
 * @error (MCR_MAP_FILE_ERROR) names it, the problem and the new name. */
McrMapFile  *mcr_map_store_load      (McrMapStore  *self,
                                      const char   *address,
                                      const char   *user,
                                      GError      **error);
/* Writes @file (its hostname and username name it) into the folder. */
gboolean     mcr_map_store_save      (McrMapStore  *self,
                                      McrMapFile   *file,
                                      GError      **error);

G_END_DECLS
