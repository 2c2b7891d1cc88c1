/* mcr-bench.c: the benchmark driver — port maps of the headless router next
 * to the relay ceiling and direct TCP, in one run, as one table
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * bench/run starts the testbed and calls this; see README.md, "Benchmarks".
 * The agent-side services run in this process on 127.0.0.1; the agent reaches
 * them through loopback. Each group of measurements gets a fresh router
 * process, so that its peak RSS (VmHWM, which cannot be reset) belongs to
 * that group alone.
 */
#define G_LOG_DOMAIN "mcr-bench"

#include "config.h"

#include <json-glib/json-glib.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mcr-bench.h"
#include "mcr-server.h"

#define MIB (1024 * 1024)

typedef enum
{
  TARGET_NONE,
  TARGET_RATIO_RELAY,  /* map ≥ factor × relay (higher is better) */
  TARGET_RELAY_PLUS,   /* map ≤ relay + margin (lower is better) */
  TARGET_AT_MOST,      /* map ≤ limit */
  TARGET_EXACT,        /* map byte-exact */
} TargetKind;

typedef struct
{
  char      *name;
  char      *unit;
  gboolean   have[MCR_BENCH_N_PATHS];
  double     value[MCR_BENCH_N_PATHS];
  char      *error[MCR_BENCH_N_PATHS];
  TargetKind target;
  double     target_value;
  gboolean   exact_needed;  /* the map figure must be byte-exact too */
  gboolean   map_exact;
  char      *note;
  int        decimals;
  GArray    *samples[MCR_BENCH_N_PATHS]; /* repeated runs: value is their median */
} Row;

typedef struct
{
  /* options */
  char            *testbed_env;
  char            *router_path;
  char            *router_wrapper;
  char            *out_dir;
  char            *label;
  gboolean         quick;
  char           **only;
  char           **paths;
  char           **directions;
  gint64           router_nofile;

  /* sizes */
  guint64          bulk_bytes;
  guint            ttfb_count;
  guint            conns_small;
  guint            conns_large;
  guint64          conn_bytes;
  gint             conn_opening;
  guint            udp_count;
  gsize            udp_size;
  guint            udp_window;
  guint            idle_maps;
  guint            idle_seconds;
  gint             repeat;

  /* testbed */
  GHashTable      *env;
  char            *address;
  int              server_pid;
  int              agent_pid;
  rlim_t           nofile_start;

  GMainContext    *context;
  McrBenchServices *services;
  McrBenchClient  *client;
  McrServer       *server;
  McrDevice       *devices[MCR_BENCH_MAX_ALT]; /* the testbed's agents, the first one first */
  guint            n_devices;
  McrBenchRouter  *shared_router;   /* parallel, ttfb, 200 connections, UDP */
  guint            n_routers;

  GPtrArray       *rows;
  JsonBuilder     *extra;           /* details for results.json */
  char             load_before[64];
} Bench;

static const char *path_names[] = { "direct", "relay", "map" };

/* ---- small things ---- */

static void
say (const char *format,
     ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *format,
     ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("bench: %s\n", text);
}

static G_GNUC_NORETURN void
die (const char *format,
     ...) G_GNUC_PRINTF (1, 2);

static void
die (const char *format,
     ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("mcr-bench: %s\n", text);
  exit (1);
}

static void
read_loadavg (char  *buf,
              gsize  size)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) parts = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    {
      g_strlcpy (buf, "?", size);
      return;
    }
  parts = g_strsplit (text, " ", 4);
  g_snprintf (buf, size, "%s %s %s", parts[0], parts[1], parts[2]);
}

static gboolean
wanted (Bench      *b,
        const char *name)
{
  return b->only == NULL || g_strv_contains ((const char *const *) b->only, name);
}

static gboolean
path_wanted (Bench        *b,
             McrBenchPath  path)
{
  return b->paths == NULL || g_strv_contains ((const char *const *) b->paths, path_names[path]);
}

static gboolean
mode_wanted (Bench        *b,
             McrBenchMode  mode)
{
  return b->directions == NULL
         || g_strv_contains ((const char *const *) b->directions,
                             mode == MCR_BENCH_UPLOAD ? "up" : "down");
}

static Row *
row_new (Bench      *b,
         const char *name,
         const char *unit,
         int         decimals)
{
  Row *row = g_new0 (Row, 1);

  row->name = g_strdup (name);
  row->unit = g_strdup (unit);
  row->decimals = decimals;
  g_ptr_array_add (b->rows, row);
  return row;
}

static void
row_set (Row          *row,
         McrBenchPath  path,
         double        value)
{
  row->have[path] = TRUE;
  row->value[path] = value;
}

static int compare_double (gconstpointer a,
                           gconstpointer b);

static double
median (GArray *values)
{
  g_autoptr(GArray) sorted = g_array_copy (values);
  guint n = sorted->len;

  g_array_sort (sorted, compare_double);
  if (n % 2 == 1)
    return g_array_index (sorted, double, n / 2);
  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
}

/* One of several runs; the row shows their median. */
static void
row_add_sample (Row          *row,
                McrBenchPath  path,
                double        value)
{
  if (row->samples[path] == NULL)
    row->samples[path] = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_val (row->samples[path], value);
  row_set (row, path, median (row->samples[path]));
}

static void
row_fail (Row          *row,
          McrBenchPath  path,
          const char   *error)
{
  g_free (row->error[path]);
  row->error[path] = g_strdup (error);
}

static void
row_note (Row        *row,
          const char *format,
          ...) G_GNUC_PRINTF (2, 3);

static void
row_note (Row        *row,
          const char *format,
          ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  if (row->note == NULL)
    row->note = g_steal_pointer (&text);
  else
    {
      char *joined = g_strdup_printf ("%s; %s", row->note, text);

      g_free (row->note);
      row->note = joined;
    }
}

/* ---- the testbed and the login for the relay ceiling ---- */

static GHashTable *
read_env_file (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  GHashTable *env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (!g_file_get_contents (path, &text, NULL, &error))
    die ("%s", error->message);
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      char *eq = strchr (*l, '=');
      g_autofree char *value = NULL;

      if (eq == NULL || **l == '#')
        continue;
      value = g_strdup (eq + 1);
      g_strstrip (value);
      if (value[0] == '\'' || value[0] == '"')
        {
          gsize len = strlen (value);

          if (len >= 2 && value[len - 1] == value[0])
            value[len - 1] = '\0';
          memmove (value, value + 1, strlen (value));
        }
      g_hash_table_insert (env, g_strndup (*l, (gsize) (eq - *l)), g_steal_pointer (&value));
    }
  return env;
}

static const char *
env_get (Bench      *b,
         const char *key)
{
  const char *value = g_hash_table_lookup (b->env, key);

  if (value == NULL)
    die ("%s has no %s", b->testbed_env, key);
  return value;
}

static int
read_pid_file (const char *dir,
               const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  return (int) g_ascii_strtoll (text, NULL, 10);
}

typedef struct
{
  gboolean done;
  gboolean ok;
  GError  *error;
} Wait;

static void
on_login (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Wait *w = user_data;

  w->ok = mcr_server_login_finish (MCR_SERVER (source), result, NULL, &w->error);
  w->done = TRUE;
}

static void
iterate_for (Bench  *b,
             guint   ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (b->context, FALSE))
      g_usleep (5000);
}

static void
add_device (Bench      *b,
            const char *node_id)
{
  McrDevice *device = NULL;
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end
         && ((device = mcr_server_lookup_device (b->server, node_id)) == NULL
             || !mcr_device_get_online (device)))
    iterate_for (b, 50);
  if (device == NULL || !mcr_device_get_online (device))
    die ("the testbed's device %s is not online", node_id);
  b->devices[b->n_devices++] = g_object_ref (device);
}

static void
login (Bench *b)
{
  g_auto(GStrv) extra = NULL;
  g_autoptr(GError) error = NULL;
  McrCredentials credentials = { .user = env_get (b, "MCR_TEST_USER"),
                                 .password = env_get (b, "MCR_TEST_PASS") };
  const char *node_id = env_get (b, "MCR_TEST_NODEID");
  Wait w = { 0 };
  gint64 end;

  b->server = mcr_server_new (b->address, &error);
  if (b->server == NULL)
    die ("%s", error->message);
  mcr_tls_policy_add_pinned_hash (mcr_server_get_tls_policy (b->server),
                                  env_get (b, "MCR_TEST_CERTHASH"));
  mcr_server_login_async (b->server, &credentials, NULL, on_login, &w);
  /* The login gives up by itself after its own timeout (30 s). */
  end = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;
  while (!w.done && g_get_monotonic_time () < end)
    iterate_for (b, 50);
  if (!w.done)
    die ("no answer to the login at %s within 90 s", b->address);
  if (!w.ok)
    die ("cannot log into %s: %s", b->address, w.error->message);

  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end
         && (!mcr_server_get_devices_loaded (b->server)
             || mcr_server_get_auth_cookie (b->server) == NULL
             || mcr_server_lookup_device (b->server, node_id) == NULL
             || !mcr_device_get_online (mcr_server_lookup_device (b->server, node_id))))
    iterate_for (b, 50);
  if (mcr_server_get_auth_cookie (b->server) == NULL)
    die ("the server sent no relay auth cookie");
  extra = g_strsplit (g_hash_table_lookup (b->env, "MCR_TEST_EXTRA_NODEIDS") ?: "", " ", -1);
  add_device (b, node_id);
  for (char **id = extra; *id != NULL && b->n_devices < MCR_BENCH_MAX_ALT; id++)
    if (**id != '\0')
      add_device (b, *id);
}

/* ---- routers ---- */

static void
add_map (GPtrArray   *args,
         McrProtocol  protocol,
         const char  *node_id,
         guint16      remote_port)
{
  g_ptr_array_add (args, g_strdup_printf ("-map:%s:0:%s::%u",
                                          protocol == MCR_PROTOCOL_UDP ? "UDP" : "TCP",
                                          node_id, remote_port));
}

/* The maps of most groups: to the sink, source and echo (and UDP echo). */
static GPtrArray *
standard_maps (Bench    *b,
               gboolean  with_udp)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);
  const char *node_id = mcr_device_get_id (b->devices[0]);

  add_map (args, MCR_PROTOCOL_TCP, node_id,
           mcr_bench_services_get_port (b->services, MCR_BENCH_SERVICE_SINK));
  add_map (args, MCR_PROTOCOL_TCP, node_id,
           mcr_bench_services_get_port (b->services, MCR_BENCH_SERVICE_SOURCE));
  add_map (args, MCR_PROTOCOL_TCP, node_id, mcr_bench_services_get_echo_port (b->services, 0));
  if (with_udp)
    add_map (args, MCR_PROTOCOL_UDP, node_id, mcr_bench_services_get_udp_port (b->services));
  return args;
}

/* One map per device, to echo service i on device i (the port tells them
 * apart). */
static GPtrArray *
spread_maps (Bench *b)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < b->n_devices; i++)
    add_map (args, MCR_PROTOCOL_TCP, mcr_device_get_id (b->devices[i]),
             mcr_bench_services_get_echo_port (b->services, i));
  return args;
}

static McrBenchRouter *
start_router (Bench      *b,
              const char *purpose,
              GPtrArray  *args)
{
  g_autoptr(GPtrArray) owned = args;
  g_autoptr(GError) error = NULL;
  g_autofree char *log_name = g_strdup_printf ("router-%u-%s.log", ++b->n_routers, purpose);
  g_autofree char *log_path = g_build_filename (b->out_dir, log_name, NULL);
  McrBenchRouter *router;

  say ("starting the router (%s, %u maps)", purpose, args->len);
  router = mcr_bench_router_start (b->router_wrapper, b->router_path, b->address,
                                   env_get (b, "MCR_TEST_USER"),
                                   env_get (b, "MCR_TEST_PASS"), env_get (b, "MCR_TEST_CERTHASH"),
                                   mcr_device_get_id (b->devices[0]), args, args->len,
                                   (guint64) b->router_nofile, log_path, b->context, &error);
  if (router == NULL)
    say ("the router did not come up: %s", error->message);
  return router;
}

static void
stop_router (Bench          *b,
             McrBenchRouter *router)
{
  g_autofree char *how = NULL;

  if (router == NULL)
    return;
  how = mcr_bench_router_stop (router);
  say ("router stopped: %s", how);
  mcr_bench_router_free (router);
}

static McrBenchTarget
target_for (Bench           *b,
            McrBenchPath     path,
            McrBenchRouter  *router,
            McrProtocol      protocol,
            guint16          service_port)
{
  McrBenchTarget t = { .path = path, .n_alt = 1, .server = b->server };

  t.device[0] = b->devices[0];
  t.remote_port[0] = t.port[0] = service_port;
  if (path == MCR_BENCH_PATH_MAP)
    t.port[0] = router != NULL ? mcr_bench_router_get_local_port (router, protocol, service_port)
                               : 0;
  return t;
}

/* Connections spread over every device of the testbed (see spread_maps()). */
static McrBenchTarget
target_spread (Bench          *b,
               McrBenchPath    path,
               McrBenchRouter *router)
{
  McrBenchTarget t = { .path = path, .n_alt = b->n_devices, .server = b->server };

  for (guint i = 0; i < b->n_devices; i++)
    {
      guint16 echo = mcr_bench_services_get_echo_port (b->services, i);

      t.device[i] = b->devices[i];
      t.remote_port[i] = t.port[i] = echo;
      if (path == MCR_BENCH_PATH_MAP)
        t.port[i] = router != NULL
                    ? mcr_bench_router_get_local_port (router, MCR_PROTOCOL_TCP, echo) : 0;
    }
  return t;
}

static gboolean
target_ready (const McrBenchTarget *t)
{
  for (guint i = 0; i < t->n_alt; i++)
    if (t->port[i] == 0)
      return FALSE;
  return TRUE;
}

/* ---- sampling the router while it works ---- */

/* Peak fds and RSS of the router (0), the agent (1) and the server (2). */
typedef struct
{
  int      pid[3];
  guint    max_fds[3];
  guint64  max_rss_kib[3];
  GSource *source;
} Sampler;

static gboolean
on_sample (gpointer user_data)
{
  Sampler *s = user_data;
  McrBenchProcStat st;

  for (int i = 0; i < 3; i++)
    if (s->pid[i] > 0 && mcr_bench_proc_stat (s->pid[i], &st))
      {
        s->max_fds[i] = MAX (s->max_fds[i], st.n_fds);
        s->max_rss_kib[i] = MAX (s->max_rss_kib[i], st.vm_rss_kib);
      }
  return G_SOURCE_CONTINUE;
}

static void
sampler_start (Bench   *b,
               Sampler *s,
               int      router_pid)
{
  memset (s, 0, sizeof *s);
  s->pid[0] = router_pid;
  s->pid[1] = b->agent_pid;
  s->pid[2] = b->server_pid;
  s->source = g_timeout_source_new (100);
  g_source_set_callback (s->source, on_sample, s, NULL);
  g_source_attach (s->source, b->context);
}

static void
sampler_stop (Sampler *s)
{
  on_sample (s);
  g_source_destroy (s->source);
  g_source_unref (s->source);
}

static guint64
soft_nofile_of (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/limits", pid);
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL)
      || (p = strstr (text, "Max open files")) == NULL)
    return 0;
  return g_ascii_strtoull (p + strlen ("Max open files"), NULL, 10);
}

/* ---- the measurements ---- */

static void
on_report (const McrBenchReport *report,
           gpointer              user_data)
{
  Bench *b = user_data;

  mcr_bench_client_report (b->client, report);
}

static double
mb_per_s (const McrBenchRunResult *r)
{
  gint64 us = r->t_last_byte - r->t_first_byte;

  return us > 0 ? (double) r->bytes / (double) us : 0.0;
}

/* One run; its MB/s goes into @row as one sample. */
static gboolean
measure_transfer (Bench          *b,
                  Row            *row,
                  McrBenchPath    path,
                  McrBenchRouter *router,
                  McrBenchMode    mode,
                  guint           n_streams)
{
  McrBenchServiceKind kind = mode == MCR_BENCH_UPLOAD ? MCR_BENCH_SERVICE_SINK
                             : MCR_BENCH_SERVICE_SOURCE;
  McrBenchTarget target = target_for (b, path, router, MCR_PROTOCOL_TCP,
                                      mcr_bench_services_get_port (b->services, kind));
  McrBenchRunSpec spec = { .mode = mode, .n_streams = n_streams,
                           .bytes_each = b->bulk_bytes / n_streams,
                           .timeout_s = (guint) (60 + b->bulk_bytes / MIB) };
  McrBenchRunResult r;
  g_autofree char *what = NULL;
  gboolean ok;

  if (!path_wanted (b, path) || !mode_wanted (b, mode))
    return TRUE;
  if (path == MCR_BENCH_PATH_MAP && !target_ready (&target))
    {
      row_fail (row, path, "no router");
      return FALSE;
    }
  mcr_bench_client_run (b->client, &target, &spec, &r);
  ok = r.ok;
  if (ok)
    row_add_sample (row, path, mb_per_s (&r));
  else
    row_fail (row, path, r.error);
  if (path == MCR_BENCH_PATH_MAP)
    row->map_exact = ok && (row->map_exact || row->samples[path]->len == 1);
  what = !ok ? g_strdup (r.error)
         : mode == MCR_BENCH_DOWNLOAD ? g_strdup_printf ("%.1f MB/s (%.1f KiB per read)",
                                                         mb_per_s (&r),
                                                         r.bytes / 1024.0 / MAX (r.pieces, 1))
         : g_strdup_printf ("%.1f MB/s", mb_per_s (&r));
  say ("%-34s %-6s %s", row->name, path_names[path], what);
  mcr_bench_run_result_clear (&r);
  return ok;
}

static double
proc_cpu_seconds (int pid)
{
  McrBenchProcStat st;

  if (pid <= 0 || !mcr_bench_proc_stat (pid, &st))
    return 0;
  return mcr_bench_ticks_to_seconds (st.cpu_ticks);
}

/* CPU time of this thread (the client side; the services have their own). */
static double
own_thread_cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* CPU time of the whole driver, with the worker threads GLib runs TLS
 * handshakes in. */
static double
own_process_cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
relay_side_cpu_seconds (Bench *b)
{
  return proc_cpu_seconds (b->server_pid) + proc_cpu_seconds (b->agent_pid);
}

static void
note_spread (Row *row)
{
  for (McrBenchPath p = MCR_BENCH_PATH_RELAY; p < MCR_BENCH_N_PATHS; p++)
    if (row->samples[p] != NULL && row->samples[p]->len > 1)
      {
        g_autoptr(GArray) sorted = g_array_copy (row->samples[p]);

        g_array_sort (sorted, compare_double);
        row_note (row, "%s %.1f–%.1f over %u runs", path_names[p],
                  g_array_index (sorted, double, 0),
                  g_array_index (sorted, double, sorted->len - 1), sorted->len);
      }
}

/* Upload and download on one stream, @repeat times, the paths taking turns
 * so that all see the same load; router CPU and peak RSS from a router that
 * did nothing else. */
static void
phase_throughput (Bench *b)
{
  Row *up, *down, *cpu, *rss, *relay_cpu, *client_cpu;
  McrBenchRouter *router;
  McrBenchProcStat st;
  double client_up = 0, client_down = 0;
  double mib = (double) b->bulk_bytes / MIB;
  double cpu_up = 0, cpu_down = 0, relay_side[MCR_BENCH_N_PATHS] = { 0 };
  guint n_ok[MCR_BENCH_N_PATHS] = { 0 };
  gboolean all_ok = TRUE;
  char name[96];
  int pid;

  g_snprintf (name, sizeof name, "Upload, 1 stream × %.0f MiB", mib);
  up = row_new (b, name, "MB/s", 1);
  g_snprintf (name, sizeof name, "Download, 1 stream × %.0f MiB", mib);
  down = row_new (b, name, "MB/s", 1);
  up->target = down->target = TARGET_RATIO_RELAY;
  up->target_value = down->target_value = 0.95;
  up->exact_needed = down->exact_needed = TRUE;
  relay_cpu = row_new (b, "Server + agent CPU per GB moved", "s/GB", 2);
  client_cpu = row_new (b, "Relay-ceiling client CPU per GB (engine WebSocket, no local socket)",
                        "s/GB", 2);
  cpu = row_new (b, "Router CPU per GB moved (up + down)", "s/GB", 2);
  cpu->target = TARGET_AT_MOST;
  cpu->target_value = 1.0;
  g_snprintf (name, sizeof name, "Router peak RSS, %.0f MiB each way × %d", mib, b->repeat);
  rss = row_new (b, name, "MiB", 1);
  rss->target = TARGET_AT_MOST;
  rss->target_value = 32;

  router = start_router (b, "throughput", standard_maps (b, FALSE));
  if (router == NULL)
    for (Row **r = (Row *[]) { up, down, cpu, rss, NULL }; *r != NULL; r++)
      row_fail (*r, MCR_BENCH_PATH_MAP, "the router did not start");
  pid = router != NULL ? mcr_bench_router_get_pid (router) : 0;

  for (guint round = 0; round < (guint) b->repeat; round++)
    for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
      {
        double t0, t1, t2, s0, s1;
        gboolean up_ok, down_ok;

        if (p == MCR_BENCH_PATH_MAP && router == NULL)
          continue;
        s0 = relay_side_cpu_seconds (b);
        t0 = p == MCR_BENCH_PATH_MAP ? proc_cpu_seconds (pid) : own_thread_cpu_seconds ();
        up_ok = measure_transfer (b, up, p, router, MCR_BENCH_UPLOAD, 1);
        t1 = p == MCR_BENCH_PATH_MAP ? proc_cpu_seconds (pid) : own_thread_cpu_seconds ();
        down_ok = measure_transfer (b, down, p, router, MCR_BENCH_DOWNLOAD, 1);
        t2 = p == MCR_BENCH_PATH_MAP ? proc_cpu_seconds (pid) : own_thread_cpu_seconds ();
        s1 = relay_side_cpu_seconds (b);
        if (p == MCR_BENCH_PATH_RELAY)
          {
            client_up += t1 - t0;
            client_down += t2 - t1;
          }
        if (up_ok && down_ok && path_wanted (b, p) && mode_wanted (b, MCR_BENCH_UPLOAD)
            && mode_wanted (b, MCR_BENCH_DOWNLOAD))
          {
            relay_side[p] += s1 - s0;
            n_ok[p]++;
          }
        if (p == MCR_BENCH_PATH_MAP)
          {
            cpu_up += t1 - t0;
            cpu_down += t2 - t1;
            all_ok = all_ok && up_ok && down_ok;
          }
      }
  note_spread (up);
  note_spread (down);
  if (up->have[MCR_BENCH_PATH_DIRECT] && down->have[MCR_BENCH_PATH_DIRECT])
    row_note (up, "driver check: direct TCP %s 1000 MB/s both ways",
              MIN (up->value[0], down->value[0]) >= 1000 ? "≥" : "BELOW");
  for (McrBenchPath p = MCR_BENCH_PATH_RELAY; p < MCR_BENCH_N_PATHS; p++)
    if (n_ok[p] > 0)
      row_set (relay_cpu, p, relay_side[p] / (2.0 * n_ok[p] * (double) b->bulk_bytes / 1e9));
  row_note (relay_cpu, "information: where the relay's CPU goes (node + first agent)");
  if (n_ok[MCR_BENCH_PATH_RELAY] == (guint) b->repeat)
    {
      double gb = b->repeat * (double) b->bulk_bytes / 1e9;

      row_set (client_cpu, MCR_BENCH_PATH_RELAY, (client_up + client_down) / (2 * gb));
      row_note (client_cpu, "information: upload %.2f s/GB, download %.2f s/GB (the driver's "
                "client thread); what a tunnel costs without its local socket",
                client_up / gb, client_down / gb);
    }
  if (router == NULL)
    return;

  if (all_ok && path_wanted (b, MCR_BENCH_PATH_MAP) && mode_wanted (b, MCR_BENCH_UPLOAD)
      && mode_wanted (b, MCR_BENCH_DOWNLOAD))
    {
      double gb = b->repeat * (double) b->bulk_bytes / 1e9;

      row_set (cpu, MCR_BENCH_PATH_MAP, (cpu_up + cpu_down) / (2 * gb));
      row_note (cpu, "upload %.2f s/GB, download %.2f s/GB (utime+stime, /proc/PID/stat)",
                cpu_up / gb, cpu_down / gb);
      say ("router CPU: upload %.2f s/GB, download %.2f s/GB", cpu_up / gb, cpu_down / gb);
    }
  else if (!all_ok)
    row_fail (cpu, MCR_BENCH_PATH_MAP, "a transfer failed");
  if (mcr_bench_proc_stat (pid, &st))
    {
      row_set (rss, MCR_BENCH_PATH_MAP, (double) st.vm_hwm_kib / 1024.0);
      row_note (rss, "VmHWM of a fresh router that did only these transfers; at the end RssAnon "
                "%.1f MiB, RssFile %.1f MiB", st.rss_anon_kib / 1024.0, st.rss_file_kib / 1024.0);
    }
  stop_router (b, router);
}

static McrBenchRouter *
shared_router (Bench *b)
{
  if (b->shared_router == NULL)
    b->shared_router = start_router (b, "shared", standard_maps (b, TRUE));
  return b->shared_router;
}

static void
phase_parallel (Bench *b)
{
  static const guint counts[] = { 4, 16 };
  McrBenchRouter *router = shared_router (b);
  Row *up[G_N_ELEMENTS (counts)], *down[G_N_ELEMENTS (counts)];

  for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      double each = (double) b->bulk_bytes / counts[i] / MIB;
      char name[96];

      g_snprintf (name, sizeof name, "Upload, %u streams × %.0f MiB", counts[i], each);
      up[i] = row_new (b, name, "MB/s", 1);
      g_snprintf (name, sizeof name, "Download, %u streams × %.0f MiB", counts[i], each);
      down[i] = row_new (b, name, "MB/s", 1);
      up[i]->target = down[i]->target = TARGET_RATIO_RELAY;
      up[i]->target_value = down[i]->target_value = 0.95;
      up[i]->exact_needed = down[i]->exact_needed = TRUE;
    }
  for (guint round = 0; round < (guint) b->repeat; round++)
    for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
      for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
        {
          measure_transfer (b, up[i], p, router, MCR_BENCH_UPLOAD, counts[i]);
          measure_transfer (b, down[i], p, router, MCR_BENCH_DOWNLOAD, counts[i]);
        }
  for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      note_spread (up[i]);
      note_spread (down[i]);
    }
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

/* Nearest rank. */
static double
percentile (GArray *sorted,
            double  p)
{
  guint rank;

  if (sorted->len == 0)
    return NAN;
  rank = (guint) ceil (p / 100.0 * sorted->len);
  return g_array_index (sorted, double, CLAMP (rank, 1, sorted->len) - 1);
}

/* Fresh connections one at a time, the paths taking turns. */
static void
phase_ttfb (Bench *b)
{
  McrBenchRouter *router = shared_router (b);
  guint16 echo = mcr_bench_services_get_echo_port (b->services, 0);
  McrBenchRunSpec spec = { .mode = MCR_BENCH_ECHO, .n_streams = 1, .bytes_each = 1,
                           .timeout_s = 60 };
  GArray *times[MCR_BENCH_N_PATHS] = { NULL };
  GArray *paired[MCR_BENCH_N_PATHS] = { NULL };
  McrBenchProcStat st0 = { 0 }, st1 = { 0 };
  double relay_client_cpu = 0, c0;
  char *error[MCR_BENCH_N_PATHS] = { NULL };
  char name[96];
  Row *p50, *p95;

  g_snprintf (name, sizeof name, "First echoed byte, p50 of %u fresh connections", b->ttfb_count);
  p50 = row_new (b, name, "ms", 2);
  g_snprintf (name, sizeof name, "First echoed byte, p95 of %u fresh connections", b->ttfb_count);
  p95 = row_new (b, name, "ms", 2);
  p50->target = TARGET_RELAY_PLUS;
  p50->target_value = 1.0;
  p50->exact_needed = TRUE;

  for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
    {
      times[p] = g_array_new (FALSE, FALSE, sizeof (double));
      paired[p] = g_array_new (FALSE, FALSE, sizeof (double));
    }
  if (router != NULL)
    mcr_bench_proc_stat (mcr_bench_router_get_pid (router), &st0);
  for (guint i = 0; i < b->ttfb_count; i++)
    for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
      {
        McrBenchTarget target = target_for (b, p, router, MCR_PROTOCOL_TCP, echo);
        McrBenchRunResult r;

        if (error[p] != NULL)
          continue;
        if (p == MCR_BENCH_PATH_MAP && !target_ready (&target))
          {
            error[p] = g_strdup ("no router");
            continue;
          }
        c0 = own_process_cpu_seconds ();
        mcr_bench_client_run (b->client, &target, &spec, &r);
        if (p == MCR_BENCH_PATH_RELAY)
          relay_client_cpu += own_process_cpu_seconds () - c0;
        if (r.ok)
          {
            g_array_append_val (times[p], r.first_byte_ms[0]);
            g_array_append_val (paired[p], r.first_byte_ms[0]);
          }
        else
          error[p] = g_strdup_printf ("connection %u: %s", i + 1, r.error);
        mcr_bench_run_result_clear (&r);
      }
  for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
    {
      if (error[p] != NULL)
        {
          row_fail (p50, p, error[p]);
          row_fail (p95, p, error[p]);
          say ("%-34s %-6s %s", "first echoed byte", path_names[p], error[p]);
          g_free (error[p]);
          continue;
        }
      g_array_sort (times[p], compare_double);
      row_set (p50, p, percentile (times[p], 50));
      row_set (p95, p, percentile (times[p], 95));
      if (p == MCR_BENCH_PATH_MAP)
        p50->map_exact = TRUE;
      say ("%-34s %-6s p50 %.2f ms, p95 %.2f ms (min %.2f, max %.2f)", "first echoed byte",
           path_names[p], percentile (times[p], 50), percentile (times[p], 95),
           g_array_index (times[p], double, 0),
           g_array_index (times[p], double, times[p]->len - 1));
      if (p != MCR_BENCH_PATH_DIRECT)
        row_note (p50, "%s min %.2f, max %.2f", path_names[p], g_array_index (times[p], double, 0),
                  g_array_index (times[p], double, times[p]->len - 1));
    }
  if (router != NULL && error[MCR_BENCH_PATH_MAP] == NULL
      && mcr_bench_proc_stat (mcr_bench_router_get_pid (router), &st1))
    row_note (p50, "CPU per connection: router %.2f ms, relay-ceiling client %.2f ms",
              (double) (st1.cpu_ns - st0.cpu_ns) / 1e6 / b->ttfb_count,
              relay_client_cpu * 1e3 / b->ttfb_count);
  /* The relay's own setup time is bimodal (about 16 or 55 ms, decided by the
   * server and agent), so p50s of two samples can differ by chance; the
   * median of paired differences (back-to-back connections) is steadier. */
  if (error[MCR_BENCH_PATH_RELAY] == NULL && error[MCR_BENCH_PATH_MAP] == NULL
      && paired[MCR_BENCH_PATH_RELAY]->len == paired[MCR_BENCH_PATH_MAP]->len
      && paired[MCR_BENCH_PATH_MAP]->len > 0)
    {
      g_autoptr(GArray) diff = g_array_new (FALSE, FALSE, sizeof (double));

      for (guint i = 0; i < paired[MCR_BENCH_PATH_MAP]->len; i++)
        {
          double d = g_array_index (paired[MCR_BENCH_PATH_MAP], double, i)
                     - g_array_index (paired[MCR_BENCH_PATH_RELAY], double, i);

          g_array_append_val (diff, d);
        }
      row_note (p50, "median of paired differences map − relay %+.2f ms", median (diff));
    }
  for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
    {
      g_array_unref (times[p]);
      g_array_unref (paired[p]);
    }
}

static void
measure_conns (Bench          *b,
               McrBenchRouter *router,
               gboolean        spread,
               guint           n,
               Row            *row,
               guint          *router_fds)
{
  Sampler sampler;
  guint16 echo = mcr_bench_services_get_echo_port (b->services, 0);

  for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
    {
      McrBenchTarget target = spread ? target_spread (b, p, router)
                              : target_for (b, p, router, MCR_PROTOCOL_TCP, echo);
      McrBenchRunSpec spec = { .mode = MCR_BENCH_ECHO, .n_streams = n, .bytes_each = b->conn_bytes,
                               .hold_open = TRUE, .max_opening = (guint) b->conn_opening,
                               .timeout_s = 120 + n / 2 };
      McrBenchRunResult r;
      g_autofree char *what = NULL;

      if (p == MCR_BENCH_PATH_MAP && !target_ready (&target))
        {
          row_fail (row, p, "no router");
          continue;
        }
      if (p != MCR_BENCH_PATH_DIRECT)
        sampler_start (b, &sampler,
                       p == MCR_BENCH_PATH_MAP ? mcr_bench_router_get_pid (router) : 0);
      mcr_bench_client_run (b->client, &target, &spec, &r);
      if (p != MCR_BENCH_PATH_DIRECT)
        {
          sampler_stop (&sampler);
          row_note (row, "%s: first agent's peak %u fds", path_names[p], sampler.max_fds[1]);
          if (p == MCR_BENCH_PATH_MAP)
            *router_fds = sampler.max_fds[0];
        }
      if (r.ok)
        {
          row_set (row, p, (double) (r.t_end - r.t_start) / 1e6);
          what = g_strdup_printf ("%.2f s", (double) (r.t_end - r.t_start) / 1e6);
        }
      else
        {
          what = g_strdup_printf ("%u of %u byte-exact; %s", r.n_exact, n, r.error);
          row_fail (row, p, what);
        }
      if (p == MCR_BENCH_PATH_MAP)
        row->map_exact = r.ok;
      say ("%-34s %-6s %s (%u open at once)", row->name, path_names[p], what, r.max_open);
      mcr_bench_run_result_clear (&r);
      /* Let the services and the relay see every close before the next. */
      iterate_for (b, 1000);
    }
}

static void
phase_conns (Bench *b)
{
  char name[96];
  Row *small, *large, *rss;
  McrBenchRouter *router;
  guint router_fds = 0;
  McrBenchProcStat st;
  g_autofree char *opening = b->conn_opening > 0
    ? g_strdup_printf (" (≤ %d opening at a time)", b->conn_opening) : g_strdup (", all at once");

  g_snprintf (name, sizeof name, "%u concurrent connections, %" G_GUINT64_FORMAT
              " KiB echoed each%s", b->conns_small, b->conn_bytes / 1024, opening);
  small = row_new (b, name, "s", 2);
  small->target = TARGET_EXACT;
  measure_conns (b, shared_router (b), FALSE, b->conns_small, small, &router_fds);

  g_snprintf (name, sizeof name, "%u concurrent connections over %u agent%s, %" G_GUINT64_FORMAT
              " KiB echoed each%s", b->conns_large, b->n_devices, b->n_devices > 1 ? "s" : "",
              b->conn_bytes / 1024, opening);
  large = row_new (b, name, "s", 2);
  large->target = TARGET_EXACT;
  g_snprintf (name, sizeof name, "Router peak RSS, %u connections", b->conns_large);
  rss = row_new (b, name, "MiB", 1);
  rss->target = TARGET_AT_MOST;
  rss->target_value = 64;
  rss->exact_needed = TRUE;

  router = start_router (b, "connections", spread_maps (b));
  if (router == NULL)
    {
      row_fail (large, MCR_BENCH_PATH_MAP, "the router did not start");
      row_fail (rss, MCR_BENCH_PATH_MAP, "the router did not start");
      measure_conns (b, NULL, TRUE, b->conns_large, large, &router_fds);
      return;
    }
  measure_conns (b, router, TRUE, b->conns_large, large, &router_fds);
  if (mcr_bench_proc_stat (mcr_bench_router_get_pid (router), &st))
    {
      row_set (rss, MCR_BENCH_PATH_MAP, (double) st.vm_hwm_kib / 1024.0);
      rss->map_exact = large->map_exact;
      row_note (rss, "router peak %u fds, RLIMIT_NOFILE soft %" G_GUINT64_FORMAT
                " (driver started with %" G_GUINT64_FORMAT ")", router_fds,
                soft_nofile_of (mcr_bench_router_get_pid (router)), (guint64) b->nofile_start);
    }
  else
    row_fail (rss, MCR_BENCH_PATH_MAP, "the router is gone");
  stop_router (b, router);
}

static void
phase_udp (Bench *b)
{
  McrBenchRouter *router = shared_router (b);
  guint16 port = mcr_bench_services_get_udp_port (b->services);
  char name[96];
  Row *rate, *loss;

  g_snprintf (name, sizeof name, "UDP echo, %u × %zu B, ≤ %u in flight", b->udp_count,
              b->udp_size, b->udp_window);
  rate = row_new (b, name, "datagrams/s", 0);
  loss = row_new (b, "UDP loss", "%", 2);
  for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
    {
      McrBenchTarget target = target_for (b, p, router, MCR_PROTOCOL_UDP, port);
      McrBenchUdpResult r;

      if (p == MCR_BENCH_PATH_MAP && !target_ready (&target))
        {
          row_fail (rate, p, "no router");
          continue;
        }
      mcr_bench_client_run_udp (b->client, &target, b->udp_count, b->udp_size, b->udp_window, &r);
      if (r.ok || r.received > 0)
        {
          row_set (rate, p, r.per_second);
          row_set (loss, p, r.loss_percent);
        }
      if (!r.ok)
        row_fail (rate, p, r.error);
      say ("%-34s %-6s %.0f datagrams/s, %.2f %% lost%s%s", "UDP echo", path_names[p],
           r.per_second, r.loss_percent, r.error ? ": " : "", r.error ? r.error : "");
      g_free (r.error);
    }
}

static void
phase_idle (Bench *b)
{
  char name[96];
  Row *cpu, *wakeups;
  McrBenchRouter *router;
  McrBenchProcStat st0, st1;
  int pid;

  g_snprintf (name, sizeof name, "Router idle CPU, %u maps open, %u s", b->idle_maps,
              b->idle_seconds);
  cpu = row_new (b, name, "ms CPU/s", 3);
  cpu->target = TARGET_AT_MOST;
  cpu->target_value = 1.0;
  wakeups = row_new (b, "Router idle wakeups", "per s", 2);
  wakeups->target = TARGET_AT_MOST;
  wakeups->target_value = 1.0;

  {
    GPtrArray *args = g_ptr_array_new_with_free_func (g_free);

    for (guint i = 0; i < b->idle_maps; i++)
      add_map (args, MCR_PROTOCOL_TCP, mcr_device_get_id (b->devices[0]),
               mcr_bench_services_get_echo_port (b->services, 0));
    router = start_router (b, "idle", args);
  }
  if (router == NULL)
    {
      row_fail (cpu, MCR_BENCH_PATH_MAP, "the router did not start");
      return;
    }
  pid = mcr_bench_router_get_pid (router);
  iterate_for (b, 2000); /* let start-up settle */
  mcr_bench_proc_stat (pid, &st0);
  iterate_for (b, b->idle_seconds * 1000);
  mcr_bench_proc_stat (pid, &st1);
  row_set (cpu, MCR_BENCH_PATH_MAP, (double) (st1.cpu_ns - st0.cpu_ns) / 1e6 / b->idle_seconds);
  row_set (wakeups, MCR_BENCH_PATH_MAP, (double) (st1.runs - st0.runs) / b->idle_seconds);
  row_note (cpu, "sum of /proc/PID/task/*/schedstat run time; %u threads; %.2f MiB RSS",
            st1.n_threads, (double) st1.vm_rss_kib / 1024.0);
  row_note (wakeups, "times its threads were scheduled in (schedstat)");
  say ("idle: %.3f ms CPU/s, %.2f wakeups/s over %u s", cpu->value[MCR_BENCH_PATH_MAP],
       wakeups->value[MCR_BENCH_PATH_MAP], b->idle_seconds);
  stop_router (b, router);
}

/* ---- the table ---- */

static char *
format_value (Row          *row,
              McrBenchPath  path)
{
  if (row->have[path])
    return g_strdup_printf ("%.*f", row->decimals, row->value[path]);
  if (row->error[path] != NULL)
    return g_strdup ("FAIL");
  return g_strdup ("—");
}

static char *
format_ratio (Row          *row,
              McrBenchPath  over)
{
  if (!row->have[MCR_BENCH_PATH_MAP] || !row->have[over] || row->value[over] == 0)
    return g_strdup ("—");
  return g_strdup_printf ("%.2f", row->value[MCR_BENCH_PATH_MAP] / row->value[over]);
}

static char *
format_target (Row *row)
{
  switch (row->target)
    {
    case TARGET_RATIO_RELAY:
      return g_strdup_printf ("≥ %.2f × relay", row->target_value);
    case TARGET_RELAY_PLUS:
      return g_strdup_printf ("≤ relay + %.0f ms", row->target_value);
    case TARGET_AT_MOST:
      return g_strdup_printf ("≤ %g %s%s", row->target_value, row->unit,
                              row->exact_needed ? ", byte-exact" : "");
    case TARGET_EXACT:
      return g_strdup ("byte-exact");
    case TARGET_NONE:
    default:
      return g_strdup ("");
    }
}

/* "PASS", "FAIL" or "" */
static const char *
verdict (Row *row)
{
  gboolean map = row->have[MCR_BENCH_PATH_MAP];
  double v = row->value[MCR_BENCH_PATH_MAP];
  double relay = row->value[MCR_BENCH_PATH_RELAY];

  if (row->target == TARGET_NONE)
    return "";
  if (!map || (row->exact_needed && !row->map_exact))
    return "FAIL";
  switch (row->target)
    {
    case TARGET_RATIO_RELAY:
      if (!row->have[MCR_BENCH_PATH_RELAY])
        return "?";
      return v >= row->target_value * relay ? "PASS" : "FAIL";
    case TARGET_RELAY_PLUS:
      if (!row->have[MCR_BENCH_PATH_RELAY])
        return "?";
      return v <= relay + row->target_value ? "PASS" : "FAIL";
    case TARGET_AT_MOST:
      return v <= row->target_value ? "PASS" : "FAIL";
    case TARGET_EXACT:
      return row->map_exact ? "PASS" : "FAIL";
    case TARGET_NONE:
    default:
      return "";
    }
}

static char *
make_markdown (Bench      *b,
               const char *load_after)
{
  GString *md = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%d %H:%M");
  guint n_pass = 0, n_fail = 0;

  g_string_append_printf (md, "## MeshCentral Router benchmark (%s%s%s%s)\n\n", when,
                          b->quick ? ", quick" : "", b->label ? ", " : "",
                          b->label ? b->label : "");
  g_string_append_printf (md, "%ld CPUs; load average %s before, %s after. "
                          "MB = 10^6 bytes; throughput = bytes / (first to last byte at the "
                          "receiving end).\n\n", sysconf (_SC_NPROCESSORS_ONLN), b->load_before,
                          load_after);
  g_string_append (md, "| Measurement | Unit | Direct | Relay ceiling | Map | Map/relay "
                       "| Map/direct | Target | Result |\n");
  g_string_append (md, "|---|---|--:|--:|--:|--:|--:|---|---|\n");
  for (guint i = 0; i < b->rows->len; i++)
    {
      Row *row = g_ptr_array_index (b->rows, i);
      g_autofree char *d = format_value (row, MCR_BENCH_PATH_DIRECT);
      g_autofree char *r = format_value (row, MCR_BENCH_PATH_RELAY);
      g_autofree char *m = format_value (row, MCR_BENCH_PATH_MAP);
      g_autofree char *rr = format_ratio (row, MCR_BENCH_PATH_RELAY);
      g_autofree char *rd = format_ratio (row, MCR_BENCH_PATH_DIRECT);
      g_autofree char *t = format_target (row);
      const char *v = verdict (row);

      n_pass += g_str_equal (v, "PASS");
      n_fail += g_str_equal (v, "FAIL");
      g_string_append_printf (md, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", row->name,
                              row->unit, d, r, m, rr, rd, t, v);
    }
  g_string_append_printf (md, "\n%u PASS, %u FAIL.\n", n_pass, n_fail);

  for (guint i = 0; i < b->rows->len; i++)
    {
      Row *row = g_ptr_array_index (b->rows, i);

      if (row->note != NULL)
        g_string_append_printf (md, "\n- %s: %s", row->name, row->note);
      for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
        if (row->error[p] != NULL)
          g_string_append_printf (md, "\n- %s, %s: %s", row->name, path_names[p], row->error[p]);
    }
  g_string_append (md, "\n");
  return g_string_free (md, FALSE);
}

static char *
make_json (Bench      *b,
           const char *load_after)
{
  g_autoptr(JsonBuilder) j = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format_iso8601 (now);

  json_builder_begin_object (j);
  json_builder_set_member_name (j, "time");
  json_builder_add_string_value (j, when);
  json_builder_set_member_name (j, "label");
  json_builder_add_string_value (j, b->label ? b->label : "");
  json_builder_set_member_name (j, "quick");
  json_builder_add_boolean_value (j, b->quick);
  json_builder_set_member_name (j, "cpus");
  json_builder_add_int_value (j, sysconf (_SC_NPROCESSORS_ONLN));
  json_builder_set_member_name (j, "load_before");
  json_builder_add_string_value (j, b->load_before);
  json_builder_set_member_name (j, "load_after");
  json_builder_add_string_value (j, load_after);
  json_builder_set_member_name (j, "hash");
  json_builder_add_string_value (j, "xxh64");
  json_builder_set_member_name (j, "rows");
  json_builder_begin_array (j);
  for (guint i = 0; i < b->rows->len; i++)
    {
      Row *row = g_ptr_array_index (b->rows, i);
      g_autofree char *t = format_target (row);

      json_builder_begin_object (j);
      json_builder_set_member_name (j, "name");
      json_builder_add_string_value (j, row->name);
      json_builder_set_member_name (j, "unit");
      json_builder_add_string_value (j, row->unit);
      for (McrBenchPath p = 0; p < MCR_BENCH_N_PATHS; p++)
        {
          json_builder_set_member_name (j, path_names[p]);
          if (row->have[p])
            json_builder_add_double_value (j, row->value[p]);
          else
            json_builder_add_null_value (j);
          if (row->error[p] != NULL)
            {
              g_autofree char *key = g_strdup_printf ("%s_error", path_names[p]);

              json_builder_set_member_name (j, key);
              json_builder_add_string_value (j, row->error[p]);
            }
        }
      json_builder_set_member_name (j, "target");
      json_builder_add_string_value (j, t);
      json_builder_set_member_name (j, "result");
      json_builder_add_string_value (j, verdict (row));
      if (row->note != NULL)
        {
          json_builder_set_member_name (j, "note");
          json_builder_add_string_value (j, row->note);
        }
      json_builder_end_object (j);
    }
  json_builder_end_array (j);
  json_builder_end_object (j);
  root = json_builder_get_root (j);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

static void
write_results (Bench *b)
{
  char load_after[64];
  g_autofree char *md = NULL;
  g_autofree char *json = NULL;
  g_autofree char *md_path = g_build_filename (b->out_dir, "results.md", NULL);
  g_autofree char *json_path = g_build_filename (b->out_dir, "results.json", NULL);
  g_autoptr(GError) error = NULL;

  read_loadavg (load_after, sizeof load_after);
  md = make_markdown (b, load_after);
  json = make_json (b, load_after);
  g_print ("\n%s", md);
  if (!g_file_set_contents (md_path, md, -1, &error)
      || !g_file_set_contents (json_path, json, -1, &error))
    die ("%s", error->message);
  g_print ("\nSaved as %s and %s\n", md_path, json_path);
}

/* ---- main ---- */

static void
raise_nofile (Bench *b)
{
  struct rlimit lim;

  if (getrlimit (RLIMIT_NOFILE, &lim) < 0)
    return;
  b->nofile_start = lim.rlim_cur;
  /* 1,000 connections through a map cost the driver ~2,000 fds (client
   * ends, service ends) and the relay ceiling 1,000 more. */
  lim.rlim_cur = lim.rlim_max;
  setrlimit (RLIMIT_NOFILE, &lim);
  if (b->router_nofile == 0)
    b->router_nofile = (gint64) b->nofile_start;
}

static void
set_sizes (Bench  *b,
           guint64 size_mib)
{
  b->bulk_bytes = (size_mib ? size_mib : b->quick ? 16 : 256) * (guint64) MIB;
  b->ttfb_count = b->quick ? 10 : 50;
  b->conns_small = b->quick ? 20 : 200;
  if (b->conns_large == 0)
    b->conns_large = b->quick ? 100 : 1000;
  b->conn_bytes = 16 * 1024;
  if (b->conn_opening < 0)
    b->conn_opening = 50;
  b->udp_count = b->quick ? 2000 : 20000;
  b->udp_size = 512;
  b->udp_window = 32;
  b->idle_maps = 100;
  b->idle_seconds = b->quick ? 3 : 10;
  if (b->repeat <= 0)
    b->repeat = b->quick ? 1 : 3;
}

int
main (int    argc,
      char **argv)
{
  Bench bench = { .conn_opening = -1 }, *b = &bench;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  gint64 size_mib = 0;
  g_autofree char *only = NULL;
  g_autofree char *paths = NULL;
  g_autofree char *directions = NULL;
  gboolean self_test = FALSE;
  GOptionEntry entries[] = {
    { "testbed", 0, 0, G_OPTION_ARG_FILENAME, &b->testbed_env,
      "The testbed's testbed.env", "FILE" },
    { "router", 0, 0, G_OPTION_ARG_FILENAME, &b->router_path,
      "The meshcentral-router to measure", "PATH" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &b->out_dir, "Where results and router logs go", "DIR" },
    { "quick", 0, 0, G_OPTION_ARG_NONE, &b->quick, "Smaller sizes, for a smoke run", NULL },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only,
      "Only these (comma-separated): throughput, parallel, ttfb, conns, udp, idle", "NAMES" },
    { "size", 0, 0, G_OPTION_ARG_INT64, &size_mib, "Bulk transfer size in MiB", "MIB" },
    { "router-nofile", 0, 0, G_OPTION_ARG_INT64, &b->router_nofile,
      "The router's RLIMIT_NOFILE soft limit (default: the one this was started with)", "N" },
    { "paths", 0, 0, G_OPTION_ARG_STRING, &paths,
      "Bulk transfers only on these paths (comma-separated: direct, relay, map)", "LIST" },
    { "directions", 0, 0, G_OPTION_ARG_STRING, &directions,
      "Bulk transfers only these ways (comma-separated: up, down)", "LIST" },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &b->repeat,
      "Bulk transfers: rounds, the paths taking turns; rows show the median (default 3)", "N" },
    { "conns", 0, 0, G_OPTION_ARG_INT, &b->conns_large,
      "The larger number of concurrent connections (default 1000)", "N" },
    { "conn-opening", 0, 0, G_OPTION_ARG_INT, &b->conn_opening,
      "Concurrent connections: at most N waiting for their first echo at a time (default 50; "
      "0: all at once)", "N" },
    { "router-wrapper", 0, 0, G_OPTION_ARG_STRING, &b->router_wrapper,
      "Run the router under this command (e.g. \"valgrind --tool=callgrind\"; /proc figures "
      "are then the wrapper's)", "CMD" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &b->label,
      "A label for the results (e.g. the commit)", "TEXT" },
    { "self-test", 0, 0, G_OPTION_ARG_NONE, &self_test,
      "Check the hash and the parser, then exit", NULL },
    { NULL }
  };
  static const char *phases[] = { "throughput", "parallel", "ttfb", "conns", "udp", "idle", NULL };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("- benchmark the router's port maps");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die ("%s", error->message);
  if (!mcr_bench_hash_self_test ())
    die ("the XXH64 implementation gives wrong answers");
  if (self_test)
    {
      McrBenchMapLine m;

      if (!mcr_bench_parse_map_line ("TCP 127.0.0.1:40123 -> node//ab1$x@:5001", &m)
          || m.local_port != 40123 || m.remote_port != 5001 || m.protocol != MCR_PROTOCOL_TCP
          || !mcr_bench_parse_map_line ("listening on 127.0.0.1:9 for UDP to 127.0.0.1:53", &m)
          || m.local_port != 9 || m.remote_port != 53 || m.protocol != MCR_PROTOCOL_UDP
          || mcr_bench_parse_map_line ("logged in as admin", &m))
        die ("the map line parser is wrong");
      {
        gsize len = 64 * MIB;
        g_autofree guint8 *buf = g_malloc (len);
        gint64 t0 = g_get_monotonic_time (), t1, t2;
        volatile guint64 sink;

        memset (buf, 0, len);
        t0 = g_get_monotonic_time ();
        mcr_bench_fill (buf, 1, 0, len);
        t1 = g_get_monotonic_time ();
        sink = mcr_bench_hash_buffer (buf, len);
        t2 = g_get_monotonic_time ();
        (void) sink;
        g_print ("fill %.0f MB/s, xxh64 %.0f MB/s\n", (double) len / (double) (t1 - t0),
                 (double) len / (double) (t2 - t1));
      }
      g_print ("self-test: ok\n");
      return 0;
    }
  if (b->testbed_env == NULL || b->router_path == NULL)
    die ("--testbed and --router are needed (bench/run gives them)");
  if (b->out_dir == NULL)
    b->out_dir = g_strdup ("bench/out");
  g_mkdir_with_parents (b->out_dir, 0755);
  if (only != NULL)
    {
      b->only = g_strsplit (only, ",", -1);
      for (char **o = b->only; *o != NULL; o++)
        if (!g_strv_contains (phases, *o))
          die ("--only: unknown measurement “%s” (one of: throughput, parallel, ttfb, conns, "
               "udp, idle)", *o);
    }
  if (paths != NULL)
    b->paths = g_strsplit (paths, ",", -1);
  if (directions != NULL)
    b->directions = g_strsplit (directions, ",", -1);
  set_sizes (b, (guint64) size_mib);
  raise_nofile (b);
  read_loadavg (b->load_before, sizeof b->load_before);

  b->env = read_env_file (b->testbed_env);
  b->address = g_strdup_printf ("%s:%s", env_get (b, "MCR_TEST_HOST"),
                                env_get (b, "MCR_TEST_PORT"));
  b->server_pid = read_pid_file (env_get (b, "MCR_TEST_DIR"), "server.pid");
  b->agent_pid = read_pid_file (env_get (b, "MCR_TEST_DIR"), "agent.pid");
  b->context = g_main_context_default ();
  b->rows = g_ptr_array_new ();
  b->client = mcr_bench_client_new (b->context);
  b->services = mcr_bench_services_start (b->context, on_report, b, &error);
  if (b->services == NULL)
    die ("%s", error->message);
  say ("services on 127.0.0.1: sink %u, source %u, echo %u, UDP echo %u; load %s",
       mcr_bench_services_get_port (b->services, MCR_BENCH_SERVICE_SINK),
       mcr_bench_services_get_port (b->services, MCR_BENCH_SERVICE_SOURCE),
       mcr_bench_services_get_port (b->services, MCR_BENCH_SERVICE_ECHO),
       mcr_bench_services_get_udp_port (b->services), b->load_before);
  login (b);
  say ("logged in to %s; %u device%s online", b->address, b->n_devices,
       b->n_devices > 1 ? "s" : "");

  if (wanted (b, "throughput"))
    phase_throughput (b);
  if (wanted (b, "parallel"))
    phase_parallel (b);
  if (wanted (b, "ttfb"))
    phase_ttfb (b);
  if (wanted (b, "conns"))
    phase_conns (b);
  if (wanted (b, "udp"))
    phase_udp (b);
  if (b->shared_router != NULL)
    {
      stop_router (b, b->shared_router);
      b->shared_router = NULL;
    }
  if (wanted (b, "idle"))
    phase_idle (b);

  write_results (b);
  mcr_server_logout (b->server);
  mcr_bench_services_stop (b->services);
  return 0;
}
