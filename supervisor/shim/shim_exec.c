/* shim_exec.c - the exec op: a process run inside a running container's
 * namespaces and cgroup (container_manager_exec), with the client's stdio
 * descriptors or a pty the shim allocates.
 *
 * The reply {"pid":N} carries the pty's master when tty was asked for (the
 * client resizes it with TIOCSWINSZ and the shim keeps no copy); the exit
 * event follows when the process ends, and the shim then closes the
 * connection.  A client that goes away first takes its process with it:
 * SIGKILL through the pidfd, reaped when the pidfd polls readable.  The
 * process is the shim's child, watched on the loop like a container; if
 * the container ends first, the kernel ends it with its pid namespace. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/shim_proc.h"

typedef struct shim_exec {
  shim *sh;
  shimsock_conn *conn; /* NULL once the connection is gone */
  uv_poll_t poll;
  int pidfd;
  pid_t pid;
  bool exited;
} shim_exec;

static void reply_error(shimsock_conn *c, ctlproto_reason r, const char *msg) {
  size_t len;
  char *line = ctlproto_reply_error(r, msg, &len);
  shimsock_reply(c, line, len, -1);
}

static void on_exec_closed(uv_handle_t *h) {
  shim_exec *x = h->data;
  close(x->pidfd);
  free(x);
}

static void on_exec_exit(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  shim_exec *x = h->data;
  siginfo_t si;
  int rc = pv_pidfd_try_reap(x->pidfd, &si);
  if (rc == 0)
    return;
  x->exited = true;
  int code = rc < 0 ? 255 : si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
  if (x->conn != NULL) {
    size_t len;
    char *line = ctlproto_event_exit(code, &len);
    shimsock_send(x->conn, line, len);
    shimsock_end(x->conn);
    x->conn = NULL;
  }
  uv_close((uv_handle_t *)&x->poll, on_exec_closed);
}

void shim_exec_released(shim *sh, void *data) {
  (void)sh;
  shim_exec *x = data;
  x->conn = NULL;
  if (!x->exited)
    pv_pidfd_signal(x->pidfd, SIGKILL); /* reaped by on_exec_exit */
}

/* A pty pair for the process: *master for the client, *slave for stdio. */
static int open_pty(int *master, int *slave, pv_err *err) {
  char name[128];
  *slave = -1;
  *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0)
    return pv_err_sys(err, "exec: open a pty");
  if (grantpt(*master) < 0 || unlockpt(*master) < 0 || ptsname_r(*master, name, sizeof name) != 0 ||
      (*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
    pv_err_sys(err, "exec: set up the pty");
    close(*master);
    *master = -1;
    return -1;
  }
  return 0;
}

static void close_fds(int *fds, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

/* Checks the descriptors passed against the request; replies and returns
 * false when they do not fit. */
static bool exec_fds_fit(shimsock_conn *c, const ctlproto_request *req, size_t nfds) {
  size_t want = req->tty ? 0 : req->has_stdin ? 3 : 2;
  if (nfds == want)
    return true;
  char msg[256];
  snprintf(msg, sizeof msg, "exec: %zu descriptors passed, %zu expected (%s)", nfds, want,
           req->tty         ? "none with tty"
           : req->has_stdin ? "stdin, stdout, stderr"
                            : "stdout, stderr");
  reply_error(c, CTLPROTO_INVALID, msg);
  return false;
}

static ctlproto_reason reason_of(int code) {
  return code == ENOENT      ? CTLPROTO_NOT_FOUND
         : code == ESHUTDOWN ? CTLPROTO_SHUTTING_DOWN
         : code == EBUSY     ? CTLPROTO_CONFLICT
                             : CTLPROTO_INTERNAL;
}

void shim_exec_start(shim *sh, shimsock_conn *c, const ctlproto_request *req, int *fds, size_t nfds) {
  pv_err err;
  pv_err_clear(&err);
  if (keeper_can_exec(sh->k, req->container, &err) < 0) {
    reply_error(c, reason_of(err.code), pv_err_str(&err));
    close_fds(fds, nfds);
    return;
  }
  if (!exec_fds_fit(c, req, nfds)) {
    close_fds(fds, nfds);
    return;
  }
  int master = -1, slave = -1;
  if (req->tty && open_pty(&master, &slave, &err) < 0) {
    reply_error(c, CTLPROTO_INTERNAL, pv_err_str(&err));
    return;
  }
  /* The client's size before CMD starts: it may ask for it at once. */
  struct winsize ws = {.ws_row = (unsigned short)req->rows, .ws_col = (unsigned short)req->cols};
  if (master >= 0 && req->rows > 0 && req->cols > 0)
    (void)ioctl(master, TIOCSWINSZ, &ws);
  runtime_exec xc = {.argv = req->argv, .tty = req->tty};
  if (req->tty) {
    xc.stdin_fd = xc.stdout_fd = xc.stderr_fd = slave;
  } else {
    xc.stdin_fd = req->has_stdin ? fds[0] : sh->devnull;
    xc.stdout_fd = fds[nfds - 2];
    xc.stderr_fd = fds[nfds - 1];
  }
  shim_exec *x = calloc(1, sizeof *x);
  int pidfd = -1, rc = -1;
  if (x == NULL)
    pv_err_set(&err, ENOMEM, "exec: out of memory");
  else
    rc = keeper_exec(sh->k, req->container, &xc, &pidfd, &err);
  pid_t pid = xc.pid;
  /* The process has its own copies now. */
  close_fds(fds, nfds);
  if (slave >= 0)
    close(slave);
  if (rc == 0 && uv_poll_init(&sh->loop, &x->poll, pidfd) < 0) {
    pv_pidfd_kill_reap(pidfd);
    close(pidfd);
    pv_err_set(&err, EIO, "exec: cannot watch the process");
    rc = -1;
  }
  if (rc < 0) {
    if (master >= 0)
      close(master);
    free(x);
    reply_error(c, reason_of(err.code), pv_err_str(&err));
    return;
  }
  x->sh = sh;
  x->pid = pid;
  x->pidfd = pidfd;
  x->conn = c;
  x->poll.data = x;
  uv_poll_start(&x->poll, UV_READABLE, on_exec_exit);
  size_t len;
  char *line = ctlproto_reply_ok(json_pack("{s:i}", "pid", (int)pid), &len);
  shimsock_reply(c, line, len, master); /* the master goes to the client */
  if (!shimsock_hold(c, x))
    shim_exec_released(sh, x);
}
