/* k8s_podstat.c - printPod's READY, STATUS, RESTARTS and AGE (k8s_podstat.h).
 *
 * The two walks follow printPod statement by statement, so that a reader
 * can hold one against the other; the Go names are kept in the comments. */
#include "supervisor/daemon/k8s_podstat.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/daemon/k8s_json.h"

typedef struct walk {
  const json_t *pod;
  k8s_podstat *out;
  long long restarts, sidecar_restarts;
  int64_t last_restart, last_sidecar_restart;
  int ready;
  bool initializing;
} walk;

/* STATUS = prefix + reason */
static void set_reason(walk *w, const char *prefix, const char *reason) {
  snprintf(w->out->status, sizeof w->out->status, "%s%s", prefix, reason);
}

/* isRestartableInitContainer: an init container of the spec with
 * restartPolicy Always; false for a name the spec does not have. */
static bool is_sidecar(const json_t *pod, const char *name) {
  const json_t *c;
  size_t i;
  json_array_foreach(k8s_json_arr(pod, "spec.initContainers"), i, c) {
    if (strcmp(k8s_json_str(c, "name"), name) == 0)
      return strcmp(k8s_json_str(c, "restartPolicy"), "Always") == 0;
  }
  return false;
}

static bool has_condition(const json_t *pod, const char *type) {
  const json_t *c;
  size_t i;
  json_array_foreach(k8s_json_arr(pod, "status.conditions"), i, c) {
    if (strcmp(k8s_json_str(c, "type"), type) == 0 && strcmp(k8s_json_str(c, "status"), "True") == 0)
      return true;
  }
  return false;
}

/* LastTerminationState.Terminated.FinishedAt, 0 when there is none. */
static int64_t last_finished(const json_t *cs) {
  const json_t *t = k8s_json_obj(cs, "lastState.terminated");
  return t != NULL ? k8s_json_time(t, "finishedAt") : 0;
}

/* The text of a termination without a reason: Signal:N or ExitCode:N. */
static void term_code(walk *w, const char *prefix, const json_t *t) {
  long long sig = k8s_json_int(t, "signal"), code = k8s_json_int(t, "exitCode");
  snprintf(w->out->status, sizeof w->out->status, "%s%s:%lld", prefix, sig != 0 ? "Signal" : "ExitCode",
           sig != 0 ? sig : code);
}

/* The loop over pod.Status.InitContainerStatuses. */
static void walk_init(walk *w) {
  const json_t *cs, *statuses = k8s_json_arr(w->pod, "status.initContainerStatuses");
  size_t n_spec = json_array_size(k8s_json_arr(w->pod, "spec.initContainers")), i;
  json_array_foreach(statuses, i, cs) {
    long long rc = k8s_json_int(cs, "restartCount");
    int64_t fin = last_finished(cs);
    bool sidecar = is_sidecar(w->pod, k8s_json_str(cs, "name"));
    w->restarts += rc;
    if (w->last_restart < fin)
      w->last_restart = fin;
    if (sidecar) {
      w->sidecar_restarts += rc;
      if (w->last_sidecar_restart < fin)
        w->last_sidecar_restart = fin;
    }
    const json_t *term = k8s_json_obj(cs, "state.terminated"), *wait = k8s_json_obj(cs, "state.waiting");
    if (term != NULL && k8s_json_int(term, "exitCode") == 0)
      continue;
    if (sidecar && k8s_json_bool(cs, "started")) {
      w->ready += k8s_json_bool(cs, "ready");
      continue;
    }
    const char *wreason = k8s_json_str(wait, "reason");
    if (term != NULL && *k8s_json_str(term, "reason") == '\0')
      term_code(w, "Init:", term); /* initialization failed */
    else if (term != NULL)
      set_reason(w, "Init:", k8s_json_str(term, "reason"));
    else if (wait != NULL && *wreason != '\0' && strcmp(wreason, "PodInitializing") != 0)
      set_reason(w, "Init:", wreason);
    else
      snprintf(w->out->status, sizeof w->out->status, "Init:%zu/%zu", i, n_spec);
    w->initializing = true;
    break;
  }
}

/* The loop over pod.Status.ContainerStatuses, from the last to the first. */
static void walk_app(walk *w) {
  const json_t *statuses = k8s_json_arr(w->pod, "status.containerStatuses");
  bool has_running = false;
  w->restarts = w->sidecar_restarts;
  w->last_restart = w->last_sidecar_restart;
  for (size_t i = json_array_size(statuses); i-- > 0;) {
    const json_t *cs = json_array_get(statuses, i);
    int64_t fin = last_finished(cs);
    w->restarts += k8s_json_int(cs, "restartCount");
    if (w->last_restart < fin)
      w->last_restart = fin;
    const json_t *term = k8s_json_obj(cs, "state.terminated");
    const char *wreason = k8s_json_str(cs, "state.waiting.reason");
    if (k8s_json_obj(cs, "state.waiting") != NULL && *wreason != '\0') {
      set_reason(w, "", wreason);
    } else if (term != NULL && *k8s_json_str(term, "reason") != '\0') {
      set_reason(w, "", k8s_json_str(term, "reason"));
    } else if (term != NULL) {
      term_code(w, "", term);
    } else if (k8s_json_bool(cs, "ready") && k8s_json_obj(cs, "state.running") != NULL) {
      has_running = true;
      w->ready++;
    }
  }
  /* change pod status back to "Running" if a container still runs */
  if (strcmp(w->out->status, "Completed") == 0 && has_running)
    set_reason(w, "", has_condition(w->pod, "Ready") ? "Running" : "NotReady");
}

static int total_containers(const json_t *pod) {
  int n = (int)json_array_size(k8s_json_arr(pod, "spec.containers"));
  const json_t *c;
  size_t i;
  json_array_foreach(k8s_json_arr(pod, "spec.initContainers"), i, c) {
    n += strcmp(k8s_json_str(c, "restartPolicy"), "Always") == 0;
  }
  return n;
}

static void initial_reason(walk *w) {
  const char *phase = k8s_json_str(w->pod, "status.phase"), *reason = k8s_json_str(w->pod, "status.reason");
  set_reason(w, "", *reason != '\0' ? reason : phase);
  const json_t *c;
  size_t i;
  json_array_foreach(k8s_json_arr(w->pod, "status.conditions"), i, c) {
    if (strcmp(k8s_json_str(c, "type"), "PodScheduled") == 0 &&
        strcmp(k8s_json_str(c, "reason"), "SchedulingGated") == 0)
      set_reason(w, "", "SchedulingGated");
  }
}

static void deletion(walk *w) {
  const json_t *dt = k8s_json_at(w->pod, "metadata.deletionTimestamp");
  if (dt == NULL || json_is_null(dt))
    return; /* pod.DeletionTimestamp == nil */
  const char *phase = k8s_json_str(w->pod, "status.phase");
  if (strcmp(k8s_json_str(w->pod, "status.reason"), "NodeLost") == 0)
    set_reason(w, "", "Unknown");
  else if (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0)
    set_reason(w, "", "Terminating");
}

void k8s_podstat_compute(const json_t *pod, int64_t now, k8s_podstat *out) {
  memset(out, 0, sizeof *out);
  walk w = {.pod = pod, .out = out};
  out->total_count = total_containers(pod);
  initial_reason(&w);
  walk_init(&w);
  if (!w.initializing || has_condition(pod, "Initialized"))
    walk_app(&w);
  deletion(&w);
  out->ready_count = w.ready;
  out->restart_count = w.restarts;
  out->last_restart = w.last_restart;
  snprintf(out->ready, sizeof out->ready, "%d/%d", w.ready, out->total_count);
  if (w.restarts != 0 && w.last_restart != 0) {
    char ago[K8S_TIME_HUMAN_MAX];
    k8s_time_since(w.last_restart, now, ago);
    snprintf(out->restarts, sizeof out->restarts, "%lld (%s ago)", w.restarts, ago);
  } else {
    snprintf(out->restarts, sizeof out->restarts, "%lld", w.restarts);
  }
  k8s_time_since(k8s_json_time(pod, "metadata.creationTimestamp"), now, out->age);
}
