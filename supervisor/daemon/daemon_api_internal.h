/*
 * daemon_api_internal.h - what the files of the daemon's API share (not for
 * the core: it uses daemon_internal.h's pvd_api_* functions).
 *
 *   daemon_api.c        start and close, the router, discovery, auth, errors
 *   daemon_api_sel.c    label and field selectors
 *   daemon_api_pods.c   Pod objects, lists, Tables, watches, create, replace,
 *                       delete
 *   daemon_api_apply.c  podvisor.io: apply (ApplyResult) and restart
 *   daemon_api_events.c events: EventList and watches
 *   daemon_logs.c       pods/NAME/log, followed on the loop
 *   daemon_exec.c       the exec broker on exec.sock
 *
 * The API's state is one pvd_api, kept for it by the core
 * (pvd_api_data()).  Watches, log followers and exec relays are linked into
 * it so that pvd_api_close() ends every one; each is freed by the code that
 * finishes its request (or, for the libuv handles, in the last close
 * callback).  Everything runs on the loop thread.
 */
#ifndef PODVISOR_DAEMON_DAEMON_API_INTERNAL_H
#define PODVISOR_DAEMON_DAEMON_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "supervisor/daemon/daemon_internal.h"
#include "supervisor/daemon/httpd.h"

#define API_TABLE_ACCEPT "as=Table"
#define API_GROUP "podvisor.io"
#define API_GROUP_VERSION "podvisor.io/v1"
/* The condition of a running pod whose manifest has a problem. */
#define API_MANIFEST_CONDITION "podvisor.io/ManifestValid"

/* ---- selectors (daemon_api_sel.c) ---- */

typedef enum sel_op { SEL_EQ, SEL_NE, SEL_IN, SEL_NOTIN, SEL_EXISTS, SEL_NOT_EXISTS } sel_op;

typedef struct sel_term {
  char *key;
  sel_op op;
  char **vals;
  size_t nvals;
} sel_term;

typedef struct api_sel {
  sel_term *t;
  size_t n;
} api_sel;

/* Parses a labelSelector (field false: =, ==, !=, in (...), notin (...),
 * key, !key) or a fieldSelector (field true: =, ==, != only).  NULL or ""
 * selects everything.  0, or -1 with a message in err (EINVAL). */
int api_sel_parse(const char *s, bool field, api_sel *out, pv_err *err);
/* Labels: an object of string values (NULL: none). */
bool api_sel_match_labels(const api_sel *s, const json_t *labels);
/* Fields: each key a dotted path into obj, its value as text. */
bool api_sel_match_fields(const api_sel *s, const json_t *obj);
/* The value a field selector requires for key (the first "key=v"), or NULL. */
const char *api_sel_required(const api_sel *s, const char *key);
void api_sel_free(api_sel *s);

/* ---- the state ---- */

typedef struct api_watch api_watch;
typedef struct api_logf api_logf;
typedef struct api_exec api_exec;
typedef struct api_call api_call;

typedef struct pvd_api {
  pvd *d;
  httpd *h;
  bool http_open;
  int exec_fd; /* the listening exec.sock, -1 none */
  uv_poll_t exec_poll;
  bool exec_open;
  char *exec_path;
  bool closing;      /* no new work: answers 503 */
  bool close_called; /* freed (and done called) once every part is closed */
  void (*done)(pvd *d);
  api_watch *watches;
  api_logf *logs;
  api_exec *execs;
  api_call *calls; /* restarts waiting for their shim */
} pvd_api;

pvd_api *api_of(const pvd *d);
/* Called as each part closes; runs done() once everything is. */
void api_maybe_done(pvd_api *a);

int64_t api_now(void); /* CLOCK_REALTIME ns */
/* The request accepts a Table. */
bool api_wants_table(const httpd_req *req);
/* A query parameter that is "true" ("1" too). */
bool api_query_true(const httpd_req *req, const char *key);
/* An integer query parameter: 0 absent (*v untouched), 1 parsed, -1 bad. */
int api_query_int(const httpd_req *req, const char *key, int64_t *v);

/* Replies with a Status; details (stolen, may be NULL) added. */
void api_reply_status(httpd_req *req, int code, const char *reason, json_t *details, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* 404 pods "NAME" not found, as kube-apiserver words it. */
void api_reply_pod_not_found(httpd_req *req, const char *name);
/* A reply of err: ENOENT 404, EPERM 409 Conflict, EEXIST 409, EINVAL 400,
 * ENOMEM and the rest 500. */
void api_reply_err(httpd_req *req, const pv_err *err);

/* ---- pods (daemon_api_pods.c) ---- */

/* The Pod object of ns/name (desired and/or table entry p, either may be
 * NULL); NULL with ENOENT when neither knows the pod. */
json_t *api_pod_object(const pvd *d, const char *ns, const char *name, const pvd_pod *p, int64_t now,
                       pv_err *err);
/* The spec of the pod as the API shows it (desired, else running), or NULL. */
const spec_pod *api_pod_spec(const pvd *d, const char *ns, const char *name, const pvd_pod *p);

void api_pods_list(pvd_api *a, httpd_req *req, const char *ns);
void api_pod_get(pvd_api *a, httpd_req *req, const char *ns, const char *name);
void api_pod_create(pvd_api *a, httpd_req *req, const char *ns);
void api_pod_replace(pvd_api *a, httpd_req *req, const char *ns, const char *name);
void api_pod_delete(pvd_api *a, httpd_req *req, const char *ns, const char *name);
/* Ends every watch (closing). */
void api_watches_end(pvd_api *a);

/* ---- podvisor.io (daemon_api_apply.c) ---- */

void api_apply(pvd_api *a, httpd_req *req, const char *ns);
void api_restart(pvd_api *a, httpd_req *req, const char *ns, const char *name);
void api_calls_end(pvd_api *a);
/* A refused request: 422 Invalid with every diagnostic in details.causes,
 * else api_reply_err(). */
void api_reply_apply_error(httpd_req *req, const pv_err *err, const diag_list *diags, const char *name);

/* ---- events (daemon_api_events.c) ---- */

void api_events_list(pvd_api *a, httpd_req *req, const char *ns);
/* The Event object of e. */
json_t *api_event_object(const pvd *d, const pvd_event *e, pv_err *err);

/* The watch streams of pods and events (daemon_api_pods.c). */
typedef enum api_watch_kind { API_WATCH_PODS, API_WATCH_EVENTS } api_watch_kind;
/* Starts a watch on req (selectors parsed, initial events sent). */
void api_watch_start(pvd_api *a, httpd_req *req, api_watch_kind kind, const char *ns);
void api_watch_event(pvd_api *a, const pvd_event *e, bool modified);
void api_watch_pod(pvd_api *a, const char *ns, const char *name, pvd_watch_type t);

/* ---- logs (daemon_logs.c) ---- */

void api_logs(pvd_api *a, httpd_req *req, const char *ns, const char *name);
/* A pod changed or left: followers whose run ended finish. */
void api_logs_pod_changed(pvd_api *a, const char *ns, const char *name, bool gone);
void api_logs_end(pvd_api *a);

/* ---- exec (daemon_exec.c) ---- */

int api_exec_listen(pvd_api *a, const char *path, pv_err *err);
/* Stops listening and ends every relay; api_maybe_done() once closed. */
void api_exec_close(pvd_api *a);
/* Still open handles of the exec side. */
bool api_exec_busy(const pvd_api *a);

#endif
