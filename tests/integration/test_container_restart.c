/*
 * test_container_restart.c - a stopped container started again through the
 * core API (root): the same container (id, cgroup with its limits, upper
 * layer and volumes) runs a new init, with fresh stdio when the caller
 * gives it, a cleared exit record, no OOM kill carried over from the
 * previous run, and a refusal while survivors of that run remain.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/container.h"
#include "supervisor/core/namespace.h"
#include "supervisor/core/util.h"
#include "tests/integration/ctrtest.h"

static pv_err err;

/* Gives c a new stdout pipe, starts it and reads its stdout to EOF. */
static void start_read(container *c, char *out, size_t len) {
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  ck_assert_msg(container_manager_set_stdio(ctrtest_mgr, c, -1, p[1], -1, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  close(p[1]);
  ctrtest_read_all(p[0], out, len);
  close(p[0]);
}

/* Each run counts itself in a file of its root, prints the count and its
 * cgroup's memory limit, then runs until stopped; the second run sees the
 * first one's file, in the same cgroup, under a new init. */
START_TEST(start_after_stop_runs_the_same_container) {
  container_config cfg;
  ctrtest_config_sh(&cfg, "again",
                    "trap 'exit 7' TERM; echo run >>/runs; wc -l </runs; "
                    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; "
                    "exec >&- 2>&-; while :; do sleep 0.05; done");
  cfg.limits.memory_limit = 64 << 20;
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  char out[256];
  start_read(c, out, sizeof out);
  ck_assert_str_eq(out, "1\n67108864\n");
  container_info info;
  container_manager_get_info(ctrtest_mgr, c, &info);
  pid_t first_pid = info.pid;
  uint64_t first_start = info.started_ns;
  char cgpath[PATH_MAX];
  snprintf(cgpath, sizeof cgpath, "%s", info.cgroup_path);
  container_exit ex;
  ck_assert_msg(container_manager_stop(ctrtest_mgr, c, 5000, &ex, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(ex.exit_code, 7);
  ck_assert_int_eq(container_get_state(c), CONTAINER_STOPPED);
  container_manager_get_info(ctrtest_mgr, c, &info);
  ck_assert_uint_gt(info.finished_ns, 0);

  start_read(c, out, sizeof out);
  ck_assert_str_eq(out, "2\n67108864\n");
  container_manager_get_info(ctrtest_mgr, c, &info);
  ck_assert_int_eq(info.state, CONTAINER_RUNNING);
  ck_assert_int_gt(info.pid, 0);
  ck_assert_int_ne(info.pid, first_pid);
  ck_assert_uint_gt(info.started_ns, first_start);
  ck_assert_uint_eq(info.finished_ns, 0);
  ck_assert_int_eq(info.exit.exit_code, 0);
  ck_assert_int_eq(info.exit.signal, 0);
  ck_assert_str_eq(info.cgroup_path, cgpath);
  /* A running container cannot be given new stdio, nor started twice. */
  ck_assert_int_eq(container_manager_set_stdio(ctrtest_mgr, c, -1, -1, -1, &err), -1);
  ck_assert_int_eq(errno, EINVAL);
  ck_assert_int_eq(container_manager_start(ctrtest_mgr, c, &err), -1);
  ck_assert_int_eq(errno, EINVAL);
  ck_assert_msg(container_manager_stop(ctrtest_mgr, c, 5000, &ex, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(ex.exit_code, 7);
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/%s", ctrtest_state_dir, cfg.id);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(access(dir, F_OK), -1);
}
END_TEST

/* A bind volume and a tmpfs are mounted again on the second run: the
 * volume keeps the host's file, the tmpfs starts empty. */
START_TEST(volumes_are_mounted_again) {
  char *vol = testutil_tmpdir("pv-restart-vol");
  ck_assert_ptr_nonnull(vol);
  container_mount mounts[] = {{.source = vol, .destination = "/data"},
                              {.destination = "/scratch", .tmpfs = true}};
  container_config cfg;
  ctrtest_config_sh(&cfg, "volumes", "ls /scratch; touch /scratch/t; echo x >>/data/log; wc -l </data/log");
  cfg.mounts = mounts;
  cfg.n_mounts = 2;
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  char out[256];
  container_exit ex;
  for (int run = 1; run <= 2; run++) {
    start_read(c, out, sizeof out);
    ck_assert_int_eq(container_manager_wait(ctrtest_mgr, c, &ex, &err), 0);
    ck_assert_int_eq(ex.exit_code, 0);
    char want[8];
    snprintf(want, sizeof want, "%d\n", run);
    ck_assert_str_eq(out, want);
  }
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  testutil_rmtree(vol);
  free(vol);
}
END_TEST

/* The OOM kill of the first run is not reported for the second, which is
 * SIGKILLed without one. */
START_TEST(oom_kill_is_not_carried_over) {
  container_config cfg;
  ctrtest_config_sh(&cfg, "oomagain",
                    "test -e /second && exec sleep 100; touch /second; exec tail /dev/zero");
  cfg.limits.memory_limit = 32 << 20;
  cfg.limits.memory_swap = 32 << 20;
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  container_exit ex;
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(container_manager_wait(ctrtest_mgr, c, &ex, &err), 0);
  ck_assert_int_eq(ex.exit_code, 137);
  ck_assert(ex.oom_killed);
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(container_manager_kill(ctrtest_mgr, c, SIGKILL, &err), 0);
  ck_assert_int_eq(container_manager_wait(ctrtest_mgr, c, &ex, &err), 0);
  ck_assert_int_eq(ex.signal, SIGKILL);
  ck_assert(!ex.oom_killed);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
}
END_TEST

/* Without a pid namespace of its own, a run may leave processes behind
 * its init: start refuses (EBUSY) and the container stays stopped, until
 * destroy kills them. */
START_TEST(survivors_of_the_previous_run_block_a_start) {
  container_config cfg;
  ctrtest_config_sh(&cfg, "survivor", "sleep 100 >/dev/null 2>&1 & echo started");
  cfg.namespaces = NAMESPACE_ALL & ~CLONE_NEWPID;
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  char out[64];
  start_read(c, out, sizeof out);
  container_exit ex;
  ck_assert_int_eq(container_manager_wait(ctrtest_mgr, c, &ex, &err), 0);
  ck_assert_int_eq(ex.exit_code, 0);
  ck_assert_int_eq(container_manager_start(ctrtest_mgr, c, &err), -1);
  ck_assert_int_eq(errno, EBUSY);
  ck_assert_msg(strstr(err.msg, "still in cgroup") != NULL, "%s", err.msg);
  ck_assert_int_eq(container_get_state(c), CONTAINER_STOPPED);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
}
END_TEST

int main(void) {
  TCase *tc;
  Suite *s = ctrtest_suite("container_restart", "restart", &tc);
  tcase_add_test(tc, start_after_stop_runs_the_same_container);
  tcase_add_test(tc, volumes_are_mounted_again);
  tcase_add_test(tc, oom_kill_is_not_carried_over);
  tcase_add_test(tc, survivors_of_the_previous_run_block_a_start);
  return testutil_run(s);
}
