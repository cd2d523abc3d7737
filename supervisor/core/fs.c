/*
 * fs.c - the container rootfs: the plan (parent) and its execution (child).
 */
#include "supervisor/core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "supervisor/core/util.h"

enum op_kind {
  OP_MOUNT,      /* mount(src, dst, type, flags, data), then a bind remount with rflags if ro */
  OP_MKDIR,      /* mkdir(dst, mode); EEXIST is fine */
  OP_MKNOD,      /* mknod(dst, mode, dev); EEXIST is fine for S_IFREG mount points */
  OP_SYMLINK,    /* symlink(src, dst) */
  OP_MASK,       /* /dev/null over a file, empty read-only tmpfs over a directory */
  OP_RO_PATH,    /* bind dst onto itself read-only */
  OP_SYSFS,      /* sysfs, or the host's /sys bound when sysfs is refused */
  OP_REMOUNT,    /* mount(NULL, dst, NULL, MS_REMOUNT | flags, data) */
};

struct fs_op {
  int kind;
  int phase;
  const char *src, *dst, *type, *data; /* dst: relative to merged/ */
  unsigned long flags;
  unsigned long rflags;                 /* remount flags after a bind (ro) */
  bool ro;
  mode_t mode;
  dev_t dev;
};

#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static const char *const masked_paths[] = {
    "proc/acpi",       "proc/kcore",  "proc/keys",   "proc/latency_stats", "proc/timer_list",
    "proc/timer_stats", "proc/sched_debug", "proc/scsi", "sys/firmware", "sys/fs/selinux",
    "sys/dev/block",
};
static const char *const readonly_paths[] = {
    "proc/asound", "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

void fs_config_init(fs_config *c) { memset(c, 0, sizeof *c); }

/* ---- plan building (parent) ---- */

static const char *own(fs_plan *p, char *s) {
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

static fs_op *add(fs_plan *p, int kind, const char *dst) {
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

static fs_op *add_mount(fs_plan *p, const char *src, const char *dst, const char *type, unsigned long flags,
                        const char *data) {
  fs_op *op = add(p, OP_MOUNT, dst);
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
  fs_op *op = add(p, OP_MKNOD, dst);
  if (op == NULL)
    return -1;
  op->mode = S_IFREG | 0666;
  return add_mount(p, host, dst, NULL, MS_BIND, NULL) == NULL ? -1 : 0;
}

static int add_link(fs_plan *p, const char *target, const char *dst) {
  fs_op *op = add(p, OP_SYMLINK, dst);
  if (op == NULL)
    return -1;
  op->src = target;
  return 0;
}

static int add_dir(fs_plan *p, const char *dst, mode_t mode) {
  fs_op *op = add(p, OP_MKDIR, dst);
  if (op == NULL)
    return -1;
  op->mode = mode;
  return 0;
}

static int plan_dev(fs_plan *p) {
  if (add_mount(p, "tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=755,size=65536k") ==
          NULL ||
      add_dev(p, "dev/null", "/dev/null") < 0 || add_dev(p, "dev/zero", "/dev/zero") < 0 ||
      add_dev(p, "dev/full", "/dev/full") < 0 || add_dev(p, "dev/random", "/dev/random") < 0 ||
      add_dev(p, "dev/urandom", "/dev/urandom") < 0 || add_dev(p, "dev/tty", "/dev/tty") < 0 || add_dir(p, "dev/pts", 0755) < 0 || add_dir(p, "dev/shm", 01777) < 0 ||
      add_dir(p, "dev/mqueue", 0755) < 0)
    return -1;
  if (add_mount(p, "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620,gid=5") == NULL ||
      add_mount(p, "shm", "dev/shm", "tmpfs", NOSUID_NODEV_NOEXEC, "mode=1777,size=65536k") == NULL ||
      add_mount(p, "mqueue", "dev/mqueue", "mqueue", NOSUID_NODEV_NOEXEC, NULL) == NULL)
    return -1;
  if (add_link(p, "pts/ptmx", "dev/ptmx") < 0 || add_link(p, "/proc/self/fd", "dev/fd") < 0 ||
      add_link(p, "/proc/self/fd/0", "dev/stdin") < 0 || add_link(p, "/proc/self/fd/1", "dev/stdout") < 0 ||
      add_link(p, "/proc/self/fd/2", "dev/stderr") < 0)
    return -1;
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
    op = add_mount(p, "cgroup2", "sys/fs/cgroup", "cgroup2", NOSUID_NODEV_NOEXEC | ro, NULL);
    if (op == NULL)
      return -1;
    op->phase = 1;
    return 0;
  }
  if (c->n_cgroups == 0)
    return 0;
  op = add_mount(p, "tmpfs", "sys/fs/cgroup", "tmpfs", NOSUID_NODEV_NOEXEC, "mode=755,size=64k");
  if (op == NULL)
    return -1;
  op->phase = 1;
  for (size_t i = 0; i < c->n_cgroups; i++) {
    char *dst;
    if (asprintf(&dst, "sys/fs/cgroup/%s", c->cgroups[i].name) < 0 || own(p, dst) == NULL)
      return -1;
    if (add_dir(p, dst, 0755) < 0)
      return -1;
    p->ops[p->n_ops - 1].phase = 1;
    op = add_mount(p, "cgroup", dst, "cgroup", NOSUID_NODEV_NOEXEC | ro, c->cgroups[i].options);
    if (op == NULL)
      return -1;
    op->phase = 1;
  }
  op = add(p, OP_REMOUNT, "sys/fs/cgroup");
  if (op == NULL)
    return -1;
  op->flags = NOSUID_NODEV_NOEXEC | ro;
  op->data = "mode=755,size=64k";
  op->phase = 1;
  return 0;
}

/* Copies the mode and owner of the image's directory lower/rel to the new
 * upper/rel, so the merged directory looks like the image's. */
static int mkdir_like(const char *lower, const char *upper, const char *rel, pv_err *err) {
  char l[PATH_MAX], u[PATH_MAX];
  struct stat st;
  if (pv_path(l, sizeof l, "%s/%s", lower, rel) < 0 || pv_path(u, sizeof u, "%s/%s", upper, rel) < 0)
    return pv_err_sys(err, "volume mount point %s", rel);
  bool in_lower = lstat(l, &st) == 0 && S_ISDIR(st.st_mode);
  if (mkdir(u, in_lower ? (st.st_mode & 07777) : 0755) < 0) {
    if (errno == EEXIST)
      return 0;
    return pv_err_sys(err, "create mount point %s", u);
  }
  if (in_lower && chown(u, st.st_uid, st.st_gid) < 0)
    return pv_err_sys(err, "chown %s", u);
  return 0;
}

/* Splits an absolute destination into clean components joined by '/'
 * (no leading slash); refuses "." and ".." components. */
static int clean_dest(const char *dest, char *out, size_t len, pv_err *err) {
  if (dest == NULL || dest[0] != '/')
    return pv_err_set(err, EINVAL, "volume destination '%s' is not an absolute path", dest ? dest : "");
  size_t o = 0;
  for (const char *s = dest; *s != '\0';) {
    while (*s == '/')
      s++;
    const char *e = strchrnul(s, '/');
    size_t n = (size_t)(e - s);
    if (n == 0)
      break;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
      return pv_err_set(err, EINVAL, "volume destination '%s' contains '.' or '..'", dest);
    if (o + n + 2 > len)
      return pv_err_set(err, ENAMETOOLONG, "volume destination '%s' is too long", dest);
    if (o > 0)
      out[o++] = '/';
    memcpy(out + o, s, n);
    o += n;
    s = e;
  }
  out[o] = '\0';
  if (o == 0)
    return pv_err_set(err, EINVAL, "volume destination '%s' is the container's root", dest);
  return 0;
}

/* Resolves rel inside the image (symlinks followed as if the image were "/")
 * to a symlink-free path, creating what is missing in the upper layer. */
static int resolve_in_image(const fs_config *c, const char *rel, bool want_dir, char *out, size_t len,
                            pv_err *err) {
  char lower[PATH_MAX], upper[PATH_MAX], prefix[PATH_MAX], fdpath[64], real[PATH_MAX];
  if (realpath(c->rootfs, lower) == NULL)
    return pv_err_sys(err, "image rootfs %s", c->rootfs);
  if (pv_path(upper, sizeof upper, "%s/upper", c->dir) < 0 || pv_path(prefix, sizeof prefix, "%s", rel) < 0)
    return pv_err_sys(err, "volume destination /%s", rel);
  int root = open(lower, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return pv_err_sys(err, "open image rootfs %s", lower);
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  size_t plen = strlen(prefix);
  int fd;
  /* The longest prefix of rel that exists in the image. */
  for (;;) {
    fd = plen == 0 ? dup(root) : (int)syscall(SYS_openat2, root, prefix, &how, sizeof how);
    if (fd >= 0 || errno != ENOENT || plen == 0)
      break;
    char *slash = strrchr(prefix, '/');
    plen = slash != NULL ? (size_t)(slash - prefix) : 0;
    prefix[plen] = '\0';
  }
  close(root);
  if (fd < 0)
    return pv_err_sys(err, "resolve volume destination /%s in the image", rel);
  struct stat st;
  ssize_t n = -1;
  if (snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd) > 0)
    n = readlink(fdpath, real, sizeof real - 1);
  int ok = n >= 0 && fstat(fd, &st) == 0;
  close(fd);
  if (!ok)
    return pv_err_sys(err, "resolve volume destination /%s in the image", rel);
  real[n] = '\0';
  size_t ll = strlen(lower);
  if (strncmp(real, lower, ll) != 0 || (real[ll] != '\0' && real[ll] != '/'))
    return pv_err_set(err, EXDEV, "volume destination /%s escapes the container's root", rel);
  const char *rest = rel + plen + (rel[plen] == '/');
  if (*rest != '\0' && !S_ISDIR(st.st_mode))
    return pv_err_set(err, ENOTDIR, "volume destination /%s: /%s is not a directory", rel, real + ll + 1);
  if (pv_path(out, len, "%s%s%s", real[ll] ? real + ll + 1 : "", real[ll] && *rest ? "/" : "", rest) < 0)
    return pv_err_sys(err, "volume destination /%s", rel);
  if (*rest == '\0')
    return 0; /* the mount point exists in the image */
  /* Create the existing part in upper (copying the image's directories),
   * then the missing part. */
  for (char *s = out;;) {
    char *slash = strchr(s, '/');
    if (slash != NULL)
      *slash = '\0';
    int r;
    if (slash == NULL && !want_dir) {
      char path[PATH_MAX];
      r = pv_path(path, sizeof path, "%s/%s", upper, out);
      int f = r < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      r = f < 0 ? pv_err_sys(err, "create mount point %s/%s", upper, out) : close(f);
    } else {
      r = mkdir_like(lower, upper, out, err);
    }
    if (r < 0)
      return -1;
    if (slash == NULL)
      break;
    *slash = '/';
    s = slash + 1;
  }
  return 0;
}

static int plan_volume(const fs_config *c, fs_plan *p, const container_mount *m, pv_err *err) {
  char rel[PATH_MAX], dst[PATH_MAX];
  if (clean_dest(m->destination, rel, sizeof rel, err) < 0)
    return -1;
  bool want_dir = true;
  struct stat st;
  if (!m->tmpfs) {
    if (m->source == NULL || stat(m->source, &st) < 0)
      return pv_err_sys(err, "volume source %s", m->source ? m->source : "(none)");
    want_dir = S_ISDIR(st.st_mode);
  }
  if (strncmp(rel, "proc", 4) == 0 && (rel[4] == '\0' || rel[4] == '/'))
    return pv_err_set(err, EINVAL, "volume destination %s: mounts inside /proc are not supported", m->destination);
  if (strncmp(rel, "sys", 3) == 0 && (rel[3] == '\0' || rel[3] == '/'))
    return pv_err_set(err, EINVAL, "volume destination %s: mounts inside /sys are not supported", m->destination);
  if (strncmp(rel, "dev/", 4) == 0) {
    /* Inside the /dev tmpfs, made by the child: only plain names, and not
     * through the links /dev holds. */
    static const char *const links[] = {"fd", "stdin", "stdout", "stderr", "ptmx"};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
      size_t l = strlen(links[i]);
      if (strncmp(rel + 4, links[i], l) == 0 && (rel[4 + l] == '\0' || rel[4 + l] == '/'))
        return pv_err_set(err, EINVAL, "volume destination %s goes through a link in /dev", m->destination);
    }
    for (char *s = rel + 4; (s = strchr(s, '/')) != NULL; s++) {
      *s = '\0';
      const char *d = own(p, strdup(rel));
      *s = '/';
      if (d == NULL || add_dir(p, d, 0755) < 0)
        return pv_err_sys(err, "volume %s", m->destination);
    }
    if (pv_path(dst, sizeof dst, "%s", rel) < 0)
      return pv_err_sys(err, "volume %s", m->destination);
    const char *d = own(p, strdup(dst));
    fs_op *op = d ? add(p, want_dir ? OP_MKDIR : OP_MKNOD, d) : NULL;
    if (op == NULL)
      return pv_err_sys(err, "volume %s", m->destination);
    op->mode = want_dir ? 0755 : (S_IFREG | 0644);
  } else if (resolve_in_image(c, rel, want_dir, dst, sizeof dst, err) < 0) {
    return -1;
  }
  const char *d = own(p, strdup(dst));
  fs_op *op;
  if (m->tmpfs) {
    char *data = NULL;
    if (m->tmpfs_size > 0 && asprintf(&data, "size=%llu", (unsigned long long)m->tmpfs_size) < 0)
      data = NULL;
    op = d ? add_mount(p, "tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0),
                       m->tmpfs_size > 0 ? own(p, data) : NULL)
           : NULL;
  } else {
    const char *src = own(p, strdup(m->source));
    op = d && src ? add_mount(p, src, d, NULL, MS_BIND | MS_REC, NULL) : NULL;
    if (op != NULL) {
      op->ro = true; /* always remounted: nodev, and read-only if asked */
      op->rflags = MS_NODEV | (m->readonly ? MS_RDONLY : 0);
    }
  }
  if (op == NULL)
    return pv_err_sys(err, "volume %s", m->destination);
  return 0;
}

static int plan_standard(const fs_config *c, fs_plan *p) {
  if (add_mount(p, "proc", "proc", "proc", NOSUID_NODEV_NOEXEC, NULL) == NULL || plan_dev(p) < 0)
    return -1;
  fs_op *op = add(p, OP_SYSFS, "sys");
  if (op == NULL)
    return -1;
  op->flags = NOSUID_NODEV_NOEXEC | (c->privileged ? 0 : MS_RDONLY);
  if (c->privileged)
    return 0;
  for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0]; i++)
    if (add(p, OP_MASK, masked_paths[i]) == NULL)
      return -1;
  for (size_t i = 0; i < sizeof readonly_paths / sizeof readonly_paths[0]; i++)
    if (add(p, OP_RO_PATH, readonly_paths[i]) == NULL)
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
  if ((p->dir = strdup(c->dir)) == NULL || asprintf(&p->merged, "%s/merged", c->dir) < 0 ||
      asprintf(&p->overlay_data, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work,volatile", c->rootfs, c->dir,
               c->dir) < 0) {
    p->merged = p->overlay_data = NULL;
    fs_plan_free(p);
    return pv_err_sys(err, "plan the rootfs of %s", c->dir);
  }
  if (plan_standard(c, p) < 0 || plan_cgroups(c, p) < 0) {
    pv_err_sys(err, "plan the mounts of %s", c->dir);
    fs_plan_free(p);
    return -1;
  }
  for (size_t i = 0; i < c->n_mounts; i++) {
    if (plan_volume(c, p, &c->mounts[i], err) < 0) {
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
  static const char *const sub[] = {"upper", "work", "merged"};
  for (size_t i = 0; i < 3; i++) {
    if (pv_path(path, sizeof path, "%s/%s", c->dir, sub[i]) < 0 || mkdir(path, 0755) < 0) {
      pv_err_sys(err, "create %s/%s", c->dir, sub[i]);
      pv_rm_rf(c->dir, NULL);
      return -1;
    }
  }
  return 0;
}

int fs_cleanup_container_root(const char *dir, pv_err *err) { return pv_rm_rf(dir, err); }

/* ---- execution (child: syscalls only) ---- */

static int run_op(const fs_op *op) {
  struct stat st;
  switch (op->kind) {
  case OP_MOUNT:
    if (mount(op->src, op->dst, op->type, op->flags, op->data) < 0)
      return -1;
    if (op->ro && mount(NULL, op->dst, NULL, MS_REMOUNT | MS_BIND | op->rflags, NULL) < 0)
      return -1;
    return 0;
  case OP_MKDIR:
    return mkdir(op->dst, op->mode) < 0 && errno != EEXIST ? -1 : 0;
  case OP_MKNOD:
    return mknod(op->dst, op->mode, op->dev) < 0 && !(errno == EEXIST && S_ISREG(op->mode)) ? -1 : 0;
  case OP_SYMLINK:
    return symlink(op->src, op->dst);
  case OP_MASK:
    if (stat(op->dst, &st) < 0)
      return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(st.st_mode))
      return mount("tmpfs", op->dst, "tmpfs", MS_RDONLY | NOSUID_NODEV_NOEXEC, "size=0");
    return mount("dev/null", op->dst, NULL, MS_BIND, NULL);
  case OP_RO_PATH:
    if (mount(op->dst, op->dst, NULL, MS_BIND | MS_REC, NULL) < 0)
      return errno == ENOENT ? 0 : -1;
    return mount(NULL, op->dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | NOSUID_NODEV_NOEXEC, NULL);
  case OP_SYSFS:
    if (mount("sysfs", op->dst, "sysfs", op->flags, NULL) == 0)
      return 0;
    if (errno != EPERM && errno != EBUSY)
      return -1;
    if (mount("/sys", op->dst, NULL, MS_BIND | MS_REC, NULL) < 0)
      return -1;
    return mount(NULL, op->dst, NULL, MS_REMOUNT | MS_BIND | op->flags, NULL);
  case OP_REMOUNT:
    return mount(NULL, op->dst, NULL, MS_REMOUNT | op->flags, op->data);
  default:
    errno = EINVAL;
    return -1;
  }
}

int fs_mount_container_filesystems(const fs_plan *p, int phase, int *step, int *index) {
  if (phase == 0) {
    /* Nothing done in this namespace may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
      *step = FS_STEP_PRIVATE;
      return -1;
    }
    if (mount("overlay", p->merged, "overlay", MS_NODEV, p->overlay_data) < 0) {
      *step = FS_STEP_OVERLAY;
      return -1;
    }
    if (chdir(p->merged) < 0) {
      *step = FS_STEP_CHDIR;
      return -1;
    }
  }
  for (size_t i = 0; i < p->n_ops; i++) {
    if (p->ops[i].phase != phase)
      continue;
    if (run_op(&p->ops[i]) < 0) {
      *step = FS_STEP_OP;
      *index = (int)i;
      return -1;
    }
  }
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

bool fs_step_describe(const fs_plan *p, int step, int index, char *buf, size_t len) {
  switch (step) {
  case FS_STEP_PRIVATE: snprintf(buf, len, "make / private (rprivate)"); return true;
  case FS_STEP_OVERLAY: snprintf(buf, len, "mount overlay on %s (%s)", p->merged, p->overlay_data); return true;
  case FS_STEP_CHDIR: snprintf(buf, len, "chdir into %s", p->merged); return true;
  case FS_STEP_PIVOT: snprintf(buf, len, "pivot_root into %s", p->merged); return true;
  case FS_STEP_UMOUNT_OLD: snprintf(buf, len, "detach the old root after pivot_root"); return true;
  case FS_STEP_MOVE: snprintf(buf, len, "move %s onto /", p->merged); return true;
  case FS_STEP_CHROOT: snprintf(buf, len, "chroot into %s", p->merged); return true;
  case FS_STEP_READONLY: snprintf(buf, len, "remount / read-only"); return true;
  case FS_STEP_OP:
    if (index >= 0 && (size_t)index < p->n_ops) {
      const fs_op *op = &p->ops[index];
      if (op->kind == OP_MOUNT && !(op->flags & MS_BIND))
        snprintf(buf, len, "mount %s on /%s", op->type, op->dst);
      else if (op->kind == OP_MOUNT)
        snprintf(buf, len, "bind mount %s on /%s", op->src, op->dst);
      else
        snprintf(buf, len, "%s /%s", op_verb(op), op->dst);
    } else {
      snprintf(buf, len, "mount operation %d", index);
    }
    return true;
  default:
    return false;
  }
}

/* ---- host probes ---- */

/* Splits a mountinfo line in place; returns the number of fields before
 * the " - " separator (f[0..n)) and sets *tail to the 3 after it. */
static int mountinfo_fields(char *line, char **f, int max, char **tail) {
  int n = 0;
  char *save = NULL;
  for (char *t = strtok_r(line, " \n", &save); t != NULL; t = strtok_r(NULL, " \n", &save)) {
    if (strcmp(t, "-") == 0) {
      for (int i = 0; i < 3; i++)
        tail[i] = strtok_r(NULL, " \n", &save);
      return tail[2] != NULL ? n : -1;
    }
    if (n < max)
      f[n++] = t;
  }
  return -1;
}

bool fs_host_root_is_initramfs(void) {
  FILE *fp = fopen("/proc/self/mountinfo", "re");
  if (fp == NULL)
    return false;
  char *line = NULL, *f[8], *tail[3];
  size_t cap = 0;
  bool rootfs = false;
  while (getline(&line, &cap, fp) > 0) {
    if (mountinfo_fields(line, f, 8, tail) >= 5 && strcmp(f[4], "/") == 0)
      rootfs = strcmp(tail[0], "rootfs") == 0; /* the last "/" mount is the visible one */
  }
  free(line);
  fclose(fp);
  return rootfs;
}

/* Keeps only the options that name a v1 hierarchy (controllers, name=). */
static char *hierarchy_options(const char *super) {
  static const char *const skip[] = {"rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode",
                                     "favordynmods", "nofavordynmods"};
  char *copy = strdup(super), *out = calloc(1, strlen(super) + 1), *save = NULL;
  if (copy == NULL || out == NULL) {
    free(copy);
    free(out);
    return NULL;
  }
  for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
    bool drop = strncmp(t, "release_agent=", 14) == 0;
    for (size_t i = 0; !drop && i < sizeof skip / sizeof skip[0]; i++)
      drop = strcmp(t, skip[i]) == 0;
    if (!drop) {
      if (out[0] != '\0')
        strcat(out, ",");
      strcat(out, t);
    }
  }
  free(copy);
  return out;
}

int fs_cgroup_mounts_detect(const char *cgroup_root, fs_cgroup_mount **out, size_t *n, pv_err *err) {
  *out = NULL;
  *n = 0;
  FILE *fp = fopen("/proc/self/mountinfo", "re");
  if (fp == NULL)
    return pv_err_sys(err, "open /proc/self/mountinfo");
  size_t rl = strlen(cgroup_root), cap = 0, lcap = 0;
  char *line = NULL, *f[8], *tail[3];
  int r = 0;
  while (r == 0 && getline(&line, &lcap, fp) > 0) {
    if (mountinfo_fields(line, f, 8, tail) < 5 || strcmp(tail[0], "cgroup") != 0)
      continue;
    const char *mp = f[4];
    if (strncmp(mp, cgroup_root, rl) != 0 || mp[rl] != '/' || strchr(mp + rl + 1, '/') != NULL)
      continue;
    if (*n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      fs_cgroup_mount *m = realloc(*out, nc * sizeof *m);
      if (m == NULL) {
        r = pv_err_sys(err, "detect cgroup mounts");
        break;
      }
      *out = m;
      cap = nc;
    }
    fs_cgroup_mount *m = &(*out)[*n];
    m->name = strdup(mp + rl + 1);
    m->options = hierarchy_options(tail[2]);
    if (m->name == NULL || m->options == NULL) {
      free(m->name);
      free(m->options);
      r = pv_err_sys(err, "detect cgroup mounts");
      break;
    }
    (*n)++;
  }
  free(line);
  fclose(fp);
  if (r < 0) {
    fs_cgroup_mounts_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return r;
}

void fs_cgroup_mounts_free(fs_cgroup_mount *m, size_t n) {
  for (size_t i = 0; m != NULL && i < n; i++) {
    free(m[i].name);
    free(m[i].options);
  }
  free(m);
}
