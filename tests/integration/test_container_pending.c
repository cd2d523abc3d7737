/*
 * test_container_pending.c - pending cgroups (container.h:
 * container_manager_collect) against the real kernel (root).
 *
 * A container without its own pid namespace starts a background process
 * and exits; that survivor stays in the container's cgroup.  To keep it
 * alive after destroy's SIGKILL for as long as a test wants, the test moves
 * it into a frozen cgroup of the v1 freezer hierarchy (a cgroup of its own,
 * named after the test's pid): a frozen task takes its SIGKILL only once
 * thawed.  That is the never-emptying cgroup destroy_deferred must not wait
 * for.  Skipped without root or without a v1 freezer hierarchy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/container.h"
#include "supervisor/core/util.h"
#include "tests/integration/ctrtest.h"

#define CG_ROOT "/sys/fs/cgroup"
#define FREEZER_ROOT CG_ROOT "/freezer"
#define UNIFIED_ROOT CG_ROOT "/unified"
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Every namespace but pid: as in a shareProcessNamespace pod. */
#define NO_PIDNS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP)

static pid_t main_pid;    /* names this run's cgroups (tests run in forks) */
static char freezer[256]; /* FREEZER_ROOT/pv-pending-<main_pid> */
static char pod_rel[128]; /* podvisor/pv-pending-<main_pid> */
static char v2_top[128];  /* pv-pending-<main_pid>: first component in the cgroup2 tree */
static const char *const v1_hier[] = {"cpu", "cpuacct", "memory", "pids"};
static pv_err err;

static uint64_t ms_since(uint64_t t0) {
  return (pv_now_ns() - t0) / 1000000;
}

static void sleep_ms(long ms) {
  nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static int write_file(const char *dir, const char *file, const char *value) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, value, strlen(value));
  close(fd);
  return n == (ssize_t)strlen(value) ? 0 : -1;
}

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Moves pid into this run's frozen freezer cgroup and waits until the
 * kernel reports it FROZEN. */
static void freeze(pid_t pid) {
  char v[32];
  ck_assert_msg(mkdir(freezer, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", freezer, strerror(errno));
  snprintf(v, sizeof v, "%d", (int)pid);
  ck_assert_msg(write_file(freezer, "cgroup.procs", v) == 0, "move %d to %s: %s", (int)pid, freezer,
                strerror(errno));
  ck_assert_int_eq(write_file(freezer, "freezer.state", "FROZEN"), 0);
  char path[PATH_MAX], *state = NULL;
  snprintf(path, sizeof path, "%s/freezer.state", freezer);
  for (int i = 0; i < 400; i++, sleep_ms(5)) {
    free(state);
    state = NULL;
    ck_assert_int_eq(pv_read_file(path, &state, NULL, NULL), 0);
    if (strncmp(state, "FROZEN", 6) == 0)
      break;
  }
  ck_assert_msg(strncmp(state, "FROZEN", 6) == 0, "freezer: %s", state);
  free(state);
}

static void thaw(void) {
  ck_assert_int_eq(write_file(freezer, "freezer.state", "THAWED"), 0);
}

/* Starts a container without CLONE_NEWPID in cgroup rel whose init leaves
 * a `sleep 1000` behind and exits; waits for the init.  Returns the
 * container (STOPPED), the survivor's host pid and a pidfd on it. */
static container *leave_survivor(container_manager *m, const char *name, const char *rel, pid_t *pid,
                                 int *pidfd) {
  container_config cfg;
  ctrtest_config_sh(&cfg, name, "sleep 1000 </dev/null >/dev/null 2>&1 & echo $!");
  cfg.namespaces = NO_PIDNS;
  cfg.cgroup_path = rel;
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  cfg.stdout_fd = p[1];
  container *c;
  ck_assert_msg(container_manager_create(m, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(m, c, &err) == 0, "%s", pv_err_str(&err));
  close(p[1]);
  char out[64];
  ctrtest_read_all(p[0], out, sizeof out);
  close(p[0]);
  container_exit ex;
  ck_assert_msg(container_manager_wait(m, c, &ex, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(ex.exit_code, 0);
  *pid = (pid_t)atoi(out);
  ck_assert_msg(*pid > 1, "survivor pid '%s'", out);
  *pidfd = (int)syscall(SYS_pidfd_open, *pid, 0);
  ck_assert_msg(*pidfd >= 0, "pidfd_open %d: %s", (int)*pid, strerror(errno));
  return c;
}

static bool alive(int pidfd) {
  struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
  return poll(&pfd, 1, 0) == 0;
}

/* destroy_deferred, timed: it must not wait for the frozen survivor. */
static void destroy_quickly(container_manager *m, container *c) {
  char trash[PATH_MAX];
  uint64_t t0 = pv_now_ns();
  ck_assert_msg(container_manager_destroy_deferred(m, c, trash, sizeof trash, &err) == 0, "%s",
                pv_err_str(&err));
  uint64_t took = ms_since(t0);
  ck_assert_msg(took < 100, "destroy_deferred took %llu ms", (unsigned long long)took);
  if (trash[0] != '\0')
    pv_rm_rf(trash, NULL);
}

/* A container of m in cgroup rel whose survivor is frozen and whose
 * cgroup is now pending: the survivor's host pid and a pidfd on it. */
static void pending_survivor(container_manager *m, const char *name, const char *rel, pid_t *pid,
                             int *pidfd) {
  container *c = leave_survivor(m, name, rel, pid, pidfd);
  freeze(*pid);
  destroy_quickly(m, c);
  ck_assert_int_eq(container_manager_pending(m), 1);
}

/* The next run of "the same container": a container without its own pid
 * namespace running script, created under the same cgroup path rel. */
static container *create_at(container_manager *m, const char *name, const char *script, const char *rel) {
  container_config cfg;
  ctrtest_config_sh(&cfg, name, script);
  cfg.namespaces = NO_PIDNS;
  cfg.cgroup_path = rel;
  container *c;
  ck_assert_msg(container_manager_create(m, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  return c;
}

/* collect() until nothing is pending; fails after limit_ms. */
static void collect_all(container_manager *m, unsigned limit_ms) {
  uint64_t t0 = pv_now_ns();
  size_t n;
  while ((n = container_manager_collect(m, &err)) > 0 && ms_since(t0) < limit_ms)
    sleep_ms(5);
  ck_assert_msg(n == 0, "still pending after %u ms: %s", limit_ms, pv_err_str(&err));
  ck_assert_int_eq(container_manager_pending(m), 0);
}

/* The line of /proc/<pid>/cgroup for a v1 controller ("" for cgroup2). */
static void cgroup_of(pid_t pid, const char *ctrl, char *out, size_t len) {
  char path[64], *buf = NULL;
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
  ck_assert_int_eq(pv_read_file(path, &buf, NULL, NULL), 0);
  out[0] = '\0';
  for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    if (b == NULL)
      continue;
    *b = '\0';
    /* The controllers field is a comma separated list ("cpu,cpuacct"). */
    bool match = ctrl[0] == '\0' && a[1] == '\0';
    for (char *w = a + 1; ctrl[0] != '\0' && *w != '\0' && !match;) {
      size_t n = strcspn(w, ",");
      match = n == strlen(ctrl) && strncmp(w, ctrl, n) == 0;
      w += n + (w[n] == ',');
    }
    if (match)
      snprintf(out, len, "%s", b + 1);
  }
  free(buf);
}

static bool procs_has(const char *dir, pid_t pid) {
  char path[PATH_MAX], *buf = NULL, needle[32];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  ck_assert_msg(pv_read_file(path, &buf, NULL, NULL) == 0, "read %s", path);
  snprintf(needle, sizeof needle, "%d", (int)pid);
  bool found = false;
  for (char *line = strtok(buf, "\n"); line != NULL && !found; line = strtok(NULL, "\n"))
    found = strcmp(line, needle) == 0;
  free(buf);
  return found;
}

static void assert_v1_gone(const char *rel) {
  for (size_t i = 0; i < sizeof v1_hier / sizeof v1_hier[0]; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/%s", CG_ROOT, v1_hier[i], rel);
    ck_assert_msg(!is_dir(path), "%s is still there", path);
  }
}

/* The v1 cases look at the v1 hierarchies the fixture's manager uses. */
static bool manager_is_v1(void) {
  if (resource_manager_version(container_manager_resources(ctrtest_mgr)) == CGROUP_V1)
    return true;
  fprintf(stderr, "the cgroup root is not cgroup v1: case not run\n");
  return false;
}

START_TEST(deferred_destroy_does_not_wait) {
  if (!manager_is_v1())
    return;
  char rel[256];
  snprintf(rel, sizeof rel, "%s/a/c", pod_rel);
  pid_t pid;
  int pidfd;
  pending_survivor(ctrtest_mgr, "a", rel, &pid, &pidfd);
  /* Frozen: SIGKILLed again and again, it stays, and so does its cgroup. */
  for (int i = 0; i < 5; i++) {
    uint64_t t0 = pv_now_ns();
    ck_assert_uint_eq(container_manager_collect(ctrtest_mgr, &err), 1);
    ck_assert_msg(ms_since(t0) < 50 * testutil_slow(), "collect blocked");
    ck_assert_int_eq(err.code, EBUSY);
    ck_assert_msg(strstr(err.msg, rel) != NULL, "message does not name the cgroup: %s", err.msg);
    ck_assert(alive(pidfd));
    sleep_ms(20);
  }
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/pids/%s", CG_ROOT, rel);
  ck_assert_msg(is_dir(dir) && procs_has(dir, pid), "the survivor left %s", dir);
  thaw();
  collect_all(ctrtest_mgr, 2000);
  struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
  ck_assert_int_eq(poll(&pfd, 1, 2000), 1); /* it died of the SIGKILL */
  close(pidfd);
  /* The leaf and the pod level parent, in every hierarchy. */
  snprintf(rel, sizeof rel, "%s/a", pod_rel);
  assert_v1_gone(rel);
}
END_TEST

START_TEST(restart_under_the_same_path) {
  if (!manager_is_v1())
    return;
  char rel[256];
  snprintf(rel, sizeof rel, "%s/b/c", pod_rel);
  pid_t pid;
  int pidfd;
  pending_survivor(ctrtest_mgr, "b1", rel, &pid, &pidfd);
  container *c2 = create_at(ctrtest_mgr, "b2", "cat /proc/self/cgroup >/dev/null; exit 3", rel);
  for (size_t i = 0; i < sizeof v1_hier / sizeof v1_hier[0]; i++) {
    char dir[PATH_MAX], line[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s/%s", CG_ROOT, v1_hier[i], rel);
    ck_assert_msg(is_dir(dir), "%s missing", dir);
    ck_assert_msg(!procs_has(dir, pid), "the new cgroup %s holds the old survivor", dir);
    /* The survivor was moved aside, next to it, not into the root. */
    cgroup_of(pid, v1_hier[i], line, sizeof line);
    ck_assert_msg(strstr(line, "/b/c.pending-") != NULL, "%s: survivor in '%s'", v1_hier[i], line);
  }
  ck_assert_msg(container_manager_start(ctrtest_mgr, c2, &err) == 0, "%s", pv_err_str(&err));
  container_exit ex;
  ck_assert_msg(container_manager_wait(ctrtest_mgr, c2, &ex, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(ex.exit_code, 3);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c2, &err) == 0, "%s", pv_err_str(&err));
  /* The new run is gone, the old survivor's cgroup still pending. */
  ck_assert_uint_eq(container_manager_collect(ctrtest_mgr, &err), 1);
  ck_assert_msg(strstr(err.msg, ".pending-") != NULL, "%s", err.msg);
  ck_assert(alive(pidfd));
  thaw();
  collect_all(ctrtest_mgr, 2000);
  close(pidfd);
  snprintf(rel, sizeof rel, "%s/b", pod_rel);
  assert_v1_gone(rel);
}
END_TEST

/* Closing the manager waits (bounded) and names what it leaves behind; a
 * successor takes the leftover over and never joins it. */
START_TEST(close_reports_successor_adopts) {
  if (!manager_is_v1())
    return;
  container_manager *m;
  char *state = testutil_tmpdir("pv-pending-close");
  container_manager_options o = {.state_dir = state};
  ck_assert_msg(container_manager_init(&m, &o, &err) == 0, "%s", pv_err_str(&err));
  char rel[512], parent[256];
  snprintf(parent, sizeof parent, "%s/d", pod_rel);
  snprintf(rel, sizeof rel, "%s/c", parent);
  pid_t pid;
  int pidfd;
  pending_survivor(m, "d", rel, &pid, &pidfd);
  uint64_t t0 = pv_now_ns();
  ck_assert_int_eq(container_manager_close(m, 200, &err), -1);
  uint64_t took = ms_since(t0);
  ck_assert_msg(took >= 200 && took < 1000, "close waited %llu ms", (unsigned long long)took);
  ck_assert_int_eq(err.code, EBUSY);
  ck_assert_msg(strstr(err.msg, rel) != NULL, "message does not name the cgroup: %s", err.msg);
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/pids/%s", CG_ROOT, rel);
  ck_assert_msg(is_dir(dir) && procs_has(dir, pid), "not left behind: %s", dir);

  /* The successor: an empty sibling goes at once, the busy one is kept. */
  char empty[PATH_MAX];
  snprintf(empty, sizeof empty, "%s/pids/%s/gone", CG_ROOT, parent);
  ck_assert_int_eq(mkdir(empty, 0755), 0);
  ck_assert_msg(container_manager_init(&m, &o, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(container_manager_adopt_leftovers(m, parent, &err), 1);
  ck_assert_int_eq(container_manager_pending(m), 1);
  ck_assert(!is_dir(empty));
  container *c2 = create_at(m, "d2", "exit 0", rel);
  ck_assert_msg(!procs_has(dir, pid), "the new cgroup %s holds the old survivor", dir);
  ck_assert_int_eq(container_manager_adopt_leftovers(m, parent, &err), 0); /* its own: left alone */
  ck_assert(is_dir(dir));
  ck_assert_msg(container_manager_destroy(m, c2, &err) == 0, "%s", pv_err_str(&err));
  thaw();
  collect_all(m, 2000);
  struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
  ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
  close(pidfd);
  assert_v1_gone(parent);
  ck_assert_int_eq(container_manager_close(m, 0, &err), 0);
  testutil_rmtree(state);
  free(state);
}
END_TEST

/* close() is bounded also for a container still running whose init cannot
 * die (frozen: a SIGKILL waits for the thaw): it lets the init go unreaped
 * and names its cgroup, instead of waiting for it forever. */
START_TEST(close_is_bounded_with_a_frozen_init) {
  if (!manager_is_v1())
    return;
  container_manager *m;
  char *state = testutil_tmpdir("pv-pending-frozen-init");
  container_manager_options o = {.state_dir = state};
  ck_assert_msg(container_manager_init(&m, &o, &err) == 0, "%s", pv_err_str(&err));
  char rel[512];
  snprintf(rel, sizeof rel, "%s/e", pod_rel);
  container_config cfg;
  ctrtest_config_sh(&cfg, "e", "exec sleep 1000");
  cfg.cgroup_path = rel;
  container *c;
  ck_assert_msg(container_manager_create(m, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(m, c, &err) == 0, "%s", pv_err_str(&err));
  container_info info;
  container_manager_get_info(m, c, &info);
  pid_t init = info.pid;
  int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
  ck_assert_int_ge(pidfd, 0);
  freeze(init);
  uint64_t t0 = pv_now_ns();
  ck_assert_int_eq(container_manager_close(m, 200, &err), -1);
  uint64_t took = ms_since(t0);
  ck_assert_msg(took >= 200 && took < 1000, "close took %llu ms", (unsigned long long)took);
  ck_assert_int_eq(err.code, EBUSY);
  ck_assert_msg(strstr(err.msg, rel) != NULL, "message does not name the cgroup: %s", err.msg);
  ck_assert(alive(pidfd)); /* frozen: the SIGKILL waits */
  thaw();
  struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
  ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ck_assert_int_eq(waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED), 0); /* ours to reap */
  ck_assert_int_eq(si.si_status, SIGKILL);
  close(pidfd);
  testutil_rmtree(state);
  free(state);
}
END_TEST

/* cgroup2 refuses rename(2): the survivor is migrated into the aside
 * sibling instead.  The host's cgroup2 mount (<root>/unified on a hybrid
 * host) serves as the tree; the v1 freezer still holds the survivor. */
START_TEST(cgroup2_moves_by_migration) {
  struct statfs sfs;
  if (statfs(UNIFIED_ROOT, &sfs) < 0 || (unsigned long)sfs.f_type != CGROUP2_SUPER_MAGIC ||
      access(UNIFIED_ROOT "/cgroup.procs", F_OK) < 0) {
    fprintf(stderr, "cgroup2_moves_by_migration: no cgroup2 at %s beside the v1 freezer, not run\n",
            UNIFIED_ROOT);
    return;
  }
  container_manager *m;
  char *state = testutil_tmpdir("pv-pending-v2");
  /* The test's top directory is the cgroup parent: the pod directory goes
   * with its last container, the top stays (removed by the fixture). */
  container_manager_options o = {.state_dir = state, .cgroup_root = UNIFIED_ROOT, .cgroup_parent = v2_top};
  ck_assert_msg(container_manager_init(&m, &o, &err) == 0, "%s", pv_err_str(&err));
  char rel[256], dir[PATH_MAX], line[PATH_MAX];
  snprintf(rel, sizeof rel, "%s/pod/c", v2_top);
  pid_t pid;
  int pidfd;
  pending_survivor(m, "v2a", rel, &pid, &pidfd);
  container *c2 = create_at(m, "v2b", "exit 0", rel);
  snprintf(dir, sizeof dir, "%s/%s", UNIFIED_ROOT, rel);
  ck_assert(is_dir(dir));
  ck_assert_msg(!procs_has(dir, pid), "the new cgroup %s holds the old survivor", dir);
  cgroup_of(pid, "", line, sizeof line);
  ck_assert_msg(strstr(line, "/pod/c.pending-") != NULL, "survivor in '%s'", line);
  ck_assert_msg(container_manager_destroy(m, c2, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_uint_eq(container_manager_collect(m, NULL), 1);
  thaw();
  collect_all(m, 2000);
  ck_assert_int_eq(poll(&(struct pollfd){.fd = pidfd, .events = POLLIN}, 1, 2000), 1);
  close(pidfd);
  snprintf(dir, sizeof dir, "%s/%s/pod", UNIFIED_ROOT, v2_top);
  ck_assert_msg(!is_dir(dir), "%s is still there", dir);
  ck_assert_int_eq(container_manager_close(m, 0, &err), 0);
  testutil_rmtree(state);
  free(state);
}
END_TEST

/* rmdir of every directory below path, deepest first (best effort). */
static void rmdir_tree(const char *path) {
  char cmd[PATH_MAX + 64];
  if (!is_dir(path))
    return;
  snprintf(cmd, sizeof cmd, "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null", path);
  if (system(cmd) != 0) {
    /* cgroup interface files make find report errors; the rmdirs ran. */
  }
}

/* After all tests, in the parent (it runs also when a test failed): thaw
 * and remove the freezer cgroup, then this run's cgroup directories. */
static void suite_teardown(void) {
  if (is_dir(freezer)) {
    write_file(freezer, "freezer.state", "THAWED");
    for (int i = 0; i < 200 && rmdir(freezer) < 0; i++)
      sleep_ms(10);
  }
  const char *h[] = {"cpu", "cpuacct", "memory", "pids", "cpuset"};
  for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/%s", CG_ROOT, h[i], pod_rel);
    rmdir_tree(path);
  }
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", UNIFIED_ROOT, v2_top);
  rmdir_tree(path);
}

static bool v1_freezer(void) {
  struct statfs sfs;
  return statfs(FREEZER_ROOT, &sfs) == 0 && (unsigned long)sfs.f_type == CGROUP_SUPER_MAGIC &&
         access(FREEZER_ROOT "/cgroup.procs", F_OK) == 0;
}

int main(void) {
  TCase *tc;
  Suite *s = ctrtest_suite("container_pending", "pending", &tc);
  if (!v1_freezer()) {
    printf("integration/test_container_pending: skipped: no cgroup v1 freezer hierarchy at %s "
           "(a survivor is held through SIGKILL by the v1 freezer; v2's cgroup.freeze lets it die)\n",
           FREEZER_ROOT);
    return 77;
  }
  main_pid = getpid();
  snprintf(freezer, sizeof freezer, "%s/pv-pending-%d", FREEZER_ROOT, (int)main_pid);
  snprintf(pod_rel, sizeof pod_rel, "podvisor/pv-pending-%d", (int)main_pid);
  snprintf(v2_top, sizeof v2_top, "pv-pending-%d", (int)main_pid);
  tcase_add_unchecked_fixture(tc, NULL, suite_teardown);
  tcase_add_test(tc, deferred_destroy_does_not_wait);
  tcase_add_test(tc, restart_under_the_same_path);
  tcase_add_test(tc, close_reports_successor_adopts);
  tcase_add_test(tc, close_is_bounded_with_a_frozen_init);
  tcase_add_test(tc, cgroup2_moves_by_migration);
  return testutil_run(s);
}
