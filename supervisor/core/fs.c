/*
 * fs.c - the container rootfs: the plan of the standard mounts (parent) and
 * its execution (child).  Volumes are planned in fs_volume.c, host probes
 * live in fs_host.c.
 */
#include "supervisor/core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "supervisor/core/fs_internal.h"
#include "supervisor/core/util.h"

static const char *const masked_paths[] = {
    "proc/acpi",       "proc/kcore",       "proc/keys",        "proc/latency_stats",
    "proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi",
    "sys/firmware",    "sys/fs/selinux",   "sys/dev/block",
};
static const char *const readonly_paths[] = {
    "proc/asound", "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

void fs_config_init(fs_config *c) {
  memset(c, 0, sizeof *c);
  c->idmap_userns = -1;
}

/* ---- plan building (parent) ---- */

const char *fs_plan_own(fs_plan *p, char *s) {
  if (s == NULL)
    return NULL;
  if (p->n_owned == p->cap_owned) {
    size_t cap = p->cap_owned ? p->cap_owned * 2 : 16;
    char **n = realloc(p->owned, cap * sizeof *n);
    if (n == NULL) {
      free(s);
      return NULL;
    }
    p->owned = n;
    p->cap_owned = cap;
  }
  p->owned[p->n_owned++] = s;
  return s;
}

fs_op *fs_plan_add(fs_plan *p, int kind, const char *dst) {
  if (p->n_ops == p->cap_ops) {
    size_t cap = p->cap_ops ? p->cap_ops * 2 : 64;
    fs_op *n = realloc(p->ops, cap * sizeof *n);
    if (n == NULL)
      return NULL;
    p->ops = n;
    p->cap_ops = cap;
  }
  fs_op *op = &p->ops[p->n_ops++];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  op->dst = dst;
  return op;
}

fs_op *fs_plan_add_mount(fs_plan *p, const char *src, const char *dst, const char *type, unsigned long flags,
                         const char *data) {
  fs_op *op = fs_plan_add(p, OP_MOUNT, dst);
  if (op != NULL) {
    op->src = src;
    op->type = type;
    op->flags = flags;
    op->data = data;
  }
  return op;
}

/* A device node: an empty file in the nodev /dev tmpfs with the host's
 * node bound over it (a bind mount keeps the host mount's dev permission). */
static int add_dev(fs_plan *p, const char *dst, const char *host) {
  fs_op *op = fs_plan_add(p, OP_MKNOD, dst);
  if (op == NULL)
    return -1;
  op->mode = S_IFREG | 0666;
  return fs_plan_add_mount(p, host, dst, NULL, MS_BIND, NULL) == NULL ? -1 : 0;
}

static int add_link(fs_plan *p, const char *target, const char *dst) {
  fs_op *op = fs_plan_add(p, OP_SYMLINK, dst);
  if (op == NULL)
    return -1;
  op->src = target;
  return 0;
}

int fs_plan_add_dir(fs_plan *p, const char *dst, mode_t mode) {
  fs_op *op = fs_plan_add(p, OP_MKDIR, dst);
  if (op == NULL)
    return -1;
  op->mode = mode;
  return 0;
}

static int plan_dev(const fs_config *c, fs_plan *p) {
  const char *data = fs_idmap_data(c, p, "mode=755,size=65536k", 0);
  const char *pts = fs_idmap_data(c, p, "newinstance,ptmxmode=0666,mode=0620", 5);
  const char *shm = fs_idmap_data(c, p, "mode=1777,size=65536k", 0);
  if (data == NULL || pts == NULL || shm == NULL)
    return -1;
  if (c->idmap_userns < 0)
    pts = "newinstance,ptmxmode=0666,mode=0620,gid=5";
  fs_op *dev = fs_plan_add_mount(p, "tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, data);
  if (dev == NULL)
    return -1;
  dev->point = POINT_DIR; /* an image may lack /dev */
  if (add_dev(p, "dev/null", "/dev/null") < 0 || add_dev(p, "dev/zero", "/dev/zero") < 0 ||
      add_dev(p, "dev/full", "/dev/full") < 0 || add_dev(p, "dev/random", "/dev/random") < 0 ||
      add_dev(p, "dev/urandom", "/dev/urandom") < 0 || add_dev(p, "dev/tty", "/dev/tty") < 0 ||
      fs_plan_add_dir(p, "dev/pts", 0755) < 0 || fs_plan_add_dir(p, "dev/shm", 01777) < 0 ||
      fs_plan_add_dir(p, "dev/mqueue", 0755) < 0)
    return -1;
  if (fs_plan_add_mount(p, "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, pts) == NULL ||
      fs_plan_add_mount(p, "shm", "dev/shm", "tmpfs", NOSUID_NODEV_NOEXEC, shm) == NULL ||
      fs_plan_add_mount(p, "mqueue", "dev/mqueue", "mqueue", NOSUID_NODEV_NOEXEC, NULL) == NULL)
    return -1;
  if (add_link(p, "pts/ptmx", "dev/ptmx") < 0 || add_link(p, "/proc/self/fd", "dev/fd") < 0 ||
      add_link(p, "/proc/self/fd/0", "dev/stdin") < 0 || add_link(p, "/proc/self/fd/1", "dev/stdout") < 0 ||
      add_link(p, "/proc/self/fd/2", "dev/stderr") < 0)
    return -1;
  return 0;
}

/* True when some hierarchy is mounted at sys/fs/cgroup/<name>[0..len). */
static bool cgroup_mounted(const fs_config *c, const char *name, size_t len) {
  for (size_t i = 0; i < c->n_cgroups; i++)
    if (strlen(c->cgroups[i].name) == len && strncmp(c->cgroups[i].name, name, len) == 0)
      return true;
  return false;
}

/* A hierarchy of several controllers ("cpu,cpuacct", "net_cls,net_prio")
 * gets a link per controller to it ("cpu" -> "cpu,cpuacct"), as systemd and
 * the other runtimes make them: programs read /sys/fs/cgroup/cpu/cpu.shares
 * and /sys/fs/cgroup/cpuacct/cpuacct.usage.  The host's own links are not
 * mounts, so they never come from the host; a host without systemd may
 * have none, and the container still gets them. */
static int plan_cgroup_links(const fs_config *c, fs_plan *p, const char *name) {
  if (strchr(name, ',') == NULL || strchr(name, '=') != NULL)
    return 0;
  for (const char *s = name; *s != '\0';) {
    size_t len = strcspn(s, ",");
    if (len > 0 && !cgroup_mounted(c, s, len)) {
      char *dst;
      if (asprintf(&dst, "sys/fs/cgroup/%.*s", (int)len, s) < 0 || fs_plan_own(p, dst) == NULL ||
          add_link(p, name, dst) < 0)
        return -1;
      p->ops[p->n_ops - 1].phase = 1;
    }
    s += len;
    if (*s == ',')
      s++;
  }
  return 0;
}

/* The container's cgroups at /sys/fs/cgroup, mounted after it has entered
 * its cgroup namespace, so each mount's root is the container's own cgroup. */
static int plan_cgroups(const fs_config *c, fs_plan *p) {
  unsigned long ro = c->privileged ? 0 : MS_RDONLY;
  if (!c->cgroup_ns)
    return 0;
  fs_op *op;
  if (c->cgroup2) {
    op = fs_plan_add_mount(p, "cgroup2", "sys/fs/cgroup", "cgroup2", NOSUID_NODEV_NOEXEC | ro, NULL);
    if (op == NULL)
      return -1;
    op->phase = 1;
    return 0;
  }
  if (c->n_cgroups == 0)
    return 0;
  op = fs_plan_add_mount(p, "tmpfs", "sys/fs/cgroup", "tmpfs", NOSUID_NODEV_NOEXEC, "mode=755,size=64k");
  if (op == NULL)
    return -1;
  op->phase = 1;
  for (size_t i = 0; i < c->n_cgroups; i++) {
    char *dst;
    if (asprintf(&dst, "sys/fs/cgroup/%s", c->cgroups[i].name) < 0 || fs_plan_own(p, dst) == NULL)
      return -1;
    if (fs_plan_add_dir(p, dst, 0755) < 0)
      return -1;
    p->ops[p->n_ops - 1].phase = 1;
    op = fs_plan_add_mount(p, "cgroup", dst, "cgroup", NOSUID_NODEV_NOEXEC | ro, c->cgroups[i].options);
    if (op == NULL)
      return -1;
    op->phase = 1;
    if (plan_cgroup_links(c, p, c->cgroups[i].name) < 0)
      return -1;
  }
  op = fs_plan_add(p, OP_REMOUNT, "sys/fs/cgroup");
  if (op == NULL)
    return -1;
  op->flags = NOSUID_NODEV_NOEXEC | ro;
  op->data = "mode=755,size=64k";
  op->phase = 1;
  return 0;
}

static int plan_standard(const fs_config *c, fs_plan *p) {
  fs_op *proc = fs_plan_add_mount(p, "proc", "proc", "proc", NOSUID_NODEV_NOEXEC, NULL);
  if (proc == NULL)
    return -1;
  proc->point = POINT_DIR; /* an image may lack /proc, /dev or /sys */
  if (plan_dev(c, p) < 0)
    return -1;
  fs_op *op = fs_plan_add(p, OP_SYSFS, "sys");
  if (op == NULL)
    return -1;
  op->flags = NOSUID_NODEV_NOEXEC | (c->privileged ? 0 : MS_RDONLY);
  if (c->privileged || c->unmasked_proc)
    return 0;
  for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0]; i++)
    if (fs_plan_add(p, OP_MASK, masked_paths[i]) == NULL)
      return -1;
  for (size_t i = 0; i < sizeof readonly_paths / sizeof readonly_paths[0]; i++)
    if (fs_plan_add(p, OP_RO_PATH, readonly_paths[i]) == NULL)
      return -1;
  return 0;
}

int fs_populate_container_root(const fs_config *c, fs_plan *p, pv_err *err) {
  memset(p, 0, sizeof *p);
  p->use_chroot = c->use_chroot;
  p->readonly_rootfs = c->readonly_rootfs;
  if (strpbrk(c->rootfs, ",:") != NULL || strpbrk(c->dir, ",:") != NULL)
    return pv_err_set(err, EINVAL, "rootfs %s / state dir %s: ',' and ':' are not allowed in overlay paths",
                      c->rootfs, c->dir);
  /* The overlay is mounted on <dir> itself, over its own upper/ and work/
   * (the layer paths are resolved before the mount covers them): one
   * directory fewer to create and remove on the host file system. */
  if ((p->dir = strdup(c->dir)) == NULL || (p->merged = strdup(c->dir)) == NULL ||
      asprintf(&p->overlay_data, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work,volatile", c->rootfs, c->dir,
               c->dir) < 0) {
    p->merged = p->overlay_data = NULL;
    fs_plan_free(p);
    return pv_err_sys(err, "plan the rootfs of %s", c->dir);
  }
  if (fs_idmap_plan(c, p) < 0 || plan_standard(c, p) < 0 || plan_cgroups(c, p) < 0) {
    pv_err_sys(err, "plan the mounts of %s", c->dir);
    fs_plan_free(p);
    return -1;
  }
  for (size_t i = 0; i < c->n_mounts; i++) {
    if (fs_plan_volume(c, p, &c->mounts[i], err) < 0) {
      fs_plan_free(p);
      return -1;
    }
  }
  return 0;
}

void fs_plan_free(fs_plan *p) {
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n_owned; i++)
    free(p->owned[i]);
  free(p->owned);
  free(p->ops);
  free(p->dir);
  free(p->merged);
  free(p->overlay_data);
  memset(p, 0, sizeof *p);
}

int fs_create_minimal_root(const fs_config *c, pv_err *err) {
  char path[PATH_MAX];
  if (mkdir(c->dir, 0700) < 0)
    return pv_err_sys(err, "create container directory %s", c->dir);
  static const char *const sub[] = {"upper", "work"};
  for (size_t i = 0; i < 2; i++) {
    if (pv_path(path, sizeof path, "%s/%s", c->dir, sub[i]) < 0 || mkdir(path, 0755) < 0) {
      pv_err_sys(err, "create %s/%s", c->dir, sub[i]);
      pv_rm_rf(c->dir, NULL);
      return -1;
    }
  }
  /* The root of the container's "/" (the overlay takes a directory's
   * owner from its upper layer). */
  uid_t uid = 0;
  gid_t gid = 0;
  if (fs_idmap_upper_owner(c, &uid, &gid) &&
      (pv_path(path, sizeof path, "%s/upper", c->dir) < 0 || chown(path, uid, gid) < 0)) {
    pv_err_sys(err, "chown %s/upper to the container's root (%u:%u)", c->dir, (unsigned)uid, (unsigned)gid);
    pv_rm_rf(c->dir, NULL);
    return -1;
  }
  return 0;
}

/* What the kernel and create leave in <dir> after a container that wrote
 * nothing, deepest first: a volatile overlay's work dir holds
 * work/incompat/volatile/dirty.  Removing these by name takes one syscall
 * each (the host file system's metadata updates are the real cost). */
static const char *const known_layout[] = {
    "work/work/incompat/volatile/dirty",
    "work/work/incompat/volatile",
    "work/work/incompat",
    "work/work",
    "work",
    "upper",
};

int fs_reuse_container_root(const char *dir, pv_err *err) {
  char path[PATH_MAX];
  /* The first two entries of known_layout: the marker and the file in it. */
  for (size_t i = 0; i < 2; i++) {
    if (pv_path(path, sizeof path, "%s/%s", dir, known_layout[i]) < 0)
      return pv_err_sys(err, "container directory %s", dir);
    if ((i == 0 ? unlink(path) : rmdir(path)) < 0 && errno != ENOENT)
      return pv_err_sys(err, "remove the overlay's volatile marker %s", path);
  }
  return 0;
}

int fs_cleanup_container_root(const char *dir, pv_err *err) {
  char path[PATH_MAX];
  for (size_t i = 0; i < sizeof known_layout / sizeof known_layout[0]; i++) {
    if (pv_path(path, sizeof path, "%s/%s", dir, known_layout[i]) < 0)
      return pv_rm_rf(dir, err);
    int r = i == 0 ? unlink(path) : rmdir(path);
    if (r < 0 && errno != ENOENT)
      return pv_rm_rf(dir, err); /* written to, or not the usual layout */
  }
  if (rmdir(dir) < 0 && errno != ENOENT)
    return pv_rm_rf(dir, err);
  return 0;
}

/* ---- execution (child: syscalls only) ---- */

int fs_mount_container_filesystems(const fs_plan *p, int phase, int *step, int *index) {
  if (phase == 0) {
    /* Nothing done in this namespace may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
      *step = FS_STEP_PRIVATE;
      return -1;
    }
    if (fs_idmap_layers(p, step, index) < 0)
      return -1;
    if (mount("overlay", p->merged, "overlay", MS_NODEV, p->overlay_data) < 0) {
      *step = FS_STEP_OVERLAY;
      return -1;
    }
    if (chdir(p->merged) < 0) {
      *step = FS_STEP_CHDIR;
      return -1;
    }
  }
  /* The working directory is the new root, in both phases. */
  int root = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    *step = FS_STEP_CHDIR;
    return -1;
  }
  for (size_t i = 0; i < p->n_ops; i++) {
    if (p->ops[i].phase != phase)
      continue;
    if (fs_run_op(root, &p->ops[i], step) < 0) {
      *index = (int)i;
      int saved = errno;
      close(root);
      errno = saved;
      return -1;
    }
  }
  close(root);
  return 0;
}

static int readonly_root(const fs_plan *p, int *step) {
  if (p->readonly_rootfs && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV, NULL) < 0) {
    *step = FS_STEP_READONLY;
    return -1;
  }
  return 0;
}

int fs_setup_pivot_root(const fs_plan *p, int *step) {
  if (p->use_chroot)
    return fs_setup_chroot(p, step);
  /* With new_root == put_old, the old root ends up stacked on top of the new
   * one at "/"; detaching "." then removes it and reveals the new root. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) {
    *step = FS_STEP_PIVOT;
    return -1;
  }
  if (umount2(".", MNT_DETACH) < 0) {
    *step = FS_STEP_UMOUNT_OLD;
    return -1;
  }
  if (chdir("/") < 0) {
    *step = FS_STEP_CHDIR;
    return -1;
  }
  return readonly_root(p, step);
}

int fs_setup_chroot(const fs_plan *p, int *step) {
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) {
    *step = FS_STEP_MOVE;
    return -1;
  }
  if (chroot(".") < 0) {
    *step = FS_STEP_CHROOT;
    return -1;
  }
  if (chdir("/") < 0) {
    *step = FS_STEP_CHDIR;
    return -1;
  }
  return readonly_root(p, step);
}

static const char *op_verb(const fs_op *op) {
  switch (op->kind) {
  case OP_MOUNT: return op->flags & MS_BIND ? "bind mount" : "mount";
  case OP_MKDIR: return "mkdir";
  case OP_MKNOD: return "mknod";
  case OP_SYMLINK: return "symlink";
  case OP_MASK: return "mask";
  case OP_RO_PATH: return "make read-only";
  case OP_SYSFS: return "mount sysfs on";
  case OP_REMOUNT: return "remount";
  default: return "?";
  }
}

/* "volume data (/data/sub)", or "volume /data/sub" when it has no name. */
static void volume_label(const fs_op *op, char *buf, size_t len) {
  if (op->volume_name != NULL)
    snprintf(buf, len, "volume %s (%s)", op->volume_name, op->volume);
  else
    snprintf(buf, len, "volume %s", op->volume);
}

static void describe_op(const fs_op *op, char *buf, size_t len) {
  char vol[PATH_MAX + 300];
  if (op->volume != NULL) {
    volume_label(op, vol, sizeof vol);
    if (op->flags & MS_BIND)
      snprintf(buf, len, "%s: bind mount %s on %s (resolved inside the container's root)", vol, op->src,
               op->volume);
    else
      snprintf(buf, len, "%s: mount %s on %s (resolved inside the container's root)", vol, op->type,
               op->volume);
  } else if (op->kind == OP_MOUNT && !(op->flags & MS_BIND)) {
    snprintf(buf, len, "mount %s on /%s", op->type, op->dst);
  } else if (op->kind == OP_MOUNT) {
    snprintf(buf, len, "bind mount %s on /%s", op->src, op->dst);
  } else {
    snprintf(buf, len, "%s /%s", op_verb(op), op->dst);
  }
}

static void describe_target(const fs_op *op, bool refused, char *buf, size_t len) {
  char vol[PATH_MAX + 300];
  if (op->volume == NULL) {
    snprintf(buf, len, "%s /%s inside the container's root (no symbolic link is followed there)",
             op->point != POINT_NONE ? "find or create" : "find", op->dst);
    return;
  }
  volume_label(op, vol, sizeof vol);
  if (refused)
    snprintf(buf, len,
             "%s: the mount point %s resolves, through a symbolic link, to the container's root or into its "
             "/proc or /sys, where no volume may be mounted",
             vol, op->volume);
  else
    snprintf(buf, len, "%s: find or create the mount point %s inside the container's root", vol, op->volume);
}

bool fs_step_describe(const fs_plan *p, int step, int index, char *buf, size_t len) {
  const fs_op *op = index >= 0 && (size_t)index < p->n_ops ? &p->ops[index] : NULL;
  switch (step) {
  case FS_STEP_PRIVATE: snprintf(buf, len, "make / private (rprivate)"); return true;
  case FS_STEP_OVERLAY:
    snprintf(buf, len, "mount overlay on %s (%s)", p->merged, p->overlay_data);
    return true;
  case FS_STEP_CHDIR: snprintf(buf, len, "chdir into %s", p->merged); return true;
  case FS_STEP_PIVOT: snprintf(buf, len, "pivot_root into %s", p->merged); return true;
  case FS_STEP_UMOUNT_OLD: snprintf(buf, len, "detach the old root after pivot_root"); return true;
  case FS_STEP_MOVE: snprintf(buf, len, "move %s onto /", p->merged); return true;
  case FS_STEP_CHROOT: snprintf(buf, len, "chroot into %s", p->merged); return true;
  case FS_STEP_READONLY: snprintf(buf, len, "remount / read-only"); return true;
  case FS_STEP_IDMAP: fs_idmap_describe(p, index, buf, len); return true;
  case FS_STEP_OP:
  case FS_STEP_TARGET:
  case FS_STEP_TARGET_REFUSED:
    if (op == NULL)
      snprintf(buf, len, "mount operation %d", index);
    else if (step == FS_STEP_OP)
      describe_op(op, buf, len);
    else
      describe_target(op, step == FS_STEP_TARGET_REFUSED, buf, len);
    return true;
  default: return false;
  }
}
