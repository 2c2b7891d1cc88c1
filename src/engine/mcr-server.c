/* mcr-server.c: the control channel to one MeshCentral server
 *
 * One WebSocket to wss://HOST:PORT[/DOMAIN]/control.ashx carries JSON
 * messages both ways. Logging in happens on the upgrade request (x-meshauth
 * header or auth= cookie); the server then sends serverinfo and userinfo, or a
 * "close" message that says why not. Once logged in, the devices and groups
 * are kept in an McrDeviceDirectory, and a dropped connection is re-opened
 * with backoff.
 *
 * This file holds the object, its state machine, the connection, logging in
 * and out, reconnecting and the timers. The messages from the server are
 * dispatched in mcr-server-dispatch.c, failures become GErrors in
 * mcr-server-errors.c, and the secrets (credentials, x-meshauth, cookies)
 * are handled in mcr-server-auth.c; mcr-server-private.h has the struct.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-server"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mcr-enums.h"
#include "mcr-log.h"
#include "mcr-secret.h"
#include "mcr-server-private.h"
#include "mcr-string-field.h"

#define DEFAULT_TIMEOUT_S       30
#define PING_INTERVAL_S         30
#define DEAD_AFTER_S            75   /* nothing received for this long: reconnect */
#define COOKIE_REFRESH_S        (5 * 60)
/* Text frames this large are parsed in a worker thread (a device list of
 * thousands would stall the main loop). */
#define RX_THREAD_THRESHOLD     (256 * 1024)
#define RECONNECT_MIN_MS        1000
#define RECONNECT_MAX_MS        60000

#define FEATURE_2FA_REQUIRED    0x00040000

enum
{
  SIGNAL_DEVICES_LOADED,
  SIGNAL_MESSAGE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (McrServer, mcr_server, G_TYPE_OBJECT)

static void start_attempt        (McrServer *self);
static void teardown_connection  (McrServer *self);

/* ---- small things ---- */

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
      g_debug ("%s: %s -> %s", self->name, mcr_enum_nick (MCR_TYPE_SERVER_STATE, self->state),
               mcr_enum_nick (MCR_TYPE_SERVER_STATE, state));
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

void
_mcr_server_notify (McrServer        *self,
                    McrServerProperty prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

void
_mcr_server_emit_message (McrServer  *self,
                          GQuark      detail,
                          const char *action,
                          JsonObject *msg)
{
  g_signal_emit (self, signals[SIGNAL_MESSAGE], detail, action, msg);
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
  _mcr_server_credentials_clear (&self->creds);
  _mcr_server_clear_session_cookies (self);
  mcr_clear_secret (&self->twofa_cookie);
  g_clear_error (&self->ws_error);
  g_clear_error (&self->error);
  g_free (self->user_name);
  g_free (self->user_id);
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
      g_value_set_enum (value, self->state);
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

  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, MCR_TYPE_SERVER_STATE,
                                              MCR_SERVER_STATE_DISCONNECTED, flags);
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
  self->rx_thread_threshold = RX_THREAD_THRESHOLD;
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

void
_mcr_server_send_text (McrServer  *self,
                       const char *text)
{
  if (self->send_hook != NULL)
    self->send_hook (text, self->send_hook_data);
  if (self->ws != NULL &&
      soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (self->ws, text);
}

void
_mcr_server_send_action (McrServer  *self,
                         const char *action)
{
  g_autofree char *text = g_strdup_printf ("{\"action\":\"%s\"}", action);

  _mcr_server_send_text (self, text);
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
  _mcr_server_send_text (self, text);
}

/* ---- timers while connected ---- */

static gboolean
on_ping_timer (gpointer user_data)
{
  McrServer *self = user_data;

  if (g_get_monotonic_time () - self->last_rx > (gint64) self->dead_after_ms * 1000)
    {
      self->ping_id = 0;
      _mcr_server_connection_lost (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TIMEOUT,
                                                      _("%s stopped answering"), self->name));
      return G_SOURCE_REMOVE;
    }
  _mcr_server_send_action (self, "ping");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_cookie_timer (gpointer user_data)
{
  McrServer *self = user_data;

  _mcr_server_send_action (self, "authcookie");
  _mcr_server_send_action (self, "logincookie");
  return G_SOURCE_CONTINUE;
}

/* ---- login results ---- */

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
void
_mcr_server_attempt_failed (McrServer *self,
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
  if (self->logged_in && !_mcr_server_error_is_definitive (error))
    {
      schedule_reconnect (self, error);
      return;
    }
  self->logged_in = FALSE;
  set_state (self, MCR_SERVER_STATE_FAILED, error);
  g_clear_error (&error);
}

/* The connection of a logged-in session dropped. Takes @error. */
void
_mcr_server_connection_lost (McrServer *self,
                             GError    *error)
{
  teardown_connection (self);
  if (!self->logged_in)
    {
      set_state (self, MCR_SERVER_STATE_DISCONNECTED, NULL);
      g_clear_error (&error);
      return;
    }
  if (_mcr_server_error_is_definitive (error))
    {
      self->logged_in = FALSE;
      set_state (self, MCR_SERVER_STATE_FAILED, error);
      g_clear_error (&error);
      return;
    }
  self->reconnect_attempt = 0;
  schedule_reconnect (self, error);
}

void
_mcr_server_maybe_devices_loaded (McrServer *self)
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
    _mcr_server_send_action (self, "twoFactorCookie");

  set_state (self, MCR_SERVER_STATE_CONNECTED, NULL);
  finish_login_task (self, NULL);
  _mcr_server_maybe_devices_loaded (self);
}

void
_mcr_server_maybe_login_done (McrServer *self)
{
  if (self->phase != PHASE_AUTHENTICATING || !self->got_serverinfo || !self->got_userinfo)
    return;
  if ((self->features & FEATURE_2FA_REQUIRED) && !self->user_has_2fa)
    {
      _mcr_server_attempt_failed (self,
                                  g_error_new (MCR_SERVER_ERROR,
                                               MCR_SERVER_ERROR_2FA_SETUP_REQUIRED,
                                               _("%s requires two-factor authentication, and "
                                                 "this account has none set up: set it up in "
                                                 "the web interface first"),
                                               self->name));
      return;
    }
  login_succeeded (self);
}

/* ---- the WebSocket ---- */

static void
on_ws_message (SoupWebsocketConnection *ws,
               gint                     type,
               GBytes                  *message,
               gpointer                 user_data)
{
  McrServer *self = user_data;

  if (!_mcr_server_count_burst (self, ws))
    return;
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      self->last_rx = g_get_monotonic_time ();
      return;
    }
  _mcr_server_receive_text (self, message);
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
      _mcr_server_attempt_failed (self, error);
      return;
    }
  if (self->ws_error != NULL)
    error = g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CLOSED,
                         _("The connection to %s was lost: %s"), self->name,
                         self->ws_error->message);
  else
    error = g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CLOSED,
                         _("The connection to %s was lost"), self->name);
  _mcr_server_connection_lost (self, error);
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
  _mcr_server_record_peer_certificate (self,
                                       soup_message_get_tls_peer_certificate (self->attempt_msg));
  if (ws == NULL)
    {
      _mcr_server_attempt_failed (self,
                                  _mcr_server_error_from_connect (self, error, self->attempt_msg));
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
  _mcr_server_attempt_failed (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_TIMEOUT,
                                                 _("%s did not answer within %u seconds"),
                                                 self->name, self->timeout_s));
  return G_SOURCE_REMOVE;
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
    _mcr_server_append_cookie_auth (self, query);
  uri = mcr_server_address_build_uri (self->address, "control.ashx", query);

  self->phase = PHASE_CONNECTING;
  self->cert_refused = FALSE;
  self->attempt_cancellable = g_cancellable_new ();
  self->attempt_msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  if (self->creds.auth_cookie == NULL)
    _mcr_server_set_password_auth (self, self->attempt_msg);
  g_signal_connect (self->attempt_msg, "accept-certificate",
                    G_CALLBACK (_mcr_server_accept_certificate), self);

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
  _mcr_server_rx_reset (self);
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
    _mcr_server_attempt_failed (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED,
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
  _mcr_server_clear_session_cookies (self);
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

  _mcr_server_credentials_set (&self->creds, credentials);
  memset (&self->token_request, 0, sizeof self->token_request);
  if (mcr_set_string (&self->user_id, NULL))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_ID]);
  if (mcr_set_string (&self->user_name, self->creds.user))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_NAME]);
  _mcr_server_forget_twofa_cookie (self);

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
      _mcr_server_attempt_failed (self, g_error_new (MCR_SERVER_ERROR, MCR_SERVER_ERROR_CANCELLED,
                                                     _("The login to %s was cancelled"),
                                                     self->name));
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
  _mcr_server_credentials_clear (&self->creds);
  self->creds.user = g_strdup ("test");
  self->creds.password = g_strdup ("test");
  self->devices_loaded_pending = TRUE;
  self->phase = PHASE_AUTHENTICATING;
  set_state (self, MCR_SERVER_STATE_CONNECTING, NULL);
}

void
_mcr_server_handle_text (McrServer  *self,
                         const char *text,
                         gsize       length)
{
  _mcr_server_dispatch_text (self, text, length);
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
