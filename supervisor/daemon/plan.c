/* plan.c - the reconcile plan and the plan of an apply request (see plan.h). */
#include "supervisor/daemon/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *plan_action_name(plan_action a) {
  switch (a) {
  case PLAN_UNCHANGED: return "unchanged";
  case PLAN_CREATE: return "create";
  case PLAN_RESTART: return "restart";
  case PLAN_RECREATE: return "recreate";
  case PLAN_DELETE: return "delete";
  case PLAN_RELAUNCH: return "relaunch";
  }
  return "?";
}

static int key_cmp(const char *ns1, const char *n1, const char *ns2, const char *n2) {
  int c = strcmp(ns1, ns2);
  return c != 0 ? c : strcmp(n1, n2);
}

static int obs_cmp(const void *a, const void *b) {
  const plan_observed *x = *(const plan_observed *const *)a, *y = *(const plan_observed *const *)b;
  int c = key_cmp(x->ns, x->name, y->ns, y->name);
  return c != 0 ? c : (x < y ? -1 : x > y);
}

/* The running observed entries, sorted, the first of each pod only. */
static const plan_observed **sorted_running(const plan_observed *obs, size_t n_obs, size_t *n) {
  const plan_observed **v = malloc((n_obs ? n_obs : 1) * sizeof *v);
  if (v == NULL)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n_obs; i++)
    if (obs[i].running)
      v[k++] = &obs[i];
  qsort(v, k, sizeof *v, obs_cmp);
  size_t m = 0;
  for (size_t i = 0; i < k; i++)
    if (m == 0 || key_cmp(v[m - 1]->ns, v[m - 1]->name, v[i]->ns, v[i]->name) != 0)
      v[m++] = v[i];
  *n = m;
  return v;
}

static int plan_one(const desired_pod *d, const plan_observed *o, plan_entry *e, pv_err *err) {
  *e = (plan_entry){.desired = d, .observed = o};
  e->ns = d ? d->spec->ns : o->ns;
  e->name = d ? d->spec->name : o->name;
  if (d == NULL) {
    e->action = PLAN_DELETE;
    return 0;
  }
  if (o == NULL) {
    e->action = PLAN_CREATE;
    return 0;
  }
  if (plan_diff(o, d->spec, d->uid, &e->change, err) < 0)
    return -1;
  e->action = o->shim_alive ? e->change.action : PLAN_RELAUNCH;
  return 0;
}

int plan_compute(const desired_set *d, const plan_observed *obs, size_t n_obs, plan *out, pv_err *err) {
  *out = (plan){0};
  size_t n_run = 0, nd = desired_count(d);
  const plan_observed **run = sorted_running(obs, n_obs, &n_run);
  out->items = calloc(nd + n_run + 1, sizeof *out->items);
  if (run == NULL || out->items == NULL) {
    free(run);
    plan_free(out);
    return pv_err_set(err, ENOMEM, "plan: out of memory");
  }
  size_t i = 0, j = 0;
  while (i < nd || j < n_run) {
    const desired_pod *dp = i < nd ? desired_at(d, i) : NULL;
    int c = dp == NULL   ? 1
            : j == n_run ? -1
                         : key_cmp(dp->spec->ns, dp->spec->name, run[j]->ns, run[j]->name);
    if (plan_one(c <= 0 ? dp : NULL, c >= 0 ? run[j] : NULL, &out->items[out->n], err) < 0) {
      free(run);
      plan_free(out);
      return -1;
    }
    out->n++;
    i += c <= 0;
    j += c >= 0;
  }
  free(run);
  return 0;
}

void plan_free(plan *p) {
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n; i++)
    plan_change_free(&p->items[i].change);
  free(p->items);
  *p = (plan){0};
}

int plan_entry_text(const plan_entry *e, char *buf, size_t len) {
  switch (e->action) {
  case PLAN_RESTART:
  case PLAN_RECREATE: return snprintf(buf, len, "%s", e->change.summary);
  case PLAN_RELAUNCH: return snprintf(buf, len, "relaunch (shim died)");
  default: return snprintf(buf, len, "%s", plan_action_name(e->action));
  }
}

/* --- apply requests --------------------------------------------------------------- */

static bool named_in(const spec_pod_list *l, const spec_pod *p) {
  for (size_t i = 0; i < l->n; i++)
    if (key_cmp(l->items[i]->ns, l->items[i]->name, p->ns, p->name) == 0)
      return true;
  return false;
}

static bool kvs_equal(const spec_kvs *a, const spec_kvs *b) {
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->items[i].key, b->items[i].key) != 0 || strcmp(a->items[i].value, b->items[i].value) != 0)
      return false;
  return true;
}

/* One pod of the request against the desired set. */
static int verdict(const desired_set *d, const spec_pod *p, plan_apply_entry *e, pv_err *err) {
  const desired_pod *cur = desired_find(d, p->ns, p->name);
  if (cur == NULL) {
    e->verdict = PLAN_CREATED;
    return 0;
  }
  /* A request without metadata.uid keeps the instance (desired.h). */
  if (plan_diff_specs(cur->spec, cur->uid, p, p->uid ? p->uid : cur->uid, &e->change, err) < 0)
    return -1;
  bool meta =
      !kvs_equal(&cur->spec->labels, &p->labels) || !kvs_equal(&cur->spec->annotations, &p->annotations);
  e->verdict = e->change.action != PLAN_UNCHANGED || meta ? PLAN_CONFIGURED : PLAN_KEPT;
  return 0;
}

static int push(plan_apply *out, plan_verdict v, const spec_pod *p, plan_apply_entry **e) {
  plan_apply_entry *x = &out->items[out->n];
  *x = (plan_apply_entry){.verdict = v, .ns = strdup(p->ns), .name = strdup(p->name)};
  out->n++; /* counted at once: plan_apply_free releases a half-filled entry */
  *e = x;
  return x->ns && x->name ? 0 : -1;
}

int plan_apply_compute(const desired_set *d, const spec_pod_list *request, bool prune, plan_apply *out,
                       pv_err *err) {
  *out = (plan_apply){0};
  size_t nd = desired_count(d);
  out->items = calloc(request->n + nd + 1, sizeof *out->items);
  int rc = out->items ? 0 : -1;
  plan_apply_entry *e;
  for (size_t i = 0; rc == 0 && i < request->n; i++) {
    rc = push(out, PLAN_CREATED, request->items[i], &e);
    if (rc == 0 && verdict(d, request->items[i], e, err) < 0) {
      plan_apply_free(out);
      return -1;
    }
  }
  for (size_t i = 0; rc == 0 && prune && i < nd; i++) {
    const desired_pod *p = desired_at(d, i);
    if (p->origin == DESIRED_FROM_API && !named_in(request, p->spec))
      rc = push(out, PLAN_PRUNED, p->spec, &e);
  }
  if (rc < 0) {
    plan_apply_free(out);
    return pv_err_set(err, ENOMEM, "plan: out of memory");
  }
  return 0;
}

int plan_apply_text(const plan_apply_entry *e, char *buf, size_t len) {
  switch (e->verdict) {
  case PLAN_CREATED: return snprintf(buf, len, "pod/%s created", e->name);
  case PLAN_KEPT: return snprintf(buf, len, "pod/%s unchanged", e->name);
  case PLAN_PRUNED: return snprintf(buf, len, "pod/%s pruned", e->name);
  case PLAN_CONFIGURED: break;
  }
  if (e->change.action == PLAN_UNCHANGED)
    return snprintf(buf, len, "pod/%s configured", e->name);
  return snprintf(buf, len, "pod/%s configured: %s", e->name, e->change.summary);
}

void plan_apply_free(plan_apply *p) {
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n; i++) {
    free(p->items[i].ns);
    free(p->items[i].name);
    plan_change_free(&p->items[i].change);
  }
  free(p->items);
  *p = (plan_apply){0};
}
