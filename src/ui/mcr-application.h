/* mcr-application.h
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gtk/gtk.h>

#include "mcr-options.h"

G_BEGIN_DECLS

#define MCR_TYPE_APPLICATION (mcr_application_get_type ())
G_DECLARE_FINAL_TYPE (McrApplication, mcr_application, MCR, APPLICATION, GtkApplication)

/* Takes @options (may be NULL). */
McrApplication *mcr_application_new (McrOptions *options);

/* Takes @options. */
int             mcr_application_run (McrOptions *options,
                                     int         argc,
                                     char      **argv);

G_END_DECLS
