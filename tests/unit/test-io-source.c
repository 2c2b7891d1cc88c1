/* SPDX-License-Identifier: Apache-2.0
 *
 * McrIoSource: what it waits for is changed in place; ready and deadline
 * turns; a hangup while nothing is wanted does not spin the main loop; the
 * fallback on pollable streams. */
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <gio/gunixoutputstream.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mcr-io-source.h"
#include "mcr-testbed.h"

typedef struct
{
  guint        calls;
  GIOCondition last;
  gint64       when;
} Seen;

static gboolean
on_io (GIOCondition revents,
       gpointer     user_data)
{
  Seen *seen = user_data;

  seen->calls++;
  seen->last = revents;
  seen->when = g_get_monotonic_time ();
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  int      fds[2];
  GSocket *socket;
  GSource *source;
  Seen     seen;
} Pair;

static void
pair_init (Pair *p)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->fds), ==, 0);
  p->socket = g_socket_new_from_fd (p->fds[0], &error);
  g_assert_no_error (error);
  p->source = mcr_io_source_new (p->socket, NULL, NULL);
  mcr_io_source_set_callback (p->source, on_io, &p->seen);
  g_source_attach (p->source, NULL);
}

static void
pair_clear (Pair *p)
{
  g_source_destroy (p->source);
  g_source_unref (p->source);
  g_object_unref (p->socket);
  if (p->fds[1] >= 0)
    close (p->fds[1]);
}

static void
drain (Pair *p)
{
  char buf[64];

  while (read (p->fds[0], buf, sizeof buf) > 0)
    ;
}

static void
test_events (void)
{
  Pair p = { 0 };

  pair_init (&p);
  /* Nothing wanted: data waits, no call. */
  g_assert_cmpint (write (p.fds[1], "x", 1), ==, 1);
  mcr_test_iterate_for (30);
  g_assert_cmpuint (p.seen.calls, ==, 0);
  /* Wanted: called with G_IO_IN, again while unread (level-triggered). */
  mcr_io_source_set_events (p.source, G_IO_IN);
  g_assert_cmpuint (mcr_io_source_get_events (p.source), ==, G_IO_IN);
  mcr_test_assert_wait (p.seen.calls >= 2, 10000);
  g_assert_cmpuint (p.seen.last & G_IO_IN, ==, G_IO_IN);
  drain (&p);
  /* Writable: G_IO_OUT. */
  p.seen.calls = 0;
  mcr_io_source_set_events (p.source, G_IO_OUT);
  mcr_test_assert_wait (p.seen.calls >= 1, 10000);
  g_assert_cmpuint (p.seen.last, ==, G_IO_OUT);
  /* Off again: quiet. */
  mcr_io_source_set_events (p.source, 0);
  p.seen.calls = 0;
  mcr_test_iterate_for (30);
  g_assert_cmpuint (p.seen.calls, ==, 0);
  pair_clear (&p);
}

static void
test_ready_and_deadline (void)
{
  Pair p = { 0 };
  gint64 t0;

  pair_init (&p);
  mcr_io_source_set_events (p.source, G_IO_IN);
  /* A turn without the socket: reported as what is waited for. */
  mcr_io_source_set_ready (p.source);
  {
    McrTestTimer timer;

    /* One turn of the main loop, the ready one (10 s: not one that never comes). */
    mcr_test_timer_start (&timer, 10000);
    g_main_context_iteration (NULL, TRUE);
    g_assert_false (timer.expired);
    mcr_test_timer_stop (&timer);
  }
  g_assert_cmpuint (p.seen.calls, ==, 1);
  g_assert_cmpuint (p.seen.last, ==, G_IO_IN);
  /* Once only. */
  mcr_test_iterate_for (20);
  g_assert_cmpuint (p.seen.calls, ==, 1);
  /* A deadline turn, 5 ms from now, then none. */
  t0 = g_get_monotonic_time ();
  mcr_io_source_set_deadline (p.source, t0 + 5000);
  mcr_test_assert_wait (p.seen.calls >= 2, 10000);
  /* Not early; how late depends on the machine (the bounded wait above
   * says that it comes). */
  g_test_message ("deadline turn after %" G_GINT64_FORMAT " us (5000 asked)", p.seen.when - t0);
  g_assert_cmpint (p.seen.when - t0, >=, 5000);
  g_assert_cmpuint (p.seen.last, ==, G_IO_IN);
  mcr_test_iterate_for (20);
  g_assert_cmpuint (p.seen.calls, ==, 2);
  /* The socket before the deadline: the deadline still comes (a low
   * water mark may hold back what the socket has). */
  mcr_io_source_set_deadline (p.source, g_get_monotonic_time () + 10000);
  g_assert_cmpint (write (p.fds[1], "x", 1), ==, 1);
  mcr_test_assert_wait (p.seen.calls >= 3, 10000);
  drain (&p);
  mcr_test_assert_wait (p.seen.calls >= 4, 10000);
  pair_clear (&p);
}

static void
test_hangup_while_idle (void)
{
  Pair p = { 0 };
  guint busy = 0;

  pair_init (&p);
  close (p.fds[1]);
  p.fds[1] = -1;
  /* poll() reports the hangup whatever was asked: at most one dispatch
   * (which takes the socket out of the poll set), then nothing. */
  for (guint i = 0; i < 1000; i++)
    if (g_main_context_iteration (NULL, FALSE))
      busy++;
  g_assert_cmpuint (busy, <=, 2);
  g_assert_cmpuint (p.seen.calls, ==, 0);
  /* Wanted again: the hangup comes through. */
  mcr_io_source_set_events (p.source, G_IO_IN);
  mcr_test_assert_wait (p.seen.calls >= 1, 10000);
  g_assert_cmpuint (p.seen.last & (G_IO_IN | G_IO_HUP), !=, 0);
  pair_clear (&p);
}

static void
test_streams (void)
{
  int fds[2];
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GOutputStream) out = NULL;
  GSource *source;
  Seen seen = { 0 };

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_true (g_unix_set_fd_nonblocking (fds[0], TRUE, NULL));
  g_assert_true (g_unix_set_fd_nonblocking (fds[1], TRUE, NULL));
  in = g_unix_input_stream_new (fds[0], TRUE);
  out = g_unix_output_stream_new (fds[1], TRUE);
  source = mcr_io_source_new (NULL, G_POLLABLE_INPUT_STREAM (in), G_POLLABLE_OUTPUT_STREAM (out));
  mcr_io_source_set_callback (source, on_io, &seen);
  g_source_attach (source, NULL);

  mcr_io_source_set_events (source, G_IO_IN);
  mcr_test_iterate_for (30);
  g_assert_cmpuint (seen.calls, ==, 0);
  g_assert_cmpint (g_output_stream_write (out, "x", 1, NULL, NULL), ==, 1);
  mcr_test_assert_wait (seen.calls >= 1, 10000);
  g_assert_cmpuint (seen.last & G_IO_IN, ==, G_IO_IN);
  mcr_io_source_set_events (source, 0);
  seen.calls = 0;
  mcr_test_iterate_for (30);
  g_assert_cmpuint (seen.calls, ==, 0);

  g_source_destroy (source);
  g_source_unref (source);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/io-source/events", test_events);
  g_test_add_func ("/io-source/ready-and-deadline", test_ready_and_deadline);
  g_test_add_func ("/io-source/hangup-while-idle", test_hangup_while_idle);
  g_test_add_func ("/io-source/streams", test_streams);
  return g_test_run ();
}
