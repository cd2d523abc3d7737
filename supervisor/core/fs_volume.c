/*
 * fs_volume.c - planning volumes: a destination is cleaned, resolved inside
 * the image with openat2(RESOLVE_IN_ROOT) so that its missing directories
 * are made in the upper layer with the image's modes, and its operation
 * gets the bind's flags (see fs.h, "Volumes").  The child resolves the
 * destination again, inside the mounted root (fs_target.c), and that is
 * the one that counts.
 */
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
#include <unistd.h>

#include "supervisor/core/fs_internal.h"
#include "supervisor/core/util.h"

/* Copies the mode and owner of the image's directory lower/rel to the new
 * upper/rel, so the merged directory looks like the image's (owners in the
 * upper layer's terms: fs_idmap_upper_owner). */
static int mkdir_like(const fs_config *c, const char *lower, const char *upper, const char *rel, pv_err *err) {
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
  uid_t uid = in_lower ? st.st_uid : 0;
  gid_t gid = in_lower ? st.st_gid : 0;
  bool shift = fs_idmap_upper_owner(c, &uid, &gid);
  if ((in_lower || shift) && chown(u, uid, gid) < 0)
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
      r = mkdir_like(c, lower, upper, out, err);
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

/* The volume's mount: a tmpfs, or a bind of the source's whole tree.  A
 * bind gets nodev on every mount of the tree (see fs.h, "Volumes"), and
 * read-only on its top mount, or on all of it with recursiveReadOnly. */
static int plan_volume_mount(const fs_config *c, fs_plan *p, const container_mount *m, const char *rel,
                             bool want_dir, pv_err *err) {
  const char *d = fs_plan_own(p, strdup(rel)), *vol = fs_plan_own(p, strdup(m->destination));
  const char *name = m->name != NULL ? fs_plan_own(p, strdup(m->name)) : NULL;
  fs_op *op = NULL;
  if (d == NULL || vol == NULL || (m->name != NULL && name == NULL)) {
    /* out of memory: op stays NULL */
  } else if (m->tmpfs) {
    char *data = NULL;
    if (m->tmpfs_size > 0 && asprintf(&data, "size=%llu", (unsigned long long)m->tmpfs_size) < 0)
      data = NULL;
    const char *owned = m->tmpfs_size > 0 ? fs_plan_own(p, data) : NULL;
    if (m->tmpfs_size == 0 || owned != NULL)
      op = fs_plan_add_mount(p, "tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0),
                             owned);
  } else {
    const char *src = fs_plan_own(p, strdup(m->source));
    op = src != NULL ? fs_plan_add_mount(p, src, d, NULL, MS_BIND | MS_REC, NULL) : NULL;
    if (op != NULL) {
      bool rro = m->readonly && m->rro != CONTAINER_RRO_DISABLED;
      op->attr_all = (c->privileged ? 0 : MOUNT_ATTR_NODEV) | (rro ? MOUNT_ATTR_RDONLY : 0);
      op->attr_top = m->readonly ? MOUNT_ATTR_RDONLY : 0;
      op->rro_fallback = m->rro == CONTAINER_RRO_IF_POSSIBLE;
    }
  }
  if (op == NULL)
    return pv_err_sys(err, "volume %s", m->destination);
  op->point = want_dir ? POINT_DIR : POINT_FILE;
  op->volume = vol;
  op->volume_name = name;
  return 0;
}

int fs_plan_volume(const fs_config *c, fs_plan *p, const container_mount *m, pv_err *err) {
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
    return pv_err_set(err, EINVAL, "volume destination %s: mounts inside /proc are not supported",
                      m->destination);
  if (strncmp(rel, "sys", 3) == 0 && (rel[3] == '\0' || rel[3] == '/'))
    return pv_err_set(err, EINVAL, "volume destination %s: mounts inside /sys are not supported",
                      m->destination);
  if (strncmp(rel, "dev/", 4) == 0) {
    /* Inside the /dev tmpfs, where the child makes the mount point: not
     * through the links /dev holds. */
    static const char *const links[] = {"fd", "stdin", "stdout", "stderr", "ptmx"};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
      size_t l = strlen(links[i]);
      if (strncmp(rel + 4, links[i], l) == 0 && (rel[4 + l] == '\0' || rel[4 + l] == '/'))
        return pv_err_set(err, EINVAL, "volume destination %s goes through a link in /dev", m->destination);
    }
  } else if (resolve_in_image(c, rel, want_dir, dst, sizeof dst, err) < 0) {
    /* The image's own directories on the way are copied into the upper
     * layer (mode and owner); the child resolves the destination again,
     * over the volumes mounted before this one, and makes what is still
     * missing. */
    return -1;
  }
  return plan_volume_mount(c, p, m, rel, want_dir, err);
}
