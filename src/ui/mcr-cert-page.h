/* mcr-cert-page.h: asks whether to trust a server certificate
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-tls-policy.h"

G_BEGIN_DECLS

#define MCR_TYPE_CERT_PAGE (mcr_cert_page_get_type ())
G_DECLARE_FINAL_TYPE (McrCertPage, mcr_cert_page, MCR, CERT_PAGE, GtkBox)

/* Signals: "accept" (Connect anyway), "cancel". */
GtkWidget         *mcr_cert_page_new             (void);
/* Copies @info. */
void               mcr_cert_page_set_certificate (McrCertPage       *self,
                                                  const char        *server,
                                                  const McrCertInfo *info);
/* The SHA-384 of the certificate shown, uppercase hex. */
const char        *mcr_cert_page_get_sha384      (McrCertPage       *self);
gboolean           mcr_cert_page_get_remember    (McrCertPage       *self);
GtkWidget         *mcr_cert_page_get_default_widget (McrCertPage    *self);
void               mcr_cert_page_focus           (McrCertPage       *self);

G_END_DECLS
