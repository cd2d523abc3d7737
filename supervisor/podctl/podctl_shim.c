/* podctl_shim.c - one keeper seen from a launcher: its exit (pidfd), adopt,
 * the watch stream, the stop, and the handle's own end (podctl.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/podctl/podctl_internal.h"
#include "supervisor/proto/podsnap.h"

static void on_timer_closed(uv_handle_t *h);

podctl_shim *podctl_shim_new(uv_loop_t *loop, const podctl_callbacks *cb, void *ctx) {
  podctl_shim *s = calloc(1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->loop = loop;
  if (cb != NULL)
    s->cb = *cb;
  s->ctx = ctx;
  s->pidfd = s->sync_fd = s->log_rfd = s->lock_fd = s->log_wfd = -1;
  s->grace_ms = 30000;
  uv_timer_init(loop, &s->timer);
  s->timer.data = s;
  s->handles_open = 1;
  return s;
}

void podctl_shim_maybe_free(podctl_shim *s) {
  if (!s->closing || s->work_busy)
    return;
  if (s->handles_open > 1 || (s->handles_open == 1 && uv_is_closing((uv_handle_t *)&s->timer)))
    return;
  if (s->handles_open == 1) {
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    return;
  }
  if (s->cb.closed != NULL)
    s->cb.closed(s, s->ctx);
  int fds[] = {s->pidfd, s->sync_fd, s->log_rfd, s->lock_fd, s->log_wfd};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  podpaths_free(&s->paths);
  free(s->lz);
  free(s->root);
  free(s->run_root);
  free(s->shim_path);
  free(s->log_max_size);
  free(s->cgroup_parent);
  free(s);
}

static void on_timer_closed(uv_handle_t *h) {
  podctl_shim *s = h->data;
  s->handles_open--;
  podctl_shim_maybe_free(s);
}

void podctl_shim_report_launch(podctl_shim *s, const pv_err *err) {
  if (s->launched_reported)
    return;
  s->launched_reported = true;
  if (s->cb.launched != NULL && !s->closing)
    s->cb.launched(s, err, s->ctx);
  /* err may be the launch's own: gone only once the callback is done. */
  free(s->lz);
  s->lz = NULL;
}

void podctl_shim_gone(podctl_shim *s, int status) {
  if (s->state == PODCTL_S_GONE)
    return;
  if (!s->launched_reported) {
    pv_err err;
    /* What the keeper said before it died is the best explanation. */
    if (podctl_sync_drain(s) && s->lz != NULL && s->lz->sync_err.code != 0)
      err = s->lz->sync_err;
    else if (status >= 0)
      pv_err_set(&err, ECHILD, "shim exited with status %d before it was ready (see %s)", status,
                 s->paths.shim_log != NULL ? s->paths.shim_log : "its shim.log");
    else
      pv_err_set(&err, ECHILD, "pod %s: the shim did not start", s->paths.key);
    podctl_shim_report_launch(s, &err);
  }
  s->state = PODCTL_S_GONE;
  uv_timer_stop(&s->timer);
  if (s->cb.exited != NULL && !s->closing)
    s->cb.exited(s, status, s->ctx);
}

/* --- exit ----------------------------------------------------------------------------------- */

static void on_pid_closed(uv_handle_t *h) {
  podctl_shim *s = h->data;
  s->handles_open--;
  podctl_shim_maybe_free(s);
}

static void on_pid_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  podctl_shim *s = h->data;
  int code = -1;
  if (s->own_child) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc;
    do
      rc = waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG);
    while (rc < 0 && errno == EINTR);
    if (rc == 0 && si.si_pid == 0 && status == 0)
      return; /* not yet */
    if (rc == 0)
      code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
  }
  s->pid_poll_open = false;
  uv_close((uv_handle_t *)&s->pid_poll, on_pid_closed);
  podctl_shim_gone(s, code);
}

int podctl_shim_watch_exit(podctl_shim *s, pv_err *err) {
  int rc = uv_poll_init(s->loop, &s->pid_poll, s->pidfd);
  if (rc < 0) {
    if (s->own_child) {
      pv_pidfd_kill_reap(s->pidfd);
    }
    close(s->pidfd);
    s->pidfd = -1;
    return pv_err_set(err, -rc, "pod %s: watch shim %d: %s", s->paths.key, (int)s->pid, uv_strerror(rc));
  }
  s->pid_poll.data = s;
  s->pid_poll_open = true;
  s->handles_open++;
  uv_poll_start(&s->pid_poll, UV_READABLE, on_pid_readable);
  return 0;
}

/* --- adopt ------------------------------------------------------------------------------------ */

podctl_liveness podctl_probe(const podpaths *pp, pid_t *pid) {
  *pid = 0;
  int fd;
  do
    fd = open(pp->lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return errno == ENOENT ? PODCTL_ABSENT : PODCTL_STALE;
  /* A shared lock taken and dropped at once: refused while a keeper holds
   * its exclusive one, and never in a keeper's way for longer than that. */
  int rc;
  do
    rc = flock(fd, LOCK_SH | LOCK_NB);
  while (rc < 0 && errno == EINTR);
  if (rc == 0)
    (void)flock(fd, LOCK_UN);
  close(fd);
  if (rc == 0)
    return PODCTL_STALE;
  long p = podsnap_read_pid(pp);
  if (p <= 0 || (kill((pid_t)p, 0) < 0 && errno == ESRCH))
    return PODCTL_STARTING; /* a launcher holds the lock, or the keeper has not written its pid */
  *pid = (pid_t)p;
  return PODCTL_LIVE;
}

int podctl_adopt(uv_loop_t *loop, const char *root, const char *run_root, const char *key,
                 const podctl_callbacks *cb, void *ctx, podctl_shim **out, pv_err *err) {
  *out = NULL;
  podpaths pp;
  if (podpaths_init(&pp, run_root, key, err) < 0)
    return -1;
  pid_t pid;
  podctl_liveness l = podctl_probe(&pp, &pid);
  int pidfd = l == PODCTL_LIVE ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
  pid_t again;
  /* The pid may have died (and been reused) since the probe: the keeper
   * must still hold the lock once we hold its pidfd. */
  if (pidfd >= 0 && (podctl_probe(&pp, &again) != PODCTL_LIVE || again != pid)) {
    close(pidfd);
    pidfd = -1;
    l = PODCTL_STALE;
  }
  if (pidfd < 0) {
    int code = l == PODCTL_ABSENT ? ENOENT : l == PODCTL_STARTING ? EAGAIN : ESTALE;
    pv_err_set(err, code, "pod %s: %s", key,
               l == PODCTL_ABSENT     ? "no keeper"
               : l == PODCTL_STARTING ? "its keeper is still starting"
                                      : "a stale run directory (no live keeper)");
    podpaths_free(&pp);
    return -1;
  }
  spec_pod *snap = NULL;
  if (podsnap_load(pp.snapshot, &snap, err) < 0 ||
      podpaths_set_instance(&pp, root, snap->ns, snap->name, snap->uid, err) < 0) {
    spec_pod_free(snap);
    close(pidfd);
    podpaths_free(&pp);
    return -1;
  }
  podctl_shim *s = podctl_shim_new(loop, cb, ctx);
  if (s == NULL) {
    spec_pod_free(snap);
    close(pidfd);
    podpaths_free(&pp);
    return pv_err_set(err, ENOMEM, "adopt: out of memory");
  }
  s->grace_ms = snap->termination_grace_period_seconds * 1000;
  spec_pod_free(snap);
  s->paths = pp;
  s->pid = pid;
  s->pidfd = pidfd;
  s->state = PODCTL_S_RUNNING;
  s->launched_reported = true;
  if (podctl_shim_watch_exit(s, err) < 0) {
    s->closing = true;
    podctl_shim_maybe_free(s);
    return -1;
  }
  *out = s;
  return 0;
}

/* --- watch -------------------------------------------------------------------------------------- */

static void on_watch_msg(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  podctl_shim *s = ctx;
  if (fd >= 0)
    close(fd);
  if (m == NULL || (m->event == NULL && !m->ok)) {
    pv_err e;
    if (m != NULL)
      pv_err_set(&e, EIO, "watch: %s", m->message);
    else
      e = *err;
    if (s->watch == c) {
      s->watch = NULL;
      podctl_conn_close(c);
    }
    if (s->cb.watch_ended != NULL && !s->closing)
      s->cb.watch_ended(s, e.code != 0 ? &e : NULL, s->ctx);
    return;
  }
  if (m->status != NULL && s->cb.status != NULL && !s->closing)
    s->cb.status(s, m->status, s->ctx);
}

int podctl_watch(podctl_shim *s, pv_err *err) {
  if (s->watch != NULL)
    return 0;
  if (s->state != PODCTL_S_RUNNING)
    return pv_err_set(err, EAGAIN, "pod %s: its keeper is not running", s->paths.key);
  ctlproto_request req = {.op = CTLPROTO_OP_WATCH, .grace_seconds = -1};
  if (podctl_conn_open(s->loop, s->paths.socket, &s->watch, err) < 0)
    return -1;
  if (podctl_conn_request(s->watch, &req, NULL, 0, on_watch_msg, s, err) < 0) {
    podctl_conn_close(s->watch);
    s->watch = NULL;
    return -1;
  }
  return 0;
}

/* --- stop ------------------------------------------------------------------------------------------ */

static void on_kill_deadline(uv_timer_t *t) {
  podctl_shim *s = t->data;
  if (s->state != PODCTL_S_GONE && s->pidfd >= 0)
    (void)pv_pidfd_signal(s->pidfd, SIGKILL);
}

static void kill_after(podctl_shim *s, int64_t ms) {
  if (s->state == PODCTL_S_GONE)
    return;
  uv_timer_stop(&s->timer);
  uv_timer_start(&s->timer, on_kill_deadline, ms < 0 ? 0 : (uint64_t)ms, 0);
}

static void on_stop_reply(podctl_conn *c, const ctlproto_msg *m, int fd, const pv_err *err, void *ctx) {
  (void)err;
  podctl_shim *s = ctx;
  if (fd >= 0)
    close(fd);
  if (s->cmd == c) {
    s->cmd = NULL;
    podctl_conn_close(c);
  }
  /* The keeper stops by itself now; SIGKILL only if it is still there
   * well after its grace period, or at once when it could not be told. */
  kill_after(s, m != NULL && m->ok ? s->stop_grace_ms + PODCTL_KILL_MARGIN_MS : 0);
}

int podctl_stop(podctl_shim *s, int64_t grace_seconds, pv_err *err) {
  s->stop_grace_ms = grace_seconds >= 0 ? grace_seconds * 1000 : s->grace_ms;
  switch (s->state) {
  case PODCTL_S_GONE: return 0;
  case PODCTL_S_PREPARING: s->stop_wanted = true; return 0;
  case PODCTL_S_STARTING:
    /* Not listening yet: SIGTERM, which it handles once its loop runs. */
    s->stop_wanted = true;
    (void)pv_pidfd_signal(s->pidfd, SIGTERM);
    kill_after(s, s->stop_grace_ms + PODCTL_KILL_MARGIN_MS);
    return 0;
  case PODCTL_S_RUNNING: break;
  }
  if (s->cmd != NULL)
    return 0; /* a stop is on its way */
  ctlproto_request req = {.op = CTLPROTO_OP_STOP, .grace_seconds = grace_seconds};
  pv_err e;
  if (podctl_conn_open(s->loop, s->paths.socket, &s->cmd, &e) < 0 ||
      podctl_conn_request(s->cmd, &req, NULL, 0, on_stop_reply, s, &e) < 0) {
    if (s->cmd != NULL)
      podctl_conn_close(s->cmd);
    s->cmd = NULL;
    /* The last resort: a keeper that cannot be told to stop is killed. */
    kill_after(s, 0);
    (void)err;
  }
  return 0;
}

/* --- the handle --------------------------------------------------------------------------------- */

void podctl_shim_close(podctl_shim *s) {
  if (s == NULL || s->closing)
    return;
  s->closing = true;
  if (s->watch != NULL)
    podctl_conn_close(s->watch);
  if (s->cmd != NULL)
    podctl_conn_close(s->cmd);
  s->watch = s->cmd = NULL;
  uv_timer_stop(&s->timer);
  if (s->pid_poll_open) {
    s->pid_poll_open = false;
    uv_close((uv_handle_t *)&s->pid_poll, on_pid_closed);
  }
  if (s->sync_poll_open) {
    s->sync_poll_open = false;
    uv_close((uv_handle_t *)&s->sync_poll, on_pid_closed);
  }
  podctl_shim_maybe_free(s);
}

pid_t podctl_shim_pid(const podctl_shim *s) {
  return s->pid;
}

const podpaths *podctl_shim_paths(const podctl_shim *s) {
  return &s->paths;
}

int podctl_shim_take_log_fd(podctl_shim *s) {
  int fd = s->log_rfd;
  s->log_rfd = -1;
  return fd;
}
