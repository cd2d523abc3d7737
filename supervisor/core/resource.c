/*
 * resource.c - the resource_manager_* API: backend choice and everything the
 * cgroup v1 and v2 backends have in common.
 *
 * Backend choice (resource_manager_init): the root is cgroup2 when statfs
 * reports CGROUP2_SUPER_MAGIC or, for a fake tree of plain files, when it
 * holds a cgroup.controllers file.  Anything else is v1: one hierarchy per
 * controller (or a combined "cpu,cpuacct") below the root.  A hybrid host's
 * <root>/unified cgroup2 is never used (see cgroup_v1.c).
 *
 * Directory ownership, the policy destroy follows:
 *   - the leaf (the cgroup itself) is always removed;
 *   - then every ancestor below the manager's parent ("podvisor" unless
 *     resource_manager_set_parent said otherwise) is removed while it is
 *     empty: with the layout <parent>/<pod>/<container> the pod directory
 *     goes with its last container.  It is removed even when another handle
 *     created it (the pod's first container may be destroyed first), and an
 *     rmdir that fails because a sibling is still there (EBUSY, ENOTEMPTY)
 *     ends the walk quietly;
 *   - the parent is shared by every pod and every test running at the same
 *     time; removing it would race their mkdir, so it stays, and so does
 *     everything above it (a delegated cgroup, a slice: not podvisor's).
 *     A cgroup that is not below the parent (one of an instance that ran
 *     under another parent) loses only its own directory;
 *   - a failed create removes exactly the directories it made (recorded per
 *     hierarchy in cg_dir.nexisting), nothing that existed before.
 * A concurrent destroy can remove a parent between our EEXIST and the next
 * mkdir; create then walks the path again (bounded).
 *
 * Kernel behaviour relied on here: rmdir of a cgroup that still has tasks or
 * child cgroups fails with EBUSY, on v1 and v2.  podvisor reports it and does
 * not retry: the caller destroys after it has reaped the processes (podman's
 * kube down spent seconds polling rmdir; we don't).  On this 6.18 kernel an
 * rmdir right after waitpid() of the last task succeeded in 200 of 200 tries.
 */
#include "supervisor/core/resource.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/cgroup_internal.h"
#include "supervisor/core/util.h"

/* Passes over cgroup.procs in the kill walk: each pass signals the processes
 * that appeared since the previous one (children forked before the signal
 * landed).  A fork bomb is held by pids.max, so a few passes are enough. */
#define KILL_PASSES 16
/* Walks of the path when a concurrent destroy removes a parent under us. */
#define MKDIR_WALKS 3

/* ---- manager ---- */

void resource_limits_init(resource_limits *l) {
  memset(l, 0, sizeof *l);
}

int resource_manager_init(resource_manager **out, const char *root, pv_err *err) {
  /* Only the real tree is the one /proc/self/cgroup speaks of. */
  char *text = NULL;
  if (root == NULL && pv_read_file("/proc/self/cgroup", &text, NULL, NULL) < 0)
    text = NULL;
  int r = resource_manager_init_self(out, root, text, err);
  free(text);
  return r;
}

int resource_manager_init_self(resource_manager **out, const char *root, const char *self_text, pv_err *err) {
  if (root == NULL)
    root = CGROUP_DEFAULT_ROOT;
  resource_manager *rm = calloc(1, sizeof *rm);
  if (rm == NULL || (rm->root = strdup(root)) == NULL ||
      (rm->parent = strdup(RESOURCE_DEFAULT_PARENT)) == NULL) {
    if (rm != NULL)
      free(rm->root);
    free(rm);
    return pv_err_sys(err, "cgroup root %s", root);
  }
  rm->self_text = self_text;
  rm->set_devices = cgroup_bpf_set_devices;
  /* Strip trailing slashes so that joined paths read well. */
  for (size_t n = strlen(rm->root); n > 1 && rm->root[n - 1] == '/'; n--)
    rm->root[n - 1] = '\0';
  struct stat st;
  int bad = stat(rm->root, &st) < 0 ? errno : (S_ISDIR(st.st_mode) ? 0 : ENOTDIR);
  if (bad != 0) {
    pv_err_set(err, bad, "cgroup root %s: %s", rm->root, strerror(bad));
    resource_manager_cleanup(rm);
    errno = bad;
    return -1;
  }
  bool v2 = cgroup_dir_is_v2(rm->root);
  rm->version = v2 ? CGROUP_V2 : CGROUP_V1;
  rm->ops = v2 ? &cgroup_v2_ops : &cgroup_v1_ops;
  int r = rm->ops->detect(rm, err);
  rm->self_text = NULL;
  if (r < 0) {
    pv_err_wrap(err, "cgroup root %s", rm->root);
    resource_manager_cleanup(rm);
    return -1;
  }
  *out = rm;
  return 0;
}

void resource_manager_cleanup(resource_manager *rm) {
  if (rm == NULL)
    return;
  for (size_t i = 0; i < rm->nhier; i++)
    free(rm->hier[i].mount);
  free(rm->root);
  free(rm->parent);
  free(rm->self);
  free(rm->delegated);
  free(rm);
}

cgroup_version resource_manager_version(const resource_manager *rm) {
  return rm->version;
}

const char *resource_manager_root(const resource_manager *rm) {
  return rm->root;
}

/* ---- handles ---- */

/* A relative path of plain components: no leading '/', no "", ".", "..". */
static int count_components(const char *rel) {
  if (rel == NULL || *rel == '\0' || *rel == '/' || strlen(rel) > 512)
    return -1;
  int n = 0;
  for (const char *p = rel; *p != '\0';) {
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
      return -1;
    n++;
    p += len;
    if (*p == '/')
      p++;
    if (e != NULL && *p == '\0')
      return -1;
  }
  return n;
}

int resource_manager_check_parent(const char *parent, pv_err *err) {
  if (parent == NULL || strlen(parent) > RESOURCE_PARENT_MAX || count_components(parent) < 0)
    return pv_err_set(err, EINVAL,
                      "cgroup parent '%.*s': not a relative path of at most %d bytes without empty, '.' or "
                      "'..' components (e.g. podvisor or system.slice/pods)",
                      RESOURCE_PARENT_MAX + 8, parent != NULL ? parent : "", RESOURCE_PARENT_MAX);
  return 0;
}

int resource_manager_set_parent(resource_manager *rm, const char *parent, pv_err *err) {
  if (parent == NULL)
    parent = RESOURCE_DEFAULT_PARENT;
  if (resource_manager_check_parent(parent, err) < 0)
    return -1;
  char *p = strdup(parent);
  if (p == NULL)
    return pv_err_sys(err, "cgroup parent %s", parent);
  free(rm->parent);
  rm->parent = p;
  return 0;
}

const char *resource_manager_parent(const resource_manager *rm) {
  return rm->parent;
}

static cgroup_handle *handle_new(resource_manager *rm, const char *relpath, unsigned sel, pv_err *err) {
  int ncomp = count_components(relpath);
  if (ncomp < 0) {
    pv_err_set(err, EINVAL, "cgroup '%s': invalid path (relative, no empty, '.' or '..' parts)",
               relpath ? relpath : "(null)");
    return NULL;
  }
  cgroup_handle *cg = calloc(1, sizeof *cg);
  if (cg == NULL || (cg->relpath = strdup(relpath)) == NULL) {
    free(cg);
    pv_err_sys(err, "cgroup %s", relpath);
    return NULL;
  }
  cg->rm = rm;
  cg->ncomp = ncomp;
  for (size_t i = 0; i < rm->nhier; i++) {
    if (!(sel & (1u << i)))
      continue;
    cg_dir *d = &cg->dirs[cg->ndirs];
    size_t len = strlen(rm->hier[i].mount) + strlen(relpath) + 2;
    if ((d->path = malloc(len)) == NULL) {
      pv_err_sys(err, "cgroup %s", relpath);
      resource_manager_close_cgroup(cg);
      return NULL;
    }
    snprintf(d->path, len, "%s/%s", rm->hier[i].mount, relpath);
    d->hier = &rm->hier[i];
    d->nexisting = ncomp;
    cg->ndirs++;
  }
  return cg;
}

void resource_manager_close_cgroup(cgroup_handle *cg) {
  if (cg == NULL)
    return;
  for (size_t i = 0; i < cg->ndirs; i++)
    free(cg->dirs[i].path);
  free(cg->relpath);
  free(cg);
}

void cgroup_ancestor(const cg_dir *d, int depth, char *buf, size_t size) {
  snprintf(buf, size, "%s", d->path);
  char *p = buf + strlen(d->hier->mount); /* the '/' before the first component */
  for (int i = 0; i < depth; i++) {
    char *slash = strchr(p + 1, '/');
    p = slash != NULL ? slash : p + strlen(p);
  }
  *p = '\0';
}

/* mkdir -p of relpath under one hierarchy, recording what already existed. */
static int make_dir(cgroup_handle *cg, cg_dir *d, pv_err *err) {
  char path[PATH_MAX];
  /* Usually the pod directory exists: one mkdir instead of a walk. */
  if (mkdir(d->path, 0755) == 0) {
    d->nexisting = cg->ncomp - 1;
    return 0;
  }
  if (errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return pv_err_sys(err, "mkdir %s", d->path);
  for (int walk = 0; walk < MKDIR_WALKS; walk++) {
    int depth;
    for (depth = 1; depth <= cg->ncomp; depth++) {
      cgroup_ancestor(d, depth, path, sizeof path);
      if (mkdir(path, 0755) == 0) {
        if (depth - 1 < d->nexisting)
          d->nexisting = depth - 1;
        continue;
      }
      if (errno == EEXIST)
        continue;
      if (errno == ENOENT && depth > 1)
        break; /* a concurrent destroy removed a parent: walk again */
      return pv_err_sys(err, "mkdir %s", path);
    }
    if (depth > cg->ncomp)
      return 0;
  }
  return pv_err_sys(err, "mkdir %s", path);
}

/* Removes what make_dir created, leaf first.  Errors are ignored: this runs
 * on a path that is already failing, and the directories hold no task. */
static void unmake_dir(cgroup_handle *cg, cg_dir *d) {
  char path[PATH_MAX];
  for (int depth = cg->ncomp; depth > d->nexisting; depth--) {
    cgroup_ancestor(d, depth, path, sizeof path);
    if (rmdir(path) < 0 && errno != ENOENT)
      break;
  }
  d->nexisting = cg->ncomp;
}

static int check_limits(const char *rel, const resource_limits *l, pv_err *err) {
  if (l->cpu_shares != 0 && (l->cpu_shares < 2 || l->cpu_shares > 262144))
    return pv_err_set(err, EINVAL, "cgroup %s: cpu shares %" PRIu64 " out of range 2..262144", rel,
                      l->cpu_shares);
  if (l->cpu_quota_us != 0 && l->cpu_quota_us != -1 && l->cpu_quota_us < 1000)
    return pv_err_set(err, EINVAL, "cgroup %s: cpu quota %" PRId64 "us below 1000us", rel, l->cpu_quota_us);
  if (l->cpu_period_us != 0 && (l->cpu_period_us < 1000 || l->cpu_period_us > 1000000))
    return pv_err_set(err, EINVAL, "cgroup %s: cpu period %" PRIu64 "us out of range 1000..1000000", rel,
                      l->cpu_period_us);
  if (l->memory_swap > 0 && l->memory_limit <= 0)
    return pv_err_set(err, EINVAL, "cgroup %s: a memory+swap limit needs a memory limit", rel);
  if (l->memory_swap > 0 && l->memory_swap < l->memory_limit)
    return pv_err_set(err, EINVAL,
                      "cgroup %s: memory+swap limit %" PRId64 " is below the memory limit %" PRId64, rel,
                      l->memory_swap, l->memory_limit);
  if (l->memory_limit < -1 || l->memory_swap < -1 || l->pids_limit < -1 || l->cpu_quota_us < -1)
    return pv_err_set(err, EINVAL, "cgroup %s: negative limit other than -1 (unlimited)", rel);
  if (l->devices != RESOURCE_DEVICES_UNSET && l->devices != RESOURCE_DEVICES_DEFAULT &&
      l->devices != RESOURCE_DEVICES_ALL)
    return pv_err_set(err, EINVAL, "cgroup %s: unknown device policy %d", rel, (int)l->devices);
  if (memchr(l->cpuset_cpus, '\0', sizeof l->cpuset_cpus) == NULL ||
      memchr(l->cpuset_mems, '\0', sizeof l->cpuset_mems) == NULL)
    return pv_err_set(err, EINVAL, "cgroup %s: cpuset string not terminated", rel);
  return 0;
}

int resource_manager_create_cgroup(resource_manager *rm, const char *relpath, const resource_limits *limits,
                                   cgroup_handle **out, pv_err *err) {
  resource_limits none;
  if (limits == NULL) {
    resource_limits_init(&none);
    limits = &none;
  }
  if (check_limits(relpath ? relpath : "(null)", limits, err) < 0)
    return -1;
  cgroup_handle *cg = handle_new(rm, relpath, rm->ops->select(rm, limits), err);
  if (cg == NULL)
    return -1;
  if (cg->ndirs == 0) {
    pv_err_set(err, ENOENT, "cgroup %s: no usable hierarchy under %s", relpath, rm->root);
    resource_manager_close_cgroup(cg);
    return -1;
  }
  size_t made = 0;
  int r = 0;
  for (; made < cg->ndirs && r == 0; made++)
    r = make_dir(cg, &cg->dirs[made], err);
  if (r == 0)
    r = rm->ops->prepare(cg, limits, err);
  if (r == 0)
    r = rm->ops->set_limits(cg, limits, err);
  if (r < 0) {
    int saved = errno;
    pv_err_wrap(err, "cgroup %s", relpath);
    for (size_t i = made; i-- > 0;)
      unmake_dir(cg, &cg->dirs[i]);
    resource_manager_close_cgroup(cg);
    errno = saved;
    return -1;
  }
  *out = cg;
  return 0;
}

bool resource_manager_cgroup_is_new(const cgroup_handle *cg) {
  for (size_t i = 0; i < cg->ndirs; i++)
    if (cg->dirs[i].nexisting >= cg->ncomp)
      return false;
  return cg->ndirs > 0;
}

int resource_manager_open_cgroup(resource_manager *rm, const char *relpath, cgroup_handle **out,
                                 pv_err *err) {
  cgroup_handle *cg = handle_new(rm, relpath, rm->ops->select(rm, NULL), err);
  if (cg == NULL)
    return -1;
  /* Keep only the hierarchies where the cgroup exists (v1 cpuset is joined
   * only by cgroups that have cpuset limits). */
  size_t kept = 0;
  for (size_t i = 0; i < cg->ndirs; i++) {
    struct stat st;
    if (stat(cg->dirs[i].path, &st) == 0 && S_ISDIR(st.st_mode))
      cg->dirs[kept++] = cg->dirs[i];
    else
      free(cg->dirs[i].path);
  }
  cg->ndirs = kept;
  if (kept == 0) {
    pv_err_set(err, ENOENT, "cgroup %s: not found under %s", relpath, rm->root);
    resource_manager_close_cgroup(cg);
    return -1;
  }
  *out = cg;
  return 0;
}

int resource_manager_update(cgroup_handle *cg, const resource_limits *limits, pv_err *err) {
  if (check_limits(cg->relpath, limits, err) < 0)
    return -1;
  if (cg->rm->ops->set_limits(cg, limits, err) < 0)
    return pv_err_wrap(err, "cgroup %s", cg->relpath);
  return 0;
}

static int write_procs(const char *dir, const char *rel, pid_t pid, pv_err *err) {
  char v[24];
  snprintf(v, sizeof v, "%d", (int)pid);
  if (cgroup_write(dir, "cgroup.procs", v, err) < 0)
    return pv_err_wrap(err, "cgroup %s", rel);
  return 0;
}

int resource_manager_add_process(cgroup_handle *cg, pid_t pid, pv_err *err) {
  for (size_t i = 0; i < cg->ndirs; i++)
    if (write_procs(cg->dirs[i].path, cg->relpath, pid, err) < 0)
      return -1;
  return 0;
}

int resource_manager_remove_process(cgroup_handle *cg, pid_t pid, pv_err *err) {
  /* In a delegated subtree the process goes to <delegated>/supervisor,
   * where the launcher lives: the root is not podvisor's to write. */
  char sup[PATH_MAX];
  bool nested = cgroup_first_writable(cg) > 0;
  if (nested && pv_path(sup, sizeof sup, "%s/%s/supervisor", cg->rm->root, cg->rm->delegated) < 0)
    return pv_err_sys(err, "cgroup %s", cg->relpath);
  for (size_t i = 0; i < cg->ndirs; i++)
    if (write_procs(nested ? sup : cg->dirs[i].hier->mount, cg->relpath, pid, err) < 0)
      return -1;
  return 0;
}

int resource_manager_get_stats(cgroup_handle *cg, resource_stats *st, pv_err *err) {
  memset(st, 0, sizeof *st);
  if (cg->rm->ops->get_stats(cg, st, err) < 0)
    return pv_err_wrap(err, "cgroup %s", cg->relpath);
  return 0;
}

char *cgroup_read_procs(const char *dir, bool *gone, pv_err *err) {
  char path[PATH_MAX];
  char *buf = NULL;
  *gone = false;
  if (pv_path(path, sizeof path, "%s/cgroup.procs", dir) < 0) {
    pv_err_sys(err, "%s/cgroup.procs", dir);
    return NULL;
  }
  if (pv_read_file(path, &buf, NULL, err) < 0) {
    *gone = errno == ENOENT;
    return NULL;
  }
  return buf;
}

static bool seen_before(const pid_t *seen, size_t n, pid_t pid) {
  for (size_t i = 0; i < n; i++)
    if (seen[i] == pid)
      return true;
  return false;
}

/* Signals every pid of buf not signalled yet; returns how many were new. */
static long signal_new(char *buf, int sig, pid_t **seen, size_t *nseen, size_t *cap, pv_err *err) {
  long fresh = 0;
  for (char *p = buf; *p != '\0';) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p) {
      p++;
      continue;
    }
    p = end;
    pid_t pid = (pid_t)v;
    if (pid <= 0 || seen_before(*seen, *nseen, pid))
      continue;
    if (*nseen == *cap) {
      size_t nc = *cap ? *cap * 2 : 64;
      pid_t *ns = realloc(*seen, nc * sizeof *ns);
      if (ns == NULL)
        return pv_err_sys(err, "kill");
      *seen = ns;
      *cap = nc;
    }
    (*seen)[(*nseen)++] = pid;
    fresh++;
    if (kill(pid, sig) < 0 && errno != ESRCH)
      return pv_err_sys(err, "kill %d with signal %d", (int)pid, sig);
  }
  return fresh;
}

/* Signals every pid in cgroup.procs of every live directory, pass after
 * pass until a pass finds no new pid. */
static int kill_walk(cgroup_handle *cg, int sig, pv_err *err) {
  /* pids come from cgroup.procs, which only lists live members, so a reused
   * pid would have to be recycled between the read and the kill(). */
  pid_t *seen = NULL;
  size_t nseen = 0, cap = 0;
  int r = 0;
  for (int pass = 0; pass < KILL_PASSES && r == 0; pass++) {
    long fresh = 0;
    for (size_t i = 0; i < cg->ndirs && r == 0; i++) {
      /* A removed directory's path may already belong to a new cgroup
       * (a restart under the same path): never signal its processes. */
      if (cg->dirs[i].removed)
        continue;
      bool gone;
      char *buf = cgroup_read_procs(cg->dirs[i].path, &gone, err);
      if (buf == NULL) {
        r = gone ? 0 : -1;
        continue;
      }
      long n = signal_new(buf, sig, &seen, &nseen, &cap, err);
      free(buf);
      if (n < 0)
        r = -1;
      else
        fresh += n;
    }
    if (fresh == 0)
      break;
  }
  free(seen);
  return r;
}

int resource_manager_kill(cgroup_handle *cg, int sig, pv_err *err) {
  const cgroup_ops *ops = cg->rm->ops;
  if (ops->kill_all != NULL) {
    int r = ops->kill_all(cg, sig, err);
    if (r != 0)
      return r < 0 ? pv_err_wrap(err, "cgroup %s", cg->relpath) : 0;
  }
  /* A freezer that fails leaves nothing frozen: walk unfrozen then. */
  int frozen = ops->freeze != NULL ? ops->freeze(cg, true, NULL) : 0;
  int r = kill_walk(cg, sig, err);
  if (frozen > 0) {
    pv_err terr;
    /* A thaw that fails is tried once more: a cgroup left frozen would
     * hang every process in it. */
    if (ops->freeze(cg, false, &terr) < 0 && ops->freeze(cg, false, &terr) < 0 && r == 0) {
      if (err != NULL)
        *err = terr;
      errno = terr.code;
      r = -1;
    }
  }
  if (r < 0)
    return pv_err_wrap(err, "cgroup %s", cg->relpath);
  return 0;
}

bool resource_manager_is_empty(cgroup_handle *cg) {
  for (size_t i = 0; i < cg->ndirs; i++) {
    if (cg->dirs[i].removed)
      continue;
    bool gone;
    char *buf = cgroup_read_procs(cg->dirs[i].path, &gone, NULL);
    if (buf == NULL) {
      if (gone)
        continue;
      return false; /* cannot tell: say "not empty" so nobody tears it down */
    }
    bool any = strpbrk(buf, "0123456789") != NULL;
    free(buf);
    if (any)
      return false;
  }
  return true;
}

/* The depth of the manager's parent when cg lies below it, else the
 * cgroup's own depth: nothing above a cgroup outside the parent is ours. */
static int parent_depth(const cgroup_handle *cg) {
  const char *parent = cg->rm->parent;
  size_t n = strlen(parent);
  if (strncmp(cg->relpath, parent, n) != 0 || cg->relpath[n] != '/')
    return cg->ncomp;
  return count_components(parent);
}

/* rmdir of the empty ancestors below the parent (see the header). */
static void prune_parents(cgroup_handle *cg, cg_dir *d) {
  char path[PATH_MAX];
  int keep = parent_depth(cg);
  for (int depth = cg->ncomp - 1; depth > keep; depth--) {
    cgroup_ancestor(d, depth, path, sizeof path);
    if (rmdir(path) < 0 && errno != ENOENT)
      return; /* EBUSY / ENOTEMPTY: a sibling still lives there */
  }
}

int resource_manager_destroy_cgroup(cgroup_handle *cg, pv_err *err) {
  int failed = 0;
  for (size_t i = 0; i < cg->ndirs; i++) {
    cg_dir *d = &cg->dirs[i];
    if (d->removed)
      continue;
    if (rmdir(d->path) < 0 && errno != ENOENT) {
      if (!failed) {
        if (errno == EBUSY)
          pv_err_set(err, EBUSY, "cgroup %s: rmdir %s: still has processes or child cgroups", cg->relpath,
                     d->path);
        else
          pv_err_sys(err, "cgroup %s: rmdir %s", cg->relpath, d->path);
      }
      failed = failed ? failed : errno;
      continue;
    }
    d->removed = true;
    prune_parents(cg, d);
  }
  if (failed) {
    errno = failed;
    return -1;
  }
  resource_manager_close_cgroup(cg);
  return 0;
}

const char *cgroup_handle_path(const cgroup_handle *cg) {
  return cg->relpath;
}

const char *cgroup_handle_dir(const cgroup_handle *cg, const char *controller) {
  if (cg->rm->version == CGROUP_V2)
    return cg->ndirs > 0 ? cg->dirs[0].path : NULL;
  if (controller == NULL)
    return NULL;
  unsigned bit = cgroup_ctrl_bit(controller, strlen(controller));
  return bit ? cgroup_dir_for(cg, bit) : NULL;
}
