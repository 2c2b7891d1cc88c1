/* mcr-proxy-cache.h: a proxy resolver that remembers its answers for a while
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Answers a lookup of a URI it answered less than @ttl_seconds ago from
 * memory, and passes everything else to @resolver. For tunnels: each asks
 * for the proxy of the same server address, and the desktop's resolver
 * (libproxy) answers every time on a worker thread. Failures are not
 * remembered. */
#define MCR_TYPE_PROXY_CACHE (mcr_proxy_cache_get_type ())
G_DECLARE_FINAL_TYPE (McrProxyCache, mcr_proxy_cache, MCR, PROXY_CACHE, GObject)

McrProxyCache  *mcr_proxy_cache_new          (GProxyResolver *resolver,
                                              guint           ttl_seconds);
GProxyResolver *mcr_proxy_cache_get_resolver (McrProxyCache  *self);

G_END_DECLS
