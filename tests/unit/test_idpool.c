/* Unit tests for supervisor/core/idpool.c: first fit, exhaustion, release,
 * reload from the file, corrupt tables, the pool setting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/core/idpool.h"
#include "supervisor/core/util.h"
#include "tests/testutil.h"

static const idpool_config small = {.first = 65536, .count = 3};

static int parse(const char *text, idpool_table *t, pv_err *err) {
  return idpool_parse("ranges", text, strlen(text), t, err);
}

START_TEST(first_fit_fills_holes) {
  idpool_table t = {0};
  uint32_t b;
  ck_assert_int_eq(idpool_first_fit(&small, &t, &b, NULL), 0);
  ck_assert_uint_eq(b, 65536);
  ck_assert_int_eq(idpool_add(&t, "a", b), 0);
  ck_assert_int_eq(idpool_first_fit(&small, &t, &b, NULL), 0);
  ck_assert_uint_eq(b, 2 * 65536);
  ck_assert_int_eq(idpool_add(&t, "b", b), 0);
  ck_assert_int_eq(idpool_first_fit(&small, &t, &b, NULL), 0);
  ck_assert_uint_eq(b, 3 * 65536);
  ck_assert_int_eq(idpool_add(&t, "c", b), 0);
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(idpool_first_fit(&small, &t, &b, &err), -1);
  ck_assert_int_eq(err.code, ENOSPC);
  ck_assert_ptr_nonnull(strstr(err.msg, "all 3 id ranges"));
  /* Releasing the middle one makes the hole the first fit. */
  ck_assert_int_eq(idpool_remove(&t, "b"), 1);
  ck_assert_int_eq(idpool_remove(&t, "b"), 0);
  ck_assert_int_eq(idpool_first_fit(&small, &t, &b, NULL), 0);
  ck_assert_uint_eq(b, 2 * 65536);
  ck_assert_int_eq(idpool_add(&t, "d", b), 0);
  ck_assert_uint_eq(t.v[1].base, 2 * 65536); /* kept sorted */
  ck_assert_str_eq(t.v[1].owner, "d");
  idpool_table_free(&t);
}
END_TEST

START_TEST(format_and_parse_round_trip) {
  idpool_table t = {0}, u;
  ck_assert_int_eq(idpool_add(&t, "pod-2", 3 * 65536), 0);
  ck_assert_int_eq(idpool_add(&t, "pod-1", 65536), 0);
  char *s = idpool_format(&t);
  ck_assert_str_eq(s, "65536 pod-1\n196608 pod-2\n");
  ck_assert_int_eq(parse(s, &u, NULL), 0);
  ck_assert_uint_eq(u.n, 2);
  ck_assert_int_eq(idpool_find(&u, "pod-2"), 1);
  ck_assert_int_eq(idpool_find(&u, "nope"), -1);
  free(s);
  idpool_table_free(&t);
  idpool_table_free(&u);
  ck_assert_int_eq(parse("", &u, NULL), 0);
  ck_assert_uint_eq(u.n, 0);
}
END_TEST

START_TEST(corrupt_tables_are_refused) {
  static const char *const bad[] = {
      "65536 a",                 /* cut short: no newline */
      "65537 a\n",               /* not on a range boundary */
      "0 a\n",                   /* the host's own ids */
      "4294901760 a\n",          /* would reach (uid_t)-1 */
      "65536 a\n65536 b\n",      /* one range, two owners */
      "65536 a\n131072 a\n",     /* one owner, two ranges */
      "65536\n",                 /* no owner */
      "x a\n",                   /* no number */
      "-65536 a\n",              /* negative */
      "65536 a b\n",             /* trailing junk */
      "65536 a/../b\n",          /* not an owner */
      "\x01\x02garbage\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    idpool_table t;
    pv_err err;
    pv_err_clear(&err);
    ck_assert_msg(parse(bad[i], &t, &err) == -1, "accepted: %s", bad[i]);
    ck_assert_int_eq(err.code, EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "ranges: line"));
    ck_assert_uint_eq(t.n, 0);
  }
}
END_TEST

START_TEST(pool_setting) {
  idpool_config c;
  unsetenv(IDPOOL_ENV);
  ck_assert_int_eq(idpool_config_from_env(&c, NULL), 0);
  ck_assert_uint_eq(c.first, IDPOOL_DEFAULT_FIRST);
  ck_assert_uint_eq(c.count, IDPOOL_DEFAULT_COUNT);
  setenv(IDPOOL_ENV, "131072:2", 1);
  ck_assert_int_eq(idpool_config_from_env(&c, NULL), 0);
  ck_assert_uint_eq(c.first, 131072);
  ck_assert_uint_eq(c.count, 2);
  static const char *const bad[] = {"1000:2", "0:1", "65536:0", "65536", "65536:x", ":4", "65536:65536"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv(IDPOOL_ENV, bad[i], 1);
    ck_assert_msg(idpool_config_from_env(&c, NULL) == -1, "accepted %s", bad[i]);
  }
  setenv(IDPOOL_ENV, "65536:65534", 1); /* ends at 2^32 - 65536 - 1 */
  ck_assert_int_eq(idpool_config_from_env(&c, NULL), 0);
  unsetenv(IDPOOL_ENV);
}
END_TEST

/* The one parser of a pool, for the options and the environment alike, and
 * a launcher's setup: the option wins and is exported, else the
 * environment's value is checked. */
START_TEST(pool_option) {
  idpool_config c = {.first = 1, .count = 1};
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(idpool_config_parse("--userns-pool", "5:1", &c, &err), -1);
  ck_assert_int_eq(err.code, EINVAL);
  ck_assert_msg(strncmp(err.msg, "--userns-pool: ", 15) == 0, "%s", err.msg);
  ck_assert_uint_eq(c.first, 1); /* untouched */
  ck_assert_int_eq(idpool_config_parse("--userns-pool", "1:x", &c, &err), -1);
  ck_assert_msg(strstr(err.msg, "--userns-pool: '1:x' is not FIRST:COUNT") != NULL, "%s", err.msg);
  ck_assert_int_eq(idpool_config_parse("--userns-pool", "262144:7", &c, &err), 0);
  ck_assert_uint_eq(c.first, 262144);
  ck_assert_uint_eq(c.count, 7);

  setenv(IDPOOL_ENV, "131072:2", 1);
  ck_assert_int_eq(idpool_config_setup("--userns-pool", "00196608:3", &err), 0);
  ck_assert_str_eq(getenv(IDPOOL_ENV), "196608:3"); /* the option overrides, normalized */
  ck_assert_int_eq(idpool_config_setup("--userns-pool", NULL, &err), 0);
  ck_assert_str_eq(getenv(IDPOOL_ENV), "196608:3");
  ck_assert_int_eq(idpool_config_setup("--userns-pool", "5:1", &err), -1);
  ck_assert_str_eq(getenv(IDPOOL_ENV), "196608:3"); /* a bad option changes nothing */
  setenv(IDPOOL_ENV, "5:1", 1);
  ck_assert_int_eq(idpool_config_setup("--userns-pool", NULL, &err), -1);
  ck_assert_msg(strncmp(err.msg, IDPOOL_ENV ": ", strlen(IDPOOL_ENV) + 2) == 0, "%s", err.msg);
  unsetenv(IDPOOL_ENV);
  ck_assert_int_eq(idpool_config_setup("--userns-pool", NULL, &err), 0);
  ck_assert_ptr_null(getenv(IDPOOL_ENV));
}
END_TEST

START_TEST(acquire_release_reload) {
  char dir[] = "/tmp/pv-idpool-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char state[4096], table[4200];
  snprintf(state, sizeof state, "%s/userns", dir);
  snprintf(table, sizeof table, "%s/ranges", state);
  /* Releasing before anything exists is no error and creates nothing. */
  ck_assert_int_eq(idpool_release(state, "a", NULL), 0);
  ck_assert_int_ne(access(state, F_OK), 0);
  uint32_t a, b, again, c;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(idpool_acquire(state, &small, "a", &a, &err), 0);
  ck_assert_int_eq(idpool_acquire(state, &small, "b", &b, &err), 0);
  ck_assert_uint_ne(a, b);
  /* The same owner gets its range back (a shim started again). */
  ck_assert_int_eq(idpool_acquire(state, &small, "a", &again, &err), 0);
  ck_assert_uint_eq(again, a);
  char *text;
  size_t len;
  ck_assert_int_eq(pv_read_file(table, &text, &len, NULL), 0);
  ck_assert_str_eq(text, "65536 a\n131072 b\n");
  free(text);
  ck_assert_int_eq(idpool_acquire(state, &small, "c", &c, &err), 0);
  ck_assert_int_eq(idpool_acquire(state, &small, "d", &c, &err), -1);
  ck_assert_int_eq(err.code, ENOSPC);
  ck_assert_int_eq(idpool_release(state, "a", &err), 0);
  ck_assert_int_eq(idpool_acquire(state, &small, "d", &c, &err), 0);
  ck_assert_uint_eq(c, a); /* a's range, free again */
  /* A corrupt table stops allocation with a message naming the file. */
  ck_assert_int_eq(pv_write_file_atomic(table, "65536 d\nbroken\n", 15, 0600, NULL), 0);
  pv_err_clear(&err);
  ck_assert_int_eq(idpool_acquire(state, &small, "e", &c, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, table));
  ck_assert_int_eq(idpool_release(state, "d", NULL), -1);
  ck_assert_int_eq(idpool_acquire(state, &small, "../x", &c, &err), -1);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("idpool");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, first_fit_fills_holes);
  tcase_add_test(tc, format_and_parse_round_trip);
  tcase_add_test(tc, corrupt_tables_are_refused);
  tcase_add_test(tc, pool_setting);
  tcase_add_test(tc, pool_option);
  tcase_add_test(tc, acquire_release_reload);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
