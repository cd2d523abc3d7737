/* Unit tests for supervisor/shim/status.c: Pod status JSON shape, round trip, atomic file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/core/util.h"
#include "supervisor/shim/status.h"
#include "tests/testutil.h"

#define SEC 1000000000LL
#define T0 (1700000000LL * SEC) /* 2023-11-14T22:13:20Z */

static void apply_ok(ctrstate *c, ctrstate_event e) {
  pv_err err;
  ck_assert_msg(ctrstate_apply(c, &e, &err) == 0, "%s", err.msg);
}

static void run(ctrstate *c, int64_t t, int pid) {
  apply_ok(c, (ctrstate_event){.kind = CTRSTATE_EV_CREATED, .time = t});
  apply_ok(c, (ctrstate_event){.kind = CTRSTATE_EV_STARTED, .time = t, .pid = pid});
}

static void die(ctrstate *c, int64_t t, int code, int sig, bool oom) {
  apply_ok(c, (ctrstate_event){.kind = CTRSTATE_EV_EXITED, .time = t, .exit = {code, sig, oom}});
}

/* init "setup" completed, sidecar "proxy" running, app "web" running and
 * ready, app "worker" in CrashLoopBackOff after an OOM kill that followed an
 * earlier Error exit. */
static void sample(ctrstate_pod *p) {
  ck_assert_int_eq(ctrstate_pod_init(p, BACKOFF_POLICY_ALWAYS, 2, 2, NULL), 0);
  p->shim_pid = 4242;
  snprintf(p->spec_hash, sizeof p->spec_hash, "sha256:%064d", 7);
  ctrstate *setup = &p->init[0], *proxy = &p->init[1], *web = &p->app[0], *worker = &p->app[1];
  ctrstate_init(setup, "setup", BACKOFF_KIND_INIT, false);
  ctrstate_init(proxy, "proxy", BACKOFF_KIND_SIDECAR, false);
  ctrstate_init(web, "web", BACKOFF_KIND_APP, true);
  ctrstate_init(worker, "worker", BACKOFF_KIND_APP, true);
  snprintf(web->image, sizeof web->image, "docker.io/library/nginx:1.25");
  snprintf(web->id, sizeof web->id, "pod1-web");
  snprintf(web->spec_hash, sizeof web->spec_hash, "sha256:abc");
  web->has_readiness_probe = true;
  ctrstate_pod_update(p, T0);
  run(setup, T0 + SEC, 100);
  die(setup, T0 + 2 * SEC, 0, 0, false);
  run(proxy, T0 + 3 * SEC, 101);
  run(web, T0 + 4 * SEC + 250, 102);
  apply_ok(web, (ctrstate_event){.kind = CTRSTATE_EV_READINESS, .time = T0 + 5 * SEC, .ok = true});
  run(worker, T0 + 4 * SEC, 103);
  die(worker, T0 + 6 * SEC, 2, 0, false);
  apply_ok(worker, (ctrstate_event){.kind = CTRSTATE_EV_RESTART, .time = T0 + 6 * SEC});
  run(worker, T0 + 7 * SEC, 104);
  die(worker, T0 + 8 * SEC, 0, 9, true);
  apply_ok(worker,
           (ctrstate_event){.kind = CTRSTATE_EV_BACKOFF, .time = T0 + 8 * SEC, .next_try_at = T0 + 18 * SEC});
  ctrstate_pod_update(p, T0 + 8 * SEC);
}

static const char *str_at(const json_t *j, const char *path) {
  /* A tiny path walker: "a.b.0.c" (numbers index arrays). */
  char buf[256], *save = NULL;
  snprintf(buf, sizeof buf, "%s", path);
  const json_t *cur = j;
  for (char *tok = strtok_r(buf, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save))
    cur = json_is_array(cur) ? json_array_get(cur, strtoul(tok, NULL, 10)) : json_object_get(cur, tok);
  ck_assert_msg(cur != NULL, "no %s", path);
  static char out[512];
  if (json_is_string(cur))
    return json_string_value(cur);
  char *d = json_dumps(cur, JSON_ENCODE_ANY | JSON_COMPACT);
  snprintf(out, sizeof out, "%s", d);
  free(d);
  return out;
}

static bool has(const json_t *o, const char *key) {
  return json_object_get(o, key) != NULL;
}

START_TEST(times_rfc3339) {
  char b[64];
  ck_assert_int_eq(status_format_time(T0, b, sizeof b), 20);
  ck_assert_str_eq(b, "2023-11-14T22:13:20Z");
  ck_assert_int_eq(status_format_time(T0 + 5, b, sizeof b), 30);
  ck_assert_str_eq(b, "2023-11-14T22:13:20.000000005Z");
  ck_assert_int_eq(status_format_time(T0, b, 20), -1);
  static const struct {
    const char *in;
    int64_t want;
  } ok[] = {
      {"2023-11-14T22:13:20Z", T0},
      {"2023-11-14T22:13:20.000000005Z", T0 + 5},
      {"2023-11-14T22:13:20.5Z", T0 + SEC / 2},
      {"2023-11-15T00:13:20+02:00", T0},
      {"2023-11-14T21:43:20.25-00:30", T0 + SEC / 4},
      {"1970-01-01T00:00:00Z", 0},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    int64_t ns = -1;
    ck_assert_msg(status_parse_time(ok[i].in, &ns) == 0, "%s", ok[i].in);
    ck_assert_int_eq(ns, ok[i].want);
  }
  static const char *badt[] = {"",
                               "2023-11-14",
                               "2023-11-14T22:13:20",
                               "2023-11-14T22:13:20.Z",
                               "2023-13-14T22:13:20Z",
                               "2023-11-14T22:13:20.1234567891Z",
                               "2023-11-14T22:13:20Zx",
                               "2023-11-14 22:13:20Z"};
  for (size_t i = 0; i < sizeof badt / sizeof badt[0]; i++) {
    int64_t ns;
    ck_assert_msg(status_parse_time(badt[i], &ns) == -1, "accepted '%s'", badt[i]);
  }
}
END_TEST

START_TEST(shape_like_a_kubernetes_pod_status) {
  ctrstate_pod p;
  sample(&p);
  json_t *j = status_to_json(&p);
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(str_at(j, "phase"), "Running");
  ck_assert_str_eq(str_at(j, "startTime"), "2023-11-14T22:13:20Z");
  ck_assert_uint_eq(json_array_size(json_object_get(j, "conditions")), 4);
  ck_assert_str_eq(str_at(j, "conditions.0.type"), "PodScheduled");
  ck_assert_str_eq(str_at(j, "conditions.0.status"), "True");
  ck_assert_str_eq(str_at(j, "conditions.0.lastTransitionTime"), "2023-11-14T22:13:20Z");
  ck_assert_str_eq(str_at(j, "conditions.1.type"), "Initialized");
  ck_assert_str_eq(str_at(j, "conditions.1.status"), "True");
  ck_assert_str_eq(str_at(j, "conditions.3.type"), "Ready");
  ck_assert_str_eq(str_at(j, "conditions.3.status"), "False"); /* worker is down */
  ck_assert_str_eq(
      str_at(j, "podvisor"),
      "{\"shimPid\":4242,\"specHash\":\"sha256:"
      "0000000000000000000000000000000000000000000000000000000000000007\",\"restartPolicy\":\"Always\"}");

  /* init container: terminated, no signal or message key. */
  ck_assert_str_eq(str_at(j, "initContainerStatuses.0.name"), "setup");
  ck_assert_str_eq(
      str_at(j, "initContainerStatuses.0.state"),
      "{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\",\"startedAt\":\"2023-11-14T22:13:21Z\","
      "\"finishedAt\":\"2023-11-14T22:13:22Z\"}}");
  ck_assert_str_eq(str_at(j, "initContainerStatuses.0.lastState"), "{}");
  ck_assert_str_eq(str_at(j, "initContainerStatuses.1.podvisor.kind"), "sidecar");

  /* app container web: exact key set and running state with nanos. */
  const json_t *web = json_array_get(json_object_get(j, "containerStatuses"), 0);
  static const char *keys[] = {"name",    "state", "lastState",   "ready",   "restartCount",
                               "started", "image", "containerID", "podvisor"};
  ck_assert_uint_eq(json_object_size(web), sizeof keys / sizeof keys[0]);
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    ck_assert_msg(has(web, keys[i]), "web lacks %s", keys[i]);
  ck_assert_str_eq(str_at(web, "state"), "{\"running\":{\"startedAt\":\"2023-11-14T22:13:24.000000250Z\"}}");
  ck_assert_str_eq(str_at(web, "containerID"), "podvisor://pod1-web");
  ck_assert_str_eq(str_at(web, "image"), "docker.io/library/nginx:1.25");
  ck_assert_str_eq(str_at(web, "ready"), "true");
  ck_assert_str_eq(str_at(web, "started"), "true");
  ck_assert_str_eq(str_at(web, "restartCount"), "0");
  ck_assert_str_eq(str_at(web, "podvisor.pid"), "102");
  ck_assert_str_eq(str_at(web, "podvisor.fsm"), "Running");
  ck_assert_str_eq(str_at(web, "podvisor.specHash"), "sha256:abc");
  ck_assert(!has(json_object_get(web, "podvisor"), "nextRestartAt"));

  /* worker: waiting in CrashLoopBackOff, lastState the OOM kill. */
  const json_t *wk = json_array_get(json_object_get(j, "containerStatuses"), 1);
  ck_assert(!has(wk, "containerID"));
  ck_assert_str_eq(str_at(wk, "state"), "{\"waiting\":{\"reason\":\"CrashLoopBackOff\",\"message\":"
                                        "\"back-off 10s restarting failed container=worker\"}}");
  ck_assert_str_eq(str_at(wk, "lastState"),
                   "{\"terminated\":{\"exitCode\":137,\"signal\":9,\"reason\":\"OOMKilled\",\"startedAt\":"
                   "\"2023-11-14T22:13:27Z\",\"finishedAt\":\"2023-11-14T22:13:28Z\"}}");
  ck_assert_str_eq(str_at(wk, "restartCount"), "1");
  ck_assert_str_eq(str_at(wk, "podvisor.nextRestartAt"), "2023-11-14T22:13:38Z");
  ck_assert_str_eq(str_at(wk, "podvisor.oomKilled"), "true");
  ck_assert_str_eq(str_at(wk, "podvisor.pid"), "0");
  ck_assert_str_eq(str_at(wk, "podvisor.previousState.terminated.reason"), "Error");
  ck_assert_str_eq(str_at(wk, "podvisor.previousState.terminated.exitCode"), "2");
  json_decref(j);
  ctrstate_pod_free(&p);
}
END_TEST

START_TEST(json_round_trip) {
  ctrstate_pod p, q;
  sample(&p);
  json_t *j = status_to_json(&p);
  pv_err err;
  ck_assert_msg(status_from_json(j, &q, &err) == 0, "%s", err.msg);
  json_t *k = status_to_json(&q);
  ck_assert_msg(json_equal(j, k), "round trip differs");
  ck_assert_int_eq(q.policy, BACKOFF_POLICY_ALWAYS);
  ck_assert_int_eq(q.shim_pid, 4242);
  ck_assert_uint_eq(q.n_init, 2);
  ck_assert_uint_eq(q.n_app, 2);
  ck_assert_int_eq(q.phase, p.phase);
  for (int i = 0; i < CTRSTATE_COND_COUNT; i++) {
    ck_assert_int_eq(q.cond[i].status, p.cond[i].status);
    ck_assert_int_eq(q.cond[i].last_transition, p.cond[i].last_transition);
  }
  for (size_t i = 0; i < 2; i++) {
    const ctrstate *a = &p.app[i], *b = &q.app[i];
    ck_assert_str_eq(a->name, b->name);
    ck_assert_str_eq(a->id, b->id);
    ck_assert_int_eq(a->state, b->state);
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_int_eq(a->pid, b->pid);
    ck_assert_int_eq(a->started_at, b->started_at);
    ck_assert_int_eq(a->next_try_at, b->next_try_at);
    ck_assert_uint_eq(a->restart_count, b->restart_count);
    ck_assert_int_eq(a->has_last, b->has_last);
    ck_assert_int_eq(a->ready, b->ready);
    ck_assert_int_eq(a->has_readiness_probe, b->has_readiness_probe);
    ck_assert_str_eq(a->message, b->message);
    ck_assert(memcmp(&a->term, &b->term, sizeof a->term) == 0);
    if (a->has_last)
      ck_assert(memcmp(&a->last, &b->last, sizeof a->last) == 0);
  }
  /* The loaded machine goes on: the backoff expires into a restart. */
  apply_ok(&q.app[1], (ctrstate_event){.kind = CTRSTATE_EV_BACKOFF_EXPIRED, .time = T0 + 18 * SEC});
  ck_assert_uint_eq(q.app[1].restart_count, 2);
  ck_assert_int_eq(q.app[1].last.reason, CTRSTATE_TERM_OOMKILLED);
  json_decref(j);
  json_decref(k);
  ctrstate_pod_free(&p);
  ctrstate_pod_free(&q);
}
END_TEST

START_TEST(atomic_file_and_load_errors) {
  char *dir = testutil_tmpdir("pv-status");
  char path[512];
  snprintf(path, sizeof path, "%s/status.json", dir);
  ctrstate_pod p, q;
  sample(&p);
  pv_err err;
  ck_assert_msg(status_write(path, &p, &err) == 0, "%s", err.msg);
  p.app[0].restart_count = 5; /* a second write replaces the first */
  ck_assert_msg(status_write(path, &p, &err) == 0, "%s", err.msg);
  DIR *d = opendir(dir);
  struct dirent *de;
  int files = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    ck_assert_str_eq(de->d_name, "status.json"); /* no temp file left */
    files++;
  }
  closedir(d);
  ck_assert_int_eq(files, 1);
  char *data;
  size_t len;
  ck_assert_int_eq(pv_read_file(path, &data, &len, NULL), 0);
  ck_assert(len > 2 && data[0] == '{' && data[len - 1] == '\n');
  free(data);
  ck_assert_msg(status_load(path, &q, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(q.app[0].restart_count, 5);
  ck_assert_int_eq(q.app[1].next_try_at, T0 + 18 * SEC);
  ctrstate_pod_free(&q);

  /* Errors name the file and the field. */
  ck_assert_int_eq(pv_write_file_atomic(path, "{\"phase\": ", 10, 0644, NULL), 0);
  ck_assert_int_eq(status_load(path, &q, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "status.json:1:"));
  json_t *j = status_to_json(&p);
  json_object_set_new(json_object_get(json_array_get(json_object_get(j, "containerStatuses"), 1), "podvisor"),
                      "fsm", json_string("Sleeping"));
  ck_assert_int_eq(status_from_json(j, &q, &err), -1);
  ck_assert_str_eq(err.msg, "status: containerStatuses[1].podvisor.fsm: unknown state");
  ck_assert_ptr_null(q.app);
  json_decref(j);
  j = status_to_json(&p);
  json_object_del(json_object_get(j, "podvisor"), "restartPolicy");
  ck_assert_int_eq(status_from_json(j, &q, &err), -1);
  ck_assert_str_eq(err.msg, "status: restartPolicy: missing");
  json_decref(j);
  snprintf(path, sizeof path, "%s/nothing.json", dir);
  ck_assert_int_eq(status_load(path, &q, &err), -1);
  ck_assert_int_eq(err.code, ENOENT);
  ctrstate_pod_free(&p);
  testutil_rmtree(dir);
  free(dir);
}
END_TEST

/* ---- a sample that sets every field ---- */

static void identity(ctrstate *c, const char *image) {
  snprintf(c->image, sizeof c->image, "%s", image);
  snprintf(c->id, sizeof c->id, "pod2-%s", c->name);
  snprintf(c->spec_hash, sizeof c->spec_hash, "sha256:%s-hash", c->name);
}

static void event(ctrstate *c, ctrstate_event_kind kind, int64_t t, const char *message) {
  apply_ok(c, (ctrstate_event){.kind = kind, .time = t, .message = message});
}

/* A probe's kill: SIGTERM sent, SIGKILL due 5 s later. */
static void probe_kill(ctrstate *c, int64_t t, const char *message) {
  apply_ok(c, (ctrstate_event){.kind = CTRSTATE_EV_KILL,
                               .time = t,
                               .cause = CTRSTATE_BY_PROBE,
                               .deadline = t + 5 * SEC,
                               .message = message});
}

/* restartPolicy OnFailure, stopping; between them the containers set every
 * field of ctrstate, both terminations (state and lastState) with messages:
 *   setup   init, Completed after a StartError (lastState, with message)
 *   proxy   sidecar with startup and readiness probes, Running, started and
 *           ready, lastState an Error from a startup-probe kill (message)
 *   web     app with probes, Stopping after a liveness failure (the kill's
 *           message waits for the exit), lastState OOMKilled
 *   worker  app in CrashLoopBackOff: lastState a StartError, previousState
 *           an Error from a postStart kill, both with messages
 *   batch   app still Running while the pod stops (stopRequested). */
static void full_sample(ctrstate_pod *p) {
  ck_assert_int_eq(ctrstate_pod_init(p, BACKOFF_POLICY_ON_FAILURE, 2, 3, NULL), 0);
  p->shim_pid = 777;
  snprintf(p->spec_hash, sizeof p->spec_hash, "sha256:%064d", 42);
  ctrstate *setup = &p->init[0], *proxy = &p->init[1];
  ctrstate *web = &p->app[0], *worker = &p->app[1], *batch = &p->app[2];
  ctrstate_init(setup, "setup", BACKOFF_KIND_INIT, false);
  ctrstate_init(proxy, "proxy", BACKOFF_KIND_SIDECAR, false);
  ctrstate_init(web, "web", BACKOFF_KIND_APP, true);
  ctrstate_init(worker, "worker", BACKOFF_KIND_APP, true);
  ctrstate_init(batch, "batch", BACKOFF_KIND_APP, true);
  identity(setup, "localhost/setup:1");
  identity(proxy, "docker.io/library/envoy:1.30");
  identity(web, "docker.io/library/nginx:1.25");
  identity(worker, "localhost/worker:2");
  identity(batch, "localhost/batch:3");
  proxy->has_startup_probe = proxy->has_readiness_probe = true;
  web->has_startup_probe = web->has_readiness_probe = true;
  ctrstate_pod_update(p, T0);

  event(setup, CTRSTATE_EV_CREATED, T0 + SEC, NULL);
  event(setup, CTRSTATE_EV_START_FAILED, T0 + SEC, "exec /bin/setup: no such file or directory");
  event(setup, CTRSTATE_EV_RESTART, T0 + 2 * SEC, NULL);
  run(setup, T0 + 3 * SEC, 100);
  die(setup, T0 + 4 * SEC, 0, 0, false);
  ctrstate_pod_update(p, T0 + 4 * SEC);

  run(proxy, T0 + 5 * SEC, 101);
  probe_kill(proxy, T0 + 6 * SEC, "startup probe failed: connection refused");
  die(proxy, T0 + 7 * SEC, 0, 9, false);
  event(proxy, CTRSTATE_EV_RESTART, T0 + 7 * SEC, NULL);
  run(proxy, T0 + 8 * SEC + 5, 102);
  event(proxy, CTRSTATE_EV_STARTUP_SUCCEEDED, T0 + 9 * SEC, NULL);
  apply_ok(proxy, (ctrstate_event){.kind = CTRSTATE_EV_READINESS, .time = T0 + 9 * SEC, .ok = true});

  run(web, T0 + 10 * SEC, 103);
  die(web, T0 + 11 * SEC, 0, 9, true);
  event(web, CTRSTATE_EV_RESTART, T0 + 11 * SEC, NULL);
  run(web, T0 + 12 * SEC + 250, 104);
  event(web, CTRSTATE_EV_STARTUP_SUCCEEDED, T0 + 13 * SEC, NULL);
  apply_ok(web, (ctrstate_event){.kind = CTRSTATE_EV_READINESS, .time = T0 + 13 * SEC, .ok = true});
  ctrstate_pod_update(p, T0 + 13 * SEC);
  probe_kill(web, T0 + 14 * SEC, NULL);

  run(worker, T0 + 10 * SEC, 105);
  probe_kill(worker, T0 + 11 * SEC, "postStart hook failed: exit code 3");
  die(worker, T0 + 12 * SEC, 0, 15, false);
  event(worker, CTRSTATE_EV_RESTART, T0 + 12 * SEC, NULL);
  event(worker, CTRSTATE_EV_CREATED, T0 + 13 * SEC, NULL);
  event(worker, CTRSTATE_EV_START_FAILED, T0 + 13 * SEC, "mount /data: permission denied");
  apply_ok(worker, (ctrstate_event){.kind = CTRSTATE_EV_BACKOFF,
                                    .time = T0 + 13 * SEC,
                                    .next_try_at = T0 + 33 * SEC + SEC / 2});

  run(batch, T0 + 10 * SEC, 106);
  die(batch, T0 + 12 * SEC, 0, 0, false);
  event(batch, CTRSTATE_EV_RESTART, T0 + 12 * SEC, NULL);
  run(batch, T0 + 13 * SEC, 107);
  event(batch, CTRSTATE_EV_STOP_REQUESTED, T0 + 15 * SEC, NULL);
  ctrstate_pod_update(p, T0 + 15 * SEC);
}

/* Every field of ctrstate is set (non-zero) in at least one container of
 * the sample, and both terminations carry a message somewhere. */
static void assert_sample_sets_every_field(const ctrstate_pod *p) {
  bool name = false, image = false, id = false, hash = false, kind = false, startup = false,
       readiness = false;
  bool state = false, pid = false, started_at = false, next_try = false, message = false, term = false;
  bool term_msg = false, has_last = false, last = false, last_msg = false, restarts = false, ready = false;
  bool started = false, stop = false, liveness = false;
  for (size_t i = 0; i < p->n_init + p->n_app; i++) {
    const ctrstate *c = i < p->n_init ? &p->init[i] : &p->app[i - p->n_init];
    name |= c->name[0] != '\0';
    image |= c->image[0] != '\0';
    id |= c->id[0] != '\0';
    hash |= c->spec_hash[0] != '\0';
    kind |= c->kind != 0;
    startup |= c->has_startup_probe;
    readiness |= c->has_readiness_probe;
    state |= c->state != 0;
    pid |= c->pid != 0;
    started_at |= c->started_at != 0;
    next_try |= c->next_try_at != 0;
    message |= c->message[0] != '\0';
    term |= c->term.reason != 0 && c->term.finished_at != 0;
    term_msg |= c->term.message[0] != '\0';
    has_last |= c->has_last;
    last |= c->has_last && c->last.reason != 0;
    last_msg |= c->has_last && c->last.message[0] != '\0';
    restarts |= c->restart_count != 0;
    ready |= c->ready;
    started |= c->started;
    stop |= c->stop_requested;
    liveness |= c->liveness_kill;
  }
  ck_assert(name && image && id && hash && kind && startup && readiness && state && pid && started_at);
  ck_assert(next_try && message && term && term_msg && has_last && last && last_msg && restarts);
  ck_assert(ready && started && stop && liveness);
  ck_assert(p->policy != 0 && p->phase != 0 && p->start_time != 0 && p->shim_pid != 0 && p->spec_hash[0]);
  bool cond_true = false, cond_false = false;
  for (int i = 0; i < CTRSTATE_COND_COUNT; i++) {
    ck_assert(p->cond[i].last_transition != 0);
    cond_true |= p->cond[i].status;
    cond_false |= !p->cond[i].status;
  }
  ck_assert(cond_true && cond_false);
}

static void assert_term_eq(const char *what, const char *which, const ctrstate_term *a,
                           const ctrstate_term *b) {
  ck_assert_msg(a->reason == b->reason, "%s %s.reason: %d != %d", what, which, a->reason, b->reason);
  ck_assert_msg(a->exit_code == b->exit_code, "%s %s.exit_code", what, which);
  ck_assert_msg(a->signal == b->signal, "%s %s.signal", what, which);
  ck_assert_msg(a->started_at == b->started_at, "%s %s.started_at", what, which);
  ck_assert_msg(a->finished_at == b->finished_at, "%s %s.finished_at", what, which);
  ck_assert_msg(strcmp(a->message, b->message) == 0, "%s %s.message: '%s' != '%s'", what, which, a->message,
                b->message);
}

#define CTR_FIELD_EQ(a, b, f) ck_assert_msg((a)->f == (b)->f, "container %s: " #f " differs", (a)->name)
#define CTR_STR_EQ(a, b, f)                                                                                  \
  ck_assert_msg(strcmp((a)->f, (b)->f) == 0, "container %s: " #f " '%s' != '%s'", (a)->name, (a)->f, (b)->f)

static void assert_ctr_eq(const ctrstate *a, const ctrstate *b) {
  CTR_STR_EQ(a, b, name);
  CTR_STR_EQ(a, b, image);
  CTR_STR_EQ(a, b, id);
  CTR_STR_EQ(a, b, spec_hash);
  CTR_FIELD_EQ(a, b, kind);
  CTR_FIELD_EQ(a, b, has_startup_probe);
  CTR_FIELD_EQ(a, b, has_readiness_probe);
  CTR_FIELD_EQ(a, b, state);
  CTR_FIELD_EQ(a, b, pid);
  CTR_FIELD_EQ(a, b, started_at);
  CTR_FIELD_EQ(a, b, next_try_at);
  CTR_STR_EQ(a, b, message);
  assert_term_eq(a->name, "term", &a->term, &b->term);
  CTR_FIELD_EQ(a, b, has_last);
  if (a->has_last)
    assert_term_eq(a->name, "last", &a->last, &b->last);
  CTR_FIELD_EQ(a, b, restart_count);
  CTR_FIELD_EQ(a, b, ready);
  CTR_FIELD_EQ(a, b, started);
  CTR_FIELD_EQ(a, b, stop_requested);
  CTR_FIELD_EQ(a, b, liveness_kill);
}

/* from_json(to_json(x)) == x, field by field, for a pod that sets them all:
 * a key the writer and the reader spell differently loses that field. */
START_TEST(json_round_trip_keeps_every_field) {
  ctrstate_pod p, q;
  full_sample(&p);
  assert_sample_sets_every_field(&p);
  json_t *j = status_to_json(&p);
  ck_assert_ptr_nonnull(j);
  pv_err err;
  ck_assert_msg(status_from_json(j, &q, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(q.policy, p.policy);
  ck_assert_int_eq(q.phase, p.phase);
  for (int i = 0; i < CTRSTATE_COND_COUNT; i++) {
    ck_assert_int_eq(q.cond[i].status, p.cond[i].status);
    ck_assert_int_eq(q.cond[i].last_transition, p.cond[i].last_transition);
  }
  ck_assert_int_eq(q.start_time, p.start_time);
  ck_assert_int_eq(q.shim_pid, p.shim_pid);
  ck_assert_str_eq(q.spec_hash, p.spec_hash);
  ck_assert_uint_eq(q.n_init, p.n_init);
  ck_assert_uint_eq(q.n_app, p.n_app);
  for (size_t i = 0; i < p.n_init; i++)
    assert_ctr_eq(&p.init[i], &q.init[i]);
  for (size_t i = 0; i < p.n_app; i++)
    assert_ctr_eq(&p.app[i], &q.app[i]);
  json_t *k = status_to_json(&q);
  ck_assert_msg(json_equal(j, k), "the second rendering differs");
  json_decref(j);
  json_decref(k);
  ctrstate_pod_free(&p);
  ctrstate_pod_free(&q);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("status");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, times_rfc3339);
  tcase_add_test(tc, shape_like_a_kubernetes_pod_status);
  tcase_add_test(tc, json_round_trip);
  tcase_add_test(tc, atomic_file_and_load_errors);
  tcase_add_test(tc, json_round_trip_keeps_every_field);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
