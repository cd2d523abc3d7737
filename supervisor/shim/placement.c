/* placement.c - pod spec container → core container_config. */
#include "supervisor/shim/placement.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/core/caps.h"
#include "supervisor/core/image.h"
#include "supervisor/core/util.h"
#include "supervisor/shim/placement_ids.h"

/* --- small owned-array helpers ----------------------------------------------- */

static void strv_free(char **v) {
  if (v == NULL)
    return;
  for (char **p = v; *p != NULL; p++)
    free(*p);
  free(v);
}

static size_t strv_len(char *const *v) {
  size_t n = 0;
  while (v != NULL && v[n] != NULL)
    n++;
  return n;
}

/* Appends copies of a[] then b[] (either may be NULL) into a new vector. */
static char **strv_concat(char *const *a, char *const *b) {
  size_t na = strv_len(a), nb = strv_len(b);
  char **v = calloc(na + nb + 1, sizeof *v);
  if (v == NULL)
    return NULL;
  for (size_t i = 0; i < na + nb; i++) {
    v[i] = strdup(i < na ? a[i] : b[i - na]);
    if (v[i] == NULL) {
      strv_free(v);
      return NULL;
    }
  }
  return v;
}

/* --- env ------------------------------------------------------------------- */

static const char *env_lookup(char **env, size_t n, const char *key, size_t klen) {
  for (size_t i = n; i-- > 0;)
    if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
      return env[i] + klen + 1;
  return NULL;
}

/* Kubernetes' $(VAR) expansion: $$ escapes, unknown references stay verbatim. */
static char *expand(const char *val, char **env, size_t n) {
  size_t cap = strlen(val) + 1, len = 0;
  char *out = malloc(cap);
  for (const char *s = val; out != NULL && *s != '\0';) {
    const char *piece = s;
    size_t plen = 1;
    if (s[0] == '$' && s[1] == '$') {
      plen = 1;
      s += 2;
    } else if (s[0] == '$' && s[1] == '(' && strchr(s + 2, ')') != NULL) {
      const char *end = strchr(s + 2, ')');
      const char *v = env_lookup(env, n, s + 2, (size_t)(end - s - 2));
      if (v != NULL) {
        piece = v;
        plen = strlen(v);
      } else {
        plen = (size_t)(end - s + 1);
      }
      s = end + 1;
    } else {
      s++;
    }
    if (len + plen + 1 > cap) {
      cap = (len + plen + 1) * 2;
      char *nb = realloc(out, cap);
      if (nb == NULL) {
        free(out);
        return NULL;
      }
      out = nb;
    }
    memcpy(out + len, piece, plen);
    len += plen;
  }
  if (out != NULL)
    out[len] = '\0';
  return out;
}

static int set_env(char ***envp, size_t *n, const char *key, const char *value) {
  size_t klen = strlen(key);
  char *kv = malloc(klen + strlen(value) + 2);
  if (kv == NULL)
    return -1;
  sprintf(kv, "%s=%s", key, value);
  for (size_t i = 0; i < *n; i++)
    if (strncmp((*envp)[i], key, klen) == 0 && (*envp)[i][klen] == '=') {
      free((*envp)[i]);
      (*envp)[i] = kv;
      return 0;
    }
  char **nv = realloc(*envp, (*n + 2) * sizeof *nv);
  if (nv == NULL) {
    free(kv);
    return -1;
  }
  nv[(*n)++] = kv;
  nv[*n] = NULL;
  *envp = nv;
  return 0;
}

static int build_env(placement *pl, const image_info *img, const spec_container *c) {
  size_t n = 0;
  pl->envp = calloc(1, sizeof *pl->envp);
  if (pl->envp == NULL)
    return -1;
  for (size_t i = 0; img->env != NULL && img->env[i] != NULL; i++) {
    const char *eq = strchr(img->env[i], '=');
    if (eq == NULL)
      continue;
    char key[256];
    size_t kl = (size_t)(eq - img->env[i]);
    if (kl == 0 || kl >= sizeof key)
      continue;
    memcpy(key, img->env[i], kl);
    key[kl] = '\0';
    if (set_env(&pl->envp, &n, key, eq + 1) < 0)
      return -1;
  }
  if (env_lookup(pl->envp, n, "PATH", 4) == NULL &&
      set_env(&pl->envp, &n, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
    return -1;
  for (size_t i = 0; i < c->env.n; i++) {
    char *v = expand(c->env.items[i].value != NULL ? c->env.items[i].value : "", pl->envp, n);
    int rc = v != NULL ? set_env(&pl->envp, &n, c->env.items[i].key, v) : -1;
    free(v);
    if (rc < 0)
      return -1;
  }
  return 0;
}

/* --- security -------------------------------------------------------------- */

int placement_cap_mask(const char *name, uint64_t *mask) {
  if (strcasecmp(name, "ALL") == 0) {
    *mask = ~0ULL;
    return 0;
  }
  char buf[64];
  if (snprintf(buf, sizeof buf, "cap_%s", name) >= (int)sizeof buf)
    return -1;
  for (char *p = buf; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  cap_value_t v;
  if (cap_from_name(buf, &v) < 0 || v < 0 || v > 63)
    return -1;
  *mask = 1ULL << v;
  return 0;
}

static int cap_list(const spec_strv *l, uint64_t *out, const char *cname, pv_err *err) {
  *out = 0;
  for (size_t i = 0; i < l->n; i++) {
    uint64_t m;
    if (placement_cap_mask(l->argv[i], &m) < 0)
      return pv_err_set(err, EINVAL, "container %s: unknown capability %s", cname, l->argv[i]);
    *out |= m;
  }
  return 0;
}

/* True when path has a ".." segment. */
static bool has_dotdot(const char *path) {
  for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
    if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
      return true;
  return false;
}

/* The filter of c (see placement.h); after the capabilities are known. */
static int plan_seccomp(placement *pl, const char *root, const spec_container *c, pv_err *err) {
  const spec_security *s = &c->security;
  pl->seccomp_caps = (caps_default_set() | pl->cfg.cap_add) & ~pl->cfg.cap_drop;
  if (s->privileged || s->seccomp == SPEC_SECCOMP_UNCONFINED) {
    pl->seccomp = PLACEMENT_SECCOMP_NONE;
    return 0;
  }
  if (s->seccomp != SPEC_SECCOMP_LOCALHOST) {
    pl->seccomp = PLACEMENT_SECCOMP_DEFAULT;
    return 0;
  }
  /* spec/ refused absolute paths and ".." already; checked again because
   * this is what keeps the profile inside the directory. */
  const char *lp = s->seccomp_localhost;
  if (lp == NULL || lp[0] == '\0' || lp[0] == '/' || has_dotdot(lp))
    return pv_err_set(err, EINVAL, "container %s: seccomp localhostProfile '%s' is not a path below %s/%s",
                      c->name, lp != NULL ? lp : "", root, PLACEMENT_SECCOMP_DIR);
  if (pv_path(pl->seccomp_path, sizeof pl->seccomp_path, "%s/%s/%s", root, PLACEMENT_SECCOMP_DIR, lp) < 0)
    return pv_err_sys(err, "container %s: seccomp localhostProfile %s", c->name, lp);
  pl->seccomp = PLACEMENT_SECCOMP_FILE;
  return 0;
}

void placement_limits(resource_limits *l, const spec_resources *r) {
  resource_limits_init(l);
  if (r->cpu_request_milli > 0) {
    uint64_t shares = (uint64_t)r->cpu_request_milli * 1024 / 1000;
    l->cpu_shares = shares < 2 ? 2 : shares;
  }
  if (r->cpu_limit_milli > 0) {
    l->cpu_period_us = 100000;
    /* millicores × period / 1000; kernel minimum quota is 1 ms. */
    int64_t q = r->cpu_limit_milli * 100;
    l->cpu_quota_us = q < 1000 ? 1000 : q;
  }
  if (r->memory_limit > 0) {
    l->memory_limit = r->memory_limit;
    l->memory_swap = r->memory_limit;
  }
  l->pids_limit = PLACEMENT_PIDS_LIMIT;
}

/* --- volumes --------------------------------------------------------------- */

static int volume_source(const char *pod_dir, const spec_volume *v, char *buf, size_t len) {
  if (v->kind == SPEC_VOLUME_HOST_PATH)
    return pv_path(buf, len, "%s", v->host_path);
  return pv_path(buf, len, "%s/volumes/%s", pod_dir, v->name);
}

/* Opens (O_PATH) the subPath sub of the volume whose root is root, one
 * component at a time, refusing any symbolic link and any way out of the
 * volume.  A container can write into its volumes, so a subPath's
 * components are the container's to choose: a link planted in an emptyDir
 * ("ln -s /etc /data/link") must never make another container mount the
 * host's /etc (CVE-2017-1002101).  Missing directories are made, as the
 * kubelet makes them, only inside an emptyDir.  Returns the fd, or -1. */
static int open_sub_path(const char *root, const char *sub, bool create, const char *what, pv_err *err) {
  int dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return pv_err_sys(err, "%s: open %s", what, root);
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", sub) >= (int)sizeof buf) {
    close(dfd);
    return pv_err_set(err, ENAMETOOLONG, "%s: subPath too long", what);
  }
  char *save = NULL;
  for (char *comp = strtok_r(buf, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
    if (strcmp(comp, ".") == 0)
      continue;
    if (strcmp(comp, "..") == 0) {
      close(dfd);
      return pv_err_set(err, EINVAL, "%s: subPath %s leaves the volume", what, sub);
    }
    /* Not O_NOFOLLOW: with O_PATH it would return the link itself instead
     * of failing with ELOOP, and mounting that fd follows the link. */
    struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    long fd;
    for (int tries = 0;; tries++) {
      do
        fd = syscall(SYS_openat2, dfd, comp, &how, sizeof how);
      while (fd < 0 && errno == EINTR);
      if (fd >= 0 || errno != ENOENT || !create || tries > 0)
        break;
      if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST)
        break;
    }
    if (fd < 0) {
      int e = errno;
      close(dfd);
      if (e == ELOOP || e == EXDEV)
        return pv_err_set(err, e, "%s: subPath %s goes through a symbolic link (at '%s'): refused", what, sub,
                          comp);
      return pv_err_set(err, e, "%s: subPath %s (at '%s'): %s", what, sub, comp, strerror(e));
    }
    close(dfd);
    dfd = (int)fd;
  }
  return dfd;
}

/* Removes the subPath mount point mp: every mount stacked on it, then the
 * point itself.  The shim's mount namespace is private (sandbox.h), so
 * these mounts also vanish with a killed shim. */
static void drop_mount_point(const char *mp) {
  while (umount2(mp, MNT_DETACH) == 0)
    ;
  if (rmdir(mp) < 0 && errno == ENOTDIR)
    (void)unlink(mp);
}

/* Pins subPath sub of a volume: the object found by open_sub_path() is
 * bind-mounted through its fd onto <pod_dir>/subpaths/<container>/<idx>, a
 * place only the shim can change, and that path becomes the container's
 * mount source.  Whatever the container does to its volume afterwards, the
 * mount keeps the object that was checked. */
static int bind_sub_path(const char *pod_dir, const spec_container *c, size_t idx, const spec_volume *v,
                         const char *root, const char *sub, char *out, size_t outlen, pv_err *err) {
  char what[320], dir[PATH_MAX];
  snprintf(what, sizeof what, "container %s: volume %s", c->name, v->name);
  if (pv_path(dir, sizeof dir, "%s/subpaths/%s", pod_dir, c->name) < 0 ||
      pv_path(out, outlen, "%s/%zu", dir, idx) < 0)
    return pv_err_sys(err, "%s: subPath mount point", what);
  if (pv_mkdir_p(dir, 0700, err) < 0)
    return pv_err_wrap(err, "%s", what);
  int fd = open_sub_path(root, sub, v->kind == SPEC_VOLUME_EMPTY_DIR, what, err);
  if (fd < 0)
    return -1;
  struct stat st;
  int rc = fstat(fd, &st);
  if (rc == 0 && S_ISLNK(st.st_mode)) {
    close(fd);
    return pv_err_set(err, ELOOP, "%s: subPath %s is a symbolic link: refused", what, sub);
  }
  drop_mount_point(out); /* the previous run's */
  if (rc == 0) {
    if (S_ISDIR(st.st_mode)) {
      rc = mkdir(out, 0755);
    } else {
      int f = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      rc = f < 0 ? -1 : close(f);
    }
  }
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (rc < 0 || mount(proc, out, NULL, MS_BIND | MS_REC, NULL) < 0) {
    pv_err_sys(err, "%s: bind subPath %s onto %s", what, sub, out);
    close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

static int add_mounts(placement *pl, const char *pod_dir, const spec_pod *p, const spec_container *c,
                      pv_err *err) {
  if (c->n_mounts == 0)
    return 0;
  pl->mounts = calloc(c->n_mounts, sizeof *pl->mounts);
  pl->mount_paths = calloc(c->n_mounts, sizeof *pl->mount_paths);
  if (pl->mounts == NULL || pl->mount_paths == NULL)
    return pv_err_set(err, ENOMEM, "container %s: out of memory", c->name);
  for (size_t i = 0; i < c->n_mounts; i++) {
    const spec_mount *m = &c->mounts[i];
    const spec_volume *v = spec_pod_volume(p, m->name);
    if (v == NULL)
      return pv_err_set(err, ENOENT, "container %s: no volume %s", c->name, m->name);
    char src[PATH_MAX];
    if (volume_source(pod_dir, v, src, sizeof src) < 0)
      return pv_err_sys(err, "container %s: volume %s", c->name, m->name);
    if (m->sub_path != NULL && *m->sub_path != '\0') {
      if (m->sub_path[0] == '/')
        return pv_err_set(err, EINVAL, "container %s: subPath %s leaves volume %s", c->name, m->sub_path,
                          m->name);
      char root[PATH_MAX];
      memcpy(root, src, sizeof root);
      if (bind_sub_path(pod_dir, c, i, v, root, m->sub_path, src, sizeof src, err) < 0)
        return -1;
    }
    pl->mount_paths[i] = strdup(src);
    pl->n_mount_paths = i + 1;
    if (pl->mount_paths[i] == NULL)
      return pv_err_set(err, ENOMEM, "container %s: out of memory", c->name);
    pl->mounts[i].source = pl->mount_paths[i];
    pl->mounts[i].destination = m->mount_path;
    pl->mounts[i].readonly = m->read_only;
    pl->mounts[i].name = m->name;
    pl->mounts[i].rro = m->recursive_read_only == SPEC_RRO_ENABLED       ? CONTAINER_RRO_ENABLED
                        : m->recursive_read_only == SPEC_RRO_IF_POSSIBLE ? CONTAINER_RRO_IF_POSSIBLE
                                                                         : CONTAINER_RRO_DISABLED;
  }
  pl->n_mounts = c->n_mounts;
  return 0;
}

static int check_host_path(const spec_volume *v, pv_err *err) {
  struct stat st;
  int have = stat(v->host_path, &st) == 0;
  switch (v->host_path_type) {
  case SPEC_HOSTPATH_UNSET: return 0;
  case SPEC_HOSTPATH_DIRECTORY_OR_CREATE:
    if (!have)
      return pv_mkdir_p(v->host_path, 0755, err);
    /* fall through */
  case SPEC_HOSTPATH_DIRECTORY:
    if (have && S_ISDIR(st.st_mode))
      return 0;
    break;
  case SPEC_HOSTPATH_FILE_OR_CREATE:
    if (!have) {
      int fd = open(v->host_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EEXIST)
        return pv_err_sys(err, "volume %s: create %s", v->name, v->host_path);
      if (fd >= 0)
        close(fd);
      return 0;
    }
    /* fall through */
  case SPEC_HOSTPATH_FILE:
    if (have && S_ISREG(st.st_mode))
      return 0;
    break;
  case SPEC_HOSTPATH_SOCKET:
    if (have && S_ISSOCK(st.st_mode))
      return 0;
    break;
  case SPEC_HOSTPATH_CHAR_DEVICE:
    if (have && S_ISCHR(st.st_mode))
      return 0;
    break;
  case SPEC_HOSTPATH_BLOCK_DEVICE:
    if (have && S_ISBLK(st.st_mode))
      return 0;
    break;
  }
  return pv_err_set(err, have ? ENOTDIR : ENOENT, "volume %s: hostPath %s is not a %s", v->name, v->host_path,
                    spec_hostpath_type_name(v->host_path_type));
}

int placement_prepare_volumes(const char *pod_dir, const spec_pod *p, uint32_t id_base, pv_err *err) {
  for (size_t i = 0; i < p->n_volumes; i++) {
    const spec_volume *v = &p->volumes[i];
    if (v->kind == SPEC_VOLUME_HOST_PATH) {
      if (check_host_path(v, err) < 0)
        return -1;
      continue;
    }
    char dir[PATH_MAX];
    if (volume_source(pod_dir, v, dir, sizeof dir) < 0)
      return pv_err_sys(err, "volume %s", v->name);
    if (pv_mkdir_p(dir, 0777, err) < 0)
      return pv_err_wrap(err, "volume %s", v->name);
    (void)chmod(dir, 0777); /* emptyDir is world-writable, as the kubelet makes it */
    if (v->medium_memory) {
      char opts[64] = "mode=1777";
      if (v->size_limit > 0)
        snprintf(opts, sizeof opts, "mode=1777,size=%lld", (long long)v->size_limit);
      if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return pv_err_sys(err, "volume %s: mount tmpfs on %s", v->name, dir);
    }
    if (id_base != 0 && chown(dir, id_base, id_base) < 0)
      return pv_err_sys(err, "volume %s: chown %s to the pod's root (%u:%u)", v->name, dir, (unsigned)id_base,
                        (unsigned)id_base);
    /* fsGroup is a group id inside the pod's user namespace, if it has one. */
    if (p->fs_group >= 0 && placement_volume_ownership(dir, v->name, (gid_t)(id_base + (uint32_t)p->fs_group),
                                                       p->fs_group_change_policy, err) < 0)
      return -1;
  }
  return 0;
}

/* Unmounts and removes <pod_dir>/subpaths/<container>/<idx>. */
static void release_sub_paths(const char *pod_dir) {
  char top[PATH_MAX];
  if (pv_path(top, sizeof top, "%s/subpaths", pod_dir) < 0)
    return;
  DIR *d = opendir(top);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char cdir[PATH_MAX];
    if (pv_path(cdir, sizeof cdir, "%s/%s", top, e->d_name) < 0)
      continue;
    DIR *cd = opendir(cdir);
    struct dirent *f;
    while (cd != NULL && (f = readdir(cd)) != NULL) {
      char mp[PATH_MAX];
      if (f->d_name[0] != '.' && pv_path(mp, sizeof mp, "%s/%s", cdir, f->d_name) == 0)
        drop_mount_point(mp);
    }
    if (cd != NULL)
      closedir(cd);
    (void)rmdir(cdir);
  }
  closedir(d);
  (void)rmdir(top);
}

void placement_release_volumes(const char *pod_dir, const spec_pod *p) {
  release_sub_paths(pod_dir);
  for (size_t i = 0; i < p->n_volumes; i++) {
    const spec_volume *v = &p->volumes[i];
    char dir[PATH_MAX];
    if (v->kind == SPEC_VOLUME_EMPTY_DIR && v->medium_memory &&
        volume_source(pod_dir, v, dir, sizeof dir) == 0)
      (void)umount2(dir, MNT_DETACH);
  }
}

/* --- the whole config --------------------------------------------------------- */

static int build_argv(placement *pl, const image_info *img, const spec_container *c, pv_err *err) {
  if (c->command.n > 0)
    pl->argv = strv_concat(c->command.argv, c->args.n > 0 ? c->args.argv : NULL);
  else if (c->args.n > 0)
    pl->argv = strv_concat(c->args.argv, NULL);
  else
    pl->argv = strv_concat(img->cmd, NULL);
  if (pl->argv == NULL)
    return pv_err_set(err, ENOMEM, "container %s: out of memory", c->name);
  if (pl->argv[0] == NULL)
    return pv_err_set(err, EINVAL, "container %s: no command (image %s has no cmd)", c->name, c->image);
  return 0;
}

int placement_build(placement *pl, const char *root, const char *pod_dir, const char *pod_cgroup,
                    const spec_pod *p, const spec_container *c, unsigned restart, pv_err *err) {
  memset(pl, 0, sizeof *pl);
  container_config_init(&pl->cfg);
  image_info img;
  memset(&img, 0, sizeof img);
  if (image_lookup(root, c->image, &img, err) < 0)
    return pv_err_wrap(err, "container %s", c->name);
  int rc = -1;
  if (pv_path(pl->id, sizeof pl->id, "%s-%u", c->name, restart) < 0 ||
      pv_path(pl->cgroup, sizeof pl->cgroup, "%s/%s", pod_cgroup, c->name) < 0 ||
      pv_path(pl->rootfs, sizeof pl->rootfs, "%s", img.rootfs) < 0) {
    pv_err_sys(err, "container %s", c->name);
    goto out;
  }
  const char *wd = c->working_dir != NULL ? c->working_dir : img.working_dir;
  if (wd != NULL)
    snprintf(pl->cwd, sizeof pl->cwd, "%s", wd);
  if (build_argv(pl, &img, c, err) < 0)
    goto out;
  if (build_env(pl, &img, c) < 0) {
    pv_err_set(err, ENOMEM, "container %s: out of memory", c->name);
    goto out;
  }
  if (add_mounts(pl, pod_dir, p, c, err) < 0)
    goto out;
  container_config *cfg = &pl->cfg;
  cfg->id = pl->id;
  cfg->rootfs = pl->rootfs;
  cfg->argv = pl->argv;
  cfg->envp = pl->envp;
  cfg->cwd = pl->cwd[0] != '\0' ? pl->cwd : NULL;
  cfg->cgroup_path = pl->cgroup;
  cfg->uid = c->security.run_as_user >= 0 ? (uid_t)c->security.run_as_user : 0;
  cfg->gid = c->security.run_as_group >= 0 ? (gid_t)c->security.run_as_group : 0;
  cfg->privileged = c->security.privileged;
  /* Kubernetes: no_new_privs only with allowPrivilegeEscalation: false
   * (which the decoder refuses with privileged or CAP_SYS_ADMIN). */
  cfg->no_new_privs = c->security.allow_privilege_escalation == 0;
  cfg->unmasked_proc = c->security.unmasked_proc;
  cfg->readonly_rootfs = c->security.read_only_root_fs;
  if (placement_groups(pl->rootfs, p, cfg->uid, cfg->gid, &pl->groups, &pl->n_groups, err) < 0) {
    pv_err_wrap(err, "container %s", c->name);
    goto out;
  }
  cfg->groups = pl->groups;
  cfg->n_groups = pl->n_groups;
  if (cap_list(&c->security.cap_add, &cfg->cap_add, c->name, err) < 0 ||
      cap_list(&c->security.cap_drop, &cfg->cap_drop, c->name, err) < 0 || plan_seccomp(pl, root, c, err) < 0)
    goto out;
  placement_limits(&cfg->limits, &c->resources);
  cfg->mounts = pl->mounts;
  cfg->n_mounts = pl->n_mounts;
  cfg->pdeathsig = SIGKILL;
  rc = 0;
out:
  image_info_free(&img);
  if (rc < 0)
    placement_free(pl);
  return rc;
}

void placement_free(placement *pl) {
  strv_free(pl->argv);
  strv_free(pl->envp);
  for (size_t i = 0; i < pl->n_mount_paths; i++)
    free(pl->mount_paths[i]);
  free(pl->mount_paths);
  free(pl->mounts);
  free(pl->groups);
  pl->groups = NULL;
  pl->n_groups = 0;
  pl->argv = pl->envp = NULL;
  pl->mount_paths = NULL;
  pl->mounts = NULL;
  pl->n_mounts = pl->n_mount_paths = 0;
}
