/* mcr-headless.c: the router with no window and no display
 *
 * The steps, in order: check the arguments, read the .mcrouter files and
 * the password (check_usage), log in (headless_login) with the password or
 * the cookie of an mcrouter:// link, wait for the device list
 * (on_devices_loaded), then either print it and quit (--list-devices) or
 * keep running until SIGINT/SIGTERM. Port maps from the command line, the
 * files and the link's automatic map start in on_devices_loaded, when the
 * devices they name are known.
 *
 * Where the login comes from: -host: -user: and the password win; what they
 * leave open comes from the link (server, cookie, certificate hash) or the
 * files (server, user, password, certificate hash), as the Windows router
 * takes a file given on its command line. The files and the link must all
 * name one server. A broken file stops everything before any login.
 *
 * autoexit=1 (a link's automatic map, or "autoExit" in a file): no app is
 * launched headless, so "the launched app's connection ends" is read as:
 * the first connection through that map has come and gone, and none other
 * is open MCR_AUTO_EXIT_GRACE_S seconds later. Then the run ends with
 * status 0.
 *
 * Run by systemd (data/systemd, Type=notify) it says how it is doing
 * (mcr-sd-notify.c): STATUS= at each step, READY=1 once every map that
 * could start listens, STOPPING=1 on SIGTERM; the password then comes from
 * the credential "password" (mcr-password-file.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-headless"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "mcr-headless.h"
#include "mcr-headless-maps.h"
#include "mcr-map-file.h"
#include "mcr-password-file.h"
#include "mcr-router-url.h"
#include "mcr-sd-notify.h"
#include "mcr-secret.h"
#include "mcr-server-address.h"
#include "mcr-server.h"

#define EXIT_LOGIN_FAILED 1
#define EXIT_USAGE        2
#define DEVICES_WAIT_S    60

typedef struct
{
  McrOptions   *options;
  McrRouterUrl *link;       /* an mcrouter:// link given instead of a password */
  GPtrArray    *files;      /* McrMapFile, in the order given */
  char         *address;    /* the server: -host:, the link's or the files' */
  const char   *user;       /* -user: or the files' */
  McrServer    *server;
  McrHeadlessMaps *maps;
  GMainLoop    *loop;
  char         *password;
  int           status;
  gboolean      logged_in;
  guint         devices_timeout_id;
  guint         sigint_id;
  guint         sigterm_id;
} McrHeadless;

static void
headless_quit (McrHeadless *h,
               int          status)
{
  h->status = status;
  g_main_loop_quit (h->loop);
}

/* The password: -pass:, else --password-stdin, else --password-file, else
 * the systemd credential "password", else MCROUTER_PASSWORD. */
static gboolean
read_password (McrHeadless *h,
               GError     **error)
{
  const char *env = g_getenv ("MCROUTER_PASSWORD");

  if (h->options->password != NULL)
    h->password = g_strdup (h->options->password);
  else if (h->options->password_stdin)
    {
      g_autoptr(GIOChannel) in = g_io_channel_unix_new (0);
      g_autofree char *line = NULL;
      gsize terminator = 0;

      if (g_io_channel_read_line (in, &line, NULL, &terminator, error) == G_IO_STATUS_ERROR)
        return FALSE;
      if (line == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("--password-stdin: standard input is empty"));
          return FALSE;
        }
      line[terminator] = '\0';
      h->password = g_steal_pointer (&line);
    }
  else if (h->options->password_file != NULL)
    {
      h->password = mcr_password_file_read (h->options->password_file, error);
      if (h->password == NULL)
        return FALSE;
    }
  else
    {
      g_autoptr(GError) local_error = NULL;

      h->password = mcr_password_credential_read ("password", &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (h->password == NULL && env != NULL)
        h->password = g_strdup (env);
    }
  /* Last, a password saved in a file (the Windows router never writes one,
   * but reads it). */
  for (guint i = 0; h->password == NULL && i < h->files->len; i++)
    h->password = g_strdup (mcr_map_file_get_password (g_ptr_array_index (h->files, i)));
  return TRUE;
}

static gboolean
setup_server (McrHeadless *h,
              GError     **error)
{
  McrTlsPolicy *policy;

  h->server = mcr_server_new (h->address, error);
  if (h->server == NULL)
    return FALSE;
  policy = mcr_server_get_tls_policy (h->server);
  mcr_tls_policy_set_ignore_cert (policy, h->options->ignore_cert);
  /* The link carries the hash of the certificate the web UI was served with. */
  if (h->link != NULL && h->link->cert_hash != NULL)
    mcr_tls_policy_add_pinned_hash (policy, h->link->cert_hash);
  /* A file pins the certificate it was saved with (checked when read). */
  for (guint i = 0; i < h->files->len; i++)
    {
      const char *hash = mcr_map_file_get_certhash (g_ptr_array_index (h->files, i));

      if (hash != NULL)
        mcr_tls_policy_add_pinned_hash (policy, hash);
    }
  for (guint i = 0; h->options->certhashes && h->options->certhashes[i]; i++)
    if (!mcr_tls_policy_add_pinned_hash (policy, h->options->certhashes[i]))
      {
        g_set_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_INVALID_ADDRESS,
                     _("-certhash:%s is not a SHA-384 or SHA-1 hash in hex"),
                     h->options->certhashes[i]);
        return FALSE;
      }
  if (h->options->proxy != NULL)
    mcr_server_set_proxy_uri (h->server, h->options->proxy);
  return TRUE;
}

/* ---- device list ---- */

static int
compare_devices (gconstpointer a,
                 gconstpointer b)
{
  McrDevice *da = *(McrDevice **) a, *db = *(McrDevice **) b;
  int r = g_utf8_collate (mcr_device_get_group_name (da) ? mcr_device_get_group_name (da) : "",
                          mcr_device_get_group_name (db) ? mcr_device_get_group_name (db) : "");

  return r != 0 ? r : g_utf8_collate (mcr_device_get_name (da), mcr_device_get_name (db));
}

/* One line per device: name, group, state, node id, separated by tabs. */
static void
print_devices (McrHeadless *h)
{
  GListModel *devices = mcr_server_get_devices (h->server);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = g_list_model_get_n_items (devices);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (sorted, g_list_model_get_item (devices, i));
  g_ptr_array_sort (sorted, compare_devices);
  for (guint i = 0; i < sorted->len; i++)
    {
      McrDevice *d = g_ptr_array_index (sorted, i);
      const char *group = mcr_device_get_group_name (d);

      g_print ("%s\t%s\t%s\t%s\n", mcr_device_get_name (d), group ? group : "",
               mcr_device_get_online (d) ? "online" : "offline", mcr_device_get_id (d));
    }
  if (sorted->len == 0)
    g_printerr (_("meshcentral-router: this account sees no devices on %s\n"),
                mcr_server_get_display_name (h->server));
}

static void
on_auto_exit (McrPortMap *map,
              gpointer    user_data)
{
  McrHeadless *h = user_data;
  g_autofree char *arg = mcr_port_map_dup_argument (map);

  g_printerr (_("meshcentral-router: %s: its connection ended; quitting (autoexit)\n"), arg);
  headless_quit (h, 0);
}

/* systemd (Type=notify) hears that the service is up once every map that
 * could start listens. */
static void
notify_ready (McrHeadless *h,
              guint        listening,
              guint        maps)
{
  mcr_sd_notify_status (_("Logged in to %s; maps listening: %u of %u"),
                        mcr_server_get_display_name (h->server), listening, maps);
  mcr_sd_notify ("READY=1");
}

/* The -map:/-relaymap: maps, the files' maps and the link's automatic map;
 * once, when the first device list is in. */
static void
start_maps (McrHeadless *h)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new ();
  guint started;

  if (h->maps != NULL)
    return;
  for (guint i = 0; i < h->options->maps->len; i++)
    g_ptr_array_add (specs, g_ptr_array_index (h->options->maps, i));
  for (guint i = 0; i < h->files->len; i++)
    {
      GPtrArray *mappings = mcr_map_file_get_mappings (g_ptr_array_index (h->files, i));

      for (guint j = 0; j < mappings->len; j++)
        {
          McrMapSpec *spec = g_ptr_array_index (mappings, j);

          /* Switched off in the window ("enabled": false): kept, not run. */
          if (!spec->disabled)
            g_ptr_array_add (specs, spec);
        }
    }
  if (h->link != NULL && h->link->map != NULL)
    g_ptr_array_add (specs, h->link->map);
  if (specs->len == 0)
    {
      notify_ready (h, 0, 0);
      return;
    }
  h->maps = mcr_headless_maps_new (h->server, h->options->all_interfaces);
  mcr_headless_maps_set_auto_exit_func (h->maps, on_auto_exit, h);
  started = mcr_headless_maps_start (h->maps, specs);
  if (started == 0)
    {
      g_printerr (_("meshcentral-router: no map could start\n"));
      headless_quit (h, EXIT_LOGIN_FAILED);
      return;
    }
  notify_ready (h, started, specs->len);
}

static void
on_devices_loaded (McrServer   *server,
                   McrHeadless *h)
{
  g_clear_handle_id (&h->devices_timeout_id, g_source_remove);
  if (h->options->list_devices)
    {
      print_devices (h);
      headless_quit (h, 0);
      return;
    }
  g_printerr (_("meshcentral-router: logged into %s, %u devices\n"),
              mcr_server_get_display_name (server),
              g_list_model_get_n_items (mcr_server_get_devices (server)));
  start_maps (h);
}

static gboolean
on_devices_timeout (gpointer user_data)
{
  McrHeadless *h = user_data;

  h->devices_timeout_id = 0;
  g_printerr (_("meshcentral-router: %s did not send the device list\n"),
              mcr_server_get_display_name (h->server));
  headless_quit (h, EXIT_LOGIN_FAILED);
  return G_SOURCE_REMOVE;
}

/* ---- login ---- */

static void
print_token_help (const McrTokenRequest *request)
{
  g_printerr (_("Give the code with -token:CODE.\n"));
  if (request->email)
    g_printerr (_("To get a code by email, use -token:**email**\n"));
  if (request->sms)
    g_printerr (_("To get a code by SMS, use -token:**sms**\n"));
  if (request->messenger)
    g_printerr (_("To get a code by messenger, use -token:**msg**\n"));
}

static void
on_login_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  McrHeadless *h = user_data;
  g_autoptr(GError) error = NULL;
  McrTokenRequest request;

  if (!mcr_server_login_finish (MCR_SERVER (source), result, &request, &error))
    {
      g_printerr ("meshcentral-router: %s\n", error->message);
      if (g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_TOKEN_REQUIRED) ||
          g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_BAD_TOKEN))
        print_token_help (&request);
      else if (g_error_matches (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT) &&
               mcr_server_get_peer_cert_info (h->server) != NULL)
        g_printerr (_("To trust it, add -certhash:%s\n"),
                    mcr_server_get_peer_cert_info (h->server)->sha384);
      headless_quit (h, EXIT_LOGIN_FAILED);
      return;
    }
  h->logged_in = TRUE;
  g_debug ("logged in as %s", mcr_server_get_user_name (h->server));
  if (!mcr_server_get_devices_loaded (h->server))
    h->devices_timeout_id = g_timeout_add_seconds (DEVICES_WAIT_S, on_devices_timeout, h);
}

static void
on_state_changed (McrServer   *server,
                  GParamSpec  *pspec,
                  McrHeadless *h)
{
  const GError *error = mcr_server_get_error (server);

  if (!h->logged_in)
    return;   /* on_login_done reports login failures */
  switch (mcr_server_get_state (server))
    {
    case MCR_SERVER_STATE_RECONNECTING:
      g_printerr (_("meshcentral-router: %s; reconnecting\n"),
                  error ? error->message : _("connection lost"));
      mcr_sd_notify_status (_("Reconnecting to %s"), mcr_server_get_display_name (server));
      break;
    case MCR_SERVER_STATE_CONNECTED:
      g_printerr (_("meshcentral-router: connected to %s again\n"),
                  mcr_server_get_display_name (server));
      mcr_sd_notify_status (_("Connected to %s"), mcr_server_get_display_name (server));
      break;
    case MCR_SERVER_STATE_FAILED:
      g_printerr ("meshcentral-router: %s\n", error ? error->message : _("disconnected"));
      headless_quit (h, EXIT_LOGIN_FAILED);
      break;
    default:
      break;
    }
}

static void
headless_login (McrHeadless *h)
{
  McrCredentials credentials = {
    .user = h->user,
    .password = h->password,
    .token = h->options->token,
  };

  if (h->link != NULL)
    {
      memset (&credentials, 0, sizeof credentials);
      credentials.auth_cookie = h->link->auth_cookie;
    }

  mcr_sd_notify_status (_("Logging in to %s"), mcr_server_get_display_name (h->server));
  g_signal_connect (h->server, "devices-loaded", G_CALLBACK (on_devices_loaded), h);
  g_signal_connect (h->server, "notify::state", G_CALLBACK (on_state_changed), h);
  mcr_server_login_async (h->server, &credentials, NULL, on_login_done, h);
}

static gboolean
on_signal (gpointer user_data)
{
  McrHeadless *h = user_data;

  g_debug ("stopping on a signal");
  mcr_sd_notify ("STOPPING=1");
  headless_quit (h, 0);
  return G_SOURCE_CONTINUE;
}

static void
headless_clear (McrHeadless *h)
{
  g_clear_object (&h->server);
  g_clear_pointer (&h->loop, g_main_loop_unref);
  g_clear_pointer (&h->link, mcr_router_url_free);
  g_clear_pointer (&h->files, g_ptr_array_unref);
  g_clear_pointer (&h->address, g_free);
  mcr_clear_secret (&h->password);
}

/* ---- what to log into ---- */

static gboolean
usage_error (GError    **error,
             const char *message)
{
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, message);
  return FALSE;
}

/* Reads every .mcrouter file of the command line; the first broken one
 * stops the run. Things a file holds that are not used are printed. */
static gboolean
read_files (McrHeadless *h,
            GError     **error)
{
  for (guint i = 0; i < h->options->files->len; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (g_ptr_array_index (h->options->files, i));
      McrMapFile *map_file = mcr_map_file_new_from_file (file, NULL, error);
      const char *const *warnings;

      if (map_file == NULL)
        return FALSE;
      g_ptr_array_add (h->files, map_file);
      warnings = mcr_map_file_get_warnings (map_file);
      for (guint j = 0; warnings[j] != NULL; j++)
        g_printerr ("meshcentral-router: %s\n", warnings[j]);
    }
  return TRUE;
}

/* File @i as messages name it: its base name. */
static char *
file_label (McrHeadless *h,
            guint        i)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (g_ptr_array_index (h->options->files, i));
  g_autofree char *base = g_file_get_basename (file);

  return g_filename_display_name (base);
}

/* The server, and what named it (for messages): -host:, else the link,
 * else the first file. */
static gboolean
pick_address (McrHeadless *h,
              const char  *link_address,
              char       **named_by,
              GError     **error)
{
  if (h->options->host != NULL)
    {
      g_autofree char *shown = mcr_server_address_display_name (h->options->host);

      h->address = g_strdup (h->options->host);
      *named_by = g_strdup_printf ("-host:%s", shown);
    }
  else if (link_address != NULL)
    {
      h->address = g_strdup (link_address);
      *named_by = g_strdup (_("the mcrouter:// link"));
    }
  else if (h->files->len > 0)
    {
      h->address = g_strdup (mcr_map_file_get_hostname (g_ptr_array_index (h->files, 0)));
      *named_by = file_label (h, 0);
    }
  else
    return usage_error (error, _("--headless needs -host:HOST, a .mcrouter file or an "
                                 "mcrouter:// link"));
  return TRUE;
}

/* The files and the link must all name one server. -host: decides for the
 * files (the command line completes or overrides them, as with the Windows
 * router), but a link logs in only where it says. */
static gboolean
check_one_server (McrHeadless *h,
                  GError     **error)
{
  g_autoptr(McrServerAddress) parsed = NULL;
  g_autofree char *link_address = NULL;
  g_autofree char *named_by = NULL;
  int other;

  if (h->link != NULL)
    link_address = mcr_router_url_get_server_address (h->link);
  if (!pick_address (h, link_address, &named_by, error))
    return FALSE;
  parsed = mcr_server_address_parse (h->address, error);
  if (parsed == NULL)
    return FALSE;

  if (link_address != NULL && !mcr_server_address_same_server (h->address, link_address))
    {
      g_autofree char *shown = mcr_server_address_display_name (link_address);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("the mcrouter:// link is for the server %s, but %s names %s: give "
                     "one server only"),
                   shown, named_by, parsed->display_name);
      return FALSE;
    }
  other = h->options->host == NULL ? mcr_map_file_find_other_server (h->files, 0, h->address)
                                   : -1;
  if (other >= 0)
    {
      const char *hostname = mcr_map_file_get_hostname (g_ptr_array_index (h->files, other));
      g_autofree char *label = file_label (h, other);
      g_autofree char *shown = mcr_server_address_display_name (hostname);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("%s is for the server %s, but %s names %s: give files for one server "
                     "only"),
                   label, shown, named_by, parsed->display_name);
      return FALSE;
    }
  return TRUE;
}

/* A link, or a server with a user and a password; from the options, the
 * link and the files. */
static gboolean
check_usage (McrHeadless *h,
             GError     **error)
{
  McrOptions *options = h->options;

  if (options->urls->len > 1)
    return usage_error (error, _("give one mcrouter:// link at a time"));
  if (options->urls->len == 1)
    {
      h->link = mcr_router_url_parse (g_ptr_array_index (options->urls, 0), error);
      if (h->link == NULL)
        return FALSE;
    }
  if (!read_files (h, error) || !check_one_server (h, error))
    return FALSE;
  if (h->link != NULL)
    return TRUE;   /* its cookie logs in: no user or password */

  h->user = options->user;
  for (guint i = 0; h->user == NULL && i < h->files->len; i++)
    h->user = mcr_map_file_get_username (g_ptr_array_index (h->files, i));
  if (h->user == NULL)
    return usage_error (error, _("--headless needs -user:NAME"));
  if (!read_password (h, error))
    return FALSE;
  if (h->password == NULL)
    return usage_error (error, _("no password: give it with -pass:, the MCROUTER_PASSWORD "
                                 "environment variable or --password-stdin"));
  return TRUE;
}

int
mcr_headless_run (McrOptions *options)
{
  McrHeadless h = { .options = options, .status = 0 };
  g_autoptr(GError) error = NULL;

  h.files = g_ptr_array_new_with_free_func (g_object_unref);

  if (options->debug)
    g_log_set_debug_enabled (TRUE);
  if (!check_usage (&h, &error) || !setup_server (&h, &error))
    {
      g_printerr ("meshcentral-router: %s\n", error->message);
      headless_clear (&h);
      return EXIT_USAGE;
    }

  h.loop = g_main_loop_new (NULL, FALSE);
  h.sigint_id = g_unix_signal_add (SIGINT, on_signal, &h);
  h.sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &h);
  headless_login (&h);
  g_main_loop_run (h.loop);

  g_clear_handle_id (&h.sigint_id, g_source_remove);
  g_clear_handle_id (&h.sigterm_id, g_source_remove);
  g_clear_handle_id (&h.devices_timeout_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (h.server, &h);
  g_clear_pointer (&h.maps, mcr_headless_maps_free);
  mcr_server_logout (h.server);
  headless_clear (&h);
  return h.status;
}
