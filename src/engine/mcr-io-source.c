/* mcr-io-source.c: one long-lived readiness source per connection
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * What it waits for lives in a GPollFD of its own (g_source_add_poll()),
 * changed in place: GLib copies every poll record's events into the poll
 * array at each iteration (g_main_context_query(), which keeps records with
 * no events for exactly this use), so a change costs nothing, where
 * g_source_modify_unix_fd() and adding or removing a source write the
 * context's wakeup eventfd. A socket that hangs up while nothing is wanted
 * would wake poll() at once forever: the record is taken out then, and put
 * back when something is wanted again.
 */
#define G_LOG_DOMAIN "mcr-io-source"

#include "config.h"

#include "mcr-io-source.h"

typedef struct
{
  GSource                source;

  GPollFD                pfd;
  gboolean               has_fd;
  gboolean               polled;    /* pfd is in the poll set */
  GIOCondition           events;
  gboolean               ready;
  gint64                 deadline;  /* a turn at this monotonic time, or -1 */

  /* Without a socket to poll */
  GPollableInputStream  *input;
  GPollableOutputStream *output;
  GSource               *in_child;
  GSource               *out_child;
} McrIoSource;

static gboolean
io_source_prepare (GSource *source,
                   gint    *timeout)
{
  McrIoSource *self = (McrIoSource *) source;
  gint64 now;

  *timeout = -1;
  if (self->ready)
    return TRUE;
  if (self->deadline < 0)
    return FALSE;
  now = g_source_get_time (source);
  if (now >= self->deadline)
    return TRUE;
  *timeout = (gint) MIN ((self->deadline - now + 999) / 1000, G_MAXINT);
  return FALSE;
}

static gboolean
deadline_passed (McrIoSource *self)
{
  return self->deadline >= 0 && g_source_get_time ((GSource *) self) >= self->deadline;
}

static gboolean
io_source_check (GSource *source)
{
  McrIoSource *self = (McrIoSource *) source;

  return self->ready || (self->polled && self->pfd.revents != 0) || deadline_passed (self);
}

static gboolean
io_source_dispatch (GSource     *source,
                    GSourceFunc  callback,
                    gpointer     user_data)
{
  McrIoSource *self = (McrIoSource *) source;
  McrIoSourceFunc func = (McrIoSourceFunc) (void (*) (void)) callback;
  GIOCondition revents = 0;
  gboolean turn = self->ready || deadline_passed (self);

  self->ready = FALSE;
  if (turn)
    self->deadline = -1;
  if (self->polled)
    {
      revents = self->pfd.revents;
      self->pfd.revents = 0;
      if (self->events == 0 && !turn && revents != 0)
        {
          /* A hangup or error while nothing is wanted: poll() reports those
           * whatever was asked, so stop polling until something is. */
          g_source_remove_poll (source, &self->pfd);
          self->polled = FALSE;
          return G_SOURCE_CONTINUE;
        }
    }
  else if (self->input != NULL || self->output != NULL)
    revents = self->events; /* a child source fired: which one is not known */
  if (turn)
    revents |= self->events;
  if (func == NULL)
    return G_SOURCE_REMOVE;
  return func (revents, user_data);
}

static void
io_source_finalize (GSource *source)
{
  McrIoSource *self = (McrIoSource *) source;

  g_clear_pointer (&self->in_child, g_source_unref);
  g_clear_pointer (&self->out_child, g_source_unref);
  g_clear_object (&self->input);
  g_clear_object (&self->output);
}

static GSourceFuncs io_source_funcs = {
  io_source_prepare,
  io_source_check,
  io_source_dispatch,
  io_source_finalize,
  NULL,
  NULL,
};

GSource *
mcr_io_source_new (GSocket               *socket,
                   GPollableInputStream  *input,
                   GPollableOutputStream *output)
{
  GSource *source = g_source_new (&io_source_funcs, sizeof (McrIoSource));
  McrIoSource *self = (McrIoSource *) source;

  g_source_set_static_name (source, "McrIoSource");
  g_source_set_can_recurse (source, TRUE);
  self->deadline = -1;
  if (socket != NULL)
    {
      self->pfd.fd = g_socket_get_fd (socket);
      self->pfd.events = 0;
      self->has_fd = TRUE;
      g_source_add_poll (source, &self->pfd);
      self->polled = TRUE;
    }
  else
    {
      self->input = input != NULL ? g_object_ref (input) : NULL;
      self->output = output != NULL ? g_object_ref (output) : NULL;
    }
  return source;
}

void
mcr_io_source_set_callback (GSource         *source,
                            McrIoSourceFunc  func,
                            gpointer         user_data)
{
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) func, user_data, NULL);
}

static void
set_child (GSource  *source,
           GSource **child,
           GSource  *(*create) (gpointer stream),
           gpointer  stream,
           gboolean  wanted)
{
  if (stream == NULL || wanted == (*child != NULL))
    return;
  if (wanted)
    {
      *child = create (stream);
      g_source_set_dummy_callback (*child);
      g_source_add_child_source (source, *child);
    }
  else
    {
      g_source_remove_child_source (source, *child);
      g_clear_pointer (child, g_source_unref);
    }
}

static GSource *
create_input_child (gpointer stream)
{
  return g_pollable_input_stream_create_source (stream, NULL);
}

static GSource *
create_output_child (gpointer stream)
{
  return g_pollable_output_stream_create_source (stream, NULL);
}

void
mcr_io_source_set_events (GSource      *source,
                          GIOCondition  events)
{
  McrIoSource *self = (McrIoSource *) source;

  if (g_source_is_destroyed (source))
    return;
  events &= G_IO_IN | G_IO_OUT;
  self->events = events;
  if (self->has_fd)
    {
      /* Read by GLib at the next iteration's query, before poll(). */
      self->pfd.events = (gushort) events;
      if (!self->polled && events != 0)
        {
          g_source_add_poll (source, &self->pfd);
          self->polled = TRUE;
        }
      return;
    }
  set_child (source, &self->in_child, create_input_child, self->input, (events & G_IO_IN) != 0);
  set_child (source, &self->out_child, create_output_child, self->output,
             (events & G_IO_OUT) != 0);
}

GIOCondition
mcr_io_source_get_events (GSource *source)
{
  return ((McrIoSource *) source)->events;
}

void
mcr_io_source_set_ready (GSource *source)
{
  McrIoSource *self = (McrIoSource *) source;

  /* Seen by prepare() at the next iteration: the caller is on the thread
   * that runs the context (or has not attached the source yet). */
  self->ready = TRUE;
}

void
mcr_io_source_set_deadline (GSource *source,
                            gint64   time)
{
  ((McrIoSource *) source)->deadline = time;
}

void
mcr_source_attach (GSource      **slot,
                   GSource       *source,
                   GMainContext  *context,
                   GSourceFunc    func,
                   gpointer       user_data)
{
  mcr_source_clear (slot);
  g_source_set_callback (source, func, user_data, NULL);
  g_source_attach (source, context);
  *slot = source;
}

void
mcr_source_clear (GSource **slot)
{
  if (*slot != NULL)
    {
      g_source_destroy (*slot);
      g_clear_pointer (slot, g_source_unref);
    }
}
