/* mcr-window.c: the main window
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-window"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-window.h"

struct _McrWindow
{
  GtkApplicationWindow parent_instance;

  GtkStack            *stack;
};

G_DEFINE_FINAL_TYPE (McrWindow, mcr_window, GTK_TYPE_APPLICATION_WINDOW)

static void
mcr_window_class_init (McrWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-window.ui");
  gtk_widget_class_bind_template_child (widget_class, McrWindow, stack);
}

static void
mcr_window_init (McrWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

McrWindow *
mcr_window_new (McrApplication *app)
{
  return g_object_new (MCR_TYPE_WINDOW, "application", app, NULL);
}
