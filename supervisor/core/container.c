/*
 * container.c - the core lifecycle API (container.h): the manager, create
 * (the plan), wait/reap/kill/stop.  start and exec, with the cloned child,
 * live in container_spawn.c; destroy, close and run in container_destroy.c;
 * pending cgroups in container_pending.c.
 *
 * create() does every allocation and every file-system preparation: the
 * deep copy of the config, <state_dir>/<id>/{upper,work}, the cgroup
 * with its limits, the mount plan (fs.c), the capability plan (caps.c) and
 * the list of paths argv[0] may live at.  start() then only opens a socket
 * pair, clones, places the child into the cgroup and lets it go.
 */
#include "supervisor/core/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/container_internal.h"
#include "supervisor/core/util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define DEFAULT_STATE_DIR "/var/lib/podvisor/containers"
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

const char *container_state_name(container_state s) {
  switch (s) {
  case CONTAINER_CREATED: return "created";
  case CONTAINER_RUNNING: return "running";
  case CONTAINER_STOPPED: return "stopped";
  case CONTAINER_DESTROYED: return "destroyed";
  default: return "unknown";
  }
}

void container_config_init(container_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->join = (container_join){-1, -1, -1, -1, -1};
  cfg->no_new_privs = true;
  cfg->stdin_fd = cfg->stdout_fd = cfg->stderr_fd = -1;
  resource_limits_init(&cfg->limits);
}

/* ---- small helpers ---- */

void container_strv_free(char **v) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free(v[i]);
  free(v);
}

static char **strv_dup(char *const *v, size_t extra) {
  size_t n = 0;
  while (v != NULL && v[n] != NULL)
    n++;
  char **out = calloc(n + extra + 1, sizeof *out);
  for (size_t i = 0; out != NULL && i < n; i++)
    if ((out[i] = strdup(v[i])) == NULL) {
      container_strv_free(out);
      return NULL;
    }
  return out;
}

/* envp, or PATH + HOME; PATH is added when the caller's env lacks it. */
static char **env_build(char *const *envp) {
  bool has_path = false;
  for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
    has_path = has_path || strncmp(envp[i], "PATH=", 5) == 0;
  char **out = strv_dup(envp, 2);
  if (out == NULL)
    return NULL;
  size_t n = 0;
  while (out[n] != NULL)
    n++;
  if (!has_path && (out[n++] = strdup(DEFAULT_PATH)) == NULL)
    goto fail;
  if (envp == NULL && (out[n++] = strdup("HOME=/")) == NULL)
    goto fail;
  return out;
fail:
  container_strv_free(out);
  return NULL;
}

/* Every path execve() should try for argv[0], as execvp would search the
 * container's PATH (computed here because the child must not allocate). */
char **container_exec_paths(const char *arg0, char *const *envp) {
  if (strchr(arg0, '/') != NULL) {
    char *one[] = {(char *)arg0, NULL};
    return strv_dup(one, 0);
  }
  const char *path = DEFAULT_PATH + 5;
  for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
    if (strncmp(envp[i], "PATH=", 5) == 0)
      path = envp[i] + 5;
  size_t n = 1;
  for (const char *s = path; *s; s++)
    n += *s == ':';
  char **out = calloc(n + 1, sizeof *out);
  size_t k = 0;
  for (const char *s = path; out != NULL;) {
    const char *e = strchrnul(s, ':');
    int len = (int)(e - s);
    if (asprintf(&out[k], "%.*s/%s", len, len ? s : ".", arg0) < 0) {
      out[k] = NULL;
      container_strv_free(out);
      return NULL;
    }
    k++;
    if (*e == '\0')
      break;
    s = e + 1;
  }
  return out;
}

static bool valid_id(const char *id) {
  size_t n = id != NULL ? strlen(id) : 0;
  if (n == 0 || n > 128 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    char ch = id[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
          ch == '.' || ch == '-'))
      return false;
  }
  return true;
}

int container_raise_fd(int fd) {
  if (fd < 0 || fd > 2)
    return fd;
  int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return n;
}

/* ---- manager ---- */

int container_manager_init(container_manager **out, const container_manager_options *opts, pv_err *err) {
  container_manager *m = calloc(1, sizeof *m);
  const char *dir = opts != NULL && opts->state_dir != NULL ? opts->state_dir : DEFAULT_STATE_DIR;
  if (m == NULL || (m->state_dir = strdup(dir)) == NULL) {
    free(m);
    return pv_err_sys(err, "container manager");
  }
  if (pv_mkdir_p(m->state_dir, 0700, err) < 0 ||
      resource_manager_init(&m->rm, opts != NULL ? opts->cgroup_root : NULL, err) < 0 ||
      resource_manager_set_parent(m->rm, opts != NULL ? opts->cgroup_parent : NULL, err) < 0) {
    pv_err_wrap(err, "container manager");
    container_manager_cleanup(m);
    return -1;
  }
  m->use_chroot = fs_host_root_is_initramfs();
  if (resource_manager_version(m->rm) == CGROUP_V1 &&
      fs_cgroup_mounts_detect(resource_manager_root(m->rm), &m->cgmounts, &m->n_cgmounts, err) < 0) {
    container_manager_cleanup(m);
    return -1;
  }
  *out = m;
  return 0;
}

resource_manager *container_manager_resources(container_manager *m) {
  return m->rm;
}

container *container_manager_find(container_manager *m, const char *id) {
  for (container *c = m->head; c != NULL; c = c->next)
    if (strcmp(c->id, id) == 0)
      return c;
  return NULL;
}

size_t container_manager_list(container_manager *m, container **out, size_t max) {
  size_t n = 0;
  for (container *c = m->head; c != NULL; c = c->next, n++)
    if (n < max)
      out[n] = c;
  return n;
}

int container_manager_get_info(container_manager *m, const container *c, container_info *info) {
  (void)m;
  memset(info, 0, sizeof *info);
  info->id = c->id;
  info->state = c->state;
  info->pid = c->state == CONTAINER_RUNNING ? c->pid : 0;
  info->pidfd = c->state == CONTAINER_RUNNING ? c->pidfd : -1;
  info->started_ns = c->started_ns;
  info->finished_ns = c->finished_ns;
  info->exit = c->exit;
  info->cgroup_path = c->cgroup_path;
  return 0;
}

int container_manager_get_stats(container_manager *m, container *c, resource_stats *st, pv_err *err) {
  (void)m;
  if (c->cg == NULL)
    return pv_err_set(err, ENOENT, "container %s: no cgroup", c->id);
  if (resource_manager_get_stats(c->cg, st, err) < 0)
    return pv_err_wrap(err, "container %s", c->id);
  return 0;
}

const char *container_id(const container *c) {
  return c->id;
}
container_state container_get_state(const container *c) {
  return c->state;
}
pid_t container_pid(const container *c) {
  return c->state == CONTAINER_RUNNING ? c->pid : 0;
}
int container_pidfd(const container *c) {
  return c->state == CONTAINER_RUNNING ? c->pidfd : -1;
}

/* ---- create ---- */

static void mounts_free(container_mount *v, size_t n) {
  for (size_t i = 0; v != NULL && i < n; i++) {
    free((char *)v[i].source);
    free((char *)v[i].destination);
    free((char *)v[i].name);
  }
  free(v);
}

void container_free(container *c) {
  if (c == NULL)
    return;
  container_strv_free(c->argv);
  container_strv_free(c->envp);
  container_strv_free(c->paths);
  free(c->cwd);
  free(c->dir);
  free(c->cgroup_path);
  free(c->rootfs);
  mounts_free(c->mounts, c->n_mounts);
  free(c->id);
  int *joins[] = {&c->ns.join_net, &c->ns.join_ipc, &c->ns.join_uts, &c->ns.join_pid, &c->ns.join_user};
  for (size_t i = 0; i < 5; i++)
    if (*joins[i] >= 0)
      close(*joins[i]);
  if (c->pidfd >= 0)
    close(c->pidfd);
  if (c->rootfs_lock >= 0)
    close(c->rootfs_lock);
  fs_plan_free(&c->fs);
  caps_plan_free(&c->caps);
  resource_manager_close_cgroup(c->cg);
  free(c);
}

static int copy_config(container *c, const container_config *cfg, pv_err *err) {
  namespace_config_init(&c->ns);
  c->ns.flags = cfg->namespaces != 0 ? cfg->namespaces : NAMESPACE_ALL;
  if (!(c->ns.flags & CLONE_NEWNS) || (c->ns.flags & ~NAMESPACE_ALL))
    return pv_err_set(err, EINVAL,
                      "container %s: namespaces 0x%x: a mount namespace is required, and only "
                      "pid, mount, uts, ipc, net and cgroup are supported",
                      c->id, (unsigned)cfg->namespaces);
  c->new_pidns = (c->ns.flags & CLONE_NEWPID) && cfg->join.pid < 0;
  int src[] = {cfg->join.net, cfg->join.ipc, cfg->join.uts, cfg->join.pid, cfg->join.user};
  int *dst[] = {&c->ns.join_net, &c->ns.join_ipc, &c->ns.join_uts, &c->ns.join_pid, &c->ns.join_user};
  for (size_t i = 0; i < 5; i++)
    if (src[i] >= 0 && (*dst[i] = container_raise_fd(fcntl(src[i], F_DUPFD_CLOEXEC, 3))) < 0)
      return pv_err_sys(err, "container %s: duplicate the namespace fd %d to join", c->id, src[i]);
  if (cfg->hostname != NULL && namespace_set_hostname(&c->ns, cfg->hostname, err) < 0)
    return pv_err_wrap(err, "container %s", c->id);
  c->argv = strv_dup(cfg->argv, 0);
  c->envp = env_build(cfg->envp);
  c->cwd = strdup(cfg->cwd != NULL ? cfg->cwd : "/");
  if (c->argv == NULL || c->envp == NULL || c->cwd == NULL ||
      (c->paths = container_exec_paths(c->argv[0], c->envp)) == NULL ||
      asprintf(&c->dir, "%s/%s", c->m->state_dir, c->id) < 0 ||
      (cfg->cgroup_path != NULL
           ? (c->cgroup_path = strdup(cfg->cgroup_path)) == NULL
           : asprintf(&c->cgroup_path, "%s/%s", resource_manager_parent(c->m->rm), c->id) < 0))
    return pv_err_sys(err, "container %s: copy the config", c->id);
  c->fds[0] = cfg->stdin_fd;
  c->fds[1] = cfg->stdout_fd;
  c->fds[2] = cfg->stderr_fd;
  c->pdeathsig = cfg->pdeathsig;
  c->userns_uid = cfg->userns_uid;
  c->userns_gid = cfg->userns_gid;
  c->seccomp = cfg->seccomp;
  return 0;
}

/* The shared lock that keeps the image store from deleting the rootfs
 * under the container (container.h).  An exclusive holder is removing or
 * replacing it right now: that is an error, not a wait. */
static int lock_rootfs(container *c, const char *rootfs, pv_err *err) {
  c->rootfs_lock = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->rootfs_lock < 0)
    return pv_err_sys(err, "container %s: open the rootfs %s", c->id, rootfs);
  int r;
  while ((r = flock(c->rootfs_lock, LOCK_SH | LOCK_NB)) < 0 && errno == EINTR) {
  }
  if (r < 0 && errno == EWOULDBLOCK)
    return pv_err_set(err, EBUSY, "container %s: the rootfs %s is being removed or replaced", c->id, rootfs);
  if (r < 0)
    return pv_err_sys(err, "container %s: lock the rootfs %s", c->id, rootfs);
  return 0;
}

/* Deep copies into c the caller's volumes plus the /etc/hosts and
 * /etc/hostname binds it asked for (read-only: a pod's containers share
 * one file), and the rest of what the mount plan is made of. */
static int copy_fs_config(container *c, const container_config *cfg, pv_err *err) {
  container_mount etc[2];
  size_t n_etc = 0;
  if (cfg->etc_hosts_path != NULL)
    etc[n_etc++] =
        (container_mount){.source = cfg->etc_hosts_path, .destination = "/etc/hosts", .readonly = true};
  if (cfg->etc_hostname_path != NULL)
    etc[n_etc++] =
        (container_mount){.source = cfg->etc_hostname_path, .destination = "/etc/hostname", .readonly = true};
  if ((c->rootfs = strdup(cfg->rootfs)) == NULL ||
      (c->mounts = calloc(cfg->n_mounts + n_etc + 1, sizeof *c->mounts)) == NULL)
    return pv_err_sys(err, "container %s: copy the config", c->id);
  for (size_t i = 0; i < cfg->n_mounts + n_etc; i++) {
    const container_mount *src = i < cfg->n_mounts ? &cfg->mounts[i] : &etc[i - cfg->n_mounts];
    container_mount *dst = &c->mounts[c->n_mounts++];
    *dst = *src;
    dst->source = src->source != NULL ? strdup(src->source) : NULL;
    dst->destination = src->destination != NULL ? strdup(src->destination) : NULL;
    dst->name = src->name != NULL ? strdup(src->name) : NULL;
    if ((src->source != NULL && dst->source == NULL) ||
        (src->destination != NULL && dst->destination == NULL) || (src->name != NULL && dst->name == NULL))
      return pv_err_sys(err, "container %s: copy the mounts", c->id);
  }
  c->readonly_rootfs = cfg->readonly_rootfs;
  c->privileged = cfg->privileged;
  c->unmasked_proc = cfg->unmasked_proc;
  return 0;
}

/* The mount plan (with the container's cgroups), from c's own copy of the
 * config; with create set, <dir>/{upper,work} are made first. */
static int plan_mounts(container *c, bool create, pv_err *err) {
  fs_config fc;
  fs_config_init(&fc);
  fc.rootfs = c->rootfs;
  fc.dir = c->dir;
  fc.readonly_rootfs = c->readonly_rootfs;
  fc.privileged = c->privileged;
  fc.unmasked_proc = c->unmasked_proc;
  fc.use_chroot = c->m->use_chroot;
  fc.cgroup_ns = (c->ns.flags & CLONE_NEWCGROUP) != 0;
  fc.cgroup2 = resource_manager_version(c->m->rm) == CGROUP_V2;
  fc.mounts = c->mounts;
  fc.n_mounts = c->n_mounts;
  fc.idmap_userns = c->ns.join_user;
  fc.idmap_uid = c->userns_uid;
  fc.idmap_gid = c->userns_gid;
  fs_cgroup_mount used[32];
  for (size_t i = 0; i < c->m->n_cgmounts && fc.n_cgroups < 32; i++) {
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(c->m->cgmounts[i].options, ","),
             c->m->cgmounts[i].options);
    if (cgroup_handle_dir(c->cg, first) != NULL)
      used[fc.n_cgroups++] = c->m->cgmounts[i];
  }
  fc.cgroups = used;
  if ((create && fs_create_minimal_root(&fc, err) < 0) || fs_populate_container_root(&fc, &c->fs, err) < 0)
    return pv_err_wrap(err, "container %s", c->id);
  return 0;
}

/* The plan: mounts and capabilities. */
static int make_plan(container *c, const container_config *cfg, pv_err *err) {
  if (plan_mounts(c, true, err) < 0)
    return -1;
  caps_ids ids = {.uid = cfg->uid, .gid = cfg->gid, .groups = cfg->groups, .n_groups = cfg->n_groups};
  if (caps_plan_init(&c->caps, cfg->cap_add, cfg->cap_drop, cfg->privileged, &ids, cfg->no_new_privs, err) < 0)
    return pv_err_wrap(err, "container %s", c->id);
  return 0;
}

int container_prepare_restart(container *c, pv_err *err) {
  /* destroy() failed after it removed the cgroup: only destroy is left. */
  if (c->cg == NULL)
    return pv_err_set(err, EINVAL, "container %s: half destroyed, destroy it again", c->id);
  /* Survivors of a run without its own pid namespace may still hold its
   * mount namespace, and with it the overlay over the same upper layer. */
  if (!resource_manager_is_empty(c->cg))
    return pv_err_set(err, EBUSY, "container %s: processes of its previous run are still in cgroup %s", c->id,
                      c->cgroup_path);
  /* An OOM kill of the previous run is not this run's. */
  resource_stats st;
  if (resource_manager_get_stats(c->cg, &st, NULL) == 0)
    c->oom_base = st.oom_kills;
  fs_plan_free(&c->fs);
  if (fs_reuse_container_root(c->dir, err) < 0)
    return pv_err_wrap(err, "container %s", c->id);
  if (plan_mounts(c, false, err) < 0)
    return -1;
  c->exit = (container_exit){0, 0, false};
  c->finished_ns = 0;
  return 0;
}

int container_manager_create(container_manager *m, const container_config *cfg, container **out,
                             pv_err *err) {
  if (!valid_id(cfg->id))
    return pv_err_set(err, EINVAL, "invalid container id '%s': use 1 to 128 of [A-Za-z0-9_.-]",
                      cfg->id ? cfg->id : "");
  if (container_manager_find(m, cfg->id) != NULL)
    return pv_err_set(err, EEXIST, "container %s already exists", cfg->id);
  if (cfg->rootfs == NULL || cfg->argv == NULL || cfg->argv[0] == NULL || cfg->argv[0][0] == '\0')
    return pv_err_set(err, EINVAL, "container %s: a rootfs and a command (argv[0]) are required", cfg->id);
  container *c = calloc(1, sizeof *c);
  if (c == NULL || (c->id = strdup(cfg->id)) == NULL) {
    free(c);
    return pv_err_sys(err, "container %s", cfg->id);
  }
  c->m = m;
  c->pidfd = -1;
  c->rootfs_lock = -1;
  c->ns.join_net = c->ns.join_ipc = c->ns.join_uts = c->ns.join_pid = c->ns.join_user = -1;
  bool made_dir = false;
  if (copy_config(c, cfg, err) < 0 || copy_fs_config(c, cfg, err) < 0 || lock_rootfs(c, cfg->rootfs, err) < 0)
    goto fail;
  /* An earlier container's survivors may still hold the path (a restart
   * under the same name): never share their cgroup. */
  if (m->n_pending > 0 && container_pending_reclaim(m, c->cgroup_path, err) < 0) {
    pv_err_wrap(err, "container %s", c->id);
    goto fail;
  }
  /* Every container is confined to the device allow-list, unless it is
   * privileged (all devices, as in Kubernetes) or the caller chose. */
  resource_limits limits = cfg->limits;
  if (limits.devices == RESOURCE_DEVICES_UNSET)
    limits.devices = cfg->privileged ? RESOURCE_DEVICES_ALL : RESOURCE_DEVICES_DEFAULT;
  if (resource_manager_create_cgroup(m->rm, c->cgroup_path, &limits, &c->cg, err) < 0) {
    pv_err_wrap(err, "container %s", c->id);
    goto fail;
  }
  /* A reused cgroup may carry older OOM kills: remember where we start
   * (a new one starts at zero; reading its five counters costs ~15 syscalls). */
  resource_stats st;
  if (!resource_manager_cgroup_is_new(c->cg) && resource_manager_get_stats(c->cg, &st, NULL) == 0)
    c->oom_base = st.oom_kills;
  made_dir = access(c->dir, F_OK) != 0;
  if (make_plan(c, cfg, err) < 0)
    goto fail;
  c->state = CONTAINER_CREATED;
  c->next = m->head;
  m->head = c;
  *out = c;
  return 0;
fail:;
  int saved = errno;
  if (made_dir)
    fs_cleanup_container_root(c->dir, NULL);
  if (c->cg != NULL && resource_manager_destroy_cgroup(c->cg, NULL) == 0)
    c->cg = NULL;
  container_free(c);
  errno = saved;
  return -1;
}

/* ---- wait / reap / kill / stop ---- */

int container_reap_blocking(int pidfd, siginfo_t *si) {
  return pv_pidfd_reap(pidfd, si);
}

void container_record_exit(container *c, const siginfo_t *si) {
  container_exit ex = {0, 0, false};
  if (si->si_code == CLD_EXITED) {
    ex.exit_code = si->si_status;
  } else {
    ex.signal = si->si_status;
    ex.exit_code = 128 + si->si_status;
  }
  /* The OOM killer sends SIGKILL; a shell that ran the victim reports 137. */
  resource_stats st;
  if ((ex.signal == SIGKILL || ex.exit_code == 137) && c->cg != NULL &&
      resource_manager_get_stats(c->cg, &st, NULL) == 0 && st.oom_kills > c->oom_base)
    ex.oom_killed = true;
  c->exit = ex;
  c->state = CONTAINER_STOPPED;
  c->finished_ns = container_wall_ns();
  if (c->pidfd >= 0)
    close(c->pidfd);
  c->pidfd = -1;
}

int container_manager_reap(container_manager *m, container *c, container_exit *ex, pv_err *err) {
  (void)m;
  if (c->state == CONTAINER_RUNNING) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r;
    do
      r = waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r < 0)
      return pv_err_sys(err, "container %s: waitid", c->id);
    if (si.si_pid == 0) {
      errno = EAGAIN;
      return -1;
    }
    container_record_exit(c, &si);
  } else if (c->state != CONTAINER_STOPPED) {
    return pv_err_set(err, EINVAL, "container %s: not started", c->id);
  }
  if (ex != NULL)
    *ex = c->exit;
  return 0;
}

int container_manager_wait(container_manager *m, container *c, container_exit *ex, pv_err *err) {
  if (c->state == CONTAINER_RUNNING) {
    siginfo_t si;
    if (container_reap_blocking(c->pidfd, &si) < 0)
      return pv_err_sys(err, "container %s: waitid", c->id);
    container_record_exit(c, &si);
  }
  return container_manager_reap(m, c, ex, err);
}

int container_manager_kill(container_manager *m, container *c, int sig, pv_err *err) {
  (void)m;
  if (c->state != CONTAINER_RUNNING)
    return pv_err_set(err, ESRCH, "container %s: not running (%s)", c->id, container_state_name(c->state));
  if (pv_pidfd_signal(c->pidfd, sig) < 0)
    return pv_err_sys(err, "container %s: send signal %d", c->id, sig);
  return 0;
}

/* SIGKILL for everything: the init (which takes its pid namespace along)
 * and, without a pid namespace of its own, every process of its cgroup. */
void container_kill_all(container *c) {
  pv_pidfd_signal(c->pidfd, SIGKILL);
  if (!c->new_pidns && c->cg != NULL)
    resource_manager_kill(c->cg, SIGKILL, NULL);
}

int container_manager_stop(container_manager *m, container *c, unsigned grace_ms, container_exit *ex,
                           pv_err *err) {
  if (c->state == CONTAINER_RUNNING) {
    if (pv_pidfd_signal(c->pidfd, SIGTERM) < 0 && errno != ESRCH)
      return pv_err_sys(err, "container %s: send SIGTERM", c->id);
    uint64_t deadline = pv_now_ns() + (uint64_t)grace_ms * 1000000ull;
    struct pollfd pfd = {.fd = c->pidfd, .events = POLLIN};
    for (;;) {
      uint64_t now = pv_now_ns();
      int left = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
      int r = poll(&pfd, 1, left);
      if (r > 0 || (r == 0 && left == 0) || (r < 0 && errno != EINTR))
        break;
    }
    if (!(pfd.revents & POLLIN))
      container_kill_all(c);
  } else if (c->state == CONTAINER_CREATED) {
    return pv_err_set(err, EINVAL, "container %s: not started", c->id);
  }
  return container_manager_wait(m, c, ex, err);
}
