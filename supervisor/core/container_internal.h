/*
 * container_internal.h - what container.c (manager, create, wait, destroy),
 * container_spawn.c (start, exec and the cloned child) and
 * container_pending.c (cgroups that outlive their container) share.  Not
 * part of the public API: only those files include it.
 */
#ifndef PODVISOR_CORE_CONTAINER_INTERNAL_H
#define PODVISOR_CORE_CONTAINER_INTERNAL_H

#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/caps.h"
#include "supervisor/core/container.h"
#include "supervisor/core/fs.h"
#include "supervisor/core/namespace.h"

/* A cgroup that outlived its container (container_pending.c). */
typedef struct container_pending container_pending;

struct container_manager {
  char *state_dir;
  resource_manager *rm;
  bool use_chroot;
  fs_cgroup_mount *cgmounts; /* v1 hierarchies, for /sys/fs/cgroup inside */
  size_t n_cgmounts;
  container *head;
  unsigned trash_seq;         /* makes trash names unique (destroy_deferred) */
  container_pending *pending; /* oldest first */
  size_t n_pending;
  unsigned aside_seq; /* makes "<leaf>.pending-<pid>-<n>" names unique */
};

struct container {
  container_manager *m;
  container *next;
  char *id;
  container_state state;
  char **argv, **envp, **paths; /* paths: where argv[0] may be */
  char *cwd;
  char *dir; /* <state_dir>/<id> */
  char *cgroup_path;
  /* What the mount plan is made of, deep-copied: start() frees the plan
   * once the child has used it, and a start after a stop plans again. */
  char *rootfs;
  container_mount *mounts; /* the volumes, /etc/hosts and /etc/hostname */
  size_t n_mounts;
  bool readonly_rootfs, privileged, unmasked_proc;
  int fds[3]; /* the caller's stdio fds, used by start only */
  int pdeathsig;
  uid_t userns_uid; /* with ns.join_user: the host ids of the container's root */
  gid_t userns_gid;
  const struct sock_fprog *seccomp; /* borrowed from the config, NULL = none */
  bool new_pidns;
  namespace_config ns;
  fs_plan fs;
  caps_plan caps;
  cgroup_handle *cg;
  uint64_t oom_base;
  pid_t pid;
  int pidfd;
  int rootfs_lock; /* the rootfs directory, flock()ed shared while c exists */
  uint64_t started_ns, finished_ns;
  container_exit exit;
};

/* Wall-clock time (CLOCK_REALTIME) in ns, for container_info's
 * started_ns/finished_ns: callers show them as dates.  Durations use
 * pv_now_ns() (monotonic) instead. */
static inline uint64_t container_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void container_strv_free(char **v);
/* Before a start of a stopped container (container.c): checks that its
 * previous run left nothing in its cgroup, and plans its mounts again over
 * the same upper layer. */
int container_prepare_restart(container *c, pv_err *err);
/* Frees c and everything it holds (container.c). */
void container_free(container *c);
/* SIGKILL for everything: the init and, without a pid namespace of its own,
 * every process of its cgroup (container.c). */
void container_kill_all(container *c);
/* Every path execve() should try for argv[0] (see container.c). */
char **container_exec_paths(const char *arg0, char *const *envp);
/* Moves fd to a number >= 3 so the child's dup2 onto 0..2 cannot clobber it. */
int container_raise_fd(int fd);
/* waitid(P_PIDFD, WEXITED), retrying EINTR. */
int container_reap_blocking(int pidfd, siginfo_t *si);
/* container_pending.c.  add: the manager takes cg over (already
 * SIGKILLed); fails only without memory, the caller then keeps cg. */
int container_pending_add(container_manager *m, cgroup_handle *cg, pv_err *err);
/* Before create() makes relpath: removes a pending cgroup still there, or
 * moves it aside; EBUSY when neither works. */
int container_pending_reclaim(container_manager *m, const char *relpath, pv_err *err);
/* Blocking: collects until none is pending or wait_ms passed; EBUSY and a
 * message naming every cgroup still pending. */
int container_pending_drain(container_manager *m, unsigned wait_ms, pv_err *err);
/* Frees the list and its handles without touching the kernel. */
void container_pending_forget_all(container_manager *m);
/* Records an exit from waitid's siginfo: CONTAINER_STOPPED, exit code or
 * signal, OOM kill, finish time; closes the pidfd. */
void container_record_exit(container *c, const siginfo_t *si);

#endif
