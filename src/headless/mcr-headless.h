/* mcr-headless.h: the router with no window and no display
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-options.h"

G_BEGIN_DECLS

/* Runs until done (--list-devices) or until SIGINT/SIGTERM; returns the exit
 * status. */
int mcr_headless_run (McrOptions *options);

G_END_DECLS
