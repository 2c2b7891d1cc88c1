/* mcr-map-range.h: port ranges in -map: and -relaymap: arguments
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-map-spec.h"

G_BEGIN_DECLS

/* The most ports one range may hold: one listener and one map each. */
#define MCR_MAP_RANGE_MAX_PORTS 256

/* A -map: or -relaymap: argument (see mcr_map_spec_parse_argument()) whose
 * LOCALPORT and REMOTEPORT may be ranges FROM-TO:
 *   -map:TCP:5900-5910:PC::5900-5910   local 5900 → remote 5900, … 5910 → 5910
 *   -map:TCP:15900-15910:PC::5900-5910 the same length, shifted
 *   -map:TCP:0:PC::5900-5910           each remote port on a free local port
 * A local range needs a remote range of the same length; at most
 * MCR_MAP_RANGE_MAX_PORTS ports. Without ranges, one spec.
 * Returns: (transfer full) (element-type McrMapSpec): one spec per port, in
 *   order, or NULL with @error (MCR_MAP_SPEC_ERROR) naming the argument. */
GPtrArray  *mcr_map_range_parse_argument (const char        *arg,
                                          GError           **error);
/* @count copies of @spec, the n-th on @spec's ports + n (a local port 0
 * stays 0); NULL with @error if @count is 0 or over the limit, or a port
 * would pass 65535. */
GPtrArray  *mcr_map_range_expand         (const McrMapSpec  *spec,
                                          guint              count,
                                          GError           **error);

G_END_DECLS
