/*
 * fs_target.c - the child's half of the plan's operations and their
 * targets (see fs.h, "Mount targets"): each target is resolved inside the
 * container's new root with
 * openat2(RESOLVE_IN_ROOT), what is missing is made relative to the fd of
 * its resolved parent, and the mount goes onto the opened fd.  A bind is a
 * cloned tree (open_tree) whose flags are set with mount_setattr before
 * move_mount attaches it, so they reach every submount and no remount by
 * path is needed.
 *
 * Runs between clone and exec: system calls only, no allocation, no
 * stdio; path buffers live on the stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/core/fs_internal.h"

/* As many links as the kernel follows in one lookup (MAXSYMLINKS). */
#define TARGET_MAX_LINKS 40
/* openat2 fails with EAGAIN when a rename raced a RESOLVE_IN_ROOT walk. */
#define TARGET_MAX_RETRIES 64

static int resolve(int root, const char *path, bool follow) {
  struct open_how how = {
      .flags = O_PATH | O_CLOEXEC,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_NO_SYMLINKS),
  };
  if (path[0] == '\0')
    return fcntl(root, F_DUPFD_CLOEXEC, 3);
  int fd, tries = 0;
  do
    fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
  while (fd < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < TARGET_MAX_RETRIES);
  return fd;
}

static void close_keep_errno(int fd) {
  int saved = errno;
  close(fd);
  errno = saved;
}

static int create_file(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  return fd < 0 ? -1 : close(fd);
}

/* path[0..name) is a resolved directory (parentfd) and name..end a link
 * there whose target is missing: path becomes that target followed by the
 * rest of path (an absolute target counts from the root, as
 * RESOLVE_IN_ROOT reads it).  Returns 1, or -1. */
static int through_link(int parentfd, char *path, size_t cap, char *name, char *end, char saved) {
  char link[PATH_MAX], out[PATH_MAX];
  ssize_t n = readlinkat(parentfd, name, link, sizeof link - 1);
  *end = saved;
  if (n < 0) {
    if (errno == EINVAL) /* not a link: it vanished under us */
      errno = ENOENT;
    return -1;
  }
  link[n] = '\0';
  size_t head = link[0] == '/' ? 0 : (size_t)(name - path), rest = strlen(end);
  if (head + (size_t)n + rest + 1 > sizeof out || head + (size_t)n + rest + 1 > cap) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(out, path, head);
  memcpy(out + head, link, (size_t)n);
  memcpy(out + head + n, end, rest + 1);
  memcpy(path, out, head + (size_t)n + rest + 1);
  return 1;
}

/* Makes the missing components of path, one at a time, each relative to
 * the fd of its parent as resolved from the root.  0 when all were made
 * (resolve path again), 1 when path was rewritten through a dangling link
 * (follow only), -1 on error. */
static int make_missing(int root, char *path, size_t cap, int point, bool follow) {
  int parent = -1, r = 0;
  for (char *s = path;;) {
    while (*s == '/')
      s++;
    if (*s == '\0')
      break;
    char *e = strchrnul(s, '/');
    char c = *e;
    *e = '\0';
    bool last = c == '\0' || e[1 + strspn(e + 1, "/")] == '\0';
    int dir = parent >= 0 ? parent : root;
    int fd = resolve(root, path, follow);
    if (fd < 0 && errno == ENOENT) {
      int made = last && point == POINT_FILE ? create_file(dir, s) : mkdirat(dir, s, 0755);
      if (made < 0 && errno != EEXIST) {
        *e = c;
        r = -1;
        break;
      }
      fd = resolve(root, path, follow);
      if (fd < 0 && errno == ENOENT && made < 0 && follow) {
        r = through_link(dir, path, cap, s, e, c);
        break;
      }
    }
    *e = c;
    if (fd < 0) {
      r = -1;
      break;
    }
    if (parent >= 0)
      close(parent);
    parent = fd;
    s = e;
  }
  if (parent >= 0)
    close_keep_errno(parent);
  return r;
}

int fs_target_open(int root, const char *rel, int point, bool follow) {
  char path[PATH_MAX];
  size_t len = strlen(rel);
  if (len >= sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(path, rel, len + 1);
  for (int links = 0;; links++) {
    int fd = resolve(root, path, follow);
    if (fd >= 0 || errno != ENOENT || point == POINT_NONE)
      return fd;
    if (links == TARGET_MAX_LINKS) {
      errno = ELOOP;
      return -1;
    }
    if (make_missing(root, path, sizeof path, point, follow) < 0)
      return -1;
  }
}

int fs_target_parent(int root, const char *rel, const char **name) {
  char path[PATH_MAX];
  const char *slash = strrchr(rel, '/');
  size_t len = slash != NULL ? (size_t)(slash - rel) : 0;
  if (len >= sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(path, rel, len);
  path[len] = '\0';
  *name = slash != NULL ? slash + 1 : rel;
  return resolve(root, path, false);
}

int fs_target_refused(int root, int fd) {
  struct stat r, t;
  struct statfs f;
  if (fstat(root, &r) < 0 || fstat(fd, &t) < 0 || fstatfs(fd, &f) < 0)
    return -1;
  if (r.st_dev == t.st_dev && r.st_ino == t.st_ino) {
    errno = EBUSY;
    return 1;
  }
  switch (f.f_type) {
  case PROC_SUPER_MAGIC:
  case SYSFS_MAGIC:
  case CGROUP_SUPER_MAGIC:
  case CGROUP2_SUPER_MAGIC: errno = EXDEV; return 1;
  default: return 0;
  }
}

static int set_attr(int tree, unsigned flags, uint64_t attr) {
  struct mount_attr a = {.attr_set = attr};
  return mount_setattr(tree, "", AT_EMPTY_PATH | flags, &a, sizeof a);
}

int fs_bind_tree(int dirfd, const char *path, bool recursive, const fs_op *op, int target) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
                   (path[0] == '\0' ? AT_EMPTY_PATH : 0);
  int tree = open_tree(dirfd, path, flags);
  if (tree < 0)
    return -1;
  uint64_t top = op->attr_top;
  int r = 0;
  if (op->attr_all != 0) {
    r = set_attr(tree, AT_RECURSIVE, op->attr_all);
    /* recursiveReadOnly: IfPossible: the top mount alone is read-only. */
    if (r < 0 && op->rro_fallback && (op->attr_all & MOUNT_ATTR_RDONLY)) {
      r = set_attr(tree, AT_RECURSIVE, op->attr_all & ~(uint64_t)MOUNT_ATTR_RDONLY);
      top |= MOUNT_ATTR_RDONLY;
    }
  }
  if (r == 0 && top != 0)
    r = set_attr(tree, 0, top);
  if (r == 0)
    r = move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  close_keep_errno(tree);
  return r;
}

/* Every target is opened inside the new root: a failure to
 * find or make it is FS_STEP_TARGET, a volume whose target went where no
 * volume may go is FS_STEP_TARGET_REFUSED, the operation itself is
 * FS_STEP_OP. */
static int op_target(int root, const fs_op *op, int point, int *step) {
  int fd = fs_target_open(root, op->dst, point, op->volume != NULL);
  if (fd < 0) {
    *step = FS_STEP_TARGET;
    return -1;
  }
  int r = op->volume != NULL ? fs_target_refused(root, fd) : 0;
  if (r != 0) {
    *step = r > 0 ? FS_STEP_TARGET_REFUSED : FS_STEP_TARGET;
    close(fd);
    return -1;
  }
  *step = FS_STEP_OP;
  return fd;
}

static int run_mount(int root, const fs_op *op, int *step) {
  char path[32];
  int t = op_target(root, op, op->point, step);
  if (t < 0)
    return -1;
  int r = op->flags & MS_BIND ? fs_bind_tree(AT_FDCWD, op->src, op->flags & MS_REC, op, t)
                              : mount(op->src, fs_fd_path(path, t), op->type, op->flags, op->data);
  int saved = errno;
  close(t);
  errno = saved;
  return r;
}

/* Operations that make an entry: relative to the fd of its parent. */
static int run_make(int root, const fs_op *op, int *step) {
  const char *name;
  int dir = fs_target_parent(root, op->dst, &name);
  if (dir < 0) {
    *step = FS_STEP_TARGET;
    return -1;
  }
  int r;
  switch (op->kind) {
  case OP_MKDIR: r = mkdirat(dir, name, op->mode) < 0 && errno != EEXIST ? -1 : 0; break;
  case OP_MKNOD:
    r = mknodat(dir, name, op->mode, op->dev) < 0 && !(errno == EEXIST && S_ISREG(op->mode)) ? -1 : 0;
    break;
  default: r = symlinkat(op->src, dir, name); break;
  }
  int saved = errno;
  close(dir);
  errno = saved;
  return r;
}

/* Masks, read-only paths, sysfs and remounts: on an existing target. */
static int run_on_target(int root, const fs_op *op, int t) {
  char path[32];
  struct stat st;
  switch (op->kind) {
  case OP_MASK: {
    if (fstat(t, &st) < 0)
      return -1;
    if (S_ISDIR(st.st_mode))
      return mount("tmpfs", fs_fd_path(path, t), "tmpfs", MS_RDONLY | NOSUID_NODEV_NOEXEC, "size=0");
    int null = fs_target_open(root, "dev/null", POINT_NONE, false);
    if (null < 0)
      return -1;
    fs_op bind = {.kind = OP_MOUNT};
    int r = fs_bind_tree(null, "", false, &bind, t);
    int saved = errno;
    close(null);
    errno = saved;
    return r;
  }
  case OP_RO_PATH: {
    fs_op bind = {.kind = OP_MOUNT, .attr_top = fs_ms_to_attr(MS_RDONLY | NOSUID_NODEV_NOEXEC)};
    return fs_bind_tree(t, "", true, &bind, t);
  }
  case OP_SYSFS: {
    if (mount("sysfs", fs_fd_path(path, t), "sysfs", op->flags, NULL) == 0)
      return 0;
    if (errno != EPERM && errno != EBUSY)
      return -1;
    fs_op bind = {.kind = OP_MOUNT, .attr_all = fs_ms_to_attr(op->flags)};
    return fs_bind_tree(AT_FDCWD, "/sys", true, &bind, t);
  }
  case OP_REMOUNT: return mount(NULL, fs_fd_path(path, t), NULL, MS_REMOUNT | op->flags, op->data);
  default: errno = EINVAL; return -1;
  }
}

int fs_run_op(int root, const fs_op *op, int *step) {
  *step = FS_STEP_OP;
  switch (op->kind) {
  case OP_MOUNT: return run_mount(root, op, step);
  case OP_MKDIR:
  case OP_MKNOD:
  case OP_SYMLINK: return run_make(root, op, step);
  default: break;
  }
  /* A masked or read-only path the kernel does not have is no error. */
  int t = op_target(root, op, op->kind == OP_SYSFS ? POINT_DIR : POINT_NONE, step);
  if (t < 0)
    return errno == ENOENT && (op->kind == OP_MASK || op->kind == OP_RO_PATH) ? 0 : -1;
  int r = run_on_target(root, op, t);
  int saved = errno;
  close(t);
  errno = saved;
  return r;
}

const char *fs_fd_path(char *buf, int fd) {
  static const char prefix[] = "/proc/self/fd/";
  char digits[12];
  int n = 0;
  unsigned v = (unsigned)fd;
  do
    digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0 && n < (int)sizeof digits);
  memcpy(buf, prefix, sizeof prefix - 1);
  char *p = buf + sizeof prefix - 1;
  while (n > 0)
    *p++ = digits[--n];
  *p = '\0';
  return buf;
}

uint64_t fs_ms_to_attr(unsigned long ms) {
  return (ms & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) | (ms & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
         (ms & MS_NODEV ? MOUNT_ATTR_NODEV : 0) | (ms & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
}
