/* placement_ids.c - supplementary groups and fsGroup volume ownership (see
 * placement_ids.h). */
#include "supervisor/shim/placement_ids.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IMAGE_FILE_MAX (4u << 20) /* /etc/passwd or /etc/group larger than this is refused */

/* --- the image's /etc/passwd and /etc/group ------------------------------------- */

/* Reads rootfs/<rel> resolved inside rootfs into a NUL-terminated buffer;
 * NULL with errno ENOENT when it is missing. */
static char *read_in_root(const char *rootfs, const char *rel, pv_err *err) {
  int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    pv_err_sys(err, "image rootfs %s", rootfs);
    return NULL;
  }
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
  long fd;
  do
    fd = syscall(SYS_openat2, root, rel, &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  int e = errno;
  close(root);
  if (fd < 0) {
    if (e != ENOENT)
      pv_err_set(err, e, "image %s: open /%s: %s", rootfs, rel, strerror(e));
    errno = e;
    return NULL;
  }
  struct stat st;
  char *buf = NULL;
  if (fstat((int)fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > IMAGE_FILE_MAX) {
    pv_err_set(err, EINVAL, "image %s: /%s is not a regular file of at most %u bytes", rootfs, rel,
               IMAGE_FILE_MAX);
    errno = EINVAL;
  } else if ((buf = malloc((size_t)st.st_size + 1)) != NULL) {
    size_t n = 0;
    ssize_t r;
    while (n < (size_t)st.st_size && ((r = read((int)fd, buf + n, (size_t)st.st_size - n)) > 0 ||
                                      (r < 0 && errno == EINTR)))
      n += r > 0 ? (size_t)r : 0;
    buf[n] = '\0';
  } else {
    pv_err_set(err, ENOMEM, "image %s: /%s: out of memory", rootfs, rel);
  }
  close((int)fd);
  return buf;
}

/* Splits line into at most max ':'-separated fields (in place). */
static size_t fields(char *line, char **f, size_t max) {
  size_t n = 0;
  for (char *s = line; n < max;) {
    f[n++] = s;
    char *c = strchr(s, ':');
    if (c == NULL)
      break;
    *c = '\0';
    s = c + 1;
  }
  return n;
}

static bool parse_id(const char *s, unsigned long *out) {
  char *end;
  if (*s < '0' || *s > '9')
    return false;
  errno = 0;
  *out = strtoul(s, &end, 10);
  return errno == 0 && *end == '\0' && *out <= 0x7fffffffUL;
}

/* The name of uid in the image's /etc/passwd (first match) into name. */
static int user_name(const char *rootfs, uid_t uid, char *name, size_t len, pv_err *err) {
  name[0] = '\0';
  char *buf = read_in_root(rootfs, "etc/passwd", err);
  if (buf == NULL)
    return errno == ENOENT ? 0 : -1;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    char *f[4];
    unsigned long id;
    if (fields(line, f, 4) >= 3 && parse_id(f[2], &id) && id == uid && strlen(f[0]) < len) {
      strcpy(name, f[0]);
      break;
    }
  }
  free(buf);
  return 0;
}

static int add_group(gid_t **v, size_t *n, size_t *cap, gid_t g, pv_err *err) {
  for (size_t i = 0; i < *n; i++)
    if ((*v)[i] == g)
      return 0;
  if (*n >= PLACEMENT_MAX_GROUPS)
    return pv_err_set(err, E2BIG, "more than %d supplementary groups", PLACEMENT_MAX_GROUPS);
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 8;
    gid_t *nv = realloc(*v, nc * sizeof *nv);
    if (nv == NULL)
      return pv_err_set(err, ENOMEM, "groups: out of memory");
    *v = nv;
    *cap = nc;
  }
  (*v)[(*n)++] = g;
  return 0;
}

/* Adds every group of the image's /etc/group whose member list names user. */
static int image_groups(const char *rootfs, const char *user, gid_t **v, size_t *n, size_t *cap, pv_err *err) {
  char *buf = read_in_root(rootfs, "etc/group", err);
  if (buf == NULL)
    return errno == ENOENT ? 0 : -1;
  int rc = 0;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); rc == 0 && line != NULL; line = strtok_r(NULL, "\n", &save)) {
    char *f[4];
    unsigned long id;
    if (fields(line, f, 4) < 4 || !parse_id(f[2], &id))
      continue;
    char *s2 = NULL;
    for (char *m = strtok_r(f[3], ",", &s2); m != NULL; m = strtok_r(NULL, ",", &s2))
      if (strcmp(m, user) == 0) {
        rc = add_group(v, n, cap, (gid_t)id, err);
        break;
      }
  }
  free(buf);
  return rc;
}

int placement_groups(const char *rootfs, const spec_pod *p, uid_t uid, gid_t gid, gid_t **out, size_t *n,
                     pv_err *err) {
  gid_t *v = NULL;
  size_t cap = 0;
  *n = 0;
  int rc = add_group(&v, n, &cap, gid, err);
  if (rc == 0 && p->fs_group >= 0)
    rc = add_group(&v, n, &cap, (gid_t)p->fs_group, err);
  for (size_t i = 0; rc == 0 && i < p->n_supplemental_groups; i++)
    rc = add_group(&v, n, &cap, (gid_t)p->supplemental_groups[i], err);
  if (rc == 0 && p->supplemental_groups_policy == SPEC_GROUPS_MERGE) {
    char user[256];
    rc = user_name(rootfs, uid, user, sizeof user, err);
    if (rc == 0 && user[0] != '\0')
      rc = image_groups(rootfs, user, &v, n, &cap, err);
  }
  if (rc < 0) {
    free(v);
    *n = 0;
    return -1;
  }
  *out = v;
  return 0;
}

/* --- fsGroup: volume ownership -------------------------------------------------- */

/* Kubernetes' masks (pkg/volume/volume_linux.go): rw for the group, and x
 * plus setgid on directories. */
#define RW_MASK 0660
#define EXEC_MASK 0110

static mode_t wanted_mode(const struct stat *st) {
  mode_t m = (st->st_mode & 07777) | RW_MASK;
  if (S_ISDIR(st->st_mode))
    m |= S_ISGID | EXEC_MASK;
  return m;
}

/* name in dfd (already lstat'ed into st): group, then the mode (not for
 * links, whose mode means nothing). */
static int own_entry(int dfd, const char *name, const struct stat *st, gid_t gid) {
  if (fchownat(dfd, name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return -1;
  if (S_ISLNK(st->st_mode))
    return 0;
  /* chown cleared the set-id bits of a regular file: wanted_mode() puts
   * back what the file had, as the kubelet does. */
  return fchmodat(dfd, name, wanted_mode(st), AT_SYMLINK_NOFOLLOW);
}

static int walk(int dfd, dev_t dev, gid_t gid, unsigned depth, const char *volume, pv_err *err) {
  if (depth > PLACEMENT_OWNERSHIP_DEPTH)
    return pv_err_set(err, ELOOP, "volume %s: fsGroup: directories nest deeper than %d", volume,
                      PLACEMENT_OWNERSHIP_DEPTH);
  int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (d == NULL) {
    if (dup_fd >= 0)
      close(dup_fd);
    return pv_err_sys(err, "volume %s: fsGroup: read a directory", volume);
  }
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT)
        continue;
      rc = pv_err_sys(err, "volume %s: fsGroup: stat %s", volume, e->d_name);
    } else if (st.st_dev != dev) {
      continue; /* another file system mounted inside: not this volume's */
    } else if (own_entry(dfd, e->d_name, &st, gid) < 0) {
      rc = pv_err_sys(err, "volume %s: fsGroup: chown/chmod %s", volume, e->d_name);
    } else if (S_ISDIR(st.st_mode)) {
      int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        rc = pv_err_sys(err, "volume %s: fsGroup: open %s", volume, e->d_name);
      else {
        rc = walk(sub, dev, gid, depth + 1, volume, err);
        close(sub);
      }
    }
  }
  if (rc == 0 && errno != 0)
    rc = pv_err_sys(err, "volume %s: fsGroup: readdir", volume);
  closedir(d);
  return rc;
}

int placement_volume_ownership(const char *dir, const char *volume, gid_t gid, spec_fs_group_policy policy,
                               pv_err *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return pv_err_sys(err, "volume %s: fsGroup: open %s", volume, dir);
  struct stat st;
  int rc = 0;
  if (fstat(fd, &st) < 0) {
    rc = pv_err_sys(err, "volume %s: fsGroup: stat %s", volume, dir);
  } else if (policy == SPEC_FS_GROUP_ON_ROOT_MISMATCH && st.st_gid == gid &&
             (st.st_mode & (RW_MASK | EXEC_MASK)) == (RW_MASK | EXEC_MASK) && (st.st_mode & S_ISGID)) {
    rc = 0; /* Kubernetes' requiresPermissionChange(): the root says it was done */
  } else if (fchown(fd, (uid_t)-1, gid) < 0 || fchmod(fd, wanted_mode(&st)) < 0) {
    rc = pv_err_sys(err, "volume %s: fsGroup: chown/chmod %s", volume, dir);
  } else {
    rc = walk(fd, st.st_dev, gid, 1, volume, err);
  }
  close(fd);
  return rc;
}
