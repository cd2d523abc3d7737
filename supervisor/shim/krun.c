/* krun.c - one run of a container on the loop (krun.h). */
#include "supervisor/shim/krun.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/util.h"

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A run holds one reference until it is released plus one per open handle;
 * when the last goes, the keeper hears of it and frees the run. */
static void unref(krun *r) {
  if (--r->pending > 0)
    return;
  kevq_post(r->q, &(kevent){.kind = KEV_RUN_CLOSED, .ctr = r->ctr, .run = r});
}

static void handle_closed(uv_handle_t *h) {
  unref(h->data);
}

/* --- logs ----------------------------------------------------------------- */

/* Like the kubelet, keep only the logs of the current run and the one
 * before: a run's files "<n>.log" and "<n>.log.<k>" go once run n+2 opens
 * its log, so a crash loop cannot fill the disk. */
static void prune_old_runs(const char *dir, unsigned restart) {
  if (restart < 2)
    return;
  DIR *d = opendir(dir);
  if (d == NULL)
    return;
  int dfd = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *n = e->d_name;
    if (n[0] < '0' || n[0] > '9')
      continue;
    char *end;
    errno = 0;
    unsigned long run = strtoul(n, &end, 10);
    if (errno != 0 || strncmp(end, ".log", 4) != 0 || (end[4] != '\0' && end[4] != '.'))
      continue;
    if (run + 1 < restart)
      (void)unlinkat(dfd, n, 0); /* best effort: a leftover only costs space */
  }
  closedir(d);
}

static int open_log(krun *r, const krun_config *cfg, pv_err *err) {
  char dir[PATH_MAX];
  if (pv_path(dir, sizeof dir, "%s/%s", cfg->log_dir, cfg->name) < 0)
    return pv_err_sys(err, "container %s: log dir", cfg->name);
  if (pv_mkdir_p(dir, 0755, err) < 0)
    return -1;
  prune_old_runs(dir, cfg->restart);
  return crilog_open(&r->log, dir, cfg->restart, cfg->log_opts, err);
}

static const char *run_name(const krun *r) {
  return r->spec != NULL ? r->spec->name : "?";
}

/* Tells the shim's log and the keeper what changed in the log's health
 * (krun.h); what failed is in err when a write failed.  The keeper says
 * when writes resume, for the container as a whole (a new run may be the
 * one whose writes succeed). */
static void log_report(krun *r, const pv_err *err, bool force, int64_t now) {
  crilog_stats st;
  crilog_get_stats(r->log, &st);
  bool changed = st.error != r->log_told_error;
  if (changed && st.error != 0)
    fprintf(stderr,
            "podvisor shim: container %s: log writes failing: %s; its output is dropped (and counted) "
            "until they succeed again\n",
            run_name(r), err != NULL && err->code != 0 ? pv_err_str(err) : strerror(st.error));
  uint64_t delta = st.dropped_bytes - r->log_told_dropped;
  bool first = !r->log_told_written && st.bytes > 0;
  if (!changed && !first && !(delta > 0 && (force || now - r->log_told_ns >= 1000000000)))
    return;
  r->log_told_dropped = st.dropped_bytes;
  r->log_told_error = st.error;
  r->log_told_written |= st.bytes > 0;
  r->log_told_ns = now;
  kevq_post(r->q, &(kevent){.kind = KEV_LOG,
                            .ctr = r->ctr,
                            .run = r,
                            .log_dropped = delta,
                            .log_error = st.error,
                            .log_since = st.error != 0 ? st.failing_since_ns : now});
}

static void lp_data(void *ctx, logpump_stream s, const char *buf, size_t len) {
  krun *r = ctx;
  if (r->log == NULL)
    return;
  pv_err err;
  pv_err_clear(&err);
  int64_t now = now_ns();
  crilog_write(r->log, s == LOGPUMP_STDERR ? CRILOG_STDERR : CRILOG_STDOUT, buf, len, now, &err);
  log_report(r, &err, false, now);
}

static void lp_eof(void *ctx) {
  krun *r = ctx;
  if (r->log != NULL) {
    pv_err err;
    pv_err_clear(&err);
    int64_t now = now_ns();
    crilog_flush(r->log, now, &err);
    log_report(r, &err, true, now);
  }
  krun_close_logs(r);
}

static void lp_closed(void *ctx) {
  krun *r = ctx;
  r->lp_open = false;
  unref(r);
}

static const logpump_callbacks lp_cb = {lp_data, lp_eof, lp_closed};

krun *krun_new(const krun_config *cfg, pv_err *err) {
  krun *r = calloc(1, sizeof *r);
  if (r == NULL) {
    pv_err_set(err, ENOMEM, "container %s: out of memory", cfg->name);
    return NULL;
  }
  r->loop = cfg->loop;
  r->q = cfg->q;
  r->rt = cfg->rt;
  r->ctr = cfg->ctr;
  r->serial = cfg->serial;
  r->restart = cfg->restart;
  r->devnull = cfg->devnull;
  r->log_told_written = !cfg->log_failing;
  r->hook_fd[0] = r->hook_fd[1] = -1;
  r->pending = 1; /* dropped by krun_release */
  if (open_log(r, cfg, err) < 0)
    return r; /* the caller sees err and releases the run */
  /* The pump's closed callback drops this reference, also when
   * logpump_open fails (it closes what it opened). */
  r->lp_open = true;
  r->pending++;
  (void)logpump_open(&r->lp, r->loop, &lp_cb, r, err);
  return r;
}

/* --- the container ------------------------------------------------------------ */

int krun_create(krun *r, const spec_pod *pod, const spec_container *spec, char *id, size_t id_len,
                pv_err *err) {
  r->spec = spec;
  runtime_start rs = {.pod = pod,
                      .ctr = spec,
                      .restart = r->restart,
                      .stdin_fd = r->devnull,
                      .stdout_fd = r->lp.out_w,
                      .stderr_fd = r->lp.err_w,
                      .id = id,
                      .id_len = id_len};
  return r->rt->ops->create(r->rt->ctx, &rs, &r->c, err);
}

static void on_exit_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  krun *r = h->data;
  if (r->c == NULL)
    return;
  kevent ev = {.kind = KEV_EXITED, .ctr = r->ctr, .run = r};
  pv_err err;
  pv_err_clear(&err);
  if (r->rt->ops->reap(r->rt->ctx, r->c, &ev.exit, &err) < 0) {
    if (errno == EAGAIN)
      return; /* spurious: still running */
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
    memset(&ev.exit, 0, sizeof ev.exit);
    ev.exit.exit_code = 255;
  }
  uv_poll_stop(h);
  kevq_post(r->q, &ev);
}

int krun_start(krun *r, pv_err *err) {
  if (r->rt->ops->start(r->rt->ctx, r->c, err) < 0)
    return -1;
  logpump_after_start(&r->lp);
  /* The poll watches its own dup of the pidfd: reap closes the runtime's,
   * and the poll handle is closed only later. */
  int fd = fcntl(r->rt->ops->pidfd(r->rt->ctx, r->c), F_DUPFD_CLOEXEC, 0);
  if (fd >= 0 && uv_poll_init(r->loop, &r->exit_poll, fd) == 0) {
    r->exit_poll.data = r;
    r->exit_poll_open = true;
    r->pending++;
    uv_poll_start(&r->exit_poll, UV_READABLE, on_exit_readable);
  } else if (fd >= 0) {
    close(fd);
  }
  return 0;
}

pid_t krun_pid(const krun *r) {
  return r->c != NULL ? r->rt->ops->pid(r->rt->ctx, r->c) : 0;
}

void krun_signal(krun *r, int sig) {
  if (r->c != NULL)
    (void)r->rt->ops->kill(r->rt->ctx, r->c, sig);
}

/* --- hooks ---------------------------------------------------------------------- */

/* Closes a poll handle, then its fd: uv_close() removes the fd from epoll at
 * once, so closing the fd right after is safe, while closing it first would
 * let a later uv_close() remove a recycled fd's registration. */
static void close_poll_fd(krun *r, uv_poll_t *h, int *fd) {
  uv_close((uv_handle_t *)h, handle_closed);
  (void)r;
  if (fd != NULL && *fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

/* SIGKILL and reap an exec'd process that was just killed (the wait is
 * short), then close its fd. */
static void kill_reap(krun *r, int *fd) {
  if (*fd < 0)
    return;
  const runtime_ops *o = r->rt->ops;
  siginfo_t si;
  (void)o->exec_signal(r->rt->ctx, *fd, SIGKILL);
  for (int i = 0; i < 1000 && o->exec_reap(r->rt->ctx, *fd, &si) == 0; i++) {
    struct pollfd p = {.fd = *fd, .events = POLLIN};
    (void)poll(&p, 1, 10);
  }
  close(*fd);
  *fd = -1;
}

/* True when the container's process has exited (its pidfd is readable). */
static bool container_gone(const krun *r) {
  if (r->c == NULL)
    return true;
  struct pollfd p = {.fd = r->rt->ops->pidfd(r->rt->ctx, r->c), .events = POLLIN};
  return p.fd >= 0 && poll(&p, 1, 0) == 1;
}

static void on_hook_readable(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  krun *r = h->data;
  krun_hook which = h == &r->hook_poll[KRUN_PRE_STOP] ? KRUN_PRE_STOP : KRUN_POST_START;
  kevent ev = {.kind = which == KRUN_PRE_STOP ? KEV_HOOK_DONE : KEV_POST_START_DONE, .ctr = r->ctr, .run = r};
  ev.rc = r->rt->ops->exec_reap(r->rt->ctx, r->hook_fd[which], &ev.si);
  if (ev.rc == 0)
    return; /* still running */
  if (ev.rc < 0)
    ev.si.si_status = errno;
  /* A hook SIGKILLed by nobody here died with its container: the pid
   * namespace's init ended by itself (its exit waits for the shim to reap
   * the hook, so the container's exit comes next). */
  ev.gone = (ev.rc == 1 && ev.si.si_code == CLD_KILLED && ev.si.si_status == SIGKILL) || container_gone(r);
  r->hook_poll_open[which] = false;
  close_poll_fd(r, h, &r->hook_fd[which]);
  kevq_post(r->q, &ev);
}

int krun_exec_hook(krun *r, krun_hook h, char *const *argv, pv_err *err) {
  if (r->c == NULL || r->hook_poll_open[h] || r->hook_fd[h] >= 0)
    return pv_err_set(err, EBUSY, "container %s: hook already running", r->spec->name);
  runtime_exec x = {.argv = argv, .stdin_fd = r->devnull, .stdout_fd = r->devnull, .stderr_fd = r->devnull};
  if (r->rt->ops->exec(r->rt->ctx, r->c, &x, &r->hook_fd[h], err) < 0)
    return -1;
  if (uv_poll_init(r->loop, &r->hook_poll[h], r->hook_fd[h]) < 0) {
    kill_reap(r, &r->hook_fd[h]);
    return pv_err_set(err, EIO, "%s: cannot watch the hook process",
                      h == KRUN_PRE_STOP ? "preStop" : "postStart");
  }
  r->hook_poll[h].data = r;
  r->hook_poll_open[h] = true;
  r->pending++;
  uv_poll_start(&r->hook_poll[h], UV_READABLE, on_hook_readable);
  return 0;
}

void krun_signal_hook(krun *r, krun_hook h, int sig) {
  if (r->hook_fd[h] >= 0)
    (void)r->rt->ops->exec_signal(r->rt->ctx, r->hook_fd[h], sig);
}

/* --- the end -------------------------------------------------------------------- */

void krun_release(krun *r) {
  if (r->released)
    return;
  r->released = true;
  if (r->exit_poll_open) {
    /* The poll watches a dup of the container's pidfd (see krun_start). */
    int fd = -1;
    uv_fileno((uv_handle_t *)&r->exit_poll, &fd);
    r->exit_poll_open = false;
    close_poll_fd(r, &r->exit_poll, &fd);
  }
  for (int h = 0; h < 2; h++) {
    if (r->hook_poll_open[h]) {
      r->hook_poll_open[h] = false;
      uv_close((uv_handle_t *)&r->hook_poll[h], handle_closed);
    }
    kill_reap(r, &r->hook_fd[h]);
  }
  if (r->c != NULL) {
    r->rt->ops->destroy(r->rt->ctx, r->c);
    r->c = NULL;
  }
  unref(r);
}

void krun_close_logs(krun *r) {
  if (r->lp_open && !r->lp.closing)
    logpump_close(&r->lp);
}

void krun_free(krun *r) {
  if (r == NULL)
    return;
  if (r->log != NULL)
    crilog_close(r->log, now_ns(), NULL);
  free(r);
}
