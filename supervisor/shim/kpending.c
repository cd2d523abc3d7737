/* kpending.c - the pod's pending cgroups on the loop (kpending.h). */
#include "supervisor/shim/kpending.h"

#include <stdio.h>
#include <time.h>

#define COLLECT_FIRST_MS 5
#define COLLECT_MAX_MS 320
#define PENDING_LOG_AFTER_MS 10000
#define PENDING_STOP_BOUND_MS 5000

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_timer(uv_timer_t *t) {
  kpending *p = t->data;
  pv_err err;
  pv_err_clear(&err);
  size_t left = p->rt->ops->collect(p->rt->ctx, &err);
  int64_t now = now_ms();
  if (left == 0) {
    p->since_ms = 0;
    p->logged = false;
    kevq_post(p->q, &(kevent){.kind = KEV_PENDING});
    return;
  }
  if (p->deadline_ms > 0 && now >= p->deadline_ms) {
    fprintf(stderr, "podvisor shim: pod %s: stopping with %zu cgroup(s) left behind after %d ms: %s\n",
            p->pod, left, PENDING_STOP_BOUND_MS, pv_err_str(&err));
    p->gave_up = true;
    kevq_post(p->q, &(kevent){.kind = KEV_PENDING});
    return;
  }
  if (!p->logged && now - p->since_ms >= PENDING_LOG_AFTER_MS) {
    fprintf(stderr, "podvisor shim: pod %s: %s\n", p->pod, pv_err_str(&err));
    p->logged = true;
  }
  uint64_t delay = p->delay_ms * 2;
  if (delay > COLLECT_MAX_MS)
    delay = COLLECT_MAX_MS;
  if (p->deadline_ms > 0 && (int64_t)delay > p->deadline_ms - now)
    delay = (uint64_t)(p->deadline_ms - now);
  p->delay_ms = delay;
  uv_timer_start(t, on_timer, delay, 0);
}

void kpending_init(kpending *p, uv_loop_t *loop, kevq *q, const runtime *rt, const char *pod) {
  *p = (kpending){.q = q, .rt = rt, .pod = pod};
  uv_timer_init(loop, &p->timer);
  p->timer.data = p;
}

void kpending_arm(kpending *p) {
  if (p->closed || p->rt->ops->pending(p->rt->ctx) == 0)
    return;
  if (p->since_ms == 0)
    p->since_ms = now_ms();
  /* A fresh survivor is likely gone within milliseconds: do not let it
   * wait for the slow pace an older one brought the timer to. */
  if (uv_is_active((uv_handle_t *)&p->timer) && uv_timer_get_due_in(&p->timer) <= COLLECT_FIRST_MS)
    return;
  p->delay_ms = COLLECT_FIRST_MS;
  uv_timer_start(&p->timer, on_timer, COLLECT_FIRST_MS, 0);
}

bool kpending_hold(kpending *p) {
  if (p->gave_up || p->rt->ops->pending(p->rt->ctx) == 0)
    return false;
  if (p->deadline_ms == 0)
    p->deadline_ms = now_ms() + PENDING_STOP_BOUND_MS;
  if (!uv_is_active((uv_handle_t *)&p->timer))
    kpending_arm(p);
  return true;
}

void kpending_close(kpending *p, uv_close_cb cb) {
  p->closed = true;
  uv_close((uv_handle_t *)&p->timer, cb);
}
