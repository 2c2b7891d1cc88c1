/* mcr-login-page.c: server, user name and password
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-login-page"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-login-page.h"

struct _McrLoginPage
{
  GtkBox          parent_instance;

  GtkEntry       *server_entry;
  GtkMenuButton  *recent_button;
  GtkEntry       *user_entry;
  GtkPasswordEntry *password_entry;
  GtkCheckButton *remember_check;
  GtkLabel       *message_label;
  GtkButton      *login_button;
  GtkLabel       *login_label;
  GtkSpinner     *spinner;
  GtkWidget      *form;

  gboolean        busy;
};

G_DEFINE_FINAL_TYPE (McrLoginPage, mcr_login_page, GTK_TYPE_BOX)

enum
{
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

enum
{
  SIGNAL_LOGIN,
  SIGNAL_CANCEL,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static gboolean
is_blank (const char *text)
{
  if (text == NULL)
    return TRUE;
  while (g_ascii_isspace (*text))
    text++;
  return *text == '\0';
}

static void
mcr_login_page_update_button (McrLoginPage *self)
{
  gboolean ready = !is_blank (mcr_login_page_get_server (self))
                   && !is_blank (mcr_login_page_get_user (self));

  gtk_widget_set_sensitive (GTK_WIDGET (self->login_button), self->busy || ready);
}

static void
on_field_changed (McrLoginPage *self)
{
  mcr_login_page_update_button (self);
}

static void
on_login_clicked (McrLoginPage *self)
{
  if (self->busy)
    {
      g_signal_emit (self, signals[SIGNAL_CANCEL], 0);
      return;
    }
  if (is_blank (mcr_login_page_get_server (self)) || is_blank (mcr_login_page_get_user (self)))
    return;
  g_signal_emit (self, signals[SIGNAL_LOGIN], 0);
}

static void
pick_server (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  McrLoginPage *self = MCR_LOGIN_PAGE (widget);

  mcr_login_page_set_server (self, g_variant_get_string (parameter, NULL));
  gtk_widget_grab_focus (GTK_WIDGET (self->user_entry));
}

static void
mcr_login_page_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  McrLoginPage *self = MCR_LOGIN_PAGE (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_login_page_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  McrLoginPage *self = MCR_LOGIN_PAGE (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      mcr_login_page_set_busy (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_login_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_LOGIN_PAGE);
  G_OBJECT_CLASS (mcr_login_page_parent_class)->dispose (object);
}

static void
mcr_login_page_class_init (McrLoginPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = mcr_login_page_get_property;
  object_class->set_property = mcr_login_page_set_property;
  object_class->dispose = mcr_login_page_dispose;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_LOGIN] = g_signal_new ("login", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CANCEL] = g_signal_new ("cancel", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-login-page.ui");
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, server_entry);
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, recent_button);
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, user_entry);
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, password_entry);
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, remember_check);
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, login_button);
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, login_label);
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, McrLoginPage, form);

  gtk_widget_class_install_action (widget_class, "login.pick-server", "s", pick_server);
}

static void
mcr_login_page_init (McrLoginPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->server_entry, "changed", G_CALLBACK (on_field_changed), self);
  g_signal_connect_swapped (self->user_entry, "changed", G_CALLBACK (on_field_changed), self);
  g_signal_connect_swapped (self->password_entry, "changed", G_CALLBACK (on_field_changed), self);
  g_signal_connect_swapped (self->login_button, "clicked", G_CALLBACK (on_login_clicked), self);
  mcr_login_page_set_recent (self, NULL);
}

GtkWidget *
mcr_login_page_new (void)
{
  return g_object_new (MCR_TYPE_LOGIN_PAGE, NULL);
}

const char *
mcr_login_page_get_server (McrLoginPage *self)
{
  g_return_val_if_fail (MCR_IS_LOGIN_PAGE (self), NULL);
  return gtk_editable_get_text (GTK_EDITABLE (self->server_entry));
}

void
mcr_login_page_set_server (McrLoginPage *self,
                           const char   *server)
{
  g_return_if_fail (MCR_IS_LOGIN_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->server_entry), server != NULL ? server : "");
}

const char *
mcr_login_page_get_user (McrLoginPage *self)
{
  g_return_val_if_fail (MCR_IS_LOGIN_PAGE (self), NULL);
  return gtk_editable_get_text (GTK_EDITABLE (self->user_entry));
}

void
mcr_login_page_set_user (McrLoginPage *self,
                         const char   *user)
{
  g_return_if_fail (MCR_IS_LOGIN_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->user_entry), user != NULL ? user : "");
}

const char *
mcr_login_page_get_password (McrLoginPage *self)
{
  g_return_val_if_fail (MCR_IS_LOGIN_PAGE (self), NULL);
  return gtk_editable_get_text (GTK_EDITABLE (self->password_entry));
}

void
mcr_login_page_set_password (McrLoginPage *self,
                             const char   *password)
{
  g_return_if_fail (MCR_IS_LOGIN_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->password_entry), password != NULL ? password : "");
}

gboolean
mcr_login_page_get_remember (McrLoginPage *self)
{
  g_return_val_if_fail (MCR_IS_LOGIN_PAGE (self), FALSE);
  return gtk_check_button_get_active (self->remember_check);
}

void
mcr_login_page_set_remember (McrLoginPage *self,
                             gboolean      remember)
{
  g_return_if_fail (MCR_IS_LOGIN_PAGE (self));
  gtk_check_button_set_active (self->remember_check, remember);
}

void
mcr_login_page_set_recent (McrLoginPage      *self,
                           const char *const *servers)
{
  g_autoptr(GMenu) menu = g_menu_new ();

  g_return_if_fail (MCR_IS_LOGIN_PAGE (self));

  for (guint i = 0; servers != NULL && servers[i] != NULL; i++)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (servers[i], NULL);

      g_menu_item_set_action_and_target_value (item, "login.pick-server",
                                               g_variant_new_string (servers[i]));
      g_menu_append_item (menu, item);
    }
  gtk_menu_button_set_menu_model (self->recent_button, G_MENU_MODEL (menu));
  gtk_widget_set_sensitive (GTK_WIDGET (self->recent_button),
                            servers != NULL && servers[0] != NULL);
}

gboolean
mcr_login_page_get_busy (McrLoginPage *self)
{
  g_return_val_if_fail (MCR_IS_LOGIN_PAGE (self), FALSE);
  return self->busy;
}

void
mcr_login_page_set_busy (McrLoginPage *self,
                         gboolean      busy)
{
  g_return_if_fail (MCR_IS_LOGIN_PAGE (self));

  busy = !!busy;
  if (self->busy == busy)
    return;
  self->busy = busy;
  /* Keep the focus on a live widget: the button turns into Cancel. */
  if (busy && gtk_widget_has_focus (GTK_WIDGET (self->login_button)) == FALSE
      && gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_widget_grab_focus (GTK_WIDGET (self->login_button));
  gtk_widget_set_sensitive (self->form, !busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_label_set_text_with_mnemonic (self->login_label, busy ? _("_Cancel") : _("_Log In"));
  if (busy)
    gtk_widget_remove_css_class (GTK_WIDGET (self->login_button), "suggested-action");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->login_button), "suggested-action");
  mcr_login_page_update_button (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
mcr_login_page_set_message (McrLoginPage *self,
                            const char   *message,
                            gboolean      is_error)
{
  GtkWidget *label;

  g_return_if_fail (MCR_IS_LOGIN_PAGE (self));

  label = GTK_WIDGET (self->message_label);
  gtk_label_set_text (self->message_label, message != NULL ? message : "");
  gtk_widget_set_visible (label, message != NULL && *message != '\0');
  if (is_error)
    gtk_widget_add_css_class (label, "error");
  else
    gtk_widget_remove_css_class (label, "error");
  if (message != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (label),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message, -1);
}

const char *
mcr_login_page_get_message (McrLoginPage *self)
{
  g_return_val_if_fail (MCR_IS_LOGIN_PAGE (self), NULL);
  if (!gtk_widget_get_visible (GTK_WIDGET (self->message_label)))
    return NULL;
  return gtk_label_get_text (self->message_label);
}

GtkWidget *
mcr_login_page_get_default_widget (McrLoginPage *self)
{
  g_return_val_if_fail (MCR_IS_LOGIN_PAGE (self), NULL);
  return GTK_WIDGET (self->login_button);
}

void
mcr_login_page_focus (McrLoginPage *self)
{
  g_return_if_fail (MCR_IS_LOGIN_PAGE (self));

  if (is_blank (mcr_login_page_get_server (self)))
    gtk_widget_grab_focus (GTK_WIDGET (self->server_entry));
  else if (is_blank (mcr_login_page_get_user (self)))
    gtk_widget_grab_focus (GTK_WIDGET (self->user_entry));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->password_entry));
}
