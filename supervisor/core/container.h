/*
 * container.h - the core lifecycle API: container_manager_*.
 *
 * A C program can run isolated containers with this API alone; the shim and
 * `podvisor run` are its users.  It is synchronous and has no event loop, but
 * every blocking call has a non-blocking twin for loops:
 *   start → returns at once with a pidfd (container_pidfd()) to poll;
 *   kill  → only signals;  reap → collects an exit without blocking.
 *
 * Lifecycle: create (CONTAINER_CREATED: overlay dirs prepared, cgroup made
 * with limits and the device allow-list) → start (CONTAINER_RUNNING: child cloned into new namespaces,
 * joins its cgroup itself before any other work, rootfs = overlay(image lower, per
 * container upper) + pivot_root, /proc /sys /dev mounted, sensitive /proc
 * paths masked, capabilities dropped, no_new_privs, the seccomp filter
 * (config.seccomp), exec) → exit observed by
 * wait/reap (CONTAINER_STOPPED, with exit code, signal and OOM kill) →
 * destroy (CONTAINER_DESTROYED: no mount, cgroup directory or upper directory
 * left behind; the handle is freed).  A stopped container can be started
 * again (STOPPED → RUNNING), as `docker start` does: the same id, cgroup
 * (limits and device rules kept) and upper directory, so what the previous run wrote to its
 * root file system is still there; the exit record is cleared.
 * destroy_deferred may leave the cgroup of a container without its own pid
 * namespace pending, in the manager's hands, until
 * container_manager_collect() removes it.
 *
 * Plan, then execute: everything the child needs is computed and allocated
 * before clone; between clone and exec the child only makes syscalls and
 * reports a failing step (step name + errno) over a close-on-exec pipe, which
 * start() turns into an error message naming the container.
 *
 * Rootfs in use: from create to destroy a container holds a shared flock(2)
 * on its rootfs directory; the image store takes it exclusively before it
 * removes or replaces an image, so an image is never deleted under a
 * container that runs from it.
 *
 * Ownership: the manager owns its containers; container pointers stay valid
 * until container_manager_destroy() or container_manager_cleanup().  The
 * config is deep-copied by create(); the caller keeps its own.  One
 * exception: the seccomp program (config.seccomp) is borrowed, compiled
 * once by the caller for many containers (seccomp.h), and must outlive
 * every container created with it.
 *
 * Errors: 0 on success, -1 with errno set and a message in *err that names
 * the container and the step.
 */
#ifndef PODVISOR_CORE_CONTAINER_H
#define PODVISOR_CORE_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "resource.h"

typedef enum {
  CONTAINER_CREATED = 1,
  CONTAINER_RUNNING,
  CONTAINER_STOPPED,
  CONTAINER_DESTROYED,
} container_state;

const char *container_state_name(container_state s);

/* recursiveReadOnly of a read-only bind (Kubernetes' field, fs.h "Volumes"). */
typedef enum {
  CONTAINER_RRO_DISABLED = 0, /* only the bind's top mount is read-only; submounts keep theirs */
  CONTAINER_RRO_IF_POSSIBLE,  /* every submount too, or only the top when the kernel cannot */
  CONTAINER_RRO_ENABLED,      /* every submount too, or the start fails */
} container_rro;

/* A bind mount (volume) or a tmpfs placed into the container.  The
 * destination is resolved inside the container's root when the container
 * starts (symbolic links followed as if that root were "/"), after the
 * volumes before it in the list: a volume may be mounted inside another. */
typedef struct container_mount {
  const char *source;      /* host path; ignored for tmpfs */
  const char *destination; /* absolute path inside the container */
  bool readonly;
  bool tmpfs;          /* mount a tmpfs instead of a bind */
  uint64_t tmpfs_size; /* bytes, 0 = kernel default */
  /* Naming and recursion (both optional: zero keeps the defaults).  name
   * is the volume's name, for messages only ("volume data at /data/sub");
   * rro applies to a read-only bind (readonly set) and says whether its
   * submounts are made read-only too. */
  const char *name;
  container_rro rro;
} container_mount;

/* Which namespaces a container joins instead of creating: open fds of
 * /proc/PID/ns/{net,ipc,uts,pid} (or bind-mounted nsfs files), -1 = none.
 * user: a user namespace the container enters as its last step before it
 * drops capabilities and execs (namespace_join_user), after its mounts:
 * it becomes that namespace's root.  Its image rootfs and its upper layer
 * are then mounted idmapped through that namespace (fs.h, "User
 * namespace"), so that their files keep their image ownership inside;
 * userns_uid/userns_gid are the host ids its root maps to (its /dev is
 * owned by them).  The join fds are duplicated by create(). */
typedef struct container_join {
  int net, ipc, uts, pid;
  int user;
} container_join;

struct sock_fprog; /* <linux/filter.h>; see seccomp.h */

typedef struct container_config {
  const char *id;       /* [A-Za-z0-9_.-]{1,128}, unique per manager */
  const char *rootfs;   /* image rootfs: the overlay's read-only lower dir (locked shared, see above) */
  char *const *argv;    /* argv[0] looked up in the container's PATH */
  char *const *envp;    /* NULL: PATH and HOME=/; a default PATH is added when missing */
  const char *cwd;      /* NULL = "/" */
  const char *hostname; /* set when a new uts namespace is created */
  uid_t uid;
  gid_t gid;
  /* CLONE_NEW{PID,NS,UTS,IPC,NET,CGROUP} to create.  0 means all six. */
  int namespaces;
  container_join join;     /* set by container_config_init to all -1 */
  uid_t userns_uid;        /* with join.user: host uid and gid of the container's root */
  gid_t userns_gid;
  const char *cgroup_path; /* relative; NULL = "<cgroup parent>/<id>" */
  /* limits.devices unset (the default): the device allow-list of
   * cgroup_devices.h, or every device when privileged. */
  resource_limits limits;
  bool privileged;   /* keep every capability and device, no masked paths, writable /sys */
  uint64_t cap_add;  /* bit (1ULL << CAP_X) added to the default set */
  uint64_t cap_drop; /* removed from the default set */
  bool no_new_privs; /* set by container_config_init to true */
  bool readonly_rootfs;
  /* No masked and no read-only paths in /proc and /sys (Kubernetes'
   * procMount: Unmasked); /sys itself stays read-only unless privileged. */
  bool unmasked_proc;
  /* Supplementary groups (setgroups(2) before the uid changes) of every
   * process of the container, exec'd ones included; deep-copied by create().
   * n_groups == 0: none when uid or gid is not 0, the caller's own groups
   * otherwise (nothing is changed then). */
  const gid_t *groups;
  size_t n_groups;
  const container_mount *mounts;
  size_t n_mounts;
  /* Host files bound read-only onto /etc/hosts and /etc/hostname (a pod
   * shares one pair, see container_etc_files_write()); NULL = the image's. */
  const char *etc_hosts_path;
  const char *etc_hostname_path;
  /* stdio: used (dup'ed into the child) by start() only and never kept, so
   * a pipe's reader sees EOF when the container exits.  A start after a
   * stop uses the same fd numbers again: a caller that closed them gives
   * new ones with container_manager_set_stdio() first. */
  int stdin_fd;  /* -1 = /dev/null */
  int stdout_fd; /* -1 = inherit the caller's */
  int stderr_fd; /* -1 = inherit the caller's */
  int pdeathsig; /* signal to the container's init when the thread that started it
                  * dies (PR_SET_PDEATHSIG, set again after setuid); 0 = none */
  /* System call filter (a seccomp_prog's fprog, seccomp.h); NULL = none
   * (unconfined).  Borrowed, not copied: it must outlive the container,
   * since a start after a stop installs it again.  The child installs it
   * as the last step before execve, after setuid and the capability drop
   * when no_new_privs is set; without no_new_privs the kernel wants
   * CAP_SYS_ADMIN for it, so it goes in just before the capability drop,
   * and the profile must then allow what that drop uses (capset, prctl,
   * setgroups, setresgid, setresuid; RuntimeDefault does).  Every exec
   * into the container (container_manager_exec) gets the same filter. */
  const struct sock_fprog *seccomp;
} container_config;

typedef struct container_exit {
  int exit_code;   /* exit status, or 128+signal when killed by a signal */
  int signal;      /* terminating signal, 0 when it exited normally */
  bool oom_killed; /* the cgroup's OOM killer fired while it ran */
} container_exit;

typedef struct container_info {
  const char *id;
  container_state state;
  pid_t pid;           /* host pid of the container's init, 0 when not running */
  int pidfd;           /* -1 when not running */
  uint64_t started_ns; /* CLOCK_REALTIME ns, 0 when never started */
  uint64_t finished_ns;
  container_exit exit; /* valid in CONTAINER_STOPPED */
  const char *cgroup_path;
} container_info;

typedef struct container_manager_options {
  const char *state_dir;   /* per-container upper/work dirs; default /var/lib/podvisor/containers */
  const char *cgroup_root; /* NULL = /sys/fs/cgroup */
  /* The cgroup parent (resource_manager_set_parent): NULL = "podvisor". */
  const char *cgroup_parent;
} container_manager_options;

typedef struct container_exec_config {
  char *const *argv;
  char *const *envp;                  /* NULL: the container's own env */
  const char *cwd;                    /* NULL = the container's */
  int stdin_fd, stdout_fd, stderr_fd; /* -1 as in container_config */
  /* stdin_fd is a terminal (a pty's slave, opened O_NOCTTY): the process
   * starts a session of its own (setsid) and takes that terminal as its
   * controlling terminal (TIOCSCTTY), so job control, ^C and SIGWINCH
   * reach it as on a login shell. */
  bool tty;
} container_exec_config;

typedef struct container_manager container_manager;
typedef struct container container;

void container_config_init(container_config *cfg);

int container_manager_init(container_manager **out, const container_manager_options *opts, pv_err *err);
/* How long container_manager_cleanup() waits for pending cgroups. */
#define CONTAINER_CLOSE_WAIT_MS 1000
/* Blocking, about wait_ms at most: destroys every container the manager
 * still holds (SIGKILL; a running init that does not die within the time,
 * or 100 ms, is let go unreaped), waits for every pending cgroup (see
 * collect) to empty and go, then frees the manager, always.  -1 with EBUSY
 * and a message naming every cgroup left behind (still holding processes)
 * when the wait ran out.  NULL ok. */
int container_manager_close(container_manager *m, unsigned wait_ms, pv_err *err);
/* container_manager_close(m, CONTAINER_CLOSE_WAIT_MS) for callers that
 * cannot report; use close() to learn what was left behind. */
void container_manager_cleanup(container_manager *m);
resource_manager *container_manager_resources(container_manager *m);

int container_manager_create(container_manager *m, const container_config *cfg, container **out, pv_err *err);
/* Non-blocking start: returns once the child has exec'd (or failed).  On
 * failure the child has been reaped and the container is CONTAINER_STOPPED
 * with exit code 127 (command not found), 126 (cannot be run) or 125 (a
 * setup step failed; the message names it); destroy() it as usual.
 * A CONTAINER_STOPPED container starts again (see the top of this file);
 * that fails with EBUSY while processes of its previous run are still in
 * its cgroup (possible without a pid namespace of its own), and leaves it
 * stopped. */
int container_manager_start(container_manager *m, container *c, pv_err *err);
/* The stdio fds of the next start, as in container_config; only for a
 * created or stopped container (EINVAL otherwise). */
int container_manager_set_stdio(container_manager *m, container *c, int stdin_fd, int stdout_fd,
                                int stderr_fd, pv_err *err);
/* Blocks until the container exits; fills *ex. */
int container_manager_wait(container_manager *m, container *c, container_exit *ex, pv_err *err);
/* Non-blocking: 0 and *ex filled when the container has exited, -1 with
 * errno EAGAIN while it still runs. Call when the pidfd polls readable. */
int container_manager_reap(container_manager *m, container *c, container_exit *ex, pv_err *err);
/* create + start + wait + destroy. */
int container_manager_run(container_manager *m, const container_config *cfg, container_exit *ex, pv_err *err);
/* Non-blocking: sends sig to the container's init (pidfd_send_signal). */
int container_manager_kill(container_manager *m, container *c, int sig, pv_err *err);
/* Blocking: SIGTERM, wait up to grace_ms, then SIGKILL; fills *ex (may be NULL). */
int container_manager_stop(container_manager *m, container *c, unsigned grace_ms, container_exit *ex,
                           pv_err *err);
/* Kills and reaps if needed, removes the cgroup (once, after the reap) and
 * <state_dir>/<id>, frees c.  The overlay and every other mount live only in
 * the container's mount namespace, which the kernel drops with its last
 * process.  A container without its own pid namespace may leave processes
 * behind its init: they are SIGKILLed through the cgroup and awaited (up to
 * 1 s) before the rmdir.  On failure c stays valid and destroy can be
 * called again. */
int container_manager_destroy(container_manager *m, container *c, pv_err *err);
/* destroy() for an event loop's hot path: the same teardown (kill and
 * reap if needed, remove the cgroup, free c), with two differences.
 *   - It never waits for survivors: processes an init without its own pid
 *     namespace left behind are SIGKILLed, and while any is still in the
 *     cgroup the manager keeps the cgroup as pending (see collect below)
 *     and this returns at once.
 *   - <state_dir>/<id> is not removed but renamed (never replacing
 *     anything) to a fresh "<state_dir>/.trash-<id>-<pid>-<n>" whose path
 *     is written to trash[0..len) (len >= PATH_MAX is always enough; a too
 *     small buffer fails with ENAMETOOLONG before anything is torn down).
 *     The caller removes that tree later, off its hot path (an rm -rf in
 *     a worker thread); trash[0] is '\0' when there was no directory left.
 *     Removing trash never disturbs a container.  Leftover ".trash-*"
 *     directories (a caller that died first) are plain directories and may
 *     be removed at any time.
 * The id and the cgroup path are free for a new create() as soon as this
 * returns. */
int container_manager_destroy_deferred(container_manager *m, container *c, char *trash, size_t len,
                                       pv_err *err);
/* Pending cgroups: those destroy_deferred() (or close()) left behind
 * because SIGKILLed processes were still in them, each kept SIGKILLed.
 * collect() never blocks: it SIGKILLs every pending cgroup again, removes
 * the ones that became empty (with their pod directory once it is empty)
 * and returns how many remain.  While some remain, err (may be NULL) gets
 * EBUSY and a message naming the oldest and how long it has been pending.
 * A cgroup that never empties (a process stuck in uninterruptible sleep, or
 * frozen) stays pending and reported: the caller chooses how often to call.
 * A create() that wants the path of a pending cgroup removes it when it can
 * and otherwise moves it aside to "<leaf>.pending-<pid>-<n>" (same parent)
 * first, so a container never shares a cgroup with an earlier one's
 * survivors; when that fails too, create() fails with EBUSY. */
size_t container_manager_collect(container_manager *m, pv_err *err);
/* How many cgroups are pending; O(1), no system call. */
size_t container_manager_pending(const container_manager *m);
/* Takes over what an earlier manager (a process killed before it could
 * collect) left below parent, e.g. "podvisor/<pod>": every child cgroup
 * that is neither one of m's containers nor pending already is SIGKILLed
 * and removed when empty, else kept pending (so that a create() under the
 * same path moves it aside).  Returns how many became pending, or -1. */
int container_manager_adopt_leftovers(container_manager *m, const char *parent, pv_err *err);
/* Runs a process inside a running container: all its namespaces (one
 * setns() on the init's pidfd, so a recycled pid can never be entered), its
 * cgroup (joined by the process itself, first thing after the clone), its
 * capabilities, no_new_privs and seccomp filter.  Blocks until the process has exec'd.
 * With x->tty the process leads a new session whose controlling terminal
 * is its stdin.  Returns the host pid and a pidfd (the caller reaps it with
 * waitid(P_PIDFD) and closes the pidfd). */
int container_manager_exec(container_manager *m, container *c, const container_exec_config *x, pid_t *pid,
                           int *pidfd, pv_err *err);
/* Fills out[] with up to max containers; returns the count. */
size_t container_manager_list(container_manager *m, container **out, size_t max);
int container_manager_get_info(container_manager *m, const container *c, container_info *info);
container *container_manager_find(container_manager *m, const char *id);
int container_manager_get_stats(container_manager *m, container *c, resource_stats *st, pv_err *err);

/* Writes <dir>/hosts (localhost lines and "127.0.1.1 <hostname>", as the
 * kubelet writes a pod's hosts file) and <dir>/hostname, each atomically,
 * for container_config.etc_hosts_path / etc_hostname_path. */
int container_etc_files_write(const char *dir, const char *hostname, pv_err *err);

/* Accessors. */
const char *container_id(const container *c);
container_state container_get_state(const container *c);
pid_t container_pid(const container *c);
int container_pidfd(const container *c);

#endif
