/*
 * placement_ids.h - who a container's processes are, beyond uid and gid:
 * their supplementary groups, and the group ownership of the pod's volumes
 * (Kubernetes' fsGroup).  Part of placement (placement.h).
 *
 * Supplementary groups, as the kubelet and containerd give them:
 *   the primary gid (runAsGroup), fsGroup, every supplementalGroups entry,
 *   and with supplementalGroupsPolicy: Merge (the default) also every group
 *   of the image's /etc/group that lists the user (the image's /etc/passwd
 *   name of the uid) as a member; Strict leaves those out.  Duplicates are
 *   dropped, the order kept.  The image's files are opened with
 *   openat2(RESOLVE_IN_ROOT), so a symbolic link in the image never reads
 *   a host file; a missing file means no groups from it.
 *
 * Volume ownership (Kubernetes' SetVolumeOwnership), for the volumes that
 * support it (emptyDir; hostPath is left alone, as by the kubelet): every
 * file and directory of the volume gets group fsGroup and g+rw, directories
 * also g+x and the setgid bit, so that new files inherit the group.  The
 * walk uses only *at() calls relative to directory fds, never follows a
 * symbolic link (links get the group themselves, not a mode), and stays on
 * the volume's file system.  fsGroupChangePolicy: OnRootMismatch skips the
 * walk when the volume's root already has the group, rwx for it and the
 * setgid bit.  Directories nest at most PLACEMENT_OWNERSHIP_DEPTH deep
 * (one open fd per level); deeper is an error naming the volume.
 *
 * Both block on the file system; they run before containers start.
 */
#ifndef PODVISOR_SHIM_PLACEMENT_IDS_H
#define PODVISOR_SHIM_PLACEMENT_IDS_H

#include <stddef.h>
#include <sys/types.h>

#include "spec/spec.h"
#include "supervisor/core/error.h"

#define PLACEMENT_OWNERSHIP_DEPTH 256
#define PLACEMENT_MAX_GROUPS 65536 /* the kernel's NGROUPS_MAX */

/* The groups (malloc'd into *out, *n of them, at least the gid) of a
 * container of pod p running as uid:gid from the image rootfs. */
int placement_groups(const char *rootfs, const spec_pod *p, uid_t uid, gid_t gid, gid_t **out, size_t *n,
                     pv_err *err);

/* Gives the volume at dir (named volume in messages) to group gid as
 * described above. */
int placement_volume_ownership(const char *dir, const char *volume, gid_t gid, spec_fs_group_policy policy,
                               pv_err *err);

#endif
