/* window-driver.c: the application and its window, driven in-process by the
 * UI tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "window-driver"

#include <glib/gstdio.h>
#include <string.h>

#include "mcr-login-page.h"
#include "mcr-testbed.h"
#include "window-driver.h"

McrApplication *ui_app;
McrWindow      *ui_window;
static char    *ui_config_dir;

void
ui_init (int    *argc,
         char ***argv)
{
  g_autoptr(GSettings) settings = NULL;

  /* Nothing of the tests in the user's own configuration (removed by
   * ui_close_window() if the tests left it empty). */
  ui_config_dir = g_dir_make_tmp ("mcr-ui-config-XXXXXX", NULL);
  g_assert_nonnull (ui_config_dir);
  g_setenv ("XDG_CONFIG_HOME", ui_config_dir, TRUE);
  gtk_test_init (argc, argv, NULL);
  /* Each test logs in afresh: maps of one must not come back in the next
   * (test-remember.c turns this on). */
  settings = g_settings_new ("org.meshcentral.Router");
  g_settings_set_boolean (settings, "remember-maps", FALSE);
  /* GTK 4.8 warns when a blinking cursor's entry loses focus without an
   * event, which happens without a window manager. */
  g_object_set (gtk_settings_get_default (), "gtk-cursor-blink", FALSE, NULL);
  mcr_testbed_get ();
}

void
ui_open_window (void)
{
  ui_app = mcr_application_new (NULL);
  g_application_set_flags (G_APPLICATION (ui_app),
                           g_application_get_flags (G_APPLICATION (ui_app))
                           | G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (ui_app), NULL, NULL));
  ui_window = mcr_window_new (ui_app);
  gtk_window_present (GTK_WINDOW (ui_window));
}

void
ui_close_window (void)
{
  gtk_window_destroy (GTK_WINDOW (ui_window));
  ui_window = NULL;
  g_clear_object (&ui_app);
  if (ui_config_dir != NULL)
    g_rmdir (ui_config_dir);
}

void
ui_settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

GtkWidget *
ui_template_child (gpointer    widget,
                   GType       type,
                   const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

void
ui_set_text (gpointer    widget,
             GType       type,
             const char *child,
             const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (ui_template_child (widget, type, child)), text);
}

GtkWidget *
ui_page (const char *name)
{
  GtkStack *stack = GTK_STACK (ui_template_child (ui_window, MCR_TYPE_WINDOW, "stack"));
  GtkStack *views = GTK_STACK (ui_template_child (ui_window, MCR_TYPE_WINDOW, "view_stack"));
  GtkWidget *child = gtk_stack_get_child_by_name (stack, name);

  if (child == NULL)
    child = gtk_stack_get_child_by_name (views, name);
  g_assert_nonnull (child);
  return child;
}

gboolean
ui_page_is (gpointer name)
{
  return g_strcmp0 (mcr_window_get_page (ui_window), name) == 0;
}

void
ui_wait_page (const char *name,
              guint       timeout_ms)
{
  if (!mcr_test_wait_until (ui_page_is, (gpointer) name, timeout_ms))
    g_error ("waited for the %s page, still on %s", name, mcr_window_get_page (ui_window));
}

void
ui_fill_login (const char *server,
               const char *user,
               const char *password)
{
  GtkWidget *login = ui_page ("login");

  ui_set_text (login, MCR_TYPE_LOGIN_PAGE, "server_entry", server);
  ui_set_text (login, MCR_TYPE_LOGIN_PAGE, "user_entry", user);
  ui_set_text (login, MCR_TYPE_LOGIN_PAGE, "password_entry", password);
}

gboolean
ui_n_maps_is (gpointer n)
{
  GListModel *maps = mcr_session_get_maps (mcr_window_get_session (ui_window));

  return g_list_model_get_n_items (maps) == GPOINTER_TO_UINT (n);
}

GtkWindow *
ui_find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (w, type) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return GTK_WINDOW (w);
    }
  return NULL;
}

gboolean
ui_have_toplevel (gpointer type)
{
  return ui_find_toplevel (GPOINTER_TO_SIZE (type)) != NULL;
}

gboolean
ui_no_toplevel (gpointer type)
{
  return ui_find_toplevel (GPOINTER_TO_SIZE (type)) == NULL;
}

void
ui_screenshot (GtkWidget  *widget,
               const char *name)
{
  g_autofree char *dir = g_build_filename (MCR_BUILD_ROOT, "screenshots", NULL);
  g_autofree char *file = g_strdup_printf ("%s.png", name);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  int width = 0, height = 0;

  /* The paintable shows the widget's last drawn frame: there is none while
   * a new widget waits for its size or a redraw is pending, which on a busy
   * machine can outlast the settling: up to 5 s more. */
  ui_settle (600);
  for (guint tries = 0; node == NULL && tries < 50; tries++)
    {
      if (tries > 0)
        ui_settle (100);
      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      if (width <= 0)
        continue;
      g_clear_object (&paintable);
      paintable = gtk_widget_paintable_new (widget);
      snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  g_assert_cmpint (width, >, 0);
  g_assert_nonnull (node);
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_mkdir_with_parents (dir, 0755);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

const char *
ui_banner_text (void)
{
  GtkRevealer *revealer = GTK_REVEALER (ui_template_child (ui_window, MCR_TYPE_WINDOW,
                                                           "banner_revealer"));
  GtkLabel *label = GTK_LABEL (ui_template_child (ui_window, MCR_TYPE_WINDOW, "banner_label"));

  return gtk_revealer_get_reveal_child (revealer) ? gtk_label_get_text (label) : NULL;
}

gboolean
ui_banner_has (gpointer text)
{
  return ui_banner_text () != NULL && strstr (ui_banner_text (), text) != NULL;
}
