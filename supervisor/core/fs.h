/*
 * fs.h - a container's root file system: overlay, mounts, pivot_root.
 *
 * Layout on the host: <state_dir>/<id>/{upper,work}.  The image rootfs is
 * the read-only lower layer of an overlayfs mounted on <state_dir>/<id>
 * itself (over its own upper/ and work/, which the kernel resolved before
 * the mount covers them), and that becomes the container's "/".  The overlay is mounted by the container
 * child *inside its own mount namespace* (after making every mount there
 * private), so the host's mount table never shows it: when the last process
 * of the container exits, the kernel drops the namespace and the overlay
 * with it, and fs_cleanup_container_root() only has plain directories to
 * remove.  The overlay uses the "volatile" option: upper/ is thrown away
 * with the container, so syncing it at unmount would be wasted time.
 *
 * Plan, then execute.  In the parent, fs_populate_container_root() turns an
 * fs_config into an fs_plan: the overlay options and an ordered list of
 * operations (mount, mkdir, mknod, symlink, mask, read-only bind), with every
 * path string computed.  In the child,
 * fs_mount_container_filesystems() runs the list relative to the new root (phase
 * 0 before the child is placed in its cgroup, phase 1 after it has entered
 * its cgroup namespace: the cgroup file systems), and fs_setup_pivot_root()
 * switches the root.  Child-side calls only make syscalls and report the
 * failing step and operation index.
 *
 * What a container sees (like crun/podman defaults):
 *   /proc          proc of its pid namespace; masked (podman's list):
 *                  /proc/{acpi,kcore,keys,latency_stats,timer_list,
 *                  timer_stats,sched_debug,scsi}, /sys/{firmware,fs/selinux,
 *                  dev/block}; read-only: /proc/{asound,bus,fs,irq,sys,
 *                  sysrq-trigger}.  A masked file gets /dev/null bound over
 *                  it, a masked directory an empty read-only tmpfs.
 *   /sys           sysfs, read-only.  When sysfs cannot be mounted (a joined
 *                  network namespace owned by another user namespace), the
 *                  host's /sys is bound read-only instead.
 *   /sys/fs/cgroup the container's own cgroups, read-only, when it has a
 *                  cgroup namespace: cgroup2 on v2 hosts; on v1 a tmpfs with
 *                  one mount per hierarchy the container's cgroup uses.
 *   /dev           tmpfs (mode 755, nosuid, nodev) with null zero full random
 *                  urandom tty bound from the host's nodes, devpts
 *                  (newinstance, ptmxmode=0666) at /dev/pts, /dev/ptmx ->
 *                  pts/ptmx, tmpfs /dev/shm, mqueue /dev/mqueue, and the
 *                  /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr links.
 *
 * Device access is closed off twice.  The container's cgroup holds a
 * device allow-list (cgroup_devices.h: the v1 devices controller or a v2
 * BPF device program, set before the child runs): a node made with
 * CAP_MKNOD (part of the default set, as with docker) can be made, but not
 * opened unless it is one of the standard ones.  And the mount flags: every
 * file system podvisor mounts for a container to write to (the overlay
 * root, /dev, /dev/shm, tmpfs and bind volumes, with every submount of a
 * bind volume) is nodev.  Either alone would do for the mounts podvisor
 * makes; the allow-list also covers what a container with CAP_SYS_ADMIN
 * mounts itself.  The six usable nodes are bind mounts of the host's,
 * which keep the host mount's permission.
 * A privileged container gets every device, no masks, a read-write /sys,
 * and bind volumes without nodev (a hostPath of /dev works as in
 * Kubernetes).
 *
 * Mount targets.  Every target is resolved by the child, inside the new
 * root, at the moment its operation runs (after the overlay and the
 * operations before it: a volume under another volume sees the earlier
 * one), with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), and the
 * mount goes onto the opened fd (/proc/self/fd/N, or move_mount), so no
 * path is looked up twice and nothing is mounted by a path the host
 * resolves.  A volume's target follows symbolic links as if the root were
 * "/", as runc's securejoin does: an init container's `ln -s /elsewhere
 * /data/sub` in an emptyDir puts a sibling's volume for /data/sub at the
 * container's own /elsewhere, which the link then shows at /data/sub.  A
 * volume whose target resolves to the root itself or into the container's
 * /proc, /sys or cgroup file systems is refused (FS_STEP_TARGET_REFUSED).
 * The standard mounts' targets (/proc, /dev, /sys and what is inside them)
 * follow no link at all.  What is missing is made the same way, one
 * component at a time with mkdirat (or an O_EXCL|O_NOFOLLOW create for a
 * file's mount point) relative to the fd of its resolved parent: an image
 * without /proc, /dev or /sys runs, and a dangling link on a volume's way
 * gets its target made inside the root.  The messages of FS_STEP_OP,
 * FS_STEP_TARGET and FS_STEP_TARGET_REFUSED name the volume (its name when
 * container_mount.name is set) and its destination.
 *
 * Volumes: bind mounts or tmpfs.  A bind is a clone of the source's whole
 * tree (open_tree(OPEN_TREE_CLONE | AT_RECURSIVE)) whose flags are set with
 * mount_setattr() before move_mount() attaches it: nodev on every mount of
 * the tree (unless privileged), read-only on the top mount when readonly,
 * and on every mount of it with container_mount.rro (Kubernetes'
 * recursiveReadOnly; IfPossible falls back to the top mount when the
 * kernel refuses; open_tree, move_mount and mount_setattr need Linux 5.12,
 * openat2 5.6).  Flags are only added, never cleared: a source mounted
 * nosuid or noexec stays so (podman keeps them likewise).  nosuid is not
 * added, as neither Kubernetes (containerd and CRI-O give a volume "rbind"
 * and "ro"/"rw" only) nor docker nor podman adds it; nodev is podvisor's
 * own (see above).
 * In the parent, the destination is also resolved inside the image, where
 * its missing directories are made in the upper layer with the mode and
 * owner of the image's (the child then finds them).  Destinations under
 * /proc and /sys, and under /dev through the links /dev holds, are refused
 * by name when the plan is built.
 *
 * User namespace (fs_config.idmap_userns >= 0).  The container's root is
 * a host id <base> that owns none of the image's files (unpacked as host
 * root).  So the image rootfs is mounted idmapped through the pod's user
 * namespace over itself, in the child's private mount namespace, before
 * the overlay is mounted from it: a file owned by N on disk shows as host
 * id base+N, which is N inside the container.  The upper layer is a plain
 * directory holding host ids (base+N: what the container writes, and what
 * copy-up copies from the idmapped lower); its root and the mount points
 * podvisor makes there are owned accordingly (fs_idmap.c says why upper/
 * cannot be idmapped as well).  /dev and /dev/shm are owned by the container's root
 * (uid=, gid= options), devpts' tty group is its gid 5.  Volumes are not
 * idmapped: an emptyDir is made owned by the pod's root by the shim, and a
 * hostPath keeps the host's ownership (host root's files show as the
 * overflow id 65534 inside, and the container's root cannot write them),
 * as Kubernetes does.  The file system under the state dir and the images
 * must support idmapped mounts (ext4, xfs, btrfs, tmpfs since 6.3).
 *
 * pivot_root versus chroot: pivot_root cannot move the initial "rootfs" of
 * the kernel (initramfs-only machines).  fs_host_root_is_initramfs() detects
 * that case (the root mount's type is "rootfs" in /proc/self/mountinfo) and
 * the plan then uses fs_setup_chroot(): the overlay is moved onto "/" and
 * the child chroots into it.  chroot leaves the old root reachable for a
 * process with CAP_SYS_CHROOT, so pivot_root is used everywhere else.
 */
#ifndef PODVISOR_CORE_FS_H
#define PODVISOR_CORE_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "container.h"
#include "error.h"

enum {
  FS_STEP_PRIVATE = 200, /* make / rprivate */
  FS_STEP_OVERLAY,       /* mount the overlay on <dir> */
  FS_STEP_CHDIR,         /* chdir into the mounted overlay */
  FS_STEP_OP,            /* operation number `index` of the plan */
  FS_STEP_PIVOT,
  FS_STEP_UMOUNT_OLD,
  FS_STEP_MOVE,
  FS_STEP_CHROOT,
  FS_STEP_READONLY,
  FS_STEP_TARGET,         /* find or create the target of operation `index` inside the root */
  FS_STEP_TARGET_REFUSED, /* a volume's target resolved to the root, /proc or /sys */
  FS_STEP_IDMAP, /* idmap the image rootfs (the lower layer) */
};

/* A cgroup v1 hierarchy to mount inside the container. */
typedef struct fs_cgroup_mount {
  char *name;    /* directory under /sys/fs/cgroup, e.g. "memory", "cpu,cpuacct" */
  char *options; /* mount data naming the hierarchy, e.g. "cpu,cpuacct", "name=systemd" */
} fs_cgroup_mount;

typedef struct fs_config {
  const char *rootfs; /* image rootfs: the overlay's lower dir */
  const char *dir;    /* <state_dir>/<id> */
  bool readonly_rootfs;
  bool privileged;
  bool unmasked_proc;             /* no masked or read-only paths (procMount: Unmasked) */
  bool use_chroot;                /* see fs_host_root_is_initramfs() */
  bool cgroup2;                   /* mount cgroup2 at /sys/fs/cgroup (needs cgroup_ns) */
  bool cgroup_ns;                 /* the container has its own cgroup namespace */
  const fs_cgroup_mount *cgroups; /* v1 hierarchies to mount (needs cgroup_ns) */
  size_t n_cgroups;
  const container_mount *mounts; /* volumes */
  size_t n_mounts;
  /* A container that joins a user namespace (see "User namespace" above):
   * its nsfs fd (-1 = none; fs_config_init sets -1) and the host ids of
   * its root. */
  int idmap_userns;
  uid_t idmap_uid;
  gid_t idmap_gid;
} fs_config;

typedef struct fs_op fs_op;

typedef struct fs_plan {
  char *dir;
  char *merged;       /* the overlay's mount point: <dir> itself */
  char *overlay_data; /* lowerdir=...,upperdir=...,workdir=... */
  fs_op *ops;
  size_t n_ops, cap_ops;
  char **owned; /* strings the ops point to */
  size_t n_owned, cap_owned;
  bool use_chroot;
  bool readonly_rootfs;
  bool idmap;                 /* the layers are idmapped (fs_idmap.c) */
  int idmap_userns;           /* the user namespace to idmap through (not owned) */
  const char *idmap_paths[1]; /* the image rootfs */
} fs_plan;

void fs_config_init(fs_config *c);

/* Creates <dir>, <dir>/upper and <dir>/work (EEXIST is an error for <dir>
 * itself: two containers never share one). */
int fs_create_minimal_root(const fs_config *c, pv_err *err);

/* Builds the plan and creates volume mount points in the upper layer
 * (those the image's side of each destination needs; the child makes the
 * rest, see "Mount targets"). */
int fs_populate_container_root(const fs_config *c, fs_plan *p, pv_err *err);
void fs_plan_free(fs_plan *p);

/* Before another run of the same container over the same <dir>: the
 * earlier run's overlay went away with its mount namespace, but a volatile
 * overlay leaves work/work/incompat/volatile behind, and the kernel refuses
 * to mount the same upper and work directories again while it is there (it
 * flags an upper layer that a crash may have left half written; a container
 * started again by the process that ran it has seen no crash since).
 * Removes that marker and nothing else: upper/ keeps what the container
 * wrote.  The plan is then built again with fs_populate_container_root(). */
int fs_reuse_container_root(const char *dir, pv_err *err);

/* Removes <dir> and everything below it: the usual layout by name, anything
 * else (a container that wrote to its root) by a walk.  Fails with EBUSY
 * (and removes nothing more) if something is still mounted below it on the
 * host. */
int fs_cleanup_container_root(const char *dir, pv_err *err);

/* Child side.  Phase 0: rprivate, overlay, chdir into it, then the phase 0
 * operations; phase 1: the cgroup mounts.  Both run with the new root as
 * the working directory, and resolve every target from it.  On failure:
 * -1, errno, *step and *index (the operation number for FS_STEP_OP,
 * FS_STEP_TARGET and FS_STEP_TARGET_REFUSED). */
int fs_mount_container_filesystems(const fs_plan *p, int phase, int *step, int *index);
/* Child side: pivot_root(".", "."), detach the old root, chdir "/", and
 * remount "/" read-only if asked; or fs_setup_chroot() when p->use_chroot. */
int fs_setup_pivot_root(const fs_plan *p, int *step);
int fs_setup_chroot(const fs_plan *p, int *step);

/* Describes a failed FS_STEP_* ("pivot_root into /x/<id>", "mount proc on
 * /proc") into buf.  Returns false if step is not an fs step. */
bool fs_step_describe(const fs_plan *p, int step, int index, char *buf, size_t len);

/* true when "/" is the kernel's initial rootfs, where pivot_root fails. */
bool fs_host_root_is_initramfs(void);

/* The cgroup v1 hierarchies mounted under cgroup_root, from
 * /proc/self/mountinfo (cgroup2 mounts are skipped). */
int fs_cgroup_mounts_detect(const char *cgroup_root, fs_cgroup_mount **out, size_t *n, pv_err *err);
void fs_cgroup_mounts_free(fs_cgroup_mount *m, size_t n);

#endif
