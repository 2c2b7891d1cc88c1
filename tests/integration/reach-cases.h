/* reach-cases.h: every way into a testbed, against any one of them (the
 * default domain, a second domain, the server behind nginx)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-testbed.h"

G_BEGIN_DECLS

/* Each takes the McrTestbed to reach, as g_test_add_data_func() data. */
void reach_test_login     (gconstpointer tb);  /* log in, the device is listed online */
void reach_test_port_map  (gconstpointer tb);  /* a port map echoes byte-exact */
void reach_test_relay_map (gconstpointer tb);  /* a relay map to 127.0.0.2 echoes */
void reach_test_link      (gconstpointer tb);  /* a headless mcrouter:// link's map echoes */
void reach_test_file      (gconstpointer tb);  /* a headless .mcrouter file's map echoes */

/* All five under @prefix ("/domains/other/login", …). */
void reach_add_tests      (const char       *prefix,
                           const McrTestbed *tb);

G_END_DECLS
