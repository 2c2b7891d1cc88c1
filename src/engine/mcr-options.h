/* mcr-options.h: the command line, Windows router style (-name:value) and ours
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>

#include "mcr-map-spec.h"

G_BEGIN_DECLS

#define MCR_OPTIONS_ERROR (mcr_options_error_quark ())

typedef enum
{
  MCR_OPTIONS_ERROR_UNKNOWN,
  MCR_OPTIONS_ERROR_INVALID,
} McrOptionsErrorCode;

typedef struct
{
  char      *host;
  char      *user;
  char      *password;
  char      *token;
  char      *password_file;  /* --password-file: a private file holding it */
  char     **certhashes;     /* NULL-terminated */
  char      *proxy;
  gboolean   ignore_cert;
  gboolean   all_interfaces;
  gboolean   tray;
  gboolean   debug;
  gboolean   headless;
  gboolean   list_devices;
  gboolean   password_stdin;
  gboolean   show_help;
  gboolean   show_version;
  GPtrArray *maps;           /* McrMapSpec, from -map: and -relaymap: */
  GPtrArray *files;          /* .mcrouter paths (char *) */
  GPtrArray *urls;           /* mcrouter:// URLs (char *) */
} McrOptions;

GQuark      mcr_options_error_quark (void);
/* Parses @argv (argv[0] is skipped). The password given with -pass: is
 * overwritten in @argv so that ps and /proc/PID/cmdline do not show it. */
McrOptions *mcr_options_parse       (int          argc,
                                     char       **argv,
                                     GError     **error);
void        mcr_options_free        (McrOptions  *options);
const char *mcr_options_help_text   (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McrOptions, mcr_options_free)

G_END_DECLS
