/* relay-test-util.h: local programs for relay tests
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-map-spec.h"
#include "mcr-port-map.h"
#include "mcr-testbed.h"
#include "mcr-websocket.h"

G_BEGIN_DECLS

/* One end of a TCP connection driven from the main loop: it sends @to_send
 * bytes of a position-dependent pattern (as fast as the socket takes them)
 * and reads everything that comes back, hashing both. */
typedef struct
{
  GSocketConnection *conn;
  guint64            to_send;
  guint64            sent;
  guint32            seed;
  guint64            received;
  guint64            expect;         /* stop reading after this many (0: until EOF) */
  gboolean           reading;        /* FALSE: a local program that stopped reading */
  gboolean           shutdown_after; /* shut down the sending side once all is sent */
  gboolean           eof;
  GError            *error;
  GChecksum         *sent_hash;
  GChecksum         *received_hash;
  GSource           *in_source;
  GSource           *out_source;
  guint8             buf[65536];
} TestPeer;

TestPeer *test_peer_new           (GSocketConnection *conn,
                                   guint64            to_send,
                                   guint32            seed);
/* Connects to 127.0.0.1:@port. */
TestPeer *test_peer_connect       (guint16            port,
                                   guint64            to_send,
                                   guint32            seed);
void      test_peer_set_reading   (TestPeer          *peer,
                                   gboolean           reading);
/* Sends @more bytes of the pattern after what was sent already. */
void      test_peer_send_more     (TestPeer          *peer,
                                   guint64            more);
/* Wait predicates for mcr_test_wait_until() on a TestPeer. _done: all
 * sent, and @expect bytes read (else EOF read), or an error; _echoed: all
 * sent and as much came back, or an error; _echoed_or_closed: the same, or
 * the other side closed. */
gboolean  test_peer_done          (gpointer           peer);
gboolean  test_peer_echoed        (gpointer           peer);
gboolean  test_peer_echoed_or_closed (gpointer        peer);
/* @bytes of pattern @seed through 127.0.0.1:@port come back exactly (60 s
 * at most). */
void      test_peer_assert_echo   (guint16            port,
                                   guint64            bytes,
                                   guint32            seed);
/* The hashes of what went out and what came back are equal. */
gboolean  test_peer_echo_matches  (TestPeer          *peer);
/* What came back equals the pattern @seed for @len bytes. */
gboolean  test_peer_received_is   (TestPeer          *peer,
                                   guint32            seed,
                                   guint64            len);
void      test_peer_free          (TestPeer          *peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestPeer, test_peer_free)

/* A wait predicate: the McrPortMap @map has no connection open. */
gboolean  test_map_no_connections (gpointer           map);
/* Waits until @map is in @state; FALSE after @timeout_ms. */
gboolean  test_map_wait_state     (McrPortMap        *map,
                                   McrPortMapState    state,
                                   guint              timeout_ms);
/* Echoes 256 KiB of pattern @seed through 127.0.0.1:@port (@map's), as a
 * user would: a program that connects while the map is still catching up
 * may be turned away, so it tries again a second later, @max_attempts
 * times at most. Returns the number of attempts; fails when none worked. */
guint     test_map_echo_attempts  (McrPortMap        *map,
                                   guint16            port,
                                   guint              max_attempts,
                                   guint32            seed);

/* A service on @address that sends @bytes of pattern @seed to every
 * connection and then closes it. Returns the port. */
guint16   test_source_server_start (const char       *address,
                                    guint64           bytes,
                                    guint32           seed);

/* A far-side service for close tests, on its own thread (so that its clock
 * does not wait for the main loop): it takes one connection, notes when the
 * first byte and when EOF came, and 300 ms after the first byte sends @reply
 * (if not NULL); it closes after EOF. (The relay has no half-close: the
 * far side sees EOF only when the tunnel ends, so it cannot answer after.) Times are g_get_monotonic_time(), 0 until seen. */
typedef struct
{
  guint16     port;
  const char *reply;
  gint64      first_byte_us;
  gint64      eof_us;
  gint        replied;
  int         listen_fd;
  GThread    *thread;
} TestEofServer;

TestEofServer *test_eof_server_start (const char    *reply);
/* Wait predicates on a TestEofServer. */
gboolean       test_eof_server_got_byte (gpointer   server);
gboolean       test_eof_server_got_eof  (gpointer   server);
void           test_eof_server_free  (TestEofServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestEofServer, test_eof_server_free)

/* A plain blocking client socket connected to 127.0.0.1:@port. */
int            test_client_connect   (guint16        port);

/* A relay WebSocket straight to the testbed (x-meshauth login, certificate
 * pinned by its hash), for tunnels tested without a McrServer. */
McrWebSocket *test_relay_websocket (const McrTestbed *tb,
                                    McrProtocol       protocol,
                                    guint16           remote_port,
                                    const char       *remote_ip);

/* Under AddressSanitizer freed memory sits in its quarantine, so the RSS
 * says nothing about our memory there. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_RSS_MEANINGFUL 0
#else
#define TEST_RSS_MEANINGFUL 1
#endif

G_END_DECLS
