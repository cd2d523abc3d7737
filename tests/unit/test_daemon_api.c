/*
 * test_daemon_api.c - the daemon's API (supervisor/daemon/daemon_api*.c,
 * daemon_logs.c, daemon_exec.c) served by a real httpd on a unix socket in
 * a temp run root, driven with real HTTP requests from a client thread.
 *
 * The core of the daemon is replaced by a fake of daemon_internal.h's core
 * functions: a small pod table and the real desired set (desired.h) in a
 * temp root, pvd_apply() as desired_request_parse + plan_apply_compute +
 * desired_request_commit, pvd_delete() as desired_delete, and an event
 * store.  It tells the API of every change as the core does
 * (pvd_api_pod_changed, pvd_api_event).  The test changes the table (a
 * pod's status, its keeper's paths, the end of a deletion) on the loop
 * thread through on_loop().
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/daemon/daemon_internal.h"
#include "supervisor/daemon/k8s_json.h"
#include "supervisor/proto/ctlproto.h"
#include "tests/testutil.h"
#include "tests/unit/httpd_fixture.h"

/* ---- the fake core ---- */

typedef struct fpod {
  pvd_pod p; /* first: pvd_pod_paths() finds the fpod from it */
  podpaths pp;
  bool has_pp;
} fpod;

struct pvd {
  uv_loop_t loop;
  pvd_opts opts;
  desired_set *ds;
  fpod **pods;
  size_t npods;
  pvd_event *events;
  size_t nevents;
  uint64_t rv;
  void *api;
  int tcp_port;
};

static struct pvd D;
static char *tmp, sock_path[4200], exec_path[4200];

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

size_t pvd_pods_count(const pvd *d) {
  return d->npods;
}
const pvd_pod *pvd_pods_at(const pvd *d, size_t i) {
  return &d->pods[i]->p;
}
const pvd_pod *pvd_pod_find(const pvd *d, const char *ns, const char *name) {
  for (size_t i = 0; i < d->npods; i++)
    if (strcmp(d->pods[i]->p.ns, ns) == 0 && strcmp(d->pods[i]->p.name, name) == 0)
      return &d->pods[i]->p;
  return NULL;
}
const podpaths *pvd_pod_paths(const pvd_pod *p) {
  const fpod *f = (const fpod *)p;
  return f->has_pp ? &f->pp : NULL;
}
desired_set *pvd_desired(const pvd *d) {
  return d->ds;
}
uv_loop_t *pvd_loop(const pvd *d) {
  return (uv_loop_t *)&d->loop;
}
const pvd_opts *pvd_options(const pvd *d) {
  return &d->opts;
}
const char *pvd_hostname(const pvd *d) {
  (void)d;
  return "testhost";
}
uint64_t pvd_resource_version(const pvd *d) {
  return d->rv;
}
int64_t pvd_started_ns(const pvd *d) {
  (void)d;
  return 1;
}
void *pvd_api_data(const pvd *d) {
  return d->api;
}
void pvd_set_api_data(pvd *d, void *data) {
  d->api = data;
}

void pvd_log(const pvd *d, pvd_log_level level, const char *ns, const char *name, const char *fmt, ...) {
  (void)level;
  (void)ns;
  (void)name;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *port = strstr(msg, "port=");
  if (port != NULL)
    ((pvd *)d)->tcp_port = atoi(port + 5);
}

void pvd_eventf(pvd *d, const char *ns, const char *pod, const char *pod_uid, const char *container,
                bool init_container, bool warning, const char *reason, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  d->events = realloc(d->events, (d->nevents + 1) * sizeof *d->events);
  pvd_event *e = &d->events[d->nevents++];
  *e = (pvd_event){.rv = ++d->rv,
                   .ns = strdup(ns),
                   .pod = strdup(pod),
                   .pod_uid = pod_uid != NULL ? strdup(pod_uid) : NULL,
                   .container = container != NULL ? strdup(container) : NULL,
                   .init_container = init_container,
                   .reason = strdup(reason),
                   .message = strdup(msg),
                   .warning = warning,
                   .first = now_ns(),
                   .count = 1};
  e->last = e->first;
  snprintf(e->name, sizeof e->name, "%s.%llx", pod, (unsigned long long)e->first);
  pvd_api_event(d, e, false);
}
size_t pvd_events_count(const pvd *d) {
  return d->nevents;
}
const pvd_event *pvd_events_at(const pvd *d, size_t i) {
  return &d->events[i];
}

static fpod *fake_add(pvd *d, const char *ns, const char *name) {
  fpod *f = calloc(1, sizeof *f);
  f->p.ns = strdup(ns);
  f->p.name = strdup(name);
  f->p.state = PVD_POD_PENDING;
  f->p.created_ns = now_ns();
  size_t at = 0;
  while (at < d->npods && (strcmp(d->pods[at]->p.ns, ns) < 0 ||
                           (strcmp(d->pods[at]->p.ns, ns) == 0 && strcmp(d->pods[at]->p.name, name) < 0)))
    at++;
  d->pods = realloc(d->pods, (d->npods + 1) * sizeof *d->pods);
  memmove(d->pods + at + 1, d->pods + at, (d->npods - at) * sizeof *d->pods);
  d->pods[at] = f;
  d->npods++;
  return f;
}

static fpod *fake_find(pvd *d, const char *ns, const char *name) {
  return (fpod *)pvd_pod_find(d, ns, name);
}

static void fake_remove(pvd *d, const char *ns, const char *name) {
  for (size_t i = 0; i < d->npods; i++) {
    fpod *f = d->pods[i];
    if (strcmp(f->p.ns, ns) != 0 || strcmp(f->p.name, name) != 0)
      continue;
    f->p.rv = ++d->rv;
    pvd_api_pod_changed(d, ns, name, PVD_WATCH_DELETED);
    memmove(d->pods + i, d->pods + i + 1, (d->npods - i - 1) * sizeof *d->pods);
    d->npods--;
    free(f->p.ns);
    free(f->p.name);
    free(f->p.status_json);
    free(f->p.last_error);
    podpaths_free(&f->pp);
    free(f);
    return;
  }
}

/* What a report changed, into the table (as the core's reconcile would). */
static void fake_sync(pvd *d, const desired_report *rep) {
  for (size_t i = 0; i < rep->n_changes; i++) {
    const desired_change *c = &rep->changes[i];
    fpod *f = fake_find(d, c->ns, c->name);
    if (c->kind == DESIRED_REMOVED) {
      if (f != NULL && f->p.state == PVD_POD_RUNNING) {
        f->p.deletion_ns = now_ns();
        f->p.rv = ++d->rv;
        pvd_api_pod_changed(d, c->ns, c->name, PVD_WATCH_MODIFIED);
      } else if (f != NULL) {
        fake_remove(d, c->ns, c->name);
      }
      pvd_eventf(d, c->ns, c->name, c->uid, NULL, false, false, "Deleted", "Deleted pod");
      continue;
    }
    bool added = f == NULL;
    if (added)
      f = fake_add(d, c->ns, c->name);
    snprintf(f->p.uid, sizeof f->p.uid, "%s", c->uid);
    f->p.rv = ++d->rv;
    pvd_api_pod_changed(d, c->ns, c->name, added ? PVD_WATCH_ADDED : PVD_WATCH_MODIFIED);
    pvd_eventf(d, c->ns, c->name, c->uid, NULL, false, false, added ? "Created" : "Updated", "%s pod %s",
               added ? "Created" : "Updated", c->name);
  }
}

int pvd_apply(pvd *d, const char *body, size_t len, const desired_apply_opts *o, bool dry_run,
              plan_apply *plan, diag_list *diags, pv_err *err) {
  spec_pod_list pods = {0};
  if (desired_request_parse(d->ds, body, len, o, &pods, diags, err) < 0)
    return -1;
  if (plan_apply_compute(d->ds, &pods, o->prune, plan, err) < 0) {
    spec_pod_list_free(&pods);
    return -1;
  }
  if (dry_run) {
    spec_pod_list_free(&pods);
    return 0;
  }
  desired_report rep = {0};
  int rc = desired_request_commit(d->ds, &pods, o, now_ns(), &rep, err);
  spec_pod_list_free(&pods);
  if (rc == 0)
    fake_sync(d, &rep);
  desired_report_free(&rep);
  return rc;
}

int pvd_delete(pvd *d, const char *ns, const char *name, int64_t grace_s, pv_err *err) {
  desired_report rep = {0};
  if (desired_delete(d->ds, ns, name, now_ns(), &rep, err) < 0)
    return -1;
  fpod *f = fake_find(d, ns, name);
  if (f != NULL)
    f->p.deletion_grace_s = grace_s < 0 ? 30 : grace_s;
  fake_sync(d, &rep);
  desired_report_free(&rep);
  return 0;
}

/* Rescans the manifest directory, as the core does on inotify. */
static void fake_scan(pvd *d) {
  desired_report rep = {0};
  pv_err err = {0};
  ck_assert_int_eq(desired_scan(d->ds, now_ns(), &rep, &err), 0);
  fake_sync(d, &rep);
  desired_report_free(&rep);
}

/* ---- the loop thread and the client thread ---- */

typedef void (*loop_fn)(void *arg);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uv_async_t wake;
static loop_fn pending_fn;
static void *pending_arg;
static bool pending_done, client_done, api_closed;

static void on_loop(loop_fn fn, void *arg) {
  pthread_mutex_lock(&mu);
  pending_fn = fn;
  pending_arg = arg;
  pending_done = false;
  uv_async_send(&wake);
  while (!pending_done)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
}

static void on_closed(pvd *d) {
  (void)d;
  api_closed = true;
}

static void on_wake(uv_async_t *h) {
  pthread_mutex_lock(&mu);
  loop_fn fn = pending_fn;
  void *arg = pending_arg;
  pending_fn = NULL;
  bool done = client_done;
  pthread_mutex_unlock(&mu);
  if (fn != NULL) {
    fn(arg);
    pthread_mutex_lock(&mu);
    pending_done = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
  if (done) {
    pvd_api_close(&D, on_closed);
    uv_close((uv_handle_t *)h, NULL);
  }
}

typedef void (*client_fn)(void);

static void *client_main(void *arg) {
  ((client_fn)arg)();
  pthread_mutex_lock(&mu);
  client_done = true;
  pthread_mutex_unlock(&mu);
  uv_async_send(&wake);
  return NULL;
}

static void setup(void) {
  tmp = testutil_tmpdir("daemon-api");
  char root[4096], run[4096], man[4096];
  snprintf(root, sizeof root, "%s/root", tmp);
  snprintf(run, sizeof run, "%s/run", tmp);
  snprintf(man, sizeof man, "%s/manifests", tmp);
  mkdir(root, 0700);
  mkdir(run, 0700);
  mkdir(man, 0700);
  snprintf(sock_path, sizeof sock_path, "%s/%s", run, PVD_SOCKET_NAME);
  snprintf(exec_path, sizeof exec_path, "%s/%s", run, PVD_EXEC_SOCKET_NAME);
  memset(&D, 0, sizeof D);
  D.opts.root = strdup(root);
  D.opts.run_root = strdup(run);
  D.opts.manifests = strdup(man);
  D.opts.listen = strdup("127.0.0.1:0");
  ck_assert_int_eq(uv_loop_init(&D.loop), 0);
  pv_err err = {0};
  desired_report rep = {0};
  ck_assert_msg(desired_open(&(desired_opts){.root = root, .manifest_dir = man}, &D.ds, &rep, &err) == 0,
                "%s", err.msg);
  desired_report_free(&rep);
  D.rv = 1;
  client_done = api_closed = false;
}

typedef struct stream stream;
static void stream_close(stream *s);
static stream *leftover;

static void teardown(void) {
  if (leftover != NULL) {
    stream_close(leftover);
    leftover = NULL;
  }
  while (D.npods > 0)
    fake_remove(&D, D.pods[0]->p.ns, D.pods[0]->p.name);
  free(D.pods);
  for (size_t i = 0; i < D.nevents; i++) {
    pvd_event *e = &D.events[i];
    free(e->ns);
    free(e->pod);
    free(e->pod_uid);
    free(e->container);
    free(e->reason);
    free(e->message);
  }
  free(D.events);
  desired_close(D.ds);
  free(D.opts.root);
  free(D.opts.run_root);
  free(D.opts.manifests);
  free(D.opts.listen);
  testutil_rmtree(tmp);
  free(tmp);
}

/* Starts the API, runs body on a client thread, then closes the API and
 * checks that it closed clean. */
static void run_client(client_fn body) {
  pv_err err = {0};
  ck_assert_msg(pvd_api_start(&D, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(uv_async_init(&D.loop, &wake, on_wake), 0);
  pthread_t t;
  pthread_create(&t, NULL, client_main, (void *)body);
  uv_run(&D.loop, UV_RUN_DEFAULT);
  pthread_join(t, NULL);
  ck_assert(api_closed);
  ck_assert_ptr_null(D.api);
  ck_assert_int_eq(uv_loop_close(&D.loop), 0);
}

/* ---- the client's requests ---- */

typedef struct resp {
  int status;
  char *body;
  json_t *json;
  char ctype[128];
} resp;

static void resp_free(resp *r) {
  free(r->body);
  json_decref(r->json);
  memset(r, 0, sizeof *r);
}

static resp request_on(hc *c, const char *method, const char *path, const char *headers, const char *body) {
  char *req;
  size_t blen = body != NULL ? strlen(body) : 0;
  ck_assert_int_ge(asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n%sContent-Length: %zu\r\n\r\n",
                            method, path, headers != NULL ? headers : "", blen),
                   0);
  ck_assert_int_eq(hc_send(c, req), 0);
  if (blen > 0)
    ck_assert_int_eq(hc_sendn(c, body, blen), 0);
  free(req);
  hc_resp r = {0};
  ck_assert_msg(hc_recv(c, &r, strcmp(method, "HEAD") == 0, 10000) == 0, "%s %s: no response", method, path);
  resp out = {.status = r.status};
  out.body = r.body != NULL ? strndup(r.body, r.body_len) : strdup("");
  out.json = json_loads(out.body, 0, NULL);
  const char *ct = hc_header(&r, "Content-Type");
  snprintf(out.ctype, sizeof out.ctype, "%s", ct != NULL ? ct : "");
  hc_resp_free(&r);
  return out;
}

static resp request(const char *method, const char *path, const char *headers, const char *body) {
  hc *c = hc_unix(sock_path);
  ck_assert_int_ge(hc_fd(c), 0);
  resp r = request_on(c, method, path, headers, body);
  hc_close(c);
  return r;
}

static const char *jstr(const resp *r, const char *path) {
  return k8s_json_str(r->json, path);
}

/* A Status of code and reason. */
static void assert_status(const resp *r, int code, const char *reason) {
  ck_assert_msg(r->status == code, "status %d, want %d: %s", r->status, code, r->body);
  ck_assert_str_eq(jstr(r, "kind"), "Status");
  ck_assert_int_eq(k8s_json_int(r->json, "code"), code);
  ck_assert_str_eq(jstr(r, "reason"), reason);
}

static char *pod_yaml(const char *name, const char *image, const char *label, bool two) {
  char *s;
  ck_assert_int_ge(
      asprintf(&s,
               "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  labels:\n    app: %s\nspec:\n"
               "  containers:\n  - name: app\n    image: %s\n    command: [\"sleep\", \"1000\"]\n%s",
               name, label, image,
               two ? "  - name: side\n    image: busybox\n    command: [\"sleep\", \"9\"]\n" : ""),
      0);
  return s;
}

static resp apply(const char *query, const char *body) {
  char path[256];
  snprintf(path, sizeof path, "/apis/podvisor.io/v1/apply%s", query != NULL ? query : "");
  return request("POST", path, "Content-Type: application/yaml\r\n", body);
}

static void apply_ok(const char *body) {
  resp r = apply(NULL, body);
  ck_assert_msg(r.status == 200, "%s", r.body);
  resp_free(&r);
}

/* An item of an ApplyResult. */
static const json_t *item(const resp *r, size_t i) {
  return json_array_get(k8s_json_arr(r->json, "items"), i);
}

/* ---- a stream read in the test ---- */

struct stream {
  hc *c;
  char buf[1 << 16];
  size_t len;
};

static stream *stream_open(const char *path, const char *headers) {
  stream *s = calloc(1, sizeof *s);
  s->c = hc_unix(sock_path);
  char *req;
  ck_assert_int_ge(
      asprintf(&req, "GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", path, headers ? headers : ""), 0);
  ck_assert_int_eq(hc_send(s->c, req), 0);
  free(req);
  return s;
}

/* Reads until needle is in what the stream sent (from its start); false at
 * the deadline or the end. */
static bool stream_wait(stream *s, const char *needle, int timeout_ms) {
  for (int waited = 0;;) {
    if (memmem(s->buf, s->len, needle, strlen(needle)) != NULL)
      return true;
    if (waited >= timeout_ms || s->len == sizeof s->buf)
      return false;
    struct pollfd p = {.fd = hc_fd(s->c), .events = POLLIN};
    if (poll(&p, 1, 50) == 1) {
      ssize_t n = read(hc_fd(s->c), s->buf + s->len, sizeof s->buf - s->len);
      if (n <= 0)
        return memmem(s->buf, s->len, needle, strlen(needle)) != NULL;
      s->len += (size_t)n;
    } else {
      waited += 50;
    }
  }
}

static size_t stream_count(const stream *s, const char *needle) {
  size_t n = 0;
  for (const char *p = s->buf; (p = memmem(p, s->len - (size_t)(p - s->buf), needle, strlen(needle))) != NULL;
       p++)
    n++;
  return n;
}

static void stream_close(stream *s) {
  hc_close(s->c);
  free(s);
}

/* ---- the tests ---- */

static void c_discovery(void) {
  resp r = request("GET", "/version", NULL, NULL);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(jstr(&r, "major"), "1");
  ck_assert_str_eq(jstr(&r, "gitVersion"), "v1.32.0-podvisor.0.1.0");
  resp_free(&r);
  r = request("GET", "/api", NULL, NULL);
  ck_assert_str_eq(jstr(&r, "kind"), "APIVersions");
  resp_free(&r);
  r = request("GET", "/apis", NULL, NULL);
  ck_assert_str_eq(jstr(&r, "kind"), "APIGroupList");
  ck_assert(strstr(r.body, "podvisor.io/v1") != NULL);
  resp_free(&r);
  r = request("GET", "/api/v1", NULL, NULL);
  ck_assert_str_eq(jstr(&r, "kind"), "APIResourceList");
  ck_assert(strstr(r.body, "\"pods/log\"") != NULL && strstr(r.body, "\"events\"") != NULL);
  resp_free(&r);
  const char *health[] = {"/healthz", "/readyz", "/livez"};
  for (size_t i = 0; i < 3; i++) {
    r = request("GET", health[i], NULL, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "ok");
    resp_free(&r);
  }
  r = request("GET", "/api/v1/nothing", NULL, NULL);
  assert_status(&r, 404, "NotFound");
  resp_free(&r);
  r = request("GET", "/nope", NULL, NULL);
  assert_status(&r, 404, "NotFound");
  resp_free(&r);
  r = request("PATCH", "/api/v1/namespaces/default/pods/x", NULL, NULL);
  assert_status(&r, 405, "MethodNotAllowed");
  resp_free(&r);
  r = request("GET", "/apis/podvisor.io/v1/apply", NULL, NULL);
  assert_status(&r, 405, "MethodNotAllowed");
  resp_free(&r);
  r = request("GET", "/api/v1/pods?labelSelector=a%20in%20(b", NULL, NULL);
  assert_status(&r, 400, "BadRequest");
  resp_free(&r);
}

START_TEST(discovery_and_errors) {
  run_client(c_discovery);
}
END_TEST

static void c_apply(void) {
  char *a = pod_yaml("a", "busybox", "a", false), *b = pod_yaml("b", "busybox", "b", false);
  char *both;
  ck_assert_int_ge(asprintf(&both, "%s---\n%s", a, b), 0);
  resp r = apply("?dryRun=All", both);
  ck_assert_msg(r.status == 200, "%s", r.body);
  ck_assert_str_eq(jstr(&r, "kind"), "ApplyResult");
  ck_assert(k8s_json_bool(r.json, "dryRun"));
  ck_assert_str_eq(k8s_json_str(item(&r, 0), "action"), "create");
  ck_assert_str_eq(k8s_json_str(item(&r, 0), "text"), "pod/a created");
  resp_free(&r);
  r = request("GET", "/api/v1/pods", NULL, NULL);
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "items")), 0); /* the dry run changed nothing */
  resp_free(&r);

  r = apply(NULL, both);
  ck_assert_msg(r.status == 200, "%s", r.body);
  ck_assert(!k8s_json_bool(r.json, "dryRun"));
  ck_assert_str_eq(k8s_json_str(item(&r, 1), "text"), "pod/b created");
  resp_free(&r);
  r = apply(NULL, both);
  ck_assert_str_eq(k8s_json_str(item(&r, 0), "action"), "unchanged");
  ck_assert_str_eq(k8s_json_str(item(&r, 0), "text"), "pod/a unchanged");
  resp_free(&r);

  /* One container changed: configured, that container restarted. */
  char *a2 = pod_yaml("a", "busybox:1.36", "a", false);
  r = apply("?dryRun=All", a2);
  ck_assert_str_eq(k8s_json_str(item(&r, 0), "action"), "configure");
  ck_assert_str_eq(k8s_json_str(item(&r, 0), "detail"), "restart container app");
  ck_assert_str_eq(k8s_json_str(item(&r, 0), "text"), "pod/a configured: restart container app");
  resp_free(&r);

  /* Prune: b is applied and not in the body. */
  r = apply("?prune=true", a2);
  ck_assert_msg(r.status == 200, "%s", r.body);
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "items")), 2);
  ck_assert_str_eq(k8s_json_str(item(&r, 1), "name"), "b");
  ck_assert_str_eq(k8s_json_str(item(&r, 1), "action"), "delete");
  ck_assert_str_eq(k8s_json_str(item(&r, 1), "text"), "pod/b pruned");
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/b", NULL, NULL);
  assert_status(&r, 404, "NotFound");
  ck_assert_str_eq(jstr(&r, "message"), "pods \"b\" not found");
  ck_assert_str_eq(jstr(&r, "details.name"), "b");
  ck_assert_str_eq(jstr(&r, "details.kind"), "pods");
  resp_free(&r);

  /* apply -n NS: the pods land in NS. */
  r = request("POST", "/apis/podvisor.io/v1/namespaces/team/apply", NULL, b);
  ck_assert_msg(r.status == 200, "%s", r.body);
  ck_assert_str_eq(k8s_json_str(item(&r, 0), "namespace"), "team");
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/team/pods/b", NULL, NULL);
  ck_assert_int_eq(r.status, 200);
  resp_free(&r);

  /* All or nothing: two bad documents, two causes, nothing applied. */
  const char *bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: c\nspec:\n  containers:\n  - name: app\n"
                    "    imagePullPolicy: Sometimes\n    image: busybox\n---\napiVersion: v1\nkind: Pod\n"
                    "metadata:\n  name: d\nspec:\n  containers:\n  - name: BAD_NAME\n    image: busybox\n";
  r = apply(NULL, bad);
  assert_status(&r, 422, "Invalid");
  const json_t *causes = k8s_json_arr(r.json, "details.causes");
  ck_assert_int_ge(json_array_size(causes), 2);
  ck_assert_str_eq(k8s_json_str(json_array_get(causes, 0), "reason"), "FieldValueInvalid");
  ck_assert_msg(strncmp(k8s_json_str(json_array_get(causes, 0), "message"), "<request>:8:", 12) == 0, "%s",
                r.body);
  ck_assert_ptr_null(k8s_json_at(r.json, "details.kind"));
  ck_assert_ptr_null(k8s_json_at(r.json, "details.name"));
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/c", NULL, NULL);
  ck_assert_int_eq(r.status, 404);
  resp_free(&r);
  r = apply(NULL, "key: [unclosed\n");
  assert_status(&r, 422, "Invalid");
  ck_assert(strstr(r.body, "<request>:2:1: error: YAML syntax error") != NULL);
  resp_free(&r);
  r = apply("?dryRun=Some", a2);
  assert_status(&r, 400, "BadRequest");
  resp_free(&r);
  free(a);
  free(a2);
  free(b);
  free(both);
}

START_TEST(apply_plans_prune_and_invalid) {
  run_client(c_apply);
}
END_TEST

static void c_list(void) {
  char *a = pod_yaml("a", "busybox", "web", false), *b = pod_yaml("b", "busybox", "db", true);
  apply_ok(a);
  apply_ok(b);
  resp r = request("GET", "/api/v1/pods", NULL, NULL);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(jstr(&r, "kind"), "PodList");
  const json_t *items = k8s_json_arr(r.json, "items");
  ck_assert_int_eq(json_array_size(items), 2);
  const json_t *pa = json_array_get(items, 0);
  ck_assert_str_eq(k8s_json_str(pa, "metadata.name"), "a");
  ck_assert_str_ne(k8s_json_str(pa, "metadata.uid"), "");
  ck_assert_str_ne(k8s_json_str(pa, "metadata.creationTimestamp"), "");
  ck_assert_str_eq(k8s_json_member(k8s_json_obj(pa, "metadata.annotations"), "podvisor.io/source"), "api");
  ck_assert_str_eq(k8s_json_str(pa, "spec.nodeName"), "testhost");
  ck_assert_str_eq(k8s_json_str(pa, "status.phase"), "Pending");
  resp_free(&r);
  r = request("GET", "/api/v1/pods?labelSelector=app%3Ddb", NULL, NULL);
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "items")), 1);
  ck_assert_str_eq(k8s_json_str(json_array_get(k8s_json_arr(r.json, "items"), 0), "metadata.name"), "b");
  resp_free(&r);
  r = request("GET", "/api/v1/pods?labelSelector=app!%3Ddb,app", NULL, NULL);
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "items")), 1);
  resp_free(&r);
  r = request("GET", "/api/v1/pods?labelSelector=app%20in%20(db,web)", NULL, NULL);
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "items")), 2);
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Da", NULL, NULL);
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "items")), 1);
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/other/pods", NULL, NULL);
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "items")), 0);
  resp_free(&r);
  const char *table = "Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json\r\n";
  r = request("GET", "/api/v1/namespaces/default/pods", table, NULL);
  ck_assert_str_eq(jstr(&r, "kind"), "Table");
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "columnDefinitions")), 9);
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "rows")), 2);
  const json_t *cells = json_object_get(json_array_get(k8s_json_arr(r.json, "rows"), 1), "cells");
  ck_assert_str_eq(json_string_value(json_array_get(cells, 0)), "b");
  ck_assert_str_eq(json_string_value(json_array_get(cells, 1)), "0/2");
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/a", table, NULL);
  ck_assert_str_eq(jstr(&r, "kind"), "Table");
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "rows")), 1);
  resp_free(&r);
  r = request("HEAD", "/api/v1/namespaces/default/pods/a", NULL, NULL);
  ck_assert_int_eq(r.status, 200);
  resp_free(&r);
  free(a);
  free(b);
}

START_TEST(list_get_selectors_table) {
  run_client(c_list);
}
END_TEST

static const char *pod_json =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"j\"},\"spec\":"
    "{\"containers\":[{\"name\":\"app\",\"image\":\"busybox\"}]}}";

static void set_running(void *arg);

static void set_file_pod(void *arg) {
  (void)arg;
  fake_scan(&D);
}

static void c_crud(void) {
  const char *json = "Content-Type: application/json\r\n";
  resp r = request("POST", "/api/v1/namespaces/default/pods?dryRun=All", json, pod_json);
  ck_assert_msg(r.status == 201, "%s", r.body);
  ck_assert_str_eq(jstr(&r, "kind"), "Pod");
  ck_assert_str_eq(jstr(&r, "status.phase"), "Pending");
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/j", NULL, NULL);
  assert_status(&r, 404, "NotFound"); /* the dry run stored nothing */
  resp_free(&r);
  r = request("POST", "/api/v1/namespaces/default/pods", json, pod_json);
  ck_assert_msg(r.status == 201, "%s", r.body);
  ck_assert_str_eq(jstr(&r, "kind"), "Pod");
  ck_assert_str_eq(jstr(&r, "metadata.name"), "j");
  resp_free(&r);
  r = request("POST", "/api/v1/namespaces/default/pods", json, pod_json);
  assert_status(&r, 409, "AlreadyExists");
  ck_assert_str_eq(jstr(&r, "message"), "pods \"j\" already exists");
  resp_free(&r);
  char *j2 = strdup(pod_json);
  memcpy(strstr(j2, "busybox"), "busyfox", 7);
  r = request("PUT", "/api/v1/namespaces/default/pods/j", json, j2);
  ck_assert_msg(r.status == 200, "%s", r.body);
  ck_assert(strstr(r.body, "busyfox") != NULL);
  resp_free(&r);
  char *zz = strdup(j2);
  memcpy(strstr(zz, "\"j\""), "\"z\"", 3);
  r = request("PUT", "/api/v1/namespaces/default/pods/z", json, zz);
  assert_status(&r, 404, "NotFound");
  ck_assert_str_eq(jstr(&r, "message"), "pods \"z\" not found");
  resp_free(&r);
  free(zz);
  r = request("PUT", "/api/v1/namespaces/default/pods/zz", json, j2);
  assert_status(&r, 400, "BadRequest"); /* the body names another pod */
  resp_free(&r);
  r = request("POST", "/api/v1/pods", json, j2);
  assert_status(&r, 405, "MethodNotAllowed");
  resp_free(&r);
  r = request("DELETE", "/api/v1/namespaces/default/pods/j?gracePeriodSeconds=3", NULL, NULL);
  ck_assert_msg(r.status == 200, "%s", r.body);
  ck_assert_str_eq(jstr(&r, "kind"), "Pod");
  ck_assert_str_ne(jstr(&r, "metadata.deletionTimestamp"), "");
  resp_free(&r);
  r = request("DELETE", "/api/v1/namespaces/default/pods/j", NULL, NULL);
  assert_status(&r, 404, "NotFound");
  resp_free(&r);
  r = request("DELETE", "/api/v1/namespaces/default/pods/j?gracePeriodSeconds=soon", NULL, NULL);
  assert_status(&r, 400, "BadRequest");
  resp_free(&r);

  /* A pod of a manifest file belongs to the file. */
  char path[4200];
  snprintf(path, sizeof path, "%s/file.yaml", D.opts.manifests);
  FILE *f = fopen(path, "w");
  char *fy = pod_yaml("filepod", "busybox", "f", false);
  fputs(fy, f);
  fclose(f);
  on_loop(set_file_pod, NULL);
  r = request("GET", "/api/v1/namespaces/default/pods/filepod", NULL, NULL);
  ck_assert_int_eq(r.status, 200);
  char src[4300];
  snprintf(src, sizeof src, "file:%s", path);
  ck_assert_str_eq(k8s_json_member(k8s_json_obj(r.json, "metadata.annotations"), "podvisor.io/source"), src);
  resp_free(&r);
  r = request("DELETE", "/api/v1/namespaces/default/pods/filepod", NULL, NULL);
  assert_status(&r, 409, "Conflict");
  ck_assert_msg(strstr(jstr(&r, "message"), path) != NULL, "%s", r.body);
  resp_free(&r);
  r = request("PUT", "/api/v1/namespaces/default/pods/filepod", NULL, fy);
  assert_status(&r, 409, "Conflict");
  ck_assert_msg(strstr(jstr(&r, "message"), path) != NULL, "%s", r.body);
  resp_free(&r);
  r = apply(NULL, fy);
  assert_status(&r, 409, "Conflict");
  resp_free(&r);

  /* The file turns invalid while its pod runs: the pod says so in a condition. */
  on_loop(set_running, "filepod");
  f = fopen(path, "w");
  fputs("apiVersion: v1\nkind: Pod\nmetadata:\n  name: filepod\nspec:\n  containers:\n  - name: BAD\n"
        "    image: busybox\n",
        f);
  fclose(f);
  on_loop(set_file_pod, NULL);
  r = request("GET", "/api/v1/namespaces/default/pods/filepod", NULL, NULL);
  ck_assert_str_eq(jstr(&r, "status.phase"), "Running");
  const json_t *conds = k8s_json_arr(r.json, "status.conditions");
  const json_t *last = json_array_get(conds, json_array_size(conds) - 1);
  ck_assert_str_eq(k8s_json_str(last, "type"), "podvisor.io/ManifestValid");
  ck_assert_str_eq(k8s_json_str(last, "status"), "False");
  ck_assert_str_eq(k8s_json_str(last, "reason"), "FailedValidation");
  ck_assert_msg(strstr(k8s_json_str(last, "message"), "file.yaml") != NULL, "%s", r.body);
  resp_free(&r);
  free(fy);
  free(j2);
}

START_TEST(create_replace_delete_ownership) {
  run_client(c_crud);
}
END_TEST

static void set_running(void *arg) {
  const char *name = arg;
  fpod *f = fake_find(&D, "default", name);
  ck_assert_ptr_nonnull(f);
  f->p.state = PVD_POD_RUNNING;
  free(f->p.status_json);
  f->p.status_json =
      strdup("{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"app\",\"ready\":true,"
             "\"restartCount\":0,\"state\":{\"running\":{\"startedAt\":\"2024-05-01T10:00:00Z\"}}}]}");
  f->p.rv = ++D.rv;
  pvd_api_pod_changed(&D, "default", name, PVD_WATCH_MODIFIED);
}

static void end_deletion(void *arg) {
  fake_remove(&D, "default", arg);
}

static void c_watch(void) {
  char *a = pod_yaml("a", "busybox", "web", false), *b = pod_yaml("b", "busybox", "db", false);
  apply_ok(a);
  stream *all = stream_open("/api/v1/pods?watch=true", NULL);
  ck_assert(stream_wait(all, "\"ADDED\"", 5000));
  ck_assert(stream_wait(all, "\"name\":\"a\"", 5000));
  stream *sel = stream_open("/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Ddb",
                            "Accept: application/json;as=Table;v=v1;g=meta.k8s.io\r\n");
  stream *ev = stream_open("/api/v1/events?watch=true&fieldSelector=involvedObject.name%3Db", NULL);
  ck_assert(stream_wait(sel, "Transfer-Encoding: chunked", 5000));
  apply_ok(b);
  ck_assert(stream_wait(all, "\"name\":\"b\"", 5000));
  ck_assert(stream_wait(sel, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Table\"", 5000));
  ck_assert(stream_wait(sel, "\"cells\":[\"b\"", 5000));
  ck_assert(stream_wait(ev, "\"reason\":\"Created\"", 5000));
  ck_assert(strstr(ev->buf, "\"name\":\"a\"") == NULL);
  on_loop(set_running, "b");
  ck_assert(stream_wait(all, "\"MODIFIED\"", 5000));
  ck_assert(stream_wait(sel, "\"Running\"", 5000));
  ck_assert_int_eq(stream_count(sel, "columnDefinitions\":["), 1); /* columns once, as kube-apiserver */
  /* b's label changes: it leaves the selection (DELETED), then comes back (ADDED). */
  char *b_other = pod_yaml("b", "busybox", "other", false);
  apply_ok(b_other);
  ck_assert(stream_wait(sel, "{\"type\":\"DELETED\"", 5000));
  apply_ok(b);
  for (int i = 0; i < 100 && stream_count(sel, "{\"type\":\"ADDED\"") < 2; i++)
    stream_wait(sel, "never", 50);
  ck_assert_int_eq(stream_count(sel, "{\"type\":\"ADDED\""), 2);
  free(b_other);
  resp r = request("DELETE", "/api/v1/namespaces/default/pods/b", NULL, NULL);
  ck_assert_int_eq(r.status, 200);
  resp_free(&r);
  on_loop(end_deletion, "b");
  ck_assert(stream_wait(all, "\"DELETED\"", 5000));
  ck_assert(stream_wait(ev, "\"reason\":\"Deleted\"", 5000));
  ck_assert_int_eq(stream_count(sel, "\"cells\":[\"a\""), 0);
  /* resourceVersion: only what changed after it. */
  char path[128];
  snprintf(path, sizeof path, "/api/v1/pods?watch=true&resourceVersion=%llu", (unsigned long long)D.rv);
  stream *since = stream_open(path, NULL);
  ck_assert(stream_wait(since, "chunked", 5000));
  ck_assert(!stream_wait(since, "\"name\":\"a\"", 300));
  stream_close(since);
  stream_close(all);
  stream_close(sel);
  stream_close(ev);
  r = request("GET", "/api/v1/events?fieldSelector=involvedObject.name%3Da", NULL, NULL);
  ck_assert_str_eq(jstr(&r, "kind"), "EventList");
  ck_assert_int_eq(json_array_size(k8s_json_arr(r.json, "items")), 1);
  ck_assert_str_eq(k8s_json_str(json_array_get(k8s_json_arr(r.json, "items"), 0), "involvedObject.name"),
                   "a");
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/events", NULL, NULL);
  ck_assert_int_ge(json_array_size(k8s_json_arr(r.json, "items")), 3);
  resp_free(&r);
  free(a);
  free(b);
}

START_TEST(watch_streams) {
  run_client(c_watch);
}
END_TEST

/* The log files of pod "l": its keeper's paths with the log dir under tmp. */
static char log_file[4300];

static void give_paths(void *arg) {
  fpod *f = fake_find(&D, "default", arg);
  pv_err err = {0};
  ck_assert_int_eq(podpaths_init(&f->pp, D.opts.run_root, "0123456789abcdef", &err), 0);
  ck_assert_int_eq(podpaths_set_instance(&f->pp, D.opts.root, "default", arg, f->p.uid, &err), 0);
  f->has_pp = true;
}

static void append(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

static void set_terminated(void *arg) {
  fpod *f = fake_find(&D, "default", arg);
  free(f->p.status_json);
  f->p.status_json =
      strdup("{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"app\",\"restartCount\":0,"
             "\"state\":{\"terminated\":{\"exitCode\":1}}}]}");
  f->p.rv = ++D.rv;
  pvd_api_pod_changed(&D, "default", arg, PVD_WATCH_MODIFIED);
}

static void c_logs(void) {
  char *l = pod_yaml("l", "busybox", "l", false), *two = pod_yaml("two", "busybox", "t", true);
  apply_ok(l);
  apply_ok(two);
  resp r = request("GET", "/api/v1/namespaces/default/pods/l/log", NULL, NULL);
  assert_status(&r, 400, "BadRequest");
  ck_assert(strstr(jstr(&r, "message"), "waiting to start") != NULL);
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/two/log", NULL, NULL);
  assert_status(&r, 400, "BadRequest");
  ck_assert_str_eq(jstr(&r, "message"),
                   "a container name must be specified for pod two, choose one of: [app side]");
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/two/log?container=nope", NULL, NULL);
  assert_status(&r, 400, "BadRequest");
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/none/log", NULL, NULL);
  assert_status(&r, 404, "NotFound");
  resp_free(&r);

  on_loop(set_running, "l");
  on_loop(give_paths, "l");
  const podpaths *pp = pvd_pod_paths(pvd_pod_find(&D, "default", "l"));
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/app", pp->log_dir);
  char logs[4200];
  snprintf(logs, sizeof logs, "%s/logs", D.opts.root);
  ck_assert_int_eq(mkdir(logs, 0755), 0);
  ck_assert_int_eq(mkdir(pp->log_dir, 0755), 0);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  snprintf(log_file, sizeof log_file, "%s/0.log", dir);
  append(log_file, "2024-05-01T10:00:00.100000000Z stdout F one\n"
                   "2024-05-01T10:00:01.000000000Z stderr P tw\n"
                   "2024-05-01T10:00:01.500000000Z stderr F o\n"
                   "2024-05-01T10:00:02.000000000Z stdout F three\n");
  r = request("GET", "/api/v1/namespaces/default/pods/l/log", NULL, NULL);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body, "one\ntwo\nthree\n");
  ck_assert(strncmp(r.ctype, "text/plain", 10) == 0);
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/l/log?tailLines=2&timestamps=true", NULL, NULL);
  ck_assert_str_eq(r.body, "2024-05-01T10:00:01Z two\n2024-05-01T10:00:02Z three\n");
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/l/log?sinceSeconds=60", NULL, NULL);
  ck_assert_str_eq(r.body, ""); /* every record is older */
  resp_free(&r);
  r = request("GET", "/api/v1/namespaces/default/pods/l/log?previous=true", NULL, NULL);
  assert_status(&r, 400, "BadRequest");
  resp_free(&r);

  stream *s = stream_open("/api/v1/namespaces/default/pods/l/log?follow=true&tailLines=1", NULL);
  ck_assert(stream_wait(s, "three\n", 5000));
  ck_assert(!stream_wait(s, "one", 100));
  append(log_file, "2024-05-01T10:00:03.000000000Z stdout F four\n");
  ck_assert(stream_wait(s, "four\n", 5000));
  /* Rotation: the live file moves to 0.log.1, a new 0.log begins. */
  char rotated[4400];
  snprintf(rotated, sizeof rotated, "%s.1", log_file);
  ck_assert_int_eq(rename(log_file, rotated), 0);
  append(rotated, "2024-05-01T10:00:04.000000000Z stdout F five\n");
  append(log_file, "2024-05-01T10:00:05.000000000Z stdout F six\n");
  ck_assert(stream_wait(s, "six\n", 5000));
  ck_assert(stream_wait(s, "five\n", 100));
  on_loop(set_terminated, "l");
  ck_assert(stream_wait(s, "0\r\n\r\n", 5000)); /* the end of the chunked body: the run is over */
  stream_close(s);
  r = request("GET", "/api/v1/namespaces/default/pods/l/log", NULL, NULL);
  ck_assert_str_eq(r.body, "one\ntwo\nthree\nfour\nfive\nsix\n");
  resp_free(&r);
  free(l);
  free(two);
}

START_TEST(logs_read_and_followed) {
  run_client(c_logs);
}
END_TEST

/* A followed log whose history is larger than what httpd lets a stream
 * queue (8 MiB) comes whole: the follower paces itself by the client. */
static void c_big_follow(void) {
  char *l = pod_yaml("l", "busybox", "l", false);
  apply_ok(l);
  on_loop(set_running, "l");
  on_loop(give_paths, "l");
  const podpaths *pp = pvd_pod_paths(pvd_pod_find(&D, "default", "l"));
  char dir[4200], logs[4200];
  snprintf(logs, sizeof logs, "%s/logs", D.opts.root);
  ck_assert_int_eq(mkdir(logs, 0755), 0);
  ck_assert_int_eq(mkdir(pp->log_dir, 0755), 0);
  snprintf(dir, sizeof dir, "%s/app", pp->log_dir);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  snprintf(log_file, sizeof log_file, "%s/0.log", dir);
  FILE *f = fopen(log_file, "w");
  char pad[1001];
  memset(pad, 'x', 1000);
  pad[1000] = '\0';
  const int lines = 12000; /* 12 MB of text */
  for (int i = 0; i < lines; i++)
    fprintf(f, "2024-05-01T10:00:00.000000000Z stdout F L%05d %s\n", i, pad);
  fclose(f);
  stream *s = stream_open("/api/v1/namespaces/default/pods/l/log?follow=true", NULL);
  size_t total = 0;
  char tail[64] = "";
  bool seen_last = false;
  nanosleep(&(struct timespec){.tv_nsec = 300 * 1000000}, NULL); /* a client slow to begin */
  for (int idle = 0; idle < 100 && !seen_last;) {
    struct pollfd p = {.fd = hc_fd(s->c), .events = POLLIN};
    if (poll(&p, 1, 50) != 1) {
      idle++;
      continue;
    }
    ssize_t n = read(hc_fd(s->c), s->buf, sizeof s->buf);
    ck_assert_int_gt(n, 0);
    total += (size_t)n;
    /* The last line's mark may straddle two reads: keep the end of the previous one. */
    char both[64 + sizeof s->buf];
    size_t tl = strlen(tail);
    memcpy(both, tail, tl);
    memcpy(both + tl, s->buf, (size_t)n);
    seen_last = memmem(both, tl + (size_t)n, "L11999 ", 7) != NULL;
    size_t keep = (size_t)n < 16 ? (size_t)n : 16;
    memcpy(tail, s->buf + n - keep, keep);
    tail[keep] = '\0';
  }
  ck_assert_msg(seen_last, "the last line did not come (%zu bytes)", total);
  ck_assert_uint_ge(total, (size_t)lines * 1008);
  stream_close(s);
  free(l);
}

START_TEST(logs_followed_with_a_large_history) {
  run_client(c_big_follow);
}
END_TEST

static void c_auth(void) {
  char tok_path[4200], *tok = NULL;
  snprintf(tok_path, sizeof tok_path, "%s/token", D.opts.run_root);
  struct stat st;
  ck_assert_int_eq(stat(tok_path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  ck_assert_int_eq(stat(sock_path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  ck_assert_int_eq(stat(exec_path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  FILE *f = fopen(tok_path, "r");
  size_t n = 0;
  ck_assert_int_gt(getline(&tok, &n, f), 32);
  fclose(f);
  tok[strcspn(tok, "\n")] = '\0';
  ck_assert_int_gt(D.tcp_port, 0);
  hc *c = hc_tcp(D.tcp_port);
  resp r = request_on(c, "GET", "/api/v1/pods", NULL, NULL);
  ck_assert_int_eq(r.status, 200);
  resp_free(&r);
  hc_close(c);
  c = hc_tcp(D.tcp_port);
  r = request_on(c, "POST", "/apis/podvisor.io/v1/apply", NULL, pod_json);
  assert_status(&r, 403, "Forbidden");
  resp_free(&r);
  hc_close(c);
  c = hc_tcp(D.tcp_port);
  r = request_on(c, "DELETE", "/api/v1/namespaces/default/pods/x", "Authorization: Bearer wrong\r\n", NULL);
  ck_assert_int_eq(r.status, 401);
  resp_free(&r);
  hc_close(c);
  char hdr[256];
  snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", tok);
  c = hc_tcp(D.tcp_port);
  r = request_on(c, "POST", "/apis/podvisor.io/v1/apply", hdr, pod_json);
  ck_assert_msg(r.status == 200, "%s", r.body);
  resp_free(&r);
  hc_close(c);
  free(tok);
}

START_TEST(auth_of_the_tcp_listener) {
  run_client(c_auth);
}
END_TEST

/* One exec request on exec.sock with nfds copies of /dev/null; the reply. */
static json_t *exec_call(const char *line, int nfds) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  ck_assert_int_lt(strlen(exec_path), sizeof sa.sun_path);
  memcpy(sa.sun_path, exec_path, strlen(exec_path) + 1);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  int fds[3];
  for (int i = 0; i < nfds; i++)
    fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
  ck_assert_int_eq(ctlproto_send(fd, line, strlen(line), fds, (size_t)nfds), (ssize_t)strlen(line));
  for (int i = 0; i < nfds; i++)
    close(fds[i]);
  char buf[4096];
  size_t len = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, 5000), 1);
    ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
    if (r <= 0)
      break;
    len += (size_t)r;
  }
  buf[len] = '\0';
  close(fd);
  return json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
}

static void c_exec(void) {
  char *a = pod_yaml("a", "busybox", "a", false);
  apply_ok(a);
  json_t *r =
      exec_call("{\"v\":1,\"op\":\"exec\",\"namespace\":\"default\",\"pod\":\"zz\",\"container\":\"app\","
                "\"argv\":[\"sh\"]}\n",
                2);
  ck_assert_ptr_nonnull(r);
  ck_assert(!k8s_json_bool(r, "ok"));
  ck_assert_str_eq(k8s_json_str(r, "error.reason"), "NotFound");
  json_decref(r);
  r = exec_call("{\"v\":1,\"op\":\"exec\",\"namespace\":\"default\",\"pod\":\"a\",\"container\":\"app\","
                "\"argv\":[\"sh\"]}\n",
                2);
  ck_assert_str_eq(k8s_json_str(r, "error.reason"), "Conflict"); /* no keeper yet */
  json_decref(r);
  r = exec_call("{\"v\":1,\"op\":\"exec\",\"pod\":\"a\",\"container\":\"app\",\"argv\":[\"sh\"]}\n", 1);
  ck_assert_str_eq(k8s_json_str(r, "error.reason"), "Invalid"); /* stdout and stderr are passed */
  json_decref(r);
  r = exec_call("{\"v\":1,\"op\":\"status\"}\n", 0);
  ck_assert_str_eq(k8s_json_str(r, "error.reason"), "Unsupported");
  json_decref(r);
  r = exec_call("not json\n", 0);
  ck_assert_str_eq(k8s_json_str(r, "error.reason"), "Invalid");
  json_decref(r);
  resp h = request("POST", "/apis/podvisor.io/v1/namespaces/default/pods/a/restart", NULL, NULL);
  assert_status(&h, 409, "Conflict");
  resp_free(&h);
  h = request("POST", "/apis/podvisor.io/v1/namespaces/default/pods/zz/restart", NULL, NULL);
  assert_status(&h, 404, "NotFound");
  resp_free(&h);
  h = request("POST", "/apis/podvisor.io/v1/namespaces/default/pods/a/restart?container=nope", NULL, NULL);
  assert_status(&h, 404, "NotFound");
  resp_free(&h);
  free(a);
}

START_TEST(exec_broker_refusals_and_restart) {
  run_client(c_exec);
}
END_TEST

/* A stream still open when the API closes is ended by it. */
static void c_close(void) {
  stream *s = stream_open("/api/v1/pods?watch=true", NULL);
  ck_assert(stream_wait(s, "chunked", 5000));
  stream_close(s);
  s = stream_open("/api/v1/events?watch=true", NULL);
  ck_assert(stream_wait(s, "chunked", 5000));
  leftover = s; /* left open: pvd_api_close() ends it; teardown closes it */
}

START_TEST(close_ends_open_streams) {
  run_client(c_close);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("daemon_api");
  TCase *tc = tcase_create("api");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, discovery_and_errors);
  tcase_add_test(tc, apply_plans_prune_and_invalid);
  tcase_add_test(tc, list_get_selectors_table);
  tcase_add_test(tc, create_replace_delete_ownership);
  tcase_add_test(tc, watch_streams);
  tcase_add_test(tc, logs_read_and_followed);
  tcase_add_test(tc, logs_followed_with_a_large_history);
  tcase_add_test(tc, auth_of_the_tcp_listener);
  tcase_add_test(tc, exec_broker_refusals_and_restart);
  tcase_add_test(tc, close_ends_open_streams);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
