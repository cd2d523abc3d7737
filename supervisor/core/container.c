/*
 * container.c - the core lifecycle API (container.h): plan, clone, watch.
 *
 * create() does every allocation and every file-system preparation: the
 * deep copy of the config, <state_dir>/<id>/{upper,work,merged}, the cgroup
 * with its limits, the mount plan (fs.c), the capability plan (caps.c) and
 * the list of paths argv[0] may live at.  start() then only opens a socket
 * pair, clones, places the child into the cgroup and lets it go.
 *
 * The child and the parent talk over one SOCK_SEQPACKET pair (both ends
 * close-on-exec):
 *   parent → child: one byte "go" once the child is in its cgroup.  EOF
 *     instead means the parent gave up (or died): the child exits quietly.
 *   child → parent: a fault record {step, index, errno} when a step fails,
 *     or EOF when exec succeeded (close-on-exec closed the child's end).
 * While the parent writes cgroup.procs the child already builds its mounts,
 * which need no cgroup; the cgroup namespace and the cgroup mounts wait for
 * "go".  A send on a socket never raises SIGPIPE (MSG_NOSIGNAL), unlike a
 * pipe, so a dead child cannot kill the caller.
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/caps.h"
#include "supervisor/core/fs.h"
#include "supervisor/core/namespace.h"
#include "supervisor/core/util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define DEFAULT_STATE_DIR "/var/lib/podvisor/containers"
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Container-level child steps (namespace, fs and caps have their own). */
enum { STEP_PDEATHSIG = 1, STEP_CWD, STEP_STDIO, STEP_EXEC };

struct fault {
  int step;
  int index;
  int err;
};

struct container_manager {
  char *state_dir;
  resource_manager *rm;
  bool use_chroot;
  fs_cgroup_mount *cgmounts; /* v1 hierarchies, for /sys/fs/cgroup inside */
  size_t n_cgmounts;
  container *head;
};

struct container {
  container_manager *m;
  container *next;
  char *id;
  container_state state;
  char **argv, **envp, **paths; /* paths: where argv[0] may be */
  char *cwd;
  char *dir;                    /* <state_dir>/<id> */
  char *cgroup_path;
  int fds[3];                   /* the caller's stdio fds, used by start only */
  int pdeathsig;
  bool new_pidns;
  namespace_config ns;
  fs_plan fs;
  caps_plan caps;
  cgroup_handle *cg;
  uint64_t oom_base;
  pid_t pid;
  int pidfd;
  uint64_t started_ns, finished_ns;
  container_exit exit;
};

/* What a child needs besides its container; lives on the parent's stack. */
struct child_args {
  container *c;
  int sock, parent_sock;
  int fds[3];
  char *const *argv, *const *envp, *const *paths;
  const char *cwd;
  bool exec;                    /* container_manager_exec, not start */
};

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
  cfg->join = (container_join){-1, -1, -1, -1};
  cfg->no_new_privs = true;
  cfg->stdin_fd = cfg->stdout_fd = cfg->stderr_fd = -1;
  resource_limits_init(&cfg->limits);
}

/* ---- small helpers ---- */

static void strv_free(char **v) {
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
      strv_free(out);
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
  strv_free(out);
  return NULL;
}

/* Every path execve() should try for argv[0], as execvp would search the
 * container's PATH (computed here because the child must not allocate). */
static char **exec_paths(const char *arg0, char *const *envp) {
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
      strv_free(out);
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

static int pidfd_signal(int pidfd, int sig) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Moves fd to a number >= 3 so the child's dup2 onto 0..2 cannot clobber it. */
static int raise_fd(int fd) {
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
      resource_manager_init(&m->rm, opts != NULL ? opts->cgroup_root : NULL, err) < 0) {
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

void container_manager_cleanup(container_manager *m) {
  if (m == NULL)
    return;
  while (m->head != NULL) {
    container *c = m->head;
    if (container_manager_destroy(m, c, NULL) < 0 && m->head == c) {
      /* Could not tear it down completely: forget it rather than loop. */
      m->head = c->next;
    }
  }
  resource_manager_cleanup(m->rm);
  fs_cgroup_mounts_free(m->cgmounts, m->n_cgmounts);
  free(m->state_dir);
  free(m);
}

resource_manager *container_manager_resources(container_manager *m) { return m->rm; }

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

const char *container_id(const container *c) { return c->id; }
container_state container_get_state(const container *c) { return c->state; }
pid_t container_pid(const container *c) { return c->state == CONTAINER_RUNNING ? c->pid : 0; }
int container_pidfd(const container *c) { return c->state == CONTAINER_RUNNING ? c->pidfd : -1; }

/* ---- create ---- */

static void container_free(container *c) {
  if (c == NULL)
    return;
  strv_free(c->argv);
  strv_free(c->envp);
  strv_free(c->paths);
  free(c->cwd);
  free(c->dir);
  free(c->cgroup_path);
  free(c->id);
  int *joins[] = {&c->ns.join_net, &c->ns.join_ipc, &c->ns.join_uts, &c->ns.join_pid};
  for (size_t i = 0; i < 4; i++)
    if (*joins[i] >= 0)
      close(*joins[i]);
  if (c->pidfd >= 0)
    close(c->pidfd);
  fs_plan_free(&c->fs);
  caps_plan_free(&c->caps);
  resource_manager_close_cgroup(c->cg);
  free(c);
}

static int copy_config(container *c, const container_config *cfg, pv_err *err) {
  namespace_config_init(&c->ns);
  c->ns.flags = cfg->namespaces != 0 ? cfg->namespaces : NAMESPACE_ALL;
  if (!(c->ns.flags & CLONE_NEWNS) || (c->ns.flags & ~NAMESPACE_ALL))
    return pv_err_set(err, EINVAL, "container %s: namespaces 0x%x: a mount namespace is required, and only "
                      "pid, mount, uts, ipc, net and cgroup are supported", c->id, (unsigned)cfg->namespaces);
  c->new_pidns = (c->ns.flags & CLONE_NEWPID) && cfg->join.pid < 0;
  int src[] = {cfg->join.net, cfg->join.ipc, cfg->join.uts, cfg->join.pid};
  int *dst[] = {&c->ns.join_net, &c->ns.join_ipc, &c->ns.join_uts, &c->ns.join_pid};
  for (size_t i = 0; i < 4; i++)
    if (src[i] >= 0 && (*dst[i] = raise_fd(fcntl(src[i], F_DUPFD_CLOEXEC, 3))) < 0)
      return pv_err_sys(err, "container %s: duplicate the namespace fd %d to join", c->id, src[i]);
  if (cfg->hostname != NULL && namespace_set_hostname(&c->ns, cfg->hostname, err) < 0)
    return pv_err_wrap(err, "container %s", c->id);
  c->argv = strv_dup(cfg->argv, 0);
  c->envp = env_build(cfg->envp);
  c->cwd = strdup(cfg->cwd != NULL ? cfg->cwd : "/");
  if (c->argv == NULL || c->envp == NULL || c->cwd == NULL ||
      (c->paths = exec_paths(c->argv[0], c->envp)) == NULL ||
      asprintf(&c->dir, "%s/%s", c->m->state_dir, c->id) < 0 ||
      (cfg->cgroup_path != NULL ? (c->cgroup_path = strdup(cfg->cgroup_path)) == NULL
                                : asprintf(&c->cgroup_path, "podvisor/%s", c->id) < 0))
    return pv_err_sys(err, "container %s: copy the config", c->id);
  c->fds[0] = cfg->stdin_fd;
  c->fds[1] = cfg->stdout_fd;
  c->fds[2] = cfg->stderr_fd;
  c->pdeathsig = cfg->pdeathsig;
  return 0;
}

/* The plan: mounts (with the container's cgroups) and capabilities. */
static int make_plan(container *c, const container_config *cfg, pv_err *err) {
  fs_config fc;
  fs_config_init(&fc);
  fc.rootfs = cfg->rootfs;
  fc.dir = c->dir;
  fc.readonly_rootfs = cfg->readonly_rootfs;
  fc.privileged = cfg->privileged;
  fc.use_chroot = c->m->use_chroot;
  fc.cgroup_ns = (c->ns.flags & CLONE_NEWCGROUP) != 0;
  fc.cgroup2 = resource_manager_version(c->m->rm) == CGROUP_V2;
  fc.mounts = cfg->mounts;
  fc.n_mounts = cfg->n_mounts;
  fs_cgroup_mount used[32];
  for (size_t i = 0; i < c->m->n_cgmounts && fc.n_cgroups < 32; i++) {
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(c->m->cgmounts[i].options, ","),
             c->m->cgmounts[i].options);
    if (cgroup_handle_dir(c->cg, first) != NULL)
      used[fc.n_cgroups++] = c->m->cgmounts[i];
  }
  fc.cgroups = used;
  if (fs_create_minimal_root(&fc, err) < 0 || fs_populate_container_root(&fc, &c->fs, err) < 0 ||
      caps_plan_init(&c->caps, cfg->cap_add, cfg->cap_drop, cfg->privileged, cfg->uid, cfg->gid,
                     cfg->no_new_privs, err) < 0)
    return pv_err_wrap(err, "container %s", c->id);
  return 0;
}

int container_manager_create(container_manager *m, const container_config *cfg, container **out, pv_err *err) {
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
  c->ns.join_net = c->ns.join_ipc = c->ns.join_uts = c->ns.join_pid = -1;
  bool made_dir = false;
  if (copy_config(c, cfg, err) < 0)
    goto fail;
  if (resource_manager_create_cgroup(m->rm, c->cgroup_path, &cfg->limits, &c->cg, err) < 0) {
    pv_err_wrap(err, "container %s", c->id);
    goto fail;
  }
  /* A reused cgroup may carry older OOM kills: remember where we start. */
  resource_stats st;
  if (resource_manager_get_stats(c->cg, &st, NULL) == 0)
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

/* ---- the child (syscalls only) ---- */

static int child_fail(int sock, int step, int index) {
  struct fault f = {step, index, errno};
  send(sock, &f, sizeof f, MSG_NOSIGNAL);
  if (step == STEP_EXEC)
    return f.err == ENOENT ? 127 : 126;
  return 125;
}

/* true once the parent said "go"; false on EOF (the parent gave up). */
static bool wait_go(int sock) {
  char b;
  ssize_t n;
  do
    n = recv(sock, &b, 1, 0);
  while (n < 0 && errno == EINTR);
  return n == 1;
}

static int setup_stdio(const int fds[3]) {
  int tmp[3];
  for (int i = 0; i < 3; i++)
    if ((tmp[i] = fds[i] < 0 ? -1 : fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0 && fds[i] >= 0)
      return -1;
  for (int i = 0; i < 3; i++)
    if (tmp[i] >= 0 && dup2(tmp[i], i) < 0)
      return -1;
  return 0;
}

/* A container starts with no blocked and no ignored signal, whatever its
 * caller had (a supervisor blocks signals for its signalfd and often
 * ignores SIGPIPE); handlers are reset by exec anyway. */
static void reset_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction(sig, &dfl, NULL);
}

/* Tries every planned path like execvp; returns with errno on failure. */
static void exec_any(const struct child_args *a, int *index) {
  int saved = ENOENT;
  for (int i = 0; a->paths[i] != NULL; i++) {
    execve(a->paths[i], a->argv, a->envp);
    if (errno == EACCES) {
      saved = EACCES;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      saved = errno;
      *index = i;
      break;
    }
  }
  errno = saved;
}

/* The last steps, shared by start and exec: cwd, stdio, caps, exec. */
static int child_finish(const struct child_args *a, int step) {
  container *c = a->c;
  int index = -1;
  if (chdir(a->cwd) < 0)
    return child_fail(a->sock, STEP_CWD, 0);
  if (setup_stdio(a->fds) < 0)
    return child_fail(a->sock, STEP_STDIO, 0);
  reset_signals();
  umask(022);
  if (caps_apply(&c->caps, &step) < 0)
    return child_fail(a->sock, step, 0);
  /* setuid/setgid clear the parent-death signal: set it again. */
  if (!a->exec && c->pdeathsig && c->caps.set_ids && prctl(PR_SET_PDEATHSIG, c->pdeathsig) < 0)
    return child_fail(a->sock, STEP_PDEATHSIG, 0);
  exec_any(a, &index);
  return child_fail(a->sock, STEP_EXEC, index);
}

static int container_child(void *arg) {
  const struct child_args *a = arg;
  container *c = a->c;
  int step = 0, index = -1;
  close(a->parent_sock);
  umask(0);
  /* The parent's death after this point closes its socket end, so wait_go()
   * below sees EOF even if the signal raced with the clone. */
  if (c->pdeathsig && prctl(PR_SET_PDEATHSIG, c->pdeathsig) < 0)
    return child_fail(a->sock, STEP_PDEATHSIG, 0);
  if (namespace_join(&c->ns, &step) < 0 || fs_mount_container_filesystems(&c->fs, 0, &step, &index) < 0)
    return child_fail(a->sock, step, index);
  if (!wait_go(a->sock))
    return 1;
  if (namespace_setup_isolation(&c->ns, &step) < 0 ||
      fs_mount_container_filesystems(&c->fs, 1, &step, &index) < 0 || fs_setup_pivot_root(&c->fs, &step) < 0)
    return child_fail(a->sock, step, index);
  return child_finish(a, 0);
}

static int exec_child(void *arg) {
  const struct child_args *a = arg;
  int step = 0;
  close(a->parent_sock);
  if (!wait_go(a->sock))
    return 1;
  int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
  if (namespace_enter_process(a->c->pidfd, flags, &step) < 0)
    return child_fail(a->sock, step, 0);
  return child_finish(a, 0);
}

/* ---- start / exec (parent) ---- */

static void describe_fault(const container *c, const struct child_args *a, const struct fault *f, char *buf,
                           size_t len) {
  const char *name;
  if (fs_step_describe(&c->fs, f->step, f->index, buf, len))
    return;
  if ((name = namespace_step_name(f->step)) != NULL || (name = caps_step_name(f->step)) != NULL) {
    snprintf(buf, len, "%s", name);
    return;
  }
  switch (f->step) {
  case STEP_PDEATHSIG: snprintf(buf, len, "prctl PR_SET_PDEATHSIG"); break;
  case STEP_CWD: snprintf(buf, len, "chdir to the working directory %s", a->cwd); break;
  case STEP_STDIO: snprintf(buf, len, "set up stdin/stdout/stderr"); break;
  case STEP_EXEC:
    if (f->index >= 0)
      snprintf(buf, len, "exec %s", a->paths[f->index]);
    else if (strchr(a->argv[0], '/') != NULL)
      snprintf(buf, len, "exec %s", a->argv[0]);
    else
      snprintf(buf, len, "exec %s: not found in the container's PATH", a->argv[0]);
    break;
  default: snprintf(buf, len, "step %d", f->step); break;
  }
}

static int reap_blocking(int pidfd, siginfo_t *si) {
  int r;
  memset(si, 0, sizeof *si);
  do
    r = waitid((idtype_t)P_PIDFD, (id_t)pidfd, si, WEXITED);
  while (r < 0 && errno == EINTR);
  return r;
}

/* Reads the child's verdict: 0 after exec (EOF), 1 with *f on a fault. */
static int read_verdict(int sock, struct fault *f, int flags) {
  ssize_t n;
  do
    n = recv(sock, f, sizeof *f, flags);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)sizeof *f)
    return 1;
  return n == 0 ? 0 : -1;
}

/* Common parent half of start and exec: cgroup, go, verdict.  On failure
 * the child is killed and reaped (its status in *si) and -1 returned. */
static int spawn_finish(container *c, const struct child_args *a, int sock, pid_t pid, int pidfd,
                        siginfo_t *si, pv_err *err) {
  struct fault f;
  char what[PATH_MAX + 128];
  int r = 0;
  if (resource_manager_add_process(c->cg, pid, err) < 0) {
    int saved = errno;
    /* A child that failed early explains the failure better. */
    bool fault = read_verdict(sock, &f, MSG_DONTWAIT) == 1;
    pidfd_signal(pidfd, SIGKILL);
    reap_blocking(pidfd, si);
    if (!fault) {
      errno = saved;
      return pv_err_wrap(err, "container %s: place the process into its cgroup", c->id);
    }
    r = 1;
  } else {
    /* EPIPE: the child already failed; its fault record is still queued. */
    if (send(sock, "g", 1, MSG_NOSIGNAL) != 1 && errno != EPIPE && errno != ECONNRESET)
      r = -1;
    else
      r = read_verdict(sock, &f, 0);
  }
  if (r == 0)
    return 0;
  if (r < 0) {
    int saved = errno;
    pidfd_signal(pidfd, SIGKILL);
    reap_blocking(pidfd, si);
    errno = saved;
    return pv_err_sys(err, "container %s: read the start status", c->id);
  }
  reap_blocking(pidfd, si);
  describe_fault(c, a, &f, what, sizeof what);
  errno = f.err;
  return pv_err_sys(err, "container %s: %s", c->id, what);
}

static void record_exit(container *c, const siginfo_t *si) {
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
  c->finished_ns = pv_now_ns();
  if (c->pidfd >= 0)
    close(c->pidfd);
  c->pidfd = -1;
}

int container_manager_start(container_manager *m, container *c, pv_err *err) {
  (void)m;
  if (c->state != CONTAINER_CREATED)
    return pv_err_set(err, EINVAL, "container %s: cannot start a %s container", c->id,
                      container_state_name(c->state));
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return pv_err_sys(err, "container %s: socketpair", c->id);
  sv[0] = raise_fd(sv[0]);
  sv[1] = raise_fd(sv[1]);
  int devnull = -1;
  struct child_args a = {.c = c, .sock = sv[1], .parent_sock = sv[0], .argv = c->argv, .envp = c->envp,
                         .paths = c->paths, .cwd = c->cwd};
  memcpy(a.fds, c->fds, sizeof a.fds);
  if (a.fds[0] < 0 && (a.fds[0] = devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
    pv_err_sys(err, "container %s: open /dev/null", c->id);
    goto out;
  }
  if (sv[0] < 0 || sv[1] < 0) {
    pv_err_sys(err, "container %s: socketpair", c->id);
    goto out;
  }
  pid_t pid;
  int pidfd;
  if (namespace_create_container(&c->ns, container_child, &a, &pid, &pidfd, err) < 0) {
    pv_err_wrap(err, "container %s", c->id);
    goto out;
  }
  close(sv[1]);
  sv[1] = -1;
  c->pid = pid;
  c->pidfd = pidfd;
  c->started_ns = pv_now_ns();
  siginfo_t si;
  if (spawn_finish(c, &a, sv[0], pid, pidfd, &si, err) < 0) {
    record_exit(c, &si);
    goto out;
  }
  c->state = CONTAINER_RUNNING;
  close(sv[0]);
  if (devnull >= 0)
    close(devnull);
  return 0;
out:;
  int saved = errno;
  for (int i = 0; i < 2; i++)
    if (sv[i] >= 0)
      close(sv[i]);
  if (devnull >= 0)
    close(devnull);
  errno = saved;
  return -1;
}

int container_manager_exec(container_manager *m, container *c, const container_exec_config *x, pid_t *pid,
                           int *pidfd, pv_err *err) {
  (void)m;
  if (c->state != CONTAINER_RUNNING)
    return pv_err_set(err, EINVAL, "container %s: exec needs a running container (it is %s)", c->id,
                      container_state_name(c->state));
  if (x->argv == NULL || x->argv[0] == NULL || x->argv[0][0] == '\0')
    return pv_err_set(err, EINVAL, "container %s: exec: no command", c->id);
  char *const *envp = x->envp != NULL ? x->envp : c->envp;
  char **paths = exec_paths(x->argv[0], envp);
  int sv[2] = {-1, -1}, devnull = -1, r = -1;
  if (paths == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    pv_err_sys(err, "container %s: exec", c->id);
    goto out;
  }
  sv[0] = raise_fd(sv[0]);
  sv[1] = raise_fd(sv[1]);
  struct child_args a = {.c = c, .sock = sv[1], .parent_sock = sv[0], .argv = x->argv, .envp = envp,
                         .paths = paths, .cwd = x->cwd != NULL ? x->cwd : c->cwd, .exec = true,
                         .fds = {x->stdin_fd, x->stdout_fd, x->stderr_fd}};
  if (sv[0] < 0 || sv[1] < 0 ||
      (a.fds[0] < 0 && (a.fds[0] = devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)) {
    pv_err_sys(err, "container %s: exec", c->id);
    goto out;
  }
  /* Born in the container's pid namespace (see namespace.h). */
  if (namespace_clone_process(0, c->pidfd, exec_child, &a, pid, pidfd, err) < 0) {
    pv_err_wrap(err, "container %s: exec", c->id);
    goto out;
  }
  close(sv[1]);
  sv[1] = -1;
  siginfo_t si;
  if (spawn_finish(c, &a, sv[0], *pid, *pidfd, &si, err) < 0) {
    close(*pidfd);
    *pidfd = -1;
    pv_err_wrap(err, "exec");
    goto out;
  }
  r = 0;
out:;
  int saved = errno;
  for (int i = 0; i < 2; i++)
    if (sv[i] >= 0)
      close(sv[i]);
  if (devnull >= 0)
    close(devnull);
  strv_free(paths);
  errno = saved;
  return r;
}

/* ---- wait / reap / kill / stop ---- */

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
    record_exit(c, &si);
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
    if (reap_blocking(c->pidfd, &si) < 0)
      return pv_err_sys(err, "container %s: waitid", c->id);
    record_exit(c, &si);
  }
  return container_manager_reap(m, c, ex, err);
}

int container_manager_kill(container_manager *m, container *c, int sig, pv_err *err) {
  (void)m;
  if (c->state != CONTAINER_RUNNING)
    return pv_err_set(err, ESRCH, "container %s: not running (%s)", c->id, container_state_name(c->state));
  if (pidfd_signal(c->pidfd, sig) < 0)
    return pv_err_sys(err, "container %s: send signal %d", c->id, sig);
  return 0;
}

/* SIGKILL for everything: the init (which takes its pid namespace along)
 * and, without a pid namespace of its own, every process of its cgroup. */
static void kill_all(container *c) {
  pidfd_signal(c->pidfd, SIGKILL);
  if (!c->new_pidns && c->cg != NULL)
    resource_manager_kill(c->cg, SIGKILL, NULL);
}

int container_manager_stop(container_manager *m, container *c, unsigned grace_ms, container_exit *ex,
                           pv_err *err) {
  if (c->state == CONTAINER_RUNNING) {
    if (pidfd_signal(c->pidfd, SIGTERM) < 0 && errno != ESRCH)
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
      kill_all(c);
  } else if (c->state == CONTAINER_CREATED) {
    return pv_err_set(err, EINVAL, "container %s: not started", c->id);
  }
  return container_manager_wait(m, c, ex, err);
}

/* ---- destroy / run ---- */

int container_manager_destroy(container_manager *m, container *c, pv_err *err) {
  if (c->state == CONTAINER_RUNNING) {
    kill_all(c);
    if (container_manager_wait(m, c, NULL, err) < 0)
      return -1;
  }
  /* In its own pid namespace the init's exit means every process of the
   * container is gone (the kernel reaps the namespace before the init
   * becomes a zombie).  Otherwise the cgroup may hold survivors: kill them
   * and give them a moment to die; that is a wait for an empty cgroup, the
   * rmdir below still runs once. */
  if (c->cg != NULL && !c->new_pidns && !resource_manager_is_empty(c->cg)) {
    resource_manager_kill(c->cg, SIGKILL, NULL);
    for (int i = 0; i < 200 && !resource_manager_is_empty(c->cg); i++)
      nanosleep(&(struct timespec){0, 5000000}, NULL);
  }
  if (c->cg != NULL) {
    if (resource_manager_destroy_cgroup(c->cg, err) < 0)
      return pv_err_wrap(err, "container %s: remove the cgroup", c->id);
    c->cg = NULL;
  }
  if (fs_cleanup_container_root(c->dir, err) < 0)
    return pv_err_wrap(err, "container %s: remove %s", c->id, c->dir);
  for (container **p = &m->head; *p != NULL; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  c->state = CONTAINER_DESTROYED;
  container_free(c);
  return 0;
}

int container_manager_run(container_manager *m, const container_config *cfg, container_exit *ex, pv_err *err) {
  container *c;
  if (container_manager_create(m, cfg, &c, err) < 0)
    return -1;
  int r = container_manager_start(m, c, err);
  if (r == 0)
    r = container_manager_wait(m, c, ex, err);
  else if (ex != NULL)
    *ex = c->exit;
  pv_err tmp;
  if (container_manager_destroy(m, c, r == 0 ? err : &tmp) < 0 && r == 0)
    r = -1;
  return r;
}
