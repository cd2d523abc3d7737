/* Unit tests for supervisor/shim/kstatus.c: the keeper's additions to the
 * status document, here the log health of its containers (logDroppedBytes,
 * logError, logFailingSince, logResumedAt, the podvisor.io/LogsWritable
 * condition) and how a successor reads the count back. */
#include <errno.h>
#include <string.h>

#include "supervisor/shim/kstatus.h"
#include "tests/testutil.h"

#define SEC 1000000000LL
#define T0 (1700000000LL * SEC) /* 2023-11-14T22:13:20Z */

typedef struct fixture {
  ctrstate_pod st;
  backoff_state bo[2];
  kstatus_ctr ctrs[2];
  kstatus_view v;
} fixture;

static void fx_init(fixture *f) {
  memset(f, 0, sizeof *f);
  ck_assert_int_eq(ctrstate_pod_init(&f->st, BACKOFF_POLICY_ALWAYS, 0, 2, NULL), 0);
  ctrstate_init(&f->st.app[0], "web", BACKOFF_KIND_APP, false);
  ctrstate_init(&f->st.app[1], "worker", BACKOFF_KIND_APP, false);
  ctrstate_pod_update(&f->st, T0);
  for (int i = 0; i < 2; i++) {
    backoff_state_init(&f->bo[i]);
    f->ctrs[i] = (kstatus_ctr){.name = f->st.app[i].name, .bo = &f->bo[i]};
  }
  f->v = (kstatus_view){
      .st = &f->st, .name = "p", .ns = "default", .uid = "u1", .ctrs = f->ctrs, .n_ctrs = 2, .sandbox_error = ""};
}

static const json_t *log_cond(const json_t *doc) {
  const json_t *c;
  size_t i;
  json_array_foreach(json_object_get(doc, "conditions"), i, c) {
    if (strcmp(json_string_value(json_object_get(c, "type")), "podvisor.io/LogsWritable") == 0)
      return c;
  }
  return NULL;
}

static const json_t *ctr_pv(const json_t *doc, size_t i) {
  return json_object_get(json_array_get(json_object_get(doc, "containerStatuses"), i), "podvisor");
}

static const char *str(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s != NULL ? s : "";
}

/* Logs that never failed add nothing. */
START_TEST(healthy_logs_add_nothing) {
  fixture f;
  fx_init(&f);
  json_t *doc = kstatus_json(&f.v);
  ck_assert_ptr_nonnull(doc);
  ck_assert_ptr_null(log_cond(doc));
  ck_assert_ptr_null(json_object_get(ctr_pv(doc, 0), "logDroppedBytes"));
  ck_assert_ptr_null(json_object_get(ctr_pv(doc, 0), "logError"));
  json_decref(doc);
  ctrstate_pod_free(&f.st);
}
END_TEST

/* While a container's writes fail: its fields, and the condition False
 * with the error, since when and the bytes dropped over the pod. */
START_TEST(failing_logs) {
  fixture f;
  fx_init(&f);
  f.ctrs[1].log_dropped = 4096;
  f.ctrs[1].log_error = ENOSPC;
  f.ctrs[1].log_failing_since = T0 + 5 * SEC;
  f.ctrs[0].log_dropped = 100; /* an earlier episode of web's, over */
  f.ctrs[0].log_resumed_at = T0 + 2 * SEC;
  json_t *doc = kstatus_json(&f.v);
  const json_t *w = ctr_pv(doc, 1), *c = log_cond(doc);
  ck_assert_int_eq(json_integer_value(json_object_get(w, "logDroppedBytes")), 4096);
  ck_assert_str_eq(str(w, "logError"), "No space left on device");
  ck_assert_str_eq(str(w, "logFailingSince"), "2023-11-14T22:13:25Z");
  ck_assert_ptr_null(json_object_get(w, "logResumedAt"));
  ck_assert_str_eq(str(ctr_pv(doc, 0), "logResumedAt"), "2023-11-14T22:13:22Z");
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(str(c, "status"), "False");
  ck_assert_str_eq(str(c, "reason"), "LogWritesFailing");
  ck_assert_str_eq(str(c, "lastTransitionTime"), "2023-11-14T22:13:25Z");
  ck_assert_str_eq(str(c, "message"), "log writes failing: No space left on device since "
                                      "2023-11-14T22:13:25Z (container worker, 4196 bytes dropped)");
  json_decref(doc);
  ctrstate_pod_free(&f.st);
}
END_TEST

/* Once the writes succeed again: True, when, and the count; a successor
 * reads the count and the time back. */
START_TEST(resumed_logs_and_restore) {
  fixture f;
  fx_init(&f);
  f.ctrs[1].log_dropped = 4096;
  f.ctrs[1].log_resumed_at = T0 + 9 * SEC;
  json_t *doc = kstatus_json(&f.v);
  const json_t *c = log_cond(doc);
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(str(c, "status"), "True");
  ck_assert_str_eq(str(c, "reason"), "LogWritesResumed");
  ck_assert_str_eq(str(c, "message"), "log writes resumed at 2023-11-14T22:13:29Z (4096 bytes dropped before)");
  uint64_t dropped = 1;
  int64_t at = 1;
  kstatus_log_restore(doc, "worker", &dropped, &at);
  ck_assert_uint_eq(dropped, 4096);
  ck_assert_int_eq(at, T0 + 9 * SEC);
  kstatus_log_restore(doc, "web", &dropped, &at);
  ck_assert_uint_eq(dropped, 0);
  ck_assert_int_eq(at, 0);
  kstatus_log_restore(doc, "nobody", &dropped, &at);
  ck_assert_uint_eq(dropped, 0);
  json_decref(doc);
  ctrstate_pod_free(&f.st);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("kstatus");
  TCase *tc = tcase_create("log health");
  tcase_add_test(tc, healthy_logs_add_nothing);
  tcase_add_test(tc, failing_logs);
  tcase_add_test(tc, resumed_logs_and_restore);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
