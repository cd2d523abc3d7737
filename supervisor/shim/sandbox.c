/* sandbox.c - the pod's shared namespaces, held by the shim process itself. */
#include "supervisor/shim/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spec/sysctl.h"
#include "supervisor/core/util.h"

void sandbox_hostname_from(const char *name, char buf[64]) {
  size_t n = strlen(name);
  if (n > 63)
    n = 63;
  memcpy(buf, name, n);
  buf[n] = '\0';
  /* A hostname label may not end in '-' or '.'; a pod name cut at 63 can. */
  while (n > 0 && (buf[n - 1] == '-' || buf[n - 1] == '.'))
    buf[--n] = '\0';
}

int sandbox_link_up(const char *ifname, pv_err *err) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return pv_err_sys(err, "sandbox: socket for %s", ifname);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  if (rc < 0) {
    pv_err_sys(err, "sandbox: bring %s up", ifname);
    close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

/* The pause process: pid 1 of a shared pid namespace.  As pid 1 it ignores
 * every signal it has no handler for, so it only reaps the orphans the
 * kernel hands to it.  It never returns. */
static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static void pause_main(int userns) {
  /* As pid 1 of a new namespace its parent is outside it (getppid() is 0),
   * so the usual "did my parent die before prctl" check cannot be made; the
   * window is a few instructions right after fork. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_NAME, "podvisor-pause");
  /* In a pod with a user namespace the pause is the pod's root too, not
   * the host's: no container can signal or trace a host root process then,
   * and none of the pod's runs as one. */
  if (userns >= 0 && sandbox_userns_join(userns) < 0)
    _exit(125);
  if (userns >= 0)
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* cleared by the change of credentials */
  /* A replacement is forked from the running shim: it must hold none of the
   * shim's files (log pipes would never see EOF, the lock would outlive a
   * stopping shim) and run none of its signal handlers (libuv's would wake
   * the shim's loop with a signal the pause received).  Only syscalls here:
   * the shim has other threads, whose locks a forked child cannot trust. */
#ifdef SYS_close_range
  syscall(SYS_close_range, 3U, ~0U, 0U);
#endif
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction(sig, &sa, NULL); /* fails harmlessly for the C library's own */
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (;;)
    pause();
}

/* After a failed start: the thread's children are born in its own pid
 * namespace again (errno kept). */
static void aim_home(sandbox *sb) {
  int saved = errno;
  if (sb->own_pidns >= 0)
    (void)setns(sb->own_pidns, CLONE_NEWPID);
  errno = saved;
}

/* Unshares a new pid namespace for the calling thread's children and forks
 * its pid 1.  The thread's children must currently be born in its own pid
 * namespace, or the kernel refuses the unshare (EINVAL). */
static int start_pause(sandbox *sb, pv_err *err) {
  if (unshare(CLONE_NEWPID) < 0)
    return pv_err_sys(err, "sandbox: unshare pid namespace");
  pid_t pid = fork();
  if (pid < 0) {
    pv_err_sys(err, "sandbox: fork pause process");
    aim_home(sb); /* else the next child would be pid 1 of a pod-less namespace */
    return -1;
  }
  if (pid == 0)
    pause_main(sb->userns);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    pv_err_sys(err, "sandbox: pidfd_open pause process %d", (int)pid);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    aim_home(sb);
    return -1;
  }
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  sb->pause_pid = pid;
  sb->pause_pidfd = pidfd;
  return 0;
}

/* Writes sysctl i of cfg into the current namespaces: 0, or -errno (EIO
 * for a short write).  Only syscalls: it also runs in a forked child. */
static int write_sysctl(const sandbox_config *cfg, size_t i) {
  const char *name = cfg->sysctls[i].key, *value = cfg->sysctls[i].value;
  char path[512];
  if (!spec_sysctl_name_valid(name) || !spec_sysctl_path(name, path, sizeof path))
    return -EINVAL;
  int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t len = strlen(value);
  ssize_t n;
  do
    n = write(fd, value, len);
  while (n < 0 && errno == EINTR);
  int e = n < 0 ? errno : (size_t)n != len ? EIO : 0;
  close(fd);
  return -e;
}

/* With a user namespace, the pod's IPC and network sysctls belong to its
 * root (the kernel checks the writer against the namespace's owner), which
 * host root is not: a child joins the user namespace as its root and writes
 * them there.  It reports the first failure as {index, errno} on a pipe. */
static int write_sysctls_as_pod_root(const sandbox *sb, const sandbox_config *cfg, size_t *failed, int *e) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return -errno;
  pid_t pid = fork();
  if (pid < 0) {
    int fe = errno;
    close(p[0]);
    close(p[1]);
    return -fe;
  }
  if (pid == 0) {
    int report[2] = {-1, 0};
    if (sandbox_userns_join(sb->userns) < 0)
      report[1] = errno;
    for (size_t i = 0; report[1] == 0 && i < cfg->n_sysctls; i++)
      if ((report[1] = -write_sysctl(cfg, i)) != 0)
        report[0] = (int)i;
    if (report[1] != 0 && write(p[1], report, sizeof report) < 0)
      _exit(2);
    _exit(report[1] != 0);
  }
  close(p[1]);
  int report[2] = {-1, 0};
  ssize_t n;
  do
    n = read(p[0], report, sizeof report);
  while (n < 0 && errno == EINTR);
  close(p[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == (ssize_t)sizeof report && report[1] != 0) {
    *failed = (size_t)report[0];
    *e = report[1];
    return 1;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* Writes each sysctl into the current (the pod's) namespaces. */
static int write_sysctls(const sandbox *sb, const sandbox_config *cfg, pv_err *err) {
  if (cfg->n_sysctls == 0)
    return 0;
  size_t failed = 0;
  int e = 0;
  if (sb->userns >= 0) {
    int rc = write_sysctls_as_pod_root(sb, cfg, &failed, &e);
    if (rc < 0)
      return pv_err_set(err, -rc, "sandbox: sysctls: a child in the pod's user namespace: %s", strerror(-rc));
    if (rc == 0)
      return 0;
  } else {
    for (failed = 0; failed < cfg->n_sysctls; failed++)
      if ((e = -write_sysctl(cfg, failed)) != 0)
        break;
    if (e == 0)
      return 0;
  }
  if (failed >= cfg->n_sysctls) /* joining the user namespace failed */
    return pv_err_set(err, e, "sandbox: sysctls: join the pod's user namespace: %s", strerror(e));
  return pv_err_set(err, e, "sandbox: sysctl %s=%s: %s", cfg->sysctls[failed].key, cfg->sysctls[failed].value,
                    e == EIO ? "short write" : strerror(e));
}

void sandbox_init(sandbox *sb) {
  memset(sb, 0, sizeof *sb);
  sb->pause_pidfd = -1;
  sb->own_pidns = -1;
  sb->userns = -1;
}

int sandbox_enter(sandbox *sb, const sandbox_config *cfg, pv_err *err) {
  sandbox_init(sb);
  sb->host_network = cfg->host_network;
  sb->host_pid = cfg->host_pid && !cfg->share_pid;
  int flags = CLONE_NEWNS;
  if (!cfg->host_ipc)
    flags |= CLONE_NEWIPC;
  if (!cfg->host_network)
    flags |= CLONE_NEWNET | CLONE_NEWUTS;
  if (cfg->userns_base != 0) {
    if (cfg->host_network)
      return pv_err_set(err, EINVAL, "sandbox: a user namespace needs the pod's own network namespace");
    if (sandbox_userns_enter(sb, cfg->userns_base, cfg->userns_size, err) < 0)
      return -1;
    flags = CLONE_NEWNS; /* net, ipc and uts are the user namespace's now */
  }
  if (unshare(flags) < 0)
    return pv_err_sys(err, "sandbox: unshare mnt%s%s namespaces", (flags & CLONE_NEWIPC) ? "/ipc" : "",
                      (flags & CLONE_NEWNET) ? "/net/uts" : "");
  /* Host mounts still propagate in, ours never propagate out: a pod's
   * tmpfs volumes and container mounts vanish with its last process, even
   * when the shim is SIGKILLed. */
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return pv_err_sys(err, "sandbox: make / a slave mount");
  if (!cfg->host_network) {
    const char *h = cfg->hostname != NULL ? cfg->hostname : "pod";
    if (sethostname(h, strlen(h)) < 0)
      return pv_err_sys(err, "sandbox: sethostname %s", h);
    if (sandbox_link_up("lo", err) < 0)
      return -1;
  }
  if (write_sysctls(sb, cfg, err) < 0)
    return -1;
  if (cfg->before_pid_ns != NULL)
    cfg->before_pid_ns(cfg->ctx);
  if (cfg->share_pid) {
    /* The way home for sandbox_renew(), kept open from the start so that a
     * renewal depends on nothing that may be missing later (/proc, a free
     * fd). */
    sb->own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (sb->own_pidns < 0)
      return pv_err_sys(err, "sandbox: open /proc/self/ns/pid");
    if (start_pause(sb, err) < 0)
      return -1;
    sb->share_pid = true;
  }
  return 0;
}

/* The kernel's PF_EXITING task flag (include/linux/sched.h), set as soon as
 * a task begins to exit, long before its pidfd turns readable. */
#define TASK_FLAG_EXITING 0x4u

/* True when /proc/<pid>/stat shows the task exiting; false when it does not
 * or cannot be read. */
static bool task_exiting(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n;
  do
    n = read(fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  /* "pid (comm) state ppid pgrp session tty_nr tpgid flags ...": comm may
   * hold spaces and parentheses, so fields count from its last ')'. */
  char *p = strrchr(buf, ')');
  unsigned flags = 0;
  if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %u", &flags) != 1)
    return false;
  return (flags & TASK_FLAG_EXITING) != 0;
}

bool sandbox_pause_alive(const sandbox *sb) {
  if (!sb->share_pid)
    return true;
  if (sb->pause_pid <= 0 || sb->pause_pidfd < 0)
    return false;
  /* The pause is our unreaped child: its pid cannot be reused meanwhile. */
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do
    rc = waitid((idtype_t)P_PIDFD, (id_t)sb->pause_pidfd, &si, WEXITED | WNOHANG | WNOWAIT);
  while (rc < 0 && errno == EINTR);
  if (rc < 0 || si.si_pid != 0)
    return false;
  return !task_exiting(sb->pause_pid);
}

int sandbox_renew(sandbox *sb, sandbox_pause *old, pv_err *err) {
  old->pid = sb->pause_pid;
  old->pidfd = sb->pause_pidfd;
  sb->pause_pid = 0;
  sb->pause_pidfd = -1;
  if (!sb->share_pid)
    return pv_err_set(err, EINVAL, "sandbox: no shared pid namespace to renew");
  /* unshare(CLONE_NEWPID) again is refused while this thread's children go
   * to another pid namespace than its own: come home first. */
  int rc;
  do
    rc = setns(sb->own_pidns, CLONE_NEWPID);
  while (rc < 0 && errno == EINTR);
  if (rc < 0)
    return pv_err_sys(err, "sandbox: setns back into the shim's own pid namespace");
  return start_pause(sb, err);
}

int sandbox_container_namespaces(const sandbox *sb) {
  int ns = CLONE_NEWNS | CLONE_NEWCGROUP;
  if (!sb->share_pid && !sb->host_pid)
    ns |= CLONE_NEWPID;
  return ns;
}

void sandbox_release(sandbox *sb) {
  if (sb->pause_pid > 0) {
    kill(sb->pause_pid, SIGKILL);
    /* As the pid namespace's init, the pause process finishes its exit only
     * once every process of the namespace has: one that cannot die (frozen,
     * in uninterruptible sleep) would hold a plain waitpid() forever. */
    struct pollfd pfd = {.fd = sb->pause_pidfd, .events = POLLIN};
    int r = 1;
    if (sb->pause_pidfd >= 0) {
      int left = SANDBOX_RELEASE_WAIT_MS;
      uint64_t t0 = pv_now_ns();
      while ((r = poll(&pfd, 1, left)) < 0 && errno == EINTR) {
        uint64_t spent = (pv_now_ns() - t0) / 1000000;
        left = spent >= SANDBOX_RELEASE_WAIT_MS ? 0 : SANDBOX_RELEASE_WAIT_MS - (int)spent;
      }
    }
    if (r > 0)
      while (waitpid(sb->pause_pid, NULL, 0) < 0 && errno == EINTR) {
      }
    sb->pause_pid = 0;
  }
  if (sb->pause_pidfd >= 0) {
    close(sb->pause_pidfd);
    sb->pause_pidfd = -1;
  }
  if (sb->userns >= 0) {
    close(sb->userns);
    sb->userns = -1;
  }
  if (sb->own_pidns >= 0) {
    /* Whatever the process forks from now on (a sanitizer's leak checker
     * at exit, say) is born at home, not in a namespace without init. */
    (void)setns(sb->own_pidns, CLONE_NEWPID);
    close(sb->own_pidns);
    sb->own_pidns = -1;
  }
}
