/* mcr-map-file.c: .mcrouter files, as the Windows router reads and writes them
 *
 * The Windows router writes these by string concatenation: CRLF line ends,
 * a fixed key order, `name`, `appIdStr` and `remoteIP` only when set, never
 * `password`, and no escaping at all. We read every valid file it writes
 * (and the optional fields its reader takes: `password`, `autoExit`,
 * `launch`), and write the same layout with proper escaping.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-map-file"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mcr-ids.h"
#include "mcr-json-check.h"
#include "mcr-map-file.h"
#include "mcr-secret.h"
#include "mcr-string-field.h"

/* root { mappings [ { … } ] } is 3; leave room for unknown extras. */
#define MAP_FILE_MAX_DEPTH 8
#define MAX_FIELD_LENGTH   4096

struct _McrMapFile
{
  GObject    parent_instance;

  char      *hostname;
  char      *username;
  char      *password;
  char      *certhash;
  GPtrArray *mappings;   /* McrMapSpec */
  GPtrArray *warnings;   /* char *, NULL-terminated */
};

G_DEFINE_FINAL_TYPE (McrMapFile, mcr_map_file, G_TYPE_OBJECT)
G_DEFINE_QUARK (mcr-map-file-error-quark, mcr_map_file_error)

enum
{
  PROP_0,
  PROP_HOSTNAME,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_CERTHASH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mcr_map_file_finalize (GObject *object)
{
  McrMapFile *self = MCR_MAP_FILE (object);

  g_clear_pointer (&self->hostname, g_free);
  g_clear_pointer (&self->username, g_free);
  mcr_clear_secret (&self->password);
  g_clear_pointer (&self->certhash, g_free);
  g_clear_pointer (&self->mappings, g_ptr_array_unref);
  g_clear_pointer (&self->warnings, g_ptr_array_unref);

  G_OBJECT_CLASS (mcr_map_file_parent_class)->finalize (object);
}

static void
mcr_map_file_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  McrMapFile *self = MCR_MAP_FILE (object);

  switch (prop_id)
    {
    case PROP_HOSTNAME:
      g_value_set_string (value, self->hostname);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_PASSWORD:
      g_value_set_string (value, self->password);
      break;
    case PROP_CERTHASH:
      g_value_set_string (value, self->certhash);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_map_file_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  McrMapFile *self = MCR_MAP_FILE (object);

  switch (prop_id)
    {
    case PROP_HOSTNAME:
      mcr_map_file_set_hostname (self, g_value_get_string (value));
      break;
    case PROP_USERNAME:
      mcr_map_file_set_username (self, g_value_get_string (value));
      break;
    case PROP_PASSWORD:
      mcr_map_file_set_password (self, g_value_get_string (value));
      break;
    case PROP_CERTHASH:
      mcr_map_file_set_certhash (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_map_file_class_init (McrMapFileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mcr_map_file_finalize;
  object_class->get_property = mcr_map_file_get_property;
  object_class->set_property = mcr_map_file_set_property;

  properties[PROP_HOSTNAME] =
    g_param_spec_string ("hostname", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_USERNAME] =
    g_param_spec_string ("username", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PASSWORD] =
    g_param_spec_string ("password", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CERTHASH] =
    g_param_spec_string ("certhash", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mcr_map_file_init (McrMapFile *self)
{
  self->mappings = g_ptr_array_new_with_free_func ((GDestroyNotify) mcr_map_spec_free);
  self->warnings = g_ptr_array_new_null_terminated (0, g_free, TRUE);
}

McrMapFile *
mcr_map_file_new (void)
{
  return g_object_new (MCR_TYPE_MAP_FILE, NULL);
}

static void
set_string (McrMapFile *self,
            char      **field,
            const char *value,
            guint       prop)
{
  if (mcr_set_string (field, value))
    g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

const char *
mcr_map_file_get_hostname (McrMapFile *self)
{
  g_return_val_if_fail (MCR_IS_MAP_FILE (self), NULL);
  return self->hostname;
}

void
mcr_map_file_set_hostname (McrMapFile *self,
                           const char *hostname)
{
  g_return_if_fail (MCR_IS_MAP_FILE (self));
  set_string (self, &self->hostname, hostname, PROP_HOSTNAME);
}

const char *
mcr_map_file_get_username (McrMapFile *self)
{
  g_return_val_if_fail (MCR_IS_MAP_FILE (self), NULL);
  return self->username;
}

void
mcr_map_file_set_username (McrMapFile *self,
                           const char *username)
{
  g_return_if_fail (MCR_IS_MAP_FILE (self));
  set_string (self, &self->username, username, PROP_USERNAME);
}

const char *
mcr_map_file_get_password (McrMapFile *self)
{
  g_return_val_if_fail (MCR_IS_MAP_FILE (self), NULL);
  return self->password;
}

void
mcr_map_file_set_password (McrMapFile *self,
                           const char *password)
{
  g_return_if_fail (MCR_IS_MAP_FILE (self));
  set_string (self, &self->password, password, PROP_PASSWORD);
}

const char *
mcr_map_file_get_certhash (McrMapFile *self)
{
  g_return_val_if_fail (MCR_IS_MAP_FILE (self), NULL);
  return self->certhash;
}

void
mcr_map_file_set_certhash (McrMapFile *self,
                           const char *certhash)
{
  g_return_if_fail (MCR_IS_MAP_FILE (self));
  set_string (self, &self->certhash, certhash, PROP_CERTHASH);
}

GPtrArray *
mcr_map_file_get_mappings (McrMapFile *self)
{
  g_return_val_if_fail (MCR_IS_MAP_FILE (self), NULL);
  return self->mappings;
}

void
mcr_map_file_add_mapping (McrMapFile       *self,
                          const McrMapSpec *spec)
{
  g_return_if_fail (MCR_IS_MAP_FILE (self));
  g_return_if_fail (spec != NULL);
  g_return_if_fail (spec->node_id != NULL);

  g_ptr_array_add (self->mappings, mcr_map_spec_copy (spec));
}

const char * const *
mcr_map_file_get_warnings (McrMapFile *self)
{
  static const char *const none[] = { NULL };

  g_return_val_if_fail (MCR_IS_MAP_FILE (self), NULL);
  /* An empty array may have no storage yet. */
  if (self->warnings->len == 0)
    return none;
  return (const char * const *) self->warnings->pdata;
}

/* Reading */

typedef struct
{
  const char *name;     /* for messages */
  guint       mapping;  /* 1-based while reading a mapping, else 0 */
  GPtrArray  *warnings;
  GError    **error;
} Reader;

static gboolean
reader_fail (Reader     *r,
             int         code,
             const char *problem)
{
  if (r->mapping > 0)
    g_set_error (r->error, MCR_MAP_FILE_ERROR, code,
                 /* Translators: "office.mcrouter: mapping 3: 'localPort' must be …" */
                 _("%s: mapping %u: %s"), r->name, r->mapping, problem);
  else
    g_set_error (r->error, MCR_MAP_FILE_ERROR, code, "%s: %s", r->name, problem);
  return FALSE;
}

G_GNUC_PRINTF (3, 4)
static gboolean
reader_failf (Reader     *r,
              int         code,
              const char *format,
              ...)
{
  g_autofree char *problem = NULL;
  va_list ap;

  va_start (ap, format);
  problem = g_strdup_vprintf (format, ap);
  va_end (ap);
  return reader_fail (r, code, problem);
}

static void
reader_warn (Reader     *r,
             const char *problem)
{
  char *warning = g_strdup_printf (_("%s: mapping %u: %s"), r->name, r->mapping, problem);

  g_debug ("%s", warning);
  g_ptr_array_add (r->warnings, warning);
}

static gboolean
has_control_chars (const char *s)
{
  for (; *s; s++)
    if ((guchar) *s < 0x20 || *s == 0x7f)
      return TRUE;
  return FALSE;
}

/* A member that is absent or null gives *value = NULL. */
static gboolean
get_string (Reader     *r,
            JsonObject *object,
            const char *key,
            gboolean    required,
            const char **value)
{
  JsonNode *node = json_object_get_member (object, key);

  *value = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        return reader_failf (r, MCR_MAP_FILE_ERROR_INVALID, _("'%s' is missing"), key);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return reader_failf (r, MCR_MAP_FILE_ERROR_INVALID, _("'%s' must be a string"), key);
  *value = json_node_get_string (node);
  if (strlen (*value) > MAX_FIELD_LENGTH)
    return reader_failf (r, MCR_MAP_FILE_ERROR_INVALID, _("'%s' is too long"), key);
  return TRUE;
}

/* Empty strings count as absent: the Windows router writes "" for unknown
 * values. */
static char *
dup_nonempty (const char *s)
{
  return s != NULL && *s != '\0' ? g_strdup (s) : NULL;
}

static gboolean
node_is_int (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64;
}

/* A whole number; absent or null gives *present = FALSE. Anything else is
 * refused with @problem. */
static gboolean
get_whole (Reader     *r,
           JsonObject *object,
           const char *key,
           const char *problem,
           gboolean   *present,
           gint64     *value)
{
  JsonNode *node = json_object_get_member (object, key);

  *present = node != NULL && !JSON_NODE_HOLDS_NULL (node);
  if (!*present)
    return TRUE;
  if (!node_is_int (node))
    return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID, problem);
  *value = json_node_get_int (node);
  return TRUE;
}

static gboolean
get_int (Reader     *r,
         JsonObject *object,
         const char *key,
         int         min,
         int         max,
         gboolean    required,
         int        *value)
{
  g_autofree char *problem = g_strdup_printf (_("'%s' must be a number from %d to %d"),
                                              key, min, max);
  gboolean present;
  gint64 v = 0;

  if (!get_whole (r, object, key, problem, &present, &v))
    return FALSE;
  if (!present && required)
    return reader_failf (r, MCR_MAP_FILE_ERROR_INVALID, _("'%s' is missing"), key);
  if (!present)
    return TRUE;
  if (v < min || v > max)
    return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID, problem);
  *value = (int) v;
  return TRUE;
}

/* The Windows router reads autoExit as a boolean; 0 and 1 are taken too. */
static gboolean
get_bool (Reader     *r,
          JsonObject *object,
          const char *key,
          gboolean   *value)
{
  JsonNode *node = json_object_get_member (object, key);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    *value = json_node_get_boolean (node);
  else if (node_is_int (node) && (json_node_get_int (node) == 0 || json_node_get_int (node) == 1))
    *value = json_node_get_int (node) == 1;
  else
    return reader_failf (r, MCR_MAP_FILE_ERROR_INVALID, _("'%s' must be true or false"), key);
  return TRUE;
}

/* A number asks to open the map's app once it listens. A string is a
 * command the Windows router runs: never run it. */
static gboolean
get_launch (Reader     *r,
            JsonObject *object,
            gboolean   *launch)
{
  JsonNode *node = json_object_get_member (object, "launch");

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (node_is_int (node))
    *launch = json_node_get_int (node) != 0;
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    *launch = json_node_get_boolean (node);
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    reader_warn (r, _("'launch' holds a command; commands in files are never run"));
  else
    return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID, _("'launch' must be a number"));
  return TRUE;
}

static gboolean
read_app (Reader     *r,
          JsonObject *object,
          McrMapSpec *spec)
{
  g_autofree char *problem = g_strdup_printf (_("'%s' must be a number from %d to %d"), "appId",
                                              MCR_APP_CUSTOM, MCR_APP_LAST);
  const char *app_name;
  gboolean present;
  gint64 app_id = MCR_APP_CUSTOM;

  if (!get_whole (r, object, "appId", problem, &present, &app_id))
    return FALSE;
  if (app_id == 6)
    return reader_fail (r, MCR_MAP_FILE_ERROR_UNSUPPORTED,
                        _("appId 6 opens the Windows router's own remote desktop viewer, "
                          "which is not supported; only port maps are"));
  if (app_id == 7)
    return reader_fail (r, MCR_MAP_FILE_ERROR_UNSUPPORTED,
                        _("appId 7 opens the Windows router's own file viewer, "
                          "which is not supported; only port maps are"));
  if (app_id < MCR_APP_CUSTOM || app_id > MCR_APP_LAST)
    return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID, problem);
  spec->app_id = (McrAppId) app_id;

  /* The Windows router also stores appIdStr for built-in apps (the appid
   * of an mcrouter:// link); only a custom app has a use for it. */
  if (!get_string (r, object, "appIdStr", FALSE, &app_name))
    return FALSE;
  if (spec->app_id == MCR_APP_CUSTOM)
    spec->app_name = dup_nonempty (app_name);
  return TRUE;
}

static gboolean
read_node (Reader     *r,
           JsonObject *object,
           McrMapSpec *spec)
{
  const char *node_id, *node_name, *mesh_id, *name;

  if (!get_string (r, object, "nodeId", FALSE, &node_id) ||
      !get_string (r, object, "nodeName", FALSE, &node_name) ||
      !get_string (r, object, "meshId", FALSE, &mesh_id) ||
      !get_string (r, object, "name", FALSE, &name))
    return FALSE;
  spec->node_name = dup_nonempty (node_name);
  /* The Windows router always writes nodeId; a file written by hand may
   * name the device only, which is then looked up by name. */
  if (node_id == NULL || *node_id == '\0')
    {
      if (spec->node_name == NULL)
        return reader_failf (r, MCR_MAP_FILE_ERROR_INVALID, _("'%s' is missing"), "nodeId");
    }
  else if (!mcr_id_is_valid (node_id, MCR_ID_NODE))
    return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID,
                        _("'nodeId' must be a device id (node//ID, or node/DOMAIN/ID outside the "
                          "default domain)"));
  else
    spec->node_id = g_strdup (node_id);
  if (mesh_id != NULL && *mesh_id != '\0' && !mcr_id_is_valid (mesh_id, MCR_ID_MESH))
    return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID,
                        _("'meshId' must be a device group id (mesh//ID, or mesh/DOMAIN/ID "
                          "outside the default domain)"));
  spec->mesh_id = dup_nonempty (mesh_id);
  spec->name = dup_nonempty (name);
  return TRUE;
}

static McrMapSpec *
read_mapping (Reader   *r,
              JsonNode *node)
{
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  const char *bad_protocol = _("'protocol' must be 1 (TCP) or 2 (UDP)");
  JsonObject *object;
  const char *remote_ip;
  gboolean present;
  gint64 protocol = 0;
  int local_port = 0, remote_port = 0;
  gboolean enabled = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      reader_fail (r, MCR_MAP_FILE_ERROR_INVALID, _("a mapping must be a JSON object"));
      return NULL;
    }
  object = json_node_get_object (node);

  if (!read_node (r, object, spec) ||
      !get_whole (r, object, "protocol", bad_protocol, &present, &protocol))
    return NULL;
  if (!present)
    {
      reader_failf (r, MCR_MAP_FILE_ERROR_INVALID, _("'%s' is missing"), "protocol");
      return NULL;
    }
  if (protocol != MCR_PROTOCOL_TCP && protocol != MCR_PROTOCOL_UDP)
    {
      reader_fail (r, MCR_MAP_FILE_ERROR_INVALID, bad_protocol);
      return NULL;
    }
  spec->protocol = protocol;

  if (!get_int (r, object, "localPort", 0, 65535, FALSE, &local_port) ||
      !get_int (r, object, "remotePort", 1, 65535, TRUE, &remote_port) ||
      !get_string (r, object, "remoteIP", FALSE, &remote_ip) ||
      !read_app (r, object, spec) ||
      !get_bool (r, object, "autoExit", &spec->auto_exit) ||
      !get_launch (r, object, &spec->launch) ||
      !get_bool (r, object, "enabled", &enabled))
    return NULL;
  spec->disabled = !enabled;
  spec->local_port = local_port;
  spec->remote_port = remote_port;

  if (remote_ip != NULL && *remote_ip != '\0')
    {
      if (!mcr_map_spec_is_valid_remote_host (remote_ip))
        {
          reader_fail (r, MCR_MAP_FILE_ERROR_INVALID,
                       _("'remoteIP' is not an IP address or host name"));
          return NULL;
        }
      spec->remote_ip = g_strdup (remote_ip);
    }

  if (spec->protocol == MCR_PROTOCOL_UDP && spec->app_id != MCR_APP_CUSTOM)
    {
      reader_fail (r, MCR_MAP_FILE_ERROR_INVALID,
                   _("a UDP mapping cannot open an app; 'appId' must be 0"));
      return NULL;
    }
  return g_steal_pointer (&spec);
}

/* Uppercase hex without separators, or NULL if @hash is not a SHA-384 or
 * SHA-1 hash. */
static char *
normalize_hash (const char *hash)
{
  g_autoptr(GString) hex = g_string_new (NULL);

  for (const char *p = hash; *p; p++)
    {
      if (*p == ':')
        continue;
      if (!g_ascii_isxdigit (*p))
        return NULL;
      g_string_append_c (hex, g_ascii_toupper (*p));
    }
  if (hex->len != 96 && hex->len != 40)
    return NULL;
  return g_string_free (g_steal_pointer (&hex), FALSE);
}

static gboolean
read_login (Reader     *r,
            JsonObject *root,
            McrMapFile *self)
{
  const char *hostname, *username, *password, *certhash;

  if (!get_string (r, root, "hostname", TRUE, &hostname) ||
      !get_string (r, root, "username", TRUE, &username) ||
      !get_string (r, root, "password", FALSE, &password) ||
      !get_string (r, root, "certhash", FALSE, &certhash))
    return FALSE;

  /* Further checks belong to mcr_server_new(); refuse only what can never
   * be a server address. */
  if (*hostname == '\0')
    return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID, _("'hostname' is empty"));
  if (has_control_chars (hostname) || strchr (hostname, ' ') != NULL)
    return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID, _("'hostname' is not a server address"));
  self->hostname = g_strdup (hostname);
  self->username = g_strdup (username);
  self->password = g_strdup (password);

  if (certhash != NULL && *certhash != '\0')
    {
      self->certhash = normalize_hash (certhash);
      if (self->certhash == NULL)
        return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID,
                            _("'certhash' must be a SHA-384 hash (96 hexadecimal digits) "
                              "or a SHA-1 hash (40)"));
    }
  return TRUE;
}

static gboolean
read_mappings (Reader     *r,
               JsonObject *root,
               McrMapFile *self)
{
  JsonNode *node = json_object_get_member (root, "mappings");
  JsonArray *array;
  guint n;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return reader_fail (r, MCR_MAP_FILE_ERROR_INVALID, _("'mappings' must be a list"));
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n > MCR_MAP_FILE_MAX_MAPPINGS)
    return reader_failf (r, MCR_MAP_FILE_ERROR_TOO_BIG,
                         _("too many mappings (%u; at most %u)"), n, MCR_MAP_FILE_MAX_MAPPINGS);

  for (guint i = 0; i < n; i++)
    {
      McrMapSpec *spec;

      r->mapping = i + 1;
      spec = read_mapping (r, json_array_get_element (array, i));
      if (spec == NULL)
        return FALSE;
      g_ptr_array_add (self->mappings, spec);
    }
  r->mapping = 0;
  return TRUE;
}

/* Notepad saves "Unicode" as UTF-16 with a byte order mark. */
static gboolean
decode_text (Reader  *r,
             GBytes  *bytes,
             char   **text,
             gsize   *length)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  const char *charset = NULL;

  if (size > MCR_MAP_FILE_MAX_SIZE)
    return reader_failf (r, MCR_MAP_FILE_ERROR_TOO_BIG, _("the file is too big (more than %u KiB)"),
                         MCR_MAP_FILE_MAX_SIZE / 1024);
  if (size == 0)
    return reader_fail (r, MCR_MAP_FILE_ERROR_SYNTAX, _("the file is empty"));

  if (size >= 2 && data[0] == 0xFF && data[1] == 0xFE)
    charset = "UTF-16LE";
  else if (size >= 2 && data[0] == 0xFE && data[1] == 0xFF)
    charset = "UTF-16BE";
  if (charset == NULL)
    {
      *text = g_malloc (size + 1);
      memcpy (*text, data, size);
      (*text)[size] = '\0';
      *length = size;
      return TRUE;
    }

  *text = g_convert ((const char *) data + 2, size - 2, "UTF-8", charset, NULL, length, NULL);
  if (*text == NULL)
    return reader_fail (r, MCR_MAP_FILE_ERROR_SYNTAX, _("the file is not valid UTF-16 text"));
  return TRUE;
}

static gboolean
read_bytes (McrMapFile *self,
            GBytes     *bytes,
            const char *name,
            GError    **error)
{
  Reader r = { name, 0, self->warnings, error };
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) json_error = NULL;
  g_autofree char *text = NULL;
  JsonNode *root;
  gsize length = 0;

  if (!decode_text (&r, bytes, &text, &length))
    return FALSE;

  if (!mcr_json_check (text, length, MAP_FILE_MAX_DEPTH, &json_error))
    return reader_failf (&r, MCR_MAP_FILE_ERROR_SYNTAX, _("not valid JSON: %s"),
                         json_error->message);
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, (gssize) length, &json_error))
    return reader_failf (&r, MCR_MAP_FILE_ERROR_SYNTAX, _("not valid JSON: %s"),
                         json_error->message);

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return reader_fail (&r, MCR_MAP_FILE_ERROR_INVALID,
                        _("the file must hold one JSON object with 'hostname', 'username' and "
                          "'mappings'"));

  return read_login (&r, json_node_get_object (root), self) &&
         read_mappings (&r, json_node_get_object (root), self);
}

/**
 * mcr_map_file_new_from_bytes:
 * @bytes: the file's contents
 * @name: what messages call the file, usually its base name
 *
 * Returns: (transfer full): the file, or %NULL with @error in
 *   %MCR_MAP_FILE_ERROR naming @name and the problem.
 */
McrMapFile *
mcr_map_file_new_from_bytes (GBytes     *bytes,
                             const char *name,
                             GError    **error)
{
  g_autoptr(McrMapFile) self = mcr_map_file_new ();

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (!read_bytes (self, bytes, name, error))
    return NULL;
  return g_steal_pointer (&self);
}

static char *
display_name (GFile *file)
{
  g_autofree char *basename = g_file_get_basename (file);

  if (basename == NULL)
    return g_file_get_parse_name (file);
  return g_filename_display_name (basename);
}

static void
set_read_error (GError    **error,
                GFile      *file,
                GError     *io_error)
{
  g_autofree char *name = display_name (file);

  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_error_copy (io_error));
  else
    g_set_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_READ,
                 /* Translators: "office.mcrouter: cannot be read: No such file or directory" */
                 _("%s: cannot be read: %s"), name, io_error->message);
}

/**
 * mcr_map_file_new_from_file:
 *
 * Reads at most MCR_MAP_FILE_MAX_SIZE + 1 bytes, on the calling thread.
 *
 * Returns: (transfer full): the file, or %NULL with @error in
 *   %MCR_MAP_FILE_ERROR (or %G_IO_ERROR_CANCELLED).
 */
McrMapFile *
mcr_map_file_new_from_file (GFile        *file,
                            GCancellable *cancellable,
                            GError      **error)
{
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) io_error = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  stream = g_file_read (file, cancellable, &io_error);
  while (stream != NULL && data->len <= MCR_MAP_FILE_MAX_SIZE)
    {
      g_autoptr(GBytes) chunk = g_input_stream_read_bytes (G_INPUT_STREAM (stream), 65536,
                                                           cancellable, &io_error);

      if (chunk == NULL || g_bytes_get_size (chunk) == 0)
        break;
      g_byte_array_append (data, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
    }
  if (io_error != NULL)
    {
      set_read_error (error, file, io_error);
      return NULL;
    }

  name = display_name (file);
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&data));
  return mcr_map_file_new_from_bytes (bytes, name, error);
}

static gboolean
read_more (const char *contents,
           goffset     size,
           gpointer    user_data)
{
  return size <= MCR_MAP_FILE_MAX_SIZE;
}

static void
load_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GFile *file = G_FILE (source);
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) io_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *name = NULL;
  g_autofree char *contents = NULL;
  McrMapFile *self;
  gsize length;

  if (!g_file_load_partial_contents_finish (file, result, &contents, &length, NULL, &io_error))
    {
      set_read_error (&error, file, io_error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  name = display_name (file);
  bytes = g_bytes_new_take (g_steal_pointer (&contents), length);
  self = mcr_map_file_new_from_bytes (bytes, name, &error);
  if (self == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, self, g_object_unref);
}

void
mcr_map_file_load_async (GFile              *file,
                         GCancellable       *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer            user_data)
{
  GTask *task;

  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, mcr_map_file_load_async);
  g_file_load_partial_contents_async (file, cancellable, read_more, load_done, task);
}

McrMapFile *
mcr_map_file_load_finish (GAsyncResult *result,
                          GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Writing */

static void
append_json_string (GString    *out,
                    const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value != NULL ? value : "", -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p; p++)
    {
      guchar c = (guchar) *p;

      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static void
append_string_member (GString    *out,
                      const char *indent,
                      const char *key,
                      const char *value)
{
  g_string_append_printf (out, "%s\"%s\": ", indent, key);
  append_json_string (out, value);
  g_string_append (out, ",\r\n");
}

static void
append_mapping (GString            *out,
                const McrMapSpec   *spec,
                McrMapFileSaveFlags flags)
{
  const char *in = "      ";

  g_string_append (out, "    {\r\n");
  append_string_member (out, in, "nodeName", spec->node_name);
  if (spec->name != NULL && *spec->name != '\0')
    append_string_member (out, in, "name", spec->name);
  append_string_member (out, in, "meshId", spec->mesh_id);
  append_string_member (out, in, "nodeId", spec->node_id);
  g_string_append_printf (out, "%s\"appId\": %d,\r\n", in, (int) spec->app_id);
  if (spec->app_id == MCR_APP_CUSTOM && spec->app_name != NULL)
    append_string_member (out, in, "appIdStr", spec->app_name);
  g_string_append_printf (out, "%s\"protocol\": %d,\r\n", in, (int) spec->protocol);
  g_string_append_printf (out, "%s\"localPort\": %u,\r\n", in, spec->local_port);
  if (spec->remote_ip != NULL)
    append_string_member (out, in, "remoteIP", spec->remote_ip);
  g_string_append_printf (out, "%s\"remotePort\": %u", in, spec->remote_port);
  /* Not written by the Windows router, but read by it. */
  if ((flags & MCR_MAP_FILE_SAVE_ACTIONS) && spec->auto_exit)
    g_string_append_printf (out, ",\r\n%s\"autoExit\": true", in);
  if ((flags & MCR_MAP_FILE_SAVE_ACTIONS) && spec->launch)
    g_string_append_printf (out, ",\r\n%s\"launch\": 1", in);
  /* Ours (a map switched off); the Windows router ignores keys it does not
   * know, and starts the map. */
  if (spec->disabled)
    g_string_append_printf (out, ",\r\n%s\"enabled\": false", in);
  g_string_append (out, "\r\n    }");
}

/**
 * mcr_map_file_to_bytes:
 *
 * Returns: (transfer full): the file's text. The hostname must be set.
 */
GBytes *
mcr_map_file_to_bytes (McrMapFile         *self,
                       McrMapFileSaveFlags flags)
{
  g_autoptr(GString) out = g_string_new ("{\r\n");

  g_return_val_if_fail (MCR_IS_MAP_FILE (self), NULL);
  g_return_val_if_fail (self->hostname != NULL, NULL);

  append_string_member (out, "  ", "hostname", self->hostname);
  append_string_member (out, "  ", "username", self->username);
  if ((flags & MCR_MAP_FILE_SAVE_PASSWORD) && self->password != NULL)
    append_string_member (out, "  ", "password", self->password);
  append_string_member (out, "  ", "certhash", self->certhash);
  g_string_append (out, "  \"mappings\":[\r\n");
  for (guint i = 0; i < self->mappings->len; i++)
    {
      if (i > 0)
        g_string_append (out, ",\r\n");
      append_mapping (out, g_ptr_array_index (self->mappings, i), flags);
    }
  g_string_append (out, self->mappings->len > 0 ? "\r\n  ]\r\n}" : "  ]\r\n}");
  return g_string_free_to_bytes (g_steal_pointer (&out));
}

/* G_FILE_CREATE_PRIVATE makes the new file 0600; REPLACE_DESTINATION makes
 * GIO always write a new file and rename it over the old one, so that an
 * existing file's wider mode is not kept and readers never see half a file. */
#define SAVE_FLAGS (G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION)

static void
set_write_error (GError    **error,
                 GFile      *file,
                 GError     *io_error)
{
  g_autofree char *name = display_name (file);

  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_error_copy (io_error));
  else
    g_set_error (error, MCR_MAP_FILE_ERROR, MCR_MAP_FILE_ERROR_WRITE,
                 /* Translators: "office.mcrouter: cannot be written: Permission denied" */
                 _("%s: cannot be written: %s"), name, io_error->message);
}

gboolean
mcr_map_file_save (McrMapFile         *self,
                   GFile              *file,
                   McrMapFileSaveFlags flags,
                   GCancellable       *cancellable,
                   GError            **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) io_error = NULL;

  g_return_val_if_fail (MCR_IS_MAP_FILE (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  bytes = mcr_map_file_to_bytes (self, flags);
  if (bytes == NULL)
    return FALSE;
  if (!g_file_replace_contents (file, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                NULL, FALSE, SAVE_FLAGS, NULL, cancellable, &io_error))
    {
      set_write_error (error, file, io_error);
      return FALSE;
    }
  return TRUE;
}

static void
save_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) io_error = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &io_error))
    {
      set_write_error (&error, G_FILE (source), io_error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
mcr_map_file_save_async (McrMapFile         *self,
                         GFile              *file,
                         McrMapFileSaveFlags flags,
                         GCancellable       *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer            user_data)
{
  g_autoptr(GBytes) bytes = NULL;
  GTask *task;

  g_return_if_fail (MCR_IS_MAP_FILE (self));
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (self->hostname != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mcr_map_file_save_async);
  bytes = mcr_map_file_to_bytes (self, flags);
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, SAVE_FLAGS, cancellable,
                                       save_done, task);
}

gboolean
mcr_map_file_save_finish (McrMapFile   *self,
                          GAsyncResult *result,
                          GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- files for one server ---- */

/* Included here, next to its only user in this file. */
#include "mcr-server-address.h"

int
mcr_map_file_find_other_server (GPtrArray  *files,
                                guint       from,
                                const char *address)
{
  g_return_val_if_fail (files != NULL, -1);

  for (guint i = from; i < files->len; i++)
    {
      McrMapFile *file = g_ptr_array_index (files, i);

      if (file != NULL
          && !mcr_server_address_same_server (address, mcr_map_file_get_hostname (file)))
        return (int) i;
    }
  return -1;
}
