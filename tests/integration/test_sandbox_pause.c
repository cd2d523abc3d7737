/*
 * test_sandbox_pause.c - the pause process of a shared pid namespace
 * (sandbox.h): a SIGKILLed pause is told dead while it still exits, replaced
 * by a new one in a fresh pid namespace, and later children are born there;
 * with a second thread and libuv's thread pool running too; a failed
 * replacement names its step; a replacement holds none of its parent's fds
 * and signal handlers.
 *
 * sandbox_enter() unshares the calling process, so every test relies on
 * Check's fork mode: each runs in a process of its own (main() skips the
 * suite when CK_FORK=no).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "supervisor/shim/sandbox.h"
#include "tests/testutil.h"

static ino_t ns_ino(pid_t pid) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
  if (stat(path, &st) < 0)
    return 0;
  return st.st_ino;
}

/* The caller's own (getpid() is namespace-relative, /proc/self is not). */
static ino_t self_ns_ino(void) {
  struct stat st;
  if (stat("/proc/self/ns/pid", &st) < 0)
    return 0;
  return st.st_ino;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void enter(sandbox *sb, void (*before)(void *)) {
  sandbox_config cfg = {.host_network = true, .share_pid = true, .before_pid_ns = before};
  pv_err err;
  pv_err_clear(&err);
  ck_assert_msg(sandbox_enter(sb, &cfg, &err) == 0, "sandbox_enter: %s", pv_err_str(&err));
  ck_assert_int_gt(sb->pause_pid, 0);
  ck_assert_int_ge(sb->pause_pidfd, 0);
  ck_assert_int_ge(sb->own_pidns, 0);
  ck_assert(sandbox_pause_alive(sb));
}

/* SIGKILLs the pause and waits until the sandbox calls it dead. */
static pid_t kill_pause(sandbox *sb) {
  pid_t p = sb->pause_pid;
  ck_assert_int_eq(kill(p, SIGKILL), 0);
  for (int i = 0; i < 500 && sandbox_pause_alive(sb); i++)
    sleep_ms(10);
  ck_assert_msg(!sandbox_pause_alive(sb), "pause %d still alive after SIGKILL", (int)p);
  return p;
}

static void renew_ok(sandbox *sb, sandbox_pause *old) {
  pv_err err;
  pv_err_clear(&err);
  ck_assert_msg(sandbox_renew(sb, old, &err) == 0, "sandbox_renew: %s", pv_err_str(&err));
  ck_assert(sandbox_pause_alive(sb));
}

static void reap_old(sandbox_pause *old) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ck_assert_int_eq(waitid((idtype_t)P_PIDFD, (id_t)old->pidfd, &si, WEXITED), 0);
  ck_assert_int_eq(si.si_pid, old->pid);
  ck_assert_int_eq(si.si_code, CLD_KILLED);
  ck_assert_int_eq(si.si_status, SIGKILL);
  close(old->pidfd);
}

/* A child forked now: its pid namespace must be the pause's (want), its
 * pid there > 1, and a proc mounted for its namespace must show the pause
 * as pid 1.  Exit codes name the failing check. */
static void child_lands_in(ino_t want) {
  char *dir = testutil_tmpdir("pv-pause-proc");
  pid_t c = fork();
  ck_assert_int_ge(c, 0);
  if (c == 0) {
    if (self_ns_ino() != want)
      _exit(2);
    if (getpid() <= 1)
      _exit(3);
    if (mount("proc", dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
      _exit(4);
    char path[4200], comm[32] = "";
    snprintf(path, sizeof path, "%s/1/comm", dir);
    /* A pause just forked may not have named itself yet. */
    for (int i = 0; i < 200 && strcmp(comm, "podvisor-pause\n") != 0; i++) {
      if (i > 0)
        sleep_ms(10);
      memset(comm, 0, sizeof comm);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        if (read(fd, comm, sizeof comm - 1) < 0)
          comm[0] = '\0';
        close(fd);
      }
    }
    umount2(dir, MNT_DETACH);
    _exit(strcmp(comm, "podvisor-pause\n") == 0 ? 0 : 5);
  }
  int st = 0;
  ck_assert_int_eq(waitpid(c, &st, 0), c);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "child: wrong pid namespace (2), pid 1 (3), proc mount (4) or pid 1 not the pause (5): %d",
                WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
  rmdir(dir);
  free(dir);
}

START_TEST(renew_after_kill) {
  sandbox sb;
  enter(&sb, NULL);
  ino_t ns1 = ns_ino(sb.pause_pid);
  ck_assert_uint_ne(ns1, self_ns_ino());
  child_lands_in(ns1);
  pid_t p1 = kill_pause(&sb);
  /* Once the pause is gone, its namespace takes no new process. */
  struct pollfd pfd = {.fd = sb.pause_pidfd, .events = POLLIN};
  ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
  pid_t c = fork();
  if (c == 0)
    _exit(0);
  ck_assert_int_eq(c, -1);
  ck_assert_int_eq(errno, ENOMEM);
  sandbox_pause old;
  renew_ok(&sb, &old);
  ck_assert_int_eq(old.pid, p1);
  ck_assert_int_ne(sb.pause_pid, p1);
  ino_t ns2 = ns_ino(sb.pause_pid);
  ck_assert_uint_ne(ns2, 0);
  ck_assert_uint_ne(ns2, ns1);
  ck_assert_uint_ne(ns2, self_ns_ino());
  reap_old(&old);
  child_lands_in(ns2);
  /* And once more: a second renewal works the same way. */
  kill_pause(&sb);
  renew_ok(&sb, &old);
  reap_old(&old);
  ck_assert_uint_ne(ns_ino(sb.pause_pid), ns2);
  child_lands_in(ns_ino(sb.pause_pid));
  sandbox_release(&sb);
  ck_assert_int_eq(sb.pause_pid, 0);
  ck_assert_int_eq(sb.pause_pidfd, -1);
  ck_assert_int_eq(sb.own_pidns, -1);
  /* Children are born at home again, not in a namespace without init. */
  c = fork();
  ck_assert_int_ge(c, 0);
  if (c == 0)
    _exit(0);
  ck_assert_int_eq(waitpid(c, NULL, 0), c);
}
END_TEST

/* The killed pause waits for its namespace's other processes to be reaped
 * by their parent (here: us) before its pidfd turns readable; the sandbox
 * already calls it dead and can be renewed meanwhile. */
START_TEST(renew_while_exiting) {
  sandbox sb;
  enter(&sb, NULL);
  pid_t m = fork();
  ck_assert_int_ge(m, 0);
  if (m == 0) {
    for (;;)
      pause();
  }
  ino_t ns1 = ns_ino(sb.pause_pid);
  kill_pause(&sb);
  struct pollfd pfd = {.fd = sb.pause_pidfd, .events = POLLIN};
  sleep_ms(50);
  ck_assert_int_eq(poll(&pfd, 1, 0), 0); /* still exiting: m is not reaped */
  sandbox_pause old;
  renew_ok(&sb, &old);
  ck_assert_uint_ne(ns_ino(sb.pause_pid), ns1);
  child_lands_in(ns_ino(sb.pause_pid));
  int st = 0;
  ck_assert_int_eq(waitpid(m, &st, 0), m);
  ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL); /* killed with its namespace */
  reap_old(&old);
  sandbox_release(&sb);
}
END_TEST

/* --- with threads ------------------------------------------------------------------ */

static int req_fd[2], ans_fd[2];

/* A second thread that stays busy for the whole test: answers every byte. */
static void *echo_thread(void *arg) {
  (void)arg;
  char b;
  while (read(req_fd[0], &b, 1) == 1)
    if (write(ans_fd[1], &b, 1) != 1)
      break;
  return NULL;
}

static void pool_noop(uv_work_t *req) {
  (void)req;
}

/* As the shim does: threads exist before the pid namespace is unshared. */
static void start_threads(void *ctx) {
  (void)ctx;
  ck_assert_int_eq(pipe2(req_fd, O_CLOEXEC), 0);
  ck_assert_int_eq(pipe2(ans_fd, O_CLOEXEC), 0);
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, echo_thread, NULL), 0);
  pthread_detach(t);
  uv_loop_t l;
  uv_work_t req;
  ck_assert_int_eq(uv_loop_init(&l), 0);
  ck_assert_int_eq(uv_queue_work(&l, &req, pool_noop, NULL), 0);
  uv_run(&l, UV_RUN_DEFAULT);
  uv_loop_close(&l);
}

static uv_thread_t work_thread;
static int works_done;
static void record_thread(uv_work_t *req) {
  (void)req;
  work_thread = uv_thread_self();
}
static void after_record(uv_work_t *req, int status) {
  (void)req;
  if (status == 0)
    works_done++;
}

START_TEST(renew_with_threads) {
  sandbox sb;
  enter(&sb, start_threads);
  ino_t ns1 = ns_ino(sb.pause_pid);
  kill_pause(&sb);
  sandbox_pause old;
  renew_ok(&sb, &old);
  reap_old(&old);
  ck_assert_uint_ne(ns_ino(sb.pause_pid), ns1);
  child_lands_in(ns_ino(sb.pause_pid));
  /* The second thread lives on ... */
  char b = 'x', got = 0;
  ck_assert_int_eq(write(req_fd[1], &b, 1), 1);
  ck_assert_int_eq(read(ans_fd[0], &got, 1), 1);
  ck_assert_int_eq(got, 'x');
  /* ... and so does the thread pool (status.json writes go through it). */
  uv_loop_t l;
  uv_work_t req;
  uv_thread_t self = uv_thread_self();
  ck_assert_int_eq(uv_loop_init(&l), 0);
  ck_assert_int_eq(uv_queue_work(&l, &req, record_thread, after_record), 0);
  uv_run(&l, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&l), 0);
  ck_assert_int_eq(works_done, 1);
  ck_assert(!uv_thread_equal(&work_thread, &self));
  sandbox_release(&sb);
}
END_TEST

START_TEST(renew_failure_names_step) {
  sandbox sb;
  enter(&sb, NULL);
  /* Without its way home the renewal cannot unshare a new namespace. */
  int home = sb.own_pidns;
  sb.own_pidns = -1;
  pid_t p1 = kill_pause(&sb);
  sandbox_pause old;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(sandbox_renew(&sb, &old, &err), -1);
  ck_assert_ptr_nonnull(strstr(pv_err_str(&err), "sandbox: setns back into the shim's own pid namespace"));
  ck_assert_int_eq(old.pid, p1); /* handed over all the same */
  ck_assert_int_eq(sb.pause_pid, 0);
  ck_assert_int_eq(sb.pause_pidfd, -1);
  ck_assert(!sandbox_pause_alive(&sb));
  reap_old(&old);
  sb.own_pidns = home; /* sandbox_release() goes home with it */
  sandbox_release(&sb);
}
END_TEST

START_TEST(no_shared_pid) {
  sandbox sb;
  sandbox_config cfg = {.host_network = true};
  pv_err err;
  pv_err_clear(&err);
  ck_assert_int_eq(sandbox_enter(&sb, &cfg, &err), 0);
  ck_assert_int_eq(sb.pause_pid, 0);
  ck_assert_int_eq(sb.own_pidns, -1);
  ck_assert(sandbox_pause_alive(&sb));
  ck_assert(sandbox_container_namespaces(&sb) & CLONE_NEWPID);
  sandbox_pause old;
  ck_assert_int_eq(sandbox_renew(&sb, &old, &err), -1);
  ck_assert_int_eq(err.code, EINVAL);
  ck_assert_int_eq(old.pid, 0);
  ck_assert_int_eq(old.pidfd, -1);
  sandbox_release(&sb);
}
END_TEST

/* --- what a replacement inherits ---------------------------------------------------- */

static void on_usr1(int sig) {
  (void)sig;
}

/* The pause's caught-signal mask once it is set up ("" if unreadable). */
static void sig_caught(pid_t pid, char *out, size_t len) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  out[0] = '\0';
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "SigCgt:\t", 8) == 0)
      snprintf(out, len, "%.*s", (int)strcspn(line + 8, "\n"), line + 8);
  fclose(f);
}

START_TEST(replacement_inherits_nothing) {
  sandbox sb;
  enter(&sb, NULL);
  /* What a running shim has: an inheritable fd and a signal handler. */
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
  kill_pause(&sb);
  sandbox_pause old;
  renew_ok(&sb, &old);
  reap_old(&old);
  /* Only SIGCHLD (bit 16) is caught, once the pause has set itself up. */
  char mask[32] = "";
  for (int i = 0; i < 500; i++) {
    sig_caught(sb.pause_pid, mask, sizeof mask);
    if (strcmp(mask, "0000000000010000") == 0)
      break;
    sleep_ms(10);
  }
  ck_assert_str_eq(mask, "0000000000010000");
  char path[64];
  for (int fd = 3; fd < 64; fd++) {
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)sb.pause_pid, fd);
    ck_assert_msg(access(path, F_OK) < 0, "the pause holds fd %d", fd);
  }
  close(p[0]);
  close(p[1]);
  sandbox_release(&sb);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("sandbox_pause");
  TCase *t = tcase_create("pause");
  tcase_add_test(t, renew_after_kill);
  tcase_add_test(t, renew_while_exiting);
  tcase_add_test(t, renew_with_threads);
  tcase_add_test(t, renew_failure_names_step);
  tcase_add_test(t, no_shared_pid);
  tcase_add_test(t, replacement_inherits_nothing);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  testutil_require_root("sandbox_pause");
  const char *fork_mode = getenv("CK_FORK");
  if (fork_mode != NULL && strcmp(fork_mode, "no") == 0) {
    printf("skipped: sandbox_pause needs Check's fork mode (each test unshares its process)\n");
    return 77;
  }
  return testutil_run(suite());
}
