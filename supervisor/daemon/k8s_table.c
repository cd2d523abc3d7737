/* k8s_table.c - meta.k8s.io/v1 Tables, and the one of pods (k8s_table.h). */
#include "supervisor/daemon/k8s_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "supervisor/daemon/k8s_json.h"
#include "supervisor/daemon/k8s_podstat.h"

/* The descriptions are the API's own documentation of the fields
 * (metav1.ObjectMeta, v1.PodStatus, v1.PodSpec), which kube-apiserver puts
 * in the column definitions. */
#define DESC_NAME                                                                                            \
  "Name must be unique within a namespace. Is required when creating resources, although some resources "    \
  "may "                                                                                                     \
  "allow a client to request the generation of an appropriate name automatically. Name is primarily "        \
  "intended for "                                                                                            \
  "creation idempotence and configuration definition. Cannot be updated. More info: "                        \
  "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define DESC_CREATED                                                                                         \
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "   \
  "guaranteed to be set in happens-before order across separate operations. Clients may not set this "       \
  "value. It "                                                                                               \
  "is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "    \
  "More "                                                                                                    \
  "info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
#define DESC_POD_IP                                                                                          \
  "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
#define DESC_NODE                                                                                            \
  "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for "           \
  "scheduling by "                                                                                           \
  "the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes "       \
  "responsible for the lifecycle of this pod. This field should not be used to express a desire for the "    \
  "pod to "                                                                                                  \
  "be scheduled on a specific node. "                                                                        \
  "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/"                                 \
  "#nodename"
#define DESC_NOMINATED                                                                                       \
  "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled " \
  "right away as preemption victims receive their graceful termination periods. This field does not "        \
  "guarantee "                                                                                               \
  "that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other "   \
  "nodes "                                                                                                   \
  "become available sooner. Scheduler may also decide to give the resources on this node to a higher "       \
  "priority "                                                                                                \
  "pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName "    \
  "when "                                                                                                    \
  "the pod is scheduled."
#define DESC_GATES                                                                                           \
  "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its "      \
  "containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" "  \
  "More "                                                                                                    \
  "info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates"

const k8s_table_column k8s_table_pod_columns[K8S_TABLE_POD_COLUMNS] = {
    {"Name", "string", "name", DESC_NAME, 0},
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last container in this "
     "pod "
     "has restarted.",
     0},
    {"Age", "string", "", DESC_CREATED, 0},
    {"IP", "string", "", DESC_POD_IP, 1},
    {"Node", "string", "", DESC_NODE, 1},
    {"Nominated Node", "string", "", DESC_NOMINATED, 1},
    {"Readiness Gates", "string", "", DESC_GATES, 1},
};

json_t *k8s_table_columns(const k8s_table_column *cols, size_t n, pv_err *err) {
  json_t *a = json_array();
  int bad = a == NULL;
  for (size_t i = 0; !bad && i < n; i++)
    bad |= json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", cols[i].name, "type",
                                              cols[i].type, "format", cols[i].format, "description",
                                              cols[i].description, "priority", cols[i].priority)) < 0;
  if (bad) {
    json_decref(a);
    pv_err_set(err, ENOMEM, "Table: column definitions: out of memory");
    return NULL;
  }
  return a;
}

json_t *k8s_table_row(json_t *cells, const json_t *object, json_t *conditions, pv_err *err) {
  const json_t *meta = k8s_json_obj(object, "metadata");
  json_t *row = json_object();
  int bad = row == NULL || !json_is_array(cells) || (conditions != NULL && !json_is_array(conditions));
  bad |= json_object_set_new(row, "cells", cells) < 0;
  if (conditions != NULL)
    bad |= json_object_set_new(row, "conditions", conditions) < 0;
  bad |= json_object_set_new(row, "object",
                             json_pack("{s:s,s:s,s:o}", "kind", "PartialObjectMetadata", "apiVersion",
                                       "meta.k8s.io/v1", "metadata",
                                       meta != NULL ? json_deep_copy(meta) : json_object())) < 0;
  if (bad) {
    json_decref(row);
    pv_err_set(err, ENOMEM, "Table: row: out of memory or cells not an array");
    return NULL;
  }
  return row;
}

json_t *k8s_table_new(json_t *columns, json_t *rows, const char *rv, pv_err *err) {
  json_t *t = json_object(), *meta = json_object();
  int bad = t == NULL || meta == NULL || !json_is_array(rows);
  bad |= json_object_set_new(t, "kind", json_string("Table")) < 0;
  bad |= json_object_set_new(t, "apiVersion", json_string("meta.k8s.io/v1")) < 0;
  bad |= k8s_json_set_str_opt(meta, "resourceVersion", rv) < 0;
  bad |= json_object_set_new(t, "metadata", meta) < 0;
  bad |= json_object_set_new(t, "columnDefinitions", columns != NULL ? columns : json_null()) < 0;
  bad |= json_object_set_new(t, "rows", rows) < 0;
  if (bad) {
    json_decref(t);
    pv_err_set(err, ENOMEM, "Table: out of memory or rows not an array");
    return NULL;
  }
  return t;
}

/* ---- pods ------------------------------------------------------------------ */

static const char *or_none(const char *s) {
  return *s != '\0' ? s : "<none>";
}

static const char *pod_ip(const json_t *pod) {
  const json_t *ips = k8s_json_arr(pod, "status.podIPs");
  if (json_array_size(ips) > 0)
    return or_none(k8s_json_str(json_array_get(ips, 0), "ip"));
  return or_none(k8s_json_str(pod, "status.podIP"));
}

/* "t/n" of the readiness gates whose condition is True, "<none>" without gates. */
static void readiness_gates(const json_t *pod, char *buf, size_t len) {
  const json_t *gates = k8s_json_arr(pod, "spec.readinessGates"), *g, *c;
  size_t i, j, ok = 0;
  if (json_array_size(gates) == 0) {
    snprintf(buf, len, "<none>");
    return;
  }
  json_array_foreach(gates, i, g) {
    json_array_foreach(k8s_json_arr(pod, "status.conditions"), j, c) {
      if (strcmp(k8s_json_str(c, "type"), k8s_json_str(g, "conditionType")) == 0) {
        ok += strcmp(k8s_json_str(c, "status"), "True") == 0;
        break;
      }
    }
  }
  snprintf(buf, len, "%zu/%zu", ok, json_array_size(gates));
}

/* The row condition of a finished pod (printPod's podSuccessConditions and
 * podFailedConditions); NULL when it has not finished. */
static const char *finished_message(const json_t *pod) {
  const char *phase = k8s_json_str(pod, "status.phase");
  if (strcmp(phase, "Succeeded") == 0)
    return "The pod has completed successfully.";
  if (strcmp(phase, "Failed") == 0)
    return "The pod failed.";
  return NULL;
}

static json_t *pod_row(const json_t *pod, int64_t now, pv_err *err) {
  k8s_podstat st;
  char gates[64];
  k8s_podstat_compute(pod, now, &st);
  readiness_gates(pod, gates, sizeof gates);
  json_t *cells = json_pack("[s,s,s,s,s,s,s,s,s]", k8s_json_str(pod, "metadata.name"), st.ready, st.status,
                            st.restarts, st.age, pod_ip(pod), or_none(k8s_json_str(pod, "spec.nodeName")),
                            or_none(k8s_json_str(pod, "status.nominatedNodeName")), gates);
  const char *done = finished_message(pod);
  json_t *conds = NULL;
  if (done != NULL)
    conds = json_pack("[{s:s,s:s,s:s,s:s}]", "type", "Completed", "status", "True", "reason",
                      k8s_json_str(pod, "status.phase"), "message", done);
  if (cells == NULL || (done != NULL && conds == NULL)) {
    json_decref(cells);
    json_decref(conds);
    pv_err_set(err, ENOMEM, "Table: pod row: out of memory");
    return NULL;
  }
  return k8s_table_row(cells, pod, conds, err);
}

json_t *k8s_table_pods(const json_t *doc, int64_t now, bool no_headers, pv_err *err) {
  if (!json_is_object(doc)) {
    pv_err_set(err, EINVAL, "Table: not a Pod or a PodList");
    return NULL;
  }
  const json_t *items = k8s_json_arr(doc, "items"), *pod;
  json_t *rows = json_array();
  size_t i;
  if (rows == NULL)
    return pv_err_set(err, ENOMEM, "Table: out of memory"), NULL;
  if (items != NULL) {
    json_array_foreach(items, i, pod) {
      if (json_array_append_new(rows, pod_row(pod, now, err)) < 0) {
        json_decref(rows);
        return NULL;
      }
    }
  } else if (json_array_append_new(rows, pod_row(doc, now, err)) < 0) {
    json_decref(rows);
    return NULL;
  }
  json_t *cols = NULL;
  if (!no_headers && (cols = k8s_table_columns(k8s_table_pod_columns, K8S_TABLE_POD_COLUMNS, err)) == NULL) {
    json_decref(rows);
    return NULL;
  }
  return k8s_table_new(cols, rows, k8s_json_str(doc, "metadata.resourceVersion"), err);
}
