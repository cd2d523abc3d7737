/*
 * test_container_limits.c - cgroup limits seen through the core API (root):
 * OOM kill reported as such, a fork bomb held by the pids limit, the CPU
 * quota written and visible inside, non-zero stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/core/container.h"
#include "supervisor/core/util.h"
#include "tests/testutil.h"

static container_manager *mgr;
static char *state_dir;
static const char *rootfs;
static pv_err err;
static char idbuf[64];

static void setup(void) {
  rootfs = testutil_busybox_rootfs();
  ck_assert_msg(rootfs != NULL, "cannot build the busybox rootfs");
  state_dir = testutil_tmpdir("pv-ctrlim-state");
  ck_assert_ptr_nonnull(state_dir);
  container_manager_options o = {.state_dir = state_dir};
  ck_assert_msg(container_manager_init(&mgr, &o, &err) == 0, "%s", pv_err_str(&err));
}

static void teardown(void) {
  container_manager_cleanup(mgr);
  testutil_rmtree(state_dir);
  free(state_dir);
}

static void config(container_config *cfg, const char *name, char *const *argv) {
  container_config_init(cfg);
  snprintf(idbuf, sizeof idbuf, "t%d-%s", (int)getpid(), name);
  cfg->id = idbuf;
  cfg->rootfs = rootfs;
  cfg->argv = argv;
}

static void read_all(int fd, char *out, size_t len) {
  size_t used = 0;
  ssize_t n;
  while (used < len - 1 && ((n = read(fd, out + used, len - 1 - used)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0)
      used += (size_t)n;
  out[used] = '\0';
}

static container *start_capture(container_config *cfg, int *rd) {
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  cfg->stdout_fd = p[1];
  container *c;
  ck_assert_msg(container_manager_create(mgr, cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(mgr, c, &err) == 0, "%s", pv_err_str(&err));
  close(p[1]);
  *rd = p[0];
  return c;
}

static char *read_cgroup_file(const char *hier, const char *relpath, const char *file) {
  char path[PATH_MAX], *buf = NULL;
  snprintf(path, sizeof path, "/sys/fs/cgroup/%s/%s/%s", hier, relpath, file);
  if (pv_read_file(path, &buf, NULL, NULL) < 0)
    return NULL;
  return buf;
}

START_TEST(memory_hog_is_oom_killed) {
  container_config cfg;
  /* tail keeps the "last line" of /dev/zero, which never ends. */
  static char *argv[] = {"tail", "/dev/zero", NULL};
  config(&cfg, "oom", argv);
  cfg.limits.memory_limit = 32 << 20;
  cfg.limits.memory_swap = 32 << 20;
  container_exit ex;
  ck_assert_msg(container_manager_run(mgr, &cfg, &ex, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(ex.signal, SIGKILL);
  ck_assert_int_eq(ex.exit_code, 137);
  ck_assert(ex.oom_killed);
}
END_TEST

START_TEST(fork_bomb_is_contained) {
  container_config cfg;
  /* An inner shell tries to start 200 sleepers and dies when fork fails at
   * pids.max; the report then uses shell builtins only. */
  static char *argv[] = {"sh", "-c",
                         "sh -c 'n=0; while [ $n -lt 200 ]; do sleep 30 & n=$((n+1)); done' 2>/dev/null; "
                         "read cur </sys/fs/cgroup/pids/pids.current; read max </sys/fs/cgroup/pids/pids.max; "
                         "echo $cur $max", NULL};
  config(&cfg, "forkbomb", argv);
  cfg.limits.pids_limit = 16;
  int rd;
  container *c = start_capture(&cfg, &rd);
  char out[256];
  read_all(rd, out, sizeof out);
  close(rd);
  int current = -1;
  char max[32] = "";
  ck_assert_msg(sscanf(out, "%d %31s", &current, max) == 2, "output: %s", out);
  ck_assert_int_le(current, 16);
  ck_assert_int_ge(current, 8);
  ck_assert_str_eq(max, "16");
  resource_stats st;
  ck_assert_int_eq(container_manager_get_stats(mgr, c, &st, &err), 0);
  ck_assert_uint_le(st.pids_current, 16);
  ck_assert_msg(container_manager_destroy(mgr, c, &err) == 0, "%s", pv_err_str(&err));
  /* The host is fine: we can still fork. */
  pid_t p = fork();
  if (p == 0)
    _exit(0);
  ck_assert_int_gt(p, 0);
}
END_TEST

START_TEST(cpu_quota_written_and_stats) {
  container_config cfg;
  static char *argv[] = {"sh", "-c",
                         "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us "
                         "/sys/fs/cgroup/cpu/cpu.shares; i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; "
                         "exec sleep 30", NULL};
  config(&cfg, "cpuquota", argv);
  cfg.limits.cpu_quota_us = 50000;
  cfg.limits.cpu_period_us = 100000;
  cfg.limits.cpu_shares = 512;
  cfg.limits.memory_limit = 64 << 20;
  int rd;
  container *c = start_capture(&cfg, &rd);
  char out[256];
  read_all(rd, out, sizeof out);
  close(rd);
  ck_assert_str_eq(out, "50000\n100000\n512\n");
  container_info info;
  container_manager_get_info(mgr, c, &info);
  char *q = read_cgroup_file("cpu", info.cgroup_path, "cpu.cfs_quota_us");
  ck_assert_ptr_nonnull(q);
  ck_assert_str_eq(q, "50000\n");
  free(q);
  q = read_cgroup_file("memory", info.cgroup_path, "memory.limit_in_bytes");
  ck_assert_ptr_nonnull(q);
  ck_assert_str_eq(q, "67108864\n");
  free(q);
  resource_stats st;
  ck_assert_msg(container_manager_get_stats(mgr, c, &st, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_uint_gt(st.cpu_usage_ns, 0);
  ck_assert_uint_gt(st.memory_bytes, 0);
  ck_assert_uint_ge(st.pids_current, 1);
  ck_assert_uint_eq(st.oom_kills, 0);
  container_exit ex;
  ck_assert_int_eq(container_manager_stop(mgr, c, 100, &ex, &err), 0);
  ck_assert(!ex.oom_killed);
  ck_assert_int_eq(container_manager_destroy(mgr, c, &err), 0);
}
END_TEST

int main(void) {
  testutil_require_root("integration/test_container_limits");
  Suite *s = suite_create("container_limits");
  TCase *tc = tcase_create("limits");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, memory_hog_is_oom_killed);
  tcase_add_test(tc, fork_bomb_is_contained);
  tcase_add_test(tc, cpu_quota_written_and_stats);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
