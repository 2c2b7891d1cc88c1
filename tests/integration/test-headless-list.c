/* SPDX-License-Identifier: Apache-2.0
 *
 * meshcentral-router --headless … --list-devices, the built program run
 * against the real testbed: it prints the devices and exits 0; every login
 * failure prints the reason and exits non-zero. */
#include <string.h>

#include "login-helpers.h"
#include "mcr-test-router.h"

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs the program with @args (NULL-terminated); @password_env sets
 * MCROUTER_PASSWORD, @input goes to its standard input. */
static void
run_router (Run         *r,
            const char  *password_env,
            const char  *input,
            const char **args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    mcr_test_router_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                  G_SUBPROCESS_FLAGS_STDERR_PIPE, password_env);
  g_autoptr(GSubprocess) process = mcr_test_router_spawn (launcher, args);
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8 (process, input ? input : "", NULL, &r->out, &r->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  r->status = g_subprocess_get_exit_status (process);
  g_test_message ("exit %d\nstdout: %s\nstderr: %s", r->status, r->out, r->err);
}

/* -host:, -user:, -pass: and -certhash: for the testbed's admin, and the
 * line that --list-devices prints for its agent. */
static char *host_arg;
static char *user_arg;
static char *pass_arg;
static char *hash_arg;
static char *device_line;

static void
login_args_init (void)
{
  const McrTestbed *tb = mcr_testbed_get ();

  host_arg = g_strconcat ("-host:", tb->address, NULL);
  user_arg = g_strconcat ("-user:", tb->user, NULL);
  pass_arg = g_strconcat ("-pass:", tb->password, NULL);
  hash_arg = g_strconcat ("-certhash:", tb->cert_hash, NULL);
  device_line = g_strdup_printf ("%s\tlab\tonline\t%s\n", tb->node_name, tb->node_id);
}

static void
login_args_clear (void)
{
  g_clear_pointer (&host_arg, g_free);
  g_clear_pointer (&user_arg, g_free);
  g_clear_pointer (&pass_arg, g_free);
  g_clear_pointer (&hash_arg, g_free);
  g_clear_pointer (&device_line, g_free);
}

static void
test_list (void)
{
  const char *args[] = { "--headless", host_arg, user_arg, pass_arg, hash_arg, "--list-devices",
                         NULL };
  g_auto(Run) r = { 0 };

  run_router (&r, NULL, NULL, args);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, device_line));
}

static void
test_password_from_env (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  const char *args[] = { "--headless", host_arg, user_arg, "-ignorecert", "--list-devices",
                         NULL };
  g_auto(Run) r = { 0 };

  run_router (&r, tb->password, NULL, args);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, device_line));
}

static void
test_password_from_stdin (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *input = g_strconcat (tb->password, "\n", NULL);
  const char *args[] = { "--headless", host_arg, user_arg, hash_arg, "--password-stdin",
                         "--list-devices", NULL };
  g_auto(Run) r = { 0 };

  /* The environment loses against --password-stdin. */
  run_router (&r, "wrong", input, args);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, device_line));
}

static void
test_bad_password (void)
{
  const char *args[] = { "--headless", host_arg, user_arg, "-pass:wrong-password", hash_arg,
                         "--list-devices", NULL };
  g_auto(Run) r = { 0 };

  run_router (&r, NULL, NULL, args);
  g_assert_cmpint (r.status, !=, 0);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_nonnull (strstr (r.err, "Invalid user name or password"));
}

static void
test_untrusted (void)
{
  const char *args[] = { "--headless", host_arg, user_arg, pass_arg, "--list-devices", NULL };
  g_auto(Run) r = { 0 };

  run_router (&r, NULL, NULL, args);
  g_assert_cmpint (r.status, !=, 0);
  g_assert_nonnull (strstr (r.err, "not trusted"));
  /* It says how to trust it. */
  g_assert_nonnull (strstr (r.err, hash_arg));
}

static void
test_unreachable (void)
{
  const char *args[] = { "--headless", "-host:127.0.0.1:1", "-user:a", "-pass:b",
                         "--list-devices", NULL };
  g_auto(Run) r = { 0 };

  run_router (&r, NULL, NULL, args);
  g_assert_cmpint (r.status, !=, 0);
  g_assert_nonnull (strstr (r.err, "refused the connection"));
}

static void
test_no_password (void)
{
  const char *args[] = { "--headless", host_arg, "-user:admin", "--list-devices", NULL };
  g_auto(Run) r = { 0 };

  run_router (&r, NULL, NULL, args);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "MCROUTER_PASSWORD"));
}

static void
test_token (void)
{
  g_autofree char *password = NULL;
  g_autofree char *name = test_add_user ("ctl-headless", NULL, &password);
  g_autofree char *secret = test_setup_totp (name, password);
  g_autofree char *name_arg = g_strconcat ("-user:", name, NULL);
  g_autofree char *code = NULL;
  g_autofree char *token = NULL;
  const char *without[] = { "--headless", host_arg, name_arg, hash_arg, "--list-devices", NULL };
  const char *with[] = { "--headless", host_arg, name_arg, hash_arg, NULL, "--list-devices",
                         NULL };
  g_auto(Run) r1 = { 0 };
  g_auto(Run) r2 = { 0 };

  run_router (&r1, password, NULL, without);
  g_assert_cmpint (r1.status, !=, 0);
  g_assert_nonnull (strstr (r1.err, "second-factor"));
  g_assert_nonnull (strstr (r1.err, "-token:"));

  code = mcr_test_totp (secret, g_get_real_time () / G_USEC_PER_SEC);
  token = g_strconcat ("-token:", code, NULL);
  with[4] = token;
  run_router (&r2, password, NULL, with);
  /* Logged in; this account sees no devices. */
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_cmpstr (r2.out, ==, "");
  g_assert_nonnull (strstr (r2.err, "no devices"));
  test_remove_user (name);
}

/* An mcrouter:// link from the web UI: its cookie logs in, its t= hash
 * pins the certificate; no user or password. */
static void
test_router_link (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *cookie = test_link_cookie (tb);
  g_autofree char *link = NULL;
  const char *args[] = { "--headless", NULL, "--list-devices", NULL };
  g_auto(Run) r = { 0 };

  link = g_strdup_printf ("mcrouter://%s/control.ashx?c=%s&t=%s&l=en", tb->address, cookie,
                          tb->cert_hash);
  args[1] = link;
  run_router (&r, NULL, NULL, args);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, device_line));
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  login_args_init ();
  g_test_add_func ("/headless/list", test_list);
  g_test_add_func ("/headless/password-from-env", test_password_from_env);
  g_test_add_func ("/headless/password-from-stdin", test_password_from_stdin);
  g_test_add_func ("/headless/bad-password", test_bad_password);
  g_test_add_func ("/headless/untrusted", test_untrusted);
  g_test_add_func ("/headless/unreachable", test_unreachable);
  g_test_add_func ("/headless/no-password", test_no_password);
  g_test_add_func ("/headless/token", test_token);
  g_test_add_func ("/headless/router-link", test_router_link);
  status = g_test_run ();
  login_args_clear ();
  return status;
}
