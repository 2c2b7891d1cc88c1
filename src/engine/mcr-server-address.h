/* mcr-server-address.h: server addresses as users write them, and the
 * wss:// URIs built from them (engine-internal, but for the two functions
 * at the end, which the window and --headless use too)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char   *host;          /* lowercase; an IPv6 address without brackets */
  guint16 port;          /* 443 unless given */
  char   *domain;        /* "" for the default domain */
  char   *login_key;     /* the K of "?key=K", or NULL */
  char   *display_name;  /* "host[:port][/domain]" */
} McrServerAddress;

/* "host[:port][/domain][?key=K]", also with wss://, https:// or mcrouter://
 * in front and control.ashx at the end; NULL with MCR_SERVER_ERROR_INVALID_ADDRESS. */
McrServerAddress *mcr_server_address_parse        (const char             *address,
                                                   GError                **error);
void              mcr_server_address_free         (McrServerAddress       *self);
/* wss://host[:port][/domain]/@endpoint?@query, with the login key added to
 * @query. @query holds parameters already encoded. */
GUri             *mcr_server_address_build_uri    (const McrServerAddress *self,
                                                   const char             *endpoint,
                                                   GString                *query);
/* Adds "&@name=@value" (the first without "&"), @value URL-encoded. */
void              mcr_server_address_append_param (GString                *query,
                                                   const char             *name,
                                                   const char             *value);

/* "host[:port][/domain]" of @address, without its login key, for
 * messages; a copy of @address when it does not parse. */
char             *mcr_server_address_display_name (const char             *address);
/* TRUE if @a and @b both parse and name the same server: the same host
 * (without case), port and domain; the login key does not count. */
gboolean          mcr_server_address_same_server  (const char             *a,
                                                   const char             *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McrServerAddress, mcr_server_address_free)

G_END_DECLS
