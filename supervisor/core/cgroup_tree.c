/*
 * cgroup_tree.c - the resource_manager_* calls that work on the tree of
 * cgroup directories rather than inside one cgroup: moving a cgroup aside
 * (resource_manager_move_cgroup, resource_manager_cgroup_at) and listing a
 * cgroup's children (resource_manager_each_child).
 *
 * Moving aside is how a new cgroup gets the path of one whose processes
 * are still dying (container_pending.c).  Kernel behaviour relied on:
 *   - v1: rename(2) of a cgroup directory moves it, processes and all,
 *     within its parent (cgroup1_rename; another parent is EIO); kernfs
 *     takes no rename flags (EINVAL) and never replaces a name (EEXIST);
 *   - cgroup2 has no rename at all (EPERM): the processes are written one
 *     by one into the cgroup.procs of a new sibling, and the emptied
 *     directory removed.  The kernel silently skips a process that is
 *     already exiting, which keeps the old directory busy (EBUSY) until it
 *     is gone; the caller retries later.  The new sibling gets no device
 *     program (cgroup_bpf.c): only processes already sent SIGKILL are moved
 *     aside (container_pending.c), and they never run user code again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/core/cgroup_internal.h"
#include "supervisor/core/util.h"

/* Passes over cgroup.procs when migrating: a fork under way when a pass
 * read the file adds its child to the old directory afterwards. */
#define MIGRATE_PASSES 16

/* rename(2) that never replaces: kernfs (cgroupfs) refuses every rename
 * flag with EINVAL but never replaces an existing name either (EEXIST), so
 * a plain rename is as safe there; a fake tree honours RENAME_NOREPLACE. */
static int rename_noreplace(const char *from, const char *to) {
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL)
    return -1;
  return rename(from, to);
}

/* The directory of the handle in hierarchy h at path, or NULL. */
static cg_dir *dir_at(cgroup_handle *cg, const cg_hier *h, const char *path) {
  for (size_t i = 0; i < cg->ndirs; i++)
    if (cg->dirs[i].hier == h && !cg->dirs[i].removed && strcmp(cg->dirs[i].path, path) == 0)
      return &cg->dirs[i];
  return NULL;
}

/* cgroup2 has no rename: every process of d moves into the sibling `to`
 * (made here and added to the handle), then d is removed.  The kernel
 * skips a process that is already exiting, which keeps d busy (EBUSY). */
static int migrate_dir(cgroup_handle *cg, cg_dir *d, const char *to, pv_err *err) {
  cg_dir *a = dir_at(cg, d->hier, to);
  bool made = a == NULL;
  if (a == NULL) {
    if (cg->ndirs == CGROUP_MAX_HIER)
      return pv_err_set(err, ENOSPC, "cgroup %s: move to %s: too many directories", cg->relpath, to);
    if (mkdir(to, 0755) < 0)
      return pv_err_sys(err, "cgroup %s: mkdir %s", cg->relpath, to);
    a = &cg->dirs[cg->ndirs];
    *a = (cg_dir){.hier = d->hier, .path = strdup(to), .nexisting = cg->ncomp - 1};
    if (a->path == NULL) {
      (void)rmdir(to);
      return pv_err_sys(err, "cgroup %s: move to %s", cg->relpath, to);
    }
    cg->ndirs++;
  }
  for (int pass = 0; pass < MIGRATE_PASSES; pass++) {
    bool gone;
    char *buf = cgroup_read_procs(d->path, &gone, err);
    if (buf == NULL) {
      if (gone)
        break;
      return pv_err_wrap(err, "cgroup %s", cg->relpath);
    }
    bool any = false;
    for (char *p = buf, *end; *p != '\0'; p = end) {
      long pid = strtol(p, &end, 10);
      if (end == p) {
        end = p + 1;
        continue;
      }
      any = true;
      char v[24];
      snprintf(v, sizeof v, "%ld", pid);
      if (cgroup_write(a->path, "cgroup.procs", v, err) < 0 && errno != ESRCH) {
        free(buf);
        return pv_err_wrap(err, "cgroup %s: move the processes to %s", cg->relpath, a->path);
      }
    }
    free(buf);
    if (!any)
      break;
  }
  if (rmdir(d->path) < 0 && errno != ENOENT) {
    pv_err_sys(err, "cgroup %s: rmdir %s after moving its processes to %s", cg->relpath, d->path, a->path);
    int saved = errno;
    /* Nothing could move (a process already exiting): the sibling made for
     * it goes again, so that retries under new names do not pile up. */
    if (made && a == &cg->dirs[cg->ndirs - 1] && rmdir(a->path) == 0) {
      free(a->path);
      cg->ndirs--;
    }
    errno = saved;
    return -1;
  }
  d->removed = true;
  return 0;
}

int resource_manager_move_cgroup(cgroup_handle *cg, const char *new_leaf, pv_err *err) {
  size_t leaf_len = new_leaf != NULL ? strlen(new_leaf) : 0;
  if (leaf_len == 0 || leaf_len > NAME_MAX || strchr(new_leaf, '/') != NULL || strcmp(new_leaf, ".") == 0 ||
      strcmp(new_leaf, "..") == 0)
    return pv_err_set(err, EINVAL, "cgroup %s: invalid new name '%s'", cg->relpath, new_leaf ? new_leaf : "");
  /* relpath with its last component replaced. */
  const char *slash = strrchr(cg->relpath, '/');
  int plen = slash != NULL ? (int)(slash - cg->relpath) + 1 : 0;
  char *rel = NULL;
  if (asprintf(&rel, "%.*s%s", plen, cg->relpath, new_leaf) < 0)
    return pv_err_sys(err, "cgroup %s: move", cg->relpath);
  /* Only the directories present when the call began: migrate_dir appends. */
  size_t n = cg->ndirs;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    cg_dir *d = &cg->dirs[i];
    char to[PATH_MAX];
    if (d->removed)
      continue;
    if (pv_path(to, sizeof to, "%s/%s", d->hier->mount, rel) < 0) {
      r = pv_err_sys(err, "cgroup %s: move to %s", cg->relpath, rel);
      break;
    }
    if (strcmp(d->path, to) == 0)
      continue;
    if (rename_noreplace(d->path, to) == 0) {
      char *p = strdup(to);
      if (p == NULL) {
        /* Renamed, but the handle cannot follow: put it back. */
        (void)rename(to, d->path);
        r = pv_err_sys(err, "cgroup %s: move", cg->relpath);
        break;
      }
      free(d->path);
      d->path = p;
    } else if (errno == EPERM) {
      r = migrate_dir(cg, d, to, err);
    } else {
      r = pv_err_sys(err, "cgroup %s: rename %s to %s", cg->relpath, d->path, to);
    }
  }
  if (r == 0) {
    free(cg->relpath);
    cg->relpath = rel;
    return 0;
  }
  free(rel);
  return -1;
}

bool resource_manager_cgroup_at(const cgroup_handle *cg, const char *relpath) {
  for (size_t i = 0; i < cg->ndirs; i++) {
    const cg_dir *d = &cg->dirs[i];
    size_t ml = strlen(d->hier->mount);
    if (!d->removed && strncmp(d->path, d->hier->mount, ml) == 0 && d->path[ml] == '/' &&
        strcmp(d->path + ml + 1, relpath) == 0)
      return true;
  }
  return false;
}

/* Adds name to *v unless it is there already. */
static int add_name(char ***v, size_t *n, size_t *cap, const char *name) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*v)[i], name) == 0)
      return 0;
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 8;
    char **nv = realloc(*v, nc * sizeof *nv);
    if (nv == NULL)
      return -1;
    *v = nv;
    *cap = nc;
  }
  if (((*v)[*n] = strdup(name)) == NULL)
    return -1;
  (*n)++;
  return 0;
}

/* The names of the sub-directories of dir, added to *v. */
static int list_dirs(const char *dir, char ***v, size_t *n, size_t *cap, pv_err *err) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : pv_err_sys(err, "open %s", dir);
  int r = 0;
  struct dirent *de;
  while (r == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    bool isdir = de->d_type == DT_DIR;
    if (de->d_type == DT_UNKNOWN) {
      struct stat st;
      isdir = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (isdir && add_name(v, n, cap, de->d_name) < 0)
      r = pv_err_sys(err, "list %s", dir);
  }
  closedir(d);
  return r;
}

int resource_manager_each_child(resource_manager *rm, const char *relpath,
                                int (*fn)(void *ctx, const char *name), void *ctx, pv_err *err) {
  cgroup_handle *cg;
  if (resource_manager_open_cgroup(rm, relpath, &cg, err) < 0) {
    if (errno != ENOENT)
      return -1;
    pv_err_clear(err);
    return 0;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int r = 0;
  for (size_t i = 0; i < cg->ndirs && r == 0; i++)
    r = list_dirs(cg->dirs[i].path, &names, &n, &cap, err);
  resource_manager_close_cgroup(cg);
  for (size_t i = 0; i < n; i++) {
    if (r == 0)
      r = fn(ctx, names[i]);
    free(names[i]);
  }
  free(names);
  return r;
}
