/*
 * daemon_pods.c - the pods' keepers: launch, adoption at start, stop,
 * container updates and the keepers' callbacks.  Each entry of the pod table
 * (daemon_podtab.c, one per pod that is desired or has a keeper) holds its
 * podctl_shim handle, the snapshot its keeper runs, and the keeper's latest
 * status document (from its watch stream: nothing here polls).
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
 * its leftovers removed in the thread pool (podctl_clean_dead, in
 * daemon_podtab.c), and then the reconcile relaunches it on the same
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

#include "supervisor/core/util.h"
#include "supervisor/daemon/daemon_core.h"
#include "supervisor/proto/podjson.h"
#include "supervisor/proto/podsnap.h"

#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 60000
#define STARTING_TRIES 25 /* 200 ms apart: a keeper gets 5 s to write its pid */

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
    dpods_finish_delete(e);
    pvd_maybe_finish(d);
    return;
  }
  e->intent = PVD_INTENT_NONE;
  dpods_set_error(e, pv_err_str(err));
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
  dpods_set_error(e, NULL);
  dpods_set_paths(e, pp != NULL ? pp->uid : "");
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
    dpods_finish_delete(e);
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
    dpods_set_error(e, msg);
    pvd_log(d, PVD_LOG_WARN, e->pub.ns, e->pub.name, "keeper died status=%d", status);
    e->had_keeper = true;
    if (dpods_clean_after_death(e, status) == 0) {
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
    dpods_set_error(e, why);
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
  dpods_finish_delete(e);
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
  dpods_set_paths(e, snap->uid);
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
