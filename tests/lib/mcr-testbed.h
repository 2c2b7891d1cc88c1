/* mcr-testbed.h: the real MeshCentral server and agent, for integration tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  char   *dir;
  char   *host;       /* 127.0.0.1 */
  guint16 port;
  char   *address;    /* "127.0.0.1:PORT", as a user types it */
  char   *url;        /* wss://127.0.0.1:PORT */
  char   *user;       /* the admin account */
  char   *password;
  char   *mesh_id;    /* the device group "lab" */
  char   *node_id;    /* the agent's device */
  char   *node_name;
  char   *cert_hash;  /* SHA-384 of the server certificate, uppercase hex */
  char   *domain;     /* "" (the default domain) or the domain's id */
} McrTestbed;

/* The testbed of this test run: the shared one named by $MCR_TESTBED_ENV (see
 * build-aux/run-tests.sh), or a private one started now and stopped when the
 * program exits, also on SIGINT/SIGTERM/abort. */
const McrTestbed *mcr_testbed_get        (void);

/* The same server's domain "other": its own admin, group and agent
 * (address "127.0.0.1:PORT/other", ids node/other/…). */
const McrTestbed *mcr_testbed_get_other_domain (void);
/* The same server through nginx on loopback passing TLS through. */
const McrTestbed *mcr_testbed_get_passthrough  (void);
/* A second server behind nginx that ends TLS (tlsOffload, certUrl), with
 * its own admin, group and agent; started on first use (~20 s), stopped
 * with the testbed. */
const McrTestbed *mcr_testbed_get_offload      (void);

/* Runs build-aux/testbed.sh COMMAND DIR [ARGS…]; TRUE on success. Output goes to
 * @output if not NULL. */
gboolean          mcr_testbed_run        (const char  *command,
                                          const char **args,
                                          char       **output);
/* The same, while the default main context keeps running (the router under
 * test keeps moving bytes and noticing things while the script works); the
 * script is killed, and FALSE returned, after 180 s. */
gboolean          mcr_testbed_run_iterating (const char *command);
/* meshctrl.js as admin: mcr_testbed_meshctrl (&out, "ListDevices", "--json", NULL) */
gboolean          mcr_testbed_meshctrl   (char       **output,
                                          ...) G_GNUC_NULL_TERMINATED;

/* Iterates the default main context until *@flag is TRUE or @timeout_ms
 * passes; returns *@flag. */
gboolean          mcr_test_wait_flag     (const gboolean *flag,
                                          guint           timeout_ms);
/* The same with a predicate. */
gboolean          mcr_test_wait_until    (gboolean      (*predicate) (gpointer data),
                                          gpointer        data,
                                          guint           timeout_ms);
/* A timeout on the default main context that sets @expired: what
 * mcr_test_wait_until() and mcr_test_assert_wait() are made of. */
typedef struct
{
  guint    id;
  gboolean expired;
} McrTestTimer;

void              mcr_test_timer_start   (McrTestTimer   *timer,
                                          guint           timeout_ms);
void              mcr_test_timer_stop    (McrTestTimer   *timer);

/* Iterates the default main context until the expression @cond holds; if
 * @timeout_ms pass first the test fails with a message that names @cond
 * ("waited 10000 ms in vain for: c->n_messages >= 2"). For what no
 * predicate is written for: a count, a pointer set by a callback, a
 * GAsyncResult that arrives. */
#define mcr_test_assert_wait(cond, timeout_ms)                                  \
  G_STMT_START                                                                  \
  {                                                                             \
    McrTestTimer mcr_test_timer_;                                               \
                                                                                \
    mcr_test_timer_start (&mcr_test_timer_, (timeout_ms));                      \
    while (!(cond) && !mcr_test_timer_.expired)                                 \
      g_main_context_iteration (NULL, TRUE);                                    \
    mcr_test_timer_stop (&mcr_test_timer_);                                     \
    if (!(cond))                                                                \
      mcr_test_wait_failed (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, #cond, \
                            (timeout_ms));                                      \
  }                                                                             \
  G_STMT_END

/* Fails the test: "waited @timeout_ms ms in vain for: @what". */
void              mcr_test_wait_failed   (const char     *domain,
                                          const char     *file,
                                          int             line,
                                          const char     *func,
                                          const char     *what,
                                          guint           timeout_ms);

/* Iterates the default main context, without waiting for events, for
 * @ms (sleeping 0.5 ms between iterations). */
void              mcr_test_iterate_for   (guint           ms);

/* A TCP service on @address (127.0.0.1 if NULL) that hands each connection
 * to @on_incoming (a GSocketService::incoming handler, with @data); it lives
 * as long as the test program. Returns its port. */
guint16           mcr_test_service_start         (const char *address,
                                                  GCallback   on_incoming,
                                                  gpointer    data);
/* An echo service on 127.0.0.1 (or @address) that the agent can reach: TCP
 * echoes every byte; returns the port. Runs on the default main context. */
guint16           mcr_test_echo_server_start     (const char *address);
guint16           mcr_test_udp_echo_server_start (const char *address);

/* A discard service on 127.0.0.1 (or @address): reads and drops everything,
 * adding the byte count to *@bytes_received (may be NULL); returns the port. */
guint16           mcr_test_sink_server_start     (const char *address,
                                                  guint64    *bytes_received);

/* A TCP port on @address (127.0.0.1 if NULL) that nothing listens on just
 * now: connections to it are refused, and a program can listen on it. */
guint16           mcr_test_unused_port           (const char *address);

/* Writes @text to @dir/@name; returns the path. */
char             *mcr_test_write_file    (const char *dir,
                                          const char *name,
                                          const char *text);

/* Open file descriptors of this process (entries of /proc/self/fd). */
guint             mcr_test_count_fds     (void);
/* Iterates the default main context until at most @limit are open; FALSE
 * after @timeout_ms. */
gboolean          mcr_test_wait_fds_at_most (guint    limit,
                                             guint    timeout_ms);
/* Bytes the heap holds for live allocations: under AddressSanitizer its own
 * count (its quarantine keeps freed memory resident, so the RSS says
 * nothing), otherwise glibc's mallinfo2(). */
gsize             mcr_test_heap_bytes    (void);
/* The resident set size of this process, in KiB. */
gsize             mcr_test_rss_kib       (void);

/* RFC 6238 TOTP code (SHA-1, 6 digits, 30 s) for a base32 secret at @time. */
char             *mcr_test_totp          (const char  *base32_secret,
                                          gint64       unix_time);

G_END_DECLS
