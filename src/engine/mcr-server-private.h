/* mcr-server-private.h: McrServer internals
 *
 * Two parts: the instance struct and the functions that mcr-server.c,
 * mcr-server-auth.c, mcr-server-dispatch.c and mcr-server-errors.c share
 * (nothing else may use them), and, at the end, the hooks unit and
 * integration tests use.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <libsoup/soup.h>

#include "mcr-device-directory.h"
#include "mcr-server-address.h"
#include "mcr-server.h"

G_BEGIN_DECLS

/* The default limit for one incoming WebSocket message. */
#define MCR_SERVER_MAX_PAYLOAD (64 * 1024 * 1024)

typedef void (*McrServerSendHook) (const char *text,
                                   gpointer    user_data);

/* ==== Internals of mcr-server*.c ==== */

typedef enum
{
  PHASE_IDLE,
  PHASE_CONNECTING,      /* TCP, TLS, WebSocket upgrade */
  PHASE_AUTHENTICATING,  /* upgraded, waiting for serverinfo + userinfo or "close" */
  PHASE_READY,
} McrServerPhase;

/* What the third part of x-meshauth was, to tell "wrong code" from "code
 * needed". */
typedef enum
{
  THIRD_NONE,
  THIRD_CODE,
  THIRD_SEND_REQUEST,    /* **email**, **sms**, **msg** */
  THIRD_COOKIE,
} McrServerThirdFactor;

/* A copy of the McrCredentials of the last login (mcr-server-auth.c). */
typedef struct
{
  char    *user;
  char    *password;
  char    *token;
  char    *twofa_cookie;
  char    *auth_cookie;
  gboolean remember_device;
} McrServerCredentials;

typedef enum
{
  PROP_0,
  PROP_STATE,
  PROP_ERROR,
  PROP_USER_NAME,
  PROP_USER_ID,
  PROP_TWOFA_COOKIE,
  PROP_PEER_CERT_INFO,
  PROP_DEVICES_LOADED,
  PROP_DISPLAY_NAME,
  N_PROPS
} McrServerProperty;

struct _McrServer
{
  GObject             parent_instance;

  /* where */
  McrServerAddress   *address;
  const char         *name;            /* address->display_name, for messages */
  McrTlsPolicy       *tls_policy;
  GProxyResolver     *proxy_resolver;  /* explicit (--proxy), or NULL */
  SoupSession        *session;
  guint               timeout_s;
  guint64             max_payload;
  guint               ping_interval_ms;
  guint               dead_after_ms;
  guint               cookie_refresh_ms;

  /* how */
  McrServerCredentials creds;
  char               *session_twofa_cookie; /* for reconnecting after a 2FA login */
  McrServerThirdFactor third;

  /* the login call in progress */
  GTask              *login_task;
  GSource            *login_cancel_source;
  McrTokenRequest     token_request;

  /* the connection */
  McrServerPhase      phase;
  guint               attempt_serial;
  GCancellable       *attempt_cancellable;
  SoupMessage        *attempt_msg;
  guint               attempt_timeout_id;
  gboolean            cert_refused;
  GError             *ws_error;
  SoupWebsocketConnection *ws;
  gboolean            got_serverinfo;
  gboolean            got_userinfo;
  gboolean            got_meshes;
  gboolean            got_nodes;
  gboolean            user_has_2fa;
  gboolean            logged_in;       /* a login succeeded: reconnect on drops */
  guint               reconnect_attempt;
  guint               reconnect_id;
  guint               ping_id;
  guint               cookie_id;
  guint               refresh_id;
  guint               refresh_flags;
  gint64              last_rx;
  gint64              last_pong;
  guint               burst_id;        /* ends the burst when the main loop is back */
  gint64              burst_start;
  guint               burst_messages;
  gboolean            flooded;
  /* frames in order: a large one parsed in a worker, later ones waiting */
  GQueue              rx_queue;        /* of GBytes */
  gboolean            rx_parsing;
  GCancellable       *rx_cancel;
  guint               rx_generation;   /* bumped by a teardown: drops a parse in flight */
  gsize               rx_thread_threshold;

  /* what we know */
  McrServerState      state;
  GError             *error;
  char               *user_name;
  char               *user_id;
  char               *twofa_cookie;
  char               *auth_cookie;
  char               *login_cookie;    /* requested and kept; nothing reads it yet */
  char               *server_tls_hash;
  char               *domain_id;        /* serverinfo's "domain" */
  guint32             features;
  guint32             features2;
  McrCertInfo        *peer_cert_info;
  McrDeviceDirectory *directory;
  gboolean            devices_loaded;
  gboolean            devices_loaded_pending; /* emit "devices-loaded" for this login */

  McrServerSendHook   send_hook;
  gpointer            send_hook_data;
};

/* mcr-server.c: the object, the state machine, the connection */
void     _mcr_server_notify               (McrServer            *self,
                                           McrServerProperty     prop);
/* Emits "message::ACTION" (@detail: the quark of @action, or 0). */
void     _mcr_server_emit_message         (McrServer            *self,
                                           GQuark                detail,
                                           const char           *action,
                                           JsonObject           *msg);
/* One text frame to the server, as it is (also for tests that need to send
 * what json-glib cannot write, such as a lone-surrogate escape). */
void     _mcr_server_send_text            (McrServer            *self,
                                           const char           *text);
/* {"action":"@action"} */
void     _mcr_server_send_action          (McrServer            *self,
                                           const char           *action);
/* The current attempt (first login or reconnect) failed. Takes @error. */
void     _mcr_server_attempt_failed       (McrServer            *self,
                                           GError               *error);
/* The connection of a logged-in session dropped. Takes @error. */
void     _mcr_server_connection_lost      (McrServer            *self,
                                           GError               *error);
/* serverinfo and userinfo are in: the login succeeded, or failed for want
 * of a second factor the server demands. */
void     _mcr_server_maybe_login_done     (McrServer            *self);
/* Groups, devices and the relay cookie are in: "devices-loaded". */
void     _mcr_server_maybe_devices_loaded (McrServer            *self);

/* mcr-server-dispatch.c: messages from the server */
/* Parses one text frame and dispatches it. */
void     _mcr_server_dispatch_text        (McrServer            *self,
                                           const char           *text,
                                           gsize                 length);
/* One text frame from the server: dispatched in order, large ones parsed
 * in a worker thread while later ones wait. */
void     _mcr_server_receive_text         (McrServer            *self,
                                           GBytes               *message);
/* Drops the frames of the connection (one being parsed, those waiting). */
void     _mcr_server_rx_reset             (McrServer            *self);
/* FALSE (and the connection closing) when this message is one too many of
 * a flood. */
gboolean _mcr_server_count_burst          (McrServer            *self,
                                           SoupWebsocketConnection *ws);

/* mcr-server-errors.c: why a connection or login failed */
/* TRUE for errors a reconnect would only meet again. */
gboolean _mcr_server_error_is_definitive  (const GError         *error);
/* The error of a "close" message (fills self->token_request on
 * "tokenrequired"). */
GError  *_mcr_server_error_from_close     (McrServer            *self,
                                           JsonObject           *msg);
/* The error of a failed WebSocket connect of @msg. */
GError  *_mcr_server_error_from_connect   (McrServer            *self,
                                           const GError         *error,
                                           SoupMessage          *msg);
/* Keeps @certificate as "peer-cert-info" (NULL: nothing happens). */
void     _mcr_server_record_peer_certificate (McrServer         *self,
                                           GTlsCertificate      *certificate);
/* The "accept-certificate" handler of a connect (@user_data: the server). */
gboolean _mcr_server_accept_certificate   (SoupMessage          *msg,
                                           GTlsCertificate      *certificate,
                                           GTlsCertificateFlags  errors,
                                           gpointer              user_data);

/* mcr-server-auth.c: secrets */
void     _mcr_server_credentials_clear    (McrServerCredentials *c);
/* Clears @c and copies @from into it (empty strings become NULL, except
 * the password). */
void     _mcr_server_credentials_set      (McrServerCredentials *c,
                                           const McrCredentials *from);
/* The x-meshauth header of a password login on @msg; sets self->third. */
void     _mcr_server_set_password_auth    (McrServer            *self,
                                           SoupMessage          *msg);
/* The auth= parameter of a cookie login; sets self->third. */
void     _mcr_server_append_cookie_auth   (McrServer            *self,
                                           GString              *query);
/* A remembered-2FA cookie from the server: for reconnecting, and as
 * "twofa-cookie" if the user asked to be remembered. */
void     _mcr_server_take_twofa_cookie    (McrServer            *self,
                                           const char           *cookie);
/* Drops "twofa-cookie" (a new login starts). */
void     _mcr_server_forget_twofa_cookie  (McrServer            *self);
/* Wipes the cookies of the session (relay, login, 2FA for reconnecting). */
void     _mcr_server_clear_session_cookies (McrServer           *self);

/* ==== Test hooks (tests/unit, tests/integration, tests/fuzz) ==== */

/* _mcr_server_send_text() above is one too. */

/* Read by tests only (nothing in src/ needs them). */
const char     *mcr_server_get_host           (McrServer           *self);
guint16         mcr_server_get_port           (McrServer           *self);
const char     *mcr_server_get_domain         (McrServer           *self);
/* The login key (the K of "host?key=K"), or NULL. */
const char     *mcr_server_get_login_key      (McrServer           *self);
/* What the server offered when it last asked for a second factor (also when
 * a reconnect, not a login call, was refused). */
const McrTokenRequest *mcr_server_get_token_request (McrServer     *self);

/* Every text the server object sends is handed to @hook first (the
 * connection, if any, still gets it). */
void     _mcr_server_set_send_hook      (McrServer         *self,
                                         McrServerSendHook  hook,
                                         gpointer           user_data);
/* Puts the object in the "logged in, waiting for serverinfo" phase with no
 * connection, as a password login would, so that messages fed with
 * _mcr_server_handle_text() run through the real dispatcher. */
void     _mcr_server_begin_test_session (McrServer         *self);
/* One text frame, as if it came from the server, parsed and dispatched
 * at once (_mcr_server_receive_text() is the real, ordered path). */
void     _mcr_server_handle_text        (McrServer         *self,
                                         const char        *text,
                                         gsize              length);
/* TRUE while a frame is being parsed or frames wait for one. */
gboolean _mcr_server_rx_busy            (McrServer         *self);
/* Worker parses started and not yet wound up (dropped ones too). */
guint    _mcr_server_parse_jobs_alive   (void);
/* Frames of @bytes or more are parsed in a worker thread. */
void     _mcr_server_set_rx_thread_threshold (McrServer    *self,
                                         gsize              bytes);
void     _mcr_server_set_max_payload    (McrServer         *self,
                                         guint64            bytes);
/* Trust these CAs instead of the system's. */
void     _mcr_server_set_tls_database   (McrServer         *self,
                                         GTlsDatabase      *database);
/* Ping every @ping_ms, give up on a silent server after @dead_after_ms,
 * ask for a fresh relay cookie every @cookie_refresh_ms (set before the
 * login). */
void     _mcr_server_set_intervals      (McrServer         *self,
                                         guint              ping_ms,
                                         guint              dead_after_ms,
                                         guint              cookie_refresh_ms);
/* The reconnect delay after @attempt failed attempts (0 = the first retry),
 * jitter included. */
guint    _mcr_server_reconnect_delay_ms (guint              attempt);

G_END_DECLS
