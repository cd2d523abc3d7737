/*
 * sysprobe.c - a static helper the seccomp integration tests run inside
 * containers (busybox has no applet for these system calls): for each
 * argument, makes that system call with harmless arguments and prints
 * "NAME ok" or "NAME E<errno>" (the number), one line each.
 *   keyctl add_key bpf userfaultfd perf_event_open kexec_load
 *   unshare_user clone_newuser setns
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long probe(const char *name) {
  if (strcmp(name, "keyctl") == 0)
    return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* the session keyring */, 0);
  if (strcmp(name, "add_key") == 0)
    return syscall(SYS_add_key, "user", "podvisor-probe", "v", 1, -3);
  if (strcmp(name, "bpf") == 0)
    return syscall(SYS_bpf, 0, NULL, 0);
  if (strcmp(name, "userfaultfd") == 0)
    return syscall(SYS_userfaultfd, 0);
  if (strcmp(name, "perf_event_open") == 0) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
  }
  if (strcmp(name, "kexec_load") == 0)
    return syscall(SYS_kexec_load, 0, 0, NULL, 0);
  if (strcmp(name, "unshare_user") == 0)
    return syscall(SYS_unshare, CLONE_NEWUSER);
  if (strcmp(name, "clone_newuser") == 0) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0)
      _exit(0);
    if (pid > 0)
      waitpid((pid_t)pid, NULL, 0);
    return pid < 0 ? -1 : 0;
  }
  if (strcmp(name, "setns") == 0)
    return syscall(SYS_setns, -1, 0);
  errno = EINVAL;
  return -2;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    errno = 0;
    long r = probe(argv[i]);
    if (r == -2)
      printf("%s unknown\n", argv[i]);
    else if (r < 0)
      printf("%s E%d\n", argv[i], errno);
    else
      printf("%s ok\n", argv[i]);
  }
  return 0;
}
