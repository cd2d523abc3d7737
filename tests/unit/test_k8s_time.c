/* Unit tests for supervisor/daemon/k8s_time: kubectl's AGE and "(5s ago)"
 * durations (apimachinery duration.HumanDuration), translateTimestampSince,
 * metav1.Time and the RFC 1123Z times of kubectl describe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "supervisor/daemon/k8s_time.h"
#include "tests/testutil.h"

#define MS 1000000LL
#define S (1000 * MS)
#define M (60 * S)
#define H (60 * M)
#define D (24 * H)
#define Y (365 * D)

/* Each branch of HumanDuration on both sides of its boundary. */
static const struct {
  int64_t d;
  const char *want;
} human_cases[] = {
    {-2 * S, "<invalid>"},     /* more than 1 s in the future: clock skew too large */
    {-2 * S + 1, "0s"},        /* int(d.Seconds()) truncates -1.999 s to -1 */
    {-1, "0s"},                /* truncates to 0 */
    {0, "0s"},                 /* */
    {S - MS, "0s"},            /* 0.999 s: seconds are truncated, not rounded */
    {S, "1s"},                 /* */
    {59 * S, "59s"},           /* */
    {90 * S, "90s"},           /* seconds up to 2 minutes */
    {2 * M - MS, "119s"},      /* */
    {2 * M, "2m"},             /* whole minutes below 10 m have no seconds */
    {2 * M + S, "2m1s"},       /* */
    {2 * M + 30 * S, "2m30s"}, /* */
    {10 * M - MS, "9m59s"},    /* */
    {10 * M, "10m"},           /* minutes only from 10 m */
    {10 * M + 59 * S, "10m"},  /* */
    {3 * H - MS, "179m"},      /* up to 3 h */
    {3 * H, "3h"},             /* */
    {3 * H + 45 * M, "3h45m"}, /* hours and minutes below 8 h */
    {8 * H - MS, "7h59m"},     /* */
    {8 * H, "8h"},             /* hours only from 8 h */
    {8 * H + 59 * M, "8h"},    /* */
    {2 * D - MS, "47h"},       /* up to 2 days */
    {2 * D, "2d"},             /* */
    {2 * D + H, "2d1h"},       /* days and hours below 8 days */
    {8 * D - MS, "7d23h"},     /* */
    {8 * D, "8d"},             /* days only from 8 days */
    {8 * D + 23 * H, "8d"},    /* */
    {2 * Y - MS, "729d"},      /* up to 2 years (of 365 days) */
    {2 * Y, "2y"},             /* */
    {2 * Y + D - MS, "2y"},    /* */
    {2 * Y + D, "2y1d"},       /* years and days below 8 years */
    {8 * Y - MS, "7y364d"},    /* */
    {8 * Y, "8y"},             /* years only from 8 years */
    {8 * Y + 364 * D, "8y"},   /* */
    {100 * Y + 5 * D, "100y"}, /* */
};

START_TEST(human_duration_branches) {
  for (size_t i = 0; i < sizeof human_cases / sizeof *human_cases; i++) {
    char out[K8S_TIME_HUMAN_MAX];
    k8s_time_human(human_cases[i].d, out);
    ck_assert_msg(strcmp(out, human_cases[i].want) == 0, "HumanDuration(%lld ns) = %s, want %s",
                  (long long)human_cases[i].d, out, human_cases[i].want);
  }
}
END_TEST

START_TEST(since_zero_time_is_unknown) {
  char out[K8S_TIME_HUMAN_MAX];
  k8s_time_since(0, 1700000000 * S, out);
  ck_assert_str_eq(out, "<unknown>"); /* translateTimestampSince of an unset time */
  k8s_time_since(1700000000 * S, 1700000000 * S + 150 * S, out);
  ck_assert_str_eq(out, "2m30s");
}
END_TEST

START_TEST(metav1_time_has_whole_seconds) {
  char buf[K8S_TIME_RFC3339_MAX];
  ck_assert_int_gt(k8s_time_format(1700000000 * S + 999 * MS, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "2023-11-14T22:13:20Z"); /* the fraction is dropped, never rounded up */
  ck_assert_int_gt(k8s_time_format(-S / 2, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "1969-12-31T23:59:59Z"); /* floor, before the epoch too */
  ck_assert_int_eq(k8s_time_format(0, buf, 10), -1);
}
END_TEST

START_TEST(rfc1123z_in_utc_and_local_time) {
  char buf[K8S_TIME_RFC1123_MAX];
  ck_assert_int_gt(k8s_time_rfc1123z(1700000000 * S, false, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "Tue, 14 Nov 2023 22:13:20 +0000");
  ck_assert_int_gt(k8s_time_rfc1123z(1704067200 * S + 5 * S, false, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "Mon, 01 Jan 2024 00:00:05 +0000"); /* two-digit day, zero padded */
  setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
  tzset();
  ck_assert_int_gt(k8s_time_rfc1123z(1700000000 * S, true, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "Tue, 14 Nov 2023 17:13:20 -0500");
  ck_assert_int_gt(k8s_time_rfc1123z(1690000000 * S, true, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "Sat, 22 Jul 2023 00:26:40 -0400"); /* the offset of that date (DST) */
  setenv("TZ", "IST-5:30", 1);
  tzset();
  ck_assert_int_gt(k8s_time_rfc1123z(1700000000 * S, true, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "Wed, 15 Nov 2023 03:43:20 +0530");
  unsetenv("TZ");
  tzset();
}
END_TEST

int main(void) {
  Suite *s = suite_create("k8s_time");
  TCase *tc = tcase_create("k8s_time");
  tcase_add_test(tc, human_duration_branches);
  tcase_add_test(tc, since_zero_time_is_unknown);
  tcase_add_test(tc, metav1_time_has_whole_seconds);
  tcase_add_test(tc, rfc1123z_in_utc_and_local_time);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
