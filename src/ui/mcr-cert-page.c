/* mcr-cert-page.c: asks whether to trust a server certificate
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-cert-page"

#include "config.h"

#include <glib/gi18n.h>

#include "mcr-cert-page.h"

struct _McrCertPage
{
  GtkBox          parent_instance;

  GtkLabel       *intro_label;
  GtkLabel       *subject_label;
  GtkLabel       *issuer_label;
  GtkLabel       *not_before_label;
  GtkLabel       *not_after_label;
  GtkLabel       *sha384_label;
  GtkLabel       *key_sha384_label;
  GtkLabel       *sha1_label;
  GtkCheckButton *remember_check;
  GtkWidget      *cancel_button;

  char           *sha384;
};

G_DEFINE_FINAL_TYPE (McrCertPage, mcr_cert_page, GTK_TYPE_BOX)

enum
{
  SIGNAL_ACCEPT,
  SIGNAL_CANCEL,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
accept_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_ACCEPT], 0);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_CANCEL], 0);
}

static void
mcr_cert_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), MCR_TYPE_CERT_PAGE);
  G_OBJECT_CLASS (mcr_cert_page_parent_class)->dispose (object);
}

static void
mcr_cert_page_finalize (GObject *object)
{
  McrCertPage *self = MCR_CERT_PAGE (object);

  g_clear_pointer (&self->sha384, g_free);
  G_OBJECT_CLASS (mcr_cert_page_parent_class)->finalize (object);
}

static void
mcr_cert_page_class_init (McrCertPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mcr_cert_page_dispose;
  object_class->finalize = mcr_cert_page_finalize;

  signals[SIGNAL_ACCEPT] = g_signal_new ("accept", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CANCEL] = g_signal_new ("cancel", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/meshcentral/Router/mcr-cert-page.ui");
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, intro_label);
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, subject_label);
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, issuer_label);
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, not_before_label);
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, not_after_label);
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, sha384_label);
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, key_sha384_label);
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, sha1_label);
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, remember_check);
  gtk_widget_class_bind_template_child (widget_class, McrCertPage, cancel_button);

  gtk_widget_class_install_action (widget_class, "cert.accept", NULL, accept_action);
  gtk_widget_class_install_action (widget_class, "cert.cancel", NULL, cancel_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "cert.cancel", NULL);
}

static void
mcr_cert_page_init (McrCertPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
mcr_cert_page_new (void)
{
  return g_object_new (MCR_TYPE_CERT_PAGE, NULL);
}

static char *
format_date (GDateTime *date)
{
  if (date == NULL)
    return g_strdup (_("Unknown"));
  return g_date_time_format (date, "%x %X %Z");
}

/* "AB12CD…" as "AB:12:CD:…" so that people can compare it in pairs. */
static char *
format_hash (const char *hash)
{
  GString *out;

  if (hash == NULL || *hash == '\0')
    return g_strdup (_("Unknown"));
  out = g_string_new (NULL);
  for (gsize i = 0; hash[i] != '\0'; i++)
    {
      if (i > 0 && i % 2 == 0)
        g_string_append_c (out, ':');
      g_string_append_c (out, hash[i]);
    }
  return g_string_free (out, FALSE);
}

static void
set_label (GtkLabel   *label,
           const char *text)
{
  gtk_label_set_text (label, text != NULL && *text != '\0' ? text : _("Unknown"));
}

void
mcr_cert_page_set_certificate (McrCertPage       *self,
                               const char        *server,
                               const McrCertInfo *info)
{
  g_autofree char *intro = NULL;
  g_autofree char *not_before = NULL;
  g_autofree char *not_after = NULL;
  g_autofree char *sha384 = NULL;
  g_autofree char *key_sha384 = NULL;
  g_autofree char *sha1 = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  g_return_if_fail (MCR_IS_CERT_PAGE (self));
  g_return_if_fail (info != NULL);

  intro = g_strdup_printf (_("The certificate of %s is not trusted by this computer. Someone may "
                             "be pretending to be the server. Connect only if the SHA-384 hash "
                             "below matches the one your server administrator gave you."),
                           server);
  gtk_label_set_text (self->intro_label, intro);
  set_label (self->subject_label, info->subject);
  set_label (self->issuer_label, info->issuer);

  not_before = format_date (info->not_before);
  not_after = format_date (info->not_after);
  if (info->not_after != NULL && g_date_time_compare (info->not_after, now) < 0)
    {
      g_autofree char *expired = g_strdup_printf (_("%s (expired)"), not_after);
      g_free (not_after);
      not_after = g_steal_pointer (&expired);
    }
  gtk_label_set_text (self->not_before_label, not_before);
  gtk_label_set_text (self->not_after_label, not_after);

  sha384 = format_hash (info->sha384);
  key_sha384 = format_hash (info->key_sha384);
  sha1 = format_hash (info->sha1);
  gtk_label_set_text (self->sha384_label, sha384);
  gtk_label_set_text (self->key_sha384_label, key_sha384);
  gtk_label_set_text (self->sha1_label, sha1);

  g_free (self->sha384);
  self->sha384 = g_strdup (info->sha384);
  gtk_check_button_set_active (self->remember_check, FALSE);
}

const char *
mcr_cert_page_get_sha384 (McrCertPage *self)
{
  g_return_val_if_fail (MCR_IS_CERT_PAGE (self), NULL);
  return self->sha384;
}

gboolean
mcr_cert_page_get_remember (McrCertPage *self)
{
  g_return_val_if_fail (MCR_IS_CERT_PAGE (self), FALSE);
  return gtk_check_button_get_active (self->remember_check);
}

GtkWidget *
mcr_cert_page_get_default_widget (McrCertPage *self)
{
  g_return_val_if_fail (MCR_IS_CERT_PAGE (self), NULL);
  /* Enter must not connect to an untrusted server by accident. */
  return self->cancel_button;
}

void
mcr_cert_page_focus (McrCertPage *self)
{
  g_return_if_fail (MCR_IS_CERT_PAGE (self));
  gtk_widget_grab_focus (self->cancel_button);
}
