/*
 * placement.h - turns one container of a pod spec into a core
 * container_config: image, command, env, limits, security, volumes.
 *
 * This is the "plan" half of starting a container: everything the core API
 * needs is computed and allocated here, in the shim, before clone.  A
 * placement owns every string and array its cfg points to; free it with
 * placement_free() after container_manager_create() (which deep-copies).
 *
 * Kubernetes semantics, and what podvisor's images provide:
 *  - podvisor images have a cmd and no entrypoint (image.h), so
 *      command set      → argv = command + args
 *      only args set    → argv = args (the empty entrypoint + args)
 *      neither          → argv = the image cmd
 *  - env = the image env, then the container env (a later key replaces an
 *    earlier one); $(VAR) references in values are expanded from the
 *    variables defined before, as Kubernetes does; unknown ones stay as is.
 *  - requests.cpu → cpu shares (millicores*1024/1000, at least 2); limits.cpu
 *    → CFS quota over a 100 ms period; limits.memory → memory limit (swap
 *    equal to it: no swap); pids limited to PLACEMENT_PIDS_LIMIT.
 *  - securityContext: runAsUser/Group (default 0), capabilities add/drop
 *    ("ALL" allowed), privileged, readOnlyRootFilesystem, procMount
 *    (Unmasked: no masked or read-only /proc and /sys paths); no_new_privs
 *    only with allowPrivilegeEscalation: false, as in Kubernetes (unset
 *    means true), so setuid programs of the image (ping, su) work by default.
 *  - supplementary groups: the primary gid, fsGroup, supplementalGroups and,
 *    with supplementalGroupsPolicy: Merge, the user's groups of the image's
 *    /etc/group (placement_ids.h).
 *  - fsGroup: emptyDir volumes are given to that group when they are
 *    prepared (placement_ids.h); hostPath volumes are left alone.
 *  - seccompProfile: RuntimeDefault when unset (podvisor's default, the
 *    kubelet's with --seccomp-default); Localhost names a file below
 *    <root>/seccomp/ (PLACEMENT_SECCOMP_DIR), like the kubelet's
 *    /var/lib/kubelet/seccomp/; a privileged container is unconfined
 *    whatever it says, as in Kubernetes.
 *  - Volumes: emptyDir → <root>/pods/<uid>/volumes/<name> (medium Memory: a
 *    tmpfs mounted there by placement_prepare_volumes, sizeLimit as its
 *    size); hostPath → the host path after its type check.  A subPath is
 *    opened inside the volume one component at a time, refusing symbolic
 *    links (a container can plant them in its volumes), and the object
 *    found is bind-mounted through its fd onto
 *    <pod_dir>/subpaths/<container>/<n>, which becomes the mount source;
 *    placement_release_volumes() unmounts those.  The hostPath path itself
 *    is the manifest author's choice of host path and is used as written.
 *
 * Calls block on the file system (image lookup, mkdir); they run before a
 * container starts, never in a hot path.
 */
#ifndef PODVISOR_SHIM_PLACEMENT_H
#define PODVISOR_SHIM_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "supervisor/core/container.h"
#include "supervisor/core/error.h"

#define PLACEMENT_PIDS_LIMIT 4096
/* Where Localhost seccomp profiles live, below the root. */
#define PLACEMENT_SECCOMP_DIR "seccomp"

/* Which seccomp filter a container runs under (see placement_build). */
typedef enum placement_seccomp {
  PLACEMENT_SECCOMP_NONE = 0,  /* unconfined: Unconfined, or privileged */
  PLACEMENT_SECCOMP_DEFAULT,   /* RuntimeDefault (also when unset) */
  PLACEMENT_SECCOMP_FILE,      /* Localhost: seccomp_path */
} placement_seccomp;

typedef struct placement {
  container_config cfg;
  char id[160];
  char cgroup[512];
  char rootfs[4096];
  char cwd[4096];
  char **argv;
  char **envp;
  container_mount *mounts;
  size_t n_mounts;
  char **mount_paths; /* owned sources/destinations of mounts[] */
  size_t n_mount_paths;
  gid_t *groups; /* owned supplementary groups (placement_ids.h) */
  size_t n_groups;
  /* The seccomp filter asked for; cfg.seccomp stays NULL: the caller
   * compiles (or finds in its cache, seccache.h) the program of
   * (seccomp, seccomp_path) for seccomp_caps and sets cfg.seccomp. */
  placement_seccomp seccomp;
  char seccomp_path[4096]; /* FILE: <root>/seccomp/<localhostProfile> */
  uint64_t seccomp_caps;   /* the container's capabilities: default set + add - drop */
} placement;

/* Builds the config of container c (restart number restart) of pod p,
 * whose volumes live under pod_dir (= <root>/pods/<uid>) and whose cgroup
 * is pod_cgroup (<cgroup parent>/<uid>; the container's is
 * <pod_cgroup>/<name>). */
int placement_build(placement *pl, const char *root, const char *pod_dir, const char *pod_cgroup,
                    const spec_pod *p, const spec_container *c, unsigned restart, pv_err *err);
void placement_free(placement *pl);

/* Creates the emptyDir directories (tmpfs for medium Memory) and checks or
 * creates hostPath sources according to their type.  id_base is the host id
 * of the pod's root when it has a user namespace (hostUsers: false), else 0:
 * its own volumes (emptyDir) are then owned by that id, so that they show as
 * root's inside and the container's root writes them without capabilities
 * over host files, and fsGroup is the group id base + fsGroup; hostPath
 * volumes keep the host's owners, as in Kubernetes. */
int placement_prepare_volumes(const char *pod_dir, const spec_pod *p, uint32_t id_base, pv_err *err);
/* Unmounts memory-backed emptyDirs; the caller removes pod_dir afterwards. */
void placement_release_volumes(const char *pod_dir, const spec_pod *p);

/* The core limits of a container's resources (the mapping described above),
 * with no other input: pure, for placement_build and the tests. */
void placement_limits(resource_limits *l, const spec_resources *r);

/* Capability name ("NET_ADMIN", "ALL") → bit mask; -1 if unknown. */
int placement_cap_mask(const char *name, uint64_t *mask);

#endif
