/* mcr-tls-stream.c: the TLS client of a tunnel, straight on GnuTLS
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Why not GTlsClientConnection: glib-networking gives every connection its
 * own GnuTLS credentials (a trust list each, ~6 KB), parses the server's
 * certificate chain into GTlsCertificates that live as long as the
 * connection (~26 KB of libtasn1 tree per tunnel, measured), keeps the
 * session tickets, and runs each handshake on a worker thread. With a
 * thousand tunnels that was 40 of the router's 56 MB of heap. Here all
 * tunnels share one set of credentials and one priority cache, the
 * handshake runs on the main loop, and the owner decides about the
 * certificate from its DER bytes, parsing it only when it has not seen it
 * (see McrTlsPolicy's memory of accepted chains).
 *
 * The GnuTLS settings are glib-networking's: its default priority string
 * (or $G_TLS_GNUTLS_PRIORITY), SNI for host names; but X25519 comes first
 * and only its key share is sent. Session tickets are not asked for:
 * tunnels never resume.
 *
 * The input and output streams are two small private classes of this file:
 * they exist only as the two halves of this GIOStream.
 */
#define G_LOG_DOMAIN "mcr-tls-stream"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "mcr-tls-stream.h"

/* What one recv() may take: several of the relay's records. GnuTLS reads a
 * record's 5-byte header and then its body, two system calls per 4 KiB
 * frame of the agent otherwise. */
#define READ_BLOCK (64 * 1024)

struct _McrTlsStream
{
  GIOStream          parent_instance;

  GSocketConnection *connection;
  GSocket           *socket;
  int                fd;
  gnutls_session_t   session;
  GInputStream      *input;
  GOutputStream     *output;

  /* Read from the socket, not yet taken by GnuTLS: block[pos..len). */
  guint8            *block;
  gsize              pos;
  gsize              len;
  int                io_errno;     /* of the last failed recv()/send() */
  gboolean           pull_blocked; /* the last pull() found the socket empty */
  gboolean           drained;      /* the last recv() came back short */
  gboolean           send_pending; /* a record waits in GnuTLS (EAGAIN) */
  gboolean           handshaked;

  GTask             *handshake_task;
  GSource           *handshake_source;
};

G_DEFINE_FINAL_TYPE (McrTlsStream, mcr_tls_stream, G_TYPE_IO_STREAM)

/* ---- shared GnuTLS state ---- */

/* GnuTLS's default groups, in its order but X25519 first. */
#define GROUPS_X25519_FIRST \
  ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:+GROUP-X448" \
  ":+GROUP-FFDHE2048:+GROUP-FFDHE3072:+GROUP-FFDHE4096:+GROUP-FFDHE6144:+GROUP-FFDHE8192"

static gnutls_certificate_credentials_t shared_credentials;
static gnutls_priority_t                shared_priority;

static gboolean
ensure_shared (GError **error)
{
  static gsize done;
  static int status;

  if (g_once_init_enter (&done))
    {
      const char *priority = g_getenv ("G_TLS_GNUTLS_PRIORITY");

      status = gnutls_certificate_allocate_credentials (&shared_credentials);
      if (status == 0 && priority != NULL)
        status = gnutls_priority_init2 (&shared_priority, priority, NULL, 0);
      else if (status == 0)
        {
          /* X25519 first: one key share (see mcr_tls_stream_new()) of the
           * cheapest group, rather than a P-256 one the server then uses and
           * an X25519 one thrown away (measured: 1.9 of 4.4 million
           * instructions per handshake). */
          status = gnutls_priority_init2 (&shared_priority, "%COMPAT" GROUPS_X25519_FIRST, NULL,
                                          GNUTLS_PRIORITY_INIT_DEF_APPEND);
          if (status != 0)
            status = gnutls_priority_init2 (&shared_priority, "%COMPAT", NULL,
                                            GNUTLS_PRIORITY_INIT_DEF_APPEND);
        }
      g_once_init_leave (&done, 1);
    }
  if (status != 0)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC, _("Could not set up TLS: %s"),
                   gnutls_strerror (status));
      return FALSE;
    }
  return TRUE;
}

/* ---- transport ---- */

static ssize_t
pull (gnutls_transport_ptr_t transport,
      void                  *data,
      size_t                 size)
{
  McrTlsStream *self = transport;
  ssize_t n;

  /* The owner may close the socket under us; its number may be reused. */
  if (g_socket_is_closed (self->socket))
    {
      self->io_errno = EBADF;
      gnutls_transport_set_errno (self->session, EBADF);
      return -1;
    }
  if (self->block != NULL)
    {
      gsize take = MIN (size, self->len - self->pos);

      memcpy (data, self->block + self->pos, take);
      self->pos += take;
      if (self->pos == self->len)
        {
          g_clear_pointer (&self->block, g_free);
          self->pos = self->len = 0;
        }
      return (ssize_t) take;
    }
  /* A recv() that came back short has most likely emptied the socket:
   * asking again only to hear EAGAIN costs a system call per wakeup. Say
   * "again" now; the socket is polled level-triggered, so bytes that came
   * meanwhile wake the reader at once, and the next pull() asks for real. */
  if (self->drained)
    {
      self->drained = FALSE;
      self->io_errno = EAGAIN;
      self->pull_blocked = TRUE;
      gnutls_transport_set_errno (self->session, EAGAIN);
      return -1;
    }
  if (size >= READ_BLOCK)
    {
      do
        n = recv (self->fd, data, size, 0);
      while (n < 0 && errno == EINTR);
      self->drained = n > 0 && (gsize) n < size;
    }
  else
    {
      self->block = g_malloc (READ_BLOCK);
      do
        n = recv (self->fd, self->block, READ_BLOCK, 0);
      while (n < 0 && errno == EINTR);
      self->drained = n > 0 && n < READ_BLOCK;
      if (n > 0)
        {
          gsize take = MIN (size, (gsize) n);

          memcpy (data, self->block, take);
          self->pos = take;
          self->len = (gsize) n;
          if (self->pos == self->len)
            g_clear_pointer (&self->block, g_free);
          n = (ssize_t) take;
        }
      else
        g_clear_pointer (&self->block, g_free);
    }
  if (n < 0)
    {
      self->io_errno = errno;
      self->pull_blocked = errno == EAGAIN || errno == EWOULDBLOCK;
      gnutls_transport_set_errno (self->session, errno == EWOULDBLOCK ? EAGAIN : errno);
    }
  return n;
}

static ssize_t
vec_push (gnutls_transport_ptr_t transport,
          const giovec_t        *iov,
          int                    iovcnt)
{
  McrTlsStream *self = transport;
  struct msghdr msg = { 0 };
  ssize_t n;

  if (g_socket_is_closed (self->socket))
    {
      self->io_errno = EBADF;
      gnutls_transport_set_errno (self->session, EBADF);
      return -1;
    }
  /* giovec_t is struct iovec by another name. */
  msg.msg_iov = (struct iovec *) iov;
  msg.msg_iovlen = (size_t) iovcnt;
  do
    n = sendmsg (self->fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      self->io_errno = errno;
      gnutls_transport_set_errno (self->session, errno == EWOULDBLOCK ? EAGAIN : errno);
    }
  return n;
}

/* Only asked with a timeout, and there is none (the owner has its own):
 * say "try", and pull() says EAGAIN when there is nothing. */
static int
pull_timeout (gnutls_transport_ptr_t transport,
              unsigned int           ms)
{
  return 1;
}

static gboolean
is_again (int code)
{
  return code == GNUTLS_E_AGAIN || code == GNUTLS_E_INTERRUPTED;
}

/* A GError for a failed GnuTLS call: the socket's own error when it was
 * the socket that failed. */
static void
set_error (McrTlsStream *self,
           GError      **error,
           int           code,
           const char   *what)
{
  if ((code == GNUTLS_E_PUSH_ERROR || code == GNUTLS_E_PULL_ERROR) && self->io_errno != 0)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (self->io_errno), "%s: %s", what,
                 g_strerror (self->io_errno));
  else
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC, "%s: %s", what, gnutls_strerror (code));
}

/* ---- readiness ---- */

typedef struct
{
  GSource       source;
  McrTlsStream *tls;      /* reffed */
  GObject      *stream;   /* reffed; what the callback gets */
  gboolean      reading;
} ReadySource;

/* Ready at once when bytes wait inside (decrypted, or read ahead): the
 * socket may never turn readable for them. */
static gboolean
has_buffered (McrTlsStream *self)
{
  return self->block != NULL ||
         (self->session != NULL && self->handshaked && gnutls_record_check_pending (self->session) > 0);
}

static gboolean
ready_prepare (GSource *source,
               gint    *timeout)
{
  ReadySource *rs = (ReadySource *) source;

  *timeout = -1;
  return rs->reading && has_buffered (rs->tls);
}

static gboolean
ready_check (GSource *source)
{
  ReadySource *rs = (ReadySource *) source;

  return rs->reading && has_buffered (rs->tls);
}

static gboolean
ready_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  ReadySource *rs = (ReadySource *) source;

  if (callback == NULL)
    return G_SOURCE_REMOVE;
  return ((GPollableSourceFunc) (void (*) (void)) callback) (rs->stream, user_data);
}

static void
ready_finalize (GSource *source)
{
  ReadySource *rs = (ReadySource *) source;

  g_clear_object (&rs->tls);
  g_clear_object (&rs->stream);
}

static gboolean
ready_closure_callback (GObject  *stream,
                        gpointer  data)
{
  GClosure *closure = data;
  GValue param = G_VALUE_INIT;
  GValue result_value = G_VALUE_INIT;
  gboolean result;

  g_value_init (&result_value, G_TYPE_BOOLEAN);
  g_value_init (&param, G_TYPE_OBJECT);
  g_value_set_object (&param, stream);
  g_closure_invoke (closure, &result_value, 1, &param, NULL);
  result = g_value_get_boolean (&result_value);
  g_value_unset (&result_value);
  g_value_unset (&param);
  return result;
}

static GSourceFuncs ready_funcs = {
  ready_prepare,
  ready_check,
  ready_dispatch,
  ready_finalize,
  (GSourceFunc) (void (*) (void)) ready_closure_callback,
  NULL,
};

static GSource *
ready_source_new (McrTlsStream *self,
                  GObject      *stream,
                  gboolean      reading,
                  GCancellable *cancellable)
{
  GSource *source = g_source_new (&ready_funcs, sizeof (ReadySource));
  ReadySource *rs = (ReadySource *) source;
  g_autoptr(GSource) child = g_socket_create_source (self->socket,
                                                     reading ? G_IO_IN : G_IO_OUT, NULL);

  g_source_set_static_name (source, "McrTlsStream");
  rs->tls = g_object_ref (self);
  rs->stream = g_object_ref (stream);
  rs->reading = reading;
  g_source_set_dummy_callback (child);
  g_source_add_child_source (source, child);
  if (cancellable != NULL)
    {
      g_autoptr(GSource) cancel = g_cancellable_source_new (cancellable);

      g_source_set_dummy_callback (cancel);
      g_source_add_child_source (source, cancel);
    }
  return source;
}

/* ---- reading and writing ---- */

static gboolean
is_open (McrTlsStream *self,
         GError      **error)
{
  if (self->session != NULL && self->handshaked)
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                       _("The TLS connection is not open"));
  return FALSE;
}

static gssize
tls_read (McrTlsStream *self,
          void         *buffer,
          gsize         count,
          GError      **error)
{
  ssize_t n;

  if (!is_open (self, error))
    return -1;
  if (count == 0)
    return 0;
  /* GnuTLS also says "again" after a record that held no data (a TLS 1.3
   * key update or ticket) while more may wait in the block: "would block"
   * only once the socket itself had nothing, so that a reader may then wait
   * on the socket alone. */
  for (guint tries = 0;; tries++)
    {
      self->io_errno = 0;
      self->pull_blocked = FALSE;
      n = gnutls_record_recv (self->session, buffer, count);
      if (!is_again ((int) n) || self->pull_blocked || tries >= 64)
        break;
    }
  if (n >= 0)
    return n;
  if (is_again ((int) n))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "would block");
      return -1;
    }
  /* Node servers often end without close_notify; the data is framed. */
  if (n == GNUTLS_E_PREMATURE_TERMINATION)
    return 0;
  set_error (self, error, (int) n, _("Error reading from the TLS connection"));
  return -1;
}

/* A record that met EAGAIN stays in GnuTLS and counts as not written: the
 * caller offers the same bytes again, and gets them counted then. */
static gssize
tls_write (McrTlsStream *self,
           const void   *buffer,
           gsize         count,
           GError      **error)
{
  ssize_t n;

  if (!is_open (self, error))
    return -1;
  if (count == 0 && !self->send_pending)
    return 0;
  self->io_errno = 0;
  n = self->send_pending ? gnutls_record_send (self->session, NULL, 0)
                         : gnutls_record_send (self->session, buffer, count);
  if (n >= 0)
    {
      self->send_pending = FALSE;
      return n;
    }
  if (is_again ((int) n))
    {
      self->send_pending = TRUE;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "would block");
      return -1;
    }
  set_error (self, error, (int) n, _("Error writing to the TLS connection"));
  return -1;
}

/* Blocking calls (GIO's sync API), for completeness: wait on the socket. */
static gboolean
wait_for (McrTlsStream *self,
          GIOCondition  condition,
          GCancellable *cancellable,
          GError      **error)
{
  if (condition == G_IO_IN && has_buffered (self))
    return TRUE;
  return g_socket_condition_wait (self->socket, condition, cancellable, error);
}

/* The streams' halves keep a pointer to the stream that closing clears. */
static gboolean
attached (McrTlsStream *tls,
          GError      **error)
{
  if (tls != NULL)
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, _("The TLS connection is closed"));
  return FALSE;
}

/* The blocking read (@condition G_IO_IN) or write (G_IO_OUT) of a half
 * whose stream pointer is *@tls: the non-blocking one, and a wait on the
 * socket for as long as it would block. @buffer is the caller's, writable
 * for a read. */
static gssize
blocking_io (McrTlsStream *const *tls,
             GIOCondition         condition,
             const void          *buffer,
             gsize                count,
             GCancellable        *cancellable,
             GError             **error)
{
  for (;;)
    {
      GError *local_error = NULL;
      gssize n;

      if (!attached (*tls, error))
        return -1;
      n = condition == G_IO_IN ? tls_read (*tls, (void *) buffer, count, &local_error)
                               : tls_write (*tls, buffer, count, &local_error);
      if (n >= 0 || !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          if (local_error != NULL)
            g_propagate_error (error, local_error);
          return n;
        }
      g_clear_error (&local_error);
      if (!wait_for (*tls, condition, cancellable, error))
        return -1;
    }
}

/* ---- the input stream ---- */

#define MCR_TYPE_TLS_INPUT (mcr_tls_input_get_type ())
G_DECLARE_FINAL_TYPE (McrTlsInput, mcr_tls_input, MCR, TLS_INPUT, GInputStream)

struct _McrTlsInput
{
  GInputStream  parent_instance;
  McrTlsStream *tls;   /* not reffed: it owns this stream and outlives it as a GIOStream half */
};

static void mcr_tls_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (McrTlsInput, mcr_tls_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      mcr_tls_input_pollable_init))

static gssize
mcr_tls_input_read (GInputStream *stream,
                    void         *buffer,
                    gsize         count,
                    GCancellable *cancellable,
                    GError      **error)
{
  return blocking_io (&MCR_TLS_INPUT (stream)->tls, G_IO_IN, buffer, count, cancellable,
                      error);
}

static gboolean
mcr_tls_input_can_poll (GPollableInputStream *stream)
{
  return MCR_TLS_INPUT (stream)->tls != NULL;
}

static gboolean
mcr_tls_input_is_readable (GPollableInputStream *stream)
{
  McrTlsInput *self = MCR_TLS_INPUT (stream);

  return self->tls == NULL || has_buffered (self->tls) ||
         g_socket_condition_check (self->tls->socket, G_IO_IN) != 0;
}

static GSource *
mcr_tls_input_create_source (GPollableInputStream *stream,
                             GCancellable         *cancellable)
{
  McrTlsInput *self = MCR_TLS_INPUT (stream);

  if (self->tls == NULL)
    return g_pollable_source_new_full (stream, g_timeout_source_new (0), cancellable);
  return ready_source_new (self->tls, G_OBJECT (stream), TRUE, cancellable);
}

static gssize
mcr_tls_input_read_nonblocking (GPollableInputStream *stream,
                                void                 *buffer,
                                gsize                 count,
                                GError              **error)
{
  McrTlsInput *self = MCR_TLS_INPUT (stream);

  if (!attached (self->tls, error))
    return -1;
  return tls_read (self->tls, buffer, count, error);
}

static void
mcr_tls_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = mcr_tls_input_can_poll;
  iface->is_readable = mcr_tls_input_is_readable;
  iface->create_source = mcr_tls_input_create_source;
  iface->read_nonblocking = mcr_tls_input_read_nonblocking;
}

static gboolean
mcr_tls_input_close (GInputStream *stream,
                     GCancellable *cancellable,
                     GError      **error)
{
  return TRUE;
}

static void
mcr_tls_input_class_init (McrTlsInputClass *klass)
{
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  stream_class->read_fn = mcr_tls_input_read;
  stream_class->close_fn = mcr_tls_input_close;
}

static void
mcr_tls_input_init (McrTlsInput *self)
{
}

/* ---- the output stream ---- */

#define MCR_TYPE_TLS_OUTPUT (mcr_tls_output_get_type ())
G_DECLARE_FINAL_TYPE (McrTlsOutput, mcr_tls_output, MCR, TLS_OUTPUT, GOutputStream)

struct _McrTlsOutput
{
  GOutputStream  parent_instance;
  McrTlsStream  *tls;   /* not reffed, as for the input */
};

static void mcr_tls_output_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (McrTlsOutput, mcr_tls_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      mcr_tls_output_pollable_init))

static gssize
mcr_tls_output_write (GOutputStream *stream,
                      const void    *buffer,
                      gsize          count,
                      GCancellable  *cancellable,
                      GError       **error)
{
  return blocking_io (&MCR_TLS_OUTPUT (stream)->tls, G_IO_OUT, buffer, count, cancellable,
                      error);
}

static gboolean
mcr_tls_output_can_poll (GPollableOutputStream *stream)
{
  return MCR_TLS_OUTPUT (stream)->tls != NULL;
}

static gboolean
mcr_tls_output_is_writable (GPollableOutputStream *stream)
{
  McrTlsOutput *self = MCR_TLS_OUTPUT (stream);

  return self->tls == NULL || g_socket_condition_check (self->tls->socket, G_IO_OUT) != 0;
}

static GSource *
mcr_tls_output_create_source (GPollableOutputStream *stream,
                              GCancellable          *cancellable)
{
  McrTlsOutput *self = MCR_TLS_OUTPUT (stream);

  if (self->tls == NULL)
    return g_pollable_source_new_full (stream, g_timeout_source_new (0), cancellable);
  return ready_source_new (self->tls, G_OBJECT (stream), FALSE, cancellable);
}

static gssize
mcr_tls_output_write_nonblocking (GPollableOutputStream *stream,
                                  const void            *buffer,
                                  gsize                  count,
                                  GError               **error)
{
  McrTlsOutput *self = MCR_TLS_OUTPUT (stream);

  if (!attached (self->tls, error))
    return -1;
  return tls_write (self->tls, buffer, count, error);
}

static void
mcr_tls_output_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = mcr_tls_output_can_poll;
  iface->is_writable = mcr_tls_output_is_writable;
  iface->create_source = mcr_tls_output_create_source;
  iface->write_nonblocking = mcr_tls_output_write_nonblocking;
}

static gboolean
mcr_tls_output_close (GOutputStream *stream,
                      GCancellable  *cancellable,
                      GError       **error)
{
  return TRUE;
}

static void
mcr_tls_output_class_init (McrTlsOutputClass *klass)
{
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  stream_class->write_fn = mcr_tls_output_write;
  stream_class->close_fn = mcr_tls_output_close;
}

static void
mcr_tls_output_init (McrTlsOutput *self)
{
}

/* ---- the handshake ---- */

static void handshake_step (McrTlsStream *self);

static gboolean
on_handshake_ready (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  McrTlsStream *self = user_data;

  g_clear_pointer (&self->handshake_source, g_source_unref);
  handshake_step (self);
  return G_SOURCE_REMOVE;
}

static void
handshake_done (McrTlsStream *self,
                GError       *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->handshake_task);

  if (self->handshake_source != NULL)
    {
      g_source_destroy (self->handshake_source);
      g_clear_pointer (&self->handshake_source, g_source_unref);
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
handshake_step (McrTlsStream *self)
{
  GCancellable *cancellable = g_task_get_cancellable (self->handshake_task);
  GError *error = NULL;
  int r;

  for (;;)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, &error))
        {
          handshake_done (self, error);
          return;
        }
      self->io_errno = 0;
      r = gnutls_handshake (self->session);
      if (r == GNUTLS_E_SUCCESS)
        {
          self->handshaked = TRUE;
          handshake_done (self, NULL);
          return;
        }
      if (is_again (r))
        {
          GIOCondition condition = gnutls_record_get_direction (self->session) ? G_IO_OUT : G_IO_IN;

          if (condition == G_IO_IN && self->block != NULL)
            continue;
          self->handshake_source = g_socket_create_source (self->socket, condition, cancellable);
          g_source_set_callback (self->handshake_source, G_SOURCE_FUNC (on_handshake_ready), self,
                                 NULL);
          g_source_attach (self->handshake_source, g_task_get_context (self->handshake_task));
          return;
        }
      if (!gnutls_error_is_fatal (r))
        continue;  /* a warning alert */
      if ((r == GNUTLS_E_PUSH_ERROR || r == GNUTLS_E_PULL_ERROR) && self->io_errno != 0)
        error = g_error_new (G_IO_ERROR, g_io_error_from_errno (self->io_errno),
                             _("The TLS handshake failed: %s"), g_strerror (self->io_errno));
      else if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_UNEXPECTED_PACKET_LENGTH)
        error = g_error_new (G_TLS_ERROR, G_TLS_ERROR_EOF,
                             _("The server closed the connection during the TLS handshake"));
      else
        error = g_error_new (G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE,
                             _("The TLS handshake failed: %s"), gnutls_strerror (r));
      handshake_done (self, error);
      return;
    }
}

void
mcr_tls_stream_handshake_async (McrTlsStream        *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (MCR_IS_TLS_STREAM (self));
  g_return_if_fail (self->handshake_task == NULL && !self->handshaked);

  self->handshake_task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->handshake_task, mcr_tls_stream_handshake_async);
  handshake_step (self);
}

gboolean
mcr_tls_stream_handshake_finish (McrTlsStream  *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the peer's certificates ---- */

const gnutls_datum_t *
mcr_tls_stream_get_peer_der (McrTlsStream *self,
                             guint        *n_certs)
{
  const gnutls_datum_t *certs;
  unsigned int n = 0;

  g_return_val_if_fail (MCR_IS_TLS_STREAM (self), NULL);
  g_return_val_if_fail (n_certs != NULL, NULL);

  *n_certs = 0;
  if (!self->handshaked || gnutls_certificate_type_get (self->session) != GNUTLS_CRT_X509)
    return NULL;
  certs = gnutls_certificate_get_peers (self->session, &n);
  if (certs == NULL || n == 0)
    return NULL;
  *n_certs = n;
  return certs;
}

/* Makes certificate @i with its issuer (made first: "issuer" is set at
 * construction). @issuer_of[i] is the index of i's issuer or -1; @made
 * holds what is made; @depth stops issuer loops. */
static GTlsCertificate *
make_certificate (const gnutls_datum_t *der,
                  const int            *issuer_of,
                  GTlsCertificate     **made,
                  guint                 i,
                  guint                 depth,
                  GError              **error)
{
  g_autoptr(GByteArray) bytes = NULL;
  GTlsCertificate *issuer = NULL;

  if (made[i] != NULL)
    return made[i];
  if (issuer_of[i] >= 0 && depth > 0)
    {
      issuer = make_certificate (der, issuer_of, made, (guint) issuer_of[i], depth - 1, error);
      if (issuer == NULL)
        return NULL;
    }
  bytes = g_byte_array_sized_new (der[i].size);
  g_byte_array_append (bytes, der[i].data, der[i].size);
  made[i] = g_initable_new (g_tls_backend_get_certificate_type (g_tls_backend_get_default ()),
                            NULL, error,
                            "certificate", bytes,
                            "issuer", issuer,
                            NULL);
  return made[i];
}

GTlsCertificate *
mcr_tls_stream_get_peer_certificate (McrTlsStream *self,
                                     GError      **error)
{
  const gnutls_datum_t *der;
  g_autofree gnutls_x509_crt_t *crts = NULL;
  g_autofree int *issuer_of = NULL;
  g_autofree GTlsCertificate **made = NULL;
  GTlsCertificate *result = NULL;
  guint n = 0;
  int r = 0;

  g_return_val_if_fail (MCR_IS_TLS_STREAM (self), NULL);

  der = mcr_tls_stream_get_peer_der (self, &n);
  if (der == NULL)
    {
      g_set_error_literal (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                           _("The server sent no certificate"));
      return NULL;
    }
  crts = g_new0 (gnutls_x509_crt_t, n);
  issuer_of = g_new (int, n);
  made = g_new0 (GTlsCertificate *, n);
  for (guint i = 0; i < n && r >= 0; i++)
    if ((r = gnutls_x509_crt_init (&crts[i])) >= 0)
      r = gnutls_x509_crt_import (crts[i], &der[i], GNUTLS_X509_FMT_DER);
  /* Issuers as glib-networking finds them: servers send certificates out
   * of order, or twice. */
  for (guint i = 0; i < n && r >= 0; i++)
    {
      issuer_of[i] = -1;
      if (gnutls_x509_crt_check_issuer (crts[i], crts[i]))
        continue;
      if (i + 1 < n && gnutls_x509_crt_check_issuer (crts[i], crts[i + 1]))
        issuer_of[i] = (int) i + 1;
      else
        for (guint j = 0; j < n; j++)
          if (j != i && gnutls_x509_crt_check_issuer (crts[i], crts[j]))
            {
              issuer_of[i] = (int) j;
              break;
            }
    }
  for (guint i = 0; i < n; i++)
    if (crts[i] != NULL)
      gnutls_x509_crt_deinit (crts[i]);
  if (r < 0)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                   _("The server certificate cannot be read (%s)"), gnutls_strerror (r));
      return NULL;
    }
  if (make_certificate (der, issuer_of, made, 0, n, error) != NULL)
    result = g_object_ref (made[0]);
  for (guint i = 0; i < n; i++)
    g_clear_object (&made[i]);
  return result;
}

/* ---- object ---- */

static GInputStream *
mcr_tls_stream_get_input_stream (GIOStream *stream)
{
  return MCR_TLS_STREAM (stream)->input;
}

static GOutputStream *
mcr_tls_stream_get_output_stream (GIOStream *stream)
{
  return MCR_TLS_STREAM (stream)->output;
}

static gboolean
mcr_tls_stream_close (GIOStream    *stream,
                      GCancellable *cancellable,
                      GError      **error)
{
  McrTlsStream *self = MCR_TLS_STREAM (stream);

  /* A close_notify if the socket takes it now; never waits. */
  if (self->session != NULL && self->handshaked && !g_socket_is_closed (self->socket))
    gnutls_bye (self->session, GNUTLS_SHUT_WR);
  return g_io_stream_close (G_IO_STREAM (self->connection), cancellable, error);
}

static void
mcr_tls_stream_dispose (GObject *object)
{
  McrTlsStream *self = MCR_TLS_STREAM (object);

  if (self->handshake_source != NULL)
    {
      g_source_destroy (self->handshake_source);
      g_clear_pointer (&self->handshake_source, g_source_unref);
    }
  G_OBJECT_CLASS (mcr_tls_stream_parent_class)->dispose (object);
}

static void
mcr_tls_stream_finalize (GObject *object)
{
  McrTlsStream *self = MCR_TLS_STREAM (object);

  if (self->input != NULL)
    MCR_TLS_INPUT (self->input)->tls = NULL;
  if (self->output != NULL)
    MCR_TLS_OUTPUT (self->output)->tls = NULL;
  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_pointer (&self->session, gnutls_deinit);
  g_clear_pointer (&self->block, g_free);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (mcr_tls_stream_parent_class)->finalize (object);
}

static void
mcr_tls_stream_class_init (McrTlsStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->dispose = mcr_tls_stream_dispose;
  object_class->finalize = mcr_tls_stream_finalize;
  stream_class->get_input_stream = mcr_tls_stream_get_input_stream;
  stream_class->get_output_stream = mcr_tls_stream_get_output_stream;
  stream_class->close_fn = mcr_tls_stream_close;
}

static void
mcr_tls_stream_init (McrTlsStream *self)
{
  self->fd = -1;
}

static gboolean
is_ip_address (const char *name)
{
  g_autoptr(GInetAddress) address = NULL;

  if (g_hostname_is_ip_address (name))
    return TRUE;
  address = g_inet_address_new_from_string (name);
  return address != NULL;
}

McrTlsStream *
mcr_tls_stream_new (GSocketConnection *connection,
                    const char        *server_name,
                    GError           **error)
{
  g_autoptr(McrTlsStream) self = NULL;
  int r;

  g_return_val_if_fail (G_IS_SOCKET_CONNECTION (connection), NULL);

  if (!ensure_shared (error))
    return NULL;

  self = g_object_new (MCR_TYPE_TLS_STREAM, NULL);
  self->connection = g_object_ref (connection);
  self->socket = g_socket_connection_get_socket (connection);
  self->fd = g_socket_get_fd (self->socket);
  self->input = g_object_new (MCR_TYPE_TLS_INPUT, NULL);
  MCR_TLS_INPUT (self->input)->tls = self;
  self->output = g_object_new (MCR_TYPE_TLS_OUTPUT, NULL);
  MCR_TLS_OUTPUT (self->output)->tls = self;

  /* One key share, of the first group: a server without it asks again
   * (HelloRetryRequest), which costs a round trip only there. */
  r = gnutls_init (&self->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL |
                                   GNUTLS_NO_TICKETS | GNUTLS_KEY_SHARE_TOP);
  if (r >= 0)
    r = gnutls_priority_set (self->session, shared_priority);
  if (r >= 0)
    r = gnutls_credentials_set (self->session, GNUTLS_CRD_CERTIFICATE, shared_credentials);
  if (r >= 0 && server_name != NULL && *server_name != '\0' && !is_ip_address (server_name))
    {
      gsize len = strlen (server_name);

      /* Without the root's dot, as glib-networking sends it. */
      if (server_name[len - 1] == '.')
        len--;
      r = gnutls_server_name_set (self->session, GNUTLS_NAME_DNS, server_name, len);
    }
  if (r < 0)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC,
                   _("Could not create a TLS connection: %s"), gnutls_strerror (r));
      return NULL;
    }
  gnutls_transport_set_ptr (self->session, self);
  gnutls_transport_set_pull_function (self->session, pull);
  gnutls_transport_set_vec_push_function (self->session, vec_push);
  gnutls_transport_set_pull_timeout_function (self->session, pull_timeout);
  gnutls_handshake_set_timeout (self->session, 0);
  return g_steal_pointer (&self);
}

void
mcr_tls_random (guint8 *buf,
                gsize   len)
{
  if (gnutls_rnd (GNUTLS_RND_NONCE, buf, len) < 0)
    for (gsize i = 0; i < len; i++)
      buf[i] = (guint8) g_random_int ();
}
