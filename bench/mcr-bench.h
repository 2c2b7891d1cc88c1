/* mcr-bench.h: the benchmark driver's parts (a tool, not the app)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-server.h"

G_BEGIN_DECLS

/* ---- data: deterministic bytes and a fast hash (mcr-bench-data.c) ---- */

/* Byte o of stream @seed is byte (o % 8) of splitmix64 (seed + (o / 8 + 1) * φ),
 * little-endian: any range can be made again without the bytes before it. */
void     mcr_bench_fill            (guint8  *buf,
                                    guint64  seed,
                                    guint64  offset,
                                    gsize    len);

/* xxHash64 (XXH64, seed 0), streaming. Cheap enough (≈10 GB/s) that hashing
 * every byte on both ends never limits a transfer; SHA-256 through GChecksum
 * would (≈0.3 GB/s). Byte-exactness does not need a cryptographic hash. */
typedef struct
{
  guint64 v[4];
  guint64 total;
  guint8  tail[32];
  gsize   tail_len;
} McrBenchHash;

void     mcr_bench_hash_init       (McrBenchHash *h);
void     mcr_bench_hash_update     (McrBenchHash *h,
                                    const guint8 *data,
                                    gsize         len);
guint64  mcr_bench_hash_final      (const McrBenchHash *h);
guint64  mcr_bench_hash_buffer     (const guint8 *data,
                                    gsize         len);
/* Known answers of XXH64; FALSE if the implementation is wrong. */
gboolean mcr_bench_hash_self_test  (void);

/* The request a sink or source reads first: "MCRB", 0, length, seed
 * (little-endian). The sink then takes length bytes of stream seed; the
 * source sends them. */
#define MCR_BENCH_HEADER_SIZE 24
void     mcr_bench_header_write    (guint8       *buf,
                                    guint64       length,
                                    guint64       seed);
gboolean mcr_bench_header_read     (const guint8 *buf,
                                    guint64      *length,
                                    guint64      *seed);

/* ---- agent-side services, in their own thread (mcr-bench-services.c) ---- */

typedef enum
{
  MCR_BENCH_SERVICE_SINK,
  MCR_BENCH_SERVICE_SOURCE,
  MCR_BENCH_SERVICE_ECHO,
} McrBenchServiceKind;

/* What a sink or source says about one stream when it is done with it (or
 * it broke off). Delivered on the main context. */
typedef struct
{
  McrBenchServiceKind kind;
  guint64             seed;
  guint64             length;     /* asked for */
  guint64             count;      /* payload bytes received (sink) or sent (source) */
  guint64             hash;       /* of those bytes */
  gint64              t_first;    /* monotonic µs: first payload byte in (sink) / out (source) */
  gint64              t_last;     /* last payload byte */
  gboolean            complete;   /* count == length and nothing more came */
  char               *error;      /* why not complete */
} McrBenchReport;

typedef void (*McrBenchReportFunc) (const McrBenchReport *report,
                                    gpointer              user_data);

typedef struct _McrBenchServices McrBenchServices;

/* Listens on 127.0.0.1 (TCP sink, source, echo; UDP echo); reports go to
 * @func on @context. */
McrBenchServices *mcr_bench_services_start    (GMainContext       *context,
                                               McrBenchReportFunc  func,
                                               gpointer            user_data,
                                               GError            **error);
guint16           mcr_bench_services_get_port (McrBenchServices   *self,
                                               McrBenchServiceKind kind);
/* Several echo services, to tell maps to different devices apart by port. */
#define MCR_BENCH_N_ECHO 8
guint16           mcr_bench_services_get_echo_port (McrBenchServices *self,
                                                    guint             i);
guint16           mcr_bench_services_get_udp_port (McrBenchServices *self);
/* Connections open right now (all kinds). */
guint             mcr_bench_services_get_n_open (McrBenchServices *self);
void              mcr_bench_services_stop     (McrBenchServices   *self);

/* ---- the client side: streams over TCP or the relay (mcr-bench-client.c) ---- */

typedef enum
{
  MCR_BENCH_PATH_DIRECT, /* straight to the service */
  MCR_BENCH_PATH_RELAY,  /* a WebSocket to the relay, no local socket (the ceiling) */
  MCR_BENCH_PATH_MAP,    /* through the router's local port */
  MCR_BENCH_N_PATHS,
} McrBenchPath;

typedef enum
{
  MCR_BENCH_UPLOAD,   /* header + payload to the sink */
  MCR_BENCH_DOWNLOAD, /* header to the source, payload back */
  MCR_BENCH_ECHO,     /* payload to the echo service and back */
} McrBenchMode;

/* Where a client connects for one path and service. Stream i goes to
 * alternative i % n_alt (connections spread over several devices). */
#define MCR_BENCH_MAX_ALT 8
typedef struct
{
  McrBenchPath path;
  guint        n_alt;
  guint16      port[MCR_BENCH_MAX_ALT];        /* DIRECT: the service; MAP: the local port */
  McrServer   *server;                         /* RELAY: logged in */
  McrDevice   *device[MCR_BENCH_MAX_ALT];      /* RELAY */
  guint16      remote_port[MCR_BENCH_MAX_ALT]; /* RELAY: the service port on the agent's side */
} McrBenchTarget;

typedef struct
{
  McrBenchMode mode;
  guint        n_streams;
  guint64      bytes_each;   /* payload per stream */
  gboolean     hold_open;    /* keep every stream open until all are done */
  guint        max_opening;  /* at most this many streams waiting for their first
                              * byte back at a time (0: start all at once) */
  guint        timeout_s;
} McrBenchRunSpec;

typedef struct
{
  gboolean ok;              /* every stream done, byte-exact */
  char    *error;           /* the first failure */
  guint    n_done;
  guint    n_exact;
  guint64  bytes;           /* payload bytes that arrived, all streams */
  gint64   t_start;         /* monotonic µs: first connect started */
  gint64   t_first_byte;    /* first payload byte at the receiving end */
  gint64   t_last_byte;     /* last payload byte at the receiving end */
  gint64   t_end;           /* all streams done */
  double  *first_byte_ms;   /* per stream: connect start to first byte back (echo) */
  guint    max_open;        /* most streams open at once */
  guint64  pieces;          /* receive calls/reads that brought payload, all streams */
} McrBenchRunResult;

typedef struct _McrBenchClient McrBenchClient;

McrBenchClient *mcr_bench_client_new     (GMainContext   *context);
void            mcr_bench_client_free    (McrBenchClient *self);
/* Feeds a sink/source report (from the services) to the stream it belongs to. */
void            mcr_bench_client_report  (McrBenchClient       *self,
                                          const McrBenchReport *report);
/* Runs @spec against @target, iterating @context until done or timed out. */
void            mcr_bench_client_run     (McrBenchClient        *self,
                                          const McrBenchTarget  *target,
                                          const McrBenchRunSpec *spec,
                                          McrBenchRunResult     *result);
void            mcr_bench_run_result_clear (McrBenchRunResult   *result);

typedef struct
{
  gboolean ok;
  char    *error;
  guint    sent;
  guint    received;        /* distinct, verified */
  guint    corrupt;
  double   per_second;      /* received / time from first send to last receive */
  double   loss_percent;
} McrBenchUdpResult;

/* @count datagrams of @size bytes, at most @window unanswered at a time. */
void            mcr_bench_client_run_udp (McrBenchClient       *self,
                                          const McrBenchTarget *target,
                                          guint                 count,
                                          gsize                 size,
                                          guint                 window,
                                          McrBenchUdpResult    *result);

/* ---- the router as a child process (mcr-bench-router.c) ---- */

typedef struct
{
  guint64 cpu_ticks;        /* utime + stime, clock ticks */
  guint64 cpu_ns;           /* sum over threads of schedstat run time */
  guint64 runs;             /* sum over threads of times scheduled in */
  guint64 vm_hwm_kib;
  guint64 vm_rss_kib;
  guint64 rss_anon_kib;
  guint64 rss_file_kib;
  guint   n_fds;
  guint   n_threads;
} McrBenchProcStat;

gboolean mcr_bench_proc_stat (int               pid,
                              McrBenchProcStat *stat);
double   mcr_bench_ticks_to_seconds (guint64 ticks);

typedef struct _McrBenchRouter McrBenchRouter;

typedef struct
{
  McrProtocol protocol;
  guint16     local_port;
  guint16     remote_port;
} McrBenchMapLine;

/* Starts "ROUTER --headless -host:… -user:… -certhash:… -map:…" with the
 * password in MCROUTER_PASSWORD, and waits until @n_maps maps print their
 * listening port. @nofile: the router's RLIMIT_NOFILE soft limit, 0 to keep
 * the one the driver started with. @wrapper: a command line to run the router
 * under (valgrind …), or NULL. */
McrBenchRouter  *mcr_bench_router_start     (const char    *wrapper,
                                             const char    *router_path,
                                             const char    *address,
                                             const char    *user,
                                             const char    *password,
                                             const char    *cert_hash,
                                             const char    *node_id,
                                             GPtrArray     *map_args,
                                             guint          n_maps,
                                             guint64        nofile,
                                             const char    *log_path,
                                             GMainContext  *context,
                                             GError       **error);
int              mcr_bench_router_get_pid   (McrBenchRouter *self);
/* The local port of the map to @remote_port, 0 if none. */
guint16          mcr_bench_router_get_local_port (McrBenchRouter *self,
                                                  McrProtocol     protocol,
                                                  guint16         remote_port);
guint            mcr_bench_router_get_n_maps (McrBenchRouter *self);
gboolean         mcr_bench_router_is_running (McrBenchRouter *self);
/* SIGTERM, then SIGKILL after a few seconds; returns the exit status text. */
char            *mcr_bench_router_stop      (McrBenchRouter *self);
void             mcr_bench_router_free      (McrBenchRouter *self);

/* Exposed for the self-test: parses one line the router printed. */
gboolean         mcr_bench_parse_map_line   (const char      *line,
                                             McrBenchMapLine *map);

G_END_DECLS
