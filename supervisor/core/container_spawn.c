/*
 * container_spawn.c - start and exec: the parent's half (clone, cgroup,
 * "go", verdict) and the child's half (syscalls only, up to execve).
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
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/container_internal.h"
#include "supervisor/core/util.h"

/* Container-level child steps (namespace, fs and caps have their own). */
enum { STEP_PDEATHSIG = 1, STEP_CWD, STEP_STDIO, STEP_EXEC };

struct fault {
  int step;
  int index;
  int err;
};

/* What a child needs besides its container; lives on the parent's stack. */
struct child_args {
  container *c;
  int sock, parent_sock;
  int fds[3];
  char *const *argv, *const *envp, *const *paths;
  const char *cwd;
  bool exec; /* container_manager_exec, not start */
};

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
    container_pidfd_signal(pidfd, SIGKILL);
    container_reap_blocking(pidfd, si);
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
    container_pidfd_signal(pidfd, SIGKILL);
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
  if (c->state != CONTAINER_CREATED)
    return pv_err_set(err, EINVAL, "container %s: cannot start a %s container", c->id,
                      container_state_name(c->state));
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return pv_err_sys(err, "container %s: socketpair", c->id);
  sv[0] = container_raise_fd(sv[0]);
  sv[1] = container_raise_fd(sv[1]);
  int devnull = -1;
  struct child_args a = {.c = c,
                         .sock = sv[1],
                         .parent_sock = sv[0],
                         .argv = c->argv,
                         .envp = c->envp,
                         .paths = c->paths,
                         .cwd = c->cwd};
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
  c->started_ns = container_wall_ns();
  siginfo_t si;
  if (spawn_finish(c, &a, sv[0], pid, pidfd, &si, err) < 0) {
    container_record_exit(c, &si);
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
  char **paths = container_exec_paths(x->argv[0], envp);
  int sv[2] = {-1, -1}, devnull = -1, r = -1;
  if (paths == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    pv_err_sys(err, "container %s: exec", c->id);
    goto out;
  }
  sv[0] = container_raise_fd(sv[0]);
  sv[1] = container_raise_fd(sv[1]);
  struct child_args a = {.c = c,
                         .sock = sv[1],
                         .parent_sock = sv[0],
                         .argv = x->argv,
                         .envp = envp,
                         .paths = paths,
                         .cwd = x->cwd != NULL ? x->cwd : c->cwd,
                         .exec = true,
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
  container_strv_free(paths);
  errno = saved;
  return r;
}
