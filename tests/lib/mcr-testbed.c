/* mcr-testbed.c: the real MeshCentral server and agent, for integration tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-testbed"

#include "config.h"

#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcr-testbed.h"

static McrTestbed *testbed;
static GHashTable *testbed_env;   /* its testbed.env */
static McrTestbed *other_domain;
static McrTestbed *passthrough;
static McrTestbed *offload;
static char       *private_dir;   /* set when this program started its own */

static char *
testbed_script (void)
{
  return g_build_filename (MCR_SOURCE_ROOT, "build-aux", "testbed.sh", NULL);
}

static void
stop_private_testbed (void)
{
  g_autofree char *script = NULL;
  const char *argv[4];

  if (private_dir == NULL)
    return;
  script = testbed_script ();
  argv[0] = script, argv[1] = "stop", argv[2] = private_dir, argv[3] = NULL;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                NULL, NULL, NULL, NULL);
  g_clear_pointer (&private_dir, g_free);
}

static void
on_fatal_signal (int sig)
{
  stop_private_testbed ();
  signal (sig, SIG_DFL);
  raise (sig);
}

static char *
env_value (GHashTable *env,
           const char *key)
{
  const char *v = g_hash_table_lookup (env, key);

  if (v == NULL)
    g_error ("testbed.env has no %s", key);
  return g_strdup (v);
}

static GHashTable *
read_env (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  GHashTable *env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, &error))
    g_error ("cannot read the testbed's environment: %s", error->message);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      char *eq = strchr (lines[i], '=');
      char *value;
      gsize len;

      if (eq == NULL)
        continue;
      *eq = '\0';
      value = eq + 1;
      len = strlen (value);
      if (len >= 2 && value[0] == '\'' && value[len - 1] == '\'')
        value[len - 1] = '\0', value++;
      g_hash_table_insert (env, g_strdup (lines[i]), g_strdup (value));
    }
  return env;
}

static McrTestbed *
testbed_from_env (GHashTable *env)
{
  McrTestbed *tb = g_new0 (McrTestbed, 1);
  g_autofree char *port = NULL;

  tb->dir = env_value (env, "MCR_TEST_DIR");
  tb->host = env_value (env, "MCR_TEST_HOST");
  port = env_value (env, "MCR_TEST_PORT");
  tb->port = (guint16) atoi (port);
  tb->address = g_strdup_printf ("%s:%u", tb->host, tb->port);
  tb->url = env_value (env, "MCR_TEST_URL");
  tb->user = env_value (env, "MCR_TEST_USER");
  tb->password = env_value (env, "MCR_TEST_PASS");
  tb->mesh_id = env_value (env, "MCR_TEST_MESHID");
  tb->node_id = env_value (env, "MCR_TEST_NODEID");
  tb->node_name = env_value (env, "MCR_TEST_NODENAME");
  tb->cert_hash = env_value (env, "MCR_TEST_CERTHASH");
  tb->domain = g_strdup ("");
  return tb;
}

/* @tb reached on another port (a proxy in front of it). */
static McrTestbed *
testbed_copy (const McrTestbed *tb,
              guint16           port)
{
  McrTestbed *copy = g_new0 (McrTestbed, 1);

  copy->dir = g_strdup (tb->dir);
  copy->host = g_strdup (tb->host);
  copy->port = port;
  copy->address = g_strdup_printf ("%s:%u", tb->host, port);
  copy->url = g_strdup_printf ("wss://%s:%u", tb->host, port);
  copy->user = g_strdup (tb->user);
  copy->password = g_strdup (tb->password);
  copy->mesh_id = g_strdup (tb->mesh_id);
  copy->node_id = g_strdup (tb->node_id);
  copy->node_name = g_strdup (tb->node_name);
  copy->cert_hash = g_strdup (tb->cert_hash);
  copy->domain = g_strdup (tb->domain);
  return copy;
}

const McrTestbed *
mcr_testbed_get_other_domain (void)
{
  const McrTestbed *tb = mcr_testbed_get ();

  if (other_domain == NULL)
    {
      McrTestbed *o = testbed_copy (tb, tb->port);

      g_free (o->domain);
      o->domain = env_value (testbed_env, "MCR_TEST_OTHER_DOMAIN");
      g_free (o->address);
      o->address = g_strdup_printf ("%s:%u/%s", tb->host, tb->port, o->domain);
      g_free (o->url);
      o->url = g_strdup_printf ("wss://%s:%u/%s", tb->host, tb->port, o->domain);
      g_free (o->user);
      o->user = env_value (testbed_env, "MCR_TEST_OTHER_USER");
      g_free (o->password);
      o->password = env_value (testbed_env, "MCR_TEST_OTHER_PASS");
      g_free (o->mesh_id);
      o->mesh_id = env_value (testbed_env, "MCR_TEST_OTHER_MESHID");
      g_free (o->node_id);
      o->node_id = env_value (testbed_env, "MCR_TEST_OTHER_NODEID");
      g_free (o->node_name);
      o->node_name = env_value (testbed_env, "MCR_TEST_OTHER_NODENAME");
      other_domain = o;
    }
  return other_domain;
}

const McrTestbed *
mcr_testbed_get_passthrough (void)
{
  const McrTestbed *tb = mcr_testbed_get ();

  if (passthrough == NULL)
    {
      g_autofree char *port = env_value (testbed_env, "MCR_TEST_PASSTHROUGH_PORT");

      passthrough = testbed_copy (tb, (guint16) atoi (port));
    }
  return passthrough;
}

const McrTestbed *
mcr_testbed_get_offload (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *path = NULL;

  if (offload != NULL)
    return offload;
  path = g_build_filename (tb->dir, "offload", "testbed.env", NULL);
  /* Started once per testbed, by the first program that asks; testbed.sh
   * stop (and its watchdog) stop it with the rest. */
  if (!g_file_test (path, G_FILE_TEST_EXISTS) && !mcr_testbed_run ("offload-start", NULL, NULL))
    g_error ("the tlsOffload server did not start");
  {
    g_autoptr(GHashTable) env = read_env (path);

    offload = testbed_from_env (env);
  }
  return offload;
}

const McrTestbed *
mcr_testbed_get (void)
{
  const char *env_path;
  g_autofree char *path = NULL;

  if (testbed != NULL)
    return testbed;

  env_path = g_getenv ("MCR_TESTBED_ENV");
  if (env_path == NULL || *env_path == '\0')
    {
      g_autofree char *script = testbed_script ();
      g_autofree char *owner = g_strdup_printf ("%d", (int) getpid ());
      const char *argv[] = { script, "start", NULL, owner, NULL };
      int status = 0;
      g_autoptr(GError) error = NULL;

      private_dir = g_dir_make_tmp ("mcr-testbed-XXXXXX", &error);
      g_assert_no_error (error);
      atexit (stop_private_testbed);
      signal (SIGINT, on_fatal_signal);
      signal (SIGTERM, on_fatal_signal);
      signal (SIGABRT, on_fatal_signal);
      argv[2] = private_dir;
      g_test_message ("starting a private testbed in %s", private_dir);
      if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                         &status, &error) ||
          !g_spawn_check_wait_status (status, &error))
        g_error ("the testbed did not start: %s", error->message);
      path = g_build_filename (private_dir, "testbed.env", NULL);
      env_path = path;
    }
  testbed_env = read_env (env_path);
  testbed = testbed_from_env (testbed_env);
  return testbed;
}

gboolean
mcr_testbed_run (const char  *command,
                 const char **args,
                 char       **output)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *script = testbed_script ();
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, (char *) command);
  g_ptr_array_add (argv, tb->dir);
  for (guint i = 0; args && args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, output, NULL,
                     &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    {
      g_test_message ("testbed.sh %s: %s", command, error->message);
      return FALSE;
    }
  return TRUE;
}

static void
on_script_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

gboolean
mcr_testbed_run_iterating (const char *command)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *script = testbed_script ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, script, command, tb->dir, NULL);
  if (process == NULL)
    {
      g_test_message ("testbed.sh %s: %s", command, error->message);
      return FALSE;
    }
  g_subprocess_wait_async (process, NULL, on_script_done, &done);
  /* The longest command (a restart of server and agent) takes well under
   * a minute, even under the sanitizers on a busy machine. */
  if (!mcr_test_wait_flag (&done, 180000))
    {
      g_test_message ("testbed.sh %s: still running after 180 s, killed", command);
      g_subprocess_force_exit (process);
      mcr_test_assert_wait (done, 10000);  /* SIGKILL: at once */
      return FALSE;
    }
  if (!g_subprocess_get_successful (process))
    {
      g_test_message ("testbed.sh %s failed", command);
      return FALSE;
    }
  return TRUE;
}

gboolean
mcr_testbed_meshctrl (char **output,
                      ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *a;
  va_list ap;

  va_start (ap, output);
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return mcr_testbed_run ("meshctrl", (const char **) args->pdata, output);
}

static gboolean
flag_is_set (gpointer data)
{
  return *(const gboolean *) data;
}

static gboolean
on_timer_expired (gpointer data)
{
  McrTestTimer *timer = data;

  timer->expired = TRUE;
  timer->id = 0;
  return G_SOURCE_REMOVE;
}

void
mcr_test_timer_start (McrTestTimer *timer,
                      guint         timeout_ms)
{
  timer->expired = FALSE;
  timer->id = g_timeout_add (timeout_ms, on_timer_expired, timer);
}

void
mcr_test_timer_stop (McrTestTimer *timer)
{
  g_clear_handle_id (&timer->id, g_source_remove);
}

void
mcr_test_wait_failed (const char *domain,
                      const char *file,
                      int         line,
                      const char *func,
                      const char *what,
                      guint       timeout_ms)
{
  g_autofree char *message = g_strdup_printf ("waited %u ms in vain for: %s", timeout_ms, what);

  g_assertion_message (domain, file, line, func, message);
}

gboolean
mcr_test_wait_until (gboolean (*predicate) (gpointer data),
                     gpointer data,
                     guint    timeout_ms)
{
  McrTestTimer timer;

  mcr_test_timer_start (&timer, timeout_ms);
  while (!predicate (data) && !timer.expired)
    g_main_context_iteration (NULL, TRUE);
  mcr_test_timer_stop (&timer);
  return predicate (data);
}

gboolean
mcr_test_wait_flag (const gboolean *flag,
                    guint           timeout_ms)
{
  return mcr_test_wait_until (flag_is_set, (gpointer) flag, timeout_ms);
}

/* ---- echo services ---- */

static void
on_splice_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GSocketConnection) connection = user_data;

  g_output_stream_splice_finish (G_OUTPUT_STREAM (source), result, NULL);
}

static gboolean
on_echo_incoming (GSocketService    *service,
                  GSocketConnection *connection,
                  GObject           *source_object,
                  gpointer           user_data)
{
  GIOStream *io = G_IO_STREAM (connection);

  g_output_stream_splice_async (g_io_stream_get_output_stream (io),
                                g_io_stream_get_input_stream (io),
                                G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE |
                                G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                G_PRIORITY_DEFAULT, NULL, on_splice_done,
                                g_object_ref (connection));
  return TRUE;
}

guint16
mcr_test_service_start (const char *address,
                        GCallback   on_incoming,
                        gpointer    data)
{
  GSocketService *service = g_socket_service_new ();
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address ? address : "127.0.0.1");
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new (inet, 0);
  g_autoptr(GSocketAddress) got = NULL;
  g_autoptr(GError) error = NULL;

  g_socket_listener_add_address (G_SOCKET_LISTENER (service), want, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &got, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", on_incoming, data);
  g_socket_service_start (service);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
}

guint16
mcr_test_echo_server_start (const char *address)
{
  return mcr_test_service_start (address, G_CALLBACK (on_echo_incoming), NULL);
}

static gboolean
on_udp_readable (GSocket     *socket,
                 GIOCondition condition,
                 gpointer     user_data)
{
  char buf[65536];
  GSocketAddress *from = NULL;
  gssize n = g_socket_receive_from (socket, &from, buf, sizeof buf, NULL, NULL);

  if (n >= 0 && from != NULL)
    g_socket_send_to (socket, from, buf, n, NULL, NULL);
  g_clear_object (&from);
  return G_SOURCE_CONTINUE;
}

guint16
mcr_test_udp_echo_server_start (const char *address)
{
  g_autoptr(GError) error = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                  G_SOCKET_PROTOCOL_UDP, &error);
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address ? address : "127.0.0.1");
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new (inet, 0);
  g_autoptr(GSocketAddress) got = NULL;
  GSource *source;

  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  g_socket_bind (socket, want, FALSE, &error);
  g_assert_no_error (error);
  got = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (on_udp_readable), NULL, NULL);
  g_source_attach (source, NULL);
  g_source_unref (source);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
}

/* ---- a discard service ---- */

typedef struct
{
  GSocketConnection *connection;
  guint64           *counter;
  guint8             buf[65536];
} Sink;

static void sink_read (Sink *sink);

static void
on_sink_read (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Sink *sink = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    {
      g_io_stream_close (G_IO_STREAM (sink->connection), NULL, NULL);
      g_object_unref (sink->connection);
      g_free (sink);
      return;
    }
  if (sink->counter != NULL)
    *sink->counter += (guint64) n;
  sink_read (sink);
}

static void
sink_read (Sink *sink)
{
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (sink->connection)),
                             sink->buf, sizeof sink->buf, G_PRIORITY_DEFAULT, NULL,
                             on_sink_read, sink);
}

static gboolean
on_sink_incoming (GSocketService    *service,
                  GSocketConnection *connection,
                  GObject           *source_object,
                  gpointer           user_data)
{
  Sink *sink = g_new0 (Sink, 1);

  sink->connection = g_object_ref (connection);
  sink->counter = user_data;
  sink_read (sink);
  return TRUE;
}

guint16
mcr_test_sink_server_start (const char *address,
                            guint64    *bytes_received)
{
  return mcr_test_service_start (address, G_CALLBACK (on_sink_incoming), bytes_received);
}

/* ---- resources ---- */

char *
mcr_test_write_file (const char *dir,
                     const char *name,
                     const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
  return path;
}

void
mcr_test_iterate_for (guint ms)
{
  for (gint64 end = g_get_monotonic_time () + ms * 1000; g_get_monotonic_time () < end;)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (500);
    }
}

guint16
mcr_test_unused_port (const char *address)
{
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                       G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) a = g_inet_address_new_from_string (address ? address : "127.0.0.1");
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new (a, 0);
  g_autoptr(GSocketAddress) got = NULL;

  /* Bound, never listening, closed on return. */
  g_assert_true (g_socket_bind (s, want, FALSE, NULL));
  got = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got));
}

guint
mcr_test_count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n - 1;  /* the one GDir reads */
}

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#ifdef HAVE_ASAN
size_t __sanitizer_get_current_allocated_bytes (void);
#endif

gsize
mcr_test_heap_bytes (void)
{
#ifdef HAVE_ASAN
  return __sanitizer_get_current_allocated_bytes ();
#else
  struct mallinfo2 info = mallinfo2 ();

  return info.uordblks + info.hblkhd;
#endif
}

static gboolean
fds_at_most (gpointer data)
{
  return mcr_test_count_fds () <= GPOINTER_TO_UINT (data);
}

gboolean
mcr_test_wait_fds_at_most (guint limit,
                           guint timeout_ms)
{
  return mcr_test_wait_until (fds_at_most, GUINT_TO_POINTER (limit), timeout_ms);
}

gsize
mcr_test_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  p = strstr (status, "VmRSS:");
  return p ? (gsize) g_ascii_strtoull (p + 6, NULL, 10) : 0;
}

/* ---- TOTP (RFC 6238) ---- */

static GBytes *
base32_decode (const char *s)
{
  GByteArray *out = g_byte_array_new ();
  guint64 acc = 0;
  int bits = 0;

  for (; *s; s++)
    {
      int v;
      char c = g_ascii_toupper (*s);

      if (c >= 'A' && c <= 'Z')
        v = c - 'A';
      else if (c >= '2' && c <= '7')
        v = c - '2' + 26;
      else
        continue;
      acc = (acc << 5) | (guint64) v;
      bits += 5;
      if (bits >= 8)
        {
          guint8 byte = (guint8) (acc >> (bits - 8));

          g_byte_array_append (out, &byte, 1);
          bits -= 8;
        }
    }
  return g_byte_array_free_to_bytes (out);
}

char *
mcr_test_totp (const char *base32_secret,
               gint64      unix_time)
{
  g_autoptr(GBytes) key = base32_decode (base32_secret);
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA1, g_bytes_get_data (key, NULL),
                                      g_bytes_get_size (key));
  guint64 counter = (guint64) unix_time / 30;
  guint8 msg[8], digest[20];
  gsize len = sizeof digest;
  guint32 code;
  int off;

  for (int i = 7; i >= 0; i--, counter >>= 8)
    msg[i] = (guint8) (counter & 0xff);
  g_hmac_update (hmac, msg, sizeof msg);
  g_hmac_get_digest (hmac, digest, &len);
  off = digest[19] & 0x0f;
  code = ((guint32) (digest[off] & 0x7f) << 24) | ((guint32) digest[off + 1] << 16) |
         ((guint32) digest[off + 2] << 8) | digest[off + 3];
  return g_strdup_printf ("%06u", code % 1000000);
}
