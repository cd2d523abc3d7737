/*
 * daemon_reconcile.c - one reconcile pass: the desired set against the pod
 * table, turned into launches, container updates, recreations and stops.
 *
 * Coalesced: every trigger (a scan, an apply, a keeper's exit, a launch's
 * end) calls pvd_reconcile_soon(), which arms a 0 ms timer unless it is
 * armed already; the pass runs once for all of them, from the loop, and
 * never blocks (launches, stops and updates only start here; their ends
 * come back as callbacks, which ask for the next pass).  A pod with an
 * operation in flight (launching, stopping, updating) is skipped: the end
 * of that operation asks for a pass that sees its result.  A pod whose
 * launch failed waits for its retry time (retry_timer wakes the loop then).
 *
 * Each pass logs, at debug, one line the benchmarks read:
 *   msg="reconciled" pods=N actions=K duration_us=D
 */
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/daemon_core.h"

static void on_reconcile(uv_timer_t *t);

void pvd_reconcile_soon(pvd *d) {
  if (d->shutting_down || d->reconcile_pending)
    return;
  d->reconcile_pending = true;
  uv_timer_start(&d->reconcile_timer, on_reconcile, 0, 0);
}

static void on_retry(uv_timer_t *t) {
  pvd_reconcile_soon(t->data);
}

void pvd_reconcile_init(pvd *d) {
  uv_timer_init(&d->loop, &d->reconcile_timer);
  uv_timer_init(&d->loop, &d->retry_timer);
  d->reconcile_timer.data = d->retry_timer.data = d;
}

static bool in_flight(const pvd_entry *e) {
  return e->pub.state == PVD_POD_LAUNCHING || e->pub.state == PVD_POD_STOPPING || e->updating > 0;
}

/* Every desired pod has an entry; an entry neither desired nor kept goes. */
static void sync_table(pvd *d) {
  pv_err err;
  size_t n = desired_count(d->desired);
  for (size_t i = 0; i < n; i++) {
    const desired_pod *dp = desired_at(d->desired, i);
    pvd_entry *e = dpods_get(d, dp->spec->ns, dp->spec->name, &err);
    if (e == NULL)
      continue;
    bool changed = false;
    if (e->pub.deletion_ns != 0) {
      e->pub.deletion_ns = 0; /* desired again */
      changed = true;
    }
    /* The instance's age is the desired pod's, also for a keeper adopted
     * from an earlier daemon (the same uid). */
    bool same = (e->shim == NULL && !e->had_keeper) || strcmp(e->pub.uid, dp->uid) == 0;
    if (e->pub.created_ns != dp->created_ns && same) {
      e->pub.created_ns = dp->created_ns;
      changed = true;
    }
    if (e->pub.key[0] == '\0')
      spec_pod_key(dp->spec, e->pub.key);
    if (changed)
      dpods_changed(d, e);
  }
  for (size_t i = 0; i < d->n_pods;) {
    pvd_entry *e = d->pods[i];
    bool desired = desired_find(d->desired, e->pub.ns, e->pub.name) != NULL;
    if (!desired && e->shim == NULL && !e->had_keeper && !in_flight(e)) {
      dpods_remove(d, e);
      continue;
    }
    if (!desired && e->pub.deletion_ns == 0) {
      e->pub.deletion_ns = pvd_now_ns();
      if (e->pub.deletion_grace_s == 0)
        e->pub.deletion_grace_s = -1;
      dpods_changed(d, e);
    }
    i++;
  }
}

/* One plan entry: what it asks is started (its end comes back later). */
static bool act(pvd *d, const plan_entry *pe, uint64_t now, uint64_t *next_retry) {
  pvd_entry *e = dpods_find(d, pe->ns, pe->name);
  if (e == NULL || in_flight(e))
    return false;
  switch (pe->action) {
  case PLAN_UNCHANGED: return false;
  case PLAN_CREATE:
  case PLAN_RELAUNCH:
    if (e->retry_at_ms > now) {
      if (*next_retry == 0 || e->retry_at_ms < *next_retry)
        *next_retry = e->retry_at_ms;
      return false;
    }
    if (pe->action == PLAN_RELAUNCH)
      pvd_eventf(d, e->pub.ns, e->pub.name, pe->desired->uid, NULL, false, false, "Relaunched",
                 "The pod's keeper was gone: a new one carries on");
    else
      pvd_eventf(d, e->pub.ns, e->pub.name, pe->desired->uid, NULL, false, false, "Created", "Created pod %s",
                 e->pub.name);
    e->intent = PVD_INTENT_NONE;
    /* A relaunch keeps the instance, and the new keeper its restart counts. */
    (void)dpods_launch(e, pe->desired->spec, pe->action == PLAN_RELAUNCH);
    return true;
  case PLAN_RESTART: {
    char q[600];
    if (e->update_refused && e->shim != NULL) {
      pvd_log(d, PVD_LOG_INFO, e->pub.ns, e->pub.name, "recreating change=\"update refused by the keeper\"");
      dpods_stop(e, PVD_INTENT_RECREATE, -1);
      return true;
    }
    pvd_log(d, PVD_LOG_INFO, e->pub.ns, e->pub.name, "updating change=%s",
            pvd_logfmt_quote(pe->change.summary, q, sizeof q));
    dpods_update(e, pe->desired->spec, pe->change.containers, pe->change.n_containers);
    return true;
  }
  case PLAN_RECREATE: {
    char q[600];
    pvd_log(d, PVD_LOG_INFO, e->pub.ns, e->pub.name, "recreating change=%s",
            pvd_logfmt_quote(pe->change.summary, q, sizeof q));
    if (e->shim == NULL) { /* a dead keeper: nothing to stop */
      e->had_keeper = false;
      return false;
    }
    dpods_stop(e, PVD_INTENT_RECREATE, -1);
    return true;
  }
  case PLAN_DELETE:
    if (e->shim != NULL)
      dpods_stop(e, PVD_INTENT_DELETE, e->pub.deletion_grace_s);
    else
      dpods_clean_dead(e);
    return true;
  }
  return false;
}

static void reconcile(pvd *d) {
  uint64_t t0 = uv_hrtime();
  pv_err err;
  sync_table(d);
  plan_observed *obs = calloc(d->n_pods ? d->n_pods : 1, sizeof *obs);
  if (obs == NULL)
    return;
  size_t n_obs = 0;
  for (size_t i = 0; i < d->n_pods; i++) {
    const pvd_entry *e = d->pods[i];
    if (e->shim == NULL && !e->had_keeper && e->pub.state == PVD_POD_PENDING)
      continue;
    obs[n_obs++] = (plan_observed){.ns = e->pub.ns,
                                   .name = e->pub.name,
                                   .running = true,
                                   .shim_alive = e->shim != NULL,
                                   .uid = e->pub.uid[0] != '\0' ? e->pub.uid : NULL,
                                   .spec = e->pub.running};
  }
  plan p = {0};
  size_t actions = 0;
  if (plan_compute(d->desired, obs, n_obs, &p, &err) < 0) {
    char q[1100];
    pvd_log(d, PVD_LOG_ERROR, NULL, NULL, "reconcile failed error=%s",
            pvd_logfmt_quote(err.msg, q, sizeof q));
  } else {
    uint64_t now = uv_now(&d->loop), next_retry = 0;
    for (size_t i = 0; i < p.n; i++)
      if (act(d, &p.items[i], now, &next_retry))
        actions++;
    if (next_retry != 0)
      uv_timer_start(&d->retry_timer, on_retry, next_retry - now, 0);
  }
  plan_free(&p);
  free(obs);
  pvd_log(d, PVD_LOG_DEBUG, NULL, NULL, "reconciled pods=%zu actions=%zu duration_us=%llu", d->n_pods,
          actions, (unsigned long long)((uv_hrtime() - t0) / 1000));
}

static void on_reconcile(uv_timer_t *t) {
  pvd *d = t->data;
  d->reconcile_pending = false;
  if (!d->shutting_down)
    reconcile(d);
}
