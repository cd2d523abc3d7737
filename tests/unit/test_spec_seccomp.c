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
#include "tests/unit/spec_fixture.h"

START_TEST(unset_is_runtime_default_and_no_warning) {
  spec_run x;
  spec_run_parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert_int_eq(x.pods.items[0]->containers[0].security.seccomp, SPEC_SECCOMP_UNSET);
  spec_run_done(&x);
  spec_run_parse(&x, HEAD "  containers:\n  - name: a\n    image: busybox\n"
                          "    securityContext: {seccompProfile: {type: RuntimeDefault}}\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert_uint_eq(x.d.n, 0);
  ck_assert_int_eq(x.pods.items[0]->containers[0].security.seccomp, SPEC_SECCOMP_RUNTIME_DEFAULT);
  spec_run_done(&x);
}
END_TEST

START_TEST(pod_level_is_the_default_a_container_overrides) {
  spec_run x;
  spec_run_parse(
      &x,
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
  spec_run y;
  spec_run_parse(&y, text);
  ck_assert_int_eq(y.r, 0);
  ck_assert_str_eq(y.pods.items[0]->containers[0].hash, p->containers[0].hash);
  ck_assert_str_eq(y.pods.items[0]->containers[1].hash, p->containers[1].hash);
  ck_assert_str_eq(y.pods.items[0]->containers[0].security.seccomp_localhost, "team/strict.json");
  spec_run_done(&y);
  free(text);
  spec_run_done(&x);
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
    spec_run x;
    spec_run_parse(&x, yaml);
    ck_assert_msg(x.r != 0, "case %zu accepted", i);
    ck_assert_msg(spec_run_find(&x, DIAG_ERROR, 0, cases[i].want), "case %zu: no error '%s'", i,
                  cases[i].want);
    spec_run_done(&x);
  }
}
END_TEST

/* seLinuxOptions and appArmorProfile are still only warned about. */
START_TEST(other_mac_fields_still_warn) {
  spec_run x;
  spec_run_parse(&x, HEAD
                 "  containers:\n  - name: a\n    image: busybox\n"
                 "    securityContext: {seLinuxOptions: {level: s0}, seccompProfile: {type: Unconfined}}\n");
  ck_assert_int_eq(x.r, 0);
  ck_assert(spec_run_find(&x, DIAG_WARNING, 0, "seLinuxOptions: ignored: podvisor does not apply SELinux"));
  ck_assert(!spec_run_find(&x, DIAG_WARNING, 0, "seccomp"));
  spec_run_done(&x);
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
