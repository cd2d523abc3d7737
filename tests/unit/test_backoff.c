/* Unit tests for supervisor/shim/backoff.c: delays, reset, start limit, restart decisions. */
#include <stdint.h>
#include <string.h>

#include "supervisor/shim/backoff.h"
#include "tests/testutil.h"

static backoff_config cfg(int64_t initial, int64_t max, int64_t reset) {
  backoff_config c;
  backoff_config_default(&c);
  c.initial_ms = initial;
  c.max_ms = max;
  c.reset_ms = reset;
  return c;
}

START_TEST(defaults_are_kubelets) {
  backoff_config c;
  backoff_config_default(&c);
  ck_assert_int_eq(c.initial_ms, 10000);
  ck_assert_int_eq(c.max_ms, 300000);
  ck_assert_int_eq(c.reset_ms, 600000);
  ck_assert_uint_eq(c.limit_starts, 0);
  /* 10, 20, 40, 80, 160, 300, 300 seconds. */
  backoff_state s;
  backoff_state_init(&s);
  static const int64_t want[] = {10000, 20000, 40000, 80000, 160000, 300000, 300000};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    backoff_record_exit(&c, &s, 1000);
    ck_assert_int_eq(backoff_next_delay(&c, &s), want[i]);
  }
}
END_TEST

START_TEST(sequence_exact_from_first_crash) {
  backoff_config c = cfg(100, 800, 600000);
  backoff_state s;
  backoff_state_init(&s);
  ck_assert_int_eq(backoff_next_delay(&c, &s), 0); /* nothing crashed yet */
  static const int64_t want[] = {100, 200, 400, 800, 800};
  for (size_t i = 0; i < 5; i++) {
    backoff_record_start(&s, (int64_t)i * 10000);
    backoff_record_exit(&c, &s, 5);
    ck_assert_int_eq(backoff_next_delay(&c, &s), want[i]);
  }
}
END_TEST

START_TEST(long_run_resets) {
  backoff_config c = cfg(100, 800, 1000);
  backoff_state s;
  backoff_state_init(&s);
  for (int i = 0; i < 4; i++)
    backoff_record_exit(&c, &s, 10);
  ck_assert_int_eq(backoff_next_delay(&c, &s), 800);
  backoff_record_exit(&c, &s, 999); /* just short of reset: keeps doubling */
  ck_assert_int_eq(backoff_next_delay(&c, &s), 800);
  backoff_record_exit(&c, &s, 1000); /* ran reset_ms: back to initial */
  ck_assert_int_eq(backoff_next_delay(&c, &s), 100);
  backoff_record_exit(&c, &s, 10);
  ck_assert_int_eq(backoff_next_delay(&c, &s), 200);
}
END_TEST

START_TEST(huge_k_no_overflow) {
  backoff_config c = cfg(INT64_MAX / 4, INT64_MAX / 2, INT64_MAX);
  backoff_state s;
  backoff_state_init(&s);
  backoff_record_exit(&c, &s, 0);
  ck_assert_int_eq(backoff_next_delay(&c, &s), INT64_MAX / 4);
  backoff_record_exit(&c, &s, 0);
  ck_assert_int_eq(backoff_next_delay(&c, &s), (INT64_MAX / 4) * 2);
  backoff_record_exit(&c, &s, 0); /* doubling again would overflow int64: capped */
  ck_assert_int_eq(backoff_next_delay(&c, &s), INT64_MAX / 2);

  backoff_config d = cfg(10000, 300000, 600000);
  static const uint32_t ks[] = {30, 62, 63, 64, 65, 1000, UINT32_MAX - 1, UINT32_MAX};
  for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
    s.exits = ks[i];
    ck_assert_int_eq(backoff_next_delay(&d, &s), 300000);
  }
  s.exits = UINT32_MAX;
  backoff_record_exit(&d, &s, 0); /* saturates instead of wrapping to 0 */
  ck_assert_uint_eq(s.exits, UINT32_MAX);
  ck_assert_int_eq(backoff_next_delay(&d, &s), 300000);
}
END_TEST

START_TEST(initial_zero_is_immediate) {
  backoff_config c = cfg(0, 0, 600000);
  backoff_state s;
  backoff_state_init(&s);
  for (int i = 0; i < 100; i++) {
    backoff_record_exit(&c, &s, 0);
    ck_assert_int_eq(backoff_next_delay(&c, &s), 0);
  }
}
END_TEST

START_TEST(start_limit) {
  backoff_config c = cfg(0, 0, 600000);
  c.limit_starts = 3;
  c.limit_window_ms = 1000;
  backoff_state s;
  backoff_state_init(&s);
  /* Three fast starts are allowed, the fourth within the window is not. */
  ck_assert(!backoff_start_limit_reached(&c, &s, 0));
  backoff_record_start(&s, 0);
  ck_assert(!backoff_start_limit_reached(&c, &s, 100));
  backoff_record_start(&s, 100);
  ck_assert(!backoff_start_limit_reached(&c, &s, 200));
  backoff_record_start(&s, 200);
  ck_assert(backoff_start_limit_reached(&c, &s, 300));
  ck_assert(backoff_start_limit_reached(&c, &s, 999));
  ck_assert(!backoff_start_limit_reached(&c, &s, 1000)); /* the first start left the window */

  /* Slow starts never hit it, however many. */
  backoff_state_init(&s);
  for (int i = 0; i < 200; i++) {
    ck_assert(!backoff_start_limit_reached(&c, &s, i * 600));
    backoff_record_start(&s, i * 600);
  }
  /* The ring wraps: only the last N count. */
  backoff_record_start(&s, 200000);
  backoff_record_start(&s, 200001);
  ck_assert(!backoff_start_limit_reached(&c, &s, 200002)); /* last 3: 119400, 200000, 200001 */
  backoff_record_start(&s, 200002);
  ck_assert(backoff_start_limit_reached(&c, &s, 200003));

  /* No limit configured. */
  c.limit_starts = 0;
  ck_assert(!backoff_start_limit_reached(&c, &s, 200003));
  /* The largest limit fills the whole ring. */
  c.limit_starts = BACKOFF_LIMIT_MAX;
  c.limit_window_ms = 1000;
  backoff_state_init(&s);
  for (int i = 0; i < BACKOFF_LIMIT_MAX; i++) {
    ck_assert(!backoff_start_limit_reached(&c, &s, 5000 + i));
    backoff_record_start(&s, 5000 + i);
  }
  ck_assert(backoff_start_limit_reached(&c, &s, 5000 + BACKOFF_LIMIT_MAX));
}
END_TEST

START_TEST(policy_names_and_parsing) {
  backoff_policy p;
  ck_assert_int_eq(backoff_policy_parse("OnFailure", &p), 0);
  ck_assert_int_eq(p, BACKOFF_POLICY_ON_FAILURE);
  ck_assert_str_eq(backoff_policy_name(p), "OnFailure");
  ck_assert_int_eq(backoff_policy_parse("always", &p), -1);
}
END_TEST

START_TEST(restart_decide_matrix) {
  const backoff_exit ok = {0, 0, false}, fail = {1, 0, false}, sig = {143, 15, false}, oom = {137, 9, true};
  const backoff_exit *exits[] = {&ok, &fail, &sig, &oom};
  const backoff_decision R = BACKOFF_RESTART, D = BACKOFF_STAY_DOWN, F = BACKOFF_FAIL_POD;
  /* [policy][exit] for app, init and sidecar containers. */
  static const backoff_policy pols[] = {BACKOFF_POLICY_ALWAYS, BACKOFF_POLICY_ON_FAILURE,
                                        BACKOFF_POLICY_NEVER};
  const backoff_decision app[3][4] = {{R, R, R, R}, {D, R, R, R}, {D, D, D, D}};
  const backoff_decision init[3][4] = {{D, R, R, R}, {D, R, R, R}, {D, F, F, F}};
  for (int p = 0; p < 3; p++) {
    for (int e = 0; e < 4; e++) {
      ck_assert_msg(backoff_restart_decide(pols[p], BACKOFF_KIND_APP, exits[e]) == app[p][e], "app p=%d e=%d",
                    p, e);
      ck_assert_msg(backoff_restart_decide(pols[p], BACKOFF_KIND_INIT, exits[e]) == init[p][e],
                    "init p=%d e=%d", p, e);
      ck_assert_msg(backoff_restart_decide(pols[p], BACKOFF_KIND_SIDECAR, exits[e]) == R, "sidecar p=%d e=%d",
                    p, e);
    }
  }
  ck_assert(!backoff_exit_failed(&ok));
  ck_assert(backoff_exit_failed(&fail));
  ck_assert(backoff_exit_failed(&sig));
  ck_assert(backoff_exit_failed(&oom));
  const backoff_exit oom_zero = {0, 0, true}; /* OOM is a failure even if the code looked fine */
  ck_assert(backoff_exit_failed(&oom_zero));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("backoff");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, defaults_are_kubelets);
  tcase_add_test(tc, sequence_exact_from_first_crash);
  tcase_add_test(tc, long_run_resets);
  tcase_add_test(tc, huge_k_no_overflow);
  tcase_add_test(tc, initial_zero_is_immediate);
  tcase_add_test(tc, start_limit);
  tcase_add_test(tc, policy_names_and_parsing);
  tcase_add_test(tc, restart_decide_matrix);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
