/* window-driver.h: the application and its window, driven in-process by the
 * UI tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-application.h"
#include "mcr-window.h"

G_BEGIN_DECLS

/* Set by ui_open_window(). */
extern McrApplication *ui_app;
extern McrWindow      *ui_window;

/* gtk_test_init(), no blinking cursor, and the testbed started. */
void        ui_init            (int         *argc,
                                char      ***argv);
/* A new application (not unique: it does not hand over to another
 * instance), registered, and its window presented. */
void        ui_open_window     (void);
/* Destroys the window and drops the application. */
void        ui_close_window    (void);

/* Lets layout, animations and idle work settle for @ms. */
void        ui_settle          (guint        ms);
/* The template child @name of @widget (of template type @type); asserts
 * that there is one. */
GtkWidget  *ui_template_child  (gpointer     widget,
                                GType        type,
                                const char  *name);
/* Types @text into the template child @child (a GtkEditable). */
void        ui_set_text        (gpointer     widget,
                                GType        type,
                                const char  *child,
                                const char  *text);
/* The window's page @name ("login", "certificate", "devices", "maps"…). */
GtkWidget  *ui_page            (const char  *name);
/* A wait predicate: the window shows the page named @name. */
gboolean    ui_page_is         (gpointer     name);
/* Waits until the window shows page @name; g_error() after @timeout_ms. */
void        ui_wait_page       (const char  *name,
                                guint        timeout_ms);
/* Fills the login page's server, user and password. */
void        ui_fill_login      (const char  *server,
                                const char  *user,
                                const char  *password);
/* A wait predicate: the session has GPOINTER_TO_UINT(@n) maps. */
gboolean    ui_n_maps_is       (gpointer     n);
/* A visible toplevel of @type, or NULL. */
GtkWindow  *ui_find_toplevel   (GType        type);
/* Wait predicates: there is (not) a visible toplevel of type
 * GPOINTER_TO_SIZE(@type). */
gboolean    ui_have_toplevel   (gpointer     type);
gboolean    ui_no_toplevel     (gpointer     type);
/* The banner's text while it shows, or NULL. */
const char *ui_banner_text     (void);
/* A wait predicate: the banner shows and its text holds @text (a string). */
gboolean    ui_banner_has      (gpointer     text);
/* Saves @widget as <builddir>/screenshots/@name.png (after it settles). */
void        ui_screenshot      (GtkWidget   *widget,
                                const char  *name);

G_END_DECLS
