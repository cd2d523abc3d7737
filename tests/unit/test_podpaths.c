/* Unit tests for supervisor/proto/podpaths.c: the layout of a pod's files,
 * the components it refuses, and fresh instance uids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/proto/podpaths.h"
#include "tests/testutil.h"

static spec_pod *parse(const char *yaml) {
  spec_pod_list l = {0};
  diag_list d;
  diag_list_init(&d);
  ck_assert_int_eq(spec_parse_buffer("t.yaml", yaml, strlen(yaml), 0, &l, &d), 0);
  ck_assert_int_eq(l.n, 1);
  spec_pod *p = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
  diag_list_free(&d);
  return p;
}

#define POD(meta)                                                                                            \
  "apiVersion: v1\nkind: Pod\nmetadata: " meta "\nspec:\n  containers:\n  - name: c\n    image: busybox\n"

START_TEST(layout) {
  spec_pod *p = parse(POD("{name: web, namespace: shop, uid: 1b4e28ba-2fa1-11d2-883f-0016d3cca427}"));
  char key[PODPATHS_KEY_LEN + 1];
  spec_pod_key(p, key);
  ck_assert(podpaths_key_is_valid(key));
  podpaths pp;
  pv_err err;
  ck_assert_msg(podpaths_for_pod(&pp, "/var/lib/pv", "/run/pv", p, &err) == 0, "%s", err.msg);
  char want[512];
  ck_assert_str_eq(pp.key, key);
  snprintf(want, sizeof want, "/run/pv/pods/%s", key);
  ck_assert_str_eq(pp.run_dir, want);
  snprintf(want, sizeof want, "/run/pv/pods/%s/pod.json", key);
  ck_assert_str_eq(pp.snapshot, want);
  snprintf(want, sizeof want, "/run/pv/pods/%s/status.json", key);
  ck_assert_str_eq(pp.status, want);
  snprintf(want, sizeof want, "/run/pv/pods/%s/shim.sock", key);
  ck_assert_str_eq(pp.socket, want);
  snprintf(want, sizeof want, "/run/pv/pods/%s/shim.lock", key);
  ck_assert_str_eq(pp.lock, want);
  snprintf(want, sizeof want, "/run/pv/pods/%s/shim.pid", key);
  ck_assert_str_eq(pp.pid_file, want);
  snprintf(want, sizeof want, "/run/pv/pods/%s/shim.log", key);
  ck_assert_str_eq(pp.shim_log, want);
  ck_assert_str_eq(pp.uid, "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
  ck_assert_str_eq(pp.pod_dir, "/var/lib/pv/pods/1b4e28ba-2fa1-11d2-883f-0016d3cca427");
  ck_assert_str_eq(pp.log_dir, "/var/lib/pv/logs/shop_web_1b4e28ba-2fa1-11d2-883f-0016d3cca427");
  ck_assert_str_eq(pp.cgroup, "podvisor/1b4e28ba-2fa1-11d2-883f-0016d3cca427");
  podpaths_free(&pp);
  podpaths_free(&pp); /* twice is fine */
  ck_assert_ptr_null(pp.run_dir);
  /* The key ignores the uid: every instance of shop/web shares the run dir. */
  spec_pod *q = parse(POD("{name: web, namespace: shop}"));
  ck_assert_int_eq(podpaths_for_pod(&pp, "/r", "/rr", q, &err), 0);
  ck_assert_str_eq(pp.key, key);
  ck_assert_str_eq(pp.uid, "");
  ck_assert_ptr_null(pp.pod_dir);
  ck_assert_int_eq(podpaths_set_cgroup(&pp, "pv.slice", &err), -1); /* no instance yet */
  ck_assert_int_eq(podpaths_set_instance(&pp, "/r", "shop", "web", "abc", &err), 0);
  ck_assert_str_eq(pp.log_dir, "/r/logs/shop_web_abc");
  ck_assert_str_eq(pp.cgroup, "podvisor/abc");
  /* The cgroup goes under the parent given; a bad one changes nothing. */
  ck_assert_int_eq(podpaths_set_cgroup(&pp, "system.slice/pv.service/podvisor", &err), 0);
  ck_assert_str_eq(pp.cgroup, "system.slice/pv.service/podvisor/abc");
  ck_assert_int_eq(podpaths_set_cgroup(&pp, "../up", &err), -1);
  ck_assert_int_eq(err.code, EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "../up"));
  ck_assert_str_eq(pp.cgroup, "system.slice/pv.service/podvisor/abc");
  ck_assert_int_eq(podpaths_set_cgroup(&pp, NULL, &err), 0);
  ck_assert_str_eq(pp.cgroup, "podvisor/abc");
  snprintf(want, sizeof want, "/rr/pods/%s/cgroup.json", key);
  ck_assert_str_eq(pp.cgroup_file, want);
  podpaths_free(&pp);
  spec_pod_free(p);
  spec_pod_free(q);
}
END_TEST

START_TEST(unsafe_components_refused) {
  podpaths pp;
  pv_err err;
  const char *bad_keys[] = {
      "",  "0123456789abcde", "0123456789abcdef0", "0123456789ABCDEF", "../../etc/passwd", "0123456789abcde/",
      NULL};
  ck_assert_int_eq(podpaths_init(&pp, "/rr", "0123456789abcdef", &err), 0);
  podpaths_free(&pp);
  for (int i = 0; i < 6; i++) {
    ck_assert_msg(podpaths_init(&pp, "/rr", bad_keys[i], &err) == -1, "key '%s' accepted", bad_keys[i]);
    ck_assert_int_eq(err.code, EINVAL);
    ck_assert_ptr_null(pp.run_dir);
  }
  ck_assert_int_eq(podpaths_init(&pp, "/rr", NULL, &err), -1);
  const char *bad_uids[] = {"",
                            ".",
                            "..",
                            "../x",
                            "a/b",
                            "-abc",
                            "abc-",
                            "ABC",
                            "a_b",
                            "a b",
                            "a.b",
                            "\xc3\xa9",
                            "0123456789012345678901234567890123456789012345678901234567890123",
                            NULL};
  ck_assert_int_eq(podpaths_init(&pp, "/rr", "0123456789abcdef", &err), 0);
  for (int i = 0; bad_uids[i] != NULL; i++) {
    ck_assert_msg(!podpaths_uid_is_valid(bad_uids[i]), "uid '%s' valid", bad_uids[i]);
    ck_assert_msg(podpaths_set_instance(&pp, "/r", "default", "web", bad_uids[i], &err) == -1, "uid '%s'",
                  bad_uids[i]);
    ck_assert_msg(strstr(err.msg, "unsafe uid") != NULL, "%s", err.msg);
    ck_assert_ptr_null(pp.pod_dir);
  }
  ck_assert(podpaths_uid_is_valid("012345678901234567890123456789012345678901234567890123456789012"));
  /* Namespace and name become one directory name with the uid. */
  ck_assert_int_eq(podpaths_set_instance(&pp, "/r", "../x", "web", "u1", &err), -1);
  ck_assert_int_eq(podpaths_set_instance(&pp, "/r", "default", "a/b", "u1", &err), -1);
  ck_assert_int_eq(podpaths_set_instance(&pp, "/r", "default", ".hidden", "u1", &err), -1);
  ck_assert_int_eq(podpaths_set_instance(&pp, "/r", "de_fault", "web", "u1", &err), -1);
  char longname[254];
  memset(longname, 'a', 253);
  longname[253] = '\0';
  ck_assert_int_eq(podpaths_set_instance(&pp, "/r", "default", longname, "u1", &err), -1);
  ck_assert_int_eq(err.code, ENAMETOOLONG);
  ck_assert_ptr_null(pp.log_dir);
  podpaths_free(&pp);
}
END_TEST

START_TEST(new_uids_are_fresh_uuids) {
  char a[PODPATHS_UUID_LEN + 1], b[PODPATHS_UUID_LEN + 1];
  pv_err err;
  ck_assert_int_eq(podpaths_new_uid(a, &err), 0);
  ck_assert_int_eq(podpaths_new_uid(b, &err), 0);
  ck_assert_str_ne(a, b);
  ck_assert_int_eq(strlen(a), 36);
  ck_assert(podpaths_uid_is_valid(a));
  ck_assert(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
  ck_assert_int_eq(a[14], '4');
  ck_assert(strchr("89ab", a[19]) != NULL);
  for (int i = 0; i < 36; i++)
    ck_assert(a[i] == '-' || strchr("0123456789abcdef", a[i]) != NULL);
  /* spec/ accepts it as metadata.uid. */
  char yaml[512];
  snprintf(yaml, sizeof yaml, POD("{name: web, uid: %s}"), a);
  spec_pod *p = parse(yaml);
  ck_assert_str_eq(p->uid, a);
  spec_pod_free(p);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("podpaths");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, layout);
  tcase_add_test(tc, unsafe_components_refused);
  tcase_add_test(tc, new_uids_are_fresh_uuids);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
