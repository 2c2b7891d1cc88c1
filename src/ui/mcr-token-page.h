/* mcr-token-page.h: the second factor
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-server.h"

G_BEGIN_DECLS

#define MCR_TYPE_TOKEN_PAGE (mcr_token_page_get_type ())
G_DECLARE_FINAL_TYPE (McrTokenPage, mcr_token_page, MCR, TOKEN_PAGE, GtkBox)

/* Signals: "submit" (the code is in mcr_token_page_get_code()),
 * "send-code" (const char *how: "email", "sms" or "messenger"), "cancel". */
GtkWidget  *mcr_token_page_new                (void);
/* Shows what the server offers and what it just sent; clears the code. */
void        mcr_token_page_set_request        (McrTokenPage          *self,
                                               const McrTokenRequest *request);
const char *mcr_token_page_get_code           (McrTokenPage          *self);
void        mcr_token_page_set_code           (McrTokenPage          *self,
                                               const char            *code);
gboolean    mcr_token_page_get_remember_device (McrTokenPage         *self);
void        mcr_token_page_set_busy           (McrTokenPage          *self,
                                               gboolean               busy);
void        mcr_token_page_set_message        (McrTokenPage          *self,
                                               const char            *message,
                                               gboolean               is_error);
const char *mcr_token_page_get_message        (McrTokenPage          *self);
GtkWidget  *mcr_token_page_get_default_widget (McrTokenPage          *self);
void        mcr_token_page_focus              (McrTokenPage          *self);

G_END_DECLS
