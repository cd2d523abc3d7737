/*
 * shim_internal.h - the shim's private structures, shared by shim.c (the
 * container lifecycle) and shim_ctl.c (socket commands, status, set-up and
 * tear-down).  Not an API: nothing outside supervisor/shim/shim*.c includes it.
 *
 * Ownership: a shim owns its pod spec(s), its ctrstate_pod, one shim_ctr per
 * container (in the same order as ctrstate_pod's init[] then app[]), and for
 * every running container one heap shim_run that holds the run's handles
 * (pidfd poll, preStop poll, log pipes); a shim_run is freed only after all
 * of its handles' close callbacks ran, which may be after the container
 * itself is destroyed (the log pipes drain to EOF first).
 */
#ifndef PODVISOR_SHIM_INTERNAL_H
#define PODVISOR_SHIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "spec/spec.h"
#include "supervisor/core/container.h"
#include "supervisor/proto/podpaths.h"
#include "supervisor/shim/backoff.h"
#include "supervisor/shim/ctrstate.h"
#include "supervisor/shim/logpump.h"
#include "supervisor/shim/probe.h"
#include "supervisor/shim/sandbox.h"
#include "supervisor/shim/shim.h"
#include "supervisor/shim/shimsock.h"
#include "supervisor/shim/statefile.h"

enum { PROBE_STARTUP = 0, PROBE_LIVENESS = 1, PROBE_READINESS = 2 };

typedef struct shim shim;
typedef struct shim_ctr shim_ctr;

typedef struct shim_run {
  shim_ctr *ctr; /* NULL once the container moved on (run detached) */
  shim *sh;
  container *c; /* NULL after destroy */
  uv_poll_t exit_poll;
  uv_poll_t hook_poll; /* preStop process */
  uv_poll_t post_poll; /* postStart process */
  bool exit_poll_open, hook_poll_open, post_poll_open, exited;
  pid_t hook_pid, post_pid;
  int hook_pidfd, post_pidfd;
  logpump lp;
  bool lp_open;
  struct shim_log *log;  /* the CRI log writer of this run */
  int pending;           /* handles still closing */
  struct shim_run *next; /* in shim.runs */
} shim_run;

struct shim_ctr {
  shim *sh;
  ctrstate *st;
  const spec_container *spec;
  backoff_state bo;
  shim_run *run; /* the current run, NULL when none */
  uv_timer_t backoff_timer;
  uv_timer_t kill_timer; /* SIGKILL after the grace period */
  probe *probes[3];      /* allocated when first started: most containers have none */
  bool probe_on[3];
  int probes_closing;
  bool restart_now; /* next start bypasses backoff (manual restart/update) */
  bool term_sent;
  bool init_done; /* init: exited 0; sidecar: started once */
  int64_t started_ms;
  int64_t exit_seen_ns;   /* when the last exit was reaped */
  int64_t restart_gap_ns; /* last reaped exit → next start returned */
};

struct shim {
  uv_loop_t loop;
  shim_options opt;
  spec_pod_list pods; /* owns the current snapshot's pod (one item) */
  const spec_pod *pod;
  struct shim_retired *retired_pods; /* earlier pods still used by runs (shim_specs.c) */
  char uid[PODPATHS_UID_MAX + 1];
  podpaths paths; /* every path of the pod (heap strings) */
  /* Aliases of paths' strings (NULL until make_paths). */
  char *run_dir, *pod_dir, *log_dir, *status_path, *sock_path;
  container_manager *mgr;
  sandbox sb;
  ctrstate_pod status;
  backoff_config bo_cfg;
  shim_ctr *ctrs; /* n_init then n_app */
  size_t n_ctrs, n_init;
  shim_run *runs; /* every live run, current or draining */
  shimsock sock;
  struct shim_ops *ops; /* shim_ops.c: updates and execs in flight */
  uv_signal_t sig_term, sig_int;
  uv_timer_t status_timer;  /* coalesces status renders to one per loop turn */
  statefile status_file;    /* status.json, written durably off the loop */
  statefile pid_file;       /* shim.pid */
  uv_timer_t stop_timer;    /* pod-wide SIGKILL deadline */
  uv_timer_t trim_timer;    /* shim_mem.c: hands memory back once idle */
  uv_timer_t collect_timer; /* removes pending cgroups (shim_pending.c) */
  uint64_t collect_delay_ms;
  int64_t pending_since_ms;    /* pending cgroups since (0: none) */
  int64_t pending_deadline_ms; /* the stopping pod waits for them until */
  bool pending_logged, pending_gave_up;
  bool status_dirty, stopping, pod_failed, closing, loop_ready;
  int64_t stop_deadline_ms;
  int devnull;
  int lock_fd;                /* <run_dir>/shim.lock, flock()ed for the shim's life */
  int open_handles;           /* shim-level handles still to close */
  struct shim_pause *pause;   /* the watch on the current pause process, NULL when none */
  struct shim_pause *retired; /* watches on replaced pause processes still exiting */
  char sandbox_error[256];    /* the pod's pid namespace could not be replaced: the pod failed */
};

/* shim.c */
int64_t shim_now_ms(void);
int64_t shim_now_ns(void);
void shim_advance(shim *sh);
void shim_begin_stop(shim *sh);
int shim_restart_container(shim *sh, shim_ctr *ctr, pv_err *err);
/* Replaces ctr's container with new_pod's (which the shim owns from now on,
 * also on failure): new_pod becomes the current pod, its pod.json already
 * on disk (shim_ops.c); then the container restarts. */
int shim_update_container_pod(shim *sh, shim_ctr *ctr, spec_pod *new_pod, pv_err *err);
shim_ctr *shim_find(shim *sh, const char *name);
void shim_mark_dirty(shim *sh);
void shim_maybe_finish(shim *sh);
/* A predecessor left the container waiting (BACKOFF until o->next_try_at,
 * or START_LIMIT): wait the same way instead of starting it now. */
void shim_resume_waiting(shim_ctr *ctr, const ctrstate *o);
/* Applies a lifecycle event to the container's state (logs a refusal). */
void shim_apply(shim_ctr *ctr, ctrstate_event ev);
/* SIGKILLs and reaps a hook process, closes its pidfd (-1 afterwards). */
void shim_kill_hook(int *pidfd);
/* uv_close()s a run's pidfd poll handle, then closes the fd (*fd = -1). */
void shim_close_poll_fd(shim_run *r, uv_poll_t *h, int *fd);

/* shim_probe.c: starts probe which (PROBE_*) when its run wants it; stops
 * them all (their close callbacks restart what the next run wants). */
void shim_start_probe(shim_ctr *ctr, int which);
void shim_stop_probes(shim_ctr *ctr);
/* Frees the probes (after the loop closed; each is stopped and closed). */
void shim_free_probes(shim_ctr *ctr);

/* shim_stop.c */
/* The pod stop with a grace period of grace_ms instead of the pod's own. */
void shim_begin_stop_grace(shim *sh, int64_t grace_ms);
int64_t shim_grace_of(int64_t seconds); /* saturating seconds → ms */
int64_t shim_grace_ms(const shim *sh);  /* the pod's grace period */
void shim_send_term(shim_ctr *ctr, int64_t kill_after_ms);
/* A failed probe sp (liveness/startup): preStop, TERM, KILL after its grace. */
void shim_kill_container(shim_ctr *ctr, const char *why, const spec_probe *sp);
/* preStop (bounded by grace), TERM, KILL after grace ms (the pod's deadline
 * when the pod stops). */
void shim_stop_container(shim_ctr *ctr, int64_t grace);
/* Once the app containers are down: the last running sidecar stops. */
void shim_stop_sidecars(shim *sh);

/* shim_pending.c: arm() after a container is destroyed: collects the
 * cgroups it left pending, on a timer.  hold(): true while the stopping pod
 * must wait for pending cgroups (shim_maybe_finish is called again). */
void shim_pending_arm(shim *sh);
bool shim_pending_hold(shim *sh);

/* shim_ctl.c: the CRI log of one run (a thin adapter over crilog.h). */
typedef struct shim_log shim_log;
shim_log *shim_log_open(shim *sh, const char *ctr, unsigned restart, pv_err *err);
void shim_log_write(shim_log *l, bool is_stderr, const char *buf, size_t len);
void shim_log_flush(shim_log *l);
void shim_log_close(shim_log *l); /* accepts NULL */

/* shim_mem.c: shim_mem_setup() first thing in the process;
 * shim_mem_idle_init() with the loop's other handles (sh->trim_timer, closed
 * with them); shim_mem_burst_done() after a burst of work (a status change):
 * once the pod has been quiet for a second, free heap pages, dead stack
 * pages, the log scratch buffers and the code pages go back to the kernel. */
void shim_mem_setup(void);
void shim_mem_idle_init(shim *sh);
void shim_mem_burst_done(shim *sh);

/* shim_pause.c: the pause process of a shareProcessNamespace pod
 * (sandbox.h), watched on the loop and replaced when it dies outside a pod
 * stop.  shim_pause_watch() once the loop exists (0 without share_pid);
 * shim_sandbox_ready() right before a container is created: 0 when the pod's
 * pid namespace is alive (renewed first if it was gone) and the calling
 * thread's children will be born in it, -1 with err otherwise (when the
 * namespace could not be renewed, the pod has failed and is stopping);
 * shim_pause_close() when the shim closes its handles. */
int shim_pause_watch(shim *sh, pv_err *err);
int shim_sandbox_ready(shim *sh, pv_err *err);
void shim_pause_close(shim *sh);

/* shim_ctl.c: renders the status, publishes it to the socket's watchers
 * and hands it to status.json's writer. */
int shim_write_status(shim *sh, pv_err *err);
/* shim_status.c: the status document, compact JSON (malloc'd; NULL on out
 * of memory).  shim_load_previous(): carries the previous status forward
 * when it is the same instance's, else removes the old instance's leftovers. */
char *shim_status_json(shim *sh);
void shim_load_previous(shim *sh);
/* Removes what a killed keeper of instance uid left: its cgroups below
 * podvisor/<uid> (killed, or kept pending and collected) and its container
 * upper dirs; whole: its entire <root>/pods/<uid> (an earlier instance). */
void shim_clean_instance(shim *sh, const char *uid, bool whole);

/* shim_ops.c: the control protocol's ops (ctlproto.h) behind the socket. */
extern const shimsock_handler shim_ops_handler;
int shim_ops_init(shim *sh, pv_err *err);
void shim_ops_free(shim *sh); /* after the loop ran out */

/* shim_exec.c: the exec op; the connection is held until the process ends.
 * fds are the request's (owned). */
void shim_exec_start(shim *sh, shimsock_conn *c, const ctlproto_request *req, int *fds, size_t nfds);
void shim_exec_released(shim *sh, void *data);

/* shim_specs.c: makes new_pod the current pod and rebinds every container
 * to it; the previous pod is kept while runs started from it still borrow
 * from it, and freed by collect() once none does.  -1 with ENOMEM and
 * nothing changed. */
int shim_specs_replace(shim *sh, spec_pod *new_pod, pv_err *err);
void shim_specs_collect(shim *sh);
void shim_specs_free(shim *sh);

#endif
