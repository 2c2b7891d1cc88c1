/* mcr-debug-log-window.c: shows the debug log
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-debug-log-window"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-debug-log-window.h"

struct _McrDebugLogWindow
{
  GtkWindow    parent_instance;

  GtkSwitch   *record_switch;
  GtkTextView *text_view;

  McrDebugLog *log;
  GtkTextMark *end_mark;
};

G_DEFINE_FINAL_TYPE (McrDebugLogWindow, mcr_debug_log_window, GTK_TYPE_WINDOW)

static void
clear_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  mcr_debug_log_clear (MCR_DEBUG_LOG_WINDOW (widget)->log);
}

static void
copy_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  McrDebugLogWindow *self = MCR_DEBUG_LOG_WINDOW (widget);
  GtkTextBuffer *buffer = mcr_debug_log_get_buffer (self->log);
  g_autofree char *text = NULL;
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text);
}

/* Follow new lines, like a terminal. */
static void
on_buffer_changed (GtkTextBuffer     *buffer,
                   McrDebugLogWindow *self)
{
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_text_view_scroll_mark_onscreen (self->text_view, self->end_mark);
}

static void
mcr_debug_log_window_dispose (GObject *object)
{
  McrDebugLogWindow *self = MCR_DEBUG_LOG_WINDOW (object);

  if (self->log != NULL)
    g_signal_handlers_disconnect_by_func (mcr_debug_log_get_buffer (self->log),
                                          on_buffer_changed, self);
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_DEBUG_LOG_WINDOW);
  g_clear_object (&self->log);
  G_OBJECT_CLASS (mcr_debug_log_window_parent_class)->dispose (object);
}

static void
mcr_debug_log_window_class_init (McrDebugLogWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_debug_log_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-debug-log-window.ui");
  gtk_widget_class_bind_template_child (widget_class, McrDebugLogWindow, record_switch);
  gtk_widget_class_bind_template_child (widget_class, McrDebugLogWindow, text_view);
  gtk_widget_class_install_action (widget_class, "log.clear", NULL, clear_action);
  gtk_widget_class_install_action (widget_class, "log.copy", NULL, copy_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
mcr_debug_log_window_init (McrDebugLogWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
mcr_debug_log_window_new (McrDebugLog *log)
{
  McrDebugLogWindow *self = g_object_new (MCR_TYPE_DEBUG_LOG_WINDOW, NULL);
  GtkTextBuffer *buffer = mcr_debug_log_get_buffer (log);
  GtkTextIter end;

  self->log = g_object_ref (log);
  gtk_text_view_set_buffer (self->text_view, buffer);
  gtk_text_buffer_get_end_iter (buffer, &end);
  self->end_mark = gtk_text_buffer_create_mark (buffer, NULL, &end, FALSE);
  g_signal_connect (buffer, "changed", G_CALLBACK (on_buffer_changed), self);
  g_object_bind_property (log, "recording", self->record_switch, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  return GTK_WIDGET (self);
}
