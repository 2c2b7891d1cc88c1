/* mcr-buffered-input-stream.c: a pollable read buffer under TLS
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * GnuTLS reads each record with two system calls, its 5-byte header and
 * then its body, and the relay sends a record per 4 KiB frame of the agent:
 * 33 recv() calls per 64 KiB downloaded (measured). GBufferedInputStream is
 * not pollable, so the TLS connection of a tunnel reads through this
 * instead: one recv() fills a block, and GnuTLS's small reads come from
 * memory. A recv() that came back short has emptied the socket: the next
 * non-blocking read says WOULD_BLOCK without a system call.
 */
#define G_LOG_DOMAIN "mcr-websocket"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "mcr-buffered-input-stream.h"

struct _McrBufferedInputStream
{
  GFilterInputStream parent_instance;

  gsize   size;
  guint8 *buf;       /* NULL when empty */
  gsize   pos;
  gsize   len;
  gboolean drained;  /* the last read took less than asked: the socket is empty */
};

static void mcr_buffered_input_stream_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (McrBufferedInputStream, mcr_buffered_input_stream,
                               G_TYPE_FILTER_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      mcr_buffered_input_stream_pollable_init))

static GInputStream *
base_stream (McrBufferedInputStream *self)
{
  return g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (self));
}

static gsize
take (McrBufferedInputStream *self,
      void                   *buffer,
      gsize                   count)
{
  gsize n = MIN (count, self->len - self->pos);

  memcpy (buffer, self->buf + self->pos, n);
  self->pos += n;
  if (self->pos == self->len)
    {
      g_clear_pointer (&self->buf, g_free);
      self->pos = self->len = 0;
    }
  return n;
}

/* Reads into the block (or straight into @buffer when the caller wants at
 * least a block), then serves from it. */
static gssize
read_through (McrBufferedInputStream *self,
              void                   *buffer,
              gsize                   count,
              gboolean                blocking,
              GCancellable           *cancellable,
              GError                **error)
{
  GInputStream *base = base_stream (self);
  gssize n;

  if (self->buf != NULL)
    return (gssize) take (self, buffer, count);
  if (count == 0)
    return 0;
  if (!blocking && self->drained)
    {
      /* A read that came back short emptied the socket a moment ago: say
       * so without asking it again. The caller then polls the socket, which
       * is at once readable if more came meanwhile; the next read asks. */
      self->drained = FALSE;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           g_strerror (EAGAIN));
      return -1;
    }
  if (count >= self->size)
    {
      n = blocking ? g_input_stream_read (base, buffer, count, cancellable, error)
                   : g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (base),
                                                               buffer, count, cancellable,
                                                               error);
      self->drained = !blocking && n > 0 && (gsize) n < count;
      return n;
    }
  self->buf = g_malloc (self->size);
  n = blocking ? g_input_stream_read (base, self->buf, self->size, cancellable, error)
               : g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (base),
                                                           self->buf, self->size, cancellable,
                                                           error);
  self->drained = !blocking && n > 0 && (gsize) n < self->size;
  if (n <= 0)
    {
      g_clear_pointer (&self->buf, g_free);
      return n;
    }
  self->pos = 0;
  self->len = (gsize) n;
  return (gssize) take (self, buffer, count);
}

static gssize
mcr_buffered_input_stream_read (GInputStream  *stream,
                                void          *buffer,
                                gsize          count,
                                GCancellable  *cancellable,
                                GError       **error)
{
  return read_through (MCR_BUFFERED_INPUT_STREAM (stream), buffer, count, TRUE, cancellable,
                       error);
}

static gboolean
mcr_buffered_input_stream_can_poll (GPollableInputStream *stream)
{
  GInputStream *base = base_stream (MCR_BUFFERED_INPUT_STREAM (stream));

  return G_IS_POLLABLE_INPUT_STREAM (base) &&
         g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (base));
}

static gboolean
mcr_buffered_input_stream_is_readable (GPollableInputStream *stream)
{
  McrBufferedInputStream *self = MCR_BUFFERED_INPUT_STREAM (stream);

  return self->buf != NULL ||
         g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (base_stream (self)));
}

static GSource *
mcr_buffered_input_stream_create_source (GPollableInputStream *stream,
                                         GCancellable         *cancellable)
{
  McrBufferedInputStream *self = MCR_BUFFERED_INPUT_STREAM (stream);
  g_autoptr(GSource) child = NULL;

  /* Buffered bytes are ready now; otherwise wait for the socket. */
  if (self->buf != NULL)
    child = g_timeout_source_new (0);
  else
    child = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (base_stream (self)),
                                                   cancellable);
  return g_pollable_source_new_full (stream, child, cancellable);
}

static gssize
mcr_buffered_input_stream_read_nonblocking (GPollableInputStream  *stream,
                                            void                  *buffer,
                                            gsize                  count,
                                            GError               **error)
{
  return read_through (MCR_BUFFERED_INPUT_STREAM (stream), buffer, count, FALSE, NULL, error);
}

static void
mcr_buffered_input_stream_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = mcr_buffered_input_stream_can_poll;
  iface->is_readable = mcr_buffered_input_stream_is_readable;
  iface->create_source = mcr_buffered_input_stream_create_source;
  iface->read_nonblocking = mcr_buffered_input_stream_read_nonblocking;
}

static void
mcr_buffered_input_stream_finalize (GObject *object)
{
  McrBufferedInputStream *self = MCR_BUFFERED_INPUT_STREAM (object);

  g_clear_pointer (&self->buf, g_free);

  G_OBJECT_CLASS (mcr_buffered_input_stream_parent_class)->finalize (object);
}

static void
mcr_buffered_input_stream_class_init (McrBufferedInputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = mcr_buffered_input_stream_finalize;
  stream_class->read_fn = mcr_buffered_input_stream_read;
}

static void
mcr_buffered_input_stream_init (McrBufferedInputStream *self)
{
}

GInputStream *
mcr_buffered_input_stream_new (GInputStream *base,
                               gsize         size)
{
  McrBufferedInputStream *self;

  g_return_val_if_fail (G_IS_POLLABLE_INPUT_STREAM (base), NULL);
  g_return_val_if_fail (size > 0, NULL);

  self = g_object_new (MCR_TYPE_BUFFERED_INPUT_STREAM, "base-stream", base, NULL);
  self->size = size;
  return G_INPUT_STREAM (self);
}
