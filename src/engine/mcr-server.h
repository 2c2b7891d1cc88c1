/* mcr-server.h: the control channel to one MeshCentral server
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mcr-device.h"
#include "mcr-map-spec.h"
#include "mcr-tls-policy.h"

G_BEGIN_DECLS

#define MCR_SERVER_ERROR (mcr_server_error_quark ())

typedef enum
{
  MCR_SERVER_ERROR_INVALID_ADDRESS,    /* the server address cannot be parsed */
  MCR_SERVER_ERROR_BAD_CREDENTIALS,    /* noauth: wrong user name or password */
  MCR_SERVER_ERROR_TOKEN_REQUIRED,     /* a second factor is needed (see McrTokenRequest) */
  MCR_SERVER_ERROR_BAD_TOKEN,          /* a code was sent and refused */
  MCR_SERVER_ERROR_NO_TOOLS,           /* notools: the account may not use the router */
  MCR_SERVER_ERROR_EMAIL_NOT_VERIFIED, /* emailvalidationrequired */
  MCR_SERVER_ERROR_2FA_SETUP_REQUIRED, /* the server demands 2FA, the account has none */
  MCR_SERVER_ERROR_UNREACHABLE,        /* DNS failure, refused, network down */
  MCR_SERVER_ERROR_TIMEOUT,
  MCR_SERVER_ERROR_NOT_MESHCENTRAL,    /* something answered, but not a MeshCentral server */
  MCR_SERVER_ERROR_UNTRUSTED_CERT,     /* see mcr_server_get_peer_cert_info() */
  MCR_SERVER_ERROR_REFUSED,            /* any other refusal by the server */
  MCR_SERVER_ERROR_CLOSED,             /* the connection dropped */
  MCR_SERVER_ERROR_CANCELLED,
} McrServerErrorCode;

typedef enum
{
  MCR_SERVER_STATE_DISCONNECTED,
  MCR_SERVER_STATE_CONNECTING,
  MCR_SERVER_STATE_CONNECTED,
  MCR_SERVER_STATE_RECONNECTING,
  MCR_SERVER_STATE_FAILED,
} McrServerState;

/* How to log in. Strings are copied by mcr_server_login_async(). */
typedef struct
{
  const char *user;
  const char *password;
  const char *token;        /* TOTP/YubiKey code, "**email**", "**sms**", "**msg**" */
  const char *twofa_cookie; /* a remembered-2FA cookie */
  const char *auth_cookie;  /* from an mcrouter:// URL (c=) */
  gboolean    remember_device; /* ask for a remembered-2FA cookie after a 2FA login */
} McrCredentials;

/* Filled when login fails with MCR_SERVER_ERROR_TOKEN_REQUIRED. */
typedef struct
{
  gboolean email;          /* the server can email a code */
  gboolean sms;
  gboolean messenger;
  gboolean email_sent;     /* a code was just sent */
  gboolean sms_sent;
  gboolean messenger_sent;
  guint    cookie_days;    /* > 0: "remember this device for N days" is offered */
} McrTokenRequest;

#define MCR_TYPE_SERVER (mcr_server_get_type ())
G_DECLARE_FINAL_TYPE (McrServer, mcr_server, MCR, SERVER, GObject)

GQuark          mcr_server_error_quark        (void);

/* @address: "host[:port][/domain][?key=K]" or "wss://…"; NULL with @error if
 * it cannot be parsed. */
McrServer      *mcr_server_new                (const char          *address,
                                               GError             **error);
/* "host[:port][/domain]" as users write it, without the key. */
const char     *mcr_server_get_display_name   (McrServer           *self);
/* The domain id of the login ("" for the default one), as in node/DOMAIN/ID. */
const char     *mcr_server_get_domain_id      (McrServer           *self);
McrTlsPolicy   *mcr_server_get_tls_policy     (McrServer           *self);
void            mcr_server_set_proxy_uri      (McrServer           *self,
                                               const char          *uri);
GProxyResolver *mcr_server_get_proxy_resolver (McrServer           *self);
/* Seconds to wait for the server to connect and log in (default 30). */
void            mcr_server_set_timeout        (McrServer           *self,
                                               guint                seconds);

void            mcr_server_login_async        (McrServer           *self,
                                               const McrCredentials *credentials,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
/* On MCR_SERVER_ERROR_TOKEN_REQUIRED, @token_request (if not NULL) says what
 * the server offers. */
gboolean        mcr_server_login_finish       (McrServer           *self,
                                               GAsyncResult        *result,
                                               McrTokenRequest     *token_request,
                                               GError             **error);
void            mcr_server_logout             (McrServer           *self);

/* Properties: "state", "error" (GError boxed, when FAILED/RECONNECTING),
 * "user-name", "user-id", "twofa-cookie" (set when a remembered-2FA cookie
 * arrived: store it), "peer-cert-info" (McrCertInfo of the last certificate
 * seen). Signal "devices-loaded" once the first full device list is in. */
McrServerState  mcr_server_get_state          (McrServer           *self);
const GError   *mcr_server_get_error          (McrServer           *self);
const char     *mcr_server_get_user_name      (McrServer           *self);
const char     *mcr_server_get_user_id        (McrServer           *self);
const char     *mcr_server_get_twofa_cookie   (McrServer           *self);
const McrCertInfo *mcr_server_get_peer_cert_info (McrServer        *self);
gboolean        mcr_server_get_devices_loaded (McrServer           *self);
/* What serverinfo said: the feature bits ("features", "features2") and the
 * SHA-384 of the certificate the server itself uses ("tlshash"; differs from
 * the peer certificate behind a TLS-terminating proxy). */
guint32         mcr_server_get_features       (McrServer           *self);
guint32         mcr_server_get_features2      (McrServer           *self);
const char     *mcr_server_get_server_tls_hash (McrServer          *self);

/* Sends any command on the control channel (ignored when not connected).
 * Every message from the server is also emitted as the detailed signal
 * "message::ACTION" (const char *action, JsonObject *message). */
void            mcr_server_send_command       (McrServer           *self,
                                               JsonObject          *command);

/* Models the UI binds to: items are McrDevice and McrDeviceGroup. */
GListModel     *mcr_server_get_devices        (McrServer           *self);
GListModel     *mcr_server_get_groups         (McrServer           *self);
McrDevice      *mcr_server_lookup_device      (McrServer           *self,
                                               const char          *node_id);
McrDeviceGroup *mcr_server_lookup_group       (McrServer           *self,
                                               const char          *mesh_id);
/* By node id, or by name without case, online devices first. */
McrDevice      *mcr_server_find_device        (McrServer           *self,
                                               const char          *id_or_name);

/* For tunnels: the current relay auth cookie, and the wss:// URI of a new
 * tunnel to @device (meshrelay.ashx, or localrelay.ashx for agentless
 * groups, through the group's relay device when it has one). The URI is NULL
 * until the server has sent an auth cookie. It contains the cookie: never
 * log it. */
const char     *mcr_server_get_auth_cookie    (McrServer           *self);
GUri           *mcr_server_build_relay_uri    (McrServer           *self,
                                               McrDevice           *device,
                                               McrProtocol          protocol,
                                               guint16              remote_port,
                                               const char          *remote_ip);

G_END_DECLS
