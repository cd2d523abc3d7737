/*
 * daemon_events.c - the event store: what happened to the pods, as the
 * kubelet's events are (reason, message, the pod and container concerned,
 * first and last time, a count).
 *
 * The store keeps the newest PVD_EVENTS_MAX; an event repeating one already
 * kept (same pod, container, reason and message) counts that one up and
 * moves its last time, as Kubernetes' event correlator does.  Every event
 * is logged and told to the API's watchers.
 *
 * The events a status document shows (pvd_events_from_status) come from
 * the difference between a keeper's consecutive documents, never from
 * polling: a container whose run began (Started), one that waits in
 * CrashLoopBackOff (BackOff), a run that ended OOM killed (OOMKilled) or
 * with a failure (Failed), a probe that failed (Unhealthy).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/daemon_core.h"

static bool str_eq(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp(a, b) == 0;
}

static void event_free(pvd_event *e) {
  if (e == NULL)
    return;
  free(e->ns);
  free(e->pod);
  free(e->pod_uid);
  free(e->container);
  free(e->reason);
  free(e->message);
  free(e);
}

static char *dup_or_null(const char *s) {
  return s != NULL ? strdup(s) : NULL;
}

void pvd_eventf(pvd *d, const char *ns, const char *pod, const char *pod_uid, const char *container,
                bool init_container, bool warning, const char *reason, const char *fmt, ...) {
  char msg[1536] = "";
  if (fmt != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
  }
  if (ns == NULL)
    ns = "default";
  if (pod_uid != NULL && *pod_uid == '\0')
    pod_uid = NULL;
  int64_t now = pvd_now_ns();
  char q[1600], qc[200];
  pvd_log(d, warning ? PVD_LOG_WARN : PVD_LOG_INFO, ns, pod, "event reason=%s%s%s message=%s", reason,
          container != NULL ? " container=" : "",
          container != NULL ? pvd_logfmt_quote(container, qc, sizeof qc) : "",
          pvd_logfmt_quote(msg, q, sizeof q));
  for (size_t i = d->n_events; i-- > 0;) {
    pvd_event *e = d->events[i];
    if (strcmp(e->ns, ns) == 0 && strcmp(e->pod, pod) == 0 && str_eq(e->container, container) &&
        strcmp(e->reason, reason) == 0 && strcmp(e->message, msg) == 0 && str_eq(e->pod_uid, pod_uid)) {
      e->count++;
      e->last = now;
      e->rv = ++d->rv;
      pvd_api_event(d, e, true);
      return;
    }
  }
  pvd_event *e = calloc(1, sizeof *e);
  if (e == NULL)
    return;
  e->ns = strdup(ns);
  e->pod = strdup(pod);
  e->pod_uid = dup_or_null(pod_uid);
  e->container = dup_or_null(container);
  e->init_container = init_container;
  e->reason = strdup(reason);
  e->message = strdup(msg);
  e->warning = warning;
  e->first = e->last = now;
  e->count = 1;
  e->rv = ++d->rv;
  if (e->ns == NULL || e->pod == NULL || e->reason == NULL || e->message == NULL ||
      (pod_uid != NULL && e->pod_uid == NULL) || (container != NULL && e->container == NULL)) {
    event_free(e);
    return;
  }
  /* Names must be unique: two events of one pod in one nanosecond differ by rv. */
  snprintf(e->name, sizeof e->name, "%.60s.%llx%s", pod, (unsigned long long)now, "");
  for (size_t i = 0; i < d->n_events; i++)
    if (strcmp(d->events[i]->name, e->name) == 0) {
      snprintf(e->name, sizeof e->name, "%.60s.%llx", pod, (unsigned long long)now + e->rv);
      break;
    }
  if (d->events == NULL) {
    d->events = calloc(PVD_EVENTS_MAX, sizeof *d->events);
    if (d->events == NULL) {
      event_free(e);
      return;
    }
  }
  if (d->n_events == PVD_EVENTS_MAX) {
    event_free(d->events[0]);
    memmove(d->events, d->events + 1, (PVD_EVENTS_MAX - 1) * sizeof *d->events);
    d->n_events--;
  }
  d->events[d->n_events++] = e;
  pvd_api_event(d, e, false);
}

size_t pvd_events_count(const pvd *d) {
  return d->n_events;
}

const pvd_event *pvd_events_at(const pvd *d, size_t i) {
  return i < d->n_events ? d->events[i] : NULL;
}

void pvd_events_free(pvd *d) {
  for (size_t i = 0; i < d->n_events; i++)
    event_free(d->events[i]);
  free(d->events);
  d->events = NULL;
  d->n_events = 0;
}

/* --- from status documents ------------------------------------------------------------ */

static const json_t *find_ctr(const json_t *doc, const char *list, const char *name) {
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(doc, list), i, c) {
    if (str_eq(json_string_value(json_object_get(c, "name")), name))
      return c;
  }
  return NULL;
}

static const char *path_str(const json_t *j, const char *a, const char *b, const char *c) {
  const json_t *x = json_object_get(json_object_get(j, a), b);
  return json_string_value(c != NULL ? json_object_get(x, c) : x);
}

/* One container's events between its old state (NULL: none seen) and its new one. */
static void ctr_events(pvd *d, const pvd_entry *e, const json_t *o, const json_t *n, bool init) {
  const char *ns = e->pub.ns, *pod = e->pub.name, *uid = e->pub.uid;
  const char *name = json_string_value(json_object_get(n, "name"));
  if (name == NULL)
    return;
  /* A run the daemon ended itself (a stop, an update's restart) is no
   * failure, and its readiness lost on the way is no probe failure. */
  bool asked = e->pub.state == PVD_POD_STOPPING || uv_now(&d->loop) < e->asked_kill_until_ms ||
               json_is_true(json_object_get(json_object_get(n, "podvisor"), "stopRequested"));
  /* A run that began. */
  const char *started = path_str(json_object_get(n, "state"), "running", "startedAt", NULL);
  const char *was = o != NULL ? path_str(json_object_get(o, "state"), "running", "startedAt", NULL) : NULL;
  if (started != NULL && !str_eq(started, was) && o != NULL)
    pvd_eventf(d, ns, pod, uid, name, init, false, "Started", "Started container %s", name);
  /* A run that ended: the newest termination is state.terminated, else lastState.terminated. */
  const json_t *term = json_object_get(json_object_get(n, "state"), "terminated");
  if (term == NULL)
    term = json_object_get(json_object_get(n, "lastState"), "terminated");
  const json_t *oterm = NULL;
  if (o != NULL) {
    oterm = json_object_get(json_object_get(o, "state"), "terminated");
    if (oterm == NULL)
      oterm = json_object_get(json_object_get(o, "lastState"), "terminated");
  }
  const char *fin = json_string_value(json_object_get(term, "finishedAt"));
  const char *ofin = json_string_value(json_object_get(oterm, "finishedAt"));
  if (term != NULL && fin != NULL && (o == NULL ? false : !str_eq(fin, ofin))) {
    const char *reason = json_string_value(json_object_get(term, "reason"));
    int code = (int)json_integer_value(json_object_get(term, "exitCode"));
    bool liveness = json_is_true(json_object_get(json_object_get(n, "podvisor"), "livenessKill"));
    if (liveness)
      pvd_eventf(d, ns, pod, uid, name, init, true, "Unhealthy", "Liveness probe failed: container %s killed",
                 name);
    if (str_eq(reason, "OOMKilled"))
      pvd_eventf(d, ns, pod, uid, name, init, true, "OOMKilled", "container %s was OOM killed (exit code %d)",
                 name, code);
    else if (code != 0 && !asked)
      pvd_eventf(d, ns, pod, uid, name, init, true, "Failed", "container %s exited with code %d (%s)", name,
                 code, reason != NULL ? reason : "Error");
  }
  /* Back-off: a new wait in CrashLoopBackOff (or a new restart count while waiting). */
  const char *wr = path_str(json_object_get(n, "state"), "waiting", "reason", NULL);
  const char *owr = o != NULL ? path_str(json_object_get(o, "state"), "waiting", "reason", NULL) : NULL;
  json_int_t rc = json_integer_value(json_object_get(n, "restartCount"));
  json_int_t orc = o != NULL ? json_integer_value(json_object_get(o, "restartCount")) : rc;
  if (str_eq(wr, "CrashLoopBackOff") && (!str_eq(owr, wr) || rc != orc))
    pvd_eventf(d, ns, pod, uid, name, init, true, "BackOff", "Back-off restarting failed container %s", name);
  /* Readiness lost while it runs, with a readiness probe. */
  bool has_rp = json_is_true(json_object_get(json_object_get(n, "podvisor"), "hasReadinessProbe"));
  if (has_rp && !asked && o != NULL && started != NULL && str_eq(started, was) &&
      json_is_true(json_object_get(o, "ready")) && json_is_false(json_object_get(n, "ready")))
    pvd_eventf(d, ns, pod, uid, name, init, true, "Unhealthy",
               "Readiness probe failed: container %s not ready", name);
}

void pvd_events_from_status(pvd *d, const pvd_entry *e, const json_t *old, const json_t *cur) {
  static const char *lists[2] = {"initContainerStatuses", "containerStatuses"};
  for (int l = 0; l < 2; l++) {
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(cur, lists[l]), i, c) {
      const char *name = json_string_value(json_object_get(c, "name"));
      const json_t *o = old != NULL ? find_ctr(old, lists[l], name) : NULL;
      /* The first document of a keeper: what it shows already is no news,
       * but a run that began since is (old NULL gives no event). */
      ctr_events(d, e, old != NULL ? (o != NULL ? o : json_null()) : NULL, c, l == 0);
    }
  }
}
