/* k8s_event.c - core/v1 Event objects (k8s_event.h). */
#include "supervisor/daemon/k8s_event.h"

#include <errno.h>
#include <stdio.h>

#include "supervisor/daemon/k8s_json.h"
#include "supervisor/daemon/k8s_meta.h"
#include "supervisor/daemon/k8s_time.h"

static int set(json_t *o, const char *key, json_t *v) {
  return json_object_set_new(o, key, v) < 0;
}

static json_t *time_json(int64_t ns) {
  char buf[K8S_TIME_RFC3339_MAX];
  return k8s_time_format(ns, buf, sizeof buf) > 0 ? json_string(buf) : NULL;
}

static json_t *metadata(const k8s_event_spec *e) {
  char name[512];
  if (e->name == NULL)
    snprintf(name, sizeof name, "%s.%llx", e->pod, (unsigned long long)e->first);
  json_t *m = json_object();
  int bad = m == NULL;
  bad |= set(m, "name", json_string(e->name != NULL ? e->name : name));
  bad |= set(m, "namespace", json_string(e->ns));
  bad |= k8s_json_set_str_opt(m, "uid", e->uid) < 0;
  bad |= k8s_json_set_str_opt(m, "resourceVersion", e->resource_version) < 0;
  bad |= set(m, "creationTimestamp", time_json(e->first));
  return bad ? (json_decref(m), NULL) : m;
}

static json_t *involved(const k8s_event_spec *e) {
  json_t *o = json_object();
  int bad = o == NULL;
  bad |= set(o, "kind", json_string("Pod"));
  bad |= set(o, "namespace", json_string(e->ns));
  bad |= set(o, "name", json_string(e->pod));
  bad |= k8s_json_set_str_opt(o, "uid", e->pod_uid) < 0;
  bad |= set(o, "apiVersion", json_string("v1"));
  if (e->container != NULL)
    bad |=
        set(o, "fieldPath",
            json_sprintf("spec.%s{%s}", e->init_container ? "initContainers" : "containers", e->container));
  return bad ? (json_decref(o), NULL) : o;
}

json_t *k8s_event_json(const k8s_event_spec *e, pv_err *err) {
  if (e->pod == NULL || e->ns == NULL || e->reason == NULL || e->count < 1) {
    pv_err_set(err, EINVAL, "event: %s",
               e->count < 1 ? "count must be at least 1" : "pod, namespace and reason are required");
    return NULL;
  }
  json_t *o = json_object(), *src = json_object();
  int bad = o == NULL || src == NULL;
  bad |= set(o, "kind", json_string("Event"));
  bad |= set(o, "apiVersion", json_string("v1"));
  bad |= set(o, "metadata", metadata(e));
  bad |= set(o, "involvedObject", involved(e));
  bad |= set(o, "reason", json_string(e->reason));
  bad |= set(o, "message", json_string(e->message != NULL ? e->message : ""));
  bad |= set(src, "component", json_string(K8S_EVENT_COMPONENT));
  bad |= k8s_json_set_str_opt(src, "host", e->host) < 0;
  bad |= set(o, "source", src);
  bad |= set(o, "firstTimestamp", time_json(e->first));
  bad |= set(o, "lastTimestamp", time_json(e->last != 0 ? e->last : e->first));
  bad |= set(o, "count", json_integer(e->count));
  bad |= set(o, "type", json_string(e->warning ? "Warning" : "Normal"));
  bad |= set(o, "eventTime", json_null());
  bad |= set(o, "reportingComponent", json_string(K8S_EVENT_COMPONENT));
  bad |= set(o, "reportingInstance", json_string(e->host != NULL ? e->host : ""));
  if (bad) {
    json_decref(o);
    pv_err_set(err, ENOMEM, "event %s for pod %s/%s: out of memory", e->reason, e->ns, e->pod);
    return NULL;
  }
  return o;
}

json_t *k8s_event_list(json_t *items, const char *rv, pv_err *err) {
  return k8s_meta_list("EventList", "v1", items, rv, err);
}
