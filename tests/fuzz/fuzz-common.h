/* fuzz-common.h: what every fuzz target shares
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize   (int           *argc,
                            char        ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* A critical or warning from our code or GLib is a bug: crash on it so that
 * libFuzzer keeps the input. */
static inline void
fuzz_init (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  g_setenv ("G_MESSAGES_DEBUG", "", TRUE);
}

/* An oracle failed: abort so that libFuzzer reports the input. */
#define fuzz_check(cond)                                                      \
  G_STMT_START                                                                \
  {                                                                           \
    if (!(cond))                                                              \
      {                                                                       \
        g_printerr ("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
        abort ();                                                             \
      }                                                                       \
  }                                                                           \
  G_STMT_END
