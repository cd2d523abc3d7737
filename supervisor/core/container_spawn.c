/*
 * container_spawn.c - start and exec: the parent's half (cgroup fds, clone,
 * verdict) and the child's half (syscalls only, up to execve).
 *
 * The child places itself into its cgroup, first thing after clone, by
 * writing "0" through fds the parent opened before the clone (one per
 * hierarchy): no round trip with the parent, and everything the child does
 * afterwards (mounts, the cgroup namespace, exec) is already charged to and
 * confined by its cgroup.
 *
 * On cgroup v1 the file is "tasks", not "cgroup.procs".  The child has a
 * single thread (clone without CLONE_THREAD), so moving that thread moves
 * the whole process, and its later children follow it.  The difference is
 * the kernel's locking: a cgroup.procs write takes the global
 * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace
 * period (0.5 to several ms here, per hierarchy, and more under load),
 * while "0" written to tasks moves only the calling thread and skips that
 * lock (kernel/cgroup/cgroup.c, cgroup_procs_write_start).  cgroup v2 has
 * no such file for a domain cgroup (cgroup.threads is for threaded
 * subtrees), and no need for one: the child is born in its cgroup with
 * clone3(CLONE_INTO_CGROUP) (namespace.h), which skips the migration, and
 * which charges the clone itself to pids.max (so an exec into a container
 * at its pids limit fails with EAGAIN, as a fork inside it would).  Only
 * where the kernel lacks the flag (before 5.7) the child writes
 * cgroup.procs, through the fd opened for that fallback.
 *
 * The child reports over one SOCK_SEQPACKET pair (both ends close-on-exec):
 * a fault record {step, index, errno} when a step fails, or EOF when exec
 * succeeded (close-on-exec closed the child's end).  A send on a socket
 * never raises SIGPIPE (MSG_NOSIGNAL), unlike a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/container_internal.h"
#include "supervisor/core/seccomp.h"
#include "supervisor/core/util.h"

/* Container-level child steps (namespace, fs and caps have their own). */
enum { STEP_PDEATHSIG = 1, STEP_CGROUP, STEP_CWD, STEP_STDIO, STEP_TTY, STEP_SECCOMP, STEP_EXEC };

/* cpuset, cpu, cpuacct, memory, pids, devices: at most one directory each. */
#define MAX_PROCS 6

struct fault {
  int step;
  int index;
  int err;
};

/* What a child needs besides its container; lives on the parent's stack. */
struct child_args {
  container *c;
  int sock, parent_sock; /* sv[1], sv[0] */
  int devnull;           /* opened for a missing stdin, else -1 */
  int procs[MAX_PROCS];  /* tasks (v1) or cgroup.procs (v2) of each hierarchy, write-only */
  const char *procs_dir[MAX_PROCS];
  size_t n_procs;
  int cgroup_fd;  /* v2: the cgroup directory for CLONE_INTO_CGROUP, else -1 */
  bool in_cgroup; /* born there: join_cgroup has nothing to do */
  int fds[3];
  char *const *argv, *const *envp, *const *paths;
  const char *cwd;
  bool exec; /* container_manager_exec, not start */
  bool tty;  /* exec: stdin is the controlling terminal of a new session */
};

/* ---- the child (syscalls only) ---- */

static int child_fail(int sock, int step, int index) {
  struct fault f = {step, index, errno};
  send(sock, &f, sizeof f, MSG_NOSIGNAL);
  if (step == STEP_EXEC)
    return f.err == ENOENT ? 127 : 126;
  return 125;
}

/* Joins the container's cgroup in every hierarchy: "0" is the writer. */
static int join_cgroup(const struct child_args *a, int *index) {
  for (size_t i = 0; !a->in_cgroup && i < a->n_procs; i++) {
    ssize_t n;
    do
      n = write(a->procs[i], "0", 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) {
      *index = (int)i;
      return -1;
    }
  }
  return 0;
}

/* true when the parent is gone: its socket end is closed (EOF). */
static bool parent_gone(int sock) {
  char b;
  return recv(sock, &b, 1, MSG_DONTWAIT) == 0;
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

/* The seccomp filter goes in as late as the kernel allows.  With
 * no_new_privs (set by caps_apply) that is after setuid and the capability
 * drop, right before execve, so the filter need not allow what podvisor's
 * own steps use.  Without no_new_privs the kernel accepts a filter only
 * from a holder of CAP_SYS_ADMIN, which the drop may take away: the filter
 * then goes in just before it (runc's order as well). */
static bool seccomp_before_caps(const container *c) {
  return c->seccomp != NULL && !c->caps.no_new_privs;
}

static int install_seccomp(const struct child_args *a) {
  if (seccomp_install(a->c->seccomp) < 0)
    return child_fail(a->sock, STEP_SECCOMP, 0);
  return 0;
}

/* The last steps, shared by start and exec: cwd, stdio, caps, seccomp, exec. */
static int child_finish(const struct child_args *a, int step) {
  container *c = a->c;
  int index = -1;
  if (chdir(a->cwd) < 0)
    return child_fail(a->sock, STEP_CWD, 0);
  if (setup_stdio(a->fds) < 0)
    return child_fail(a->sock, STEP_STDIO, 0);
  /* A fresh clone is no process group leader, so setsid() succeeds; the
   * new session has no terminal until TIOCSCTTY gives it stdin's. */
  if (a->tty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
    return child_fail(a->sock, STEP_TTY, 0);
  reset_signals();
  umask(022);
  if (seccomp_before_caps(c) && install_seccomp(a) != 0)
    return 125;
  if (caps_apply(&c->caps, &step) < 0)
    return child_fail(a->sock, step, 0);
  /* setuid/setgid clear the parent-death signal: set it again. */
  if (!a->exec && c->pdeathsig && c->caps.set_ids && prctl(PR_SET_PDEATHSIG, c->pdeathsig) < 0)
    return child_fail(a->sock, STEP_PDEATHSIG, 0);
  if (c->seccomp != NULL && !seccomp_before_caps(c) && install_seccomp(a) != 0)
    return 125;
  exec_any(a, &index);
  return child_fail(a->sock, STEP_EXEC, index);
}

static int container_child(void *arg) {
  const struct child_args *a = arg;
  container *c = a->c;
  int step = 0, index = -1;
  close(a->parent_sock);
  umask(0);
  /* A parent that died before the prctl has closed its socket end. */
  if (c->pdeathsig && prctl(PR_SET_PDEATHSIG, c->pdeathsig) < 0)
    return child_fail(a->sock, STEP_PDEATHSIG, 0);
  if (c->pdeathsig && parent_gone(a->sock))
    return 1;
  if (join_cgroup(a, &index) < 0)
    return child_fail(a->sock, STEP_CGROUP, index);
  if (namespace_join(&c->ns, &step) < 0 || fs_mount_container_filesystems(&c->fs, 0, &step, &index) < 0 ||
      namespace_setup_isolation(&c->ns, &step) < 0 ||
      fs_mount_container_filesystems(&c->fs, 1, &step, &index) < 0 || fs_setup_pivot_root(&c->fs, &step) < 0 ||
      namespace_join_user(c->ns.join_user, &step) < 0)
    return child_fail(a->sock, step, index);
  /* Joining a user namespace changed the credentials: that cleared the
   * parent-death signal. */
  if (c->ns.join_user >= 0 && c->pdeathsig && prctl(PR_SET_PDEATHSIG, c->pdeathsig) < 0)
    return child_fail(a->sock, STEP_PDEATHSIG, 0);
  return child_finish(a, 0);
}

/* Joins the cgroup while still in the host's namespaces, then enters all
 * of the container's at once. */
static int exec_child(void *arg) {
  const struct child_args *a = arg;
  int step = 0, index = -1;
  close(a->parent_sock);
  if (join_cgroup(a, &index) < 0)
    return child_fail(a->sock, STEP_CGROUP, index);
  int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
  /* The user namespace apart and last: joined together with the others,
   * the mount namespace (the host's user namespace owns it) would be
   * refused to the process it made root of the pod's. */
  if (namespace_enter_process(a->c->pidfd, flags, &step) < 0 || namespace_join_user(a->c->ns.join_user, &step) < 0)
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
  case STEP_CGROUP:
    snprintf(buf, len, "join the cgroup %s",
             f->index >= 0 && (size_t)f->index < a->n_procs ? a->procs_dir[f->index] : c->cgroup_path);
    break;
  case STEP_CWD: snprintf(buf, len, "chdir to the working directory %s", a->cwd); break;
  case STEP_STDIO: snprintf(buf, len, "set up stdin/stdout/stderr"); break;
  case STEP_TTY: snprintf(buf, len, "make stdin the controlling terminal of a new session"); break;
  case STEP_SECCOMP: snprintf(buf, len, "install the seccomp filter"); break;
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

/* Reads the child's verdict: 0 after exec (EOF), 1 with *f on a fault. */
static int read_verdict(int sock, struct fault *f) {
  ssize_t n;
  do
    n = recv(sock, f, sizeof *f, 0);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)sizeof *f)
    return 1;
  return n == 0 ? 0 : -1;
}

/* Opens what the child uses from the parent: the socket pair, /dev/null
 * for a missing stdin, and the file that joins each of the cgroup's
 * hierarchies (tasks on v1, cgroup.procs on v2).  a->sock etc. start at
 * -1; spawn_close() closes them. */
static int spawn_open(container *c, struct child_args *a, pv_err *err) {
  static const char *const ctrls[] = {"cpuset", "cpu", "cpuacct", "memory", "pids", "devices"};
  /* See the top of this file: the thread-only file where there is one. */
  const char *procs = resource_manager_version(c->m->rm) == CGROUP_V1 ? "tasks" : "cgroup.procs";
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return pv_err_sys(err, "socketpair");
  a->parent_sock = container_raise_fd(sv[0]);
  a->sock = container_raise_fd(sv[1]);
  if (a->parent_sock < 0 || a->sock < 0)
    return pv_err_sys(err, "socketpair");
  if (a->fds[0] < 0 && (a->fds[0] = a->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
    return pv_err_sys(err, "open /dev/null");
  for (size_t i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++) {
    const char *dir = cgroup_handle_dir(c->cg, ctrls[i]);
    bool seen = dir == NULL;
    for (size_t k = 0; !seen && k < a->n_procs; k++)
      seen = strcmp(a->procs_dir[k], dir) == 0;
    if (seen)
      continue;
    char path[PATH_MAX];
    int fd = pv_path(path, sizeof path, "%s/%s", dir, procs) < 0 ? -1 : open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return pv_err_sys(err, "open %s/%s", dir, procs);
    a->procs_dir[a->n_procs] = dir;
    a->procs[a->n_procs++] = fd;
  }
  if (resource_manager_version(c->m->rm) == CGROUP_V2 && a->n_procs == 1 &&
      (a->cgroup_fd = open(a->procs_dir[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return pv_err_sys(err, "open %s", a->procs_dir[0]);
  return 0;
}

static void spawn_close(struct child_args *a) {
  int saved = errno;
  int *fds[] = {&a->sock, &a->parent_sock, &a->devnull, &a->cgroup_fd};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (*fds[i] >= 0) {
      close(*fds[i]);
      *fds[i] = -1;
    }
  for (size_t i = 0; i < a->n_procs; i++)
    close(a->procs[i]);
  a->n_procs = 0;
  errno = saved;
}

/* The parent's half after a successful clone: waits for the verdict.  On
 * failure the child is reaped (its status in *si) and -1 returned. */
static int spawn_finish(container *c, struct child_args *a, int pidfd, siginfo_t *si, pv_err *err) {
  struct fault f;
  char what[PATH_MAX + 128];
  close(a->sock);
  a->sock = -1;
  int r = read_verdict(a->parent_sock, &f);
  if (r == 0)
    return 0;
  if (r < 0) {
    int saved = errno;
    pv_pidfd_signal(pidfd, SIGKILL);
    container_reap_blocking(pidfd, si);
    errno = saved;
    return pv_err_sys(err, "container %s: read the start status", c->id);
  }
  container_reap_blocking(pidfd, si);
  describe_fault(c, a, &f, what, sizeof what);
  errno = f.err;
  return pv_err_sys(err, "container %s: %s", c->id, what);
}

int container_manager_start(container_manager *m, container *c, pv_err *err) {
  (void)m;
  if (c->state != CONTAINER_CREATED && c->state != CONTAINER_STOPPED)
    return pv_err_set(err, EINVAL, "container %s: cannot start a %s container", c->id,
                      container_state_name(c->state));
  if (c->state == CONTAINER_STOPPED && container_prepare_restart(c, err) < 0)
    return -1;
  struct child_args a = {.c = c,
                         .sock = -1,
                         .parent_sock = -1,
                         .devnull = -1,
                         .cgroup_fd = -1,
                         .argv = c->argv,
                         .envp = c->envp,
                         .paths = c->paths,
                         .cwd = c->cwd};
  memcpy(a.fds, c->fds, sizeof a.fds);
  pid_t pid;
  int pidfd;
  if (spawn_open(c, &a, err) < 0 ||
      namespace_create_container_into(&c->ns, a.cgroup_fd, &a.in_cgroup, container_child, &a, &pid, &pidfd,
                                      err) < 0) {
    pv_err_wrap(err, "container %s", c->id);
    spawn_close(&a);
    return -1;
  }
  c->pid = pid;
  c->pidfd = pidfd;
  c->started_ns = container_wall_ns();
  siginfo_t si;
  int r = spawn_finish(c, &a, pidfd, &si, err);
  if (r < 0) {
    container_record_exit(c, &si);
  } else {
    c->state = CONTAINER_RUNNING;
    /* The mount plan served the child only (a start after a stop plans
     * again): a supervisor keeping many containers should not hold it. */
    fs_plan_free(&c->fs);
  }
  spawn_close(&a);
  return r;
}

int container_manager_set_stdio(container_manager *m, container *c, int stdin_fd, int stdout_fd,
                                int stderr_fd, pv_err *err) {
  (void)m;
  if (c->state != CONTAINER_CREATED && c->state != CONTAINER_STOPPED)
    return pv_err_set(err, EINVAL, "container %s: stdio can only be set before a start (it is %s)", c->id,
                      container_state_name(c->state));
  c->fds[0] = stdin_fd;
  c->fds[1] = stdout_fd;
  c->fds[2] = stderr_fd;
  return 0;
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
  char **paths = container_exec_paths(x->argv[0], envp);
  if (paths == NULL)
    return pv_err_sys(err, "container %s: exec", c->id);
  struct child_args a = {.c = c,
                         .sock = -1,
                         .parent_sock = -1,
                         .devnull = -1,
                         .cgroup_fd = -1,
                         .argv = x->argv,
                         .envp = envp,
                         .paths = paths,
                         .cwd = x->cwd != NULL ? x->cwd : c->cwd,
                         .exec = true,
                         .tty = x->tty,
                         .fds = {x->stdin_fd, x->stdout_fd, x->stderr_fd}};
  int r = -1;
  /* Born in the container's pid namespace (see namespace.h). */
  if (spawn_open(c, &a, err) < 0 ||
      namespace_clone_process_into(0, c->pidfd, a.cgroup_fd, &a.in_cgroup, exec_child, &a, pid, pidfd, err) <
          0) {
    pv_err_wrap(err, "container %s: exec", c->id);
  } else {
    siginfo_t si;
    r = spawn_finish(c, &a, *pidfd, &si, err);
    if (r < 0) {
      close(*pidfd);
      *pidfd = -1;
      pv_err_wrap(err, "exec");
    }
  }
  spawn_close(&a);
  container_strv_free(paths);
  return r;
}
