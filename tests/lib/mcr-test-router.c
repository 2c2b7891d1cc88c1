/* mcr-test-router.c: the built meshcentral-router as a child process, for
 * the tests of its command line
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-test-router"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "mcr-test-router.h"
#include "mcr-testbed.h"

void
mcr_test_router_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

GSubprocessLauncher *
mcr_test_router_launcher_new (GSubprocessFlags  flags,
                              const char       *password)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_unsetenv (launcher, "MCROUTER_PASSWORD");
  if (password != NULL)
    g_subprocess_launcher_setenv (launcher, "MCROUTER_PASSWORD", password, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "DISPLAY");
  g_subprocess_launcher_unsetenv (launcher, "WAYLAND_DISPLAY");
  g_subprocess_launcher_set_child_setup (launcher, mcr_test_router_child_setup, NULL, NULL);
  return launcher;
}

GSubprocess *
mcr_test_router_spawn (GSubprocessLauncher *launcher,
                       const char *const   *args)
{
  g_autofree char *program = g_build_filename (MCR_BUILD_ROOT, "src", "meshcentral-router",
                                               NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_ptr_array_add (argv, program);
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  return process;
}

static void read_next (McrTestRouter *r, gboolean err);

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  McrTestRouter *r = user_data;
  gboolean err = G_DATA_INPUT_STREAM (source) == r->err;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, NULL);

  if (line == NULL)
    {
      if (err)
        r->err_eof = TRUE;
      else
        r->out_eof = TRUE;
      return;
    }
  if (r->log_lines)
    g_test_message ("%s: %s", err ? "stderr" : "stdout", line);
  g_string_append_printf (err ? r->err_text : r->out_text, "%s\n", line);
  if (!err)
    g_ptr_array_add (r->out_lines, g_steal_pointer (&line));
  read_next (r, err);
}

static void
read_next (McrTestRouter *r,
           gboolean       err)
{
  g_data_input_stream_read_line_async (err ? r->err : r->out, G_PRIORITY_DEFAULT, NULL, on_line,
                                       r);
}

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  McrTestRouter *r = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  r->exited = TRUE;
}

McrTestRouter *
mcr_test_router_start_piped (const char *const *args,
                             const char        *password)
{
  g_autoptr(GSubprocessLauncher) launcher =
    mcr_test_router_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                  password);

  return mcr_test_router_start (launcher, args, TRUE);
}

McrTestRouter *
mcr_test_router_start (GSubprocessLauncher *launcher,
                       const char *const   *args,
                       gboolean             log_lines)
{
  McrTestRouter *r = g_new0 (McrTestRouter, 1);

  r->process = mcr_test_router_spawn (launcher, args);
  r->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (r->process));
  r->err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (r->process));
  r->out_lines = g_ptr_array_new_with_free_func (g_free);
  r->out_text = g_string_new (NULL);
  r->err_text = g_string_new (NULL);
  r->log_lines = log_lines;
  read_next (r, FALSE);
  read_next (r, TRUE);
  g_subprocess_wait_async (r->process, NULL, on_exited, r);
  return r;
}

typedef struct
{
  McrTestRouter *r;
  guint          lines;
} LineWait;

static gboolean
has_lines (gpointer data)
{
  LineWait *w = data;

  return w->r->out_lines->len >= w->lines || w->r->exited;
}

void
mcr_test_router_wait_lines (McrTestRouter *r,
                            guint          lines)
{
  LineWait w = { r, lines };

  g_assert_true (mcr_test_wait_until (has_lines, &w, 60000));
  g_assert_false (r->exited);
}

static void
read_to_eof (McrTestRouter *r)
{
  /* The pipes close with the program (10 s: only a child it left behind
   * could hold them open). */
  mcr_test_assert_wait (r->out_eof && r->err_eof, 10000);
}

int
mcr_test_router_wait (McrTestRouter *r,
                      guint          timeout_ms)
{
  if (!mcr_test_wait_flag (&r->exited, timeout_ms))
    g_error ("meshcentral-router did not exit");
  read_to_eof (r);
  g_assert_true (g_subprocess_get_if_exited (r->process));
  return g_subprocess_get_exit_status (r->process);
}

int
mcr_test_router_stop (McrTestRouter *r,
                      guint          timeout_ms)
{
  g_subprocess_send_signal (r->process, SIGTERM);
  return mcr_test_router_wait (r, timeout_ms);
}

guint16
mcr_test_router_port_of (McrTestRouter *r,
                         const char    *prefix,
                         const char    *suffix)
{
  for (guint i = 0; i < r->out_lines->len; i++)
    {
      const char *line = g_ptr_array_index (r->out_lines, i);

      if (g_str_has_prefix (line, prefix) && g_str_has_suffix (line, suffix))
        return (guint16) g_ascii_strtoull (line + strlen (prefix), NULL, 10);
    }
  g_error ("no line of meshcentral-router's output starts with “%s” and ends with “%s”", prefix,
           suffix);
  return 0;
}

void
mcr_test_router_free (McrTestRouter *r)
{
  if (!r->exited)
    {
      g_subprocess_force_exit (r->process);
      mcr_test_assert_wait (r->exited, 10000);  /* SIGKILL: at once */
    }
  read_to_eof (r);
  g_object_unref (r->out);
  g_object_unref (r->err);
  g_object_unref (r->process);
  g_ptr_array_unref (r->out_lines);
  g_string_free (r->out_text, TRUE);
  g_string_free (r->err_text, TRUE);
  g_free (r);
}
