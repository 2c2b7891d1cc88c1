/* mcr-router-url.h: mcrouter:// links, as the MeshCentral web UI makes them
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib-object.h>

#include "mcr-map-spec.h"

G_BEGIN_DECLS

#define MCR_ROUTER_URL_ERROR (mcr_router_url_error_quark ())

typedef enum
{
  MCR_ROUTER_URL_ERROR_INVALID,     /* malformed; the message says which part */
  MCR_ROUTER_URL_ERROR_UNSUPPORTED, /* asks for the Windows router's own viewers (appid 6, 7) */
} McrRouterUrlError;

/* Longer than any link the web UI makes (a cookie is a few hundred bytes). */
#define MCR_ROUTER_URL_MAX_LENGTH 8192

#define MCR_TYPE_ROUTER_URL (mcr_router_url_get_type ())

/* mcrouter://HOST[:PORT][/DOMAIN]/control.ashx?c=COOKIE&t=TLSHASH&l=LANG[&key=K]
 * [&nodeid=…&protocol=1&remoteport=…[&remoteip=…][&localport=…][&name=…]
 * [&appid=…][&autoexit=1]] */
typedef struct
{
  char       *host;         /* name or IP address, without brackets */
  guint16     port;         /* 443 when the link has none */
  char       *domain;       /* "sub" for mcrouter://h/sub/control.ashx; NULL for none */
  char       *auth_cookie;  /* c=: log in with ?auth=; a secret, never log it */
  char       *cert_hash;    /* t=: SHA-384 of the server certificate, uppercase hex; or NULL */
  char       *language;     /* l=, or NULL */
  char       *login_key;    /* key=, decoded, or NULL */
  McrMapSpec *map;          /* the automatic map (launch is set), or NULL */
} McrRouterUrl;

GQuark        mcr_router_url_error_quark         (void);
GType         mcr_router_url_get_type            (void) G_GNUC_CONST;
McrRouterUrl *mcr_router_url_parse               (const char         *url,
                                                  GError            **error);
McrRouterUrl *mcr_router_url_copy                (const McrRouterUrl *url);
void          mcr_router_url_free                (McrRouterUrl       *url);
/* "host[:port][/domain][?key=K]" for mcr_server_new(): IPv6 hosts in
 * brackets, the port only when it is not 443, K percent-encoded. */
char         *mcr_router_url_get_server_address  (const McrRouterUrl *url);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McrRouterUrl, mcr_router_url_free)

G_END_DECLS
