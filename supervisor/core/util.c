#include "supervisor/core/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int pv_path(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

static int fsync_parent(const char *path) {
  char dir[PATH_MAX];
  if (pv_path(dir, sizeof dir, "%s", path) < 0)
    return -1;
  char *slash = strrchr(dir, '/');
  if (slash == NULL)
    strcpy(dir, ".");
  else if (slash == dir)
    slash[1] = '\0';
  else
    *slash = '\0';
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

int pv_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, pv_err *err) {
  char tmp[PATH_MAX];
  if (pv_path(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
    return pv_err_sys(err, "%s", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return pv_err_sys(err, "create %s", tmp);
  if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
    pv_err_sys(err, "write %s", tmp);
    close(fd);
    unlink(tmp);
    return -1;
  }
  if (close(fd) < 0) {
    pv_err_sys(err, "close %s", tmp);
    unlink(tmp);
    return -1;
  }
  if (rename(tmp, path) < 0) {
    pv_err_sys(err, "rename %s to %s", tmp, path);
    unlink(tmp);
    return -1;
  }
  if (fsync_parent(path) < 0)
    return pv_err_sys(err, "fsync directory of %s", path);
  return 0;
}

int pv_read_file(const char *path, char **out, size_t *len, pv_err *err) {
  int fd;
  do
    fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return pv_err_sys(err, "open %s", path);
  size_t cap = 4096, used = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    close(fd);
    return pv_err_sys(err, "read %s", path);
  }
  for (;;) {
    if (used + 1 >= cap) {
      char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        free(buf);
        close(fd);
        return pv_err_sys(err, "read %s", path);
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + used, cap - used - 1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      pv_err_sys(err, "read %s", path);
      free(buf);
      close(fd);
      return -1;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  close(fd);
  buf[used] = '\0';
  *out = buf;
  if (len != NULL)
    *len = used;
  return 0;
}

int pv_mkdir_p(const char *path, mode_t mode, pv_err *err) {
  char buf[PATH_MAX];
  if (pv_path(buf, sizeof buf, "%s", path) < 0)
    return pv_err_sys(err, "mkdir %s", path);
  for (char *p = buf + 1; *p != '\0'; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
      return pv_err_sys(err, "mkdir %s", buf);
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST)
    return pv_err_sys(err, "mkdir %s", buf);
  return 0;
}

static int rm_at(int parent, const char *name, dev_t dev, pv_err *err, const char *top) {
  struct stat st;
  if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : pv_err_sys(err, "stat %s/%s", top, name);
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
      return pv_err_sys(err, "unlink %s/%s", top, name);
    return 0;
  }
  if (st.st_dev != dev)
    return pv_err_set(err, EBUSY, "remove %s/%s: a file system is still mounted there", top, name);
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return pv_err_sys(err, "open %s/%s", top, name);
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return pv_err_sys(err, "opendir %s/%s", top, name);
  }
  int r = 0;
  struct dirent *de;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    r = rm_at(dirfd(d), de->d_name, dev, err, top);
  }
  closedir(d);
  if (r < 0)
    return -1;
  if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return pv_err_sys(err, "rmdir %s/%s", top, name);
  return 0;
}

int pv_rm_rf(const char *path, pv_err *err) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : pv_err_sys(err, "stat %s", path);
  return rm_at(AT_FDCWD, path, st.st_dev, err, path);
}

int pv_parse_size(const char *s, int64_t *out, pv_err *err) {
  if (s == NULL || *s == '\0')
    return pv_err_set(err, EINVAL, "invalid size '': expected a number with an optional unit (b, k, m, g)");
  /* Digits with an optional fraction, as podman takes them: strtod alone
   * would also read "0x10" (16 bytes), "1e3" and "infinity". */
  size_t lead = strspn(s, "0123456789");
  if (s[lead] == '.')
    lead += 1 + strspn(s + lead + 1, "0123456789");
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno != 0 || end != s + lead || v < 0 || !isdigit((unsigned char)s[0]))
    return pv_err_set(err, EINVAL, "invalid size '%s': expected a number with an optional unit (b, k, m, g)", s);
  char unit = (char)tolower((unsigned char)*end);
  double mult = 1;
  if (*end != '\0') {
    switch (unit) {
    case 'b': mult = 1; break;
    case 'k': mult = 1024.0; break;
    case 'm': mult = 1024.0 * 1024; break;
    case 'g': mult = 1024.0 * 1024 * 1024; break;
    case 't': mult = 1024.0 * 1024 * 1024 * 1024; break;
    default:
      return pv_err_set(err, EINVAL, "invalid size '%s': unknown unit '%c' (use b, k, m, g or t)", s, *end);
    }
    const char *rest = end + 1;
    if (unit != 'b' && (strcasecmp(rest, "b") == 0 || strcasecmp(rest, "ib") == 0))
      rest = "";
    if (*rest != '\0')
      return pv_err_set(err, EINVAL, "invalid size '%s': trailing '%s'", s, rest);
  }
  double bytes = v * mult;
  if (bytes >= 9.2e18)
    return pv_err_set(err, ERANGE, "invalid size '%s': too large", s);
  *out = (int64_t)bytes;
  return 0;
}

int pv_format_rfc3339(int64_t ns, bool always_nanos, char *buf, size_t len) {
  int64_t sec = ns / 1000000000, frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    sec--;
  }
  time_t t = (time_t)sec;
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL)
    return -1;
  int n;
  if (always_nanos || frac != 0)
    n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
  else
    n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
  return n >= 0 && (size_t)n < len ? n : -1;
}

int pv_pidfd_try_reap(int pidfd, siginfo_t *si) {
  memset(si, 0, sizeof *si);
  int rc;
  do
    rc = waitid((idtype_t)P_PIDFD, (id_t)pidfd, si, WEXITED | WNOHANG);
  while (rc < 0 && errno == EINTR);
  if (rc < 0)
    return -1;
  return si->si_pid != 0 ? 1 : 0;
}

int pv_pidfd_reap(int pidfd, siginfo_t *si) {
  for (;;) {
    memset(si, 0, sizeof *si);
    if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, si, WEXITED) == 0)
      return 0;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN)
      return -1;
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
      return -1;
  }
}

int pv_pidfd_signal(int pidfd, int sig) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

void pv_pidfd_kill_reap(int pidfd) {
  siginfo_t si;
  pv_pidfd_signal(pidfd, SIGKILL);
  (void)pv_pidfd_reap(pidfd, &si);
}

uint64_t pv_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
