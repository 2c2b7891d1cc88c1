/* mcr-test-router.h: the built meshcentral-router as a child process, for
 * the tests of its command line
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A GSubprocessLauncher child setup: the child gets SIGTERM when this
 * program ends (PR_SET_PDEATHSIG), also through a failed assertion, so that
 * no router outlives its test. */
void                 mcr_test_router_child_setup  (gpointer             data);

/* A launcher for the built program: @flags, no display (DISPLAY and
 * WAYLAND_DISPLAY unset), MCROUTER_PASSWORD set to @password or unset, and
 * mcr_test_router_child_setup(). */
GSubprocessLauncher *mcr_test_router_launcher_new (GSubprocessFlags     flags,
                                                   const char          *password);
/* <builddir>/src/meshcentral-router @args… (NULL-terminated, or NULL for
 * none), started with @launcher; asserts that it started. */
GSubprocess         *mcr_test_router_spawn        (GSubprocessLauncher *launcher,
                                                   const char *const   *args);

/* A running program whose standard output and error are read line by line
 * on the default main context. */
typedef struct
{
  GSubprocess      *process;
  GDataInputStream *out;
  GDataInputStream *err;
  GPtrArray        *out_lines;  /* the lines of stdout, without their newlines */
  GString          *out_text;   /* the same lines, each ending in "\n" */
  GString          *err_text;   /* the lines of stderr, each ending in "\n" */
  gboolean          log_lines;  /* each line also goes to g_test_message() */
  gboolean          out_eof;
  gboolean          err_eof;
  gboolean          exited;
} McrTestRouter;

/* Spawns @args as mcr_test_router_spawn() does; @launcher must pipe
 * standard output and error. @log_lines: see the struct (FALSE where the
 * output may hold secrets). */
McrTestRouter *mcr_test_router_start      (GSubprocessLauncher *launcher,
                                           const char *const   *args,
                                           gboolean             log_lines);
/* The usual case: stdout and stderr piped and logged, the password (may
 * be NULL) in MCROUTER_PASSWORD, never on the command line. */
McrTestRouter *mcr_test_router_start_piped (const char *const  *args,
                                            const char         *password);
/* Waits until stdout has @lines lines (60 s at most), and asserts that the
 * program still runs. */
void           mcr_test_router_wait_lines (McrTestRouter       *r,
                                           guint                lines);
/* Waits until the program has exited by itself (g_error() after
 * @timeout_ms) and all its output is read; returns its exit status. */
int            mcr_test_router_wait       (McrTestRouter       *r,
                                           guint                timeout_ms);
/* SIGTERM, then mcr_test_router_wait(). */
int            mcr_test_router_stop       (McrTestRouter       *r,
                                           guint                timeout_ms);
/* The port after @prefix on the first stdout line that starts with @prefix
 * and ends with @suffix ("TCP 127.0.0.1:", " -> host:22"); g_error() when
 * there is none. */
guint16        mcr_test_router_port_of    (McrTestRouter       *r,
                                           const char          *prefix,
                                           const char          *suffix);
/* Kills the program if it still runs, and frees everything. */
void           mcr_test_router_free       (McrTestRouter       *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McrTestRouter, mcr_test_router_free)

G_END_DECLS
