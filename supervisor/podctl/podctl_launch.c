/* podctl_launch.c - starting a keeper: its snapshot written under the run
 * directory's lock in the thread pool, then fork and exec in a session of
 * its own with the lock and a sync pipe handed over (podctl.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/podctl/podctl_internal.h"
#include "supervisor/proto/podsnap.h"

/* The descriptors the keeper finds its sync pipe and lock on. */
#define CHILD_SYNC_FD 3
#define CHILD_LOCK_FD 4

void podctl_find_shim(char *path, size_t len, bool *lean) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  *lean = false;
  snprintf(path, len, "/proc/self/exe");
  if (n <= 0)
    return;
  self[n] = '\0';
  snprintf(path, len, "%s", self);
  char *slash = strrchr(self, '/');
  if (slash == NULL)
    return;
  *slash = '\0';
  char cand[PATH_MAX + 32];
  snprintf(cand, sizeof cand, "%s/podvisor-shim", self);
  if (strlen(cand) < len && access(cand, X_OK) == 0) {
    snprintf(path, len, "%s", cand);
    *lean = true;
  }
}

/* --- the worker: snapshot and shim.log ------------------------------------------------- */

static void prepare_work(uv_work_t *req) {
  podctl_shim *s = req->data;
  pv_err_clear(&s->lz->work_err);
  podpaths_free(&s->paths);
  s->work_rc = podsnap_prepare(s->root, s->run_root, s->pod, s->key, s->keep, 0, &s->paths, &s->lock_fd,
                               &s->lz->work_err);
  if (s->work_rc < 0)
    return;
  if (s->pod != NULL) {
    s->grace_ms = s->pod->termination_grace_period_seconds * 1000;
  } else {
    spec_pod *snap = NULL;
    if (podsnap_load(s->paths.snapshot, &snap, NULL) == 0)
      s->grace_ms = snap->termination_grace_period_seconds * 1000;
    spec_pod_free(snap);
  }
  /* The keeper's stderr, appended (a keeper restarted adds to it). */
  s->log_wfd = open(s->paths.shim_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (s->log_wfd >= 0 && s->want_log) {
    s->log_rfd = open(s->paths.shim_log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (s->log_rfd >= 0)
      (void)lseek(s->log_rfd, 0, SEEK_END);
  }
}

/* --- the child ---------------------------------------------------------------------------- */

/* Only async-signal-safe calls from here to exec: the parent may have threads. */
static void child_fail(const char *what, int e) {
  char msg[600], num[16];
  int n = 0, k = 0;
  do
    num[k++] = (char)('0' + e % 10);
  while ((e /= 10) > 0 && k < 15);
  const char *head = "{\"ok\":false,\"error\":\"cannot run ";
  for (const char *p = head; *p && n < 500; p++)
    msg[n++] = *p;
  for (const char *p = what; *p && n < 500; p++)
    if (*p != '"' && *p != '\\')
      msg[n++] = *p;
  const char *mid = ": errno ";
  for (const char *p = mid; *p; p++)
    msg[n++] = *p;
  while (k > 0)
    msg[n++] = num[--k];
  msg[n++] = '"';
  msg[n++] = '}';
  msg[n++] = '\n';
  (void)!write(CHILD_SYNC_FD, msg, (size_t)n);
  _exit(127);
}

static void child(podctl_shim *s, int sync_w, int devnull, char **argv) {
  setsid(); /* a terminal's ^C goes to the launcher alone */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction(sig, &dfl, NULL);
  /* Out of the way of 0-4 first, then into place (dup2 clears close-on-exec). */
  int sync_hi = fcntl(sync_w, F_DUPFD, 10), lock_hi = fcntl(s->lock_fd, F_DUPFD, 10);
  int log_hi = s->log_wfd >= 0 ? fcntl(s->log_wfd, F_DUPFD, 10) : -1;
  int null_hi = fcntl(devnull, F_DUPFD, 10);
  if (sync_hi < 0 || lock_hi < 0 || null_hi < 0)
    _exit(127);
  if (dup2(null_hi, 0) < 0 || dup2(null_hi, 1) < 0 || dup2(log_hi >= 0 ? log_hi : null_hi, 2) < 0 ||
      dup2(sync_hi, CHILD_SYNC_FD) < 0 || dup2(lock_hi, CHILD_LOCK_FD) < 0)
    _exit(127);
  execv(s->shim_path, argv);
  child_fail(s->shim_path, errno);
}

/* argv for the keeper (strings borrowed from s, numbers in bufs). */
static void build_argv(podctl_shim *s, char **argv, char bufs[][16]) {
  int n = 0;
  argv[n++] = s->lean ? "podvisor-shim" : "podvisor";
  argv[n++] = "--root";
  argv[n++] = s->root;
  argv[n++] = "--run-root";
  argv[n++] = s->run_root;
  if (!s->lean)
    argv[n++] = "shim";
  argv[n++] = "--pod-key";
  argv[n++] = s->paths.key;
  snprintf(bufs[0], 16, "%d", CHILD_SYNC_FD);
  snprintf(bufs[1], 16, "%d", CHILD_LOCK_FD);
  argv[n++] = "--sync-fd";
  argv[n++] = bufs[0];
  argv[n++] = "--lock-fd";
  argv[n++] = bufs[1];
  if (s->log_max_size != NULL) {
    argv[n++] = "--log-max-size";
    argv[n++] = s->log_max_size;
  }
  if (s->log_max_files > 0) {
    snprintf(bufs[2], 16, "%u", s->log_max_files);
    argv[n++] = "--log-max-files";
    argv[n++] = bufs[2];
  }
  if (s->cgroup_parent != NULL) {
    argv[n++] = "--cgroup-parent";
    argv[n++] = s->cgroup_parent;
  }
  argv[n] = NULL;
}

/* --- the sync pipe -------------------------------------------------------------------------- */

static void sync_close(podctl_shim *s);

/* Parses the line the keeper said: running (pid), or its set-up error. */
static void sync_line(podctl_shim *s, const char *line, size_t len) {
  json_t *j = json_loadb(line, len, 0, NULL);
  const json_t *ok = json_object_get(j, "ok");
  s->sync_said = true;
  if (json_is_true(ok)) {
    pv_err_clear(&s->lz->sync_err);
  } else {
    const char *e = json_string_value(json_object_get(j, "error"));
    pv_err_set(&s->lz->sync_err, EIO, "%s", e != NULL ? e : "the shim said something else than its state");
  }
  json_decref(j);
}

bool podctl_sync_drain(podctl_shim *s) {
  if (s->lz == NULL)
    return s->sync_said; /* the launch is reported already */
  while (!s->sync_said && !s->sync_eof && s->sync_fd >= 0) {
    if (s->lz->sync_len >= sizeof s->lz->sync_buf) {
      s->sync_eof = true; /* a line that long is no sync line */
      break;
    }
    ssize_t n = read(s->sync_fd, s->lz->sync_buf + s->lz->sync_len, sizeof s->lz->sync_buf - s->lz->sync_len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0)
      s->sync_eof = true;
    if (n <= 0)
      break;
    s->lz->sync_len += (size_t)n;
    char *nl = memchr(s->lz->sync_buf, '\n', s->lz->sync_len);
    if (nl != NULL)
      sync_line(s, s->lz->sync_buf, (size_t)(nl - s->lz->sync_buf));
  }
  return s->sync_said;
}

static void on_sync(uv_poll_t *h, int status, int events) {
  (void)events;
  podctl_shim *s = h->data;
  if (s->lz == NULL) { /* the launch was reported (the keeper's exit came first) */
    sync_close(s);
    return;
  }
  if (podctl_sync_drain(s)) {
    sync_close(s);
    if (s->lz->sync_err.code == 0) {
      s->state = PODCTL_S_RUNNING;
      podctl_shim_report_launch(s, NULL);
    } else {
      podctl_shim_report_launch(s, &s->lz->sync_err); /* the keeper exits next */
    }
    return;
  }
  /* EOF without a line: the keeper died first; its exit tells more. */
  if (s->sync_eof || status < 0)
    sync_close(s);
}

static void on_sync_closed(uv_handle_t *h) {
  podctl_shim *s = h->data;
  close(s->sync_fd);
  s->sync_fd = -1;
  s->handles_open--;
  podctl_shim_maybe_free(s);
}

static void sync_close(podctl_shim *s) {
  if (!s->sync_poll_open)
    return;
  s->sync_poll_open = false;
  uv_close((uv_handle_t *)&s->sync_poll, on_sync_closed);
}

/* --- spawning ------------------------------------------------------------------------------- */

static int spawn(podctl_shim *s, pv_err *err) {
  char *argv[24], bufs[3][16];
  build_argv(s, argv, bufs);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return pv_err_sys(err, "pod %s: sync pipe", s->paths.key);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) {
    close(p[0]);
    close(p[1]);
    return pv_err_sys(err, "open /dev/null");
  }
  pid_t pid = fork();
  if (pid == 0)
    child(s, p[1], devnull, argv);
  int e = errno;
  close(p[1]);
  close(devnull);
  if (pid < 0) {
    close(p[0]);
    errno = e;
    return pv_err_sys(err, "pod %s: cannot start its shim: fork", s->paths.key);
  }
  s->pid = pid;
  s->own_child = true;
  s->sync_fd = p[0];
  (void)fcntl(p[0], F_SETFL, O_NONBLOCK);
  /* No one else reaps our child, so its pid cannot be recycled yet. */
  s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (s->pidfd < 0) {
    e = errno;
    kill(pid, SIGKILL);
    errno = e;
    return pv_err_sys(err, "pod %s: pidfd_open of its shim %d", s->paths.key, (int)pid);
  }
  if (uv_poll_init(s->loop, &s->sync_poll, s->sync_fd) == 0) {
    s->sync_poll.data = s;
    s->sync_poll_open = true;
    s->handles_open++;
    uv_poll_start(&s->sync_poll, UV_READABLE, on_sync);
  }
  s->state = PODCTL_S_STARTING;
  return podctl_shim_watch_exit(s, err);
}

static void prepare_done(uv_work_t *req, int status);

/* A launch that ends before any process ran. */
static void launch_failed(podctl_shim *s, const pv_err *err) {
  podctl_shim_report_launch(s, err);
  podctl_shim_gone(s, -1);
}

static void on_lock_retry(uv_timer_t *t) {
  podctl_shim *s = t->data;
  if (s->closing || s->stop_wanted) {
    pv_err err;
    pv_err_set(&err, ECANCELED, "pod %s: stopped before its shim started", s->paths.key);
    launch_failed(s, &err);
    return;
  }
  s->work_busy = uv_queue_work(s->loop, &s->work, prepare_work, prepare_done) == 0;
  if (!s->work_busy) {
    pv_err_set(&s->lz->work_err, EIO, "pod %s: cannot queue its launch", s->paths.key);
    launch_failed(s, &s->lz->work_err);
  }
}

static void prepare_done(uv_work_t *req, int status) {
  podctl_shim *s = req->data;
  s->work_busy = false;
  if (status < 0 && s->work_rc == 0) {
    s->work_rc = -1;
    pv_err_set(&s->lz->work_err, -status, "pod %s: launch cancelled", s->paths.key);
  }
  if (s->work_rc == 0 && (s->closing || s->stop_wanted)) {
    /* Stopped before its keeper started: what the launch wrote goes. */
    if (s->log_wfd >= 0)
      close(s->log_wfd);
    s->log_wfd = -1;
    podsnap_abandon(&s->paths, s->lock_fd);
    s->lock_fd = -1;
    s->work_rc = -1;
    pv_err_set(&s->lz->work_err, ECANCELED, "pod %s: stopped before its shim started", s->paths.key);
  }
  if (s->work_rc < 0 && s->lz->work_err.code == EWOULDBLOCK && s->lock_waited_ms < PODCTL_LOCK_WAIT_MS &&
      !s->closing && !s->stop_wanted) {
    s->lock_waited_ms += 50;
    uv_timer_start(&s->timer, on_lock_retry, 50, 0);
    return;
  }
  pv_err err;
  pv_err_clear(&err);
  int rc = s->work_rc < 0 ? -1 : spawn(s, &err);
  /* The keeper holds the lock and the log now (or nobody needs them). */
  if (s->lock_fd >= 0)
    close(s->lock_fd);
  s->lock_fd = -1;
  if (s->log_wfd >= 0)
    close(s->log_wfd);
  s->log_wfd = -1;
  if (s->work_rc < 0) {
    launch_failed(s, &s->lz->work_err);
  } else if (rc < 0) {
    podctl_shim_report_launch(s, &err);
    if (s->pidfd < 0)
      podctl_shim_gone(s, -1);
  }
}

static char *dup_or_null(const char *s, bool *oom) {
  char *d = s != NULL ? strdup(s) : NULL;
  if (s != NULL && d == NULL)
    *oom = true;
  return d;
}

int podctl_launch(uv_loop_t *loop, const spec_pod *pod, const char *key, const podctl_launch_opts *o,
                  const podctl_callbacks *cb, void *ctx, podctl_shim **out, pv_err *err) {
  *out = NULL;
  if (pod == NULL && !podpaths_key_is_valid(key))
    return pv_err_set(err, EINVAL, "launch: no pod and no valid key");
  if (o->root == NULL || o->run_root == NULL)
    return pv_err_set(err, EINVAL, "launch: root and run root are required");
  podctl_shim *s = podctl_shim_new(loop, cb, ctx);
  if (s == NULL)
    return pv_err_set(err, ENOMEM, "launch: out of memory");
  s->lz = calloc(1, sizeof *s->lz);
  if (s->lz == NULL) {
    s->closing = true;
    podctl_shim_maybe_free(s);
    return pv_err_set(err, ENOMEM, "launch: out of memory");
  }
  bool oom = false;
  char path[PATH_MAX];
  if (o->shim_path != NULL) {
    snprintf(path, sizeof path, "%s", o->shim_path);
    const char *base = strrchr(o->shim_path, '/');
    s->lean = strcmp(base != NULL ? base + 1 : o->shim_path, "podvisor-shim") == 0;
  } else {
    podctl_find_shim(path, sizeof path, &s->lean);
  }
  s->pod = pod;
  if (pod != NULL)
    spec_pod_key(pod, s->key);
  else
    snprintf(s->key, sizeof s->key, "%s", key);
  snprintf(s->paths.key, sizeof s->paths.key, "%s", s->key);
  s->root = dup_or_null(o->root, &oom);
  s->run_root = dup_or_null(o->run_root, &oom);
  s->shim_path = dup_or_null(path, &oom);
  s->log_max_size = dup_or_null(o->log_max_size, &oom);
  s->log_max_files = o->log_max_files;
  s->cgroup_parent = dup_or_null(o->cgroup_parent, &oom);
  s->keep = o->keep_instance;
  s->want_log = o->want_log_fd;
  s->work.data = s;
  if (oom || uv_queue_work(loop, &s->work, prepare_work, prepare_done) < 0) {
    s->closing = true;
    podctl_shim_maybe_free(s);
    return pv_err_set(err, ENOMEM, "launch: cannot queue it");
  }
  s->work_busy = true;
  *out = s;
  return 0;
}
