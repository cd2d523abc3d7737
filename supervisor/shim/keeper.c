/* keeper.c - the pod keeper's one dispatcher (keeper.h): events in, the
 * container state table driven, runs started and stopped; the status out
 * and the pod's end through kfinish.c. */
#include "supervisor/shim/keeper_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spec/duration.h"

/* The kubelet gives a preStop hook that used up the grace period 2 s more
 * between the container's SIGTERM and its SIGKILL. */
#define HOOK_EXTRA_GRACE_MS 2000

int64_t keeper_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_ms(void) {
  return keeper_now_ns() / 1000000;
}

/* Seconds of grace as milliseconds, saturated: a manifest may ask for an
 * absurd terminationGracePeriodSeconds, and deadlines add it to "now". */
static int64_t grace_of(int64_t seconds) {
  const int64_t max_s = INT64_C(100) * 365 * 24 * 3600; /* a century */
  if (seconds < 0)
    return 0;
  return (seconds > max_s ? max_s : seconds) * 1000;
}

static int64_t pod_grace_ms(const keeper *k) {
  return grace_of(cur_pod(k)->termination_grace_period_seconds);
}

/* --- pod specs ------------------------------------------------------------------------ */

void keeper_pod_unref(keeper *k, kpod *kp) {
  if (kp == NULL || --kp->refs > 0)
    return;
  for (kpod **p = &k->pods; *p != NULL; p = &(*p)->next)
    if (*p == kp) {
      *p = kp->next;
      break;
    }
  spec_pod_free(kp->p);
  free(kp);
}

kpod *keeper_pod_push(keeper *k, spec_pod *p) {
  kpod *kp = calloc(1, sizeof *kp);
  if (kp == NULL)
    return NULL;
  kp->p = p;
  kp->refs = 1; /* the caller's */
  kp->next = k->pods;
  k->pods = kp;
  return kp;
}

/* --- containers ------------------------------------------------------------------------- */

void keeper_apply(kctr *c, ctrstate_event ev) {
  if (ev.time == 0)
    ev.time = keeper_now_ns();
  pv_err err;
  pv_err_clear(&err);
  if (ctrstate_apply(c->st, &ev, &err) < 0)
    fprintf(stderr, "podvisor shim: container %s: %s\n", c->st->name, pv_err_str(&err));
  c->k->dirty = true;
}

bool keeper_accepts(const kctr *c, ctrstate_event_kind kind) {
  return ctrstate_accepts(c->st->state, kind);
}

kctr *keeper_find(keeper *k, const char *name) {
  for (size_t i = 0; name != NULL && i < k->n_ctrs; i++)
    if (strcmp(k->ctrs[i].st->name, name) == 0)
      return &k->ctrs[i];
  return NULL;
}

/* The container a run belongs to, NULL when it is no longer the current
 * run (it exited and the container moved on). */
static kctr *owner(keeper *k, krun *r) {
  if (r == NULL || r->ctr >= k->n_ctrs || k->ctrs[r->ctr].run != r)
    return NULL;
  return &k->ctrs[r->ctr];
}

static void post_timer(uv_timer_t *t, kevent_kind kind) {
  kctr *c = t->data;
  kevq_post(&c->k->q, &(kevent){.kind = kind, .ctr = c->index});
}

void keeper_on_backoff_timer(uv_timer_t *t) {
  post_timer(t, KEV_BACKOFF_TIMER);
}

static void on_kill_timer(uv_timer_t *t) {
  post_timer(t, KEV_KILL_TIMER);
}

static void on_stop_timer(uv_timer_t *t) {
  keeper *k = t->data;
  kevq_post(&k->q, &(kevent){.kind = KEV_STOP_DEADLINE});
}

/* The run is done with: its container destroyed, its handles closing. */
static void release(keeper *k, krun *r) {
  krun_release(r);
  kpending_arm(&k->pending); /* its cgroup may hold survivors still dying */
}

static void start(keeper *k, kctr *c);
static void stop_container(keeper *k, kctr *c, ctrstate_cause cause, const char *why, int64_t grace_ms,
                           bool hook);

/* Schedules what follows an exit of a run that lasted run_ms, or a failed
 * start (start_error), by the restart policy and the backoff. */
static void after_exit(keeper *k, kctr *c, const backoff_exit *ex, int64_t run_ms, bool start_error) {
  int64_t now = now_ms();
  backoff_record_exit(&k->bo_cfg, &c->bo, run_ms);
  if (k->phase != KEEPER_RUNNING)
    return;
  backoff_decision d = backoff_restart_decide(k->status.policy, c->st->kind, ex);
  ctrstate_cause by = c->st->exit_by;
  /* Kubernetes restarts a container its liveness or startup probe killed
   * unless the policy is Never, whatever the exit code. */
  if (by == CTRSTATE_BY_PROBE && k->status.policy != BACKOFF_POLICY_NEVER && d == BACKOFF_STAY_DOWN)
    d = BACKOFF_RESTART;
  if (by == CTRSTATE_BY_RESTART)
    d = BACKOFF_RESTART;
  else if (c->st->stop_requested) /* a sidecar stopped after the app containers */
    d = BACKOFF_STAY_DOWN;
  if (d == BACKOFF_FAIL_POD) {
    k->pod_failed = true;
    return;
  }
  if (d != BACKOFF_RESTART)
    return;
  if (by != CTRSTATE_BY_RESTART && backoff_start_limit_reached(&k->bo_cfg, &c->bo, now)) {
    keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_START_LIMIT, .message = "start limit reached"});
    return;
  }
  int64_t delay = by == CTRSTATE_BY_RESTART ? 0 : backoff_next_delay(&k->bo_cfg, &c->bo);
  if (delay > 0) {
    keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_BACKOFF,
                                     .next_try_at = (now + delay) * 1000000,
                                     .time = now * 1000000});
    uv_timer_start(&c->backoff_timer, keeper_on_backoff_timer, (uint64_t)delay, 0);
    return;
  }
  keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_RESTART});
  /* A start that keeps failing at once is retried from a timer, 1 ms
   * later, so that it cannot spin the loop. */
  if (start_error)
    uv_timer_start(&c->backoff_timer, keeper_on_backoff_timer, 1, 0);
  else
    start(k, c);
}

static void start_failed(keeper *k, kctr *c, krun *r, const pv_err *err) {
  keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_START_FAILED, .message = pv_err_str(err)});
  if (r != NULL) {
    krun_close_logs(r); /* nothing ran, nothing to drain */
    release(k, r);
  }
  c->run = NULL;
  backoff_exit ex = {.exit_code = 128};
  after_exit(k, c, &ex, 0, true);
}

static bool probe_wanted(const keeper *k, const kctr *c, int which) {
  if (kprobes_spec(c->spec, which)->kind == SPEC_PROBE_NONE || k->phase != KEEPER_RUNNING || c->run == NULL ||
      c->st->state != CTRSTATE_RUNNING)
    return false;
  return which == KPROBE_STARTUP ? !c->st->started : c->st->started;
}

static void start_probe(keeper *k, kctr *c, int which) {
  if (probe_wanted(k, c, which))
    kprobes_start(&c->probes, which, c->spec, c->run->c, c->run->serial);
}

/* The container counts as started: Running, probes on. */
static void mark_started(keeper *k, kctr *c, int64_t now) {
  keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_STARTED, .pid = krun_pid(c->run), .time = now});
  if (c->spec->startup.kind != SPEC_PROBE_NONE) {
    start_probe(k, c, KPROBE_STARTUP);
    return;
  }
  keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_STARTUP_SUCCEEDED});
  start_probe(k, c, KPROBE_LIVENESS);
  start_probe(k, c, KPROBE_READINESS);
}

/* postStart failed: Kubernetes kills the container (FailedPostStartHook)
 * and the restart policy decides what follows. */
static void post_start_failed(keeper *k, kctr *c, const char *why) {
  char msg[200];
  snprintf(msg, sizeof msg, "FailedPostStartHook: %s", why);
  stop_container(k, c, CTRSTATE_BY_PROBE, msg, pod_grace_ms(k), false);
}

static void start(keeper *k, kctr *c) {
  if (k->phase != KEEPER_RUNNING || c->run != NULL || !keeper_accepts(c, CTRSTATE_EV_CREATED))
    return;
  pv_err err;
  pv_err_clear(&err);
  /* Never into a dead sandbox: when it cannot be renewed the pod has
   * failed (the runtime said so through keeper_sandbox_failed). */
  if (k->cfg.rt.ops->sandbox_ready(k->cfg.rt.ctx, &err) < 0) {
    if (k->sandbox_error[0] == '\0')
      keeper_sandbox_failed(k, pv_err_str(&err));
    return;
  }
  krun_config rc = {.loop = k->cfg.loop,
                    .q = &k->q,
                    .rt = &k->cfg.rt,
                    .ctr = c->index,
                    .serial = ++c->serial,
                    .log_dir = k->cfg.log_dir,
                    .name = c->st->name,
                    .restart = c->st->restart_count,
                    .log_opts = &k->cfg.log_opts,
                    .devnull = k->cfg.devnull,
                    .log_failing = c->log_error != 0};
  krun *r = krun_new(&rc, &err);
  if (r == NULL) {
    start_failed(k, c, NULL, &err);
    return;
  }
  r->next = k->runs;
  k->runs = r;
  r->pod = c->pod;
  c->pod->refs++;
  char id[CTRSTATE_ID_MAX];
  if (err.code != 0 || krun_create(r, c->pod->p, c->spec, id, sizeof id, &err) < 0) {
    start_failed(k, c, r, &err);
    return;
  }
  keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_CREATED, .id = id});
  c->run = r;
  if (krun_start(r, &err) < 0) {
    start_failed(k, c, r, &err);
    return;
  }
  c->started_ms = now_ms();
  backoff_record_start(&c->bo, c->started_ms);
  int64_t now = keeper_now_ns();
  if (c->exit_seen_ns > 0)
    c->restart_gap_ns = now - c->exit_seen_ns;
  /* With a postStart hook the container stays ContainerCreating until the
   * hook returns. */
  if (c->spec->post_start.n > 0) {
    if (krun_exec_hook(r, KRUN_POST_START, c->spec->post_start.argv, &err) < 0)
      post_start_failed(k, c, pv_err_str(&err));
    return;
  }
  mark_started(k, c, now);
}

/* --- stopping a run ----------------------------------------------------------------------- */

/* Stops the current run: preStop hook (when allowed and there is time),
 * SIGTERM, SIGKILL once grace_ms have passed (the pod's deadline when the
 * pod stops).  The kill timer bounds the hook too. */
static void stop_container(keeper *k, kctr *c, ctrstate_cause cause, const char *why, int64_t grace_ms,
                           bool hook) {
  krun *r = c->run;
  if (r == NULL || !keeper_accepts(c, CTRSTATE_EV_KILL))
    return;
  kprobes_stop_all(&c->probes);
  int64_t now = now_ms();
  int64_t left = k->phase == KEEPER_STOPPING ? k->stop_deadline_ms - now : grace_ms;
  if (left < 0)
    left = 0;
  /* The hook of the spec the run started from (an update may have given
   * the container a new one since). */
  hook = hook && r->spec->pre_stop.n > 0 && left > 0 &&
         krun_exec_hook(r, KRUN_PRE_STOP, r->spec->pre_stop.argv, NULL) == 0;
  keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_KILL,
                                   .cause = cause,
                                   .message = why,
                                   .hook = hook,
                                   .deadline = (now + left) * 1000000});
  if (!hook)
    krun_signal(r, SIGTERM);
  uv_timer_start(&c->kill_timer, on_kill_timer, (uint64_t)left, 0);
}

static void on_kill_deadline(kctr *c) {
  krun *r = c->run;
  if (r == NULL)
    return;
  if (c->st->state == CTRSTATE_PRE_STOP) {
    /* The preStop hook outlived the grace period: kill it, TERM the
     * container and KILL it after the extra grace. */
    krun_signal_hook(r, KRUN_PRE_STOP, SIGKILL);
    keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_HOOK_EXPIRED,
                                     .deadline = (now_ms() + HOOK_EXTRA_GRACE_MS) * 1000000});
    krun_signal(r, SIGTERM);
    uv_timer_start(&c->kill_timer, on_kill_timer, HOOK_EXTRA_GRACE_MS, 0);
    return;
  }
  if (keeper_accepts(c, CTRSTATE_EV_KILL_DEADLINE)) {
    keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_KILL_DEADLINE});
    krun_signal(r, SIGKILL);
  }
}

static void on_hook_done(keeper *k, const kevent *ev) {
  kctr *c = owner(k, ev->run);
  /* Gone, or past its deadline (TERM and KILL already under way). */
  if (c == NULL || c->st->state != CTRSTATE_PRE_STOP)
    return;
  keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_HOOK_DONE, .gone = ev->gone});
  /* TERM now; KILL when the grace period the hook started under ends.  A
   * container that ended with its hook gets none: it is exiting already,
   * and the kill timer still SIGKILLs at the deadline should it live on. */
  if (!ev->gone)
    krun_signal(c->run, SIGTERM);
}

static void on_post_start_done(keeper *k, const kevent *ev) {
  kctr *c = owner(k, ev->run);
  /* The container may have exited meanwhile, or be stopping: it then never
   * counts as started. */
  if (c == NULL || c->st->state != CTRSTATE_CREATED || k->phase != KEEPER_RUNNING)
    return;
  char why[96];
  if (ev->rc < 0)
    snprintf(why, sizeof why, "postStart: wait: %s", strerror(ev->si.si_status));
  else if (ev->si.si_code == CLD_EXITED && ev->si.si_status == 0) {
    mark_started(k, c, keeper_now_ns());
    return;
  } else if (ev->si.si_code == CLD_EXITED)
    snprintf(why, sizeof why, "postStart exited with status %d", ev->si.si_status);
  else
    snprintf(why, sizeof why, "postStart killed by signal %d", ev->si.si_status);
  post_start_failed(k, c, why);
}

static void on_exited(keeper *k, const kevent *ev) {
  kctr *c = owner(k, ev->run);
  if (c == NULL)
    return;
  uv_timer_stop(&c->kill_timer);
  kprobes_stop_all(&c->probes);
  backoff_exit be = {.exit_code = ev->exit.exit_code, .signal = ev->exit.signal, .oom = ev->exit.oom_killed};
  c->exit_seen_ns = keeper_now_ns();
  int64_t run_ms = c->started_ms > 0 ? c->exit_seen_ns / 1000000 - c->started_ms : 0;
  c->started_ms = 0;
  keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_EXITED, .exit = be, .time = c->exit_seen_ns});
  c->run = NULL;
  release(k, ev->run);
  after_exit(k, c, &be, run_ms, false);
}

/* A failed liveness or startup probe sp: preStop, TERM, KILL after the
 * probe's own terminationGracePeriodSeconds (else the pod's); the exit then
 * restarts per policy. */
static void probe_kill(keeper *k, kctr *c, const char *why, const spec_probe *sp) {
  int64_t g = sp->termination_grace_period_seconds >= 0 ? grace_of(sp->termination_grace_period_seconds)
                                                        : pod_grace_ms(k);
  stop_container(k, c, CTRSTATE_BY_PROBE, why, g, true);
}

static void on_probe_result(keeper *k, kctr *c, const kevent *ev) {
  /* A result of a probe stopped since, or of an earlier run, is stale. */
  if (c->run == NULL || ev->serial != c->run->serial || !kprobes_is_on(&c->probes, ev->which) ||
      c->st->state != CTRSTATE_RUNNING)
    return;
  probe_state st = (probe_state)ev->result;
  switch (ev->which) {
  case KPROBE_STARTUP:
    if (st == PROBE_SUCCESS) {
      keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_STARTUP_SUCCEEDED});
      kprobes_stop(&c->probes, KPROBE_STARTUP);
      start_probe(k, c, KPROBE_LIVENESS);
      start_probe(k, c, KPROBE_READINESS);
    } else if (st == PROBE_FAILURE) {
      probe_kill(k, c, "Startup probe failed", &c->spec->startup);
    }
    break;
  case KPROBE_LIVENESS:
    if (st == PROBE_FAILURE)
      probe_kill(k, c, "Liveness probe failed", &c->spec->liveness);
    break;
  case KPROBE_READINESS:
    keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_READINESS, .ok = st == PROBE_SUCCESS});
    break;
  }
}

/* --- the pod -------------------------------------------------------------------------------- */

static bool apps_down(const keeper *k) {
  for (size_t i = 0; i < k->n_ctrs; i++)
    if (k->ctrs[i].st->kind != BACKOFF_KIND_SIDECAR && k->ctrs[i].run != NULL)
      return false;
  return true;
}

/* Sidecars stop after every app container, last one first, one at a time. */
static void stop_sidecars(keeper *k) {
  if (!apps_down(k))
    return;
  for (size_t i = k->n_init; i-- > 0;) {
    kctr *c = &k->ctrs[i];
    if (c->st->kind != BACKOFF_KIND_SIDECAR || c->run == NULL)
      continue;
    if (!c->st->stop_requested)
      keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_STOP_REQUESTED});
    stop_container(k, c, CTRSTATE_BY_POD_STOP, NULL, pod_grace_ms(k), true);
    return;
  }
}

static void begin_stop(keeper *k, int64_t grace_ms) {
  if (k->phase != KEEPER_RUNNING)
    return;
  k->phase = KEEPER_STOPPING;
  k->dirty = true;
  int64_t grace = grace_ms >= 0 ? grace_ms : pod_grace_ms(k);
  k->stop_deadline_ms = now_ms() + grace;
  uv_timer_start(&k->stop_timer, on_stop_timer, (uint64_t)grace, 0);
  for (size_t i = 0; i < k->n_ctrs; i++) {
    uv_timer_stop(&k->ctrs[i].backoff_timer);
    keeper_apply(&k->ctrs[i], (ctrstate_event){.kind = CTRSTATE_EV_STOP_REQUESTED});
  }
  for (size_t i = 0; i < k->n_ctrs; i++)
    if (k->ctrs[i].st->kind != BACKOFF_KIND_SIDECAR)
      stop_container(k, &k->ctrs[i], CTRSTATE_BY_POD_STOP, NULL, grace, true);
  stop_sidecars(k);
}

/* The pod's deadline: whatever still runs gets SIGKILL (SIGTERM first when
 * it had none yet), except a container whose preStop hook is still
 * running: as when its own deadline comes first, the hook is killed and the
 * container gets SIGTERM and the kubelet's 2 s more. */
static void on_stop_deadline(keeper *k) {
  for (size_t i = 0; i < k->n_ctrs; i++) {
    kctr *c = &k->ctrs[i];
    if (c->run == NULL)
      continue;
    if (c->st->state == CTRSTATE_PRE_STOP) {
      on_kill_deadline(c);
      continue;
    }
    if (c->st->state == CTRSTATE_CREATED || c->st->state == CTRSTATE_RUNNING)
      krun_signal(c->run, SIGTERM);
    krun_signal(c->run, SIGKILL);
    if (keeper_accepts(c, CTRSTATE_EV_KILL_DEADLINE))
      keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_KILL_DEADLINE});
  }
}

static bool idle(const kctr *c) {
  ctrstate_state s = c->st->state;
  return c->run == NULL && !uv_is_active((const uv_handle_t *)&c->backoff_timer) && s != CTRSTATE_BACKOFF &&
         s != CTRSTATE_START_LIMIT && s != CTRSTATE_TERMINATED;
}

/* An init container's step is done: a sidecar once started, an init
 * container once it exited 0. */
static bool init_done(const kctr *c) {
  if (c->st->kind == BACKOFF_KIND_SIDECAR)
    return c->st->ever_started;
  return c->st->ever_completed ||
         (c->st->state == CTRSTATE_TERMINATED && c->st->term.reason == CTRSTATE_TERM_COMPLETED);
}

/* Starts whatever may start now: the next init container, or every app
 * container once the init sequence is through; stops the sidecars once
 * nothing else will run.  Once per step. */
static void advance(keeper *k) {
  if (k->phase == KEEPER_STOPPING)
    stop_sidecars(k);
  if (k->phase != KEEPER_RUNNING)
    return;
  if (k->pod_failed) {
    /* An init container failed for good: nothing more starts, and the
     * sidecars already running stop, last one first. */
    stop_sidecars(k);
    return;
  }
  for (size_t i = 0; i < k->n_init; i++) {
    kctr *c = &k->ctrs[i];
    if (init_done(c))
      continue;
    if (idle(c))
      start(k, c);
    /* A sidecar without a startup probe counts as started at once. */
    if (!init_done(c) || k->phase != KEEPER_RUNNING)
      return;
  }
  for (size_t i = k->n_init; i < k->n_ctrs && k->phase == KEEPER_RUNNING; i++)
    if (idle(&k->ctrs[i]))
      start(k, &k->ctrs[i]);
  /* Once every app container is down for good the pod is over: Kubernetes
   * then stops its sidecars. */
  bool all_final = k->n_ctrs > k->n_init;
  for (size_t i = k->n_init; i < k->n_ctrs; i++)
    if (!ctrstate_is_final(k->ctrs[i].st, k->status.policy) || k->ctrs[i].run != NULL)
      all_final = false;
  if (all_final)
    stop_sidecars(k);
}

static void on_restart(keeper *k, kctr *c) {
  if (k->phase != KEEPER_RUNNING || c->st->stop_requested)
    return;
  if (c->run != NULL) {
    /* Already being stopped (an earlier restart, a probe): its SIGKILL
     * stays, and the exit restarts it at once. */
    if (keeper_accepts(c, CTRSTATE_EV_KILL))
      stop_container(k, c, CTRSTATE_BY_RESTART, NULL, pod_grace_ms(k), true);
    else if (keeper_accepts(c, CTRSTATE_EV_RESTART_REQUESTED))
      keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_RESTART_REQUESTED});
    return;
  }
  if (!keeper_accepts(c, CTRSTATE_EV_RESTART))
    return;
  uv_timer_stop(&c->backoff_timer);
  keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_RESTART});
  start(k, c);
}

void keeper_set_spec(kctr *c, kpod *kp, const spec_container *spec) {
  char hash[CTRSTATE_HASH_MAX];
  snprintf(hash, sizeof hash, "sha256:%s", spec->hash);
  ctrstate_set_spec(c->st, spec->image, hash, spec->startup.kind != SPEC_PROBE_NONE,
                    spec->readiness.kind != SPEC_PROBE_NONE);
  kp->refs++;
  keeper_pod_unref(c->k, c->pod);
  c->pod = kp;
  c->spec = spec;
}

static void on_update(keeper *k, kctr *c, kpod *kp) {
  const spec_container *nc = spec_pod_container(kp->p, c->st->name);
  if (nc != NULL) {
    keeper_set_spec(c, kp, nc);
    on_restart(k, c);
  }
  keeper_pod_unref(k, kp); /* the event's reference */
}

/* A run's log health changed (krun.h): the container's episode of failing
 * writes begins or ends here; the shim's log hears of the end. */
static void on_log(keeper *k, kctr *c, const kevent *ev) {
  if (c == NULL)
    return;
  c->log_dropped += ev->log_dropped;
  if (ev->log_error != 0 && c->log_error == 0) {
    c->log_failing_since = ev->log_since;
    c->log_episode_base = c->log_dropped - ev->log_dropped;
  } else if (ev->log_error == 0 && c->log_error != 0) {
    c->log_resumed_at = ev->log_since;
    fprintf(stderr, "podvisor shim: container %s: log writes resumed (%llu bytes dropped meanwhile)\n",
            c->st->name, (unsigned long long)(c->log_dropped - c->log_episode_base));
  }
  c->log_error = ev->log_error;
  k->dirty = true;
}

static void handle(keeper *k, const kevent *ev) {
  kctr *c = ev->ctr < k->n_ctrs ? &k->ctrs[ev->ctr] : NULL;
  switch (ev->kind) {
  case KEV_EXITED: on_exited(k, ev); break;
  case KEV_HOOK_DONE: on_hook_done(k, ev); break;
  case KEV_POST_START_DONE: on_post_start_done(k, ev); break;
  case KEV_RUN_CLOSED: keeper_run_closed(k, ev->run); break;
  case KEV_PROBE_RESULT: on_probe_result(k, c, ev); break;
  case KEV_PROBE_CLOSED:
    /* The previous run's probe finished closing: the current run may want
     * it again. */
    start_probe(k, c, ev->which);
    break;
  case KEV_PENDING:
    break; /* keeper_finish() looks again */
  /* A one-shot timer that fired is inactive: one active again was re-armed
   * after it fired, and the event it posted then is stale. */
  case KEV_BACKOFF_TIMER:
    if (k->phase != KEEPER_RUNNING || uv_is_active((uv_handle_t *)&c->backoff_timer))
      break;
    if (c->st->state == CTRSTATE_BACKOFF)
      keeper_apply(c, (ctrstate_event){.kind = CTRSTATE_EV_BACKOFF_EXPIRED});
    start(k, c);
    break;
  case KEV_KILL_TIMER:
    if (!uv_is_active((uv_handle_t *)&c->kill_timer))
      on_kill_deadline(c);
    break;
  case KEV_STOP_DEADLINE: on_stop_deadline(k); break;
  case KEV_STOP: begin_stop(k, ev->grace_ms); break;
  case KEV_RESTART: on_restart(k, c); break;
  case KEV_UPDATE: on_update(k, c, ev->pod); break;
  case KEV_SANDBOX_FAILED: begin_stop(k, -1); break;
  case KEV_TOUCH: k->dirty = true; break;
  case KEV_LOG: on_log(k, c, ev); break;
  }
}

/* One step: every queued event, then advance, the status and the end. */
void keeper_step(void *ctx) {
  keeper *k = ctx;
  if (k->stepping || k->phase >= KEEPER_CLOSING)
    return;
  k->stepping = true;
  kevent ev;
  for (int round = 0; round < 16; round++) {
    while (kevq_pop(&k->q, &ev))
      handle(k, &ev);
    advance(k);
    if (kevq_empty(&k->q))
      break;
  }
  keeper_render(k);
  keeper_finish(k);
  k->stepping = false;
}

/* --- set-up and the calls of keeper.h --------------------------------------------------------------- */

void keeper_sandbox_failed(keeper *k, const char *message) {
  if (k->sandbox_error[0] == '\0')
    snprintf(k->sandbox_error, sizeof k->sandbox_error, "%s",
             message ? message : "the pod's sandbox is gone");
  k->dirty = true;
  kevq_post(&k->q, &(kevent){.kind = KEV_SANDBOX_FAILED});
}
