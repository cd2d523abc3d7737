/* Unit tests for supervisor/proto/podupdate.c: a container replaced in its
 * pod, validated, and pod-level changes refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/proto/podjson.h"
#include "supervisor/proto/podupdate.h"
#include "tests/testutil.h"

static const char *manifest =
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: web, uid: 6f1c0d7e-0000-4000-8000-000000000001}\n"
    "spec:\n"
    "  initContainers:\n"
    "  - {name: setup, image: busybox, command: [\"true\"]}\n"
    "  - {name: proxy, image: busybox, command: [\"sleep\", \"1d\"], restartPolicy: Always}\n"
    "  containers:\n"
    "  - {name: app, image: busybox, command: [\"sh\", \"-c\", \"echo v1\"]}\n"
    "  - {name: side, image: busybox, command: [\"sleep\", \"1d\"]}\n";

static spec_pod *cur;
static diag_list diags;
static pv_err err;

static void setup(void) {
  spec_pod_list l = {0};
  diag_list_init(&diags);
  ck_assert_int_eq(spec_parse_buffer("t.yaml", manifest, strlen(manifest), 0, &l, &diags), 0);
  cur = spec_pod_list_steal(&l, 0);
  spec_pod_list_free(&l);
}

static void teardown(void) {
  spec_pod_free(cur);
  diag_list_free(&diags);
}

/* The container object of cur, as podjson writes it, for editing. */
static json_t *container_json(const char *name) {
  json_t *c = podjson_container(spec_pod_container(cur, name), &err);
  ck_assert_ptr_nonnull(c);
  return c;
}

START_TEST(container_replaced) {
  json_t *c = container_json("app");
  json_object_set_new(c, "command", json_pack("[s,s,s]", "sh", "-c", "echo v2"));
  spec_pod *p;
  bool changed;
  ck_assert_msg(podupdate_replace_container(cur, "app", c, &p, &changed, &diags, &err) == 0, "%s", err.msg);
  ck_assert(changed);
  ck_assert_str_eq(p->containers[0].command.argv[2], "echo v2");
  ck_assert_str_ne(p->containers[0].hash, cur->containers[0].hash);
  ck_assert_str_eq(p->containers[1].hash, cur->containers[1].hash);
  ck_assert_str_eq(p->init_containers[0].hash, cur->init_containers[0].hash);
  ck_assert_str_eq(p->sandbox_hash, cur->sandbox_hash);
  ck_assert_str_eq(p->uid, cur->uid); /* the same instance */
  ck_assert(p->init_containers[1].sidecar);
  spec_pod_free(p);
  /* Without "name", and unchanged: accepted, nothing to restart. */
  json_t *same = container_json("side");
  json_object_del(same, "name");
  ck_assert_int_eq(podupdate_replace_container(cur, "side", same, &p, &changed, &diags, &err), 0);
  ck_assert(!changed);
  spec_pod_free(p);
  json_decref(same);
  json_decref(c);
}
END_TEST

START_TEST(invalid_update_refused_with_diagnostics) {
  spec_pod *p = NULL;
  bool changed;
  json_t *c = container_json("app");
  json_object_set_new(c, "comand", json_pack("[s]", "true"));
  json_object_set_new(c, "resources", json_pack("{s:{s:s}}", "limits", "memory", "64MB"));
  ck_assert_int_eq(podupdate_replace_container(cur, "app", c, &p, &changed, &diags, &err), -1);
  ck_assert_int_eq(err.code, EINVAL);
  ck_assert_ptr_null(p);
  int found = 0;
  for (size_t i = 0; i < diags.n; i++) {
    char msg[512];
    diag_format(&diags.items[i], msg, sizeof msg);
    found += strstr(msg, "comand") != NULL || strstr(msg, "64MB") != NULL;
  }
  ck_assert_int_eq(found, 2);
  json_decref(c);
  /* Another container's name, no such container, not an object. */
  c = container_json("side");
  ck_assert_int_eq(podupdate_replace_container(cur, "app", c, &p, &changed, &diags, &err), -1);
  ck_assert_int_eq(err.code, EINVAL);
  ck_assert_int_eq(podupdate_replace_container(cur, "nosuch", c, &p, &changed, &diags, &err), -1);
  ck_assert_int_eq(err.code, ENOENT);
  json_t *s = json_string("x");
  ck_assert_int_eq(podupdate_replace_container(cur, "app", s, &p, &changed, &diags, &err), -1);
  json_decref(s);
  json_decref(c);
}
END_TEST

START_TEST(pod_level_change_refused) {
  spec_pod *p = NULL;
  bool changed;
  /* A sidecar that stops being one changes the pod's start order. */
  json_t *c = container_json("proxy");
  json_object_del(c, "restartPolicy");
  ck_assert_int_eq(podupdate_replace_container(cur, "proxy", c, &p, &changed, &diags, &err), -1);
  ck_assert_int_eq(err.code, EPERM);
  ck_assert_str_eq(err.msg, "pod-level change: recreate the pod");
  json_decref(c);
  /* An init container made a sidecar: the same.  (The sandbox and the other
   * containers cannot change through one container's object; their hashes
   * are compared all the same.) */
  c = container_json("setup");
  json_object_set_new(c, "restartPolicy", json_string("Always"));
  ck_assert_int_eq(podupdate_replace_container(cur, "setup", c, &p, &changed, &diags, &err), -1);
  ck_assert_int_eq(err.code, EPERM);
  ck_assert_ptr_null(p);
  json_decref(c);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("podupdate");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, container_replaced);
  tcase_add_test(tc, invalid_update_refused_with_diagnostics);
  tcase_add_test(tc, pod_level_change_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
