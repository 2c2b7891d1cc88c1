/* mcr-server.c: the control channel to one MeshCentral server
 *
 * One WebSocket to wss://HOST:PORT[/DOMAIN]/control.ashx carries JSON
 * messages both ways. Logging in happens on the upgrade request (x-meshauth
 * header or auth= cookie); the server then sends serverinfo and userinfo, or a
 * "close" message that says why not. Once logged in, the devices and groups
 * are kept in an McrDeviceDirectory, and a dropped connection is re-opened
 * with backoff.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-server"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mcr-device-directory.h"
#include "mcr-json-private.h"
#include "mcr-server-address.h"
#include "mcr-server-private.h"

#define DEFAULT_TIMEOUT_S       30
#define PING_INTERVAL_S         30
#define DEAD_AFTER_S            75   /* nothing received for this long: reconnect */
#define COOKIE_REFRESH_S        (5 * 60)
#define REFRESH_COALESCE_MS     250
#define RECONNECT_MIN_MS        1000
#define RECONNECT_MAX_MS        60000

/* libsoup reads a WebSocket for as long as data keeps coming, handing on
 * every message before it returns to the main loop: a server that sends
 * faster than we can take in would hold the main loop (the window, every
 * tunnel) for as long as it liked. So many messages, for so long, without a
 * break is a flood: the connection is closed (libsoup stops reading at
 * once) and opened again, as after any drop. */
#define FLOOD_MESSAGES          50
#define FLOOD_MS                500
/* MeshCentral pings every 30 s or so; more answers than one a second would
 * only fill the send queue of a server that never reads them. */
#define PONG_MIN_INTERVAL_MS    1000

#define FEATURE_2FA_REQUIRED    0x00040000
#define MAX_JSON_DEPTH          256

typedef enum
{
  PHASE_IDLE,
  PHASE_CONNECTING,      /* TCP, TLS, WebSocket upgrade */
  PHASE_AUTHENTICATING,  /* upgraded, waiting for serverinfo + userinfo or "close" */
  PHASE_READY,
} Phase;

/* What the third part of x-meshauth was, to tell "wrong code" from "code
 * needed". */
typedef enum
{
  THIRD_NONE,
  THIRD_CODE,
  THIRD_SEND_REQUEST,    /* **email**, **sms**, **msg** */
  THIRD_COOKIE,
} ThirdFactor;

enum
{
  REFRESH_USERGROUPS = 1 << 0,
  REFRESH_MESHES     = 1 << 1,
  REFRESH_NODES      = 1 << 2,
};

typedef struct
{
  char    *user;
  char    *password;
  char    *token;
  char    *twofa_cookie;
  char    *auth_cookie;
  gboolean remember_device;
} Credentials;

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
  Credentials         creds;
  char               *session_twofa_cookie; /* for reconnecting after a 2FA login */
  ThirdFactor         third;

  /* the login call in progress */
  GTask              *login_task;
  GSource            *login_cancel_source;
  McrTokenRequest     token_request;

  /* the connection */
  Phase               phase;
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

  /* what we know */
  McrServerState      state;
  GError             *error;
  char               *user_name;
  char               *user_id;
  char               *twofa_cookie;
  char               *auth_cookie;
  char               *login_cookie;
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

enum
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
};

enum
{
  SIGNAL_DEVICES_LOADED,
  SIGNAL_MESSAGE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (McrServer, mcr_server, G_TYPE_OBJECT)

G_DEFINE_QUARK (mcr-server-error-quark, mcr_server_error)

static void start_attempt        (McrServer *self);
static void teardown_connection  (McrServer *self);
static void attempt_failed       (McrServer *self,
                                  GError    *error);
static void connection_lost      (McrServer *self,
                                  GError    *error);

/* ---- small things ---- */

static void
credentials_clear (Credentials *c)
{
  g_clear_pointer (&c->user, g_free);
  if (c->password != NULL)
    memset (c->password, 0, strlen (c->password));
  g_clear_pointer (&c->password, g_free);
  g_clear_pointer (&c->token, g_free);
  g_clear_pointer (&c->twofa_cookie, g_free);
  g_clear_pointer (&c->auth_cookie, g_free);
  c->remember_device = FALSE;
}

static char *
dup_nonempty (const char *s)
{
  return s != NULL && *s != '\0' ? g_strdup (s) : NULL;
}

static gboolean
set_string (char      **field,
            const char *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

const char *
mcr_server_state_to_string (McrServerState state)
{
  switch (state)
    {
    case MCR_SERVER_STATE_DISCONNECTED:
      return "disconnected";
    case MCR_SERVER_STATE_CONNECTING:
      return "connecting";
    case MCR_SERVER_STATE_CONNECTED:
      return "connected";
    case MCR_SERVER_STATE_RECONNECTING:
      return "reconnecting";
    case MCR_SERVER_STATE_FAILED:
      return "failed";
    default:
      return "unknown";
    }
}

static void
set_state (McrServer     *self,
           McrServerState state,
           const GError  *error)
{
  gboolean error_changed = FALSE;

  if (error != self->error)
    {
      GError *copy = error ? g_error_copy (error) : NULL;

      g_clear_error (&self->error);
      self->error = copy;
      error_changed = TRUE;
    }
  g_object_freeze_notify (G_OBJECT (self));
  if (error_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
  if (self->state != state)
    {
      g_debug ("%s: %s -> %s", self->name, mcr_server_state_to_string (self->state),
               mcr_server_state_to_string (state));
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static void
set_devices_loaded (McrServer *self,
                    gboolean   loaded)
{
  if (self->devices_loaded == loaded)
    return;
  self->devices_loaded = loaded;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICES_LOADED]);
}

/* ---- GObject ---- */

static void
mcr_server_dispose (GObject *object)
{
  McrServer *self = MCR_SERVER (object);

  teardown_connection (self);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  if (self->login_cancel_source != NULL)
    {
      g_source_destroy (self->login_cancel_source);
      g_clear_pointer (&self->login_cancel_source, g_source_unref);
    }
  g_clear_object (&self->login_task);
  g_clear_object (&self->session);
  g_clear_object (&self->proxy_resolver);
  g_clear_object (&self->tls_policy);
  g_clear_object (&self->directory);
  G_OBJECT_CLASS (mcr_server_parent_class)->dispose (object);
}

static void
mcr_server_finalize (GObject *object)
{
  McrServer *self = MCR_SERVER (object);

  g_clear_pointer (&self->address, mcr_server_address_free);
  credentials_clear (&self->creds);
  g_free (self->session_twofa_cookie);
  g_clear_error (&self->ws_error);
  g_clear_error (&self->error);
  g_free (self->user_name);
  g_free (self->user_id);
  g_free (self->twofa_cookie);
  g_free (self->auth_cookie);
  g_free (self->login_cookie);
  g_free (self->server_tls_hash);
  g_free (self->domain_id);
  g_clear_pointer (&self->peer_cert_info, mcr_cert_info_free);
  G_OBJECT_CLASS (mcr_server_parent_class)->finalize (object);
}

static void
mcr_server_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  McrServer *self = MCR_SERVER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    case PROP_USER_NAME:
      g_value_set_string (value, self->user_name);
      break;
    case PROP_USER_ID:
      g_value_set_string (value, self->user_id);
      break;
    case PROP_TWOFA_COOKIE:
      g_value_set_string (value, self->twofa_cookie);
      break;
    case PROP_PEER_CERT_INFO:
      g_value_set_boxed (value, self->peer_cert_info);
      break;
    case PROP_DEVICES_LOADED:
      g_value_set_boolean (value, self->devices_loaded);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_server_class_init (McrServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = mcr_server_dispose;
  object_class->finalize = mcr_server_finalize;
  object_class->get_property = mcr_server_get_property;

  /* An McrServerState. */
  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, MCR_SERVER_STATE_DISCONNECTED,
                      MCR_SERVER_STATE_FAILED, MCR_SERVER_STATE_DISCONNECTED, flags);
  properties[PROP_ERROR] = g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR, flags);
  properties[PROP_USER_NAME] = g_param_spec_string ("user-name", NULL, NULL, NULL, flags);
  properties[PROP_USER_ID] = g_param_spec_string ("user-id", NULL, NULL, NULL, flags);
  properties[PROP_TWOFA_COOKIE] = g_param_spec_string ("twofa-cookie", NULL, NULL, NULL, flags);
  properties[PROP_PEER_CERT_INFO] =
    g_param_spec_boxed ("peer-cert-info", NULL, NULL, MCR_TYPE_CERT_INFO, flags);
  properties[PROP_DEVICES_LOADED] =
    g_param_spec_boolean ("devices-loaded", NULL, NULL, FALSE, flags);
  properties[PROP_DISPLAY_NAME] = g_param_spec_string ("display-name", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Once per successful mcr_server_login_async(), when the devices, their
   * groups and the relay cookie are all in. */
  signals[SIGNAL_DEVICES_LOADED] =
    g_signal_new ("devices-loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* Every message from the server, detailed by its action. */
  signals[SIGNAL_MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                  G_TYPE_STRING, JSON_TYPE_OBJECT);
}

static void
mcr_server_init (McrServer *self)
{
  self->tls_policy = mcr_tls_policy_new ();
  self->directory = mcr_device_directory_new ();
  self->timeout_s = DEFAULT_TIMEOUT_S;
  self->max_payload = MCR_SERVER_MAX_PAYLOAD;
  self->ping_interval_ms = PING_INTERVAL_S * 1000;
  self->dead_after_ms = DEAD_AFTER_S * 1000;
  self->cookie_refresh_ms = COOKIE_REFRESH_S * 1000;
  self->session = soup_session_new_with_options ("user-agent",
                                                 "meshcentral-router/" PACKAGE_VERSION, NULL);
}

McrServer *
mcr_server_new (const char *address,
                GError    **error)
{
  g_autoptr(McrServerAddress) parsed = mcr_server_address_parse (address, error);
  McrServer *self;

  if (parsed == NULL)
    return NULL;
  self = g_object_new (MCR_TYPE_SERVER, NULL);
  self->address = g_steal_pointer (&parsed);
  self->name = self->address->display_name;
  return self;
}

/* ---- simple getters ---- */

const char *
mcr_server_get_host (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->address->host;
}

guint16
mcr_server_get_port (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), 0);
  return self->address->port;
}

const char *
mcr_server_get_domain (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->address->domain;
}

/* The domain the ids of this login's devices carry: what the server said it
 * is (a domain reached by its own host name has no path), else the path. */
const char *
mcr_server_get_domain_id (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->domain_id != NULL ? self->domain_id : self->address->domain;
}

const char *
mcr_server_get_display_name (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->name;
}

gboolean
mcr_server_has_address (McrServer  *self,
                        const char *address)
{
  g_autoptr(McrServerAddress) parsed = NULL;

  g_return_val_if_fail (MCR_IS_SERVER (self), FALSE);

  if (address == NULL)
    return FALSE;
  parsed = mcr_server_address_parse (address, NULL);
  return parsed != NULL && g_str_equal (parsed->host, self->address->host)
         && parsed->port == self->address->port
         && g_strcmp0 (parsed->domain, self->address->domain) == 0;
}

const char *
mcr_server_get_login_key (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->address->login_key;
}

McrTlsPolicy *
mcr_server_get_tls_policy (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->tls_policy;
}

void
mcr_server_set_timeout (McrServer *self,
                        guint      seconds)
{
  g_return_if_fail (MCR_IS_SERVER (self));
  self->timeout_s = seconds > 0 ? seconds : DEFAULT_TIMEOUT_S;
}

void
mcr_server_set_proxy_uri (McrServer  *self,
                          const char *uri)
{
  g_return_if_fail (MCR_IS_SERVER (self));

  g_clear_object (&self->proxy_resolver);
  if (uri != NULL && *uri != '\0')
    self->proxy_resolver = g_simple_proxy_resolver_new (uri, NULL);
  soup_session_set_proxy_resolver (self->session, mcr_server_get_proxy_resolver (self));
}

/**
 * mcr_server_get_proxy_resolver:
 *
 * Returns: (transfer none): the resolver every connection to this server
 * uses: the --proxy one, or the desktop's
 */
GProxyResolver *
mcr_server_get_proxy_resolver (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->proxy_resolver ? self->proxy_resolver : g_proxy_resolver_get_default ();
}

McrServerState
mcr_server_get_state (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), MCR_SERVER_STATE_DISCONNECTED);
  return self->state;
}

const GError *
mcr_server_get_error (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->error;
}

const char *
mcr_server_get_user_name (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->user_name;
}

const char *
mcr_server_get_user_id (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->user_id;
}

const char *
mcr_server_get_twofa_cookie (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->twofa_cookie;
}

const McrCertInfo *
mcr_server_get_peer_cert_info (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->peer_cert_info;
}

gboolean
mcr_server_get_devices_loaded (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), FALSE);
  return self->devices_loaded;
}

guint32
mcr_server_get_features (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), 0);
  return self->features;
}

guint32
mcr_server_get_features2 (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), 0);
  return self->features2;
}

const char *
mcr_server_get_server_tls_hash (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->server_tls_hash;
}

const char *
mcr_server_get_login_cookie (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->login_cookie;
}

const char *
mcr_server_get_auth_cookie (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return self->auth_cookie;
}

GListModel *
mcr_server_get_devices (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return mcr_device_directory_get_devices (self->directory);
}

GListModel *
mcr_server_get_groups (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return mcr_device_directory_get_groups (self->directory);
}

McrDevice *
mcr_server_lookup_device (McrServer  *self,
                          const char *node_id)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return mcr_device_directory_lookup_device (self->directory, node_id);
}

McrDeviceGroup *
mcr_server_lookup_group (McrServer  *self,
                         const char *mesh_id)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return mcr_device_directory_lookup_group (self->directory, mesh_id);
}

McrDevice *
mcr_server_find_device (McrServer  *self,
                        const char *id_or_name)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return mcr_device_directory_find_device (self->directory, id_or_name);
}

/* ---- relay URIs ---- */

GUri *
mcr_server_build_relay_uri (McrServer   *self,
                            McrDevice   *device,
                            McrProtocol  protocol,
                            guint16      remote_port,
                            const char  *remote_ip)
{
  g_autoptr(GString) query = g_string_new (NULL);
  McrDeviceGroup *group;
  const char *endpoint = "meshrelay.ashx";
  const char *node_id;
  const char *port_name = protocol == MCR_PROTOCOL_UDP ? "udpport" : "tcpport";
  const char *addr_name = protocol == MCR_PROTOCOL_UDP ? "udpaddr" : "tcpaddr";
  char port[8];

  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  g_return_val_if_fail (MCR_IS_DEVICE (device), NULL);

  if (self->auth_cookie == NULL)
    return NULL;

  node_id = mcr_device_get_id (device);
  group = mcr_device_get_group (device);
  if (group != NULL && mcr_device_group_get_group_type (group) == MCR_GROUP_TYPE_AGENTLESS)
    {
      const char *relay_id = mcr_device_group_get_relay_id (group);

      if (relay_id != NULL && *relay_id != '\0')
        {
          /* Through the group's relay agent, on to the device's address. */
          node_id = relay_id;
          if (remote_ip == NULL || *remote_ip == '\0')
            remote_ip = mcr_device_get_host (device);
        }
      else
        {
          /* The server itself connects to the device's host. */
          endpoint = "localrelay.ashx";
          remote_ip = NULL;
        }
    }

  g_snprintf (port, sizeof port, "%u", remote_port);
  mcr_server_address_append_param (query, "nodeid", node_id);
  mcr_server_address_append_param (query, port_name, port);
  if (remote_ip != NULL && *remote_ip != '\0')
    mcr_server_address_append_param (query, addr_name, remote_ip);
  mcr_server_address_append_param (query, "auth", self->auth_cookie);
  return mcr_server_address_build_uri (self->address, endpoint, query);
}

/* ---- sending ---- */

static void
send_text (McrServer  *self,
           const char *text)
{
  if (self->send_hook != NULL)
    self->send_hook (text, self->send_hook_data);
  if (self->ws != NULL &&
      soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (self->ws, text);
}

static void
send_action (McrServer  *self,
             const char *action)
{
  g_autofree char *text = g_strdup_printf ("{\"action\":\"%s\"}", action);

  send_text (self, text);
}

void
mcr_server_send_command (McrServer  *self,
                         JsonObject *command)
{
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;

  g_return_if_fail (MCR_IS_SERVER (self));
  g_return_if_fail (command != NULL);

  node = json_node_init_object (json_node_alloc (), command);
  text = json_to_string (node, FALSE);
  send_text (self, text);
}

void
mcr_server_set_device_rdp_port (McrServer *self,
                                McrDevice *device,
                                guint16    port)
{
  g_autoptr(JsonObject) command = json_object_new ();

  g_return_if_fail (MCR_IS_SERVER (self));
  g_return_if_fail (MCR_IS_DEVICE (device));

  json_object_set_string_member (command, "action", "changedevice");
  json_object_set_string_member (command, "nodeid", mcr_device_get_id (device));
  json_object_set_int_member (command, "rdpport", port);
  mcr_server_send_command (self, command);
}

/* ---- timers while connected ---- */

static gboolean
on_ping_timer (gpointer user_data)
{
  McrServer *self = user_data;

  if (g_get_monotonic_time () - self->last_rx > (gint64) self->dead_after_ms * 1000)
    {
      self->ping_id = 0;
      connection_lost (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TIMEOUT,
                                          _("%s stopped answering"), self->name));
      return G_SOURCE_REMOVE;
    }
  send_action (self, "ping");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_cookie_timer (gpointer user_data)
{
  McrServer *self = user_data;

  send_action (self, "authcookie");
  send_action (self, "logincookie");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_refresh_timer (gpointer user_data)
{
  McrServer *self = user_data;
  guint flags = self->refresh_flags;

  self->refresh_id = 0;
  self->refresh_flags = 0;
  if (flags & REFRESH_USERGROUPS)
    send_action (self, "usergroups");
  if (flags & REFRESH_MESHES)
    send_action (self, "meshes");
  if (flags & REFRESH_NODES)
    send_action (self, "nodes");
  return G_SOURCE_REMOVE;
}

/* Events often come in bursts: ask once for all of them. */
static void
schedule_refresh (McrServer *self,
                  guint      flags)
{
  self->refresh_flags |= flags;
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_COALESCE_MS, on_refresh_timer, self);
}

/* ---- login results ---- */

static gboolean
is_definitive (const GError *error)
{
  if (error == NULL || error->domain != MCR_SERVER_ERROR)
    return FALSE;
  switch (error->code)
    {
    case MCR_SERVER_ERROR_BAD_CREDENTIALS:
    case MCR_SERVER_ERROR_TOKEN_REQUIRED:
    case MCR_SERVER_ERROR_BAD_TOKEN:
    case MCR_SERVER_ERROR_NO_TOOLS:
    case MCR_SERVER_ERROR_EMAIL_NOT_VERIFIED:
    case MCR_SERVER_ERROR_2FA_SETUP_REQUIRED:
    case MCR_SERVER_ERROR_UNTRUSTED_CERT:
    case MCR_SERVER_ERROR_REFUSED:
    case MCR_SERVER_ERROR_CANCELLED:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
finish_login_task (McrServer *self,
                   GError    *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->login_task);

  if (self->login_cancel_source != NULL)
    {
      g_source_destroy (self->login_cancel_source);
      g_clear_pointer (&self->login_cancel_source, g_source_unref);
    }
  if (task == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      g_task_set_task_data (task, g_memdup2 (&self->token_request, sizeof self->token_request),
                            g_free);
      g_task_return_error (task, error);
    }
  else
    g_task_return_boolean (task, TRUE);
}

guint
_mcr_server_reconnect_delay_ms (guint attempt)
{
  guint base = RECONNECT_MAX_MS;
  double jittered;

  if (attempt < 6)
    base = MIN ((guint) RECONNECT_MIN_MS << attempt, (guint) RECONNECT_MAX_MS);
  /* ±20 % so that many clients do not come back in step after a restart. */
  jittered = base * g_random_double_range (0.8, 1.2);
  return (guint) CLAMP (jittered, RECONNECT_MIN_MS, RECONNECT_MAX_MS);
}

static gboolean
on_reconnect_timer (gpointer user_data)
{
  McrServer *self = user_data;

  self->reconnect_id = 0;
  start_attempt (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (McrServer *self,
                    GError    *error)
{
  guint delay = _mcr_server_reconnect_delay_ms (self->reconnect_attempt++);

  g_debug ("%s: reconnecting in %u ms (%s)", self->name, delay, error->message);
  set_state (self, MCR_SERVER_STATE_RECONNECTING, error);
  g_clear_error (&error);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  self->reconnect_id = g_timeout_add (delay, on_reconnect_timer, self);
}

/* The current attempt (first login or reconnect) failed. Takes @error. */
static void
attempt_failed (McrServer *self,
                GError    *error)
{
  teardown_connection (self);
  g_debug ("%s: attempt failed: %s", self->name, error->message);

  if (self->login_task != NULL)
    {
      gboolean cancelled = g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED);

      self->logged_in = FALSE;
      set_state (self, cancelled ? MCR_SERVER_STATE_DISCONNECTED : MCR_SERVER_STATE_FAILED,
                 cancelled ? NULL : error);
      finish_login_task (self, error);
      return;
    }
  if (self->logged_in && !is_definitive (error))
    {
      schedule_reconnect (self, error);
      return;
    }
  self->logged_in = FALSE;
  set_state (self, MCR_SERVER_STATE_FAILED, error);
  g_clear_error (&error);
}

/* The connection of a logged-in session dropped. Takes @error. */
static void
connection_lost (McrServer *self,
                 GError    *error)
{
  teardown_connection (self);
  if (!self->logged_in)
    {
      set_state (self, MCR_SERVER_STATE_DISCONNECTED, NULL);
      g_clear_error (&error);
      return;
    }
  if (is_definitive (error))
    {
      self->logged_in = FALSE;
      set_state (self, MCR_SERVER_STATE_FAILED, error);
      g_clear_error (&error);
      return;
    }
  self->reconnect_attempt = 0;
  schedule_reconnect (self, error);
}

static void
maybe_devices_loaded (McrServer *self)
{
  if (self->phase != PHASE_READY || !self->got_meshes || !self->got_nodes ||
      self->auth_cookie == NULL)
    return;
  set_devices_loaded (self, TRUE);
  if (self->devices_loaded_pending)
    {
      self->devices_loaded_pending = FALSE;
      g_signal_emit (self, signals[SIGNAL_DEVICES_LOADED], 0);
    }
}

static void
login_succeeded (McrServer *self)
{
  g_debug ("%s: logged in as %s", self->name, self->user_name);
  /* The attempt is over: its timeout must not end the session later. */
  g_clear_handle_id (&self->attempt_timeout_id, g_source_remove);
  self->phase = PHASE_READY;
  self->logged_in = TRUE;
  self->reconnect_attempt = 0;
  self->ping_id = g_timeout_add (self->ping_interval_ms, on_ping_timer, self);
  self->cookie_id = g_timeout_add (self->cookie_refresh_ms, on_cookie_timer, self);

  /* After a login with a second factor, ask for a cookie that skips it next
   * time: to reconnect by ourselves, and for the user if they asked for it. */
  if (self->third == THIRD_CODE || self->third == THIRD_COOKIE)
    send_action (self, "twoFactorCookie");

  set_state (self, MCR_SERVER_STATE_CONNECTED, NULL);
  finish_login_task (self, NULL);
  maybe_devices_loaded (self);
}

static void
maybe_login_done (McrServer *self)
{
  if (self->phase != PHASE_AUTHENTICATING || !self->got_serverinfo || !self->got_userinfo)
    return;
  if ((self->features & FEATURE_2FA_REQUIRED) && !self->user_has_2fa)
    {
      attempt_failed (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_2FA_SETUP_REQUIRED,
                                         _("%s requires two-factor authentication, and this "
                                           "account has none set up: set it up in the web "
                                           "interface first"),
                                         self->name));
      return;
    }
  login_succeeded (self);
}

/* ---- messages ---- */

static void
fill_token_request (McrServer  *self,
                    JsonObject *msg)
{
  gint64 days = 0;

  self->token_request.email = mcr_json_get_truthy (msg, "email2fa");
  self->token_request.sms = mcr_json_get_truthy (msg, "sms2fa");
  self->token_request.messenger = mcr_json_get_truthy (msg, "msg2fa");
  self->token_request.email_sent = mcr_json_get_truthy (msg, "email2fasent");
  self->token_request.sms_sent = mcr_json_get_truthy (msg, "sms2fasent");
  self->token_request.messenger_sent = mcr_json_get_truthy (msg, "msg2fasent");
  if (mcr_json_get_int (msg, "twoFactorCookieDays", &days) && days > 0)
    self->token_request.cookie_days = (guint) MIN (days, 3650);
  else
    self->token_request.cookie_days = 0;
}

static GError *
error_from_close (McrServer  *self,
                  JsonObject *msg)
{
  const char *m = mcr_json_get_string (msg, "msg");
  const char *cause = mcr_json_get_string (msg, "cause");

  if (m == NULL)
    m = "";
  if (cause == NULL)
    cause = "";

  if (g_str_equal (m, "tokenrequired"))
    {
      fill_token_request (self, msg);
      if (self->third == THIRD_CODE)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_TOKEN,
                            _("%s did not accept the second-factor code"), self->name);
      if (self->token_request.email_sent)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED,
                            _("%s sent a code by email: enter it to log in"), self->name);
      if (self->token_request.sms_sent)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED,
                            _("%s sent a code by SMS: enter it to log in"), self->name);
      if (self->token_request.messenger_sent)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED,
                            _("%s sent a code by messenger: enter it to log in"),
                            self->name);
      return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED,
                          _("%s requires a second-factor code for this account"),
                          self->name);
    }
  if (g_str_equal (m, "notools") || g_str_equal (cause, "notools"))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_NO_TOOLS,
                        _("This account may not use tools such as MeshCentral Router on %s"),
                        self->name);
  if (g_str_has_prefix (m, "emailvalidation") || g_str_equal (cause, "emailvalidation"))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_EMAIL_NOT_VERIFIED,
                        _("The email address of this account is not verified yet: verify it "
                          "in the web interface of %s first"), self->name);
  if (g_str_has_prefix (m, "2fasetuprequired"))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_2FA_SETUP_REQUIRED,
                        _("%s requires two-factor authentication, and this account has none "
                          "set up: set it up in the web interface first"), self->name);
  if (g_str_has_prefix (m, "noauth") || g_str_equal (cause, "noauth"))
    {
      if (self->creds.auth_cookie != NULL)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_CREDENTIALS,
                            _("The login link for %s has expired or is not valid: open a new "
                              "one from the web interface"), self->name);
      return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_CREDENTIALS,
                          _("Invalid user name or password for %s"), self->name);
    }
  if (g_str_has_prefix (m, "banned") || g_str_equal (cause, "banned"))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_REFUSED,
                        _("%s does not accept connections from this address"),
                        self->name);
  return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_REFUSED,
                      _("%s refused the login (%s)"), self->name,
                      *m ? m : (*cause ? cause : _("no reason given")));
}

static gboolean
user_has_second_factor (JsonObject *userinfo)
{
  static const char *const fields[] = {
    "otpsecret", "otpkeys", "otphkeys", "otpdev", "otpduo", "otpekey", "phone", "msghandle",
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (mcr_json_get_truthy (userinfo, fields[i]))
      return TRUE;
  return FALSE;
}

static void
handle_serverinfo (McrServer  *self,
                   JsonObject *msg)
{
  JsonObject *info = mcr_json_get_object (msg, "serverinfo");
  const char *hash = mcr_json_get_string (info, "tlshash");

  self->features = (guint32) mcr_json_get_int_or (info, "features", 0);
  self->features2 = (guint32) mcr_json_get_int_or (info, "features2", 0);
  set_string (&self->server_tls_hash, hash);
  set_string (&self->domain_id, mcr_json_get_string (info, "domain"));

  if (!self->got_serverinfo)
    {
      self->got_serverinfo = TRUE;
      send_action (self, "usergroups");
      send_action (self, "meshes");
      send_action (self, "nodes");
      send_action (self, "authcookie");
      send_action (self, "logincookie");
    }
  maybe_login_done (self);
}

static void
handle_userinfo (McrServer  *self,
                 JsonObject *msg)
{
  JsonObject *info = mcr_json_get_object (msg, "userinfo");
  const char *id = mcr_json_get_string (info, "_id");
  const char *name = mcr_json_get_string (info, "name");

  if (id == NULL)
    return;
  if (self->user_id != NULL && !g_str_equal (self->user_id, id))
    return;  /* someone else's account changed */
  g_object_freeze_notify (G_OBJECT (self));
  if (set_string (&self->user_id, id))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_ID]);
  if (name != NULL && set_string (&self->user_name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_NAME]);
  g_object_thaw_notify (G_OBJECT (self));
  self->user_has_2fa = user_has_second_factor (info);
  mcr_device_directory_set_user (self->directory, info);
  self->got_userinfo = TRUE;
  maybe_login_done (self);
}

static void
handle_event (McrServer  *self,
              JsonObject *msg)
{
  JsonObject *event = mcr_json_get_object (msg, "event");
  const char *action = mcr_json_get_string (event, "action");

  if (action == NULL || self->phase != PHASE_READY)
    return;

  if (g_str_equal (action, "changenode") || g_str_equal (action, "addnode"))
    {
      JsonObject *node = mcr_json_get_object (event, "node");

      if (node != NULL && !mcr_device_directory_change_device (self->directory, node))
        schedule_refresh (self, REFRESH_MESHES | REFRESH_NODES);
    }
  else if (g_str_equal (action, "nodeconnect"))
    {
      const char *node_id = mcr_json_get_string (event, "nodeid");
      gint64 conn;

      if (node_id != NULL && mcr_json_get_int (event, "conn", &conn))
        mcr_device_directory_set_connectivity (self->directory, node_id, conn);
    }
  else if (g_str_equal (action, "removenode"))
    mcr_device_directory_remove_device (self->directory, mcr_json_get_string (event, "nodeid"));
  else if (g_str_equal (action, "meshchange") || g_str_equal (action, "createmesh") ||
           g_str_equal (action, "deletemesh"))
    schedule_refresh (self, REFRESH_MESHES | REFRESH_NODES);
  else if (g_str_equal (action, "usergroupchange") || g_str_equal (action, "createusergroup") ||
           g_str_equal (action, "deleteusergroup"))
    schedule_refresh (self, REFRESH_USERGROUPS | REFRESH_MESHES | REFRESH_NODES);
  else if (g_str_equal (action, "accountchange"))
    {
      JsonObject *account = mcr_json_get_object (event, "account");
      const char *id = mcr_json_get_string (account, "_id");

      if (id != NULL && g_strcmp0 (id, self->user_id) == 0)
        {
          mcr_device_directory_set_user (self->directory, account);
          schedule_refresh (self, REFRESH_MESHES | REFRESH_NODES);
        }
    }
}

static void
handle_message (McrServer  *self,
                const char *action,
                JsonObject *msg)
{
  if (g_str_equal (action, "close"))
    {
      GError *error = error_from_close (self, msg);

      /* MeshCentral closes the connection right after saying why: end the
       * session now, with its reason. (Keeping the reason for a close that
       * might never come would let it decide about some later, unrelated
       * drop.) */
      if (self->phase == PHASE_READY)
        connection_lost (self, error);
      else
        attempt_failed (self, error);
      return;
    }

  if (self->phase != PHASE_AUTHENTICATING && self->phase != PHASE_READY)
    return;

  if (g_str_equal (action, "ping"))
    {
      gint64 now = g_get_monotonic_time ();

      if (self->last_pong == 0 || now - self->last_pong >= PONG_MIN_INTERVAL_MS * 1000)
        {
          self->last_pong = now;
          send_action (self, "pong");
        }
    }
  else if (g_str_equal (action, "serverinfo"))
    handle_serverinfo (self, msg);
  else if (g_str_equal (action, "userinfo"))
    handle_userinfo (self, msg);
  else if (self->phase != PHASE_READY)
    return;
  else if (g_str_equal (action, "meshes"))
    {
      JsonArray *meshes = mcr_json_get_array (msg, "meshes");

      if (meshes == NULL)
        return;
      mcr_device_directory_update_groups (self->directory, meshes);
      self->got_meshes = TRUE;
      maybe_devices_loaded (self);
    }
  else if (g_str_equal (action, "nodes"))
    {
      JsonObject *nodes = mcr_json_get_object (msg, "nodes");

      if (nodes == NULL)
        return;
      mcr_device_directory_update_devices (self->directory, nodes);
      self->got_nodes = TRUE;
      maybe_devices_loaded (self);
    }
  else if (g_str_equal (action, "authcookie"))
    {
      const char *cookie = mcr_json_get_string (msg, "cookie");

      if (cookie != NULL && *cookie != '\0')
        {
          set_string (&self->auth_cookie, cookie);
          maybe_devices_loaded (self);
        }
    }
  else if (g_str_equal (action, "logincookie"))
    set_string (&self->login_cookie, mcr_json_get_string (msg, "cookie"));
  else if (g_str_equal (action, "twoFactorCookie"))
    {
      const char *cookie = mcr_json_get_string (msg, "cookie");

      if (cookie == NULL || *cookie == '\0')
        return;
      set_string (&self->session_twofa_cookie, cookie);
      if (self->creds.remember_device && set_string (&self->twofa_cookie, cookie))
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TWOFA_COOKIE]);
    }
  else if (g_str_equal (action, "usergroups"))
    ; /* names only; rights come through the links of groups and devices */
  else if (g_str_equal (action, "event"))
    handle_event (self, msg);
}

/* Parses one text frame and dispatches it. Anything malformed is dropped,
 * except during login, where it means the peer is not a MeshCentral
 * server. */
static void
handle_text (McrServer  *self,
             const char *text,
             gsize       length)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) hold G_GNUC_UNUSED = g_object_ref (G_OBJECT (self));
  g_autofree char *copy = NULL;
  JsonNode *root;
  JsonObject *msg;
  const char *action;
  GQuark detail;

  self->last_rx = g_get_monotonic_time ();
  /* Node's JSON.stringify() writes a lone surrogate (a device name or
   * description anyone who may edit the device can set) as an escape that
   * the strict check refuses: repaired to U+FFFD in a copy, the rest of
   * such a message (a whole device list) still counts. */
  if (length <= G_MAXSSIZE)
    copy = g_memdup2 (text, length);
  if (copy == NULL || !mcr_json_check_and_repair (copy, length, MAX_JSON_DEPTH, NULL) ||
      !json_parser_load_from_data (parser, copy, (gssize) length, &error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (action = mcr_json_get_string ((msg = json_node_get_object (root)), "action")) == NULL)
    {
      g_debug ("%s: dropped a malformed message (%" G_GSIZE_FORMAT " bytes)",
               self->name, length);
      if (self->phase == PHASE_AUTHENTICATING)
        attempt_failed (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_NOT_MESHCENTRAL,
                                           _("%s answered, but not as a MeshCentral server"),
                                           self->name));
      return;
    }

  g_debug ("%s: received %s%s%s", self->name, action,
           g_str_equal (action, "event") ? " " : "",
           g_str_equal (action, "event")
             ? (mcr_json_get_string (mcr_json_get_object (msg, "event"), "action") ?: "?")
             : "");
  handle_message (self, action, msg);

  /* Only details somebody listens for exist as quarks: the server must not
   * be able to grow the quark table. */
  detail = g_quark_try_string (action);
  g_signal_emit (self, signals[SIGNAL_MESSAGE], detail, action, msg);
}

/* ---- the WebSocket ---- */

/* The main loop is back: the burst of messages is over. */
static gboolean
on_burst_end (gpointer user_data)
{
  McrServer *self = user_data;

  self->burst_id = 0;
  if (self->flooded)
    {
      GError *error = g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CLOSED,
                                   _("%s sent more messages than the router can take in"),
                                   self->name);

      if (self->phase == PHASE_READY)
        connection_lost (self, error);
      else
        attempt_failed (self, error);
    }
  return G_SOURCE_REMOVE;
}

/* FALSE (and the connection closing) when this message is one too many of
 * a flood. */
static gboolean
count_burst (McrServer               *self,
             SoupWebsocketConnection *ws)
{
  gint64 now = g_get_monotonic_time ();

  if (self->flooded)
    return FALSE;
  if (self->burst_id == 0)
    {
      self->burst_start = now;
      self->burst_messages = 0;
      /* Before libsoup's source can run again. */
      self->burst_id = g_idle_add_full (G_PRIORITY_HIGH, on_burst_end, self, NULL);
    }
  if (++self->burst_messages < FLOOD_MESSAGES || now - self->burst_start < FLOOD_MS * 1000)
    return TRUE;
  g_debug ("%s: %u messages in %" G_GINT64_FORMAT " ms without a break: closing", self->name,
           self->burst_messages, (now - self->burst_start) / 1000);
  self->flooded = TRUE;
  soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
  return FALSE;
}

static void
on_ws_message (SoupWebsocketConnection *ws,
               gint                     type,
               GBytes                  *message,
               gpointer                 user_data)
{
  McrServer *self = user_data;
  gsize length;
  const char *data = g_bytes_get_data (message, &length);

  if (!count_burst (self, ws))
    return;
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      self->last_rx = g_get_monotonic_time ();
      return;
    }
  handle_text (self, data ? data : "", length);
}

static void
on_ws_error (SoupWebsocketConnection *ws,
             GError                  *error,
             gpointer                 user_data)
{
  McrServer *self = user_data;

  g_debug ("%s: WebSocket error: %s", self->name, error->message);
  if (self->ws_error == NULL)
    self->ws_error = g_error_copy (error);
}

static void
on_ws_closed (SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  McrServer *self = user_data;
  GError *error;

  g_debug ("%s: closed (code %u)", self->name,
           soup_websocket_connection_get_close_code (ws));
  if (self->phase == PHASE_AUTHENTICATING)
    {
      if (self->ws_error != NULL)
        error = g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CLOSED,
                             _("The connection to %s failed during login: %s"),
                             self->name, self->ws_error->message);
      else
        error = g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CLOSED,
                             _("%s closed the connection during login"), self->name);
      attempt_failed (self, error);
      return;
    }
  if (self->ws_error != NULL)
    error = g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CLOSED,
                         _("The connection to %s was lost: %s"), self->name,
                         self->ws_error->message);
  else
    error = g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CLOSED,
                         _("The connection to %s was lost"), self->name);
  connection_lost (self, error);
}

static void
record_peer_certificate (McrServer       *self,
                         GTlsCertificate *certificate)
{
  g_autoptr(GError) error = NULL;
  McrCertInfo *info;

  if (certificate == NULL)
    return;
  info = mcr_cert_info_new (certificate, &error);
  if (info == NULL)
    {
      g_debug ("%s: %s", self->name, error->message);
      return;
    }
  if (self->peer_cert_info != NULL && g_strcmp0 (self->peer_cert_info->sha384, info->sha384) == 0)
    {
      mcr_cert_info_free (info);
      return;
    }
  g_clear_pointer (&self->peer_cert_info, mcr_cert_info_free);
  self->peer_cert_info = info;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEER_CERT_INFO]);
}

/* Only called when the system does not trust the certificate. */
static gboolean
on_accept_certificate (SoupMessage         *msg,
                       GTlsCertificate     *certificate,
                       GTlsCertificateFlags errors,
                       gpointer             user_data)
{
  McrServer *self = user_data;
  gboolean accepted;

  record_peer_certificate (self, certificate);
  accepted = mcr_tls_policy_accepts (self->tls_policy, certificate, errors);
  g_debug ("%s: certificate not trusted by the system (flags 0x%x): %s", self->name,
           errors, accepted ? "accepted by policy" : "refused");
  if (!accepted)
    self->cert_refused = TRUE;
  return accepted;
}

static GError *
untrusted_certificate_error (McrServer *self)
{
  const McrCertInfo *info = self->peer_cert_info;

  if (info == NULL)
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT,
                        _("The certificate of %s is not trusted"), self->name);
  return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT,
                      _("The certificate of %s is not trusted (issued to “%s” by “%s”). Its "
                        "SHA-384 fingerprint is %s: accept it only if it is the one of your "
                        "server."),
                      self->name, info->subject, info->issuer, info->sha384);
}

static GError *
classify_connect_error (McrServer    *self,
                        const GError *error,
                        SoupMessage  *msg)
{
  if (self->cert_refused)
    return untrusted_certificate_error (self);

  if (error->domain == G_RESOLVER_ERROR ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                        _("The server name “%s” cannot be found"), self->address->host);
  if (self->proxy_resolver != NULL &&
      (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
       g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
       g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE)))
    return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                        _("The proxy for %s cannot be reached: %s"), self->name,
                        error->message);
  if (error->domain == G_IO_ERROR)
    switch (error->code)
      {
      case G_IO_ERROR_CANCELLED:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED,
                            _("The connection to %s was cancelled"), self->name);
      case G_IO_ERROR_CONNECTION_REFUSED:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                            _("%s refused the connection: is the server running on port %u?"),
                            self->name, self->address->port);
      case G_IO_ERROR_TIMED_OUT:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TIMEOUT,
                            _("%s did not answer in time"), self->name);
      case G_IO_ERROR_HOST_UNREACHABLE:
      case G_IO_ERROR_NETWORK_UNREACHABLE:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                            _("%s cannot be reached: %s"), self->name, error->message);
      case G_IO_ERROR_PROXY_FAILED:
      case G_IO_ERROR_PROXY_AUTH_FAILED:
      case G_IO_ERROR_PROXY_NEED_AUTH:
      case G_IO_ERROR_PROXY_NOT_ALLOWED:
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                            _("The proxy did not connect to %s: %s"), self->name,
                            error->message);
      default:
        break;
      }
  if (error->domain == G_TLS_ERROR)
    {
      if (error->code == G_TLS_ERROR_BAD_CERTIFICATE)
        return untrusted_certificate_error (self);
      /* Whatever answered does not speak TLS as a MeshCentral server does
       * (an HTTP server on that port answers "unexpected TLS packet"). */
      return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_NOT_MESHCENTRAL,
                          _("No secure connection to %s (%s): is it a MeshCentral server, "
                            "and is the port right?"), self->name, error->message);
    }
  if (error->domain == SOUP_WEBSOCKET_ERROR)
    {
      guint status = msg ? soup_message_get_status (msg) : 0;

      if (status == SOUP_STATUS_PROXY_AUTHENTICATION_REQUIRED)
        return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                            _("The proxy asks for a password to reach %s"), self->name);
      if (status != 0)
        {
          const char *reason = soup_message_get_reason_phrase (msg);

          return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_NOT_MESHCENTRAL,
                              _("%s answered, but not as a MeshCentral server (HTTP %u %s): "
                                "check the address and the domain"),
                              self->name, status, reason ? reason : "");
        }
      return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_NOT_MESHCENTRAL,
                          _("%s answered, but not as a MeshCentral server: %s"),
                          self->name, error->message);
    }
  return g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNREACHABLE,
                      _("No connection to %s: %s"), self->name, error->message);
}

typedef struct
{
  McrServer *server;  /* owned */
  guint      serial;
} AttemptData;

static void
on_ws_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AttemptData *data = user_data;
  g_autoptr(McrServer) self = data->server;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *ws;
  guint serial = data->serial;

  g_free (data);
  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (serial != self->attempt_serial || self->phase != PHASE_CONNECTING)
    {
      /* This attempt was abandoned (logout, timeout, a newer attempt). */
      if (ws != NULL)
        {
          soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
          g_object_unref (ws);
        }
      return;
    }

  /* Also when the upgrade failed: the UI shows whom we talked to. */
  record_peer_certificate (self, soup_message_get_tls_peer_certificate (self->attempt_msg));
  if (ws == NULL)
    {
      attempt_failed (self, classify_connect_error (self, error, self->attempt_msg));
      return;
    }

  g_clear_object (&self->attempt_msg);
  g_clear_object (&self->attempt_cancellable);
  self->ws = ws;
  self->phase = PHASE_AUTHENTICATING;
  self->last_rx = g_get_monotonic_time ();
  soup_websocket_connection_set_max_incoming_payload_size (ws, self->max_payload);
  g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), self);
  g_signal_connect (ws, "error", G_CALLBACK (on_ws_error), self);
  g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), self);
  g_debug ("%s: WebSocket open, waiting for the login result", self->name);
}

static gboolean
on_attempt_timeout (gpointer user_data)
{
  McrServer *self = user_data;

  self->attempt_timeout_id = 0;
  attempt_failed (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TIMEOUT,
                                     _("%s did not answer within %u seconds"),
                                     self->name, self->timeout_s));
  return G_SOURCE_REMOVE;
}

static char *
encode_meshauth (const char *user,
                 const char *password,
                 const char *third)
{
  g_autofree char *u = g_base64_encode ((const guchar *) user, strlen (user));
  g_autofree char *p = g_base64_encode ((const guchar *) password, strlen (password));
  g_autofree char *t = NULL;

  if (third == NULL)
    return g_strdup_printf ("%s,%s", u, p);
  t = g_base64_encode ((const guchar *) third, strlen (third));
  return g_strdup_printf ("%s,%s,%s", u, p, t);
}

static gboolean
is_send_request (const char *token)
{
  return g_strcmp0 (token, "**email**") == 0 || g_strcmp0 (token, "**sms**") == 0 ||
         g_strcmp0 (token, "**msg**") == 0;
}

/* The x-meshauth header for a password login, and what its third part is. */
static char *
password_auth_header (McrServer *self)
{
  g_autofree char *cookie = NULL;
  const char *third = NULL;
  char *header;

  self->third = THIRD_NONE;
  if (self->login_task != NULL && self->creds.token != NULL)
    {
      third = self->creds.token;
      self->third = is_send_request (third) ? THIRD_SEND_REQUEST : THIRD_CODE;
    }
  else if (self->session_twofa_cookie != NULL || self->creds.twofa_cookie != NULL)
    {
      cookie = g_strconcat ("cookie=", self->session_twofa_cookie ? self->session_twofa_cookie
                                                                  : self->creds.twofa_cookie,
                            NULL);
      third = cookie;
      self->third = THIRD_COOKIE;
    }
  else if (self->creds.token != NULL && !is_send_request (self->creds.token))
    {
      third = self->creds.token;
      self->third = THIRD_CODE;
    }

  header = encode_meshauth (self->creds.user ? self->creds.user : "",
                            self->creds.password ? self->creds.password : "", third);
  if (cookie != NULL)
    memset (cookie, 0, strlen (cookie));
  return header;
}

static void
start_attempt (McrServer *self)
{
  g_autoptr(GString) query = g_string_new (NULL);
  g_autoptr(GUri) uri = NULL;
  AttemptData *data;

  teardown_connection (self);
  set_state (self, self->logged_in ? MCR_SERVER_STATE_RECONNECTING : MCR_SERVER_STATE_CONNECTING,
             self->logged_in ? self->error : NULL);

  if (self->creds.auth_cookie != NULL)
    {
      /* Reconnect with the latest cookie from the server: the one of the
       * mcrouter:// link is valid for an hour only. */
      const char *cookie = self->logged_in && self->auth_cookie ? self->auth_cookie
                                                                : self->creds.auth_cookie;

      mcr_server_address_append_param (query, "auth", cookie);
      self->third = THIRD_NONE;
    }
  uri = mcr_server_address_build_uri (self->address, "control.ashx", query);

  self->phase = PHASE_CONNECTING;
  self->cert_refused = FALSE;
  self->attempt_cancellable = g_cancellable_new ();
  self->attempt_msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  if (self->creds.auth_cookie == NULL)
    {
      g_autofree char *header = password_auth_header (self);

      soup_message_headers_replace (soup_message_get_request_headers (self->attempt_msg),
                                    "x-meshauth", header);
      memset (header, 0, strlen (header));
    }
  g_signal_connect (self->attempt_msg, "accept-certificate",
                    G_CALLBACK (on_accept_certificate), self);

  g_debug ("%s: connecting (%s login)", self->name,
           self->creds.auth_cookie ? "cookie" : "password");
  data = g_new0 (AttemptData, 1);
  data->server = g_object_ref (self);
  data->serial = self->attempt_serial;
  self->attempt_timeout_id = g_timeout_add (self->timeout_s * 1000, on_attempt_timeout, self);
  soup_session_websocket_connect_async (self->session, self->attempt_msg, NULL, NULL,
                                        G_PRIORITY_DEFAULT, self->attempt_cancellable,
                                        on_ws_connected, data);
}

/* Closes whatever connection or attempt there is; the session state
 * (logged_in, credentials, models) stays. */
static void
teardown_connection (McrServer *self)
{
  self->attempt_serial++;
  self->phase = PHASE_IDLE;
  g_clear_handle_id (&self->attempt_timeout_id, g_source_remove);
  g_clear_handle_id (&self->ping_id, g_source_remove);
  g_clear_handle_id (&self->cookie_id, g_source_remove);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_handle_id (&self->burst_id, g_source_remove);
  self->refresh_flags = 0;
  self->flooded = FALSE;
  self->last_pong = 0;
  if (self->attempt_cancellable != NULL)
    {
      g_cancellable_cancel (self->attempt_cancellable);
      g_clear_object (&self->attempt_cancellable);
    }
  if (self->attempt_msg != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->attempt_msg, self);
      g_clear_object (&self->attempt_msg);
    }
  if (self->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->ws, self);
      if (soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&self->ws);
    }
  g_clear_error (&self->ws_error);
  self->got_serverinfo = FALSE;
  self->got_userinfo = FALSE;
  self->got_meshes = FALSE;
  self->got_nodes = FALSE;
}

/* ---- login / logout ---- */

static gboolean
on_login_cancelled (GCancellable *cancellable,
                    gpointer      user_data)
{
  McrServer *self = user_data;

  if (self->login_task != NULL)
    attempt_failed (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED,
                                       _("The login to %s was cancelled"), self->name));
  return G_SOURCE_REMOVE;
}

static void
reset_session (McrServer *self)
{
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  teardown_connection (self);
  self->logged_in = FALSE;
  self->reconnect_attempt = 0;
  g_clear_pointer (&self->session_twofa_cookie, g_free);
  g_clear_pointer (&self->auth_cookie, g_free);
  g_clear_pointer (&self->login_cookie, g_free);
  mcr_device_directory_clear (self->directory);
  set_devices_loaded (self, FALSE);
  self->devices_loaded_pending = FALSE;
}

void
mcr_server_login_async (McrServer            *self,
                        const McrCredentials *credentials,
                        GCancellable         *cancellable,
                        GAsyncReadyCallback   callback,
                        gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MCR_IS_SERVER (self));
  g_return_if_fail (credentials != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mcr_server_login_async);
  g_task_set_check_cancellable (task, FALSE);

  if (self->login_task != NULL)
    finish_login_task (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED,
                                          _("The login to %s was cancelled"),
                                          self->name));
  reset_session (self);

  credentials_clear (&self->creds);
  self->creds.user = dup_nonempty (credentials->user);
  self->creds.password = g_strdup (credentials->password);
  self->creds.token = dup_nonempty (credentials->token);
  self->creds.twofa_cookie = dup_nonempty (credentials->twofa_cookie);
  self->creds.auth_cookie = dup_nonempty (credentials->auth_cookie);
  self->creds.remember_device = credentials->remember_device;
  memset (&self->token_request, 0, sizeof self->token_request);
  if (set_string (&self->user_id, NULL))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_ID]);
  if (set_string (&self->user_name, self->creds.user))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_NAME]);
  if (self->twofa_cookie != NULL)
    {
      g_clear_pointer (&self->twofa_cookie, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TWOFA_COOKIE]);
    }

  if (self->creds.auth_cookie == NULL && self->creds.user == NULL)
    {
      set_state (self, MCR_SERVER_STATE_FAILED, NULL);
      g_task_return_new_error (task, MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_CREDENTIALS,
                               _("A user name is needed to log into %s"), self->name);
      return;
    }

  self->login_task = g_steal_pointer (&task);
  self->devices_loaded_pending = TRUE;
  if (cancellable != NULL)
    {
      self->login_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->login_cancel_source, G_SOURCE_FUNC (on_login_cancelled),
                             self, NULL);
      g_source_attach (self->login_cancel_source, NULL);
    }
  start_attempt (self);
}

gboolean
mcr_server_login_finish (McrServer       *self,
                         GAsyncResult    *result,
                         McrTokenRequest *token_request,
                         GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  McrTokenRequest *request;
  gboolean ok;

  g_return_val_if_fail (MCR_IS_SERVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  request = g_task_get_task_data (G_TASK (result));
  ok = g_task_propagate_boolean (G_TASK (result), &local_error);
  if (token_request != NULL)
    {
      if (request != NULL)
        *token_request = *request;
      else
        memset (token_request, 0, sizeof *token_request);
    }
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return ok;
}

void
mcr_server_logout (McrServer *self)
{
  g_return_if_fail (MCR_IS_SERVER (self));

  if (self->login_task != NULL)
    {
      attempt_failed (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED,
                                         _("The login to %s was cancelled"), self->name));
    }
  reset_session (self);
  set_state (self, MCR_SERVER_STATE_DISCONNECTED, NULL);
}

const McrTokenRequest *
mcr_server_get_token_request (McrServer *self)
{
  g_return_val_if_fail (MCR_IS_SERVER (self), NULL);
  return &self->token_request;
}

/* ---- for tests ---- */

void
_mcr_server_set_send_hook (McrServer         *self,
                           McrServerSendHook  hook,
                           gpointer           user_data)
{
  self->send_hook = hook;
  self->send_hook_data = user_data;
}

void
_mcr_server_begin_test_session (McrServer *self)
{
  reset_session (self);
  credentials_clear (&self->creds);
  self->creds.user = g_strdup ("test");
  self->creds.password = g_strdup ("test");
  self->devices_loaded_pending = TRUE;
  self->phase = PHASE_AUTHENTICATING;
  set_state (self, MCR_SERVER_STATE_CONNECTING, NULL);
}

void
_mcr_server_send_text (McrServer  *self,
                       const char *text)
{
  send_text (self, text);
}

void
_mcr_server_handle_text (McrServer  *self,
                         const char *text,
                         gsize       length)
{
  handle_text (self, text, length);
}

void
_mcr_server_set_intervals (McrServer *self,
                           guint      ping_ms,
                           guint      dead_after_ms,
                           guint      cookie_refresh_ms)
{
  self->ping_interval_ms = ping_ms;
  self->dead_after_ms = dead_after_ms;
  self->cookie_refresh_ms = cookie_refresh_ms;
}

void
_mcr_server_set_tls_database (McrServer   *self,
                              GTlsDatabase *database)
{
  soup_session_set_tls_database (self->session, database);
}

void
_mcr_server_set_max_payload (McrServer *self,
                             guint64    bytes)
{
  self->max_payload = bytes;
}
