/*
 * httpd_fixture.h - what the HTTP server's suites share: a server on a temp
 * unix socket (trusted) and on 127.0.0.1:0 (untrusted, token "s3cret") in
 * the test's own loop, a test handler, and a blocking client for a thread.
 *
 * The loop runs on the test's thread; the client body runs on a second
 * thread and talks to the server only through sockets (and curl).  When the
 * client body returns (or calls hfix_close_server()), the server is closed;
 * hfix_run() returns once the loop has ended, and checks that the closed
 * callback ran exactly once and the loop closes clean.
 *
 * Routes of the test handler:
 *   /echo...              200, JSON: method, head, path, segs, query, body,
 *                         auth, minor, x_test (the X-Test header)
 *   /async?ms=N           200 "late\n" after N ms (a timer); counts gone
 *   /stream?n=N&ms=M      a stream of "tick I\n" every M ms, N chunks then
 *                         the end (0: until the client leaves); counts gone;
 *                         &size=S: chunks of S zero bytes instead
 *   POST /mutate          403 Status unless authenticated, else 200
 *   /close                httpd_close() from the handler, then 200
 *   /status?code=N        a Status with code N
 *   anything else         404 Status
 */
#ifndef PODVISOR_TESTS_HTTPD_FIXTURE_H
#define PODVISOR_TESTS_HTTPD_FIXTURE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "supervisor/daemon/httpd.h"

typedef struct hfix hfix;
typedef void (*hfix_client)(hfix *f);

struct hfix {
  uv_loop_t loop;
  httpd *srv;
  uv_async_t wake;
  uv_timer_t guard;
  pthread_t thr;
  hfix_client client;
  char *dir;
  char sock[PATH_MAX];
  int port;
  /* Counters, written by the loop thread, read by the client (atomics). */
  int closed_calls;  /* the server's closed callback */
  int requests;      /* handler calls */
  int gone;          /* on_gone calls */
  int late_epipe;    /* late replies/writes that found the client gone */
  int streams_ended; /* streams whose handler called httpd_stream_end */
  int close_wanted, client_done, closing;
  void *user;
};

/* Starts the server (lim may be NULL) and the client thread. */
void hfix_start(hfix *f, const httpd_limits *lim, hfix_client client);
/* Runs the loop to its end; asserts one closed callback and a clean loop. */
void hfix_run(hfix *f);
/* From the client thread: calls httpd_close() on the loop now. */
void hfix_close_server(hfix *f);
int hfix_get(const int *counter);
/* From the client: waits until *counter >= want (or timeout_ms); returns it. */
int hfix_wait(const int *counter, int want, int timeout_ms);

/* ---- a blocking client ---- */

typedef struct hc_resp {
  int status;
  int nhdr;
  char *name[64], *value[64];
  char *body;
  size_t body_len;
  int chunks; /* chunks of a chunked body */
} hc_resp;

typedef struct hc hc;

hc *hc_unix(const char *path);
hc *hc_tcp(int port);
/* A client on a connected socket of the caller's. */
hc *hc_adopt(int fd);
int hc_fd(const hc *c);
void hc_close(hc *c);
/* Sends everything; 0 or -1. */
int hc_send(hc *c, const char *s);
int hc_sendn(hc *c, const void *data, size_t len);
/* Reads one response (head: of a HEAD request, no body).  0, or -1 on
 * timeout, EOF before a complete response, or an unparsable response. */
int hc_recv(hc *c, hc_resp *r, bool head, int timeout_ms);
/* True when the server closes the connection within timeout_ms (pending
 * input is drained first). */
bool hc_eof(hc *c, int timeout_ms);
/* Reads raw bytes until needle has been seen; 0 or -1 on timeout/EOF. */
int hc_raw_until(hc *c, const char *needle, int timeout_ms);
const char *hc_header(const hc_resp *r, const char *name);
void hc_resp_free(hc_resp *r);

/* A Status body's "reason" and "code" (NULL/0 when it is not a Status). */
const char *hc_status_reason(const hc_resp *r, int *code);

/* Runs argv, its stdout collected into *out (malloc'd, NUL-terminated);
 * returns its exit status (-1 when it could not run or was killed). */
int hc_run(char *const argv[], char **out, int timeout_ms);

#endif
