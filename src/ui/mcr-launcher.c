/* mcr-launcher.c: opens a map's app on the map's local port
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Only known apps and the user's own custom apps are ever run, always with
 * an argv (never through a shell), and never with a secret on the command
 * line.
 */
#define G_LOG_DOMAIN "mcr-launcher"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-launcher.h"

struct _McrLauncher
{
  GObject           parent_instance;

  gboolean          flatpak;
  char            **desktops;
  char            **distros;
  McrProgramLookup  lookup;
  gpointer          lookup_data;
  GDestroyNotify    lookup_destroy;
};

G_DEFINE_FINAL_TYPE (McrLauncher, mcr_launcher, G_TYPE_OBJECT)

G_DEFINE_QUARK (mcr-launcher-error-quark, mcr_launcher_error)

/* A program and the arguments that come before the command it runs. */
typedef struct
{
  const char *desktop; /* XDG_CURRENT_DESKTOP entry it belongs to, "*" for the
                        * user's own choice (tried first), or NULL */
  const char *program;
  const char *args[3];
} McrHelper;

/* Debian's x-terminal-emulator honours -e as policy; it is the user's choice. */
static const McrHelper terminals[] = {
  { "*", "x-terminal-emulator", { "-e" } },
  { "GNOME", "kgx", { "--" } },
  { "GNOME", "gnome-terminal", { "--" } },
  { "KDE", "konsole", { "-e" } },
  { "XFCE", "xfce4-terminal", { "-x" } },
  { "MATE", "mate-terminal", { "-x" } },
  { "X-Cinnamon", "gnome-terminal", { "--" } },
  { NULL, "gnome-terminal", { "--" } },
  { NULL, "kgx", { "--" } },
  { NULL, "konsole", { "-e" } },
  { NULL, "xfce4-terminal", { "-x" } },
  { NULL, "mate-terminal", { "-x" } },
  { NULL, "terminator", { "-x" } },
  { NULL, "alacritty", { "-e" } },
  { NULL, "kitty", { NULL } },
  { NULL, "foot", { NULL } },
  { NULL, "xterm", { "-e" } },
};

static const McrHelper file_managers[] = {
  { "GNOME", "nautilus", { NULL } },
  { "KDE", "dolphin", { NULL } },
  { "X-Cinnamon", "nemo", { NULL } },
  { "MATE", "caja", { NULL } },
  { "XFCE", "thunar", { NULL } },
  { "LXQt", "pcmanfm-qt", { NULL } },
  { NULL, "nautilus", { NULL } },
  { NULL, "nemo", { NULL } },
  { NULL, "caja", { NULL } },
  { NULL, "thunar", { NULL } },
  { NULL, "dolphin", { NULL } },
  { NULL, "pcmanfm-qt", { NULL } },
  { NULL, "pcmanfm", { NULL } },
};

/* FreeRDP 3 and 2 names, X11 before Wayland (the X11 client works on both),
 * then Remmina. */
static const McrHelper rdp_clients[] = {
  { NULL, "xfreerdp3", { NULL } },
  { NULL, "xfreerdp", { NULL } },
  { NULL, "wlfreerdp3", { NULL } },
  { NULL, "wlfreerdp", { NULL } },
  { NULL, "sdl-freerdp3", { NULL } },
  { NULL, "remmina", { "-c" } },
};

static gboolean
lookup_in_path (const char *program,
                gpointer    user_data)
{
  g_autofree char *path = g_find_program_in_path (program);

  return path != NULL;
}

/* Inside Flatpak the programs we want live on the host. The program name is
 * passed as a positional parameter, never interpolated into the script. */
static gboolean
lookup_on_host (const char *program)
{
  const char *argv[] = { "flatpak-spawn", "--host", "sh", "-c", "command -v -- \"$1\"",
                         "sh", program, NULL };
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, NULL))
    return FALSE;
  return g_spawn_check_wait_status (status, NULL);
}

static gboolean
mcr_launcher_has_program (McrLauncher *self,
                          const char  *program)
{
  if (self->lookup != NULL)
    return self->lookup (program, self->lookup_data);
  if (self->flatpak)
    return lookup_on_host (program);
  return lookup_in_path (program, NULL);
}

static gboolean
mcr_launcher_on_desktop (McrLauncher *self,
                         const char  *desktop)
{
  return self->desktops != NULL && g_strv_contains ((const char *const *) self->desktops, desktop);
}

static gboolean
helper_in_pass (McrLauncher     *self,
                const McrHelper *helper,
                guint            pass)
{
  switch (pass)
    {
    case 0:
      return g_strcmp0 (helper->desktop, "*") == 0;
    case 1:
      return helper->desktop != NULL && mcr_launcher_on_desktop (self, helper->desktop);
    default:
      return helper->desktop == NULL;
    }
}

/* The first installed helper: the user's own choice, then the current
 * desktop's, then any. */
static const McrHelper *
mcr_launcher_find_helper (McrLauncher     *self,
                          const McrHelper *helpers,
                          gsize            n_helpers)
{
  for (guint pass = 0; pass < 3; pass++)
    for (gsize i = 0; i < n_helpers; i++)
      {
        const McrHelper *h = &helpers[i];

        if (helper_in_pass (self, h, pass) && mcr_launcher_has_program (self, h->program))
          return h;
      }
  return NULL;
}

static gboolean
mcr_launcher_is_distro (McrLauncher *self,
                        const char  *id)
{
  return self->distros != NULL && g_strv_contains ((const char *const *) self->distros, id);
}

/* "sudo apt install PKG", or the Fedora/Arch equivalent. */
static char *
mcr_launcher_install_command (McrLauncher *self,
                              const char  *debian,
                              const char  *fedora,
                              const char  *arch)
{
  if (self->flatpak)
    return g_strdup_printf ("install %s on your system", debian);
  if (mcr_launcher_is_distro (self, "fedora") || mcr_launcher_is_distro (self, "rhel"))
    return g_strdup_printf ("sudo dnf install %s", fedora);
  if (mcr_launcher_is_distro (self, "arch"))
    return g_strdup_printf ("sudo pacman -S %s", arch);
  if (mcr_launcher_is_distro (self, "suse") || mcr_launcher_is_distro (self, "opensuse"))
    return g_strdup_printf ("sudo zypper install %s", fedora);
  return g_strdup_printf ("sudo apt install %s", debian);
}

static void
mcr_launcher_set_not_installed (McrLauncher *self,
                                GError     **error,
                                const char  *what,
                                const char  *debian,
                                const char  *fedora,
                                const char  *arch)
{
  g_autofree char *install = mcr_launcher_install_command (self, debian, fedora, arch);

  /* Translators: "xfreerdp is not installed: sudo apt install freerdp2-x11" */
  g_set_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NOT_INSTALLED,
               _("%s is not installed: %s"), what, install);
}

static char **
wrap_argv (McrLauncher *self,
           GPtrArray   *args)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **argv;

  if (self->flatpak)
    {
      g_strv_builder_add (builder, "flatpak-spawn");
      g_strv_builder_add (builder, "--host");
    }
  for (guint i = 0; i < args->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (args, i));
  argv = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return argv;
}

static void
add_helper (GPtrArray       *args,
            const McrHelper *helper)
{
  g_ptr_array_add (args, g_strdup (helper->program));
  for (guint i = 0; i < G_N_ELEMENTS (helper->args) && helper->args[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (helper->args[i]));
}

static const char *
request_address (const McrLaunchRequest *request)
{
  return request->address != NULL && *request->address != '\0' ? request->address : "127.0.0.1";
}

static const char *
request_user (const McrLaunchRequest *request)
{
  return request->user != NULL && *request->user != '\0' ? request->user : g_get_user_name ();
}

/* IPv6 literals need brackets in URIs and host:port forms. */
static char *
host_for_uri (const char *address)
{
  if (strchr (address, ':') != NULL)
    return g_strdup_printf ("[%s]", address);
  return g_strdup (address);
}

static McrLaunchPlan *
plan_uri (const char *scheme,
          const McrLaunchRequest *request)
{
  McrLaunchPlan *plan = g_new0 (McrLaunchPlan, 1);
  g_autofree char *host = host_for_uri (request_address (request));

  plan->uri = g_strdup_printf ("%s://%s:%u/", scheme, host, request->port);
  return plan;
}

static McrLaunchPlan *
plan_rdp (McrLauncher            *self,
          const McrLaunchRequest *request,
          GError                **error)
{
  const McrHelper *client = mcr_launcher_find_helper (self, rdp_clients, G_N_ELEMENTS (rdp_clients));
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *host = host_for_uri (request_address (request));
  McrLaunchPlan *plan;

  if (client == NULL)
    {
      mcr_launcher_set_not_installed (self, error, "xfreerdp", "freerdp2-x11", "freerdp", "freerdp");
      return NULL;
    }
  add_helper (args, client);
  if (g_str_equal (client->program, "remmina"))
    g_ptr_array_add (args, g_strdup_printf ("rdp://%s:%u", host, request->port));
  else
    g_ptr_array_add (args, g_strdup_printf ("/v:%s:%u", host, request->port));
  plan = g_new0 (McrLaunchPlan, 1);
  plan->argv = wrap_argv (self, args);
  return plan;
}

static McrLaunchPlan *
plan_ssh (McrLauncher            *self,
          const McrLaunchRequest *request,
          GError                **error)
{
  const McrHelper *terminal;
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  McrLaunchPlan *plan;

  if (!mcr_launcher_has_program (self, "ssh"))
    {
      mcr_launcher_set_not_installed (self, error, "ssh", "openssh-client", "openssh-clients",
                                      "openssh");
      return NULL;
    }
  terminal = mcr_launcher_find_helper (self, terminals, G_N_ELEMENTS (terminals));
  if (terminal == NULL)
    {
      mcr_launcher_set_not_installed (self, error, _("A terminal program"), "xterm", "xterm",
                                      "xterm");
      return NULL;
    }
  add_helper (args, terminal);
  g_ptr_array_add (args, g_strdup ("ssh"));
  g_ptr_array_add (args, g_strdup ("-p"));
  g_ptr_array_add (args, g_strdup_printf ("%u", request->port));
  g_ptr_array_add (args, g_strdup_printf ("%s@%s", request_user (request),
                                          request_address (request)));
  plan = g_new0 (McrLaunchPlan, 1);
  plan->argv = wrap_argv (self, args);
  return plan;
}

static McrLaunchPlan *
plan_sftp (McrLauncher            *self,
           const McrLaunchRequest *request,
           GError                **error)
{
  const McrHelper *fm = mcr_launcher_find_helper (self, file_managers, G_N_ELEMENTS (file_managers));
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *user = g_uri_escape_string (request_user (request), NULL, FALSE);
  g_autofree char *host = host_for_uri (request_address (request));
  McrLaunchPlan *plan;

  if (fm == NULL)
    {
      mcr_launcher_set_not_installed (self, error, _("A file manager that opens sftp:// addresses"),
                                      "nautilus gvfs-backends", "nautilus gvfs", "nautilus gvfs");
      return NULL;
    }
  add_helper (args, fm);
  g_ptr_array_add (args, g_strdup_printf ("sftp://%s@%s:%u/", user, host, request->port));
  plan = g_new0 (McrLaunchPlan, 1);
  plan->argv = wrap_argv (self, args);
  return plan;
}

static gboolean
append_quoted (GString    *out,
               const char *value)
{
  g_autofree char *quoted = g_shell_quote (value != NULL ? value : "");

  g_string_append (out, quoted);
  return TRUE;
}

char **
mcr_launcher_expand_arguments (const char *arguments,
                               guint16     port,
                               const char *address,
                               const char *device_name,
                               GError    **error)
{
  g_autoptr(GString) line = g_string_new (NULL);
  g_autofree char *port_str = g_strdup_printf ("%u", port);
  g_autoptr(GError) local_error = NULL;
  char **argv = NULL;
  int argc = 0;

  for (const char *p = arguments != NULL ? arguments : ""; *p != '\0'; p++)
    {
      if (*p != '%' || p[1] == '\0')
        {
          g_string_append_c (line, *p);
          continue;
        }
      p++;
      switch (*p)
        {
        case 'P':
          append_quoted (line, port_str);
          break;
        case 'L':
          append_quoted (line, address != NULL ? address : "127.0.0.1");
          break;
        case 'N':
          append_quoted (line, device_name);
          break;
        case '%':
          g_string_append_c (line, '%');
          break;
        default:
          g_string_append_c (line, '%');
          g_string_append_c (line, *p);
          break;
        }
    }

  if (line->len == 0 || g_str_equal (g_strstrip (line->str), ""))
    return g_new0 (char *, 1);
  if (!g_shell_parse_argv (line->str, &argc, &argv, &local_error))
    {
      g_set_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_INVALID,
                   _("The arguments “%s” cannot be read: %s"), arguments, local_error->message);
      return NULL;
    }
  return argv;
}

static McrLaunchPlan *
plan_custom (McrLauncher            *self,
             const McrLaunchRequest *request,
             GError                **error)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) expanded = NULL;
  const char *name = request->custom_name != NULL ? request->custom_name : "";
  McrLaunchPlan *plan;

  if (request->custom_program == NULL || *request->custom_program == '\0')
    {
      g_set_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NO_APP,
                   _("The custom app “%s” has no program: set one in Custom Apps"), name);
      return NULL;
    }
  if (!mcr_launcher_has_program (self, request->custom_program))
    {
      g_set_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NOT_INSTALLED,
                   _("The program “%s” of the custom app “%s” is not installed"),
                   request->custom_program, name);
      return NULL;
    }
  expanded = mcr_launcher_expand_arguments (request->custom_arguments, request->port,
                                            request_address (request), request->device_name,
                                            error);
  if (expanded == NULL)
    return NULL;

  g_ptr_array_add (args, g_strdup (request->custom_program));
  for (guint i = 0; expanded[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (expanded[i]));
  plan = g_new0 (McrLaunchPlan, 1);
  plan->argv = wrap_argv (self, args);
  return plan;
}

McrLaunchPlan *
mcr_launcher_plan (McrLauncher            *self,
                   const McrLaunchRequest *request,
                   GError                **error)
{
  g_return_val_if_fail (MCR_IS_LAUNCHER (self), NULL);
  g_return_val_if_fail (request != NULL, NULL);

  switch (request->app_id)
    {
    case MCR_APP_HTTP:
      return plan_uri ("http", request);
    case MCR_APP_HTTPS:
      return plan_uri ("https", request);
    case MCR_APP_RDP:
      return plan_rdp (self, request, error);
    case MCR_APP_SSH:
      return plan_ssh (self, request, error);
    case MCR_APP_SFTP:
      return plan_sftp (self, request, error);
    case MCR_APP_CUSTOM:
      if (request->custom_name != NULL || request->custom_program != NULL)
        return plan_custom (self, request, error);
      break;
    default:
      break;
    }
  g_set_error_literal (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_NO_APP,
                       _("This map has no app to open: connect your own program to its local port"));
  return NULL;
}

gboolean
mcr_launcher_spawn (McrLauncher         *self,
                    const McrLaunchPlan *plan,
                    GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (MCR_IS_LAUNCHER (self), FALSE);
  g_return_val_if_fail (plan != NULL && plan->argv != NULL, FALSE);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_unsetenv (launcher, "MCROUTER_PASSWORD");
  g_debug ("starting %s", plan->argv[0]);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) plan->argv, &local_error);
  if (process == NULL)
    {
      g_set_error (error, MCR_LAUNCHER_ERROR, MCR_LAUNCHER_ERROR_FAILED,
                   _("%s could not be started: %s"), plan->argv[0], local_error->message);
      return FALSE;
    }
  /* Reap the child when it ends; nobody waits for it otherwise. */
  g_subprocess_wait_async (process, NULL, NULL, NULL);
  return TRUE;
}

void
mcr_launch_plan_free (McrLaunchPlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->uri);
  g_strfreev (plan->argv);
  g_free (plan);
}

void
mcr_launcher_set_flatpak (McrLauncher *self,
                          gboolean     flatpak)
{
  g_return_if_fail (MCR_IS_LAUNCHER (self));
  self->flatpak = !!flatpak;
}

gboolean
mcr_launcher_get_flatpak (McrLauncher *self)
{
  g_return_val_if_fail (MCR_IS_LAUNCHER (self), FALSE);
  return self->flatpak;
}

void
mcr_launcher_set_desktop (McrLauncher *self,
                          const char  *desktop)
{
  g_return_if_fail (MCR_IS_LAUNCHER (self));
  g_clear_pointer (&self->desktops, g_strfreev);
  if (desktop != NULL)
    self->desktops = g_strsplit (desktop, ":", -1);
}

void
mcr_launcher_set_distro (McrLauncher *self,
                         const char  *ids)
{
  g_return_if_fail (MCR_IS_LAUNCHER (self));
  g_clear_pointer (&self->distros, g_strfreev);
  if (ids != NULL)
    self->distros = g_strsplit_set (ids, " \t", -1);
}

void
mcr_launcher_set_lookup (McrLauncher     *self,
                         McrProgramLookup lookup,
                         gpointer         user_data,
                         GDestroyNotify   destroy)
{
  g_return_if_fail (MCR_IS_LAUNCHER (self));
  if (self->lookup_destroy != NULL)
    self->lookup_destroy (self->lookup_data);
  self->lookup = lookup;
  self->lookup_data = user_data;
  self->lookup_destroy = destroy;
}

static void
mcr_launcher_finalize (GObject *object)
{
  McrLauncher *self = MCR_LAUNCHER (object);

  mcr_launcher_set_lookup (self, NULL, NULL, NULL);
  g_clear_pointer (&self->desktops, g_strfreev);
  g_clear_pointer (&self->distros, g_strfreev);
  G_OBJECT_CLASS (mcr_launcher_parent_class)->finalize (object);
}

static void
mcr_launcher_class_init (McrLauncherClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mcr_launcher_finalize;
}

/* ID and ID_LIKE from os-release, e.g. "ubuntu debian". */
static char *
read_distro_ids (void)
{
  g_autofree char *id = NULL;
  g_autofree char *id_like = NULL;

  id = g_get_os_info (G_OS_INFO_KEY_ID);
  id_like = g_get_os_info ("ID_LIKE");
  return g_strjoin (" ", id != NULL ? id : "", id_like != NULL ? id_like : "", NULL);
}

static void
mcr_launcher_init (McrLauncher *self)
{
  g_autofree char *ids = read_distro_ids ();

  self->flatpak = g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
  mcr_launcher_set_desktop (self, g_getenv ("XDG_CURRENT_DESKTOP"));
  mcr_launcher_set_distro (self, ids);
}

McrLauncher *
mcr_launcher_new (void)
{
  return g_object_new (MCR_TYPE_LAUNCHER, NULL);
}
