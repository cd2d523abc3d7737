/*
 * probe.h - container probes (liveness, readiness, startup) run by the shim
 * on its libuv loop, never inside the image: images need no curl or nc.
 *
 *   tcpSocket  a non-blocking connect (uv_tcp) to host:port; success when it
 *              connects within timeoutSeconds.
 *   httpGet    the same connect, then "GET path HTTP/1.1" with the pod's
 *              httpHeaders and "Connection: close" (probe_http_request); the
 *              status line is parsed by hand (only "HTTP/1.x NNN" matters);
 *              200..399 is success.  Plain HTTP only: spec/ refuses scheme
 *              HTTPS.
 *   exec       a process inside the container (the shim's exec callback, which
 *              calls container_manager_exec and hands back a pidfd); exit 0
 *              is success; on timeout it gets SIGKILL and counts as a failure
 *              at once; it is reaped whenever it dies (no attempt starts
 *              before that).
 *
 * The shim is the pod's network sandbox (sandbox.h), so host defaults to
 * 127.0.0.1 in the pod's own network namespace.
 *
 * Timing follows Kubernetes: the first attempt runs initialDelaySeconds after
 * probe_start(), then one attempt every periodSeconds (measured from the end
 * of the previous attempt, so attempts never overlap).  The reported state
 * flips to success after successThreshold consecutive successes and to
 * failure after failureThreshold consecutive failures; on_result is called
 * on every flip (and only then).  The initial state is "unknown".
 *
 * Ownership: the probe struct holds its handles (two timers, one tcp, one
 * poll) and must stay allocated until probe_stop()'s closed callback.
 */
#ifndef PODVISOR_SHIM_PROBE_H
#define PODVISOR_SHIM_PROBE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "spec/spec.h"

typedef enum { PROBE_KIND_NONE = 0, PROBE_KIND_EXEC, PROBE_KIND_HTTP, PROBE_KIND_TCP } probe_kind;
typedef enum { PROBE_UNKNOWN = 0, PROBE_SUCCESS, PROBE_FAILURE } probe_state;

typedef struct probe_spec {
  probe_kind kind;
  char *const *argv;       /* exec: command, NULL-terminated (borrowed) */
  const char *host;        /* http/tcp: NULL = 127.0.0.1 (IPv4 literal) */
  int port;                /* http/tcp */
  const char *path;        /* http: NULL = "/" */
  const spec_kvs *headers; /* http: httpHeaders (borrowed), NULL = none */
  uint32_t initial_delay_ms, period_ms, timeout_ms;
  uint32_t success_threshold, failure_threshold;
} probe_spec;

typedef struct probe probe;

#define PROBE_REQUEST_MAX 4096 /* an httpGet request, headers included */

typedef struct probe_callbacks {
  /* Starts argv inside the container; fills an fd the probe owns, which
   * turns readable when the process has exited (a pidfd). */
  int (*exec)(void *ctx, probe *p, char *const *argv, int *fd);
  /* The thresholded state changed. */
  void (*result)(void *ctx, probe *p, probe_state st);
  /* How an exec'd process behind fd is reaped (1 and *si once it exited,
   * 0 while it runs, -1 on error) and signalled; NULL: fd is a pidfd of
   * the shim's own child (pv_pidfd_try_reap, pv_pidfd_signal). */
  int (*reap)(void *ctx, int fd, siginfo_t *si);
  int (*signal)(void *ctx, int fd, int sig);
} probe_callbacks;

struct probe {
  uv_loop_t *loop;
  probe_spec spec;
  const probe_callbacks *cb;
  void *ctx;
  int tag; /* the owner's label (which probe of a container) */
  probe_state state;
  uint32_t successes, failures; /* consecutive */
  uint64_t attempts;
  /* handles */
  uv_timer_t period;  /* next attempt */
  uv_timer_t timeout; /* current attempt's deadline */
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  uv_write_t write_req;
  uv_poll_t poll; /* exec: the pidfd */
  bool tcp_open, poll_open, busy, stopping;
  int pending_close;
  void (*on_closed)(void *ctx, probe *p);
  pid_t exec_pid;
  int exec_pidfd;
  size_t resp_len;
  char req[PROBE_REQUEST_MAX];
  char resp[256];
};

/* Starts probing.  The probe is idle (no attempt) until initial_delay_ms.
 * Returns -1 (nothing started) while p is still closing (probe_closing). */
int probe_start(probe *p, uv_loop_t *loop, const probe_spec *spec, const probe_callbacks *cb, void *ctx,
                int tag);
/* Cancels any attempt (an exec probe process gets SIGKILL) and closes every
 * handle; on_closed(ctx, p) fires afterwards (p may then be freed). */
void probe_stop(probe *p, void (*on_closed)(void *ctx, probe *p));

/* True from probe_stop() until its closed callback ran: the struct's
 * handles are still on the loop and probe_start() must not reuse it. */
bool probe_closing(const probe *p);

/* Writes the httpGet request of s into buf as Kubernetes sends it: Host
 * (host:port), User-Agent and Accept ("*" "/" "*") unless httpHeaders sets
 * them (names compare case-insensitively), then the other httpHeaders in
 * order, then "Connection: close".  Returns the length, or -1 when it does
 * not fit or a header holds a CR or LF.  Pure; exposed for tests. */
int probe_http_request(const probe_spec *s, char *buf, size_t len);

/* Parses an HTTP status line prefix ("HTTP/1.1 204 ..."): the status code,
 * 0 while incomplete, -1 when malformed.  Pure; exposed for unit tests. */
int probe_http_status(const char *buf, size_t len);

#endif
