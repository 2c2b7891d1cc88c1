/* mcr-window-private.h: what the parts of McrWindow share
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * McrWindow is written in three files, as GNOME Text Editor writes its
 * window: mcr-window.c (the pages and their wiring), mcr-window-login.c
 * (logging in, the keyring, second factor, certificate, end of session) and
 * mcr-window-files.c (.mcrouter files, mcrouter:// links, drag and drop,
 * the mapping dialogs and the question about switching servers), and
 * mcr-window-remember.c (the maps that come back at the next login).
 */
#pragma once

#include "mcr-cert-page.h"
#include "mcr-devices-page.h"
#include "mcr-login-page.h"
#include "mcr-map-file.h"
#include "mcr-map-store.h"
#include "mcr-maps-page.h"
#include "mcr-router-url.h"
#include "mcr-secret-store.h"
#include "mcr-token-page.h"
#include "mcr-window.h"

G_BEGIN_DECLS

struct _McrWindow
{
  GtkApplicationWindow parent_instance;

  /* template */
  GtkStack        *title_stack;
  GtkWidget       *add_map_button;
  GtkRevealer     *banner_revealer;
  GtkWidget       *banner;
  GtkLabel        *banner_label;
  GtkStack        *stack;
  GtkStack        *view_stack;

  McrLoginPage    *login_page;
  McrTokenPage    *token_page;
  McrCertPage     *cert_page;
  McrDevicesPage  *devices_page;
  McrMapsPage     *maps_page;

  GSettings       *settings;
  McrSession      *session;
  McrSecretStore  *secrets;

  /* the login under way */
  McrServer       *pending;
  GCancellable    *cancellable;
  char            *token;           /* the code of the last attempt */
  char            *accepted_hash;   /* a certificate the user accepted for this login */
  char            *twofa_cookie;    /* from the keyring */
  char            *auth_cookie;     /* from an mcrouter:// link; a secret */
  gboolean         remember_device;

  /* from the command line and files */
  GPtrArray       *queued_maps;     /* McrMapSpec */
  char           **certhashes;
  char            *file_certhash;   /* of the file that filled the login form */

  /* a file or link for another server, until the user answers */
  McrMapFile      *switch_file;
  McrRouterUrl    *switch_url;
  char            *switch_name;
  GtkWindow       *switch_dialog;
  gboolean         ignore_cert;
  char            *proxy;

  /* remembered maps (mcr-window-remember.c) */
  McrMapStore     *map_store;
  char            *remember_address;
  char            *remember_user;
  char            *remember_problem;  /* the remembered file could not be used */
  GPtrArray       *remember_pending;  /* McrMapSpec, until the devices are in */
  GPtrArray       *remember_kept;     /* McrMapSpec whose device is not known */
  gboolean         remembering;
  guint            remember_save_id;

  gulong           state_id;
  gulong           loaded_id;
  gulong           cookie_id;
};

/* mcr-window.c */
void  _mcr_window_show_page               (McrWindow      *self,
                                           const char     *name);
void  _mcr_window_update_title            (McrWindow      *self);
void  _mcr_window_update_actions          (McrWindow      *self);
/* A hidden window (-tray, or running on in the background) that needs the
 * user shows itself. */
void  _mcr_window_present_if_hidden       (McrWindow      *self);
/* Asks the server to wake @device (Wake-on-LAN); the answer goes to the
 * banner. */
void  _mcr_window_wake_device             (McrWindow      *self,
                                           McrDevice      *device);
/* Creates the queued maps on the devices of this login. */
void  _mcr_window_create_queued_maps      (McrWindow      *self);

/* mcr-window-login.c */
void  _mcr_window_login_class_init        (GtkWidgetClass *widget_class);
/* Connects the login, second factor and certificate pages and fills the
 * login form from the settings (and the keyring). */
void  _mcr_window_login_init              (McrWindow      *self);
/* Gives up the login under way and logs out of the server. */
void  _mcr_window_login_dispose           (McrWindow      *self);
/* The login form's address as the secret store and the settings key it:
 * what the user typed, trimmed. */
char *_mcr_window_login_address           (McrWindow      *self);
/* Fills the password field from the keyring, if the form names an account
 * whose password we remember. */
void  _mcr_window_lookup_password         (McrWindow      *self);
/* Logs in with what the login form says (the login page's "login"). */
void  _mcr_window_login_with_form         (McrWindow      *self);
/* Logs in with the form and what this login has gathered so far (code,
 * accepted certificate, a link's cookie). */
void  _mcr_window_start_login             (McrWindow      *self);
void  _mcr_window_log_out                 (McrWindow      *self);

/* mcr-window-remember.c */
/* At login: reads the remembered maps of @address and @user (if the
 * "remember-maps" setting is on); a broken file is reported and set aside. */
void  _mcr_window_remember_begin          (McrWindow      *self,
                                           const char     *address,
                                           const char     *user);
/* Once the devices are in: starts the remembered maps (switched-off ones
 * listed only), appends what went wrong to @problems, and from then on
 * remembers every change. */
void  _mcr_window_restore_maps            (McrWindow      *self,
                                           GString        *problems);
/* Writes what is pending and stops remembering (logout, end of session). */
void  _mcr_window_remember_end            (McrWindow      *self);
void  _mcr_window_remember_dispose        (McrWindow      *self);

/* mcr-window-files.c */
/* The maps of this login as a file (Save Mappings and the remembered maps);
 * @actual_ports: the port each map listens on rather than the one asked
 * for; maps without a known device are listed in @unsaved. */
McrMapFile *_mcr_window_build_map_file    (McrWindow      *self,
                                           gboolean        actual_ports,
                                           GString        *unsaved);
void  _mcr_window_files_class_init        (GtkWidgetClass *widget_class);
/* Takes .mcrouter files dropped on the window. */
void  _mcr_window_files_init              (McrWindow      *self);
/* Drops a file or link that waits for the answer to "switch servers?". */
void  _mcr_window_files_dispose           (McrWindow      *self);

G_END_DECLS
