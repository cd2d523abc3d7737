/* Unit tests for supervisor/daemon/k8s_pod, k8s_event and k8s_meta: the
 * Kubernetes objects the daemon's API serves.  A Pod from a shim's status
 * document, a Pending pod no shim reported on, a pod being deleted, QoS
 * classes, a Pod that applies again through spec/, PodList, Event and
 * EventList, watch event lines and Status errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/k8s_event.h"
#include "supervisor/daemon/k8s_json.h"
#include "supervisor/daemon/k8s_meta.h"
#include "supervisor/daemon/k8s_pod.h"
#include "supervisor/daemon/k8s_podstat.h"
#include "tests/testutil.h"
#include "tests/unit/k8s_fixture.h"

#define SEC K8S_FIXTURE_SEC
#define T0 K8S_FIXTURE_T0
#define NOW K8S_FIXTURE_NOW

/* The keys of o, comma-separated, in order. */
static char *keys(const json_t *o) {
  static char buf[1024];
  const char *k;
  const json_t *v;
  buf[0] = '\0';
  json_object_foreach((json_t *)o, k, v) {
    if (buf[0])
      strcat(buf, ",");
    strcat(buf, k);
  }
  return buf;
}

static spec_pod *parse_one(const char *yaml) {
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  ck_assert_int_eq(spec_parse_buffer("t.yaml", yaml, strlen(yaml), 0, &l, &d), 0);
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  diag_list_free(&d);
  return p;
}

START_TEST(pod_from_shim_status) {
  json_t *pod = k8s_fixture_pod_object();
  ck_assert_str_eq(keys(pod), "kind,apiVersion,metadata,spec,status");
  ck_assert_str_eq(k8s_json_str(pod, "kind"), "Pod");
  ck_assert_str_eq(k8s_json_str(pod, "apiVersion"), "v1");
  /* metadata in kube-apiserver's order, times as metav1.Time */
  const json_t *m = k8s_json_obj(pod, "metadata");
  ck_assert_str_eq(keys(m), "name,namespace,uid,resourceVersion,creationTimestamp,labels,annotations");
  ck_assert_str_eq(k8s_json_str(m, "uid"), K8S_FIXTURE_UID);
  ck_assert_str_eq(k8s_json_str(m, "resourceVersion"), "42");
  ck_assert_str_eq(k8s_json_str(m, "creationTimestamp"), "2023-11-14T22:13:20Z");
  ck_assert_str_eq(k8s_json_str(m, "labels.tier"), "frontend");
  ck_assert_str_eq(k8s_json_str(m, "annotations.team"), "storefront");
  ck_assert_str_eq(json_string_value(json_object_get(k8s_json_obj(m, "annotations"), "podvisor.io/source")),
                   "file:/etc/podvisor/pods/web.yaml");
  /* the spec as applied, with what a cluster fills in */
  ck_assert_str_eq(k8s_json_str(pod, "spec.nodeName"), "host1");
  ck_assert_int_eq(json_integer_value(k8s_json_at(pod, "spec.priority")), 0);
  ck_assert_int_eq(json_array_size(k8s_json_arr(pod, "spec.initContainers")), 2);
  ck_assert_str_eq(k8s_json_str(pod, "spec.restartPolicy"), "Always");
  /* the shim's status without its metadata, extensions kept in place */
  const json_t *st = k8s_json_obj(pod, "status");
  ck_assert_ptr_null(json_object_get(st, "metadata"));
  ck_assert_str_eq(k8s_json_str(st, "phase"), "Running");
  ck_assert_str_eq(k8s_json_str(st, "qosClass"), "Burstable");
  ck_assert_str_eq(k8s_json_str(st, "hostIP"), "192.168.1.10");
  ck_assert_str_eq(k8s_json_str(json_array_get(k8s_json_arr(st, "hostIPs"), 0), "ip"), "192.168.1.10");
  ck_assert_int_eq(k8s_json_int(st, "podvisor.shimPid"), 4242);
  const json_t *worker = json_array_get(k8s_json_arr(st, "containerStatuses"), 1);
  ck_assert_str_eq(k8s_json_str(worker, "podvisor.fsm"), "Backoff");
  ck_assert_str_eq(k8s_json_str(worker, "podvisor.nextRestartAt"), "2023-11-14T22:23:28Z");
  ck_assert_str_eq(k8s_json_str(worker, "lastState.terminated.reason"), "OOMKilled");
  /* what kubectl get shows for it */
  k8s_podstat ps;
  k8s_podstat_compute(pod, NOW, &ps);
  ck_assert_str_eq(ps.ready, "2/3");
  ck_assert_str_eq(ps.status, "CrashLoopBackOff");
  ck_assert_str_eq(ps.restarts, "5 (32s ago)");
  ck_assert_str_eq(ps.age, "10m");
  json_decref(pod);
}
END_TEST

START_TEST(pod_uid_defaults) {
  spec_pod *p = parse_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
                          "spec: {containers: [{name: c, image: busybox}]}\n");
  k8s_pod_meta m = {0};
  json_t *pod = k8s_pod(p, &m, NULL, NULL);
  char uid[SPEC_POD_UID_LEN + 1];
  spec_pod_uid(p, NULL, uid);
  ck_assert_str_eq(k8s_json_str(pod, "metadata.uid"), uid);
  ck_assert_str_eq(keys(k8s_json_obj(pod, "metadata")), "name,namespace,uid"); /* nothing else was given */
  ck_assert_str_eq(k8s_json_str(pod, "metadata.namespace"), "default");
  ck_assert_ptr_null(k8s_json_at(pod, "spec.nodeName"));
  json_decref(pod);
  spec_pod_free(p);
}
END_TEST

START_TEST(pending_before_any_shim) {
  spec_pod *p = k8s_fixture_pod();
  k8s_pod_meta m = {.created = T0};
  json_t *pod = k8s_pod(p, &m, NULL, NULL);
  const json_t *st = k8s_json_obj(pod, "status"), *conds = k8s_json_arr(st, "conditions");
  ck_assert_str_eq(k8s_json_str(st, "phase"), "Pending");
  ck_assert_str_eq(k8s_json_str(json_array_get(conds, 0), "type"), "PodScheduled");
  ck_assert_str_eq(k8s_json_str(json_array_get(conds, 0), "status"), "True");
  const json_t *init = json_array_get(conds, 1), *ready = json_array_get(conds, 3);
  ck_assert_str_eq(k8s_json_str(init, "reason"), "ContainersNotInitialized");
  ck_assert_str_eq(k8s_json_str(init, "message"), "containers with incomplete status: [migrate proxy]");
  ck_assert_str_eq(k8s_json_str(ready, "type"), "Ready");
  ck_assert_str_eq(k8s_json_str(ready, "message"), "containers with unready status: [app worker]");
  ck_assert_str_eq(k8s_json_str(ready, "lastTransitionTime"), "2023-11-14T22:13:20Z");
  const json_t *cs = json_array_get(k8s_json_arr(st, "containerStatuses"), 1);
  ck_assert_str_eq(k8s_json_str(cs, "name"), "worker");
  ck_assert_str_eq(k8s_json_str(cs, "state.waiting.reason"), "PodInitializing");
  ck_assert_str_eq(k8s_json_str(cs, "image"), "shop/worker:2.1");
  ck_assert_int_eq(json_object_size(k8s_json_obj(cs, "lastState")), 0);
  k8s_podstat ps;
  k8s_podstat_compute(pod, T0 + 3 * SEC, &ps);
  ck_assert_str_eq(ps.status, "Init:0/2"); /* as kubectl shows a pod the kubelet just took */
  ck_assert_str_eq(ps.ready, "0/3");
  ck_assert_str_eq(ps.age, "3s");
  json_decref(pod);
  spec_pod_free(p);

  /* Without init containers: ContainerCreating, and Initialized is True. */
  p = parse_one(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: busybox}]}\n");
  json_t *st2 = k8s_pod_pending_status(p, NULL, NULL, T0, NULL);
  ck_assert_str_eq(k8s_json_str(json_array_get(k8s_json_arr(st2, "conditions"), 1), "status"), "True");
  ck_assert_ptr_null(json_object_get(json_array_get(k8s_json_arr(st2, "conditions"), 1), "reason"));
  ck_assert_str_eq(
      k8s_json_str(json_array_get(k8s_json_arr(st2, "containerStatuses"), 0), "state.waiting.reason"),
      "ContainerCreating");
  ck_assert_str_eq(k8s_json_str(st2, "qosClass"), "BestEffort");
  json_decref(st2);
  spec_pod_free(p);
}
END_TEST

START_TEST(pending_with_a_reason) {
  spec_pod *p = k8s_fixture_pod();
  json_t *st =
      k8s_pod_pending_status(p, "ManifestConflict", "also declared in /etc/podvisor/pods/b.yaml", T0, NULL);
  ck_assert_str_eq(k8s_json_str(st, "reason"), "ManifestConflict");
  ck_assert_str_eq(k8s_json_str(st, "message"), "also declared in /etc/podvisor/pods/b.yaml");
  ck_assert_ptr_null(json_object_get(st, "containerStatuses")); /* as for a pod no node has taken */
  ck_assert_ptr_null(json_object_get(st, "initContainerStatuses"));
  k8s_pod_meta m = {.created = T0};
  json_t *pod = k8s_pod(p, &m, st, NULL);
  k8s_podstat ps;
  k8s_podstat_compute(pod, NOW, &ps);
  ck_assert_str_eq(ps.status, "ManifestConflict");
  json_decref(pod);
  json_decref(st);
  spec_pod_free(p);
}
END_TEST

START_TEST(pod_being_deleted) {
  spec_pod *p = k8s_fixture_pod();
  json_t *shim = k8s_fixture_shim_status(p);
  k8s_pod_meta m = {.created = T0, .deletion = NOW - 5 * SEC + 123, .deletion_grace_s = 30};
  json_t *pod = k8s_pod(p, &m, shim, NULL);
  ck_assert_str_eq(keys(k8s_json_obj(pod, "metadata")),
                   "name,namespace,uid,creationTimestamp,deletionTimestamp,deletionGracePeriodSeconds,labels,"
                   "annotations");
  ck_assert_str_eq(k8s_json_str(pod, "metadata.deletionTimestamp"), "2023-11-14T22:23:15Z");
  ck_assert_int_eq(k8s_json_int(pod, "metadata.deletionGracePeriodSeconds"), 30);
  ck_assert_ptr_null(json_object_get(k8s_json_obj(pod, "metadata.annotations"), "podvisor.io/source"));
  k8s_podstat ps;
  k8s_podstat_compute(pod, NOW, &ps);
  ck_assert_str_eq(ps.status, "Terminating");
  json_decref(pod);
  json_decref(shim);
  spec_pod_free(p);
}
END_TEST

/* ComputePodQOS: BestEffort without requests and limits, Guaranteed when
 * every container (init ones too) limits cpu and memory and requests equal
 * limits (spec/ defaults requests to limits, as Kubernetes does). */
static const struct {
  const char *containers, *want;
} qos_cases[] = {
    {"[{name: a, image: x}]", "BestEffort"},
    {"[{name: a, image: x, resources: {requests: {cpu: 100m}}}]", "Burstable"},
    {"[{name: a, image: x, resources: {limits: {cpu: 100m}}}]", "Burstable"},
    {"[{name: a, image: x, resources: {limits: {cpu: 100m, memory: 64Mi}}}]", "Guaranteed"},
    {"[{name: a, image: x, resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 1, memory: 1Gi}}},"
     " {name: b, image: x, resources: {limits: {cpu: 100m, memory: 64Mi}}}]",
     "Guaranteed"},
    {"[{name: a, image: x, resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 500m}}}]", "Burstable"},
    {"[{name: a, image: x, resources: {limits: {cpu: 1, memory: 1Gi}}}, {name: b, image: x}]", "Burstable"},
};

START_TEST(qos_classes) {
  for (size_t i = 0; i < sizeof qos_cases / sizeof *qos_cases; i++) {
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: %s\n",
             qos_cases[i].containers);
    spec_pod *p = parse_one(yaml);
    ck_assert_msg(strcmp(k8s_pod_qos_class(p), qos_cases[i].want) == 0, "%s: %s, want %s",
                  qos_cases[i].containers, k8s_pod_qos_class(p), qos_cases[i].want);
    spec_pod_free(p);
  }
  /* An init container without limits makes the pod Burstable. */
  spec_pod *p =
      parse_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n"
                "  initContainers: [{name: i, image: x}]\n"
                "  containers: [{name: a, image: x, resources: {limits: {cpu: 1, memory: 1Gi}}}]\n");
  ck_assert_str_eq(k8s_pod_qos_class(p), "Burstable");
  spec_pod_free(p);
}
END_TEST

/* `podvisor get pod web -o json > web.json; podvisor apply -f web.json`:
 * the served object is a manifest spec/ accepts (warnings only, for the
 * fields a server writes) and it runs the same pod. */
START_TEST(served_pod_applies_again) {
  spec_pod *p = k8s_fixture_pod();
  json_t *pod = k8s_fixture_pod_object();
  char *text = json_dumps(pod, JSON_COMPACT);
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  ck_assert_int_eq(spec_parse_buffer("web.json", text, strlen(text), 0, &l, &d), 0);
  ck_assert_uint_eq(l.n, 1);
  for (size_t i = 0; i < d.n; i++)
    ck_assert_msg(d.items[i].severity == DIAG_WARNING, "%s: %s", d.items[i].path, d.items[i].message);
  ck_assert_str_eq(l.items[0]->hash, p->hash);
  ck_assert_str_eq(l.items[0]->sandbox_hash, p->sandbox_hash);
  ck_assert_str_eq(l.items[0]->uid, K8S_FIXTURE_UID);
  spec_pod_list_free(&l);
  diag_list_free(&d);
  free(text);
  json_decref(pod);
  spec_pod_free(p);
}
END_TEST

START_TEST(pod_list_shape) {
  json_t *items = json_array();
  json_array_append_new(items, k8s_fixture_pod_object());
  json_t *list = k8s_pod_list(items, "42", NULL);
  ck_assert_str_eq(keys(list), "kind,apiVersion,metadata,items");
  ck_assert_str_eq(k8s_json_str(list, "kind"), "PodList");
  ck_assert_str_eq(k8s_json_str(list, "metadata.resourceVersion"), "42");
  ck_assert_int_eq(json_array_size(k8s_json_arr(list, "items")), 1);
  json_decref(list);
  list = k8s_pod_list(json_array(), NULL, NULL);
  ck_assert_str_eq(k8s_json_str(list, "metadata.resourceVersion"), "");
  json_decref(list);
  pv_err err;
  ck_assert_ptr_null(k8s_pod_list(json_object(), "1", &err)); /* stolen and freed; ASan checks */
  ck_assert_int_eq(err.code, EINVAL);
}
END_TEST

START_TEST(event_shape) {
  json_t *list = k8s_fixture_events();
  ck_assert_str_eq(keys(list), "kind,apiVersion,metadata,items");
  ck_assert_str_eq(k8s_json_str(list, "kind"), "EventList");
  ck_assert_str_eq(k8s_json_str(list, "metadata.resourceVersion"), "57");
  const json_t *e = json_array_get(k8s_json_arr(list, "items"), 4); /* the worker's BackOff */
  ck_assert_str_eq(keys(e), "kind,apiVersion,metadata,involvedObject,reason,message,source,firstTimestamp,"
                            "lastTimestamp,count,type,eventTime,reportingComponent,reportingInstance");
  ck_assert_str_eq(keys(k8s_json_obj(e, "metadata")), "name,namespace,creationTimestamp");
  char name[64];
  snprintf(name, sizeof name, "web.%llx", (unsigned long long)(T0 + 68 * SEC)); /* client-go's naming */
  ck_assert_str_eq(k8s_json_str(e, "metadata.name"), name);
  ck_assert_str_eq(k8s_json_str(e, "metadata.namespace"), "shop");
  ck_assert_str_eq(keys(k8s_json_obj(e, "involvedObject")), "kind,namespace,name,uid,apiVersion,fieldPath");
  ck_assert_str_eq(k8s_json_str(e, "involvedObject.kind"), "Pod");
  ck_assert_str_eq(k8s_json_str(e, "involvedObject.uid"), K8S_FIXTURE_UID);
  ck_assert_str_eq(k8s_json_str(e, "involvedObject.fieldPath"), "spec.containers{worker}");
  ck_assert_str_eq(k8s_json_str(e, "reason"), "BackOff");
  ck_assert_str_eq(k8s_json_str(e, "source.component"), "podvisor");
  ck_assert_str_eq(k8s_json_str(e, "source.host"), "host1");
  ck_assert_str_eq(k8s_json_str(e, "firstTimestamp"), "2023-11-14T22:14:28Z");
  ck_assert_str_eq(k8s_json_str(e, "lastTimestamp"), "2023-11-14T22:22:48Z");
  ck_assert_int_eq(k8s_json_int(e, "count"), 5);
  ck_assert_str_eq(k8s_json_str(e, "type"), "Warning");
  ck_assert(json_is_null(json_object_get(e, "eventTime")));
  e = json_array_get(k8s_json_arr(list, "items"), 1); /* an init container's */
  ck_assert_str_eq(k8s_json_str(e, "involvedObject.fieldPath"), "spec.initContainers{migrate}");
  ck_assert_str_eq(k8s_json_str(e, "type"), "Normal");
  ck_assert_str_eq(k8s_json_str(e, "lastTimestamp"), k8s_json_str(e, "firstTimestamp"));
  e = json_array_get(k8s_json_arr(list, "items"), 0); /* the pod's own */
  ck_assert_ptr_null(k8s_json_at(e, "involvedObject.fieldPath"));
  json_decref(list);

  k8s_event_spec bad = {.ns = "shop", .pod = "web", .reason = "X", .first = T0, .count = 0};
  pv_err err;
  ck_assert_ptr_null(k8s_event_json(&bad, &err));
  ck_assert_int_eq(err.code, EINVAL);
  bad.count = 1;
  bad.reason = NULL;
  ck_assert_ptr_null(k8s_event_json(&bad, &err));
  k8s_event_spec named = {.name = "web.1",
                          .uid = "e1",
                          .resource_version = "9",
                          .ns = "shop",
                          .pod = "web",
                          .reason = "X",
                          .first = T0,
                          .count = 1};
  json_t *j = k8s_event_json(&named, NULL);
  ck_assert_str_eq(keys(k8s_json_obj(j, "metadata")), "name,namespace,uid,resourceVersion,creationTimestamp");
  ck_assert_str_eq(k8s_json_str(j, "metadata.name"), "web.1");
  ck_assert_str_eq(k8s_json_str(j, "reportingInstance"), "");
  json_decref(j);
}
END_TEST

START_TEST(watch_event_lines) {
  json_t *obj = json_pack("{s:s,s:{s:s}}", "kind", "Pod", "metadata", "name", "web");
  pv_err err;
  char *line = k8s_meta_watch_line("MODIFIED", obj, &err);
  ck_assert_str_eq(line,
                   "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"}}}\n");
  free(line);
  ck_assert_ptr_null(k8s_meta_watch_line("CHANGED", obj, &err));
  ck_assert_int_eq(err.code, EINVAL);
  ck_assert_int_eq(obj->refcount, 1); /* the line builder borrows */
  json_t *ev = k8s_meta_watch_event("DELETED", obj, NULL);
  ck_assert_str_eq(keys(ev), "type,object");
  json_decref(ev);
  json_t *status = k8s_meta_status(410, "Expired", "too old resource version: 1 (42)", NULL);
  line = k8s_meta_watch_line("ERROR", status, NULL);
  ck_assert_str_eq(
      line, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
            "\"status\":\"Failure\",\"message\":\"too old resource version: 1 (42)\","
            "\"reason\":\"Expired\",\"code\":410}}\n");
  free(line);
  json_decref(status);
  ck_assert_ptr_null(k8s_meta_watch_event("ADDED", json_array(), &err)); /* stolen and freed */
}
END_TEST

int main(void) {
  Suite *s = suite_create("k8s_objects");
  TCase *tc = tcase_create("k8s_objects");
  tcase_add_test(tc, pod_from_shim_status);
  tcase_add_test(tc, pod_uid_defaults);
  tcase_add_test(tc, pending_before_any_shim);
  tcase_add_test(tc, pending_with_a_reason);
  tcase_add_test(tc, pod_being_deleted);
  tcase_add_test(tc, qos_classes);
  tcase_add_test(tc, served_pod_applies_again);
  tcase_add_test(tc, pod_list_shape);
  tcase_add_test(tc, event_shape);
  tcase_add_test(tc, watch_event_lines);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
