/* keeper_api.c - the pod keeper's set-up, tear-down and calls (keeper.h):
 * they check what they can at once and post events; the dispatcher
 * (keeper.c) does the rest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec/duration.h"
#include "supervisor/shim/keeper_internal.h"
#include "supervisor/shim/kstatus.h"

static void init_ctr(keeper *k, kctr *c, size_t index, ctrstate *st, const spec_container *spec) {
  c->k = k;
  c->index = index;
  c->st = st;
  backoff_kind kind = !spec->is_init  ? BACKOFF_KIND_APP
                      : spec->sidecar ? BACKOFF_KIND_SIDECAR
                                      : BACKOFF_KIND_INIT;
  ctrstate_init(st, spec->name, kind, spec->is_init ? false : cur_pod(k)->n_init_containers > 0);
  keeper_set_spec(c, k->cur, spec);
  backoff_state_init(&c->bo);
  uv_timer_init(k->cfg.loop, &c->backoff_timer);
  uv_timer_init(k->cfg.loop, &c->kill_timer);
  c->backoff_timer.data = c->kill_timer.data = c;
  kprobes_init(&c->probes, k->cfg.loop, &k->q, &k->cfg.rt, index, k->cfg.devnull);
}

static void init_backoff(keeper *k, const spec_pod *p) {
  backoff_config_default(&k->bo_cfg);
  k->bo_cfg.initial_ms = (int64_t)p->backoff_initial_ms;
  k->bo_cfg.max_ms = (int64_t)p->backoff_max_ms;
  k->bo_cfg.reset_ms = (int64_t)p->backoff_reset_ms;
  /* spec/ refuses a start limit above what backoff_state can remember. */
  _Static_assert(SPEC_START_LIMIT_MAX <= BACKOFF_LIMIT_MAX, "start limit ring too small");
  k->bo_cfg.limit_starts = p->start_limit_count;
  k->bo_cfg.limit_window_ms = (int64_t)p->start_limit_window_ms;
  if (k->bo_cfg.max_ms < k->bo_cfg.initial_ms)
    k->bo_cfg.max_ms = k->bo_cfg.initial_ms;
}

int keeper_new(keeper **out, const keeper_config *cfg, spec_pod *pod, pv_err *err) {
  *out = NULL;
  keeper *k = calloc(1, sizeof *k);
  if (k == NULL || (k->cur = keeper_pod_push(k, pod)) == NULL) {
    free(k);
    spec_pod_free(pod);
    return pv_err_set(err, ENOMEM, "pod: out of memory");
  }
  k->cfg = *cfg;
  backoff_policy pol = pod->restart_policy == SPEC_RESTART_ALWAYS       ? BACKOFF_POLICY_ALWAYS
                       : pod->restart_policy == SPEC_RESTART_ON_FAILURE ? BACKOFF_POLICY_ON_FAILURE
                                                                        : BACKOFF_POLICY_NEVER;
  k->n_init = pod->n_init_containers;
  k->n_ctrs = pod->n_init_containers + pod->n_containers;
  k->ctrs = calloc(k->n_ctrs ? k->n_ctrs : 1, sizeof *k->ctrs);
  if (k->ctrs == NULL ||
      ctrstate_pod_init(&k->status, pol, pod->n_init_containers, pod->n_containers, err) < 0) {
    if (k->ctrs == NULL)
      pv_err_set(err, ENOMEM, "pod %s: out of memory", pod->name);
    free(k->ctrs);
    k->ctrs = NULL;
    keeper_free(k);
    return -1;
  }
  char hash[CTRSTATE_HASH_MAX];
  snprintf(hash, sizeof hash, "sha256:%s", pod->hash);
  ctrstate_pod_set_identity(&k->status, (int)getpid(), hash);
  init_backoff(k, pod);
  kevq_init(&k->q, cfg->loop, keeper_step, k);
  kpending_init(&k->pending, cfg->loop, &k->q, &k->cfg.rt, pod->name);
  uv_timer_init(cfg->loop, &k->stop_timer);
  k->stop_timer.data = k;
  for (size_t i = 0; i < pod->n_init_containers; i++)
    init_ctr(k, &k->ctrs[i], i, &k->status.init[i], &pod->init_containers[i]);
  for (size_t i = 0; i < pod->n_containers; i++)
    init_ctr(k, &k->ctrs[k->n_init + i], k->n_init + i, &k->status.app[i], &pod->containers[i]);
  *out = k;
  return 0;
}

void keeper_start(keeper *k, const ctrstate_pod *prev, const json_t *doc) {
  const ctrstate *lists[2] = {prev ? prev->init : NULL, prev ? prev->app : NULL};
  size_t ns[2] = {prev ? prev->n_init : 0, prev ? prev->n_app : 0};
  int64_t now = keeper_now_ns();
  for (int l = 0; l < 2; l++)
    for (size_t i = 0; i < ns[l]; i++) {
      const ctrstate *o = &lists[l][i];
      kctr *c = keeper_find(k, o->name);
      if (c == NULL)
        continue;
      kstatus_backoff_restore(doc, o->name, &c->bo);
      kstatus_log_restore(doc, o->name, &c->log_dropped, &c->log_resumed_at);
      keeper_apply(c, (ctrstate_event){
                          .kind = CTRSTATE_EV_RESTORE, .prev = o, .policy = k->status.policy, .time = now});
      if (c->st->state == CTRSTATE_BACKOFF) {
        int64_t left_ms = (c->st->next_try_at - now) / 1000000;
        uv_timer_start(&c->backoff_timer, keeper_on_backoff_timer, left_ms > 0 ? (uint64_t)left_ms : 0, 0);
      } else if (c->st->state == CTRSTATE_TERMINATED) {
        backoff_exit x = {c->st->term.exit_code, c->st->term.signal,
                          c->st->term.reason == CTRSTATE_TERM_OOMKILLED};
        if (backoff_restart_decide(k->status.policy, c->st->kind, &x) == BACKOFF_FAIL_POD)
          k->pod_failed = true;
      }
    }
  k->dirty = true;
  kevq_post(&k->q, &(kevent){.kind = KEV_TOUCH});
}

void keeper_stop(keeper *k, int64_t grace_ms) {
  kevq_post(&k->q, &(kevent){.kind = KEV_STOP, .grace_ms = grace_ms});
}

/* Whether container c can restart now: the checks keeper_restart makes
 * before it asks for one. */
static int can_restart(keeper *k, const kctr *c, pv_err *err) {
  if (k->phase != KEEPER_RUNNING)
    return pv_err_set(err, ESHUTDOWN, "pod %s is stopping", cur_pod(k)->name);
  if (c->run != NULL) {
    if (c->st->stop_requested)
      return pv_err_set(err, ESHUTDOWN, "container %s is being stopped for good", c->st->name);
    return 0;
  }
  if (!keeper_accepts(c, CTRSTATE_EV_RESTART) || c->st->stop_requested)
    return pv_err_set(err, EINVAL, "container %s cannot restart now (%s)", c->st->name,
                      ctrstate_state_name(c->st->state));
  return 0;
}

int keeper_restart(keeper *k, const char *name, pv_err *err) {
  kctr *c = keeper_find(k, name);
  if (c == NULL)
    return pv_err_set(err, ENOENT, "pod %s has no container %s", cur_pod(k)->name, name ? name : "");
  if (can_restart(k, c, err) < 0)
    return -1;
  kevq_post(&k->q, &(kevent){.kind = KEV_RESTART, .ctr = c->index});
  return 0;
}

int keeper_update(keeper *k, const char *name, spec_pod *pod, pv_err *err) {
  kctr *c = keeper_find(k, name);
  int rc = 0;
  if (c == NULL)
    rc = pv_err_set(err, ENOENT, "pod %s has no container %s", cur_pod(k)->name, name ? name : "");
  else if (spec_pod_container(pod, name) == NULL)
    rc = pv_err_set(err, ENOENT, "the new spec of pod %s has no container %s", cur_pod(k)->name, name);
  else if (k->phase != KEEPER_RUNNING)
    rc = pv_err_set(err, ESHUTDOWN, "pod %s is stopping", cur_pod(k)->name);
  if (rc < 0) {
    spec_pod_free(pod);
    return rc;
  }
  kpod *kp = keeper_pod_push(k, pod);
  if (kp == NULL) {
    spec_pod_free(pod);
    return pv_err_set(err, ENOMEM, "pod %s: out of memory", cur_pod(k)->name);
  }
  /* The new spec is the pod's from now on (an update changes one container
   * of the pod's current spec, nothing else): the keeper's reference moves
   * to it; the event holds one more until it is handled, the container one
   * after that. */
  kp->refs++;
  kpod *old = k->cur;
  k->cur = kp;
  keeper_pod_unref(k, old);
  kevq_post(&k->q, &(kevent){.kind = KEV_UPDATE, .ctr = c->index, .pod = kp});
  return 0;
}

const char *keeper_sandbox_error(const keeper *k) {
  return k->sandbox_error;
}

bool keeper_left_behind(const keeper *k) {
  return k->pending.gave_up;
}

/* The container an exec can run in now, or NULL with err. */
static kctr *exec_target(keeper *k, const char *name, pv_err *err) {
  kctr *c = keeper_find(k, name);
  if (c == NULL) {
    pv_err_set(err, ENOENT, "pod %s has no container %s", cur_pod(k)->name, name ? name : "");
    return NULL;
  }
  if (k->phase != KEEPER_RUNNING) {
    pv_err_set(err, ESHUTDOWN, "pod %s is stopping", cur_pod(k)->name);
    return NULL;
  }
  ctrstate_state s = c->st->state;
  if (c->run == NULL || c->run->c == NULL ||
      (s != CTRSTATE_RUNNING && s != CTRSTATE_PRE_STOP && s != CTRSTATE_STOPPING)) {
    pv_err_set(err, EBUSY, "container %s is not running (%s)", c->st->name, ctrstate_state_name(s));
    return NULL;
  }
  return c;
}

int keeper_can_exec(keeper *k, const char *name, pv_err *err) {
  return exec_target(k, name, err) != NULL ? 0 : -1;
}

int keeper_exec(keeper *k, const char *name, runtime_exec *x, int *fd, pv_err *err) {
  kctr *c = exec_target(k, name, err);
  if (c == NULL)
    return -1;
  return k->cfg.rt.ops->exec(k->cfg.rt.ctx, c->run->c, x, fd, err);
}

void keeper_touch(keeper *k) {
  kevq_post(&k->q, &(kevent){.kind = KEV_TOUCH});
}

const spec_pod *keeper_pod(const keeper *k) {
  return cur_pod(k);
}

bool keeper_stopping(const keeper *k) {
  return k->phase != KEEPER_RUNNING;
}

void keeper_free(keeper *k) {
  if (k == NULL)
    return;
  for (size_t i = 0; k->ctrs != NULL && i < k->n_ctrs; i++)
    kprobes_free(&k->ctrs[i].probes);
  while (k->runs != NULL) {
    krun *r = k->runs;
    k->runs = r->next;
    krun_free(r);
  }
  free(k->ctrs);
  ctrstate_pod_free(&k->status);
  while (k->pods != NULL) {
    kpod *kp = k->pods;
    k->pods = kp->next;
    spec_pod_free(kp->p);
    free(kp);
  }
  free(k);
}
