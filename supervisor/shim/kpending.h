/*
 * kpending.h - the pod's pending cgroups on the loop, a leaf of the keeper.
 *
 * In a shareProcessNamespace pod a container's init has no pid namespace
 * of its own, so processes it started may outlive it; the runtime's destroy
 * SIGKILLs them and, rather than wait for them to die, leaves their cgroup
 * pending (container.h).  kpending_arm() after every destroy starts a timer
 * that calls the runtime's collect: 5 ms after the exit (a SIGKILLed process
 * is usually gone by then), then doubling up to 320 ms for one that takes
 * longer.  A cgroup that never empties is retried at that pace for as long
 * as the pod runs, and logged once after 10 s.
 *
 * The pod is down only when its cgroups are: while it stops, kpending_hold()
 * says whether the keeper must still wait, at most 5 s from the first time
 * it asked; then what is left behind is logged and the wait ends.  The
 * collector posts KEV_PENDING to the keeper's queue when nothing is left or
 * when it gave up, so that the keeper looks again.
 */
#ifndef PODVISOR_SHIM_KPENDING_H
#define PODVISOR_SHIM_KPENDING_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "supervisor/shim/kevent.h"
#include "supervisor/shim/runtime.h"

typedef struct kpending {
  uv_timer_t timer;
  kevq *q;
  const runtime *rt;
  const char *pod; /* its name, for the log */
  uint64_t delay_ms;
  int64_t since_ms;    /* pending since (0: none) */
  int64_t deadline_ms; /* the stopping pod waits until */
  bool logged, gave_up, closed;
} kpending;

void kpending_init(kpending *p, uv_loop_t *loop, kevq *q, const runtime *rt, const char *pod);
void kpending_arm(kpending *p);
bool kpending_hold(kpending *p);
void kpending_close(kpending *p, uv_close_cb cb);

#endif
