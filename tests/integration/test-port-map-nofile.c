/* SPDX-License-Identifier: Apache-2.0
 *
 * A port map out of file descriptors: the headless router, started with a
 * hard RLIMIT_NOFILE of NOFILE (so that it cannot raise it), gets more
 * connections than it has descriptors for, against the real testbed. It
 * takes what it can, says so once, does not spin, keeps the open ones
 * echoing, and takes the waiting ones as soon as some close: every
 * connection is echoed byte-exact in the end, none is refused. */
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "mcr-test-router.h"
#include "relay-test-util.h"

#define NOFILE   64
#define N_PEERS  60
#define PEER_BYTES 4096

/* In the child: the limit, and an end with the test program, also when an
 * assertion aborts it. */
static void
limit_descriptors (gpointer data)
{
  struct rlimit rl = { NOFILE, NOFILE };

  setrlimit (RLIMIT_NOFILE, &rl);
  mcr_test_router_child_setup (data);
}

static McrTestRouter *
router_start (const char *map)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GSubprocessLauncher) launcher =
    mcr_test_router_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                  tb->password);
  g_autofree char *host = g_strconcat ("-host:", tb->address, NULL);
  g_autofree char *user = g_strconcat ("-user:", tb->user, NULL);
  g_autofree char *hash = g_strconcat ("-certhash:", tb->cert_hash, NULL);
  const char *args[] = { "--headless", host, user, hash, map, NULL };

  g_subprocess_launcher_set_child_setup (launcher, limit_descriptors, NULL, NULL);
  return mcr_test_router_start (launcher, args, TRUE);
}

/* The router's user+system CPU time, in seconds. */
static double
cpu_seconds (McrTestRouter *r)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat",
                                           g_subprocess_get_identifier (r->process));
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  after = strrchr (text, ')');
  g_assert_nonnull (after);
  fields = g_strsplit (after + 2, " ", -1);
  /* Fields 14 and 15 of stat(5); the split starts at field 3. */
  return (double) (g_ascii_strtoull (fields[11], NULL, 10) +
                   g_ascii_strtoull (fields[12], NULL, 10)) / (double) sysconf (_SC_CLK_TCK);
}

static guint
count_lines (const char *text,
             const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static gboolean
is_echoed (TestPeer *peer)
{
  return peer->sent == peer->to_send && peer->received >= peer->to_send;
}

typedef struct
{
  TestPeer **peers;
  guint      n;
  guint      min_echoed;
} Progress;

static guint
n_echoed (TestPeer **peers,
          guint      n)
{
  guint k = 0;

  for (guint i = 0; i < n; i++)
    if (peers[i] != NULL && is_echoed (peers[i]))
      k++;
  return k;
}

static gboolean
some_failed (TestPeer **peers,
             guint      n)
{
  for (guint i = 0; i < n; i++)
    if (peers[i] != NULL && (peers[i]->error != NULL || peers[i]->eof))
      return TRUE;
  return FALSE;
}

static gboolean
progressed (gpointer data)
{
  Progress *p = data;

  return some_failed (p->peers, p->n) || n_echoed (p->peers, p->n) >= p->min_echoed;
}

static void
iterate_for (guint ms)
{
  gboolean never = FALSE;

  mcr_test_wait_flag (&never, ms);
}

static gboolean
all_twice (gpointer data)
{
  Progress *p = data;

  for (guint i = 0; i < p->n; i++)
    if (p->peers[i]->to_send == 2 * PEER_BYTES && p->peers[i]->error == NULL &&
        !p->peers[i]->eof && p->peers[i]->received < 2 * PEER_BYTES)
      return FALSE;
  return TRUE;
}

/* Resets the connection (RST), so that the router drops its tunnel at once
 * rather than after the half-close wait. */
static void
peer_reset (TestPeer *peer)
{
  struct linger lin = { 1, 0 };
  GSocket *socket = g_socket_connection_get_socket (peer->conn);

  setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
  test_peer_free (peer);
}

static void
test_out_of_descriptors (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  guint16 echo = mcr_test_echo_server_start (NULL);
  g_autofree char *map = g_strdup_printf ("-map:TCP:0:%s::%u", tb->node_id, echo);
  g_autoptr(McrTestRouter) r = router_start (map);
  TestPeer *peers[N_PEERS] = { NULL };
  Progress progress = { peers, N_PEERS, 0 };
  const char *line;
  guint16 port;
  guint first, waiting = 0;
  double cpu0, cpu1;

  mcr_test_router_wait_lines (r, 1);
  line = g_ptr_array_index (r->out_lines, 0);
  g_assert_true (g_str_has_prefix (line, "TCP 127.0.0.1:"));
  port = mcr_test_router_port_of (r, "TCP 127.0.0.1:", "");
  g_assert_cmpuint (port, >, 0);

  /* More connections than descriptors: the first ones are echoed, the
   * rest wait in the listen queue. */
  for (guint i = 0; i < N_PEERS; i++)
    peers[i] = test_peer_connect (port, PEER_BYTES, 100 + i);
  progress.min_echoed = 1;
  g_assert_true (mcr_test_wait_until (progressed, &progress, 60000));
  iterate_for (3000);  /* let it take what it can */
  first = n_echoed (peers, N_PEERS);
  g_test_message ("%u of %u connections echoed with %u descriptors", first, N_PEERS, NOFILE);
  g_assert_false (some_failed (peers, N_PEERS));
  g_assert_cmpuint (first, >, 0);
  g_assert_cmpuint (first, <, N_PEERS);
  g_assert_false (r->exited);
  g_assert_cmpuint (count_lines (r->err_text->str, "cannot take new connections"), ==, 1);

  /* Waiting, it does not spin. */
  cpu0 = cpu_seconds (r);
  iterate_for (2000);
  cpu1 = cpu_seconds (r);
  g_test_message ("router CPU while it waits: %.2f s in 2 s", cpu1 - cpu0);
  g_assert_cmpfloat (cpu1 - cpu0, <, 0.5);
  g_assert_cmpuint (n_echoed (peers, N_PEERS), ==, first);

  /* The open ones still work: each sends more and gets it back. */
  for (guint i = 0; i < N_PEERS; i++)
    if (is_echoed (peers[i]))
      test_peer_send_more (peers[i], PEER_BYTES);
  g_assert_true (mcr_test_wait_until (all_twice, &progress, 30000));
  g_assert_false (some_failed (peers, N_PEERS));
  g_assert_cmpuint (n_echoed (peers, N_PEERS), ==, first);

  /* Some close: the waiting ones are taken, until all are echoed. */
  for (guint i = 0; i < N_PEERS; i++)
    if (is_echoed (peers[i]))
      {
        g_assert_true (test_peer_echo_matches (peers[i]));
        g_clear_pointer (&peers[i], peer_reset);
      }
    else
      waiting++;
  g_assert_cmpuint (waiting, ==, N_PEERS - first);
  while (waiting > 0)
    {
      guint echoed;

      progress.min_echoed = 1;
      g_assert_true (mcr_test_wait_until (progressed, &progress, 60000));
      g_assert_false (some_failed (peers, N_PEERS));
      echoed = 0;
      for (guint i = 0; i < N_PEERS; i++)
        if (peers[i] != NULL && is_echoed (peers[i]))
          {
            g_assert_true (test_peer_echo_matches (peers[i]));
            g_clear_pointer (&peers[i], peer_reset);
            echoed++;
          }
      waiting -= echoed;
    }
  g_assert_false (r->exited);

  /* And a new one after it all. */
  peers[0] = test_peer_connect (port, PEER_BYTES, 7);
  progress.min_echoed = 1;
  g_assert_true (mcr_test_wait_until (progressed, &progress, 30000));
  g_assert_true (test_peer_echo_matches (peers[0]));
  g_clear_pointer (&peers[0], test_peer_free);

  g_assert_cmpint (mcr_test_router_stop (r, 15000), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  mcr_testbed_get ();

  g_test_add_func ("/port-map/out-of-descriptors", test_out_of_descriptors);
  return g_test_run ();
}
