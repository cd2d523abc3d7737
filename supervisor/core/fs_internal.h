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
  OP_MOUNT,   /* mount(src, dst, type, flags, data); a bind (MS_BIND) is a cloned tree, see attr_* */
  OP_MKDIR,   /* mkdir(dst, mode); EEXIST is fine */
  OP_MKNOD,   /* mknod(dst, mode, dev); EEXIST is fine for S_IFREG mount points */
  OP_SYMLINK, /* symlink(src, dst) */
  OP_MASK,    /* /dev/null over a file, empty read-only tmpfs over a directory */
  OP_RO_PATH, /* bind dst onto itself read-only */
  OP_SYSFS,   /* sysfs, or the host's /sys bound when sysfs is refused */
  OP_REMOUNT, /* mount(NULL, dst, NULL, MS_REMOUNT | flags, data) */
};

/* What a missing target of an OP_MOUNT becomes (fs_target_open()). */
enum op_point {
  POINT_NONE = 0, /* nothing: the target must exist */
  POINT_DIR,      /* a directory, with its missing parents */
  POINT_FILE,     /* an empty file, with its missing parents as directories */
};

struct fs_op {
  int kind;
  int phase;
  const char *src, *dst, *type, *data; /* dst: relative to the new root */
  unsigned long flags;
  mode_t mode;
  dev_t dev;
  /* Targets and bind attributes (fs_target.c, fs.h "Mount targets").
   * volume is set on the ops of a volume (its destination as given, and
   * volume_name its name or NULL): their targets follow symbolic links
   * inside the root, the standard mounts' follow none.  A bind is a clone
   * of the source's tree with MOUNT_ATTR_* attr_all set on every mount of
   * it and attr_top on its top mount; with rro_fallback, a refused
   * recursive MOUNT_ATTR_RDONLY falls back to the top mount only. */
  int point;
  const char *volume;
  const char *volume_name;
  uint64_t attr_all, attr_top;
  bool rro_fallback;
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

/* ---- child side (fs_target.c): syscalls only, no allocation ---- */

/* Runs op with root (an O_PATH fd of the new root) as the base of every
 * path; on failure -1, errno and *step: FS_STEP_TARGET, FS_STEP_TARGET_REFUSED
 * or FS_STEP_OP. */
int fs_run_op(int root, const fs_op *op, int *step);

/* An O_PATH fd of rel resolved inside root (an O_PATH fd of the new root)
 * with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), and with
 * RESOLVE_NO_SYMLINKS unless follow.  With point != POINT_NONE what is
 * missing is made there, relative to the fd of its resolved parent
 * (mkdirat, never following a link out of the root); with follow, a
 * dangling link is followed inside the root and its target made.  -1 and
 * errno on failure. */
int fs_target_open(int root, const char *rel, int point, bool follow);
/* The parent directory of rel resolved as above (no links followed), and
 * in *name the last component of rel. */
int fs_target_parent(int root, const char *rel, const char **name);
/* 1 (errno EBUSY or EXDEV) when fd, a volume's target, is the root itself
 * or inside a proc, sysfs or cgroup file system of the container: the
 * destination went there through a link; 0 when fine; -1 on error. */
int fs_target_refused(int root, int fd);
/* Clones the mount tree at (dirfd, path) (AT_EMPTY_PATH when path is ""),
 * recursively when recursive, sets attr_all on all of it and attr_top on
 * its top (see struct fs_op for fallback), and moves it onto target. */
int fs_bind_tree(int dirfd, const char *path, bool recursive, const fs_op *op, int target);
/* "/proc/self/fd/<fd>" into buf (at least 32 bytes): a path mount(2) can
 * take for an fd. */
const char *fs_fd_path(char *buf, int fd);
/* MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC as MOUNT_ATTR_* flags. */
uint64_t fs_ms_to_attr(unsigned long ms);
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
