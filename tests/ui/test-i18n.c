/* SPDX-License-Identifier: Apache-2.0
 *
 * The window follows the desktop language. With LANGUAGE=de and LANG=C.UTF-8
 * and the catalogues that the build puts under <builddir>/po (or
 * $MCR_LOCALEDIR), the real window, driven in-process against the real
 * testbed, speaks German: strings from the .ui templates, from C, and a
 * plural. Each page and dialog is saved as <builddir>/screenshots/NAME-de.png
 * so that a person can check that the long German labels fit, and each
 * window must fit its German content in its default width. */
#include "config.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <locale.h>

#include "mcr-application.h"
#include "mcr-cert-page.h"
#include "mcr-custom-apps-dialog.h"
#include "mcr-devices-page.h"
#include "mcr-login-page.h"
#include "mcr-map-dialog.h"
#include "mcr-maps-page.h"
#include "mcr-settings-dialog.h"
#include "mcr-testbed.h"
#include "mcr-window.h"

static McrApplication *app;
static McrWindow *window;

/* ---- helpers (as in test-window.c) ---------------------------------------- */

static GtkWidget *
template_child (gpointer    widget,
                GType       type,
                const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  g_assert_nonnull (child);
  return GTK_WIDGET (child);
}

static GtkWidget *
page (const char *name)
{
  GtkStack *stack = GTK_STACK (template_child (window, MCR_TYPE_WINDOW, "stack"));
  GtkStack *views = GTK_STACK (template_child (window, MCR_TYPE_WINDOW, "view_stack"));
  GtkWidget *child = gtk_stack_get_child_by_name (stack, name);

  if (child == NULL)
    child = gtk_stack_get_child_by_name (views, name);
  g_assert_nonnull (child);
  return child;
}

static gboolean
page_is (gpointer name)
{
  return g_strcmp0 (mcr_window_get_page (window), name) == 0;
}

static void
wait_page (const char *name,
           guint       timeout_ms)
{
  if (!mcr_test_wait_until (page_is, (gpointer) name, timeout_ms))
    g_error ("waited for the %s page, still on %s", name, mcr_window_get_page (window));
}

static void
settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static void
set_text (gpointer    widget,
          GType       type,
          const char *child,
          const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (template_child (widget, type, child)), text);
}

static void
screenshot (GtkWidget  *widget,
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
  int width, height;

  settle (600);
  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  g_assert_cmpint (width, >, 0);
  paintable = gtk_widget_paintable_new (widget);
  /* Nothing to paint until the window has drawn a frame: on a loaded
   * machine that can take longer than the settling above. */
  for (guint tries = 0; node == NULL && tries < 50; tries++)
    {
      if (tries > 0)
        {
          gtk_widget_queue_draw (widget);
          settle (200);
        }
      snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, snapshot, width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  g_assert_nonnull (node);
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_mkdir_with_parents (dir, 0755);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

static GtkWindow *
find_toplevel (GType type)
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

static gboolean
have_toplevel (gpointer type)
{
  return find_toplevel (GPOINTER_TO_SIZE (type)) != NULL;
}

static gboolean
no_toplevel (gpointer type)
{
  return find_toplevel (GPOINTER_TO_SIZE (type)) == NULL;
}

/* A label under @root whose text is @text (mnemonic underscores removed). */
static GtkLabel *
find_label (GtkWidget  *root,
            const char *text)
{
  if (GTK_IS_LABEL (root) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (root)), text) == 0)
    return GTK_LABEL (root);
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkLabel *found = find_label (child, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
assert_label (GtkWidget  *root,
              const char *text)
{
  if (find_label (root, text) == NULL)
    g_error ("no label “%s” in %s", text, G_OBJECT_TYPE_NAME (root));
}

/* German is long: the window must still fit its content at its default
 * width, that is, no label forces it wider than it was designed. */
static void
assert_fits_default_width (GtkWindow *w)
{
  int default_width = 0, default_height = 0, minimum = 0, natural = 0;

  gtk_window_get_default_size (w, &default_width, &default_height);
  gtk_widget_measure (GTK_WIDGET (w), GTK_ORIENTATION_HORIZONTAL, -1, &minimum, &natural,
                      NULL, NULL);
  g_test_message ("%s: default width %d, minimum %d, natural %d", G_OBJECT_TYPE_NAME (w),
                  default_width, minimum, natural);
  g_assert_cmpint (default_width, >, 0);
  g_assert_cmpint (minimum, <=, default_width);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (w)), <=, default_width);
}

/* ---- tests --------------------------------------------------------------- */

static void
test_login_page (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrLoginPage *login = MCR_LOGIN_PAGE (page ("login"));
  GtkLabel *button_label = GTK_LABEL (template_child (login, MCR_TYPE_LOGIN_PAGE, "login_label"));

  wait_page ("login", 1000);
  /* From the template, mnemonic kept. */
  g_assert_cmpstr (gtk_label_get_label (button_label), ==, "_Anmelden");
  g_assert_cmpstr (gtk_label_get_text (button_label), ==, "Anmelden");
  assert_label (GTK_WIDGET (login), "Bei MeshCentral anmelden");
  assert_label (GTK_WIDGET (login), "Benutzername");
  assert_label (GTK_WIDGET (login), "Passwort merken");
  /* The GSettings-free, C-side strings as well. */
  g_assert_cmpstr (_("Log in to a server before adding maps."), ==,
                   "Melden Sie sich an einem Server an, bevor Sie Zuordnungen hinzufügen.");

  set_text (login, MCR_TYPE_LOGIN_PAGE, "server_entry", tb->address);
  set_text (login, MCR_TYPE_LOGIN_PAGE, "user_entry", tb->user);
  set_text (login, MCR_TYPE_LOGIN_PAGE, "password_entry", "secret");
  assert_fits_default_width (GTK_WINDOW (window));
  screenshot (GTK_WIDGET (window), "login-de");

  /* While busy the button says Cancel, in German, from C. */
  mcr_login_page_set_busy (login, TRUE);
  g_assert_cmpstr (gtk_label_get_label (button_label), ==, "_Abbrechen");
  mcr_login_page_set_busy (login, FALSE);
  g_assert_cmpstr (gtk_label_get_label (button_label), ==, "_Anmelden");
}

static void
test_dialogs (void)
{
  GtkWindow *dialog;

  g_action_group_activate_action (G_ACTION_GROUP (app), "settings", NULL);
  g_assert_true (mcr_test_wait_until (have_toplevel,
                                      GSIZE_TO_POINTER (MCR_TYPE_SETTINGS_DIALOG), 5000));
  dialog = find_toplevel (MCR_TYPE_SETTINGS_DIALOG);
  g_assert_cmpstr (gtk_window_get_title (dialog), ==, "Einstellungen");
  assert_label (GTK_WIDGET (dialog), "Zuordnungen an alle Netzwerkschnittstellen binden");
  assert_label (GTK_WIDGET (dialog), "Vertrauenswürdige Zertifikate");
  /* The empty lists say so (from C). */
  assert_label (GTK_WIDGET (dialog), "Noch keine Server");
  assert_label (GTK_WIDGET (dialog), "Keine von Hand vertrauten Zertifikate");
  screenshot (GTK_WIDGET (dialog), "settings-de");
  assert_fits_default_width (dialog);
  gtk_window_destroy (dialog);

  g_action_group_activate_action (G_ACTION_GROUP (app), "custom-apps", NULL);
  g_assert_true (mcr_test_wait_until (have_toplevel,
                                      GSIZE_TO_POINTER (MCR_TYPE_CUSTOM_APPS_DIALOG), 5000));
  dialog = find_toplevel (MCR_TYPE_CUSTOM_APPS_DIALOG);
  g_assert_cmpstr (gtk_window_get_title (dialog), ==, "Eigene Anwendungen");
  assert_label (GTK_WIDGET (dialog), "Keine eigenen Anwendungen");
  screenshot (GTK_WIDGET (dialog), "custom-apps-empty-de");
  gtk_widget_activate_action (GTK_WIDGET (dialog), "apps.add", NULL);
  set_text (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG, "name_entry", "VNC");
  set_text (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG, "program_entry", "vncviewer");
  set_text (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG, "arguments_entry", "%L::%P");
  screenshot (GTK_WIDGET (dialog), "custom-apps-de");
  assert_fits_default_width (dialog);
  gtk_widget_activate_action (GTK_WIDGET (dialog), "apps.remove", NULL);
  gtk_window_destroy (dialog);
}

static gboolean
n_maps_is (gpointer data)
{
  GListModel *maps = mcr_session_get_maps (mcr_window_get_session (window));

  return g_list_model_get_n_items (maps) == GPOINTER_TO_UINT (data);
}

/* Logged in: certificate page, device list, Add map dialog, a map, and the
 * plural in the message when logging out stops it. */
static void
test_logged_in (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrLoginPage *login = MCR_LOGIN_PAGE (page ("login"));
  GtkWidget *login_button = template_child (login, MCR_TYPE_LOGIN_PAGE, "login_button");
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  GtkWindow *dialog;
  const char *message;

  set_text (login, MCR_TYPE_LOGIN_PAGE, "server_entry", tb->address);
  set_text (login, MCR_TYPE_LOGIN_PAGE, "user_entry", tb->user);
  set_text (login, MCR_TYPE_LOGIN_PAGE, "password_entry", tb->password);
  g_signal_emit_by_name (login_button, "clicked");
  wait_page ("certificate", 30000);
  assert_label (page ("certificate"), "Nicht vertrauenswürdiges Zertifikat");
  assert_label (page ("certificate"), "Trotzdem verbinden");
  screenshot (GTK_WIDGET (window), "certificate-de");
  assert_fits_default_width (GTK_WINDOW (window));
  gtk_widget_activate_action (page ("certificate"), "cert.accept", NULL);

  wait_page ("devices", 30000);
  assert_label (GTK_WIDGET (window), "Geräte");
  assert_label (GTK_WIDGET (window), "Zuordnungen");
  settle (2000);
  screenshot (GTK_WIDGET (window), "devices-de");
  assert_fits_default_width (GTK_WINDOW (window));

  gtk_widget_activate_action (GTK_WIDGET (window), "win.add-map", NULL);
  g_assert_true (mcr_test_wait_until (have_toplevel, GSIZE_TO_POINTER (MCR_TYPE_MAP_DIALOG),
                                      5000));
  dialog = find_toplevel (MCR_TYPE_MAP_DIALOG);
  g_assert_cmpstr (gtk_window_get_title (dialog), ==, "Zuordnung hinzufügen");
  assert_label (GTK_WIDGET (dialog), "0 wählt einen freien Port");
  screenshot (GTK_WIDGET (dialog), "add-map-de");
  assert_fits_default_width (dialog);
  gtk_window_close (dialog);
  g_assert_true (mcr_test_wait_until (no_toplevel, GSIZE_TO_POINTER (MCR_TYPE_MAP_DIALOG),
                                      5000));

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = 9;
  spec->name = g_strdup ("Verwaltungsoberfläche");
  g_assert_nonnull (mcr_session_add_map (mcr_window_get_session (window), spec, NULL, &error));
  g_assert_no_error (error);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-maps", NULL);
  wait_page ("maps", 5000);
  screenshot (GTK_WIDGET (window), "maps-de");
  assert_fits_default_width (GTK_WINDOW (window));

  gtk_widget_activate_action (GTK_WIDGET (window), "win.logout", NULL);
  wait_page ("login", 5000);
  g_assert_true (n_maps_is (GUINT_TO_POINTER (0)));
  message = mcr_login_page_get_message (login);
  g_test_message ("shown: %s", message);
  g_assert_cmpstr (message, ==, "Sie haben sich abgemeldet; 1 Zuordnung wurde gestoppt.");
  screenshot (GTK_WIDGET (window), "logged-out-de");
}

int
main (int argc, char **argv)
{
  const char *localedir = g_getenv ("MCR_LOCALEDIR");
  g_autofree char *built = g_build_filename (MCR_BUILD_ROOT, "po", NULL);
  g_autofree char *catalogue = NULL;
  int status;

  /* A German desktop (as meson's test environment says too), set before
   * any thread exists. gtk_test_init() picks a locale of its own: the
   * desktop's is what counts, as main() does it. */
  g_setenv ("LANGUAGE", "de", TRUE);
  g_setenv ("LANG", "C.UTF-8", TRUE);
  g_unsetenv ("LC_ALL");
  g_unsetenv ("LC_MESSAGES");
  gtk_test_init (&argc, &argv, NULL);
  g_assert_nonnull (setlocale (LC_ALL, ""));
  if (localedir == NULL)
    localedir = built;
  catalogue = g_build_filename (localedir, "de", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  if (!g_file_test (catalogue, G_FILE_TEST_EXISTS))
    g_error ("%s is missing: build the catalogues (ninja) first", catalogue);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_object_set (gtk_settings_get_default (), "gtk-cursor-blink", FALSE, NULL);
  mcr_testbed_get ();

  app = mcr_application_new (NULL);
  g_application_set_flags (G_APPLICATION (app),
                           g_application_get_flags (G_APPLICATION (app)) | G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));
  window = mcr_window_new (app);
  gtk_window_present (GTK_WINDOW (window));

  g_test_add_func ("/ui/i18n/login-page", test_login_page);
  g_test_add_func ("/ui/i18n/dialogs", test_dialogs);
  g_test_add_func ("/ui/i18n/logged-in", test_logged_in);
  status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (app);
  return status;
}
