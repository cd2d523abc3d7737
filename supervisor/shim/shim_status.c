/* shim_status.c - the shim's status document and per-run CRI logs: thin
 * adapters from the shim's structures to status and crilog. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/crilog.h"
#include "supervisor/shim/shim_internal.h"
#include "supervisor/shim/status.h"

/* --- logs ---------------------------------------------------------------------- */

struct shim_log {
  crilog *log;
};

shim_log *shim_log_open(shim *sh, const char *ctr, unsigned restart, pv_err *err) {
  char dir[PATH_MAX];
  if (pv_path(dir, sizeof dir, "%s/%s", sh->log_dir, ctr) < 0) {
    pv_err_sys(err, "container %s: log dir", ctr);
    return NULL;
  }
  if (pv_mkdir_p(dir, 0755, err) < 0)
    return NULL;
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
      if (ctr != NULL && cpv != NULL && ctr->restart_gap_ns > 0)
        json_object_set_new(cpv, "restartGapNs", json_integer(ctr->restart_gap_ns));
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
  char *s = json_dumps(root, JSON_INDENT(1));
  json_decref(root);
  return s;
}

/* Carries the restart counts and last terminations of a predecessor's
 * status.json forward (a shim restarted for the same pod uid).  A container
 * the predecessor had running died with it (pdeathsig): that counts as one
 * more restart.  Backoff deadlines are not carried: the containers are
 * started afresh. */
void shim_load_previous(shim *sh) {
  ctrstate_pod prev;
  memset(&prev, 0, sizeof prev);
  if (status_load(sh->status_path, &prev, NULL) < 0)
    return;
  ctrstate *lists[2] = {prev.init, prev.app};
  size_t ns[2] = {prev.n_init, prev.n_app};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < ns[k]; i++) {
      const ctrstate *o = &lists[k][i];
      shim_ctr *ctr = shim_find(sh, o->name);
      if (ctr == NULL)
        continue;
      bool was_running = o->state == CTRSTATE_RUNNING || o->state == CTRSTATE_STOPPING;
      ctr->st->restart_count = o->restart_count + (was_running ? 1 : 0);
      const ctrstate_term *last = ctrstate_last_state(o);
      if (o->state == CTRSTATE_TERMINATED)
        last = &o->term;
      if (last != NULL) {
        ctr->st->last = *last;
        ctr->st->has_last = true;
      }
    }
  ctrstate_pod_free(&prev);
}
