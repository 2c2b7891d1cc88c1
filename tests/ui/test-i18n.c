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
#include "window-driver.h"

/* ---- helpers -------------------------------------------------------------- */

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
  McrLoginPage *login = MCR_LOGIN_PAGE (ui_page ("login"));
  GtkLabel *button_label = GTK_LABEL (ui_template_child (login, MCR_TYPE_LOGIN_PAGE,
                                                         "login_label"));

  ui_wait_page ("login", 1000);
  /* From the template, mnemonic kept. */
  g_assert_cmpstr (gtk_label_get_label (button_label), ==, "_Anmelden");
  g_assert_cmpstr (gtk_label_get_text (button_label), ==, "Anmelden");
  assert_label (GTK_WIDGET (login), "Bei MeshCentral anmelden");
  assert_label (GTK_WIDGET (login), "Benutzername");
  assert_label (GTK_WIDGET (login), "Passwort merken");
  /* The GSettings-free, C-side strings as well. */
  g_assert_cmpstr (_("Log in to a server before adding maps."), ==,
                   "Melden Sie sich an einem Server an, bevor Sie Zuordnungen hinzufügen.");

  ui_fill_login (tb->address, tb->user, "secret");
  assert_fits_default_width (GTK_WINDOW (ui_window));
  ui_screenshot (GTK_WIDGET (ui_window), "login-de");

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

  g_action_group_activate_action (G_ACTION_GROUP (ui_app), "settings", NULL);
  g_assert_true (mcr_test_wait_until (ui_have_toplevel,
                                      GSIZE_TO_POINTER (MCR_TYPE_SETTINGS_DIALOG), 5000));
  dialog = ui_find_toplevel (MCR_TYPE_SETTINGS_DIALOG);
  g_assert_cmpstr (gtk_window_get_title (dialog), ==, "Einstellungen");
  assert_label (GTK_WIDGET (dialog), "Zuordnungen an alle Netzwerkschnittstellen binden");
  assert_label (GTK_WIDGET (dialog), "Vertrauenswürdige Zertifikate");
  /* The empty lists say so (from C). */
  assert_label (GTK_WIDGET (dialog), "Noch keine Server");
  assert_label (GTK_WIDGET (dialog), "Keine von Hand vertrauten Zertifikate");
  ui_screenshot (GTK_WIDGET (dialog), "settings-de");
  assert_fits_default_width (dialog);
  gtk_window_destroy (dialog);

  g_action_group_activate_action (G_ACTION_GROUP (ui_app), "custom-apps", NULL);
  g_assert_true (mcr_test_wait_until (ui_have_toplevel,
                                      GSIZE_TO_POINTER (MCR_TYPE_CUSTOM_APPS_DIALOG), 5000));
  dialog = ui_find_toplevel (MCR_TYPE_CUSTOM_APPS_DIALOG);
  g_assert_cmpstr (gtk_window_get_title (dialog), ==, "Eigene Anwendungen");
  assert_label (GTK_WIDGET (dialog), "Keine eigenen Anwendungen");
  ui_screenshot (GTK_WIDGET (dialog), "custom-apps-empty-de");
  gtk_widget_activate_action (GTK_WIDGET (dialog), "apps.add", NULL);
  ui_set_text (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG, "name_entry", "VNC");
  ui_set_text (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG, "program_entry", "vncviewer");
  ui_set_text (dialog, MCR_TYPE_CUSTOM_APPS_DIALOG, "arguments_entry", "%L::%P");
  ui_screenshot (GTK_WIDGET (dialog), "custom-apps-de");
  assert_fits_default_width (dialog);
  gtk_widget_activate_action (GTK_WIDGET (dialog), "apps.remove", NULL);
  gtk_window_destroy (dialog);
}

/* Logged in: certificate page, device list, Add map dialog, a map, and the
 * plural in the message when logging out stops it. */
static void
test_logged_in (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  McrLoginPage *login = MCR_LOGIN_PAGE (ui_page ("login"));
  GtkWidget *login_button = ui_template_child (login, MCR_TYPE_LOGIN_PAGE, "login_button");
  g_autoptr(McrMapSpec) spec = mcr_map_spec_new ();
  g_autoptr(GError) error = NULL;
  GtkWindow *dialog;
  const char *message;

  ui_fill_login (tb->address, tb->user, tb->password);
  g_signal_emit_by_name (login_button, "clicked");
  ui_wait_page ("certificate", 30000);
  assert_label (ui_page ("certificate"), "Nicht vertrauenswürdiges Zertifikat");
  assert_label (ui_page ("certificate"), "Trotzdem verbinden");
  ui_screenshot (GTK_WIDGET (ui_window), "certificate-de");
  assert_fits_default_width (GTK_WINDOW (ui_window));
  gtk_widget_activate_action (ui_page ("certificate"), "cert.accept", NULL);

  ui_wait_page ("devices", 30000);
  assert_label (GTK_WIDGET (ui_window), "Geräte");
  assert_label (GTK_WIDGET (ui_window), "Zuordnungen");
  ui_settle (2000);
  ui_screenshot (GTK_WIDGET (ui_window), "devices-de");
  assert_fits_default_width (GTK_WINDOW (ui_window));

  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.add-map", NULL);
  g_assert_true (mcr_test_wait_until (ui_have_toplevel, GSIZE_TO_POINTER (MCR_TYPE_MAP_DIALOG),
                                      5000));
  dialog = ui_find_toplevel (MCR_TYPE_MAP_DIALOG);
  g_assert_cmpstr (gtk_window_get_title (dialog), ==, "Zuordnung hinzufügen");
  assert_label (GTK_WIDGET (dialog), "0 wählt einen freien Port");
  ui_screenshot (GTK_WIDGET (dialog), "add-map-de");
  assert_fits_default_width (dialog);
  gtk_window_close (dialog);
  g_assert_true (mcr_test_wait_until (ui_no_toplevel, GSIZE_TO_POINTER (MCR_TYPE_MAP_DIALOG),
                                      5000));

  spec->protocol = MCR_PROTOCOL_TCP;
  spec->node_id = g_strdup (tb->node_id);
  spec->remote_port = 9;
  spec->name = g_strdup ("Verwaltungsoberfläche");
  g_assert_nonnull (mcr_session_add_map (mcr_window_get_session (ui_window), spec, NULL, &error));
  g_assert_no_error (error);
  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.show-maps", NULL);
  ui_wait_page ("maps", 5000);
  ui_screenshot (GTK_WIDGET (ui_window), "maps-de");
  assert_fits_default_width (GTK_WINDOW (ui_window));

  gtk_widget_activate_action (GTK_WIDGET (ui_window), "win.logout", NULL);
  ui_wait_page ("login", 5000);
  g_assert_true (ui_n_maps_is (GUINT_TO_POINTER (0)));
  message = mcr_login_page_get_message (login);
  g_test_message ("shown: %s", message);
  g_assert_cmpstr (message, ==, "Sie haben sich abgemeldet; 1 Zuordnung wurde gestoppt.");
  ui_screenshot (GTK_WIDGET (ui_window), "logged-out-de");
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
  ui_init (&argc, &argv);
  g_assert_nonnull (setlocale (LC_ALL, ""));
  if (localedir == NULL)
    localedir = built;
  catalogue = g_build_filename (localedir, "de", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  if (!g_file_test (catalogue, G_FILE_TEST_EXISTS))
    g_error ("%s is missing: build the catalogues (ninja) first", catalogue);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  ui_open_window ();

  g_test_add_func ("/ui/i18n/login-page", test_login_page);
  g_test_add_func ("/ui/i18n/dialogs", test_dialogs);
  g_test_add_func ("/ui/i18n/logged-in", test_logged_in);
  status = g_test_run ();

  ui_close_window ();
  return status;
}
