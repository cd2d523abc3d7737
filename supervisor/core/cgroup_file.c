/*
 * cgroup_file.c - the interface-file helpers and value conversions that
 * resource.c and both cgroup backends share (declared in cgroup_internal.h).
 *
 * Files are opened per call with O_CLOEXEC, retried on EINTR, and written in
 * one write(2): the kernel parses a cgroup file write as a whole, so a short
 * write is an error, not something to continue.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "supervisor/core/cgroup_internal.h"
#include "supervisor/core/util.h"

int cgroup_write(const char *dir, const char *file, const char *value, pv_err *err) {
  char path[PATH_MAX];
  if (pv_path(path, sizeof path, "%s/%s", dir, file) < 0)
    return pv_err_sys(err, "write %s to %s/%s", value, dir, file);
  /* O_TRUNC is a no-op on cgroupfs and keeps a fake tree's files exact.
   * No O_CREAT: a missing interface file is an error, as on the kernel. */
  int fd;
  do
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return pv_err_sys(err, "write %s to %s", value, path);
  size_t len = strlen(value);
  ssize_t n;
  do
    n = write(fd, value, len);
  while (n < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  if (n < 0) {
    errno = saved;
    return pv_err_sys(err, "write %s to %s", value, path);
  }
  if ((size_t)n != len)
    return pv_err_set(err, EIO, "write %s to %s: short write", value, path);
  return 0;
}

int cgroup_read(const char *dir, const char *file, char *buf, size_t size, pv_err *err) {
  char path[PATH_MAX];
  if (pv_path(path, sizeof path, "%s/%s", dir, file) < 0)
    return pv_err_sys(err, "read %s/%s", dir, file);
  int fd;
  do
    fd = open(path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return pv_err_sys(err, "read %s", path);
  size_t used = 0;
  while (used + 1 < size) {
    ssize_t n = read(fd, buf + used, size - used - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      errno = saved;
      return pv_err_sys(err, "read %s", path);
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  close(fd);
  buf[used] = '\0';
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  while (*s == ' ' || *s == '\t')
    s++;
  if (!isdigit((unsigned char)*s))
    return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || (*end != '\0' && !isspace((unsigned char)*end)))
    return -1;
  *out = v;
  return 0;
}

int cgroup_read_u64(const char *dir, const char *file, uint64_t *out, pv_err *err) {
  char buf[64];
  if (cgroup_read(dir, file, buf, sizeof buf, err) < 0)
    return -1;
  if (parse_u64(buf, out) < 0)
    return pv_err_set(err, EINVAL, "read %s/%s: not a number: '%.32s'", dir, file, buf);
  return 0;
}

int cgroup_read_key(const char *dir, const char *file, const char *key, uint64_t *out, pv_err *err) {
  char buf[4096];
  if (cgroup_read(dir, file, buf, sizeof buf, err) < 0)
    return -1;
  size_t klen = strlen(key);
  for (char *line = buf; line != NULL && *line != '\0';) {
    char *next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
      if (parse_u64(line + klen + 1, out) < 0)
        return pv_err_set(err, EINVAL, "read %s/%s: bad value for %s", dir, file, key);
      return 0;
    }
    line = next;
  }
  return pv_err_set(err, ENOENT, "read %s/%s: no '%s' line", dir, file, key);
}

bool cgroup_file_exists(const char *dir, const char *file) {
  char path[PATH_MAX];
  if (pv_path(path, sizeof path, "%s/%s", dir, file) < 0)
    return false;
  return access(path, F_OK) == 0;
}

const char *cgroup_dir_for(const cgroup_handle *cg, unsigned ctrl) {
  for (size_t i = 0; i < cg->ndirs; i++)
    if (cg->dirs[i].hier->ctrls & ctrl)
      return cg->dirs[i].path;
  return NULL;
}

unsigned cgroup_ctrl_bit(const char *name, size_t len) {
  static const struct {
    const char *name;
    unsigned bit;
  } names[] = {
      {"cpu", CG_CPU},   {"cpuacct", CG_CPUACCT}, {"cpuset", CG_CPUSET},   {"memory", CG_MEMORY},
      {"pids", CG_PIDS}, {"io", CG_IO},           {"devices", CG_DEVICES},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i].name) == len && strncmp(names[i].name, name, len) == 0)
      return names[i].bit;
  return 0;
}

uint64_t cgroup_shares_to_weight(uint64_t shares) {
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

void cgroup_fmt_limit(char *buf, size_t size, int64_t v, const char *unlimited) {
  if (v < 0)
    snprintf(buf, size, "%s", unlimited);
  else
    snprintf(buf, size, "%" PRId64, v);
}

bool cgroup_wants_cpuset(const resource_limits *l) {
  return l != NULL && (l->cpuset_cpus[0] != '\0' || l->cpuset_mems[0] != '\0');
}

int cgroup_optional(int r, pv_err *err) {
  if (r < 0 && errno == ENOENT) {
    pv_err_clear(err);
    return 0;
  }
  return r;
}

int cgroup_write_pids(const char *dir, const resource_limits *l, pv_err *err) {
  if (l->pids_limit == 0)
    return 0;
  char v[32];
  cgroup_fmt_limit(v, sizeof v, l->pids_limit, "max");
  return cgroup_write(dir, "pids.max", v, err);
}

int cgroup_write_cpuset(const char *dir, const resource_limits *l, pv_err *err) {
  if (l->cpuset_cpus[0] != '\0' && cgroup_write(dir, "cpuset.cpus", l->cpuset_cpus, err) < 0)
    return -1;
  if (l->cpuset_mems[0] != '\0' && cgroup_write(dir, "cpuset.mems", l->cpuset_mems, err) < 0)
    return -1;
  return 0;
}

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

bool cgroup_dir_is_v2(const char *dir) {
  struct statfs sfs;
  if (statfs(dir, &sfs) == 0 && (unsigned long)sfs.f_type == CGROUP2_SUPER_MAGIC)
    return true;
  return cgroup_file_exists(dir, "cgroup.controllers");
}

/* Depth (components) of rel, 0 for "". */
static int depth_of(const char *rel) {
  int n = rel[0] != '\0';
  for (const char *p = rel; *p != '\0'; p++)
    n += *p == '/';
  return n;
}

int cgroup_first_writable(const cgroup_handle *cg) {
  const char *x = cg->rm->delegated;
  if (x == NULL)
    return 0;
  size_t n = strlen(x);
  if (strncmp(cg->relpath, x, n) != 0 || cg->relpath[n] != '/')
    return 0;
  return depth_of(x);
}
