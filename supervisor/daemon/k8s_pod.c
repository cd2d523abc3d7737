/* k8s_pod.c - a pod as a Kubernetes Pod object (k8s_pod.h).
 *
 * Like podjson.c, the builders OR the results of Jansson's setters into a
 * flag and check it once: json_object_set_new() takes its value even when
 * it fails and fails on a NULL value, so a failed allocation anywhere only
 * has to be noticed. */
#include "supervisor/daemon/k8s_pod.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "supervisor/daemon/k8s_buf.h"
#include "supervisor/daemon/k8s_json.h"
#include "supervisor/daemon/k8s_meta.h"
#include "supervisor/daemon/k8s_time.h"
#include "supervisor/proto/podjson.h"

static int set(json_t *o, const char *key, json_t *v) {
  return json_object_set_new(o, key, v) < 0;
}

static json_t *time_json(int64_t ns) {
  char buf[K8S_TIME_RFC3339_MAX];
  return k8s_time_format(ns, buf, sizeof buf) > 0 ? json_string(buf) : NULL;
}

static const char *pod_ns(const spec_pod *p) {
  return p->ns != NULL ? p->ns : "default";
}

static int oom(pv_err *err, const spec_pod *p, const char *what) {
  return pv_err_set(err, ENOMEM, "pod %s/%s: cannot build its %s: out of memory", pod_ns(p),
                    p->name != NULL ? p->name : "?", what);
}

/* ---- QoS ---------------------------------------------------------------- */

typedef struct qos_sum {
  int64_t req[2], lim[2]; /* cpu millicores, memory bytes: sums of the values > 0 */
  bool guaranteed;
} qos_sum;

static void qos_add(qos_sum *q, const spec_resources *r) {
  int64_t req[2] = {r->cpu_request_milli, r->memory_request}, lim[2] = {r->cpu_limit_milli, r->memory_limit};
  for (int k = 0; k < 2; k++) {
    q->req[k] += req[k] > 0 ? req[k] : 0;
    q->lim[k] += lim[k] > 0 ? lim[k] : 0;
  }
  if (lim[0] <= 0 || lim[1] <= 0)
    q->guaranteed = false; /* a container without both limits */
}

const char *k8s_pod_qos_class(const spec_pod *p) {
  qos_sum q = {.guaranteed = true};
  for (size_t i = 0; i < p->n_containers; i++)
    qos_add(&q, &p->containers[i].resources);
  for (size_t i = 0; i < p->n_init_containers; i++)
    qos_add(&q, &p->init_containers[i].resources);
  int n_req = (q.req[0] > 0) + (q.req[1] > 0), n_lim = (q.lim[0] > 0) + (q.lim[1] > 0);
  if (n_req == 0 && n_lim == 0)
    return "BestEffort";
  for (int k = 0; k < 2; k++)
    if (q.req[k] > 0 && q.lim[k] != q.req[k])
      q.guaranteed = false;
  return q.guaranteed && n_req == n_lim ? "Guaranteed" : "Burstable";
}

/* ---- metadata and spec ---------------------------------------------------- */

static json_t *metadata(const spec_pod *p, const k8s_pod_meta *m, const json_t *doc_meta) {
  json_t *o = json_object();
  int bad = o == NULL;
  char uid[SPEC_POD_UID_LEN + 1];
  const char *u = m->uid != NULL ? m->uid : p->uid;
  if (u == NULL) {
    spec_pod_uid(p, NULL, uid);
    u = uid;
  }
  bad |= set(o, "name", json_string(p->name));
  bad |= set(o, "namespace", json_string(pod_ns(p)));
  bad |= set(o, "uid", json_string(u));
  bad |= k8s_json_set_str_opt(o, "resourceVersion", m->resource_version) < 0;
  if (m->created != 0)
    bad |= set(o, "creationTimestamp", time_json(m->created));
  if (m->deletion != 0) {
    bad |= set(o, "deletionTimestamp", time_json(m->deletion));
    bad |= set(o, "deletionGracePeriodSeconds", json_integer(m->deletion_grace_s));
  }
  const json_t *labels = k8s_json_obj(doc_meta, "labels");
  if (labels != NULL)
    bad |= set(o, "labels", json_deep_copy(labels));
  const json_t *ann = k8s_json_obj(doc_meta, "annotations");
  json_t *a = ann != NULL ? json_deep_copy(ann) : json_object();
  if (m->source != NULL)
    bad |= set(a, K8S_POD_SOURCE_ANNOTATION, json_string(m->source));
  if (a != NULL && json_object_size(a) > 0)
    bad |= set(o, "annotations", json_incref(a));
  bad |= a == NULL;
  json_decref(a);
  return bad ? (json_decref(o), NULL) : o;
}

static json_t *pod_spec(const json_t *doc_spec, const k8s_pod_meta *m) {
  json_t *s = json_deep_copy(doc_spec);
  int bad = s == NULL;
  if (!bad && m->node_name != NULL)
    bad |= set(s, "nodeName", json_string(m->node_name));
  if (!bad)
    bad |= set(s, "priority", json_integer(0)); /* the API server's default */
  return bad ? (json_decref(s), NULL) : s;
}

static int add_host_ip(json_t *st, const char *ip) {
  if (ip == NULL)
    return 0;
  int bad = set(st, "hostIP", json_string(ip));
  bad |= set(st, "hostIPs", json_pack("[{s:s}]", "ip", ip));
  return bad;
}

static json_t *status(const spec_pod *p, const k8s_pod_meta *m, const json_t *shim, pv_err *err) {
  json_t *st = shim != NULL ? json_deep_copy(shim) : k8s_pod_pending_status(p, NULL, NULL, m->created, err);
  if (st == NULL)
    return NULL;
  json_object_del(st, "metadata"); /* the shim's copy of the pod's identity */
  int bad = add_host_ip(st, m->host_ip);
  if (json_object_get(st, "qosClass") == NULL)
    bad |= set(st, "qosClass", json_string(k8s_pod_qos_class(p)));
  if (bad) {
    json_decref(st);
    oom(err, p, "status");
    return NULL;
  }
  return st;
}

json_t *k8s_pod(const spec_pod *p, const k8s_pod_meta *m, const json_t *shim_status, pv_err *err) {
  if (shim_status != NULL && !json_is_object(shim_status)) {
    pv_err_set(err, EINVAL, "pod %s/%s: the shim's status is not a JSON object", pod_ns(p), p->name);
    return NULL;
  }
  json_t *doc = podjson_pod(p, err);
  if (doc == NULL)
    return NULL;
  json_t *st = status(p, m, shim_status, err);
  if (st == NULL) {
    json_decref(doc);
    return NULL;
  }
  json_t *o = json_object();
  int bad = o == NULL;
  bad |= set(o, "kind", json_string("Pod"));
  bad |= set(o, "apiVersion", json_string("v1"));
  bad |= set(o, "metadata", metadata(p, m, json_object_get(doc, "metadata")));
  bad |= set(o, "spec", pod_spec(json_object_get(doc, "spec"), m));
  bad |= set(o, "status", st);
  json_decref(doc);
  if (bad) {
    json_decref(o);
    oom(err, p, "Pod object");
    return NULL;
  }
  return o;
}

/* ---- the pending status ---------------------------------------------------- */

/* "[a b c]": the names of the containers of one or both lists, Go's %v of
 * a []string. */
static void name_list(k8s_buf *b, const spec_container *a, size_t na, const spec_container *c, size_t nc) {
  k8s_buf_putc(b, '[');
  for (size_t i = 0; i < na + nc; i++) {
    if (i > 0)
      k8s_buf_putc(b, ' ');
    k8s_buf_puts(b, i < na ? a[i].name : c[i - na].name);
  }
  k8s_buf_putc(b, ']');
}

static json_t *condition(const char *type, bool ok, const char *reason, const char *what, k8s_buf *names,
                         int64_t now) {
  json_t *c = json_object();
  int bad = c == NULL;
  bad |= set(c, "type", json_string(type));
  bad |= set(c, "status", json_string(ok ? "True" : "False"));
  if (now != 0)
    bad |= set(c, "lastTransitionTime", time_json(now));
  if (!ok && reason != NULL && names->data != NULL) {
    bad |= set(c, "reason", json_string(reason));
    bad |= set(c, "message", json_sprintf("containers with %s status: %s", what, names->data));
  }
  return bad ? (json_decref(c), NULL) : c;
}

static json_t *conditions(const spec_pod *p, int64_t now) {
  k8s_buf init = {0}, unready = {0};
  name_list(&init, p->init_containers, p->n_init_containers, NULL, 0);
  name_list(&unready, p->containers, p->n_containers, NULL, 0);
  bool initialized = p->n_init_containers == 0;
  json_t *a = json_array();
  int bad = a == NULL || init.failed || unready.failed;
  bad |= json_array_append_new(a, condition("PodScheduled", true, NULL, NULL, &init, now)) < 0;
  bad |= json_array_append_new(a, condition("Initialized", initialized, "ContainersNotInitialized",
                                            "incomplete", &init, now)) < 0;
  bad |= json_array_append_new(
             a, condition("ContainersReady", false, "ContainersNotReady", "unready", &unready, now)) < 0;
  bad |=
      json_array_append_new(a, condition("Ready", false, "ContainersNotReady", "unready", &unready, now)) < 0;
  k8s_buf_free(&init);
  k8s_buf_free(&unready);
  return bad ? (json_decref(a), NULL) : a;
}

static json_t *waiting_statuses(const spec_container *cs, size_t n, const char *reason) {
  json_t *a = json_array();
  int bad = a == NULL;
  for (size_t i = 0; !bad && i < n; i++)
    bad |= json_array_append_new(a, json_pack("{s:s,s:{s:{s:s}},s:{},s:b,s:i,s:b,s:s}", "name", cs[i].name,
                                              "state", "waiting", "reason", reason, "lastState", "ready", 0,
                                              "restartCount", 0, "started", 0, "image", cs[i].image)) < 0;
  return bad ? (json_decref(a), NULL) : a;
}

json_t *k8s_pod_pending_status(const spec_pod *p, const char *reason, const char *message, int64_t now,
                               pv_err *err) {
  json_t *st = json_object();
  int bad = st == NULL;
  bad |= set(st, "phase", json_string("Pending"));
  bad |= set(st, "conditions", conditions(p, now));
  if (reason != NULL) {
    bad |= set(st, "reason", json_string(reason));
    bad |= k8s_json_set_str_opt(st, "message", message) < 0;
  } else {
    const char *w = p->n_init_containers > 0 ? "PodInitializing" : "ContainerCreating";
    bad |= set(st, "initContainerStatuses", waiting_statuses(p->init_containers, p->n_init_containers, w));
    bad |= set(st, "containerStatuses", waiting_statuses(p->containers, p->n_containers, w));
  }
  bad |= set(st, "qosClass", json_string(k8s_pod_qos_class(p)));
  if (bad) {
    json_decref(st);
    oom(err, p, "pending status");
    return NULL;
  }
  return st;
}

json_t *k8s_pod_list(json_t *items, const char *rv, pv_err *err) {
  return k8s_meta_list("PodList", "v1", items, rv, err);
}
