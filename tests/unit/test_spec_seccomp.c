/* Unit tests for securityContext.seccompProfile in spec/security.c: the
 * types, the pod-level default a container overrides, localhostProfile's
 * rules (Localhost only, required there, relative, no ".."), and the
 * JSON the shim receives (podjson) carrying it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "supervisor/proto/podjson.h"
#include "tests/testutil.h"

#define HEAD "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n"

struct run {
  spec_pod_list pods;
  diag_list d;
  int r;
};

static void parse(struct run *x, const char *yaml) {
  memset(x, 0, sizeof *x);
  diag_list_init(&x->d);
  x->r = spec_parse_buffer("t.yaml", yaml, strlen(yaml), 0, &x->pods, &x->d);
  char buf[1024];
  for (size_t i = 0; i < x->d.n; i++) {
    diag_format(&x->d.items[i], buf, sizeof buf);
    fprintf(stderr, "  %s\n", buf);
  }
}

static void done(struct run *x) {
  spec_pod_list_free(&x->pods);
  diag_list_free(&x->d);
}

static bool has_diag(const struct run *x, diag_severity sev, const char *text) {
  char buf[1024];
  for (size_t i = 0; i < x->d.n; i++) {
    snprintf(buf, sizeof buf, "%s: %s", x->d.items[i].path, x->d.items[i].message);
    if (x->d.items[i].severity == sev && strstr(buf, text) != NULL)
      return true;
  }
  return false;
}

START_TEST(unset_is_runtime_default_and_no_warning) {
  struct run x;
  parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert_int_eq(x.pods.items[0]->containers[0].security.seccomp, SPEC_SECCOMP_UNSET);
  done(&x);
  parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n"
                 "    securityContext: {seccompProfile: {type: RuntimeDefault}}\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.d.n, 0);
  ck_assert_int_eq(x.pods.items[0]->containers[0].security.seccomp, SPEC_SECCOMP_RUNTIME_DEFAULT);
  done(&x);
}
END_TEST

START_TEST(pod_level_is_the_default_a_container_overrides) {
  struct run x;
  parse(&x,
        HEAD "  securityContext:\n    seccompProfile: {type: Localhost, localhostProfile: team/strict.json}\n"
             "  containers:\n  - name: a\n    image: busybox\n"
             "  - name: b\n    image: busybox\n    securityContext: {seccompProfile: {type: Unconfined}}\n");
  ck_assert_int_eq(x.r, 0);
  const spec_pod *p = x.pods.items[0];
  ck_assert_int_eq(p->containers[0].security.seccomp, SPEC_SECCOMP_LOCALHOST);
  ck_assert_str_eq(p->containers[0].security.seccomp_localhost, "team/strict.json");
  ck_assert_int_eq(p->containers[1].security.seccomp, SPEC_SECCOMP_UNCONFINED);
  ck_assert_ptr_null(p->containers[1].security.seccomp_localhost);
  /* What the shim receives carries the merged value of each container. */
  pv_err err;
  pv_err_clear(&err);
  char *text = podjson_pod_text(p, &err);
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(
      strstr(text, "\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"team/strict.json\"}"));
  ck_assert_ptr_nonnull(strstr(text, "\"seccompProfile\":{\"type\":\"Unconfined\"}"));
  struct run y;
  parse(&y, text);
  ck_assert_int_eq(y.r, 0);
  ck_assert_str_eq(y.pods.items[0]->containers[0].hash, p->containers[0].hash);
  ck_assert_str_eq(y.pods.items[0]->containers[1].hash, p->containers[1].hash);
  ck_assert_str_eq(y.pods.items[0]->containers[0].security.seccomp_localhost, "team/strict.json");
  done(&y);
  free(text);
  done(&x);
}
END_TEST

START_TEST(bad_profiles_are_errors) {
  static const struct {
    const char *sc, *want;
  } cases[] = {
      {"{seccompProfile: {type: Localhost}}",
       "seccompProfile: localhostProfile is required with type Localhost"},
      {"{seccompProfile: {type: RuntimeDefault, localhostProfile: a.json}}",
       "seccompProfile.localhostProfile: only allowed with type Localhost"},
      {"{seccompProfile: {type: Localhost, localhostProfile: ../etc/shadow}}", "without '..'"},
      {"{seccompProfile: {type: Localhost, localhostProfile: a/../../b.json}}", "without '..'"},
      {"{seccompProfile: {type: Localhost, localhostProfile: /etc/p.json}}", "must be a relative path"},
      {"{seccompProfile: {type: runtimedefault}}", "seccompProfile.type"},
      {"{seccompProfile: {localhostProfile: a.json}}", "type is required"},
      {"{seccompProfile: {type: Unconfined, profile: x}}", "seccompProfile.profile: unknown field"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             HEAD "  containers:\n  - name: a\n    image: busybox\n    securityContext: %s\n", cases[i].sc);
    struct run x;
    parse(&x, yaml);
    ck_assert_msg(x.r != 0, "case %zu accepted", i);
    ck_assert_msg(has_diag(&x, DIAG_ERROR, cases[i].want), "case %zu: no error '%s'", i, cases[i].want);
    done(&x);
  }
}
END_TEST

/* seLinuxOptions and appArmorProfile are still only warned about. */
START_TEST(other_mac_fields_still_warn) {
  struct run x;
  parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n"
                 "    securityContext: {seLinuxOptions: {level: s0}, seccompProfile: {type: Unconfined}}\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert(has_diag(&x, DIAG_WARNING, "seLinuxOptions: ignored: podvisor does not apply SELinux"));
  ck_assert(!has_diag(&x, DIAG_WARNING, "seccomp"));
  done(&x);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("spec_seccomp");
  TCase *tc = tcase_create("decode");
  tcase_add_test(tc, unset_is_runtime_default_and_no_warning);
  tcase_add_test(tc, pod_level_is_the_default_a_container_overrides);
  tcase_add_test(tc, bad_profiles_are_errors);
  tcase_add_test(tc, other_mac_fields_still_warn);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
