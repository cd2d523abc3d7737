/*
 * fs_idmap.c - a container in a user namespace: its image rootfs and its
 * upper layer mounted idmapped (fs.h, "User namespace").
 *
 * Plan (parent): the layer to idmap, the owner of the upper layer, and the
 * uid=/gid= options that give the container's root its /dev.  Execution
 * (child, syscalls only): open_tree(OPEN_TREE_CLONE) makes a detached copy
 * of the image rootfs's mount, mount_setattr(MOUNT_ATTR_IDMAP) idmaps it
 * through the pod's user namespace (on-disk id N shows as host id base+N,
 * i.e. as N inside the pod), and move_mount() attaches it over the very
 * same path, in the container's private mount namespace only.  The overlay
 * mounted next resolves its lowerdir through that mount (overlayfs takes
 * idmapped layers since Linux 5.19).
 *
 * The upper layer is not idmapped: the overlay is mounted by the host's
 * root, whose credentials overlayfs uses for its own work in upper/ and
 * work/ (work/work, copy-up), and host id 0 has no mapping through the
 * pod's namespace (the kernel fails those with EOVERFLOW and mounts the
 * overlay read-only).  So upper/ holds host ids: base+N, what the
 * container's processes and copy-up (which copies the idmapped lower's
 * owners) write.  podvisor's own entries there follow the same rule: the
 * upper root and the volume mount points it makes (fs_idmap_upper_owner).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/core/fs_internal.h"

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define PV_OPEN_TREE_CLONE 1u
#define PV_AT_EMPTY_PATH 0x1000u
#define PV_AT_RECURSIVE 0x8000u
#define PV_MOVE_MOUNT_F_EMPTY_PATH 0x4u
#define PV_MOUNT_ATTR_IDMAP 0x00100000ull

/* struct mount_attr of <linux/mount.h> (kernel ABI, size 32). */
struct pv_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

int fs_idmap_plan(const fs_config *c, fs_plan *p) {
  p->idmap = c->idmap_userns >= 0;
  p->idmap_userns = c->idmap_userns;
  if (!p->idmap)
    return 0;
  if ((p->idmap_paths[0] = fs_plan_own(p, strdup(c->rootfs))) == NULL)
    return -1;
  return 0;
}

bool fs_idmap_upper_owner(const fs_config *c, uid_t *uid, gid_t *gid) {
  if (c->idmap_userns < 0)
    return false;
  *uid += c->idmap_uid;
  *gid += c->idmap_gid;
  return true;
}

const char *fs_idmap_data(const fs_config *c, fs_plan *p, const char *data, unsigned gid_offset) {
  if (c->idmap_userns < 0)
    return data;
  char *s;
  if (gid_offset > 0) {
    /* devpts: only gid= (the tty group, by its number inside the pod). */
    if (asprintf(&s, "%s,gid=%u", data, (unsigned)c->idmap_gid + gid_offset) < 0)
      return NULL;
  } else if (asprintf(&s, "%s,uid=%u,gid=%u", data, (unsigned)c->idmap_uid, (unsigned)c->idmap_gid) < 0) {
    return NULL;
  }
  return fs_plan_own(p, s);
}

/* Child side: one layer, idmapped over itself. */
static int idmap_one(const char *path, int userns) {
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, PV_OPEN_TREE_CLONE | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct pv_mount_attr attr = {.attr_set = PV_MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  int r = (int)syscall(SYS_mount_setattr, fd, "", PV_AT_EMPTY_PATH, &attr, sizeof attr);
  if (r == 0)
    r = (int)syscall(SYS_move_mount, fd, "", AT_FDCWD, path, PV_MOVE_MOUNT_F_EMPTY_PATH);
  int saved = errno;
  close(fd);
  errno = saved;
  return r;
}

int fs_idmap_layers(const fs_plan *p, int *step, int *index) {
  for (int i = 0; p->idmap && i < 1; i++) {
    if (idmap_one(p->idmap_paths[i], p->idmap_userns) < 0) {
      *step = FS_STEP_IDMAP;
      *index = i;
      return -1;
    }
  }
  return 0;
}

void fs_idmap_describe(const fs_plan *p, int index, char *buf, size_t len) {
  const char *path = p->idmap && index == 0 ? p->idmap_paths[0] : "?";
  snprintf(buf, len,
           "mount the image rootfs %s idmapped to the pod's user namespace (open_tree, mount_setattr, move_mount)",
           path);
}
