/* Unit tests for spec/: focused manifests for the YAML layer, the
 * diagnostics, defaults, warned and refused fields, and the hashes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "tests/testutil.h"
#include "tests/unit/spec_fixture.h"

#define EXPECT(x, sev, line, text)                                                                           \
  ck_assert_msg(spec_run_find(x, sev, line, text) != NULL, "no diagnostic '%s'", text)

/* One valid pod, and its hash. */
static void hash_of(const char *yaml, char out[SPEC_HASH_HEX_LEN + 1], char ctr[SPEC_HASH_HEX_LEN + 1]) {
  spec_run x;
  spec_run_parse(&x, yaml);
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.pods.n, 1);
  memcpy(out, x.pods.items[0]->hash, SPEC_HASH_HEX_LEN + 1);
  if (ctr != NULL)
    memcpy(ctr, x.pods.items[0]->containers[0].hash, SPEC_HASH_HEX_LEN + 1);
  spec_run_done(&x);
}

START_TEST(duplicate_keys) {
  spec_run x;
  spec_run_parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n    image: nginx\n");
  ck_assert_int_eq(x.r, -1);
  EXPECT(&x, DIAG_ERROR, 9, "spec.containers[0].image: duplicate key 'image' (first defined at line 8)");
  ck_assert_int_eq(spec_run_find(&x, DIAG_ERROR, 9, "duplicate")->col, 5);
  ck_assert_uint_eq(x.pods.n, 0);
  spec_run_done(&x);
}
END_TEST

START_TEST(did_you_mean) {
  spec_run x;
  spec_run_parse(
      &x,
      HEAD "  containers:\n  - name: a\n    image: busybox\n    imagePulPolicy: Always\n    comand: [sh]\n");
  EXPECT(&x, DIAG_ERROR, 9, "unknown field 'imagePulPolicy'; did you mean 'imagePullPolicy'?");
  EXPECT(&x, DIAG_ERROR, 10, "unknown field 'comand'; did you mean 'command'?");
  spec_run_done(&x);
  spec_run_parse(
      &x, HEAD "  containers:\n  - name: a\n    image: busybox\n    livenessProbe:\n      gRPC: {port: 1}\n");
  EXPECT(&x, DIAG_ERROR, 10, "did you mean 'grpc'?");
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  restartPolicy: always\n  containers:\n  - name: a\n    image: busybox\n");
  EXPECT(&x, DIAG_ERROR, 6, "did you mean 'Always'?");
  spec_run_done(&x);
}
END_TEST

START_TEST(misplaced_restart_policy) {
  spec_run x;
  spec_run_parse(&x, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  restartPolicy: Never\nspec:\n"
                     "  containers:\n  - name: a\n    image: busybox\n");
  ck_assert_int_eq(x.r, -1);
  const diag *d = spec_run_find(&x, DIAG_ERROR, 5, "metadata.restartPolicy: unknown field 'restartPolicy'");
  ck_assert_ptr_nonnull(d);
  ck_assert_int_eq(d->col, 3);
  ck_assert_ptr_nonnull(strstr(d->message, "belongs in spec"));
  spec_run_done(&x);
  /* a container field under spec points at spec.containers[] */
  spec_run_parse(&x, HEAD "  image: busybox\n  containers:\n  - name: a\n    image: busybox\n");
  EXPECT(&x, DIAG_ERROR, 6, "'image' belongs in spec.containers[]");
  spec_run_done(&x);
}
END_TEST

static const char block_pod[] =
    "# a comment\n" HEAD "  containers:\n  - name: web\n    image: busybox:1.36\n"
    "    command: [sh, -c, 'echo hi']\n    env:\n    - name: A\n      value: \"1\"\n"
    "    resources:\n      limits: {cpu: 500m, memory: 64Mi}\n";
static const char flow_pod[] =
    "{\"kind\": \"Pod\", \"apiVersion\": \"v1\", # flow\n"
    " \"spec\": {\"containers\": [{\"image\": \"busybox:1.36\", \"name\": \"web\",\n"
    "   \"resources\": {\"limits\": {\"memory\": \"64Mi\", \"cpu\": \"0.5\",},},\n"
    "   \"env\": [{\"value\": '1', \"name\": A}],\n"
    "   \"command\": [\"sh\", \"-c\", \"echo hi\"],}]},\n"
    " \"metadata\": {\"name\": \"web\", \"namespace\": \"default\"}}\n";

START_TEST(flow_style_and_hash_stability) {
  char a[65], b[65], ca[65], cb[65];
  hash_of(block_pod, a, ca);
  hash_of(flow_pod, b, cb);
  ck_assert_str_eq(a, b);
  ck_assert_str_eq(ca, cb);
  /* labels do not affect what runs */
  char with_label[2048];
  const char *m = strstr(block_pod, "  name: web\n");
  snprintf(with_label, sizeof with_label, "%.*s  labels: {app: web}\n%s", (int)(m - block_pod), block_pod, m);
  hash_of(with_label, b, NULL);
  ck_assert_str_eq(a, b);
}
END_TEST

static void changed(const char *from, const char *to, int container_changes) {
  char yaml[2048], a[65], b[65], ca[65], cb[65];
  const char *at = strstr(block_pod, from);
  ck_assert_ptr_nonnull(at);
  snprintf(yaml, sizeof yaml, "%.*s%s%s", (int)(at - block_pod), block_pod, to, at + strlen(from));
  hash_of(block_pod, a, ca);
  hash_of(yaml, b, cb);
  ck_assert_msg(strcmp(a, b) != 0, "pod hash unchanged by %s -> %s", from, to);
  ck_assert_int_eq(strcmp(ca, cb) != 0, container_changes);
}

START_TEST(hash_changes) {
  changed("busybox:1.36", "busybox:1.37", 1);
  changed("'echo hi'", "'echo ho'", 1);
  changed("cpu: 500m", "cpu: 501m", 1);
  changed("memory: 64Mi", "memory: 65Mi", 1);
  changed("value: \"1\"", "value: \"2\"", 1);
  changed("  containers:", "  hostNetwork: true\n  containers:", 0);
  changed("  containers:", "  restartPolicy: Never\n  containers:", 0);
  changed("name: web\nspec", "name: web2\nspec", 0);
  /* the same value written differently: no change */
  char a[65], b[65];
  hash_of(block_pod, a, NULL);
  char yaml[2048];
  const char *at = strstr(block_pod, "cpu: 500m");
  snprintf(yaml, sizeof yaml, "%.*scpu: \"0.5\"%s", (int)(at - block_pod), block_pod, at + 9);
  hash_of(yaml, b, NULL);
  ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(anchors_merge_and_bombs) {
  spec_run x;
  spec_run_parse(
      &x,
      HEAD "  containers:\n  - &base\n    name: a\n    image: busybox\n    env: &env [{name: X, value: z}]\n"
           "  - <<: *base\n    name: b\n    env: *env\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.pods.items[0]->n_containers, 2);
  ck_assert_str_eq(x.pods.items[0]->containers[1].name, "b");
  ck_assert_str_eq(x.pods.items[0]->containers[1].image, "busybox");
  ck_assert_str_eq(x.pods.items[0]->containers[1].env.items[0].value, "z");
  spec_run_done(&x);
  /* a billion laughs is refused, not expanded */
  char bomb[4096] = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
  for (int i = 1; i < 9; i++) {
    char line[128];
    snprintf(line, sizeof line, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", 'a' + i, 'a' + i,
             'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1,
             'a' + i - 1, 'a' + i - 1, 'a' + i - 1);
    strcat(bomb, line);
  }
  spec_run_parse(&x, bomb);
  ck_assert_int_eq(x.r, -1);
  EXPECT(&x, DIAG_ERROR, 0, "alias bomb");
  spec_run_done(&x);
  spec_run_parse(&x, "a: *nope\n");
  EXPECT(&x, DIAG_ERROR, 1, "refers to no earlier complete anchor");
  spec_run_done(&x);
  /* deep nesting is bounded */
  char deep[600];
  memset(deep, '[', 500);
  deep[500] = '\0';
  spec_run_parse(&x, deep);
  ck_assert_int_eq(x.r, -1);
  spec_run_done(&x);
}
END_TEST

START_TEST(multi_document) {
  spec_run x;
  spec_run_parse(
      &x,
      "---\n" HEAD "  containers:\n  - name: a\n    image: busybox\n---\n---\n"
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: B\n    image: x\n"
      "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n");
  ck_assert_int_eq(x.r, -1);
  ck_assert_uint_eq(x.pods.n, 1); /* only the valid pod is returned */
  ck_assert_str_eq(x.pods.items[0]->name, "web");
  EXPECT(&x, DIAG_ERROR, 18, "spec.containers[0].name: invalid container name 'B'");
  EXPECT(&x, DIAG_ERROR, 22, "kind Deployment is not supported yet (podvisor runs kind: Pod)");
  spec_run_done(&x);
  spec_run_parse(&x, "---\n---\n# only a comment\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.pods.n + x.d.n, 0);
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n---\n" HEAD
                          "  containers:\n  - name: a\n    image: busybox\n");
  EXPECT(&x, DIAG_ERROR, 13, "pod default/web is defined twice");
  spec_run_done(&x);
}
END_TEST

START_TEST(type_errors) {
  spec_run x;
  spec_run_parse(&x, HEAD
                 "  containers:\n  - name: a\n    image: busybox\n    command: sleep 1\n    ports:\n"
                 "    - containerPort: \"80\"\n    env:\n    - name: A\n      value: yes\n    tty: \"true\"\n"
                 "    args: [1, null]\n  hostNetwork: 1\n  volumes: {}\n");
  EXPECT(&x, DIAG_ERROR, 9, "spec.containers[0].command: expected a list of strings, got a string");
  EXPECT(&x, DIAG_ERROR, 11, "containerPort: expected an integer, got a string; write it without quotes");
  EXPECT(&x, DIAG_ERROR, 14, "env[0].value: expected a string, got a boolean; write it in quotes");
  EXPECT(&x, DIAG_ERROR, 15, "tty: expected a boolean");
  EXPECT(&x, DIAG_ERROR, 16, "args[0]: expected a string, got an integer");
  EXPECT(&x, DIAG_ERROR, 16, "args[1]: expected a string, got null");
  EXPECT(&x, DIAG_ERROR, 17, "spec.hostNetwork: expected a boolean");
  EXPECT(&x, DIAG_ERROR, 18, "spec.volumes: expected a list");
  spec_run_done(&x);
  spec_run_parse(&x, "- a\n- b\n");
  EXPECT(&x, DIAG_ERROR, 1, "must be a mapping");
  spec_run_done(&x);
  spec_run_parse(&x, "a: [b\n");
  EXPECT(&x, DIAG_ERROR, 2, "YAML syntax error");
  spec_run_done(&x);
}
END_TEST

START_TEST(defaults) {
  spec_run x;
  spec_run_parse(
      &x,
      HEAD "  containers:\n  - name: a\n    image: busybox\n    resources:\n      limits: {cpu: 0.1, "
           "memory: 64Mi, ephemeral-storage: 1G}\n    livenessProbe:\n      tcpSocket: {port: http}\n"
           "    ports: [{containerPort: 80, name: http}]\n  - name: b\n    image: reg.io:5000/busybox:1.36\n"
           "    resources: {requests: {cpu: 250m}}\n  - name: c\n    image: busybox@sha256:abc\n");
  ck_assert_int_eq(x.r, 0);
  const spec_pod *p = x.pods.items[0];
  ck_assert_str_eq(p->ns, "default");
  ck_assert_int_eq(p->restart_policy, SPEC_RESTART_ALWAYS);
  ck_assert_int_eq(p->termination_grace_period_seconds, 30);
  ck_assert_uint_eq(p->backoff_initial_ms, 10000);
  ck_assert_uint_eq(p->backoff_max_ms, 300000);
  ck_assert_uint_eq(p->backoff_reset_ms, 600000);
  ck_assert_uint_eq(p->start_limit_count, 0);
  ck_assert_str_eq(p->effective_hostname, "web");
  const spec_container *a = &p->containers[0], *b = &p->containers[1], *c = &p->containers[2];
  ck_assert_int_eq(a->pull_policy, SPEC_PULL_ALWAYS);
  ck_assert_int_eq(b->pull_policy, SPEC_PULL_IF_NOT_PRESENT);
  ck_assert_int_eq(c->pull_policy, SPEC_PULL_IF_NOT_PRESENT);
  ck_assert_int_eq(a->resources.cpu_limit_milli, 100);
  ck_assert_int_eq(a->resources.cpu_request_milli, 100); /* requests default to limits */
  ck_assert_int_eq(a->resources.memory_limit, 64 << 20);
  ck_assert_int_eq(a->resources.memory_request, 64 << 20);
  ck_assert_int_eq(a->resources.ephemeral_limit, 1000000000);
  ck_assert_int_eq(b->resources.cpu_request_milli, 250);
  ck_assert_int_eq(b->resources.cpu_limit_milli, -1);
  ck_assert_int_eq(b->resources.memory_limit, -1);
  ck_assert_int_eq(a->ports[0].protocol, SPEC_PROTO_TCP);
  ck_assert_int_eq(a->liveness.kind, SPEC_PROBE_TCP_SOCKET);
  ck_assert_int_eq(a->liveness.period_seconds, 10);
  ck_assert_int_eq(a->liveness.timeout_seconds, 1);
  ck_assert_int_eq(a->liveness.success_threshold, 1);
  ck_assert_int_eq(a->liveness.failure_threshold, 3);
  ck_assert_int_eq(a->liveness.initial_delay_seconds, 0);
  ck_assert_int_eq(spec_probe_port(a, &a->liveness), 80);
  ck_assert_int_eq(a->readiness.kind, SPEC_PROBE_NONE);
  ck_assert_int_eq(a->security.run_as_user, -1);
  spec_run_done(&x);
}
END_TEST

START_TEST(warned_and_refused) {
  spec_run x;
  spec_run_parse(
      &x, HEAD
      "  nodeSelector: {disk: ssd}\n  tolerations: []\n  hostPID: false\n  dnsPolicy: Default\n"
      "  securityContext: {runAsUser: 1000, fsGroup: 2000, seccompProfile: {type: RuntimeDefault}}\n"
      "  containers:\n  - name: a\n    image: busybox\n    envFrom: [{configMapRef: {name: x}}]\n"
      "    terminationMessagePath: /dev/termination-log\n    ports: [{containerPort: 80, hostPort: 8080}]\n"
      "    lifecycle: {preStop: {httpGet: {port: 80}}}\n  hostIPC: true\n  volumes:\n  - name: v\n"
      "    secret: {secretName: s}\n");
  EXPECT(&x, DIAG_WARNING, 6, "spec.nodeSelector: ignored: a scheduling setting");
  ck_assert_ptr_null(spec_run_find(&x, DIAG_WARNING, 7, "tolerations")); /* empty: nothing to ignore */
  ck_assert_ptr_null(spec_run_find(&x, DIAG_ERROR, 8, "hostPID"));       /* false is the default */
  EXPECT(&x, DIAG_WARNING, 9, "spec.dnsPolicy: ignored");
  ck_assert_ptr_null(spec_run_find(&x, DIAG_ERROR, 10, "fsGroup"));          /* supported */
  ck_assert_ptr_null(spec_run_find(&x, DIAG_WARNING, 10, "seccompProfile")); /* applied */
  EXPECT(&x, DIAG_ERROR, 14, "spec.containers[0].envFrom: not supported by podvisor");
  EXPECT(&x, DIAG_WARNING, 15, "terminationMessagePath: ignored");
  EXPECT(&x, DIAG_ERROR, 16, "ports[0].hostPort: not supported by podvisor");
  EXPECT(&x, DIAG_ERROR, 17, "lifecycle.preStop.httpGet: not supported by podvisor");
  ck_assert_ptr_null(spec_run_find(&x, DIAG_ERROR, 18, "hostIPC")); /* supported */
  EXPECT(&x, DIAG_ERROR, 21, "spec.volumes[0].secret: not supported by podvisor");
  ck_assert_uint_eq(x.pods.n, 0);
  spec_run_done(&x);
}
END_TEST

START_TEST(https_probe_refused) {
  spec_run x;
  spec_run_parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n"
                          "    livenessProbe: {httpGet: {port: 80, scheme: HTTPS}}\n"
                          "    readinessProbe:\n      httpGet:\n        port: 80\n        scheme: HTTP\n"
                          "        httpHeaders: [{name: X-Probe, value: ready}]\n");
  EXPECT(&x, DIAG_ERROR, 9, "livenessProbe.httpGet.scheme: scheme HTTPS is not supported");
  ck_assert_ptr_null(spec_run_find(&x, DIAG_ERROR, 0, "readinessProbe"));
  ck_assert_uint_eq(x.pods.n, 0);
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n"
                          "    readinessProbe:\n      httpGet:\n        port: 80\n"
                          "        httpHeaders: [{name: X-Probe, value: ready}]\n");
  ck_assert_int_eq(x.r, 0);
  const spec_kvs *h = &x.pods.items[0]->containers[0].readiness.http_headers;
  ck_assert_uint_eq(h->n, 1);
  ck_assert_str_eq(h->items[0].key, "X-Probe");
  ck_assert_str_eq(h->items[0].value, "ready");
  spec_run_done(&x);
}
END_TEST

START_TEST(validation_rules) {
  spec_run x;
  spec_run_parse(
      &x, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Web_1\n  labels: {\"a b\": x}\nspec:\n"
          "  initContainers:\n  - name: a\n    image: busybox\n    livenessProbe: {exec: {command: [true]}}\n"
          "  containers:\n  - name: a\n    image: ' busybox'\n    resources:\n      requests: {cpu: '2', "
          "memory: 1KB}\n"
          "      limits: {cpu: '1', memory: -1Gi, nvidia.com/gpu: 1}\n"
          "    volumeMounts: [{name: dta, mountPath: data}]\n"
          "    readinessProbe: {exec: {command: [x]}, httpGet: {port: 7000}}\n"
          "    livenessProbe: {tcpSocket: {port: 70000}, successThreshold: 2}\n"
          "    ports: [{containerPort: 0, name: Http}]\n  volumes:\n  - name: data\n    emptyDir: {}\n"
          "  - name: data\n    hostPath: {path: /a/../b, type: Dir}\n");
  EXPECT(&x, DIAG_ERROR, 4, "metadata.name: invalid pod name 'Web_1'");
  EXPECT(&x, DIAG_ERROR, 5, "invalid label key 'a b'");
  EXPECT(&x, DIAG_ERROR, 10, "may not be set for an init container unless its restartPolicy is Always");
  EXPECT(&x, DIAG_ERROR, 12, "duplicate container name 'a' (also used at line 8)");
  EXPECT(&x, DIAG_ERROR, 13, "image: must not have leading or trailing whitespace");
  EXPECT(&x, DIAG_ERROR, 15, "requests.memory: invalid quantity '1KB'");
  EXPECT(&x, DIAG_ERROR, 15, "requests.cpu: request 2 must be less than or equal to the limit 1");
  EXPECT(&x, DIAG_ERROR, 16, "limits.memory: must not be negative");
  EXPECT(&x, DIAG_ERROR, 16, "limits.nvidia.com/gpu: not supported by podvisor: extended resources");
  EXPECT(&x, DIAG_ERROR, 17,
         "volumeMounts[0].name: volume 'dta' is not declared in spec.volumes; did you mean 'data'?");
  EXPECT(&x, DIAG_ERROR, 17, "mountPath: must be an absolute path");
  EXPECT(&x, DIAG_ERROR, 18, "readinessProbe: a probe may not specify more than one handler");
  EXPECT(&x, DIAG_ERROR, 19, "tcpSocket.port: port must be between 1 and 65535");
  EXPECT(&x, DIAG_ERROR, 19, "livenessProbe.successThreshold: must be 1 for a livenessProbe");
  EXPECT(&x, DIAG_ERROR, 20, "containerPort: must be between 1 and 65535");
  EXPECT(&x, DIAG_ERROR, 20, "ports[0].name: invalid port name 'Http'");
  EXPECT(&x, DIAG_ERROR, 24, "spec.volumes[1].name: duplicate volume name 'data'");
  EXPECT(&x, DIAG_ERROR, 25, "hostPath.path: must not contain '..'");
  EXPECT(&x, DIAG_ERROR, 25, "hostPath.type: unsupported value 'Dir'");
  spec_run_done(&x);
}
END_TEST

START_TEST(podvisor_annotations) {
  spec_run x;
  spec_run_parse(&x,
                 "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
                 "    podvisor.io/backoff-initial: 200ms\n    podvisor.io/backoff-max: 1m30s\n"
                 "    podvisor.io/backoff-reset: 5m\n    podvisor.io/start-limit: 5/60s\n    other.io/x: z\n"
                 "spec:\n  containers: [{name: a, image: busybox}]\n");
  ck_assert_int_eq(x.r, 0);
  const spec_pod *p = x.pods.items[0];
  ck_assert_uint_eq(p->backoff_initial_ms, 200);
  ck_assert_uint_eq(p->backoff_max_ms, 90000);
  ck_assert_uint_eq(p->backoff_reset_ms, 300000);
  ck_assert_uint_eq(p->start_limit_count, 5);
  ck_assert_uint_eq(p->start_limit_window_ms, 60000);
  ck_assert_uint_eq(p->annotations.n, 5);
  spec_run_done(&x);
  spec_run_parse(&x, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
                     "    podvisor.io/backoff-initial: 10x\n    podvisor.io/backof-max: 1s\n    "
                     "podvisor.io/start-limit: \"5\"\n"
                     "spec:\n  containers: [{name: a, image: busybox}]\n");
  EXPECT(&x, DIAG_ERROR, 6, "podvisor.io/backoff-initial: invalid duration '10x'");
  EXPECT(&x, DIAG_ERROR, 7,
         "unknown podvisor annotation 'podvisor.io/backof-max'; did you mean 'podvisor.io/backoff-max'?");
  EXPECT(&x, DIAG_ERROR, 8, "invalid start limit '5'");
  spec_run_done(&x);
  spec_run_parse(&x, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
                     "    podvisor.io/backoff-initial: 1m\n    podvisor.io/backoff-max: 10s\n"
                     "spec:\n  containers: [{name: a, image: busybox}]\n");
  EXPECT(&x, DIAG_ERROR, 7, "is smaller than podvisor.io/backoff-initial");
  spec_run_done(&x);
  /* Zero initial backoff means "restart at once"; a zero maximum or reset is refused. */
  spec_run_parse(&x, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
                     "    podvisor.io/backoff-initial: \"0\"\n"
                     "spec:\n  containers: [{name: a, image: busybox}]\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.pods.items[0]->backoff_initial_ms, 0);
  spec_run_done(&x);
  spec_run_parse(&x, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
                     "    podvisor.io/backoff-initial: \"0\"\n    podvisor.io/backoff-max: \"0\"\n"
                     "    podvisor.io/backoff-reset: 0s\n"
                     "spec:\n  containers: [{name: a, image: busybox}]\n");
  EXPECT(&x, DIAG_ERROR, 7, "podvisor.io/backoff-max: must be greater than 0");
  EXPECT(&x, DIAG_ERROR, 8, "podvisor.io/backoff-reset: must be greater than 0");
  spec_run_done(&x);
}
END_TEST

START_TEST(host_users_tri_state) {
  spec_run x;
  static const char *const ins[] = {"", "  hostUsers: true\n", "  hostUsers: false\n"};
  static const int want[] = {-1, 1, 0};
  for (int i = 0; i < 3; i++) {
    char y[512];
    snprintf(y, sizeof y, HEAD "%s  containers: [{name: a, image: busybox}]\n", ins[i]);
    spec_run_parse(&x, y);
    ck_assert_int_eq(x.r, 0);
    ck_assert_int_eq(x.pods.items[0]->host_users, want[i]);
    spec_run_done(&x);
  }
  spec_run_parse(&x,
                 HEAD "  hostNetwork: true\n  hostUsers: false\n  containers: [{name: a, image: busybox}]\n");
  EXPECT(&x, DIAG_ERROR, 7, "hostUsers: false cannot be combined with hostNetwork: true");
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  hostPID: true\n  hostUsers: false\n  containers: [{name: a, image: busybox}]\n");
  EXPECT(&x, DIAG_ERROR, 7, "hostUsers: false cannot be combined with hostPID: true");
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  hostIPC: true\n  hostUsers: false\n  containers: [{name: a, image: busybox}]\n");
  EXPECT(&x, DIAG_ERROR, 7, "hostUsers: false cannot be combined with hostIPC: true");
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  hostUsers: 0\n  containers: [{name: a, image: busybox}]\n");
  EXPECT(&x, DIAG_ERROR, 6, "expected a boolean");
  spec_run_done(&x);
}
END_TEST

START_TEST(security_and_sidecars) {
  spec_run x;
  spec_run_parse(&x,
                 HEAD "  securityContext: {runAsUser: 1000, runAsNonRoot: true}\n  hostNetwork: true\n"
                      "  initContainers:\n  - name: side\n    image: busybox\n    restartPolicy: Always\n"
                      "    readinessProbe: {httpGet: {port: 8080, path: /ready}}\n"
                      "  - name: once\n    image: busybox\n  containers:\n  - name: a\n    image: busybox\n"
                      "    ports: [{containerPort: 8080}]\n"
                      "    securityContext:\n      runAsUser: 2000\n      capabilities: {drop: [all], add: "
                      "[net_admin, CAP_SYS_TIME]}\n");
  ck_assert_int_eq(x.r, 0);
  const spec_pod *p = x.pods.items[0];
  ck_assert(p->init_containers[0].sidecar);
  ck_assert(!p->init_containers[1].sidecar);
  ck_assert_int_eq(p->init_containers[0].security.run_as_user, 1000); /* from the pod */
  ck_assert_str_eq(p->init_containers[0].readiness.path, "/ready");
  const spec_container *a = &p->containers[0];
  ck_assert_int_eq(a->security.run_as_user, 2000);
  ck_assert_int_eq(a->security.run_as_non_root, 1);
  ck_assert_str_eq(a->security.cap_drop.argv[0], "ALL");
  ck_assert_str_eq(a->security.cap_add.argv[0], "NET_ADMIN");
  ck_assert_str_eq(a->security.cap_add.argv[1], "SYS_TIME");
  ck_assert_int_eq(a->ports[0].host_port, 8080); /* hostNetwork defaults hostPort */
  ck_assert_ptr_null(p->effective_hostname);
  spec_run_done(&x);
  spec_run_parse(&x, HEAD
                 "  containers:\n  - name: a\n    image: busybox\n    restartPolicy: Always\n"
                 "    securityContext: {runAsUser: 0, runAsNonRoot: true, capabilities: {add: [SYS_ADMN]}}\n"
                 "  initContainers:\n  - name: i\n    image: busybox\n    restartPolicy: OnFailure\n");
  EXPECT(&x, DIAG_ERROR, 9, "may not be set for app containers");
  EXPECT(&x, DIAG_ERROR, 10, "unknown capability 'SYS_ADMN'; did you mean 'SYS_ADMIN'?");
  EXPECT(&x, DIAG_ERROR, 10, "runAsNonRoot is true but runAsUser is 0");
  EXPECT(&x, DIAG_ERROR, 14, "an init container's restartPolicy may only be Always");
  spec_run_done(&x);
}
END_TEST

/* The verdict of one parse agrees with its diagnostics and pods, as the
 * contract in spec.h says: -1/EINVAL exactly when an error was reported;
 * every diagnostic stored, each with a position inside the input and a
 * message; kept pods (SPEC_KEEP_INVALID) carry their own error counts. */
static void check_verdict(const char *buf, size_t len, int r, int err, const spec_pod_list *pods,
                          const diag_list *d) {
  ck_assert_msg(r == 0 || r == -1, "returned %d", r);
  ck_assert_msg((r == 0) == (d->errors == 0), "returned %d with %zu errors", r, d->errors);
  if (r < 0)
    ck_assert_int_eq(err, EINVAL);
  ck_assert(!d->truncated);
  ck_assert_uint_eq(d->n, d->errors + d->warnings);
  int lines = 1;
  for (size_t i = 0; i < len; i++)
    lines += buf[i] == '\n';
  size_t errors = 0;
  for (size_t i = 0; i < d->n; i++) {
    const diag *g = &d->items[i];
    ck_assert(g->severity == DIAG_ERROR || g->severity == DIAG_WARNING);
    errors += g->severity == DIAG_ERROR;
    ck_assert_str_eq(g->file, "fuzz");
    /* libyaml puts an error at the end of input on the line after the last. */
    ck_assert_msg(g->line >= 0 && g->line <= lines + 1, "line %d of a %d-line input", g->line, lines);
    ck_assert(g->col >= 0);
    ck_assert_ptr_nonnull(g->path);
    ck_assert_msg(g->message != NULL && g->message[0] != '\0', "a diagnostic without a message");
  }
  ck_assert_uint_eq(errors, d->errors);
  size_t pod_errors = 0;
  for (size_t i = 0; i < pods->n; i++) {
    const spec_pod *p = pods->items[i];
    ck_assert_str_eq(p->source_file, "fuzz");
    pod_errors += p->error_count;
    if (p->error_count == 0) {
      ck_assert_ptr_nonnull(p->name);
      ck_assert_uint_eq(strlen(p->hash), SPEC_HASH_HEX_LEN);
    }
  }
  ck_assert_uint_le(pod_errors, d->errors);
}

/* Mutated manifests must never crash or leak (run under ASan in CI), and
 * every verdict must still hold together. */
START_TEST(garbage_never_crashes) {
  static const char seed[] =
      HEAD "  containers:\n  - name: a\n    image: busybox\n    command: [\"sh\", '-c', x]\n"
           "    env: &e [{name: A, value: b}]\n  - {<<: *e, name: b, image: c}\n";
  spec_pod_list pods = {0};
  diag_list d;
  diag_list_init(&d);
  /* The seed itself: the merged env entry brings a 'value' key into the
   * second container, the one error; the pod is kept with it. */
  int r = spec_parse_buffer("fuzz", seed, sizeof seed - 1, SPEC_KEEP_INVALID, &pods, &d);
  check_verdict(seed, sizeof seed - 1, r, errno, &pods, &d);
  ck_assert_int_eq(r, -1);
  ck_assert_uint_eq(d.errors, 1);
  ck_assert_ptr_nonnull(spec_run_find(&(spec_run){.d = d}, DIAG_ERROR, 10, "unknown field 'value'"));
  ck_assert_uint_eq(pods.n, 1);
  ck_assert_uint_eq(pods.items[0]->error_count, 1);
  ck_assert_uint_eq(pods.items[0]->n_containers, 2);
  spec_pod_list_free(&pods);
  diag_list_free(&d);

  unsigned state = 12345;
  char buf[sizeof seed];
  size_t kept = 0, dropped = 0;
  for (int iter = 0; iter < 3000; iter++) {
    memcpy(buf, seed, sizeof seed);
    for (int m = 0; m < 1 + iter % 6; m++) {
      state = state * 1103515245u + 12345u;
      size_t pos = (state >> 8) % (sizeof seed - 1);
      static const char alphabet[] = "{}[]:,-&*!|>'\"#\n \t<ab0~%@`?";
      buf[pos] = alphabet[(state >> 20) % (sizeof alphabet - 1)];
    }
    memset(&pods, 0, sizeof pods);
    diag_list_init(&d);
    size_t len = (state >> 4) % sizeof seed;
    errno = 0;
    r = spec_parse_buffer("fuzz", buf, len, SPEC_KEEP_INVALID, &pods, &d);
    check_verdict(buf, len, r, errno, &pods, &d);
    if (pods.n > 0)
      kept++;
    else
      dropped++;
    spec_pod_list_free(&pods);
    diag_list_free(&d);
  }
  /* The mutations reach the decoder (a pod is kept) and the YAML layer
   * (no pod at all) alike. */
  ck_assert_msg(kept > 0 && dropped > 0, "%zu kept, %zu without a pod", kept, dropped);
  spec_pod_list_free(NULL);
  spec_pod_free(NULL);
  diag_list_free(NULL);
  ck_assert_int_eq(spec_parse_buffer(NULL, NULL, 0, 0, NULL, NULL), 0);
}
END_TEST

START_TEST(diag_format_text) {
  diag_list d;
  diag_list_init(&d);
  diag_add(&d, DIAG_ERROR, "a.yaml", 3, 7, "spec.containers[0].name", "bad %s", "name");
  diag_add(&d, DIAG_WARNING, "a.yaml", 0, 0, "", "whole file");
  diag_add(&d, DIAG_ERROR, "a.yaml", 1, 2, "kind", "x");
  char buf[256];
  diag_format(&d.items[0], buf, sizeof buf);
  ck_assert_str_eq(buf, "a.yaml:3:7: error: spec.containers[0].name: bad name");
  diag_format(&d.items[1], buf, sizeof buf);
  ck_assert_str_eq(buf, "a.yaml: warning: whole file");
  diag_list_sort(&d);
  ck_assert_int_eq(d.items[0].line, 0);
  ck_assert_int_eq(d.items[1].line, 1);
  ck_assert_uint_eq(d.errors, 2);
  ck_assert_uint_eq(d.warnings, 1);
  diag_list_free(&d);
}
END_TEST

/* metadata.uid names directories and a cgroup: only Kubernetes' uid shape
 * passes, and spec_pod_uid() is the one derivation every user shares. */
START_TEST(uid_shape) {
  static const char *const bad[] = {
      "../../victim", "a/b", ".hidden", "..",
      "UPPER",        "-x",  "x-",      "0123456789012345678901234567890123456789012345678901234567890123"};
  char yaml[512];
  spec_run x;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    snprintf(yaml, sizeof yaml,
             "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  uid: \"%s\"\nspec:\n"
             "  containers:\n  - name: c\n    image: busybox\n",
             bad[i]);
    spec_run_parse(&x, yaml);
    ck_assert_msg(x.r < 0, "uid '%s' accepted", bad[i]);
    EXPECT(&x, DIAG_ERROR, 5, "metadata.uid: invalid uid");
    spec_run_done(&x);
  }
  spec_run_parse(
      &x, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  uid: 6f1c2a9e-3b4d-4e5f-8a7b-0c1d2e3f4a5b\n"
          "spec:\n  containers:\n  - name: c\n    image: busybox\n");
  ck_assert_int_eq(x.r, 0);
  char uid[SPEC_POD_UID_LEN + 1];
  spec_pod_uid(x.pods.items[0], NULL, uid);
  ck_assert_str_eq(uid, "6f1c2a9e-3b4d-4e");
  ck_assert(spec_uid_is_safe(uid));
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  containers:\n  - name: c\n    image: busybox\n");
  ck_assert_int_eq(x.r, 0);
  spec_pod_uid(x.pods.items[0], NULL, uid);
  ck_assert_str_eq(uid, "82b3ade9d00cd164"); /* sha256("default/web") */
  char scoped[SPEC_POD_UID_LEN + 1];
  spec_pod_uid(x.pods.items[0], "/var/lib/podvisor", scoped);
  ck_assert_str_ne(uid, scoped);
  spec_run_done(&x);
  ck_assert(!spec_uid_is_safe("../x"));
  ck_assert(!spec_uid_is_safe("a/b"));
  ck_assert(!spec_uid_is_safe(""));
}
END_TEST

/* spec_pod_key() names a pod's run directory: sha256("<namespace>/<name>"),
 * the same whatever metadata.uid a pod instance carries. */
static void key_of(const char *meta, char out[SPEC_POD_UID_LEN + 1]) {
  char yaml[512];
  snprintf(yaml, sizeof yaml,
           "apiVersion: v1\nkind: Pod\nmetadata:\n%sspec:\n  containers:\n  - name: c\n"
           "    image: busybox\n",
           meta);
  spec_run x;
  spec_run_parse(&x, yaml);
  ck_assert_int_eq(x.r, 0);
  spec_pod_key(x.pods.items[0], out);
  spec_run_done(&x);
}

START_TEST(pod_key) {
  char a[SPEC_POD_UID_LEN + 1], b[SPEC_POD_UID_LEN + 1];
  key_of("  name: web\n", a);
  ck_assert_str_eq(a, "82b3ade9d00cd164"); /* printf default/web | sha256sum */
  ck_assert(spec_uid_is_safe(a));
  key_of("  name: web\n  namespace: default\n  uid: 6f1c2a9e-3b4d-4e5f-8a7b-0c1d2e3f4a5b\n", b);
  ck_assert_str_eq(a, b); /* the uid is not part of the key */
  key_of("  name: web\n  uid: 11111111-2222-3333-4444-555555555555\n  labels: {app: x}\n", b);
  ck_assert_str_eq(a, b);
  key_of("  name: web\n  namespace: shop\n", b);
  ck_assert_str_eq(b, "97375646b1deb3d2"); /* printf shop/web | sha256sum */
  key_of("  name: web2\n", b);
  ck_assert_str_ne(a, b);
}
END_TEST

/* volumeMounts[].recursiveReadOnly, with Kubernetes' validation: Enabled
 * and IfPossible only on a readOnly mount without propagation. */
START_TEST(recursive_read_only) {
  spec_run x;
  spec_run_parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n    volumeMounts:\n"
                          "    - {name: v, mountPath: /a, readOnly: true, recursiveReadOnly: Enabled}\n"
                          "    - {name: v, mountPath: /b, readOnly: true, recursiveReadOnly: IfPossible, "
                          "mountPropagation: None}\n"
                          "    - {name: v, mountPath: /c, recursiveReadOnly: Disabled}\n"
                          "    - {name: v, mountPath: /d, readOnly: true}\n"
                          "  volumes: [{name: v, emptyDir: {}}]\n");
  ck_assert_int_eq(x.r, 0);
  const spec_container *c = &x.pods.items[0]->containers[0];
  ck_assert_uint_eq(c->n_mounts, 4);
  ck_assert_int_eq(c->mounts[0].recursive_read_only, SPEC_RRO_ENABLED);
  ck_assert_int_eq(c->mounts[1].recursive_read_only, SPEC_RRO_IF_POSSIBLE);
  ck_assert_int_eq(c->mounts[2].recursive_read_only, SPEC_RRO_DISABLED);
  ck_assert_int_eq(c->mounts[3].recursive_read_only, SPEC_RRO_DISABLED);
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n    volumeMounts:\n"
                          "    - {name: v, mountPath: /a, recursiveReadOnly: Enabled}\n"
                          "    - {name: v, mountPath: /b, readOnly: false, recursiveReadOnly: IfPossible}\n"
                          "    - {name: v, mountPath: /c, readOnly: true, recursiveReadOnly: enabled}\n"
                          "    - {name: v, mountPath: /d, readOnly: true, recursiveReadOnly: Enabled,\n"
                          "       mountPropagation: HostToContainer}\n"
                          "  volumes: [{name: v, emptyDir: {}}]\n");
  EXPECT(&x, DIAG_ERROR, 10,
         "spec.containers[0].volumeMounts[0].recursiveReadOnly: may only be specified when readOnly is true");
  EXPECT(&x, DIAG_ERROR, 11,
         "volumeMounts[1].recursiveReadOnly: may only be specified when readOnly is true");
  EXPECT(&x, DIAG_ERROR, 12, "volumeMounts[2].recursiveReadOnly: unsupported value 'enabled'");
  EXPECT(&x, DIAG_ERROR, 13,
         "volumeMounts[3].recursiveReadOnly: may only be specified when mountPropagation is None or not "
         "specified");
  ck_assert_ptr_null(spec_run_find(&x, DIAG_ERROR, 0, "recursive read-only mounts are not implemented"));
  ck_assert_uint_eq(x.pods.n, 0);
  spec_run_done(&x);
}
END_TEST

/* recursiveReadOnly changes the container's hash; Disabled, the default,
 * leaves it as it was without the field. */
START_TEST(recursive_read_only_hash) {
  static const char pod[] = HEAD "  containers:\n  - name: a\n    image: busybox\n    volumeMounts:\n"
                                 "    - {name: v, mountPath: /a, readOnly: true%s}\n"
                                 "  volumes: [{name: v, emptyDir: {}}]\n";
  static const char *const rro[] = {"", ", recursiveReadOnly: Disabled", ", recursiveReadOnly: IfPossible",
                                    ", recursiveReadOnly: Enabled"};
  char yaml[1024], pods[4][65], ctrs[4][65];
  for (size_t i = 0; i < 4; i++) {
    snprintf(yaml, sizeof yaml, pod, rro[i]);
    hash_of(yaml, pods[i], ctrs[i]);
  }
  ck_assert_str_eq(ctrs[0], ctrs[1]);
  ck_assert_str_ne(ctrs[0], ctrs[2]);
  ck_assert_str_ne(ctrs[0], ctrs[3]);
  ck_assert_str_ne(ctrs[2], ctrs[3]);
}
END_TEST

/* A pod of n_init init containers and n app containers, each container
 * three lines long (the first app container at line 7 + 3 * n_init, plus
 * one line for the initContainers key). */
static char *many_containers(size_t n_init, size_t n) {
  size_t cap = 64 + (n_init + n) * 64, len = 0;
  char *y = malloc(cap);
  ck_assert_ptr_nonnull(y);
  len += (size_t)snprintf(y + len, cap - len, HEAD);
  if (n_init > 0)
    len += (size_t)snprintf(y + len, cap - len, "  initContainers:\n");
  for (size_t i = 0; i < n_init; i++)
    len +=
        (size_t)snprintf(y + len, cap - len, "  - name: i%zu\n    image: busybox\n    command: [sleep]\n", i);
  len += (size_t)snprintf(y + len, cap - len, "  containers:\n");
  for (size_t i = 0; i < n; i++)
    len +=
        (size_t)snprintf(y + len, cap - len, "  - name: c%zu\n    image: busybox\n    command: [sleep]\n", i);
  return y;
}

/* SPEC_MAX_CONTAINERS, init and app containers together: at the limit the
 * pod is valid; one more is an error pointing at that container. */
START_TEST(container_limit) {
  spec_run x;
  char *y = many_containers(0, SPEC_MAX_CONTAINERS);
  spec_run_parse(&x, y);
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.pods.items[0]->n_containers, SPEC_MAX_CONTAINERS);
  spec_run_done(&x);
  free(y);
  y = many_containers(0, SPEC_MAX_CONTAINERS + 1);
  spec_run_parse(&x, y);
  ck_assert_int_eq(x.r, -1);
  /* containers[1024] starts at line 7 + 3 * 1024 = 3079 */
  const diag *d = spec_run_find(&x, DIAG_ERROR, 7 + 3 * SPEC_MAX_CONTAINERS,
                                "spec.containers[1024]: too many containers");
  ck_assert_ptr_nonnull(d);
  ck_assert_ptr_nonnull(strstr(d->message, "at most 1024"));
  ck_assert_ptr_nonnull(strstr(d->message, "has 1025"));
  ck_assert_int_eq(d->col, 5);
  spec_run_done(&x);
  free(y);
  y = many_containers(2, SPEC_MAX_CONTAINERS - 1); /* 1025 together */
  spec_run_parse(&x, y);
  ck_assert_int_eq(x.r, -1);
  EXPECT(&x, DIAG_ERROR, 0, "spec.containers[1022]: too many containers");
  spec_run_done(&x);
  free(y);
  y = many_containers(2, SPEC_MAX_CONTAINERS - 2);
  spec_run_parse(&x, y);
  ck_assert_int_eq(x.r, 0);
  spec_run_done(&x);
  free(y);
}
END_TEST

int main(void) {
  Suite *s = suite_create("spec_parse");
  TCase *tc = tcase_create("parse");
  tcase_add_test(tc, duplicate_keys);
  tcase_add_test(tc, did_you_mean);
  tcase_add_test(tc, misplaced_restart_policy);
  tcase_add_test(tc, flow_style_and_hash_stability);
  tcase_add_test(tc, hash_changes);
  tcase_add_test(tc, anchors_merge_and_bombs);
  tcase_add_test(tc, multi_document);
  tcase_add_test(tc, type_errors);
  tcase_add_test(tc, defaults);
  tcase_add_test(tc, warned_and_refused);
  tcase_add_test(tc, https_probe_refused);
  tcase_add_test(tc, validation_rules);
  tcase_add_test(tc, podvisor_annotations);
  tcase_add_test(tc, security_and_sidecars);
  tcase_add_test(tc, garbage_never_crashes);
  tcase_add_test(tc, diag_format_text);
  tcase_add_test(tc, uid_shape);
  tcase_add_test(tc, pod_key);
  tcase_add_test(tc, recursive_read_only);
  tcase_add_test(tc, recursive_read_only_hash);
  tcase_add_test(tc, host_users_tri_state);
  tcase_add_test(tc, container_limit);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
