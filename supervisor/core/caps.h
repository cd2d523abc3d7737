/*
 * caps.h - the capabilities of a container process (libcap).
 *
 * A container starts with the default set that docker, podman and crun give
 * an unprivileged container (caps_default_set()), plus the caller's cap_add,
 * minus cap_drop.  The set is applied to the bounding set (every other
 * capability is dropped from it), and to the effective, permitted and
 * inheritable sets; the ambient set is cleared, so a container running as a
 * non-root uid ends up with no effective capabilities after exec, exactly as
 * with crun and the default OCI spec of podman.  A privileged container keeps
 * every capability the caller has.
 *
 * Plan, then execute: caps_plan_init() runs in the parent before clone and
 * does everything that allocates (the libcap cap_t, the list of bounding
 * capabilities to drop).  caps_apply() runs in the container child between
 * clone and exec and only makes syscalls.
 *
 * CAP_MKNOD is in the default set (as with docker): a node a container
 * makes cannot be opened unless the device allow-list of its cgroup names
 * it (cgroup_devices.h), and the file systems podvisor mounts for it are
 * nodev besides (fs.h).
 *
 * A capability that the calling process itself lacks (CAP_SYS_RESOURCE is
 * missing from the bounding set on some hosts) is silently left out of the
 * container's set: the kernel would refuse to grant it anyway, and failing
 * the whole container for it would help nobody.
 */
#ifndef PODVISOR_CORE_CAPS_H
#define PODVISOR_CORE_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/types.h>

#include "supervisor/core/error.h"

/* Child step ids reported by caps_apply() (see container.c's error pipe). */
enum {
  CAPS_STEP_BOUNDING = 300,
  CAPS_STEP_KEEPCAPS,
  CAPS_STEP_SETGROUPS,
  CAPS_STEP_SETGID,
  CAPS_STEP_SETUID,
  CAPS_STEP_SET_PROC,
  CAPS_STEP_AMBIENT,
  CAPS_STEP_NO_NEW_PRIVS,
};

/* Who the container's processes are: uid, gid and supplementary groups. */
typedef struct caps_ids {
  uid_t uid;
  gid_t gid;
  const gid_t *groups; /* copied by caps_plan_init() */
  size_t n_groups;
} caps_ids;

typedef struct caps_plan {
  cap_t state;           /* effective = permitted = inheritable = keep */
  uint64_t keep;         /* the container's final capability set */
  int drop[64];          /* bounding-set capabilities to drop */
  int n_drop;
  uid_t uid;
  gid_t gid;
  gid_t *groups;         /* supplementary groups (owned), n_groups of them */
  size_t n_groups;
  bool set_ids;          /* setgroups/setgid/setuid needed (uid, gid != 0 or groups given) */
  bool privileged;       /* leave the capability sets alone */
  bool no_new_privs;
} caps_plan;

/* CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP
 * SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE, as a bit mask. */
uint64_t caps_default_set(void);

/* Parses "NET_ADMIN", "CAP_NET_ADMIN" or "net_admin" into a bit mask; "ALL"
 * gives every capability the kernel knows. */
int caps_parse(const char *name, uint64_t *mask, pv_err *err);

/* Parent side: computes the final set and builds the libcap state.  With
 * ids->n_groups > 0 the child calls setgroups() with exactly those groups;
 * without, setgroups(0) clears the caller's when uid or gid is not 0. */
int caps_plan_init(caps_plan *p, uint64_t add, uint64_t drop, bool privileged, const caps_ids *ids,
                   bool no_new_privs, pv_err *err);
void caps_plan_free(caps_plan *p);

/* Child side, last step before exec: bounding set, uid/gid, capability sets,
 * ambient set, no_new_privs.  Only syscalls.  On failure returns -1 with
 * errno set and *step = CAPS_STEP_*. */
int caps_apply(const caps_plan *p, int *step);

/* A readable name of a CAPS_STEP_* id, or NULL if it is not one. */
const char *caps_step_name(int step);

#endif
