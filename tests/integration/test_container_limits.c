/*
 * test_container_limits.c - cgroup limits seen through the core API (root):
 * OOM kill reported as such, a fork bomb held by the pids limit, the CPU
 * quota written and visible inside, non-zero stats.  On either cgroup
 * layout: a container sees its own cgroup at /sys/fs/cgroup on v2, and one
 * directory per hierarchy on v1.  On v2 only: a process exec'd into a
 * container is born in its cgroup (CLONE_INTO_CGROUP), so the pids limit
 * holds for it too (v1 migrates it in, which no limit refuses).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/container.h"
#include "supervisor/core/util.h"
#include "tests/integration/ctrtest.h"

static pv_err err;

#define CGROUP2_SUPER_MAGIC 0x63677270

static bool host_is_v2(void) {
  struct statfs sf;
  return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* hier is the v1 hierarchy; on v2 the unified directory is used. */
static char *read_cgroup_file(const char *hier, const char *relpath, const char *file) {
  char path[PATH_MAX], *buf = NULL;
  if (host_is_v2())
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s/%s", relpath, file);
  else
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s/%s/%s", hier, relpath, file);
  if (pv_read_file(path, &buf, NULL, NULL) < 0)
    return NULL;
  return buf;
}

START_TEST(memory_hog_is_oom_killed) {
  container_config cfg;
  /* tail keeps the "last line" of /dev/zero, which never ends. */
  static char *argv[] = {"tail", "/dev/zero", NULL};
  ctrtest_config(&cfg, "oom", argv);
  cfg.limits.memory_limit = 32 << 20;
  cfg.limits.memory_swap = 32 << 20;
  container_exit ex;
  ck_assert_msg(container_manager_run(ctrtest_mgr, &cfg, &ex, &err) == 0, "%s", pv_err_str(&err));
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
                         "sh -c 'n=0; while [ $n -lt 200 ]; do sleep 30 >/dev/null & n=$((n+1)); done' 2>/dev/null; "
                         "d=/sys/fs/cgroup/pids; [ -d $d ] || d=/sys/fs/cgroup; "
                         "read cur <$d/pids.current; read max <$d/pids.max; echo $cur $max", NULL};
  ctrtest_config(&cfg, "forkbomb", argv);
  cfg.limits.pids_limit = 16;
  char out[256];
  container *c = ctrtest_start_read(&cfg, out, sizeof out);
  int current = -1;
  char max[32] = "";
  ck_assert_msg(sscanf(out, "%d %31s", &current, max) == 2, "output: %s", out);
  ck_assert_int_le(current, 16);
  ck_assert_int_ge(current, 8);
  ck_assert_str_eq(max, "16");
  resource_stats st;
  ck_assert_int_eq(container_manager_get_stats(ctrtest_mgr, c, &st, &err), 0);
  ck_assert_uint_le(st.pids_current, 16);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
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
                         "if [ -f /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight; "
                         "else cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us "
                         "/sys/fs/cgroup/cpu/cpu.shares; fi; i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; "
                         "exec sleep 30 >/dev/null", NULL};
  bool v2 = host_is_v2();
  ctrtest_config(&cfg, "cpuquota", argv);
  cfg.limits.cpu_quota_us = 50000;
  cfg.limits.cpu_period_us = 100000;
  cfg.limits.cpu_shares = 512;
  cfg.limits.memory_limit = 64 << 20;
  char out[256];
  container *c = ctrtest_start_read(&cfg, out, sizeof out);
  /* v2: cpu.weight = 1 + ((512 - 2) * 9999) / 262142 = 20. */
  ck_assert_str_eq(out, v2 ? "50000 100000\n20\n" : "50000\n100000\n512\n");
  container_info info;
  container_manager_get_info(ctrtest_mgr, c, &info);
  char *q = read_cgroup_file("cpu", info.cgroup_path, v2 ? "cpu.max" : "cpu.cfs_quota_us");
  ck_assert_ptr_nonnull(q);
  ck_assert_str_eq(q, v2 ? "50000 100000\n" : "50000\n");
  free(q);
  q = read_cgroup_file("memory", info.cgroup_path, v2 ? "memory.max" : "memory.limit_in_bytes");
  ck_assert_ptr_nonnull(q);
  ck_assert_str_eq(q, "67108864\n");
  free(q);
  resource_stats st;
  ck_assert_msg(container_manager_get_stats(ctrtest_mgr, c, &st, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_uint_gt(st.cpu_usage_ns, 0);
  ck_assert_uint_gt(st.memory_bytes, 0);
  ck_assert_uint_ge(st.pids_current, 1);
  ck_assert_uint_eq(st.oom_kills, 0);
  container_exit ex;
  ck_assert_int_eq(container_manager_stop(ctrtest_mgr, c, 100, &ex, &err), 0);
  ck_assert(!ex.oom_killed);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
}
END_TEST

/* With the container at pids.max, an exec's clone is refused (EAGAIN) as a
 * fork inside would be; below it, the exec'd process reports its own
 * cgroup as the container's root from its first instruction on. */
START_TEST(exec_is_born_in_the_cgroup) {
  container_config cfg;
  static char *argv[] = {"sleep", "30", NULL};
  ctrtest_config(&cfg, "execborn", argv);
  cfg.limits.pids_limit = 2;
  container *c = ctrtest_start(&cfg, NULL);
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  static char *xargv[] = {"sh", "-c", "read l </proc/self/cgroup; echo $l; exec sleep 30", NULL};
  container_exec_config x = {.argv = xargv, .stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = -1};
  pid_t pid;
  int pidfd;
  ck_assert_msg(container_manager_exec(ctrtest_mgr, c, &x, &pid, &pidfd, &err) == 0, "%s", pv_err_str(&err));
  close(p[1]);
  char out[256] = "";
  ssize_t n = read(p[0], out, sizeof out - 1);
  close(p[0]);
  ck_assert_int_gt(n, 0);
  out[n] = '\0';
  ck_assert_str_eq(out, "0::/\n");
  /* sleep + the exec'd sleep: at the limit of 2 now. */
  static char *third[] = {"true", NULL};
  container_exec_config y = {.argv = third, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  pid_t pid2;
  int pidfd2;
  ck_assert_int_eq(container_manager_exec(ctrtest_mgr, c, &y, &pid2, &pidfd2, &err), -1);
  ck_assert_int_eq(err.code, EAGAIN);
  ck_assert_msg(strstr(err.msg, "clone3") != NULL, "%s", err.msg);
  pv_pidfd_signal(pidfd, SIGKILL);
  siginfo_t si;
  ck_assert_int_eq(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
  close(pidfd);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
}
END_TEST

int main(void) {
  TCase *tc;
  Suite *s = ctrtest_suite("container_limits", "limits", &tc);
  tcase_add_test(tc, memory_hog_is_oom_killed);
  tcase_add_test(tc, fork_bomb_is_contained);
  tcase_add_test(tc, cpu_quota_written_and_stats);
  if (host_is_v2())
    tcase_add_test(tc, exec_is_born_in_the_cgroup);
  else
    printf("container_limits: exec_is_born_in_the_cgroup not run: cgroup v1 has no CLONE_INTO_CGROUP\n");
  return testutil_run(s);
}
