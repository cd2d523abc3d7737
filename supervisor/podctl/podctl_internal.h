/*
 * podctl_internal.h - the podctl_shim struct, shared by podctl_launch.c
 * (preparing and starting a keeper, its sync pipe) and podctl_shim.c
 * (exit watching, adopt, watch, stop, close).  Not an API.
 *
 * Life of a podctl_shim: PREPARING (the snapshot is written in the thread
 * pool; retried every 50 ms while a dying keeper holds the lock) ->
 * STARTING (forked; the sync pipe has not spoken) -> RUNNING -> GONE (the
 * process exited).  Handles: the timer always, the pidfd poll and the sync
 * poll while open; the struct is freed once the caller closed it, no work
 * is in the thread pool and every handle's close callback ran.
 */
#ifndef PODVISOR_PODCTL_INTERNAL_H
#define PODVISOR_PODCTL_INTERNAL_H

#include "supervisor/podctl/podctl.h"

typedef enum { PODCTL_S_PREPARING, PODCTL_S_STARTING, PODCTL_S_RUNNING, PODCTL_S_GONE } podctl_state;

/* What only a launch needs, for as long as it runs: the sync pipe's line,
 * the error the keeper said there and the worker's.  Apart from the handle
 * so that a keeper that runs (the handle's whole life in the daemon, one
 * per pod) does not carry these 4 kB. */
typedef struct podctl_launching {
  char sync_buf[2048];
  size_t sync_len;
  pv_err sync_err; /* the error the shim reported */
  pv_err work_err;
} podctl_launching;

struct podctl_shim {
  uv_loop_t *loop;
  podctl_callbacks cb;
  void *ctx;
  podpaths paths;
  podctl_state state;
  bool own_child;         /* ours to reap */
  bool launched_reported; /* `launched` ran */
  bool closing;           /* podctl_shim_close() was called */
  bool stop_wanted;       /* podctl_stop() before the keeper listened */
  int64_t stop_grace_ms;
  int64_t grace_ms; /* the pod's terminationGracePeriodSeconds */
  pid_t pid;
  int pidfd;
  uv_poll_t pid_poll;
  bool pid_poll_open;
  int sync_fd;
  uv_poll_t sync_poll;
  bool sync_poll_open;
  bool sync_said;       /* a whole line came (ok or an error) */
  bool sync_eof;        /* the pipe's end: the keeper is gone */
  podctl_launching *lz; /* NULL once the launch is reported (and for an adopted keeper) */
  int log_rfd;
  uv_timer_t timer; /* lock retries while preparing; the stop's SIGKILL deadline */
  int handles_open;
  podctl_conn *watch, *cmd;
  /* Launch parameters (copied) and the worker's results. */
  const spec_pod *pod;
  char key[PODPATHS_KEY_LEN + 1];
  char *root, *run_root, *shim_path, *log_max_size, *cgroup_parent;
  bool lean, keep, want_log;
  unsigned log_max_files;
  unsigned lock_waited_ms;
  uv_work_t work;
  bool work_busy;
  int work_rc;
  int lock_fd, log_wfd;
};

/* podctl_shim.c */
podctl_shim *podctl_shim_new(uv_loop_t *loop, const podctl_callbacks *cb, void *ctx);
/* Watches s->pidfd for the process's end. */
int podctl_shim_watch_exit(podctl_shim *s, pv_err *err);
/* Reports the launch's outcome once (err NULL: running). */
void podctl_shim_report_launch(podctl_shim *s, const pv_err *err);
/* The process is gone: launch outcome if still due, then `exited`. */
void podctl_shim_gone(podctl_shim *s, int status);
/* Frees s when nothing holds it any more. */
void podctl_shim_maybe_free(podctl_shim *s);

/* podctl_launch.c: reads what the sync pipe holds now (non-blocking);
 * true once the shim has said its line. */
bool podctl_sync_drain(podctl_shim *s);

#endif
