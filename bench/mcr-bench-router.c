/* mcr-bench-router.c: the router under test as a child process, and what
 * /proc says about a process
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-bench"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mcr-bench.h"

#define START_TIMEOUT_S 180

struct _McrBenchRouter
{
  GSubprocess      *process;
  int               pid;
  GDataInputStream *out;
  GArray           *maps;        /* McrBenchMapLine */
  GPtrArray        *lines;       /* everything it printed on stdout */
  gboolean          eof;
  gboolean          exited;
  GMainContext     *context;
  GCancellable     *cancellable;
  guint64           nofile;
};

/* ---- /proc ---- */

static gboolean
read_schedstat (int      pid,
                guint64 *cpu_ns,
                guint64 *runs,
                guint   *n_threads)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%d/task", pid);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  *cpu_ns = *runs = 0;
  *n_threads = 0;
  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s/schedstat", dir_path, name);
      g_autofree char *text = NULL;
      guint64 run_ns = 0, wait_ns = 0, slices = 0;

      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;
      if (sscanf (text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                  &run_ns, &wait_ns, &slices) == 3)
        {
          *cpu_ns += run_ns;
          *runs += slices;
          (*n_threads)++;
        }
    }
  return TRUE;
}

static guint
count_fds (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", pid);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static guint64
status_kib (const char *status,
            const char *key)
{
  const char *p = strstr (status, key);

  return p != NULL ? g_ascii_strtoull (p + strlen (key), NULL, 10) : 0;
}

gboolean
mcr_bench_proc_stat (int               pid,
                     McrBenchProcStat *stat)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *status_path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  g_autofree char *status = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_comm;

  memset (stat, 0, sizeof *stat);
  if (!g_file_get_contents (stat_path, &text, NULL, NULL)
      || !g_file_get_contents (status_path, &status, NULL, NULL))
    return FALSE;
  /* Fields after "(comm)": state is field 3, utime 14, stime 15. */
  after_comm = strrchr (text, ')');
  if (after_comm == NULL)
    return FALSE;
  fields = g_strsplit (after_comm + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return FALSE;
  stat->cpu_ticks = g_ascii_strtoull (fields[11], NULL, 10)
                    + g_ascii_strtoull (fields[12], NULL, 10);
  stat->vm_hwm_kib = status_kib (status, "\nVmHWM:");
  stat->vm_rss_kib = status_kib (status, "\nVmRSS:");
  stat->rss_anon_kib = status_kib (status, "\nRssAnon:");
  stat->rss_file_kib = status_kib (status, "\nRssFile:");
  read_schedstat (pid, &stat->cpu_ns, &stat->runs, &stat->n_threads);
  stat->n_fds = count_fds (pid);
  return TRUE;
}

double
mcr_bench_ticks_to_seconds (guint64 ticks)
{
  static long hz;

  if (hz == 0)
    hz = sysconf (_SC_CLK_TCK);
  return (double) ticks / (double) hz;
}

/* ---- what the router prints ---- */

/* The number right after the first loopback or any-address "HOST:". */
static gboolean
find_local_port (const char  *line,
                 guint16     *port,
                 const char **end)
{
  static const char *hosts[] = { "127.0.0.1:", "localhost:", "0.0.0.0:", "[::1]:", "[::]:", "*:" };

  for (gsize i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      const char *p = strstr (line, hosts[i]);
      char *num_end;
      guint64 v;

      if (p == NULL)
        continue;
      p += strlen (hosts[i]);
      v = g_ascii_strtoull (p, &num_end, 10);
      if (num_end == p || v == 0 || v > 65535)
        continue;
      *port = (guint16) v;
      *end = num_end;
      return TRUE;
    }
  return FALSE;
}

/* A map's line names its local port as 127.0.0.1:PORT (or another
 * loopback/any address) and, somewhere after it, the remote port as the last
 * number standing alone after ':' or a space. "UDP" anywhere makes it a UDP
 * map. Lines without both are not map lines. */
gboolean
mcr_bench_parse_map_line (const char      *line,
                          McrBenchMapLine *map)
{
  g_autofree char *upper = g_ascii_strup (line, -1);
  const char *local_end;
  guint16 local;
  guint64 remote = 0;

  if (!find_local_port (line, &local, &local_end))
    return FALSE;
  for (const char *p = line + 1; *p != '\0'; p++)
    {
      char *end;
      guint64 v;

      if (!g_ascii_isdigit (*p) || (p[-1] != ':' && p[-1] != ' '))
        continue;
      v = g_ascii_strtoull (p, &end, 10);
      if (end != local_end && !g_ascii_isalnum (*end) && *end != '.' && v > 0 && v <= 65535)
        remote = v;
      p = end - 1;
    }
  if (remote == 0)
    return FALSE;
  map->local_port = local;
  map->remote_port = (guint16) remote;
  map->protocol = strstr (upper, "UDP") != NULL ? MCR_PROTOCOL_UDP : MCR_PROTOCOL_TCP;
  return TRUE;
}

/* ---- the child process ---- */

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  McrBenchRouter *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  McrBenchMapLine map;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL,
                                                    &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (line == NULL)
    {
      self->eof = TRUE;
      return;
    }
  g_ptr_array_add (self->lines, g_strdup (line));
  if (mcr_bench_parse_map_line (line, &map))
    g_array_append_val (self->maps, map);
  g_data_input_stream_read_line_async (self->out, G_PRIORITY_DEFAULT, self->cancellable, on_line,
                                       self);
}

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  McrBenchRouter *self = user_data;

  if (g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL))
    self->exited = TRUE;
}

static void
child_setup (gpointer user_data)
{
  McrBenchRouter *self = user_data;
  struct rlimit lim;

  /* A driver that dies (killed, crashed) takes its router along; its own
   * process group lets stop() reach a router run under a wrapper (strace,
   * perf) too. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  setpgid (0, 0);
  if (self->nofile == 0 || getrlimit (RLIMIT_NOFILE, &lim) < 0)
    return;
  lim.rlim_cur = MIN ((rlim_t) self->nofile, lim.rlim_max);
  setrlimit (RLIMIT_NOFILE, &lim);
}

static gboolean
on_start_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static char *
tail_of_file (const char *path,
              gsize       max)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return g_strdup ("");
  return g_strdup (len > max ? text + len - max : text);
}

McrBenchRouter *
mcr_bench_router_start (const char    *wrapper,
                        const char    *router_path,
                        const char    *address,
                        const char    *user,
                        const char    *password,
                        const char    *cert_hash,
                        const char    *node_id,
                        GPtrArray     *map_args,
                        guint          n_maps,
                        guint64        nofile,
                        const char    *log_path,
                        GMainContext  *context,
                        GError       **error)
{
  McrBenchRouter *self = g_new0 (McrBenchRouter, 1);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  gboolean timed_out = FALSE;
  GSource *timeout;

  self->context = g_main_context_ref (context);
  self->maps = g_array_new (FALSE, TRUE, sizeof (McrBenchMapLine));
  self->lines = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();
  self->nofile = nofile;

  if (wrapper != NULL && *wrapper != '\0')
    {
      g_auto(GStrv) words = NULL;

      if (!g_shell_parse_argv (wrapper, NULL, &words, error))
        {
          mcr_bench_router_free (self);
          return NULL;
        }
      for (char **w = words; *w != NULL; w++)
        g_ptr_array_add (argv, g_strdup (*w));
    }
  g_ptr_array_add (argv, g_strdup (router_path));
  g_ptr_array_add (argv, g_strdup ("--headless"));
  g_ptr_array_add (argv, g_strdup_printf ("-host:%s", address));
  g_ptr_array_add (argv, g_strdup_printf ("-user:%s", user));
  g_ptr_array_add (argv, g_strdup_printf ("-certhash:%s", cert_hash));
  for (guint i = 0; i < map_args->len; i++)
    g_ptr_array_add (argv, g_strdup (g_ptr_array_index (map_args, i)));
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_setenv (launcher, "MCROUTER_PASSWORD", password, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "DISPLAY");
  g_subprocess_launcher_unsetenv (launcher, "WAYLAND_DISPLAY");
  g_subprocess_launcher_set_stderr_file_path (launcher, log_path);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, self, NULL);
  self->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata,
                                                error);
  if (self->process == NULL)
    {
      mcr_bench_router_free (self);
      return NULL;
    }
  self->pid = (int) g_ascii_strtoll (g_subprocess_get_identifier (self->process), NULL, 10);
  self->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  g_data_input_stream_read_line_async (self->out, G_PRIORITY_DEFAULT, self->cancellable, on_line,
                                       self);
  g_subprocess_wait_async (self->process, self->cancellable, on_exited, self);

  timeout = g_timeout_source_new_seconds (START_TIMEOUT_S);
  g_source_set_callback (timeout, on_start_timeout, &timed_out, NULL);
  g_source_attach (timeout, context);
  while (!timed_out && !self->exited && !self->eof && self->maps->len < n_maps)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);

  if (self->maps->len < n_maps)
    {
      g_autofree char *tail = tail_of_file (log_path, 1500);
      g_autoptr(GString) printed = g_string_new (NULL);

      for (guint i = 0; i < self->lines->len; i++)
        g_string_append_printf (printed, "  %s\n", (char *) g_ptr_array_index (self->lines, i));

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the router %s with %u of %u maps listening.\n"
                   "Its output:\n%sThe end of its log (%s):\n%s",
                   timed_out ? "timed out" : "ended", self->maps->len, n_maps,
                   printed->str, log_path, tail);
      g_free (mcr_bench_router_stop (self));
      mcr_bench_router_free (self);
      return NULL;
    }
  return self;
}

int
mcr_bench_router_get_pid (McrBenchRouter *self)
{
  return self->pid;
}

guint16
mcr_bench_router_get_local_port (McrBenchRouter *self,
                                 McrProtocol     protocol,
                                 guint16         remote_port)
{
  for (guint i = 0; i < self->maps->len; i++)
    {
      McrBenchMapLine *m = &g_array_index (self->maps, McrBenchMapLine, i);

      if (m->protocol == protocol && m->remote_port == remote_port)
        return m->local_port;
    }
  return 0;
}

guint
mcr_bench_router_get_n_maps (McrBenchRouter *self)
{
  return self->maps->len;
}

gboolean
mcr_bench_router_is_running (McrBenchRouter *self)
{
  return self->process != NULL && !self->exited;
}

static gboolean
is_exited (gpointer data)
{
  return ((McrBenchRouter *) data)->exited;
}

char *
mcr_bench_router_stop (McrBenchRouter *self)
{
  gint64 end;
  int status;

  if (self->process == NULL)
    return g_strdup ("not started");
  if (!self->exited)
    {
      if (kill (-self->pid, SIGTERM) < 0)
        g_subprocess_send_signal (self->process, SIGTERM);
      end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      while (!is_exited (self) && g_get_monotonic_time () < end)
        g_main_context_iteration (self->context, FALSE) || (g_usleep (10000), TRUE);
      if (!self->exited)
        {
          kill (-self->pid, SIGKILL);
          g_subprocess_force_exit (self->process);
          while (!self->exited)
            g_main_context_iteration (self->context, TRUE);
          return g_strdup ("killed: it did not stop within 5 s of SIGTERM");
        }
    }
  status = g_subprocess_get_status (self->process);
  if (g_subprocess_get_if_signaled (self->process))
    return g_strdup_printf ("ended by signal %d", g_subprocess_get_term_sig (self->process));
  return g_strdup_printf ("exit status %d", WEXITSTATUS (status));
}

void
mcr_bench_router_free (McrBenchRouter *self)
{
  g_cancellable_cancel (self->cancellable);
  /* Let the cancelled reads finish before the data they point at goes
   * (what is pending now; bounded, should a source never rest). */
  for (guint i = 0; i < 10000 && g_main_context_iteration (self->context, FALSE); i++)
    ;
  g_clear_object (&self->out);
  g_clear_object (&self->process);
  g_clear_object (&self->cancellable);
  g_array_unref (self->maps);
  g_ptr_array_unref (self->lines);
  g_main_context_unref (self->context);
  g_free (self);
}
