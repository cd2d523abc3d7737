#include "supervisor/shim/status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/core/util.h"

#define ID_PREFIX "podvisor://"

static const char *const kind_names[] = {"app", "init", "sidecar"};

/* ---- times ---- */

int status_format_time(int64_t ns, char *buf, size_t len) {
  /* Kubernetes writes whole seconds without a fraction. */
  return pv_format_rfc3339(ns, false, buf, len);
}

static int two_digits(const char *s) {
  if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
    return -1;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

int status_parse_time(const char *s, int64_t *ns) {
  struct tm tm = {0};
  errno = EINVAL;
  if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return -1;
  int year = 0;
  for (int i = 0; i < 4; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    year = year * 10 + (s[i] - '0');
  }
  int mon = two_digits(s + 5), day = two_digits(s + 8), h = two_digits(s + 11), mi = two_digits(s + 14),
      sec = two_digits(s + 17);
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
      sec > 60)
    return -1;
  const char *p = s + 19;
  int64_t frac = 0;
  if (*p == '.') {
    int digits = 0;
    for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
      if (digits >= 9)
        return -1;
      frac = frac * 10 + (*p - '0');
    }
    if (digits == 0)
      return -1;
    for (; digits < 9; digits++)
      frac *= 10;
  }
  int64_t offset = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if ((*p == '+' || *p == '-') && p[3] == ':') {
    int oh = two_digits(p + 1), om = two_digits(p + 4);
    if (oh < 0 || om < 0)
      return -1;
    offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return -1;
  }
  if (*p != '\0')
    return -1;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  *ns = ((int64_t)t - offset) * 1000000000 + frac;
  return 0;
}

/* ---- rendering ---- */

static void set_time(json_t *o, const char *key, int64_t ns) {
  char buf[64];
  if (ns != 0 && status_format_time(ns, buf, sizeof buf) > 0)
    json_object_set_new(o, key, json_string(buf));
}

static json_t *term_json(const ctrstate_term *t) {
  json_t *o = json_object();
  json_object_set_new(o, "exitCode", json_integer(t->exit_code));
  if (t->signal)
    json_object_set_new(o, "signal", json_integer(t->signal));
  json_object_set_new(o, "reason", json_string(ctrstate_term_reason_name(t->reason)));
  if (t->message[0])
    json_object_set_new(o, "message", json_string(t->message));
  set_time(o, "startedAt", t->started_at);
  set_time(o, "finishedAt", t->finished_at);
  return o;
}

static json_t *state_json(const ctrstate *c) {
  json_t *st = json_object(), *inner = NULL;
  const char *reason = ctrstate_waiting_reason(c);
  if (reason != NULL) {
    inner = json_object();
    json_object_set_new(inner, "reason", json_string(reason));
    if (c->message[0])
      json_object_set_new(inner, "message", json_string(c->message));
    json_object_set_new(st, "waiting", inner);
  } else if (ctrstate_is_live(c->state)) { /* CREATED waits: a reason above */
    inner = json_object();
    set_time(inner, "startedAt", c->started_at);
    json_object_set_new(st, "running", inner);
  } else {
    json_object_set_new(st, "terminated", term_json(&c->term));
  }
  return st;
}

static json_t *podvisor_json(const ctrstate *c) {
  json_t *o = json_object();
  json_object_set_new(o, "fsm", json_string(ctrstate_state_name(c->state)));
  json_object_set_new(o, "kind", json_string(kind_names[c->kind]));
  json_object_set_new(o, "pid", json_integer(c->pid));
  set_time(o, "nextRestartAt", c->next_try_at);
  if (c->spec_hash[0])
    json_object_set_new(o, "specHash", json_string(c->spec_hash));
  const ctrstate_term *last = ctrstate_last_state(c);
  bool oom = (c->state == CTRSTATE_TERMINATED && c->term.reason == CTRSTATE_TERM_OOMKILLED) ||
             (last != NULL && last->reason == CTRSTATE_TERM_OOMKILLED);
  json_object_set_new(o, "oomKilled", json_boolean(oom));
  json_object_set_new(o, "stopRequested", json_boolean(c->stop_requested));
  json_object_set_new(o, "livenessKill", json_boolean(c->liveness_kill));
  /* Why the shim is killing it: the running state has no message, and the
   * exit copies this into terminated.message. */
  if (c->liveness_kill && c->message[0])
    json_object_set_new(o, "killMessage", json_string(c->message));
  json_object_set_new(o, "hasStartupProbe", json_boolean(c->has_startup_probe));
  json_object_set_new(o, "hasReadinessProbe", json_boolean(c->has_readiness_probe));
  if ((c->state == CTRSTATE_BACKOFF || c->state == CTRSTATE_START_LIMIT) && c->has_last) {
    json_t *prev = json_object();
    json_object_set_new(prev, "terminated", term_json(&c->last));
    json_object_set_new(o, "previousState", prev);
  }
  return o;
}

static json_t *ctr_json(const ctrstate *c) {
  json_t *o = json_object();
  json_object_set_new(o, "name", json_string(c->name));
  json_object_set_new(o, "state", state_json(c));
  json_t *last = json_object();
  const ctrstate_term *lt = ctrstate_last_state(c);
  if (lt != NULL)
    json_object_set_new(last, "terminated", term_json(lt));
  json_object_set_new(o, "lastState", last);
  json_object_set_new(o, "ready", json_boolean(c->ready));
  json_object_set_new(o, "restartCount", json_integer(c->restart_count));
  json_object_set_new(o, "started", json_boolean(c->started));
  json_object_set_new(o, "image", json_string(c->image));
  if (c->id[0]) {
    char id[sizeof ID_PREFIX + CTRSTATE_ID_MAX];
    snprintf(id, sizeof id, ID_PREFIX "%s", c->id);
    json_object_set_new(o, "containerID", json_string(id));
  }
  json_object_set_new(o, "podvisor", podvisor_json(c));
  return o;
}

json_t *status_to_json(const ctrstate_pod *p) {
  json_t *o = json_object();
  if (o == NULL)
    return NULL;
  json_object_set_new(o, "phase", json_string(ctrstate_phase_name(p->phase)));
  json_t *conds = json_array();
  for (int i = 0; i < CTRSTATE_COND_COUNT; i++) {
    json_t *c = json_object();
    json_object_set_new(c, "type", json_string(ctrstate_cond_name((ctrstate_cond_type)i)));
    json_object_set_new(c, "status", json_string(p->cond[i].status ? "True" : "False"));
    set_time(c, "lastTransitionTime", p->cond[i].last_transition);
    json_array_append_new(conds, c);
  }
  json_object_set_new(o, "conditions", conds);
  set_time(o, "startTime", p->start_time);
  json_t *init = json_array(), *app = json_array();
  for (size_t i = 0; i < p->n_init; i++)
    json_array_append_new(init, ctr_json(&p->init[i]));
  for (size_t i = 0; i < p->n_app; i++)
    json_array_append_new(app, ctr_json(&p->app[i]));
  json_object_set_new(o, "initContainerStatuses", init);
  json_object_set_new(o, "containerStatuses", app);
  json_t *pv = json_object();
  json_object_set_new(pv, "shimPid", json_integer(p->shim_pid));
  if (p->spec_hash[0])
    json_object_set_new(pv, "specHash", json_string(p->spec_hash));
  json_object_set_new(pv, "restartPolicy", json_string(backoff_policy_name(p->policy)));
  json_object_set_new(o, "podvisor", pv);
  /* jansson's setters fail only on out of memory; a dump of the result
   * would then miss fields, so check the shape once here. */
  if (json_object_size(o) != (p->start_time ? 6u : 5u) || json_array_size(app) != p->n_app ||
      json_array_size(init) != p->n_init) {
    json_decref(o);
    errno = ENOMEM;
    return NULL;
  }
  return o;
}

/* ---- parsing ---- */

typedef struct ctx {
  pv_err *err;
  char where[96]; /* "containerStatuses[1]" */
} ctx;

static int bad(ctx *x, const char *field, const char *why) {
  return pv_err_set(x->err, EINVAL, "status: %s%s%s: %s", x->where, x->where[0] ? "." : "", field, why);
}

static int get_str(ctx *x, const json_t *o, const char *key, bool required, char *dst, size_t size) {
  const json_t *v = json_object_get(o, key);
  if (v == NULL) {
    if (required)
      return bad(x, key, "missing");
    dst[0] = '\0';
    return 0;
  }
  if (!json_is_string(v))
    return bad(x, key, "not a string");
  if (json_string_length(v) >= size)
    return bad(x, key, "too long");
  memcpy(dst, json_string_value(v), json_string_length(v) + 1);
  return 0;
}

static int get_int(ctx *x, const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out) {
  const json_t *v = json_object_get(o, key);
  *out = 0;
  if (v == NULL)
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return bad(x, key, "not an integer in range");
  *out = json_integer_value(v);
  return 0;
}

static int get_bool(ctx *x, const json_t *o, const char *key, bool *out) {
  const json_t *v = json_object_get(o, key);
  *out = false;
  if (v == NULL)
    return 0;
  if (!json_is_boolean(v))
    return bad(x, key, "not a boolean");
  *out = json_is_true(v);
  return 0;
}

static int get_time(ctx *x, const json_t *o, const char *key, int64_t *out) {
  const json_t *v = json_object_get(o, key);
  *out = 0;
  if (v == NULL)
    return 0;
  if (!json_is_string(v) || status_parse_time(json_string_value(v), out) < 0)
    return bad(x, key, "not an RFC 3339 time");
  return 0;
}

static int term_from(ctx *x, const json_t *o, ctrstate_term *t) {
  memset(t, 0, sizeof *t);
  char reason[32];
  int64_t code, sig;
  if (!json_is_object(o))
    return bad(x, "terminated", "not an object");
  if (get_str(x, o, "reason", true, reason, sizeof reason) < 0 ||
      get_int(x, o, "exitCode", -2147483648LL, 2147483647LL, &code) < 0 ||
      get_int(x, o, "signal", 0, 128, &sig) < 0 ||
      get_str(x, o, "message", false, t->message, sizeof t->message) < 0 ||
      get_time(x, o, "startedAt", &t->started_at) < 0 || get_time(x, o, "finishedAt", &t->finished_at) < 0)
    return -1;
  if (ctrstate_term_reason_parse(reason, &t->reason) < 0)
    return bad(x, "terminated.reason", "unknown reason");
  t->exit_code = (int)code;
  t->signal = (int)sig;
  return 0;
}

/* {"terminated": {...}} -> t; false when the object holds no termination. */
static int opt_term(ctx *x, const json_t *o, ctrstate_term *t, bool *present) {
  *present = false;
  const json_t *term = o ? json_object_get(o, "terminated") : NULL;
  if (term == NULL)
    return 0;
  *present = true;
  return term_from(x, term, t);
}

static int podvisor_from(ctx *x, const json_t *pv, ctrstate *c) {
  char fsm[32], kind[16];
  int64_t pid;
  bool oom;
  if (!json_is_object(pv))
    return bad(x, "podvisor", "missing");
  if (get_str(x, pv, "fsm", true, fsm, sizeof fsm) < 0 ||
      get_str(x, pv, "kind", true, kind, sizeof kind) < 0 ||
      get_int(x, pv, "pid", 0, 2147483647LL, &pid) < 0 ||
      get_time(x, pv, "nextRestartAt", &c->next_try_at) < 0 ||
      get_str(x, pv, "specHash", false, c->spec_hash, sizeof c->spec_hash) < 0 ||
      get_bool(x, pv, "oomKilled", &oom) < 0 || get_bool(x, pv, "stopRequested", &c->stop_requested) < 0 ||
      get_bool(x, pv, "livenessKill", &c->liveness_kill) < 0 ||
      get_bool(x, pv, "hasStartupProbe", &c->has_startup_probe) < 0 ||
      get_bool(x, pv, "hasReadinessProbe", &c->has_readiness_probe) < 0)
    return -1;
  if (c->liveness_kill && get_str(x, pv, "killMessage", false, c->message, sizeof c->message) < 0)
    return -1;
  if (ctrstate_state_parse(fsm, &c->state) < 0)
    return bad(x, "podvisor.fsm", "unknown state");
  int k = -1;
  for (int i = 0; i < 3; i++)
    if (strcmp(kind, kind_names[i]) == 0)
      k = i;
  if (k < 0)
    return bad(x, "podvisor.kind", "unknown kind");
  c->kind = (backoff_kind)k;
  c->pid = (int)pid;
  return 0;
}

static int ctr_from(ctx *x, const json_t *o, ctrstate *c) {
  char id[sizeof ID_PREFIX + CTRSTATE_ID_MAX];
  int64_t restarts;
  if (!json_is_object(o))
    return bad(x, "", "not an object");
  memset(c, 0, sizeof *c);
  if (get_str(x, o, "name", true, c->name, sizeof c->name) < 0 ||
      get_str(x, o, "image", false, c->image, sizeof c->image) < 0 ||
      get_str(x, o, "containerID", false, id, sizeof id) < 0 ||
      get_int(x, o, "restartCount", 0, UINT32_MAX, &restarts) < 0 || get_bool(x, o, "ready", &c->ready) < 0 ||
      get_bool(x, o, "started", &c->started) < 0 || podvisor_from(x, json_object_get(o, "podvisor"), c) < 0)
    return -1;
  if (id[0] != '\0' && strncmp(id, ID_PREFIX, strlen(ID_PREFIX)) != 0)
    return bad(x, "containerID", "not a podvisor:// id");
  snprintf(c->id, sizeof c->id, "%.*s", (int)sizeof c->id - 1, id[0] ? id + strlen(ID_PREFIX) : "");
  c->restart_count = (uint32_t)restarts;

  const json_t *st = json_object_get(o, "state");
  if (!json_is_object(st))
    return bad(x, "state", "missing");
  const json_t *w = json_object_get(st, "waiting"), *r = json_object_get(st, "running");
  if (w != NULL && get_str(x, w, "message", false, c->message, sizeof c->message) < 0)
    return -1;
  if (r != NULL && get_time(x, r, "startedAt", &c->started_at) < 0)
    return -1;
  bool has_term, has_lastst, has_prev;
  ctrstate_term lastst, prev;
  if (opt_term(x, st, &c->term, &has_term) < 0 ||
      opt_term(x, json_object_get(o, "lastState"), &lastst, &has_lastst) < 0 ||
      opt_term(x, json_object_get(json_object_get(o, "podvisor"), "previousState"), &prev, &has_prev) < 0)
    return -1;
  bool waiting_after_exit = c->state == CTRSTATE_BACKOFF || c->state == CTRSTATE_START_LIMIT;
  if (waiting_after_exit) {
    /* lastState shows the latest exit; the one before sits in previousState. */
    if (!has_lastst)
      return bad(x, "lastState", "missing for a container waiting after an exit");
    c->term = lastst;
    c->has_last = has_prev;
    if (has_prev)
      c->last = prev;
  } else {
    if ((c->state == CTRSTATE_TERMINATED) != has_term)
      return bad(x, "state", "does not match podvisor.fsm");
    c->has_last = has_lastst;
    if (has_lastst)
      c->last = lastst;
  }
  return 0;
}

static int ctr_array(ctx *x, const json_t *j, const char *key, size_t *n, const json_t **arr) {
  *arr = json_object_get(j, key);
  if (*arr == NULL) {
    *n = 0;
    return 0;
  }
  if (!json_is_array(*arr))
    return bad(x, key, "not an array");
  *n = json_array_size(*arr);
  return 0;
}

static int pod_fields(ctx *x, const json_t *j, ctrstate_pod *p) {
  char phase[32];
  if (get_str(x, j, "phase", true, phase, sizeof phase) < 0 ||
      get_time(x, j, "startTime", &p->start_time) < 0)
    return -1;
  if (ctrstate_phase_parse(phase, &p->phase) < 0)
    return bad(x, "phase", "unknown phase");
  const json_t *conds = json_object_get(j, "conditions"), *c;
  size_t i;
  json_array_foreach(conds, i, c) {
    char type[32], st[8];
    ctrstate_cond_type t;
    int64_t when;
    if (get_str(x, c, "type", true, type, sizeof type) < 0 ||
        get_str(x, c, "status", true, st, sizeof st) < 0 || get_time(x, c, "lastTransitionTime", &when) < 0)
      return -1;
    if (ctrstate_cond_parse(type, &t) < 0)
      continue; /* a condition this version does not know */
    p->cond[t].status = strcmp(st, "True") == 0;
    p->cond[t].last_transition = when;
  }
  const json_t *pv = json_object_get(j, "podvisor");
  int64_t shim_pid;
  if (get_int(x, pv, "shimPid", 0, 2147483647LL, &shim_pid) < 0 ||
      get_str(x, pv, "specHash", false, p->spec_hash, sizeof p->spec_hash) < 0)
    return -1;
  p->shim_pid = (int)shim_pid;
  return 0;
}

int status_from_json(const json_t *j, ctrstate_pod *p, pv_err *err) {
  ctx x = {.err = err};
  memset(p, 0, sizeof *p);
  if (!json_is_object(j))
    return bad(&x, "status", "not an object");
  const json_t *pv = json_object_get(j, "podvisor"), *ia = NULL, *aa = NULL;
  char policy[16];
  backoff_policy pol;
  size_t ni = 0, na = 0;
  if (!json_is_object(pv))
    return bad(&x, "podvisor", "missing");
  if (get_str(&x, pv, "restartPolicy", true, policy, sizeof policy) < 0)
    return -1;
  if (backoff_policy_parse(policy, &pol) < 0)
    return bad(&x, "podvisor.restartPolicy", "unknown policy");
  if (ctr_array(&x, j, "initContainerStatuses", &ni, &ia) < 0 ||
      ctr_array(&x, j, "containerStatuses", &na, &aa) < 0 || ctrstate_pod_init(p, pol, ni, na, err) < 0)
    return -1;
  if (pod_fields(&x, j, p) < 0)
    goto fail;
  for (size_t i = 0; i < ni; i++) {
    snprintf(x.where, sizeof x.where, "initContainerStatuses[%zu]", i);
    if (ctr_from(&x, json_array_get(ia, i), &p->init[i]) < 0)
      goto fail;
  }
  for (size_t i = 0; i < na; i++) {
    snprintf(x.where, sizeof x.where, "containerStatuses[%zu]", i);
    if (ctr_from(&x, json_array_get(aa, i), &p->app[i]) < 0)
      goto fail;
  }
  return 0;
fail:
  ctrstate_pod_free(p);
  memset(p, 0, sizeof *p);
  return -1;
}

int status_write(const char *path, const ctrstate_pod *p, pv_err *err) {
  json_t *j = status_to_json(p);
  if (j == NULL)
    return pv_err_set(err, ENOMEM, "status %s: out of memory", path);
  char *s = json_dumps(j, JSON_INDENT(2));
  json_decref(j);
  if (s == NULL)
    return pv_err_set(err, ENOMEM, "status %s: out of memory", path);
  size_t len = strlen(s);
  s[len] = '\n'; /* replaces the NUL: the file ends with a newline */
  int rc = pv_write_file_atomic(path, s, len + 1, 0644, err);
  free(s);
  return rc;
}

int status_load(const char *path, ctrstate_pod *p, pv_err *err) {
  char *data = NULL;
  size_t len = 0;
  memset(p, 0, sizeof *p);
  if (pv_read_file(path, &data, &len, err) < 0)
    return -1;
  json_error_t jerr;
  json_t *j = json_loadb(data, len, 0, &jerr);
  free(data);
  if (j == NULL)
    return pv_err_set(err, EINVAL, "status %s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
  int rc = status_from_json(j, p, err);
  json_decref(j);
  if (rc < 0)
    return pv_err_wrap(err, "%s", path);
  return 0;
}
