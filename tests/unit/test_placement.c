/* Unit tests for supervisor/shim/placement.c: the mapping of a container's
 * resources (requests.cpu, limits.cpu, limits.memory) to the core limits,
 * at the kernel's floors.  Runs as any user. */
#include <inttypes.h>

#include "supervisor/shim/placement.h"
#include "tests/testutil.h"

/* requests.cpu → cpu.shares (millicores*1024/1000, at least 2, as the
 * kubelet computes it: the kernel refuses fewer than 2 shares). */
START_TEST(cpu_request_to_shares) {
  static const struct {
    int64_t milli;
    uint64_t shares;
  } cases[] = {
      {1, 2}, {2, 2}, {3, 3}, {100, 102}, {250, 256}, {1000, 1024}, {4000, 4096},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    spec_resources r = {.cpu_request_milli = cases[i].milli};
    resource_limits l;
    placement_limits(&l, &r);
    ck_assert_msg(l.cpu_shares == cases[i].shares,
                  "requests.cpu %" PRId64 "m: %" PRIu64 " shares, want %" PRIu64, cases[i].milli,
                  l.cpu_shares, cases[i].shares);
    ck_assert_int_eq(l.cpu_quota_us, 0); /* no limit: no quota */
  }
  spec_resources none = {0};
  resource_limits l;
  placement_limits(&l, &none);
  ck_assert_uint_eq(l.cpu_shares, 0); /* no request: the kernel default */
}
END_TEST

/* limits.cpu → a CFS quota over 100 ms (millicores*100 us), at least the
 * kernel's 1 ms. */
START_TEST(cpu_limit_to_quota) {
  static const struct {
    int64_t milli;
    int64_t quota;
  } cases[] = {
      {1, 1000}, {9, 1000}, {10, 1000}, {11, 1100}, {500, 50000}, {1000, 100000}, {2500, 250000},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    spec_resources r = {.cpu_limit_milli = cases[i].milli};
    resource_limits l;
    placement_limits(&l, &r);
    ck_assert_msg(l.cpu_quota_us == cases[i].quota,
                  "limits.cpu %" PRId64 "m: quota %" PRId64 "us, want %" PRId64, cases[i].milli,
                  l.cpu_quota_us, cases[i].quota);
    ck_assert_uint_eq(l.cpu_period_us, 100000);
  }
}
END_TEST

/* limits.memory → memory and memory+swap alike (no swap); pids capped. */
START_TEST(memory_and_pids) {
  spec_resources r = {.memory_limit = 64 << 20, .memory_request = 32 << 20};
  resource_limits l;
  placement_limits(&l, &r);
  ck_assert_int_eq(l.memory_limit, 64 << 20);
  ck_assert_int_eq(l.memory_swap, 64 << 20);
  ck_assert_int_eq(l.pids_limit, PLACEMENT_PIDS_LIMIT);
  spec_resources none = {0};
  placement_limits(&l, &none);
  ck_assert_int_eq(l.memory_limit, 0);
  ck_assert_int_eq(l.memory_swap, 0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("placement");
  TCase *tc = tcase_create("limits");
  tcase_add_test(tc, cpu_request_to_shares);
  tcase_add_test(tc, cpu_limit_to_quota);
  tcase_add_test(tc, memory_and_pids);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
