/*
 * test_container.c - the core lifecycle API against the real kernel (root).
 *
 * Every test starts real containers from the busybox test rootfs with its
 * own state directory and cgroup names carrying the test's pid, captures
 * their stdout through a pipe, and checks what the container saw.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/container.h"
#include "supervisor/core/util.h"
#include "tests/testutil.h"

static container_manager *mgr;
static char *state_dir;
static const char *rootfs;
static pv_err err;

static void setup(void) {
  rootfs = testutil_busybox_rootfs();
  ck_assert_msg(rootfs != NULL, "cannot build the busybox rootfs");
  state_dir = testutil_tmpdir("pv-ctr-state");
  ck_assert_ptr_nonnull(state_dir);
  container_manager_options o = {.state_dir = state_dir};
  ck_assert_msg(container_manager_init(&mgr, &o, &err) == 0, "%s", pv_err_str(&err));
}

static void teardown(void) {
  container_manager_cleanup(mgr);
  mgr = NULL;
  testutil_rmtree(state_dir);
  free(state_dir);
}

static char idbuf[64];
static const char *uid_name(const char *name) {
  snprintf(idbuf, sizeof idbuf, "t%d-%s", (int)getpid(), name);
  return idbuf;
}

static void config(container_config *cfg, const char *name, char *const *argv) {
  container_config_init(cfg);
  cfg->id = uid_name(name);
  cfg->rootfs = rootfs;
  cfg->argv = argv;
}

static void read_all(int fd, char *out, size_t len) {
  size_t used = 0;
  for (;;) {
    ssize_t n = read(fd, out + used, len - 1 - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    used += (size_t)n;
    if (used == len - 1)
      break;
  }
  out[used] = '\0';
}

/* create + start + read stdout to EOF + wait + destroy. */
static void run_capture(container_config *cfg, char *out, size_t len, container_exit *ex) {
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  cfg->stdout_fd = p[1];
  container *c;
  ck_assert_msg(container_manager_create(mgr, cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(mgr, c, &err) == 0, "%s", pv_err_str(&err));
  close(p[1]);
  read_all(p[0], out, len);
  close(p[0]);
  ck_assert_msg(container_manager_wait(mgr, c, ex, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_destroy(mgr, c, &err) == 0, "%s", pv_err_str(&err));
}

static void sh(container_config *cfg, const char *name, const char *script, char *out, size_t len,
               container_exit *ex) {
  static char *argv[4];
  argv[0] = "sh";
  argv[1] = "-c";
  argv[2] = (char *)script;
  argv[3] = NULL;
  config(cfg, name, argv);
  run_capture(cfg, out, len, ex);
}

START_TEST(pid1_and_hostname) {
  container_config cfg;
  char out[4096];
  container_exit ex;
  static char *argv[] = {"sh", "-c", "echo pid=$$; hostname", NULL};
  config(&cfg, "pid1", argv);
  cfg.hostname = "box1";
  run_capture(&cfg, out, sizeof out, &ex);
  ck_assert_str_eq(out, "pid=1\nbox1\n");
  ck_assert_int_eq(ex.exit_code, 0);
  ck_assert(!ex.oom_killed);
}
END_TEST

START_TEST(host_files_invisible) {
  char marker[PATH_MAX];
  snprintf(marker, sizeof marker, "/tmp/pv-marker-%d", (int)getpid());
  int fd = open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ck_assert_int_ge(fd, 0);
  close(fd);
  char script[PATH_MAX + 128], out[4096];
  snprintf(script, sizeof script,
           "test -e %s && echo visible || echo hidden; awk '$5 == \"/\" {print $9}' /proc/self/mountinfo", marker);
  container_config cfg;
  container_exit ex;
  sh(&cfg, "hostfiles", script, out, sizeof out, &ex);
  unlink(marker);
  ck_assert_str_eq(out, "hidden\noverlay\n");
}
END_TEST

START_TEST(exit_code_and_signal) {
  container_config cfg;
  char out[64];
  container_exit ex;
  sh(&cfg, "exit3", "exit 3", out, sizeof out, &ex);
  ck_assert_int_eq(ex.exit_code, 3);
  ck_assert_int_eq(ex.signal, 0);
  /* The init of a pid namespace ignores SIGKILL from inside it; from the
   * host (container_manager_kill) it dies. */
  static char *argv[] = {"sleep", "100", NULL};
  config(&cfg, "killed", argv);
  container *c;
  ck_assert_msg(container_manager_create(mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(mgr, c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_gt(container_pidfd(c), 2);
  ck_assert_int_eq(container_manager_reap(mgr, c, &ex, &err), -1);
  ck_assert_int_eq(errno, EAGAIN);
  ck_assert_int_eq(container_manager_kill(mgr, c, SIGKILL, &err), 0);
  ck_assert_int_eq(container_manager_wait(mgr, c, &ex, &err), 0);
  ck_assert_int_eq(ex.signal, SIGKILL);
  ck_assert_int_eq(ex.exit_code, 137);
  ck_assert(!ex.oom_killed);
  ck_assert_int_eq(container_get_state(c), CONTAINER_STOPPED);
  ck_assert_int_eq(container_manager_destroy(mgr, c, &err), 0);
}
END_TEST

int main(void) {
  testutil_require_root("integration/test_container");
  Suite *s = suite_create("container");
  TCase *tc = tcase_create("lifecycle");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, pid1_and_hostname);
  tcase_add_test(tc, host_files_invisible);
  tcase_add_test(tc, exit_code_and_signal);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
