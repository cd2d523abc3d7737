/* Unit tests for spec/: every file of ../shared/corpus against a table of
 * the verdicts and diagnostics podvisor must give, plus the examples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec/spec.h"
#include "tests/testutil.h"

struct expect {
  const char *file;
  size_t pods;     /* valid pods returned */
  size_t errors;   /* error diagnostics */
  size_t warnings; /* warning diagnostics */
  int line;        /* line of the first diagnostic (0: none expected) */
  int col;         /* its column (0: not checked) */
  const char *text; /* a substring of the first diagnostic's "path: message", or NULL */
};

/* Checked by hand against the files: the line:col is the key or value the
 * message is about. */
static const struct expect k8s[] = {
    {"examples__staging__explorer__pod.yaml", 1, 0, 0, 0, 0, NULL},
    {"examples__web__guestbook__all-in-one__guestbook-all-in-one.yaml", 0, 6, 0, 2, 7,
     "kind: kind Service is not supported yet (podvisor runs kind: Pod)"},
    {"kubernetes__cluster__gce__manifests__etcd-empty-dir-cleanup.yaml", 1, 0, 3, 11, 3,
     "spec.priorityClassName: ignored"},
    {"kubernetes__hack__testdata__multi-resource-yaml.yaml", 0, 2, 0, 2, 7, "kind Service is not supported"},
    {"kubernetes__hack__testdata__pod-with-api-env.yaml", 0, 3, 0, 12, 11,
     "spec.containers[0].env[0].valueFrom: not supported by podvisor"},
    {"kubernetes__test__fixtures__doc-yaml__admin__high-availability__kube-apiserver.yaml", 1, 0, 0, 0, 0, NULL},
    {"kubernetes__test__fixtures__doc-yaml__admin__limitrange__invalid-pod.yaml", 1, 0, 0, 0, 0, NULL},
    {"microservices-demo__kubernetes-manifests__redis.yaml", 0, 2, 0, 16, 7, "kind Deployment is not supported"},
    {"website__content__en__examples__admin__dns__busybox.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__admin__konnectivity__konnectivity-server.yaml", 1, 0, 1, 7, 3,
     "spec.priorityClassName"},
    {"website__content__en__examples__admin__logging__two-files-counter-pod-streaming-sidecar.yaml", 1, 0, 0, 0, 0,
     NULL},
    {"website__content__en__examples__application__deployment-sidecar.yaml", 0, 1, 0, 2, 7, "kind Deployment"},
    {"website__content__en__examples__application__deployment.yaml", 0, 1, 0, 2, 7, "kind Deployment"},
    {"website__content__en__examples__application__shell-demo.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__debug__counter-pod.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__debug__termination.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__commands.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__config__redis-pod.yaml", 0, 1, 0, 28, 7,
     "spec.volumes[1].configMap: not supported by podvisor: only emptyDir and hostPath"},
    {"website__content__en__examples__pods__init-containers.yaml", 1, 0, 1, 26, 3, "spec.dnsPolicy: ignored"},
    {"website__content__en__examples__pods__inject__dapi-envars-container.yaml", 0, 4, 0, 26, 11, "valueFrom"},
    {"website__content__en__examples__pods__inject__envars.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__lifecycle-events.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__multi-container__adapter.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__multi-container__ambassador.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__multi-container__localhost.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__multi-container__shared-volume.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__pod-nginx.yaml", 1, 0, 1, 17, 5, "spec.nodeSelector: ignored"},
    {"website__content__en__examples__pods__pod-with-toleration.yaml", 1, 0, 1, 17, 5, "spec.tolerations: ignored"},
    {"website__content__en__examples__pods__private-reg-pod.yaml", 1, 0, 1, 9, 3, "spec.imagePullSecrets: ignored"},
    {"website__content__en__examples__pods__probe__exec-liveness.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__probe__http-liveness.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__probe__pod-with-http-healthcheck.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__qos__qos-pod-4.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__qos__qos-pod.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__resource__cpu-request-limit.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__resource__memory-request-limit-2.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__security__security-context-2.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__share-process-namespace.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__simple-pod.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__pods__storage__projected.yaml", 0, 1, 0, 18, 5, "spec.volumes[0].projected"},
    {"website__content__en__examples__pods__storage__pv-pod.yaml", 0, 1, 0, 8, 7,
     "spec.volumes[0].persistentVolumeClaim"},
    {"website__content__en__examples__pods__storage__redis.yaml", 1, 0, 0, 0, 0, NULL},
    {"website__content__en__examples__service__networking__hostaliases-pod.yaml", 0, 1, 0, 10, 5,
     "spec.hostAliases: not supported"},
    {"website__content__en__examples__service__pod-with-graceful-termination.yaml", 0, 1, 0, 2, 7, "kind Deployment"},
};

static const struct expect bad[] = {
    {"kubeconform__fixtures__duplicate_property.yaml", 0, 2, 0, 3, 7, "kind DaemonSet"},
    {"kubeconform__fixtures__metadata_name_missing.yaml", 0, 1, 0, 2, 7, "kind ConfigMap"},
    {"kubeconform__fixtures__object_name-max_length.yaml", 0, 1, 0, 2, 7, "kind ConfigMap"},
    {"kubernetes__cluster__gce__manifests__kube-addon-manager.yaml", 0, 8, 2, 12, 16,
     "spec.securityContext.runAsUser: expected an integer"},
    {"kubernetes__hack__testdata__invalid-pod.yaml", 0, 1, 0, 7, 10,
     "spec.containers[0].name: required field is missing"},
    {"kubernetes__hack__testdata__invalid-rc-with-empty-args.yaml", 0, 1, 0, 2, 7, "kind ReplicationController"},
    {"kubernetes__hack__testdata__pod-with-large-name.yaml", 1, 0, 1, 5, 9,
     "metadata.name: the pod name is longer than 63 characters; its hostname is cut to "
     "'kubernetes-serve-hostname-testing-sixty-three-characters-in-len'"},
    {"kubernetes__hack__testdata__recursive__pod__pod__busybox-broken.yaml", 0, 1, 0, 2, 1,
     "ind: unknown field 'ind'; did you mean 'kind'?"},
    {"kubeval__fixtures__invalid.yaml", 0, 1, 0, 2, 7, "kind ReplicationController"},
    {"kubeval__fixtures__missing_kind_value.yaml", 0, 2, 0, 1, 1, "apiVersion: required field is missing"},
    {"kubeval__fixtures__quantity.yaml", 0, 2, 0, 1, 1, "did you mean 'apiVersion'?"},
    {"kubeval__fixtures__unconventional_keys.yaml", 0, 1, 0, 2, 7, "kind ConfigMap"},
    {"yaml-test-suite__src__4EJS.yaml", 0, 1, 0, 3, 1, "YAML syntax error"},
};

static char corpus[4096];

/* The corpus is part of the test input (CI always has it): without it the
 * tests fail, naming the directory, instead of passing while checking
 * nothing. */
static void require_corpus(void) {
  struct stat st;
  snprintf(corpus, sizeof corpus, "%s/../shared/corpus", testutil_source_dir());
  ck_assert_msg(stat(corpus, &st) == 0 && S_ISDIR(st.st_mode),
                "%s is missing: the corpus tests need shared/ beside the source tree", corpus);
}

static void check_file(const char *dir, const struct expect *e) {
  char path[8192], text[2048];
  snprintf(path, sizeof path, "%s/%s/%s", corpus, dir, e->file);
  spec_pod_list pods = {0};
  diag_list d;
  diag_list_init(&d);
  int r = spec_parse_file(path, 0, &pods, &d);
  diag_list_sort(&d);
  for (size_t i = 0; i < d.n; i++) {
    diag_format(&d.items[i], text, sizeof text);
    fprintf(stderr, "  %s\n", text);
  }
  ck_assert_msg(pods.n == e->pods, "%s: %zu pods, want %zu", e->file, pods.n, e->pods);
  ck_assert_msg(d.errors == e->errors, "%s: %zu errors, want %zu", e->file, d.errors, e->errors);
  ck_assert_msg(d.warnings == e->warnings, "%s: %zu warnings, want %zu", e->file, d.warnings, e->warnings);
  ck_assert_int_eq(r, e->errors ? -1 : 0);
  if (e->line > 0) {
    ck_assert_uint_gt(d.n, 0);
    ck_assert_msg(d.items[0].line == e->line, "%s: first diagnostic at line %d, want %d", e->file, d.items[0].line,
                  e->line);
    if (e->col > 0)
      ck_assert_msg(d.items[0].col == e->col, "%s: column %d, want %d", e->file, d.items[0].col, e->col);
    snprintf(text, sizeof text, "%s: %s", d.items[0].path, d.items[0].message);
    if (e->text != NULL)
      ck_assert_msg(strstr(text, e->text) != NULL, "%s: '%s' lacks '%s'", e->file, text, e->text);
  }
  for (size_t i = 0; i < pods.n; i++) {
    ck_assert_uint_eq(strlen(pods.items[i]->hash), SPEC_HASH_HEX_LEN);
    ck_assert_uint_eq(pods.items[i]->error_count, 0);
  }
  spec_pod_list_free(&pods);
  diag_list_free(&d);
}

START_TEST(corpus_k8s) {
  require_corpus();
  check_file("k8s", &k8s[_i]);
}
END_TEST

START_TEST(corpus_bad) {
  require_corpus();
  check_file("bad", &bad[_i]);
}
END_TEST

/* The table must cover every file of the corpus: a new file needs an
 * expectation. */
START_TEST(corpus_table_complete) {
  require_corpus();
  spec_pod_list pods = {0};
  diag_list d;
  diag_list_init(&d);
  char k[4200], b[4200];
  snprintf(k, sizeof k, "%s/k8s", corpus);
  snprintf(b, sizeof b, "%s/bad", corpus);
  const char *dirs[] = {k, b};
  spec_load_paths(dirs, 2, SPEC_KEEP_INVALID, &pods, &d);
  size_t files = 0;
  for (size_t i = 0; i < d.n; i++)
    ck_assert_int_ne(d.items[i].line, 0); /* nothing failed to read */
  /* count files by listing the table against what was loaded */
  for (size_t t = 0; t < sizeof k8s / sizeof k8s[0]; t++) {
    char p[8192];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", k, k8s[t].file);
    ck_assert_msg(stat(p, &st) == 0, "table names a missing file %s", k8s[t].file);
    files++;
  }
  for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
    char p[8192];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", b, bad[t].file);
    ck_assert_msg(stat(p, &st) == 0, "table names a missing file %s", bad[t].file);
    files++;
  }
  char cmd[9000];
  snprintf(cmd, sizeof cmd, "ls %s/k8s/*.yaml %s/bad/*.yaml | wc -l", corpus, corpus);
  FILE *f = popen(cmd, "r");
  ck_assert_ptr_nonnull(f);
  size_t on_disk = 0;
  ck_assert_int_eq(fscanf(f, "%zu", &on_disk), 1);
  pclose(f);
  ck_assert_msg(on_disk == files, "%zu corpus files, %zu in the table", on_disk, files);
  spec_pod_list_free(&pods);
  diag_list_free(&d);
}
END_TEST

START_TEST(examples_validate) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/examples", testutil_source_dir());
  const char *paths[] = {dir};
  spec_pod_list pods = {0};
  diag_list d;
  diag_list_init(&d);
  ck_assert_int_eq(spec_load_paths(paths, 1, 0, &pods, &d), 0);
  ck_assert_uint_eq(d.errors + d.warnings, 0);
  ck_assert_uint_ge(pods.n, 5);
  int crash = 0;
  for (size_t i = 0; i < pods.n; i++) {
    const spec_pod *p = pods.items[i];
    for (size_t c = 0; c < p->n_containers; c++)
      ck_assert_str_eq(p->containers[c].image, "busybox");
    if (strcmp(p->name, "crashloop") == 0) {
      crash = 1;
      ck_assert_uint_eq(p->backoff_initial_ms, 1000);
      ck_assert_uint_eq(p->backoff_max_ms, 30000);
      ck_assert_uint_eq(p->start_limit_count, 10);
      ck_assert_uint_eq(p->start_limit_window_ms, 300000);
    }
  }
  ck_assert_int_eq(crash, 1);
  spec_pod_list_free(&pods);
  diag_list_free(&d);
}
END_TEST

int main(void) {
  Suite *s = suite_create("spec_corpus");
  TCase *tc = tcase_create("corpus");
  tcase_add_loop_test(tc, corpus_k8s, 0, (int)(sizeof k8s / sizeof k8s[0]));
  tcase_add_loop_test(tc, corpus_bad, 0, (int)(sizeof bad / sizeof bad[0]));
  tcase_add_test(tc, corpus_table_complete);
  tcase_add_test(tc, examples_validate);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
