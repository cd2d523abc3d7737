#include "supervisor/core/image_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ paths */

int image_unpack_clean_path(const char *in, char *out, size_t outlen) {
  if (in == NULL || *in == '\0' || *in == '/' || outlen == 0) {
    errno = EINVAL;
    return -1;
  }
  size_t n = 0;
  const char *p = in;
  while (*p != '\0') {
    const char *end = strchr(p, '/');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    if (len == 2 && p[0] == '.' && p[1] == '.') {
      errno = EINVAL;
      return -1;
    }
    if (len > 0 && !(len == 1 && p[0] == '.')) {
      if (n + (n > 0) + len + 1 > outlen) {
        errno = ENAMETOOLONG;
        return -1;
      }
      if (n > 0)
        out[n++] = '/';
      memcpy(out + n, p, len);
      n += len;
    }
    p += len;
    while (*p == '/')
      p++;
  }
  out[n] = '\0';
  return 0;
}

const char *image_unpack_format_size(uint64_t bytes, char *buf, size_t len) {
  static const char *const units[] = {"Ti", "Gi", "Mi", "Ki"};
  for (int i = 0; i < 4; i++) {
    uint64_t unit = 1ULL << (10 * (4 - i));
    if (bytes >= unit && bytes % unit == 0) {
      snprintf(buf, len, "%llu%s", (unsigned long long)(bytes / unit), units[i]);
      return buf;
    }
  }
  snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
  return buf;
}

int image_unpack_charge(image_unpack_stats *st, uint64_t bytes, const char *what, pv_err *err) {
  char lim[48];
  if (st->max_entries > 0 && st->entries >= st->max_entries)
    return pv_err_set(err, EFBIG, "%s: the image would have more than %llu entries, its limit", what,
                      (unsigned long long)st->max_entries);
  if (st->max_bytes > 0 && (bytes > st->max_bytes || st->bytes > st->max_bytes - bytes))
    return pv_err_set(err, EFBIG,
                      "%s: the unpacked image would pass its size limit of %s (%llu bytes so far, "
                      "this entry %llu bytes; sparse files count whole)",
                      what, image_unpack_format_size(st->max_bytes, lim, sizeof lim),
                      (unsigned long long)st->bytes, (unsigned long long)bytes);
  st->bytes += bytes;
  return 0;
}

void image_unpack_note_skipped(image_unpack_stats *st, const char *rel, bool is_socket) {
  if (is_socket)
    st->skipped_sockets++;
  else
    st->skipped_devices++;
  if (st->n_skipped_names < IMAGE_UNPACK_SKIPPED_NAMES) {
    char *d = st->skipped_names[st->n_skipped_names++];
    size_t n = strnlen(rel, sizeof st->skipped_names[0] - 2); /* a longer name is cut */
    d[0] = '/';
    memcpy(d + 1, rel, n);
    d[n + 1] = '\0';
  }
}

static int xclose(int fd) {
  return fd >= 0 ? close(fd) : 0;
}

/* Opens the directory that holds the last component of rel (a cleaned,
 * non-empty relative path) and stores that component in base.  Each
 * intermediate component is opened with O_NOFOLLOW, so a symbolic link on the
 * way fails with ELOOP (or ENOTDIR) instead of being followed.  Missing
 * directories are created (0755) when create is set. */
static int open_parent(int rootfd, const char *rel, bool create, char *base, size_t baselen, const char *what,
                       pv_err *err) {
  int dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
  if (dfd < 0)
    return pv_err_sys(err, "%s: dup", what);
  const char *p = rel;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (len >= baselen || len > NAME_MAX) {
      close(dfd);
      return pv_err_set(err, ENAMETOOLONG, "%s: path component too long", what);
    }
    memcpy(base, p, len);
    base[len] = '\0';
    if (slash == NULL)
      return dfd;
    int nfd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (nfd < 0 && errno == ENOENT && create) {
      if (mkdirat(dfd, base, 0755) < 0 && errno != EEXIST) {
        pv_err_sys(err, "%s: mkdir '%s'", what, base);
        close(dfd);
        return -1;
      }
      nfd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (nfd < 0) {
      int e = errno;
      close(dfd);
      errno = e;
      if (e == ELOOP || e == ENOTDIR)
        return pv_err_set(err, e,
                          "%s: '%.*s' is not a directory (a symbolic link or a file); refusing to "
                          "write through it",
                          what, (int)(slash - rel), rel);
      return pv_err_sys(err, "%s: open '%.*s'", what, (int)(slash - rel), rel);
    }
    close(dfd);
    dfd = nfd;
    p = slash + 1;
  }
}

/* Makes room for a new entry called name in dfd.  An existing non-directory
 * is unlinked (never written through); an existing directory is kept when the
 * new entry is a directory and refused otherwise.  Returns 1 when a directory
 * is kept, 0 when the name is free. */
static int make_room(int dfd, const char *name, bool want_dir, const char *what, pv_err *err) {
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : pv_err_sys(err, "%s: stat", what);
  if (S_ISDIR(st.st_mode)) {
    if (want_dir)
      return 1;
    return pv_err_set(err, EISDIR, "%s: a directory of that name already exists", what);
  }
  if (unlinkat(dfd, name, 0) < 0)
    return pv_err_sys(err, "%s: remove the earlier entry", what);
  return 0;
}

/* ------------------------------------------------------------------ metadata */

typedef struct meta {
  mode_t mode;
  uid_t uid;
  gid_t gid;
  struct timespec mtime;
  bool has_mtime;
} meta;

/* chown first: it clears set-id bits, which the chmod then restores. */
static int apply_meta_fd(int fd, const meta *m, const char *what, pv_err *err) {
  if (geteuid() == 0 && fchown(fd, m->uid, m->gid) < 0)
    return pv_err_sys(err, "%s: chown %u:%u", what, (unsigned)m->uid, (unsigned)m->gid);
  if (fchmod(fd, m->mode & 07777) < 0)
    return pv_err_sys(err, "%s: chmod %o", what, (unsigned)(m->mode & 07777));
  if (m->has_mtime) {
    struct timespec ts[2] = {m->mtime, m->mtime};
    if (futimens(fd, ts) < 0)
      return pv_err_sys(err, "%s: set times", what);
  }
  return 0;
}

static int apply_meta_link(int dfd, const char *name, const meta *m, const char *what, pv_err *err) {
  if (geteuid() == 0 && fchownat(dfd, name, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return pv_err_sys(err, "%s: chown %u:%u", what, (unsigned)m->uid, (unsigned)m->gid);
  if (m->has_mtime) {
    struct timespec ts[2] = {m->mtime, m->mtime};
    if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
      return pv_err_sys(err, "%s: set times", what);
  }
  return 0;
}

/* ------------------------------------------------------------------ libarchive */

/* libarchive is loaded on first use instead of being linked into podvisor:
 * it pulls in libxml2, ICU and libstdc++, whose loading and relocation add
 * about 3-4 ms to the start of every podvisor process on a small VM, while
 * only the import of a tarball needs it.  A program that links libarchive
 * itself (the unit tests) gets the copy already loaded. */
#define LA_SONAME "libarchive.so.13"
#define LA_FUNCS(X)                                                                                          \
  X(archive_entry_filetype)                                                                                  \
  X(archive_entry_gid)                                                                                       \
  X(archive_entry_hardlink)                                                                                  \
  X(archive_entry_mtime)                                                                                     \
  X(archive_entry_mtime_is_set)                                                                              \
  X(archive_entry_mtime_nsec)                                                                                \
  X(archive_entry_pathname)                                                                                  \
  X(archive_entry_perm)                                                                                      \
  X(archive_entry_size)                                                                                      \
  X(archive_entry_size_is_set)                                                                               \
  X(archive_entry_symlink)                                                                                   \
  X(archive_entry_uid)                                                                                       \
  X(archive_errno)                                                                                           \
  X(archive_error_string)                                                                                    \
  X(archive_read_data_block)                                                                                 \
  X(archive_read_free)                                                                                       \
  X(archive_read_new)                                                                                        \
  X(archive_read_next_header)                                                                                \
  X(archive_read_open_filename)                                                                              \
  X(archive_read_support_filter_all)                                                                         \
  X(archive_read_support_format_7zip)                                                                        \
  X(archive_read_support_format_cpio)                                                                        \
  X(archive_read_support_format_tar)                                                                         \
  X(archive_read_support_format_zip)

#define LA_MEMBER(f) __typeof__(&f) f;
static struct { LA_FUNCS(LA_MEMBER) } la;
#undef LA_MEMBER
static pthread_once_t la_once = PTHREAD_ONCE_INIT;
static bool la_ok;
static char la_why[256];

static void la_load(void) {
  void *h = dlopen(LA_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(la_why, sizeof la_why, "%s", dlerror());
    return;
  }
#define LA_SYM(f)                                                                                            \
  if ((la.f = (__typeof__(la.f))dlsym(h, #f)) == NULL) {                                                     \
    snprintf(la_why, sizeof la_why, "%s: no symbol %s", LA_SONAME, #f);                                      \
    return;                                                                                                  \
  }
  LA_FUNCS(LA_SYM)
#undef LA_SYM
  la_ok = true;
}

static int la_require(const char *path, pv_err *err) {
  pthread_once(&la_once, la_load);
  if (!la_ok)
    return pv_err_set(err, ELIBACC, "%s: reading archives needs libarchive (%s)", path, la_why);
  return 0;
}

/* ------------------------------------------------------------------ archives */

/* Directory metadata is applied after every entry is written: a read-only
 * directory mode would block its own children, and each child would reset
 * the directory's mtime. */
typedef struct dir_meta {
  char *path;
  meta m;
} dir_meta;

typedef struct archive_ctx {
  struct archive *a;
  int rootfd;
  const char *src;
  image_unpack_stats *st;
  dir_meta *dirs;
  size_t n_dirs, cap_dirs;
  pv_err *err;
} archive_ctx;

static int remember_dir(archive_ctx *c, const char *rel, const meta *m) {
  if (c->n_dirs == c->cap_dirs) {
    size_t cap = c->cap_dirs ? c->cap_dirs * 2 : 64;
    dir_meta *nd = realloc(c->dirs, cap * sizeof *nd);
    if (nd == NULL)
      return pv_err_sys(c->err, "%s: out of memory", c->src);
    c->dirs = nd;
    c->cap_dirs = cap;
  }
  char *p = strdup(rel);
  if (p == NULL)
    return pv_err_sys(c->err, "%s: out of memory", c->src);
  c->dirs[c->n_dirs++] = (dir_meta){.path = p, .m = *m};
  return 0;
}

static int write_data(archive_ctx *c, int fd, int64_t size, const char *what) {
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;
  while ((r = la.archive_read_data_block(c->a, &buf, &len, &off)) == ARCHIVE_OK) {
    const char *p = buf;
    while (len > 0) {
      ssize_t n = pwrite(fd, p, len, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return pv_err_sys(c->err, "%s: write", what);
      p += n;
      len -= (size_t)n;
      off += n;
    }
  }
  if (r != ARCHIVE_EOF)
    return pv_err_set(c->err, EIO, "%s: read: %s", what, la.archive_error_string(c->a));
  /* A sparse file may end in a hole that no data block covers. */
  if (size > 0 && ftruncate(fd, size) < 0)
    return pv_err_sys(c->err, "%s: truncate", what);
  return 0;
}

static int extract_hardlink(archive_ctx *c, int dfd, const char *base, const char *target, const char *what) {
  char rel[PATH_MAX], tbase[NAME_MAX + 1];
  if (image_unpack_clean_path(target, rel, sizeof rel) < 0 || rel[0] == '\0')
    return pv_err_set(c->err, EINVAL, "%s: hard link to '%s' points outside the image; refused", what,
                      target);
  int tfd = open_parent(c->rootfd, rel, false, tbase, sizeof tbase, what, c->err);
  if (tfd < 0)
    return -1;
  int r = make_room(dfd, base, false, what, c->err);
  if (r == 0 && linkat(tfd, tbase, dfd, base, 0) < 0)
    r = pv_err_sys(c->err, "%s: hard link to '%s'", what, target);
  close(tfd);
  return r;
}

static int extract_file(archive_ctx *c, struct archive_entry *e, int dfd, const char *base, const meta *m,
                        const char *what) {
  int64_t size = la.archive_entry_size_is_set(e) ? la.archive_entry_size(e) : 0;
  if (image_unpack_charge(c->st, (uint64_t)(size > 0 ? size : 0), what, c->err) < 0)
    return -1;
  if (make_room(dfd, base, false, what, c->err) < 0)
    return -1;
  int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return pv_err_sys(c->err, "%s: create", what);
  int r = write_data(c, fd, size, what);
  if (r == 0)
    r = apply_meta_fd(fd, m, what, c->err);
  if (close(fd) < 0 && r == 0)
    r = pv_err_sys(c->err, "%s: close", what);
  return r;
}

static int extract_node(archive_ctx *c, struct archive_entry *e, const char *rel, const meta *m,
                        const char *what) {
  char base[NAME_MAX + 1];
  int dfd = open_parent(c->rootfd, rel, true, base, sizeof base, what, c->err);
  if (dfd < 0)
    return -1;
  int r = 0;
  const char *hard = la.archive_entry_hardlink(e);
  mode_t type = la.archive_entry_filetype(e);
  bool kept = hard != NULL || type == AE_IFDIR || type == AE_IFREG || type == AE_IFLNK || type == AE_IFIFO;
  /* A regular file is charged its size in extract_file; a link its target's length below. */
  if (kept && type != AE_IFREG && image_unpack_charge(c->st, 0, what, c->err) < 0) {
    close(dfd);
    return -1;
  }
  if (hard != NULL) {
    r = extract_hardlink(c, dfd, base, hard, what);
  } else if (type == AE_IFDIR) {
    r = make_room(dfd, base, true, what, c->err);
    if (r == 0 && mkdirat(dfd, base, 0755) < 0)
      r = pv_err_sys(c->err, "%s: mkdir", what);
    if (r >= 0)
      r = remember_dir(c, rel, m);
  } else if (type == AE_IFREG) {
    r = extract_file(c, e, dfd, base, m, what);
  } else if (type == AE_IFLNK) {
    const char *target = la.archive_entry_symlink(e);
    /* The target is stored verbatim: it is only ever resolved inside the
     * container, where "/" is the image's root. */
    if (target == NULL || *target == '\0')
      r = pv_err_set(c->err, EINVAL, "%s: symbolic link without a target", what);
    else if (make_room(dfd, base, false, what, c->err) < 0)
      r = -1;
    else if (symlinkat(target, dfd, base) < 0)
      r = pv_err_sys(c->err, "%s: symlink", what);
    else
      r = apply_meta_link(dfd, base, m, what, c->err);
    if (r == 0)
      r = image_unpack_charge(c->st, strlen(target), what, c->err);
  } else if (type == AE_IFIFO) {
    r = make_room(dfd, base, false, what, c->err);
    if (r == 0 && mkfifoat(dfd, base, 0600) < 0)
      r = pv_err_sys(c->err, "%s: mkfifo", what);
    if (r == 0) {
      int fd = openat(dfd, base, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
      r = fd < 0 ? pv_err_sys(c->err, "%s: open fifo", what) : apply_meta_fd(fd, m, what, c->err);
      xclose(fd);
    }
  } else {
    /* character/block devices, sockets: see the header */
    image_unpack_note_skipped(c->st, rel, type == AE_IFSOCK);
    close(dfd);
    return 0;
  }
  close(dfd);
  if (r >= 0)
    c->st->entries++;
  return r < 0 ? -1 : 0;
}

static int extract_entry(archive_ctx *c, struct archive_entry *e) {
  const char *name = la.archive_entry_pathname(e);
  char rel[PATH_MAX], what[PATH_MAX + 64];
  if (name == NULL)
    return pv_err_set(c->err, EINVAL, "%s: an entry has no readable name", c->src);
  snprintf(what, sizeof what, "%s: entry '%s'", c->src, name);
  if (image_unpack_clean_path(name, rel, sizeof rel) < 0) {
    if (errno == ENAMETOOLONG)
      return pv_err_set(c->err, ENAMETOOLONG, "%s: name too long", what);
    return pv_err_set(c->err, EINVAL, "%s: absolute paths and '..' are not allowed in an image", what);
  }
  meta m = {
      .mode = la.archive_entry_perm(e),
      .uid = (uid_t)la.archive_entry_uid(e),
      .gid = (gid_t)la.archive_entry_gid(e),
      .has_mtime = la.archive_entry_mtime_is_set(e),
  };
  m.mtime.tv_sec = la.archive_entry_mtime(e);
  m.mtime.tv_nsec = la.archive_entry_mtime_nsec(e);
  if (rel[0] == '\0') {
    /* "./": the image's root directory itself. */
    if (la.archive_entry_filetype(e) != AE_IFDIR || la.archive_entry_hardlink(e) != NULL)
      return pv_err_set(c->err, EINVAL, "%s: the root of an image must be a directory", what);
    return remember_dir(c, "", &m);
  }
  return extract_node(c, e, rel, &m, what);
}

/* Applies directory metadata, deepest last-written first.  A directory that a
 * later entry replaced is skipped: it is not a directory any more. */
static int finish_dirs(archive_ctx *c) {
  int r = 0;
  for (size_t i = c->n_dirs; i-- > 0 && r == 0;) {
    dir_meta *d = &c->dirs[i];
    int fd;
    if (d->path[0] == '\0') {
      fd = fcntl(c->rootfd, F_DUPFD_CLOEXEC, 3);
    } else {
      char base[NAME_MAX + 1];
      int dfd = open_parent(c->rootfd, d->path, false, base, sizeof base, c->src, NULL);
      if (dfd < 0)
        continue;
      fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      close(dfd);
    }
    if (fd < 0)
      continue;
    char what[PATH_MAX + 64];
    snprintf(what, sizeof what, "%s: directory '%s'", c->src, d->path[0] ? d->path : ".");
    r = apply_meta_fd(fd, &d->m, what, c->err);
    close(fd);
  }
  return r;
}

int image_unpack_archive(int rootfd, const char *path, image_unpack_stats *st, pv_err *err) {
  if (la_require(path, err) < 0)
    return -1;
  archive_ctx c = {.rootfd = rootfd, .src = path, .st = st, .err = err};
  c.a = la.archive_read_new();
  if (c.a == NULL)
    return pv_err_set(err, ENOMEM, "%s: cannot allocate an archive reader", path);
  la.archive_read_support_filter_all(c.a);
  /* Only formats that carry their own data.  format_all would also take
   * mtree, a text format whose entries name files on the importing host
   * ("contents=/etc/shadow") for libarchive to open, and "empty", which makes
   * any empty file an image; a plain text file could pass for either. */
  la.archive_read_support_format_tar(c.a);
  la.archive_read_support_format_cpio(c.a);
  la.archive_read_support_format_zip(c.a);
  la.archive_read_support_format_7zip(c.a);
  int r = 0;
  if (la.archive_read_open_filename(c.a, path, 64 * 1024) != ARCHIVE_OK) {
    int e = la.archive_errno(c.a) > 0 ? la.archive_errno(c.a) : EINVAL;
    r = pv_err_set(err, e, "%s: %s", path, la.archive_error_string(c.a));
  }
  struct archive_entry *e;
  while (r == 0) {
    int ar = la.archive_read_next_header(c.a, &e);
    if (ar == ARCHIVE_EOF)
      break;
    if (ar == ARCHIVE_WARN)
      ar = ARCHIVE_OK; /* e.g. an unknown pax keyword: the entry is still usable */
    if (ar != ARCHIVE_OK) {
      r = pv_err_set(err, EINVAL, "%s: %s", path, la.archive_error_string(c.a));
      break;
    }
    r = extract_entry(&c, e);
  }
  if (r == 0)
    r = finish_dirs(&c);
  for (size_t i = 0; i < c.n_dirs; i++)
    free(c.dirs[i].path);
  free(c.dirs);
  int saved = errno;
  la.archive_read_free(c.a);
  errno = saved;
  return r;
}

/* ------------------------------------------------------------------ directories */

typedef struct copy_ctx {
  const char *src;
  dev_t dev;
  dev_t skip_dev;
  ino_t skip_ino;
  image_unpack_stats *st;
  pv_err *err;
} copy_ctx;

static meta meta_of(const struct stat *s) {
  return (meta){
      .mode = s->st_mode, .uid = s->st_uid, .gid = s->st_gid, .mtime = s->st_mtim, .has_mtime = true};
}

static int copy_bytes(int in, int out, const char *what, pv_err *err) {
  bool plain = false;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n;
    if (!plain) {
      n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        plain = true;
        continue;
      }
    } else {
      n = read(in, buf, sizeof buf);
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return pv_err_sys(err, "%s: copy", what);
    if (n == 0)
      return 0;
    for (ssize_t done = 0; plain && done < n;) {
      ssize_t w = write(out, buf + done, (size_t)(n - done));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return pv_err_sys(err, "%s: write", what);
      done += w;
    }
  }
}

static int copy_tree(copy_ctx *c, int sfd, int dfd, const char *rel);

static int copy_one(copy_ctx *c, int sfd, int dfd, const char *name, const char *rel) {
  char what[PATH_MAX + 64], sub[PATH_MAX];
  snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", name);
  snprintf(what, sizeof what, "%s/%s", c->src, sub);
  struct stat s;
  if (fstatat(sfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : pv_err_sys(c->err, "%s: stat", what);
  if (s.st_dev == c->skip_dev && s.st_ino == c->skip_ino)
    return 0;
  meta m = meta_of(&s);
  int r = 0;
  bool kept = S_ISDIR(s.st_mode) || S_ISREG(s.st_mode) || S_ISLNK(s.st_mode) || S_ISFIFO(s.st_mode);
  if (!kept) {
    image_unpack_note_skipped(c->st, sub, S_ISSOCK(s.st_mode));
    return 0;
  }
  if (image_unpack_charge(c->st, S_ISREG(s.st_mode) || S_ISLNK(s.st_mode) ? (uint64_t)s.st_size : 0, what,
                          c->err) < 0)
    return -1;
  if (S_ISDIR(s.st_mode)) {
    if (mkdirat(dfd, name, 0700) < 0)
      return pv_err_sys(c->err, "%s: mkdir", what);
    int nd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (nd < 0)
      return pv_err_sys(c->err, "%s: open copy", what);
    if (s.st_dev == c->dev) { /* another file system below: keep only the mount point */
      int ns = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      r = ns < 0 ? pv_err_sys(c->err, "%s: open", what) : copy_tree(c, ns, nd, sub);
      xclose(ns);
    }
    if (r == 0)
      r = apply_meta_fd(nd, &m, what, c->err);
    close(nd);
  } else if (S_ISREG(s.st_mode)) {
    int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (in < 0)
      return pv_err_sys(c->err, "%s: open", what);
    int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
      r = pv_err_sys(c->err, "%s: create copy", what);
    if (r == 0)
      r = copy_bytes(in, out, what, c->err);
    if (r == 0)
      r = apply_meta_fd(out, &m, what, c->err);
    xclose(out);
    close(in);
  } else if (S_ISLNK(s.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(sfd, name, target, sizeof target - 1);
    if (n < 0)
      return pv_err_sys(c->err, "%s: readlink", what);
    target[n] = '\0';
    if (symlinkat(target, dfd, name) < 0)
      return pv_err_sys(c->err, "%s: symlink", what);
    r = apply_meta_link(dfd, name, &m, what, c->err);
  } else if (S_ISFIFO(s.st_mode)) {
    if (mkfifoat(dfd, name, 0600) < 0)
      return pv_err_sys(c->err, "%s: mkfifo", what);
    int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    r = fd < 0 ? pv_err_sys(c->err, "%s: open fifo", what) : apply_meta_fd(fd, &m, what, c->err);
    xclose(fd);
  }
  if (r == 0)
    c->st->entries++;
  return r;
}

static int copy_tree(copy_ctx *c, int sfd, int dfd, const char *rel) {
  int lfd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
  if (lfd < 0)
    return pv_err_sys(c->err, "%s/%s: dup", c->src, rel);
  DIR *d = fdopendir(lfd);
  if (d == NULL) {
    close(lfd);
    return pv_err_sys(c->err, "%s/%s: opendir", c->src, rel);
  }
  int r = 0;
  for (;;) {
    errno = 0;
    struct dirent *de = readdir(d);
    if (de == NULL) {
      if (errno != 0)
        r = pv_err_sys(c->err, "%s/%s: readdir", c->src, rel);
      break;
    }
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if ((r = copy_one(c, sfd, dfd, de->d_name, rel)) < 0)
      break;
  }
  closedir(d);
  return r;
}

int image_unpack_dir(int rootfd, const char *srcdir, dev_t skip_dev, ino_t skip_ino, image_unpack_stats *st,
                     pv_err *err) {
  int sfd = open(srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sfd < 0)
    return pv_err_sys(err, "open %s", srcdir);
  struct stat s;
  if (fstat(sfd, &s) < 0) {
    pv_err_sys(err, "stat %s", srcdir);
    close(sfd);
    return -1;
  }
  copy_ctx c = {
      .src = srcdir, .dev = s.st_dev, .skip_dev = skip_dev, .skip_ino = skip_ino, .st = st, .err = err};
  int r = copy_tree(&c, sfd, rootfd, "");
  if (r == 0) {
    meta m = meta_of(&s);
    r = apply_meta_fd(rootfd, &m, srcdir, err);
  }
  close(sfd);
  return r;
}
