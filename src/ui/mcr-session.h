/* mcr-session.h: what one login has: the server, its maps, opening their apps
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-launcher.h"
#include "mcr-port-map.h"
#include "mcr-server.h"

G_BEGIN_DECLS

#define MCR_TYPE_SESSION (mcr_session_get_type ())
G_DECLARE_FINAL_TYPE (McrSession, mcr_session, MCR, SESSION, GObject)

/* Properties: "server" (McrServer, or NULL), "maps" (GListModel of McrPortMap).
 * Signals: "launch-failed" (const char *message) when an app could not be
 * opened after the call returned; "auto-exit" when the last connection of a
 * map created with auto_exit closed and none came for MCR_AUTO_EXIT_GRACE_S
 * seconds; "map-failed" (McrPortMap *map) when a
 * map could not start (it is not in "maps" then) or a running one turned to
 * MCR_PORT_MAP_STATE_ERROR; its "error-message" says why. */
McrSession  *mcr_session_new                (GSettings        *settings);
McrServer   *mcr_session_get_server         (McrSession       *self);
/* Stops and drops every map of the previous server. */
void         mcr_session_set_server         (McrSession       *self,
                                             McrServer        *server);
GListModel  *mcr_session_get_maps           (McrSession       *self);
/* Maps that are starting, listening or waiting for their device: what
 * stops working if the application quits. */
guint        mcr_session_get_n_active_maps  (McrSession       *self);
McrLauncher *mcr_session_get_launcher       (McrSession       *self);
/* -all: bind new maps to all interfaces whatever the setting says. */
void         mcr_session_set_force_all_interfaces (McrSession *self,
                                                   gboolean    force);
gboolean     mcr_session_get_all_interfaces (McrSession       *self);

/* A running map with the same target as @spec (mcr_map_spec_equal_target),
 * or NULL. */
McrPortMap  *mcr_session_find_map           (McrSession       *self,
                                             const McrMapSpec *spec);
/* Starts a map for @spec, or returns the identical one that runs already
 * (*@reused = TRUE). Opens its app if @spec->launch. (transfer none) */
McrPortMap  *mcr_session_add_map            (McrSession       *self,
                                             const McrMapSpec *spec,
                                             gboolean         *reused,
                                             GError          **error);
/* A remembered map: mcr_session_add_map(), but when its local port is
 * taken now it listens on a free one and *@note says so. */
McrPortMap  *mcr_session_restore_map        (McrSession       *self,
                                             const McrMapSpec *spec,
                                             char            **note,
                                             GError          **error);
/* Switches @map off (stopped, kept in "maps" with spec->disabled) or on
 * (started again on the port it had). @map is replaced in "maps" by the
 * returned map (transfer none); NULL with @error if it could not start
 * (@map is kept then). A switched-off map is listed but never started. */
McrPortMap  *mcr_session_set_map_enabled    (McrSession       *self,
                                             McrPortMap       *map,
                                             gboolean          enabled,
                                             GError          **error);
/* A map to @device for @app on a free local port, its app opened at once. */
McrPortMap  *mcr_session_quick_map          (McrSession       *self,
                                             McrDevice        *device,
                                             McrAppId          app,
                                             GError          **error);
void         mcr_session_remove_map         (McrSession       *self,
                                             McrPortMap       *map);
void         mcr_session_remove_all_maps    (McrSession       *self);
/* Opens @map's app (browser, RDP client, terminal, file manager, custom
 * app); @parent is for the URI launcher's portal. */
gboolean     mcr_session_open_map           (McrSession       *self,
                                             McrPortMap       *map,
                                             GtkWindow        *parent,
                                             GError          **error);
/* The custom app called @name from the settings. */
gboolean     mcr_session_lookup_custom_app  (McrSession       *self,
                                             const char       *name,
                                             char            **program,
                                             char            **arguments,
                                             McrProtocol      *protocol);

G_END_DECLS
