/*
 * Unit tests for the cgroup layer (resource.c, cgroup_v2.c, cgroup_v1.c) on
 * fake trees of plain files in a temp directory.
 *
 * The kernel fills a new cgroup directory with interface files; a plain
 * directory stays empty.  The "fake kernel" helpers below play that part:
 * fake_cgroup() makes the directories with the files the kernel would show
 * (before create, which then adopts them), and fake_release() removes them
 * again (the kernel does that at rmdir), so destroy can rmdir the way it
 * does on cgroupfs.  The production code has no test hook: it never creates
 * a file, so a missing interface file fails as it would on a real kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/resource.h"
#include "supervisor/shim/placement.h"
#include "tests/testutil.h"

static char *root;    /* the fake cgroup2 mount of the current test */
static char rel[160]; /* podvisor/t-<pid>/c */
static char pod[128]; /* podvisor/t-<pid> */

static void put(const char *dir, const char *file, const char *content) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "create %s: %s", path, strerror(errno));
  fputs(content, f);
  fclose(f);
}

/* The content of root/relpath/file, or "<missing>". */
static const char *get(const char *relpath, const char *file) {
  static char buf[512];
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s%s%s/%s", root, relpath[0] ? "/" : "", relpath, file);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return "<missing>";
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static void dir_of(char *buf, size_t size, const char *relpath) {
  int n = snprintf(buf, size, "%s%s%s", root, relpath[0] ? "/" : "", relpath);
  ck_assert(n >= 0 && (size_t)n < size);
}

static bool exists(const char *relpath) {
  char path[PATH_MAX];
  struct stat st;
  dir_of(path, sizeof path, relpath);
  return stat(path, &st) == 0;
}

/* What the kernel puts in every cgroup directory (v2). */
static void fake_core_files(const char *dir) {
  put(dir, "cgroup.procs", "");
  put(dir, "cgroup.subtree_control", "");
  put(dir, "cgroup.controllers", "");
}

/* mkdir -p of relpath with the interface files of a leaf at the end. */
static void fake_cgroup(const char *relpath, bool leaf_files) {
  char path[PATH_MAX];
  dir_of(path, sizeof path, "");
  size_t base = strlen(path);
  snprintf(path + base, sizeof path - base, "/%s", relpath);
  for (char *p = path + base + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(path, 0755) == 0)
        fake_core_files(path);
      *p = c;
      if (c == '\0')
        break;
    }
  }
  if (!leaf_files)
    return;
  static const char *files[][2] = {
      {"cpu.weight", "100\n"},   {"cpu.max", "max 100000\n"},
      {"memory.max", "max\n"},   {"memory.swap.max", "max\n"},
      {"pids.max", "max\n"},     {"cpuset.cpus", "\n"},
      {"cpuset.mems", "\n"},     {"cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"},
      {"memory.current", "0\n"}, {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
      {"pids.current", "0\n"},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    put(path, files[i][0], files[i][1]);
}

/* The kernel's side of rmdir: the interface files vanish with the cgroup. */
static void fake_release(const char *relpath) {
  char path[PATH_MAX];
  dir_of(path, sizeof path, relpath);
  DIR *d = opendir(path);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char f[PATH_MAX + 256];
    snprintf(f, sizeof f, "%s/%s", path, de->d_name);
    if (de->d_type == DT_REG)
      unlink(f);
  }
  closedir(d);
}

static void setup(void) {
  root = testutil_tmpdir("pv-cgv2");
  ck_assert_ptr_nonnull(root);
  put(root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
  put(root, "cgroup.subtree_control", "");
  put(root, "cgroup.procs", "1\n");
  snprintf(pod, sizeof pod, "podvisor/t-%d", (int)getpid());
  snprintf(rel, sizeof rel, "%s/c", pod);
}

static void teardown(void) {
  testutil_rmtree(root);
  free(root);
  root = NULL;
}

static resource_manager *manager(void) {
  resource_manager *rm = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_init(&rm, root, &err) == 0, "init: %s", err.msg);
  return rm;
}

static cgroup_handle *create(resource_manager *rm, const resource_limits *l) {
  cgroup_handle *cg = NULL;
  pv_err err;
  fake_cgroup(rel, true);
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, l, &cg, &err) == 0, "create: %s", err.msg);
  return cg;
}

START_TEST(detects_v2_fake_tree) {
  resource_manager *rm = manager();
  ck_assert_int_eq(resource_manager_version(rm), CGROUP_V2);
  ck_assert_str_eq(resource_manager_root(rm), root);
  resource_manager_cleanup(rm);
  resource_manager_cleanup(NULL);
}
END_TEST

START_TEST(weight_from_shares) {
  static const struct {
    uint64_t shares;
    const char *weight;
  } cases[] = {
      {1024, "39"},
      {2, "1"},
      {262144, "10000"},
      {512, "20"},
  };
  resource_manager *rm = manager();
  resource_limits l;
  resource_limits_init(&l);
  l.cpu_shares = cases[0].shares;
  cgroup_handle *cg = create(rm, &l);
  ck_assert_str_eq(get(rel, "cpu.weight"), "39");
  for (size_t i = 1; i < sizeof cases / sizeof cases[0]; i++) {
    pv_err err;
    l.cpu_shares = cases[i].shares;
    ck_assert_msg(resource_manager_update(cg, &l, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(get(rel, "cpu.weight"), cases[i].weight);
  }
  /* Nothing else was written: only what is set. */
  ck_assert_str_eq(get(rel, "cpu.max"), "max 100000\n");
  ck_assert_str_eq(get(rel, "memory.max"), "max\n");
  ck_assert_str_eq(get(rel, "pids.max"), "max\n");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(cpu_max_memory_pids) {
  resource_manager *rm = manager();
  resource_limits l;
  resource_limits_init(&l);
  l.cpu_quota_us = 50000;
  l.cpu_period_us = 100000;
  l.memory_limit = 64 << 20;
  l.memory_swap = 192 << 20;
  l.pids_limit = -1;
  cgroup_handle *cg = create(rm, &l);
  ck_assert_str_eq(get(rel, "cpu.max"), "50000 100000");
  ck_assert_str_eq(get(rel, "memory.max"), "67108864");
  ck_assert_str_eq(get(rel, "memory.swap.max"), "134217728");
  ck_assert_str_eq(get(rel, "pids.max"), "max");
  ck_assert_str_eq(get(rel, "cpu.weight"), "100\n");

  pv_err err;
  resource_limits u;
  resource_limits_init(&u);
  u.cpu_quota_us = -1;
  u.memory_limit = -1;
  u.memory_swap = -1;
  u.pids_limit = 5;
  ck_assert_msg(resource_manager_update(cg, &u, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get(rel, "cpu.max"), "max 100000");
  ck_assert_str_eq(get(rel, "memory.max"), "max");
  ck_assert_str_eq(get(rel, "memory.swap.max"), "max");
  ck_assert_str_eq(get(rel, "pids.max"), "5");

  /* The period alone keeps the quota in force; the default period is 100 ms. */
  resource_limits_init(&u);
  u.cpu_quota_us = 20000;
  ck_assert_int_eq(resource_manager_update(cg, &u, &err), 0);
  ck_assert_str_eq(get(rel, "cpu.max"), "20000 100000");
  resource_limits_init(&u);
  u.cpu_period_us = 50000;
  ck_assert_int_eq(resource_manager_update(cg, &u, &err), 0);
  ck_assert_str_eq(get(rel, "cpu.max"), "20000 50000");

  /* Bad values are refused before anything is written. */
  resource_limits_init(&u);
  u.memory_limit = 64 << 20;
  u.memory_swap = 32 << 20;
  ck_assert_int_eq(resource_manager_update(cg, &u, &err), -1);
  ck_assert_int_eq(errno, EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, rel));
  ck_assert_str_eq(get(rel, "memory.max"), "max");
  resource_limits_init(&u);
  u.cpu_shares = 1;
  ck_assert_int_eq(resource_manager_update(cg, &u, &err), -1);
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(swap_without_accounting) {
  resource_manager *rm = manager();
  fake_cgroup(rel, true);
  char dir[PATH_MAX], f[PATH_MAX + 32];
  dir_of(dir, sizeof dir, rel);
  snprintf(f, sizeof f, "%s/memory.swap.max", dir);
  ck_assert_int_eq(unlink(f), 0);
  resource_limits l;
  resource_limits_init(&l);
  l.memory_limit = 64 << 20;
  l.memory_swap = 64 << 20; /* no swap: nothing to enforce */
  cgroup_handle *cg;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "%s", err.msg);
  l.memory_swap = 128 << 20;
  ck_assert_int_eq(resource_manager_update(cg, &l, &err), -1);
  ck_assert_int_eq(errno, ENOTSUP);
  ck_assert_ptr_nonnull(strstr(err.msg, "memory.swap.max"));
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(subtree_control_of_ancestors) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  ck_assert_str_eq(get("", "cgroup.subtree_control"), "+cpu +memory +pids +io");
  ck_assert_str_eq(get("podvisor", "cgroup.subtree_control"), "+cpu +memory +pids +io");
  ck_assert_str_eq(get(pod, "cgroup.subtree_control"), "+cpu +memory +pids +io");
  ck_assert_str_eq(get(rel, "cgroup.subtree_control"), ""); /* the leaf holds the processes */

  /* A cpuset asked for later enables cpuset on the whole path. */
  resource_limits l;
  resource_limits_init(&l);
  snprintf(l.cpuset_cpus, sizeof l.cpuset_cpus, "0-1");
  snprintf(l.cpuset_mems, sizeof l.cpuset_mems, "0");
  pv_err err;
  ck_assert_msg(resource_manager_update(cg, &l, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get("", "cgroup.subtree_control"), "+cpu +memory +pids +io +cpuset");
  ck_assert_str_eq(get(pod, "cgroup.subtree_control"), "+cpu +memory +pids +io +cpuset");
  ck_assert_str_eq(get(rel, "cpuset.cpus"), "0-1");
  ck_assert_str_eq(get(rel, "cpuset.mems"), "0");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(only_available_controllers) {
  put(root, "cgroup.controllers", "memory pids\n");
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  ck_assert_str_eq(get("", "cgroup.subtree_control"), "+memory +pids");
  /* Already enabled: read, not written again (the kernel would show it
   * without the '+'). */
  put(root, "cgroup.subtree_control", "memory pids\n");
  resource_manager_close_cgroup(cg);
  cg = create(rm, NULL);
  ck_assert_str_eq(get("", "cgroup.subtree_control"), "memory pids\n");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(stats_from_files) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  char dir[PATH_MAX];
  dir_of(dir, sizeof dir, rel);
  put(dir, "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
  put(dir, "memory.current", "4194304\n");
  put(dir, "memory.peak", "8388608\n");
  put(dir, "memory.events", "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n");
  put(dir, "pids.current", "3\n");
  resource_stats st;
  pv_err err;
  ck_assert_msg(resource_manager_get_stats(cg, &st, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(st.cpu_usage_ns, 1500000);
  ck_assert_uint_eq(st.memory_bytes, 4194304);
  ck_assert_uint_eq(st.memory_max_bytes, 8388608);
  ck_assert_uint_eq(st.oom_kills, 1);
  ck_assert_uint_eq(st.pids_current, 3);

  /* memory.peak is optional (kernels before 5.19); memory.current is not. */
  char f[PATH_MAX + 32];
  snprintf(f, sizeof f, "%s/memory.peak", dir);
  unlink(f);
  ck_assert_int_eq(resource_manager_get_stats(cg, &st, &err), 0);
  ck_assert_uint_eq(st.memory_max_bytes, 0);
  snprintf(f, sizeof f, "%s/memory.current", dir);
  unlink(f);
  ck_assert_int_eq(resource_manager_get_stats(cg, &st, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "memory.current"));
  ck_assert_ptr_nonnull(strstr(err.msg, rel));
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* io.stat: one line per device, summed; no line (no I/O yet) or no file
 * (no io controller) are zeros, not errors. */
START_TEST(io_stats_summed_over_devices) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  char dir[PATH_MAX];
  dir_of(dir, sizeof dir, rel);
  put(dir, "io.stat",
      "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
      "254:16 rbytes=1048576 wbytes=0 rios=16 wios=0 dbytes=512 dios=1\n");
  resource_stats st;
  pv_err err;
  ck_assert_msg(resource_manager_get_stats(cg, &st, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(st.io_read_bytes, 4096 + 1048576);
  ck_assert_uint_eq(st.io_write_bytes, 8192);
  ck_assert_uint_eq(st.io_read_ops, 17);
  ck_assert_uint_eq(st.io_write_ops, 2);
  put(dir, "io.stat", "");
  ck_assert_msg(resource_manager_get_stats(cg, &st, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(st.io_read_bytes, 0);
  ck_assert_uint_eq(st.io_write_ops, 0);
  char f[PATH_MAX + 32];
  snprintf(f, sizeof f, "%s/io.stat", dir);
  ck_assert_int_eq(unlink(f), 0);
  ck_assert_msg(resource_manager_get_stats(cg, &st, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(st.io_read_bytes, 0);
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(procs_add_remove_empty) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  pv_err err;
  ck_assert(resource_manager_is_empty(cg));
  ck_assert_int_eq(resource_manager_add_process(cg, 4242, &err), 0);
  ck_assert_str_eq(get(rel, "cgroup.procs"), "4242");
  ck_assert(!resource_manager_is_empty(cg));
  ck_assert_int_eq(resource_manager_remove_process(cg, 4242, &err), 0);
  ck_assert_str_eq(get("", "cgroup.procs"), "4242");
  char dir[PATH_MAX];
  dir_of(dir, sizeof dir, rel);
  ck_assert_str_eq(cgroup_handle_dir(cg, "memory"), dir);
  ck_assert_str_eq(cgroup_handle_path(cg), rel);
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(kill_uses_cgroup_kill) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  char dir[PATH_MAX];
  dir_of(dir, sizeof dir, rel);
  put(dir, "cgroup.kill", "");
  pv_err err;
  ck_assert_msg(resource_manager_kill(cg, SIGKILL, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get(rel, "cgroup.kill"), "1");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* A child that waits for signals with SIGTERM's default action (Check's
 * SIGTERM handler would take the whole test down with it); returns once it
 * has reset the handler. */
static pid_t fork_waiter(void) {
  int ready[2];
  ck_assert_int_eq(pipe(ready), 0);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    signal(SIGTERM, SIG_DFL);
    close(ready[0]);
    close(ready[1]);
    for (;;)
      pause();
  }
  close(ready[1]);
  char c;
  ck_assert_int_eq(read(ready[0], &c, 1), 0); /* EOF: the child closed its end */
  close(ready[0]);
  return child;
}

START_TEST(kill_walks_procs) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  pid_t child = fork_waiter();
  pv_err err;
  /* SIGTERM never goes through cgroup.kill; the fake procs file keeps
   * listing the pid, so this also shows the walk signals each pid once. */
  ck_assert_int_eq(resource_manager_add_process(cg, child, &err), 0);
  ck_assert_msg(resource_manager_kill(cg, SIGTERM, &err) == 0, "%s", err.msg);
  int status;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFSIGNALED(status));
  ck_assert_int_eq(WTERMSIG(status), SIGTERM);
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* The fake kernel's freezer: watches cgroup.freeze of dir, records each
 * value it sees change to, and answers a "1" with "frozen 1" in
 * cgroup.events (and a "0" with "frozen 0"), as the kernel does once every
 * task stopped.  Stops after `want` changes or 5 s. */
struct fake_freezer {
  char dir[PATH_MAX];
  int want;
  char seen[16];
  bool signalled_while_frozen; /* the waiter was dead when "1" came */
  pid_t waiter;
};

static void *fake_freezer_run(void *arg) {
  struct fake_freezer *fz = arg;
  char last = '0';
  size_t n = 0;
  for (int i = 0; i < 5000 && (int)n < fz->want; i++) {
    char path[PATH_MAX + 32], v = '0';
    snprintf(path, sizeof path, "%s/cgroup.freeze", fz->dir);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
      int c = fgetc(f);
      v = c == EOF ? last : (char)c;
      fclose(f);
    }
    if (v != last) {
      fz->seen[n++] = v;
      last = v;
      if (v == '1' && waitpid(fz->waiter, NULL, WNOHANG) != 0)
        fz->signalled_while_frozen = true;
      put(fz->dir, "cgroup.events", v == '1' ? "populated 1\nfrozen 1\n" : "populated 1\nfrozen 0\n");
    }
    nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
  }
  return NULL;
}

/* A signal other than SIGKILL goes out with the cgroup frozen: freeze,
 * wait for "frozen 1", signal, thaw. */
START_TEST(kill_freezes_around_the_walk) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  struct fake_freezer fz = {.want = 2};
  dir_of(fz.dir, sizeof fz.dir, rel);
  put(fz.dir, "cgroup.freeze", "0\n");
  put(fz.dir, "cgroup.events", "populated 1\nfrozen 0\n");
  pid_t child = fork_waiter();
  fz.waiter = child;
  pv_err err;
  ck_assert_int_eq(resource_manager_add_process(cg, child, &err), 0);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, fake_freezer_run, &fz), 0);
  ck_assert_msg(resource_manager_kill(cg, SIGTERM, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  int status;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  ck_assert_str_eq(fz.seen, "10"); /* frozen, then thawed */
  ck_assert(!fz.signalled_while_frozen);
  ck_assert_str_eq(get(rel, "cgroup.freeze"), "0");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* A freeze that never completes (a task in uninterruptible sleep) holds
 * the kill up for a bounded time only, and is thawed all the same; a
 * cgroup somebody else froze is signalled and left frozen. */
START_TEST(kill_freeze_bounded_and_foreign_freeze_kept) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  char dir[PATH_MAX];
  dir_of(dir, sizeof dir, rel);
  put(dir, "cgroup.freeze", "0\n");
  put(dir, "cgroup.events", "populated 1\nfrozen 0\n");
  pid_t child = fork_waiter();
  pv_err err;
  ck_assert_int_eq(resource_manager_add_process(cg, child, &err), 0);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ck_assert_msg(resource_manager_kill(cg, SIGTERM, &err) == 0, "%s", err.msg);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  ck_assert_msg(took < 3.0, "kill waited %.1f s for a freeze", took);
  ck_assert_str_eq(get(rel, "cgroup.freeze"), "0");
  int status;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

  child = fork_waiter();
  ck_assert_int_eq(resource_manager_add_process(cg, child, &err), 0);
  put(dir, "cgroup.freeze", "1\n");
  ck_assert_msg(resource_manager_kill(cg, SIGTERM, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get(rel, "cgroup.freeze"), "1\n");
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* A cgroup adopted while frozen (a kill that died before its thaw) is
 * thawed: podvisor never leaves a container frozen. */
START_TEST(adoption_thaws_a_frozen_cgroup) {
  fake_cgroup(rel, true);
  char dir[PATH_MAX];
  dir_of(dir, sizeof dir, rel);
  put(dir, "cgroup.freeze", "1\n");
  resource_manager *rm = manager();
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, NULL, &cg, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get(rel, "cgroup.freeze"), "0");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(destroy_removes_leaf_and_pod) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  pv_err err;
  /* Files still there: rmdir fails, and the handle stays usable. */
  ck_assert_int_eq(resource_manager_destroy_cgroup(cg, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, rel));
  ck_assert(exists(rel));
  ck_assert_str_eq(cgroup_handle_path(cg), rel);
  fake_release(rel);
  fake_release(pod);
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "%s", err.msg);
  ck_assert(!exists(rel));
  ck_assert(!exists(pod));
  ck_assert(exists("podvisor")); /* shared by every pod: never removed */
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(destroy_keeps_pod_with_sibling) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  char sib[256];
  snprintf(sib, sizeof sib, "%s/sibling", pod);
  fake_cgroup(sib, true);
  fake_release(rel);
  fake_release(pod);
  pv_err err;
  ck_assert_msg(resource_manager_destroy_cgroup(cg, &err) == 0, "%s", err.msg);
  ck_assert(!exists(rel));
  ck_assert(exists(sib));
  resource_manager_cleanup(rm);
}
END_TEST

/* A cgroup moved aside frees its path for a new one (a restart while the
 * old one's processes still die); a fake tree renames like cgroup v1. */
START_TEST(move_aside_frees_the_path) {
  resource_manager *rm = manager();
  cgroup_handle *old = create(rm, NULL);
  pv_err err;
  ck_assert_int_eq(resource_manager_add_process(old, 4242, &err), 0);
  char aside[256];
  snprintf(aside, sizeof aside, "%s/c.pending-1-0", pod);
  ck_assert_msg(resource_manager_move_cgroup(old, "c.pending-1-0", &err) == 0, "%s", err.msg);
  ck_assert(!exists(rel));
  ck_assert_str_eq(get(aside, "cgroup.procs"), "4242"); /* processes and all */
  ck_assert_str_eq(cgroup_handle_path(old), aside);
  ck_assert(!resource_manager_cgroup_at(old, rel));
  ck_assert(resource_manager_cgroup_at(old, aside));
  ck_assert(!resource_manager_is_empty(old));
  /* Moving to where it already is changes nothing. */
  ck_assert_int_eq(resource_manager_move_cgroup(old, "c.pending-1-0", &err), 0);
  ck_assert(exists(aside));

  cgroup_handle *next = create(rm, NULL);
  ck_assert(resource_manager_is_empty(next));
  ck_assert_str_eq(cgroup_handle_path(next), rel);
  /* The old one goes once its processes are gone; the pod directory stays
   * for the new one, and goes with it. */
  fake_release(aside);
  fake_release(pod);
  ck_assert_msg(resource_manager_destroy_cgroup(old, &err) == 0, "%s", err.msg);
  ck_assert(!exists(aside));
  ck_assert(exists(rel));
  fake_release(rel);
  ck_assert_msg(resource_manager_destroy_cgroup(next, &err) == 0, "%s", err.msg);
  ck_assert(!exists(pod));
  resource_manager_cleanup(rm);
}
END_TEST

static char names[8][64];
static int names_n;

static int note_name(void *ctx, const char *name) {
  (void)ctx;
  if (names_n < 8)
    snprintf(names[names_n], sizeof names[0], "%s", name);
  names_n++;
  return strcmp(name, "stop") == 0 ? 7 : 0;
}

START_TEST(each_child_lists_directories) {
  resource_manager *rm = manager();
  char path[256];
  pv_err err;
  snprintf(path, sizeof path, "%s/a", pod);
  fake_cgroup(path, true);
  snprintf(path, sizeof path, "%s/b", pod);
  fake_cgroup(path, false);
  names_n = 0;
  ck_assert_int_eq(resource_manager_each_child(rm, pod, note_name, NULL, &err), 0);
  ck_assert_int_eq(names_n, 2); /* directories only, not interface files */
  ck_assert(strcmp(names[0], "a") == 0 || strcmp(names[1], "a") == 0);
  ck_assert(strcmp(names[0], "b") == 0 || strcmp(names[1], "b") == 0);
  /* fn's non-zero return ends the walk and is returned. */
  snprintf(path, sizeof path, "%s/stop", pod);
  fake_cgroup(path, false);
  names_n = 0;
  ck_assert_int_eq(resource_manager_each_child(rm, pod, note_name, NULL, &err), 7);
  names_n = 0;
  ck_assert_int_eq(resource_manager_each_child(rm, "podvisor/none", note_name, NULL, &err), 0);
  ck_assert_int_eq(names_n, 0);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(move_refuses_taken_and_bad_names) {
  resource_manager *rm = manager();
  cgroup_handle *cg = create(rm, NULL);
  char taken[256];
  snprintf(taken, sizeof taken, "%s/taken", pod);
  fake_cgroup(taken, true);
  pv_err err;
  ck_assert_int_eq(resource_manager_move_cgroup(cg, "taken", &err), -1);
  ck_assert_int_eq(errno, EEXIST);
  ck_assert_ptr_nonnull(strstr(err.msg, rel));
  ck_assert(exists(rel));
  ck_assert(exists(taken));
  ck_assert_str_eq(cgroup_handle_path(cg), rel);
  ck_assert(resource_manager_cgroup_at(cg, rel));
  static const char *const bad[] = {"", ".", "..", "a/b"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(resource_manager_move_cgroup(cg, bad[i], &err), -1);
    ck_assert_int_eq(errno, EINVAL);
  }
  ck_assert_int_eq(resource_manager_move_cgroup(cg, NULL, &err), -1);
  ck_assert(exists(rel));
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(create_failure_rolls_back) {
  resource_manager *rm = manager();
  fake_cgroup("podvisor", false);
  /* The pod and leaf directories are made by create; as plain directories
   * they lack cgroup.subtree_control, so create fails and removes them. */
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_int_eq(resource_manager_create_cgroup(rm, rel, NULL, &cg, &err), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_ptr_nonnull(strstr(err.msg, rel));
  ck_assert(!exists(rel));
  ck_assert(!exists(pod));
  ck_assert(exists("podvisor"));

  /* A failing limit names the cgroup, the file and the value. */
  fake_cgroup(rel, true);
  char dir[PATH_MAX], f[PATH_MAX + 32];
  dir_of(dir, sizeof dir, rel);
  snprintf(f, sizeof f, "%s/memory.max", dir);
  unlink(f);
  resource_limits l;
  resource_limits_init(&l);
  l.memory_limit = 64 << 20;
  ck_assert_int_eq(resource_manager_create_cgroup(rm, rel, &l, &cg, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, rel));
  ck_assert_ptr_nonnull(strstr(err.msg, "memory.max"));
  ck_assert_ptr_nonnull(strstr(err.msg, "67108864"));
  ck_assert(exists(rel)); /* it existed before: adopted, not removed */
  resource_manager_cleanup(rm);
}
END_TEST

START_TEST(bad_paths_and_open) {
  resource_manager *rm = manager();
  static const char *bad[] = {"", "/abs", "../up", "a//b", "a/./b", "a/", "a/.."};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cgroup_handle *cg = NULL;
    pv_err err;
    ck_assert_msg(resource_manager_create_cgroup(rm, bad[i], NULL, &cg, &err) == -1, "accepted '%s'", bad[i]);
    ck_assert_int_eq(errno, EINVAL);
  }
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_int_eq(resource_manager_open_cgroup(rm, rel, &cg, &err), -1);
  ck_assert_int_eq(errno, ENOENT);
  fake_cgroup(rel, true);
  ck_assert_msg(resource_manager_open_cgroup(rm, rel, &cg, &err) == 0, "%s", err.msg);
  resource_stats st;
  ck_assert_int_eq(resource_manager_get_stats(cg, &st, &err), 0);
  ck_assert_str_eq(get("", "cgroup.subtree_control"), ""); /* open changes nothing */
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);

  ck_assert_int_eq(resource_manager_init(&rm, "/nonexistent/cgroup", &err), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/cgroup"));
}
END_TEST

/* mkdir -p of relpath under hier with files at every level (v1 copies a
 * few of them from the parent when it makes a directory; cpuset's start
 * empty). */
static void fake_v1_cgroup(const char *hier, const char *relpath, const char *const (*files)[2], size_t n) {
  char path[PATH_MAX];
  dir_of(path, sizeof path, hier);
  size_t base = strlen(path);
  snprintf(path + base, sizeof path - base, "/%s", relpath);
  for (char *p = path + base + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char c = *p;
    *p = '\0';
    if (mkdir(path, 0755) == 0) {
      put(path, "cgroup.procs", "");
      for (size_t i = 0; i < n; i++)
        put(path, files[i][0], files[i][1]);
    }
    *p = c;
    if (c == '\0')
      break;
  }
}

/* A destroy that removed one hierarchy's directory but not another's keeps
 * the handle; a new cgroup may then take the removed directory's path (a
 * restart under the same path).  Killing what the old handle still holds
 * must never signal the new cgroup's processes. */
START_TEST(kill_skips_removed_dirs) {
  char path[PATH_MAX], f[PATH_MAX + 32];
  snprintf(f, sizeof f, "%s/cgroup.controllers", root);
  ck_assert_int_eq(unlink(f), 0);
  static const char *const hiers[] = {"cpu,cpuacct", "memory", "pids"};
  for (size_t i = 0; i < 3; i++) {
    dir_of(path, sizeof path, hiers[i]);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    fake_v1_cgroup(hiers[i], rel, NULL, 0);
  }
  snprintf(f, sizeof f, "%s/cpu", root);
  ck_assert_int_eq(symlink("cpu,cpuacct", f), 0);
  resource_manager *rm = manager();
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, NULL, &cg, &err) == 0, "%s", err.msg);
  char cpu[PATH_MAX];
  snprintf(cpu, sizeof cpu, "cpu,cpuacct/%s", rel);
  fake_release(cpu); /* only this one can go */
  ck_assert_int_eq(resource_manager_destroy_cgroup(cg, &err), -1);
  ck_assert(!exists(cpu));

  pid_t child = fork_waiter();
  /* The new cgroup at the old path, holding a live process. */
  dir_of(path, sizeof path, cpu);
  ck_assert_int_eq(mkdir(path, 0755), 0);
  char pid[24];
  snprintf(pid, sizeof pid, "%d\n", (int)child);
  put(path, "cgroup.procs", pid);
  ck_assert_msg(resource_manager_kill(cg, SIGTERM, &err) == 0, "%s", err.msg);
  usleep(50 * 1000);
  int status;
  pid_t r = waitpid(child, &status, WNOHANG);
  kill(child, SIGKILL);
  if (r == 0)
    waitpid(child, &status, 0);
  ck_assert_msg(r == 0, "the new cgroup's process was signalled through the removed directory");
  fake_release(cpu);
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* A fake v1 host: "cpu,cpuacct" combined (with a "cpu" symlink to it, as
 * systemd makes), memory without memsw, a hybrid cgroup2 at unified/ and a
 * name=systemd hierarchy, both of which must stay untouched. */
START_TEST(v1_fake_tree) {
  char path[PATH_MAX], f[PATH_MAX + 32];
  snprintf(f, sizeof f, "%s/cgroup.controllers", root);
  ck_assert_int_eq(unlink(f), 0); /* not a cgroup2 root any more */
  static const char *const dirs[] = {"cpu,cpuacct", "memory", "pids", "cpuset", "systemd", "unified"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    dir_of(path, sizeof path, dirs[i]);
    ck_assert_int_eq(mkdir(path, 0755), 0);
  }
  dir_of(path, sizeof path, "unified");
  put(path, "cgroup.controllers", "hugetlb\n");
  dir_of(path, sizeof path, "cpuset");
  put(path, "cpuset.cpus", "0-1\n");
  put(path, "cpuset.mems", "0\n");
  snprintf(f, sizeof f, "%s/cpu", root);
  ck_assert_int_eq(symlink("cpu,cpuacct", f), 0);

  static const char *const cpu_files[][2] = {{"cpu.shares", "1024\n"},
                                             {"cpu.cfs_quota_us", "-1\n"},
                                             {"cpu.cfs_period_us", "100000\n"},
                                             {"cpuacct.usage", "123456\n"}};
  static const char *const mem_files[][2] = {
      {"memory.limit_in_bytes", "9223372036854771712\n"},
      {"memory.usage_in_bytes", "1000\n"},
      {"memory.max_usage_in_bytes", "2000\n"},
      {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"}};
  static const char *const pids_files[][2] = {{"pids.max", "max\n"}, {"pids.current", "1\n"}};
  static const char *const cpuset_files[][2] = {{"cpuset.cpus", "\n"}, {"cpuset.mems", "\n"}};
  fake_v1_cgroup("cpu,cpuacct", rel, cpu_files, 4);
  fake_v1_cgroup("memory", rel, mem_files, 4);
  fake_v1_cgroup("pids", rel, pids_files, 2);

  resource_manager *rm = manager();
  ck_assert_int_eq(resource_manager_version(rm), CGROUP_V1);
  resource_limits l;
  resource_limits_init(&l);
  l.cpu_shares = 512;
  l.cpu_quota_us = 50000;
  l.memory_limit = 64 << 20;
  l.memory_swap = 64 << 20; /* no memsw file: "no swap" is skipped */
  l.pids_limit = 10;
  cgroup_handle *cg = NULL;
  pv_err err;
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "%s", err.msg);
  char cpudir[256];
  snprintf(cpudir, sizeof cpudir, "cpu,cpuacct/%s", rel);
  ck_assert_str_eq(get(cpudir, "cpu.shares"), "512");
  ck_assert_str_eq(get(cpudir, "cpu.cfs_quota_us"), "50000");
  ck_assert_str_eq(get(cpudir, "cpu.cfs_period_us"), "100000");
  snprintf(path, sizeof path, "memory/%s", rel);
  ck_assert_str_eq(get(path, "memory.limit_in_bytes"), "67108864");
  snprintf(path, sizeof path, "pids/%s", rel);
  ck_assert_str_eq(get(path, "pids.max"), "10");
  dir_of(path, sizeof path, cpudir);
  ck_assert_str_eq(cgroup_handle_dir(cg, "cpuacct"), path);
  ck_assert_ptr_null(cgroup_handle_dir(cg, "cpuset")); /* no cpuset limit: not joined */
  ck_assert(!exists("cpuset/podvisor"));
  ck_assert(!exists("unified/podvisor"));
  ck_assert(!exists("systemd/podvisor"));

  resource_stats st;
  ck_assert_msg(resource_manager_get_stats(cg, &st, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(st.cpu_usage_ns, 123456);
  ck_assert_uint_eq(st.memory_bytes, 1000);
  ck_assert_uint_eq(st.memory_max_bytes, 2000);
  ck_assert_uint_eq(st.oom_kills, 2);
  ck_assert_uint_eq(st.pids_current, 1);

  l.memory_swap = 128 << 20; /* a real swap limit cannot be enforced */
  ck_assert_int_eq(resource_manager_update(cg, &l, &err), -1);
  ck_assert_int_eq(errno, ENOTSUP);
  ck_assert_ptr_nonnull(strstr(err.msg, "memory.memsw.limit_in_bytes"));
  /* Moved aside in every hierarchy it lives in. */
  ck_assert_msg(resource_manager_move_cgroup(cg, "c.pending-7-1", &err) == 0, "%s", err.msg);
  static const char *const v1_used[] = {"cpu,cpuacct", "memory", "pids"};
  for (size_t i = 0; i < sizeof v1_used / sizeof v1_used[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", v1_used[i], rel);
    ck_assert_msg(!exists(path), "%s still there", path);
    snprintf(path, sizeof path, "%s/%s/c.pending-7-1", v1_used[i], pod);
    ck_assert_msg(exists(path), "%s missing", path);
  }
  snprintf(path, sizeof path, "memory/%s/c.pending-7-1", pod);
  ck_assert_str_eq(get(path, "memory.limit_in_bytes"), "67108864");
  /* Listed once, though three hierarchies hold it. */
  names_n = 0;
  ck_assert_int_eq(resource_manager_each_child(rm, pod, note_name, NULL, &err), 0);
  ck_assert_int_eq(names_n, 1);
  ck_assert_str_eq(names[0], "c.pending-7-1");
  resource_manager_close_cgroup(cg);

  /* With cpuset limits, every new cpuset level copies its parent first. */
  char rel2[256];
  snprintf(rel2, sizeof rel2, "%s/pinned", pod);
  fake_v1_cgroup("cpuset", rel2, cpuset_files, 2);
  resource_limits_init(&l);
  snprintf(l.cpuset_cpus, sizeof l.cpuset_cpus, "1");
  ck_assert_msg(resource_manager_create_cgroup(rm, rel2, &l, &cg, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(get("cpuset/podvisor", "cpuset.cpus"), "0-1");
  snprintf(path, sizeof path, "cpuset/%s", pod);
  ck_assert_str_eq(get(path, "cpuset.mems"), "0");
  snprintf(path, sizeof path, "cpuset/%s", rel2);
  ck_assert_str_eq(get(path, "cpuset.cpus"), "1");
  ck_assert_str_eq(get(path, "cpuset.mems"), "0");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

/* The smallest CPU a manifest can ask for (requests.cpu and limits.cpu 1m)
 * lands on the kernel's floors through placement's mapping: 2 shares (v1
 * cpu.shares; v2 cpu.weight 1) and a 1 ms quota per 100 ms.  Anything below
 * is refused, and the container could not start. */
START_TEST(tiny_cpu_from_placement) {
  spec_resources r = {.cpu_request_milli = 1, .cpu_limit_milli = 1};
  resource_limits l;
  placement_limits(&l, &r);
  pv_err err;
  resource_manager *rm = manager();
  cgroup_handle *cg = NULL;
  fake_cgroup(rel, true);
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "v2: %s", err.msg);
  ck_assert_str_eq(get(rel, "cpu.weight"), "1");
  ck_assert_str_eq(get(rel, "cpu.max"), "1000 100000");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);

  char path[PATH_MAX], f[PATH_MAX + 32];
  snprintf(f, sizeof f, "%s/cgroup.controllers", root);
  ck_assert_int_eq(unlink(f), 0); /* the same root as a v1 host */
  static const char *const cpu_files[][2] = {
      {"cpu.shares", "1024\n"}, {"cpu.cfs_quota_us", "-1\n"}, {"cpu.cfs_period_us", "100000\n"}};
  static const char *const pids_files[][2] = {{"pids.max", "max\n"}};
  dir_of(path, sizeof path, "cpu,cpuacct");
  ck_assert_int_eq(mkdir(path, 0755), 0);
  dir_of(path, sizeof path, "pids");
  ck_assert_int_eq(mkdir(path, 0755), 0);
  fake_v1_cgroup("cpu,cpuacct", rel, cpu_files, 3);
  fake_v1_cgroup("pids", rel, pids_files, 1);
  rm = manager();
  ck_assert_int_eq(resource_manager_version(rm), CGROUP_V1);
  ck_assert_msg(resource_manager_create_cgroup(rm, rel, &l, &cg, &err) == 0, "v1: %s", err.msg);
  snprintf(path, sizeof path, "cpu,cpuacct/%s", rel);
  ck_assert_str_eq(get(path, "cpu.shares"), "2");
  ck_assert_str_eq(get(path, "cpu.cfs_quota_us"), "1000");
  ck_assert_str_eq(get(path, "cpu.cfs_period_us"), "100000");
  resource_manager_close_cgroup(cg);
  resource_manager_cleanup(rm);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cgroup_v2");
  TCase *tc = tcase_create("fake_tree");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, detects_v2_fake_tree);
  tcase_add_test(tc, weight_from_shares);
  tcase_add_test(tc, cpu_max_memory_pids);
  tcase_add_test(tc, swap_without_accounting);
  tcase_add_test(tc, subtree_control_of_ancestors);
  tcase_add_test(tc, only_available_controllers);
  tcase_add_test(tc, stats_from_files);
  tcase_add_test(tc, io_stats_summed_over_devices);
  tcase_add_test(tc, procs_add_remove_empty);
  tcase_add_test(tc, kill_uses_cgroup_kill);
  tcase_add_test(tc, kill_walks_procs);
  tcase_add_test(tc, kill_skips_removed_dirs);
  tcase_add_test(tc, kill_freezes_around_the_walk);
  tcase_add_test(tc, kill_freeze_bounded_and_foreign_freeze_kept);
  tcase_add_test(tc, adoption_thaws_a_frozen_cgroup);
  tcase_add_test(tc, destroy_removes_leaf_and_pod);
  tcase_add_test(tc, destroy_keeps_pod_with_sibling);
  tcase_add_test(tc, move_aside_frees_the_path);
  tcase_add_test(tc, move_refuses_taken_and_bad_names);
  tcase_add_test(tc, each_child_lists_directories);
  tcase_add_test(tc, create_failure_rolls_back);
  tcase_add_test(tc, bad_paths_and_open);
  tcase_add_test(tc, v1_fake_tree);
  tcase_add_test(tc, tiny_cpu_from_placement);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
