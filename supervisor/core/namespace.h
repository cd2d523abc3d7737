/*
 * namespace.h - creating and joining Linux namespaces for a container.
 *
 * A container is cloned with clone3(CLONE_PIDFD | CLONE_NEW*) so that its
 * parent gets a pidfd at once: the parent signals it with
 * pidfd_send_signal() and collects it with waitid(P_PIDFD), never
 * waitpid(-1), so it coexists with libuv's own child handling.
 *
 * Namespaces created: any of pid, mount, uts, ipc, net, cgroup
 * (namespace_config.flags).  Namespaces joined: net, ipc, uts and pid, from
 * open nsfs files (/proc/PID/ns/...) or pidfds.  A pod's shim holds the pod's
 * net/ipc/uts namespaces itself and clones containers with only
 * CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWCGROUP; both ways work.
 *
 * Two kernel rules shape the order of work:
 *   - setns(CLONE_NEWPID) never moves the caller; it only decides where the
 *     caller's *future children* are born (pid_for_children).  To start a
 *     container inside an existing pid namespace, namespace_clone_process()
 *     switches pid_for_children of the calling thread to the target, clones,
 *     and switches it back to where it pointed before (the thread's own pid
 *     namespace, or one it unshared: a pod keeper's shared pid namespace)
 *     before it returns.  No intermediate process is needed and the container stays
 *     the caller's own child (so its pidfd and waitid work).  The switch is
 *     per thread, so other threads of the caller are not affected.
 *   - CLONE_NEWCGROUP takes the caller's *current* cgroup as the root of the
 *     new cgroup namespace.  The child must therefore be in its cgroup
 *     first; namespace_create_container() never passes CLONE_NEWCGROUP to
 *     clone3, and namespace_setup_isolation() (run by the child once it is
 *     in its cgroup) unshares it.  On cgroup v2 the *_into() variants have
 *     the child born in its cgroup (CLONE_INTO_CGROUP, 5.7+): no migration
 *     (which takes the kernel's global cgroup_threadgroup_rwsem), and its
 *     creation is charged to the cgroup's pids.max, so a full container
 *     refuses an exec as it refuses a fork.
 *
 * Child-side functions (namespace_join, namespace_setup_isolation,
 * namespace_enter_process) run between clone and exec: they only make
 * syscalls and report a failing step as NS_STEP_* with errno.
 *
 * NAMESPACE_ALL and the CLONE_NEW* flags come from <sched.h>, which
 * declares them only when _GNU_SOURCE is defined before the first include.
 */
#ifndef PODVISOR_CORE_NAMESPACE_H
#define PODVISOR_CORE_NAMESPACE_H

#include <sched.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

#define NAMESPACE_ALL                                                                                        \
  (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP)

enum {
  NS_STEP_JOIN_NET = 100,
  NS_STEP_JOIN_IPC,
  NS_STEP_JOIN_UTS,
  NS_STEP_UNSHARE_CGROUP,
  NS_STEP_HOSTNAME,
  NS_STEP_ENTER,
  NS_STEP_LOOPBACK,
  NS_STEP_JOIN_USER,
  NS_STEP_USER_ROOT,
};

typedef struct namespace_config {
  int flags;                                  /* CLONE_NEW* to create (NAMESPACE_ALL by default) */
  int join_net, join_ipc, join_uts, join_pid; /* fds to join, -1 = none */
  int join_user; /* the user namespace joined last (namespace_join_user), -1 = none */
  char hostname[65];                          /* "" = leave the hostname alone */
} namespace_config;

/* All six namespaces new, nothing joined, no hostname. */
void namespace_config_init(namespace_config *c);

/* Validates (1..64 chars of [A-Za-z0-9.-]) and stores the hostname; it is
 * applied by namespace_setup_isolation() when a uts namespace is created. */
int namespace_set_hostname(namespace_config *c, const char *name, pv_err *err);

/* clone3(flags | CLONE_PIDFD, exit signal SIGCHLD).  When pidns_fd >= 0 the
 * child is born in that pid namespace (see above; pidns_fd may be an nsfs fd
 * or a pidfd).  In the child, fn(arg) runs and its return value is the exit
 * status; fn must not return after a successful exec, and must only make
 * syscalls.  In the parent, *pid and *pidfd (close-on-exec) are set. */
int namespace_clone_process(int flags, int pidns_fd, int (*fn)(void *), void *arg, pid_t *pid, int *pidfd,
                            pv_err *err);

/* The same, with the child born in the cgroup v2 directory open at
 * cgroup_fd (O_RDONLY | O_DIRECTORY; -1 = where the caller is).  A kernel
 * without CLONE_INTO_CGROUP gets the plain clone, and remembers it for the
 * process's later clones.  *in_cgroup (may be NULL) tells which: it is set
 * before each clone, so the child reads it too and joins its cgroup itself
 * when it is false. */
int namespace_clone_process_into(int flags, int pidns_fd, int cgroup_fd, bool *in_cgroup, int (*fn)(void *),
                                 void *arg, pid_t *pid, int *pidfd, pv_err *err);

/* Clones a container init for the config: creates the namespaces of
 * c->flags that are not joined, except the cgroup namespace (deferred to
 * namespace_setup_isolation()), and joins c->join_pid. */
int namespace_create_container(const namespace_config *c, int (*fn)(void *), void *arg, pid_t *pid,
                               int *pidfd, pv_err *err);
/* The same, born in the cgroup at cgroup_fd (see namespace_clone_process_into). */
int namespace_create_container_into(const namespace_config *c, int cgroup_fd, bool *in_cgroup,
                                    int (*fn)(void *), void *arg, pid_t *pid, int *pidfd, pv_err *err);

/* Child side: setns() into the joined net, ipc and uts namespaces. */
int namespace_join(const namespace_config *c, int *step);

/* Child side, single threaded: setns() into the user namespace behind fd
 * (nothing when fd is -1) and become its root: setgroups() to none,
 * setresgid(0) and setresuid(0), so that the process is the namespace's
 * uid 0 (its mapped host id) instead of the unmapped host root, with every
 * capability inside it and none outside.  Joining changes the credentials,
 * which clears PR_SET_PDEATHSIG: the caller sets it again.  Mounts that the
 * host's user namespace owns can no longer be made afterwards, so this
 * comes after the last mount. */
int namespace_join_user(int fd, int *step);

/* Child side, once the child is in its cgroup:
 * unshare(CLONE_NEWCGROUP) if requested, sethostname() in a new uts
 * namespace, and "lo" up in a new network namespace. */
int namespace_setup_isolation(const namespace_config *c, int *step);

/* Child side, for exec: joins the namespaces in flags (CLONE_NEWNS, ...) of
 * the process behind pidfd in one setns() call.  Joining the mount
 * namespace also sets root and cwd to that namespace's root. */
int namespace_enter_process(int pidfd, int flags, int *step);

/* A readable name of an NS_STEP_* id, or NULL if it is not one. */
const char *namespace_step_name(int step);

#endif
