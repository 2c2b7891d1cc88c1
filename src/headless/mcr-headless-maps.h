/* mcr-headless-maps.h: the -map: and -relaymap: maps of a headless run, and
 * the lines they print
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-port-map.h"
#include "mcr-server.h"

G_BEGIN_DECLS

typedef struct _McrHeadlessMaps McrHeadlessMaps;

McrHeadlessMaps *mcr_headless_maps_new   (McrServer       *server,
                                          gboolean         all_interfaces);
/* Starts a map for each McrMapSpec in @specs. Prints one line on standard
 * output for each map that listens (with its real local port), and one line
 * on standard error for each that cannot start and, later, for each error.
 * Returns how many maps started. */
guint            mcr_headless_maps_start (McrHeadlessMaps *self,
                                          GPtrArray       *specs);
/* Called once when a map with auto_exit had a connection and then none for
 * MCR_AUTO_EXIT_GRACE_S seconds. */
typedef void (*McrHeadlessAutoExitFunc) (McrPortMap *map,
                                         gpointer    user_data);
void             mcr_headless_maps_set_auto_exit_func (McrHeadlessMaps        *self,
                                                       McrHeadlessAutoExitFunc func,
                                                       gpointer                user_data);
void             mcr_headless_maps_free  (McrHeadlessMaps *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McrHeadlessMaps, mcr_headless_maps_free)

G_END_DECLS
