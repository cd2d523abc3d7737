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

#include "supervisor/core/util.h"
#include "supervisor/shim/keeper.h"
#include "supervisor/shim/placement.h"
#include "supervisor/shim/runtime_core.h"
#include "supervisor/shim/sandbox.h"
#include "supervisor/shim/shim_mem.h"
#include "supervisor/shim/shim_pause.h"
#include "supervisor/shim/shimsock.h"
#include "supervisor/shim/statefile.h"
#include "supervisor/shim/status.h"

typedef struct shim {
  uv_loop_t loop;
  shim_options opt;
  spec_pod_list pods; /* the manifest's pods until the keeper takes ours */
  spec_pod *pod;      /* ours; the keeper's once it exists */
  char uid[SHIM_UID_LEN + 1];
  /* Heap strings (NULL until make_paths): PATH_MAX arrays here would each
   * dirty a page of their own for a path of a hundred bytes. */
  char *run_dir, *pod_dir, *log_dir, *status_path, *sock_path;
  container_manager *mgr;
  sandbox sb;
  shim_pause *pause;
  runtime_core rt;
  keeper *k;
  shimsock sock;
  uv_signal_t sig_term, sig_int;
  uv_timer_t trim_timer;
  statefile status_file; /* status.json, written durably off the loop */
  statefile pid_file;    /* shim.pid */
  bool loop_ready, handles_ready, listening, closing;
  int devnull;
  int lock_fd; /* <run_dir>/shim.lock, flock()ed for the shim's life */
} shim;

/* --- set-up ---------------------------------------------------------------------------- */

static int load_pod(shim *sh, pv_err *err) {
  diag_list diags;
  diag_list_init(&diags);
  int rc = spec_parse_file(sh->opt.pod_file, 0, &sh->pods, &diags);
  if (rc < 0) {
    char msg[512] = "invalid manifest";
    for (size_t i = 0; i < diags.n; i++)
      if (diags.items[i].severity == DIAG_ERROR) {
        diag_format(&diags.items[i], msg, sizeof msg);
        break;
      }
    diag_list_free(&diags);
    return pv_err_set(err, EINVAL, "%s", msg);
  }
  diag_list_free(&diags);
  for (size_t i = 0; i < sh->pods.n; i++) {
    const spec_pod *p = sh->pods.items[i];
    if ((sh->opt.pod_name == NULL || strcmp(p->name, sh->opt.pod_name) == 0) &&
        (sh->opt.pod_namespace == NULL || strcmp(p->ns, sh->opt.pod_namespace) == 0)) {
      sh->pod = spec_pod_list_steal(&sh->pods, i);
      spec_pod_list_free(&sh->pods);
      return 0;
    }
  }
  return pv_err_set(err, ENOENT, "%s: no pod %s", sh->opt.pod_file,
                    sh->opt.pod_name != NULL ? sh->opt.pod_name : "");
}

static const spec_pod *pod_of(const shim *sh) {
  return sh->k != NULL ? keeper_pod(sh->k) : sh->pod;
}

_Static_assert(SHIM_UID_LEN == SPEC_POD_UID_LEN, "the shim's uid buffer holds spec_pod_uid()");

/* *out = a heap copy of the path fmt makes; -1 with errno on failure. */
__attribute__((format(printf, 2, 3))) static int path_dup(char **out, const char *fmt, ...) {
  char buf[PATH_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return (*out = strdup(buf)) == NULL ? -1 : 0;
}

static int make_paths(shim *sh, pv_err *err) {
  const spec_pod *p = sh->pod;
  spec_pod_uid(p, NULL, sh->uid);
  /* spec/ already refuses a metadata.uid that is not Kubernetes-shaped; the
   * uid names directories that teardown removes, so check again here. */
  if (!spec_uid_is_safe(sh->uid))
    return pv_err_set(err, EINVAL, "pod %s: unsafe uid '%s'", p->name, sh->uid);
  if (path_dup(&sh->run_dir, "%s/pods/%s", sh->opt.run_root, sh->uid) < 0 ||
      path_dup(&sh->pod_dir, "%s/pods/%s", sh->opt.root, sh->uid) < 0 ||
      path_dup(&sh->log_dir, "%s/logs/%s_%s_%s", sh->opt.root, p->ns, p->name, sh->uid) < 0 ||
      path_dup(&sh->status_path, "%s/status.json", sh->run_dir) < 0 ||
      path_dup(&sh->sock_path, "%s/shim.sock", sh->run_dir) < 0)
    return pv_err_sys(err, "pod %s: paths", p->name);
  return 0;
}

/* The refusal of a second shim for a pod that already has one. */
static int already_kept(shim *sh, pv_err *err) {
  char path[PATH_MAX];
  char *buf = NULL;
  long pid = 0;
  if (pv_path(path, sizeof path, "%s/shim.pid", sh->run_dir) == 0 &&
      pv_read_file(path, &buf, NULL, NULL) == 0)
    pid = strtol(buf, NULL, 10);
  free(buf);
  const spec_pod *p = sh->pod;
  if (pid > 0)
    return pv_err_set(err, EBUSY, "pod %s/%s is already kept by shim %ld", p->ns, p->name, pid);
  return pv_err_set(err, EBUSY, "pod %s/%s is already kept by another shim", p->ns, p->name);
}

/* Makes this shim the pod's only keeper: an exclusive flock() on
 * <run_dir>/shim.lock whose fd stays open for the life of the process (the
 * kernel drops the lock on any exit, kill -9 included).  Without it a
 * second shim for the same uid would take the first one's live containers
 * for leftovers.  A keeper that stops cleanly unlinks the file last, so a
 * lock won on an inode no longer linked at the path is taken again on the
 * new file. */
static int take_lock(shim *sh, pv_err *err) {
  const spec_pod *p = sh->pod;
  char path[PATH_MAX];
  if (pv_path(path, sizeof path, "%s/shim.lock", sh->run_dir) < 0)
    return pv_err_sys(err, "pod %s/%s: lock path", p->ns, p->name);
  for (int tries = 0;; tries++) {
    if (tries == 10)
      return pv_err_set(err, EAGAIN, "pod %s/%s: %s keeps being removed", p->ns, p->name, path);
    if (pv_mkdir_p(sh->run_dir, 0700, err) < 0)
      return -1;
    int fd;
    do
      fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    while (fd < 0 && errno == EINTR);
    if (fd < 0 && errno == ENOENT)
      continue; /* the run dir was removed by a keeper that just stopped */
    if (fd < 0)
      return pv_err_sys(err, "pod %s/%s: open %s", p->ns, p->name, path);
    /* A keeper just killed (kill -9, then a new shim at once) holds the
     * lock until the kernel has finished its exit: give it 2 s. */
    int rc;
    for (int wait = 0;; wait++) {
      do
        rc = flock(fd, LOCK_EX | LOCK_NB);
      while (rc < 0 && errno == EINTR);
      if (rc == 0 || errno != EWOULDBLOCK || wait == 40)
        break;
      struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000L};
      nanosleep(&ts, NULL);
    }
    if (rc < 0) {
      int e = errno;
      close(fd);
      if (e == EWOULDBLOCK)
        return already_kept(sh, err);
      errno = e;
      return pv_err_sys(err, "pod %s/%s: lock %s", p->ns, p->name, path);
    }
    struct stat held, named;
    if (fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino) {
      sh->lock_fd = fd;
      return 0;
    }
    close(fd);
  }
}

/* Removes the run dir at a clean stop, the lock file last (take_lock()). */
static void remove_run_dir(shim *sh) {
  DIR *d = opendir(sh->run_dir);
  if (d != NULL) {
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, "shim.lock") == 0)
        continue;
      if (pv_path(path, sizeof path, "%s/%s", sh->run_dir, e->d_name) == 0)
        pv_rm_rf(path, NULL);
    }
    closedir(d);
  }
  char lock[PATH_MAX];
  if (pv_path(lock, sizeof lock, "%s/shim.lock", sh->run_dir) == 0)
    (void)unlink(lock);
  close(sh->lock_fd);
  sh->lock_fd = -1;
  (void)rmdir(sh->run_dir); /* ENOTEMPTY: the next keeper already came */
}

/* Removes what a SIGKILLed predecessor left: cgroups (its containers died
 * with it through pdeathsig) and container upper dirs.  Every cgroup below
 * the pod's is the predecessor's (the lock keeps shims apart): the manager
 * kills and removes them, and keeps the ones whose processes are still
 * dying pending (the keeper collects them), so no container of ours joins
 * them. */
static void clean_leftovers(shim *sh) {
  char rel[512];
  pv_err err;
  pv_err_clear(&err);
  snprintf(rel, sizeof rel, "podvisor/%s", sh->uid);
  if (container_manager_adopt_leftovers(sh->mgr, rel, &err) < 0)
    fprintf(stderr, "podvisor shim: pod %s: %s\n", sh->pod->name, pv_err_str(&err));
  cgroup_handle *cg = NULL;
  if (container_manager_pending(sh->mgr) == 0 &&
      resource_manager_open_cgroup(container_manager_resources(sh->mgr), rel, &cg, NULL) == 0 &&
      resource_manager_destroy_cgroup(cg, NULL) < 0)
    resource_manager_close_cgroup(cg);
  char dir[PATH_MAX];
  if (pv_path(dir, sizeof dir, "%s/containers", sh->pod_dir) == 0)
    pv_rm_rf(dir, NULL);
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
  json_object_set_new(pv, "logDir", json_string(sh->log_dir));
  json_object_set_new(pv, "socket", json_string(sh->sock_path));
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

/* --- socket commands (the line protocol of shimsock.h) ------------------------------------------- */

static char *errorf(const pv_err *e) {
  char *s = NULL;
  if (asprintf(&s, "error: %s", pv_err_str(e)) < 0)
    return NULL;
  return s;
}

/* The container named of the pod in file, as a pod spec of its own. */
static spec_pod *load_update(shim *sh, const char *name, const char *file, pv_err *err) {
  diag_list diags;
  diag_list_init(&diags);
  spec_pod_list l = {0};
  int rc = spec_parse_file(file, 0, &l, &diags);
  spec_pod *found = NULL;
  const spec_pod *cur = pod_of(sh);
  for (size_t i = 0; rc == 0 && i < l.n && found == NULL; i++)
    if ((strcmp(l.items[i]->name, cur->name) == 0 || l.n == 1) &&
        spec_pod_container(l.items[i], name) != NULL)
      found = spec_pod_list_steal(&l, i);
  if (found == NULL) {
    if (rc < 0 && diags.n > 0) {
      char msg[512];
      diag_format(&diags.items[0], msg, sizeof msg);
      pv_err_set(err, EINVAL, "%s", msg);
    } else {
      pv_err_set(err, ENOENT, "%s: no container %s in pod %s", file, name, cur->name);
    }
  }
  spec_pod_list_free(&l);
  diag_list_free(&diags);
  return found;
}

static char *handle_command(void *ctx, const char *line) {
  shim *sh = ctx;
  pv_err err;
  pv_err_clear(&err);
  char cmd[32] = "", name[128] = "", file[PATH_MAX] = "";
  int n = sscanf(line, "%31s %127s %4095s", cmd, name, file);
  if (n >= 1 && strcmp(cmd, "status") == 0)
    return keeper_status_json(sh->k);
  if (n >= 1 && strcmp(cmd, "stop") == 0) {
    keeper_stop(sh->k, -1);
    return strdup("ok");
  }
  if (n >= 2 && strcmp(cmd, "restart") == 0)
    return keeper_restart(sh->k, name, &err) < 0 ? errorf(&err) : strdup("ok");
  if (n == 3 && strcmp(cmd, "update") == 0) {
    spec_pod *p = load_update(sh, name, file, &err);
    if (p == NULL || keeper_update(sh->k, name, p, &err) < 0)
      return errorf(&err);
    return strdup("ok");
  }
  pv_err_set(&err, EINVAL, "unknown command '%s' (status, stop, restart NAME, update NAME FILE)", line);
  return errorf(&err);
}

static void on_statefile_error(void *ctx, const pv_err *err) {
  (void)ctx;
  fprintf(stderr, "podvisor shim: %s\n", pv_err_str(err));
}

/* The status a predecessor of this pod left (a shim killed with -9, then
 * started again): the keeper carries it forward. */
static void start_keeper(shim *sh) {
  ctrstate_pod prev;
  memset(&prev, 0, sizeof prev);
  json_t *doc = NULL;
  if (status_load(sh->status_path, &prev, NULL) == 0)
    doc = json_load_file(sh->status_path, 0, NULL);
  keeper_start(sh->k, doc != NULL ? &prev : NULL, doc);
  json_decref(doc);
  ctrstate_pod_free(&prev);
}

static int setup(shim *sh, pv_err *err) {
  if (load_pod(sh, err) < 0 || make_paths(sh, err) < 0)
    return -1;
  const spec_pod *p = sh->pod;
  sandbox_config sc = {.hostname = p->effective_hostname,
                       .host_network = p->host_network,
                       .share_pid = p->share_process_namespace,
                       .before_pid_ns = start_thread_pool};
  /* Nothing of the pod is touched before the lock is ours. */
  if (take_lock(sh, err) < 0 || pv_mkdir_p(sh->pod_dir, 0700, err) < 0 ||
      pv_mkdir_p(sh->log_dir, 0755, err) < 0)
    return -1;
  if (sandbox_enter(&sh->sb, &sc, err) < 0)
    return -1;
  char state[PATH_MAX];
  if (pv_path(state, sizeof state, "%s/containers", sh->pod_dir) < 0)
    return pv_err_sys(err, "pod %s", p->name);
  container_manager_options mo = {.state_dir = state};
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
  if (statefile_init(&sh->status_file, &sh->loop, sh->status_path, 0644, on_statefile_error, sh, err) < 0)
    return -1;
  clean_leftovers(sh);
  if (pv_mkdir_p(state, 0700, err) < 0 || placement_prepare_volumes(sh->pod_dir, p, err) < 0)
    return -1;
  sh->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (shim_pause_new(&sh->pause, &sh->loop, &sh->sb, p->name, err) < 0)
    return -1;
  sh->rt = (runtime_core){.loop = &sh->loop,
                          .mgr = sh->mgr,
                          .root = sh->opt.root,
                          .pod_dir = sh->pod_dir,
                          .uid = sh->uid,
                          .sb = &sh->sb,
                          .pause = sh->pause,
                          .devnull = sh->devnull};
  keeper_config kc = {.loop = &sh->loop,
                      .uid = sh->uid,
                      .log_dir = sh->log_dir,
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
  uv_signal_start(&sh->sig_term, on_signal, SIGTERM);
  uv_signal_start(&sh->sig_int, on_signal, SIGINT);
  char pidpath[PATH_MAX], *pidbuf = NULL;
  if (pv_path(pidpath, sizeof pidpath, "%s/shim.pid", sh->run_dir) < 0 ||
      statefile_init(&sh->pid_file, &sh->loop, pidpath, 0644, on_statefile_error, sh, err) < 0)
    return -1;
  if (asprintf(&pidbuf, "%d\n", (int)getpid()) > 0)
    statefile_set(&sh->pid_file, pidbuf, strlen(pidbuf));
  if (shimsock_listen(&sh->sock, &sh->loop, sh->sock_path, handle_command, sh, err) < 0)
    return -1;
  sh->listening = true;
  start_keeper(sh);
  return 0;
}

/* --- tear-down -------------------------------------------------------------------------------------- */

static void teardown(shim *sh) {
  const spec_pod *p = pod_of(sh);
  if (sh->mgr != NULL) {
    /* The keeper already waited for pending cgroups (kpending.h). */
    pv_err err;
    pv_err_clear(&err);
    if (container_manager_close(sh->mgr, 100, &err) < 0)
      fprintf(stderr, "podvisor shim: pod %s: %s\n", p->name, pv_err_str(&err));
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
      fprintf(stderr, "podvisor shim: pod %s: %s\n", p->name, pv_err_str(&err));
      resource_manager_close_cgroup(cg);
    }
    resource_manager_cleanup(rm);
  }
  /* Only the pod's keeper removes its files: a shim that did not get the
   * lock (another one keeps the pod) leaves them all alone. */
  bool keeper = sh->lock_fd >= 0;
  if (keeper && sh->pod_dir != NULL && p != NULL) {
    placement_release_volumes(sh->pod_dir, p);
    pv_rm_rf(sh->pod_dir, NULL);
  }
  sandbox_release(&sh->sb);
  if (keeper)
    remove_run_dir(sh);
}

static void free_shim(shim *sh) {
  if (sh->devnull >= 0)
    close(sh->devnull);
  keeper_free(sh->k);
  spec_pod_free(sh->pod);
  spec_pod_list_free(&sh->pods);
  free(sh->run_dir);
  free(sh->pod_dir);
  free(sh->log_dir);
  free(sh->status_path);
  free(sh->sock_path);
  free(sh);
}

int shim_main(const shim_options *o, pv_err *err) {
  shim_mem_setup();
  shim *sh = calloc(1, sizeof *sh);
  if (sh == NULL)
    return pv_err_set(err, ENOMEM, "shim: out of memory");
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
  sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
  if (rc < 0 && sh->k != NULL) {
    /* Set-up failed after the keeper existed: it closes what it opened. */
    keeper_stop(sh->k, 0);
  } else if (rc < 0) {
    close_handles(sh);
  }
  if (sh->loop_ready) {
    uv_run(&sh->loop, UV_RUN_DEFAULT);
    pv_err ferr;
    pv_err_clear(&ferr);
    if (statefile_finish(&sh->status_file, &ferr) < 0 || statefile_finish(&sh->pid_file, &ferr) < 0)
      fprintf(stderr, "podvisor shim: %s\n", pv_err_str(&ferr));
    uv_loop_close(&sh->loop);
  }
  teardown(sh);
  if (rc == 0 && keeper_sandbox_error(sh->k)[0] != '\0')
    rc = pv_err_set(err, ESRCH, "%s", keeper_sandbox_error(sh->k)); /* the pod failed with its sandbox */
  free_shim(sh);
  return rc;
}
