/* Unit tests for supervisor/daemon/debounce.c: one scan per burst of directory events. */
#include <stdint.h>

#include "supervisor/daemon/debounce.h"
#include "tests/testutil.h"

/* Feeds events at the given times, then asks at every millisecond until
 * last + 2 s when a scan is due; returns the number of scans and the time
 * of the first one in *first. */
static int run(debounce *d, const uint64_t *events, size_t n, uint64_t *first) {
  int scans = 0;
  size_t k = 0;
  uint64_t end = (n ? events[n - 1] : 0) + 2000;
  *first = 0;
  for (uint64_t t = 0; t <= end; t++) {
    while (k < n && events[k] == t)
      debounce_event(d, events[k++]);
    if (debounce_fire(d, t) && scans++ == 0)
      *first = t;
  }
  return scans;
}

START_TEST(idle_has_nothing_due) {
  debounce d;
  debounce_init(&d, 100, 1000);
  ck_assert_int_eq(debounce_wait_ms(&d, 0), -1);
  ck_assert(!debounce_fire(&d, 0));
  ck_assert(!debounce_fire(&d, 1000000));
}
END_TEST

START_TEST(one_event_fires_after_quiet) {
  debounce d;
  debounce_init(&d, 100, 1000);
  debounce_event(&d, 5000);
  ck_assert_int_eq(debounce_wait_ms(&d, 5000), 100);
  ck_assert_int_eq(debounce_wait_ms(&d, 5060), 40);
  ck_assert(!debounce_fire(&d, 5099));
  ck_assert(debounce_fire(&d, 5100));
  ck_assert(!debounce_fire(&d, 5101)); /* the burst is over */
  ck_assert_int_eq(debounce_wait_ms(&d, 5101), -1);
}
END_TEST

/* vim's save: .swp written, 4913 created and removed, the file renamed
 * over the old one, a chmod: all within a few milliseconds. */
START_TEST(editor_rename_is_one_scan) {
  debounce d;
  debounce_init(&d, DEBOUNCE_QUIET_MS, DEBOUNCE_MAX_MS);
  const uint64_t ev[] = {10, 11, 11, 12, 14, 15, 15};
  uint64_t first;
  ck_assert_int_eq(run(&d, ev, sizeof ev / sizeof ev[0], &first), 1);
  ck_assert_int_eq(first, 115);
  ck_assert_uint_eq(d.events, 7);
}
END_TEST

/* cp of 200 files, one every 3 ms: gaps shorter than the quiet window. */
START_TEST(copy_of_many_files_is_one_scan) {
  debounce d;
  debounce_init(&d, 100, 1000);
  uint64_t ev[200];
  for (size_t i = 0; i < 200; i++)
    ev[i] = 50 + 3 * i;
  uint64_t first;
  ck_assert_int_eq(run(&d, ev, 200, &first), 1);
  ck_assert_int_eq(first, ev[199] + 100);
}
END_TEST

/* A directory that never stops changing is still scanned every max_ms. */
START_TEST(endless_stream_is_capped) {
  debounce d;
  debounce_init(&d, 100, 1000);
  uint64_t ev[300];
  for (size_t i = 0; i < 300; i++)
    ev[i] = 10 * i; /* 0 .. 2990 */
  uint64_t first;
  int scans = run(&d, ev, 300, &first);
  ck_assert_int_eq(first, 1000);
  ck_assert_int_eq(scans, 3); /* at 1000, 2010 (first event 1010) and 3020 (first event 2020) */
}
END_TEST

START_TEST(two_bursts_two_scans) {
  debounce d;
  debounce_init(&d, 100, 1000);
  const uint64_t ev[] = {0, 20, 40, 500, 520};
  uint64_t first;
  ck_assert_int_eq(run(&d, ev, 5, &first), 2);
  ck_assert_int_eq(first, 140);
}
END_TEST

START_TEST(event_during_scan_makes_next_scan) {
  debounce d;
  debounce_init(&d, 100, 1000);
  debounce_event(&d, 0);
  ck_assert(debounce_fire(&d, 100));
  debounce_event(&d, 101); /* while the scan runs */
  ck_assert_int_eq(debounce_wait_ms(&d, 101), 100);
  ck_assert(debounce_fire(&d, 201));
}
END_TEST

START_TEST(clock_going_back_never_delays) {
  debounce d;
  debounce_init(&d, 100, 1000);
  debounce_event(&d, 1000);
  debounce_event(&d, 900); /* an earlier time than seen: taken as 1000 */
  ck_assert_int_eq(debounce_wait_ms(&d, 1000), 100);
  ck_assert(debounce_fire(&d, 1100));
}
END_TEST

START_TEST(init_bounds) {
  debounce d;
  debounce_init(&d, 300, 100); /* max below quiet: raised */
  ck_assert_uint_eq(d.max_ms, 300);
  debounce_event(&d, 0);
  ck_assert(!debounce_fire(&d, 299));
  ck_assert(debounce_fire(&d, 300));
  debounce_init(&d, 0, 0); /* no window: due at once */
  debounce_event(&d, 7);
  ck_assert_int_eq(debounce_wait_ms(&d, 7), 0);
  ck_assert(debounce_fire(&d, 7));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("debounce");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, idle_has_nothing_due);
  tcase_add_test(tc, one_event_fires_after_quiet);
  tcase_add_test(tc, editor_rename_is_one_scan);
  tcase_add_test(tc, copy_of_many_files_is_one_scan);
  tcase_add_test(tc, endless_stream_is_capped);
  tcase_add_test(tc, two_bursts_two_scans);
  tcase_add_test(tc, event_during_scan_makes_next_scan);
  tcase_add_test(tc, clock_going_back_never_delays);
  tcase_add_test(tc, init_bounds);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
