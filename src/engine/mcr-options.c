/* mcr-options.c: the command line, Windows router style (-name:value) and ours
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-options"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mcr-map-range.h"
#include "mcr-options.h"
#include "mcr-secret.h"

G_DEFINE_QUARK (mcr-options-error-quark, mcr_options_error)

typedef enum
{
  OPT_FLAG,
  OPT_VALUE,
  OPT_MAP,
} OptKind;

typedef struct
{
  const char *name;
  OptKind     kind;
  gsize       offset;
} OptDef;

#define FIELD(f) G_STRUCT_OFFSET (McrOptions, f)

/* Names match without case, with one or two leading dashes; values follow
 * ':' or '=' (-host:example.com, --host=example.com) or come as the next
 * argument for the double-dash form (--host example.com). */
static const OptDef opt_defs[] = {
  { "host", OPT_VALUE, FIELD (host) },
  { "user", OPT_VALUE, FIELD (user) },
  { "pass", OPT_VALUE, FIELD (password) },
  { "token", OPT_VALUE, FIELD (token) },
  { "certhash", OPT_VALUE, 0 },
  { "proxy", OPT_VALUE, FIELD (proxy) },
  { "ignorecert", OPT_FLAG, FIELD (ignore_cert) },
  { "all", OPT_FLAG, FIELD (all_interfaces) },
  { "tray", OPT_FLAG, FIELD (tray) },
  { "debug", OPT_FLAG, FIELD (debug) },
  { "headless", OPT_FLAG, FIELD (headless) },
  { "list-devices", OPT_FLAG, FIELD (list_devices) },
  { "password-stdin", OPT_FLAG, FIELD (password_stdin) },
  { "password-file", OPT_VALUE, FIELD (password_file) },
  { "help", OPT_FLAG, FIELD (show_help) },
  { "h", OPT_FLAG, FIELD (show_help) },
  { "?", OPT_FLAG, FIELD (show_help) },
  { "version", OPT_FLAG, FIELD (show_version) },
  { "map", OPT_MAP, 0 },
  { "relaymap", OPT_MAP, 0 },
};

static const char *
help_main (void)
{
  return _("Usage:\n"
           "  meshcentral-router [OPTION…] [FILE.mcrouter | mcrouter://…]\n"
           "\n"
           "Maps local TCP and UDP ports through a MeshCentral server to remote devices.\n"
           "\n"
           "Login:\n"
           "  -host:HOST[:PORT][/DOMAIN][?key=K]  MeshCentral server\n"
           "  -user:NAME                          User name\n"
           "  -pass:PASSWORD                      Password (visible to other users: prefer\n"
           "                                      MCROUTER_PASSWORD or --password-stdin)\n"
           "  -token:CODE                         Second-factor code (TOTP or YubiKey OTP)\n"
           "  -certhash:HEX                       Trust the server certificate with this hash\n"
           "                                      (SHA-384 of the certificate or key, or SHA-1)\n"
           "  -ignorecert                         Accept any server certificate (unsafe)\n"
           "  --password-stdin                    Read the password from standard input\n"
           "  --proxy URL                         Use this proxy (http://, socks5://)\n"
           "\n"
           "Maps:\n"
           "  -map:PROTOCOL:LOCALPORT:DEVICE:APP:REMOTEPORT\n"
           "                                      Map a local port to a port of DEVICE\n"
           "  -relaymap:PROTOCOL:LOCALPORT:DEVICE:APP:REMOTEIP:REMOTEPORT\n"
           "                                      Map a local port through DEVICE to\n"
           "                                      REMOTEIP:REMOTEPORT on its network\n"
           "      PROTOCOL is TCP or UDP; LOCALPORT 0 picks a free port; DEVICE is the device\n"
           "      name (in quotes if it has spaces) or its node id; APP is empty, HTTP,\n"
           "      HTTPS, RDP, SSH, SFTP or a custom app name.\n"
           "  -all                                Listen on all interfaces, not only loopback\n"
           "\n"
           "Running:\n"
           "  --headless                          Run without a window or display\n"
           "  --list-devices                      With --headless: print the devices and exit\n"
           "  -tray                               Start in the background\n"
           "  -debug                              Write a debug log (no secrets in it)\n"
           "  --version                           Print the version and exit\n"
           "  --help                              Print this help and exit\n"
           "\n"
           "Environment:\n"
           "  MCROUTER_PASSWORD                   The password, instead of -pass:\n");
}

static const char *
help_ranges (void)
{
  return _("\n"
           "Port ranges:\n"
           "  -map:TCP:5900-5910:PC::5900-5910\n"
           "      LOCALPORT and REMOTEPORT may be ranges FROM-TO of the same length: one\n"
           "      map per port, at most 256. LOCALPORT 0 with a REMOTEPORT range gives\n"
           "      each port a free local port.\n");
}

static const char *
help_service (void)
{
  return _("\n"
           "As a service (--headless):\n"
           "  --password-file PATH                Read the password from PATH, a file only\n"
           "                                      its owner can read (chmod 600)\n"
           "      Started by systemd, the router reads the password from the credential\n"
           "      \"password\" ($CREDENTIALS_DIRECTORY/password, LoadCredential=) and\n"
           "      tells systemd once every map listens (Type=notify).\n");
}

static const char *
help_files_and_links (void)
{
  return _("\n"
           "Files and links:\n"
           "  meshcentral-router office.mcrouter\n"
           "      Mappings saved by this router or the Windows router. The file names\n"
           "      the server, the user and the certificate, and may hold the password;\n"
           "      -host: -user: -pass: complete or override it. Several files must be\n"
           "      for one server.\n"
           "  meshcentral-router 'mcrouter://…'\n"
           "      A link from the MeshCentral web UI: logs in with its cookie, trusts\n"
           "      the certificate whose hash it carries, creates its map and opens the\n"
           "      map's app; with autoexit=1 the router quits when that app's\n"
           "      connection ends. With --headless no app is opened: the map's port is\n"
           "      printed, and autoexit=1 quits once the first connection through the\n"
           "      map has ended.\n"
           "  A router that runs already takes the files and links of a second launch:\n"
           "  for the server it is logged into it adds their maps, for another server\n"
           "  it asks first.\n");
}

const char *
mcr_options_help_text (void)
{
  static char *text;

  /* Messages of their own, so that each keeps its translation when
   * another changes. */
  if (g_once_init_enter (&text))
    g_once_init_leave (&text, g_strconcat (help_main (), help_ranges (), help_service (),
                                           help_files_and_links (), NULL));
  return text;
}

static const OptDef *
find_opt (const char *name,
          gsize       len)
{
  for (guint i = 0; i < G_N_ELEMENTS (opt_defs); i++)
    if (strlen (opt_defs[i].name) == len && g_ascii_strncasecmp (opt_defs[i].name, name, len) == 0)
      return &opt_defs[i];
  return NULL;
}

/* Overwrite a secret in place so ps does not show it. The length stays, so
 * the kernel's view of argv stays consistent. */
static void
scrub (char *s)
{
  if (s != NULL)
    memset (s, 'x', strlen (s));
}

/* The password, and the second-factor code (good for a minute or two, but
 * good for that minute to whoever reads ps). */
static gboolean
is_secret (const OptDef *def)
{
  return g_str_equal (def->name, "pass") || g_str_equal (def->name, "token");
}

static gboolean
apply (McrOptions   *options,
       const OptDef *def,
       const char   *arg,
       char         *value,
       GError      **error)
{
  if (def->kind == OPT_FLAG)
    {
      if (value != NULL)
        {
          g_set_error (error, MCR_OPTIONS_ERROR, MCR_OPTIONS_ERROR_INVALID,
                       _("%s: this option takes no value"), arg);
          return FALSE;
        }
      G_STRUCT_MEMBER (gboolean, options, def->offset) = TRUE;
      return TRUE;
    }

  if (value == NULL)
    {
      g_set_error (error, MCR_OPTIONS_ERROR, MCR_OPTIONS_ERROR_INVALID,
                   _("%s: a value is missing (write -%s:VALUE)"), arg, def->name);
      return FALSE;
    }

  if (def->kind == OPT_MAP)
    {
      g_autofree char *full = g_strdup_printf ("-%s:%s", def->name, value);
      g_autoptr(GPtrArray) specs = mcr_map_range_parse_argument (full, error);

      if (specs == NULL)
        return FALSE;
      /* A range is one map per port. */
      for (guint i = 0; i < specs->len; i++)
        g_ptr_array_add (options->maps, mcr_map_spec_copy (g_ptr_array_index (specs, i)));
      return TRUE;
    }

  if (g_str_equal (def->name, "certhash"))
    {
      g_auto(GStrv) old = options->certhashes;
      g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

      if (old != NULL)
        g_strv_builder_addv (b, (const char **) old);
      g_strv_builder_add (b, value);
      options->certhashes = g_strv_builder_end (b);
      return TRUE;
    }

  {
    char **field = &G_STRUCT_MEMBER (char *, options, def->offset);

    g_free (*field);
    *field = g_strdup (value);
  }
  return TRUE;
}

static gboolean
is_mcrouter_url (const char *arg)
{
  return g_ascii_strncasecmp (arg, "mcrouter:", 9) == 0;
}

McrOptions *
mcr_options_parse (int     argc,
                   char  **argv,
                   GError **error)
{
  g_autoptr(McrOptions) options = g_new0 (McrOptions, 1);

  options->maps = g_ptr_array_new_with_free_func ((GDestroyNotify) mcr_map_spec_free);
  options->files = g_ptr_array_new_with_free_func (g_free);
  options->urls = g_ptr_array_new_with_free_func (g_free);

  for (int i = 1; i < argc; i++)
    {
      char *arg = argv[i];
      const char *name;
      const OptDef *def;
      gsize len;
      g_autofree char *value = NULL;
      gboolean double_dash;

      if (is_mcrouter_url (arg))
        {
          /* The URL carries a login cookie: keep it out of ps. */
          g_ptr_array_add (options->urls, g_strdup (arg));
          scrub (strchr (arg, '?'));
          continue;
        }
      if (arg[0] != '-' || arg[1] == '\0')
        {
          g_ptr_array_add (options->files, g_strdup (arg));
          continue;
        }

      double_dash = arg[1] == '-';
      name = arg + (double_dash ? 2 : 1);
      len = strcspn (name, double_dash ? "=:" : ":=");
      def = find_opt (name, len);
      if (def == NULL)
        {
          g_set_error (error, MCR_OPTIONS_ERROR, MCR_OPTIONS_ERROR_UNKNOWN,
                       _("Unknown option “%s” (see --help)"), arg);
          return NULL;
        }
      if (name[len] != '\0')
        value = g_strdup (name + len + 1);
      else if (def->kind == OPT_VALUE && double_dash && i + 1 < argc)
        {
          value = g_strdup (argv[++i]);
          if (is_secret (def))
            scrub (argv[i]);
        }

      if (!apply (options, def, arg, value, error))
        return NULL;
      if (is_secret (def) && name[len] != '\0')
        scrub ((char *) name + len + 1);
    }

  return g_steal_pointer (&options);
}

void
mcr_options_free (McrOptions *options)
{
  if (options == NULL)
    return;
  g_free (options->host);
  g_free (options->user);
  mcr_secret_wipe_free (options->password);
  g_free (options->token);
  g_free (options->password_file);
  g_strfreev (options->certhashes);
  g_free (options->proxy);
  g_clear_pointer (&options->maps, g_ptr_array_unref);
  g_clear_pointer (&options->files, g_ptr_array_unref);
  g_clear_pointer (&options->urls, g_ptr_array_unref);
  g_free (options);
}
