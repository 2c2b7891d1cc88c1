/* mcr-settings-dialog.c: the settings window
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-settings-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-settings-dialog.h"

struct _McrSettingsDialog
{
  GtkWindow    parent_instance;

  GtkSwitch   *start_at_login_switch;
  GtkSwitch   *all_interfaces_switch;
  GtkDropDown *double_click_dropdown;
  GtkSwitch   *hide_offline_switch;
  GtkEntry    *proxy_entry;
  GtkListBox  *servers_list;
  GtkListBox  *certificates_list;

  GSettings   *settings;
};

G_DEFINE_FINAL_TYPE (McrSettingsDialog, mcr_settings_dialog, GTK_TYPE_WINDOW)

static const char *const double_click_actions[] = {
  "add-map", "quick-http", "quick-https", "quick-rdp", "quick-ssh", "quick-sftp",
};

static gboolean
action_to_index (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  const char *nick = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (double_click_actions); i++)
    if (g_str_equal (nick, double_click_actions[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  g_value_set_uint (value, 0);
  return TRUE;
}

static GVariant *
index_to_action (const GValue       *value,
                 const GVariantType *type,
                 gpointer            user_data)
{
  guint index = g_value_get_uint (value);

  if (index >= G_N_ELEMENTS (double_click_actions))
    return NULL;
  return g_variant_new_string (double_click_actions[index]);
}

static GtkWidget *
make_row (const char *title,
          const char *subtitle,
          const char *remove_tooltip,
          const char *action,
          const char *target)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *label = gtk_label_new (title);
  GtkWidget *button = gtk_button_new_from_icon_name ("user-trash-symbolic");

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (labels, TRUE);
  gtk_box_append (GTK_BOX (labels), label);
  if (subtitle != NULL)
    {
      GtkWidget *sub = gtk_label_new (subtitle);

      gtk_label_set_xalign (GTK_LABEL (sub), 0);
      gtk_label_set_ellipsize (GTK_LABEL (sub), PANGO_ELLIPSIZE_MIDDLE);
      gtk_label_set_selectable (GTK_LABEL (sub), TRUE);
      gtk_widget_set_focusable (sub, FALSE);
      gtk_widget_add_css_class (sub, "dim-label");
      gtk_widget_add_css_class (sub, "caption");
      gtk_widget_add_css_class (sub, "monospace");
      gtk_box_append (GTK_BOX (labels), sub);
    }
  gtk_box_append (GTK_BOX (box), labels);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, remove_tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  remove_tooltip, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (target));
  gtk_box_append (GTK_BOX (box), button);
  return box;
}

static GtkWidget *
make_placeholder (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_margin_top (label, 12);
  gtk_widget_set_margin_bottom (label, 12);
  return label;
}

/* Removes the rows only: the placeholder is a child too, and removing it
 * would unset it. */
static void
clear_list (GtkListBox *list)
{
  GtkListBoxRow *row;

  while ((row = gtk_list_box_get_row_at_index (list, 0)) != NULL)
    gtk_list_box_remove (list, GTK_WIDGET (row));
}

static void
fill_servers (McrSettingsDialog *self)
{
  g_auto(GStrv) servers = g_settings_get_strv (self->settings, "recent-servers");

  clear_list (self->servers_list);
  for (guint i = 0; servers[i] != NULL; i++)
    {
      g_autofree char *tooltip = g_strdup_printf (_("Forget %s"), servers[i]);

      gtk_list_box_append (self->servers_list,
                           make_row (servers[i], NULL, tooltip, "settings.forget-server",
                                     servers[i]));
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "settings.forget-servers", servers[0] != NULL);
}

static void
fill_certificates (McrSettingsDialog *self)
{
  g_autoptr(GVariant) trusted = g_settings_get_value (self->settings, "trusted-certificates");
  GVariantIter iter;
  const char *server, *hash;

  clear_list (self->certificates_list);
  g_variant_iter_init (&iter, trusted);
  while (g_variant_iter_next (&iter, "{&s&s}", &server, &hash))
    {
      g_autofree char *tooltip = g_strdup_printf (_("Stop trusting the certificate of %s"), server);
      g_autofree char *subtitle = g_strdup_printf ("SHA-384 %s", hash);

      gtk_list_box_append (self->certificates_list,
                           make_row (server, subtitle, tooltip, "settings.forget-certificate",
                                     server));
    }
}

static void
on_setting_changed (GSettings         *settings,
                    const char        *key,
                    McrSettingsDialog *self)
{
  if (g_str_equal (key, "recent-servers"))
    fill_servers (self);
  else if (g_str_equal (key, "trusted-certificates"))
    fill_certificates (self);
}

static void
forget_server_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  McrSettingsDialog *self = MCR_SETTINGS_DIALOG (widget);
  const char *server = g_variant_get_string (parameter, NULL);
  g_auto(GStrv) servers = g_settings_get_strv (self->settings, "recent-servers");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) kept = NULL;

  for (guint i = 0; servers[i] != NULL; i++)
    if (!g_str_equal (servers[i], server))
      g_strv_builder_add (builder, servers[i]);
  kept = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-servers", (const char *const *) kept);
}

static void
forget_servers_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  McrSettingsDialog *self = MCR_SETTINGS_DIALOG (widget);

  g_settings_reset (self->settings, "recent-servers");
  g_settings_reset (self->settings, "last-server");
  g_settings_reset (self->settings, "last-user");
}

void
mcr_settings_dialog_set_trusted_certificate (GSettings  *settings,
                                             const char *server,
                                             const char *sha384)
{
  g_autoptr(GVariant) trusted = NULL;
  GVariantBuilder builder;
  GVariantIter iter;
  const char *key, *value;

  g_return_if_fail (G_IS_SETTINGS (settings));
  g_return_if_fail (server != NULL);

  trusted = g_settings_get_value (settings, "trusted-certificates");
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  g_variant_iter_init (&iter, trusted);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    if (!g_str_equal (key, server))
      g_variant_builder_add (&builder, "{ss}", key, value);
  if (sha384 != NULL)
    g_variant_builder_add (&builder, "{ss}", server, sha384);
  g_settings_set_value (settings, "trusted-certificates", g_variant_builder_end (&builder));
}

static void
forget_certificate_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  McrSettingsDialog *self = MCR_SETTINGS_DIALOG (widget);

  mcr_settings_dialog_set_trusted_certificate (self->settings,
                                               g_variant_get_string (parameter, NULL), NULL);
}

static void
mcr_settings_dialog_dispose (GObject *object)
{
  McrSettingsDialog *self = MCR_SETTINGS_DIALOG (object);

  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_func (self->settings, on_setting_changed, self);
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_SETTINGS_DIALOG);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mcr_settings_dialog_parent_class)->dispose (object);
}

static void
mcr_settings_dialog_class_init (McrSettingsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_settings_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-settings-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, McrSettingsDialog, start_at_login_switch);
  gtk_widget_class_bind_template_child (widget_class, McrSettingsDialog, all_interfaces_switch);
  gtk_widget_class_bind_template_child (widget_class, McrSettingsDialog, double_click_dropdown);
  gtk_widget_class_bind_template_child (widget_class, McrSettingsDialog, hide_offline_switch);
  gtk_widget_class_bind_template_child (widget_class, McrSettingsDialog, proxy_entry);
  gtk_widget_class_bind_template_child (widget_class, McrSettingsDialog, servers_list);
  gtk_widget_class_bind_template_child (widget_class, McrSettingsDialog, certificates_list);

  gtk_widget_class_install_action (widget_class, "settings.forget-server", "s",
                                   forget_server_action);
  gtk_widget_class_install_action (widget_class, "settings.forget-servers", NULL,
                                   forget_servers_action);
  gtk_widget_class_install_action (widget_class, "settings.forget-certificate", "s",
                                   forget_certificate_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
mcr_settings_dialog_init (McrSettingsDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->settings = g_settings_new (APP_ID);

  g_settings_bind (self->settings, "start-at-login", self->start_at_login_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "bind-all-interfaces", self->all_interfaces_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "hide-offline", self->hide_offline_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "proxy", self->proxy_entry, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "double-click-action",
                                self->double_click_dropdown, "selected", G_SETTINGS_BIND_DEFAULT,
                                action_to_index, index_to_action, NULL, NULL);

  gtk_list_box_set_placeholder (self->servers_list, make_placeholder (_("No servers yet")));
  gtk_list_box_set_placeholder (self->certificates_list,
                                make_placeholder (_("No certificates trusted by hand")));
  fill_servers (self);
  fill_certificates (self);
  g_signal_connect (self->settings, "changed", G_CALLBACK (on_setting_changed), self);
}

McrSettingsDialog *
mcr_settings_dialog_new (GtkWindow *parent)
{
  return g_object_new (MCR_TYPE_SETTINGS_DIALOG, "transient-for", parent, NULL);
}
