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
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/container.h"
#include "supervisor/core/util.h"
#include "tests/integration/ctrtest.h"

static pv_err err;

/* Starts argv in a fresh container whose stdout goes to *rd (a pipe). */
static container *start_bg(container_config *cfg, const char *name, char *const *argv, int *rd) {
  ctrtest_config(cfg, name, argv);
  return ctrtest_start(cfg, rd);
}

/* Runs argv through container_manager_exec and returns its stdout. */
static int exec_capture(container *c, char *const *argv, char *out, size_t len) {
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  container_exec_config x = {.argv = argv, .stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = -1};
  pid_t pid;
  int pidfd;
  ck_assert_msg(container_manager_exec(ctrtest_mgr, c, &x, &pid, &pidfd, &err) == 0, "%s", pv_err_str(&err));
  close(p[1]);
  ctrtest_read_all(p[0], out, len);
  close(p[0]);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ck_assert_int_eq(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
  close(pidfd);
  return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

static bool mountinfo_mentions(const char *needle) {
  char *buf;
  ck_assert_int_eq(pv_read_file("/proc/self/mountinfo", &buf, NULL, NULL), 0);
  bool found = strstr(buf, needle) != NULL;
  free(buf);
  return found;
}

/* true if <hierarchy>/<relpath> exists in any cgroup hierarchy of the host. */
static bool cgroup_dir_exists(const char *relpath) {
  static const char *const h[] = {"memory",  "cpu",   "cpuacct", "pids",    "cpuset", "devices",
                                  "freezer", "blkio", "systemd", "unified", ""};
  for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s%s%s", h[i], h[i][0] ? "/" : "", relpath);
    if (access(path, F_OK) == 0)
      return true;
  }
  return false;
}

START_TEST(pid1_and_hostname) {
  container_config cfg;
  char out[4096];
  container_exit ex;
  static char *argv[] = {"sh", "-c", "echo pid=$$; hostname", NULL};
  ctrtest_config(&cfg, "pid1", argv);
  cfg.hostname = "box1";
  ctrtest_run_capture(&cfg, out, sizeof out, &ex);
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
           "test -e %s && echo visible || echo hidden; awk '$5 == \"/\" {print $9}' /proc/self/mountinfo",
           marker);
  container_config cfg;
  container_exit ex;
  ctrtest_config_sh(&cfg, "hostfiles", script);
  ctrtest_run_capture(&cfg, out, sizeof out, &ex);
  unlink(marker);
  ck_assert_str_eq(out, "hidden\noverlay\n");
}
END_TEST

START_TEST(exit_code_and_signal) {
  container_config cfg;
  char out[64];
  container_exit ex;
  ctrtest_config_sh(&cfg, "exit3", "exit 3");
  ctrtest_run_capture(&cfg, out, sizeof out, &ex);
  ck_assert_int_eq(ex.exit_code, 3);
  ck_assert_int_eq(ex.signal, 0);
  /* The init of a pid namespace ignores SIGKILL from inside it; from the
   * host (container_manager_kill) it dies. */
  static char *argv[] = {"sleep", "100", NULL};
  ctrtest_config(&cfg, "killed", argv);
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_gt(container_pidfd(c), 2);
  ck_assert_int_eq(container_manager_reap(ctrtest_mgr, c, &ex, &err), -1);
  ck_assert_int_eq(errno, EAGAIN);
  ck_assert_int_eq(container_manager_kill(ctrtest_mgr, c, SIGKILL, &err), 0);
  ck_assert_int_eq(container_manager_wait(ctrtest_mgr, c, &ex, &err), 0);
  ck_assert_int_eq(ex.signal, SIGKILL);
  ck_assert_int_eq(ex.exit_code, 137);
  ck_assert(!ex.oom_killed);
  ck_assert_int_eq(container_get_state(c), CONTAINER_STOPPED);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
}
END_TEST

/* started_ns and finished_ns are wall-clock times (CLOCK_REALTIME). */
START_TEST(info_times_are_wall_clock) {
  container_config cfg;
  static char *argv[] = {"sleep", "0.2", NULL};
  ctrtest_config(&cfg, "times", argv);
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  container_info info;
  container_manager_get_info(ctrtest_mgr, c, &info);
  ck_assert_uint_eq(info.started_ns, 0);
  ck_assert_uint_eq(info.finished_ns, 0);
  struct timespec t0, t1;
  clock_gettime(CLOCK_REALTIME, &t0);
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(container_manager_wait(ctrtest_mgr, c, NULL, &err), 0);
  clock_gettime(CLOCK_REALTIME, &t1);
  uint64_t lo = (uint64_t)t0.tv_sec * 1000000000ull + (uint64_t)t0.tv_nsec;
  uint64_t hi = (uint64_t)t1.tv_sec * 1000000000ull + (uint64_t)t1.tv_nsec;
  container_manager_get_info(ctrtest_mgr, c, &info);
  ck_assert_uint_ge(info.started_ns, lo);
  ck_assert_uint_le(info.finished_ns, hi);
  /* sleep 0.2 ran between the two. */
  ck_assert_uint_ge(info.finished_ns - info.started_ns, 150000000ull);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
}
END_TEST

/* Runs script (it sets a TERM trap, then prints a line) in a container,
 * waits for the line so the trap is in place, stops the container with
 * grace_ms, destroys it and returns how long the stop took in ms. */
static uint64_t stop_when_ready(const char *name, const char *script, unsigned grace_ms, container_exit *ex) {
  container_config cfg;
  ctrtest_config_sh(&cfg, name, script);
  int rd;
  container *c = ctrtest_start(&cfg, &rd);
  char buf[16];
  ck_assert_int_gt(read(rd, buf, sizeof buf), 0);
  uint64_t t0 = pv_now_ns();
  ck_assert_msg(container_manager_stop(ctrtest_mgr, c, grace_ms, ex, &err) == 0, "%s", pv_err_str(&err));
  uint64_t ms = (pv_now_ns() - t0) / 1000000;
  close(rd);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
  return ms;
}

START_TEST(stop_escalates_to_sigkill) {
  container_exit ex;
  uint64_t ms = stop_when_ready("stopkill", "trap '' TERM; echo ready; while :; do sleep 1; done", 300, &ex);
  ck_assert_uint_ge(ms, 300);
  ck_assert_uint_lt(ms, 5000);
  ck_assert_int_eq(ex.signal, SIGKILL);
  ck_assert_int_eq(ex.exit_code, 137);
  ck_assert(!ex.oom_killed);
}
END_TEST

START_TEST(stop_graceful) {
  container_exit ex;
  uint64_t ms =
      stop_when_ready("stopterm", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done", 5000, &ex);
  ck_assert_uint_lt(ms, 3000);
  ck_assert_int_eq(ex.signal, 0);
  ck_assert_int_eq(ex.exit_code, 7);
}
END_TEST

START_TEST(destroy_leaves_nothing) {
  container_config cfg;
  static char *argv[] = {"sleep", "30", NULL};
  container *c = start_bg(&cfg, "leftovers", argv, NULL);
  container_info info;
  container_manager_get_info(ctrtest_mgr, c, &info);
  ck_assert_int_eq(info.state, CONTAINER_RUNNING);
  ck_assert_int_gt(info.pid, 0);
  char cgpath[PATH_MAX], dir[PATH_MAX];
  snprintf(cgpath, sizeof cgpath, "%s", info.cgroup_path);
  snprintf(dir, sizeof dir, "%s/%s", ctrtest_state_dir, cfg.id);
  ck_assert(cgroup_dir_exists(cgpath));
  ck_assert_int_eq(access(dir, F_OK), 0);
  /* The overlay lives only in the container's mount namespace. */
  ck_assert(!mountinfo_mentions(ctrtest_state_dir));
  char nsmount[64];
  snprintf(nsmount, sizeof nsmount, "/proc/%d/mountinfo", (int)info.pid);
  char *inside;
  ck_assert_int_eq(pv_read_file(nsmount, &inside, NULL, NULL), 0);
  ck_assert_ptr_nonnull(strstr(inside, " / rw,nodev") ? inside : strstr(inside, " / "));
  free(inside);
  ck_assert_msg(container_manager_destroy(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_ptr_null(container_manager_find(ctrtest_mgr, cfg.id));
  ck_assert(!mountinfo_mentions(ctrtest_state_dir));
  ck_assert(!cgroup_dir_exists(cgpath));
  ck_assert_int_eq(access(dir, F_OK), -1);
  /* A container that wrote to its root leaves an upper layer to walk. */
  char out[64];
  container_exit ex;
  ctrtest_config_sh(&cfg, "writer", "mkdir -p /a/b && echo x >/a/b/f && rm /bin/true && echo ok");
  ctrtest_run_capture(&cfg, out, sizeof out, &ex);
  ck_assert_str_eq(out, "ok\n");
  snprintf(dir, sizeof dir, "%s/%s", ctrtest_state_dir, cfg.id);
  ck_assert_int_eq(access(dir, F_OK), -1);
}
END_TEST

START_TEST(destroy_deferred_leaves_trash) {
  container_config cfg;
  static char *argv[] = {"sleep", "30", NULL};
  container *c = start_bg(&cfg, "deferred", argv, NULL);
  container_info info;
  container_manager_get_info(ctrtest_mgr, c, &info);
  char cgpath[PATH_MAX], dir[PATH_MAX], trash[PATH_MAX], trash2[PATH_MAX], prefix[PATH_MAX],
      sub[PATH_MAX + 16];
  snprintf(cgpath, sizeof cgpath, "%s", info.cgroup_path);
  snprintf(dir, sizeof dir, "%s/%s", ctrtest_state_dir, cfg.id);
  snprintf(prefix, sizeof prefix, "%s/.trash-%s-", ctrtest_state_dir, cfg.id);
  /* A buffer too small fails before anything is torn down. */
  char tiny[8];
  ck_assert_int_eq(container_manager_destroy_deferred(ctrtest_mgr, c, tiny, sizeof tiny, &err), -1);
  ck_assert_int_eq(errno, ENAMETOOLONG);
  ck_assert_int_eq(container_get_state(c), CONTAINER_RUNNING);
  ck_assert_msg(container_manager_destroy_deferred(ctrtest_mgr, c, trash, sizeof trash, &err) == 0, "%s",
                pv_err_str(&err));
  ck_assert_ptr_null(container_manager_find(ctrtest_mgr, cfg.id));
  ck_assert(!cgroup_dir_exists(cgpath));
  ck_assert_int_eq(access(dir, F_OK), -1);
  ck_assert_msg(strncmp(trash, prefix, strlen(prefix)) == 0, "trash %s", trash);
  snprintf(sub, sizeof sub, "%s/upper", trash);
  ck_assert_int_eq(access(sub, F_OK), 0);
  /* The id is free again at once, and its next trash gets another name. */
  c = start_bg(&cfg, "deferred", argv, NULL);
  ck_assert_msg(container_manager_destroy_deferred(ctrtest_mgr, c, trash2, sizeof trash2, &err) == 0, "%s",
                pv_err_str(&err));
  ck_assert_str_ne(trash, trash2);
  ck_assert_int_eq(access(trash2, F_OK), 0);
  ck_assert_int_eq(pv_rm_rf(trash, NULL), 0);
  ck_assert_int_eq(pv_rm_rf(trash2, NULL), 0);
  ck_assert_int_eq(access(trash, F_OK), -1);
  ck_assert(!mountinfo_mentions(ctrtest_state_dir));
}
END_TEST

START_TEST(start_failure_names_step) {
  container_config cfg;
  static char *argv[] = {"/no/such/binary", NULL};
  ctrtest_config(&cfg, "nobinary", argv);
  container *c;
  ck_assert_int_eq(container_manager_create(ctrtest_mgr, &cfg, &c, &err), 0);
  char cgpath[PATH_MAX], dir[PATH_MAX];
  container_info info;
  container_manager_get_info(ctrtest_mgr, c, &info);
  snprintf(cgpath, sizeof cgpath, "%s", info.cgroup_path);
  snprintf(dir, sizeof dir, "%s/%s", ctrtest_state_dir, cfg.id);
  ck_assert_int_eq(container_manager_start(ctrtest_mgr, c, &err), -1);
  ck_assert_int_eq(errno, ENOENT);
  ck_assert_msg(strstr(err.msg, cfg.id) != NULL && strstr(err.msg, "exec /no/such/binary") != NULL, "%s",
                err.msg);
  ck_assert_int_eq(container_get_state(c), CONTAINER_STOPPED);
  container_exit ex;
  ck_assert_int_eq(container_manager_wait(ctrtest_mgr, c, &ex, &err), 0);
  ck_assert_int_eq(ex.exit_code, 127);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
  ck_assert(!cgroup_dir_exists(cgpath));
  ck_assert_int_eq(access(dir, F_OK), -1);
  ck_assert(!mountinfo_mentions(ctrtest_state_dir));
  /* Not in PATH: the message says so. */
  static char *argv2[] = {"nosuchcmd", NULL};
  ctrtest_config(&cfg, "nocmd", argv2);
  ck_assert_int_eq(container_manager_run(ctrtest_mgr, &cfg, &ex, &err), -1);
  ck_assert_msg(strstr(err.msg, "nosuchcmd: not found in the container's PATH") != NULL, "%s", err.msg);
  /* A bad working directory names the chdir step. */
  static char *argv3[] = {"true", NULL};
  ctrtest_config(&cfg, "badcwd", argv3);
  cfg.cwd = "/does/not/exist";
  ck_assert_int_eq(container_manager_run(ctrtest_mgr, &cfg, &ex, &err), -1);
  ck_assert_msg(strstr(err.msg, "chdir to the working directory /does/not/exist") != NULL, "%s", err.msg);
  ck_assert_int_eq(container_manager_list(ctrtest_mgr, NULL, 0), 0);
}
END_TEST

/* Counts the v1 hierarchies (cpu, cpuacct, memory, pids) or the v2 line in
 * which pid sits in /relpath, from the host's view of /proc/PID/cgroup. */
static int cgroup_lines_in(pid_t pid, const char *relpath) {
  char path[64], *buf, want[PATH_MAX];
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
  snprintf(want, sizeof want, ":/%s", relpath);
  if (pv_read_file(path, &buf, NULL, NULL) < 0)
    return -1;
  int n = 0;
  char *save = NULL;
  for (char *l = strtok_r(buf, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
    char *p = strstr(l, want);
    if (p != NULL && p[strlen(want)] == '\0')
      n++;
  }
  free(buf);
  return n;
}

/* The first child of pid (0 while it has none yet). */
static pid_t first_child(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  FILE *f = fopen(path, "r");
  int child = 0;
  if (f != NULL) {
    if (fscanf(f, "%d", &child) != 1)
      child = 0;
    fclose(f);
  }
  return (pid_t)child;
}

/* How many hierarchies a container's cgroup is in: on v1 those holding cpu,
 * cpuacct, memory, pids or devices (the device allow-list: four when cpu
 * and cpuacct are co-mounted, five when separate), read from this
 * process's /proc/self/cgroup; on v2 the unified one. */
static int cgroup_hierarchies_expected(void) {
  if (!cgroup_dir_exists("") || access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
    return 1;
  FILE *f = fopen("/proc/self/cgroup", "re");
  ck_assert_ptr_nonnull(f);
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    char *ctrls = strchr(line, ':'), *end;
    if (ctrls == NULL || (end = strchr(++ctrls, ':')) == NULL)
      continue;
    *end = '\0';
    bool used = false;
    for (char *save = NULL, *t = strtok_r(ctrls, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
      used |= strcmp(t, "cpu") == 0 || strcmp(t, "cpuacct") == 0 || strcmp(t, "memory") == 0 ||
              strcmp(t, "pids") == 0 || strcmp(t, "devices") == 0;
    n += used;
  }
  fclose(f);
  return n;
}

/* The init, its children and an exec'd process are in the container's
 * cgroup in every hierarchy it uses (the process joins by itself: on v1
 * through the tasks file, which moves its one thread). */
START_TEST(processes_join_the_cgroup) {
  container_config cfg;
  static char *argv[] = {"sh", "-c", "sleep 30 & wait", NULL};
  container *c = start_bg(&cfg, "cgjoin", argv, NULL);
  container_info info;
  container_manager_get_info(ctrtest_mgr, c, &info);
  int expect = cgroup_hierarchies_expected();
  ck_assert_int_eq(cgroup_lines_in(info.pid, info.cgroup_path), expect);
  pid_t child = 0;
  for (int i = 0; i < 200 && (child = first_child(info.pid)) == 0; i++)
    usleep(5000);
  ck_assert_int_gt(child, 0);
  ck_assert_int_eq(cgroup_lines_in(child, info.cgroup_path), expect);
  static char *xargv[] = {"sleep", "30", NULL};
  container_exec_config x = {.argv = xargv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  pid_t pid;
  int pidfd;
  ck_assert_msg(container_manager_exec(ctrtest_mgr, c, &x, &pid, &pidfd, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(cgroup_lines_in(pid, info.cgroup_path), expect);
  /* Reaped first: the init of a pid namespace waits for it to be reaped. */
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ck_assert_int_eq(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
  close(pidfd);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
}
END_TEST

START_TEST(exec_same_pid_namespace) {
  container_config cfg;
  static char *argv[] = {"sleep", "30", NULL};
  ctrtest_config(&cfg, "exec", argv);
  cfg.hostname = "exechost";
  container *c;
  ck_assert_int_eq(container_manager_create(ctrtest_mgr, &cfg, &c, &err), 0);
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  char host_ns[128], path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)container_pid(c));
  ssize_t n = readlink(path, host_ns, sizeof host_ns - 1);
  ck_assert_int_gt(n, 0);
  host_ns[n] = '\0';
  static char *xargv[] = {"sh", "-c",
                          "readlink /proc/self/ns/pid; tr '\\0' ' ' </proc/1/cmdline; echo; "
                          "hostname; pwd; grep NoNewPrivs /proc/self/status",
                          NULL};
  char out[4096], expect[4096];
  ck_assert_int_eq(exec_capture(c, xargv, out, sizeof out), 0);
  snprintf(expect, sizeof expect, "%s\nsleep 30 \nexechost\n/\nNoNewPrivs:\t1\n", host_ns);
  ck_assert_str_eq(out, expect);
  /* exec of a missing command fails with a message and no process. */
  static char *bad[] = {"nosuch", NULL};
  container_exec_config x = {.argv = bad, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
  pid_t pid;
  int pidfd;
  ck_assert_int_eq(container_manager_exec(ctrtest_mgr, c, &x, &pid, &pidfd, &err), -1);
  ck_assert_msg(strstr(err.msg, "nosuch") != NULL, "%s", err.msg);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
}
END_TEST

/* exec with tty: the process leads its own session and has its stdin, a
 * pty's slave, as controlling terminal (what `exec -t` gives a shell). */
START_TEST(exec_tty_controlling_terminal) {
  container_config cfg;
  static char *argv[] = {"sleep", "30", NULL};
  ctrtest_config(&cfg, "exectty", argv);
  container *c;
  ck_assert_int_eq(container_manager_create(ctrtest_mgr, &cfg, &c, &err), 0);
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ck_assert_int_ge(master, 0);
  ck_assert_int_eq(grantpt(master), 0);
  ck_assert_int_eq(unlockpt(master), 0);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ck_assert_int_ge(slave, 0);
  /* Fields 6 and 7 of /proc/self/stat: session id and tty_nr; $$ is the
   * shell's pid in the container's pid namespace, the same numbering. */
  static char *xargv[] = {"sh", "-c",
                          "[ -t 0 ] && echo isatty; read -r s < /proc/self/stat; set -- $s; "
                          "echo \"pid=$1 sid=$6 tty=$7\"",
                          NULL};
  for (int tty = 1; tty >= 0; tty--) {
    container_exec_config x = {
        .argv = xargv, .stdin_fd = slave, .stdout_fd = slave, .stderr_fd = slave, .tty = tty};
    pid_t pid;
    int pidfd;
    ck_assert_msg(container_manager_exec(ctrtest_mgr, c, &x, &pid, &pidfd, &err) == 0, "%s",
                  pv_err_str(&err));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    ck_assert_int_eq(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
    close(pidfd);
    char out[512] = "";
    size_t n = 0;
    struct pollfd p = {.fd = master, .events = POLLIN};
    while (n < sizeof out - 1 && poll(&p, 1, 200) == 1) {
      ssize_t r = read(master, out + n, sizeof out - 1 - n);
      if (r <= 0)
        break;
      n += (size_t)r;
    }
    out[n] = '\0';
    ck_assert_msg(strstr(out, "isatty") != NULL, "%s", out);
    int spid = -1, sid = -1, ttynr = -1;
    const char *line = strstr(out, "pid=");
    ck_assert_msg(line != NULL && sscanf(line, "pid=%d sid=%d tty=%d", &spid, &sid, &ttynr) == 3, "%s", out);
    if (tty) {
      ck_assert_msg(sid == spid && ttynr != 0, "no session of its own with a terminal: %s", out);
    } else {
      ck_assert_msg(sid != spid && ttynr == 0, "tty=false gave a session or terminal: %s", out);
    }
  }
  close(slave);
  close(master);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
}
END_TEST

int main(void) {
  TCase *tc;
  Suite *s = ctrtest_suite("container", "lifecycle", &tc);
  tcase_add_test(tc, pid1_and_hostname);
  tcase_add_test(tc, host_files_invisible);
  tcase_add_test(tc, exit_code_and_signal);
  tcase_add_test(tc, info_times_are_wall_clock);
  tcase_add_test(tc, stop_escalates_to_sigkill);
  tcase_add_test(tc, stop_graceful);
  tcase_add_test(tc, destroy_leaves_nothing);
  tcase_add_test(tc, destroy_deferred_leaves_trash);
  tcase_add_test(tc, start_failure_names_step);
  tcase_add_test(tc, exec_same_pid_namespace);
  tcase_add_test(tc, processes_join_the_cgroup);
  tcase_add_test(tc, exec_tty_controlling_terminal);
  return testutil_run(s);
}
