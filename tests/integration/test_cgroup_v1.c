/*
 * Integration tests for the cgroup v1 backend against the real kernel (root
 * only; skipped on a host that mounts no cgroup v1 hierarchy under
 * /sys/fs/cgroup, and failed when it does but the backend cannot use it).
 *
 * Every test works in podvisor/test-<pid>/<name>, where <pid> is the suite's
 * pid (parallel suites never meet) and <name> differs per test, and checks
 * at the end that no hierarchy (v1 or the hybrid cgroup2) keeps a directory
 * of it.  A failing test skips its destroy; main() then removes what is left
 * so that a red run does not litter the host.
 */
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/resource.h"
#include "tests/testutil.h"

static resource_manager *rm;
static char pod[64];

static void setup(void) {
  pv_err err;
  ck_assert_msg(resource_manager_init(&rm, NULL, &err) == 0, "init: %s", err.msg);
}

static void teardown(void) {
  resource_manager_cleanup(rm);
  rm = NULL;
}

static void rel_of(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", pod, name);
}

static const char *read_knob(cgroup_handle *cg, const char *ctrl, const char *file) {
  static char buf[256];
  char path[PATH_MAX];
  const char *dir = cgroup_handle_dir(cg, ctrl);
  ck_assert_msg(dir != NULL, "no %s directory", ctrl);
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return buf;
}

/* Asserts that no cgroup mount (v1 hierarchy or cgroup2) holds our pod dir. */
static void assert_no_pod_dir(void) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  ck_assert_ptr_nonnull(f);
  char line[1024];
  int checked = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    char *sep = strstr(line, " - ");
    if (sep == NULL || (strncmp(sep, " - cgroup ", 10) != 0 && strncmp(sep, " - cgroup2 ", 11) != 0))
      continue;
    char mnt[512];
    if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1)
      continue;
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", mnt, pod);
    ck_assert_msg(stat(path, &st) < 0 && errno == ENOENT, "%s is left behind", path);
    checked++;
  }
  fclose(f);
  ck_assert_int_gt(checked, 0);
}

/* Forks a child that waits until it is in the cgroup, then runs fn. */
static pid_t spawn(cgroup_handle *cg, int (*fn)(void)) {
  int go[2];
  ck_assert_int_eq(pipe(go), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* Check's SIGTERM handler would kill the whole test's group. */
    signal(SIGTERM, SIG_DFL);
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

static int reap(pid_t pid) {
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  return status;
}

static int sleep_forever(void) {
  for (;;)
    pause();
  return 0;
}

/* 50 ms of CPU time (not wall time: the machine is shared). */
static int burn_cpu(void) {
  struct timespec t;
  volatile unsigned long x = 0;
  do {
    for (int i = 0; i < 100000; i++)
      x += (unsigned long)i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  } while (t.tv_sec * 1000000000L + t.tv_nsec < 50000000L);
  return 0;
}

/* Touches 64 MiB page by page; in a 16 MiB cgroup the OOM killer ends it. */
static int hog_memory(void) {
  for (int i = 0; i < 64; i++) {
    char *p = malloc(1 << 20);
    if (p == NULL)
      return 2;
    memset(p, 0x5a, 1 << 20);
  }
  return 0; /* survived: the limit did not hold */
}

/* Forks until fork fails: 0 when it failed with EAGAIN below 20 children. */
static int fork_loop(void) {
  pid_t kids[20];
  int n = 0, rc = 1;
  for (; n < 20; n++) {
    kids[n] = fork();
    if (kids[n] == 0) {
      for (;;)
        pause();
    }
    if (kids[n] < 0) {
      rc = errno == EAGAIN ? 0 : 3;
      break;
    }
  }
  for (int i = 0; i < n; i++) {
    kill(kids[i], SIGKILL);
    waitpid(kids[i], NULL, 0);
  }
  return rc;
}

static cgroup_handle *make(const char *name, const resource_limits *l) {
  char rel[128];
  rel_of(rel, sizeof rel, name);
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, l, &cg, &err) == 0, "create %s: %s", rel, err.msg);
  return cg;
}

static void destroy(cgroup_handle *cg) {
  pv_err err;
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "destroy: %s", err.msg);
  assert_no_pod_dir();
}

START_TEST(limits_written_and_joined) {
  ck_assert_int_eq(resource_manager_version(rm), CGROUP_V1);
  resource_limits l;
  resource_limits_init(&l);
  l.cpu_shares = 512;
  l.cpu_quota_us = 50000;
  l.cpu_period_us = 100000;
  l.memory_limit = 64 << 20;
  l.pids_limit = 64;
  cgroup_handle *cg = make("limits", &l);
  ck_assert_str_eq(read_knob(cg, "cpu", "cpu.shares"), "512");
  ck_assert_str_eq(read_knob(cg, "cpu", "cpu.cfs_quota_us"), "50000");
  ck_assert_str_eq(read_knob(cg, "cpu", "cpu.cfs_period_us"), "100000");
  ck_assert_str_eq(read_knob(cg, "memory", "memory.limit_in_bytes"), "67108864");
  ck_assert_str_eq(read_knob(cg, "pids", "pids.max"), "64");
  ck_assert_ptr_null(cgroup_handle_dir(cg, "cpuset")); /* joined only for cpuset limits */

  pid_t child = spawn(cg, sleep_forever);
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)child);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  char want[160];
  snprintf(want, sizeof want, "/%s", cgroup_handle_path(cg));
  unsigned seen = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char *ctrls = strchr(line, ':'), *cgpath = ctrls ? strchr(ctrls + 1, ':') : NULL;
    if (cgpath == NULL)
      continue;
    *cgpath++ = '\0';
    ctrls++;
    static const char *const names[] = {"cpu", "cpuacct", "memory", "pids"};
    for (unsigned i = 0; i < 4; i++) {
      char padded[64], list[128];
      snprintf(padded, sizeof padded, ",%s,", names[i]);
      snprintf(list, sizeof list, ",%s,", ctrls);
      if (strstr(list, padded) != NULL) {
        ck_assert_msg(strcmp(cgpath, want) == 0, "%s is in %s, not %s", names[i], cgpath, want);
        seen |= 1u << i;
      }
    }
  }
  fclose(f);
  ck_assert_uint_eq(seen, 0xf);
  ck_assert(!resource_manager_is_empty(cg));
  pv_err err;
  ck_assert_int_eq(resource_manager_kill(cg, SIGKILL, &err), 0);
  int status = reap(child);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ck_assert(resource_manager_is_empty(cg));
  destroy(cg);
}
END_TEST

START_TEST(cpu_usage_counted) {
  cgroup_handle *cg = make("cpu", NULL);
  pid_t child = spawn(cg, burn_cpu);
  ck_assert_int_eq(reap(child), 0);
  resource_stats st;
  pv_err err;
  ck_assert_msg(resource_manager_get_stats(cg, &st, &err) == 0, "%s", err.msg);
  ck_assert_uint_ge(st.cpu_usage_ns, 40000000); /* the child's 50 ms of CPU, less slack */
  ck_assert_uint_eq(st.oom_kills, 0);
  destroy(cg);
}
END_TEST

START_TEST(oom_kill_detected) {
  resource_limits l;
  resource_limits_init(&l);
  l.memory_limit = 16 << 20;
  l.memory_swap = 16 << 20; /* no swapping out of the OOM */
  cgroup_handle *cg = make("oom", &l);
  pid_t child = spawn(cg, hog_memory);
  int status = reap(child);
  ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
  resource_stats st;
  pv_err err;
  ck_assert_msg(resource_manager_get_stats(cg, &st, &err) == 0, "%s", err.msg);
  ck_assert_uint_ge(st.oom_kills, 1);
  ck_assert_uint_ge(st.memory_max_bytes, 8 << 20);
  destroy(cg);
}
END_TEST

/* A cgroup made by create is new (its counters start at zero, so a
 * container need not read them); one that existed already is reused. */
START_TEST(new_or_reused) {
  cgroup_handle *first = make("reuse", NULL);
  ck_assert(resource_manager_cgroup_is_new(first));
  cgroup_handle *again = make("reuse", NULL);
  ck_assert(!resource_manager_cgroup_is_new(again));
  resource_manager_close_cgroup(first);
  destroy(again);
}
END_TEST

START_TEST(pids_limit_stops_forks) {
  resource_limits l;
  resource_limits_init(&l);
  l.pids_limit = 5;
  cgroup_handle *cg = make("pids", &l);
  pid_t child = spawn(cg, fork_loop);
  int status = reap(child);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork loop status %#x", status);
  destroy(cg);
}
END_TEST

START_TEST(destroy_populated_is_ebusy) {
  cgroup_handle *cg = make("busy", NULL);
  pid_t child = spawn(cg, sleep_forever);
  pv_err err;
  ck_assert_int_eq(resource_manager_destroy_cgroup(cg, &err), -1);
  ck_assert_int_eq(errno, EBUSY);
  ck_assert_ptr_nonnull(strstr(err.msg, cgroup_handle_path(cg)));
  /* The handle is still usable: stats, kill, then destroy after the reap. */
  resource_stats st;
  ck_assert_msg(resource_manager_get_stats(cg, &st, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(st.pids_current, 1);
  ck_assert_int_eq(resource_manager_kill(cg, SIGKILL, &err), 0);
  reap(child);
  destroy(cg);
}
END_TEST

START_TEST(update_memory_up_and_down) {
  resource_limits l;
  resource_limits_init(&l);
  l.memory_limit = 64 << 20;
  cgroup_handle *cg = make("update", &l);
  bool memsw = access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
  static const int64_t steps[] = {32 << 20, 256 << 20, 16 << 20, 1LL << 30};
  pv_err err;
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    l.memory_limit = steps[i];
    l.memory_swap = memsw ? steps[i] : 0; /* memsw must follow memory up and down */
    ck_assert_msg(resource_manager_update(cg, &l, &err) == 0, "step %zu: %s", i, err.msg);
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)steps[i]);
    ck_assert_str_eq(read_knob(cg, "memory", "memory.limit_in_bytes"), want);
    if (memsw)
      ck_assert_str_eq(read_knob(cg, "memory", "memory.memsw.limit_in_bytes"), want);
  }
  l.memory_limit = -1;
  l.memory_swap = memsw ? -1 : 0;
  ck_assert_msg(resource_manager_update(cg, &l, &err) == 0, "%s", err.msg);
  ck_assert_int_gt(atoll(read_knob(cg, "memory", "memory.limit_in_bytes")), 1LL << 40);
  destroy(cg);
}
END_TEST

START_TEST(cpuset_and_failed_create) {
  resource_limits l;
  resource_limits_init(&l);
  snprintf(l.cpuset_cpus, sizeof l.cpuset_cpus, "0");
  cgroup_handle *cg = make("pinned", &l);
  ck_assert_str_eq(read_knob(cg, "cpuset", "cpuset.cpus"), "0");
  ck_assert_str_ne(read_knob(cg, "cpuset", "cpuset.mems"), ""); /* inherited, so tasks can join */
  pid_t child = spawn(cg, sleep_forever);
  pv_err err;
  ck_assert_int_eq(resource_manager_kill(cg, SIGKILL, &err), 0);
  reap(child);
  destroy(cg);

  /* The kernel refuses a cpu this host does not have: create names the
   * file and the value and leaves nothing behind. */
  long ncpu = sysconf(_SC_NPROCESSORS_CONF);
  snprintf(l.cpuset_cpus, sizeof l.cpuset_cpus, "%ld", ncpu + 64);
  char rel[128];
  rel_of(rel, sizeof rel, "badcpu");
  cg = NULL;
  ck_assert_int_eq(resource_manager_create_cgroup(rm, rel, &l, &cg, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, rel));
  ck_assert_ptr_nonnull(strstr(err.msg, "cpuset.cpus"));
  ck_assert_ptr_nonnull(strstr(err.msg, l.cpuset_cpus));
  assert_no_pod_dir();
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cgroup_v1");
  TCase *tc = tcase_create("kernel");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, limits_written_and_joined);
  tcase_add_test(tc, cpu_usage_counted);
  tcase_add_test(tc, oom_kill_detected);
  tcase_add_test(tc, new_or_reused);
  tcase_add_test(tc, pids_limit_stops_forks);
  tcase_add_test(tc, destroy_populated_is_ebusy);
  tcase_add_test(tc, update_memory_up_and_down);
  tcase_add_test(tc, cpuset_and_failed_create);
  suite_add_tcase(s, tc);
  return s;
}

static const char *const leaf_names[] = {"limits", "cpu",    "oom",    "pids",
                                         "busy",   "update", "pinned", "badcpu"};

/* Only after a failure: kills and removes what a failed test left. */
static void remove_leftovers(void) {
  pv_err err;
  if (resource_manager_init(&rm, NULL, &err) < 0)
    return;
  for (size_t i = 0; i < sizeof leaf_names / sizeof leaf_names[0]; i++) {
    char rel[128];
    cgroup_handle *cg;
    rel_of(rel, sizeof rel, leaf_names[i]);
    if (resource_manager_open_cgroup(rm, rel, &cg, NULL) < 0)
      continue;
    /* The killed processes are reparented to init, which reaps them in its
     * own time: wait for that here (tests only, bounded to 2 s). */
    for (int tries = 0; tries < 200; tries++) {
      resource_manager_kill(cg, SIGKILL, NULL);
      if (resource_manager_destroy_cgroup(cg, NULL) == 0) {
        cg = NULL;
        break;
      }
      usleep(10000);
    }
    resource_manager_close_cgroup(cg);
  }
  resource_manager_cleanup(rm);
}

/* The host's own answer, read without podvisor's code: how many cgroup v1
 * hierarchies with a controller podvisor uses are mounted under
 * /sys/fs/cgroup.  0 with the reason in why when there is none, -1 with
 * it when the question cannot be answered. */
static int host_v1_hierarchies(const char **why) {
  struct statfs sfs;
  if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
    *why = "/sys/fs/cgroup is a cgroup2 mount, where podvisor uses its v2 backend";
    return 0;
  }
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL) {
    *why = "/proc/self/mountinfo cannot be read";
    return -1;
  }
  char line[1024];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    char mnt[512], type[32], opts[512];
    char *sep = strstr(line, " - ");
    if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
        sscanf(sep + 3, "%31s %*s %511s", type, opts) != 2 || strcmp(type, "cgroup") != 0 ||
        strncmp(mnt, "/sys/fs/cgroup/", 15) != 0)
      continue;
    char *save = NULL;
    for (char *o = strtok_r(opts, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save))
      if (strcmp(o, "cpu") == 0 || strcmp(o, "cpuacct") == 0 || strcmp(o, "cpuset") == 0 ||
          strcmp(o, "memory") == 0 || strcmp(o, "pids") == 0) {
        n++;
        break;
      }
  }
  fclose(f);
  if (n == 0)
    *why = "no cgroup v1 hierarchy with cpu, cpuacct, cpuset, memory or pids is mounted under /sys/fs/cgroup";
  return n;
}

int main(void) {
  testutil_require_root("cgroup_v1");
  snprintf(pod, sizeof pod, "podvisor/test-%d", (int)getpid());
  /* Skipped only on a host without v1 hierarchies; on a v1 host the
   * backend must come up, so a failing init is a failure, not a skip. */
  const char *why = NULL;
  int hiers = host_v1_hierarchies(&why);
  if (hiers < 0) {
    fprintf(stderr, "FAIL: %s\n", why);
    return 1;
  }
  if (hiers == 0) {
    printf("skipped: cgroup v1 integration tests (%s)\n", why);
    return 77;
  }
  resource_manager *probe;
  pv_err err;
  if (resource_manager_init(&probe, NULL, &err) < 0) {
    fprintf(stderr, "FAIL: the host has %d cgroup v1 hierarchies, but resource_manager_init failed: %s\n",
            hiers, err.msg);
    return 1;
  }
  if (resource_manager_version(probe) != CGROUP_V1) {
    fprintf(stderr, "FAIL: the host has %d cgroup v1 hierarchies, but the v%d backend was chosen\n", hiers,
            (int)resource_manager_version(probe));
    resource_manager_cleanup(probe);
    return 1;
  }
  resource_manager_cleanup(probe);
  int rc = testutil_run(suite());
  if (rc != 0)
    remove_leftovers();
  return rc;
}
