/*
 * Integration tests for the cgroup v2 backend against the real kernel (root
 * only): what a fake tree cannot show.
 *
 * Where: the host's cgroup2 mount, /sys/fs/cgroup on a pure-v2 host, or
 * /sys/fs/cgroup/unified on a hybrid one (there it holds few controllers,
 * but cgroup.freeze, cgroup.kill, cgroup.events and CLONE_INTO_CGROUP are
 * core cgroup2 features and work all the same).  Skipped without any
 * cgroup2 mount.
 *   - a child cloned with CLONE_INTO_CGROUP is in its cgroup from birth;
 *   - resource_manager_kill with a signal other than SIGKILL freezes the
 *     cgroup around its walk, so a process forking as fast as it can is
 *     signalled with all its children, and the cgroup ends thawed; one
 *     that somebody else froze stays frozen, a caught signal pending;
 *   - SIGKILL through cgroup.kill empties the cgroup;
 *   - io stats count block reads (pure v2 with the io controller and a
 *     block device to read: otherwise that test says why it is not run).
 * Every test works below podvisor/test-<pid>/ of that mount; main() removes
 * what a failing test left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/namespace.h"
#include "supervisor/core/resource.h"
#include "tests/testutil.h"

#define CGROUP2_MAGIC 0x63677270

static char mnt[64];  /* the cgroup2 mount used */
static char pod[64];  /* podvisor/test-<pid> */
static char blockdev[NAME_MAX + 8]; /* /dev/<name> to read for io stats, "" = none */
static resource_manager *rm;

static bool is_cgroup2(const char *path) {
  struct statfs sf;
  return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_MAGIC;
}

static void setup(void) {
  pv_err err;
  ck_assert_msg(resource_manager_init(&rm, mnt, &err) == 0, "init on %s: %s", mnt, err.msg);
}

static void teardown(void) {
  resource_manager_cleanup(rm);
  rm = NULL;
}

static cgroup_handle *make(const char *name) {
  char rel[128];
  snprintf(rel, sizeof rel, "%s/%s", pod, name);
  cgroup_handle *cg;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, NULL, &cg, &err) == 0, "create %s: %s", rel, err.msg);
  return cg;
}

static const char *knob(cgroup_handle *cg, const char *file) {
  static char buf[512];
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", cgroup_handle_dir(cg, "memory"), file);
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static void put_knob(cgroup_handle *cg, const char *file, const char *v) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", cgroup_handle_dir(cg, "memory"), file);
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
  ck_assert_int_ge(fputs(v, f), 0);
  ck_assert_int_eq(fclose(f), 0);
}

/* Polls cgroup.events until "key val" shows, at most 10 s. */
static bool wait_event(cgroup_handle *cg, const char *line) {
  for (int i = 0; i < 1000; i++) {
    if (strstr(knob(cg, "cgroup.events"), line) != NULL)
      return true;
    usleep(10000);
  }
  return false;
}

/* Forks a child that waits until it is in the cgroup, then runs fn. */
static pid_t spawn(cgroup_handle *cg, int (*fn)(void)) {
  int go[2];
  ck_assert_int_eq(pipe(go), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    signal(SIGTERM, SIG_DFL); /* Check's handler would take the test down */
    close(go[1]);
    char c;
    if (read(go[0], &c, 1) != 1)
      _exit(100);
    _exit(fn());
  }
  close(go[0]);
  pv_err err;
  ck_assert_msg(resource_manager_add_process(cg, pid, &err) == 0, "add: %s", err.msg);
  ck_assert_int_eq(write(go[1], "g", 1), 1);
  close(go[1]);
  return pid;
}

static int sleep_forever(void) {
  for (;;)
    pause();
  return 0;
}

static void exit_42(int sig) {
  (void)sig;
  _exit(42);
}

/* Catches SIGTERM: a frozen task runs no handler until it is thawed (a
 * signal with the default action kills even a frozen task). */
static int sleep_catching_term(void) {
  signal(SIGTERM, exit_42);
  return sleep_forever();
}

/* Forks sleepers as fast as it can, up to 300 (each a new pid to catch). */
static int fork_storm(void) {
  for (int i = 0; i < 300; i++) {
    pid_t p = fork();
    if (p == 0)
      sleep_forever();
  }
  return sleep_forever();
}

static int report_cgroup(void *arg) {
  int fd = *(int *)arg;
  char buf[256];
  int in = open("/proc/self/cgroup", O_RDONLY);
  ssize_t n = in < 0 ? -1 : read(in, buf, sizeof buf);
  if (n > 0 && write(fd, buf, (size_t)n) != n)
    return 1;
  return 0;
}

START_TEST(clone_is_born_in_the_cgroup) {
  cgroup_handle *cg = make("born");
  int dfd = open(cgroup_handle_dir(cg, "memory"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(dfd, 0);
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  pid_t pid;
  int pidfd;
  bool in = false;
  pv_err err;
  ck_assert_msg(namespace_clone_process_into(0, -1, dfd, &in, report_cgroup, &p[1], &pid, &pidfd, &err) == 0,
                "%s", err.msg);
  close(p[1]);
  char out[256] = "";
  ssize_t n = read(p[0], out, sizeof out - 1);
  close(p[0]);
  out[n > 0 ? n : 0] = '\0';
  siginfo_t si;
  ck_assert_int_eq(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
  close(pidfd);
  close(dfd);
  ck_assert(in); /* 5.7+: every kernel podvisor supports */
  char want[160];
  snprintf(want, sizeof want, "0::/%s/born\n", pod);
  ck_assert_msg(strstr(out, want) != NULL, "child's /proc/self/cgroup:\n%s", out);
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "%s", err.msg);
}
END_TEST

START_TEST(term_freezes_and_reaches_every_fork) {
  cgroup_handle *cg = make("storm");
  pid_t storm = spawn(cg, fork_storm);
  usleep(20000); /* let it fork a while */
  pv_err err;
  ck_assert_msg(resource_manager_kill(cg, SIGTERM, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(knob(cg, "cgroup.freeze"), "0\n");
  int status;
  ck_assert_int_eq(waitpid(storm, &status, 0), storm);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  /* The sleepers are orphans of init now: the cgroup empties by itself. */
  ck_assert_msg(wait_event(cg, "populated 0"), "left in the cgroup:\n%s", knob(cg, "cgroup.procs"));
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "%s", err.msg);
}
END_TEST

START_TEST(foreign_freeze_is_kept) {
  cgroup_handle *cg = make("frozen");
  pid_t pid = spawn(cg, sleep_catching_term);
  usleep(20000); /* its handler is in place */
  put_knob(cg, "cgroup.freeze", "1");
  ck_assert(wait_event(cg, "frozen 1"));
  pv_err err;
  ck_assert_msg(resource_manager_kill(cg, SIGTERM, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(knob(cg, "cgroup.freeze"), "1\n");
  /* The signal wakes the task for a moment; it freezes again. */
  ck_assert(wait_event(cg, "frozen 1"));
  int status;
  ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0); /* pending while frozen */
  put_knob(cg, "cgroup.freeze", "0");
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 42);
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "%s", err.msg);
}
END_TEST

START_TEST(sigkill_empties_through_cgroup_kill) {
  cgroup_handle *cg = make("killed");
  pid_t storm = spawn(cg, fork_storm);
  usleep(20000);
  pv_err err;
  ck_assert_msg(resource_manager_kill(cg, SIGKILL, &err) == 0, "%s", err.msg);
  int status;
  ck_assert_int_eq(waitpid(storm, &status, 0), storm);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ck_assert_msg(wait_event(cg, "populated 0"), "left in the cgroup:\n%s", knob(cg, "cgroup.procs"));
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "%s", err.msg);
}
END_TEST

#define IO_BYTES (1 << 20)

static int read_blockdev(void) {
  int fd = open(blockdev, O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0)
    return 1;
  void *buf;
  if (posix_memalign(&buf, 4096, 65536) != 0)
    return 2;
  for (off_t off = 0; off < IO_BYTES; off += 65536)
    if (pread(fd, buf, 65536, off) != 65536)
      return 3;
  return 0;
}

START_TEST(io_stats_count_block_reads) {
  cgroup_handle *cg = make("io");
  pid_t pid = spawn(cg, read_blockdev);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reading %s failed (%d)", blockdev,
                WEXITSTATUS(status));
  resource_stats st;
  pv_err err;
  ck_assert_msg(resource_manager_get_stats(cg, &st, &err) == 0, "%s", err.msg);
  ck_assert_uint_ge(st.io_read_bytes, IO_BYTES);
  ck_assert_uint_ge(st.io_read_ops, IO_BYTES / 65536 / 2); /* merged requests at most halve it */
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "%s", err.msg);
}
END_TEST

/* A whole-disk block device with a size: /dev/<name> of /sys/block/<name>
 * other than loop, ram, zram, dm and optical drives. */
static bool find_blockdev(void) {
  DIR *d = opendir("/sys/block");
  if (d == NULL)
    return false;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (n[0] == '.' || strncmp(n, "loop", 4) == 0 || strncmp(n, "ram", 3) == 0 || strncmp(n, "zram", 4) == 0 ||
        strncmp(n, "dm-", 3) == 0 || strncmp(n, "sr", 2) == 0)
      continue;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/sys/block/%s/size", n);
    FILE *f = fopen(path, "r");
    unsigned long long sectors = 0;
    if (f != NULL) {
      if (fscanf(f, "%llu", &sectors) != 1)
        sectors = 0;
      fclose(f);
    }
    if (sectors * 512 >= IO_BYTES) {
      snprintf(blockdev, sizeof blockdev, "/dev/%s", n);
      break;
    }
  }
  closedir(d);
  return blockdev[0] != '\0' && access(blockdev, R_OK) == 0;
}

/* Removes what a failed test left below pod (leaves first). */
static void cleanup_pod(void) {
  static const char *const leaves[] = {"born", "storm", "frozen", "killed", "io"};
  char path[PATH_MAX];
  for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
    snprintf(path, sizeof path, "%s/%s/%s", mnt, pod, leaves[i]);
    if (access(path, F_OK) != 0)
      continue;
    char f[PATH_MAX + 32];
    snprintf(f, sizeof f, "%s/cgroup.freeze", path);
    FILE *fz = fopen(f, "w");
    if (fz != NULL) {
      fputs("0", fz);
      fclose(fz);
    }
    snprintf(f, sizeof f, "%s/cgroup.kill", path);
    FILE *k = fopen(f, "w");
    if (k != NULL) {
      fputs("1", k);
      fclose(k);
    }
    for (int t = 0; t < 200 && rmdir(path) < 0 && errno == EBUSY; t++)
      usleep(10000);
  }
  snprintf(path, sizeof path, "%s/%s", mnt, pod);
  rmdir(path);
  snprintf(path, sizeof path, "%s/podvisor", mnt);
  rmdir(path); /* only when empty: a running podvisor's pods stay */
}

int main(void) {
  testutil_require_root("cgroup_v2");
  if (is_cgroup2("/sys/fs/cgroup"))
    snprintf(mnt, sizeof mnt, "/sys/fs/cgroup");
  else if (is_cgroup2("/sys/fs/cgroup/unified"))
    snprintf(mnt, sizeof mnt, "/sys/fs/cgroup/unified");
  else {
    printf("skipped: cgroup v2 integration tests (no cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified)\n");
    return 77;
  }
  snprintf(pod, sizeof pod, "podvisor/test-%d", (int)getpid());
  Suite *s = suite_create("cgroup_v2");
  TCase *tc = tcase_create("kernel");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, clone_is_born_in_the_cgroup);
  tcase_add_test(tc, term_freezes_and_reaches_every_fork);
  tcase_add_test(tc, foreign_freeze_is_kept);
  tcase_add_test(tc, sigkill_empties_through_cgroup_kill);
  char ctrls[256] = "";
  FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "r");
  if (f != NULL) {
    if (fgets(ctrls, sizeof ctrls, f) == NULL)
      ctrls[0] = '\0';
    fclose(f);
  }
  if (strcmp(mnt, "/sys/fs/cgroup") != 0 || strstr(ctrls, "io") == NULL)
    printf("cgroup_v2: io_stats_count_block_reads not run: the io controller is not in %s\n", mnt);
  else if (!find_blockdev())
    printf("cgroup_v2: io_stats_count_block_reads not run: no readable block device under /sys/block\n");
  else
    tcase_add_test(tc, io_stats_count_block_reads);
  suite_add_tcase(s, tc);
  int rc = testutil_run(s);
  cleanup_pod();
  return rc;
}
