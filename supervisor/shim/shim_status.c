/* shim_status.c - the shim's status document and per-run CRI logs: thin
 * adapters from the shim's structures to status and crilog. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/crilog.h"
#include "supervisor/shim/shim_internal.h"
#include "supervisor/shim/status.h"

/* --- logs ---------------------------------------------------------------------- */

struct shim_log {
  crilog *log;
};

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

shim_log *shim_log_open(shim *sh, const char *ctr, unsigned restart, pv_err *err) {
  char dir[PATH_MAX];
  if (pv_path(dir, sizeof dir, "%s/%s", sh->log_dir, ctr) < 0) {
    pv_err_sys(err, "container %s: log dir", ctr);
    return NULL;
  }
  if (pv_mkdir_p(dir, 0755, err) < 0)
    return NULL;
  prune_old_runs(dir, restart);
  shim_log *l = calloc(1, sizeof *l);
  if (l == NULL) {
    pv_err_set(err, ENOMEM, "container %s: out of memory", ctr);
    return NULL;
  }
  crilog_opts o;
  crilog_opts_default(&o);
  if (sh->opt.log_max_size > 0)
    o.max_size = (int64_t)sh->opt.log_max_size;
  if (sh->opt.log_max_files > 0)
    o.max_files = (int)sh->opt.log_max_files;
  if (crilog_open(&l->log, dir, restart, &o, err) < 0) {
    free(l);
    return NULL;
  }
  return l;
}

void shim_log_write(shim_log *l, bool is_stderr, const char *buf, size_t len) {
  if (l != NULL)
    crilog_write(l->log, is_stderr ? CRILOG_STDERR : CRILOG_STDOUT, buf, len, shim_now_ns(), NULL);
}

void shim_log_flush(shim_log *l) {
  if (l != NULL)
    crilog_flush(l->log, shim_now_ns(), NULL);
}

void shim_log_close(shim_log *l) {
  if (l == NULL)
    return;
  crilog_close(l->log, shim_now_ns(), NULL);
  free(l);
}

/* --- status JSON ---------------------------------------------------------------- */

/* The backoff state a successor needs (shim_load_previous): the count of
 * consecutive exits and the recent start times (ms, oldest first). */
static json_t *backoff_json(const backoff_state *bo) {
  json_t *starts = json_array();
  for (uint32_t k = 0; k < bo->nstarts; k++)
    json_array_append_new(
        starts,
        json_integer(bo->starts[(bo->head + BACKOFF_LIMIT_MAX - bo->nstarts + k) % BACKOFF_LIMIT_MAX]));
  return json_pack("{s:I,s:o}", "exits", (json_int_t)bo->exits, "startsMs", starts);
}

/* Restores what backoff_json() saved; a malformed entry leaves bo fresh. */
static void backoff_from_json(const json_t *j, backoff_state *bo) {
  const json_t *exits = json_object_get(j, "exits"), *starts = json_object_get(j, "startsMs"), *v;
  if (!json_is_integer(exits) || json_integer_value(exits) < 0 || json_integer_value(exits) > UINT32_MAX ||
      !json_is_array(starts))
    return;
  size_t i;
  json_array_foreach(starts, i, v) if (!json_is_integer(v)) return;
  backoff_state_init(bo);
  bo->exits = (uint32_t)json_integer_value(exits);
  json_array_foreach(starts, i, v) backoff_record_start(bo, json_integer_value(v));
}

/* status.c renders the Kubernetes-shaped document; the shim adds who it is
 * (metadata) and where its files are. */
char *shim_status_json(shim *sh) {
  json_t *root = status_to_json(&sh->status);
  if (root == NULL)
    return NULL;
  json_object_set_new(
      root, "metadata",
      json_pack("{s:s,s:s,s:s}", "name", sh->pod->name, "namespace", sh->pod->ns, "uid", sh->uid));
  /* Per container: the last exit → restart latency the shim achieved. */
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  for (int k = 0; k < 2; k++) {
    json_t *arr = json_object_get(root, keys[k]), *e;
    size_t i;
    json_array_foreach(arr, i, e) {
      shim_ctr *ctr = shim_find(sh, json_string_value(json_object_get(e, "name")));
      json_t *cpv = json_object_get(e, "podvisor");
      if (ctr == NULL || cpv == NULL)
        continue;
      if (ctr->restart_gap_ns > 0)
        json_object_set_new(cpv, "restartGapNs", json_integer(ctr->restart_gap_ns));
      json_object_set_new(cpv, "backoff", backoff_json(&ctr->bo));
    }
  }
  json_t *pv = json_object_get(root, "podvisor");
  if (pv == NULL) {
    pv = json_object();
    json_object_set_new(root, "podvisor", pv);
  }
  json_object_set_new(pv, "stopping", json_boolean(sh->stopping));
  json_object_set_new(pv, "logDir", json_string(sh->log_dir));
  json_object_set_new(pv, "socket", json_string(sh->sock_path));
  /* shareProcessNamespace: pid 1 of the pod (0 while it has none). */
  if (sh->sb.share_pid)
    json_object_set_new(pv, "pausePid", json_integer(sh->sb.pause_pid));
  if (sh->sandbox_error[0] != '\0') {
    /* The pod's pid namespace died and could not be replaced: whatever its
     * containers would do, the pod is over (the kubelet's failed sandbox). */
    json_object_set_new(root, "phase", json_string("Failed"));
    json_object_set_new(root, "reason", json_string("SandboxFailed"));
    json_object_set_new(root, "message", json_string(sh->sandbox_error));
  }
  /* Compact: the same text goes to status.json and, as one line, to the
   * socket's watchers. */
  char *s = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  return s;
}

/* Restores a container as down for good: Terminated with term. */
static void restore_final(shim *sh, shim_ctr *ctr, const ctrstate *o, const ctrstate_term *term) {
  ctrstate *st = ctr->st;
  st->restart_count = o->restart_count;
  if (o->has_last) {
    st->last = o->last;
    st->has_last = true;
  }
  st->term = *term;
  st->state = CTRSTATE_TERMINATED;
  shim_mark_dirty(sh);
}

/* A container the predecessor had running died with it (pdeathsig): an
 * exit 137 (SIGKILL, reason Error) that the restart policy judges like any
 * other.  Returns false when it stays down (restored as final). */
static bool restore_killed(shim *sh, shim_ctr *ctr, const ctrstate *o) {
  backoff_exit x = {.exit_code = 137, .signal = SIGKILL};
  ctrstate_term t = {.reason = CTRSTATE_TERM_ERROR,
                     .exit_code = 137,
                     .signal = SIGKILL,
                     .started_at = o->started_at,
                     .finished_at = shim_now_ns()};
  backoff_decision d = backoff_restart_decide(sh->status.policy, ctr->st->kind, &x);
  if (d == BACKOFF_RESTART) {
    ctr->st->restart_count = o->restart_count + 1;
    ctr->st->last = t;
    ctr->st->has_last = true;
    return true;
  }
  restore_final(sh, ctr, o, &t);
  if (d == BACKOFF_FAIL_POD)
    sh->pod_failed = true;
  return false;
}

/* Carries a predecessor's state forward (a shim restarted for the same
 * instance, the same uid): restart counts, last terminations and the backoff state.  A
 * container the predecessor had running counts as killed (restore_killed).
 * One that waited in CrashLoopBackOff waits until the same deadline; one
 * stopped by its start limit stays down; one that terminated and that the
 * policy does not restart stays terminated. */
void shim_clean_instance(shim *sh, const char *uid, bool whole) {
  podpaths pp;
  pv_err err;
  pv_err_clear(&err);
  if (podpaths_init(&pp, sh->opt.run_root, sh->paths.key, &err) < 0 ||
      podpaths_set_instance(&pp, sh->opt.root, sh->pod->ns, sh->pod->name, uid, &err) < 0) {
    fprintf(stderr, "podvisor shim: pod %s: earlier instance: %s\n", sh->pod->name, pv_err_str(&err));
    podpaths_free(&pp);
    return;
  }
  /* Every cgroup below the instance's is a dead keeper's (the lock keeps
   * shims apart): the manager kills and removes them, and keeps the ones
   * whose processes are still dying pending, so no container joins them. */
  if (container_manager_adopt_leftovers(sh->mgr, pp.cgroup, &err) < 0)
    fprintf(stderr, "podvisor shim: pod %s: %s\n", sh->pod->name, pv_err_str(&err));
  cgroup_handle *cg = NULL;
  if (container_manager_pending(sh->mgr) == 0 &&
      resource_manager_open_cgroup(container_manager_resources(sh->mgr), pp.cgroup, &cg, NULL) == 0 &&
      resource_manager_destroy_cgroup(cg, NULL) < 0)
    resource_manager_close_cgroup(cg);
  shim_pending_arm(sh);
  char dir[PATH_MAX];
  if (whole)
    pv_rm_rf(pp.pod_dir, NULL); /* never crosses into a mount left behind */
  else if (pv_path(dir, sizeof dir, "%s/containers", pp.pod_dir) == 0)
    pv_rm_rf(dir, NULL);
  podpaths_free(&pp);
}

/* The uid of the instance whose status a predecessor left (older shims
 * wrote no uid there: another instance, too). */
static bool same_instance(shim *sh, const json_t *raw) {
  const char *uid = json_string_value(json_object_get(json_object_get(raw, "metadata"), "uid"));
  if (uid != NULL && strcmp(uid, sh->uid) == 0)
    return true;
  if (uid != NULL && podpaths_uid_is_valid(uid))
    shim_clean_instance(sh, uid, true);
  return false;
}

void shim_load_previous(shim *sh) {
  ctrstate_pod prev;
  memset(&prev, 0, sizeof prev);
  json_t *raw = json_load_file(sh->status_path, 0, NULL);
  /* A new instance of the pod starts fresh: nothing of another instance's
   * status is carried forward, and what that one left is removed. */
  if (raw == NULL || !same_instance(sh, raw) || status_load(sh->status_path, &prev, NULL) < 0) {
    json_decref(raw);
    return;
  }
  ctrstate *lists[2] = {prev.init, prev.app};
  size_t ns[2] = {prev.n_init, prev.n_app};
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < ns[k]; i++) {
      const ctrstate *o = &lists[k][i];
      shim_ctr *ctr = shim_find(sh, o->name);
      if (ctr == NULL)
        continue;
      json_t *e = json_array_get(json_object_get(raw, keys[k]), i);
      const char *ename = json_string_value(json_object_get(e, "name"));
      if (ename != NULL && strcmp(ename, o->name) == 0)
        backoff_from_json(json_object_get(json_object_get(e, "podvisor"), "backoff"), &ctr->bo);
      bool was_running = o->state == CTRSTATE_RUNNING || o->state == CTRSTATE_STOPPING;
      if (was_running) {
        (void)restore_killed(sh, ctr, o);
        continue;
      }
      if (o->state == CTRSTATE_TERMINATED && !o->stop_requested && ctrstate_is_final(o, sh->status.policy)) {
        restore_final(sh, ctr, o, &o->term);
        continue;
      }
      ctr->st->restart_count = o->restart_count;
      const ctrstate_term *last = ctrstate_last_state(o);
      if (o->state == CTRSTATE_TERMINATED)
        last = &o->term;
      if (last != NULL) {
        ctr->st->last = *last;
        ctr->st->has_last = true;
      }
      if ((o->state == CTRSTATE_BACKOFF || o->state == CTRSTATE_START_LIMIT) && !o->stop_requested)
        shim_resume_waiting(ctr, o);
    }
  json_decref(raw);
  ctrstate_pod_free(&prev);
}