/* mcr-application.c: the GtkApplication, one instance per user session
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-application"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-application.h"
#include "mcr-window.h"

struct _McrApplication
{
  GtkApplication parent_instance;

  McrOptions    *options;
};

G_DEFINE_FINAL_TYPE (McrApplication, mcr_application, GTK_TYPE_APPLICATION)

static void
mcr_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (mcr_window_new (MCR_APPLICATION (app)));
  gtk_window_present (window);
}

static void
mcr_application_finalize (GObject *object)
{
  McrApplication *self = MCR_APPLICATION (object);

  g_clear_pointer (&self->options, mcr_options_free);
  G_OBJECT_CLASS (mcr_application_parent_class)->finalize (object);
}

static void
mcr_application_class_init (McrApplicationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mcr_application_finalize;
  G_APPLICATION_CLASS (klass)->activate = mcr_application_activate;
}

static void
mcr_application_init (McrApplication *self)
{
}

int
mcr_application_run (McrOptions *options,
                     int         argc,
                     char      **argv)
{
  g_autoptr(McrApplication) app = NULL;

  app = g_object_new (MCR_TYPE_APPLICATION,
                      "application-id", APP_ID,
                      "flags", G_APPLICATION_DEFAULT_FLAGS,
                      NULL);
  app->options = options;
  /* Our arguments were parsed already; GApplication must not see them. */
  return g_application_run (G_APPLICATION (app), 1, argv);
}
