/* mcr-bench-services.c: what the agent reaches on 127.0.0.1 — a TCP sink that
 * hashes what it gets, a TCP source that sends deterministic bytes, a TCP echo
 * and a UDP echo — in one thread of their own, on epoll
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-bench"
#define _GNU_SOURCE

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mcr-bench.h"

#define IO_CHUNK     (256 * 1024)
#define ECHO_BUFFER  (64 * 1024)
#define MAX_EVENTS   256

typedef enum
{
  ITEM_LISTENER,
  ITEM_CONN,
  ITEM_UDP,
  ITEM_WAKE,
} ItemType;

typedef struct
{
  ItemType            type;
  int                 fd;
  McrBenchServiceKind kind;
} Item;

typedef struct
{
  Item          item;
  guint8        header[MCR_BENCH_HEADER_SIZE];
  gsize         header_len;
  gboolean      have_header;
  guint64       length;
  guint64       seed;
  guint64       count;
  McrBenchHash  hash;
  gint64        t_first;
  gint64        t_last;
  gboolean      reported;
  gboolean      send_done;   /* source: all sent, write side shut */
  guint8       *echo_buf;    /* echo: read, not yet written */
  gsize         echo_pos;
  gsize         echo_len;
  guint32       events;
} Conn;

struct _McrBenchServices
{
  GMainContext       *context;
  McrBenchReportFunc  func;
  gpointer            user_data;
  int                 epfd;
  Item                listeners[2 + MCR_BENCH_N_ECHO];
  Item                udp;
  Item                wake;
  guint16             ports[2 + MCR_BENCH_N_ECHO];
  guint16             udp_port;
  GThread            *thread;
  gint                n_open;
  guint8             *scratch;
  gboolean            stopping;
};

typedef struct
{
  McrBenchServices *services;
  McrBenchReport    report;
} PendingReport;

static gboolean
deliver_report (gpointer data)
{
  PendingReport *p = data;

  p->services->func (&p->report, p->services->user_data);
  return G_SOURCE_REMOVE;
}

static void
free_report (gpointer data)
{
  PendingReport *p = data;

  g_free (p->report.error);
  g_free (p);
}

static void
post_report (McrBenchServices *self,
             Conn             *c,
             const char       *error)
{
  PendingReport *p;

  if (c->reported || !c->have_header)
    return;
  c->reported = TRUE;
  p = g_new0 (PendingReport, 1);
  p->services = self;
  p->report.kind = c->item.kind;
  p->report.seed = c->seed;
  p->report.length = c->length;
  p->report.count = c->count;
  p->report.hash = mcr_bench_hash_final (&c->hash);
  p->report.t_first = c->t_first;
  p->report.t_last = c->t_last;
  p->report.complete = error == NULL && c->count == c->length;
  p->report.error = g_strdup (error);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, deliver_report, p, free_report);
}

static void
set_events (McrBenchServices *self,
            Conn             *c,
            guint32           events)
{
  struct epoll_event ev = { .events = events, .data.ptr = c };

  if (c->events == events)
    return;
  c->events = events;
  epoll_ctl (self->epfd, EPOLL_CTL_MOD, c->item.fd, &ev);
}

static void
conn_close (McrBenchServices *self,
            Conn             *c)
{
  epoll_ctl (self->epfd, EPOLL_CTL_DEL, c->item.fd, NULL);
  close (c->item.fd);
  g_free (c->echo_buf);
  g_free (c);
  g_atomic_int_add (&self->n_open, -1);
}

/* Reads the request header; FALSE when the connection is gone. */
static gboolean
read_header (McrBenchServices *self,
             Conn             *c)
{
  while (c->header_len < MCR_BENCH_HEADER_SIZE)
    {
      ssize_t n = recv (c->item.fd, c->header + c->header_len,
                        MCR_BENCH_HEADER_SIZE - c->header_len, 0);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return TRUE;
      if (n <= 0)
        {
          conn_close (self, c);
          return FALSE;
        }
      c->header_len += (gsize) n;
    }
  if (!mcr_bench_header_read (c->header, &c->length, &c->seed))
    {
      g_printerr ("mcr-bench: a connection to the %s sent no valid header\n",
                  c->item.kind == MCR_BENCH_SERVICE_SINK ? "sink" : "source");
      conn_close (self, c);
      return FALSE;
    }
  c->have_header = TRUE;
  mcr_bench_hash_init (&c->hash);
  if (c->item.kind == MCR_BENCH_SERVICE_SOURCE)
    set_events (self, c, EPOLLIN | EPOLLOUT);
  return TRUE;
}

static void
sink_readable (McrBenchServices *self,
               Conn             *c)
{
  if (!c->have_header && (!read_header (self, c) || !c->have_header))
    return;
  /* A budget per wakeup, so that parallel streams share the thread fairly. */
  for (int budget = 32; budget > 0; budget--)
    {
      ssize_t n = recv (c->item.fd, self->scratch, IO_CHUNK, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          post_report (self, c, c->count == c->length ? NULL
                                : n == 0 ? "the connection ended early"
                                : g_strerror (errno));
          conn_close (self, c);
          return;
        }
      if (c->count == 0)
        c->t_first = g_get_monotonic_time ();
      if (c->count + (guint64) n > c->length)
        {
          post_report (self, c, "more bytes came than were sent");
          conn_close (self, c);
          return;
        }
      mcr_bench_hash_update (&c->hash, self->scratch, (gsize) n);
      c->count += (guint64) n;
      if (c->count == c->length)
        {
          /* All there: close, as a server does after a request, so that
           * the tunnel ends from the far side too. */
          c->t_last = g_get_monotonic_time ();
          post_report (self, c, NULL);
          conn_close (self, c);
          return;
        }
    }
}

static void
source_writable (McrBenchServices *self,
                 Conn             *c)
{
  for (int budget = 32; c->count < c->length; )
    {
      gsize want = (gsize) MIN ((guint64) IO_CHUNK, c->length - c->count);
      ssize_t n;

      mcr_bench_fill (self->scratch, c->seed, c->count, want);
      n = send (c->item.fd, self->scratch, want, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          post_report (self, c, g_strerror (errno));
          conn_close (self, c);
          return;
        }
      if (c->count == 0)
        c->t_first = g_get_monotonic_time ();
      mcr_bench_hash_update (&c->hash, self->scratch, (gsize) n);
      c->count += (guint64) n;
      if (--budget == 0 && c->count < c->length)
        return; /* more when epoll says so again */
    }
  c->t_last = g_get_monotonic_time ();
  post_report (self, c, NULL);
  shutdown (c->item.fd, SHUT_WR);
  c->send_done = TRUE;
  set_events (self, c, EPOLLIN);
}

/* FALSE when the connection is gone. */
static gboolean
source_readable (McrBenchServices *self,
                 Conn             *c)
{
  if (!c->have_header)
    return read_header (self, c);
  /* Nothing more is expected: wait for the end. */
  for (;;)
    {
      ssize_t n = recv (c->item.fd, self->scratch, IO_CHUNK, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return TRUE;
      if (n <= 0)
        {
          if (!c->send_done)
            post_report (self, c, "the connection ended before everything was sent");
          conn_close (self, c);
          return FALSE;
        }
    }
}

/* Echo: read what fits, write it back; stop reading while a write is stuck. */
static void
echo_io (McrBenchServices *self,
         Conn             *c)
{
  for (;;)
    {
      while (c->echo_pos < c->echo_len)
        {
          ssize_t n = send (c->item.fd, c->echo_buf + c->echo_pos, c->echo_len - c->echo_pos,
                            MSG_NOSIGNAL);

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && errno == EAGAIN)
            {
              set_events (self, c, EPOLLOUT);
              return;
            }
          if (n < 0)
            {
              conn_close (self, c);
              return;
            }
          c->echo_pos += (gsize) n;
        }
      c->echo_pos = c->echo_len = 0;
      {
        ssize_t n = recv (c->item.fd, c->echo_buf, ECHO_BUFFER, 0);

        if (n < 0 && errno == EINTR)
          continue;
        if (n < 0 && errno == EAGAIN)
          {
            set_events (self, c, EPOLLIN);
            return;
          }
        if (n <= 0)
          {
            conn_close (self, c);
            return;
          }
        c->echo_len = (gsize) n;
      }
    }
}

static void
accept_all (McrBenchServices *self,
            Item             *listener)
{
  for (;;)
    {
      int fd = accept4 (listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      struct epoll_event ev;
      Conn *c;
      int one = 1;

      if (fd < 0)
        {
          if (errno == EMFILE || errno == ENFILE)
            g_printerr ("mcr-bench: services: %s\n", g_strerror (errno));
          return;
        }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c = g_new0 (Conn, 1);
      c->item.type = ITEM_CONN;
      c->item.fd = fd;
      c->item.kind = listener->kind;
      if (c->item.kind == MCR_BENCH_SERVICE_ECHO)
        c->echo_buf = g_malloc (ECHO_BUFFER);
      c->events = EPOLLIN;
      ev.events = EPOLLIN;
      ev.data.ptr = c;
      epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &ev);
      g_atomic_int_inc (&self->n_open);
    }
}

static void
udp_echo (McrBenchServices *self)
{
  for (;;)
    {
      struct sockaddr_storage from;
      socklen_t from_len = sizeof from;
      ssize_t n = recvfrom (self->udp.fd, self->scratch, 65536, 0, (struct sockaddr *) &from,
                            &from_len);

      if (n < 0)
        return;
      /* A reply that does not fit the socket buffer is lost, as on a network. */
      sendto (self->udp.fd, self->scratch, (size_t) n, MSG_DONTWAIT, (struct sockaddr *) &from,
              from_len);
    }
}

static void
conn_event (McrBenchServices *self,
            Conn             *c,
            guint32           events)
{
  switch (c->item.kind)
    {
    case MCR_BENCH_SERVICE_SINK:
      sink_readable (self, c);
      break;
    case MCR_BENCH_SERVICE_SOURCE:
      if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !source_readable (self, c))
        return;
      if (c->have_header && !c->send_done)
        source_writable (self, c);
      break;
    case MCR_BENCH_SERVICE_ECHO:
    default:
      echo_io (self, c);
      break;
    }
}

static gpointer
services_thread (gpointer data)
{
  McrBenchServices *self = data;
  struct epoll_event events[MAX_EVENTS];

  while (!self->stopping)
    {
      int n = epoll_wait (self->epfd, events, MAX_EVENTS, -1);

      for (int i = 0; i < n; i++)
        {
          Item *item = events[i].data.ptr;

          switch (item->type)
            {
            case ITEM_LISTENER:
              accept_all (self, item);
              break;
            case ITEM_UDP:
              udp_echo (self);
              break;
            case ITEM_WAKE:
              self->stopping = TRUE;
              break;
            case ITEM_CONN:
            default:
              conn_event (self, (Conn *) item, events[i].events);
              break;
            }
          if (self->stopping)
            break;
        }
    }
  return NULL;
}

static int
bind_loopback (int       type,
               guint16  *port,
               GError  **error)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;

  if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
      || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0
      || (type == SOCK_STREAM && listen (fd, 4096) < 0)
      || getsockname (fd, (struct sockaddr *) &addr, &len) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot listen on 127.0.0.1: %s", g_strerror (errno));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  *port = ntohs (addr.sin_port);
  return fd;
}

static void
add_item (McrBenchServices *self,
          Item             *item)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = item };

  epoll_ctl (self->epfd, EPOLL_CTL_ADD, item->fd, &ev);
}

McrBenchServices *
mcr_bench_services_start (GMainContext       *context,
                          McrBenchReportFunc  func,
                          gpointer            user_data,
                          GError            **error)
{
  McrBenchServices *self = g_new0 (McrBenchServices, 1);
  int bufsize = 4 * 1024 * 1024;

  self->context = g_main_context_ref (context);
  self->func = func;
  self->user_data = user_data;
  self->scratch = g_malloc (MAX (IO_CHUNK, 65536));
  self->epfd = epoll_create1 (EPOLL_CLOEXEC);
  for (int k = 0; k < 2 + MCR_BENCH_N_ECHO; k++)
    {
      self->listeners[k].type = ITEM_LISTENER;
      self->listeners[k].kind = (McrBenchServiceKind) MIN (k, MCR_BENCH_SERVICE_ECHO);
      self->listeners[k].fd = bind_loopback (SOCK_STREAM, &self->ports[k], error);
      if (self->listeners[k].fd < 0)
        return NULL; /* a tool: the process ends on this error */
      add_item (self, &self->listeners[k]);
    }
  self->udp.type = ITEM_UDP;
  self->udp.fd = bind_loopback (SOCK_DGRAM, &self->udp_port, error);
  if (self->udp.fd < 0)
    return NULL;
  setsockopt (self->udp.fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  setsockopt (self->udp.fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  add_item (self, &self->udp);
  self->wake.type = ITEM_WAKE;
  self->wake.fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  add_item (self, &self->wake);
  self->thread = g_thread_new ("services", services_thread, self);
  return self;
}

guint16
mcr_bench_services_get_port (McrBenchServices   *self,
                             McrBenchServiceKind kind)
{
  return self->ports[kind];
}

guint16
mcr_bench_services_get_echo_port (McrBenchServices *self,
                                  guint             i)
{
  return self->ports[MCR_BENCH_SERVICE_ECHO + MIN (i, MCR_BENCH_N_ECHO - 1)];
}

guint16
mcr_bench_services_get_udp_port (McrBenchServices *self)
{
  return self->udp_port;
}

guint
mcr_bench_services_get_n_open (McrBenchServices *self)
{
  return (guint) g_atomic_int_get (&self->n_open);
}

void
mcr_bench_services_stop (McrBenchServices *self)
{
  guint64 one = 1;

  if (write (self->wake.fd, &one, sizeof one) < 0)
    g_printerr ("mcr-bench: cannot stop the services: %s\n", g_strerror (errno));
  g_thread_join (self->thread);
  /* Connections still open are left to the end of the process. */
  for (int k = 0; k < 2 + MCR_BENCH_N_ECHO; k++)
    close (self->listeners[k].fd);
  close (self->udp.fd);
  close (self->wake.fd);
  close (self->epfd);
  g_main_context_unref (self->context);
  g_free (self->scratch);
  g_free (self);
}
