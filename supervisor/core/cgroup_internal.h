/*
 * cgroup_internal.h - what resource.c shares with the two cgroup backends
 * (cgroup_v1.c, cgroup_v2.c).  Not part of the public API.
 *
 * resource.c owns everything that is the same on both versions (with the
 * file helpers in cgroup_file.c, and the moves and listings of directories
 * in cgroup_tree.c): path validation, mkdir -p with a record of which
 * directories it created, the rollback of a failed create, cgroup.procs
 * writes, the kill walk and destroy.  A backend only knows its own files:
 * it detects its layout, picks the hierarchies a cgroup lives in, prepares
 * freshly made directories (v2: cgroup.subtree_control of the ancestors;
 * v1: cpuset.cpus/mems), puts the device allow-list in place
 * (cgroup_devices.h: v1 devices.deny/allow, v2 a BPF program through
 * rm->set_devices), writes limits and reads stats.  The ops table below is
 * the whole contract.
 *
 * Delegation (cgroup_deleg.c): on v2 the manager knows the cgroup it was
 * delegated, if any (rm->delegated), and a backend never writes above it.
 *
 * Ownership: a resource_manager owns its hierarchy table, its parent and
 * delegation strings; a cgroup_handle points into it (the manager must
 * outlive its handles) and owns the strings of its directories.
 */
#ifndef PODVISOR_CORE_CGROUP_INTERNAL_H
#define PODVISOR_CORE_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/core/cgroup_devices.h"
#include "supervisor/core/error.h"
#include "supervisor/core/resource.h"

#define CGROUP_DEFAULT_ROOT "/sys/fs/cgroup"
/* A host has at most six hierarchies podvisor cares about. */
#define CGROUP_MAX_HIER 8

/* Controllers podvisor uses, as a bit set. */
enum {
  CG_CPU = 1u << 0,
  CG_CPUACCT = 1u << 1,
  CG_CPUSET = 1u << 2,
  CG_MEMORY = 1u << 3,
  CG_PIDS = 1u << 4,
  CG_IO = 1u << 5,      /* v2 only (v1 has blkio, not used) */
  CG_DEVICES = 1u << 6, /* v1 only (v2 has a BPF program instead) */
};

/* One mounted hierarchy (v1), or the unified tree (v2). */
typedef struct cg_hier {
  char *mount;    /* absolute mount point (v2: the root) */
  unsigned ctrls; /* CG_* controllers it holds */
} cg_hier;

/* The cgroup's directory in one hierarchy. */
typedef struct cg_dir {
  const cg_hier *hier;
  char *path;    /* mount + "/" + relpath */
  int nexisting; /* leading relpath components that existed before create */
  bool removed;  /* the leaf is gone (destroy got that far) */
} cg_dir;

typedef struct cgroup_ops cgroup_ops;

/* v2: puts the device program insns (n instructions) on the cgroup
 * directory dir, replacing the one there, or with n == 0 takes it off
 * (nothing there is not an error).  The kernel has no file for this, so
 * it is the one step a fake tree cannot play: the manager holds it as a
 * hook (rm->set_devices), cgroup_bpf_set_devices() unless a test on a
 * fake tree puts a recorder there. */
typedef int (*cgroup_set_devices_fn)(const char *dir, const struct bpf_insn *insns, size_t n, pv_err *err);

struct resource_manager {
  cgroup_version version;
  const cgroup_ops *ops;
  char *root;
  size_t nhier;
  cg_hier hier[CGROUP_MAX_HIER];
  unsigned v2_avail; /* v2: controllers listed in the cgroup.controllers of the
                      * root, or of the delegated cgroup when there is one */
  char *parent;      /* below it destroy removes empty directories; "podvisor" */
  /* v2 only, from the process's own cgroup (cgroup_deleg.c): */
  char *self;                        /* that cgroup, relative to the root ("" = the root); NULL unknown */
  char *delegated;                   /* the delegated cgroup it runs in, relative; NULL = none */
  const char *self_text;             /* during init only: /proc/self/cgroup's text to use */
  cgroup_set_devices_fn set_devices; /* v2 device programs, see above */
};

struct cgroup_handle {
  resource_manager *rm;
  char *relpath;
  int ncomp; /* path components in relpath */
  /* One directory per hierarchy, except after a cgroup2 move aside
   * (resource_manager_move_cgroup): the old directory and the new sibling
   * the processes migrate into, until the old one is removed. */
  size_t ndirs;
  cg_dir dirs[CGROUP_MAX_HIER];
};

struct cgroup_ops {
  /* Fills rm->hier / rm->v2_avail from the tree under rm->root. */
  int (*detect)(resource_manager *rm, pv_err *err);
  /* The hierarchies (bit i = rm->hier[i]) a cgroup with these limits lives
   * in; limits == NULL means "every hierarchy it could be in" (open). */
  unsigned (*select)(const resource_manager *rm, const resource_limits *limits);
  /* Runs once the directories exist (created or adopted), before limits.
   * It also puts the device rules of limits->devices in place (v1: the
   * devices.deny/allow writes, v2: the program): only at create, never on
   * a live update, so a running container never sees a moment without
   * rules. */
  int (*prepare)(cgroup_handle *cg, const resource_limits *limits, pv_err *err);
  int (*set_limits)(cgroup_handle *cg, const resource_limits *limits, pv_err *err);
  int (*get_stats)(cgroup_handle *cg, resource_stats *st, pv_err *err);
  /* Kills everything at once when the kernel offers it.  1 = done, 0 = not
   * available (resource.c walks cgroup.procs), -1 = error.  May be NULL. */
  int (*kill_all)(cgroup_handle *cg, int sig, pv_err *err);
  /* Freezes (on) or thaws every live directory of the handle.  Freezing
   * returns 1 once the cgroup is frozen and must be thawed later, 0 when
   * there is nothing to undo (no freezer, or somebody else froze it: a
   * thaw would undo their freeze), -1 on error (nothing left frozen).
   * Thawing returns 0 or -1.  May be NULL. */
  int (*freeze)(cgroup_handle *cg, bool on, pv_err *err);
};

extern const cgroup_ops cgroup_v1_ops;
extern const cgroup_ops cgroup_v2_ops;

/* resource.c: resource_manager_init with the text of /proc/self/cgroup
 * given (self_text; NULL: the process's own cgroup is unknown, so nothing
 * is delegated).  resource_manager_init reads the real file for the
 * default root only.  For tests on a fake tree. */
int resource_manager_init_self(resource_manager **out, const char *root, const char *self_text, pv_err *err);

/* cgroup_deleg.c: the path of the process's cgroup in the unified
 * hierarchy from the text of /proc/<pid>/cgroup (its "0::/path" line),
 * relative to the root: "" for the root.  -1 with ENOENT when there is no
 * such line (a v1-only host), EINVAL for a bad one, ENAMETOOLONG. */
int cgroup_self_path(const char *text, char *out, size_t size);
/* true when the cgroup directory dir carries the delegation mark systemd
 * sets for Delegate=yes: the extended attribute trusted.delegate or
 * user.delegate with the value "1". */
bool cgroup_dir_is_delegated(const char *dir);
/* v2 detect: fills rm->self and rm->delegated from rm->self_text. */
int cgroup_detect_delegation(resource_manager *rm, pv_err *err);
/* cgroup_file.c: the first depth of cg's path a backend may write in:
 * that of the delegated cgroup when cg lies below it, else 0 (the root). */
int cgroup_first_writable(const cgroup_handle *cg);
/* v2: ENOTSUP naming the controller when a limit of l needs one that
 * rm->v2_avail lacks (not offered by the root, or not delegated). */
int cgroup_check_available(const cgroup_handle *cg, const resource_limits *l, pv_err *err);

/* cgroup_bpf.c: the real cgroup_set_devices_fn, through bpf(2). */
int cgroup_bpf_set_devices(const char *dir, const struct bpf_insn *insns, size_t n, pv_err *err);

/* resource.c: reads cgroup.procs of one directory: a malloc'd buffer, or
 * NULL with *gone set when the directory no longer exists. */
char *cgroup_read_procs(const char *dir, bool *gone, pv_err *err);

/* Helpers defined in cgroup_file.c.  All return 0 / -1 with errno and a message
 * "write VALUE to PATH: reason" that the caller prefixes with the cgroup. */
int cgroup_write(const char *dir, const char *file, const char *value, pv_err *err);
/* Reads a small file into buf (NUL-terminated, truncated at size-1). */
int cgroup_read(const char *dir, const char *file, char *buf, size_t size, pv_err *err);
int cgroup_read_u64(const char *dir, const char *file, uint64_t *out, pv_err *err);
/* Finds "key N" in a flat-keyed file (cpu.stat, memory.events, memory.oom_control).
 * ENOENT when the file or the key is missing. */
int cgroup_read_key(const char *dir, const char *file, const char *key, uint64_t *out, pv_err *err);
bool cgroup_file_exists(const char *dir, const char *file);
/* dir is the root of a cgroup2 tree (its file system, or a fake tree with
 * cgroup.controllers). */
bool cgroup_dir_is_v2(const char *dir);
/* The directory of the hierarchy holding ctrl, NULL when the cgroup has none. */
const char *cgroup_dir_for(const cgroup_handle *cg, unsigned ctrl);
/* The path of d cut after depth components of relpath (0 = the mount). */
void cgroup_ancestor(const cg_dir *d, int depth, char *buf, size_t size);
/* Parses a controller name ("cpu", "memory"...) into a CG_* bit, 0 if unknown. */
unsigned cgroup_ctrl_bit(const char *name, size_t len);
/* Converts v1 cpu.shares to v2 cpu.weight (1..10000). */
uint64_t cgroup_shares_to_weight(uint64_t shares);
/* Formats a limit where -1 means unlimited ("max" / "-1" per the caller). */
void cgroup_fmt_limit(char *buf, size_t size, int64_t v, const char *unlimited);
/* True when the limits ask for a cpuset. */
bool cgroup_wants_cpuset(const resource_limits *l);
/* For an optional counter: turns r < 0 with ENOENT (file or key missing)
 * into 0 and clears err; other results pass through. */
int cgroup_optional(int r, pv_err *err);
/* Writes pids.max in dir when the limits set one (-1 = "max"). */
int cgroup_write_pids(const char *dir, const resource_limits *l, pv_err *err);
/* Writes cpuset.cpus / cpuset.mems in dir for the ones the limits set. */
int cgroup_write_cpuset(const char *dir, const resource_limits *l, pv_err *err);

#endif
