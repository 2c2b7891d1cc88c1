/* mcr-debug-log.c: keeps the program's log messages for the Debug Log window
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * GLib may log from any thread: lines are queued under a lock and moved into
 * the text buffer on the main context. The engine's log writer (mcr-log.c)
 * hands every message on with its secrets already taken out.
 */
#define G_LOG_DOMAIN "mcr-debug-log"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mcr-debug-log.h"
#include "mcr-log.h"

#define MAX_LINES 5000

struct _McrDebugLog
{
  GObject        parent_instance;

  GtkTextBuffer *buffer;
  gboolean       recording;
  guint          n_lines;
};

G_DEFINE_FINAL_TYPE (McrDebugLog, mcr_debug_log, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_RECORDING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static McrDebugLog *default_log;   /* main thread only */
static GMutex pending_lock;
static GString *pending;           /* under pending_lock */
static guint flush_id;             /* under pending_lock */
static gboolean record_debug;      /* atomic */

static gboolean
flush_pending (gpointer user_data)
{
  g_autofree char *text = NULL;
  GtkTextIter end;

  g_mutex_lock (&pending_lock);
  flush_id = 0;
  if (pending != NULL)
    text = g_string_free (g_steal_pointer (&pending), FALSE);
  g_mutex_unlock (&pending_lock);

  if (text == NULL || default_log == NULL)
    return G_SOURCE_REMOVE;

  gtk_text_buffer_get_end_iter (default_log->buffer, &end);
  gtk_text_buffer_insert (default_log->buffer, &end, text, -1);
  for (const char *p = text; *p != '\0'; p++)
    default_log->n_lines += *p == '\n';

  if (default_log->n_lines > MAX_LINES)
    {
      GtkTextIter start, cut;

      gtk_text_buffer_get_start_iter (default_log->buffer, &start);
      gtk_text_buffer_get_iter_at_line (default_log->buffer, &cut,
                                        default_log->n_lines - MAX_LINES);
      gtk_text_buffer_delete (default_log->buffer, &start, &cut);
      default_log->n_lines = MAX_LINES;
    }
  return G_SOURCE_REMOVE;
}

static void
log_sink (GLogLevelFlags  level,
          const char     *domain,
          const char     *message,
          gpointer        user_data)
{
  gboolean debug = (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) != 0;
  g_autofree char *line = NULL;

  if (debug && !g_atomic_int_get (&record_debug))
    return;
  line = mcr_log_format_line (level, domain, message, FALSE);

  g_mutex_lock (&pending_lock);
  if (pending == NULL)
    pending = g_string_new (NULL);
  g_string_append (pending, line);
  if (flush_id == 0)
    flush_id = g_idle_add (flush_pending, NULL);
  g_mutex_unlock (&pending_lock);
}

static void
mcr_debug_log_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_RECORDING:
      g_value_set_boolean (value, MCR_DEBUG_LOG (object)->recording);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_debug_log_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_RECORDING:
      mcr_debug_log_set_recording (MCR_DEBUG_LOG (object), g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_debug_log_dispose (GObject *object)
{
  McrDebugLog *self = MCR_DEBUG_LOG (object);

  g_clear_object (&self->buffer);
  G_OBJECT_CLASS (mcr_debug_log_parent_class)->dispose (object);
}

static void
mcr_debug_log_finalize (GObject *object)
{
  if (default_log == MCR_DEBUG_LOG (object))
    default_log = NULL;
  G_OBJECT_CLASS (mcr_debug_log_parent_class)->finalize (object);
}

static void
mcr_debug_log_class_init (McrDebugLogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = mcr_debug_log_get_property;
  object_class->set_property = mcr_debug_log_set_property;
  object_class->dispose = mcr_debug_log_dispose;
  object_class->finalize = mcr_debug_log_finalize;

  properties[PROP_RECORDING] =
    g_param_spec_boolean ("recording", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mcr_debug_log_init (McrDebugLog *self)
{
  self->buffer = gtk_text_buffer_new (NULL);
}

McrDebugLog *
mcr_debug_log_get_default (void)
{
  if (default_log != NULL)
    return g_object_ref (default_log);
  default_log = g_object_new (MCR_TYPE_DEBUG_LOG, NULL);
  mcr_log_init ();
  mcr_log_set_sink (log_sink, NULL);
  return default_log;
}

void
mcr_debug_log_set_recording (McrDebugLog *self,
                             gboolean     recording)
{
  g_return_if_fail (MCR_IS_DEBUG_LOG (self));

  recording = !!recording;
  if (self->recording == recording)
    return;
  self->recording = recording;
  g_atomic_int_set (&record_debug, recording);
  if (recording)
    g_log_set_debug_enabled (TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECORDING]);
}

gboolean
mcr_debug_log_get_recording (McrDebugLog *self)
{
  g_return_val_if_fail (MCR_IS_DEBUG_LOG (self), FALSE);
  return self->recording;
}

GtkTextBuffer *
mcr_debug_log_get_buffer (McrDebugLog *self)
{
  g_return_val_if_fail (MCR_IS_DEBUG_LOG (self), NULL);
  return self->buffer;
}

void
mcr_debug_log_clear (McrDebugLog *self)
{
  g_return_if_fail (MCR_IS_DEBUG_LOG (self));
  gtk_text_buffer_set_text (self->buffer, "", 0);
  self->n_lines = 0;
}
