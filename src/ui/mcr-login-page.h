/* mcr-login-page.h: server, user name and password
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MCR_TYPE_LOGIN_PAGE (mcr_login_page_get_type ())
G_DECLARE_FINAL_TYPE (McrLoginPage, mcr_login_page, MCR, LOGIN_PAGE, GtkBox)

/* Signals: "login" when the user asks to log in, "cancel" when the user
 * stops a login under way. Property "busy": a login is under way. */
GtkWidget  *mcr_login_page_new              (void);
const char *mcr_login_page_get_server       (McrLoginPage       *self);
void        mcr_login_page_set_server       (McrLoginPage       *self,
                                             const char         *server);
const char *mcr_login_page_get_user         (McrLoginPage       *self);
void        mcr_login_page_set_user         (McrLoginPage       *self,
                                             const char         *user);
const char *mcr_login_page_get_password     (McrLoginPage       *self);
void        mcr_login_page_set_password     (McrLoginPage       *self,
                                             const char         *password);
gboolean    mcr_login_page_get_remember     (McrLoginPage       *self);
void        mcr_login_page_set_remember     (McrLoginPage       *self,
                                             gboolean            remember);
void        mcr_login_page_set_recent       (McrLoginPage       *self,
                                             const char *const  *servers);
gboolean    mcr_login_page_get_busy         (McrLoginPage       *self);
void        mcr_login_page_set_busy         (McrLoginPage       *self,
                                             gboolean            busy);
/* An error (red) or a plain notice; NULL hides it. */
void        mcr_login_page_set_message      (McrLoginPage       *self,
                                             const char         *message,
                                             gboolean            is_error);
const char *mcr_login_page_get_message      (McrLoginPage       *self);
GtkWidget  *mcr_login_page_get_default_widget (McrLoginPage     *self);
/* Puts the keyboard focus on the first empty field. */
void        mcr_login_page_focus            (McrLoginPage       *self);

G_END_DECLS
