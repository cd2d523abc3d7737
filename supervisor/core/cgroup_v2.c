/*
 * cgroup_v2.c - the cgroup v2 ("unified") backend: a single tree at the root.
 *
 * Controllers: a cgroup only gets the files of a controller that its parent
 * enabled in cgroup.subtree_control, so prepare() enables, in the root and
 * in every ancestor of the leaf, "+cpu +memory +pids +io" (plus "+cpuset"
 * when the limits ask for one), each only if the root's cgroup.controllers
 * lists it (io is there for io.stat only: no limit is written).  In a
 * delegated subtree (cgroup_deleg.c) the walk starts at the delegated
 * cgroup instead of the root, and what it offers is that cgroup's
 * cgroup.controllers; a limit needing a controller that is not offered
 * fails with ENOTSUP naming it (a cpuset is only needed when asked).  The
 * leaf itself enables nothing: processes live only in leaves (the
 * "no internal processes" rule would make a populated parent refuse
 * subtree_control writes with EBUSY).  An ancestor that already has every
 * controller is only read, not written.  Enabled controllers are left on
 * when a cgroup goes away: other pods under the same parent use them.
 *
 * Conversions from the v1 units of resource_limits:
 *   cpu.weight       = 1 + ((shares - 2) * 9999) / 262142   (2 → 1, 1024 → 39, 262144 → 10000)
 *   cpu.max          = "QUOTA PERIOD" or "max PERIOD" (period defaults to 100000)
 *   memory.swap.max  = memory_swap - memory_limit (v1's memsw is memory+swap)
 * memory.swap.max is missing without swap accounting; then a swap limit
 * equal to the memory limit (no swap) or -1 is skipped, anything else is
 * ENOTSUP, as on v1.
 *
 * Stats: cpu.stat usage_usec (x1000), memory.current, memory.peak (5.19+),
 * pids.current, the oom_kill counter of memory.events, and io.stat's
 * rbytes/wbytes/rios/wios summed over its devices (one line per device,
 * "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"; a cgroup that
 * did no block I/O has no line, and no io controller no file: zeros).
 * Kill: cgroup.kill (5.14+) kills the whole tree at once for SIGKILL; other
 * signals, or older kernels, use the cgroup.procs walk of resource.c with
 * the cgroup frozen (cgroup.freeze, 5.2+): a frozen task cannot fork, so one
 * pass signals everyone (a signal with the default action kills a frozen
 * task at once; a caught one runs its handler on the thaw).  The
 * freeze waits for "frozen 1" in cgroup.events (poll(2) POLLPRI wakes on
 * each change) up to FREEZE_WAIT_MS: a task in uninterruptible sleep can
 * hold it off, and then the walk runs anyway (its passes catch a fork).
 * Whatever happens, the thaw follows; a freeze left behind by a process
 * that died in between is undone when the cgroup is adopted (prepare).
 * Rename: cgroup2 refuses rename(2) of a cgroup directory (EPERM, no
 * .rename in its kernfs operations, unlike v1), so resource.c moves a
 * cgroup aside by migrating its processes into a new sibling instead.
 *
 * Devices: v2 has no devices controller; a container's allow-list
 * (cgroup_devices.h) is a BPF_PROG_TYPE_CGROUP_DEVICE program attached to
 * its directory at create, before any process joins (cgroup_bpf.c says
 * how it is attached and replaced).  A privileged container's directory
 * gets no program, and loses one left by an unprivileged run.
 *
 * Fake trees: tests run this backend on plain directories.  Nothing here
 * knows that: writes never create files, so a test's fake kernel supplies
 * the interface files the way the kernel would.  The device program is the
 * exception, having no file: it goes through rm->set_devices, which such a
 * test replaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/cgroup_internal.h"
#include "supervisor/core/util.h"

#define V2_ALWAYS (CG_CPU | CG_MEMORY | CG_PIDS | CG_IO)
/* How long a freeze may take before the kill walk goes ahead unfrozen. */
#define FREEZE_WAIT_MS 500

/* Controllers in the order podvisor writes them. */
static const struct {
  const char *name;
  unsigned bit;
} ctrl_order[] = {
    {"cpu", CG_CPU},
    {"memory", CG_MEMORY},
    {"pids", CG_PIDS},
    {"io", CG_IO},
    {"cpuset", CG_CPUSET},
};

/* Controllers named in a space-separated list ("cpu memory", "+cpu +io"). */
static unsigned parse_list(const char *s) {
  unsigned mask = 0;
  while (*s != '\0') {
    s += strspn(s, " \t\n+");
    size_t len = strcspn(s, " \t\n");
    mask |= cgroup_ctrl_bit(s, len);
    s += len;
  }
  return mask;
}

static int v2_detect(resource_manager *rm, pv_err *err) {
  char buf[512];
  if (cgroup_read(rm->root, "cgroup.controllers", buf, sizeof buf, err) < 0)
    return -1;
  rm->v2_avail = parse_list(buf);
  if (cgroup_detect_delegation(rm, err) < 0)
    return -1;
  if (rm->delegated != NULL) {
    char dir[PATH_MAX];
    if (pv_path(dir, sizeof dir, "%s/%s", rm->root, rm->delegated) < 0)
      return pv_err_sys(err, "delegated cgroup %s", rm->delegated);
    if (cgroup_read(dir, "cgroup.controllers", buf, sizeof buf, err) < 0)
      return pv_err_wrap(err, "delegated cgroup %s", rm->delegated);
    rm->v2_avail = parse_list(buf);
  }
  if ((rm->hier[0].mount = strdup(rm->root)) == NULL)
    return pv_err_sys(err, "cgroup root %s", rm->root);
  rm->hier[0].ctrls = rm->v2_avail;
  rm->nhier = 1;
  return 0;
}

static unsigned v2_select(const resource_manager *rm, const resource_limits *limits) {
  (void)rm;
  (void)limits;
  return 1u;
}

static int enable_in(const char *dir, unsigned want, pv_err *err) {
  char buf[512];
  if (cgroup_read(dir, "cgroup.subtree_control", buf, sizeof buf, err) < 0)
    return -1;
  unsigned have = parse_list(buf);
  if ((want & ~have) == 0)
    return 0;
  /* The kernel adds to what is enabled; writing the union keeps a fake
   * tree's file equal to what the kernel would show. */
  want |= have;
  char line[128] = "";
  for (size_t i = 0; i < sizeof ctrl_order / sizeof ctrl_order[0]; i++) {
    if (!(want & ctrl_order[i].bit))
      continue;
    size_t n = strlen(line);
    snprintf(line + n, sizeof line - n, "%s+%s", n ? " " : "", ctrl_order[i].name);
  }
  return cgroup_write(dir, "cgroup.subtree_control", line, err);
}

/* Enables the controllers in every ancestor of the leaf, from the root or
 * from the delegated cgroup. */
static int enable_path(cgroup_handle *cg, unsigned want, pv_err *err) {
  want &= cg->rm->v2_avail;
  if (want == 0 || cg->ndirs == 0)
    return 0;
  for (int depth = cgroup_first_writable(cg); depth < cg->ncomp; depth++) {
    char dir[PATH_MAX];
    cgroup_ancestor(&cg->dirs[0], depth, dir, sizeof dir);
    if (enable_in(dir, want, err) < 0)
      return -1;
  }
  return 0;
}

static unsigned wanted(const resource_limits *l) {
  return V2_ALWAYS | (cgroup_wants_cpuset(l) ? CG_CPUSET : 0);
}

/* "1" in cgroup.freeze of dir. */
static bool is_frozen_by_request(const char *dir) {
  char v[8];
  return cgroup_read(dir, "cgroup.freeze", v, sizeof v, NULL) == 0 && v[0] == '1';
}

/* The device policy of l: the program of the allow-list on the leaf, or
 * (every device) none.  Only the leaf: the pod's directory and the parent
 * stay open, the program of each container confines that container. */
static int set_devices(cgroup_handle *cg, const resource_limits *l, pv_err *err) {
  if (l->devices == RESOURCE_DEVICES_UNSET)
    return 0;
  struct bpf_insn prog[CGROUP_DEVICES_BPF_MAX(CGROUP_DEVICES_DEFAULT_MAX)];
  int n = 0;
  if (l->devices == RESOURCE_DEVICES_DEFAULT) {
    size_t nrules;
    const cgroup_device_rule *rules = cgroup_devices_default(&nrules);
    n = nrules <= CGROUP_DEVICES_DEFAULT_MAX
            ? cgroup_devices_bpf(rules, nrules, prog, sizeof prog / sizeof prog[0])
            : -1;
    if (n < 0)
      return pv_err_sys(err, "device allow-list");
  }
  if (cg->rm->set_devices(cg->dirs[0].path, prog, (size_t)n, err) < 0)
    return pv_err_wrap(err, "device allow-list");
  return 0;
}

static int v2_prepare(cgroup_handle *cg, const resource_limits *limits, pv_err *err) {
  if (enable_path(cg, wanted(limits), err) < 0 || set_devices(cg, limits, err) < 0)
    return -1;
  /* Adopted while frozen: a kill that froze it did not live to thaw it.
   * podvisor has no pause of its own, so the freeze can only be that. */
  const char *dir = cg->dirs[0].path;
  if (is_frozen_by_request(dir) && cgroup_write(dir, "cgroup.freeze", "0", err) < 0)
    return -1;
  return 0;
}

static int write_cpu(const char *dir, const resource_limits *l, pv_err *err) {
  char v[64];
  if (l->cpu_shares != 0) {
    snprintf(v, sizeof v, "%" PRIu64, cgroup_shares_to_weight(l->cpu_shares));
    if (cgroup_write(dir, "cpu.weight", v, err) < 0)
      return -1;
  }
  if (l->cpu_quota_us == 0 && l->cpu_period_us == 0)
    return 0;
  uint64_t period = l->cpu_period_us != 0 ? l->cpu_period_us : 100000;
  char quota[32];
  if (l->cpu_quota_us != 0) {
    cgroup_fmt_limit(quota, sizeof quota, l->cpu_quota_us, "max");
  } else {
    /* Only the period changes: keep the quota in force. */
    char cur[64];
    if (cgroup_read(dir, "cpu.max", cur, sizeof cur, err) < 0)
      return -1;
    snprintf(quota, sizeof quota, "%.*s", (int)strcspn(cur, " \n"), cur);
  }
  snprintf(v, sizeof v, "%s %" PRIu64, quota, period);
  return cgroup_write(dir, "cpu.max", v, err);
}

static int write_memory(const char *dir, const resource_limits *l, pv_err *err) {
  char v[32];
  if (l->memory_limit != 0) {
    cgroup_fmt_limit(v, sizeof v, l->memory_limit, "max");
    if (cgroup_write(dir, "memory.max", v, err) < 0)
      return -1;
  }
  if (l->memory_swap == 0)
    return 0;
  if (!cgroup_file_exists(dir, "memory.swap.max")) {
    if (l->memory_swap == l->memory_limit || l->memory_swap == -1)
      return 0;
    return pv_err_set(err, ENOTSUP,
                      "memory+swap limit %" PRId64 ": %s/memory.swap.max is missing (no swap accounting)",
                      l->memory_swap, dir);
  }
  /* resource.c checked memory_swap >= memory_limit > 0 unless swap is -1. */
  int64_t swap = l->memory_swap < 0 || l->memory_limit < 0 ? -1 : l->memory_swap - l->memory_limit;
  cgroup_fmt_limit(v, sizeof v, swap, "max");
  return cgroup_write(dir, "memory.swap.max", v, err);
}

static int v2_set_limits(cgroup_handle *cg, const resource_limits *l, pv_err *err) {
  const char *dir = cg->dirs[0].path;
  if (cgroup_check_available(cg, l, err) < 0)
    return -1;
  if (write_cpu(dir, l, err) < 0 || write_memory(dir, l, err) < 0)
    return -1;
  if (cgroup_write_pids(dir, l, err) < 0)
    return -1;
  /* A live update may be the first to ask for a cpuset. */
  if (cgroup_wants_cpuset(l) && (enable_path(cg, CG_CPUSET, err) < 0 || cgroup_write_cpuset(dir, l, err) < 0))
    return -1;
  return 0;
}

/* Sums the rbytes/wbytes/rios/wios fields of every line of io.stat. */
static int read_io_stat(const char *dir, resource_stats *st, pv_err *err) {
  char buf[8192];
  if (cgroup_read(dir, "io.stat", buf, sizeof buf, err) < 0)
    return -1;
  static const char *const keys[] = {"rbytes=", "wbytes=", "rios=", "wios="};
  uint64_t *outs[] = {&st->io_read_bytes, &st->io_write_bytes, &st->io_read_ops, &st->io_write_ops};
  for (char *tok = buf; *tok != '\0';) {
    tok += strspn(tok, " \n");
    size_t len = strcspn(tok, " \n");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      size_t kl = strlen(keys[k]);
      if (len > kl && strncmp(tok, keys[k], kl) == 0)
        *outs[k] += strtoull(tok + kl, NULL, 10);
    }
    tok += len;
  }
  return 0;
}

static int v2_get_stats(cgroup_handle *cg, resource_stats *st, pv_err *err) {
  const char *dir = cg->dirs[0].path;
  uint64_t usec = 0;
  if (cgroup_read_key(dir, "cpu.stat", "usage_usec", &usec, err) < 0)
    return -1;
  st->cpu_usage_ns = usec * 1000;
  /* Without the memory controller (not delegated) there is no usage. */
  int r = cgroup_read_u64(dir, "memory.current", &st->memory_bytes, err);
  if ((cg->rm->v2_avail & CG_MEMORY) ? r < 0 : cgroup_optional(r, err) < 0)
    return -1;
  if (cgroup_optional(cgroup_read_u64(dir, "memory.peak", &st->memory_max_bytes, err), err) < 0 ||
      cgroup_optional(cgroup_read_u64(dir, "pids.current", &st->pids_current, err), err) < 0 ||
      cgroup_optional(cgroup_read_key(dir, "memory.events", "oom_kill", &st->oom_kills, err), err) < 0 ||
      cgroup_optional(read_io_stat(dir, st, err), err) < 0)
    return -1;
  return 0;
}

/* Every live directory of the handle: one moved aside by
 * resource_manager_move_cgroup() has two until the old one is removed. */
static int v2_kill_all(cgroup_handle *cg, int sig, pv_err *err) {
  if (sig != SIGKILL)
    return 0;
  for (size_t i = 0; i < cg->ndirs; i++)
    if (!cg->dirs[i].removed && !cgroup_file_exists(cg->dirs[i].path, "cgroup.kill"))
      return 0;
  for (size_t i = 0; i < cg->ndirs; i++)
    if (!cg->dirs[i].removed && cgroup_write(cg->dirs[i].path, "cgroup.kill", "1", err) < 0 &&
        errno != ENOENT)
      return -1;
  return 1;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until cgroup.events of dir says "frozen 1", at most until the
 * deadline: 1 when frozen, 0 when not (yet), -1 when the file cannot be
 * read (the cgroup is gone). */
static int wait_frozen(const char *dir, int64_t deadline) {
  char path[PATH_MAX];
  if (pv_path(path, sizeof path, "%s/cgroup.events", dir) < 0)
    return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int r = 0;
  for (;;) {
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      r = -1;
      break;
    }
    buf[n] = '\0';
    const char *f = strstr(buf, "frozen ");
    if (f != NULL && (f == buf || f[-1] == '\n') && f[7] == '1') {
      r = 1;
      break;
    }
    int64_t left = deadline - now_ms();
    if (left <= 0)
      break;
    /* kernfs wakes POLLPRI on each change; a plain file (a fake tree) is
     * always ready, so the wait is capped and paced instead. */
    struct pollfd p = {.fd = fd, .events = POLLPRI};
    int pr = poll(&p, 1, left < 10 ? (int)left : 10);
    if (pr > 0 && !(p.revents & (POLLPRI | POLLERR)))
      nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return r;
}

static int v2_freeze(cgroup_handle *cg, bool on, pv_err *err) {
  size_t done = 0;
  for (size_t i = 0; i < cg->ndirs; i++) {
    const char *dir = cg->dirs[i].path;
    if (cg->dirs[i].removed)
      continue;
    if (on) {
      /* No cgroup.freeze (before 5.2), or frozen already and not by us:
       * leave it to whoever did it. */
      char v[8];
      bool readable = cgroup_read(dir, "cgroup.freeze", v, sizeof v, NULL) == 0;
      if (done == 0 && (!readable || v[0] == '1'))
        return 0;
      if (!readable)
        continue;
    }
    if (cgroup_write(dir, "cgroup.freeze", on ? "1" : "0", err) < 0) {
      if (errno == ENOENT)
        continue; /* no freezer, or removed meanwhile */
      if (on) {
        int saved = errno;
        for (size_t k = 0; k < i; k++)
          if (!cg->dirs[k].removed)
            (void)cgroup_write(cg->dirs[k].path, "cgroup.freeze", "0", NULL);
        errno = saved;
      }
      return -1;
    }
    done++;
  }
  if (!on || done == 0)
    return 0;
  int64_t deadline = now_ms() + FREEZE_WAIT_MS;
  for (size_t i = 0; i < cg->ndirs; i++)
    if (!cg->dirs[i].removed)
      (void)wait_frozen(cg->dirs[i].path, deadline);
  return 1;
}

const cgroup_ops cgroup_v2_ops = {
    .detect = v2_detect,
    .select = v2_select,
    .prepare = v2_prepare,
    .set_limits = v2_set_limits,
    .get_stats = v2_get_stats,
    .kill_all = v2_kill_all,
    .freeze = v2_freeze,
};
