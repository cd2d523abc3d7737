/*
 * namespace.c - clone3 with a pidfd, namespace creation and joining.
 */
#include "supervisor/core/namespace.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>

/* struct clone_args of <linux/sched.h>, declared here because that header
 * clashes with glibc's <sched.h>.  The layout is kernel ABI (version 2). */
struct ns_clone_args {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

void namespace_config_init(namespace_config *c) {
  memset(c, 0, sizeof *c);
  c->flags = NAMESPACE_ALL;
  c->join_net = c->join_ipc = c->join_uts = c->join_pid = c->join_user = -1;
}

int namespace_set_hostname(namespace_config *c, const char *name, pv_err *err) {
  size_t len = name != NULL ? strlen(name) : 0;
  if (len == 0 || len >= sizeof c->hostname)
    return pv_err_set(err, EINVAL, "invalid hostname '%s': must be 1 to 64 characters", name ? name : "");
  for (size_t i = 0; i < len; i++) {
    char ch = name[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '.';
    if (!ok)
      return pv_err_set(err, EINVAL, "invalid hostname '%s': only letters, digits, '-' and '.' are allowed",
                        name);
  }
  memcpy(c->hostname, name, len + 1);
  return 0;
}

/* Switches where this thread's future children are born; see the header. */
static int set_pid_for_children(int fd) {
  int r;
  do
    r = setns(fd, CLONE_NEWPID);
  while (r < 0 && errno == EINTR);
  return r;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Set once a clone3 with CLONE_INTO_CGROUP failed for want of kernel
 * support and the same clone without it worked: later clones skip it. */
static volatile int into_cgroup_unsupported;

static long clone3_once(uint64_t flags, int cgroup_fd, int *fd) {
  struct ns_clone_args args = {
      .flags = flags | CLONE_PIDFD,
      .pidfd = (uint64_t)(uintptr_t)fd,
      .exit_signal = SIGCHLD,
  };
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)cgroup_fd;
  }
  return syscall(SYS_clone3, &args, sizeof args);
}

int namespace_clone_process_into(int flags, int pidns_fd, int cgroup_fd, bool *in_cgroup, int (*fn)(void *),
                                 void *arg, pid_t *pid, int *pidfd, pv_err *err) {
  bool dummy;
  if (in_cgroup == NULL)
    in_cgroup = &dummy;
  int own_pidns = -1;
  if (pidns_fd >= 0) {
    /* Where the thread's children are born now, to come back to afterwards:
     * not always its active pid namespace (a caller that unshared
     * CLONE_NEWPID has its children born in that one).  The kernel refuses
     * to open a pid_for_children namespace that has no init yet (ENOENT):
     * then the next child would have been the init of that fresh namespace,
     * which no restore can bring back, so the active one is taken. */
    const char *where = "/proc/thread-self/ns/pid_for_children";
    own_pidns = open(where, O_RDONLY | O_CLOEXEC);
    if (own_pidns < 0 && errno == ENOENT)
      own_pidns = open(where = "/proc/thread-self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own_pidns < 0)
      return pv_err_sys(err, "open %s", where);
    if (set_pid_for_children(pidns_fd) < 0) {
      pv_err_sys(err, "setns into the pid namespace to join");
      close(own_pidns);
      return -1;
    }
  }
  int fd = -1;
  uint64_t cflags = (uint64_t)(unsigned)flags;
  /* The child reads *in_cgroup from its copy of our memory: set it before
   * each clone. */
  *in_cgroup = cgroup_fd >= 0 && !into_cgroup_unsupported;
  long r = clone3_once(cflags, *in_cgroup ? cgroup_fd : -1, &fd);
  if (r == 0)
    _exit(fn(arg)); /* the child: on the parent's (copied) stack, like fork */
  if (r < 0 && *in_cgroup && (errno == EINVAL || errno == E2BIG || errno == ENOSYS)) {
    /* A kernel before 5.7 does not know the flag (EINVAL), nor the larger
     * struct (E2BIG): the child joins the cgroup itself.  Remembered only
     * when the plain clone then works, so that a clone failing for some
     * other reason does not turn the fast path off. */
    *in_cgroup = false;
    r = clone3_once(cflags, -1, &fd);
    if (r == 0)
      _exit(fn(arg));
    if (r > 0)
      into_cgroup_unsupported = 1;
  }
  int saved = errno;
  if (own_pidns >= 0) {
    /* Restoring our own namespace cannot fail for lack of rights; if it did,
     * later children would land in the container: better to say so. */
    if (set_pid_for_children(own_pidns) < 0 && r > 0) {
      pv_err_sys(err, "setns back into the caller's pid namespace");
      kill((pid_t)r, SIGKILL);
      close(own_pidns);
      *pid = (pid_t)r;
      *pidfd = fd;
      return -1;
    }
    close(own_pidns);
  }
  if (r < 0) {
    errno = saved;
    return pv_err_sys(err, "clone3 (namespaces 0x%x%s)", (unsigned)flags,
                      *in_cgroup ? ", into its cgroup" : "");
  }
  *pid = (pid_t)r;
  *pidfd = fd;
  return 0;
}

int namespace_clone_process(int flags, int pidns_fd, int (*fn)(void *), void *arg, pid_t *pid, int *pidfd,
                            pv_err *err) {
  return namespace_clone_process_into(flags, pidns_fd, -1, NULL, fn, arg, pid, pidfd, err);
}

int namespace_create_container_into(const namespace_config *c, int cgroup_fd, bool *in_cgroup,
                                    int (*fn)(void *), void *arg, pid_t *pid, int *pidfd, pv_err *err) {
  int flags = c->flags & ~CLONE_NEWCGROUP;
  if (c->join_pid >= 0)
    flags &= ~CLONE_NEWPID;
  if (c->join_net >= 0)
    flags &= ~CLONE_NEWNET;
  if (c->join_ipc >= 0)
    flags &= ~CLONE_NEWIPC;
  if (c->join_uts >= 0)
    flags &= ~CLONE_NEWUTS;
  return namespace_clone_process_into(flags, c->join_pid, cgroup_fd, in_cgroup, fn, arg, pid, pidfd, err);
}

int namespace_create_container(const namespace_config *c, int (*fn)(void *), void *arg, pid_t *pid,
                               int *pidfd, pv_err *err) {
  return namespace_create_container_into(c, -1, NULL, fn, arg, pid, pidfd, err);
}

static int join_one(int fd, int type, int *step, int s) {
  if (fd < 0)
    return 0;
  int r;
  do
    r = setns(fd, type);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    *step = s;
  return r;
}

int namespace_join(const namespace_config *c, int *step) {
  if (join_one(c->join_net, CLONE_NEWNET, step, NS_STEP_JOIN_NET) < 0 ||
      join_one(c->join_ipc, CLONE_NEWIPC, step, NS_STEP_JOIN_IPC) < 0 ||
      join_one(c->join_uts, CLONE_NEWUTS, step, NS_STEP_JOIN_UTS) < 0)
    return -1;
  return 0;
}

int namespace_join_user(int fd, int *step) {
  if (fd < 0)
    return 0;
  if (join_one(fd, CLONE_NEWUSER, step, NS_STEP_JOIN_USER) < 0)
    return -1;
  if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
    *step = NS_STEP_USER_ROOT;
    return -1;
  }
  return 0;
}

/* A new network namespace has only "lo", and it is down. */
static int loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    r = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return r;
}

int namespace_setup_isolation(const namespace_config *c, int *step) {
  if ((c->flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
    *step = NS_STEP_UNSHARE_CGROUP;
    return -1;
  }
  if ((c->flags & CLONE_NEWUTS) && c->join_uts < 0 && c->hostname[0] != '\0' &&
      sethostname(c->hostname, strlen(c->hostname)) < 0) {
    *step = NS_STEP_HOSTNAME;
    return -1;
  }
  if ((c->flags & CLONE_NEWNET) && c->join_net < 0 && loopback_up() < 0) {
    *step = NS_STEP_LOOPBACK;
    return -1;
  }
  return 0;
}

int namespace_enter_process(int pidfd, int flags, int *step) {
  return join_one(pidfd, flags, step, NS_STEP_ENTER);
}

const char *namespace_step_name(int step) {
  switch (step) {
  case NS_STEP_JOIN_NET: return "join the network namespace";
  case NS_STEP_JOIN_IPC: return "join the ipc namespace";
  case NS_STEP_JOIN_UTS: return "join the uts namespace";
  case NS_STEP_UNSHARE_CGROUP: return "unshare the cgroup namespace";
  case NS_STEP_HOSTNAME: return "sethostname";
  case NS_STEP_ENTER: return "setns into the container's namespaces";
  case NS_STEP_LOOPBACK: return "bring the loopback interface up";
  case NS_STEP_JOIN_USER: return "join the pod's user namespace";
  case NS_STEP_USER_ROOT: return "become root of the pod's user namespace (setgroups, setresgid, setresuid)";
  default: return NULL;
  }
}
