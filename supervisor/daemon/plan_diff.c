/*
 * plan_diff.c - what differs between the version of a pod that runs and
 * the one desired, and the finest safe way to get from one to the other
 * (the rules are in plan.h).
 *
 * Both versions are first brought to one shape, a "side": the uid, the
 * hashes, the containers (init ones first) and the spec when it is known,
 * so that a running pod known only by its shim's hashes and one known by
 * its snapshot go through the same comparison.
 */
#include "supervisor/daemon/plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct side {
  const char *uid, *hash, *sandbox_hash;
  const spec_pod *spec; /* NULL: only the hashes are known */
  plan_container *c;    /* init containers, then app containers */
  size_t n_init, n;
} side;

typedef struct phrases {
  char **v;
  size_t n;
  bool oom;
} phrases;

static void say(phrases *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(phrases *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int r = vasprintf(&s, fmt, ap);
  va_end(ap);
  char **nv = r >= 0 ? realloc(p->v, (p->n + 1) * sizeof *nv) : NULL;
  if (nv == NULL) {
    free(r >= 0 ? s : NULL);
    p->oom = true;
    return;
  }
  nv[p->n++] = s;
  p->v = nv;
}

static void phrases_free(phrases *p) {
  for (size_t i = 0; i < p->n; i++)
    free(p->v[i]);
  free(p->v);
  *p = (phrases){0};
}

static int side_from_spec(side *s, const spec_pod *p, const char *uid) {
  size_t n = p->n_init_containers + p->n_containers;
  *s = (side){.uid = uid,
              .hash = p->hash,
              .sandbox_hash = p->sandbox_hash,
              .spec = p,
              .n_init = p->n_init_containers,
              .n = n};
  s->c = calloc(n ? n : 1, sizeof *s->c);
  if (s->c == NULL)
    return -1;
  for (size_t i = 0; i < n; i++) {
    const spec_container *c = i < s->n_init ? &p->init_containers[i] : &p->containers[i - s->n_init];
    s->c[i] =
        (plan_container){.name = c->name, .hash = c->hash, .is_init = c->is_init, .sidecar = c->sidecar};
  }
  return 0;
}

static int side_from_observed(side *s, const plan_observed *o) {
  if (o->spec != NULL)
    return side_from_spec(s, o->spec, o->spec->uid);
  *s = (side){.uid = o->uid, .hash = o->hash, .sandbox_hash = o->sandbox_hash, .n = o->n_containers};
  s->c = calloc(o->n_containers ? o->n_containers : 1, sizeof *s->c);
  if (s->c == NULL)
    return -1;
  size_t k = 0;
  for (size_t i = 0; i < o->n_containers; i++)
    if (o->containers[i].is_init)
      s->c[k++] = o->containers[i];
  s->n_init = k;
  for (size_t i = 0; i < o->n_containers; i++)
    if (!o->containers[i].is_init)
      s->c[k++] = o->containers[i];
  return 0;
}

static ssize_t find(const plan_container *c, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (c[i].name != NULL && strcmp(c[i].name, name) == 0)
      return (ssize_t)i;
  return -1;
}

/* True when the common names of a and b come in another order. */
static bool reordered(const plan_container *a, size_t na, const plan_container *b, size_t nb) {
  size_t j = 0;
  for (size_t i = 0; i < na; i++) {
    if (find(b, nb, a[i].name) < 0)
      continue;
    while (j < nb && find(a, na, b[j].name) < 0)
      j++;
    if (j == nb || strcmp(b[j].name, a[i].name) != 0)
      return true;
    j++;
  }
  return false;
}

typedef struct lists {
  const plan_container *o, *n; /* this list, old and new */
  size_t no, nn;
  const plan_container *oo, *on; /* the other list, old and new */
  size_t noo, non;
} lists;

/* One list (initContainers or containers) of the two versions.  A container
 * that moved to the other list is named once, by the list it left. */
static void compare_list(const lists *l, bool init, phrases *r) {
  const char *what = init ? "init container" : "container";
  ssize_t added = -1, removed = -1;
  size_t n_added = 0, n_removed = 0;
  for (size_t i = 0; i < l->no; i++) {
    if (find(l->n, l->nn, l->o[i].name) >= 0)
      continue;
    if (find(l->on, l->non, l->o[i].name) >= 0)
      say(r, "container %s moved from %s to %s", l->o[i].name, init ? "initContainers" : "containers",
          init ? "containers" : "initContainers");
    else if (n_removed++ == 0)
      removed = (ssize_t)i;
  }
  for (size_t i = 0; i < l->nn; i++)
    if (find(l->o, l->no, l->n[i].name) < 0 && find(l->oo, l->noo, l->n[i].name) < 0 && n_added++ == 0)
      added = (ssize_t)i;
  if (n_added == 1 && n_removed == 1 && added == removed) {
    say(r, "%s %s renamed to %s", what, l->o[removed].name, l->n[added].name);
  } else {
    for (size_t i = 0; i < l->no; i++)
      if (find(l->n, l->nn, l->o[i].name) < 0 && find(l->on, l->non, l->o[i].name) < 0)
        say(r, "%s %s removed", what, l->o[i].name);
    for (size_t i = 0; i < l->nn; i++)
      if (find(l->o, l->no, l->n[i].name) < 0 && find(l->oo, l->noo, l->n[i].name) < 0)
        say(r, "%s %s added", what, l->n[i].name);
  }
  if (reordered(l->o, l->no, l->n, l->nn))
    say(r, "%s reordered", init ? "initContainers" : "containers");
  for (size_t i = 0; init && i < l->nn; i++) {
    ssize_t j = find(l->o, l->no, l->n[i].name);
    if (j >= 0 && l->o[j].sidecar != l->n[i].sidecar)
      say(r, "init container %s restartPolicy changed", l->n[i].name);
  }
}

static int cmp_opt(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return (a != NULL) - (b != NULL);
  return strcmp(a, b);
}

static bool volumes_equal(const spec_pod *a, const spec_pod *b) {
  if (a->n_volumes != b->n_volumes)
    return false;
  for (size_t i = 0; i < a->n_volumes; i++) {
    const spec_volume *x = &a->volumes[i], *y = &b->volumes[i];
    if (strcmp(x->name, y->name) != 0 || x->kind != y->kind || x->medium_memory != y->medium_memory ||
        x->size_limit != y->size_limit || cmp_opt(x->host_path, y->host_path) != 0 ||
        x->host_path_type != y->host_path_type)
      return false;
  }
  return true;
}

/* The pod-only securityContext fields (fsGroup & co., sysctls). */
static bool pod_security_equal(const spec_pod *a, const spec_pod *b) {
  if (a->fs_group != b->fs_group || a->fs_group_change_policy != b->fs_group_change_policy ||
      a->supplemental_groups_policy != b->supplemental_groups_policy ||
      a->n_supplemental_groups != b->n_supplemental_groups || a->sysctls.n != b->sysctls.n)
    return false;
  for (size_t i = 0; i < a->n_supplemental_groups; i++)
    if (a->supplemental_groups[i] != b->supplemental_groups[i])
      return false;
  for (size_t i = 0; i < a->sysctls.n; i++)
    if (strcmp(a->sysctls.items[i].key, b->sysctls.items[i].key) != 0 ||
        strcmp(a->sysctls.items[i].value, b->sysctls.items[i].value) != 0)
      return false;
  return true;
}

/* The pod-level fields that differ, as one phrase; false when none does. */
static bool compare_fields(const spec_pod *a, const spec_pod *b, phrases *r) {
  const char *f[17];
  size_t n = 0;
  if (a->restart_policy != b->restart_policy)
    f[n++] = "restartPolicy";
  if (a->termination_grace_period_seconds != b->termination_grace_period_seconds)
    f[n++] = "terminationGracePeriodSeconds";
  if (cmp_opt(a->effective_hostname, b->effective_hostname) != 0)
    f[n++] = "hostname";
  if (cmp_opt(a->subdomain, b->subdomain) != 0)
    f[n++] = "subdomain";
  if (a->host_network != b->host_network)
    f[n++] = "hostNetwork";
  if (a->share_process_namespace != b->share_process_namespace)
    f[n++] = "shareProcessNamespace";
  if (a->host_pid != b->host_pid)
    f[n++] = "hostPID";
  if (a->host_ipc != b->host_ipc)
    f[n++] = "hostIPC";
  if (!pod_security_equal(a, b))
    f[n++] = "securityContext";
  if ((a->host_users == 0) != (b->host_users == 0))
    f[n++] = "hostUsers";
  if (!volumes_equal(a, b))
    f[n++] = "volumes";
  if (a->backoff_initial_ms != b->backoff_initial_ms)
    f[n++] = "podvisor.io/backoff-initial";
  if (a->backoff_max_ms != b->backoff_max_ms)
    f[n++] = "podvisor.io/backoff-max";
  if (a->backoff_reset_ms != b->backoff_reset_ms)
    f[n++] = "podvisor.io/backoff-reset";
  if (a->start_limit_count != b->start_limit_count || a->start_limit_window_ms != b->start_limit_window_ms)
    f[n++] = "podvisor.io/start-limit";
  if (n == 0)
    return false;
  char list[512] = "";
  for (size_t i = 0; i < n; i++) {
    strcat(list, i ? ", " : "");
    strcat(list, f[i]);
  }
  say(r, "%s changed", list);
  return true;
}

static const spec_container *nth(const spec_pod *p, size_t i) {
  return i < p->n_init_containers ? &p->init_containers[i] : &p->containers[i - p->n_init_containers];
}

static bool run_as_equal(const spec_security *a, const spec_security *b) {
  return a->run_as_user == b->run_as_user && a->run_as_group == b->run_as_group &&
         a->run_as_non_root == b->run_as_non_root;
}

/* The footprint of an edit of spec.securityContext (see plan.h); the two
 * pods have the same containers in the same order. */
static bool security_footprint(const spec_pod *a, const spec_pod *b) {
  size_t n = a->n_init_containers + a->n_containers;
  if (n == 0 || run_as_equal(&nth(a, 0)->security, &nth(b, 0)->security))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!run_as_equal(&nth(a, i)->security, &nth(a, 0)->security) ||
        !run_as_equal(&nth(b, i)->security, &nth(b, 0)->security))
      return false;
  return true;
}

static char *join(char **v, size_t n, const char *pre, const char *sep, const char *post) {
  size_t len = strlen(pre) + strlen(post) + 1;
  for (size_t i = 0; i < n; i++)
    len += strlen(v[i]) + strlen(sep);
  char *s = malloc(len);
  if (s == NULL)
    return NULL;
  strcpy(s, pre);
  for (size_t i = 0; i < n; i++) {
    strcat(s, i ? sep : "");
    strcat(s, v[i]);
  }
  strcat(s, post);
  return s;
}

/* Why the pod must be recreated, in r; nothing added when it need not be. */
static void recreate_reasons(const side *o, const side *n, phrases *r) {
  if (o->uid != NULL && n->uid != NULL && strcmp(o->uid, n->uid) != 0)
    say(r, "metadata.uid changed");
  if (o->n == 0) {
    say(r, "running spec unknown");
    return;
  }
  const plan_container *oi = o->c, *oa = o->c + o->n_init, *ni = n->c, *na = n->c + n->n_init;
  size_t noi = o->n_init, noa = o->n - o->n_init, nni = n->n_init, nna = n->n - n->n_init;
  compare_list(&(lists){oi, ni, noi, nni, oa, na, noa, nna}, true, r);
  compare_list(&(lists){oa, na, noa, nna, oi, ni, noi, nni}, false, r);
  if (o->sandbox_hash == NULL)
    say(r, "running spec unknown");
  else if (strcmp(o->sandbox_hash, n->sandbox_hash) != 0 &&
           (o->spec == NULL || !compare_fields(o->spec, n->spec, r)))
    say(r, "pod-level fields changed");
  if (r->n == 0 && o->spec != NULL && security_footprint(o->spec, n->spec))
    say(r, "securityContext changed");
}

static int diff(const side *o, const side *n, plan_change *out) {
  *out = (plan_change){.action = PLAN_UNCHANGED};
  bool same_uid = o->uid == NULL || n->uid == NULL || strcmp(o->uid, n->uid) == 0;
  if (same_uid && o->hash != NULL && strcmp(o->hash, n->hash) == 0)
    return (out->summary = strdup("unchanged")) ? 0 : -1;
  phrases r = {0}, restart = {0};
  recreate_reasons(o, n, &r);
  for (size_t i = 0; r.n == 0 && i < n->n; i++)
    if (o->c[i].hash == NULL || strcmp(o->c[i].hash, n->c[i].hash) != 0)
      say(&restart, "%s", n->c[i].name);
  if (r.n == 0 && restart.n == 0 && o->hash != NULL)
    say(&r, "pod hash changed"); /* hashes that disagree with their parts: do not guess */
  if (r.oom || restart.oom) {
    phrases_free(&r);
    phrases_free(&restart);
    return -1;
  }
  if (r.n > 0) {
    out->action = PLAN_RECREATE;
    out->reasons = r.v;
    out->n_reasons = r.n;
    out->summary = join(r.v, r.n, "recreate (", "; ", ")");
    phrases_free(&restart);
  } else if (restart.n > 0) {
    out->action = PLAN_RESTART;
    out->containers = restart.v;
    out->n_containers = restart.n;
    out->summary =
        join(restart.v, restart.n, restart.n == 1 ? "restart container " : "restart containers ", ", ", "");
  } else {
    out->summary = strdup("unchanged");
  }
  return out->summary != NULL ? 0 : -1;
}

void plan_change_free(plan_change *c) {
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n_containers; i++)
    free(c->containers[i]);
  free(c->containers);
  for (size_t i = 0; i < c->n_reasons; i++)
    free(c->reasons[i]);
  free(c->reasons);
  free(c->summary);
  *c = (plan_change){0};
}

static int finish(side *o, side *n, plan_change *out, pv_err *err) {
  int r = o->c && n->c ? diff(o, n, out) : -1;
  free(o->c);
  free(n->c);
  if (r < 0) {
    plan_change_free(out);
    return pv_err_set(err, ENOMEM, "plan: out of memory");
  }
  return 0;
}

int plan_diff(const plan_observed *old, const spec_pod *new_spec, const char *new_uid, plan_change *out,
              pv_err *err) {
  side o = {0}, n = {0};
  side_from_observed(&o, old);
  side_from_spec(&n, new_spec, new_uid);
  return finish(&o, &n, out, err);
}

int plan_diff_specs(const spec_pod *old, const char *old_uid, const spec_pod *new_spec, const char *new_uid,
                    plan_change *out, pv_err *err) {
  side o = {0}, n = {0};
  side_from_spec(&o, old, old_uid);
  side_from_spec(&n, new_spec, new_uid);
  return finish(&o, &n, out, err);
}
