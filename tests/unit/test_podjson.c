/* Unit tests for supervisor/proto/podjson: a validated pod written as a
 * Kubernetes Pod document reads back (with spec_parse_buffer, as the shim
 * reads its snapshot) as the same pod: no diagnostic, the same pod, sandbox
 * and container hashes, and the same document again (tests/roundtrip.h).
 * Checked for every pod of the corpus and of examples/ and for manifests
 * that use every field; test_podjson_strings.c does the strings. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "supervisor/proto/podjson.h"
#include "tests/roundtrip.h"
#include "tests/testutil.h"

/* Every pod spec/ accepts from every manifest file of dir; returns how many. */
static size_t roundtrip_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  size_t pods = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (e->d_name[0] == '.' || n < 5 ||
        (strcmp(e->d_name + n - 5, ".yaml") != 0 && strcmp(e->d_name + n - 5, ".json") != 0))
      continue;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    spec_pod_list l = {0};
    diag_list diags;
    diag_list_init(&diags);
    spec_parse_file(path, 0, &l, &diags);
    for (size_t i = 0; i < l.n; i++) {
      char label[8400];
      snprintf(label, sizeof label, "%s, pod %s", e->d_name, l.items[i]->name);
      roundtrip_assert(l.items[i], label);
      pods++;
    }
    spec_pod_list_free(&l);
    diag_list_free(&diags);
  }
  closedir(d);
  return pods;
}

START_TEST(roundtrip_corpus) {
  char dir[4200];
  struct stat st;
  snprintf(dir, sizeof dir, "%s/../shared/corpus", testutil_source_dir());
  if (stat(dir, &st) != 0) {
    fprintf(stderr, "SKIPPING roundtrip_corpus: %s is missing (clone shared/ beside the repository)\n", dir);
    return;
  }
  snprintf(dir, sizeof dir, "%s/../shared/corpus/k8s", testutil_source_dir());
  size_t k8s = roundtrip_dir(dir);
  snprintf(dir, sizeof dir, "%s/../shared/corpus/bad", testutil_source_dir());
  size_t bad = roundtrip_dir(dir);
  /* test_spec_corpus.c's table: 32 valid pods in k8s/, 1 in bad/ */
  ck_assert_uint_eq(k8s, 32);
  ck_assert_uint_eq(bad, 1);
}
END_TEST

START_TEST(roundtrip_examples) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/examples", testutil_source_dir());
  ck_assert_uint_ge(roundtrip_dir(dir), 6);
}
END_TEST

/* --- every field ------------------------------------------------------------ */

#define HEAD "apiVersion: v1\nkind: Pod\n"

/* Every field spec/ models, none at its default. */
static const char every_field[] = HEAD
    "metadata:\n"
    "  name: shop\n"
    "  namespace: prod\n"
    "  uid: 6f1c2a9e-3b4d-4e5f-8a7b-0c1d2e3f4a5b\n"
    "  labels: {app: shop, tier: \"\", example.com/team: a.b_c-d}\n"
    "  annotations:\n"
    "    note: \"hello\"\n"
    "    empty: \"\"\n"
    "    nothing: null\n"
    "    podvisor.io/backoff-initial: \"250ms\"\n"
    "    podvisor.io/backoff-max: \"1m30s\"\n"
    "    podvisor.io/backoff-reset: \"2h\"\n"
    "    podvisor.io/start-limit: \"5/60s\"\n"
    "spec:\n"
    "  restartPolicy: OnFailure\n"
    "  terminationGracePeriodSeconds: 7\n"
    "  shareProcessNamespace: true\n"
    "  hostname: shophost\n"
    "  subdomain: shopsub\n"
    "  securityContext: {runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true}\n"
    "  volumes:\n"
    "  - {name: data, emptyDir: {}}\n"
    "  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1536Mi}}\n"
    "  - {name: disk, emptyDir: {sizeLimit: 1G}}\n"
    "  - {name: host, hostPath: {path: /srv/shop}}\n"
    "  - {name: sock, hostPath: {path: /run/x.sock, type: Socket}}\n"
    "  initContainers:\n"
    "  - name: side\n"
    "    image: busybox:1.36\n"
    "    restartPolicy: Always\n"
    "    command: [sh, -c, 'sleep 1d']\n"
    "    readinessProbe: {exec: {command: [\"true\"]}, successThreshold: 2, periodSeconds: 4}\n"
    "    lifecycle: {preStop: {exec: {command: [sh, -c, 'kill 1']}}}\n"
    "  - name: setup\n"
    "    image: registry.example:5000/tools/setup@sha256:0123456789abcdef0123456789abcdef0123456789abcdef01"
    "23456789abcdef\n"
    "    args: [--once]\n"
    "    volumeMounts: [{name: data, mountPath: /data}]\n"
    "  containers:\n"
    "  - name: web\n"
    "    image: registry.example/web:1.0\n"
    "    imagePullPolicy: Never\n"
    "    command: [httpd, -f]\n"
    "    args: [-p, \"8080\", \"\"]\n"
    "    workingDir: /www\n"
    "    env:\n"
    "    - {name: MODE, value: prod}\n"
    "    - {name: EMPTY}\n"
    "    - {name: REF, value: \"$(MODE)-x\"}\n"
    "    ports:\n"
    "    - {name: http, containerPort: 8080}\n"
    "    - {name: dns, containerPort: 53, protocol: UDP}\n"
    "    - {containerPort: 9000, protocol: SCTP}\n"
    "    resources:\n"
    "      requests: {cpu: 250m, memory: 32Mi, ephemeral-storage: 1Gi}\n"
    "      limits: {cpu: \"1.5\", memory: 1e9, ephemeral-storage: 2G}\n"
    "    volumeMounts:\n"
    "    - {name: data, mountPath: /data, subPath: web, readOnly: true}\n"
    "    - {name: host, mountPath: /srv, readOnly: false}\n"
    "    - {name: host, mountPath: /srv-rro, readOnly: true, recursiveReadOnly: Enabled}\n"
    "    - {name: host, mountPath: /srv-rrop, readOnly: true, recursiveReadOnly: IfPossible}\n"
    "    - {name: host, mountPath: /srv-ro, readOnly: true, recursiveReadOnly: Disabled}\n"
    "    - {name: mem, mountPath: /mem, subPath: \"\"}\n"
    "    livenessProbe:\n"
    "      httpGet:\n"
    "        path: /healthz\n"
    "        port: http\n"
    "        host: 127.0.0.1\n"
    "        scheme: HTTP\n"
    "        httpHeaders: [{name: X-Probe, value: live}, {name: Accept, value: \"\"}]\n"
    "      initialDelaySeconds: 1\n"
    "      timeoutSeconds: 2\n"
    "      periodSeconds: 3\n"
    "      failureThreshold: 4\n"
    "      terminationGracePeriodSeconds: 5\n"
    "    readinessProbe: {tcpSocket: {port: 8080, host: localhost}, successThreshold: 3}\n"
    "    startupProbe: {httpGet: {port: 8080}, failureThreshold: 30}\n"
    "    lifecycle:\n"
    "      postStart: {exec: {command: [sh, -c, 'echo up']}}\n"
    "      preStop: {exec: {command: [sh, -c, 'echo down']}}\n"
    "    securityContext:\n"
    "      runAsUser: 1001\n"
    "      readOnlyRootFilesystem: true\n"
    "      allowPrivilegeEscalation: false\n"
    "      capabilities: {add: [net_bind_service, CAP_NET_RAW], drop: [ALL]}\n"
    "    stdin: true\n"
    "    tty: true\n"
    "  - name: worker\n"
    "    image: busybox\n"
    "    livenessProbe: {tcpSocket: {port: dns}}\n"
    "    ports: [{name: dns, containerPort: 5353}]\n"
    "    securityContext: {privileged: true, runAsNonRoot: false, allowPrivilegeEscalation: true}\n"
    "    resources: {limits: {memory: \"0\"}, requests: {cpu: \"0.0001\"}}\n";

/* The security fields every_field cannot hold (hostPID excludes
 * shareProcessNamespace), none at its default; each one lost is noticed. */
static const char security_fields[] = HEAD
    "metadata: {name: sec}\n"
    "spec:\n"
    "  hostPID: true\n"
    "  hostIPC: true\n"
    "  securityContext:\n"
    "    fsGroup: 2000\n"
    "    fsGroupChangePolicy: OnRootMismatch\n"
    "    supplementalGroups: [3000, 0]\n"
    "    supplementalGroupsPolicy: Strict\n"
    "    sysctls: [{name: net.ipv4.tcp_syncookies, value: \"0\"}, {name: net/ipv4/conf/all/rp_filter, value: \"2\"}]\n"
    "  containers: [{name: a, image: busybox}]\n";

START_TEST(roundtrip_security_fields) {
  roundtrip_yaml(security_fields, "security_fields");
  spec_pod *p = roundtrip_one_pod(security_fields);
  static const char *const drop[][2] = {{"spec", "hostPID"}, {"spec", "hostIPC"},
                                        {"securityContext", "fsGroupChangePolicy"},
                                        {"securityContext", "supplementalGroups"},
                                        {"securityContext", "supplementalGroupsPolicy"},
                                        {"securityContext", "sysctls"}};
  for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
    json_t *doc = podjson_pod(p, NULL);
    json_t *spec = json_object_get(doc, "spec");
    json_t *at = strcmp(drop[i][0], "spec") == 0 ? spec : json_object_get(spec, "securityContext");
    ck_assert_msg(json_object_del(at, drop[i][1]) == 0, "%s: not written", drop[i][1]);
    char *text = json_dumps(doc, JSON_COMPACT);
    char why[1200];
    ck_assert_msg(roundtrip_compare(p, text, why, sizeof why) != 0, "%s: not noticed", drop[i][1]);
    free(text);
    json_decref(doc);
  }
  spec_pod_free(p);
}
END_TEST

START_TEST(roundtrip_every_field) {
  roundtrip_yaml(every_field, "every_field");
}
END_TEST

/* What the document says, value by value, for a small pod: Kubernetes'
 * field names and forms, and every default written out. */
START_TEST(document_shape) {
  spec_pod *p = roundtrip_one_pod(
      HEAD "metadata: {name: web}\n"
           "spec:\n"
           "  volumes: [{name: v, emptyDir: {sizeLimit: 64Mi}}, {name: h, hostPath: {path: /x}}]\n"
           "  containers:\n"
           "  - name: app\n"
           "    image: busybox\n"
           "    ports: [{containerPort: 80}]\n"
           "    resources: {limits: {cpu: 0.5, memory: 1000000, ephemeral-storage: 1001}}\n"
           "    volumeMounts: [{name: v, mountPath: /v}]\n"
           "    livenessProbe: {httpGet: {port: 80}}\n"
           "    securityContext: {capabilities: {drop: [all]}}\n");
  static const char want[] =
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
      "\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{\"medium\":\"\",\"sizeLimit\":\"64Mi\"}},"
      "{\"name\":\"h\",\"hostPath\":{\"path\":\"/x\",\"type\":\"\"}}],"
      "\"containers\":[{\"name\":\"app\",\"image\":\"busybox\","
      "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],"
      "\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"1M\",\"ephemeral-storage\":\"1001\"},"
      "\"requests\":{\"cpu\":\"500m\",\"memory\":\"1M\",\"ephemeral-storage\":\"1001\"}},"
      "\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/v\",\"readOnly\":false}],"
      "\"livenessProbe\":{\"httpGet\":{\"path\":\"/"
      "\",\"port\":80,\"scheme\":\"HTTP\"},\"initialDelaySeconds\":0,"
      "\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,\"failureThreshold\":3},"
      "\"imagePullPolicy\":\"Always\","
      "\"securityContext\":{\"privileged\":false,\"readOnlyRootFilesystem\":false,"
      "\"capabilities\":{\"drop\":[\"ALL\"]}},\"stdin\":false,\"tty\":false}],"
      "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"hostNetwork\":false,"
      "\"shareProcessNamespace\":false,\"hostname\":\"web\"}}";
  char *text = podjson_pod_text(p, NULL);
  ck_assert_str_eq(text, want);
  free(text);
  spec_pod_free(p);
}
END_TEST

/* The quantity forms: each is exact, and the shorter of the two families. */
START_TEST(quantity_forms) {
  static const struct {
    const char *in, *cpu, *mem;
  } cases[] = {
      {"0", "0", "0"},
      {"1", "1", "1"},
      {"0.0001", "1m", "1"},
      {"1500m", "1500m", "2"},
      {"2", "2", "2"},
      {"1024", "1024", "1Ki"},
      {"1000", "1000", "1k"},
      {"64Mi", "67108864", "64Mi"},
      {"1e9", "1000000000", "1G"},
      {"1536Mi", "1610612736", "1536Mi"},
      {"9Ei", "9223372036854775807m", "9223372036854775807"}, /* capped at 2^63-1 */
      {"2Ei", "9223372036854775807m", "2Ei"},
      {"1e18", "9223372036854775807m", "1E"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             HEAD "metadata: {name: q}\nspec:\n  containers:\n  - name: c\n    image: busybox\n"
                  "    resources: {limits: {cpu: \"%s\", memory: \"%s\"}}\n",
             cases[i].in, cases[i].in);
    spec_pod *p = roundtrip_one_pod(yaml);
    json_t *c = podjson_container(&p->containers[0], NULL);
    json_t *lim = json_object_get(json_object_get(c, "resources"), "limits");
    ck_assert_msg(strcmp(json_string_value(json_object_get(lim, "cpu")), cases[i].cpu) == 0, "cpu %s gave %s",
                  cases[i].in, json_string_value(json_object_get(lim, "cpu")));
    ck_assert_msg(strcmp(json_string_value(json_object_get(lim, "memory")), cases[i].mem) == 0,
                  "memory %s gave %s", cases[i].in, json_string_value(json_object_get(lim, "memory")));
    json_decref(c);
    roundtrip_assert(p, cases[i].in);
    spec_pod_free(p);
  }
}
END_TEST

/* With hostNetwork, hostPort defaults to containerPort and a hostname is
 * ignored (warned): the document has the port and no hostname, and reads
 * back without the warning. */
START_TEST(roundtrip_host_network) {
  spec_pod *p;
  struct roundtrip_parsed x;
  roundtrip_parse(&x, "t.yaml",
                  HEAD "metadata: {name: net}\nspec:\n  hostNetwork: true\n  hostname: ignored\n"
                       "  containers:\n  - name: c\n    image: busybox\n    ports: [{containerPort: 80}, "
                       "{containerPort: 53, hostPort: 53, protocol: UDP}]\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.d.warnings, 1);
  p = spec_pod_list_steal(&x.pods, 0);
  roundtrip_parsed_free(&x);
  json_t *doc = podjson_pod(p, NULL);
  ck_assert_ptr_null(json_object_get(json_object_get(doc, "spec"), "hostname"));
  json_t *port = json_array_get(
      json_object_get(json_array_get(json_object_get(json_object_get(doc, "spec"), "containers"), 0),
                      "ports"),
      0);
  ck_assert_int_eq(json_integer_value(json_object_get(port, "hostPort")), 80);
  json_decref(doc);
  roundtrip_assert(p, "hostNetwork");
  spec_pod_free(p);
}
END_TEST

/* A pod name longer than 63 characters gets its hostname cut (warned); the
 * document writes that hostname, so it reads back without the warning. */
START_TEST(roundtrip_long_names) {
  char name[254], yaml[4096];
  /* 253 characters, the longest pod name; characters 62 and 63 are '-',
   * which the cut removes */
  memset(name, 'a', 253);
  name[61] = name[62] = '-';
  name[253] = '\0';
  char ctr[64];
  memset(ctr, 'c', 63);
  ctr[63] = '\0';
  snprintf(yaml, sizeof yaml,
           HEAD
           "metadata:\n  name: %s\n  labels:\n    %.253s/%.63s: %.63s\nspec:\n  containers:\n  - name: %s\n"
           "    image: busybox\n",
           name, name, ctr, ctr, ctr);
  struct roundtrip_parsed x;
  roundtrip_parse(&x, "t.yaml", yaml);
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.d.warnings, 1);
  spec_pod *p = spec_pod_list_steal(&x.pods, 0);
  roundtrip_parsed_free(&x);
  ck_assert_uint_eq(strlen(p->effective_hostname), 61);
  roundtrip_assert(p, "long names");
  spec_pod_free(p);
}
END_TEST

/* --- the check itself --------------------------------------------------------- */

/* compare() notices a document that lost or changed something: the
 * round-trip tests above can fail. */
START_TEST(roundtrip_check_notices_loss) {
  spec_pod *p = roundtrip_one_pod(every_field);
  static const struct {
    const char *path; /* what to drop or change, "spec.containers.0.args" */
    const char *why;
  } cases[] = {
      {"spec.containers.0.args", "container web"},
      {"spec.containers.0.env.2", "container web"},
      {"spec.containers.0.livenessProbe.httpGet.httpHeaders", "container web"},
      {"spec.containers.0.securityContext.runAsUser", "container web"},
      {"spec.containers.1.securityContext.runAsGroup", "container worker"},
      {"spec.initContainers.0.command", "container side"},
      {"spec.initContainers.0.restartPolicy", "unless its restartPolicy is Always"},
      {"spec.initContainers.1.volumeMounts", "container setup"},
      {"spec.containers.0.resources.requests", "container web"},
      {"metadata.annotations.podvisor.io/backoff-max", "annotation podvisor.io/backoff-max"},
      {"spec.volumes.1.emptyDir.sizeLimit", "sandbox"},
      {"spec.hostname", "sandbox"},
      {"metadata.annotations.note", "annotation note"},
      {"metadata.labels.tier", "label"},
      {"metadata.uid", "metadata.uid"},
      {"spec.containers.0.stdin=", "container web"},
      {"spec.terminationGracePeriodSeconds=", "sandbox"},
      {"spec.containers.0.foo=", "unknown field"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *doc = podjson_pod(p, NULL);
    char path[256];
    snprintf(path, sizeof path, "%s", cases[i].path);
    bool replace = path[strlen(path) - 1] == '=';
    if (replace)
      path[strlen(path) - 1] = '\0';
    /* walk to the parent; "podvisor.io/backoff-max" is one key */
    json_t *at = doc;
    char *key = path, *dot;
    while ((dot = strchr(key, '.')) != NULL && strncmp(key, "podvisor", 8) != 0) {
      *dot = '\0';
      at = json_is_array(at) ? json_array_get(at, strtoul(key, NULL, 10)) : json_object_get(at, key);
      key = dot + 1;
    }
    ck_assert_msg(at != NULL, "%s: no such parent", cases[i].path);
    if (json_is_array(at))
      ck_assert_int_eq(json_array_remove(at, strtoul(key, NULL, 10)), 0);
    else if (replace && json_is_boolean(json_object_get(at, key)))
      json_object_set_new(at, key, json_boolean(!json_is_true(json_object_get(at, key))));
    else if (replace)
      json_object_set_new(at, key, json_integer(json_integer_value(json_object_get(at, key)) + 1));
    else
      ck_assert_msg(json_object_del(at, key) == 0, "%s: no such key", cases[i].path);
    char *text = json_dumps(doc, JSON_COMPACT);
    char why[1200];
    ck_assert_msg(roundtrip_compare(p, text, why, sizeof why) != 0, "%s: not noticed", cases[i].path);
    ck_assert_msg(strstr(why, cases[i].why) != NULL, "%s: '%s' lacks '%s'", cases[i].path, why, cases[i].why);
    free(text);
    json_decref(doc);
  }
  spec_pod_free(p);
}
END_TEST

int main(void) {
  Suite *s = suite_create("podjson");
  TCase *tc = tcase_create("roundtrip");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, roundtrip_corpus);
  tcase_add_test(tc, roundtrip_examples);
  tcase_add_test(tc, roundtrip_every_field);
  tcase_add_test(tc, roundtrip_security_fields);
  tcase_add_test(tc, document_shape);
  tcase_add_test(tc, quantity_forms);
  tcase_add_test(tc, roundtrip_host_network);
  tcase_add_test(tc, roundtrip_long_names);
  tcase_add_test(tc, roundtrip_check_notices_loss);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
