/* shim.c - the pod shim process (shim.h): its files, its lock, the pod's
 * sandbox, the runtime, the control socket and signals around one keeper
 * (keeper.h), from set-up to tear-down. */
#include "supervisor/shim/shim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "supervisor/core/idpool.h"
#include "supervisor/core/util.h"
#include "supervisor/proto/podsnap.h"
#include "supervisor/shim/placement.h"
#include "supervisor/shim/shim_mem.h"
#include "supervisor/shim/shim_proc.h"
#include "supervisor/shim/status.h"

/* --- set-up ---------------------------------------------------------------------------- */

/* The snapshot the launcher wrote under the lock (podsnap.h): the only
 * description of the pod the shim reads.  It must be this run directory's
 * pod, with a uid (the instance). */
static int load_pod(shim *sh, pv_err *err) {
  spec_pod *p;
  if (podsnap_load(sh->paths.snapshot, &p, err) < 0)
    return -1;
  char key[PODPATHS_KEY_LEN + 1];
  spec_pod_key(p, key);
  if (strcmp(key, sh->paths.key) != 0) {
    pv_err_set(err, EINVAL, "snapshot %s: pod %s/%s belongs to another run directory", sh->paths.snapshot,
               p->ns, p->name);
    spec_pod_free(p);
    return -1;
  }
  sh->pod = p;
  return 0;
}

static const spec_pod *pod_of(const shim *sh) {
  return sh->k != NULL ? keeper_pod(sh->k) : sh->pod;
}

/* The run directory's paths, from the key alone (the snapshot is read
 * under the lock, after this), then the instance's, from its uid. */
static int make_run_paths(shim *sh, pv_err *err) {
  return podpaths_init(&sh->paths, sh->opt.run_root, sh->opt.pod_key, err);
}

/* The instance's paths, its cgroup under the parent recorded for it (a
 * keeper started again for the same instance) or else under the one
 * given, which is then recorded (shim.h). */
static int make_paths(shim *sh, pv_err *err) {
  const spec_pod *p = sh->pod;
  if (podpaths_set_instance(&sh->paths, sh->opt.root, p->ns, p->name, p->uid, err) < 0)
    return -1;
  const char *given = sh->opt.cgroup_parent != NULL ? sh->opt.cgroup_parent : RESOURCE_DEFAULT_PARENT;
  snprintf(sh->cgroup_parent, sizeof sh->cgroup_parent, "%s", given);
  if (podsnap_read_cgroup(&sh->paths, sh->prev_uid, sh->prev_parent, sizeof sh->prev_parent) < 0)
    sh->prev_uid[0] = sh->prev_parent[0] = '\0';
  else if (strcmp(sh->prev_uid, p->uid) == 0)
    snprintf(sh->cgroup_parent, sizeof sh->cgroup_parent, "%s", sh->prev_parent);
  if (podpaths_set_cgroup(&sh->paths, sh->cgroup_parent, err) < 0 ||
      podsnap_write_cgroup(&sh->paths, p->uid, sh->cgroup_parent, err) < 0)
    return pv_err_wrap(err, "pod %s", p->name);
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
  const char *run_dir = sh->paths.run_dir;
  DIR *d = opendir(run_dir);
  if (d != NULL) {
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, "shim.lock") == 0)
        continue;
      if (left_behind && strcmp(e->d_name, "shim.sock") != 0 && strcmp(e->d_name, "shim.pid") != 0)
        continue;
      if (pv_path(path, sizeof path, "%s/%s", run_dir, e->d_name) == 0)
        pv_rm_rf(path, NULL);
    }
    closedir(d);
  }
  if (!left_behind)
    (void)unlink(sh->paths.lock);
  close(sh->lock_fd);
  sh->lock_fd = -1;
  (void)rmdir(run_dir); /* ENOTEMPTY: the next keeper already came */
}

/* <root>/userns, where the pods' id ranges are kept (idpool.h). */
static int userns_dir(const shim *sh, char *buf, size_t len) {
  return pv_path(buf, len, "%s/userns", sh->opt.root);
}

/* hostUsers: false: the pod's id range, the one this instance had already
 * when the shim runs it again.  The ids stay the pod's until its data goes
 * (release_ids). */
static int acquire_ids(shim *sh, pv_err *err) {
  const spec_pod *p = sh->pod;
  if (p->host_users != 0)
    return 0;
  char dir[PATH_MAX];
  idpool_config cfg;
  if (userns_dir(sh, dir, sizeof dir) < 0)
    return pv_err_sys(err, "pod %s: user namespace ranges under %s", p->name, sh->opt.root);
  if (idpool_config_from_env(&cfg, err) < 0 || idpool_acquire(dir, &cfg, p->uid, &sh->userns_base, err) < 0)
    return pv_err_wrap(err, "pod %s", p->name);
  return 0;
}

/* Gives instance uid's id range back (a pod without one: nothing). */
static void release_ids(const shim *sh, const char *uid) {
  char dir[PATH_MAX];
  pv_err err;
  pv_err_clear(&err);
  if (userns_dir(sh, dir, sizeof dir) == 0 && idpool_release(dir, uid, &err) < 0)
    fprintf(stderr, "podvisor shim: pod instance %s: %s\n", uid, pv_err_str(&err));
}

/* Removes what a killed keeper of instance uid left: its cgroups below
 * <parent>/<uid>, the parent recorded for that instance (its containers
 * died with it through pdeathsig: the manager kills and removes them, and
 * keeps the ones whose processes are still dying pending, collected by the
 * keeper, so no container of ours joins them) and its container upper
 * dirs; whole: its entire <root>/pods/<uid> (an earlier instance's). */
static void clean_instance(shim *sh, const char *uid, bool whole) {
  const spec_pod *p = pod_of(sh);
  podpaths pp;
  pv_err err;
  pv_err_clear(&err);
  const char *parent = strcmp(uid, sh->prev_uid) == 0 ? sh->prev_parent : sh->cgroup_parent;
  if (podpaths_init(&pp, sh->opt.run_root, sh->paths.key, &err) < 0 ||
      podpaths_set_instance(&pp, sh->opt.root, p->ns, p->name, uid, &err) < 0 ||
      podpaths_set_cgroup(&pp, parent, &err) < 0) {
    fprintf(stderr, "podvisor shim: pod %s: earlier instance: %s\n", p->name, pv_err_str(&err));
    podpaths_free(&pp);
    return;
  }
  if (container_manager_adopt_leftovers(sh->mgr, pp.cgroup, &err) < 0)
    fprintf(stderr, "podvisor shim: pod %s: %s\n", p->name, pv_err_str(&err));
  cgroup_handle *cg = NULL;
  if (container_manager_pending(sh->mgr) == 0 &&
      resource_manager_open_cgroup(container_manager_resources(sh->mgr), pp.cgroup, &cg, NULL) == 0 &&
      resource_manager_destroy_cgroup(cg, NULL) < 0)
    resource_manager_close_cgroup(cg);
  char dir[PATH_MAX];
  if (whole) {
    pv_rm_rf(pp.pod_dir, NULL); /* never crosses into a mount left behind */
    release_ids(sh, uid);
  }
  else if (pv_path(dir, sizeof dir, "%s/containers", pp.pod_dir) == 0)
    pv_rm_rf(dir, NULL);
  podpaths_free(&pp);
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

/* --- the keeper's callbacks ------------------------------------------------------------------ */

static void on_status(void *ctx, char *json) {
  shim *sh = ctx;
  /* The same text goes, as one line, to the socket's watchers. */
  shimsock_publish(&sh->sock, json);
  statefile_set(&sh->status_file, json, strlen(json));
  /* A change usually ends a burst of work (a start, an exit, a probe
   * result): once things stay quiet, what it left resident goes back. */
  if (!sh->closing)
    shim_mem_burst_done(&sh->trim_timer);
}

static void decorate(void *ctx, json_t *status) {
  shim *sh = ctx;
  json_t *pv = json_object_get(status, "podvisor");
  if (pv == NULL)
    return;
  json_object_set_new(pv, "logDir", json_string(sh->paths.log_dir));
  json_object_set_new(pv, "socket", json_string(sh->paths.socket));
  /* shareProcessNamespace: pid 1 of the pod (0 while it has none). */
  if (sh->sb.share_pid)
    json_object_set_new(pv, "pausePid", json_integer(sh->sb.pause_pid));
}

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

static void on_sock_closed(void *ctx) {
  (void)ctx;
}

/* Closes the process's own handles: the loop then runs out of work once the
 * last state file is written. */
static void close_handles(shim *sh) {
  if (sh->closing)
    return;
  sh->closing = true;
  if (sh->handles_ready) {
    uv_close((uv_handle_t *)&sh->trim_timer, on_handle_closed);
    uv_close((uv_handle_t *)&sh->sig_term, on_handle_closed);
    uv_close((uv_handle_t *)&sh->sig_int, on_handle_closed);
  }
  if (sh->listening)
    shimsock_close(&sh->sock, on_sock_closed);
  shim_pause_close(sh->pause);
  sh->pause = NULL;
}

static void on_done(void *ctx) {
  close_handles(ctx);
}

static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  shim *sh = s->data;
  keeper_stop(sh->k, -1);
}

static void on_statefile_error(void *ctx, const pv_err *err) {
  (void)ctx;
  fprintf(stderr, "podvisor shim: %s\n", pv_err_str(err));
}

/* The status a predecessor of this pod left (a shim killed with -9, then
 * started again): the keeper carries it forward when it is the same
 * instance's (the same uid).  A new instance starts fresh, and what the old
 * one left is removed. */
static void start_keeper(shim *sh) {
  ctrstate_pod prev;
  memset(&prev, 0, sizeof prev);
  json_t *doc = json_load_file(sh->paths.status, 0, NULL);
  const char *uid = json_string_value(json_object_get(json_object_get(doc, "metadata"), "uid"));
  bool same = uid != NULL && strcmp(uid, sh->paths.uid) == 0;
  if (!same && uid != NULL && podpaths_uid_is_valid(uid))
    clean_instance(sh, uid, true);
  if (!same || status_load(sh->paths.status, &prev, NULL) < 0) {
    json_decref(doc);
    doc = NULL;
  }
  keeper_start(sh->k, doc != NULL ? &prev : NULL, doc);
  json_decref(doc);
  ctrstate_pod_free(&prev);
}

static int setup_keeper(shim *sh, pv_err *err) {
  sh->rt = (runtime_core){.loop = &sh->loop,
                          .mgr = sh->mgr,
                          .root = sh->opt.root,
                          .pod_dir = sh->paths.pod_dir,
                          .uid = sh->paths.uid,
                          .pod_cgroup = sh->paths.cgroup,
                          .sb = &sh->sb,
                          .pause = sh->pause,
                          .devnull = sh->devnull};
  char seccomp_dir[PATH_MAX];
  seccache_init(&sh->rt.seccomp, pv_path(seccomp_dir, sizeof seccomp_dir, "%s/%s", sh->opt.root,
                                         SECCOMP_CACHE_DIR) == 0 ? seccomp_dir : NULL);
  keeper_config kc = {.loop = &sh->loop,
                      .uid = sh->paths.uid,
                      .log_dir = sh->paths.log_dir,
                      .rt = {&runtime_core_ops, &sh->rt},
                      .devnull = sh->devnull,
                      .on_status = on_status,
                      .decorate = decorate,
                      .on_done = on_done,
                      .ctx = sh};
  crilog_opts_default(&kc.log_opts);
  if (sh->opt.log_max_size > 0)
    kc.log_opts.max_size = (int64_t)sh->opt.log_max_size;
  if (sh->opt.log_max_files > 0)
    kc.log_opts.max_files = (int)sh->opt.log_max_files;
  spec_pod *mine = sh->pod;
  sh->pod = NULL;
  if (keeper_new(&sh->k, &kc, mine, err) < 0)
    return -1;
  shim_pause_set_keeper(sh->pause, sh->k);
  return 0;
}

static int setup(shim *sh, pv_err *err) {
  /* Nothing of the pod is read or touched before the lock is ours. */
  if (make_run_paths(sh, err) < 0 || take_lock(sh, err) < 0 || load_pod(sh, err) < 0 ||
      make_paths(sh, err) < 0)
    return -1;
  const spec_pod *p = sh->pod;
  if (pv_mkdir_p(sh->paths.pod_dir, 0700, err) < 0 || pv_mkdir_p(sh->paths.log_dir, 0755, err) < 0 ||
      acquire_ids(sh, err) < 0)
    return -1;
  sandbox_config sc = {.hostname = p->effective_hostname,
                       .host_network = p->host_network,
                       .share_pid = p->share_process_namespace,
                       .host_pid = p->host_pid,
                       .host_ipc = p->host_ipc,
                       .sysctls = p->sysctls.items,
                       .n_sysctls = p->sysctls.n,
                       .userns_base = sh->userns_base,
                       .userns_size = sh->userns_base != 0 ? IDPOOL_RANGE : 0,
                       .before_pid_ns = start_thread_pool};
  if (sandbox_enter(&sh->sb, &sc, err) < 0)
    return -1;
  char state[PATH_MAX];
  if (pv_path(state, sizeof state, "%s/containers", sh->paths.pod_dir) < 0)
    return pv_err_sys(err, "pod %s", p->name);
  container_manager_options mo = {.state_dir = state, .cgroup_parent = sh->cgroup_parent};
  if (container_manager_init(&sh->mgr, &mo, err) < 0)
    return -1;
  if (uv_loop_init(&sh->loop) < 0)
    return pv_err_set(err, EIO, "pod %s: uv_loop_init", p->name);
  sh->loop_ready = true;
  shim_mem_idle_init(&sh->trim_timer, &sh->loop);
  uv_signal_init(&sh->loop, &sh->sig_term);
  uv_signal_init(&sh->loop, &sh->sig_int);
  sh->sig_term.data = sh->sig_int.data = sh;
  sh->handles_ready = true;
  if (statefile_init(&sh->status_file, &sh->loop, sh->paths.status, 0644, on_statefile_error, sh, err) < 0)
    return -1;
  /* What a SIGKILLed keeper of this instance left (start_keeper removes
   * what another instance left). */
  clean_instance(sh, sh->paths.uid, false);
  if (pv_mkdir_p(state, 0700, err) < 0 || placement_prepare_volumes(sh->paths.pod_dir, p, sh->userns_base, err) < 0)
    return -1;
  sh->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (shim_pause_new(&sh->pause, &sh->loop, &sh->sb, p->name, err) < 0 || setup_keeper(sh, err) < 0)
    return -1;
  uv_signal_start(&sh->sig_term, on_signal, SIGTERM);
  uv_signal_start(&sh->sig_int, on_signal, SIGINT);
  char *pidbuf = NULL;
  if (statefile_init(&sh->pid_file, &sh->loop, sh->paths.pid_file, 0644, on_statefile_error, sh, err) < 0)
    return -1;
  if (asprintf(&pidbuf, "%d\n", (int)getpid()) > 0)
    statefile_set(&sh->pid_file, pidbuf, strlen(pidbuf));
  if (shimsock_listen(&sh->sock, &sh->loop, sh->paths.socket, &shim_ops_handler, sh, err) < 0)
    return -1;
  sh->listening = true;
  start_keeper(sh);
  return 0;
}

/* --- tear-down -------------------------------------------------------------------------------------- */

/* Closes the manager and removes the pod-level cgroup; true when a cgroup
 * was left behind (still holding processes). */
static bool close_cgroups(shim *sh, const spec_pod *p) {
  bool left = false;
  pv_err err;
  pv_err_clear(&err);
  /* The keeper already waited for pending cgroups (kpending.h). */
  if (container_manager_close(sh->mgr, 100, &err) < 0) {
    fprintf(stderr, "podvisor shim: pod %s: %s\n", p->name, pv_err_str(&err));
    left = true;
  }
  sh->mgr = NULL;
  seccache_free(&sh->rt.seccomp); /* no container borrows a program any more */
  /* The pod-level cgroup directory is ours too; a child cgroup left behind
   * above keeps it busy, which is said, not hidden. */
  resource_manager *rm = NULL;
  cgroup_handle *cg = NULL;
  pv_err_clear(&err);
  if (resource_manager_init(&rm, NULL, NULL) == 0 &&
      resource_manager_set_parent(rm, sh->cgroup_parent, NULL) == 0 &&
      resource_manager_open_cgroup(rm, sh->paths.cgroup, &cg, NULL) == 0 &&
      resource_manager_destroy_cgroup(cg, &err) < 0) {
    fprintf(stderr, "podvisor shim: pod %s: %s\n", p->name, pv_err_str(&err));
    resource_manager_close_cgroup(cg);
    left = true;
  }
  resource_manager_cleanup(rm);
  return left;
}

static void teardown(shim *sh) {
  const spec_pod *p = pod_of(sh);
  bool left_behind = sh->k != NULL && keeper_left_behind(sh->k);
  if (sh->mgr != NULL && close_cgroups(sh, p))
    left_behind = true;
  /* Only the pod's keeper removes its files: a shim that did not get the
   * lock (another one keeps the pod) leaves them all alone. */
  bool keeper = sh->lock_fd >= 0;
  if (keeper && sh->paths.pod_dir != NULL && p != NULL) {
    placement_release_volumes(sh->paths.pod_dir, p);
    pv_rm_rf(sh->paths.pod_dir, NULL);
    /* Processes left behind may still run with the pod's ids: its range is
     * then kept until the pod's next keeper cleans up after them. */
    if (!left_behind && sh->userns_base != 0)
      release_ids(sh, sh->paths.uid);
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

static void free_shim(shim *sh) {
  if (sh->devnull >= 0)
    close(sh->devnull);
  keeper_free(sh->k);
  spec_pod_free(sh->pod);
  podpaths_free(&sh->paths);
  free(sh);
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
  if (rc < 0 && sh->k != NULL)
    keeper_stop(sh->k, 0); /* set-up failed after the keeper existed: it closes what it opened */
  else if (rc < 0)
    close_handles(sh);
  if (sh->loop_ready) {
    uv_run(&sh->loop, UV_RUN_DEFAULT);
    pv_err ferr;
    pv_err_clear(&ferr);
    /* Both, even when the first fails: each closes its retry timer. */
    int frc = statefile_finish(&sh->status_file, &ferr);
    if (statefile_finish(&sh->pid_file, frc < 0 ? NULL : &ferr) < 0)
      frc = -1;
    if (frc < 0)
      fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&ferr));
    uv_loop_close(&sh->loop);
  }
  teardown(sh);
  if (rc == 0 && keeper_sandbox_error(sh->k)[0] != '\0')
    rc = pv_err_set(err, ESRCH, "%s", keeper_sandbox_error(sh->k)); /* the pod failed with its sandbox */
  free_shim(sh);
  return rc;
}
