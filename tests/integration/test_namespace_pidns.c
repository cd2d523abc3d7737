/*
 * test_namespace_pidns.c - namespace_clone_process() into another pid
 * namespace restores where the calling thread's children are born to what it
 * was before, also when that is a pid namespace the caller unshared (a pod
 * keeper with a shared pid namespace): its next child must land there, not
 * in the caller's active (host) namespace.
 *
 * Each test unshares CLONE_NEWPID, so it relies on Check's fork mode
 * (main() skips the suite when CK_FORK=no).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/namespace.h"
#include "tests/testutil.h"

static ino_t ino_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_ino : 0;
}

static ino_t pidns_of(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
  return ino_of(path);
}

/* Forks an init that sleeps until killed (it dies with its parent). */
static pid_t fork_sleeper(void) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;)
      pause();
  }
  return pid;
}

static int child_exit0(void *arg) {
  (void)arg;
  return 0;
}

static void kill_reap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/* A pid namespace that is a child of the caller's pid_for_children one: a
 * helper process unshares, forks its init, and hands back the init's pid.
 * The caller kills and reaps *helper (the init dies with it) before the
 * init of its own namespace: that one finishes exiting only once every
 * process of its namespace is reaped. */
static pid_t nested_init(pid_t *helper_out) {
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t helper = fork();
  ck_assert_int_ge(helper, 0);
  if (helper == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWPID) < 0)
      _exit(1);
    fork_sleeper();
    if (write(p[1], "x", 1) != 1)
      _exit(1);
    for (;;)
      pause();
  }
  *helper_out = helper;
  char c;
  ck_assert_int_eq(read(p[0], &c, 1), 1);
  close(p[0]);
  close(p[1]);
  /* The init's pid as this process sees it: fork() in the helper returned
   * it as seen from the helper's namespace, which may not be ours. */
  char path[96], buf[32] = "";
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)helper, (int)helper);
  FILE *f = fopen(path, "re");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
  fclose(f);
  pid_t init = (pid_t)atoi(buf);
  ck_assert_int_gt(init, 0);
  ck_assert_uint_ne(pidns_of(init), pidns_of(helper));
  return init;
}

/* namespace_clone_process() of a child that exits at once, into the pid
 * namespace of init (as an exec into a container does), and its reap. */
static void clone_into(pid_t init) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)init);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  pid_t pid;
  int pidfd;
  pv_err err;
  ck_assert_msg(namespace_clone_process(0, fd, child_exit0, NULL, &pid, &pidfd, &err) == 0, "%s",
                pv_err_str(&err));
  ck_assert_uint_eq(pidns_of(pid), pidns_of(init));
  siginfo_t si;
  ck_assert_int_eq(waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
  close(pidfd);
  close(fd);
}

START_TEST(restores_unshared_pid_for_children) {
  int home = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(home, 0);
  ck_assert_int_eq(unshare(CLONE_NEWPID), 0);
  pid_t pod_init = fork_sleeper(); /* init of the caller's own pod namespace */
  ck_assert_int_gt(pod_init, 0);
  ino_t pod_ns = ino_of("/proc/thread-self/ns/pid_for_children");
  ck_assert_uint_eq(pod_ns, pidns_of(pod_init));
  ck_assert_uint_ne(pod_ns, ino_of("/proc/thread-self/ns/pid"));

  /* The helper is forked into the pod namespace, so its namespace is a
   * descendant of it: the caller may join it, as an exec into a container. */
  pid_t helper;
  pid_t other_init = nested_init(&helper);
  clone_into(other_init);

  ck_assert_uint_eq(ino_of("/proc/thread-self/ns/pid_for_children"), pod_ns);
  pid_t next = fork_sleeper();
  ck_assert_int_gt(next, 0);
  ck_assert_uint_eq(pidns_of(next), pod_ns);
  kill_reap(helper);
  kill_reap(next);
  kill_reap(pod_init);
  /* Children born at home again: what runs at exit (a sanitizer's leak
   * checker clones) must not land in a namespace without init. */
  ck_assert_int_eq(setns(home, CLONE_NEWPID), 0);
  close(home);
}
END_TEST

START_TEST(restores_active_namespace) {
  ino_t own = ino_of("/proc/thread-self/ns/pid");
  pid_t helper;
  pid_t other_init = nested_init(&helper);
  clone_into(other_init);
  ck_assert_uint_eq(ino_of("/proc/thread-self/ns/pid_for_children"), own);
  kill_reap(helper);
}
END_TEST

int main(void) {
  testutil_require_root("namespace_pidns");
  const char *fork_mode = getenv("CK_FORK");
  if (fork_mode != NULL && strcmp(fork_mode, "no") == 0) {
    printf("skipped: these tests unshare their process and need CK_FORK=yes\n");
    return 77;
  }
  Suite *s = suite_create("namespace_pidns");
  TCase *tc = tcase_create("restore");
  tcase_add_test(tc, restores_unshared_pid_for_children);
  tcase_add_test(tc, restores_active_namespace);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
