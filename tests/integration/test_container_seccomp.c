/*
 * test_container_seccomp.c - system call filters in real containers (root):
 * RuntimeDefault puts the container in seccomp filter mode and blocks new
 * user namespaces, keyrings, bpf, perf and kexec; no filter means mode 0; a
 * profile file blocking mkdir makes mkdir fail with its errno; the filter is
 * installed with and without no_new_privs, as root and as another user, and
 * an exec into the container gets it too.  The system calls busybox has no
 * applet for are made by the static helper tests/integration/sysprobe.c,
 * bind-mounted into the container.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/caps.h"
#include "supervisor/core/container.h"
#include "supervisor/core/seccomp.h"
#include "tests/integration/ctrtest.h"

static pv_err err;
static seccomp_prog runtime_default;
static char probe_dir[PATH_MAX];
static container_mount probe_mount;

static void setup(void) {
  pv_err_clear(&err);
  ck_assert_msg(seccomp_profile_default(caps_default_set(), NULL, &runtime_default, &err) == 0, "%s",
                pv_err_str(&err));
  const char *probe = getenv("PODVISOR_SYSPROBE");
  ck_assert_msg(probe != NULL && access(probe, X_OK) == 0, "PODVISOR_SYSPROBE (the sysprobe helper) not set");
  snprintf(probe_dir, sizeof probe_dir, "%s", probe);
  dirname(probe_dir);
  probe_mount = (container_mount){.source = probe_dir, .destination = "/probe", .readonly = true};
}

static void teardown(void) {
  seccomp_prog_free(&runtime_default);
}

/* sh -c script under filter f (NULL = none), sysprobe at /probe/sysprobe. */
static int run_sh(const char *name, const char *script, const struct sock_fprog *f, char *out, size_t len,
                  void (*adjust)(container_config *)) {
  container_config cfg;
  ctrtest_config_sh(&cfg, name, script);
  cfg.seccomp = f;
  cfg.mounts = &probe_mount;
  cfg.n_mounts = 1;
  if (adjust != NULL)
    adjust(&cfg);
  return ctrtest_run_capture(&cfg, out, len, NULL);
}

#define PROBES "/probe/sysprobe keyctl add_key bpf userfaultfd perf_event_open kexec_load clone_newuser setns"

START_TEST(runtime_default_confines) {
  char out[2048];
  ck_assert_int_eq(
      run_sh("sc-default",
             "grep '^Seccomp:' /proc/self/status; unshare -U true 2>&1; echo unshare=$?; " PROBES,
             &runtime_default.fprog, out, sizeof out, NULL),
      0);
  ck_assert_msg(strstr(out, "Seccomp:\t2\n") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "Operation not permitted") != NULL && strstr(out, "unshare=1") != NULL, "%s",
                out);
  char want[64];
  static const char *const blocked[] = {"keyctl",          "add_key",    "bpf",           "userfaultfd",
                                        "perf_event_open", "kexec_load", "clone_newuser", "setns"};
  for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++) {
    snprintf(want, sizeof want, "%s E%d\n", blocked[i], EPERM);
    ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", want, out);
  }
}
END_TEST

START_TEST(unconfined_has_no_filter) {
  char out[2048];
  ck_assert_int_eq(run_sh("sc-none", "grep '^Seccomp:' /proc/self/status; /probe/sysprobe keyctl", NULL, out,
                          sizeof out, NULL),
                   0);
  ck_assert_msg(strstr(out, "Seccomp:\t0\n") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "keyctl ok\n") != NULL, "%s", out); /* the session keyring exists */
}
END_TEST

START_TEST(profile_file_blocks_mkdir_with_its_errno) {
  char *dir = testutil_tmpdir("seccomp-prof");
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/nomkdir.json", dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"],"
        " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}",
        f);
  fclose(f);
  seccomp_prog p;
  ck_assert_msg(seccomp_profile_load_oci(path, caps_default_set(), NULL, &p, &err) == 0, "%s",
                pv_err_str(&err));
  char out[2048];
  ck_assert_int_eq(run_sh("sc-file", "mkdir /tmp/x 2>&1; echo mkdir=$?; touch /tmp/y && echo touch=$?",
                          &p.fprog, out, sizeof out, NULL),
                   0);
  ck_assert_msg(strstr(out, "Permission denied") != NULL && strstr(out, "mkdir=1") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "touch=0") != NULL, "%s", out);
  seccomp_prog_free(&p);
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

static void without_nnp(container_config *cfg) {
  cfg->no_new_privs = false;
}

static void nobody_without_nnp(container_config *cfg) {
  cfg->no_new_privs = false;
  cfg->uid = 65534;
  cfg->gid = 65534;
}

static void nobody(container_config *cfg) {
  cfg->uid = 65534;
  cfg->gid = 65534;
}

/* Without no_new_privs the filter goes in before the capability drop (the
 * kernel wants CAP_SYS_ADMIN then); with it, after setuid.  Both orders end
 * in the same confinement, as root and as another user. */
START_TEST(installed_with_and_without_no_new_privs) {
  static void (*const adjust[])(container_config *) = {without_nnp, nobody_without_nnp, nobody};
  static const char *const want_nnp[] = {"NoNewPrivs:\t0\n", "NoNewPrivs:\t0\n", "NoNewPrivs:\t1\n"};
  for (size_t i = 0; i < sizeof adjust / sizeof adjust[0]; i++) {
    char out[2048], name[32];
    snprintf(name, sizeof name, "sc-order%zu", i);
    ck_assert_int_eq(run_sh(name,
                            "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; /probe/sysprobe keyctl",
                            &runtime_default.fprog, out, sizeof out, adjust[i]),
                     0);
    ck_assert_msg(strstr(out, "Seccomp:\t2\n") != NULL, "case %zu: %s", i, out);
    ck_assert_msg(strstr(out, want_nnp[i]) != NULL, "case %zu: %s", i, out);
    ck_assert_msg(strstr(out, "keyctl E1\n") != NULL, "case %zu: %s", i, out);
  }
}
END_TEST

START_TEST(exec_gets_the_filter) {
  container_config cfg;
  static char *argv[] = {"sleep", "30", NULL};
  ctrtest_config(&cfg, "sc-exec", argv);
  cfg.seccomp = &runtime_default.fprog;
  container *c = ctrtest_start(&cfg, NULL);
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  static char *xargv[] = {"sh", "-c", "grep '^Seccomp:' /proc/self/status; unshare -U true 2>&1", NULL};
  container_exec_config x = {.argv = xargv, .stdin_fd = -1, .stdout_fd = p[1], .stderr_fd = -1};
  pid_t pid;
  int pidfd;
  ck_assert_msg(container_manager_exec(ctrtest_mgr, c, &x, &pid, &pidfd, &err) == 0, "%s", pv_err_str(&err));
  close(p[1]);
  char out[1024];
  ctrtest_read_all(p[0], out, sizeof out);
  close(p[0]);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  ck_assert_int_eq(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED), 0);
  close(pidfd);
  ck_assert_msg(strstr(out, "Seccomp:\t2\n") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "Operation not permitted") != NULL, "%s", out);
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
}
END_TEST

/* Gives c a new stdout pipe, starts it, reads its stdout and reaps it. */
static void start_read_wait(container *c, char *out, size_t len) {
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  ck_assert_msg(container_manager_set_stdio(ctrtest_mgr, c, -1, p[1], -1, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_msg(container_manager_start(ctrtest_mgr, c, &err) == 0, "%s", pv_err_str(&err));
  close(p[1]);
  ctrtest_read_all(p[0], out, len);
  close(p[0]);
  container_exit ex;
  ck_assert_msg(container_manager_wait(ctrtest_mgr, c, &ex, &err) == 0, "%s", pv_err_str(&err));
}

/* A start after a stop installs the borrowed program again. */
START_TEST(restart_keeps_the_filter) {
  container_config cfg;
  ctrtest_config_sh(&cfg, "sc-again", "grep '^Seccomp:' /proc/self/status");
  cfg.seccomp = &runtime_default.fprog;
  container *c;
  ck_assert_msg(container_manager_create(ctrtest_mgr, &cfg, &c, &err) == 0, "%s", pv_err_str(&err));
  for (int run = 0; run < 2; run++) {
    char out[256];
    start_read_wait(c, out, sizeof out);
    ck_assert_msg(strcmp(out, "Seccomp:\t2\n") == 0, "run %d: %s", run, out);
  }
  ck_assert_int_eq(container_manager_destroy(ctrtest_mgr, c, &err), 0);
}
END_TEST

int main(void) {
  TCase *tc;
  Suite *s = ctrtest_suite("container_seccomp", "seccomp", &tc);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, runtime_default_confines);
  tcase_add_test(tc, unconfined_has_no_filter);
  tcase_add_test(tc, profile_file_blocks_mkdir_with_its_errno);
  tcase_add_test(tc, installed_with_and_without_no_new_privs);
  tcase_add_test(tc, exec_gets_the_filter);
  tcase_add_test(tc, restart_keeps_the_filter);
  return testutil_run(s);
}
