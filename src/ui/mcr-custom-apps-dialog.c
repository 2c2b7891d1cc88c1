/* mcr-custom-apps-dialog.c: edits the user's custom apps
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * The apps are kept here while editing and written to GSettings whenever the
 * whole list is valid: every app named, names unique, a program, arguments
 * that split into words.
 */
#define G_LOG_DOMAIN "mcr-custom-apps-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-custom-apps-dialog.h"
#include "mcr-launcher.h"

typedef struct
{
  char *name;
  char *program;
  char *arguments;
  char *protocol;
} CustomApp;

struct _McrCustomAppsDialog
{
  GtkWindow    parent_instance;

  GtkListBox  *apps_list;
  GtkStack    *form_stack;
  GtkEntry    *name_entry;
  GtkEntry    *program_entry;
  GtkEntry    *arguments_entry;
  GtkDropDown *protocol_dropdown;
  GtkLabel    *error_label;

  GSettings   *settings;
  GPtrArray   *apps;       /* CustomApp */
  int          current;    /* index in apps, or -1 */
  gboolean     loading;
};

G_DEFINE_FINAL_TYPE (McrCustomAppsDialog, mcr_custom_apps_dialog, GTK_TYPE_WINDOW)

static void
custom_app_free (CustomApp *app)
{
  g_free (app->name);
  g_free (app->program);
  g_free (app->arguments);
  g_free (app->protocol);
  g_free (app);
}

static CustomApp *
current_app (McrCustomAppsDialog *self)
{
  if (self->current < 0 || (guint) self->current >= self->apps->len)
    return NULL;
  return g_ptr_array_index (self->apps, self->current);
}

static void
mark (GtkWidget *widget,
      gboolean   bad)
{
  if (bad)
    gtk_widget_add_css_class (widget, "error");
  else
    gtk_widget_remove_css_class (widget, "error");
}

/* The first problem with the list, and whether it is in the app shown. */
static char *
check_apps (McrCustomAppsDialog *self)
{
  for (guint i = 0; i < self->apps->len; i++)
    {
      CustomApp *app = g_ptr_array_index (self->apps, i);
      g_auto(GStrv) argv = NULL;
      g_autoptr(GError) error = NULL;

      if (*app->name == '\0')
        return g_strdup (_("Every app needs a name."));
      for (guint j = 0; j < i; j++)
        if (g_utf8_collate (((CustomApp *) g_ptr_array_index (self->apps, j))->name, app->name) == 0)
          return g_strdup_printf (_("There are two apps called “%s”."), app->name);
      if (*app->program == '\0')
        return g_strdup_printf (_("The app “%s” needs a program."), app->name);
      argv = mcr_launcher_expand_arguments (app->arguments, 1, "127.0.0.1", "x", &error);
      if (argv == NULL)
        return g_strdup (error->message);
    }
  return NULL;
}

static void
save_apps (McrCustomAppsDialog *self)
{
  GVariantBuilder builder;
  g_autofree char *problem = check_apps (self);
  CustomApp *app = current_app (self);

  if (app != NULL)
    {
      g_auto(GStrv) argv = mcr_launcher_expand_arguments (app->arguments, 1, "127.0.0.1", "x",
                                                          NULL);

      mark (GTK_WIDGET (self->name_entry), *app->name == '\0');
      mark (GTK_WIDGET (self->program_entry), *app->program == '\0');
      mark (GTK_WIDGET (self->arguments_entry), argv == NULL);
    }
  gtk_label_set_text (self->error_label, problem != NULL ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), problem != NULL);
  if (problem != NULL)
    return;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssss)"));
  for (guint i = 0; i < self->apps->len; i++)
    {
      app = g_ptr_array_index (self->apps, i);
      g_variant_builder_add (&builder, "(ssss)", app->name, app->program, app->arguments,
                             app->protocol);
    }
  g_settings_set_value (self->settings, "custom-apps", g_variant_builder_end (&builder));
}

static GtkWidget *
make_row (CustomApp *app)
{
  GtkWidget *label = gtk_label_new (*app->name != '\0' ? app->name : _("Unnamed App"));

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  return label;
}

static void
fill_list (McrCustomAppsDialog *self,
           int                  select)
{
  GtkWidget *child;

  self->loading = TRUE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->apps_list))) != NULL)
    gtk_list_box_remove (self->apps_list, child);
  for (guint i = 0; i < self->apps->len; i++)
    gtk_list_box_append (self->apps_list, make_row (g_ptr_array_index (self->apps, i)));
  self->loading = FALSE;

  if (select >= 0 && (guint) select < self->apps->len)
    gtk_list_box_select_row (self->apps_list, gtk_list_box_get_row_at_index (self->apps_list, select));
  else
    {
      self->current = -1;
      gtk_stack_set_visible_child_name (self->form_stack, "empty");
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "apps.remove", self->apps->len > 0);
}

static void
on_row_selected (McrCustomAppsDialog *self,
                 GtkListBoxRow       *row)
{
  CustomApp *app;

  if (self->loading)
    return;
  self->current = row != NULL ? gtk_list_box_row_get_index (row) : -1;
  app = current_app (self);
  if (app == NULL)
    {
      gtk_stack_set_visible_child_name (self->form_stack, "empty");
      return;
    }
  self->loading = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), app->name);
  gtk_editable_set_text (GTK_EDITABLE (self->program_entry), app->program);
  gtk_editable_set_text (GTK_EDITABLE (self->arguments_entry), app->arguments);
  gtk_drop_down_set_selected (self->protocol_dropdown,
                              g_ascii_strcasecmp (app->protocol, "UDP") == 0 ? 1 : 0);
  self->loading = FALSE;
  gtk_stack_set_visible_child_name (self->form_stack, "form");
  save_apps (self);
}

static void
on_field_changed (McrCustomAppsDialog *self)
{
  CustomApp *app = current_app (self);
  GtkListBoxRow *row;

  if (self->loading || app == NULL)
    return;
  g_free (app->name);
  app->name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_entry))));
  g_free (app->program);
  app->program = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->program_entry))));
  g_free (app->arguments);
  app->arguments = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->arguments_entry)));
  g_free (app->protocol);
  app->protocol = g_strdup (gtk_drop_down_get_selected (self->protocol_dropdown) == 1 ? "UDP"
                                                                                      : "TCP");
  row = gtk_list_box_get_row_at_index (self->apps_list, self->current);
  if (row != NULL)
    gtk_label_set_text (GTK_LABEL (gtk_list_box_row_get_child (row)),
                        *app->name != '\0' ? app->name : _("Unnamed App"));
  save_apps (self);
}

static void
add_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  McrCustomAppsDialog *self = MCR_CUSTOM_APPS_DIALOG (widget);
  CustomApp *app = g_new0 (CustomApp, 1);

  app->name = g_strdup ("");
  app->program = g_strdup ("");
  app->arguments = g_strdup ("%L::%P");
  app->protocol = g_strdup ("TCP");
  g_ptr_array_add (self->apps, app);
  fill_list (self, self->apps->len - 1);
  gtk_widget_grab_focus (GTK_WIDGET (self->name_entry));
}

static void
remove_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  McrCustomAppsDialog *self = MCR_CUSTOM_APPS_DIALOG (widget);
  int removed = self->current;

  if (current_app (self) == NULL)
    return;
  g_ptr_array_remove_index (self->apps, removed);
  fill_list (self, MIN (removed, (int) self->apps->len - 1));
  save_apps (self);
}

static void
load_apps (McrCustomAppsDialog *self)
{
  g_autoptr(GVariant) apps = g_settings_get_value (self->settings, "custom-apps");
  GVariantIter iter;
  const char *name, *program, *arguments, *protocol;

  g_variant_iter_init (&iter, apps);
  while (g_variant_iter_next (&iter, "(&s&s&s&s)", &name, &program, &arguments, &protocol))
    {
      CustomApp *app = g_new0 (CustomApp, 1);

      app->name = g_strdup (name);
      app->program = g_strdup (program);
      app->arguments = g_strdup (arguments);
      app->protocol = g_strdup (protocol);
      g_ptr_array_add (self->apps, app);
    }
}

static void
mcr_custom_apps_dialog_dispose (GObject *object)
{
  McrCustomAppsDialog *self = MCR_CUSTOM_APPS_DIALOG (object);

  /* Tearing the list down selects nothing: that is no edit. */
  self->loading = TRUE;
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_CUSTOM_APPS_DIALOG);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mcr_custom_apps_dialog_parent_class)->dispose (object);
}

static void
mcr_custom_apps_dialog_finalize (GObject *object)
{
  McrCustomAppsDialog *self = MCR_CUSTOM_APPS_DIALOG (object);

  g_clear_pointer (&self->apps, g_ptr_array_unref);
  G_OBJECT_CLASS (mcr_custom_apps_dialog_parent_class)->finalize (object);
}

static void
mcr_custom_apps_dialog_class_init (McrCustomAppsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_custom_apps_dialog_dispose;
  object_class->finalize = mcr_custom_apps_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-custom-apps-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, McrCustomAppsDialog, apps_list);
  gtk_widget_class_bind_template_child (widget_class, McrCustomAppsDialog, form_stack);
  gtk_widget_class_bind_template_child (widget_class, McrCustomAppsDialog, name_entry);
  gtk_widget_class_bind_template_child (widget_class, McrCustomAppsDialog, program_entry);
  gtk_widget_class_bind_template_child (widget_class, McrCustomAppsDialog, arguments_entry);
  gtk_widget_class_bind_template_child (widget_class, McrCustomAppsDialog, protocol_dropdown);
  gtk_widget_class_bind_template_child (widget_class, McrCustomAppsDialog, error_label);

  gtk_widget_class_install_action (widget_class, "apps.add", NULL, add_action);
  gtk_widget_class_install_action (widget_class, "apps.remove", NULL, remove_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
mcr_custom_apps_dialog_init (McrCustomAppsDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->apps_list, "row-selected", G_CALLBACK (on_row_selected), self);
  g_signal_connect_swapped (self->name_entry, "changed", G_CALLBACK (on_field_changed), self);
  g_signal_connect_swapped (self->program_entry, "changed", G_CALLBACK (on_field_changed), self);
  g_signal_connect_swapped (self->arguments_entry, "changed", G_CALLBACK (on_field_changed), self);
  self->settings = g_settings_new (APP_ID);
  self->apps = g_ptr_array_new_with_free_func ((GDestroyNotify) custom_app_free);
  self->current = -1;
  load_apps (self);
  g_signal_connect_swapped (self->protocol_dropdown, "notify::selected",
                            G_CALLBACK (on_field_changed), self);
  fill_list (self, 0);
}

McrCustomAppsDialog *
mcr_custom_apps_dialog_new (GtkWindow *parent)
{
  return g_object_new (MCR_TYPE_CUSTOM_APPS_DIALOG, "transient-for", parent, NULL);
}
