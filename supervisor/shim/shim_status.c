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

static json_t *timestr(int64_t ns) {
  char buf[40];
  if (ns <= 0 || crilog_format_time(ns, buf, sizeof buf) < 0)
    return json_null();
  return json_string(buf);
}

static json_t *term_json(const ctrstate_term *t) {
  json_t *o = json_pack("{s:i,s:s,s:o,s:o}", "exitCode", t->exit_code, "reason",
                        ctrstate_term_reason_name(t->reason), "startedAt", timestr(t->started_at),
                        "finishedAt", timestr(t->finished_at));
  if (t->signal > 0)
    json_object_set_new(o, "signal", json_integer(t->signal));
  if (t->message[0] != '\0')
    json_object_set_new(o, "message", json_string(t->message));
  return o;
}

static json_t *ctr_json(const shim_ctr *ctr) {
  const ctrstate *c = ctr->st;
  json_t *state;
  const char *wr = ctrstate_waiting_reason(c);
  if (c->state == CTRSTATE_RUNNING || c->state == CTRSTATE_STOPPING)
    state = json_pack("{s:{s:o}}", "running", "startedAt", timestr(c->started_at));
  else if (c->state == CTRSTATE_TERMINATED)
    state = json_pack("{s:o}", "terminated", term_json(&c->term));
  else {
    json_t *w = json_pack("{s:s}", "reason", wr != NULL ? wr : "ContainerCreating");
    if (c->message[0] != '\0')
      json_object_set_new(w, "message", json_string(c->message));
    state = json_pack("{s:o}", "waiting", w);
  }
  const ctrstate_term *last = ctrstate_last_state(c);
  json_t *pv = json_pack("{s:s,s:i,s:I,s:I,s:I}", "state", ctrstate_state_name(c->state), "pid",
                         c->pid, "startedAtNs", (json_int_t)c->started_at, "lastFinishedAtNs",
                         (json_int_t)(last != NULL ? last->finished_at : 0), "nextTryAtNs",
                         (json_int_t)c->next_try_at);
  if (c->next_try_at > 0)
    json_object_set_new(pv, "nextTryAt", timestr(c->next_try_at));
  json_t *o = json_pack("{s:s,s:o,s:o,s:i,s:b,s:b,s:s,s:s,s:s,s:o}", "name", c->name, "state", state,
                        "lastState", last != NULL ? json_pack("{s:o}", "terminated", term_json(last))
                                                  : json_object(),
                        "restartCount", (int)c->restart_count, "ready", c->ready, "started",
                        c->started, "image", c->image, "imageID", "", "containerID",
                        c->id[0] != '\0' ? c->id : "", "podvisor", pv);
  if (c->id[0] != '\0') {
    char id[CTRSTATE_ID_MAX + 16];
    snprintf(id, sizeof id, "podvisor://%s", c->id);
    json_object_set_new(o, "containerID", json_string(id));
  }
  json_object_set_new(pv, "specHash", json_string(c->spec_hash));
  return o;
}

char *shim_status_json(shim *sh) {
  const ctrstate_pod *p = &sh->status;
  json_t *conds = json_array();
  for (int i = 0; i < CTRSTATE_COND_COUNT; i++)
    json_array_append_new(conds, json_pack("{s:s,s:s,s:o}", "type", ctrstate_cond_name((ctrstate_cond_type)i),
                                           "status", p->cond[i].status ? "True" : "False",
                                           "lastTransitionTime", timestr(p->cond[i].last_transition)));
  json_t *init = json_array(), *app = json_array();
  for (size_t i = 0; i < sh->n_ctrs; i++)
    json_array_append_new(i < sh->n_init ? init : app, ctr_json(&sh->ctrs[i]));
  json_t *root = json_pack(
      "{s:{s:s,s:s,s:s},s:s,s:o,s:s,s:o,s:o,s:o,s:{s:i,s:s,s:b,s:s}}", "metadata", "name",
      sh->pod->name, "namespace", sh->pod->ns, "uid", sh->uid, "phase",
      ctrstate_phase_name(p->phase), "conditions", conds, "podIP", sh->pod->host_network ? "" : "127.0.0.1",
      "startTime", timestr(p->start_time), "initContainerStatuses", init, "containerStatuses", app,
      "podvisor", "shimPid", p->shim_pid, "specHash", p->spec_hash, "stopping", sh->stopping,
      "logDir", sh->log_dir);
  if (root == NULL)
    return NULL;
  char *s = json_dumps(root, JSON_INDENT(1));
  json_decref(root);
  return s;
}

/* Carries restart counts and the last termination of a predecessor's
 * status.json forward (a shim restarted for the same pod uid). */
void shim_load_previous(shim *sh) {
  json_error_t je;
  json_t *root = json_load_file(sh->status_path, 0, &je);
  if (root == NULL)
    return;
  const char *keys[2] = {"initContainerStatuses", "containerStatuses"};
  for (int k = 0; k < 2; k++) {
    json_t *arr = json_object_get(root, keys[k]), *e;
    size_t i;
    json_array_foreach(arr, i, e) {
      const char *name = json_string_value(json_object_get(e, "name"));
      shim_ctr *ctr = name != NULL ? shim_find(sh, name) : NULL;
      if (ctr == NULL)
        continue;
      json_int_t rc = json_integer_value(json_object_get(e, "restartCount"));
      /* The predecessor's current run ended with it: one more restart. */
      json_t *running = json_object_get(json_object_get(e, "state"), "running");
      ctr->st->restart_count = (uint32_t)rc + (running != NULL ? 1 : 0);
    }
  }
  json_decref(root);
}
