/* mcr-token-page.c: the second factor
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-token-page"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-token-page.h"

struct _McrTokenPage
{
  GtkBox          parent_instance;

  GtkEntry       *code_entry;
  GtkWidget      *send_box;
  GtkWidget      *email_button;
  GtkWidget      *sms_button;
  GtkWidget      *messenger_button;
  GtkCheckButton *remember_check;
  GtkLabel       *message_label;
  GtkWidget      *verify_button;

  gboolean        busy;
};

G_DEFINE_FINAL_TYPE (McrTokenPage, mcr_token_page, GTK_TYPE_BOX)

enum
{
  SIGNAL_SUBMIT,
  SIGNAL_SEND_CODE,
  SIGNAL_CANCEL,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
code_is_ready (McrTokenPage *self)
{
  g_autofree char *code = g_strstrip (g_strdup (mcr_token_page_get_code (self)));

  return *code != '\0';
}

static void
update_actions (McrTokenPage *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "token.submit",
                                 !self->busy && code_is_ready (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "token.send", !self->busy);
}

static void
on_code_changed (McrTokenPage *self)
{
  update_actions (self);
}

static void
submit_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  McrTokenPage *self = MCR_TOKEN_PAGE (widget);

  if (!self->busy && code_is_ready (self))
    g_signal_emit (self, signals[SIGNAL_SUBMIT], 0);
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_SEND_CODE], 0, g_variant_get_string (parameter, NULL));
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_CANCEL], 0);
}

static void
mcr_token_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_TOKEN_PAGE);
  G_OBJECT_CLASS (mcr_token_page_parent_class)->dispose (object);
}

static void
mcr_token_page_class_init (McrTokenPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_token_page_dispose;

  signals[SIGNAL_SUBMIT] = g_signal_new ("submit", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_SEND_CODE] = g_signal_new ("send-code", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_CANCEL] = g_signal_new ("cancel", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-token-page.ui");
  gtk_widget_class_bind_template_child (widget_class, McrTokenPage, code_entry);
  gtk_widget_class_bind_template_child (widget_class, McrTokenPage, send_box);
  gtk_widget_class_bind_template_child (widget_class, McrTokenPage, email_button);
  gtk_widget_class_bind_template_child (widget_class, McrTokenPage, sms_button);
  gtk_widget_class_bind_template_child (widget_class, McrTokenPage, messenger_button);
  gtk_widget_class_bind_template_child (widget_class, McrTokenPage, remember_check);
  gtk_widget_class_bind_template_child (widget_class, McrTokenPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, McrTokenPage, verify_button);

  gtk_widget_class_install_action (widget_class, "token.submit", NULL, submit_action);
  gtk_widget_class_install_action (widget_class, "token.send", "s", send_action);
  gtk_widget_class_install_action (widget_class, "token.cancel", NULL, cancel_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "token.cancel", NULL);
}

static void
mcr_token_page_init (McrTokenPage *self)
{
  McrTokenRequest none = { 0 };

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->code_entry, "changed", G_CALLBACK (on_code_changed), self);
  mcr_token_page_set_request (self, &none);
}

GtkWidget *
mcr_token_page_new (void)
{
  return g_object_new (MCR_TYPE_TOKEN_PAGE, NULL);
}

void
mcr_token_page_set_request (McrTokenPage          *self,
                            const McrTokenRequest *request)
{
  g_autofree char *remember = NULL;
  const char *sent = NULL;

  g_return_if_fail (MCR_IS_TOKEN_PAGE (self));
  g_return_if_fail (request != NULL);

  gtk_widget_set_visible (self->email_button, request->email);
  gtk_widget_set_visible (self->sms_button, request->sms);
  gtk_widget_set_visible (self->messenger_button, request->messenger);
  gtk_widget_set_visible (self->send_box, request->email || request->sms || request->messenger);

  gtk_widget_set_visible (GTK_WIDGET (self->remember_check), request->cookie_days > 0);
  if (request->cookie_days > 0)
    {
      remember = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "_Don’t ask again on this device for %u day",
                                               "_Don’t ask again on this device for %u days",
                                               request->cookie_days),
                                  request->cookie_days);
      gtk_check_button_set_label (self->remember_check, remember);
    }
  else
    gtk_check_button_set_active (self->remember_check, FALSE);

  if (request->email_sent)
    sent = _("A code was sent to your email address.");
  else if (request->sms_sent)
    sent = _("A code was sent to your phone.");
  else if (request->messenger_sent)
    sent = _("A code was sent to your messenger.");
  mcr_token_page_set_message (self, sent, FALSE);
  mcr_token_page_set_code (self, NULL);
}

const char *
mcr_token_page_get_code (McrTokenPage *self)
{
  g_return_val_if_fail (MCR_IS_TOKEN_PAGE (self), NULL);
  return gtk_editable_get_text (GTK_EDITABLE (self->code_entry));
}

void
mcr_token_page_set_code (McrTokenPage *self,
                         const char   *code)
{
  g_return_if_fail (MCR_IS_TOKEN_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->code_entry), code != NULL ? code : "");
  update_actions (self);
}

gboolean
mcr_token_page_get_remember_device (McrTokenPage *self)
{
  g_return_val_if_fail (MCR_IS_TOKEN_PAGE (self), FALSE);
  return gtk_widget_get_visible (GTK_WIDGET (self->remember_check))
         && gtk_check_button_get_active (self->remember_check);
}

void
mcr_token_page_set_busy (McrTokenPage *self,
                         gboolean      busy)
{
  g_return_if_fail (MCR_IS_TOKEN_PAGE (self));
  self->busy = !!busy;
  gtk_editable_set_editable (GTK_EDITABLE (self->code_entry), !busy);
  update_actions (self);
}

void
mcr_token_page_set_message (McrTokenPage *self,
                            const char   *message,
                            gboolean      is_error)
{
  GtkWidget *label;

  g_return_if_fail (MCR_IS_TOKEN_PAGE (self));

  label = GTK_WIDGET (self->message_label);
  gtk_label_set_text (self->message_label, message != NULL ? message : "");
  gtk_widget_set_visible (label, message != NULL && *message != '\0');
  if (is_error)
    {
      gtk_widget_add_css_class (label, "error");
      gtk_widget_remove_css_class (label, "success");
    }
  else
    {
      gtk_widget_remove_css_class (label, "error");
      gtk_widget_add_css_class (label, "success");
    }
}

const char *
mcr_token_page_get_message (McrTokenPage *self)
{
  g_return_val_if_fail (MCR_IS_TOKEN_PAGE (self), NULL);
  if (!gtk_widget_get_visible (GTK_WIDGET (self->message_label)))
    return NULL;
  return gtk_label_get_text (self->message_label);
}

GtkWidget *
mcr_token_page_get_default_widget (McrTokenPage *self)
{
  g_return_val_if_fail (MCR_IS_TOKEN_PAGE (self), NULL);
  return self->verify_button;
}

void
mcr_token_page_focus (McrTokenPage *self)
{
  g_return_if_fail (MCR_IS_TOKEN_PAGE (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->code_entry));
}
