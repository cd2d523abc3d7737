/* shim_pending.c - the pod's pending cgroups on the loop.
 *
 * In a shareProcessNamespace pod a container's init has no pid namespace
 * of its own, so processes it started may outlive it; destroy_deferred
 * SIGKILLs them and, rather than wait for them to die, leaves their cgroup
 * pending in the container manager (container.h).  A timer then calls
 * container_manager_collect(): 5 ms after the exit (a SIGKILLed process
 * usually is gone by then), then doubling up to 320 ms for one that takes
 * longer.  A cgroup that never empties is retried at that pace for as long
 * as the pod runs, and logged once after 10 s.
 *
 * The pod is down only when its cgroups are: shim_maybe_finish() waits for
 * the pending list before the final tear-down, at most 5 s, then logs what
 * it leaves behind and goes on. */
#include <stdio.h>

#include "supervisor/shim/shim_internal.h"

#define COLLECT_FIRST_MS 5
#define COLLECT_MAX_MS 320
#define PENDING_LOG_AFTER_MS 10000
#define PENDING_STOP_BOUND_MS 5000

static void on_collect_timer(uv_timer_t *t) {
  shim *sh = t->data;
  pv_err err;
  size_t left = container_manager_collect(sh->mgr, &err);
  int64_t now = shim_now_ms();
  if (left == 0) {
    sh->pending_since_ms = 0;
    sh->pending_logged = false;
    shim_maybe_finish(sh);
    return;
  }
  if (sh->pending_deadline_ms > 0 && now >= sh->pending_deadline_ms) {
    fprintf(stderr, "podvisor shim: pod %s: stopping with %zu cgroup(s) left behind after %d ms: %s\n",
            sh->pod->name, left, PENDING_STOP_BOUND_MS, pv_err_str(&err));
    sh->pending_gave_up = true;
    shim_maybe_finish(sh);
    return;
  }
  if (!sh->pending_logged && now - sh->pending_since_ms >= PENDING_LOG_AFTER_MS) {
    fprintf(stderr, "podvisor shim: pod %s: %s\n", sh->pod->name, pv_err_str(&err));
    sh->pending_logged = true;
  }
  uint64_t delay = sh->collect_delay_ms * 2;
  if (delay > COLLECT_MAX_MS)
    delay = COLLECT_MAX_MS;
  if (sh->pending_deadline_ms > 0 && (int64_t)delay > sh->pending_deadline_ms - now)
    delay = (uint64_t)(sh->pending_deadline_ms - now);
  sh->collect_delay_ms = delay;
  uv_timer_start(t, on_collect_timer, delay, 0);
}

void shim_pending_arm(shim *sh) {
  if (sh->closing || sh->mgr == NULL || container_manager_pending(sh->mgr) == 0)
    return;
  if (sh->pending_since_ms == 0)
    sh->pending_since_ms = shim_now_ms();
  /* A fresh survivor is likely gone within milliseconds: do not let it
   * wait for the slow pace an older one brought the timer to. */
  if (uv_is_active((uv_handle_t *)&sh->collect_timer) &&
      uv_timer_get_due_in(&sh->collect_timer) <= COLLECT_FIRST_MS)
    return;
  sh->collect_delay_ms = COLLECT_FIRST_MS;
  uv_timer_start(&sh->collect_timer, on_collect_timer, COLLECT_FIRST_MS, 0);
}

bool shim_pending_hold(shim *sh) {
  if (sh->pending_gave_up || sh->mgr == NULL || container_manager_pending(sh->mgr) == 0)
    return false;
  if (sh->pending_deadline_ms == 0)
    sh->pending_deadline_ms = shim_now_ms() + PENDING_STOP_BOUND_MS;
  if (!uv_is_active((uv_handle_t *)&sh->collect_timer))
    shim_pending_arm(sh);
  return true;
}
