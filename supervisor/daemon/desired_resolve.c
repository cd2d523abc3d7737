/*
 * desired_resolve.c - who owns each pod, recomputed from the files' claims
 * and the applied pods (see desired.h for the rules).
 *
 * A file claims the pods of its last good parse (an invalid file keeps
 * claiming what it declared when it was last valid).  Per namespace/name:
 *   an applied pod          stays; every file claiming it gets an APPLIED problem;
 *   no claim                a file pod is removed;
 *   one claim               that file's state is desired (added or updated);
 *   several claims          a CONFLICT; a pod desired before keeps its state, held.
 * The work is done in two phases so that running out of memory leaves the
 * set as it was: decide and allocate everything, then commit without
 * allocating.
 */
#include "supervisor/daemon/desired_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct claim {
  const spec_pod *pod; /* the claimed pod's namespace/name */
  dfile *f;
  dspec *d;
} claim;

typedef enum verdict { KEEP = 0, ADD, UPDATE, REMOVE } verdict;

typedef struct decision {
  verdict v;
  dpod *pod;   /* KEEP, UPDATE, REMOVE: the current pod; ADD: a new one */
  dspec *spec; /* ADD, UPDATE: the new state (borrowed from its file) */
  char *uid;   /* ADD, UPDATE: for spec->uid */
  char *file;  /* ADD, UPDATE: for pub.file */
  int64_t created_ns;
  bool held, spec_changed;
} decision;

typedef struct resolution {
  decision *d;
  size_t n;
  desired_problem *problems;
  size_t n_problems;
  desired_report rep; /* what changed, committed into the caller's report */
} resolution;

static int claim_cmp(const void *va, const void *vb) {
  const claim *a = va, *b = vb;
  int c = pod_cmp_key(a->pod->ns, a->pod->name, b->pod->ns, b->pod->name);
  return c != 0 ? c : strcmp(a->f->name, b->f->name);
}

static claim *collect_claims(const desired_set *s, size_t *n) {
  size_t total = 0;
  for (size_t i = 0; i < s->n_files; i++)
    total += s->files[i]->n_good;
  claim *c = malloc((total ? total : 1) * sizeof *c);
  if (c == NULL)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < s->n_files; i++)
    for (size_t j = 0; j < s->files[i]->n_good; j++)
      c[k++] = (claim){.pod = s->files[i]->good[j]->pod, .f = s->files[i], .d = s->files[i]->good[j]};
  qsort(c, k, sizeof *c, claim_cmp);
  *n = k;
  return c;
}

static int add_problem(resolution *r, desired_problem *p) {
  desired_problem *nv = realloc(r->problems, (r->n_problems + 1) * sizeof *nv);
  if (nv == NULL) {
    problem_clear(p);
    return -1;
  }
  r->problems = nv;
  nv[r->n_problems++] = *p;
  return 0;
}

static int conflict_problem(resolution *r, const claim *g, size_t n) {
  desired_problem p = {.kind = DESIRED_PROBLEM_CONFLICT};
  char list[2048] = "";
  size_t used = 0;
  int bad = dup_str(&p.ns, g->pod->ns) | dup_str(&p.name, g->pod->name);
  for (size_t i = 0; i < n && bad == 0; i++) {
    bad = strv_push(&p.files, &p.n_files, g[i].f->path);
    const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
    int w = snprintf(list + used, sizeof list - used, "%s%s", sep, g[i].f->path);
    used = w > 0 && (size_t)w < sizeof list - used ? used + (size_t)w : sizeof list - 1;
  }
  if (bad == 0 && asprintf(&p.message,
                           "pod %s/%s is declared by %s%s: all of them are refused for it until only one "
                           "declares it",
                           p.ns, p.name, n == 2 ? "both " : "", list) < 0)
    p.message = NULL, bad = -1;
  if (bad != 0) {
    problem_clear(&p);
    return -1;
  }
  return add_problem(r, &p);
}

static int applied_problem(resolution *r, const claim *c) {
  desired_problem p = {.kind = DESIRED_PROBLEM_APPLIED};
  int bad = dup_str(&p.file, c->f->path) | dup_str(&p.ns, c->pod->ns) | dup_str(&p.name, c->pod->name);
  if (bad == 0 && asprintf(&p.message,
                           "%s declares pod %s/%s, which was applied through the API: the file is refused "
                           "for that pod (delete the applied pod to hand it to the file)",
                           p.file, p.ns, p.name) < 0)
    p.message = NULL, bad = -1;
  if (bad != 0) {
    problem_clear(&p);
    return -1;
  }
  return add_problem(r, &p);
}

static int invalid_problem(resolution *r, const dfile *f) {
  desired_problem p = {.kind = DESIRED_PROBLEM_INVALID};
  int bad = dup_str(&p.file, f->path);
  for (size_t i = 0; i < f->n_diags && bad == 0; i++)
    bad = strv_push(&p.diags, &p.n_diags, f->diags[i]);
  if (bad == 0 &&
      asprintf(&p.message, "%s is invalid (%zu error%s): %s", f->path, f->n_errors,
               f->n_errors == 1 ? "" : "s",
               f->n_good ? "its pods keep their last good state" : "nothing of it is applied") < 0)
    p.message = NULL, bad = -1;
  if (bad != 0) {
    problem_clear(&p);
    return -1;
  }
  return add_problem(r, &p);
}

static const dremembered *remembered(const desired_set *s, const spec_pod *p) {
  for (size_t i = 0; !s->scanned && i < s->n_mem; i++)
    if (strcmp(s->mem[i].ns, p->ns) == 0 && strcmp(s->mem[i].name, p->name) == 0)
      return &s->mem[i];
  return NULL;
}

/* One claim alone: the pod is added, or updated when its state differs. */
static int decide_single(const desired_set *s, const claim *c, dpod *cur, int64_t now_ns, decision *d) {
  const char *uid = c->d->manifest_uid;
  char fresh[DESIRED_UID_MAX + 1];
  if (cur == NULL) {
    const dremembered *m = remembered(s, c->pod);
    if (uid == NULL && m != NULL)
      uid = m->uid;
    if (uid == NULL) {
      desired_new_uid(fresh);
      uid = fresh;
    }
    d->pod = calloc(1, sizeof *d->pod);
    d->v = ADD;
    d->created_ns = m != NULL ? m->created_ns : now_ns;
  } else {
    if (uid == NULL)
      uid = cur->pub.uid;
    d->v = UPDATE;
    d->spec_changed = strcmp(cur->pub.spec->hash, c->pod->hash) != 0 || strcmp(cur->pub.uid, uid) != 0;
    if (cur->pub.origin == DESIRED_FROM_FILE && strcmp(cur->pub.file, c->f->path) == 0 &&
        strcmp(cur->pub.uid, uid) == 0 && pod_same_content(cur->pub.spec, c->pod))
      d->v = KEEP;
  }
  d->held = c->f->invalid;
  if (d->v == KEEP)
    return 0;
  d->spec = c->d;
  d->uid = strdup(uid);
  d->file = strdup(c->f->path);
  return d->uid && d->file && (d->v != ADD || d->pod) ? 0 : -1;
}

/* Decides one namespace/name: the pod today (or NULL) and its claims. */
static int decide(const desired_set *s, resolution *r, dpod *cur, const claim *g, size_t n, int64_t now_ns) {
  decision d = {.v = KEEP, .pod = cur};
  int rc = 0;
  if (cur != NULL && cur->pub.origin == DESIRED_FROM_API) {
    for (size_t i = 0; i < n && rc == 0; i++)
      rc = applied_problem(r, &g[i]);
  } else if (n == 0) {
    d.v = REMOVE;
  } else if (n == 1) {
    rc = decide_single(s, g, cur, now_ns, &d);
  } else {
    d.held = true;
    rc = conflict_problem(r, g, n);
  }
  if (rc == 0 && d.pod != NULL) {
    decision *nv = realloc(r->d, (r->n + 1) * sizeof *nv);
    if (nv != NULL) {
      r->d = nv;
      nv[r->n++] = d;
      return 0;
    }
  }
  if (d.v == ADD)
    free(d.pod);
  free(d.uid);
  free(d.file);
  return rc < 0 || d.pod != NULL ? -1 : 0;
}

/* Walks the pods and the sorted claims together, one namespace/name at a time. */
static int decide_all(const desired_set *s, resolution *r, const claim *c, size_t nc, int64_t now_ns) {
  size_t i = 0, j = 0;
  while (i < s->n_pods || j < nc) {
    const spec_pod *pi = i < s->n_pods ? s->pods[i]->pub.spec : NULL;
    int cmp = pi == NULL ? 1 : j == nc ? -1 : pod_cmp_key(pi->ns, pi->name, c[j].pod->ns, c[j].pod->name);
    size_t k = j;
    if (cmp >= 0)
      while (k < nc && pod_cmp_key(c[k].pod->ns, c[k].pod->name, c[j].pod->ns, c[j].pod->name) == 0)
        k++;
    if (decide(s, r, cmp <= 0 ? s->pods[i] : NULL, c + j, k - j, now_ns) < 0)
      return -1;
    if (cmp <= 0)
      i++;
    j = k;
  }
  return 0;
}

static int decide_problems(const desired_set *s, resolution *r) {
  for (size_t i = 0; i < s->n_files; i++)
    if (s->files[i]->invalid && invalid_problem(r, s->files[i]) < 0)
      return -1;
  for (size_t i = 0; i < s->n_corrupt; i++) {
    desired_problem p;
    if (problem_copy(&p, &s->corrupt[i]) < 0 || add_problem(r, &p) < 0)
      return -1;
  }
  if (r->n_problems > 1)
    qsort(r->problems, r->n_problems, sizeof *r->problems, problem_cmp);
  return report_problems(&r->rep, s->problems, s->n_problems, r->problems, r->n_problems);
}

/* The changes, with the resourceVersions the commit will give, into r->rep. */
static int decide_report(const desired_set *s, resolution *r) {
  uint64_t rv = s->revision;
  for (size_t i = 0; i < r->n; i++) {
    decision *d = &r->d[i];
    if (d->v == KEEP)
      continue;
    dpod view = *d->pod;
    view.pub.resource_version = ++rv;
    if (d->v != REMOVE) {
      view.pub.spec = d->spec->pod;
      view.pub.origin = DESIRED_FROM_FILE;
      view.pub.file = d->file;
      snprintf(view.pub.uid, sizeof view.pub.uid, "%s", d->uid);
    }
    desired_change_kind k = d->v == ADD ? DESIRED_ADDED : d->v == UPDATE ? DESIRED_CHANGED : DESIRED_REMOVED;
    if (report_change(&r->rep, k, &view, d->spec_changed) < 0)
      return -1;
  }
  return 0;
}

static void resolution_free(resolution *r, bool committed) {
  for (size_t i = 0; i < r->n; i++) {
    if (!committed && r->d[i].v == ADD)
      free(r->d[i].pod);
    free(r->d[i].uid);
    free(r->d[i].file);
  }
  free(r->d);
  for (size_t i = 0; i < r->n_problems; i++)
    problem_clear(&r->problems[i]);
  free(r->problems);
  desired_report_free(&r->rep);
}

/* Phase two: nothing here can fail. */
static void commit(desired_set *s, resolution *r, dpod **pods) {
  size_t n = 0;
  for (size_t i = 0; i < r->n; i++) {
    decision *d = &r->d[i];
    if (d->v == REMOVE) {
      s->revision++;
      dpod_free(d->pod);
      continue;
    }
    if (d->v != KEEP) {
      dspec_ref(d->spec);
      dspec_unref(d->pod->spec);
      d->pod->spec = d->spec;
      d->pod->pub.spec = d->spec->pod;
      free(d->spec->pod->uid);
      d->spec->pod->uid = d->uid;
      snprintf(d->pod->pub.uid, sizeof d->pod->pub.uid, "%s", d->uid);
      d->uid = NULL;
      free(d->pod->pub.file);
      d->pod->pub.file = d->file;
      d->file = NULL;
      d->pod->pub.origin = DESIRED_FROM_FILE;
      d->pod->pub.resource_version = ++s->revision;
      if (d->v == ADD)
        d->pod->pub.created_ns = d->created_ns;
    }
    if (d->pod->pub.origin == DESIRED_FROM_FILE)
      d->pod->pub.held = d->held;
    pods[n++] = d->pod;
  }
  free(s->pods);
  s->pods = pods;
  s->n_pods = n;
  s->cap_pods = r->n;
  for (size_t i = 0; i < s->n_problems; i++)
    problem_clear(&s->problems[i]);
  free(s->problems);
  s->problems = r->problems;
  s->n_problems = r->n_problems;
  r->problems = NULL;
  r->n_problems = 0;
}

/* Moves src's entries to the end of dst's arrays, which reserve() grew. */
static int reserve(desired_report *dst, const desired_report *src) {
  if (dst == NULL)
    return 0;
  desired_change *c = realloc(dst->changes, (dst->n_changes + src->n_changes + 1) * sizeof *c);
  if (c != NULL)
    dst->changes = c;
  desired_problem *a =
      realloc(dst->added_problems, (dst->n_added_problems + src->n_added_problems + 1) * sizeof *a);
  if (a != NULL)
    dst->added_problems = a;
  desired_problem *b =
      realloc(dst->resolved_problems, (dst->n_resolved_problems + src->n_resolved_problems + 1) * sizeof *b);
  if (b != NULL)
    dst->resolved_problems = b;
  return c && a && b ? 0 : -1;
}

static void move_report(desired_report *dst, desired_report *src) {
  if (dst == NULL)
    return;
  if (src->n_changes > 0)
    memcpy(dst->changes + dst->n_changes, src->changes, src->n_changes * sizeof *src->changes);
  dst->n_changes += src->n_changes;
  if (src->n_added_problems > 0)
    memcpy(dst->added_problems + dst->n_added_problems, src->added_problems,
           src->n_added_problems * sizeof *src->added_problems);
  dst->n_added_problems += src->n_added_problems;
  if (src->n_resolved_problems > 0)
    memcpy(dst->resolved_problems + dst->n_resolved_problems, src->resolved_problems,
           src->n_resolved_problems * sizeof *src->resolved_problems);
  dst->n_resolved_problems += src->n_resolved_problems;
  src->n_changes = src->n_added_problems = src->n_resolved_problems = 0;
}

int desired_resolve(desired_set *s, int64_t now_ns, desired_report *rep, pv_err *err) {
  resolution r = {0};
  size_t nc = 0;
  claim *c = collect_claims(s, &nc);
  dpod **pods = NULL;
  int rc = -1;
  if (c != NULL && decide_all(s, &r, c, nc, now_ns) == 0 && decide_problems(s, &r) == 0 &&
      decide_report(s, &r) == 0 && reserve(rep, &r.rep) == 0 &&
      (pods = malloc((r.n ? r.n : 1) * sizeof *pods)) != NULL) {
    commit(s, &r, pods);
    move_report(rep, &r.rep);
    rc = 0;
  }
  free(c);
  resolution_free(&r, rc == 0);
  if (rc < 0)
    return pv_err_set(err, ENOMEM, "desired pods: out of memory");
  return 0;
}

size_t claims_of(const desired_set *s, const char *ns, const char *name, const dfile **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < s->n_files; i++) {
    const dfile *f = s->files[i];
    for (size_t j = 0; j < f->n_good; j++) {
      if (pod_cmp_key(ns, name, f->good[j]->pod->ns, f->good[j]->pod->name) != 0)
        continue;
      if (n < max)
        out[n] = f;
      n++;
      break;
    }
  }
  return n;
}
