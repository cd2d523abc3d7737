/*
 * daemon_podtab.c - the pod table and what a pod leaves on disk.
 *
 * The table is d->pods, an array of pvd_entry pointers sorted by
 * namespace/name (daemon_core.h); this file alone makes, finds and frees
 * entries, and tells the API of each one added, changed or removed.  An
 * entry's paths and last_error are set here too, for daemon_pods.c, which
 * owns everything else an entry holds (its keeper's handle, the snapshot it
 * runs, its state and intent) and decides when an entry ends.
 *
 * What a pod leaves is removed here, most of it in the thread pool:
 *  - after a delete (dpods_finish_delete): the run directory when no keeper
 *    holds it, the instance's data and logs, and its user-namespace id
 *    range, which a keeper killed with -9 could not give back;
 *  - after a keeper died on its own (dpods_clean_after_death): its cgroups,
 *    socket and upper dirs (podctl_clean_dead), before the relaunch the
 *    reconcile makes.
 *
 * Calls go one way: daemon_pods.c calls this file, never the reverse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/core/idpool.h"
#include "supervisor/core/util.h"
#include "supervisor/daemon/daemon_core.h"

/* --- the table ---------------------------------------------------------------------------- */

static int cmp_key(const char *ns, const char *name, const pvd_entry *e) {
  int c = strcmp(ns, e->pub.ns);
  return c != 0 ? c : strcmp(name, e->pub.name);
}

/* The index of ns/name, or where it would go (*found false). */
static size_t lookup(const pvd *d, const char *ns, const char *name, bool *found) {
  size_t lo = 0, hi = d->n_pods;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = cmp_key(ns, name, d->pods[mid]);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  *found = false;
  return lo;
}

pvd_entry *dpods_find(const pvd *d, const char *ns, const char *name) {
  bool found;
  size_t i = lookup(d, ns, name, &found);
  return found ? d->pods[i] : NULL;
}

size_t pvd_pods_count(const pvd *d) {
  return d->n_pods;
}

const pvd_pod *pvd_pods_at(const pvd *d, size_t i) {
  return i < d->n_pods ? &d->pods[i]->pub : NULL;
}

const pvd_pod *pvd_pod_find(const pvd *d, const char *ns, const char *name) {
  pvd_entry *e = dpods_find(d, ns, name);
  return e != NULL ? &e->pub : NULL;
}

const podpaths *pvd_pod_paths(const pvd_pod *p) {
  const pvd_entry *e = (const pvd_entry *)p;
  return e->have_paths && (e->shim != NULL || e->had_keeper) ? &e->paths : NULL;
}

void dpods_changed(pvd *d, pvd_entry *e) {
  e->pub.rv = ++d->rv;
  if (e->listed)
    pvd_api_pod_changed(d, e->pub.ns, e->pub.name, PVD_WATCH_MODIFIED);
}

pvd_entry *dpods_get(pvd *d, const char *ns, const char *name, pv_err *err) {
  bool found;
  size_t i = lookup(d, ns, name, &found);
  if (found)
    return d->pods[i];
  if (d->n_pods == d->cap_pods) {
    size_t cap = d->cap_pods ? d->cap_pods * 2 : 64;
    pvd_entry **p = realloc(d->pods, cap * sizeof *p);
    if (p == NULL) {
      pv_err_set(err, ENOMEM, "pod %s/%s: out of memory", ns, name);
      return NULL;
    }
    d->pods = p;
    d->cap_pods = cap;
  }
  pvd_entry *e = calloc(1, sizeof *e);
  if (e == NULL || (e->pub.ns = strdup(ns)) == NULL || (e->pub.name = strdup(name)) == NULL) {
    if (e != NULL)
      free(e->pub.ns);
    free(e);
    pv_err_set(err, ENOMEM, "pod %s/%s: out of memory", ns, name);
    return NULL;
  }
  e->d = d;
  e->pub.state = PVD_POD_PENDING;
  e->pub.created_ns = pvd_now_ns();
  memmove(d->pods + i + 1, d->pods + i, (d->n_pods - i) * sizeof *d->pods);
  d->pods[i] = e;
  d->n_pods++;
  e->pub.rv = ++d->rv;
  e->listed = true;
  pvd_api_pod_changed(d, ns, name, PVD_WATCH_ADDED);
  return e;
}

static void entry_free(pvd_entry *e) {
  if (e->conn != NULL)
    podctl_conn_close(e->conn);
  e->conn = NULL;
  if (e->shim != NULL)
    podctl_shim_close(e->shim);
  spec_pod_free(e->pub.running);
  spec_pod_free(e->launch_spec);
  free(e->pub.status_json);
  free(e->pub.last_error);
  podpaths_free(&e->paths);
  free(e->pub.ns);
  free(e->pub.name);
  free(e);
}

void dpods_remove(pvd *d, pvd_entry *e) {
  bool found;
  size_t i = lookup(d, e->pub.ns, e->pub.name, &found);
  if (!found || d->pods[i] != e)
    return;
  if (e->listed)
    pvd_api_pod_changed(d, e->pub.ns, e->pub.name, PVD_WATCH_DELETED);
  d->rv++;
  memmove(d->pods + i, d->pods + i + 1, (d->n_pods - i - 1) * sizeof *d->pods);
  d->n_pods--;
  entry_free(e);
}

void dpods_free_all(pvd *d) {
  for (size_t i = 0; i < d->n_pods; i++)
    entry_free(d->pods[i]);
  free(d->pods);
  d->pods = NULL;
  d->n_pods = d->cap_pods = 0;
}

size_t dpods_live(const pvd *d) {
  size_t n = 0;
  for (size_t i = 0; i < d->n_pods; i++)
    if (d->pods[i]->shim != NULL)
      n++;
  return n;
}

void dpods_set_error(pvd_entry *e, const char *msg) {
  free(e->pub.last_error);
  e->pub.last_error = msg != NULL ? strdup(msg) : NULL;
}

/* The entry's paths for instance uid ("" : the run directory's only). */
void dpods_set_paths(pvd_entry *e, const char *uid) {
  pvd *d = e->d;
  pv_err err;
  podpaths_free(&e->paths);
  e->have_paths = false;
  char q[1100];
  if (podpaths_init(&e->paths, d->opts.run_root, e->pub.key, &err) < 0) {
    pvd_log(d, PVD_LOG_ERROR, e->pub.ns, e->pub.name, "paths error=%s",
            pvd_logfmt_quote(err.msg, q, sizeof q));
    return;
  }
  if (uid != NULL && *uid != '\0' &&
      podpaths_set_instance(&e->paths, d->opts.root, e->pub.ns, e->pub.name, uid, &err) < 0) {
    pvd_log(d, PVD_LOG_ERROR, e->pub.ns, e->pub.name, "paths error=%s",
            pvd_logfmt_quote(err.msg, q, sizeof q));
  }
  e->have_paths = true;
  snprintf(e->pub.uid, sizeof e->pub.uid, "%s", uid != NULL ? uid : "");
}

/* --- removing what a deleted pod leaves -------------------------------------------------- */

typedef struct rm_work {
  uv_work_t req;
  char *paths[2];
  char *userns_dir; /* <root>/userns: the instance's id range goes with its data */
  char uid[IDPOOL_OWNER_MAX + 1];
} rm_work;

static void rm_run(uv_work_t *req) {
  rm_work *w = req->data;
  for (int i = 0; i < 2; i++)
    if (w->paths[i] != NULL)
      (void)pv_rm_rf(w->paths[i], NULL);
  /* A keeper that stopped cleanly gave it back already; one that died
   * (kill -9) could not (idpool.h). */
  if (w->userns_dir != NULL && w->uid[0] != '\0')
    (void)idpool_release(w->userns_dir, w->uid, NULL);
}

static void rm_done(uv_work_t *req, int status) {
  (void)status;
  rm_work *w = req->data;
  free(w->paths[0]);
  free(w->paths[1]);
  free(w->userns_dir);
  free(w);
}

/* The instance's data and logs are removed in the thread pool (a new
 * instance of the pod has another uid, so nothing races); the run directory
 * is the key's, which the next keeper of the name reuses, so it is removed
 * here and now, and only when no keeper holds it. */
static void remove_leftovers(pvd_entry *e) {
  if (!e->have_paths)
    return;
  pid_t pid;
  podctl_liveness lv = podctl_probe(&e->paths, &pid);
  if (lv != PODCTL_LIVE && lv != PODCTL_STARTING)
    (void)pv_rm_rf(e->paths.run_dir, NULL);
  if (e->paths.pod_dir == NULL && e->paths.log_dir == NULL)
    return;
  rm_work *w = calloc(1, sizeof *w);
  if (w == NULL)
    return;
  w->paths[0] = e->paths.pod_dir != NULL ? strdup(e->paths.pod_dir) : NULL;
  w->paths[1] = e->paths.log_dir != NULL ? strdup(e->paths.log_dir) : NULL;
  if (asprintf(&w->userns_dir, "%s/userns", e->d->opts.root) < 0)
    w->userns_dir = NULL;
  snprintf(w->uid, sizeof w->uid, "%s", e->pub.uid);
  w->req.data = w;
  if (uv_queue_work(&e->d->loop, &w->req, rm_run, rm_done) < 0)
    rm_done(&w->req, 0);
}

void dpods_finish_delete(pvd_entry *e) {
  pvd *d = e->d;
  remove_leftovers(e);
  pvd_eventf(d, e->pub.ns, e->pub.name, e->pub.uid, NULL, false, false, "Deleted", "Deleted pod %s",
             e->pub.name);
  dpods_remove(d, e);
  if (!d->shutting_down)
    pvd_reconcile_soon(d); /* a pod of that name may be desired again */
}

/* --- removing what a dead keeper leaves ------------------------------------------------- */

/* What a keeper that died on its own left, removed in the thread pool
 * (podctl_clean_dead blocks for a moment); the relaunch follows. */
typedef struct dead_work {
  uv_work_t req;
  pvd *d;
  podpaths pp;
  int status, rc;
  pv_err err;
} dead_work;

static void dead_run(uv_work_t *req) {
  dead_work *w = req->data;
  pv_err_clear(&w->err);
  w->rc = podctl_clean_dead(&w->pp, w->status, false, &w->err);
}

static void dead_done(uv_work_t *req, int status) {
  (void)status;
  dead_work *w = req->data;
  pvd *d = w->d;
  if (w->rc < 0)
    pvd_log(d, PVD_LOG_WARN, NULL, NULL, "cleaning up after a dead keeper dir=%s: %s", w->pp.run_dir,
            pv_err_str(&w->err));
  podpaths_free(&w->pp);
  free(w);
  if (d->shutting_down)
    pvd_maybe_finish(d);
  else
    pvd_reconcile_soon(d);
}

/* Marks the dead keeper's pod (its containers terminated, ShimDied) and
 * removes its cgroups, socket and upper dirs before the relaunch: 0 when
 * that is under way (the reconcile follows it). */
int dpods_clean_after_death(pvd_entry *e, int status) {
  if (!e->have_paths || status == 0)
    return -1;
  dead_work *w = calloc(1, sizeof *w);
  if (w == NULL || podpaths_copy(&w->pp, &e->paths) < 0) {
    free(w);
    return -1;
  }
  w->d = e->d;
  w->status = status;
  w->req.data = w;
  if (uv_queue_work(&e->d->loop, &w->req, dead_run, dead_done) < 0) {
    podpaths_free(&w->pp);
    free(w);
    return -1;
  }
  return 0;
}
