/*
 * daemon_pods.c - the pod table: one entry per pod that is desired or has a
 * keeper, each with its podctl_shim handle, the snapshot its keeper runs,
 * and the keeper's latest status document (from its watch stream: nothing
 * here polls).
 *
 * An entry's life, in pvd_pod_state terms:
 *   PENDING ──launch──► LAUNCHING ──launched──► RUNNING ──stop──► STOPPING
 *      ▲                    │ failed (backoff)     │ keeper died      │ exited
 *      └────────────────────┴──────────────────────┘◄─────────────────┘ (intent)
 * What a STOPPING entry's exit leads to is its intent: RECREATE goes back
 * to PENDING (the reconcile launches the desired spec), DELETE removes the
 * pod's run directory, data and logs and then the entry, SHUTDOWN waits for
 * the daemon's end.  A keeper that dies on its own (kill -9) leaves the
 * entry PENDING with had_keeper; its pod's status is marked (ShimDied) and
 * its leftovers removed in the thread pool (podctl_clean_dead), and then
 * the reconcile relaunches it on the same
 * instance, and the new keeper carries the restart counts forward from the
 * status file its predecessor left (keep_instance).
 *
 * Launch failures are kept in last_error and retried with a doubling delay
 * (1 s up to 60 s), each with a Failed event.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/idpool.h"
#include "supervisor/core/util.h"
#include "supervisor/daemon/daemon_core.h"
#include "supervisor/proto/podjson.h"
#include "supervisor/proto/podsnap.h"

#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 60000
#define STARTING_TRIES 25 /* 200 ms apart: a keeper gets 5 s to write its pid */

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

static void set_error(pvd_entry *e, const char *msg) {
  free(e->pub.last_error);
  e->pub.last_error = msg != NULL ? strdup(msg) : NULL;
}

/* The entry's paths for instance uid ("" : the run directory's only). */
static void set_paths(pvd_entry *e, const char *uid) {
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

static void finish_delete(pvd_entry *e) {
  pvd *d = e->d;
  remove_leftovers(e);
  pvd_eventf(d, e->pub.ns, e->pub.name, e->pub.uid, NULL, false, false, "Deleted", "Deleted pod %s",
             e->pub.name);
  dpods_remove(d, e);
  if (!d->shutting_down)
    pvd_reconcile_soon(d); /* a pod of that name may be desired again */
}

/* --- podctl's callbacks --------------------------------------------------------------- */

static void on_status(podctl_shim *s, const json_t *status, void *ctx) {
  (void)s;
  pvd_entry *e = ctx;
  char *cur = json_dumps(status, JSON_COMPACT);
  if (cur == NULL)
    return;
  json_t *old = pvd_pod_status(&e->pub);
  pvd_events_from_status(e->d, e, old, status);
  json_decref(old);
  free(e->pub.status_json);
  e->pub.status_json = cur;
  dpods_changed(e->d, e);
}

static void on_watch_ended(podctl_shim *s, const pv_err *err, void *ctx) {
  (void)s;
  pvd_entry *e = ctx;
  if (err != NULL && e->pub.state == PVD_POD_RUNNING) {
    char q[1100];
    pvd_log(e->d, PVD_LOG_WARN, e->pub.ns, e->pub.name, "watch stream broken error=%s",
            pvd_logfmt_quote(err->msg, q, sizeof q));
  }
}

static void start_watch(pvd_entry *e) {
  pv_err err;
  if (podctl_watch(e->shim, &err) < 0) {
    char q[1100];
    pvd_log(e->d, PVD_LOG_WARN, e->pub.ns, e->pub.name, "no watch stream error=%s",
            pvd_logfmt_quote(err.msg, q, sizeof q));
  }
}

/* A launch that failed: kept in last_error, an event, a retry after a
 * doubling delay; a launch made only to clean up removes what it can. */
static void launch_failed(pvd_entry *e, const pv_err *err) {
  pvd *d = e->d;
  e->pub.state = PVD_POD_PENDING;
  if (e->intent == PVD_INTENT_DELETE) {
    finish_delete(e);
    pvd_maybe_finish(d);
    return;
  }
  e->intent = PVD_INTENT_NONE;
  set_error(e, pv_err_str(err));
  e->failures++;
  uint64_t delay = RETRY_FIRST_MS;
  for (unsigned i = 1; i < e->failures && delay < RETRY_MAX_MS; i++)
    delay *= 2;
  if (delay > RETRY_MAX_MS)
    delay = RETRY_MAX_MS;
  e->retry_at_ms = uv_now(&d->loop) + delay;
  if (err->code != ECANCELED)
    pvd_eventf(d, e->pub.ns, e->pub.name, e->pub.uid, NULL, false, true, "Failed",
               "Error starting the pod's keeper (retry in %llus): %s", (unsigned long long)(delay / 1000),
               pv_err_str(err));
  dpods_changed(d, e);
  if (d->shutting_down)
    pvd_maybe_finish(d);
  else
    pvd_reconcile_soon(d);
}

static void on_launched(podctl_shim *s, const pv_err *err, void *ctx) {
  pvd_entry *e = ctx;
  pvd *d = e->d;
  spec_pod *spec = e->launch_spec;
  e->launch_spec = NULL;
  if (err != NULL) {
    podctl_shim_close(s);
    e->shim = NULL;
    spec_pod_free(spec);
    launch_failed(e, err);
    return;
  }
  const podpaths *pp = podctl_shim_paths(s);
  e->shim_alive = true;
  e->had_keeper = true;
  e->pub.state = PVD_POD_RUNNING;
  e->failures = 0;
  e->retry_at_ms = 0;
  set_error(e, NULL);
  set_paths(e, pp != NULL ? pp->uid : "");
  spec_pod_free(e->pub.running);
  e->pub.running = spec;
  if (e->pub.running == NULL && e->have_paths)
    (void)podsnap_load(e->paths.snapshot, &e->pub.running, NULL);
  /* The first document of a launched keeper is news against nothing. */
  free(e->pub.status_json);
  e->pub.status_json = strdup("{}");
  start_watch(e);
  pvd_log(d, PVD_LOG_INFO, e->pub.ns, e->pub.name, "keeper running pid=%d uid=%s", (int)podctl_shim_pid(s),
          e->pub.uid);
  dpods_changed(d, e);
  if (e->intent == PVD_INTENT_DELETE || d->shutting_down)
    dpods_stop(
        e, d->shutting_down && e->intent != PVD_INTENT_DELETE ? PVD_INTENT_SHUTDOWN : PVD_INTENT_DELETE, -1);
  else
    pvd_reconcile_soon(d); /* the desired spec may have changed meanwhile */
}

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
static int clean_after_death(pvd_entry *e, int status) {
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

static void on_exited(podctl_shim *s, int status, void *ctx) {
  pvd_entry *e = ctx;
  pvd *d = e->d;
  podctl_shim_close(s);
  e->shim = NULL;
  e->shim_alive = false;
  if (e->conn != NULL) {
    podctl_conn_close(e->conn);
    e->conn = NULL;
  }
  pvd_pod_state was = e->pub.state;
  pvd_intent intent = e->intent;
  e->intent = PVD_INTENT_NONE;
  e->update_refused = false;
  e->pub.state = PVD_POD_PENDING;
  if (was == PVD_POD_STOPPING && intent == PVD_INTENT_DELETE) {
    pvd_log(d, PVD_LOG_INFO, e->pub.ns, e->pub.name, "keeper stopped status=%d", status);
    finish_delete(e);
    pvd_maybe_finish(d);
    return;
  }
  if (was == PVD_POD_STOPPING) {
    pvd_log(d, PVD_LOG_INFO, e->pub.ns, e->pub.name, "keeper stopped status=%d", status);
    /* A clean stop removed the run directory: the next launch is a create. */
    e->had_keeper = false;
    spec_pod_free(e->pub.running);
    e->pub.running = NULL;
  } else {
    char msg[128];
    snprintf(msg, sizeof msg, "the pod's keeper exited unexpectedly (status %d)", status);
    set_error(e, msg);
    pvd_log(d, PVD_LOG_WARN, e->pub.ns, e->pub.name, "keeper died status=%d", status);
    e->had_keeper = true;
    if (clean_after_death(e, status) == 0) {
      dpods_changed(d, e);
      return;
    }
  }
  dpods_changed(d, e);
  if (d->shutting_down)
    pvd_maybe_finish(d);
  else
    pvd_reconcile_soon(d);
}

static const podctl_callbacks shim_cb = {
    .launched = on_launched, .status = on_status, .watch_ended = on_watch_ended, .exited = on_exited};

/* --- what the reconcile asks ---------------------------------------------------------- */

/* An owned copy of spec (its snapshot text parsed back: podctl borrows the
 * pod until `launched`, and the desired set may change before that). */
static spec_pod *spec_copy(const spec_pod *spec, const char *uid, pv_err *err) {
  size_t len;
  char *text = podsnap_render(spec, uid, &len, err);
  if (text == NULL)
    return NULL;
  spec_pod_list l = {0};
  diag_list diags;
  diag_list_init(&diags);
  spec_pod *out = NULL;
  if (spec_parse_buffer(spec->source_file != NULL ? spec->source_file : "pod.json", text, len, 0, &l,
                        &diags) == 0 &&
      l.n == 1)
    out = spec_pod_list_steal(&l, 0);
  else
    pv_err_set(err, EINVAL, "pod %s: its snapshot does not read back", spec->name);
  spec_pod_list_free(&l);
  diag_list_free(&diags);
  free(text);
  return out;
}

int dpods_launch(pvd_entry *e, const spec_pod *spec, bool keep_instance) {
  pvd *d = e->d;
  pv_err err;
  pv_err_clear(&err);
  spec_pod *copy = NULL;
  if (spec != NULL) {
    copy = spec_copy(spec, spec->uid, &err);
    if (copy == NULL)
      goto failed;
    spec_pod_key(copy, e->pub.key);
  }
  podctl_launch_opts o = {.root = d->opts.root,
                          .run_root = d->opts.run_root,
                          .shim_path = d->opts.shim_path,
                          .cgroup_parent = d->opts.cgroup_parent,
                          .keep_instance = keep_instance};
  e->launch_spec = copy;
  if (podctl_launch(&d->loop, copy, e->pub.key, &o, &shim_cb, e, &e->shim, &err) < 0) {
    e->launch_spec = NULL;
    spec_pod_free(copy);
    e->shim = NULL;
    goto failed;
  }
  e->pub.state = PVD_POD_LAUNCHING;
  dpods_changed(d, e);
  return 0;
failed:
  e->launch_spec = NULL;
  e->shim = NULL;
  launch_failed(e, &err);
  return -1;
}

void dpods_stop(pvd_entry *e, pvd_intent intent, int64_t grace_s) {
  pvd *d = e->d;
  if (e->shim == NULL)
    return;
  if (e->pub.state == PVD_POD_LAUNCHING) {
    e->intent = intent; /* on_launched stops it */
    return;
  }
  e->intent = intent;
  e->pub.state = PVD_POD_STOPPING;
  pv_err err;
  if (podctl_stop(e->shim, grace_s, &err) < 0) {
    char q[1100];
    pvd_log(d, PVD_LOG_WARN, e->pub.ns, e->pub.name, "stop failed error=%s",
            pvd_logfmt_quote(err.msg, q, sizeof q));
  }
  if (intent != PVD_INTENT_SHUTDOWN)
    pvd_eventf(d, e->pub.ns, e->pub.name, e->pub.uid, NULL, false, false, "Killing", "Stopping pod %s%s",
               e->pub.name, intent == PVD_INTENT_RECREATE ? " to recreate it" : "");
  dpods_changed(d, e);
}

typedef struct update_req {
  pvd_entry *e;
  char *container;
} update_req;

static void on_update_reply(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  (void)c;
  update_req *u = ctx;
  pvd_entry *e = u->e;
  pvd *d = e->d;
  if (fd >= 0)
    close(fd);
  if (m != NULL && m->ok) {
    pvd_eventf(d, e->pub.ns, e->pub.name, e->pub.uid, u->container, false, false, "Updated",
               "Container %s updated%s", u->container, m->restarted == 1 ? " and restarted" : "");
  } else {
    char q[1100];
    const char *why =
        m != NULL ? (m->message != NULL ? m->message : "refused") : (err != NULL ? err->msg : "closed");
    pvd_log(d, PVD_LOG_WARN, e->pub.ns, e->pub.name, "update failed container=%s error=%s", u->container,
            pvd_logfmt_quote(why, q, sizeof q));
    set_error(e, why);
    /* The keeper's verdict wins over the plan's (a change it finds
     * reaches past the container): the next pass recreates the pod,
     * rather than asking again and again. */
    if (m != NULL)
      e->update_refused = true;
  }
  free(u->container);
  free(u);
  if (e->updating > 0 && --e->updating == 0) {
    if (e->conn != NULL)
      podctl_conn_close(e->conn);
    e->conn = NULL;
    /* What the keeper runs now is its rewritten snapshot. */
    spec_pod *snap = NULL;
    if (e->have_paths && podsnap_load(e->paths.snapshot, &snap, NULL) == 0) {
      spec_pod_free(e->pub.running);
      e->pub.running = snap;
    }
    dpods_changed(d, e);
    if (!d->shutting_down)
      pvd_reconcile_soon(d);
  }
}

void dpods_update(pvd_entry *e, const spec_pod *spec, char *const *containers, size_t n) {
  pvd *d = e->d;
  pv_err err;
  char q[1100];
  if (!e->have_paths || podctl_conn_open(&d->loop, e->paths.socket, &e->conn, &err) < 0) {
    if (!e->have_paths)
      pv_err_set(&err, ENOENT, "no run directory");
    pvd_log(d, PVD_LOG_WARN, e->pub.ns, e->pub.name, "update: no connection error=%s",
            pvd_logfmt_quote(err.msg, q, sizeof q));
    e->conn = NULL;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const spec_container *c = spec_pod_container(spec, containers[i]);
    json_t *cj = c != NULL ? podjson_container(c, &err) : NULL;
    update_req *u = calloc(1, sizeof *u);
    if (cj == NULL || u == NULL || (u->container = strdup(containers[i])) == NULL) {
      json_decref(cj);
      free(u);
      continue;
    }
    u->e = e;
    /* Its old run ends within its grace period (and the kill margin). */
    int64_t grace = spec->termination_grace_period_seconds > 0 ? spec->termination_grace_period_seconds : 0;
    e->asked_kill_until_ms = uv_now(&d->loop) + (uint64_t)grace * 1000 + 5000;
    ctlproto_request req = {
        .op = CTLPROTO_OP_UPDATE, .container = containers[i], .grace_seconds = -1, .spec = cj};
    e->updating++;
    if (podctl_conn_request(e->conn, &req, NULL, 0, on_update_reply, u, &err) < 0) {
      e->updating--;
      pvd_log(d, PVD_LOG_WARN, e->pub.ns, e->pub.name, "update failed container=%s error=%s", containers[i],
              pvd_logfmt_quote(err.msg, q, sizeof q));
      free(u->container);
      free(u);
    }
    json_decref(cj);
  }
  if (e->updating == 0) {
    podctl_conn_close(e->conn);
    e->conn = NULL;
  } else {
    dpods_changed(d, e);
  }
}

void dpods_clean_dead(pvd_entry *e) {
  e->intent = PVD_INTENT_DELETE;
  pvd_log(e->d, PVD_LOG_INFO, e->pub.ns, e->pub.name, "cleaning up after a dead keeper");
  /* The keeper of its own snapshot removes its instance's leftovers
   * (cgroups, upper dirs), then stops as it would after a delete. */
  if (e->have_paths && access(e->paths.snapshot, F_OK) == 0) {
    (void)dpods_launch(e, NULL, true);
    return;
  }
  finish_delete(e);
}

/* --- adoption at start ------------------------------------------------------------------ */

static void add_starting(pvd *d, const char *key, unsigned tries) {
  pvd_starting *p = realloc(d->starting, (d->n_starting + 1) * sizeof *p);
  if (p == NULL)
    return;
  d->starting = p;
  snprintf(p[d->n_starting].key, sizeof p[d->n_starting].key, "%s", key);
  p[d->n_starting].tries = tries;
  d->n_starting++;
}

/* One run directory: adopt its live keeper, record a dead one's pod, or
 * remove what is stale and names no pod. */
static void adopt_key(pvd *d, const char *key, unsigned tries) {
  podpaths pp;
  pv_err err;
  char q[1100];
  if (podpaths_init(&pp, d->opts.run_root, key, &err) < 0)
    return;
  pid_t pid = 0;
  podctl_liveness lv = podctl_probe(&pp, &pid);
  spec_pod *snap = NULL;
  if (podsnap_load(pp.snapshot, &snap, NULL) < 0) {
    if (lv == PODCTL_STARTING && tries < STARTING_TRIES) {
      add_starting(d, key, tries + 1); /* its launcher may be writing the snapshot */
    } else if (lv == PODCTL_LIVE || lv == PODCTL_STARTING) {
      pvd_log(d, PVD_LOG_WARN, NULL, NULL, "a keeper without a readable snapshot is left alone key=%s pid=%d",
              key, (int)pid);
    } else {
      pvd_log(d, PVD_LOG_INFO, NULL, NULL, "removing a stale run directory dir=%s",
              pvd_logfmt_quote(pp.run_dir, q, sizeof q));
      (void)pv_rm_rf(pp.run_dir, NULL);
    }
    podpaths_free(&pp);
    return;
  }
  char skey[PODPATHS_KEY_LEN + 1];
  spec_pod_key(snap, skey);
  pvd_entry *e = strcmp(skey, key) == 0 ? dpods_get(d, snap->ns, snap->name, &err) : NULL;
  if (e == NULL || e->shim != NULL) {
    spec_pod_free(snap);
    podpaths_free(&pp);
    return;
  }
  snprintf(e->pub.key, sizeof e->pub.key, "%s", key);
  set_paths(e, snap->uid);
  spec_pod_free(e->pub.running);
  e->pub.running = snap;
  e->had_keeper = true;
  e->pub.state = PVD_POD_PENDING;
  if (lv == PODCTL_LIVE || lv == PODCTL_STARTING) {
    if (podctl_adopt(&d->loop, d->opts.root, d->opts.run_root, key, &shim_cb, e, &e->shim, &err) == 0) {
      e->shim_alive = true;
      e->pub.state = PVD_POD_RUNNING;
      /* The watch's first document is compared with the file's. */
      json_t *st = json_load_file(e->paths.status, 0, NULL);
      free(e->pub.status_json);
      e->pub.status_json = st != NULL ? json_dumps(st, JSON_COMPACT) : NULL;
      json_decref(st);
      start_watch(e);
      pvd_eventf(d, e->pub.ns, e->pub.name, e->pub.uid, NULL, false, false, "Adopted",
                 "Adopted the running keeper of pod %s (pid %d)", e->pub.name, (int)podctl_shim_pid(e->shim));
    } else if (err.code == EAGAIN && tries < STARTING_TRIES) {
      /* In flight for the reconcile (no second keeper is launched) until
       * it is adopted or given up for dead. */
      e->shim = NULL;
      e->pub.state = PVD_POD_LAUNCHING;
      add_starting(d, key, tries + 1);
    } else {
      e->shim = NULL;
      pvd_log(d, PVD_LOG_WARN, e->pub.ns, e->pub.name, "adopt failed error=%s",
              pvd_logfmt_quote(err.msg, q, sizeof q));
    }
  } else {
    pvd_log(d, PVD_LOG_INFO, e->pub.ns, e->pub.name, "found the run directory of a dead keeper uid=%s",
            e->pub.uid);
  }
  dpods_changed(d, e);
  podpaths_free(&pp);
}

void dpods_adopt_all(pvd *d) {
  char dir[4096];
  if (pv_path(dir, sizeof dir, "%s/pods", d->opts.run_root) < 0)
    return;
  DIR *dp = opendir(dir);
  if (dp == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(dp)) != NULL)
    if (podpaths_key_is_valid(de->d_name))
      adopt_key(d, de->d_name, 0);
  closedir(dp);
}

void dpods_adopt_starting(pvd *d) {
  pvd_starting *list = d->starting;
  size_t n = d->n_starting;
  d->starting = NULL;
  d->n_starting = 0;
  for (size_t i = 0; i < n; i++) {
    pvd_entry *e = NULL;
    for (size_t j = 0; j < d->n_pods; j++)
      if (strcmp(d->pods[j]->pub.key, list[i].key) == 0)
        e = d->pods[j];
    if (e != NULL && e->shim != NULL)
      continue;
    adopt_key(d, list[i].key, list[i].tries);
  }
  free(list);
}

void dpods_shutdown(pvd *d, bool keep) {
  for (size_t i = 0; i < d->n_pods; i++) {
    pvd_entry *e = d->pods[i];
    if (keep) {
      if (e->conn != NULL)
        podctl_conn_close(e->conn);
      e->conn = NULL;
      if (e->shim != NULL)
        podctl_shim_close(e->shim);
      e->shim = NULL;
      continue;
    }
    if (e->shim == NULL || e->pub.state == PVD_POD_STOPPING)
      continue;
    dpods_stop(e, e->intent == PVD_INTENT_DELETE ? PVD_INTENT_DELETE : PVD_INTENT_SHUTDOWN,
               e->pub.deletion_ns != 0 ? e->pub.deletion_grace_s : -1);
  }
}
