/* Unit tests for supervisor/core/util.c and error.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/error.h"
#include "supervisor/core/util.h"
#include "tests/testutil.h"

START_TEST(size_units) {
  static const struct { const char *in; int64_t want; } ok[] = {
      {"0", 0}, {"100", 100}, {"100b", 100}, {"1k", 1024}, {"64m", 64 << 20}, {"64M", 64 << 20},
      {"64MiB", 64 << 20}, {"1g", 1LL << 30}, {"1GB", 1LL << 30}, {"1.5g", 3LL << 29}, {"2t", 2LL << 40},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    int64_t v = -1;
    pv_err err;
    ck_assert_msg(pv_parse_size(ok[i].in, &v, &err) == 0, "%s: %s", ok[i].in, err.msg);
    ck_assert_int_eq(v, ok[i].want);
  }
  static const char *bad[] = {"", "m", "-1m", "12q", "1mx", "1e30g", " 1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t v;
    pv_err err;
    ck_assert_msg(pv_parse_size(bad[i], &v, &err) == -1, "accepted '%s'", bad[i]);
    ck_assert_int_eq(errno, err.code);
    ck_assert_ptr_nonnull(strstr(err.msg, "invalid size"));
  }
}
END_TEST

START_TEST(err_wrap_keeps_code) {
  pv_err err;
  pv_err_set(&err, ENOENT, "image %s not found", "busybox");
  errno = 0;
  ck_assert_int_eq(pv_err_wrap(&err, "container %s", "web"), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_str_eq(err.msg, "container web: image busybox not found");
  ck_assert_int_eq(pv_err_set(NULL, EPERM, "x"), -1);
  ck_assert_int_eq(errno, EPERM);
}
END_TEST

START_TEST(atomic_write_and_rm_rf) {
  char *dir = testutil_tmpdir("pv-util");
  ck_assert_ptr_nonnull(dir);
  char path[512], sub[512];
  snprintf(path, sizeof path, "%s/a/b/c", dir);
  ck_assert_int_eq(pv_mkdir_p(path, 0755, NULL), 0);
  snprintf(path, sizeof path, "%s/a/state.json", dir);
  ck_assert_int_eq(pv_write_file_atomic(path, "{\"x\":1}", 7, 0600, NULL), 0);
  ck_assert_int_eq(pv_write_file_atomic(path, "{}", 2, 0600, NULL), 0);
  char *data = NULL;
  size_t len = 0;
  ck_assert_int_eq(pv_read_file(path, &data, &len, NULL), 0);
  ck_assert_str_eq(data, "{}");
  free(data);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  /* No temp file is left beside the target. */
  snprintf(sub, sizeof sub, "%s/a/state.json.tmp.%d", dir, (int)getpid());
  ck_assert_int_eq(access(sub, F_OK), -1);
  snprintf(sub, sizeof sub, "%s/a/b/link", dir);
  ck_assert_int_eq(symlink("/etc", sub), 0);
  ck_assert_int_eq(pv_rm_rf(dir, NULL), 0);
  ck_assert_int_eq(access(dir, F_OK), -1);
  ck_assert_int_eq(access("/etc/passwd", F_OK), 0); /* the symlink was not followed */
  pv_err err;
  ck_assert_int_eq(pv_read_file("/nonexistent/x", &data, NULL, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/x"));
  free(dir);
}
END_TEST

/* Only decimal digits with an optional fraction, as podman reads sizes. */
START_TEST(size_rejects_other_number_forms) {
  const char *bad[] = {"0x10", "0x10m", "1e3", "1e3k", "infinity", "nan", "1.5.5m"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t v = -7;
    pv_err err = {0};
    ck_assert_msg(pv_parse_size(bad[i], &v, &err) == -1, "'%s' was accepted as %lld", bad[i], (long long)v);
    ck_assert_ptr_nonnull(strstr(err.msg, bad[i]));
  }
  int64_t v = 0;
  ck_assert_int_eq(pv_parse_size("1.5k", &v, NULL), 0);
  ck_assert_int_eq(v, 1536);
  ck_assert_int_eq(pv_parse_size("010m", &v, NULL), 0);
  ck_assert_int_eq(v, 10 << 20);
}
END_TEST

/* libuv makes a polled pidfd non-blocking; a blocking reap must still wait
 * for the child (a plain waitid() fails with EAGAIN while it runs). */
START_TEST(pidfd_reap_waits_on_a_nonblocking_pidfd) {
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    usleep(100 * 1000);
    _exit(7);
  }
  int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
  ck_assert_int_ge(pidfd, 0);
  ck_assert_int_eq(fcntl(pidfd, F_SETFL, fcntl(pidfd, F_GETFL) | O_NONBLOCK), 0);
  siginfo_t si;
  ck_assert_int_eq(pv_pidfd_try_reap(pidfd, &si), 0); /* still running */
  ck_assert_int_eq(pv_pidfd_reap(pidfd, &si), 0);
  ck_assert_int_eq(si.si_pid, child);
  ck_assert_int_eq(si.si_code, CLD_EXITED);
  ck_assert_int_eq(si.si_status, 7);
  close(pidfd);
}
END_TEST

START_TEST(rfc3339_times) {
  char buf[64];
  ck_assert_int_eq(pv_format_rfc3339(1700000000LL * 1000000000 + 123456789, false, buf, sizeof buf), 30);
  ck_assert_str_eq(buf, "2023-11-14T22:13:20.123456789Z");
  ck_assert_int_eq(pv_format_rfc3339(1700000000LL * 1000000000, false, buf, sizeof buf), 20);
  ck_assert_str_eq(buf, "2023-11-14T22:13:20Z");
  ck_assert_int_eq(pv_format_rfc3339(1700000000LL * 1000000000, true, buf, sizeof buf), 30);
  ck_assert_str_eq(buf, "2023-11-14T22:13:20.000000000Z");
  /* Before the epoch the fraction still counts forward from the second. */
  ck_assert_int_eq(pv_format_rfc3339(-1, false, buf, sizeof buf), 30);
  ck_assert_str_eq(buf, "1969-12-31T23:59:59.999999999Z");
  ck_assert_int_eq(pv_format_rfc3339(0, true, buf, 30), -1); /* no room for the NUL */
}
END_TEST

int main(void) {
  Suite *s = suite_create("util");
  TCase *tc = tcase_create("util");
  tcase_add_test(tc, size_units);
  tcase_add_test(tc, size_rejects_other_number_forms);
  tcase_add_test(tc, err_wrap_keeps_code);
  tcase_add_test(tc, atomic_write_and_rm_rf);
  tcase_add_test(tc, rfc3339_times);
  tcase_add_test(tc, pidfd_reap_waits_on_a_nonblocking_pidfd);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
