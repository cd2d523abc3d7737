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

void ctrstate_set_spec(ctrstate *c, const char *image, const char *spec_hash, bool has_startup_probe,
                       bool has_readiness_probe) {
  copy_str(c->image, sizeof c->image, image);
  copy_str(c->spec_hash, sizeof c->spec_hash, spec_hash);
  c->has_startup_probe = has_startup_probe;
  c->has_readiness_probe = has_readiness_probe;
}

bool ctrstate_is_live(ctrstate_state s) {
  return s == CTRSTATE_CREATED || s == CTRSTATE_RUNNING || s == CTRSTATE_PRE_STOP || s == CTRSTATE_STOPPING ||
         s == CTRSTATE_KILLING;
}

/* ---- actions: each one is a transition of the table below ---- */

typedef int action_fn(ctrstate *c, const ctrstate_event *ev, pv_err *err);

static int act_created(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  if (ev->id != NULL)
    copy_str(c->id, sizeof c->id, ev->id);
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
  c->ever_started = c->ever_started || c->started;
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

/* Why the run that just ended ended.  A probe's kill counts only once its
 * SIGTERM was sent: a run that ended while its preStop hook ran, or with its
 * hook, ended by itself. */
static ctrstate_cause exit_cause(const ctrstate *c) {
  bool signalled = c->state == CTRSTATE_STOPPING || c->state == CTRSTATE_KILLING;
  if (c->restart_requested)
    return CTRSTATE_BY_RESTART;
  if (c->liveness_kill && signalled)
    return CTRSTATE_BY_PROBE;
  if (c->stop_requested)
    return CTRSTATE_BY_POD_STOP;
  return CTRSTATE_BY_ITSELF;
}

static int act_exited(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  const backoff_exit *x = &ev->exit;
  ctrstate_cause by = exit_cause(c);
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
  if (by == CTRSTATE_BY_PROBE)
    copy_str(c->term.message, sizeof c->term.message, c->message);
  c->exit_by = by;
  c->ever_completed = c->ever_completed || c->term.reason == CTRSTATE_TERM_COMPLETED;
  c->state = CTRSTATE_TERMINATED;
  c->pid = 0;
  c->started_at = 0;
  c->stop_deadline = 0;
  c->ready = c->started = c->liveness_kill = c->restart_requested = false;
  return 0;
}

/* The message a BACKOFF shows for a wait from time until next_try_at. */
static void backoff_message(ctrstate *c, int64_t time, int64_t next_try_at) {
  int64_t ms = (next_try_at - time) / 1000000;
  if (ms < 0)
    ms = 0;
  if (ms % 1000 == 0)
    snprintf(c->message, sizeof c->message, "back-off %llds restarting failed container=%s",
             (long long)(ms / 1000), c->name);
  else
    snprintf(c->message, sizeof c->message, "back-off %lldms restarting failed container=%s", (long long)ms,
             c->name);
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
  backoff_message(c, ev->time, ev->next_try_at);
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

/* The pod stops: nothing restarts any more.  A live run keeps running until
 * its own KILL (sidecars stop after the app containers); a waiting one
 * shows its last termination as its state. */
static int act_stop(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)ev;
  (void)err;
  c->stop_requested = true;
  switch (c->state) {
  case CTRSTATE_RUNNING:
  case CTRSTATE_PRE_STOP:
  case CTRSTATE_STOPPING:
  case CTRSTATE_KILLING: c->ready = false; break;
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

static int act_kill(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  c->state = ev->hook ? CTRSTATE_PRE_STOP : CTRSTATE_STOPPING;
  c->stop_deadline = ev->deadline;
  c->ready = false;
  switch (ev->cause) {
  case CTRSTATE_BY_PROBE:
    c->liveness_kill = true;
    if (ev->message != NULL && ev->message[0] != '\0')
      copy_str(c->message, sizeof c->message, ev->message);
    else
      snprintf(c->message, sizeof c->message, "container %s failed liveness probe, will be restarted",
               c->name);
    break;
  case CTRSTATE_BY_RESTART: c->restart_requested = true; break;
  case CTRSTATE_BY_POD_STOP: c->stop_requested = true; break;
  case CTRSTATE_BY_ITSELF: break;
  }
  return 0;
}

static int act_restart_requested(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)ev;
  (void)err;
  c->restart_requested = true;
  return 0;
}

static int act_hook_done(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  c->state = CTRSTATE_STOPPING;
  /* Ended with its hook: the pod's pid namespace died under both, so no
   * signal of the shim's ended it (see exit_cause). */
  if (ev->gone)
    c->liveness_kill = false;
  return 0;
}

static int act_hook_expired(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)err;
  c->state = CTRSTATE_STOPPING;
  c->stop_deadline = ev->deadline;
  return 0;
}

static int act_kill_deadline(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  (void)ev;
  (void)err;
  c->state = CTRSTATE_KILLING;
  c->stop_deadline = 0;
  c->ready = false;
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
  c->started = c->ever_started = true;
  if (!c->has_readiness_probe)
    c->ready = true;
  return 0;
}

/* Live when its keeper died: still so in the status, or marked ShimDied
 * by whoever saw the keeper die. */
static bool was_live(const ctrstate *o) {
  return o->state == CTRSTATE_RUNNING || o->state == CTRSTATE_PRE_STOP || o->state == CTRSTATE_STOPPING ||
         o->state == CTRSTATE_KILLING ||
         (o->state == CTRSTATE_TERMINATED && o->term.reason == CTRSTATE_TERM_SHIM_DIED);
}

static void take_last(ctrstate *c, const ctrstate *o) {
  c->last = o->last;
  c->has_last = o->has_last;
}

/* See "A successor's view" in ctrstate.h.  The container keeps its own
 * identity (name, image, hash, kind, probes); only its history comes over. */
static int act_restore(ctrstate *c, const ctrstate_event *ev, pv_err *err) {
  const ctrstate *o = ev->prev;
  if (o == NULL)
    return pv_err_set(err, EINVAL, "container %s: restore without a previous state", c->name);
  c->restart_count = o->restart_count;
  if (was_live(o)) {
    /* It died with its shim (PR_SET_PDEATHSIG SIGKILL). */
    bool marked = o->state == CTRSTATE_TERMINATED;
    ctrstate_term t = {.reason = marked ? CTRSTATE_TERM_SHIM_DIED : CTRSTATE_TERM_ERROR,
                       .exit_code = 137,
                       .signal = 9,
                       .started_at = marked ? o->term.started_at : o->started_at,
                       .finished_at = marked && o->term.finished_at ? o->term.finished_at : ev->time};
    backoff_exit x = {.exit_code = 137, .signal = 9};
    if (backoff_restart_decide(ev->policy, c->kind, &x) == BACKOFF_RESTART) {
      if (c->restart_count < UINT32_MAX)
        c->restart_count++;
      c->last = t;
      c->has_last = true;
      return 0; /* starts again, as a new run */
    }
    take_last(c, o);
    c->term = t;
    c->state = CTRSTATE_TERMINATED;
    return 0;
  }
  if (o->state == CTRSTATE_TERMINATED && !o->stop_requested && ctrstate_is_final(o, ev->policy)) {
    take_last(c, o);
    c->term = o->term;
    c->state = CTRSTATE_TERMINATED;
    return 0;
  }
  if ((o->state == CTRSTATE_BACKOFF || o->state == CTRSTATE_START_LIMIT) && !o->stop_requested) {
    /* It waits the way its predecessor did, the last exit as its state. */
    take_last(c, o);
    c->term = o->term;
    if (o->state == CTRSTATE_START_LIMIT) {
      copy_str(c->message, sizeof c->message, o->message);
      c->state = CTRSTATE_START_LIMIT;
      return 0;
    }
    c->next_try_at = o->next_try_at > ev->time ? o->next_try_at : ev->time;
    backoff_message(c, ev->time, c->next_try_at);
    c->state = CTRSTATE_BACKOFF;
    return 0;
  }
  /* Anything else starts afresh, with its last termination kept. */
  const ctrstate_term *last = o->state == CTRSTATE_TERMINATED ? &o->term : ctrstate_last_state(o);
  if (last != NULL) {
    c->last = *last;
    c->has_last = true;
  }
  return 0;
}

/* ---- the state x event table: NULL = not valid in that state ---- */

#define S(x) [CTRSTATE_##x]
#define E(x) [CTRSTATE_EV_##x]

static action_fn *const table[CTRSTATE_STATE_COUNT][CTRSTATE_EVENT_COUNT] = {
    S(WAITING_INIT) = {E(CREATED) = act_created, E(START_FAILED) = act_start_failed,
                       E(STOP_REQUESTED) = act_stop, E(RESTORE) = act_restore},
    S(CREATING) = {E(CREATED) = act_created, E(START_FAILED) = act_start_failed, E(STOP_REQUESTED) = act_stop,
                   E(RESTORE) = act_restore},
    /* CREATED covers a process that runs its postStart hook: it may exit, or
     * be killed because the hook failed, before it counts as started. */
    S(CREATED) = {E(STARTED) = act_started, E(START_FAILED) = act_start_failed, E(EXITED) = act_exited,
                  E(STOP_REQUESTED) = act_stop, E(KILL) = act_kill, E(KILL_DEADLINE) = act_kill_deadline},
    S(RUNNING) = {E(EXITED) = act_exited, E(STOP_REQUESTED) = act_stop, E(KILL) = act_kill,
                  E(KILL_DEADLINE) = act_kill_deadline, E(READINESS) = act_readiness,
                  E(STARTUP_SUCCEEDED) = act_startup_succeeded},
    S(PRE_STOP) = {E(EXITED) = act_exited, E(STOP_REQUESTED) = act_stop,
                   E(RESTART_REQUESTED) = act_restart_requested, E(HOOK_DONE) = act_hook_done,
                   E(HOOK_EXPIRED) = act_hook_expired, E(KILL_DEADLINE) = act_kill_deadline},
    S(STOPPING) = {E(EXITED) = act_exited, E(STOP_REQUESTED) = act_stop,
                   E(RESTART_REQUESTED) = act_restart_requested, E(KILL_DEADLINE) = act_kill_deadline},
    S(KILLING) = {E(EXITED) = act_exited, E(STOP_REQUESTED) = act_stop,
                  E(RESTART_REQUESTED) = act_restart_requested},
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
  case CTRSTATE_CREATED:
  case CTRSTATE_RUNNING:
  case CTRSTATE_PRE_STOP:
  case CTRSTATE_STOPPING:
  case CTRSTATE_KILLING: return false;
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

static const char *const state_names[] = {"WaitingInit", "Creating", "Created",    "Running", "PreStop",
                                          "Stopping",    "Killing",  "Terminated", "Backoff", "StartLimit"};
static const char *const event_names[] = {
    "created",           "started",         "start_failed", "exited",         "restart",
    "backoff",           "backoff_expired", "start_limit",  "stop_requested", "kill",
    "restart_requested", "hook_done",       "hook_expired", "kill_deadline",  "readiness",
    "startup_succeeded", "restore"};
static const char *const cause_names[] = {"ItSelf", "PodStop", "Probe", "Restart"};
_Static_assert(sizeof state_names / sizeof state_names[0] == CTRSTATE_STATE_COUNT, "a name per state");
_Static_assert(sizeof event_names / sizeof event_names[0] == CTRSTATE_EVENT_COUNT, "a name per event");
static const char *const term_names[] = {"Completed", "Error", "OOMKilled", "StartError", "ShimDied"};
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
const char *ctrstate_cause_name(ctrstate_cause c) {
  return NAME_OF(cause_names, c);
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

void ctrstate_pod_set_identity(ctrstate_pod *p, int shim_pid, const char *spec_hash) {
  p->shim_pid = shim_pid;
  copy_str(p->spec_hash, sizeof p->spec_hash, spec_hash);
}

/* How kubelet would see a container: its Kubernetes state, and for a
 * Waiting one whether a previous termination exists. */
typedef enum { VIEW_WAITING, VIEW_WAITING_AFTER_EXIT, VIEW_RUNNING, VIEW_TERMINATED } view;

static view view_of(const ctrstate *c) {
  switch (c->state) {
  case CTRSTATE_RUNNING:
  case CTRSTATE_PRE_STOP:
  case CTRSTATE_STOPPING:
  case CTRSTATE_KILLING: return VIEW_RUNNING;
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
