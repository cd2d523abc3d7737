/*
 * keeper_internal.h - the keeper's own structures, shared by its three
 * files: keeper.c (the dispatcher: every event, every state change),
 * keeper_api.c (set-up, tear-down and the calls of keeper.h, which check
 * and post events, and never change a container's state themselves) and
 * kfinish.c (what leaves the keeper: the status, the closed runs, the pod's
 * end; called by the dispatcher only).  Not an API: nothing outside
 * keeper*.c and kfinish.c includes it.
 */
#ifndef PODVISOR_SHIM_KEEPER_INTERNAL_H
#define PODVISOR_SHIM_KEEPER_INTERNAL_H

#include "supervisor/shim/backoff.h"
#include "supervisor/shim/keeper.h"
#include "supervisor/shim/kevent.h"
#include "supervisor/shim/kpending.h"
#include "supervisor/shim/kprobe.h"
#include "supervisor/shim/krun.h"

/* A pod spec and how many hold it: the keeper (its current one), each
 * container (the spec it runs next) and each run (the spec it runs). */
typedef struct kpod {
  spec_pod *p;
  unsigned refs;
  struct kpod *next;
} kpod;

typedef struct kctr {
  keeper *k;
  size_t index;
  ctrstate *st;
  const spec_container *spec;
  kpod *pod;
  backoff_state bo;
  krun *run;       /* the current run, NULL when none */
  unsigned serial; /* runs started */
  uv_timer_t backoff_timer;
  uv_timer_t kill_timer; /* the run's SIGKILL deadline */
  kprobes probes;
  int64_t started_ms;
  int64_t exit_seen_ns;   /* when the last exit was reaped */
  int64_t restart_gap_ns; /* last reaped exit → next start returned */
  /* Log health over every run (KEV_LOG, kstatus.h). */
  uint64_t log_dropped, log_episode_base; /* base: log_dropped when the episode began */
  int log_error;
  int64_t log_failing_since, log_resumed_at;
} kctr;

typedef enum { KEEPER_RUNNING, KEEPER_STOPPING, KEEPER_CLOSING, KEEPER_CLOSED } keeper_phase;

struct keeper {
  keeper_config cfg;
  kpod *pods; /* every spec still held */
  kpod *cur;  /* the pod's own: its pod-level fields rule */
  ctrstate_pod status;
  backoff_config bo_cfg;
  kctr *ctrs; /* n_init then the app containers */
  size_t n_ctrs, n_init;
  krun *runs; /* every run not yet freed, current or draining its logs */
  kevq q;
  kpending pending;
  uv_timer_t stop_timer; /* the pod's SIGKILL deadline */
  keeper_phase phase;
  bool pod_failed, dirty, stepping;
  int64_t stop_deadline_ms;
  int closing; /* handles still closing once the pod is down */
  char sandbox_error[256];
};

static inline const spec_pod *cur_pod(const keeper *k) {
  return k->cur->p;
}

/* keeper.c, for keeper_api.c. */
int64_t keeper_now_ns(void);
kpod *keeper_pod_push(keeper *k, spec_pod *p);
void keeper_pod_unref(keeper *k, kpod *kp);
/* Applies one event to c's state (a refusal is logged) and marks the
 * status for rendering. */
void keeper_apply(kctr *c, ctrstate_event ev);
bool keeper_accepts(const kctr *c, ctrstate_event_kind kind);
kctr *keeper_find(keeper *k, const char *name);
/* c runs spec (of kp) from its next start on. */
void keeper_set_spec(kctr *c, kpod *kp, const spec_container *spec);
/* The queue's drain: one step. */
void keeper_step(void *ctx);
void keeper_on_backoff_timer(uv_timer_t *t);

/* kfinish.c, for keeper.c. */
/* Hands the status to keeper_config.on_status when it changed. */
void keeper_render(keeper *k);
/* Once the pod is stopping and every container is down: closes the
 * draining log pipes, waits for the runs and the pending cgroups, renders
 * the final status, closes every handle (on_done once the last is closed). */
void keeper_finish(keeper *k);
/* Run r finished closing (KEV_RUN_CLOSED): unlinked and freed. */
void keeper_run_closed(keeper *k, krun *r);

#endif
