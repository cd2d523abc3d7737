/* kstatus.c - the keeper's status document (kstatus.h). */
#include "supervisor/shim/kstatus.h"

#include <stdio.h>
#include <string.h>

#include "supervisor/shim/status.h"

static json_t *backoff_json(const backoff_state *bo) {
  json_t *starts = json_array();
  for (uint32_t k = 0; k < bo->nstarts; k++)
    json_array_append_new(
        starts,
        json_integer(bo->starts[(bo->head + BACKOFF_LIMIT_MAX - bo->nstarts + k) % BACKOFF_LIMIT_MAX]));
  return json_pack("{s:I,s:o}", "exits", (json_int_t)bo->exits, "startsMs", starts);
}

/* The view's container named name.  The status lists the containers in
 * the view's order, so the one after the last found (*next) is tried
 * first: rendering a pod stays linear in its number of containers. */
static const kstatus_ctr *find(const kstatus_view *v, const char *name, size_t *next) {
  if (name == NULL)
    return NULL;
  if (*next < v->n_ctrs && strcmp(v->ctrs[*next].name, name) == 0)
    return &v->ctrs[(*next)++];
  for (size_t i = 0; i < v->n_ctrs; i++)
    if (strcmp(v->ctrs[i].name, name) == 0) {
      *next = i + 1;
      return &v->ctrs[i];
    }
  return NULL;
}

static void set_time(json_t *o, const char *key, int64_t ns) {
  char t[40];
  if (ns != 0 && status_format_time(ns, t, sizeof t) > 0)
    json_object_set_new(o, key, json_string(t));
}

static void log_fields(json_t *cpv, const kstatus_ctr *c) {
  if (c->log_dropped == 0 && c->log_error == 0)
    return;
  json_object_set_new(cpv, "logDroppedBytes", json_integer((json_int_t)c->log_dropped));
  if (c->log_error != 0) {
    json_object_set_new(cpv, "logError", json_string(strerror(c->log_error)));
    set_time(cpv, "logFailingSince", c->log_failing_since);
  } else {
    set_time(cpv, "logResumedAt", c->log_resumed_at);
  }
}

/* The podvisor.io/LogsWritable condition (kstatus.h), or nothing. */
static void log_condition(json_t *root, const kstatus_view *v) {
  const kstatus_ctr *failing = NULL, *last = NULL;
  uint64_t dropped = 0;
  for (size_t i = 0; i < v->n_ctrs; i++) {
    const kstatus_ctr *c = &v->ctrs[i];
    dropped += c->log_dropped;
    if (c->log_error != 0 && (failing == NULL || c->log_failing_since < failing->log_failing_since))
      failing = c;
    if (c->log_resumed_at != 0 && (last == NULL || c->log_resumed_at > last->log_resumed_at))
      last = c;
  }
  if (failing == NULL && dropped == 0)
    return;
  char since[40] = "", msg[512];
  int64_t when = failing != NULL ? failing->log_failing_since : last != NULL ? last->log_resumed_at : 0;
  bool known = when != 0 && status_format_time(when, since, sizeof since) > 0;
  if (failing != NULL)
    snprintf(msg, sizeof msg, "log writes failing: %s since %s (container %s, %llu bytes dropped)",
             strerror(failing->log_error), known ? since : "an unknown time", failing->name,
             (unsigned long long)dropped);
  else if (known)
    snprintf(msg, sizeof msg, "log writes resumed at %s (%llu bytes dropped before)", since,
             (unsigned long long)dropped);
  else
    snprintf(msg, sizeof msg, "%llu bytes of output were dropped by failing log writes",
             (unsigned long long)dropped);
  json_t *c = json_pack("{s:s,s:s,s:s,s:s}", "type", "podvisor.io/LogsWritable", "status",
                        failing != NULL ? "False" : "True", "reason",
                        failing != NULL ? "LogWritesFailing" : "LogWritesResumed", "message", msg);
  if (c == NULL)
    return;
  set_time(c, "lastTransitionTime", when);
  json_array_append_new(json_object_get(root, "conditions"), c);
}

json_t *kstatus_json(const kstatus_view *v) {
  json_t *root = status_to_json(v->st);
  if (root == NULL)
    return NULL;
  json_object_set_new(root, "metadata",
                      json_pack("{s:s,s:s,s:s}", "name", v->name, "namespace", v->ns, "uid", v->uid));
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  size_t next = 0;
  for (int k = 0; k < 2; k++) {
    json_t *arr = json_object_get(root, keys[k]), *e;
    size_t i;
    json_array_foreach(arr, i, e) {
      const kstatus_ctr *c = find(v, json_string_value(json_object_get(e, "name")), &next);
      json_t *cpv = json_object_get(e, "podvisor");
      if (c == NULL || cpv == NULL)
        continue;
      if (c->restart_gap_ns > 0)
        json_object_set_new(cpv, "restartGapNs", json_integer(c->restart_gap_ns));
      json_object_set_new(cpv, "backoff", backoff_json(c->bo));
      log_fields(cpv, c);
    }
  }
  log_condition(root, v);
  json_t *pv = json_object_get(root, "podvisor");
  if (pv == NULL) {
    pv = json_object();
    json_object_set_new(root, "podvisor", pv);
  }
  json_object_set_new(pv, "stopping", json_boolean(v->stopping));
  if (v->sandbox_error != NULL && v->sandbox_error[0] != '\0') {
    /* The pod's pid namespace died and could not be replaced: whatever its
     * containers would do, the pod is over (the kubelet's failed sandbox). */
    json_object_set_new(root, "phase", json_string("Failed"));
    json_object_set_new(root, "reason", json_string("SandboxFailed"));
    json_object_set_new(root, "message", json_string(v->sandbox_error));
  }
  return root;
}

/* The container status of name in doc, or NULL. */
static const json_t *find_status(const json_t *doc, const char *name) {
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  for (int k = 0; k < 2; k++) {
    const json_t *arr = json_object_get(doc, keys[k]), *e;
    size_t i;
    json_array_foreach(arr, i, e) {
      const char *n = json_string_value(json_object_get(e, "name"));
      if (n != NULL && strcmp(n, name) == 0)
        return e;
    }
  }
  return NULL;
}

void kstatus_log_restore(const json_t *doc, const char *name, uint64_t *dropped, int64_t *resumed_at) {
  *dropped = 0;
  *resumed_at = 0;
  const json_t *pv = json_object_get(find_status(doc, name), "podvisor");
  const json_t *d = json_object_get(pv, "logDroppedBytes");
  if (json_is_integer(d) && json_integer_value(d) > 0)
    *dropped = (uint64_t)json_integer_value(d);
  const char *t = json_string_value(json_object_get(pv, "logResumedAt"));
  if (t != NULL && status_parse_time(t, resumed_at) < 0)
    *resumed_at = 0;
}

void kstatus_backoff_restore(const json_t *doc, const char *name, backoff_state *bo) {
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  for (int k = 0; k < 2; k++) {
    const json_t *arr = json_object_get(doc, keys[k]), *e;
    size_t i;
    json_array_foreach(arr, i, e) {
      const char *n = json_string_value(json_object_get(e, "name"));
      if (n == NULL || strcmp(n, name) != 0)
        continue;
      const json_t *j = json_object_get(json_object_get(e, "podvisor"), "backoff");
      const json_t *exits = json_object_get(j, "exits"), *starts = json_object_get(j, "startsMs"), *s;
      if (!json_is_integer(exits) || json_integer_value(exits) < 0 ||
          json_integer_value(exits) > UINT32_MAX || !json_is_array(starts))
        return;
      size_t m;
      json_array_foreach(starts, m, s) if (!json_is_integer(s)) return;
      backoff_state_init(bo);
      bo->exits = (uint32_t)json_integer_value(exits);
      json_array_foreach(starts, m, s) backoff_record_start(bo, json_integer_value(s));
      return;
    }
  }
}
