/* Unit tests for supervisor/shim/seccache.c: one compile per (profile,
 * capability set), hits return the same program, an edited Localhost file
 * is compiled again, a bad file is not cached. */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/caps.h"
#include "supervisor/shim/seccache.h"
#include "tests/testutil.h"

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static double ms_since(const struct timespec *a) {
  struct timespec b;
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

START_TEST(one_compile_per_profile_and_caps) {
  seccache sc = {0};
  pv_err err;
  pv_err_clear(&err);
  const struct sock_fprog *a, *b, *c;
  uint64_t caps = caps_default_set();
  ck_assert_msg(seccache_get(&sc, NULL, caps, &a, &err) == 0, "%s", pv_err_str(&err));
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < 1000; i++)
    ck_assert_int_eq(seccache_get(&sc, NULL, caps, &b, &err), 0);
  double hit_ms = ms_since(&t0) / 1000;
  fprintf(stderr, "seccache hit: %.4f ms\n", hit_ms);
  ck_assert(hit_ms < 0.1); /* no compile on the start path */
  ck_assert_ptr_eq(a, b);
  ck_assert_uint_eq(sc.compiles, 1);
  /* Another capability set is another program. */
  ck_assert_int_eq(seccache_get(&sc, NULL, caps | (1ULL << CAP_SYS_ADMIN), &c, &err), 0);
  ck_assert_ptr_ne(a, c);
  ck_assert_uint_eq(sc.compiles, 2);
  ck_assert_uint_eq(sc.n, 2);
  seccache_free(&sc);
  ck_assert_uint_eq(sc.n, 0);
  seccache_free(&sc);
  seccache_free(NULL);
}
END_TEST

START_TEST(files_by_path_and_version) {
  char *dir = testutil_tmpdir("seccache");
  char p1[4096], p2[4096];
  snprintf(p1, sizeof p1, "%s/a.json", dir);
  snprintf(p2, sizeof p2, "%s/b.json", dir);
  write_file(p1, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
  write_file(p2,
             "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": "
             "\"SCMP_ACT_ERRNO\"}]}");
  seccache sc = {0};
  pv_err err;
  pv_err_clear(&err);
  const struct sock_fprog *a, *a2, *b, *d;
  ck_assert_msg(seccache_get(&sc, p1, 0, &a, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(seccache_get(&sc, p1, 0, &a2, &err), 0);
  ck_assert_ptr_eq(a, a2);
  ck_assert_int_eq(seccache_get(&sc, p2, 0, &b, &err), 0);
  ck_assert_ptr_ne(a, b);
  ck_assert_int_eq(seccache_get(&sc, NULL, 0, &d, &err), 0); /* RuntimeDefault is not a file */
  ck_assert_uint_eq(sc.compiles, 3);
  /* An edit (another size and mtime) is a new version; the old program
   * stays valid for the containers that use it. */
  unsigned short old_len = a->len;
  write_file(p1,
             "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"rmdir\"], \"action\": "
             "\"SCMP_ACT_ERRNO\"}]}");
  ck_assert_int_eq(seccache_get(&sc, p1, 0, &a2, &err), 0);
  ck_assert_ptr_ne(a, a2);
  ck_assert_uint_eq(a->len, old_len);
  ck_assert_uint_eq(sc.compiles, 4);
  /* A broken file fails with its name and leaves nothing cached. */
  write_file(p2,
             "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdri\"], \"action\": "
             "\"SCMP_ACT_ERRNO\"}]}");
  ck_assert_int_lt(seccache_get(&sc, p2, 0, &b, &err), 0);
  ck_assert_ptr_nonnull(strstr(pv_err_str(&err), "b.json: syscalls[0]: unknown system call 'mkdri'"));
  ck_assert_uint_eq(sc.n, 4);
  unlink(p2);
  ck_assert_int_lt(seccache_get(&sc, p2, 0, &b, &err), 0);
  ck_assert_int_eq(err.code, ENOENT);
  seccache_free(&sc);
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("seccache");
  TCase *tc = tcase_create("cache");
  tcase_add_test(tc, one_compile_per_profile_and_caps);
  tcase_add_test(tc, files_by_path_and_version);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
