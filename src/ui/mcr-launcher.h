/* mcr-launcher.h: opens a map's app (browser, RDP client, terminal, file
 * manager or the user's own custom app) on the map's local port
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-map-spec.h"

G_BEGIN_DECLS

#define MCR_LAUNCHER_ERROR (mcr_launcher_error_quark ())

typedef enum
{
  MCR_LAUNCHER_ERROR_NOT_INSTALLED, /* the helper program is missing; the message says how to get it */
  MCR_LAUNCHER_ERROR_NO_APP,        /* the map has no app, or an unknown custom app */
  MCR_LAUNCHER_ERROR_INVALID,       /* a custom app's arguments cannot be parsed */
  MCR_LAUNCHER_ERROR_FAILED,        /* the program could not be started */
} McrLauncherErrorCode;

/* What to open. Strings are borrowed for the duration of the call. */
typedef struct
{
  McrAppId    app_id;
  const char *custom_name;      /* MCR_APP_CUSTOM: the app's name, for messages */
  const char *custom_program;   /* MCR_APP_CUSTOM: program name or path */
  const char *custom_arguments; /* MCR_APP_CUSTOM: with %P (port), %L (address), %N (device name) */
  const char *address;          /* local address to connect to; NULL: 127.0.0.1 */
  guint16     port;             /* local port of the map */
  const char *device_name;
  const char *user;             /* SSH/SFTP login name; NULL: the local user name */
} McrLaunchRequest;

/* Either a URI for the default handler, or a program with its arguments
 * (already wrapped in "flatpak-spawn --host" inside Flatpak). */
typedef struct
{
  char  *uri;
  char **argv;
} McrLaunchPlan;

/* Tells whether @program can be run; the default looks in $PATH (or on the
 * host, inside Flatpak). */
typedef gboolean (*McrProgramLookup) (const char *program,
                                      gpointer    user_data);

#define MCR_TYPE_LAUNCHER (mcr_launcher_get_type ())
G_DECLARE_FINAL_TYPE (McrLauncher, mcr_launcher, MCR, LAUNCHER, GObject)

GQuark         mcr_launcher_error_quark  (void);
McrLauncher   *mcr_launcher_new          (void);

/* For tests and special setups: */
void           mcr_launcher_set_flatpak  (McrLauncher            *self,
                                          gboolean                flatpak);
gboolean       mcr_launcher_get_flatpak  (McrLauncher            *self);
/* XDG_CURRENT_DESKTOP-style list ("GNOME", "KDE", "XFCE:…"): picks the
 * desktop's own terminal and file manager first. */
void           mcr_launcher_set_desktop  (McrLauncher            *self,
                                          const char             *desktop);
/* "debian", "fedora", "arch" … (os-release ID and ID_LIKE): picks the
 * install command in messages. */
void           mcr_launcher_set_distro   (McrLauncher            *self,
                                          const char             *ids);
void           mcr_launcher_set_lookup   (McrLauncher            *self,
                                          McrProgramLookup        lookup,
                                          gpointer                user_data,
                                          GDestroyNotify          destroy);

/* Works out what to run, without running it. */
McrLaunchPlan *mcr_launcher_plan         (McrLauncher            *self,
                                          const McrLaunchRequest *request,
                                          GError                **error);
/* Starts @plan's program (the URI case is done by the caller, with the
 * desktop's URI launcher). The child does not inherit MCROUTER_PASSWORD. */
gboolean       mcr_launcher_spawn        (McrLauncher            *self,
                                          const McrLaunchPlan    *plan,
                                          GError                **error);

/* Replaces %P, %L, %N and %% in @arguments with shell-quoted values and splits
 * the result into words. */
char         **mcr_launcher_expand_arguments (const char *arguments,
                                              guint16     port,
                                              const char *address,
                                              const char *device_name,
                                              GError    **error);

void           mcr_launch_plan_free      (McrLaunchPlan          *plan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McrLaunchPlan, mcr_launch_plan_free)

G_END_DECLS
