/* Unit tests for supervisor/core/seccomp*.c: RuntimeDefault (compiled and
 * tried in a child process with no_new_privs), the OCI/Docker JSON profile
 * parser and its errors, capability-dependent rules. */
#include <errno.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/caps.h"
#include "supervisor/core/seccomp.h"
#include "tests/testutil.h"

/* errno of a system call made under the filter, 0 on success. */
typedef long (*probe_fn)(void);

static int under(const seccomp_prog *p, probe_fn fn) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(&p->fprog) < 0)
      _exit(255);
    errno = 0;
    long r = fn();
    _exit(r < 0 ? (errno & 0xff) : 0);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert_msg(WIFEXITED(st), "probe child died of signal %d", WTERMSIG(st));
  ck_assert_int_ne(WEXITSTATUS(st), 255);
  return WEXITSTATUS(st);
}

static long do_getpid(void) {
  return syscall(SYS_getpid) > 0 ? 0 : -1;
}
static long do_keyctl(void) {
  return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
}
static long do_add_key(void) {
  return syscall(SYS_add_key, "user", "k", "v", 1, -3);
}
static long do_bpf(void) {
  return syscall(SYS_bpf, 0, NULL, 0);
}
static long do_unshare_user(void) {
  return syscall(SYS_unshare, CLONE_NEWUSER);
}
static long do_clone_newuser(void) {
  long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (r == 0)
    _exit(0);
  if (r > 0)
    waitpid((pid_t)r, NULL, 0);
  return r < 0 ? -1 : 0;
}
static long do_fork(void) {
  pid_t p = fork();
  if (p == 0)
    _exit(0);
  if (p > 0)
    waitpid(p, NULL, 0);
  return p < 0 ? -1 : 0;
}
static long do_pipe(void) {
  int p[2];
  if (syscall(SYS_pipe2, p, 0) < 0 || syscall(SYS_pipe, p) < 0)
    return -1;
  return 0;
}
static long do_clone3(void) {
  return syscall(SYS_clone3, NULL, 0);
}
static long do_setns(void) {
  return syscall(SYS_setns, -1, 0);
} /* EBADF when the filter lets it through */
static long do_mount(void) {
  return syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0, NULL);
}
static long do_kexec(void) {
  return syscall(SYS_kexec_load, 0, 0, NULL, 0);
}
static long do_userfaultfd(void) {
  return syscall(SYS_userfaultfd, 0);
}
static long do_personality_norandom(void) {
  return syscall(SYS_personality, ADDR_NO_RANDOMIZE);
}
static long do_personality_query(void) {
  return syscall(SYS_personality, 0xffffffff) < 0 ? -1 : 0;
}
/* ENOENT when allowed. */
static long do_mkdir(void) {
  return syscall(SYS_mkdir, "/proc/self/nope", 0700);
}
static long do_mkdir_755(void) {
  return syscall(SYS_mkdir, "/proc/self/nope", 0755);
}
static long do_getppid(void) {
  return syscall(SYS_getppid) > 0 ? 0 : -1;
}
static long do_vsock(void) {
  return syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0);
}
static long do_unix_socket(void) {
  long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
  if (fd >= 0)
    close((int)fd);
  return fd < 0 ? -1 : 0;
}

START_TEST(runtime_default_blocks_the_dangerous_calls) {
  seccomp_prog p;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_msg(seccomp_profile_default(caps_default_set(), NULL, &p, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_uint_gt(p.fprog.len, 10);
  ck_assert_int_eq(under(&p, do_getpid), 0);
  ck_assert_int_eq(under(&p, do_fork), 0);
  ck_assert_int_eq(under(&p, do_pipe), 0);
  ck_assert_int_eq(under(&p, do_unix_socket), 0);
  ck_assert_int_eq(under(&p, do_personality_query), 0);
  ck_assert_int_eq(under(&p, do_mkdir), ENOENT);
  ck_assert_int_eq(under(&p, do_keyctl), EPERM);
  ck_assert_int_eq(under(&p, do_add_key), EPERM);
  ck_assert_int_eq(under(&p, do_bpf), EPERM);
  ck_assert_int_eq(under(&p, do_unshare_user), EPERM);
  ck_assert_int_eq(under(&p, do_clone_newuser), EPERM);
  ck_assert_int_eq(under(&p, do_clone3), ENOSYS); /* libc falls back to clone */
  ck_assert_int_eq(under(&p, do_setns), EPERM);
  ck_assert_int_eq(under(&p, do_mount), EPERM);
  ck_assert_int_eq(under(&p, do_kexec), EPERM);
  ck_assert_int_eq(under(&p, do_userfaultfd), EPERM);
  ck_assert_int_eq(under(&p, do_personality_norandom), EPERM);
  ck_assert_int_eq(under(&p, do_vsock), EPERM);
  seccomp_prog_free(&p);
  seccomp_prog_free(&p); /* twice, and NULL, are fine */
  seccomp_prog_free(NULL);
}
END_TEST

START_TEST(runtime_default_follows_the_capabilities) {
  seccomp_prog p;
  pv_err err;
  pv_err_clear(&err);
  ck_assert(seccomp_profile_default(caps_default_set() | (1ULL << CAP_SYS_ADMIN), NULL, &p, &err) == 0);
  /* The filter lets them through; the kernel answers for itself. */
  ck_assert_int_eq(under(&p, do_setns), EBADF);
  ck_assert_int_ne(under(&p, do_clone3), ENOSYS);
  int e = under(&p, do_mount); /* reached the kernel: no mount point */
  ck_assert_msg(e == ENOENT || geteuid() != 0, "mount: errno %d", e);
  seccomp_prog_free(&p);
  /* CAP_SYS_ADMIN does not open the keyrings or kexec. */
  ck_assert(seccomp_profile_default(~0ULL, NULL, &p, &err) == 0);
  ck_assert_int_eq(under(&p, do_keyctl), EPERM);
  ck_assert_int_eq(under(&p, do_kexec), EPERM);
  seccomp_prog_free(&p);
}
END_TEST

START_TEST(runtime_default_compiles_in_milliseconds) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  seccomp_prog p;
  ck_assert(seccomp_profile_default(caps_default_set(), NULL, &p, NULL) == 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  fprintf(stderr, "RuntimeDefault: %u BPF instructions, compiled in %.2f ms\n", p.fprog.len, ms);
  ck_assert(ms < 500);
  seccomp_prog_free(&p);
}
END_TEST

static const char MKDIR_PROFILE[] =
    "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
    " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],\n"
    " \"syscalls\": [\n"
    "  {\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\",\n"
    "   \"errnoRet\": 13, \"comment\": \"ignored\"},\n"
    "  {\"name\": \"keyctl\", \"action\": \"SCMP_ACT_ERRNO\"}\n"
    " ]}\n";

START_TEST(oci_profile_applies_its_rules) {
  seccomp_prog p;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_msg(seccomp_profile_parse_oci(MKDIR_PROFILE, "mk.json", 0, &p, &err) == 0, "%s",
                pv_err_str(&err));
  ck_assert_int_eq(under(&p, do_mkdir), EACCES);
  ck_assert_int_eq(under(&p, do_keyctl), EPERM); /* errnoRet defaults to EPERM */
  ck_assert_int_eq(under(&p, do_getpid), 0);
  ck_assert_int_eq(under(&p, do_setns), EBADF); /* the default action: allowed */
  seccomp_prog_free(&p);
}
END_TEST

/* args: conditions on the same argument are ORed (one rule each), on
 * different arguments ANDed; includes.caps and excludes.caps select rules,
 * includes.arches of another architecture drops one.  (The default action
 * allows: a child under a deny-by-default filter cannot run a sanitizer's
 * runtime.) */
START_TEST(oci_profile_args_and_caps) {
  static const char json[] =
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n"
      " {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38, \"args\": [\n"
      "   {\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 41, \"op\": "
      "\"SCMP_CMP_EQ\"}]},\n"
      " {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38, \"args\": [\n"
      "   {\"index\": 1, \"value\": 448, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 0, \"value\": 0, \"op\": "
      "\"SCMP_CMP_NE\"}]},\n"
      " {\"names\": [\"setns\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38, \"excludes\": {\"caps\": "
      "[\"CAP_SYS_ADMIN\"]}},\n"
      " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38, \"includes\": "
      "{\"caps\": "
      "[\"CAP_SYS_ADMIN\"]}},\n"
      " {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"arches\": "
      "[\"s390x\"]}}\n"
      "]}";
  seccomp_prog p;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_msg(seccomp_profile_parse_oci(json, "a.json", 0, &p, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(under(&p, do_unix_socket), 0);    /* AF_UNIX = 1: neither condition */
  ck_assert_int_eq(under(&p, do_vsock), ENOSYS);     /* AF_VSOCK = 40: the first */
  ck_assert_int_eq(under(&p, do_mkdir), ENOSYS);     /* mode 0700 and a path: both */
  ck_assert_int_eq(under(&p, do_mkdir_755), ENOENT); /* mode 0755: not both */
  ck_assert_int_eq(under(&p, do_setns), ENOSYS);     /* blocked without CAP_SYS_ADMIN */
  ck_assert_int_eq(under(&p, do_getppid), 0);        /* blocked only with it */
  ck_assert_int_eq(under(&p, do_getpid), 0);         /* another architecture's rule */
  seccomp_prog_free(&p);
  ck_assert(seccomp_profile_parse_oci(json, "a.json", 1ULL << CAP_SYS_ADMIN, &p, &err) == 0);
  ck_assert_int_eq(under(&p, do_setns), EBADF);
  ck_assert_int_eq(under(&p, do_getppid), ENOSYS);
  seccomp_prog_free(&p);
}
END_TEST

/* Each bad profile fails with a message naming the file and the entry. */
START_TEST(oci_profile_errors_name_the_entry) {
  static const struct {
    const char *json, *want;
  } cases[] = {
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], \"action\": "
       "\"SCMP_ACT_ERRNO\"}, {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_BOGUS\"}]}",
       "p.json: syscalls[1]: unknown action 'SCMP_ACT_BOGUS'"},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\", \"mkdri\"], "
       "\"action\": "
       "\"SCMP_ACT_ERRNO\"}]}",
       "p.json: syscalls[0]: unknown system call 'mkdri'"},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": "
       "\"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQUAL\"}]}]}",
       "p.json: syscalls[0]: args[0]: unknown op 'SCMP_CMP_EQUAL'"},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": "
       "\"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
       "p.json: syscalls[0]: args[0]: index: expected an argument number from 0 to 5"},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": "
       "\"SCMP_ACT_NOTIFY\"}]}",
       "p.json: syscalls[0]: action SCMP_ACT_NOTIFY needs a seccomp agent"},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": "
       "\"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_FLY\"]}}]}",
       "p.json: syscalls[0]: includes.caps[0]: unknown capability 'CAP_FLY'"},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_VAX\"]}",
       "p.json: architectures[0]: unknown architecture 'SCMP_ARCH_VAX'"},
      {"{\"syscalls\": []}", "p.json: no defaultAction"},
      {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}", "p.json: defaultAction: errnoRet"},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"syscalls\": [}", "p.json:2:"},
      {"[1, 2]", "p.json: expected a JSON object"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    seccomp_prog p;
    pv_err err;
    pv_err_clear(&err);
    ck_assert_msg(seccomp_profile_parse_oci(cases[i].json, "p.json", 0, &p, &err) < 0, "case %zu parsed", i);
    ck_assert_msg(strstr(pv_err_str(&err), cases[i].want) != NULL, "case %zu: '%s' lacks '%s'", i,
                  pv_err_str(&err), cases[i].want);
    ck_assert_ptr_null(p.fprog.filter);
  }
}
END_TEST

START_TEST(oci_profile_from_a_file) {
  char *dir = testutil_tmpdir("seccomp");
  char path[4096];
  snprintf(path, sizeof path, "%s/mk.json", dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(MKDIR_PROFILE, f);
  fclose(f);
  seccomp_prog p;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_msg(seccomp_profile_load_oci(path, 0, NULL, &p, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_int_eq(under(&p, do_mkdir), EACCES);
  seccomp_prog_free(&p);
  snprintf(path, sizeof path, "%s/missing.json", dir);
  ck_assert_int_lt(seccomp_profile_load_oci(path, 0, NULL, &p, &err), 0);
  ck_assert_int_eq(err.code, ENOENT);
  ck_assert_ptr_nonnull(strstr(pv_err_str(&err), "missing.json"));
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

static size_t count_entries(const char *dir) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '\\.bpf$'", dir);
  FILE *f = popen(cmd, "r");
  ck_assert_ptr_nonnull(f);
  size_t n = 0;
  ck_assert_int_eq(fscanf(f, "%zu", &n), 1);
  pclose(f);
  return n;
}

/* Programs on disk: the second process asking reads what the first
 * compiled, byte for byte and in well under a millisecond; another
 * capability set or profile is another entry; a damaged entry is compiled
 * and written again. */
START_TEST(disk_cache) {
  char *tmp = testutil_tmpdir("seccomp-cache");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/cache/seccomp", tmp); /* neither exists yet */
  seccomp_prog a, b, c;
  pv_err err;
  pv_err_clear(&err);
  ck_assert_msg(seccomp_profile_default(caps_default_set(), dir, &a, &err) == 0, "%s", pv_err_str(&err));
  ck_assert_uint_eq(count_entries(dir), 1);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ck_assert_int_eq(seccomp_profile_default(caps_default_set(), dir, &b, &err), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  fprintf(stderr, "RuntimeDefault from the disk cache: %.3f ms\n", ms);
  ck_assert(ms < 5);
  ck_assert_uint_eq(a.fprog.len, b.fprog.len);
  ck_assert_int_eq(memcmp(a.fprog.filter, b.fprog.filter, a.fprog.len * sizeof *a.fprog.filter), 0);
  seccomp_prog_free(&b);
  ck_assert_int_eq(seccomp_profile_default(caps_default_set() | (1ULL << CAP_SYS_ADMIN), dir, &c, &err), 0);
  ck_assert_uint_eq(count_entries(dir), 2);
  seccomp_prog_free(&c);
  char path[4200];
  snprintf(path, sizeof path, "%s/mk.json", tmp);
  FILE *f = fopen(path, "w");
  fputs(MKDIR_PROFILE, f);
  fclose(f);
  ck_assert_int_eq(seccomp_profile_load_oci(path, 0, dir, &c, &err), 0);
  ck_assert_uint_eq(count_entries(dir), 3);
  ck_assert_int_eq(under(&c, do_mkdir), EACCES);
  seccomp_prog_free(&c);
  /* Truncate every entry: each is ignored, compiled and rewritten. */
  char cmd[4300];
  snprintf(cmd, sizeof cmd,
           "for f in '%s'/*.bpf; do head -c 100 \"$f\" > \"$f.t\" && mv \"$f.t\" \"$f\"; done", dir);
  ck_assert_int_eq(system(cmd), 0);
  ck_assert_int_eq(seccomp_profile_default(caps_default_set(), dir, &b, &err), 0);
  ck_assert_uint_eq(a.fprog.len, b.fprog.len);
  ck_assert_int_eq(memcmp(a.fprog.filter, b.fprog.filter, a.fprog.len * sizeof *a.fprog.filter), 0);
  ck_assert_int_eq(under(&b, do_keyctl), EPERM);
  seccomp_prog_free(&b);
  ck_assert_int_eq(seccomp_profile_default(caps_default_set(), dir, &b, &err), 0); /* rewritten whole */
  ck_assert_int_eq(memcmp(a.fprog.filter, b.fprog.filter, a.fprog.len * sizeof *a.fprog.filter), 0);
  seccomp_prog_free(&b);
  seccomp_prog_free(&a);
  testutil_rmtree(tmp);
  free(tmp);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("seccomp");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, runtime_default_blocks_the_dangerous_calls);
  tcase_add_test(tc, runtime_default_follows_the_capabilities);
  tcase_add_test(tc, runtime_default_compiles_in_milliseconds);
  tcase_add_test(tc, oci_profile_applies_its_rules);
  tcase_add_test(tc, oci_profile_args_and_caps);
  tcase_add_test(tc, oci_profile_errors_name_the_entry);
  tcase_add_test(tc, oci_profile_from_a_file);
  tcase_add_test(tc, disk_cache);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
