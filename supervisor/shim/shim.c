/* shim.c - the pod keeper's container lifecycle on the libuv loop:
 * start, exit, restart with backoff, init/sidecar ordering, commands.
 * Probes are glued in shim_probe.c, the stop path is shim_stop.c. */
#include "supervisor/shim/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/placement.h"
#include "supervisor/shim/shim_internal.h"

static void start_container(shim_ctr *ctr);

int64_t shim_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t shim_now_ms(void) {
  return shim_now_ns() / 1000000;
}

void shim_apply(shim_ctr *ctr, ctrstate_event ev) {
  if (ev.time == 0)
    ev.time = shim_now_ns();
  pv_err err;
  pv_err_clear(&err);
  if (ctrstate_apply(ctr->st, &ev, &err) < 0 && ctr->sh->opt.root != NULL)
    fprintf(stderr, "podvisor shim: container %s: %s\n", ctr->st->name, pv_err_str(&err));
  shim_mark_dirty(ctr->sh);
}

static backoff_kind kind_of(const shim_ctr *ctr) {
  return ctr->st->kind;
}

shim_ctr *shim_find(shim *sh, const char *name) {
  if (name == NULL)
    return NULL;
  for (size_t i = 0; i < sh->n_ctrs; i++)
    if (strcmp(sh->ctrs[i].st->name, name) == 0)
      return &sh->ctrs[i];
  return NULL;
}

/* --- runs: the handles of one container process --------------------------------- */

/* A run holds one reference for its container plus one per open handle (exit
 * poll, hook poll, log pipes); it is freed when the last one is dropped. */
static void run_unref(shim_run *r) {
  if (--r->pending > 0)
    return;
  shim *sh = r->sh;
  for (shim_run **p = &sh->runs; *p != NULL; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      break;
    }
  shim_log_close(r->log);
  free(r);
  shim_maybe_finish(sh);
}

static void run_handle_closed(uv_handle_t *h) {
  run_unref(h->data);
}

static void run_lp_closed(void *ctx) {
  shim_run *r = ctx;
  r->lp_open = false;
  run_unref(r);
}

static void run_lp_data(void *ctx, logpump_stream s, const char *buf, size_t len) {
  shim_run *r = ctx;
  shim_log_write(r->log, s == LOGPUMP_STDERR, buf, len);
}

static void run_lp_eof(void *ctx) {
  shim_run *r = ctx;
  shim_log_flush(r->log);
  if (r->lp_open)
    logpump_close(&r->lp);
}

static const logpump_callbacks run_lp_cb = {run_lp_data, run_lp_eof, run_lp_closed};

/* A finished container's directory tree (its overlay upper dir, with
 * whatever the container wrote) is removed in libuv's thread pool: on the
 * loop it would delay the restart that follows. */
typedef struct trash_work {
  uv_work_t req;
  char path[PATH_MAX];
} trash_work;

static void trash_remove(uv_work_t *req) {
  trash_work *t = req->data;
  pv_rm_rf(t->path, NULL); /* a leftover is removed with the pod anyway */
}

static void trash_done(uv_work_t *req, int status) {
  (void)status;
  free(req->data);
}

static void destroy_container(shim *sh, container *c) {
  pv_err err;
  pv_err_clear(&err);
  trash_work *t = malloc(sizeof *t);
  if (t == NULL) {
    if (container_manager_destroy(sh->mgr, c, &err) < 0)
      fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
    return;
  }
  if (container_manager_destroy_deferred(sh->mgr, c, t->path, sizeof t->path, &err) < 0) {
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
    free(t);
    return;
  }
  shim_pending_arm(sh); /* its cgroup may hold survivors still dying */
  t->req.data = t;
  if (t->path[0] == '\0' || uv_queue_work(&sh->loop, &t->req, trash_remove, trash_done) < 0) {
    if (t->path[0] != '\0')
      pv_rm_rf(t->path, NULL);
    free(t);
  }
}

/* A hook process still running when its container goes: SIGKILL, and reap
 * it at once (it was just killed, so the wait is short). */
void shim_kill_hook(int *pidfd) {
  if (*pidfd < 0)
    return;
  pv_pidfd_kill_reap(*pidfd);
  close(*pidfd);
  *pidfd = -1;
}

/* Closes a pidfd poll handle, then its fd: uv_close() removes the fd from
 * epoll at once, so closing the fd right after is safe, while closing it
 * first would let a later uv_close() remove a recycled fd's registration. */
void shim_close_poll_fd(shim_run *r, uv_poll_t *h, int *fd) {
  uv_close((uv_handle_t *)h, run_handle_closed);
  if (fd != NULL && *fd >= 0) {
    close(*fd);
    *fd = -1;
  }
  (void)r;
}

/* Destroys the container and closes the run's handles; the log pipes stay
 * open until EOF so that no line is lost (shim_maybe_finish closes them when
 * the pod goes away).  The run frees itself once everything is closed. */
static void run_release(shim_run *r) {
  r->ctr = NULL;
  if (r->exit_poll_open) {
    /* The poll watches a dup of the container's pidfd (see watch_exit). */
    int fd = -1;
    uv_fileno((uv_handle_t *)&r->exit_poll, &fd);
    r->exit_poll_open = false;
    shim_close_poll_fd(r, &r->exit_poll, &fd);
  }
  if (r->hook_poll_open) {
    r->hook_poll_open = false;
    uv_close((uv_handle_t *)&r->hook_poll, run_handle_closed);
  }
  if (r->post_poll_open) {
    r->post_poll_open = false;
    uv_close((uv_handle_t *)&r->post_poll, run_handle_closed);
  }
  shim_kill_hook(&r->hook_pidfd);
  shim_kill_hook(&r->post_pidfd);
  if (r->c != NULL) {
    destroy_container(r->sh, r->c);
    r->c = NULL;
  }
  run_unref(r);
}

/* --- exit and restart ------------------------------------------------------------ */

/* Fires at the end of a backoff, and one loop turn after an exit with zero
 * backoff (already RESTARTed then): a start never happens inside the exit
 * handler, so a container that fails to start cannot recurse. */
static void on_backoff_timer(uv_timer_t *t) {
  shim_ctr *ctr = t->data;
  if (ctr->sh->stopping)
    return;
  if (ctr->st->state == CTRSTATE_BACKOFF)
    shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_BACKOFF_EXPIRED});
  start_container(ctr);
}

void shim_resume_waiting(shim_ctr *ctr, const ctrstate *o) {
  ctrstate *st = ctr->st;
  /* Re-enter the waiting state through the table: the last exit first. */
  st->term = o->term;
  st->state = CTRSTATE_TERMINATED;
  /* The successor's restart of it increments the count again. */
  st->restart_count = o->restart_count;
  if (o->state == CTRSTATE_START_LIMIT) {
    shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_START_LIMIT, .message = o->message});
    return;
  }
  int64_t now = shim_now_ns();
  int64_t left_ms = o->next_try_at > now ? (o->next_try_at - now) / 1000000 : 0;
  shim_apply(ctr, (ctrstate_event){
                      .kind = CTRSTATE_EV_BACKOFF, .next_try_at = now + left_ms * 1000000, .time = now});
  uv_timer_start(&ctr->backoff_timer, on_backoff_timer, (uint64_t)left_ms, 0);
}

/* Schedules the next start after an exit of a run that lasted run_ms, or
 * after a failed start (start_error); probe_kill: the shim killed it for a
 * failed probe. */
static void after_exit(shim_ctr *ctr, const backoff_exit *ex, int64_t run_ms, bool probe_kill,
                       bool start_error) {
  shim *sh = ctr->sh;
  int64_t now = shim_now_ms();
  backoff_record_exit(&sh->bo_cfg, &ctr->bo, run_ms);
  if (sh->stopping) {
    shim_stop_sidecars(sh);
    shim_maybe_finish(sh);
    return;
  }
  backoff_decision d = backoff_restart_decide(sh->status.policy, kind_of(ctr), ex);
  /* Kubernetes restarts a container its liveness or startup probe killed
   * unless the policy is Never, whatever the exit code. */
  if (probe_kill && sh->status.policy != BACKOFF_POLICY_NEVER && d == BACKOFF_STAY_DOWN)
    d = BACKOFF_RESTART;
  if (ctr->restart_now)
    d = BACKOFF_RESTART;
  else if (ctr->st->stop_requested) /* a sidecar stopped after the app containers */
    d = BACKOFF_STAY_DOWN;
  if (d == BACKOFF_FAIL_POD) {
    sh->pod_failed = true;
  } else if (d == BACKOFF_RESTART) {
    if (!ctr->restart_now && backoff_start_limit_reached(&sh->bo_cfg, &ctr->bo, now)) {
      shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_START_LIMIT, .message = "start limit reached"});
    } else {
      int64_t delay = ctr->restart_now ? 0 : backoff_next_delay(&sh->bo_cfg, &ctr->bo);
      ctr->restart_now = false;
      if (delay <= 0) {
        /* One loop turn later (on_backoff_timer), never from here.  A start
         * that failed may have failed inside that very timer's callback, and
         * libuv runs a 0 ms timer re-armed from its own callback again in the
         * same pass (starving the loop): it waits 1 ms. */
        shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_RESTART});
        uv_timer_start(&ctr->backoff_timer, on_backoff_timer, start_error ? 1 : 0, 0);
      } else {
        shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_BACKOFF,
                                         .next_try_at = (now + delay) * 1000000,
                                         .time = now * 1000000});
        uv_timer_start(&ctr->backoff_timer, on_backoff_timer, (uint64_t)delay, 0);
      }
    }
  }
  shim_advance(sh);
}

static void on_exit_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  shim_run *r = h->data;
  shim_ctr *ctr = r->ctr;
  container_exit ex;
  pv_err err;
  pv_err_clear(&err);
  if (ctr == NULL || r->c == NULL)
    return;
  if (container_manager_reap(r->sh->mgr, r->c, &ex, &err) < 0) {
    if (errno == EAGAIN)
      return;
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
    memset(&ex, 0, sizeof ex);
    ex.exit_code = 255;
  }
  r->exited = true;
  uv_poll_stop(h);
  uv_timer_stop(&ctr->kill_timer);
  shim_stop_probes(ctr);
  backoff_exit be = {.exit_code = ex.exit_code, .signal = ex.signal, .oom = ex.oom_killed};
  ctr->exit_seen_ns = shim_now_ns();
  int64_t run_ms = ctr->started_ms > 0 ? ctr->exit_seen_ns / 1000000 - ctr->started_ms : 0;
  ctr->started_ms = 0;
  /* A container that exits by itself while its preStop hook still runs
   * (no SIGTERM sent yet) was not ended by the probe's kill: its
   * termination must not claim so. */
  bool term_delivered = ctr->term_sent && r->hook_pid <= 0; /* shim_stop.c: > 0 = hook before TERM */
  bool probe_kill = ctr->st->liveness_kill && term_delivered;
  if (ctr->st->liveness_kill && !term_delivered)
    ctr->st->liveness_kill = false;
  shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_EXITED, .exit = be, .time = ctr->exit_seen_ns});
  ctr->run = NULL;
  ctr->term_sent = false;
  run_release(r);
  after_exit(ctr, &be, run_ms, probe_kill, false);
}

static void start_failed(shim_ctr *ctr, shim_run *r, const pv_err *err) {
  shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_START_FAILED, .message = pv_err_str(err)});
  if (r != NULL) {
    if (r->lp_open)
      logpump_close(&r->lp);
    run_release(r);
  }
  ctr->run = NULL;
  ctr->term_sent = false;
  backoff_exit be = {.exit_code = 128};
  after_exit(ctr, &be, 0, false, true);
}

static shim_run *new_run(shim_ctr *ctr, pv_err *err) {
  shim_run *r = calloc(1, sizeof *r);
  if (r == NULL) {
    pv_err_set(err, ENOMEM, "container %s: out of memory", ctr->st->name);
    return NULL;
  }
  r->ctr = ctr;
  r->sh = ctr->sh;
  r->hook_pidfd = r->post_pidfd = -1;
  r->pending = 1; /* the container's reference, dropped by run_release */
  r->next = ctr->sh->runs;
  ctr->sh->runs = r;
  r->log = shim_log_open(ctr->sh, ctr->st->name, ctr->st->restart_count, err);
  if (r->log == NULL)
    return r; /* caller sees the error; the run is released by start_failed */
  /* The pump's closed callback drops this reference, also when
   * logpump_open fails (it closes what it opened). */
  r->lp_open = true;
  r->pending++;
  (void)logpump_open(&r->lp, &ctr->sh->loop, &run_lp_cb, r, err);
  return r;
}

static void mark_started(shim_ctr *ctr, int64_t now);

/* postStart failed: Kubernetes kills the container (FailedPostStartHook)
 * and the restart policy decides what follows. */
static void post_start_failed(shim_ctr *ctr, const char *why) {
  char msg[200];
  snprintf(msg, sizeof msg, "FailedPostStartHook: %s", why);
  shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_LIVENESS_FAILED, .message = msg});
  shim_send_term(ctr, shim_grace_ms(ctr->sh));
}

static void on_post_start_exit(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  shim_run *r = h->data;
  siginfo_t si;
  int rc = pv_pidfd_try_reap(r->post_pidfd, &si);
  if (rc == 0)
    return; /* still running */
  r->post_poll_open = false;
  shim_close_poll_fd(r, &r->post_poll, &r->post_pidfd);
  shim_ctr *ctr = r->ctr;
  /* The container may have exited meanwhile, or the pod be stopping: it
   * then never counts as started. */
  if (ctr == NULL || r->exited || ctr->term_sent || ctr->sh->stopping)
    return;
  char why[96];
  if (rc < 0)
    snprintf(why, sizeof why, "postStart: wait: %s", strerror(errno));
  else if (si.si_code == CLD_EXITED && si.si_status == 0) {
    mark_started(ctr, shim_now_ns());
    shim_advance(ctr->sh);
    return;
  } else if (si.si_code == CLD_EXITED)
    snprintf(why, sizeof why, "postStart exited with status %d", si.si_status);
  else
    snprintf(why, sizeof why, "postStart killed by signal %d", si.si_status);
  post_start_failed(ctr, why);
}

/* Runs lifecycle.postStart inside the just started container; the
 * container stays ContainerCreating until the hook returns. */
static void run_post_start(shim_ctr *ctr, shim_run *r) {
  container_exec_config x = {.argv = ctr->spec->post_start.argv,
                             .stdin_fd = ctr->sh->devnull,
                             .stdout_fd = ctr->sh->devnull,
                             .stderr_fd = ctr->sh->devnull};
  pv_err err;
  pv_err_clear(&err);
  if (container_manager_exec(ctr->sh->mgr, r->c, &x, &r->post_pid, &r->post_pidfd, &err) < 0) {
    post_start_failed(ctr, pv_err_str(&err));
    return;
  }
  if (uv_poll_init(&ctr->sh->loop, &r->post_poll, r->post_pidfd) < 0) {
    shim_kill_hook(&r->post_pidfd);
    post_start_failed(ctr, "postStart: cannot watch the hook process");
    return;
  }
  r->post_poll.data = r;
  r->post_poll_open = true;
  r->pending++;
  uv_poll_start(&r->post_poll, UV_READABLE, on_post_start_exit);
}

static void start_container(shim_ctr *ctr) {
  shim *sh = ctr->sh;
  if (sh->stopping || ctr->run != NULL || !ctrstate_accepts(ctr->st->state, CTRSTATE_EV_CREATED))
    return;
  pv_err err;
  pv_err_clear(&err);
  /* Never clone into a dead pid namespace (shareProcessNamespace): the
   * exit that brought us here may be the pause's doing. */
  if (shim_sandbox_ready(sh, &err) < 0) {
    if (!sh->stopping)
      start_failed(ctr, NULL, &err);
    return;
  }
  shim_run *r = new_run(ctr, &err);
  if (r == NULL || err.code != 0) {
    start_failed(ctr, r, &err);
    return;
  }
  placement pl;
  if (placement_build(&pl, sh->opt.root, sh->pod_dir, sh->uid, sh->pod, ctr->spec, ctr->st->restart_count,
                      &err) < 0) {
    start_failed(ctr, r, &err);
    return;
  }
  pl.cfg.namespaces = sandbox_container_namespaces(&sh->sb);
  pl.cfg.stdin_fd = sh->devnull;
  pl.cfg.stdout_fd = r->lp.out_w;
  pl.cfg.stderr_fd = r->lp.err_w;
  /* "<uid>-<name>-<restart>": a Kubernetes uid (36) and a name-restart (at most 74) fit. */
  snprintf(ctr->st->id, sizeof ctr->st->id, "%.40s-%.80s", sh->uid, pl.id);
  int rc = container_manager_create(sh->mgr, &pl.cfg, &r->c, &err);
  placement_free(&pl);
  if (rc < 0) {
    r->c = NULL;
    start_failed(ctr, r, &err);
    return;
  }
  shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_CREATED});
  ctr->run = r;
  if (container_manager_start(sh->mgr, r->c, &err) < 0) {
    start_failed(ctr, r, &err);
    return;
  }
  logpump_after_start(&r->lp);
  /* The poll watches its own dup of the pidfd: container_manager_reap
   * closes the container's, and the poll handle is closed only later. */
  int pidfd = fcntl(container_pidfd(r->c), F_DUPFD_CLOEXEC, 0);
  if (pidfd >= 0 && uv_poll_init(&sh->loop, &r->exit_poll, pidfd) == 0) {
    r->exit_poll.data = r;
    r->exit_poll_open = true;
    r->pending++;
    uv_poll_start(&r->exit_poll, UV_READABLE, on_exit_readable);
  } else if (pidfd >= 0) {
    close(pidfd);
  }
  ctr->started_ms = shim_now_ms();
  backoff_record_start(&ctr->bo, ctr->started_ms);
  int64_t now = shim_now_ns();
  if (ctr->exit_seen_ns > 0)
    ctr->restart_gap_ns = now - ctr->exit_seen_ns;
  if (ctr->spec->post_start.n > 0) {
    run_post_start(ctr, r);
    return;
  }
  mark_started(ctr, now);
}

/* The container counts as started: Running, probes on. */
static void mark_started(shim_ctr *ctr, int64_t now) {
  shim_apply(ctr,
             (ctrstate_event){.kind = CTRSTATE_EV_STARTED, .pid = container_pid(ctr->run->c), .time = now});
  if (ctr->spec->startup.kind != SPEC_PROBE_NONE) {
    shim_start_probe(ctr, PROBE_STARTUP);
  } else {
    shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_STARTUP_SUCCEEDED});
    shim_start_probe(ctr, PROBE_LIVENESS);
    shim_start_probe(ctr, PROBE_READINESS);
  }
}

/* --- ordering ---------------------------------------------------------------------- */

static bool idle(const shim_ctr *ctr) {
  ctrstate_state s = ctr->st->state;
  return ctr->run == NULL && !uv_is_active((const uv_handle_t *)&ctr->backoff_timer) &&
         s != CTRSTATE_BACKOFF && s != CTRSTATE_START_LIMIT && s != CTRSTATE_TERMINATED;
}

/* Starts whatever may start now: the next init container, or every app
 * container once the init sequence is through.  Called after every event. */
void shim_advance(shim *sh) {
  if (sh->stopping)
    return;
  if (sh->pod_failed) {
    /* An init container failed for good: nothing more starts, and the
     * sidecars already running stop, last one first. */
    shim_stop_sidecars(sh);
    return;
  }
  for (size_t i = 0; i < sh->n_init; i++) {
    shim_ctr *ctr = &sh->ctrs[i];
    if (kind_of(ctr) == BACKOFF_KIND_SIDECAR && ctr->st->started)
      ctr->init_done = true;
    else if (kind_of(ctr) == BACKOFF_KIND_INIT && ctr->st->state == CTRSTATE_TERMINATED &&
             ctr->st->term.reason == CTRSTATE_TERM_COMPLETED)
      ctr->init_done = true;
    if (ctr->init_done)
      continue;
    if (idle(ctr))
      start_container(ctr);
    /* A sidecar without a startup probe counts as started at once. */
    if (kind_of(ctr) == BACKOFF_KIND_SIDECAR && ctr->st->started) {
      ctr->init_done = true;
      continue;
    }
    return;
  }
  for (size_t i = sh->n_init; i < sh->n_ctrs; i++)
    if (idle(&sh->ctrs[i]) && !sh->stopping)
      start_container(&sh->ctrs[i]);
  /* Once every app container is down for good the pod is over: Kubernetes
   * then stops its sidecars. */
  bool all_final = sh->n_ctrs > sh->n_init;
  for (size_t i = sh->n_init; i < sh->n_ctrs; i++)
    if (!ctrstate_is_final(sh->ctrs[i].st, sh->status.policy) || sh->ctrs[i].run != NULL)
      all_final = false;
  if (all_final)
    shim_stop_sidecars(sh);
}

/* --- commands ------------------------------------------------------------------------ */

int shim_restart_container(shim *sh, shim_ctr *ctr, pv_err *err) {
  if (sh->stopping)
    return pv_err_set(err, ESHUTDOWN, "pod %s is stopping", sh->pod->name);
  if (ctr->run != NULL) {
    if (ctr->st->stop_requested)
      return pv_err_set(err, ESHUTDOWN, "container %s is being stopped for good", ctr->st->name);
    ctr->restart_now = true;
    /* Already stopping (an earlier restart, a probe): its SIGKILL stays. */
    if (!ctr->term_sent)
      shim_stop_container(ctr, shim_grace_ms(sh));
    return 0;
  }
  /* Ask the table first, on a copy: a container stopped for good (a sidecar
   * after its pod's app containers) refuses RESTART. */
  ctrstate probe_st = *ctr->st;
  if (ctrstate_apply(&probe_st, &(ctrstate_event){.kind = CTRSTATE_EV_RESTART, .time = shim_now_ns()}, err) <
      0)
    return pv_err_set(err, EINVAL, "container %s cannot restart now (%s)", ctr->st->name,
                      ctrstate_state_name(ctr->st->state));
  uv_timer_stop(&ctr->backoff_timer);
  shim_apply(ctr, (ctrstate_event){.kind = CTRSTATE_EV_RESTART});
  start_container(ctr);
  return 0;
}

int shim_update_container_pod(shim *sh, shim_ctr *ctr, spec_pod *new_pod, pv_err *err) {
  const spec_container *nc = spec_pod_container(new_pod, ctr->st->name);
  if (nc == NULL || sh->stopping) {
    if (nc == NULL)
      pv_err_set(err, ENOENT, "pod %s has no container %s", sh->pod->name, ctr->st->name);
    else
      pv_err_set(err, ESHUTDOWN, "pod %s is stopping", sh->pod->name);
    spec_pod_free(new_pod);
    return -1;
  }
  /* The new pod replaces the current one for every container (only ctr's
   * differs); the old one lives on while runs started from it need it. */
  if (shim_specs_replace(sh, new_pod, err) < 0) {
    spec_pod_free(new_pod);
    return -1;
  }
  snprintf(ctr->st->spec_hash, sizeof ctr->st->spec_hash, "sha256:%s", ctr->spec->hash);
  snprintf(ctr->st->image, sizeof ctr->st->image, "%s", ctr->spec->image);
  return shim_restart_container(sh, ctr, err);
}
