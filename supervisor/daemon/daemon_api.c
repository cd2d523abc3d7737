/*
 * daemon_api.c - the daemon's API: its listeners (<run-root>/podvisor.sock,
 * trusted; --listen's TCP port, untrusted, with the bearer token of
 * <run-root>/token; exec.sock), the router of API.md's paths, discovery,
 * auth and the Status errors every other file replies with.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/daemon/daemon_api_internal.h"

#define TOKEN_BYTES 32
#define API_VERSION_MINOR "32"
#define API_GIT_VERSION "v1.32.0-podvisor.0.1.0"

pvd_api *api_of(const pvd *d) {
  return pvd_api_data(d);
}

int64_t api_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool api_wants_table(const httpd_req *req) {
  const char *acc = httpd_req_header(req, "Accept");
  return acc != NULL && strstr(acc, API_TABLE_ACCEPT) != NULL;
}

bool api_query_true(const httpd_req *req, const char *key) {
  const char *v = httpd_req_query(req, key);
  return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "True") == 0);
}

int api_query_int(const httpd_req *req, const char *key, int64_t *v) {
  const char *s = httpd_req_query(req, key);
  if (s == NULL || *s == '\0')
    return 0;
  char *end;
  errno = 0;
  long long x = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *v = x;
  return 1;
}

void api_reply_status(httpd_req *req, int code, const char *reason, json_t *details, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_t *st = httpd_status_new(code, reason, msg);
  if (st == NULL) {
    json_decref(details);
    httpd_reply_status(req, 500, NULL, "out of memory");
    return;
  }
  if (details != NULL)
    json_object_set_new(st, "details", details);
  httpd_reply_json(req, code, st);
  json_decref(st);
}

void api_reply_pod_not_found(httpd_req *req, const char *name) {
  api_reply_status(req, 404, "NotFound", json_pack("{s:s,s:s}", "name", name, "kind", "pods"),
                   "pods \"%s\" not found", name);
}

void api_reply_err(httpd_req *req, const pv_err *err) {
  switch (err->code) {
  case ENOENT: api_reply_status(req, 404, "NotFound", NULL, "%s", err->msg); break;
  case EPERM: api_reply_status(req, 409, "Conflict", NULL, "%s", err->msg); break;
  case EEXIST: api_reply_status(req, 409, "AlreadyExists", NULL, "%s", err->msg); break;
  case EINVAL: api_reply_status(req, 400, "BadRequest", NULL, "%s", err->msg); break;
  default: api_reply_status(req, 500, "InternalError", NULL, "%s", err->msg[0] ? err->msg : "internal error");
  }
}

/* ---- discovery ---- */

static void reply_json_new(httpd_req *req, json_t *j) {
  if (j == NULL) {
    httpd_reply_status(req, 500, NULL, "out of memory");
    return;
  }
  httpd_reply_json(req, 200, j);
  json_decref(j);
}

static json_t *resource(const char *name, const char *kind, bool namespaced, const char *verbs[]) {
  json_t *v = json_array();
  for (size_t i = 0; verbs[i] != NULL; i++)
    json_array_append_new(v, json_string(verbs[i]));
  return json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", name, "singularName", "", "namespaced", namespaced,
                   "kind", kind, "verbs", v);
}

static void discovery_core(httpd_req *req) {
  static const char *pod_verbs[] = {"create", "delete", "get", "list", "update", "watch", NULL};
  static const char *get_verbs[] = {"get", NULL};
  static const char *ev_verbs[] = {"get", "list", "watch", NULL};
  json_t *res = json_array();
  json_t *pods = resource("pods", "Pod", true, pod_verbs);
  if (pods != NULL) {
    json_object_set_new(pods, "shortNames", json_pack("[s]", "po"));
    json_object_set_new(pods, "categories", json_pack("[s]", "all"));
  }
  json_array_append_new(res, pods);
  json_array_append_new(res, resource("pods/log", "Pod", true, get_verbs));
  json_array_append_new(res, resource("events", "Event", true, ev_verbs));
  reply_json_new(req, json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                                "groupVersion", "v1", "resources", res));
}

static void discovery_group(httpd_req *req) {
  static const char *verbs[] = {"create", NULL};
  json_t *res = json_array();
  json_array_append_new(res, resource("apply", "ApplyResult", false, verbs));
  json_array_append_new(res, resource("pods/restart", "Status", true, verbs));
  reply_json_new(req, json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                                "groupVersion", API_GROUP_VERSION, "resources", res));
}

static json_t *group_json(void) {
  json_t *gv = json_pack("{s:s,s:s}", "groupVersion", API_GROUP_VERSION, "version", "v1");
  return json_pack("{s:s,s:[O],s:o}", "name", API_GROUP, "versions", gv, "preferredVersion", gv);
}

static bool discovery(pvd_api *a, httpd_req *req) {
  size_t n = httpd_req_nseg(req);
  const char *s0 = httpd_req_seg(req, 0), *s1 = httpd_req_seg(req, 1), *s2 = httpd_req_seg(req, 2);
  if (n == 1 && strcmp(s0, "version") == 0) {
    reply_json_new(req, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1", "minor",
                                  API_VERSION_MINOR, "gitVersion", API_GIT_VERSION, "gitCommit", "",
                                  "gitTreeState", "clean", "buildDate", "", "goVersion", "", "compiler",
                                  "podvisor", "platform", "linux/amd64"));
    return true;
  }
  if (n >= 1 && (strcmp(s0, "healthz") == 0 || strcmp(s0, "readyz") == 0 || strcmp(s0, "livez") == 0)) {
    if (a->closing)
      httpd_reply(req, 503, "text/plain; charset=utf-8", "shutting down\n", 14);
    else
      httpd_reply(req, 200, "text/plain; charset=utf-8", "ok", 2);
    return true;
  }
  if (n == 1 && strcmp(s0, "api") == 0) {
    reply_json_new(req, json_pack("{s:s,s:[s],s:[]}", "kind", "APIVersions", "versions", "v1",
                                  "serverAddressByClientCIDRs"));
    return true;
  }
  if (n == 2 && strcmp(s0, "api") == 0 && strcmp(s1, "v1") == 0) {
    discovery_core(req);
    return true;
  }
  if (n == 1 && strcmp(s0, "apis") == 0) {
    reply_json_new(req, json_pack("{s:s,s:s,s:[o]}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
                                  group_json()));
    return true;
  }
  if (n == 2 && strcmp(s0, "apis") == 0 && strcmp(s1, API_GROUP) == 0) {
    json_t *g = group_json();
    if (g != NULL) {
      json_object_set_new(g, "kind", json_string("APIGroup"));
      json_object_set_new(g, "apiVersion", json_string("v1"));
    }
    reply_json_new(req, g);
    return true;
  }
  if (n == 3 && strcmp(s0, "apis") == 0 && strcmp(s1, API_GROUP) == 0 && strcmp(s2, "v1") == 0) {
    discovery_group(req);
    return true;
  }
  return false;
}

/* ---- the router ---- */

static void not_allowed(httpd_req *req) {
  httpd_resp_header(req, "Allow", "GET, HEAD");
  api_reply_status(req, 405, "MethodNotAllowed", NULL,
                   "the server does not allow this method on the requested resource");
}

static void not_found(httpd_req *req) {
  api_reply_status(req, 404, "NotFound", NULL, "the server could not find the requested resource");
}

static bool seg_is(const httpd_req *req, size_t i, const char *s) {
  const char *g = httpd_req_seg(req, i);
  return g != NULL && strcmp(g, s) == 0;
}

/* /api/v1/... : pods, a pod, its log, events. */
static void route_core(pvd_api *a, httpd_req *req) {
  size_t n = httpd_req_nseg(req);
  httpd_method m = httpd_req_method(req);
  const char *ns = NULL;
  size_t i = 2;
  if (n >= 4 && seg_is(req, 2, "namespaces")) {
    ns = httpd_req_seg(req, 3);
    i = 4;
  }
  if (n <= i) {
    not_found(req);
    return;
  }
  const char *res = httpd_req_seg(req, i);
  size_t rest = n - i - 1; /* segments after the resource */
  if (strcmp(res, "events") == 0 && rest == 0) {
    if (m != HTTPD_GET)
      not_allowed(req);
    else if (api_query_true(req, "watch"))
      api_watch_start(a, req, API_WATCH_EVENTS, ns);
    else
      api_events_list(a, req, ns);
    return;
  }
  if (strcmp(res, "pods") != 0 || rest > 2) {
    not_found(req);
    return;
  }
  if (rest == 0) {
    if (m == HTTPD_GET && api_query_true(req, "watch"))
      api_watch_start(a, req, API_WATCH_PODS, ns);
    else if (m == HTTPD_GET)
      api_pods_list(a, req, ns);
    else if (m == HTTPD_POST && ns != NULL)
      api_pod_create(a, req, ns);
    else
      not_allowed(req);
    return;
  }
  const char *name = httpd_req_seg(req, i + 1);
  if (ns == NULL) {
    not_found(req);
    return;
  }
  if (rest == 2) {
    const char *sub = httpd_req_seg(req, i + 2);
    if (strcmp(sub, "log") == 0 && m == HTTPD_GET)
      api_logs(a, req, ns, name);
    else if (strcmp(sub, "log") == 0 || strcmp(sub, "status") == 0)
      strcmp(sub, "status") == 0 && m == HTTPD_GET ? api_pod_get(a, req, ns, name) : not_allowed(req);
    else
      not_found(req);
    return;
  }
  switch (m) {
  case HTTPD_GET: api_pod_get(a, req, ns, name); break;
  case HTTPD_PUT: api_pod_replace(a, req, ns, name); break;
  case HTTPD_DELETE: api_pod_delete(a, req, ns, name); break;
  default: not_allowed(req);
  }
}

/* /apis/podvisor.io/v1/...: apply, namespaces/NS/apply, namespaces/NS/pods/NAME/restart. */
static void route_group(pvd_api *a, httpd_req *req) {
  size_t n = httpd_req_nseg(req);
  httpd_method m = httpd_req_method(req);
  if (!seg_is(req, 1, API_GROUP) || !seg_is(req, 2, "v1")) {
    not_found(req);
    return;
  }
  bool apply = (n == 4 && seg_is(req, 3, "apply")) ||
               (n == 6 && seg_is(req, 3, "namespaces") && seg_is(req, 5, "apply"));
  bool restart =
      n == 8 && seg_is(req, 3, "namespaces") && seg_is(req, 5, "pods") && seg_is(req, 7, "restart");
  if (!apply && !restart) {
    not_found(req);
    return;
  }
  if (m != HTTPD_POST) {
    httpd_resp_header(req, "Allow", "POST");
    api_reply_status(req, 405, "MethodNotAllowed", NULL,
                     "the server does not allow this method on the requested resource");
    return;
  }
  if (apply)
    api_apply(a, req, n == 6 ? httpd_req_seg(req, 4) : NULL);
  else
    api_restart(a, req, httpd_req_seg(req, 4), httpd_req_seg(req, 6));
}

static void handle(void *ctx, httpd_req *req) {
  pvd_api *a = ctx;
  httpd_method m = httpd_req_method(req);
  httpd_auth auth = httpd_req_auth(req);
  if (auth == HTTPD_AUTH_INVALID) {
    api_reply_status(req, 401, "Unauthorized", NULL, "Unauthorized");
    return;
  }
  if (!httpd_req_authenticated(req) && !httpd_method_is_safe(m)) {
    api_reply_status(req, 403, "Forbidden", NULL,
                     "%s %s is forbidden without the bearer token of the daemon's run root",
                     httpd_req_method_str(req), httpd_req_path(req));
    return;
  }
  if (a->closing) {
    api_reply_status(req, 503, "ServiceUnavailable", NULL, "the daemon is shutting down");
    return;
  }
  if (m == HTTPD_OPTIONS) {
    httpd_resp_header(req, "Allow", "GET, HEAD, POST, PUT, DELETE");
    httpd_reply(req, 204, NULL, NULL, 0);
    return;
  }
  if (discovery(a, req))
    return;
  if (seg_is(req, 0, "api") && seg_is(req, 1, "v1"))
    route_core(a, req);
  else if (seg_is(req, 0, "apis"))
    route_group(a, req);
  else
    not_found(req);
}

/* ---- start and close ---- */

/* The token of untrusted listeners: <run-root>/token, made once (0600). */
static int load_token(const char *run_root, char **out, pv_err *err) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", run_root, PVD_TOKEN_NAME) >= (int)sizeof path)
    return pv_err_set(err, ENAMETOOLONG, "token: path too long");
  char *text = NULL;
  size_t len = 0;
  pv_err rerr = {0};
  if (pv_read_file(path, &text, &len, &rerr) == 0) {
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
      text[--len] = '\0';
    if (len >= 16) {
      *out = text;
      return 0;
    }
    free(text);
  } else if (rerr.code != ENOENT) {
    *err = rerr;
    return -1;
  }
  unsigned char raw[TOKEN_BYTES];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return pv_err_sys(err, "token: getrandom");
    got += (size_t)r;
  }
  char *hex = malloc(2 * TOKEN_BYTES + 2);
  if (hex == NULL)
    return pv_err_set(err, ENOMEM, "token: out of memory");
  for (size_t i = 0; i < TOKEN_BYTES; i++)
    snprintf(hex + 2 * i, 3, "%02x", raw[i]);
  hex[2 * TOKEN_BYTES] = '\n';
  hex[2 * TOKEN_BYTES + 1] = '\0';
  if (pv_write_file_atomic(path, hex, 2 * TOKEN_BYTES + 1, 0600, err) < 0) {
    free(hex);
    return -1;
  }
  hex[2 * TOKEN_BYTES] = '\0';
  *out = hex;
  return 0;
}

static void api_free(pvd_api *a) {
  free(a->exec_path);
  free(a);
}

int pvd_api_start(pvd *d, pv_err *err) {
  const pvd_opts *o = pvd_options(d);
  pvd_api *a = calloc(1, sizeof *a);
  if (a == NULL)
    return pv_err_set(err, ENOMEM, "api: out of memory");
  a->d = d;
  a->exec_fd = -1;
  a->h = httpd_new(pvd_loop(d), NULL, handle, a, err);
  if (a->h == NULL) {
    free(a);
    return -1;
  }
  a->http_open = true;
  pvd_set_api_data(d, a);
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", o->run_root, PVD_SOCKET_NAME) >= (int)sizeof path) {
    pv_err_set(err, ENAMETOOLONG, "api: socket path too long");
    goto fail;
  }
  if (httpd_listen_unix(a->h, path, &(httpd_listen_opts){.trusted = true}, err) < 0)
    goto fail;
  if (o->listen != NULL && o->listen[0] != '\0') {
    char *token = NULL;
    if (load_token(o->run_root, &token, err) < 0)
      goto fail;
    httpd_set_token(a->h, token);
    free(token);
    int port = 0;
    if (httpd_listen_tcp(a->h, o->listen, &(httpd_listen_opts){.trusted = false}, &port, err) < 0)
      goto fail;
    pvd_log(d, PVD_LOG_INFO, NULL, NULL, "API listening on TCP addr=%s port=%d", o->listen, port);
  }
  if (snprintf(path, sizeof path, "%s/%s", o->run_root, PVD_EXEC_SOCKET_NAME) >= (int)sizeof path) {
    pv_err_set(err, ENAMETOOLONG, "api: exec socket path too long");
    goto fail;
  }
  if (api_exec_listen(a, path, err) < 0)
    goto fail;
  return 0;
fail:;
  /* The server closes on the loop; until then the core must not free the
   * loop, which it only does after pvd_api_close()'s done. */
  a->closing = true;
  httpd_close(a->h, NULL, NULL);
  a->h = NULL;
  a->http_open = false;
  api_exec_close(a);
  pvd_set_api_data(d, NULL);
  if (!api_exec_busy(a))
    api_free(a);
  else
    a->close_called = true; /* freed once the exec side has closed */
  return -1;
}

void api_maybe_done(pvd_api *a) {
  if (!a->close_called || a->http_open || api_exec_busy(a))
    return;
  void (*done)(pvd *) = a->done;
  pvd *d = a->d;
  pvd_set_api_data(d, NULL);
  api_free(a);
  if (done != NULL)
    done(d);
}

static void on_http_closed(void *ctx) {
  pvd_api *a = ctx;
  a->http_open = false;
  a->h = NULL;
  api_maybe_done(a);
}

void pvd_api_close(pvd *d, void (*done)(pvd *d)) {
  pvd_api *a = api_of(d);
  if (a == NULL) {
    if (done != NULL)
      done(d);
    return;
  }
  if (a->close_called)
    return;
  a->closing = true;
  a->close_called = true;
  a->done = done;
  api_calls_end(a);
  api_logs_end(a);
  api_exec_close(a);
  if (a->h != NULL)
    httpd_close(a->h, on_http_closed, a); /* ends the watch streams through their on_gone */
  else
    a->http_open = false;
  api_maybe_done(a);
}

void pvd_api_pod_changed(pvd *d, const char *ns, const char *name, pvd_watch_type t) {
  pvd_api *a = api_of(d);
  if (a == NULL || a->closing)
    return;
  api_watch_pod(a, ns, name, t);
  api_logs_pod_changed(a, ns, name, t == PVD_WATCH_DELETED);
}

void pvd_api_event(pvd *d, const pvd_event *e, bool modified) {
  pvd_api *a = api_of(d);
  if (a == NULL || a->closing)
    return;
  api_watch_event(a, e, modified);
}
