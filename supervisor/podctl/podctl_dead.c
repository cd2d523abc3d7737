/*
 * podctl_dead.c - what the launcher of a keeper does the moment it sees the
 * keeper die without stopping its pod (kill -9, a crash): see
 * podctl_clean_dead() in podctl.h.
 *
 * The containers died with their keeper (PR_SET_PDEATHSIG SIGKILL; in a pid
 * namespace of their own, the rest of the namespace with them), but what
 * the keeper would have removed stays: the status file saying Running, the
 * cgroup directories of the instance, the socket nobody listens on, the
 * containers' upper dirs.  The status is rewritten (every container that
 * was live is terminated, reason ShimDied, exit 137: the successor keeper
 * reads that as a death with its keeper, ctrstate.h, and carries the
 * restart counts on), and the rest goes through the same calls a successor
 * keeper uses (container_manager_adopt_leftovers).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/container.h"
#include "supervisor/core/resource.h"
#include "supervisor/core/util.h"
#include "supervisor/podctl/podctl.h"

/* "2006-01-02T15:04:05.000000000Z" of now. */
static void now_rfc3339(char *buf, size_t len) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static bool live_fsm(const char *fsm) {
  static const char *const live[] = {"Running", "PreStop", "Stopping", "Killing"}; /* ctrstate.c was_live */
  for (size_t i = 0; fsm != NULL && i < sizeof live / sizeof live[0]; i++)
    if (strcmp(fsm, live[i]) == 0)
      return true;
  return false;
}

/* One container's status: terminated by its keeper's death when it was
 * live.  Returns true when it changed. */
static bool mark_container(json_t *e, const char *now, const char *msg) {
  json_t *pv = json_object_get(e, "podvisor");
  if (!json_is_object(pv) || !live_fsm(json_string_value(json_object_get(pv, "fsm"))))
    return false;
  const json_t *run = json_object_get(json_object_get(e, "state"), "running");
  json_t *t = json_pack("{s:i,s:i,s:s,s:s,s:s}", "exitCode", 137, "signal", 9, "reason", "ShimDied", "message",
                        msg, "finishedAt", now);
  if (t == NULL)
    return false;
  const json_t *started = json_object_get(run, "startedAt");
  if (json_is_string(started))
    json_object_set(t, "startedAt", (json_t *)started);
  json_object_set_new(e, "state", json_pack("{s:o}", "terminated", t));
  json_object_set_new(e, "ready", json_false());
  json_object_set_new(e, "started", json_false());
  json_object_set_new(pv, "fsm", json_string("Terminated"));
  json_object_set_new(pv, "pid", json_integer(0));
  return true;
}

/* The pod's conditions but PodScheduled and Initialized turn False. */
static void mark_conditions(json_t *doc, const char *now) {
  json_t *conds = json_object_get(doc, "conditions"), *c;
  size_t i;
  json_array_foreach(conds, i, c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    if (type == NULL || strcmp(type, "PodScheduled") == 0 || strcmp(type, "Initialized") == 0)
      continue;
    json_object_set_new(c, "status", json_string("False"));
    json_object_set_new(c, "reason", json_string("ShimDied"));
    json_object_set_new(c, "lastTransitionTime", json_string(now));
  }
}

static int mark_status(const podpaths *pp, int status, bool final, pv_err *err) {
  json_error_t je;
  json_t *doc = json_load_file(pp->status, 0, &je);
  if (doc == NULL)
    return 0; /* no status written yet: nothing says Running */
  char now[64], msg[128];
  now_rfc3339(now, sizeof now);
  if (status > 0)
    snprintf(msg, sizeof msg, "the pod's keeper exited with status %d; the container died with it", status);
  else
    snprintf(msg, sizeof msg, "the pod's keeper died; the container died with it");
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  for (int k = 0; k < 2; k++) {
    json_t *arr = json_object_get(doc, keys[k]), *e;
    size_t i;
    json_array_foreach(arr, i, e) mark_container(e, now, msg);
  }
  mark_conditions(doc, now);
  if (final)
    json_object_set_new(doc, "phase", json_string("Failed"));
  json_object_set_new(doc, "reason", json_string("ShimDied"));
  json_object_set_new(doc, "message", json_string(msg));
  json_t *pv = json_object_get(doc, "podvisor");
  if (json_is_object(pv))
    json_object_set_new(pv, "shimDied", json_integer(status));
  char *text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  if (text == NULL)
    return pv_err_set(err, ENOMEM, "%s: out of memory", pp->status);
  int rc = pv_write_file_atomic(pp->status, text, strlen(text), 0644, err);
  free(text);
  return rc;
}

/* The instance's cgroups: every container cgroup below <parent>/<uid>
 * killed (what is left of it) and removed, then the pod's own. */
static int remove_cgroups(const podpaths *pp, pv_err *err) {
  if (pp->cgroup == NULL || pp->pod_dir == NULL)
    return 0;
  char parent[PATH_MAX], state[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", pp->cgroup);
  char *slash = strrchr(parent, '/');
  if (slash == NULL)
    return pv_err_set(err, EINVAL, "cgroup %s: no parent", pp->cgroup);
  *slash = '\0';
  if (pv_path(state, sizeof state, "%s/containers", pp->pod_dir) < 0)
    return pv_err_sys(err, "%s", pp->pod_dir);
  container_manager_options mo = {.state_dir = state, .cgroup_parent = parent};
  container_manager *m = NULL;
  if (container_manager_init(&m, &mo, err) < 0)
    return -1;
  int rc = container_manager_adopt_leftovers(m, pp->cgroup, err) < 0 ? -1 : 0;
  /* A process still dying keeps its cgroup pending: waited for, 1 s at
   * most, before the pod's own cgroup can go. */
  for (int i = 0; rc == 0 && container_manager_pending(m) > 0 && i < 100; i++) {
    usleep(10000);
    (void)container_manager_collect(m, NULL);
  }
  cgroup_handle *cg = NULL;
  if (rc == 0 && resource_manager_open_cgroup(container_manager_resources(m), pp->cgroup, &cg, NULL) == 0 &&
      resource_manager_destroy_cgroup(cg, NULL) < 0)
    resource_manager_close_cgroup(cg);
  pv_err e2;
  /* Waits (1 s at most) for what adopt left pending, then frees m. */
  if (container_manager_close(m, CONTAINER_CLOSE_WAIT_MS, rc == 0 ? err : &e2) < 0)
    rc = -1;
  return rc;
}

/* The run directory's lock, exclusive, waited for 1 s at most: the dead
 * keeper's last processes may still hold it for a moment while they die.
 * -1 when it stays held (another keeper has the pod: its leftovers are its
 * own) or there is no lock file. */
static int take_lock(const podpaths *pp) {
  int fd;
  do
    fd = open(pp->lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -1;
  for (int i = 0; i < 100; i++) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
      return fd;
    if (errno != EWOULDBLOCK && errno != EINTR)
      break;
    usleep(10000);
  }
  close(fd);
  return -1;
}

int podctl_clean_dead(const podpaths *pp, int status, bool final, pv_err *err) {
  int lock = take_lock(pp);
  if (lock < 0)
    return 0;
  /* The leftovers first, the status last: a status that says ShimDied
   * tells that nothing of the dead keeper is left. */
  (void)unlink(pp->socket);
  (void)unlink(pp->pid_file);
  int rc = remove_cgroups(pp, err);
  if (pp->pod_dir != NULL) {
    char dir[PATH_MAX];
    if (final)
      (void)pv_rm_rf(pp->pod_dir, NULL);
    else if (pv_path(dir, sizeof dir, "%s/containers", pp->pod_dir) == 0)
      (void)pv_rm_rf(dir, NULL); /* the upper dirs; the pod's volumes stay for its next keeper */
  }
  pv_err e2;
  if (mark_status(pp, status, final, rc == 0 ? err : &e2) < 0)
    rc = -1;
  if (final)
    (void)pv_rm_rf(pp->run_dir, NULL);
  close(lock);
  return rc;
}
