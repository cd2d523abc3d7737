/* shim_ctl.c - the shim's set-up (lock, snapshot, paths, sandbox, socket,
 * the launcher's sync pipe) and tear-down, and its status render. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spec/duration.h"
#include "supervisor/core/util.h"
#include "supervisor/proto/podsnap.h"
#include "supervisor/shim/placement.h"
#include "supervisor/shim/shim_internal.h"
#include "supervisor/shim/status.h"

/* --- status ----------------------------------------------------------------- */

static void on_status_timer(uv_timer_t *t) {
  shim *sh = t->data;
  if (!sh->status_dirty)
    return;
  sh->status_dirty = false;
  pv_err err;
  pv_err_clear(&err);
  if (shim_write_status(sh, &err) < 0)
    fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&err));
  /* A change may end the last run that still used an updated-away spec. */
  shim_specs_collect(sh);
  /* A change usually ends a burst of work (a start, an exit, a probe
   * result): once things stay quiet, what it left resident goes back. */
  shim_mem_burst_done(sh);
}

void shim_mark_dirty(shim *sh) {
  if (sh->closing)
    return;
  ctrstate_pod_update(&sh->status, shim_now_ns());
  if (!sh->status_dirty) {
    sh->status_dirty = true;
    /* One write per loop turn, however many events it brought. */
    uv_timer_start(&sh->status_timer, on_status_timer, 0, 0);
  }
}

/* Renders the status now (on the loop, so the snapshot is consistent),
 * hands the same text to the socket's watchers (a status event each) and
 * to the status file's writer, which replaces status.json in the thread
 * pool (statefile.h: one write in flight, later ones coalesce). */
int shim_write_status(shim *sh, pv_err *err) {
  char *json = shim_status_json(sh);
  if (json == NULL)
    return pv_err_set(err, ENOMEM, "pod %s: status: out of memory", sh->pod->name);
  shimsock_publish(&sh->sock, json);
  statefile_set(&sh->status_file, json, strlen(json));
  return 0;
}

static void on_statefile_error(void *ctx, const pv_err *err) {
  (void)ctx;
  fprintf(stderr, "podvisor shim: %s\n", pv_err_str(err));
}

/* --- set-up ---------------------------------------------------------------------- */

/* The snapshot the launcher wrote under the lock (podsnap.h): the only
 * description of the pod the shim reads.  It must be this run directory's
 * pod, with a uid (the instance). */
static int load_pod(shim *sh, pv_err *err) {
  spec_pod *p;
  if (podsnap_load(sh->paths.snapshot, &p, err) < 0)
    return -1;
  char key[PODPATHS_KEY_LEN + 1];
  spec_pod_key(p, key);
  spec_pod **items = malloc(sizeof *items);
  if (strcmp(key, sh->paths.key) != 0 || items == NULL) {
    if (items == NULL)
      pv_err_set(err, ENOMEM, "pod %s: out of memory", p->name);
    else
      pv_err_set(err, EINVAL, "snapshot %s: pod %s/%s belongs to another run directory", sh->paths.snapshot,
                 p->ns, p->name);
    free(items);
    spec_pod_free(p);
    return -1;
  }
  items[0] = p;
  sh->pods = (spec_pod_list){.items = items, .n = 1, .cap = 1};
  sh->pod = p;
  return 0;
}

static void init_ctr(shim *sh, shim_ctr *ctr, ctrstate *st, const spec_container *c) {
  ctr->sh = sh;
  ctr->st = st;
  ctr->spec = c;
  backoff_kind kind = !c->is_init ? BACKOFF_KIND_APP : c->sidecar ? BACKOFF_KIND_SIDECAR : BACKOFF_KIND_INIT;
  ctrstate_init(st, c->name, kind, c->is_init ? false : sh->pod->n_init_containers > 0);
  st->has_startup_probe = c->startup.kind != SPEC_PROBE_NONE;
  st->has_readiness_probe = c->readiness.kind != SPEC_PROBE_NONE;
  snprintf(st->image, sizeof st->image, "%s", c->image);
  snprintf(st->spec_hash, sizeof st->spec_hash, "sha256:%s", c->hash);
  backoff_state_init(&ctr->bo);
  uv_timer_init(&sh->loop, &ctr->backoff_timer);
  uv_timer_init(&sh->loop, &ctr->kill_timer);
  ctr->backoff_timer.data = ctr->kill_timer.data = ctr;
}

static int init_state(shim *sh, pv_err *err) {
  const spec_pod *p = sh->pod;
  backoff_policy pol = p->restart_policy == SPEC_RESTART_ALWAYS       ? BACKOFF_POLICY_ALWAYS
                       : p->restart_policy == SPEC_RESTART_ON_FAILURE ? BACKOFF_POLICY_ON_FAILURE
                                                                      : BACKOFF_POLICY_NEVER;
  if (ctrstate_pod_init(&sh->status, pol, p->n_init_containers, p->n_containers, err) < 0)
    return -1;
  sh->status.start_time = shim_now_ns();
  sh->status.shim_pid = getpid();
  snprintf(sh->status.spec_hash, sizeof sh->status.spec_hash, "sha256:%s", p->hash);
  sh->n_init = p->n_init_containers;
  sh->n_ctrs = p->n_init_containers + p->n_containers;
  sh->ctrs = calloc(sh->n_ctrs ? sh->n_ctrs : 1, sizeof *sh->ctrs);
  if (sh->ctrs == NULL)
    return pv_err_set(err, ENOMEM, "pod %s: out of memory", p->name);
  for (size_t i = 0; i < p->n_init_containers; i++)
    init_ctr(sh, &sh->ctrs[i], &sh->status.init[i], &p->init_containers[i]);
  for (size_t i = 0; i < p->n_containers; i++)
    init_ctr(sh, &sh->ctrs[sh->n_init + i], &sh->status.app[i], &p->containers[i]);
  backoff_config_default(&sh->bo_cfg);
  sh->bo_cfg.initial_ms = (int64_t)p->backoff_initial_ms;
  sh->bo_cfg.max_ms = (int64_t)p->backoff_max_ms;
  sh->bo_cfg.reset_ms = (int64_t)p->backoff_reset_ms;
  /* spec/ refuses a start limit above what backoff_state can remember. */
  _Static_assert(SPEC_START_LIMIT_MAX <= BACKOFF_LIMIT_MAX, "start limit ring too small");
  sh->bo_cfg.limit_starts = p->start_limit_count;
  sh->bo_cfg.limit_window_ms = (int64_t)p->start_limit_window_ms;
  if (sh->bo_cfg.max_ms < sh->bo_cfg.initial_ms)
    sh->bo_cfg.max_ms = sh->bo_cfg.initial_ms;
  return 0;
}

/* The run directory's paths, from the key alone (the snapshot is read
 * under the lock, after this). */
static int make_run_paths(shim *sh, pv_err *err) {
  if (podpaths_init(&sh->paths, sh->opt.run_root, sh->opt.pod_key, err) < 0)
    return -1;
  sh->run_dir = sh->paths.run_dir;
  sh->status_path = sh->paths.status;
  sh->sock_path = sh->paths.socket;
  return 0;
}

/* The instance's paths, from the snapshot's uid. */
static int make_paths(shim *sh, pv_err *err) {
  const spec_pod *p = sh->pod;
  if (podpaths_set_instance(&sh->paths, sh->opt.root, p->ns, p->name, p->uid, err) < 0)
    return -1;
  snprintf(sh->uid, sizeof sh->uid, "%s", sh->paths.uid);
  sh->pod_dir = sh->paths.pod_dir;
  sh->log_dir = sh->paths.log_dir;
  return 0;
}

/* Makes this shim the pod's only keeper: an exclusive flock() on
 * <run_dir>/shim.lock whose fd stays open for the life of the process (the
 * kernel drops the lock on any exit, kill -9 included).  Without it a
 * second shim for the same pod would take the first one's live containers
 * for leftovers.  A launcher hands over the lock it wrote the snapshot
 * under (--lock-fd: the same open file, so flock() on it succeeds); else
 * the shim takes it, giving a keeper just killed 2 s to finish its exit. */
static int take_lock(shim *sh, pv_err *err) {
  char what[64];
  snprintf(what, sizeof what, "with key %s", sh->paths.key);
  int fd = sh->opt.lock_fd;
  if (fd < 0)
    return podsnap_lock_wait(&sh->paths, what, 2000, &sh->lock_fd, err);
  struct stat held, named;
  int rc;
  do
    rc = flock(fd, LOCK_EX | LOCK_NB);
  while (rc < 0 && errno == EINTR);
  if (rc < 0 || fstat(fd, &held) < 0 || stat(sh->paths.lock, &named) < 0 || held.st_dev != named.st_dev ||
      held.st_ino != named.st_ino) {
    close(fd);
    return pv_err_set(err, EBADF, "pod %s: --lock-fd is not the held lock %s", what, sh->paths.lock);
  }
  sh->lock_fd = fd;
  return 0;
}

/* Removes the run dir at a clean stop, the lock file last (take_lock()).
 * A stop that left cgroups behind keeps the instance's snapshot and status
 * (and so its uid): the pod's next keeper knows whose leftovers they are. */
static void remove_run_dir(shim *sh, bool left_behind) {
  DIR *d = opendir(sh->run_dir);
  if (d != NULL) {
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, "shim.lock") == 0)
        continue;
      if (left_behind && strcmp(e->d_name, "shim.sock") != 0 && strcmp(e->d_name, "shim.pid") != 0)
        continue;
      if (pv_path(path, sizeof path, "%s/%s", sh->run_dir, e->d_name) == 0)
        pv_rm_rf(path, NULL);
    }
    closedir(d);
  }
  char lock[PATH_MAX];
  if (!left_behind && pv_path(lock, sizeof lock, "%s/shim.lock", sh->run_dir) == 0)
    (void)unlink(lock);
  close(sh->lock_fd);
  sh->lock_fd = -1;
  (void)rmdir(sh->run_dir); /* ENOTEMPTY: the next keeper already came */
}

/* Removes what a SIGKILLed predecessor of this instance left: cgroups
 * (its containers died with it through pdeathsig) and container upper
 * dirs (shim_clean_instance). */
static void clean_leftovers(shim *sh) {
  shim_clean_instance(sh, sh->uid, false);
}

static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  shim_begin_stop(s->data);
}

static void pool_noop(uv_work_t *req) {
  (void)req;
}

/* libuv's thread pool (state files, container teardown) starts its threads
 * at the first uv_queue_work.  They must exist before the sandbox unshares
 * the pid namespace (sandbox.h), and should share the pod's mount namespace:
 * a throw-away loop queues one no-op right after the other namespaces. */
static void start_thread_pool(void *ctx) {
  (void)ctx;
  uv_loop_t l;
  uv_work_t req;
  if (uv_loop_init(&l) < 0)
    return;
  if (uv_queue_work(&l, &req, pool_noop, NULL) == 0)
    uv_run(&l, UV_RUN_DEFAULT);
  uv_loop_close(&l);
}

static int setup(shim *sh, pv_err *err) {
  /* Nothing of the pod is read or touched before the lock is ours. */
  if (make_run_paths(sh, err) < 0 || take_lock(sh, err) < 0 || load_pod(sh, err) < 0 ||
      make_paths(sh, err) < 0)
    return -1;
  sandbox_config sc = {.hostname = sh->pod->effective_hostname,
                       .host_network = sh->pod->host_network,
                       .share_pid = sh->pod->share_process_namespace,
                       .before_pid_ns = start_thread_pool};
  if (pv_mkdir_p(sh->pod_dir, 0700, err) < 0 || pv_mkdir_p(sh->log_dir, 0755, err) < 0)
    return -1;
  if (sandbox_enter(&sh->sb, &sc, err) < 0)
    return -1;
  char state[PATH_MAX];
  if (pv_path(state, sizeof state, "%s/containers", sh->pod_dir) < 0)
    return pv_err_sys(err, "pod %s", sh->pod->name);
  container_manager_options mo = {.state_dir = state};
  if (container_manager_init(&sh->mgr, &mo, err) < 0)
    return -1;
  if (uv_loop_init(&sh->loop) < 0)
    return pv_err_set(err, EIO, "pod %s: uv_loop_init", sh->pod->name);
  sh->loop_ready = true;
  uv_timer_init(&sh->loop, &sh->status_timer);
  uv_timer_init(&sh->loop, &sh->stop_timer);
  shim_mem_idle_init(sh);
  uv_timer_init(&sh->loop, &sh->collect_timer);
  sh->collect_timer.data = sh;
  uv_signal_init(&sh->loop, &sh->sig_term);
  uv_signal_init(&sh->loop, &sh->sig_int);
  sh->status_timer.data = sh->stop_timer.data = sh->sig_term.data = sh->sig_int.data = sh;
  if (statefile_init(&sh->status_file, &sh->loop, sh->status_path, 0644, on_statefile_error, sh, err) < 0)
    return -1;
  if (init_state(sh, err) < 0)
    return -1;
  clean_leftovers(sh);
  if (pv_mkdir_p(state, 0700, err) < 0)
    return -1;
  shim_load_previous(sh);
  if (placement_prepare_volumes(sh->pod_dir, sh->pod, err) < 0)
    return -1;
  sh->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  uv_signal_start(&sh->sig_term, on_signal, SIGTERM);
  uv_signal_start(&sh->sig_int, on_signal, SIGINT);
  char pidpath[PATH_MAX], *pidbuf = NULL;
  if (pv_path(pidpath, sizeof pidpath, "%s/shim.pid", sh->run_dir) < 0 ||
      statefile_init(&sh->pid_file, &sh->loop, pidpath, 0644, on_statefile_error, sh, err) < 0)
    return -1;
  if (asprintf(&pidbuf, "%d\n", (int)getpid()) > 0)
    statefile_set(&sh->pid_file, pidbuf, strlen(pidbuf));
  if (shim_ops_init(sh, err) < 0 ||
      shimsock_listen(&sh->sock, &sh->loop, sh->sock_path, &shim_ops_handler, sh, err) < 0)
    return -1;
  return shim_pause_watch(sh, err);
}

/* --- tear-down -------------------------------------------------------------------- */

static void on_shim_handle_closed(uv_handle_t *h) {
  (void)h;
}

static void on_sock_closed(void *ctx) {
  (void)ctx;
}

/* Once the pod is stopping and every container is down: close the draining
 * log pipes, then every shim-level handle; the loop then runs out of work. */
void shim_maybe_finish(shim *sh) {
  if (!sh->stopping || sh->closing)
    return;
  for (size_t i = 0; i < sh->n_ctrs; i++)
    if (sh->ctrs[i].run != NULL || sh->ctrs[i].probes_closing > 0)
      return;
  for (shim_run *r = sh->runs; r != NULL; r = r->next)
    if (r->lp_open)
      logpump_close(&r->lp);
  if (sh->runs != NULL)
    return; /* called again when the last run is freed */
  if (shim_pending_hold(sh))
    return; /* called again once the pending cgroups are gone */
  sh->closing = true;
  /* The final status: its write (queued behind one in flight, if any)
   * keeps the loop running until it is on disk. */
  if (sh->status_dirty) {
    sh->status_dirty = false;
    shim_write_status(sh, NULL);
  }
  for (size_t i = 0; i < sh->n_ctrs; i++) {
    uv_close((uv_handle_t *)&sh->ctrs[i].backoff_timer, on_shim_handle_closed);
    uv_close((uv_handle_t *)&sh->ctrs[i].kill_timer, on_shim_handle_closed);
  }
  uv_close((uv_handle_t *)&sh->status_timer, on_shim_handle_closed);
  uv_close((uv_handle_t *)&sh->stop_timer, on_shim_handle_closed);
  uv_close((uv_handle_t *)&sh->trim_timer, on_shim_handle_closed);
  uv_close((uv_handle_t *)&sh->collect_timer, on_shim_handle_closed);
  uv_close((uv_handle_t *)&sh->sig_term, on_shim_handle_closed);
  uv_close((uv_handle_t *)&sh->sig_int, on_shim_handle_closed);
  shimsock_close(&sh->sock, on_sock_closed);
  shim_pause_close(sh);
}

static void teardown(shim *sh) {
  bool left_behind = sh->pending_gave_up;
  if (sh->mgr != NULL) {
    /* The loop already waited for pending cgroups (shim_pending.c). */
    pv_err err;
    pv_err_clear(&err);
    if (container_manager_close(sh->mgr, 100, &err) < 0) {
      fprintf(stderr, "podvisor shim: pod %s: %s\n", sh->pod->name, pv_err_str(&err));
      left_behind = true;
    }
    sh->mgr = NULL;
    /* The pod-level cgroup directory is ours too; a child cgroup left
     * behind above keeps it busy, which is said, not hidden. */
    char rel[512];
    resource_manager *rm = NULL;
    cgroup_handle *cg = NULL;
    snprintf(rel, sizeof rel, "podvisor/%s", sh->uid);
    pv_err_clear(&err);
    if (resource_manager_init(&rm, NULL, NULL) == 0 &&
        resource_manager_open_cgroup(rm, rel, &cg, NULL) == 0 &&
        resource_manager_destroy_cgroup(cg, &err) < 0) {
      fprintf(stderr, "podvisor shim: pod %s: %s\n", sh->pod->name, pv_err_str(&err));
      resource_manager_close_cgroup(cg);
      left_behind = true;
    }
    resource_manager_cleanup(rm);
  }
  /* Only the pod's keeper removes its files: a shim that did not get the
   * lock (another one keeps the pod) leaves them all alone. */
  bool keeper = sh->lock_fd >= 0;
  if (keeper && sh->pod_dir != NULL) {
    placement_release_volumes(sh->pod_dir, sh->pod);
    pv_rm_rf(sh->pod_dir, NULL);
  }
  sandbox_release(&sh->sb);
  if (keeper)
    remove_run_dir(sh, left_behind);
}

/* The launcher's sync pipe (shim.h): one JSON line, then closed. */
static void sync_report(int *fd, const char *error) {
  if (*fd < 0)
    return;
  json_t *j = error == NULL ? json_pack("{s:b,s:i}", "ok", 1, "pid", (int)getpid())
                            : json_pack("{s:b,s:s}", "ok", 0, "error", error);
  char *line = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (line != NULL) {
    size_t len = strlen(line), off = 0;
    line[len++] = '\n'; /* replaces the NUL */
    while (off < len) {
      ssize_t n = write(*fd, line + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      off += (size_t)n;
    }
    free(line);
  }
  close(*fd);
  *fd = -1;
}

int shim_main(const shim_options *o, pv_err *err) {
  shim_mem_setup();
  /* The launcher's descriptors must not reach a container: the lock would
   * outlive the shim in it. */
  int sync_fd = o->sync_fd;
  if (sync_fd >= 0)
    (void)fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
  if (o->lock_fd >= 0)
    (void)fcntl(o->lock_fd, F_SETFD, FD_CLOEXEC);
  shim *sh = calloc(1, sizeof *sh);
  if (sh == NULL) {
    pv_err_set(err, ENOMEM, "shim: out of memory");
    sync_report(&sync_fd, pv_err_str(err));
    return -1;
  }
  sh->opt = *o;
  sh->devnull = -1;
  sh->lock_fd = -1;
  sandbox_init(&sh->sb);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  /* A stop request can come at any moment, also while the pod is being set
   * up (Ctrl-C on `up` right after it started): SIGTERM and SIGINT stay
   * blocked until setup() has handed them to the loop, so they are never
   * met by their default action (which would kill the shim half-way and
   * leave its files behind).  They are unblocked afterwards even when the
   * launcher had them blocked: the loop must see them.  Children reset their
   * mask before exec. */
  sigset_t stop_sigs;
  sigemptyset(&stop_sigs);
  sigaddset(&stop_sigs, SIGTERM);
  sigaddset(&stop_sigs, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_sigs, NULL);
  int rc = setup(sh, err);
  sync_report(&sync_fd, rc == 0 ? NULL : pv_err_str(err));
  sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
  bool loop_ok = sh->loop_ready;
  if (rc == 0) {
    shim_mark_dirty(sh);
    shim_advance(sh);
    uv_run(&sh->loop, UV_RUN_DEFAULT);
  } else if (loop_ok) {
    /* Set-up failed after the loop existed: close what was opened. */
    sh->stopping = true;
    shim_maybe_finish(sh);
    uv_run(&sh->loop, UV_RUN_DEFAULT);
  }
  if (loop_ok) {
    pv_err ferr;
    pv_err_clear(&ferr);
    if (statefile_finish(&sh->status_file, &ferr) < 0 || statefile_finish(&sh->pid_file, &ferr) < 0)
      fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&ferr));
    uv_loop_close(&sh->loop);
  }
  teardown(sh);
  if (rc == 0 && sh->sandbox_error[0] != '\0')
    rc = pv_err_set(err, ESRCH, "%s", sh->sandbox_error); /* the pod failed with its sandbox */
  if (sh->devnull >= 0)
    close(sh->devnull);
  ctrstate_pod_free(&sh->status);
  for (size_t i = 0; sh->ctrs != NULL && i < sh->n_ctrs; i++)
    shim_free_probes(&sh->ctrs[i]);
  free(sh->ctrs);
  shim_specs_free(sh);
  spec_pod_list_free(&sh->pods);
  shim_ops_free(sh);
  podpaths_free(&sh->paths);
  free(sh);
  return rc;
}
