/*
 * cgroup_v1.c - the cgroup v1 ("legacy") backend: one hierarchy per
 * controller, or a few controllers mounted together ("cpu,cpuacct").
 *
 * Layout detection: with the default root the hierarchies come from
 * /proc/self/mountinfo (file system type "cgroup", controllers in the super
 * options), which is the truth even when the directory names are symlinks.
 * With any other root (tests, a fake tree) the sub-directories are scanned
 * and their names, split at ',', name the controllers.
 *
 * Which hierarchies a cgroup lives in.  Joining a hierarchy costs one
 * cgroup.procs write at start (~0.17 ms measured here) and one mkdir/rmdir,
 * against a container start target of 6 ms, so only what a limit or a stat
 * needs is used:
 *   - cpu (shares, CFS quota), cpuacct (cpu usage), memory (limit, usage,
 *     OOM kills) and pids (fork bombs, pids.current): always;
 *   - cpuset: only when the limits ask for cpus or mems;
 *   - freezer: not used.  kill walks cgroup.procs until no new pid appears;
 *     pids.max bounds a fork race, and since a SIGKILLed parent cannot
 *     finish a fork, the walk converges in a pass or two;
 *   - devices: when the limits ask for a device policy (every container
 *     does, see container.h).  The container's directory is a new child of
 *     the pod's, which inherits the root's "a *:* rwm"; before any process
 *     joins it gets "a" in devices.deny (no child yet, so the kernel takes
 *     it) and one devices.allow write per rule of the allow-list
 *     (cgroup_devices.h), each within what the parent allows.  A privileged
 *     container's gets "a" in devices.allow instead, which also undoes the
 *     list on a directory adopted from an unprivileged run.  A host without
 *     a devices hierarchy cannot confine devices: the create of a cgroup
 *     with the allow-list fails (ENOTSUP) rather than run a container
 *     open (a privileged one needs nothing there).  Cost here: ~0.1 ms per
 *     container (mkdir, 13 writes, the join, rmdir; 200 runs);
 *   - blkio: resource_limits has no block-io limit;
 *   - name=systemd: a tracking hierarchy of systemd, not a controller;
 *     podvisor does not pretend to be a systemd unit.  (podman leaks empty
 *     directories there; we never create any.)
 *   - the hybrid host's <root>/unified cgroup2 (hugetlb only here) is never
 *     touched: its file system type is cgroup2, not cgroup.
 *
 * Kernel quirks seen on this host (Debian 12 VM, 6.18):
 *   - cpu and cpuacct are separate hierarchies; many hosts combine them;
 *   - a new cpuset directory starts with empty cpuset.cpus and cpuset.mems,
 *     and a task cannot join it (ENOSPC) until both are set, so every new
 *     cpuset level is initialised from its parent, top down;
 *   - memory.memsw.* exists here, but only with swap accounting
 *     (CONFIG_MEMCG_SWAP and swapaccount=1); without it a memory+swap limit
 *     equal to the memory limit (or -1, which no accounting already gives)
 *     is skipped and any other value is refused with ENOTSUP;
 *   - memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes at
 *     every moment (EINVAL otherwise), so the write order depends on
 *     whether the limits go up or down (see write_memory);
 *   - memory.oom_control has an "oom_kill N" line since 4.13;
 *   - rmdir of a populated cgroup fails EBUSY (resource.c reports it);
 *   - rename(2) of a cgroup directory, processes and all, works within its
 *     parent (another parent: EIO); kernfs refuses every rename flag
 *     (RENAME_NOREPLACE: EINVAL) but never replaces a name (EEXIST).
 */
#include <errno.h>
#include <inttypes.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/cgroup_internal.h"
#include "supervisor/core/util.h"

#define V1_ALWAYS (CG_CPU | CG_CPUACCT | CG_MEMORY | CG_PIDS)

/* Controllers named in a ','-separated list; unknown words are ignored. */
static unsigned ctrls_of(const char *list) {
  unsigned mask = 0;
  for (const char *p = list; *p != '\0';) {
    size_t len = strcspn(p, ",");
    mask |= cgroup_ctrl_bit(p, len);
    p += len;
    if (*p == ',')
      p++;
  }
  return mask;
}

static int add_hier(resource_manager *rm, const char *mount, unsigned ctrls, pv_err *err) {
  if (ctrls == 0)
    return 0;
  for (size_t i = 0; i < rm->nhier; i++)
    if (rm->hier[i].ctrls & ctrls)
      return 0; /* the same hierarchy mounted twice: keep the first */
  if (rm->nhier == CGROUP_MAX_HIER)
    return 0;
  char *m = strdup(mount);
  if (m == NULL)
    return pv_err_sys(err, "hierarchy %s", mount);
  rm->hier[rm->nhier].mount = m;
  rm->hier[rm->nhier].ctrls = ctrls;
  rm->nhier++;
  return 0;
}

/* Undoes the octal escapes of mountinfo (\040 for a space...). */
static void unescape(char *s) {
  char *w = s;
  for (char *r = s; *r != '\0'; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
        r[3] <= '7') {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [tags] - type source superopts". */
static int parse_mount_line(resource_manager *rm, char *line, pv_err *err) {
  char *sep = strstr(line, " - ");
  if (sep == NULL)
    return 0;
  *sep = '\0';
  char *save = NULL, *mnt = NULL, *tok = strtok_r(line, " ", &save);
  for (int field = 0; tok != NULL && field < 4; field++)
    tok = strtok_r(NULL, " ", &save);
  mnt = tok;
  char *type = strtok_r(sep + 3, " ", &save);
  strtok_r(NULL, " ", &save); /* source */
  char *opts = strtok_r(NULL, " \n", &save);
  if (mnt == NULL || type == NULL || opts == NULL || strcmp(type, "cgroup") != 0)
    return 0;
  unescape(mnt);
  size_t rlen = strlen(rm->root);
  if (strncmp(mnt, rm->root, rlen) != 0 || mnt[rlen] != '/')
    return 0;
  return add_hier(rm, mnt, ctrls_of(opts), err);
}

static int scan_mountinfo(resource_manager *rm, pv_err *err) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return pv_err_sys(err, "open /proc/self/mountinfo");
  char *line = NULL;
  size_t cap = 0;
  int r = 0;
  while (r == 0 && getline(&line, &cap, f) > 0)
    r = parse_mount_line(rm, line, err);
  free(line);
  fclose(f);
  return r;
}

/* A non-default root: every real sub-directory named after controllers.
 * Symlinks ("cpu" -> "cpu,cpuacct") are skipped; the target is listed too. */
static int scan_dir(resource_manager *rm, pv_err *err) {
  DIR *d = opendir(rm->root);
  if (d == NULL)
    return pv_err_sys(err, "open %s", rm->root);
  int r = 0;
  struct dirent *de;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char path[PATH_MAX];
    struct stat st;
    if (pv_path(path, sizeof path, "%s/%s", rm->root, de->d_name) < 0 || lstat(path, &st) < 0 ||
        !S_ISDIR(st.st_mode) || cgroup_dir_is_v2(path))
      continue;
    r = add_hier(rm, path, ctrls_of(de->d_name), err);
  }
  closedir(d);
  return r;
}

static int v1_detect(resource_manager *rm, pv_err *err) {
  int r = strcmp(rm->root, CGROUP_DEFAULT_ROOT) == 0 ? scan_mountinfo(rm, err) : scan_dir(rm, err);
  if (r < 0)
    return -1;
  if (rm->nhier == 0)
    return pv_err_set(err, ENOENT,
                      "no cgroup v1 hierarchy with cpu, cpuacct, cpuset, memory, pids or devices");
  return 0;
}

static unsigned v1_select(const resource_manager *rm, const resource_limits *limits) {
  unsigned want = V1_ALWAYS;
  if (limits == NULL || cgroup_wants_cpuset(limits))
    want |= CG_CPUSET;
  if (limits == NULL || limits->devices != RESOURCE_DEVICES_UNSET)
    want |= CG_DEVICES;
  unsigned sel = 0;
  for (size_t i = 0; i < rm->nhier; i++)
    if (rm->hier[i].ctrls & want)
      sel |= 1u << i;
  return sel;
}

/* Copies file from parent into dir when dir's copy is still empty. */
static int inherit(const char *dir, const char *parent, const char *file, pv_err *err) {
  char cur[256], val[256];
  if (cgroup_read(dir, file, cur, sizeof cur, err) < 0)
    return -1;
  if (strspn(cur, " \n") != strlen(cur))
    return 0;
  if (cgroup_read(parent, file, val, sizeof val, err) < 0)
    return -1;
  val[strcspn(val, "\n")] = '\0';
  return cgroup_write(dir, file, val, err);
}

static const char *need_dir(const cgroup_handle *cg, unsigned ctrl, const char *name, pv_err *err) {
  const char *dir = cgroup_dir_for(cg, ctrl);
  if (dir == NULL)
    pv_err_set(err, ENOTSUP,
               "no %s hierarchy for this cgroup (cpuset is joined only when created with cpuset limits, "
               "devices with a device policy)",
               name);
  return dir;
}

/* The device policy of l in the devices directory, in the order of
 * cgroup_devices_v1_writes(): the deny first, then the allows. */
static int write_devices(const cgroup_handle *cg, const resource_limits *l, pv_err *err) {
  /* Without a devices hierarchy every device is open: fine for "all". */
  if (l->devices == RESOURCE_DEVICES_UNSET ||
      (l->devices == RESOURCE_DEVICES_ALL && cgroup_dir_for(cg, CG_DEVICES) == NULL))
    return 0;
  const char *dir = need_dir(cg, CG_DEVICES, "devices", err);
  if (dir == NULL)
    return pv_err_wrap(err, "device allow-list");
  size_t n;
  const cgroup_device_rule *rules = cgroup_devices_default(&n);
  cgroup_dev_write w[CGROUP_DEVICES_DEFAULT_MAX + 1];
  int nw = n <= CGROUP_DEVICES_DEFAULT_MAX
               ? cgroup_devices_v1_writes(rules, n, l->devices == RESOURCE_DEVICES_ALL, w)
               : -1;
  if (nw < 0)
    return pv_err_sys(err, "device allow-list");
  for (int i = 0; i < nw; i++)
    if (cgroup_write(dir, w[i].file, w[i].line, err) < 0)
      return -1;
  return 0;
}

static int v1_prepare(cgroup_handle *cg, const resource_limits *limits, pv_err *err) {
  if (write_devices(cg, limits, err) < 0)
    return -1;
  for (size_t i = 0; i < cg->ndirs; i++) {
    const cg_dir *d = &cg->dirs[i];
    if (!(d->hier->ctrls & CG_CPUSET))
      continue;
    /* Top down: a level can only copy from a parent that is already set. */
    for (int depth = 1; depth <= cg->ncomp; depth++) {
      char parent[PATH_MAX], dir[PATH_MAX];
      cgroup_ancestor(d, depth - 1, parent, sizeof parent);
      cgroup_ancestor(d, depth, dir, sizeof dir);
      if (inherit(dir, parent, "cpuset.cpus", err) < 0 || inherit(dir, parent, "cpuset.mems", err) < 0)
        return -1;
    }
  }
  return 0;
}

static int write_cpu(const cgroup_handle *cg, const resource_limits *l, pv_err *err) {
  if (l->cpu_shares == 0 && l->cpu_quota_us == 0 && l->cpu_period_us == 0)
    return 0;
  const char *dir = need_dir(cg, CG_CPU, "cpu", err);
  if (dir == NULL)
    return -1;
  char v[32];
  if (l->cpu_shares != 0) {
    snprintf(v, sizeof v, "%" PRIu64, l->cpu_shares);
    if (cgroup_write(dir, "cpu.shares", v, err) < 0)
      return -1;
  }
  /* The period first: the kernel checks quota against the period in force. */
  uint64_t period = l->cpu_period_us != 0 ? l->cpu_period_us : (l->cpu_quota_us != 0 ? 100000 : 0);
  if (period != 0) {
    snprintf(v, sizeof v, "%" PRIu64, period);
    if (cgroup_write(dir, "cpu.cfs_period_us", v, err) < 0)
      return -1;
  }
  if (l->cpu_quota_us != 0) {
    cgroup_fmt_limit(v, sizeof v, l->cpu_quota_us, "-1");
    if (cgroup_write(dir, "cpu.cfs_quota_us", v, err) < 0)
      return -1;
  }
  return 0;
}

/* memory.limit_in_bytes <= memory.memsw.limit_in_bytes must hold after each
 * write.  With m0 <= s0 now and m1 <= s1 wanted: "memory first" works when
 * m1 <= s0, otherwise s1 >= m1 > s0 >= m0 and "memsw first" works. */
static int write_memory(const cgroup_handle *cg, const resource_limits *l, pv_err *err) {
  if (l->memory_limit == 0 && l->memory_swap == 0)
    return 0;
  const char *dir = need_dir(cg, CG_MEMORY, "memory", err);
  if (dir == NULL)
    return -1;
  bool memsw = cgroup_file_exists(dir, "memory.memsw.limit_in_bytes");
  int64_t swap = l->memory_swap;
  if (swap != 0 && !memsw) {
    if (swap != l->memory_limit && swap != -1)
      return pv_err_set(err, ENOTSUP,
                        "memory+swap limit %" PRId64
                        ": %s/memory.memsw.limit_in_bytes is missing (no swap accounting)",
                        swap, dir);
    swap = 0;
  }
  bool swap_first = false;
  if (l->memory_limit != 0 && swap != 0) {
    uint64_t s0;
    if (cgroup_read_u64(dir, "memory.memsw.limit_in_bytes", &s0, err) < 0)
      return -1;
    uint64_t m1 = l->memory_limit < 0 ? UINT64_MAX : (uint64_t)l->memory_limit;
    swap_first = m1 > s0;
  }
  char mv[32], sv[32];
  cgroup_fmt_limit(mv, sizeof mv, l->memory_limit, "-1");
  cgroup_fmt_limit(sv, sizeof sv, swap, "-1");
  if (swap_first && cgroup_write(dir, "memory.memsw.limit_in_bytes", sv, err) < 0)
    return -1;
  if (l->memory_limit != 0 && cgroup_write(dir, "memory.limit_in_bytes", mv, err) < 0)
    return -1;
  if (!swap_first && swap != 0 && cgroup_write(dir, "memory.memsw.limit_in_bytes", sv, err) < 0)
    return -1;
  return 0;
}

static int v1_set_limits(cgroup_handle *cg, const resource_limits *l, pv_err *err) {
  if (write_cpu(cg, l, err) < 0 || write_memory(cg, l, err) < 0)
    return -1;
  if (l->pids_limit != 0) {
    const char *dir = need_dir(cg, CG_PIDS, "pids", err);
    if (dir == NULL || cgroup_write_pids(dir, l, err) < 0)
      return -1;
  }
  if (cgroup_wants_cpuset(l)) {
    const char *dir = need_dir(cg, CG_CPUSET, "cpuset", err);
    if (dir == NULL || cgroup_write_cpuset(dir, l, err) < 0)
      return -1;
  }
  return 0;
}

static int v1_get_stats(cgroup_handle *cg, resource_stats *st, pv_err *err) {
  const char *acct = cgroup_dir_for(cg, CG_CPUACCT);
  const char *mem = cgroup_dir_for(cg, CG_MEMORY);
  const char *pids = cgroup_dir_for(cg, CG_PIDS);
  if (acct != NULL && cgroup_read_u64(acct, "cpuacct.usage", &st->cpu_usage_ns, err) < 0)
    return -1;
  if (mem != NULL) {
    if (cgroup_read_u64(mem, "memory.usage_in_bytes", &st->memory_bytes, err) < 0)
      return -1;
    if (cgroup_optional(cgroup_read_u64(mem, "memory.max_usage_in_bytes", &st->memory_max_bytes, err), err) <
            0 ||
        cgroup_optional(cgroup_read_key(mem, "memory.oom_control", "oom_kill", &st->oom_kills, err), err) < 0)
      return -1;
  }
  if (pids != NULL && cgroup_optional(cgroup_read_u64(pids, "pids.current", &st->pids_current, err), err) < 0)
    return -1;
  return 0;
}

const cgroup_ops cgroup_v1_ops = {
    .detect = v1_detect,
    .select = v1_select,
    .prepare = v1_prepare,
    .set_limits = v1_set_limits,
    .get_stats = v1_get_stats,
    .kill_all = NULL,
};
