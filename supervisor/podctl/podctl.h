/*
 * podctl.h - the one boundary for launching and commanding pod shims, on
 * the caller's libuv loop (`podvisor up`, the daemon, the tests).
 *
 * What it does:
 *  - Launch (podctl_launch): the pod's snapshot is written under its run
 *    directory's lock in libuv's thread pool (podsnap_prepare: validated
 *    pod, instance uid, pod.json), then podvisor-shim (the lean binary
 *    beside the running executable, else `podvisor shim`) is forked and
 *    exec'd in its own session, with stdin and stdout on /dev/null, stderr
 *    appended to the run directory's shim.log (0600), the lock handed over
 *    (--lock-fd) and a sync pipe (--sync-fd): the shim writes one line
 *    there once its socket listens, or its set-up error before it exits, as
 *    conmon does.  `launched` reports either; nothing polls.  A lock held by
 *    a live keeper is waited for 2 s (a keeper killed just now), then the
 *    launch fails with EWOULDBLOCK ("pod NS/NAME is already kept by shim
 *    PID").
 *  - Adopt (podctl_adopt): a running keeper found through its run
 *    directory: shim.lock held (tested with a shared, non-blocking flock
 *    that is released at once, which never disturbs a live keeper) and the
 *    pid of shim.pid alive.  podctl_probe() tells a live keeper from a
 *    stale directory (lock free, or its pid gone) without adopting it.
 *  - Exit watching: one pidfd per shim polled on the loop; the launcher's own
 *    children are reaped with waitid(P_PIDFD) and their exit status kept.
 *  - Watch (podctl_watch): the keeper's push channel; `status` gets every
 *    status document it renders, the first at once.
 *  - Stop (podctl_stop): "stop" on the socket (graceful; the pod's grace
 *    period or an override), then the exit is awaited; SIGKILL only as the
 *    last resort: when the socket cannot be reached, or when the keeper is
 *    still alive PODCTL_KILL_MARGIN_MS after its grace period.  A keeper
 *    still setting up gets SIGTERM (it handles it once its loop runs).
 *  - Any request (podctl_conn_*): the control protocol's client, with
 *    descriptors passed both ways; and blocking wrappers for the CLI
 *    (podctl_call, podctl_launch_sync), which run a private loop.
 *
 * Ownership and callbacks: a podctl_shim is the caller's until it calls
 * podctl_shim_close(), and is freed after the `closed` callback; a shim
 * process is never killed by closing its handle (only by podctl_stop).
 * Callbacks run on the loop; any may be NULL.  `launched` runs exactly once
 * (before `exited`) for a launch; `exited` once when the process is gone.
 * A launched pod must stay valid until `launched` ran.  Library code: never
 * prints, never exits, the loop never blocks (the fork and exec excepted).
 */
#ifndef PODVISOR_PODCTL_PODCTL_H
#define PODVISOR_PODCTL_PODCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"
#include "supervisor/proto/ctlproto.h"
#include "supervisor/proto/podpaths.h"

#define PODCTL_LOCK_WAIT_MS 2000    /* a keeper killed just now still holds its lock */
#define PODCTL_KILL_MARGIN_MS 15000 /* after the grace period: pending cgroups, the pause, slack */

typedef struct podctl_shim podctl_shim;

typedef struct podctl_callbacks {
  /* The launch ended: the keeper runs (err NULL; podctl_shim_pid() is its
   * pid), or it could not start (err: the set-up error the shim reported,
   * or why it never ran). */
  void (*launched)(podctl_shim *s, const pv_err *err, void *ctx);
  /* A status document from the watch stream (borrowed for the call). */
  void (*status)(podctl_shim *s, const json_t *status, void *ctx);
  /* The watch stream ended: after the final status (err NULL), or broken. */
  void (*watch_ended)(podctl_shim *s, const pv_err *err, void *ctx);
  /* The keeper's process is gone.  status: its exit code (128+signal when
   * killed) for the launcher's own child, -1 when unknown (adopted). */
  void (*exited)(podctl_shim *s, int status, void *ctx);
  /* After podctl_shim_close(): s is freed when this returns. */
  void (*closed)(podctl_shim *s, void *ctx);
} podctl_callbacks;

typedef struct podctl_launch_opts {
  const char *root, *run_root;
  const char *shim_path;    /* NULL: podctl_find_shim(); a path ending in podvisor-shim runs the
                             * lean keeper, any other `podvisor shim` */
  bool keep_instance;       /* keep the run directory's uid (a keeper restarted) */
  const char *log_max_size; /* passed on as given; NULL = the shim's default */
  unsigned log_max_files;   /* 0 = the shim's default */
  const char *cgroup_parent; /* --cgroup-parent for the keeper; NULL = its default ("podvisor") */
  bool want_log_fd;         /* podctl_shim_take_log_fd(): shim.log from its end */
} podctl_launch_opts;

/* Starts a keeper for pod; pod NULL: for the snapshot already in
 * <run-root>/pods/<key> (instance and updates kept; key required).  0 with
 * *out (the launch goes on; see `launched`), or -1 with err. */
int podctl_launch(uv_loop_t *loop, const spec_pod *pod, const char *key, const podctl_launch_opts *o,
                  const podctl_callbacks *cb, void *ctx, podctl_shim **out, pv_err *err);

typedef enum podctl_liveness {
  PODCTL_ABSENT,   /* no run directory, or no lock file in it */
  PODCTL_STALE,    /* the lock is free, or shim.pid names no live process */
  PODCTL_STARTING, /* the lock is held but shim.pid is not written yet */
  PODCTL_LIVE,     /* a keeper holds the lock and its pid is alive */
} podctl_liveness;

/* What the run directory of pp holds; *pid the keeper's when live. */
podctl_liveness podctl_probe(const podpaths *pp, pid_t *pid);

/* Takes over watching the live keeper of <run-root>/pods/<key>.  -1 with
 * err: ENOENT (none), ESTALE (a stale directory), EAGAIN (still starting). */
int podctl_adopt(uv_loop_t *loop, const char *root, const char *run_root, const char *key,
                 const podctl_callbacks *cb, void *ctx, podctl_shim **out, pv_err *err);

int podctl_watch(podctl_shim *s, pv_err *err);

/* grace_seconds -1: the pod's terminationGracePeriodSeconds. */
int podctl_stop(podctl_shim *s, int64_t grace_seconds, pv_err *err);

/* Releases the handle (the keeper runs on); `closed` follows. */
void podctl_shim_close(podctl_shim *s);

pid_t podctl_shim_pid(const podctl_shim *s);
/* The pod's paths; the instance's once known (after launched / adopt). */
const podpaths *podctl_shim_paths(const podctl_shim *s);
/* With want_log_fd: a read fd on shim.log positioned where the keeper
 * started writing (the caller owns it), else -1. */
int podctl_shim_take_log_fd(podctl_shim *s);

/* After the keeper of pp's instance died without stopping its pod (kill -9,
 * a crash; exit status `status`, -1 unknown), at once: its status file says every
 * container that was live terminated (reason "ShimDied", exit 137; phase
 * Failed when final), its socket and pid file go, what is left in its
 * cgroups is killed and every cgroup of the instance removed, and its
 * containers' upper dirs.  final (nothing restarts the pod): the pod's data
 * and run directory go too; else the snapshot and the volumes stay for the
 * next keeper (podctl_launch with keep_instance).  Nothing is done when a
 * keeper holds the pod again (its run directory's lock, waited for 1 s).
 * Blocking (about 2 s at most).  0, or -1 with
 * err (the first failure; every step is tried). */
int podctl_clean_dead(const podpaths *pp, int status, bool final, pv_err *err);

/* podvisor-shim beside the running executable, else the executable itself
 * (which then runs `podvisor shim`): the path, *lean says which. */
void podctl_find_shim(char *path, size_t len, bool *lean);

/* --- the protocol's client ------------------------------------------------------------ */

typedef struct podctl_conn podctl_conn;

/* Each reply or event of a request: m and, when a descriptor came with it,
 * fd (the callback owns it; -1 none).  A request gets one call for its
 * reply; watch and exec then one per event, until the shim closes the
 * connection.  A last call with m NULL and err tells that the connection
 * ended (err->code 0 after a stream the shim closed normally) or failed
 * before the reply came. */
typedef void (*podctl_msg_cb)(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx);

/* Connects (non-blocking) to a shim's socket. */
int podctl_conn_open(uv_loop_t *loop, const char *socket_path, podctl_conn **out, pv_err *err);
/* Queues a request (with up to CTLPROTO_MAX_FDS descriptors to pass; they
 * are dup'ed).  Requests are answered in order; none may follow a watch or
 * an exec on the same connection. */
int podctl_conn_request(podctl_conn *c, const ctlproto_request *req, const int *fds, size_t nfds,
                        podctl_msg_cb cb, void *ctx, pv_err *err);
/* Closes the connection; pending requests' callbacks get ECANCELED first.
 * The struct is freed on the loop afterwards. */
void podctl_conn_close(podctl_conn *c);

/* Blocking: one request, its reply in *reply (the caller frees it with
 * ctlproto_msg_free) and a descriptor that came with it in *reply_fd (or
 * -1; NULL: closed).  Bounded by timeout_ms. */
int podctl_call(const char *socket_path, const ctlproto_request *req, const int *fds, size_t nfds,
                int timeout_ms, ctlproto_msg *reply, int *reply_fd, pv_err *err);

/* Blocking: launches a keeper and waits until it runs or failed.  0 with
 * *pid and *pidfd (the caller reaps the child through it), or -1 with err. */
int podctl_launch_sync(const spec_pod *pod, const char *key, const podctl_launch_opts *o, pid_t *pid,
                       int *pidfd, pv_err *err);

#endif
