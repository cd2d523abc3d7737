/* k8s_describe.c - describe pod (k8s_describe.h): the pod-level sections
 * of kubectl 1.32's describePod, in its order; the containers are in
 * k8s_describe_ctr.c. */
#include "supervisor/daemon/k8s_describe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/k8s_buf.h"
#include "supervisor/daemon/k8s_describe_int.h"
#include "supervisor/daemon/k8s_json.h"
#include "supervisor/daemon/k8s_pod.h"

enum { L0, L1, L2, L3 };

#define MAX_ANNOTATION_LEN 140 /* kubectl's maxAnnotationLen */

void k8s_describe_write(k8s_describe_ctx *d, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) {
    d->tw.failed = true;
    return;
  }
  for (int i = 0; i < level; i++)
    k8s_tabw_puts(&d->tw, "  ");
  for (const char *p = s; *p; p++) {
    if (*p == '\x1b')
      k8s_tabw_puts(&d->tw, "^[");
    else if (*p == '\r')
      k8s_tabw_puts(&d->tw, "\\r");
    else
      k8s_tabw_write(&d->tw, p, 1);
  }
  free(s);
}

void k8s_describe_time(const k8s_describe_ctx *d, int64_t ns, char buf[K8S_TIME_RFC1123_MAX]) {
  if (ns == 0 || k8s_time_rfc1123z(ns, d->local_time, buf, K8S_TIME_RFC1123_MAX) < 0)
    snprintf(buf, K8S_TIME_RFC1123_MAX, "Mon, 01 Jan 0001 00:00:00 +0000"); /* Go's zero time */
}

static int by_key(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a string map, sorted; NULL when empty (or out of memory). */
static const char **sorted_keys(const json_t *map, size_t *n) {
  const char *k, **keys;
  const json_t *v;
  size_t i = 0;
  *n = json_object_size(map);
  if (*n == 0 || (keys = calloc(*n, sizeof *keys)) == NULL)
    return NULL;
  json_object_foreach((json_t *)map, k, v) keys[i++] = k;
  qsort(keys, *n, sizeof *keys, by_key);
  return keys;
}

/* printLabelsMultiline: "Title:\tk=v", then "\tk=v" for the others. */
static void labels(k8s_describe_ctx *d, const char *title, const json_t *map) {
  size_t n;
  const char **keys = sorted_keys(map, &n);
  k8s_describe_write(d, L0, "%s:\t", title);
  if (keys == NULL) {
    k8s_describe_write(d, L0, "<none>\n");
    return;
  }
  for (size_t i = 0; i < n; i++)
    k8s_describe_write(d, L0, "%s%s=%s\n", i > 0 ? "\t" : "", keys[i], k8s_json_member(map, keys[i]));
  free(keys);
}

/* printAnnotationsMultiline: long or multi-line values on lines of their
 * own, each cut at 138 bytes. */
static void annotations(k8s_describe_ctx *d, const json_t *map) {
  size_t n;
  const char **keys = sorted_keys(map, &n);
  k8s_describe_write(d, L0, "Annotations:\t");
  if (keys == NULL) {
    k8s_describe_write(d, L0, "<none>\n");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const char *v = k8s_json_member(map, keys[i]);
    size_t len = strlen(v);
    if (len > 0 && v[len - 1] == '\n')
      len--;
    if (i > 0)
      k8s_describe_write(d, L0, "\t");
    if (len + strlen(keys[i]) + 2 <= MAX_ANNOTATION_LEN && memchr(v, '\n', len) == NULL) {
      k8s_describe_write(d, L0, "%s: %.*s\n", keys[i], (int)len, v);
      continue;
    }
    k8s_describe_write(d, L0, "%s:\n", keys[i]);
    for (size_t off = 0; off <= len;) {
      const char *nl = memchr(v + off, '\n', len - off);
      size_t ll = nl != NULL ? (size_t)(nl - (v + off)) : len - off;
      bool cut = ll > MAX_ANNOTATION_LEN - 2;
      k8s_describe_write(d, L0, "\t  %.*s%s\n", (int)(cut ? MAX_ANNOTATION_LEN - 2 : ll), v + off,
                         cut ? "..." : "");
      off += ll + 1;
    }
  }
  free(keys);
}

static void header(k8s_describe_ctx *d, const json_t *pod) {
  const json_t *m = k8s_json_obj(pod, "metadata"), *st = k8s_json_obj(pod, "status");
  char t[K8S_TIME_RFC1123_MAX];
  k8s_describe_write(d, L0, "Name:\t%s\n", k8s_json_str(m, "name"));
  k8s_describe_write(d, L0, "Namespace:\t%s\n", k8s_json_str(m, "namespace"));
  if (json_is_integer(k8s_json_at(pod, "spec.priority")))
    k8s_describe_write(d, L0, "Priority:\t%lld\n", (long long)k8s_json_int(pod, "spec.priority"));
  if (*k8s_json_str(pod, "spec.serviceAccountName") != '\0')
    k8s_describe_write(d, L0, "Service Account:\t%s\n", k8s_json_str(pod, "spec.serviceAccountName"));
  if (*k8s_json_str(pod, "spec.nodeName") == '\0')
    k8s_describe_write(d, L0, "Node:\t<none>\n");
  else
    k8s_describe_write(d, L0, "Node:\t%s/%s\n", k8s_json_str(pod, "spec.nodeName"),
                       k8s_json_str(st, "hostIP"));
  if (k8s_json_time(st, "startTime") != 0) {
    k8s_describe_time(d, k8s_json_time(st, "startTime"), t);
    k8s_describe_write(d, L0, "Start Time:\t%s\n", t);
  }
  labels(d, "Labels", k8s_json_obj(m, "labels"));
  annotations(d, k8s_json_obj(m, "annotations"));
  const char *source = k8s_json_member(k8s_json_obj(m, "annotations"), K8S_POD_SOURCE_ANNOTATION);
  if (*source != '\0')
    k8s_describe_write(d, L0, "Source:\t%s\n", source); /* podvisor's */
}

static void status(k8s_describe_ctx *d, const json_t *pod) {
  const json_t *st = k8s_json_obj(pod, "status"), *del = k8s_json_at(pod, "metadata.deletionTimestamp");
  const char *phase = k8s_json_str(st, "phase");
  if (del != NULL && !json_is_null(del) && strcmp(phase, "Failed") != 0 && strcmp(phase, "Succeeded") != 0) {
    char lasts[K8S_TIME_HUMAN_MAX];
    k8s_time_since(k8s_json_time(pod, "metadata.deletionTimestamp"), d->now, lasts);
    k8s_describe_write(d, L0, "Status:\tTerminating (lasts %s)\n", lasts);
    k8s_describe_write(d, L0, "Termination Grace Period:\t%llds\n",
                       (long long)k8s_json_int(pod, "metadata.deletionGracePeriodSeconds"));
  } else {
    k8s_describe_write(d, L0, "Status:\t%s\n", phase);
  }
  if (*k8s_json_str(st, "reason") != '\0')
    k8s_describe_write(d, L0, "Reason:\t%s\n", k8s_json_str(st, "reason"));
  if (*k8s_json_str(st, "message") != '\0')
    k8s_describe_write(d, L0, "Message:\t%s\n", k8s_json_str(st, "message"));
  k8s_describe_write(d, L0, "IP:\t%s\n", k8s_json_str(st, "podIP"));
  const json_t *ips = k8s_json_arr(st, "podIPs"), *ip;
  size_t i;
  if (json_array_size(ips) == 0)
    k8s_describe_write(d, L0, "IPs:\t<none>\n");
  else
    k8s_describe_write(d, L0, "IPs:\n");
  json_array_foreach(ips, i, ip) k8s_describe_write(d, L1, "IP:\t%s\n", k8s_json_str(ip, "ip"));
  if (*k8s_json_str(st, "nominatedNodeName") != '\0')
    k8s_describe_write(d, L0, "NominatedNodeName:\t%s\n", k8s_json_str(st, "nominatedNodeName"));
}

static void conditions(k8s_describe_ctx *d, const json_t *pod) {
  const json_t *gates = k8s_json_arr(pod, "spec.readinessGates"),
               *conds = k8s_json_arr(pod, "status.conditions");
  const json_t *g, *c;
  size_t i, j;
  if (json_array_size(gates) > 0)
    k8s_describe_write(d, L0, "Readiness Gates:\n  Type\tStatus\n");
  json_array_foreach(gates, i, g) {
    const char *status = "<none>";
    json_array_foreach(conds, j, c) {
      if (strcmp(k8s_json_str(c, "type"), k8s_json_str(g, "conditionType")) == 0) {
        status = k8s_json_str(c, "status");
        break;
      }
    }
    k8s_describe_write(d, L1, "%s \t%s \n", k8s_json_str(g, "conditionType"), status);
  }
  if (json_array_size(conds) > 0)
    k8s_describe_write(d, L0, "Conditions:\n  Type\tStatus\n");
  json_array_foreach(conds, i, c) {
    k8s_describe_write(d, L1, "%s \t%s \n", k8s_json_str(c, "type"), k8s_json_str(c, "status"));
  }
}

static void volumes(k8s_describe_ctx *d, const json_t *pod) {
  const json_t *vols = k8s_json_arr(pod, "spec.volumes"), *v;
  size_t i;
  if (json_array_size(vols) == 0) {
    k8s_describe_write(d, L0, "Volumes:\t<none>\n");
    return;
  }
  k8s_describe_write(d, L0, "Volumes:\n");
  json_array_foreach(vols, i, v) {
    k8s_describe_write(d, L1, "%s:\n", k8s_json_str(v, "name"));
    const json_t *hp = k8s_json_obj(v, "hostPath"), *ed = k8s_json_obj(v, "emptyDir");
    if (hp != NULL) {
      const json_t *type = json_object_get(hp, "type");
      k8s_describe_write(
          d, L2, "Type:\tHostPath (bare host directory volume)\n    Path:\t%s\n    HostPathType:\t%s\n",
          k8s_json_str(hp, "path"), json_is_string(type) ? json_string_value(type) : "<none>");
    } else if (ed != NULL) {
      const char *size = k8s_json_str(ed, "sizeLimit");
      k8s_describe_write(
          d, L2,
          "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t%s\n"
          "    SizeLimit:\t%s\n",
          k8s_json_str(ed, "medium"), *size && strcmp(size, "0") != 0 ? size : "<unset>");
    } else {
      k8s_describe_write(d, L2, "<unknown>\n");
    }
  }
}

/* qos.GetPodQOS: status.qosClass, else ComputePodQOS over the containers'
 * cpu and memory (quantities compared as written). */
static const char *qos(const json_t *pod) {
  const char *q = k8s_json_str(pod, "status.qosClass");
  if (*q != '\0')
    return q;
  static const char *const lists[] = {"spec.containers", "spec.initContainers"};
  static const char *const res[] = {"cpu", "memory"};
  bool any = false, guaranteed = true;
  for (int l = 0; l < 2; l++) {
    const json_t *c;
    size_t i;
    json_array_foreach(k8s_json_arr(pod, lists[l]), i, c) {
      for (int r = 0; r < 2; r++) {
        const json_t *lim = k8s_json_obj(c, "resources.limits"), *req = k8s_json_obj(c, "resources.requests");
        const char *lv = k8s_json_str(lim, res[r]), *rv = k8s_json_str(req, res[r]);
        any |= *lv != '\0' || *rv != '\0';
        guaranteed &= *lv != '\0' && (*rv == '\0' || strcmp(lv, rv) == 0);
      }
    }
  }
  return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

static int by_toleration_key(const void *a, const void *b) {
  return strcmp(k8s_json_str(*(const json_t *const *)a, "key"),
                k8s_json_str(*(const json_t *const *)b, "key"));
}

/* printPodTolerationsMultiline: "key=value:Effect op=Exists for 300s". */
static void tolerations(k8s_describe_ctx *d, const json_t *pod) {
  const json_t *list = k8s_json_arr(pod, "spec.tolerations");
  size_t n = json_array_size(list);
  const json_t **t = n > 0 ? calloc(n, sizeof *t) : NULL;
  k8s_describe_write(d, L0, "Tolerations:\t");
  if (t == NULL) {
    k8s_describe_write(d, L0, "<none>\n");
    return;
  }
  for (size_t i = 0; i < n; i++)
    t[i] = json_array_get(list, i);
  qsort(t, n, sizeof *t, by_toleration_key);
  for (size_t i = 0; i < n; i++) {
    const char *key = k8s_json_str(t[i], "key"), *val = k8s_json_str(t[i], "value");
    const char *eff = k8s_json_str(t[i], "effect");
    k8s_describe_write(d, L0, "%s%s%s%s%s%s", i > 0 ? "\t" : "", key, *val ? "=" : "", val, *eff ? ":" : "",
                       eff);
    if (strcmp(k8s_json_str(t[i], "operator"), "Exists") == 0 && *val == '\0')
      k8s_describe_write(d, L0, "%sop=Exists", *key || *eff ? " " : "");
    if (json_is_integer(json_object_get(t[i], "tolerationSeconds")))
      k8s_describe_write(d, L0, " for %llds", (long long)k8s_json_int(t[i], "tolerationSeconds"));
    k8s_describe_write(d, L0, "\n");
  }
  free(t);
}

/* kubectl's field selector: involvedObject namespace, name and uid. */
static bool about(const json_t *ev, const json_t *pod) {
  const char *uid = k8s_json_str(pod, "metadata.uid"), *euid = k8s_json_str(ev, "involvedObject.uid");
  return strcmp(k8s_json_str(ev, "involvedObject.name"), k8s_json_str(pod, "metadata.name")) == 0 &&
         strcmp(k8s_json_str(ev, "involvedObject.namespace"), k8s_json_str(pod, "metadata.namespace")) == 0 &&
         (*uid == '\0' || strcmp(euid, uid) == 0);
}

/* DescribeEvents: sorted by lastTimestamp (stable here), Age "last (xN over first)". */
static void events(k8s_describe_ctx *d, const json_t *pod, const json_t *evs) {
  const json_t *items = json_is_array(evs) ? evs : k8s_json_arr(evs, "items"), *e;
  size_t n = 0, i;
  const json_t **sel = calloc(json_array_size(items) + 1, sizeof *sel);
  if (sel == NULL) {
    d->tw.failed = true;
    return;
  }
  json_array_foreach(items, i, e) {
    if (!about(e, pod))
      continue;
    size_t j = n++; /* insertion sort: equal times keep their order */
    for (; j > 0 && k8s_json_time(sel[j - 1], "lastTimestamp") > k8s_json_time(e, "lastTimestamp"); j--)
      sel[j] = sel[j - 1];
    sel[j] = e;
  }
  if (n == 0) {
    k8s_describe_write(d, L0, "Events:\t<none>\n");
    free(sel);
    return;
  }
  k8s_describe_write(d, L0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
  k8s_describe_write(d, L1, "----\t------\t----\t----\t-------\n");
  for (i = 0; i < n; i++) {
    char first[K8S_TIME_HUMAN_MAX], last[K8S_TIME_HUMAN_MAX], age[96];
    int64_t et = k8s_json_time(sel[i], "eventTime");
    k8s_time_since(et != 0 ? et : k8s_json_time(sel[i], "firstTimestamp"), d->now, first);
    long long count = k8s_json_int(sel[i], "count");
    k8s_time_since(k8s_json_time(sel[i], "lastTimestamp"), d->now, last);
    if (count > 1)
      snprintf(age, sizeof age, "%s (x%lld over %s)", last, count, first);
    else
      snprintf(age, sizeof age, "%s", first);
    const char *from = k8s_json_str(sel[i], "source.component");
    const char *msg = k8s_json_str(sel[i], "message");
    size_t ml = strlen(msg);
    while (*msg == ' ' || *msg == '\t' || *msg == '\n' || *msg == '\r')
      msg++, ml--;
    while (ml > 0 &&
           (msg[ml - 1] == ' ' || msg[ml - 1] == '\t' || msg[ml - 1] == '\n' || msg[ml - 1] == '\r'))
      ml--;
    k8s_describe_write(d, L1, "%s\t%s\t%s\t%s\t%.*s\n", k8s_json_str(sel[i], "type"),
                       k8s_json_str(sel[i], "reason"), age,
                       *from ? from : k8s_json_str(sel[i], "reportingController"), (int)ml, msg);
  }
  free(sel);
}

char *k8s_describe_pod(const json_t *pod, const json_t *evs, int64_t now, const k8s_describe_opts *o,
                       pv_err *err) {
  if (!json_is_object(pod)) {
    pv_err_set(err, EINVAL, "describe: not a Pod object");
    return NULL;
  }
  k8s_describe_ctx d = {.now = now, .local_time = o != NULL && o->local_time};
  k8s_tabw_init(&d.tw, K8S_TABW_DESCRIBE);
  header(&d, pod);
  status(&d, pod);
  if (json_array_size(k8s_json_arr(pod, "spec.initContainers")) > 0)
    k8s_describe_containers(&d, "Init Containers", k8s_json_arr(pod, "spec.initContainers"),
                            k8s_json_arr(pod, "status.initContainerStatuses"));
  k8s_describe_containers(&d, "Containers", k8s_json_arr(pod, "spec.containers"),
                          k8s_json_arr(pod, "status.containerStatuses"));
  conditions(&d, pod);
  volumes(&d, pod);
  k8s_describe_write(&d, L0, "QoS Class:\t%s\n", qos(pod));
  labels(&d, "Node-Selectors", k8s_json_obj(pod, "spec.nodeSelector"));
  tolerations(&d, pod);
  if (evs != NULL)
    events(&d, pod, evs);
  k8s_buf out = {0};
  int rc = k8s_tabw_flush(&d.tw, &out);
  k8s_tabw_free(&d.tw);
  char *text = rc == 0 ? k8s_buf_steal(&out) : (k8s_buf_free(&out), NULL);
  if (text == NULL)
    pv_err_set(err, ENOMEM, "describe pod %s: out of memory", k8s_json_str(pod, "metadata.name"));
  return text;
}
