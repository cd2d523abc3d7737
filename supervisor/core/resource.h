/*
 * resource.h - cgroups for containers: the resource_manager_* API.
 *
 * One ops table, two backends chosen at run time by resource_manager_init():
 *   - v2 ("unified"): the cgroup root is a cgroup2 file system with the
 *     controllers enabled (production hosts).
 *   - v1 ("legacy"): one hierarchy per controller under the root.  A "hybrid"
 *     host (v1 controllers plus a cgroup2 mount at <root>/unified holding
 *     only some controllers, e.g. hugetlb) uses the v1 backend; podvisor never
 *     creates directories in that cgroup2 mount, so there is nothing to leak
 *     there.
 * The root path is a parameter so that tests can point the v2 backend at a
 * fake tree of plain directories and files.
 *
 * A cgroup is named by a path relative to the root, e.g.
 * "podvisor/<pod-uid>/<container>": the first part, "podvisor" by default,
 * is the cgroup parent (resource_manager_set_parent), under which podvisor
 * owns everything it creates.
 *
 * Delegation (pure v2): a process started by systemd with Delegate=yes
 * owns the subtree of its own cgroup, which systemd marks with the
 * extended attribute trusted.delegate (or user.delegate) = "1".  The
 * manager reads the process's cgroup from /proc/self/cgroup ("0::/path")
 * at init, and when that cgroup is delegated (or it is "<X>/supervisor"
 * with X delegated, systemd's DelegateSubgroup=supervisor), X is "the
 * delegated cgroup": controllers are read from its cgroup.controllers and
 * enabled in the subtree_control of X and below only, never above it.  A
 * launcher (daemon, `up`, `run`) calls resource_manager_nest() to move
 * itself to <X>/supervisor (a cgroup with processes cannot enable
 * controllers for its children) and to get the parent <X>/podvisor.  On
 * v1 and hybrid hosts nothing of this applies.  The handle owns the per-hierarchy
 * directory paths; resource_manager_destroy_cgroup() removes every directory
 * it created (leaf first, then empty parents it created) and frees nothing
 * else: a populated cgroup gives EBUSY once, and the caller removes it again
 * after it has reaped the processes (no rmdir retry loop).
 *
 * Placement: resource_manager_add_process() writes a pid into cgroup.procs of
 * every hierarchy.  The container code does not use it for its own children:
 * it opens each hierarchy's tasks file (v1; cgroup.procs on v2) in
 * cgroup_handle_dir() before the clone and the single-threaded child writes
 * "0" to them itself, first thing, so everything the child does afterwards
 * is already accounted to its cgroup (container_spawn.c says why tasks on
 * v1).  Nothing here allocates in a child.
 *
 * All calls: 0 on success, -1 with errno and a message naming the cgroup.
 */
#ifndef PODVISOR_CORE_RESOURCE_H
#define PODVISOR_CORE_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

typedef enum { CGROUP_V1 = 1, CGROUP_V2 = 2 } cgroup_version;

/* Which devices the processes of a cgroup may open or make (mknod).  The
 * rules go in place at create (before any process joins), never on a live
 * update: resource_manager_update() leaves them as they are. */
typedef enum {
  RESOURCE_DEVICES_UNSET = 0, /* leave them alone: what the parent allows (v1:
                               * the cgroup does not join the devices hierarchy) */
  RESOURCE_DEVICES_DEFAULT,   /* a container's allow-list (cgroup_devices.h): the
                               * standard nodes, pts, tun, and mknod of anything;
                               * v1: devices.deny "a" + devices.allow per rule;
                               * v2: a BPF_PROG_TYPE_CGROUP_DEVICE program */
  RESOURCE_DEVICES_ALL,       /* every device the parent allows (privileged);
                               * v1: devices.allow "a"; v2: no program */
} resource_devices;

/* Limits.  A zero (or empty string) field means "not set: leave the kernel
 * default".  Values use v1 units; the v2 backend converts (shares→weight,
 * quota/period→cpu.max, memory_swap is memory+swap as in v1 and docker). */
typedef struct resource_limits {
  uint64_t cpu_shares;    /* 2..262144; v2: weight = 1 + ((shares-2)*9999)/262142 */
  int64_t cpu_quota_us;   /* CFS quota per period; -1 = unlimited, 0 = unset */
  uint64_t cpu_period_us; /* default 100000 when a quota is set */
  int64_t memory_limit;   /* bytes; -1 = unlimited, 0 = unset */
  int64_t memory_swap;    /* memory+swap bytes; -1 = unlimited, 0 = unset */
  int64_t pids_limit;     /* -1 = max, 0 = unset */
  char cpuset_cpus[128];  /* "0-1", "" = unset */
  char cpuset_mems[128];
  resource_devices devices;
} resource_limits;

typedef struct resource_stats {
  uint64_t cpu_usage_ns;     /* cpuacct.usage / cpu.stat usage_usec*1000 */
  uint64_t memory_bytes;     /* memory.usage_in_bytes / memory.current */
  uint64_t memory_max_bytes; /* peak when the kernel reports it, else 0 */
  uint64_t pids_current;
  uint64_t oom_kills; /* memory.oom_control oom_kill / memory.events oom_kill */
  /* Block I/O, summed over devices (v2 io.stat rbytes, wbytes, rios, wios).
   * 0 on v1, where containers do not join the blkio hierarchy (one more
   * cgroup.procs write per start for a counter nothing limits). */
  uint64_t io_read_bytes;
  uint64_t io_write_bytes;
  uint64_t io_read_ops;
  uint64_t io_write_ops;
} resource_stats;

typedef struct resource_manager resource_manager;
typedef struct cgroup_handle cgroup_handle;

void resource_limits_init(resource_limits *l);

/* Detects the layout under root (NULL = "/sys/fs/cgroup"). */
int resource_manager_init(resource_manager **out, const char *root, pv_err *err);
void resource_manager_cleanup(resource_manager *rm); /* accepts NULL */

#define RESOURCE_DEFAULT_PARENT "podvisor"
/* The longest cgroup parent accepted. */
#define RESOURCE_PARENT_MAX 200

/* Checks a cgroup parent given by a user (--cgroup-parent): a path
 * relative to the cgroup root ("podvisor", "system.slice/pods"), of at most
 * RESOURCE_PARENT_MAX bytes, no empty, "." or ".." components.  0, or -1
 * with EINVAL and a message naming it.  Pure. */
int resource_manager_check_parent(const char *parent, pv_err *err);
/* Sets the parent (checked as above; NULL = "podvisor"): destroy removes
 * the empty directories between a cgroup and its parent, never the parent
 * or anything above; of a cgroup not below the parent only the cgroup's
 * own directory is removed. */
int resource_manager_set_parent(resource_manager *rm, const char *parent, pv_err *err);
const char *resource_manager_parent(const resource_manager *rm);
/* The delegated cgroup (relative to the root) the process runs in, NULL
 * when there is none (not delegated, the root cgroup, v1). */
const char *resource_manager_delegated(const resource_manager *rm);
/* For a launcher given no --cgroup-parent: in a delegated cgroup X, moves
 * the calling process (all of its threads) to <X>/supervisor unless it is
 * there already (mkdir, "0" to its cgroup.procs) and sets the parent to
 * <X>/podvisor; elsewhere the parent stays "podvisor".  The parent is
 * copied to out (size bytes). */
int resource_manager_nest(resource_manager *rm, char *out, size_t size, pv_err *err);
/* A launcher's cgroup parent: given (checked) when not NULL, else what
 * resource_manager_nest() finds under the default root (a host without a
 * usable cgroup tree gets "podvisor": nothing there is delegated). */
int resource_manager_pick_parent(const char *given, char *out, size_t size, pv_err *err);
cgroup_version resource_manager_version(const resource_manager *rm);
const char *resource_manager_root(const resource_manager *rm);

/* Creates the cgroup in every hierarchy the backend uses (mkdir -p, v2:
 * enables the needed controllers in the parents' cgroup.subtree_control) and
 * writes the limits.  An existing directory is reused (adoption after a
 * restart).  On failure nothing created here is left behind. */
int resource_manager_create_cgroup(resource_manager *rm, const char *relpath, const resource_limits *limits,
                                   cgroup_handle **out, pv_err *err);
/* true when create made the cgroup's own directory in every hierarchy
 * (nothing was reused), so its counters (OOM kills...) start from zero. */
bool resource_manager_cgroup_is_new(const cgroup_handle *cg);
/* Opens a handle to an existing cgroup without creating or changing it. */
int resource_manager_open_cgroup(resource_manager *rm, const char *relpath, cgroup_handle **out, pv_err *err);
/* Writes new limits to an existing cgroup (live update). */
int resource_manager_update(cgroup_handle *cg, const resource_limits *limits, pv_err *err);
int resource_manager_add_process(cgroup_handle *cg, pid_t pid, pv_err *err);
/* Moves pid back to the root cgroup of every hierarchy (of a cgroup in a
 * delegated subtree: to <delegated>/supervisor). */
int resource_manager_remove_process(cgroup_handle *cg, pid_t pid, pv_err *err);
int resource_manager_get_stats(cgroup_handle *cg, resource_stats *st, pv_err *err);
/* Sends sig to every process in the cgroup.  v2: cgroup.kill for SIGKILL;
 * any other signal (or SIGKILL before 5.14) goes to each pid of
 * cgroup.procs with the cgroup frozen meanwhile (cgroup.freeze), so that no
 * fork slips between the read and the kill, and thawed again on every
 * path (a cgroup somebody else froze is signalled and left frozen).  v1
 * walks cgroup.procs until no new pid appears. */
int resource_manager_kill(cgroup_handle *cg, int sig, pv_err *err);
/* true when no process is left in the cgroup. */
bool resource_manager_is_empty(cgroup_handle *cg);
/* rmdir in every hierarchy (leaf, then parents that became empty, below
 * the manager's parent). EBUSY if still populated. Frees the
 * handle only on success; on failure the handle stays valid. */
int resource_manager_destroy_cgroup(cgroup_handle *cg, pv_err *err);
/* Moves the cgroup out of the way of a new one at its path, processes and
 * all: its last path component becomes new_leaf (same parent) in every
 * hierarchy, and the handle follows (cgroup_handle_path() names the new
 * path once every directory moved).  v1, and a fake tree, rename the
 * directory; cgroup2 refuses rename(2) (EPERM), so there the processes are
 * migrated into a new sibling directory, which the handle then owns too,
 * and the old directory is removed.  Never blocks.  EEXIST when new_leaf is
 * taken; EBUSY when a process could not be migrated (the kernel skips one
 * that is already exiting): what moved stays moved and the handle stays
 * valid, so the call can be repeated. */
int resource_manager_move_cgroup(cgroup_handle *cg, const char *new_leaf, pv_err *err);
/* true while one of the cgroup's directories is still at relpath. */
bool resource_manager_cgroup_at(const cgroup_handle *cg, const char *relpath);
/* Calls fn once per child cgroup of relpath (a directory name, each name
 * once whatever the number of hierarchies holding it) until fn returns
 * non-zero, which is then returned.  A missing relpath has no children. */
int resource_manager_each_child(resource_manager *rm, const char *relpath,
                                int (*fn)(void *ctx, const char *name), void *ctx, pv_err *err);
/* Frees a handle without touching the kernel. Accepts NULL. */
void resource_manager_close_cgroup(cgroup_handle *cg);
/* The relative path given at creation. */
const char *cgroup_handle_path(const cgroup_handle *cg);
/* Absolute directory of the cgroup in the hierarchy that holds controller
 * (e.g. "memory"), or the unified directory on v2. NULL if not used. */
const char *cgroup_handle_dir(const cgroup_handle *cg, const char *controller);

#endif
