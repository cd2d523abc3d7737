/*
 * fs_internal.h - the plan's operation record and the plan-building
 * helpers that fs.c (standard mounts, execution) and fs_volume.c (volume
 * destinations) share.  Only those files include it.
 */
#ifndef PODVISOR_CORE_FS_INTERNAL_H
#define PODVISOR_CORE_FS_INTERNAL_H

#include <stdbool.h>
#include <sys/mount.h>
#include <sys/types.h>

#include "supervisor/core/fs.h"

enum op_kind {
  OP_MOUNT,   /* mount(src, dst, type, flags, data), then a bind remount with rflags if ro */
  OP_MKDIR,   /* mkdir(dst, mode); EEXIST is fine */
  OP_MKNOD,   /* mknod(dst, mode, dev); EEXIST is fine for S_IFREG mount points */
  OP_SYMLINK, /* symlink(src, dst) */
  OP_MASK,    /* /dev/null over a file, empty read-only tmpfs over a directory */
  OP_RO_PATH, /* bind dst onto itself read-only */
  OP_SYSFS,   /* sysfs, or the host's /sys bound when sysfs is refused */
  OP_REMOUNT, /* mount(NULL, dst, NULL, MS_REMOUNT | flags, data) */
};

struct fs_op {
  int kind;
  int phase;
  const char *src, *dst, *type, *data; /* dst: relative to the new root */
  unsigned long flags;
  unsigned long rflags; /* remount flags after a bind (ro) */
  bool ro;
  mode_t mode;
  dev_t dev;
};

#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* Hands s (malloc'd) to the plan, which frees it; NULL (s freed) on ENOMEM. */
const char *fs_plan_own(fs_plan *p, char *s);
/* Appends an operation of kind on dst (relative to the new root); NULL on ENOMEM. */
fs_op *fs_plan_add(fs_plan *p, int kind, const char *dst);
fs_op *fs_plan_add_mount(fs_plan *p, const char *src, const char *dst, const char *type, unsigned long flags,
                         const char *data);
int fs_plan_add_dir(fs_plan *p, const char *dst, mode_t mode);
/* Plans volume m: resolves its destination in the image, creates a missing
 * mount point in the upper layer, appends its operations. */
int fs_plan_volume(const fs_config *c, fs_plan *p, const container_mount *m, pv_err *err);

/* fs_idmap.c: the layers to idmap (nothing without a user namespace). */
int fs_idmap_plan(const fs_config *c, fs_plan *p);
/* Mount data for a file system the container's root must own: data with
 * ",uid=U,gid=G" of the root's host ids appended (data itself without a
 * user namespace); with gid_offset > 0, only ",gid=<root's gid + offset>"
 * (devpts' tty group).  Owned by the plan; NULL on ENOMEM. */
const char *fs_idmap_data(const fs_config *c, fs_plan *p, const char *data, unsigned gid_offset);
/* The owner an entry podvisor makes in the upper layer gets: *uid, *gid
 * (the image's, or 0) shifted to the host ids of the container's root when
 * the container has a user namespace (true), else left alone (false). */
bool fs_idmap_upper_owner(const fs_config *c, uid_t *uid, gid_t *gid);
/* Child side, after / is private and before the overlay: the layers
 * idmapped over themselves; FS_STEP_IDMAP and the layer's index on failure. */
int fs_idmap_layers(const fs_plan *p, int *step, int *index);
void fs_idmap_describe(const fs_plan *p, int index, char *buf, size_t len);

#endif
