/* mcr-map-spec.h: what a port map is asked to do
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Values as in .mcrouter files and mcrouter:// URLs. */
typedef enum
{
  MCR_PROTOCOL_TCP = 1,
  MCR_PROTOCOL_UDP = 2,
} McrProtocol;

/* Values as in .mcrouter files (appId). 6 and 7 are the Windows router's own
 * desktop and file viewers: not port maps, not supported here. */
typedef enum
{
  MCR_APP_CUSTOM = 0,
  MCR_APP_HTTP   = 1,
  MCR_APP_HTTPS  = 2,
  MCR_APP_RDP    = 3,
  MCR_APP_SSH    = 4,
  MCR_APP_SFTP   = 5,
} McrAppId;

#define MCR_APP_LAST MCR_APP_SFTP

#define MCR_MAP_SPEC_ERROR (mcr_map_spec_error_quark ())

typedef enum
{
  MCR_MAP_SPEC_ERROR_INVALID,
} McrMapSpecError;

/* auto_exit: the map's last connection closed and none came for this long
 * (a client that reconnects at once, a browser between two requests, must
 * not end the run). */
#define MCR_AUTO_EXIT_GRACE_S 3

#define MCR_TYPE_MAP_SPEC (mcr_map_spec_get_type ())

/* A plain description of one map: the same thing whether it came from the
 * command line, a .mcrouter file, an mcrouter:// URL or the UI. */
typedef struct
{
  McrProtocol protocol;
  guint16     local_port;   /* 0: any free port */
  char       *node_id;      /* "node//…"; NULL when only the name is known */
  char       *node_name;    /* the device name, informational when node_id is set */
  char       *mesh_id;      /* optional */
  McrAppId    app_id;
  char       *app_name;     /* custom app name (app_id == MCR_APP_CUSTOM), or NULL */
  char       *remote_ip;    /* relay map target (IP or host name); NULL: the device itself */
  guint16     remote_port;
  char       *name;         /* optional label */
  gboolean    auto_exit;    /* quit when the launched app's connection ends */
  gboolean    launch;       /* open the map's app once it is listening */
  gboolean    disabled;     /* switched off: kept, not started ("enabled": false in files) */
} McrMapSpec;

GQuark      mcr_map_spec_error_quark      (void);
GType       mcr_map_spec_get_type         (void) G_GNUC_CONST;
McrMapSpec *mcr_map_spec_new              (void);
McrMapSpec *mcr_map_spec_copy             (const McrMapSpec *spec);
void        mcr_map_spec_free             (McrMapSpec       *spec);
gboolean    mcr_map_spec_equal_target     (const McrMapSpec *a,
                                           const McrMapSpec *b);
McrMapSpec *mcr_map_spec_parse_argument   (const char       *arg,
                                           GError          **error);
char       *mcr_map_spec_to_argument      (const McrMapSpec *spec);
char       *mcr_map_spec_to_named_argument (const McrMapSpec *spec,
                                            const char       *device_name);
const char *mcr_protocol_to_string        (McrProtocol       protocol);
gboolean    mcr_protocol_from_string      (const char       *str,
                                           McrProtocol      *protocol);
const char *mcr_app_id_to_string          (McrAppId          app_id);
gboolean    mcr_app_id_from_string        (const char       *str,
                                           McrAppId         *app_id,
                                           char            **custom_name);
guint16     mcr_app_id_default_port       (McrAppId          app_id);
gboolean    mcr_map_spec_is_valid_remote_host (const char    *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McrMapSpec, mcr_map_spec_free)

G_END_DECLS
