/* SPDX-License-Identifier: Apache-2.0
 *
 * The systemd user units of data/systemd, their ExecStart run the way
 * systemd runs it, against the real testbed: a clean environment, the
 * credential "password" copied from the unit's LoadCredential= source into
 * a private $CREDENTIALS_DIRECTORY, and $NOTIFY_SOCKET naming a datagram
 * socket of this test (abstract for one unit, a path for the template).
 * READY=1 comes only once the maps listen: the map's fixed port takes a
 * connection right after it, and bytes pass through the agent. The
 * password is neither in the program's argv nor in its environment, and
 * SIGTERM stops it with STOPPING=1 and status 0. --password-file refuses a
 * file that other users can read.
 */
#define _GNU_SOURCE

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mcr-test-bus.h"
#include "mcr-test-router.h"
#include "relay-test-util.h"

static char *work_dir;

/* ---- the notify socket ------------------------------------------------------ */

typedef struct
{
  GSocket   *socket;
  GSource   *source;
  GPtrArray *messages;   /* each datagram, as text */
  gboolean   ready;
  gboolean   stopping;
} NotifyListener;

static gboolean
on_notify (GSocket      *socket,
           GIOCondition  condition,
           gpointer      user_data)
{
  NotifyListener *l = user_data;
  char buf[4096];
  gssize n;

  while ((n = g_socket_receive (socket, buf, sizeof buf - 1, NULL, NULL)) > 0)
    {
      g_auto(GStrv) lines = NULL;

      buf[n] = '\0';
      g_test_message ("notify: %s", buf);
      g_ptr_array_add (l->messages, g_strdup (buf));
      lines = g_strsplit (buf, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          l->ready |= g_str_equal (lines[i], "READY=1");
          l->stopping |= g_str_equal (lines[i], "STOPPING=1");
        }
    }
  return G_SOURCE_CONTINUE;
}

/* A datagram socket at @name: "@…" abstract, else a path. */
static NotifyListener *
notify_listener_new (const char *name)
{
  NotifyListener *l = g_new0 (NotifyListener, 1);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  if (name[0] == '@')
    address = g_unix_socket_address_new_with_type (name + 1, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  else
    address = g_unix_socket_address_new (name);
  l->socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
                            G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (l->socket, FALSE);
  g_socket_bind (l->socket, address, FALSE, &error);
  g_assert_no_error (error);
  l->messages = g_ptr_array_new_with_free_func (g_free);
  l->source = g_socket_create_source (l->socket, G_IO_IN, NULL);
  g_source_set_callback (l->source, (GSourceFunc) (void (*) (void)) on_notify, l, NULL);
  g_source_attach (l->source, NULL);
  return l;
}

static void
notify_listener_free (NotifyListener *l)
{
  g_source_destroy (l->source);
  g_source_unref (l->source);
  g_socket_close (l->socket, NULL);
  g_object_unref (l->socket);
  g_ptr_array_unref (l->messages);
  g_free (l);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NotifyListener, notify_listener_free)

/* ---- the unit ---------------------------------------------------------------- */

/* The value of the first "@key=" line of the built unit @name. */
static char *
unit_value (const char *name,
            const char *key)
{
  g_autofree char *path = g_build_filename (MCR_BUILD_ROOT, "data", name, NULL);
  g_autofree char *text = NULL;
  g_autofree char *prefix = g_strconcat (key, "=", NULL);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strdup (lines[i] + strlen (prefix));
  g_error ("%s has no %s= line", name, key);
  return NULL;
}

/* @value with the specifiers systemd would replace: %E (XDG_CONFIG_HOME of
 * a user manager) and %i (the instance), nothing else expected. */
static char *
expand_specifiers (const char *value,
                   const char *config_home,
                   const char *instance)
{
  GString *s = g_string_new (NULL);

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p != '%')
        {
          g_string_append_c (s, *p);
          continue;
        }
      p++;
      if (*p == 'E')
        g_string_append (s, config_home);
      else if (*p == 'i' && instance != NULL)
        g_string_append (s, instance);
      else
        g_error ("unexpected specifier %%%c in “%s”", *p, value);
    }
  return g_string_free (s, FALSE);
}

/* A .mcrouter file with one map of the agent's @remote_port to the fixed
 * local @local_port, as the Windows router writes it. */
static void
write_mcrouter (const char *path,
                guint16     local_port,
                guint16     remote_port)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *text =
    g_strdup_printf ("{\r\n  \"hostname\": \"%s\",\r\n  \"username\": \"%s\",\r\n"
                     "  \"certhash\": \"%s\",\r\n  \"mappings\":[\r\n    {\r\n"
                     "      \"nodeName\": \"%s\",\r\n      \"meshId\": \"%s\",\r\n"
                     "      \"nodeId\": \"%s\",\r\n      \"appId\": 0,\r\n"
                     "      \"protocol\": 1,\r\n      \"localPort\": %u,\r\n"
                     "      \"remotePort\": %u\r\n    }\r\n  ]\r\n}",
                     tb->address, tb->user, tb->cert_hash, tb->node_name, tb->mesh_id,
                     tb->node_id, local_port, remote_port);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

/* @needle in the NUL-separated @path of /proc (cmdline, environ)? */
static gboolean
proc_file_contains (GPid        pid,
                    const char *file,
                    const char *needle)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, file);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 0);
  return memmem (data, len, needle, strlen (needle)) != NULL;
}

static gboolean
listener_ready (gpointer data)
{
  NotifyListener *l = data;

  return l->ready;
}

/* Runs unit @unit (instance @instance, or NULL) as systemd would, its
 * notify socket an abstract one (@abstract_socket) or a path. */
static void
run_unit (const char *unit,
          const char *instance,
          gboolean    abstract_socket)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_echo_server_start (NULL);
  guint16 local_port = mcr_test_unused_port (NULL);
  g_autofree char *home = g_build_filename (work_dir, unit, NULL);
  g_autofree char *config_home = g_build_filename (home, ".config", NULL);
  g_autofree char *router_dir = g_build_filename (config_home, "meshcentral-router", NULL);
  g_autofree char *creds_dir = g_build_filename (home, "credentials", NULL);
  g_autofree char *runtime_dir = g_build_filename (home, "run", NULL);
  g_autofree char *exec_start = unit_value (unit, "ExecStart");
  g_autofree char *load_credential = unit_value (unit, "LoadCredential");
  g_autofree char *expanded = expand_specifiers (exec_start, config_home, instance);
  g_autofree char *credential = expand_specifiers (load_credential, config_home, instance);
  g_autofree char *notify_name = NULL;
  g_autofree char *secret_path = NULL;
  g_autofree char *cred_path = NULL;
  g_autofree char *password_line = g_strconcat (tb->password, "\n", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(NotifyListener) listener = NULL;
  g_autoptr(McrTestRouter) r = NULL;
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;
  const char *mcrouter = NULL;
  const char *source;
  GPid pid;

  g_assert_cmpint (g_mkdir_with_parents (router_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (creds_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (runtime_dir, 0700), ==, 0);

  /* ExecStart: the installed program, --headless and a file under %E. */
  g_shell_parse_argv (expanded, NULL, &argv, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (argv[0], "/bin/meshcentral-router"));
  g_assert_true (g_strv_contains ((const char *const *) argv, "--headless"));
  for (guint i = 1; argv[i] != NULL; i++)
    {
      g_assert_null (strstr (argv[i], "pass"));
      if (g_str_has_suffix (argv[i], ".mcrouter"))
        mcrouter = argv[i];
    }
  g_assert_nonnull (mcrouter);
  g_assert_true (g_str_has_prefix (mcrouter, router_dir));
  write_mcrouter (mcrouter, local_port, echo);

  /* LoadCredential=password:SOURCE: the user's file, copied by systemd
   * into the service's private credentials directory. */
  g_assert_true (g_str_has_prefix (credential, "password:"));
  source = credential + strlen ("password:");
  g_assert_true (g_str_has_prefix (source, router_dir));
  g_file_set_contents_full (source, password_line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                            &error);
  g_assert_no_error (error);
  cred_path = g_build_filename (creds_dir, "password", NULL);
  g_file_set_contents_full (cred_path, password_line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0400,
                            &error);
  g_assert_no_error (error);

  if (abstract_socket)
    notify_name = g_strdup_printf ("@mcr-test-notify-%d-%s", (int) getpid (), unit);
  else
    notify_name = g_build_filename (runtime_dir, "notify", NULL);
  listener = notify_listener_new (notify_name);

  /* The environment of a user service: what the manager sets, no more
   * (the sanitizers' options kept, for this build). */
  env = g_environ_setenv (NULL, "HOME", home, TRUE);
  env = g_environ_setenv (env, "PATH", "/usr/local/bin:/usr/bin:/bin", TRUE);
  env = g_environ_setenv (env, "LANG", "C.UTF-8", TRUE);
  env = g_environ_setenv (env, "USER", g_get_user_name (), TRUE);
  env = g_environ_setenv (env, "XDG_RUNTIME_DIR", runtime_dir, TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", config_home, TRUE);
  env = g_environ_setenv (env, "INVOCATION_ID", "0123456789abcdef0123456789abcdef", TRUE);
  env = g_environ_setenv (env, "NOTIFY_SOCKET", notify_name, TRUE);
  env = g_environ_setenv (env, "CREDENTIALS_DIRECTORY", creds_dir, TRUE);
  for (guint i = 0; i < 4; i++)
    {
      const char *names[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "G_SLICE" };

      if (g_getenv (names[i]) != NULL)
        env = g_environ_setenv (env, names[i], g_getenv (names[i]), TRUE);
    }
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_set_child_setup (launcher, mcr_test_router_child_setup, NULL, NULL);
  /* argv[0] is the installed program: the built one stands in for it. */
  r = mcr_test_router_start (launcher, (const char *const *) argv + 1, FALSE);
  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (r->process), NULL, 10);

  /* Not READY before the maps listen: nothing listens on the port until
   * the map does (it was free), and READY comes only after. */
  if (!mcr_test_wait_until (listener_ready, listener, 60000))
    g_error ("no READY=1 from the service; stderr:\n%s", r->err_text->str);
  g_assert_false (r->exited);
  test_peer_assert_echo (local_port, 256 * 1024, 41);
  g_assert_true (listener->messages->len >= 2);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (listener->messages, 0), "STATUS="));

  /* The password reached it through the credential only. */
  g_assert_false (proc_file_contains (pid, "cmdline", tb->password));
  g_assert_false (proc_file_contains (pid, "environ", tb->password));
  g_assert_true (proc_file_contains (pid, "environ", "CREDENTIALS_DIRECTORY="));

  g_assert_cmpint (mcr_test_router_stop (r, 15000), ==, 0);
  g_assert_true (listener->stopping);
  /* Plain lines for the journal: no terminal escapes. */
  g_assert_null (strchr (r->err_text->str, '\033'));
  g_assert_null (strstr (r->err_text->str, tb->password));
  g_assert_null (strstr (r->out_text->str, tb->password));
  g_unlink (cred_path);
  g_unlink (source);
  g_unlink (mcrouter);
  if (!abstract_socket)
    g_unlink (notify_name);
}

static void
test_unit (void)
{
  run_unit ("meshcentral-router.service", NULL, TRUE);
}

static void
test_template_unit (void)
{
  run_unit ("meshcentral-router@.service", "office", FALSE);
}

/* --password-file: a file the group can read is refused by name, before
 * any login; one that is private logs in. */
static void
test_password_file (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *path = g_build_filename (work_dir, "password", NULL);
  g_autofree char *password_line = g_strconcat (tb->password, "\n", NULL);
  g_autofree char *host = g_strconcat ("-host:", tb->address, NULL);
  g_autofree char *user = g_strconcat ("-user:", tb->user, NULL);
  g_autofree char *certhash = g_strconcat ("-certhash:", tb->cert_hash, NULL);
  const char *args[] = { "--headless", host, user, certhash, "--password-file", path, NULL };
  g_autoptr(GSubprocessLauncher) launcher =
    mcr_test_router_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                  NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrTestRouter) refused = NULL;
  g_autoptr(McrTestRouter) r = NULL;
  g_autofree char *listed = NULL;
  const char *list_args[] = { "--list-devices", host, user, certhash, "--password-file", path,
                              NULL };

  g_file_set_contents_full (path, password_line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0640,
                            &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  refused = mcr_test_router_start (launcher, args, TRUE);
  g_assert_cmpint (mcr_test_router_wait (refused, 30000), ==, 2);
  g_assert_nonnull (strstr (refused->err_text->str, "password"));
  g_assert_nonnull (strstr (refused->err_text->str, "chmod 600"));
  g_assert_nonnull (strstr (refused->err_text->str, "(mode 640)"));

  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  r = mcr_test_router_start (launcher, list_args, FALSE);
  g_assert_cmpint (mcr_test_router_wait (r, 60000), ==, 0);
  listed = g_strdup_printf ("%s\t", tb->node_name);
  g_assert_nonnull (strstr (r->out_text->str, listed));
  g_unlink (path);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();
  work_dir = g_dir_make_tmp ("mcr-service-XXXXXX", NULL);
  g_test_add_func ("/service/unit", test_unit);
  g_test_add_func ("/service/template-unit", test_template_unit);
  g_test_add_func ("/service/password-file", test_password_file);
  status = g_test_run ();
  mcr_test_remove_tree (work_dir);
  g_free (work_dir);
  return status;
}
