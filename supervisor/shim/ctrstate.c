#include "supervisor/shim/ctrstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

void ctrstate_init(ctrstate *c, const char *name, backoff_kind kind, bool wait_for_init) {
  memset(c, 0, sizeof *c);
  copy_str(c->name, sizeof c->name, name);
  c->kind = kind;
  c->state = wait_for_init ? CTRSTATE_WAITING_INIT : CTRSTATE_CREATING;
}

/* ---- actions: each one is a transition of the table below ---- */

typedef int action_fn(ctrstate *c, const ctrstate_event *ev, pv_err *err);

static int act_created(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)ev;
  (void)err;
  c->state = CTRSTATE_CREATED;
  return 0;
}

static int act_started(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  if (ev->pid <= 0)
    return pv_err_set(err, EINVAL, "container %s: started without a pid", c->name);
  c->state = CTRSTATE_RUNNING;
  c->pid = ev->pid;
  c->started_at = ev->time;
  c->message[0] = '\0';
  /* Kubernetes: `started` waits for the startup probe, `ready` for the
   * readiness probe (which only runs once started); without probes both are
   * true as soon as the process runs. */
  c->started = !c->has_startup_probe;
  c->ready = c->started && !c->has_readiness_probe;
  return 0;
}

static int act_start_failed(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  memset(&c->term, 0, sizeof c->term);
  c->term.reason = CTRSTATE_TERM_START_ERROR;
  c->term.exit_code = 128;
  c->term.finished_at = ev->time;
  copy_str(c->term.message, sizeof c->term.message, ev->message);
  c->state = CTRSTATE_TERMINATED;
  c->pid = 0;
  c->ready = c->started = false;
  return 0;
}

static int act_exited(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  const backoff_exit *x = &ev->exit;
  memset(&c->term, 0, sizeof c->term);
  c->term.signal = x->signal;
  c->term.exit_code = x->signal > 0 ? 128 + x->signal : x->exit_code;
  if (x->oom)
    c->term.reason = CTRSTATE_TERM_OOMKILLED;
  else if (c->term.exit_code == 0)
    c->term.reason = CTRSTATE_TERM_COMPLETED;
  else
    c->term.reason = CTRSTATE_TERM_ERROR;
  c->term.started_at = c->started_at;
  c->term.finished_at = ev->time;
  /* Why the shim killed it (liveness, startup or postStart failure). */
  if (c->liveness_kill)
    copy_str(c->term.message, sizeof c->term.message, c->message);
  c->state = CTRSTATE_TERMINATED;
  c->pid = 0;
  c->started_at = 0;
  c->ready = c->started = c->liveness_kill = false;
  return 0;
}

static int refuse_if_stopping(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  if (!c->stop_requested)
    return 0;
  return pv_err_set(err, EINVAL, "container %s: %s refused: the pod is stopping", c->name,
                    ctrstate_event_name(ev->kind));
}

/* RESTART and BACKOFF_EXPIRED: the termination becomes lastState and a new
 * run begins with its creation. */
static int act_restart(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  if (refuse_if_stopping(c, ev, err) < 0)
    return -1;
  c->last = c->term;
  c->has_last = true;
  memset(&c->term, 0, sizeof c->term);
  if (c->restart_count < UINT32_MAX)
    c->restart_count++;
  c->next_try_at = 0;
  c->message[0] = '\0';
  c->state = CTRSTATE_CREATING;
  return 0;
}

static int act_backoff(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  if (refuse_if_stopping(c, ev, err) < 0)
    return -1;
  int64_t ms = (ev->next_try_at - ev->time) / 1000000;
  if (ms < 0)
    ms = 0;
  if (ms % 1000 == 0)
    snprintf(c->message, sizeof c->message, "back-off %llds restarting failed container=%s",
             (long long)(ms / 1000), c->name);
  else
    snprintf(c->message, sizeof c->message, "back-off %lldms restarting failed container=%s", (long long)ms,
             c->name);
  c->next_try_at = ev->next_try_at;
  c->state = CTRSTATE_BACKOFF;
  return 0;
}

static int act_start_limit(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  if (ev->message != NULL && ev->message[0] != '\0')
    copy_str(c->message, sizeof c->message, ev->message);
  else
    snprintf(c->message, sizeof c->message, "start limit reached: container=%s is not restarted", c->name);
  c->next_try_at = 0;
  c->state = CTRSTATE_START_LIMIT;
  return 0;
}

static int act_stop(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)ev;
  (void)err;
  c->stop_requested = true;
  switch (c->state) {
  case CTRSTATE_RUNNING:
    c->state = CTRSTATE_STOPPING;
    c->ready = false;
    break;
  case CTRSTATE_BACKOFF:
  case CTRSTATE_START_LIMIT:
    /* Nothing will restart it: show the last termination as the state. */
    c->state = CTRSTATE_TERMINATED;
    c->next_try_at = 0;
    c->message[0] = '\0';
    break;
  default: break;
  }
  return 0;
}

static int act_liveness_failed(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  c->state = CTRSTATE_STOPPING;
  c->liveness_kill = true;
  c->ready = false;
  if (ev->message != NULL && ev->message[0] != '\0')
    copy_str(c->message, sizeof c->message, ev->message);
  else
    snprintf(c->message, sizeof c->message, "container %s failed liveness probe, will be restarted", c->name);
  return 0;
}

static int act_readiness(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  c->ready = ev->ok && c->started;
  return 0;
}

static int act_startup_succeeded(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)ev;
  (void)err;
  c->started = true;
  if (!c->has_readiness_probe)
    c->ready = true;
  return 0;
}

/* ---- the state x event table: NULL = not valid in that state ---- */

#define S(x) [CTRSTATE_##x]
#define E(x) [CTRSTATE_EV_##x]

static action_fn *const table[CTRSTATE_STATE_COUNT][CTRSTATE_EVENT_COUNT] = {
    S(WAITING_INIT) = {E(CREATED) = act_created, E(START_FAILED) = act_start_failed,
                       E(STOP_REQUESTED) = act_stop},
    S(CREATING) = {E(CREATED) = act_created, E(START_FAILED) = act_start_failed,
                   E(STOP_REQUESTED) = act_stop},
    /* CREATED covers a process that runs its postStart hook: it may exit, or
     * be killed because the hook failed, before it counts as started. */
    S(CREATED) = {E(STARTED) = act_started, E(START_FAILED) = act_start_failed, E(EXITED) = act_exited,
                  E(STOP_REQUESTED) = act_stop, E(LIVENESS_FAILED) = act_liveness_failed},
    S(RUNNING) = {E(EXITED) = act_exited, E(STOP_REQUESTED) = act_stop,
                  E(LIVENESS_FAILED) = act_liveness_failed, E(READINESS) = act_readiness,
                  E(STARTUP_SUCCEEDED) = act_startup_succeeded},
    S(STOPPING) = {E(EXITED) = act_exited, E(STOP_REQUESTED) = act_stop},
    S(TERMINATED) = {E(RESTART) = act_restart, E(BACKOFF) = act_backoff, E(START_LIMIT) = act_start_limit,
                     E(STOP_REQUESTED) = act_stop},
    S(BACKOFF) = {E(RESTART) = act_restart, E(BACKOFF_EXPIRED) = act_restart,
                  E(START_LIMIT) = act_start_limit, E(STOP_REQUESTED) = act_stop},
    S(START_LIMIT) = {E(RESTART) = act_restart, E(STOP_REQUESTED) = act_stop},
};

#undef S
#undef E

bool ctrstate_accepts(ctrstate_state s, ctrstate_event_kind kind) {
  if ((unsigned)s >= CTRSTATE_STATE_COUNT || (unsigned)kind >= CTRSTATE_EVENT_COUNT)
    return false;
  return table[s][kind] != NULL;
}

int ctrstate_apply(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  if (!ctrstate_accepts(c->state, ev->kind))
    return pv_err_set(err, EINVAL, "container %s: event %s is not valid in state %s", c->name,
                      ctrstate_event_name(ev->kind), ctrstate_state_name(c->state));
  /* Actions validate before they modify, so a refusal leaves c unchanged. */
  return table[c->state][ev->kind](c, ev, err);
}

const ctrstate_term *ctrstate_last_state(const ctrstate *c) {
  if (c->state == CTRSTATE_BACKOFF || c->state == CTRSTATE_START_LIMIT)
    return &c->term;
  return c->has_last ? &c->last : NULL;
}

static backoff_exit term_exit(const ctrstate_term *t) {
  backoff_exit x = {t->exit_code, t->signal, t->reason == CTRSTATE_TERM_OOMKILLED};
  return x;
}

bool ctrstate_is_final(const ctrstate *c, backoff_policy policy) {
  switch (c->state) {
  case CTRSTATE_RUNNING:
  case CTRSTATE_STOPPING: return false;
  case CTRSTATE_START_LIMIT: return true;
  case CTRSTATE_TERMINATED: {
    if (c->stop_requested)
      return true;
    backoff_exit x = term_exit(&c->term);
    return backoff_restart_decide(policy, c->kind, &x) != BACKOFF_RESTART;
  }
  default: return c->stop_requested;
  }
}

/* ---- names ---- */

static const char *const state_names[] = {"WaitingInit", "Creating",   "Created", "Running",
                                          "Stopping",    "Terminated", "Backoff", "StartLimit"};
static const char *const event_names[] = {
    "created",         "started",     "start_failed",   "exited",          "restart",   "backoff",
    "backoff_expired", "start_limit", "stop_requested", "liveness_failed", "readiness", "startup_succeeded"};
static const char *const term_names[] = {"Completed", "Error", "OOMKilled", "StartError"};
static const char *const phase_names[] = {"Pending", "Running", "Succeeded", "Failed"};
static const char *const cond_names[] = {"PodScheduled", "Initialized", "ContainersReady", "Ready"};

#define NAME_OF(arr, i) ((unsigned)(i) < sizeof arr / sizeof arr[0] ? arr[i] : "Unknown")

static int parse_name(const char *const *names, size_t n, const char *s, int *out) {
  for (size_t i = 0; s != NULL && i < n; i++) {
    if (strcmp(names[i], s) == 0) {
      *out = (int)i;
      return 0;
    }
  }
  errno = EINVAL;
  return -1;
}

#define PARSE_INTO(arr, s, out)                                                                              \
  do {                                                                                                       \
    int v_;                                                                                                  \
    if (parse_name(arr, sizeof arr / sizeof arr[0], s, &v_) < 0)                                             \
      return -1;                                                                                             \
    *(out) = v_;                                                                                             \
    return 0;                                                                                                \
  } while (0)

const char *ctrstate_state_name(ctrstate_state s) {
  return NAME_OF(state_names, s);
}
const char *ctrstate_event_name(ctrstate_event_kind k) {
  return NAME_OF(event_names, k);
}
const char *ctrstate_term_reason_name(ctrstate_term_reason r) {
  return NAME_OF(term_names, r);
}
const char *ctrstate_phase_name(ctrstate_phase p) {
  return NAME_OF(phase_names, p);
}
const char *ctrstate_cond_name(ctrstate_cond_type t) {
  return NAME_OF(cond_names, t);
}
int ctrstate_state_parse(const char *s, ctrstate_state *out) {
  PARSE_INTO(state_names, s, out);
}
int ctrstate_term_reason_parse(const char *s, ctrstate_term_reason *out) {
  PARSE_INTO(term_names, s, out);
}
int ctrstate_phase_parse(const char *s, ctrstate_phase *out) {
  PARSE_INTO(phase_names, s, out);
}
int ctrstate_cond_parse(const char *s, ctrstate_cond_type *out) {
  PARSE_INTO(cond_names, s, out);
}

const char *ctrstate_waiting_reason(const ctrstate *c) {
  switch (c->state) {
  case CTRSTATE_WAITING_INIT: return "PodInitializing";
  case CTRSTATE_CREATING:
  case CTRSTATE_CREATED: return "ContainerCreating";
  case CTRSTATE_BACKOFF: return "CrashLoopBackOff";
  case CTRSTATE_START_LIMIT: return BACKOFF_START_LIMIT_REASON;
  default: return NULL;
  }
}

/* ---- the pod ---- */

int ctrstate_pod_init(ctrstate_pod *p, backoff_policy policy, size_t n_init, size_t n_app, pv_err *err) {
  memset(p, 0, sizeof *p);
  p->policy = policy;
  p->init = n_init ? calloc(n_init, sizeof *p->init) : NULL;
  p->app = n_app ? calloc(n_app, sizeof *p->app) : NULL;
  if ((n_init && p->init == NULL) || (n_app && p->app == NULL)) {
    ctrstate_pod_free(p);
    return pv_err_set(err, ENOMEM, "pod status: out of memory for %zu containers", n_init + n_app);
  }
  p->n_init = n_init;
  p->n_app = n_app;
  for (size_t i = 0; i < n_init; i++)
    ctrstate_init(&p->init[i], "", BACKOFF_KIND_INIT, false);
  for (size_t i = 0; i < n_app; i++)
    ctrstate_init(&p->app[i], "", BACKOFF_KIND_APP, false);
  return 0;
}

void ctrstate_pod_free(ctrstate_pod *p) {
  if (p == NULL)
    return;
  free(p->init);
  free(p->app);
  p->init = p->app = NULL;
  p->n_init = p->n_app = 0;
}

/* How kubelet would see a container: its Kubernetes state, and for a
 * Waiting one whether a previous termination exists. */
typedef enum { VIEW_WAITING, VIEW_WAITING_AFTER_EXIT, VIEW_RUNNING, VIEW_TERMINATED } view;

static view view_of(const ctrstate *c) {
  switch (c->state) {
  case CTRSTATE_RUNNING:
  case CTRSTATE_STOPPING: return VIEW_RUNNING;
  case CTRSTATE_TERMINATED: return VIEW_TERMINATED;
  case CTRSTATE_BACKOFF:
  case CTRSTATE_START_LIMIT: return VIEW_WAITING_AFTER_EXIT;
  default: return c->has_last ? VIEW_WAITING_AFTER_EXIT : VIEW_WAITING;
  }
}

static bool term_failed(const ctrstate_term *t) {
  return t->reason != CTRSTATE_TERM_COMPLETED || t->exit_code != 0;
}

static bool has_ever_run(const ctrstate *c) {
  return view_of(c) != VIEW_WAITING;
}

static bool any_app_started(const ctrstate_pod *p) {
  for (size_t i = 0; i < p->n_app; i++)
    if (has_ever_run(&p->app[i]))
      return true;
  return false;
}

typedef struct phase_counts {
  int pending_init, pending_sidecar, failed_init, final_failed_init;
  int running, waiting, stopped, succeeded;
} phase_counts;

static void count_init(const ctrstate_pod *p, phase_counts *n) {
  for (size_t i = 0; i < p->n_init; i++) {
    const ctrstate *c = &p->init[i];
    view v = view_of(c);
    const ctrstate_term *last = ctrstate_last_state(c);
    if (c->kind == BACKOFF_KIND_SIDECAR) {
      /* A sidecar holds initialization back until it has started; once down
       * after a run it no longer counts (kubelet ignores it). */
      if (v == VIEW_RUNNING) {
        n->running++;
        if (!c->started)
          n->pending_sidecar++;
      } else if (v == VIEW_WAITING) {
        n->pending_sidecar++;
      }
      continue;
    }
    bool failed = (v == VIEW_TERMINATED && term_failed(&c->term)) ||
                  (v == VIEW_WAITING_AFTER_EXIT && last != NULL && term_failed(last));
    if (failed) {
      n->failed_init++;
      /* podvisor's addition: an init container that will never run again
       * (start limit, pod stopping) fails the pod under any policy. */
      if (ctrstate_is_final(c, p->policy))
        n->final_failed_init++;
    } else if (v == VIEW_RUNNING || v == VIEW_WAITING) {
      n->pending_init++;
    }
  }
}

static void count_app(const ctrstate_pod *p, phase_counts *n) {
  for (size_t i = 0; i < p->n_app; i++) {
    const ctrstate *c = &p->app[i];
    switch (view_of(c)) {
    case VIEW_RUNNING: n->running++; break;
    case VIEW_TERMINATED:
      n->stopped++;
      if (!term_failed(&c->term))
        n->succeeded++;
      break;
    case VIEW_WAITING_AFTER_EXIT: n->stopped++; break;
    case VIEW_WAITING: n->waiting++; break;
    }
  }
}

/* Terminal: every app container is down for good and no sidecar runs, so no
 * container will ever run again in this pod. */
static bool pod_terminal(const ctrstate_pod *p) {
  if (p->n_app == 0)
    return false;
  for (size_t i = 0; i < p->n_app; i++)
    if (!ctrstate_is_final(&p->app[i], p->policy))
      return false;
  for (size_t i = 0; i < p->n_init; i++)
    if (view_of(&p->init[i]) == VIEW_RUNNING)
      return false;
  return true;
}

ctrstate_phase ctrstate_pod_phase(const ctrstate_pod *p) {
  phase_counts n = {0};
  count_init(p, &n);
  count_app(p, &n);
  if (n.failed_init > 0 && (p->policy == BACKOFF_POLICY_NEVER || n.final_failed_init > 0))
    return CTRSTATE_PHASE_FAILED;
  /* Once an app container has run, a restarting sidecar does not put the pod
   * back into Pending. */
  if (n.pending_init > 0 || (n.pending_sidecar > 0 && !any_app_started(p)) || n.waiting > 0)
    return CTRSTATE_PHASE_PENDING;
  if (n.running > 0)
    return CTRSTATE_PHASE_RUNNING;
  if (n.stopped > 0) {
    if (pod_terminal(p))
      return n.stopped == n.succeeded ? CTRSTATE_PHASE_SUCCEEDED : CTRSTATE_PHASE_FAILED;
    if (p->policy == BACKOFF_POLICY_ALWAYS)
      return CTRSTATE_PHASE_RUNNING; /* all restarting */
    if (n.stopped == n.succeeded)
      return CTRSTATE_PHASE_SUCCEEDED;
    return p->policy == BACKOFF_POLICY_NEVER ? CTRSTATE_PHASE_FAILED : CTRSTATE_PHASE_RUNNING;
  }
  return CTRSTATE_PHASE_PENDING;
}

static bool pod_initialized(const ctrstate_pod *p) {
  if (any_app_started(p))
    return true; /* initialization, once done, is not undone by a restarting sidecar */
  for (size_t i = 0; i < p->n_init; i++) {
    const ctrstate *c = &p->init[i];
    if (c->kind == BACKOFF_KIND_SIDECAR) {
      if (view_of(c) != VIEW_RUNNING || !c->started)
        return false;
    } else if (c->state != CTRSTATE_TERMINATED || term_failed(&c->term)) {
      return false;
    }
  }
  return true;
}

static bool pod_containers_ready(const ctrstate_pod *p) {
  if (p->n_app == 0)
    return false;
  for (size_t i = 0; i < p->n_app; i++)
    if (!p->app[i].ready)
      return false;
  /* Sidecars count too, as they do in Kubernetes since 1.29. */
  for (size_t i = 0; i < p->n_init; i++)
    if (p->init[i].kind == BACKOFF_KIND_SIDECAR && !p->init[i].ready)
      return false;
  return true;
}

bool ctrstate_pod_update(ctrstate_pod *p, int64_t now) {
  bool changed = false;
  ctrstate_phase phase = ctrstate_pod_phase(p);
  if (phase != p->phase) {
    p->phase = phase;
    changed = true;
  }
  if (p->start_time == 0) {
    p->start_time = now;
    changed = true;
  }
  bool ready = pod_containers_ready(p);
  bool want[CTRSTATE_COND_COUNT] = {
      [CTRSTATE_COND_POD_SCHEDULED] = true,
      [CTRSTATE_COND_INITIALIZED] = pod_initialized(p),
      [CTRSTATE_COND_CONTAINERS_READY] = ready,
      [CTRSTATE_COND_READY] = ready,
  };
  for (int i = 0; i < CTRSTATE_COND_COUNT; i++) {
    if (p->cond[i].last_transition == 0 || p->cond[i].status != want[i]) {
      p->cond[i].status = want[i];
      p->cond[i].last_transition = now;
      changed = true;
    }
  }
  return changed;
}
