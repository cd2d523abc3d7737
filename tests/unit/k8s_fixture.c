/* k8s_fixture.c - the shop/web pod of the k8s_* suites (k8s_fixture.h). */
#include "tests/unit/k8s_fixture.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/daemon/k8s_event.h"
#include "supervisor/daemon/k8s_pod.h"
#include "supervisor/shim/kstatus.h"

#define SEC K8S_FIXTURE_SEC
#define T0 K8S_FIXTURE_T0
#define NOW K8S_FIXTURE_NOW

const char k8s_fixture_manifest[] =
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: web\n"
    "  namespace: shop\n"
    "  labels: {app: web, tier: frontend}\n"
    "  annotations:\n"
    "    podvisor.io/backoff-initial: 1s\n"
    "    team: storefront\n"
    "spec:\n"
    "  initContainers:\n"
    "  - name: migrate\n"
    "    image: shop/app:2.1\n"
    "    command: [/app/migrate, --wait]\n"
    "  - name: proxy\n"
    "    image: envoy:1.29\n"
    "    restartPolicy: Always\n"
    "    ports: [{name: http, containerPort: 8080}]\n"
    "    readinessProbe:\n"
    "      tcpSocket: {port: 8080}\n"
    "      periodSeconds: 5\n"
    "  containers:\n"
    "  - name: app\n"
    "    image: shop/app:2.1\n"
    "    args: [--port, \"9000\", --log-format=json]\n"
    "    env:\n"
    "    - {name: MODE, value: production}\n"
    "    - {name: BANNER, value: \"line one\\nline two\"}\n"
    "    ports: [{containerPort: 9000}, {containerPort: 9090, protocol: UDP}]\n"
    "    resources:\n"
    "      limits: {cpu: 500m, memory: 128Mi}\n"
    "      requests: {cpu: 250m, memory: 64Mi}\n"
    "    livenessProbe:\n"
    "      httpGet: {path: /healthz, port: 9000}\n"
    "      initialDelaySeconds: 5\n"
    "    readinessProbe:\n"
    "      exec: {command: [cat, /tmp/ready]}\n"
    "    startupProbe:\n"
    "      httpGet: {path: /started, port: 9000}\n"
    "      failureThreshold: 30\n"
    "    volumeMounts:\n"
    "    - {name: data, mountPath: /data}\n"
    "    - {name: cache, mountPath: /cache, readOnly: true}\n"
    "    - {name: data, mountPath: /config, subPath: conf}\n"
    "  - name: worker\n"
    "    image: shop/worker:2.1\n"
    "    command: [/bin/worker]\n"
    "    resources:\n"
    "      limits: {memory: 64Mi}\n"
    "  volumes:\n"
    "  - name: data\n"
    "    emptyDir: {}\n"
    "  - name: cache\n"
    "    hostPath: {path: /var/cache/shop, type: DirectoryOrCreate}\n";

json_t *k8s_fixture_json(const char *squoted) {
  char *s = strdup(squoted);
  for (char *p = s; *p; p++)
    if (*p == '\'')
      *p = '"';
  json_error_t e;
  json_t *j = json_loads(s, 0, &e);
  ck_assert_msg(j != NULL, "bad JSON at %d: %s\n%s", e.position, e.text, s);
  free(s);
  return j;
}

spec_pod *k8s_fixture_pod(void) {
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  int r = spec_parse_buffer("web.yaml", k8s_fixture_manifest, strlen(k8s_fixture_manifest), 0, &l, &d);
  ck_assert_msg(r == 0 && l.n == 1, "fixture manifest: %zu diagnostics", d.n);
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  diag_list_free(&d);
  return p;
}

static void apply(ctrstate *c, ctrstate_event e) {
  pv_err err;
  ck_assert_msg(ctrstate_apply(c, &e, &err) == 0, "%s", err.msg);
}

static void run(ctrstate *c, int64_t t, int pid) {
  apply(c, (ctrstate_event){.kind = CTRSTATE_EV_CREATED, .time = t, .id = c->name});
  apply(c, (ctrstate_event){.kind = CTRSTATE_EV_STARTED, .time = t, .pid = pid});
}

static void die(ctrstate *c, int64_t t, int code, int sig, bool oom) {
  apply(c, (ctrstate_event){.kind = CTRSTATE_EV_EXITED, .time = t, .exit = {code, sig, oom}});
}

static void containers(ctrstate_pod *st, const spec_pod *p) {
  for (size_t i = 0; i < p->n_init_containers; i++) {
    const spec_container *c = &p->init_containers[i];
    ctrstate_init(&st->init[i], c->name, c->sidecar ? BACKOFF_KIND_SIDECAR : BACKOFF_KIND_INIT, false);
    ctrstate_set_spec(&st->init[i], c->image, c->hash, c->startup.kind != SPEC_PROBE_NONE,
                      c->readiness.kind != SPEC_PROBE_NONE);
  }
  for (size_t i = 0; i < p->n_containers; i++) {
    const spec_container *c = &p->containers[i];
    ctrstate_init(&st->app[i], c->name, BACKOFF_KIND_APP, true);
    ctrstate_set_spec(&st->app[i], c->image, c->hash, c->startup.kind != SPEC_PROBE_NONE,
                      c->readiness.kind != SPEC_PROBE_NONE);
  }
}

/* The worker dies 6 times, every 100 s after running 50 s; it restarted at
 * once after the first five exits, and after the last, an OOM kill at
 * NOW - 32 s, it waits out a back-off of 40 s. */
static void crash_loop(ctrstate_pod *st, ctrstate *w) {
  for (int i = 0; i < 6; i++) {
    int64_t t = T0 + (18 + 100 * i) * SEC;
    run(w, t, 200 + i);
    ctrstate_pod_update(st, t);
    die(w, t + 50 * SEC, i == 5 ? 137 : 1, i == 5 ? 9 : 0, i == 5);
    if (i < 5)
      apply(w, (ctrstate_event){.kind = CTRSTATE_EV_RESTART, .time = t + 50 * SEC});
    ctrstate_pod_update(st, t + 50 * SEC);
  }
  apply(w,
        (ctrstate_event){.kind = CTRSTATE_EV_BACKOFF, .time = NOW - 32 * SEC, .next_try_at = NOW + 8 * SEC});
  ctrstate_pod_update(st, NOW - 32 * SEC);
}

json_t *k8s_fixture_shim_status(const spec_pod *p) {
  ctrstate_pod st;
  ck_assert_int_eq(ctrstate_pod_init(&st, BACKOFF_POLICY_ALWAYS, p->n_init_containers, p->n_containers, NULL),
                   0);
  ctrstate_pod_set_identity(&st, 4242, p->hash);
  containers(&st, p);
  ctrstate *migrate = &st.init[0], *proxy = &st.init[1], *app = &st.app[0], *worker = &st.app[1];
  ctrstate_pod_update(&st, T0);
  run(migrate, T0 + 1 * SEC, 100);
  die(migrate, T0 + 3 * SEC, 0, 0, false);
  ctrstate_pod_update(&st, T0 + 3 * SEC);
  run(proxy, T0 + 4 * SEC, 101);
  ctrstate_pod_update(&st, T0 + 4 * SEC);
  apply(proxy, (ctrstate_event){.kind = CTRSTATE_EV_READINESS, .time = T0 + 6 * SEC, .ok = true});
  run(app, T0 + 5 * SEC, 102);
  apply(app, (ctrstate_event){.kind = CTRSTATE_EV_STARTUP_SUCCEEDED, .time = T0 + 9 * SEC});
  apply(app, (ctrstate_event){.kind = CTRSTATE_EV_READINESS, .time = T0 + 10 * SEC, .ok = true});
  ctrstate_pod_update(&st, T0 + 10 * SEC);
  crash_loop(&st, worker);

  backoff_state bo;
  backoff_state_init(&bo);
  kstatus_ctr ctrs[4];
  const char *names[4] = {"migrate", "proxy", "app", "worker"};
  for (int i = 0; i < 4; i++)
    ctrs[i] = (kstatus_ctr){.name = names[i], .bo = &bo};
  kstatus_view v = {.st = &st,
                    .name = "web",
                    .ns = "shop",
                    .uid = K8S_FIXTURE_UID,
                    .ctrs = ctrs,
                    .n_ctrs = 4,
                    .sandbox_error = ""};
  json_t *doc = kstatus_json(&v);
  ck_assert_ptr_nonnull(doc);
  ctrstate_pod_free(&st);
  return doc;
}

json_t *k8s_fixture_pod_object(void) {
  spec_pod *p = k8s_fixture_pod();
  json_t *st = k8s_fixture_shim_status(p);
  k8s_pod_meta m = {.uid = K8S_FIXTURE_UID,
                    .resource_version = "42",
                    .created = T0,
                    .source = "file:/etc/podvisor/pods/web.yaml",
                    .node_name = "host1",
                    .host_ip = "192.168.1.10"};
  pv_err err;
  json_t *pod = k8s_pod(p, &m, st, &err);
  ck_assert_msg(pod != NULL, "%s", err.msg);
  json_decref(st);
  spec_pod_free(p);
  return pod;
}

static json_t *event(const char *ctr, bool init, const char *reason, const char *msg, bool warn,
                     int64_t first, int64_t last, int count) {
  k8s_event_spec e = {.ns = "shop",
                      .pod = "web",
                      .pod_uid = K8S_FIXTURE_UID,
                      .container = ctr,
                      .init_container = init,
                      .reason = reason,
                      .message = msg,
                      .warning = warn,
                      .first = first,
                      .last = last,
                      .count = count,
                      .host = "host1"};
  pv_err err;
  json_t *j = k8s_event_json(&e, &err);
  ck_assert_msg(j != NULL, "%s", err.msg);
  return j;
}

json_t *k8s_fixture_events(void) {
  json_t *items = json_array();
  json_array_append_new(
      items, event(NULL, false, "Scheduled",
                   "Successfully assigned shop/web to host1 (from file:/etc/podvisor/pods/web.yaml)", false,
                   T0, 0, 1));
  json_array_append_new(
      items, event("migrate", true, "Started", "Started container migrate", false, T0 + SEC, 0, 1));
  json_array_append_new(items, event("worker", false, "Started", "Started container worker", false,
                                     T0 + 18 * SEC, T0 + 518 * SEC, 6));
  json_array_append_new(items,
                        event("worker", false, "OOMKilled", "Container worker was killed: out of memory\n",
                              true, NOW - 32 * SEC, 0, 1));
  json_array_append_new(items,
                        event("worker", false, "BackOff", "Back-off restarting failed container worker", true,
                              T0 + 68 * SEC, NOW - 32 * SEC, 5));
  json_array_append_new(
      items, event("proxy", true, "Started", "Started container proxy", false, T0 + 4 * SEC, 0, 1));
  k8s_event_spec other = {.ns = "shop", .pod = "db", .reason = "Started", .first = T0, .count = 1};
  json_array_append_new(items, k8s_event_json(&other, NULL));
  json_t *list = k8s_event_list(items, "57", NULL);
  ck_assert_ptr_nonnull(list);
  return list;
}
