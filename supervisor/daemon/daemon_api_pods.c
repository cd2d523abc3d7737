/*
 * daemon_api_pods.c - pods through the API: the Pod object of a table entry
 * and its desired state, PodList and Table, create (POST), replace (PUT),
 * delete, and the watch streams of pods and events.
 *
 * A watch is the request itself, kept open as a chunked stream: one line
 * {"type":..., "object":...} per change.  Without resourceVersion (or "0")
 * it begins with an ADDED of every object that matches, as kube-apiserver
 * does; with resourceVersion=N (what a client that listed first sends) it
 * begins with what changed after N: the pods whose rv is newer as MODIFIED,
 * the newer events as ADDED (the daemon keeps no history of deletions).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/daemon_api_internal.h"
#include "supervisor/daemon/k8s_json.h"
#include "supervisor/daemon/k8s_meta.h"
#include "supervisor/daemon/k8s_pod.h"
#include "supervisor/daemon/k8s_table.h"
#include "supervisor/daemon/k8s_time.h"

struct api_watch {
  api_watch *next, *prev;
  pvd_api *a;
  httpd_req *req;
  api_watch_kind kind;
  char *ns; /* NULL: every namespace */
  api_sel labels, fields;
  bool table, sent_columns;
  /* With a selector: the pods the client was told of and that still match,
   * "ns/name", so that a pod that stops matching is DELETED for it and one
   * that begins to match ADDED, as kube-apiserver's watch filter does. */
  bool track;
  char **seen;
  size_t nseen;
};

static char *seen_key(const char *ns, const char *name) {
  char *k;
  return asprintf(&k, "%s/%s", ns, name) < 0 ? NULL : k;
}

static ssize_t seen_at(const api_watch *w, const char *ns, const char *name) {
  size_t nl = strlen(ns);
  for (size_t i = 0; i < w->nseen; i++)
    if (strncmp(w->seen[i], ns, nl) == 0 && w->seen[i][nl] == '/' && strcmp(w->seen[i] + nl + 1, name) == 0)
      return (ssize_t)i;
  return -1;
}

static void seen_set(api_watch *w, const char *ns, const char *name, bool on) {
  ssize_t i = seen_at(w, ns, name);
  if (on && i < 0) {
    char *k = seen_key(ns, name);
    char **nv = k != NULL ? realloc(w->seen, (w->nseen + 1) * sizeof *nv) : NULL;
    if (nv == NULL) {
      free(k);
      return;
    }
    w->seen = nv;
    w->seen[w->nseen++] = k;
  } else if (!on && i >= 0) {
    free(w->seen[i]);
    w->seen[i] = w->seen[--w->nseen];
  }
}

const spec_pod *api_pod_spec(const pvd *d, const char *ns, const char *name, const pvd_pod *p) {
  const desired_pod *dp = desired_find(pvd_desired(d), ns, name);
  if (dp != NULL)
    return dp->spec;
  return p != NULL ? p->running : NULL;
}

/* Why a pod without a shim status does not run: a problem of its manifest,
 * else its last launch's failure. */
static void pending_reason(const pvd *d, const char *ns, const char *name, const pvd_pod *p,
                           const char **reason, const char **message) {
  const desired_problem *pr[8];
  size_t n = desired_pod_problems(pvd_desired(d), ns, name, pr, 8);
  *reason = *message = NULL;
  for (size_t i = 0; i < n && i < 8; i++) {
    if (pr[i]->kind == DESIRED_PROBLEM_CONFLICT) {
      *reason = "ManifestConflict";
      *message = pr[i]->message;
      return;
    }
    if (pr[i]->kind == DESIRED_PROBLEM_INVALID && *reason == NULL) {
      *reason = "FailedValidation";
      *message = pr[i]->message;
    }
  }
  if (*reason == NULL && p != NULL && p->last_error != NULL) {
    *reason = "LaunchFailed";
    *message = p->last_error;
  }
}

/* A pod that runs while its manifest has a problem (its file became
 * invalid: the last good state runs; two files declare it: the one that ran
 * is kept) says so in a condition of its own, which describe lists. */
static int add_manifest_condition(const pvd *d, const char *ns, const char *name, json_t *pod, int64_t now) {
  const char *reason, *message;
  pending_reason(d, ns, name, NULL, &reason, &message);
  if (reason == NULL)
    return 0;
  json_t *st = json_object_get(pod, "status");
  json_t *conds = json_object_get(st, "conditions");
  if (!json_is_object(st))
    return 0;
  if (!json_is_array(conds)) {
    conds = json_array();
    if (conds == NULL || json_object_set_new(st, "conditions", conds) < 0)
      return -1;
  }
  char ts[K8S_TIME_RFC3339_MAX];
  k8s_time_format(now, ts, sizeof ts);
  return json_array_append_new(conds, json_pack("{s:s,s:s,s:n,s:s,s:s,s:s}", "type", API_MANIFEST_CONDITION,
                                                "status", "False", "lastProbeTime", "lastTransitionTime", ts,
                                                "reason", reason, "message", message != NULL ? message : ""));
}

json_t *api_pod_object(const pvd *d, const char *ns, const char *name, const pvd_pod *p, int64_t now,
                       pv_err *err) {
  const desired_pod *dp = desired_find(pvd_desired(d), ns, name);
  const spec_pod *spec = dp != NULL ? dp->spec : p != NULL ? p->running : NULL;
  if (spec == NULL) {
    pv_err_set(err, ENOENT, "pods \"%s\" not found", name);
    return NULL;
  }
  char rv[24], source[4200];
  snprintf(rv, sizeof rv, "%" PRIu64,
           p != NULL && p->rv != 0 ? p->rv
           : dp != NULL            ? dp->resource_version
                                   : 0);
  const char *src = NULL;
  if (dp != NULL) {
    if (dp->origin == DESIRED_FROM_FILE)
      snprintf(source, sizeof source, "file:%s", dp->file != NULL ? dp->file : "");
    else
      snprintf(source, sizeof source, "%s", DESIRED_SOURCE_API);
    src = source;
  }
  k8s_pod_meta m = {
      .uid = dp != NULL          ? dp->uid
             : p->uid[0] != '\0' ? p->uid
                                 : NULL,
      .resource_version = rv,
      .created = dp != NULL ? dp->created_ns : p->created_ns,
      .source = src,
      .node_name = pvd_hostname(d),
      .deletion = p != NULL ? p->deletion_ns : 0,
      .deletion_grace_s = p != NULL ? p->deletion_grace_s : 0,
  };
  /* The status of an older instance (being recreated) does not describe this one. */
  json_t *shim_status = p != NULL ? pvd_pod_status(p) : NULL;
  const json_t *status = shim_status;
  if (status != NULL && dp != NULL && p->uid[0] != '\0' && strcmp(p->uid, dp->uid) != 0)
    status = NULL;
  json_t *pending = NULL;
  if (status == NULL) {
    const char *reason, *message;
    pending_reason(d, ns, name, p, &reason, &message);
    pending = k8s_pod_pending_status(spec, reason, message, now, err);
    if (pending == NULL) {
      json_decref(shim_status);
      return NULL;
    }
    status = pending;
  }
  json_t *pod = k8s_pod(spec, &m, status, err);
  if (pod != NULL && pending == NULL && add_manifest_condition(d, ns, name, pod, now) < 0) {
    json_decref(pod);
    pod = NULL;
    pv_err_set(err, ENOMEM, "pod %s/%s: out of memory", ns, name);
  }
  json_decref(pending);
  json_decref(shim_status);
  return pod;
}

static void rv_text(const pvd *d, char *buf, size_t len) {
  snprintf(buf, len, "%" PRIu64, pvd_resource_version(d));
}

/* The pods of ns (NULL: all) that the request's selectors select, as an array. */
static json_t *pod_items(pvd_api *a, const char *ns, const api_sel *labels, const api_sel *fields,
                         pv_err *err) {
  json_t *items = json_array();
  if (items == NULL) {
    pv_err_set(err, ENOMEM, "out of memory");
    return NULL;
  }
  int64_t now = api_now();
  size_t n = pvd_pods_count(a->d);
  for (size_t i = 0; i < n; i++) {
    const pvd_pod *p = pvd_pods_at(a->d, i);
    if (ns != NULL && strcmp(p->ns, ns) != 0)
      continue;
    pv_err perr = {0};
    json_t *pod = api_pod_object(a->d, p->ns, p->name, p, now, &perr);
    if (pod == NULL) {
      if (perr.code == ENOENT)
        continue; /* no spec known (yet): nothing to show */
      json_decref(items);
      *err = perr;
      return NULL;
    }
    if (!api_sel_match_labels(labels, k8s_json_obj(pod, "metadata.labels")) ||
        !api_sel_match_fields(fields, pod)) {
      json_decref(pod);
      continue;
    }
    json_array_append_new(items, pod);
  }
  return items;
}

static int parse_selectors(httpd_req *req, api_sel *labels, api_sel *fields) {
  pv_err err = {0};
  if (api_sel_parse(httpd_req_query(req, "labelSelector"), false, labels, &err) < 0 ||
      api_sel_parse(httpd_req_query(req, "fieldSelector"), true, fields, &err) < 0) {
    api_sel_free(labels);
    api_reply_status(req, err.code == ENOMEM ? 500 : 400, NULL, NULL, "%s", err.msg);
    return -1;
  }
  return 0;
}

void api_pods_list(pvd_api *a, httpd_req *req, const char *ns) {
  api_sel labels, fields;
  if (parse_selectors(req, &labels, &fields) < 0)
    return;
  pv_err err = {0};
  char rv[24];
  rv_text(a->d, rv, sizeof rv);
  json_t *items = pod_items(a, ns, &labels, &fields, &err);
  api_sel_free(&labels);
  api_sel_free(&fields);
  json_t *list = items != NULL ? k8s_pod_list(items, rv, &err) : NULL;
  if (list != NULL && api_wants_table(req)) {
    json_t *t = k8s_table_pods(list, api_now(), false, &err);
    json_decref(list);
    list = t;
  }
  if (list == NULL) {
    api_reply_err(req, &err);
    return;
  }
  httpd_reply_json(req, 200, list);
  json_decref(list);
}

void api_pod_get(pvd_api *a, httpd_req *req, const char *ns, const char *name) {
  const pvd_pod *p = pvd_pod_find(a->d, ns, name);
  pv_err err = {0};
  json_t *pod = api_pod_object(a->d, ns, name, p, api_now(), &err);
  if (pod == NULL && err.code == ENOENT) {
    api_reply_pod_not_found(req, name);
    return;
  }
  if (pod != NULL && api_wants_table(req)) {
    json_t *t = k8s_table_pods(pod, api_now(), false, &err);
    json_decref(pod);
    pod = t;
  }
  if (pod == NULL) {
    api_reply_err(req, &err);
    return;
  }
  httpd_reply_json(req, 200, pod);
  json_decref(pod);
}

/* ---- create, replace, delete ---- */

static void write_pod(pvd_api *a, httpd_req *req, int code, const char *ns, const char *name) {
  pv_err err = {0};
  json_t *pod = api_pod_object(a->d, ns, name, pvd_pod_find(a->d, ns, name), api_now(), &err);
  if (pod == NULL) {
    api_reply_err(req, &err);
    return;
  }
  httpd_reply_json(req, code, pod);
  json_decref(pod);
}

/* The answer of a dry run: the pod as the request would make it (nothing
 * is stored, so its status is a pending one). */
static void write_dry_pod(pvd_api *a, httpd_req *req, int code, const char *body, size_t len,
                          const desired_apply_opts *o) {
  spec_pod_list pods = {0};
  diag_list diags;
  diag_list_init(&diags);
  pv_err err = {0};
  json_t *pod = NULL;
  int64_t now = api_now();
  if (desired_request_parse(pvd_desired(a->d), body, len, o, &pods, &diags, &err) == 0 && pods.n > 0) {
    const spec_pod *sp = pods.items[0];
    const desired_pod *dp = desired_find(pvd_desired(a->d), sp->ns, sp->name);
    k8s_pod_meta m = {.uid = dp != NULL ? dp->uid : NULL,
                      .created = dp != NULL ? dp->created_ns : now,
                      .source = DESIRED_SOURCE_API,
                      .node_name = pvd_hostname(a->d)};
    json_t *st = k8s_pod_pending_status(sp, NULL, NULL, now, &err);
    if (st != NULL)
      pod = k8s_pod(sp, &m, st, &err);
    json_decref(st);
  }
  spec_pod_list_free(&pods);
  diag_list_free(&diags);
  if (pod == NULL) {
    api_reply_err(req, &err);
    return;
  }
  httpd_reply_json(req, code, pod);
  json_decref(pod);
}

static void create_or_replace(pvd_api *a, httpd_req *req, const char *ns, const char *name) {
  size_t len;
  const char *body = httpd_req_body(req, &len);
  desired_apply_opts o = {
      .mode = name != NULL ? DESIRED_REPLACE : DESIRED_CREATE, .label = "<request>", .ns = ns, .name = name};
  plan_apply plan = {0};
  diag_list diags;
  diag_list_init(&diags);
  pv_err err = {0};
  bool dry = httpd_req_query(req, "dryRun") != NULL && strcmp(httpd_req_query(req, "dryRun"), "All") == 0;
  if (pvd_apply(a->d, body, len, &o, dry, &plan, &diags, &err) < 0) {
    const char *pname = name;
    if (err.code == EEXIST || err.code == ENOENT) {
      /* The pod's name, as kube-apiserver's AlreadyExists and NotFound give it. */
      spec_pod_list pods = {0};
      diag_list d2;
      diag_list_init(&d2);
      pv_err e2 = {0};
      desired_apply_opts o2 = o;
      o2.mode = DESIRED_APPLY;
      char *n2 = NULL;
      if (pname == NULL && desired_request_parse(pvd_desired(a->d), body, len, &o2, &pods, &d2, &e2) == 0 &&
          pods.n > 0)
        n2 = strdup(pods.items[0]->name);
      spec_pod_list_free(&pods);
      diag_list_free(&d2);
      if (err.code == EEXIST)
        api_reply_status(req, 409, "AlreadyExists",
                         json_pack("{s:s,s:s}", "name", n2 != NULL ? n2 : "", "kind", "pods"),
                         "pods \"%s\" already exists", n2 != NULL ? n2 : "");
      else
        api_reply_pod_not_found(req, pname != NULL ? pname : n2 != NULL ? n2 : "");
      free(n2);
    } else {
      api_reply_apply_error(req, &err, &diags, name);
    }
    diag_list_free(&diags);
    plan_apply_free(&plan);
    return;
  }
  diag_list_free(&diags);
  if (plan.n == 0) {
    plan_apply_free(&plan);
    api_reply_status(req, 400, "BadRequest", NULL, "the request has no pod");
    return;
  }
  char *pns = strdup(plan.items[0].ns), *pn = strdup(plan.items[0].name);
  plan_apply_free(&plan);
  if (pns == NULL || pn == NULL)
    httpd_reply_status(req, 500, NULL, "out of memory");
  else if (dry)
    write_dry_pod(a, req, name != NULL ? 200 : 201, body, len, &o);
  else
    write_pod(a, req, name != NULL ? 200 : 201, pns, pn);
  free(pns);
  free(pn);
}

void api_pod_create(pvd_api *a, httpd_req *req, const char *ns) {
  create_or_replace(a, req, ns, NULL);
}

void api_pod_replace(pvd_api *a, httpd_req *req, const char *ns, const char *name) {
  create_or_replace(a, req, ns, name);
}

void api_pod_delete(pvd_api *a, httpd_req *req, const char *ns, const char *name) {
  int64_t grace = -1;
  if (api_query_int(req, "gracePeriodSeconds", &grace) < 0 || grace < -1) {
    api_reply_status(req, 400, "BadRequest", NULL, "gracePeriodSeconds must be a number of seconds >= 0");
    return;
  }
  /* A body may carry DeleteOptions with gracePeriodSeconds, as kubectl sends it. */
  size_t blen;
  const char *body = httpd_req_body(req, &blen);
  if (blen > 0 && grace == -1) {
    json_t *opts = json_loadb(body, blen, 0, NULL);
    const json_t *g = json_object_get(opts, "gracePeriodSeconds");
    if (json_is_integer(g) && json_integer_value(g) >= 0)
      grace = json_integer_value(g);
    json_decref(opts);
  }
  int64_t now = api_now();
  pv_err err = {0};
  json_t *before = api_pod_object(a->d, ns, name, pvd_pod_find(a->d, ns, name), now, &err);
  if (pvd_delete(a->d, ns, name, grace, &err) < 0) {
    json_decref(before);
    if (err.code == ENOENT)
      api_reply_pod_not_found(req, name);
    else
      api_reply_err(req, &err);
    return;
  }
  const pvd_pod *p = pvd_pod_find(a->d, ns, name);
  json_t *pod = p != NULL ? api_pod_object(a->d, ns, name, p, now, &err) : NULL;
  if (pod == NULL && before != NULL) {
    /* Gone at once (it never ran): the last state, marked deleted. */
    char ts[K8S_TIME_RFC3339_MAX];
    k8s_time_format(now, ts, sizeof ts);
    json_t *md = json_object_get(before, "metadata");
    json_object_set_new(md, "deletionTimestamp", json_string(ts));
    json_object_set_new(md, "deletionGracePeriodSeconds", json_integer(grace >= 0 ? grace : 0));
    pod = json_incref(before);
  }
  json_decref(before);
  if (pod == NULL) {
    api_reply_status(req, 200, NULL, json_pack("{s:s,s:s}", "name", name, "kind", "pods"),
                     "pods \"%s\" deleted", name);
    return;
  }
  httpd_reply_json(req, 200, pod);
  json_decref(pod);
}

/* ---- watches ---- */

static void watch_free(api_watch *w) {
  pvd_api *a = w->a;
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    a->watches = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  api_sel_free(&w->labels);
  api_sel_free(&w->fields);
  for (size_t i = 0; i < w->nseen; i++)
    free(w->seen[i]);
  free(w->seen);
  free(w->ns);
  httpd_stream_end(w->req);
  free(w);
}

static void on_watch_gone(httpd_req *req, void *data) {
  (void)req;
  watch_free(data);
}

/* Sends one event; the watch is ended (and freed) when the client is gone. */
static int watch_send(api_watch *w, const char *type, const json_t *obj) {
  json_t *o = (json_t *)obj, *t = NULL;
  pv_err err = {0};
  if (w->table && w->kind == API_WATCH_PODS) {
    t = k8s_table_pods(obj, api_now(), w->sent_columns, &err);
    if (t == NULL)
      return 0;
    w->sent_columns = true;
    o = t;
  }
  char *line = k8s_meta_watch_line(type, o, &err);
  json_decref(t);
  if (line == NULL)
    return 0;
  int rc = httpd_stream_write(w->req, line, strlen(line));
  free(line);
  if (rc < 0) {
    watch_free(w);
    return -1;
  }
  return 0;
}

static bool watch_selects(const api_watch *w, const json_t *obj, const char *ns) {
  if (w->ns != NULL && strcmp(w->ns, ns) != 0)
    return false;
  return api_sel_match_labels(&w->labels, k8s_json_obj(obj, "metadata.labels")) &&
         api_sel_match_fields(&w->fields, obj);
}

static void watch_initial(pvd_api *a, api_watch *w, uint64_t since, bool have_since) {
  if (w->kind == API_WATCH_PODS) {
    int64_t now = api_now();
    size_t n = pvd_pods_count(a->d);
    for (size_t i = 0; i < n; i++) {
      const pvd_pod *p = pvd_pods_at(a->d, i);
      if (have_since && p->rv <= since && !w->track)
        continue;
      pv_err err = {0};
      json_t *pod = api_pod_object(a->d, p->ns, p->name, p, now, &err);
      if (pod == NULL)
        continue;
      bool match = watch_selects(w, pod, p->ns);
      if (match && w->track)
        seen_set(w, p->ns, p->name, true);
      int rc =
          match && (!have_since || p->rv > since) ? watch_send(w, have_since ? "MODIFIED" : "ADDED", pod) : 0;
      json_decref(pod);
      if (rc < 0)
        return;
    }
    return;
  }
  size_t n = pvd_events_count(a->d);
  for (size_t i = 0; i < n; i++) {
    const pvd_event *e = pvd_events_at(a->d, i);
    if (have_since && e->rv <= since)
      continue;
    pv_err err = {0};
    json_t *ev = api_event_object(a->d, e, &err);
    if (ev == NULL)
      continue;
    int rc = watch_selects(w, ev, e->ns) ? watch_send(w, "ADDED", ev) : 0;
    json_decref(ev);
    if (rc < 0)
      return;
  }
}

void api_watch_start(pvd_api *a, httpd_req *req, api_watch_kind kind, const char *ns) {
  api_sel labels, fields;
  if (parse_selectors(req, &labels, &fields) < 0)
    return;
  int64_t since = 0;
  int have = api_query_int(req, "resourceVersion", &since);
  if (have < 0) {
    api_sel_free(&labels);
    api_sel_free(&fields);
    api_reply_status(req, 400, "BadRequest", NULL, "resourceVersion must be a number");
    return;
  }
  api_watch *w = calloc(1, sizeof *w);
  if (w == NULL || (ns != NULL && (w->ns = strdup(ns)) == NULL)) {
    free(w);
    api_sel_free(&labels);
    api_sel_free(&fields);
    httpd_reply_status(req, 500, NULL, "out of memory");
    return;
  }
  w->a = a;
  w->req = req;
  w->kind = kind;
  w->labels = labels;
  w->fields = fields;
  w->table = api_wants_table(req);
  w->track = kind == API_WATCH_PODS && (labels.n > 0 || fields.n > 0);
  if (httpd_stream_begin(req, 200, "application/json") < 0 || httpd_req_on_gone(req, on_watch_gone, w) < 0) {
    api_sel_free(&w->labels);
    api_sel_free(&w->fields);
    free(w->ns);
    free(w);
    httpd_stream_end(req);
    return;
  }
  w->next = a->watches;
  if (a->watches != NULL)
    a->watches->prev = w;
  a->watches = w;
  watch_initial(a, w, (uint64_t)since, have == 1 && since > 0);
}

/* What a watcher is told of a pod that left without a spec the daemon
 * still knows (its keeper's snapshot unread): its identity. */
static json_t *gone_object(const pvd *d, const char *ns, const char *name) {
  const pvd_pod *p = pvd_pod_find(d, ns, name);
  char rv[24];
  snprintf(rv, sizeof rv, "%" PRIu64, p != NULL ? p->rv : pvd_resource_version(d));
  json_t *md = json_pack("{s:s,s:s,s:s}", "name", name, "namespace", ns, "resourceVersion", rv);
  if (md != NULL && p != NULL && p->uid[0] != '\0')
    json_object_set_new(md, "uid", json_string(p->uid));
  return json_pack("{s:s,s:s,s:o,s:{},s:{}}", "kind", "Pod", "apiVersion", "v1", "metadata", md, "spec",
                   "status");
}

void api_watch_pod(pvd_api *a, const char *ns, const char *name, pvd_watch_type t) {
  json_t *pod = NULL;
  for (api_watch *w = a->watches, *next; w != NULL; w = next) {
    next = w->next;
    if (w->kind != API_WATCH_PODS)
      continue;
    if (pod == NULL) {
      pv_err err = {0};
      pod = api_pod_object(a->d, ns, name, pvd_pod_find(a->d, ns, name), api_now(), &err);
      if (pod == NULL && t == PVD_WATCH_DELETED)
        pod = gone_object(a->d, ns, name);
      if (pod == NULL)
        return;
    }
    bool match = watch_selects(w, pod, ns);
    const char *type = t == PVD_WATCH_ADDED ? "ADDED" : t == PVD_WATCH_DELETED ? "DELETED" : "MODIFIED";
    if (w->track) {
      bool was = seen_at(w, ns, name) >= 0;
      if (!match && !was)
        continue;
      if (!match || t == PVD_WATCH_DELETED)
        type = "DELETED"; /* it left the selection, or the table */
      else if (!was)
        type = "ADDED";
      seen_set(w, ns, name, match && t != PVD_WATCH_DELETED);
      watch_send(w, type, pod);
    } else if (match) {
      watch_send(w, type, pod);
    }
  }
  json_decref(pod);
}

void api_watch_event(pvd_api *a, const pvd_event *e, bool modified) {
  json_t *ev = NULL;
  for (api_watch *w = a->watches, *next; w != NULL; w = next) {
    next = w->next;
    if (w->kind != API_WATCH_EVENTS)
      continue;
    if (ev == NULL) {
      pv_err err = {0};
      if ((ev = api_event_object(a->d, e, &err)) == NULL)
        return;
    }
    if (watch_selects(w, ev, e->ns))
      watch_send(w, modified ? "MODIFIED" : "ADDED", ev);
  }
  json_decref(ev);
}

void api_watches_end(pvd_api *a) {
  while (a->watches != NULL)
    watch_free(a->watches);
}
