/* mcr-bench-client.c: the client side of every measurement — streams over
 * plain TCP (direct, or into a map) on an epoll set that sits in the GLib main
 * loop, or over a WebSocket straight to the relay (the ceiling)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-bench"

#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mcr-bench.h"
#include "mcr-tls-policy.h"
#include "mcr-websocket.h"

#define IO_CHUNK   (256 * 1024)
#define MAX_EVENTS 256
#define READ_BUDGET 32   /* reads per stream and wakeup */
#define STALL_US    (45 * G_USEC_PER_SEC) /* a stream that moves nothing for this long fails */

typedef enum
{
  TAG_STREAM,
  TAG_UDP,
} Tag;

typedef struct _Run Run;

typedef struct
{
  Tag             tag;
  Run            *run;
  guint           index;
  int             fd;
  McrWebSocket   *ws;
  gboolean        started;
  gboolean        opening;       /* started, no byte back yet (counted in run->n_opening) */
  gboolean        open;          /* connected (and 'c' seen on the relay) */
  gboolean        finished;      /* counted in run->n_done */
  gboolean        released;      /* transport closed */
  guint32         events;
  guint64         seed;
  guint64         send_total;    /* header + payload bytes to send */
  guint64         header_len;
  guint64         sent;
  guint64         recv_total;
  guint64         received;
  guint64         pieces;
  McrBenchHash    send_hash;
  McrBenchHash    recv_hash;
  gboolean        have_report;
  McrBenchReport  report;
  gint64          t_start;
  gint64          t_first;
  gint64          t_last;
  gint64          t_progress;
  gboolean        exact;
  char           *error;
} Stream;

struct _Run
{
  McrBenchClient        *client;
  const McrBenchTarget  *target;
  const McrBenchRunSpec *spec;
  McrBenchRunResult     *result;
  Stream               **streams;
  guint                  n_streams;
  guint                  n_done;
  guint                  n_open;
  guint                  n_started;
  guint                  n_opening;
  gboolean               starting;
  gboolean               finished;
};

typedef struct
{
  Tag             tag;
  McrBenchClient *client;
  int             fd;
  McrWebSocket   *ws;
  gboolean        open;
  gboolean        failed;
  char           *error;
  guint           count;
  gsize           size;
  guint           window;
  guint           next;
  guint           in_flight;
  guint8         *seen;
  guint           received;
  guint           corrupt;
  gint64          t_start;
  gint64          t_last_receive;
  gint64          t_progress;
  guint8         *buf;
} Udp;

struct _McrBenchClient
{
  GMainContext *context;
  int           epfd;
  GSource      *epoll_source;
  guint8       *scratch;
  GHashTable   *by_seed;       /* seed → Stream *, while a run is on */
  guint64       next_seed;
};

static void stream_pump    (Stream *s);
static void stream_release (Stream *s);
static void stream_start   (Stream *s);
static void run_start_more (Run    *run);

/* ---- epoll inside the main loop ---- */

static void stream_socket_event (Stream  *s,
                                 guint32  events);
static void udp_socket_event    (Udp     *u);

static gboolean
on_epoll (gint         fd,
          GIOCondition condition,
          gpointer     user_data)
{
  McrBenchClient *self = user_data;
  struct epoll_event events[MAX_EVENTS];
  int n = epoll_wait (self->epfd, events, MAX_EVENTS, 0);

  for (int i = 0; i < n; i++)
    {
      Tag *tag = events[i].data.ptr;

      if (*tag == TAG_STREAM)
        stream_socket_event ((Stream *) tag, events[i].events);
      else
        udp_socket_event ((Udp *) tag);
    }
  return G_SOURCE_CONTINUE;
}

McrBenchClient *
mcr_bench_client_new (GMainContext *context)
{
  McrBenchClient *self = g_new0 (McrBenchClient, 1);

  self->context = g_main_context_ref (context);
  self->epfd = epoll_create1 (EPOLL_CLOEXEC);
  self->epoll_source = g_unix_fd_source_new (self->epfd, G_IO_IN);
  g_source_set_callback (self->epoll_source, G_SOURCE_FUNC (on_epoll), self, NULL);
  g_source_attach (self->epoll_source, context);
  self->scratch = g_malloc (IO_CHUNK);
  self->by_seed = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->next_seed = (guint64) g_get_real_time () << 20;
  return self;
}

void
mcr_bench_client_free (McrBenchClient *self)
{
  g_source_destroy (self->epoll_source);
  g_source_unref (self->epoll_source);
  close (self->epfd);
  g_hash_table_unref (self->by_seed);
  g_main_context_unref (self->context);
  g_free (self->scratch);
  g_free (self);
}

static void
set_events (McrBenchClient *self,
            Stream         *s,
            guint32         events)
{
  struct epoll_event ev = { .events = events, .data.ptr = s };

  if (s->events == events)
    return;
  epoll_ctl (self->epfd, s->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s->fd, &ev);
  s->events = events;
}

static int
connect_loopback (guint16 port,
                  int     type)
{
  struct sockaddr_in addr = {
    .sin_family = AF_INET,
    .sin_port = htons (port),
    .sin_addr.s_addr = htonl (INADDR_LOOPBACK),
  };
  int fd = socket (AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;

  if (fd < 0)
    return -1;
  if (type == SOCK_STREAM)
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0 && errno != EINPROGRESS)
    {
      int saved = errno;

      close (fd);
      errno = saved;
      return -1;
    }
  return fd;
}

/* ---- one stream ---- */

static void
run_check_finished (Run *run)
{
  if (run->n_done == run->n_streams)
    run->finished = TRUE;
}

/* The stream got its first byte back, or ended: the next may start. */
static void
stream_opening_done (Stream *s)
{
  if (!s->opening)
    return;
  s->opening = FALSE;
  s->run->n_opening--;
  run_start_more (s->run);
}

static void
stream_finish (Stream     *s,
               const char *error)
{
  Run *run = s->run;

  if (s->finished)
    return;
  s->finished = TRUE;
  stream_opening_done (s);
  if (error != NULL)
    {
      s->error = g_strdup (error);
      if (run->result->error == NULL)
        run->result->error = g_strdup_printf ("stream %u: %s", s->index, error);
    }
  run->n_done++;
  run->result->n_done = run->n_done;
  if (s->exact)
    run->result->n_exact++;
  if (error != NULL || !run->spec->hold_open)
    stream_release (s);
  run_check_finished (run);
}

static void
stream_check_done (Stream *s)
{
  McrBenchMode mode = s->run->spec->mode;
  guint64 payload = s->run->spec->bytes_each;

  if (s->finished)
    return;
  switch (mode)
    {
    case MCR_BENCH_UPLOAD:
      if (s->sent < s->send_total || !s->have_report)
        return;
      s->exact = s->report.complete && s->report.count == payload
                 && s->report.hash == mcr_bench_hash_final (&s->send_hash);
      s->t_first = s->report.t_first;
      s->t_last = s->report.t_last;
      stream_finish (s, s->exact ? NULL
                        : s->report.error != NULL ? s->report.error
                        : "the sink got other bytes than were sent");
      break;
    case MCR_BENCH_DOWNLOAD:
      if (s->received < s->recv_total || !s->have_report)
        return;
      s->exact = s->report.complete && s->report.hash == mcr_bench_hash_final (&s->recv_hash);
      stream_finish (s, s->exact ? NULL : "other bytes came than the source sent");
      break;
    case MCR_BENCH_ECHO:
    default:
      if (s->received < s->recv_total)
        return;
      s->exact = mcr_bench_hash_final (&s->recv_hash) == mcr_bench_hash_final (&s->send_hash);
      stream_finish (s, s->exact ? NULL : "other bytes came back than were sent");
      break;
    }
}

/* The next @len bytes to send, without taking them as sent. */
static void
stream_fill (Stream *s,
             guint8 *buf,
             gsize   len)
{
  if (s->sent < s->header_len)
    {
      guint8 header[MCR_BENCH_HEADER_SIZE];
      gsize n = (gsize) MIN ((guint64) len, s->header_len - s->sent);

      mcr_bench_header_write (header, s->run->spec->bytes_each, s->seed);
      memcpy (buf, header + s->sent, n);
      if (len > n)
        mcr_bench_fill (buf + n, s->seed, 0, len - n);
      return;
    }
  mcr_bench_fill (buf, s->seed, s->sent - s->header_len, len);
}

static void
stream_commit (Stream       *s,
               const guint8 *buf,
               gsize         len)
{
  gsize skip = 0;

  if (s->sent < s->header_len)
    skip = (gsize) MIN ((guint64) len, s->header_len - s->sent);
  mcr_bench_hash_update (&s->send_hash, buf + skip, len - skip);
  s->sent += len;
  s->t_progress = g_get_monotonic_time ();
}

static void
stream_received (Stream       *s,
                 const guint8 *data,
                 gsize         len)
{
  if (s->finished || len == 0)
    return;
  if (s->received + len > s->recv_total)
    {
      stream_finish (s, s->recv_total == 0 ? "bytes came back from the sink"
                        : "more bytes came than were asked for");
      return;
    }
  s->t_progress = g_get_monotonic_time ();
  s->pieces++;
  if (s->received == 0)
    {
      s->t_first = s->t_progress;
      stream_opening_done (s);
    }
  mcr_bench_hash_update (&s->recv_hash, data, len);
  s->received += len;
  if (s->received == s->recv_total)
    {
      s->t_last = g_get_monotonic_time ();
      stream_check_done (s);
    }
}

static void
stream_opened (Stream *s)
{
  Run *run = s->run;

  s->open = TRUE;
  s->t_progress = g_get_monotonic_time ();
  run->n_open++;
  run->result->max_open = MAX (run->result->max_open, run->n_open);
  stream_pump (s);
}

static void
stream_socket_pump (Stream *s)
{
  McrBenchClient *self = s->run->client;

  while (s->sent < s->send_total)
    {
      gsize want = (gsize) MIN ((guint64) IO_CHUNK, s->send_total - s->sent);
      ssize_t n;

      stream_fill (s, self->scratch, want);
      n = send (s->fd, self->scratch, want, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        {
          set_events (self, s, EPOLLIN | EPOLLOUT);
          return;
        }
      if (n < 0)
        {
          stream_finish (s, g_strerror (errno));
          return;
        }
      stream_commit (s, self->scratch, (gsize) n);
    }
  /* An upload ends like `nc -N`: the write side is shut, the sink still
   * has to get every byte. */
  if (s->run->spec->mode == MCR_BENCH_UPLOAD)
    shutdown (s->fd, SHUT_WR);
  set_events (self, s, EPOLLIN);
  stream_check_done (s);
}

static void
stream_ws_pump (Stream *s)
{
  while (s->sent < s->send_total && mcr_websocket_can_send (s->ws))
    {
      gsize max = 0, n;
      guint8 *space = mcr_websocket_begin_send (s->ws, &max);

      if (space == NULL || max == 0)
        return;
      n = (gsize) MIN ((guint64) max, s->send_total - s->sent);
      stream_fill (s, space, n);
      stream_commit (s, space, n);
      mcr_websocket_end_send (s->ws, MCR_WEBSOCKET_BINARY, n);
    }
  if (s->sent == s->send_total)
    stream_check_done (s);
}

static void
stream_pump (Stream *s)
{
  if (!s->open || s->released)
    return;
  if (s->ws != NULL)
    stream_ws_pump (s);
  else
    stream_socket_pump (s);
}

static void
stream_socket_read (Stream *s)
{
  McrBenchClient *self = s->run->client;

  for (int budget = READ_BUDGET; budget > 0 && !s->released; budget--)
    {
      ssize_t n = recv (s->fd, self->scratch, IO_CHUNK, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          stream_finish (s, g_strerror (errno));
          return;
        }
      if (n == 0)
        {
          /* Stop watching a socket at its end; an upload's sink says by
           * its report whether everything arrived. */
          epoll_ctl (self->epfd, EPOLL_CTL_DEL, s->fd, NULL);
          s->events = 0;
          if (!s->finished && s->received < s->recv_total)
            {
              g_autofree char *msg = NULL;

              msg = g_strdup_printf ("the connection ended after %" G_GUINT64_FORMAT
                                     " of %" G_GUINT64_FORMAT " bytes", s->received, s->recv_total);
              stream_finish (s, msg);
            }
          return;
        }
      stream_received (s, self->scratch, (gsize) n);
    }
}

static void
stream_socket_event (Stream  *s,
                     guint32  events)
{
  if (s->released)
    return;
  if (!s->open)
    {
      int err = 0;
      socklen_t len = sizeof err;

      getsockopt (s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0)
        {
          stream_finish (s, g_strerror (err));
          return;
        }
      set_events (s->run->client, s, EPOLLIN);
      stream_opened (s);
      return;
    }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
    stream_socket_read (s);
  if ((events & EPOLLOUT) && !s->released)
    stream_pump (s);
}

static gsize
on_ws_receive (McrWebSocket        *ws,
               McrWebSocketDataType type,
               const guint8        *data,
               gsize                len,
               gboolean             end,
               gpointer             user_data)
{
  Stream *s = user_data;

  if (type == MCR_WEBSOCKET_TEXT)
    {
      /* 'c' (or 'cr'): the relay joined both halves. Later text is the
       * relay's own control traffic. */
      if (!s->open && len >= 1 && data[0] == 'c')
        stream_opened (s);
      return len;
    }
  stream_received (s, data, len);
  return len;
}

static void
on_ws_writable (McrWebSocket *ws,
                gpointer      user_data)
{
  stream_pump (user_data);
}

static void
on_ws_closed (McrWebSocket *ws,
              gpointer      user_data)
{
  Stream *s = user_data;
  const GError *error = mcr_websocket_get_error (ws);
  g_autofree char *msg = NULL;

  if (s->finished)
    return;
  msg = g_strdup_printf ("the relay closed (%u%s%s) after %" G_GUINT64_FORMAT " bytes in",
                         mcr_websocket_get_close_code (ws), error ? ": " : "",
                         error ? error->message : "", s->received);
  stream_finish (s, msg);
}

static void
on_ws_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Stream *s = user_data;
  g_autoptr(GError) error = NULL;

  if (!mcr_websocket_connect_finish (MCR_WEBSOCKET (source), result, &error))
    stream_finish (s, error->message);
}

static McrWebSocket *
relay_websocket_new (const McrBenchTarget *target,
                     guint                 alt,
                     McrProtocol           protocol,
                     GError              **error)
{
  g_autoptr(GUri) uri = mcr_server_build_relay_uri (target->server, target->device[alt], protocol,
                                                    target->remote_port[alt], NULL);
  McrWebSocket *ws;

  if (uri == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no relay URI (no auth cookie?)");
      return NULL;
    }
  ws = mcr_websocket_new (uri);
  /* The same certificate decision as the router's tunnels, with the same
   * memory of chains already accepted. */
  mcr_websocket_set_tls_policy (ws, mcr_server_get_tls_policy (target->server));
  return ws;
}

static void
stream_start (Stream *s)
{
  const McrBenchTarget *target = s->run->target;
  guint alt = s->index % MAX (target->n_alt, 1);
  g_autoptr(GError) error = NULL;

  s->t_start = s->t_progress = g_get_monotonic_time ();
  s->started = TRUE;
  s->opening = TRUE;
  s->run->n_started++;
  s->run->n_opening++;
  if (target->path != MCR_BENCH_PATH_RELAY)
    {
      s->fd = connect_loopback (target->port[alt], SOCK_STREAM);
      if (s->fd < 0)
        {
          stream_finish (s, g_strerror (errno));
          return;
        }
      set_events (s->run->client, s, EPOLLOUT);
      return;
    }
  s->ws = relay_websocket_new (target, alt, MCR_PROTOCOL_TCP, &error);
  if (s->ws == NULL)
    {
      stream_finish (s, error->message);
      return;
    }
  mcr_websocket_set_binary_stream (s->ws, TRUE);
  mcr_websocket_set_receive_func (s->ws, on_ws_receive, s, NULL);
  g_signal_connect (s->ws, "writable", G_CALLBACK (on_ws_writable), s);
  g_signal_connect (s->ws, "closed", G_CALLBACK (on_ws_closed), s);
  mcr_websocket_connect_async (s->ws, NULL, on_ws_connected, s);
}

static void
stream_release (Stream *s)
{
  McrBenchClient *self = s->run->client;

  if (s->released)
    return;
  s->released = TRUE;
  if (s->open)
    s->run->n_open--;
  if (s->fd >= 0)
    {
      if (s->events != 0)
        epoll_ctl (self->epfd, EPOLL_CTL_DEL, s->fd, NULL);
      close (s->fd);
      s->fd = -1;
    }
  if (s->ws != NULL)
    mcr_websocket_close (s->ws, MCR_WEBSOCKET_CLOSE_NORMAL, NULL);
}

void
mcr_bench_client_report (McrBenchClient       *self,
                         const McrBenchReport *report)
{
  Stream *s = g_hash_table_lookup (self->by_seed, &report->seed);

  if (s == NULL || s->have_report)
    return;
  s->have_report = TRUE;
  s->report = *report;
  s->report.error = g_strdup (report->error);
  if (!report->complete && !s->finished)
    {
      stream_finish (s, report->error ? report->error : "the service did not get everything");
      return;
    }
  stream_check_done (s);
}

static gboolean
on_run_timeout (gpointer user_data)
{
  gboolean *fired = user_data;

  *fired = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
websockets_closed (Run *run)
{
  for (guint i = 0; i < run->n_streams; i++)
    {
      McrWebSocket *ws = run->streams[i]->ws;

      if (ws != NULL && mcr_websocket_get_state (ws) != MCR_WEBSOCKET_STATE_CLOSED
          && mcr_websocket_get_state (ws) != MCR_WEBSOCKET_STATE_NEW)
        return FALSE;
    }
  return TRUE;
}

static void
wait_until (GMainContext *context,
            gboolean    (*done) (gpointer),
            gpointer      data,
            guint         timeout_ms)
{
  gboolean fired = FALSE;
  GSource *timeout = g_timeout_source_new (timeout_ms);

  g_source_set_callback (timeout, on_run_timeout, &fired, NULL);
  g_source_attach (timeout, context);
  while (!fired && !done (data))
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
}

static gboolean
websocket_settled (gpointer data)
{
  McrWebSocketState state = mcr_websocket_get_state (data);

  return state == MCR_WEBSOCKET_STATE_CLOSED || state == MCR_WEBSOCKET_STATE_NEW;
}

static gboolean
run_is_finished (gpointer data)
{
  return ((Run *) data)->finished;
}

static void
fill_result (Run *run)
{
  McrBenchRunResult *r = run->result;

  r->ok = run->finished && r->n_exact == run->n_streams;
  r->first_byte_ms = g_new0 (double, run->n_streams);
  for (guint i = 0; i < run->n_streams; i++)
    {
      Stream *s = run->streams[i];

      if (!s->exact)
        continue;
      r->bytes += run->spec->bytes_each;
      r->pieces += s->pieces;
      if (s->t_first != 0 && (r->t_first_byte == 0 || s->t_first < r->t_first_byte))
        r->t_first_byte = s->t_first;
      r->t_last_byte = MAX (r->t_last_byte, s->t_last);
      if (s->t_first != 0)
        r->first_byte_ms[i] = (double) (s->t_first - s->t_start) / 1000.0;
    }
}

static void
run_start_more (Run *run)
{
  guint max = run->spec->max_opening;

  /* stream_start() may end a stream at once, which calls back here. */
  if (run->starting)
    return;
  run->starting = TRUE;
  while (run->n_started < run->n_streams && (max == 0 || run->n_opening < max))
    stream_start (run->streams[run->n_started]);
  run->starting = FALSE;
}

static gboolean
on_stall_check (gpointer user_data)
{
  Run *run = user_data;
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < run->n_started; i++)
    {
      Stream *s = run->streams[i];

      if (!s->finished && now - s->t_progress > STALL_US)
        {
          g_autofree char *msg = g_strdup_printf ("nothing moved for %d s (%s, %" G_GUINT64_FORMAT
                                                  " bytes out, %" G_GUINT64_FORMAT " in)",
                                                  (int) (STALL_US / G_USEC_PER_SEC),
                                                  s->open ? "open" : "not open yet",
                                                  s->sent, s->received);
          stream_finish (s, msg);
        }
    }
  return G_SOURCE_CONTINUE;
}

void
mcr_bench_client_run (McrBenchClient        *self,
                      const McrBenchTarget  *target,
                      const McrBenchRunSpec *spec,
                      McrBenchRunResult     *result)
{
  Run run = { self, target, spec, result, NULL, spec->n_streams };
  GSource *stall;

  memset (result, 0, sizeof *result);
  run.streams = g_new0 (Stream *, spec->n_streams);
  for (guint i = 0; i < spec->n_streams; i++)
    {
      Stream *s = g_new0 (Stream, 1);

      s->tag = TAG_STREAM;
      s->run = &run;
      s->index = i;
      s->fd = -1;
      s->seed = self->next_seed++;
      switch (spec->mode)
        {
        case MCR_BENCH_UPLOAD:
          s->header_len = MCR_BENCH_HEADER_SIZE;
          s->send_total = MCR_BENCH_HEADER_SIZE + spec->bytes_each;
          break;
        case MCR_BENCH_DOWNLOAD:
          s->header_len = MCR_BENCH_HEADER_SIZE;
          s->send_total = MCR_BENCH_HEADER_SIZE;
          s->recv_total = spec->bytes_each;
          break;
        case MCR_BENCH_ECHO:
        default:
          s->send_total = spec->bytes_each;
          s->recv_total = spec->bytes_each;
          break;
        }
      mcr_bench_hash_init (&s->send_hash);
      mcr_bench_hash_init (&s->recv_hash);
      run.streams[i] = s;
      g_hash_table_insert (self->by_seed, &s->seed, s);
    }

  result->t_start = g_get_monotonic_time ();
  stall = g_timeout_source_new_seconds (1);
  g_source_set_callback (stall, on_stall_check, &run, NULL);
  g_source_attach (stall, self->context);
  run_start_more (&run);
  wait_until (self->context, run_is_finished, &run, spec->timeout_s * 1000);
  g_source_destroy (stall);
  g_source_unref (stall);
  result->t_end = g_get_monotonic_time ();
  if (!run.finished && result->error == NULL)
    result->error = g_strdup_printf ("timed out after %u s with %u of %u streams done",
                                     spec->timeout_s, run.n_done, run.n_streams);
  fill_result (&run);

  for (guint i = 0; i < spec->n_streams; i++)
    stream_release (run.streams[i]);
  wait_until (self->context, (gboolean (*) (gpointer)) websockets_closed, &run, 10000);
  for (guint i = 0; i < spec->n_streams; i++)
    {
      Stream *s = run.streams[i];

      g_hash_table_remove (self->by_seed, &s->seed);
      if (s->ws != NULL)
        {
          g_signal_handlers_disconnect_by_data (s->ws, s);
          mcr_websocket_set_receive_func (s->ws, NULL, NULL, NULL);
          g_object_unref (s->ws);
        }
      g_free (s->report.error);
      g_free (s->error);
      g_free (s);
    }
  g_free (run.streams);
}

void
mcr_bench_run_result_clear (McrBenchRunResult *result)
{
  g_clear_pointer (&result->error, g_free);
  g_clear_pointer (&result->first_byte_ms, g_free);
}

/* ---- UDP ---- */

#define UDP_STALL_US   (200 * 1000)
#define UDP_DRAIN_US   (500 * 1000)

static void
udp_make (Udp    *u,
          guint   seq,
          guint8 *buf)
{
  guint64 le = GUINT64_TO_LE ((guint64) seq);

  memcpy (buf, &le, 8);
  mcr_bench_fill (buf + 8, 0x5eed0000ULL + seq, 0, u->size - 8);
}

static void
udp_send_one (Udp *u)
{
  guint seq = u->next++;

  udp_make (u, seq, u->buf);
  u->in_flight++;
  if (u->t_start == 0)
    u->t_start = g_get_monotonic_time ();
  if (u->ws != NULL)
    mcr_websocket_send (u->ws, MCR_WEBSOCKET_BINARY, u->buf, u->size);
  else if (send (u->fd, u->buf, u->size, MSG_DONTWAIT) < 0)
    {
      /* The local socket buffer is full: the datagram is lost here. */
    }
}

static void
udp_pump (Udp *u)
{
  if (!u->open || u->failed)
    return;
  while (u->next < u->count && u->in_flight < u->window)
    {
      if (u->ws != NULL && !mcr_websocket_can_send (u->ws))
        return;
      udp_send_one (u);
    }
}

static void
udp_received (Udp          *u,
              const guint8 *data,
              gsize         len)
{
  guint64 seq;
  guint8 *expected = u->buf + u->size;

  u->t_progress = g_get_monotonic_time ();
  if (u->in_flight > 0)
    u->in_flight--;
  if (len != u->size)
    {
      u->corrupt++;
      return;
    }
  memcpy (&seq, data, 8);
  seq = GUINT64_FROM_LE (seq);
  if (seq >= u->next)
    {
      u->corrupt++;
      return;
    }
  udp_make (u, (guint) seq, expected);
  if (memcmp (expected, data, len) != 0)
    {
      u->corrupt++;
      return;
    }
  if (!u->seen[seq])
    {
      u->seen[seq] = 1;
      u->received++;
      u->t_last_receive = u->t_progress;
    }
  udp_pump (u);
}

static void
udp_socket_event (Udp *u)
{
  for (;;)
    {
      ssize_t n = recv (u->fd, u->client->scratch, 65536, MSG_DONTWAIT);

      if (n < 0)
        return;
      udp_received (u, u->client->scratch, (gsize) n);
    }
}

static gsize
on_udp_ws_receive (McrWebSocket        *ws,
                   McrWebSocketDataType type,
                   const guint8        *data,
                   gsize                len,
                   gboolean             end,
                   gpointer             user_data)
{
  Udp *u = user_data;

  if (type == MCR_WEBSOCKET_TEXT)
    {
      if (!u->open && len >= 1 && data[0] == 'c')
        {
          u->open = TRUE;
          u->t_progress = g_get_monotonic_time ();
          udp_pump (u);
        }
      return len;
    }
  udp_received (u, data, len);
  return len;
}

static void
on_udp_ws_writable (McrWebSocket *ws,
                    gpointer      user_data)
{
  udp_pump (user_data);
}

static void
on_udp_ws_closed (McrWebSocket *ws,
                  gpointer      user_data)
{
  Udp *u = user_data;

  if (!u->failed && u->error == NULL)
    {
      u->failed = TRUE;
      u->error = g_strdup_printf ("the relay closed (%u)", mcr_websocket_get_close_code (ws));
    }
}

static void
on_udp_ws_connected (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Udp *u = user_data;
  g_autoptr(GError) error = NULL;

  if (!mcr_websocket_connect_finish (MCR_WEBSOCKET (source), result, &error))
    {
      u->failed = TRUE;
      u->error = g_strdup (error->message);
    }
}

static gboolean
udp_is_done (gpointer data)
{
  Udp *u = data;
  gint64 now = g_get_monotonic_time ();

  if (u->failed)
    return TRUE;
  if (u->open && u->in_flight > 0 && now - u->t_progress > UDP_STALL_US)
    {
      /* What has not come back by now is lost; go on with new ones. */
      u->in_flight = 0;
      u->t_progress = now;
      udp_pump (u);
    }
  return u->next == u->count && (u->in_flight == 0 || now - u->t_progress > UDP_DRAIN_US);
}

static gboolean
on_udp_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE; /* only wakes the loop so that udp_is_done() runs */
}

void
mcr_bench_client_run_udp (McrBenchClient       *self,
                          const McrBenchTarget *target,
                          guint                 count,
                          gsize                 size,
                          guint                 window,
                          McrBenchUdpResult    *result)
{
  Udp u = { TAG_UDP, self, -1 };
  GSource *tick;
  int bufsize = 4 * 1024 * 1024;

  memset (result, 0, sizeof *result);
  u.count = count;
  u.size = MAX (size, 16);
  u.window = window;
  u.seen = g_new0 (guint8, count);
  u.buf = g_malloc (2 * u.size);

  if (target->path == MCR_BENCH_PATH_RELAY)
    {
      g_autoptr(GError) error = NULL;

      u.ws = relay_websocket_new (target, 0, MCR_PROTOCOL_UDP, &error);
      if (u.ws == NULL)
        {
          u.failed = TRUE;
          u.error = g_strdup (error->message);
        }
      else
        {
          mcr_websocket_set_binary_stream (u.ws, FALSE);
          mcr_websocket_set_receive_func (u.ws, on_udp_ws_receive, &u, NULL);
          g_signal_connect (u.ws, "writable", G_CALLBACK (on_udp_ws_writable), &u);
          g_signal_connect (u.ws, "closed", G_CALLBACK (on_udp_ws_closed), &u);
          mcr_websocket_connect_async (u.ws, NULL, on_udp_ws_connected, &u);
        }
    }
  else
    {
      struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &u };

      u.fd = connect_loopback (target->port[0], SOCK_DGRAM);
      setsockopt (u.fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
      epoll_ctl (self->epfd, EPOLL_CTL_ADD, u.fd, &ev);
      u.open = TRUE;
      u.t_progress = g_get_monotonic_time ();
      udp_pump (&u);
    }

  tick = g_timeout_source_new (20);
  g_source_set_callback (tick, on_udp_tick, NULL, NULL);
  g_source_attach (tick, self->context);
  wait_until (self->context, udp_is_done, &u, 60000 + count);
  g_source_destroy (tick);
  g_source_unref (tick);

  result->sent = u.next;
  result->received = u.received;
  result->corrupt = u.corrupt;
  result->ok = !u.failed && u.next == u.count && u.corrupt == 0;
  result->error = u.error != NULL ? u.error
                  : u.next < u.count ? g_strdup_printf ("only %u of %u datagrams went out",
                                                        u.next, u.count)
                  : u.corrupt > 0 ? g_strdup_printf ("%u datagrams came back damaged", u.corrupt)
                  : NULL;
  if (u.received > 0 && u.t_last_receive > u.t_start)
    result->per_second = (double) u.received * 1e6 / (double) (u.t_last_receive - u.t_start);
  result->loss_percent = u.next > 0 ? 100.0 * (double) (u.next - u.received) / u.next : 100.0;

  if (u.fd >= 0)
    {
      epoll_ctl (self->epfd, EPOLL_CTL_DEL, u.fd, NULL);
      close (u.fd);
    }
  if (u.ws != NULL)
    {
      McrWebSocket *ws = u.ws;

      mcr_websocket_close (ws, MCR_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_signal_handlers_disconnect_by_data (ws, &u);
      mcr_websocket_set_receive_func (ws, NULL, NULL, NULL);
      wait_until (self->context, websocket_settled, ws, 10000);
      g_object_unref (ws);
    }
  g_free (u.seen);
  g_free (u.buf);
}
