/*
 * desired_apply.c - API requests on applied pods: apply, create, replace
 * (all-or-nothing) and delete, with the ownership rule (see desired.h).
 *
 * A commit writes every new or changed pod's file first and removes the
 * pruned ones second; when one step fails, what was done is undone from the
 * pods still in memory, and the set is left as it was.  Only then is the set
 * changed, which cannot fail but for the report and the state file.
 */
#include "supervisor/daemon/desired_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/hash.h"

/* The manifest file that owns ns/name today, or NULL: the file a file pod
 * came from, or, for a pod that is not desired, a file that declares it
 * (held back in a conflict).  An applied pod is owned by the API even when
 * a file declares it too. */
static const char *owner_file(const desired_set *s, const char *ns, const char *name) {
  const desired_pod *d = desired_find(s, ns, name);
  if (d != NULL)
    return d->origin == DESIRED_FROM_FILE ? d->file : NULL;
  return desired_claiming_file(s, ns, name);
}

/* Puts pods of "default" into the request's namespace (see desired.h). */
static int move_namespace(spec_pod_list *pods, const char *ns, pv_err *err) {
  for (size_t i = 0; i < pods->n; i++) {
    spec_pod *p = pods->items[i];
    if (strcmp(p->ns, ns) == 0)
      continue;
    if (strcmp(p->ns, "default") != 0)
      return pv_err_set(
          err, EINVAL,
          "pod %s/%s: the namespace of the provided object does not match the namespace sent on "
          "the request (%s)",
          p->ns, p->name, ns);
    char *c = strdup(ns);
    if (c == NULL)
      return pv_err_set(err, ENOMEM, "out of memory");
    free(p->ns);
    p->ns = c;
    hash_pod(p); /* the namespace is part of the sandbox hash */
  }
  for (size_t i = 0; i < pods->n; i++)
    for (size_t j = 0; j < i; j++)
      if (pod_cmp_key(pods->items[i]->ns, pods->items[i]->name, pods->items[j]->ns, pods->items[j]->name) ==
          0)
        return pv_err_set(err, EINVAL, "pod %s/%s is defined twice in the request", pods->items[i]->ns,
                          pods->items[i]->name);
  return 0;
}

/* Ownership, then existence for CREATE and REPLACE: the first refusal in
 * err (with how many more there are). */
static int check_pods(const desired_set *s, const spec_pod_list *pods, const desired_apply_opts *o,
                      pv_err *err) {
  size_t refused = 0;
  for (size_t i = 0; i < pods->n; i++) {
    const spec_pod *p = pods->items[i];
    const char *file = owner_file(s, p->ns, p->name);
    const desired_pod *d = desired_find(s, p->ns, p->name);
    int code = 0;
    char msg[PV_ERR_MSG_MAX];
    if (file != NULL) {
      code = EPERM;
      snprintf(msg, sizeof msg,
               "pod %s/%s is declared by the manifest file %s: it cannot be created, replaced or deleted "
               "through the API (edit or remove the file)",
               p->ns, p->name, file);
    } else if (o->mode == DESIRED_CREATE && d != NULL) {
      code = EEXIST;
      snprintf(msg, sizeof msg, "pods \"%s\" already exists (namespace %s)", p->name, p->ns);
    } else if (o->mode == DESIRED_REPLACE && d == NULL) {
      code = ENOENT;
      snprintf(msg, sizeof msg, "pods \"%s\" not found (namespace %s)", p->name, p->ns);
    }
    if (code != 0 && refused++ == 0)
      pv_err_set(err, code, "%s", msg);
  }
  if (refused > 1)
    pv_err_wrap(err, "%zu pods of the request are refused, the first", refused);
  return refused > 0 ? -1 : 0;
}

static int fail_parse(spec_pod_list *pods, const char *label, const diag_list *diags, size_t before, int e,
                      pv_err *err) {
  spec_pod_list_free(pods);
  *pods = (spec_pod_list){0};
  if (e == ENOMEM && diags->errors == before)
    return pv_err_set(err, ENOMEM, "%s: out of memory", label);
  return pv_err_set(err, EINVAL, "%s is invalid (%zu error%s): nothing was applied", label,
                    diags->errors - before, diags->errors - before == 1 ? "" : "s");
}

int desired_request_parse(const desired_set *s, const char *body, size_t len, const desired_apply_opts *o,
                          spec_pod_list *pods, diag_list *diags, pv_err *err) {
  const char *label = o->label ? o->label : "<request>";
  diag_list scratch;
  diag_list_init(&scratch);
  diag_list *dl = diags ? diags : &scratch;
  size_t before = dl->errors;
  int r = spec_parse_buffer(label, body, len, 0, pods, dl);
  int e = errno;
  if (r < 0) {
    fail_parse(pods, label, dl, before, e, err);
    diag_list_free(&scratch);
    return -1;
  }
  diag_list_free(&scratch);
  int rc = 0;
  if (pods->n == 0)
    rc = pv_err_set(err, EINVAL, "%s holds no pod: nothing was applied", label);
  else if (o->ns != NULL)
    rc = move_namespace(pods, o->ns, err);
  if (rc == 0 && o->mode == DESIRED_REPLACE && o->name != NULL &&
      (pods->n != 1 || strcmp(pods->items[0]->name, o->name) != 0))
    rc = pv_err_set(err, EINVAL, "the request must be the one pod %s", o->name);
  if (rc == 0)
    rc = check_pods(s, pods, o, err);
  if (rc < 0) {
    spec_pod_list_free(pods);
    *pods = (spec_pod_list){0};
  }
  return rc;
}

/* --- commit ----------------------------------------------------------------------- */

typedef struct step {
  dpod *cur;  /* the applied pod today, or NULL */
  dpod *next; /* its new state (a new dpod), or NULL: removed (prune) */
  bool done;  /* written / removed on disk */
} step;

static void undo(const desired_set *s, step *st, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!st[i].done)
      continue;
    /* Best effort: the old state is in memory, a failure here is the same
     * disk that just failed. */
    if (st[i].cur != NULL)
      (void)store_write(s, &st[i].cur->pub, NULL);
    else
      (void)store_remove(s, st[i].next->pub.spec->ns, st[i].next->pub.spec->name, NULL);
  }
}

/* A step for pod p of the request (taken), or none when it changes nothing. */
static int make_step(desired_set *s, spec_pod *p, int64_t now_ns, uint64_t *rv, step *out, size_t *n) {
  dpod *cur = NULL;
  ssize_t at = pods_search(s, p->ns, p->name);
  if (at >= 0)
    cur = s->pods[at];
  char uid[DESIRED_UID_MAX + 1];
  if (p->uid != NULL)
    snprintf(uid, sizeof uid, "%s", p->uid);
  else if (cur != NULL)
    snprintf(uid, sizeof uid, "%s", cur->pub.uid);
  else
    desired_new_uid(uid);
  if (cur != NULL && strcmp(cur->pub.uid, uid) == 0 && pod_same_content(cur->pub.spec, p)) {
    spec_pod_free(p);
    return 0;
  }
  dpod *next = calloc(1, sizeof *next);
  dspec *d = dspec_new(p);
  if (next == NULL || d == NULL || dpod_set_spec(next, d, uid) < 0) {
    dspec_unref(d);
    dpod_free(next);
    return -1;
  }
  dspec_unref(d); /* next holds it */
  next->pub.origin = DESIRED_FROM_API;
  next->pub.created_ns = cur != NULL ? cur->pub.created_ns : now_ns;
  next->pub.resource_version = ++*rv;
  out[(*n)++] = (step){.cur = cur, .next = next};
  return 0;
}

static bool named_in(const spec_pod_list *pods, const spec_pod *p) {
  for (size_t i = 0; i < pods->n; i++)
    if (pod_cmp_key(pods->items[i]->ns, pods->items[i]->name, p->ns, p->name) == 0)
      return true;
  return false;
}

/* The writes first, the removals second, each batched (two syncs for all
 * the writes, one for all the removals); undone on the first failure. */
static int write_steps(desired_set *s, step *st, size_t n, pv_err *err) {
  const desired_pod **batch = malloc((n ? n : 1) * sizeof *batch);
  size_t *at = malloc((n ? n : 1) * sizeof *at);
  if (batch == NULL || at == NULL) {
    free(batch);
    free(at);
    return pv_err_set(err, ENOMEM, "apply: out of memory, nothing was changed");
  }
  int rc = 0;
  for (int pass = 0; pass < 2 && rc == 0; pass++) {
    size_t k = 0, done = 0;
    for (size_t i = 0; i < n; i++) {
      if ((st[i].next != NULL) != (pass == 0))
        continue;
      batch[k] = st[i].next ? &st[i].next->pub : &st[i].cur->pub;
      at[k++] = i;
    }
    if (k == 0)
      continue;
    rc = pass == 0 ? store_write_many(s, batch, k, &done, err) : store_remove_many(s, batch, k, &done, err);
    for (size_t j = 0; j < done; j++)
      st[at[j]].done = true;
    if (rc < 0) {
      const spec_pod *p = batch[done < k ? done : k - 1]->spec;
      undo(s, st, n);
      pv_err_wrap(err, "apply of pod %s/%s failed, nothing was changed", p->ns, p->name);
    }
  }
  free(batch);
  free(at);
  return rc;
}

/* Swaps the new states in; fails only on memory for a new pod's slot. */
static int swap_in(desired_set *s, step *st, size_t n, uint64_t rv, desired_report *rep) {
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    const spec_pod *p = st[i].next ? st[i].next->pub.spec : st[i].cur->pub.spec;
    ssize_t at = pods_search(s, p->ns, p->name);
    if (st[i].next == NULL) {
      st[i].cur->pub.resource_version = ++rv; /* after the request's pods' (make_step) */
      if (report_change(rep, DESIRED_REMOVED, st[i].cur, false) < 0)
        rc = -1;
      pods_remove(s, (size_t)at);
      dpod_free(st[i].cur);
      continue;
    }
    bool spec_changed = st[i].cur && (strcmp(st[i].cur->pub.spec->hash, p->hash) != 0 ||
                                      strcmp(st[i].cur->pub.uid, st[i].next->pub.uid) != 0);
    if (at >= 0) {
      s->pods[at] = st[i].next;
      dpod_free(st[i].cur);
    } else if (pods_insert(s, (size_t)(-at - 1), st[i].next) < 0) {
      dpod_free(st[i].next);
      rc = -1;
      continue;
    }
    if (report_change(rep, st[i].cur ? DESIRED_CHANGED : DESIRED_ADDED, st[i].next, spec_changed) < 0)
      rc = -1;
  }
  s->revision = rv;
  return rc;
}

static int change_cmp(const void *va, const void *vb) {
  const desired_change *a = va, *b = vb;
  return pod_cmp_key(a->ns, a->name, b->ns, b->name);
}

/* After the set changed: files may take over pods, the state file follows
 * (not written when nothing changed: an identical apply does nothing). */
static int settle(desired_set *s, uint64_t before, int64_t now_ns, desired_report *rep, int rc, pv_err *err) {
  pv_err rerr;
  if (desired_resolve(s, now_ns, rep, &rerr) < 0)
    rc = -1;
  if (rep != NULL && rep->n_changes > 1)
    qsort(rep->changes, rep->n_changes, sizeof *rep->changes, change_cmp);
  if (s->revision != before)
    (void)state_save(s, rep ? &rep->persist : NULL);
  if (rc < 0)
    return pv_err_set(err, ENOMEM,
                      "desired pods: out of memory (the change is made, its report is incomplete)");
  return 0;
}

int desired_request_commit(desired_set *s, spec_pod_list *pods, const desired_apply_opts *o, int64_t now_ns,
                           desired_report *rep, pv_err *err) {
  /* Checked again: the set may have changed since the request was parsed. */
  if (check_pods(s, pods, o, err) < 0) {
    spec_pod_list_free(pods);
    *pods = (spec_pod_list){0};
    return -1;
  }
  size_t cap = pods->n + s->n_pods, n = 0;
  step *st = calloc(cap ? cap : 1, sizeof *st);
  if (st == NULL)
    return pv_err_set(err, ENOMEM, "desired pods: out of memory");
  uint64_t rv = s->revision, before = s->revision;
  for (size_t i = 0; o->mode == DESIRED_APPLY && o->prune && i < s->n_pods; i++)
    if (s->pods[i]->pub.origin == DESIRED_FROM_API && !named_in(pods, s->pods[i]->pub.spec))
      st[n++] = (step){.cur = s->pods[i]};
  int rc = 0;
  while (rc == 0 && pods->n > 0)
    rc = make_step(s, spec_pod_list_steal(pods, 0), now_ns, &rv, st, &n);
  if (rc < 0)
    pv_err_set(err, ENOMEM, "desired pods: out of memory");
  else
    rc = write_steps(s, st, n, err);
  if (rc < 0) {
    for (size_t i = 0; i < n; i++)
      dpod_free(st[i].next);
    free(st);
    spec_pod_list_free(pods);
    *pods = (spec_pod_list){0};
    return -1;
  }
  rc = swap_in(s, st, n, rv, rep);
  free(st);
  spec_pod_list_free(pods);
  *pods = (spec_pod_list){0};
  return settle(s, before, now_ns, rep, rc, err);
}

int desired_apply(desired_set *s, const char *body, size_t len, const desired_apply_opts *o, int64_t now_ns,
                  desired_report *rep, diag_list *diags, pv_err *err) {
  spec_pod_list pods = {0};
  if (desired_request_parse(s, body, len, o, &pods, diags, err) < 0)
    return -1;
  return desired_request_commit(s, &pods, o, now_ns, rep, err);
}

int desired_delete(desired_set *s, const char *ns, const char *name, int64_t now_ns, desired_report *rep,
                   pv_err *err) {
  const char *file = owner_file(s, ns, name);
  if (file != NULL)
    return pv_err_set(err, EPERM,
                      "pod %s/%s is declared by the manifest file %s: it cannot be deleted through the API "
                      "(remove it from the file)",
                      ns, name, file);
  ssize_t at = pods_search(s, ns, name);
  if (at < 0)
    return pv_err_set(err, ENOENT, "pods \"%s\" not found (namespace %s)", name, ns);
  if (store_remove(s, ns, name, err) < 0)
    return pv_err_wrap(err, "delete pod %s/%s", ns, name);
  dpod *p = s->pods[at];
  pods_remove(s, (size_t)at);
  uint64_t before = s->revision;
  p->pub.resource_version = ++s->revision;
  int rc = report_change(rep, DESIRED_REMOVED, p, false);
  dpod_free(p);
  return settle(s, before, now_ns, rep, rc, err);
}
