/*
 * cgroup_deleg.c - running inside a delegated cgroup v2 subtree, as a
 * systemd service with Delegate=yes does (resource.h says what for).
 *
 * What systemd does, and what podvisor relies on:
 *   - a unit with Delegate=yes gets its own cgroup, and its processes may
 *     create, configure and remove cgroups below it; systemd marks that
 *     cgroup with the extended attribute trusted.delegate = "1" (and, since
 *     v253, user.delegate = "1" for readers without CAP_SYS_ADMIN);
 *   - with DelegateSubgroup=supervisor (v254) the service's processes start
 *     in <unit>/supervisor instead, so the unit cgroup itself holds no
 *     process and its subtree_control can be written;
 *   - cgroup v2's "no internal processes" rule: a cgroup with processes in
 *     it cannot enable controllers for its children (EBUSY), so a daemon
 *     started in the delegated cgroup itself first moves to a child
 *     (<X>/supervisor) before any pod cgroup gets controllers;
 *   - writing "0" to a cgroup.procs moves the writing process, with all of
 *     its threads.
 * Nothing above the delegated cgroup is podvisor's: subtree_control is
 * written from the delegated cgroup down only (cgroup_first_writable), and
 * a controller it was not given makes the limit that needs it fail
 * (cgroup_check_available) instead of being enabled higher up.
 *
 * Detection runs at every resource_manager_init of a v2 tree, from the
 * process's /proc/self/cgroup; its text is a parameter (rm->self_text) so
 * that unit tests can describe a process in a fake tree.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "supervisor/core/cgroup_internal.h"
#include "supervisor/core/util.h"

/* The subgroup a launcher moves to, as systemd's DelegateSubgroup names it. */
#define SUPERVISOR_LEAF "supervisor"

int cgroup_self_path(const char *text, char *out, size_t size) {
  for (const char *line = text; line != NULL && *line != '\0';) {
    const char *end = strchr(line, '\n');
    size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
    if (len >= 3 && strncmp(line, "0::", 3) == 0) {
      const char *p = line + 3;
      len -= 3;
      if (len == 0 || p[0] != '/') {
        errno = EINVAL;
        return -1;
      }
      /* Relative to the root: no leading '/', and the root is "". */
      p++;
      len--;
      while (len > 0 && p[len - 1] == '/')
        len--;
      if (len >= size) {
        errno = ENAMETOOLONG;
        return -1;
      }
      memcpy(out, p, len);
      out[len] = '\0';
      return 0;
    }
    line = end != NULL ? end + 1 : NULL;
  }
  errno = ENOENT;
  return -1;
}

static bool xattr_is_one(const char *dir, const char *name) {
  char v[8];
  ssize_t n = getxattr(dir, name, v, sizeof v);
  return n == 1 && v[0] == '1';
}

bool cgroup_dir_is_delegated(const char *dir) {
  return xattr_is_one(dir, "trusted.delegate") || xattr_is_one(dir, "user.delegate");
}

static bool rel_is_delegated(const resource_manager *rm, const char *rel) {
  char dir[PATH_MAX];
  if (rel[0] == '\0' || pv_path(dir, sizeof dir, "%s/%s", rm->root, rel) < 0)
    return false; /* the root is never "delegated": it is the whole tree */
  return cgroup_dir_is_delegated(dir);
}

int cgroup_detect_delegation(resource_manager *rm, pv_err *err) {
  char own[PATH_MAX];
  if (rm->self_text == NULL || cgroup_self_path(rm->self_text, own, sizeof own) < 0)
    return 0; /* not known: behave as a process outside any delegation */
  if ((rm->self = strdup(own)) == NULL)
    return pv_err_sys(err, "cgroup %s", own);
  /* Already in <X>/supervisor (DelegateSubgroup=supervisor, or moved
   * there by an earlier launcher): X is the delegated cgroup. */
  char *slash = strrchr(own, '/');
  if (slash != NULL && strcmp(slash + 1, SUPERVISOR_LEAF) == 0) {
    *slash = '\0';
    if (rel_is_delegated(rm, own))
      return (rm->delegated = strdup(own)) != NULL ? 0 : pv_err_sys(err, "cgroup %s", own);
    *slash = '/';
  }
  if (rel_is_delegated(rm, own) && (rm->delegated = strdup(own)) == NULL)
    return pv_err_sys(err, "cgroup %s", own);
  return 0;
}

const char *resource_manager_delegated(const resource_manager *rm) {
  return rm->delegated;
}

int cgroup_check_available(const cgroup_handle *cg, const resource_limits *l, pv_err *err) {
  const resource_manager *rm = cg->rm;
  static const struct {
    unsigned bit;
    const char *ctrl;
  } ctrls[] = {{CG_CPU, "cpu"}, {CG_MEMORY, "memory"}, {CG_PIDS, "pids"}, {CG_CPUSET, "cpuset"}};
  unsigned need = 0;
  if (l->cpu_shares != 0 || l->cpu_quota_us != 0 || l->cpu_period_us != 0)
    need |= CG_CPU;
  if (l->memory_limit != 0 || l->memory_swap != 0)
    need |= CG_MEMORY;
  if (l->pids_limit != 0)
    need |= CG_PIDS;
  if (cgroup_wants_cpuset(l))
    need |= CG_CPUSET;
  unsigned missing = need & ~rm->v2_avail;
  for (size_t i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++) {
    if (!(missing & ctrls[i].bit))
      continue;
    if (rm->delegated != NULL && cgroup_first_writable(cg) > 0)
      return pv_err_set(err, ENOTSUP,
                        "a %s limit needs the %s controller, which was not delegated to podvisor (not in "
                        "%s/%s/cgroup.controllers)",
                        ctrls[i].ctrl, ctrls[i].ctrl, rm->root, rm->delegated);
    return pv_err_set(err, ENOTSUP, "a %s limit needs the %s controller, which %s/cgroup.controllers lacks",
                      ctrls[i].ctrl, ctrls[i].ctrl, rm->root);
  }
  return 0;
}

int resource_manager_nest(resource_manager *rm, char *out, size_t size, pv_err *err) {
  const char *x = rm->delegated;
  if (x == NULL) {
    if (pv_path(out, size, "%s", rm->parent) < 0)
      return pv_err_sys(err, "cgroup parent %s", rm->parent);
    return 0;
  }
  char sup[PATH_MAX], parent[PATH_MAX];
  if (pv_path(sup, sizeof sup, "%s/%s/%s", rm->root, x, SUPERVISOR_LEAF) < 0 ||
      pv_path(parent, sizeof parent, "%s/%s", x, RESOURCE_DEFAULT_PARENT) < 0)
    return pv_err_sys(err, "delegated cgroup %s", x);
  bool there = rm->self != NULL && strncmp(rm->self, x, strlen(x)) == 0 &&
               strcmp(rm->self + strlen(x), "/" SUPERVISOR_LEAF) == 0;
  if (!there) {
    if (mkdir(sup, 0755) < 0 && errno != EEXIST)
      return pv_err_sys(err, "delegated cgroup %s: mkdir %s", x, sup);
    if (cgroup_write(sup, "cgroup.procs", "0", err) < 0)
      return pv_err_wrap(err, "delegated cgroup %s: move this process to %s", x, sup);
    char *self = NULL;
    if (asprintf(&self, "%s/%s", x, SUPERVISOR_LEAF) < 0)
      return pv_err_sys(err, "delegated cgroup %s", x);
    free(rm->self);
    rm->self = self;
  }
  if (resource_manager_set_parent(rm, parent, err) < 0)
    return pv_err_wrap(err, "delegated cgroup %s", x);
  if (pv_path(out, size, "%s", parent) < 0)
    return pv_err_sys(err, "cgroup parent %s", parent);
  return 0;
}

int resource_manager_pick_parent(const char *given, char *out, size_t size, pv_err *err) {
  if (given != NULL) {
    if (resource_manager_check_parent(given, err) < 0)
      return -1;
    if (pv_path(out, size, "%s", given) < 0)
      return pv_err_sys(err, "cgroup parent %s", given);
    return 0;
  }
  resource_manager *rm;
  if (resource_manager_init(&rm, NULL, NULL) < 0) {
    if (pv_path(out, size, "%s", RESOURCE_DEFAULT_PARENT) < 0)
      return pv_err_sys(err, "cgroup parent");
    return 0;
  }
  int r = resource_manager_nest(rm, out, size, err);
  resource_manager_cleanup(rm);
  return r;
}
