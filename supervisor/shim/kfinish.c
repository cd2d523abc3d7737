/* kfinish.c - what leaves the pod keeper (keeper_internal.h): the status
 * document (keeper_status_json, keeper.h) rendered for
 * keeper_config.on_status, the runs freed once closed, and the pod's end,
 * every handle closed before on_done.  Called by the dispatcher (keeper.c);
 * calls nothing of it but keeper_pod_unref and keeper_now_ns. */
#include <stdlib.h>

#include "supervisor/shim/keeper_internal.h"
#include "supervisor/shim/kstatus.h"

void keeper_render(keeper *k) {
  if (!k->dirty || k->phase == KEEPER_CLOSED || k->cfg.on_status == NULL)
    return;
  k->dirty = false;
  ctrstate_pod_update(&k->status, keeper_now_ns());
  char *json = keeper_status_json(k);
  if (json != NULL)
    k->cfg.on_status(k->cfg.ctx, json);
}

static void on_closed(uv_handle_t *h) {
  keeper *k = h->data;
  if (--k->closing > 0)
    return;
  k->phase = KEEPER_CLOSED;
  if (k->cfg.on_done != NULL)
    k->cfg.on_done(k->cfg.ctx);
}

static void close_handle(keeper *k, uv_handle_t *h) {
  h->data = k;
  k->closing++;
  uv_close(h, on_closed);
}

/* Once the pod is stopping and every container is down: close the draining
 * log pipes, wait for the runs and the pending cgroups, render the final
 * status, close every handle. */
void keeper_finish(keeper *k) {
  if (k->phase != KEEPER_STOPPING)
    return;
  for (size_t i = 0; i < k->n_ctrs; i++)
    if (k->ctrs[i].run != NULL || k->ctrs[i].probes.closing > 0)
      return;
  for (krun *r = k->runs; r != NULL; r = r->next)
    krun_close_logs(r);
  if (k->runs != NULL || kpending_hold(&k->pending))
    return; /* RUN_CLOSED or PENDING comes */
  k->dirty = true;
  keeper_render(k);
  k->phase = KEEPER_CLOSING;
  for (size_t i = 0; i < k->n_ctrs; i++) {
    close_handle(k, (uv_handle_t *)&k->ctrs[i].backoff_timer);
    close_handle(k, (uv_handle_t *)&k->ctrs[i].kill_timer);
  }
  close_handle(k, (uv_handle_t *)&k->stop_timer);
  k->closing++;
  kpending_close(&k->pending, on_closed);
  k->pending.timer.data = k;
  k->closing++;
  kevq_close(&k->q, on_closed);
  k->q.idle.data = k;
}

void keeper_run_closed(keeper *k, krun *r) {
  for (krun **p = &k->runs; *p != NULL; p = &(*p)->next)
    if (*p == r) {
      *p = r->next;
      break;
    }
  keeper_pod_unref(k, r->pod);
  krun_free(r);
}

char *keeper_status_json(keeper *k) {
  /* On the heap: a pod's size must never decide how much stack is used. */
  kstatus_ctr *cs = calloc(k->n_ctrs ? k->n_ctrs : 1, sizeof *cs);
  if (cs == NULL)
    return NULL;
  for (size_t i = 0; i < k->n_ctrs; i++)
    cs[i] = (kstatus_ctr){.name = k->ctrs[i].st->name,
                          .bo = &k->ctrs[i].bo,
                          .restart_gap_ns = k->ctrs[i].restart_gap_ns,
                          .log_dropped = k->ctrs[i].log_dropped,
                          .log_error = k->ctrs[i].log_error,
                          .log_failing_since = k->ctrs[i].log_failing_since,
                          .log_resumed_at = k->ctrs[i].log_resumed_at};
  const spec_pod *p = cur_pod(k);
  kstatus_view v = {.st = &k->status,
                    .name = p->name,
                    .ns = p->ns,
                    .uid = k->cfg.uid,
                    .ctrs = cs,
                    .n_ctrs = k->n_ctrs,
                    .stopping = k->phase != KEEPER_RUNNING,
                    .sandbox_error = k->sandbox_error};
  json_t *doc = kstatus_json(&v);
  free(cs);
  if (doc == NULL)
    return NULL;
  if (k->cfg.decorate != NULL)
    k->cfg.decorate(k->cfg.ctx, doc);
  /* Compact: the same text goes to status.json and, as one line, to the
   * socket's watchers. */
  char *s = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  return s;
}
