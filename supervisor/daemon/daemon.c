/*
 * daemon.c - `podvisor daemon`: the loop, its start-up and its shutdown.
 *
 * Start-up, in order: the options (flags, then the config file, then the
 * defaults); the run-root's lock (one daemon per run-root: a second one
 * exits naming the first one's pid); the desired set (applied pods, then a
 * scan of the manifest directory, created when missing); the keepers found
 * under <run-root>/pods/ (adopted, or recorded as dead, or their stale
 * directories removed); the API; the watch of the manifest directory
 * (inotify through uv_fs_event, debounced) and the periodic rescan; then
 * the first reconcile.  From then on everything is a callback.
 *
 * Shutdown (SIGTERM, SIGINT): no reconcile runs any more; every keeper is
 * asked to stop gracefully, all at once (each runs its pod's preStop hooks
 * and grace period itself), and the daemon waits for every exit; then the
 * API is closed, every handle, and daemon_main returns 0.  With
 * --keep-pods the handles are let go instead and the keepers run on, for
 * the next daemon to adopt.  SIGHUP rereads the config file (log level,
 * rescan period) and rescans the directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/idpool.h"
#include "supervisor/core/resource.h"
#include "supervisor/core/util.h"
#include "supervisor/daemon/daemon.h"
#include "supervisor/daemon/daemon_core.h"

int64_t pvd_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- what the API reads ---------------------------------------------------------------- */

desired_set *pvd_desired(const pvd *d) {
  return d->desired;
}
uv_loop_t *pvd_loop(const pvd *d) {
  return (uv_loop_t *)&d->loop;
}
const pvd_opts *pvd_options(const pvd *d) {
  return &d->opts;
}
const char *pvd_hostname(const pvd *d) {
  return d->hostname;
}
uint64_t pvd_resource_version(const pvd *d) {
  return d->rv;
}
int64_t pvd_started_ns(const pvd *d) {
  return d->started_ns;
}
void *pvd_api_data(const pvd *d) {
  return d->api_data;
}
void pvd_set_api_data(pvd *d, void *data) {
  d->api_data = data;
}

/* --- desired reports ---------------------------------------------------------------------- */

/* The pods a file declares (for its FailedValidation events), or the
 * file's own name when it declares none yet. */
static void problem_events(pvd *d, const desired_problem *p) {
  char text[1400];
  size_t o = (size_t)snprintf(text, sizeof text, "%s", p->message != NULL ? p->message : "");
  for (size_t i = 0; i < p->n_diags && o < sizeof text - 4; i++)
    o += (size_t)snprintf(text + o, sizeof text - o, "%s%s", o > 0 ? "; " : "", p->diags[i]);
  switch (p->kind) {
  case DESIRED_PROBLEM_INVALID:
  case DESIRED_PROBLEM_CORRUPT: {
    bool any = false;
    size_t n = desired_count(d->desired);
    for (size_t i = 0; i < n; i++) {
      const desired_pod *dp = desired_at(d->desired, i);
      if (dp->file != NULL && p->file != NULL && strcmp(dp->file, p->file) == 0) {
        pvd_eventf(d, dp->spec->ns, dp->spec->name, dp->uid, NULL, false, true,
                   p->kind == DESIRED_PROBLEM_INVALID ? "FailedValidation" : "FailedLoad", "%s", text);
        any = true;
      }
    }
    if (!any) {
      const char *base = p->file != NULL ? strrchr(p->file, '/') : NULL;
      base = base != NULL ? base + 1 : (p->file != NULL ? p->file : "manifest");
      pvd_eventf(d, "default", base, NULL, NULL, false, true,
                 p->kind == DESIRED_PROBLEM_INVALID ? "FailedValidation" : "FailedLoad", "%s", text);
    }
    break;
  }
  case DESIRED_PROBLEM_CONFLICT:
  case DESIRED_PROBLEM_APPLIED: {
    const desired_pod *dp = desired_find(d->desired, p->ns, p->name);
    pvd_eventf(d, p->ns, p->name, dp != NULL ? dp->uid : NULL, NULL, false, true, "Conflict", "%s", text);
    break;
  }
  }
}

void pvd_report(pvd *d, const desired_report *rep) {
  char q[1100];
  for (size_t i = 0; i < rep->n_changes; i++) {
    const desired_change *c = &rep->changes[i];
    static const char *what[] = {"desired pod added", "desired pod changed", "desired pod removed"};
    pvd_log(d, PVD_LOG_INFO, c->ns, c->name, "%s source=%s", what[c->kind],
            pvd_logfmt_quote(c->source, q, sizeof q));
    pvd_entry *e = dpods_find(d, c->ns, c->name);
    if (e != NULL)
      dpods_changed(d, e);
  }
  for (size_t i = 0; i < rep->n_added_problems; i++)
    problem_events(d, &rep->added_problems[i]);
  for (size_t i = 0; i < rep->n_resolved_problems; i++) {
    const desired_problem *p = &rep->resolved_problems[i];
    pvd_log(d, PVD_LOG_INFO, p->ns, p->name, "resolved problem=%s",
            pvd_logfmt_quote(p->message != NULL ? p->message : "", q, sizeof q));
  }
  if (rep->persist.code != 0)
    pvd_log(d, PVD_LOG_ERROR, NULL, NULL, "state not saved error=%s",
            pvd_logfmt_quote(rep->persist.msg, q, sizeof q));
  if (rep->n_changes > 0 || rep->n_added_problems > 0 || rep->n_resolved_problems > 0)
    pvd_reconcile_soon(d);
}

void pvd_scan(pvd *d, const char *why) {
  desired_report rep;
  memset(&rep, 0, sizeof rep);
  pv_err err;
  if (desired_scan(d->desired, pvd_now_ns(), &rep, &err) < 0) {
    char q[1100];
    pvd_log(d, PVD_LOG_ERROR, NULL, NULL, "scan failed trigger=%s error=%s", why,
            pvd_logfmt_quote(err.msg, q, sizeof q));
  } else {
    pvd_log(d, PVD_LOG_DEBUG, NULL, NULL, "scanned trigger=%s changes=%zu", why, rep.n_changes);
    pvd_report(d, &rep);
  }
  desired_report_free(&rep);
  /* A rescan is also when a lost keeper or a missed event is noticed. */
  pvd_reconcile_soon(d);
}

/* --- what the API changes ---------------------------------------------------------------- */

int pvd_apply(pvd *d, const char *body, size_t len, const desired_apply_opts *o, bool dry_run,
              plan_apply *plan, diag_list *diags, pv_err *err) {
  spec_pod_list pods = {0};
  memset(plan, 0, sizeof *plan);
  if (desired_request_parse(d->desired, body, len, o, &pods, diags, err) < 0) {
    spec_pod_list_free(&pods);
    return -1;
  }
  if (plan_apply_compute(d->desired, &pods, o->prune, plan, err) < 0) {
    spec_pod_list_free(&pods);
    return -1;
  }
  if (dry_run) {
    spec_pod_list_free(&pods);
    return 0;
  }
  desired_report rep;
  memset(&rep, 0, sizeof rep);
  int rc = desired_request_commit(d->desired, &pods, o, pvd_now_ns(), &rep, err);
  spec_pod_list_free(&pods);
  if (rc == 0) {
    pvd_report(d, &rep);
    pvd_reconcile_soon(d);
  } else {
    plan_apply_free(plan);
  }
  desired_report_free(&rep);
  return rc;
}

int pvd_delete(pvd *d, const char *ns, const char *name, int64_t grace_s, pv_err *err) {
  desired_report rep;
  memset(&rep, 0, sizeof rep);
  if (desired_delete(d->desired, ns, name, pvd_now_ns(), &rep, err) < 0) {
    desired_report_free(&rep);
    return -1;
  }
  pvd_entry *e = dpods_find(d, ns, name);
  if (e != NULL) {
    e->pub.deletion_ns = pvd_now_ns();
    e->pub.deletion_grace_s = grace_s;
    dpods_changed(d, e);
  }
  pvd_report(d, &rep);
  desired_report_free(&rep);
  pvd_reconcile_soon(d);
  return 0;
}

/* --- the manifest directory ------------------------------------------------------------------ */

static void on_debounce(uv_timer_t *t) {
  pvd *d = t->data;
  uint64_t now = uv_now(&d->loop);
  if (debounce_fire(&d->deb, now)) {
    pvd_scan(d, "inotify");
    return;
  }
  int64_t w = debounce_wait_ms(&d->deb, now);
  if (w >= 0)
    uv_timer_start(&d->debounce_timer, on_debounce, (uint64_t)w, 0);
}

static void on_dir_event(uv_fs_event_t *h, const char *file, int events, int status) {
  (void)events;
  pvd *d = h->data;
  if (d->shutting_down)
    return;
  /* Only names the scan reads make a scan: an editor's swap and temp files
   * do not (the rename of a temp file onto its name does). */
  if (status == 0 && file != NULL && !desired_manifest_name(file))
    return;
  uint64_t now = uv_now(&d->loop);
  debounce_event(&d->deb, now);
  int64_t w = debounce_wait_ms(&d->deb, now);
  if (w >= 0 && !uv_is_active((uv_handle_t *)&d->debounce_timer))
    uv_timer_start(&d->debounce_timer, on_debounce, (uint64_t)w, 0);
}

static void on_rescan(uv_timer_t *t) {
  pvd *d = t->data;
  if (!d->dir_watching && uv_fs_event_start(&d->dir_event, on_dir_event, d->manifests_real, 0) == 0)
    d->dir_watching = true;
  pvd_scan(d, "rescan");
}

static void on_starting(uv_timer_t *t) {
  pvd *d = t->data;
  dpods_adopt_starting(d);
  if (d->n_starting > 0)
    uv_timer_start(&d->starting_timer, on_starting, 200, 0);
  pvd_reconcile_soon(d);
}

/* --- signals and the end ------------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

static void close_handles(pvd *d) {
  uv_handle_t *hs[] = {
      (uv_handle_t *)&d->sigterm,         (uv_handle_t *)&d->sigint,         (uv_handle_t *)&d->sighup,
      (uv_handle_t *)&d->rescan_timer,    (uv_handle_t *)&d->debounce_timer, (uv_handle_t *)&d->retry_timer,
      (uv_handle_t *)&d->reconcile_timer, (uv_handle_t *)&d->starting_timer, (uv_handle_t *)&d->dir_event};
  for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
    if (!uv_is_closing(hs[i]))
      uv_close(hs[i], on_handle_closed);
  memtrim_close(&d->trim);
}

static void on_api_closed(pvd *d) {
  dpods_free_all(d); /* every handle closes; the loop then runs out of work */
  close_handles(d);
}

void pvd_maybe_finish(pvd *d) {
  if (!d->shutting_down || d->finished || dpods_live(d) > 0)
    return;
  d->finished = true;
  pvd_log(d, PVD_LOG_INFO, NULL, NULL, "every pod stopped%s", d->opts.keep_pods ? " or left running" : "");
  if (d->api_started)
    pvd_api_close(d, on_api_closed);
  else
    on_api_closed(d);
}

static void on_stop_signal(uv_signal_t *h, int sig) {
  pvd *d = h->data;
  if (d->shutting_down) {
    pvd_log(d, PVD_LOG_INFO, NULL, NULL, "already stopping pods=%zu", dpods_live(d));
    return;
  }
  d->shutting_down = true;
  uv_timer_stop(&d->reconcile_timer);
  uv_timer_stop(&d->rescan_timer);
  uv_timer_stop(&d->debounce_timer);
  uv_timer_stop(&d->retry_timer);
  uv_timer_stop(&d->starting_timer);
  if (d->dir_watching)
    uv_fs_event_stop(&d->dir_event);
  d->dir_watching = false;
  pvd_log(d, PVD_LOG_INFO, NULL, NULL, "%s: %s signal=%s pods=%zu",
          sig == SIGINT ? "interrupted" : "terminated",
          d->opts.keep_pods ? "leaving every pod running" : "stopping every pod",
          sig == SIGINT ? "SIGINT" : "SIGTERM", dpods_live(d));
  dpods_shutdown(d, d->opts.keep_pods);
  pvd_maybe_finish(d);
}

static int load_config(pvd_opts *o, const pvd_opts_set *set, bool explicit_config, pv_err *err) {
  return pvd_config_load(o->config != NULL ? o->config : PVD_DEFAULT_CONFIG, explicit_config, o, set, err);
}

static void on_hup(uv_signal_t *h, int sig) {
  (void)sig;
  pvd *d = h->data;
  if (d->shutting_down)
    return;
  /* The file again, with the flags still winning: only what can change
   * under a running daemon is taken (log level, rescan period). */
  pvd_opts fresh;
  memset(&fresh, 0, sizeof fresh);
  fresh.log_level = PVD_LOG_INFO;
  pv_err err;
  pvd_opts_set *set = h->loop->data;
  char q[1100];
  if (pvd_config_load(d->opts.config, false, &fresh, set, &err) < 0) {
    pvd_log(d, PVD_LOG_ERROR, NULL, NULL, "config not reloaded error=%s",
            pvd_logfmt_quote(err.msg, q, sizeof q));
  } else {
    if (!set->log_level) {
      d->opts.log_level = fresh.log_level;
      pvd_log_set_level(fresh.log_level);
    }
    if (!set->rescan) {
      d->opts.rescan_ms = fresh.rescan_ms != 0 ? fresh.rescan_ms : PVD_RESCAN_MS;
      uv_timer_start(&d->rescan_timer, on_rescan, d->opts.rescan_ms, d->opts.rescan_ms);
    }
    if (fresh.manifests != NULL && strcmp(fresh.manifests, d->opts.manifests) != 0 && !set->manifests)
      pvd_log(d, PVD_LOG_WARN, NULL, NULL, "manifests changes only with a restart of the daemon dir=%s",
              pvd_logfmt_quote(fresh.manifests, q, sizeof q));
    pvd_log(d, PVD_LOG_INFO, NULL, NULL, "config reloaded file=%s",
            pvd_logfmt_quote(d->opts.config, q, sizeof q));
  }
  pvd_opts_free(&fresh);
  pvd_scan(d, "SIGHUP");
}

/* --- start-up ----------------------------------------------------------------------------------- */

/* The lock of a daemon killed just now may still be held for a moment by a
 * child it forked that has not reached its exec (the descriptor is
 * close-on-exec): a daemon restarted at once waits that long for it. */
#define PVD_LOCK_WAIT_MS 2000

/* One daemon per run-root: an exclusive flock on <run-root>/daemon.lock,
 * held for the process's life, with the holder's pid in the file.  While
 * that pid is gone, the lock is waited for up to PVD_LOCK_WAIT_MS. */
static int take_lock(pvd *d, pv_err *err) {
  char path[4096];
  if (pv_path(path, sizeof path, "%s/%s", d->opts.run_root, PVD_LOCK_NAME) < 0)
    return pv_err_sys(err, "%s/%s", d->opts.run_root, PVD_LOCK_NAME);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return pv_err_sys(err, "lock %s", path);
  for (unsigned waited = 0;; waited += 10) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
      break;
    int e = errno;
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    long holder = strtol(buf, NULL, 10);
    bool gone = holder > 0 && kill((pid_t)holder, 0) < 0 && errno == ESRCH;
    if (e == EWOULDBLOCK && gone && waited < PVD_LOCK_WAIT_MS) {
      (void)nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
      continue;
    }
    close(fd);
    if (e == EWOULDBLOCK && gone)
      return pv_err_set(
          err, EBUSY,
          "the lock %s of run-root %s is still held, by a process of the daemon that ended (pid %s)", path,
          d->opts.run_root, buf);
    if (e == EWOULDBLOCK)
      return pv_err_set(err, EBUSY, "another podvisor daemon (pid %s) already runs for run-root %s (lock %s)",
                        *buf ? buf : "?", d->opts.run_root, path);
    errno = e;
    return pv_err_sys(err, "lock %s", path);
  }
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
    close(fd);
    return pv_err_sys(err, "lock %s", path);
  }
  d->lock_fd = fd;
  return 0;
}

static int start(pvd *d, pv_err *err) {
  char q[1100];
  if (pv_mkdir_p(d->opts.run_root, 0755, err) < 0 || pv_mkdir_p(d->opts.root, 0711, err) < 0)
    return -1;
  if (take_lock(d, err) < 0)
    return -1;
  if (pv_mkdir_p(d->opts.manifests, 0755, err) < 0)
    return -1;
  /* Before any keeper is forked: they inherit the cgroup this moves to. */
  char parent[RESOURCE_PARENT_MAX + 1], qp[2 * RESOURCE_PARENT_MAX + 3];
  if (resource_manager_pick_parent(d->opts.cgroup_parent, parent, sizeof parent, err) < 0)
    return -1;
  free(d->opts.cgroup_parent);
  if ((d->opts.cgroup_parent = strdup(parent)) == NULL)
    return pv_err_sys(err, "cgroup parent");
  d->manifests_real = realpath(d->opts.manifests, NULL);
  if (d->manifests_real == NULL)
    return pv_err_sys(err, "manifests %s", d->opts.manifests);
  desired_opts dop = {.root = d->opts.root, .manifest_dir = d->manifests_real};
  desired_report rep;
  memset(&rep, 0, sizeof rep);
  if (desired_open(&dop, &d->desired, &rep, err) < 0)
    return -1;
  for (size_t i = 0; i < desired_count(d->desired); i++) {
    uint64_t rv = desired_at(d->desired, i)->resource_version;
    if (rv > d->rv)
      d->rv = rv;
  }
  pvd_log(d, PVD_LOG_INFO, NULL, NULL, "starting root=%s run_root=%s manifests=%s cgroup_parent=%s pid=%d",
          pvd_logfmt_quote(d->opts.root, q, sizeof q), d->opts.run_root, d->manifests_real,
          pvd_logfmt_quote(d->opts.cgroup_parent, qp, sizeof qp), (int)getpid());
  pvd_report(d, &rep);
  desired_report_free(&rep);
  memset(&rep, 0, sizeof rep);
  if (desired_scan(d->desired, pvd_now_ns(), &rep, err) < 0) {
    pvd_log(d, PVD_LOG_ERROR, NULL, NULL, "scan failed error=%s", pvd_logfmt_quote(err->msg, q, sizeof q));
    pv_err_clear(err);
  } else {
    pvd_report(d, &rep);
  }
  desired_report_free(&rep);

  dpods_adopt_all(d);
  if (pvd_api_start(d, err) < 0)
    return -1;
  d->api_started = true;

  if (uv_fs_event_start(&d->dir_event, on_dir_event, d->manifests_real, 0) == 0)
    d->dir_watching = true;
  else
    pvd_log(d, PVD_LOG_WARN, NULL, NULL,
            "no inotify watch of the manifest directory: the rescan alone finds changes");
  debounce_init(&d->deb, DEBOUNCE_QUIET_MS, DEBOUNCE_MAX_MS);
  uv_timer_start(&d->rescan_timer, on_rescan, d->opts.rescan_ms, d->opts.rescan_ms);
  if (d->n_starting > 0)
    uv_timer_start(&d->starting_timer, on_starting, 200, 0);
  pvd_log(d, PVD_LOG_INFO, NULL, NULL, "ready pods=%zu socket=%s/%s", d->n_pods, d->opts.run_root,
          PVD_SOCKET_NAME);
  pvd_reconcile_soon(d);
  return 0;
}

static void init_handles(pvd *d) {
  uv_signal_init(&d->loop, &d->sigterm);
  uv_signal_init(&d->loop, &d->sigint);
  uv_signal_init(&d->loop, &d->sighup);
  uv_timer_init(&d->loop, &d->rescan_timer);
  uv_timer_init(&d->loop, &d->debounce_timer);
  uv_timer_init(&d->loop, &d->starting_timer);
  uv_fs_event_init(&d->loop, &d->dir_event);
  memtrim_init(&d->trim, &d->loop, MEMTRIM_DELAY_MS);
  d->dir_event.data = d;
  pvd_reconcile_init(d);
  d->sigterm.data = d->sigint.data = d->sighup.data = d;
  d->rescan_timer.data = d->debounce_timer.data = d->starting_timer.data = d;
  uv_signal_start(&d->sigterm, on_stop_signal, SIGTERM);
  uv_signal_start(&d->sigint, on_stop_signal, SIGINT);
  uv_signal_start(&d->sighup, on_hup, SIGHUP);
}

/* The daemon holds about two descriptors a pod (its keeper's watch
 * connection and pidfd): the soft limit goes up to the hard one, as
 * containerd and dockerd run.  Keepers and containers inherit it, as they
 * inherit those runtimes' limits. */
static void raise_nofile(const pvd *d) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
    return;
  rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
    pvd_log(d, PVD_LOG_DEBUG, NULL, NULL, "open files limit raised from=%llu to=%llu",
            (unsigned long long)was, (unsigned long long)rl.rlim_max);
}

int daemon_main(int argc, char **argv) {
  pvd_opts_set set;
  pvd *d = calloc(1, sizeof *d);
  if (d == NULL) {
    fprintf(stderr, "podvisor daemon: out of memory\n");
    return 1;
  }
  int rc = pvd_opts_parse(argc, argv, &d->opts, &set);
  if (rc != 0) {
    pvd_opts_free(&d->opts);
    free(d);
    return rc == 1 ? 0 : 2;
  }
  pv_err err;
  pv_err_clear(&err);
  bool explicit_config = d->opts.config != NULL;
  if (load_config(&d->opts, &set, explicit_config, &err) < 0) {
    fprintf(stderr, "podvisor daemon: %s\n", pv_err_str(&err));
    pvd_opts_free(&d->opts);
    free(d);
    return 2;
  }
  pvd_opts_defaults(&d->opts);
  /* Before any thread or keeper: the keepers inherit the pool. */
  if (idpool_config_setup("--userns-pool", d->opts.userns_pool, &err) < 0) {
    fprintf(stderr, "podvisor daemon: %s\n", pv_err_str(&err));
    pvd_opts_free(&d->opts);
    free(d);
    return 2;
  }
  pvd_log_set_level(d->opts.log_level);
  signal(SIGPIPE, SIG_IGN);
  raise_nofile(d);
  d->lock_fd = -1;
  d->started_ns = pvd_now_ns();
  if (gethostname(d->hostname, sizeof d->hostname - 1) < 0)
    snprintf(d->hostname, sizeof d->hostname, "localhost");
  uv_loop_init(&d->loop);
  d->loop.data = &set;
  init_handles(d);
  rc = 0;
  if (start(d, &err) < 0) {
    char q[1100];
    pvd_log(d, PVD_LOG_ERROR, NULL, NULL, "cannot start error=%s",
            pvd_logfmt_quote(pv_err_str(&err), q, sizeof q));
    fprintf(stderr, "podvisor daemon: %s\n", pv_err_str(&err));
    rc = 1;
    /* What start() opened goes; keepers already adopted run on. */
    d->shutting_down = true;
    dpods_shutdown(d, true);
    d->finished = true;
    on_api_closed(d);
  }
  uv_run(&d->loop, UV_RUN_DEFAULT);
  if (rc == 0)
    pvd_log(d, PVD_LOG_INFO, NULL, NULL, "stopped");
  uv_loop_close(&d->loop);
  desired_close(d->desired);
  pvd_events_free(d);
  free(d->starting);
  free(d->manifests_real);
  if (d->lock_fd >= 0)
    close(d->lock_fd);
  pvd_opts_free(&d->opts);
  free(d);
  return rc;
}
